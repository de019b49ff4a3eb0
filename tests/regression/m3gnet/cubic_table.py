#!/usr/bin/python3
"""The 84 start structures of matgl's cubic-crystal benchmark, for a relaxation check of M3GNet.

usage: cubic_table.py [--readme MODEL_CARD.md] [-o cubic_table.extxyz]

The table (Material, Crystal structure, experimental a, MP a, predicted a; 84 rows) is the
"Cubic crystals benchmark" of the model card (README.md) of matgl's M3GNet-MP-2021.2.8-PES,
copied once into cubic_table.csv beside this script (--readme MODEL_CARD.md re-extracts it).
Each row's start structure is built the way matgl's benchmark notebook builds it ("Benchmarking
M3GNet Predictions of Cubic Lattice Parameters", examples/ of matgl), as the M3GNet
specification (section 11) describes:
- the elements of the formula's first word (Composition("VC0.97") -> C, V), sorted by
  pymatgen's element order (electronegativity), so non-stoichiometric rows are built
  stoichiometric;
- by the first match of the structure name: "Zinc blende" F-43m with el0 at (0, 0, 0) and el1
  at (1/4, 1/4, 3/4), a = 4.5 Å; "Halite" Fm-3m, (0, 0, 0) and (1/2, 0, 0), 4.5 Å; "Caesium
  chloride" Pm-3m, (0, 0, 0) and (1/2, 1/2, 1/2), 4.5 Å; "Cubic perovskite" five sites el0 (0,
  0, 0), el1 (1/2, 1/2, 1/2), el2 at (1/2, 1/2, 0), (0, 1/2, 1/2), (1/2, 0, 1/2), 5 Å;
  "Diamond" Fd-3m with el0 at (1/4, 3/4, 1/4), 5 Å; "BCC" two sites, 4.5 Å; "FCC" four sites,
  4.5 Å (space groups through pymatgen's Structure.from_spacegroup, sites in its order).
matgl relaxed them with its 2023 Relaxer (ASE 3.22 FIRE on ExpCellFilter, fmax = 0.01 eV/Å,
at most 500 steps) and printed the conventional lattice constant a to 5 decimals ("Predicted a"
below). Per the specification, matgl's semantics reproduces 80 of the 84 printed values
exactly and the other 4 to 1e-5 Å; the consistent semantics differs by up to 6e-5 Å; Cs has no
zero-stress point (its printed value is where FIRE stopped).

The output is an extended XYZ file, one frame per row in table order, Cartesian coordinates
in pymatgen's site order and frame (both matter for matgl's semantics), with the frame keys
material, structure, start_a, expected_a (the printed prediction, Å), mp_a, exp_a.
Needs pymatgen (Debian: /usr/bin/python3).
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from pymatgen.core import Composition, Lattice, Structure

HERE = Path(__file__).resolve().parent
TABLE = HERE / "cubic_table.csv"


def extract(readme: Path) -> list[dict]:
    rows, inside = [], False
    for line in readme.read_text().splitlines():
        if line.startswith("| Material"):
            inside = True
            continue
        if inside and line.startswith("|:"):
            continue
        if inside and line.startswith("|"):
            c = [x.strip() for x in line.strip().strip("|").split("|")]
            rows.append({"material": c[0], "structure": c[1], "exp_a": c[2], "mp_a": c[3],
                         "predicted_a": c[4]})
        elif inside:
            break
    return rows


def start_structure(material: str, kind: str) -> tuple[Structure, float]:
    els = sorted(Composition(material.split()[0]).elements)
    if "Zinc blende" in kind:
        a = 4.5
        s = Structure.from_spacegroup("F-43m", Lattice.cubic(a), els[:2], [[0, 0, 0], [0.25, 0.25, 0.75]])
    elif "Halite" in kind:
        a = 4.5
        s = Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), els[:2], [[0, 0, 0], [0.5, 0, 0]])
    elif "Caesium chloride" in kind:
        a = 4.5
        s = Structure.from_spacegroup("Pm-3m", Lattice.cubic(a), els[:2], [[0, 0, 0], [0.5, 0.5, 0.5]])
    elif "Cubic perovskite" in kind:
        a = 5.0
        s = Structure(Lattice.cubic(a), [els[0], els[1], els[2], els[2], els[2]],
                      [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0, 0.5, 0.5], [0.5, 0, 0.5]])
    elif "Diamond" in kind:
        a = 5.0
        s = Structure.from_spacegroup("Fd-3m", Lattice.cubic(a), [els[0]], [[0.25, 0.75, 0.25]])
    elif "BCC" in kind:
        a = 4.5
        s = Structure(Lattice.cubic(a), [els[0]] * 2, [[0, 0, 0], [0.5, 0.5, 0.5]])
    elif "FCC" in kind:
        a = 4.5
        s = Structure(Lattice.cubic(a), [els[0]] * 4,
                      [[0, 0, 0], [0.5, 0.5, 0], [0, 0.5, 0.5], [0.5, 0, 0.5]])
    else:
        raise ValueError(f"{material}: unknown structure type {kind!r}")
    return s, a


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--readme", type=Path, help="re-extract cubic_table.csv from this model card")
    ap.add_argument("-o", "--output", type=Path, default=Path("cubic_table.extxyz"))
    a = ap.parse_args(argv)
    if a.readme:
        rows = extract(a.readme)
        with open(TABLE, "w", newline="") as f:
            f.write("# matgl M3GNet-MP-2021.2.8-PES model card, 'Cubic crystals benchmark' "
                    "(experimental a, MP a, matgl's predicted a in Å)\n")
            w = csv.DictWriter(f, fieldnames=["material", "structure", "exp_a", "mp_a", "predicted_a"])
            w.writeheader()
            w.writerows(rows)
    with open(TABLE) as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    if len(rows) != 84:
        print(f"cubic_table: {TABLE} has {len(rows)} rows, expected 84", file=sys.stderr)
        return 1
    with open(a.output, "w") as out:
        for r in rows:
            s, a0 = start_structure(r["material"], r["structure"])
            lat = s.lattice.matrix
            out.write(f"{len(s)}\n")
            out.write('Lattice="' + " ".join(repr(float(v)) for v in lat.ravel()) + '" '
                      'Properties=species:S:1:pos:R:3 pbc="T T T" '
                      f'material="{r["material"]}" structure="{r["structure"]}" start_a={a0} '
                      f'expected_a={r["predicted_a"]} mp_a={r["mp_a"]} exp_a={r["exp_a"]}\n')
            for site in s:
                p = site.coords
                out.write(f"{site.specie.symbol} {p[0]!r} {p[1]!r} {p[2]!r}\n")
    print(f"wrote {len(rows)} start structures to {a.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
