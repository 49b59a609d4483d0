/* SPDX-License-Identifier: MIT */
/*
 * cmd_mtree.c: `memtree mtree [-D] [-f] [--facts FACTS] FILE`: load a QEMU
 * `info mtree` dump (plus optional facts) and print it back in QEMU 7.2's
 * `info mtree`, `-D` or `-f` format.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtree.h"

struct mtree_args {
    unsigned flags;    /* MT_MTREE_* */
    const char *file;  /* the dump; "-" is stdin */
    const char *facts; /* facts file or NULL */
    bool kvm;          /* --accel=kvm: mark ranges KVM maps */
};

/* Short flags, possibly bundled ("-Df"). Returns 0 or a usage status. */
static int parse_short(struct mtree_args *a, const char *arg)
{
    for (const char *c = arg + 1; *c; c++) {
        if (*c == 'D')
            a->flags |= MT_MTREE_DISABLED;
        else if (*c == 'f')
            a->flags |= MT_MTREE_FLAT;
        else
            return cli_usage_error(&cli_cmd_mtree, "mtree: unknown option '-%c'", *c);
    }
    return 0;
}

/* Options in any order; "--" ends them. Returns 0 or a usage status. */
static int parse_args(struct mtree_args *a, int argc, char **argv)
{
    bool opts = true;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int rc = 0;

        if (opts && strcmp(arg, "--") == 0) {
            opts = false;
        } else if (opts && strcmp(arg, "--facts") == 0) {
            if (++i == argc)
                return cli_usage_error(&cli_cmd_mtree, "mtree: --facts needs a file");
            a->facts = argv[i];
        } else if (opts && strncmp(arg, "--facts=", 8) == 0) {
            a->facts = arg + 8;
        } else if (opts && (strcmp(arg, "--accel") == 0 ||
                            strncmp(arg, "--accel=", 8) == 0)) {
            const char *accel = arg[7] == '=' ? arg + 8 : NULL;

            if (!accel && ++i < argc)
                accel = argv[i];
            if (!accel)
                return cli_usage_error(&cli_cmd_mtree, "mtree: --accel needs a name");
            if (strcmp(accel, "kvm") && strcmp(accel, "tcg"))
                return cli_usage_error(&cli_cmd_mtree, "mtree: unknown accelerator '%s' (kvm or tcg)", accel);
            a->kvm = !strcmp(accel, "kvm");
        } else if (opts && arg[0] == '-' && arg[1] == '-') {
            return cli_usage_error(&cli_cmd_mtree, "mtree: unknown option '%s'", arg);
        } else if (opts && arg[0] == '-' && arg[1] != '\0') {
            rc = parse_short(a, arg);
        } else if (a->file) {
            return cli_usage_error(&cli_cmd_mtree, "mtree: more than one FILE");
        } else {
            a->file = arg;
        }
        if (rc)
            return rc;
    }
    if (!a->file)
        return cli_usage_error(&cli_cmd_mtree, "mtree: no FILE given");
    if (a->facts && !strcmp(a->facts, "-") && !strcmp(a->file, "-"))
        return cli_usage_error(&cli_cmd_mtree, "mtree: FILE and FACTS cannot both be stdin");
    return 0;
}

static int run_mtree(int argc, char **argv)
{
    struct mtree_args a = { 0 };
    mt_ctx *ctx = NULL;
    int rc = parse_args(&a, argc, argv);

    if (rc)
        return rc;
    rc = mt_ctx_new(&ctx, NULL);
    if (rc) {
        fprintf(stderr, "memtree: %s\n", mt_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    rc = cli_load_dump(ctx, a.file, a.facts);
    if (rc == CLI_EXIT_OK) {
        mt_kvm *kvm = NULL;
        int prc = 0;

        if (a.kvm)
            prc = cli_kvm_dry_run(ctx, &kvm);
        if (!prc)
            prc = mt_mtree_print_notes(ctx, stdout, a.flags,
                                       kvm ? mt_kvm_note : NULL, kvm);
        if (prc) {
            fprintf(stderr, "memtree: %s\n", mt_strerror(prc));
            rc = CLI_EXIT_FAIL;
        }
        mt_kvm_free(kvm);
    }
    mt_ctx_free(ctx);
    return rc;
}

const struct cli_cmd cli_cmd_mtree = {
    .name = "mtree",
    .run = run_mtree,
    .summary = "load an `info mtree` dump and print it as QEMU 7.2 does",
    .usage =
        "usage: memtree mtree [-D] [-f] [--accel=kvm|tcg] [--facts FACTS] FILE\n"
        "  Load FILE, a QEMU `info mtree` or `info mtree -D` dump (\"-\": stdin),\n"
        "  and print it in QEMU 7.2's format.\n"
        "  -D             show disabled regions (like `info mtree -D`)\n"
        "  -f             print the flat views (like `info mtree -f`)\n"
        "  --facts FACTS  facts the dump cannot show (see docs/mtree-format.md)\n"
        "  --accel=kvm    with -f: mark with \" KVM\" the ranges the KVM backend\n"
        "                 maps to memslots (computed without /dev/kvm)\n",
};
