#!/usr/bin/env python3
"""Benchmark: grouping duplicate structures, `matscreen match --group` vs pymatgen.

Run through scripts/bench/match_group.sh (which picks a Python with numpy and pymatgen).

Data sets
- "400": the grouping set of the regression test (tests/regression/match/gen_pairs.group_set:
  300 distinct random structures of 11 compositions with 6-10 sites, and 100 symmetry-
  equivalent copies: supercell (1 in 3), basis change, rotation, translation, permutation,
  0-2 % strain, 0.01-0.03 Å rattle), written once into WORKDIR.
- "large": N structures (default 100000) made with numpy (seed 20261129) into WORKDIR:
  75 % distinct random structures (100 compositions: 50 charge-neutral formulas of one or two
  cations and one anion, each with Z = 1 and 2, 4-20 sites, random lattice with angles
  65-115 degrees and 9-16 Å^3 per atom, sites at least 1.4 Å apart) and 25 % copies of random
  distinct ones (basis change, rotation, translation, permutation, 0.005-0.02 Å rattle, 0-1 %
  strain, and a doubled cell for one in three). Energies: uniform in [-5, -3] eV/atom for
  the distinct ones, the original's +- 0.005 for copies.

What is timed
- matscreen: `mpirun -n R matscreen match --group FILE --energies FILE --json` at R = 1 and 2
  ranks; its `time_s` (reduction to primitive cells, bucket exchange, matching; file reading
  excluded, reported as read_s). Default options (space-group guard on).
- pymatgen: StructureMatcher().group_structures on the same structures in order of increasing
  energy (so the first member of each group is the lowest in energy, as in matscreen),
  timed with time.perf_counter() around the call (building the Structures excluded). On the
  large set pymatgen runs on the first --pymatgen-n structures only (default 2000), and
  matscreen is timed on the same subset for the ratio.
Agreement: the partitions into groups are compared (matscreen with --any-spacegroup, i.e.
pymatgen's semantics, and with the default guard).
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, "..", ".."))
sys.path.insert(0, os.path.join(root, "tests", "regression", "match"))
import gen_pairs  # noqa: E402

SEED = 20261129
CATIONS = [("Li", 1), ("Na", 1), ("K", 1), ("Mg", 2), ("Ca", 2), ("Sr", 2), ("Ba", 2), ("Zn", 2),
           ("Al", 3), ("La", 3), ("Ti", 4), ("Zr", 4)]
ANIONS = [("O", -2), ("F", -1), ("S", -2)]


def formulas(rng, n):
    """n distinct charge-neutral formulas [(species, count)] with 2-10 atoms per unit."""
    out, seen = [], set()
    while len(out) < n:
        k = rng.integers(1, 3)
        cats = [CATIONS[i] for i in rng.choice(len(CATIONS), size=k, replace=False)]
        an = ANIONS[rng.integers(len(ANIONS))]
        counts = [int(rng.integers(1, 3)) for _ in cats]
        q = sum(c * z for (_, z), c in zip(cats, counts))
        if q % -an[1]:
            counts = [2 * c for c in counts]
            q *= 2
        na = q // -an[1]
        comp = [(f"{el}{z}+" if z > 1 else f"{el}+", c) for (el, z), c in zip(cats, counts)]
        comp.append((f"{an[0]}{-an[1]}-" if an[1] < -1 else f"{an[0]}-", na))
        n_at = sum(c for _, c in comp)
        key = tuple(sorted(comp))
        if 2 <= n_at <= 10 and key not in seen:
            seen.add(key)
            out.append(comp)
    return out


def lattice(rng, n):
    while True:
        a, b, c = rng.uniform(0.7, 1.4, 3)
        al, be, ga = np.radians(rng.uniform(65, 115, 3))
        cx = c * math.cos(be)
        cy = c * (math.cos(al) - math.cos(be) * math.cos(ga)) / math.sin(ga)
        cz2 = c * c - cx * cx - cy * cy
        if cz2 > 0.05 * c * c:
            L = np.array([[a, 0, 0], [b * math.cos(ga), b * math.sin(ga), 0], [cx, cy, math.sqrt(cz2)]])
            vol = n * rng.uniform(9, 16)
            return L * (vol / abs(np.linalg.det(L))) ** (1 / 3)


IMAGES = np.array([[i, j, k] for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)], float)


def random_structure(rng, comp):
    """Sites placed one at a time (up to 100 tries each) at least 1.4 Å from those before."""
    species = [s for s, c in comp for _ in range(c)]
    n = len(species)
    while True:
        L = lattice(rng, n)
        f = np.zeros((n, 3))
        ok = True
        for i in range(n):
            for _ in range(100):
                f[i] = rng.random(3)
                if i == 0:
                    break
                d = f[:i] - f[i]
                d -= np.round(d)
                cart = (d[:, None, :] + IMAGES[None, :, :]) @ L
                if np.sqrt((cart ** 2).sum(-1)).min() > 1.4:
                    break
            else:
                ok = False
                break
        if ok:
            return gen_pairs.S(L.tolist(), species, f.tolist())


def copy_of(rng, s):
    L = np.array(s.lattice)
    f = np.array(s.frac)
    sp = list(s.species)
    if rng.random() < 1 / 3:
        ax = rng.integers(3)
        shift = np.zeros(3)
        shift[ax] = 1
        f = np.vstack([f, f + shift])
        f[:, ax] /= 2
        L = L.copy()
        L[ax] *= 2
        sp = sp + sp
    # Basis change by a random unimodular matrix (product of shears).
    M = np.eye(3, dtype=int)
    for _ in range(rng.integers(1, 4)):
        i, j = rng.choice(3, 2, replace=False)
        E = np.eye(3, dtype=int)
        E[i, j] = rng.choice([-1, 1])
        M = E @ M
    L = M @ L
    f = f @ np.linalg.inv(M)
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    R = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                  [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                  [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
    e = rng.uniform(-0.01, 0.01, (3, 3))
    e = (e + e.T) / 2
    L = L @ R.T @ (np.eye(3) + e)
    f = f + rng.random(3)
    f += rng.normal(scale=rng.uniform(0.005, 0.02), size=f.shape) @ np.linalg.inv(L)
    perm = rng.permutation(len(sp))
    return gen_pairs.S(L.tolist(), [sp[i] for i in perm], (f[perm] % 1.0).tolist())


def large_set(n, seed=SEED):
    rng = np.random.default_rng(seed)
    comps = []
    for comp in formulas(rng, 50):
        for zf in (1, 2):
            comps.append([(s, c * zf) for s, c in comp])
    ndist = int(round(0.75 * n))
    structs, energies = [], []
    for i in range(ndist):
        structs.append(random_structure(rng, comps[i % len(comps)]))
        energies.append(float(rng.uniform(-5, -3)))
    for _ in range(n - ndist):
        k = int(rng.integers(ndist))
        structs.append(copy_of(rng, structs[k]))
        energies.append(energies[k] + float(rng.uniform(-0.005, 0.005)))
    order = rng.permutation(n)
    return [structs[i] for i in order], [energies[i] for i in order]


def write_set(workdir, name, structs, energies):
    xyz = os.path.join(workdir, f"{name}.extxyz")
    en = os.path.join(workdir, f"{name}.energies")
    with open(xyz, "w") as fp:
        fp.write(gen_pairs.extxyz(structs))
    with open(en, "w") as fp:
        fp.write("".join(f"{x!r}\n" for x in energies))
    return xyz, en


def matscreen(exe, mpiexec, ranks, xyz, en, extra=()):
    cmd = ([mpiexec, "-n", str(ranks), "--oversubscribe"] if ranks > 1 else []) + \
          [exe, "match", "--group", xyz, "--energies", en, "--json", *extra]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    d = json.loads(out.stdout)
    d["wall_s"] = wall
    return d


def pymatgen_groups(structs, energies):
    from pymatgen.analysis.structure_matcher import StructureMatcher
    from pymatgen.core import Lattice, Structure
    pm = [Structure(Lattice(s.lattice), s.species, s.frac) for s in structs]
    order = sorted(range(len(pm)), key=lambda i: (energies[i], i))
    ident = {id(pm[i]): i for i in range(len(pm))}
    t0 = time.perf_counter()
    groups = StructureMatcher().group_structures([pm[i] for i in order])
    dt = time.perf_counter() - t0
    dup = [-1] * len(pm)
    for g in groups:
        ids = [ident[id(x)] for x in g]
        for i in ids[1:]:
            dup[i] = ids[0]
    return dup, dt


def partition(dup):
    groups = {}
    for i, d in enumerate(dup):
        groups.setdefault(i if d < 0 else d, set()).add(i)
    return {frozenset(g) for g in groups.values()}


def compare(name, structs, energies, workdir, exe, mpiexec, pmg=True):
    xyz, en = write_set(workdir, name, structs, energies)
    res = {}
    for ranks in (1, 2):
        best = None
        for _ in range(3 if len(structs) <= 5000 else 1):
            d = matscreen(exe, mpiexec, ranks, xyz, en)
            if best is None or d["time_s"] < best["time_s"]:
                best = d
        res[ranks] = best
        print(f"  matscreen {ranks} rank{'s' if ranks > 1 else ''}: grouping {best['time_s']:.3f} s "
              f"(reduction {best['stats']['prepare_s']:.3f} s, matching {best['stats']['group_s']:.3f} s), "
              f"reading {best['read_s']:.2f} s, {best['n_groups']} groups, {best['stats']['n_buckets']} buckets "
              f"(largest {best['stats']['largest_bucket']}), {best['stats']['n_compared']} exact comparisons")
    if res[1]["duplicate_of"] != res[2]["duplicate_of"]:
        print("  WARNING: 1 and 2 ranks differ")
    anysg = matscreen(exe, mpiexec, 1, xyz, en, ("--any-spacegroup",))
    print(f"  matscreen --any-spacegroup: {anysg['n_groups']} groups, grouping {anysg['time_s']:.3f} s")
    if not pmg:
        return res, None
    dup, dt = pymatgen_groups(structs, energies)
    P = partition(dup)
    print(f"  pymatgen group_structures: {dt:.2f} s, {len(P)} groups")
    for label, d in (("--any-spacegroup", anysg), ("default guard", res[1])):
        M = partition(d["duplicate_of"])
        diff = sum(len(g) for g in M ^ P)
        print(f"  partition vs pymatgen ({label}): {len(M & P)} groups identical, "
              f"{len(M - P)} matscreen-only, {len(P - M)} pymatgen-only")
    print(f"  ratio pymatgen / matscreen: {dt / res[1]['time_s']:.0f}x (1 rank), "
          f"{dt / res[2]['time_s']:.0f}x (2 ranks)")
    return res, dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.environ.get("MATSCREEN_BIN", os.path.join(root, "build", "matscreen")))
    ap.add_argument("--mpiexec", default="mpiexec")
    ap.add_argument("--workdir", default=os.path.join(root, "build", "bench-match"))
    ap.add_argument("--n", type=int, default=100000, help="structures in the large set")
    ap.add_argument("--pymatgen-n", type=int, default=2000, help="pymatgen on the first K of the large set")
    ap.add_argument("--no-pymatgen", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    print(f"matscreen: {a.bin}")

    s, e, _ = gen_pairs.group_set()
    print(f"== 400 structures (300 distinct + 100 copies)")
    compare("group400", s, e, a.workdir, a.bin, a.mpiexec, not a.no_pymatgen)

    t0 = time.perf_counter()
    s, e = large_set(a.n)
    print(f"== {a.n} structures (75 % distinct, 25 % copies; generated in {time.perf_counter() - t0:.0f} s)")
    compare(f"group{a.n}", s, e, a.workdir, a.bin, a.mpiexec, pmg=False)
    if not a.no_pymatgen and a.pymatgen_n:
        k = min(a.pymatgen_n, a.n)
        print(f"== the first {k} structures of that set")
        compare(f"group{a.n}_first{k}", s[:k], e[:k], a.workdir, a.bin, a.mpiexec, True)


if __name__ == "__main__":
    main()
