"""Hull stage with user-supplied reference phases and /hull per chemical system.

usage: check_hull_refs.py MATSCREEN MPIEXEC SOURCE_ROOT

The campaign tests/data/hull_refs/campaign.yaml adds a relaxed structure file (SrTiO3) and a
CSV of entries (a made-up low CaTiO3 and a high Sr2TiO4) to the automatic end members. Checks:
the references are listed with their sources and flags; every candidate's e_above_hull equals
pymatgen's CompoundPhaseDiagram (terminal compositions = the end members) on the same energies
to 1e-6 eV/atom; the CaTiO3 candidates decompose into the CSV phase; /hull/phases lists, per
chemical system, exactly the stable phases whose elements lie in it; bad references give
positioned errors (exit 1).
"""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
from pymatgen.analysis.phase_diagram import CompoundPhaseDiagram, PDEntry
from pymatgen.core import Composition

MS, MPIEXEC, ROOT = sys.argv[1], sys.argv[2], sys.argv[3]
DATA = os.path.join(ROOT, "tests", "data", "hull_refs")
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


def s(a):
    return [x.decode() for x in a]


def main():
    work = tempfile.mkdtemp(prefix="ms-hullrefs-")
    out = os.path.join(work, "hr.h5")
    r = subprocess.run([MPIEXEC, "-n", "2", MS, "--quiet", "run", os.path.join(DATA, "campaign.yaml"), "-o", out],
                       capture_output=True, text=True)
    check(r.returncode == 0, "campaign with user references runs: " + r.stderr[-300:])
    if r.returncode:
        return
    f = h5py.File(out, "r")
    h = f["hull"]
    rf, rp = s(h["reference_formula"][()]), s(h["reference_prototype"][()])
    re_ = h["reference_energy_eV_per_atom"][()]
    end = h["reference_is_end_member"][()]
    check(sorted(np.array(rf)[end == 1]) == ["CaO", "SrO", "TiO2"], "end members SrO, CaO, TiO2: %s" % rf)
    check("SrTiO3.cif" in rp and rf[rp.index("SrTiO3.cif")] == "SrTiO3", "the structure file is a reference phase")
    i = rp.index("made-up low CaTiO3")
    check(rf[i] == "CaTiO3" and re_[i] == -40.0 and end[i] == 0, "the CSV entry with its name and energy")
    c = f["candidates"]
    fo = s(c["formula"][()])
    eh = c["e_above_hull_eV_per_atom"][()]
    er = c["e_relaxed_eV_per_atom"][()]
    dec = s(c["decomposition"][()])
    # pymatgen on the same energies: terminal compositions = the end members
    ents = [PDEntry(Composition(x), e * Composition(x).num_atoms, name="ref%d" % k)
            for k, (x, e) in enumerate(zip(rf, re_))]
    cand = [PDEntry(Composition(x), e * Composition(x).num_atoms, name="c%d" % k)
            for k, (x, e) in enumerate(zip(fo, er)) if np.isfinite(e)]
    pd = CompoundPhaseDiagram(ents + cand, [Composition(x) for x in np.array(rf)[end == 1]])
    worst = 0.0
    for k, e in enumerate(cand):
        tr = pd.transform_entries([e], pd.terminal_compositions)[0][0]
        ref = pd.get_e_above_hull(tr)
        # pymatgen's energies per atom are per "atom" of the transformed composition (end-member
        # units); convert back to per real atom
        per_real = ref * tr.composition.num_atoms / e.composition.num_atoms
        worst = max(worst, abs(per_real - eh[int(e.name[1:])]))
    check(worst < 1e-6, "e_above_hull equals pymatgen's CompoundPhaseDiagram (max diff %.2e eV/atom)" % worst)
    for k in range(len(fo)):
        if fo[k] == "CaTiO3":
            check(abs(eh[k] - (er[k] + 40.0)) < 1e-9 and dec[k] == "1 CaTiO3",
                  "candidate %d CaTiO3 lies above the CSV phase by its energy difference" % k)
    # per chemical system
    sysn = s(h["systems/name"][()])
    check(sorted(sysn) == ["Ca-O-Ti", "O-Sr-Ti"], "chemical systems %s" % sysn)
    ps, pf, pid = s(h["phases/system"][()]), s(h["phases/formula"][()]), h["phases/candidate_id"][()]
    stable = set(h["stable_candidate_id"][()].tolist())
    on = h["reference_on_hull"][()]
    for name in sysn:
        els = set(name.split("-"))
        want = sorted([rf[k] for k in range(len(rf)) if on[k] and set(Composition(rf[k]).as_dict()) <= els] +
                      [fo[k] for k in stable if set(Composition(fo[k]).as_dict()) <= els])
        got = sorted([pf[k] for k in range(len(ps)) if ps[k] == name])
        check(got == want, "/hull/phases of %s: %s" % (name, got))
    check(all((pid[k] in stable) or pid[k] == -1 for k in range(len(pid))), "phase rows name stable candidates or references")
    f.close()
    # bad references
    bad = {
        "auto: false": ("references: {auto: false}", "always"),
        "missing structure file": ("references: {structures: [no-such.cif]}", "cannot read"),
        "unknown key": ("references: {entrys: refs.csv}", "entries"),
    }
    base = open(os.path.join(DATA, "campaign.yaml")).read()
    for what, (repl, msg) in bad.items():
        y = os.path.join(DATA, "bad_tmp_%d.yaml" % os.getpid())
        with open(y, "w") as g:
            g.write(base.replace("references: {auto: true, structures: [../../../examples/structures/SrTiO3.cif], entries: refs.csv}", repl))
        r = subprocess.run([MPIEXEC, "-n", "2", MS, "run", y, "-o", os.path.join(work, "bad.h5")], capture_output=True, text=True)
        os.remove(y)
        check(r.returncode == 1 and msg in r.stderr and ":12:" in r.stderr, "%s: exit 1, positioned: %s" % (what, r.stderr.strip().splitlines()[0][-150:] if r.stderr.strip() else ""))
    csv = os.path.join(work, "bad.csv")
    with open(csv, "w") as g:
        g.write("formula,energy_per_atom_eV\nBaTiO3,-30\n")
    y = os.path.join(work, "c.yaml")
    with open(y, "w") as g:
        g.write(base.replace("structures: [../../../examples/structures/SrTiO3.cif], entries: refs.csv", "entries: bad.csv"))
    r = subprocess.run([MPIEXEC, "-n", "2", MS, "run", y, "-o", os.path.join(work, "bad2.h5")], capture_output=True, text=True)
    check(r.returncode == 1 and "Ba" in r.stderr and "bad.csv:2" in r.stderr, "CSV with an element outside the campaign: " + r.stderr.strip()[:200])
    # a line the reader cannot hold is an error, not two lines
    with open(csv, "w") as g:
        g.write("formula,energy_per_atom_eV,name\nSrTiO3,-30," + "x" * 1100 + "\n")
    r = subprocess.run([MPIEXEC, "-n", "2", MS, "run", y, "-o", os.path.join(work, "bad3.h5")], capture_output=True, text=True)
    check(r.returncode == 1 and "bad.csv:2: line longer than" in r.stderr, "CSV line over 1022 characters: " + r.stderr.strip()[:200])


main()
print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
