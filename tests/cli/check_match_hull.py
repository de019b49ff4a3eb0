#!/usr/bin/env python3
"""CLI test of `matscreen match` and `matscreen hull`: output keys and values, multi-frame
pairs, grouping at 1 and 2 ranks, exit codes and FILE:LINE messages for bad input, errors
printed once under mpirun.

usage: check_match_hull.py MATSCREEN MPIEXEC
"""
import json
import math
import os
import subprocess
import sys
import tempfile

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


def run(cmd, want=0):
    p = subprocess.run(cmd, capture_output=True, text=True)
    check(p.returncode == want, f"{' '.join(cmd)}: exit {p.returncode}, expected {want}\n{p.stderr}")
    return p


def frame(lattice, sites):
    """extxyz frame: sites are (element, charge, frac)."""
    out = [str(len(sites))]
    lat = " ".join(f"{x:.10f}" for row in lattice for x in row)
    out.append(f'Lattice="{lat}" Properties=species:S:1:pos:R:3:oxi_states:R:1 pbc="T T T"')
    for el, q, f in sites:
        c = [sum(f[i] * lattice[i][k] for i in range(3)) for k in range(3)]
        out.append(f"{el} {c[0]:.10f} {c[1]:.10f} {c[2]:.10f} {q:.1f}")
    return "\n".join(out) + "\n"


def perovskite(A="Sr", a=3.905, shift=(0, 0, 0)):
    L = [[a, 0, 0], [0, a, 0], [0, 0, a]]
    s = [(A, 2, (0, 0, 0)), ("Ti", 4, (.5, .5, .5)), ("O", -2, (.5, .5, 0)), ("O", -2, (.5, 0, .5)),
         ("O", -2, (0, .5, .5))]
    return L, [(e, q, tuple((f[k] + shift[k]) % 1 for k in range(3))) for e, q, f in s]


def doubled(L, sites):
    L2 = [[2 * x for x in L[0]], L[1], L[2]]
    out = []
    for e, q, f in sites:
        out.append((e, q, (f[0] / 2, f[1], f[2])))
        out.append((e, q, ((f[0] + 1) / 2, f[1], f[2])))
    return L2, out


def strip_times(text):
    lines = []
    for l in text.splitlines():
        d = json.loads(l)
        d.pop("time_s", None)
        d.pop("read_s", None)
        d.pop("stats", None)
        lines.append(d)
    return lines


def test_match(exe, mpiexec, tmp):
    def write(name, *frames):
        p = os.path.join(tmp, name)
        with open(p, "w") as fp:
            fp.write("".join(frame(*f) for f in frames))
        return p

    sto = write("sto.extxyz", perovskite())
    sto2 = write("sto2.extxyz", doubled(*perovskite(shift=(0.1, 0.2, 0.3))))
    bto = write("bto.extxyz", perovskite("Ba", 4.0))
    multi = write("multi.extxyz", perovskite(shift=(0.3, 0, 0)), perovskite("Ba", 4.0), doubled(*perovskite()))
    two = write("two.extxyz", perovskite(), perovskite())

    p = run([exe, "match", sto, sto2, "--json"])
    d = json.loads(p.stdout)
    for key in ("a", "b", "match", "reason", "rms", "max_dist", "nmappings", "ltol", "stol", "angle_tol", "time_s"):
        check(key in d, f"match --json lacks key {key}")
    check(d["match"] is True and d["reason"] == "match", f"SrTiO3 vs its shifted supercell: {d}")
    check(abs(d["rms"]) < 1e-9 and abs(d["max_dist"]) < 1e-9, f"rms of an exact copy: {d['rms']}")
    check(d["a"]["spacegroup"] == 221 and d["b"]["spacegroup"] == 221, f"space groups {d['a']}, {d['b']}")
    check(d["b"]["natoms"] == 10 and d["b"]["nsites"] == 5, f"supercell sizes {d['b']}")
    check((d["ltol"], d["stol"], d["angle_tol"]) == (0.2, 0.3, 5), "default tolerances")

    p = run([exe, "match", sto, bto])
    check("match        no (composition)" in p.stdout, f"text output for SrTiO3 vs BaTiO3:\n{p.stdout}")
    p = run([exe, "match", sto, sto2])
    check("match        yes" in p.stdout and "space group 221" in p.stdout, f"text output:\n{p.stdout}")

    # Multi-frame against one structure, in order; the same under mpirun -n 2.
    p = run([exe, "match", multi, sto, "--json", "--ltol", "0.25", "--stol", "0.35", "--angle-tol", "6"])
    res = [json.loads(l) for l in p.stdout.splitlines()]
    check([r["match"] for r in res] == [True, False, True], f"multi-frame verdicts {[r['match'] for r in res]}")
    check([r["a"]["frame"] for r in res] == [0, 1, 2], "frames in order")
    check(res[0]["ltol"] == 0.25 and res[0]["stol"] == 0.35 and res[0]["angle_tol"] == 6, "tolerance options")
    p2 = run([mpiexec, "-n", "2", "--oversubscribe", exe, "match", multi, sto, "--json", "--ltol", "0.25",
              "--stol", "0.35", "--angle-tol", "6"])
    check(strip_times(p2.stdout) == strip_times(p.stdout), "match output differs at 2 ranks")

    # Grouping at 1 and 2 ranks: frames 0 and 2 of multi are SrTiO3; energies make 2 survive.
    en = os.path.join(tmp, "e.txt")
    with open(en, "w") as fp:
        fp.write("# energies\n-1.0\n-2.0\n-3.0\n")
    outs = []
    for n in (1, 2):
        cmd = ([mpiexec, "-n", str(n), "--oversubscribe"] if n > 1 else []) + \
              [exe, "match", "--group", multi, sto, "--energies", os.path.join(tmp, "e4.txt"), "--json"]
        with open(os.path.join(tmp, "e4.txt"), "w") as fp:
            fp.write("-1.0\n-2.0\n-3.0\n-0.5\n")
        outs.append(json.loads(run(cmd).stdout))
    check(outs[0]["duplicate_of"] == [2, -1, -1, 2], f"group duplicate_of {outs[0]['duplicate_of']}")
    check(outs[0]["n_groups"] == 2 and outs[0]["n_structures"] == 4, f"group counts {outs[0]}")
    check(outs[0]["duplicate_of"] == outs[1]["duplicate_of"], "grouping differs at 2 ranks")
    p = run([exe, "match", "--group", multi])
    check("3 structures, 2 groups" in p.stdout, f"group text output:\n{p.stdout}")

    # Errors: exit 1 with a message naming the problem, printed once at 2 ranks.
    p = run([exe, "match", sto], 1)
    check("needs two structure files" in p.stderr, p.stderr)
    p = run([exe, "match", sto, os.path.join(tmp, "nope.cif")], 1)
    check("nope.cif" in p.stderr, p.stderr)
    p = run([exe, "match", multi, two], 1)
    check("give equal counts" in p.stderr, p.stderr)
    p = run([exe, "match", sto, sto2, "--energies", en], 1)
    check("--energies needs --group" in p.stderr, p.stderr)
    p = run([exe, "match", sto, sto2, "--stol", "-1"], 1)
    check("--stol must be in" in p.stderr, p.stderr)
    p = run([exe, "match", "--group", multi, "--energies", en + "x"], 1)
    check("cannot open" in p.stderr, p.stderr)
    with open(en, "w") as fp:
        fp.write("-1.0\nabc\n-3.0\n")
    p = run([mpiexec, "-n", "2", "--oversubscribe", exe, "match", "--group", multi, "--energies", en], 1)
    check(f"{en}:2: not a number" in p.stderr, p.stderr)
    check(p.stderr.count("error:") == 1, f"error printed {p.stderr.count('error:')} times at 2 ranks")
    with open(en, "w") as fp:
        fp.write("-1.0\n-2.0\n")
    p = run([exe, "match", "--group", multi, "--energies", en], 1)
    check("has 2 energies for 3 structures" in p.stderr, p.stderr)


def test_hull(exe, mpiexec, tmp):
    def write(name, text):
        p = os.path.join(tmp, name)
        with open(p, "w") as fp:
            fp.write(text)
        return p

    good = write("good.csv", "# Li-O by hand (docs/stability.md)\n"
                             "formula,energy_per_atom_eV,id,note\n"
                             "Li,-1.9,li,metal\nO2,-4.9,o2,gas\nLi2O,-4.7,li2o,\n"
                             "Li2O2,-4.5,li2o2,peroxide\n\"LiO2\",-4.3,\"super, oxide\",x\n")
    p = run([exe, "hull", good, "--json"])
    d = json.loads(p.stdout)
    for key in ("file", "n_entries", "components", "references", "stable", "entries", "time_s", "hull_time_s"):
        check(key in d, f"hull --json lacks key {key}")
    check(d["components"] == ["Li", "O"], f"components {d['components']}")
    check(d["stable"] == ["li", "o2", "li2o"], f"stable {d['stable']}")
    e = {x["id"]: x for x in d["entries"]}
    for key in ("id", "line", "formula", "energy_per_atom_eV", "formation_energy_eV_per_atom",
                "e_above_hull_eV_per_atom", "hull_energy_eV_per_atom", "stable", "decomposition"):
        check(key in e["li2o2"], f"entry lacks key {key}")
    check(abs(e["li2o2"]["e_above_hull_eV_per_atom"] - 0.25) < 1e-12, f"Li2O2 {e['li2o2']}")
    check(abs(e["super, oxide"]["e_above_hull_eV_per_atom"] - 0.5) < 1e-12, "quoted id with a comma")
    check(e["li2o2"]["line"] == 6, f"line numbers count from the top: {e['li2o2']['line']}")
    dec = {x["id"]: x["fraction"] for x in e["li2o2"]["decomposition"]}
    check(abs(dec.get("li2o", 0) - 0.75) < 1e-12 and abs(dec.get("o2", 0) - 0.25) < 1e-12, f"decomposition {dec}")
    p2 = run([mpiexec, "-n", "2", "--oversubscribe", exe, "hull", good, "--json"])
    d2 = json.loads(p2.stdout)
    for x in (d, d2):
        x.pop("time_s")
        x.pop("hull_time_s")
    check(d == d2, "hull output differs at 2 ranks")
    p = run([exe, "hull", good])
    check("stable (3): Li (li) O2 (o2) Li2O (li2o)" in p.stdout, f"text output:\n{p.stdout}")
    check("0.7500 Li2O + 0.2500 O2" in p.stdout, f"text decomposition:\n{p.stdout}")

    # No id column: the line number is the id. End members.
    em = write("em.csv", "formula,energy_per_atom_eV\nSrO,-10\nTiO2,-12\nSrTiO3,-11.5\nSr2TiO4,-10.9\n")
    d = json.loads(run([exe, "hull", em, "--json", "--end-members", "SrO, TiO2"]).stdout)
    check(d["components"] == ["SrO", "TiO2"] and d["stable"] == ["2", "3", "4"], f"end members {d['components']} {d['stable']}")
    p = run([exe, "hull", em], 1)
    check("no entry for the elemental references Sr, Ti" in p.stderr or "elemental reference" in p.stderr, p.stderr)

    bad = [
        ("formula,energy\nLi,-1\n", ":1: missing column 'energy_per_atom_eV'"),
        ("energy_per_atom_eV\n-1\n", ":1: missing column 'formula'"),
        ("formula,energy_per_atom_eV\nLi,-1.9\nO2,abc\n", ":3: energy_per_atom_eV 'abc' is not a finite number"),
        ("formula,energy_per_atom_eV\nLi,-1.9\nO2,-4.9\nSrTiX3,-8\n", ":4: formula 'SrTiX3': unknown element 'X'"),
        ("formula,energy_per_atom_eV\nLi\n", ":2: 1 field, but the header at line 1 has 2"),
        ("formula,energy_per_atom_eV\nLi,nan\n", ":2: energy_per_atom_eV 'nan' is not a finite number"),
        ("formula,energy_per_atom_eV\nLi,-1.9\nLi2O,-4.7\n", "no entry for the elemental reference O"),
        ("", ":1: empty file"),
        ("formula,energy_per_atom_eV\n", ":1: no entries after the header"),
        ("formula,energy_per_atom_eV\n\"Li,-1\n", ":2: unterminated quoted field"),
    ]
    for i, (text, msg) in enumerate(bad):
        path = write(f"bad{i}.csv", text)
        p = run([mpiexec, "-n", "2", "--oversubscribe", exe, "hull", path], 1)
        want = msg if not msg.startswith(":") else path + msg
        check(want in p.stderr, f"bad CSV {i}: expected '{want}' in:\n{p.stderr}")
        check(p.stderr.count("error:") == 1, f"bad CSV {i}: error printed {p.stderr.count('error:')} times")
    p = run([exe, "hull", os.path.join(tmp, "missing.csv")], 1)
    check("missing.csv: cannot open" in p.stderr, p.stderr)
    p = run([exe, "hull"], 1)
    check("no ENTRIES.csv" in p.stderr, p.stderr)


def main():
    exe, mpiexec = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        test_match(exe, mpiexec, tmp)
        test_hull(exe, mpiexec, tmp)
    if failures:
        print(f"{len(failures)} failures")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
