/* SPDX-License-Identifier: MIT */
/* version.c: the library's version at run time. */
#include "memtree.h"

#define MT__STR2(x) #x
#define MT__STR(x) MT__STR2(x)

unsigned mt_version(void)
{
    return MT_VERSION_HEX;
}

const char *mt_version_string(void)
{
    return MT__STR(MT_VERSION_MAJOR) "." MT__STR(MT_VERSION_MINOR) "." MT__STR(
        MT_VERSION_PATCH);
}
