/* SPDX-License-Identifier: MIT */
/* cli_util.c: helpers shared by the `memtree` subcommands. */
#include "cli.h"

#include <errno.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtree.h"

/* Append everything @f still has to *@buf (NUL-terminated). */
static int slurp(FILE *f, char **buf, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);

    if (!b)
        return -1;
    for (;;) {
        if (cap - n < 2) {
            char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(b, cap * 2);

            if (!nb) {
                free(b);
                errno = ENOMEM;
                return -1;
            }
            b = nb;
            cap *= 2;
        }
        size_t got = fread(b + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(b);
        errno = EIO;
        return -1;
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}

int cli_read_file(const char *path, char **buf, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    int rc, saved;

    if (!f)
        return -1;
    rc = slurp(f, buf, len);
    saved = errno;
    if (f != stdin)
        fclose(f);
    errno = saved;
    return rc;
}

const char *cli_display_name(const char *path)
{
    return strcmp(path, "-") == 0 ? "<stdin>" : path;
}

int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;

    fputs("memtree: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (cmd)
        fprintf(stderr, "%s", cmd->usage);
    return CLI_EXIT_USAGE;
}

int cli_load_dump(mt_ctx *ctx, const char *file, const char *facts_file)
{
    char *dump = NULL, *facts = NULL;
    size_t dump_len = 0, facts_len = 0;
    mt_load_error err = { 0 };
    int rc = CLI_EXIT_FAIL, lrc;

    if (cli_read_file(file, &dump, &dump_len)) {
        fprintf(stderr, "memtree: %s: %s\n", cli_display_name(file),
                strerror(errno));
        return CLI_EXIT_FAIL;
    }
    if (facts_file && cli_read_file(facts_file, &facts, &facts_len)) {
        fprintf(stderr, "memtree: %s: %s\n", cli_display_name(facts_file),
                strerror(errno));
        goto out;
    }
    lrc = mt_mtree_load(ctx, dump, dump_len, facts, facts_len, &err);
    if (lrc) {
        const char *name = cli_display_name(err.in_facts && facts_file
                                                ? facts_file : file);
        const char *msg = err.msg[0] ? err.msg : mt_strerror(lrc);

        if (err.line)
            fprintf(stderr, "memtree: %s:%u: %s\n", name, err.line, msg);
        else
            fprintf(stderr, "memtree: %s: %s\n", name, msg);
    } else {
        rc = CLI_EXIT_OK;
    }
out:
    free(dump);
    free(facts);
    return rc;
}

int cli_kvm_dry_run(mt_ctx *ctx, mt_kvm **out)
{
    mt_kvm_opts opts = { .vm_fd = -1 };

    for (size_t i = 0; i < mt_ctx_nr_as(ctx); i++) {
        mt_as *as = mt_ctx_as(ctx, i);

        if (!strcmp(mt_as_name(as), "memory"))
            return mt_kvm_new(as, &opts, out);
    }
    return MT_ENOENT;
}
