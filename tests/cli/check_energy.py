"""CLI test of `matscreen energy`: JSON contract, statuses for pathological structures,
input-order output independent of the number of ranks, and clear errors.

usage: check_energy.py MATSCREEN MPIEXEC   (run by meson through tests/util/python.sh)

Reference facts: the NaCl Madelung constant 1.7475645946 (physics.md §1) for the electrostatic
energy of rocksalt MgO with --potential coulomb; K = 14.399645478 eV Å."""
import json
import math
import os
import subprocess
import sys
import tempfile

exe, mpiexec = sys.argv[1], sys.argv[2]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(args, np=None):
    cmd = [exe] + args
    if np:
        cmd = [mpiexec, "-n", str(np), "--oversubscribe"] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def frame(lattice, atoms, comment=""):
    """extxyz frame; atoms: list of (species label with charge, x, y, z Cartesian)."""
    lat = " ".join(f"{x:.10f}" for row in lattice for x in row)
    lines = [str(len(atoms)),
             f'Lattice="{lat}" Properties=species:S:1:pos:R:3 pbc="T T T" {comment}'.strip()]
    for s, x, y, z in atoms:
        lines.append(f"{s} {x:.10f} {y:.10f} {z:.10f}")
    return "\n".join(lines) + "\n"


def rocksalt(a, cation="Mg2+", anion="O2-"):
    lat = [[a, 0, 0], [0, a, 0], [0, 0, a]]
    atoms = []
    for f in [(0, 0, 0), (0, .5, .5), (.5, 0, .5), (.5, .5, 0)]:
        atoms.append((cation, f[0] * a, f[1] * a, f[2] * a))
        atoms.append((anion, (f[0] + .5) % 1 * a, f[1] * a, f[2] * a))
    return lat, atoms


with tempfile.TemporaryDirectory() as tmp:
    src = os.path.join(os.environ.get("MATSCREEN_SOURCE_ROOT", "."), "examples/structures/MgO.cif")
    xyz = os.path.join(tmp, "mgo.extxyz")
    rc, out, err = run(["convert", src, xyz])
    check(rc == 0, f"convert MgO.cif -> extxyz: rc {rc} {err}")

    # 1. Madelung energy of MgO with pure Coulomb: E = -M * 4 formula units * K * 2 * 2 / r0
    a = 4.212
    rc, out, err = run(["energy", src, "--potential", "coulomb", "--json"])
    check(rc == 0, f"energy coulomb rc {rc}: {err}")
    r = json.loads(out.splitlines()[0])
    e_ref = -1.7475645946 * 4 * 14.399645478 * 4 / (a / 2)
    check(abs(r["energy_eV"] - e_ref) < 1e-7 * abs(e_ref), f"MgO Madelung {r['energy_eV']} vs {e_ref}")
    for key in ["energy_eV", "energy_per_atom_eV", "forces_eV_per_A", "stress_GPa", "lattice_A",
                "status", "coulomb", "time_s", "natoms", "formula"]:
        check(key in r, f"JSON key {key}")
    check(r["status"] == "ok", "status ok")
    check(len(r["forces_eV_per_A"]) == 8 and len(r["stress_GPa"]) == 6, "shapes")
    check(r["formula"] == "Mg4O4", f"formula {r['formula']}")

    # 2. Multi-frame: several strained/rattled copies; the output order and values must not
    # depend on the number of ranks.
    frames_text = open(xyz).read()
    nat = int(frames_text.splitlines()[0])
    body = frames_text.splitlines()
    multi = []
    for k in range(7):
        s = 1.0 + 0.01 * (k - 3)
        lines = list(body)
        # scale the lattice string and the positions
        lat_start = lines[1].index('Lattice="') + 9
        lat_end = lines[1].index('"', lat_start)
        lat = [float(x) * s for x in lines[1][lat_start:lat_end].split()]
        lines[1] = lines[1][:lat_start] + " ".join(f"{x:.10f}" for x in lat) + lines[1][lat_end:]
        for i in range(nat):
            parts = lines[2 + i].split()
            for c in range(1, 4):
                parts[c] = f"{float(parts[c]) * s + 0.01 * ((i * 7 + c * 3 + k) % 5 - 2):.10f}"
            lines[2 + i] = " ".join(parts)
        multi.append("\n".join(lines[:2 + nat]) + "\n")
    mpath = os.path.join(tmp, "multi.extxyz")
    open(mpath, "w").write("".join(multi))
    outs = {}
    for np in (1, 2, 4):
        rc, out, err = run(["energy", mpath, "--potential", "bush1994", "--json"], np=np)
        check(rc == 0, f"multi-frame np={np} rc {rc}: {err}")
        rows = [json.loads(l) for l in out.splitlines()]
        check(len(rows) == 7, f"np={np}: 7 results, got {len(rows)}")
        check([x["frame"] for x in rows] == list(range(7)), f"np={np}: input order")
        outs[np] = [(x["energy_eV"], x["forces_eV_per_A"], x["stress_GPa"]) for x in rows]
    check(outs[1] == outs[2] == outs[4], "results identical (bitwise) at 1, 2 and 4 ranks")
    # a compressed cell has compressive (negative) stress, an expanded one is less compressed
    rows = [json.loads(l) for l in run(["energy", mpath, "--potential", "bush1994", "--json"])[1].splitlines()]
    check(rows[0]["stress_GPa"][0] < rows[6]["stress_GPa"][0], "stress increases with volume")

    # 3. Pathological structures are statuses, never NaN or a crash.
    L = [[6.0, 0, 0], [0, 6.0, 0], [0, 0, 6.0]]
    def write(name, text):
        path = os.path.join(tmp, name)
        open(path, "w").write(text)
        return path
    oo = write("oo.extxyz", frame(L, [("O2-", 0, 0, 0), ("O2-", 1.0, 0, 0), ("Mg2+", 3, 3, 3), ("Mg2+", 3, 0, 3)]))
    rc, out, err = run(["energy", oo, "--potential", "bush1994", "--json"])
    check(rc == 0, f"O-O 1.0 Å rc {rc}: {err}")
    if rc == 0:
        r = json.loads(out)
        check(r["status"] == "collapsed", f"O-O at 1.0 Å: status {r['status']}")
        check("detail" in r and "guard" in r["detail"], f"detail {r.get('detail')}")
    ov = write("ov.extxyz", frame(L, [("Mg2+", 0, 0, 0), ("O2-", 0.05, 0, 0)]))
    rc, out, err = run(["energy", ov, "--potential", "bush1994", "--json"])
    check(rc == 0, f"overlap rc {rc}: {err}")
    if rc == 0:
        r = json.loads(out)
        check(r["status"] == "overlap", f"atoms 0.05 Å apart: status {r['status']}")
        check(r["energy_eV"] is None or math.isfinite(r["energy_eV"]), "no NaN in JSON")

    # 4. Errors: uncovered species names the species and the potential; missing option; unknown
    # potential with a suggestion. Exit 1, one message, at 1 and 2 ranks.
    zn = write("zn.extxyz", frame(L, [("Zn2+", 0, 0, 0), ("O2-", 3, 3, 3)]))
    for np in (None, 2):
        rc, out, err = run(["energy", zn, "--potential", "bush1994"], np=np)
        check(rc == 1, f"uncovered species rc {rc}")
        check("Zn2+" in err and "bush1994" in err, f"uncovered message: {err.strip()}")
        check(err.count("error:") == 1, f"message printed once (np={np}): {err!r}")
    rc, out, err = run(["energy", src])
    check(rc == 1 and "--potential" in err, f"missing --potential: {rc} {err.strip()}")
    rc, out, err = run(["energy", src, "--potential", "bush1995"])
    check(rc == 1 and "bush1994" in err, f"unknown potential suggestion: {err.strip()}")
    rc, out, err = run(["energy", os.path.join(tmp, "missing.cif"), "--potential", "bush1994"])
    check(rc == 1 and "missing.cif" in err, f"missing file: {rc} {err.strip()}")

    # 5. Batches: one bad or uncovered structure does not stop the others (energy and relax, 1
    # and 2 ranks): every structure gets a line with its status, exit 1 at the end; --fail-fast
    # stops at the first; relax -o writes the relaxed ones; an empty file is an error item.
    empty = write("empty.cif", "")
    ok1 = write("ok1.extxyz", frame(*rocksalt(4.2)))
    ok2 = write("ok2.extxyz", frame(*rocksalt(4.3)))
    batch = [ok1, zn, empty, ok2]
    for np in (None, 2):
        rc, out, err = run(["energy", *batch, "--potential", "bush1994", "--json"], np=np)
        lines = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
        st = [x["status"] for x in lines]
        check(rc == 1 and st == ["ok", "unsupported", "error", "ok"],
              f"energy batch (np={np}): statuses {st}, rc {rc}")
        check("2 of 4 structures" in err and err.count("error:") == 1, f"energy batch summary: {err.strip()[-160:]}")
        check(any("Zn2+" in x.get("detail", "") for x in lines) and any("empty" in x.get("detail", "") for x in lines),
              "energy batch: the details name the species and the empty file")
        rc, out, err = run(["energy", *batch, "--potential", "bush1994", "--json", "--fail-fast"], np=np)
        lines = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
        check(rc == 1 and len(lines) == 1 and "Zn2+" in err, f"energy --fail-fast (np={np}): {len(lines)} lines, rc {rc}")
        relaxed = os.path.join(tmp, "relaxed-%s.extxyz" % np)
        rc, out, err = run(["relax", *batch, "--potential", "bush1994", "--json", "-o", relaxed], np=np)
        lines = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
        st = [x["status"] for x in lines]
        check(rc == 1 and st == ["converged", "unsupported", "error", "converged"],
              f"relax batch (np={np}): statuses {st}, rc {rc}")
        nframes = open(relaxed).read().count("Lattice=") if os.path.exists(relaxed) else 0
        check(nframes == 2, f"relax -o writes the 2 relaxed structures (np={np}): {nframes}")
    # oxidation states guessed for a file without them (a rigid-ion model needs charges)
    plain = write("plain.extxyz", frame(*rocksalt(4.2, "Mg", "O")))
    rc, out, err = run(["energy", plain, "--potential", "bush1994", "--json", "--guess-oxidation-states"])
    x = json.loads(out.splitlines()[0]) if rc == 0 else {}
    rc2, out2, _ = run(["energy", ok1, "--potential", "bush1994", "--json"])
    y = json.loads(out2.splitlines()[0]) if rc2 == 0 else {}
    check(x.get("oxidation_states_guessed") == "O2- Mg2+" and x.get("energy_eV") == y.get("energy_eV"),
          f"guessed Mg2+ O2- gives the energy of the labelled file: {x.get('oxidation_states_guessed')}")

print(f"{len(failures)} failed" if failures else "all energy CLI checks passed", file=sys.stderr)
sys.exit(1 if failures else 0)
