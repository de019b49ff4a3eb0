#!/usr/bin/env bash
# First command for a new user: install the Debian packages, build matscreen, and run the
# most complete job available on an embedded example, on 2 MPI ranks.
#
#   scripts/quickstart.sh
#
# The build goes to ./build; the binary is ./build/matscreen. Outputs go to ./quickstart-out.
set -euo pipefail
cd "$(dirname "$0")/.."

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl=self,vader

echo "==> installing dependencies (Debian packages)"
bash scripts/install-deps.sh
echo "==> building"
if [ -f build/build.ninja ]; then meson setup --reconfigure build >/dev/null; else meson setup build >/dev/null; fi
ninja -C build >/dev/null

out=quickstart-out
mkdir -p "$out"
bin=build/matscreen
run() { echo "+ mpirun -n 2 $*"; mpirun -n 2 "$@"; }

echo "==> matscreen $($bin --version)"
example=examples/structures/SrTiO3.cif
run "$bin" info species Sr2+ Ti4+ O2-
run "$bin" convert "$example" "$out/SrTiO3.vasp"
if "$bin" help energy >/dev/null 2>&1; then
  run "$bin" energy "$example" --potential bush1994
fi
echo "==> done; outputs in $out/"
