/* SPDX-License-Identifier: MIT */
/*
 * fuzz_driver.c: runs a fuzz target without libFuzzer, for make check:
 * every file named on the command line (or found in a directory named
 * there), then MT_FUZZ_RUNS random inputs (default 3000) from a fixed seed
 * (MT_FUZZ_SEED overrides). A failing input aborts inside the target.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The target's entry point (CMake names it per target). */
#ifndef MT_FUZZ_ONE
#define MT_FUZZ_ONE mt_fuzz_topology_one
#endif
int MT_FUZZ_ONE(const uint8_t *data, size_t size);

static unsigned long ran;

static void run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t buf[1 << 16];
    size_t n;

    if (!f) {
        fprintf(stderr, "fuzz_driver: cannot open %s\n", path);
        exit(1);
    }
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    MT_FUZZ_ONE(buf, n);
    ran++;
}

static void run_path(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    char sub[4096];

    if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
        run_file(path);
        return;
    }
    d = opendir(path);
    if (!d) {
        fprintf(stderr, "fuzz_driver: cannot open %s\n", path);
        exit(1);
    }
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
        run_file(sub);
    }
    closedir(d);
}

static uint64_t next(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

int main(int argc, char **argv)
{
    const char *env_runs = getenv("MT_FUZZ_RUNS");
    const char *env_seed = getenv("MT_FUZZ_SEED");
    unsigned long runs = env_runs ? strtoul(env_runs, NULL, 0) : 3000;
    uint64_t seed = env_seed ? strtoull(env_seed, NULL, 0) : 0x6d74667a;
    unsigned long corpus;

    for (int i = 1; i < argc; i++)
        run_path(argv[i]);
    corpus = ran;
    printf("fuzz_driver: seed 0x%llx\n", (unsigned long long)seed);
    for (unsigned long r = 0; r < runs; r++) {
        uint8_t buf[512];
        size_t n = 16 + next(&seed) % (sizeof(buf) - 16);

        for (size_t k = 0; k < n; k++)
            buf[k] = (uint8_t)next(&seed);
        MT_FUZZ_ONE(buf, n);
        ran++;
    }
    printf("fuzz_driver: %lu corpus inputs, %lu random inputs\n", corpus,
           ran - corpus);
    printf("%lu passed, 0 failed\n", ran);
    return 0;
}
