#!/usr/bin/env python3
"""Load balance of the campaign driver: measured at 1 and 2 ranks, simulated up to 16,384.

usage: load_balance.py --bin build/matscreen [--workdir DIR] [--draws N]

1. Runs a random-search campaign whose per-candidate cost varies by more than 100x (cells of 5
   to 40 atoms for the single point; the best 20 % are also relaxed, which costs 10-1000 times
   a single point) with `mpirun -n 1` and `-n 2`, and reports the parallel efficiency
   busy / (ranks x wall) per stage and overall from the /funnel table of the output.
2. Feeds the measured per-candidate costs (single_point_time_s, relax_time_s of the 1-rank run)
   to an event simulation of the same hand-out rule (guided self-scheduling over an atomic
   ticket counter, src/driver/schedule.c: chunk = remaining / (2 P) blocks, at least 1 and at
   most 64 blocks of clamp(N / 65536, 1, 1024) ids in generation + single point, 4 blocks in
   relaxation, as src/driver/funnel.c cuts them), resampled to a search space of
   10^7 candidates, and estimates the efficiency at 64 .. 16,384 ranks.

Model assumptions (stated in docs/performance.md): ranks are identical; a claim costs a fixed
latency (5 us) plus queueing at the counter, which serves one claim per 1 us (one rank 0
NIC doing atomics); the two phases are separated by the collective keep decision, whose cost
(2 x 64 Allreduce, ~log2(P) x 5 us each) is added; file output is not modelled.
"""
import argparse
import heapq
import os
import subprocess
import sys

import h5py
import numpy as np

CAMPAIGN = """campaign: {{name: load-balance, seed: 99}}
potential: bush1994
search:
  - generator: random_search
    compositions: [SrTiO3, BaTiO3, CaTiO3]
    formula_units: [1, 8]
    draws: {draws}
funnel:
  - {{stage: single_point, keep: {{top_fraction: 0.2}}}}
  - {{stage: relax, cell: full, fmax: 0.01, max_steps: 2000, keep: {{max_energy_above_best_eV_per_atom: 1.0}}}}
"""


def run(binary, np_, path, out):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", OMPI_MCA_btl="self,vader")
    cmd = ["mpirun", "-n", str(np_), binary, "--quiet", "run", path, "-o", out]
    subprocess.run(cmd, check=True, env=env)
    return h5py.File(out, "r")


def efficiency(f):
    """Rows (stages, busy, wall, efficiency); stages run in one pass (generate and the single
    point share their wall time) are merged. Returns the rows and the overall efficiency."""
    fun = f["funnel"]
    ranks = int(f.attrs["ranks"])
    groups = {}
    for n, c, w in zip((s.decode() for s in fun["stage"][:]), fun["cpu_s"][:], fun["wall_s"][:]):
        key = round(float(w), 9)
        name, cpu, _ = groups.get(key, ("", 0.0, w))
        groups[key] = (name + ("+" if name else "") + n, cpu + c, w)
    rows = [(n, c, w, c / (ranks * w) if w > 0 else float("nan")) for n, c, w in groups.values()]
    tot_cpu = sum(r[1] for r in rows)
    tot_wall = sum(r[2] for r in rows)
    return rows, tot_cpu / (ranks * tot_wall)


def chunks(total, P, cmin, cmax):
    pos = 0
    while pos < total:
        c = max(cmin, (total - pos) // (2 * P))
        c = min(c, cmax, total - pos)
        yield pos, c
        pos += c


def simulate(costs, P, cmin, cmax, block=1, latency=5e-6, service=1e-6):
    """Makespan of guided self-scheduling of @p costs, cut into blocks of @p block items (the
    commit unit of the checkpoint), on P ranks with a shared counter."""
    if block > 1:
        nb = (len(costs) + block - 1) // block
        padded = np.zeros(nb * block)
        padded[:len(costs)] = costs
        costs = padded.reshape(nb, block).sum(axis=1)
    prefix = np.concatenate([[0.0], np.cumsum(costs)])
    plan = list(chunks(len(costs), P, cmin, cmax))
    ready = [(0.0, r) for r in range(P)]  # (time the rank asks for work, rank)
    heapq.heapify(ready)
    counter_free = 0.0
    finish = 0.0
    for start, c in plan:
        t, r = heapq.heappop(ready)
        t_claim = max(t + latency, counter_free) + service
        counter_free = t_claim
        done = t_claim + (prefix[start + c] - prefix[start])
        finish = max(finish, done)
        heapq.heappush(ready, (done, r))
    # the ranks that find nothing left still pay one claim; the phase ends at the last finish
    return finish


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default="build/matscreen")
    ap.add_argument("--workdir", default="build/bench-load")
    ap.add_argument("--draws", type=int, default=1500)
    ap.add_argument("--simulate-total", type=int, default=10_000_000)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    path = os.path.join(a.workdir, "load_balance.yaml")
    with open(path, "w") as fh:
        fh.write(CAMPAIGN.format(draws=a.draws))
    f1 = run(os.path.abspath(a.bin), 1, path, os.path.join(a.workdir, "np1.h5"))
    f2 = run(os.path.abspath(a.bin), 2, path, os.path.join(a.workdir, "np2.h5"))
    c = f1["candidates"]
    sp = c["single_point_time_s"][:]
    rt = c["relax_time_s"][:]
    cost = sp + rt
    print(f"campaign: {len(sp)} candidates ({a.draws} draws x 3 compositions), 1-8 formula units")
    print(f"per-candidate cost (single point + relax), measured at 1 rank: min {cost.min()*1e6:.0f} us, "
          f"median {np.median(cost)*1e6:.0f} us, max {cost.max()*1e3:.1f} ms, "
          f"max/min {cost.max()/cost.min():.0f}x")
    for f in (f1, f2):
        rows, tot = efficiency(f)
        print(f"measured at {int(f.attrs['ranks'])} rank(s): overall efficiency {tot*100:.1f} %")
        for n, cpu, wall, e in rows:
            print(f"  {n:22s} busy {cpu:8.3f} s  wall {wall:8.3f} s  efficiency {e*100:6.1f} %")
    # simulation
    rng = np.random.default_rng(1)
    n = a.simulate_total
    sp_costs = rng.choice(sp[sp > 0], size=n)
    relaxed = rt[rt > 0]
    nrel = max(1, int(0.2 * n))
    rl_costs = rng.choice(relaxed, size=nrel) if len(relaxed) else np.zeros(nrel)
    work = sp_costs.sum() + rl_costs.sum()
    print(f"simulation: {n} candidates resampled from the measured costs "
          f"({work/3600:.1f} core-hours), 20 % relaxed")
    print(f"  {'ranks':>6s} {'efficiency':>10s} {'wall':>10s}")
    for P in (64, 256, 1024, 4096, 16384):
        # as src/driver/funnel.c: phase A in blocks of clamp(ceil(N / 65536), 1, 1024) ids, up
        # to 64 blocks per claim; relaxations in blocks of ceil(n / 262144), up to 4 per claim
        ba = min(1024, max(1, -(-len(sp_costs) // 65536)))
        bb = max(1, -(-len(rl_costs) // 262144))
        t = simulate(sp_costs, P, 1, 64, ba) + simulate(rl_costs, P, 1, 4, bb)
        t += 2 * 64 * np.log2(P) * 5e-6  # keep decision
        print(f"  {P:6d} {work/(P*t)*100:9.1f}% {t:9.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
