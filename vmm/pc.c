/* SPDX-License-Identifier: MIT */
/*
 * pc.c: the memory layout of QEMU 7.2's i440FX "pc" machine, as far as a
 * firmware without PCI configuration sees it at reset, built with the
 * public API:
 *
 *   memory: system (container, 2^64)
 *     ram-below-4g  alias of pc.ram [0, below_4g)         at 0, prio 0
 *     ram-above-4g  alias of pc.ram [below_4g, ram_size)  at 4 GiB
 *     pci           container (2^64), prio -1: everything the RAM aliases
 *                   leave, i.e. the PCI hole below 4 GiB
 *       pc.bios     the -bios image as ROM, its last byte at 4 GiB - 1
 *       isa-bios    read-only alias of the last min(size, 128 KiB) of
 *                   pc.bios, ending at 1 MiB, prio 1
 *       pc.rom      option ROM space 0xc0000-0xdffff (ROM), prio 1
 *       pc-testdev-iomem  0xff000000, 64 KiB
 *     pam-pci       alias of pci [0xc0000, 0x100000) at 0xc0000, prio 1:
 *                   the PAM aliases in their reset state (all segments
 *                   routed to PCI), so that isa-bios and pc.rom show
 *                   above RAM while the rest of the window stays RAM
 *   I/O: io (64 KiB, unassigned-port ops: reads all-ones)
 *     pc-testdev-ioport 0xe0, pc-testdev-ioport-byte 0xe8,
 *     isa-debugcon 0xe9, isa-debug-exit 0xf4
 *
 * RAM split (pc_init1): below_4g is the whole RAM up to 3.5 GiB
 * (0xe0000000); from there on 3 GiB stays below 4 GiB (gigabyte
 * alignment) and the rest goes above 4 GiB.
 */
#include <string.h>

#include "vmm.h"

#define KiB (UINT64_C(1) << 10)
#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)

#define PC_LOWMEM_MAX   UINT64_C(0xe0000000)  /* max-ram-below-4g default */
#define PC_LOWMEM_ALIGN UINT64_C(0xc0000000)  /* gigabyte_align */
#define PC_ISA_BIOS_MAX (128 * KiB)
#define PC_ROM_ADDR     UINT64_C(0xc0000)
#define PC_ROM_SIZE     (128 * KiB)
#define PC_PAM_START    UINT64_C(0xc0000)
#define PC_PAM_END      UINT64_C(0x100000)

#define STEP(call, name)                                                    \
    do {                                                                    \
        rc = (call);                                                        \
        if (rc) {                                                           \
            *what = (name);                                                 \
            goto fail;                                                      \
        }                                                                   \
    } while (0)

int vmm_pc_build(struct vmm_pc *pc, const struct vmm_pc_config *cfg,
                 const char **what)
{
    mt_region *system, *ram, *below, *above, *pci, *bios, *isa_bios, *rom,
        *pam, *io;
    uint64_t isa_size;
    int rc;

    memset(pc, 0, sizeof(*pc));
    *what = "context";
    if (!cfg->ram_size || !cfg->bios || !cfg->bios_size)
        return MT_EINVAL;
    rc = mt_ctx_new(&pc->ctx, NULL);
    if (rc)
        return rc;
    if (cfg->ram_size >= PC_LOWMEM_MAX) {
        pc->below_4g = PC_LOWMEM_ALIGN;
        pc->above_4g = cfg->ram_size - PC_LOWMEM_ALIGN;
    } else {
        pc->below_4g = cfg->ram_size;
        pc->above_4g = 0;
    }
    isa_size = cfg->bios_size < PC_ISA_BIOS_MAX ? cfg->bios_size
                                                : PC_ISA_BIOS_MAX;

    /* One transaction: the views are rendered once, at the end. */
    mt_begin(pc->ctx);
    STEP(mt_region_new_container(pc->ctx, "system", MT_SIZE_FULL, &system),
         "system");
    STEP(mt_region_new_ram(pc->ctx, "pc.ram", cfg->ram_size, &ram), "pc.ram");
    STEP(mt_region_new_alias(pc->ctx, "ram-below-4g", ram, 0, pc->below_4g,
                             &below), "ram-below-4g");
    STEP(mt_region_add_subregion(system, 0, below), "ram-below-4g");
    if (pc->above_4g) {
        STEP(mt_region_new_alias(pc->ctx, "ram-above-4g", ram, pc->below_4g,
                                 pc->above_4g, &above), "ram-above-4g");
        STEP(mt_region_add_subregion(system, 4 * GiB, above), "ram-above-4g");
    }
    STEP(mt_region_new_container(pc->ctx, "pci", MT_SIZE_FULL, &pci), "pci");
    STEP(mt_region_add_subregion_overlap(system, 0, pci, -1), "pci");

    /* Firmware: pc.bios ending at 4 GiB, its tail at the top of 1 MiB. */
    STEP(mt_region_new_rom(pc->ctx, "pc.bios", cfg->bios_size, &bios),
         "pc.bios");
    memcpy(mt_region_ram_ptr(bios), cfg->bios, cfg->bios_size);
    STEP(mt_region_add_subregion(pci, 4 * GiB - cfg->bios_size, bios),
         "pc.bios");
    STEP(mt_region_new_alias(pc->ctx, "isa-bios", bios,
                             cfg->bios_size - isa_size, isa_size, &isa_bios),
         "isa-bios");
    STEP(mt_region_set_readonly(isa_bios, true), "isa-bios");
    STEP(mt_region_add_subregion_overlap(pci, PC_PAM_END - isa_size,
                                         isa_bios, 1), "isa-bios");
    STEP(mt_region_new_rom(pc->ctx, "pc.rom", PC_ROM_SIZE, &rom), "pc.rom");
    STEP(mt_region_add_subregion_overlap(pci, PC_ROM_ADDR, rom, 1), "pc.rom");
    STEP(mt_region_new_alias(pc->ctx, "pam-pci", pci, PC_PAM_START,
                             PC_PAM_END - PC_PAM_START, &pam), "pam-pci");
    STEP(mt_region_add_subregion_overlap(system, PC_PAM_START, pam, 1),
         "pam-pci");

    /* Port space: unclaimed ports read all-ones. */
    STEP(mt_region_new_io(pc->ctx, "io", 64 * KiB, mt_ops_unassigned_io(),
                          NULL, &io), "io");

    STEP(vmm_testdev_init(&pc->testdev, pc->ctx, io, pci), "pc-testdev");
    STEP(vmm_debug_exit_init(&pc->debug_exit, pc->ctx, io, &pc->exit_req),
         "isa-debug-exit");
    STEP(vmm_debugcon_init(&pc->debugcon, pc->ctx, io, cfg->con),
         "isa-debugcon");

    STEP(mt_as_new(pc->ctx, system, "memory", &pc->memory), "memory");
    STEP(mt_as_new(pc->ctx, io, "I/O", &pc->io), "I/O");
    STEP(mt_commit(pc->ctx), "commit");
    /* The address spaces and containers hold what they need. */
    mt_region_unref(system);
    mt_region_unref(io);
    return 0;

fail:
    while (mt_transaction_depth(pc->ctx))
        mt_commit(pc->ctx);
    mt_ctx_free(pc->ctx);
    memset(pc, 0, sizeof(*pc));
    return rc;
}

int vmm_pc_attach_kvm(struct vmm_pc *pc, const char **what)
{
    mt_kvm_opts opts = { .vm_fd = -1 };
    int rc;

    *what = "/dev/kvm";
    rc = mt_kvm_vm_new(NULL, &pc->vm);
    if (rc)
        return rc;
    opts.vm = pc->vm;
    *what = "memslots";
    rc = mt_kvm_new(pc->memory, &opts, &pc->kvm);
    if (rc)
        return rc;
    *what = "I/O listener";
    rc = mt_kvm_attach_io(pc->kvm, pc->io);
    if (rc)
        return rc;
    *what = "vCPU";
    rc = mt_kvm_vcpu_new(pc->vm, 0, pc->memory, pc->io, &pc->vcpu);
    if (rc)
        return rc;
    return 0;
}

void vmm_pc_destroy(struct vmm_pc *pc)
{
    mt_kvm_vcpu_free(pc->vcpu);
    /* The VM is closed next: its slots go with it, at no cost, while
     * deleting them one by one would take milliseconds each. */
    mt_kvm_release(pc->kvm);
    mt_kvm_vm_free(pc->vm);
    mt_ctx_free(pc->ctx);
    memset(pc, 0, sizeof(*pc));
}
