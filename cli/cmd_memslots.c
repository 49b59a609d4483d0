/* SPDX-License-Identifier: MIT */
/*
 * cmd_memslots.c: `memtree memslots [--facts FACTS] FILE`: load a QEMU
 * `info mtree` dump and print the KVM memslots the backend would create
 * for its `memory` address space (computed without /dev/kvm), one per
 * line in address order: `<as_id> <flags> <gpa> <size> <ramblock>+<offset>`.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "memtree.h"

static int parse_args(int argc, char **argv, const char **file,
                      const char **facts)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];

        if (!strcmp(arg, "--facts")) {
            if (++i == argc)
                return cli_usage_error(&cli_cmd_memslots, "memslots: --facts needs a file");
            *facts = argv[i];
        } else if (!strncmp(arg, "--facts=", 8)) {
            *facts = arg + 8;
        } else if (arg[0] == '-' && arg[1]) {
            return cli_usage_error(&cli_cmd_memslots, "memslots: unknown option '%s'", arg);
        } else if (*file) {
            return cli_usage_error(&cli_cmd_memslots, "memslots: more than one FILE");
        } else {
            *file = arg;
        }
    }
    if (!*file)
        return cli_usage_error(&cli_cmd_memslots, "memslots: no FILE given");
    return 0;
}

static void print_slot(const mt_kvm_slot *s)
{
    const char *name = mt_region_name(s->region);

    printf("%u 0x%" PRIx32 " 0x%" PRIx64 " 0x%" PRIx64 " %s+0x%" PRIx64 "\n",
           s->as_id, s->flags, s->gpa, s->size, name ? name : "(null)",
           s->offset);
}

static int run_memslots(int argc, char **argv)
{
    const char *file = NULL, *facts = NULL;
    mt_ctx *ctx = NULL;
    mt_kvm *kvm = NULL;
    int rc = parse_args(argc, argv, &file, &facts);

    if (rc)
        return rc;
    rc = mt_ctx_new(&ctx, NULL);
    if (rc) {
        fprintf(stderr, "memtree: %s\n", mt_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    rc = cli_load_dump(ctx, file, facts);
    if (rc == CLI_EXIT_OK) {
        int krc = cli_kvm_dry_run(ctx, &kvm);

        if (krc) {
            fprintf(stderr, "memtree: %s: %s\n", cli_display_name(file),
                    krc == MT_ENOENT ? "no address space named \"memory\""
                                     : mt_strerror(krc));
            rc = CLI_EXIT_FAIL;
        } else {
            for (size_t i = 0; i < mt_kvm_nr_slots(kvm); i++)
                print_slot(mt_kvm_slot_at(kvm, i));
            if (fflush(stdout))
                rc = CLI_EXIT_FAIL;
        }
    }
    mt_kvm_free(kvm);
    mt_ctx_free(ctx);
    return rc;
}

const struct cli_cmd cli_cmd_memslots = {
    .name = "memslots",
    .run = run_memslots,
    .summary = "print the KVM memslots the backend creates for a dump",
    .usage =
        "usage: memtree memslots [--facts FACTS] FILE\n"
        "  Load FILE, a QEMU `info mtree` or `info mtree -D` dump (\"-\": stdin),\n"
        "  and print the KVM memslots memtree's backend makes for its \"memory\"\n"
        "  address space, one per line sorted by address:\n"
        "    <as_id> <flags> <gpa> <size> <ramblock>+<offset>   (hex: 0x...)\n"
        "  flags: 0x1 KVM_MEM_LOG_DIRTY_PAGES, 0x2 KVM_MEM_READONLY.\n"
        "  No /dev/kvm is needed: the slots are computed, not created.\n",
};
