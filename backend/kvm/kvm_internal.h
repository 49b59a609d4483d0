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
    unsigned cap_used;
};

/*
 * mt__kvm_vm_zones - the slots listener registered (+1) or unregistered
 * (-1) a coalesced zone of @vm: the run loop looks at the coalesced ring
 * only while some zone exists (one page less to touch per exit).
 */
void mt__kvm_vm_zones(mt_kvm_vm *vm, int delta);

#endif /* MT_KVM_INTERNAL_H */
