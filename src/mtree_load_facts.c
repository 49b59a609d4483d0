/* SPDX-License-Identifier: MIT */
/*
 * mtree_load_facts.c: phase 5 of mt_mtree_load(), the facts text.
 *
 * Indexes the printed nodes by name, matches each fact's "A>B>...>NAME"
 * against the printed paths and records terminates / container / readonly
 * / dirty-log on the object's class primary (ml_state.facts), with the
 * errors of docs/mtree-format.md. mtree_parse.c reads the fact lines.
 */
#include <stdlib.h>
#include <string.h>

#include "mtree_load.h"

/* Order of nodes by name then index, for fact lookups. */
static int cmp_name_idx(const ml_state *s, uint32_t a, uint32_t b)
{
    int c = strcmp(s->nodes[a].name, s->nodes[b].name);

    return c ? c : (a < b ? -1 : a > b);
}

/* strcmp(@n, s[0..len)) for a NUL-terminated @n. */
static int cmp_name_str(const char *n, const char *str, size_t len)
{
    int c = strncmp(n, str, len);

    if (c == 0 && n[len] != '\0')
        c = 1;
    return c;
}

/* First position in s->byname of nodes named s[0..len), and their count. */
static size_t name_range(const ml_state *s, const char *str, size_t len,
                         size_t *count)
{
    size_t lo = 0, hi = s->nr_byname, first;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (cmp_name_str(s->nodes[s->byname[mid]].name, str, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    first = lo;
    while (lo < s->nr_byname && cmp_name_str(s->nodes[s->byname[lo]].name, str, len) == 0)
        lo++;
    *count = lo - first;
    return first;
}

/* Does node @x match "A>B>...>NAME" (each '>' steps to the printed parent)? */
static bool spec_matches(const ml_state *s, uint32_t x, const char *spec, size_t len)
{
    while (x != ML_NONE) {
        const char *name = s->nodes[x].name;
        size_t nl = strlen(name);

        if (nl == len && memcmp(name, spec, len) == 0)
            return true;
        if (nl >= len || spec[len - nl - 1] != '>' || memcmp(spec + len - nl, name, nl) != 0)
            return false;
        len -= nl + 1;
        x = s->nodes[x].parent;
    }
    return false;
}

bool mt__ml_ram_backed(uint8_t t)
{
    return t == ML_T_RAM || t == ML_T_ROM || t == ML_T_ROMD || t == ML_T_RAMD;
}

/*
 * Apply one fact to every object with a print that matches @spec:
 * - terminates / container: to non-alias i/o regions (terminates is
 *   accepted and has no effect on RAM kinds, which always terminate);
 * - readonly: to any region or alias;
 * - dirty-log: to non-alias RAM-backed regions.
 * A name that matches nothing is an error in an `info mtree -D` dump; in a
 * plain dump it is ignored, as it may name a hidden disabled region.
 */
static int apply_fact(ml_state *s, int kind, const char *spec, uint32_t line)
{
    static const char *const kn[] = { "", "terminates", "container", "readonly", "dirty-log" };
    size_t len = strlen(spec), matched = 0, applied = 0;
    bool only_alias = true;

    /* Candidates: nodes named like the whole spec or a part after a '>'. */
    for (size_t cut = 0; cut <= len; cut++) {
        size_t first, count;

        if (cut && spec[cut - 1] != '>')
            continue;
        first = name_range(s, spec + cut, len - cut, &count);
        for (size_t j = first; j < first + count; j++) {
            uint32_t x = s->byname[j];
            const ml_node *n = &s->nodes[x];
            ml_fact *fa = &s->facts[n->cls];

            if (!spec_matches(s, x, spec, len))
                continue;
            matched++;
            if (!n->alias)
                only_alias = false;
            if (kind == ML_F_READONLY) {
                fa->readonly = true;
                applied++;
            } else if (kind == ML_F_DIRTY_LOG) {
                if (!n->alias && mt__ml_ram_backed(n->type)) {
                    fa->dirty_log = true;
                    applied++;
                }
            } else if (!n->alias && n->type != ML_T_IO) {
                if (kind == ML_F_TERMINATES)
                    applied++; /* RAM kinds always terminate */
            } else if (!n->alias) {
                uint8_t want = kind == ML_F_TERMINATES ? 1 : 2;

                if (fa->io && fa->io != want)
                    return ml_error(s, true, line, "'%s %.60s' contradicts '%s' on line %u",
                                    kn[kind], spec, kn[fa->io], fa->io_line);
                fa->io = want;
                fa->io_line = line;
                applied++;
            }
        }
    }
    if (applied)
        return 0;
    if (!matched) {
        if (!s->strict)
            return 0;
        return ml_error(s, true, line, "no region named '%.80s' in the dump", spec);
    }
    if (only_alias)
        return ml_error(s, true, line, "'%.60s' names only aliases: '%s' applies to %s", spec, kn[kind],
                        kind == ML_F_DIRTY_LOG ? "RAM regions" : "i/o regions");
    if (kind == ML_F_DIRTY_LOG)
        return ml_error(s, true, line, "'%.60s' is not a RAM region: dirty-log applies to ram, rom, romd and ramd regions", spec);
    return ml_error(s, true, line, "'%.60s' is not an i/o region: only i/o regions can be containers", spec);
}

int mt__ml_load_facts(ml_state *s, const char *facts, size_t len)
{
    s->facts = calloc(s->nr_nodes ? s->nr_nodes : 1, sizeof(*s->facts));
    s->byname = malloc((s->nr_nodes ? s->nr_nodes : 1) * sizeof(*s->byname));
    if (!s->facts || !s->byname)
        return MT_ENOMEM;
    for (size_t i = 0; i < s->nr_nodes; i++)
        if (s->nodes[i].synth != ML_HIDDEN)
            s->byname[s->nr_byname++] = (uint32_t)i;
    mt__ml_sort(s->byname, s->nr_byname, cmp_name_idx, s);
    if (!facts || !len)
        return 0;
    return ml_parse_facts(s, facts, len, apply_fact);
}
