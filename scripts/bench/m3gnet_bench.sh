#!/usr/bin/env bash
# M3GNet energy + forces + stress per structure: matscreen (C, one core) against the
# independent PyTorch implementation (one thread) in the same run, 2 to 128 atoms; dense-layer
# GFLOP/s against the core's peak; time and memory from 64 to 1000 atoms.
# Usage: scripts/bench/m3gnet_bench.sh [--oracle ORACLE.py] [--checkpoints DIR]
#                                      [--model NAME] [--reps R] [--rounds K] [--max-atoms N]
#                                      [--no-oracle] [--json OUT.json]
# ORACLE.py and DIR (matgl's checkpoint folders) default to $M3GNET_ORACLE and
# $M3GNET_CHECKPOINTS; the timing program is build/tests/regression/m3gnet/bench_m3gnet
# ($M3GNET_BENCH_BIN). What is timed and how: the docstring of m3gnet_bench.py.
# Results and the machine they were measured on: docs/performance.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
for py in /usr/bin/python3 python3; do
  if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import numpy, torch' >/dev/null 2>&1; then
    exec "$py" "$here/m3gnet_bench.py" "$@"
  fi
done
echo "m3gnet_bench.sh: no Python 3 with numpy and torch (Debian: python3-torch); use --no-oracle" >&2
for py in /usr/bin/python3 python3; do
  if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import numpy' >/dev/null 2>&1; then
    exec "$py" "$here/m3gnet_bench.py" "$@"
  fi
done
exit 1
