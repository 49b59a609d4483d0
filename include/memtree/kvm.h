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
    uint64_t offset;
} mt_kvm_slot;

/**
 * struct mt_kvm_opts - zero-initialise, then set what you need.
 * @vm_fd:         a KVM VM descriptor (not closed by memtree), or -1 for a
 *                 dry run without ioctls.
 * @as_id:         KVM address space for the slots (0; x86 SMM uses 1).
 * @max_slot_size: split larger ranges into slots of at most this (host-page
 *                 multiple); 0: unlimited (QEMU's default).
 * @max_slots:     0: ask KVM (KVM_CAP_NR_MEMSLOTS; 32764 in a dry run).
 * @no_readonly_mem: behave as if KVM_CAP_READONLY_MEM were missing
 *                 (read-only memory then gets no slot).
 */
typedef struct mt_kvm_opts {
    int vm_fd;
    unsigned as_id;
    uint64_t max_slot_size;
    unsigned max_slots;
    bool no_readonly_mem;
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
 * Also runs as the log_sync hook of the memory listener.
 */
int mt_kvm_sync_dirty(mt_kvm *kvm);

#ifdef __cplusplus
}
#endif
#endif /* MEMTREE_KVM_H */
