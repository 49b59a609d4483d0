#!/bin/sh
# SPDX-License-Identifier: MIT
# svg_test.sh: `memtree svg` on QEMU 7.2 dumps of the corpus, on names that
# need escaping, on examples/pc-machine's own dump, through stdin/stdout,
# and its errors. Every SVG must be well-formed XML (python3's
# xml.dom.minidom, else xmllint) with one column per flat view.
# Exits 77 (skipped) when neither checker exists.
#
# usage: svg_test.sh MEMTREE CASES_DIR [PC_MACHINE]
set -u

MEMTREE=$1
CASES=$2
PC=${3:-}
TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
fails=0
checks=0

ok() { checks=$((checks + 1)); }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*"; }

if command -v python3 >/dev/null 2>&1 &&
    python3 -c 'import xml.dom.minidom' >/dev/null 2>&1; then
    checker=python3
elif command -v xmllint >/dev/null 2>&1; then
    checker=xmllint
else
    checker=
    echo "note: neither python3 nor xmllint found: XML is not checked"
fi

# wellformed FILE DESCRIPTION: FILE parses as XML with an <svg> root.
wellformed() {
    case $checker in
    python3)
        if python3 - "$1" >"$TMP/xmlerr" 2>&1 <<'EOF'
import sys
import xml.dom.minidom

doc = xml.dom.minidom.parse(sys.argv[1])
root = doc.documentElement
if root.tagName != "svg" or root.getAttribute("xmlns") != "http://www.w3.org/2000/svg":
    sys.exit("root element is <%s>, not an SVG <svg>" % root.tagName)
EOF
        then ok; else bad "$2: not well-formed"; sed 's/^/  /' "$TMP/xmlerr" | tail -3; fi ;;
    xmllint)
        if xmllint --noout "$1" 2>"$TMP/xmlerr" && grep -q '<svg xmlns="http://www.w3.org/2000/svg"' "$1"
        then ok; else bad "$2: not well-formed"; sed 's/^/  /' "$TMP/xmlerr" | tail -3; fi ;;
    esac
}

# columns FILE: number of flat-view columns drawn.
columns() { grep -c '^<g class="view">$' "$1"; }

# expect_status WANT DESCRIPTION CMD...
expect_status() {
    want=$1 what=$2
    shift 2
    "$@" >"$TMP/out" 2>"$TMP/err"
    got=$?
    if [ "$got" -eq "$want" ]; then ok; else
        bad "$what: exit $got, want $want"; sed 's/^/  stderr: /' "$TMP/err"
    fi
}

# --- corpus dumps --------------------------------------------------------------
for c in x86-pc-fw-128m x86-q35-nvdimm-dimm arm-virt-32 arm64-xlnx-zcu102 \
         ppc-40p riscv64-virt s390x-ccw-virtio alpha-clipper; do
    d=$CASES/$c
    expect_status 0 "$c" "$MEMTREE" svg --facts "$d/facts.txt" -o "$TMP/$c.svg" "$d/mtree-D.txt"
    [ -s "$TMP/$c.svg" ] || { bad "$c: no SVG written"; continue; }
    wellformed "$TMP/$c.svg" "$c"
    want=$(grep -c '^FlatView #' "$d/flat.txt")
    got=$(columns "$TMP/$c.svg")
    [ "$got" = "$want" ] && ok || bad "$c: $got columns, $want flat views"
done

# Every range of a view is drawn, labelled: x86-pc-fw-128m's BIOS and ports.
grep -q '>pc.bios<' "$TMP/x86-pc-fw-128m.svg" && ok || bad "pc.bios is not labelled"
grep -q '>piix3-reset-control<' "$TMP/x86-pc-fw-128m.svg" && ok ||
    bad "piix3-reset-control is not labelled"

# --- stdin and stdout, --title -------------------------------------------------
d=$CASES/arm-virt-32
expect_status 0 "stdin to stdout" sh -c '"$1" svg --facts "$2" --title "a <b> & c" - <"$3"' \
    sh "$MEMTREE" "$d/facts.txt" "$d/mtree-D.txt"
cp "$TMP/out" "$TMP/stdout.svg"
wellformed "$TMP/stdout.svg" "stdin to stdout"
grep -q 'a &lt;b&gt; &amp; c' "$TMP/stdout.svg" && ok || bad "--title is not escaped"

# --- names that need escaping, bytes that XML cannot hold ----------------------
{
    printf 'address-space: mem <&>\n'
    printf '  0000000000000000-ffffffffffffffff (prio 0, i/o): sys "q" & '"'"'a'"'"'\n'
    printf '    0000000000001000-0000000000001fff (prio 0, ram): ram <1> & \377\376 \001x\n'
    printf '    0000000000002000-0000000000002fff (prio 0, i/o): caf\303\251 \342\202\254 %s\n' \
        "a-very-long-name-that-does-not-fit-in-its-box-at-all-$(printf '\303\251%.0s' 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20)"
    printf '    0000000000003000-0000000000003fff (prio 0, ram): alias r]o[m> @ram <1> & \377\376 \001x 0000000000000000-0000000000000fff\n'
    printf '\nmemory-region: ram <1> & \377\376 \001x\n'
    printf '  0000000000000000-0000000000000fff (prio 0, ram): ram <1> & \377\376 \001x\n\n'
} >"$TMP/names.txt"
expect_status 0 "names needing escapes" "$MEMTREE" svg -o "$TMP/names.svg" "$TMP/names.txt"
wellformed "$TMP/names.svg" "names needing escapes"
grep -q 'ram &lt;1&gt; &amp; ?? ?x' "$TMP/names.svg" && ok ||
    bad "markup characters escaped, invalid bytes replaced"
grep -qF "$(printf 'caf\303\251 \342\202\254')" "$TMP/names.svg" && ok ||
    bad "UTF-8 names kept as they are"

# --- the pc-machine example's own dump, with its facts -------------------------
if [ -n "$PC" ]; then
    "$PC" --tree -D >"$TMP/pc.txt" && "$PC" --facts >"$TMP/pc-facts.txt" ||
        bad "pc-machine failed"
    expect_status 0 "pc-machine" "$MEMTREE" svg --facts "$TMP/pc-facts.txt" \
        -o"$TMP/pc.svg" "$TMP/pc.txt"
    wellformed "$TMP/pc.svg" "pc-machine"
    [ "$(columns "$TMP/pc.svg")" = 2 ] && ok || bad "pc-machine: not 2 columns"
    for name in pc.bios vga-lowmem pc.rom apic-msi serial; do
        grep -q ">$name<" "$TMP/pc.svg" && ok || bad "pc-machine: no box labelled $name"
    done
fi

# --- errors --------------------------------------------------------------------
expect_status 1 "missing file" "$MEMTREE" svg "$TMP/does-not-exist.txt"
grep -q '^memtree: .*does-not-exist\.txt: ' "$TMP/err" && ok || bad "missing file: message"
printf 'address-space: memory\n  garbage\n' >"$TMP/bad.txt"
expect_status 1 "malformed dump" "$MEMTREE" svg "$TMP/bad.txt"
grep -Eq '^memtree: .*bad\.txt:[0-9]+: ' "$TMP/err" && ok || bad "malformed dump: message"
expect_status 1 "unwritable output" "$MEMTREE" svg -o "$TMP/no/such/dir.svg" "$d/mtree-D.txt"
expect_status 2 "no FILE" "$MEMTREE" svg
expect_status 2 "two FILEs" "$MEMTREE" svg "$d/mtree-D.txt" "$d/mtree.txt"
expect_status 2 "unknown option" "$MEMTREE" svg --bogus "$d/mtree-D.txt"
grep -q 'usage: memtree svg' "$TMP/err" && ok || bad "unknown option: usage"
expect_status 2 "-o without argument" "$MEMTREE" svg "$d/mtree-D.txt" -o
expect_status 0 "help svg" "$MEMTREE" help svg

echo "svg: $((checks - fails)) passed, $fails failed"
[ "$fails" -eq 0 ] || exit 1
[ -n "$checker" ] || exit 77
