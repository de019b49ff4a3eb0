#!/usr/bin/env python3
"""Benchmark: energies above the convex hull, `matscreen hull` vs pymatgen's PhaseDiagram.

Run through scripts/bench/hull_bench.sh (which picks a Python with pymatgen).

Data sets (tests/regression/hull/gen_hull.random_set, pure Python, seeded; 4 elements, 1-3
elemental entries per element, compounds of 2-4 elements with amounts 1-6 and formation
energies uniform in [-1.5, 0.3] eV/atom, 5 % duplicates and rescaled formulas), written as
CSV into WORKDIR:
- "2k": seed 2024, 1900 compounds: about 2000 entries;
- "1M": seed 2025, 952000 compounds: about 10^6 entries (--large N to change).

What is timed
- matscreen: `matscreen hull FILE.csv --json`; its hull_time_s (grouping by composition,
  hull construction and every entry's energy above hull, formation energy and location in
  the hull) and time_s (that plus reading and parsing the CSV); output formatting excluded.
  Best of 3 runs for the 2k set.
- pymatgen: PhaseDiagram(entries) followed by get_e_above_hull(entry) for every entry, with
  time.perf_counter() around these calls (making the PDEntry objects, i.e. parsing the
  formulas, is excluded). On the large set pymatgen evaluates e_above_hull for
  --pymatgen-sample entries (default: all) and the time for all is scaled from them when a
  sample is used (the per-entry cost does not depend on the entry's index).
Agreement: the largest |e_above_hull(matscreen) - e_above_hull(pymatgen)| over the entries
pymatgen evaluated.
"""
import argparse
import json
import os
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, "..", ".."))
sys.path.insert(0, os.path.join(root, "tests", "regression", "hull"))
import gen_hull  # noqa: E402


def run_matscreen(exe, path, repeats):
    best = None
    for _ in range(repeats):
        out = subprocess.run([exe, "hull", path, "--json"], capture_output=True, text=True, check=True)
        d = json.loads(out.stdout)
        if best is None or d["hull_time_s"] < best["hull_time_s"]:
            best = d
    return best


def run_pymatgen(rows, sample):
    from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
    from pymatgen.core import Composition
    entries = []
    for f, e, ident in rows:
        c = Composition(f)
        entries.append(PDEntry(c, e * c.num_atoms, name=ident))
    t0 = time.perf_counter()
    pd = PhaseDiagram(entries)
    t1 = time.perf_counter()
    n = len(entries) if sample is None else min(sample, len(entries))
    step = max(1, len(entries) // n)
    idx = list(range(0, len(entries), step))[:n]
    ea = {}
    for i in idx:
        ea[i] = pd.get_e_above_hull(entries[i])
    t2 = time.perf_counter()
    per = (t2 - t1) / len(idx)
    return t1 - t0, per, ea, len(idx)


def bench(name, rows, workdir, exe, repeats, sample, pmg):
    path = os.path.join(workdir, f"hull_{name}_{len(rows)}.csv")
    text = gen_hull.csv_text(rows)
    if not os.path.exists(path) or open(path).read() != text:
        with open(path, "w") as fp:
            fp.write(text)
    d = run_matscreen(exe, path, repeats)
    print(f"== {name}: {len(rows)} entries, 4 elements, {len(d['stable'])} stable")
    print(f"  matscreen: hull {d['hull_time_s']:.4f} s, with reading the CSV {d['time_s']:.3f} s")
    if not pmg:
        return
    tpd, per, ea, ns = run_pymatgen(rows, sample)
    total = tpd + per * len(rows)
    worst = max(abs(d["entries"][i]["e_above_hull_eV_per_atom"] - v) for i, v in ea.items())
    what = "all entries" if ns == len(rows) else f"{ns} entries, scaled to {len(rows)}"
    print(f"  pymatgen: PhaseDiagram {tpd:.2f} s + get_e_above_hull {per * 1e3:.3f} ms/entry ({what}) "
          f"= {total:.1f} s")
    print(f"  ratio pymatgen / matscreen (hull alone): {total / d['hull_time_s']:.0f}x; "
          f"with matscreen's CSV reading: {total / d['time_s']:.0f}x")
    print(f"  largest |e_above_hull difference|: {worst:.2e} eV/atom")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.environ.get("MATSCREEN_BIN", os.path.join(root, "build", "matscreen")))
    ap.add_argument("--workdir", default=os.path.join(root, "build", "bench-hull"))
    ap.add_argument("--large", type=int, default=952000, help="compounds in the large set")
    ap.add_argument("--pymatgen-sample", type=int, default=None,
                    help="evaluate pymatgen's e_above_hull on this many entries of the large set")
    ap.add_argument("--no-pymatgen", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    print(f"matscreen: {a.bin}")
    bench("2k", gen_hull.random_set(2024, 4, 1900), a.workdir, a.bin, 3, None, not a.no_pymatgen)
    bench("large", gen_hull.random_set(2025, 4, a.large), a.workdir, a.bin, 1, a.pymatgen_sample,
          not a.no_pymatgen)


if __name__ == "__main__":
    main()
