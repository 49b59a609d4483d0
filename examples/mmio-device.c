/* SPDX-License-Identifier: MIT */
/*
 * mmio-device.c: a minimal memory-mapped device, and how accesses reach it.
 *
 * The device is a 4 KiB register bank with three 32-bit registers:
 *
 *   0x00 ID       read-only, 0x4d54524d ("MTRM" read as bytes)
 *   0x04 SCRATCH  read/write
 *   0x08 COUNTER  counts the writes to SCRATCH
 *
 * Its mt_ops say that the bus accepts aligned 4-byte accesses only and that
 * the callbacks implement 4-byte ones: memtree refuses anything narrower
 * or unaligned before the device sees it and cuts wider buffer accesses
 * into 4-byte pieces, so the callbacks below see nothing but aligned
 * 32-bit reads and writes.
 *
 * usage: mmio-device    (prints what it does; exit status 0 when all went
 *                        as described)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <memtree.h>

#define REG_ID      0x00
#define REG_SCRATCH 0x04
#define REG_COUNTER 0x08
#define DEV_ID      0x4d54524du

#define DEV_BASE UINT64_C(0x10000000)

struct mydev {
    uint32_t scratch;
    uint32_t counter;
    unsigned calls;          /* callback invocations, to show the splitting */
};

static mt_result mydev_read(void *opaque, uint64_t offset, uint64_t *value,
                            unsigned size, mt_attrs attrs)
{
    struct mydev *d = opaque;

    (void)size, (void)attrs;
    d->calls++;
    switch (offset) {
    case REG_ID:
        *value = DEV_ID;
        return MT_TX_OK;
    case REG_SCRATCH:
        *value = d->scratch;
        return MT_TX_OK;
    case REG_COUNTER:
        *value = d->counter;
        return MT_TX_OK;
    default:
        *value = 0;
        return MT_TX_ERROR; /* the device itself signals an error */
    }
}

static mt_result mydev_write(void *opaque, uint64_t offset, uint64_t value,
                             unsigned size, mt_attrs attrs)
{
    struct mydev *d = opaque;

    (void)size, (void)attrs;
    d->calls++;
    if (offset != REG_SCRATCH)
        return MT_TX_ERROR;
    d->scratch = (uint32_t)value;
    d->counter++;
    return MT_TX_OK;
}

static const mt_ops mydev_ops = {
    .read = mydev_read,
    .write = mydev_write,
    .endian = MT_ENDIAN_LITTLE,
    .valid = { .min_access_size = 4, .max_access_size = 4 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

static int failures;

static void expect(int ok, const char *what)
{
    printf("%-58s %s\n", what, ok ? "ok" : "FAILED");
    failures += !ok;
}

int main(void)
{
    struct mydev dev = { 0 };
    mt_ctx *ctx;
    mt_region *sys, *regs;
    mt_as *as;
    uint64_t v = 0;
    uint8_t buf[8];
    int rc;

    rc = mt_ctx_new(&ctx, NULL);
    if (rc) {
        fprintf(stderr, "mmio-device: %s\n", mt_strerror(rc));
        return 1;
    }
    /* A bare bus: a 4 GiB container with the device in it. Error checks
     * of the setup are folded into rc. */
    rc = mt_region_new_container(ctx, "system", UINT64_C(1) << 32, &sys);
    rc = rc ? rc : mt_region_new_io(ctx, "mydev", 0x1000, &mydev_ops, &dev, &regs);
    rc = rc ? rc : mt_region_add_subregion(sys, DEV_BASE, regs);
    rc = rc ? rc : mt_as_new(ctx, sys, "memory", &as);
    if (rc) {
        fprintf(stderr, "mmio-device: setup: %s\n", mt_strerror(rc));
        mt_ctx_free(ctx);
        return 1;
    }
    mt_region_unref(regs); /* the container holds it */
    mt_region_unref(sys);  /* the address space holds it */

    /* A 32-bit load of the ID register: one callback. */
    expect(mt_as_load(as, DEV_BASE + REG_ID, 4, MT_ENDIAN_LITTLE,
                      MT_ATTRS_UNSPECIFIED, &v) == MT_TX_OK && v == DEV_ID,
           "32-bit load of ID");

    /* A byte load: narrower than the bus takes, refused, reads as 0. */
    dev.calls = 0;
    expect(mt_as_load(as, DEV_BASE + REG_ID, 1, MT_ENDIAN_LITTLE,
                      MT_ATTRS_UNSPECIFIED, &v) == MT_TX_DECODE_ERROR &&
           v == 0 && dev.calls == 0,
           "byte load of ID: refused by the bus");

    /* Buffer writes: 4 bytes are one access; 8 bytes are cut into two
     * 4-byte accesses (the bus takes at most 4), each value taken from the
     * buffer in the device's byte order. */
    dev.calls = 0;
    for (unsigned i = 0; i < 8; i++)
        buf[i] = (uint8_t)(0x10 + i);
    expect(mt_as_write(as, DEV_BASE + REG_SCRATCH, MT_ATTRS_UNSPECIFIED, buf,
                       4) == MT_TX_OK && dev.scratch == 0x13121110,
           "4-byte write of SCRATCH");
    expect(mt_as_write(as, DEV_BASE + REG_SCRATCH, MT_ATTRS_UNSPECIFIED, buf,
                       8) == MT_TX_ERROR,
           "8-byte write over SCRATCH+COUNTER: COUNTER refuses");
    expect(dev.calls == 3 && dev.counter == 2, "  three callbacks, two counted");

    /* An 8-byte buffer read: two callbacks, the values side by side. */
    dev.calls = 0;
    expect(mt_as_read(as, DEV_BASE + REG_SCRATCH, MT_ATTRS_UNSPECIFIED, buf,
                      8) == MT_TX_OK && dev.calls == 2 && buf[0] == 0x10 &&
           buf[4] == 2,
           "8-byte read of SCRATCH+COUNTER: two callbacks");

    /* An unaligned access is refused by the bus before the device sees it. */
    dev.calls = 0;
    expect(mt_as_store(as, DEV_BASE + REG_SCRATCH + 2, 4, MT_ENDIAN_LITTLE,
                       MT_ATTRS_UNSPECIFIED, 0xffff) == MT_TX_DECODE_ERROR &&
           dev.calls == 0,
           "unaligned 4-byte store at SCRATCH + 2: refused");
    expect(!mt_as_access_valid(as, DEV_BASE + REG_SCRATCH + 2, 4, true,
                               MT_ATTRS_UNSPECIFIED),
           "  and mt_as_access_valid says so beforehand");

    /* Beside the device there is nothing: a decode error, zeros. */
    v = 1;
    expect(mt_as_load(as, DEV_BASE + 0x1000, 4, MT_ENDIAN_LITTLE,
                      MT_ATTRS_UNSPECIFIED, &v) == MT_TX_DECODE_ERROR && v == 0,
           "load past the device: decode error");

    /* Disabling the device: the address decodes to nothing. */
    rc = mt_region_set_enabled(regs, false);
    expect(rc == 0 && mt_as_load(as, DEV_BASE, 4, MT_ENDIAN_LITTLE,
                                 MT_ATTRS_UNSPECIFIED, &v) == MT_TX_DECODE_ERROR,
           "device disabled: decode error");

    printf("\n");
    mt_mtree_print(ctx, stdout, MT_MTREE_DISABLED);
    mt_ctx_free(ctx);
    return failures ? 1 : 0;
}
