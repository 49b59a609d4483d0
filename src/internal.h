/* SPDX-License-Identifier: MIT */
/*
 * internal.h: data structures shared by the core's files (never installed).
 *
 * Object graph: an mt_ctx owns every mt_region (in ctx->regions), every
 * mt_as (in ctx->as, creation order) and the flat views currently
 * published. Edges that hold references: container -> subregion, alias ->
 * target, address space -> root, flat view -> every region it shows.
 */
#ifndef MT_INTERNAL_H
#define MT_INTERNAL_H

/* ThreadSanitizer builds: readers publish their exits (rcu.c). */
#if defined(__SANITIZE_THREAD__)
#define MT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MT_TSAN 1
#endif
#endif

#include <pthread.h>
#include <stdatomic.h>
/* The inline read-side primitives (a few lines each, as LGPL 2.1 section 5
 * allows): the library calls cost ~13 ns a pair here, the inline ones ~2.
 * Sanitizer builds call the library instead (MT_RCU_CALLS): UBSan flags an
 * alignment liburcu does not keep in its reader records, and TSan cannot
 * see inside them anyway. */
#ifndef MT_RCU_CALLS
#define _LGPL_SOURCE
#endif
#include <urcu-bp.h>

#include "memtree.h"
#include "fvtree.h"

/* 128-bit arithmetic for sizes (a region may be 2^64 bytes) and for the
 * intermediate, possibly negative, bases of alias rendering. */
typedef unsigned __int128 mt_u128;
typedef __int128 mt_i128;

#define MT_2_64 ((mt_u128)1 << 64)

/* Size as stored: MT_SIZE_FULL in the API means 2^64. */
static inline mt_u128 mt__size_from_api(uint64_t size)
{
    return size == MT_SIZE_FULL ? MT_2_64 : (mt_u128)size;
}

static inline uint64_t mt__size_to_api(mt_u128 size)
{
    return size >= MT_2_64 ? MT_SIZE_FULL : (uint64_t)size;
}

/* Would an alias window of @size bytes at @offset reach past 2^64? */
static inline bool mt__alias_window_overflows(uint64_t offset, mt_u128 size)
{
    return (mt_u128)offset + size > MT_2_64;
}

/* An ioeventfd of a region, in region offsets; data in the region's order. */
typedef struct mt_region_eventfd {
    uint64_t offset;
    unsigned size;
    bool match_data;
    uint64_t data;
    int fd;
} mt_region_eventfd;

/* A part [offset, offset + size) of a region. */
typedef struct mt_span {
    uint64_t offset;
    uint64_t size;
} mt_span;

/* An ioeventfd as placed in an address space, with the region it is on. */
typedef struct mt_as_eventfd {
    mt_eventfd e;
    mt_region *region;
    uint64_t offset;            /* in the region */
} mt_as_eventfd;

struct mt_listener {
    mt_ctx *ctx;
    mt_as *as;
    mt_listener_ops ops;
    void *opaque;
};

/* A window [lo, hi) of addresses; hi may be 2^64. */
typedef struct mt_window {
    mt_u128 lo, hi;
} mt_window;

/* A change recorded during a transaction, in the coordinates of @r
 * (update.c). @outer: propagate even if @r itself is now disabled. */
typedef struct mt_dirty_rec {
    mt_region *r;               /* referenced until the commit */
    mt_u128 lo, hi;
    bool outer;
} mt_dirty_rec;

/* A subregion slot: the region (NULL once removed) and its sort key. */
typedef struct mt_sub_slot {
    mt_region *r;
    int prio;
    uint64_t seq;
} mt_sub_slot;

/* The host memory of a memory-backed region (ramblock.c, dirty.c). */
typedef struct mt_ramblock {
    mt_ram_backend backend;
    void *host;
    uint64_t used;              /* bytes in use, page aligned */
    uint64_t max;               /* bytes reserved, page aligned */
    uint64_t page_size;         /* of the backing memory */
    uint64_t offset;            /* in the block offset space */
    int fd;                     /* -1 if none */
    bool fd_owned;
    uint64_t fd_offset;
    bool host_indexed;          /* in ctx->ram_hosts (caller memory may overlap) */
    void *map_base;             /* what memtree unmaps (block + guard page) */
    size_t map_len;
    bool resizeable;
    void (*resized)(void *opaque, mt_region *r, uint64_t new_size);
    void *resized_opaque;
    uint64_t nr_pages;          /* max / MT_DIRTY_PAGE_SIZE */
    uint64_t words;             /* 64-bit words per client bitmap */
    uint64_t *dirty;            /* MT_DIRTY_NR_CLIENTS bitmaps, one after another */
} mt_ramblock;

struct mt_region {
    mt_ctx *ctx;
    char *name;                 /* owned copy, may be NULL */
    mt_region_kind kind;
    atomic_uint refcount;       /* caller refs + container + aliases + views + AS roots */
    mt_u128 size;               /* 0 .. 2^64 */
    uint64_t addr;              /* within the container */
    int priority;
    uint64_t seq;               /* insertion stamp: orders equal priorities */
    mt_region *container;

    /*
     * Subregions (subs.c): slots in *losing* order, ascending (priority,
     * seq); the winning order is the array read backwards. Removed entries
     * leave tombstones (r NULL). Invariant: slot keys strictly increasing.
     */
    mt_sub_slot *subs;
    size_t nr_slots;            /* slots, tombstones included */
    size_t nr_subs;             /* live subregions */
    size_t cap_subs;
    size_t nr_enabled_subs;
    struct mt_itree *index;     /* address index of many children, or NULL */
    uint32_t index_node;        /* this region's node in its container's index */

    mt_region *alias;           /* target, for MT_REGION_ALIAS */
    uint64_t alias_offset;

    bool enabled;
    bool readonly;
    bool nonvolatile;
    bool romd_mode;             /* ROM devices; true for other kinds */
    bool terminates;            /* leaf kinds: fills gaps between children */
    unsigned dirty_log_count;   /* VGA logging users */

    mt_ops ops;                 /* I/O and ROM device callbacks */
    bool has_ops;
    void *opaque;

    bool guard_off;             /* re-entrancy guard disabled */
    mt_guard *guard;            /* shared device guard, or NULL: the region itself */

    mt_region_eventfd *eventfds; /* sorted (eventfd.c) */
    size_t nr_eventfds;
    size_t cap_eventfds;
    mt_span *coalesced;         /* coalesced parts, in region offsets */
    size_t nr_coalesced;
    size_t cap_coalesced;

    mt_region **aliased_by;     /* aliases whose target this is */
    size_t nr_aliased_by;
    size_t cap_aliased_by;
    size_t alias_slot;          /* this alias's index in its target's aliased_by */
    mt_flatview *phys_view;     /* published view rendered from this region (weak) */

    struct mt_ramblock *block;  /* memory-backed kinds (ramblock.c) */
    void *host;                 /* == block->host: the hot path reads it here */

    unsigned visit;             /* scratch mark for graph walks (ctx->visit_epoch) */
    unsigned render_nesting;    /* times on the current render path */
    mt_region *all_prev, *all_next; /* ctx->regions list */
};

/*
 * One entry of a lookup cache (a software TLB of 4 KiB pages, see
 * mt__lookup). @key names the page and says what @data is: the host
 * address of the whole page (a page of direct memory), or a range record
 * of the view (checked against the address before use). Readers fill
 * entries concurrently: a filler sets MT__TLB_BUSY, writes @data, then
 * publishes the new key with its version bumped; a reader accepts @data
 * only if the key it read before @data is unchanged after it (a seqlock),
 * so it never pairs one page's key with another page's data.
 */
typedef struct mt_tlb_entry {
    _Atomic uint64_t key;
    _Atomic uintptr_t data;
} mt_tlb_entry;
#define MT_TLB_BITS 12          /* 4096 entries (64 KiB) */
#define MT_TLB_MIN_RANGES 64    /* smaller views: the tree is one leaf */
/* Tree lookups a view serves before it gets its cache: a view replaced
 * microseconds later (commits back to back) never pays 64 KiB for it. */
#define MT_TLB_MIN_MISSES 64

/*
 * A lookup cache, shared by the successive versions of a view (flatview.c,
 * mt__fv_tlb_share): a commit that patches a view hands its cache to the
 * new version after dropping the entries the commit made untrue, so
 * readers stay warm across commits and the committing thread writes only
 * the entries it drops. Only the readers of the view whose generation is
 * @gen may use or fill it: readers of an older version go to their tree.
 */
typedef struct mt_tlb {
    /* The version it serves (mt_flatview.gen), with MT__TLB_SEALED while
     * a commit hands it to the next one: still read, no longer filled. */
    _Atomic uint64_t gen;
    atomic_uint refs;           /* views pointing at it (writer side) */
    /* Slots that ever held a range entry (set by fillers): a commit checks
     * these, whose records may belong to the old version only. */
    _Atomic uint64_t range_slots[((size_t)1 << MT_TLB_BITS) / 64];
    mt_tlb_entry e[];
} mt_tlb;
#define MT__TLB_SEALED (UINT64_C(1) << 63)

struct mt_flatview {
    mt_ctx *ctx;
    atomic_uint refcount;
    mt_region *root;            /* physical root, NULL for the empty view */
    struct mt_fvtree *tree;     /* the ranges: sorted, disjoint, merged (fvtree.h) */
    /* Last range hit: a hint, any record of this view is a safe value. */
    _Atomic(const mt_flat_range *) mru;
    /* Lookup cache, allocated on first use by views of many ranges or
     * handed over by the version this one was patched from (mt_tlb): one
     * entry per hashed 4 KiB page: the host address of a page of direct
     * memory, or a range record checked against the address. Filled by
     * readers while @gen is the cache's generation. */
    _Atomic(mt_tlb *) tlb;
    uint64_t gen;               /* this version's number (ctx->view_gen) */
    atomic_uint misses;         /* tree lookups so far, up to the cache */

    /* Writer-side bookkeeping, never read by accessors (update.c). */
    unsigned nr_as_users;       /* address spaces publishing this view */
    mt_window *pend;            /* dirty windows recorded since published */
    size_t nr_pend;
    size_t cap_pend;
    bool pend_full;             /* too many: render the root whole */
    mt_flatview *derived_from;  /* during a commit: the version patched */
    mt_window *spans;           /* during a commit: where it differs from it */
    size_t nr_spans;
    mt_flatview *all_prev, *all_next; /* ctx->views list */

    /* Reclamation (rcu.c): a view whose count fell to zero waits on
     * ctx->retired, then in a batch, for a grace period. */
    mt_flatview *retired_next;
};

/* An open mt_as_map() mapping. */
typedef struct mt_mapping {
    void *buf;
    uint64_t len;
    uint64_t addr;              /* guest address (bounce buffers) */
    mt_region *region;          /* referenced while mapped */
    bool bounce;
    mt_attrs attrs;             /* of the map, for the write-back */
} mt_mapping;

struct mt_as {
    mt_ctx *ctx;
    char *name;
    mt_region *root;
    /* Current view (holds a reference). Published with a release store;
     * accessors load it inside an RCU read-side section (rcu.c). */
    _Atomic(mt_flatview *) view;
    pthread_mutex_t map_lock;   /* leaf lock of the mapping table below */

    mt_mapping *maps;           /* open mappings */
    size_t nr_maps;
    size_t cap_maps;
    uint64_t bounce_budget;     /* bytes of bounce buffers allowed at once */
    uint64_t bounce_used;

    mt_as_eventfd *ioeventfds;  /* placed in the current view */
    size_t nr_ioeventfds;
};

/*
 * The outermost level of the writer lock (wlock.c): threads get it in the
 * order they asked for it (tickets), so none waits for ever behind one
 * that takes it back to back.
 */
typedef struct mt_wlock {
    pthread_mutex_t m;          /* guards the counters, briefly */
    pthread_cond_t cv;
    uint64_t next, serving;     /* tickets handed out, ticket served */
    unsigned sleepers;          /* threads waiting on @cv */
    _Atomic(const void *) owner; /* the holder's thread tag, or NULL */
} mt_wlock;
int mt__wlock_init(mt_wlock *l);
void mt__wlock_destroy(mt_wlock *l);
/* Does the calling thread hold @l? */
bool mt__wlock_mine(mt_wlock *l);
void mt__wlock_acquire(mt_wlock *l);
void mt__wlock_release(mt_wlock *l);

struct mt_ctx {
    mt_allocator alloc;
    /* Writer lock (rcu.c): recursive, held by every topology change and
     * for the whole of a transaction (mt_begin .. mt_commit); its
     * outermost level is a fair lock (wlock.c). */
    mt_wlock lock;
    unsigned lock_depth;        /* levels held by the owner */
    mt_flatview *retired;       /* dropped views, not yet in a batch */
    struct mt_rcu_batch *batches, *batches_tail; /* oldest first (rcu.c) */
    uint64_t batch_seq;         /* stamp of the last batch queued */
#ifdef MT_TSAN
    atomic_uint tsan_epoch;     /* reader exits, to show TSan the grace period */
#endif
    unsigned depth;             /* open transactions */
    bool update_pending;        /* topology may have changed since last render */
    bool full_update;           /* render every view whole at the next commit */
    mt_dirty_rec *recs;         /* changes recorded in this transaction */
    size_t nr_recs;
    size_t cap_recs;
    bool global_dirty_log;      /* migration dirty logging on */
    bool code_tracking;         /* CODE dirty client on for RAM */
    bool dying;                 /* in mt_ctx_free: skip index upkeep */
    struct mt_fvtree *ram_offsets; /* blocks by offset-space address */
    struct mt_fvtree *ram_hosts;   /* blocks by host address */
    bool ram_index_stale;       /* indexes dropped; rebuild before use */
    size_t nr_unindexed;        /* blocks of caller memory overlapping another */
    uint64_t next_seq;
    unsigned visit_epoch;

    mt_region *regions;         /* every live region */
    size_t nr_regions;
    mt_flatview *views;         /* every live flat view */
    uint64_t view_gen;          /* number of the last view made */

    mt_as **as;                 /* creation order */
    size_t nr_as;
    size_t cap_as;

    mt_flatview *empty_view;    /* the shared view of roots that show nothing */

    mt_listener **listeners;    /* ascending priority, FIFO among equals */
    size_t nr_listeners;
    size_t cap_listeners;
    bool ioeventfd_pending;     /* eventfds changed; no re-render needed */
    size_t nr_eventfds;         /* ioeventfds of all regions */
    unsigned dirty_log_users;   /* mt_ctx_dirty_log_start count */
};

/* Locking and RCU (rcu.c). */
void mt__lock(mt_ctx *ctx);
void mt__unlock(mt_ctx *ctx);
mt_ctx *mt__lock_get(mt_ctx *ctx);      /* mt__lock, returning @ctx */
static inline void mt__guard_release(mt_ctx **ctx)
{
    if (*ctx)
        mt__unlock(*ctx);
}
/* Hold @ctx's writer lock until the end of the enclosing block. */
#define MT_LOCKED(ctx)                                                    \
    mt_ctx *mt__guard_                                                    \
        __attribute__((cleanup(mt__guard_release), unused)) =             \
        mt__lock_get(ctx)

#ifdef _LGPL_SOURCE
/*
 * liburcu's inline read-side primitives read this thread-local variable.
 * Code built for a shared library would reach it through the general
 * dynamic model, a __tls_get_addr call per use (several per access);
 * liburcu-bp is a load-time dependency of memtree, so the initial-exec
 * model (one %fs-relative load) is valid, as for mmio.c's own guard list.
 */
extern DECLARE_URCU_TLS(struct urcu_bp_reader *, urcu_bp_reader)
    __attribute__((tls_model("initial-exec")));

/*
 * A thread's first read-side section registers it with liburcu, a call
 * inside the inline lock. The entry points test for it first and take an
 * out-of-line copy of themselves that one time: the compiler then drops
 * the call from the inline lock of the common path.
 */
#define MT__RCU_REGISTERED() (URCU_TLS(urcu_bp_reader) != NULL)
#else
#define MT__RCU_REGISTERED() true
#endif

static inline void mt__read_lock(mt_ctx *ctx)
{
    (void)ctx;
    urcu_bp_read_lock();
}

static inline void mt__read_unlock(mt_ctx *ctx)
{
#ifdef MT_TSAN
    atomic_fetch_add_explicit(&ctx->tsan_epoch, 1, memory_order_release);
#else
    (void)ctx;
#endif
    urcu_bp_read_unlock();
}

/* The view @as publishes, for a reader inside mt__read_lock. */
static inline mt_flatview *mt__as_view(mt_as *as)
{
    return atomic_load_explicit(&as->view, memory_order_acquire);
}

/* @fv's count fell to zero: free it after a grace period. */
void mt__view_retire(mt_flatview *fv);
/* Wait for a grace period and free every view retired before it (no
 * read-side section open on this thread; the lock not held). */
void mt__reclaim_all(mt_ctx *ctx);
/* Free @fv now (rcu.c calls it once readers are gone). */
void mt__view_destroy(mt_flatview *fv);

/* Allocation through the context's hooks (ctx.c). */
void *mt__alloc(mt_ctx *ctx, size_t size);
void *mt__zalloc(mt_ctx *ctx, size_t size);
void *mt__realloc(mt_ctx *ctx, void *ptr, size_t size);
void mt__free(mt_ctx *ctx, void *ptr);
char *mt__strdup(mt_ctx *ctx, const char *s);
/* Grow *arr (element size @elem) to hold at least @need elements. */
int mt__grow(mt_ctx *ctx, void **arr, size_t *cap, size_t need, size_t elem);

/* Transactions (ctx.c) and change records (update.c). */
void mt__mark_pending(mt_ctx *ctx);
/* @r's rendering may have changed in [lo, hi) of its own coordinates. */
void mt__dirty(mt_region *r, mt_u128 lo, mt_u128 hi, bool outer);
/* Everything may have changed: render every view whole. */
void mt__dirty_all(mt_ctx *ctx);

/* Regions (region.c). */
void mt__region_destroy(mt_region *r);   /* unconditional, used by mt_ctx_free */

/* Subregions (subs.c). */
int mt__subs_reserve(mt_region *c);      /* room for one more; MT_ENOMEM */
void mt__subs_link(mt_region *c, mt_region *sub);
void mt__subs_unlink(mt_region *c, mt_region *sub);
void mt__subs_moved(mt_region *sub);     /* address or size changed */
void mt__subs_free(mt_region *c);
/* i-th live subregion in winning order (may compact: not during a walk). */
mt_region *mt__sub_at(const mt_region *r, size_t i);

/* Dirty-logging clients active for ranges of @mr (QEMU's
 * memory_region_get_dirty_log_mask). */
static inline uint8_t mt__dirty_mask(const mt_region *mr)
{
    /* Relaxed loads: DMA unmaps read these without the writer lock. */
    uint8_t mask = __atomic_load_n(&mr->dirty_log_count, __ATOMIC_RELAXED)
                       ? MT_DIRTY_VGA : 0;

    if (mr->block &&
        __atomic_load_n(&mr->ctx->global_dirty_log, __ATOMIC_RELAXED))
        mask |= MT_DIRTY_MIGRATION;
    if (mr->block &&
        __atomic_load_n(&mr->ctx->code_tracking, __ATOMIC_RELAXED))
        mask |= MT_DIRTY_CODE;
    return mask;
}

/* RAM blocks (ramblock.c) and dirty bitmaps (dirty.c). */
int mt__region_new_backed(mt_ctx *ctx, const char *name, uint64_t size,
                          mt_region_kind kind, const mt_ram_opts *o,
                          mt_region **out);
int mt__ram_block_new(mt_region *r, uint64_t size, const mt_ram_opts *o);
void mt__ram_block_free(mt_region *r);
/* Set / clear the bits of the clients in @mask over a byte span. */
void mt__dirty_mark(mt_region *r, uint64_t off, uint64_t len, unsigned mask);
void mt__dirty_clear(mt_region *r, uint64_t off, uint64_t len);
/* Set @r's size without the checks of mt_region_set_size (RAM resize). */
int mt__region_set_size(mt_region *r, uint64_t size);

/* Flat views (flatview.c, render.c). */
mt_region *mt__physical_root(mt_region *root);
/* Render @root over addresses [lo, hi) into a new array of merged ranges. */
int mt__render_ranges(mt_ctx *ctx, mt_region *root, mt_u128 lo, mt_u128 hi,
                      mt_flat_range **out, size_t *n);
/* New view: @fv with ranges [i, j) replaced by @r[0..k). */
int mt__fv_replace(mt_ctx *ctx, mt_flatview *fv, size_t i, size_t j,
                   const mt_flat_range *r, size_t k, mt_flatview **out);
/* @fv becomes / stops being published by one more address space. */
void mt__flatview_use(mt_flatview *fv, bool use);
void mt__flatview_set_root_link(mt_region *root, mt_flatview *fv);
int mt__flatview_render(mt_ctx *ctx, mt_region *phys_root, mt_flatview **out);
void mt__flatview_ref(mt_flatview *fv);
bool mt__flatview_tryref(mt_flatview *fv);
int mt__flatview_new_empty(mt_ctx *ctx, mt_flatview **out);

/* Can @b follow @a as one range? Same region at contiguous offsets with
 * equal flags (QEMU's flatview_simplify). */
static inline bool mt__can_merge(const mt_flat_range *a,
                                 const mt_flat_range *b)
{
    return a->last + 1 == b->start && a->region == b->region &&
           a->offset + (a->last - a->start) + 1 == b->offset &&
           a->readonly == b->readonly && a->nonvolatile == b->nonvolatile &&
           a->romd == b->romd && a->dirty_log_mask == b->dirty_log_mask;
}

/* Storage of a view's ranges: every file goes through these. */
static inline size_t mt__fv_count(const mt_flatview *fv)
{
    return mt__fvt_count(fv->tree);
}

/* Range @i (O(log n)); valid while the view lives. */
static inline const mt_flat_range *mt__fv_at(const mt_flatview *fv, size_t i)
{
    return mt__fvt_at(fv->tree, i);
}

/* Index of the first range whose last address is >= @addr (count if none). */
static inline size_t mt__fv_lower(const mt_flatview *fv, uint64_t addr)
{
    return mt__fvt_lower(fv->tree, addr);
}

/* The few helpers of the access fast paths: inlined even where the
 * compiler would rather share one copy. */
#define MT_HOT_INLINE static inline __attribute__((always_inline))

/* Drop a view's reference on @tlb (NULL: nothing). */
void mt__tlb_unref(mt_ctx *ctx, mt_tlb *tlb);
/* Allocate @fv's lookup cache (flatview.c); NULL if that failed. */
mt_tlb *mt__fv_tlb_alloc(mt_flatview *fv);
/* Writer, before publishing @nv (patched from @old where nv->spans say):
 * hand @old's cache to @nv, minus the entries that are not true of both
 * (flatview.c). True if it did: then call mt__fv_tlb_unseal() right after
 * publishing @nv. */
bool mt__fv_tlb_share(mt_flatview *nv, mt_flatview *old);
/* Writer, once @nv is published: its readers may use and fill the cache
 * mt__fv_tlb_share() handed it, and those of the old version no longer. */
void mt__fv_tlb_unseal(mt_flatview *nv);

/*
 * Cache keys. A page number p (52 bits) is hashed by a bijection, h = p *
 * MUL mod 2^52 (MUL odd: 2^52 over the golden ratio); the top MT_TLB_BITS
 * bits of h pick the slot and the rest, the tag, go in the top bits of the
 * key: slot and tag together name exactly one page. Below the tag: what
 * @data is, the access bits of a page entry, a version bumped at every fill
 * (so that a reader sees any fill that overlapped its reads), and BUSY.
 */
#define MT__TLB_MUL   UINT64_C(0x9E3779B97F4A7)
#define MT__TLB_HBITS 52
#define MT__TLB_SHIFT (64 - (MT__TLB_HBITS - MT_TLB_BITS))  /* of the tag */
#define MT__TLB_TAG   (~UINT64_C(0) << MT__TLB_SHIFT)
#define MT__TLB_PAGE  (UINT64_C(1) << 23) /* data: host address of the page */
#define MT__TLB_RANGE (UINT64_C(1) << 22) /* data: a range record */
/* Page entries: the range's MT__ACCESS_READ, _WRITE and _RAM bits, here. */
#define MT__TLB_ACCESS_SHIFT 19
#define MT__TLB_VER   UINT64_C(0x7fffe)   /* bits 18..1 */
#define MT__TLB_BUSY  UINT64_C(1)
_Static_assert(MT__TLB_SHIFT >= 24, "the tag must leave bits 23..0 free");

/* mt_flat_range.mt__access bits: computed at render time from the region,
 * so the access path needs no load of the region itself. */
#define MT__ACCESS_READ  0x1u  /* reads copy from @host */
#define MT__ACCESS_WRITE 0x2u  /* writes copy to @host */
#define MT__ACCESS_RAM   0x4u  /* RAM or RAM device: attrs.memory may reach it */
/* An access of 1 << n bytes (n = 0..3) whose offset is aligned to its size
 * is one plain call of the callbacks (mmio.c, mt__io_simple_sizes). */
#define MT__ACCESS_IO1   0x8u
#define MT__ACCESS_GUARD 0x80u /* I/O region: the re-entrancy guard applies */

MT_HOT_INLINE uint64_t mt__tlb_hash(uint64_t addr)
{
    return ((addr >> 12) * MT__TLB_MUL) &
           ((UINT64_C(1) << MT__TLB_HBITS) - 1);
}

MT_HOT_INLINE mt_tlb_entry *mt__tlb_entry(mt_tlb *tlb, uint64_t h)
{
    return &tlb->e[h >> (MT__TLB_HBITS - MT_TLB_BITS)];
}

/*
 * The data of @tlb's entry @e if its key, masked with @mask, is @want (BUSY
 * must be in @mask and clear in @want) and @tlb serves generation @gen;
 * else 0. The key is read again after the data: a fill in between changes
 * it (BUSY, or a new version). The generation is read last: data filled
 * by the readers of a newer version (after the commit that handed the
 * cache over) makes it differ, so a reader of an old version never takes
 * an entry of the new one. While a commit hands it over (SEALED), what it
 * holds is true of both versions and nobody fills it.
 */
MT_HOT_INLINE uintptr_t mt__tlb_read(mt_tlb *tlb, mt_tlb_entry *e,
                                     uint64_t mask, uint64_t want,
                                     uint64_t gen)
{
    uint64_t k = atomic_load_explicit(&e->key, memory_order_acquire);
    uintptr_t data;

    if ((k & mask) != want)
        return 0;
    /* Acquire: if @data comes from a fill, the key and generation read
     * next see that fill's BUSY or what followed it (mt__tlb_fill). */
    data = atomic_load_explicit(&e->data, memory_order_acquire);
    if (atomic_load_explicit(&e->key, memory_order_relaxed) != k ||
        (atomic_load_explicit(&tlb->gen, memory_order_relaxed) &
         ~MT__TLB_SEALED) != gen)
        return 0;
    return data;
}

/* Cache @fr (the range of @addr in @fv) in @fv's cache @tlb (flatview.c);
 * true if the entry now holds the page's host address. */
bool mt__tlb_fill(mt_flatview *fv, mt_tlb *tlb, uint64_t addr,
                  const mt_flat_range *fr);
/* mt__lookup when the hints missed (flatview.c): in large views the last
 * range it found, then the tree; fills the hints. */
const mt_flat_range *mt__lookup_miss(mt_flatview *fv, uint64_t addr);

/*
 * Range of @fv containing @addr from the hints alone: the last range hit
 * (small views) or the page cache (large views); NULL when they miss.
 */
MT_HOT_INLINE const mt_flat_range *mt__lookup_hint(mt_flatview *fv,
                                                   uint64_t addr)
{
    mt_tlb *tlb = atomic_load_explicit(&fv->tlb, memory_order_acquire);
    const mt_flat_range *fr;

    /* Large views: the page cache alone (a last-hit check would cost a
     * dependent load of a likely cold record on random patterns). */
    if (tlb) {
        uint64_t h = mt__tlb_hash(addr);

        fr = (const mt_flat_range *)mt__tlb_read(
            tlb, mt__tlb_entry(tlb, h),
            MT__TLB_TAG | MT__TLB_RANGE | MT__TLB_BUSY,
            (h << MT__TLB_SHIFT) | MT__TLB_RANGE, fv->gen);
    } else {
        fr = atomic_load_explicit(&fv->mru, memory_order_relaxed);
    }
    if (fr && fr->start <= addr && addr <= fr->last)
        return fr;
    return NULL;
}

/*
 * Range of @fv containing @addr, or NULL for a hole: the hints, then the
 * tree. Writes only hints; safe from any number of threads.
 */
static inline const mt_flat_range *mt__lookup(mt_flatview *fv, uint64_t addr)
{
    const mt_flat_range *fr = mt__lookup_hint(fv, addr);

    return fr ? fr : mt__lookup_miss(fv, addr);
}

/*
 * Host address of [@addr, @addr + @len) from a page entry of @fv's cache:
 * the whole access inside one page of direct memory without dirty logging
 * whose entry has every MT__ACCESS_* bit of @need (READ, WRITE, RAM). NULL
 * otherwise, and always for small views (no cache) and for @len 0.
 */
MT_HOT_INLINE uint8_t *mt__page_host(mt_flatview *fv, uint64_t addr,
                                     uint64_t len, unsigned need)
{
    mt_tlb *tlb = atomic_load_explicit(&fv->tlb, memory_order_acquire);
    uint64_t h, bits;
    uintptr_t host;

    if (!tlb || len - 1 > 4095 - (addr & 4095))
        return NULL;
    h = mt__tlb_hash(addr);
    bits = (uint64_t)need << MT__TLB_ACCESS_SHIFT;
    host = mt__tlb_read(tlb, mt__tlb_entry(tlb, h),
                        MT__TLB_TAG | MT__TLB_PAGE | bits | MT__TLB_BUSY,
                        (h << MT__TLB_SHIFT) | MT__TLB_PAGE | bits, fv->gen);
    return host ? (uint8_t *)host + (addr & 4095) : NULL;
}

/*
 * Host address of [@addr, @addr + @len) when it is all directly accessible
 * memory of one range with every MT__ACCESS_* bit of @need (and, with
 * @clean, no dirty logging), from the hints alone; else NULL: the caller
 * takes the general path, which looks up and fills the hints (and always
 * for @len 0).
 */
MT_HOT_INLINE uint8_t *mt__direct_host(mt_flatview *fv, uint64_t addr,
                                       uint64_t len, unsigned need,
                                       bool clean)
{
    const mt_flat_range *fr;

    if (atomic_load_explicit(&fv->tlb, memory_order_relaxed))
        return mt__page_host(fv, addr, len, need);
    fr = atomic_load_explicit(&fv->mru, memory_order_relaxed);
    if (fr && len && fr->start <= addr && addr <= fr->last &&
        len - 1 <= fr->last - addr && (fr->mt__access & need) == need &&
        !(clean && fr->dirty_log_mask))
        return (uint8_t *)fr->host + (addr - fr->start);
    return NULL;
}

/* Address spaces (as.c): re-render every address space. */
int mt__as_update_all(mt_ctx *ctx);

/* Listeners (listener.c). */
static inline bool mt__listens(const mt_listener *l, const mt_as *as)
{
    return !as || l->as == as;
}
/* Deliver the change of @as from view @old to view @new. */
void mt__as_diff(mt_as *as, const mt_flatview *old, const mt_flatview *new_);
/* Deliver region_nop for every range of an unchanged view (to listeners
 * that want them). */
void mt__as_renew(mt_as *as);
/* The same, when @new_ was derived from @old and differs only in its spans. */
void mt__as_diff_spans(mt_as *as, const mt_flatview *old,
                       const mt_flatview *new_);
/* Remove every listener of @as (address space destruction). */
void mt__as_drop_listeners(mt_as *as);

/* ioeventfds (eventfd.c): recompute @as's set and deliver the difference. */
int mt__as_update_ioeventfds(mt_as *as);
void mt__region_free_eventfds(mt_region *r);

/* Coalesced MMIO (coalesced.c): hooks for one range entering/leaving. */
void mt__coalesced_add(mt_as *as, const mt_flat_range *fr);
void mt__coalesced_del(mt_as *as, const mt_flat_range *fr);

/* DMA mappings (map.c): release every open mapping of @as. */
void mt__as_drop_mappings(mt_as *as);

/* Device callbacks (mmio.c). */
bool mt__access_valid(mt_region *mr, uint64_t addr, unsigned size,
                      bool is_write, mt_attrs attrs);
mt_result mt__dispatch_read(mt_region *mr, uint64_t addr, uint64_t *value,
                            unsigned size, mt_endian op, mt_attrs attrs);
mt_result mt__dispatch_write(mt_region *mr, uint64_t addr, uint64_t value,
                             unsigned size, mt_endian op, mt_attrs attrs);
/* MT__ACCESS_IO1 << n for each size 1 << n that is a simple access of
 * @mr, plus MT__ACCESS_GUARD for I/O regions (render time). */
unsigned mt__io_simple_sizes(const mt_region *mr);
/* Largest piece (power of two) the device takes at @addr, at most @len. */
unsigned mt__access_size(const mt_region *mr, uint64_t len, uint64_t addr);
/* Endianness the device's values are laid out in, in byte buffers. */
static inline mt_endian mt__region_endian(const mt_region *mr)
{
    return mr->has_ops ? mr->ops.endian : MT_ENDIAN_LITTLE;
}

/* Direct access rules (QEMU memory_access_is_direct). */
static inline bool mt__is_ram(const mt_region *mr)
{
    return mr->kind == MT_REGION_RAM || mr->kind == MT_REGION_RAM_DEVICE;
}

static inline bool mt__direct_read(const mt_region *mr)
{
    return mr->kind == MT_REGION_RAM ||
           (mr->kind == MT_REGION_ROM_DEVICE && mr->romd_mode);
}

static inline bool mt__direct_write(const mt_region *mr)
{
    return mr->kind == MT_REGION_RAM && !mr->readonly;
}

#endif /* MT_INTERNAL_H */
