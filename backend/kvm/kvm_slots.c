/* SPDX-License-Identifier: MIT */
/*
 * kvm_slots.c: the KVM memslot listener. Built on the public API only: the
 * core knows nothing of KVM.
 *
 * Each RAM-backed range of the memory address space becomes one or more
 * slots exactly as QEMU 7.2's kvm_set_phys_mem makes them: RAM, ROM, RAM
 * devices and ROM devices in ROMD mode; start rounded up and size rounded
 * down to the host page; split at max_slot_size; KVM_MEM_READONLY from the
 * region's own kind (ROM, ROMD), never from an inherited read-only flag;
 * KVM_MEM_LOG_DIRTY_PAGES while any client logs the range. The listener
 * hears all removals before additions, so KVM sees deletes before adds; a
 * logging slot's dirty log is harvested before it goes. Slot numbers are
 * reused lowest first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "memtree.h"
#include "kvm_internal.h"

static uint64_t host_page(void)
{
    long p = sysconf(_SC_PAGESIZE);

    return p > 0 ? (uint64_t)p : 4096;
}

static void set_error(mt_kvm *k, int err)
{
    if (!k->error)
        k->error = err;
}

/* ---- the slot table ------------------------------------------------------ */

static int alloc_slot_id(mt_kvm *k, unsigned *id)
{
    for (unsigned i = 0; i < k->max_slots; i++) {
        if (i >= k->cap_used || !k->used[i]) {
            if (i >= k->cap_used) {
                unsigned cap = k->cap_used ? 2 * k->cap_used : 64;
                bool *u;
                unsigned *m;

                while (cap <= i)
                    cap *= 2;
                m = realloc(k->log_mask, cap * sizeof(*m));
                if (!m)
                    return MT_ENOMEM;
                k->log_mask = m;
                u = realloc(k->used, cap * sizeof(*u));
                if (!u)
                    return MT_ENOMEM;
                memset(u + k->cap_used, 0, (cap - k->cap_used) * sizeof(*u));
                memset(m + k->cap_used, 0, (cap - k->cap_used) * sizeof(*m));
                k->used = u;
                k->cap_used = cap;
            }
            k->used[i] = true;
            *id = i;
            return 0;
        }
    }
    return MT_ENOMEM; /* "no free slot available" */
}

/* Index of the first slot with gpa >= @gpa. */
static size_t slot_pos(const mt_kvm *k, uint64_t gpa)
{
    size_t lo = 0, hi = k->nr;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (k->slots[mid].gpa < gpa)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static mt_kvm_slot *find_slot(mt_kvm *k, uint64_t gpa, uint64_t size)
{
    size_t i = slot_pos(k, gpa);

    if (i < k->nr && k->slots[i].gpa == gpa && k->slots[i].size == size)
        return &k->slots[i];
    return NULL;
}

/* KVM_SET_USER_MEMORY_REGION (size 0 deletes). */
static int set_region(mt_kvm *k, const mt_kvm_slot *s, uint64_t size)
{
    struct kvm_userspace_memory_region m;

    if (k->vm_fd < 0)
        return 0;
    memset(&m, 0, sizeof(m));
    m.slot = s->slot | (s->as_id << 16);
    m.flags = s->flags;
    m.guest_phys_addr = s->gpa;
    m.memory_size = size;
    m.userspace_addr = (uint64_t)(uintptr_t)s->hva;
    if (ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &m) < 0)
        return MT_EIO;
    return 0;
}

static int insert_slot(mt_kvm *k, const mt_kvm_slot *s)
{
    size_t i;

    if (k->nr == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 32;
        mt_kvm_slot *p = realloc(k->slots, cap * sizeof(*p));

        if (!p)
            return MT_ENOMEM;
        k->slots = p;
        k->cap = cap;
    }
    i = slot_pos(k, s->gpa);
    memmove(&k->slots[i + 1], &k->slots[i], (k->nr - i) * sizeof(*s));
    k->slots[i] = *s;
    k->nr++;
    return 0;
}

static void remove_slot(mt_kvm *k, mt_kvm_slot *s)
{
    size_t i = (size_t)(s - k->slots);

    k->used[s->slot] = false;
    memmove(&k->slots[i], &k->slots[i + 1], (k->nr - i - 1) * sizeof(*s));
    k->nr--;
}

/* ---- ranges to slots ----------------------------------------------------- */

/* Does @fr get slots, and with which flags? */
static bool slot_flags(const mt_kvm *k, const mt_flat_range *fr,
                       uint32_t *flags)
{
    const mt_region *mr = fr->region;
    mt_region_kind kind = mt_region_kind_of(mr);
    bool ro;

    if (!mt_region_ram_ptr(mr))
        return false;
    if (kind == MT_REGION_ROM_DEVICE) {
        if (!fr->romd)
            return false; /* MMIO mode: every access traps */
        ro = true;
    } else if (kind == MT_REGION_RAM || kind == MT_REGION_RAM_DEVICE) {
        ro = mt_region_readonly(mr);
    } else {
        return false;
    }
    if (ro && k->no_readonly_mem)
        return false;
    *flags = (ro ? MT_KVM_MEM_READONLY : 0) |
             (fr->dirty_log_mask ? MT_KVM_MEM_LOG_DIRTY_PAGES : 0);
    return true;
}

/*
 * Host-page aligned part of @fr: start rounded up, size rounded down.
 * Returns false when nothing is left. *@off is the offset in the region.
 */
static bool aligned_part(const mt_kvm *k, const mt_flat_range *fr,
                         uint64_t *start, uint64_t *size, uint64_t *off)
{
    uint64_t page = k->page;
    uint64_t len = fr->last - fr->start + 1; /* RAM never spans 2^64 */
    uint64_t delta = ((fr->start + page - 1) & ~(page - 1)) - fr->start;

    if (len <= delta)
        return false;
    *start = fr->start + delta;
    *off = fr->offset + delta;
    *size = (len - delta) & ~(page - 1);
    return *size != 0;
}

/* Size of the next slot of a part with @left bytes left. */
static uint64_t piece_size(const mt_kvm *k, uint64_t left)
{
    return k->max_slot_size && left > k->max_slot_size ? k->max_slot_size
                                                        : left;
}

/*
 * With manual protection, KVM_GET_DIRTY_LOG neither clears the log nor
 * write-protects the pages again: KVM_CLEAR_DIRTY_LOG does, for the pages
 * whose bits are set in the bitmap we fetched. Chunks start on multiples
 * of 64 pages; the last one runs to the end of the slot.
 */
static void clear_log(mt_kvm *k, uint32_t slot, const uint64_t *bitmap,
                      uint64_t pages)
{
    const uint64_t chunk = UINT64_C(1) << 30; /* pages; a multiple of 64 */

    for (uint64_t first = 0; first < pages; first += chunk) {
        uint64_t n = pages - first < chunk ? pages - first : chunk;
        struct kvm_clear_dirty_log c;
        bool any = false;

        for (uint64_t w = first / 64; w < (first + n + 63) / 64 && !any; w++)
            any = bitmap[w] != 0;
        if (!any)
            continue;
        memset(&c, 0, sizeof(c));
        c.slot = slot;
        c.first_page = first;
        c.num_pages = (uint32_t)n;
        c.dirty_bitmap = (void *)(bitmap + first / 64);
        if (ioctl(k->vm_fd, KVM_CLEAR_DIRTY_LOG, &c) < 0)
            set_error(k, MT_EIO);
    }
}

static bool ring_on(const mt_kvm *k)
{
    return k->vm && mt__kvm_vm_ring_on(k->vm);
}

/*
 * Harvest the dirty log of slot @s into its block (at log_sync, and before
 * the slot goes or stops logging). With the dirty ring, the rings of every
 * vCPU are harvested instead: they hold the entries of all slots.
 */
static void harvest(mt_kvm *k, const mt_kvm_slot *s, unsigned clients)
{
    uint64_t pages = s->size / MT_DIRTY_PAGE_SIZE;
    struct kvm_dirty_log log;
    uint64_t *bitmap;

    if (k->vm_fd < 0 || !(s->flags & MT_KVM_MEM_LOG_DIRTY_PAGES) || !pages)
        return;
    if (ring_on(k)) {
        if (mt__kvm_vm_harvest_rings(k->vm) < 0)
            set_error(k, MT_EIO);
        return;
    }
    bitmap = calloc((pages + 63) / 64, sizeof(*bitmap));
    if (!bitmap) {
        set_error(k, MT_ENOMEM);
        return;
    }
    memset(&log, 0, sizeof(log));
    log.slot = s->slot | (s->as_id << 16);
    log.dirty_bitmap = bitmap;
    if (ioctl(k->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0) {
        set_error(k, MT_EIO);
    } else {
        mt_region_dirty_merge(s->region, s->offset, bitmap, pages,
                              clients ? clients : MT_DIRTY_VGA);
        if (k->manual_protect)
            clear_log(k, log.slot, bitmap, pages);
    }
    free(bitmap);
}

void mt__kvm_ring_dirty(mt_kvm *k, unsigned id, uint64_t first, uint64_t n)
{
    const mt_kvm_slot *s = NULL;
    uint64_t pages;
    unsigned clients;

    if (k->hit < k->nr && k->slots[k->hit].slot == id) {
        s = &k->slots[k->hit];
    } else {
        for (size_t i = 0; i < k->nr; i++) {
            if (k->slots[i].slot == id) {
                k->hit = i;
                s = &k->slots[i];
                break;
            }
        }
    }
    if (!s)
        return; /* a slot that is gone: it was harvested before it went */
    pages = s->size / k->page;
    if (first >= pages)
        return;
    if (n > pages - first)
        n = pages - first;
    clients = id < k->cap_used ? k->log_mask[id] : 0;
    mt_region_dirty_set(s->region, s->offset + first * k->page, n * k->page,
                        clients ? clients : MT_DIRTY_VGA);
}

void mt__kvm_ring_all_dirty(mt_kvm *k)
{
    for (size_t i = 0; i < k->nr; i++) {
        const mt_kvm_slot *s = &k->slots[i];

        if (s->flags & MT_KVM_MEM_LOG_DIRTY_PAGES)
            mt__kvm_ring_dirty(k, s->slot, 0, s->size / k->page);
    }
}

static void range_add(void *opaque, const mt_flat_range *fr)
{
    mt_kvm *k = opaque;
    uint64_t start, size, off;
    uint32_t flags;

    if (!slot_flags(k, fr, &flags) || !aligned_part(k, fr, &start, &size,
                                                    &off))
        return;
    while (size) {
        uint64_t piece = piece_size(k, size);
        mt_kvm_slot s = { k->as_id, 0, flags, start, piece,
                          (uint8_t *)mt_region_ram_ptr(fr->region) + off,
                          fr->region, off };
        int rc = alloc_slot_id(k, &s.slot);

        if (!rc) {
            k->log_mask[s.slot] = fr->dirty_log_mask;
            rc = set_region(k, &s, s.size);
            if (!rc)
                rc = insert_slot(k, &s);
            if (rc)
                k->used[s.slot] = false;
        }
        if (rc) {
            set_error(k, rc);
            return;
        }
        start += piece;
        off += piece;
        size -= piece;
    }
}

static void range_del(void *opaque, const mt_flat_range *fr)
{
    mt_kvm *k = opaque;
    uint64_t start, size, off;
    uint32_t flags;

    if (!slot_flags(k, fr, &flags) || !aligned_part(k, fr, &start, &size,
                                                    &off))
        return;
    while (size) {
        uint64_t piece = piece_size(k, size);
        mt_kvm_slot *s = find_slot(k, start, piece);

        if (s) {
            harvest(k, s, fr->dirty_log_mask);
            if (set_region(k, s, 0))
                set_error(k, MT_EIO);
            remove_slot(k, s);
        }
        start += piece;
        size -= piece;
    }
}

/* log_start / log_stop: new flags on the range's slots. */
static void range_log(void *opaque, const mt_flat_range *fr, unsigned om,
                      unsigned nm)
{
    mt_kvm *k = opaque;
    uint64_t start, size, off;
    uint32_t flags;

    if (!slot_flags(k, fr, &flags) || !aligned_part(k, fr, &start, &size,
                                                    &off))
        return;
    while (size) {
        uint64_t piece = piece_size(k, size);
        mt_kvm_slot *s = find_slot(k, start, piece);

        if (s && s->flags != flags) {
            if (!(flags & MT_KVM_MEM_LOG_DIRTY_PAGES))
                harvest(k, s, om);
            s->flags = flags;
            if (set_region(k, s, s->size))
                set_error(k, MT_EIO);
        }
        if (s)
            k->log_mask[s->slot] = nm;
        start += piece;
        size -= piece;
    }
}

static void range_sync(void *opaque, const mt_flat_range *fr)
{
    mt_kvm *k = opaque;

    for (size_t i = slot_pos(k, fr->start); i < k->nr; i++) {
        mt_kvm_slot *s = &k->slots[i];

        if (s->gpa > fr->last)
            break;
        harvest(k, s, fr->dirty_log_mask);
    }
}

int mt_kvm_sync_dirty(mt_kvm *k)
{
    if (!k)
        return MT_EINVAL;
    return mt_as_log_sync(k->memory, NULL);
}

/* ---- ioeventfd and coalesced zones ---------------------------------------- */

static void eventfd(mt_kvm *k, const mt_eventfd *e, bool pio, bool assign)
{
    struct kvm_ioeventfd io;

    if (k->vm_fd < 0)
        return;
    memset(&io, 0, sizeof(io));
    io.datamatch = e->match_data ? e->data : 0;
    io.addr = e->addr;
    io.len = e->size;
    io.fd = e->fd;
    io.flags = (e->match_data ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0) |
               (pio ? KVM_IOEVENTFD_FLAG_PIO : 0) |
               (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN);
    if (ioctl(k->vm_fd, KVM_IOEVENTFD, &io) < 0)
        set_error(k, MT_EIO);
}

static void mmio_eventfd_add(void *o, const mt_flat_range *r,
                             const mt_eventfd *e)
{
    (void)r;
    eventfd(o, e, false, true);
}

static void mmio_eventfd_del(void *o, const mt_flat_range *r,
                             const mt_eventfd *e)
{
    (void)r;
    eventfd(o, e, false, false);
}

static void pio_eventfd_add(void *o, const mt_flat_range *r,
                            const mt_eventfd *e)
{
    (void)r;
    eventfd(o, e, true, true);
}

static void pio_eventfd_del(void *o, const mt_flat_range *r,
                            const mt_eventfd *e)
{
    (void)r;
    eventfd(o, e, true, false);
}

static void zone(mt_kvm *k, uint64_t addr, uint64_t len, bool pio, bool add)
{
    struct kvm_coalesced_mmio_zone z;

    if (k->vm_fd < 0)
        return;
    /* QEMU flushes when coalescing is cleared: what the zone queued is
     * delivered before it goes. */
    if (!add && k->vm)
        mt__kvm_vm_flush_nowait(k->vm);
    memset(&z, 0, sizeof(z));
    z.addr = addr;
    z.size = (uint32_t)len;
    z.pio = pio;
    if (ioctl(k->vm_fd, add ? KVM_REGISTER_COALESCED_MMIO
                            : KVM_UNREGISTER_COALESCED_MMIO, &z) < 0)
        set_error(k, MT_EIO);
    else if (k->vm)
        mt__kvm_vm_zones(k->vm, add ? 1 : -1);
}

static void mmio_zone_add(void *o, const mt_flat_range *r, uint64_t a,
                          uint64_t l)
{
    (void)r;
    zone(o, a, l, false, true);
}

static void mmio_zone_del(void *o, const mt_flat_range *r, uint64_t a,
                          uint64_t l)
{
    (void)r;
    zone(o, a, l, false, false);
}

static void pio_zone_add(void *o, const mt_flat_range *r, uint64_t a,
                         uint64_t l)
{
    (void)r;
    zone(o, a, l, true, true);
}

static void pio_zone_del(void *o, const mt_flat_range *r, uint64_t a,
                         uint64_t l)
{
    (void)r;
    zone(o, a, l, true, false);
}

/* ---- transactions ---------------------------------------------------------- */

/* QEMU flushes the coalesced ring at every transaction begin, so that the
 * queued writes reach the devices under the map they were made in. */
static void kvm_begin(void *opaque)
{
    mt_kvm *k = opaque;

    if (k->vm)
        mt__kvm_vm_flush_nowait(k->vm);
}

/* ---- lifetime and queries -------------------------------------------------- */

/*
 * KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, where offered, before the first slot:
 * reading the log then leaves the pages writable until harvest() clears
 * exactly the bits it fetched, and with KVM_DIRTY_LOG_INITIALLY_SET a slot
 * starts logging with every bit set instead of write-protecting all its
 * pages at once. Without the cap, KVM_GET_DIRTY_LOG clears as it reads.
 * Not with the dirty ring, which replaces the log.
 */
static void enable_manual_protect(mt_kvm *k)
{
    struct kvm_enable_cap cap;
    int n = ioctl(k->vm_fd, KVM_CHECK_EXTENSION,
                  KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2);

    if (n <= 0 || !(n & KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE))
        return;
    memset(&cap, 0, sizeof(cap));
    cap.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2;
    cap.args[0] = (uint64_t)n & (KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE |
                                 KVM_DIRTY_LOG_INITIALLY_SET);
    if (ioctl(k->vm_fd, KVM_ENABLE_CAP, &cap) == 0)
        k->manual_protect = true;
}

/* Stop routing the VM's dirty-ring entries here. */
static void detach_vm(mt_kvm *k)
{
    if (k->vm)
        mt__kvm_vm_attach(k->vm, k->as_id, NULL);
}

int mt_kvm_new(mt_as *memory, const mt_kvm_opts *opts, mt_kvm **out)
{
    static const mt_kvm_opts none = { .vm_fd = -1 };
    mt_listener_ops ops = {
        .priority = 10,
        .begin = kvm_begin,
        .region_add = range_add,
        .region_del = range_del,
        .log_start = range_log,
        .log_stop = range_log,
        .log_sync = range_sync,
        .eventfd_add = mmio_eventfd_add,
        .eventfd_del = mmio_eventfd_del,
        .coalesced_io_add = mmio_zone_add,
        .coalesced_io_del = mmio_zone_del,
    };
    mt_kvm *k;
    int rc;

    if (!memory || !out)
        return MT_EINVAL;
    if (!opts)
        opts = &none;
    k = calloc(1, sizeof(*k));
    if (!k)
        return MT_ENOMEM;
    k->memory = memory;
    k->vm = opts->vm;
    k->vm_fd = opts->vm ? mt_kvm_vm_fd(opts->vm) : opts->vm_fd;
    k->as_id = opts->as_id;
    k->page = host_page();
    k->max_slot_size = opts->max_slot_size & ~(k->page - 1);
    k->no_readonly_mem = opts->no_readonly_mem;
    k->max_slots = opts->max_slots;
    if (!k->max_slots && k->vm_fd >= 0) {
        int n = ioctl(k->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);

        k->max_slots = n > 0 ? (unsigned)n : 32;
    }
    if (!k->max_slots)
        k->max_slots = 32764;
    if (k->vm_fd >= 0 && !ring_on(k))
        enable_manual_protect(k);
    if (k->vm)
        mt__kvm_vm_attach(k->vm, k->as_id, k);
    rc = mt_listener_register(memory, &ops, k, &k->mem_listener);
    if (!rc && k->error)
        rc = k->error;
    if (rc) {
        mt_kvm_free(k);
        return rc;
    }
    *out = k;
    return 0;
}

int mt_kvm_attach_io(mt_kvm *k, mt_as *io)
{
    mt_listener_ops ops = {
        .priority = 10,
        .eventfd_add = pio_eventfd_add,
        .eventfd_del = pio_eventfd_del,
        .coalesced_io_add = pio_zone_add,
        .coalesced_io_del = pio_zone_del,
    };

    if (!k || !io || k->io_listener)
        return MT_EINVAL;
    return mt_listener_register(io, &ops, k, &k->io_listener);
}

void mt_kvm_free(mt_kvm *k)
{
    if (!k)
        return;
    mt_listener_unregister(k->io_listener);
    mt_listener_unregister(k->mem_listener);
    detach_vm(k);
    free(k->slots);
    free(k->used);
    free(k->log_mask);
    free(k);
}

void mt_kvm_release(mt_kvm *k)
{
    if (!k)
        return;
    /* From here on a dry run: the listeners' goodbyes issue no ioctl. */
    detach_vm(k);
    k->vm_fd = -1;
    k->vm = NULL;
    mt_kvm_free(k);
}

int mt_kvm_error(const mt_kvm *k)
{
    return k ? k->error : MT_EINVAL;
}

size_t mt_kvm_nr_slots(const mt_kvm *k)
{
    return k ? k->nr : 0;
}

const mt_kvm_slot *mt_kvm_slot_at(const mt_kvm *k, size_t i)
{
    return k && i < k->nr ? &k->slots[i] : NULL;
}

bool mt_kvm_has_memory(const mt_kvm *k, uint64_t start, uint64_t size)
{
    if (!k)
        return false;
    if (k->max_slot_size && size > k->max_slot_size)
        size = k->max_slot_size;
    return find_slot((mt_kvm *)k, start, size) != NULL;
}

const char *mt_kvm_note(void *opaque, const mt_as *as,
                        const mt_flat_range *range)
{
    const mt_kvm *k = opaque;

    if (!k || as != k->memory)
        return NULL;
    return mt_kvm_has_memory(k, range->start, range->last - range->start + 1)
               ? " KVM" : NULL;
}
