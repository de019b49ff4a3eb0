#!/usr/bin/env python3
"""Benchmark: single-point energy + forces + stress of many small cells, matscreen vs peers.

Run through scripts/bench/energy_small.sh (which picks a Python with numpy and pymatgen).

Data set (generated once into WORKDIR/small.extxyz, numpy seed 20261129): N cells of 5 to 120
atoms, all covered by bush1994, each randomly strained (symmetric strain, entries uniform in
[-3 %, 3 %]) and rattled (Gaussian, 0.05 Å): rocksalt AO (A = Mg, Ca, Sr, Ba; conventional
cell and 2x1x1, 2x2x1, 2x2x2), cubic perovskite ATiO3 (A = Ca, Sr, Ba; 1x1x1 to 3x3x2),
rutile TiO2 (1x1x1 to 3x3x2), corundum Al2O3 (rhombohedral 10 atoms, hexagonal 30, 2x2x1
hexagonal 120) and spinel MgAl2O4 (primitive 14, 2x1x1 primitive 28, conventional 56); the
prototype and supercell are drawn uniformly from that list. (Fluorite-type oxides are not
covered by bush1994's cation list, so spinel and corundum stand in for a third structure
family.) Cells are written in LAMMPS' restricted triclinic orientation so the very same
coordinates go to every code.

What is timed (all on one core, one process per code, start-up excluded):
- matscreen: `matscreen energy small.extxyz --potential bush1994 --json` (one process for all
  structures); its per-structure `time_s` (wall time of the model evaluation: Ewald set-up,
  neighbour pass with Buckingham, reciprocal space, forces and stress; file reading and JSON
  formatting excluded). Accuracy: bush1994's default, 1e-8.
- LAMMPS: ONE `lmp` process loops over the structures (clear, read_data, styles, run 0);
  Python's time.perf_counter() is read through LAMMPS' python command right before and right
  after `run 0`, i.e. the time covers LAMMPS' init (Ewald g and k vectors), setup (ghost
  atoms, neighbour list), one force + energy + virial evaluation and the thermo output of
  energy and pressure tensor. The cost of reading the clock (median of an empty interval,
  measured in the same process) is subtracted. Forces are written with write_dump after the
  second clock reading. Settings: buck/coul/long with bush1994 cutoffs, Coulomb cutoff 12 Å,
  kspace_style ewald 1e-8 (LAMMPS picks g_ewald and k vectors for that relative force
  accuracy), default erfc table (pair_modify table 12), neighbor skin 0, and `dielectric
  0.9999999668047382` so that LAMMPS' K (14.399645) becomes matscreen's 14.399645478.
- pymatgen: EwaldSummation(structure, compute_forces=True) then .total_energy and .forces
  (electrostatics only, default acc_factor 12), timed with time.perf_counter() per structure
  (building the pymatgen Structure excluded), on every K-th structure (K = --pymatgen-every);
  compared with matscreen `--potential coulomb --accuracy 1e-10` (electrostatics only,
  energy + forces + stress) on the same structures. pymatgen's default is more accurate than
  matscreen's default 1e-8 (relative energy errors ~1e-11 against ~1e-9), so matscreen is run
  at 1e-10 for this comparison (--coulomb-accuracy).
Accuracy: every code's energies are compared with matscreen at --accuracy 1e-12 (bush1994;
it agrees with LAMMPS Ewald 1e-12 + exact erfc to 1e-11 eV per formula unit, see
tests/regression/lammps) or 1e-13 (coulomb), and the errors are printed next to the timings.
Work per structure: the pair count within the 12 Å bush1994 cutoff is estimated as
N^2 / (2 V) * 4/3 pi 12^3 and printed with the time per pair.
"""
import argparse
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

SEED = 20261129
TYPES = ["Mg", "Ca", "Sr", "Ba", "Ti", "Al", "O"]
OXI = {"Mg": 2, "Ca": 2, "Sr": 2, "Ba": 2, "Ti": 4, "Al": 3, "O": -2}
MASS = {"Mg": 24.305, "Ca": 40.078, "Sr": 87.62, "Ba": 137.327, "Ti": 47.867, "Al": 26.9815,
        "O": 15.999}

LAMMPS_STYLES = """dielectric      0.9999999668047382
pair_style      buck/coul/long 12.0 12.0
pair_coeff      * * 0.0 1.0 0.0 10.0
pair_coeff      1 7 2457.243 0.2610 0.0 10.0
pair_coeff      2 7 2272.741 0.2986 0.0 10.0
pair_coeff      3 7 1956.702 0.3252 0.0 10.0
pair_coeff      4 7 4818.416 0.3067 0.0 10.0
pair_coeff      5 7 2088.107 0.2888 0.0 10.0
pair_coeff      6 7 2409.505 0.2649 0.0 10.0
pair_coeff      7 7 25.410 0.6937 32.32 12.0
kspace_style    ewald 1.0e-8
neighbor        0.0 bin
"""

LAMMPS_LOOP = """# One LAMMPS process, every structure: written by scripts/bench/energy_small.py
variable        i loop {n}
label           loop
clear
python          now return v_tnow format f here \"\"\"
def now():
    import time
    return time.perf_counter()
\"\"\"
variable        tnow python now
units           metal
atom_style      charge
boundary        p p p
box             tilt large
read_data       data/${{i}}.data
include         styles.in
thermo_style    custom step pe pxx pyy pzz pyz pxz pxy
thermo_modify   format float %.12g
print           "T0 ${{tnow}}"
run             0
print           "T1 ${{tnow}}"
write_dump      all custom forces/${{i}}.txt id fx fy fz modify sort id format float %.10g
next            i
jump            SELF loop
"""

LAMMPS_CALIBRATE = """# cost of reading the clock twice through LAMMPS' python command
variable        i loop 200
label           loop
clear
python          now return v_tnow format f here \"\"\"
def now():
    import time
    return time.perf_counter()
\"\"\"
variable        tnow python now
print           "T0 ${tnow}"
print           "T1 ${tnow}"
next            i
jump            SELF loop
"""


# ----------------------------------------------------------------------------- data set
def prototypes():
    """(name, species, lattice rows, fractional coordinates) of the unit cells."""
    from pymatgen.core import Lattice, Structure
    out = {}
    rs = Structure.from_spacegroup("Fm-3m", Lattice.cubic(1.0), ["Mg", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    out["rocksalt"] = ([s.specie.symbol for s in rs], np.eye(3), rs.frac_coords)
    out["perovskite"] = (["Sr", "Ti", "O", "O", "O"], np.eye(3),
                         np.array([[0, 0, 0], [.5, .5, .5], [.5, .5, 0], [.5, 0, .5], [0, .5, .5]]))
    ru = Structure.from_spacegroup("P4_2/mnm", Lattice.tetragonal(4.594, 2.959), ["Ti", "O"],
                                   [[0, 0, 0], [0.3048, 0.3048, 0]])
    out["rutile"] = ([s.specie.symbol for s in ru], ru.lattice.matrix, ru.frac_coords)
    co = Structure.from_spacegroup("R-3c", Lattice.hexagonal(4.7589, 12.991), ["Al", "O"],
                                   [[0, 0, 0.35216], [0.30624, 0, 0.25]])
    out["corundum_hex"] = ([s.specie.symbol for s in co], co.lattice.matrix, co.frac_coords)
    cp = co.get_primitive_structure()
    out["corundum_rh"] = ([s.specie.symbol for s in cp], cp.lattice.matrix, cp.frac_coords)
    # spinel Fd-3m origin choice 1: Mg 8a (0,0,0), Al 16d (5/8,5/8,5/8), O 32e u = 0.3874
    sp = Structure.from_spacegroup("Fd-3m", Lattice.cubic(8.0832), ["Mg", "Al", "O"],
                                   [[0, 0, 0], [0.625] * 3, [0.3874] * 3])
    out["spinel_conv"] = ([s.specie.symbol for s in sp], sp.lattice.matrix, sp.frac_coords)
    pp = sp.get_primitive_structure()
    out["spinel_prim"] = ([s.specie.symbol for s in pp], pp.lattice.matrix, pp.frac_coords)
    return out


ROCKSALT_A = {"Mg": 4.212, "Ca": 4.811, "Sr": 5.160, "Ba": 5.520}
PEROVSKITE_A = {"Ca": 3.84, "Sr": 3.905, "Ba": 4.00}
CHOICES = ([("rocksalt", m) for m in ([1, 1, 1], [2, 1, 1], [2, 2, 1], [2, 2, 2])] +
           [("perovskite", m) for m in ([1, 1, 1], [2, 1, 1], [2, 2, 1], [2, 2, 2], [3, 2, 2],
                                        [3, 3, 2])] +
           [("rutile", m) for m in ([1, 1, 1], [1, 1, 2], [2, 2, 1], [2, 2, 3], [3, 3, 2])] +
           [("corundum_rh", [1, 1, 1]), ("corundum_hex", [1, 1, 1]), ("corundum_hex", [2, 2, 1]),
            ("spinel_prim", [1, 1, 1]), ("spinel_prim", [2, 1, 1]), ("spinel_conv", [1, 1, 1])])


def lammps_frame(lat, frac):
    """Same crystal with rows (lx,0,0), (xy,ly,0), (xz,yz,lz) and tilts within half a length."""
    a, b, c = (np.array(v, float) for v in lat)
    M = np.eye(3)

    def params(a, b, c):
        lx = np.linalg.norm(a)
        xy = b @ a / lx
        ly = math.sqrt(b @ b - xy * xy)
        xz = c @ a / lx
        yz = (b @ c - xy * xz) / ly
        return lx, ly, math.sqrt(c @ c - xz * xz - yz * yz), xy, xz, yz

    for _ in range(20):
        lx, ly, lz, xy, xz, yz = params(a, b, c)
        if abs(yz) > 0.5 * ly + 1e-12:
            k = round(yz / ly); c = c - k * b; M[2] -= k * M[1]
        elif abs(xz) > 0.5 * lx + 1e-12:
            k = round(xz / lx); c = c - k * a; M[2] -= k * M[0]
        elif abs(xy) > 0.5 * lx + 1e-12:
            k = round(xy / lx); b = b - k * a; M[1] -= k * M[0]
        else:
            break
    lx, ly, lz, xy, xz, yz = params(a, b, c)
    f = frac @ np.linalg.inv(M)
    f -= np.floor(f)
    return np.array([[lx, 0, 0], [xy, ly, 0], [xz, yz, lz]]), f


def make_dataset(n, path):
    rng = np.random.default_rng(SEED)
    protos = prototypes()
    frames = []
    for k in range(n):
        proto, mult = CHOICES[rng.integers(len(CHOICES))]
        syms, lat, frac = protos[proto]
        syms = list(syms)
        lat = np.array(lat, float)
        if proto == "rocksalt":
            cat = ["Mg", "Ca", "Sr", "Ba"][rng.integers(4)]
            syms = [cat if s != "O" else "O" for s in syms]
            lat = lat * ROCKSALT_A[cat]
        elif proto == "perovskite":
            cat = ["Ca", "Sr", "Ba"][rng.integers(3)]
            syms = [cat if s == "Sr" else s for s in syms]
            lat = lat * PEROVSKITE_A[cat]
        # supercell
        m = np.array(mult)
        shifts = np.array([[i, j, l] for i in range(m[0]) for j in range(m[1]) for l in range(m[2])])
        frac = ((frac[None, :, :] + shifts[:, None, :]) / m).reshape(-1, 3)
        syms = syms * len(shifts)
        lat = lat * m[:, None]
        e = rng.uniform(-0.03, 0.03, (3, 3))
        e = 0.5 * (e + e.T)
        lat = lat @ (np.eye(3) + e)
        cart = frac @ lat + rng.normal(0.0, 0.05, (len(syms), 3))
        frac = cart @ np.linalg.inv(lat)
        lat, frac = lammps_frame(lat, frac)
        frames.append({"label": "%s_%dx%dx%d_%04d" % (proto, *mult, k), "symbols": syms,
                       "lattice": lat, "cart": frac @ lat})
    with open(path, "w") as f:
        for fr in frames:
            f.write("%d\n" % len(fr["symbols"]))
            f.write('Lattice="%s" Properties=species:S:1:pos:R:3:oxi_states:R:1 label="%s" pbc="T T T"\n'
                    % (" ".join("%.17g" % v for v in fr["lattice"].ravel()), fr["label"]))
            for s, r in zip(fr["symbols"], fr["cart"]):
                f.write("%-2s %.17g %.17g %.17g %d\n" % (s, r[0], r[1], r[2], OXI[s]))
    return frames


def read_dataset(path):
    frames = []
    with open(path) as f:
        while True:
            line = f.readline()
            if not line.strip():
                break
            n = int(line)
            head = f.readline()
            lat = np.array([float(x) for x in re.search(r'Lattice="([^"]*)"', head).group(1).split()]).reshape(3, 3)
            label = re.search(r'label="([^"]*)"', head).group(1)
            syms, cart = [], []
            for _ in range(n):
                w = f.readline().split()
                syms.append(w[0])
                cart.append([float(x) for x in w[1:4]])
            frames.append({"label": label, "symbols": syms, "lattice": lat, "cart": np.array(cart)})
    return frames


def formula_units(syms):
    from collections import Counter
    c = Counter(syms)
    return math.gcd(*c.values())


# ----------------------------------------------------------------------------- runners
def run_matscreen(binary, path, *args):
    cmd = [binary, "energy", path, "--json", *args]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit("energy_small: %s failed:\n%s" % (" ".join(cmd), p.stderr))
    res = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    return res, wall, " ".join(["matscreen"] + cmd[1:])


def write_lammps_inputs(frames, work):
    d = os.path.join(work, "lammps")
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(os.path.join(d, "data"))
    os.makedirs(os.path.join(d, "forces"))
    for i, fr in enumerate(frames, 1):
        lat = fr["lattice"]
        with open(os.path.join(d, "data", "%d.data" % i), "w") as f:
            f.write("%s\n\n%d atoms\n%d atom types\n\n" % (fr["label"], len(fr["symbols"]), len(TYPES)))
            f.write("0.0 %.17g xlo xhi\n0.0 %.17g ylo yhi\n0.0 %.17g zlo zhi\n"
                    % (lat[0, 0], lat[1, 1], lat[2, 2]))
            f.write("%.17g %.17g %.17g xy xz yz\n\nMasses\n\n" % (lat[1, 0], lat[2, 0], lat[2, 1]))
            for t, el in enumerate(TYPES, 1):
                f.write("%d %g\n" % (t, MASS[el]))
            f.write("\nAtoms # charge\n\n")
            for k, (s, r) in enumerate(zip(fr["symbols"], fr["cart"]), 1):
                f.write("%d %d %d %.17g %.17g %.17g\n" % (k, TYPES.index(s) + 1, OXI[s], *r))
    with open(os.path.join(d, "styles.in"), "w") as f:
        f.write(LAMMPS_STYLES)
    with open(os.path.join(d, "loop.in"), "w") as f:
        f.write(LAMMPS_LOOP.format(n=len(frames)))
    with open(os.path.join(d, "calibrate.in"), "w") as f:
        f.write(LAMMPS_CALIBRATE)
    return d


def parse_intervals(log):
    t0s = [float(l.split()[1]) for l in log if l.startswith("T0 ")]
    t1s = [float(l.split()[1]) for l in log if l.startswith("T1 ")]
    return [b - a for a, b in zip(t0s, t1s)]


def run_lammps(frames, work):
    d = write_lammps_inputs(frames, work)
    cmd_cal = ["lmp", "-in", "calibrate.in", "-log", "calibrate.log", "-screen", "none", "-nocite"]
    subprocess.run(cmd_cal, cwd=d, check=True)
    overhead = statistics.median(parse_intervals(open(os.path.join(d, "calibrate.log")).read().splitlines()))
    cmd = ["lmp", "-in", "loop.in", "-log", "loop.log", "-screen", "none", "-nocite"]
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=d, check=True)
    wall = time.perf_counter() - t0
    log = open(os.path.join(d, "loop.log")).read().splitlines()
    times = [t - overhead for t in parse_intervals(log)]
    energies, stresses = [], []
    for k, line in enumerate(log):
        if line.split()[:2] == ["Step", "PotEng"]:
            # warnings may come between the header and the values
            v = [float(x) for x in next(l for l in log[k + 1:] if l.split()[:1] == ["0"]).split()]
            energies.append(v[1])
            # pressure tensor in bar -> our stress in GPa (static: stress = -P)
            stresses.append([-x / 1.6021765e6 * 160.2176634 for x in v[2:8]])
    forces = []
    for i in range(1, len(frames) + 1):
        rows = open(os.path.join(d, "forces", "%d.txt" % i)).read().splitlines()
        k = rows.index("ITEM: ATOMS id fx fy fz")
        forces.append(np.array([[float(x) for x in r.split()[1:]] for r in rows[k + 1:]]))
    if len(times) != len(frames) or len(energies) != len(frames):
        sys.exit("energy_small: LAMMPS gave %d timings, %d energies for %d structures"
                 % (len(times), len(energies), len(frames)))
    return times, energies, stresses, forces, overhead, wall, " ".join(cmd)


def run_pymatgen(frames, idx):
    from pymatgen.analysis.ewald import EwaldSummation
    from pymatgen.core import Lattice, Species, Structure
    times, energies = [], []
    for i in idx:
        fr = frames[i]
        st = Structure(Lattice(fr["lattice"]), [Species(s, OXI[s]) for s in fr["symbols"]],
                       fr["cart"], coords_are_cartesian=True)
        t0 = time.perf_counter()
        ew = EwaldSummation(st, compute_forces=True)
        e = ew.total_energy
        f = ew.forces
        times.append(time.perf_counter() - t0)
        energies.append(e)
        del f
    return times, energies


# ----------------------------------------------------------------------------- report
def med_us(x):
    return 1e6 * statistics.median(x)


def errors(vals, refs, nfu):
    d = [abs(v - r) / n for v, r, n in zip(vals, refs, nfu)]
    rel = [abs(v - r) / abs(r) for v, r in zip(vals, refs)]
    return statistics.median(d), max(d), statistics.median(rel), max(rel)


def main():
    root = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="number of structures (default 1000)")
    ap.add_argument("--bin", default=os.environ.get("MATSCREEN_BIN", os.path.join(root, "build", "matscreen")))
    ap.add_argument("--workdir", default=os.path.join(root, "build", "bench-small"))
    ap.add_argument("--pymatgen-every", type=int, default=5,
                    help="time pymatgen on every K-th structure (default 5)")
    ap.add_argument("--coulomb-accuracy", default="1e-10",
                    help="matscreen --accuracy for the comparison with pymatgen (default 1e-10)")
    ap.add_argument("--no-lammps", action="store_true")
    ap.add_argument("--no-pymatgen", action="store_true")
    a = ap.parse_args()

    os.makedirs(a.workdir, exist_ok=True)
    path = os.path.join(a.workdir, "small_%d.extxyz" % a.n)
    if not os.path.exists(path):
        make_dataset(a.n, path)
    frames = read_dataset(path)
    natoms = [len(f["symbols"]) for f in frames]
    nfu = [formula_units(f["symbols"]) for f in frames]
    print("data set: %d structures, %d-%d atoms (median %d), %s"
          % (len(frames), min(natoms), max(natoms), statistics.median(natoms), os.path.relpath(path)))

    ref, _, _ = run_matscreen(a.bin, path, "--potential", "bush1994", "--accuracy", "1e-12")
    ref_e = [r["energy_eV"] for r in ref]
    ref_s = [np.array(r["stress_GPa"]) for r in ref]
    ref_f = [np.array(r["forces_eV_per_A"]) for r in ref]

    ms, ms_wall, ms_cmd = run_matscreen(a.bin, path, "--potential", "bush1994")
    ms_t = [r["time_s"] for r in ms]
    bad = [r["label"] for r in ms if r["status"] != "ok"]
    if bad:
        print("warning: %d structures not ok: %s" % (len(bad), bad[:5]))
    e_ms = errors([r["energy_eV"] for r in ms], ref_e, nfu)
    f_ms = max(np.abs(np.array(r["forces_eV_per_A"]) - f).max() for r, f in zip(ms, ref_f))
    s_ms = max(np.abs(np.array(r["stress_GPa"]) - s).max() for r, s in zip(ms, ref_s))
    print("\n== bush1994: energy + forces + stress ==")
    print("matscreen: %s" % ms_cmd)
    print("  median %.1f us/structure (mean %.1f, total of time_s %.3f s; process wall %.2f s)"
          % (med_us(ms_t), 1e6 * statistics.mean(ms_t), sum(ms_t), ms_wall))
    print("  error vs 1e-12: energy median %.1e max %.1e eV/f.u. (rel. median %.1e max %.1e);"
          " forces max %.1e eV/A; stress max %.1e GPa" % (*e_ms, f_ms, s_ms))
    pairs = [len(f["symbols"]) ** 2 / (2 * abs(np.linalg.det(f["lattice"]))) * 4 / 3 * math.pi * 12.0 ** 3
             for f in frames]
    print("  pairs within 12 A (estimate): median %.0f; matscreen median %.0f ns per pair"
          % (statistics.median(pairs), 1e9 * statistics.median([t / p for t, p in zip(ms_t, pairs)])))
    by_size = {}
    for n, t in zip(natoms, ms_t):
        by_size.setdefault(n, []).append(t)
    print("  median by size: " + ", ".join("%d at. %.0f us" % (n, med_us(v)) for n, v in sorted(by_size.items())))

    if not a.no_lammps and shutil.which("lmp"):
        lt, le, ls, lf, ovh, lwall, lcmd = run_lammps(frames, a.workdir)
        e_l = errors(le, ref_e, nfu)
        f_l = max(np.abs(f - r).max() for f, r in zip(lf, ref_f))
        s_l = max(np.abs(np.array(s) - r).max() for s, r in zip(ls, ref_s))
        print("LAMMPS: (cd %s && %s)" % (os.path.relpath(os.path.join(a.workdir, "lammps")), lcmd))
        print("  median %.1f us/structure (mean %.1f; clock overhead %.1f us subtracted;"
              " process wall %.2f s)" % (med_us(lt), 1e6 * statistics.mean(lt), 1e6 * ovh, lwall))
        print("  error vs 1e-12: energy median %.1e max %.1e eV/f.u. (rel. median %.1e max %.1e);"
              " forces max %.1e eV/A; stress max %.1e GPa" % (*e_l, f_l, s_l))
        ratio = statistics.median(lt) / statistics.median(ms_t)
        print("  ratio of medians LAMMPS / matscreen: %.1fx   (goal >= 20x: %s)"
              % (ratio, "met" if ratio >= 20 else "NOT met"))
        per = [l / m for l, m in zip(lt, ms_t)]
        print("  per-structure ratio: median %.1fx, min %.1fx, max %.1fx"
              % (statistics.median(per), min(per), max(per)))
        print("  LAMMPS median %.0f ns per pair" % (1e9 * statistics.median([t / p for t, p in zip(lt, pairs)])))
    print("  matscreen median < 50 us: %s" % ("met" if med_us(ms_t) < 50 else "NOT met"))

    if not a.no_pymatgen:
        idx = list(range(0, len(frames), a.pymatgen_every))
        cref, _, _ = run_matscreen(a.bin, path, "--potential", "coulomb", "--accuracy", "1e-13")
        cms, _, cms_cmd = run_matscreen(a.bin, path, "--potential", "coulomb",
                                        "--accuracy", a.coulomb_accuracy)
        pt, pe = run_pymatgen(frames, idx)
        ct = [cms[i]["time_s"] for i in idx]
        cr = [cref[i]["energy_eV"] for i in idx]
        sub_nfu = [nfu[i] for i in idx]
        e_c = errors([cms[i]["energy_eV"] for i in idx], cr, sub_nfu)
        e_p = errors(pe, cr, sub_nfu)
        import pymatgen.core
        print("\n== electrostatics only (Ewald), %d structures (every %d-th; %d-%d atoms, median %d) =="
              % (len(idx), a.pymatgen_every, min(natoms[i] for i in idx), max(natoms[i] for i in idx),
                 statistics.median([natoms[i] for i in idx])))
        print("matscreen: %s" % cms_cmd)
        print("  median %.1f us/structure; error vs 1e-13: energy median %.1e max %.1e eV/f.u. (rel. max %.1e)"
              % (med_us(ct), e_c[0], e_c[1], e_c[3]))
        print("pymatgen %s EwaldSummation(s, compute_forces=True): total_energy + forces"
              % pymatgen.core.__version__)
        print("  median %.1f us/structure; error vs 1e-13: energy median %.1e max %.1e eV/f.u. (rel. max %.1e)"
              % (med_us(pt), e_p[0], e_p[1], e_p[3]))
        ratio = statistics.median(pt) / statistics.median(ct)
        print("  ratio of medians pymatgen / matscreen: %.0fx   (goal >= 200x: %s)"
              % (ratio, "met" if ratio >= 200 else "NOT met"))
        # the bush1994 timing (Ewald + Buckingham) on the same subset, for the stated goal
        bt = [ms_t[i] for i in idx]
        print("  ratio pymatgen (Ewald only) / matscreen bush1994 (Ewald + Buckingham): %.0fx"
              % (statistics.median(pt) / statistics.median(bt)))


if __name__ == "__main__":
    main()
