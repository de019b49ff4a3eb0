#!/usr/bin/env python3
"""Regression test: `matscreen hull` against pymatgen's PhaseDiagram.

usage: check_hull.py MATSCREEN

References were made by make_reference.py (see its docstring for the command and the sets).
Checks, for the stored sets (2 to 5 elements, a few hundred entries each, with duplicates,
points on facets and a fully degenerate ternary) and for the larger generated sets (up to
10^4 entries; the regenerated CSV must have the SHA-256 recorded with the references):
- e_above_hull within 1e-6 eV/atom of pymatgen for every entry;
- formation energy within 1e-9 eV/atom (stored sets);
- the stable set equals pymatgen's, except for points constructed on facets and the degenerate
  set, where either code may keep a coplanar point as a vertex; every entry pymatgen puts on
  the hull (e_above_hull <= 1e-9) is within 1e-9 of it here, and hull vertices report exactly 0;
- decompositions: same products (by composition) and fractions within 1e-6 for compounds off
  the hull, and for every entry the products' mixture reproduces the entry's composition and
  hull energy;
- invariances: reversing the order of the entries, and adding an arbitrary linear function of
  composition to every energy (elemental chemical potentials), leave e_above_hull unchanged.
"""
import json
import os
import subprocess
import sys
import tempfile

from pymatgen.core import Composition

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import gen_hull  # noqa: E402

failures = []


def fail(msg):
    failures.append(msg)
    if len(failures) <= 40:
        print("FAIL:", msg)


def run_hull(exe, path):
    out = subprocess.run([exe, "hull", path, "--json"], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"matscreen hull {path} failed ({out.returncode}): {out.stderr}")
    return json.loads(out.stdout)


def read_set(path):
    import csv
    with open(path) as fp:
        return list(csv.DictReader(fp))


def check_decomposition(name, res, by_id):
    for e in res["entries"]:
        comp = Composition(e["formula"]).fractional_composition
        mix = Composition()
        energy = 0.0
        for p in e["decomposition"]:
            pc = Composition(p["formula"]).fractional_composition
            mix += pc * p["fraction"]
            energy += p["fraction"] * by_id[p["id"]]["energy_per_atom_eV"]
        if not mix.almost_equals(comp, rtol=0, atol=1e-9):
            fail(f"{name} {e['id']}: decomposition {e['decomposition']} has composition {mix}, not {comp}")
        if abs(energy - e["hull_energy_eV_per_atom"]) > 1e-9:
            fail(f"{name} {e['id']}: decomposition energy {energy} != hull energy {e['hull_energy_eV_per_atom']}")


def check_small(exe, name):
    path = os.path.join(here, "sets", name + ".csv")
    rows = read_set(path)
    res = run_hull(exe, path)
    ents = res["entries"]
    by_id = {e["id"]: e for e in ents}
    ref_by_id = {r["id"]: r for r in rows}
    if len(ents) != len(rows):
        fail(f"{name}: {len(ents)} results for {len(rows)} entries")
        return
    stable = set(res["stable"])
    worst = 0.0
    for r, e in zip(rows, ents):
        ea, ref = e["e_above_hull_eV_per_atom"], float(r["ref_e_above_hull"])
        worst = max(worst, abs(ea - ref))
        if abs(ea - ref) > 1e-6:
            fail(f"{name} {r['id']} ({r['formula']}): e_above_hull {ea} vs pymatgen {ref}")
        if abs(e["formation_energy_eV_per_atom"] - float(r["ref_formation_energy"])) > 1e-9:
            fail(f"{name} {r['id']}: formation energy {e['formation_energy_eV_per_atom']} vs {r['ref_formation_energy']}")
        if ref <= 1e-9 and ea > 1e-9:
            fail(f"{name} {r['id']}: on the hull for pymatgen ({ref}) but {ea} here")
        if e["stable"] and ea != 0.0:
            fail(f"{name} {r['id']}: a hull vertex reports e_above_hull {ea}, not exactly 0")
        degenerate = r["kind"] in ("onfacet", "flat")
        if not degenerate and e["stable"] != (r["ref_stable"] == "1"):
            fail(f"{name} {r['id']} ({r['formula']}): stable {e['stable']} vs pymatgen {r['ref_stable']}")
        if not degenerate and r["kind"] == "compound" and ref > 1e-6:
            mine = sorted((Composition(by_id[p["id"]]["formula"]).reduced_formula, p["fraction"])
                          for p in e["decomposition"])
            theirs = []
            for item in r["ref_decomposition"].split(";"):
                pid, amt = item.rsplit(":", 1)
                theirs.append((Composition(ref_by_id[pid]["formula"]).reduced_formula, float(amt)))
            theirs.sort()
            if [m[0] for m in mine] != [t[0] for t in theirs] or any(
                    abs(m[1] - t[1]) > 1e-6 for m, t in zip(mine, theirs)):
                fail(f"{name} {r['id']}: decomposition {mine} vs pymatgen {theirs}")
    check_decomposition(name, res, by_id)
    if stable != {e["id"] for e in ents if e["stable"]}:
        fail(f"{name}: the stable list and the stable flags disagree")
    print(f"{name}: {len(rows)} entries, {len(stable)} stable, max |e_above_hull - pymatgen| = {worst:.2e} eV/atom")
    return rows, res


def check_invariances(exe, name, rows, res, tmp):
    base = {e["id"]: e["e_above_hull_eV_per_atom"] for e in res["entries"]}
    # Reversed order.
    path = os.path.join(tmp, name + "_rev.csv")
    rr = [(r["formula"], float(r["energy_per_atom_eV"]), r["id"]) for r in reversed(rows)]
    with open(path, "w") as fp:
        fp.write(gen_hull.csv_text(rr))
    rev = {e["id"]: e["e_above_hull_eV_per_atom"] for e in run_hull(exe, path)["entries"]}
    worst = max(abs(rev[k] - base[k]) for k in base)
    if worst > 1e-9:
        fail(f"{name}: reversing the entries changes e_above_hull by up to {worst}")
    # Chemical-potential shift: E -> E + sum_el mu_el x_el.
    r = gen_hull.Rng(7)
    mu = {}
    shifted = []
    for row in rows:
        comp = Composition(row["formula"]).fractional_composition
        shift = 0.0
        for el, x in comp.items():
            mu.setdefault(el.symbol, r.uniform(-5, 5))
            shift += mu[el.symbol] * x
        shifted.append((row["formula"], float(row["energy_per_atom_eV"]) + shift, row["id"]))
    path = os.path.join(tmp, name + "_mu.csv")
    with open(path, "w") as fp:
        fp.write(gen_hull.csv_text(shifted))
    sh = {e["id"]: e["e_above_hull_eV_per_atom"] for e in run_hull(exe, path)["entries"]}
    worst = max(abs(sh[k] - base[k]) for k in base)
    if worst > 1e-9:
        fail(f"{name}: a linear shift of the energies changes e_above_hull by up to {worst}")
    print(f"{name}: invariances ok (reversed order, chemical-potential shift)")


def check_large(exe, name, tmp):
    rows = gen_hull.large_rows(name)
    text = gen_hull.csv_text(rows)
    with open(os.path.join(here, f"large_{name}.txt")) as fp:
        lines = fp.read().splitlines()
    want = lines[0].split()[-1]
    if gen_hull.sha256(text) != want:
        fail(f"{name}: the regenerated set differs from the one the references were made for; "
             "rerun make_reference.py")
        return
    refs = [l.split() for l in lines if not l.startswith("#")]
    path = os.path.join(tmp, name + ".csv")
    with open(path, "w") as fp:
        fp.write(text)
    res = run_hull(exe, path)
    worst = 0.0
    for (f, _, ident), e, (ea_ref, st_ref) in zip(rows, res["entries"], refs):
        d = abs(e["e_above_hull_eV_per_atom"] - float(ea_ref))
        worst = max(worst, d)
        if d > 1e-6:
            fail(f"{name} {ident} ({f}): e_above_hull {e['e_above_hull_eV_per_atom']} vs pymatgen {ea_ref}")
        if e["stable"] != (st_ref == "1"):
            fail(f"{name} {ident} ({f}): stable {e['stable']} vs pymatgen {st_ref}")
    print(f"{name}: {len(rows)} entries, {len(res['stable'])} stable, "
          f"max |e_above_hull - pymatgen| = {worst:.2e} eV/atom, hull {res['time_s']:.3f} s")


def main():
    exe = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("s2", "s3", "s4", "s5", "flat3"):
            got = check_small(exe, name)
            if got and name != "flat3":
                check_invariances(exe, name, *got, tmp)
        for name in gen_hull.LARGE:
            check_large(exe, name, tmp)
    if failures:
        print(f"{len(failures)} failures")
        return 1
    print("all hull checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
