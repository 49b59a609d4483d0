/* SPDX-License-Identifier: MIT */
/*
 * fuzz_migrate.c: fuzz target for the destination side of a migration,
 * whose stream is untrusted (mt_migrate_dst_load).
 *
 * The first input byte picks a mode:
 *   0  the rest is a stream, loaded into a fresh machine as
 *      mt_migrate_dst_new_buffer() + mt_migrate_dst_load() do;
 *   1  the same with checksums unchecked, so the parser behind them is
 *      reached by any input;
 *   2+ a valid base stream (a small machine migrated in three passes with
 *      two extension records, made once) with the rest of the input
 *      applied as edits (at most 1 + 3 * (mode >> 5)): 3 bytes each, a
 *      position (2 bytes; with the top two bits set, within the first
 *      KiB: header and region table) and a value stored or XORed there
 *      (mode bit 2), the stream possibly cut short first (mode bit 3);
 *      checksums checked only with mode bit 4.
 * Oracles:
 *   - the load returns 0, MT_EPARSE, MT_ECORRUPT, MT_EMISMATCH, MT_EIO (a
 *     cancel record) or MT_ENOMEM, nothing else;
 *   - a refused stream leaves the machine's region state as it was;
 *   - an accepted stream leaves every extension record readable;
 *   - with checksums checked, an accepted stream gives exactly the
 *     source's memory and region state (edits cannot get through), and
 *     the unedited base stream is always accepted.
 * A violation aborts. Built as a libFuzzer target with -DMEMTREE_FUZZ=ON
 * and clang; fuzz_driver.c replays the corpus and random inputs in make
 * check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_mutate.h"
#include "migrate_int.h"

int mt_fuzz_migrate_one(const uint8_t *data, size_t size);

/* Outcomes, printed at exit when MT_FUZZ_STATS is set. */
static unsigned long stats[3]; /* refused, loaded, loaded with checksums */

static void print_stats(void)
{
    fprintf(stderr, "fuzz_migrate: %lu refused, %lu loaded (%lu with "
            "checksums checked)\n", stats[0], stats[1], stats[2]);
}

static _Noreturn void fail(const char *what, int rc)
{
    fprintf(stderr, "fuzz_migrate: oracle failed: %s (%s)\n", what,
            mt_err_name(rc));
    abort();
}

#define RAM_SIZE 0x8000u

typedef struct machine {
    mt_ctx *ctx;
    mt_region *ram, *rom, *win, *dev;
    mt_as *as;
} machine;

/* Nested containers, RAM, ROM, a ROM device, an alias, I/O, spare RAM. */
static void build(machine *m)
{
    mt_region *sys, *box, *flash, *spare;

    if (mt_ctx_new(&m->ctx, NULL) ||
        mt_region_new_container(m->ctx, "sys", MT_SIZE_FULL, &sys) ||
        mt_region_new_container(m->ctx, "box", 0x100000, &box) ||
        mt_region_new_ram(m->ctx, "ram", RAM_SIZE, &m->ram) ||
        mt_region_new_rom(m->ctx, "rom", 0x2000, &m->rom) ||
        mt_region_new_rom_device(m->ctx, "flash", 0x2000, NULL, NULL,
                                 &flash) ||
        mt_region_new_alias(m->ctx, "win", m->ram, 0x1000, 0x2000, &m->win) ||
        mt_region_new_io(m->ctx, "dev", 0x100, NULL, NULL, &m->dev) ||
        mt_region_new_ram(m->ctx, "spare", 0x1000, &spare))
        fail("machine", MT_ENOMEM);
    mt_begin(m->ctx);
    if (mt_region_add_subregion(sys, 0, m->ram) ||
        mt_region_add_subregion(sys, 0x100000, box) ||
        mt_region_add_subregion(box, 0, m->rom) ||
        mt_region_add_subregion_overlap(box, 0x1000, flash, 1) ||
        mt_region_add_subregion(box, 0x8000, m->win) ||
        mt_region_add_subregion_overlap(sys, 0x200000, m->dev, -2) ||
        mt_commit(m->ctx) || mt_as_new(m->ctx, sys, "memory", &m->as))
        fail("machine map", MT_ENOMEM);
    mt_region_unref(box);
    mt_region_unref(flash);
    mt_region_unref(sys);
}

/* The machine's region tree and flat view, as text (malloc'd). */
static char *topology(mt_ctx *ctx)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f || mt_mtree_print(ctx, f, MT_MTREE_DISABLED) ||
        mt_mtree_print(ctx, f, MT_MTREE_FLAT))
        fail("print", MT_ENOMEM);
    fclose(f);
    return buf;
}

/* What a correct load must give: the source's memory and region state. */
static struct {
    uint8_t *stream;
    size_t len;
    uint8_t ram[RAM_SIZE], rom[0x2000];
    char *topo;
} base;

static void make_base(void)
{
    machine m;
    mt_migrate_src *src;
    uint64_t v = 0x1122334455667788ull;
    int fd = memfd_create("base", 0);
    uint8_t *ram;
    off_t end;

    if (fd < 0)
        fail("memfd", MT_EIO);
    build(&m);
    ram = mt_region_ram_ptr(m.ram);
    for (unsigned i = 0; i < RAM_SIZE; i += 3)
        ram[i] = (uint8_t)(i * 13 + 1);
    memset(ram + 0x5000, 0, 0x1000);
    memset(mt_region_ram_ptr(m.rom), 0xc3, 100);
    if (mt_migrate_src_start(m.ctx, fd, 0, &src, NULL))
        fail("start", MT_EIO);
    mt_as_write(m.as, 0x2008, MT_ATTRS_UNSPECIFIED, &v, 8);
    if (mt_migrate_src_iterate(src, NULL, NULL))
        fail("iterate", MT_EIO);
    mt_as_write(m.as, 0x7ff8, MT_ATTRS_UNSPECIFIED, &v, 8);
    mt_region_set_enabled(m.win, false);
    mt_region_set_address(m.dev, 0x300000);
    if (mt_migrate_src_put_ext(src, MT_MIGRATE_TAG('V', 'C', 'P', 'U'),
                               "registers", 9, NULL) ||
        mt_migrate_src_put_ext(src, 0, NULL, 0, NULL) ||
        mt_migrate_src_complete(src, NULL))
        fail("complete", MT_EIO);
    mt_migrate_src_free(src);
    memcpy(base.ram, ram, RAM_SIZE);
    memcpy(base.rom, mt_region_ram_ptr(m.rom), sizeof(base.rom));
    base.topo = topology(m.ctx);
    mt_ctx_free(m.ctx);
    end = lseek(fd, 0, SEEK_END);
    base.stream = malloc(end > 0 ? (size_t)end : 1);
    if (!base.stream || pread(fd, base.stream, (size_t)end, 0) != end)
        fail("read back", MT_EIO);
    base.len = (size_t)end;
    close(fd);
}

static int load(const uint8_t *s, size_t len, bool verify, bool pristine)
{
    machine m;
    mt_migrate_dst *dst;
    mt_migrate_error err;
    char *before, *after;
    int rc;

    build(&m);
    before = topology(m.ctx);
    rc = mt__mig_dst_new_mem(s, len, verify, NULL, &dst);
    if (rc)
        fail("new", rc);
    rc = mt_migrate_dst_load(dst, m.ctx, &err);
    after = topology(m.ctx);
    if (rc != 0 && rc != MT_EPARSE && rc != MT_ECORRUPT &&
        rc != MT_EMISMATCH && rc != MT_EIO && rc != MT_ENOMEM)
        fail("load returned an unexpected code", rc);
    if (rc && strcmp(before, after))
        fail("a refused stream changed the region state", rc);
    if (rc && !err.msg[0])
        fail("a refusal without a message", rc);
    if (pristine && rc)
        fail(err.msg, rc);
    if (!rc) {
        for (size_t i = 0; i < mt_migrate_dst_nr_ext(dst); i++) {
            const uint8_t *p;
            const void *data;
            uint32_t tag;
            size_t n, sum = 0;

            if (mt_migrate_dst_ext(dst, i, &tag, &data, &n))
                fail("an extension record", MT_EINVAL);
            p = data;
            for (size_t k = 0; k < n; k++)
                sum += p[k];
            (void)sum;
        }
    }
    if (!rc && verify &&
        (memcmp(mt_region_ram_ptr(m.ram), base.ram, RAM_SIZE) ||
         memcmp(mt_region_ram_ptr(m.rom), base.rom, sizeof(base.rom)) ||
         strcmp(after, base.topo)))
        fail("a checked stream loaded something else than the source", 0);
    stats[rc ? 0 : 1]++;
    if (!rc && verify)
        stats[2]++;
    mt_migrate_dst_free(dst);
    free(before);
    free(after);
    mt_ctx_free(m.ctx);
    return rc;
}

int mt_fuzz_migrate_one(const uint8_t *data, size_t size)
{
    uint8_t mode, *buf = NULL;
    bool pristine = false;

    if (size == 0)
        return 0;
    if (!base.stream) {
        make_base();
        if (getenv("MT_FUZZ_STATS"))
            atexit(print_stats);
    }
    mode = data[0];
    data++;
    size--;
    if (mode < 2) {
        load(data, size, mode == 0, false);
        return 0;
    }
    buf = malloc(base.len);
    if (!buf)
        fail("malloc", MT_ENOMEM);
    memcpy(buf, base.stream, base.len);
    {
        size_t len = fuzz_mutate(buf, base.len, data, size, mode);

        pristine = len == base.len && !memcmp(buf, base.stream, len);
        load(buf, len, (mode & 16) != 0, pristine);
    }
    free(buf);
    return 0;
}

#ifdef MT_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return mt_fuzz_migrate_one(data, size);
}
#endif
