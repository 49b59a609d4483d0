/* SPDX-License-Identifier: MIT */
/*
 * pc-machine.c: the memory layout of QEMU's i440FX "pc" machine, built with
 * memtree's public API only, then printed like QEMU's `info mtree -f`.
 *
 * Address space "memory" (and "cpu-memory-0", which shares its root):
 *
 *   system (container, 2^64)
 *   |- ram-below-4g  alias of pc.ram [0, below_4g)           at 0
 *   |- ram-above-4g  alias of pc.ram [below_4g, ram_size)    at 4 GiB
 *   |- pci           container, priority -1: what the RAM aliases leave
 *   |  |              (the PCI hole below 4 GiB) belongs to PCI
 *   |  |- vga-lowmem  the legacy VGA window 0xa0000-0xbffff (MMIO), prio 1
 *   |  |- pc.rom      option ROMs 0xc0000-0xdffff, prio 1
 *   |  |- isa-bios    read-only alias of the last 128 KiB of pc.bios at
 *   |  |              0xe0000, prio 1
 *   |  |- vga.vram    the VGA framebuffer BAR (RAM, dirty-logged)
 *   |  |- e1000-mmio  a NIC's MMIO BAR
 *   |  `- pc.bios     the 256 KiB BIOS ROM just below 4 GiB
 *   |- smram-region  alias of pci 0xa0000-0xbffff, prio 1: while SMRAM is
 *   |                closed the VGA window wins over RAM
 *   |- pam-ram/pam-rom/pam-pci x 13 (prio 1): the PAM registers' choice of
 *   |                RAM, read-only RAM or PCI for each segment of
 *   |                0xc0000-0xfffff; exactly one alias per segment is
 *   |                enabled, switched at run time
 *   |- ioapic, hpet  MMIO
 *   `- apic-msi      MMIO, prio 4096
 *
 * Address space "I/O": the port space, rooted at an I/O region with
 * mt_ops_unassigned_io() (reads of unclaimed ports return all-ones), with
 * the usual legacy devices mapped in it.
 *
 * The program then plays firmware: it shadows the BIOS into RAM the way
 * SeaBIOS does (PAM segments 0xe0000-0xfffff switched to RAM, the BIOS
 * copied, the segments made read-only), talks to a few ports, and prints.
 *
 * usage: pc-machine [--ram MiB] [--tree [-D] | --facts] [--trap]
 *   --ram MiB  guest RAM size (default 4096: 3 GiB below 4 GiB, 1 GiB above)
 *   --tree     print `info mtree` (the region trees) instead of `-f`
 *   -D         with --tree: show disabled regions too (`info mtree -D`)
 *   --facts    print what `memtree mtree --facts` needs besides the -D dump
 *              to rebuild this machine (docs/mtree-format.md), e.g.
 *                pc-machine --tree -D >pc.txt; pc-machine --facts >facts.txt
 *                memtree svg --facts facts.txt pc.txt -o pc.svg
 *   --trap     raise SIGTRAP once the map is built, so that a debugger can
 *              look at it (tools/gdb/memtree.py); the program then goes on
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memtree.h>

#define KiB (UINT64_C(1) << 10)
#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)

/*
 * The context lives at file scope, under the name the GDB helpers look
 * for ("ctx"), so that `dump_address_spaces` finds it without an argument
 * at any optimisation level.
 */
mt_ctx *ctx;

/* Stop on the first failure: an example should not go on after one. */
#define CHECK(call)                                                          \
    do {                                                                     \
        int rc_ = (call);                                                    \
        if (rc_) {                                                           \
            fprintf(stderr, "pc-machine: %s:%d: %s: %s\n", __FILE__,        \
                    __LINE__, #call, mt_strerror(rc_));                      \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

#define EXPECT(cond)                                                         \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "pc-machine: %s:%d: check failed: %s\n",        \
                    __FILE__, __LINE__, #cond);                              \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

/* ------------------------------------------------------------------------ */
/* Devices                                                                   */
/* ------------------------------------------------------------------------ */

/* A device with one register per port: reads return what was written. */
struct latch {
    uint64_t value;
};

static mt_result latch_read(void *opaque, uint64_t offset, uint64_t *value,
                            unsigned size, mt_attrs attrs)
{
    struct latch *l = opaque;

    (void)offset, (void)size, (void)attrs;
    *value = l->value;
    return MT_TX_OK;
}

static mt_result latch_write(void *opaque, uint64_t offset, uint64_t value,
                             unsigned size, mt_attrs attrs)
{
    struct latch *l = opaque;

    (void)offset, (void)size, (void)attrs;
    l->value = value;
    return MT_TX_OK;
}

static const mt_ops latch_ops = {
    .read = latch_read,
    .write = latch_write,
    .endian = MT_ENDIAN_LITTLE,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

/* The MC146818 RTC's CMOS: port 0x70 selects a byte, port 0x71 reads or
 * writes it. Two regions (rtc-index and rtc) share one guard: one device. */
struct cmos {
    uint8_t index;
    uint8_t ram[128];
    mt_guard guard;
};

static mt_result cmos_index_write(void *opaque, uint64_t offset, uint64_t value,
                                  unsigned size, mt_attrs attrs)
{
    struct cmos *c = opaque;

    (void)offset, (void)size, (void)attrs;
    c->index = value & 0x7f; /* bit 7 is the NMI mask */
    return MT_TX_OK;
}

static mt_result cmos_data_read(void *opaque, uint64_t offset, uint64_t *value,
                                unsigned size, mt_attrs attrs)
{
    struct cmos *c = opaque;

    (void)offset, (void)size, (void)attrs;
    *value = c->ram[c->index];
    return MT_TX_OK;
}

static mt_result cmos_data_write(void *opaque, uint64_t offset, uint64_t value,
                                 unsigned size, mt_attrs attrs)
{
    struct cmos *c = opaque;

    (void)offset, (void)size, (void)attrs;
    c->ram[c->index] = (uint8_t)value;
    return MT_TX_OK;
}

static const mt_ops cmos_index_ops = {
    .write = cmos_index_write,
    .valid = { .min_access_size = 1, .max_access_size = 1 },
};

static const mt_ops cmos_data_ops = {
    .read = cmos_data_read,
    .write = cmos_data_write,
    .valid = { .min_access_size = 1, .max_access_size = 1 },
};

/* A 16550 UART reduced to its transmit register: bytes written to
 * 0x3f8 are collected in @out. */
struct uart {
    char out[64];
    size_t len;
};

static mt_result uart_read(void *opaque, uint64_t offset, uint64_t *value,
                           unsigned size, mt_attrs attrs)
{
    (void)opaque, (void)size, (void)attrs;
    *value = offset == 5 ? 0x60 : 0; /* line status: transmitter empty */
    return MT_TX_OK;
}

static mt_result uart_write(void *opaque, uint64_t offset, uint64_t value,
                            unsigned size, mt_attrs attrs)
{
    struct uart *u = opaque;

    (void)size, (void)attrs;
    if (offset == 0 && u->len + 1 < sizeof(u->out))
        u->out[u->len++] = (char)value;
    return MT_TX_OK;
}

static const mt_ops uart_ops = {
    .read = uart_read,
    .write = uart_write,
    .valid = { .min_access_size = 1, .max_access_size = 1 },
};

/* ------------------------------------------------------------------------ */
/* The machine                                                               */
/* ------------------------------------------------------------------------ */

/* PAM segment modes, as the i440FX's PAM registers encode them. */
enum pam_mode { PAM_PCI, PAM_ROM, PAM_RAM };
#define NR_PAM 13

struct pc {
    uint64_t ram_size, below_4g, above_4g;
    mt_region *system, *pci, *ram, *bios, *vram, *io;
    /* Per PAM segment: the alias for each mode, one enabled at a time. */
    mt_region *pam[NR_PAM][3];
    mt_as *memory, *cpu_memory, *io_as;
    struct latch ioapic, hpet, msi, nic, vga, port92, pit, pic[2], i8042[2];
    struct latch pci_conf_idx, pci_conf_data, reset;
    struct cmos cmos;
    struct uart uart;
};

/* Map a new I/O region of @size bytes at @addr in @parent; the container
 * keeps the only reference. */
static mt_region *map_io(mt_region *parent, const char *name, uint64_t addr,
                         uint64_t size, int prio, const mt_ops *ops,
                         void *opaque)
{
    mt_region *r;

    CHECK(mt_region_new_io(ctx, name, size, ops, opaque, &r));
    CHECK(mt_region_add_subregion_overlap(parent, addr, r, prio));
    mt_region_unref(r);
    return r;
}

/* Map a new alias of [@offset, @offset + @size) of @target at @addr. */
static mt_region *map_alias(mt_region *parent, const char *name,
                            mt_region *target, uint64_t offset,
                            uint64_t size, uint64_t addr, int prio)
{
    mt_region *a;

    CHECK(mt_region_new_alias(ctx, name, target, offset, size, &a));
    CHECK(mt_region_add_subregion_overlap(parent, addr, a, prio));
    mt_region_unref(a);
    return a;
}

/* PAM segment @i: 0 is 0xf0000-0xfffff, 1..12 are 16 KiB from 0xc0000. */
static void pam_segment(unsigned i, uint64_t *start, uint64_t *size)
{
    *start = i == 0 ? 0xf0000 : 0xc0000 + (i - 1) * 16 * KiB;
    *size = i == 0 ? 64 * KiB : 16 * KiB;
}

static void pam_init(struct pc *pc)
{
    for (unsigned i = 0; i < NR_PAM; i++) {
        uint64_t start, size;

        pam_segment(i, &start, &size);
        pc->pam[i][PAM_RAM] = map_alias(pc->system, "pam-ram", pc->ram,
                                        start, size, start, 1);
        pc->pam[i][PAM_ROM] = map_alias(pc->system, "pam-rom", pc->ram,
                                        start, size, start, 1);
        CHECK(mt_region_set_readonly(pc->pam[i][PAM_ROM], true));
        pc->pam[i][PAM_PCI] = map_alias(pc->system, "pam-pci", pc->pci,
                                        start, size, start, 1);
        /* At reset every segment goes to PCI (PAM registers read 0). */
        CHECK(mt_region_set_enabled(pc->pam[i][PAM_RAM], false));
        CHECK(mt_region_set_enabled(pc->pam[i][PAM_ROM], false));
    }
}

/* What a write to a PAM register does: one transaction, one re-render. */
static void pam_set(struct pc *pc, unsigned seg, enum pam_mode mode)
{
    mt_begin(ctx);
    for (int m = PAM_PCI; m <= PAM_RAM; m++)
        CHECK(mt_region_set_enabled(pc->pam[seg][m], m == (int)mode));
    CHECK(mt_commit(ctx));
}

static void build_memory(struct pc *pc)
{
    mt_region *r;

    CHECK(mt_region_new_container(ctx, "system", MT_SIZE_FULL, &pc->system));

    /* Guest RAM: one block, shown through two aliases around the PCI hole. */
    CHECK(mt_region_new_ram(ctx, "pc.ram", pc->ram_size, &pc->ram));
    map_alias(pc->system, "ram-below-4g", pc->ram, 0, pc->below_4g, 0, 0);
    if (pc->above_4g)
        map_alias(pc->system, "ram-above-4g", pc->ram, pc->below_4g,
                  pc->above_4g, 4 * GiB, 0);

    /* PCI: everything RAM does not cover. */
    CHECK(mt_region_new_container(ctx, "pci", MT_SIZE_FULL, &pc->pci));
    CHECK(mt_region_add_subregion_overlap(pc->system, 0, pc->pci, -1));

    map_io(pc->pci, "vga-lowmem", 0xa0000, 128 * KiB, 1, &latch_ops, &pc->vga);

    CHECK(mt_region_new_rom(ctx, "pc.rom", 128 * KiB, &r));
    CHECK(mt_region_add_subregion_overlap(pc->pci, 0xc0000, r, 1));
    mt_region_unref(r);

    CHECK(mt_region_new_rom(ctx, "pc.bios", 256 * KiB, &pc->bios));
    CHECK(mt_region_add_subregion(pc->pci, 4 * GiB - 256 * KiB, pc->bios));
    r = map_alias(pc->pci, "isa-bios", pc->bios, 128 * KiB, 128 * KiB,
                  0xe0000, 1);
    CHECK(mt_region_set_readonly(r, true));

    /* A VGA card's framebuffer BAR, logged so a display can redraw. */
    CHECK(mt_region_new_ram(ctx, "vga.vram", 16 * MiB, &pc->vram));
    CHECK(mt_region_add_subregion(pc->pci, 0xfd000000, pc->vram));
    CHECK(mt_region_set_dirty_log(pc->vram, true));
    map_io(pc->pci, "e1000-mmio", 0xfebc0000, 128 * KiB, 0, &latch_ops, &pc->nic);

    /* SMRAM closed: the VGA window is seen over RAM. */
    map_alias(pc->system, "smram-region", pc->pci, 0xa0000, 128 * KiB,
              0xa0000, 1);
    pam_init(pc);

    map_io(pc->system, "ioapic", 0xfec00000, 4 * KiB, 0, &latch_ops, &pc->ioapic);
    map_io(pc->system, "hpet", 0xfed00000, 1 * KiB, 0, &latch_ops, &pc->hpet);
    map_io(pc->system, "apic-msi", 0xfee00000, 1 * MiB, 4096, &latch_ops, &pc->msi);
}

static void build_io(struct pc *pc)
{
    mt_region *rtc;

    CHECK(mt_region_new_io(ctx, "io", 64 * KiB, mt_ops_unassigned_io(), NULL,
                           &pc->io));
    map_io(pc->io, "pic", 0x20, 2, 0, &latch_ops, &pc->pic[0]);
    map_io(pc->io, "pit", 0x40, 4, 0, &latch_ops, &pc->pit);
    map_io(pc->io, "i8042-data", 0x60, 1, 0, &latch_ops, &pc->i8042[0]);
    map_io(pc->io, "i8042-cmd", 0x64, 1, 0, &latch_ops, &pc->i8042[1]);

    /* The RTC: an I/O region with a subregion, sharing one guard. */
    rtc = map_io(pc->io, "rtc", 0x70, 2, 0, &cmos_data_ops, &pc->cmos);
    CHECK(mt_region_set_guard(rtc, &pc->cmos.guard));
    CHECK(mt_region_set_guard(map_io(rtc, "rtc-index", 0, 1, 0,
                                     &cmos_index_ops, &pc->cmos),
                              &pc->cmos.guard));

    map_io(pc->io, "port92", 0x92, 1, 0, &latch_ops, &pc->port92);
    map_io(pc->io, "pic", 0xa0, 2, 0, &latch_ops, &pc->pic[1]);
    map_io(pc->io, "serial", 0x3f8, 8, 0, &uart_ops, &pc->uart);
    map_io(pc->io, "pci-conf-idx", 0xcf8, 4, 0, &latch_ops, &pc->pci_conf_idx);
    /* Overlaps pci-conf-idx with a higher priority, as on real PIIX3s. */
    map_io(pc->io, "piix3-reset-control", 0xcf9, 1, 1, &latch_ops, &pc->reset);
    map_io(pc->io, "pci-conf-data", 0xcfc, 4, 0, &latch_ops, &pc->pci_conf_data);
}

/* ------------------------------------------------------------------------ */
/* Firmware                                                                  */
/* ------------------------------------------------------------------------ */

/* Load a BIOS image whose last bytes hold a reset vector (a far jump). */
static void load_bios(struct pc *pc)
{
    static const uint8_t reset_vector[16] = { 0xea, 0x5b, 0xe0, 0x00, 0xf0 };
    mt_result res;

    /* mt_as_write_rom writes ROM too, as a firmware loader does. */
    res = mt_as_write_rom(pc->memory, 4 * GiB - 16, MT_ATTRS_UNSPECIFIED,
                          reset_vector, sizeof(reset_vector));
    EXPECT(res == MT_TX_OK);
}

/* Is the flat-view range of @as at @addr read-only? */
static bool range_readonly(mt_as *as, uint64_t addr)
{
    mt_flatview *fv = mt_as_flatview(as);
    bool ro = false;

    for (size_t i = 0; i < mt_flatview_nr_ranges(fv); i++) {
        const mt_flat_range *r = mt_flatview_range(fv, i);

        if (r->start <= addr && addr <= r->last)
            ro = r->readonly;
    }
    mt_flatview_unref(fv);
    return ro;
}

/* What SeaBIOS does first: copy itself from ROM into RAM at 0xe0000 and
 * write-protect the copy. */
static void shadow_bios(struct pc *pc)
{
    static uint8_t image[128 * 1024];
    uint8_t byte;

    /* 0xe0000-0xfffff reads the BIOS (through PCI: isa-bios) ... */
    EXPECT(mt_as_read(pc->memory, 0xe0000, MT_ATTRS_UNSPECIFIED, image,
                      sizeof(image)) == MT_TX_OK);
    /* ... then becomes RAM (segment 0 and segments 9-12) ... */
    mt_begin(ctx);
    pam_set(pc, 0, PAM_RAM);
    for (unsigned seg = 9; seg <= 12; seg++)
        pam_set(pc, seg, PAM_RAM);
    CHECK(mt_commit(ctx));
    EXPECT(mt_as_write(pc->memory, 0xe0000, MT_ATTRS_UNSPECIFIED, image,
                       sizeof(image)) == MT_TX_OK);
    /* ... and read-only RAM. */
    mt_begin(ctx);
    pam_set(pc, 0, PAM_ROM);
    for (unsigned seg = 9; seg <= 12; seg++)
        pam_set(pc, seg, PAM_ROM);
    CHECK(mt_commit(ctx));

    /* The reset vector is now in RAM at 0xffff0, in a read-only range. */
    EXPECT(mt_as_read(pc->memory, 0xffff0, MT_ATTRS_UNSPECIFIED, &byte, 1) ==
           MT_TX_OK && byte == 0xea);
    EXPECT(range_readonly(pc->memory, 0xffff0));
    /*
     * (The access path still lets writes through: as in QEMU, only the RAM
     * region's own flag stops them, not a read-only alias above it. An
     * accelerator such as KVM maps the range read-only, which does.)
     */
}

/* A few port accesses, the way a guest makes them. */
static void talk_to_ports(struct pc *pc)
{
    static const char hello[] = "hello";
    uint64_t v;

    /* CMOS byte 0x0f, the shutdown status, written then read back. */
    EXPECT(mt_as_store(pc->io_as, 0x70, 1, MT_ENDIAN_LITTLE,
                       MT_ATTRS_UNSPECIFIED, 0x0f) == MT_TX_OK);
    EXPECT(mt_as_store(pc->io_as, 0x71, 1, MT_ENDIAN_LITTLE,
                       MT_ATTRS_UNSPECIFIED, 0xaa) == MT_TX_OK);
    EXPECT(mt_as_load(pc->io_as, 0x71, 1, MT_ENDIAN_LITTLE,
                      MT_ATTRS_UNSPECIFIED, &v) == MT_TX_OK && v == 0xaa);

    for (const char *c = hello; *c; c++)
        EXPECT(mt_as_store(pc->io_as, 0x3f8, 1, MT_ENDIAN_LITTLE,
                           MT_ATTRS_UNSPECIFIED, (uint8_t)*c) == MT_TX_OK);
    EXPECT(strcmp(pc->uart.out, hello) == 0);

    /* An unclaimed port reads all-ones, as on a PC. */
    EXPECT(mt_as_load(pc->io_as, 0x2f8, 1, MT_ENDIAN_LITTLE,
                      MT_ATTRS_UNSPECIFIED, &v) == MT_TX_OK && v == 0xff);
}

/* A write into the framebuffer marks its page dirty for the VGA client. */
static void touch_framebuffer(struct pc *pc)
{
    uint32_t pixel = 0x00ff8800;
    bool dirty;

    CHECK(mt_region_dirty_test_and_clear(pc->vram, 0, 16 * MiB,
                                         MT_DIRTY_CLIENT_VGA, &dirty));
    EXPECT(mt_as_write(pc->memory, 0xfd000000 + 4 * 640 * 10,
                       MT_ATTRS_UNSPECIFIED, &pixel, sizeof(pixel)) == MT_TX_OK);
    CHECK(mt_region_dirty_get(pc->vram, 4 * 640 * 10, 4, MT_DIRTY_CLIENT_VGA,
                              &dirty));
    EXPECT(dirty);
}

/* ------------------------------------------------------------------------ */

static void usage(void)
{
    fprintf(stderr, "usage: pc-machine [--ram MiB] [--tree [-D] | --facts] [--trap]\n");
    exit(2);
}

/* What an `info mtree -D` dump cannot show about this machine: the I/O
 * regions that fill their gaps (rather than being containers), the
 * read-only aliases and the dirty-logged RAM. */
static const char facts[] =
    "terminates io\n"
    "terminates rtc\n"
    "readonly pam-rom\n"
    "readonly isa-bios\n"
    "dirty-log vga.vram\n";

int main(int argc, char **argv)
{
    static struct pc pc;
    unsigned flags = MT_MTREE_FLAT;
    bool tree = false, disabled = false, trap = false, print_facts = false;
    uint64_t ram_mib = 4096;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--trap")) {
            trap = true;
        } else if (!strcmp(argv[i], "--tree")) {
            tree = true;
        } else if (!strcmp(argv[i], "-D")) {
            disabled = true;
        } else if (!strcmp(argv[i], "--facts")) {
            print_facts = true;
        } else if (!strcmp(argv[i], "--ram") && i + 1 < argc) {
            char *end;

            ram_mib = strtoull(argv[++i], &end, 0);
            if (*end || ram_mib < 2 || ram_mib > 1024 * 1024)
                usage();
        } else {
            usage();
        }
    }
    if (tree)
        flags = disabled ? MT_MTREE_DISABLED : 0;

    /* QEMU's split: RAM of 3.5 GiB or more keeps only 3 GiB below 4 GiB. */
    pc.ram_size = ram_mib * MiB;
    pc.below_4g = pc.ram_size >= 0xe0000000 ? 3 * GiB : pc.ram_size;
    pc.above_4g = pc.ram_size - pc.below_4g;

    CHECK(mt_ctx_new(&ctx, NULL));
    /* One transaction: the whole map is rendered once, at the commit. */
    mt_begin(ctx);
    build_memory(&pc);
    build_io(&pc);
    CHECK(mt_as_new(ctx, pc.system, "memory", &pc.memory));
    CHECK(mt_as_new(ctx, pc.system, "cpu-memory-0", &pc.cpu_memory));
    CHECK(mt_as_new(ctx, pc.io, "I/O", &pc.io_as));
    CHECK(mt_commit(ctx));
    /* The address spaces hold the roots now. */
    mt_region_unref(pc.system);
    mt_region_unref(pc.io);

    load_bios(&pc);
    shadow_bios(&pc);
    talk_to_ports(&pc);
    touch_framebuffer(&pc);

    if (trap)
        raise(SIGTRAP); /* look around: tools/gdb/memtree.py */

    if (print_facts)
        fputs(facts, stdout);
    else
        CHECK(mt_mtree_print(ctx, stdout, flags));

    mt_region_unref(pc.pci);
    mt_region_unref(pc.ram);
    mt_region_unref(pc.bios);
    mt_region_unref(pc.vram);
    mt_ctx_free(ctx);
    return 0;
}
