#!/usr/bin/env bash
# Single-point energies of >= 1000 small cells: matscreen vs LAMMPS vs pymatgen, one core each.
# Usage: scripts/bench/energy_small.sh [--n N] [--bin MATSCREEN] [--workdir DIR]
#                                      [--pymatgen-every K] [--no-lammps] [--no-pymatgen]
# Defaults: 1000 structures, build/matscreen (or $MATSCREEN_BIN), work files in
# build/bench-small. What is timed and how: see the docstring of energy_small.py.
# Results and the machine they were measured on: docs/performance.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
exec "$here/../../tests/util/python.sh" "$here/energy_small.py" "$@"
