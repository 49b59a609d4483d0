#!/bin/sh
# SPDX-License-Identifier: MIT
#
# run_test.sh MEMTREE HELLO_BIN: `memtree run` on the demo guest
# (tests/guest/hello.asm) and on bad command lines. Exits 77 (skipped)
# when /dev/kvm is missing or unusable.
set -u
memtree=$1 hello=$2
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Command-line errors need no KVM.
"$memtree" run >/dev/null 2>"$tmp/err"; st=$?
[ $st = 2 ] || fail "no --bios: status $st, expected 2"
grep -q "no --bios" "$tmp/err" || fail "no --bios: message: $(cat "$tmp/err")"
"$memtree" run --bios "$hello" -m 12Q >/dev/null 2>"$tmp/err"; st=$?
[ $st = 2 ] || fail "bad -m: status $st, expected 2"
head -c 1000 "$hello" > "$tmp/short.bin"
"$memtree" run --bios "$tmp/short.bin" >/dev/null 2>"$tmp/err"; st=$?
[ $st = 1 ] || fail "odd BIOS size: status $st, expected 1"
grep -q "multiple of 64 KiB" "$tmp/err" || fail "odd BIOS size: message: $(cat "$tmp/err")"
"$memtree" run --bios "$tmp/missing.bin" >/dev/null 2>"$tmp/err"; st=$?
[ $st = 1 ] || fail "missing BIOS: status $st, expected 1"

if [ ! -e /dev/kvm ]; then
    echo "SKIP: /dev/kvm does not exist"
    exit 77
fi
if ! { exec 3<>/dev/kvm; } 2>/dev/null; then
    echo "SKIP: /dev/kvm cannot be opened for reading and writing"
    exit 77
fi
exec 3>&-

for mem in "" "-m 64" "-m 4G"; do
    # shellcheck disable=SC2086
    "$memtree" run --bios "$hello" $mem >"$tmp/out" 2>"$tmp/err"; st=$?
    if [ $st != 1 ] || [ ! -s "$tmp/out" ]; then
        if grep -q "KVM is not usable" "$tmp/err"; then
            echo "SKIP: $(cat "$tmp/err")"
            exit 77
        fi
    fi
    [ $st = 1 ] || fail "run $mem: status $st, expected 1 (isa-debug-exit 0); stderr: $(cat "$tmp/err")"
    [ "$(grep -c ' ok$' "$tmp/out")" = 3 ] || fail "run $mem: output: $(cat "$tmp/out")"
    grep -q "^Hello from a memtree guest" "$tmp/out" || fail "run $mem: no greeting"
    ! grep -q FAILED "$tmp/out" || fail "run $mem: a check failed: $(cat "$tmp/out")"
done
echo "memtree run: demo guest ok at 128 MiB, 64 MiB and 4 GiB"
