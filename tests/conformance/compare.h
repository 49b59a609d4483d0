/* SPDX-License-Identifier: MIT */
/*
 * compare.h: compare two QEMU `info mtree` style outputs the way
 * tests/data/compare.py does: as multisets of blank-line-separated blocks,
 * with the number of `FlatView #N` ignored and the ` AS "..."` lines of a
 * FlatView block compared as a set. Everything else must match byte for
 * byte.
 */
#ifndef MTC_COMPARE_H
#define MTC_COMPARE_H

#include <stddef.h>
#include <stdio.h>

/* Strip trailing " KVM" markers (any number) from FlatView range lines. */
#define MTC_STRIP_KVM 0x1u

/**
 * mtc_compare - compare @expected with @actual.
 * @flags:  MTC_* options, applied to both texts.
 * @report: when the texts differ and @report is not NULL, a short
 *          description goes there: counts of missing and unexpected
 *          blocks, the first missing block and its first differing line.
 * Returns 0 when equal, 1 when different, -1 when out of memory.
 */
int mtc_compare(const char *expected, size_t expected_len, const char *actual,
                size_t actual_len, unsigned flags, FILE *report);

#endif /* MTC_COMPARE_H */
