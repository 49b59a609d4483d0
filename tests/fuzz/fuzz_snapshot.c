/* SPDX-License-Identifier: MIT */
/*
 * fuzz_snapshot.c: fuzz target for the snapshot file loader, whose input
 * is untrusted.
 *
 * The first input byte picks a mode:
 *   0  the rest is a file, loaded as mt_snapshot_load_buffer() does;
 *   1  the same with checksums unchecked, so the parser behind them is
 *      reached by any input;
 *   2+ a valid base file (a small machine's snapshot, made once) with the
 *      rest of the input applied as edits (at most 1 + 3 * (mode >> 5)):
 *      3 bytes each, a position (2 bytes; with the top two bits set,
 *      within the first KiB: header and region table) and a value stored
 *      or XORed there (mode bit 2), the file possibly cut short first
 *      (mode bit 3); checksums checked only with mode bit 4, so edits
 *      reach the parser and the restore.
 * Oracles, for every file the loader accepts:
 *   - it saves and loads back to the same bytes;
 *   - restoring it into a fresh copy of the machine either is refused
 *     (MT_EMISMATCH) and changes nothing, or succeeds, after which a new
 *     snapshot of the machine saves to exactly the same bytes (every
 *     recorded state was applied);
 *   - the unedited base file always restores.
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
#include "snapshot_int.h"

int mt_fuzz_snapshot_one(const uint8_t *data, size_t size);

/* Outcomes, printed at exit when MT_FUZZ_STATS is set (to see how deep
 * a corpus or a random run gets). */
static unsigned long stats[4]; /* refused, loaded, restored, mismatched */

static void print_stats(void)
{
    fprintf(stderr, "fuzz_snapshot: %lu refused, %lu loaded, %lu restored, "
            "%lu mismatched\n", stats[0], stats[1], stats[2], stats[3]);
}

static _Noreturn void fail(const char *what, int rc)
{
    fprintf(stderr, "fuzz_snapshot: oracle failed: %s (%s)\n", what,
            mt_err_name(rc));
    abort();
}

/* The machine: nested containers, every kind, an alias, an unmapped RAM. */
static mt_ctx *machine(void)
{
    mt_ctx *ctx;
    mt_region *sys, *box, *ram, *rom, *flash, *win, *dev, *sub, *bar, *spare;
    mt_as *as;
    static uint8_t bar_mem[4096];

    if (mt_ctx_new(&ctx, NULL) ||
        mt_region_new_container(ctx, "sys", MT_SIZE_FULL, &sys) ||
        mt_region_new_container(ctx, "box", 0x100000, &box) ||
        mt_region_new_ram(ctx, "ram", 0x10000, &ram) ||
        mt_region_new_rom(ctx, "rom", 0x2000, &rom) ||
        mt_region_new_rom_device(ctx, "flash", 0x2000, NULL, NULL, &flash) ||
        mt_region_new_alias(ctx, "win", ram, 0x1000, 0x2000, &win) ||
        mt_region_new_io(ctx, "dev", 0x100, NULL, NULL, &dev) ||
        mt_region_new_io(ctx, "dev", 0x100, NULL, NULL, &sub) ||
        mt_region_new_ram_device(ctx, "bar", sizeof(bar_mem), bar_mem, &bar) ||
        mt_region_new_ram(ctx, "spare", 0x1000, &spare))
        fail("machine", MT_ENOMEM);
    mt_begin(ctx);
    if (mt_region_add_subregion(sys, 0, ram) ||
        mt_region_add_subregion(sys, 0x100000, box) ||
        mt_region_add_subregion(box, 0, rom) ||
        mt_region_add_subregion_overlap(box, 0x1000, flash, 1) ||
        mt_region_add_subregion(box, 0x8000, win) ||
        mt_region_add_subregion_overlap(sys, 0x200000, dev, -2) ||
        mt_region_add_subregion(dev, 0x10, sub) ||
        mt_region_add_subregion(sys, 0x300000, bar) ||
        mt_region_set_enabled(win, false) || mt_commit(ctx) ||
        mt_as_new(ctx, sys, "memory", &as))
        fail("machine map", MT_ENOMEM);
    memset((uint8_t *)mt_region_ram_ptr(ram) + 0x3000, 0x5a, 100);
    memset(mt_region_ram_ptr(rom), 0xc3, 64);
    memset((uint8_t *)mt_region_ram_ptr(spare) + 10, 1, 1);
    return ctx;
}

/* Save @s into a malloc'd buffer. */
static uint8_t *save(const mt_snapshot *s, size_t *len)
{
    int fd = memfd_create("fuzz", 0);
    off_t end;
    uint8_t *buf;
    int rc;

    if (fd < 0)
        fail("memfd", MT_EIO);
    rc = mt_snapshot_save(s, fd, NULL);
    if (rc)
        fail("save", rc);
    end = lseek(fd, 0, SEEK_END);
    buf = malloc(end > 0 ? (size_t)end : 1);
    if (!buf || pread(fd, buf, (size_t)end, 0) != end)
        fail("read back", MT_EIO);
    close(fd);
    *len = (size_t)end;
    return buf;
}

static const uint8_t *base_file(size_t *len)
{
    static uint8_t *base;
    static size_t base_len;

    if (!base) {
        mt_ctx *ctx = machine();
        mt_snapshot *s;
        int rc = mt_snapshot_take(ctx, 0, &s, NULL);

        if (rc)
            fail("take", rc);
        base = save(s, &base_len);
        mt_snapshot_free(s);
        mt_ctx_free(ctx);
    }
    *len = base_len;
    return base;
}

static size_t base_size(void)
{
    size_t len;

    base_file(&len);
    return len;
}

static int load(const uint8_t *buf, size_t len, bool verify, mt_ctx *ctx,
                mt_snapshot **out)
{
    mt__snapr r;
    mt_snapshot_error err;

    memset(&r, 0, sizeof(r));
    r.fd = -1;
    r.mem = buf;
    r.mem_len = len;
    r.verify = verify;
    return mt__snap_load(&ctx->alloc, &r, out, &err);
}

static void same(const uint8_t *a, size_t na, const uint8_t *b, size_t nb,
                 const char *what)
{
    if (na != nb || memcmp(a, b, na))
        fail(what, 0);
}

static void check_accepted(mt_ctx *ctx, mt_snapshot *s, bool must_restore)
{
    mt_snapshot *again, *now;
    uint8_t *f1, *f2, *before, *after;
    size_t n1, n2, nb, na;
    mt_ctx *m;
    int rc;

    /* Save, load, save: the same bytes. */
    f1 = save(s, &n1);
    rc = mt_snapshot_load_buffer(ctx, f1, n1, &again, NULL);
    if (rc)
        fail("reload of a saved snapshot", rc);
    f2 = save(again, &n2);
    same(f1, n1, f2, n2, "save/load/save");
    mt_snapshot_free(again);
    free(f2);

    /* Restore into the machine. */
    m = machine();
    if (mt_snapshot_take(m, 0, &now, NULL))
        fail("take", MT_ENOMEM);
    before = save(now, &nb);
    mt_snapshot_free(now);
    rc = mt_snapshot_restore(m, s, 0, NULL);
    if (mt_snapshot_take(m, 0, &now, NULL))
        fail("take", MT_ENOMEM);
    after = save(now, &na);
    mt_snapshot_free(now);
    stats[rc ? 3 : 2]++;
    if (rc == MT_EMISMATCH) {
        if (must_restore)
            fail("the base file does not restore", rc);
        same(before, nb, after, na, "a refused restore changed something");
    } else if (rc == 0) {
        same(f1, n1, after, na, "restored state differs from the file");
    } else {
        fail("restore", rc);
    }
    free(before);
    free(after);
    free(f1);
    mt_ctx_free(m);
}

int mt_fuzz_snapshot_one(const uint8_t *data, size_t size)
{
    mt_ctx *ctx;
    mt_snapshot *s = NULL;
    uint8_t mode, *buf = NULL;
    const uint8_t *file;
    size_t len;
    bool verify, pristine = false;
    int rc;

    if (size == 0)
        return 0;
    if (!stats[0] && !stats[1] && getenv("MT_FUZZ_STATS"))
        atexit(print_stats);
    mode = data[0];
    data++;
    size--;
    if (mt_ctx_new(&ctx, NULL))
        fail("context", MT_ENOMEM);
    if (mode < 2) {
        file = data;
        len = size;
        verify = mode == 0;
    } else {
        const uint8_t *base = base_file(&len);

        buf = malloc(len);
        if (!buf)
            fail("malloc", MT_ENOMEM);
        memcpy(buf, base, len);
        len = fuzz_mutate(buf, len, data, size, mode);
        pristine = !memcmp(buf, base, len) && len == base_size();
        file = buf;
        verify = mode & 16;
    }
    rc = load(file, len, verify, ctx, &s);
    stats[rc ? 0 : 1]++;
    if (rc == 0) {
        check_accepted(ctx, s, pristine);
        mt_snapshot_free(s);
    } else if (rc != MT_EPARSE && rc != MT_ECORRUPT && rc != MT_ENOMEM) {
        fail("load returned an unexpected code", rc);
    } else if (pristine) {
        fail("the base file does not load", rc);
    }
    free(buf);
    mt_ctx_free(ctx);
    return 0;
}

#ifdef MT_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return mt_fuzz_snapshot_one(data, size);
}
#endif
