/* SPDX-License-Identifier: MIT */
/*
 * test_mtree_print.c: `info mtree` printing (mt_mtree_print), checklist
 * items 56-66 of the QEMU reference §10, compared as exact strings.
 * Public API only.
 *
 * Item 61 (`info mtree -f -d`: dispatch sections labelled by index, #1
 * "[not dirty]", #2 "[ROM]", #3 "[watch]", whatever they contain) is out of
 * scope: memtree prints no dispatch dump (mt_mtree_print has no flag for
 * it), so there is nothing to test. If a dispatch dump is added, its test
 * belongs here and must label sections by index as QEMU 7.2 does.
 */
#include "mt_testutil.h"

/*
 * Item 56: addresses are %016llx (lower-case, no 0x), two spaces of indent
 * per level, the root at level 1; a size-0 region prints END == START; an
 * address space whose root is mapped elsewhere prints the root at its own
 * address.
 */
static void test_item56_address_format_and_indent(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *c1 = t_container(ctx, "c1", 0x1000);
    t_map(c1, 0x10, t_ram(ctx, "r", 0x10));
    t_map(sys, 0x1000, c1);
    t_map(sys, 0x3000, t_io(ctx, "z", 0));
    t_map(sys, 0xabcdef000, t_io(ctx, "hex", 0x100));
    (void)t_as(ctx, sys, "memory");
    (void)t_as(ctx, c1, "sub");
    CHECK_MTREE(ctx, 0,
                "address-space: memory\n"
                "  0000000000000000-ffffffffffffffff (prio 0, i/o): sys\n"
                "    0000000000001000-0000000000001fff (prio 0, i/o): c1\n"
                "      0000000000001010-000000000000101f (prio 0, ram): r\n"
                "    0000000000003000-0000000000003000 (prio 0, i/o): z\n"
                "    0000000abcdef000-0000000abcdef0ff (prio 0, i/o): hex\n"
                "\n"
                "address-space: sub\n"
                "  0000000000001000-0000000000001fff (prio 0, i/o): c1\n"
                "    0000000000001010-000000000000101f (prio 0, ram): r\n"
                "\n");
    mt_ctx_free(ctx);
}

/*
 * Item 57: an alias line shows `alias NAME @TARGET AOFF-AOFF+SIZE-1`, its
 * type is the final target's type through alias chains, its `nv-` is the
 * alias's own flag; targets are queued in first-seen order and printed as
 * `memory-region:` blocks, including targets found inside those blocks.
 */
static void test_item57_alias_line_and_target_type(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *t = t_rom(ctx, "t", 0x10000);
    mt_region *a2 = t_alias(ctx, "a2", t, 0x1000, 0x4000);
    mt_region *a1 = t_alias(ctx, "a1", a2, 0x100, 0x200);
    MT_OK(mt_region_set_nonvolatile(a1, true));
    t_map_prio(sys, 0x20000, a1, 2);
    mt_region *rd = t_romd(ctx, "rd", 0x1000);
    MT_OK(mt_region_set_romd(rd, false));
    t_map(sys, 0x30000, t_alias(ctx, "rda", rd, 0, 0x1000));
    static uint8_t devmem[0x100];
    mt_region *rdev = NULL;
    MT_OK(mt_region_new_ram_device(ctx, "rdev", sizeof(devmem), devmem,
                                   &rdev));
    t_map(sys, 0x40000, t_alias(ctx, "rdeva", rdev, 0, 0x100));
    t_map(sys, 0x50000, t_romd(ctx, "rd2", 0x1000));
    (void)t_as(ctx, sys, "memory");
    CHECK_MTREE(ctx, 0,
                "address-space: memory\n"
                "  0000000000000000-ffffffffffffffff (prio 0, i/o): sys\n"
                "    0000000000020000-00000000000201ff (prio 2, nv-rom): "
                "alias a1 @a2 0000000000000100-00000000000002ff\n"
                "    0000000000030000-0000000000030fff (prio 0, i/o): "
                "alias rda @rd 0000000000000000-0000000000000fff\n"
                "    0000000000040000-00000000000400ff (prio 0, ramd): "
                "alias rdeva @rdev 0000000000000000-00000000000000ff\n"
                "    0000000000050000-0000000000050fff (prio 0, romd): rd2\n"
                "\n"
                "memory-region: a2\n"
                "  0000000000000000-0000000000003fff (prio 0, rom): "
                "alias a2 @t 0000000000001000-0000000000004fff\n"
                "\n"
                "memory-region: rd\n"
                "  0000000000000000-0000000000000fff (prio 0, i/o): rd\n"
                "\n"
                "memory-region: rdev\n"
                "  0000000000000000-00000000000000ff (prio 0, ramd): rdev\n"
                "\n"
                "memory-region: t\n"
                "  0000000000000000-000000000000ffff (prio 0, rom): t\n"
                "\n");
    mt_ctx_free(ctx);
}

/*
 * Item 58: children print by ascending address, ties by descending
 * priority, remaining ties in subregion-list order (most recently added
 * first).
 */
static void test_item58_child_order(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    t_map(sys, 0x200, t_io(ctx, "X", 0x10));
    t_map(sys, 0x100, t_io(ctx, "Y", 0x10));
    t_map_prio(sys, 0x100, t_io(ctx, "Z", 0x10), 5);
    t_map(sys, 0x100, t_io(ctx, "W", 0x10));
    t_map_prio(sys, 0x80, t_io(ctx, "N", 0x10), -3);
    (void)t_as(ctx, sys, "memory");
    CHECK_MTREE(ctx, 0,
                "address-space: memory\n"
                "  0000000000000000-ffffffffffffffff (prio 0, i/o): sys\n"
                "    0000000000000080-000000000000008f (prio -3, i/o): N\n"
                "    0000000000000100-000000000000010f (prio 5, i/o): Z\n"
                "    0000000000000100-000000000000010f (prio 0, i/o): W\n"
                "    0000000000000100-000000000000010f (prio 0, i/o): Y\n"
                "    0000000000000200-000000000000020f (prio 0, i/o): X\n"
                "\n");
    mt_ctx_free(ctx);
}

/*
 * Item 59: `[DETECTED OVERFLOW!] ` comes before the indentation when the
 * end wraps past 2^64 or the start wraps below the parent's start; the
 * flat view is clipped at 2^64 and shows no marker.
 */
static void test_item59_detected_overflow_prefix(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *hi = t_io(ctx, "hi", 0x2000);
    t_map(sys, 0xfffffffffffff000ull, hi);
    mt_region *c = t_container(ctx, "c", 0x800);
    t_map(c, 0x1000, t_io(ctx, "k", 0x10));
    t_map(sys, 0xfffffffffffff800ull, c);
    mt_as *as = t_as(ctx, sys, "memory");
    CHECK_MTREE(ctx, 0,
                "address-space: memory\n"
                "  0000000000000000-ffffffffffffffff (prio 0, i/o): sys\n"
                "[DETECTED OVERFLOW!]     fffffffffffff000-0000000000000fff (prio 0, i/o): hi\n"
                "    fffffffffffff800-ffffffffffffffff (prio 0, i/o): c\n"
                "[DETECTED OVERFLOW!]       0000000000000800-000000000000080f (prio 0, i/o): k\n"
                "\n");
    CHECK_AS(as, { 0xfffffffffffff000ull, UINT64_MAX, hi, 0, 0 });
    CHECK_MTREE(ctx, MT_MTREE_FLAT,
                "FlatView #0\n"
                " AS \"memory\", root: sys\n"
                " Root memory region: sys\n"
                "  fffffffffffff000-ffffffffffffffff (prio 0, i/o): hi\n"
                "\n");
    mt_ctx_free(ctx);
}

/*
 * Item 60: in `-f`, a read-only flat range prints `rom` whatever the
 * leaf's type, ` @OFFSET` appears only when the offset in the region is
 * not 0, the priority is the leaf's own, `nv-` comes from the range, and
 * (no accelerator in memtree) no ` KVM` marker is ever printed.
 */
static void test_item60_flat_rom_offset_prio_nv(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *ram = t_ram(ctx, "ram", 0x10000);
    t_map(sys, 0, ram);
    mt_region *pam = t_alias(ctx, "pam", ram, 0xc000, 0x4000);
    MT_OK(mt_region_set_readonly(pam, true));
    t_map_prio(sys, 0xc000, pam, 1);
    mt_region *nvc = t_container(ctx, "nvc", 0x1000);
    MT_OK(mt_region_set_nonvolatile(nvc, true));
    t_map_prio(nvc, 0, t_io(ctx, "dev", 0x1000), 3);
    t_map(sys, 0x100000, nvc);
    mt_region *rd = t_romd(ctx, "rd", 0x1000);
    MT_OK(mt_region_set_romd(rd, false));
    t_map(sys, 0x200000, rd);
    t_map(sys, 0x201000, t_romd(ctx, "rd2", 0x1000));
    t_map(sys, 0x300000, t_rom(ctx, "bios", 0x1000));
    static uint8_t devmem[0x100];
    mt_region *rdev = NULL;
    MT_OK(mt_region_new_ram_device(ctx, "rdev", sizeof(devmem), devmem,
                                   &rdev));
    t_map(sys, 0x400000, rdev);
    (void)t_as(ctx, sys, "memory");
    CHECK_MTREE(ctx, MT_MTREE_FLAT,
                "FlatView #0\n"
                " AS \"memory\", root: sys\n"
                " Root memory region: sys\n"
                "  0000000000000000-000000000000bfff (prio 0, ram): ram\n"
                "  000000000000c000-000000000000ffff (prio 0, rom): ram @000000000000c000\n"
                "  0000000000100000-0000000000100fff (prio 3, nv-i/o): dev\n"
                "  0000000000200000-0000000000200fff (prio 0, i/o): rd\n"
                "  0000000000201000-0000000000201fff (prio 0, romd): rd2\n"
                "  0000000000300000-0000000000300fff (prio 0, rom): bios\n"
                "  0000000000400000-00000000004000ff (prio 0, ramd): rdev\n"
                "\n");
    mt_ctx_free(ctx);
}

/*
 * Item 62: `address-space:` lines of one root are sorted by name with
 * strcmp (duplicates repeated); ` AS` lines of one flat view come in
 * address-space creation order.
 */
static void test_item62_as_names_sorted_and_creation_order(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    t_map(sys, 0, t_ram(ctx, "ram", 0x1000));
    t_map(sys, 0x1000, t_io(ctx, "dev", 0x1000));
    (void)t_as(ctx, sys, "zeta");
    (void)t_as(ctx, sys, "alpha");
    (void)t_as(ctx, sys, "mid");
    (void)t_as(ctx, sys, "alpha");
    (void)t_as(ctx, sys, "Beta");
    CHECK_MTREE(ctx, 0,
                "address-space: Beta\n"
                "address-space: alpha\n"
                "address-space: alpha\n"
                "address-space: mid\n"
                "address-space: zeta\n"
                "  0000000000000000-ffffffffffffffff (prio 0, i/o): sys\n"
                "    0000000000000000-0000000000000fff (prio 0, ram): ram\n"
                "    0000000000001000-0000000000001fff (prio 0, i/o): dev\n"
                "\n");
    CHECK_MTREE(ctx, MT_MTREE_FLAT,
                "FlatView #0\n"
                " AS \"zeta\", root: sys\n"
                " AS \"alpha\", root: sys\n"
                " AS \"mid\", root: sys\n"
                " AS \"alpha\", root: sys\n"
                " AS \"Beta\", root: sys\n"
                " Root memory region: sys\n"
                "  0000000000000000-0000000000000fff (prio 0, ram): ram\n"
                "  0000000000001000-0000000000001fff (prio 0, i/o): dev\n"
                "\n");
    mt_ctx_free(ctx);
}

/*
 * Item 63: QEMU orders root blocks and FlatView blocks by pointer hash, so
 * its order is not reproducible. memtree decides: blocks come in
 * address-space creation order (a root's block where its first address
 * space was created), FlatViews numbered from 0 in that order, and the
 * `memory-region:` queue in the resulting print order. This test checks
 * memtree's deterministic choice, not QEMU's order.
 */
static void test_item63_block_order_is_creation_order(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *t1 = t_ram(ctx, "t1", 0x100);
    mt_region *t2 = t_ram(ctx, "t2", 0x100);
    mt_region *r1 = t_container(ctx, "r1", MT_SIZE_FULL);
    mt_region *r2 = t_container(ctx, "r2", MT_SIZE_FULL);
    t_map(r1, 0x1000, t_alias(ctx, "to-t2", t2, 0, 0x100));
    t_map(r1, 0x2000, t_io(ctx, "d1", 0x10));
    t_map(r2, 0x1000, t_alias(ctx, "to-t1", t1, 0, 0x100));
    t_map(r2, 0x3000, t_io(ctx, "d2", 0x10));
    (void)t_as(ctx, r2, "first");
    (void)t_as(ctx, r1, "second");
    (void)t_as(ctx, r2, "third");
    CHECK_MTREE(ctx, 0,
                "address-space: first\n"
                "address-space: third\n"
                "  0000000000000000-ffffffffffffffff (prio 0, i/o): r2\n"
                "    0000000000001000-00000000000010ff (prio 0, ram): "
                "alias to-t1 @t1 0000000000000000-00000000000000ff\n"
                "    0000000000003000-000000000000300f (prio 0, i/o): d2\n"
                "\n"
                "address-space: second\n"
                "  0000000000000000-ffffffffffffffff (prio 0, i/o): r1\n"
                "    0000000000001000-00000000000010ff (prio 0, ram): "
                "alias to-t2 @t2 0000000000000000-00000000000000ff\n"
                "    0000000000002000-000000000000200f (prio 0, i/o): d1\n"
                "\n"
                "memory-region: t1\n"
                "  0000000000000000-00000000000000ff (prio 0, ram): t1\n"
                "\n"
                "memory-region: t2\n"
                "  0000000000000000-00000000000000ff (prio 0, ram): t2\n"
                "\n");
    CHECK_MTREE(ctx, MT_MTREE_FLAT,
                "FlatView #0\n"
                " AS \"first\", root: r2\n"
                " AS \"third\", root: r2\n"
                " Root memory region: r2\n"
                "  0000000000001000-00000000000010ff (prio 0, ram): t1\n"
                "  0000000000003000-000000000000300f (prio 0, i/o): d2\n"
                "\n"
                "FlatView #1\n"
                " AS \"second\", root: r1\n"
                " Root memory region: r1\n"
                "  0000000000001000-00000000000010ff (prio 0, ram): t2\n"
                "  0000000000002000-000000000000200f (prio 0, i/o): d1\n"
                "\n");
    /* Printing twice gives the same text. */
    char *a = t_mtree(ctx, MT_MTREE_DISABLED);
    char *b = t_mtree(ctx, MT_MTREE_DISABLED);
    assert_string_equal(a, b);
    free(a);
    free(b);
    mt_ctx_free(ctx);
}

/*
 * Item 64: QEMU master prints `container` for non-RAM regions that have no
 * container; memtree follows 7.2, where pure containers, I/O regions,
 * unparented roots and unmapped alias targets all print `i/o`.
 */
static void test_item64_72_prints_io_for_containers(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *system = t_container(ctx, "system", MT_SIZE_FULL);
    mt_region *pci = t_container(ctx, "pci", MT_SIZE_FULL);
    t_map(pci, 0x1000, t_io(ctx, "dev", 0x100));
    t_map(system, 0x1000, t_alias(ctx, "pci-hole", pci, 0x1000, 0x1000));
    t_map(system, 0x8000, t_container(ctx, "sub", 0x100));
    (void)t_as(ctx, system, "memory");
    (void)t_as(ctx, t_io(ctx, "io", 0x10000), "I/O");
    CHECK_MTREE(ctx, 0,
                "address-space: memory\n"
                "  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n"
                "    0000000000001000-0000000000001fff (prio 0, i/o): "
                "alias pci-hole @pci 0000000000001000-0000000000001fff\n"
                "    0000000000008000-00000000000080ff (prio 0, i/o): sub\n"
                "\n"
                "address-space: I/O\n"
                "  0000000000000000-000000000000ffff (prio 0, i/o): io\n"
                "\n"
                "memory-region: pci\n"
                "  0000000000000000-ffffffffffffffff (prio 0, i/o): pci\n"
                "    0000000000001000-00000000000010ff (prio 0, i/o): dev\n"
                "\n");
    mt_ctx_free(ctx);
}

/*
 * Item 65: QEMU's address_space_destroy delivers region_del for every
 * range before unlinking (listeners: next test). Without listeners:
 * mt_as_free() unlinks the address space (no longer listed
 * or printed) and drops its root reference, so a root whose last
 * reference was the address space's is freed (counted with a counting
 * allocator; ASan/LSan would flag a leak or use after free), while a view
 * still held by the caller keeps its regions alive until released.
 */
static void test_item65_as_free_drops_root_reference(void **state)
{
    (void)state;
    t_alloc_state st = { .budget = -1 };
    mt_allocator al = t_allocator(&st);
    mt_ctx *ctx = NULL;
    MT_OK(mt_ctx_new(&ctx, &al));

    /* Two identical cycles; the first warms up lazily grown state. */
    long live0 = 0;
    for (int round = 0; round < 2; round++) {
        if (round == 1) {
            MT_OK(mt_ctx_synchronize(ctx));
            live0 = st.live;
        }
        mt_region *root = t_container(ctx, "root", MT_SIZE_FULL);
        mt_region *kid = t_io(ctx, "kid", 0x10);
        t_map(root, 0x10, kid);
        mt_region_unref(kid);
        mt_as *as = t_as(ctx, root, "space");
        mt_region_unref(root); /* the address space holds the last ref */
        assert_ptr_equal(mt_as_root(as), root);
        assert_string_equal(mt_region_name(root), "root");
        assert_int_equal(mt_ctx_nr_as(ctx), 1);
        mt_as_free(as);
        assert_int_equal(mt_ctx_nr_as(ctx), 0);
    }
    MT_OK(mt_ctx_synchronize(ctx)); /* retired views go a grace period later */
    assert_int_equal(st.live, live0);
    CHECK_MTREE(ctx, 0, "");

    /* A root the caller still references survives and can be reused. */
    mt_region *root = t_container(ctx, "root", MT_SIZE_FULL);
    t_map(root, 0, t_io(ctx, "a", 0x10));
    t_map(root, 0x100, t_io(ctx, "b", 0x10));
    mt_as *as = t_as(ctx, root, "space");
    mt_as_free(as);
    assert_string_equal(mt_region_name(root), "root");
    mt_as *as2 = t_as(ctx, root, "again");
    CHECK_AS(as2, { 0, 0xf, mt_region_subregion(root, 1), 0, 0 },
             { 0x100, 0x10f, mt_region_subregion(root, 0), 0, 0 });

    /* A held view keeps its regions alive past mt_as_free. */
    mt_flatview *fv = mt_as_flatview(as2);
    mt_as_free(as2);
    mt_region_unref(root);
    assert_int_equal(mt_flatview_nr_ranges(fv), 2);
    assert_string_equal(mt_region_name(mt_flatview_range(fv, 0)->region), "a");
    assert_string_equal(mt_region_name(mt_flatview_range(fv, 1)->region), "b");
    mt_flatview_unref(fv);

    mt_ctx_free(ctx);
    assert_int_equal(st.live, 0);
}

/*
 * Item 65 with listeners (memtree.h: destroying an address space does for
 * each of its listeners what mt_listener_unregister does: @begin, then
 * @region_del for every range, then @commit). Each listener hears the
 * removal of every range, in address order, with the ranges' regions still
 * alive; then the root, whose last reference was the address space's, is
 * freed.
 */
typedef struct destroy_log {
    char text[512];
} destroy_log;

static void dl_append(destroy_log *d, const char *s)
{
    strncat(d->text, s, sizeof(d->text) - strlen(d->text) - 1);
}
static void dl_begin(void *o) { dl_append(o, "begin;"); }
static void dl_commit(void *o) { dl_append(o, "commit;"); }
static void dl_del(void *o, const mt_flat_range *r)
{
    char buf[96];
    snprintf(buf, sizeof(buf), "del %s %llx-%llx;", mt_region_name(r->region),
             (unsigned long long)r->start, (unsigned long long)r->last);
    dl_append(o, buf);
}
static void dl_add(void *o, const mt_flat_range *r)
{
    (void)r;
    dl_append(o, "add;");
}

static void test_item65_as_free_delivers_region_del(void **state)
{
    (void)state;
    t_alloc_state st = { .budget = -1 };
    mt_allocator al = t_allocator(&st);
    mt_ctx *ctx = NULL;
    MT_OK(mt_ctx_new(&ctx, &al));
    mt_region *root = t_container(ctx, "root", MT_SIZE_FULL);
    mt_region *a = t_io(ctx, "a", 0x10);
    mt_region *b = t_io(ctx, "b", 0x10);
    t_map(root, 0, a);
    t_map(root, 0x100, b);
    mt_region_unref(a);
    mt_region_unref(b);
    mt_as *as = t_as(ctx, root, "space");
    mt_region_unref(root);

    destroy_log d1, d2;
    mt_listener_ops ops = { 0 };
    ops.begin = dl_begin;
    ops.commit = dl_commit;
    ops.region_del = dl_del;
    ops.region_add = dl_add;
    mt_listener *l1 = NULL, *l2 = NULL;
    MT_OK(mt_listener_register(as, &ops, &d1, &l1));
    ops.priority = 10;
    MT_OK(mt_listener_register(as, &ops, &d2, &l2));
    d1.text[0] = d2.text[0] = '\0';

    long before = st.live;
    mt_as_free(as);
    assert_string_equal(d1.text, "begin;del a 0-f;del b 100-10f;commit;");
    assert_string_equal(d2.text, "begin;del a 0-f;del b 100-10f;commit;");
    assert_int_equal(mt_ctx_nr_as(ctx), 0);
    assert_true(st.live < before); /* root, a, b, view, listeners freed */
    mt_ctx_free(ctx);
    assert_int_equal(st.live, 0);
}

/*
 * Item 66: names. QEMU prints the QOM child name for an unnamed region
 * (memtree, without QOM, prints "(null)", per memtree.h) and names an
 * unnamed address space "anonymous" (address_space_init). Names are
 * printed raw: spaces, brackets, slashes and " @" stay as they are.
 */
static void test_item66_names_null_and_raw(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *root = t_container(ctx, NULL, MT_SIZE_FULL);
    t_map(root, 0, t_io(ctx, NULL, 0x10));
    t_map(root, 0x100, t_io(ctx, "bus master container", 0x10));
    t_map(root, 0x200, t_io(ctx, "virtio[0]/x @y", 0x10));
    mt_as *as = NULL;
    MT_OK(mt_as_new(ctx, root, NULL, &as));
    assert_non_null(as);
    assert_string_equal(mt_as_name(as), "anonymous");
    CHECK_MTREE(ctx, 0,
                "address-space: anonymous\n"
                "  0000000000000000-ffffffffffffffff (prio 0, i/o): (null)\n"
                "    0000000000000000-000000000000000f (prio 0, i/o): (null)\n"
                "    0000000000000100-000000000000010f (prio 0, i/o): bus master container\n"
                "    0000000000000200-000000000000020f (prio 0, i/o): virtio[0]/x @y\n"
                "\n");
    CHECK_MTREE(ctx, MT_MTREE_FLAT,
                "FlatView #0\n"
                " AS \"anonymous\", root: (null)\n"
                " Root memory region: (null)\n"
                "  0000000000000000-000000000000000f (prio 0, i/o): (null)\n"
                "  0000000000000100-000000000000010f (prio 0, i/o): bus master container\n"
                "  0000000000000200-000000000000020f (prio 0, i/o): virtio[0]/x @y\n"
                "\n");
    mt_ctx_free(ctx);
}

/* The flags combine: -D and -f together print the flat view (QEMU's -f
 * ignores -D). An empty context prints nothing. */
static void test_print_empty_and_flag_combination(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    CHECK_MTREE(ctx, 0, "");
    CHECK_MTREE(ctx, MT_MTREE_FLAT, "");
    CHECK_MTREE(ctx, MT_MTREE_DISABLED, "");
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *off = t_io(ctx, "off", 0x10);
    t_map(sys, 0x10, off);
    t_map(sys, 0x20, t_io(ctx, "on", 0x10));
    MT_OK(mt_region_set_enabled(off, false));
    (void)t_as(ctx, sys, "memory");
    const char *flat =
        "FlatView #0\n"
        " AS \"memory\", root: sys\n"
        " Root memory region: sys\n"
        "  0000000000000020-000000000000002f (prio 0, i/o): on\n"
        "\n";
    CHECK_MTREE(ctx, MT_MTREE_FLAT, flat);
    CHECK_MTREE(ctx, MT_MTREE_FLAT | MT_MTREE_DISABLED, flat);
    mt_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_item56_address_format_and_indent),
        cmocka_unit_test(test_item57_alias_line_and_target_type),
        cmocka_unit_test(test_item58_child_order),
        cmocka_unit_test(test_item59_detected_overflow_prefix),
        cmocka_unit_test(test_item60_flat_rom_offset_prio_nv),
        cmocka_unit_test(test_item62_as_names_sorted_and_creation_order),
        cmocka_unit_test(test_item63_block_order_is_creation_order),
        cmocka_unit_test(test_item64_72_prints_io_for_containers),
        cmocka_unit_test(test_item65_as_free_drops_root_reference),
        cmocka_unit_test(test_item65_as_free_delivers_region_del),
        cmocka_unit_test(test_item66_names_null_and_raw),
        cmocka_unit_test(test_print_empty_and_flag_combination),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
