/* SPDX-License-Identifier: MIT */
/*
 * test_loader.c: mt_mtree_load(), the `info mtree` dump loader.
 *
 * (a) errors name the right line and say what was expected;
 * (b) robustness: truncated and mutated copies of every corpus dump either
 *     load or fail cleanly (run under ASan by `make check`);
 * (c) the rebuilt structure, checked through the public API only (no
 *     printer): address spaces, roots, kinds, flags, identity of regions
 *     printed twice, same-named alias targets, subregion order;
 * (d) plain `info mtree` dumps (disabled regions hidden).
 *
 * Corpus: MT_TEST_DATA_DIR if defined, else tests/data/qemu-7.2/cases
 * found from this file's path.
 */
#include "mt_testutil.h"

#include <dirent.h>
#include <time.h>

#ifndef MT_TEST_DATA_DIR
#define MT_TEST_DATA_DIR NULL
#endif

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static const char *cases_dir(void)
{
    static char path[4096];
    const char *slash;

    if (MT_TEST_DATA_DIR)
        return MT_TEST_DATA_DIR;
    if (!path[0]) {
        slash = strrchr(__FILE__, '/');
        if (!slash)
            snprintf(path, sizeof(path), "../data/qemu-7.2/cases");
        else
            snprintf(path, sizeof(path), "%.*s/../data/qemu-7.2/cases",
                     (int)(slash - __FILE__), __FILE__);
    }
    return path;
}

static char *read_file(const char *dir, const char *file, size_t *len)
{
    char path[4096];
    FILE *f;
    char *buf;
    long n;

    if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
        return NULL;
    f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    *len = fread(buf, 1, (size_t)n, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static char *read_case(const char *name, const char *file, size_t *len)
{
    char dir[4096];
    char *buf;

    if (snprintf(dir, sizeof(dir), "%s/%s", cases_dir(), name) >= (int)sizeof(dir))
        fail_msg("path too long");
    buf = read_file(dir, file, len);
    if (!buf)
        fail_msg("cannot read %s/%s", dir, file);
    return buf;
}

/* Load NUL-terminated texts into a new context (returned in *@ctx). */
static int load(mt_ctx **ctx, const char *dump, const char *facts,
                mt_load_error *err)
{
    *ctx = t_ctx();
    return mt_mtree_load(*ctx, dump, strlen(dump), facts,
                         facts ? strlen(facts) : 0, err);
}

/* Load a corpus case (mtree-D.txt or @file, with facts.txt). */
static mt_ctx *load_case_file(const char *name, const char *file)
{
    size_t dl = 0, fl = 0;
    char *dump = read_case(name, file, &dl);
    char *facts = read_case(name, "facts.txt", &fl);
    mt_load_error err;
    mt_ctx *ctx = t_ctx();
    int rc = mt_mtree_load(ctx, dump, dl, facts, fl, &err);

    if (rc)
        fail_msg("%s/%s: %s at line %u: %s", name, file, mt_err_name(rc), err.line, err.msg);
    free(dump);
    free(facts);
    return ctx;
}

static mt_as *find_as(mt_ctx *ctx, const char *name)
{
    for (size_t i = 0; i < mt_ctx_nr_as(ctx); i++)
        if (!strcmp(mt_as_name(mt_ctx_as(ctx, i)), name))
            return mt_ctx_as(ctx, i);
    fail_msg("no address space '%s'", name);
    return NULL;
}

/* The @nth subregion of @r named @name (in priority order). */
static mt_region *sub_named(mt_region *r, const char *name, int nth)
{
    for (size_t i = 0; i < mt_region_nr_subregions(r); i++) {
        mt_region *s = mt_region_subregion(r, i);

        if (mt_region_name(s) && !strcmp(mt_region_name(s), name) && nth-- == 0)
            return s;
    }
    fail_msg("'%s' has no subregion '%s'", t_rname(r), name);
    return NULL;
}

/* The subregion of @r named @name at address @addr. */
static mt_region *sub_at(mt_region *r, const char *name, uint64_t addr)
{
    for (size_t i = 0; i < mt_region_nr_subregions(r); i++) {
        mt_region *s = mt_region_subregion(r, i);

        if (mt_region_name(s) && !strcmp(mt_region_name(s), name) &&
            mt_region_addr(s) == addr)
            return s;
    }
    fail_msg("'%s' has no subregion '%s' at %llx", t_rname(r), name,
             (unsigned long long)addr);
    return NULL;
}

static size_t sub_index(mt_region *r, mt_region *s)
{
    for (size_t i = 0; i < mt_region_nr_subregions(r); i++)
        if (mt_region_subregion(r, i) == s)
            return i;
    fail_msg("not a subregion");
    return 0;
}

/* ------------------------------------------------------------------------ */
/* (a) Errors                                                                */
/* ------------------------------------------------------------------------ */

#define ROOT "  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n"

/* Expect @dump (+@facts) to fail with MT_EPARSE on @line, message containing @needle. */
static void expect_error(const char *dump, const char *facts, bool in_facts,
                         unsigned line, const char *needle)
{
    mt_load_error err;
    mt_ctx *ctx;
    int rc = load(&ctx, dump, facts, &err);

    if (rc != MT_EPARSE)
        fail_msg("expected MT_EPARSE, got %s (line %u: %s)", mt_err_name(rc), err.line, err.msg);
    if (err.line != line || err.in_facts != in_facts || !strstr(err.msg, needle))
        fail_msg("expected %s line %u with '%s', got %s line %u: %s",
                 in_facts ? "facts" : "dump", line, needle,
                 err.in_facts ? "facts" : "dump", err.line, err.msg);
    assert_int_equal(mt_ctx_nr_as(ctx), 0);
    mt_ctx_free(ctx);
}

static void test_error_header(void **state)
{
    (void)state;
    expect_error("adress-space: memory\n" ROOT, NULL, false, 1, "expected 'address-space: NAME'");
    expect_error("address-space: memory\n" ROOT "\nFlatView #0\n", NULL, false, 4,
                 "expected 'address-space: NAME'");
    expect_error(ROOT, NULL, false, 1, "outside a block");
    expect_error("", NULL, false, 0, "no 'address-space");
    expect_error("\n\n", NULL, false, 1, "no 'address-space");
    expect_error("memory-region: system\n" ROOT "\naddress-space: memory\n" ROOT, NULL, false, 4,
                 "after a 'memory-region:'");
    expect_error("address-space: memory\n" ROOT ROOT, NULL, false, 3, "second root");
}

static void test_error_indent(void **state)
{
    (void)state;
    /* A -D dump (it has [disabled]) cannot skip a level. */
    expect_error("address-space: memory\n" ROOT
                 "    0000000000000000-0000000000000fff (prio 0, i/o): a [disabled]\n"
                 "        0000000000000000-00000000000000ff (prio 0, ram): b\n",
                 NULL, false, 4, "jumps from level 2 to level 4");
    expect_error("address-space: memory\n"
                 "    0000000000000000-0000000000000fff (prio 0, i/o): a [disabled]\n",
                 NULL, false, 2, "root region at indentation 2");
    expect_error("address-space: memory\n" ROOT
                 "   0000000000000000-0000000000000fff (prio 0, i/o): a\n",
                 NULL, false, 3, "odd indentation");
    expect_error("address-space: memory\n" ROOT
                 "    0000000000001000-0000000000001fff (prio 0, i/o): a\n"
                 "      0000000000000000-0000000000000fff (prio 0, i/o): b [disabled]\n",
                 NULL, false, 4, "below its parent");
}

static void test_error_fields(void **state)
{
    (void)state;
    expect_error("address-space: memory\n  00000000000g0000-ffffffffffffffff (prio 0, i/o): system\n",
                 NULL, false, 2, "expected '-'");
    expect_error("address-space: memory\n  x000000000000000-ffffffffffffffff (prio 0, i/o): system\n",
                 NULL, false, 2, "hexadecimal start address");
    expect_error("address-space: memory\n  0000000000000000-fffffffffffffffff (prio 0, i/o): system\n",
                 NULL, false, 2, "does not fit in 64 bits");
    expect_error("address-space: memory\n" ROOT
                 "    0000000000002000-0000000000001fff (prio 0, ram): backwards\n",
                 NULL, false, 3, "below start address");
    expect_error("address-space: memory\n" ROOT
                 "    0000000000000000-0000000000000fff (prio 0, rim): r\n",
                 NULL, false, 3, "unknown region type 'rim'");
    expect_error("address-space: memory\n" ROOT
                 "    0000000000000000-00000000\n",
                 NULL, false, 3, "(prio P, TYPE)");
    expect_error("address-space: memory\n" ROOT
                 "    0000000000000000-0000000000000fff (prio 0, ram\n",
                 NULL, false, 3, "'): NAME'");
    expect_error("address-space: memory\n" ROOT
                 "    0000000000000000-0000000000000fff (prio x, ram): r\n",
                 NULL, false, 3, "decimal priority");
    expect_error("address-space: memory\n" ROOT
                 "    0000000000000000-0000000000000fff (prio 99999999999, ram): r\n",
                 NULL, false, 3, "does not fit in an int");
    expect_error("address-space: memory\n" ROOT
                 "    0000000000000000-0000000000000fff (prio 0 ram): r\n",
                 NULL, false, 3, "', TYPE): NAME'");
    {
        static const char nul[] = "address-space: memory\n" ROOT
                                  "    0000000000000000-0000000000000fff (prio 0, ram): r\0x\n";
        mt_load_error err;
        mt_ctx *ctx = t_ctx();

        assert_int_equal(mt_mtree_load(ctx, nul, sizeof(nul) - 1, NULL, 0, &err), MT_EPARSE);
        assert_int_equal(err.line, 3);
        assert_non_null(strstr(err.msg, "NUL byte"));
        mt_ctx_free(ctx);
    }
}

static void test_error_alias(void **state)
{
    (void)state;
    expect_error("address-space: memory\n" ROOT
                 "    0000000000000000-0000000000000fff (prio 0, ram): alias a @nosuch 0000000000000000-0000000000000fff\n"
                 "\nmemory-region: ram\n  0000000000000000-0000000000000fff (prio 0, ram): ram\n",
                 NULL, false, 3, "alias target 'nosuch' has no 'memory-region: nosuch'");
    expect_error("address-space: memory\n" ROOT
                 "    0000000000000000-0000000000000fff (prio 0, ram): alias a @ram 0000000000000000-0000000000001fff\n"
                 "\nmemory-region: ram\n  0000000000000000-0000000000000fff (prio 0, ram): ram\n",
                 NULL, false, 3, "does not match the region size");
    expect_error("address-space: memory\n" ROOT
                 "    0000000000000000-0000000000000fff (prio 0, ram): alias a @ram 00000000000\n"
                 "\nmemory-region: ram\n  0000000000000000-0000000000000fff (prio 0, ram): ram\n",
                 NULL, false, 3, "malformed alias");
    expect_error("address-space: memory\n" ROOT
                 "    0000000000000000-0000000000000fff (prio 0, rom): alias a @ram 0000000000000000-0000000000000fff\n"
                 "\nmemory-region: ram\n  0000000000000000-0000000000000fff (prio 0, ram): ram\n",
                 NULL, false, 3, "prints type rom");
    expect_error("address-space: memory\n" ROOT
                 "    0000000000000000-0000000000000fff (prio 0, ram): alias a @ram 0000000000000000-0000000000000fff\n"
                 "\nmemory-region: ram\n  0000000000000000-0000000000000fff (prio 0, ram): rem\n",
                 NULL, false, 6, "differs from the block header");
    /* Two aliases that target each other. */
    expect_error("address-space: memory\n" ROOT
                 "    0000000000000000-0000000000000fff (prio 0, i/o): alias a @b 0000000000000000-0000000000000fff\n"
                 "\nmemory-region: b\n  0000000000000000-0000000000000fff (prio 0, i/o): alias b @a 0000000000000000-0000000000000fff\n"
                 "\nmemory-region: a\n  0000000000000000-0000000000000fff (prio 0, i/o): alias a @b 0000000000000000-0000000000000fff\n",
                 NULL, false, 3, "alias cycle");
}

#define SMALL "address-space: memory\n" ROOT \
    "    0000000000000000-0000000000000fff (prio 0, ram): ram0\n" \
    "    0000000000001000-0000000000001fff (prio 0, i/o): dev\n" \
    "    0000000000002000-0000000000002fff (prio 0, i/o): win [disabled]\n"

static void test_error_facts(void **state)
{
    (void)state;
    expect_error(SMALL, "# comment\n\nfrobnicate dev\n", true, 3, "unknown fact 'frobnicate'");
    expect_error(SMALL, "readonly\n", true, 1, "expected a region name");
    expect_error(SMALL, "terminates dev\nreadonly nosuch\n", true, 2, "no region named 'nosuch'");
    expect_error(SMALL, "terminates dev\ncontainer dev\n", true, 2, "contradicts 'terminates' on line 1");
    expect_error(SMALL, "container ram0\n", true, 1, "not an i/o region");
    expect_error(SMALL, "dirty-log dev\n", true, 1, "not a RAM region");
    expect_error(SMALL, "readonly system>nosuch\n", true, 1, "no region named");
    expect_error(SMALL, "readonly other>dev\n", true, 1, "no region named");
}

static void test_error_args(void **state)
{
    mt_load_error err;
    mt_ctx *ctx = t_ctx();

    (void)state;
    assert_int_equal(mt_mtree_load(NULL, "x", 1, NULL, 0, &err), MT_EINVAL);
    assert_int_equal(mt_mtree_load(ctx, NULL, 1, NULL, 0, &err), MT_EINVAL);
    assert_int_equal(mt_mtree_load(ctx, SMALL, strlen(SMALL), NULL, 3, &err), MT_EINVAL);
    assert_int_equal(mt_mtree_load(ctx, SMALL, strlen(SMALL), NULL, 0, NULL), 0);
    assert_int_equal(mt_ctx_nr_as(ctx), 1);
    mt_ctx_free(ctx);
}

/* A failed load leaves what the context already had untouched. */
static void test_error_keeps_ctx(void **state)
{
    static const char bad[] = "address-space: other\n" ROOT
        "    0000000000000000-0000000000000fff (prio 0, ram): alias a @nosuch 0000000000000000-0000000000000fff\n";
    mt_load_error err;
    mt_ctx *ctx;
    mt_flatview *fv;

    (void)state;
    assert_int_equal(load(&ctx, SMALL, "terminates dev\n", &err), 0);
    assert_int_equal(mt_ctx_nr_as(ctx), 1);
    fv = mt_as_flatview(mt_ctx_as(ctx, 0));
    assert_int_equal(mt_flatview_nr_ranges(fv), 2);
    mt_flatview_unref(fv);
    assert_int_equal(mt_mtree_load(ctx, bad, strlen(bad), NULL, 0, &err), MT_EPARSE);
    assert_int_equal(err.line, 3);
    assert_int_equal(mt_ctx_nr_as(ctx), 1);
    /* A second good load appends. */
    assert_int_equal(mt_mtree_load(ctx, SMALL, strlen(SMALL), NULL, 0, &err), 0);
    assert_int_equal(mt_ctx_nr_as(ctx), 2);
    assert_ptr_not_equal(mt_as_root(mt_ctx_as(ctx, 0)), mt_as_root(mt_ctx_as(ctx, 1)));
    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* (b) Robustness                                                            */
/* ------------------------------------------------------------------------ */

static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static unsigned nr_loaded, nr_failed;

/* Load one variant: it must load, or fail with a message and leave nothing. */
static void try_variant(const char *what, const char *dump, size_t len,
                        const char *facts, size_t flen, bool print)
{
    mt_load_error err;
    mt_ctx *ctx = t_ctx();
    int rc = mt_mtree_load(ctx, dump, len, facts, flen, &err);

    if (rc == 0) {
        nr_loaded++;
        if (print) {
            FILE *f = fopen("/dev/null", "w");

            assert_non_null(f);
            assert_int_equal(mt_mtree_print(ctx, f, MT_MTREE_DISABLED), 0);
            assert_int_equal(mt_mtree_print(ctx, f, MT_MTREE_FLAT), 0);
            fclose(f);
        }
    } else {
        nr_failed++;
        /* MT_ENOMEM only when a mutated size asks for more host address
         * space than exists (RAM is reserved, never allocated). */
        if ((rc != MT_EPARSE && rc != MT_ENOMEM) || !err.msg[0] ||
            mt_ctx_nr_as(ctx) != 0)
            fail_msg("%s: rc %s, line %u, msg '%s', %zu address spaces left",
                     what, mt_err_name(rc), err.line, err.msg, mt_ctx_nr_as(ctx));
        if (err.line > 0 && !err.in_facts) {
            unsigned lines = 1;

            for (size_t i = 0; i + 1 < len; i++)
                lines += dump[i] == '\n';
            if (err.line > lines + 1)
                fail_msg("%s: error line %u past the end (%u lines)", what, err.line, lines);
        }
    }
    mt_ctx_free(ctx);
}

static char **list_cases(size_t *n)
{
    DIR *d = opendir(cases_dir());
    struct dirent *de;
    char **v = NULL;

    *n = 0;
    if (!d)
        fail_msg("cannot open %s", cases_dir());
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        v = realloc(v, (*n + 1) * sizeof(*v));
        v[(*n)++] = strdup(de->d_name);
    }
    closedir(d);
    return v;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_robust_truncations(void **state)
{
    size_t nc;
    char **cases = list_cases(&nc);

    (void)state;
    qsort(cases, nc, sizeof(*cases), cmp_str);
    assert_true(nc > 0);
    for (size_t c = 0; c < nc; c++) {
        size_t dl = 0, fl = 0;
        char *dump = read_case(cases[c], "mtree-D.txt", &dl);
        char *facts = read_case(cases[c], "facts.txt", &fl);
        char what[256];

        size_t nl = 0, step, k = 0;

        for (size_t cut = 0; cut < dl; cut += 97) {
            snprintf(what, sizeof(what), "%s cut at byte %zu", cases[c], cut);
            try_variant(what, dump, cut, (cut / 97) % 4 ? facts : NULL, (cut / 97) % 4 ? fl : 0, false);
        }
        /* Line boundaries: all of them in small dumps, ~100 spread over big ones. */
        for (size_t i = 0; i < dl; i++)
            nl += dump[i] == '\n';
        step = nl / 100 + 1;
        for (size_t i = 0; i < dl; i++) {
            if (dump[i] != '\n' || k++ % step)
                continue;
            snprintf(what, sizeof(what), "%s cut after byte %zu", cases[c], i);
            try_variant(what, dump, i + 1, facts, fl, false);
        }
        /* The facts cut too. */
        for (size_t cut = 0; cut < fl; cut += 13) {
            snprintf(what, sizeof(what), "%s facts cut at %zu", cases[c], cut);
            try_variant(what, dump, dl, facts, cut, false);
        }
        free(dump);
        free(facts);
        free(cases[c]);
    }
    free(cases);
    print_message("truncations: %u loaded, %u rejected\n", nr_loaded, nr_failed);
}

/* Line boundaries of @d: starts[i] for i in [0, n], starts[n] = len. */
static size_t line_starts(const char *d, size_t len, size_t **out)
{
    size_t n = 0, *v = malloc((len + 2) * sizeof(*v));

    assert_non_null(v);
    v[n++] = 0;
    for (size_t i = 0; i < len; i++)
        if (d[i] == '\n' && i + 1 < len)
            v[n++] = i + 1;
    v[n] = len;
    *out = v;
    return n;
}

static void mutate(const char *src, size_t len, char *dst, size_t *dlen)
{
    size_t *ls, nl = line_starts(src, len, &ls);
    size_t kind = rng() % 6;

    switch (kind) {
    case 0: /* flip a few bytes */
    case 1: {
        memcpy(dst, src, len);
        *dlen = len;
        for (int k = 0, n = 1 + (int)(rng() % 4); k < n && len; k++) {
            size_t at = rng() % len;
            static const char pool[] = " -@>()0123456789abcdefx[]\n\r\t:,ginordmal";

            dst[at] = (rng() & 1) ? (char)(rng() & 0xff) : pool[rng() % (sizeof(pool) - 1)];
        }
        break;
    }
    case 2: /* delete a line */
    case 3: { /* duplicate a line */
        size_t l = rng() % nl, a = ls[l], b = ls[l + 1];

        memcpy(dst, src, b);
        if (kind == 2) {
            memcpy(dst + a, src + b, len - b);
            *dlen = len - (b - a);
        } else {
            memcpy(dst + b, src + a, b - a);
            memcpy(dst + b + (b - a), src + b, len - b);
            *dlen = len + (b - a);
        }
        break;
    }
    case 4: { /* swap two lines */
        size_t l1 = rng() % nl, l2 = rng() % nl, t;

        if (l1 > l2) {
            t = l1;
            l1 = l2;
            l2 = t;
        }
        if (l1 == l2) {
            memcpy(dst, src, len);
            *dlen = len;
            break;
        }
        {
            size_t a1 = ls[l1], b1 = ls[l1 + 1], a2 = ls[l2], b2 = ls[l2 + 1], o = 0;

            memcpy(dst + o, src, a1), o += a1;
            memcpy(dst + o, src + a2, b2 - a2), o += b2 - a2;
            memcpy(dst + o, src + b1, a2 - b1), o += a2 - b1;
            memcpy(dst + o, src + a1, b1 - a1), o += b1 - a1;
            memcpy(dst + o, src + b2, len - b2), o += len - b2;
            *dlen = o;
        }
        break;
    }
    default: { /* re-indent a line by +-2 spaces */
        size_t l = rng() % nl, a = ls[l];

        memcpy(dst, src, a);
        if (rng() & 1) {
            dst[a] = ' ';
            dst[a + 1] = ' ';
            memcpy(dst + a + 2, src + a, len - a);
            *dlen = len + 2;
        } else if (len - a >= 2) {
            memcpy(dst + a, src + a + 2, len - a - 2);
            *dlen = len - 2;
        } else {
            memcpy(dst + a, src + a, len - a);
            *dlen = len;
        }
        break;
    }
    }
    free(ls);
}

static void test_robust_mutations(void **state)
{
    size_t nc;
    char **cases = list_cases(&nc);
    clock_t t0 = clock();

    (void)state;
    qsort(cases, nc, sizeof(*cases), cmp_str);
    rng_state = 0x9e3779b97f4a7c15ULL;
    nr_loaded = nr_failed = 0;
    for (size_t c = 0; c < nc; c++) {
        size_t dl = 0, fl = 0, ml;
        char *dump = read_case(cases[c], "mtree-D.txt", &dl);
        char *facts = read_case(cases[c], "facts.txt", &fl);
        char *buf = malloc(2 * dl + 16), *fbuf = malloc(2 * fl + 16);
        char what[256];

        assert_non_null(buf);
        assert_non_null(fbuf);
        for (int k = 0; k < 100; k++) {
            snprintf(what, sizeof(what), "%s mutation %d", cases[c], k);
            mutate(dump, dl, buf, &ml);
            try_variant(what, buf, ml, facts, fl, true);
            if (k % 10 == 0 && fl) {
                size_t mfl;

                mutate(facts, fl, fbuf, &mfl);
                snprintf(what, sizeof(what), "%s facts mutation %d", cases[c], k);
                try_variant(what, dump, dl, fbuf, mfl, false);
            }
        }
        free(buf);
        free(fbuf);
        free(dump);
        free(facts);
        free(cases[c]);
    }
    free(cases);
    print_message("mutations: %u loaded, %u rejected, %.1f s\n", nr_loaded, nr_failed,
                  (double)(clock() - t0) / CLOCKS_PER_SEC);
}

/* Every corpus dump loads, -D and plain alike, with and without facts. */
static void test_corpus_loads(void **state)
{
    size_t nc;
    char **cases = list_cases(&nc);

    (void)state;
    for (size_t c = 0; c < nc; c++) {
        static const char *const files[] = { "mtree-D.txt", "mtree.txt" };

        for (int f = 0; f < 2; f++) {
            size_t dl = 0, fl = 0;
            char *dump = read_case(cases[c], files[f], &dl);
            char *facts = read_case(cases[c], "facts.txt", &fl);
            mt_load_error err;

            for (int with = 0; with < 2; with++) {
                mt_ctx *ctx = t_ctx();
                int rc = mt_mtree_load(ctx, dump, dl, with ? facts : NULL, with ? fl : 0, &err);

                /* The core refuses an alias mapped inside its own target
                 * (Arm SSE "alias 3"): reported, not the loader's call. */
                if (rc && !strstr(err.msg, "the core rejects the loop"))
                    fail_msg("%s/%s%s: %s line %u: %s", cases[c], files[f],
                             with ? " + facts" : "", mt_err_name(rc), err.line, err.msg);
                mt_ctx_free(ctx);
            }
            free(dump);
            free(facts);
        }
        free(cases[c]);
    }
    free(cases);
}

/*
 * Allocation failure at many steps of a load (through the context's
 * allocator): MT_ENOMEM with a message, no address space added, the
 * context left usable, and everything taken out again.
 */
static void test_robust_alloc_failure(void **state)
{
    size_t dl = 0, fl = 0;
    char *dump = read_case("x86-pc-fw-128m", "mtree-D.txt", &dl);
    char *facts = read_case("x86-pc-fw-128m", "facts.txt", &fl);
    t_alloc_state st = { .budget = -1 };
    mt_allocator al = t_allocator(&st);
    long total, tested = 0, max_extra = 0;
    mt_load_error err;
    mt_ctx *ctx = NULL;

    (void)state;
    /* How many allocations a whole load takes. */
    MT_OK(mt_ctx_new(&ctx, &al));
    total = st.total;
    MT_OK(mt_mtree_load(ctx, dump, dl, facts, fl, &err));
    total = st.total - total;
    mt_ctx_free(ctx);
    assert_int_equal(st.live, 0);

    for (long n = 0; n < total; n += n < 300 ? 1 : total / 150 + 1) {
        long base;
        int rc;

        st = (t_alloc_state){ .budget = -1 };
        MT_OK(mt_ctx_new(&ctx, &al));
        base = st.live;
        st.budget = n;
        rc = mt_mtree_load(ctx, dump, dl, facts, fl, &err);
        st.budget = -1;
        if (rc == 0) {
            assert_int_equal(st.failures, 0);
        } else {
            if (rc != MT_ENOMEM || !err.msg[0])
                fail_msg("budget %ld: %s '%s'", n, mt_err_name(rc), err.msg);
            assert_int_equal(mt_ctx_nr_as(ctx), 0);
            assert_int_equal(mt_transaction_depth(ctx), 0);
            /* Views the failed load retired are freed a grace period
             * later; then only grown arrays of the context may stay. */
            MT_OK(mt_ctx_synchronize(ctx));
            if (st.live - base > max_extra)
                max_extra = st.live - base;
            /* The context still works: a full load now succeeds. */
            MT_OK(mt_mtree_load(ctx, dump, dl, facts, fl, &err));
            assert_int_equal(mt_ctx_nr_as(ctx), 7);
            tested++;
        }
        mt_ctx_free(ctx);
        assert_int_equal(st.live, 0);
    }
    print_message("allocation failure: %ld failing budgets of %ld allocations, "
                  "at most %ld block(s) kept by the context\n", tested, total, max_extra);
    assert_true(max_extra <= 8);
    free(dump);
    free(facts);
}

/* ------------------------------------------------------------------------ */
/* (c) Structure                                                             */
/* ------------------------------------------------------------------------ */

static void test_structure_pc(void **state)
{
    static const char *const names[] = { "PIIX3", "i440FX", "cpu-memory-0", "memory",
                                         "I/O", "piix3-ide", "PIIX4_PM" };
    mt_ctx *ctx = load_case_file("x86-pc-fw-128m", "mtree-D.txt");
    mt_region *system, *pci, *io, *bm, *ram_below, *pcram, *bios, *isa_bios, *smram;
    size_t nrom = 0;

    (void)state;
    /* Address spaces in dump order; cpu-memory-0 and memory share a root. */
    assert_int_equal(mt_ctx_nr_as(ctx), 7);
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(mt_as_name(mt_ctx_as(ctx, i)), names[i]);
    system = mt_as_root(find_as(ctx, "memory"));
    assert_ptr_equal(mt_as_root(find_as(ctx, "cpu-memory-0")), system);
    assert_string_equal(mt_region_name(system), "system");
    assert_int_equal(mt_region_kind_of(system), MT_REGION_CONTAINER);
    assert_int_equal(mt_region_size(system), MT_SIZE_FULL);
    /* Each bus master container is its own object; its alias is disabled
     * and targets the one `system`. */
    bm = mt_as_root(find_as(ctx, "PIIX3"));
    assert_ptr_not_equal(bm, mt_as_root(find_as(ctx, "i440FX")));
    assert_int_equal(mt_region_kind_of(bm), MT_REGION_CONTAINER);
    assert_int_equal(mt_region_nr_subregions(bm), 1);
    assert_false(mt_region_enabled(mt_region_subregion(bm, 0)));
    assert_ptr_equal(mt_region_alias_target(mt_region_subregion(bm, 0)), system);

    /* `io` terminates (fact), its childless devices too; piix4-pm,
     * which has children and no fact, is a container; rtc has a fact. */
    io = mt_as_root(find_as(ctx, "I/O"));
    assert_string_equal(mt_region_name(io), "io");
    assert_int_equal(mt_region_kind_of(io), MT_REGION_IO);
    assert_true(mt_region_terminates(io));
    assert_int_equal(mt_region_kind_of(sub_named(io, "rtc", 0)), MT_REGION_IO);
    assert_int_equal(mt_region_kind_of(sub_named(io, "piix4-pm", 0)), MT_REGION_CONTAINER);
    assert_int_equal(mt_region_kind_of(sub_named(io, "fdc", 0)), MT_REGION_IO);
    assert_int_equal(mt_region_nr_subregions(sub_named(io, "piix-bmdma-container", 0)), 4);
    assert_int_equal(mt_region_priority(sub_named(io, "piix-bmdma-container", 0)), 1);

    /* pci: a container at prio -1 holding the one pc.bios. */
    pci = sub_named(system, "pci", 0);
    assert_int_equal(mt_region_kind_of(pci), MT_REGION_CONTAINER);
    assert_int_equal(mt_region_priority(pci), -1);
    bios = sub_named(pci, "pc.bios", 0);
    assert_int_equal(mt_region_addr(bios), 0xfffc0000);
    assert_true(mt_region_readonly(bios));
    assert_int_equal(mt_region_kind_of(bios), MT_REGION_RAM);
    isa_bios = sub_named(pci, "isa-bios", 0);
    assert_ptr_equal(mt_region_alias_target(isa_bios), bios); /* memory-region: pc.bios */
    assert_int_equal(mt_region_alias_offset(isa_bios), 0x20000);
    smram = sub_named(system, "smram-region", 0);
    assert_ptr_equal(mt_region_alias_target(smram), pci);     /* memory-region: pci */

    /* pc.ram is only an alias target: unmapped, 128 MiB of lazily reserved RAM. */
    ram_below = sub_named(system, "ram-below-4g", 0);
    pcram = mt_region_alias_target(ram_below);
    assert_string_equal(mt_region_name(pcram), "pc.ram");
    assert_null(mt_region_container(pcram));
    assert_int_equal(mt_region_kind_of(pcram), MT_REGION_RAM);
    assert_int_equal(mt_region_size(pcram), 128u << 20);
    assert_non_null(mt_region_ram_ptr(pcram));

    /* Every pam-rom alias is read-only (fact), enabled or not; pam-ram is not. */
    for (size_t i = 0; i < mt_region_nr_subregions(system); i++) {
        mt_region *s = mt_region_subregion(system, i);

        if (!strcmp(mt_region_name(s), "pam-rom")) {
            assert_int_equal(mt_region_kind_of(s), MT_REGION_ALIAS);
            assert_true(mt_region_readonly(s));
            assert_ptr_equal(mt_region_alias_target(s), pcram);
            nrom++;
        } else if (!strcmp(mt_region_name(s), "pam-ram")) {
            assert_false(mt_region_readonly(s));
        }
    }
    assert_int_equal(nrom, 13);
    assert_true(mt_region_enabled(sub_at(system, "pam-rom", 0xc0000)));
    assert_false(mt_region_enabled(sub_at(system, "pam-rom", 0xe8000)));
    assert_false(mt_region_enabled(sub_at(system, "pam-ram", 0xc0000)));
    mt_ctx_free(ctx);
}

/*
 * Subregion order: printed (address, -priority) ties keep list order (the
 * first printed wins); at different addresses the higher one wins.
 */
static void test_structure_order(void **state)
{
    mt_ctx *ctx = load_case_file("x86-pc-fw-128m", "mtree-D.txt");
    mt_region *system = mt_as_root(find_as(ctx, "memory"));
    mt_region *io = mt_as_root(find_as(ctx, "I/O"));
    mt_region *c0[4], *c4;
    size_t prev = 0;

    (void)state;
    /* The four prio-1 aliases at 0xc0000, in print order. */
    {
        size_t k = 0;

        for (size_t i = 0; i < mt_region_nr_subregions(system) && k < 4; i++) {
            mt_region *s = mt_region_subregion(system, i);

            if (mt_region_addr(s) == 0xc0000 && mt_region_priority(s) == 1 &&
                mt_region_kind_of(s) == MT_REGION_ALIAS)
                c0[k++] = s;
        }
        assert_int_equal(k, 4);
    }
    assert_string_equal(mt_region_name(c0[0]), "pam-ram");
    assert_string_equal(mt_region_name(c0[1]), "pam-pci");
    assert_string_equal(mt_region_name(mt_region_alias_target(c0[1])), "pc.ram");
    assert_string_equal(mt_region_name(c0[2]), "pam-rom");
    assert_string_equal(mt_region_name(c0[3]), "pam-pci");
    assert_string_equal(mt_region_name(mt_region_alias_target(c0[3])), "pci");
    for (int k = 0; k < 4; k++) {
        size_t at = sub_index(system, c0[k]);

        if (k)
            assert_true(at > prev);
        prev = at;
    }
    /* Same priority, higher address: added later, so earlier in the list. */
    c4 = sub_at(system, "pam-ram", 0xc4000);
    assert_true(sub_index(system, c4) < sub_index(system, c0[0]));
    /* Priorities still order the list first: kvmvapic-rom (1000) and
     * kvm-apic-msi (4096) lead, pci (-1) comes last. */
    assert_string_equal(mt_region_name(mt_region_subregion(system, 0)), "kvm-apic-msi");
    assert_string_equal(mt_region_name(mt_region_subregion(system, 1)), "kvmvapic-rom");
    assert_string_equal(mt_region_name(mt_region_subregion(system, mt_region_nr_subregions(system) - 1)),
                        "pci");
    /* pci-conf-idx (prio 0) overlaps piix3-reset-control (prio 1). */
    assert_true(sub_index(io, sub_named(io, "piix3-reset-control", 0)) <
                sub_index(io, sub_named(io, "pci-conf-idx", 0)));
    mt_ctx_free(ctx);
}

/* Same-named alias targets: the q35 bridge windows (LOADING.md section 2). */
static void test_structure_same_named_targets(void **state)
{
    mt_ctx *ctx = load_case_file("x86-q35-fw-bridge", "mtree-D.txt");
    mt_region *io = mt_as_root(find_as(ctx, "I/O"));
    mt_region *system = mt_as_root(find_as(ctx, "memory"));
    mt_region *pci = sub_named(system, "pci", 0);
    mt_region *io_c000 = sub_at(io, "pci_bridge_io", 0xc000);
    mt_region *io_d000 = sub_at(io, "pci_bridge_io", 0xd000);
    mt_region *t_c000 = mt_region_alias_target(io_c000), *t_d000 = mt_region_alias_target(io_d000);
    mt_region *m1 = mt_region_alias_target(sub_at(pci, "pci_bridge_mem", 0xfe200000));
    mt_region *m2 = mt_region_alias_target(sub_at(pci, "pci_bridge_mem", 0xfe400000));
    mt_region *p1 = mt_region_alias_target(sub_at(pci, "pci_bridge_pref_mem", 0xfe800000));
    mt_region *p2 = mt_region_alias_target(sub_at(pci, "pci_bridge_pref_mem", 0xfea00000));

    (void)state;
    /* Two distinct pci_bridge_io objects; the one with virtio-pci is
     * aliased by the window over it, the empty one by the other. */
    assert_ptr_not_equal(t_c000, t_d000);
    assert_int_equal(mt_region_nr_subregions(t_c000), 1);
    assert_string_equal(mt_region_name(mt_region_subregion(t_c000, 0)), "virtio-pci");
    assert_int_equal(mt_region_nr_subregions(t_d000), 0);
    assert_int_equal(mt_region_kind_of(t_d000), MT_REGION_CONTAINER); /* fact */
    /* Two pci_bridge_pci: net behind the first windows, rng behind the second. */
    assert_ptr_not_equal(m1, m2);
    assert_ptr_equal(p1, m1);
    assert_ptr_equal(p2, m2);
    assert_int_equal(mt_region_addr(sub_named(m1, "virtio-net-pci-msix", 0)), 0xfe200000);
    assert_int_equal(mt_region_addr(sub_named(m2, "virtio-rng-pci-msix", 0)), 0xfe400000);
    assert_null(mt_region_container(m1));
    mt_ctx_free(ctx);
}

/* An address-space root printed again inside another tree is one region. */
static void test_structure_shared_root(void **state)
{
    mt_ctx *ctx = load_case_file("ppc-40p", "mtree-D.txt");
    mt_region *system = mt_as_root(find_as(ctx, "memory"));
    mt_region *pciio = mt_as_root(find_as(ctx, "raven-io"));
    mt_region *bm = mt_as_root(find_as(ctx, "raven-bm"));

    (void)state;
    assert_ptr_equal(sub_named(system, "pci-io", 0), pciio);
    assert_ptr_equal(mt_region_container(pciio), system);
    assert_int_equal(mt_region_addr(pciio), 0x80000000);
    /* bm-system aliases the one system; bm-pci-memory the mapped pci-memory. */
    assert_ptr_equal(mt_region_alias_target(sub_named(bm, "bm-system", 0)), system);
    assert_ptr_equal(mt_region_alias_target(sub_named(bm, "bm-pci-memory", 0)),
                     sub_named(system, "pci-memory", 0));
    assert_int_equal(mt_region_kind_of(sub_named(system, "pci-memory", 0)), MT_REGION_CONTAINER);
    mt_ctx_free(ctx);
}

/* Names with " @", '>' in facts, nv-, romd, dirty-log, overflow marker, sizes. */
static void test_structure_details(void **state)
{
    static const char dump[] =
        "address-space: memory\n"
        "  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n"
        "    0000000000000000-0000000000000fff (prio 0, ram): alias a @b @x @y 0000000000000000-0000000000000fff\n"
        "    0000000000001000-0000000000001fff (prio 0, nv-ram): nvdimm\n"
        "    0000000000002000-0000000000002fff (prio 2, romd): flash\n"
        "    0000000000003000-0000000000003fff (prio 0, ram): vga.vram\n"
        "    0000000000004000-0000000000004fff (prio 0, i/o): isa-io\n"
        "      0000000000004000-0000000000004000 (prio 0, i/o): one\n"
        "    0000000000005000-0000000000005fff (prio 0, i/o): bus\n"
        "      0000000000005000-0000000000005fff (prio 0, i/o): isa-io\n"
        "        0000000000005000-0000000000005000 (prio 0, i/o): one\n"
        "    0000000000006000-0000000000006fff (prio 0, i/o): nested\n"
        "[DETECTED OVERFLOW!]       0000000000005000-0000000000005fff (prio 0, i/o): wrapped\n"
        "    fffffffffffff000-ffffffffffffffff (prio 0, ramd): bar\n"
        "\n"
        "memory-region: x @y\n"
        "  0000000000000000-0000000000000fff (prio 0, ram): x @y\n"
        "\n";
    static const char facts[] = "terminates bus>isa-io\ncontainer system>isa-io\n"
                                "dirty-log vga.vram\nreadonly a @b\n";
    mt_load_error err;
    mt_ctx *ctx;
    mt_region *sys, *a, *bus, *nested, *w;

    (void)state;
    assert_int_equal(load(&ctx, dump, facts, &err), 0);
    sys = mt_as_root(mt_ctx_as(ctx, 0));
    a = sub_named(sys, "a @b", 0);
    assert_string_equal(mt_region_name(mt_region_alias_target(a)), "x @y");
    assert_true(mt_region_readonly(a));
    assert_true(mt_region_nonvolatile(sub_named(sys, "nvdimm", 0)));
    assert_int_equal(mt_region_kind_of(sub_named(sys, "flash", 0)), MT_REGION_ROM_DEVICE);
    assert_true(mt_region_romd(sub_named(sys, "flash", 0)));
    assert_int_equal(mt_region_priority(sub_named(sys, "flash", 0)), 2);
    assert_true(mt_region_dirty_log(sub_named(sys, "vga.vram", 0)));
    assert_int_equal(mt_region_kind_of(sub_named(sys, "isa-io", 0)), MT_REGION_CONTAINER);
    bus = sub_named(sys, "bus", 0);
    assert_int_equal(mt_region_kind_of(sub_named(bus, "isa-io", 0)), MT_REGION_IO);
    assert_int_equal(mt_region_size(sub_named(sub_named(bus, "isa-io", 0), "one", 0)), 1);
    /* START-END wraps under the overflow marker: addr 0xfffffffffffff000 in nested. */
    nested = sub_named(sys, "nested", 0);
    w = sub_named(nested, "wrapped", 0);
    assert_int_equal(mt_region_addr(w), 0xfffffffffffff000ULL);
    assert_int_equal(mt_region_kind_of(sub_named(sys, "bar", 0)), MT_REGION_RAM_DEVICE);
    assert_int_equal(mt_region_addr(sub_named(sys, "bar", 0)), 0xfffffffffffff000ULL);
    mt_ctx_free(ctx);

    /* \r\n line ends and a missing final newline are fine. */
    assert_int_equal(load(&ctx, "address-space: memory\r\n"
                                "  0000000000000000-0000000000000fff (prio 0, ram): r\r\n"
                                "address-space: other\r\n"
                                "  0000000000000000-0000000000000fff (prio 0, ram): r", NULL, &err), 0);
    assert_int_equal(mt_ctx_nr_as(ctx), 2);
    assert_ptr_not_equal(mt_as_root(mt_ctx_as(ctx, 0)), mt_as_root(mt_ctx_as(ctx, 1)));
    assert_string_equal(mt_region_name(mt_as_root(mt_ctx_as(ctx, 1))), "r");
    mt_ctx_free(ctx);
}

/* A memory-region block printed before a block that contains it (and an
 * unmapped root with a non-zero address keeps it). */
static void test_structure_mr_identity(void **state)
{
    static const char dump[] =
        "address-space: memory\n"
        "  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n"
        "    0000000000000000-0000000000000fff (prio 0, ram): alias in @inner 0000000000000000-0000000000000fff\n"
        "    0000000000010000-000000000001ffff (prio 0, i/o): alias out @outer 0000000000000000-000000000000ffff\n"
        "\n"
        "memory-region: inner\n"
        "  0000000000001000-0000000000001fff (prio 0, ram): inner\n"
        "\n"
        "memory-region: outer\n"
        "  0000000000000000-000000000000ffff (prio 0, i/o): outer\n"
        "    0000000000001000-0000000000001fff (prio 0, ram): inner\n"
        "\n";
    mt_load_error err;
    mt_ctx *ctx;
    mt_region *sys, *inner, *outer;

    (void)state;
    assert_int_equal(load(&ctx, dump, NULL, &err), 0);
    sys = mt_as_root(mt_ctx_as(ctx, 0));
    inner = mt_region_alias_target(sub_named(sys, "in", 0));
    outer = mt_region_alias_target(sub_named(sys, "out", 0));
    assert_ptr_equal(mt_region_container(inner), outer);
    assert_int_equal(mt_region_addr(inner), 0x1000);
    assert_int_equal(mt_region_nr_subregions(outer), 1);
    assert_int_equal(mt_region_kind_of(outer), MT_REGION_CONTAINER);
    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* (d) Plain dumps                                                           */
/* ------------------------------------------------------------------------ */

static void test_plain(void **state)
{
    /* x86-i386-pc: piix4-pm is disabled, so its children print two levels
     * below io; smram's own line is hidden. */
    mt_ctx *ctx = load_case_file("x86-i386-pc", "mtree.txt");
    mt_region *io = mt_as_root(find_as(ctx, "I/O"));
    mt_region *hidden = NULL, *smm, *smram;

    (void)state;
    for (size_t i = 0; i < mt_region_nr_subregions(io); i++)
        if (!mt_region_enabled(mt_region_subregion(io, i)) &&
            mt_region_kind_of(mt_region_subregion(io, i)) != MT_REGION_ALIAS)
            hidden = mt_region_subregion(io, i);
    assert_non_null(hidden);
    assert_string_equal(mt_region_name(hidden), "(hidden)");
    assert_int_equal(mt_region_kind_of(hidden), MT_REGION_CONTAINER);
    assert_non_null(sub_named(hidden, "acpi-evt", 0));
    smm = mt_as_root(find_as(ctx, "cpu-smm-0"));
    smram = mt_region_alias_target(sub_named(smm, "smram", 0));
    assert_string_equal(mt_region_name(smram), "smram");
    assert_false(mt_region_enabled(smram));
    assert_non_null(sub_named(smram, "smram-low", 0));
    mt_ctx_free(ctx);

    /* A hidden root, a jump, and facts naming hidden regions are accepted. */
    {
        mt_load_error err;

        assert_int_equal(load(&ctx, "address-space: a\n"
                                    "    0000000000000000-0000000000000fff (prio 0, ram): r\n"
                                    "\naddress-space: b\n"
                                    "  0000000000000000-000000000000ffff (prio 0, i/o): root\n"
                                    "        0000000000000000-0000000000000fff (prio 0, ram): deep\n"
                                    "\naddress-space: c\n\n",
                              "readonly gone\n", &err), 0);
        assert_int_equal(mt_ctx_nr_as(ctx), 3);
        assert_false(mt_region_enabled(mt_as_root(mt_ctx_as(ctx, 0))));
        assert_false(mt_region_enabled(mt_region_subregion(mt_as_root(mt_ctx_as(ctx, 1)), 0)));
        mt_ctx_free(ctx);
    }
}

/*
 * Every plain corpus dump loads and prints back byte for byte without -D:
 * hidden regions become disabled placeholders, and blocks queued by hidden
 * aliases keep their place through disabled placeholder aliases.
 */
static void test_plain_roundtrip(void **state)
{
    size_t nc;
    char **cases = list_cases(&nc);

    (void)state;
    for (size_t c = 0; c < nc; c++) {
        size_t dl = 0, ol = 0;
        char *dump = read_case(cases[c], "mtree.txt", &dl);
        mt_ctx *ctx = load_case_file(cases[c], "mtree.txt");
        char *out = NULL;
        FILE *f = open_memstream(&out, &ol);

        assert_non_null(f);
        assert_int_equal(mt_mtree_print(ctx, f, 0), 0);
        fclose(f);
        if (ol != dl || memcmp(out, dump, dl) != 0)
            fail_msg("%s: plain mtree.txt does not print back", cases[c]);
        free(out);
        free(dump);
        mt_ctx_free(ctx);
        free(cases[c]);
    }
    free(cases);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_header),
        cmocka_unit_test(test_error_indent),
        cmocka_unit_test(test_error_fields),
        cmocka_unit_test(test_error_alias),
        cmocka_unit_test(test_error_facts),
        cmocka_unit_test(test_error_args),
        cmocka_unit_test(test_error_keeps_ctx),
        cmocka_unit_test(test_structure_pc),
        cmocka_unit_test(test_structure_order),
        cmocka_unit_test(test_structure_same_named_targets),
        cmocka_unit_test(test_structure_shared_root),
        cmocka_unit_test(test_structure_details),
        cmocka_unit_test(test_structure_mr_identity),
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_plain_roundtrip),
        cmocka_unit_test(test_corpus_loads),
        cmocka_unit_test(test_robust_truncations),
        cmocka_unit_test(test_robust_mutations),
        cmocka_unit_test(test_robust_alloc_failure),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
