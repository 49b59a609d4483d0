/* SPDX-License-Identifier: MIT */
/*
 * test_kvm_guest.c: the KVM backend on real guest code. Each test builds a
 * small machine with the public API (RAM at 0, the interpreter guest of
 * guest/interp.asm as a 4 KiB ROM ending at 4 GiB, a port space with a
 * control port at 0xf0), attaches the backend, and has the guest run a
 * script of accesses written into its RAM. Needs /dev/kvm: without it (or
 * when KVM refuses to run a vCPU) the program prints why and exits 77,
 * which CTest reports as skipped.
 *
 * usage: test_kvm_guest [TEST-NAME-PATTERN]
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/kvm.h>

#include "memtree.h"
#include "kvm_usable.h"

#ifndef KVM_GUEST_BIN
#error "KVM_GUEST_BIN: path of the assembled guest/interp.asm"
#endif

#define MiB (UINT64_C(1) << 20)

#define RAM_SIZE   (1 * MiB)
#define ROM_BASE   UINT64_C(0xfffff000)
#define ROM_SIZE   0x1000u
#define SCRIPT     0x1000u     /* where the guest reads its script */
#define CTL_PORT   0xf0u

#define MT_OK(expr)                                                          \
    do {                                                                     \
        int rc_ = (expr);                                                    \
        if (rc_ != 0)                                                        \
            fail_msg("%s returned %d (%s)", #expr, rc_, mt_err_name(rc_));   \
    } while (0)

/* ---- the script ----------------------------------------------------------- */

enum { OP_YIELD, OP_WRITE, OP_READ, OP_OUT, OP_IN, OP_OUTS, OP_INS, OP_HLT };

struct entry {
    uint8_t op;
    uint8_t size;
    uint16_t count;
    uint32_t addr;
    uint64_t value;
};

_Static_assert(sizeof(struct entry) == 16, "script entry layout");

/* ---- a log of device accesses, shared by every test device ---------------- */

struct access {
    char dev;       /* which device */
    bool write;
    uint64_t offset;
    unsigned size;
    uint64_t value;
};

static struct access acc[256];
static unsigned nacc;

static void log_access(char dev, bool write, uint64_t off, unsigned size,
                       uint64_t value)
{
    if (nacc < sizeof(acc) / sizeof(acc[0]))
        acc[nacc++] = (struct access){ dev, write, off, size, value };
}

/* What a recording device returns for a read of @size at @off. */
static uint64_t read_value(uint64_t off, unsigned size)
{
    uint64_t v = UINT64_C(0x8877665544332211) + off;

    return size >= 8 ? v : v & ((UINT64_C(1) << (size * 8)) - 1);
}

static mt_result rec_read(void *opaque, uint64_t off, uint64_t *value,
                          unsigned size, mt_attrs attrs)
{
    (void)attrs;
    *value = read_value(off, size);
    log_access((char)(uintptr_t)opaque, false, off, size, *value);
    return MT_TX_OK;
}

static mt_result rec_write(void *opaque, uint64_t off, uint64_t value,
                           unsigned size, mt_attrs attrs)
{
    (void)attrs;
    log_access((char)(uintptr_t)opaque, true, off, size, value);
    return MT_TX_OK;
}

/* MMIO: every size up to 8 in one call. */
static const mt_ops rec_mmio_ops = {
    .read = rec_read,
    .write = rec_write,
    .endian = MT_ENDIAN_LITTLE,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
    .impl = { .min_access_size = 1, .max_access_size = 8 },
};

/* Ports: 1, 2 or 4 bytes in one call. */
static const mt_ops rec_pio_ops = {
    .read = rec_read,
    .write = rec_write,
    .endian = MT_ENDIAN_LITTLE,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

/* ---- the machine ------------------------------------------------------------ */

struct tvm {
    mt_ctx *ctx;
    mt_region *system, *ram, *rom, *io_root, *ctl;
    mt_as *mem, *io;
    mt_kvm_vm *vm;
    mt_kvm *kvm;
    mt_kvm_vcpu *vcpu;
    uint8_t *ramp;
    struct entry *script;
    unsigned n;
    int ring_rc;        /* why the dirty ring could not be had, or 0 */
    int ring_errno;
    unsigned ctl_calls;     /* control writes, and those during which */
    unsigned ctl_current;   /* mt_kvm_vcpu_current() was our vCPU */
};

static mt_result ctl_write(void *opaque, uint64_t off, uint64_t value,
                           unsigned size, mt_attrs attrs)
{
    struct tvm *t = opaque;

    (void)off, (void)size, (void)attrs;
    t->ctl_calls++;
    t->ctl_current += mt_kvm_vcpu_current() == t->vcpu;
    mt_kvm_vcpu_stop(mt_kvm_vcpu_current(), (int)(value & 0xff));
    return MT_TX_OK;
}

static const mt_ops ctl_ops = {
    .write = ctl_write,
    .valid = { .min_access_size = 1, .max_access_size = 1 },
};

static void *load_guest(size_t *len)
{
    static uint8_t buf[ROM_SIZE];
    FILE *f = fopen(KVM_GUEST_BIN, "rb");
    size_t n;

    if (!f)
        return NULL;
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    *len = n;
    return n == ROM_SIZE ? buf : NULL;
}

static int setup_with(void **state, size_t dirty_ring_bytes)
{
    struct tvm *t = calloc(1, sizeof(*t));
    size_t len;
    void *guest = load_guest(&len);

    assert_non_null(t);
    if (!guest)
        fail_msg("cannot read the guest %s", KVM_GUEST_BIN);
    MT_OK(mt_ctx_new(&t->ctx, NULL));
    MT_OK(mt_region_new_container(t->ctx, "system", MT_SIZE_FULL,
                                  &t->system));
    MT_OK(mt_region_new_ram(t->ctx, "ram", RAM_SIZE, &t->ram));
    MT_OK(mt_region_add_subregion(t->system, 0, t->ram));
    MT_OK(mt_region_new_rom(t->ctx, "guest.rom", ROM_SIZE, &t->rom));
    memcpy(mt_region_ram_ptr(t->rom), guest, ROM_SIZE);
    MT_OK(mt_region_add_subregion(t->system, ROM_BASE, t->rom));
    MT_OK(mt_region_new_io(t->ctx, "io", 0x10000, mt_ops_unassigned_io(),
                           NULL, &t->io_root));
    MT_OK(mt_region_new_io(t->ctx, "ctl", 1, &ctl_ops, t, &t->ctl));
    MT_OK(mt_region_add_subregion(t->io_root, CTL_PORT, t->ctl));
    MT_OK(mt_as_new(t->ctx, t->system, "memory", &t->mem));
    MT_OK(mt_as_new(t->ctx, t->io_root, "I/O", &t->io));

    if (dirty_ring_bytes) {
        /* Without a ring, the test skips itself (after this setup). */
        t->ring_rc = mt_kvm_vm_new(
            &(mt_kvm_vm_opts){ .dirty_ring_bytes = dirty_ring_bytes },
            &t->vm);
        t->ring_errno = errno;
    }
    if (!t->vm)
        MT_OK(mt_kvm_vm_new(NULL, &t->vm));
    MT_OK(mt_kvm_new(t->mem, &(mt_kvm_opts){ .vm = t->vm }, &t->kvm));
    MT_OK(mt_kvm_attach_io(t->kvm, t->io));
    MT_OK(mt_kvm_vcpu_new(t->vm, 0, t->mem, t->io, &t->vcpu));
    t->ramp = mt_region_ram_ptr(t->ram);
    t->script = (struct entry *)(t->ramp + SCRIPT);
    nacc = 0;
    *state = t;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, 0);
}

/* A VM whose vCPUs have 64 KiB dirty rings. */
static int setup_ring(void **state)
{
    return setup_with(state, 64 * 1024);
}

static int teardown(void **state)
{
    struct tvm *t = *state;

    mt_kvm_vcpu_free(t->vcpu);
    mt_kvm_free(t->kvm);
    mt_kvm_vm_free(t->vm);
    mt_ctx_free(t->ctx);
    free(t);
    return 0;
}

/* Script building: entries are written straight into guest RAM. */
static void script_reset(struct tvm *t)
{
    t->n = 0;
}

static unsigned op(struct tvm *t, uint8_t code, uint8_t size, uint32_t addr,
                   uint64_t value)
{
    t->script[t->n] = (struct entry){ code, size, 1, addr, value };
    return t->n++;
}

static unsigned op_rep(struct tvm *t, uint8_t code, uint8_t size,
                       uint16_t count, uint32_t port, uint64_t value)
{
    t->script[t->n] = (struct entry){ code, size, count, port, value };
    return t->n++;
}

static uint64_t result(struct tvm *t, unsigned i)
{
    return t->script[i].value;
}

static mt_kvm_vcpu_stats stats(struct tvm *t)
{
    mt_kvm_vcpu_stats s;

    MT_OK(mt_kvm_vcpu_get_stats(t->vcpu, &s));
    return s;
}

/* End the script with YIELD @code (replacing the yield of an earlier run
 * of the same script), run until the guest reaches it. */
static void run_script(struct tvm *t, int code)
{
    mt_kvm_exit ex;
    char regs[256];

    if (t->n && t->script[t->n - 1].op == OP_YIELD)
        t->n--;
    op(t, OP_YIELD, 1, 0, (uint64_t)code);
    MT_OK(mt_kvm_vcpu_run(t->vcpu, &ex));
    if (ex.kind != MT_KVM_EXIT_STOP || ex.stop_code != code) {
        mt_kvm_vcpu_describe(t->vcpu, regs, sizeof(regs));
        fail_msg("run ended with kind %d (kvm reason %u, stop code %d), "
                 "expected the yield %d; %s", ex.kind, ex.kvm_reason,
                 ex.stop_code, code, regs);
    }
}

static const mt_kvm_slot *slot_at(struct tvm *t, uint64_t gpa)
{
    for (size_t i = 0; i < mt_kvm_nr_slots(t->kvm); i++) {
        const mt_kvm_slot *s = mt_kvm_slot_at(t->kvm, i);

        if (gpa >= s->gpa && gpa - s->gpa < s->size)
            return s;
    }
    return NULL;
}

static void expect_access(unsigned i, char dev, bool write, uint64_t off,
                          unsigned size, uint64_t value)
{
    if (i >= nacc)
        fail_msg("access %u missing (only %u logged)", i, nacc);
    if (acc[i].dev != dev || acc[i].write != write || acc[i].offset != off ||
        acc[i].size != size || acc[i].value != value)
        fail_msg("access %u: got %c %s off %#llx size %u value %#llx; "
                 "expected %c %s off %#llx size %u value %#llx", i,
                 acc[i].dev, acc[i].write ? "write" : "read",
                 (unsigned long long)acc[i].offset, acc[i].size,
                 (unsigned long long)acc[i].value, dev,
                 write ? "write" : "read", (unsigned long long)off, size,
                 (unsigned long long)value);
}

/* ---- tests ------------------------------------------------------------------ */

/* The machine as KVM sees it: RAM and the ROM (read-only) in slots. */
static void test_boot_and_slots(void **state)
{
    struct tvm *t = *state;
    const mt_kvm_slot *s;
    mt_kvm_exit ex;

    s = slot_at(t, 0);
    assert_non_null(s);
    assert_int_equal(s->size, RAM_SIZE);
    assert_int_equal(s->flags, 0);
    s = slot_at(t, ROM_BASE);
    assert_non_null(s);
    assert_int_equal(s->flags, MT_KVM_MEM_READONLY);
    assert_int_equal(mt_kvm_error(t->kvm), 0);

    /* Reset vector -> protected mode -> script; then a HLT exit that the
     * caller gets, and resuming continues after it. */
    script_reset(t);
    op(t, OP_HLT, 0, 0, 0);
    op(t, OP_YIELD, 1, 0, 42);
    MT_OK(mt_kvm_vcpu_run(t->vcpu, &ex));
    assert_int_equal(ex.kind, MT_KVM_EXIT_HLT);
    MT_OK(mt_kvm_vcpu_run(t->vcpu, &ex));
    assert_int_equal(ex.kind, MT_KVM_EXIT_STOP);
    assert_int_equal(ex.stop_code, 42);
    /* Yielding restarts the script: HLT again. */
    MT_OK(mt_kvm_vcpu_run(t->vcpu, &ex));
    assert_int_equal(ex.kind, MT_KVM_EXIT_HLT);
    /* The control device found the vCPU it runs on; outside a run there
     * is none. */
    assert_int_equal(t->ctl_calls, 1);
    assert_int_equal(t->ctl_current, 1);
    assert_null(mt_kvm_vcpu_current());
}

/* RAM: guest stores reach host memory, host stores reach the guest, and
 * neither exits to userspace. */
static void test_ram(void **state)
{
    struct tvm *t = *state;
    uint64_t host = UINT64_C(0xdeadbeefcafef00d), v8;
    unsigned r4, r8;
    mt_kvm_vcpu_stats s0, s1;

    memcpy(t->ramp + 0x8000, &host, 8);
    script_reset(t);
    r4 = op(t, OP_READ, 4, 0x8000, 0);
    r8 = op(t, OP_READ, 8, 0x8000, 0);
    op(t, OP_WRITE, 1, 0x9000, 0x11);
    op(t, OP_WRITE, 2, 0x9002, 0x2233);
    op(t, OP_WRITE, 4, 0x9004, 0x44556677);
    op(t, OP_WRITE, 8, 0x9008, UINT64_C(0x0102030405060708));
    s0 = stats(t);
    run_script(t, 1);
    s1 = stats(t);
    assert_int_equal(result(t, r4), 0xcafef00d);
    assert_int_equal(result(t, r8), host);
    assert_int_equal(t->ramp[0x9000], 0x11);
    assert_int_equal(t->ramp[0x9002] | t->ramp[0x9003] << 8, 0x2233);
    memcpy(&v8, t->ramp + 0x9004, 4);
    assert_int_equal(v8 & 0xffffffff, 0x44556677);
    memcpy(&v8, t->ramp + 0x9008, 8);
    assert_int_equal(v8, UINT64_C(0x0102030405060708));
    assert_int_equal(s1.mmio - s0.mmio, 0);
    assert_int_equal(s1.pio - s0.pio, 1); /* the yield */
}

/* ROM: the slot is read-only, a guest store exits as MMIO and the access
 * path refuses it, as in QEMU: the ROM keeps its bytes. */
static void test_rom_write_dropped(void **state)
{
    struct tvm *t = *state;
    mt_region *rom;
    uint8_t *p;
    unsigned r;
    mt_kvm_vcpu_stats s0, s1;

    MT_OK(mt_region_new_rom(t->ctx, "test.rom", 0x1000, &rom));
    p = mt_region_ram_ptr(rom);
    memset(p, 0x5a, 0x1000);
    MT_OK(mt_region_add_subregion(t->system, 0xfffe0000, rom));
    assert_non_null(slot_at(t, 0xfffe0000));
    assert_int_equal(slot_at(t, 0xfffe0000)->flags, MT_KVM_MEM_READONLY);

    script_reset(t);
    op(t, OP_WRITE, 4, 0xfffe0010, 0x12345678);
    op(t, OP_WRITE, 1, 0xfffe0020, 0x00);
    r = op(t, OP_READ, 4, 0xfffe0010, 0);
    s0 = stats(t);
    run_script(t, 2);
    s1 = stats(t);
    assert_int_equal(result(t, r), 0x5a5a5a5a);
    assert_int_equal(p[0x10], 0x5a);
    assert_int_equal(p[0x20], 0x5a);
    assert_int_equal(s1.mmio - s0.mmio, 2); /* the two stores, not the load */
    mt_region_unref(rom);
}

/* ROM device: in ROMD mode reads come from memory without an exit; in
 * MMIO mode (switched while the vCPU is stopped) they reach the device.
 * Writes reach the device in both modes. */
static void test_romd_switch(void **state)
{
    struct tvm *t = *state;
    mt_region *flash;
    unsigned r;
    mt_kvm_vcpu_stats s0, s1;

    MT_OK(mt_region_new_rom_device(t->ctx, "flash", 0x1000, &rec_mmio_ops,
                                   (void *)(uintptr_t)'F', &flash));
    memset(mt_region_ram_ptr(flash), 0xa5, 0x1000);
    MT_OK(mt_region_add_subregion(t->system, 0xfffe0000, flash));
    assert_non_null(slot_at(t, 0xfffe0000));

    script_reset(t);
    r = op(t, OP_READ, 4, 0xfffe0020, 0);
    op(t, OP_WRITE, 2, 0xfffe0040, 0xbeef);

    s0 = stats(t);
    run_script(t, 3);
    s1 = stats(t);
    assert_int_equal(result(t, r), 0xa5a5a5a5);
    assert_int_equal(s1.mmio - s0.mmio, 1); /* only the write */
    assert_int_equal(nacc, 1);
    expect_access(0, 'F', true, 0x40, 2, 0xbeef);

    MT_OK(mt_region_set_romd(flash, false));
    assert_null(slot_at(t, 0xfffe0000));
    nacc = 0;
    t->script[r].value = 0;
    s0 = stats(t);
    run_script(t, 4);
    s1 = stats(t);
    assert_int_equal(result(t, r), read_value(0x20, 4));
    assert_int_equal(s1.mmio - s0.mmio, 2);
    assert_int_equal(nacc, 2);
    expect_access(0, 'F', false, 0x20, 4, read_value(0x20, 4));
    expect_access(1, 'F', true, 0x40, 2, 0xbeef);

    MT_OK(mt_region_set_romd(flash, true));
    assert_non_null(slot_at(t, 0xfffe0000));
    nacc = 0;
    run_script(t, 5);
    assert_int_equal(result(t, r), 0xa5a5a5a5);
    assert_int_equal(nacc, 1);
    mt_region_unref(flash);
}

/* MMIO exits of every size, both directions; holes read as zeros. */
static void test_mmio_sizes(void **state)
{
    struct tvm *t = *state;
    mt_region *dev;
    unsigned r1, r2, r4, r8, hole;
    mt_kvm_vcpu_stats s0, s1;

    MT_OK(mt_region_new_io(t->ctx, "mmio-rec", 0x1000, &rec_mmio_ops,
                           (void *)(uintptr_t)'M', &dev));
    MT_OK(mt_region_add_subregion(t->system, 0xfe000000, dev));
    script_reset(t);
    op(t, OP_WRITE, 1, 0xfe000001, 0xab);
    op(t, OP_WRITE, 2, 0xfe000002, 0xabcd);
    op(t, OP_WRITE, 4, 0xfe000004, 0x89abcdef);
    op(t, OP_WRITE, 8, 0xfe000008, UINT64_C(0x0123456789abcdef));
    r1 = op(t, OP_READ, 1, 0xfe000011, 0);
    r2 = op(t, OP_READ, 2, 0xfe000012, 0);
    r4 = op(t, OP_READ, 4, 0xfe000014, 0);
    r8 = op(t, OP_READ, 8, 0xfe000018, 0);
    hole = op(t, OP_READ, 4, 0xfd800000, UINT64_C(0x5555555555555555));
    s0 = stats(t);
    run_script(t, 6);
    s1 = stats(t);
    assert_int_equal(s1.mmio - s0.mmio, 9);
    assert_int_equal(nacc, 8);
    expect_access(0, 'M', true, 0x1, 1, 0xab);
    expect_access(1, 'M', true, 0x2, 2, 0xabcd);
    expect_access(2, 'M', true, 0x4, 4, 0x89abcdef);
    expect_access(3, 'M', true, 0x8, 8, UINT64_C(0x0123456789abcdef));
    expect_access(4, 'M', false, 0x11, 1, read_value(0x11, 1));
    expect_access(5, 'M', false, 0x12, 2, read_value(0x12, 2));
    expect_access(6, 'M', false, 0x14, 4, read_value(0x14, 4));
    expect_access(7, 'M', false, 0x18, 8, read_value(0x18, 8));
    assert_int_equal(result(t, r1) & 0xff, read_value(0x11, 1));
    assert_int_equal(result(t, r2) & 0xffff, read_value(0x12, 2));
    assert_int_equal(result(t, r4) & 0xffffffff, read_value(0x14, 4));
    assert_int_equal(result(t, r8), read_value(0x18, 8));
    /* An unassigned address reads as zeros (the upper half is untouched). */
    assert_int_equal(result(t, hole), UINT64_C(0x5555555500000000));
    mt_region_unref(dev);
}

/* Port I/O exits of every size, string I/O (count > 1), unassigned ports. */
static void test_pio_sizes(void **state)
{
    struct tvm *t = *state;
    mt_region *dev;
    unsigned i1, i2, i4, ins, hole;
    mt_kvm_vcpu_stats s0, s1;

    MT_OK(mt_region_new_io(t->ctx, "pio-rec", 8, &rec_pio_ops,
                           (void *)(uintptr_t)'P', &dev));
    MT_OK(mt_region_add_subregion(t->io_root, 0x300, dev));
    script_reset(t);
    op(t, OP_OUT, 1, 0x300, 0x12);
    op(t, OP_OUT, 2, 0x302, 0x3456);
    op(t, OP_OUT, 4, 0x304, 0x789abcde);
    i1 = op(t, OP_IN, 1, 0x301, 0);
    i2 = op(t, OP_IN, 2, 0x302, 0);
    i4 = op(t, OP_IN, 4, 0x304, 0);
    op_rep(t, OP_OUTS, 2, 3, 0x302, UINT64_C(0x000300020001));
    ins = op_rep(t, OP_INS, 1, 4, 0x301, 0);
    hole = op(t, OP_IN, 4, 0x3f0, 0);
    s0 = stats(t);
    run_script(t, 7);
    s1 = stats(t);
    assert_int_equal(nacc, 6 + 3 + 4);
    expect_access(0, 'P', true, 0, 1, 0x12);
    expect_access(1, 'P', true, 2, 2, 0x3456);
    expect_access(2, 'P', true, 4, 4, 0x789abcde);
    expect_access(3, 'P', false, 1, 1, read_value(1, 1));
    expect_access(4, 'P', false, 2, 2, read_value(2, 2));
    expect_access(5, 'P', false, 4, 4, read_value(4, 4));
    for (unsigned k = 0; k < 3; k++)
        expect_access(6 + k, 'P', true, 2, 2, k + 1);
    for (unsigned k = 0; k < 4; k++)
        expect_access(9 + k, 'P', false, 1, 1, read_value(1, 1));
    assert_int_equal(result(t, i1) & 0xff, read_value(1, 1));
    assert_int_equal(result(t, i2) & 0xffff, read_value(2, 2));
    assert_int_equal(result(t, i4) & 0xffffffff, read_value(4, 4));
    assert_int_equal(result(t, ins) & 0xffffffff,
                     read_value(1, 1) * UINT64_C(0x01010101));
    assert_int_equal(result(t, hole) & 0xffffffff, 0xffffffff);
    /* 9 single accesses + the yield; each string op may take several
     * exits (the kernel may batch a rep into one exit with count > 1). */
    assert_true(s1.pio - s0.pio >= 9 + 1 + 2);
    assert_true(s1.pio - s0.pio <= 9 + 1 + 7);
    mt_region_unref(dev);
}

static uint64_t eventfd_count(int fd)
{
    uint64_t v = 0;

    if (read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
        return 0; /* EAGAIN: not signalled */
    return v;
}

/* ioeventfd: a guest store to a registered address signals the eventfd in
 * the kernel, without a userspace exit or a device call. */
static void test_ioeventfd(void **state)
{
    struct tvm *t = *state;
    mt_region *mdev, *pdev;
    int any, match, pio;
    mt_kvm_vcpu_stats s0, s1;

    any = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    match = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pio = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    assert_true(any >= 0 && match >= 0 && pio >= 0);
    MT_OK(mt_region_new_io(t->ctx, "mmio-rec", 0x1000, &rec_mmio_ops,
                           (void *)(uintptr_t)'M', &mdev));
    MT_OK(mt_region_add_subregion(t->system, 0xfe000000, mdev));
    MT_OK(mt_region_new_io(t->ctx, "pio-rec", 8, &rec_pio_ops,
                           (void *)(uintptr_t)'P', &pdev));
    MT_OK(mt_region_add_subregion(t->io_root, 0x300, pdev));
    MT_OK(mt_region_add_eventfd(mdev, 0x10, 4, false, 0, any));
    MT_OK(mt_region_add_eventfd(mdev, 0x20, 4, true, 0x1234, match));
    MT_OK(mt_region_add_eventfd(pdev, 2, 2, false, 0, pio));
    /* mt_region_add_eventfd takes effect at the next commit. */
    mt_begin(t->ctx);
    MT_OK(mt_commit(t->ctx));
    assert_int_equal(mt_kvm_error(t->kvm), 0);

    script_reset(t);
    op(t, OP_WRITE, 4, 0xfe000010, 1);
    op(t, OP_WRITE, 4, 0xfe000010, 2);
    op(t, OP_WRITE, 4, 0xfe000010, 3);
    op(t, OP_WRITE, 4, 0xfe000020, 0x1234);  /* matches: eventfd */
    op(t, OP_WRITE, 4, 0xfe000020, 0x5678);  /* does not: the device */
    op(t, OP_OUT, 2, 0x302, 0xaaaa);
    op(t, OP_OUT, 2, 0x302, 0xbbbb);
    op(t, OP_OUT, 1, 0x300, 0x77);           /* another port: the device */
    s0 = stats(t);
    run_script(t, 8);
    s1 = stats(t);
    assert_int_equal(eventfd_count(any), 3);
    assert_int_equal(eventfd_count(match), 1);
    assert_int_equal(eventfd_count(pio), 2);
    assert_int_equal(nacc, 2);
    expect_access(0, 'M', true, 0x20, 4, 0x5678);
    expect_access(1, 'P', true, 0, 1, 0x77);
    assert_int_equal(s1.mmio - s0.mmio, 1);
    assert_int_equal(s1.pio - s0.pio, 2); /* port 0x300 and the yield */

    /* Removed: the stores reach the device again. */
    MT_OK(mt_region_del_eventfd(mdev, 0x10, 4, false, 0, any));
    mt_begin(t->ctx);
    MT_OK(mt_commit(t->ctx));
    nacc = 0;
    script_reset(t);
    op(t, OP_WRITE, 4, 0xfe000010, 9);
    run_script(t, 9);
    assert_int_equal(eventfd_count(any), 0);
    assert_int_equal(nacc, 1);
    expect_access(0, 'M', true, 0x10, 4, 9);

    mt_region_unref(mdev);
    mt_region_unref(pdev);
    close(any);
    close(match);
    close(pio);
}

/* Coalesced MMIO: stores to the zone are queued by KVM without exits and
 * reach the device in order, before anything that exits after them. */
static void test_coalesced(void **state)
{
    struct tvm *t = *state;
    mt_region *fb, *dev;
    mt_kvm_vcpu_stats s0, s1;

    if (mt_kvm_vm_check_extension(t->vm, KVM_CAP_COALESCED_MMIO) <= 0)
        skip();
    MT_OK(mt_region_new_io(t->ctx, "fb", 0x1000, &rec_mmio_ops,
                           (void *)(uintptr_t)'C', &fb));
    MT_OK(mt_region_add_subregion(t->system, 0xfd000000, fb));
    MT_OK(mt_region_add_coalescing(fb, 0, 0x1000));
    MT_OK(mt_region_new_io(t->ctx, "mmio-rec", 0x1000, &rec_mmio_ops,
                           (void *)(uintptr_t)'M', &dev));
    MT_OK(mt_region_add_subregion(t->system, 0xfe000000, dev));
    assert_int_equal(mt_kvm_error(t->kvm), 0);

    script_reset(t);
    for (unsigned k = 0; k < 6; k++)
        op(t, OP_WRITE, 4, 0xfd000000 + 0x100 * (5 - k), 0x1000 + k);
    op(t, OP_WRITE, 2, 0xfd000010, 0xcafe);
    op(t, OP_WRITE, 4, 0xfe000000, 0xaa);    /* exits: flushes first */
    op(t, OP_WRITE, 1, 0xfd000020, 0x5a);
    s0 = stats(t);
    run_script(t, 10);
    s1 = stats(t);
    assert_int_equal(nacc, 9);
    for (unsigned k = 0; k < 6; k++)
        expect_access(k, 'C', true, 0x100 * (5 - k), 4, 0x1000 + k);
    expect_access(6, 'C', true, 0x10, 2, 0xcafe);
    expect_access(7, 'M', true, 0, 4, 0xaa);
    expect_access(8, 'C', true, 0x20, 1, 0x5a);
    assert_int_equal(s1.mmio - s0.mmio, 1);          /* only 'M' exited */
    assert_int_equal(s1.coalesced - s0.coalesced, 8);

    /* Queued writes are delivered before a run returns to the caller. */
    nacc = 0;
    script_reset(t);
    op(t, OP_WRITE, 4, 0xfd000000, 0x77);
    op(t, OP_HLT, 0, 0, 0);
    op(t, OP_WRITE, 4, 0xfd000008, 0x78);
    {
        mt_kvm_exit ex;

        MT_OK(mt_kvm_vcpu_run(t->vcpu, &ex));
        assert_int_equal(ex.kind, MT_KVM_EXIT_HLT);
        assert_int_equal(nacc, 1); /* flushed before the run returned */
        expect_access(0, 'C', true, 0, 4, 0x77);
        run_script(t, 20);
        assert_int_equal(nacc, 2);
        expect_access(1, 'C', true, 8, 4, 0x78);
    }

    MT_OK(mt_region_clear_coalescing(fb));
    nacc = 0;
    script_reset(t);
    op(t, OP_WRITE, 4, 0xfd000004, 0x88);
    s0 = stats(t);
    run_script(t, 11);
    s1 = stats(t);
    assert_int_equal(nacc, 1);
    assert_int_equal(s1.mmio - s0.mmio, 1);          /* exits again */
    mt_region_unref(fb);
    mt_region_unref(dev);
}

/* Coalesced PIO: port writes queued the same way, replayed through the
 * I/O address space. */
static void test_coalesced_pio(void **state)
{
    struct tvm *t = *state;
    mt_region *dev;
    mt_kvm_vcpu_stats s0, s1;

    if (mt_kvm_vm_check_extension(t->vm, KVM_CAP_COALESCED_PIO) <= 0)
        skip();
    MT_OK(mt_region_new_io(t->ctx, "pio-rec", 8, &rec_pio_ops,
                           (void *)(uintptr_t)'P', &dev));
    MT_OK(mt_region_add_subregion(t->io_root, 0x300, dev));
    MT_OK(mt_region_add_coalescing(dev, 0, 4));
    assert_int_equal(mt_kvm_error(t->kvm), 0);

    script_reset(t);
    op(t, OP_OUT, 1, 0x300, 0x10);
    op(t, OP_OUT, 2, 0x302, 0x2222);
    op(t, OP_OUT, 1, 0x301, 0x30);
    op(t, OP_OUT, 1, 0x304, 0x40);           /* outside the zone: exits */
    s0 = stats(t);
    run_script(t, 21);
    s1 = stats(t);
    assert_int_equal(nacc, 4);
    expect_access(0, 'P', true, 0, 1, 0x10);
    expect_access(1, 'P', true, 2, 2, 0x2222);
    expect_access(2, 'P', true, 1, 1, 0x30);
    expect_access(3, 'P', true, 4, 1, 0x40);
    assert_int_equal(s1.pio - s0.pio, 2);            /* 0x304 and the yield */
    assert_int_equal(s1.coalesced - s0.coalesced, 3);
    mt_region_unref(dev);
}

/* Run a script storing to @pages (of @n) of the region at @base, and a
 * load from page 3; then sync and check that exactly @pages are dirty for
 * VGA (clearing them). */
static void dirty_round(struct tvm *t, mt_region *vram, uint64_t base,
                        uint64_t size, const unsigned *pages, unsigned n,
                        int code)
{
    bool dirty;

    script_reset(t);
    for (unsigned k = 0; k < n; k++)
        op(t, OP_WRITE, 4, (uint32_t)(base + pages[k] * 0x1000 + 0x40),
           0xd1d1d1d1 + (uint32_t)code);
    op(t, OP_READ, 4, (uint32_t)(base + 0x3000), 0); /* loads don't count */
    run_script(t, code);

    MT_OK(mt_kvm_sync_dirty(t->kvm));
    assert_int_equal(mt_kvm_error(t->kvm), 0);
    for (unsigned pg = 0; pg < size / 0x1000; pg++) {
        bool want = false;

        for (unsigned k = 0; k < n; k++)
            want |= pages[k] == pg;
        MT_OK(mt_region_dirty_test_and_clear(vram, pg * 0x1000, 0x1000,
                                             MT_DIRTY_CLIENT_VGA, &dirty));
        if (dirty != want)
            fail_msg("round %d, page %u: dirty %d, expected %d", code, pg,
                     dirty, want);
    }
}

/* Dirty logging, in whichever mode the VM is in: the pages the guest
 * stores to, and only those, are reported after mt_kvm_sync_dirty(); a
 * sync after no stores reports nothing; stores after a sync (to pages
 * reported before, too: they must have been write-protected again) are
 * reported by the next one. */
static void dirty_log_rounds(struct tvm *t)
{
    mt_region *vram;
    const uint64_t base = 0x200000, size = 0x10000;
    const unsigned first[] = { 1, 4, 5, 15 }, second[] = { 0, 4, 9 };
    bool dirty;

    MT_OK(mt_region_new_ram(t->ctx, "vram", size, &vram));
    MT_OK(mt_region_add_subregion(t->system, base, vram));
    MT_OK(mt_region_set_dirty_log(vram, true));
    assert_non_null(slot_at(t, base));
    assert_int_equal(slot_at(t, base)->flags, MT_KVM_MEM_LOG_DIRTY_PAGES);
    /* New memory starts dirty: start from clean. */
    MT_OK(mt_kvm_sync_dirty(t->kvm));
    MT_OK(mt_region_dirty_test_and_clear(vram, 0, size, MT_DIRTY_CLIENT_VGA,
                                         &dirty));

    dirty_round(t, vram, base, size, first, 4, 12);
    /* The log was cleared when it was read: nothing new now. */
    MT_OK(mt_kvm_sync_dirty(t->kvm));
    MT_OK(mt_region_dirty_test_and_clear(vram, 0, size, MT_DIRTY_CLIENT_VGA,
                                         &dirty));
    assert_false(dirty);
    dirty_round(t, vram, base, size, second, 3, 16);
    MT_OK(mt_kvm_sync_dirty(t->kvm));
    MT_OK(mt_region_dirty_test_and_clear(vram, 0, size, MT_DIRTY_CLIENT_VGA,
                                         &dirty));
    assert_false(dirty);
    assert_int_equal(((uint32_t *)mt_region_ram_ptr(vram))[(0x5000 + 0x40) / 4],
                     0xd1d1d1d1 + 12);
    assert_int_equal(((uint32_t *)mt_region_ram_ptr(vram))[(0x4000 + 0x40) / 4],
                     0xd1d1d1d1 + 16);
    /* Unmapping a logging slot harvests it first (nothing is pending). */
    MT_OK(mt_region_del_subregion(t->system, vram));
    assert_int_equal(mt_kvm_error(t->kvm), 0);
    mt_region_unref(vram);
}

/* The dirty log (with manual protection where KVM offers it). */
static void test_dirty_log(void **state)
{
    struct tvm *t = *state;
    int manual = mt_kvm_vm_check_extension(
        t->vm, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2);

    if (manual & KVM_DIRTY_LOG_INITIALLY_SET) {
        /* Manual protection with INITIALLY_SET is on: a slot's first
         * fetch reports every page, even those no one wrote. */
        mt_region *r;
        bool dirty;

        MT_OK(mt_region_new_ram(t->ctx, "probe", 0x4000, &r));
        MT_OK(mt_region_add_subregion(t->system, 0x400000, r));
        MT_OK(mt_region_set_dirty_log(r, true));
        MT_OK(mt_region_dirty_test_and_clear(r, 0, 0x4000,
                                             MT_DIRTY_CLIENT_VGA, &dirty));
        assert_true(dirty);
        MT_OK(mt_kvm_sync_dirty(t->kvm));
        for (unsigned pg = 0; pg < 4; pg++) {
            MT_OK(mt_region_dirty_test_and_clear(r, pg * 0x1000, 0x1000,
                                                 MT_DIRTY_CLIENT_VGA,
                                                 &dirty));
            assert_true(dirty);
        }
        MT_OK(mt_kvm_sync_dirty(t->kvm));
        MT_OK(mt_region_dirty_test_and_clear(r, 0, 0x4000,
                                             MT_DIRTY_CLIENT_VGA, &dirty));
        assert_false(dirty);
        MT_OK(mt_region_del_subregion(t->system, r));
        mt_region_unref(r);
    }
    dirty_log_rounds(t);
}

/* The dirty ring: the same rounds, harvested from the vCPU's ring. */
static void test_dirty_ring(void **state)
{
    struct tvm *t = *state;

    if (t->ring_rc) {
        printf("SKIP: no dirty ring here: %s (%s)\n",
               mt_err_name(t->ring_rc), strerror(t->ring_errno));
        skip();
    }
    assert_int_equal(mt_kvm_vm_dirty_ring_bytes(t->vm), 64 * 1024);
    dirty_log_rounds(t);
}

/*
 * The guest stores to 6,144 pages, more than a 64 KiB ring holds (4096
 * entries); every page stored to must be in the log afterwards. With
 * @breathe, a port write every 256 pages: KVM asks for the ring-full exit
 * only when the vCPU next enters the guest, and kvm_pvm emulates guest
 * ring-0 code, possibly thousands of stores in one go, so the exits give
 * the vCPU its entries well within the ring's reserve. Without, the vCPU
 * may push more entries than the ring holds, overwriting some (about one
 * run in six here): the harvest that finds a whole ring taken marks every
 * logging page dirty and counts an overflow, and the run goes on even if
 * KVM's ring and ours come to disagree.
 */
static void ring_many_pages(struct tvm *t, bool breathe)
{
    mt_region *big;
    const uint64_t base = 0x1000000, pages = 6144, size = pages * 0x1000;
    mt_dirty_snapshot *snap;
    bool dirty;

    if (t->ring_rc) {
        printf("SKIP: no dirty ring here: %s (%s)\n",
               mt_err_name(t->ring_rc), strerror(t->ring_errno));
        skip();
    }
    MT_OK(mt_region_new_ram(t->ctx, "big", size, &big));
    MT_OK(mt_region_add_subregion(t->system, base, big));
    MT_OK(mt_region_set_dirty_log(big, true));
    MT_OK(mt_kvm_sync_dirty(t->kvm));
    MT_OK(mt_region_dirty_test_and_clear(big, 0, size, MT_DIRTY_CLIENT_VGA,
                                         &dirty));
    script_reset(t);
    for (uint64_t pg = 0; pg < pages; pg++) {
        op(t, OP_WRITE, 1, (uint32_t)(base + pg * 0x1000 + 8), 0x77);
        if (breathe && pg % 256 == 255)
            op(t, OP_OUT, 1, 0x80, 0);
    }
    run_script(t, 17);
    MT_OK(mt_kvm_sync_dirty(t->kvm));
    assert_int_equal(mt_kvm_error(t->kvm), 0);
    MT_OK(mt_region_dirty_snapshot(big, 0, size, MT_DIRTY_CLIENT_VGA, &snap));
    assert_int_equal(mt_dirty_snapshot_count(snap), pages);
    mt_dirty_snapshot_free(snap);
    if (!breathe)
        print_message("%llu ring overflow(s) seen\n",
                      (unsigned long long)mt_kvm_vm_ring_overflows(t->vm));
    mt_region_unref(big);
}

/* KVM exits with KVM_EXIT_DIRTY_RING_FULL, the run loop harvests and
 * resumes, and every page stored to is reported. */
static void test_dirty_ring_full(void **state)
{
    ring_many_pages(*state, true);
}

/* The same without exits in between: whatever overflowed, nothing is
 * missing. */
static void test_dirty_ring_overflow(void **state)
{
    ring_many_pages(*state, false);
}

/* Remapping while the vCPU is stopped: an MMIO region and a RAM region
 * moved between runs are found at their new addresses only. */
static void test_remap(void **state)
{
    struct tvm *t = *state;
    mt_region *dev, *r2;
    unsigned old_read, new_read, ram_new, ram_old;
    mt_kvm_vcpu_stats s0, s1;

    MT_OK(mt_region_new_io(t->ctx, "mmio-rec", 0x1000, &rec_mmio_ops,
                           (void *)(uintptr_t)'M', &dev));
    MT_OK(mt_region_add_subregion(t->system, 0xfe000000, dev));
    MT_OK(mt_region_new_ram(t->ctx, "ram2", 0x10000, &r2));
    memset(mt_region_ram_ptr(r2), 0x3c, 0x10000);
    MT_OK(mt_region_add_subregion(t->system, 0x200000, r2));

    script_reset(t);
    op(t, OP_WRITE, 4, 0xfe000100, 0x11);
    run_script(t, 13);
    assert_int_equal(nacc, 1);
    expect_access(0, 'M', true, 0x100, 4, 0x11);

    mt_begin(t->ctx);
    MT_OK(mt_region_set_address(dev, 0xfe100000));
    MT_OK(mt_region_set_address(r2, 0x300000));
    MT_OK(mt_commit(t->ctx));
    assert_null(slot_at(t, 0x200000));
    assert_non_null(slot_at(t, 0x300000));

    nacc = 0;
    script_reset(t);
    op(t, OP_WRITE, 4, 0xfe000100, 0x22);            /* now a hole */
    op(t, OP_WRITE, 4, 0xfe100100, 0x33);
    old_read = op(t, OP_READ, 4, 0xfe000104, 0x99);
    new_read = op(t, OP_READ, 4, 0xfe100104, 0);
    ram_new = op(t, OP_READ, 4, 0x300010, 0);
    ram_old = op(t, OP_READ, 4, 0x200010, 0x99);
    op(t, OP_WRITE, 4, 0x300020, 0x600dd00d);
    s0 = stats(t);
    run_script(t, 14);
    s1 = stats(t);
    assert_int_equal(nacc, 2);
    expect_access(0, 'M', true, 0x100, 4, 0x33);
    expect_access(1, 'M', false, 0x104, 4, read_value(0x104, 4));
    assert_int_equal(result(t, old_read), 0);
    assert_int_equal(result(t, new_read), read_value(0x104, 4));
    assert_int_equal(result(t, ram_new), 0x3c3c3c3c);
    assert_int_equal(result(t, ram_old), 0);
    assert_int_equal(((uint32_t *)mt_region_ram_ptr(r2))[0x20 / 4],
                     0x600dd00d);
    /* Hole store, hole load, two device accesses and the old RAM address
     * exit; the moved RAM does not. */
    assert_int_equal(s1.mmio - s0.mmio, 5);
    mt_region_unref(dev);
    mt_region_unref(r2);
}

/* Stop requests from a device, and the kick. */
static void test_kick(void **state)
{
    struct tvm *t = *state;
    mt_kvm_exit ex;

    script_reset(t);
    op(t, OP_YIELD, 1, 0, 15);
    mt_kvm_vcpu_kick(t->vcpu);
    MT_OK(mt_kvm_vcpu_run(t->vcpu, &ex));
    assert_int_equal(ex.kind, MT_KVM_EXIT_INTR);
    MT_OK(mt_kvm_vcpu_run(t->vcpu, &ex));
    assert_int_equal(ex.kind, MT_KVM_EXIT_STOP);
    assert_int_equal(ex.stop_code, 15);
    assert_int_equal(mt_kvm_vcpu_run(NULL, &ex), MT_EINVAL);
    assert_int_equal(mt_kvm_vcpu_run(t->vcpu, NULL), MT_EINVAL);
}

/* ---- snapshots ------------------------------------------------------------------ */

/*
 * Fast reset of guest stores (docs/snapshot.md): a snapshot armed before
 * the guest runs; each round the guest stores to a few pages of a data
 * region and the reset copies back exactly those (pulled from KVM's dirty
 * log or rings), leaving the memory equal to the snapshot. The guest
 * restarts its script at every run, so resetting RAM under it is safe.
 */
static void snapshot_rounds(struct tvm *t)
{
    const uint64_t base = 0x200000, size = 0x10000;
    static const unsigned rounds[3][4] = { { 1, 4, 5, 15 }, { 0, 4, 9, 9 },
                                           { 2, 3, 7, 8 } };
    static const unsigned distinct[3] = { 4, 3, 4 };
    mt_region *data;
    mt_snapshot *snap;
    mt_snapshot_error err;
    uint8_t *host, want[0x10000];
    uint64_t pages;

    MT_OK(mt_region_new_ram(t->ctx, "data", size, &data));
    MT_OK(mt_region_add_subregion(t->system, base, data));
    host = mt_region_ram_ptr(data);
    for (unsigned i = 0; i < size; i++)
        host[i] = (uint8_t)(i * 13 + i / 4096);
    memcpy(want, host, size);
    if (mt_snapshot_take(t->ctx, MT_SNAPSHOT_TRACK, &snap, &err))
        fail_msg("take: %s", err.msg);
    /* Global logging: every RAM slot logs now. */
    assert_int_equal(slot_at(t, base)->flags, MT_KVM_MEM_LOG_DIRTY_PAGES);
    assert_int_equal(slot_at(t, 0)->flags, MT_KVM_MEM_LOG_DIRTY_PAGES);
    MT_OK(mt_snapshot_reset(t->ctx, snap, &pages, NULL));
    assert_int_equal(pages, 0);

    for (int r = 0; r < 3; r++) {
        script_reset(t);
        for (unsigned k = 0; k < 4; k++)
            op(t, OP_WRITE, 8, (uint32_t)(base + rounds[r][k] * 0x1000 +
                                          k * 8), 0x1122334455667788ull);
        op(t, OP_READ, 4, (uint32_t)(base + 0xe000), 0); /* a load: clean */
        run_script(t, 40 + r);
        assert_int_equal(host[rounds[r][0] * 0x1000 + 7], 0x11);
        MT_OK(mt_snapshot_reset(t->ctx, snap, &pages, &err));
        assert_int_equal(mt_kvm_error(t->kvm), 0);
        /* The guest's stores, and nothing else: the script page is only
         * read (READ stores its result there: one more page). */
        assert_int_equal(pages, distinct[r] + 1);
        assert_memory_equal(host, want, size);
    }
    mt_snapshot_free(snap);
    /* Logging is off again. */
    assert_int_equal(slot_at(t, base)->flags, 0);
    MT_OK(mt_region_del_subregion(t->system, data));
    mt_region_unref(data);
}

/* With the dirty bitmap (manual protection where KVM offers it). */
static void test_snapshot_reset(void **state)
{
    snapshot_rounds(*state);
}

/* With the dirty ring. */
static void test_snapshot_reset_ring(void **state)
{
    struct tvm *t = *state;

    if (t->ring_rc) {
        printf("SKIP: no dirty ring here: %s (%s)\n",
               mt_err_name(t->ring_rc), strerror(t->ring_errno));
        skip();
    }
    snapshot_rounds(t);
}

/* ---- main --------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_boot_and_slots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rom_write_dropped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_romd_switch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mmio_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pio_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ioeventfd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_coalesced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_coalesced_pio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dirty_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dirty_ring, setup_ring,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dirty_ring_overflow, setup_ring,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dirty_ring_full, setup_ring,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_remap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kick, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_reset_ring, setup_ring,
                                        teardown),
    };

    if (!kvm_usable())
        return 77;
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("kvm_guest", tests, NULL, NULL);
}
