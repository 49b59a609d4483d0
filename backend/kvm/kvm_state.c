/* SPDX-License-Identifier: MIT */
/*
 * kvm_state.c: a vCPU's architectural state as a byte string, so that a
 * VMM can carry it (in a migration stream's extension record, a file) and
 * put it into another vCPU (include/memtree/kvm.h, docs/kvm.md).
 *
 * Layout, little-endian (x86-64; the payloads are KVM's own structures,
 * whose layout is part of KVM's stable ABI):
 *
 *   0   4  magic "MTCS"
 *   4   4  version 1
 *   8   4  architecture: 1 = x86-64
 *   12  4  number of entries
 *   16     entries: kind (4), payload length (4), payload, zero bytes up
 *          to a multiple of 8
 *
 * Kinds: 1 registers (struct kvm_regs), 2 special registers (struct
 * kvm_sregs), 3 FPU and SSE (struct kvm_fpu), 4 XCRs (struct kvm_xcrs),
 * 5 pending events (struct kvm_vcpu_events), 6 debug registers (struct
 * kvm_debugregs), 7 MSRs (16 bytes each: index (4), zero (4), value (8)),
 * 8 MP state (struct kvm_mp_state). 1 and 2 are required; the others are
 * saved when KVM gives them and put back when present.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

#include "memtree.h"

#define ST_MAGIC   0x5343544du /* "MTCS" */
#define ST_VERSION 1u
#define ST_ARCH_X86_64 1u

enum {
    K_REGS = 1, K_SREGS, K_FPU, K_XCRS, K_EVENTS, K_DEBUGREGS, K_MSRS,
    K_MP_STATE, K_LAST = K_MP_STATE
};

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static size_t pad8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

#if defined(__x86_64__)

/* MSRs a guest's kernel sets up and keeps: the system call entry points,
 * the swapped GS base, PAT, the TSC and its auxiliary value. Those KVM
 * refuses to read are left out. */
static const uint32_t saved_msrs[] = {
    0x174, 0x175, 0x176,            /* SYSENTER_CS, _ESP, _EIP */
    0xc0000081, 0xc0000082,         /* STAR, LSTAR */
    0xc0000083, 0xc0000084,         /* CSTAR, SYSCALL_MASK */
    0xc0000102, 0xc0000103,         /* KERNEL_GS_BASE, TSC_AUX */
    0x277, 0x10,                    /* PAT, TSC */
};
#define NR_SAVED_MSRS (sizeof(saved_msrs) / sizeof(saved_msrs[0]))
#define MAX_MSRS 64u

/* struct kvm_msrs ends in a variable-length array of entries: a union
 * gives it room for MAX_MSRS of them (a struct with it not last is not
 * standard C). */
union msr_buf {
    struct kvm_msrs h;
    uint8_t room[sizeof(struct kvm_msrs) +
                 MAX_MSRS * sizeof(struct kvm_msr_entry)];
};

typedef struct writer {
    uint8_t *p;
    size_t cap, len;
    uint32_t entries;
} writer;

static void add(writer *w, uint32_t kind, const void *data, size_t n)
{
    size_t need = 8 + pad8(n);

    if (w->len <= w->cap && need <= w->cap - w->len) {
        put32(w->p + w->len, kind);
        put32(w->p + w->len + 4, (uint32_t)n);
        memcpy(w->p + w->len + 8, data, n);
        memset(w->p + w->len + 8 + n, 0, pad8(n) - n);
    }
    w->len += need;
    w->entries++;
}

/*
 * An I/O or MMIO exit is complete only once KVM_RUN is entered again (for
 * an IN, the register is written then; for an OUT, RIP moves past it).
 * Enter it with immediate_exit set: KVM finishes the operation and returns
 * EINTR without running any guest instruction (KVM's API documentation
 * asks for this before the state is read for migration).
 */
static int finish_pending(mt_kvm_vcpu *vcpu, int fd)
{
    struct kvm_run *run = mt_kvm_vcpu_run_page(vcpu);
    int r;

    if (!run)
        return MT_EINVAL;
    __atomic_store_n(&run->immediate_exit, 1, __ATOMIC_RELAXED);
    do
        r = ioctl(fd, KVM_RUN, 0);
    while (r < 0 && errno == EAGAIN);
    __atomic_store_n(&run->immediate_exit, 0, __ATOMIC_RELAXED);
    if (r == 0)
        return MT_EBUSY; /* finishing it made another exit (string I/O) */
    return errno == EINTR ? 0 : MT_EIO;
}

int mt_kvm_vcpu_save_state(mt_kvm_vcpu *vcpu, void *buf, size_t cap,
                           size_t *len)
{
    int fd = mt_kvm_vcpu_fd(vcpu);
    writer w = { buf, buf ? cap : 0, 16, 0 };
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    struct kvm_fpu fpu;
    struct kvm_xcrs xcrs;
    struct kvm_vcpu_events events;
    struct kvm_debugregs dregs;
    struct kvm_mp_state mp;
    union msr_buf m;
    uint8_t msrs[NR_SAVED_MSRS * 16];
    uint32_t nmsr = 0;
    int rc;

    if (len)
        *len = 0;
    if (fd < 0 || !len)
        return MT_EINVAL;
    rc = finish_pending(vcpu, fd);
    if (rc)
        return rc;
    if (ioctl(fd, KVM_GET_REGS, &regs) < 0 ||
        ioctl(fd, KVM_GET_SREGS, &sregs) < 0)
        return MT_EIO;
    add(&w, K_REGS, &regs, sizeof(regs));
    add(&w, K_SREGS, &sregs, sizeof(sregs));
    if (ioctl(fd, KVM_GET_FPU, &fpu) == 0)
        add(&w, K_FPU, &fpu, sizeof(fpu));
    memset(&xcrs, 0, sizeof(xcrs));
    if (ioctl(fd, KVM_GET_XCRS, &xcrs) == 0)
        add(&w, K_XCRS, &xcrs, sizeof(xcrs));
    memset(&events, 0, sizeof(events));
    if (ioctl(fd, KVM_GET_VCPU_EVENTS, &events) == 0)
        add(&w, K_EVENTS, &events, sizeof(events));
    if (ioctl(fd, KVM_GET_DEBUGREGS, &dregs) == 0)
        add(&w, K_DEBUGREGS, &dregs, sizeof(dregs));
    for (size_t i = 0; i < NR_SAVED_MSRS; i++) {
        memset(&m, 0, sizeof(m));
        m.h.nmsrs = 1;
        m.h.entries[0].index = saved_msrs[i];
        if (ioctl(fd, KVM_GET_MSRS, &m) != 1)
            continue;
        put32(msrs + nmsr * 16, m.h.entries[0].index);
        put32(msrs + nmsr * 16 + 4, 0);
        for (int b = 0; b < 8; b++)
            msrs[nmsr * 16 + 8 + b] =
                (uint8_t)(m.h.entries[0].data >> (8 * b));
        nmsr++;
    }
    if (nmsr)
        add(&w, K_MSRS, msrs, (size_t)nmsr * 16);
    if (ioctl(fd, KVM_GET_MP_STATE, &mp) == 0)
        add(&w, K_MP_STATE, &mp, sizeof(mp));
    *len = w.len;
    if (!buf || w.len > cap)
        return MT_ERANGE;
    put32(w.p, ST_MAGIC);
    put32(w.p + 4, ST_VERSION);
    put32(w.p + 8, ST_ARCH_X86_64);
    put32(w.p + 12, w.entries);
    return 0;
}

/* Size of the fixed-size kinds (0: variable). */
static size_t kind_size(uint32_t kind)
{
    switch (kind) {
    case K_REGS: return sizeof(struct kvm_regs);
    case K_SREGS: return sizeof(struct kvm_sregs);
    case K_FPU: return sizeof(struct kvm_fpu);
    case K_XCRS: return sizeof(struct kvm_xcrs);
    case K_EVENTS: return sizeof(struct kvm_vcpu_events);
    case K_DEBUGREGS: return sizeof(struct kvm_debugregs);
    case K_MP_STATE: return sizeof(struct kvm_mp_state);
    default: return 0;
    }
}

int mt_kvm_vcpu_load_state(mt_kvm_vcpu *vcpu, const void *buf, size_t len)
{
    const uint8_t *p = buf, *at[K_LAST + 1] = { 0 };
    uint32_t n, size[K_LAST + 1] = { 0 };
    int fd = mt_kvm_vcpu_fd(vcpu);
    size_t pos = 16;

    if (fd < 0 || (!buf && len))
        return MT_EINVAL;
    /* Check everything before anything is set. */
    if (len < 16 || get32(p) != ST_MAGIC)
        return MT_EPARSE;
    if (get32(p + 4) != ST_VERSION || get32(p + 8) != ST_ARCH_X86_64)
        return MT_EPARSE;
    n = get32(p + 12);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t kind, sz;

        if (len - pos < 8)
            return MT_EPARSE;
        kind = get32(p + pos);
        sz = get32(p + pos + 4);
        if (kind == 0 || kind > K_LAST || at[kind] || sz > len - pos - 8 ||
            pad8(sz) > len - pos - 8)
            return MT_EPARSE;
        if (kind == K_MSRS ? (sz == 0 || sz % 16 || sz / 16 > MAX_MSRS)
                           : sz != kind_size(kind))
            return MT_EPARSE;
        for (size_t k = sz; k < pad8(sz); k++)
            if (p[pos + 8 + k])
                return MT_EPARSE;
        at[kind] = p + pos + 8;
        size[kind] = sz;
        pos += 8 + pad8(sz);
    }
    if (pos != len || !at[K_REGS] || !at[K_SREGS])
        return MT_EPARSE;

    /* The mode first (segments, control registers, EFER), then the rest. */
    {
        struct kvm_sregs sregs;
        struct kvm_regs regs;

        memcpy(&sregs, at[K_SREGS], sizeof(sregs));
        memcpy(&regs, at[K_REGS], sizeof(regs));
        if (ioctl(fd, KVM_SET_SREGS, &sregs) < 0 ||
            ioctl(fd, KVM_SET_REGS, &regs) < 0)
            return MT_EIO;
    }
    if (at[K_FPU]) {
        struct kvm_fpu fpu;

        memcpy(&fpu, at[K_FPU], sizeof(fpu));
        if (ioctl(fd, KVM_SET_FPU, &fpu) < 0)
            return MT_EIO;
    }
    if (at[K_XCRS]) {
        struct kvm_xcrs xcrs;

        memcpy(&xcrs, at[K_XCRS], sizeof(xcrs));
        if (xcrs.nr_xcrs > KVM_MAX_XCRS)
            return MT_EPARSE;
        if (ioctl(fd, KVM_SET_XCRS, &xcrs) < 0)
            return MT_EIO;
    }
    if (at[K_MSRS]) {
        union msr_buf m;
        uint32_t nm = size[K_MSRS] / 16;

        if (nm > MAX_MSRS)
            return MT_EPARSE;
        memset(&m, 0, sizeof(m));
        m.h.nmsrs = nm;
        for (uint32_t i = 0; i < nm; i++) {
            const uint8_t *e = at[K_MSRS] + i * 16;

            m.h.entries[i].index = get32(e);
            m.h.entries[i].data = (uint64_t)get32(e + 8) |
                                  (uint64_t)get32(e + 12) << 32;
        }
        if (ioctl(fd, KVM_SET_MSRS, &m) != (int)nm)
            return MT_EIO;
    }
    if (at[K_EVENTS]) {
        struct kvm_vcpu_events ev;

        memcpy(&ev, at[K_EVENTS], sizeof(ev));
        if (ioctl(fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
            return MT_EIO;
    }
    if (at[K_MP_STATE]) {
        struct kvm_mp_state mp;

        memcpy(&mp, at[K_MP_STATE], sizeof(mp));
        if (ioctl(fd, KVM_SET_MP_STATE, &mp) < 0)
            return MT_EIO;
    }
    if (at[K_DEBUGREGS]) {
        struct kvm_debugregs d;

        memcpy(&d, at[K_DEBUGREGS], sizeof(d));
        if (ioctl(fd, KVM_SET_DEBUGREGS, &d) < 0)
            return MT_EIO;
    }
    return 0;
}

#else /* not x86-64 */

int mt_kvm_vcpu_save_state(mt_kvm_vcpu *vcpu, void *buf, size_t cap,
                           size_t *len)
{
    (void)vcpu, (void)buf, (void)cap;
    if (len)
        *len = 0;
    return MT_EKIND;
}

int mt_kvm_vcpu_load_state(mt_kvm_vcpu *vcpu, const void *buf, size_t len)
{
    (void)vcpu, (void)buf, (void)len, (void)get32, (void)put32, (void)pad8;
    return MT_EKIND;
}

#endif
