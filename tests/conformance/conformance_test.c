/* SPDX-License-Identifier: MIT */
/*
 * conformance_test.c: print every QEMU 7.2 golden case back and compare
 * with what QEMU printed.
 *
 * usage: conformance_test [--strip-kvm] CASES_DIR [CASE...]
 *
 * For each case folder (all of CASES_DIR, or the CASEs named), three
 * cmocka tests load mtree-D.txt with facts.txt into a fresh context and
 * print it with -D, without flags and with -f; the results must equal
 * mtree-D.txt, mtree.txt and flat.txt by the rule of compare.py. A fourth
 * test loads the -D text printed and checks that it prints the same -D
 * and -f text again, byte for byte. Cases QEMU ran under KVM (cmdline.txt
 * says -accel kvm) are printed with a dry-run KVM backend on their
 * `memory` address space, so their flat views carry QEMU's ` KVM`
 * markers, compared too (--strip-kvm ignores them). A fifth test compares
 * the backend's memslots with memslots-final.txt, slot numbers aside,
 * where that file exists.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compare.h"
#include "memtree.h"

enum mode { MODE_TREE_D, MODE_TREE, MODE_FLAT, MODE_ROUNDTRIP, MODE_MEMSLOTS,
            NR_MODES };

static const struct mode_info {
    const char *suffix;   /* test name suffix */
    const char *expected; /* golden file */
    unsigned flags;       /* mt_mtree_print flags */
} modes[NR_MODES] = {
    [MODE_TREE_D] = { "mtree-D", "mtree-D.txt", MT_MTREE_DISABLED },
    [MODE_TREE] = { "mtree", "mtree.txt", 0 },
    [MODE_FLAT] = { "flat", "flat.txt", MT_MTREE_FLAT },
    /* Our -D output, loaded again, prints the same -D and -f text. */
    [MODE_ROUNDTRIP] = { "roundtrip", NULL, 0 },
    [MODE_MEMSLOTS] = { "memslots", NULL, 0 },
};

/** One cmocka test: a case folder printed in one mode. */
struct case_test {
    char *dir;  /* CASES_DIR/NAME */
    char *name; /* "NAME/mode" */
    enum mode mode;
};

static const char *cases_dir;
static unsigned compare_flags = 0;
static unsigned passed[NR_MODES], failed[NR_MODES];

/* Read @dir/@file whole; NULL if it cannot be read. */
static char *read_case_file(const char *dir, const char *file, size_t *len)
{
    char path[4096];
    FILE *f;
    char *buf = NULL;
    size_t cap = 0;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    f = fopen(path, "rb");
    if (!f)
        return NULL;
    for (*len = 0;;) {
        if (cap - *len < 4096) {
            char *nb = realloc(buf, cap * 2 + 8192);

            if (!nb)
                break;
            buf = nb;
            cap = cap * 2 + 8192;
        }
        size_t got = fread(buf + *len, 1, cap - *len - 1, f);

        *len += got;
        if (!got)
            break;
    }
    fclose(f);
    if (buf)
        buf[*len] = '\0';
    return buf;
}

/* Load @dump and @facts into a new context; NULL with a message in @why. */
static mt_ctx *load_text(const char *dump, size_t dump_len, const char *facts,
                         size_t facts_len, char *why, size_t why_len)
{
    mt_load_error err = { 0 };
    mt_ctx *ctx = NULL;
    int rc = dump ? mt_ctx_new(&ctx, NULL) : MT_EIO;

    if (rc == 0)
        rc = mt_mtree_load(ctx, dump, dump_len, facts, facts_len, &err);
    if (rc) {
        snprintf(why, why_len, "load failed (%s): %s:%u: %s", mt_err_name(rc),
                 err.in_facts ? "facts.txt" : "dump", err.line, err.msg);
        mt_ctx_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

/* Load @dir's mtree-D.txt and facts.txt; NULL with a message in @why. */
static mt_ctx *load_case(const char *dir, char *why, size_t why_len)
{
    size_t dump_len = 0, facts_len = 0;
    char *dump = read_case_file(dir, "mtree-D.txt", &dump_len);
    char *facts = read_case_file(dir, "facts.txt", &facts_len);
    mt_ctx *ctx = load_text(dump, dump_len, facts, facts_len, why, why_len);

    free(dump);
    free(facts);
    return ctx;
}

/* Did QEMU run the case under KVM? (cmdline.txt) */
static bool ran_under_kvm(const char *dir)
{
    size_t len = 0;
    char *cmd = read_case_file(dir, "cmdline.txt", &len);
    bool kvm = cmd && (strstr(cmd, "-accel kvm") || strstr(cmd, "accel=kvm") ||
                       strstr(cmd, "-enable-kvm"));

    free(cmd);
    return kvm;
}

/* A dry-run KVM backend on the "memory" address space of @ctx, or NULL. */
static mt_kvm *attach_kvm(mt_ctx *ctx)
{
    mt_kvm_opts opts = { .vm_fd = -1 };
    mt_kvm *kvm = NULL;

    for (size_t i = 0; i < mt_ctx_nr_as(ctx); i++)
        if (!strcmp(mt_as_name(mt_ctx_as(ctx, i)), "memory"))
            if (mt_kvm_new(mt_ctx_as(ctx, i), &opts, &kvm))
                kvm = NULL;
    return kvm;
}

/* Print @ctx into a malloc'ed string (flat views annotated by @kvm when
 * not NULL); NULL with a message in @why on failure. */
static char *print_ctx_kvm(mt_ctx *ctx, mt_kvm *kvm, unsigned flags,
                           size_t *len, char *why, size_t why_len)
{
    char *out = NULL;
    FILE *f = open_memstream(&out, len);
    int rc = f ? mt_mtree_print_notes(ctx, f, flags, kvm ? mt_kvm_note : NULL,
                                      kvm)
               : MT_ENOMEM;

    if (f)
        fclose(f);
    if (rc) {
        snprintf(why, why_len, "mt_mtree_print failed: %s", mt_err_name(rc));
        free(out);
        out = NULL;
    }
    return out;
}

static char *print_ctx(mt_ctx *ctx, unsigned flags, size_t *len, char *why,
                       size_t why_len)
{
    return print_ctx_kvm(ctx, NULL, flags, len, why, why_len);
}

/*
 * The backend's memslots against memslots-final.txt: each golden line
 * `as_id slot flags gpa size end hva` becomes `as_id flags gpa size hva`
 * (slot numbers depend on history, `0x2(KVM_MEM_READONLY)` on names), as
 * `memtree memslots` prints them; the two lists must be equal.
 */
static int check_memslots(const struct case_test *t, char *why,
                          size_t why_len)
{
    size_t len = 0, n = 0;
    char *golden = read_case_file(t->dir, "memslots-final.txt", &len);
    char *line, *save = NULL, want[512], got[512];
    mt_ctx *ctx;
    mt_kvm *kvm;
    int rc = 0;

    if (!golden)
        skip();
    ctx = load_case(t->dir, why, why_len);
    kvm = ctx ? attach_kvm(ctx) : NULL;
    if (!kvm) {
        if (ctx)
            snprintf(why, why_len, "no KVM backend on \"memory\"");
        rc = -1;
    }
    for (line = strtok_r(golden, "\n", &save); line && rc == 0;
         line = strtok_r(NULL, "\n", &save)) {
        unsigned as_id, slot, flags;
        unsigned long long gpa, size, end;
        char hva[256], flagstr[64];
        const mt_kvm_slot *s;

        if (line[0] == '#')
            continue;
        /* flags may read "0x2(KVM_MEM_READONLY)": the number leads */
        if (sscanf(line, "%u %u %63s %llx %llx %llx %255s", &as_id, &slot,
                   flagstr, &gpa, &size, &end, hva) != 7) {
            snprintf(why, why_len, "cannot parse golden line: %.200s", line);
            rc = -1;
            break;
        }
        flags = (unsigned)strtoul(flagstr, NULL, 16);
        snprintf(want, sizeof(want), "%u 0x%x 0x%llx 0x%llx %s", as_id, flags,
                 gpa, size, hva);
        s = mt_kvm_slot_at(kvm, n++);
        if (!s) {
            snprintf(why, why_len, "missing slot: %.200s", want);
            rc = -1;
            break;
        }
        snprintf(got, sizeof(got), "%u 0x%x 0x%llx 0x%llx %s+0x%llx",
                 s->as_id, s->flags, (unsigned long long)s->gpa,
                 (unsigned long long)s->size, mt_region_name(s->region),
                 (unsigned long long)s->offset);
        if (strcmp(want, got)) {
            snprintf(why, why_len, "slot %zu: want '%.200s', got '%.200s'",
                     n - 1, want, got);
            rc = -1;
        }
    }
    if (rc == 0 && kvm && n != mt_kvm_nr_slots(kvm)) {
        snprintf(why, why_len, "%zu slots, golden has %zu",
                 mt_kvm_nr_slots(kvm), n);
        rc = -1;
    }
    mt_kvm_free(kvm);
    mt_ctx_free(ctx);
    free(golden);
    return rc;
}

/* Print @ctx with -D and -f into @out[0] and @out[1]; 0 or -1 (@why set). */
static int print_both(mt_ctx *ctx, char *out[2], char *why, size_t why_len)
{
    size_t len;

    out[0] = print_ctx(ctx, MT_MTREE_DISABLED, &len, why, why_len);
    out[1] = out[0] ? print_ctx(ctx, MT_MTREE_FLAT, &len, why, why_len) : NULL;
    return out[1] ? 0 : -1;
}

/* Say where @a and @b first differ. */
static void first_difference(const char *a, const char *b, char *why, size_t why_len)
{
    unsigned line = 1;
    size_t i = 0;

    for (; a[i] && a[i] == b[i]; i++)
        line += a[i] == '\n';
    snprintf(why, why_len, "reloaded output differs at line %u", line);
}

/* Load the case, print -D, reload that text: -D and -f must not change. */
static int check_roundtrip(const struct case_test *t, char *why, size_t why_len)
{
    size_t facts_len = 0;
    char *facts = read_case_file(t->dir, "facts.txt", &facts_len);
    char *first[2] = { NULL, NULL }, *second[2] = { NULL, NULL };
    mt_ctx *ctx = load_case(t->dir, why, why_len);
    int rc = ctx ? print_both(ctx, first, why, why_len) : -1;

    mt_ctx_free(ctx);
    ctx = NULL;
    if (rc == 0)
        ctx = load_text(first[0], strlen(first[0]), facts, facts_len, why, why_len);
    rc = ctx ? print_both(ctx, second, why, why_len) : -1;
    for (int i = 0; i < 2 && rc == 0; i++) {
        if (strcmp(first[i], second[i])) {
            first_difference(first[i], second[i], why, why_len);
            rc = -1;
        }
    }
    mt_ctx_free(ctx);
    free(facts);
    for (int i = 0; i < 2; i++) {
        free(first[i]);
        free(second[i]);
    }
    return rc;
}

/* Print case @t and compare; 0 when equal, else a message in @why. */
static int check_case(const struct case_test *t, char *why, size_t why_len)
{
    const struct mode_info *m = &modes[t->mode];
    size_t exp_len = 0, act_len = 0;
    char *expected, *actual = NULL;
    mt_ctx *ctx;
    int rc = -1;

    if (t->mode == MODE_MEMSLOTS)
        return check_memslots(t, why, why_len);
    if (!m->expected)
        return check_roundtrip(t, why, why_len);
    expected = read_case_file(t->dir, m->expected, &exp_len);
    if (!expected) {
        snprintf(why, why_len, "cannot read %s", m->expected);
        return -1;
    }
    ctx = load_case(t->dir, why, why_len);
    if (ctx) {
        mt_kvm *kvm = t->mode == MODE_FLAT && ran_under_kvm(t->dir)
                          ? attach_kvm(ctx) : NULL;

        actual = print_ctx_kvm(ctx, kvm, m->flags, &act_len, why, why_len);
        mt_kvm_free(kvm);
    }
    mt_ctx_free(ctx);
    if (actual) {
        printf("[ COMPARE  ] %s\n", t->name);
        rc = mtc_compare(expected, exp_len, actual, act_len, compare_flags, stdout);
        snprintf(why, why_len, "output differs from %s%s", m->expected,
                 rc < 0 ? " (out of memory)" : "");
    }
    free(expected);
    free(actual);
    return rc;
}

static void run_case(void **state)
{
    const struct case_test *t = *state;
    char why[512];

    if (check_case(t, why, sizeof(why))) {
        failed[t->mode]++;
        fail_msg("%s: %s", t->name, why);
    }
    passed[t->mode]++;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the case folders under @dir (those with an mtree-D.txt), sorted. */
static char **list_cases(const char *dir, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **v = NULL;

    *n = 0;
    if (!d)
        return NULL;
    while ((de = readdir(d))) {
        char path[4096];
        FILE *f;

        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s/mtree-D.txt", dir, de->d_name);
        f = fopen(path, "rb");
        if (!f)
            continue;
        fclose(f);
        v = realloc(v, (*n + 1) * sizeof(*v));
        v[(*n)++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(v, *n, sizeof(*v), cmp_str);
    return v;
}

static struct CMUnitTest *make_tests(char **names, size_t n)
{
    struct CMUnitTest *tests = calloc(n * NR_MODES, sizeof(*tests));

    for (size_t i = 0; i < n; i++) {
        for (int m = 0; m < NR_MODES; m++) {
            struct case_test *t = calloc(1, sizeof(*t));
            size_t len = strlen(cases_dir) + strlen(names[i]) + 32;

            t->dir = malloc(len);
            snprintf(t->dir, len, "%s/%s", cases_dir, names[i]);
            t->name = malloc(len);
            snprintf(t->name, len, "%s/%s", names[i], modes[m].suffix);
            t->mode = (enum mode)m;
            tests[i * NR_MODES + m] = (struct CMUnitTest){
                .name = t->name, .test_func = run_case, .initial_state = t,
            };
        }
    }
    return tests;
}

static void free_tests(struct CMUnitTest *tests, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct case_test *t = tests[i].initial_state;

        free(t->dir);
        free(t->name);
        free(t);
    }
    free(tests);
}

static void print_summary(void)
{
    unsigned p = 0, f = 0;

    for (int m = 0; m < NR_MODES; m++) {
        printf("%-9s %u passed, %u failed\n", modes[m].suffix, passed[m], failed[m]);
        p += passed[m];
        f += failed[m];
    }
    printf("%u passed, %u failed\n", p, f);
}

int main(int argc, char **argv)
{
    char **names;
    size_t n;
    int argi = 1, rc;
    struct CMUnitTest *tests;

    if (argi < argc && strcmp(argv[argi], "--strip-kvm") == 0) {
        compare_flags |= MTC_STRIP_KVM;
        argi++;
    }
    if (argi >= argc) {
        fprintf(stderr, "usage: %s [--strip-kvm] CASES_DIR [CASE...]\n", argv[0]);
        return 2;
    }
    cases_dir = argv[argi++];
    if (argi < argc) {
        n = (size_t)(argc - argi);
        names = malloc(n * sizeof(*names));
        for (size_t i = 0; i < n; i++)
            names[i] = strdup(argv[argi + (int)i]);
    } else {
        names = list_cases(cases_dir, &n);
    }
    if (!n) {
        fprintf(stderr, "%s: no cases under %s\n", argv[0], cases_dir);
        return 1;
    }
    tests = make_tests(names, n);
    rc = _cmocka_run_group_tests("conformance", tests, n * NR_MODES, NULL, NULL);
    print_summary();
    free_tests(tests, n * NR_MODES);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc ? 1 : 0;
}
