#!/bin/sh
# SPDX-License-Identifier: MIT
# gdb_test.sh: the GDB helpers (tools/gdb/memtree.py) on a live process.
#
# Runs examples/pc-machine --trap under `gdb -batch`: the program raises
# SIGTRAP once its map is built, and the helpers then print what they read
# from memtree's structures. Their output must equal what the program
# itself prints through mt_mtree_print() (run without gdb): dump_flatview
# against `info mtree -f`, dump_memory_region against `info mtree` and
# `info mtree -D`, block by block and whole. Also: address-space names,
# C expressions, region names, a context found as a function parameter
# (a breakpoint in dma-device), and error messages. Then the same on a few
# QEMU 7.2 machines of the corpus, loaded by the `memtree` tool.
#
# Exit 77 (CTest SKIP_RETURN_CODE) when gdb is missing, ptrace is not
# allowed, or the library has no debug information.
#
# usage: gdb_test.sh MEMTREE_PY PC_MACHINE DMA_DEVICE MEMTREE CASES_DIR
set -u

PY=$1
PC=$2
DMA=$3
MEMTREE=$4
CASES=$5
if ! command -v gdb >/dev/null 2>&1; then
    echo "SKIP: gdb not found"
    exit 77
fi
TMP=$(mktemp -d) || exit 1
trap '[ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT INT TERM
fails=0
checks=0

ok() { checks=$((checks + 1)); }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*"; }
skip() { echo "SKIP: $*"; exit 77; }


# run_gdb OUT PROGRAM-AND-ARGS...: gdb in batch mode with the helpers and
# the commands in $TMP/cmds (markers between the outputs).
run_gdb() {
    out=$1
    shift
    gdb -batch -nx -x "$PY" -x "$TMP/cmds" --args "$@" >"$out" 2>"$out.err" </dev/null
}

# section FILE NAME: the text between `@@NAME@@` and the next marker.
section() {
    awk -v want="@@$2@@" '
        /^@@[A-Za-z0-9_-]*@@$/ { on = ($0 == want); next }
        on { print }' "$1"
}

# block FILE N: FlatView #N of an `info mtree -f` text.
block() {
    awk -v n="$2" '
        /^FlatView #/ { on = ($0 == "FlatView #" n) }
        on { print }' "$1"
}

# same DESCRIPTION EXPECTED GOT
same() {
    if [ -s "$2" ] && diff -u "$2" "$3" >"$TMP/diff"; then ok; else
        bad "$1"
        sed 's/^/  /' "$TMP/diff" | head -40
    fi
}

# What the program prints by itself.
"$PC" >"$TMP/flat.txt" || { echo "FAIL: pc-machine exited $?"; exit 1; }
"$PC" --tree >"$TMP/tree.txt" || exit 1
"$PC" --tree -D >"$TMP/tree-D.txt" || exit 1
block "$TMP/flat.txt" 0 >"$TMP/flat0.txt"
block "$TMP/flat.txt" 1 >"$TMP/flat1.txt"

cat >"$TMP/cmds" <<'EOF'
run
echo @@SPACES@@\n
dump_address_spaces
echo @@FLAT@@\n
dump_flatview
echo @@FLAT-MEMORY@@\n
dump_flatview memory
echo @@FLAT-IO@@\n
dump_flatview I/O
echo @@FLAT-EXPR@@\n
dump_flatview ctx->as[2]
echo @@FLAT-VIEW@@\n
dump_flatview ctx->as[1]->view
echo @@FLAT-CTX@@\n
dump_flatview *ctx
echo @@TREE@@\n
dump_memory_region
echo @@TREE-D@@\n
dump_memory_region -D
echo @@TREE-D-CTX@@\n
dump_memory_region -D ctx
echo @@TREE-IO@@\n
dump_memory_region "I/O"
echo @@REGION-NAME@@\n
dump_memory_region pci
echo @@REGION-EXPR@@\n
dump_memory_region ctx->as[0]->root
echo @@END@@\n
EOF
run_gdb "$TMP/gdb.txt" "$PC" --trap

if ! grep -Eq '(Program|Thread [0-9]+ .*) received signal SIGTRAP' "$TMP/gdb.txt"; then
    if grep -Eqi 'ptrace|Operation not permitted|Could not trace|not allowed' \
        "$TMP/gdb.txt" "$TMP/gdb.txt.err"; then
        sed 's/^/  /' "$TMP/gdb.txt.err" | head -5
        skip "gdb cannot trace processes here (ptrace not allowed)"
    fi
    echo "FAIL: pc-machine --trap did not stop under gdb"
    sed 's/^/  /' "$TMP/gdb.txt" "$TMP/gdb.txt.err" | head -20
    exit 1
fi
if grep -q 'no debug information for' "$TMP/gdb.txt" "$TMP/gdb.txt.err"; then
    grep -m1 'no debug information for' "$TMP/gdb.txt" "$TMP/gdb.txt.err"
    skip "libmemtree was built without debug information"
fi
if grep -q 'Python scripting is not supported' "$TMP/gdb.txt.err"; then
    skip "this gdb has no Python"
fi

section "$TMP/gdb.txt" FLAT >"$TMP/got"
same "dump_flatview (all views) = info mtree -f" "$TMP/flat.txt" "$TMP/got"
section "$TMP/gdb.txt" FLAT-CTX >"$TMP/got"
same "dump_flatview *ctx = info mtree -f" "$TMP/flat.txt" "$TMP/got"
section "$TMP/gdb.txt" FLAT-MEMORY >"$TMP/got"
same "dump_flatview memory = FlatView #0" "$TMP/flat0.txt" "$TMP/got"
section "$TMP/gdb.txt" FLAT-IO >"$TMP/got"
same "dump_flatview I/O = FlatView #1" "$TMP/flat1.txt" "$TMP/got"
section "$TMP/gdb.txt" FLAT-EXPR >"$TMP/got"
same "dump_flatview ctx->as[2] = FlatView #1" "$TMP/flat1.txt" "$TMP/got"
section "$TMP/gdb.txt" FLAT-VIEW >"$TMP/got"
same "dump_flatview ctx->as[1]->view = FlatView #0" "$TMP/flat0.txt" "$TMP/got"

section "$TMP/gdb.txt" TREE >"$TMP/got"
same "dump_memory_region = info mtree" "$TMP/tree.txt" "$TMP/got"
section "$TMP/gdb.txt" TREE-D >"$TMP/got"
same "dump_memory_region -D = info mtree -D" "$TMP/tree-D.txt" "$TMP/got"
section "$TMP/gdb.txt" TREE-D-CTX >"$TMP/got"
same "dump_memory_region -D ctx = info mtree -D" "$TMP/tree-D.txt" "$TMP/got"

# The I/O block of `info mtree`: from its header to the blank line.
awk '/^address-space: I\/O$/ { on = 1 } on { print } on && /^$/ { exit }' \
    "$TMP/tree.txt" >"$TMP/io-tree.txt"
section "$TMP/gdb.txt" TREE-IO >"$TMP/got"
same "dump_memory_region \"I/O\" = its block of info mtree" "$TMP/io-tree.txt" "$TMP/got"

# A region by name and by expression: the region's own `memory-region:`
# block of `info mtree` (pci is an alias target there), then its targets.
awk '/^memory-region: pci$/ { on = 1 } on { print } on && /^$/ { exit }' \
    "$TMP/tree.txt" >"$TMP/pci.txt"
section "$TMP/gdb.txt" REGION-NAME >"$TMP/got"
head -n "$(wc -l <"$TMP/pci.txt")" "$TMP/got" >"$TMP/got-head"
same "dump_memory_region pci (a region name)" "$TMP/pci.txt" "$TMP/got-head"
grep -q '^memory-region: pc.bios$' "$TMP/got" && ok ||
    bad "dump_memory_region pci: no block for the alias target pc.bios"
section "$TMP/gdb.txt" REGION-EXPR >"$TMP/got"
grep -q '^  0000000000000000-ffffffffffffffff (prio 0, i/o): system$' "$TMP/got" &&
    grep -q 'alias ram-below-4g @pc.ram' "$TMP/got" && ok ||
    bad "dump_memory_region ctx->as[0]->root: not the system tree"

section "$TMP/gdb.txt" SPACES >"$TMP/got"
for want in 'address space 0: "memory" \(mt_as \*\) 0x' \
            'root: system \(mt_region \*\) 0x.*, container, size 2\^64' \
            'FlatView #0, rendered from system, 12 ranges' \
            'address space 1: "cpu-memory-0"' \
            'FlatView #0, the same as "memory"' \
            'address space 2: "I/O"' \
            'root: io \(mt_region \*\) 0x.*, io, size 0x10000 \(64 KiB\)' \
            '^    0000000000000cf9-0000000000000cf9 \(prio 1, i/o\): piix3-reset-control$'; do
    grep -Eq -- "$want" "$TMP/got" && ok || bad "dump_address_spaces: no line matching '$want'"
done

# Errors: one -ex each (an error ends a command file, not the -ex list).
gdb -batch -nx -x "$PY" -ex run -ex 'dump_flatview 42' \
    -ex 'dump_flatview no_such_thing' -ex 'dump_flatview ctx->as[0]->root' \
    -ex 'dump_memory_region (mt_region *) 0' \
    --args "$PC" --trap >"$TMP/gdb.txt" 2>"$TMP/gdb.txt.err" </dev/null
for want in "'42' is a int, not an mt_ctx" \
            "no address space named 'no_such_thing'" \
            "dump_flatview wants an address space or a flat view" \
            "is NULL"; do
    grep -q -- "$want" "$TMP/gdb.txt.err" && ok ||
        bad "errors: no message matching '$want'"
done
if grep -q 'Traceback' "$TMP/gdb.txt.err"; then
    bad "a Python traceback reached the user"
    sed 's/^/  /' "$TMP/gdb.txt.err" | head -20
else
    ok
fi

# The context as a parameter of the selected frame: stop dma-device in
# mt_mtree_print(ctx, ...) and compare with what that call then prints.
"$DMA" >"$TMP/dma.txt" || { echo "FAIL: dma-device exited $?"; exit 1; }
sed -n '/^FlatView #0$/,$p' "$TMP/dma.txt" >"$TMP/dma-flat.txt"
cat >"$TMP/cmds" <<'EOF'
break mt_mtree_print
run
echo @@FLAT@@\n
dump_flatview
echo @@END@@\n
EOF
run_gdb "$TMP/gdb2.txt" "$DMA"
section "$TMP/gdb2.txt" FLAT >"$TMP/got"
same "dump_flatview in a frame with a 'ctx' parameter (dma-device)" \
    "$TMP/dma-flat.txt" "$TMP/got"

# QEMU machines loaded by `memtree mtree`: stopped where it prints (its
# context is a parameter there), the helpers must print what it prints.
cat >"$TMP/cmds" <<'EOF'
rbreak ^mt_mtree_print
run
echo @@TREE-D@@\n
dump_memory_region -D
echo @@TREE@@\n
dump_memory_region
echo @@FLAT@@\n
dump_flatview
echo @@END@@\n
EOF
for c in x86-pc-fw-128m x86-q35-nvdimm-dimm arm-mps2-an521 alpha-clipper; do
    d=$CASES/$c
    "$MEMTREE" mtree -D --facts "$d/facts.txt" "$d/mtree-D.txt" >"$TMP/tree-D.txt" &&
        "$MEMTREE" mtree --facts "$d/facts.txt" "$d/mtree-D.txt" >"$TMP/tree.txt" &&
        "$MEMTREE" mtree -f --facts "$d/facts.txt" "$d/mtree-D.txt" >"$TMP/flat.txt" ||
        { bad "$c: memtree mtree failed"; continue; }
    run_gdb "$TMP/gdb3.txt" "$MEMTREE" mtree --facts "$d/facts.txt" "$d/mtree-D.txt"
    section "$TMP/gdb3.txt" TREE-D >"$TMP/got"
    same "$c: dump_memory_region -D = info mtree -D" "$TMP/tree-D.txt" "$TMP/got"
    section "$TMP/gdb3.txt" TREE >"$TMP/got"
    same "$c: dump_memory_region = info mtree" "$TMP/tree.txt" "$TMP/got"
    section "$TMP/gdb3.txt" FLAT >"$TMP/got"
    same "$c: dump_flatview = info mtree -f" "$TMP/flat.txt" "$TMP/got"
done

echo "gdb: $((checks - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
