/* SPDX-License-Identifier: MIT */
/* errors.c: names and messages of the MT_E* codes. */
#include "memtree.h"

const char *mt_strerror(int err)
{
    switch (err) {
    case MT_OK:
        return "success";
#define MT__ERRNO_MSG(sym, val, msg) case sym: return msg;
        MT_ERRNO_MAP(MT__ERRNO_MSG)
#undef MT__ERRNO_MSG
    default:
        return "unknown error";
    }
}

const char *mt_err_name(int err)
{
    switch (err) {
    case MT_OK:
        return "MT_OK";
#define MT__ERRNO_NAME(sym, val, msg) case sym: return #sym;
        MT_ERRNO_MAP(MT__ERRNO_NAME)
#undef MT__ERRNO_NAME
    default:
        return "MT_EUNKNOWN";
    }
}
