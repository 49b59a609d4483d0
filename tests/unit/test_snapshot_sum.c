/* SPDX-License-Identifier: MIT */
/*
 * test_snapshot_sum.c: the 64-bit checksum of snapshot files
 * (src/snapshot_sum.c): fixed values (the file format depends on them),
 * streaming in any pieces equals one call, and any change confined to one
 * byte, or to one aligned 8-byte word, changes the sum.
 */
#include "mt_testutil.h"
#include "snapshot_int.h"

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void test_known_values(void **state)
{
    static const char text[] = "memtree snapshot checksum, version 1";
    uint8_t b[100];

    (void)state;
    for (int i = 0; i < 100; i++)
        b[i] = (uint8_t)(i * 7 + 1);
    assert_int_equal(mt__sum64(0, "", 0), 0xd57a928d9e74319cull);
    assert_int_equal(mt__sum64(0, text, sizeof(text) - 1),
                     0x40f1a2ef02f241e5ull);
    assert_int_equal(mt__sum64(MT__SNAP_SEED_SECTION, b, sizeof(b)),
                     0x05022efa6e920193ull);
    /* Seeds and lengths matter. */
    assert_int_not_equal(mt__sum64(1, "", 0), mt__sum64(0, "", 0));
    assert_int_not_equal(mt__sum64(0, "\0", 1), mt__sum64(0, "", 0));
    assert_int_not_equal(mt__sum64(0, "\0\0", 2), mt__sum64(0, "\0", 1));
}

static void test_streaming(void **state)
{
    uint8_t buf[1000];
    uint64_t seed = 0x1234;

    (void)state;
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)rng(&seed);
    for (int round = 0; round < 500; round++) {
        size_t n = rng(&seed) % sizeof(buf), at = 0;
        mt__sum s;

        mt__sum_init(&s, 77);
        while (at < n) {
            size_t k = rng(&seed) % 70;

            if (k > n - at)
                k = n - at;
            mt__sum_add(&s, buf + at, k);
            at += k;
        }
        assert_int_equal(mt__sum_final(&s), mt__sum64(77, buf, n));
    }
}

static void test_changes_detected(void **state)
{
    uint8_t buf[300];
    uint64_t seed = 99, base;

    (void)state;
    for (size_t len = 1; len <= sizeof(buf); len += 37) {
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)rng(&seed);
        base = mt__sum64(5, buf, len);
        for (size_t i = 0; i < len; i++) {
            for (unsigned bit = 0; bit < 8; bit++) {
                buf[i] ^= (uint8_t)(1u << bit);
                assert_int_not_equal(mt__sum64(5, buf, len), base);
                buf[i] ^= (uint8_t)(1u << bit);
            }
        }
        /* Whole words replaced at random. */
        for (size_t w = 0; w + 8 <= len; w += 8) {
            uint8_t old[8];
            uint64_t v = rng(&seed);

            memcpy(old, buf + w, 8);
            memcpy(buf + w, &v, 8);
            if (memcmp(old, buf + w, 8))
                assert_int_not_equal(mt__sum64(5, buf, len), base);
            memcpy(buf + w, old, 8);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_streaming),
        cmocka_unit_test(test_changes_detected),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
