#!/usr/bin/env python3
"""Make the pymatgen references for the powder XRD test (tests/unit/test_xrd.c).

Run from the repository root with Debian's python3-pymatgen (2022.11.7 made the stored files):

    tests/util/python.sh tests/regression/make_xrd_reference.py

Reads tests/data/xrd/cases.csv (name, structure file, wavelength, 2-theta range), computes
each pattern with pymatgen's XRDCalculator(wavelength).get_pattern(structure,
two_theta_range=(min, max)) on Structure.from_file(file) (the cell as written, so the Miller
indices are in the same basis as matscreen's), and writes tests/data/xrd/NAME.csv with every
peak pymatgen returns:

    two_theta_deg,d_A,intensity,multiplicity,families
    18.9982...,4.6669...,35.12...,8,1 1 1
    ...

intensity is scaled to 100 for the strongest peak; families lists pymatgen's representative
(hkl) of each family of the peak, separated by ';', multiplicity is the sum of the family
multiplicities. For hexagonal cells pymatgen gives four indices (h, k, -h-k, l); they are
stored as h k l.

It also checks that the coefficient table src/analysis/xrd_scattering.h holds the numbers of
pymatgen's atomic_scattering_params.json, the source it names, and fails if not.

The structure files: MgO-rocksalt, SrTiO3-cubic and TiO2-rutile are copies of
examples/structures/*.cif; MgAl2O4-spinel and Al2O3-corundum of tests/data/structures/
spinel_sym_oxi.cif and corundum_sym.cif (symmetry-expanded when read); CaTiO3-triclinic of
tests/data/structures/triclinic_ase.cif (P1, distorted); CaTiO3-pnma is candidate 0 of
`matscreen generate pnma.yaml -d out` (out/0.cif) with this pnma.yaml:

    campaign: {name: xrd-pnma, seed: 1}
    search:
      - generator: prototype_substitution
        prototypes: [perovskite_pnma]
        sites: {A: [Ca2+], B: [Ti4+], X: [O2-]}
"""
import csv
import json
import os
import re
import sys

import pymatgen
import pymatgen.analysis.diffraction as diffraction
from pymatgen.analysis.diffraction.xrd import XRDCalculator
from pymatgen.core import Element, Structure

root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
data = os.path.join(root, "tests", "data", "xrd")


def check_table():
    path = os.path.join(os.path.dirname(diffraction.__file__), "atomic_scattering_params.json")
    with open(path) as f:
        ref = json.load(f)
    with open(os.path.join(root, "src", "analysis", "xrd_scattering.h")) as f:
        text = f.read()
    row = re.compile(r"\[(\d+)\] = \{\{([^}]*)\}, \{([^}]*)\}\}, /\* (\w+) \*/")
    seen = set()
    for m in row.finditer(text):
        z, sym = int(m.group(1)), m.group(4)
        a = [float(x) for x in m.group(2).split(",")]
        b = [float(x) for x in m.group(3).split(",")]
        assert Element.from_Z(z).symbol == sym, (z, sym)
        assert [list(p) for p in zip(a, b)] == [[float(x) for x in p] for p in ref[sym]], sym
        seen.add(sym)
    missing = set(ref) - seen - {"D"}  # D (deuterium) has H's numbers; matscreen has no D
    assert not missing, f"elements missing from xrd_scattering.h: {sorted(missing)}"
    print(f"xrd_scattering.h: {len(seen)} elements equal to {path}")


def hkl3(hkl):
    return (hkl[0], hkl[1], hkl[3]) if len(hkl) == 4 else tuple(hkl)


def main():
    check_table()
    with open(os.path.join(data, "cases.csv")) as f:
        cases = [r for r in csv.DictReader(row for row in f if not row.startswith("#"))]
    for c in cases:
        s = Structure.from_file(os.path.join(data, c["structure"]))
        lo, hi = float(c["two_theta_min_deg"]), float(c["two_theta_max_deg"])
        pat = XRDCalculator(wavelength=float(c["wavelength_A"])).get_pattern(
            s, two_theta_range=(lo, hi))
        out = os.path.join(data, c["name"] + ".csv")
        with open(out, "w") as f:
            f.write(f"# pymatgen {pymatgen.core.__version__} XRDCalculator(wavelength="
                    f"{c['wavelength_A']}).get_pattern(Structure.from_file('{c['structure']}'), "
                    f"two_theta_range=({lo:g}, {hi:g}))\n")
            f.write("# made by: tests/util/python.sh tests/regression/make_xrd_reference.py\n")
            f.write("two_theta_deg,d_A,intensity,multiplicity,families\n")
            for tt, inten, fams, d in zip(pat.x, pat.y, pat.hkls, pat.d_hkls):
                mult = sum(fam["multiplicity"] for fam in fams)
                reps = ";".join(" ".join(str(i) for i in hkl3(fam["hkl"])) for fam in fams)
                f.write(f"{tt!r},{d!r},{inten!r},{mult},{reps}\n")
        print(f"{out}: {len(pat.x)} peaks ({s.composition.reduced_formula}, "
              f"{len(s)} sites)")


if __name__ == "__main__":
    sys.exit(main())
