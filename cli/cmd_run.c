/* SPDX-License-Identifier: MIT */
/*
 * cmd_run.c: `memtree run --bios FILE [-m SIZE]`: boot a firmware image on
 * a minimal PC (vmm/: QEMU 7.2's pc memory layout, pc-testdev,
 * isa-debug-exit, isa-debugcon) under KVM, with one vCPU starting at the
 * reset vector. Exits like QEMU with isa-debug-exit: status (v << 1) | 1.
 *
 * --snapshot FILE writes the machine (a migration stream: RAM, region
 * state, vCPU and device records; docs/migration.md) when the guest exits
 * or halts, or on SIGINT/SIGTERM; --restore FILE builds the machine a
 * stream describes, loads it and resumes the guest where it stopped.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memtree.h"
#include "../vmm/vmm.h"

#define MiB (UINT64_C(1) << 20)
#define BIOS_MAX VMM_BIOS_MAX

struct run_args {
    const char *bios;
    const char *snapshot;
    const char *restore;
    const char *migrate_to;
    unsigned migrate_after;     /* ms */
    uint64_t ram;
    bool ram_given;
};

/* SIGINT/SIGTERM with --snapshot: the run loop stops and saves. */
static volatile sig_atomic_t run_signal;
static mt_kvm_vcpu *volatile run_vcpu;

static void on_signal(int sig)
{
    run_signal = sig;
    if (run_vcpu)
        mt_kvm_vcpu_kick(run_vcpu); /* async-signal-safe */
}

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

static int parse_args(int argc, char **argv, struct run_args *a)
{
    for (int i = 1; i < argc; i++) {
        static const char *const opts[] = { "--bios", "-bios", "-m",
                                            "--snapshot", "--restore",
                                            "--migrate-to", "--migrate-after" };
        const char *arg = argv[i], *val = NULL;

        for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]) && !val; k++) {
            size_t n = strlen(opts[k]);

            if (!strcmp(arg, opts[k])) {
                if (++i == argc)
                    return cli_usage_error(&cli_cmd_run,
                                           "run: %s needs a value", arg);
                val = argv[i];
            } else if (!strncmp(arg, opts[k], n) && arg[n] == '=') {
                val = arg + n + 1;
            }
            if (val)
                arg = opts[k];
        }
        if (!val)
            return cli_usage_error(&cli_cmd_run, "run: unexpected argument '%s'",
                                   arg);
        if (!strcmp(arg, "-m")) {
            if (parse_size(val, &a->ram))
                return cli_usage_error(&cli_cmd_run, "run: bad size '%s'", val);
            a->ram_given = true;
        } else if (!strcmp(arg, "--snapshot")) {
            a->snapshot = val;
        } else if (!strcmp(arg, "--restore")) {
            a->restore = val;
        } else if (!strcmp(arg, "--migrate-to")) {
            a->migrate_to = val;
        } else if (!strcmp(arg, "--migrate-after")) {
            char *end;
            unsigned long ms;

            errno = 0;
            ms = strtoul(val, &end, 10);
            if (errno || end == val || *end || val[0] == '-' || ms > 86400000)
                return cli_usage_error(&cli_cmd_run,
                                       "run: bad delay '%s' (milliseconds)",
                                       val);
            a->migrate_after = (unsigned)ms;
        } else {
            a->bios = val;
        }
    }
    if (a->restore && (a->bios || a->ram_given))
        return cli_usage_error(&cli_cmd_run, "run: --restore takes the machine "
                               "from its file: no --bios or -m with it");
    if (!a->bios && !a->restore)
        return cli_usage_error(&cli_cmd_run, "run: no --bios FILE given");
    if (a->migrate_to && a->snapshot)
        return cli_usage_error(&cli_cmd_run, "run: --migrate-to and "
                               "--snapshot do not go together");
    return 0;
}

static void report_exit(struct vmm_pc *pc, const char *what)
{
    char regs[256];

    mt_kvm_vcpu_describe(pc->vcpu, regs, sizeof(regs));
    fprintf(stderr, "memtree: run: %s (%s)\n", what, regs);
}

/* Run until the machine stops; returns the process exit status.
 * *@saveable: the guest stopped where it can be saved (it exited through
 * isa-debug-exit, halted or shut down, or a signal came). */
static int run_machine(struct vmm_pc *pc, struct vmm_live *live,
                       bool *saveable, bool *migrating)
{
    *saveable = false;
    *migrating = false;
    for (;;) {
        mt_kvm_exit ex;
        char msg[96];
        int rc = mt_kvm_vcpu_run(pc->vcpu, &ex);

        if (rc) {
            fprintf(stderr, "memtree: run: KVM_RUN: %s\n", strerror(errno));
            return CLI_EXIT_FAIL;
        }
        if (pc->exit_req.requested) {
            *saveable = true;
            return pc->exit_req.status;
        }
        switch (ex.kind) {
        case MT_KVM_EXIT_INTR:
            if (live && vmm_live_stop_requested(live)) {
                *migrating = true;
                return CLI_EXIT_OK;
            }
            if (run_signal) {
                fprintf(stderr, "memtree: run: terminating on signal %d\n",
                        (int)run_signal);
                *saveable = true;
                return CLI_EXIT_OK;
            }
            continue;
        case MT_KVM_EXIT_STOP:
            continue;
        case MT_KVM_EXIT_HLT:
            /* No interrupt controller: nothing can wake the vCPU. */
            report_exit(pc, "guest halted");
            *saveable = true;
            return CLI_EXIT_OK;
        case MT_KVM_EXIT_SHUTDOWN:
            /* A triple fault; QEMU -no-reboot exits 0 here. */
            report_exit(pc, "guest shutdown (triple fault)");
            *saveable = true;
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

/* Write the machine to @path through a temporary file, renamed at the end,
 * so that an existing file is replaced only by a complete one. */
static int write_snapshot(struct vmm_pc *pc, const char *path)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 5), why[256];
    int fd, rc;

    if (!tmp)
        return MT_ENOMEM;
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp", 5);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "memtree: run: %s: %s\n", tmp, strerror(errno));
        free(tmp);
        return MT_EIO;
    }
    rc = vmm_pc_save(pc, fd, why, sizeof(why));
    if (!rc && fsync(fd) < 0) {
        snprintf(why, sizeof(why), "%s", strerror(errno));
        rc = MT_EIO;
    }
    if (close(fd) < 0 && !rc) {
        snprintf(why, sizeof(why), "%s", strerror(errno));
        rc = MT_EIO;
    }
    if (!rc && rename(tmp, path) < 0) {
        snprintf(why, sizeof(why), "%s", strerror(errno));
        rc = MT_EIO;
    }
    if (rc) {
        fprintf(stderr, "memtree: run: cannot write the snapshot %s: %s\n",
                path, why);
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

/* Where --migrate-to sends the stream: "fd:N" (an inherited descriptor)
 * or a path (a file, or a FIFO, whose open waits for its reader). */
static int open_target(const char *where)
{
    if (!strncmp(where, "fd:", 3)) {
        char *end;
        long fd;

        errno = 0;
        fd = strtol(where + 3, &end, 10);
        if (errno || end == where + 3 || *end || fd < 0 || fd > 1 << 20) {
            fprintf(stderr, "memtree: run: bad descriptor '%s'\n", where);
            return -1;
        }
        return (int)fd;
    }
    {
        int fd = open(where, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        if (fd < 0)
            fprintf(stderr, "memtree: run: %s: %s\n", where, strerror(errno));
        return fd;
    }
}

/* Run, with a live migration when asked; returns the exit status. */
static int run_migrating(struct vmm_pc *pc, const struct run_args *a,
                         bool *saveable)
{
    struct vmm_live live;
    char why[256];
    bool migrating;
    int fd, status, rc;

    if (!a->migrate_to)
        return run_machine(pc, NULL, saveable, &migrating);
    fd = open_target(a->migrate_to);
    if (fd < 0)
        return CLI_EXIT_FAIL;
    rc = vmm_live_start(&live, pc, fd, a->migrate_after);
    if (rc) {
        fprintf(stderr, "memtree: run: cannot start the migration: %s\n",
                mt_strerror(rc));
        status = CLI_EXIT_FAIL;
        goto out;
    }
    for (;;) {
        status = run_machine(pc, &live, saveable, &migrating);
        if (!live.active)
            break;
        rc = vmm_live_finish(&live, migrating, why, sizeof(why));
        if (!migrating)
            break; /* the guest ended first: cancelled */
        if (!rc) {
            fprintf(stderr, "memtree: run: migrated to %s (%llu passes, "
                    "%llu pages, %.1f MiB)\n", a->migrate_to,
                    (unsigned long long)live.stats.passes,
                    (unsigned long long)live.stats.pages,
                    live.stats.bytes / 1048576.0);
            *saveable = false;
            status = CLI_EXIT_OK;
            break;
        }
        fprintf(stderr, "memtree: run: migration failed: %s (the guest goes "
                "on)\n", why);
    }
out:
    if (strncmp(a->migrate_to, "fd:", 3))
        close(fd);
    return status;
}

/* Open @path and read its header and region table; *@cfg describes the
 * machine to build (*@bios: its zeroed BIOS buffer). */
static int open_restore(const char *path, int *fd, mt_migrate_dst **dst,
                        struct vmm_pc_config *cfg, void **bios)
{
    mt_migrate_error err;
    char why[256];
    int rc;

    *dst = NULL;
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0) {
        fprintf(stderr, "memtree: %s: %s\n", path, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    rc = mt_migrate_dst_new(*fd, NULL, dst);
    if (!rc)
        rc = mt_migrate_dst_open(*dst, &err);
    else
        snprintf(err.msg, sizeof(err.msg), "%s", mt_strerror(rc));
    if (!rc)
        rc = vmm_pc_config_from(*dst, cfg, bios, why, sizeof(why));
    else
        snprintf(why, sizeof(why), "%s", err.msg);
    if (rc) {
        fprintf(stderr, "memtree: run: %s: %s\n", path, why);
        mt_migrate_dst_free(*dst);
        close(*fd);
        *dst = NULL;
        *fd = -1;
        return CLI_EXIT_FAIL;
    }
    return 0;
}

static int run_run(int argc, char **argv)
{
    struct run_args a = { .ram = 128 * MiB }; /* QEMU's default -m */
    const char *what = "";
    struct vmm_pc_config cfg = { 0 };
    struct vmm_pc pc;
    mt_migrate_dst *dst = NULL;
    void *bios = NULL;
    size_t bios_len = 0;
    bool saveable;
    int status, rfd = -1, rc = parse_args(argc, argv, &a);

    if (rc)
        return rc;
    if (a.restore) {
        if (open_restore(a.restore, &rfd, &dst, &cfg, &bios))
            return CLI_EXIT_FAIL;
    } else {
        char *image = NULL;

        if (cli_read_file(a.bios, &image, &bios_len)) {
            fprintf(stderr, "memtree: %s: %s\n", cli_display_name(a.bios),
                    strerror(errno));
            return CLI_EXIT_FAIL;
        }
        bios = image;
        if (bios_len == 0 || bios_len % (64 * 1024) || bios_len > BIOS_MAX) {
            fprintf(stderr, "memtree: %s: BIOS size %zu is not a multiple of "
                    "64 KiB between 64 KiB and 16 MiB\n",
                    cli_display_name(a.bios), bios_len);
            free(bios);
            return CLI_EXIT_FAIL;
        }
        cfg = (struct vmm_pc_config){ .ram_size = a.ram, .bios = bios,
                                      .bios_size = bios_len };
    }
    cfg.con = stdout;
    rc = vmm_pc_build(&pc, &cfg, &what);
    free(bios);
    if (rc) {
        fprintf(stderr, "memtree: run: building the machine (%s): %s\n", what,
                mt_strerror(rc));
        status = CLI_EXIT_FAIL;
        goto out_restore;
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
        status = CLI_EXIT_FAIL;
        goto out_machine;
    }
    if (mt_kvm_error(pc.kvm)) {
        fprintf(stderr, "memtree: run: KVM refused a memslot: %s\n",
                mt_strerror(mt_kvm_error(pc.kvm)));
        status = CLI_EXIT_FAIL;
        goto out_machine;
    }
    if (dst) {
        char why[256];

        rc = vmm_pc_load(&pc, dst, why, sizeof(why));
        if (rc) {
            fprintf(stderr, "memtree: run: restoring %s: %s\n", a.restore,
                    why);
            status = CLI_EXIT_FAIL;
            goto out_machine;
        }
    }
    if (a.snapshot) {
        struct sigaction sa;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        /* No SA_RESTART (KVM_RUN must return); a second signal kills. */
        sa.sa_flags = SA_RESETHAND;
        run_vcpu = pc.vcpu;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
    }
    status = run_migrating(&pc, &a, &saveable);
    fflush(stdout);
    if (a.snapshot && saveable && write_snapshot(&pc, a.snapshot))
        status = CLI_EXIT_FAIL;
    else if (a.snapshot && !saveable)
        fprintf(stderr, "memtree: run: no snapshot written (the run "
                "failed)\n");
out_machine:
    run_vcpu = NULL;
    vmm_pc_destroy(&pc);
out_restore:
    mt_migrate_dst_free(dst);
    if (rfd >= 0)
        close(rfd);
    return status;
}

const struct cli_cmd cli_cmd_run = {
    .name = "run",
    .run = run_run,
    .summary = "boot a firmware image on a minimal PC under KVM",
    .usage =
        "usage: memtree run --bios FILE [-m SIZE] [--snapshot OUT]\n"
        "       memtree run --restore IN [--snapshot OUT]\n"
        "       memtree run (--bios FILE [-m SIZE] | --restore IN)\n"
        "                   --migrate-to TARGET [--migrate-after MS]\n"
        "  Boot FILE (a BIOS image, a multiple of 64 KiB, at most 16 MiB) on a\n"
        "  minimal PC under KVM (/dev/kvm): QEMU 7.2's pc memory layout built\n"
        "  with memtree (RAM below 4 GiB through the alias ram-below-4g, a PCI\n"
        "  hole, FILE as ROM ending at 4 GiB with its last 128 KiB at 1 MiB),\n"
        "  one vCPU from the reset vector, and these devices:\n"
        "    pc-testdev      ports 0xe0-0xe3, 0xe8-0xeb; MMIO 0xff000000 (64 KiB)\n"
        "    isa-debug-exit  ports 0xf4-0xf7: a write of V exits with (V << 1) | 1\n"
        "    isa-debugcon    port 0xe9: bytes go to standard output\n"
        "  -m SIZE         guest RAM, QEMU's syntax: 128 = 128M (default), 1G, 512K.\n"
        "  --snapshot OUT  when the guest exits (isa-debug-exit), halts or shuts\n"
        "                  down, or on SIGINT/SIGTERM, write the machine to OUT\n"
        "                  (RAM, memory map, vCPU, devices: a migration stream,\n"
        "                  written to OUT.tmp and renamed).\n"
        "  --restore IN    build the machine IN describes (no --bios or -m), load\n"
        "                  it and resume the guest where it stopped; IN may be a\n"
        "                  FIFO that another memtree run migrates to.\n"
        "  --migrate-to TARGET  after MS milliseconds (--migrate-after, default 0)\n"
        "                  migrate the running guest to TARGET (a file, a FIFO,\n"
        "                  or fd:N): passes of dirtied pages while it runs, then\n"
        "                  a short stop; memtree exits 0 once it has migrated.\n"
        "  Exit status: (V << 1) | 1 after isa-debug-exit; 0 when the guest\n"
        "  halts or shuts down, after SIGINT/SIGTERM with --snapshot, or once\n"
        "  it has migrated; 1 on\n"
        "  errors (a snapshot that cannot be written or restored too); 2 on a\n"
        "  bad command line.\n",
};
