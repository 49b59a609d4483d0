/* SPDX-License-Identifier: MIT */
/*
 * mtree_parse.c: the line parser of mt_mtree_load(). Turns a QEMU 7.2
 * `info mtree` / `info mtree -D` dump into blocks (ml_unit) and region
 * lines (ml_node), and reads the facts text. The format is described in
 * docs/mtree-format.md; identity, alias resolution, facts and building
 * the regions happen in mtree_load*.c (mtree_load.h lists them).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtree_load.h"

#define AS_HEADER "address-space: "
#define MR_HEADER "memory-region: "
#define HEADER_LEN 15
#define OVERFLOW_PREFIX "[DETECTED OVERFLOW!] "
#define DISABLED_SUFFIX " [disabled]"
#define HIDDEN_NAME "(hidden)"
/* Deepest nesting accepted (QEMU trees are a few levels deep). */
#define MAX_LEVEL 65536u

int ml_error(ml_state *s, bool in_facts, uint32_t line, const char *fmt, ...)
{
    va_list ap;

    if (s->err) {
        s->err->in_facts = in_facts;
        s->err->line = line;
        va_start(ap, fmt);
        vsnprintf(s->err->msg, sizeof(s->err->msg), fmt, ap);
        va_end(ap);
    }
    return MT_EPARSE;
}

int ml_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    size_t ncap;
    void *np;

    if (need <= *cap)
        return 0;
    ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return MT_ENOMEM;
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / elem)
        return MT_ENOMEM;
    np = realloc(*p, ncap * elem);
    if (!np)
        return MT_ENOMEM;
    *p = np;
    *cap = ncap;
    return 0;
}

uint64_t ml_rev_hash_step(uint64_t h, unsigned char c)
{
    return (h ^ c) * 0x100000001b3ULL;
}

/* ------------------------------------------------------------------------ */
/* Small lexical helpers over a (pointer, length) line                       */
/* ------------------------------------------------------------------------ */

static bool has_prefix(const char *s, size_t len, const char *pfx)
{
    size_t n = strlen(pfx);

    return len >= n && memcmp(s, pfx, n) == 0;
}

static bool has_suffix(const char *s, size_t len, const char *sfx)
{
    size_t n = strlen(sfx);

    return len >= n && memcmp(s + len - n, sfx, n) == 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Read a hex number at s[*p]. Returns 0, -1 (no digit) or -2 (does not fit
 * in 64 bits).
 */
static int read_hex(const char *s, size_t len, size_t *p, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = *p;
    int d;

    if (i >= len || hexval(s[i]) < 0)
        return -1;
    for (; i < len && (d = hexval(s[i])) >= 0; i++) {
        if (v > (UINT64_MAX >> 4))
            return -2;
        v = (v << 4) | (uint64_t)d;
    }
    *p = i;
    *out = v;
    return 0;
}

/* Is s[0..len) exactly "HEX-HEX"? Fills @a and @b. */
static bool parse_window(const char *s, size_t len, uint64_t *a, uint64_t *b)
{
    size_t p = 0;

    if (read_hex(s, len, &p, a) || p >= len || s[p] != '-')
        return false;
    p++;
    if (read_hex(s, len, &p, b))
        return false;
    return p == len;
}

/* Copy s[0..len) into the arena as a NUL-terminated string. */
static char *arena_copy(ml_state *s, const char *str, size_t len)
{
    char *d;

    if (s->arena_cap - s->arena_used < len + 1)
        return NULL; /* cannot happen: the arena holds the whole dump */
    d = s->arena + s->arena_used;
    memcpy(d, str, len);
    d[len] = '\0';
    s->arena_used += len + 1;
    return d;
}

/* ------------------------------------------------------------------------ */
/* Region lines                                                              */
/* ------------------------------------------------------------------------ */

/* Everything one region line says, before it is placed in the tree. */
struct line_info {
    uint32_t level;
    bool overflow, disabled, alias, nv;
    uint64_t start, end, size, aoff;
    int prio;
    uint8_t type;
    const char *name;      /* in the line, not terminated */
    size_t name_len;       /* alias: "NAME @TARGET" */
};

static int parse_type(const char *t, size_t n, uint8_t *type, bool *nv)
{
    static const struct { const char *w; uint8_t t; } words[] = {
        { "i/o", ML_T_IO }, { "ram", ML_T_RAM }, { "rom", ML_T_ROM },
        { "romd", ML_T_ROMD }, { "ramd", ML_T_RAMD },
    };

    *nv = has_prefix(t, n, "nv-");
    if (*nv) {
        t += 3;
        n -= 3;
    }
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strlen(words[i].w) == n && memcmp(words[i].w, t, n) == 0) {
            *type = words[i].t;
            return 0;
        }
    }
    return -1;
}

/*
 * Parse "<indent>START-END (prio P, TYPE): REST" (optionally preceded by
 * QEMU's overflow marker). Returns 0 or MT_EPARSE with the error set.
 */
static int parse_region_line(ml_state *s, const char *l, size_t len,
                             uint32_t ln, struct line_info *li)
{
    size_t p = 0, n, ts;
    long long prio = 0;
    bool neg = false;
    int rc;

    memset(li, 0, sizeof(*li));
    if (has_prefix(l, len, OVERFLOW_PREFIX)) {
        li->overflow = true;
        p = strlen(OVERFLOW_PREFIX);
    }
    for (n = 0; p < len && l[p] == ' '; p++)
        n++;
    if (n == 0)
        return ml_error(s, false, ln, "expected indentation (two spaces per level) before the region's address range");
    if (n % 2)
        return ml_error(s, false, ln, "odd indentation of %zu spaces: expected two spaces per level", n);
    if (n / 2 > MAX_LEVEL)
        return ml_error(s, false, ln, "region nested %zu levels deep: at most %u supported", n / 2, MAX_LEVEL);
    li->level = (uint32_t)(n / 2);

    rc = read_hex(l, len, &p, &li->start);
    if (rc)
        return ml_error(s, false, ln, rc == -2 ? "start address does not fit in 64 bits"
                                            : "expected a hexadecimal start address after the indentation");
    if (p >= len || l[p] != '-')
        return ml_error(s, false, ln, "expected '-' and the end address after the start address");
    p++;
    rc = read_hex(l, len, &p, &li->end);
    if (rc)
        return ml_error(s, false, ln, rc == -2 ? "end address does not fit in 64 bits"
                                            : "expected a hexadecimal end address after '-'");
    if (!has_prefix(l + p, len - p, " (prio "))
        return ml_error(s, false, ln, "expected ' (prio P, TYPE): NAME' after the address range");
    p += 7;
    if (p < len && l[p] == '-') {
        neg = true;
        p++;
    }
    if (p >= len || l[p] < '0' || l[p] > '9')
        return ml_error(s, false, ln, "expected a decimal priority after '(prio '");
    for (; p < len && l[p] >= '0' && l[p] <= '9'; p++) {
        prio = prio * 10 + (l[p] - '0');
        if (prio > 2147483648LL)
            return ml_error(s, false, ln, "priority does not fit in an int");
    }
    if (neg)
        prio = -prio;
    if (prio > 2147483647LL || prio < -2147483647LL - 1)
        return ml_error(s, false, ln, "priority does not fit in an int");
    li->prio = (int)prio;
    if (!has_prefix(l + p, len - p, ", "))
        return ml_error(s, false, ln, "expected ', TYPE): NAME' after the priority");
    p += 2;
    ts = p;
    while (p < len && l[p] != ')')
        p++;
    if (!has_prefix(l + p, len - p, "): "))
        return ml_error(s, false, ln, "expected '): NAME' after the region type");
    if (parse_type(l + ts, p - ts, &li->type, &li->nv))
        return ml_error(s, false, ln, "unknown region type '%.*s': expected i/o, ram, rom, romd or ramd, optionally prefixed by nv-",
                        (int)(p - ts > 40 ? 40 : p - ts), l + ts);
    p += 3;

    /* Sizes: END is inclusive; 0..ffffffffffffffff (or a wrap) is 2^64. */
    if (li->end < li->start && !li->overflow)
        return ml_error(s, false, ln, "end address %016llx is below start address %016llx",
                        (unsigned long long)li->end, (unsigned long long)li->start);
    li->size = li->end - li->start + 1;
    if (li->size == 0)
        li->size = MT_SIZE_FULL;

    /* REST: NAME or "alias NAME @TARGET AOFF-AOFFEND", maybe " [disabled]". */
    li->name = l + p;
    li->name_len = len - p;
    if (has_suffix(li->name, li->name_len, DISABLED_SUFFIX)) {
        li->disabled = true;
        li->name_len -= strlen(DISABLED_SUFFIX);
    }
    if (has_prefix(li->name, li->name_len, "alias ")) {
        const char *r = li->name + 6;
        size_t rl = li->name_len - 6, sp = rl;
        uint64_t aend, want;

        while (sp > 0 && r[sp - 1] != ' ')
            sp--;
        if (sp == 0 || !parse_window(r + sp, rl - sp, &li->aoff, &aend) ||
            !memmem(r, sp - 1, " @", 2))
            return ml_error(s, false, ln, "malformed alias: expected 'alias NAME @TARGET START-END' after '): '");
        want = li->aoff + (li->size == MT_SIZE_FULL ? UINT64_MAX : li->size - 1);
        if (aend != want)
            return ml_error(s, false, ln, "alias window %016llx-%016llx does not match the region size (expected end %016llx)",
                            (unsigned long long)li->aoff, (unsigned long long)aend,
                            (unsigned long long)want);
        li->alias = true;
        li->name = r;
        li->name_len = sp - 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Tree building                                                             */
/* ------------------------------------------------------------------------ */

struct parse_ctx {
    uint32_t unit;         /* open block or ML_NONE */
    bool as_group_open;    /* the previous line was an address-space: header */
    uint32_t *stack;       /* node at each level (index level - 1) */
    size_t cap_stack;
    uint32_t depth;
};

static int new_node(ml_state *s, uint32_t *out)
{
    ml_node *n;

    if (s->nr_nodes >= ML_NONE - 1)
        return MT_ENOMEM;
    if (ml_grow((void **)&s->nodes, &s->cap_nodes, s->nr_nodes + 1, sizeof(*s->nodes)))
        return MT_ENOMEM;
    n = &s->nodes[s->nr_nodes];
    memset(n, 0, sizeof(*n));
    n->parent = n->first_child = n->last_child = n->next_sibling = ML_NONE;
    n->target_nid = n->target_mr = n->cls = ML_NONE;
    *out = (uint32_t)s->nr_nodes++;
    return 0;
}

/* Attach node @c under @p (ML_NONE: @c is the block root) at @level. */
static int place_node(ml_state *s, struct parse_ctx *pc, uint32_t c,
                      uint32_t level)
{
    ml_node *n = &s->nodes[c];
    ml_unit *u = &s->units[pc->unit];

    n->level = level;
    n->unit = pc->unit;
    if (level == 1) {
        u->root = c;
        n->addr = n->start;
    } else {
        uint32_t p = pc->stack[level - 2];
        ml_node *pn = &s->nodes[p];

        n->parent = p;
        n->addr = n->start - pn->start;
        if (pn->last_child == ML_NONE)
            pn->first_child = c;
        else
            s->nodes[pn->last_child].next_sibling = c;
        pn->last_child = c;
        pn->nr_children++;
    }
    if (ml_grow((void **)&pc->stack, &pc->cap_stack, level, sizeof(*pc->stack)))
        return MT_ENOMEM;
    pc->stack[level - 1] = c;
    pc->depth = level;
    return 0;
}

/* A disabled placeholder at @level for a region a plain dump does not show. */
static int add_placeholder(ml_state *s, struct parse_ctx *pc, uint32_t level,
                           uint32_t ln)
{
    ml_unit *u = &s->units[pc->unit];
    uint32_t c;
    ml_node *n;
    int rc = new_node(s, &c);

    if (rc)
        return rc;
    n = &s->nodes[c];
    n->line = ln;
    n->disabled = true;
    n->type = ML_T_IO;
    if (level == 1) {
        n->synth = u->mr ? ML_HEADER : ML_HIDDEN;
        n->name = u->mr ? u->name : HIDDEN_NAME;
        n->start = 0;
    } else {
        n->synth = ML_HIDDEN;
        n->name = HIDDEN_NAME;
        n->start = s->nodes[pc->stack[level - 2]].start;
    }
    n->size = MT_SIZE_FULL; /* inner placeholders are fitted after parsing */
    return place_node(s, pc, c, level);
}

/* Close the open block: it must have a root (a placeholder in plain dumps). */
static int close_unit(ml_state *s, struct parse_ctx *pc)
{
    ml_unit *u;
    int rc;

    if (pc->unit == ML_NONE)
        return 0;
    u = &s->units[pc->unit];
    if (u->root == ML_NONE) {
        const char *what = u->mr ? u->name : s->as_names[u->names + u->nr_names - 1].name;

        if (s->strict)
            return ml_error(s, false, u->line, "%s '%.60s' has no region lines: expected '  START-END (prio P, TYPE): NAME' after the header",
                            u->mr ? "memory-region" : "address-space", what);
        rc = add_placeholder(s, pc, 1, u->line);
        if (rc)
            return rc;
    }
    u->end = (uint32_t)s->nr_nodes;
    pc->unit = ML_NONE;
    pc->depth = 0;
    pc->as_group_open = false;
    return 0;
}

static int open_unit(ml_state *s, struct parse_ctx *pc, bool mr, uint32_t ln,
                     const char *name)
{
    ml_unit *u;

    if (s->nr_units >= ML_NONE - 1 ||
        ml_grow((void **)&s->units, &s->cap_units, s->nr_units + 1, sizeof(*s->units)))
        return MT_ENOMEM;
    u = &s->units[s->nr_units];
    memset(u, 0, sizeof(*u));
    u->mr = mr;
    u->line = ln;
    u->name = mr ? name : NULL;
    u->names = (uint32_t)s->nr_as_names;
    u->root = u->nid = u->next_same = ML_NONE;
    u->first = u->end = (uint32_t)s->nr_nodes;
    pc->unit = (uint32_t)s->nr_units++;
    pc->depth = 0;
    if (!mr)
        s->nr_as_units++;
    return 0;
}

static int add_as_name(ml_state *s, const char *name, uint32_t ln)
{
    if (ml_grow((void **)&s->as_names, &s->cap_as_names, s->nr_as_names + 1,
                sizeof(*s->as_names)))
        return MT_ENOMEM;
    s->as_names[s->nr_as_names].name = name;
    s->as_names[s->nr_as_names].line = ln;
    s->nr_as_names++;
    s->units[s->nr_units - 1].nr_names++;
    return 0;
}

static int header_line(ml_state *s, struct parse_ctx *pc, const char *l,
                       size_t len, uint32_t ln, bool mr)
{
    char *name = arena_copy(s, l + HEADER_LEN, len - HEADER_LEN);
    int rc;

    if (!name)
        return MT_ENOMEM;
    if (!mr && pc->as_group_open)
        return add_as_name(s, name, ln); /* another AS sharing the next root */
    rc = close_unit(s, pc);
    if (rc)
        return rc;
    if (!mr && s->nr_units > s->nr_as_units)
        return ml_error(s, false, ln, "'address-space:' after a 'memory-region:' block: QEMU prints every address space first");
    rc = open_unit(s, pc, mr, ln, name);
    if (rc)
        return rc;
    if (!mr) {
        pc->as_group_open = true;
        return add_as_name(s, name, ln);
    }
    return 0;
}

static int region_line(ml_state *s, struct parse_ctx *pc, const char *l,
                       size_t len, uint32_t ln)
{
    struct line_info li;
    uint32_t c, level;
    ml_node *n;
    int rc;

    if (pc->unit == ML_NONE)
        return ml_error(s, false, ln, "region line outside a block: expected 'address-space: NAME' or 'memory-region: NAME' before it");
    rc = parse_region_line(s, l, len, ln, &li);
    if (rc)
        return rc;
    pc->as_group_open = false;
    level = li.level;
    if (level == 1 && s->units[pc->unit].root != ML_NONE)
        return ml_error(s, false, ln, "second root region in the block that starts on line %u: expected at least two more spaces of indentation",
                        s->units[pc->unit].line);
    if (level > pc->depth + 1) {
        /* A jump: in a plain dump, hidden disabled regions sit in between. */
        if (s->strict && pc->depth == 0)
            return ml_error(s, false, ln, "expected the block's root region at indentation 2 (level 1), got %u spaces",
                            2 * level);
        if (s->strict)
            return ml_error(s, false, ln, "indentation jumps from level %u to level %u: expected at most %u spaces",
                            pc->depth, level, 2 * (pc->depth + 1));
        while (pc->depth + 1 < level) {
            rc = add_placeholder(s, pc, pc->depth + 1, ln);
            if (rc)
                return rc;
        }
    }
    if (level >= 2 && !li.overflow && li.start < s->nodes[pc->stack[level - 2]].start) {
        /*
         * QEMU never prints a child below its parent without the overflow
         * marker. In a plain dump the line belongs to a hidden disabled
         * sibling of its apparent parent.
         */
        if (s->strict || level < 3 || li.start < s->nodes[pc->stack[level - 3]].start)
            return ml_error(s, false, ln, "region starts at %016llx, below its parent's start %016llx",
                            (unsigned long long)li.start,
                            (unsigned long long)s->nodes[pc->stack[level - 2]].start);
        rc = add_placeholder(s, pc, level - 1, ln);
        if (rc)
            return rc;
    }
    rc = new_node(s, &c);
    if (rc)
        return rc;
    n = &s->nodes[c];
    n->line = ln;
    n->start = li.start;
    n->size = li.size;
    n->prio = li.prio;
    n->type = li.type;
    n->nv = li.nv;
    n->disabled = li.disabled;
    n->overflow = li.overflow;
    n->alias = li.alias;
    n->aoff = li.aoff;
    n->name = arena_copy(s, li.name, li.name_len);
    if (!n->name)
        return MT_ENOMEM;
    n->alias_len = li.alias ? li.name_len : 0;
    return place_node(s, pc, c, level);
}

/* Does any region line end with " [disabled]" (an `info mtree -D` dump)? */
static bool dump_is_strict(const char *d, size_t len)
{
    size_t i = 0;

    while (i < len) {
        const char *nl = memchr(d + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - d) : len;
        size_t l = e - i;

        if (l && d[i + l - 1] == '\r')
            l--;
        if (l && d[i] != 'a' && d[i] != 'm' && has_suffix(d + i, l, DISABLED_SUFFIX))
            return true;
        i = e + 1;
    }
    return false;
}

/* Sizes of inner placeholders: just enough to cover their children. */
static void fit_placeholders(ml_state *s)
{
    for (size_t i = s->nr_nodes; i-- > 0;) {
        ml_node *n = &s->nodes[i];
        uint64_t size = 1;

        n->end = n->last_child == ML_NONE ? (uint32_t)i + 1 : s->nodes[n->last_child].end;
        if (n->synth != ML_HIDDEN || n->parent == ML_NONE)
            continue;
        for (uint32_t c = n->first_child; c != ML_NONE; c = s->nodes[c].next_sibling) {
            const ml_node *k = &s->nodes[c];

            if (k->size == MT_SIZE_FULL || k->addr > UINT64_MAX - k->size ||
                k->addr + k->size == MT_SIZE_FULL) {
                size = MT_SIZE_FULL;
                break;
            }
            if (k->addr + k->size > size)
                size = k->addr + k->size;
        }
        n->size = size;
    }
}

int ml_parse_dump(ml_state *s, const char *dump, size_t len)
{
    struct parse_ctx pc = { .unit = ML_NONE };
    uint32_t ln = 0;
    size_t i = 0;
    int rc = 0;

    s->strict = dump_is_strict(dump, len);
    s->arena_cap = len + 1;
    s->arena = malloc(s->arena_cap);
    if (!s->arena)
        return MT_ENOMEM;
    while (i < len && rc == 0) {
        const char *l = dump + i;
        const char *nl = memchr(l, '\n', len - i);
        size_t ll = nl ? (size_t)(nl - l) : len - i;

        i += ll + 1;
        if (ln == ML_NONE - 1) {
            rc = ml_error(s, false, ln, "dump has too many lines");
            break;
        }
        ln++;
        if (ll && l[ll - 1] == '\r')
            ll--;
        if (memchr(l, '\0', ll)) {
            rc = ml_error(s, false, ln, "NUL byte in the line: expected text");
        } else if (ll == 0) {
            rc = close_unit(s, &pc);
        } else if (has_prefix(l, ll, AS_HEADER)) {
            rc = header_line(s, &pc, l, ll, ln, false);
        } else if (has_prefix(l, ll, MR_HEADER)) {
            rc = header_line(s, &pc, l, ll, ln, true);
        } else if (l[0] == ' ' || has_prefix(l, ll, OVERFLOW_PREFIX)) {
            rc = region_line(s, &pc, l, ll, ln);
        } else {
            rc = ml_error(s, false, ln, "expected 'address-space: NAME', 'memory-region: NAME', an indented region line or a blank line");
        }
    }
    s->nr_dump_lines = ln;
    if (rc == 0)
        rc = close_unit(s, &pc);
    free(pc.stack);
    if (rc)
        return rc;
    if (s->nr_as_units == 0)
        return ml_error(s, false, len ? 1 : 0, "the dump has no 'address-space: NAME' block");
    fit_placeholders(s);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Facts                                                                     */
/* ------------------------------------------------------------------------ */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

int ml_parse_facts(ml_state *s, const char *facts, size_t len,
                   int (*apply)(ml_state *s, int kind, const char *name,
                                uint32_t line))
{
    static const struct { const char *word; int kind; } kinds[] = {
        { "terminates", ML_F_TERMINATES }, { "container", ML_F_CONTAINER },
        { "readonly", ML_F_READONLY }, { "dirty-log", ML_F_DIRTY_LOG },
    };
    uint32_t ln = 0;
    size_t i = 0;
    char *buf = NULL;
    size_t cap = 0;
    int rc = 0;

    while (i < len && rc == 0) {
        const char *l = facts + i;
        const char *nl = memchr(l, '\n', len - i);
        size_t ll = nl ? (size_t)(nl - l) : len - i;
        size_t p = 0, ks, ke;
        int kind = 0;

        i += ll + 1;
        if (ln == ML_NONE - 1)
            return ml_error(s, true, ln, "facts have too many lines");
        ln++;
        while (ll && is_blank(l[ll - 1]))
            ll--;
        while (p < ll && is_blank(l[p]))
            p++;
        if (p == ll || l[p] == '#')
            continue;
        if (memchr(l, '\0', ll)) {
            rc = ml_error(s, true, ln, "NUL byte in the line: expected text");
            break;
        }
        ks = p;
        while (p < ll && !is_blank(l[p]))
            p++;
        ke = p;
        for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
            if (strlen(kinds[k].word) == ke - ks && !memcmp(kinds[k].word, l + ks, ke - ks))
                kind = kinds[k].kind;
        if (!kind) {
            rc = ml_error(s, true, ln, "unknown fact '%.*s': expected terminates, container, readonly or dirty-log followed by a region name",
                          (int)(ke - ks > 40 ? 40 : ke - ks), l + ks);
            break;
        }
        while (p < ll && is_blank(l[p]))
            p++;
        if (p == ll) {
            rc = ml_error(s, true, ln, "expected a region name after '%.*s'", (int)(ke - ks), l + ks);
            break;
        }
        if (ml_grow((void **)&buf, &cap, ll - p + 1, 1)) {
            rc = MT_ENOMEM;
            break;
        }
        memcpy(buf, l + p, ll - p);
        buf[ll - p] = '\0';
        rc = apply(s, kind, buf, ln);
    }
    free(buf);
    return rc;
}
