/* SPDX-License-Identifier: MIT */
/*
 * cmd_run.c: `memtree run --bios FILE [-m SIZE]`: boot a firmware image on
 * a minimal PC (vmm/: QEMU 7.2's pc memory layout, pc-testdev,
 * isa-debug-exit, isa-debugcon) under KVM, with one vCPU starting at the
 * reset vector. Exits like QEMU with isa-debug-exit: status (v << 1) | 1.
 */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtree.h"
#include "../vmm/vmm.h"

#define MiB (UINT64_C(1) << 20)
#define BIOS_MAX (16 * MiB)

/* QEMU's -m: a number with an optional K/M/G/T suffix (default M). */
static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;
    uint64_t mult = MiB;

    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno || end == s || s[0] == '-')
        return -1;
    switch (*end) {
    case '\0': break;
    case 'b': case 'B': mult = 1; end++; break;
    case 'k': case 'K': mult = UINT64_C(1) << 10; end++; break;
    case 'm': case 'M': mult = MiB; end++; break;
    case 'g': case 'G': mult = UINT64_C(1) << 30; end++; break;
    case 't': case 'T': mult = UINT64_C(1) << 40; end++; break;
    default: return -1;
    }
    if (mult != 1 && (!strcmp(end, "iB") || !strcmp(end, "B")))
        end += strlen(end);
    if (*end || v == 0 || v > UINT64_MAX / mult)
        return -1;
    v *= mult;
    /* RAM blocks come in whole 4 KiB pages. */
    *out = ((uint64_t)v + 4095) & ~UINT64_C(4095);
    return 0;
}

static int parse_args(int argc, char **argv, const char **bios,
                      uint64_t *ram)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = NULL;

        if (!strcmp(arg, "--bios") || !strcmp(arg, "-bios") ||
            !strcmp(arg, "-m")) {
            if (++i == argc)
                return cli_usage_error(&cli_cmd_run, "run: %s needs a value",
                                       arg);
            val = argv[i];
        } else if (!strncmp(arg, "--bios=", 7)) {
            arg = "--bios";
            val = argv[i] + 7;
        } else if (!strncmp(arg, "-m=", 3)) {
            arg = "-m";
            val = argv[i] + 3;
        } else {
            return cli_usage_error(&cli_cmd_run, "run: unexpected argument '%s'",
                                   arg);
        }
        if (!strcmp(arg, "-m")) {
            if (parse_size(val, ram))
                return cli_usage_error(&cli_cmd_run, "run: bad size '%s'", val);
        } else {
            *bios = val;
        }
    }
    if (!*bios)
        return cli_usage_error(&cli_cmd_run, "run: no --bios FILE given");
    return 0;
}

static void report_exit(struct vmm_pc *pc, const char *what)
{
    char regs[256];

    mt_kvm_vcpu_describe(pc->vcpu, regs, sizeof(regs));
    fprintf(stderr, "memtree: run: %s (%s)\n", what, regs);
}

/* Run until the machine stops; returns the process exit status. */
static int run_machine(struct vmm_pc *pc)
{
    for (;;) {
        mt_kvm_exit ex;
        char msg[96];
        int rc = mt_kvm_vcpu_run(pc->vcpu, &ex);

        if (rc) {
            fprintf(stderr, "memtree: run: KVM_RUN: %s\n", strerror(errno));
            return CLI_EXIT_FAIL;
        }
        if (pc->exit_req.requested)
            return pc->exit_req.status;
        switch (ex.kind) {
        case MT_KVM_EXIT_INTR:
        case MT_KVM_EXIT_STOP:
            continue;
        case MT_KVM_EXIT_HLT:
            /* No interrupt controller: nothing can wake the vCPU. */
            report_exit(pc, "guest halted");
            return CLI_EXIT_OK;
        case MT_KVM_EXIT_SHUTDOWN:
            /* A triple fault; QEMU -no-reboot exits 0 here. */
            report_exit(pc, "guest shutdown (triple fault)");
            return CLI_EXIT_OK;
        case MT_KVM_EXIT_INTERNAL_ERROR:
            snprintf(msg, sizeof(msg), "KVM internal error, suberror %" PRIu32,
                     ex.suberror);
            report_exit(pc, msg);
            return CLI_EXIT_FAIL;
        case MT_KVM_EXIT_FAIL_ENTRY:
            snprintf(msg, sizeof(msg), "KVM entry failed, reason %#" PRIx64,
                     ex.hw_reason);
            report_exit(pc, msg);
            return CLI_EXIT_FAIL;
        default:
            snprintf(msg, sizeof(msg), "unhandled KVM exit %" PRIu32,
                     ex.kvm_reason);
            report_exit(pc, msg);
            return CLI_EXIT_FAIL;
        }
    }
}

static int run_run(int argc, char **argv)
{
    const char *bios_file = NULL, *what = "";
    uint64_t ram = 128 * MiB; /* QEMU's default -m */
    struct vmm_pc_config cfg;
    struct vmm_pc pc;
    char *bios = NULL;
    size_t bios_len = 0;
    int status, rc = parse_args(argc, argv, &bios_file, &ram);

    if (rc)
        return rc;
    if (cli_read_file(bios_file, &bios, &bios_len)) {
        fprintf(stderr, "memtree: %s: %s\n", cli_display_name(bios_file),
                strerror(errno));
        return CLI_EXIT_FAIL;
    }
    if (bios_len == 0 || bios_len % (64 * 1024) || bios_len > BIOS_MAX) {
        fprintf(stderr, "memtree: %s: BIOS size %zu is not a multiple of "
                "64 KiB between 64 KiB and 16 MiB\n",
                cli_display_name(bios_file), bios_len);
        free(bios);
        return CLI_EXIT_FAIL;
    }
    cfg = (struct vmm_pc_config){ .ram_size = ram, .bios = bios,
                                  .bios_size = bios_len, .con = stdout };
    rc = vmm_pc_build(&pc, &cfg, &what);
    free(bios);
    if (rc) {
        fprintf(stderr, "memtree: run: building the machine (%s): %s\n", what,
                mt_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    rc = vmm_pc_attach_kvm(&pc, &what);
    if (rc) {
        int err = errno;

        if (rc == MT_ENOENT)
            fprintf(stderr, "memtree: run: KVM is not usable: /dev/kvm does "
                    "not exist\n");
        else if (rc == MT_EIO)
            fprintf(stderr, "memtree: run: KVM is not usable: %s: %s\n", what,
                    strerror(err));
        else
            fprintf(stderr, "memtree: run: %s: %s\n", what, mt_strerror(rc));
        vmm_pc_destroy(&pc);
        return CLI_EXIT_FAIL;
    }
    if (mt_kvm_error(pc.kvm)) {
        fprintf(stderr, "memtree: run: KVM refused a memslot: %s\n",
                mt_strerror(mt_kvm_error(pc.kvm)));
        vmm_pc_destroy(&pc);
        return CLI_EXIT_FAIL;
    }
    status = run_machine(&pc);
    fflush(stdout);
    vmm_pc_destroy(&pc);
    return status;
}

const struct cli_cmd cli_cmd_run = {
    .name = "run",
    .run = run_run,
    .summary = "boot a firmware image on a minimal PC under KVM",
    .usage =
        "usage: memtree run --bios FILE [-m SIZE]\n"
        "  Boot FILE (a BIOS image, a multiple of 64 KiB, at most 16 MiB) on a\n"
        "  minimal PC under KVM (/dev/kvm): QEMU 7.2's pc memory layout built\n"
        "  with memtree (RAM below 4 GiB through the alias ram-below-4g, a PCI\n"
        "  hole, FILE as ROM ending at 4 GiB with its last 128 KiB at 1 MiB),\n"
        "  one vCPU from the reset vector, and these devices:\n"
        "    pc-testdev      ports 0xe0-0xe3, 0xe8-0xeb; MMIO 0xff000000 (64 KiB)\n"
        "    isa-debug-exit  ports 0xf4-0xf7: a write of V exits with (V << 1) | 1\n"
        "    isa-debugcon    port 0xe9: bytes go to standard output\n"
        "  -m SIZE  guest RAM, QEMU's syntax: 128 = 128M (default), 1G, 512K.\n"
        "  Exit status: (V << 1) | 1 after isa-debug-exit; 0 when the guest\n"
        "  halts or shuts down; 1 on errors; 2 on a bad command line.\n",
};
