#!/usr/bin/env bash
# Throughput of prefilter + single point, and memory per rank against the size of the search
# space (the per-candidate records stream to the checkpoint log, so memory should stay flat).
#   scripts/bench/throughput.sh [--bin build/matscreen] [--ranks 2] [--sizes 100000,1000000]
cd "$(dirname "$0")/../.." || exit 1
exec tests/util/python.sh scripts/bench/throughput.py "$@"
