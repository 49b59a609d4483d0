#!/bin/sh
# SPDX-License-Identifier: MIT
# cli_test.sh: run the real `memtree` binary: `memtree mtree` on a few golden
# cases (compared with tests/data/compare.py when python3 exists), stdin
# input, option order, exit statuses and error messages.
#
# usage: cli_test.sh MEMTREE CASES_DIR COMPARE_PY
set -u

MEMTREE=$1
CASES=$2
COMPARE=$3
TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
fails=0
checks=0

ok() { checks=$((checks + 1)); }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*"; }

have_python=0
if command -v python3 >/dev/null 2>&1; then
    have_python=1
else
    echo "note: python3 not found, outputs are not compared with the golden files"
fi

# expect_status WANT DESCRIPTION CMD...: run CMD, stdout/stderr to $TMP/out, $TMP/err.
expect_status() {
    want=$1 what=$2
    shift 2
    "$@" >"$TMP/out" 2>"$TMP/err"
    got=$?
    if [ "$got" -eq "$want" ]; then ok; else bad "$what: exit $got, want $want"; sed 's/^/  stderr: /' "$TMP/err"; fi
}

# expect_stderr PATTERN DESCRIPTION: the last run's stderr matches PATTERN (grep -E).
expect_stderr() {
    if grep -Eq "$1" "$TMP/err"; then ok; else bad "$2: stderr does not match '$1'"; sed 's/^/  stderr: /' "$TMP/err"; fi
}

# golden CASE GOLDEN DESCRIPTION: the last run's stdout equals CASE/GOLDEN.
golden() {
    [ "$have_python" -eq 1 ] || return 0
    if python3 "$COMPARE" "$CASES/$1/$2" "$TMP/out" >"$TMP/cmp"; then ok; else
        bad "$3: output differs from $1/$2"; sed 's/^/  /' "$TMP/cmp"
    fi
}

# --- the command and its help ------------------------------------------------
expect_status 0 "--version" "$MEMTREE" --version
grep -q '^memtree [0-9]' "$TMP/out" && ok || bad "--version prints 'memtree VERSION'"
expect_status 0 "help" "$MEMTREE" help
grep -q 'mtree' "$TMP/out" && ok || bad "help lists the mtree command"
expect_status 0 "help mtree" "$MEMTREE" help mtree
expect_status 2 "no command" "$MEMTREE"
expect_status 2 "unknown command" "$MEMTREE" no-such-command

# --- golden cases ------------------------------------------------------------
for c in arm-virt-32 x86-pc-128m ppc-40p; do
    d=$CASES/$c
    expect_status 0 "$c -D" "$MEMTREE" mtree -D --facts "$d/facts.txt" "$d/mtree-D.txt"
    golden "$c" mtree-D.txt "$c -D"
    expect_status 0 "$c" "$MEMTREE" mtree --facts "$d/facts.txt" "$d/mtree-D.txt"
    golden "$c" mtree.txt "$c"
    # options after the file, and --facts=FILE
    expect_status 0 "$c -f" "$MEMTREE" mtree "$d/mtree-D.txt" -f --facts="$d/facts.txt"
    golden "$c" flat.txt "$c -f"
done

d=$CASES/arm-virt-32
expect_status 0 "stdin" sh -c '"$1" mtree -D --facts "$2" - <"$3"' sh "$MEMTREE" "$d/facts.txt" "$d/mtree-D.txt"
golden arm-virt-32 mtree-D.txt "stdin"
expect_status 0 "bundled -Df" "$MEMTREE" mtree -Df --facts "$d/facts.txt" "$d/mtree-D.txt"
golden arm-virt-32 flat.txt "bundled -Df"
expect_status 0 "no facts" "$MEMTREE" mtree -D "$d/mtree-D.txt"

# --- bad input: exit 1 with `memtree: FILE:LINE: message` ------------------------
expect_status 1 "missing file" "$MEMTREE" mtree "$TMP/does-not-exist.txt"
expect_stderr "^memtree: .*does-not-exist\\.txt: " "missing file"

printf 'address-space: memory\n  this is not a region line\n\n' >"$TMP/bad.txt"
expect_status 1 "malformed dump" "$MEMTREE" mtree "$TMP/bad.txt"
expect_stderr "^memtree: .*bad\\.txt:[0-9]+: ." "malformed dump"

printf 'no-such-fact system\n' >"$TMP/bad-facts.txt"
expect_status 1 "malformed facts" "$MEMTREE" mtree --facts "$TMP/bad-facts.txt" "$d/mtree-D.txt"
expect_stderr "^memtree: .*bad-facts\\.txt:[0-9]+: ." "malformed facts"

# --- usage errors: exit 2 ----------------------------------------------------
expect_status 2 "unknown short option" "$MEMTREE" mtree -x "$d/mtree-D.txt"
expect_stderr "usage: memtree mtree" "unknown short option"
expect_status 2 "unknown long option" "$MEMTREE" mtree --bogus "$d/mtree-D.txt"
expect_status 2 "no FILE" "$MEMTREE" mtree -D
expect_status 2 "two FILEs" "$MEMTREE" mtree "$d/mtree-D.txt" "$d/mtree.txt"
expect_status 2 "--facts without argument" "$MEMTREE" mtree "$d/mtree-D.txt" --facts

# --- KVM: markers and memslots, computed without /dev/kvm -------------------
d=$CASES/x86-kvm-pc-128m
expect_status 0 "mtree -f --accel=kvm" "$MEMTREE" mtree -f --accel=kvm --facts "$d/facts.txt" "$d/mtree-D.txt"
golden x86-kvm-pc-128m flat.txt "mtree -f --accel=kvm"
expect_status 0 "mtree -f --accel kvm" "$MEMTREE" mtree -f --accel kvm --facts "$d/facts.txt" "$d/mtree-D.txt"
expect_status 2 "unknown accelerator" "$MEMTREE" mtree -f --accel=hvf "$d/mtree-D.txt"
expect_status 0 "memslots" "$MEMTREE" memslots --facts "$d/facts.txt" "$d/mtree-D.txt"
grep -v '^#' "$d/memslots-final.txt" |
    awk '{ sub(/\(.*/, "", $3); print $1, $3, $4, $5, $7 }' >"$TMP/slots.want"
if cmp -s "$TMP/slots.want" "$TMP/out"; then ok; else bad "memslots differ from memslots-final.txt"; fi
printf 'address-space: other\n  0000000000000000-ffffffffffffffff (prio 0, i/o): sys\n\n' >"$TMP/nomem.txt"
expect_status 1 "memslots without a memory AS" "$MEMTREE" memslots "$TMP/nomem.txt"
expect_stderr "no address space named" "memslots without a memory AS"
expect_status 2 "memslots no FILE" "$MEMTREE" memslots
expect_status 0 "help memslots" "$MEMTREE" help memslots

echo "cli: $((checks - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
