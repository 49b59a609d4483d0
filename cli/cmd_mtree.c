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

/* Report a load failure as `memtree: FILE:LINE: message`. */
static void report_load_error(const struct mtree_args *a, int rc,
                              const mt_load_error *err)
{
    const char *name = cli_display_name(err->in_facts && a->facts ? a->facts : a->file);
    const char *msg = err->msg[0] ? err->msg : mt_strerror(rc);

    if (err->line)
        fprintf(stderr, "memtree: %s:%u: %s\n", name, err->line, msg);
    else
        fprintf(stderr, "memtree: %s: %s\n", name, msg);
}

/* Load the dump and facts of @a into @ctx. Returns a CLI_EXIT_* status. */
static int load(mt_ctx *ctx, const struct mtree_args *a)
{
    char *dump = NULL, *facts = NULL;
    size_t dump_len = 0, facts_len = 0;
    mt_load_error err = { 0 };
    int rc = CLI_EXIT_FAIL, lrc;

    if (cli_read_file(a->file, &dump, &dump_len)) {
        fprintf(stderr, "memtree: %s: %s\n", cli_display_name(a->file), strerror(errno));
        return CLI_EXIT_FAIL;
    }
    if (a->facts && cli_read_file(a->facts, &facts, &facts_len)) {
        fprintf(stderr, "memtree: %s: %s\n", cli_display_name(a->facts), strerror(errno));
        goto out;
    }
    lrc = mt_mtree_load(ctx, dump, dump_len, facts, facts_len, &err);
    if (lrc)
        report_load_error(a, lrc, &err);
    else
        rc = CLI_EXIT_OK;
out:
    free(dump);
    free(facts);
    return rc;
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
    rc = load(ctx, &a);
    if (rc == CLI_EXIT_OK) {
        int prc = mt_mtree_print(ctx, stdout, a.flags);

        if (prc) {
            fprintf(stderr, "memtree: writing output: %s\n", mt_strerror(prc));
            rc = CLI_EXIT_FAIL;
        }
    }
    mt_ctx_free(ctx);
    return rc;
}

const struct cli_cmd cli_cmd_mtree = {
    .name = "mtree",
    .run = run_mtree,
    .summary = "load an `info mtree` dump and print it as QEMU 7.2 does",
    .usage =
        "usage: memtree mtree [-D] [-f] [--facts FACTS] FILE\n"
        "  Load FILE, a QEMU `info mtree` or `info mtree -D` dump (\"-\": stdin),\n"
        "  and print it in QEMU 7.2's format.\n"
        "  -D             show disabled regions (like `info mtree -D`)\n"
        "  -f             print the flat views (like `info mtree -f`)\n"
        "  --facts FACTS  facts the dump cannot show (see docs/mtree-format.md)\n",
};
