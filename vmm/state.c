/* SPDX-License-Identifier: MIT */
/*
 * state.c: the minimal PC as a migration stream, for `memtree run
 * --snapshot` and `--restore` (docs/migration.md, "memtree run"). The
 * library carries the RAM blocks and the region state; this file adds the
 * machine's own records:
 *
 *   VCPU  u32 vCPU index (0), u32 zero, then the vCPU state of
 *         mt_kvm_vcpu_save_state()
 *   TDEV  pc-testdev: u32 version (1), u32 its port register, then its
 *         64 KiB of MMIO scratch memory
 *
 * The other devices have no state. A restored machine is built from the
 * stream's blocks: pc.ram gives -m, pc.bios the size of the BIOS (whose
 * contents travel as a block like any other).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm.h"

#define TDEV_VERSION 1u

static int say(char *why, size_t len, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int say(char *why, size_t len, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return rc;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

void vmm_testdev_record(const struct vmm_testdev *d, uint8_t *out)
{
    put32(out, TDEV_VERSION);
    put32(out + 4, d->ioport_data);
    memcpy(out + 8, d->iomem, VMM_TESTDEV_IOMEM_SIZE);
}

int vmm_pc_save(struct vmm_pc *pc, int fd, char *why, size_t len)
{
    static uint8_t dev[8 + VMM_TESTDEV_IOMEM_SIZE];
    uint8_t cpu[8 + MT_KVM_VCPU_STATE_MAX];
    mt_migrate_src *src = NULL;
    mt_migrate_error err;
    size_t n = 0;
    int rc;

    /* The vCPU first: finishing its last exit runs no guest code. */
    rc = mt_kvm_vcpu_save_state(pc->vcpu, cpu + 8, sizeof(cpu) - 8, &n);
    if (rc)
        return say(why, len, rc, "saving the vCPU: %s", mt_strerror(rc));
    put32(cpu, 0);
    put32(cpu + 4, 0);
    vmm_testdev_record(&pc->testdev, dev);

    /* The guest is stopped: no pass is needed after the first. */
    rc = mt_migrate_src_start(pc->ctx, fd, 0, &src, &err);
    if (!rc)
        rc = mt_migrate_src_put_ext(src, VMM_TAG_VCPU, cpu, 8 + n, &err);
    if (!rc)
        rc = mt_migrate_src_put_ext(src, VMM_TAG_TESTDEV, dev, sizeof(dev),
                                    &err);
    if (!rc)
        rc = mt_migrate_src_complete(src, &err);
    mt_migrate_src_free(src);
    if (rc)
        return say(why, len, rc, "%s", err.msg);
    return 0;
}

/* Size of the block named @name in the stream, or 0. */
static uint64_t block_size(const mt_migrate_dst *dst, const char *name)
{
    for (size_t i = 0; i < mt_migrate_dst_nr_blocks(dst); i++) {
        const char *b = mt_migrate_dst_block_name(dst, i);

        if (b && !strcmp(b, name))
            return mt_migrate_dst_block_size(dst, i);
    }
    return 0;
}

int vmm_pc_config_from(mt_migrate_dst *dst, struct vmm_pc_config *cfg,
                       void **bios, char *why, size_t len)
{
    uint64_t ram = block_size(dst, "pc.ram");
    uint64_t rom = block_size(dst, "pc.bios");

    *bios = NULL;
    if (!ram || !rom)
        return say(why, len, MT_EMISMATCH,
                   "not a `memtree run` machine: no %s block",
                   ram ? "pc.bios" : "pc.ram");
    if (rom % (64 * 1024) || rom > VMM_BIOS_MAX)
        return say(why, len, MT_EMISMATCH,
                   "a BIOS block of %llu bytes (not a multiple of 64 KiB "
                   "up to 16 MiB)", (unsigned long long)rom);
    /* Its contents come with the stream. */
    *bios = calloc(1, (size_t)rom);
    if (!*bios)
        return say(why, len, MT_ENOMEM, "out of memory");
    cfg->ram_size = ram;
    cfg->bios = *bios;
    cfg->bios_size = (size_t)rom;
    return 0;
}

int vmm_pc_load(struct vmm_pc *pc, mt_migrate_dst *dst, char *why,
                size_t len)
{
    const uint8_t *cpu, *dev;
    mt_migrate_error err;
    size_t n, m;
    int rc;

    rc = mt_migrate_dst_load(dst, pc->ctx, &err);
    if (rc)
        return say(why, len, rc, "%s", err.msg);
    cpu = mt_migrate_dst_find_ext(dst, VMM_TAG_VCPU, &n);
    dev = mt_migrate_dst_find_ext(dst, VMM_TAG_TESTDEV, &m);
    if (!cpu || n < 8 || get32(cpu) != 0 || get32(cpu + 4) != 0)
        return say(why, len, MT_EPARSE, "no valid record of vCPU 0");
    if (!dev || m != 8 + VMM_TESTDEV_IOMEM_SIZE ||
        get32(dev) != TDEV_VERSION)
        return say(why, len, MT_EPARSE, "no valid pc-testdev record");
    rc = mt_kvm_vcpu_load_state(pc->vcpu, cpu + 8, n - 8);
    if (rc)
        return say(why, len, rc, "loading the vCPU state: %s",
                   mt_strerror(rc));
    pc->testdev.ioport_data = get32(dev + 4);
    memcpy(pc->testdev.iomem, dev + 8, VMM_TESTDEV_IOMEM_SIZE);
    return 0;
}
