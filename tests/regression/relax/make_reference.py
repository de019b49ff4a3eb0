#!/usr/bin/env python3
"""LAMMPS reference relaxations for `matscreen relax --potential bush1994 --cell full`.

Builds bush1994-covered oxides with pymatgen at experimental-like geometry (rocksalt MgO, CaO,
SrO, BaO as 8-ion cells; cubic perovskite SrTiO3 and BaTiO3; rutile TiO2; corundum Al2O3 and
spinel MgAl2O4 as primitive cells), each with a small random symmetric strain (numpy seed
20261130, entries uniform in [-0.01, 0.01]) so that every cell degree of freedom has to move,
and relaxes them with LAMMPS (29 Sep 2021, Debian's `lmp`):

    lmp -in bush1994_relax.in -var name NAME -log NAME.log -screen none -nocite

(fix box/relax tri 0.0 vmax 0.001, min_style cg, `minimize 0 1e-12 100000 1000000` eight
times, then `run 0`; bush1994_relax.in explains each setting). Writes, next to this script:

  start.extxyz                the start structures, one frame each (label = name; element
                              symbols and an oxi_states column), in LAMMPS' orientation
  ideal.extxyz                the same structures without the strain (exactly symmetric up
                              to rounding; used by tests/unit/test_relax.c)
  lammps_relax_reference.json per structure: the LAMMPS version and command, final energy
                              (eV) with pair_modify table 0, the part of it that comes from
                              LAMMPS' approximate erfc (computed here in numpy over the same
                              pairs; subtract it for the exact-erfc energy), the energy with
                              table 16 (C library erfc, tabulated), pressure tensor (GPa,
                              LAMMPS sign: compressive positive), lattice rows (Å),
                              fractional positions, formula units

Command (from the project root; needs lmp on PATH, takes about a minute):
    tests/util/python.sh tests/regression/relax/make_reference.py
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from pymatgen.core import Lattice, Structure
from scipy.special import erfc

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261130
TYPES = ["Mg", "Ca", "Sr", "Ba", "Ti", "Al", "O"]   # LAMMPS atom types 1..7 (bush1994_relax.in)
OXI = {"Mg": 2, "Ca": 2, "Sr": 2, "Ba": 2, "Ti": 4, "Al": 3, "O": -2}
MASS = {"Mg": 24.305, "Ca": 40.078, "Sr": 87.62, "Ba": 137.327, "Ti": 47.867, "Al": 26.9815385,
        "O": 15.999}
BAR_TO_GPA = 1e-4
K = 14.399645478            # eV Å; LAMMPS is given the same through `dielectric`
G_EWALD, RC_COUL = 0.45, 12.0
# Abramowitz & Stegun 7.1.26, the erfc of LAMMPS pair buck/coul/long with table 0
AS_P, AS_A = 0.3275911, (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
COMMAND = "lmp -in bush1994_relax.in -var name NAME -log NAME.log -screen none -nocite"


def rocksalt(cation, a):
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), [cation, "O"],
                                     [[0, 0, 0], [0.5, 0.5, 0.5]])


def perovskite(a_site, b_site, a):
    return Structure(Lattice.cubic(a), [a_site, b_site, "O", "O", "O"],
                     [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])


def base_structures():
    return [
        ("mgo", rocksalt("Mg", 4.212)),
        ("cao", rocksalt("Ca", 4.811)),
        ("sro", rocksalt("Sr", 5.160)),
        ("bao", rocksalt("Ba", 5.520)),
        ("srtio3", perovskite("Sr", "Ti", 3.905)),
        ("batio3", perovskite("Ba", "Ti", 4.000)),
        # rutile P4_2/mnm: Ti 2a (0, 0, 0), O 4f (u, u, 0)
        ("tio2_rutile", Structure.from_spacegroup("P4_2/mnm", Lattice.tetragonal(4.594, 2.959),
                                                  ["Ti", "O"], [[0, 0, 0], [0.3048, 0.3048, 0]])),
        # corundum R-3c, hexagonal axes: Al 12c (0, 0, z), O 18e (x, 0, 1/4); primitive cell
        ("al2o3_corundum", Structure.from_spacegroup(
            "R-3c", Lattice.hexagonal(4.7589, 12.991), ["Al", "O"],
            [[0, 0, 0.35216], [0.30624, 0, 0.25]]).get_primitive_structure()),
        # spinel Fd-3m, origin choice 1 (pymatgen's): Mg 8a (0,0,0), Al 16d (5/8,5/8,5/8),
        # O 32e (u,u,u), u = 0.3874; primitive cell
        ("mgal2o4_spinel", Structure.from_spacegroup(
            "Fd-3m", Lattice.cubic(8.0832), ["Mg", "Al", "O"],
            [[0, 0, 0], [0.625, 0.625, 0.625], [0.3874, 0.3874, 0.3874]]).get_primitive_structure()),
    ]


def lammps_lattice(lat):
    """Rows (lx,0,0), (xy,ly,0), (xz,yz,lz): the same lattice vectors rotated (the fractional
    coordinates do not change)."""
    a, b, c = (np.array(v, float) for v in lat)
    lx = np.linalg.norm(a)
    xy = b @ a / lx
    ly = np.sqrt(b @ b - xy * xy)
    xz = c @ a / lx
    yz = (b @ c - xy * xz) / ly
    lz = np.sqrt(c @ c - xz * xz - yz * yz)
    return np.array([[lx, 0, 0], [xy, ly, 0], [xz, yz, lz]])


def start_structures(strain=True):
    rng = np.random.default_rng(SEED)
    out = []
    for name, s in base_structures():
        e = rng.uniform(-0.01, 0.01, (3, 3))
        e = 0.5 * (e + e.T) if strain else np.zeros((3, 3))
        lat = lammps_lattice(s.lattice.matrix @ (np.eye(3) + e))
        frac = np.array(s.frac_coords) % 1.0
        syms = [site.specie.symbol for site in s]
        nfu = s.composition.get_reduced_formula_and_factor()
        out.append({"name": name, "lattice": lat, "frac": frac, "symbols": syms,
                    "formula": nfu[0], "nfu": int(nfu[1])})
    return out


def write_extxyz(path, structs):
    with open(path, "w") as f:
        for s in structs:
            cart = s["frac"] @ s["lattice"]
            lat = " ".join("%.17g" % v for v in s["lattice"].ravel())
            f.write("%d\n" % len(s["symbols"]))
            f.write('Lattice="%s" Properties=species:S:1:pos:R:3:oxi_states:R:1 label="%s" '
                    'pbc="T T T"\n' % (lat, s["name"]))
            for sym, r in zip(s["symbols"], cart):
                f.write("%-2s %24.17g %24.17g %24.17g %5.1f\n" % (sym, r[0], r[1], r[2], OXI[sym]))


def write_data(path, s):
    lat = s["lattice"]
    cart = s["frac"] @ lat
    with open(path, "w") as f:
        f.write("%s: start structure (tests/regression/relax/make_reference.py)\n\n" % s["name"])
        f.write("%d atoms\n%d atom types\n\n" % (len(s["symbols"]), len(TYPES)))
        f.write("0.0 %.17g xlo xhi\n0.0 %.17g ylo yhi\n0.0 %.17g zlo zhi\n"
                % (lat[0, 0], lat[1, 1], lat[2, 2]))
        f.write("%.17g %.17g %.17g xy xz yz\n\nMasses\n\n" % (lat[1, 0], lat[2, 0], lat[2, 1]))
        for t, el in enumerate(TYPES, 1):
            f.write("%d %g\n" % (t, MASS[el]))
        f.write("\nAtoms # charge\n\n")
        for i, (sym, r) in enumerate(zip(s["symbols"], cart), 1):
            f.write("%d %d %.1f %.17g %.17g %.17g\n" % (i, TYPES.index(sym) + 1, OXI[sym], *r))


def erfc_part(lat, frac, q):
    """LAMMPS' real-space Coulomb energy with the table-0 erfc minus the same sum with the
    exact erfc (eV): all pairs closer than 12 Å, g_ewald 0.45 /Å, as in bush1994_relax.in."""
    cart = frac @ lat
    vol = abs(np.linalg.det(lat))
    widths = vol / np.linalg.norm(np.cross(lat[[1, 2, 0]], lat[[2, 0, 1]]), axis=1)
    nmax = np.ceil(RC_COUL / widths).astype(int) + 1
    de = 0.0
    for n in np.array(np.meshgrid(*[np.arange(-m, m + 1) for m in nmax], indexing="ij")).reshape(3, -1).T:
        d = cart[:, None, :] - cart[None, :, :] - (n @ lat)[None, None, :]
        r = np.sqrt(np.einsum("ijk,ijk->ij", d, d))
        mask = (r < RC_COUL) & (r > 1e-9)
        r = np.where(mask, r, 1.0)
        x = G_EWALD * r
        t = 1.0 / (1.0 + AS_P * x)
        poly = t * (AS_A[0] + t * (AS_A[1] + t * (AS_A[2] + t * (AS_A[3] + t * AS_A[4]))))
        approx = poly * np.exp(-x * x)
        de += 0.5 * np.sum(np.where(mask, K * np.outer(q, q) / r * (approx - erfc(x)), 0.0))
    return de


def run_lammps(s, workdir):
    name = s["name"]
    write_data(os.path.join(workdir, name + ".data"), s)
    shutil.copy(os.path.join(HERE, "bush1994_relax.in"), workdir)
    cmd = COMMAND.replace("NAME", name).split()
    subprocess.run(cmd, cwd=workdir, check=True)
    log = open(os.path.join(workdir, name + ".log")).read()
    final = [l for l in log.splitlines() if l.startswith("FINAL ")]
    if not final:
        raise RuntimeError("no FINAL line in %s.log" % name)
    v = [float(x) for x in final[-1].split()[1:]]
    pe, pxx, pyy, pzz, pyz, pxz, pxy, lx, ly, lz, xy, xz, yz, xlo, ylo, zlo = v
    lat = np.array([[lx, 0, 0], [xy, ly, 0], [xz, yz, lz]])
    rows = open(os.path.join(workdir, name + ".final")).read().splitlines()
    k = rows.index("ITEM: ATOMS id type x y z")
    cart = np.array([[float(x) for x in r.split()[2:5]] for r in rows[k + 1:]])
    frac = (cart - np.array([xlo, ylo, zlo])) @ np.linalg.inv(lat)
    frac %= 1.0
    nmin = log.count("Minimization stats:")
    t16 = [l for l in log.splitlines() if l.startswith("TABLE16 ")]
    q = np.array([float(OXI[x]) for x in s["symbols"]])
    return {"energy_eV": pe, "energy_table16_eV": float(t16[-1].split()[1]),
            "energy_erfc_part_eV": erfc_part(lat, frac, q),
            "pressure_GPa": [p * BAR_TO_GPA for p in (pxx, pyy, pzz, pyz, pxz, pxy)],
            "lattice_A": lat.tolist(), "frac_positions": frac.tolist(), "minimizations": nmin}


def main():
    if shutil.which("lmp") is None:
        sys.exit("make_reference.py: LAMMPS (lmp) not found")
    version = subprocess.run(["lmp", "-h"], capture_output=True, text=True).stdout
    version = next((l.strip() for l in version.splitlines() if "Large-scale" in l), "?")
    structs = start_structures()
    write_extxyz(os.path.join(HERE, "start.extxyz"), structs)
    write_extxyz(os.path.join(HERE, "ideal.extxyz"), start_structures(strain=False))
    ref = {"generated_by": "tests/util/python.sh tests/regression/relax/make_reference.py",
           "lammps": version + " (Debian package lammps)",
           "command": COMMAND + "   (input file bush1994_relax.in, data file NAME.data)",
           "units": "eV, Å, GPa; pressure_GPa = LAMMPS pressure tensor xx yy zz yz xz xy "
                    "(compressive positive) = minus the ASE-sign stress",
           "structures": []}
    with tempfile.TemporaryDirectory() as tmp:
        for s in structs:
            r = run_lammps(s, tmp)
            r.update({"name": s["name"], "formula": s["formula"], "formula_units": s["nfu"],
                      "symbols": s["symbols"]})
            ref["structures"].append(r)
            print("%-16s E/fu %.8f eV (erfc part %.2e, table 16 %+.2e)  max|P| %.2e GPa  (%d minimize runs)"
                  % (s["name"], r["energy_eV"] / s["nfu"], r["energy_erfc_part_eV"] / s["nfu"],
                     (r["energy_table16_eV"] - r["energy_eV"]) / s["nfu"],
                     max(map(abs, r["pressure_GPa"])), r["minimizations"]))
    with open(os.path.join(HERE, "lammps_relax_reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
