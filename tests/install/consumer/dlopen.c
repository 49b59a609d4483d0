/* SPDX-License-Identifier: MIT */
/*
 * dlopen.c: a program that is not linked with memtree (nor liburcu) loads
 * the installed libmemtree.so at run time, as a plugin host would, and
 * makes lock-free accesses from two threads. The library's read side uses
 * liburcu's thread-local reader state with the initial-exec TLS model
 * (src/internal.h); loaded this way, that state must come from glibc's
 * static TLS surplus, and this checks it does. Prints "ok" on success.
 *
 * Usage: dlopen LIBRARY (the path of libmemtree.so.N)
 */
#include <memtree.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#define SYM(name) __typeof__(name) *name##_p

static struct {
    SYM(mt_ctx_new);
    SYM(mt_ctx_free);
    SYM(mt_region_new_container);
    SYM(mt_region_new_ram);
    SYM(mt_region_add_subregion);
    SYM(mt_region_unref);
    SYM(mt_as_new);
    SYM(mt_as_store);
    SYM(mt_as_load);
    SYM(mt_strerror);
} f;

static mt_as *as;

/* Each thread stores its own words and reads them back. */
static void *worker(void *arg)
{
    uint64_t base = (uint64_t)(uintptr_t)arg * 0x800;

    for (uint64_t i = 0; i < 256; i++) {
        uint64_t v = 0;

        if (f.mt_as_store_p(as, base + i * 8, 8, MT_ENDIAN_LITTLE,
                            MT_ATTRS_UNSPECIFIED, base + i) != MT_TX_OK ||
            f.mt_as_load_p(as, base + i * 8, 8, MT_ENDIAN_LITTLE,
                           MT_ATTRS_UNSPECIFIED, &v) != MT_TX_OK ||
            v != base + i)
            return (void *)1;
    }
    return NULL;
}

#define LOAD(name)                                                        \
    do {                                                                  \
        *(void **)&f.name##_p = dlsym(lib, #name);                        \
        if (!f.name##_p) {                                                \
            fprintf(stderr, "dlsym %s: %s\n", #name, dlerror());          \
            return 1;                                                     \
        }                                                                 \
    } while (0)

int main(int argc, char **argv)
{
    mt_region *root, *ram;
    mt_ctx *ctx;
    pthread_t t[2];
    void *lib, *res;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: dlopen LIBRARY\n");
        return 2;
    }
    lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    LOAD(mt_ctx_new);
    LOAD(mt_ctx_free);
    LOAD(mt_region_new_container);
    LOAD(mt_region_new_ram);
    LOAD(mt_region_add_subregion);
    LOAD(mt_region_unref);
    LOAD(mt_as_new);
    LOAD(mt_as_store);
    LOAD(mt_as_load);
    LOAD(mt_strerror);
    if ((rc = f.mt_ctx_new_p(&ctx, NULL)) ||
        (rc = f.mt_region_new_container_p(ctx, "root", MT_SIZE_FULL, &root)) ||
        (rc = f.mt_region_new_ram_p(ctx, "ram", 0x1000, &ram)) ||
        (rc = f.mt_region_add_subregion_p(root, 0, ram)) ||
        (rc = f.mt_as_new_p(ctx, root, "memory", &as))) {
        fprintf(stderr, "setup: %s\n", f.mt_strerror_p(rc));
        return 1;
    }
    f.mt_region_unref_p(ram);
    f.mt_region_unref_p(root);
    for (uintptr_t i = 0; i < 2; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)i))
            return 1;
    rc = 0;
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], &res);
        if (res) {
            fprintf(stderr, "thread %d: an access went wrong\n", i);
            rc = 1;
        }
    }
    if (worker((void *)1)) {
        fprintf(stderr, "main thread: an access went wrong\n");
        rc = 1;
    }
    f.mt_ctx_free_p(ctx);
    dlclose(lib);
    if (!rc)
        puts("ok");
    return rc;
}
