/* SPDX-License-Identifier: MIT */
/*
 * dma-device.c: a DMA-capable device with its own address space.
 *
 * A device does not see the CPU's address space: it sees what its bus
 * shows it. As QEMU does for every PCI device, the device here gets an
 * address space of its own, "dma-dev", whose root is a container holding
 * one alias of the whole system memory. The alias is enabled only while
 * the guest has turned bus mastering on, so a device that is not allowed
 * to DMA reaches nothing.
 *
 *   CPU:    "memory"   system (container, 4 GiB)
 *                        |- ram (RAM, 64 MiB)           at 0
 *                        |- mailbox (MMIO, 16 bytes)    at 0xfe001000
 *                        `- dma-regs (MMIO, 32 bytes)   at 0xfe000000
 *   device: "dma-dev"  bus master container (container, 2^64)
 *                        `- bus master (alias of system, disabled until
 *                           bus mastering is on)
 *
 * Registers (32-bit): 0x00 SRC, 0x04 DST, 0x08 LEN, 0x0c CTRL (write 1:
 * copy LEN bytes from SRC to DST, bus addresses), 0x10 STATUS (1 done,
 * 2 error). The copy uses mt_as_map()/mt_as_unmap() on the device's
 * address space: RAM is mapped directly (zero copy), anything else (the
 * mailbox) through a bounce buffer that unmap writes back.
 *
 * usage: dma-device    (prints each step; exit status 0 when all went as
 *                       described)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memtree.h>

#define RAM_SIZE      (UINT64_C(64) << 20)
#define REGS_BASE     UINT64_C(0xfe000000)
#define MAILBOX_BASE  UINT64_C(0xfe001000)

enum { REG_SRC = 0x00, REG_DST = 0x04, REG_LEN = 0x08, REG_CTRL = 0x0c,
       REG_STATUS = 0x10 };
enum { STATUS_IDLE = 0, STATUS_DONE = 1, STATUS_ERROR = 2 };

struct dma_dev {
    mt_as *as;                  /* what the device sees */
    uint32_t src, dst, len, status;
    unsigned direct, bounced;   /* mappings of each kind, for the log */
};

/* Copy @len bytes from bus address @src to @dst, mapping both sides. */
static int dma_copy(struct dma_dev *d, uint64_t src, uint64_t dst,
                    uint64_t len)
{
    const mt_attrs attrs = { .requester_id = 0x0010 }; /* bus 0, dev 2, fn 0 */

    /* A real device checks first: is every byte reachable? */
    if (!mt_as_access_valid(d->as, src, len, false, attrs) ||
        !mt_as_access_valid(d->as, dst, len, true, attrs))
        return -1;
    while (len) {
        uint64_t n = len, m, off, l = 1;
        void *from, *to;
        mt_region *r;

        from = mt_as_map(d->as, src, &n, false, attrs);
        if (!from)
            return -1;
        m = n;
        to = mt_as_map(d->as, dst, &m, true, attrs);
        if (!to) {
            mt_as_unmap(d->as, from, n, false, 0);
            return -1;
        }
        /* Each side may map less than asked: copy what both cover. */
        memcpy(to, from, m);
        /* (For the log: was the destination RAM, mapped in place?) */
        mt_as_translate(d->as, dst, attrs, &r, &off, &l);
        if (r && mt_region_kind_of(r) == MT_REGION_RAM)
            d->direct++;
        else
            d->bounced++;
        mt_as_unmap(d->as, to, m, true, m);   /* bounce: written back here */
        mt_as_unmap(d->as, from, n, false, m);
        src += m;
        dst += m;
        len -= m;
    }
    return 0;
}

static mt_result regs_read(void *opaque, uint64_t offset, uint64_t *value,
                           unsigned size, mt_attrs attrs)
{
    struct dma_dev *d = opaque;

    (void)size, (void)attrs;
    switch (offset) {
    case REG_SRC: *value = d->src; break;
    case REG_DST: *value = d->dst; break;
    case REG_LEN: *value = d->len; break;
    case REG_STATUS: *value = d->status; break;
    default: *value = 0; break;
    }
    return MT_TX_OK;
}

static mt_result regs_write(void *opaque, uint64_t offset, uint64_t value,
                            unsigned size, mt_attrs attrs)
{
    struct dma_dev *d = opaque;

    (void)size, (void)attrs;
    switch (offset) {
    case REG_SRC: d->src = (uint32_t)value; break;
    case REG_DST: d->dst = (uint32_t)value; break;
    case REG_LEN: d->len = (uint32_t)value; break;
    case REG_CTRL:
        /* The copy runs inside the register write, on the CPU's thread. */
        if (value & 1)
            d->status = dma_copy(d, d->src, d->dst, d->len) ? STATUS_ERROR
                                                             : STATUS_DONE;
        break;
    default:
        break;
    }
    return MT_TX_OK;
}

static const mt_ops regs_ops = {
    .read = regs_read,
    .write = regs_write,
    .valid = { .min_access_size = 4, .max_access_size = 4 },
};

/* The mailbox: a second device that only collects what is written to it. */
struct mailbox {
    char text[17];
};

static mt_result mailbox_write(void *opaque, uint64_t offset, uint64_t value,
                               unsigned size, mt_attrs attrs)
{
    struct mailbox *mb = opaque;

    (void)attrs;
    for (unsigned i = 0; i < size && offset + i < 16; i++)
        mb->text[offset + i] = (char)(value >> (8 * i));
    return MT_TX_OK;
}

static const mt_ops mailbox_ops = {
    .write = mailbox_write,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
    .impl = { .min_access_size = 1, .max_access_size = 8 },
};

/* ------------------------------------------------------------------------ */

static int failures;

static void expect(int ok, const char *what)
{
    printf("%-58s %s\n", what, ok ? "ok" : "FAILED");
    failures += !ok;
}

/* Program the device from the CPU, as a driver does. */
static uint32_t run_dma(mt_as *cpu, uint32_t src, uint32_t dst, uint32_t len)
{
    const uint32_t regs[][2] = { { REG_SRC, src }, { REG_DST, dst },
                                 { REG_LEN, len }, { REG_CTRL, 1 } };
    uint64_t status = 0;

    for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
        mt_as_store(cpu, REGS_BASE + regs[i][0], 4, MT_ENDIAN_LITTLE,
                    MT_ATTRS_UNSPECIFIED, regs[i][1]);
    mt_as_load(cpu, REGS_BASE + REG_STATUS, 4, MT_ENDIAN_LITTLE,
               MT_ATTRS_UNSPECIFIED, &status);
    return (uint32_t)status;
}

int main(void)
{
    static const char msg[] = "hello, DMA world";
    struct dma_dev dev = { 0 };
    struct mailbox mb = { { 0 } };
    mt_ctx *ctx;
    mt_region *sys, *ram, *regs, *mbox, *bus, *bus_master;
    mt_as *cpu;
    char back[sizeof(msg)] = { 0 };
    int rc;

    rc = mt_ctx_new(&ctx, NULL);
    if (rc) {
        fprintf(stderr, "dma-device: %s\n", mt_strerror(rc));
        return 1;
    }
    /* The CPU's view. Setup errors are folded into rc. */
    rc = mt_region_new_container(ctx, "system", UINT64_C(1) << 32, &sys);
    rc = rc ? rc : mt_region_new_ram(ctx, "ram", RAM_SIZE, &ram);
    rc = rc ? rc : mt_region_add_subregion(sys, 0, ram);
    rc = rc ? rc : mt_region_new_io(ctx, "dma-regs", 32, &regs_ops, &dev, &regs);
    rc = rc ? rc : mt_region_add_subregion(sys, REGS_BASE, regs);
    rc = rc ? rc : mt_region_new_io(ctx, "mailbox", 16, &mailbox_ops, &mb, &mbox);
    rc = rc ? rc : mt_region_add_subregion(sys, MAILBOX_BASE, mbox);
    rc = rc ? rc : mt_as_new(ctx, sys, "memory", &cpu);
    /* The device's view: all of system memory, behind the bus-master switch. */
    rc = rc ? rc : mt_region_new_container(ctx, "bus master container",
                                           MT_SIZE_FULL, &bus);
    rc = rc ? rc : mt_region_new_alias(ctx, "bus master", sys, 0,
                                       UINT64_C(1) << 32, &bus_master);
    rc = rc ? rc : mt_region_set_enabled(bus_master, false);
    rc = rc ? rc : mt_region_add_subregion(bus, 0, bus_master);
    rc = rc ? rc : mt_as_new(ctx, bus, "dma-dev", &dev.as);
    if (rc) {
        fprintf(stderr, "dma-device: setup: %s\n", mt_strerror(rc));
        mt_ctx_free(ctx);
        return 1;
    }
    /* Containers and address spaces hold what is needed from here on. */
    mt_region_unref(ram);
    mt_region_unref(regs);
    mt_region_unref(mbox);
    mt_region_unref(bus_master);
    mt_region_unref(sys);
    mt_region_unref(bus);

    /* The driver puts a message in RAM at 0x1000. */
    mt_as_write(cpu, 0x1000, MT_ATTRS_UNSPECIFIED, msg, sizeof(msg));

    /* Bus mastering off: the device's address space is empty. */
    expect(run_dma(cpu, 0x1000, 0x2000, sizeof(msg)) == STATUS_ERROR,
           "DMA with bus mastering off fails");

    /* The guest turns bus mastering on (PCI command register, bit 2). */
    rc = mt_region_set_enabled(bus_master, true);
    expect(rc == 0, "bus mastering on");

    expect(run_dma(cpu, 0x1000, 0x2000, sizeof(msg)) == STATUS_DONE,
           "DMA RAM 0x1000 -> RAM 0x2000");
    mt_as_read(cpu, 0x2000, MT_ATTRS_UNSPECIFIED, back, sizeof(back));
    expect(memcmp(back, msg, sizeof(msg)) == 0 && dev.direct == 1 &&
           dev.bounced == 0,
           "  copied, RAM mapped directly (no copy in between)");

    /* To the mailbox: MMIO cannot be mapped, a bounce buffer is used and
     * written back, through the mailbox's callbacks, at unmap. */
    expect(run_dma(cpu, 0x1000, MAILBOX_BASE, 16) == STATUS_DONE,
           "DMA RAM 0x1000 -> mailbox (MMIO)");
    expect(memcmp(mb.text, msg, 16) == 0 && dev.bounced == 1,
           "  delivered through a bounce buffer");

    /* The device's own address space ends where RAM ends. */
    expect(run_dma(cpu, RAM_SIZE - 8, 0x3000, 16) == STATUS_ERROR,
           "DMA reading past the end of RAM fails");

    printf("\n");
    mt_mtree_print(ctx, stdout, MT_MTREE_FLAT);
    mt_ctx_free(ctx);
    return failures ? 1 : 0;
}
