#!/usr/bin/env python3
"""What the rigid-ion prefilter of examples/two-model-funnel saves and what it loses.

usage: two_model_funnel.py --bin build/matscreen [--ranks 2] [--workdir DIR]

Runs the example's two campaigns on the same 220 ABO3 candidates:
- campaign.yaml: a Bush (1994) rigid-ion single point with a volume scan keeps the candidates
  within 0.1 eV/atom of the best single point of their composition; M3GNet relaxes only those;
- campaign-m3gnet-only.yaml: M3GNet scans the volume of and relaxes every candidate;
and prints
1. each run's /funnel table (count in and out, model, busy and wall time per stage);
2. that a start relaxed in both runs ends at the same energy (to 1e-4 eV/atom) and in the same
   space group, although the two volume scans start it at different volumes: so the M3GNet-only
   run tells what the funnel would have found from any start it dropped;
3. per composition, the lowest structure of the M3GNet-only run (its "ground state" among these
   ten structure types) and whether the funnel relaxed it too (same space group, energy within
   1 meV/atom), with the rigid-ion rank of the start that leads there;
4. how many of the M3GNet-only run's final list (dedup survivors within 25 meV/atom of the best
   of their composition) the funnel's list also holds (same formula and space group, energy
   within 1 meV/atom);
5. for other keep rules on the single point, how many relaxations they would cost and how many
   ground states they would keep, from the funnel's single points (every candidate has one)
   and the M3GNet-only relaxations (point 2 makes this exact).
Times depend on the machine and its load; the counts do not (they are the same on any number
of ranks).
"""
import argparse
import math
import os
import subprocess
import sys

import h5py
import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
EXAMPLE = os.path.join(ROOT, "examples", "two-model-funnel")
SAME_E = 1e-3  # eV/atom: the same relaxed structure (runs agree to 1e-5 from the same start)


def run(binary, ranks, campaign, out):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", OMPI_MCA_btl="self,vader")
    cmd = ["mpirun", "-n", str(ranks), binary, "--quiet", "run", os.path.join(EXAMPLE, campaign), "-o", out]
    subprocess.run(cmd, check=True, env=env)


def load(path):
    with h5py.File(path, "r") as f:
        c = f["candidates"]
        t = {k: c[k][()] for k in ("id", "e_single_point_eV_per_atom", "e_relaxed_eV_per_atom", "spacegroup",
                                   "rejected_at_stage")}
        for k in ("formula", "prototype", "structure_type"):
            t[k] = [x.decode() for x in c[k][()]]
        fu = f["funnel"]
        t["funnel"] = list(zip((x.decode() for x in fu["stage"][()]), fu["count_in"][()], fu["count_out"][()],
                               (x.decode() for x in fu["model"][()]), fu["cpu_s"][()], fu["wall_s"][()]))
        t["wall_s"] = float(f.attrs["wall_s"])
    return t


def print_funnel(name, t):
    print(f"{name}: whole run {t['wall_s']:.2f} s wall")
    print(f"  {'stage':14s} {'in':>5s} {'out':>5s}  {'model':20s} {'busy s':>8s} {'wall s':>8s}")
    for st, cin, cout, model, cpu, wall in t["funnel"]:
        print(f"  {st:14s} {cin:5d} {cout:5d}  {model or '-':20s} {cpu:8.2f} {wall:8.2f}")


def ground_states(t):
    """Row of the lowest converged relaxation of each formula."""
    best = {}
    for k, fo in enumerate(t["formula"]):
        e = t["e_relaxed_eV_per_atom"][k]
        if np.isfinite(e) and (fo not in best or e < t["e_relaxed_eV_per_atom"][best[fo]]):
            best[fo] = k
    return best


def holds(t, rows, fo, sg, e):
    return any(t["formula"][j] == fo and t["spacegroup"][j] == sg and abs(t["e_relaxed_eV_per_atom"][j] - e) < SAME_E
               for j in rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "matscreen"))
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--workdir", default="two-model-funnel-bench")
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    fpath, opath = os.path.join(a.workdir, "funnel.h5"), os.path.join(a.workdir, "m3gnet-only.h5")
    run(a.bin, a.ranks, "campaign.yaml", fpath)
    run(a.bin, a.ranks, "campaign-m3gnet-only.yaml", opath)
    f, o = load(fpath), load(opath)
    if f["formula"] != o["formula"] or f["prototype"] != o["prototype"]:
        sys.exit("the two campaigns do not have the same search space")
    n = len(f["id"])

    print_funnel("two-model funnel (campaign.yaml)", f)
    print_funnel("M3GNet only (campaign-m3gnet-only.yaml)", o)
    nf = int(np.isfinite(f["e_relaxed_eV_per_atom"]).sum())
    no = int(np.isfinite(o["e_relaxed_eV_per_atom"]).sum())
    busy = lambda t, st: sum(r[4] for r in t["funnel"] if r[0] == st)  # noqa: E731
    print(f"relaxations: funnel {nf}, M3GNet only {no} of {n} candidates; relax busy time "
          f"{busy(f, 'relax'):.2f} s vs {busy(o, 'relax'):.2f} s; whole runs {f['wall_s']:.2f} s vs {o['wall_s']:.2f} s")

    both = [k for k in range(n) if np.isfinite(f["e_relaxed_eV_per_atom"][k]) and np.isfinite(o["e_relaxed_eV_per_atom"][k])]
    de = max(abs(f["e_relaxed_eV_per_atom"][k] - o["e_relaxed_eV_per_atom"][k]) for k in both)
    sgd = sum(f["spacegroup"][k] != o["spacegroup"][k] for k in both)
    print(f"same start in both runs: {len(both)} candidates, largest energy difference {de:.1e} eV/atom, "
          f"{sgd} in different space groups")
    if de > 1e-4 or sgd:
        print("  warning: the runs disagree from the same start; table 5 below is only an estimate")

    gs = ground_states(o)
    frows = [k for k in range(n) if np.isfinite(f["e_relaxed_eV_per_atom"][k])]
    fbest = ground_states(f)
    found = 0
    print("\nlowest structure of each composition with M3GNet only, and the funnel's")
    print(f"  {'formula':8s} {'M3GNet only: start':22s} {'sg':>4s} {'rigid-ion rank':>14s} {'funnel: start':22s} {'sg':>4s} {'dE meV/atom':>11s}")
    for fo in sorted(gs, key=lambda x: (x[-4:], x)):
        k = gs[fo]
        e, sg = o["e_relaxed_eV_per_atom"][k], o["spacegroup"][k]
        ok = holds(f, frows, fo, sg, e)
        found += ok
        same = sorted((j for j in range(n) if f["formula"][j] == fo), key=lambda j: f["e_single_point_eV_per_atom"][j])
        gap = f["e_single_point_eV_per_atom"][k] - f["e_single_point_eV_per_atom"][same[0]]
        j = fbest[fo]
        de_meV = round(1000 * (f["e_relaxed_eV_per_atom"][j] - e), 1) + 0.0  # + 0.0: no "-0.0"
        print(f"  {fo:8s} {o['prototype'][k]:22s} {sg:4d} {same.index(k) + 1:4d} (+{gap:.3f}) {f['prototype'][j]:22s} "
              f"{f['spacegroup'][j]:4d} {de_meV:11.1f}{'' if ok else '  lost'}")
    print(f"ground states the funnel also found: {found} of {len(gs)}")

    surv = lambda t: [k for k in range(n) if t["rejected_at_stage"][k] == -1]  # noqa: E731
    so, sf = surv(o), surv(f)
    kept = sum(holds(f, sf, o["formula"][k], o["spacegroup"][k], o["e_relaxed_eV_per_atom"][k]) for k in so)
    print(f"final lists: M3GNet only {len(so)} structures, funnel {len(sf)}; the funnel's holds {kept} of the {len(so)}")

    print("\nother keep rules on the rigid-ion single point (from these two runs)")
    print(f"  {'keep rule':44s} {'relaxations':>11s} {'ground states kept':>18s}")
    es = f["e_single_point_eV_per_atom"]
    best_sp = {fo: min(es[k] for k in range(n) if f["formula"][k] == fo) for fo in gs}

    def kept_gs(rows):
        rows = set(rows)
        return sum(any(f["formula"][j] == fo and j in rows and o["spacegroup"][j] == o["spacegroup"][gs[fo]]
                       and abs(o["e_relaxed_eV_per_atom"][j] - o["e_relaxed_eV_per_atom"][gs[fo]]) < SAME_E
                       for j in range(n)) for fo in gs)
    for x in (0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0):
        rows = [k for k in range(n) if es[k] - best_sp[f["formula"][k]] <= x]
        print(f"  {'max_energy_above_best_eV_per_atom: ' + str(x):44s} {len(rows):11d} {kept_gs(rows):18d}")
    order = sorted(range(n), key=lambda k: (es[k], f["id"][k]))
    for x in (0.35, 0.5):  # 0.35: the funnel's number of relaxations, ranked across compositions
        rows = order[:math.ceil(x * n - 1e-9)]
        print(f"  {'top_fraction: ' + str(x):44s} {len(rows):11d} {kept_gs(rows):18d}")


if __name__ == "__main__":
    main()
