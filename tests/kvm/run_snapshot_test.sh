#!/bin/sh
# SPDX-License-Identifier: MIT
#
# run_snapshot_test.sh MEMTREE RESUME_BIN: `memtree run --snapshot` and
# `--restore` on tests/kvm/guest/resume.asm, a guest that fills RAM, sets
# device state, counts, checkpoints through isa-debug-exit and, once
# restored, checks all of it:
#   1. SIGTERM while it counts: status 0, a snapshot written;
#   2. restored from it: the count goes on where it stopped (no reboot) up
#      to the checkpoint, saved again (status 3);
#   3. restored from that: the guest finds everything in place (status 1);
#   4. damaged snapshots (a flipped byte, a cut, not a snapshot) and bad
#      command lines are refused;
#   5. --migrate-to a FIFO that another memtree run --restore reads: the
#      running guest moves to the other process and goes on counting.
# Exits 77 (skipped) when /dev/kvm is missing or unusable.
set -u
memtree=$1 guest=$2
tmp=$(mktemp -d) || exit 1
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Command-line errors need no KVM.
"$memtree" run --restore "$tmp/x" --bios "$guest" >/dev/null 2>"$tmp/err"; st=$?
[ $st = 2 ] || fail "--restore with --bios: status $st, expected 2"
grep -q "no --bios or -m with it" "$tmp/err" || fail "--restore with --bios: $(cat "$tmp/err")"
"$memtree" run --snapshot >/dev/null 2>"$tmp/err"; st=$?
[ $st = 2 ] || fail "--snapshot without a value: status $st, expected 2"
"$memtree" run --restore "$tmp/missing" >/dev/null 2>"$tmp/err"; st=$?
[ $st = 1 ] || fail "missing snapshot: status $st, expected 1"
"$memtree" run --restore "$guest" >/dev/null 2>"$tmp/err"; st=$?
[ $st = 1 ] || fail "a BIOS as a snapshot: status $st, expected 1"
grep -q "not a memtree migration stream" "$tmp/err" || fail "a BIOS as a snapshot: $(cat "$tmp/err")"

if [ ! -e /dev/kvm ]; then
    echo "SKIP: /dev/kvm does not exist"
    exit 77
fi
if ! { exec 3<>/dev/kvm; } 2>/dev/null; then
    echo "SKIP: /dev/kvm cannot be opened for reading and writing"
    exit 77
fi
exec 3>&-

# 1. A signal while the guest counts.
"$memtree" run --bios "$guest" --snapshot "$tmp/a.snap" >"$tmp/out1" 2>"$tmp/err1" &
pid=$!
i=0
while ! grep -q "^tick a" "$tmp/out1" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid"; st=$?
        pid=
        if grep -q "KVM is not usable" "$tmp/err1"; then
            echo "SKIP: $(cat "$tmp/err1")"
            exit 77
        fi
        fail "the guest ended before its first tick: status $st: $(cat "$tmp/err1")"
    fi
    i=$((i + 1))
    [ $i -lt 3000 ] || fail "no tick within 30 s: $(cat "$tmp/out1")"
    sleep 0.01
done
kill -TERM "$pid"
wait "$pid"; st=$?
pid=
[ $st = 0 ] || fail "SIGTERM: status $st, expected 0: $(cat "$tmp/err1")"
grep -q "terminating on signal 15" "$tmp/err1" || fail "SIGTERM: $(cat "$tmp/err1")"
grep -q checkpoint "$tmp/out1" && fail "the guest reached its checkpoint before the signal (too fast?)"
[ -s "$tmp/a.snap" ] || fail "no snapshot after SIGTERM"
[ -e "$tmp/a.snap.tmp" ] && fail "the temporary file was left behind"
last=$(grep "^tick" "$tmp/out1" | tail -n 1)

# 2. Restored: the count goes on, then the checkpoint is saved.
"$memtree" run --restore "$tmp/a.snap" --snapshot "$tmp/b.snap" >"$tmp/out2" 2>"$tmp/err2"; st=$?
[ $st = 3 ] || fail "restore 1: status $st, expected 3: $(cat "$tmp/err2")"
grep -q "start" "$tmp/out2" && fail "restore 1: the guest started over: $(cat "$tmp/out2")"
first=$(grep "^tick" "$tmp/out2" | head -n 1)
if [ -n "$first" ] && ! [ "$first" \> "$last" ]; then
    fail "restore 1: counting went back: '$last' before the signal, '$first' after"
fi
grep -q "^tick x" "$tmp/out2" || fail "restore 1: the count did not finish: $(cat "$tmp/out2")"
grep -q "^checkpoint" "$tmp/out2" || fail "restore 1: no checkpoint: $(cat "$tmp/out2")"

# 3. Restored from the checkpoint: everything is in place.
"$memtree" run --restore "$tmp/b.snap" >"$tmp/out3" 2>"$tmp/err3"; st=$?
[ $st = 1 ] || fail "restore 2: status $st, expected 1: $(cat "$tmp/out3") $(cat "$tmp/err3")"
grep -q "^resumed: ok" "$tmp/out3" || fail "restore 2: $(cat "$tmp/out3")"
[ "$(wc -l < "$tmp/out3")" = 1 ] || fail "restore 2: output: $(cat "$tmp/out3")"

# 4. Damaged snapshots are refused with a reason, and run nothing.
size=$(wc -c < "$tmp/b.snap")
for at in 40 $((size / 2)) $((size - 3)); do
    cp "$tmp/b.snap" "$tmp/bad.snap"
    printf '\377' | dd of="$tmp/bad.snap" bs=1 seek="$at" conv=notrunc 2>/dev/null
    "$memtree" run --restore "$tmp/bad.snap" >"$tmp/out4" 2>"$tmp/err4"; st=$?
    [ $st = 1 ] || fail "a byte flipped at $at: status $st, expected 1"
    grep -q "checksum mismatch\|unsupported\|section at offset" "$tmp/err4" ||
        fail "a byte flipped at $at: $(cat "$tmp/err4")"
    [ -s "$tmp/out4" ] && fail "a damaged snapshot ran the guest: $(cat "$tmp/out4")"
done
head -c $((size - 100)) "$tmp/b.snap" > "$tmp/cut.snap"
"$memtree" run --restore "$tmp/cut.snap" >/dev/null 2>"$tmp/err4"; st=$?
[ $st = 1 ] || fail "a cut snapshot: status $st, expected 1"
grep -q "truncated" "$tmp/err4" || fail "a cut snapshot: $(cat "$tmp/err4")"

# 5. Live, from one process to another through a FIFO: the destination
#    goes on counting where the source was.
mkfifo "$tmp/fifo" || fail "mkfifo"
"$memtree" run --restore "$tmp/fifo" >"$tmp/out5" 2>"$tmp/err5" &
pid=$!
"$memtree" run --bios "$guest" --migrate-to "$tmp/fifo" --migrate-after 500 \
    >"$tmp/out6" 2>"$tmp/err6"; st=$?
[ $st = 0 ] || fail "live source: status $st, expected 0: $(cat "$tmp/err6")"
grep -q "migrated to" "$tmp/err6" || fail "live source: $(cat "$tmp/err6")"
grep -q checkpoint "$tmp/out6" && fail "live source: finished before migrating"
wait "$pid"; st=$?
pid=
[ $st = 3 ] || fail "live destination: status $st, expected 3: $(cat "$tmp/err5")"
grep -q "start" "$tmp/out5" && fail "live destination: the guest started over"
grep -q "^checkpoint" "$tmp/out5" || fail "live destination: $(cat "$tmp/out5")"
slast=$(grep "^tick" "$tmp/out6" | tail -n 1)
dfirst=$(grep "^tick" "$tmp/out5" | head -n 1)
if [ -n "$slast" ] && [ -n "$dfirst" ] && ! [ "$dfirst" \> "$slast" ]; then
    fail "live: counting went back: '$slast' on the source, then '$dfirst'"
fi
echo "memtree run: saved on SIGTERM ($last), restored twice, damaged snapshots refused, migrated live (source at '${slast:-start}')"
