#!/usr/bin/env python3
"""Short-range (Buckingham only, no Coulomb) reference energies, forces and strain
derivatives from LAMMPS, for tests/unit/test_potential.c.

Command that produced the stored files (run from the project root, LAMMPS 29 Sep 2021 as
packaged by Debian 12, `lmp`):

    tests/util/python.sh tests/regression/pair/make_lammps_reference.py

It writes, for each case NAME in {mgo_rocksalt, srtio3_rattled}:
    tests/regression/pair/lammps/NAME.data     LAMMPS data file (the structure)
    tests/regression/pair/lammps/NAME.in       LAMMPS input (pair_style buck, run 0)
    tests/regression/pair/NAME.yaml            structure + LAMMPS results (read by the C test)

Potential: Bush, Gale, Catlow & Battle, J. Mater. Chem. 4, 831 (1994) as in the GULP library
file bush.lib (Mg-O, Sr-O, Ti-O, O-O), cutoffs 10 Å cation-O and 12 Å O-O, plain truncation
(LAMMPS `pair_modify shift no`, the default), cation-cation pairs without short-range terms
(A = 0). These are the same numbers as inputs/potentials/bush1994.yaml, typed here
independently from the physics reference, so a transcription slip in either shows up.

Conversions: LAMMPS prints the virial pressure tensor P_ab in bar (metal units); for pair
terms P_ab V = sum_pairs d_a f_b = -W_ab, with W_ab = dE/d(eps_ab) in eV, so
W_ab = -P_ab V / nktv2p with LAMMPS's own metal-units constant nktv2p = 1.6021765e6
(src/update.cpp), which undoes its conversion exactly.
"""
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
NKTV2P = 1.6021765e6

BUSH = {  # (A eV, rho Å, C eV Å^6, cutoff Å)
    ("Mg", "O"): (2457.243, 0.2610, 0.0, 10.0),
    ("Sr", "O"): (1956.702, 0.3252, 0.0, 10.0),
    ("Ti", "O"): (2088.107, 0.2888, 0.0, 10.0),
    ("O", "O"): (25.410, 0.6937, 32.32, 12.0),
}
MASS = {"Mg": 24.305, "Sr": 87.62, "Ti": 47.867, "O": 15.999}
OX = {"Mg": "Mg2+", "Sr": "Sr2+", "Ti": "Ti4+", "O": "O2-"}


def mgo_rocksalt():
    a = 4.212
    lat = np.diag([a, a, a])
    fr = []
    sp = []
    for f in [(0, 0, 0), (0, .5, .5), (.5, 0, .5), (.5, .5, 0)]:
        fr.append(f)
        sp.append("Mg")
        fr.append(tuple((np.array(f) + [.5, 0, 0]) % 1.0))
        sp.append("O")
    return lat, np.array(fr) @ lat, sp


def srtio3_rattled():
    """2x2x2 cubic perovskite, sheared into a triclinic cell (LAMMPS orientation: a along x,
    b in the xy plane), every ion displaced by up to ~0.1 Å (fixed seed)."""
    a0 = 3.905
    base = [("Sr", (0, 0, 0)), ("Ti", (.5, .5, .5)),
            ("O", (.5, .5, 0)), ("O", (.5, 0, .5)), ("O", (0, .5, .5))]
    lat = np.array([[2 * a0 * 1.01, 0.0, 0.0],
                    [0.35, 2 * a0 * 0.99, 0.0],
                    [-0.25, 0.30, 2 * a0 * 1.02]])
    fr, sp = [], []
    for i in range(2):
        for j in range(2):
            for k in range(2):
                for s, f in base:
                    fr.append(((f[0] + i) / 2, (f[1] + j) / 2, (f[2] + k) / 2))
                    sp.append(s)
    rng = np.random.default_rng(20261129)
    cart = np.array(fr) @ lat + rng.uniform(-0.1, 0.1, size=(len(fr), 3))
    return lat, cart, sp


def write_lammps(name, lat, cart, sp):
    types = sorted(set(sp), key=lambda s: (s == "O", s))  # cations first, O last
    tid = {s: k + 1 for k, s in enumerate(types)}
    d = HERE / "lammps"
    d.mkdir(exist_ok=True)
    lx, ly, lz = lat[0, 0], lat[1, 1], lat[2, 2]
    xy, xz, yz = lat[1, 0], lat[2, 0], lat[2, 1]
    assert abs(lat[0, 1]) + abs(lat[0, 2]) + abs(lat[1, 2]) == 0.0
    # LAMMPS wants atoms inside its box: wrap in fractional coordinates.
    frac = np.linalg.solve(lat.T, cart.T).T
    frac -= np.floor(frac)
    cart = frac @ lat
    lines = [f"{name}: Bush 1994 short-range reference (make_lammps_reference.py)", "",
             f"{len(sp)} atoms", f"{len(types)} atom types", "",
             f"0.0 {lx:.17g} xlo xhi", f"0.0 {ly:.17g} ylo yhi", f"0.0 {lz:.17g} zlo zhi",
             f"{xy:.17g} {xz:.17g} {yz:.17g} xy xz yz", "", "Masses", ""]
    lines += [f"{tid[s]} {MASS[s]}" for s in types]
    lines += ["", "Atoms # atomic", ""]
    lines += [f"{i + 1} {tid[s]} {x[0]:.17g} {x[1]:.17g} {x[2]:.17g}"
              for i, (s, x) in enumerate(zip(sp, cart))]
    (d / f"{name}.data").write_text("\n".join(lines) + "\n")
    inp = ["# Short-range Buckingham only (no Coulomb), Bush 1994; see make_lammps_reference.py",
           "units metal", "atom_style atomic", "boundary p p p",
           f"read_data {name}.data", "pair_style buck 12.0"]
    for si in types:
        for sj in types:
            if tid[si] > tid[sj]:
                continue
            key = (si, sj) if (si, sj) in BUSH else (sj, si)
            if key in BUSH:
                A, rho, C, rc = BUSH[key]
                inp.append(f"pair_coeff {tid[si]} {tid[sj]} {A} {rho} {C} {rc}")
            else:
                inp.append(f"pair_coeff {tid[si]} {tid[sj]} 0.0 1.0 0.0")
    inp += ["neighbor 2.0 bin",
            "compute vir all pressure NULL virial",
            "thermo_style custom step pe c_vir[1] c_vir[2] c_vir[3] c_vir[4] c_vir[5] c_vir[6] vol",
            "thermo_modify norm no format float %.17g",
            f"dump f all custom 1 {name}.forces id fx fy fz",
            "dump_modify f sort id format float %.17g",
            "run 0"]
    (d / f"{name}.in").write_text("\n".join(inp) + "\n")
    return d, cart


def run_lammps(d, name, natoms):
    # No log file (the stored files stay small); thermo output is read from the screen.
    out = subprocess.run(["lmp", "-in", f"{name}.in", "-log", "none"], cwd=d, check=True,
                         capture_output=True, text=True)
    version = re.search(r"LAMMPS \(([^)]*)\)", out.stdout).group(1)
    lines = out.stdout.splitlines()
    k = next(i for i, l in enumerate(lines) if l.split()[:2] == ["Step", "PotEng"])
    vals = [float(x) for x in lines[k + 1].split()]
    pe, pvir, vol = vals[1], vals[2:8], vals[8]
    fl = (d / f"{name}.forces").read_text().splitlines()
    k = fl.index("ITEM: ATOMS id fx fy fz")
    forces = np.array([[float(x) for x in l.split()[1:]] for l in fl[k + 1:k + 1 + natoms]])
    (d / f"{name}.forces").unlink()
    pxx, pyy, pzz, pxy, pxz, pyz = pvir
    P = np.array([[pxx, pxy, pxz], [pxy, pyy, pyz], [pxz, pyz, pzz]])
    W = -P * vol / NKTV2P
    return version, pe, forces, W, vol


def fmt(x):
    return f"{x:.17g}"


def main():
    for name, build in [("mgo_rocksalt", mgo_rocksalt), ("srtio3_rattled", srtio3_rattled)]:
        lat, cart, sp = build()
        d, cart = write_lammps(name, lat, cart, sp)
        version, pe, forces, W, vol = run_lammps(d, name, len(sp))
        assert abs(vol - abs(np.linalg.det(lat))) < 1e-9 * vol
        y = [f"# Generated by tests/regression/pair/make_lammps_reference.py; do not edit.",
             f"# LAMMPS ({version}): lmp -in lammps/{name}.in (pair_style buck, no Coulomb).",
             f"case: {name}",
             f"lammps_version: '{version}'",
             "potential: bush1994",
             "short_range_only: true",
             "lattice_A:"]
        y += [f"  - [{fmt(r[0])}, {fmt(r[1])}, {fmt(r[2])}]" for r in lat]
        y += ["species: [" + ", ".join(OX[s] for s in sp) + "]", "positions_A:"]
        y += [f"  - [{fmt(x[0])}, {fmt(x[1])}, {fmt(x[2])}]" for x in cart]
        y += [f"energy_eV: {fmt(pe)}", "forces_eV_per_A:"]
        y += [f"  - [{fmt(f[0])}, {fmt(f[1])}, {fmt(f[2])}]" for f in forces]
        y += ["# W_ab = dE/d(eps_ab) = -P_virial_ab * V / nktv2p (eV); rows xx xy xz / yx yy yz / zx zy zz",
              "strain_derivative_eV:"]
        y += [f"  - [{fmt(w[0])}, {fmt(w[1])}, {fmt(w[2])}]" for w in W]
        (HERE / f"{name}.yaml").write_text("\n".join(y) + "\n")
        print(f"{name}: E = {pe:.12f} eV, |F|max = {np.abs(forces).max():.6g} eV/Å, "
              f"W diag = {np.diag(W)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
