#!/usr/bin/env bash
# Large SrTiO3 supercells (~10^3, 10^4, 7x10^4 atoms): matscreen smooth PME (accuracy 1e-5)
# vs LAMMPS PPPM 1e-5 with the same Buckingham terms, one core each.
# Usage: scripts/bench/energy_large.sh [--sizes 6,13,24] [--bin MATSCREEN] [--workdir DIR]
#                                      [--lammps-rc 12.0] [--repeat 3] [--no-lammps]
# Defaults: build/matscreen (or $MATSCREEN_BIN), work files in build/bench-large.
# What is timed and how: see the docstring of energy_large.py. Results: docs/performance.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
exec "$here/../../tests/util/python.sh" "$here/energy_large.py" "$@"
