/* SPDX-License-Identifier: MIT */
/*
 * test_kvm_stress.c: two vCPUs, each on its own thread, run guest code
 * (guest/stress.asm) that hammers MMIO and RAM while the main thread
 * remaps an MMIO device and a RAM alias window MT_KVM_STRESS_REMAPS times
 * (default 2000; `make stress` runs 10000). The guest checks every value it
 * reads and reports wrong ones through a port; the test requires none,
 * and requires both vCPUs to have run while the map changed. Each guest
 * also writes its iteration count to its own register of a sequence
 * device: every vCPU's writes must arrive exactly once each, in order.
 *
 *   test_kvm_stress              the sequence device is plain MMIO
 *   test_kvm_stress coalesced    it is coalesced MMIO: the writes queue in
 *                                KVM's ring (shared by the VM), which every
 *                                vCPU thread and every commit flushes
 *
 * The machine: RAM at 0 (1 MiB); a RAM region "pat" of two 4 KiB halves
 * (PAT_A, PAT_B) seen only through the 4 KiB alias "win" at 0x100000,
 * whose offset flips between the halves (so its memslot is replaced each
 * time); a background MMIO device "bg" (8 KiB at 0xD0000000) with the
 * device "dev" (priority 1) moving between its two pages; the sequence
 * device "seq" (0xD0002000, 8 bytes per vCPU); ports for the
 * vCPU index, errors, progress and the end; the guest ROM at 0xFFFFF000.
 *
 * Skipped (exit 77) without a usable /dev/kvm. Plain C (cmocka is not
 * thread-safe): "FAIL: ..." and exit 1 on failure.
 */
#include <errno.h>
#include <fcntl.h>

#include "stress.h"
#include "kvm_usable.h"

#ifndef KVM_STRESS_BIN
#error "KVM_STRESS_BIN: path of the assembled guest/stress.asm"
#endif

#define NVCPUS     2
#define RAM_SIZE   UINT64_C(0x100000)
#define ROM_BASE   UINT64_C(0xfffff000)
#define ROM_SIZE   UINT64_C(0x1000)
#define STOP_GPA   0x500u
#define WIN_GPA    UINT64_C(0x100000)
#define MMIO_A     UINT64_C(0xd0000000)
#define MMIO_B     UINT64_C(0xd0001000)
#define PAT_A      0xA1A1A1A1u
#define PAT_B      0xB2B2B2B2u
#define DEV_TAG    0xDE7A0001u
#define BG_TAG     0x0B0B0B0Bu
#define SEQ_GPA    UINT64_C(0xd0002000)

#define ID_PORT    0xf0u
#define ERR_KIND   0xf1u
#define PROGRESS   0xf4u
#define DONE       0xf8u
#define ERR_VAL    0xfcu
#define DONE_CODE  0x5d

static const char *const check_names[] = {
    "?", "RAM alias window", "MMIO at MMIO_A", "MMIO at MMIO_B",
    "RAM scratch read-back",
};

/* ---- per-vCPU state ---------------------------------------------------------- */

typedef struct cpu {
    unsigned idx;
    mt_kvm_vcpu *vcpu;
    stress_beat *beat;
    atomic_ulong progress;      /* guest iterations last reported */
    unsigned long done_iters;
    uint32_t last_err_val;
    unsigned long errors;
    unsigned long exits_other;
    char failure[512];
} cpu;

static _Thread_local cpu *this_cpu;
static atomic_bool vcpu_failed;

typedef struct machine {
    mt_ctx *ctx;
    mt_region *sys, *ram, *rom, *pat, *win, *bg, *dev, *seq, *io_root,
              *ports;
    mt_as *mem, *io;
    mt_kvm_vm *vm;
    mt_kvm *kvm;
    cpu cpus[NVCPUS];
    atomic_ulong dev_writes, bg_writes;
    atomic_uint seq_last[NVCPUS];   /* last value written, per vCPU */
    atomic_ulong seq_writes;
} machine;

static machine M;

/* ---- devices ----------------------------------------------------------------- */

static mt_result tag_read(void *opaque, uint64_t off, uint64_t *value,
                          unsigned size, mt_attrs attrs)
{
    (void)off, (void)size, (void)attrs;
    *value = (uint32_t)(uintptr_t)opaque;
    return MT_TX_OK;
}

static mt_result tag_write(void *opaque, uint64_t off, uint64_t value,
                           unsigned size, mt_attrs attrs)
{
    (void)off, (void)value, (void)size, (void)attrs;
    atomic_fetch_add_explicit((uint32_t)(uintptr_t)opaque == DEV_TAG
                                  ? &M.dev_writes : &M.bg_writes,
                              1, memory_order_relaxed);
    return MT_TX_OK;
}

static const mt_ops tag_ops = {
    .read = tag_read,
    .write = tag_write,
    .endian = MT_ENDIAN_LITTLE,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

/* The sequence device: vCPU i writes 0, 1, 2, ... at 8 * i. Coalesced
 * writes are replayed by whichever thread flushes the ring. */
static mt_result seq_read(void *opaque, uint64_t off, uint64_t *value,
                          unsigned size, mt_attrs attrs)
{
    (void)opaque, (void)off, (void)size, (void)attrs;
    *value = 0;
    return MT_TX_OK;
}

static mt_result seq_write(void *opaque, uint64_t off, uint64_t value,
                           unsigned size, mt_attrs attrs)
{
    unsigned i = (unsigned)(off / 8);
    uint32_t prev;

    (void)opaque, (void)size, (void)attrs;
    if (off % 8 || i >= NVCPUS) {
        SERR("sequence device written at offset %#" PRIx64, off);
        return MT_TX_OK;
    }
    atomic_fetch_add(&M.seq_writes, 1);
    prev = atomic_exchange(&M.seq_last[i], (uint32_t)value);
    if ((uint32_t)value != prev + 1)
        SERR("vCPU %u's sequence: %u arrived after %u (an MMIO write lost, "
             "repeated or reordered)", i, (uint32_t)value, prev);
    return MT_TX_OK;
}

static const mt_ops seq_ops = {
    .read = seq_read,
    .write = seq_write,
    .endian = MT_ENDIAN_LITTLE,
    .valid = { .min_access_size = 4, .max_access_size = 4 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

/* The ports, on the vCPU thread that made the access. */
static mt_result port_read(void *opaque, uint64_t off, uint64_t *value,
                           unsigned size, mt_attrs attrs)
{
    (void)opaque, (void)size, (void)attrs;
    *value = off == ID_PORT - ID_PORT && this_cpu ? this_cpu->idx : ~0u;
    return MT_TX_OK;
}

static mt_result port_write(void *opaque, uint64_t off, uint64_t value,
                            unsigned size, mt_attrs attrs)
{
    cpu *c = this_cpu;

    (void)opaque, (void)size, (void)attrs;
    if (!c)
        SFAIL("a port was written outside a vCPU thread");
    switch (off + ID_PORT) {
    case ERR_VAL:
        c->last_err_val = (uint32_t)value;
        break;
    case ERR_KIND: {
        unsigned k = (unsigned)value;

        c->errors++;
        SERR("vCPU %u, guest iteration ~%lu: %s read %#x", c->idx,
             atomic_load(&c->progress),
             k < sizeof(check_names) / sizeof(check_names[0])
                 ? check_names[k] : "unknown check", c->last_err_val);
        break;
    }
    case PROGRESS:
        atomic_store(&c->progress, (unsigned long)(uint32_t)value);
        stress_step(c->beat, "guest running (progress report)");
        break;
    case DONE:
        c->done_iters = (uint32_t)value;
        mt_kvm_vcpu_stop(c->vcpu, DONE_CODE);
        break;
    }
    return MT_TX_OK;
}

static const mt_ops port_ops = {
    .read = port_read,
    .write = port_write,
    .endian = MT_ENDIAN_LITTLE,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

/* ---- setup ---------------------------------------------------------------------- */

static void load_rom(mt_region *rom)
{
    FILE *f = fopen(KVM_STRESS_BIN, "rb");
    size_t n;

    if (!f)
        SFAIL("cannot open the guest %s: %s", KVM_STRESS_BIN,
              strerror(errno));
    n = fread(mt_region_ram_ptr(rom), 1, ROM_SIZE, f);
    fclose(f);
    if (n != ROM_SIZE)
        SFAIL("%s: %zu bytes, expected %u", KVM_STRESS_BIN, n,
              (unsigned)ROM_SIZE);
}

static void build(machine *m, bool coalesced)
{
    uint32_t *pat;

    SOK(mt_ctx_new(&m->ctx, NULL));
    SOK(mt_region_new_container(m->ctx, "system", MT_SIZE_FULL, &m->sys));
    SOK(mt_region_new_ram(m->ctx, "ram", RAM_SIZE, &m->ram));
    SOK(mt_region_add_subregion(m->sys, 0, m->ram));
    SOK(mt_region_new_rom(m->ctx, "stress.rom", ROM_SIZE, &m->rom));
    load_rom(m->rom);
    SOK(mt_region_add_subregion(m->sys, ROM_BASE, m->rom));
    SOK(mt_region_new_ram(m->ctx, "pat", 0x2000, &m->pat));
    pat = mt_region_ram_ptr(m->pat);
    for (unsigned i = 0; i < 0x400; i++) {
        pat[i] = PAT_A;
        pat[0x400 + i] = PAT_B;
    }
    SOK(mt_region_new_alias(m->ctx, "win", m->pat, 0, 0x1000, &m->win));
    SOK(mt_region_add_subregion(m->sys, WIN_GPA, m->win));
    SOK(mt_region_new_io(m->ctx, "bg", 0x2000, &tag_ops,
                         (void *)(uintptr_t)BG_TAG, &m->bg));
    SOK(mt_region_add_subregion(m->sys, MMIO_A, m->bg));
    SOK(mt_region_new_io(m->ctx, "dev", 0x1000, &tag_ops,
                         (void *)(uintptr_t)DEV_TAG, &m->dev));
    SOK(mt_region_add_subregion_overlap(m->sys, MMIO_A, m->dev, 1));
    SOK(mt_region_new_io(m->ctx, "seq", 0x1000, &seq_ops, NULL, &m->seq));
    SOK(mt_region_add_subregion(m->sys, SEQ_GPA, m->seq));
    for (unsigned i = 0; i < NVCPUS; i++)
        atomic_store(&m->seq_last[i], UINT32_MAX);

    SOK(mt_region_new_io(m->ctx, "io", 0x10000, mt_ops_unassigned_io(),
                         NULL, &m->io_root));
    SOK(mt_region_new_io(m->ctx, "ports", 0x10, &port_ops, NULL,
                         &m->ports));
    SOK(mt_region_add_subregion(m->io_root, ID_PORT, m->ports));
    SOK(mt_as_new(m->ctx, m->sys, "memory", &m->mem));
    SOK(mt_as_new(m->ctx, m->io_root, "I/O", &m->io));

    SOK(mt_kvm_vm_new(NULL, &m->vm));
    SOK(mt_kvm_new(m->mem, &(mt_kvm_opts){ .vm = m->vm }, &m->kvm));
    SOK(mt_kvm_attach_io(m->kvm, m->io));
    for (unsigned i = 0; i < NVCPUS; i++) {
        m->cpus[i].idx = i;
        SOK(mt_kvm_vcpu_new(m->vm, i, m->mem, m->io, &m->cpus[i].vcpu));
    }
    if (coalesced)
        SOK(mt_region_set_coalescing(m->seq));
}

/* ---- the vCPU threads ------------------------------------------------------------ */

static void *vcpu_main(void *arg)
{
    cpu *c = arg;
    mt_kvm_exit ex;
    char regs[256];

    this_cpu = c;
    for (;;) {
        int rc;

        stress_step(c->beat, "in mt_kvm_vcpu_run");
        rc = mt_kvm_vcpu_run(c->vcpu, &ex);
        if (rc) {
            snprintf(c->failure, sizeof(c->failure),
                     "mt_kvm_vcpu_run returned %d (%s): %s", rc,
                     mt_err_name(rc), strerror(errno));
            break;
        }
        if (ex.kind == MT_KVM_EXIT_STOP && ex.stop_code == DONE_CODE)
            return NULL;
        if (ex.kind == MT_KVM_EXIT_INTR) {
            c->exits_other++;
            continue;
        }
        mt_kvm_vcpu_describe(c->vcpu, regs, sizeof(regs));
        snprintf(c->failure, sizeof(c->failure),
                 "run ended with kind %d (KVM exit reason %u); %s", ex.kind,
                 ex.kvm_reason, regs);
        break;
    }
    atomic_store(&vcpu_failed, true);
    return NULL;
}

/* ---- the main thread: remap ------------------------------------------------------- */

static unsigned long remaps_from_env(void)
{
    const char *s = getenv("MT_KVM_STRESS_REMAPS");
    char *end;
    unsigned long v;

    if (!s || !*s)
        return 2000;
    v = strtoul(s, &end, 0);
    if (*end || !v)
        SFAIL("MT_KVM_STRESS_REMAPS='%s': expected a positive integer", s);
    return v;
}

/* Has every vCPU reported progress beyond @before? */
static bool all_moved(const unsigned long *before)
{
    for (unsigned i = 0; i < NVCPUS; i++)
        if (atomic_load(&M.cpus[i].progress) <= before[i])
            return false;
    return true;
}

/* Wait until every vCPU reported at least @n iterations (or one failed). */
static void wait_progress(unsigned long n, stress_beat *beat)
{
    for (;;) {
        unsigned ready = 0;

        for (unsigned i = 0; i < NVCPUS; i++)
            ready += atomic_load(&M.cpus[i].progress) >= n;
        if (ready == NVCPUS || atomic_load(&vcpu_failed))
            return;
        stress_step(beat, "waiting for the guests to run");
        stress_sleep_us(1000);
    }
}

int main(int argc, char **argv)
{
    bool coalesced = argc > 1 && !strcmp(argv[1], "coalesced");
    unsigned long remaps = remaps_from_env();
    unsigned long before[NVCPUS], during[NVCPUS];
    pthread_t t[NVCPUS];
    stress_beat *beat;
    volatile uint32_t *stop;
    unsigned win_half = 0, dev_page = 0;
    double t0, t1;
    unsigned long n;

    if (argc > 2 || (argc == 2 && !coalesced)) {
        fprintf(stderr, "usage: test_kvm_stress [coalesced]\n");
        return 2;
    }
    if (!kvm_usable())
        return 77;
    build(&M, coalesced);
    stop = (volatile uint32_t *)((uint8_t *)mt_region_ram_ptr(M.ram) +
                                 STOP_GPA);
    stress_watchdog_start();
    beat = stress_beat_new("main");
    for (unsigned i = 0; i < NVCPUS; i++) {
        M.cpus[i].beat = stress_beat_new(i ? "vcpu 1" : "vcpu 0");
        t[i] = stress_start(vcpu_main, &M.cpus[i]);
    }

    /* Both guests must be in their loop before the remapping starts. */
    wait_progress(256, beat);
    for (unsigned i = 0; i < NVCPUS; i++)
        before[i] = atomic_load(&M.cpus[i].progress);
    t0 = stress_now();
    /* At least @remaps, and on until both guests ran meanwhile (30 s at
     * most): a slow guest must not leave the test testing nothing. */
    for (n = 0; (n < remaps || (!all_moved(before) && stress_now() - t0 < 30))
                && !atomic_load(&vcpu_failed); n++) {
        stress_step(beat, "remapping");
        if (n % 16 == 15) {
            /* Both at once, one commit. */
            mt_begin(M.ctx);
            win_half ^= 1;
            dev_page ^= 1;
            SOK(mt_region_set_alias_offset(M.win, win_half * 0x1000));
            SOK(mt_region_set_address(M.dev, dev_page ? MMIO_B : MMIO_A));
            SOK(mt_commit(M.ctx));
        } else if (n % 2) {
            win_half ^= 1;
            SOK(mt_region_set_alias_offset(M.win, win_half * 0x1000));
        } else {
            dev_page ^= 1;
            SOK(mt_region_set_address(M.dev, dev_page ? MMIO_B : MMIO_A));
        }
        if (mt_kvm_error(M.kvm))
            SFAIL("remap %lu: KVM refused a memslot: %d (%s)", n,
                  mt_kvm_error(M.kvm), mt_err_name(mt_kvm_error(M.kvm)));
    }
    t1 = stress_now();
    for (unsigned i = 0; i < NVCPUS; i++)
        during[i] = atomic_load(&M.cpus[i].progress) - before[i];
    /* Let the guests run a little on the last map, then stop them. */
    wait_progress(before[0] > before[1] ? before[0] + 256 : before[1] + 256,
                  beat);
    __atomic_store_n(stop, 1, __ATOMIC_RELEASE);
    stress_step(beat, "waiting for the vCPUs to stop");
    for (unsigned i = 0; i < NVCPUS; i++)
        stress_join(t[i]);
    stress_watchdog_stop();

    for (unsigned i = 0; i < NVCPUS; i++)
        if (M.cpus[i].failure[0])
            SFAIL("vCPU %u: %s", i, M.cpus[i].failure);
    printf("%lu remaps in %.2f s (%.1f us each); guest iterations during "
           "them: %lu and %lu, in all: %lu and %lu; device writes %lu, "
           "background writes %lu, %s sequence writes %lu; %zu memslots "
           "now\n", n, t1 - t0, (t1 - t0) * 1e6 / (double)(n ? n : 1),
           during[0], during[1], M.cpus[0].done_iters,
           M.cpus[1].done_iters, atomic_load(&M.dev_writes),
           atomic_load(&M.bg_writes), coalesced ? "coalesced" : "plain",
           atomic_load(&M.seq_writes), mt_kvm_nr_slots(M.kvm));
    for (unsigned i = 0; i < NVCPUS; i++)
        if (!during[i])
            SERR("vCPU %u reported no progress while the map changed: the "
                 "test tested nothing", i);
    if (!atomic_load(&M.dev_writes) || !atomic_load(&M.bg_writes))
        SERR("the guests never wrote to the device or the background");
    /* Every write of the last iterations arrived (the run loop flushes the
     * ring before it dispatches the guest's DONE port write). */
    for (unsigned i = 0; i < NVCPUS; i++)
        if (!atomic_load(&stress_errors) &&
            atomic_load(&M.seq_last[i]) + 1 != M.cpus[i].done_iters)
            SERR("vCPU %u ran %lu iterations, its last sequence write to "
                 "arrive was %u", i, M.cpus[i].done_iters,
                 atomic_load(&M.seq_last[i]));

    for (unsigned i = 0; i < NVCPUS; i++)
        mt_kvm_vcpu_free(M.cpus[i].vcpu);
    mt_kvm_free(M.kvm);
    mt_kvm_vm_free(M.vm);
    mt_ctx_free(M.ctx);
    return stress_result(coalesced ? "kvm/stress coalesced" : "kvm/stress");
}
