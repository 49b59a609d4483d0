/* SPDX-License-Identifier: MIT */
/*
 * memtree/kvm.h: the KVM backend (Linux). A listener on the memory address
 * space turns its RAM-backed ranges into KVM memslots as QEMU 7.2 does
 * (docs/kvm.md), and forwards ioeventfds and coalesced MMIO zones; a
 * listener on the I/O address space forwards port-I/O eventfds and
 * coalesced PIO. Included by <memtree.h>; needs no kernel header.
 *
 * Without a VM (opts.vm_fd = -1) the backend computes the same slots
 * without issuing any ioctl: that is how `memtree memslots` shows what KVM
 * would be given.
 */
#ifndef MEMTREE_KVM_H
#define MEMTREE_KVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mt_as;
struct mt_region;
struct mt_flat_range;

/** The KVM backend of one VM. */
typedef struct mt_kvm mt_kvm;

/* Memslot flags, with the kernel's values. */
#define MT_KVM_MEM_LOG_DIRTY_PAGES 0x1u
#define MT_KVM_MEM_READONLY        0x2u

/**
 * struct mt_kvm_slot - one memslot as handed to KVM.
 * @as_id, @slot: KVM's address space id and slot number.
 * @flags:        MT_KVM_MEM_*.
 * @gpa, @size:   guest range (host-page aligned).
 * @hva:          host address of @gpa.
 * @region:       the memory-backed region behind it; @offset: of @gpa in it.
 */
typedef struct mt_kvm_slot {
    unsigned as_id;
    unsigned slot;
    uint32_t flags;
    uint64_t gpa;
    uint64_t size;
    void *hva;
    struct mt_region *region;
    uint64_t offset; /**< offset of gpa in region */
} mt_kvm_slot;

struct mt_kvm_vm;

/**
 * struct mt_kvm_opts - zero-initialise, then set what you need.
 * @vm_fd:         a KVM VM descriptor (not closed by memtree), or -1 for a
 *                 dry run without ioctls. Ignored when @vm is set.
 * @as_id:         KVM address space for the slots (0; x86 SMM uses 1).
 * @max_slot_size: split larger ranges into slots of at most this (host-page
 *                 multiple); 0: unlimited (QEMU's default).
 * @max_slots:     0: ask KVM (KVM_CAP_NR_MEMSLOTS; 32764 in a dry run).
 * @no_readonly_mem: behave as if KVM_CAP_READONLY_MEM were missing
 *                 (read-only memory then gets no slot).
 * @vm:            a VM made by mt_kvm_vm_new() (below): its descriptor is
 *                 used, its coalesced MMIO ring is flushed at the start of
 *                 every commit that changes the map (as QEMU flushes at
 *                 transaction begin) and before a zone is removed, and its
 *                 run loop learns when zones exist. NULL: use @vm_fd (the
 *                 run loop then never replays the ring by itself).
 */
typedef struct mt_kvm_opts {
    int vm_fd;
    unsigned as_id;
    uint64_t max_slot_size;
    unsigned max_slots;
    bool no_readonly_mem;
    struct mt_kvm_vm *vm;
} mt_kvm_opts;

/**
 * mt_kvm_new - attach the backend to @memory (a listener of priority 10,
 * QEMU's ACCEL), replaying the current view into slots.
 * @out: receives the backend; mt_kvm_free() detaches it.
 * Returns 0, MT_EINVAL, MT_ENOMEM, or MT_EIO when KVM refused a slot
 * (nothing is left attached then).
 * Threading: as the address space it listens to.
 */
int mt_kvm_new(struct mt_as *memory, const mt_kvm_opts *opts, mt_kvm **out);

/**
 * mt_kvm_attach_io - also listen to @io, the port-I/O address space, for
 * its ioeventfds (KVM_IOEVENTFD_FLAG_PIO) and coalesced PIO zones.
 */
int mt_kvm_attach_io(mt_kvm *kvm, struct mt_as *io);

/** mt_kvm_free - detach (slots are deleted from KVM) and free; NULL is a no-op. */
void mt_kvm_free(mt_kvm *kvm);

/**
 * mt_kvm_release - detach and free like mt_kvm_free(), but leave the slots,
 * ioeventfds and coalesced zones in KVM: for a VM that is closed next,
 * whose memslots go with it. Deleting live slots one by one costs the
 * kernel a grace period each (milliseconds per slot once a vCPU has run).
 * NULL is a no-op.
 */
void mt_kvm_release(mt_kvm *kvm);

/**
 * mt_kvm_error - the first error KVM returned inside a listener callback
 * (callbacks cannot return errors), 0 if none. A slot KVM refused is
 * missing from the table; the guest then exits to userspace there.
 */
int mt_kvm_error(const mt_kvm *kvm);

/** Number of live slots. */
size_t mt_kvm_nr_slots(const mt_kvm *kvm);
/** Slot @i in ascending guest address, or NULL. Valid until the next commit. */
const mt_kvm_slot *mt_kvm_slot_at(const mt_kvm *kvm, size_t i);

/** mt_kvm_has_memory - is there a slot with exactly this start and size (QEMU's has_memory)? */
bool mt_kvm_has_memory(const mt_kvm *kvm, uint64_t start, uint64_t size);

/**
 * mt_kvm_note - an mt_range_note_fn for mt_mtree_print_notes(): " KVM"
 * for a range of @opaque's (an mt_kvm *) memory address space that has
 * exactly one slot of its start and size, as QEMU's `info mtree -f`.
 */
const char *mt_kvm_note(void *opaque, const struct mt_as *as,
                        const struct mt_flat_range *range);

/**
 * mt_kvm_sync_dirty - fetch KVM's dirty log of every logging slot
 * (KVM_GET_DIRTY_LOG) and merge it into the blocks' dirty bitmaps (VGA
 * always and MIGRATION while global logging is on, as QEMU's fast path).
 * Where KVM offers KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, mt_kvm_new() enables
 * it (with KVM_DIRTY_LOG_INITIALLY_SET when offered: a slot's first fetch
 * then reports every page) and each fetch is followed by
 * KVM_CLEAR_DIRTY_LOG for exactly the pages it reported. When @vm of the
 * options has a dirty ring (mt_kvm_vm_opts.dirty_ring_bytes), every
 * vCPU's ring is harvested instead (then KVM_RESET_DIRTY_RINGS).
 * Also runs as the log_sync hook of the memory listener.
 */
int mt_kvm_sync_dirty(mt_kvm *kvm);

/* ------------------------------------------------------------------------ */
/* VM and vCPUs: running guest code (Linux, /dev/kvm)                         */
/* ------------------------------------------------------------------------ */
/*
 * A minimal VMM core: a VM, vCPUs, and a run loop that sends the guest's
 * MMIO exits through the memory address space and its port-I/O exits
 * through the I/O address space, as QEMU 7.2's kvm_cpu_exec does
 * (docs/kvm.md). Order of use:
 *
 *   mt_kvm_vm_new(NULL, &vm);
 *   mt_kvm_new(memory, &(mt_kvm_opts){ .vm = vm }, &kvm);   memslots
 *   mt_kvm_attach_io(kvm, io);                               port eventfds
 *   mt_kvm_vcpu_new(vm, 0, memory, io, &vcpu);
 *   for (;;) { mt_kvm_vcpu_run(vcpu, &exit); ...handle exit.kind... }
 *   mt_kvm_vcpu_free(vcpu); mt_kvm_free(kvm); mt_kvm_vm_free(vm);
 *
 * Nothing here aborts: failed ioctls come back as MT_EIO (errno is left as
 * the kernel set it), a missing /dev/kvm as MT_ENOENT.
 */

/** A KVM virtual machine (the /dev/kvm and VM descriptors). */
typedef struct mt_kvm_vm mt_kvm_vm;
/** A virtual CPU of an mt_kvm_vm, with its kvm_run page. */
typedef struct mt_kvm_vcpu mt_kvm_vcpu;

/**
 * struct mt_kvm_vm_opts - zero-initialise, then set what you need.
 * @dev:  the KVM device; NULL means "/dev/kvm".
 * @type: the machine type argument of KVM_CREATE_VM (0 on x86).
 * @dirty_ring_bytes: 0 (the default): dirty pages come from KVM's dirty
 *        log bitmaps. Otherwise: the size of each vCPU's dirty ring
 *        (KVM_CAP_DIRTY_LOG_RING_ACQ_REL where offered, else
 *        KVM_CAP_DIRTY_LOG_RING), rounded up to a power of two of at least
 *        64 KiB (16 bytes per entry); mt_kvm_vm_new() fails when KVM offers
 *        no ring (MT_EIO, errno EOPNOTSUPP) or a smaller one (MT_EINVAL,
 *        errno E2BIG). The memslot backend made with this VM (mt_kvm_opts
 *        .vm) then harvests the rings at every log sync, before a logging
 *        slot goes or stops logging, and when a vCPU is freed; the run loop
 *        harvests them on KVM_EXIT_DIRTY_RING_FULL and resumes the guest.
 *        A backend given only a VM descriptor (mt_kvm_opts.vm_fd) cannot
 *        harvest rings: do not combine the two.
 */
typedef struct mt_kvm_vm_opts {
    const char *dev;
    unsigned long type;
    size_t dirty_ring_bytes;
} mt_kvm_vm_opts;

/**
 * mt_kvm_vm_new - open the KVM device, check KVM_GET_API_VERSION (12) and
 * create a VM. On x86 also places the identity-map page and the TSS at
 * QEMU's addresses (0xfeffc000, 0xfeffd000; needed by VMX only), so keep
 * that range free of RAM.
 * @opts: NULL for the defaults.
 * Returns 0; MT_ENOENT when the device does not exist; MT_EIO when it
 * cannot be opened (permissions: errno EACCES), has another API version,
 * or refuses the VM; MT_ENOMEM.
 */
int mt_kvm_vm_new(const mt_kvm_vm_opts *opts, mt_kvm_vm **out);

/**
 * mt_kvm_vm_free - close the VM. Free its vCPUs and the memslot backend
 * (mt_kvm_free) first. NULL is a no-op.
 */
void mt_kvm_vm_free(mt_kvm_vm *vm);

/** mt_kvm_vm_fd - the VM descriptor (for mt_kvm_opts or own ioctls); -1 for NULL. */
int mt_kvm_vm_fd(const mt_kvm_vm *vm);

/** mt_kvm_vm_dirty_ring_bytes - size of each vCPU's dirty ring; 0 without a ring or for NULL. */
size_t mt_kvm_vm_dirty_ring_bytes(const mt_kvm_vm *vm);

/**
 * mt_kvm_vm_ring_overflows - times a dirty ring of @vm overflowed: a
 * harvest found the whole ring taken (KVM may have overwritten entries
 * nobody had read: a vCPU logging writes faster than KVM asks it to exit,
 * as under emulation), or KVM said "full" with nothing to take (its ring
 * and ours disagreed; the run loop then gave KVM back the gap, or, if it
 * could not tell how long the gap was, failed with MT_EIO, errno
 * EOVERFLOW). From
 * the first overflow on, every harvest marks every page of every logging
 * slot dirty: nothing is lost, a migration just resends everything. 0 for
 * NULL or a VM without a ring.
 */
uint64_t mt_kvm_vm_ring_overflows(const mt_kvm_vm *vm);

/** mt_kvm_vm_sys_fd - the /dev/kvm descriptor; -1 for NULL. */
int mt_kvm_vm_sys_fd(const mt_kvm_vm *vm);

/**
 * mt_kvm_vm_check_extension - KVM_CHECK_EXTENSION on the VM: the value of
 * capability @cap (a KVM_CAP_* number; 0 when absent), or MT_EINVAL.
 */
int mt_kvm_vm_check_extension(const mt_kvm_vm *vm, unsigned cap);

/**
 * mt_kvm_vm_flush_coalesced - replay the writes KVM queued in the
 * coalesced MMIO/PIO ring, oldest first, through the address spaces of the
 * first vCPU (mt_as_write: memory for MMIO entries, I/O for PIO entries),
 * as QEMU's qemu_flush_coalesced_mmio_buffer. The run loop calls it before
 * it dispatches any exit and before it returns; mt_kvm_new's listener
 * calls it at the start of every commit. Not re-entrant: a call made while
 * a flush is under way (from a device callback) returns at once.
 * Returns the number of writes replayed (0 without a ring), or MT_EINVAL.
 * Threading: on the vCPU thread, or while the vCPU is stopped.
 */
int mt_kvm_vm_flush_coalesced(mt_kvm_vm *vm);

/**
 * mt_kvm_vcpu_new - create vCPU @id (KVM_CREATE_VCPU), map its kvm_run
 * page (and, for the first vCPU, the coalesced ring at the page offset
 * KVM_CAP_COALESCED_MMIO gives), and on x86 give it every CPUID feature
 * KVM supports (KVM_GET_SUPPORTED_CPUID, KVM_SET_CPUID2, as -cpu host;
 * long mode included). The vCPU is in the architectural reset state: real
 * mode, CS selector 0xf000 with base 0xffff0000, IP 0xfff0.
 * @memory: the address space MMIO exits go to (normally the one mt_kvm_new
 *          listens to).
 * @io:     the port-I/O address space, or NULL (port exits then read
 *          all-ones and drop writes, as unassigned ports).
 * Returns 0, MT_EINVAL, MT_ENOMEM or MT_EIO.
 */
int mt_kvm_vcpu_new(mt_kvm_vm *vm, unsigned id, struct mt_as *memory,
                    struct mt_as *io, mt_kvm_vcpu **out);

/** mt_kvm_vcpu_free - unmap and close (flushing the coalesced ring first if it is this vCPU's). NULL is a no-op. */
void mt_kvm_vcpu_free(mt_kvm_vcpu *vcpu);

/** mt_kvm_vcpu_fd - the vCPU descriptor (for KVM_GET_REGS and friends); -1 for NULL. */
int mt_kvm_vcpu_fd(const mt_kvm_vcpu *vcpu);

/** mt_kvm_vcpu_run_page - the mapped struct kvm_run of the vCPU, or NULL. */
void *mt_kvm_vcpu_run_page(const mt_kvm_vcpu *vcpu);

/** Why mt_kvm_vcpu_run() returned. */
typedef enum mt_kvm_exit_kind {
    MT_KVM_EXIT_STOP = 1,       /* a device called mt_kvm_vcpu_stop() */
    MT_KVM_EXIT_HLT,            /* KVM_EXIT_HLT (no in-kernel irqchip) */
    MT_KVM_EXIT_SHUTDOWN,       /* KVM_EXIT_SHUTDOWN: triple fault */
    MT_KVM_EXIT_INTERNAL_ERROR, /* KVM_EXIT_INTERNAL_ERROR: see @suberror */
    MT_KVM_EXIT_FAIL_ENTRY,     /* KVM_EXIT_FAIL_ENTRY: see @hw_reason */
    MT_KVM_EXIT_INTR,           /* KVM_RUN was interrupted (signal, kick) */
    MT_KVM_EXIT_OTHER,          /* any other exit: see @kvm_reason */
} mt_kvm_exit_kind;

/**
 * struct mt_kvm_exit - what ended a run.
 * @kind:       see mt_kvm_exit_kind.
 * @kvm_reason: kvm_run.exit_reason of the last exit (KVM_EXIT_*; KVM's
 *              value, e.g. the MMIO or I/O exit a device stopped in).
 * @suberror:   internal.suberror for MT_KVM_EXIT_INTERNAL_ERROR.
 * @hw_reason:  fail_entry.hardware_entry_failure_reason for
 *              MT_KVM_EXIT_FAIL_ENTRY.
 * @stop_code:  the code given to mt_kvm_vcpu_stop() for MT_KVM_EXIT_STOP.
 */
typedef struct mt_kvm_exit {
    mt_kvm_exit_kind kind;
    uint32_t kvm_reason;
    uint32_t suberror;
    uint64_t hw_reason;
    int stop_code;
} mt_kvm_exit;

/**
 * mt_kvm_vcpu_run - run the guest until something the caller must handle.
 * KVM_EXIT_MMIO is sent to mt_as_rw() on the memory address space
 * (phys_addr, len <= 8, is_write) and KVM_EXIT_IO to the I/O address space
 * (count accesses of size bytes each, at io.data_offset of the run page),
 * then the guest is resumed, as QEMU does; the results of those accesses
 * are ignored (holes read as the access path reads them). Accesses carry
 * attributes with nothing set (not MT_ATTRS_UNSPECIFIED), as QEMU's x86
 * KVM outside SMM. The coalesced ring is flushed before every dispatch
 * and before returning. Returns to the caller, with @exit filled, on HLT,
 * SHUTDOWN, internal errors, failed entries, interrupted runs, any other
 * exit, or after the dispatch during which a device called
 * mt_kvm_vcpu_stop(). Can be called again to resume.
 * Returns 0, MT_EINVAL, or MT_EIO when KVM_RUN fails (errno is kept).
 */
int mt_kvm_vcpu_run(mt_kvm_vcpu *vcpu, mt_kvm_exit *exit);

/**
 * mt_kvm_vcpu_stop - make the current mt_kvm_vcpu_run() return
 * MT_KVM_EXIT_STOP with @code once the access being dispatched completes
 * (call it from a device callback on the vCPU thread).
 */
void mt_kvm_vcpu_stop(mt_kvm_vcpu *vcpu, int code);

/**
 * mt_kvm_vcpu_current - the vCPU whose mt_kvm_vcpu_run() is dispatching on
 * the calling thread, or NULL outside a run (QEMU's current_cpu).
 * For device callbacks shared by several vCPUs: which one made the access,
 * which one to mt_kvm_vcpu_stop(). Writes replayed from the coalesced ring
 * carry no vCPU of origin: during a replay this is the vCPU replaying.
 * Lock-free; a per-thread value.
 */
mt_kvm_vcpu *mt_kvm_vcpu_current(void);

/**
 * mt_kvm_vcpu_kick - ask a run to return MT_KVM_EXIT_INTR at its next
 * entry into the guest (kvm_run.immediate_exit). Async-signal-safe: call
 * it from a signal handler, or from another thread and then signal the
 * vCPU thread so that a KVM_RUN in progress returns.
 */
void mt_kvm_vcpu_kick(mt_kvm_vcpu *vcpu);

/**
 * struct mt_kvm_vcpu_stats - counters since the vCPU was created.
 * @runs:      KVM_RUN calls that returned to userspace.
 * @mmio:      MMIO exits dispatched; @pio: port-I/O exits dispatched
 *             (one per exit, whatever its count).
 * @coalesced: ring entries replayed by flushes of this vCPU's VM.
 */
typedef struct mt_kvm_vcpu_stats {
    uint64_t runs;
    uint64_t mmio;
    uint64_t pio; /**< port-I/O exits */
    uint64_t coalesced;
} mt_kvm_vcpu_stats;

/** mt_kvm_vcpu_get_stats - copy the counters into *@out. Returns 0 or MT_EINVAL. */
int mt_kvm_vcpu_get_stats(const mt_kvm_vcpu *vcpu, mt_kvm_vcpu_stats *out);

/**
 * mt_kvm_vcpu_describe - one line of the vCPU's state for error messages
 * (x86: "rip=... cs=...(base ...) cr0=... efer=... rflags=..."), written to
 * @buf (NUL-terminated, truncated to @len). Returns 0, MT_EINVAL or MT_EIO.
 */
int mt_kvm_vcpu_describe(const mt_kvm_vcpu *vcpu, char *buf, size_t len);

/* ------------------------------------------------------------------------ */
/* vCPU state: save and load, for migration and snapshots                   */
/* ------------------------------------------------------------------------ */

/** Bytes that are always enough for mt_kvm_vcpu_save_state() (x86-64). */
#define MT_KVM_VCPU_STATE_MAX 4096u

/**
 * mt_kvm_vcpu_save_state - the vCPU's architectural state as a byte
 * string (backend/kvm/kvm_state.c and docs/kvm.md give the layout): the
 * general and special registers (KVM_GET_REGS, KVM_GET_SREGS), and where
 * KVM gives them the FPU/SSE state, XCRs, pending events, debug registers,
 * the system-call, PAT and TSC MSRs and the MP state. An I/O or MMIO exit
 * the vCPU stopped in is finished first (KVM_RUN with immediate_exit: no
 * guest instruction runs), as KVM requires before the state is read.
 * @buf, @cap: where to write (MT_KVM_VCPU_STATE_MAX bytes always suffice).
 * @len:       receives the length (also when @cap is too small).
 * Threading: on the vCPU's thread between runs, or while it is stopped.
 * Returns 0; MT_EINVAL; MT_ERANGE (@buf NULL or @cap too small: *@len
 * tells the size); MT_EBUSY (finishing the exit made another one, as a
 * long string I/O does: run the vCPU again, then retry); MT_EIO (errno
 * kept); MT_EKIND on architectures other than x86-64.
 */
int mt_kvm_vcpu_save_state(mt_kvm_vcpu *vcpu, void *buf, size_t cap,
                           size_t *len);

/**
 * mt_kvm_vcpu_load_state - put a state saved by mt_kvm_vcpu_save_state()
 * (possibly by another process) into @vcpu, which must not be running.
 * The input is untrusted: its layout is checked whole before anything is
 * set (MT_EPARSE); KVM checks the values (MT_EIO, errno kept, possibly
 * with part of the state set). Returns 0, MT_EINVAL, MT_EPARSE, MT_EIO,
 * or MT_EKIND on architectures other than x86-64.
 */
int mt_kvm_vcpu_load_state(mt_kvm_vcpu *vcpu, const void *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* MEMTREE_KVM_H */
