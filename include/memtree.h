/* SPDX-License-Identifier: MIT */
/*
 * memtree.h: the public API of memtree, a guest-memory model for VMMs and
 * emulators (regions, address spaces, flat views, transactions).
 *
 * Conventions used by every declaration below:
 * - Prefix mt_ for functions and types, MT_ for constants.
 * - Fallible calls return int: 0 on success or a negative MT_E* code
 *   (memtree/errors.h). No call aborts on bad input.
 * - All state lives in an mt_ctx. Objects from one context must not be
 *   mixed with another context (MT_EINVAL).
 * - Threading (docs/locking.md): every call is thread-safe. Calls that
 *   change or inspect the topology take the context's writer lock, a
 *   recursive, fair (first come, first served) lock also held for a whole
 *   transaction (mt_begin to mt_commit); calls marked "Lock-free" (accesses, loads, stores,
 *   translate, DMA maps) take no context lock: they read the published
 *   flat view inside an RCU read-side section, so they never wait for a
 *   commit and a commit never waits for them. Callbacks (device ops) run
 *   on the accessing thread with no memtree lock held; listener hooks run
 *   on the committing thread with the writer lock held.
 * - Ranges are [start, last] with an inclusive last address, so a range may
 *   reach 2^64-1. Region sizes are uint64_t where MT_SIZE_FULL (UINT64_MAX)
 *   means 2^64, as in QEMU; a size of exactly 2^64-1 cannot be expressed.
 */
#ifndef MEMTREE_H
#define MEMTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/uio.h> /* struct iovec */

#include "memtree/errors.h"
#include "memtree/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Handles                                                                   */
/* ------------------------------------------------------------------------ */

/** A memtree context: owns every region, address space and flat view. */
typedef struct mt_ctx mt_ctx;
/** A memory region: container, I/O, RAM, ROM device or alias. */
typedef struct mt_region mt_region;
/** An address space: a name plus a root region, rendered into a flat view. */
typedef struct mt_as mt_as;
/** An immutable, reference-counted rendering of an address space. */
typedef struct mt_flatview mt_flatview;

/** Region size meaning 2^64 (the whole 64-bit space). */
#define MT_SIZE_FULL UINT64_MAX

/* ------------------------------------------------------------------------ */
/* Context                                                                   */
/* ------------------------------------------------------------------------ */

/**
 * struct mt_allocator - memory allocation hooks for one context.
 * @alloc:   like malloc(size); may return NULL (memtree then fails the call
 *           with MT_ENOMEM and leaks nothing).
 * @realloc: like realloc(ptr, size).
 * @free:    like free(ptr); must accept NULL.
 * @opaque:  passed first to each hook.
 * All three hooks must be set, or the struct not given at all. When
 * several threads use the context the hooks must be thread-safe: readers
 * allocate a view's lookup cache and DMA bounce buffers.
 */
typedef struct mt_allocator {
    void *(*alloc)(void *opaque, size_t size);
    void *(*realloc)(void *opaque, void *ptr, size_t size);
    void (*free)(void *opaque, void *ptr);
    void *opaque;
} mt_allocator;

/**
 * mt_ctx_new - create a context.
 * @out:   receives the new context; the caller owns it (mt_ctx_free).
 * @alloc: allocator for everything the context allocates, copied; NULL
 *         means the C library's malloc/realloc/free.
 * Returns 0, MT_EINVAL (NULL @out or incomplete @alloc) or MT_ENOMEM.
 */
int mt_ctx_new(mt_ctx **out, const mt_allocator *alloc);

/**
 * mt_ctx_free - destroy a context and everything it still owns.
 * @ctx: the context, or NULL (no-op).
 * Destroys every address space (in reverse creation order) and frees every
 * region, whatever its reference count. Every handle obtained from @ctx is
 * invalid afterwards. Waits for an RCU grace period when views are still
 * pending reclamation. Transactions the calling thread left open are
 * abandoned (their changes are not rendered). Must not be called inside a
 * callback or an mt_read_lock() section, nor while another thread uses
 * @ctx.
 */
void mt_ctx_free(mt_ctx *ctx);

/* ------------------------------------------------------------------------ */
/* Transactions                                                              */
/* ------------------------------------------------------------------------ */

/**
 * mt_begin - open a transaction (transactions nest).
 * @ctx: the context.
 * Every mutator below opens and commits its own transaction, so changes
 * made inside an outer begin/commit pair are rendered once, at the
 * outermost mt_commit().
 * Takes @ctx's writer lock (recursive) until the matching mt_commit(), on
 * the same thread: other threads' changes wait, accesses do not. Do not
 * wait inside a transaction for a thread that may itself change the map
 * (a vCPU whose device callback remaps a BAR, say): that deadlocks.
 */
void mt_begin(mt_ctx *ctx);

/**
 * mt_commit - close a transaction; the outermost one re-renders every
 * address space whose topology may have changed and publishes new flat
 * views.
 * @ctx: the context.
 * Returns 0, MT_ESTATE when no transaction is open, or MT_ENOMEM (the old
 * flat views then stay published and the change stays pending; a later
 * commit retries). The transaction is closed in every case but MT_ESTATE.
 */
int mt_commit(mt_ctx *ctx);

/** mt_transaction_depth - number of open transactions on @ctx (waits for
 *  another thread's transaction to end). */
unsigned mt_transaction_depth(const mt_ctx *ctx);

/**
 * mt_read_lock - enter an RCU read-side section.
 * @ctx: the context (NULL: no-op).
 * Inside the section, what a lock-free call returned stays valid even if
 * another thread changes the map meanwhile: the region pointer from
 * mt_as_translate(), the records of mt_flatview_range() of a view you got
 * there. Sections nest and are cheap (no lock, no syscall). Lock-free.
 * Inside a section do not call mt_ctx_free() or block for long: memory
 * retired by commits is freed only after every section that could see it
 * has ended. Changing the map inside a section is allowed.
 */
void mt_read_lock(mt_ctx *ctx);

/** mt_read_unlock - leave the section opened by mt_read_lock(). Lock-free. */
void mt_read_unlock(mt_ctx *ctx);

/**
 * mt_ctx_synchronize - free now what commits have retired.
 * @ctx: the context.
 * Views replaced by a commit, and the regions only they still held (a RAM
 * region deleted from the map, with its memory), are freed after an RCU
 * grace period, asynchronously: by a later writer call once liburcu has
 * seen the grace period pass (typically within ~10 ms). This call waits for
 * one grace period and frees everything retired before it, so memory is
 * back when it returns (use it before measuring memory, or after removing
 * a large RAM region). Takes the writer lock briefly, not while waiting.
 * Returns 0, MT_EINVAL, or MT_ESTATE where waiting could deadlock: inside
 * a read-side section (mt_read_lock, a device callback), or with the
 * writer lock held (inside mt_begin/mt_commit, a listener hook), where a
 * device callback on another thread may be waiting for that lock inside
 * its section.
 */
int mt_ctx_synchronize(mt_ctx *ctx);

/* ------------------------------------------------------------------------ */
/* MMIO callbacks (used by I/O regions and ROM devices)                      */
/* ------------------------------------------------------------------------ */

/** Transaction results, ORed over the pieces of an access (QEMU MemTxResult). */
typedef uint32_t mt_result;
#define MT_TX_OK           0u  /* success */
#define MT_TX_ERROR        1u  /* the device reported an error */
#define MT_TX_DECODE_ERROR 2u  /* nothing there, or the access was rejected */
#define MT_TX_ACCESS_ERROR 4u  /* access denied (memory-only attribute, re-entrancy) */

/**
 * struct mt_attrs - attributes carried by an access.
 * @unspecified:  no attributes were given (MT_ATTRS_UNSPECIFIED).
 * @secure:       secure-world access (Arm TrustZone).
 * @user:         unprivileged access.
 * @memory:       only RAM may be reached; anything else is an access error.
 * @requester_id: bus requester (PCI BDF) of a DMA access.
 */
typedef struct mt_attrs {
    unsigned unspecified : 1;
    unsigned secure : 1;
    unsigned user : 1;
    unsigned memory : 1;
    uint16_t requester_id;
} mt_attrs;

/** Attributes of an access that carries none. */
#define MT_ATTRS_UNSPECIFIED ((mt_attrs){ .unspecified = 1 })

/** Byte order of a device's registers. */
typedef enum mt_endian {
    MT_ENDIAN_LITTLE = 0,
    MT_ENDIAN_BIG = 1,
} mt_endian;

/**
 * struct mt_ops - callbacks and access rules of an I/O region or ROM device.
 * @read:   read @size bytes (1, 2, 4 or 8) at @offset into *@value; NULL
 *          means reads are rejected with MT_TX_DECODE_ERROR.
 * @write:  write @value of @size bytes at @offset; NULL: rejected likewise.
 * @endian: byte order of the device.
 * @valid:  what the bus accepts: sizes in [min_access_size,
 *          max_access_size] (max 0: any size), unaligned accesses only if
 *          @unaligned, and @accepts, when set, may veto an access.
 * @impl:   what the callbacks implement: sizes in [min, max] (0 means 1 and
 *          4), wider accesses are split, narrower ones widened.
 * The struct is copied when a region is created; @opaque of the region is
 * passed to every callback. Callbacks run on the thread doing the access.
 */
typedef struct mt_ops {
    mt_result (*read)(void *opaque, uint64_t offset, uint64_t *value,
                      unsigned size, mt_attrs attrs);
    mt_result (*write)(void *opaque, uint64_t offset, uint64_t value,
                       unsigned size, mt_attrs attrs);
    mt_endian endian;
    struct {
        unsigned min_access_size;
        unsigned max_access_size;
        bool unaligned;
        bool (*accepts)(void *opaque, uint64_t offset, unsigned size,
                        bool is_write, mt_attrs attrs);
    } valid;
    struct {
        unsigned min_access_size;
        unsigned max_access_size;
        bool unaligned;
    } impl;
} mt_ops;

/* ------------------------------------------------------------------------ */
/* Regions: creation and lifetime                                            */
/* ------------------------------------------------------------------------ */

/** Kinds of region. ROM is RAM with the readonly flag set. */
typedef enum mt_region_kind {
    MT_REGION_CONTAINER,  /* groups subregions, contributes nothing itself */
    MT_REGION_IO,         /* MMIO / port I/O callbacks; fills gaps between its children */
    MT_REGION_RAM,        /* host memory (anonymous or caller memory); ROM when readonly */
    MT_REGION_ROM_DEVICE, /* reads from memory in ROMD mode, writes to callbacks */
    MT_REGION_RAM_DEVICE, /* host memory accessed only through 1..8 byte loads/stores */
    MT_REGION_ALIAS,      /* a window onto part of another region */
} mt_region_kind;

/*
 * Creation: every mt_region_new_* call below
 * - takes @name (copied; NULL is allowed and prints as "(null)") and @size
 *   (MT_SIZE_FULL = 2^64; 0 is allowed and never renders),
 * - stores a new region in *@out with one reference owned by the caller,
 *   unmapped and enabled, priority 0 at address 0,
 * - returns 0, MT_EINVAL (NULL @ctx/@out, or another bad argument named
 *   below) or MT_ENOMEM.
 * Creating a region never triggers rendering; mapping it does.
 */

/** mt_region_new_container - a pure container. */
int mt_region_new_container(mt_ctx *ctx, const char *name, uint64_t size,
                            mt_region **out);

/**
 * mt_region_new_io - an I/O region.
 * @ops:    callbacks (copied), or NULL for a region that accepts nothing
 *          (reads return 0 with MT_TX_DECODE_ERROR).
 * @opaque: passed to the callbacks; not owned.
 */
int mt_region_new_io(mt_ctx *ctx, const char *name, uint64_t size,
                     const mt_ops *ops, void *opaque, mt_region **out);

/**
 * mt_region_new_ram - RAM backed by anonymous host memory, zero-filled,
 * reserved rather than allocated (pages are faulted in when touched).
 * @size must be below MT_SIZE_FULL. Freed with the region.
 */
int mt_region_new_ram(mt_ctx *ctx, const char *name, uint64_t size,
                      mt_region **out);

/**
 * mt_region_new_ram_ptr - RAM over caller memory.
 * @host: @size bytes owned by the caller, which must keep them valid for
 *        the region's lifetime; memtree never frees them.
 */
int mt_region_new_ram_ptr(mt_ctx *ctx, const char *name, uint64_t size,
                          void *host, mt_region **out);

/** mt_region_new_rom - read-only RAM (anonymous memory, zero-filled). */
int mt_region_new_rom(mt_ctx *ctx, const char *name, uint64_t size,
                      mt_region **out);

/**
 * mt_region_new_rom_device - a ROM device: anonymous backing memory plus
 * callbacks. Starts in ROMD mode (reads come from memory, writes go to
 * @ops); see mt_region_set_romd().
 */
int mt_region_new_rom_device(mt_ctx *ctx, const char *name, uint64_t size,
                             const mt_ops *ops, void *opaque,
                             mt_region **out);

/**
 * mt_region_new_ram_device - device memory (a BAR mapped from a host
 * device) at @host, accessed through loads and stores only. @host is owned
 * by the caller as for mt_region_new_ram_ptr().
 */
int mt_region_new_ram_device(mt_ctx *ctx, const char *name, uint64_t size,
                             void *host, mt_region **out);

/**
 * mt_region_new_alias - a window of @size bytes onto @target starting at
 * @offset within @target.
 * @target: takes a reference on it, dropped when the alias is freed. May
 *          itself be an alias; aliases may not form a cycle.
 * Returns MT_EINVAL when @target is NULL or from another context.
 */
int mt_region_new_alias(mt_ctx *ctx, const char *name, mt_region *target,
                        uint64_t offset, uint64_t size, mt_region **out);

/**
 * mt_region_ref - take a reference. @r: a region, or NULL (no-op).
 * Returns @r.
 */
mt_region *mt_region_ref(mt_region *r);

/**
 * mt_region_unref - drop a reference; the last one frees the region.
 * @r: a region, or NULL (no-op).
 * A container holds a reference on each subregion, an alias on its target
 * and an address space on its root, so a mapped region is never freed
 * under the tree. Freeing a region unmaps its subregions (one transaction).
 */
void mt_region_unref(mt_region *r);

/* ------------------------------------------------------------------------ */
/* Regions: mapping and attributes                                           */
/* ------------------------------------------------------------------------ */

/**
 * mt_region_add_subregion - map @sub inside @parent at @offset with
 * priority 0 (overlap with equal-priority siblings: the one added last
 * wins).
 * @parent: a container, I/O region or alias (any region that is not RAM).
 * @sub:    an unmapped region; the container takes a reference on it.
 * Returns 0; MT_EBUSY if @sub already has a container; MT_ELOOP if @sub is
 * @parent or one of its ancestors (containment must stay a tree);
 * MT_EKIND if @parent is RAM or a RAM device; MT_EINVAL for NULL or mixed
 * contexts; MT_ENOMEM.
 * A cycle through an alias (an alias of a container mapped inside that
 * container) is allowed, as in QEMU; rendering unrolls it only while the
 * alias window still shows something, and at most a few times (see
 * docs/model.md, "Cycles through aliases").
 */
int mt_region_add_subregion(mt_region *parent, uint64_t offset,
                            mt_region *sub);

/**
 * mt_region_add_subregion_overlap - as mt_region_add_subregion(), with
 * @priority. Among siblings a higher priority wins; priorities are never
 * compared across containers.
 */
int mt_region_add_subregion_overlap(mt_region *parent, uint64_t offset,
                                    mt_region *sub, int priority);

/**
 * mt_region_del_subregion - unmap @sub from @parent and drop the
 * container's reference (which may free @sub).
 * Returns 0, MT_ENOENT if @sub is not a subregion of @parent, MT_EINVAL.
 */
int mt_region_del_subregion(mt_region *parent, mt_region *sub);

/** mt_region_set_enabled - show (true) or hide @r and its whole subtree. */
int mt_region_set_enabled(mt_region *r, bool enabled);

/**
 * mt_region_set_address - move @r within its container. A mapped region
 * is re-inserted, so it then wins ties against equal-priority siblings.
 */
int mt_region_set_address(mt_region *r, uint64_t addr);

/** mt_region_set_alias_offset - change where an alias looks. MT_EKIND if @r is not an alias, MT_ERANGE if the window would end past 2^64. */
int mt_region_set_alias_offset(mt_region *r, uint64_t offset);

/** mt_region_set_size - resize @r (MT_SIZE_FULL = 2^64). Memory-backed regions: MT_EKIND. Aliases: MT_ERANGE if the window would end past 2^64. */
int mt_region_set_size(mt_region *r, uint64_t size);

/** mt_region_set_readonly - mark @r (and, when rendered, everything under it) read-only. */
int mt_region_set_readonly(mt_region *r, bool readonly);

/** mt_region_set_nonvolatile - mark @r (and everything under it) non-volatile. */
int mt_region_set_nonvolatile(mt_region *r, bool nonvolatile);

/** mt_region_set_romd - switch a ROM device between ROMD mode (true) and MMIO mode. MT_EKIND otherwise. */
int mt_region_set_romd(mt_region *r, bool romd);

/**
 * mt_region_set_dirty_log - count one more (true) or one fewer (false) user
 * of VGA dirty logging on a RAM-backed region; logging is on while the
 * count is non-zero. MT_EKIND for regions without memory, MT_ESTATE when
 * turning off logging that is not on.
 */
int mt_region_set_dirty_log(mt_region *r, bool on);

/* ------------------------------------------------------------------------ */
/* Regions: inspection (never fail; borrowed results)                        */
/* ------------------------------------------------------------------------ */

/** The context @r belongs to. */
mt_ctx *mt_region_ctx(const mt_region *r);
/** Name given at creation (NULL if none). Valid while @r lives. */
const char *mt_region_name(const mt_region *r);
/** Kind of @r (ROM is MT_REGION_RAM with the read-only flag). */
mt_region_kind mt_region_kind_of(const mt_region *r);
/** Size; MT_SIZE_FULL for 2^64. */
uint64_t mt_region_size(const mt_region *r);
/** Address within the container (0 when unmapped and never moved). */
uint64_t mt_region_addr(const mt_region *r);
/** Priority among its siblings (0 unless mapped with _overlap). */
int mt_region_priority(const mt_region *r);
/** True unless hidden with mt_region_set_enabled(r, false). */
bool mt_region_enabled(const mt_region *r);
/** The region's own read-only flag (not one inherited when rendered). */
bool mt_region_readonly(const mt_region *r);
/** The region's own non-volatile flag. */
bool mt_region_nonvolatile(const mt_region *r);
/** ROMD mode of a ROM device (true for other kinds). */
bool mt_region_romd(const mt_region *r);
/** True when the VGA dirty-log count is non-zero. */
bool mt_region_dirty_log(const mt_region *r);
/** True for leaf kinds that fill what their subregions leave (all but containers and aliases). */
bool mt_region_terminates(const mt_region *r);
/** Container @r is mapped in, or NULL. Borrowed. */
mt_region *mt_region_container(const mt_region *r);
/** Target of an alias, or NULL for other kinds. Borrowed. */
mt_region *mt_region_alias_target(const mt_region *r);
/** Offset of an alias into its target (0 for other kinds). */
uint64_t mt_region_alias_offset(const mt_region *r);
/** Host memory of a RAM, ROM, ROM device or RAM device region, else NULL. */
void *mt_region_ram_ptr(const mt_region *r);
/** Number of subregions of @r. */
size_t mt_region_nr_subregions(const mt_region *r);
/**
 * mt_region_subregion - subregion @i in priority order: descending
 * priority, and among equal priorities the most recently added first (the
 * order in which they win). NULL when @i is out of range. Borrowed.
 */
mt_region *mt_region_subregion(const mt_region *r, size_t i);

/* ------------------------------------------------------------------------ */
/* Guest RAM: RAM blocks, backends, translation, discard, dirty tracking     */
/* ------------------------------------------------------------------------ */
/*
 * Every memory-backed region (RAM, ROM, ROM device, RAM device) owns a RAM
 * block: its host memory (HVA), a place in the context's block offset
 * space (QEMU's ram_addr_t), and one dirty bitmap per client with one bit
 * per 4 KiB page (MT_DIRTY_PAGE_SIZE). docs/ram.md has the details.
 */

/** Granule of dirty tracking and of block sizes (QEMU's target page). */
#define MT_DIRTY_PAGE_SIZE 4096u

/** Where a RAM block's memory comes from. */
typedef enum mt_ram_backend {
    MT_RAM_ANON = 0, /* private anonymous memory, 2 MiB aligned, guard page after */
    MT_RAM_MEMFD,    /* a memfd (shared; hand mt_region_ram_fd() to another process) */
    MT_RAM_FILE,     /* a file, or a new file in a directory (hugetlbfs: its page size) */
    MT_RAM_FD,       /* a file descriptor of the caller's (not closed by memtree) */
    MT_RAM_PTR,      /* caller memory (never unmapped by memtree) */
} mt_ram_backend;

/**
 * struct mt_ram_opts - how to back a RAM region (zero-initialise, then set
 * what you need).
 * @backend:   see mt_ram_backend.
 * @max_size:  0 for a fixed size; else the region is resizeable up to this
 *             (memory is reserved for @max_size, used for the size).
 * @readonly:  a ROM.
 * @path:      MT_RAM_FILE: a file (created if missing, sized if empty) or a
 *             directory in which a new unlinked file is made.
 * @fd:        MT_RAM_FD: the descriptor; @fd_offset for both file kinds.
 * @host:      MT_RAM_PTR: the memory (at least @max_size or the size bytes).
 * @resized:   called with @opaque after mt_region_ram_resize() changed the
 *             size, on the calling thread.
 */
typedef struct mt_ram_opts {
    mt_ram_backend backend;
    uint64_t max_size;
    bool readonly;
    const char *path;
    int fd;
    /** MT_RAM_FILE, MT_RAM_FD: where the block starts in the file (a page multiple). */
    uint64_t fd_offset;
    void *host;
    void (*resized)(void *opaque, mt_region *r, uint64_t new_size);
    /** Passed to @resized. */
    void *opaque;
} mt_ram_opts;

/**
 * mt_region_new_ram_opts - a RAM region with the given backend.
 * Sizes are rounded up to MT_DIRTY_PAGE_SIZE (and to the backing page size
 * for hugetlbfs files) for the block; the region keeps the size asked for.
 * New blocks start dirty for every client. Memory is reserved, not
 * allocated: it is faulted in when touched.
 * Returns 0; MT_EINVAL for a bad combination (missing @path/@host/@fd,
 * @max_size below the size, a file whose size does not fit); MT_EIO when a
 * file cannot be opened or sized; MT_ENOMEM when memory cannot be mapped.
 * Nothing is leaked on failure.
 */
int mt_region_new_ram_opts(mt_ctx *ctx, const char *name, uint64_t size,
                           const mt_ram_opts *opts, mt_region **out);

/**
 * mt_region_ram_resize - change the size of a resizeable RAM region, as
 * QEMU's qemu_ram_resize: the same page-rounded size only updates the
 * region's size; otherwise the dirty bits of the old size are cleared, the
 * whole new size is marked dirty for every client, the region's size is
 * set and @resized is called. MT_EKIND if not RAM; MT_EINVAL if not
 * resizeable and the size differs, or above the maximum.
 */
int mt_region_ram_resize(mt_region *r, uint64_t new_size);

/** Bytes reserved for the block (the maximum for resizeable RAM), 0 if none. */
uint64_t mt_region_ram_max_size(const mt_region *r);
/** The backing file descriptor (memfd, file, fd backends), else -1. Owned by memtree unless MT_RAM_FD. */
int mt_region_ram_fd(const mt_region *r);
/** Page size of the backing memory (4096, or a huge page size). 0 without a block. */
uint64_t mt_region_ram_page_size(const mt_region *r);
/** The block's offset in the context's block offset space (QEMU ram_addr_t); UINT64_MAX without a block. */
uint64_t mt_region_ram_offset(const mt_region *r);

/**
 * mt_as_gpa_to_hva - host address of guest address @gpa in @as.
 * @len: in: bytes wanted; out: bytes contiguous in the same block (clipped
 *       to the range).
 * Returns 0, MT_ENOENT when no memory-backed region is there (holes, I/O),
 * MT_EINVAL. Read-only ranges are returned too (they are still host memory).
 * Lock-free (as mt_as_read).
 */
int mt_as_gpa_to_hva(mt_as *as, uint64_t gpa, void **hva, uint64_t *len);

/**
 * mt_ctx_hva_to_ram - which block holds host address @hva: the region and
 * the offset in it. O(log n) (caller memory that overlaps another block is
 * found by a scan); when several blocks hold @hva, any one of them is
 * returned. Returns 0 or MT_ENOENT.
 */
int mt_ctx_hva_to_ram(mt_ctx *ctx, const void *hva, mt_region **region,
                      uint64_t *offset);

/**
 * mt_ctx_ram_addr_to_ram - the block at @ram_addr in the block offset
 * space, and the offset in it. Returns 0 or MT_ENOENT.
 */
int mt_ctx_ram_addr_to_ram(mt_ctx *ctx, uint64_t ram_addr,
                           mt_region **region, uint64_t *offset);

/**
 * mt_region_ram_discard - give [@offset, @offset + @len) back to the host;
 * later reads, from the host or through an address space, see zeros.
 * Both must be multiples of the block's page size. Private memory is
 * dropped with madvise, shared memory (memfd, files) has a hole punched;
 * caller memory (MT_RAM_PTR) is zeroed. Returns 0, MT_EKIND, MT_EINVAL,
 * MT_ERANGE (outside the block) or MT_EIO.
 */
int mt_region_ram_discard(mt_region *r, uint64_t offset, uint64_t len);

/* Dirty clients (bit numbers of MT_DIRTY_* masks). */
#define MT_DIRTY_CLIENT_VGA       0u
#define MT_DIRTY_CLIENT_CODE      1u
#define MT_DIRTY_CLIENT_MIGRATION 2u
#define MT_DIRTY_NR_CLIENTS       3u

/*
 * Dirty tracking. Writes through the access path (mt_as_write, stores,
 * mt_as_write_rom, write mappings at mt_as_unmap) set the bits of the
 * clients that are logging the region (its dirty_log_mask in the view:
 * VGA while mt_region_set_dirty_log users remain, MIGRATION while global
 * dirty logging is on, CODE while mt_ctx_set_code_tracking is on). The
 * calls below are thread-safe (atomic bit operations) and take byte
 * offsets within the region; pages partly covered count.
 */

/** mt_region_dirty_set - mark pages dirty for the clients in @clients (an MT_DIRTY_* mask). */
int mt_region_dirty_set(mt_region *r, uint64_t offset, uint64_t len,
                        unsigned clients);

/** mt_region_dirty_get - is any page of the span dirty for @client? Result in *@dirty. */
int mt_region_dirty_get(mt_region *r, uint64_t offset, uint64_t len,
                        unsigned client, bool *dirty);

/** mt_region_dirty_test_and_clear - as get, and clear those bits. */
int mt_region_dirty_test_and_clear(mt_region *r, uint64_t offset,
                                   uint64_t len, unsigned client, bool *dirty);

/** An immutable copy of part of a dirty bitmap. */
typedef struct mt_dirty_snapshot mt_dirty_snapshot;

/**
 * mt_region_dirty_snapshot - atomically take (test and clear) the bits of
 * @client over the span into a new snapshot (owned by the caller:
 * mt_dirty_snapshot_free). This is how a migration or VGA client collects
 * what changed. Returns 0, MT_EINVAL, MT_EKIND, MT_ERANGE or MT_ENOMEM.
 */
int mt_region_dirty_snapshot(mt_region *r, uint64_t offset, uint64_t len,
                             unsigned client, mt_dirty_snapshot **out);

/** mt_dirty_snapshot_get - was the page holding byte @offset (of the region) dirty? */
bool mt_dirty_snapshot_get(const mt_dirty_snapshot *s, uint64_t offset);

/**
 * mt_dirty_snapshot_next - byte offset (in the region) of the first dirty
 * page at or after @offset, or UINT64_MAX when none.
 */
uint64_t mt_dirty_snapshot_next(const mt_dirty_snapshot *s, uint64_t offset);

/** mt_dirty_snapshot_count - number of dirty pages in the snapshot. */
uint64_t mt_dirty_snapshot_count(const mt_dirty_snapshot *s);

/** mt_dirty_snapshot_free - NULL is a no-op. */
void mt_dirty_snapshot_free(mt_dirty_snapshot *s);

/**
 * mt_region_dirty_merge - OR an accelerator's log into the block (the
 * log-sync hook: a listener's @log_sync calls this with what, e.g.,
 * KVM_GET_DIRTY_LOG returned). @bitmap has one bit per page, LSB first,
 * for @npages pages starting at the page holding @offset.
 */
int mt_region_dirty_merge(mt_region *r, uint64_t offset,
                          const uint64_t *bitmap, uint64_t npages,
                          unsigned clients);

/** mt_ctx_set_code_tracking - add the CODE client to every RAM range's mask (for TCG-style translators). */
int mt_ctx_set_code_tracking(mt_ctx *ctx, bool on);

/* ------------------------------------------------------------------------ */
/* Address spaces                                                            */
/* ------------------------------------------------------------------------ */

/**
 * mt_as_new - create an address space rendering @root.
 * @root: any region (takes a reference); it may be mapped elsewhere too,
 *        and several address spaces may share a root.
 * @name: copied; need not be unique; NULL gives "anonymous" (QEMU's name).
 * The address space is rendered at once (or at the outermost commit when
 * called inside a transaction). Returns 0, MT_EINVAL or MT_ENOMEM.
 */
int mt_as_new(mt_ctx *ctx, mt_region *root, const char *name, mt_as **out);

/**
 * mt_as_free - destroy an address space and drop its root reference.
 * @as: an address space, or NULL (no-op).
 */
void mt_as_free(mt_as *as);

/** Name given at creation. Valid while @as lives. */
const char *mt_as_name(const mt_as *as);
/** Root region. Borrowed. */
mt_region *mt_as_root(const mt_as *as);
/** Number of live address spaces of @ctx. */
size_t mt_ctx_nr_as(const mt_ctx *ctx);
/** Address space @i in creation order, or NULL. Borrowed. */
mt_as *mt_ctx_as(const mt_ctx *ctx, size_t i);

/* ------------------------------------------------------------------------ */
/* Flat views                                                                */
/* ------------------------------------------------------------------------ */

/**
 * struct mt_flat_range - one piece of a flat view.
 * @start, @last: the addresses covered, inclusive.
 * @region:       the terminal region that answers there (never an alias or
 *                a container). Borrowed; lives as long as the view.
 * @offset:       offset of @start within @region.
 * @readonly:     read-only here (the region's own flag or one inherited
 *                from a container or alias above it).
 * @nonvolatile:  likewise for non-volatile.
 * @romd:         the ROM device's ROMD mode when rendered.
 * @dirty_log_mask: dirty-logging clients on for the region (MT_DIRTY_*):
 *                VGA while mt_region_set_dirty_log() users remain,
 *                MIGRATION for RAM while global dirty logging is on.
 * @host:         host address of @start for memory-backed regions (RAM,
 *                ROM, ROM devices, RAM devices), else NULL.
 * @mt__access:   private to memtree (how the access path may reach it).
 */
typedef struct mt_flat_range {
    uint64_t start;
    uint64_t last;
    mt_region *region;
    uint64_t offset;
    bool readonly;
    bool nonvolatile;
    bool romd;
    uint8_t dirty_log_mask;
    uint8_t mt__access;
    void *host;
} mt_flat_range;

/* Dirty-logging clients, as bits of mt_flat_range.dirty_log_mask. */
#define MT_DIRTY_VGA       0x1u
#define MT_DIRTY_CODE      0x2u
#define MT_DIRTY_MIGRATION 0x4u

/**
 * mt_as_flatview - the address space's current flat view, with a new
 * reference for the caller (mt_flatview_unref). A view never changes once
 * published; a commit publishes a new one. Address spaces whose roots
 * reduce to the same region share one view object.
 * Lock-free.
 */
mt_flatview *mt_as_flatview(mt_as *as);

/** mt_flatview_unref - drop a reference on a view; NULL is a no-op. */
void mt_flatview_unref(mt_flatview *fv);

/** Number of ranges, sorted by address, disjoint, adjacent mergeable ranges merged. */
size_t mt_flatview_nr_ranges(const mt_flatview *fv);
/** Range @i, or NULL when out of range. Borrowed; valid while the view lives. */
const mt_flat_range *mt_flatview_range(const mt_flatview *fv, size_t i);
/** The region the view was rendered from, or NULL for the empty view. Borrowed. */
mt_region *mt_flatview_root(const mt_flatview *fv);

/* ------------------------------------------------------------------------ */
/* Listeners: every change of a flat view, as events                         */
/* ------------------------------------------------------------------------ */

/** A registered listener. */
typedef struct mt_listener mt_listener;

/**
 * struct mt_eventfd - an ioeventfd as listeners see it.
 * @addr:       address in the address space.
 * @size:       access size it matches (0: any size).
 * @match_data: match only writes of @data (in the region's byte order).
 * @data:       value to match.
 * @fd:         the caller's file descriptor (memtree never touches it).
 */
typedef struct mt_eventfd {
    uint64_t addr;
    unsigned size;
    bool match_data;
    uint64_t data;
    int fd;
} mt_eventfd;

/**
 * struct mt_listener_ops - what a listener wants to hear. Any hook may be
 * NULL. @opaque of mt_listener_register() is passed first to each. The
 * @range passed is valid only during the call.
 *
 * Order, as in QEMU 7.2: listeners of a context are ordered by ascending
 * @priority, equal priorities in registration order ("forward"); "reverse"
 * hooks run in exactly the opposite order. At the outermost commit that
 * changed anything: @begin (forward) for every listener of the context;
 * then, address space by address space in creation order, all removals
 * (@region_del, reverse) then, in address order, @region_add (forward) for
 * new ranges and @region_nop (forward) for every unchanged range, with
 * @log_start (forward) / @log_stop (reverse) where only the dirty-log mask
 * changed; then @eventfd_del (forward) / @eventfd_add (reverse) for that
 * address space; finally @commit (forward) for every listener. A range whose
 * attributes changed is removed and added again, never modified.
 * A listener with @region_nop costs O(ranges) per commit; without it a
 * commit costs only what changed.
 * Callbacks must not change the memory map (no mutators, no commit).
 */
typedef struct mt_listener_ops {
    /** Order among listeners: ascending, FIFO among equals. */
    int priority;
    /** An outermost commit with a change pending starts. */
    void (*begin)(void *opaque);
    /** It ends. */
    void (*commit)(void *opaque);
    /** A range entered the view. */
    void (*region_add)(void *opaque, const mt_flat_range *range);
    /** A range left the view (reverse order). */
    void (*region_del)(void *opaque, const mt_flat_range *range);
    /** A range is unchanged (every commit that had a change pending). */
    void (*region_nop)(void *opaque, const mt_flat_range *range);
    /** Dirty-log clients were added to an unchanged range. */
    void (*log_start)(void *opaque, const mt_flat_range *range,
                      unsigned old_mask, unsigned new_mask);
    /** Dirty-log clients were removed from an unchanged range (reverse order). */
    void (*log_stop)(void *opaque, const mt_flat_range *range,
                     unsigned old_mask, unsigned new_mask);
    /** Merge your dirty log for a logged range (mt_as_log_sync). */
    void (*log_sync)(void *opaque, const mt_flat_range *range);
    /** Global (migration) dirty logging starts. */
    void (*log_global_start)(void *opaque);
    /** It stops (reverse order). */
    void (*log_global_stop)(void *opaque);
    /** An ioeventfd entered the address space (reverse order). */
    void (*eventfd_add)(void *opaque, const mt_flat_range *range,
                        const mt_eventfd *e);
    /** An ioeventfd left it. */
    void (*eventfd_del)(void *opaque, const mt_flat_range *range,
                        const mt_eventfd *e);
    /** A coalesced part [addr, addr + len) of a range appeared. */
    void (*coalesced_io_add)(void *opaque, const mt_flat_range *range,
                             uint64_t addr, uint64_t len);
    /** It went (reverse order). */
    void (*coalesced_io_del)(void *opaque, const mt_flat_range *range,
                             uint64_t addr, uint64_t len);
} mt_listener_ops;

/**
 * mt_listener_register - listen to @as.
 * @ops:    copied.
 * @opaque: passed to every hook; not owned.
 * @out:    receives the handle (mt_listener_unregister).
 * Replays the current view at once: @begin, @log_global_start if global
 * dirty logging is on, @region_add (then @log_start from mask 0 where a
 * range is logged) for every range in address order, @commit. Existing
 * ioeventfds are not replayed (as in QEMU). Not inside a transaction
 * callback. Returns 0, MT_EINVAL or MT_ENOMEM.
 */
int mt_listener_register(mt_as *as, const mt_listener_ops *ops, void *opaque,
                         mt_listener **out);

/**
 * mt_listener_unregister - stop listening: @begin, then for every range
 * @log_stop (to mask 0) where logged and @region_del, then @commit, then
 * the listener is freed. NULL is a no-op. Destroying the address space
 * does the same for each of its listeners.
 */
void mt_listener_unregister(mt_listener *l);

/**
 * mt_region_add_eventfd - signal @fd, instead of calling the device, for
 * writes at @offset of @size bytes (0: any size), only of value @data when
 * @match_data. @data is given in host order and converted to the region's
 * byte order. Listeners see the change at the next commit (eventfd hooks
 * only; no re-render). Returns 0, MT_EINVAL, MT_ENOMEM.
 */
int mt_region_add_eventfd(mt_region *r, uint64_t offset, unsigned size,
                          bool match_data, uint64_t data, int fd);

/** mt_region_del_eventfd - remove an eventfd added with the same arguments. MT_ENOENT if none. */
int mt_region_del_eventfd(mt_region *r, uint64_t offset, unsigned size,
                          bool match_data, uint64_t data, int fd);

/**
 * mt_region_add_coalescing - batch writes to [@offset, @offset+@size) of
 * @r (coalesced MMIO). Listeners hear @coalesced_io_add at once for every
 * range showing that part. Returns 0, MT_EINVAL, MT_ERANGE, MT_ENOMEM.
 */
int mt_region_add_coalescing(mt_region *r, uint64_t offset, uint64_t size);

/** mt_region_set_coalescing - coalesce the whole region (clears earlier parts first). */
int mt_region_set_coalescing(mt_region *r);

/** mt_region_clear_coalescing - stop coalescing; listeners hear @coalesced_io_del at once. */
int mt_region_clear_coalescing(mt_region *r);

/**
 * mt_ctx_dirty_log_start - turn global (migration) dirty logging on:
 * @log_global_start for every listener, then every RAM-backed range gains
 * MT_DIRTY_MIGRATION (@log_start). Counted: as many stops as starts.
 */
int mt_ctx_dirty_log_start(mt_ctx *ctx);

/** mt_ctx_dirty_log_stop - the reverse: ranges lose the bit, then @log_global_stop (reverse order). */
int mt_ctx_dirty_log_stop(mt_ctx *ctx);

/**
 * mt_as_log_sync - call @log_sync of @as's listeners for every range of
 * its view with a non-zero dirty-log mask, restricted to ranges of @r
 * unless @r is NULL. Returns 0 or MT_EINVAL.
 */
int mt_as_log_sync(mt_as *as, mt_region *r);

/* ------------------------------------------------------------------------ */
/* Access path: reads and writes through an address space                   */
/* ------------------------------------------------------------------------ */
/*
 * Semantics follow QEMU 7.2 (docs/access.md has the details):
 * - Holes: reads return zeros with MT_TX_DECODE_ERROR, writes are dropped
 *   with MT_TX_DECODE_ERROR. (A port space whose root is an I/O region with
 *   mt_ops_unassigned_io() reads all-ones with MT_TX_OK instead.)
 * - RAM is copied directly. ROM refuses writes with MT_TX_DECODE_ERROR
 *   (mt_as_write_rom() loads firmware). A ROM device in ROMD mode reads
 *   directly and sends writes to its callbacks; in MMIO mode both go to the
 *   callbacks. RAM made read-only only by a read-only alias or container
 *   above it is still written (the region's own flag decides, as in QEMU).
 * - I/O regions: each access is cut into pieces the device accepts
 *   (valid/impl rules of mt_ops, natural alignment), values are laid out in
 *   the buffer in the device's byte order, and the results of all pieces
 *   are ORed.
 * - attrs.memory: a piece that is not RAM is skipped with
 *   MT_TX_ACCESS_ERROR.
 * - Re-entrancy guard: an I/O region entered again on the same thread while one of its callbacks runs, for example
 *   because the device DMAs into its own registers, is refused with
 *   MT_TX_ACCESS_ERROR. Regions sharing a guard (mt_region_set_guard) count
 *   as one device. mt_region_set_reentrancy_guard(r, false) opts out.
 * Accesses of length 0 succeed without doing anything. All access calls
 * read the address space's current flat view. Callbacks run on the calling
 * thread; they may access the address space (subject to the guard).
 */

/**
 * mt_ops_unassigned_io - callbacks of an unassigned port-I/O space: reads
 * return all-ones, writes are ignored, any size is accepted, MT_TX_OK.
 * Use as the ops of an I/O address space's root region. Static; thread-safe.
 */
const mt_ops *mt_ops_unassigned_io(void);

/**
 * mt_as_read - read @len bytes at @addr into @buf. Returns ORed MT_TX_* bits.
 * Lock-free: runs inside an RCU read-side section and uses one flat view
 * throughout, whatever other threads commit meanwhile; device callbacks run
 * on this thread with no memtree lock held.
 */
mt_result mt_as_read(mt_as *as, uint64_t addr, mt_attrs attrs, void *buf,
                     uint64_t len);

/** mt_as_write - write @len bytes from @buf at @addr. Returns ORed MT_TX_*
 *  bits. Lock-free (as mt_as_read). */
mt_result mt_as_write(mt_as *as, uint64_t addr, mt_attrs attrs,
                      const void *buf, uint64_t len);

/** mt_as_rw - mt_as_write() when @is_write, else mt_as_read(). Lock-free. */
mt_result mt_as_rw(mt_as *as, uint64_t addr, mt_attrs attrs, void *buf,
                   uint64_t len, bool is_write);

/**
 * mt_as_write_rom - write into RAM, ROM and ROM-device memory alike, as a
 * firmware loader does; I/O pieces are skipped. Returns MT_TX_OK.
 * Lock-free (as mt_as_read).
 */
mt_result mt_as_write_rom(mt_as *as, uint64_t addr, mt_attrs attrs,
                          const void *buf, uint64_t len);

/**
 * mt_as_load - load @size (1, 2, 4 or 8) bytes at @addr as an integer of
 * byte order @endian into *@value (zero-extended). Never split: an access
 * that straddles two ranges, or hits anything but directly readable memory,
 * is sent whole to the callbacks of the region at @addr (QEMU's ld*_phys).
 * Returns MT_TX_* bits; MT_TX_DECODE_ERROR for a bad @size.
 * Lock-free (as mt_as_read).
 */
mt_result mt_as_load(mt_as *as, uint64_t addr, unsigned size,
                     mt_endian endian, mt_attrs attrs, uint64_t *value);

/** mt_as_store - the store counterpart of mt_as_load(). Lock-free. */
mt_result mt_as_store(mt_as *as, uint64_t addr, unsigned size,
                      mt_endian endian, mt_attrs attrs, uint64_t value);

/**
 * mt_as_translate - what answers at @addr.
 * @region: receives the terminal region, or NULL for a hole. Borrowed:
 *          valid while the caller keeps the region alive (take
 *          mt_region_ref inside an mt_read_lock section), while it stays
 *          mapped, or until the end of an enclosing mt_read_lock() section.
 * @offset: receives the offset of @addr in that region.
 * @len:    in: the length wanted; out: how much of it the same region
 *          answers contiguously (for RAM, clipped to the range; for holes,
 *          to the hole).
 * Returns 0 or MT_EINVAL. Lock-free.
 */
int mt_as_translate(mt_as *as, uint64_t addr, mt_attrs attrs,
                    mt_region **region, uint64_t *offset, uint64_t *len);

/**
 * mt_as_access_valid - would an access of @len bytes at @addr be accepted
 * everywhere (mapped, and accepted by every device piece)? Nothing is
 * accessed.
 * Lock-free (as mt_as_read).
 */
bool mt_as_access_valid(mt_as *as, uint64_t addr, uint64_t len,
                        bool is_write, mt_attrs attrs);

/**
 * mt_as_map - map guest memory for DMA.
 * @len: in: bytes wanted; out: bytes mapped (may be less; 0 on failure).
 * Returns a host pointer: directly into RAM, extended while the same region
 * continues, or a bounce buffer for anything else (pre-filled by a read
 * unless @is_write; written back by mt_as_unmap when @is_write). Bounce
 * buffers of one address space share a byte budget
 * (mt_as_set_bounce_budget, default 4096): when it is spent, returns NULL
 * with *@len = 0. Every successful map must be unmapped.
 * Lock-free lookup; the address space's mapping table takes a short leaf
 * mutex. Callable from any thread; unmap may run on another thread than
 * map.
 */
void *mt_as_map(mt_as *as, uint64_t addr, uint64_t *len, bool is_write,
                mt_attrs attrs);

/**
 * mt_as_unmap - end a mapping made by mt_as_map().
 * @buf, @len:   what mt_as_map returned and mapped.
 * @access_len:  bytes actually accessed (written back for bounce buffers).
 * Returns 0, or MT_EINVAL if @buf is not an open mapping of @as.
 */
int mt_as_unmap(mt_as *as, void *buf, uint64_t len, bool is_write,
                uint64_t access_len);

/**
 * mt_as_map_iov - map [@addr, @addr + @len) for DMA, whole, as a list of
 * host segments in guest-address order, ready for preadv()/pwritev() or a
 * vhost ring: mt_as_map() repeated until the range is covered (a segment
 * per run of one RAM region with contiguous offsets, a bounce buffer per
 * piece of anything else).
 * @iov: receives the segments; @max: room in @iov.
 * Returns the number of segments (0 for @len 0), or, with nothing left
 * mapped: MT_ERANGE when it takes more than @max segments or the range
 * passes 2^64, MT_ENOMEM when the bounce budget (or memory) runs out,
 * MT_EKIND when @attrs.memory meets something that is not RAM, MT_EINVAL.
 * Unmap with mt_as_unmap_iov(). Lock-free lookups, as mt_as_map().
 */
int mt_as_map_iov(mt_as *as, uint64_t addr, uint64_t len, bool is_write,
                  mt_attrs attrs, struct iovec *iov, size_t max);

/**
 * mt_as_unmap_iov - end the @n mappings of mt_as_map_iov().
 * @access_len: bytes accessed from the start of the range (for writes:
 *              written back to bounce-buffered devices, logged dirty in
 *              RAM), spread over the segments in order.
 * Every segment is unmapped; returns 0, or the first segment's error
 * (MT_EINVAL: not an open mapping of @as).
 */
int mt_as_unmap_iov(mt_as *as, const struct iovec *iov, size_t n,
                    bool is_write, uint64_t access_len);

/** mt_as_set_bounce_budget - bytes of bounce buffers @as may hold at once. */
int mt_as_set_bounce_budget(mt_as *as, uint64_t bytes);

/**
 * mt_region_set_reentrancy_guard - turn @r's re-entrancy guard off (false)
 * or back on (true, the default) for a device that legitimately accesses
 * its own registers.
 */
int mt_region_set_reentrancy_guard(mt_region *r, bool on);

/**
 * struct mt_guard - the re-entrancy guard of one device, shared by all its
 * regions. Caller-allocated (zero-initialise it); must outlive the regions
 * using it. Without one, each region is its own device.
 */
typedef struct mt_guard {
    void *reserved; /* private to memtree */
} mt_guard;

/** mt_region_set_guard - make @r use @guard (NULL: back to its own). */
int mt_region_set_guard(mt_region *r, mt_guard *guard);

/* ------------------------------------------------------------------------ */
/* `info mtree` printing and loading                                         */
/* ------------------------------------------------------------------------ */

#define MT_MTREE_DISABLED 0x1u /* like `info mtree -D`: print disabled regions */
#define MT_MTREE_FLAT     0x2u /* like `info mtree -f`: print the flat views */

/**
 * mt_mtree_print - print every address space of @ctx in QEMU 7.2's
 * `info mtree` format (flags 0), `info mtree -D` (MT_MTREE_DISABLED) or
 * `info mtree -f` (MT_MTREE_FLAT). Blocks come in address-space creation
 * order. Returns 0, MT_EINVAL, MT_ENOMEM or MT_EIO (a write to @out failed).
 */
int mt_mtree_print(mt_ctx *ctx, FILE *out, unsigned flags);

/**
 * mt_range_note_fn - a suffix for one range of a flat view as shown by one
 * address space (QEMU prints " KVM" for ranges an accelerator maps), or
 * NULL for none. The string must live until the call returns.
 */
typedef const char *(*mt_range_note_fn)(void *opaque, const mt_as *as,
                                        const mt_flat_range *range);

/**
 * mt_mtree_print_notes - mt_mtree_print() whose flat views append
 * @note(@opaque, as, range) after each range, once per address space
 * sharing the view, in creation order (see mt_kvm_note()).
 */
int mt_mtree_print_notes(mt_ctx *ctx, FILE *out, unsigned flags,
                         mt_range_note_fn note, void *opaque);

/**
 * struct mt_load_error - where and why loading failed.
 * @in_facts: the error is in the facts text, not the dump.
 * @line:     1-based line number (0 when the error has no line).
 * @msg:      what was expected, NUL-terminated.
 */
typedef struct mt_load_error {
    bool in_facts;
    unsigned line;
    char msg[200];
} mt_load_error;

/**
 * mt_mtree_load - rebuild regions and address spaces from a QEMU
 * `info mtree` or `info mtree -D` dump, through the public API.
 * @dump, @dump_len:   the dump text (need not be NUL-terminated).
 * @facts, @facts_len: facts the dump cannot show (see docs/mtree-format.md:
 *                     "terminates NAME", "container NAME", "readonly NAME",
 *                     "dirty-log NAME"), or NULL/0.
 * @err:               filled on failure; may be NULL.
 * On success the new address spaces are appended to @ctx in dump order.
 * On failure nothing is added to @ctx. Returns 0, MT_EPARSE, MT_EINVAL or
 * MT_ENOMEM.
 */
int mt_mtree_load(mt_ctx *ctx, const char *dump, size_t dump_len,
                  const char *facts, size_t facts_len, mt_load_error *err);

#ifdef __cplusplus
}
#endif

#include "memtree/kvm.h"
#include "memtree/snapshot.h"
#include "memtree/migrate.h"

#endif /* MEMTREE_H */
