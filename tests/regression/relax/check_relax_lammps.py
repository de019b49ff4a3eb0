#!/usr/bin/env python3
"""`matscreen relax --potential bush1994` against LAMMPS relaxations (fix box/relax + minimize).

usage: check_relax_lammps.py MATSCREEN   (run by meson through tests/util/python.sh)

References: lammps_relax_reference.json, made by make_reference.py (its docstring has the
LAMMPS command and settings) from the start structures in start.extxyz. LAMMPS relaxed them to
|P| < 1e-12 GPa. Its table-0 energies carry the error of its erfc approximation (up to
1.5e-4 eV per formula unit here); make_reference.py computed that part in numpy over the same
pairs and it is subtracted before comparing.

Checked for every structure (MgO, CaO, SrO, BaO, SrTiO3, BaTiO3, rutile TiO2, corundum Al2O3,
spinel MgAl2O4), relaxed with --cell full from the same start:
- status converged;
- every lattice length within 1e-4 Å and every angle within 1e-3 degrees of LAMMPS;
- energy per formula unit within 1e-4 eV of LAMMPS (exact-erfc corrected), and also of the
  raw table-0 LAMMPS energy within 2.5e-4 eV (the size of the erfc part);
- internal coordinates: the sorted list of all interatomic distances up to 4 Å within 1e-4 Å
  (this covers rutile's u, corundum's x and z and spinel's u); rutile's u itself within 1e-4;
- the cubic ones also with --cell iso and rutile with --cell aniso reach the same lattice.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
exe = sys.argv[1]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def relax(path, cell, extra=()):
    cmd = [exe, "relax", path, "--potential", "bush1994", "--cell", cell, "--fmax", "1e-5",
           "--smax", "1e-4", "--json", *extra]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        sys.exit("matscreen failed (%d): %s" % (p.returncode, p.stderr))
    return [json.loads(l) for l in p.stdout.splitlines()]


def params(lat):
    lat = np.asarray(lat)
    l = np.linalg.norm(lat, axis=1)
    ang = [np.degrees(np.arccos(lat[j] @ lat[k] / (l[j] * l[k]))) for j, k in ((1, 2), (0, 2), (0, 1))]
    return l, np.array(ang)


def distances(lat, frac, rmax=4.0):
    lat, frac = np.asarray(lat), np.asarray(frac)
    cart = frac @ lat
    out = []
    rng = range(-2, 3)
    shifts = np.array([[a, b, c] for a in rng for b in rng for c in rng]) @ lat
    for i in range(len(cart)):
        d = cart[None, :, :] + shifts[:, None, :] - cart[i]
        r = np.linalg.norm(d, axis=2).ravel()
        out.extend(r[(r > 1e-6) & (r < rmax)])
    return np.sort(out)


def rutile_u(lat, frac, symbols):
    """u of O at (u, u, 0): the fractional Ti-O vector of the apical bond, (+-u, +-u, 0)."""
    frac = np.asarray(frac)
    ti = frac[symbols.index("Ti")]
    best = []
    for k, s in enumerate(symbols):
        if s != "O":
            continue
        d = (frac[k] - ti + 0.5) % 1.0 - 0.5
        if abs(d[2]) < 1e-3 and abs(abs(d[0]) - abs(d[1])) < 1e-3:
            best.append(abs(d[0]))
    return min(best) if best else float("nan")


ref = json.load(open(os.path.join(HERE, "lammps_relax_reference.json")))
start = os.path.join(HERE, "start.extxyz")
full = relax(start, "full")
check(len(full) == len(ref["structures"]), "one result per structure")
for r, m in zip(ref["structures"], full):
    name = r["name"]
    nfu = r["formula_units"]
    check(m["label"] == name, "%s: frame order" % name)
    check(m["status"] == "converged", "%s: status %s (%s)" % (name, m["status"], m["detail"]))
    lr, ar = params(r["lattice_A"])
    lm, am = params(m["lattice_A"])
    dl = np.abs(lr - lm).max()
    da = np.abs(ar - am).max()
    e_exact = (r["energy_eV"] - r["energy_erfc_part_eV"]) / nfu
    de = m["energy_eV"] / nfu - e_exact
    de_raw = m["energy_eV"] / nfu - r["energy_eV"] / nfu
    dr = distances(r["lattice_A"], r["frac_positions"])
    dm = distances(m["lattice_A"], m["frac_positions"])
    dd = np.abs(dr - dm).max() if len(dr) == len(dm) else float("inf")
    print("%-16s lengths %s  |dL| %.1e Å  |dangle| %.1e°  dE/fu %+.1e eV (raw LAMMPS %+.1e)  "
          "|d dist| %.1e Å  (%d iterations)"
          % (name, np.array2string(lm, precision=6), dl, da, de, de_raw, dd, m["iterations"]))
    check(dl <= 1e-4, "%s: lattice lengths differ by %.2e Å" % (name, dl))
    check(da <= 1e-3, "%s: angles differ by %.2e degrees" % (name, da))
    check(abs(de) <= 1e-4, "%s: energy per formula unit differs by %.2e eV" % (name, de))
    check(abs(de_raw) <= 2.5e-4, "%s: energy vs raw LAMMPS differs by %.2e eV/fu" % (name, de_raw))
    check(len(dr) == len(dm), "%s: %d vs %d distances below 4 Å" % (name, len(dm), len(dr)))
    check(dd <= 1e-4, "%s: interatomic distances differ by %.2e Å" % (name, dd))
    if name == "tio2_rutile":
        ur = rutile_u(r["lattice_A"], r["frac_positions"], r["symbols"])
        um = rutile_u(m["lattice_A"], m["frac_positions"], r["symbols"])
        print("%-16s u = %.6f (LAMMPS %.6f)" % ("", um, ur))
        check(abs(um - ur) <= 1e-4, "rutile u %.6f vs LAMMPS %.6f" % (um, ur))

# The other cell modes where they must give the same lattice: cubic -> iso, tetragonal -> aniso.
# Both keep the start's cell shape (angles, and for iso the length ratios), so they start from
# the unstrained structures (ideal.extxyz).
ideal = os.path.join(HERE, "ideal.extxyz")
for mode, names in (("iso", {"mgo", "cao", "sro", "bao", "srtio3", "batio3"}), ("aniso", {"tio2_rutile"})):
    res = relax(ideal, mode)
    for r, m in zip(ref["structures"], res):
        if r["name"] not in names:
            continue
        lr, _ = params(r["lattice_A"])
        lm, _ = params(m["lattice_A"])
        dl = np.abs(np.sort(lr) - np.sort(lm)).max()
        check(m["status"] == "converged" and dl <= 1e-4,
              "%s --cell %s: %s, lengths differ by %.2e Å" % (r["name"], mode, m["status"], dl))

if failures:
    print("%d failures" % len(failures), file=sys.stderr)
    sys.exit(1)
print("all checks passed")
