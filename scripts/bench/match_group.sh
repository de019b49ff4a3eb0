#!/usr/bin/env bash
# Grouping duplicates: matscreen match --group (1 and 2 ranks) vs pymatgen group_structures.
# Usage: scripts/bench/match_group.sh [--n N] [--bin MATSCREEN] [--workdir DIR]
#                                     [--pymatgen-n K] [--no-pymatgen]
# Defaults: 400-structure set and a 100000-structure set, build/matscreen (or $MATSCREEN_BIN),
# work files in build/bench-match. What is timed and how: the docstring of match_group.py.
# Results: docs/performance.md, "Structure matching".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl=self,vader
exec "$here/../../tests/util/python.sh" "$here/match_group.py" "$@"
