/* SPDX-License-Identifier: MIT */
/*
 * stress_map.h: the machine of the map stress tests (stress_map.c): one
 * address space whose regions a writer keeps moving, toggling, resizing,
 * deleting and re-adding, laid out so that every value a reader can see
 * names the region and offset it came from.
 *
 * Every 8-byte word of every region reads as
 *     high half: 0xA5 << 24 | id << 16 | word index in the region
 *     low half:  0x5252 << 16 | id (RAM) or 0x4D4D << 16 | id (MMIO)
 * where id (1..7) names the region. RAM and ROM hold those words; MMIO
 * read callbacks compute them. A word at guest address A showing region
 * id and word w is right only when A - 8w is one of the places region id
 * (or an alias window onto it) can start in some map: its "origins".
 * Holes read 0. Readers write only the low halves of the words of their
 * own lane (word index parity), so high halves never change and two
 * readers never write the same bytes.
 */
#ifndef MT_STRESS_MAP_H
#define MT_STRESS_MAP_H

#include <stdbool.h>
#include <stdint.h>

#include "memtree.h"

/* Readers access [0, SPACE). */
#define SM_SPACE    UINT64_C(0x100000)
#define SM_NIDS     8               /* ids 1..7 */
#define SM_HI_MAGIC 0xA5u

/* ---- the layout (every origin is a multiple of 16: lanes agree) ------------ */

/* id 1 "r1": RAM 64 KiB, moved between two places, read-only toggled. */
static const uint64_t sm_a_pos[2] = { 0x00000, 0x40000 };
/* id 2 "r2": RAM 64 KiB at 0x20000, enabled/disabled, deleted/re-added;
 * also seen through alias "d" at 0x60000, offset 0 or 0x8000, size
 * 0x4000 or 0x8000. */
#define SM_B_POS    UINT64_C(0x20000)
#define SM_D_POS    UINT64_C(0x60000)
static const uint64_t sm_d_off[2] = { 0, 0x8000 };
static const uint64_t sm_d_size[2] = { 0x4000, 0x8000 };
/* id 3 "r3": ROM 32 KiB at 0x8000, priority 1 (over r1 at 0), toggled. */
#define SM_C_POS    UINT64_C(0x8000)
/* id 4 "r4": MMIO, priority 2, three places (one over r2), two sizes;
 * its read-only flag and its re-entrancy guard toggled (neither changes
 * what it reads). */
static const uint64_t sm_e_pos[3] = { 0x80000, 0x84000, 0x28000 };
static const uint64_t sm_e_size[2] = { 0x2000, 0x4000 };
/* id 5 "r5": RAM 32 KiB, freed when deleted, a new one made to re-add. */
static const uint64_t sm_f_pos[2] = { 0x90000, 0x98000 };
/* id 6 "r6": MMIO 8 KiB, likewise. */
static const uint64_t sm_g_pos[2] = { 0xA0000, 0xA8000 };
/* id 7 "r7": RAM 16 KiB at 0x1000 in container "h" (64 KiB), which moves. */
static const uint64_t sm_h_pos[2] = { 0xC0000, 0xD0000 };
#define SM_I_OFF    UINT64_C(0x1000)

#define SM_F_SIZE   UINT64_C(0x8000)
#define SM_G_SIZE   UINT64_C(0x2000)
#define SM_I_SIZE   UINT64_C(0x4000)

/* Where each id may start in some map (A - 8w), and its largest size. */
static const uint64_t sm_origins[SM_NIDS][3] = {
    [1] = { 0x00000, 0x40000, 0x00000 },
    [2] = { 0x20000, 0x60000, 0x58000 },      /* direct; alias off 0, 0x8000 */
    [3] = { 0x08000, 0x08000, 0x08000 },
    [4] = { 0x80000, 0x84000, 0x28000 },
    [5] = { 0x90000, 0x98000, 0x90000 },
    [6] = { 0xA0000, 0xA8000, 0xA0000 },
    [7] = { 0xC1000, 0xD1000, 0xC1000 },
};
static const uint64_t sm_max_size[SM_NIDS] = {
    0, 0x10000, 0x10000, 0x8000, 0x4000, 0x8000, 0x2000, 0x4000,
};
/* Ids with memory behind them (RAM, ROM): gpa_to_hva may find them. */
static const bool sm_has_ram[SM_NIDS] = {
    false, true, true, true, false, true, false, true,
};

static inline uint32_t sm_hi(unsigned id, uint64_t word)
{
    return SM_HI_MAGIC << 24 | (uint32_t)id << 16 | (uint32_t)word;
}

/* Is @hi a possible high half of the word at @word_addr in some map? */
static inline bool sm_valid_hi(uint64_t word_addr, uint32_t hi)
{
    unsigned id = (hi >> 16) & 0xff;
    uint64_t off = (uint64_t)(hi & 0xffff) * 8;

    if ((hi >> 24) != SM_HI_MAGIC || id < 1 || id >= SM_NIDS ||
        off >= sm_max_size[id] || off > word_addr)
        return false;
    for (unsigned i = 0; i < 3; i++)
        if (word_addr - off == sm_origins[id][i])
            return true;
    return false;
}

/* ---- the machine's state, as the writers last set it ---------------------- */

typedef struct sm_state {
    unsigned a_pos;
    bool a_ro;
    bool b_en, b_mapped;
    bool c_en;
    unsigned d_off, d_size;
    unsigned e_pos, e_size;
    bool e_ro, e_unguarded;     /* read-only flag, re-entrancy guard off */
    bool f_mapped;
    unsigned f_pos;
    bool g_mapped;
    unsigned g_pos;
    unsigned h_pos;
    bool i_en;
} sm_state;

typedef struct sm_machine {
    mt_ctx *ctx;
    mt_as *as;
    mt_region *sys, *ra, *rb, *rc, *d, *me, *rf, *mg, *h, *ri;
    sm_state st;
} sm_machine;

#endif /* MT_STRESS_MAP_H */
