#!/usr/bin/env bash
# Load balance of `matscreen run` (measured at 1 and 2 ranks, simulated to 16,384 ranks).
#   scripts/bench/load_balance.sh [--bin build/matscreen] [--workdir DIR] [--draws N]
cd "$(dirname "$0")/../.." || exit 1
exec tests/util/python.sh scripts/bench/load_balance.py "$@"
