"""Symmetry-distinct orderings (partial_substitution) against two independent brute-force
counts.

For small perovskite and spinel (super)cells, every one of the C(n, k) ways to substitute k of
the n B sites is built here in Python from the parent cell, and the classes are counted
  (a) with pymatgen's StructureMatcher (group_structures), and
  (b) with spglib: the parent's operations (spglib.get_symmetry) as permutations of the B
      sites, each k-subset reduced to the smallest image under the group.
matscreen counts arrangements that are distinct under the operations of the (super)cell
(ordering.h), so (b) must equal its count exactly. (a) compares infinite crystals: when the
supercell keeps the parent's point symmetry (2x2x2 of cubic perovskite, the primitive or
conventional spinel cell) the counts agree and every class holds exactly one written
candidate; in a lower-symmetry supercell (2x1x1 of the rhombohedral spinel cell) two written
candidates may be one crystal, and then both must have a smaller period than the supercell
(they are equivalent through an operation that does not map the supercell onto itself).

Coupled substitutions (a list under `substitute`, e.g. k A sites to Sr2+ and k B sites to Ti4+
at once) are checked the same way (COUPLED): the classes of pairs (A subset, B subset) under
the parent's operations, by brute force with spglib and, for the small cases, StructureMatcher.

Usage: check_orderings.py MATSCREEN
"""
import itertools
import os
import subprocess
import sys
import tempfile

import numpy as np
import spglib
import yaml
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.io.cif import CifParser

CASES = [
    # prototype, parent ions, supercell, label, ion, counts, cell, StructureMatcher check:
    # "exact" (one candidate per crystal), "superperiodic" (see above) or None (skipped: slow)
    ("perovskite_cubic", {"A": "Sr2+", "B": "Ti4+", "X": "O2-"}, [2, 2, 2], "B", "Zr4+",
     [1, 2, 3, 4], "primitive", "exact"),
    ("perovskite_cubic", {"A": "Sr2+", "B": "Ti4+", "X": "O2-"}, [2, 2, 1], "A", "Ba2+",
     [1, 2], "primitive", "superperiodic"),
    ("spinel", {"A": "Mg2+", "B": "Al3+", "X": "O2-"}, [1, 1, 1], "B", "Ga3+",
     [1, 2, 3], "primitive", "exact"),
    ("spinel", {"A": "Mg2+", "B": "Al3+", "X": "O2-"}, [2, 1, 1], "B", "Ga3+",
     [1, 2, 3, 4], "primitive", "superperiodic"),
    ("spinel", {"A": "Mg2+", "B": "Al3+", "X": "O2-"}, [1, 1, 1], "B", "Ga3+",
     [2, 3], "conventional", None),
]

COUPLED = [
    # prototype, parent ions, supercell, [(label, ion), ...], count tuples, StructureMatcher?
    ("perovskite_cubic", {"A": "La3+", "B": "Al3+", "X": "O2-"}, [2, 2, 2],
     [("A", "Sr2+"), ("B", "Ti4+")], [(1, 1), (2, 2), (3, 3)], [(1, 1)]),
    ("perovskite_pnma", {"A": "La3+", "B": "Al3+", "X": "O2-"}, [1, 1, 1],
     [("A", "Sr2+"), ("B", "Ti4+")], [(1, 1), (2, 2), (3, 3)], [(1, 1), (2, 2), (3, 3)]),
    ("perovskite_cubic", {"A": "Sr2+", "B": "Ti4+", "X": "O2-"}, [2, 2, 1],
     [("A", "La3+"), ("B", "Ga3+")], [(1, 1), (2, 2)], [(1, 1), (2, 2)]),
]


def run(exe, items, workdir):
    os.makedirs(workdir, exist_ok=True)
    camp = os.path.join(workdir, "campaign.yaml")
    with open(camp, "w") as f:
        yaml.safe_dump({"campaign": {"seed": 1}, "search": items}, f, sort_keys=False)
    out = os.path.join(workdir, "out")
    subprocess.run([exe, "--quiet", "generate", camp, "-d", out], check=True)
    rows = [l.rstrip("\n").split(",") for l in open(os.path.join(out, "index.csv"))][1:]
    return [CifParser(os.path.join(out, r[8])).get_structures(primitive=False)[0] for r in rows], rows


def spglib_classes(parent, sites, k):
    """Orbits of k-subsets of `sites` under the parent's operations."""
    perms = symmetry_permutations(parent, sites)
    seen = set()
    for comb in itertools.combinations(range(len(sites)), k):
        canon = min(tuple(sorted(p[i] for i in comb)) for p in perms)
        seen.add(canon)
    return len(seen), len(perms)


def symmetry_permutations(parent, sites):
    """The parent's operations (spglib) as permutations of `sites` (those mapping it onto itself)."""
    types = [sp.Z for sp in parent.species]
    sym = spglib.get_symmetry((parent.lattice.matrix, parent.frac_coords, types), symprec=1e-3)
    pos = parent.frac_coords[sites]
    perms = set()
    for R, t in zip(sym["rotations"], sym["translations"]):
        img = pos @ R.T + t
        perm = []
        for y in img:
            d = (pos - y + 0.5) % 1.0 - 0.5
            j = np.where(np.all(np.abs(d) < 1e-4, axis=1))[0]
            if len(j) != 1:
                perm = None
                break
            perm.append(int(j[0]))
        if perm is not None:
            perms.add(tuple(perm))
    return perms


def coupled_classes(parent, groups, ks):
    """Orbits of tuples (subset of group 0, subset of group 1, ...) with ks[g] sites of group g."""
    sites = [i for g in groups for i in g]
    perms = symmetry_permutations(parent, sites)
    offsets = np.cumsum([0] + [len(g) for g in groups])
    seen = set()
    for combo in itertools.product(*[itertools.combinations(range(offsets[g], offsets[g + 1]), k)
                                     for g, k in enumerate(ks)]):
        chosen = [i for c in combo for i in c]
        seen.add(min(tuple(sorted(p[i] for i in chosen)) for p in perms))
    return len(seen), len(perms)


def check_coupled(exe, tmp):
    failures = 0
    for n, (proto, ions, sc, subs, counts, matcher_counts) in enumerate(COUPLED):
        wd = os.path.join(tmp, f"coupled{n}")
        parents, _ = run(exe, [{"generator": "prototype_substitution", "prototypes": [proto],
                                "sites": ions}], os.path.join(wd, "p"))
        parent = parents[0].copy()
        parent.remove_oxidation_states()
        parent.make_supercell(sc)
        groups = []
        for label, _ in subs:
            el = ions[label].rstrip("+-0123456789")
            groups.append([i for i, s in enumerate(parent) if s.specie.symbol == el])
        for ks in counts:
            items = [{"generator": "partial_substitution", "prototype": proto, "sites": ions,
                      "supercell": sc,
                      "substitute": [{"label": l, "ion": ion, "counts": [k]}
                                     for (l, ion), k in zip(subs, ks)]}]
            cands, _ = run(exe, items, os.path.join(wd, "k" + "_".join(map(str, ks))))
            n_spg, order = coupled_classes(parent, groups, ks)
            line = (f"{proto} {sc} " + ",".join(f"{k}x{l}->{ion}" for (l, ion), k in zip(subs, ks))
                    + f": matscreen {len(cands)}, spglib brute force {n_spg} ({order} permutations)")
            ok = len(cands) == n_spg
            if ks in matcher_counts:
                structs = []
                for combo in itertools.product(*[itertools.combinations(g, k)
                                                 for g, k in zip(groups, ks)]):
                    s = parent.copy()
                    for (label, ion), c in zip(subs, combo):
                        for i in c:
                            s.replace(i, ion.rstrip("+-0123456789"))
                    structs.append(s)
                sm = StructureMatcher()
                classes = sm.group_structures(structs)
                line += f", StructureMatcher {len(classes)} of {len(structs)}"
                hits = [0] * len(classes)
                for c in cands:
                    c2 = c.copy()
                    c2.remove_oxidation_states()
                    match = [g for g, grp in enumerate(classes) if sm.fit(c2, grp[0])]
                    ok &= len(match) == 1
                    for g in match:
                        hits[g] += 1
                ok &= all(h >= 1 for h in hits)  # every crystal is written
                if len(classes) != len(cands):
                    # StructureMatcher may only merge more: its tolerances also match
                    # arrangements related by an operation of a pseudo-symmetric (tilted) cell
                    # or a superperiodic one, which the cell's own operations do not contain
                    line += f" (it merges {len(cands) - len(classes)} more)"
                    ok &= len(cands) > len(classes)
            print(line + ("  ok" if ok else "  MISMATCH"))
            failures += not ok
    return failures


def main():
    exe = sys.argv[1]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        failures += check_coupled(exe, tmp)
        for n, (proto, ions, sc, label, ion, counts, cell, matcher_mode) in enumerate(CASES):
            wd = os.path.join(tmp, f"c{n}")
            # The parent from matscreen itself (one prototype_substitution candidate), made a
            # supercell by pymatgen.
            parents, _ = run(exe, [{"generator": "prototype_substitution", "prototypes": [proto],
                                    "sites": ions, "cell": cell}], os.path.join(wd, "p"))
            parent = parents[0].copy()
            parent.remove_oxidation_states()
            parent.make_supercell(sc)
            el_from = ions[label].rstrip("+-0123456789")
            sites = [i for i, s in enumerate(parent) if s.specie.symbol == el_from]
            el_to = ion.rstrip("+-0123456789")
            for k in counts:
                cands, rows = run(exe, [{"generator": "partial_substitution", "prototype": proto,
                                         "sites": ions, "supercell": sc, "cell": cell,
                                         "substitute": {"label": label, "ion": ion, "counts": [k]}}],
                                  os.path.join(wd, f"k{k}"))
                n_ms = len(cands)
                n_spg, order = spglib_classes(parent, sites, k)
                line = (f"{proto} {cell} {sc} {label}->{ion} k={k}: matscreen {n_ms}, "
                        f"spglib brute force {n_spg} ({order} permutations)")
                ok = n_ms == n_spg
                if matcher_mode:
                    structs = []
                    for comb in itertools.combinations(sites, k):
                        s = parent.copy()
                        for i in comb:
                            s.replace(i, el_to)
                        structs.append(s)
                    sm = StructureMatcher()
                    groups = sm.group_structures(structs)
                    line += f", StructureMatcher {len(groups)} of {len(structs)}"
                    hits = [[] for _ in groups]
                    for c in cands:
                        c2 = c.copy()
                        c2.remove_oxidation_states()
                        match = [g for g, grp in enumerate(groups) if sm.fit(c2, grp[0])]
                        ok &= len(match) == 1
                        if match:
                            hits[match[0]].append(c2)
                    ok &= all(len(h) >= 1 for h in hits)  # every crystal is written
                    if matcher_mode == "exact":
                        ok &= len(groups) == n_ms and all(len(h) == 1 for h in hits)
                    else:
                        for h in hits:
                            if len(h) > 1:
                                ok &= all(len(c.get_primitive_structure()) < len(c) for c in h)
                        line += f" ({n_ms - len(groups)} superperiodic repeats)"
                print(line + ("  ok" if ok else "  MISMATCH"))
                failures += not ok
    print("FAILED" if failures else "all ordering counts agree")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
