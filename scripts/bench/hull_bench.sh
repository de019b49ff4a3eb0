#!/usr/bin/env bash
# Convex hull: matscreen hull vs pymatgen PhaseDiagram on ~2000 and ~10^6 entries (4 elements).
# Usage: scripts/bench/hull_bench.sh [--bin MATSCREEN] [--workdir DIR] [--large N]
#                                    [--pymatgen-sample K] [--no-pymatgen]
# Defaults: build/matscreen (or $MATSCREEN_BIN), work files in build/bench-hull. What is timed
# and how: the docstring of hull_bench.py. Results: docs/performance.md, "Hull".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export OMP_NUM_THREADS=1
exec "$here/../../tests/util/python.sh" "$here/hull_bench.py" "$@"
