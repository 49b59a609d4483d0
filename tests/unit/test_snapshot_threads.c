/* SPDX-License-Identifier: MIT */
/*
 * test_snapshot_threads.c: resets while other threads read. Reader
 * threads keep reading memory a reset never writes (ROM, a RAM page never
 * dirtied) and translating addresses whose answer a reset changes (an
 * alias switched on and off, a device moved), while the main thread
 * writes, changes the map and resets, hundreds of times. Readers must
 * always see the snapshot's bytes and one of the two maps; at the end the
 * memory and the map are the snapshot's. (Under ThreadSanitizer this also
 * checks that resets and lock-free readers do not race.)
 */
#include <pthread.h>
#include <stdatomic.h>

#include "mt_testutil.h"
#include "snapshot_world.h"

#define PG 4096u
#define READERS 2

static atomic_bool stop;
static atomic_ulong reads;

typedef struct reader_arg {
    world *w;
    const uint8_t *rom;     /* expected contents */
    const uint8_t *last;    /* of ram's last page */
    int failed;
} reader_arg;

static void *reader(void *p)
{
    reader_arg *a = p;
    uint8_t buf[256];

    while (!atomic_load(&stop)) {
        mt_region *r; /* compared, never used: no read lock needed */
        uint64_t off, len = 16;

        if (mt_as_read(a->w->as, 0x100000 + 512, MT_ATTRS_UNSPECIFIED, buf,
                       sizeof(buf)) != MT_TX_OK ||
            memcmp(buf, a->rom + 512, sizeof(buf)))
            a->failed = 1;
        if (mt_as_read(a->w->as, W_RAM_SIZE - PG, MT_ATTRS_UNSPECIFIED, buf,
                       sizeof(buf)) != MT_TX_OK ||
            memcmp(buf, a->last, sizeof(buf)))
            a->failed = 2;
        if (mt_as_translate(a->w->as, 0x300000, MT_ATTRS_UNSPECIFIED, &r,
                            &off, &len) ||
            (r != NULL && (r != a->w->ram || off != 0x8000)))
            a->failed = 3;
        len = 1;
        if (mt_as_translate(a->w->as, 0x400000, MT_ATTRS_UNSPECIFIED, &r,
                            &off, &len) ||
            (r != NULL && r != a->w->dev))
            a->failed = 4;
        atomic_fetch_add(&reads, 1);
    }
    return NULL;
}

static void test_reset_while_reading(void **state)
{
    world w;
    mt_snapshot *s;
    pthread_t th[READERS];
    reader_arg args[READERS];
    w_mem m;
    char *topo;
    unsigned long before;

    (void)state;
    w_build(&w);
    w_fill_all(&w, 21);
    /* ram's last page (63, odd) is zero: give it contents. */
    w_fill(mt_region_ram_ptr(w.ram) + W_RAM_SIZE - PG, PG, 5);
    m = w_save(&w);
    topo = w_topology(&w);
    MT_OK(mt_snapshot_take(w.ctx, MT_SNAPSHOT_TRACK, &s, NULL));
    atomic_store(&stop, false);
    for (int i = 0; i < READERS; i++) {
        args[i] = (reader_arg){ &w, m.rom, m.ram + W_RAM_SIZE - PG, 0 };
        assert_int_equal(pthread_create(&th[i], NULL, reader, &args[i]), 0);
    }
    for (unsigned round = 0; round < 300; round++) {
        uint64_t pages;

        for (unsigned k = 0; k < 8; k++)
            assert_int_equal(mt_as_store(w.as, (uint64_t)((round + k) % 60) * PG,
                                         8, MT_ENDIAN_LITTLE,
                                         MT_ATTRS_UNSPECIFIED, round),
                             MT_TX_OK);
        mt_begin(w.ctx);
        MT_OK(mt_region_set_enabled(w.win, round & 1));
        MT_OK(mt_region_set_address(w.dev, 0x400000 + (round & 2) * 0x800));
        MT_OK(mt_commit(w.ctx));
        MT_OK(mt_snapshot_reset(w.ctx, s, &pages, NULL));
        assert_int_equal(pages, 8);
    }
    before = atomic_load(&reads);
    while (atomic_load(&reads) < before + 100)
        ;
    atomic_store(&stop, true);
    for (int i = 0; i < READERS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(args[i].failed, 0);
    }
    w_check_mem(&w, &m);
    w_check_topology(&w, topo);
    free(topo);
    w_mem_free(&m);
    mt_snapshot_free(s);
    mt_ctx_free(w.ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_while_reading),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
