/* SPDX-License-Identifier: MIT */
/*
 * compare.c: the block-multiset comparison of tests/data/compare.py, in C
 * so that the conformance tests need no Python.
 */
#include "compare.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/** A line: a slice of the input text. */
struct line {
    const char *s;
    size_t len;
};

/** A normalised block and where it came from. */
struct block {
    char *text; /* lines joined by '\n', normalised */
    size_t idx; /* position in its text */
    bool matched;
};

struct block_set {
    struct block *v;
    size_t n, cap;
};

static bool blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isspace((unsigned char)s[i]))
            return false;
    return true;
}

static bool has_prefix(const struct line *l, const char *prefix)
{
    size_t n = strlen(prefix);

    return l->len >= n && memcmp(l->s, prefix, n) == 0;
}

/* `FlatView #<digits>` exactly. */
static bool is_flatview_header(const struct line *l)
{
    if (!has_prefix(l, "FlatView #") || l->len == 10)
        return false;
    for (size_t i = 10; i < l->len; i++)
        if (!isdigit((unsigned char)l->s[i]))
            return false;
    return true;
}

static bool is_as_line(const struct line *l)
{
    return has_prefix(l, " AS \"");
}

static void strip_kvm(struct line *l)
{
    if (!has_prefix(l, "  "))
        return;
    while (l->len >= 4 && memcmp(l->s + l->len - 4, " KVM", 4) == 0)
        l->len -= 4;
}

static int cmp_line(const void *a, const void *b)
{
    const struct line *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);

    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Put the ` AS "` lines of a FlatView block first, sorted (compare.py's norm). */
static void normalise_flatview(struct line *lines, size_t n, unsigned flags)
{
    size_t nas = 0;

    for (size_t i = 1; i < n; i++) {
        if (is_as_line(&lines[i])) {
            struct line as = lines[i];

            memmove(&lines[2 + nas], &lines[1 + nas], (i - 1 - nas) * sizeof(*lines));
            lines[1 + nas++] = as;
        } else if (flags & MTC_STRIP_KVM) {
            strip_kvm(&lines[i]);
        }
    }
    qsort(&lines[1], nas, sizeof(*lines), cmp_line);
}

static char *join(const struct line *lines, size_t n)
{
    size_t len = 0, pos = 0;
    char *s;

    for (size_t i = 0; i < n; i++)
        len += lines[i].len + 1;
    s = malloc(len + 1);
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        memcpy(s + pos, lines[i].s, lines[i].len);
        pos += lines[i].len;
        s[pos++] = '\n';
    }
    s[pos ? pos - 1 : 0] = '\0';
    return s;
}

static int add_block(struct block_set *set, struct line *lines, size_t n,
                     unsigned flags)
{
    if (is_flatview_header(&lines[0])) {
        lines[0].len = 10; /* "FlatView #" */
        normalise_flatview(lines, n, flags);
    }
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 32;
        struct block *v = realloc(set->v, cap * sizeof(*v));

        if (!v)
            return -1;
        set->v = v;
        set->cap = cap;
    }
    set->v[set->n].text = join(lines, n);
    set->v[set->n].idx = set->n;
    set->v[set->n].matched = false;
    return set->v[set->n++].text ? 0 : -1;
}

/* Split @text into lines ("\r\n" counts as "\n"). Returns the count or -1. */
static long split_lines(const char *text, size_t len, struct line **out)
{
    size_t n = 0, cap = 64;
    struct line *v = malloc(cap * sizeof(*v));
    size_t pos = 0;

    while (v && pos <= len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        struct line l = { text + pos, end - pos };

        if (l.len && l.s[l.len - 1] == '\r' && nl)
            l.len--;
        if (n == cap) {
            struct line *nv = realloc(v, (cap *= 2) * sizeof(*v));

            if (!nv)
                free(v);
            v = nv;
            if (!v)
                break;
        }
        v[n++] = l;
        pos = end + 1;
    }
    *out = v;
    return v ? (long)n : -1;
}

static int parse_blocks(const char *text, size_t len, unsigned flags,
                        struct block_set *set)
{
    struct line *lines;
    long n = split_lines(text, len, &lines);
    size_t start = 0;
    int rc = 0;

    if (n < 0)
        return -1;
    for (size_t i = 0; i <= (size_t)n && !rc; i++) {
        if (i < (size_t)n && !blank(lines[i].s, lines[i].len))
            continue;
        if (i > start)
            rc = add_block(set, &lines[start], i - start, flags);
        start = i + 1;
    }
    free(lines);
    return rc;
}

static void free_blocks(struct block_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        free(set->v[i].text);
    free(set->v);
}

static int cmp_block_ptr(const void *a, const void *b)
{
    const struct block *x = *(const struct block *const *)a;
    const struct block *y = *(const struct block *const *)b;
    int c = strcmp(x->text, y->text);

    return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

static struct block **sorted_view(struct block_set *set)
{
    struct block **v = malloc((set->n ? set->n : 1) * sizeof(*v));

    if (!v)
        return NULL;
    for (size_t i = 0; i < set->n; i++)
        v[i] = &set->v[i];
    qsort(v, set->n, sizeof(*v), cmp_block_ptr);
    return v;
}

/* Mark the blocks both sets share (multiset intersection). */
static int match_blocks(struct block_set *e, struct block_set *a)
{
    struct block **se = sorted_view(e), **sa = sorted_view(a);
    size_t i = 0, j = 0;

    if (!se || !sa) {
        free(se);
        free(sa);
        return -1;
    }
    while (i < e->n && j < a->n) {
        int c = strcmp(se[i]->text, sa[j]->text);

        if (c == 0) {
            se[i++]->matched = true;
            sa[j++]->matched = true;
        } else if (c < 0) {
            i++;
        } else {
            j++;
        }
    }
    free(se);
    free(sa);
    return 0;
}

static size_t count_unmatched(const struct block_set *s, const struct block **first)
{
    size_t n = 0;

    *first = NULL;
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].matched)
            continue;
        if (!n++)
            *first = &s->v[i];
    }
    return n;
}

static size_t first_line_len(const char *s)
{
    const char *nl = strchr(s, '\n');

    return nl ? (size_t)(nl - s) : strlen(s);
}

/* Number of leading lines @x and @y have in common. */
static size_t common_lines(const char *x, const char *y)
{
    size_t n = 0;

    while (*x && *y) {
        size_t lx = first_line_len(x), ly = first_line_len(y);

        if (lx != ly || memcmp(x, y, lx))
            break;
        n++;
        x += lx + (x[lx] == '\n');
        y += ly + (y[ly] == '\n');
    }
    return n;
}

/*
 * The unmatched block of @a that shares the most leading lines (at least
 * the first) with @b, or NULL: the likely counterpart of a missing block.
 */
static const struct block *closest_peer(const struct block_set *a, const struct block *b)
{
    const struct block *best = NULL;
    size_t best_n = 0;

    for (size_t i = 0; i < a->n; i++) {
        size_t n = a->v[i].matched ? 0 : common_lines(a->v[i].text, b->text);

        if (n > best_n) {
            best = &a->v[i];
            best_n = n;
        }
    }
    return best;
}

/* Print the first line where @exp and @act differ. */
static void report_line_diff(FILE *f, const char *exp, const char *act)
{
    size_t same = common_lines(exp, act);

    for (size_t i = 0; i < same; i++) {
        size_t le = first_line_len(exp), la = first_line_len(act);

        exp += le + (exp[le] == '\n');
        act += la + (act[la] == '\n');
    }
    fprintf(f, "  first difference at line %zu of the block:\n", same + 1);
    fprintf(f, "    expected: %.*s\n", *exp ? (int)first_line_len(exp) : 5,
            *exp ? exp : "(end)");
    fprintf(f, "    actual:   %.*s\n", *act ? (int)first_line_len(act) : 5,
            *act ? act : "(end)");
}

/* Print up to @max lines of @text, indented. */
static void report_head(FILE *f, const char *prefix, const char *text, int max)
{
    for (int i = 0; i < max && *text; i++) {
        size_t len = first_line_len(text);

        fprintf(f, "    %s%.*s\n", prefix, (int)len, text);
        text += len + (text[len] == '\n');
    }
}

static void report_diff(FILE *f, const struct block_set *e, const struct block_set *a)
{
    const struct block *miss, *extra, *peer;
    size_t nmiss = count_unmatched(e, &miss), nextra = count_unmatched(a, &extra);

    fprintf(f, "  %zu expected block(s) missing, %zu unexpected\n", nmiss, nextra);
    if (!miss) {
        fprintf(f, "  first unexpected block:\n");
        report_head(f, "+", extra->text, 6);
        return;
    }
    peer = closest_peer(a, miss);
    fprintf(f, "  first missing block: %.*s\n", (int)first_line_len(miss->text),
            miss->text);
    if (peer) {
        report_line_diff(f, miss->text, peer->text);
        return;
    }
    report_head(f, "-", miss->text, 6);
    if (extra) {
        fprintf(f, "  first unexpected block:\n");
        report_head(f, "+", extra->text, 6);
    }
}

int mtc_compare(const char *expected, size_t expected_len, const char *actual,
                size_t actual_len, unsigned flags, FILE *report)
{
    struct block_set e = { 0 }, a = { 0 };
    int rc = -1;
    const struct block *dummy;

    if (parse_blocks(expected, expected_len, flags, &e) ||
        parse_blocks(actual, actual_len, flags, &a) || match_blocks(&e, &a))
        goto out;
    rc = count_unmatched(&e, &dummy) || count_unmatched(&a, &dummy);
    if (rc && report)
        report_diff(report, &e, &a);
out:
    free_blocks(&e);
    free_blocks(&a);
    return rc;
}
