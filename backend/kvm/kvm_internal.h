/* SPDX-License-Identifier: MIT */
/* kvm_internal.h: state shared by the KVM backend's files (never installed). */
#ifndef MT_KVM_INTERNAL_H
#define MT_KVM_INTERNAL_H

#include "memtree.h"

struct mt_kvm {
    mt_as *memory;
    mt_listener *mem_listener;
    mt_listener *io_listener;
    int vm_fd;                  /* -1: dry run */
    mt_kvm_vm *vm;              /* flushed at commit begin, or NULL */
    unsigned as_id;
    uint64_t page;              /* host page size */
    uint64_t max_slot_size;     /* 0: unlimited */
    unsigned max_slots;
    bool no_readonly_mem;
    int error;                  /* first error inside a callback */
    mt_kvm_slot *slots;         /* sorted by gpa */
    size_t nr, cap;
    bool *used;                 /* slot numbers in use */
    unsigned *log_mask;         /* per slot number: its logging clients */
    unsigned cap_used;
    bool manual_protect;        /* KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 on */
    size_t hit;                 /* last slot the dirty ring named */
};

/* Address spaces a VM routes dirty-ring entries for (x86 has 2). */
#define MT_KVM_RING_AS 4

/*
 * mt__kvm_vm_zones - the slots listener registered (+1) or unregistered
 * (-1) a coalesced zone of @vm: the run loop looks at the coalesced ring
 * only while some zone exists (one page less to touch per exit).
 */
void mt__kvm_vm_zones(mt_kvm_vm *vm, int delta);

/* Flush the coalesced ring unless another thread is already replaying it
 * (for the commit path, which holds the context's writer lock). */
int mt__kvm_vm_flush_nowait(mt_kvm_vm *vm);

/*
 * mt__kvm_vm_attach - @k (NULL: nobody) now owns the slots of address
 * space @as_id of @vm: the dirty-ring harvest hands it their entries.
 */
void mt__kvm_vm_attach(mt_kvm_vm *vm, unsigned as_id, mt_kvm *k);

/* mt__kvm_vm_ring_on - is the dirty ring enabled on @vm? */
bool mt__kvm_vm_ring_on(const mt_kvm_vm *vm);

/*
 * mt__kvm_vm_harvest_rings - consume every vCPU's dirty ring, hand the
 * entries to the owners of their address spaces (mt__kvm_ring_dirty),
 * then KVM_RESET_DIRTY_RINGS. Returns the entries consumed, or MT_EIO.
 */
int mt__kvm_vm_harvest_rings(mt_kvm_vm *vm);

/*
 * mt__kvm_ring_dirty - pages @first .. @first + @n - 1 (host pages) of
 * KVM slot number @id were written: mark them dirty in the region.
 */
void mt__kvm_ring_dirty(mt_kvm *k, unsigned id, uint64_t first, uint64_t n);

/*
 * mt__kvm_ring_all_dirty - a ring overflowed (entries may be lost): mark
 * every page of every slot of @k that logs dirty pages.
 */
void mt__kvm_ring_all_dirty(mt_kvm *k);

#endif /* MT_KVM_INTERNAL_H */
