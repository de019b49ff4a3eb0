#!/usr/bin/env python3
"""Benchmark: one large cell, matscreen smooth PME vs LAMMPS PPPM, one core each.

Run through scripts/bench/energy_large.sh. Structures: cubic SrTiO3 (a = 3.905 Å) supercells
n x n x n (5 n^3 atoms; default n = 6, 13, 24: 1080, 10985, 69120 atoms), rattled by 0.05 Å
(numpy seed 20261129), bush1994 Buckingham terms (10 Å cation-O, 12 Å O-O) + electrostatics.

- matscreen: `matscreen energy CELL.extxyz --potential bush1994 --method pme --accuracy 1e-5
  --json`; the time is its `time_s` (energy, forces and stress; file reading excluded).
  Accuracy 1e-5 means (include/matscreen/ewald.h, docs/models.md) energy error
  <= 1e-5 E_scale and per-atom force error <= 1e-5 F_scale, F_scale = K <q^2> / a_ws^2
  (46 eV/Å for SrTiO3).
- LAMMPS: buck/coul/long with the same cutoffs, kspace_style pppm 1e-5 (relative RMS force
  error against the force between two unit charges 1 Å apart, 14.4 eV/Å), LAMMPS' default
  order 5 and erfc table, neighbor skin 0, `dielectric 0.9999999668047382` (LAMMPS' K
  14.399645 becomes matscreen's 14.399645478), Coulomb cutoff --lammps-rc (default 12 Å: of
  8, 10 and 12 Å it was the fastest at 10^4 atoms, 0.66, 0.31 and 0.22 s, because the
  neighbour list goes to 12 Å for O-O anyway). Timed like energy_small.py: Python's
  time.perf_counter() read through LAMMPS' python command just before and after `run 0`
  (init incl. PPPM set-up, neighbour list, one force/energy/virial evaluation, thermo output);
  reading the data file excluded.
- Accuracy of both against a tight reference (matscreen direct Ewald, or PME, at 1e-10) on
  the smallest cell: relative energy error, RMS and max force error.
Each code runs --repeat times per size (default 3, alternating); the best (minimum) time is
used, the spread is printed. Prints times, the ratio LAMMPS / matscreen and the growth
exponent d ln t / d ln N.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

OXI = {"Sr": 2, "Ti": 4, "O": -2}
TYPES = ["Sr", "Ti", "O"]
MASS = {"Sr": 87.62, "Ti": 47.867, "O": 15.999}

LAMMPS_IN = """# written by scripts/bench/energy_large.py
python          now return v_tnow format f here \"\"\"
def now():
    import time
    return time.perf_counter()
\"\"\"
variable        tnow python now
units           metal
atom_style      charge
boundary        p p p
read_data       {data}
dielectric      0.9999999668047382
pair_style      buck/coul/long 12.0 {rc}
pair_coeff      * * 0.0 1.0 0.0 10.0
pair_coeff      1 3 1956.702 0.3252 0.0 10.0
pair_coeff      2 3 2088.107 0.2888 0.0 10.0
pair_coeff      3 3 25.410 0.6937 32.32 12.0
kspace_style    pppm 1.0e-5
neighbor        0.0 bin
thermo_style    custom step pe pxx pyy pzz
thermo_modify   format float %.12g
print           "T0 ${{tnow}}"
run             0
print           "T1 ${{tnow}}"
write_dump      all custom {dump} id fx fy fz modify sort id format float %.10g
"""


def supercell(n, rng):
    a = 3.905
    base = np.array([[0, 0, 0], [.5, .5, .5], [.5, .5, 0], [.5, 0, .5], [0, .5, .5]])
    sy = ["Sr", "Ti", "O", "O", "O"]
    g = np.array([[i, j, k] for i in range(n) for j in range(n) for k in range(n)])
    frac = ((base[None] + g[:, None]) / n).reshape(-1, 3)
    lat = a * n * np.eye(3)
    cart = frac @ lat + rng.normal(0, 0.05, (len(frac), 3))
    cart %= a * n
    return sy * len(g), lat, cart


def write_files(stem, sy, lat, cart):
    with open(stem + ".extxyz", "w") as f:
        f.write("%d\nLattice=\"%s\" Properties=species:S:1:pos:R:3:oxi_states:R:1 pbc=\"T T T\"\n"
                % (len(sy), " ".join("%.17g" % v for v in lat.ravel())))
        for s, r in zip(sy, cart):
            f.write("%s %.17g %.17g %.17g %d\n" % (s, *r, OXI[s]))
    with open(stem + ".data", "w") as f:
        f.write("SrTiO3 supercell\n\n%d atoms\n3 atom types\n\n" % len(sy))
        for k, nm in enumerate(("x", "y", "z")):
            f.write("0.0 %.17g %slo %shi\n" % (lat[k, k], nm, nm))
        f.write("\nMasses\n\n" + "".join("%d %g\n" % (t, MASS[e]) for t, e in enumerate(TYPES, 1)))
        f.write("\nAtoms # charge\n\n")
        for i, (s, r) in enumerate(zip(sy, cart), 1):
            f.write("%d %d %d %.17g %.17g %.17g\n" % (i, TYPES.index(s) + 1, OXI[s], *r))


def matscreen(binary, path, *args):
    cmd = [binary, "energy", path, "--potential", "bush1994", "--json", *args]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        sys.exit("energy_large: %s failed:\n%s" % (" ".join(cmd), p.stderr))
    return json.loads(p.stdout.splitlines()[0]), " ".join(["matscreen"] + cmd[1:])


def lammps(stem, rc):
    d = os.path.dirname(stem)
    name = os.path.basename(stem)
    inp = os.path.join(d, name + ".in")
    with open(inp, "w") as f:
        f.write(LAMMPS_IN.format(data=name + ".data", rc=rc, dump=name + ".forces"))
    cmd = ["lmp", "-in", name + ".in", "-log", name + ".log", "-screen", "none", "-nocite"]
    subprocess.run(cmd, cwd=d, check=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    log = open(os.path.join(d, name + ".log")).read().splitlines()
    t0 = float(next(l for l in log if l.startswith("T0 ")).split()[1])
    t1 = float(next(l for l in log if l.startswith("T1 ")).split()[1])
    k = next(i for i, l in enumerate(log) if l.split()[:2] == ["Step", "PotEng"])
    e = float(next(l for l in log[k + 1:] if l.split()[:1] == ["0"]).split()[1])
    grid = next((l.strip() for l in log if "grid =" in l), "")
    gew = next((l.strip() for l in log if "G vector" in l), "")
    rows = open(os.path.join(d, name + ".forces")).read().splitlines()
    j = rows.index("ITEM: ATOMS id fx fy fz")
    forces = np.array([[float(x) for x in r.split()[1:]] for r in rows[j + 1:]])
    return t1 - t0, e, forces, "%s; %s" % (gew, grid), " ".join(cmd)


def main():
    root = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="6,13,24", help="supercell edges n (5 n^3 atoms)")
    ap.add_argument("--bin", default=os.environ.get("MATSCREEN_BIN", os.path.join(root, "build", "matscreen")))
    ap.add_argument("--workdir", default=os.path.join(root, "build", "bench-large"))
    ap.add_argument("--lammps-rc", default="12.0", help="LAMMPS Coulomb cutoff (Å)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per code and size (best is used)")
    ap.add_argument("--no-lammps", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    rng = np.random.default_rng(20261129)
    rows = []
    for i, n in enumerate(int(x) for x in a.sizes.split(",")):
        sy, lat, cart = supercell(n, rng)
        stem = os.path.join(a.workdir, "srtio3_%d" % n)
        write_files(stem, sy, lat, cart)
        ms_times, l_times = [], []
        for _ in range(a.repeat):
            ms, ms_cmd = matscreen(a.bin, stem + ".extxyz", "--method", "pme", "--accuracy", "1e-5")
            ms_times.append(ms["time_s"])
            if not a.no_lammps:
                lt, le, lf, info, lcmd = lammps(stem, a.lammps_rc)
                l_times.append(lt)
        row = {"n": n, "natoms": len(sy), "ms_t": min(ms_times), "ms_cmd": ms_cmd, "ms": ms}
        print("%6d atoms: matscreen %.3f s (of %d runs: %s)  (%s; grid %s, order %s, alpha %.3f, rcut %.2f)"
              % (len(sy), min(ms_times), a.repeat, " ".join("%.3f" % x for x in ms_times), ms_cmd,
                 ms["coulomb"].get("pme_grid"), ms["coulomb"].get("pme_order"),
                 ms["coulomb"]["alpha_per_A"], ms["coulomb"]["rcut_A"]))
        if not a.no_lammps:
            row.update(l_t=min(l_times), l_e=le, l_f=lf)
            print("%6s         LAMMPS    %.3f s (of %d runs: %s)  ((cd %s && %s); %s)  ratio LAMMPS/matscreen %.1fx"
                  % ("", min(l_times), a.repeat, " ".join("%.3f" % x for x in l_times),
                     os.path.relpath(a.workdir), lcmd, info, min(l_times) / min(ms_times)))
        if i == 0:
            # accuracy on the smallest cell against a tight reference
            ref, _ = matscreen(a.bin, stem + ".extxyz", "--method", "pme", "--accuracy", "1e-10")
            fr = np.array(ref["forces_eV_per_A"])
            fm = np.array(ms["forces_eV_per_A"])
            de = abs(ms["energy_eV"] - ref["energy_eV"]) / abs(ref["energy_eV"])
            print("        accuracy vs matscreen PME 1e-10: matscreen rel. energy %.1e, force RMS %.1e max %.1e eV/A"
                  % (de, np.sqrt(np.mean((fm - fr) ** 2)), np.abs(fm - fr).max()))
            if "l_e" in row:
                dl = abs(row["l_e"] - ref["energy_eV"]) / abs(ref["energy_eV"])
                print("        LAMMPS rel. energy %.1e, force RMS %.1e max %.1e eV/A"
                      % (dl, np.sqrt(np.mean((row["l_f"] - fr) ** 2)), np.abs(row["l_f"] - fr).max()))
        rows.append(row)
    if len(rows) >= 2:
        for key, label in (("ms_t", "matscreen"), ("l_t", "LAMMPS")):
            if key not in rows[0]:
                continue
            x = np.log([r["natoms"] for r in rows])
            y = np.log([r[key] for r in rows])
            slope = np.polyfit(x, y, 1)[0]
            steps = ", ".join("%.2f" % ((y[k + 1] - y[k]) / (x[k + 1] - x[k])) for k in range(len(rows) - 1))
            print("growth exponent %s: %.2f (fit), between sizes: %s" % (label, slope, steps))


if __name__ == "__main__":
    main()
