#!/usr/bin/env bash
# Full-cell relaxation of >= 100 small cells: matscreen (PETSc TAO) vs LAMMPS minimize with
# fix box/relax, one core each.
# Usage: scripts/bench/relax_bench.sh [--n N] [--bin MATSCREEN] [--workdir DIR] [--fmax X]
#                                     [--smax X] [--no-lammps] [--extra "MATSCREEN ARGS"]
# Defaults: 120 structures, build/matscreen (or $MATSCREEN_BIN), work files in
# build/bench-relax, fmax 1e-3 eV/Å, smax 0.01 GPa. What is timed and how: the docstring of
# relax_bench.py. Results and the machine they were measured on: docs/performance.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
exec "$here/../../tests/util/python.sh" "$here/relax_bench.py" "$@"
