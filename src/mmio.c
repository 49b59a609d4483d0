/* SPDX-License-Identifier: MIT */
/*
 * mmio.c: calling a device's callbacks for one access, with QEMU 7.2's
 * rules: the bus validity check (valid.*), widening or splitting to the
 * sizes the callbacks implement (impl.*), byte order, and the re-entrancy
 * guard that refuses a device entered again while it is handling an
 * access on the same thread.
 */
#include <string.h>

#include "mmio_int.h"

_Thread_local mt_guard_frame *mt__active_guards
    __attribute__((tls_model("initial-exec")));

static mt_result ram_device_read(void *opaque, uint64_t offset,
                                 uint64_t *value, unsigned size, mt_attrs a)
{
    uint8_t *p = (uint8_t *)opaque + offset;

    (void)a;
    switch (size) {
    case 1: { uint8_t v; memcpy(&v, p, 1); *value = v; break; }
    case 2: { uint16_t v; memcpy(&v, p, 2); *value = v; break; }
    case 4: { uint32_t v; memcpy(&v, p, 4); *value = v; break; }
    default: { uint64_t v; memcpy(&v, p, 8); *value = v; break; }
    }
    return MT_TX_OK;
}

static mt_result ram_device_write(void *opaque, uint64_t offset,
                                  uint64_t value, unsigned size, mt_attrs a)
{
    uint8_t *p = (uint8_t *)opaque + offset;

    (void)a;
    switch (size) {
    case 1: { uint8_t v = (uint8_t)value; memcpy(p, &v, 1); break; }
    case 2: { uint16_t v = (uint16_t)value; memcpy(p, &v, 2); break; }
    case 4: { uint32_t v = (uint32_t)value; memcpy(p, &v, 4); break; }
    default: memcpy(p, &value, 8); break;
    }
    return MT_TX_OK;
}

/* Host-order 1..8 byte accessors over the memory of a RAM device. */
static const mt_ops ram_device_ops = {
    .read = ram_device_read,
    .write = ram_device_write,
    .endian = MT_ENDIAN_LITTLE,
    .valid = { 1, 8, true, NULL },
    .impl = { 1, 8, true },
};

static mt_result unassigned_io_read(void *opaque, uint64_t offset,
                                    uint64_t *value, unsigned size, mt_attrs a)
{
    (void)opaque, (void)offset, (void)a;
    *value = size >= 8 ? UINT64_MAX : (UINT64_C(1) << (size * 8)) - 1;
    return MT_TX_OK;
}

static mt_result unassigned_io_write(void *opaque, uint64_t offset,
                                     uint64_t value, unsigned size, mt_attrs a)
{
    (void)opaque, (void)offset, (void)value, (void)size, (void)a;
    return MT_TX_OK;
}

static const mt_ops unassigned_io_ops = {
    .read = unassigned_io_read,
    .write = unassigned_io_write,
    .endian = MT_ENDIAN_LITTLE,
};

const mt_ops *mt_ops_unassigned_io(void)
{
    return &unassigned_io_ops;
}

/* Callbacks of @mr and their opaque, or NULL when it accepts nothing. */
static const mt_ops *region_ops(const mt_region *mr, void **opaque)
{
    if (mr->kind == MT_REGION_RAM_DEVICE) {
        *opaque = mr->host;
        return &ram_device_ops;
    }
    *opaque = mr->opaque;
    return mr->has_ops ? &mr->ops : NULL;
}

bool mt__access_valid(mt_region *mr, uint64_t addr, unsigned size,
                      bool is_write, mt_attrs attrs)
{
    void *opaque;
    const mt_ops *ops = region_ops(mr, &opaque);

    if (!ops)
        return false; /* like QEMU's unassigned ops: accepts nothing */
    if (ops->valid.accepts &&
        !ops->valid.accepts(opaque, addr, size, is_write, attrs))
        return false;
    if (!ops->valid.unaligned && (addr & (size - 1)))
        return false;
    if (!ops->valid.max_access_size)
        return true;
    return size <= ops->valid.max_access_size &&
           size >= ops->valid.min_access_size;
}

unsigned mt__access_size(const mt_region *mr, uint64_t len, uint64_t addr)
{
    void *opaque;
    const mt_ops *ops = region_ops(mr, &opaque);
    unsigned max = ops && ops->valid.max_access_size
                       ? ops->valid.max_access_size : 4;
    unsigned l;

    if (!ops || !ops->impl.unaligned) {
        uint64_t align = addr & -addr;

        if (align && align < max)
            max = (unsigned)align;
    }
    l = len < max ? (unsigned)len : max;
    while (l & (l - 1))
        l &= l - 1; /* round down to a power of two */
    return l;
}

static uint64_t shifted(uint64_t v, int shift)
{
    return shift >= 0 ? v << shift : v >> -shift;
}

/* As mt__io_guarded (mmio_int.h), for any region. */
static bool guarded(const mt_region *mr)
{
    return mr->kind == MT_REGION_IO &&
           !__atomic_load_n(&mr->guard_off, __ATOMIC_RELAXED) &&
           !__atomic_load_n(&mr->readonly, __ATOMIC_RELAXED);
}

/*
 * Run the callbacks for one access of @size bytes (QEMU's
 * access_with_adjusted_size): widened to impl.min at the same address, or
 * split into impl.max pieces, least significant piece first for a
 * little-endian device, most significant first for a big-endian one.
 */
/* Run the callbacks in pieces of @asz bytes (see adjusted()). */
static mt_result pieces(const mt_ops *ops, void *opaque, uint64_t addr,
                        uint64_t *value, unsigned size, unsigned asz,
                        bool is_write, mt_attrs attrs)
{
    uint64_t mask = mt__size_mask(asz);
    bool big = ops->endian == MT_ENDIAN_BIG;
    mt_result res = MT_TX_OK;

    for (unsigned i = 0; i < size; i += asz) {
        int shift = big ? (int)(size - asz - i) * 8 : (int)i * 8;

        if (is_write) {
            uint64_t piece = shifted(*value, -shift) & mask;

            res |= ops->write ? ops->write(opaque, addr + i, piece, asz, attrs)
                              : MT_TX_DECODE_ERROR;
        } else {
            uint64_t piece = 0;

            res |= ops->read ? ops->read(opaque, addr + i, &piece, asz, attrs)
                             : MT_TX_DECODE_ERROR;
            *value |= shifted(piece & mask, shift);
        }
    }
    return res;
}

/*
 * Run the callbacks for one access of @size bytes (QEMU's
 * access_with_adjusted_size): widened to impl.min at the same address, or
 * split into impl.max pieces, least significant piece first for a
 * little-endian device, most significant first for a big-endian one. The
 * common case, a size the callbacks implement, is one direct call.
 */
static mt_result adjusted(mt_region *mr, uint64_t addr, uint64_t *value,
                          unsigned size, bool is_write, mt_attrs attrs)
{
    void *opaque;
    const mt_ops *ops = region_ops(mr, &opaque);
    unsigned min = ops->impl.min_access_size ? ops->impl.min_access_size : 1;
    unsigned max = ops->impl.max_access_size ? ops->impl.max_access_size : 4;
    mt_guard_frame frame;
    bool pushed = false;
    mt_result res;

    if (guarded(mr)) {
        if (!mt__guard_enter(mr, &frame))
            return MT_TX_ACCESS_ERROR;
        pushed = true;
    }
    if (size >= min && size <= max) {
        if (is_write)
            res = ops->write ? ops->write(opaque, addr, *value, size, attrs)
                             : MT_TX_DECODE_ERROR;
        else
            res = ops->read ? ops->read(opaque, addr, value, size, attrs)
                            : MT_TX_DECODE_ERROR;
    } else {
        unsigned asz = size < min ? min : max;

        res = pieces(ops, opaque, addr, value, size, asz, is_write, attrs);
    }
    if (pushed)
        mt__guard_leave(&frame);
    return res;
}

/*
 * The sizes whose accesses need none of the above (for flat ranges, at
 * render time; the callbacks and their rules never change after
 * creation): I/O regions and ROM devices whose callbacks both exist, with
 * no validity callback, where the size is valid and implemented. Such an
 * access, at an offset aligned to its size, is one call (mt__io_read,
 * mt__io_write) behind the re-entrancy guard.
 */
unsigned mt__io_simple_sizes(const mt_region *mr)
{
    const mt_ops *ops = &mr->ops;
    unsigned min = ops->impl.min_access_size ? ops->impl.min_access_size : 1;
    unsigned max = ops->impl.max_access_size ? ops->impl.max_access_size : 4;
    unsigned bits = 0;

    if ((mr->kind != MT_REGION_IO && mr->kind != MT_REGION_ROM_DEVICE) ||
        !mr->has_ops || !ops->read || !ops->write || ops->valid.accepts)
        return 0;
    for (unsigned n = 0; n < 4; n++) {
        unsigned size = 1u << n;

        if (size < min || size > max)
            continue;
        if (ops->valid.max_access_size &&
            (size > ops->valid.max_access_size ||
             size < ops->valid.min_access_size))
            continue;
        bits |= MT__ACCESS_IO1 << n;
    }
    if (bits && mr->kind == MT_REGION_IO)
        bits |= MT__ACCESS_GUARD;
    return bits;
}

mt_result mt__dispatch_read(mt_region *mr, uint64_t addr, uint64_t *value,
                            unsigned size, mt_endian op, mt_attrs attrs)
{
    mt_result res;

    *value = 0;
    if (!mt__access_valid(mr, addr, size, false, attrs))
        return MT_TX_DECODE_ERROR;
    res = adjusted(mr, addr, value, size, false, attrs);
    *value &= mt__size_mask(size);
    if (op != mt__region_endian(mr))
        *value = mt__bswap(*value, size);
    return res;
}

mt_result mt__dispatch_write(mt_region *mr, uint64_t addr, uint64_t value,
                             unsigned size, mt_endian op, mt_attrs attrs)
{
    if (!mt__access_valid(mr, addr, size, true, attrs))
        return MT_TX_DECODE_ERROR;
    value &= mt__size_mask(size);
    if (op != mt__region_endian(mr))
        value = mt__bswap(value, size);
    return adjusted(mr, addr, &value, size, true, attrs);
}
