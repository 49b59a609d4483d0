/* SPDX-License-Identifier: MIT */
/*
 * stress_map.c: lock-free readers against writers that change the map.
 *
 *   stress_map one   two reader threads read and write through the address
 *                    space at full speed (loads, stores, reads, writes,
 *                    translate, gpa_to_hva, map/unmap, map_iov/unmap_iov,
 *                    access_valid) while
 *                    one writer thread moves, enables, disables, resizes,
 *                    deletes and re-adds regions MT_STRESS_ITERS times
 *   stress_map two   the same with two writer threads changing disjoint
 *                    parts of the map concurrently (their transactions
 *                    serialise on the context's writer lock)
 *   ... cached       either, with 96 more regions far away (never read) so
 *                    that the view has a lookup cache, which readers fill
 *                    while each commit hands it to the next version
 *
 * Every value a reader sees must come from some map (stress_map.h says
 * how the values are laid out). At the end the writers' last state is
 * rebuilt in a fresh context and both must read the same everywhere: no
 * change was lost. The stressed context allocates through counting
 * hooks (atomic counters: the hooks must be thread-safe, readers allocate
 * too); every block must be back once the context is freed. Run under
 * ASan (no use after free, no leak) and TSan (no race) by `make check`.
 */
#include "stress.h"
#include "stress_map.h"
#include "internal.h" /* "cached": does the view have its lookup cache? */

#define NREADERS 2

static const mt_attrs ATTRS = { .unspecified = 1 };

/* ---- devices ---------------------------------------------------------------- */

typedef struct sm_dev {
    unsigned id;
    atomic_ulong writes;
} sm_dev;

static sm_dev devs[SM_NIDS];

static mt_result dev_read(void *opaque, uint64_t off, uint64_t *value,
                          unsigned size, mt_attrs attrs)
{
    sm_dev *d = opaque;
    uint64_t word = (uint64_t)sm_hi(d->id, off / 8) << 32 |
                    (0x4D4Du << 16 | d->id);

    (void)attrs;
    word >>= (off % 8) * 8;
    *value = size >= 8 ? word : word & ((UINT64_C(1) << (size * 8)) - 1);
    return MT_TX_OK;
}

static mt_result dev_write(void *opaque, uint64_t off, uint64_t value,
                           unsigned size, mt_attrs attrs)
{
    sm_dev *d = opaque;

    (void)off, (void)value, (void)size, (void)attrs;
    atomic_fetch_add_explicit(&d->writes, 1, memory_order_relaxed);
    return MT_TX_OK;
}

static const mt_ops dev_ops = {
    .read = dev_read,
    .write = dev_write,
    .endian = MT_ENDIAN_LITTLE,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
    .impl = { .min_access_size = 1, .max_access_size = 8 },
};

/* ---- allocator hooks, thread-safe ------------------------------------------ */

static atomic_long alloc_live;          /* blocks allocated, not freed */
static atomic_ulong alloc_total;
static atomic_ulong alloc_by_readers;   /* allocations on reader threads */
static _Thread_local bool on_reader;

static void *sa_alloc(void *opaque, size_t size)
{
    void *p = malloc(size ? size : 1);

    (void)opaque;
    if (p) {
        atomic_fetch_add(&alloc_live, 1);
        atomic_fetch_add(&alloc_total, 1);
        if (on_reader)
            atomic_fetch_add(&alloc_by_readers, 1);
    }
    return p;
}

static void *sa_realloc(void *opaque, void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);

    (void)opaque;
    if (p && !ptr) {
        atomic_fetch_add(&alloc_live, 1);
        if (on_reader)
            atomic_fetch_add(&alloc_by_readers, 1);
    }
    if (p)
        atomic_fetch_add(&alloc_total, 1);
    return p;
}

static void sa_free(void *opaque, void *ptr)
{
    (void)opaque;
    if (ptr)
        atomic_fetch_sub(&alloc_live, 1);
    free(ptr);
}

static const mt_allocator counting_hooks = { sa_alloc, sa_realloc, sa_free,
                                             NULL };

/* ---- building --------------------------------------------------------------- */

static void fill(mt_region *r, unsigned id, uint64_t size)
{
    uint64_t *p = mt_region_ram_ptr(r);

    if (!p)
        SFAIL("region r%u has no memory", id);
    for (uint64_t w = 0; w < size / 8; w++)
        p[w] = (uint64_t)sm_hi(id, w) << 32 | (0x5252u << 16 | id);
}

static mt_region *new_ram(mt_ctx *ctx, unsigned id, uint64_t size, bool rom)
{
    char name[8];
    mt_region *r;

    snprintf(name, sizeof(name), "r%u", id);
    if (rom)
        SOK(mt_region_new_rom(ctx, name, size, &r));
    else
        SOK(mt_region_new_ram(ctx, name, size, &r));
    fill(r, id, size);
    return r;
}

static mt_region *new_mmio(mt_ctx *ctx, unsigned id, uint64_t size)
{
    char name[8];
    mt_region *r;

    snprintf(name, sizeof(name), "r%u", id);
    SOK(mt_region_new_io(ctx, name, size, &dev_ops, &devs[id], &r));
    return r;
}

/* Build the machine in state @st (one transaction), allocating through
 * @hooks (NULL: malloc). The caller keeps the creation reference of every
 * region. */
/* "cached": this many more 4 KiB RAM regions far above SM_SPACE (never
 * read), which make the view large enough for a lookup cache (see
 * MT_TLB_MIN_RANGES in src/internal.h): readers then fill and use its
 * entries while commits hand it from version to version. */
#define SM_PAD_CACHED 96
#define SM_PAD_BASE   UINT64_C(0x10000000)
static unsigned sm_pad;

static void sm_build(sm_machine *m, const sm_state *st,
                     const mt_allocator *hooks)
{
    memset(m, 0, sizeof(*m));
    m->st = *st;
    SOK(mt_ctx_new(&m->ctx, hooks));
    mt_begin(m->ctx);
    SOK(mt_region_new_container(m->ctx, "sys", MT_SIZE_FULL, &m->sys));
    m->ra = new_ram(m->ctx, 1, 0x10000, false);
    m->rb = new_ram(m->ctx, 2, 0x10000, false);
    m->rc = new_ram(m->ctx, 3, 0x8000, true);
    SOK(mt_region_new_alias(m->ctx, "d", m->rb, sm_d_off[st->d_off],
                            sm_d_size[st->d_size], &m->d));
    m->me = new_mmio(m->ctx, 4, sm_e_size[1]);
    SOK(mt_region_set_size(m->me, sm_e_size[st->e_size]));
    SOK(mt_region_set_readonly(m->me, st->e_ro));
    SOK(mt_region_set_reentrancy_guard(m->me, !st->e_unguarded));
    SOK(mt_region_new_container(m->ctx, "h", 0x10000, &m->h));
    m->ri = new_ram(m->ctx, 7, SM_I_SIZE, false);

    SOK(mt_region_set_readonly(m->ra, st->a_ro));
    SOK(mt_region_add_subregion(m->sys, sm_a_pos[st->a_pos], m->ra));
    SOK(mt_region_set_enabled(m->rb, st->b_en));
    if (st->b_mapped)
        SOK(mt_region_add_subregion(m->sys, SM_B_POS, m->rb));
    SOK(mt_region_set_enabled(m->rc, st->c_en));
    SOK(mt_region_add_subregion_overlap(m->sys, SM_C_POS, m->rc, 1));
    SOK(mt_region_add_subregion(m->sys, SM_D_POS, m->d));
    SOK(mt_region_add_subregion_overlap(m->sys, sm_e_pos[st->e_pos], m->me,
                                        2));
    if (st->f_mapped) {
        m->rf = new_ram(m->ctx, 5, SM_F_SIZE, false);
        SOK(mt_region_add_subregion(m->sys, sm_f_pos[st->f_pos], m->rf));
    }
    if (st->g_mapped) {
        m->mg = new_mmio(m->ctx, 6, SM_G_SIZE);
        SOK(mt_region_add_subregion(m->sys, sm_g_pos[st->g_pos], m->mg));
    }
    SOK(mt_region_set_enabled(m->ri, st->i_en));
    SOK(mt_region_add_subregion(m->h, SM_I_OFF, m->ri));
    SOK(mt_region_add_subregion(m->sys, sm_h_pos[st->h_pos], m->h));
    for (unsigned i = 0; i < sm_pad; i++) {
        mt_region *p;
        char name[16];

        snprintf(name, sizeof(name), "pad%u", i);
        SOK(mt_region_new_ram(m->ctx, name, 0x1000, &p));
        SOK(mt_region_add_subregion(m->sys, SM_PAD_BASE + i * 0x2000ull, p));
        mt_region_unref(p);
    }
    SOK(mt_as_new(m->ctx, m->sys, "memory", &m->as));
    SOK(mt_commit(m->ctx));
}

/* ---- writer operations ---------------------------------------------------------- */
/* Each changes one thing and records it in m->st. Two writers never share
 * an operation (their fields of m->st are disjoint). */

typedef void (*sm_op)(sm_machine *m, uint64_t *rng);

static void op_a_move(sm_machine *m, uint64_t *rng)
{
    (void)rng;
    m->st.a_pos ^= 1;
    SOK(mt_region_set_address(m->ra, sm_a_pos[m->st.a_pos]));
}

static void op_a_ro(sm_machine *m, uint64_t *rng)
{
    (void)rng;
    m->st.a_ro = !m->st.a_ro;
    SOK(mt_region_set_readonly(m->ra, m->st.a_ro));
}

static void op_c_en(sm_machine *m, uint64_t *rng)
{
    (void)rng;
    m->st.c_en = !m->st.c_en;
    SOK(mt_region_set_enabled(m->rc, m->st.c_en));
}

static void op_d_off(sm_machine *m, uint64_t *rng)
{
    (void)rng;
    m->st.d_off ^= 1;
    SOK(mt_region_set_alias_offset(m->d, sm_d_off[m->st.d_off]));
}

static void op_d_size(sm_machine *m, uint64_t *rng)
{
    (void)rng;
    m->st.d_size ^= 1;
    SOK(mt_region_set_size(m->d, sm_d_size[m->st.d_size]));
}

/* r5: delete and free it, or make a new one and map it somewhere. */
static void op_f(sm_machine *m, uint64_t *rng)
{
    if (m->st.f_mapped) {
        SOK(mt_region_del_subregion(m->sys, m->rf));
        mt_region_unref(m->rf);
        m->rf = NULL;
    } else {
        m->st.f_pos = stress_pick(rng, 2);
        m->rf = new_ram(m->ctx, 5, SM_F_SIZE, false);
        SOK(mt_region_add_subregion(m->sys, sm_f_pos[m->st.f_pos], m->rf));
    }
    m->st.f_mapped = !m->st.f_mapped;
}

static void op_b_en(sm_machine *m, uint64_t *rng)
{
    (void)rng;
    m->st.b_en = !m->st.b_en;
    SOK(mt_region_set_enabled(m->rb, m->st.b_en));
}

/* r2: unmap it (our reference keeps it alive), or map it back. */
static void op_b_readd(sm_machine *m, uint64_t *rng)
{
    (void)rng;
    if (m->st.b_mapped)
        SOK(mt_region_del_subregion(m->sys, m->rb));
    else
        SOK(mt_region_add_subregion(m->sys, SM_B_POS, m->rb));
    m->st.b_mapped = !m->st.b_mapped;
}

static void op_e_pos(sm_machine *m, uint64_t *rng)
{
    m->st.e_pos = stress_pick(rng, 3);
    SOK(mt_region_set_address(m->me, sm_e_pos[m->st.e_pos]));
}

static void op_e_size(sm_machine *m, uint64_t *rng)
{
    (void)rng;
    m->st.e_size ^= 1;
    SOK(mt_region_set_size(m->me, sm_e_size[m->st.e_size]));
}

static void op_e_ro(sm_machine *m, uint64_t *rng)
{
    (void)rng;
    m->st.e_ro = !m->st.e_ro;
    SOK(mt_region_set_readonly(m->me, m->st.e_ro));
}

/* Not a change of the map: no commit, only the flag accesses read. */
static void op_e_guard(sm_machine *m, uint64_t *rng)
{
    (void)rng;
    m->st.e_unguarded = !m->st.e_unguarded;
    SOK(mt_region_set_reentrancy_guard(m->me, !m->st.e_unguarded));
}

/* r6: as r5, an MMIO region. */
static void op_g(sm_machine *m, uint64_t *rng)
{
    if (m->st.g_mapped) {
        SOK(mt_region_del_subregion(m->sys, m->mg));
        mt_region_unref(m->mg);
        m->mg = NULL;
    } else {
        m->st.g_pos = stress_pick(rng, 2);
        m->mg = new_mmio(m->ctx, 6, SM_G_SIZE);
        SOK(mt_region_add_subregion(m->sys, sm_g_pos[m->st.g_pos], m->mg));
    }
    m->st.g_mapped = !m->st.g_mapped;
}

static void op_h_move(sm_machine *m, uint64_t *rng)
{
    (void)rng;
    m->st.h_pos ^= 1;
    SOK(mt_region_set_address(m->h, sm_h_pos[m->st.h_pos]));
}

static void op_i_en(sm_machine *m, uint64_t *rng)
{
    (void)rng;
    m->st.i_en = !m->st.i_en;
    SOK(mt_region_set_enabled(m->ri, m->st.i_en));
}

static const sm_op ops_w0[] = { op_a_move, op_a_ro, op_c_en, op_d_off,
                                op_d_size, op_f };
static const sm_op ops_w1[] = { op_b_en, op_b_readd, op_e_pos, op_e_size,
                                op_e_ro, op_e_guard, op_g, op_h_move,
                                op_i_en };

/* ---- threads ---------------------------------------------------------------- */

typedef struct writer {
    sm_machine *m;
    unsigned idx;
    unsigned nsets;          /* 2: every operation; 1: set idx only */
    unsigned long iters;
    uint64_t rng;
    stress_beat *beat;
    unsigned long commits;
} writer;

typedef struct reader {
    sm_machine *m;
    unsigned lane;
    uint64_t rng;
    stress_beat *beat;
    unsigned long ops;
    unsigned long hits;      /* reads that found a region */
    unsigned long iov_maps;  /* mt_as_map_iov calls that mapped */
} reader;

static atomic_bool readers_stop;

static void random_op(writer *w)
{
    unsigned set = w->nsets == 2 ? stress_pick(&w->rng, 2) : w->idx;

    if (set == 0)
        ops_w0[stress_pick(&w->rng, sizeof(ops_w0) / sizeof(ops_w0[0]))](
            w->m, &w->rng);
    else
        ops_w1[stress_pick(&w->rng, sizeof(ops_w1) / sizeof(ops_w1[0]))](
            w->m, &w->rng);
}

static void *writer_main(void *arg)
{
    writer *w = arg;
    mt_ctx *ctx = w->m->ctx;

    for (unsigned long i = 0; i < w->iters; i++) {
        unsigned kind = stress_pick(&w->rng, 8);

        stress_step(w->beat, kind ? "one change (own transaction)"
                                  : "a transaction of several changes");
        if (kind) {
            random_op(w);
            w->commits++;
            continue;
        }
        /* Several changes, sometimes in nested transactions, rendered
         * once: other writers wait, readers do not. */
        mt_begin(ctx);
        if (mt_transaction_depth(ctx) != 1)
            SFAIL("writer %u: depth %u inside its own transaction", w->idx,
                  mt_transaction_depth(ctx));
        for (unsigned k = 2 + stress_pick(&w->rng, 3); k; k--) {
            if (stress_pick(&w->rng, 4) == 0) {
                mt_begin(ctx);
                random_op(w);
                SOK(mt_commit(ctx));
            } else {
                random_op(w);
            }
        }
        SOK(mt_commit(ctx));
        w->commits++;
    }
    stress_step(w->beat, "done");
    return NULL;
}

static void check_hi(reader *r, const char *what, uint64_t word_addr,
                     uint32_t hi, mt_result res)
{
    if (res == MT_TX_DECODE_ERROR && hi == 0)
        return; /* a hole */
    if (res != MT_TX_OK) {
        SERR("reader %u: %s of word %#" PRIx64 ": result %#x, value %#x",
             r->lane, what, word_addr, res, hi);
        return;
    }
    r->hits++;
    if (!sm_valid_hi(word_addr, hi))
        SERR("reader %u: %s of word %#" PRIx64 ": high half %#x is in no "
             "map (names r%u word %u)", r->lane, what, word_addr, hi,
             (hi >> 16) & 0xff, hi & 0xffff);
}

static void check_store(reader *r, const char *what, uint64_t addr,
                        mt_result res)
{
    /* Holes, ROM and read-only RAM refuse writes with a decode error. */
    if (res != MT_TX_OK && res != MT_TX_DECODE_ERROR)
        SERR("reader %u: %s at %#" PRIx64 ": result %#x", r->lane, what,
             addr, res);
}

/* Translate inside a read-side section: the region stays usable. */
static void read_translate(reader *r, uint64_t word)
{
    mt_ctx *ctx = r->m->ctx;
    mt_region *reg = NULL;
    uint64_t off = 0, len = 4;
    unsigned id;
    const char *name;
    int rc;

    mt_read_lock(ctx);
    rc = mt_as_translate(r->m->as, word + 4, ATTRS, &reg, &off, &len);
    if (rc) {
        SERR("reader %u: mt_as_translate(%#" PRIx64 ") returned %d (%s)",
             r->lane, word + 4, rc, mt_err_name(rc));
    } else if (reg) {
        name = mt_region_name(reg);
        if (!name || sscanf(name, "r%u", &id) != 1 || id < 1 ||
            id >= SM_NIDS || off < 4 ||
            !sm_valid_hi(word, sm_hi(id, (off - 4) / 8))) {
            SERR("reader %u: translate(%#" PRIx64 ") gave region '%s' "
                 "offset %#" PRIx64 ": in no map", r->lane, word + 4,
                 name ? name : "(null)", off);
        } else if (sm_has_ram[id]) {
            const uint8_t *p = mt_region_ram_ptr(reg);
            uint32_t hi;

            memcpy(&hi, p + off, 4);
            if (hi != sm_hi(id, (off - 4) / 8))
                SERR("reader %u: r%u offset %#" PRIx64 " holds %#x, "
                     "expected %#x", r->lane, id, off, hi,
                     sm_hi(id, (off - 4) / 8));
        }
        r->hits++;
    }
    mt_read_unlock(ctx);
}

static void read_hva(reader *r, uint64_t word)
{
    mt_ctx *ctx = r->m->ctx;
    void *hva = NULL;
    uint64_t len = 4;
    uint32_t hi;
    int rc;

    mt_read_lock(ctx);
    rc = mt_as_gpa_to_hva(r->m->as, word + 4, &hva, &len);
    if (rc == 0) {
        memcpy(&hi, hva, 4);
        if (len < 4 || !sm_valid_hi(word, hi) ||
            !sm_has_ram[(hi >> 16) & 0xff])
            SERR("reader %u: gpa_to_hva(%#" PRIx64 "): %#x (%" PRIu64
                 " bytes) is in no map", r->lane, word + 4, hi, len);
        r->hits++;
    } else if (rc != MT_ENOENT) {
        SERR("reader %u: gpa_to_hva(%#" PRIx64 ") returned %d (%s)",
             r->lane, word + 4, rc, mt_err_name(rc));
    }
    mt_read_unlock(ctx);
}

/* DMA map without a read-side section: the mapping holds the region. */
static void read_map(reader *r, uint64_t word)
{
    uint64_t len = 4;
    uint32_t hi;
    void *p = mt_as_map(r->m->as, word + 4, &len, false, ATTRS);
    int rc;

    if (!p)
        return; /* the bounce budget is spent (the other reader has it) */
    if (len != 4)
        SERR("reader %u: mt_as_map(%#" PRIx64 ", 4) mapped %" PRIu64,
             r->lane, word + 4, len);
    memcpy(&hi, p, 4);
    if (hi && !sm_valid_hi(word, hi))
        SERR("reader %u: mt_as_map(%#" PRIx64 ") shows %#x: in no map",
             r->lane, word + 4, hi);
    rc = mt_as_unmap(r->m->as, p, len, false, len);
    if (rc)
        SERR("reader %u: mt_as_unmap returned %d (%s)", r->lane, rc,
             mt_err_name(rc));
}

/* mt_as_map_iov over 64 bytes (eight words, maybe several regions and
 * holes): every high half the segments show must come from some map.
 * Only the high halves are read: the other reader stores low halves.
 * Segments end at region boundaries, multiples of 16: no word straddles
 * two. */
static void read_map_iov(reader *r, uint64_t base)
{
    struct iovec iov[8];
    size_t seg = 0, seg_at = 0, total = 0;
    int n, rc;

    base &= ~UINT64_C(63);
    n = mt_as_map_iov(r->m->as, base, 64, false, ATTRS, iov, 8);
    if (n == MT_ENOMEM)
        return; /* the bounce budget is spent (the other reader has it) */
    if (n < 1)
        SERR("reader %u: mt_as_map_iov(%#" PRIx64 ", 64) returned %d (%s)",
             r->lane, base, n, mt_err_name(n));
    for (int i = 0; i < n; i++)
        total += iov[i].iov_len;
    if (total != 64)
        SERR("reader %u: mt_as_map_iov(%#" PRIx64 ") mapped %zu bytes",
             r->lane, base, total);
    for (unsigned w = 0; w < 8 && total == 64; w++) {
        size_t off = 8 * w + 4;
        uint32_t hi;

        while (off >= seg_at + iov[seg].iov_len)
            seg_at += iov[seg++].iov_len;
        if (off + 4 > seg_at + iov[seg].iov_len)
            SERR("reader %u: mt_as_map_iov(%#" PRIx64 ") splits word %u",
                 r->lane, base, w);
        memcpy(&hi, (uint8_t *)iov[seg].iov_base + (off - seg_at), 4);
        if (hi && !sm_valid_hi(base + 8 * w, hi))
            SERR("reader %u: mt_as_map_iov shows %#x at %#" PRIx64 ": in "
                 "no map", r->lane, hi, base + 8 * w + 4);
    }
    r->iov_maps++;
    rc = mt_as_unmap_iov(r->m->as, iov, (size_t)n, false, 64);
    if (rc)
        SERR("reader %u: mt_as_unmap_iov returned %d (%s)", r->lane, rc,
             mt_err_name(rc));
}

static void *reader_main(void *arg)
{
    reader *r = arg;
    mt_as *as = r->m->as;
    uint32_t counter = 0;

    on_reader = true;
    while (!atomic_load_explicit(&readers_stop, memory_order_relaxed)) {
        uint64_t base = stress_rng(&r->rng) % (SM_SPACE / 16) * 16;
        uint64_t own = base + 8 * r->lane;
        uint64_t any = base + 8 * stress_pick(&r->rng, 2);
        uint8_t buf[8];
        uint64_t v = 0;
        mt_result res;

        r->ops++;
        switch (stress_pick(&r->rng, 10)) {
        case 0:
            stress_step(r->beat, "mt_as_load 8");
            res = mt_as_load(as, own, 8, MT_ENDIAN_LITTLE, ATTRS, &v);
            check_hi(r, "load8", own, (uint32_t)(v >> 32), res);
            break;
        case 1:
            stress_step(r->beat, "mt_as_load 4");
            res = mt_as_load(as, any + 4, 4, MT_ENDIAN_LITTLE, ATTRS, &v);
            check_hi(r, "load4", any, (uint32_t)v, res);
            break;
        case 2:
            stress_step(r->beat, "mt_as_store 4");
            res = mt_as_store(as, own, 4, MT_ENDIAN_LITTLE, ATTRS, ++counter);
            check_store(r, "store4", own, res);
            break;
        case 3:
            stress_step(r->beat, "mt_as_read 8");
            memset(buf, 0, sizeof(buf));
            res = mt_as_read(as, own, ATTRS, buf, 8);
            memcpy(&v, buf, 8);
            check_hi(r, "read8", own, (uint32_t)(v >> 32), res);
            break;
        case 4:
            stress_step(r->beat, "mt_as_write 4");
            ++counter;
            memcpy(buf, &counter, 4);
            res = mt_as_write(as, own, ATTRS, buf, 4);
            check_store(r, "write4", own, res);
            break;
        case 5:
            stress_step(r->beat, "mt_as_rw read 4");
            memset(buf, 0, sizeof(buf));
            res = mt_as_rw(as, any + 4, ATTRS, buf, 4, false);
            memcpy(&v, buf, 4);
            check_hi(r, "rw-read4", any, (uint32_t)v, res);
            break;
        case 6:
            stress_step(r->beat, "mt_as_translate in mt_read_lock");
            read_translate(r, any);
            break;
        case 7:
            stress_step(r->beat, "mt_as_gpa_to_hva in mt_read_lock");
            read_hva(r, any);
            break;
        case 8:
            if (stress_pick(&r->rng, 2)) {
                stress_step(r->beat, "mt_as_map/unmap");
                read_map(r, any);
            } else {
                stress_step(r->beat, "mt_as_map_iov/unmap_iov");
                read_map_iov(r, any);
            }
            break;
        default:
            stress_step(r->beat, "mt_as_access_valid");
            (void)mt_as_access_valid(as, own, 8, stress_pick(&r->rng, 2),
                                     ATTRS);
            break;
        }
    }
    stress_step(r->beat, "done");
    return NULL;
}

/* ---- the end: nothing lost ----------------------------------------------------- */

/* The writers' last state, rebuilt from scratch, must read the same as the
 * stressed machine at every word (high halves: readers wrote the lows). */
static void check_final(sm_machine *m)
{
    sm_machine fresh;
    unsigned long bad = 0;

    sm_build(&fresh, &m->st, NULL);
    for (uint64_t a = 0; a < SM_SPACE; a += 8) {
        uint64_t got = 0, want = 0;
        mt_result rg = mt_as_load(m->as, a + 4, 4, MT_ENDIAN_LITTLE, ATTRS,
                                  &got);
        mt_result rw = mt_as_load(fresh.as, a + 4, 4, MT_ENDIAN_LITTLE,
                                  ATTRS, &want);

        if ((got != want || rg != rw) && bad++ < 10)
            SERR("final map: word %#" PRIx64 " reads %#" PRIx64 " (result "
                 "%#x), a fresh build of the last state reads %#" PRIx64
                 " (result %#x)", a, got, rg, want, rw);
    }
    if (bad) {
        fprintf(stderr, "final state: a_pos %u a_ro %d b_en %d b_mapped %d "
                "c_en %d d_off %u d_size %u e_pos %u e_size %u e_ro %d "
                "e_unguarded %d f %d@%u "
                "g %d@%u h_pos %u i_en %d\n", m->st.a_pos, m->st.a_ro,
                m->st.b_en, m->st.b_mapped, m->st.c_en, m->st.d_off,
                m->st.d_size, m->st.e_pos, m->st.e_size, m->st.e_ro,
                m->st.e_unguarded, m->st.f_mapped,
                m->st.f_pos, m->st.g_mapped, m->st.g_pos, m->st.h_pos,
                m->st.i_en);
    }
    mt_ctx_free(fresh.ctx);
}

int main(int argc, char **argv)
{
    const sm_state start = { .b_en = true, .b_mapped = true, .c_en = true,
                             .f_mapped = true, .g_mapped = true,
                             .i_en = true };
    unsigned nwriters;
    unsigned long iters = stress_iters(20000);
    uint64_t seed = stress_seed();
    sm_machine m;
    writer w[2];
    reader r[NREADERS];
    pthread_t wt[2], rt[NREADERS];
    double t0;

    if (argc < 2 || argc > 3 ||
        (strcmp(argv[1], "one") && strcmp(argv[1], "two")) ||
        (argc == 3 && strcmp(argv[2], "cached"))) {
        fprintf(stderr, "usage: stress_map one|two [cached]\n");
        return 2;
    }
    if (argc == 3)
        sm_pad = SM_PAD_CACHED;
    nwriters = strcmp(argv[1], "one") ? 2 : 1;
    for (unsigned id = 0; id < SM_NIDS; id++)
        devs[id].id = id;
    sm_build(&m, &start, &counting_hooks);
    stress_watchdog_start();

    for (unsigned i = 0; i < NREADERS; i++) {
        r[i] = (reader){ .m = &m, .lane = i, .rng = seed * 7 + i + 1 };
        r[i].beat = stress_beat_new(i ? "reader 1" : "reader 0");
        rt[i] = stress_start(reader_main, &r[i]);
    }
    t0 = stress_now();
    for (unsigned i = 0; i < nwriters; i++) {
        w[i] = (writer){ .m = &m, .idx = i, .nsets = nwriters == 1 ? 2 : 1,
                         .iters = nwriters == 1 ? iters : (iters + 1) / 2,
                         .rng = seed + i };
        w[i].beat = stress_beat_new(i ? "writer 1" : "writer 0");
        wt[i] = stress_start(writer_main, &w[i]);
    }
    for (unsigned i = 0; i < nwriters; i++)
        stress_join(wt[i]);
    atomic_store(&readers_stop, true);
    for (unsigned i = 0; i < NREADERS; i++)
        stress_join(rt[i]);
    stress_watchdog_stop();

    printf("%u writer(s): %lu changes (%lu commits) in %.2f s; readers: "
           "%lu and %lu accesses (%lu and %lu found a region)\n", nwriters,
           iters, w[0].commits + (nwriters > 1 ? w[1].commits : 0),
           stress_now() - t0, r[0].ops, r[1].ops, r[0].hits, r[1].hits);
    if (r[0].hits == 0 || r[1].hits == 0)
        SERR("a reader never found a region: the test tested nothing");
    printf("iovec maps: %lu and %lu\n", r[0].iov_maps, r[1].iov_maps);
    if (r[0].iov_maps + r[1].iov_maps == 0)
        SERR("mt_as_map_iov never mapped anything: the test tested nothing");
    if (sm_pad) {
        mt_flatview *fv = mt_as_flatview(m.as);

        /* The last view has the cache the readers filled: commits handed
         * it on from version to version all along. */
        if (!atomic_load(&fv->tlb))
            SERR("cached: the last view has no lookup cache: the readers "
                 "never used one");
        mt_flatview_unref(fv);
    }
    check_final(&m);
    mt_ctx_free(m.ctx);
    printf("allocator hooks: %lu allocations, %lu of them on reader threads; "
           "%ld blocks left after mt_ctx_free\n", atomic_load(&alloc_total),
           atomic_load(&alloc_by_readers), atomic_load(&alloc_live));
    if (atomic_load(&alloc_live) != 0)
        SERR("%ld blocks allocated through the context's hooks were never "
             "freed", atomic_load(&alloc_live));
    return stress_result(nwriters == 1 ? "stress_map one writer"
                                       : "stress_map two writers");
}
