/* SPDX-License-Identifier: MIT */
/*
 * test_dirty.c: dirty tracking of RAM blocks through the public API: which
 * write paths mark which clients (VGA, CODE, MIGRATION), get and
 * test-and-clear, snapshots, merges of accelerator logs, bad arguments and
 * concurrent marking while a collector takes snapshots.
 *
 * Facts from docs/qemu-memory-reference.md section 6.4 (QEMU 7.2): three
 * clients, one bit per target page; a region's mask is VGA while logging
 * users remain, MIGRATION while global dirty logging is on, CODE under TCG;
 * new blocks start dirty for every client.
 */
#include "mt_testutil.h"

#include <pthread.h>
#include <stdatomic.h>

#define PG 4096u
#define KiB (UINT64_C(1) << 10)
#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define U_ MT_ATTRS_UNSPECIFIED
#define ALL_CLIENTS (MT_DIRTY_VGA | MT_DIRTY_CODE | MT_DIRTY_MIGRATION)

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static const char *client_name(unsigned c)
{
    return c == MT_DIRTY_CLIENT_VGA    ? "VGA"
           : c == MT_DIRTY_CLIENT_CODE ? "CODE"
                                       : "MIGRATION";
}

/* Clear every client's bits of @r. */
static void clear_all(mt_region *r)
{
    bool d;

    for (unsigned c = 0; c < MT_DIRTY_NR_CLIENTS; c++)
        MT_OK(mt_region_dirty_test_and_clear(r, 0, mt_region_ram_max_size(r),
                                             c, &d));
}

/*
 * The dirty pages of @client in @r must be exactly @pages[0..n) (page
 * numbers); they are taken (cleared) in the process.
 */
static void expect_pages_(mt_region *r, unsigned client,
                          const uint64_t *pages, size_t n, const char *file,
                          int line)
{
    mt_dirty_snapshot *s = NULL;
    uint64_t off = 0, got;
    size_t i = 0;
    bool bad = false;

    MT_OK(mt_region_dirty_snapshot(r, 0, mt_region_ram_max_size(r), client,
                                   &s));
    if (mt_dirty_snapshot_count(s) != n)
        bad = true;
    while (!bad && (got = mt_dirty_snapshot_next(s, off)) != UINT64_MAX) {
        if (i >= n || got != pages[i] * PG)
            bad = true;
        i++;
        off = got + PG;
    }
    if (i != n)
        bad = true;
    if (bad) {
        print_message("%s:%d: %s: %s dirty pages: expected", file, line,
                      t_rname(r), client_name(client));
        for (size_t k = 0; k < n; k++)
            print_message(" %llu", (unsigned long long)pages[k]);
        print_message("; got");
        for (off = 0; (got = mt_dirty_snapshot_next(s, off)) != UINT64_MAX;
             off = got + PG)
            print_message(" %llu", (unsigned long long)(got / PG));
        print_message("\n");
        mt_dirty_snapshot_free(s);
        _fail(file, line);
    }
    mt_dirty_snapshot_free(s);
}

/* EXPECT_PAGES(r, client, page...) ; EXPECT_CLEAN(r, client) */
#define EXPECT_PAGES(r, client, ...)                                         \
    do {                                                                     \
        const uint64_t p_[] = { __VA_ARGS__ };                               \
        expect_pages_((r), (client), p_, sizeof(p_) / sizeof(p_[0]),         \
                      __FILE__, __LINE__);                                   \
    } while (0)
#define EXPECT_CLEAN(r, client)                                              \
    expect_pages_((r), (client), NULL, 0, __FILE__, __LINE__)

/* The same pages for every client in @mask, none for the others. */
#define EXPECT_MASK_PAGES(r, mask, ...)                                      \
    do {                                                                     \
        for (unsigned c_ = 0; c_ < MT_DIRTY_NR_CLIENTS; c_++) {              \
            if ((mask) & (1u << c_))                                         \
                EXPECT_PAGES((r), c_, __VA_ARGS__);                          \
            else                                                             \
                EXPECT_CLEAN((r), c_);                                       \
        }                                                                    \
    } while (0)
#define EXPECT_ALL_CLEAN(r)                                                  \
    do {                                                                     \
        for (unsigned c_ = 0; c_ < MT_DIRTY_NR_CLIENTS; c_++)                \
            EXPECT_CLEAN((r), c_);                                           \
    } while (0)

/* dirty_log_mask of the range at @addr (0xff when nothing is there). */
static unsigned mask_at(mt_as *as, uint64_t addr)
{
    mt_flatview *fv = mt_as_flatview(as);
    unsigned m = 0xff;

    for (size_t i = 0; i < mt_flatview_nr_ranges(fv); i++) {
        const mt_flat_range *fr = mt_flatview_range(fv, i);
        if (fr->start <= addr && addr <= fr->last)
            m = fr->dirty_log_mask;
    }
    mt_flatview_unref(fv);
    return m;
}

static bool is_dirty(mt_region *r, uint64_t off, uint64_t len,
                     unsigned client)
{
    bool d = false;

    MT_OK(mt_region_dirty_get(r, off, len, client, &d));
    return d;
}

/* ------------------------------------------------------------------------ */
/* Write paths and clients                                                   */
/* ------------------------------------------------------------------------ */

typedef struct fixture {
    mt_ctx *ctx;
    mt_region *sys, *ram, *ram2, *rom, *io;
    mt_as *as;
} fixture;

#define RAM_BASE  0x0
#define ROM_BASE  0x100000
#define IO_BASE   0x200000
#define AL_BASE   0x300000
#define RAM2_BASE 0x400000

static void fixture_init(fixture *f)
{
    f->ctx = t_ctx();
    f->sys = t_container(f->ctx, "sys", 4 * GiB);
    f->ram = t_ram(f->ctx, "ram", 64 * PG);
    f->ram2 = t_ram(f->ctx, "ram2", 16 * PG);
    f->rom = t_rom(f->ctx, "rom", 16 * PG);
    f->io = t_io(f->ctx, "io", PG);
    t_map(f->sys, RAM_BASE, f->ram);
    t_map(f->sys, ROM_BASE, f->rom);
    t_map(f->sys, IO_BASE, f->io);
    t_map(f->sys, AL_BASE, t_alias(f->ctx, "ram-alias", f->ram, 0x10000,
                                   0x4000));
    t_map(f->sys, RAM2_BASE, f->ram2);
    f->as = t_as(f->ctx, f->sys, "memory");
    clear_all(f->ram);
    clear_all(f->ram2);
    clear_all(f->rom);
}

/* Every write path marks exactly the clients logging the region. */
static void test_write_paths_mark_logging_clients(void **state)
{
    (void)state;
    fixture f;
    uint8_t buf[64];
    uint64_t v;

    fixture_init(&f);
    memset(buf, 0x5c, sizeof(buf));

    /* Nobody logging: writes set nothing. */
    assert_int_equal(mask_at(f.as, RAM_BASE), 0);
    assert_int_equal(mt_as_write(f.as, 3 * PG, U_, buf, 8), MT_TX_OK);
    EXPECT_ALL_CLEAN(f.ram);

    /* VGA logging on ram only. */
    MT_OK(mt_region_set_dirty_log(f.ram, true));
    assert_true(mt_region_dirty_log(f.ram));
    assert_int_equal(mask_at(f.as, RAM_BASE), MT_DIRTY_VGA);
    assert_int_equal(mask_at(f.as, RAM2_BASE), 0);
    assert_int_equal(mask_at(f.as, AL_BASE), MT_DIRTY_VGA);
    assert_int_equal(mt_as_write(f.as, 3 * PG + 5, U_, buf, 8), MT_TX_OK);
    assert_int_equal(mt_as_write(f.as, RAM2_BASE + PG, U_, buf, 8),
                     MT_TX_OK);
    EXPECT_MASK_PAGES(f.ram, MT_DIRTY_VGA, 3);
    EXPECT_ALL_CLEAN(f.ram2);

    /* + global (migration) logging: every RAM range gains MIGRATION. */
    MT_OK(mt_ctx_dirty_log_start(f.ctx));
    assert_int_equal(mask_at(f.as, RAM_BASE),
                     MT_DIRTY_VGA | MT_DIRTY_MIGRATION);
    assert_int_equal(mask_at(f.as, RAM2_BASE), MT_DIRTY_MIGRATION);
    assert_int_equal(mask_at(f.as, ROM_BASE), MT_DIRTY_MIGRATION);
    assert_int_equal(mask_at(f.as, IO_BASE), 0);
    assert_int_equal(mt_as_write(f.as, 5 * PG, U_, buf, 1), MT_TX_OK);
    assert_int_equal(mt_as_write(f.as, RAM2_BASE + 2 * PG, U_, buf, 1),
                     MT_TX_OK);
    EXPECT_MASK_PAGES(f.ram, MT_DIRTY_VGA | MT_DIRTY_MIGRATION, 5);
    EXPECT_MASK_PAGES(f.ram2, MT_DIRTY_MIGRATION, 2);

    /* + code tracking: all three. */
    MT_OK(mt_ctx_set_code_tracking(f.ctx, true));
    assert_int_equal(mask_at(f.as, RAM_BASE), ALL_CLIENTS);
    assert_int_equal(mask_at(f.as, RAM2_BASE),
                     MT_DIRTY_CODE | MT_DIRTY_MIGRATION);
    assert_int_equal(mask_at(f.as, IO_BASE), 0);
    assert_int_equal(mt_as_write(f.as, 7 * PG + PG - 1, U_, buf, 1),
                     MT_TX_OK);
    EXPECT_MASK_PAGES(f.ram, ALL_CLIENTS, 7);

    /* Reads never mark: mt_as_read, mt_as_load, a read mapping. */
    assert_int_equal(mt_as_read(f.as, 9 * PG, U_, buf, sizeof(buf)),
                     MT_TX_OK);
    assert_int_equal(mt_as_read(f.as, 0, U_, buf, 1), MT_TX_OK);
    assert_int_equal(mt_as_load(f.as, 10 * PG, 8, MT_ENDIAN_LITTLE, U_, &v),
                     MT_TX_OK);
    uint64_t ml = 2 * PG;
    void *mp = mt_as_map(f.as, 11 * PG, &ml, false, U_);
    assert_non_null(mp);
    assert_int_equal(ml, 2 * PG);
    MT_OK(mt_as_unmap(f.as, mp, ml, false, ml));
    assert_int_equal(mt_as_read(f.as, ROM_BASE, U_, buf, 16), MT_TX_OK);
    EXPECT_ALL_CLEAN(f.ram);
    EXPECT_ALL_CLEAN(f.rom);
    memset(buf, 0x5c, sizeof(buf));

    /* A write spanning two pages marks both (and nothing around them). */
    assert_int_equal(mt_as_write(f.as, 13 * PG - 4, U_, buf, 8), MT_TX_OK);
    EXPECT_MASK_PAGES(f.ram, ALL_CLIENTS, 12, 13);
    /* A write over several whole pages. */
    assert_int_equal(mt_as_write(f.as, 44 * PG + 100, U_, buf, 1), MT_TX_OK);
    uint8_t *big = calloc(1, 3 * PG);
    assert_non_null(big);
    assert_int_equal(mt_as_write(f.as, 40 * PG, U_, big, 3 * PG), MT_TX_OK);
    free(big);
    EXPECT_MASK_PAGES(f.ram, ALL_CLIENTS, 40, 41, 42, 44);

    /* Stores. */
    assert_int_equal(mt_as_store(f.as, 20 * PG + 8, 4, MT_ENDIAN_LITTLE, U_,
                                 0xdeadbeef),
                     MT_TX_OK);
    assert_int_equal(mt_as_store(f.as, 22 * PG - 8, 8, MT_ENDIAN_BIG, U_, 1),
                     MT_TX_OK);
    EXPECT_MASK_PAGES(f.ram, ALL_CLIENTS, 20, 21);

    /* Through an alias: the target's pages (alias offset 0x10000). */
    assert_int_equal(mt_as_write(f.as, AL_BASE + 0x1000, U_, buf, 4),
                     MT_TX_OK);
    EXPECT_MASK_PAGES(f.ram, ALL_CLIENTS, 17);

    /* Firmware loading: RAM and ROM alike; plain writes to ROM refused. */
    assert_int_equal(mt_as_write_rom(f.as, 21 * PG, U_, buf, 4), MT_TX_OK);
    assert_int_equal(mt_as_write_rom(f.as, ROM_BASE + 2 * PG, U_, buf, 4),
                     MT_TX_OK);
    assert_int_equal(mt_as_write(f.as, ROM_BASE + 4 * PG, U_, buf, 4),
                     MT_TX_DECODE_ERROR);
    assert_int_equal(mt_as_store(f.as, ROM_BASE + 5 * PG, 4,
                                 MT_ENDIAN_LITTLE, U_, 1),
                     MT_TX_DECODE_ERROR);
    EXPECT_MASK_PAGES(f.ram, ALL_CLIENTS, 21);
    EXPECT_MASK_PAGES(f.rom, MT_DIRTY_CODE | MT_DIRTY_MIGRATION, 2);

    /* A write mapping marks what was accessed, at unmap time. */
    ml = 3 * PG;
    mp = mt_as_map(f.as, 30 * PG, &ml, true, U_);
    assert_ptr_equal(mp, (uint8_t *)mt_region_ram_ptr(f.ram) + 30 * PG);
    assert_int_equal(ml, 3 * PG);
    memset(mp, 0x77, PG + 1);
    assert_false(is_dirty(f.ram, 30 * PG, 3 * PG, MT_DIRTY_CLIENT_VGA));
    MT_OK(mt_as_unmap(f.as, mp, ml, true, PG + 1));
    EXPECT_MASK_PAGES(f.ram, ALL_CLIENTS, 30, 31);
    /* access_len 0: nothing. */
    ml = PG;
    mp = mt_as_map(f.as, 33 * PG, &ml, true, U_);
    assert_non_null(mp);
    MT_OK(mt_as_unmap(f.as, mp, ml, true, 0));
    EXPECT_ALL_CLEAN(f.ram);

    /* VGA off: the others still log. */
    MT_OK(mt_region_set_dirty_log(f.ram, false));
    assert_false(mt_region_dirty_log(f.ram));
    assert_int_equal(mask_at(f.as, RAM_BASE),
                     MT_DIRTY_CODE | MT_DIRTY_MIGRATION);
    assert_int_equal(mt_as_write(f.as, 50 * PG, U_, buf, 4), MT_TX_OK);
    EXPECT_MASK_PAGES(f.ram, MT_DIRTY_CODE | MT_DIRTY_MIGRATION, 50);
    MT_EXPECT(mt_region_set_dirty_log(f.ram, false), MT_ESTATE);

    /* Everything off: nothing marked. */
    MT_OK(mt_ctx_set_code_tracking(f.ctx, false));
    assert_int_equal(mask_at(f.as, RAM_BASE), MT_DIRTY_MIGRATION);
    MT_OK(mt_ctx_dirty_log_stop(f.ctx));
    assert_int_equal(mask_at(f.as, RAM_BASE), 0);
    assert_int_equal(mask_at(f.as, ROM_BASE), 0);
    assert_int_equal(mt_as_write(f.as, 51 * PG, U_, buf, 4), MT_TX_OK);
    assert_int_equal(mt_as_store(f.as, 52 * PG, 2, MT_ENDIAN_LITTLE, U_, 3),
                     MT_TX_OK);
    assert_int_equal(mt_as_write_rom(f.as, ROM_BASE, U_, buf, 4), MT_TX_OK);
    ml = PG;
    mp = mt_as_map(f.as, 53 * PG, &ml, true, U_);
    assert_non_null(mp);
    MT_OK(mt_as_unmap(f.as, mp, ml, true, ml));
    EXPECT_ALL_CLEAN(f.ram);
    EXPECT_ALL_CLEAN(f.rom);

    /* Logging users are counted. */
    MT_OK(mt_region_set_dirty_log(f.ram, true));
    MT_OK(mt_region_set_dirty_log(f.ram, true));
    MT_OK(mt_region_set_dirty_log(f.ram, false));
    assert_int_equal(mask_at(f.as, RAM_BASE), MT_DIRTY_VGA);
    assert_int_equal(mt_as_write(f.as, 54 * PG, U_, buf, 4), MT_TX_OK);
    EXPECT_MASK_PAGES(f.ram, MT_DIRTY_VGA, 54);
    MT_OK(mt_region_set_dirty_log(f.ram, false));
    assert_int_equal(mask_at(f.as, RAM_BASE), 0);
    MT_EXPECT(mt_region_set_dirty_log(f.io, true), MT_EKIND);
    MT_EXPECT(mt_region_set_dirty_log(f.sys, true), MT_EKIND);
    MT_EXPECT(mt_ctx_set_code_tracking(NULL, true), MT_EINVAL);
    mt_ctx_free(f.ctx);
}

/* A write mapping into RAM marks only the pages actually accessed, from
 * the start of the mapping. */
static void test_write_mapping_partial_access(void **state)
{
    (void)state;
    fixture f;

    fixture_init(&f);
    MT_OK(mt_region_set_dirty_log(f.ram2, true));
    uint64_t ml = 16 * PG;
    uint8_t *mp = mt_as_map(f.as, RAM2_BASE, &ml, true, U_);
    assert_non_null(mp);
    assert_int_equal(ml, 16 * PG);
    mp[5 * PG] = 1;
    MT_OK(mt_as_unmap(f.as, mp, ml, true, 5 * PG + 1));
    EXPECT_MASK_PAGES(f.ram2, MT_DIRTY_VGA, 0, 1, 2, 3, 4, 5);
    mt_ctx_free(f.ctx);
}

/* Checklist 42: new blocks start dirty for every client over their used
 * length, whatever the kind and backend. */
static void test_new_blocks_start_dirty(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    static uint8_t mem[8 * PG] __attribute__((aligned(PG)));
    static uint8_t bar[4 * PG] __attribute__((aligned(PG)));
    mt_region *rs[7];
    uint64_t pages[7] = { 101, 16, 16, 8, 4, 3, 10 };
    mt_ram_opts o;

    rs[0] = t_ram(ctx, "ram", 100 * PG + 1);
    rs[1] = t_rom(ctx, "rom", 16 * PG);
    rs[2] = t_romd(ctx, "romd", 16 * PG);
    MT_OK(mt_region_new_ram_ptr(ctx, "ptr", sizeof(mem), mem, &rs[3]));
    MT_OK(mt_region_new_ram_device(ctx, "bar", sizeof(bar), bar, &rs[4]));
    memset(&o, 0, sizeof(o));
    o.backend = MT_RAM_MEMFD;
    MT_OK(mt_region_new_ram_opts(ctx, "memfd", 3 * PG, &o, &rs[5]));
    memset(&o, 0, sizeof(o));
    o.backend = MT_RAM_ANON;
    o.max_size = 64 * PG;
    MT_OK(mt_region_new_ram_opts(ctx, "resizeable", 10 * PG, &o, &rs[6]));
    for (int i = 0; i < 7; i++) {
        for (unsigned c = 0; c < MT_DIRTY_NR_CLIENTS; c++) {
            mt_dirty_snapshot *s = NULL;

            MT_OK(mt_region_dirty_snapshot(rs[i], 0,
                                           mt_region_ram_max_size(rs[i]), c,
                                           &s));
            if (mt_dirty_snapshot_count(s) != pages[i])
                fail_msg("%s: %s: %llu dirty pages, expected %llu",
                         t_rname(rs[i]), client_name(c),
                         (unsigned long long)mt_dirty_snapshot_count(s),
                         (unsigned long long)pages[i]);
            assert_int_equal(mt_dirty_snapshot_next(s, 0), 0);
            assert_int_equal(mt_dirty_snapshot_next(s, pages[i] * PG),
                             UINT64_MAX);
            mt_dirty_snapshot_free(s);
        }
    }
    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* get, test_and_clear, set                                                  */
/* ------------------------------------------------------------------------ */

static void test_get_vs_test_and_clear(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *r = t_ram(ctx, "ram", 128 * PG);
    bool d;

    clear_all(r);
    MT_OK(mt_region_dirty_set(r, 10 * PG, PG, MT_DIRTY_VGA));
    /* get: as often as wanted, nothing cleared. */
    for (int i = 0; i < 3; i++) {
        d = false;
        MT_OK(mt_region_dirty_get(r, 10 * PG, PG, MT_DIRTY_CLIENT_VGA, &d));
        assert_true(d);
    }
    /* Other clients and pages are clean. */
    MT_OK(mt_region_dirty_get(r, 10 * PG, PG, MT_DIRTY_CLIENT_CODE, &d));
    assert_false(d);
    MT_OK(mt_region_dirty_get(r, 10 * PG, PG, MT_DIRTY_CLIENT_MIGRATION,
                              &d));
    assert_false(d);
    assert_false(is_dirty(r, 0, 10 * PG, MT_DIRTY_CLIENT_VGA));
    assert_false(is_dirty(r, 11 * PG, 117 * PG, MT_DIRTY_CLIENT_VGA));
    /* Any byte of the page, any span touching it. */
    assert_true(is_dirty(r, 11 * PG - 1, 1, MT_DIRTY_CLIENT_VGA));
    assert_true(is_dirty(r, 0, 128 * PG, MT_DIRTY_CLIENT_VGA));
    assert_true(is_dirty(r, 10 * PG - 1, 2, MT_DIRTY_CLIENT_VGA));
    /* A zero-length span is never dirty. */
    assert_false(is_dirty(r, 10 * PG, 0, MT_DIRTY_CLIENT_VGA));

    /* test_and_clear: true once, then false; get agrees. */
    MT_OK(mt_region_dirty_test_and_clear(r, 0, 128 * PG,
                                         MT_DIRTY_CLIENT_VGA, &d));
    assert_true(d);
    MT_OK(mt_region_dirty_test_and_clear(r, 0, 128 * PG,
                                         MT_DIRTY_CLIENT_VGA, &d));
    assert_false(d);
    assert_false(is_dirty(r, 10 * PG, PG, MT_DIRTY_CLIENT_VGA));

    /* test_and_clear of part of the dirty pages clears only that part. */
    MT_OK(mt_region_dirty_set(r, 20 * PG + 1, 3 * PG, ALL_CLIENTS));
    /* bytes 20P+1 .. 23P: pages 20..23 */
    assert_true(is_dirty(r, 23 * PG, 1, MT_DIRTY_CLIENT_CODE));
    assert_false(is_dirty(r, 24 * PG, 1, MT_DIRTY_CLIENT_CODE));
    MT_OK(mt_region_dirty_test_and_clear(r, 21 * PG + 7, PG,
                                         MT_DIRTY_CLIENT_CODE, &d));
    assert_true(d); /* pages 21 and 22 */
    EXPECT_PAGES(r, MT_DIRTY_CLIENT_CODE, 20, 23);
    EXPECT_PAGES(r, MT_DIRTY_CLIENT_VGA, 20, 21, 22, 23);
    EXPECT_PAGES(r, MT_DIRTY_CLIENT_MIGRATION, 20, 21, 22, 23);

    /* Spans crossing 64-page words. */
    MT_OK(mt_region_dirty_set(r, 60 * PG, 10 * PG, MT_DIRTY_MIGRATION));
    EXPECT_PAGES(r, MT_DIRTY_CLIENT_MIGRATION, 60, 61, 62, 63, 64, 65, 66, 67,
                 68, 69);
    MT_OK(mt_region_dirty_set(r, 0, 128 * PG, MT_DIRTY_VGA));
    MT_OK(mt_region_dirty_test_and_clear(r, 63 * PG, 2 * PG,
                                         MT_DIRTY_CLIENT_VGA, &d));
    assert_true(d);
    assert_true(is_dirty(r, 62 * PG, 1, MT_DIRTY_CLIENT_VGA));
    assert_false(is_dirty(r, 63 * PG, 2 * PG, MT_DIRTY_CLIENT_VGA));
    assert_true(is_dirty(r, 65 * PG, 1, MT_DIRTY_CLIENT_VGA));
    /* Clients 0 (empty mask): nothing happens. */
    clear_all(r);
    MT_OK(mt_region_dirty_set(r, 0, 128 * PG, 0));
    EXPECT_ALL_CLEAN(r);
    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Snapshots                                                                 */
/* ------------------------------------------------------------------------ */

static bool in_list(uint64_t p, const uint64_t *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (l[i] == p)
            return true;
    return false;
}

static void test_snapshot_spans(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *r = t_ram(ctx, "ram", 300 * PG);
    static const uint64_t set[] = { 3, 50, 63, 64, 65, 100, 127, 128, 200,
                                    250, 251, 299 };
    static const uint64_t in_span[] = { 50, 63, 64, 65, 100, 127, 128, 200,
                                        250 };
    const size_t nset = sizeof(set) / sizeof(set[0]);
    const size_t nin = sizeof(in_span) / sizeof(in_span[0]);
    mt_dirty_snapshot *s = NULL;

    clear_all(r);
    for (size_t i = 0; i < nset; i++)
        MT_OK(mt_region_dirty_set(r, set[i] * PG + 9, 1, MT_DIRTY_VGA));
    MT_OK(mt_region_dirty_set(r, 100 * PG, 1, MT_DIRTY_CODE));

    /* Pages 50..250, first and last only partly covered, not word aligned. */
    uint64_t first = 50 * PG + 123, last = 250 * PG + 5;
    MT_OK(mt_region_dirty_snapshot(r, first, last - first + 1,
                                   MT_DIRTY_CLIENT_VGA, &s));
    assert_int_equal(mt_dirty_snapshot_count(s), nin);
    for (uint64_t p = 0; p < 300; p++)
        if (mt_dirty_snapshot_get(s, p * PG + 7) != in_list(p, in_span, nin))
            fail_msg("snapshot page %llu: got %d",
                     (unsigned long long)p,
                     mt_dirty_snapshot_get(s, p * PG + 7));
    uint64_t off = 0;
    for (size_t i = 0; i < nin; i++) {
        off = mt_dirty_snapshot_next(s, off);
        assert_int_equal(off, in_span[i] * PG);
        off += PG;
    }
    assert_int_equal(mt_dirty_snapshot_next(s, off), UINT64_MAX);
    assert_int_equal(mt_dirty_snapshot_next(s, 0), 50 * PG);
    assert_int_equal(mt_dirty_snapshot_next(s, 66 * PG), 100 * PG);
    assert_int_equal(mt_dirty_snapshot_next(s, 251 * PG), UINT64_MAX);
    assert_int_equal(mt_dirty_snapshot_next(s, UINT64_MAX - PG), UINT64_MAX);
    mt_dirty_snapshot_free(s);
    /* Taken from the region; pages outside the span stay, even in the same
     * 64-page words; other clients are untouched. */
    EXPECT_PAGES(r, MT_DIRTY_CLIENT_VGA, 3, 251, 299);
    EXPECT_PAGES(r, MT_DIRTY_CLIENT_CODE, 100);

    /* Word-aligned start, tail in the middle of a word: pages 64..163. */
    MT_OK(mt_region_dirty_set(r, 64 * PG, 1, MT_DIRTY_VGA));
    MT_OK(mt_region_dirty_set(r, 163 * PG, 1, MT_DIRTY_VGA));
    MT_OK(mt_region_dirty_set(r, 164 * PG, 1, MT_DIRTY_VGA));
    MT_OK(mt_region_dirty_set(r, 63 * PG, 1, MT_DIRTY_VGA));
    MT_OK(mt_region_dirty_snapshot(r, 64 * PG, 100 * PG, MT_DIRTY_CLIENT_VGA,
                                   &s));
    assert_int_equal(mt_dirty_snapshot_count(s), 2);
    assert_true(mt_dirty_snapshot_get(s, 64 * PG));
    assert_true(mt_dirty_snapshot_get(s, 163 * PG + PG - 1));
    assert_false(mt_dirty_snapshot_get(s, 164 * PG));
    assert_false(mt_dirty_snapshot_get(s, 63 * PG));
    assert_int_equal(mt_dirty_snapshot_next(s, 65 * PG), 163 * PG);
    assert_int_equal(mt_dirty_snapshot_next(s, 164 * PG), UINT64_MAX);
    mt_dirty_snapshot_free(s);
    EXPECT_PAGES(r, MT_DIRTY_CLIENT_VGA, 63, 164);

    /* The whole block (300 pages: a partial last word). */
    MT_OK(mt_region_dirty_set(r, 0, 300 * PG, MT_DIRTY_MIGRATION));
    MT_OK(mt_region_dirty_snapshot(r, 0, 300 * PG, MT_DIRTY_CLIENT_MIGRATION,
                                   &s));
    assert_int_equal(mt_dirty_snapshot_count(s), 300);
    assert_true(mt_dirty_snapshot_get(s, 299 * PG));
    assert_false(mt_dirty_snapshot_get(s, 300 * PG));
    mt_dirty_snapshot_free(s);
    EXPECT_CLEAN(r, MT_DIRTY_CLIENT_MIGRATION);

    /* An empty span. */
    MT_OK(mt_region_dirty_set(r, 0, PG, MT_DIRTY_VGA));
    MT_OK(mt_region_dirty_snapshot(r, 0, 0, MT_DIRTY_CLIENT_VGA, &s));
    assert_int_equal(mt_dirty_snapshot_count(s), 0);
    assert_false(mt_dirty_snapshot_get(s, 0));
    assert_int_equal(mt_dirty_snapshot_next(s, 0), UINT64_MAX);
    mt_dirty_snapshot_free(s);
    assert_true(is_dirty(r, 0, 1, MT_DIRTY_CLIENT_VGA));

    /* NULL snapshot. */
    assert_false(mt_dirty_snapshot_get(NULL, 0));
    assert_int_equal(mt_dirty_snapshot_next(NULL, 0), UINT64_MAX);
    assert_int_equal(mt_dirty_snapshot_count(NULL), 0);
    mt_dirty_snapshot_free(NULL);

    /* Errors. */
    mt_region *ct = t_container(ctx, "ct", 300 * PG);
    s = NULL;
    MT_EXPECT(mt_region_dirty_snapshot(r, 0, PG, MT_DIRTY_NR_CLIENTS, &s),
              MT_EINVAL);
    MT_EXPECT(mt_region_dirty_snapshot(r, 0, PG, MT_DIRTY_MIGRATION, &s),
              MT_EINVAL); /* a mask, not a client number */
    MT_EXPECT(mt_region_dirty_snapshot(r, 0, PG, 0, NULL), MT_EINVAL);
    MT_EXPECT(mt_region_dirty_snapshot(NULL, 0, PG, 0, &s), MT_EINVAL);
    MT_EXPECT(mt_region_dirty_snapshot(ct, 0, PG, 0, &s), MT_EKIND);
    MT_EXPECT(mt_region_dirty_snapshot(r, 301 * PG, PG, 0, &s), MT_ERANGE);
    MT_EXPECT(mt_region_dirty_snapshot(r, 299 * PG, 2 * PG, 0, &s),
              MT_ERANGE);
    MT_EXPECT(mt_region_dirty_snapshot(r, PG, UINT64_MAX, 0, &s), MT_ERANGE);
    assert_null(s);
    mt_ctx_free(ctx);
}

/* A snapshot allocated through a failing allocator: MT_ENOMEM, and the
 * bits are not lost. */
static void test_snapshot_enomem_keeps_bits(void **state)
{
    (void)state;
    t_alloc_state st = { .budget = -1 };
    mt_allocator a = t_allocator(&st);
    mt_ctx *ctx = NULL;
    mt_region *r = NULL;
    mt_dirty_snapshot *s = NULL;

    MT_OK(mt_ctx_new(&ctx, &a));
    MT_OK(mt_region_new_ram(ctx, "ram", 64 * PG, &r));
    clear_all(r);
    MT_OK(mt_region_dirty_set(r, 5 * PG, 1, MT_DIRTY_VGA));
    st.budget = 0;
    MT_EXPECT(mt_region_dirty_snapshot(r, 0, 64 * PG, MT_DIRTY_CLIENT_VGA,
                                       &s),
              MT_ENOMEM);
    st.budget = -1;
    assert_true(is_dirty(r, 5 * PG, 1, MT_DIRTY_CLIENT_VGA));
    MT_OK(mt_region_dirty_snapshot(r, 0, 64 * PG, MT_DIRTY_CLIENT_VGA, &s));
    assert_int_equal(mt_dirty_snapshot_count(s), 1);
    mt_dirty_snapshot_free(s);
    mt_ctx_free(ctx);
    assert_int_equal(st.live, 0);
}

/* ------------------------------------------------------------------------ */
/* Merges (the log_sync path)                                                */
/* ------------------------------------------------------------------------ */

static void test_merge(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *r = t_ram(ctx, "ram", 256 * PG);
    const unsigned VM = MT_DIRTY_VGA | MT_DIRTY_MIGRATION;

    clear_all(r);
    /* Word aligned: pages 0..99; bit 40 of word 1 (page 104) is past
     * npages and ignored. */
    uint64_t bm1[2] = { UINT64_C(0x8000000000000001),
                        UINT64_C(0xf) | (UINT64_C(1) << 40) };
    MT_OK(mt_region_dirty_merge(r, 0, bm1, 100, VM));
    EXPECT_MASK_PAGES(r, VM, 0, 63, 64, 65, 66, 67);

    /* Aligned at page 128, full first word. */
    uint64_t bm2[2] = { 1 | (UINT64_C(1) << 63), 1 };
    MT_OK(mt_region_dirty_merge(r, 128 * PG, bm2, 65, MT_DIRTY_CODE));
    EXPECT_MASK_PAGES(r, MT_DIRTY_CODE, 128, 191, 192);

    /* Unaligned: starts at the page holding byte 5P+17 (page 5). */
    uint64_t bm3[2] = { 1 | 2 | (UINT64_C(1) << 58) | (UINT64_C(1) << 59),
                        (UINT64_C(1) << 5) | (UINT64_C(1) << 6) };
    MT_OK(mt_region_dirty_merge(r, 5 * PG + 17, bm3, 70, MT_DIRTY_VGA));
    EXPECT_MASK_PAGES(r, MT_DIRTY_VGA, 5, 6, 63, 64, 74);

    /* Unaligned, across several words, every bit set. */
    uint64_t ones[3] = { UINT64_MAX, UINT64_MAX, UINT64_MAX };
    MT_OK(mt_region_dirty_merge(r, 70 * PG, ones, 130, ALL_CLIENTS));
    for (unsigned c = 0; c < MT_DIRTY_NR_CLIENTS; c++) {
        mt_dirty_snapshot *s = NULL;
        MT_OK(mt_region_dirty_snapshot(r, 0, 256 * PG, c, &s));
        assert_int_equal(mt_dirty_snapshot_count(s), 130);
        assert_int_equal(mt_dirty_snapshot_next(s, 0), 70 * PG);
        assert_int_equal(mt_dirty_snapshot_next(s, 200 * PG), UINT64_MAX);
        assert_true(mt_dirty_snapshot_get(s, 199 * PG));
        mt_dirty_snapshot_free(s);
    }

    /* Merging ORs: existing bits stay. */
    MT_OK(mt_region_dirty_set(r, 2 * PG, 1, MT_DIRTY_VGA));
    uint64_t bm4 = 1;
    MT_OK(mt_region_dirty_merge(r, 3 * PG, &bm4, 1, MT_DIRTY_VGA));
    uint64_t zero = 0;
    MT_OK(mt_region_dirty_merge(r, 0, &zero, 64, MT_DIRTY_VGA));
    EXPECT_MASK_PAGES(r, MT_DIRTY_VGA, 2, 3);

    /* Up to the last page, not beyond. */
    MT_OK(mt_region_dirty_merge(r, 250 * PG, ones, 6, MT_DIRTY_VGA));
    EXPECT_MASK_PAGES(r, MT_DIRTY_VGA, 250, 251, 252, 253, 254, 255);
    MT_EXPECT(mt_region_dirty_merge(r, 250 * PG, ones, 7, MT_DIRTY_VGA),
              MT_ERANGE);
    MT_EXPECT(mt_region_dirty_merge(r, 257 * PG, ones, 1, MT_DIRTY_VGA),
              MT_ERANGE);
    MT_EXPECT(mt_region_dirty_merge(r, 0, ones, UINT64_MAX, MT_DIRTY_VGA),
              MT_ERANGE);
    EXPECT_ALL_CLEAN(r);

    /* Bad arguments. */
    mt_region *ct = t_container(ctx, "ct", 256 * PG);
    MT_EXPECT(mt_region_dirty_merge(r, 0, ones, 1, 0x8), MT_EINVAL);
    MT_EXPECT(mt_region_dirty_merge(r, 0, NULL, 1, MT_DIRTY_VGA), MT_EINVAL);
    MT_OK(mt_region_dirty_merge(r, 0, NULL, 0, MT_DIRTY_VGA));
    MT_EXPECT(mt_region_dirty_merge(NULL, 0, ones, 1, MT_DIRTY_VGA),
              MT_EINVAL);
    MT_EXPECT(mt_region_dirty_merge(ct, 0, ones, 1, MT_DIRTY_VGA), MT_EKIND);
    EXPECT_ALL_CLEAN(r);
    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Bad arguments                                                             */
/* ------------------------------------------------------------------------ */

static void test_bad_args(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *r = t_ram(ctx, "ram", 16 * PG);
    mt_region *ct = t_container(ctx, "ct", 16 * PG);
    mt_region *io = t_io(ctx, "io", 16 * PG);
    mt_region *al = t_alias(ctx, "al", r, 0, 16 * PG);
    const uint64_t max = 16 * PG;
    bool d;

    /* set */
    MT_EXPECT(mt_region_dirty_set(NULL, 0, PG, MT_DIRTY_VGA), MT_EINVAL);
    MT_EXPECT(mt_region_dirty_set(ct, 0, PG, MT_DIRTY_VGA), MT_EKIND);
    MT_EXPECT(mt_region_dirty_set(io, 0, PG, MT_DIRTY_VGA), MT_EKIND);
    MT_EXPECT(mt_region_dirty_set(al, 0, PG, MT_DIRTY_VGA), MT_EKIND);
    MT_EXPECT(mt_region_dirty_set(r, 0, PG, 0x8), MT_EINVAL);
    MT_EXPECT(mt_region_dirty_set(r, 0, PG, ~0u), MT_EINVAL);
    MT_EXPECT(mt_region_dirty_set(r, max + 1, 0, MT_DIRTY_VGA), MT_ERANGE);
    MT_EXPECT(mt_region_dirty_set(r, 0, max + 1, MT_DIRTY_VGA), MT_ERANGE);
    MT_EXPECT(mt_region_dirty_set(r, PG, UINT64_MAX, MT_DIRTY_VGA),
              MT_ERANGE);
    MT_EXPECT(mt_region_dirty_set(r, UINT64_MAX, 2, MT_DIRTY_VGA), MT_ERANGE);
    MT_OK(mt_region_dirty_set(r, max, 0, MT_DIRTY_VGA));
    MT_OK(mt_region_dirty_set(r, 0, max, MT_DIRTY_VGA));

    /* get and test_and_clear */
    MT_EXPECT(mt_region_dirty_get(NULL, 0, PG, 0, &d), MT_EINVAL);
    MT_EXPECT(mt_region_dirty_get(ct, 0, PG, 0, &d), MT_EKIND);
    MT_EXPECT(mt_region_dirty_get(r, 0, PG, MT_DIRTY_NR_CLIENTS, &d),
              MT_EINVAL);
    MT_EXPECT(mt_region_dirty_get(r, 0, PG, 0, NULL), MT_EINVAL);
    MT_EXPECT(mt_region_dirty_get(r, max, PG, 0, &d), MT_ERANGE);
    MT_EXPECT(mt_region_dirty_get(r, 2 * PG, UINT64_MAX - PG, 0, &d),
              MT_ERANGE);
    MT_EXPECT(mt_region_dirty_test_and_clear(NULL, 0, PG, 0, &d), MT_EINVAL);
    MT_EXPECT(mt_region_dirty_test_and_clear(io, 0, PG, 0, &d), MT_EKIND);
    MT_EXPECT(mt_region_dirty_test_and_clear(r, 0, PG, 7, &d), MT_EINVAL);
    MT_EXPECT(mt_region_dirty_test_and_clear(r, 0, PG, 0, NULL), MT_EINVAL);
    MT_EXPECT(mt_region_dirty_test_and_clear(r, max + PG, PG, 0, &d),
              MT_ERANGE);
    /* None of the failures cleared anything. */
    EXPECT_PAGES(r, MT_DIRTY_CLIENT_VGA, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                 12, 13, 14, 15);
    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Concurrency                                                               */
/* ------------------------------------------------------------------------ */

/*
 * Two writer threads mark pages with mt_region_dirty_set while a collector
 * thread takes them with snapshots (word-aligned and unaligned spans) and
 * test_and_clear. The work is cut into epochs; within an epoch each page
 * is marked at most once, so a bit lost by the collector cannot be hidden
 * by a later mark. After each epoch, with the threads parked, every page
 * marked must have been taken or still be dirty, and nothing else.
 */
#define CPAGES 4096u
#define CWORDS (CPAGES / 64)
#define EPOCHS 150

typedef struct conc {
    mt_region *r;
    pthread_barrier_t start, end;
    atomic_int writers_left;
    atomic_int stop;
    uint64_t mine[2][CWORDS]; /* pages each writer marked this epoch */
    uint64_t taken[CWORDS];   /* pages the collector took this epoch */
    uint64_t seed[2];
    int errors[3];
    long snapshots;
} conc;

typedef struct writer_arg {
    conc *c;
    int id;
} writer_arg;

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static void *writer_main(void *p)
{
    writer_arg *a = p;
    conc *c = a->c;
    uint32_t order[CPAGES / 2];
    volatile uint64_t pace_sink;
    uint64_t pace = 1;

    for (;;) {
        pthread_barrier_wait(&c->start);
        if (atomic_load(&c->stop))
            break;
        /* This writer's pages (even or odd), in a random order, about
         * half of them, each at most once. */
        for (uint32_t i = 0; i < CPAGES / 2; i++)
            order[i] = 2 * i + (uint32_t)a->id;
        for (uint32_t i = CPAGES / 2 - 1; i > 0; i--) {
            uint32_t j = (uint32_t)(xorshift(&c->seed[a->id]) % (i + 1));
            uint32_t t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (uint32_t i = 0; i < CPAGES / 2; i++) {
            uint64_t page = order[i];

            if (xorshift(&c->seed[a->id]) & 1)
                continue;
            /* Pace the marks so that they spread over the collector's
             * snapshots rather than all land before the first one. */
            for (int k = 0; k < 200; k++)
                pace = xorshift(&pace) | 1;
            c->mine[a->id][page / 64] |= UINT64_C(1) << (page % 64);
            if (mt_region_dirty_set(c->r, page * PG + (page % 7) * 100, 1,
                                    MT_DIRTY_MIGRATION))
                c->errors[a->id]++;
        }
        pace_sink = pace;
        (void)pace_sink;
        atomic_fetch_sub(&c->writers_left, 1);
        pthread_barrier_wait(&c->end);
    }
    return NULL;
}

static void take_into(conc *c, uint64_t off, uint64_t len)
{
    mt_dirty_snapshot *s = NULL;
    uint64_t p;

    if (mt_region_dirty_snapshot(c->r, off, len, MT_DIRTY_CLIENT_MIGRATION,
                                 &s)) {
        c->errors[2]++;
        return;
    }
    for (p = mt_dirty_snapshot_next(s, 0); p != UINT64_MAX;
         p = mt_dirty_snapshot_next(s, p + PG))
        c->taken[(p / PG) / 64] |= UINT64_C(1) << ((p / PG) % 64);
    c->snapshots++;
    mt_dirty_snapshot_free(s);
}

static void *collector_main(void *p)
{
    conc *c = p;
    uint64_t seed = 0x9e3779b97f4a7c15u;

    for (;;) {
        pthread_barrier_wait(&c->start);
        if (atomic_load(&c->stop))
            break;
        while (atomic_load(&c->writers_left) > 0) {
            uint64_t x = xorshift(&seed);
            bool d = false;

            switch (x % 8) {
            case 0: case 1: case 2: case 3: /* whole block: aligned words */
                take_into(c, 0, (uint64_t)CPAGES * PG);
                break;
            case 4: /* unaligned start and end */
                take_into(c, 7 * PG + 5, (uint64_t)(CPAGES - 20) * PG);
                break;
            case 5: { /* a random small span */
                uint64_t first = (x >> 8) % (CPAGES - 160);
                take_into(c, first * PG, 150 * PG + 1);
                break;
            }
            default: { /* one page */
                uint64_t page = (x >> 8) % CPAGES;
                if (mt_region_dirty_test_and_clear(c->r, page * PG, 1,
                                                   MT_DIRTY_CLIENT_MIGRATION,
                                                   &d))
                    c->errors[2]++;
                else if (d)
                    c->taken[page / 64] |= UINT64_C(1) << (page % 64);
                break;
            }
            }
        }
        pthread_barrier_wait(&c->end);
    }
    return NULL;
}

static void test_concurrent_set_and_snapshot(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *r = t_ram(ctx, "ram", (uint64_t)CPAGES * PG);
    conc *c = calloc(1, sizeof(*c));
    writer_arg wa[2];
    pthread_t tw[2], tc;
    uint64_t lost = 0, spurious = 0, marked = 0, taken = 0;

    assert_non_null(c);
    clear_all(r);
    c->r = r;
    c->seed[0] = 0x1234567u;
    c->seed[1] = 0x7654321u;
    atomic_init(&c->stop, 0);
    atomic_init(&c->writers_left, 2);
    assert_int_equal(pthread_barrier_init(&c->start, NULL, 4), 0);
    assert_int_equal(pthread_barrier_init(&c->end, NULL, 4), 0);
    assert_int_equal(pthread_create(&tc, NULL, collector_main, c), 0);
    for (int i = 0; i < 2; i++) {
        wa[i].c = c;
        wa[i].id = i;
        assert_int_equal(pthread_create(&tw[i], NULL, writer_main, &wa[i]),
                         0);
    }
    for (int e = 0; e < EPOCHS; e++) {
        mt_dirty_snapshot *s = NULL;

        pthread_barrier_wait(&c->start);
        pthread_barrier_wait(&c->end);
        /* Threads parked: check this epoch. */
        MT_OK(mt_region_dirty_snapshot(r, 0, (uint64_t)CPAGES * PG,
                                       MT_DIRTY_CLIENT_MIGRATION, &s));
        for (uint64_t p = 0; p < CPAGES; p++) {
            uint64_t w = p / 64, b = UINT64_C(1) << (p % 64);
            bool set = ((c->mine[0][w] | c->mine[1][w]) & b) != 0;
            bool took = (c->taken[w] & b) != 0;
            bool still = mt_dirty_snapshot_get(s, p * PG);

            marked += set;
            taken += took;
            if (set && !took && !still)
                lost++;
            if (!set && (took || still))
                spurious++;
        }
        mt_dirty_snapshot_free(s);
        memset(c->mine, 0, sizeof(c->mine));
        memset(c->taken, 0, sizeof(c->taken));
        atomic_store(&c->writers_left, 2);
    }
    atomic_store(&c->stop, 1);
    pthread_barrier_wait(&c->start);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(tw[i], NULL), 0);
    assert_int_equal(pthread_join(tc, NULL), 0);
    pthread_barrier_destroy(&c->start);
    pthread_barrier_destroy(&c->end);

    print_message("%d epochs: %llu pages marked, %llu taken concurrently "
                  "(%ld snapshots)\n", EPOCHS, (unsigned long long)marked,
                  (unsigned long long)taken, c->snapshots);
    assert_int_equal(c->errors[0] + c->errors[1] + c->errors[2], 0);
    if (lost || spurious)
        fail_msg("%llu of %llu marked pages lost, %llu spurious",
                 (unsigned long long)lost, (unsigned long long)marked,
                 (unsigned long long)spurious);
    assert_true(marked > (uint64_t)EPOCHS * CPAGES / 4);
    /* The other clients never saw a thing. */
    EXPECT_CLEAN(r, MT_DIRTY_CLIENT_VGA);
    EXPECT_CLEAN(r, MT_DIRTY_CLIENT_CODE);
    free(c);
    mt_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_paths_mark_logging_clients),
        cmocka_unit_test(test_write_mapping_partial_access),
        cmocka_unit_test(test_new_blocks_start_dirty),
        cmocka_unit_test(test_get_vs_test_and_clear),
        cmocka_unit_test(test_snapshot_spans),
        cmocka_unit_test(test_snapshot_enomem_keeps_bits),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_concurrent_set_and_snapshot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
