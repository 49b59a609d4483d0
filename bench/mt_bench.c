/* SPDX-License-Identifier: MIT */
/*
 * mt_bench.c: `mt-bench [--quick] [WORKLOAD...]`, memtree's micro-benchmarks
 * (the workloads of the peer benchmarks, see docs/benchmarks.md).
 *
 * Runs the named workloads in the order given, or all of them when none is
 * named. Prints one figure per line, "name value unit"; lines starting with
 * '#' are comments. --quick divides every access count by 100 (a smoke run;
 * its figures mean nothing). Exit status: 0, 1 when a run fails, 2 for bad
 * arguments.
 */
#include <string.h>

#include <memtree.h>

#include "bench.h"

unsigned bench_div = 1;

struct workload {
    const char *name;
    void (*run)(void);
    const char *what;
};

static const struct workload workloads[] = {
    { "c1", bench_c1, "8-byte reads/writes over 1000 and 2000 x 4 KiB RAM regions" },
    { "c2", bench_c2, "4 KiB reads over 2000 x 4 KiB RAM regions vs memcpy" },
    { "c3", bench_c3, "4 KiB and 8-byte accesses in one 64 MiB RAM region" },
    { "d", bench_d, "4-byte MMIO (trivial callbacks) vs RAM accesses" },
    { "a", bench_a, "map N x 4 KiB RAM regions, one transaction each (N = 1e3, 1e5, 1e6)" },
    { "b", bench_b, "unmap them in the order mapped, one transaction each" },
    { "dirty", bench_dirty, "collect and clear the dirty pages of a 16 GiB block, 1% dirty" },
    { "hva", bench_hva, "host address -> RAM block among 1,000 blocks" },
    { "rcu", bench_rcu, "8-byte loads, idle and while another thread commits; commit time meanwhile" },
    { "reset", bench_reset, "snapshot reset of a 1 GiB guest, 1% of pages dirty, vs a full restore" },
    { "migrate", bench_migrate, "live migration of a 1 GiB guest dirtying 128 MiB/s: downtime" },
};

#define NR_WORKLOADS (sizeof(workloads) / sizeof(workloads[0]))

static const struct workload *find_workload(const char *name)
{
    size_t i;

    for (i = 0; i < NR_WORKLOADS; i++)
        if (!strcmp(workloads[i].name, name))
            return &workloads[i];
    return NULL;
}

static void usage(FILE *f)
{
    size_t i;

    fprintf(f, "usage: mt-bench [--quick] [WORKLOAD...]\n"
               "  --quick   divide every access count by 100 (smoke run)\n"
               "workloads (all when none is named):\n");
    for (i = 0; i < NR_WORKLOADS; i++)
        fprintf(f, "  %-4s %s\n", workloads[i].name, workloads[i].what);
}

int main(int argc, char **argv)
{
    const struct workload *sel[64];
    size_t nsel = 0, i;
    int a;

    for (a = 1; a < argc; a++) {
        const struct workload *w;

        if (!strcmp(argv[a], "--quick")) {
            bench_div = 100;
            continue;
        }
        if (!strcmp(argv[a], "-h") || !strcmp(argv[a], "--help")) {
            usage(stdout);
            return 0;
        }
        w = find_workload(argv[a]);
        if (!w) {
            fprintf(stderr, "mt-bench: unknown %s '%s'\n",
                    argv[a][0] == '-' ? "option" : "workload", argv[a]);
            usage(stderr);
            return 2;
        }
        if (nsel == sizeof(sel) / sizeof(sel[0])) {
            fprintf(stderr, "mt-bench: too many workloads\n");
            return 2;
        }
        sel[nsel++] = w;
    }
    if (!nsel)
        for (i = 0; i < NR_WORKLOADS; i++)
            sel[nsel++] = &workloads[i];

    printf("# mt-bench: memtree %s%s; figures are medians; format: name value unit\n",
           mt_version_string(), bench_div > 1 ? ", --quick (counts / 100)" : "");
    fflush(stdout);
    for (i = 0; i < nsel; i++)
        sel[i]->run();
    return 0;
}
