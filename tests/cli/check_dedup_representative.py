"""The representative of a duplicate group (docs/stability.md, "Representatives").

usage: check_dedup_representative.py MATSCREEN MPIEXEC SOURCE_ROOT

SrTiO3 and CaTiO3 start as the cubic and tetragonal perovskites, the GdFeO3-type (Pnma, 20
atoms) and the double-perovskite cell with Ti on both B sites (10 atoms); with the rigid-ion
Bush potential every start relaxes to the cubic perovskite (Pm-3m, 5 atoms). Dedup used to keep
whichever member was lowest by 1e-7 eV/atom: SrTiO3 ended up represented by the 10-atom
double-perovskite cell and CaTiO3 by the tetragonal start. Now, among the members within
energy_tol of the lowest, the smallest cell, then the highest point-group order, then the
member built from the prototype the structure matches wins, and the survivor is labelled
with that prototype (/candidates/structure_type). Checked at 1, 2 and 4 ranks, which must
agree on every column; checked against the definition, recomputed here from the table.
"""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

MS, MPIEXEC, ROOT = sys.argv[1], sys.argv[2], sys.argv[3]
failures = []

CAMPAIGN = """\
campaign: {name: dedup-representative, seed: 7}
potential: bush1994
search:
  - generator: prototype_substitution
    prototypes: [double_perovskite, perovskite_pnma, perovskite_tetragonal, perovskite_cubic]
    sites: {A: [Sr2+, Ca2+], B: [Ti4+], Bp: [Ti4+], X: [O2-]}
funnel:
  - {stage: relax, cell: full, fmax: 0.01, max_steps: 2000}
  - {stage: dedup}
"""
POINT_GROUP_ORDER = {221: 48, 225: 48, 99: 8, 62: 8, 123: 16, 127: 16, 140: 16}


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


def table(path):
    with h5py.File(path, "r") as f:
        return {k: f["candidates"][k][()] for k in f["candidates"]}


with tempfile.TemporaryDirectory() as tmp:
    camp = os.path.join(tmp, "c.yaml")
    with open(camp, "w") as f:
        f.write(CAMPAIGN)
    tabs = {}
    for n in (1, 2, 4):
        out = os.path.join(tmp, f"np{n}.h5")
        p = subprocess.run([MPIEXEC, "-n", str(n), "--oversubscribe", MS, "--quiet", "run", camp, "-o", out],
                           capture_output=True, text=True, timeout=300)
        check(p.returncode == 0, f"{n} ranks: exit {p.returncode}: {p.stderr[-300:]}")
        if p.returncode == 0:
            tabs[n] = table(out)
    if 1 in tabs:
        c = tabs[1]
        for n in (2, 4):
            if n in tabs:
                for k in ("duplicate_of", "structure_type", "e_relaxed_eV_per_atom", "natoms", "spacegroup"):
                    check(np.array_equal(c[k], tabs[n][k], equal_nan=c[k].dtype.kind == "f"),
                          f"{n} ranks: {k} as at 1 rank")
        ids = list(c["id"])
        form = [x.decode() for x in c["formula"]]
        proto = [x.decode() for x in c["prototype"]]
        stype = [x.decode() for x in c["structure_type"]] if "structure_type" in c else [""] * len(ids)
        for fo in ("SrTiO3", "CaTiO3"):
            rows = [k for k in range(len(ids)) if form[k] == fo and np.isfinite(c["e_relaxed_eV_per_atom"][k])]
            reps = [k for k in rows if c["duplicate_of"][k] < 0]
            check(len(rows) >= 3 and len(reps) == 1, f"{fo}: {len(rows)} relaxed starts, {len(reps)} representative")
            if len(reps) != 1:
                continue
            r = reps[0]
            check(all(c["duplicate_of"][k] == ids[r] for k in rows if k != r), f"{fo}: every start points at it")
            check(c["spacegroup"][r] == 221 and c["natoms"][r] == 5 and proto[r] == "perovskite_cubic"
                  and stype[r] == "perovskite_cubic",
                  f"{fo}: represented by the 5-atom cubic start, labelled perovskite_cubic: id {ids[r]} "
                  f"{proto[r]} {c['natoms'][r]} atoms sg {c['spacegroup'][r]} type '{stype[r]}'")
            # the rule, recomputed: within 1 meV/atom of the lowest, smallest cell, then the
            # highest point group, then the prototype that matches, then energy, then id
            e = {k: c["e_relaxed_eV_per_atom"][k] for k in rows}
            near = [k for k in rows if e[k] <= min(e.values()) + 1e-3]
            want = min(near, key=lambda k: (c["natoms"][k], -POINT_GROUP_ORDER.get(int(c["spacegroup"][k]), 0),
                                            proto[k] != stype[r], e[k], ids[k]))
            check(want == r, f"{fo}: the rule picks id {ids[want]}, the run id {ids[r]}")
            check(all(stype[k] == "" for k in rows if k != r), f"{fo}: duplicates carry no structure type")

print(f"{len(failures)} failed" if failures else "all checks passed")
sys.exit(1 if failures else 0)
