/* SPDX-License-Identifier: MIT */
/*
 * main.c: the `memtree` command: dispatches `memtree NAME ARGS...` to the
 * subcommand NAME (one file each, cli/cmd_NAME.c), plus `help` and
 * `--version`.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "memtree.h"

/* Every subcommand, in the order `memtree help` lists them. */
static const struct cli_cmd *const commands[] = {
    &cli_cmd_mtree,
    &cli_cmd_memslots,
    &cli_cmd_run,
    &cli_cmd_svg,
};

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct cli_cmd *find_command(const char *name)
{
    for (size_t i = 0; i < NR_COMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

static void print_overview(FILE *f)
{
    fprintf(f, "usage: memtree COMMAND [ARGS...]\n"
               "       memtree --version\n"
               "       memtree help [COMMAND]\n\ncommands:\n");
    for (size_t i = 0; i < NR_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
}

/* `memtree help [COMMAND]`. */
static int run_help(int argc, char **argv)
{
    const struct cli_cmd *cmd;

    if (argc < 2) {
        print_overview(stdout);
        return CLI_EXIT_OK;
    }
    if (argc > 2)
        return cli_usage_error(NULL, "help: too many arguments");
    cmd = find_command(argv[1]);
    if (!cmd)
        return cli_usage_error(NULL, "help: unknown command '%s'", argv[1]);
    fputs(cmd->usage, stdout);
    return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
    const struct cli_cmd *cmd;

    if (argc < 2) {
        print_overview(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("memtree %s\n", mt_version_string());
        return CLI_EXIT_OK;
    }
    if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
        !strcmp(argv[1], "-h"))
        return run_help(argc - 1, argv + 1);
    cmd = find_command(argv[1]);
    if (!cmd) {
        fprintf(stderr, "memtree: unknown command '%s'\n", argv[1]);
        print_overview(stderr);
        return CLI_EXIT_USAGE;
    }
    return cmd->run(argc - 1, argv + 1);
}
