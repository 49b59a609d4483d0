/* SPDX-License-Identifier: MIT */
/*
 * devices.c: the ISA devices of `memtree run`, at QEMU 7.2's addresses and
 * with its observable behaviour (names as `info mtree` shows them):
 *
 *   pc-testdev-ioport       ports 0xe0-0xe3: one 32-bit register; an access
 *                           of n bytes at port 0xe0 + k reads or replaces
 *                           bytes k..k+n-1 of it
 *   pc-testdev-ioport-byte  ports 0xe8-0xeb: the same register, reached one
 *                           byte at a time (wider accesses are split)
 *   pc-testdev-iomem        0xff000000-0xff00ffff: 64 KiB of scratch memory
 *                           behind MMIO callbacks (every access exits)
 *   isa-debug-exit          ports 0xf4-0xf7 (iobase=0xf4,iosize=4): a write
 *                           of v ends the machine with status (v << 1) | 1
 *   isa-debugcon            port 0xe9: bytes written are printed; reads
 *                           return 0xe9
 */
#include <string.h>

#include "vmm.h"

/* ---- pc-testdev ---------------------------------------------------------- */

/* Bits of the 32-bit register that an access of @size at @offset covers. */
static uint32_t lane_mask(uint64_t offset, unsigned size, unsigned *shift)
{
    unsigned bits = size >= 4 ? 32 : size * 8;

    *shift = (unsigned)(offset & 3) * 8;
    return (bits == 32 ? 0xffffffffu : ((1u << bits) - 1)) << *shift;
}

static mt_result testdev_port_read(void *opaque, uint64_t offset,
                                   uint64_t *value, unsigned size,
                                   mt_attrs attrs)
{
    struct vmm_testdev *d = opaque;
    unsigned shift;
    uint32_t mask = lane_mask(offset, size, &shift);

    (void)attrs;
    *value = (d->ioport_data & mask) >> shift;
    return MT_TX_OK;
}

static mt_result testdev_port_write(void *opaque, uint64_t offset,
                                    uint64_t value, unsigned size,
                                    mt_attrs attrs)
{
    struct vmm_testdev *d = opaque;
    unsigned shift;
    uint32_t mask = lane_mask(offset, size, &shift);

    (void)attrs;
    d->ioport_data = (d->ioport_data & ~mask) |
                     (((uint32_t)value << shift) & mask);
    return MT_TX_OK;
}

static const mt_ops testdev_port_ops = {
    .read = testdev_port_read,
    .write = testdev_port_write,
    .endian = MT_ENDIAN_LITTLE,
};

static const mt_ops testdev_port_byte_ops = {
    .read = testdev_port_read,
    .write = testdev_port_write,
    .endian = MT_ENDIAN_LITTLE,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

/* memcpy of 1, 2, 4 or 8 bytes with constant sizes, so that the compiler
 * emits one move instead of a call into the C library (on the exit path,
 * each indirect branch, such as a PLT call, costs a misprediction). */
static inline void copy_small(void *dst, const void *src, unsigned size)
{
    switch (size) {
    case 1: memcpy(dst, src, 1); break;
    case 2: memcpy(dst, src, 2); break;
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    default: memcpy(dst, src, size); break;
    }
}

static mt_result testdev_mem_read(void *opaque, uint64_t offset,
                                  uint64_t *value, unsigned size,
                                  mt_attrs attrs)
{
    struct vmm_testdev *d = opaque;
    uint64_t v = 0;

    (void)attrs;
    if (offset + size <= sizeof(d->iomem))
        copy_small(&v, &d->iomem[offset], size); /* little-endian host */
    *value = v;
    return MT_TX_OK;
}

static mt_result testdev_mem_write(void *opaque, uint64_t offset,
                                   uint64_t value, unsigned size,
                                   mt_attrs attrs)
{
    struct vmm_testdev *d = opaque;

    (void)attrs;
    if (offset + size <= sizeof(d->iomem))
        copy_small(&d->iomem[offset], &value, size);
    return MT_TX_OK;
}

static const mt_ops testdev_mem_ops = {
    .read = testdev_mem_read,
    .write = testdev_mem_write,
    .endian = MT_ENDIAN_LITTLE,
};

int vmm_testdev_init(struct vmm_testdev *d, mt_ctx *ctx, mt_region *io,
                     mt_region *mmio)
{
    int rc;

    rc = mt_region_new_io(ctx, "pc-testdev-ioport", 4, &testdev_port_ops, d,
                          &d->ioport);
    if (!rc)
        rc = mt_region_new_io(ctx, "pc-testdev-ioport-byte", 4,
                              &testdev_port_byte_ops, d, &d->ioport_byte);
    if (!rc)
        rc = mt_region_new_io(ctx, "pc-testdev-iomem",
                              VMM_TESTDEV_IOMEM_SIZE, &testdev_mem_ops, d,
                              &d->iomem_region);
    if (rc)
        return rc;
    /* One device: its regions share a re-entrancy guard. */
    mt_region_set_guard(d->ioport, &d->guard);
    mt_region_set_guard(d->ioport_byte, &d->guard);
    mt_region_set_guard(d->iomem_region, &d->guard);
    rc = mt_region_add_subregion(io, VMM_TESTDEV_IOPORT, d->ioport);
    if (!rc)
        rc = mt_region_add_subregion(io, VMM_TESTDEV_IOPORT_BYTE,
                                     d->ioport_byte);
    if (!rc)
        rc = mt_region_add_subregion(mmio, VMM_TESTDEV_IOMEM,
                                     d->iomem_region);
    return rc;
}

/* ---- isa-debug-exit ------------------------------------------------------- */

static mt_result debug_exit_write(void *opaque, uint64_t offset,
                                  uint64_t value, unsigned size,
                                  mt_attrs attrs)
{
    struct vmm_debug_exit *d = opaque;
    mt_kvm_vcpu *vcpu;

    (void)offset, (void)size, (void)attrs;
    /* QEMU calls exit() here; the machine stops the vCPU instead, and the
     * command exits with the same status once the run returns. */
    d->req->requested = true;
    d->req->status = (int)(((uint32_t)value << 1) | 1);
    vcpu = mt_kvm_vcpu_current();
    if (vcpu)
        mt_kvm_vcpu_stop(vcpu, d->req->status);
    return MT_TX_OK;
}

static const mt_ops debug_exit_ops = {
    .write = debug_exit_write,
    .endian = MT_ENDIAN_LITTLE,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
};

int vmm_debug_exit_init(struct vmm_debug_exit *d, mt_ctx *ctx, mt_region *io,
                        struct vmm_exit_request *req)
{
    int rc;

    d->req = req;
    rc = mt_region_new_io(ctx, "isa-debug-exit", VMM_DEBUG_EXIT_SIZE,
                          &debug_exit_ops, d, &d->region);
    if (!rc)
        rc = mt_region_add_subregion(io, VMM_DEBUG_EXIT_PORT, d->region);
    return rc;
}

/* ---- isa-debugcon --------------------------------------------------------- */

static mt_result debugcon_read(void *opaque, uint64_t offset, uint64_t *value,
                               unsigned size, mt_attrs attrs)
{
    (void)opaque, (void)offset, (void)size, (void)attrs;
    *value = 0xe9; /* QEMU's readback value: tells the guest it is there */
    return MT_TX_OK;
}

static mt_result debugcon_write(void *opaque, uint64_t offset, uint64_t value,
                                unsigned size, mt_attrs attrs)
{
    struct vmm_debugcon *d = opaque;
    int c = (int)(value & 0xff);

    (void)offset, (void)size, (void)attrs;
    putc_unlocked(c, d->out);
    if (c == '\n')
        fflush(d->out);
    return MT_TX_OK;
}

static const mt_ops debugcon_ops = {
    .read = debugcon_read,
    .write = debugcon_write,
    .endian = MT_ENDIAN_LITTLE,
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

int vmm_debugcon_init(struct vmm_debugcon *d, mt_ctx *ctx, mt_region *io,
                      FILE *out)
{
    int rc;

    d->out = out;
    rc = mt_region_new_io(ctx, "isa-debugcon", 1, &debugcon_ops, d,
                          &d->region);
    if (!rc)
        rc = mt_region_add_subregion(io, VMM_DEBUGCON_PORT, d->region);
    return rc;
}
