/* SPDX-License-Identifier: MIT */
/*
 * cmd_svg.c: `memtree svg [--facts FACTS] [-o OUT] [--title TEXT] FILE`:
 * load a QEMU `info mtree` dump and draw its flat views as an SVG memory
 * map.
 *
 * One column per distinct flat view (in `info mtree -f` order), addresses
 * growing downwards. Each range is a box coloured by what answers there
 * (ram, rom, romd, ramd, i/o), labelled with the region's name, its offset
 * in the region when not 0, and its size; the gaps between ranges are
 * hatched holes. Heights follow the logarithm of the size, with a minimum,
 * and holes are compressed further: a 1-byte port and a 4 GiB RAM block
 * both stay readable, and 2^64 bytes of nothing take little room. The
 * start address of every box is written on its left, the end of the space
 * under the last one. Hovering over a box (in a browser) shows its details.
 *
 * Only the public API is used.
 */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtree.h"

/* Geometry, in SVG user units (pixels). */
#define MARGIN      20.0
#define ADDR_W     118.0  /* address gutter, left of each column */
#define BOX_W      300.0
#define COL_GAP     36.0
#define COL_W      (ADDR_W + BOX_W + COL_GAP)
#define TITLE_H     34.0
#define LEGEND_H    30.0
#define LINE_H      14.0  /* header text lines */
#define FONT        11.0  /* box labels */
#define ADDR_FONT   10.0
#define CHAR_W      (FONT * 0.6) /* monospace advance */

/* Heights: log2 of the size, with a floor; holes get less and a cap. */
#define RANGE_MIN_H 18.0
#define RANGE_PER_BIT 3.0
#define HOLE_MIN_H  12.0
#define HOLE_PER_BIT 0.75
#define HOLE_MAX_H  44.0

struct svg_args {
    const char *file;
    const char *facts;
    const char *out;
    const char *title;
};

/* One box of a column: a range, or a hole when @fr is NULL. */
struct seg {
    uint64_t start, last;
    const mt_flat_range *fr;
    double y, h;
};

struct column {
    mt_flatview *fv;
    unsigned number;      /* FlatView #N */
    struct seg *segs;
    size_t nr_segs;
    double height;        /* of the boxes */
    unsigned digits;      /* hex digits of the addresses */
};

/* ------------------------------------------------------------------------ */
/* Output with error tracking and XML escaping                               */
/* ------------------------------------------------------------------------ */

struct out {
    FILE *f;
    bool err;
};

static void put(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (vfprintf(o->f, fmt, ap) < 0)
        o->err = true;
    va_end(ap);
}

/* Length of the valid UTF-8 sequence at @s (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
    size_t n;
    unsigned cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, cp = s[0] & 0x07;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    /* No overlong forms, surrogates or code points past U+10FFFF. */
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/*
 * Write at most @max characters of @s as XML character data (or attribute
 * text): markup characters escaped, anything XML 1.0 cannot hold (control
 * characters, invalid UTF-8) as '?'; "..." marks a cut. NULL is "(null)".
 */
static void put_text(struct out *o, const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "(null)");
    size_t chars = 0, total = 0;

    if (max == 0)
        return;
    for (const unsigned char *q = p; *q; total++) {
        size_t n = utf8_len(q);

        q += n ? n : 1;
    }
    while (*p) {
        size_t n = utf8_len(p);

        if (total > max && chars + 1 == max) {
            put(o, "\xe2\x80\xa6"); /* U+2026 HORIZONTAL ELLIPSIS */
            return;
        }
        chars++;
        if (n == 0 || (*p < 0x20 && *p != '\t')) {
            put(o, "?");
            p++;
            continue;
        }
        switch (*p) {
        case '&': put(o, "&amp;"); break;
        case '<': put(o, "&lt;"); break;
        case '>': put(o, "&gt;"); break;
        case '"': put(o, "&quot;"); break;
        case '\'': put(o, "&apos;"); break;
        default: put(o, "%.*s", (int)n, (const char *)p); break;
        }
        p += n;
    }
}

/* Characters @s takes (UTF-8 sequences count as one). */
static size_t text_chars(const char *s)
{
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)(s ? s : "(null)"); *p; n++) {
        size_t l = utf8_len(p);

        p += l ? l : 1;
    }
    return n;
}

/* ------------------------------------------------------------------------ */
/* What a range is                                                           */
/* ------------------------------------------------------------------------ */

/* The type word `info mtree -f` prints for a range (read-only wins). */
static const char *range_kind(const mt_flat_range *fr)
{
    const mt_region *r = fr->region;

    if (fr->readonly)
        return "rom";
    switch (mt_region_kind_of(r)) {
    case MT_REGION_RAM_DEVICE:
        return "ramd";
    case MT_REGION_ROM_DEVICE:
        return mt_region_romd(r) ? "romd" : "i/o";
    case MT_REGION_RAM:
        return mt_region_readonly(r) ? "rom" : "ram";
    default:
        return "i/o";
    }
}

/* Fill colours: [0] ranges, [1] their borders. */
static const struct kind_style {
    const char *kind, *label, *fill, *stroke;
} styles[] = {
    { "ram", "ram", "#9fd89a", "#3f8a3a" },
    { "rom", "rom (read-only)", "#9cc3ec", "#3a6fa6" },
    { "romd", "romd (ROM device)", "#c9b1ea", "#6f4fa3" },
    { "ramd", "ramd (RAM device)", "#8fd6cf", "#2f8a80" },
    { "i/o", "i/o (MMIO, ports)", "#f6b38f", "#b0582c" },
};

static const struct kind_style *style_of(const char *kind)
{
    for (size_t i = 0; i < sizeof(styles) / sizeof(styles[0]); i++)
        if (!strcmp(styles[i].kind, kind))
            return &styles[i];
    return &styles[4];
}

/* "4 GiB", "640 KiB", "3 B": exact when a whole number of units below
 * 1024; else rounded, as "~1.4 KiB" (the tooltip has the exact range). */
static void format_size(char *buf, size_t len, uint64_t start, uint64_t last)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    uint64_t m1 = last - start; /* size - 1: 2^64 fits */
    uint64_t size = m1 + 1;
    unsigned u = 0;
    double approx;

    if (m1 == UINT64_MAX) {
        snprintf(buf, len, "16 EiB");
        return;
    }
    while (size >= 1024 && size % 1024 == 0) {
        size /= 1024;
        u++;
    }
    if (size < 1024) {
        snprintf(buf, len, "%" PRIu64 " %s", size, units[u]);
        return;
    }
    approx = (double)size;
    while (approx >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
        approx /= 1024;
        u++;
    }
    snprintf(buf, len, "~%.*f %s", approx < 10 ? 1 : 0, approx, units[u]);
}

static double dmin(double a, double b) { return a < b ? a : b; }
static double dmax(double a, double b) { return a > b ? a : b; }

/* log2 of the number of bytes in [start, last], 0..64: the integer part
 * exactly, the fraction by linear interpolation (no libm needed). */
static double size_bits(uint64_t start, uint64_t last)
{
    uint64_t m1 = last - start; /* size - 1, so that 2^64 fits */
    unsigned floor_bits = 0;

    if (m1 == UINT64_MAX)
        return 64.0;
    while (floor_bits < 63 && ((m1 + 1) >> (floor_bits + 1)))
        floor_bits++;
    return floor_bits + ((double)(m1 + 1) / (double)(UINT64_C(1) << floor_bits) - 1.0);
}

/* ------------------------------------------------------------------------ */
/* Layout                                                                    */
/* ------------------------------------------------------------------------ */

static int add_seg(struct column *c, size_t *cap, uint64_t start,
                   uint64_t last, const mt_flat_range *fr)
{
    struct seg *s;
    double bits = size_bits(start, last);

    if (c->nr_segs == *cap) {
        size_t ncap = *cap ? *cap * 2 : 32;
        struct seg *n = realloc(c->segs, ncap * sizeof(*n));

        if (!n)
            return -1;
        c->segs = n;
        *cap = ncap;
    }
    s = &c->segs[c->nr_segs++];
    s->start = start;
    s->last = last;
    s->fr = fr;
    s->y = c->height;
    if (fr)
        s->h = RANGE_MIN_H + RANGE_PER_BIT * (bits > 8 ? bits - 8 : 0);
    else
        s->h = dmin(HOLE_MAX_H, HOLE_MIN_H + HOLE_PER_BIT * (bits > 12 ? bits - 12 : 0));
    c->height += s->h;
    return 0;
}

/* The boxes of one view: ranges and the holes around them, over the
 * extent of the view's root region. */
static int layout_column(struct column *c)
{
    size_t n = mt_flatview_nr_ranges(c->fv), cap = 0;
    mt_region *root = mt_flatview_root(c->fv);
    uint64_t size = root ? mt_region_size(root) : 0;
    uint64_t end = size == MT_SIZE_FULL ? UINT64_MAX : (size ? size - 1 : 0);
    uint64_t next = 0, top;
    bool more = true;   /* addresses from @next on are still to be drawn */

    for (size_t i = 0; i < n; i++) {
        const mt_flat_range *fr = mt_flatview_range(c->fv, i);

        if (more && fr->start > next && add_seg(c, &cap, next, fr->start - 1, NULL))
            return -1;
        if (add_seg(c, &cap, fr->start, fr->last, fr))
            return -1;
        more = fr->last != UINT64_MAX;
        next = fr->last + 1;
    }
    if (n && more && size && next <= end && add_seg(c, &cap, next, end, NULL))
        return -1;

    /* Enough hex digits for the highest address shown, at least 4. */
    top = c->nr_segs ? c->segs[c->nr_segs - 1].last : 0;
    c->digits = 4;
    while (c->digits < 16 && (top >> (4 * c->digits)))
        c->digits++;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Drawing                                                                   */
/* ------------------------------------------------------------------------ */

static void put_addr(struct out *o, double x, double y, uint64_t addr,
                     unsigned digits)
{
    put(o, "<text class=\"addr\" x=\"%.1f\" y=\"%.1f\">0x%0*" PRIx64 "</text>\n",
        x, y, (int)digits, addr);
}

static void draw_seg(struct out *o, const struct column *c, const struct seg *s,
                     double x, double y0)
{
    double y = y0 + s->y, bx = x + ADDR_W;
    char size[32];

    format_size(size, sizeof(size), s->start, s->last);
    put(o, "<g>\n<title>");
    if (s->fr) {
        const mt_flat_range *fr = s->fr;

        put(o, "%s%s: ", fr->nonvolatile ? "nv-" : "", range_kind(fr));
        put_text(o, mt_region_name(fr->region), SIZE_MAX);
        if (fr->offset)
            put(o, " @0x%" PRIx64, fr->offset);
        put(o, "\n0x%016" PRIx64 "-0x%016" PRIx64 " (%s), prio %d%s",
            s->start, s->last, size, mt_region_priority(fr->region),
            fr->dirty_log_mask ? ", dirty-logged" : "");
    } else {
        put(o, "nothing: 0x%016" PRIx64 "-0x%016" PRIx64 " (%s)",
            s->start, s->last, size);
    }
    put(o, "</title>\n");

    if (s->fr) {
        const struct kind_style *st = style_of(range_kind(s->fr));
        const char *name = mt_region_name(s->fr->region);
        char off[24] = "";
        size_t room, need;

        put(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
            "fill=\"%s\" stroke=\"%s\"%s/>\n", bx, y, BOX_W, s->h, st->fill,
            st->stroke, s->fr->nonvolatile ? " stroke-dasharray=\"4 2\"" : "");
        if (s->fr->offset)
            snprintf(off, sizeof(off), " @0x%" PRIx64, s->fr->offset);
        /* Name (cut to fit), offset, then the size flush right. */
        room = (size_t)((BOX_W - 12) / CHAR_W) - strlen(size) - 1;
        need = strlen(off);
        put(o, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\">", bx + 5,
            y + s->h / 2 + FONT * 0.35);
        if (need + 8 > room) {
            need = 0;  /* no room for the offset: the name matters more */
            off[0] = '\0';
        }
        put_text(o, name, room - need);
        if (off[0])
            put(o, "<tspan class=\"off\">%s</tspan>", off);
        put(o, "</text>\n<text class=\"size\" x=\"%.1f\" y=\"%.1f\">%s</text>\n",
            bx + BOX_W - 5, y + s->h / 2 + FONT * 0.35, size);
    } else {
        put(o, "<rect class=\"hole\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
            "height=\"%.1f\"/>\n", bx, y, BOX_W, s->h);
        if (s->h >= 16)
            put(o, "<text class=\"hole\" x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                bx + BOX_W / 2, y + s->h / 2 + FONT * 0.35, size);
    }
    put_addr(o, x + ADDR_W - 6, y + ADDR_FONT * 0.8, s->start, c->digits);
    put(o, "</g>\n");
}

/* The address spaces publishing @c's view, comma-separated, cut to fit. */
static void put_as_names(struct out *o, mt_ctx *ctx, const struct column *c,
                         mt_flatview **views, size_t nr_as)
{
    size_t room = (size_t)((ADDR_W + BOX_W) / CHAR_W) - 4, used = 0;
    bool first = true;

    for (size_t i = 0; i < nr_as; i++) {
        const char *name;
        size_t len;

        if (views[i] != c->fv)
            continue;
        name = mt_as_name(mt_ctx_as(ctx, i));
        len = text_chars(name) + (first ? 0 : 2);
        if (used + len > room) {
            put(o, first ? "\xe2\x80\xa6" : ", \xe2\x80\xa6");
            return;
        }
        if (!first)
            put(o, ", ");
        put_text(o, name, SIZE_MAX);
        used += len;
        first = false;
    }
}

static void draw_column(struct out *o, mt_ctx *ctx, const struct column *c,
                        mt_flatview **views, size_t nr_as, double x,
                        double y0)
{
    mt_region *root = mt_flatview_root(c->fv);
    double hy = y0;

    put(o, "<g class=\"view\">\n<text class=\"head\" x=\"%.1f\" y=\"%.1f\">"
        "FlatView #%u</text>\n", x, hy, c->number);
    hy += LINE_H;
    put(o, "<text class=\"sub\" x=\"%.1f\" y=\"%.1f\">AS: ", x, hy);
    put_as_names(o, ctx, c, views, nr_as);
    put(o, "</text>\n");
    hy += LINE_H;
    put(o, "<text class=\"sub\" x=\"%.1f\" y=\"%.1f\">root: ", x, hy);
    put_text(o, root ? mt_region_name(root) : "(none)", 40);
    put(o, "</text>\n");
    y0 = hy + LINE_H * 0.75;

    if (!c->nr_segs) {
        put(o, "<rect class=\"hole\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
            "height=\"%.1f\"/>\n<text class=\"hole\" x=\"%.1f\" y=\"%.1f\">"
            "No rendered FlatView</text>\n", x + ADDR_W, y0, BOX_W,
            HOLE_MAX_H, x + ADDR_W + BOX_W / 2, y0 + HOLE_MAX_H / 2 + 4);
        put(o, "</g>\n");
        return;
    }
    for (size_t i = 0; i < c->nr_segs; i++)
        draw_seg(o, c, &c->segs[i], x, y0);
    /* The end of the last box: last + 1, or 2^64. */
    {
        const struct seg *s = &c->segs[c->nr_segs - 1];
        double y = y0 + c->height;

        if (s->last == UINT64_MAX)
            put(o, "<text class=\"addr\" x=\"%.1f\" y=\"%.1f\">2^64</text>\n",
                x + ADDR_W - 6, y + ADDR_FONT * 0.4);
        else
            put_addr(o, x + ADDR_W - 6, y + ADDR_FONT * 0.4, s->last + 1,
                     c->digits);
    }
    put(o, "</g>\n");
}

#define LEGEND_NOTE "nothing (log-scale heights, holes shrunk)"

/* Draw the legend at @y (NULL @o: only measure). Returns its right end. */
static double draw_legend(struct out *o, double y)
{
    double x = MARGIN;

    for (size_t i = 0; i < sizeof(styles) / sizeof(styles[0]); i++) {
        if (o)
            put(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"12\" "
                "fill=\"%s\" stroke=\"%s\"/>\n<text class=\"legend\" "
                "x=\"%.1f\" y=\"%.1f\">%s</text>\n", x, y, styles[i].fill,
                styles[i].stroke, x + 19, y + 10, styles[i].label);
        x += 19 + CHAR_W * (double)strlen(styles[i].label) + 18;
    }
    if (o)
        put(o, "<rect class=\"hole\" x=\"%.1f\" y=\"%.1f\" width=\"14\" "
            "height=\"12\"/>\n<text class=\"legend\" x=\"%.1f\" y=\"%.1f\">"
            LEGEND_NOTE "</text>\n", x, y, x + 19, y + 10);
    return x + 19 + CHAR_W * (double)strlen(LEGEND_NOTE);
}

static void draw(struct out *o, mt_ctx *ctx, const char *title,
                 struct column *cols, size_t nr_cols, mt_flatview **views,
                 size_t nr_as)
{
    double maxh = HOLE_MAX_H, top = MARGIN + TITLE_H + LEGEND_H;
    double width, height;

    for (size_t i = 0; i < nr_cols; i++)
        maxh = dmax(maxh, cols[i].height);
    width = 2 * MARGIN + (nr_cols ? nr_cols : 1) * COL_W - COL_GAP;
    width = dmax(width, draw_legend(NULL, 0) + MARGIN);
    height = top + 3 * LINE_H + maxh + MARGIN + 10;

    put(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
        "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"DejaVu Sans "
        "Mono, Menlo, Consolas, monospace\">\n", width, height, width, height);
    put(o, "<defs>\n<pattern id=\"hatch\" width=\"6\" height=\"6\" "
        "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">\n"
        "<rect width=\"6\" height=\"6\" fill=\"#f4f4f4\"/>\n"
        "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#d6d6d6\" "
        "stroke-width=\"2\"/>\n</pattern>\n"
        "<style>\n"
        "text { fill: #222; }\n"
        ".title { font-size: 16px; font-weight: bold; }\n"
        ".head { font-size: 13px; font-weight: bold; }\n"
        ".sub { font-size: 11px; fill: #555; }\n"
        ".legend { font-size: 11px; }\n"
        ".label { font-size: %.0fpx; }\n"
        ".off { fill: #555; }\n"
        ".size { font-size: %.0fpx; text-anchor: end; fill: #333; }\n"
        ".addr { font-size: %.0fpx; text-anchor: end; fill: #444; }\n"
        "rect.hole { fill: url(#hatch); stroke: #c8c8c8; }\n"
        "text.hole { font-size: 10px; text-anchor: middle; fill: #888; }\n"
        "</style>\n</defs>\n", FONT, FONT, ADDR_FONT);
    put(o, "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n");
    put(o, "<text class=\"title\" x=\"%.1f\" y=\"%.1f\">", MARGIN,
        MARGIN + 12);
    put_text(o, title, 100);
    put(o, "</text>\n");
    draw_legend(o, MARGIN + TITLE_H - 6);
    for (size_t i = 0; i < nr_cols; i++)
        draw_column(o, ctx, &cols[i], views, nr_as, MARGIN + i * COL_W,
                    top + LINE_H * 0.5);
    put(o, "</svg>\n");
}

/* ------------------------------------------------------------------------ */
/* Command line                                                              */
/* ------------------------------------------------------------------------ */

static int parse_args(struct svg_args *a, int argc, char **argv)
{
    bool opts = true;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];

        if (opts && !strcmp(arg, "--")) {
            opts = false;
        } else if (opts && (!strcmp(arg, "--facts") || !strcmp(arg, "-o") ||
                            !strcmp(arg, "--title"))) {
            if (++i == argc)
                return cli_usage_error(&cli_cmd_svg, "svg: %s needs an argument", arg);
            if (arg[1] == 'o')
                a->out = argv[i];
            else if (arg[2] == 't')
                a->title = argv[i];
            else
                a->facts = argv[i];
        } else if (opts && !strncmp(arg, "--title=", 8)) {
            a->title = arg + 8;
        } else if (opts && !strncmp(arg, "--facts=", 8)) {
            a->facts = arg + 8;
        } else if (opts && !strncmp(arg, "-o", 2) && arg[2]) {
            a->out = arg + 2;
        } else if (opts && arg[0] == '-' && arg[1]) {
            return cli_usage_error(&cli_cmd_svg, "svg: unknown option '%s'", arg);
        } else if (a->file) {
            return cli_usage_error(&cli_cmd_svg, "svg: more than one FILE");
        } else {
            a->file = arg;
        }
    }
    if (!a->file)
        return cli_usage_error(&cli_cmd_svg, "svg: no FILE given");
    if (a->facts && !strcmp(a->facts, "-") && !strcmp(a->file, "-"))
        return cli_usage_error(&cli_cmd_svg, "svg: FILE and FACTS cannot both be stdin");
    return 0;
}

/* Load the dump (and facts) into @ctx; messages as `memtree mtree`'s. */
static int load(mt_ctx *ctx, const struct svg_args *a)
{
    char *dump = NULL, *facts = NULL;
    size_t dump_len = 0, facts_len = 0;
    mt_load_error err = { 0 };
    int rc;

    if (cli_read_file(a->file, &dump, &dump_len)) {
        fprintf(stderr, "memtree: %s: %s\n", cli_display_name(a->file), strerror(errno));
        return CLI_EXIT_FAIL;
    }
    if (a->facts && cli_read_file(a->facts, &facts, &facts_len)) {
        fprintf(stderr, "memtree: %s: %s\n", cli_display_name(a->facts), strerror(errno));
        free(dump);
        return CLI_EXIT_FAIL;
    }
    rc = mt_mtree_load(ctx, dump, dump_len, facts, facts_len, &err);
    free(dump);
    free(facts);
    if (rc) {
        const char *name = cli_display_name(err.in_facts && a->facts ? a->facts : a->file);
        const char *msg = err.msg[0] ? err.msg : mt_strerror(rc);

        if (err.line)
            fprintf(stderr, "memtree: %s:%u: %s\n", name, err.line, msg);
        else
            fprintf(stderr, "memtree: %s: %s\n", name, msg);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

/* The views of @ctx's address spaces into @views, the distinct ones (in
 * order of first appearance) laid out in *@cols. */
static int build_columns(mt_ctx *ctx, mt_flatview **views, size_t nr_as,
                         struct column **cols, size_t *nr_cols)
{
    struct column *c = calloc(nr_as ? nr_as : 1, sizeof(*c));
    size_t n = 0;

    if (!c)
        return -1;
    for (size_t i = 0; i < nr_as; i++) {
        bool seen = false;

        views[i] = mt_as_flatview(mt_ctx_as(ctx, i));
        for (size_t j = 0; j < i && !seen; j++)
            seen = views[j] == views[i];
        if (seen)
            continue;
        c[n].fv = views[i];
        c[n].number = (unsigned)n;
        if (layout_column(&c[n++])) {
            *cols = c;
            *nr_cols = n;
            return -1;
        }
    }
    *cols = c;
    *nr_cols = n;
    return 0;
}

static int run_svg(int argc, char **argv)
{
    struct svg_args a = { 0 };
    struct out o = { 0 };
    struct column *cols = NULL;
    size_t nr_cols = 0, nr_as;
    mt_flatview **views = NULL;
    mt_ctx *ctx = NULL;
    int rc = parse_args(&a, argc, argv);

    if (rc)
        return rc;
    rc = mt_ctx_new(&ctx, NULL);
    if (rc) {
        fprintf(stderr, "memtree: %s\n", mt_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    rc = load(ctx, &a);
    if (rc)
        goto out;
    nr_as = mt_ctx_nr_as(ctx);
    views = calloc(nr_as ? nr_as : 1, sizeof(*views));
    rc = CLI_EXIT_FAIL;
    if (!views || build_columns(ctx, views, nr_as, &cols, &nr_cols)) {
        fprintf(stderr, "memtree: %s\n", mt_strerror(MT_ENOMEM));
        goto out;
    }
    o.f = a.out && strcmp(a.out, "-") ? fopen(a.out, "w") : stdout;
    if (!o.f) {
        fprintf(stderr, "memtree: %s: %s\n", a.out, strerror(errno));
        goto out;
    }
    draw(&o, ctx, a.title ? a.title : cli_display_name(a.file), cols, nr_cols,
         views, nr_as);
    if (fflush(o.f) || ferror(o.f))
        o.err = true;
    if (o.f != stdout && fclose(o.f))
        o.err = true;
    if (o.err)
        fprintf(stderr, "memtree: %s: write error\n", a.out ? a.out : "<stdout>");
    else
        rc = CLI_EXIT_OK;
out:
    for (size_t i = 0; i < nr_cols; i++)
        free(cols[i].segs);
    free(cols);
    if (views)
        for (size_t i = 0; i < mt_ctx_nr_as(ctx); i++)
            mt_flatview_unref(views[i]);
    free(views);
    mt_ctx_free(ctx);
    return rc;
}

const struct cli_cmd cli_cmd_svg = {
    .name = "svg",
    .run = run_svg,
    .summary = "draw the flat views of an `info mtree` dump as an SVG memory map",
    .usage =
        "usage: memtree svg [--facts FACTS] [-o OUT] [--title TEXT] FILE\n"
        "  Load FILE, a QEMU `info mtree` or `info mtree -D` dump (\"-\": stdin),\n"
        "  and draw its flat views as an SVG memory map: one column per view,\n"
        "  ranges coloured by kind (ram, rom, romd, ramd, i/o), holes hatched;\n"
        "  heights grow with the logarithm of the size.\n"
        "  --facts FACTS  facts the dump cannot show (see docs/mtree-format.md)\n"
        "  -o OUT         write the SVG to OUT instead of stdout\n"
        "  --title TEXT   the heading (default: FILE)\n",
};
