/* SPDX-License-Identifier: MIT */
/*
 * test_kvm_slots.c: the memslot rules of the KVM backend (QEMU 7.2,
 * ../shared/docs/qemu-memory-reference.md §7, checklist 46-53), checked on
 * the slot table of a dry-run backend (no /dev/kvm needed). The ioctl
 * order of deletes and adds, dirty-log harvesting and KVM_CLEAR_DIRTY_LOG
 * need a real VM: tests/kvm covers them.
 */
#include "mt_testutil.h"

static mt_kvm *dry(mt_as *as, uint64_t max_slot_size)
{
    mt_kvm_opts o = { .vm_fd = -1, .max_slot_size = max_slot_size };
    mt_kvm *k = NULL;

    MT_OK(mt_kvm_new(as, &o, &k));
    assert_non_null(k);
    return k;
}

static void check_slot(const mt_kvm *k, size_t i, uint64_t gpa, uint64_t size,
                       uint32_t flags, const mt_region *r, uint64_t off)
{
    const mt_kvm_slot *s = mt_kvm_slot_at(k, i);

    assert_non_null(s);
    assert_int_equal(s->gpa, gpa);
    assert_int_equal(s->size, size);
    assert_int_equal(s->flags, flags);
    assert_ptr_equal(s->region, r);
    assert_int_equal(s->offset, off);
    assert_ptr_equal(s->hva, (uint8_t *)mt_region_ram_ptr(r) + off);
}

/* 46: start rounded up, size rounded down to the host page; empty: none. */
static void test_item46_slots_aligned_to_host_pages(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *ram = t_ram(ctx, "ram", 0x10000);
    mt_region *small = t_ram(ctx, "small", 0x1000);
    mt_region *io = t_io(ctx, "io", 0x100);
    mt_as *as = t_as(ctx, sys, "memory");

    /* An I/O region over the first bytes: the RAM range starts unaligned. */
    t_map(sys, 0x100000, ram);
    t_map_prio(sys, 0x100000, io, 1);
    /* A 4 KiB region straddling two pages keeps no whole page. */
    t_map(sys, 0x200800, small);
    mt_kvm *k = dry(as, 0);
    assert_int_equal(mt_kvm_nr_slots(k), 1);
    check_slot(k, 0, 0x101000, 0xf000, 0, ram, 0x1000);
    assert_false(mt_kvm_has_memory(k, 0x100100, 0xff00));
    assert_true(mt_kvm_has_memory(k, 0x101000, 0xf000));
    mt_kvm_free(k);
    mt_ctx_free(ctx);
}

/* 47: split at the maximum slot size; lookups by exact (start, size). */
static void test_item47_split_at_max_slot_size(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *ram = t_ram(ctx, "ram", 0x5000);
    mt_as *as = t_as(ctx, sys, "memory");

    t_map(sys, 0x10000, ram);
    mt_kvm *k = dry(as, 0x2000);
    assert_int_equal(mt_kvm_nr_slots(k), 3);
    check_slot(k, 0, 0x10000, 0x2000, 0, ram, 0);
    check_slot(k, 1, 0x12000, 0x2000, 0, ram, 0x2000);
    check_slot(k, 2, 0x14000, 0x1000, 0, ram, 0x4000);
    /* has_memory asks for min(size, max_slot_size) at the start. */
    assert_true(mt_kvm_has_memory(k, 0x10000, 0x5000));
    assert_false(mt_kvm_has_memory(k, 0x11000, 0x1000));
    /* Unmapping removes every piece. */
    MT_OK(mt_region_del_subregion(sys, ram));
    assert_int_equal(mt_kvm_nr_slots(k), 0);
    mt_kvm_free(k);
    mt_ctx_free(ctx);
}

/* 48: READONLY comes from the region's own kind and follows it. */
static void test_item48_readonly_follows_the_region(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *ram = t_ram(ctx, "ram", 0x2000);
    mt_region *rom = t_rom(ctx, "rom", 0x1000);
    mt_region *ro_alias = t_alias(ctx, "ro-alias", ram, 0x1000, 0x1000);
    mt_as *as = t_as(ctx, sys, "memory");

    t_map(sys, 0, ram);
    t_map(sys, 0x10000, rom);
    MT_OK(mt_region_set_readonly(ro_alias, true));
    t_map(sys, 0x20000, ro_alias);
    mt_kvm *k = dry(as, 0);
    assert_int_equal(mt_kvm_nr_slots(k), 3);
    check_slot(k, 0, 0, 0x2000, 0, ram, 0);
    check_slot(k, 1, 0x10000, 0x1000, MT_KVM_MEM_READONLY, rom, 0);
    /* RAM behind a read-only alias shows `rom` but gets a writable slot. */
    check_slot(k, 2, 0x20000, 0x1000, 0, ram, 0x1000);
    /* Turning the RAM read-only re-creates its slot read-only. */
    MT_OK(mt_region_set_readonly(ram, true));
    check_slot(k, 0, 0, 0x2000, MT_KVM_MEM_READONLY, ram, 0);
    MT_OK(mt_region_set_readonly(ram, false));
    check_slot(k, 0, 0, 0x2000, 0, ram, 0);
    mt_kvm_free(k);
    mt_ctx_free(ctx);
}

/* 49 (and 29): MMIO never gets a slot; a ROM device only in ROMD mode;
 * RAM devices do. */
static void test_item49_what_gets_slots(void **state)
{
    (void)state;
    static uint8_t bar[0x1000];
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *io = t_io(ctx, "io", 0x1000);
    mt_region *romd = t_romd(ctx, "flash", 0x2000);
    mt_region *ramd = NULL;
    mt_as *as = t_as(ctx, sys, "memory");

    MT_OK(mt_region_new_ram_device(ctx, "bar", sizeof(bar), bar, &ramd));
    t_map(sys, 0x1000, io);
    t_map(sys, 0x10000, romd);
    t_map(sys, 0x20000, ramd);
    mt_kvm *k = dry(as, 0);
    assert_int_equal(mt_kvm_nr_slots(k), 2);
    check_slot(k, 0, 0x10000, 0x2000, MT_KVM_MEM_READONLY, romd, 0);
    check_slot(k, 1, 0x20000, 0x1000, 0, ramd, 0);
    MT_OK(mt_region_set_romd(romd, false)); /* MMIO mode: slot removed */
    assert_int_equal(mt_kvm_nr_slots(k), 1);
    check_slot(k, 0, 0x20000, 0x1000, 0, ramd, 0);
    MT_OK(mt_region_set_romd(romd, true));
    assert_int_equal(mt_kvm_nr_slots(k), 2);
    mt_kvm_free(k);
    mt_ctx_free(ctx);
}

/* 50/51 (table side): a logged range's slot carries LOG_DIRTY_PAGES; slot
 * numbers are reused lowest first; a moved region's slot is replaced. */
static void test_item50_flags_reuse_and_moves(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *a = t_ram(ctx, "a", 0x1000);
    mt_region *b = t_ram(ctx, "b", 0x1000);
    mt_region *c = t_ram(ctx, "c", 0x1000);
    mt_as *as = t_as(ctx, sys, "memory");

    t_map(sys, 0x1000, a);
    t_map(sys, 0x2000, b);
    mt_kvm *k = dry(as, 0);
    assert_int_equal(mt_kvm_slot_at(k, 0)->slot, 0);
    assert_int_equal(mt_kvm_slot_at(k, 1)->slot, 1);
    MT_OK(mt_region_set_dirty_log(b, true));
    assert_int_equal(mt_kvm_slot_at(k, 1)->flags, MT_KVM_MEM_LOG_DIRTY_PAGES);
    MT_OK(mt_region_del_subregion(sys, a));
    t_map(sys, 0x8000, c); /* takes slot 0, freed by a */
    assert_int_equal(mt_kvm_nr_slots(k), 2);
    assert_int_equal(mt_kvm_slot_at(k, 1)->gpa, 0x8000);
    assert_int_equal(mt_kvm_slot_at(k, 1)->slot, 0);
    MT_OK(mt_region_set_address(b, 0x4000));
    check_slot(k, 0, 0x4000, 0x1000, MT_KVM_MEM_LOG_DIRTY_PAGES, b, 0);
    mt_kvm_free(k);
    mt_ctx_free(ctx);
}

/* Only the address space the backend listens to gets slots and markers. */
static void test_kvm_note_only_for_its_address_space(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *ram = t_ram(ctx, "ram", 0x1000);
    mt_as *mem = t_as(ctx, sys, "memory");
    mt_as *cpu = t_as(ctx, sys, "cpu-memory-0"); /* shares the view */

    t_map(sys, 0, ram);
    mt_kvm *k = dry(mem, 0);
    mt_flatview *fv = mt_as_flatview(mem);
    const mt_flat_range *fr = mt_flatview_range(fv, 0);

    assert_string_equal(mt_kvm_note(k, mem, fr), " KVM");
    assert_null(mt_kvm_note(k, cpu, fr));
    mt_flatview_unref(fv);
    mt_kvm_free(k);
    mt_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_item46_slots_aligned_to_host_pages),
        cmocka_unit_test(test_item47_split_at_max_slot_size),
        cmocka_unit_test(test_item48_readonly_follows_the_region),
        cmocka_unit_test(test_item49_what_gets_slots),
        cmocka_unit_test(test_item50_flags_reuse_and_moves),
        cmocka_unit_test(test_kvm_note_only_for_its_address_space),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
