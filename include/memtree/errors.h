/* SPDX-License-Identifier: MIT */
/*
 * memtree/errors.h: the one error convention of memtree.
 *
 * Every fallible call returns an int: 0 (MT_OK) on success, or one of the
 * negative MT_E* codes below. mt_strerror() names a code in English,
 * mt_err_name() gives its symbol ("MT_EINVAL"). Both accept any int and
 * never return NULL.
 */
#ifndef MEMTREE_ERRORS_H
#define MEMTREE_ERRORS_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(symbol, value, message). Values are stable across releases. */
#define MT_ERRNO_MAP(X)                                                        \
    X(MT_EINVAL,   -1, "invalid argument")                                      \
    X(MT_ENOMEM,   -2, "out of memory")                                         \
    X(MT_EBUSY,    -3, "region is already mapped in a container")              \
    X(MT_ENOENT,   -4, "no such object (not a subregion of that container)")   \
    X(MT_ELOOP,    -5, "would create a cycle (alias loop or own descendant)")  \
    X(MT_ERANGE,   -6, "size or address out of range (64-bit overflow)")       \
    X(MT_EKIND,    -7, "operation not valid for this kind of region")          \
    X(MT_EPARSE,   -8, "malformed input")                                       \
    X(MT_EIO,      -9, "input/output error")                                    \
    X(MT_ESTATE,  -10, "call not valid in the current state")                  \
    X(MT_EINUSE,  -11, "object still in use")                                  \
    X(MT_EMISMATCH, -12, "snapshot does not match the context's layout")       \
    X(MT_ECORRUPT, -13, "corrupt or truncated data (checksum or format)")

/** Error codes: 0 for success, negative for errors (see MT_ERRNO_MAP). */
enum mt_errno {
    MT_OK = 0,
#define MT__ERRNO_ENUM(sym, val, msg) sym = (val),
    MT_ERRNO_MAP(MT__ERRNO_ENUM)
#undef MT__ERRNO_ENUM
    MT__ERRNO_LAST = -14
};

/**
 * mt_strerror - describe an error code.
 * @err: a value returned by a memtree call (0 or negative).
 * Returns a static string; unknown codes give "unknown error".
 * Thread-safe.
 */
const char *mt_strerror(int err);

/**
 * mt_err_name - the symbolic name of an error code ("MT_EINVAL").
 * @err: a value returned by a memtree call.
 * Returns a static string; unknown codes give "MT_EUNKNOWN". Thread-safe.
 */
const char *mt_err_name(int err);

#ifdef __cplusplus
}
#endif
#endif /* MEMTREE_ERRORS_H */
