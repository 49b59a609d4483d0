/* SPDX-License-Identifier: MIT */
/*
 * migrate_util.h: helpers of the migration tests. Include after
 * mt_testutil.h and snapshot_world.h.
 *
 * - a destination thread: mt_migrate_dst_load() into a world, reading the
 *   read end of a pipe while the test writes the other end;
 * - streams made in memory (a memfd read back into a buffer), and the
 *   offsets of their sections, for the corruption tests.
 */
#ifndef MIGRATE_UTIL_H
#define MIGRATE_UTIL_H

#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- a destination on its own thread ------------------------------------- */

typedef struct dst_thread {
    pthread_t tid;
    int fd;                 /* read end, closed by dst_join */
    world *w;
    mt_migrate_dst *dst;    /* kept for its records; freed by the test */
    int rc;
    mt_migrate_error err;
} dst_thread;

static inline void *dst_thread_main(void *arg)
{
    dst_thread *t = arg;

    t->rc = mt_migrate_dst_new(t->fd, NULL, &t->dst);
    if (!t->rc)
        t->rc = mt_migrate_dst_load(t->dst, t->w->ctx, &t->err);
    return NULL;
}

/* Start receiving into @w; *@wfd gets the end to migrate to. */
static inline void dst_spawn(dst_thread *t, world *w, int *wfd)
{
    int p[2];

    memset(t, 0, sizeof(*t));
    /* A reader that went away must show as MT_EIO, not kill the test. */
    signal(SIGPIPE, SIG_IGN);
    assert_int_equal(pipe(p), 0);
    t->fd = p[0];
    t->w = w;
    *wfd = p[1];
    assert_int_equal(pthread_create(&t->tid, NULL, dst_thread_main, t), 0);
}

/* Wait for the destination; returns what mt_migrate_dst_load returned. */
static inline int dst_join(dst_thread *t)
{
    assert_int_equal(pthread_join(t->tid, NULL), 0);
    close(t->fd);
    return t->rc;
}

/* ---- streams in memory ----------------------------------------------------- */

/* What was written to @fd (a memfd), as a malloc'd buffer; closes @fd. */
static inline uint8_t *memfd_contents(int fd, size_t *len)
{
    off_t end = lseek(fd, 0, SEEK_END);
    uint8_t *buf;

    assert_true(end >= 0);
    buf = malloc(end ? (size_t)end : 1);
    assert_non_null(buf);
    assert_int_equal(pread(fd, buf, (size_t)end, 0), end);
    close(fd);
    *len = (size_t)end;
    return buf;
}

static inline int new_memfd(void)
{
    int fd = memfd_create("stream", 0);

    assert_true(fd >= 0);
    return fd;
}

/* Little-endian fields of a stream. */
static inline uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/*
 * Offsets of the sections of a stream (header of 32 bytes, then sections
 * of 16 + payload + 8 bytes) into @at (room for @max), the end of the
 * stream last; returns how many offsets. Types into @type when not NULL.
 */
static inline size_t stream_sections(const uint8_t *s, size_t len,
                                     size_t *at, uint32_t *type, size_t max)
{
    size_t n = 0, pos = 32;

    while (pos + 16 <= len && n + 1 < max) {
        if (type)
            type[n] = le32(s + pos);
        at[n++] = pos;
        pos += 16 + (size_t)le64(s + pos + 8) + 8;
    }
    at[n] = pos;
    assert_int_equal(pos, len);
    return n;
}

#endif /* MIGRATE_UTIL_H */
