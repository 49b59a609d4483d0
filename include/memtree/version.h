/* SPDX-License-Identifier: MIT */
/* memtree/version.h: compile-time and run-time version of memtree. */
#ifndef MEMTREE_VERSION_H
#define MEMTREE_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

#define MT_VERSION_MAJOR 0
#define MT_VERSION_MINOR 1
#define MT_VERSION_PATCH 0
#define MT_VERSION_HEX                                                          \
    ((MT_VERSION_MAJOR << 16) | (MT_VERSION_MINOR << 8) | MT_VERSION_PATCH)

/** mt_version - the library's MT_VERSION_HEX at run time. Thread-safe. */
unsigned mt_version(void);
/** mt_version_string - "MAJOR.MINOR.PATCH" of the library at run time. */
const char *mt_version_string(void);

#ifdef __cplusplus
}
#endif
#endif /* MEMTREE_VERSION_H */
