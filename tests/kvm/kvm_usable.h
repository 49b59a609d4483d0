/* SPDX-License-Identifier: MIT */
/*
 * kvm_usable.h: the KVM tests' common first step. Is /dev/kvm there, and
 * can a VM with one vCPU be made? When not, it prints "SKIP: ..." with the
 * reason, and the test exits 77 (CTest's SKIP_RETURN_CODE).
 */
#ifndef MT_KVM_USABLE_H
#define MT_KVM_USABLE_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <memtree.h>

static inline bool kvm_usable(void)
{
    mt_ctx *ctx = NULL;
    mt_region *root = NULL;
    mt_as *as = NULL;
    mt_kvm_vm *vm = NULL;
    mt_kvm_vcpu *vcpu = NULL;
    int rc = mt_kvm_vm_new(NULL, &vm);

    if (rc) {
        printf("SKIP: KVM is not usable here: /dev/kvm: %s\n",
               rc == MT_ENOENT ? "does not exist" : strerror(errno));
        return false;
    }
    if (mt_ctx_new(&ctx, NULL) ||
        mt_region_new_container(ctx, "system", MT_SIZE_FULL, &root) ||
        mt_as_new(ctx, root, "memory", &as)) {
        printf("SKIP: out of memory\n");
        mt_ctx_free(ctx);
        mt_kvm_vm_free(vm);
        return false;
    }
    rc = mt_kvm_vcpu_new(vm, 0, as, NULL, &vcpu);
    if (rc)
        printf("SKIP: KVM is not usable here: cannot create a vCPU: %s\n",
               strerror(errno));
    mt_kvm_vcpu_free(vcpu);
    mt_region_unref(root);
    mt_ctx_free(ctx);
    mt_kvm_vm_free(vm);
    return rc == 0;
}

#endif /* MT_KVM_USABLE_H */
