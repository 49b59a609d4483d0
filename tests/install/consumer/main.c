/* SPDX-License-Identifier: MIT */
/*
 * main.c: a downstream program built against an installed memtree. It
 * checks that the library it runs with is the one its header describes and
 * that a context can be created and freed. Prints "ok" and exits 0 on success.
 */
#include <memtree.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    char want[32];
    mt_ctx *ctx = NULL;
    int err;

    snprintf(want, sizeof(want), "%d.%d.%d", MT_VERSION_MAJOR,
             MT_VERSION_MINOR, MT_VERSION_PATCH);
    if (mt_version() != MT_VERSION_HEX || strcmp(mt_version_string(), want)) {
        fprintf(stderr, "library version %s, header %s\n",
                mt_version_string(), want);
        return 1;
    }
    if (strcmp(mt_err_name(MT_EINVAL), "MT_EINVAL") != 0) {
        fprintf(stderr, "mt_err_name(MT_EINVAL) = %s\n", mt_err_name(MT_EINVAL));
        return 1;
    }
    err = mt_ctx_new(&ctx, NULL);
    if (err != 0 || ctx == NULL) {
        fprintf(stderr, "mt_ctx_new: %s\n", mt_strerror(err));
        return 1;
    }
    mt_ctx_free(ctx);
    puts("ok");
    return 0;
}
