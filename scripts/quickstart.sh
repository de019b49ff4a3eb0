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

echo "==> $($bin --version)"
campaign=examples/perovskite-oxides/campaign.yaml
run "$bin" check --no-calibrate "$campaign" | tail -n 12
run "$bin" run "$campaign" -o "$out/perovskite-oxides.h5"
echo "==> lowest relaxed energy per composition (from $out/perovskite-oxides.h5)"
tests/util/python.sh - "$out/perovskite-oxides.h5" <<'PY'
import sys
import h5py
import numpy as np
with h5py.File(sys.argv[1], "r") as f:
    c = f["candidates"]
    e = c["e_relaxed_eV_per_atom"][:]
    best = {}
    for fo, pr, en in zip(c["formula"][:], c["prototype"][:], e):
        if np.isfinite(en) and (fo not in best or en < best[fo][1]):
            best[fo] = (pr.decode(), en)
    for fo, (pr, en) in sorted(best.items(), key=lambda kv: kv[1][1])[:10]:
        print(f"  {fo.decode():12s} {pr:24s} {en:10.4f} eV/atom")
PY
echo "==> done; output in $out/ (layout: docs/output.md)"
