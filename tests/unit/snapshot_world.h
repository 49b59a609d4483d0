/* SPDX-License-Identifier: MIT */
/*
 * snapshot_world.h: a small machine for the snapshot tests, built the same
 * way in as many contexts as a test wants. Include after mt_testutil.h.
 *
 *   system (container, 2^64)
 *     0x000000  ram      RAM, 256 KiB (64 pages)
 *     0x100000  rom      ROM, 16 KiB
 *     0x200000  flash    ROM device, 16 KiB, in ROMD mode
 *     0x300000  win      alias of ram at 0x8000, 0x4000 bytes, disabled
 *     0x400000  dev      I/O region, 0x1000 bytes
 *     0x000000  hole     I/O region over ram, 0x1000 bytes, priority 1,
 *                        disabled (enabled by some tests)
 *   vram  RAM, 8 KiB, not mapped anywhere
 * One address space, "memory", over system.
 */
#ifndef SNAPSHOT_WORLD_H
#define SNAPSHOT_WORLD_H

#define W_RAM_SIZE (256u << 10)
#define W_SMALL (16u << 10)

typedef struct world {
    mt_ctx *ctx;
    mt_region *sys, *ram, *rom, *flash, *win, *dev, *hole, *vram;
    mt_as *as;
} world;

static inline void w_build_with(world *w, mt_ctx *ctx, uint64_t ram_size)
{
    memset(w, 0, sizeof(*w));
    w->ctx = ctx;
    w->sys = t_container(ctx, "system", MT_SIZE_FULL);
    w->ram = t_ram(ctx, "ram", ram_size);
    w->rom = t_rom(ctx, "rom", W_SMALL);
    w->flash = t_romd(ctx, "flash", W_SMALL);
    w->win = t_alias(ctx, "win", w->ram, 0x8000, 0x4000);
    w->dev = t_io(ctx, "dev", 0x1000);
    w->hole = t_io(ctx, "hole", 0x1000);
    w->vram = t_ram(ctx, "vram", 8192);
    mt_begin(ctx);
    t_map(w->sys, 0, w->ram);
    t_map(w->sys, 0x100000, w->rom);
    t_map(w->sys, 0x200000, w->flash);
    t_map(w->sys, 0x300000, w->win);
    t_map(w->sys, 0x400000, w->dev);
    t_map_prio(w->sys, 0, w->hole, 1);
    MT_OK(mt_region_set_enabled(w->win, false));
    MT_OK(mt_region_set_enabled(w->hole, false));
    MT_OK(mt_commit(ctx));
    w->as = t_as(ctx, w->sys, "memory");
}

static inline void w_build(world *w)
{
    w_build_with(w, t_ctx(), W_RAM_SIZE);
}

/* Byte @i of the pattern numbered @seed. */
static inline uint8_t w_pat(unsigned seed, uint64_t i)
{
    uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull + seed * 0x632be59bd9b4e019ull;

    return (uint8_t)(x >> 56);
}

static inline void w_fill(uint8_t *p, uint64_t len, unsigned seed)
{
    for (uint64_t i = 0; i < len; i++)
        p[i] = w_pat(seed, i);
}

/* Some contents: half of ram's pages patterned (the rest zero), rom,
 * flash and vram patterned. */
static inline void w_fill_all(world *w, unsigned seed)
{
    uint8_t *ram = mt_region_ram_ptr(w->ram);

    for (uint64_t p = 0; p < W_RAM_SIZE / 4096; p += 2)
        w_fill(ram + p * 4096, 4096, seed + (unsigned)p);
    w_fill(mt_region_ram_ptr(w->rom), W_SMALL, seed + 1000);
    w_fill(mt_region_ram_ptr(w->flash), W_SMALL, seed + 2000);
    w_fill(mt_region_ram_ptr(w->vram), 8192, seed + 3000);
}

/* Copy of every block's memory, to compare with later (caller frees). */
typedef struct w_mem {
    uint8_t *ram, *rom, *flash, *vram;
} w_mem;

static inline uint8_t *w_dup(mt_region *r, uint64_t len)
{
    uint8_t *p = malloc(len);

    assert_non_null(p);
    memcpy(p, mt_region_ram_ptr(r), len);
    return p;
}

static inline w_mem w_save(const world *w)
{
    w_mem m = { w_dup(w->ram, W_RAM_SIZE), w_dup(w->rom, W_SMALL),
                w_dup(w->flash, W_SMALL), w_dup(w->vram, 8192) };
    return m;
}

static inline void w_mem_free(w_mem *m)
{
    free(m->ram);
    free(m->rom);
    free(m->flash);
    free(m->vram);
}

static inline void w_check_mem(const world *w, const w_mem *m)
{
    assert_memory_equal(mt_region_ram_ptr(w->ram), m->ram, W_RAM_SIZE);
    assert_memory_equal(mt_region_ram_ptr(w->rom), m->rom, W_SMALL);
    assert_memory_equal(mt_region_ram_ptr(w->flash), m->flash, W_SMALL);
    assert_memory_equal(mt_region_ram_ptr(w->vram), m->vram, 8192);
}

/* The whole tree and the flat views, as text (caller frees). */
static inline char *w_topology(const world *w)
{
    char *tree = t_mtree(w->ctx, MT_MTREE_DISABLED);
    char *flat = t_mtree(w->ctx, MT_MTREE_FLAT);
    size_t a = strlen(tree), b = strlen(flat);
    char *all = malloc(a + b + 1);

    assert_non_null(all);
    memcpy(all, tree, a);
    memcpy(all + a, flat, b + 1);
    free(tree);
    free(flat);
    return all;
}

static inline void w_check_topology(const world *w, const char *want)
{
    char *got = w_topology(w);

    if (strcmp(got, want)) {
        print_message("---- expected ----\n%s---- got ----\n%s", want, got);
        free(got);
        fail();
    }
    free(got);
}

static inline void w_check_topology_differs(const world *w, const char *old)
{
    char *got = w_topology(w);

    assert_string_not_equal(got, old);
    free(got);
}

/* Take the MIGRATION bits of every page of @r and forget them. */
static inline void w_clear_dirty(mt_region *r, uint64_t len)
{
    bool was;

    MT_OK(mt_region_dirty_test_and_clear(r, 0, len, MT_DIRTY_CLIENT_MIGRATION,
                                         &was));
}

#endif /* SNAPSHOT_WORLD_H */
