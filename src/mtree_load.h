/* SPDX-License-Identifier: MIT */
/*
 * mtree_load.h: internal interface between the phases of mt_mtree_load():
 * the `info mtree` dump parser (mtree_parse.c), the driver with the name
 * table (mtree_load.c), identity (mtree_load_identify.c), alias targets
 * (mtree_load_alias.c), facts (mtree_load_facts.c) and the tree builder
 * (mtree_load_build.c). Nothing here is public: mt_mtree_load() in
 * memtree.h is the only entry point. docs/mtree-format.md describes the
 * accepted input.
 */
#ifndef MT_MTREE_LOAD_H
#define MT_MTREE_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memtree.h"

/* "No index" for every uint32_t index below. */
#define ML_NONE UINT32_MAX

/* The type word of a region line (without the nv- prefix). */
enum ml_type {
    ML_T_IO,   /* i/o: container, MMIO, rom device in MMIO mode ... */
    ML_T_RAM,  /* ram */
    ML_T_ROM,  /* rom: read-only RAM */
    ML_T_ROMD, /* romd: rom device in ROMD mode */
    ML_T_RAMD, /* ramd: RAM device */
};

/* Kinds of synthetic (not printed) node, for plain `info mtree` dumps. */
enum ml_synth {
    ML_REAL = 0,    /* a printed line */
    ML_HIDDEN = 1,  /* a hidden disabled region implied by an indentation jump */
    ML_HEADER = 2,  /* a hidden disabled block root named by its block header */
};

/*
 * One printed region line (or a synthetic placeholder). Nodes are stored in
 * print order, so every subtree is the contiguous index range
 * [i, end). Addresses: @start is the absolute address printed, @addr the
 * address within the printed parent (for a block root: @start).
 */
typedef struct ml_node {
    uint32_t line;         /* 1-based dump line */
    uint32_t level;        /* 1 for a block root */
    uint32_t unit;         /* block (ml_unit) index */
    uint32_t parent;       /* ML_NONE for a block root */
    uint32_t first_child, last_child, next_sibling;
    uint32_t nr_children;
    uint32_t end;          /* one past the last node of the subtree */
    uint32_t kids;         /* offset of the children in ml_state.kids */
    uint64_t start;        /* printed START */
    uint64_t size;         /* MT_SIZE_FULL means 2^64 */
    uint64_t addr;         /* within the parent (root: start) */
    uint64_t aoff;         /* alias offset into the target */
    int prio;
    uint8_t type;          /* enum ml_type; for an alias its final target's */
    uint8_t synth;         /* enum ml_synth */
    bool nv, disabled, alias, overflow;
    const char *name;      /* NUL-terminated; an alias's own name */
    const char *target;    /* alias: target name (after the split) */
    size_t alias_len;      /* alias: length of "NAME @TARGET" before the split */
    uint32_t target_nid;   /* alias: name id of the target's block name */
    uint32_t target_mr;    /* alias: resolved memory-region block number */
    uint64_t hash;         /* structural hash of the subtree */
    uint32_t cls;          /* primary node (first print) of this object */
} ml_node;

/* One block: an `address-space:` group with its tree or a `memory-region:`. */
typedef struct ml_unit {
    bool mr;               /* memory-region block */
    uint32_t line;         /* header line (first header of an AS group) */
    const char *name;      /* memory-region: the header name */
    uint32_t names;        /* address-space: first index into as_names */
    uint32_t nr_names;
    uint32_t root;         /* root node, ML_NONE while parsing */
    uint32_t first, end;   /* node range */
    uint32_t nid;          /* memory-region: name id (first block of that name) */
    uint32_t next_same;    /* memory-region: next block with the same name */
} ml_unit;

typedef struct ml_as_name {
    const char *name;
    uint32_t line;
} ml_as_name;

/* Facts attached to an object (a class primary). */
typedef struct ml_fact {
    uint8_t io;            /* 0 none, 1 terminates, 2 container */
    bool readonly, dirty_log;
    uint32_t io_line;      /* facts line of @io */
} ml_fact;

/* Plain dumps: a block queued by an alias the dump does not show. */
struct ml_hidden {
    uint32_t after;        /* the last line that queued a block, or ML_NONE */
    uint32_t before;       /* the line by which the block was queued */
    uint32_t mr;           /* memory-region block number */
};

typedef struct ml_state {
    mt_ctx *ctx;
    mt_load_error *err;
    bool strict;           /* an `info mtree -D` dump (has " [disabled]") */

    char *arena;           /* NUL-terminated copies of names */
    size_t arena_used, arena_cap;

    ml_node *nodes;
    size_t nr_nodes, cap_nodes;
    ml_unit *units;
    size_t nr_units, cap_units;
    size_t nr_as_units;    /* address-space blocks come first */
    ml_as_name *as_names;
    size_t nr_as_names, cap_as_names;
    uint32_t nr_dump_lines;

    /* memory-region name table (open addressing; unit index per slot). */
    uint32_t *mr_table;
    size_t mr_table_cap;

    uint32_t *kids;        /* children of each node, in print order */
    ml_fact *facts;        /* per node; meaningful on class primaries */
    uint32_t *byname;      /* nodes with a name, sorted by name (facts) */
    size_t nr_byname;
    struct ml_hidden *hidden;
    size_t nr_hidden, cap_hidden;
} ml_state;

/* Fill @s->err (in the dump when !@in_facts) and return MT_EPARSE. */
int ml_error(ml_state *s, bool in_facts, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Grow *@p (of *@cap elements of @elem bytes) to hold @need. 0 or MT_ENOMEM. */
int ml_grow(void **p, size_t *cap, size_t need, size_t elem);

/* Hash of a string read from its end, as used by the name table. */
uint64_t ml_rev_hash_step(uint64_t h, unsigned char c);
#define ML_REV_HASH_SEED 0xcbf29ce484222325ULL

/* Parse the dump into units and nodes (mtree_parse.c). */
int ml_parse_dump(ml_state *s, const char *dump, size_t len);

/*
 * Parse the facts text and call @apply for each fact line (mtree_parse.c).
 * @kind is 1 terminates, 2 container, 3 readonly, 4 dirty-log; @name is
 * NUL-terminated (a temporary copy).
 */
enum ml_fact_kind { ML_F_TERMINATES = 1, ML_F_CONTAINER, ML_F_READONLY, ML_F_DIRTY_LOG };
int ml_parse_facts(ml_state *s, const char *facts, size_t len,
                   int (*apply)(ml_state *s, int kind, const char *name,
                                uint32_t line));

/* Hash of s[0..len) read from its end (ml_rev_hash_step) (mtree_load.c). */
uint64_t mt__ml_rev_hash(const char *s, size_t len);

/* Order of node indices @a and @b: negative, 0 or positive. */
typedef int (*ml_cmp)(const ml_state *s, uint32_t a, uint32_t b);

/*
 * Sort node indices @v by @cmp, which must be a total order (ties broken
 * by index); heapsort, in place, no allocation (mtree_load.c).
 */
void mt__ml_sort(uint32_t *v, size_t n, ml_cmp cmp, const ml_state *s);

/* Fill ml_state.kids and every node's hash (mtree_load_identify.c). */
int mt__ml_compute_structure(ml_state *s);

/* Set every node's cls, its object's first print (mtree_load_identify.c). */
int mt__ml_identify(ml_state *s);

/* Memory-region block number @k, counted from 0 (mtree_load_alias.c). */
const ml_unit *mt__ml_mr_unit(const ml_state *s, uint32_t k);

/* Set every alias's target_mr; fill ml_state.hidden (mtree_load_alias.c). */
int mt__ml_resolve_alias_targets(ml_state *s);

/* Is type @t (enum ml_type) backed by RAM? (mtree_load_facts.c) */
bool mt__ml_ram_backed(uint8_t t);

/* Index the nodes by name and apply the facts text (mtree_load_facts.c). */
int mt__ml_load_facts(ml_state *s, const char *facts, size_t len);

/* Building (mtree_load_build.c): what was created and mapped, for the undo. */
struct mapping {
    mt_region *parent, *child;
};

struct build {
    mt_region **obj;          /* per node: the region of a class primary */
    bool *mapped;             /* per class primary: printed inside a parent */
    uint32_t *mark;           /* per node: alias chain being walked (p + 1) */
    mt_region **created;      /* creation order, for the undo */
    size_t nr_created, cap_created;
    mt_region **backing;      /* hidden RAM behind ramd regions (kept) */
    size_t nr_backing, cap_backing;
    struct mapping *maps;
    size_t nr_maps, cap_maps;
    mt_as **as;
    size_t nr_as, cap_as;
    uint32_t *order;          /* scratch: children in add order */
    size_t cap_order;
};

/* Create the regions and address spaces of @s, recorded in @b (zeroed). */
int mt__ml_build(ml_state *s, struct build *b);

/* Take out everything @b created and mapped, in reverse order. */
void mt__ml_undo_build(struct build *b);

/* Free @b's arrays (not the regions). */
void mt__ml_free_build(struct build *b);

#endif /* MT_MTREE_LOAD_H */
