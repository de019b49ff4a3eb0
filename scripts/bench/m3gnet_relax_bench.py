"""Relaxation on the universal potential: convergence rate, iterations and time of
`matscreen relax` with M3GNet on 100 rattled and strained cells.

Twelve crystals of different bonding (covalent Si and GaN, ionic NaCl, MgO and CsI, the oxides
SrTiO3, BaTiO3, rutile TiO2, corundum Al2O3 and LiCoO2, the metals Cu and Fe), built with
pymatgen from their space groups and experimental lattice parameters, each copied with a random
strain (every component of the symmetric strain uniform in [-s, s]) and a random displacement
of every atom (Gaussian, sigma r), for s and r drawn per copy from [0.2 S, S] and [0.2 R, R]
(S = 0.05 and R = 0.1 Å unless --strain and --rattle say otherwise), in the conventional cells
(2 to 30 atoms). Seeded: the same 100 cells every time. Every cell is relaxed with --cell full
(positions and all six strain components) to --fmax 0.01 eV/Å and --smax 0.05 GPa, the defaults
of `matscreen relax`; the script prints the statuses, the convergence rate, the median and 90th
percentile of iterations and energy evaluations, and the time.

usage: m3gnet_relax_bench.py [--bin build/matscreen] [--ranks 2] [--model m3gnet-mp-2021.2.8]
                             [--count 100] [--seed 7] [--keep DIR] [extra relax options...]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from pymatgen.core import Lattice, Structure

CRYSTALS = [
    # name, space group, lattice (pymatgen Lattice factory and arguments), species, coordinates
    ("Si", 227, ("cubic", 5.431), ["Si"], [[0, 0, 0]]),
    ("GaN", 186, ("hexagonal", 3.189, 5.185), ["Ga", "N"], [[1 / 3, 2 / 3, 0], [1 / 3, 2 / 3, 0.377]]),
    ("NaCl", 225, ("cubic", 5.640), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
    ("MgO", 225, ("cubic", 4.212), ["Mg", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
    ("CsI", 221, ("cubic", 4.567), ["Cs", "I"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
    ("SrTiO3", 221, ("cubic", 3.905), ["Sr", "Ti", "O"], [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0]]),
    ("BaTiO3", 99, ("tetragonal", 3.992, 4.036), ["Ba", "Ti", "O", "O"],
     [[0, 0, 0], [0.5, 0.5, 0.515], [0.5, 0.5, -0.022], [0.5, 0, 0.485]]),
    ("TiO2", 136, ("tetragonal", 4.594, 2.959), ["Ti", "O"], [[0, 0, 0], [0.305, 0.305, 0]]),
    ("Al2O3", 167, ("hexagonal", 4.759, 12.991), ["Al", "O"], [[0, 0, 0.3522], [0.3064, 0, 0.25]]),
    ("LiCoO2", 166, ("hexagonal", 2.816, 14.052), ["Li", "Co", "O"], [[0, 0, 0.5], [0, 0, 0], [0, 0, 0.2604]]),
    ("Cu", 225, ("cubic", 3.615), ["Cu"], [[0, 0, 0]]),
    ("Fe", 229, ("cubic", 2.866), ["Fe"], [[0, 0, 0]]),
]


def base(c):
    name, sg, lat, species, coords = c
    kind, *args = lat
    s = Structure.from_spacegroup(sg, getattr(Lattice, kind)(*args), species, coords)
    return name, s


def perturbed(s, rng, smax, rmax):
    strain = rng.uniform(0.2 * smax, smax)
    rattle = rng.uniform(0.2 * rmax, rmax)
    e = rng.uniform(-strain, strain, (3, 3))
    e = 0.5 * (e + e.T)
    m = s.lattice.matrix @ (np.eye(3) + e)
    cart = s.cart_coords @ (np.eye(3) + e) + rng.normal(0, rattle, (len(s), 3))
    return Structure(Lattice(m), s.species, cart, coords_are_cartesian=True), strain, rattle


def write_extxyz(path, cells):
    with open(path, "w") as f:
        for label, s in cells:
            f.write("%d\n" % len(s))
            f.write('Lattice="%s" Properties=species:S:1:pos:R:3 pbc="T T T" label=%s\n'
                    % (" ".join("%.12f" % x for x in s.lattice.matrix.ravel()), label))
            for site in s:
                f.write("%s %.12f %.12f %.12f\n" % (site.specie.symbol, *site.coords))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="build/matscreen")
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--model", default="m3gnet-mp-2021.2.8")
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", default=None, help="directory for the cells and the JSON results")
    ap.add_argument("--strain", type=float, default=0.05, help="largest strain component (default 0.05)")
    ap.add_argument("--rattle", type=float, default=0.10, help="largest displacement sigma, Å (default 0.10)")
    a, extra = ap.parse_known_args()
    rng = np.random.default_rng(a.seed)
    bases = [base(c) for c in CRYSTALS]
    cells = []
    for k in range(a.count):
        name, s = bases[k % len(bases)]
        p, strain, rattle = perturbed(s, rng, a.strain, a.rattle)
        cells.append(("%s_%03d_s%.3f_r%.3f" % (name, k, strain, rattle), p))
    work = a.keep or tempfile.mkdtemp(prefix="ms-relax-bench-")
    os.makedirs(work, exist_ok=True)
    xyz = os.path.join(work, "cells.extxyz")
    write_extxyz(xyz, cells)
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", OMPI_MCA_btl="self,vader")
    cmd = ["mpirun", "-n", str(a.ranks), a.bin, "--quiet", "relax", xyz, "--potential", a.model,
           "--cell", "full", "--json"] + extra
    print("command:", " ".join(cmd[3:]).replace(xyz, "cells.extxyz"))
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode not in (0, 2):
        print(r.stderr)
        sys.exit(1)
    res = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    with open(os.path.join(work, "results.jsonl"), "w") as f:
        f.write(r.stdout)
    statuses = {}
    for x in res:
        statuses[x["status"]] = statuses.get(x["status"], 0) + 1
    conv = [x for x in res if x["status"] == "converged"]
    its = np.array([x["iterations"] for x in res])
    ev = np.array([x["energy_evaluations"] for x in res])
    t = np.array([x["time_s"] for x in res])
    print("cells %d (%d crystals), model %s, %d ranks" % (len(res), len(bases), a.model, a.ranks))
    print("statuses: " + ", ".join("%s %d" % kv for kv in sorted(statuses.items())))
    print("converged: %d of %d (%.0f %%)" % (len(conv), len(res), 100.0 * len(conv) / max(1, len(res))))
    print("iterations: median %.0f, 90th percentile %.0f, max %d" % (np.median(its), np.percentile(its, 90), its.max()))
    print("energy evaluations: median %.0f, 90th percentile %.0f" % (np.median(ev), np.percentile(ev, 90)))
    print("time per relaxation: median %.3f s, total %.1f s" % (np.median(t), t.sum()))
    for x in res:
        if x["status"] != "converged":
            print("  not converged: %-28s %-18s %s" % (x.get("label", ""), x["status"], x.get("detail", "")))


if __name__ == "__main__":
    main()
