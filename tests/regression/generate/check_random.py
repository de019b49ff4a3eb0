"""random_search outputs checked with independent tools, and rank-count independence.

`matscreen generate` writes random SrTiO3 and MgAl2O4 structures; each CIF is read with
pymatgen and checked:
  - composition: Z formula units of the drawn composition;
  - minimum separations: every pair at least the documented rule (docs/generation.md) with
    Shannon radii from pymatgen's own table (Species.get_shannon_radius, CN VI):
    0.7 (r_a + r_b), and 0.7 (r_a + r_b + 2 r_O) / sqrt(2) for two cations;
  - symmetry: spglib (symprec 1e-3) finds at least the point-group order of the drawn space
    group (index.csv), i.e. the drawn group or a supergroup.
The same run with 2 MPI ranks must give byte-identical files.

Usage: check_random.py MATSCREEN MPIEXEC
"""
import filecmp
import math
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import spglib
import yaml
from pymatgen.core import Composition, Species
from pymatgen.io.cif import CifParser

warnings.filterwarnings("ignore")

CAMPAIGN = {
    "campaign": {"seed": 20261129},
    "search": [{"generator": "random_search", "compositions": ["SrTiO3", "MgAl2O4"],
                "formula_units": [1, 3], "draws": 150}],
}


def point_order(number):
    for hall in range(1, 531):
        if spglib.get_spacegroup_type(hall)["number"] == number:
            ops = spglib.get_symmetry_from_database(hall)
            ncent = sum(1 for R in ops["rotations"] if (R == np.eye(3, dtype=int)).all())
            return len(ops["rotations"]) // ncent
    raise ValueError(number)


def radius(sp):
    return Species(sp.symbol, sp.oxi_state).get_shannon_radius("VI", radius_type="ionic")


def dmin(a, b, r_anion):
    ra, rb = radius(a), radius(b)
    if a.oxi_state > 0 and b.oxi_state > 0:
        return 0.7 * (ra + rb + 2 * r_anion) / math.sqrt(2)
    return 0.7 * (ra + rb)


def generate(cmd, camp, out):
    subprocess.run(cmd + ["--quiet", "generate", camp, "-d", out], check=True)


def main():
    exe, mpiexec = sys.argv[1], sys.argv[2]
    failures = 0
    r_o = Species("O", -2).get_shannon_radius("VI", radius_type="ionic")
    orders = {}
    with tempfile.TemporaryDirectory() as tmp:
        camp = os.path.join(tmp, "campaign.yaml")
        with open(camp, "w") as f:
            yaml.safe_dump(CAMPAIGN, f)
        out1, out2 = os.path.join(tmp, "n1"), os.path.join(tmp, "n2")
        generate([exe], camp, out1)
        generate([mpiexec, "-n", "2", exe], camp, out2)
        files = sorted(os.listdir(out1))
        same = sorted(os.listdir(out2)) == files and all(
            filecmp.cmp(os.path.join(out1, f), os.path.join(out2, f), shallow=False) for f in files)
        print(f"1 rank vs 2 ranks: {len(files)} files, identical: {same}")
        failures += not same

        rows = [l.rstrip("\n").split(",") for l in open(os.path.join(out1, "index.csv"))][1:]
        bad_sep = bad_sym = bad_comp = failed = 0
        worst = math.inf
        groups = set()
        for r in rows:
            if r[7] != "ok":
                failed += 1
                continue
            s = CifParser(os.path.join(out1, r[8])).get_structures(primitive=False)[0]
            drawn = int(r[6])
            groups.add(drawn)
            z = int(r[9].split(":Z=")[1].split(":")[0])
            formula = r[9].split(":")[1]
            if s.composition.element_composition != Composition(formula) * z:
                bad_comp += 1
            # Minimum separations over all pairs and images.
            for i, site in enumerate(s):
                for nb in s.get_neighbors(site, 3.2):
                    lim = dmin(site.specie, nb.specie, r_o)
                    worst = min(worst, nb.nn_distance / lim)
                    if nb.nn_distance < lim - 1e-6:
                        bad_sep += 1
            cell = (s.lattice.matrix, s.frac_coords, [sp.Z for sp in s.species])
            nops = len(spglib.get_symmetry(cell, symprec=1e-3)["rotations"])
            if drawn not in orders:
                orders[drawn] = point_order(drawn)
            if nops < orders[drawn]:
                bad_sym += 1
        print(f"{len(rows)} draws, {failed} failed, {len(groups)} space groups drawn; "
              f"composition errors {bad_comp}, pairs below the minimum {bad_sep} "
              f"(closest at {worst:.4f} x minimum), symmetry below the drawn group {bad_sym}")
        failures += bad_comp + bad_sep + bad_sym + failed
        failures += len(groups) < 60
    print("FAILED" if failures else "random structures pass")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
