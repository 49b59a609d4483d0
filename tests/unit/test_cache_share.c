/* SPDX-License-Identifier: MIT */
/*
 * test_cache_share.c: a commit that patches a large view hands the old
 * version's lookup cache to the new one (flatview.c, mt__fv_tlb_share).
 * What was true stays true; every page the commit changed answers from
 * the new map, whatever the cache said about it; the old version, still
 * held, answers from its own map; range entries never outlive the records
 * they point at.
 */
#include "mt_testutil.h"

#include "internal.h" /* the views' caches */

#define NR_RAM 200
#define STRIDE 0x10000ull

typedef struct fixture {
    mt_ctx *ctx;
    mt_region *root;
    mt_region *ram[NR_RAM];
    mt_as *as;
} fixture;

/* RAM region i holds the byte i + 1 everywhere. */
static void build(fixture *f)
{
    f->ctx = t_ctx();
    f->root = t_container(f->ctx, "root", MT_SIZE_FULL);
    for (int i = 0; i < NR_RAM; i++) {
        char name[32];

        snprintf(name, sizeof(name), "ram%d", i);
        f->ram[i] = t_ram(f->ctx, name, 0x4000);
        memset(mt_region_ram_ptr(f->ram[i]), i + 1, 0x4000);
        t_map(f->root, (uint64_t)i * STRIDE, f->ram[i]);
        mt_region_unref(f->ram[i]);
    }
    f->as = t_as(f->ctx, f->root, "memory");
}

static uint8_t byte_at(fixture *f, uint64_t addr)
{
    uint64_t v = 0xee;

    mt_as_load(f->as, addr, 1, MT_ENDIAN_LITTLE, MT_ATTRS_UNSPECIFIED, &v);
    return (uint8_t)v;
}

/* Warm the cache: every page of every region, twice (the cache comes
 * after the view's first tree lookups). */
static void warm(fixture *f)
{
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < NR_RAM; i++)
            for (uint64_t off = 0; off < 0x4000; off += 0x1000)
                assert_int_equal(byte_at(f, i * STRIDE + off), i + 1);
}

static void test_moved_region_answers_from_new_place(void **state)
{
    fixture f;

    (void)state;
    build(&f);
    warm(&f);
    /* Move region 7 over the hole after region 150, disable region 9. */
    MT_OK(mt_region_set_address(f.ram[7], 150 * STRIDE + 0x8000));
    MT_OK(mt_region_set_enabled(f.ram[9], false));
    for (uint64_t off = 0; off < 0x4000; off += 0x1000) {
        assert_int_equal(byte_at(&f, 7 * STRIDE + off), 0); /* a hole now */
        assert_int_equal(byte_at(&f, 9 * STRIDE + off), 0);
        assert_int_equal(byte_at(&f, 150 * STRIDE + 0x8000 + off), 8);
    }
    /* Everything else still answers, through the inherited entries. */
    for (int i = 0; i < NR_RAM; i++) {
        if (i == 7 || i == 9)
            continue;
        for (uint64_t off = 0; off < 0x4000; off += 0x1000)
            assert_int_equal(byte_at(&f, i * STRIDE + off), i + 1);
    }
    /* And back: the old pages answer again. */
    MT_OK(mt_region_set_address(f.ram[7], 7 * STRIDE));
    MT_OK(mt_region_set_enabled(f.ram[9], true));
    warm(&f);
    mt_ctx_free(f.ctx);
}

static void test_readonly_and_dirty_logging_change_pages(void **state)
{
    fixture f;
    mt_region *dirty;

    (void)state;
    build(&f);
    warm(&f);
    /* A store to a page made read-only must not reach memory. */
    MT_OK(mt_region_set_readonly(f.ram[20], true));
    mt_as_store(f.as, 20 * STRIDE, 1, MT_ENDIAN_LITTLE, MT_ATTRS_UNSPECIFIED,
                0x99);
    assert_int_equal(((uint8_t *)mt_region_ram_ptr(f.ram[20]))[0], 21);
    /* A store to a page whose region starts dirty logging must be logged. */
    dirty = f.ram[30];
    MT_OK(mt_region_set_dirty_log(dirty, true));
    mt_as_store(f.as, 30 * STRIDE + 0x2000, 1, MT_ENDIAN_LITTLE,
                MT_ATTRS_UNSPECIFIED, 0x42);
    {
        bool d = false;

        MT_OK(mt_region_dirty_get(dirty, 0x2000, 1, MT_DIRTY_CLIENT_VGA, &d));
        assert_true(d);
    }
    MT_OK(mt_region_set_dirty_log(dirty, false));
    mt_ctx_free(f.ctx);
}

static mt_tlb *cache_of(mt_flatview *fv)
{
    return atomic_load(&fv->tlb);
}

/* The new version has the old one's cache at once: unchanged pages answer
 * from it before any lookup, the moved ones do not. */
static void test_cache_goes_on_to_the_new_version(void **state)
{
    const unsigned rd = MT__ACCESS_READ;
    const uint64_t moved_to = 150 * STRIDE + 0x8000;
    mt_tlb_entry *dropped[8];
    uint8_t *before[NR_RAM];
    mt_flatview *v1, *v2;
    mt_tlb *tlb;
    int kept = 0;
    fixture f;

    (void)state;
    build(&f);
    warm(&f);
    v1 = mt_as_flatview(f.as);
    tlb = cache_of(v1);
    assert_non_null(tlb);
    /* What the cache holds (pages that share a slot evict each other). */
    for (int i = 0; i < NR_RAM; i++)
        before[i] = mt__page_host(v1, i * STRIDE + 0x2000, 8, rd);
    MT_OK(mt_region_set_address(f.ram[7], moved_to));
    v2 = mt_as_flatview(f.as);
    assert_ptr_not_equal(v1, v2);
    assert_ptr_equal(cache_of(v2), tlb);
    /* The slots of the pages the commit changed, at both places. */
    for (int k = 0; k < 4; k++) {
        dropped[k] = mt__tlb_entry(tlb, mt__tlb_hash(7 * STRIDE + k * 0x1000));
        dropped[4 + k] = mt__tlb_entry(tlb, mt__tlb_hash(moved_to +
                                                         k * 0x1000));
        assert_null(mt__page_host(v2, 7 * STRIDE + k * 0x1000, 1, rd));
        assert_null(mt__page_host(v2, moved_to + k * 0x1000, 1, rd));
    }
    /* Every other page the cache held answers from it at once, with the
     * same host memory, before any lookup in the new version. */
    for (int i = 0; i < NR_RAM; i++) {
        mt_tlb_entry *e = mt__tlb_entry(tlb, mt__tlb_hash(i * STRIDE + 0x2000));
        bool gone = false;

        for (int k = 0; k < 8; k++)
            gone |= e == dropped[k];
        if (i == 7 || !before[i] || gone)
            continue;
        assert_ptr_equal(mt__page_host(v2, i * STRIDE + 0x2000, 8, rd),
                         before[i]);
        assert_ptr_equal(before[i],
                         (uint8_t *)mt_region_ram_ptr(f.ram[i]) + 0x2000);
        kept++;
    }
    assert_true(kept > NR_RAM / 2);
    mt_flatview_unref(v1);
    mt_flatview_unref(v2);
    mt_ctx_free(f.ctx);
}

/* A reader still holding the old version sees the old map, not entries
 * the new version's readers filled. */
static void test_old_version_answers_from_its_own_map(void **state)
{
    const unsigned rd = MT__ACCESS_READ;
    const uint64_t moved_to = 150 * STRIDE + 0x8000;
    const mt_flat_range *fr;
    mt_flatview *v1, *v2;
    fixture f;

    (void)state;
    build(&f);
    warm(&f);
    v1 = mt_as_flatview(f.as);
    MT_OK(mt_region_set_address(f.ram[7], moved_to));
    v2 = mt_as_flatview(f.as);
    /* The new version's readers fill the moved pages. */
    for (uint64_t off = 0; off < 0x4000; off += 0x1000)
        assert_int_equal(byte_at(&f, moved_to + off), 8);
    assert_non_null(mt__page_host(v2, moved_to, 1, rd));
    /* The old version takes nothing from the cache any more... */
    assert_null(mt__page_host(v1, 3 * STRIDE, 1, rd));
    assert_null(mt__page_host(v1, moved_to, 1, rd));
    /* ...and its lookups answer from its own map. */
    assert_null(mt__lookup(v1, moved_to));
    fr = mt__lookup(v1, 7 * STRIDE + 0x1000);
    assert_non_null(fr);
    assert_ptr_equal(fr->region, f.ram[7]);
    fr = mt__lookup(v1, 3 * STRIDE);
    assert_non_null(fr);
    assert_ptr_equal(fr->region, f.ram[3]);
    /* Nor did those lookups write the cache the new version reads. */
    assert_null(mt__lookup(v2, 7 * STRIDE + 0x1000));
    assert_int_equal(byte_at(&f, 7 * STRIDE + 0x1000), 0);
    mt_flatview_unref(v1);
    mt_flatview_unref(v2);
    mt_ctx_free(f.ctx);
}

/* ---- range entries: device pages ---------------------------------------- */

#define NR_IO 160

static mt_result io_read(void *opaque, uint64_t off, uint64_t *value,
                         unsigned size, mt_attrs attrs)
{
    (void)size, (void)attrs;
    *value = (uint64_t)(uintptr_t)opaque << 16 | (off & 0xffff);
    return MT_TX_OK;
}

static mt_result io_write(void *opaque, uint64_t off, uint64_t value,
                          unsigned size, mt_attrs attrs)
{
    (void)opaque, (void)off, (void)value, (void)size, (void)attrs;
    return MT_TX_OK;
}

static const mt_ops io_ops = {
    .read = io_read,
    .write = io_write,
    .endian = MT_ENDIAN_LITTLE,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
};

static uint64_t io_load(mt_as *as, uint64_t addr)
{
    uint64_t v = 0;

    assert_int_equal(mt_as_load(as, addr, 4, MT_ENDIAN_LITTLE,
                                MT_ATTRS_UNSPECIFIED, &v), MT_TX_OK);
    return v;
}

/*
 * Cached range entries point at records of the version that filled them.
 * A commit that rewrites the leaf holding them makes new records; once the
 * old version is freed, every device page must still answer through a
 * record of the new version (ASan sees any use of a freed one).
 */
static void test_range_entries_never_outlive_their_records(void **state)
{
    mt_region *root, *io[NR_IO], *extra;
    mt_flatview *v2;
    mt_ctx *ctx;
    mt_as *as;

    (void)state;
    ctx = t_ctx();
    root = t_container(ctx, "root", MT_SIZE_FULL);
    for (uintptr_t i = 0; i < NR_IO; i++) {
        char name[32];

        snprintf(name, sizeof(name), "dev%u", (unsigned)i);
        MT_OK(mt_region_new_io(ctx, name, 0x2000, &io_ops, (void *)(i + 1),
                               &io[i]));
        t_map(root, i * STRIDE, io[i]);
        mt_region_unref(io[i]);
    }
    as = t_as(ctx, root, "memory");
    for (int round = 0; round < 2; round++)
        for (uintptr_t i = 0; i < NR_IO; i++)
            for (uint64_t off = 0; off < 0x2000; off += 0x1000)
                assert_int_equal(io_load(as, i * STRIDE + off + 4),
                                 (i + 1) << 16 | (off + 4));
    /* A region between every pair of devices of the first leaves: their
     * records are copied into new leaves. Then the old version goes. */
    mt_begin(ctx);
    for (int i = 0; i < NR_IO; i += 2) {
        extra = t_ram(ctx, "extra", 0x1000);
        t_map(root, i * STRIDE + 0x8000, extra);
        mt_region_unref(extra);
    }
    MT_OK(mt_commit(ctx));
    mt_ctx_synchronize(ctx);
    v2 = mt_as_flatview(as);
    assert_non_null(cache_of(v2));
    for (uintptr_t i = 0; i < NR_IO; i++) {
        for (uint64_t off = 0; off < 0x2000; off += 0x1000) {
            uint64_t a = i * STRIDE + off;
            const mt_flat_range *hint = mt__lookup_hint(v2, a);

            if (hint)
                assert_ptr_equal(hint, mt__fvt_lookup(v2->tree, a));
            assert_int_equal(io_load(as, a + 4), (i + 1) << 16 | (off + 4));
        }
    }
    mt_flatview_unref(v2);
    mt_region_unref(root);
    mt_ctx_free(ctx);
}

/* ---- random changes against the trees ----------------------------------- */

#define NR_MIX  120
#define NR_HELD 4
#define SLOTS   256             /* places a region can be: i * STRIDE */

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/*
 * Whatever the cache holds, every version still held answers like its own
 * tree: the range (same record) for mt__lookup, and for a page entry the
 * host memory of that range.
 */
static void check_version(mt_flatview *fv, uint64_t *rng)
{
    for (int k = 0; k < 64; k++) {
        uint64_t a = (rng_next(rng) % SLOTS) * STRIDE +
                     (rng_next(rng) % 0x4000);
        const mt_flat_range *want = mt__fvt_lookup(fv->tree, a);
        uint8_t *h = mt__page_host(fv, a, 1, MT__ACCESS_READ);

        assert_ptr_equal(mt__lookup(fv, a), want);
        if (h) {
            assert_non_null(want);
            assert_non_null(want->host);
            assert_ptr_equal(h, (uint8_t *)want->host + (a - want->start));
        }
    }
}

/*
 * Regions of both kinds (RAM: page entries; devices: range entries) moved,
 * enabled, disabled, made read-only, one change per commit or several,
 * while the last few versions are held and loads through the address
 * space keep the cache full; old versions are dropped and freed as it
 * goes (ASan sees any entry that outlives its record).
 */
static void test_random_changes_keep_every_version_right(void **state)
{
    mt_region *root, *r[NR_MIX];
    mt_flatview *held[NR_HELD] = { NULL }, *prev;
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    unsigned handed = 0;
    bool used[SLOTS] = { false };
    unsigned at[NR_MIX];
    mt_ctx *ctx;
    mt_as *as;

    (void)state;
    ctx = t_ctx();
    root = t_container(ctx, "root", MT_SIZE_FULL);
    for (unsigned i = 0; i < NR_MIX; i++) {
        char name[32];

        snprintf(name, sizeof(name), "r%u", i);
        if (i % 3 == 2)
            MT_OK(mt_region_new_io(ctx, name, 0x2000, &io_ops,
                                   (void *)(uintptr_t)(i + 1), &r[i]));
        else
            r[i] = t_ram(ctx, name, 0x3000);
        at[i] = i * 2;
        used[at[i]] = true;
        t_map(root, at[i] * STRIDE, r[i]);
    }
    as = t_as(ctx, root, "memory");
    for (int step = 0; step < 400; step++) {
        unsigned changes = 1 + (unsigned)(rng_next(&rng) % 3);
        uint64_t v;

        /* Fill the cache of the current version. */
        for (int k = 0; k < 200; k++)
            (void)mt_as_load(as, (rng_next(&rng) % SLOTS) * STRIDE +
                                     (rng_next(&rng) % 0x3000 & ~7ull),
                             8, MT_ENDIAN_LITTLE, MT_ATTRS_UNSPECIFIED, &v);
        mt_begin(ctx);
        while (changes--) {
            unsigned i = (unsigned)(rng_next(&rng) % NR_MIX);
            unsigned to = (unsigned)(rng_next(&rng) % SLOTS);

            switch (rng_next(&rng) % 4) {
            case 0:
                if (!used[to]) {
                    used[at[i]] = false;
                    used[to] = true;
                    at[i] = to;
                    MT_OK(mt_region_set_address(r[i], to * STRIDE));
                }
                break;
            case 1:
                MT_OK(mt_region_set_enabled(r[i], !mt_region_enabled(r[i])));
                break;
            case 2:
                MT_OK(mt_region_set_readonly(r[i],
                                             rng_next(&rng) % 2 == 0));
                break;
            default:
                break; /* nothing: a commit that changes less */
            }
        }
        MT_OK(mt_commit(ctx));
        mt_flatview_unref(held[step % NR_HELD]);
        held[step % NR_HELD] = mt_as_flatview(as);
        prev = held[(step + NR_HELD - 1) % NR_HELD];
        if (prev && prev != held[step % NR_HELD] && cache_of(prev) &&
            cache_of(prev) == cache_of(held[step % NR_HELD]))
            handed++;
        if (step % 50 == 49)
            MT_OK(mt_ctx_synchronize(ctx));
        for (int h = 0; h < NR_HELD; h++)
            if (held[h])
                check_version(held[h], &rng);
    }
    /* Most commits handed the cache on (the others changed nothing). */
    print_message("%u of 400 commits handed the cache on\n", handed);
    assert_true(handed > 200);
    for (int h = 0; h < NR_HELD; h++)
        mt_flatview_unref(held[h]);
    for (unsigned i = 0; i < NR_MIX; i++)
        mt_region_unref(r[i]);
    mt_region_unref(root);
    mt_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_moved_region_answers_from_new_place),
        cmocka_unit_test(test_readonly_and_dirty_logging_change_pages),
        cmocka_unit_test(test_cache_goes_on_to_the_new_version),
        cmocka_unit_test(test_old_version_answers_from_its_own_map),
        cmocka_unit_test(test_range_entries_never_outlive_their_records),
        cmocka_unit_test(test_random_changes_keep_every_version_right),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
