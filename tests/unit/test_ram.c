/* SPDX-License-Identifier: MIT */
/*
 * test_ram.c: guest RAM through the public API: backends (anonymous,
 * memfd, file, directory, caller fd, hugetlbfs, caller memory), lazy
 * allocation, GPA/HVA/ram_addr translations, the block offset space,
 * resizing, discard, bad input and allocation failure.
 *
 * Facts checked come from docs/qemu-memory-reference.md section 6 and
 * checklist items 41-45 (QEMU 7.2 physmem.c / util/mmap-alloc.c).
 */
#include "mt_testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#define KiB (UINT64_C(1) << 10)
#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define U_ MT_ATTRS_UNSPECIFIED

/* ------------------------------------------------------------------------ */
/* Helpers: /proc parsing, temp directories                                  */
/* ------------------------------------------------------------------------ */

typedef struct vma {
    uintptr_t start, end;
    char perms[5];
} vma;

/* The mapping of this process that contains @addr, from /proc/self/maps. */
static bool vma_at(uintptr_t addr, vma *out)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    bool found = false;

    assert_non_null(f);
    while (!found && fgets(line, sizeof(line), f)) {
        unsigned long s, e;
        char perms[5];

        if (sscanf(line, "%lx-%lx %4s", &s, &e, perms) != 3)
            continue;
        if (addr >= s && addr < e) {
            out->start = s;
            out->end = e;
            memcpy(out->perms, perms, sizeof(perms));
            found = true;
        }
    }
    fclose(f);
    return found;
}

/* Rss in kB of the mapping starting at @start (from /proc/self/smaps). */
static long smaps_rss_kb(uintptr_t start)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    bool in = false;
    long rss = -1;

    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        unsigned long s, e;
        long kb;
        char c = line[0];

        /* Mapping headers start with a lower-case hex address, field
         * lines ("Rss:", "VmFlags:") with an upper-case letter. */
        if (((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) &&
            sscanf(line, "%lx-%lx", &s, &e) == 2) {
            in = s == start;
            continue;
        }
        if (in && sscanf(line, "Rss: %ld kB", &kb) == 1) {
            rss = kb;
            break;
        }
    }
    fclose(f);
    return rss;
}

/* Resident pages among the @n host pages at @p (mincore). */
static size_t resident_pages(const void *p, size_t n)
{
    size_t ps = (size_t)sysconf(_SC_PAGESIZE), count = 0;
    unsigned char vec[64];

    for (size_t i = 0; i < n; i += sizeof(vec)) {
        size_t k = n - i < sizeof(vec) ? n - i : sizeof(vec);

        assert_int_equal(mincore((void *)((uintptr_t)p + i * ps), k * ps,
                                 vec), 0);
        for (size_t j = 0; j < k; j++)
            count += vec[j] & 1;
    }
    return count;
}

static size_t count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    size_t n = 0;

    assert_non_null(d);
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static size_t dir_entries(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    size_t n = 0;

    assert_non_null(d);
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static long vm_size_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;

    assert_non_null(f);
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmSize: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static void t_tmpdir(char *buf, size_t len)
{
    const char *base = getenv("TMPDIR");

    snprintf(buf, len, "%s/mt_ram_XXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(buf));
}

static mt_ram_opts opts_of(mt_ram_backend backend)
{
    mt_ram_opts o;

    memset(&o, 0, sizeof(o));
    o.backend = backend;
    o.fd = -1;
    return o;
}

static mt_region *t_ram_opts(mt_ctx *ctx, const char *name, uint64_t size,
                             const mt_ram_opts *o)
{
    mt_region *r = NULL;

    MT_OK(mt_region_new_ram_opts(ctx, name, size, o, &r));
    assert_non_null(r);
    return r;
}

/*
 * Fixture: a context over the counting allocator, freed by the teardown
 * even when the test fails (so a failure does not also report leaks), and
 * checked to leave no allocation live.
 */
typedef struct fx {
    mt_ctx *ctx;
    t_alloc_state st;
    mt_allocator a;
} fx;

static int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    f->st.budget = -1;
    f->a = t_allocator(&f->st);
    if (mt_ctx_new(&f->ctx, &f->a)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    fx *f = *state;
    int rc = 0;

    f->st.budget = -1;
    mt_ctx_free(f->ctx);
    if (f->st.live != 0) {
        print_message("%ld allocations live after mt_ctx_free\n",
                      f->st.live);
        rc = -1;
    }
    free(f);
    return rc;
}

#define FX_CTX(state) (((fx *)*(state))->ctx)
#define FX_TEST(t) cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)

static uint64_t host_page(void)
{
    return (uint64_t)sysconf(_SC_PAGESIZE);
}

/* ------------------------------------------------------------------------ */
/* Backends                                                                  */
/* ------------------------------------------------------------------------ */

/* Checklist 44: anonymous RAM is 2 MiB aligned with one trailing PROT_NONE
 * guard page; the block's size is page rounded, the region keeps its own. */
static void test_anon_aligned_with_guard_page(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_ram_opts o = opts_of(MT_RAM_ANON);
    mt_region *r = t_ram_opts(ctx, "anon", 3 * MiB + 100, &o);
    uint64_t max = mt_region_ram_max_size(r);
    uint8_t *host = mt_region_ram_ptr(r);
    vma v;

    assert_int_equal(mt_region_kind_of(r), MT_REGION_RAM);
    assert_int_equal(mt_region_size(r), 3 * MiB + 100);
    assert_int_equal(max, 3 * MiB + 4096);
    assert_non_null(host);
    assert_int_equal((uintptr_t)host % (2 * MiB), 0);
    assert_int_equal(mt_region_ram_fd(r), -1);
    assert_int_equal(mt_region_ram_page_size(r), host_page());
    assert_int_not_equal(mt_region_ram_offset(r), UINT64_MAX);

    /* The block itself: read/write, private, ending at host + max. */
    assert_true(vma_at((uintptr_t)host, &v));
    assert_true(v.start <= (uintptr_t)host);
    assert_int_equal(v.end, (uintptr_t)host + max);
    assert_string_equal(v.perms, "rw-p");
    /* The guard page: a PROT_NONE mapping starting right after it. */
    assert_true(vma_at((uintptr_t)host + max, &v));
    assert_int_equal(v.start, (uintptr_t)host + max);
    assert_string_equal(v.perms, "---p");
    assert_true(v.end - v.start >= host_page());

    /* Zero-filled and writable at both ends. */
    assert_int_equal(host[0], 0);
    assert_int_equal(host[max - 1], 0);
    host[0] = 1;
    host[max - 1] = 2;

    /* Freeing the region unmaps block and guard. */
    mt_region_unref(r);
    assert_false(vma_at((uintptr_t)host, &v));
    assert_false(vma_at((uintptr_t)host + max, &v));

    /* mt_region_new_ram is the same backend. */
    r = t_ram(ctx, "plain", 64 * KiB);
    host = mt_region_ram_ptr(r);
    assert_int_equal((uintptr_t)host % (2 * MiB), 0);
    assert_true(vma_at((uintptr_t)host + 64 * KiB, &v));
    assert_int_equal(v.start, (uintptr_t)host + 64 * KiB);
    assert_string_equal(v.perms, "---p");
    /* NULL opts: anonymous as well. */
    mt_region *n = NULL;
    MT_OK(mt_region_new_ram_opts(ctx, "null-opts", 8 * KiB, NULL, &n));
    assert_int_equal((uintptr_t)mt_region_ram_ptr(n) % (2 * MiB), 0);
    assert_int_equal(mt_region_ram_fd(n), -1);
    mt_ctx_free(ctx);
}

/* A memfd block is shared memory: the fd sees the guest's writes, and
 * another mapping of it (here in a child process) writes back. */
static void test_memfd_shared_with_other_process(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_ram_opts o = opts_of(MT_RAM_MEMFD);
    mt_region *r = t_ram_opts(ctx, "shared", 64 * KiB, &o);
    mt_region *sys = t_container(ctx, "sys", 4 * GiB);
    int fd = mt_region_ram_fd(r);
    struct stat st;
    char buf[16];

    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    assert_true((uint64_t)st.st_size >= 64 * KiB);
    assert_int_equal((uintptr_t)mt_region_ram_ptr(r) % (2 * MiB), 0);
    t_map(sys, 0x100000, r);
    mt_as *as = t_as(ctx, sys, "memory");

    /* Guest write -> visible through the descriptor. */
    assert_int_equal(mt_as_write(as, 0x101234, U_, "hello memfd", 11),
                     MT_TX_OK);
    memset(buf, 0, sizeof(buf));
    assert_int_equal(pread(fd, buf, 11, 0x1234), 11);
    assert_memory_equal(buf, "hello memfd", 11);

    /* Another mapping of the fd -> visible to the guest. */
    uint8_t *p2 = mmap(NULL, 64 * KiB, PROT_READ | PROT_WRITE, MAP_SHARED,
                       fd, 0);
    assert_true(p2 != MAP_FAILED);
    assert_memory_equal(p2 + 0x1234, "hello memfd", 11);
    p2[0x2000] = 0x5a;
    uint8_t b = 0;
    assert_int_equal(mt_as_read(as, 0x102000, U_, &b, 1), MT_TX_OK);
    assert_int_equal(b, 0x5a);
    munmap(p2, 64 * KiB);

    /* Another process maps the same fd and writes. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        uint8_t *c = mmap(NULL, 64 * KiB, PROT_READ | PROT_WRITE,
                          MAP_SHARED, fd, 0);
        if (c == MAP_FAILED)
            _exit(1);
        memcpy(c + 0x3000, "child", 5);
        munmap(c, 64 * KiB);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    memset(buf, 0, sizeof(buf));
    assert_int_equal(mt_as_read(as, 0x103000, U_, buf, 5), MT_TX_OK);
    assert_memory_equal(buf, "child", 5);

    /* memtree owns the memfd: closed with the region. */
    mt_ctx_free(ctx);
    errno = 0;
    assert_int_equal(fcntl(fd, F_GETFD), -1);
    assert_int_equal(errno, EBADF);
}

/* MT_RAM_FILE with a file path: created and sized; data lands in the file
 * and stays there; an existing file is mapped as is; fd_offset selects
 * where; a file ending inside [offset, offset + size) is refused. */
static void test_file_backend_path(void **state)
{
    (void)state;
    char dir[PATH_MAX], path[PATH_MAX + 32];
    struct stat st;
    char buf[16];

    t_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/guest.img", dir);

    mt_ctx *ctx = t_ctx();
    mt_ram_opts o = opts_of(MT_RAM_FILE);
    o.path = path;
    mt_region *r = t_ram_opts(ctx, "file", 128 * KiB, &o);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_size, 128 * KiB);
    assert_true(mt_region_ram_fd(r) >= 0);
    assert_int_equal(mt_region_ram_page_size(r), host_page());
    assert_int_equal((uintptr_t)mt_region_ram_ptr(r) % (2 * MiB), 0);

    mt_region *sys = t_container(ctx, "sys", 4 * GiB);
    t_map(sys, 0, r);
    mt_as *as = t_as(ctx, sys, "memory");
    assert_int_equal(mt_as_write(as, 0x4000, U_, "file data", 9), MT_TX_OK);
    int rfd = open(path, O_RDONLY);
    assert_true(rfd >= 0);
    memset(buf, 0, sizeof(buf));
    assert_int_equal(pread(rfd, buf, 9, 0x4000), 9);
    assert_memory_equal(buf, "file data", 9);
    mt_ctx_free(ctx);

    /* The data outlives the region. */
    memset(buf, 0, sizeof(buf));
    assert_int_equal(pread(rfd, buf, 9, 0x4000), 9);
    assert_memory_equal(buf, "file data", 9);

    /* An existing file of the right size is mapped without truncation. */
    ctx = t_ctx();
    r = t_ram_opts(ctx, "again", 128 * KiB, &o);
    assert_memory_equal((uint8_t *)mt_region_ram_ptr(r) + 0x4000,
                        "file data", 9);
    /* A smaller block over a larger file is fine too. */
    mt_region *small = t_ram_opts(ctx, "small", 64 * KiB, &o);
    assert_memory_equal((uint8_t *)mt_region_ram_ptr(small) + 0x4000,
                        "file data", 9);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 128 * KiB);

    /* fd_offset: the block starts that far into the file. */
    int wfd = open(path, O_WRONLY);
    assert_true(wfd >= 0);
    assert_int_equal(pwrite(wfd, "upper half", 10, 64 * KiB + 0x100), 10);
    close(wfd);
    o.fd_offset = 64 * KiB;
    mt_region *hi = t_ram_opts(ctx, "upper", 64 * KiB, &o);
    assert_memory_equal((uint8_t *)mt_region_ram_ptr(hi) + 0x100,
                        "upper half", 10);
    /* ...and writes land there. */
    memcpy((uint8_t *)mt_region_ram_ptr(hi) + 0x200, "via host", 8);
    memset(buf, 0, sizeof(buf));
    assert_int_equal(pread(rfd, buf, 8, 64 * KiB + 0x200), 8);
    assert_memory_equal(buf, "via host", 8);

    /* File (128 KiB) larger than the offset (96 KiB) but smaller than
     * offset + size (160 KiB): refused (QEMU "backing store size ... does
     * not match 'size' option"). */
    mt_region *bad = NULL;
    o.fd_offset = 96 * KiB;
    MT_EXPECT(mt_region_new_ram_opts(ctx, "misfit", 64 * KiB, &o, &bad),
              MT_EINVAL);
    o.fd_offset = 0;
    MT_EXPECT(mt_region_new_ram_opts(ctx, "too-big", 256 * KiB, &o, &bad),
              MT_EINVAL);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 128 * KiB); /* not resized */
    /* An offset that is not a multiple of the page size. */
    o.fd_offset = 100;
    MT_EXPECT(mt_region_new_ram_opts(ctx, "unaligned", 4 * KiB, &o, &bad),
              MT_EINVAL);
    /* A path that cannot be opened. */
    char nopath[PATH_MAX + 32];
    snprintf(nopath, sizeof(nopath), "%s/no/such/dir/x.img", dir);
    o.fd_offset = 0;
    o.path = nopath;
    MT_EXPECT(mt_region_new_ram_opts(ctx, "nofile", 4 * KiB, &o, &bad),
              MT_EIO);
    mt_ctx_free(ctx);

    close(rfd);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* MT_RAM_FILE with a directory: a new unlinked file in it. */
static void test_file_backend_directory(void **state)
{
    (void)state;
    char dir[PATH_MAX];
    struct stat st;
    char buf[8];

    t_tmpdir(dir, sizeof(dir));
    mt_ctx *ctx = t_ctx();
    mt_ram_opts o = opts_of(MT_RAM_FILE);
    o.path = dir;
    mt_region *r = t_ram_opts(ctx, "dir-backed", 64 * KiB, &o);
    int fd = mt_region_ram_fd(r);

    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_nlink, 0); /* unlinked */
    assert_int_equal(st.st_size, 64 * KiB);
    assert_int_equal(dir_entries(dir), 0);

    memcpy((uint8_t *)mt_region_ram_ptr(r) + 0xff8, "dirfile!", 8);
    assert_int_equal(pread(fd, buf, 8, 0xff8), 8);
    assert_memory_equal(buf, "dirfile!", 8);

    mt_ctx_free(ctx);
    errno = 0;
    assert_int_equal(fcntl(fd, F_GETFD), -1); /* memtree's: closed */
    assert_int_equal(rmdir(dir), 0);            /* nothing left behind */
}

/* MT_RAM_FD: the caller's descriptor, used at fd_offset, never closed. */
static void test_fd_backend_caller_fd(void **state)
{
    (void)state;
    char dir[PATH_MAX], path[PATH_MAX + 32];
    struct stat st;
    char buf[8];

    t_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/caller.img", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    assert_true(fd >= 0);

    mt_ctx *ctx = t_ctx();
    mt_ram_opts o = opts_of(MT_RAM_FD);
    o.fd = fd;
    o.fd_offset = 8 * KiB;
    mt_region *r = t_ram_opts(ctx, "fd", 16 * KiB, &o);
    assert_int_equal(mt_region_ram_fd(r), fd);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_size, 8 * KiB + 16 * KiB); /* was empty: sized */

    uint8_t *host = mt_region_ram_ptr(r);
    memcpy(host + 10, "fdtest", 6);
    memset(buf, 0, sizeof(buf));
    assert_int_equal(pread(fd, buf, 6, 8 * KiB + 10), 6);
    assert_memory_equal(buf, "fdtest", 6);

    /* Missing descriptor. */
    mt_region *bad = NULL;
    o.fd = -1;
    MT_EXPECT(mt_region_new_ram_opts(ctx, "nofd", 4 * KiB, &o, &bad),
              MT_EINVAL);

    mt_region_unref(r);
    assert_true(fcntl(fd, F_GETFD) >= 0); /* still the caller's */
    mt_ctx_free(ctx);
    assert_true(fcntl(fd, F_GETFD) >= 0);
    memset(buf, 0, sizeof(buf));
    assert_int_equal(pread(fd, buf, 6, 8 * KiB + 10), 6);
    assert_memory_equal(buf, "fdtest", 6);

    close(fd);
    unlink(path);
    rmdir(dir);
}

/* hugetlbfs: the block uses the file system's page size. */
static void test_hugetlbfs_page_size(void **state)
{
    (void)state;
    FILE *f = fopen("/proc/mounts", "r");
    char line[1024], mnt[512] = "";

    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        char dev[256], where[512], type[64];

        if (sscanf(line, "%255s %511s %63s", dev, where, type) == 3 &&
            strcmp(type, "hugetlbfs") == 0 && access(where, W_OK) == 0) {
            snprintf(mnt, sizeof(mnt), "%s", where);
            break;
        }
    }
    fclose(f);
    if (!mnt[0]) {
        print_message("no writable hugetlbfs mount in /proc/mounts: "
                      "skipping the hugetlbfs test\n");
        skip();
    }

    struct statfs sfs;
    assert_int_equal(statfs(mnt, &sfs), 0);
    uint64_t hp = (uint64_t)sfs.f_bsize;
    mt_ctx *ctx = t_ctx();
    mt_ram_opts o = opts_of(MT_RAM_FILE);
    o.path = mnt;
    mt_region *r = NULL;
    int rc = mt_region_new_ram_opts(ctx, "huge", 4096, &o, &r);
    if (rc != 0) {
        mt_ctx_free(ctx);
        print_message("hugetlbfs at %s: cannot back a block (%s): "
                      "skipping\n", mnt, mt_err_name(rc));
        skip();
    }
    assert_int_equal(mt_region_ram_page_size(r), hp);
    assert_int_equal(mt_region_ram_max_size(r), hp); /* rounded up */
    assert_int_equal(mt_region_size(r), 4096);      /* as asked */
    assert_int_equal((uintptr_t)mt_region_ram_ptr(r) % hp, 0);
    /* Discard granule is the huge page. */
    MT_EXPECT(mt_region_ram_discard(r, 0, 4096), MT_EINVAL);
    mt_ctx_free(ctx);
}

/* MT_RAM_PTR (and the ram_ptr / ram_device shortcuts): caller memory is
 * used in place and never unmapped or freed. */
static void test_ptr_backend_never_unmapped(void **state)
{
    (void)state;
    size_t len = 64 * KiB;
    uint8_t *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint8_t *dev = mmap(NULL, len, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char vec[16];

    assert_true(buf != MAP_FAILED && dev != MAP_FAILED);
    memset(buf, 0x11, len);
    mt_ctx *ctx = t_ctx();
    mt_ram_opts o = opts_of(MT_RAM_PTR);
    o.host = buf;
    mt_region *r = t_ram_opts(ctx, "caller", len, &o);
    assert_ptr_equal(mt_region_ram_ptr(r), buf);
    assert_int_equal(mt_region_ram_fd(r), -1);
    assert_int_equal(mt_region_ram_max_size(r), len);
    /* Caller memory is not zeroed. */
    assert_int_equal(((uint8_t *)mt_region_ram_ptr(r))[100], 0x11);

    mt_region *sys = t_container(ctx, "sys", 4 * GiB);
    t_map(sys, 0x10000, r);
    mt_region *d = NULL;
    MT_OK(mt_region_new_ram_device(ctx, "bar", len, dev, &d));
    t_map(sys, 0x100000, d);
    mt_region *r2 = NULL;
    MT_OK(mt_region_new_ram_ptr(ctx, "ptr2", 4096, buf + 8192, &r2));
    mt_as *as = t_as(ctx, sys, "memory");
    assert_int_equal(mt_as_write(as, 0x10010, U_, "caller", 6), MT_TX_OK);
    assert_memory_equal(buf + 0x10, "caller", 6);
    assert_int_equal(mt_as_store(as, 0x100008, 4, MT_ENDIAN_LITTLE, U_,
                                 0x12345678),
                     MT_TX_OK);
    assert_int_equal(dev[8], 0x78);

    mt_region_unref(r2);
    mt_ctx_free(ctx);
    /* Both buffers are still mapped (mincore fails with ENOMEM on
     * unmapped memory) and keep their contents. */
    assert_int_equal(mincore(buf, len, vec), 0);
    assert_int_equal(mincore(dev, len, vec), 0);
    assert_memory_equal(buf + 0x10, "caller", 6);
    assert_int_equal(buf[8192], 0x11);
    assert_int_equal(dev[8], 0x78);
    munmap(buf, len);
    munmap(dev, len);
}

/* ------------------------------------------------------------------------ */
/* Lazy allocation                                                           */
/* ------------------------------------------------------------------------ */

static bool thp_always(void)
{
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    char line[128] = "";

    if (!f)
        return false;
    if (!fgets(line, sizeof(line), f))
        line[0] = 0;
    fclose(f);
    return strstr(line, "[always]") != NULL;
}

/* 64 GiB of guest RAM costs nothing until touched; one write makes one page
 * resident. */
static void test_lazy_64g(void **state)
{
    (void)state;
    const uint64_t sz = 64 * GiB;
    mt_ctx *ctx = t_ctx();
    mt_region *r = t_ram(ctx, "big", sz);
    uint8_t *host = mt_region_ram_ptr(r);
    size_t ps = (size_t)host_page();
    /* With THP "always" a touch may fault in a whole 2 MiB page. */
    size_t allowed = thp_always() ? (size_t)(2 * MiB) / ps : 1;

    assert_non_null(host);
    assert_int_equal(mt_region_ram_max_size(r), sz);
    assert_int_equal(smaps_rss_kb((uintptr_t)host), 0);
    for (uint64_t i = 0; i < 1024; i++)
        assert_int_equal(resident_pages(host + i * (sz / 1024), 1), 0);
    assert_int_equal(resident_pages(host, 512), 0);

    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    t_map(sys, 4 * GiB, r);
    mt_as *as = t_as(ctx, sys, "memory");
    const uint64_t off = 32 * GiB + 5 * ps + 7;
    assert_int_equal(mt_as_write(as, 4 * GiB + off, U_, "x", 1), MT_TX_OK);
    assert_int_equal(host[off], 'x');

    uint8_t *page = host + (off & ~(uint64_t)(ps - 1));
    assert_int_equal(resident_pages(page, 1), 1);
    uint8_t *huge = host + (off & ~(2 * MiB - 1));
    size_t res = resident_pages(huge, (size_t)(2 * MiB) / ps);
    assert_true(res >= 1 && res <= allowed);
    long rss = smaps_rss_kb((uintptr_t)host);
    assert_true(rss >= (long)(ps / 1024) &&
                rss <= (long)(allowed * ps / 1024));
    for (uint64_t i = 0; i < 1024; i++)
        if (host + i * (sz / 1024) < huge ||
            host + i * (sz / 1024) >= huge + 2 * MiB)
            assert_int_equal(resident_pages(host + i * (sz / 1024), 1), 0);
    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Translations                                                              */
/* ------------------------------------------------------------------------ */

#define EXPECT_HVA(as, gpa, want_len_in, hva_want, len_want)                 \
    do {                                                                     \
        void *h_ = NULL;                                                     \
        uint64_t l_ = (want_len_in);                                         \
        MT_OK(mt_as_gpa_to_hva((as), (gpa), &h_, &l_));                      \
        assert_ptr_equal(h_, (hva_want));                                    \
        assert_int_equal(l_, (len_want));                                    \
    } while (0)

static void test_gpa_to_hva(void **state)
{
    mt_ctx *ctx = FX_CTX(state);
    mt_region *sys = t_container(ctx, "sys", 4 * GiB);
    mt_region *ram = t_ram(ctx, "ram", MiB);
    mt_region *rom = t_rom(ctx, "rom", 64 * KiB);
    mt_region *romd = t_romd(ctx, "romd", 64 * KiB);
    mt_region *io = t_io(ctx, "io", 4 * KiB);
    mt_region *sub = t_container(ctx, "sub", MiB);
    mt_region *ram2 = t_ram(ctx, "ram2", 64 * KiB);
    static uint8_t bar[16 * 1024] __attribute__((aligned(4096)));
    mt_region *dev = NULL;

    MT_OK(mt_region_new_ram_device(ctx, "bar", sizeof(bar), bar, &dev));
    t_map(sys, 0, ram);
    t_map(sys, 0x200000, t_alias(ctx, "lo-alias", ram, 0x8000, 0x4000));
    t_map(sys, 0x300000, rom);
    t_map(sys, 0x400000, romd);
    t_map(sys, 0x500000, dev);
    t_map(sys, 0x600000, io);
    t_map(sub, 0x10000, ram2);
    t_map(sys, 0x800000, sub);
    t_map(sys, 0x900000, t_alias(ctx, "sub-alias", sub, 0x10000, 0x8000));
    mt_as *as = t_as(ctx, sys, "memory");
    uint8_t *rh = mt_region_ram_ptr(ram);

    EXPECT_HVA(as, 0x1000, 0x100, rh + 0x1000, 0x100);
    EXPECT_HVA(as, 0x1000, 0x10000000, rh + 0x1000, MiB - 0x1000);
    EXPECT_HVA(as, MiB - 1, 1, rh + MiB - 1, 1);
    EXPECT_HVA(as, MiB - 1, 2, rh + MiB - 1, 1);
    EXPECT_HVA(as, 0, UINT64_MAX, rh, MiB);
    /* Through an alias: the target's host memory at the alias offset. */
    EXPECT_HVA(as, 0x200010, 0x10000, rh + 0x8010, 0x4000 - 0x10);
    /* ROM, ROM device, RAM device. */
    EXPECT_HVA(as, 0x300008, 8, (uint8_t *)mt_region_ram_ptr(rom) + 8, 8);
    EXPECT_HVA(as, 0x400000, 0x20000, mt_region_ram_ptr(romd), 0x10000);
    EXPECT_HVA(as, 0x500004, 4, bar + 4, 4);
    EXPECT_HVA(as, 0x500000, MiB, bar, sizeof(bar));
    /* Alias of a container holding RAM. */
    EXPECT_HVA(as, 0x900100, MiB, (uint8_t *)mt_region_ram_ptr(ram2) + 0x100,
               0x8000 - 0x100);
    EXPECT_HVA(as, 0x810000, 4, mt_region_ram_ptr(ram2), 4);

    void *h = NULL;
    uint64_t l = 1;
    MT_EXPECT(mt_as_gpa_to_hva(as, 0x600000, &h, &l), MT_ENOENT); /* I/O */
    l = 1;
    MT_EXPECT(mt_as_gpa_to_hva(as, 0x700000, &h, &l), MT_ENOENT); /* hole */
    l = 1;
    MT_EXPECT(mt_as_gpa_to_hva(as, 0x800000, &h, &l), MT_ENOENT); /* hole */
    l = 1;
    MT_EXPECT(mt_as_gpa_to_hva(as, 0x204000, &h, &l), MT_ENOENT);
    l = 1;
    MT_EXPECT(mt_as_gpa_to_hva(as, UINT64_MAX, &h, &l), MT_ENOENT);
    MT_EXPECT(mt_as_gpa_to_hva(NULL, 0, &h, &l), MT_EINVAL);
    MT_EXPECT(mt_as_gpa_to_hva(as, 0, NULL, &l), MT_EINVAL);
    MT_EXPECT(mt_as_gpa_to_hva(as, 0, &h, NULL), MT_EINVAL);

    /* A higher-priority I/O region over RAM hides it. */
    mt_region *io2 = t_io(ctx, "io2", 4 * KiB);
    t_map_prio(sys, 0x2000, io2, 1);
    l = 1;
    MT_EXPECT(mt_as_gpa_to_hva(as, 0x2000, &h, &l), MT_ENOENT);
    EXPECT_HVA(as, 0x1000, 0x10000, rh + 0x1000, 0x1000);
    EXPECT_HVA(as, 0x3000, 4, rh + 0x3000, 4);
}

/* mt_ctx_hva_to_ram and mt_ctx_ram_addr_to_ram across 1000 blocks. */
static void test_hva_and_ram_addr_lookup_many(void **state)
{
    enum { NB = 1000 };
    mt_ctx *ctx = FX_CTX(state);
    mt_region **rs = calloc(NB, sizeof(*rs));
    uint8_t **hosts = calloc(NB, sizeof(*hosts));
    uint64_t *maxes = calloc(NB, sizeof(*maxes));
    uintptr_t lowest = UINTPTR_MAX;
    mt_region *got;
    uint64_t off;

    assert_true(rs && hosts && maxes);
    for (int i = 0; i < NB; i++) {
        char name[32];
        uint64_t size = (uint64_t)((i * 37) % 13 + 1) * 4096 + (i % 3) * 100;

        snprintf(name, sizeof(name), "blk%d", i);
        rs[i] = t_ram(ctx, name, size);
        hosts[i] = mt_region_ram_ptr(rs[i]);
        maxes[i] = mt_region_ram_max_size(rs[i]);
        assert_int_equal(maxes[i], (size + 4095) & ~UINT64_C(4095));
        if ((uintptr_t)hosts[i] < lowest)
            lowest = (uintptr_t)hosts[i];
    }
    for (int i = 0; i < NB; i++) {
        uint64_t ro = mt_region_ram_offset(rs[i]);
        uint64_t probes[3] = { 0, maxes[i] / 2, maxes[i] - 1 };

        assert_int_equal(ro % (256 * KiB), 0);
        for (int k = 0; k < 3; k++) {
            got = NULL;
            MT_OK(mt_ctx_hva_to_ram(ctx, hosts[i] + probes[k], &got, &off));
            assert_ptr_equal(got, rs[i]);
            assert_int_equal(off, probes[k]);
            got = NULL;
            MT_OK(mt_ctx_ram_addr_to_ram(ctx, ro + probes[k], &got, &off));
            assert_ptr_equal(got, rs[i]);
            assert_int_equal(off, probes[k]);
        }
        /* The guard page right after the block belongs to no block. */
        MT_EXPECT(mt_ctx_hva_to_ram(ctx, hosts[i] + maxes[i], &got, &off),
                  MT_ENOENT);
        /* Past the block in the offset space: the 256 KiB padding. */
        if (maxes[i] < 256 * KiB)
            MT_EXPECT(mt_ctx_ram_addr_to_ram(ctx, ro + maxes[i], &got, &off),
                      MT_ENOENT);
    }
    /* Below the lowest block (unsigned compare in QEMU, no wrap). */
    MT_EXPECT(mt_ctx_hva_to_ram(ctx, (void *)(lowest - 1), &got, &off),
              MT_ENOENT);
    int local = 0;
    MT_EXPECT(mt_ctx_hva_to_ram(ctx, &local, &got, &off), MT_ENOENT);
    MT_EXPECT(mt_ctx_hva_to_ram(ctx, NULL, &got, &off), MT_ENOENT);
    MT_EXPECT(mt_ctx_ram_addr_to_ram(ctx, UINT64_MAX, &got, &off), MT_ENOENT);
    MT_EXPECT(mt_ctx_hva_to_ram(NULL, hosts[0], &got, &off), MT_EINVAL);
    MT_EXPECT(mt_ctx_hva_to_ram(ctx, hosts[0], NULL, &off), MT_EINVAL);
    MT_EXPECT(mt_ctx_hva_to_ram(ctx, hosts[0], &got, NULL), MT_EINVAL);
    MT_EXPECT(mt_ctx_ram_addr_to_ram(NULL, 0, &got, &off), MT_EINVAL);
    MT_EXPECT(mt_ctx_ram_addr_to_ram(ctx, 0, NULL, &off), MT_EINVAL);

    /* Free every other block: those are gone from both indexes. */
    uint64_t *ros = calloc(NB, sizeof(*ros));
    assert_non_null(ros);
    for (int i = 0; i < NB; i++)
        ros[i] = mt_region_ram_offset(rs[i]);
    for (int i = 0; i < NB; i += 2)
        mt_region_unref(rs[i]);
    for (int i = 0; i < NB; i++) {
        if (i % 2 == 0) {
            MT_EXPECT(mt_ctx_hva_to_ram(ctx, hosts[i], &got, &off),
                      MT_ENOENT);
            MT_EXPECT(mt_ctx_ram_addr_to_ram(ctx, ros[i], &got, &off),
                      MT_ENOENT);
        } else {
            MT_OK(mt_ctx_hva_to_ram(ctx, hosts[i] + 1, &got, &off));
            assert_ptr_equal(got, rs[i]);
            assert_int_equal(off, 1);
            MT_OK(mt_ctx_ram_addr_to_ram(ctx, ros[i] + 1, &got, &off));
            assert_ptr_equal(got, rs[i]);
        }
    }
    free(ros);
    free(rs);
    free(hosts);
    free(maxes);
}

/* Checklist 45: a block is looked up over its max_length, not its used
 * length; the offset space reserves max_length as well. */
static void test_lookup_covers_max_length(void **state)
{
    mt_ctx *ctx = FX_CTX(state);
    mt_ram_opts o = opts_of(MT_RAM_ANON);
    o.max_size = MiB;
    mt_region *r = t_ram_opts(ctx, "resizeable", 64 * KiB, &o);
    uint8_t *host = mt_region_ram_ptr(r);
    uint64_t ro = mt_region_ram_offset(r), off;
    mt_region *got;
    vma v;

    assert_int_equal(mt_region_size(r), 64 * KiB);
    assert_int_equal(mt_region_ram_max_size(r), MiB);
    MT_OK(mt_ctx_hva_to_ram(ctx, host + 512 * KiB, &got, &off));
    assert_ptr_equal(got, r);
    assert_int_equal(off, 512 * KiB);
    MT_OK(mt_ctx_hva_to_ram(ctx, host + MiB - 1, &got, &off));
    assert_int_equal(off, MiB - 1);
    MT_EXPECT(mt_ctx_hva_to_ram(ctx, host + MiB, &got, &off), MT_ENOENT);
    MT_OK(mt_ctx_ram_addr_to_ram(ctx, ro + 768 * KiB, &got, &off));
    assert_ptr_equal(got, r);
    assert_int_equal(off, 768 * KiB);
    /* Reserved (and guarded) for the maximum. */
    assert_true(vma_at((uintptr_t)host + MiB, &v));
    assert_int_equal(v.start, (uintptr_t)host + MiB);
    assert_string_equal(v.perms, "---p");
    /* The next block is placed after max_length, not the used length. */
    mt_region *n = t_ram(ctx, "next", 4 * KiB);
    assert_int_equal(mt_region_ram_offset(n), ro + MiB);
}

/* Several regions over the same caller memory: the one created first is
 * found (QEMU walks its block list, oldest first for equal sizes). */
static void test_hva_lookup_caller_memory_first_created(void **state)
{
    static uint8_t buf[128 * 1024] __attribute__((aligned(4096)));
    mt_region *a = NULL, *b = NULL, *got = NULL;
    uint64_t off = 0;
    mt_ctx *ctx = FX_CTX(state);

    MT_OK(mt_region_new_ram_ptr(ctx, "a", 64 * KiB, buf, &a));
    MT_OK(mt_region_new_ram_ptr(ctx, "b", 64 * KiB, buf, &b));
    MT_OK(mt_ctx_hva_to_ram(ctx, buf + 0x100, &got, &off));
    assert_ptr_equal(got, a);
    assert_int_equal(off, 0x100);
    MT_OK(mt_ctx_hva_to_ram(ctx, buf + 64 * KiB - 1, &got, &off));
    assert_ptr_equal(got, a);
    MT_EXPECT(mt_ctx_hva_to_ram(ctx, buf + 64 * KiB, &got, &off), MT_ENOENT);
}

/* A block over caller memory that only partly overlaps an earlier one is
 * still found where it alone covers the address. */
static void test_hva_lookup_caller_memory_partial_overlap(void **state)
{
    static uint8_t buf[128 * 1024] __attribute__((aligned(4096)));
    mt_region *a = NULL, *c = NULL, *got = NULL;
    uint64_t off = 0;
    mt_ctx *ctx = FX_CTX(state);

    MT_OK(mt_region_new_ram_ptr(ctx, "a", 64 * KiB, buf, &a));
    MT_OK(mt_region_new_ram_ptr(ctx, "c", 64 * KiB, buf + 32 * KiB, &c));
    MT_OK(mt_ctx_hva_to_ram(ctx, buf + 40 * KiB, &got, &off));
    assert_ptr_equal(got, a);
    assert_int_equal(off, 40 * KiB);
    got = NULL;
    MT_OK(mt_ctx_hva_to_ram(ctx, buf + 80 * KiB, &got, &off));
    assert_ptr_equal(got, c);
    assert_int_equal(off, 48 * KiB);
}

/* When the first block over some caller memory is freed, the next one
 * still covering it is found. */
static void test_hva_lookup_caller_memory_after_free(void **state)
{
    static uint8_t buf[64 * 1024] __attribute__((aligned(4096)));
    mt_region *a = NULL, *b = NULL, *got = NULL;
    uint64_t off = 0;
    mt_ctx *ctx = FX_CTX(state);

    MT_OK(mt_region_new_ram_ptr(ctx, "a", 64 * KiB, buf, &a));
    MT_OK(mt_region_new_ram_ptr(ctx, "b", 64 * KiB, buf, &b));
    mt_region_unref(a);
    got = NULL;
    MT_OK(mt_ctx_hva_to_ram(ctx, buf + 0x100, &got, &off));
    assert_ptr_equal(got, b);
    assert_int_equal(off, 0x100);
}

/* Checklist 41: offsets in the block offset space are 256 KiB aligned and
 * best fit (the smallest gap that fits, after an existing block). */
static void test_ram_offsets_best_fit(void **state)
{
    mt_ctx *ctx = FX_CTX(state);
    mt_region *a = t_ram(ctx, "a", 100 * KiB);
    mt_region *b = t_ram(ctx, "b", MiB);
    mt_region *c = t_ram(ctx, "c", 64 * KiB);
    mt_region *d = t_ram(ctx, "d", 512 * KiB);
    mt_region *e = t_ram(ctx, "e", 64 * KiB);

    assert_int_equal(mt_region_ram_offset(a), 0);
    assert_int_equal(mt_region_ram_offset(b), 0x40000);
    assert_int_equal(mt_region_ram_offset(c), 0x140000);
    assert_int_equal(mt_region_ram_offset(d), 0x180000);
    assert_int_equal(mt_region_ram_offset(e), 0x200000);

    /* Gaps: 1 MiB where b was, 512 KiB where d was. */
    mt_region_unref(b);
    mt_region_unref(d);
    mt_region *f = t_ram(ctx, "f", 300 * KiB); /* fits both: smaller gap */
    assert_int_equal(mt_region_ram_offset(f), 0x180000);
    mt_region *g = t_ram(ctx, "g", 600 * KiB); /* only b's gap fits */
    assert_int_equal(mt_region_ram_offset(g), 0x40000);
    mt_region *h = t_ram(ctx, "h", 200 * KiB); /* rest of b's gap: 256 KiB */
    assert_int_equal(mt_region_ram_offset(h), 0x100000);
    mt_region *i = t_ram(ctx, "i", 2 * MiB);   /* no gap: after the end */
    assert_int_equal(mt_region_ram_offset(i), 0x240000);
    /* ROMs, ROM devices and RAM devices take blocks too. */
    mt_region *rom = t_rom(ctx, "rom", 4 * KiB);
    assert_int_equal(mt_region_ram_offset(rom), 0x440000);
    static uint8_t bar[4096] __attribute__((aligned(4096)));
    mt_region *dev = NULL;
    MT_OK(mt_region_new_ram_device(ctx, "bar", sizeof(bar), bar, &dev));
    assert_int_equal(mt_region_ram_offset(dev), 0x480000);

    mt_region *got;
    uint64_t off;
    MT_OK(mt_ctx_ram_addr_to_ram(ctx, 0x180000 + 0x1234, &got, &off));
    assert_ptr_equal(got, f);
    assert_int_equal(off, 0x1234);
    MT_EXPECT(mt_ctx_ram_addr_to_ram(ctx, 0x180000 + 300 * KiB, &got, &off),
              MT_ENOENT);
    /* Regions without memory have no offset. */
    mt_region *ct = t_container(ctx, "ct", 4 * KiB);
    assert_int_equal(mt_region_ram_offset(ct), UINT64_MAX);
    assert_int_equal(mt_region_ram_max_size(ct), 0);
    assert_int_equal(mt_region_ram_page_size(ct), 0);
    assert_int_equal(mt_region_ram_fd(ct), -1);
    assert_int_equal(mt_region_ram_offset(NULL), UINT64_MAX);
}

/* QEMU's find_ram_offset only tries the (aligned) end of each existing
 * block, so once the block at offset 0 is gone, offset 0 is not reused. */
static void test_ram_offset_candidates_are_block_ends(void **state)
{
    mt_ctx *ctx = FX_CTX(state);
    mt_region *a = t_ram(ctx, "a", MiB);
    mt_region *b = t_ram(ctx, "b", 64 * KiB);

    assert_int_equal(mt_region_ram_offset(a), 0);
    assert_int_equal(mt_region_ram_offset(b), MiB);
    mt_region_unref(a);
    mt_region *c = t_ram(ctx, "c", 64 * KiB);
    assert_int_equal(mt_region_ram_offset(c), MiB + 256 * KiB);
}

/* ------------------------------------------------------------------------ */
/* Resize                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct resize_log {
    int calls;
    mt_region *r;
    uint64_t size;
    uint64_t region_size_seen; /* mt_region_size during the callback */
} resize_log;

static void on_resized(void *opaque, mt_region *r, uint64_t new_size)
{
    resize_log *l = opaque;

    l->calls++;
    l->r = r;
    l->size = new_size;
    l->region_size_seen = mt_region_size(r);
}

/* Dirty pages of @client in [0, len) of @r, taken (and so cleared). */
static uint64_t take_dirty(mt_region *r, uint64_t len, unsigned client)
{
    mt_dirty_snapshot *s = NULL;
    uint64_t n;

    MT_OK(mt_region_dirty_snapshot(r, 0, len, client, &s));
    n = mt_dirty_snapshot_count(s);
    mt_dirty_snapshot_free(s);
    return n;
}

static uint64_t last_of_range_at(mt_as *as, uint64_t addr)
{
    mt_flatview *fv = mt_as_flatview(as);
    uint64_t last = 0;

    for (size_t i = 0; i < mt_flatview_nr_ranges(fv); i++) {
        const mt_flat_range *fr = mt_flatview_range(fv, i);
        if (fr->start <= addr && addr <= fr->last)
            last = fr->last;
    }
    mt_flatview_unref(fv);
    return last;
}

/* Checklists 42 and 43. */
static void test_resize(void **state)
{
    mt_ctx *ctx = FX_CTX(state);
    resize_log log = { 0 };
    mt_ram_opts o = opts_of(MT_RAM_ANON);
    o.max_size = MiB;
    o.resized = on_resized;
    o.opaque = &log;
    mt_region *r = t_ram_opts(ctx, "vram", 64 * KiB, &o);
    mt_region *sys = t_container(ctx, "sys", 4 * GiB);
    t_map(sys, 0x100000, r);
    mt_as *as = t_as(ctx, sys, "memory");
    uint8_t *host = mt_region_ram_ptr(r);

    /* New blocks start dirty for every client, over the used length. */
    for (unsigned c = 0; c < MT_DIRTY_NR_CLIENTS; c++) {
        bool d = false;
        MT_OK(mt_region_dirty_get(r, 64 * KiB, MiB - 64 * KiB, c, &d));
        assert_false(d);
        assert_int_equal(take_dirty(r, MiB, c), 16);
    }
    assert_int_equal(last_of_range_at(as, 0x100000), 0x100000 + 64 * KiB - 1);
    host[0x10] = 0x77;

    /* The same size: nothing at all. */
    MT_OK(mt_region_ram_resize(r, 64 * KiB));
    assert_int_equal(log.calls, 0);
    /* The same aligned size: only the region size (and the callback). */
    MT_OK(mt_region_ram_resize(r, 64 * KiB - 100));
    assert_int_equal(log.calls, 1);
    assert_ptr_equal(log.r, r);
    assert_int_equal(log.size, 64 * KiB - 100);
    assert_int_equal(log.region_size_seen, 64 * KiB - 100);
    assert_int_equal(mt_region_size(r), 64 * KiB - 100);
    assert_int_equal(last_of_range_at(as, 0x100000),
                     0x100000 + 64 * KiB - 100 - 1);
    for (unsigned c = 0; c < MT_DIRTY_NR_CLIENTS; c++)
        assert_int_equal(take_dirty(r, MiB, c), 0); /* nothing marked */
    MT_OK(mt_region_ram_resize(r, 64 * KiB));
    assert_int_equal(log.calls, 2);
    assert_int_equal(log.size, 64 * KiB);
    for (unsigned c = 0; c < MT_DIRTY_NR_CLIENTS; c++)
        assert_int_equal(take_dirty(r, MiB, c), 0);

    /* Grow: everything of the new size dirty for every client. */
    MT_OK(mt_region_ram_resize(r, 256 * KiB));
    assert_int_equal(log.calls, 3);
    assert_int_equal(log.size, 256 * KiB);
    assert_int_equal(mt_region_size(r), 256 * KiB);
    assert_int_equal(mt_region_ram_max_size(r), MiB);
    assert_ptr_equal(mt_region_ram_ptr(r), host); /* same memory */
    assert_int_equal(host[0x10], 0x77);
    assert_int_equal(last_of_range_at(as, 0x100000),
                     0x100000 + 256 * KiB - 1);
    uint8_t v = 0;
    assert_int_equal(mt_as_write(as, 0x100000 + 200 * KiB, U_, "\x42", 1),
                     MT_TX_OK);
    assert_int_equal(mt_as_read(as, 0x100000 + 200 * KiB, U_, &v, 1),
                     MT_TX_OK);
    assert_int_equal(v, 0x42);
    for (unsigned c = 0; c < MT_DIRTY_NR_CLIENTS; c++)
        assert_int_equal(take_dirty(r, MiB, c), 64);

    /* Shrink: the old used length is cleared, the new one marked. */
    MT_OK(mt_region_dirty_set(r, 200 * KiB, 1, MT_DIRTY_VGA));
    MT_OK(mt_region_ram_resize(r, 128 * KiB + 1));
    assert_int_equal(log.calls, 4);
    assert_int_equal(log.size, 128 * KiB + 1);
    assert_int_equal(mt_region_size(r), 128 * KiB + 1);
    assert_int_equal(last_of_range_at(as, 0x100000), 0x100000 + 128 * KiB);
    for (unsigned c = 0; c < MT_DIRTY_NR_CLIENTS; c++) {
        bool d = true;
        MT_OK(mt_region_dirty_get(r, 200 * KiB, 1, c, &d));
        assert_false(d);
        assert_int_equal(take_dirty(r, MiB, c), 33);
    }
    assert_int_equal(mt_as_read(as, 0x100000 + 200 * KiB, U_, &v, 1),
                     MT_TX_DECODE_ERROR); /* now a hole */

    /* Up to the maximum, not beyond. */
    MT_EXPECT(mt_region_ram_resize(r, MiB + 1), MT_EINVAL);
    MT_EXPECT(mt_region_ram_resize(r, 2 * MiB), MT_EINVAL);
    MT_EXPECT(mt_region_ram_resize(r, MT_SIZE_FULL), MT_EINVAL);
    assert_int_equal(log.calls, 4);
    assert_int_equal(mt_region_size(r), 128 * KiB + 1);
    MT_OK(mt_region_ram_resize(r, MiB));
    assert_int_equal(log.calls, 5);
    assert_int_equal(last_of_range_at(as, 0x100000), 0x100000 + MiB - 1);
    for (unsigned c = 0; c < MT_DIRTY_NR_CLIENTS; c++)
        assert_int_equal(take_dirty(r, MiB, c), 256);

    /* Not resizeable: only the same aligned size. */
    mt_region *fixed = t_ram(ctx, "fixed", 64 * KiB);
    MT_OK(mt_region_ram_resize(fixed, 64 * KiB));
    MT_OK(mt_region_ram_resize(fixed, 64 * KiB - 1));
    assert_int_equal(mt_region_size(fixed), 64 * KiB - 1);
    MT_EXPECT(mt_region_ram_resize(fixed, 128 * KiB), MT_EINVAL);
    MT_EXPECT(mt_region_ram_resize(fixed, 32 * KiB), MT_EINVAL);
    assert_int_equal(mt_region_size(fixed), 64 * KiB - 1);
    /* Not RAM. */
    MT_EXPECT(mt_region_ram_resize(sys, 64 * KiB), MT_EKIND);
    MT_EXPECT(mt_region_ram_resize(t_io(ctx, "io", 4096), 4096), MT_EKIND);
    MT_EXPECT(mt_region_ram_resize(NULL, 4096), MT_EINVAL);
}

/* ------------------------------------------------------------------------ */
/* Discard                                                                   */
/* ------------------------------------------------------------------------ */

static void check_discard(mt_ctx *ctx, mt_region *r, const char *what)
{
    mt_region *sys = t_container(ctx, "sys", 4 * GiB);
    const uint64_t len = 64 * KiB, ps = mt_region_ram_page_size(r);
    uint8_t *host = mt_region_ram_ptr(r);
    uint8_t *buf = malloc(len), *pat = malloc(len);

    print_message("discard: %s\n", what);
    assert_true(buf && pat);
    t_map(sys, 0x10000, r);
    mt_as *as = t_as(ctx, sys, what);
    for (uint64_t i = 0; i < len; i++)
        pat[i] = (uint8_t)(0xa0 + i % 31);
    assert_int_equal(mt_as_write(as, 0x10000, U_, pat, len), MT_TX_OK);
    assert_memory_equal(host, pat, len);

    MT_OK(mt_region_ram_discard(r, 4 * ps, 2 * ps));
    assert_int_equal(mt_as_read(as, 0x10000, U_, buf, len), MT_TX_OK);
    for (uint64_t i = 0; i < len; i++) {
        uint8_t want = i >= 4 * ps && i < 6 * ps ? 0 : pat[i];
        if (buf[i] != want || host[i] != want)
            fail_msg("%s: byte %#llx: as %#x host %#x want %#x", what,
                     (unsigned long long)i, buf[i], host[i], want);
    }
    /* Still usable after the discard. */
    assert_int_equal(mt_as_write(as, 0x10000 + 4 * ps, U_, "back", 4),
                     MT_TX_OK);
    assert_memory_equal(host + 4 * ps, "back", 4);
    /* Discard of everything, and of nothing. */
    MT_OK(mt_region_ram_discard(r, 0, len));
    MT_OK(mt_region_ram_discard(r, len, 0));
    assert_int_equal(mt_as_read(as, 0x10000, U_, buf, len), MT_TX_OK);
    for (uint64_t i = 0; i < len; i++)
        if (buf[i])
            fail_msg("%s: byte %#llx not zero after full discard", what,
                     (unsigned long long)i);

    /* Bad alignment, outside the block. */
    MT_EXPECT(mt_region_ram_discard(r, 100, ps), MT_EINVAL);
    MT_EXPECT(mt_region_ram_discard(r, ps, 100), MT_EINVAL);
    MT_EXPECT(mt_region_ram_discard(r, len - ps, 2 * ps), MT_ERANGE);
    MT_EXPECT(mt_region_ram_discard(r, len + ps, ps), MT_ERANGE);
    MT_EXPECT(mt_region_ram_discard(r, ps, UINT64_MAX - ps + 1), MT_ERANGE);
    free(buf);
    free(pat);
}

static void test_discard_backends(void **state)
{
    (void)state;
    char dir[PATH_MAX];
    mt_ram_opts o;
    mt_ctx *ctx;

    ctx = t_ctx();
    o = opts_of(MT_RAM_ANON);
    check_discard(ctx, t_ram_opts(ctx, "anon", 64 * KiB, &o), "anon");
    mt_ctx_free(ctx);

    ctx = t_ctx();
    o = opts_of(MT_RAM_MEMFD);
    mt_region *m = t_ram_opts(ctx, "memfd", 64 * KiB, &o);
    check_discard(ctx, m, "memfd");
    /* The hole is in the memfd itself. */
    char b[8] = { 1 };
    assert_int_equal(pread(mt_region_ram_fd(m), b, 8, 4096 * 5), 8);
    assert_memory_equal(b, "\0\0\0\0\0\0\0\0", 8);
    mt_ctx_free(ctx);

    t_tmpdir(dir, sizeof(dir));
    ctx = t_ctx();
    o = opts_of(MT_RAM_FILE);
    o.path = dir;
    check_discard(ctx, t_ram_opts(ctx, "file", 64 * KiB, &o), "file");
    mt_ctx_free(ctx);
    assert_int_equal(rmdir(dir), 0);

    uint8_t *mem = mmap(NULL, 64 * KiB, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(mem != MAP_FAILED);
    ctx = t_ctx();
    o = opts_of(MT_RAM_PTR);
    o.host = mem;
    check_discard(ctx, t_ram_opts(ctx, "ptr", 64 * KiB, &o), "ptr");
    mt_ctx_free(ctx);
    unsigned char vec[16];
    assert_int_equal(mincore(mem, 64 * KiB, vec), 0); /* still mapped */
    munmap(mem, 64 * KiB);

    /* Regions without memory. */
    ctx = t_ctx();
    mt_region *ct = t_container(ctx, "ct", 64 * KiB);
    mt_region *io = t_io(ctx, "io", 64 * KiB);
    mt_region *ram = t_ram(ctx, "ram", 64 * KiB);
    mt_region *al = t_alias(ctx, "al", ram, 0, 64 * KiB);
    MT_EXPECT(mt_region_ram_discard(ct, 0, 4096), MT_EKIND);
    MT_EXPECT(mt_region_ram_discard(io, 0, 4096), MT_EKIND);
    MT_EXPECT(mt_region_ram_discard(al, 0, 4096), MT_EKIND);
    MT_EXPECT(mt_region_ram_discard(NULL, 0, 4096), MT_EINVAL);
    /* A resizeable block can be discarded up to its maximum. */
    mt_ram_opts ro = opts_of(MT_RAM_ANON);
    ro.max_size = 256 * KiB;
    mt_region *rz = t_ram_opts(ctx, "rz", 64 * KiB, &ro);
    MT_OK(mt_region_ram_discard(rz, 128 * KiB, 128 * KiB));
    MT_EXPECT(mt_region_ram_discard(rz, 256 * KiB, 4096), MT_ERANGE);
    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Bad input, allocation failure                                             */
/* ------------------------------------------------------------------------ */

static void test_new_ram_opts_bad_input(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *r = NULL;
    mt_ram_opts o;
    size_t fds = count_open_fds();

    o = opts_of(MT_RAM_PTR);
    MT_EXPECT(mt_region_new_ram_opts(ctx, "p", 4096, &o, &r), MT_EINVAL);
    o = opts_of(MT_RAM_FILE);
    MT_EXPECT(mt_region_new_ram_opts(ctx, "f", 4096, &o, &r), MT_EINVAL);
    o = opts_of(MT_RAM_FD);
    MT_EXPECT(mt_region_new_ram_opts(ctx, "d", 4096, &o, &r), MT_EINVAL);
    o = opts_of(MT_RAM_ANON);
    o.max_size = 4096;
    MT_EXPECT(mt_region_new_ram_opts(ctx, "m", 8192, &o, &r), MT_EINVAL);
    o = opts_of(MT_RAM_MEMFD);
    o.max_size = 4096;
    MT_EXPECT(mt_region_new_ram_opts(ctx, "m2", 8192, &o, &r), MT_EINVAL);
    o = opts_of(MT_RAM_ANON);
    MT_EXPECT(mt_region_new_ram_opts(ctx, "full", MT_SIZE_FULL, &o, &r),
              MT_EINVAL);
    MT_EXPECT(mt_region_new_ram_opts(ctx, "full", MT_SIZE_FULL - 1, &o, &r),
              MT_EINVAL); /* does not round up to a page */
    o.max_size = MT_SIZE_FULL;
    MT_EXPECT(mt_region_new_ram_opts(ctx, "fullmax", 4096, &o, &r),
              MT_EINVAL);
    o = opts_of((mt_ram_backend)42);
    MT_EXPECT(mt_region_new_ram_opts(ctx, "bogus", 4096, &o, &r), MT_EINVAL);
    o = opts_of(MT_RAM_ANON);
    MT_EXPECT(mt_region_new_ram_opts(NULL, "x", 4096, &o, &r), MT_EINVAL);
    MT_EXPECT(mt_region_new_ram_opts(ctx, "x", 4096, &o, NULL), MT_EINVAL);
    MT_EXPECT(mt_region_new_ram_ptr(ctx, "x", 4096, NULL, &r), MT_EINVAL);
    /* Nothing was left behind by the failures. */
    assert_int_equal(count_open_fds(), fds);
    mt_ctx_free(ctx);
}

typedef struct alloc_case {
    const char *name;
    mt_ram_backend backend;
    uint64_t size;
} alloc_case;

/*
 * Fail the N-th allocation of mt_region_new_ram_opts for N = 0, 1, ...
 * until it succeeds: every failure is MT_ENOMEM and leaves no allocation,
 * descriptor or mapping behind.
 */
static void test_new_ram_alloc_failure(void **state)
{
    (void)state;
    static const alloc_case cases[] = {
        { "anon", MT_RAM_ANON, GiB },
        { "memfd", MT_RAM_MEMFD, GiB },
        { "file", MT_RAM_FILE, 64 * MiB },
        { "ptr", MT_RAM_PTR, 64 * KiB },
    };
    char dir[PATH_MAX];
    static uint8_t mem[64 * 1024] __attribute__((aligned(4096)));

    t_tmpdir(dir, sizeof(dir));
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        t_alloc_state st = { .budget = -1 };
        mt_allocator a = t_allocator(&st);
        mt_ctx *ctx = NULL;
        mt_region *keep[3];
        mt_ram_opts o = opts_of(cases[k].backend);

        o.path = dir;
        o.host = mem;
        MT_OK(mt_ctx_new(&ctx, &a));
        /* A few blocks already there, so the indexes must grow. */
        for (int i = 0; i < 3; i++) {
            MT_OK(mt_region_new_ram(ctx, "pre", 8192, &keep[i]));
        }
        long base = st.live;
        size_t fds = count_open_fds();
        long vm = vm_size_kb();
        int rc = MT_ENOMEM;
        long n;

        for (n = 0; n < 200; n++) {
            mt_region *r = NULL;

            st.budget = n;
            st.failures = 0;
            rc = mt_region_new_ram_opts(ctx, cases[k].name, cases[k].size,
                                        &o, &r);
            st.budget = -1;
            if (rc == 0) {
                assert_non_null(r);
                assert_true(st.live > base);
                mt_region_unref(r);
                break;
            }
            if (rc != MT_ENOMEM)
                fail_msg("%s: allocation %ld failing gave %s", cases[k].name,
                         n, mt_err_name(rc));
            assert_true(st.failures > 0);
            /* Nothing leaked. (Fewer is allowed: a failed index update may
             * drop the indexes, to be rebuilt by the next lookup.) */
            assert_true(st.live <= base);
            assert_int_equal(count_open_fds(), fds);
            assert_true(vm_size_kb() - vm < 16 * 1024);
        }
        MT_OK(rc);
        assert_true(n > 0);
        /* Lookups still work (rebuilding any dropped index), and then the
         * allocations are exactly those from before the loop. */
        for (int i = 0; i < 3; i++) {
            mt_region *got = NULL;
            uint64_t off = 1;

            MT_OK(mt_ctx_hva_to_ram(ctx, mt_region_ram_ptr(keep[i]), &got,
                                    &off));
            assert_ptr_equal(got, keep[i]);
            assert_int_equal(off, 0);
        }
        assert_int_equal(st.live, base);
        assert_int_equal(count_open_fds(), fds);
        assert_true(vm_size_kb() - vm < 16 * 1024);
        assert_int_equal(dir_entries(dir), 0);
        mt_ctx_free(ctx);
        assert_int_equal(st.live, 0);
    }
    assert_int_equal(rmdir(dir), 0);
}

/*
 * A whole scenario (context, blocks, address space, resize, lookups,
 * discard, free) with the N-th allocation failing, N = 0, 1, ... until it
 * completes: every failing call returns MT_ENOMEM, and once the context is
 * freed no allocation is live.
 */
static int scenario(mt_ctx **pctx, const mt_allocator *a)
{
    mt_ctx *ctx = NULL;
    mt_region *sys, *r1, *r2, *r3, *got;
    mt_as *as;
    mt_ram_opts o = opts_of(MT_RAM_ANON);
    uint64_t off;
    int rc;

    o.max_size = 256 * KiB;
    if ((rc = mt_ctx_new(&ctx, a)))
        return rc;
    *pctx = ctx;
    if ((rc = mt_region_new_container(ctx, "sys", 4 * GiB, &sys)) ||
        (rc = mt_region_new_ram_opts(ctx, "r1", 64 * KiB, &o, &r1)) ||
        (rc = mt_region_new_ram(ctx, "r2", 64 * KiB, &r2)) ||
        (rc = mt_region_new_rom(ctx, "r3", 64 * KiB, &r3)) ||
        (rc = mt_region_add_subregion(sys, 0, r1)) ||
        (rc = mt_region_add_subregion(sys, 0x100000, r3)) ||
        (rc = mt_as_new(ctx, sys, "memory", &as)))
        return rc;
    if ((rc = mt_region_ram_resize(r1, 128 * KiB)))
        return rc;
    uint8_t *h2 = mt_region_ram_ptr(r2);
    uint64_t ro2 = mt_region_ram_offset(r2);
    /* Freeing a block removes it from the indexes (may need memory). */
    mt_region_unref(r2);
    rc = mt_ctx_hva_to_ram(ctx, mt_region_ram_ptr(r1), &got, &off);
    if (rc)
        return rc;
    assert_ptr_equal(got, r1);
    rc = mt_ctx_hva_to_ram(ctx, h2, &got, &off);
    if (rc != MT_ENOENT)
        return rc ? rc : MT_EINVAL;
    rc = mt_ctx_ram_addr_to_ram(ctx, ro2, &got, &off);
    if (rc != MT_ENOENT)
        return rc ? rc : MT_EINVAL;
    if ((rc = mt_region_ram_discard(r1, 0, 4096)))
        return rc;
    return 0;
}

static void test_scenario_alloc_failure(void **state)
{
    (void)state;
    long n;

    for (n = 0; n < 1000; n++) {
        t_alloc_state st = { .budget = n };
        mt_allocator a = t_allocator(&st);
        mt_ctx *ctx = NULL;
        int rc = scenario(&ctx, &a);

        if (rc != 0 && rc != MT_ENOMEM)
            fail_msg("allocation %ld failing: %s", n, mt_err_name(rc));
        if (rc != 0)
            assert_true(st.failures > 0);
        st.budget = -1;
        mt_ctx_free(ctx);
        assert_int_equal(st.live, 0);
        if (rc == 0)
            break;
    }
    assert_true(n > 0 && n < 1000);
}

/* Four 64 KiB blocks; block 1 is then freed with the allocator failing
 * (its index entries cannot be removed the usual way). */
static void free_block_while_failing(fx *f, mt_region *r[4], uint8_t **h1,
                                     uint64_t *o1)
{
    for (int i = 0; i < 4; i++)
        MT_OK(mt_region_new_ram(f->ctx, "blk", 64 * KiB, &r[i]));
    *h1 = mt_region_ram_ptr(r[1]);
    *o1 = mt_region_ram_offset(r[1]);
    f->st.budget = 0;
    mt_region_unref(r[1]);
}

/* Once memory is back, lookups answer as before and the freed block's
 * place in the offset space is reused. */
static void test_lookup_after_failed_index_removal(void **state)
{
    fx *f = *state;
    mt_ctx *ctx = f->ctx;
    mt_region *r[4], *got;
    uint8_t *h1;
    uint64_t o1, off;

    free_block_while_failing(f, r, &h1, &o1);
    f->st.budget = -1;
    for (int i = 0; i < 4; i++) {
        if (i == 1)
            continue;
        MT_OK(mt_ctx_hva_to_ram(ctx, (uint8_t *)mt_region_ram_ptr(r[i]) + 5,
                                &got, &off));
        assert_ptr_equal(got, r[i]);
        assert_int_equal(off, 5);
        MT_OK(mt_ctx_ram_addr_to_ram(ctx, mt_region_ram_offset(r[i]) + 7,
                                     &got, &off));
        assert_ptr_equal(got, r[i]);
        assert_int_equal(off, 7);
    }
    MT_EXPECT(mt_ctx_hva_to_ram(ctx, h1, &got, &off), MT_ENOENT);
    MT_EXPECT(mt_ctx_ram_addr_to_ram(ctx, o1, &got, &off), MT_ENOENT);
    mt_region *n = NULL;
    MT_OK(mt_region_new_ram(ctx, "new", 64 * KiB, &n));
    assert_int_equal(mt_region_ram_offset(n), o1); /* the gap is reused */
}

/* While the allocator still fails, lookups must answer too: the header
 * promises 0 or MT_ENOENT (QEMU's lookups never allocate). */
static void test_lookup_while_allocator_failing(void **state)
{
    fx *f = *state;
    mt_ctx *ctx = f->ctx;
    mt_region *r[4], *got;
    uint8_t *h1;
    uint64_t o1, off;

    free_block_while_failing(f, r, &h1, &o1);
    MT_EXPECT(mt_ctx_hva_to_ram(ctx, h1, &got, &off), MT_ENOENT);
    MT_OK(mt_ctx_hva_to_ram(ctx, mt_region_ram_ptr(r[2]), &got, &off));
    assert_ptr_equal(got, r[2]);
    MT_EXPECT(mt_ctx_ram_addr_to_ram(ctx, o1, &got, &off), MT_ENOENT);
    MT_OK(mt_ctx_ram_addr_to_ram(ctx, mt_region_ram_offset(r[3]), &got,
                                 &off));
    assert_ptr_equal(got, r[3]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anon_aligned_with_guard_page),
        cmocka_unit_test(test_memfd_shared_with_other_process),
        cmocka_unit_test(test_file_backend_path),
        cmocka_unit_test(test_file_backend_directory),
        cmocka_unit_test(test_fd_backend_caller_fd),
        cmocka_unit_test(test_hugetlbfs_page_size),
        cmocka_unit_test(test_ptr_backend_never_unmapped),
        cmocka_unit_test(test_lazy_64g),
        FX_TEST(test_gpa_to_hva),
        FX_TEST(test_hva_and_ram_addr_lookup_many),
        FX_TEST(test_lookup_covers_max_length),
        FX_TEST(test_hva_lookup_caller_memory_first_created),
        FX_TEST(test_hva_lookup_caller_memory_partial_overlap),
        FX_TEST(test_hva_lookup_caller_memory_after_free),
        FX_TEST(test_ram_offsets_best_fit),
        FX_TEST(test_ram_offset_candidates_are_block_ends),
        FX_TEST(test_resize),
        cmocka_unit_test(test_discard_backends),
        cmocka_unit_test(test_new_ram_opts_bad_input),
        cmocka_unit_test(test_new_ram_alloc_failure),
        cmocka_unit_test(test_scenario_alloc_failure),
        FX_TEST(test_lookup_after_failed_index_removal),
        FX_TEST(test_lookup_while_allocator_failing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
