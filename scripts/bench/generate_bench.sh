#!/usr/bin/env bash
# Candidate generation timings, matscreen vs pymatgen where pymatgen does the same job, one core.
# Usage: scripts/bench/generate_bench.sh [BUILD_DIR] [DRAWS]
# Defaults: build, 10000 random draws. What is timed: see generate_bench.py.
# Results and the machine they were measured on: docs/generation.md ("Performance").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
draws=${2:-10000}
export OMP_NUM_THREADS=1
exec "$here/../../tests/util/python.sh" "$here/generate_bench.py" "$build" "$draws"
