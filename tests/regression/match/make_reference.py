#!/usr/bin/env python3
"""Make the pymatgen StructureMatcher references for check_match.py.

Run from the repository root with Debian's python3-pymatgen (2022.11.7 made the stored file):

    tests/util/python.sh tests/regression/match/make_reference.py

For every pair of gen_pairs.make_pairs() (seeded, pure Python; 2600 pairs of 15 kinds, see
gen_pairs.py) it stores, with default StructureMatcher() (ltol 0.2, stol 0.3, angle_tol 5,
primitive_cell, scale, SpeciesComparator): fit(A, B), get_rms_dist(A, B) (rms and max, or
None), and fit with ElementComparator(). Output: pymatgen_verdicts.txt, one line per pair:
index kind fit rms max fit_elements; the first line holds the SHA-256 of the regenerated pairs
(gen_pairs.checksum) so check_match.py can tell when the generator no longer reproduces them.

Also group_reference.txt for the grouping test: gen_pairs.group_set() (300 distinct random
structures and 100 symmetry-equivalent copies) grouped by StructureMatcher().group_structures
with the structures in order of increasing energy (so the first member of each group, its
survivor, has the lowest energy, as in matscreen); one line per structure: index,
duplicate_of (-1 for survivors) and the site count of pymatgen's reduced cell.
"""
import os
import sys
import time

from pymatgen.analysis.structure_matcher import ElementComparator, StructureMatcher
from pymatgen.core import Lattice, Structure

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import gen_pairs  # noqa: E402


def to_pmg(s):
    return Structure(Lattice(s.lattice), s.species, s.frac)


def main():
    pairs = gen_pairs.make_pairs()
    sm = StructureMatcher()
    sme = StructureMatcher(comparator=ElementComparator())
    t0 = time.time()
    lines = [f"# sha256 {gen_pairs.checksum(pairs)}",
             "# index kind fit rms max fit_elements  (pymatgen 2022.11.7 StructureMatcher defaults)"]
    for i, (kind, a, b) in enumerate(pairs):
        pa, pb = to_pmg(a), to_pmg(b)
        fit = sm.fit(pa, pb)
        rd = sm.get_rms_dist(pa, pb)
        fe = sme.fit(pa, pb)
        rms, mx = ("None", "None") if rd is None else (f"{rd[0]:.10g}", f"{rd[1]:.10g}")
        lines.append(f"{i} {kind} {int(fit)} {rms} {mx} {int(fe)}")
    with open(os.path.join(here, "pymatgen_verdicts.txt"), "w") as fp:
        fp.write("\n".join(lines) + "\n")
    print(f"{len(pairs)} pairs in {time.time() - t0:.1f} s")

    structs, energies, _ = gen_pairs.group_set()
    pm = [to_pmg(x) for x in structs]
    order = sorted(range(len(pm)), key=lambda i: (energies[i], i))
    ident = {id(pm[i]): i for i in range(len(pm))}
    t0 = time.time()
    groups = sm.group_structures([pm[i] for i in order])
    dt = time.time() - t0
    dup = [-1] * len(pm)
    for g in groups:
        ids = [ident[id(x)] for x in g]
        for i in ids[1:]:
            dup[i] = ids[0]
    nred = [len(StructureMatcher._get_reduced_structure(x)) for x in pm]
    with open(os.path.join(here, "group_reference.txt"), "w") as fp:
        fp.write(f"# sha256 {gen_pairs.checksum([('g', x, x) for x in structs])}\n")
        fp.write(f"# index duplicate_of reduced_sites  ({len(groups)} groups, group_structures {dt:.1f} s)\n")
        for i in range(len(pm)):
            fp.write(f"{i} {dup[i]} {nred[i]}\n")
    print(f"grouping: {len(pm)} structures, {len(groups)} groups in {dt:.1f} s")


if __name__ == "__main__":
    main()
