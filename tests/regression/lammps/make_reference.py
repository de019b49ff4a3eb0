#!/usr/bin/env python3
"""LAMMPS and pymatgen reference values for `matscreen energy` with the bush1994 potential.

Builds bush1994-covered oxides with pymatgen (rocksalt MgO, CaO, SrO, BaO; cubic perovskite
SrTiO3 and BaTiO3; rutile TiO2; corundum Al2O3; spinel MgAl2O4), each ideal and randomly
strained + rattled (numpy seed 20261129), and writes, next to this script:

  structures.extxyz      every structure, one frame each (label = name; species as element
                         symbols, oxidation states in an oxi_states column). The cells are
                         already in LAMMPS' orientation (a along x, b in the xy plane, tilts
                         reduced to at most half a box length) so that forces and stress need
                         no rotation.
  lammps_reference.txt   LAMMPS energy (total and its parts), forces and stress, plus the part
                         of each that comes from LAMMPS' approximate erfc (see below).
  pymatgen_coulomb.txt   pymatgen EwaldSummation energy and forces of the same structures (the
                         electrostatic part alone), for `matscreen energy --potential coulomb`.

LAMMPS (29 Sep 2021, Debian's `lmp`) runs bush1994_ewald.in twice per structure, TABLE = 0, 16:
    lmp -in bush1994_ewald.in -var name NAME -var table TABLE -log NAME.log -screen none -nocite
(buck/coul/long, Ewald 1e-12 with g_ewald 0.45 /Å and a 12 Å Coulomb cutoff, pair_modify
table TABLE, K matched to matscreen's through `dielectric`; the input file explains each
choice).

The LAMMPS erfc: with table 16 the real-space erfc comes from a 2^16-point table of the C
library's erfc (linear interpolation; it leaves up to ~5e-6 eV/f.u. here). With table 0, pair
buck/coul/long evaluates erfc(x) by the Abramowitz-Stegun 7.1.26 rational approximation
(|error| <= 1.5e-7) and the force with 1.12837917 for 2/sqrt(pi). This script repeats LAMMPS' real-space Coulomb sum in numpy twice, once with that
approximation and once with the exact erfc, over exactly LAMMPS' pairs (r < 12 Å, the same
g_ewald), and stores the difference (approximate minus exact) for energy, forces and stress.
Subtracting it from the LAMMPS numbers gives what LAMMPS computes with an exact erfc, which is
what matscreen computes; check_lammps.py uses the raw numbers of both tables for the
acceptance tolerance and the corrected table-0 ones for the tight checks.

Stress: LAMMPS reports the pressure tensor P (bar, `compute pressure NULL virial`: no kinetic
part); for a static structure our stress (ASE sign, tensile positive) is -P. Converted with
LAMMPS' own factor (nktv2p = 1.6021765e6 bar per eV/Å^3) back to eV/Å^3 and then with
160.2176634 GPa per eV/Å^3, as matscreen does.

pymatgen (Debian's python3-pymatgen) EwaldSummation with Species oxidation states (so the
background term of a charged cell would be included; these cells are neutral), acc_factor 24
(terms below e^-24 ~ 4e-11 of the leading ones are dropped), compute_forces=True.

Command (from the project root; needs lmp on PATH, takes about 20 s):
    tests/util/python.sh tests/regression/lammps/make_reference.py
"""
import math
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pymatgen
from pymatgen.analysis.ewald import EwaldSummation
from pymatgen.core import Lattice, Structure
from scipy.special import erfc

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261129
TYPES = ["Mg", "Ca", "Sr", "Ba", "Ti", "Al", "O"]   # LAMMPS atom types 1..7 (bush1994_ewald.in)
OXI = {"Mg": 2, "Ca": 2, "Sr": 2, "Ba": 2, "Ti": 4, "Al": 3, "O": -2}
G_EWALD = 0.45              # kspace_modify gewald in bush1994_ewald.in
RC_COUL = 12.0              # pair_style buck/coul/long 12.0 12.0
QQR2E_LAMMPS = 14.399645    # LAMMPS metal units
K_MATSCREEN = 14.399645478  # matscreen / pymatgen
DIELECTRIC = 0.9999999668047382  # = QQR2E_LAMMPS / K_MATSCREEN, as in bush1994_ewald.in
NKTV2P = 1.6021765e6        # LAMMPS metal: bar per eV/Å^3
EV_A3_TO_GPA = 160.2176634
PYMATGEN_ACC = 24.0


# ----------------------------------------------------------------------------- structures
def rocksalt(cation, a):
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), [cation, "O"],
                                     [[0, 0, 0], [0.5, 0.5, 0.5]])


def perovskite(a_site, b_site, a):
    return Structure(Lattice.cubic(a), [a_site, b_site, "O", "O", "O"],
                     [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])


def base_structures():
    """(name, structure) with experimental-like geometry; the cells are the usual ones."""
    out = [
        ("mgo", rocksalt("Mg", 4.212)),
        ("cao", rocksalt("Ca", 4.811)),
        ("sro", rocksalt("Sr", 5.160)),
        ("bao", rocksalt("Ba", 5.520)),
        ("srtio3", perovskite("Sr", "Ti", 3.905)),
        ("batio3", perovskite("Ba", "Ti", 4.000)),
        # rutile P4_2/mnm, O at 4f (x, x, 0)
        ("tio2_rutile", Structure.from_spacegroup("P4_2/mnm", Lattice.tetragonal(4.594, 2.959),
                                                  ["Ti", "O"], [[0, 0, 0], [0.3048, 0.3048, 0]])),
        # corundum R-3c (hexagonal axes): Al 12c (0, 0, z), O 18e (x, 0, 1/4); primitive cell
        ("al2o3_corundum", Structure.from_spacegroup(
            "R-3c", Lattice.hexagonal(4.7589, 12.991), ["Al", "O"],
            [[0, 0, 0.35216], [0.30624, 0, 0.25]]).get_primitive_structure()),
        # spinel Fd-3m, origin choice 1 (pymatgen's setting): Mg 8a (0,0,0), Al 16d (5/8,5/8,5/8),
        # O 32e (u,u,u) with u = 0.3874 (0.2624 in origin choice 2); primitive cell
        ("mgal2o4_spinel", Structure.from_spacegroup(
            "Fd-3m", Lattice.cubic(8.0832), ["Mg", "Al", "O"],
            [[0, 0, 0], [0.625, 0.625, 0.625], [0.3874, 0.3874, 0.3874]]).get_primitive_structure()),
    ]
    return out


def perturbed(s, rng, strain=0.02, rattle=0.04):
    """Random symmetric strain (entries uniform in [-strain, strain]) and Gaussian rattle (Å)."""
    e = rng.uniform(-strain, strain, (3, 3))
    e = 0.5 * (e + e.T)
    lat = s.lattice.matrix @ (np.eye(3) + e)
    cart = s.frac_coords @ lat + rng.normal(0.0, rattle, (len(s), 3))
    return Structure(Lattice(lat), [site.specie for site in s], cart, coords_are_cartesian=True)


def lammps_frame(lat, frac):
    """The same crystal in LAMMPS' restricted triclinic form: rows (lx,0,0), (xy,ly,0),
    (xz,yz,lz) with |xy|, |xz| <= lx/2 and |yz| <= ly/2 (unimodular basis changes)."""
    a, b, c = (np.array(v, float) for v in lat)
    M = np.eye(3)           # new basis rows = M @ old basis rows

    def params(a, b, c):
        lx = np.linalg.norm(a)
        xy = b @ a / lx
        ly = math.sqrt(b @ b - xy * xy)
        xz = c @ a / lx
        yz = (b @ c - xy * xz) / ly
        lz = math.sqrt(c @ c - xz * xz - yz * yz)
        return lx, ly, lz, xy, xz, yz

    for _ in range(20):
        lx, ly, lz, xy, xz, yz = params(a, b, c)
        if abs(yz) > 0.5 * ly + 1e-12:
            k = round(yz / ly)
            c = c - k * b
            M[2] -= k * M[1]
        elif abs(xz) > 0.5 * lx + 1e-12:
            k = round(xz / lx)
            c = c - k * a
            M[2] -= k * M[0]
        elif abs(xy) > 0.5 * lx + 1e-12:
            k = round(xy / lx)
            b = b - k * a
            M[1] -= k * M[0]
        else:
            break
    lx, ly, lz, xy, xz, yz = params(a, b, c)
    if np.linalg.det(np.array([a, b, c])) < 0:
        raise ValueError("left-handed cell")
    new = np.array([[lx, 0, 0], [xy, ly, 0], [xz, yz, lz]])
    # fractional coordinates in the new basis: x_cart = f_old @ L_old = f_new @ (M @ L_old)
    f = frac @ np.linalg.inv(M)
    f -= np.floor(f)
    f[f >= 1.0] -= 1.0
    return new, f


def all_structures():
    rng = np.random.default_rng(SEED)
    out = []
    for name, s in base_structures():
        out.append((name, s))
        out.append((name + "_strained_rattled", perturbed(s, rng)))
    # two larger cells: a rattled 2x2x2 perovskite and a rattled conventional spinel
    st = perovskite("Sr", "Ti", 3.905)
    st.make_supercell([2, 2, 2])
    out.append(("srtio3_2x2x2_strained_rattled", perturbed(st, rng, 0.015, 0.05)))
    sp = Structure.from_spacegroup("Fd-3m", Lattice.cubic(8.0832), ["Mg", "Al", "O"],
                                   [[0, 0, 0], [0.625, 0.625, 0.625], [0.3874, 0.3874, 0.3874]])
    out.append(("mgal2o4_conventional_strained_rattled", perturbed(sp, rng, 0.015, 0.05)))
    result = []
    for name, s in out:
        lat, frac = lammps_frame(s.lattice.matrix, s.frac_coords)
        syms = [site.specie.symbol for site in s]
        result.append({"name": name, "lattice": lat, "frac": frac, "cart": frac @ lat,
                       "symbols": syms, "q": np.array([float(OXI[x]) for x in syms])})
    return result


# ----------------------------------------------------------------------------- files
def write_extxyz(path, structs):
    with open(path, "w") as f:
        for s in structs:
            lat = " ".join("%.17g" % v for v in s["lattice"].ravel())
            f.write("%d\n" % len(s["symbols"]))
            f.write('Lattice="%s" Properties=species:S:1:pos:R:3:oxi_states:R:1 label="%s" '
                    'pbc="T T T"\n' % (lat, s["name"]))
            for sym, r, q in zip(s["symbols"], s["cart"], s["q"]):
                f.write("%-2s %24.17g %24.17g %24.17g %5.1f\n" % (sym, r[0], r[1], r[2], q))


def write_data(path, s):
    lat = s["lattice"]
    masses = {"Mg": 24.305, "Ca": 40.078, "Sr": 87.62, "Ba": 137.327, "Ti": 47.867,
              "Al": 26.9815385, "O": 15.999}
    with open(path, "w") as f:
        f.write("%s: bush1994 reference structure (make_reference.py)\n\n" % s["name"])
        f.write("%d atoms\n%d atom types\n\n" % (len(s["symbols"]), len(TYPES)))
        f.write("0.0 %.17g xlo xhi\n0.0 %.17g ylo yhi\n0.0 %.17g zlo zhi\n"
                % (lat[0, 0], lat[1, 1], lat[2, 2]))
        f.write("%.17g %.17g %.17g xy xz yz\n\n" % (lat[1, 0], lat[2, 0], lat[2, 1]))
        f.write("Masses\n\n")
        for t, el in enumerate(TYPES, 1):
            f.write("%d %g\n" % (t, masses[el]))
        f.write("\nAtoms # charge\n\n")
        for i, (sym, r, q) in enumerate(zip(s["symbols"], s["cart"], s["q"]), 1):
            f.write("%d %d %.1f %.17g %.17g %.17g\n" % (i, TYPES.index(sym) + 1, q, *r))


def run_lammps(s, workdir, table):
    name = s["name"]
    write_data(os.path.join(workdir, name + ".data"), s)
    cmd = ["lmp", "-in", "bush1994_ewald.in", "-var", "name", name, "-var", "table", str(table),
           "-log", name + ".log", "-screen", "none", "-nocite"]
    subprocess.run(cmd, cwd=workdir, check=True)
    log = open(os.path.join(workdir, name + ".log")).read().splitlines()
    vals = None
    for k, line in enumerate(log):
        if line.split()[:2] == ["Step", "PotEng"]:
            vals = [float(x) for x in log[k + 1].split()]
            break
    if vals is None:
        raise RuntimeError("no thermo output in %s.log" % name)
    _, pe, evdwl, ecoul, elong, pxx, pyy, pzz, pxy, pxz, pyz, vol = vals
    gline = [l for l in log if "G vector" in l]
    kline = [l for l in log if "KSpace vectors" in l]
    rows = open(os.path.join(workdir, name + ".forces")).read().splitlines()
    k = rows.index("ITEM: ATOMS id fx fy fz")
    forces = np.array([[float(x) for x in r.split()[1:4]] for r in rows[k + 1:]])
    p = np.array([pxx, pyy, pzz, pyz, pxz, pxy])     # Voigt order xx yy zz yz xz xy
    stress = -p / NKTV2P * EV_A3_TO_GPA
    return {"energy": pe, "evdwl": evdwl, "ecoul": ecoul, "elong": elong, "forces": forces,
            "stress": stress, "volume": vol,
            "g_ewald": float(gline[0].split("=")[1]) if gline else float("nan"),
            "kspace": kline[0].strip() if kline else ""}


# ------------------------------------------------------------------ LAMMPS erfc deviation
A1, A2, A3, A4, A5 = 0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429
EWALD_P, EWALD_F = 0.3275911, 1.12837917


def erfc_deviation(s):
    """LAMMPS real-space Coulomb (table 0) minus the same sum with exact erfc and 2/sqrt(pi):
    energy (eV), forces (eV/Å), stress (GPa, ASE sign). Same pairs and g as LAMMPS."""
    lat, cart, q = s["lattice"], s["cart"], s["q"]
    n = len(q)
    vol = abs(np.linalg.det(lat))
    widths = vol / np.array([np.linalg.norm(np.cross(lat[1], lat[2])),
                             np.linalg.norm(np.cross(lat[2], lat[0])),
                             np.linalg.norm(np.cross(lat[0], lat[1]))])
    nmax = np.ceil(RC_COUL / widths).astype(int) + 1
    grid = np.array(np.meshgrid(*[np.arange(-m, m + 1) for m in nmax], indexing="ij")).reshape(3, -1).T
    shifts = grid @ lat
    qq = K_MATSCREEN * np.outer(q, q)
    de = 0.0
    df = np.zeros((n, 3))
    w = np.zeros((3, 3))
    for sh in shifts:
        d = cart[:, None, :] - cart[None, :, :] - sh[None, None, :]   # r_i - (r_j + shift)
        r2 = np.einsum("ijk,ijk->ij", d, d)
        mask = (r2 < RC_COUL ** 2) & (r2 > 1e-12)
        if not mask.any():
            continue
        r = np.sqrt(np.where(mask, r2, 1.0))
        x = G_EWALD * r
        e2 = np.exp(-x * x)
        t = 1.0 / (1.0 + EWALD_P * x)
        approx = t * (A1 + t * (A2 + t * (A3 + t * (A4 + t * A5)))) * e2
        exact = erfc(x)
        pref = np.where(mask, qq / r, 0.0)
        de += 0.5 * np.sum(pref * (approx - exact))
        fpair = pref * ((approx - exact) + (EWALD_F - 2.0 / math.sqrt(math.pi)) * x * e2) / (r * r)
        df += np.einsum("ij,ijk->ik", fpair, d)
        w += 0.5 * np.einsum("ij,ija,ijb->ab", fpair, d, d)
    # LAMMPS pressure contribution P = w / V; our stress = -P
    sig = -w / vol * EV_A3_TO_GPA
    stress = np.array([sig[0, 0], sig[1, 1], sig[2, 2], sig[1, 2], sig[0, 2], sig[0, 1]])
    return de, df, stress


# ----------------------------------------------------------------------------- pymatgen
def pymatgen_ewald(s):
    st = Structure(Lattice(s["lattice"]), s["symbols"], s["cart"], coords_are_cartesian=True)
    st.add_oxidation_state_by_element(OXI)
    ew = EwaldSummation(st, acc_factor=PYMATGEN_ACC, compute_forces=True)
    return ew.total_energy, np.array(ew.forces)


def formula_units(s):
    st = Structure(Lattice(s["lattice"]), s["symbols"], s["cart"], coords_are_cartesian=True)
    return st.composition.get_reduced_formula_and_factor()


# ----------------------------------------------------------------------------- main
def main():
    if shutil.which("lmp") is None:
        sys.exit("make_reference.py: LAMMPS (lmp) not found")
    lmp_version = subprocess.run(["lmp", "-h"], capture_output=True, text=True).stdout
    lmp_version = next((l.strip() for l in lmp_version.splitlines() if "Large-scale" in l), "?")
    structs = all_structures()
    write_extxyz(os.path.join(HERE, "structures.extxyz"), structs)

    lines = [
        "# LAMMPS reference for `matscreen energy --potential bush1994` on structures.extxyz",
        "# generated by: tests/util/python.sh tests/regression/lammps/make_reference.py",
        "# LAMMPS: %s (Debian package lammps)" % lmp_version,
        "# per structure and TABLE (0 and 16), in a directory with NAME.data from make_reference.py:",
        "#   lmp -in bush1994_ewald.in -var name NAME -var table TABLE -log NAME.log -screen none -nocite",
        "# (buck/coul/long 12.0 12.0, cation-O 10 Å, O-O 12 Å, pair_modify table TABLE,",
        "#  kspace_style ewald 1e-12, kspace_modify gewald %.2f, dielectric %.16g so K = %.9f)"
        % (G_EWALD, DIELECTRIC, K_MATSCREEN),
        "# Units: eV, eV/Å, GPa; stress in Voigt order xx yy zz yz xz xy with the ASE sign",
        "# (tensile positive) = -(LAMMPS pressure tensor, compute pressure NULL virial).",
        "# Format per structure (SET: t0 = table 0, t16 = table 16, erfc = the part of the t0",
        "# numbers that comes from LAMMPS' approximate erfc, modelled in numpy: subtract it from",
        "# t0 to get the exact-erfc result):",
        "#   structure NAME NATOMS FORMULA NFU",
        "#   energy SET E_TOTAL [E_VDWL E_COUL E_LONG]      (LAMMPS pe, evdwl, ecoul, elong)",
        "#   stress SET S_XX S_YY S_ZZ S_YZ S_XZ S_XY",
        "#   force SET FX FY FZ                               (NATOMS lines, in frame order)",
        "#   lammps G_EWALD KSPACE_LINE",
        "#   end",
    ]
    pm_lines = [
        "# pymatgen EwaldSummation reference (electrostatics only) for",
        "# `matscreen energy --potential coulomb` on structures.extxyz",
        "# generated by: tests/util/python.sh tests/regression/lammps/make_reference.py",
        "# pymatgen %s: EwaldSummation(structure with Species oxidation states, acc_factor=%g,"
        % (getattr(pymatgen.core, "__version__", "?"), PYMATGEN_ACC),
        "# compute_forces=True); total_energy (eV) and forces (eV/Å)",
        "# Format per structure: structure NAME NATOMS / energy E / force FX FY FZ (NATOMS) / end",
    ]
    with tempfile.TemporaryDirectory() as work:
        shutil.copy(os.path.join(HERE, "bush1994_ewald.in"), work)
        for s in structs:
            formula, nfu = formula_units(s)
            n = len(s["symbols"])
            lines.append("structure %s %d %s %d" % (s["name"], n, formula, nfu))
            res = {}
            for table in (0, 16):
                r = res[table] = run_lammps(s, work, table)
                lines.append("energy t%d %.17g %.17g %.17g %.17g"
                             % (table, r["energy"], r["evdwl"], r["ecoul"], r["elong"]))
                lines.append("stress t%d " % table + " ".join("%.17g" % v for v in r["stress"]))
                for f in r["forces"]:
                    lines.append("force t%d %.17g %.17g %.17g" % (table, *f))
            de, df, ds = erfc_deviation(s)
            lines.append("energy erfc %.17g" % de)
            lines.append("stress erfc " + " ".join("%.17g" % v for v in ds))
            for f in df:
                lines.append("force erfc %.17g %.17g %.17g" % tuple(f))
            lines.append("lammps %.10g %s" % (res[0]["g_ewald"], res[0]["kspace"]))
            lines.append("end")
            e_pm, f_pm = pymatgen_ewald(s)
            pm_lines.append("structure %s %d" % (s["name"], n))
            pm_lines.append("energy %.17g" % e_pm)
            for f in f_pm:
                pm_lines.append("force %.17g %.17g %.17g" % tuple(f))
            pm_lines.append("end")
            print("%-40s E/fu %.8f  t16-(t0-erfc) %.2e  erfc %.2e eV/fu" %
                  (s["name"], res[16]["energy"] / nfu,
                   (res[16]["energy"] - res[0]["energy"] + de) / nfu, de / nfu), file=sys.stderr)
    with open(os.path.join(HERE, "lammps_reference.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(HERE, "pymatgen_coulomb.txt"), "w") as f:
        f.write("\n".join(pm_lines) + "\n")


if __name__ == "__main__":
    main()
