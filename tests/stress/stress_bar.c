/* SPDX-License-Identifier: MIT */
/*
 * stress_bar.c: MMIO callbacks that change the map (BAR reprogramming)
 * while other threads access it and another thread commits.
 *
 * Two "vCPU" threads write to a configuration device whose write callback
 * moves a BAR (another region), moves the configuration device itself,
 * enables or disables the BAR, moves a RAM BAR, or does several of these
 * in one transaction; the BAR's own write callback moves the BAR itself.
 * Meanwhile they read all the places where the BARs and the configuration
 * device may be: a read finds the region's tag or a hole, nothing else. A
 * third thread keeps committing (some transactions are held open across an
 * access whose callback remaps, on the same thread). Nothing may deadlock:
 * the watchdog fails the test, naming each thread's last step, when no
 * thread moves for MT_STRESS_WATCHDOG seconds. Each vCPU thread makes
 * MT_STRESS_ITERS / 4 accesses.
 */
#include "stress.h"

#define NVCPUS 2

static const mt_attrs ATTRS = { .unspecified = 1 };

/* Where things may be. */
static const uint64_t cfg_pos[2] = { 0x1000, 0x2000 };
static const uint64_t bar_pos[3] = { 0x100000, 0x200000, 0x300000 };
static const uint64_t ram_pos[2] = { 0x400000, 0x500000 };
#define OTHER_POS   UINT64_C(0x600000)
#define CFG_SIZE    UINT64_C(0x100)
#define BAR_SIZE    UINT64_C(0x1000)
#define RAM_SIZE    UINT64_C(0x1000)

#define CFG_TAG     UINT64_C(0xC0F1600000000000)
#define BAR_TAG     UINT64_C(0xBA20000000000000)
#define RAM_TAG     UINT64_C(0x5A3B000000000000)

/* Registers of the configuration device (8 bytes each). */
enum {
    REG_BAR_ADDR = 0x00,     /* move the MMIO BAR there */
    REG_SELF_ADDR = 0x08,    /* move the configuration device there */
    REG_BAR_ENABLE = 0x10,   /* enable (1) or disable (0) the BAR */
    REG_RAM_ADDR = 0x18,     /* move the RAM BAR there */
    REG_BOTH = 0x20,         /* one transaction: BAR and RAM BAR moved */
};

typedef struct machine {
    mt_ctx *ctx;
    mt_as *as;
    mt_region *sys, *cfg, *bar, *ram, *other;
    atomic_ulong callback_remaps;
} machine;

static machine M;

static mt_result cfg_read(void *opaque, uint64_t off, uint64_t *value,
                          unsigned size, mt_attrs attrs)
{
    (void)opaque, (void)size, (void)attrs;
    *value = CFG_TAG | off;
    return MT_TX_OK;
}

static void must(int rc, const char *what)
{
    if (rc)
        SFAIL("in a device callback: %s returned %d (%s)", what, rc,
              mt_err_name(rc));
}

/* The configuration device reprograms the machine from its callback, with
 * no memtree lock held by this thread. */
static mt_result cfg_write(void *opaque, uint64_t off, uint64_t value,
                           unsigned size, mt_attrs attrs)
{
    machine *m = opaque;

    (void)size, (void)attrs;
    switch (off) {
    case REG_BAR_ADDR:
        must(mt_region_set_address(m->bar, bar_pos[value % 3]),
             "mt_region_set_address(bar)");
        break;
    case REG_SELF_ADDR:
        must(mt_region_set_address(m->cfg, cfg_pos[value % 2]),
             "mt_region_set_address(cfg itself)");
        break;
    case REG_BAR_ENABLE:
        must(mt_region_set_enabled(m->bar, value & 1),
             "mt_region_set_enabled(bar)");
        break;
    case REG_RAM_ADDR:
        must(mt_region_set_address(m->ram, ram_pos[value % 2]),
             "mt_region_set_address(ram bar)");
        break;
    case REG_BOTH:
        mt_begin(m->ctx);
        must(mt_region_set_address(m->bar, bar_pos[value % 3]),
             "mt_region_set_address(bar) in a transaction");
        must(mt_region_set_address(m->ram, ram_pos[(value >> 8) % 2]),
             "mt_region_set_address(ram bar) in a transaction");
        must(mt_commit(m->ctx), "mt_commit");
        break;
    default:
        return MT_TX_OK;
    }
    atomic_fetch_add_explicit(&m->callback_remaps, 1, memory_order_relaxed);
    return MT_TX_OK;
}

static const mt_ops cfg_ops = {
    .read = cfg_read,
    .write = cfg_write,
    .endian = MT_ENDIAN_LITTLE,
    .valid = { .min_access_size = 8, .max_access_size = 8 },
    .impl = { .min_access_size = 8, .max_access_size = 8 },
};

static mt_result bar_read(void *opaque, uint64_t off, uint64_t *value,
                          unsigned size, mt_attrs attrs)
{
    (void)opaque, (void)size, (void)attrs;
    *value = BAR_TAG | off;
    return MT_TX_OK;
}

/* The BAR moves itself when written at offset 0. */
static mt_result bar_write(void *opaque, uint64_t off, uint64_t value,
                           unsigned size, mt_attrs attrs)
{
    machine *m = opaque;

    (void)size, (void)attrs;
    if (off == 0) {
        must(mt_region_set_address(m->bar, bar_pos[value % 3]),
             "mt_region_set_address(bar itself)");
        atomic_fetch_add_explicit(&m->callback_remaps, 1,
                                  memory_order_relaxed);
    }
    return MT_TX_OK;
}

static const mt_ops bar_ops = {
    .read = bar_read,
    .write = bar_write,
    .endian = MT_ENDIAN_LITTLE,
    .valid = { .min_access_size = 8, .max_access_size = 8 },
    .impl = { .min_access_size = 8, .max_access_size = 8 },
};

static void build(machine *m)
{
    uint64_t *p;

    SOK(mt_ctx_new(&m->ctx, NULL));
    SOK(mt_region_new_container(m->ctx, "sys", MT_SIZE_FULL, &m->sys));
    SOK(mt_region_new_io(m->ctx, "cfg", CFG_SIZE, &cfg_ops, m, &m->cfg));
    SOK(mt_region_new_io(m->ctx, "bar", BAR_SIZE, &bar_ops, m, &m->bar));
    SOK(mt_region_new_ram(m->ctx, "rambar", RAM_SIZE, &m->ram));
    SOK(mt_region_new_ram(m->ctx, "other", RAM_SIZE, &m->other));
    p = mt_region_ram_ptr(m->ram);
    for (uint64_t i = 0; i < RAM_SIZE / 8; i++)
        p[i] = RAM_TAG | i * 8;
    SOK(mt_region_add_subregion(m->sys, cfg_pos[0], m->cfg));
    SOK(mt_region_add_subregion(m->sys, bar_pos[0], m->bar));
    SOK(mt_region_add_subregion(m->sys, ram_pos[0], m->ram));
    SOK(mt_region_add_subregion(m->sys, OTHER_POS, m->other));
    SOK(mt_as_new(m->ctx, m->sys, "memory", &m->as));
}

/* ---- the vCPU threads -------------------------------------------------------- */

typedef struct vcpu {
    unsigned idx;
    unsigned long iters;
    uint64_t rng;
    stress_beat *beat;
    unsigned long hits;
} vcpu;

/* A read at one of @n places: @tag | offset at one of them, or a hole. */
static void check_read(vcpu *v, const char *what, const uint64_t *pos,
                       unsigned n, uint64_t size, uint64_t tag)
{
    uint64_t base = pos[stress_pick(&v->rng, n)];
    uint64_t off = stress_rng(&v->rng) % (size / 8) * 8;
    uint64_t val = 0;
    mt_result res = mt_as_load(M.as, base + off, 8, MT_ENDIAN_LITTLE, ATTRS,
                               &val);

    if (res == MT_TX_DECODE_ERROR && val == 0)
        return;
    if (res != MT_TX_OK || val != (tag | off))
        SERR("vcpu %u: %s at %#" PRIx64 ": %#" PRIx64 " (result %#x), "
             "expected %#" PRIx64 " or a hole", v->idx, what, base + off,
             val, res, tag | off);
    else
        v->hits++;
}

/* Write @value to configuration register @reg wherever the device is
 * (it is at one of two places; the other write falls in a hole). */
static void cfg_store(vcpu *v, unsigned reg, uint64_t value)
{
    for (unsigned i = 0; i < 2; i++) {
        mt_result res = mt_as_store(M.as, cfg_pos[i] + reg, 8,
                                    MT_ENDIAN_LITTLE, ATTRS, value);

        if (res != MT_TX_OK && res != MT_TX_DECODE_ERROR)
            SERR("vcpu %u: cfg write at %#" PRIx64 ": result %#x", v->idx,
                 cfg_pos[i] + reg, res);
    }
}

static void *vcpu_main(void *arg)
{
    vcpu *v = arg;

    for (unsigned long i = 0; i < v->iters; i++) {
        uint64_t val = stress_rng(&v->rng);

        switch (stress_pick(&v->rng, 9)) {
        case 0:
            stress_step(v->beat, "cfg write: move the BAR");
            cfg_store(v, REG_BAR_ADDR, val);
            break;
        case 1:
            stress_step(v->beat, "cfg write: move cfg itself");
            cfg_store(v, REG_SELF_ADDR, val);
            break;
        case 2:
            stress_step(v->beat, "cfg write: BAR enable");
            cfg_store(v, REG_BAR_ENABLE, val | (stress_pick(&v->rng, 4) != 0));
            break;
        case 3:
            stress_step(v->beat, "cfg write: move the RAM BAR");
            cfg_store(v, REG_RAM_ADDR, val);
            break;
        case 4:
            stress_step(v->beat, "cfg write: transaction in a callback");
            cfg_store(v, REG_BOTH, val);
            break;
        case 5:
            stress_step(v->beat, "BAR write: the BAR moves itself");
            for (unsigned k = 0; k < 3; k++)
                (void)mt_as_store(M.as, bar_pos[k], 8, MT_ENDIAN_LITTLE,
                                  ATTRS, val);
            break;
        case 6:
            stress_step(v->beat, "read the BAR");
            check_read(v, "BAR read", bar_pos, 3, BAR_SIZE, BAR_TAG);
            break;
        case 7:
            stress_step(v->beat, "read the RAM BAR");
            check_read(v, "RAM BAR read", ram_pos, 2, RAM_SIZE, RAM_TAG);
            break;
        default:
            stress_step(v->beat, "read cfg");
            check_read(v, "cfg read", cfg_pos, 2, CFG_SIZE, CFG_TAG);
            break;
        }
    }
    stress_step(v->beat, "done");
    return NULL;
}

/* ---- the committing thread --------------------------------------------------- */

static atomic_bool committer_stop;

typedef struct committer {
    uint64_t rng;
    stress_beat *beat;
    unsigned long commits;
} committer;

static void *committer_main(void *arg)
{
    committer *c = arg;
    bool on = true;

    while (!atomic_load(&committer_stop)) {
        switch (stress_pick(&c->rng, 3)) {
        case 0:
            stress_step(c->beat, "toggle an unrelated region");
            on = !on;
            SOK(mt_region_set_enabled(M.other, on));
            break;
        case 1:
            /* Hold a transaction while accessing the device: its callback
             * remaps on this thread (the writer lock is recursive). */
            stress_step(c->beat, "mt_begin, cfg write, mt_commit");
            mt_begin(M.ctx);
            on = !on;
            SOK(mt_region_set_enabled(M.other, on));
            for (unsigned i = 0; i < 2; i++)
                (void)mt_as_store(M.as, cfg_pos[i] + REG_BAR_ADDR, 8,
                                  MT_ENDIAN_LITTLE, ATTRS,
                                  stress_rng(&c->rng));
            SOK(mt_commit(M.ctx));
            break;
        default:
            /* A transaction held open a little while: the vCPUs' callbacks
             * wait for it, their plain accesses do not. */
            stress_step(c->beat, "a transaction held open 100 us");
            mt_begin(M.ctx);
            SOK(mt_region_set_address(M.other, OTHER_POS +
                                      stress_pick(&c->rng, 2) * RAM_SIZE));
            stress_sleep_us(100);
            SOK(mt_commit(M.ctx));
            break;
        }
        /* Back to back: the writer lock is fair, so the callbacks that
         * wait for it still get their turns. */
        c->commits++;
    }
    stress_step(c->beat, "done");
    return NULL;
}

int main(void)
{
    unsigned long iters = stress_scale(stress_iters(20000), 1, 4);
    uint64_t seed = stress_seed();
    vcpu v[NVCPUS];
    committer c = { .rng = seed ^ 0x5555 };
    pthread_t vt[NVCPUS], ct;
    double t0 = stress_now();

    build(&M);
    stress_watchdog_start();
    c.beat = stress_beat_new("committer");
    ct = stress_start(committer_main, &c);
    for (unsigned i = 0; i < NVCPUS; i++) {
        v[i] = (vcpu){ .idx = i, .iters = iters, .rng = seed + 3 * i + 1 };
        v[i].beat = stress_beat_new(i ? "vcpu 1" : "vcpu 0");
        vt[i] = stress_start(vcpu_main, &v[i]);
    }
    for (unsigned i = 0; i < NVCPUS; i++)
        stress_join(vt[i]);
    atomic_store(&committer_stop, true);
    stress_join(ct);
    stress_watchdog_stop();

    printf("2 vcpus x %lu accesses, %lu remaps from callbacks, %lu commits "
           "by the committer, in %.2f s; hits %lu and %lu\n", iters,
           atomic_load(&M.callback_remaps), c.commits, stress_now() - t0,
           v[0].hits, v[1].hits);
    if (atomic_load(&M.callback_remaps) == 0 || !v[0].hits || !v[1].hits)
        SERR("no remap from a callback or no read found a region: the test "
             "tested nothing");
    mt_ctx_free(M.ctx);
    return stress_result("stress_bar");
}
