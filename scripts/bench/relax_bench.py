#!/usr/bin/env python3
"""Benchmark: full-cell relaxation of many small cells, matscreen (PETSc TAO) vs LAMMPS.

Run through scripts/bench/relax_bench.sh (which picks a Python with numpy and pymatgen).

Data set (generated into WORKDIR/relax.extxyz, numpy seed 20261201): N cells (default 120) of
5 to 120 atoms, all covered by bush1994, built with pymatgen from experimental-like
prototypes and supercells of them: rocksalt AO (A = Mg, Ca, Sr, Ba), cubic perovskites
(SrTiO3, BaTiO3, CaTiO3, LaAlO3), rutile TiO2, corundum (Al2O3, Fe2O3, Ga2O3), spinel
(MgAl2O4, MgGa2O4), ilmenite MgTiO3, Ruddlesden-Popper Sr2TiO4 and garnet Y3Al5O12 (80-atom
primitive cell). Each is strained (random symmetric strain, entries uniform in [-3 %, 3 %])
and rattled (every atom displaced by a random vector whose length is uniform in
[0.02, 0.10] Å). Cells are written in LAMMPS' restricted triclinic orientation so the very
same coordinates go to both codes.

Relaxation: positions and all six cell components to zero pressure, converged when the
largest atomic force is below FMAX (default 1e-3 eV/Å) and every stress component below SMAX
(default 0.01 GPa).
- matscreen: `matscreen relax relax.extxyz --potential bush1994 --cell full --fmax FMAX
  --smax SMAX --json` (one process, default TAO type lmvm, Coulomb accuracy 1e-8); the
  per-structure time is its `time_s` (wall time of ms_relax_run; file reading and JSON
  formatting excluded). Its total wall time is also printed.
- LAMMPS (Debian's lmp, one process, one core): a loop over the structures (clear,
  read_data, buck/coul/long with the bush1994 cutoffs, kspace_style ewald 1e-8, K matched
  through `dielectric`, pair_modify table 0), then `fix box/relax tri 0.0 vmax 0.001`,
  `min_style cg`, `min_modify norm max` and `minimize 0 FMAX 10000 100000`, repeated (at most
  6 times) while the largest force is above FMAX or a pressure component above SMAX (box/relax
  measures strain from the box at the start of each minimize). The per-structure time is read
  with Python's time.perf_counter() through LAMMPS' python command before the first and after
  the last minimize (so it includes LAMMPS' per-minimize set-up, which is part of what a
  relaxation costs, but not reading the data file); the cost of reading the clock is
  measured and subtracted. The total wall time of the process is also printed.
Both codes run --repeat times (default 2) one after the other; the tables use each structure's
smallest time (the machine is shared, so single runs pick up noise), the totals the smallest.
LAMMPS' default erfc table (pair_modify table 12) makes its energies too noisy for this
tolerance: its line search stops ("linesearch alpha is zero") in almost every minimize and
only 5 of 120 structures converged in a test run, so the exact polynomial (table 0) is used.
Accuracy: for structures that both codes converge, the final energies per atom are compared
(the two can also end in different local minima from the same rattled start; the table shows
how often the energies agree within 1e-4 eV/atom).

Results and the machine: docs/performance.md, section "Relaxation".
"""
import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

SEED = 20261201
TYPES = ["Mg", "Ca", "Sr", "Ba", "Ti", "Al", "O", "Fe", "Ga", "La", "Y"]
OXI = {"Mg": 2, "Ca": 2, "Sr": 2, "Ba": 2, "Ti": 4, "Al": 3, "O": -2, "Fe": 3, "Ga": 3, "La": 3,
       "Y": 3}
MASS = {"Mg": 24.305, "Ca": 40.078, "Sr": 87.62, "Ba": 137.327, "Ti": 47.867, "Al": 26.9815,
        "O": 15.999, "Fe": 55.845, "Ga": 69.723, "La": 138.905, "Y": 88.906}
# bush1994 cation-O Buckingham terms (A eV, rho Å), C = 0, cutoff 10 Å; O-O 25.410/0.6937/32.32,
# cutoff 12 Å (inputs/potentials/bush1994.yaml)
BUCK = {"Mg": (2457.243, 0.2610), "Ca": (2272.741, 0.2986), "Sr": (1956.702, 0.3252),
        "Ba": (4818.416, 0.3067), "Ti": (2088.107, 0.2888), "Al": (2409.505, 0.2649),
        "Fe": (3219.335, 0.2641), "Ga": (2339.776, 0.2742), "La": (5436.827, 0.2939),
        "Y": (1519.279, 0.3291)}


# ----------------------------------------------------------------------------- data set
def prototypes():
    """name -> pymatgen Structure (conventional or primitive cell)."""
    from pymatgen.core import Lattice, Structure
    fs = Structure.from_spacegroup
    out = {}
    for a_el, a in [("Mg", 4.212), ("Ca", 4.811), ("Sr", 5.160), ("Ba", 5.520)]:
        out[a_el + "O"] = fs("Fm-3m", Lattice.cubic(a), [a_el, "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    for a_el, b_el, a in [("Sr", "Ti", 3.905), ("Ba", "Ti", 4.00), ("Ca", "Ti", 3.84),
                          ("La", "Al", 3.79)]:
        out[a_el + b_el + "O3"] = Structure(
            Lattice.cubic(a), [a_el, b_el, "O", "O", "O"],
            [[0, 0, 0], [.5, .5, .5], [.5, .5, 0], [.5, 0, .5], [0, .5, .5]])
    out["TiO2"] = fs("P4_2/mnm", Lattice.tetragonal(4.594, 2.959), ["Ti", "O"],
                     [[0, 0, 0], [0.3048, 0.3048, 0]])
    for m, a, c, z, x in [("Al", 4.7589, 12.991, 0.35216, 0.30624), ("Fe", 5.035, 13.75, 0.3553, 0.3059),
                          ("Ga", 4.983, 13.433, 0.3554, 0.3049)]:
        out[m + "2O3"] = fs("R-3c", Lattice.hexagonal(a, c), [m, "O"], [[0, 0, z], [x, 0, 0.25]])
    for b, a, u in [("Al", 8.0832, 0.3874), ("Ga", 8.28, 0.3835)]:
        out["Mg" + b + "2O4"] = fs("Fd-3m", Lattice.cubic(a), ["Mg", b, "O"],
                                   [[0, 0, 0], [0.625, 0.625, 0.625], [u, u, u]])
    out["MgTiO3"] = fs("R-3", Lattice.hexagonal(5.054, 13.898), ["Mg", "Ti", "O"],
                       [[0, 0, 0.3558], [0, 0, 0.1445], [0.316, 0.021, 0.246]])
    out["Sr2TiO4"] = fs("I4/mmm", Lattice.tetragonal(3.884, 12.60), ["Sr", "Ti", "O", "O"],
                        [[0, 0, 0.355], [0, 0, 0], [0, 0.5, 0], [0, 0, 0.152]])
    out["Y3Al5O12"] = fs("Ia-3d", Lattice.cubic(12.00), ["Y", "Al", "Al", "O"],
                         [[0.125, 0, 0.25], [0, 0, 0], [0.375, 0, 0.25], [-0.0306, 0.0512, 0.1500]])
    return out


def variants(protos):
    """(name, structure) cells of 5..120 atoms: primitive, conventional and supercells."""
    out = []
    for name, s in protos.items():
        prim = s.get_primitive_structure()
        cells = {len(prim): prim, len(s): s}
        for sc in ([2, 1, 1], [2, 2, 1], [2, 2, 2], [3, 2, 2], [3, 3, 2]):
            for base in (prim, s):
                if len(base) * int(np.prod(sc)) <= 120:
                    t = base.copy()
                    t.make_supercell(sc)
                    cells.setdefault(len(t), t)
        for n, t in sorted(cells.items()):
            if 5 <= n <= 120:
                out.append(("%s_%d" % (name, n), t))
    return out


def lammps_frame(lat, frac):
    """Rows (lx,0,0), (xy,ly,0), (xz,yz,lz) of the same lattice; fractional coordinates kept."""
    a, b, c = (np.array(v, float) for v in lat)
    lx = np.linalg.norm(a)
    xy = b @ a / lx
    ly = math.sqrt(b @ b - xy * xy)
    xz = c @ a / lx
    yz = (b @ c - xy * xz) / ly
    lz = math.sqrt(c @ c - xz * xz - yz * yz)
    return np.array([[lx, 0, 0], [xy, ly, 0], [xz, yz, lz]]), frac % 1.0


def dataset(n):
    rng = np.random.default_rng(SEED)
    base = variants(prototypes())
    out = []
    for k in range(n):
        name, s = base[k % len(base)]
        e = rng.uniform(-0.03, 0.03, (3, 3))
        e = 0.5 * (e + e.T)
        lat = s.lattice.matrix @ (np.eye(3) + e)
        d = rng.normal(size=(len(s), 3))
        d *= (rng.uniform(0.02, 0.10, len(s)) / np.linalg.norm(d, axis=1))[:, None]
        cart = s.frac_coords @ lat + d
        frac = cart @ np.linalg.inv(lat)
        if np.linalg.det(lat) < 0:
            raise ValueError("left-handed cell")
        lat, frac = lammps_frame(lat, frac)
        out.append({"name": "%s_%d" % (name, k), "lattice": lat, "frac": frac,
                    "symbols": [site.specie.symbol for site in s]})
    return out


def write_extxyz(path, structs):
    with open(path, "w") as f:
        for s in structs:
            cart = s["frac"] @ s["lattice"]
            f.write("%d\n" % len(cart))
            f.write('Lattice="%s" Properties=species:S:1:pos:R:3:oxi_states:R:1 label="%s" pbc="T T T"\n'
                    % (" ".join("%.17g" % v for v in s["lattice"].ravel()), s["name"]))
            for sym, r in zip(s["symbols"], cart):
                f.write("%-2s %24.17g %24.17g %24.17g %5.1f\n" % (sym, r[0], r[1], r[2], OXI[sym]))


def write_data(path, s):
    lat = s["lattice"]
    cart = s["frac"] @ lat
    with open(path, "w") as f:
        f.write("%s (scripts/bench/relax_bench.py)\n\n%d atoms\n%d atom types\n\n"
                % (s["name"], len(cart), len(TYPES)))
        f.write("0 %.17g xlo xhi\n0 %.17g ylo yhi\n0 %.17g zlo zhi\n%.17g %.17g %.17g xy xz yz\n\n"
                % (lat[0, 0], lat[1, 1], lat[2, 2], lat[1, 0], lat[2, 0], lat[2, 1]))
        f.write("Masses\n\n" + "".join("%d %g\n" % (t + 1, MASS[el]) for t, el in enumerate(TYPES)))
        f.write("\nAtoms # charge\n\n")
        for i, (sym, r) in enumerate(zip(s["symbols"], cart), 1):
            f.write("%d %d %.1f %.17g %.17g %.17g\n" % (i, TYPES.index(sym) + 1, OXI[sym], *r))


# ----------------------------------------------------------------------------- LAMMPS
def lammps_styles(accuracy, table):
    o = TYPES.index("O") + 1
    lines = ["dielectric      0.9999999668047382",
             "pair_style      buck/coul/long 12.0 12.0",
             "pair_coeff      * * 0.0 1.0 0.0 10.0"]
    for el, (A, rho) in BUCK.items():
        t = TYPES.index(el) + 1
        lines.append("pair_coeff      %d %d %.3f %.4f 0.0 10.0" % (min(t, o), max(t, o), A, rho))
    lines += ["pair_coeff      %d %d 25.410 0.6937 32.32 12.0" % (o, o),
              "pair_modify     table %d" % table,
              "kspace_style    ewald %g" % accuracy,
              "neighbor        1.0 bin",
              "neigh_modify    delay 0 every 1 check yes"]
    return "\n".join(lines) + "\n"


CLOCK = '''python          now return v_tnow format f here """
def now():
    import time
    return time.perf_counter()
"""
variable        tnow python now
'''

LOOP = """# One LAMMPS process relaxes every structure: written by scripts/bench/relax_bench.py
variable        i loop {n}
label           loop
clear
{clock}units           metal
atom_style      charge
boundary        p p p
box             tilt large
read_data       data/${{i}}.data
include         styles.in
variable        fn atom sqrt(fx*fx+fy*fy+fz*fz)
compute         fmax all reduce max v_fn
thermo_style    custom step pe c_fmax pxx pyy pzz pyz pxz pxy
thermo          100000
fix             1 all box/relax tri 0.0 vmax 0.001
min_style       cg
min_modify      norm max
variable        rep loop 6
print           "T0 ${{tnow}}"
label           again
minimize        0 {fmax} 10000 100000
if              "$(c_fmax) <= {fmax} && $(abs(pxx)) <= {sbar} && $(abs(pyy)) <= {sbar} && $(abs(pzz)) <= {sbar} && $(abs(pyz)) <= {sbar} && $(abs(pxz)) <= {sbar} && $(abs(pxy)) <= {sbar}" then "jump SELF done"
next            rep
jump            SELF again
label           done
print           "T1 ${{tnow}}"
print           "RESULT ${{i}} $(pe:%.12g) $(c_fmax:%.6g) $(vol:%.10g) $(pxx:%.6g) $(pyy:%.6g) $(pzz:%.6g) $(pyz:%.6g) $(pxz:%.6g) $(pxy:%.6g)"
variable        rep delete
next            i
jump            SELF loop
"""

CALIBRATE = """variable        i loop 200
label           loop
clear
{clock}print           "T0 ${{tnow}}"
print           "T1 ${{tnow}}"
next            i
jump            SELF loop
"""


def clock_pairs(text):
    t0 = [float(l.split()[1]) for l in text.splitlines() if l.startswith("T0 ")]
    t1 = [float(l.split()[1]) for l in text.splitlines() if l.startswith("T1 ")]
    return [b - a for a, b in zip(t0, t1)]


def run_lammps(workdir, structs, fmax, smax, accuracy, table):
    ddir = os.path.join(workdir, "data")
    os.makedirs(ddir, exist_ok=True)
    for i, s in enumerate(structs, 1):
        write_data(os.path.join(ddir, "%d.data" % i), s)
    with open(os.path.join(workdir, "styles.in"), "w") as f:
        f.write(lammps_styles(accuracy, table))
    with open(os.path.join(workdir, "loop.in"), "w") as f:
        f.write(LOOP.format(n=len(structs), clock=CLOCK, fmax=fmax, sbar=smax * 1e4))
    with open(os.path.join(workdir, "calibrate.in"), "w") as f:
        f.write(CALIBRATE.format(clock=CLOCK))
    cal = subprocess.run(["lmp", "-in", "calibrate.in", "-log", "none", "-nocite"], cwd=workdir,
                         capture_output=True, text=True, check=True).stdout
    clock_cost = statistics.median(clock_pairs(cal))
    t0 = time.perf_counter()
    p = subprocess.run(["lmp", "-in", "loop.in", "-log", "lammps.log", "-screen", "none", "-nocite"],
                       cwd=workdir, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    log = open(os.path.join(workdir, "lammps.log")).read()
    if p.returncode:
        sys.exit("LAMMPS failed (%d): %s" % (p.returncode, log[-2000:]))
    times = [t - clock_cost for t in clock_pairs(log)]
    res = {}
    for l in log.splitlines():
        if l.startswith("RESULT "):
            w = l.split()
            p = [abs(float(x)) * 1e-4 for x in w[5:11]]  # bar -> GPa
            res[int(w[1]) - 1] = {"energy": float(w[2]), "fmax": float(w[3]), "smax": max(p),
                                  "volume": float(w[4])}
    # force evaluations per structure: the minimize runs before each RESULT line
    nev, cur = [], 0
    for l in log.splitlines():
        if l.strip().startswith("Iterations, force evaluations"):
            cur += int(l.split("=")[1].split()[1])
        elif l.startswith("RESULT "):
            nev.append(cur)
            cur = 0
    for i, n in enumerate(nev):
        if i in res:
            res[i]["evaluations"] = n
    return times, res, wall, clock_cost


# ----------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=120)
    ap.add_argument("--bin", default=os.environ.get("MATSCREEN_BIN", "build/matscreen"))
    ap.add_argument("--workdir", default="build/bench-relax")
    ap.add_argument("--fmax", type=float, default=1e-3)
    ap.add_argument("--smax", type=float, default=0.01)
    ap.add_argument("--no-lammps", action="store_true")
    ap.add_argument("--lammps-accuracy", type=float, default=1e-8,
                    help="kspace_style ewald accuracy (relative force)")
    ap.add_argument("--lammps-table", type=int, default=0, help="pair_modify table N (0: no table, the erfc polynomial)")
    ap.add_argument("--extra", default="", help="extra matscreen relax arguments")
    ap.add_argument("--repeat", type=int, default=2,
                    help="run each code this many times; per-structure minimum times")
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    structs = dataset(a.n)
    xyz = os.path.join(a.workdir, "relax.extxyz")
    write_extxyz(xyz, structs)
    natoms = [len(s["symbols"]) for s in structs]
    print("data set: %d structures, %d..%d atoms (median %d), fmax %g eV/Å, smax %g GPa"
          % (len(structs), min(natoms), max(natoms), statistics.median(natoms), a.fmax, a.smax))

    cmd = [a.bin, "relax", xyz, "--potential", "bush1994", "--cell", "full", "--fmax", str(a.fmax),
           "--smax", str(a.smax), "--json"] + a.extra.split()
    ms_t, wall_ms = None, float("inf")
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True)
        wall_ms = min(wall_ms, time.perf_counter() - t0)
        if p.returncode:
            sys.exit("matscreen failed: " + p.stderr)
        ms = [json.loads(l) for l in p.stdout.splitlines()]
        t = [r["time_s"] for r in ms]
        ms_t = t if ms_t is None else [min(x, y) for x, y in zip(ms_t, t)]
    conv = [r["status"] == "converged" for r in ms]
    statuses = {}
    for r in ms:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    print("\nmatscreen: %s" % " ".join(cmd))
    print("  converged %d/%d (%.1f %%), statuses %s" % (sum(conv), len(ms), 100 * sum(conv) / len(ms), statuses))
    print("  time per relaxation: median %.2f ms, mean %.2f ms, max %.2f ms; total wall %.2f s"
          % (1e3 * statistics.median(ms_t), 1e3 * statistics.mean(ms_t), 1e3 * max(ms_t), wall_ms))
    print("  iterations: median %d, max %d; energy evaluations: median %d, mean %.1f, max %d"
          % (statistics.median(r["iterations"] for r in ms), max(r["iterations"] for r in ms),
             statistics.median(r["energy_evaluations"] for r in ms),
             statistics.mean(r["energy_evaluations"] for r in ms), max(r["energy_evaluations"] for r in ms)))
    for r in ms:
        if r["status"] != "converged":
            print("    not converged: %s %s (%s)" % (r["label"], r["status"], r["detail"]))
    if a.no_lammps or shutil.which("lmp") is None:
        return
    lt, lwall = None, float("inf")
    for _ in range(a.repeat):
        t, lres, w, clock = run_lammps(a.workdir, structs, a.fmax, a.smax, a.lammps_accuracy,
                                       a.lammps_table)
        lt = t if lt is None else [min(x, y) for x, y in zip(lt, t)]
        lwall = min(lwall, w)
    lconv = [i in lres and lres[i]["fmax"] <= a.fmax and lres[i]["smax"] <= a.smax for i in range(len(structs))]
    print("\nLAMMPS: lmp -in loop.in (one process; clock read cost %.1f µs subtracted)" % (1e6 * clock))
    print("  converged %d/%d (%.1f %%)" % (sum(lconv), len(structs), 100 * sum(lconv) / len(structs)))
    print("  time per relaxation: median %.2f ms, mean %.2f ms, max %.2f ms; total wall %.2f s"
          % (1e3 * statistics.median(lt), 1e3 * statistics.mean(lt), 1e3 * max(lt), lwall))
    lev = [lres[i].get("evaluations", 0) for i in range(len(structs))]
    mev = [r["energy_evaluations"] for r in ms]
    print("  force evaluations: median %d, mean %.1f (matscreen: median %d, mean %.1f)"
          % (statistics.median(lev), statistics.mean(lev), statistics.median(mev), statistics.mean(mev)))
    print("  time per evaluation (total time / total evaluations): LAMMPS %.3f ms, matscreen %.3f ms"
          % (1e3 * sum(lt) / sum(lev), 1e3 * sum(ms_t) / sum(mev)))
    ratio = [l / m for l, m in zip(lt, ms_t)]
    print("\nratio LAMMPS / matscreen time per structure: median %.1f, of medians %.1f, of totals %.1f"
          % (statistics.median(ratio), statistics.median(lt) / statistics.median(ms_t), sum(lt) / sum(ms_t)))
    de = [abs(ms[i]["energy_per_atom_eV"] - lres[i]["energy"] / natoms[i])
          for i in range(len(structs)) if conv[i] and lconv[i]]
    if de:
        print("final energy |matscreen - LAMMPS| per atom where both converge (%d): median %.2e eV, "
              "max %.2e eV; within 1e-4 eV/atom: %d; within 1e-3: %d"
              % (len(de), statistics.median(de), max(de), sum(d <= 1e-4 for d in de), sum(d <= 1e-3 for d in de)))
        lower = sum(ms[i]["energy_per_atom_eV"] < lres[i]["energy"] / natoms[i] - 1e-4
                    for i in range(len(structs)) if conv[i] and lconv[i])
        print("  matscreen lower by > 1e-4 eV/atom: %d, LAMMPS lower: %d" % (lower, sum(d > 1e-4 for d in de) - lower))
    # by size class
    for lo, hi in [(5, 20), (21, 60), (61, 120)]:
        idx = [i for i in range(len(structs)) if lo <= natoms[i] <= hi]
        if idx:
            print("  %3d-%3d atoms (%3d): matscreen median %.2f ms, LAMMPS median %.2f ms, ratio %.1f; "
                  "per evaluation matscreen %.3f ms, LAMMPS %.3f ms"
                  % (lo, hi, len(idx), 1e3 * statistics.median(ms_t[i] for i in idx),
                     1e3 * statistics.median(lt[i] for i in idx),
                     statistics.median(lt[i] for i in idx) / statistics.median(ms_t[i] for i in idx),
                     1e3 * sum(ms_t[i] for i in idx) / sum(mev[i] for i in idx),
                     1e3 * sum(lt[i] for i in idx) / sum(lev[i] for i in idx)))


if __name__ == "__main__":
    main()
