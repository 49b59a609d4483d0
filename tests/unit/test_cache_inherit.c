/* SPDX-License-Identifier: MIT */
/*
 * test_cache_inherit.c: a commit that patches a large view seeds the new
 * view's page cache from the old one (flatview.c, mt__fv_tlb_inherit).
 * What was true stays true; every page the commit changed answers from
 * the new map, whatever the old cache said about it.
 */
#include "mt_testutil.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_moved_region_answers_from_new_place),
        cmocka_unit_test(test_readonly_and_dirty_logging_change_pages),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
