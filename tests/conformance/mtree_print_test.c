/* SPDX-License-Identifier: MIT */
/*
 * mtree_print_test.c: mt_mtree_print() on small hand-built trees, for the
 * corners of QEMU 7.2's `info mtree` formats the golden corpus does not
 * reach (overflow marker, alias chains, unnamed regions, argument errors).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "memtree.h"

#define OK(expr) assert_int_equal((expr), 0)

static mt_region *container(mt_ctx *ctx, const char *name, uint64_t size)
{
    mt_region *r = NULL;

    OK(mt_region_new_container(ctx, name, size, &r));
    return r;
}

static mt_region *io(mt_ctx *ctx, const char *name, uint64_t size)
{
    mt_region *r = NULL;

    OK(mt_region_new_io(ctx, name, size, NULL, NULL, &r));
    return r;
}

static mt_region *ram(mt_ctx *ctx, const char *name, uint64_t size)
{
    mt_region *r = NULL;

    OK(mt_region_new_ram(ctx, name, size, &r));
    return r;
}

static mt_region *alias(mt_ctx *ctx, const char *name, mt_region *target,
                        uint64_t offset, uint64_t size)
{
    mt_region *r = NULL;

    OK(mt_region_new_alias(ctx, name, target, offset, size, &r));
    return r;
}

/* Map @sub in @parent and drop the caller's reference. */
static void map(mt_region *parent, uint64_t addr, mt_region *sub, int prio)
{
    OK(mt_region_add_subregion_overlap(parent, addr, sub, prio));
    mt_region_unref(sub);
}

static void new_as(mt_ctx *ctx, mt_region *root, const char *name)
{
    mt_as *as = NULL;

    OK(mt_as_new(ctx, root, name, &as));
}

/* Print @ctx with @flags and compare with @want byte for byte. */
static void expect_print(mt_ctx *ctx, unsigned flags, const char *want)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    assert_non_null(f);
    OK(mt_mtree_print(ctx, f, flags));
    fclose(f);
    if (strcmp(out, want)) {
        print_error("--- expected:\n%s--- got:\n%s", want, out);
        free(out);
        fail();
    }
    free(out);
}

/*
 * Disabled regions: hidden without -D, children one level deeper, and a
 * hidden alias still queues its target, keyed by object (two targets
 * share a name), in first-seen order, growing while blocks print.
 */
static void test_disabled_and_queue(void **state)
{
    mt_ctx *ctx = NULL;
    mt_region *root, *dev, *t1, *t2, *chain;

    (void)state;
    OK(mt_ctx_new(&ctx, NULL));
    root = container(ctx, "root", 0x10000);
    dev = container(ctx, "dev", 0x100);
    map(dev, 0x10, io(ctx, "reg", 4), 0);
    t1 = ram(ctx, "t", 0x1000);
    t2 = ram(ctx, "t", 0x2000);
    chain = alias(ctx, "mid", t2, 0x1000, 0x1000);
    map(dev, 0x20, alias(ctx, "hidden", t1, 0, 0x100), 0);
    OK(mt_region_set_enabled(mt_region_subregion(dev, 0), false));
    map(root, 0x1000, dev, 0);
    OK(mt_region_set_enabled(dev, false));
    map(root, 0x2000, alias(ctx, "outer", chain, 0, 0x10), 0);
    mt_region_unref(chain);
    mt_region_unref(t1);
    mt_region_unref(t2);
    new_as(ctx, root, "as");
    expect_print(ctx, 0,
        "address-space: as\n"
        "  0000000000000000-000000000000ffff (prio 0, i/o): root\n"
        "      0000000000001010-0000000000001013 (prio 0, i/o): reg\n"
        "    0000000000002000-000000000000200f (prio 0, ram): alias outer @mid 0000000000000000-000000000000000f\n"
        "\n"
        "memory-region: t\n"
        "  0000000000000000-0000000000000fff (prio 0, ram): t\n"
        "\n"
        "memory-region: mid\n"
        "  0000000000000000-0000000000000fff (prio 0, ram): alias mid @t 0000000000001000-0000000000001fff\n"
        "\n"
        "memory-region: t\n"
        "  0000000000000000-0000000000001fff (prio 0, ram): t\n"
        "\n");
    expect_print(ctx, MT_MTREE_DISABLED,
        "address-space: as\n"
        "  0000000000000000-000000000000ffff (prio 0, i/o): root\n"
        "    0000000000001000-00000000000010ff (prio 0, i/o): dev [disabled]\n"
        "      0000000000001010-0000000000001013 (prio 0, i/o): reg\n"
        "      0000000000001020-000000000000111f (prio 0, ram): alias hidden @t 0000000000000000-00000000000000ff [disabled]\n"
        "    0000000000002000-000000000000200f (prio 0, ram): alias outer @mid 0000000000000000-000000000000000f\n"
        "\n"
        "memory-region: t\n"
        "  0000000000000000-0000000000000fff (prio 0, ram): t\n"
        "\n"
        "memory-region: mid\n"
        "  0000000000000000-0000000000000fff (prio 0, ram): alias mid @t 0000000000001000-0000000000001fff\n"
        "\n"
        "memory-region: t\n"
        "  0000000000000000-0000000000001fff (prio 0, ram): t\n"
        "\n");
    mt_ctx_free(ctx);
}

/*
 * Address spaces on one root print together, names sorted, duplicates
 * repeated; children sort by address then priority, list order on ties;
 * unnamed regions print "(null)"; nv- and type words.
 */
static void test_grouping_order_types(void **state)
{
    mt_ctx *ctx = NULL;
    mt_region *sys, *other, *r;

    (void)state;
    OK(mt_ctx_new(&ctx, NULL));
    sys = container(ctx, "sys", MT_SIZE_FULL);
    other = io(ctx, NULL, 0);
    map(sys, 0x100, io(ctx, "late", 0x10), 0);
    map(sys, 0x0, io(ctx, "first", 0x10), 0);
    map(sys, 0x0, io(ctx, "second", 0x10), 0); /* added later: prints first */
    map(sys, 0x0, io(ctx, "high", 0x10), 5);
    r = ram(ctx, "nv", 0x1000);
    OK(mt_region_set_nonvolatile(r, true));
    map(sys, 0x1000, r, 0);
    r = ram(ctx, "ro", 0x1000);
    OK(mt_region_set_readonly(r, true));
    map(sys, 0x2000, r, 0);
    OK(mt_region_new_rom_device(ctx, "flash", 0x1000, NULL, NULL, &r));
    OK(mt_region_set_romd(r, false));
    map(sys, 0x3000, r, 0);
    new_as(ctx, sys, "b");
    new_as(ctx, other, "z");
    new_as(ctx, sys, "a");
    new_as(ctx, sys, "b");
    expect_print(ctx, 0,
        "address-space: a\n"
        "address-space: b\n"
        "address-space: b\n"
        "  0000000000000000-ffffffffffffffff (prio 0, i/o): sys\n"
        "    0000000000000000-000000000000000f (prio 5, i/o): high\n"
        "    0000000000000000-000000000000000f (prio 0, i/o): second\n"
        "    0000000000000000-000000000000000f (prio 0, i/o): first\n"
        "    0000000000000100-000000000000010f (prio 0, i/o): late\n"
        "    0000000000001000-0000000000001fff (prio 0, nv-ram): nv\n"
        "    0000000000002000-0000000000002fff (prio 0, rom): ro\n"
        "    0000000000003000-0000000000003fff (prio 0, i/o): flash\n"
        "\n"
        "address-space: z\n"
        "  0000000000000000-0000000000000000 (prio 0, i/o): (null)\n"
        "\n");
    mt_region_unref(other);
    mt_ctx_free(ctx);
}

/* Alias windows of size 0 and 2^64, and the overflow marker. */
static void test_alias_ends_and_overflow(void **state)
{
    mt_ctx *ctx = NULL;
    mt_region *root, *big;

    (void)state;
    OK(mt_ctx_new(&ctx, NULL));
    root = container(ctx, "root", MT_SIZE_FULL);
    big = container(ctx, "big", MT_SIZE_FULL);
    map(root, 0, alias(ctx, "all", big, 0, MT_SIZE_FULL), 0);
    map(root, 0x10, alias(ctx, "none", big, 0x20, 0), 0);
    map(root, 0xfffffffffffff000ull, io(ctx, "wraps", 0x2000), 0);
    mt_region_unref(big);
    new_as(ctx, root, "as");
    expect_print(ctx, 0,
        "address-space: as\n"
        "  0000000000000000-ffffffffffffffff (prio 0, i/o): root\n"
        "    0000000000000000-ffffffffffffffff (prio 0, i/o): alias all @big 0000000000000000-ffffffffffffffff\n"
        "    0000000000000010-0000000000000010 (prio 0, i/o): alias none @big 0000000000000020-0000000000000020\n"
        "[DETECTED OVERFLOW!]     fffffffffffff000-0000000000000fff (prio 0, i/o): wraps\n"
        "\n"
        "memory-region: big\n"
        "  0000000000000000-ffffffffffffffff (prio 0, i/o): big\n"
        "\n");
    mt_ctx_free(ctx);
}

/*
 * Flat views: shared views list every address space (creation order),
 * offsets print only when non-zero, read-only ranges print rom, an alias
 * root adds ", alias TARGET", an empty view prints "No rendered FlatView".
 */
static void test_flat(void **state)
{
    mt_ctx *ctx = NULL;
    mt_region *sys, *r, *ro, *off;

    (void)state;
    OK(mt_ctx_new(&ctx, NULL));
    sys = container(ctx, "sys", 0x100000);
    r = ram(ctx, "ram", 0x10000);
    map(sys, 0, alias(ctx, "low", r, 0, 0x4000), 0);
    ro = alias(ctx, "ro", r, 0x4000, 0x4000);
    OK(mt_region_set_readonly(ro, true));
    map(sys, 0x4000, ro, 0);
    map(sys, 0x20000, alias(ctx, "high", r, 0x8000, 0x1000), 0);
    off = container(ctx, "off", 0x1000);
    OK(mt_region_set_enabled(off, false));
    new_as(ctx, sys, "memory");
    new_as(ctx, off, "dma");
    new_as(ctx, sys, "cpu");
    new_as(ctx, alias(ctx, "win", sys, 0, 0x100000), "via-alias");
    expect_print(ctx, MT_MTREE_FLAT,
        "FlatView #0\n"
        " AS \"memory\", root: sys\n"
        " AS \"cpu\", root: sys\n"
        " AS \"via-alias\", root: win, alias sys\n"
        " Root memory region: sys\n"
        "  0000000000000000-0000000000003fff (prio 0, ram): ram\n"
        "  0000000000004000-0000000000007fff (prio 0, rom): ram @0000000000004000\n"
        "  0000000000020000-0000000000020fff (prio 0, ram): ram @0000000000008000\n"
        "\n"
        "FlatView #1\n"
        " AS \"dma\", root: off\n"
        " Root memory region: (none)\n"
        "  No rendered FlatView\n"
        "\n");
    mt_region_unref(r);
    mt_region_unref(off);
    mt_ctx_free(ctx);
}

static void test_errors(void **state)
{
    mt_ctx *ctx = NULL;
    FILE *ro = fopen("/dev/null", "r");

    (void)state;
    OK(mt_ctx_new(&ctx, NULL));
    assert_int_equal(mt_mtree_print(NULL, stdout, 0), MT_EINVAL);
    assert_int_equal(mt_mtree_print(ctx, NULL, 0), MT_EINVAL);
    assert_int_equal(mt_mtree_print(ctx, stdout, 0x100), MT_EINVAL);
    new_as(ctx, container(ctx, "root", 0x1000), "as");
    assert_non_null(ro);
    assert_int_equal(mt_mtree_print(ctx, ro, 0), MT_EIO);
    assert_int_equal(mt_mtree_print(ctx, ro, MT_MTREE_FLAT), MT_EIO);
    fclose(ro);
    mt_ctx_free(ctx);
}

/* An empty context prints nothing at all. */
static void test_empty(void **state)
{
    mt_ctx *ctx = NULL;

    (void)state;
    OK(mt_ctx_new(&ctx, NULL));
    expect_print(ctx, 0, "");
    expect_print(ctx, MT_MTREE_FLAT, "");
    mt_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_disabled_and_queue),
        cmocka_unit_test(test_grouping_order_types),
        cmocka_unit_test(test_alias_ends_and_overflow),
        cmocka_unit_test(test_flat),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_empty),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
