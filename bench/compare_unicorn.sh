#!/bin/sh
# SPDX-License-Identifier: MIT
#
# compare_unicorn.sh: run mt-bench and the Unicorn peer programs back to
# back, ROUNDS times, in one session, and print the median of each figure
# over the rounds with the memtree/Unicorn ratio (docs/benchmarks.md).
#
#   bench/compare_unicorn.sh [MT_BENCH [ROUNDS [OUTDIR]]]
#
#   MT_BENCH  the mt-bench binary (default: build/bench/mt-bench)
#   ROUNDS    rounds of (mt-bench; bench_rw 1000 2000; bench_mmio), default 3
#   OUTDIR    where the raw outputs go (default: a new directory in /tmp)
#   UNICORN_SRC  the peer programs (default /work/shared/bench/peers/unicorn);
#                they are built in a copy under OUTDIR (needs libunicorn-dev).
#   WAIT_LOAD    if set (e.g. 1.5), before each round wait (up to 10 minutes)
#                until the 1-minute load average is below it; the load at the
#                start of each round is logged to OUTDIR/load.
#
# Output: "figure memtree spread unicorn spread speedup per-round" lines.
# Each value is the median over the rounds of the programs' own medians;
# speedup = how many times faster (ns figures) or higher (GB/s figures)
# memtree is; "-" when the peer has no such figure.
set -eu

MT_BENCH=${1:-build/bench/mt-bench}
ROUNDS=${2:-3}
OUT=${3:-$(mktemp -d /tmp/mt-compare.XXXXXX)}
UNICORN_SRC=${UNICORN_SRC:-/work/shared/bench/peers/unicorn}

[ -x "$MT_BENCH" ] || { echo "compare_unicorn.sh: no mt-bench at $MT_BENCH" >&2; exit 2; }
mkdir -p "$OUT"
rm -rf "$OUT/unicorn"
cp -r "$UNICORN_SRC" "$OUT/unicorn"
make -s -C "$OUT/unicorn" bench_rw bench_mmio >&2

# ROUNDS=0 only re-reads the raw outputs already in OUTDIR.
if [ "$ROUNDS" -gt 0 ]; then
    rm -f "$OUT"/mt.* "$OUT"/rw.* "$OUT"/mmio.* "$OUT"/load
fi
r=1
while [ "$r" -le "$ROUNDS" ]; do
    if [ -n "${WAIT_LOAD:-}" ]; then
        waited=0
        while [ "$waited" -lt 600 ] &&
              awk -v max="$WAIT_LOAD" '{ exit !($1 >= max) }' /proc/loadavg; do
            sleep 10
            waited=$((waited + 10))
        done
    fi
    echo "round $r: $(date -u +%H:%M:%S) loadavg $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/load"
    echo "# round $r/$ROUNDS" >&2
    "$MT_BENCH" c1 c2 c3 d >"$OUT/mt.$r"
    "$OUT/unicorn/bench_rw" 1000 2000 >"$OUT/rw.$r"
    "$OUT/unicorn/bench_mmio" >"$OUT/mmio.$r"
    r=$((r + 1))
done

# One "side name value round" line per figure and round, Unicorn figures
# renamed to mt-bench's names.
{
    for f in "$OUT"/mt.*; do
        awk -v r="${f##*.}" '!/^#/ && NF == 3 { print "mt", $1, $2, r }' "$f"
    done
    for f in "$OUT"/rw.*; do
        awk -v r="${f##*.}" '
        function val(key,   i) {
            for (i = 1; i <= NF; i++)
                if (index($i, key "=") == 1 && length($i) > length(key) + 1)
                    return substr($i, length(key) + 2)
                else if ($i == key "=")
                    return $(i + 1)
            return ""
        }
        /^one 64MiB region/ {
            print "uc c3_write8_ns_64m", val("write8_ns"), r
            print "uc c3_read8_ns_64m", val("read8_ns"), r
            print "uc c3_read4k_gbps_64m", val("read4K_GBps"), r
        }
        /^N=/ {
            n = $0; sub(/^N= */, "", n); sub(/ .*/, "", n)
            print "uc c1_write8_ns_n" n, val("write8_ns"), r
            print "uc c1_read8_ns_n" n, val("read8_ns"), r
            print "uc c2_read4k_ns_n" n, val("read4K_ns"), r
            print "uc c2_read4k_gbps_n" n, val("read4K_GBps"), r
        }' "$f"
    done
    for f in "$OUT"/mmio.*; do
        awk -v r="${f##*.}" '
        /^RAM  store loop:/ { print "uc d_ram_write_ns", $4, r }
        /^RAM  load  loop:/ { print "uc d_ram_read_ns", $4, r }
        /^MMIO store loop:/ { print "uc d_mmio_write_ns", $4, r }
        /^MMIO load  loop:/ { print "uc d_mmio_read_ns", $4, r }' "$f"
    done
} >"$OUT/figures"

# Medians over the rounds, in mt-bench's order; spread = (max - min) / median
# over the rounds, per side; speedup = ratio of the two medians; per-round =
# median of the speedups of each round (memtree and Unicorn measured minutes
# apart rather than up to an hour apart, so less exposed to load drift).
awk '
function sorted(s, a,   n, i, j, t) {
    n = split(s, a, " ")
    for (i = 2; i <= n; i++)
        for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
            t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
        }
    return n
}
function median(s,   a, n) {
    n = sorted(s, a)
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function spread(s,   a, n, m) {
    n = sorted(s, a)
    m = median(s)
    return m > 0 ? 100 * (a[n] - a[1]) / m : 0
}
{
    key = $1 SUBSEP $2
    if (!(key in vals) && $1 == "mt")
        order[++nr] = $2
    vals[key] = (key in vals ? vals[key] " " : "") $3
    round[$1, $2, $4] = $3
    rounds[$4] = 1
}
END {
    printf "%-22s %10s %7s %10s %7s %8s %9s\n", "# figure", "memtree",
           "spread", "unicorn", "spread", "speedup", "per-round"
    for (i = 1; i <= nr; i++) {
        name = order[i]
        mv = vals["mt" SUBSEP name]
        m = median(mv)
        if (("uc" SUBSEP name) in vals) {
            uv = vals["uc" SUBSEP name]
            u = median(uv)
            s = name ~ /gbps/ ? m / u : u / m
            pr = ""
            for (r in rounds)
                if ((("mt", name, r) in round) && (("uc", name, r) in round)) {
                    a = round["mt", name, r]; b = round["uc", name, r]
                    pr = pr " " (name ~ /gbps/ ? a / b : b / a)
                }
            printf "%-22s %10.2f %6.0f%% %10.2f %6.0f%% %7.2fx %8.2fx\n",
                   name, m, spread(mv), u, spread(uv), s, median(pr)
        } else {
            printf "%-22s %10.2f %6.0f%% %10s %7s %8s %9s\n", name, m,
                   spread(mv), "-", "-", "-", "-"
        }
    }
    c = "mt" SUBSEP "c2_read4k_gbps_n2000"
    k = "mt" SUBSEP "memcpy4k_gbps_n2000"
    if ((c in vals) && (k in vals))
        printf "# c2_read4k_gbps_n2000 / memcpy4k_gbps_n2000 = %.1f%%\n",
               100 * median(vals[c]) / median(vals[k])
}' "$OUT/figures"
echo "# raw outputs: $OUT" >&2
