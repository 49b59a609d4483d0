/* SPDX-License-Identifier: MIT */
/*
 * kvm_vm.c: a KVM VM, its vCPUs and the run loop. Exits go back through
 * the public access path: MMIO to the memory address space, port I/O to
 * the I/O address space, as QEMU 7.2's kvm_cpu_exec. The coalesced ring
 * (KVM_CAP_COALESCED_MMIO) is replayed oldest first before any exit is
 * dispatched, before the loop returns, and at every commit (through the
 * memslot listener's begin hook).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "memtree.h"
#include "kvm_internal.h"

/* QEMU's x86 placement of the VMX identity map and TSS (just below the
 * BIOS area at 4 GiB - 16 MiB). */
#define MT_KVM_IDENTITY_MAP_ADDR 0xfeffc000UL
#define MT_KVM_TSS_ADDR          0xfeffd000UL

struct mt_kvm_vm {
    int sys_fd;
    int vm_fd;
    size_t run_size;                       /* KVM_GET_VCPU_MMAP_SIZE */
    long page;                             /* host page size */
    unsigned ring_page;                    /* KVM_CAP_COALESCED_MMIO, 0: none */
    struct kvm_coalesced_mmio_ring *ring;  /* in the first vCPU's mapping */
    uint32_t ring_max;                     /* entries in the ring */
    mt_kvm_vcpu *ring_owner;               /* whose address spaces replay */
    /* One replayer at a time: entries are taken in order, once each. */
    pthread_mutex_t flush_lock;
    long zones;                            /* coalesced zones registered */
    uint64_t flushed;                      /* entries replayed, ever */
    unsigned nr_vcpus;
    size_t dirty_ring_bytes;               /* per vCPU; 0: no dirty ring */
    uint64_t ring_overflows;               /* harvests that took a whole ring */
    mt_kvm_vcpu *vcpus;                    /* all of them, newest first */
    mt_kvm *owners[MT_KVM_RING_AS];        /* slot tables, by as_id */
};

struct mt_kvm_vcpu {
    mt_kvm_vm *vm;
    int fd;
    unsigned id;
    struct kvm_run *run;
    mt_as *memory;
    mt_as *io;
    bool stop;
    int stop_code;
    mt_kvm_vcpu_stats stats;
    mt_kvm_vcpu *next;                     /* in vm->vcpus */
    struct kvm_dirty_gfn *dring;           /* its dirty ring, or NULL */
    uint32_t dring_n;                      /* entries (a power of two) */
    uint32_t dring_next;                   /* next entry to look at */
};

/* ---- VM ------------------------------------------------------------------- */

static int sys_error(int err)
{
    return err == ENOENT || err == ENODEV || err == ENXIO ? MT_ENOENT
                                                          : MT_EIO;
}

/*
 * The dirty ring (before any vCPU exists): KVM_CAP_DIRTY_LOG_RING_ACQ_REL
 * where offered, else KVM_CAP_DIRTY_LOG_RING; both report the largest
 * ring in bytes. The size is rounded up to a power of two of at least
 * 64 KiB (4096 entries: room for the entries KVM keeps in reserve).
 */
static int enable_dirty_ring(mt_kvm_vm *vm, size_t want)
{
    struct kvm_enable_cap cap;
    unsigned which = KVM_CAP_DIRTY_LOG_RING_ACQ_REL;
    int max = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, which);
    size_t size = 64 * 1024;

    if (max <= 0) {
        which = KVM_CAP_DIRTY_LOG_RING;
        max = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, which);
    }
    if (max <= 0) {
        errno = EOPNOTSUPP;
        return MT_EIO;
    }
    while (size < want && size <= (size_t)max)
        size *= 2;
    if (size < (size_t)vm->page)
        size = (size_t)vm->page;
    if (size > (size_t)max) {
        errno = E2BIG;
        return MT_EINVAL;
    }
    memset(&cap, 0, sizeof(cap));
    cap.cap = which;
    cap.args[0] = size;
    if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
        return MT_EIO;
    vm->dirty_ring_bytes = size;
    return 0;
}

int mt_kvm_vm_new(const mt_kvm_vm_opts *opts, mt_kvm_vm **out)
{
    const char *dev = opts && opts->dev ? opts->dev : "/dev/kvm";
    mt_kvm_vm *vm;
    int api, saved, n, rc = MT_EIO;

    if (!out)
        return MT_EINVAL;
    *out = NULL;
    vm = calloc(1, sizeof(*vm));
    if (!vm)
        return MT_ENOMEM;
    pthread_mutex_init(&vm->flush_lock, NULL);
    vm->vm_fd = -1;
    vm->sys_fd = open(dev, O_RDWR | O_CLOEXEC);
    if (vm->sys_fd < 0) {
        saved = errno;
        free(vm);
        errno = saved;
        return sys_error(saved);
    }
    api = ioctl(vm->sys_fd, KVM_GET_API_VERSION, 0);
    if (api != KVM_API_VERSION) {
        if (api >= 0)
            errno = EPROTO;
        goto fail;
    }
    vm->vm_fd = ioctl(vm->sys_fd, KVM_CREATE_VM, opts ? opts->type : 0UL);
    if (vm->vm_fd < 0)
        goto fail;
    n = ioctl(vm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (n < (int)sizeof(struct kvm_run))
        goto fail;
    vm->run_size = (size_t)n;
    vm->page = sysconf(_SC_PAGESIZE);
    if (vm->page <= 0)
        vm->page = 4096;
    n = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);
    if (n > 0 && (size_t)n * (size_t)vm->page < vm->run_size)
        vm->ring_page = (unsigned)n;
    if (opts && opts->dirty_ring_bytes) {
        rc = enable_dirty_ring(vm, opts->dirty_ring_bytes);
        if (rc)
            goto fail;
        rc = MT_EIO;
    }
#if defined(__x86_64__) || defined(__i386__)
    /* Needed by VMX only; harmless elsewhere. The identity map must come
     * before the first vCPU. */
    if (ioctl(vm->vm_fd, KVM_CHECK_EXTENSION,
              KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
        uint64_t idmap = MT_KVM_IDENTITY_MAP_ADDR;

        if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
            goto fail;
    }
    if (ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_TSS_ADDR) > 0 &&
        ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, MT_KVM_TSS_ADDR) < 0)
        goto fail;
#endif
    *out = vm;
    return 0;

fail:
    saved = errno;
    if (vm->vm_fd >= 0)
        close(vm->vm_fd);
    close(vm->sys_fd);
    free(vm);
    errno = saved;
    return rc;
}

void mt_kvm_vm_free(mt_kvm_vm *vm)
{
    if (!vm)
        return;
    close(vm->vm_fd);
    close(vm->sys_fd);
    pthread_mutex_destroy(&vm->flush_lock);
    free(vm);
}

int mt_kvm_vm_fd(const mt_kvm_vm *vm)
{
    return vm ? vm->vm_fd : -1;
}

int mt_kvm_vm_sys_fd(const mt_kvm_vm *vm)
{
    return vm ? vm->sys_fd : -1;
}

size_t mt_kvm_vm_dirty_ring_bytes(const mt_kvm_vm *vm)
{
    return vm ? vm->dirty_ring_bytes : 0;
}

uint64_t mt_kvm_vm_ring_overflows(const mt_kvm_vm *vm)
{
    /* Atomic: harvests count under the writer lock, callers read anywhere. */
    return vm ? __atomic_load_n(&vm->ring_overflows, __ATOMIC_RELAXED) : 0;
}

int mt_kvm_vm_check_extension(const mt_kvm_vm *vm, unsigned cap)
{
    int n;

    if (!vm)
        return MT_EINVAL;
    n = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, (unsigned long)cap);
    return n > 0 ? n : 0;
}

/* ---- the coalesced ring ---------------------------------------------------- */

void mt__kvm_vm_zones(mt_kvm_vm *vm, int delta)
{
    __atomic_fetch_add(&vm->zones, delta, __ATOMIC_RELAXED);
}

/* Anything queued? One load of each index on the shared page, and not even
 * that while no zone is registered (a page fewer to touch per exit). */
static inline bool ring_pending(const mt_kvm_vm *vm)
{
    const struct kvm_coalesced_mmio_ring *r = vm->ring;

    return __atomic_load_n(&vm->zones, __ATOMIC_RELAXED) > 0 && r &&
           __atomic_load_n(&r->first, __ATOMIC_RELAXED) !=
               __atomic_load_n(&r->last, __ATOMIC_ACQUIRE);
}

/* The VM whose ring this thread is replaying: a write replayed may reach
 * a device whose callback changes the map, whose commit flushes again. */
static __thread const mt_kvm_vm *replaying;

/* Replay the ring (flush_lock held). */
static int replay(mt_kvm_vm *vm)
{
    struct kvm_coalesced_mmio_ring *r = vm->ring;
    mt_kvm_vcpu *v = vm->ring_owner;
    int n = 0;

    replaying = vm;
    for (;;) {
        uint32_t first = __atomic_load_n(&r->first, __ATOMIC_RELAXED);
        uint32_t last = __atomic_load_n(&r->last, __ATOMIC_ACQUIRE);
        struct kvm_coalesced_mmio *e;
        uint8_t data[8];
        uint32_t len;

        if (first == last || first >= vm->ring_max)
            break;
        e = &r->coalesced_mmio[first];
        len = e->len <= sizeof(data) ? e->len : sizeof(data);
        memcpy(data, e->data, len);
        if (e->pio) {
            if (v->io)
                mt_as_write(v->io, e->phys_addr, (mt_attrs){ 0 }, data, len);
        } else {
            mt_as_write(v->memory, e->phys_addr, (mt_attrs){ 0 }, data, len);
        }
        /* The entry is consumed only now: the kernel may reuse it. */
        __atomic_store_n(&r->first, (first + 1) % vm->ring_max,
                         __ATOMIC_RELEASE);
        n++;
    }
    vm->flushed += (uint64_t)n;
    replaying = NULL;
    return n;
}

/*
 * vCPU threads (and callers of the public flush) wait for a replay running
 * on another thread: when they go on, every write queued before is done.
 * The commit path (@wait false, the context's writer lock held) must not
 * wait: the replaying thread may need that lock for a device callback; the
 * replay under way delivers the entries anyway.
 */
static int flush(mt_kvm_vm *vm, bool wait)
{
    int n;

    if (!vm->ring || !vm->ring_owner || replaying == vm)
        return 0;
    if (wait)
        pthread_mutex_lock(&vm->flush_lock);
    else if (pthread_mutex_trylock(&vm->flush_lock))
        return 0;
    n = replay(vm);
    pthread_mutex_unlock(&vm->flush_lock);
    return n;
}

int mt_kvm_vm_flush_coalesced(mt_kvm_vm *vm)
{
    if (!vm)
        return MT_EINVAL;
    return flush(vm, true);
}

int mt__kvm_vm_flush_nowait(mt_kvm_vm *vm)
{
    return flush(vm, false);
}

/* ---- the dirty ring ----------------------------------------------------------- */

void mt__kvm_vm_attach(mt_kvm_vm *vm, unsigned as_id, mt_kvm *k)
{
    if (as_id < MT_KVM_RING_AS)
        vm->owners[as_id] = k;
}

bool mt__kvm_vm_ring_on(const mt_kvm_vm *vm)
{
    return vm->dirty_ring_bytes != 0;
}

/* Pages @first.. (@n of them) of KVM slot @slot (as_id << 16 | id) were
 * written: tell the slot table of that address space, if any. */
static void ring_run(mt_kvm_vm *vm, uint32_t slot, uint64_t first,
                     uint64_t n)
{
    unsigned as_id = slot >> 16;

    if (n && as_id < MT_KVM_RING_AS && vm->owners[as_id])
        mt__kvm_ring_dirty(vm->owners[as_id], slot & 0xffff, first, n);
}

/*
 * Harvest from a vCPU thread or the caller of mt_kvm_vcpu_free: under the
 * context's writer lock (a transaction), as the harvests of the slots
 * listener are. The slot tables it reads change in commits, and two vCPU
 * threads whose rings fill at once must not take the same entries.
 */
static int harvest_locked(mt_kvm_vcpu *v, uint32_t *next)
{
    mt_ctx *ctx = mt_region_ctx(mt_as_root(v->memory));
    int rc;

    mt_begin(ctx);
    rc = mt__kvm_vm_harvest_rings(v->vm);
    if (next)
        *next = v->dring_next; /* moves whenever anyone takes from @v's ring */
    mt_commit(ctx);
    return rc;
}

/*
 * KVM pushes one entry per write it logs and only asks the vCPU to exit
 * once the ring is nearly full; a vCPU that logs faster than that (seen
 * under kvm_pvm, where every emulated guest write pushes an entry)
 * overwrites entries nobody has read. A harvest that finds every entry of
 * a ring taken cannot tell, so it counts an overflow
 * (mt_kvm_vm_ring_overflows) and assumes the worst: every page of every
 * logging slot is marked dirty, at this harvest and every later one (a
 * migration resends it all; nothing is lost).
 */
static void ring_untrusted(mt_kvm_vm *vm)
{
    for (unsigned as_id = 0; as_id < MT_KVM_RING_AS; as_id++)
        if (vm->owners[as_id])
            mt__kvm_ring_all_dirty(vm->owners[as_id]);
}

/*
 * @v's ring is full for KVM yet holds nothing at the entry we expect next:
 * after an overflow, the entries KVM has not had back start with a gap of
 * empty ones (overwritten, harvested, reset) before those it wrote since.
 * KVM takes entries back in order and stops at the first one not marked
 * RESET, so the gap is marked RESET and the entries after it harvested.
 * Never more than KVM holds, or it would count the ring as full for ever:
 * when nothing follows the gap, how long it is cannot be known, and the
 * run fails (MT_EIO, errno EOVERFLOW) rather than guess. The ring is
 * untrusted from now on (every logging page counts as dirty).
 */
static int resync_locked(mt_kvm_vcpu *v)
{
    mt_ctx *ctx = mt_region_ctx(mt_as_root(v->memory));
    uint32_t gap = 0, n = v->dring_n;
    int rc;

    mt_begin(ctx);
    __atomic_fetch_add(&v->vm->ring_overflows, 1, __ATOMIC_RELAXED);
    while (gap < n && !(__atomic_load_n(&v->dring[(v->dring_next + gap) &
                                                  (n - 1)].flags,
                                        __ATOMIC_ACQUIRE) &
                        KVM_DIRTY_GFN_F_DIRTY))
        gap++;
    if (gap == n) {
        mt_commit(ctx);
        errno = EOVERFLOW;
        return MT_EIO;
    }
    for (uint32_t i = 0; i < gap; i++)
        __atomic_store_n(&v->dring[(v->dring_next + i) & (n - 1)].flags,
                         KVM_DIRTY_GFN_F_RESET, __ATOMIC_RELEASE);
    v->dring_next += gap;
    rc = mt__kvm_vm_harvest_rings(v->vm);
    if (rc == 0 && ioctl(v->vm->vm_fd, KVM_RESET_DIRTY_RINGS, 0) < 0)
        rc = MT_EIO;
    mt_commit(ctx);
    return rc < 0 ? rc : 0;
}

int mt__kvm_vm_harvest_rings(mt_kvm_vm *vm)
{
    int total = 0;

    if (!vm->dirty_ring_bytes)
        return 0;
    for (mt_kvm_vcpu *v = vm->vcpus; v; v = v->next) {
        uint32_t slot = 0, taken = 0;
        uint64_t first = 0, n = 0;

        if (!v->dring)
            continue;
        for (;;) {
            struct kvm_dirty_gfn *e = &v->dring[v->dring_next &
                                                (v->dring_n - 1)];
            /* Acquire: the slot and offset are valid once DIRTY shows. */
            uint32_t flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);

            if (!(flags & KVM_DIRTY_GFN_F_DIRTY))
                break;
            /* Adjacent pages of one slot become one range. */
            if (n && e->slot == slot && e->offset == first + n) {
                n++;
            } else {
                ring_run(vm, slot, first, n);
                slot = e->slot;
                first = e->offset;
                n = 1;
            }
            /* Release: the kernel may collect the entry once it sees
             * RESET (at KVM_RESET_DIRTY_RINGS). */
            __atomic_store_n(&e->flags, KVM_DIRTY_GFN_F_RESET,
                             __ATOMIC_RELEASE);
            v->dring_next++;
            taken++;
        }
        ring_run(vm, slot, first, n);
        if (taken == v->dring_n)
            __atomic_fetch_add(&vm->ring_overflows, 1, __ATOMIC_RELAXED);
        total += (int)taken;
    }
    /* After an overflow KVM's ring and ours may disagree for good: from
     * then on no harvest can be trusted to have seen every write. */
    if (__atomic_load_n(&vm->ring_overflows, __ATOMIC_RELAXED))
        ring_untrusted(vm);
    if (total && ioctl(vm->vm_fd, KVM_RESET_DIRTY_RINGS, 0) < 0)
        return MT_EIO;
    return total;
}

/* ---- vCPUs ------------------------------------------------------------------ */

#if defined(__x86_64__) || defined(__i386__)
/* Every CPUID leaf KVM supports (as -cpu host): long mode included. */
static int set_host_cpuid(mt_kvm_vm *vm, int fd)
{
    for (unsigned nent = 64; nent <= 4096; nent *= 2) {
        struct kvm_cpuid2 *c = calloc(1, sizeof(*c) +
                                         nent * sizeof(c->entries[0]));
        int rc;

        if (!c)
            return MT_ENOMEM;
        c->nent = nent;
        if (ioctl(vm->sys_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
            int saved = errno;

            free(c);
            if (saved == E2BIG)
                continue;
            errno = saved;
            return MT_EIO;
        }
        rc = ioctl(fd, KVM_SET_CPUID2, c) < 0 ? MT_EIO : 0;
        free(c);
        return rc;
    }
    errno = E2BIG;
    return MT_EIO;
}
#endif

int mt_kvm_vcpu_new(mt_kvm_vm *vm, unsigned id, mt_as *memory, mt_as *io,
                    mt_kvm_vcpu **out)
{
    mt_kvm_vcpu *v;
    int rc = MT_EIO, saved;

    if (!vm || !memory || !out)
        return MT_EINVAL;
    *out = NULL;
    v = calloc(1, sizeof(*v));
    if (!v)
        return MT_ENOMEM;
    v->vm = vm;
    v->id = id;
    v->memory = memory;
    v->io = io;
    v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
    if (v->fd < 0)
        goto fail_free;
    fcntl(v->fd, F_SETFD, FD_CLOEXEC);
    v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
                  v->fd, 0);
    if (v->run == MAP_FAILED) {
        v->run = NULL;
        goto fail_close;
    }
    if (vm->dirty_ring_bytes) {
        void *p = mmap(NULL, vm->dirty_ring_bytes, PROT_READ | PROT_WRITE,
                       MAP_SHARED, v->fd,
                       (off_t)KVM_DIRTY_LOG_PAGE_OFFSET * vm->page);

        if (p == MAP_FAILED)
            goto fail_unmap;
        v->dring = p;
        v->dring_n = (uint32_t)(vm->dirty_ring_bytes /
                                sizeof(struct kvm_dirty_gfn));
    }
#if defined(__x86_64__) || defined(__i386__)
    rc = set_host_cpuid(vm, v->fd);
    if (rc)
        goto fail_unmap;
#endif
    if (vm->ring_page && !vm->ring) {
        vm->ring = (struct kvm_coalesced_mmio_ring *)
            ((char *)v->run + (size_t)vm->ring_page * (size_t)vm->page);
        vm->ring_max = (uint32_t)(((size_t)vm->page -
                                   sizeof(struct kvm_coalesced_mmio_ring)) /
                                  sizeof(struct kvm_coalesced_mmio));
        vm->ring_owner = v;
    }
    v->next = vm->vcpus;
    vm->vcpus = v;
    vm->nr_vcpus++;
    *out = v;
    return 0;

fail_unmap:
    saved = errno;
    if (v->dring)
        munmap(v->dring, vm->dirty_ring_bytes);
    munmap(v->run, vm->run_size);
    errno = saved;
fail_close:
    saved = errno;
    close(v->fd);
    errno = saved;
fail_free:
    saved = errno;
    free(v);
    errno = saved;
    return rc;
}

void mt_kvm_vcpu_free(mt_kvm_vcpu *v)
{
    mt_kvm_vm *vm;

    if (!v)
        return;
    vm = v->vm;
    if (vm->ring_owner == v) {
        mt_kvm_vm_flush_coalesced(vm);
        vm->ring = NULL;
        vm->ring_owner = NULL;
    }
    /* What its dirty ring still holds is delivered before it goes. */
    if (v->dring) {
        harvest_locked(v, NULL);
        munmap(v->dring, vm->dirty_ring_bytes);
    }
    for (mt_kvm_vcpu **pp = &vm->vcpus; *pp; pp = &(*pp)->next) {
        if (*pp == v) {
            *pp = v->next;
            break;
        }
    }
    munmap(v->run, vm->run_size);
    close(v->fd);
    vm->nr_vcpus--;
    free(v);
}

int mt_kvm_vcpu_fd(const mt_kvm_vcpu *v)
{
    return v ? v->fd : -1;
}

void *mt_kvm_vcpu_run_page(const mt_kvm_vcpu *v)
{
    return v ? v->run : NULL;
}

void mt_kvm_vcpu_stop(mt_kvm_vcpu *v, int code)
{
    if (!v)
        return;
    v->stop = true;
    v->stop_code = code;
}

void mt_kvm_vcpu_kick(mt_kvm_vcpu *v)
{
    if (v && v->run)
        __atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELAXED);
}

int mt_kvm_vcpu_get_stats(const mt_kvm_vcpu *v, mt_kvm_vcpu_stats *out)
{
    if (!v || !out)
        return MT_EINVAL;
    *out = v->stats;
    out->coalesced = v->vm->flushed;
    return 0;
}

/* ---- the run loop ----------------------------------------------------------- */

static void dispatch_io(mt_kvm_vcpu *v, struct kvm_run *run)
{
    uint8_t *data = (uint8_t *)run + run->io.data_offset;
    bool out = run->io.direction == KVM_EXIT_IO_OUT;
    uint32_t size = run->io.size;

    v->stats.pio++;
    if (!v->io) {
        if (!out)
            memset(data, 0xff, (size_t)size * run->io.count);
        return;
    }
    for (uint32_t i = 0; i < run->io.count; i++, data += size)
        mt_as_rw(v->io, run->io.port, (mt_attrs){ 0 }, data, size, out);
}

/* Fill @ex for a return to the caller; the ring is flushed first so that
 * the devices are up to date whenever the caller looks. */
static int leave(mt_kvm_vcpu *v, mt_kvm_exit *ex, mt_kvm_exit_kind kind)
{
    if (ring_pending(v->vm))
        mt_kvm_vm_flush_coalesced(v->vm);
    ex->kind = kind;
    if (kind == MT_KVM_EXIT_STOP)
        ex->stop_code = v->stop_code;
    v->stop = false;
    return 0;
}

/* The vCPU whose run is on this thread (mt_kvm_vcpu_current). */
static _Thread_local mt_kvm_vcpu *current_vcpu;

mt_kvm_vcpu *mt_kvm_vcpu_current(void)
{
    return current_vcpu;
}

static int run_loop(mt_kvm_vcpu *v, mt_kvm_exit *ex)
{
    struct kvm_run *run = v->run;
    bool full_before = false; /* the previous exit was ring-full... */
    uint32_t full_next = 0;   /* ...and this ring's index after it */

    memset(ex, 0, sizeof(*ex));
    v->stop = false;
    for (;;) {
        if (ioctl(v->fd, KVM_RUN, 0) < 0) {
            if (errno == EINTR) {
                __atomic_store_n(&run->immediate_exit, 0, __ATOMIC_RELAXED);
                ex->kvm_reason = KVM_EXIT_INTR;
                return leave(v, ex, MT_KVM_EXIT_INTR);
            }
            if (errno == EAGAIN)
                continue;
            return MT_EIO;
        }
        v->stats.runs++;
        if (run->exit_reason != KVM_EXIT_DIRTY_RING_FULL)
            full_before = false;
        /* The hot exits by direct branches, not a jump table: under
         * IBPB on every vCPU switch an indirect jump always mispredicts. */
        if (run->exit_reason == KVM_EXIT_IO) {
            if (ring_pending(v->vm))
                mt_kvm_vm_flush_coalesced(v->vm);
            dispatch_io(v, run);
        } else if (run->exit_reason == KVM_EXIT_MMIO) {
            if (ring_pending(v->vm))
                mt_kvm_vm_flush_coalesced(v->vm);
            v->stats.mmio++;
            mt_as_rw(v->memory, run->mmio.phys_addr, (mt_attrs){ 0 },
                     run->mmio.data,
                     run->mmio.len <= 8 ? run->mmio.len : 8,
                     run->mmio.is_write);
        } else if (run->exit_reason == KVM_EXIT_DIRTY_RING_FULL) {
            /* A ring is (nearly) full: empty them all and go on. */
            uint32_t next;

            if (harvest_locked(v, &next) < 0)
                return MT_EIO;
            /* KVM checks at every entry and pushes nothing while full. Two
             * ring-full exits in a row with nothing taken from this ring
             * in between, by this thread or any other, mean that KVM's
             * ring and ours disagree (after an overflow): going on would
             * only bring the same exit back, for ever. */
            if (full_before && next == full_next) {
                if (resync_locked(v) < 0)
                    return MT_EIO;
                full_before = false;
                continue;
            }
            full_before = true;
            full_next = next;
            continue;
        } else {
            break;
        }
        if (v->stop) {
            ex->kvm_reason = run->exit_reason;
            return leave(v, ex, MT_KVM_EXIT_STOP);
        }
    }
    ex->kvm_reason = run->exit_reason;
    switch (run->exit_reason) {
    case KVM_EXIT_HLT:
        return leave(v, ex, MT_KVM_EXIT_HLT);
    case KVM_EXIT_SHUTDOWN:
        return leave(v, ex, MT_KVM_EXIT_SHUTDOWN);
    case KVM_EXIT_INTERNAL_ERROR:
        ex->suberror = run->internal.suberror;
        return leave(v, ex, MT_KVM_EXIT_INTERNAL_ERROR);
    case KVM_EXIT_FAIL_ENTRY:
        ex->hw_reason = run->fail_entry.hardware_entry_failure_reason;
        return leave(v, ex, MT_KVM_EXIT_FAIL_ENTRY);
    case KVM_EXIT_INTR:
        return leave(v, ex, MT_KVM_EXIT_INTR);
    default:
        return leave(v, ex, MT_KVM_EXIT_OTHER);
    }
}

int mt_kvm_vcpu_run(mt_kvm_vcpu *v, mt_kvm_exit *ex)
{
    mt_kvm_vcpu *outer = current_vcpu;
    int rc;

    if (!v || !ex)
        return MT_EINVAL;
    current_vcpu = v;
    rc = run_loop(v, ex);
    current_vcpu = outer;
    return rc;
}

int mt_kvm_vcpu_describe(const mt_kvm_vcpu *v, char *buf, size_t len)
{
    if (!v || !buf || !len)
        return MT_EINVAL;
#if defined(__x86_64__) || defined(__i386__)
    {
        struct kvm_regs regs;
        struct kvm_sregs sregs;

        if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0 ||
            ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0) {
            snprintf(buf, len, "(registers unavailable: %s)",
                     strerror(errno));
            return MT_EIO;
        }
        snprintf(buf, len,
                 "rip=%#llx cs=%#x(base %#llx) cr0=%#llx cr3=%#llx "
                 "cr4=%#llx efer=%#llx rflags=%#llx",
                 (unsigned long long)regs.rip, sregs.cs.selector,
                 (unsigned long long)sregs.cs.base,
                 (unsigned long long)sregs.cr0,
                 (unsigned long long)sregs.cr3,
                 (unsigned long long)sregs.cr4,
                 (unsigned long long)sregs.efer,
                 (unsigned long long)regs.rflags);
    }
#else
    snprintf(buf, len, "(no register dump on this architecture)");
#endif
    return 0;
}
