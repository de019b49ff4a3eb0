#!/usr/bin/env python3
"""Regression test: `matscreen match` against pymatgen's StructureMatcher.

usage: check_match.py MATSCREEN [MPIEXEC]

The 2600 pairs of gen_pairs.make_pairs() are regenerated (seeded, pure Python; their SHA-256
must equal the one stored with the references) and compared with the verdicts pymatgen
2022.11.7 gave at default tolerances (make_reference.py has the command):
- with --any-spacegroup (pymatgen's semantics): verdicts agree on >= 99.5 % of the pairs, and
  on every pair of the exact-copy kinds (translate, permute, rotate, basis, supercell,
  combined, mirror); where both report an RMS displacement, the two agree within 1e-6 on
  >= 99.5 % of the pairs;
- with --elements --any-spacegroup: agreement with ElementComparator verdicts >= 99.5 %;
- with the default space-group guard: every disagreement is a pair that pymatgen matches and
  whose two space groups differ (the guard's purpose), never the other way round.
Grouping: the 400 structures of gen_pairs.group_set() are grouped with `match --group` at 1, 2
and 4 ranks (identical output required) and compared with pymatgen's group_structures on the
same energy order: every structure must get the same survivor, except where the two codes
reduce one of the structures involved to different primitive cells (noisy supercells, see
docs/stability.md), which may be at most 1 % of the structures.
"""
import collections
import json
import os
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import gen_pairs  # noqa: E402

EXACT = {"translate", "permute", "rotate", "basis", "supercell", "combined", "mirror"}
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def run(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({out.returncode}): {out.stderr}")
    return out.stdout


def read_ref(name):
    with open(os.path.join(here, name)) as fp:
        lines = fp.read().splitlines()
    return lines[0].split()[-1], [l.split() for l in lines if not l.startswith("#")]


def main():
    exe = sys.argv[1]
    mpiexec = sys.argv[2] if len(sys.argv) > 2 else None
    pairs = gen_pairs.make_pairs()
    sha, ref = read_ref("pymatgen_verdicts.txt")
    if gen_pairs.checksum(pairs) != sha:
        fail("the regenerated pairs differ from those the references were made for; rerun make_reference.py")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        a, b = os.path.join(tmp, "a.extxyz"), os.path.join(tmp, "b.extxyz")
        with open(a, "w") as fp:
            fp.write(gen_pairs.extxyz([p[1] for p in pairs]))
        with open(b, "w") as fp:
            fp.write(gen_pairs.extxyz([p[2] for p in pairs]))

        # pymatgen semantics
        res = [json.loads(l) for l in run([exe, "match", a, b, "--json", "--any-spacegroup"]).splitlines()]
        if len(res) != len(pairs):
            fail(f"{len(res)} results for {len(pairs)} pairs")
            return 1
        per = collections.defaultdict(lambda: [0, 0])
        dis = []
        rms_ok = rms_n = 0
        worst = 0.0
        for (kind, _, _), r, o in zip(pairs, ref, res):
            per[kind][0] += 1
            if int(r[2]) == o["match"]:
                per[kind][1] += 1
            else:
                dis.append((r[0], kind, r[2], o["match"], o["reason"], o["a"]["nsites"], o["b"]["nsites"]))
                if kind in EXACT:
                    fail(f"pair {r[0]} ({kind}): an exact copy, pymatgen {r[2]} vs {o['match']}")
            if r[3] != "None" and o["rms"] is not None:
                rms_n += 1
                d = abs(float(r[3]) - o["rms"])
                worst = max(worst, d)
                rms_ok += d <= 1e-6
        agree = sum(v[1] for v in per.values()) / len(pairs)
        print(f"pymatgen semantics: {agree * 100:.2f} % of {len(pairs)} pairs agree")
        for kind in sorted(per):
            print(f"  {kind:16s} {per[kind][1]:4d} / {per[kind][0]}")
        for d in dis:
            print("  disagreement: pair %s (%s): pymatgen %s, matscreen %s (%s), primitive sites %s / %s" % d)
        if agree < 0.995:
            fail(f"agreement {agree * 100:.2f} % < 99.5 %")
        print(f"  RMS within 1e-6 of pymatgen: {rms_ok} / {rms_n} (largest difference {worst:.2e})")
        if rms_ok < 0.995 * rms_n:
            fail(f"RMS agrees on only {rms_ok} of {rms_n} pairs")

        # elements only
        res_e = [json.loads(l) for l in run([exe, "match", a, b, "--json", "--any-spacegroup", "--elements"]).splitlines()]
        agree_e = sum(int(r[5]) == o["match"] for r, o in zip(ref, res_e)) / len(pairs)
        print(f"elements only: {agree_e * 100:.2f} % agree with ElementComparator")
        if agree_e < 0.995:
            fail(f"elements-only agreement {agree_e * 100:.2f} % < 99.5 %")
        if not any(o["match"] and not p["match"] for o, p in zip(res_e, res)):
            fail("--elements never matched a pair that species comparison rejects")

        # default: space-group guard
        res_g = [json.loads(l) for l in run([exe, "match", a, b, "--json"]).splitlines()]
        guard = 0
        for (kind, _, _), r, o in zip(pairs, ref, res_g):
            if int(r[2]) == o["match"]:
                continue
            sg = (o["a"]["spacegroup"], o["b"]["spacegroup"])
            if int(r[2]) == 1 and not o["match"] and o["reason"] == "spacegroup" and sg[0] != sg[1]:
                guard += 1
            elif r[0] not in {d[0] for d in dis}:
                fail(f"pair {r[0]} ({kind}): with the guard, pymatgen {r[2]} vs {o['match']} ({o['reason']}, {sg})")
        print(f"with the space-group guard: {guard} pymatgen matches refused because the space groups differ")

        # grouping
        gsha, gref = read_ref("group_reference.txt")
        structs, energies, _ = gen_pairs.group_set()
        if gen_pairs.checksum([("g", x, x) for x in structs]) != gsha:
            fail("the regenerated grouping set differs from the reference; rerun make_reference.py")
            return 1
        g, e = os.path.join(tmp, "g.extxyz"), os.path.join(tmp, "g.energies")
        with open(g, "w") as fp:
            fp.write(gen_pairs.extxyz(structs))
        with open(e, "w") as fp:
            fp.write("".join(f"{x!r}\n" for x in energies))
        outs = {}
        for np_ in ([1, 2, 4] if mpiexec else [1]):
            cmd = ([mpiexec, "-n", str(np_), "--oversubscribe"] if mpiexec else []) + \
                  [exe, "match", "--group", g, "--energies", e, "--json", "--any-spacegroup"]
            outs[np_] = json.loads(run(cmd))
        base = outs[1]["duplicate_of"]
        for np_, o in outs.items():
            if o["duplicate_of"] != base:
                fail(f"grouping at {np_} ranks differs from 1 rank")
        pdup = [int(x[1]) for x in gref]
        pn = [int(x[2]) for x in gref]
        diff = [i for i in range(len(base)) if base[i] != pdup[i]]
        # Reduced site counts of the structures involved in each difference.
        unexplained = []
        if diff:
            involved = sorted({j for i in diff for j in (i, base[i], pdup[i]) if j >= 0})
            single = os.path.join(tmp, "one.extxyz")
            with open(single, "w") as fp:
                fp.write(gen_pairs.extxyz([structs[j] for j in involved]))
            mine = [json.loads(l)["a"]["nsites"] for l in run([exe, "match", single, single, "--json", "--any-spacegroup"]).splitlines()]
            nsites = dict(zip(involved, mine))
            for i in diff:
                js = [j for j in (i, base[i], pdup[i]) if j >= 0]
                if all(nsites[j] == pn[j] for j in js):
                    unexplained.append(i)
        print(f"grouping: {outs[1]['n_groups']} groups (pymatgen {len(set(range(len(pdup))) - {i for i in range(len(pdup)) if pdup[i] >= 0})}), "
              f"{len(diff)} structures with another survivor, all involving different primitive cells: {not unexplained}")
        if unexplained:
            fail(f"grouping differs from pymatgen for structures {unexplained} with equal primitive cells")
        if len(diff) > 0.01 * len(base):
            fail(f"grouping differs from pymatgen for {len(diff)} structures (> 1 %)")
    if failures:
        print(f"{len(failures)} failures")
        return 1
    print("all match checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
