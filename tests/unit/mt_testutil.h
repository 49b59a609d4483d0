/* SPDX-License-Identifier: MIT */
/*
 * mt_testutil.h: small helpers shared by the cmocka unit tests.
 *
 * Everything here goes through the public API (memtree.h) only. Include it
 * after nothing else: it pulls in what cmocka needs, in the order cmocka
 * wants.
 */
#ifndef MT_TESTUTIL_H
#define MT_TESTUTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* open_memstream */
#endif

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "memtree.h"

/* ------------------------------------------------------------------------ */
/* Return codes                                                              */
/* ------------------------------------------------------------------------ */

/* Assert that a memtree call returned 0, naming the error otherwise. */
#define MT_OK(expr)                                                          \
    do {                                                                     \
        int rc_ = (expr);                                                    \
        if (rc_ != 0)                                                        \
            fail_msg("%s returned %d (%s), expected 0", #expr, rc_,          \
                     mt_err_name(rc_));                                      \
    } while (0)

/* Assert that a memtree call returned exactly @code. */
#define MT_EXPECT(expr, code)                                                \
    do {                                                                     \
        int rc_ = (expr);                                                    \
        int want_ = (code);                                                  \
        if (rc_ != want_)                                                    \
            fail_msg("%s returned %d (%s), expected %d (%s)", #expr, rc_,    \
                     mt_err_name(rc_), want_, mt_err_name(want_));           \
    } while (0)

/* ------------------------------------------------------------------------ */
/* Building blocks                                                           */
/* ------------------------------------------------------------------------ */

static inline mt_ctx *t_ctx(void)
{
    mt_ctx *ctx = NULL;
    MT_OK(mt_ctx_new(&ctx, NULL));
    assert_non_null(ctx);
    return ctx;
}

static inline mt_region *t_container(mt_ctx *ctx, const char *name,
                                     uint64_t size)
{
    mt_region *r = NULL;
    MT_OK(mt_region_new_container(ctx, name, size, &r));
    assert_non_null(r);
    return r;
}

static inline mt_region *t_io(mt_ctx *ctx, const char *name, uint64_t size)
{
    mt_region *r = NULL;
    MT_OK(mt_region_new_io(ctx, name, size, NULL, NULL, &r));
    assert_non_null(r);
    return r;
}

static inline mt_region *t_ram(mt_ctx *ctx, const char *name, uint64_t size)
{
    mt_region *r = NULL;
    MT_OK(mt_region_new_ram(ctx, name, size, &r));
    assert_non_null(r);
    return r;
}

static inline mt_region *t_rom(mt_ctx *ctx, const char *name, uint64_t size)
{
    mt_region *r = NULL;
    MT_OK(mt_region_new_rom(ctx, name, size, &r));
    assert_non_null(r);
    return r;
}

static inline mt_region *t_romd(mt_ctx *ctx, const char *name, uint64_t size)
{
    mt_region *r = NULL;
    MT_OK(mt_region_new_rom_device(ctx, name, size, NULL, NULL, &r));
    assert_non_null(r);
    return r;
}

static inline mt_region *t_alias(mt_ctx *ctx, const char *name,
                                 mt_region *target, uint64_t offset,
                                 uint64_t size)
{
    mt_region *r = NULL;
    MT_OK(mt_region_new_alias(ctx, name, target, offset, size, &r));
    assert_non_null(r);
    return r;
}

static inline mt_as *t_as(mt_ctx *ctx, mt_region *root, const char *name)
{
    mt_as *as = NULL;
    MT_OK(mt_as_new(ctx, root, name, &as));
    assert_non_null(as);
    return as;
}

/* Map @sub in @parent. The caller keeps its creation reference: tests let
 * mt_ctx_free() reclaim everything, whatever the reference counts. */
static inline void t_map(mt_region *parent, uint64_t off, mt_region *sub)
{
    MT_OK(mt_region_add_subregion(parent, off, sub));
}

static inline void t_map_prio(mt_region *parent, uint64_t off,
                              mt_region *sub, int prio)
{
    MT_OK(mt_region_add_subregion_overlap(parent, off, sub, prio));
}

/* ------------------------------------------------------------------------ */
/* Flat view checks                                                          */
/* ------------------------------------------------------------------------ */

/* Flag bits of an expected range; 0 = writable, volatile, ROMD mode on
 * (the value every non-ROM-device region has), no dirty logging. */
#define XF_RO     0x1u
#define XF_NV     0x2u
#define XF_NOROMD 0x4u
#define XF_DIRTY  0x8u

typedef struct exp_range {
    uint64_t start;
    uint64_t last;
    mt_region *region;
    uint64_t offset;
    unsigned flags;
} exp_range;

static inline const char *t_rname(const mt_region *r)
{
    const char *n = r ? mt_region_name(r) : "<NULL region>";
    return n ? n : "(null)";
}

static inline void t_dump_view(const mt_flatview *fv)
{
    size_t n = mt_flatview_nr_ranges(fv);
    print_message("flat view %p: %zu range(s), root %s\n", (const void *)fv,
                  n, fv && mt_flatview_root(fv)
                         ? t_rname(mt_flatview_root(fv)) : "(none)");
    for (size_t i = 0; i < n; i++) {
        const mt_flat_range *fr = mt_flatview_range(fv, i);
        print_message("  %016llx-%016llx %s @%llx%s%s%s%s\n",
                      (unsigned long long)fr->start,
                      (unsigned long long)fr->last, t_rname(fr->region),
                      (unsigned long long)fr->offset,
                      fr->readonly ? " ro" : "", fr->nonvolatile ? " nv" : "",
                      fr->romd ? "" : " !romd",
                      (fr->dirty_log_mask & MT_DIRTY_VGA) ? " dirty" : "");
    }
}

static inline void t_check_fv_(const mt_flatview *fv, const exp_range *e,
                               size_t n, const char *file, int line)
{
    size_t got = mt_flatview_nr_ranges(fv);
    bool bad = got != n;
    for (size_t i = 0; !bad && i < n; i++) {
        const mt_flat_range *fr = mt_flatview_range(fv, i);
        if (!fr || fr->start != e[i].start || fr->last != e[i].last ||
            fr->region != e[i].region || fr->offset != e[i].offset ||
            fr->readonly != !!(e[i].flags & XF_RO) ||
            fr->nonvolatile != !!(e[i].flags & XF_NV) ||
            fr->romd != !(e[i].flags & XF_NOROMD) ||
            !!(fr->dirty_log_mask & MT_DIRTY_VGA) != !!(e[i].flags & XF_DIRTY))
            bad = true;
    }
    if (mt_flatview_range(fv, got) != NULL)
        bad = true;
    if (bad) {
        print_message("%s:%d: flat view mismatch\nexpected %zu range(s):\n",
                      file, line, n);
        for (size_t i = 0; i < n; i++)
            print_message("  %016llx-%016llx %s @%llx%s%s%s%s\n",
                          (unsigned long long)e[i].start,
                          (unsigned long long)e[i].last,
                          t_rname(e[i].region),
                          (unsigned long long)e[i].offset,
                          (e[i].flags & XF_RO) ? " ro" : "",
                          (e[i].flags & XF_NV) ? " nv" : "",
                          (e[i].flags & XF_NOROMD) ? " !romd" : "",
                          (e[i].flags & XF_DIRTY) ? " dirty" : "");
        print_message("got:\n");
        t_dump_view(fv);
        _fail(file, line);
    }
}

static inline void t_check_as_(mt_as *as, const exp_range *e, size_t n,
                               const char *file, int line)
{
    mt_flatview *fv = mt_as_flatview(as);
    if (!fv) {
        print_message("%s:%d: mt_as_flatview returned NULL\n", file, line);
        _fail(file, line);
    }
    t_check_fv_(fv, e, n, file, line);
    mt_flatview_unref(fv);
}

/* CHECK_AS(as, {start, last, region, offset, flags}, ...) */
#define CHECK_AS(as, ...)                                                    \
    do {                                                                     \
        const exp_range e_[] = { __VA_ARGS__ };                              \
        t_check_as_((as), e_, sizeof(e_) / sizeof(e_[0]), __FILE__,          \
                    __LINE__);                                               \
    } while (0)

/* The view of @as has no range at all. */
#define CHECK_AS_EMPTY(as) t_check_as_((as), NULL, 0, __FILE__, __LINE__)

/* ------------------------------------------------------------------------ */
/* `info mtree` output                                                       */
/* ------------------------------------------------------------------------ */

/* Print @ctx with @flags into a malloc'd string (caller frees). */
static inline char *t_mtree(mt_ctx *ctx, unsigned flags)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    int rc = mt_mtree_print(ctx, f, flags);
    fclose(f);
    if (rc != 0) {
        free(buf);
        fail_msg("mt_mtree_print returned %d (%s)", rc, mt_err_name(rc));
    }
    assert_non_null(buf);
    return buf;
}

static inline void t_check_mtree_(mt_ctx *ctx, unsigned flags,
                                  const char *expected, const char *file,
                                  int line)
{
    char *got = t_mtree(ctx, flags);
    if (strcmp(got, expected) != 0) {
        print_message("%s:%d: mt_mtree_print(flags %#x) mismatch\n"
                      "---- expected ----\n%s---- got ----\n%s---- end ----\n",
                      file, line, flags, expected, got);
        free(got);
        _fail(file, line);
    }
    free(got);
}

#define CHECK_MTREE(ctx, flags, expected)                                    \
    t_check_mtree_((ctx), (flags), (expected), __FILE__, __LINE__)

/* ------------------------------------------------------------------------ */
/* Counting allocator                                                        */
/* ------------------------------------------------------------------------ */

/*
 * An mt_allocator that counts live blocks and can be told to fail: after
 * @budget more successful allocations (alloc, or realloc growing/creating a
 * block) every further one returns NULL. budget < 0 means never fail.
 */
typedef struct t_alloc_state {
    long live;       /* blocks currently allocated */
    long total;      /* successful allocations so far */
    long budget;     /* allocations left before failing; < 0: unlimited */
    long failures;   /* allocations refused */
} t_alloc_state;

static inline bool t_alloc_permit(t_alloc_state *s)
{
    if (s->budget < 0)
        return true;
    if (s->budget == 0) {
        s->failures++;
        return false;
    }
    s->budget--;
    return true;
}

static inline void *t_alloc_fn(void *opaque, size_t size)
{
    t_alloc_state *s = opaque;
    if (!t_alloc_permit(s))
        return NULL;
    void *p = malloc(size ? size : 1);
    if (p) {
        s->live++;
        s->total++;
    }
    return p;
}

static inline void *t_realloc_fn(void *opaque, void *ptr, size_t size)
{
    t_alloc_state *s = opaque;
    if (!t_alloc_permit(s))
        return NULL;
    void *p = realloc(ptr, size ? size : 1);
    if (p) {
        if (!ptr)
            s->live++;
        s->total++;
    }
    return p;
}

static inline void t_free_fn(void *opaque, void *ptr)
{
    t_alloc_state *s = opaque;
    if (ptr)
        s->live--;
    free(ptr);
}

static inline mt_allocator t_allocator(t_alloc_state *s)
{
    mt_allocator a = { t_alloc_fn, t_realloc_fn, t_free_fn, s };
    return a;
}

#endif /* MT_TESTUTIL_H */
