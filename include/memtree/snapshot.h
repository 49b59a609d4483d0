/* SPDX-License-Identifier: MIT */
/*
 * memtree/snapshot.h: snapshots of a context's guest memory and of the
 * state of its regions, in memory or in a file, and fast reset to a
 * snapshot (docs/snapshot.md). Included by <memtree.h>.
 *
 * What a snapshot holds:
 * - the contents of every RAM block of RAM, ROM and ROM-device regions
 *   (pages that are all zeros are only noted, not stored); RAM devices
 *   (host device memory) are not captured;
 * - for every region of the context, in creation order: name, kind and
 *   size (the identity it is matched by), the container it is mapped in,
 *   its priority and rank among its siblings, its address, and its
 *   enabled, read-only, non-volatile and ROMD flags and alias offset (the
 *   state that is restored).
 * Regions are matched by name and, among regions of the same name, by
 * creation order; RAM blocks by region name, which must be unique among
 * RAM, ROM and ROM-device regions (as QEMU requires of RAM block ids).
 *
 * Fast reset: a snapshot taken or restored with MT_SNAPSHOT_TRACK is
 * "armed" on its context: it turns global dirty logging on
 * (mt_ctx_dirty_log_start), so the access path marks the MIGRATION dirty
 * client and KVM logs guest writes, and mt_snapshot_reset() copies back
 * only the pages dirtied since. While armed, the snapshot owns the
 * MIGRATION dirty bits of the context: do not run another consumer of them
 * (a migration, another armed snapshot) on that context meanwhile. Host
 * code that writes guest memory through host pointers must report it with
 * mt_region_dirty_set(r, offset, len, MT_DIRTY_MIGRATION) (or all clients).
 *
 * Threading: take, restore and reset hold the context's writer lock (they
 * run in mt_begin/mt_commit) while they read or change regions; accesses
 * by other threads may go on meanwhile (they see memory being copied).
 * For a consistent snapshot or reset, stop the vCPUs and other writers of
 * guest memory first. A snapshot object is used by one thread at a time,
 * except that mt_snapshot_save() and the getters only read it.
 */
#ifndef MEMTREE_SNAPSHOT_H
#define MEMTREE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mt_ctx;

/** A snapshot: RAM contents and region state (see above). */
typedef struct mt_snapshot mt_snapshot;

/** Flag of mt_snapshot_take() and mt_snapshot_restore(): arm for fast reset. */
#define MT_SNAPSHOT_TRACK 0x1u

/** Version of the file format written by mt_snapshot_save(). */
#define MT_SNAPSHOT_FORMAT_VERSION 1u

/**
 * struct mt_snapshot_error - why a snapshot call failed.
 * @msg: a sentence naming what was wrong (the region or block, the file
 *       offset), NUL-terminated; empty when the call succeeded.
 * Every call below that takes one fills it when given (NULL is allowed).
 */
typedef struct mt_snapshot_error {
    char msg[200];
} mt_snapshot_error;

/**
 * mt_snapshot_take - capture @ctx's RAM blocks and region state.
 * @ctx:   the context; its allocator is copied into the snapshot, whose
 *         RAM copies are anonymous mappings of their own.
 * @flags: 0 or MT_SNAPSHOT_TRACK (arm the new snapshot on @ctx; dirty
 *         logging starts before memory is copied, so any page written
 *         during the copy is reset later).
 * @out:   receives the snapshot, owned by the caller (mt_snapshot_free).
 *         It does not depend on @ctx afterwards, except while armed.
 * @err:   filled on failure, or NULL.
 * Holds @ctx's writer lock while copying. With MT_SNAPSHOT_TRACK, not
 * inside a transaction (the logging must be committed first).
 * Returns 0; MT_EINVAL (NULL @ctx/@out, unknown flags, or two RAM-backed
 * regions with the same name); MT_EBUSY (MT_SNAPSHOT_TRACK while global
 * dirty logging is already on); MT_ESTATE (MT_SNAPSHOT_TRACK inside a
 * transaction); MT_ENOMEM. Nothing is left allocated or logging on failure.
 */
int mt_snapshot_take(struct mt_ctx *ctx, unsigned flags, mt_snapshot **out,
                     mt_snapshot_error *err);

/**
 * mt_snapshot_restore - make @ctx's memory and region state equal to
 * @snap: every page of every block is written back (zero pages are
 * cleared only where not already zero), then the region state is applied
 * in one transaction.
 * @ctx:   the context @snap was taken from, or one built the same way
 *         (same regions, names, kinds and RAM sizes; resizeable RAM is
 *         resized back when the snapshot's size fits its maximum).
 * @flags: 0 or MT_SNAPSHOT_TRACK (arm @snap on @ctx afterwards; a
 *         snapshot already armed on @ctx stays armed either way).
 * Everything is checked before anything changes: on MT_EMISMATCH, @ctx is
 * untouched and @err says what differs. Written pages are marked dirty
 * for the VGA and CODE clients (and for MIGRATION, unless @snap is armed
 * on @ctx, whose tracking then restarts clean). With MT_SNAPSHOT_TRACK on
 * a snapshot not yet armed, not inside a transaction.
 * Returns 0; MT_EINVAL; MT_EMISMATCH; MT_EBUSY (MT_SNAPSHOT_TRACK while
 * another user has global dirty logging on, or @snap is armed on another
 * context); MT_ESTATE; MT_ENOMEM (memory or region state may then be
 * partly restored; a retry completes it).
 */
int mt_snapshot_restore(struct mt_ctx *ctx, mt_snapshot *snap,
                        unsigned flags, mt_snapshot_error *err);

/**
 * mt_snapshot_reset - fast restore of a snapshot armed on @ctx: region
 * state as mt_snapshot_restore(), memory by copying back only the pages
 * dirtied since the snapshot was taken, restored or last reset (after
 * pulling the accelerators' dirty logs with mt_as_log_sync on every
 * address space); those dirty bits are consumed.
 * @pages: receives the number of pages copied back, or NULL.
 * Copied pages are marked dirty for the VGA and CODE clients.
 * Returns 0; MT_EINVAL (NULL, or @snap armed on another context);
 * MT_ESTATE (@snap is not armed); MT_EMISMATCH (regions were created or
 * freed since: nothing is changed); MT_ENOMEM (partly reset; retry).
 */
int mt_snapshot_reset(struct mt_ctx *ctx, mt_snapshot *snap,
                      uint64_t *pages, mt_snapshot_error *err);

/**
 * mt_snapshot_disarm - stop @snap's dirty tracking (mt_ctx_dirty_log_stop
 * on its context). The context must still exist. Returns 0, MT_EINVAL, or
 * MT_ESTATE when @snap is not armed.
 */
int mt_snapshot_disarm(mt_snapshot *snap);

/** mt_snapshot_armed - the context @snap is armed on, or NULL. */
struct mt_ctx *mt_snapshot_armed(const mt_snapshot *snap);

/**
 * mt_snapshot_free - disarm @snap if armed, then free it. NULL is a no-op.
 * An armed snapshot must be freed (or disarmed) before its context.
 */
void mt_snapshot_free(mt_snapshot *snap);

/**
 * mt_snapshot_save - write @snap to @fd in the snapshot file format
 * (docs/snapshot.md: header, region table, pages, end record, each with a
 * 64-bit checksum). Writes sequentially from the current position, so
 * @fd may be a pipe or a socket; it is not closed. Only reads @snap.
 * Returns 0, MT_EINVAL or MT_EIO (errno tells why).
 */
int mt_snapshot_save(const mt_snapshot *snap, int fd, mt_snapshot_error *err);

/**
 * mt_snapshot_load - read a snapshot written by mt_snapshot_save() from
 * @fd (sequentially, until the end record; nothing after it is read).
 * @ctx: whose allocator the snapshot uses; nothing else of @ctx is used or
 *       checked (mt_snapshot_restore() checks the layout).
 * @out: receives the snapshot (not armed), owned by the caller.
 * The input is untrusted: every field is checked, and every byte is
 * covered by a checksum. Returns 0; MT_EINVAL; MT_EPARSE (not a snapshot,
 * an unsupported version, or inconsistent contents); MT_ECORRUPT (a
 * checksum mismatch or a truncated file); MT_EIO; MT_ENOMEM. Nothing is
 * left allocated on failure.
 */
int mt_snapshot_load(struct mt_ctx *ctx, int fd, mt_snapshot **out,
                     mt_snapshot_error *err);

/** mt_snapshot_load_buffer - mt_snapshot_load() from @len bytes at @buf, which must hold exactly one snapshot. */
int mt_snapshot_load_buffer(struct mt_ctx *ctx, const void *buf, size_t len,
                            mt_snapshot **out, mt_snapshot_error *err);

/** Number of RAM blocks in @snap (RAM, ROM and ROM-device regions). */
size_t mt_snapshot_nr_blocks(const mt_snapshot *snap);
/** Name of block @i (the region's name; NULL if it had none, or @i out of range). */
const char *mt_snapshot_block_name(const mt_snapshot *snap, size_t i);
/** Bytes captured for block @i: its size rounded up to MT_DIRTY_PAGE_SIZE. */
uint64_t mt_snapshot_block_size(const mt_snapshot *snap, size_t i);
/** The captured contents of block @i (read-only; valid while @snap lives), or NULL. */
const void *mt_snapshot_block_data(const mt_snapshot *snap, size_t i);
/** Number of regions whose state @snap holds. */
size_t mt_snapshot_nr_regions(const mt_snapshot *snap);

#ifdef __cplusplus
}
#endif
#endif /* MEMTREE_SNAPSHOT_H */
