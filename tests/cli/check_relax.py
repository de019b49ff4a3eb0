"""CLI test of `matscreen relax`: JSON contract, relaxed structures written with -o, input-order
output independent of the number of ranks, statuses for pathological starts, PETSc options,
and clear usage errors.

usage: check_relax.py MATSCREEN MPIEXEC   (run by meson through tests/util/python.sh)

Reference facts: rigid-ion Bush MgO relaxes to a = 4.20605 Å (LAMMPS, physics.md §2.1/§5; the
full LAMMPS comparison is tests/regression/relax); the -o files are read back with ASE."""
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

exe, mpiexec = sys.argv[1], sys.argv[2]
root = os.environ.get("MATSCREEN_SOURCE_ROOT", ".")
start = os.path.join(root, "tests/regression/relax/start.extxyz")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(args, np_=None):
    cmd = [exe] + args
    if np_:
        cmd = [mpiexec, "-n", str(np_), "--oversubscribe"] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    return p.returncode, p.stdout, p.stderr


def frames(path):
    lines = open(path).read().splitlines()
    out, i = [], 0
    while i < len(lines):
        n = int(lines[i])
        out.append(lines[i:i + n + 2])
        i += n + 2
    return out


def frame_text(lattice, atoms, label):
    lat = " ".join("%.10f" % x for row in lattice for x in row)
    lines = [str(len(atoms)), 'Lattice="%s" Properties=species:S:1:pos:R:3 label="%s" pbc="T T T"' % (lat, label)]
    lines += ["%s %.10f %.10f %.10f" % a for a in atoms]
    return "\n".join(lines) + "\n"


with tempfile.TemporaryDirectory() as tmp:
    # 1. One structure: keys, units, consistency of the reported structure.
    mgo = os.path.join(root, "examples/structures/MgO.cif")
    rc, out, err = run(["relax", mgo, "--potential", "bush1994", "--fmax", "1e-5", "--smax", "1e-4", "--json"])
    check(rc == 0, "relax MgO rc %d: %s" % (rc, err))
    r = json.loads(out.splitlines()[0])
    for key in ["status", "converged", "iterations", "energy_evaluations", "initial_energy_eV",
                "energy_eV", "energy_per_atom_eV", "enthalpy_eV", "forces_eV_per_A", "stress_GPa",
                "fmax_eV_per_A", "smax_GPa", "lattice_A", "frac_positions", "positions_A",
                "species", "volume_A3", "time_s", "natoms", "formula", "cell", "pressure_GPa"]:
        check(key in r, "JSON key %s" % key)
    check(r["status"] == "converged" and r["converged"] is True, "MgO converged: %s" % r["status"])
    a = np.linalg.norm(np.array(r["lattice_A"]), axis=1)
    check(np.all(np.abs(a - 4.20605) < 1e-5), "MgO a = %s, LAMMPS 4.20605" % a)
    check(r["energy_eV"] < r["initial_energy_eV"], "energy went down")
    check(r["fmax_eV_per_A"] <= 1e-5 and r["smax_GPa"] <= 1e-4, "residuals below the tolerances")
    f = np.array(r["forces_eV_per_A"])
    check(f.shape == (8, 3) and np.abs(f).max() <= 1e-5, "forces shape and size")
    pos = np.array(r["frac_positions"]) @ np.array(r["lattice_A"])
    check(np.abs(pos - np.array(r["positions_A"])).max() < 1e-9, "positions_A = frac_positions . lattice_A")
    check(r["species"].count("Mg2+") == 4 and r["species"].count("O2-") == 4, "species %s" % r["species"])
    check(abs(r["volume_A3"] - abs(np.linalg.det(np.array(r["lattice_A"])))) < 1e-9, "volume")

    # 2. Several structures, statuses for pathological ones, order and values independent of
    # the number of ranks, and the relaxed structures written with -o.
    fr = frames(start)
    lat = 10 * 3.905
    atoms_big = [("Sr2+", 0, 0, 0), ("Ti4+", lat / 2, lat / 2, lat / 2), ("O2-", lat / 2, lat / 2, 0),
                 ("O2-", lat / 2, 0, lat / 2), ("O2-", 0, lat / 2, lat / 2)]
    huge = frame_text([[lat, 0, 0], [0, lat, 0], [0, 0, lat]], atoms_big, "ten_times_too_large")
    a0 = 4.212
    atoms_oo = [("Mg2+", 0, 0, 0), ("Mg2+", 0, a0 / 2, a0 / 2), ("Mg2+", a0 / 2, 0, a0 / 2),
                ("Mg2+", a0 / 2, a0 / 2, 0), ("O2-", a0 / 2, 0, 0), ("O2-", a0 / 2 + 0.5, 0, 0),
                ("O2-", 0, 0, a0 / 2), ("O2-", 0, a0 / 2, 0)]
    oo = frame_text([[a0, 0, 0], [0, a0, 0], [0, 0, a0]], atoms_oo, "two_oxide_ions_0.5A_apart")
    multi = os.path.join(tmp, "multi.extxyz")
    with open(multi, "w") as fh:
        fh.write("\n".join(fr[0] + fr[4] + fr[6]) + "\n" + huge + oo + "\n".join(fr[7]) + "\n")
    labels = ["mgo", "srtio3", "tio2_rutile", "ten_times_too_large", "two_oxide_ions_0.5A_apart",
              "al2o3_corundum"]
    want = ["converged", "converged", "converged", "exploded", "collapsed", "converged"]
    results = {}
    for n in (1, 2, 3):
        o = os.path.join(tmp, "relaxed_%d.extxyz" % n)
        rc, out, err = run(["relax", multi, "--potential", "bush1994", "--fmax", "1e-4", "--json", "-o", o], n)
        check(rc == 0, "-n %d rc %d: %s" % (n, rc, err))
        res = [json.loads(l) for l in out.splitlines()]
        check([x["label"] for x in res] == labels, "-n %d order %s" % (n, [x["label"] for x in res]))
        check([x["status"] for x in res] == want, "-n %d statuses %s" % (n, [x["status"] for x in res]))
        check(all(x["detail"] for x in res if x["status"] != "converged"), "details for failures")
        results[n] = (res, open(o).read() if os.path.exists(o) else "")
    for n in (2, 3):
        same = all(x["energy_eV"] == y["energy_eV"] and x["lattice_A"] == y["lattice_A"]
                   and x["iterations"] == y["iterations"]
                   for x, y in zip(results[1][0], results[n][0]) if x["status"] == "converged")
        check(same, "-n %d gives the same relaxations as -n 1" % n)
        check(results[n][1] == results[1][1], "-n %d writes the same -o file" % n)
    try:
        from ase.io import read
        got = read(os.path.join(tmp, "relaxed_1.extxyz"), index=":")
        check(len(got) == len(labels), "-o has %d frames" % len(got))
        for x, at in zip(results[1][0], got):
            if x["status"] != "converged":
                continue
            check(np.abs(at.cell.array - np.array(x["lattice_A"])).max() < 1e-8, "-o lattice of %s" % x["label"])
            d = at.get_scaled_positions(wrap=True) - np.array(x["frac_positions"])
            d -= np.round(d)
            check(np.abs(d).max() < 1e-8, "-o positions of %s" % x["label"])
    except ImportError:
        print("ASE not available: -o files not read back", file=sys.stderr)

    # 3. Pressure, cell modes, TAO type through PETSc options, text output.
    rc, out, err = run(["relax", mgo, "-p", "bush1994", "--pressure", "10", "--fmax", "1e-5", "--smax", "1e-4", "--json"])
    r = json.loads(out.splitlines()[0])
    check(rc == 0 and r["status"] == "converged", "pressure run: %s" % err)
    check(all(abs(s + 10) < 1e-4 for s in r["stress_GPa"][:3]), "stress -10 GPa under 10 GPa: %s" % r["stress_GPa"])
    check(abs(r["enthalpy_eV"] - r["energy_eV"] - 10 * r["volume_A3"] / 160.2176634) < 1e-8, "enthalpy = E + P V")
    rc, out, err = run(["relax", multi, "-p", "bush1994", "--cell", "fixed", "--json"])
    res = [json.loads(l) for l in out.splitlines()]
    check(rc == 0 and res[2]["lattice_A"] == [[float(x) for x in fr[6][1].split('"')[1].split()[3 * k:3 * k + 3]] for k in range(3)],
          "--cell fixed keeps the lattice")
    for opts in (["-relax_tao_type", "bncg"], ["--petsc-options", "-relax_tao_type blmvm"]):
        rc, out, err = run(["relax", mgo, "-p", "bush1994", "--json"] + opts)
        check(rc == 0 and json.loads(out)["status"] == "converged", "TAO type via %s: %s" % (opts, err))
    rc, out, err = run(["relax", mgo, "-p", "bush1994"])
    check(rc == 0 and "status            converged" in out and "cell              a 4.2" in out, "text output: %s" % out)

    # 4. Errors: usage (exit 1, printed once even with several ranks), bad input files.
    for args, text in [(["relax", mgo], "--potential"),
                       (["relax", "-p", "bush1994"], "no structure file"),
                       (["relax", mgo, "-p", "bush1994", "--cell", "sideways"], "sideways"),
                       (["relax", mgo, "-p", "bush1994", "--fmax", "-1"], "--fmax"),
                       (["relax", mgo, "-p", "bush1994", "--max-steps", "2.5"], "--max-steps"),
                       (["relax", mgo, "-p", "bush1994", "-relax_tao_type", "nonsense"], "nonsense"),
                       (["relax", mgo, "-p", "bush1994", "--bogus"], "--bogus")]:
        rc, out, err = run(args, 2)
        check(rc == 1 and text in err, "%s: rc %d, stderr %r" % (" ".join(args), rc, err))
        check(sum(l.startswith("matscreen") for l in err.splitlines()) == 1, "error printed once: %r" % err)
    bad = os.path.join(tmp, "flat.extxyz")
    with open(bad, "w") as fh:
        fh.write(frame_text([[4, 0, 0], [0, 4, 0], [4, 4, 0]], [("Mg2+", 0, 0, 0), ("O2-", 2, 0, 0)], "flat"))
    rc, out, err = run(["relax", bad, "-p", "bush1994"])
    check(rc == 1 and "flat.extxyz" in err, "zero-volume cell is a clear input error: rc %d %r" % (rc, err))
    rc, out, err = run(["relax", multi, "-p", "bush1994", "-o", os.path.join(tmp, "x.vasp")])
    check(rc != 0 and "POSCAR" in err, "-o POSCAR with several structures: rc %d %r" % (rc, err))
    cu = os.path.join(tmp, "cu.extxyz")
    with open(cu, "w") as fh:
        fh.write(frame_text([[4, 0, 0], [0, 4, 0], [0, 0, 4]], [("Zn2+", 0, 0, 0), ("O2-", 2, 2, 2)], "zno"))
    rc, out, err = run(["relax", multi, cu, "-p", "bush1994", "--json"], 2)
    lines = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    check(rc == 1 and "Zn2+" in err and len(lines) == len(labels) + 1 and lines[-1]["status"] == "unsupported",
          "uncovered species: every other structure relaxed, its own line says unsupported, exit 1: rc %d %r"
          % (rc, err))

if failures:
    print("%d failures" % len(failures), file=sys.stderr)
    sys.exit(1)
print("all checks passed")
