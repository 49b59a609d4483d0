/* SPDX-License-Identifier: MIT */
/*
 * memtree/migrate.h: live migration of a context's guest memory and region
 * state to another context, over a file descriptor (a pipe, a socket or a
 * file), by iterative pre-copy (docs/migration.md has the stream format
 * and the guarantees). Included by <memtree.h>.
 *
 * Source side, driven by the VMM on a thread of its choice (the
 * "migration thread") while its vCPUs keep running:
 *
 *   mt_migrate_src_start(ctx, fd, 0, &src, &err);   logging on, full pass
 *   while (remaining > SMALL && rounds++ < LIMIT)
 *       mt_migrate_src_iterate(src, &remaining, &err);  dirtied pages again
 *   ...stop the vCPUs (and every other writer of guest memory)...
 *   mt_migrate_src_put_ext(src, TAG, regs, len, &err);  VMM records
 *   mt_migrate_src_complete(src, &err);   last pages, region state, end
 *   mt_migrate_src_free(src);
 *
 * Destination side, on a context built the same way as the source's (same
 * regions, names, kinds and RAM sizes), whose vCPUs are not running:
 *
 *   mt_migrate_dst_new(fd, NULL, &dst);
 *   mt_migrate_dst_load(dst, ctx, &err);   until the end record
 *   mt_migrate_dst_find_ext(dst, TAG, &len) ... set the vCPUs' registers
 *   mt_migrate_dst_free(dst);   ...then resume the vCPUs
 *
 * What travels: the contents of every RAM, ROM and ROM-device block (the
 * blocks of the snapshot format: docs/snapshot.md), the state of every
 * region (mapping, priority, address, flags, alias offset, sizes), and
 * opaque extension records of the VMM (vCPU registers, device state).
 * Nothing else: CPU and device state are the VMM's, carried in extension
 * records.
 *
 * The stream is untrusted on the destination: a versioned header, a
 * checksum per section chained up to an end record, the region table
 * checked and matched against the destination's regions before any page
 * is written, every page of every block required at least once. Corrupt,
 * truncated or mismatched streams are refused with MT_ECORRUPT,
 * MT_EPARSE or MT_EMISMATCH and a message naming the offset, block or
 * region; the region state is applied only once the whole stream has been
 * verified.
 *
 * Threading: a session (source or destination) is used by one thread at a
 * time. The source takes its context's writer lock only briefly (to record
 * regions, pull the accelerators' dirty logs and collect dirty bits), never
 * while it copies or writes pages, so vCPU threads, device callbacks and
 * topology changes go on meanwhile. Do not call it inside a transaction.
 * While a migration runs it owns the context's MIGRATION dirty bits, like an
 * armed snapshot: one migration or armed snapshot per context at a time.
 * Host code that writes guest memory through host pointers must report it
 * with mt_region_dirty_set(r, offset, len, MT_DIRTY_MIGRATION).
 *
 * Writes to a pipe or socket whose reader has gone raise SIGPIPE: ignore it
 * (signal(SIGPIPE, SIG_IGN)) to get MT_EIO (errno EPIPE) instead.
 */
#ifndef MEMTREE_MIGRATE_H
#define MEMTREE_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mt_ctx;
struct mt_allocator;

/** The source side of a migration. */
typedef struct mt_migrate_src mt_migrate_src;
/** The destination side of a migration. */
typedef struct mt_migrate_dst mt_migrate_dst;
/** Why a migration call failed: a sentence (see mt_snapshot_error). */
typedef mt_snapshot_error mt_migrate_error;

/** Version of the migration stream format (docs/migration.md). */
#define MT_MIGRATE_FORMAT_VERSION 1u

/** Largest extension record payload, in bytes. */
#define MT_MIGRATE_MAX_EXT (16u << 20)
/** Most extension records in one stream. */
#define MT_MIGRATE_MAX_EXTS 4096u

/** An extension record tag from four characters (little-endian u32). */
#define MT_MIGRATE_TAG(a, b, c, d)                                          \
    ((uint32_t)(uint8_t)(a) | (uint32_t)(uint8_t)(b) << 8 |                 \
     (uint32_t)(uint8_t)(c) << 16 | (uint32_t)(uint8_t)(d) << 24)

/**
 * struct mt_migrate_stats - what a session has sent or received so far.
 * @passes:      passes over the dirty pages sent (the full pass counts;
 *               complete's last pass too); 0 on the destination.
 * @pages:       page records sent or applied, zero pages included (a page
 *               sent in two passes counts twice).
 * @zero_pages:  of those, pages that were all zeros (sent as one bit).
 * @last_pages:  pages of the last pass (source).
 * @remaining:   dirty pages known but not yet sent (source).
 * @total_pages: pages of all blocks.
 * @bytes:       bytes of the stream written or read so far.
 */
typedef struct mt_migrate_stats {
    uint64_t passes;
    uint64_t pages;
    uint64_t zero_pages;
    uint64_t last_pages;
    uint64_t remaining;
    uint64_t total_pages;
    uint64_t bytes;
} mt_migrate_stats;

/* ------------------------------------------------------------------------ */
/* Source                                                                    */
/* ------------------------------------------------------------------------ */

/**
 * mt_migrate_src_start - begin migrating @ctx to @fd: turn global dirty
 * logging on (mt_ctx_dirty_log_start, committed, so KVM logs guest
 * writes), record every region and RAM block, then write the stream
 * header, the region table and every page of every block (the full pass).
 * @ctx:   the context; its vCPUs may run. Not inside a transaction.
 * @fd:    where the stream goes (written sequentially; not closed).
 * @flags: 0.
 * @out:   receives the session, owned by the caller (mt_migrate_src_free).
 * @err:   filled on failure, or NULL.
 * Returns 0; MT_EINVAL (NULL arguments, flags, two RAM-backed regions with
 * one name); MT_EBUSY (global dirty logging is already on: another
 * migration or an armed snapshot); MT_ESTATE (inside a transaction);
 * MT_EIO (a write failed; errno tells why); MT_ENOMEM. On failure nothing
 * is left allocated and logging is off again; when the header was already
 * written, the stream ends with a cancel record if it can be written.
 */
int mt_migrate_src_start(struct mt_ctx *ctx, int fd, unsigned flags,
                         mt_migrate_src **out, mt_migrate_error *err);

/**
 * mt_migrate_src_iterate - one more pass: pull the accelerators' dirty
 * logs (mt_as_log_sync on every address space), collect the pages dirtied
 * since the last pass and send them; then pull the logs again and count
 * what is dirty already.
 * @remaining: receives the pages that the next pass (or complete) would
 *             send as things stand, or NULL.
 * The caller decides when to stop: typically when @remaining is small
 * enough for the downtime it accepts, or after a number of rounds.
 * Returns 0; MT_EINVAL; MT_ESTATE (not running: completed, cancelled or
 * failed); MT_EMISMATCH (a RAM block was resized: the migration is
 * cancelled); MT_EIO; MT_ENOMEM. After an error other than MT_EINVAL and
 * MT_ESTATE the session is failed: the stream ends with a cancel record
 * when possible and logging is off.
 */
int mt_migrate_src_iterate(mt_migrate_src *src, uint64_t *remaining,
                           mt_migrate_error *err);

/**
 * mt_migrate_src_put_ext - send an extension record: @len bytes at @data
 * under @tag (MT_MIGRATE_TAG), opaque to memtree, handed to the
 * destination in order (mt_migrate_dst_ext). Between start and complete;
 * typically the vCPU registers and device state, once the vCPUs are
 * stopped. Returns 0; MT_EINVAL (@len above MT_MIGRATE_MAX_EXT, NULL
 * @data with @len, more than MT_MIGRATE_MAX_EXTS records or 256 MiB of
 * them in all); MT_ESTATE; MT_EIO.
 */
int mt_migrate_src_put_ext(mt_migrate_src *src, uint32_t tag,
                           const void *data, size_t len,
                           mt_migrate_error *err);

/**
 * mt_migrate_src_complete - finish: a last pass of dirty pages, the region
 * state as it is now, the end record; then dirty logging off. Call it once
 * the vCPUs and every other writer of guest memory are stopped (and stay
 * so until it returns): what the destination gets is the memory and region
 * state at that point, byte for byte.
 * Returns 0; MT_EINVAL; MT_ESTATE; MT_EMISMATCH (regions were created,
 * freed, renamed or RAM resized since start: the migration is cancelled,
 * the source may resume); MT_EIO; MT_ENOMEM. On success the session is
 * done (only stats and free remain); on failure it is failed as above.
 */
int mt_migrate_src_complete(mt_migrate_src *src, mt_migrate_error *err);

/**
 * mt_migrate_src_cancel - give up: a cancel record carrying @why (or a
 * default text when NULL; truncated to 1 KiB) ends the stream when it can
 * still be written, and dirty logging goes off. The destination then fails
 * with MT_EIO and @why in its message. Returns 0, MT_EINVAL, or MT_ESTATE
 * when the session is not running.
 */
int mt_migrate_src_cancel(mt_migrate_src *src, const char *why);

/** mt_migrate_src_stats - copy the counters into *@out. Returns 0 or MT_EINVAL. */
int mt_migrate_src_stats(const mt_migrate_src *src, mt_migrate_stats *out);

/**
 * mt_migrate_src_free - cancel if still running (see above), drop the
 * references on the blocks' regions and free. NULL is a no-op. Free the
 * session before its context.
 */
void mt_migrate_src_free(mt_migrate_src *src);

/* ------------------------------------------------------------------------ */
/* Destination                                                               */
/* ------------------------------------------------------------------------ */

/**
 * mt_migrate_dst_new - a destination reading the stream from @fd
 * (sequentially, exactly up to its end record: a socket may carry more
 * after it; not closed). Nothing is read yet.
 * @alloc: allocator for the session's tables (copied), or NULL for malloc.
 * @out:   receives the session, owned by the caller (mt_migrate_dst_free).
 * Returns 0, MT_EINVAL or MT_ENOMEM.
 */
int mt_migrate_dst_new(int fd, const struct mt_allocator *alloc,
                       mt_migrate_dst **out);

/**
 * mt_migrate_dst_new_buffer - the same over @len bytes at @buf, which must
 * hold exactly one stream and stay valid until mt_migrate_dst_free.
 */
int mt_migrate_dst_new_buffer(const void *buf, size_t len,
                              const struct mt_allocator *alloc,
                              mt_migrate_dst **out);

/**
 * mt_migrate_dst_open - read the stream header and the region table, so
 * that the blocks are known before a context is built for them (see the
 * getters below; `memtree run --restore` sizes its machine from them).
 * mt_migrate_dst_load() does this itself when not done yet.
 * Returns 0; MT_ESTATE (already opened); MT_EPARSE (not a migration
 * stream, another version, a malformed table); MT_ECORRUPT (checksum,
 * truncation); MT_EIO (a read error, or the source cancelled);
 * MT_ENOMEM. A failed session can only be freed.
 */
int mt_migrate_dst_open(mt_migrate_dst *dst, mt_migrate_error *err);

/** Number of RAM blocks the stream carries (0 before mt_migrate_dst_open). */
size_t mt_migrate_dst_nr_blocks(const mt_migrate_dst *dst);
/** Name of block @i (NULL when unnamed or out of range). Valid while @dst lives. */
const char *mt_migrate_dst_block_name(const mt_migrate_dst *dst, size_t i);
/** Size of block @i in bytes, rounded up to MT_DIRTY_PAGE_SIZE; 0 out of range. */
uint64_t mt_migrate_dst_block_size(const mt_migrate_dst *dst, size_t i);

/**
 * mt_migrate_dst_load - receive the whole stream into @ctx: match the
 * region table against @ctx's regions (as mt_snapshot_restore matches;
 * memory-backed regions must have exactly the stream's sizes), then write
 * every page into the blocks' memory as it arrives (verified section by
 * section: only checked bytes are written; pages are marked dirty for the
 * VGA and CODE clients), keep the extension records, and once the end
 * record has been checked, apply the final region state in one transaction.
 * @ctx: built like the source's; nothing else may use it meanwhile (its
 *       vCPUs stopped). Blocks until the end record (or an error).
 * Returns 0; MT_EINVAL; MT_ESTATE (loaded or failed before); MT_EMISMATCH
 * (@ctx differs from the stream's layout: nothing of @ctx was changed);
 * MT_EPARSE; MT_ECORRUPT; MT_EIO (read error, or the source cancelled:
 * the message says why); MT_ENOMEM. On failure after the match, @ctx's
 * memory may hold part of the stream (verified pages only) and its region
 * state is unchanged: do not run the guest; a new migration overwrites
 * every page.
 */
int mt_migrate_dst_load(mt_migrate_dst *dst, struct mt_ctx *ctx,
                        mt_migrate_error *err);

/** Number of extension records received. */
size_t mt_migrate_dst_nr_ext(const mt_migrate_dst *dst);

/**
 * mt_migrate_dst_ext - extension record @i (in stream order): its tag,
 * payload (valid while @dst lives; NULL when empty) and length. Returns 0
 * or MT_EINVAL (@i out of range).
 */
int mt_migrate_dst_ext(const mt_migrate_dst *dst, size_t i, uint32_t *tag,
                       const void **data, size_t *len);

/**
 * mt_migrate_dst_find_ext - the first extension record tagged @tag: its
 * payload (an empty one gives a non-NULL pointer), *@len set; NULL when
 * there is none.
 */
const void *mt_migrate_dst_find_ext(const mt_migrate_dst *dst, uint32_t tag,
                                    size_t *len);

/** mt_migrate_dst_stats - pages and bytes received so far. Returns 0 or MT_EINVAL. */
int mt_migrate_dst_stats(const mt_migrate_dst *dst, mt_migrate_stats *out);

/** mt_migrate_dst_free - free the session and its records. NULL is a no-op. */
void mt_migrate_dst_free(mt_migrate_dst *dst);

#ifdef __cplusplus
}
#endif
#endif /* MEMTREE_MIGRATE_H */
