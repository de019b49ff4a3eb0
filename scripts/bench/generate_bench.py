#!/usr/bin/env python3
"""Benchmark of candidate generation (run through scripts/bench/generate_bench.sh).

matscreen figures come from BUILD/tests/regression/generate/bench_generate (CPU time of one
process): random_search draws per second (SrTiO3, 1-4 formula units, all space groups),
prototype builds per second, counting a 24-prototype substitution space, ordering enumeration.

Peers measured here in the same run, on the same tasks (CPU time, time.process_time):
- prototype building: pymatgen Structure.from_spacegroup for cubic perovskite SrTiO3 (Pm-3m),
  spinel MgAl2O4 and pyrochlore Gd2Ti2O7 (Fd-3m), conventional cells, against matscreen's
  ms_prototype_load + ms_prototype_build of the same three (YAML parsing and Wyckoff
  expansion included, reference lattice, conventional cells). In a campaign matscreen loads a
  prototype once and then only builds (the "builds/s" line).
- orderings: symmetry-distinct B-site orderings of a 2x2x2 SrTiO3 supercell with 4 of 8 Ti
  replaced, by building all 70 structures and grouping them with pymatgen's StructureMatcher
  (the usual brute force), against matscreen's enumeration (spglib operations included).
No packaged peer exists for random structure search (AIRSS and PyXtal are not in Debian), so
random_search is reported in absolute terms.
"""
import itertools
import os
import subprocess
import sys
import time
import warnings

warnings.filterwarnings("ignore")

from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Lattice, Structure


def cpu(f, reps):
    t0 = time.process_time()
    for _ in range(reps):
        f()
    return (time.process_time() - t0) / reps


def main():
    build, draws = sys.argv[1], sys.argv[2]
    exe = os.path.join(build, "tests", "regression", "generate", "bench_generate")
    out = subprocess.run([exe, draws], check=True, capture_output=True, text=True).stdout
    print(out, end="")
    lines = {l.split(":")[0]: l for l in out.splitlines()}
    load_build = float(lines["prototype load+build"].split(": ")[1].split(" per s")[0])

    protos = [
        lambda: Structure.from_spacegroup("Pm-3m", Lattice.cubic(3.905), ["Sr", "Ti", "O"],
                                          [[.5, .5, .5], [0, 0, 0], [.5, 0, 0]]),
        lambda: Structure.from_spacegroup(227, Lattice.cubic(8.0832), ["Mg", "Al", "O"],
                                          [[.125, .125, .125], [.5, .5, .5], [.2624, .2624, .2624]]),
        lambda: Structure.from_spacegroup(227, Lattice.cubic(10.185), ["Gd", "Ti", "O", "O"],
                                          [[.5, .5, .5], [0, 0, 0], [.326, .125, .125],
                                           [.375, .375, .375]]),
    ]
    t = sum(cpu(f, 20) for f in protos) / len(protos)
    print(f"peer: pymatgen Structure.from_spacegroup {1 / t:.0f} builds/s on the same three "
          f"prototypes; matscreen load+build {load_build:.0f}/s: ratio {load_build * t:.0f}x")

    sto = Structure.from_spacegroup("Pm-3m", Lattice.cubic(3.905), ["Sr", "Ti", "O"],
                                    [[.5, .5, .5], [0, 0, 0], [.5, 0, 0]])
    sto.make_supercell([2, 2, 2])
    ti = [i for i, s in enumerate(sto) if s.specie.symbol == "Ti"]
    t0 = time.process_time()
    structs = []
    for comb in itertools.combinations(ti, 4):
        s = sto.copy()
        for i in comb:
            s.replace(i, "Zr")
        structs.append(s)
    groups = StructureMatcher().group_structures(structs)
    t_pm = time.process_time() - t0
    line = lines["ordering-perovskite"]
    t_ms = float(line.split(" classes in ")[1].split(" ms")[0]) / 1e3
    n_ms = int(line.split(": ")[-1].split(" classes")[0])
    print(f"peer: orderings 4 of 8 B in 2x2x2 SrTiO3, pymatgen StructureMatcher brute force "
          f"{len(groups)} classes in {t_pm:.3f} s; matscreen {n_ms} classes in {t_ms * 1e3:.2f} ms: "
          f"ratio {t_pm / t_ms:.0f}x")


if __name__ == "__main__":
    main()
