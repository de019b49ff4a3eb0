"""The hull over the elements (docs/stability.md, "The hull stage's reference phases").

usage: check_hull_elements.py MATSCREEN MPIEXEC SOURCE_ROOT

1. `check` reports per chemical system the references it will build and their number of
   relaxations; the numbers equal an enumeration written here from the prototype files (one-label
   prototypes for the elements, molecules only for their own element; two-label prototypes for a
   pair of plain elements in both assignments unless the labels are equivalent; for a cation and
   an anion only ionic prototypes whose site counts balance the charges).
2. `run` of an M3GNet Ni-Al campaign with a hull at 1, 2 and 4 ranks: identical hull tables;
   every e_above_hull equals pymatgen's PhaseDiagram built from the written reference phases and
   candidates; B2 NiAl and L1_2 Ni3Al, the measured stable phases, are on the hull; the Ni
   reference equals a stand-alone `matscreen relax` of fcc Ni; the lab queue's tickets of the
   shortlisted intermetallics name the elements as precursors, in the moles of a formula unit.
3. The standard-state guard: M3GNet's spurious diamond minimum of Nb (1.5 eV/atom below bcc) is
   not taken as the Nb reference; the log says why.
4. `check` and `run` refuse before any work, at the hull stage's line: a missing end-member
   prototype for a rigid-ion model, more than 16 elements, a `binaries` prototype
   that is not a two-label prototype, `binaries` with a rigid-ion model.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import yaml

MS, MPIEXEC, ROOT = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, os.path.join(ROOT, "tests", "reliability"))
from h5tables import same, tables  # noqa: E402

failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


# ---- 1. the plan, enumerated from the prototype files ---------------------------------------

def library():
    d = os.path.join(ROOT, "inputs", "prototypes")
    out = {}
    for fn in sorted(os.listdir(d)):
        if fn.endswith(".yaml"):
            p = yaml.safe_load(open(os.path.join(d, fn)))
            out[p["name"]] = p
    return out


def charge(ion):
    m = re.fullmatch(r"([A-Z][a-z]?)(\d*)([+-])", ion)
    if not m:
        return None
    return (int(m.group(2) or 1)) * (1 if m.group(3) == "+" else -1)


def element(sp):
    return re.match(r"[A-Z][a-z]?", sp).group()


def counts(p):
    c = {}
    for s in p["sites"]:
        c[s["label"]] = c.get(s["label"], 0) + int(re.match(r"\d+", str(s["wyckoff"])).group())
    return c


def expected_jobs(lib, species):
    """Relaxations for one search item of these species (ions 'K+' or plain 'Ni')."""
    els = sorted({element(s) for s in species})
    n = 0
    for e in els:
        for p in lib.values():
            labels = counts(p)
            if len(labels) != 1:
                continue
            molecule = all(int(s["cn"]) <= 1 for s in p["sites"])
            ref = list(p["reference_compound"]["ions"].values())[0]
            if molecule and element(ref) != e:
                continue
            n += 1
    for i, a in enumerate(species):
        for b in species[i + 1:]:
            if element(a) == element(b):
                continue
            for p in lib.values():
                labels = counts(p)
                if len(labels) != 2:
                    continue
                qa, qb = charge(a), charge(b)
                if qa is None and qb is None:
                    eq = any(set(labels) <= set(g) for g in p.get("equivalent_labels", []))
                    n += 1 if eq else 2
                    continue
                if (qa > 0) == (qb > 0):
                    continue
                refq = {lab: charge(ion) for lab, ion in p["reference_compound"]["ions"].items()}
                if any(q is None for q in refq.values()) or len({q > 0 for q in refq.values()}) != 2:
                    continue
                cat = a if qa > 0 else b
                an = b if qa > 0 else a
                lc = [lab for lab in labels if refq[lab] > 0][0]
                la = [lab for lab in labels if refq[lab] < 0][0]
                if labels[lc] * charge(cat) == labels[la] * -charge(an):
                    n += 1
    return n


PLAN = """campaign: {name: plan, seed: 1}
potential: m3gnet-mp-2021.2.8
search:
  - generator: prototype_substitution
    prototypes: [cscl, l1_2]
    sites: {A: [Ni, Al, Ti], X: [Ni, Al, Ti], B: [Ni, Al, Ti]}
    distinct: true
  - generator: prototype_substitution
    prototypes: [perovskite_cubic]
    sites: {A: [K+, Cs+], B: [Pb2+], X: [Cl-, Br-]}
funnel:
  - {stage: relax}
  - {stage: hull}
"""


def plan(work):
    lib = library()
    camp = os.path.join(work, "plan.yaml")
    write(camp, PLAN)
    r = subprocess.run([MS, "check", camp, "--no-calibrate"], capture_output=True, text=True)
    check(r.returncode == 0, "check of a two-item hull campaign: %s" % r.stderr[-300:])
    rows = re.findall(r"search\[(\d)\] (\S+): (\d+) elements? in (\d+) structures, (\d+) pairs? in (\d+) binary "
                      r"structures: (\d+) relaxations", r.stdout)
    check(len(rows) == 2, "check reports both chemical systems: %s" % rows)
    items = [["Ni", "Al", "Ti"], ["K+", "Cs+", "Pb2+", "Cl-", "Br-"]]
    for row, sp in zip(rows, items):
        want = expected_jobs(lib, sp)
        check(int(row[6]) == want, "search[%s] %s: %s relaxations, enumerated from the prototype files %d"
              % (row[0], row[1], row[6], want))
    m = re.search(r"total: at most (\d+) relaxations", r.stdout)
    total = int(m.group(1)) if m else -1
    check(total == sum(int(x[6]) for x in rows), "the total is the sum (no system shared): %d" % total)


# ---- 2. a run against pymatgen --------------------------------------------------------------

RUN = """campaign: {name: nial, seed: 3}
potential: m3gnet-mp-2021.2.8
search:
  - generator: prototype_substitution
    prototypes: [cscl, l1_0, l1_2, d0_19, fcc]
    sites: {A: [Ni, Al], X: [Ni, Al], B: [Ni, Al]}
    distinct: true
funnel:
  - {stage: relax, cell: full, fmax: 0.01, max_steps: 500}
  - {stage: dedup}
  - {stage: hull, references: {binaries: [cscl, l1_0, l1_2, d0_19, d0_3, a15, c15]}}
shortlist: {size: 3}
"""


def phase_diagram_check(path):
    from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
    from pymatgen.core import Composition
    f = h5py.File(path, "r")
    h, c = f["hull"], f["candidates"]
    dec = lambda a: [x.decode() for x in a]  # noqa: E731
    refs = [PDEntry(Composition(fo), e * Composition(fo).num_atoms)
            for fo, e in zip(dec(h["reference_formula"][()]), h["reference_energy_eV_per_atom"][()])]
    eh = c["e_above_hull_eV_per_atom"][()]
    fo = dec(c["formula"][()])
    er = c["e_relaxed_eV_per_atom"][()]
    st = dec(c["structure_type"][()])
    cand = [(i, PDEntry(Composition(fo[i]), er[i] * Composition(fo[i]).num_atoms))
            for i in range(len(eh)) if np.isfinite(eh[i])]
    pd = PhaseDiagram(refs + [x for _, x in cand])
    worst = max(abs(pd.get_e_above_hull(x) - eh[i]) for i, x in cand)
    check(len(cand) >= 4 and worst < 1e-9, "e_above_hull of %d candidates equals pymatgen's PhaseDiagram "
          "(worst %.2g eV/atom)" % (len(cand), worst))
    best = {}
    for i, _ in cand:
        x = Composition(fo[i]).fractional_composition
        key = (round(x["Ni"], 6), st[i])
        best[key] = min(best.get(key, 9), eh[i])
    check(best.get((0.5, "cscl"), 9) < 1e-3, "B2 NiAl is on the hull: %s (%s)" % (best.get((0.5, "cscl")), best))
    check(best.get((0.75, "l1_2"), 9) < 1e-3, "L1_2 Ni3Al is on the hull: %s" % best.get((0.75, "l1_2")))
    forms = dec(h["reference_formula"][()])
    ends = h["reference_is_end_member"][()]
    check(sorted(f for f, e in zip(forms, ends) if e) == ["Al", "Ni"], "the end members are the elements: %s"
          % [f for f, e in zip(forms, ends) if e])
    ni = forms.index("Ni")
    return h["reference_energy_eV_per_atom"][ni], dec(h["reference_prototype"][()])[ni]


def run(work):
    camp = os.path.join(work, "run.yaml")
    write(camp, RUN)
    outs = []
    for n in (1, 2, 4):
        out = os.path.join(work, "run%d.h5" % n)
        r = subprocess.run([MPIEXEC, "-n", str(n), MS, "run", camp, "-o", out], capture_output=True, text=True,
                           timeout=600)
        check(r.returncode == 0, "run at %d ranks: %s" % (n, r.stderr[-400:]))
        check("hull references:" in r.stderr and "relaxations" in r.stderr,
              "the log reports the reference relaxations at %d ranks" % n)
        outs.append(out)
    if failures:
        return
    t = [tables(o) for o in outs]
    s1, s2 = same(t[0], t[1]), same(t[0], t[2])
    check(s1[0] and s2[0], "every table identical at 1, 2 and 4 ranks %s %s" % (s1[1], s2[1]))
    e_ni, proto = phase_diagram_check(outs[1])
    # lab hand-off: an intermetallic's precursors are its elements, in the moles of one formula unit
    db = os.path.join(work, "q.db")
    r = subprocess.run([MS, "queue", "push", outs[1], "--db", db], capture_output=True, text=True)
    check(r.returncode == 0, "queue push: %s" % r.stderr[-300:])
    r = subprocess.run([MS, "queue", "list", "--db", db, "--json"], capture_output=True, text=True)
    tickets = json.loads(r.stdout) if r.returncode == 0 else []
    check(len(tickets) == 3, "3 tickets: %d" % len(tickets))
    for t in tickets:
        want = {el: int(n or 1) for el, n in re.findall(r"([A-Z][a-z]?)(\d*)", t["formula"])}
        got = {p["formula"]: p["mol_per_mol_target"] for p in t["precursors"]}
        check(got == want and abs(sum(p["fraction"] for p in t["precursors"]) - 1) < 1e-12,
              "ticket %s: elemental precursors %s" % (t["formula"], t["precursors"]))
    # the Ni reference against a stand-alone relaxation of fcc Ni
    cif = os.path.join(work, "ni.yaml")
    write(cif, "campaign: {name: ni, seed: 1}\npotential: m3gnet-mp-2021.2.8\nsearch:\n  - generator: "
               "prototype_substitution\n    prototypes: [fcc]\n    sites: {A: [Ni]}\nfunnel:\n  - {stage: relax}\n")
    gdir = os.path.join(work, "ni")
    subprocess.run([MS, "generate", cif, "-d", gdir, "-f", "extxyz"], capture_output=True, text=True, check=True)
    xyz = [os.path.join(gdir, f) for f in os.listdir(gdir) if f.endswith(".xyz")][0]
    r = subprocess.run([MS, "relax", xyz, "--potential", "m3gnet-mp-2021.2.8", "--json"], capture_output=True,
                       text=True)
    m = re.search(r'"energy_per_atom_eV"\s*:\s*(-?[\d.eE+-]+)', r.stdout)
    e_alone = float(m.group(1)) if m else float("nan")
    check(proto == "fcc" and abs(e_alone - e_ni) < 2e-4,
          "the Ni reference (%s, %.6f eV/atom) equals `matscreen relax` of fcc Ni (%.6f)" % (proto, e_ni, e_alone))


# ---- 3. the standard-state guard ------------------------------------------------------------

NB = """campaign: {name: nb, seed: 1}
potential: m3gnet-mp-2021.2.8
search:
  - generator: prototype_substitution
    prototypes: [bcc, fcc]
    sites: {A: [Nb]}
funnel:
  - {stage: relax}
  - {stage: hull}
"""


def guard(work):
    camp = os.path.join(work, "nb.yaml")
    write(camp, NB)
    out = os.path.join(work, "nb.h5")
    r = subprocess.run([MS, "run", camp, "-o", out], capture_output=True, text=True, timeout=300)
    check(r.returncode == 0, "Nb campaign runs: %s" % r.stderr[-300:])
    if r.returncode:
        return
    f = h5py.File(out, "r")
    proto = [x.decode() for x in f["hull/reference_prototype"][()]]
    check(proto == ["bcc"], "the Nb reference is bcc, its standard state, not M3GNet's diamond artefact: %s" % proto)
    check(re.search(r"Nb in diamond relaxed to .* below its standard-state structure bcc", r.stderr) is not None,
          "the log names the artefact: %s" % r.stderr[-400:])
    eh = f["candidates/e_above_hull_eV_per_atom"][()]
    check(np.nanmin(eh) < 1e-9, "bcc Nb is on the hull: %s" % eh)


# ---- 4. refusals ----------------------------------------------------------------------------

BAD = """campaign: {name: bad, seed: 1}
potential: %s
search:
  - generator: prototype_substitution
    prototypes: [%s]
    sites: %s
funnel:
  - {stage: relax}
  - {stage: hull%s}
"""


def refusals(work):
    many = "[" + ", ".join(["Li", "Be", "Na", "Mg", "Al", "Si", "K", "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co",
                            "Ni", "Cu"]) + "]"
    cases = [
        ("missing end-member prototype", BAD % ("pedone2006", "zircon", "{A: [Al3+], B: [P5+], X: [O2-]}", ""),
         ":9:5: funnel[1]: the hull's end member, the binary compound of P5+ and O2- (A2X5), cannot be built"),
        ("17 elements", BAD % ("m3gnet-mp-2021.2.8", "fcc", "{A: %s}" % many, ""),
         ":9:5: funnel[1]: the hull's components are the elements of the search space: 17 elements"),
        ("unknown binaries prototype", BAD % ("m3gnet-mp-2021.2.8", "cscl", "{A: [Ni], X: [Al]}",
                                              ", references: {binaries: [cscl, perovskite_cubic]}"),
         ":9:49: funnel[1].references.binaries[1]: 'perovskite_cubic' is not a two-label prototype"),
        ("binaries with a rigid-ion model", BAD % ("bush1994", "rocksalt", "{A: [Mg2+], X: [O2-]}",
                                                   ", references: {binaries: false}"),
         ":9:31: funnel[1].references: 'binaries' chooses the binaries of a hull over the elements"),
    ]
    camp = os.path.join(work, "bad.yaml")
    for what, text, msg in cases:
        write(camp, text)
        r = subprocess.run([MS, "check", camp, "--no-calibrate"], capture_output=True, text=True)
        ok = r.returncode == 1 and (camp + msg) in r.stderr
        check(ok, "check refuses %s: %s" % (what, r.stderr.strip()[-300:]))
    # run refuses the same on every rank before any work (the last case written)
    write(camp, cases[1][1])
    out = os.path.join(work, "bad.h5")
    r = subprocess.run([MPIEXEC, "-n", "2", MS, "run", camp, "-o", out], capture_output=True, text=True, timeout=120)
    check(r.returncode == 1 and "17 elements" in r.stderr and not os.path.exists(out)
          and not os.path.exists(out + ".checkpoint"),
          "run refuses before any work, nothing left behind: %s" % r.stderr.strip()[-200:])


def main():
    work = tempfile.mkdtemp(prefix="hull_elements_")
    try:
        plan(work)
        refusals(work)
        guard(work)
        run(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
