/* SPDX-License-Identifier: MIT */
/*
 * vmm.h: a minimal PC for `memtree run`, built from memtree's public API
 * only: QEMU 7.2's i440FX "pc" memory layout (vmm/pc.c), the few ISA
 * devices the exitbench guest uses (vmm/devices.c), and one KVM vCPU.
 */
#ifndef MT_VMM_H
#define MT_VMM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <memtree.h>

/* ---- devices (vmm/devices.c) ---------------------------------------------- */

/* What the devices do to the run: set by isa-debug-exit. */
struct vmm_exit_request {
    bool requested;
    int status;               /* process exit status: (value << 1) | 1 */
};

/* QEMU's pc-testdev: a 32-bit port register at 0xe0 (byte lanes), the same
 * register byte-wise at 0xe8, and 64 KiB of scratch MMIO at 0xff000000. */
struct vmm_testdev {
    uint32_t ioport_data;
    uint8_t iomem[0x10000];
    mt_region *ioport, *ioport_byte, *iomem_region;
    mt_guard guard;
};

/* QEMU's isa-debug-exit (iobase 0xf4, iosize 4): a write ends the process
 * with status (value << 1) | 1. */
struct vmm_debug_exit {
    struct vmm_exit_request *req;
    mt_region *region;
};

/* QEMU's isa-debugcon at port 0xe9: bytes written go to @out; reads
 * return 0xe9. */
struct vmm_debugcon {
    FILE *out;
    mt_region *region;
};

#define VMM_TESTDEV_IOPORT      0xe0u
#define VMM_TESTDEV_IOPORT_BYTE 0xe8u
#define VMM_TESTDEV_IOMEM       0xff000000u
#define VMM_TESTDEV_IOMEM_SIZE  0x10000u
#define VMM_DEBUG_EXIT_PORT     0xf4u
#define VMM_DEBUG_EXIT_SIZE     4u
#define VMM_DEBUGCON_PORT       0xe9u

/* Create the devices' regions and map them: ports in @io, MMIO in @mmio
 * (the PCI address space). Returns 0 or an MT_E* code. */
int vmm_testdev_init(struct vmm_testdev *d, mt_ctx *ctx, mt_region *io,
                     mt_region *mmio);
int vmm_debug_exit_init(struct vmm_debug_exit *d, mt_ctx *ctx,
                        mt_region *io, struct vmm_exit_request *req);
int vmm_debugcon_init(struct vmm_debugcon *d, mt_ctx *ctx, mt_region *io,
                      FILE *out);

/* ---- the machine (vmm/pc.c) ----------------------------------------------- */

/* struct vmm_pc_config - what `memtree run` was asked for. */
struct vmm_pc_config {
    uint64_t ram_size;        /* -m, bytes (QEMU's default: 128 MiB) */
    const void *bios;         /* the -bios image */
    size_t bios_size;         /* non-zero multiple of 64 KiB, at most 16 MiB */
    FILE *con;                /* debugcon output (stdout) */
};

struct vmm_pc {
    mt_ctx *ctx;
    mt_as *memory;            /* "memory": root "system" */
    mt_as *io;                /* "I/O": root "io" (unassigned ports) */
    uint64_t below_4g, above_4g;

    struct vmm_testdev testdev;
    struct vmm_debug_exit debug_exit;
    struct vmm_debugcon debugcon;
    struct vmm_exit_request exit_req;

    mt_kvm_vm *vm;
    mt_kvm *kvm;
    mt_kvm_vcpu *vcpu;
};

/*
 * vmm_pc_build - the memory model of QEMU 7.2's pc machine with @cfg's RAM
 * and BIOS, and the devices. No KVM yet. On failure everything built so
 * far is freed. Returns 0 or an MT_E* code; *@what names the failed step.
 */
int vmm_pc_build(struct vmm_pc *pc, const struct vmm_pc_config *cfg,
                 const char **what);

/*
 * vmm_pc_attach_kvm - create the VM, attach the memslot backend to
 * "memory" and "I/O", create vCPU 0 in the reset state. Returns 0 or an
 * MT_E* code (MT_ENOENT: no /dev/kvm); *@what names the failed step.
 */
int vmm_pc_attach_kvm(struct vmm_pc *pc, const char **what);

/* vmm_pc_destroy - free everything (NULL members are skipped). */
void vmm_pc_destroy(struct vmm_pc *pc);

/* ---- snapshots and migration (vmm/state.c) ----------------------------------- */

/* Largest BIOS image (QEMU's pc: 16 MiB). */
#define VMM_BIOS_MAX (16u << 20)

/* The machine's extension records in a migration stream (docs/migration.md). */
#define VMM_TAG_VCPU    MT_MIGRATE_TAG('V', 'C', 'P', 'U')
#define VMM_TAG_TESTDEV MT_MIGRATE_TAG('T', 'D', 'E', 'V')

/*
 * vmm_pc_save - write the stopped machine to @fd as a migration stream:
 * RAM blocks, region state, the vCPU and pc-testdev records. Returns 0 or
 * an MT_E* code with @why (@len bytes) saying what failed.
 */
int vmm_pc_save(struct vmm_pc *pc, int fd, char *why, size_t len);

/*
 * vmm_pc_config_from - the configuration of the machine in an opened
 * stream (mt_migrate_dst_open): -m from pc.ram, the BIOS size from
 * pc.bios. *@bios gets a zeroed image of that size for @cfg (free() it
 * after vmm_pc_build); the contents come with the stream.
 */
int vmm_pc_config_from(mt_migrate_dst *dst, struct vmm_pc_config *cfg,
                       void **bios, char *why, size_t len);

/*
 * vmm_pc_load - receive the stream into a machine built from that
 * configuration, with KVM attached: memory, region state, then the vCPU
 * registers and pc-testdev. The vCPU must not have run.
 */
int vmm_pc_load(struct vmm_pc *pc, mt_migrate_dst *dst, char *why,
                size_t len);

/* vmm_testdev_record - pc-testdev's TDEV record (8 + 64 KiB bytes) into @out. */
void vmm_testdev_record(const struct vmm_testdev *d, uint8_t *out);

/* ---- live migration (vmm/live.c) ---------------------------------------------- */

/* A live migration of the running machine, whose vCPU runs on the thread
 * that called vmm_live_start (the main thread). */
struct vmm_live {
    struct vmm_pc *pc;
    int fd;                   /* where the stream goes (not closed) */
    unsigned after_ms;        /* delay before the migration starts */
    pthread_t thread, main;
    bool active;              /* the migration thread exists */
    mt_migrate_src *src;
    atomic_bool guest_done;   /* main -> thread: give up */
    atomic_bool stop_req;     /* thread -> main: stop the vCPU now */
    int rc;                   /* the migration thread's error */
    char why[256];
    mt_migrate_stats stats;   /* after a successful finish */
};

/*
 * vmm_live_start - after @after_ms, migrate @pc to @fd from a thread of
 * its own: full pass, passes until at most 256 pages remain (30 at most),
 * then it kicks the vCPU and sends SIGUSR1 (a handler that does nothing
 * is installed) to the calling thread, whose run loop then returns
 * MT_KVM_EXIT_INTR with vmm_live_stop_requested() true.
 */
int vmm_live_start(struct vmm_live *l, struct vmm_pc *pc, int fd,
                   unsigned after_ms);
bool vmm_live_stop_requested(struct vmm_live *l);

/*
 * vmm_live_finish - on the vCPU's thread, once its run returned: with
 * @stopped (the stop was requested), send the vCPU and device records and
 * complete; otherwise (the guest ended first) cancel. Returns 0 when the
 * machine has migrated, else an MT_E* code with @why; the guest may then
 * go on here.
 */
int vmm_live_finish(struct vmm_live *l, bool stopped, char *why, size_t len);

#endif /* MT_VMM_H */
