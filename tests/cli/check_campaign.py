"""CLI tests of `matscreen run` and `matscreen check`.

usage: check_campaign.py MATSCREEN MPIEXEC SOURCE_ROOT

1. Every malformed campaign in tests/data/bad/campaigns/ (listed with the expected message in
   campaigns.expected) gives exit 1 and exactly one error message naming the file, from
   `check` and from `run` at 1 rank, and at 4 ranks for a sample; no output file (final or
   .partial) is left behind.
2. A small complete campaign run at 1, 2, 3 and 4 ranks gives identical candidate tables,
   structures and funnel counts (energies bitwise), and every documented dataset is there.
"""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

exe, mpiexec, root = sys.argv[1], sys.argv[2], sys.argv[3]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(args, np_=None, cwd=None):
    cmd = [exe] + args
    if np_:
        cmd = [mpiexec, "-n", str(np_), "--oversubscribe"] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=cwd)
    return p.returncode, p.stdout, p.stderr


bad_dir = os.path.join(root, "tests/data/bad/campaigns")
expected = {}
for line in open(os.path.join(bad_dir, "campaigns.expected")):
    if line.startswith("#") or not line.strip():
        continue
    name, frag = line.rstrip("\n").split("\t")
    expected[name] = frag
check(len(expected) >= 30, f"at least 30 malformed campaigns, have {len(expected)}")

with tempfile.TemporaryDirectory() as tmp:
    sample = sorted(expected)[::6]
    for name, frag in sorted(expected.items()):
        path = os.path.join(bad_dir, name)
        out = os.path.join(tmp, "out.h5")
        runs = [("check", None), ("run", None)] + ([("run", 4)] if name in sample else [])
        for cmd, np_ in runs:
            args = [cmd, path] + (["-o", out] if cmd == "run" else ["--no-calibrate"])
            rc, so, se = run(args, np_)
            tag = f"{name} ({cmd}{' np=' + str(np_) if np_ else ''})"
            check(rc == 1, f"{tag}: exit {rc}, expected 1; stderr: {se.strip()[:300]}")
            errors = [l for l in se.splitlines() if "error:" in l]
            check(len(errors) == 1, f"{tag}: {len(errors)} error lines: {se.strip()[:300]}")
            check(name in se and frag in se, f"{tag}: message lacks file or '{frag}': {se.strip()[:300]}")
            check(not os.path.exists(out) and not os.path.exists(out + ".partial"),
                  f"{tag}: output left behind")

    # A complete campaign at 1, 2, 3 and 4 ranks.
    camp = os.path.join(root, "tests/data/campaigns/small_random.yaml")
    rc, so, se = run(["check", camp])
    check(rc == 0 and "search space: 60 candidates" in so, f"check small_random: {rc} {so[-300:]} {se[-300:]}")
    files = {}
    for np_ in (1, 2, 3, 4):
        out = os.path.join(tmp, f"small_np{np_}.h5")
        rc, so, se = run(["run", camp, "-o", out, "--progress-interval", "0.2"], np_)
        check(rc == 0, f"run np={np_}: exit {rc}: {se[-500:]}")
        check(os.path.exists(out) and not os.path.exists(out + ".partial"), f"np={np_}: output file")
        check("funnel summary" in se and se.count("funnel summary") == 1, f"np={np_}: one summary")
        files[np_] = out
    ref = h5py.File(files[1], "r")
    for ds in ["candidates/id", "candidates/formula", "candidates/status", "candidates/generator",
               "candidates/e_single_point_eV_per_atom", "candidates/e_relaxed_eV_per_atom",
               "candidates/volume_scale", "candidates/stage_reached", "candidates/relax_status",
               "structures/candidate_id", "structures/lattice_A", "structures/natoms",
               "structures/offset", "structures/species", "structures/frac_positions",
               "funnel/stage", "funnel/count_in", "funnel/count_out", "funnel/by_status",
               "hull/reference_formula", "hull/reference_energy_eV_per_atom", "hull/stable_candidate_id",
               "candidates/duplicate_of", "candidates/e_above_hull_eV_per_atom",
               "config/given", "config/resolved"]:
        check(ds in ref, f"dataset {ds} present")
    c = ref["candidates"]
    n = c["id"].shape[0]
    check(n == 60 and list(c["id"][:]) == list(range(60)), "one row per candidate, sorted by id")
    check(ref.attrs["seed"] == 4242 and ref.attrs["schema_version"] == 2, "root attributes")
    nrel = int(np.isfinite(c["e_relaxed_eV_per_atom"][:]).sum())
    check(nrel >= 1 and ref["structures/natoms"].shape[0] >= 1, f"relaxed survivors: {nrel}")
    # relaxed energies are never above the single point at the chosen volume
    es, er = c["e_single_point_eV_per_atom"][:], c["e_relaxed_eV_per_atom"][:]
    m = np.isfinite(er)
    check(bool(np.all(er[m] <= es[m] + 1e-9)), "relaxation lowers the energy")
    for np_ in (2, 3, 4):
        other = h5py.File(files[np_], "r")
        names = []
        for group in ("candidates", "structures", "hull", "shortlist"):
            if group in ref:
                ref[group].visit(lambda k, g=group: names.append(g + "/" + k))
        for name in names:
            if name.endswith("time_s") or not isinstance(ref[name], h5py.Dataset):
                continue
            a, b = ref[name][()], other[name][()]
            same = a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
            check(same, f"np={np_}: {name} identical to np=1")
        for k in ("stage", "count_in", "count_out", "by_status"):
            check(np.array_equal(ref["funnel"][k][:], other["funnel"][k][:]), f"np={np_}: funnel/{k}")
        check(other.attrs["ranks"] == np_, f"np={np_}: ranks attribute")

print(f"{len(failures)} failed" if failures else "all campaign CLI checks passed", file=sys.stderr)
sys.exit(1 if failures else 0)
