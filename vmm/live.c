/* SPDX-License-Identifier: MIT */
/*
 * live.c: live migration of the running minimal PC (`memtree run
 * --migrate-to`). The vCPU runs on the main thread; a migration thread
 * starts the migration (dirty logging, full pass), runs passes of dirtied
 * pages until few remain, then asks the main thread to stop the vCPU (a
 * kick and SIGUSR1, whose handler does nothing but interrupt KVM_RUN).
 * The main thread, its vCPU stopped, finishes on the same session: the
 * vCPU and device records, then complete (vmm_live_finish). A guest that
 * ends by itself meanwhile cancels the migration.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vmm.h"

#define SMALL_PAGES 256u        /* remaining pages worth a stop */
#define MAX_PASSES 30u

static void on_sigusr1(int sig)
{
    (void)sig; /* only interrupts KVM_RUN */
}

static void say(struct vmm_live *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void say(struct vmm_live *l, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(l->why, sizeof(l->why), fmt, ap);
    va_end(ap);
}

static void *live_main(void *arg)
{
    struct vmm_live *l = arg;
    mt_migrate_error err;
    uint64_t remaining = UINT64_MAX;

    for (unsigned ms = 0; ms < l->after_ms && !atomic_load(&l->guest_done);
         ms++) {
        struct timespec ts = { 0, 1000000 };

        nanosleep(&ts, NULL);
    }
    if (atomic_load(&l->guest_done))
        return NULL;
    l->rc = mt_migrate_src_start(l->pc->ctx, l->fd, 0, &l->src, &err);
    for (unsigned i = 1; !l->rc && i < MAX_PASSES &&
                         remaining > SMALL_PAGES &&
                         !atomic_load(&l->guest_done); i++)
        l->rc = mt_migrate_src_iterate(l->src, &remaining, &err);
    if (l->rc) {
        say(l, "%s", err.msg);
        fprintf(stderr, "memtree: run: migration failed: %s (the guest "
                "goes on)\n", l->why);
        return NULL;
    }
    if (atomic_load(&l->guest_done))
        return NULL;
    /* Few pages left: stop the vCPU for the last pass. */
    atomic_store(&l->stop_req, true);
    mt_kvm_vcpu_kick(l->pc->vcpu);
    pthread_kill(l->main, SIGUSR1);
    return NULL;
}

int vmm_live_start(struct vmm_live *l, struct vmm_pc *pc, int fd,
                   unsigned after_ms)
{
    struct sigaction sa;

    memset(l, 0, sizeof(*l));
    l->pc = pc;
    l->fd = fd;
    l->after_ms = after_ms;
    l->main = pthread_self();
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigusr1; /* no SA_RESTART: KVM_RUN returns EINTR */
    if (sigaction(SIGUSR1, &sa, NULL) < 0)
        return MT_EIO;
    /* A destination that goes away must not kill the source. */
    signal(SIGPIPE, SIG_IGN);
    if (pthread_create(&l->thread, NULL, live_main, l))
        return MT_ENOMEM;
    l->active = true;
    return 0;
}

bool vmm_live_stop_requested(struct vmm_live *l)
{
    return l->active && atomic_load(&l->stop_req);
}

int vmm_live_finish(struct vmm_live *l, bool stopped, char *why, size_t len)
{
    static uint8_t dev[8 + VMM_TESTDEV_IOMEM_SIZE];
    uint8_t cpu[8 + MT_KVM_VCPU_STATE_MAX];
    mt_migrate_error err;
    size_t n = 0;
    int rc;

    if (!l->active)
        return MT_ESTATE;
    atomic_store(&l->guest_done, !stopped);
    pthread_join(l->thread, NULL);
    l->active = false;
    if (!stopped || l->rc || !l->src) {
        if (l->src)
            mt_migrate_src_cancel(l->src, "the guest stopped by itself");
        mt_migrate_src_free(l->src);
        l->src = NULL;
        snprintf(why, len, "%s", l->rc ? l->why : "the guest stopped first");
        return l->rc ? l->rc : MT_ESTATE;
    }
    rc = mt_kvm_vcpu_save_state(l->pc->vcpu, cpu + 8, sizeof(cpu) - 8, &n);
    if (rc) {
        snprintf(err.msg, sizeof(err.msg), "saving the vCPU: %s",
                 mt_strerror(rc));
    } else {
        memset(cpu, 0, 8);
        vmm_testdev_record(&l->pc->testdev, dev);
        rc = mt_migrate_src_put_ext(l->src, VMM_TAG_VCPU, cpu, 8 + n, &err);
        if (!rc)
            rc = mt_migrate_src_put_ext(l->src, VMM_TAG_TESTDEV, dev,
                                        sizeof(dev), &err);
        if (!rc)
            rc = mt_migrate_src_complete(l->src, &err);
    }
    if (!rc)
        mt_migrate_src_stats(l->src, &l->stats);
    else
        mt_migrate_src_cancel(l->src, err.msg);
    mt_migrate_src_free(l->src);
    l->src = NULL;
    snprintf(why, len, "%s", rc ? err.msg : "");
    return rc;
}
