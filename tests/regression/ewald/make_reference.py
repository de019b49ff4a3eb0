#!/usr/bin/env python3
"""Reference Ewald energies and forces from pymatgen for matscreen's C tests.

Writes, on stdout, a plain-text file read by tests/unit/test_ewald.c:

    cell NAME NATOMS
    lattice a_x a_y a_z b_x b_y b_z c_x c_y c_z      (Å, rows)
    site Z OX F_A F_B F_C                              (NATOMS lines; OX = charge in e)
    energy E                                           (eV, pymatgen total_energy)
    force F_X F_Y F_Z                                  (NATOMS lines, eV/Å)
    madelung R0 NFU M_PUBLISHED                        (Madelung cells only)
    end

Charges are given as oxidation states on pymatgen Species, so pymatgen includes the
neutralising-background term for charged cells (with a plain "charge" site property it would
silently drop it). pymatgen's accuracy factor is raised from 12 to 20 (terms below e^-20 of
the leading ones are dropped) so its truncation error is far below the 1e-8 tested.

Cells: the five Madelung structures (published constants: CRC Handbook convention
U = -M z+ z- K / r0; NaCl to 10 digits 1.7475645946; CsCl 1.762675; zincblende 1.638055;
ideal wurtzite 1.641322; fluorite 5.038785 with the charges +2/-1 included), and 12 random
triclinic cells (numpy seed 20261129), charged and neutral: random09 in a skewed
(non-reduced) basis, random10 a strongly skewed thin cell whose perpendicular width is below
the real-space cutoff, random11 with partial charges.

Command (from the project root):
    tests/util/python.sh tests/regression/ewald/make_reference.py > tests/regression/ewald/pymatgen_reference.txt
"""
import math
import sys

import numpy as np
import pymatgen
from pymatgen.analysis.ewald import EwaldSummation
from pymatgen.core import Lattice, Species, Structure

ACC_FACTOR = 20.0


def fcc(basis):
    out = []
    for t in [(0, 0, 0), (0, 0.5, 0.5), (0.5, 0, 0.5), (0.5, 0.5, 0)]:
        for (sym, ox, f) in basis:
            out.append((sym, ox, [(f[k] + t[k]) % 1.0 for k in range(3)]))
    return out


def madelung_cells():
    a = 5.64
    cells = []
    cells.append(("nacl", a * np.eye(3), fcc([("Na", 1, (0, 0, 0)), ("Cl", -1, (0.5, 0, 0))]),
                  a / 2, 4, 1.7475645946))
    cells.append(("cscl", 4.12 * np.eye(3), [("Cs", 1, (0, 0, 0)), ("Cl", -1, (0.5, 0.5, 0.5))],
                  4.12 * math.sqrt(3) / 2, 1, 1.762675))
    cells.append(("zincblende", a * np.eye(3),
                  fcc([("Zn", 1, (0, 0, 0)), ("S", -1, (0.25, 0.25, 0.25))]),
                  a * math.sqrt(3) / 4, 4, 1.638055))
    aw = 3.82
    cw = aw * math.sqrt(8.0 / 3.0)
    u = 3.0 / 8.0
    lat = np.array([[aw, 0, 0], [-aw / 2, aw * math.sqrt(3) / 2, 0], [0, 0, cw]])
    cells.append(("wurtzite", lat,
                  [("Zn", 1, (1 / 3, 2 / 3, 0)), ("Zn", 1, (2 / 3, 1 / 3, 0.5)),
                   ("S", -1, (1 / 3, 2 / 3, u)), ("S", -1, (2 / 3, 1 / 3, 0.5 + u))],
                  u * cw, 2, 1.641322))
    af = 5.46
    cells.append(("fluorite", af * np.eye(3),
                  fcc([("Ca", 2, (0, 0, 0)), ("F", -1, (0.25, 0.25, 0.25)),
                       ("F", -1, (0.75, 0.75, 0.75))]),
                  af * math.sqrt(3) / 4, 4, 5.038785))
    return cells


def lattice_from_parameters(a, b, c, al, be, ga):
    al, be, ga = (math.radians(x) for x in (al, be, ga))
    cx = c * math.cos(be)
    cy = c * (math.cos(al) - math.cos(be) * math.cos(ga)) / math.sin(ga)
    cz = math.sqrt(c * c - cx * cx - cy * cy)
    return np.array([[a, 0, 0], [b * math.cos(ga), b * math.sin(ga), 0], [cx, cy, cz]])


def min_dist(lat, frac):
    best = 1e9
    for i in range(len(frac)):
        for j in range(i, len(frac)):
            for n in np.ndindex(5, 5, 5):
                s = np.array(n) - 2
                if i == j and not s.any():
                    continue
                d = (np.array(frac[j]) + s - np.array(frac[i])) @ lat
                best = min(best, float(np.linalg.norm(d)))
    return best


def random_cells(rng):
    cations = [("Na", 1), ("Mg", 2), ("Al", 3), ("Ti", 4), ("Sr", 2), ("Y", 3)]
    anions = [("O", -2), ("F", -1), ("Cl", -1)]
    cells = []
    k = 0
    while len(cells) < 12:
        k += 1
        n = int(rng.integers(3, 13))
        for _ in range(100):
            a, b, c = rng.uniform(3.5, 8.0, 3)
            al, be, ga = rng.uniform(65, 115, 3)
            try:
                lat = lattice_from_parameters(a, b, c, al, be, ga)
            except ValueError:
                continue
            if np.all(np.isfinite(lat)) and abs(np.linalg.det(lat)) > 0.3 * a * b * c:
                break
        idx = len(cells)
        if idx == 10:  # strongly skewed basis of a thin cell: width ~2.3 Å < cutoff
            lat = np.array([[2.9, 0.0, 0.0], [7.1, 3.0, 0.0], [-5.3, 1.7, 9.5]])
        if idx == 9:  # skewed (non-reduced) basis: a3 = a3' + 2 a1 - 3 a2
            lat = lat.copy()
            lat[2] = lat[2] + 2 * lat[0] - 3 * lat[1]
        sites = []
        for i in range(n):
            sym, ox = (cations if i % 2 == 0 else anions)[int(rng.integers(0, 3 if i % 2 else 6))]
            sites.append([sym, ox, list(rng.uniform(0, 1, 3))])
        neutral = idx % 2 == 0
        if neutral:
            # make it neutral by adjusting the last site's charge (may give a fractional one)
            q = sum(s[1] for s in sites[:-1])
            sites[-1][1] = -q if q != 0 else sites[-1][1]
            if q == 0:
                continue
        if idx == 11:  # partial charges (Pedone-like 0.6 x formal)
            for s in sites:
                s[1] = round(0.6 * s[1], 10)
        if min_dist(lat, [s[2] for s in sites]) < 1.3:
            continue
        cells.append((f"random{idx:02d}{'_neutral' if neutral else '_charged'}", lat,
                      [tuple(s) for s in sites]))
    return cells


def emit(name, lat, sites, extra=None):
    species = [Species(s[0], s[1]) for s in sites]
    st = Structure(Lattice(lat), species, [s[2] for s in sites], coords_are_cartesian=False)
    ew = EwaldSummation(st, acc_factor=ACC_FACTOR, compute_forces=True)
    e = ew.total_energy
    f = ew.forces
    out = [f"cell {name} {len(sites)}",
           "lattice " + " ".join(repr(float(x)) for x in np.asarray(lat).ravel())]
    for s, site in zip(sites, st):
        out.append(f"site {site.specie.Z} {repr(float(s[1]))} " +
                   " ".join(repr(float(x)) for x in s[2]))
    out.append(f"energy {repr(float(e))}")
    for row in f:
        out.append("force " + " ".join(repr(float(x)) for x in row))
    if extra:
        out.append(extra)
    out.append("end")
    print("\n".join(out))


def main():
    print("# Ewald reference energies (eV) and forces (eV/Å) from pymatgen "
          f"{pymatgen.core.__version__} EwaldSummation(acc_factor={ACC_FACTOR}),")
    print("# charges as Species oxidation states (background term included for charged cells).")
    print("# Made by: tests/util/python.sh tests/regression/ewald/make_reference.py "
          "> tests/regression/ewald/pymatgen_reference.txt")
    print("# Format: see the docstring of make_reference.py.")
    for name, lat, sites, r0, nfu, mpub in madelung_cells():
        emit(name, lat, sites, f"madelung {repr(r0)} {nfu} {mpub}")
    rng = np.random.default_rng(20261129)
    for name, lat, sites in random_cells(rng):
        emit(name, lat, sites)


if __name__ == "__main__":
    sys.exit(main())
