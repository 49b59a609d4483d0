/* SPDX-License-Identifier: MIT */
/*
 * test_kvm_migrate.c: live migration of a running guest between two KVM
 * VMs of one process, back and forth. The guest (guest/migrate.asm)
 * scribbles a self-checking log over its RAM on its vCPU thread while the
 * main thread migrates it with the library (mt_migrate_src_start, passes
 * of dirtied pages, then the vCPU stopped, its registers sent as an
 * extension record, mt_migrate_src_complete) to the other machine, which
 * receives the stream on a third thread (mt_migrate_dst_load). At each
 * switch-over:
 *   - the destination's RAM and ROM must be byte-identical to the
 *     source's at the stop point, and its registers equal;
 *   - the guest, resumed on the destination, checks its whole log when
 *     asked (a flag in its RAM) and must report no bad record.
 *
 *   test_kvm_migrate           kvm/migrate: 6 migrations with fixed
 *                              timings (no pass, many passes, long gaps)
 *   test_kvm_migrate stress    kvm/migrate-stress: MT_KVM_MIGRATE_ROUNDS
 *                              migrations (default 20) with random timing:
 *                              delay before the start, passes, gaps
 *                              between them, how small the rest must be
 *                              (seed: MT_STRESS_SEED, printed)
 *   test_kvm_migrate ring      kvm/migrate-ring: the 6 migrations of
 *                              kvm/migrate with KVM's dirty ring (64 KiB
 *                              per vCPU) instead of its dirty bitmap: the
 *                              main thread's passes harvest the ring while
 *                              the vCPU runs
 *
 * The machines: RAM "ram" (1 MiB) at 0, the guest ROM at 0xFFFFF000, ports
 * 0xf0-0xfb for the guest's reports. Skipped (exit 77) without a usable
 * /dev/kvm. Plain C (cmocka is not thread-safe): "FAIL: ..." and exit 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "memtree.h"
#include "kvm_usable.h"

#ifndef KVM_MIGRATE_BIN
#error "KVM_MIGRATE_BIN: path of the assembled guest/migrate.asm"
#endif

#define RAM_SIZE   UINT64_C(0x100000)
#define ROM_BASE   UINT64_C(0xfffff000)
#define ROM_SIZE   UINT64_C(0x1000)
#define CMD_GPA    0x500u
#define HEAD_GPA   0x504u
#define PORTS      0xf0u
#define PROGRESS   0xf0u
#define RESULT     0xf4u
#define ERR_IDX    0xf8u
#define TAG_VCPU   MT_MIGRATE_TAG('V', 'C', 'P', 'U')
#define WAIT_S     60

static _Noreturn void fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static _Noreturn void fail(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fprintf(stderr, "FAIL: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

#define CHECK(call)                                                          \
    do {                                                                     \
        int rc_ = (call);                                                    \
        if (rc_)                                                             \
            fail("%s:%d: %s returned %s", __FILE__, __LINE__, #call,         \
                 mt_err_name(rc_));                                          \
    } while (0)

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_us(uint64_t us)
{
    struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };

    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

/* ---- the machines ---------------------------------------------------------- */

typedef struct machine {
    const char *name;
    mt_ctx *ctx;
    mt_region *ram, *rom;
    mt_as *mem, *io;
    mt_kvm_vm *vm;
    mt_kvm *kvm;
    mt_kvm_vcpu *vcpu;
    uint8_t *ramp;

    pthread_t thread;
    bool running;               /* the vCPU thread exists */
    atomic_bool stop_req;
    atomic_uint progress;       /* last k the guest reported */
    atomic_uint results;        /* verification reports */
    atomic_uint result;         /* bad records in the last one */
    atomic_uint err_idx;
    int vcpu_rc;                /* how the vCPU thread ended */
    char vcpu_why[256];
    uint8_t state[MT_KVM_VCPU_STATE_MAX];
    size_t state_len;
} machine;

static mt_result port_write(void *opaque, uint64_t off, uint64_t value,
                            unsigned size, mt_attrs attrs)
{
    machine *m = opaque;

    (void)size, (void)attrs;
    switch (off + PORTS) {
    case PROGRESS:
        atomic_store(&m->progress, (unsigned)value);
        break;
    case RESULT:
        atomic_store(&m->result, (unsigned)value);
        atomic_fetch_add(&m->results, 1);
        break;
    case ERR_IDX:
        atomic_store(&m->err_idx, (unsigned)value);
        break;
    }
    return MT_TX_OK;
}

static mt_result port_read(void *opaque, uint64_t off, uint64_t *value,
                           unsigned size, mt_attrs attrs)
{
    (void)opaque, (void)off, (void)size, (void)attrs;
    *value = 0;
    return MT_TX_OK;
}

static const mt_ops port_ops = {
    .read = port_read,
    .write = port_write,
    .endian = MT_ENDIAN_LITTLE,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

static void load_rom(uint8_t *dst)
{
    FILE *f = fopen(KVM_MIGRATE_BIN, "rb");

    if (!f || fread(dst, 1, ROM_SIZE, f) != ROM_SIZE)
        fail("cannot read the guest %s", KVM_MIGRATE_BIN);
    fclose(f);
}

/* Both machines are built the same way (the destination must match). */
/* kvm/migrate-ring: VMs log guest writes through a dirty ring. */
static size_t ring_bytes;

static void build(machine *m, const char *name)
{
    mt_region *sys, *io_root, *ports;

    memset(m, 0, sizeof(*m));
    m->name = name;
    CHECK(mt_ctx_new(&m->ctx, NULL));
    mt_begin(m->ctx);
    CHECK(mt_region_new_container(m->ctx, "system", MT_SIZE_FULL, &sys));
    CHECK(mt_region_new_ram(m->ctx, "ram", RAM_SIZE, &m->ram));
    CHECK(mt_region_add_subregion(sys, 0, m->ram));
    CHECK(mt_region_new_rom(m->ctx, "guest.rom", ROM_SIZE, &m->rom));
    load_rom(mt_region_ram_ptr(m->rom));
    CHECK(mt_region_add_subregion(sys, ROM_BASE, m->rom));
    CHECK(mt_region_new_io(m->ctx, "io", 0x10000, mt_ops_unassigned_io(),
                           NULL, &io_root));
    CHECK(mt_region_new_io(m->ctx, "ports", 12, &port_ops, m, &ports));
    CHECK(mt_region_add_subregion(io_root, PORTS, ports));
    CHECK(mt_as_new(m->ctx, sys, "memory", &m->mem));
    CHECK(mt_as_new(m->ctx, io_root, "I/O", &m->io));
    CHECK(mt_commit(m->ctx));
    mt_region_unref(sys);
    mt_region_unref(io_root);
    m->ramp = mt_region_ram_ptr(m->ram);

    CHECK(mt_kvm_vm_new(ring_bytes ? &(mt_kvm_vm_opts){
                                         .dirty_ring_bytes = ring_bytes }
                                   : NULL,
                        &m->vm));
    CHECK(mt_kvm_new(m->mem, &(mt_kvm_opts){ .vm_fd = -1, .vm = m->vm },
                     &m->kvm));
    CHECK(mt_kvm_attach_io(m->kvm, m->io));
    CHECK(mt_kvm_vcpu_new(m->vm, 0, m->mem, m->io, &m->vcpu));
}

static void destroy(machine *m)
{
    mt_kvm_vcpu_free(m->vcpu);
    mt_kvm_release(m->kvm);
    mt_kvm_vm_free(m->vm);
    mt_ctx_free(m->ctx);
}

/* ---- the vCPU thread ---------------------------------------------------------- */

static void on_sigusr1(int sig)
{
    (void)sig; /* only interrupts KVM_RUN */
}

static void *vcpu_main(void *arg)
{
    machine *m = arg;

    while (!atomic_load(&m->stop_req)) {
        mt_kvm_exit ex;
        int rc = mt_kvm_vcpu_run(m->vcpu, &ex);

        if (rc) {
            m->vcpu_rc = rc;
            snprintf(m->vcpu_why, sizeof(m->vcpu_why), "KVM_RUN: %s",
                     strerror(errno));
            return NULL;
        }
        if (ex.kind != MT_KVM_EXIT_INTR && ex.kind != MT_KVM_EXIT_STOP) {
            char regs[128];

            mt_kvm_vcpu_describe(m->vcpu, regs, sizeof(regs));
            m->vcpu_rc = MT_EIO;
            snprintf(m->vcpu_why, sizeof(m->vcpu_why),
                     "unexpected exit %d (KVM reason %u) %s", (int)ex.kind,
                     ex.kvm_reason, regs);
            return NULL;
        }
    }
    /* Stopped: the registers, on the thread that ran the vCPU. */
    m->vcpu_rc = mt_kvm_vcpu_save_state(m->vcpu, m->state, sizeof(m->state),
                                        &m->state_len);
    if (m->vcpu_rc)
        snprintf(m->vcpu_why, sizeof(m->vcpu_why), "saving the state: %s",
                 mt_err_name(m->vcpu_rc));
    return NULL;
}

static void resume(machine *m)
{
    atomic_store(&m->stop_req, false);
    if (pthread_create(&m->thread, NULL, vcpu_main, m))
        fail("pthread_create");
    m->running = true;
}

/* Stop the vCPU (at an instruction boundary) and collect its state. */
static void stop(machine *m)
{
    atomic_store(&m->stop_req, true);
    mt_kvm_vcpu_kick(m->vcpu);
    pthread_kill(m->thread, SIGUSR1);
    pthread_join(m->thread, NULL);
    m->running = false;
    if (m->vcpu_rc)
        fail("%s: vCPU: %s", m->name, m->vcpu_why);
}

/* Have the guest check its log; fail unless it is intact. */
static void guest_verify(machine *m, unsigned round)
{
    unsigned before = atomic_load(&m->results);
    uint64_t t0 = now_ns();

    __atomic_store_n((uint32_t *)(m->ramp + CMD_GPA), 1, __ATOMIC_RELEASE);
    while (atomic_load(&m->results) == before) {
        if (now_ns() - t0 > (uint64_t)WAIT_S * 1000000000u) {
            /* Is the guest running, and do its RAM and ours agree? */
            unsigned p0 = atomic_load(&m->progress), p1;
            uint32_t h0 = __atomic_load_n((uint32_t *)(m->ramp + HEAD_GPA),
                                          __ATOMIC_ACQUIRE), h1, cmd;

            sleep_us(200000);
            p1 = atomic_load(&m->progress);
            h1 = __atomic_load_n((uint32_t *)(m->ramp + HEAD_GPA),
                                 __ATOMIC_ACQUIRE);
            cmd = __atomic_load_n((uint32_t *)(m->ramp + CMD_GPA),
                                  __ATOMIC_ACQUIRE);
            fail("round %u: the guest on %s did not report within %d s "
                 "(over 200 ms it reported progress %u -> %u; in host "
                 "memory HEAD went %u -> %u and CMD is %u: a guest that "
                 "runs but whose HEAD stands still does not see the host's "
                 "memory)", round, m->name, WAIT_S, p0, p1, h0, h1, cmd);
        }
        if (!m->running || m->vcpu_rc)
            fail("round %u: %s's vCPU stopped: %s", round, m->name,
                 m->vcpu_why);
        sleep_us(200);
    }
    if (atomic_load(&m->result))
        fail("round %u: the guest found %u bad records after the migration "
             "to %s (first: record %#x)", round, atomic_load(&m->result),
             m->name, atomic_load(&m->err_idx));
}

/* Wait until the guest has written at least @k records. */
static void wait_progress(machine *m, unsigned k)
{
    uint64_t t0 = now_ns();

    while (atomic_load(&m->progress) < k) {
        if (now_ns() - t0 > (uint64_t)WAIT_S * 1000000000u)
            fail("the guest on %s made no progress (at %u)", m->name,
                 atomic_load(&m->progress));
        sleep_us(200);
    }
}

/* ---- the destination thread ------------------------------------------------- */

typedef struct receiver {
    pthread_t thread;
    int fd;
    machine *m;
    mt_migrate_dst *dst;
    int rc;
    mt_migrate_error err;
} receiver;

static void *receiver_main(void *arg)
{
    receiver *r = arg;

    r->rc = mt_migrate_dst_new(r->fd, NULL, &r->dst);
    if (!r->rc)
        r->rc = mt_migrate_dst_load(r->dst, r->m->ctx, &r->err);
    return NULL;
}

/* ---- one migration ----------------------------------------------------------- */

typedef struct timing {
    uint64_t delay_us;          /* before the start */
    unsigned max_passes;        /* iterations at most */
    uint64_t small;             /* stop once this few pages remain */
    uint64_t gap_us;            /* between iterations */
} timing;

typedef struct totals {
    unsigned migrations;
    uint64_t passes, pages, bytes;
    uint64_t downtime_ns[4096];
    uint64_t compared;          /* bytes compared, all identical */
} totals;

static void compare(machine *a, machine *b, unsigned round)
{
    struct kvm_regs ra, rb;
    struct kvm_sregs sa, sb;

    for (uint64_t i = 0; i < RAM_SIZE; i++)
        if (a->ramp[i] != b->ramp[i])
            fail("round %u: RAM differs at %#" PRIx64 ": %#x on %s, %#x on "
                 "%s", round, i, a->ramp[i], a->name, b->ramp[i], b->name);
    if (memcmp(mt_region_ram_ptr(a->rom), mt_region_ram_ptr(b->rom),
               ROM_SIZE))
        fail("round %u: the ROM differs", round);
    if (ioctl(mt_kvm_vcpu_fd(a->vcpu), KVM_GET_REGS, &ra) ||
        ioctl(mt_kvm_vcpu_fd(b->vcpu), KVM_GET_REGS, &rb) ||
        ioctl(mt_kvm_vcpu_fd(a->vcpu), KVM_GET_SREGS, &sa) ||
        ioctl(mt_kvm_vcpu_fd(b->vcpu), KVM_GET_SREGS, &sb))
        fail("round %u: KVM_GET_REGS: %s", round, strerror(errno));
    if (memcmp(&ra, &rb, sizeof(ra)))
        fail("round %u: registers differ: rip %#llx/%#llx rbx %#llx/%#llx",
             round, (unsigned long long)ra.rip, (unsigned long long)rb.rip,
             (unsigned long long)ra.rbx, (unsigned long long)rb.rbx);
    if (sa.cr0 != sb.cr0 || sa.cs.selector != sb.cs.selector ||
        sa.cs.base != sb.cs.base || sa.efer != sb.efer ||
        sa.gdt.base != sb.gdt.base || sa.ds.selector != sb.ds.selector)
        fail("round %u: special registers differ", round);
}

static void migrate(machine *from, machine *to, const timing *t,
                    unsigned round, totals *tot)
{
    receiver rcv = { .m = to };
    mt_migrate_src *src = NULL;
    mt_migrate_error err;
    mt_migrate_stats st;
    uint64_t remaining = UINT64_MAX, t_stop, t_resume;
    const void *state;
    size_t len;
    int p[2];

    if (pipe(p))
        fail("pipe: %s", strerror(errno));
    rcv.fd = p[0];
    if (pthread_create(&rcv.thread, NULL, receiver_main, &rcv))
        fail("pthread_create");
    sleep_us(t->delay_us);
    if (mt_migrate_src_start(from->ctx, p[1], 0, &src, &err))
        fail("round %u: start: %s", round, err.msg);
    for (unsigned i = 0; i < t->max_passes && remaining > t->small; i++) {
        sleep_us(t->gap_us);
        if (mt_migrate_src_iterate(src, &remaining, &err))
            fail("round %u: pass %u: %s", round, i + 1, err.msg);
    }

    /* Switch-over: the downtime runs from here to the resume. */
    t_stop = now_ns();
    stop(from);
    if (mt_migrate_src_put_ext(src, TAG_VCPU, from->state, from->state_len,
                               &err) ||
        mt_migrate_src_complete(src, &err))
        fail("round %u: completing: %s", round, err.msg);
    close(p[1]);
    pthread_join(rcv.thread, NULL);
    close(p[0]);
    if (rcv.rc)
        fail("round %u: destination %s: %s (%s)", round, to->name,
             rcv.err.msg, mt_err_name(rcv.rc));
    state = mt_migrate_dst_find_ext(rcv.dst, TAG_VCPU, &len);
    if (!state)
        fail("round %u: no vCPU record in the stream", round);
    CHECK(mt_kvm_vcpu_load_state(to->vcpu, state, len));
    compare(from, to, round);
    resume(to);
    t_resume = now_ns();

    CHECK(mt_migrate_src_stats(src, &st));
    tot->passes += st.passes;
    tot->pages += st.pages;
    tot->bytes += st.bytes;
    if (tot->migrations < sizeof(tot->downtime_ns) / sizeof(uint64_t))
        tot->downtime_ns[tot->migrations] = t_resume - t_stop;
    tot->migrations++;
    tot->compared += RAM_SIZE + ROM_SIZE;
    mt_migrate_src_free(src);
    mt_migrate_dst_free(rcv.dst);
}

/* ---- main ----------------------------------------------------------------------- */

static uint64_t rng(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    static const timing fixed[] = {
        { 0, 0, 0, 0 },             /* stop right after the full pass */
        { 1000, 3, 0, 1000 },       /* three passes, 1 ms apart */
        { 0, 30, 8, 0 },            /* until 8 pages remain, or 30 passes */
        { 5000, 1, 0, 20000 },      /* one pass after 20 ms of writes */
        { 0, 10, 0, 200 },
        { 2000, 2, 1000, 0 },       /* "small enough" at once */
    };
    bool stress = argc > 1 && !strcmp(argv[1], "stress");
    bool ring = argc > 1 && !strcmp(argv[1], "ring");
    const char *env = getenv("MT_KVM_MIGRATE_ROUNDS");
    const char *env_seed = getenv("MT_STRESS_SEED");
    unsigned rounds = stress ? (env ? (unsigned)strtoul(env, NULL, 0) : 20)
                             : (unsigned)(sizeof(fixed) / sizeof(fixed[0]));
    uint64_t seed = env_seed ? strtoull(env_seed, NULL, 0)
                             : (uint64_t)time(NULL) ^ (uint64_t)getpid();
    static totals tot;
    static machine m[2];
    struct sigaction sa;
    uint64_t t0, n;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!kvm_usable())
        return 77;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigusr1; /* no SA_RESTART: KVM_RUN returns EINTR */
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (!seed)
        seed = 1;
    if (stress)
        printf("kvm/migrate-stress: %u migrations, seed %" PRIu64 "\n",
               rounds, seed);
    if (ring) {
        mt_kvm_vm *probe = NULL;

        ring_bytes = 64 * 1024;
        if (mt_kvm_vm_new(&(mt_kvm_vm_opts){ .dirty_ring_bytes = ring_bytes },
                          &probe)) {
            printf("SKIP: KVM offers no dirty ring of 64 KiB here: %s\n",
                   strerror(errno));
            return 77;
        }
        mt_kvm_vm_free(probe);
    }
    build(&m[0], "vm0");
    build(&m[1], "vm1");
    t0 = now_ns();
    resume(&m[0]);
    wait_progress(&m[0], 1024);
    for (unsigned r = 0; r < rounds; r++) {
        machine *from = &m[r % 2], *to = &m[(r + 1) % 2];
        timing t;

        if (stress) {
            t.delay_us = rng(&seed) % 20000;
            t.max_passes = (unsigned)(rng(&seed) % 4 ? rng(&seed) % 10 : 0);
            t.small = rng(&seed) % 64;
            t.gap_us = rng(&seed) % 3000;
        } else {
            t = fixed[r];
        }
        migrate(from, to, &t, r, &tot);
        guest_verify(to, r);
    }
    stop(&m[rounds % 2]);
    n = tot.migrations < 4096 ? tot.migrations : 4096;
    qsort(tot.downtime_ns, n, sizeof(uint64_t), cmp_u64);
    printf("%u migrations in %.1f s: %" PRIu64 " passes, %" PRIu64
           " pages, %.1f MiB of stream; %" PRIu64 " bytes compared, 0 "
           "differences; every guest check passed (last record %u); "
           "downtime median %.2f ms, max %.2f ms\n",
           tot.migrations, (now_ns() - t0) / 1e9, tot.passes, tot.pages,
           tot.bytes / 1048576.0, tot.compared,
           atomic_load(&m[rounds % 2].progress),
           n ? tot.downtime_ns[n / 2] / 1e6 : 0.0,
           n ? tot.downtime_ns[n - 1] / 1e6 : 0.0);
    destroy(&m[0]);
    destroy(&m[1]);
    printf("PASS: kvm/migrate%s\n", stress ? "-stress" : ring ? "-ring" : "");
    return 0;
}
