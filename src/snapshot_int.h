/* SPDX-License-Identifier: MIT */
/*
 * snapshot_int.h: what the snapshot files share (never installed).
 *
 *   snapshot.c         the object: take, free, getters, arming
 *   snapshot_index.c   region records: names, the name index, structure checks
 *   snapshot_match.c   records <-> live regions, and restoring region state
 *   snapshot_restore.c full restore and dirty-page reset of memory
 *   snapshot_sum.c     the 64-bit checksum
 *   snapshot_stream.c  framed, checksummed sections over an fd or a buffer;
 *                      page runs (reusable by migration streams)
 *   snapshot_file.c    the file format: save and load
 *
 * docs/snapshot.md describes the format and the rules.
 */
#ifndef MT_SNAPSHOT_INT_H
#define MT_SNAPSHOT_INT_H

#include <stdarg.h>

#include "internal.h"

#define MT__SNAP_NONE UINT32_MAX
#define MT__SNAP_PAGE ((uint64_t)MT_DIRTY_PAGE_SIZE)
#define MT__SNAP_PAGE_SHIFT 12

/* Region flags, in memory and in the file. */
#define MT__SR_ENABLED     0x01u
#define MT__SR_READONLY    0x02u
#define MT__SR_NONVOLATILE 0x04u
#define MT__SR_ROMD        0x08u
#define MT__SR_NAMED       0x10u /* has a name (else NULL) */
#define MT__SR_ALL         0x1fu

/* Limits of what a snapshot (and so a file) may hold. */
#define MT__SNAP_MAX_REGIONS (1u << 24)
#define MT__SNAP_MAX_NAME 4096u
#define MT__SNAP_MAX_BYTES (UINT64_C(1) << 40)  /* per block */

/* One region, as captured. */
typedef struct mt__snap_region {
    const char *name;       /* in the names arena, NUL-terminated; NULL if unnamed */
    uint32_t name_len;
    uint32_t kind;          /* mt_region_kind */
    uint32_t flags;         /* MT__SR_* */
    uint32_t container;     /* index of the container, or NONE when unmapped */
    uint32_t rank;          /* position among the container's subregions, winning order */
    uint32_t alias_target;  /* index, or NONE for non-aliases */
    int32_t priority;
    uint32_t block;         /* index in blocks, or NONE */
    uint32_t next_same;     /* next region (creation order) of the same name, or NONE */
    uint64_t size;          /* as the API gives it (MT_SIZE_FULL = 2^64) */
    uint64_t addr;
    uint64_t alias_offset;
} mt__snap_region;

/* One RAM block, as captured. */
typedef struct mt__snap_block {
    uint32_t region;        /* its record */
    uint64_t bytes;         /* size rounded up to a page */
    uint64_t npages;
    uint8_t *data;          /* anonymous mapping of @bytes (NULL when 0) */
    uint64_t *present;      /* bit per page: holds data (clear: all zeros) */
} mt__snap_block;

struct mt_snapshot {
    mt_allocator alloc;     /* copied from the context it was made with */
    uint32_t nr_regions;
    uint32_t nr_blocks;
    mt__snap_region *regions;   /* creation order */
    mt__snap_block *blocks;     /* in region order */
    char *names;                /* arena of the names */
    uint64_t *bitmaps;          /* arena of the blocks' present bitmaps */
    uint32_t *index;            /* name hash: first record of a name, or NONE */
    uint32_t index_mask;        /* slots - 1 */
    mt_ctx *armed;              /* context it tracks, or NULL */
};

/* Kinds whose memory is captured (RAM and ROM, ROM devices). */
static inline bool mt__snap_kind_has_block(uint32_t kind)
{
    return kind == MT_REGION_RAM || kind == MT_REGION_ROM_DEVICE;
}

/* Kinds that may hold subregions. */
static inline bool mt__snap_kind_is_parent(uint32_t kind)
{
    return kind == MT_REGION_CONTAINER || kind == MT_REGION_IO ||
           kind == MT_REGION_ROM_DEVICE || kind == MT_REGION_ALIAS;
}

static inline uint64_t mt__snap_words(uint64_t npages)
{
    return (npages + 63) / 64;
}

static inline bool mt__snap_bit(const uint64_t *map, uint64_t i)
{
    return map[i / 64] >> (i % 64) & 1;
}

/* Errors (snapshot.c): fill @err (may be NULL) and return @code. */
int mt__snap_fail(mt_snapshot_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Clear @err (success). */
void mt__snap_ok(mt_snapshot_error *err);
/* A region name for messages: "(null)" for NULL. */
const char *mt__snap_show(const char *name);

/* Allocation through the snapshot's copy of the context's hooks. */
void *mt__snap_alloc(const mt_snapshot *s, size_t size);
void *mt__snap_zalloc(const mt_snapshot *s, size_t size);
void mt__snap_free(const mt_snapshot *s, void *p);
/* A new empty snapshot using @alloc; NULL when out of memory. */
mt_snapshot *mt__snap_new(const mt_allocator *alloc);
/* Arm @snap on @ctx: start global dirty logging and commit it (not
 * inside a transaction; MT_EBUSY when logging is on already). */
int mt__snap_arm(mt_ctx *ctx, mt_snapshot *snap, mt_snapshot_error *err);
/* Anonymous zero-filled memory for block data (reserved, not committed). */
uint8_t *mt__snap_map(uint64_t bytes);
void mt__snap_unmap(uint8_t *p, uint64_t bytes);
/* Is the page at @p all zeros? */
bool mt__snap_page_zero(const uint8_t *p);

/* Records (snapshot_index.c). Allocate the regions array, the names
 * arena (@name_bytes, terminators included) and later the blocks. */
int mt__snap_alloc_regions(mt_snapshot *s, uint32_t n, size_t name_bytes);
/* Blocks of every record of a block kind, with their present bitmaps
 * (zeroed) and, when @map, their data mappings. */
int mt__snap_alloc_blocks(mt_snapshot *s, bool map, mt_snapshot_error *err);
/* Build the name index; MT_EINVAL when two block records share a name. */
int mt__snap_build_index(mt_snapshot *s, mt_snapshot_error *err);
/* First record named @name (NULL: unnamed), or NONE; *@slot gets its slot. */
uint32_t mt__snap_lookup(const mt_snapshot *s, const char *name,
                         uint32_t *slot);
/* Structure checks of records from untrusted input (MT_EPARSE). */
int mt__snap_check_records(const mt_snapshot *s, mt_snapshot_error *err);

/* Matching (snapshot_match.c): @map[i] gets the live region of record i. */
int mt__snap_match(mt_ctx *ctx, const mt_snapshot *s, mt_region **map,
                   mt_snapshot_error *err);
/* Apply the recorded region state (caller holds a transaction). */
int mt__snap_apply_state(mt_ctx *ctx, const mt_snapshot *s, mt_region **map);

/* Memory (snapshot_restore.c). Sync every address space's dirty log. */
void mt__snap_sync(mt_ctx *ctx);
/* Drop the MIGRATION bits of every block's live region. */
void mt__snap_clear_tracking(const mt_snapshot *s, mt_region **map);

/* The checksum (snapshot_sum.c): 64 bits, streaming. Any change confined
 * to one aligned 8-byte word of the input changes the sum. */
typedef struct mt__sum {
    uint64_t v[4];
    uint64_t total;
    uint64_t seed;
    uint8_t buf[32];
    size_t nbuf;
} mt__sum;

void mt__sum_init(mt__sum *s, uint64_t seed);
void mt__sum_add(mt__sum *s, const void *p, size_t n);
uint64_t mt__sum_final(const mt__sum *s);
uint64_t mt__sum64(uint64_t seed, const void *p, size_t n);

/* Little-endian fields. */
static inline void mt__put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void mt__put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t mt__get32(const uint8_t *p)
{
    uint32_t v = 0;

    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static inline uint64_t mt__get64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* ---- streams (snapshot_stream.c) ---------------------------------------- */

/*
 * A stream is a file header followed by sections; each section is a
 * 16-byte header (type, sequence number, payload length), the payload and
 * the checksum of both. The end section carries the count of sections and
 * a checksum chained over every earlier checksum, so a dropped, repeated
 * or reordered section is caught too (docs/snapshot.md).
 */
#define MT__SNAP_HEADER_SIZE 32u
#define MT__SNAP_SECTION_HEAD 16u
#define MT__SNAP_TAG(a, b, c, d)                                         \
    ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 |          \
     (uint32_t)(d) << 24)
#define MT__SNAP_SEC_REGIONS MT__SNAP_TAG('R', 'G', 'N', 'S')
#define MT__SNAP_SEC_PAGES   MT__SNAP_TAG('P', 'A', 'G', 'E')
#define MT__SNAP_SEC_END     MT__SNAP_TAG('E', 'N', 'D', '.')
#define MT__SNAP_RUN_PAGES 1024u /* pages per PAGE section at most */
#define MT__SNAP_SEED_HEADER  UINT64_C(0x4d54534e41504844)
#define MT__SNAP_SEED_SECTION UINT64_C(0x4d54534e41505343)
#define MT__SNAP_SEED_CHAIN   UINT64_C(0x4d54534e41504348)

typedef struct mt__snapw {
    int fd;
    int rc;                 /* first error, sticky */
    uint32_t seq;           /* sections written */
    uint64_t left;          /* payload bytes still due in the open section */
    bool open;
    mt__sum sec;            /* checksum of the open section */
    mt__sum chain;          /* over the header and section checksums */
    size_t nbuf;
    uint8_t buf[65536];
} mt__snapw;

/*
 * What tells one kind of stream from another: its header (magic, version,
 * seed of the header checksum). Snapshot files and migration streams share
 * everything else (section framing, checksums, the END record).
 */
typedef struct mt__snap_format {
    uint8_t magic[8];
    uint32_t version;
    uint64_t header_seed;
    const char *noun;           /* "memtree snapshot", for messages */
    /* A kind readers commonly confuse with this one, named when its magic
     * shows up (NULL: none). */
    const uint8_t *other_magic;
    const char *other_noun;
} mt__snap_format;

/* Snapshot files (snapshot_stream.c). */
extern const mt__snap_format mt__snap_file_format;

/* Start a stream of kind @f on @fd: writes its header. */
int mt__snapw_start_as(mt__snapw *w, int fd, const mt__snap_format *f);
/* Start a snapshot file on @fd. */
int mt__snapw_start(mt__snapw *w, int fd);
/* Write out what @w buffers (between sections): a reader can then finish
 * the last section while the writer waits. */
int mt__snapw_flush(mt__snapw *w);
/* Open a section of @type with a payload of exactly @len bytes. */
int mt__snapw_begin(mt__snapw *w, uint32_t type, uint64_t len);
int mt__snapw_put(mt__snapw *w, const void *p, size_t n);
/* Close the section: its checksum. */
int mt__snapw_end(mt__snapw *w);
/* The end section, then flush. */
int mt__snapw_finish(mt__snapw *w);
/*
 * A PAGE section for pages [first, first + n) (n <= MT__SNAP_RUN_PAGES) of
 * block @block whose memory is at @base (page 0): pages for which
 * @present is NULL or has the bit set and that are not all zeros are
 * stored, the others sent as zero pages.
 */
int mt__snapw_pages(mt__snapw *w, uint32_t block, const uint8_t *base,
                    const uint64_t *present, uint64_t first, uint32_t n);
/* Bytes of a PAGE section's head: block, page count, first page. */
#define MT__SNAP_PAGES_HEAD 16u
/* Open a PAGE section for pages [first, first + n) of block @block with
 * the bitmap @bits of the @stored pages that follow, and write its head;
 * the caller puts the stored pages and ends the section. */
void mt__snapw_pages_head(mt__snapw *w, uint32_t block, uint64_t first,
                          uint32_t n, const uint64_t *bits, uint64_t stored);

typedef struct mt__snapr {
    int fd;                 /* -1 when reading @mem */
    const uint8_t *mem;
    size_t mem_len;
    uint64_t pos;           /* bytes consumed */
    bool verify;            /* check checksums (off only for fuzzing) */
    uint32_t seq;           /* sections read */
    uint64_t left;          /* payload bytes left in the open section */
    uint64_t sec_start;     /* offset of the open section */
    mt__sum sec;
    mt__sum chain;
    mt_snapshot_error *err;
} mt__snapr;

/* Start reading a stream of kind @f: checks its header. */
int mt__snapr_start_as(mt__snapr *r, const mt__snap_format *f);
/* Start reading a snapshot file. */
int mt__snapr_start(mt__snapr *r);
/* Next section: its type and payload length. */
int mt__snapr_begin(mt__snapr *r, uint32_t *type, uint64_t *len);
/* @n payload bytes into @p (NULL: skip them). */
int mt__snapr_get(mt__snapr *r, void *p, size_t n);
/* Close the section: all of its payload read, checksum matches. */
int mt__snapr_end(mt__snapr *r);
/* After begin returned the end section: check it (and, for a buffer,
 * that nothing follows). */
int mt__snapr_finish(mt__snapr *r);

/* A PAGE section as read: pages [first, first + n) of block @block; bit i
 * of @bits set when page first + i is stored (else it is all zeros). */
typedef struct mt__snap_pages {
    uint32_t block;
    uint32_t n;
    uint64_t first;
    uint64_t bits[MT__SNAP_RUN_PAGES / 64];
} mt__snap_pages;

/* After mt__snapr_begin() gave a PAGE section of @len bytes: its header
 * and bitmap, checked against @len (the caller checks block and range). */
int mt__snapr_pages_head(mt__snapr *r, uint64_t len, mt__snap_pages *pg);
/* Then its pages: stored ones read into @base (page 0 of the block; the
 * caller made sure the range fits), zero ones cleared there when
 * @clear_zero (a live block) or left alone (fresh zero memory); closes
 * the section (checksum). */
int mt__snapr_pages_data(mt__snapr *r, const mt__snap_pages *pg,
                         uint8_t *base, bool clear_zero);

/* The file format (snapshot_file.c), on an initialised reader. */
int mt__snap_load(const mt_allocator *alloc, mt__snapr *r, mt_snapshot **out,
                  mt_snapshot_error *err);

/* Shared with migration streams (src/migrate*.c). The region table as a
 * section of @type (RGNS payload); its payload of @len bytes, the section
 * header already read, into the empty @s (records, index, blocks without
 * data). And the records of @ctx's live regions, creation order, into the
 * empty @s, with its index and its blocks (with room for the pages if
 * @data) (caller holds the writer lock); *@live gets the regions (freed by
 * the caller with mt__snap_free). */
int mt__snap_write_table(const mt_snapshot *s, mt__snapw *w, uint32_t type);
int mt__snap_read_table(mt_snapshot *s, mt__snapr *r, uint64_t len,
                        mt_snapshot_error *err);
int mt__snap_capture(mt_ctx *ctx, mt_snapshot *s, bool data,
                     mt_region ***live, mt_snapshot_error *err);

#endif /* MT_SNAPSHOT_INT_H */
