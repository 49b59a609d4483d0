/* SPDX-License-Identifier: MIT */
/*
 * listener_log.h: a recording listener for the listener tests.
 *
 * Every hook appends one event (kind, listener id, the range it was given,
 * masks, eventfd fields, coalesced address/length) to one global log, so
 * tests can compare the whole sequence delivered to all listeners, in the
 * order it was delivered. Include after mt_testutil.h.
 */
#ifndef LISTENER_LOG_H
#define LISTENER_LOG_H

#include "mt_testutil.h"

enum {
    EV_BEGIN = 1,
    EV_COMMIT,
    EV_ADD,
    EV_DEL,
    EV_NOP,
    EV_LOG_START,
    EV_LOG_STOP,
    EV_LOG_SYNC,
    EV_GSTART,
    EV_GSTOP,
    EV_EFD_ADD,
    EV_EFD_DEL,
    EV_CIO_ADD,
    EV_CIO_DEL,
};

static const char *const ev_names[] = {
    [EV_BEGIN] = "begin",          [EV_COMMIT] = "commit",
    [EV_ADD] = "region_add",       [EV_DEL] = "region_del",
    [EV_NOP] = "region_nop",       [EV_LOG_START] = "log_start",
    [EV_LOG_STOP] = "log_stop",    [EV_LOG_SYNC] = "log_sync",
    [EV_GSTART] = "log_global_start", [EV_GSTOP] = "log_global_stop",
    [EV_EFD_ADD] = "eventfd_add",  [EV_EFD_DEL] = "eventfd_del",
    [EV_CIO_ADD] = "coalesced_io_add", [EV_CIO_DEL] = "coalesced_io_del",
};

/* One delivered (or expected) event. Which fields matter depends on kind
 * (see tev_equal). */
typedef struct tev {
    int kind;
    int id;                 /* listener id (the opaque pointer) */
    uint64_t start, last;   /* the range handed to the hook */
    mt_region *region;
    uint64_t offset;
    unsigned attrs;         /* XF_RO | XF_NV | XF_NOROMD of the range */
    unsigned mask;          /* dirty_log_mask of the range (add/del/nop) */
    unsigned old_mask, new_mask;  /* log_start / log_stop */
    uint64_t addr, len;     /* coalesced_io_* */
    mt_eventfd e;           /* eventfd_* */
} tev;

/* ------------------------------------------------------------------------ */
/* The log                                                                   */
/* ------------------------------------------------------------------------ */

static tev *g_ev;
static size_t g_nev, g_capev;
/* Print region pointers instead of names (regions may be freed). */
static bool g_print_ptrs;

static inline void t_log_clear(void)
{
    g_nev = 0;
}

static inline void t_log_free(void)
{
    free(g_ev);
    g_ev = NULL;
    g_nev = g_capev = 0;
}

static inline void t_log_push(const tev *e)
{
    if (g_nev == g_capev) {
        size_t ncap = g_capev ? 2 * g_capev : 256;
        tev *p = realloc(g_ev, ncap * sizeof(*p));
        assert_non_null(p);
        g_ev = p;
        g_capev = ncap;
    }
    g_ev[g_nev++] = *e;
}

static inline int t_id(void *opaque)
{
    return (int)(intptr_t)opaque;
}

static inline unsigned t_attrs(const mt_flat_range *fr)
{
    return (fr->readonly ? XF_RO : 0u) | (fr->nonvolatile ? XF_NV : 0u) |
           (fr->romd ? 0u : XF_NOROMD);
}

static inline tev t_from_range(int kind, void *opaque,
                               const mt_flat_range *fr)
{
    tev e;
    memset(&e, 0, sizeof(e));
    e.kind = kind;
    e.id = t_id(opaque);
    if (fr) {
        e.start = fr->start;
        e.last = fr->last;
        e.region = fr->region;
        e.offset = fr->offset;
        e.attrs = t_attrs(fr);
        e.mask = fr->dirty_log_mask;
    }
    return e;
}

/* ------------------------------------------------------------------------ */
/* Hooks                                                                     */
/* ------------------------------------------------------------------------ */

/* Log an event of @kind from listener @o on range @fr (NULL: none). */
static inline void t_log_range(int kind, void *o, const mt_flat_range *fr)
{
    tev e = t_from_range(kind, o, fr);
    t_log_push(&e);
}

/* Log log_start / log_stop: the range and its old and new masks. */
static inline void t_log_masks(int kind, void *o, const mt_flat_range *fr,
                               unsigned om, unsigned nm)
{
    tev e = t_from_range(kind, o, fr);
    e.old_mask = om;
    e.new_mask = nm;
    t_log_push(&e);
}

/* Log eventfd_add / eventfd_del: the range and the eventfd. */
static inline void t_log_efd(int kind, void *o, const mt_flat_range *fr,
                             const mt_eventfd *ev)
{
    tev e = t_from_range(kind, o, fr);
    e.e = *ev;
    t_log_push(&e);
}

/* Log coalesced_io_add / del: the range and the coalesced part. */
static inline void t_log_cio(int kind, void *o, const mt_flat_range *fr,
                             uint64_t addr, uint64_t len)
{
    tev e = t_from_range(kind, o, fr);
    e.addr = addr;
    e.len = len;
    t_log_push(&e);
}

static void h_begin(void *o) { t_log_range(EV_BEGIN, o, NULL); }
static void h_commit(void *o) { t_log_range(EV_COMMIT, o, NULL); }
static void h_gstart(void *o) { t_log_range(EV_GSTART, o, NULL); }
static void h_gstop(void *o) { t_log_range(EV_GSTOP, o, NULL); }

/* Define hook @name, which logs @kind with the range it was given. */
#define T_RANGE_HOOK(name, kind)                                             \
    static void name(void *o, const mt_flat_range *fr)                       \
    {                                                                        \
        t_log_range((kind), o, fr);                                          \
    }

T_RANGE_HOOK(h_add, EV_ADD)
T_RANGE_HOOK(h_del, EV_DEL)
T_RANGE_HOOK(h_nop, EV_NOP)
T_RANGE_HOOK(h_log_sync, EV_LOG_SYNC)

static void h_log_start(void *o, const mt_flat_range *fr, unsigned om,
                        unsigned nm)
{
    t_log_masks(EV_LOG_START, o, fr, om, nm);
}

static void h_log_stop(void *o, const mt_flat_range *fr, unsigned om,
                       unsigned nm)
{
    t_log_masks(EV_LOG_STOP, o, fr, om, nm);
}

static void h_efd_add(void *o, const mt_flat_range *fr, const mt_eventfd *ev)
{
    t_log_efd(EV_EFD_ADD, o, fr, ev);
}

static void h_efd_del(void *o, const mt_flat_range *fr, const mt_eventfd *ev)
{
    t_log_efd(EV_EFD_DEL, o, fr, ev);
}

static void h_cio_add(void *o, const mt_flat_range *fr, uint64_t addr,
                      uint64_t len)
{
    t_log_cio(EV_CIO_ADD, o, fr, addr, len);
}

static void h_cio_del(void *o, const mt_flat_range *fr, uint64_t addr,
                      uint64_t len)
{
    t_log_cio(EV_CIO_DEL, o, fr, addr, len);
}

/* Hooks a listener leaves out (t_listen's @omit). */
#define NO_NOP  0x1u  /* region_nop */
#define NO_EFD  0x2u  /* eventfd_add / eventfd_del */
#define NO_SYNC 0x4u  /* log_sync */
#define NO_CIO  0x8u  /* coalesced_io_* */

static inline mt_listener_ops t_ops(int prio, unsigned omit)
{
    mt_listener_ops ops;
    memset(&ops, 0, sizeof(ops));
    ops.priority = prio;
    ops.begin = h_begin;
    ops.commit = h_commit;
    ops.region_add = h_add;
    ops.region_del = h_del;
    ops.region_nop = (omit & NO_NOP) ? NULL : h_nop;
    ops.log_start = h_log_start;
    ops.log_stop = h_log_stop;
    ops.log_sync = (omit & NO_SYNC) ? NULL : h_log_sync;
    ops.log_global_start = h_gstart;
    ops.log_global_stop = h_gstop;
    ops.eventfd_add = (omit & NO_EFD) ? NULL : h_efd_add;
    ops.eventfd_del = (omit & NO_EFD) ? NULL : h_efd_del;
    ops.coalesced_io_add = (omit & NO_CIO) ? NULL : h_cio_add;
    ops.coalesced_io_del = (omit & NO_CIO) ? NULL : h_cio_del;
    return ops;
}

/* Register a recording listener with id @id (its opaque) on @as. */
static inline mt_listener *t_listen(mt_as *as, int id, int prio,
                                    unsigned omit)
{
    mt_listener_ops ops = t_ops(prio, omit);
    mt_listener *l = NULL;
    MT_OK(mt_listener_register(as, &ops, (void *)(intptr_t)id, &l));
    assert_non_null(l);
    return l;
}

/* ------------------------------------------------------------------------ */
/* Expected events                                                           */
/* ------------------------------------------------------------------------ */

static inline tev ev_plain(int kind, int id)
{
    tev e;
    memset(&e, 0, sizeof(e));
    e.kind = kind;
    e.id = id;
    return e;
}

static inline tev ev_b(int id) { return ev_plain(EV_BEGIN, id); }
static inline tev ev_c(int id) { return ev_plain(EV_COMMIT, id); }
static inline tev ev_gstart(int id) { return ev_plain(EV_GSTART, id); }
static inline tev ev_gstop(int id) { return ev_plain(EV_GSTOP, id); }

/* An event on the flat range [s, l] of @r at offset @off. */
static inline tev ev_range(int kind, int id, uint64_t s, uint64_t l,
                           mt_region *r, uint64_t off)
{
    tev e = ev_plain(kind, id);
    e.start = s;
    e.last = l;
    e.region = r;
    e.offset = off;
    return e;
}

/* region_add/del/nop with everything the range carries. */
static inline tev ev_rx(int kind, int id, uint64_t s, uint64_t l,
                        mt_region *r, uint64_t off, unsigned attrs,
                        unsigned mask)
{
    tev e = ev_range(kind, id, s, l, r, off);
    e.attrs = attrs;
    e.mask = mask;
    return e;
}

/* The same for a plain range: writable, volatile, ROMD, not logged. */
static inline tev ev_add(int id, uint64_t s, uint64_t l, mt_region *r,
                         uint64_t off)
{
    return ev_rx(EV_ADD, id, s, l, r, off, 0, 0);
}

static inline tev ev_del(int id, uint64_t s, uint64_t l, mt_region *r,
                         uint64_t off)
{
    return ev_rx(EV_DEL, id, s, l, r, off, 0, 0);
}

static inline tev ev_nop(int id, uint64_t s, uint64_t l, mt_region *r,
                         uint64_t off)
{
    return ev_rx(EV_NOP, id, s, l, r, off, 0, 0);
}

/* log_start / log_stop on a range, from @om to @nm. */
static inline tev ev_log(int kind, int id, uint64_t s, uint64_t l,
                         mt_region *r, uint64_t off, unsigned om,
                         unsigned nm)
{
    tev e = ev_range(kind, id, s, l, r, off);
    e.old_mask = om;
    e.new_mask = nm;
    return e;
}

static inline tev ev_sync(int id, uint64_t s, uint64_t l, mt_region *r,
                          uint64_t off)
{
    return ev_range(EV_LOG_SYNC, id, s, l, r, off);
}

/* eventfd_add / eventfd_del: the eventfd as placed in the address space. */
static inline tev ev_efd(int kind, int id, uint64_t addr, unsigned size,
                         bool match, uint64_t data, int fd)
{
    tev e = ev_plain(kind, id);
    e.e.addr = addr;
    e.e.size = size;
    e.e.match_data = match;
    e.e.data = data;
    e.e.fd = fd;
    e.start = addr;
    return e;
}

/* coalesced_io_add / del: flat range [s, l] and the part addr/len. */
static inline tev ev_cio(int kind, int id, uint64_t s, uint64_t l,
                         uint64_t addr, uint64_t len)
{
    tev e = ev_plain(kind, id);
    e.start = s;
    e.last = l;
    e.addr = addr;
    e.len = len;
    return e;
}

/* Both events name the same flat range (bounds, region, offset). */
static inline bool tev_same_range(const tev *a, const tev *b)
{
    return a->start == b->start && a->last == b->last &&
           a->region == b->region && a->offset == b->offset;
}

static inline bool tev_equal(const tev *a, const tev *b)
{
    if (a->kind != b->kind || a->id != b->id)
        return false;
    switch (a->kind) {
    case EV_ADD:
    case EV_DEL:
    case EV_NOP:
        return tev_same_range(a, b) && a->attrs == b->attrs &&
               a->mask == b->mask;
    case EV_LOG_START:
    case EV_LOG_STOP:
        return tev_same_range(a, b) && a->old_mask == b->old_mask &&
               a->new_mask == b->new_mask;
    case EV_LOG_SYNC:
        return tev_same_range(a, b);
    case EV_EFD_ADD:
    case EV_EFD_DEL:
        return a->start == b->start && a->e.addr == b->e.addr &&
               a->e.size == b->e.size && a->e.match_data == b->e.match_data &&
               a->e.data == b->e.data && a->e.fd == b->e.fd;
    case EV_CIO_ADD:
    case EV_CIO_DEL:
        return a->start == b->start && a->last == b->last &&
               a->addr == b->addr && a->len == b->len;
    default:
        return true;
    }
}

static inline const char *tev_rname(const tev *e, char *buf, size_t n)
{
    if (!g_print_ptrs)
        return t_rname(e->region);
    snprintf(buf, n, "%p", (void *)e->region);
    return buf;
}

static inline void tev_print(const char *pfx, size_t i, const tev *e)
{
    char nb[32];
    const char *k = (e->kind > 0 && e->kind <= EV_CIO_DEL)
                        ? ev_names[e->kind] : "?";
    switch (e->kind) {
    case EV_ADD:
    case EV_DEL:
    case EV_NOP:
        print_message("%s%3zu L%d %s %llx-%llx %s @%llx attrs %x mask %x\n",
                      pfx, i, e->id, k, (unsigned long long)e->start,
                      (unsigned long long)e->last, tev_rname(e, nb, sizeof(nb)),
                      (unsigned long long)e->offset, e->attrs, e->mask);
        break;
    case EV_LOG_START:
    case EV_LOG_STOP:
        print_message("%s%3zu L%d %s %llx-%llx %s @%llx %x -> %x\n", pfx, i,
                      e->id, k, (unsigned long long)e->start,
                      (unsigned long long)e->last, tev_rname(e, nb, sizeof(nb)),
                      (unsigned long long)e->offset, e->old_mask,
                      e->new_mask);
        break;
    case EV_LOG_SYNC:
        print_message("%s%3zu L%d %s %llx-%llx %s @%llx\n", pfx, i, e->id, k,
                      (unsigned long long)e->start,
                      (unsigned long long)e->last, tev_rname(e, nb, sizeof(nb)),
                      (unsigned long long)e->offset);
        break;
    case EV_EFD_ADD:
    case EV_EFD_DEL:
        print_message("%s%3zu L%d %s at %llx: addr %llx size %u match %d "
                      "data %llx fd %d\n",
                      pfx, i, e->id, k, (unsigned long long)e->start,
                      (unsigned long long)e->e.addr, e->e.size,
                      (int)e->e.match_data, (unsigned long long)e->e.data,
                      e->e.fd);
        break;
    case EV_CIO_ADD:
    case EV_CIO_DEL:
        print_message("%s%3zu L%d %s range %llx-%llx part %llx+%llx\n", pfx,
                      i, e->id, k, (unsigned long long)e->start,
                      (unsigned long long)e->last,
                      (unsigned long long)e->addr,
                      (unsigned long long)e->len);
        break;
    default:
        print_message("%s%3zu L%d %s\n", pfx, i, e->id, k);
        break;
    }
}

/*
 * Compare the log (only the events of listener @id when @id >= 0) with
 * @exp[0..n). With @clear, empty the log afterwards.
 */
static inline void t_check_events_(const tev *exp, size_t n, int id,
                                   bool clear, const char *file, int line)
{
    size_t got = 0;
    bool bad = false;
    for (size_t i = 0; i < g_nev; i++) {
        if (id >= 0 && g_ev[i].id != id)
            continue;
        if (got >= n || !tev_equal(&g_ev[i], &exp[got]))
            bad = true;
        got++;
    }
    if (got != n)
        bad = true;
    if (bad) {
        print_message("%s:%d: event sequence mismatch%s\n", file, line,
                      id >= 0 ? " (one listener)" : "");
        print_message("expected %zu event(s):\n", n);
        for (size_t i = 0; i < n; i++)
            tev_print("  ", i, &exp[i]);
        print_message("got %zu event(s):\n", got);
        for (size_t i = 0, k = 0; i < g_nev; i++) {
            if (id >= 0 && g_ev[i].id != id)
                continue;
            tev_print("  ", k++, &g_ev[i]);
        }
        _fail(file, line);
    }
    if (clear)
        t_log_clear();
}

/* The whole log is exactly these events (then it is cleared). */
#define CHECK_EVENTS(...)                                                    \
    do {                                                                     \
        const tev e_[] = { __VA_ARGS__ };                                    \
        t_check_events_(e_, sizeof(e_) / sizeof(e_[0]), -1, true, __FILE__,  \
                        __LINE__);                                           \
    } while (0)

/* The events of listener @id are exactly these (log kept). */
#define CHECK_EVENTS_OF(id, ...)                                             \
    do {                                                                     \
        const tev e_[] = { __VA_ARGS__ };                                    \
        t_check_events_(e_, sizeof(e_) / sizeof(e_[0]), (id), false,         \
                        __FILE__, __LINE__);                                 \
    } while (0)

/* Nothing was delivered (to anyone). */
#define CHECK_NO_EVENTS()                                                    \
    t_check_events_(NULL, 0, -1, true, __FILE__, __LINE__)

/* ------------------------------------------------------------------------ */
/* Building long expected sequences                                          */
/* ------------------------------------------------------------------------ */

typedef struct evbuf {
    tev v[512];
    size_t n;
} evbuf;

static inline void eb_push(evbuf *b, tev e)
{
    assert_true(b->n < sizeof(b->v) / sizeof(b->v[0]));
    b->v[b->n++] = e;
}

/* Push @e once per listener of @ids, in that order. */
static inline void eb_each(evbuf *b, const int *ids, size_t nids, tev e)
{
    for (size_t i = 0; i < nids; i++) {
        e.id = ids[i];
        eb_push(b, e);
    }
}

#define EB_EACH(b, ids, e)                                                   \
    eb_each((b), (ids), sizeof(ids) / sizeof((ids)[0]), (e))

/* An empty expected sequence, on the heap (too big for a test's stack). */
static inline evbuf *t_evbuf(void)
{
    evbuf *b = calloc(1, sizeof(*b));
    assert_non_null(b);
    return b;
}

/* The whole log is exactly @b; then both are emptied for the next step. */
#define CHECK_EB(b)                                                          \
    do {                                                                     \
        t_check_events_((b)->v, (b)->n, -1, true, __FILE__, __LINE__);       \
        (b)->n = 0;                                                          \
    } while (0)

/* Per-test setup: start with an empty log. */
static int t_log_setup(void **state)
{
    (void)state;
    t_log_clear();
    g_print_ptrs = false;
    return 0;
}

static int t_log_teardown(void **state)
{
    (void)state;
    t_log_free();
    return 0;
}

#endif /* LISTENER_LOG_H */
