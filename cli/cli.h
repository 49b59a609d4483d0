/* SPDX-License-Identifier: MIT */
/*
 * cli.h: what the `memtree` subcommands share: the command table entry
 * type, one entry point per subcommand (one file each), and small helpers.
 */
#ifndef MT_CLI_H
#define MT_CLI_H

#include <stddef.h>

/** Exit statuses of every subcommand. */
enum {
    CLI_EXIT_OK = 0,    /* success */
    CLI_EXIT_FAIL = 1,  /* bad input or a failed operation */
    CLI_EXIT_USAGE = 2, /* bad command line */
};

/**
 * struct cli_cmd - one subcommand.
 * @name:    what follows `memtree` on the command line.
 * @run:     entry point; argv[0] is @name. Returns a CLI_EXIT_* status.
 * @summary: one line for `memtree help`.
 * @usage:   full usage text for `memtree help NAME` and usage errors.
 */
struct cli_cmd {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
    const char *usage;
};

/* Subcommands, one file each: cli/cmd_NAME.c. */
extern const struct cli_cmd cli_cmd_mtree;
extern const struct cli_cmd cli_cmd_memslots;
extern const struct cli_cmd cli_cmd_run;
extern const struct cli_cmd cli_cmd_svg;

/**
 * cli_read_file - read all of @path ("-" is stdin) into a NUL-terminated
 * malloc'ed buffer. Returns 0 with *@buf and *@len set, or -1 with errno set.
 */
int cli_read_file(const char *path, char **buf, size_t *len);

/** cli_display_name - how @path is named in messages ("<stdin>" for "-"). */
const char *cli_display_name(const char *path);

/** cli_usage_error - print "memtree: @msg" and @cmd's usage to stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

struct mt_ctx;
struct mt_kvm;

/**
 * cli_load_dump - load the dump @file (and the facts @facts, or NULL) into
 * @ctx, reporting failures as `memtree: FILE:LINE: message`. Returns a
 * CLI_EXIT_* status.
 */
int cli_load_dump(struct mt_ctx *ctx, const char *file, const char *facts);

/**
 * cli_kvm_dry_run - attach a dry-run KVM backend (no /dev/kvm) to the
 * address space named "memory" of @ctx. Returns 0 or an MT_E* code
 * (MT_ENOENT when there is no such address space).
 */
int cli_kvm_dry_run(struct mt_ctx *ctx, struct mt_kvm **out);

#endif /* MT_CLI_H */
