#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""exitbench_compare.py: interleaved comparisons of exitbench runners
(../shared/bench/exitbench) beyond what its bench.sh prints.

  exitbench_compare.py blk IMAGE REPS RUNNER...
      Runs each RUNNER on IMAGE (an exitbench image with several phases,
      e.g. all five at N = 100000), REPS rounds, runners interleaved within
      each round. Prints per phase the median over rounds of the fastest
      block of 1000 exits (ns), its ratio to the first runner, and the
      minimum over rounds.

  exitbench_compare.py startup IMAGE REPS RUNNER...
      Process start to exit, wall time (ms): median, min, quartiles.

A RUNNER is a command, split on spaces, to which IMAGE is appended; it must
print the guest's report line ("EXB ...", port 0xe9) on stdout and exit with
status 1 (isa-debug-exit). Run it from the exitbench directory: the TSC rate
comes from `./bare_kvm -v` (KVM_GET_TSC_KHZ).

  cd /tmp/exb   # a built copy of ../shared/bench/exitbench
  python3 exitbench_compare.py blk all100k.bin 12 ./bare_kvm \\
      "/path/to/memtree run --bios" ./qemu.sh
"""
import statistics
import subprocess
import sys
import time

PHASES = ['MMIO write 4B', 'MMIO read 4B', 'PIO out 4B', 'PIO out 1B',
          'PIO in 4B']


def tsc_khz(image):
    err = subprocess.run(['./bare_kvm', '-v', image], capture_output=True,
                         text=True).stderr
    return int(err.split('tsc_khz=')[1].split()[0])


def run(cmd, image):
    p = subprocess.run(cmd.split() + [image], capture_output=True, text=True)
    if p.returncode != 1:
        sys.exit(f'{cmd}: exit status {p.returncode} (expected 1): {p.stderr}')
    return p.stdout


def blk(image, reps, cmds):
    khz = tsc_khz(image)
    res = {c: [] for c in cmds}
    for _ in range(reps):
        for c in cmds:
            line = [l for l in run(c, image).splitlines()
                    if l.startswith('EXB ')][0].split()
            # EXB ver blk (n c m) x 5 ct: m_k at 5, 8, 11, 14, 17
            res[c].append([int(line[i], 16) * 1e6 / khz / 1000
                           for i in (5, 8, 11, 14, 17)])
    ref = res[cmds[0]]
    print(f'TSC {khz} kHz, {reps} rounds. Per phase: median over rounds of '
          f'the fastest block (ns/exit), min over rounds, and the median of '
          f'the per-round ratios to {cmds[0]} (runs of one round are '
          f'adjacent in time: the least noisy comparison)')
    print(f'{"runner":34s}' + ''.join(f'{p:>24s}' for p in PHASES))
    for c in cmds:
        med = [statistics.median(r[k] for r in res[c]) for k in range(5)]
        mn = [min(r[k] for r in res[c]) for k in range(5)]
        ratio = [statistics.median(r[k] / b[k] for r, b in zip(res[c], ref))
                 for k in range(5)]
        print(f'{c[:34]:34s}' + ''.join(
            f'{m:7.0f} {x:6.0f} {q:7.3f}x' for m, x, q in
            zip(med, mn, ratio)))


def startup(image, reps, cmds):
    res = {c: [] for c in cmds}
    for c in cmds:
        run(c, image)  # warm-up: page cache
    for _ in range(reps):
        for c in cmds:
            t0 = time.perf_counter_ns()
            run(c, image)
            res[c].append((time.perf_counter_ns() - t0) / 1e6)
    print(f'{reps} rounds; process start to exit, wall ms')
    for c in cmds:
        x = sorted(res[c])
        print(f'{c[:34]:34s} median {statistics.median(x):7.2f}  min '
              f'{x[0]:7.2f}  p25 {x[len(x) // 4]:7.2f}  p75 '
              f'{x[3 * len(x) // 4]:7.2f}')


def main():
    if len(sys.argv) < 5 or sys.argv[1] not in ('blk', 'startup'):
        sys.exit(__doc__)
    mode, image, reps, cmds = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
        sys.argv[4:]
    (blk if mode == 'blk' else startup)(image, reps, cmds)


if __name__ == '__main__':
    main()
