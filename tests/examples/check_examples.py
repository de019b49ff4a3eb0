"""Runs every example campaign in examples/ at 2 ranks and checks what its README says the
funnel finds (with the rigid-ion Bush 1994 potential; intermetallics with M3GNet; the two-model
funnel with both): every number and every finding of the README, the good ones and the ones
where the model is wrong. The two-model funnel also runs at 1 rank (identical tables) and next
to its M3GNet-only campaign, against which its README measures what the cheap stage loses.

usage: check_examples.py MATSCREEN MPIEXEC SOURCE_ROOT [EXAMPLE ...]

The READMEs are also read: no stale text ("once ... exist", paths into notes outside the
repository), and the run time each states is the one phrase used everywhere.
"""
import os
import re
import subprocess
import sys
import tempfile

import h5py
import numpy as np

exe, mpiexec, root = sys.argv[1:4]
only = set(sys.argv[4:])
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)
    return cond


def near(x, want, tol):
    return x is not None and np.isfinite(x) and abs(x - want) <= tol


class Table:
    """/candidates as plain Python: rows by id, helpers by (formula, prototype)."""

    def __init__(self, f):
        c = f["candidates"]
        self.cols = {k: c[k][()] for k in c}
        n = len(self.cols["id"])
        dec = lambda k: [x.decode() for x in self.cols[k]]  # noqa: E731
        self.id = [int(x) for x in self.cols["id"]]
        self.formula, self.proto = dec("formula"), dec("prototype")
        self.stype = dec("structure_type") if "structure_type" in self.cols else [""] * n
        self.status, self.rstatus, self.decomp = dec("status"), dec("relax_status"), dec("decomposition")
        self.er, self.es = self.cols["e_relaxed_eV_per_atom"], self.cols["e_single_point_eV_per_atom"]
        self.eh, self.dup = self.cols["e_above_hull_eV_per_atom"], self.cols["duplicate_of"]
        self.sg, self.natoms = self.cols["spacegroup"], self.cols["natoms"]
        self.n = n

    def rows(self, formula=None, proto=None):
        return [k for k in range(self.n) if (formula is None or self.formula[k] == formula)
                and (proto is None or self.proto[k] == proto)]

    def one(self, formula, proto):
        r = self.rows(formula, proto)
        return r[0] if len(r) == 1 else None

    def relaxed(self, formula, proto):
        k = self.one(formula, proto)
        return float(self.er[k]) if k is not None else None

    def lowest(self, formula):
        """Row of the lowest converged relaxation of a formula."""
        r = [k for k in self.rows(formula) if np.isfinite(self.er[k])]
        return min(r, key=lambda k: self.er[k]) if r else None


def perovskite(f):
    t = Table(f)
    check(t.n == 74, f"74 candidates: {t.n}")
    check(all(np.isfinite(t.er[k]) for k in range(t.n)), "every candidate is relaxed and converges")
    # single points against relaxed energies: the keep rule the README explains away
    gap = {k: float(t.es[k] - t.er[k]) for k in range(t.n)}
    ilm = [k for k in range(t.n) if t.proto[k] == "ilmenite"]
    per = [k for k in range(t.n) if t.proto[k].startswith("perovskite") or t.proto[k] == "double_perovskite"]
    worst = max(ilm, key=lambda k: gap[k])
    check(near(gap[worst], 2.30, 0.01) and t.formula[worst] == "BaTiO3",
          f"ilmenite starts up to 2.30 eV/atom above their relaxed energy (BaTiO3): {gap[worst]} {t.formula[worst]}")
    check(near(max(gap[k] for k in per), 0.52, 0.01), f"perovskite starts at most 0.52: {max(gap[k] for k in per)}")
    for ti in ("CaTiO3", "SrTiO3", "BaTiO3"):
        k = t.one(ti, "ilmenite")
        above = t.es[k] - min(t.es[j] for j in t.rows(ti))
        check(0.9 - 0.01 <= above <= 2.0 + 0.01 and t.lowest(ti) == k,
              f"{ti}: ilmenite starts {above} above the best single point (0.9-2.0) and ends lowest")
    # La and Nd: on the hull as perovskites, ilmenite 0.13-0.24 above
    want_proto = {"LaAlO3": "perovskite_cubic"}
    for fo in ("LaAlO3", "LaFeO3", "LaGaO3", "NdAlO3", "NdFeO3", "NdGaO3"):
        k = t.lowest(fo)
        rep = k if t.dup[k] < 0 else t.id.index(int(t.dup[k]))
        check(near(t.eh[rep], 0.0, 1e-9), f"{fo} on the hull: {t.eh[rep]}")
        check(t.stype[rep] == want_proto.get(fo, "perovskite_pnma"), f"{fo} lowest as {t.stype[rep]}")
        ki = t.one(fo, "ilmenite")
        check(0.13 - 0.005 <= t.eh[ki] <= 0.24 + 0.005, f"{fo} ilmenite {t.eh[ki]} above the hull (0.13-0.24)")
    # titanates: ilmenite lowest, cubic above it by 0.034, 0.149, 0.308
    for ti, d in (("CaTiO3", 0.034), ("SrTiO3", 0.149), ("BaTiO3", 0.308)):
        ki, kc = t.one(ti, "ilmenite"), t.one(ti, "perovskite_cubic")
        check(t.lowest(ti) == ki and near(t.er[kc] - t.er[ki], d, 0.0015),
              f"{ti}: ilmenite {d} below cubic: {t.er[kc] - t.er[ki]}")
        check(near(t.eh[ki], 0.0, 1e-9) and t.eh[kc] > 0.03, f"{ti}: ilmenite on the hull, cubic above ({t.eh[kc]})")
    # Ca and Sr perovskite starts merge into the 5-atom cubic one
    for ti in ("CaTiO3", "SrTiO3"):
        starts = [k for k in t.rows(ti) if t.proto[k] != "ilmenite"]
        kc = t.one(ti, "perovskite_cubic")
        check(len(starts) >= 3 and all(t.sg[k] == 221 for k in starts), f"{ti}: every perovskite start relaxes to Pm-3m")
        check(t.dup[kc] < 0 and all(t.dup[k] == t.id[kc] for k in starts if k != kc) and t.natoms[kc] == 5
              and t.stype[kc] == "perovskite_cubic", f"{ti}: one group, represented by the 5-atom cubic start")
    kp, kc = t.one("BaTiO3", "perovskite_pnma"), t.one("BaTiO3", "perovskite_cubic")
    check(t.sg[kp] == 127 and near(t.er[kc] - t.er[kp], 0.018, 0.0015),
          f"BaTiO3 Pnma start: P4/mbm {t.sg[kp]}, {t.er[kc] - t.er[kp]} below cubic")
    # Gd and Y: every perovskite 0.08-0.43 above (Pnma 0.08-0.18), ilmenite lowest, 0.03-0.10 above
    for fo in ("GdAlO3", "GdFeO3", "GdGaO3", "YAlO3", "YFeO3", "YGaO3"):
        pk = [k for k in t.rows(fo) if t.proto[k].startswith("perovskite")]
        check(all(0.08 <= t.eh[k] <= 0.43 for k in pk), f"{fo} perovskites {[float(t.eh[k]) for k in pk]} in 0.08-0.43")
        kp = t.one(fo, "perovskite_pnma")
        check(0.08 <= t.eh[kp] <= 0.18, f"{fo} Pnma {t.eh[kp]} in 0.08-0.18")
        ki = t.one(fo, "ilmenite")
        check(t.lowest(fo) == ki and 0.03 - 0.001 <= t.eh[ki] <= 0.10 + 0.005, f"{fo}: ilmenite lowest, {t.eh[ki]} above")
        check(t.decomp[ki].count("O3") == 2 and "id:" not in t.decomp[ki], f"{fo} decomposes into binaries: {t.decomp[ki]}")
    # end members
    refs = dict(zip((x.decode() for x in f["hull/reference_formula"][()]),
                    (x.decode() for x in f["hull/reference_prototype"][()])))
    check(len(refs) == 11, f"eleven binary-oxide references: {sorted(refs)}")
    check(refs.get("CaO") == "wurtzite", f"CaO end member in wurtzite: {refs.get('CaO')}")
    check(all(refs.get(x) == "corundum" for x in ("La2O3", "Nd2O3", "Gd2O3", "Y2O3")), f"rare-earth oxides in corundum: {refs}")
    # double perovskites
    dp = [k for k in t.rows(proto="double_perovskite") if len(t.formula[k]) > 6]
    check(len(dp) == 6, f"six ordered double perovskites: {[t.formula[k] for k in dp]}")
    for k in dp:
        ids = re.findall(r"id:(\d+)", t.decomp[k])
        check(t.sg[k] == 225 and t.stype[k] == "double_perovskite" and 0.001 <= t.eh[k] <= 0.08 + 0.001
              and len(ids) == 2 and t.decomp[k].startswith("0.5 "),
              f"{t.formula[k]}: Fm-3m, {t.eh[k]} above a 50/50 mixture of two perovskites: {t.decomp[k]}")
    # shortlist
    sl = [int(i) for i in f["shortlist/candidate_id"][()]]
    named = [(t.formula[t.id.index(i)], t.proto[t.id.index(i)]) for i in sl]
    check(named[1] == ("BaTiO3", "ilmenite") and ("CaTiO3", "perovskite_cubic") in named and ("YGaO3", "ilmenite") in named
          and {"LaAlO3", "LaFeO3", "LaGaO3", "NdFeO3", "Nd2AlGaO6"} <= {x[0] for x in named} and len(sl) == 8,
          f"shortlist {named}")
    # every candidate above the hull names its decomposition; those on it name none
    for k in range(t.n):
        if np.isfinite(t.eh[k]):
            check((t.eh[k] > 1e-6) == (t.decomp[k] != ""), f"decomposition of {t.id[k]}: '{t.decomp[k]}'")
    no_duplicates_left(f)
    return t


def no_duplicates_left(f):
    """The dedup stage found every duplicate: no two relaxed structures it kept (every row of
    /structures: the dedup survivors, including those the hull removed) are the same crystal
    for pymatgen's StructureMatcher (default tolerances, species compared), except pairs whose
    space groups differ at spglib's default tolerance: matscreen's matcher never merges those
    (a distorted polymorph next to its parent; docs/stability.md), pymatgen may."""
    try:
        from pymatgen.analysis.structure_matcher import StructureMatcher
        from pymatgen.core import Lattice, Structure
    except ImportError:
        print("pymatgen missing: all-pairs duplicate check skipped", file=sys.stderr)
        return
    s = f["structures"]
    c = f["candidates"]
    dup = dict(zip(c["id"][:], c["duplicate_of"][:]))
    sg = dict(zip(c["id"][:], c["spacegroup"][:]))
    structs = []
    for k in range(s["candidate_id"].shape[0]):
        if dup[s["candidate_id"][k]] >= 0:
            continue
        o, n = s["offset"][k], s["natoms"][k]
        sp = [x.decode() for x in s["species"][o:o + n]]
        structs.append((s["candidate_id"][k], Structure(Lattice(s["lattice_A"][k]), sp, s["frac_positions"][o:o + n])))
    sm = StructureMatcher()
    pairs = guarded = 0
    for a in range(len(structs)):
        for b in range(a + 1, len(structs)):
            if structs[a][1].composition.reduced_formula != structs[b][1].composition.reduced_formula:
                continue
            pairs += 1
            ia, ib = structs[a][0], structs[b][0]
            if sg[ia] != sg[ib]:
                if sm.fit(structs[a][1], structs[b][1]):
                    guarded += 1
                continue
            check(not sm.fit(structs[a][1], structs[b][1]),
                  f"dedup survivors {ia} and {ib} are duplicates pymatgen finds")
    print(f"all-pairs duplicate check: {len(structs)} dedup survivors, {pairs} same-composition pairs, "
          f"{guarded} matched by pymatgen across different space groups (kept apart by design)", file=sys.stderr)


def spinel(f):
    t = Table(f)
    check(all(np.isfinite(t.er[k]) for k in range(t.n)) and t.n == 18, "all 18 spinels relaxed")
    pairs = 0
    for fo in sorted(set(t.formula)):
        n, i = t.relaxed(fo, "spinel"), t.relaxed(fo, "inverse_spinel")
        if n is not None and i is not None:
            pairs += 1
            check(n < i, f"{fo}: normal below inverse")
    check(pairs == 9, f"normal/inverse pairs compared: {pairs}")
    check(near(t.relaxed("MgAl2O4", "inverse_spinel") - t.relaxed("MgAl2O4", "spinel"), 0.15, 0.005), "MgAl2O4 by 0.15")
    check(near(t.relaxed("MgFe2O4", "inverse_spinel") - t.relaxed("MgFe2O4", "spinel"), 0.09, 0.005), "MgFe2O4 inverse 0.09 above")
    relax_by = {fo: float(t.es[t.one(fo, "spinel")] - t.er[t.one(fo, "spinel")]) for fo in set(t.formula)}
    sr = [relax_by[fo] for fo in relax_by if fo.startswith("Sr")]
    mg = [relax_by[fo] for fo in relax_by if fo.startswith("Mg")]
    check(min(sr) >= 0.5 and max(sr) <= 0.75 and max(mg) <= 0.125, f"normal spinels relax by Sr {sr}, Mg {mg}")
    for fo in ("SrAl2O4", "SrFe2O4", "SrGa2O4"):
        ki = t.one(fo, "inverse_spinel")
        d = t.er[ki] - t.relaxed(fo, "spinel")
        relax_row = [x.decode() for x in f["funnel/stage"][()]].index("relax")
        check(0.41 - 0.005 <= d <= 0.47 + 0.005 and t.cols["rejected_at_stage"][ki] == relax_row,
              f"{fo} inverse {d} above, removed by the relax keep rule")


def binary(f):
    t = Table(f)
    check(t.n == 22, f"22 candidates: {t.n}")
    for fo in ("SrO", "BaO"):
        rs = t.relaxed(fo, "rocksalt")
        check(t.lowest(fo) == t.one(fo, "rocksalt") and 0.5 <= t.relaxed(fo, "cscl") - rs <= 0.7,
              f"{fo}: rock salt lowest, CsCl 0.5-0.7 above")
    for fo, d in (("MgO", 0.155), ("CaO", 0.022)):
        check(t.lowest(fo) == t.one(fo, "wurtzite") and near(t.relaxed(fo, "rocksalt") - t.relaxed(fo, "wurtzite"), d, 0.0015),
              f"{fo}: wurtzite {d} below rock salt (model error, README)")
    check(near(t.relaxed("MgO", "rocksalt") - t.relaxed("MgO", "zincblende"), 0.100, 0.0015), "MgO zinc blende 0.100 below rock salt")
    check(near(t.relaxed("TiO2", "rutile") - t.relaxed("TiO2", "anatase"), 0.30, 0.005), "TiO2: anatase 0.30 below rutile")
    k = t.one("TiO2", "rutile")
    s = f["structures"]
    row = list(s["candidate_id"][()]).index(t.id[k])
    a = sorted(np.linalg.norm(s["lattice_A"][row], axis=1))
    check(near(a[1], 4.349, 0.001) and near(a[2], 4.349, 0.001), f"rutile a = 4.349 Å: {a}")
    kf = t.one("TiO2", "fluorite")
    check(t.rstatus[kf] == "line_search_failed" and not np.isfinite(t.er[kf]) and t.es[kf] > t.relaxed("TiO2", "rutile") + 0.2,
          f"TiO2 fluorite far above, line_search_failed recorded: {t.rstatus[kf]}")
    for fo in ("Al2O3", "Fe2O3", "Ga2O3"):
        check(t.sg[t.one(fo, "corundum")] == 167, f"{fo} corundum R-3c")
    return t


def random_srtio3(f, perov):
    t = Table(f)
    relaxed = [k for k in range(t.n) if np.isfinite(t.er[k])]
    check(len(relaxed) == 40 and all(t.sg[k] == 221 for k in relaxed), f"40 relaxations, all Pm-3m: {len(relaxed)}")
    check(sorted(int(t.natoms[k]) for k in relaxed) == [5] * 27 + [10] * 13, "27 in 5-atom cells, 13 in 10-atom cells")
    e = [float(t.er[k]) for k in relaxed]
    check(max(e) - min(e) < 1e-6 and near(min(e), -31.3971, 5e-5), f"energies {min(e)}..{max(e)}")
    reps = [k for k in relaxed if t.dup[k] < 0]
    check(len(reps) == 1 and t.natoms[reps[0]] == 5 and t.stype[reps[0]] == "perovskite_cubic",
          f"dedup keeps one 5-atom cell named perovskite_cubic: {[(t.id[k], t.stype[k]) for k in reps]}")
    if reps:
        s = f["structures"]
        a = np.linalg.norm(s["lattice_A"][list(s["candidate_id"][()]).index(t.id[reps[0]])], axis=1)
        check(np.allclose(a, 3.834, atol=5e-4), f"a = 3.834 Å: {a}")
    if perov is not None:
        ilm = perov.relaxed("SrTiO3", "ilmenite")
        check(near(min(e) - ilm, 0.149, 0.0015), f"the perovskite example's ilmenite SrTiO3 is 0.149 lower: {min(e) - ilm}")


def readme_text(name):
    text = open(os.path.join(root, "examples", name, "README.md")).read()
    check("once the" not in text and "shared" not in text and "notes" not in text,
          f"{name}: stale text or a path outside the repository")
    times = re.findall(r"about [^\n]*? on 2 cores", text)
    folder = os.path.join(root, "examples", name)
    camps = {c: open(os.path.join(folder, c)).read() for c in sorted(os.listdir(folder))
             if c.startswith("campaign") and c.endswith(".yaml")}
    check(times and all(any(x in camp for camp in camps.values()) for x in times),
          f"{name}: the README's run times {times} are those its campaign files state")
    for c, camp in camps.items():
        said = re.findall(r"about [^\n]*? on 2 cores", camp)
        check(said and all(x in times for x in said), f"{name}: {c} states the run time {said}, the README {times}")
    if name == "perovskite-oxides":  # the first campaign of README.md and docs/postprocessing.md
        for doc in ("README.md", os.path.join("docs", "postprocessing.md")):
            said = re.findall(r"about [^\n]*? on 2 cores", open(os.path.join(root, doc)).read())
            check(said and set(said) == set(times), f"{doc} states the run time of the perovskite example as {said}, "
                                                    f"the example as {times}")


def intermetallics(f):
    """Plain elements with M3GNet (README): NiAl ends in B2 from every low start, TiAl3 in
    D0_22, Ni3Al's L1_2 and D0_19 are not separated, Ni2TiAl stays L2_1; on the hull over the
    elements and 21 binaries: B2 NiAl, D0_22 TiAl3, L2_1 Ni2TiAl, D0_19 Ni3Al."""
    c = f["candidates"]
    rows = [(c["formula"][k].decode(), c["prototype"][k].decode(), float(c["e_relaxed_eV_per_atom"][k]),
             int(c["spacegroup"][k])) for k in range(c["id"].shape[0]) if np.isfinite(c["e_relaxed_eV_per_atom"][k])]
    e = {(fo, p): x for fo, p, x, _ in rows if p}
    sg = {(fo, p): g for fo, p, _, g in rows if p}
    nial = [x for fo, p, x, g in rows if fo == "AlNi"]
    check(abs(min(nial) - e[("AlNi", "cscl")]) < 1e-4 and sg[("AlNi", "cscl")] == 221, "NiAl: B2 is the lowest NiAl")
    check(abs(e[("AlNi", "l1_0")] - e[("AlNi", "cscl")]) < 1e-4 and sg[("AlNi", "l1_0")] == 221,
          "NiAl: the L1_0 start relaxes into B2")
    b2_random = sum(1 for fo, p, x, g in rows if fo == "AlNi" and not p and g == 221 and abs(x - e[("AlNi", "cscl")]) < 1e-4)
    check(b2_random >= 1, f"NiAl: random draws that end in B2: {b2_random}")
    ti = {p: e[("TiAl3", p)] for p in ("l1_2", "d0_3", "d0_19", "d0_22")}
    check(min(ti, key=ti.get) == "d0_22" and sorted(ti.values())[1] - ti["d0_22"] > 0.005, f"TiAl3: D0_22 lowest: {ti}")
    ni = {p: e[("AlNi3", p)] for p in ("l1_2", "d0_3", "d0_19", "d0_22")}
    check(abs(ni["l1_2"] - ni["d0_19"]) < 0.005 and ni["d0_3"] - min(ni.values()) > 0.02, f"Ni3Al: L1_2 and D0_19 not separated: {ni}")
    check(sg[("TiAlNi2", "l2_1")] == 225, "Ni2TiAl stays L2_1")
    # the hull over the elements and the binaries of the three pairs
    h = f["hull"]
    refs = [x.decode() for x in h["reference_formula"][()]]
    ends = [r for r, m in zip(refs, h["reference_is_end_member"][()]) if m]
    check(sorted(ends) == ["Al", "Ni", "Ti"], f"hull end members are the elements: {ends}")
    check(len(refs) - len(ends) == 21, f"21 binary compositions as competing phases: {len(refs) - len(ends)}")
    chk = subprocess.run([exe, "check", os.path.join(root, "examples", "intermetallics", "campaign.yaml"),
                          "--no-calibrate"], capture_output=True, text=True)
    check(re.search(r"search\[0\] \S+: 3 elements in 21 structures, 3 pairs in 174 binary structures: 195 relaxations",
                    chk.stdout) is not None, f"check plans 195 reference relaxations: {chk.stdout[-400:]}")
    eh = {}
    for k in range(c["id"].shape[0]):
        x = float(c["e_above_hull_eV_per_atom"][k])
        if np.isfinite(x):
            key = (c["formula"][k].decode(), c["structure_type"][k].decode())
            eh[key] = min(eh.get(key, 9.0), x)
    for key in (("AlNi", "cscl"), ("TiAl3", "d0_22"), ("TiAlNi2", "l2_1"), ("AlNi3", "d0_19")):
        check(eh.get(key, 9.0) < 1e-6, f"on the hull: {key} ({eh.get(key)})")
    check(near(eh.get(("AlNi3", "l1_2")), 0.0006, 0.0005), f"L1_2 Ni3Al 0.6 meV/atom above: {eh.get(('AlNi3', 'l1_2'))}")
    for p, want in (("l1_2", 0.012), ("d0_19", 0.015), ("d0_3", 0.032)):
        check(near(eh.get(("TiAl3", p)), want, 0.0015), f"TiAl3 {p} {want} above the hull: {eh.get(('TiAl3', p))}")
    no_duplicates_left(f)


def halides(f):
    """Halide perovskites with M3GNet on a hull over the elements (README): Pnma lowest and on
    the hull for every ABX3, the cubic CsPbX3 14/24/37 meV/atom above, margins against the
    binaries growing K < Rb < Cs and smallest for the iodide, double perovskites on the hull."""
    from collections import defaultdict
    c, h = f["candidates"], f["hull"]
    refs = {x.decode(): e for x, e in zip(h["reference_formula"][()], h["reference_energy_eV_per_atom"][()])}
    ends = [x.decode() for x, m in zip(h["reference_formula"][()], h["reference_is_end_member"][()]) if m]
    check(len(ends) == 12 and len(refs) - len(ends) == 23, f"12 elements and 23 binary halides: {len(ends)}, {len(refs) - len(ends)}")
    chk = subprocess.run([exe, "check", os.path.join(root, "examples", "halide-perovskites", "campaign.yaml"),
                          "--no-calibrate"], capture_output=True, text=True)
    check("total: at most 179 relaxations" in chk.stdout, f"check plans 179 reference relaxations: {chk.stdout[-300:]}")
    n = c["id"].shape[0]
    check(n == 62, f"62 candidates: {n}")

    def counts(fo):
        return {el: int(k or 1) for el, k in re.findall(r"([A-Z][a-z]?)(\d*)", fo)}

    def binary(el, x):
        for fo, e in refs.items():
            cc = counts(fo)
            if set(cc) == {el, x}:
                return cc, e
        return None, None

    def margin(fo, e):
        """meV/atom of the compound below the sum of its binary halides (the library's)."""
        cc = counts(fo)
        x = [el for el in cc if el in ("Cl", "Br", "I")][0]
        tot = 0.0
        for el, k in cc.items():
            if el == x:
                continue
            bc, be = binary(el, x)
            if bc is None:
                return None
            tot += be * sum(bc.values()) * k / bc[el]
        return 1000 * (e * sum(cc.values()) - tot) / sum(cc.values())

    e_by = defaultdict(dict)
    eh = {}
    for k in range(n):
        fo, p = c["formula"][k].decode(), c["prototype"][k].decode()
        e_by[fo][p] = float(c["e_relaxed_eV_per_atom"][k])
        eh[(fo, p)] = float(c["e_above_hull_eV_per_atom"][k])
    abx3 = [fo for fo in e_by if "perovskite_pnma" in e_by[fo]]
    check(len(abx3) == 18, f"18 ABX3 compositions: {len(abx3)}")
    for fo in abx3:
        check(min(e_by[fo], key=e_by[fo].get) == "perovskite_pnma" and eh[(fo, "perovskite_pnma")] < 1e-9,
              f"{fo}: Pnma lowest and on the hull: {e_by[fo]}")
    for x, want in (("Cl", 0.014), ("Br", 0.024), ("I", 0.037)):
        fo = "CsPb" + x + "3"
        check(near(eh.get((fo, "perovskite_cubic")), want, 0.0015), f"cubic {fo} {want} above: {eh.get((fo, 'perovskite_cubic'))}")
    m = {fo: margin(fo, e_by[fo]["perovskite_pnma"]) for fo in abx3}
    check(all(v is not None and v < 0 for v in m.values()), f"every ABX3 below its binaries: {m}")
    for b in ("Pb", "Sr"):
        for x in ("Cl", "Br", "I"):
            k, r, s = (m.get(a + b + x + "3") for a in ("K", "Rb", "Cs"))
            check(None not in (k, r, s) and k > r > s, f"{b}{x}: margin grows K < Rb < Cs: {k}, {r}, {s}")
        for a in ("K", "Rb", "Cs"):
            v = [m.get(a + b + x + "3") for x in ("Cl", "Br", "I")]
            check(None not in v and v[2] == max(v), f"{a}{b}: the iodide has the smallest margin: {v}")
    for fo, want in (("CsPbBr3", -48), ("RbPbBr3", -26), ("KPbBr3", -18), ("KPbI3", -0.6)):
        check(near(m.get(fo), want, 1.0), f"{fo} {want} meV/atom below the binaries: {m.get(fo)}")
    check(all(-12.5 < m[a + "PbI3"] < 0 for a in ("K", "Rb")), "K and Rb lead iodides stable by 1 to 12 meV/atom")
    dp = [fo for fo in e_by if "double_perovskite" in e_by[fo]]
    check(len(dp) == 8 and all(eh[(fo, "double_perovskite")] < 1e-9 for fo in dp), f"8 double perovskites on the hull: {dp}")
    check(near(margin("Cs2AgBiBr6", e_by["Cs2AgBiBr6"]["double_perovskite"]), -48, 1.0), "Cs2AgBiBr6 48 meV/atom below its binaries")
    cs = [x.decode() for x, fo in zip(h["reference_prototype"][()], h["reference_formula"][()]) if fo.decode() in ("CsCl", "CsBr", "CsI")]
    check(cs == ["rocksalt"] * 3, f"the caesium halides' reference is rock salt: {cs}")



def run_campaign(tmp, name, campaign="campaign.yaml", ranks=2):
    """Runs examples/NAME/CAMPAIGN at RANKS ranks; the output's path, or None if it failed."""
    out = os.path.join(tmp, f"{name}-{os.path.splitext(campaign)[0]}-{ranks}.h5")
    cmd = [mpiexec, "-n", str(ranks), "--oversubscribe", exe, "--quiet", "run",
           os.path.join(root, "examples", name, campaign), "-o", out]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    check(p.returncode == 0, f"{name} {campaign} at {ranks} ranks: exit {p.returncode}: {p.stderr[-500:]}")
    return out if p.returncode == 0 else None


def md_table(text, first_header):
    """Rows (lists of stripped cells) of the markdown table whose header starts with FIRST_HEADER."""
    lines = text.splitlines()
    start = [k for k, line in enumerate(lines) if line.startswith("| " + first_header + " |")]
    if not check(len(start) == 1, f"one README table headed '{first_header}'"):
        return []
    rows = []
    for line in lines[start[0] + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return rows


def same_tables(f, g, what):
    """/candidates (timings excepted), /structures and /funnel's counts and models are identical."""
    skip = {"relax_time_s", "single_point_time_s"}
    for group in ("candidates", "structures"):
        for k in f[group]:
            if k in skip:
                continue
            a, b = f[group][k][()], g[group][k][()]
            eq = a.shape == b.shape and (np.array_equal(a, b, equal_nan=True) if a.dtype.kind == "f" else np.array_equal(a, b))
            check(eq, f"{what}: /{group}/{k} differs")
    for k in ("stage", "count_in", "count_out", "model", "by_status"):
        check(np.array_equal(f["funnel"][k][()], g["funnel"][k][()]), f"{what}: /funnel/{k} differs")


# examples/two-model-funnel: names of the README's tables -> (start prototype, space group after relaxing)
TWO_MODEL_NAMES = {"Pnma perovskite": ("perovskite_pnma", 62), "R-3c perovskite": ("perovskite_r3c", 167),
                   "P4mm perovskite": ("perovskite_tetragonal", 99), "ilmenite": ("ilmenite", 148),
                   "LiNbO3 type": ("linbo3", 161), "R3m perovskite (from the LiNbO3 start)": ("linbo3", 160)}


def two_model(f, tmp):
    """A Bush (1994) single point keeps the starts M3GNet relaxes (README): the counts and models of
    every stage, identical tables at 1 rank, the findings, and, against campaign-m3gnet-only.yaml
    run here too, the relaxations and time saved, the lowest structures lost, the final list and
    the other keep rules' table. Wall times depend on the machine and its load, so they are the
    benchmark's (scripts/bench/two_model_funnel.sh); here only that the M3GNet-only run takes over
    twice as long and that the rigid-ion stage costs a small part of what it saves."""
    name = "two-model-funnel"
    text = open(os.path.join(root, "examples", name, "README.md")).read()
    t = Table(f)
    fu = f["funnel"]
    stages = [x.decode() for x in fu["stage"][()]]
    models = [x.decode() for x in fu["model"][()]]
    cin, cout, busy = fu["count_in"][()], fu["count_out"][()], fu["cpu_s"][()]
    forms, protos = sorted(set(t.formula)), sorted(set(t.proto))
    check(t.n == 220 and len(forms) == 22 and len(protos) == 10 and all(t.formula.count(x) == 10 for x in forms),
          f"220 candidates: 22 compositions x 10 structure types: {t.n} {len(forms)} {len(protos)}")
    ti = {"MgTiO3", "CaTiO3", "SrTiO3", "BaTiO3"}
    rare = {a + b + "O3" for a in ("Y", "La", "Pr", "Nd", "Gd", "Tb") for b in ("Al", "Ga", "Fe")}
    check(set(forms) == ti | rare, f"the 4 titanates and 18 Y and rare-earth compounds: {forms}")
    check(stages == ["generate", "single_point", "relax", "dedup"] and models == ["", "bush1994", "m3gnet-mp-2021.2.8", ""],
          f"stages {stages} with models {models}")
    check(list(cin[1:]) == [220, 77, 45] and list(cout[1:]) == [77, 45, 41], f"counts in {list(cin)} out {list(cout)}")
    rows = md_table(text, "stage")
    check(len(rows) == 3, f"README funnel table: {rows}")
    for st, model, n_in, n_out, w in rows:
        k = stages.index(st) if st in stages else None
        if check(k is not None, f"README stage {st}"):
            claimed = float(w.split()[0])
            check(models[k] == model and int(n_in) == cin[k] and int(n_out) == cout[k],
                  f"README row {st}: {model} {n_in} -> {n_out}; output {models[k]} {cin[k]} -> {cout[k]}")
            check(claimed > 0, f"{st}: README wall time {claimed} s")  # times: scripts/bench/two_model_funnel.sh
    sp, rx = stages.index("single_point"), stages.index("relax")
    nrel = int(np.isfinite(t.er).sum())
    check(nrel == 77 and all(t.rstatus[k] in ("", "converged") for k in range(t.n)), f"77 converged relaxations: {nrel}")
    check(busy[sp] / 220 < 0.005 and 0.03 < busy[rx] / nrel < 0.4,
          f"about 1 ms per rigid-ion volume scan ({busy[sp] / 220:.4f} s), 0.1 s per relaxation ({busy[rx] / nrel:.3f} s)")
    check(round(float(np.min(t.es))) == -33 and round(float(np.max(t.es))) == -27, f"single points {np.min(t.es)}..{np.max(t.es)}")
    er = t.er[np.isfinite(t.er)]
    check(round(float(er.min())) == -10 and round(float(er.max())) == -7, f"relaxed {er.min()}..{er.max()}")

    def best(tab, fo):
        return tab.lowest(fo)
    # findings of the funnel
    pnma = [fo for fo in rare if t.proto[best(t, fo)] == "perovskite_pnma" and t.sg[best(t, fo)] == 62]
    check(len(pnma) == 16 and rare - set(pnma) == {"LaAlO3", "YFeO3"}, f"Pnma lowest for 16 of 18: {sorted(rare - set(pnma))}")
    check((t.proto[best(t, "LaAlO3")], t.sg[best(t, "LaAlO3")]) == ("perovskite_r3c", 167), "LaAlO3: R-3c")
    check((t.proto[best(t, "YFeO3")], t.sg[best(t, "YFeO3")]) == ("linbo3", 161), "YFeO3: LiNbO3 type")
    want = {"BaTiO3": ("perovskite_tetragonal", 99), "CaTiO3": ("perovskite_r3c", 167), "SrTiO3": ("perovskite_r3c", 167),
            "MgTiO3": ("linbo3", 161)}
    for fo, w in want.items():
        check((t.proto[best(t, fo)], t.sg[best(t, fo)]) == w, f"{fo}: funnel's lowest {t.proto[best(t, fo)]} {t.sg[best(t, fo)]}, README {w}")
    d = 1000 * (t.relaxed("SrTiO3", "perovskite_cubic") - t.er[best(t, "SrTiO3")])
    check(near(d, 1.0, 0.05), f"SrTiO3 cubic 1.0 meV/atom above R-3c: {d}")
    dups = sorted((t.formula[k], t.proto[k]) for k in range(t.n) if t.dup[k] >= 0)
    check(dups == [("BaTiO3", "perovskite_r3c"), ("LaAlO3", "perovskite_tetragonal"), ("PrAlO3", "perovskite_tetragonal"),
                   ("SrTiO3", "perovskite_tetragonal")], f"dedup merges: {dups}")
    for k in range(t.n):
        if t.dup[k] >= 0:
            r = t.id.index(int(t.dup[k]))
            check(t.proto[r] == "perovskite_cubic" and t.sg[r] == 221 and t.sg[k] == 221, f"{t.formula[k]} {t.proto[k]} relaxes into the cubic start")
    survivors = [k for k in range(t.n) if t.cols["rejected_at_stage"][k] == -1]
    check(len(survivors) == 41 and f["structures/candidate_id"].shape[0] == 41, f"41 dedup survivors: {len(survivors)}")
    lab = os.path.join(tmp, "two-model-lab")
    p = subprocess.run([exe, "--quiet", "export", os.path.join(tmp, f"{name}-campaign-2.h5"), "--what", "survivors", "-d", lab],
                       capture_output=True, text=True, timeout=120)
    check(p.returncode == 0 and len(os.listdir(lab)) == 41, f"export --what survivors: exit {p.returncode}, "
          f"{len(os.listdir(lab)) if os.path.isdir(lab) else 0} files: {p.stderr[-300:]}")
    check("hull" not in f or "reference_formula" not in f["hull"], "no hull")
    check("shortlist" not in f, "no shortlist")

    # the same at 1 rank
    one = run_campaign(tmp, name, "campaign.yaml", 1)
    if one:
        with h5py.File(one, "r") as g:
            same_tables(f, g, "two-model funnel at 1 and 2 ranks")

    # against M3GNet alone
    path = run_campaign(tmp, name, "campaign-m3gnet-only.yaml", 2)
    if not path:
        return
    with h5py.File(path, "r") as g:
        o = Table(g)
        ofu = g["funnel"]
        om = [x.decode() for x in ofu["model"][()]]
        ocin, ocout, obusy = ofu["count_in"][()], ofu["count_out"][()], ofu["cpu_s"][()]
        given = g["config/given"][()]
        given = (given[0] if given.shape else given).decode() if not isinstance(given, str) else given
        fwall, owall_run = float(f.attrs["wall_s"]), float(g.attrs["wall_s"])
    check(o.formula == t.formula and o.proto == t.proto, "the M3GNet-only campaign has the same candidates")
    check(om == ["", "m3gnet-mp-2021.2.8", "m3gnet-mp-2021.2.8", ""] and list(ocin[1:]) == [220, 220, 64]
          and list(ocout[1:]) == [220, 64, 57] and "points: 7" in given,
          f"M3GNet only: 220 volume scans of 7 points, 220 relaxations, 64 kept, 57 after dedup: {om} {list(ocin)} {list(ocout)}")
    check(int(np.isfinite(o.er).sum()) == 220, "M3GNet alone relaxes all 220")
    check(220 - nrel == 143 and round(100 * 143 / 220) == 65, "143 relaxations saved (65 %)")
    m = re.search(r"takes ([\d.]+) s for the volume scan and ([\d.]+) s for the relaxations", " ".join(text.split()))
    check(m, "README: wall times of the M3GNet-only run")
    said = {c: float(re.search(r"about (\d+) s on 2 cores", open(os.path.join(root, "examples", name, c)).read()).group(1))
            for c in ("campaign.yaml", "campaign-m3gnet-only.yaml")}
    t_only, t_funnel = said["campaign-m3gnet-only.yaml"], said["campaign.yaml"]
    # absolute times belong to the benchmark (scripts/bench/two_model_funnel.sh), which the README
    # cites; here only the structural claim, with a wide margin against the machine's load
    check(t_only > 2 * t_funnel and owall_run > 2 * fwall,
          f"whole runs about {t_only} s and {t_funnel} s: {owall_run:.1f} s, {fwall:.1f} s")
    check(busy[sp] < 0.05 * (obusy[2] - busy[rx]), f"the rigid-ion stage ({busy[sp]:.2f} s) costs under 5 % of the relaxations "
                                                    f"it saves ({obusy[2] - busy[rx]:.2f} s)")
    both = [k for k in range(t.n) if np.isfinite(t.er[k]) and np.isfinite(o.er[k])]
    check(len(both) == 77 and max(abs(t.er[k] - o.er[k]) for k in both) < 1e-5 and all(t.sg[k] == o.sg[k] for k in both),
          "a start relaxed in both runs: same energy within 1e-5 eV/atom, same space group")

    # the lowest structure of each composition with M3GNet alone; found by the funnel when it relaxed it too
    def holds(tab, rows, fo, sg, e):
        return any(tab.formula[j] == fo and tab.sg[j] == sg and abs(tab.er[j] - e) < 1e-3 for j in rows)
    relaxed = [k for k in range(t.n) if np.isfinite(t.er[k])]
    lost = {}
    for fo in forms:
        k = best(o, fo)
        if not holds(t, relaxed, fo, o.sg[k], o.er[k]):
            same = sorted(t.rows(fo), key=lambda j: t.es[j])
            lost[fo] = (o.proto[k], int(o.sg[k]), same.index(k) + 1, float(t.es[k] - t.es[same[0]]), best(t, fo),
                        1000 * float(t.er[best(t, fo)] - o.er[k]))
    check(len(forms) - len(lost) == 16, f"16 of 22 lowest structures found by the funnel: {len(forms) - len(lost)}")
    check("Of the 22 lowest structures with M3GNet alone, the funnel relaxed 16." in text.replace("\n", " "), "README: 16 of 22")
    rows = md_table(text, "composition")
    check(sorted(r[0] for r in rows) == sorted(lost), f"README's lost compositions {[r[0] for r in rows]}, measured {sorted(lost)}")
    for fo, lowest, rank, instead, above in rows:
        if fo not in lost:
            continue
        proto, sg, r, gap, kb, de = lost[fo]
        m = re.fullmatch(r"(\d+) \(\+([\d.]+)\)", rank)
        check(TWO_MODEL_NAMES.get(lowest) == (proto, sg), f"{fo}: lowest with M3GNet alone {proto} {sg}, README '{lowest}'")
        check(m and int(m.group(1)) == r and near(gap, float(m.group(2)), 0.0005), f"{fo}: rigid-ion rank {r} (+{gap:.3f}), README {rank}")
        check(TWO_MODEL_NAMES.get(instead) == (t.proto[kb], t.sg[kb]) and near(de, float(above), 0.05),
              f"{fo}: funnel's best {t.proto[kb]} {t.sg[kb]} {de:.2f} meV/atom above, README '{instead}' {above}")
    within = sorted(fo for fo in lost if lost[fo][5] < 21)
    check(len(within) == 5 and "Five of the six lie within M3GNet's own accuracy (21 meV/atom)" in " ".join(text.split()),
          f"five of the six lost within 21 meV/atom: {within}")
    # M3GNet alone: the aluminates' R-3c against Pnma, and BaTiO3
    for fo, dd in (("LaAlO3", 0.9), ("PrAlO3", 3.4), ("NdAlO3", 5.9)):
        x = 1000 * (o.relaxed(fo, "perovskite_r3c") - o.relaxed(fo, "perovskite_pnma"))
        check(o.lowest(fo) == o.one(fo, "perovskite_pnma") and near(x, dd, 0.05), f"M3GNet alone: {fo} R-3c {x:.2f} meV/atom above Pnma")
    kb = o.one("BaTiO3", "linbo3")
    check(o.lowest("BaTiO3") == kb and o.sg[kb] == 160, f"BaTiO3: the LiNbO3 start is lowest, R3m: {o.sg[kb]}")
    for proto, dd in (("perovskite_tetragonal", 4.3), ("perovskite_cubic", 10.4)):
        x = 1000 * (o.relaxed("BaTiO3", proto) - o.er[kb])
        check(near(x, dd, 0.05), f"BaTiO3 R3m {dd} meV/atom below {proto}: {x:.2f}")
    check(near(float(t.es[o.one("BaTiO3", "linbo3")] - min(t.es[j] for j in t.rows("BaTiO3"))), 1.92, 0.005),
          "BaTiO3's LiNbO3 start: single point 1.92 eV/atom above the best")
    try:
        from pymatgen.core import Lattice, Structure
        from pymatgen.symmetry.analyzer import SpacegroupAnalyzer
        with h5py.File(path, "r") as g:
            s = g["structures"]
            r = list(s["candidate_id"][()]).index(o.id[kb])
            a, n = s["offset"][r], s["natoms"][r]
            st = Structure(Lattice(s["lattice_A"][r]), [x.decode() for x in s["species"][a:a + n]], s["frac_positions"][a:a + n])
        sga = SpacegroupAnalyzer(st, symprec=0.01)
        check(sga.get_space_group_number() == 160 and len(sga.find_primitive()) == 5,
              f"BaTiO3 R3m with 5 atoms in its primitive cell (pymatgen): {sga.get_space_group_symbol()} {len(sga.find_primitive())}")
    except ImportError:
        print("pymatgen missing: BaTiO3's primitive cell not checked", file=sys.stderr)
    # the final lists
    so = [k for k in range(o.n) if o.cols["rejected_at_stage"][k] == -1]
    kept = sum(holds(t, survivors, o.formula[k], o.sg[k], o.er[k]) for k in so)
    check(len(so) == 57 and kept == 40, f"the funnel's list holds 40 of the M3GNet-only list's 57: {kept} of {len(so)}")
    # other keep rules, from the funnel's single points and the M3GNet-only relaxations
    gs = {fo: best(o, fo) for fo in forms}

    def ground_states_kept(keep):
        return sum(any(j in keep and o.sg[j] == o.sg[gs[fo]] and abs(o.er[j] - o.er[gs[fo]]) < 1e-3 for j in o.rows(fo)) for fo in forms)
    best_sp = {fo: min(t.es[j] for j in t.rows(fo)) for fo in forms}
    rows = md_table(text, "keep rule")
    check(len(rows) == 6, f"six keep rules in the README: {rows}")
    for rule, n_relax, n_kept in rows:
        m = re.match(r"`(\w+): ([\d.]+)`", rule)
        if not check(m, f"README keep rule '{rule}'"):
            continue
        x = float(m.group(2))
        if m.group(1) == "max_energy_above_best_eV_per_atom":
            keep = {k for k in range(t.n) if t.es[k] - best_sp[t.formula[k]] <= x}
        else:
            keep = set(sorted(range(t.n), key=lambda k: (t.es[k], t.id[k]))[:int(np.ceil(x * t.n - 1e-9))])
        check(len(keep) == int(n_relax) and ground_states_kept(keep) == int(n_kept),
              f"{rule}: {len(keep)} relaxations, {ground_states_kept(keep)} lowest structures kept; README {n_relax}, {n_kept}")
    keep = {k for k in range(t.n) if t.es[k] - best_sp[t.formula[k]] <= 0.3}
    missed = [fo for fo in forms if not any(j in keep and abs(o.er[j] - o.er[gs[fo]]) < 1e-3 for j in o.rows(fo))]
    check(round(100 * len(keep) / t.n) == 59 and missed == ["BaTiO3"], f"0.3 eV/atom relaxes {len(keep)}, loses {missed}")
    # what README.md and docs/performance.md say of it
    said = " ".join(open(os.path.join(root, "README.md")).read().split())
    m = re.search(r"two-model-funnel does this and measures the cost: (\d+) relaxations instead of (\d+), but (\d+) of the "
                  r"(\d+) structures M3GNet alone finds lowest are lost", said)
    check(m and [int(x) for x in m.groups()] == [nrel, t.n, len(lost), len(forms)], f"README.md: {m and m.groups()}")
    said = " ".join(open(os.path.join(root, "docs", "performance.md")).read().split())
    m = re.search(r"(\d+) relaxations instead of (\d+) and about 5 s instead of about 20 s on 2 cores, (\d+) of the (\d+) "
                  r"lowest structures found", said)
    check(m and [int(x) for x in m.groups()] == [nrel, t.n, len(forms) - len(lost), len(forms)], f"docs/performance.md: {m and m.groups()}")


examples = {"perovskite-oxides": lambda f, tmp: perovskite(f), "spinel-oxides": lambda f, tmp: spinel(f),
            "binary-oxides": lambda f, tmp: binary(f),
            "random-search-srtio3": lambda f, tmp: random_srtio3(f, results.get("perovskite-oxides")),
            "intermetallics": lambda f, tmp: intermetallics(f), "two-model-funnel": two_model,
            "halide-perovskites": lambda f, tmp: halides(f)}
# examples whose README claims identical tables at 1, 2 and 4 ranks and whose run is short
RANK_CHECKED = {"intermetallics", "halide-perovskites"}
results = {}
with tempfile.TemporaryDirectory() as tmp:
    for name, fn in examples.items():
        if only and name not in only:
            continue
        readme_text(name)
        out = run_campaign(tmp, name)
        if out:
            with h5py.File(out, "r") as f:
                results[name] = fn(f, tmp)
        if out and name in RANK_CHECKED:
            # "the same at 1, 2 and 4 ranks (identical output tables)"
            sys.path.insert(0, os.path.join(root, "tests", "reliability"))
            from h5tables import same, tables
            for n in (1, 4):
                o = run_campaign(tmp, name, ranks=n)
                ok, why = same(tables(out), tables(o)) if o else (False, "run failed")
                check(ok, f"{name}: tables at {n} ranks identical to 2 ranks: {why}")
        print(f"{name}: done", file=sys.stderr)
print(f"{len(failures)} failed" if failures else "all example checks passed", file=sys.stderr)
sys.exit(1 if failures else 0)
