#!/usr/bin/env bash
# Relaxation with the M3GNet universal potential on 100 rattled and strained cells: convergence
# rate, iterations, time (docs/performance.md).
#   scripts/bench/m3gnet_relax_bench.sh [--bin build/matscreen] [--ranks 2] [--count 100]
cd "$(dirname "$0")/../.." || exit 1
exec tests/util/python.sh scripts/bench/m3gnet_relax_bench.py "$@"
