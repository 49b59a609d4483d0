/* SPDX-License-Identifier: MIT */
/*
 * headertest.c: <memtree.h> compiles alone, first in its translation unit,
 * as strict ISO C11 (-pedantic -Werror), and twice (include guards). The
 * checks below use only what the header defines, so this program is never
 * linked against the library: it tests the header's own constants.
 */
#include <memtree.h>
#include <memtree.h>

/* Every MT_E* code from the X-macro table, in table order. */
static const int codes[] = {
#define HT_CODE(sym, val, msg) sym,
    MT_ERRNO_MAP(HT_CODE)
#undef HT_CODE
};

/* The table's own values, to check the enum was generated from it. */
static const int values[] = {
#define HT_VALUE(sym, val, msg) (val),
    MT_ERRNO_MAP(HT_VALUE)
#undef HT_VALUE
};

_Static_assert(MT_OK == 0, "MT_OK is 0");
_Static_assert(MT_SIZE_FULL == UINT64_MAX, "MT_SIZE_FULL means 2^64");
_Static_assert(MT_VERSION_HEX == ((MT_VERSION_MAJOR << 16) |
                                  (MT_VERSION_MINOR << 8) | MT_VERSION_PATCH),
               "version components");
_Static_assert(sizeof(codes) / sizeof(codes[0]) == (size_t)-MT__ERRNO_LAST - 1,
               "MT__ERRNO_LAST is one below the last code");

/* Returns the number of failed checks (0: pass). */
int main(void)
{
    int failed = 0;
    size_t n = sizeof(codes) / sizeof(codes[0]);
    mt_attrs attrs = MT_ATTRS_UNSPECIFIED;
    mt_flat_range range = { .start = 0, .last = MT_SIZE_FULL };
    mt_load_error err = { .in_facts = true, .line = 1, .msg = "x" };

    /* Codes are the table's values: negative, dense from -1, unique. */
    for (size_t i = 0; i < n; i++) {
        failed += codes[i] != values[i];
        failed += codes[i] != -(int)(i + 1);
    }
    failed += !(attrs.unspecified && !attrs.secure && !attrs.user &&
                !attrs.memory && attrs.requester_id == 0);
    failed += range.region != NULL || range.last != UINT64_MAX;
    failed += sizeof(err.msg) != 200 || err.msg[1] != '\0';
    failed += (MT_MTREE_DISABLED & MT_MTREE_FLAT) != 0;
    failed += (MT_TX_ERROR | MT_TX_DECODE_ERROR | MT_TX_ACCESS_ERROR) != 7u ||
              MT_TX_OK != 0u;
    failed += MT_ENDIAN_LITTLE == MT_ENDIAN_BIG;
    return failed;
}
