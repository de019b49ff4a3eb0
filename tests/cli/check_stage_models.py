"""CLI test of per-stage models: a funnel stage may name its own model (`potential:`).

usage: check_stage_models.py MATSCREEN MPIEXEC

1. Campaign A (default bush1994) scores with lewis_catlow1985 (direct Ewald, accuracy 1e-12)
   and relaxes with the default; campaign B (default lewis_catlow1985) scores with the default
   and relaxes with bush1994. Run at 1 and 2 ranks: each output records every stage's model in /funnel/model and
   the campaign's default in the root attribute `potential`; the tables are the same at 1 and 2
   ranks; A and B give the same single-point energies, relaxed energies and hull references bit
   for bit (the hull's reference phases come from the relax stage's model, not the default).
2. The energies are those `matscreen energy --potential X` gives on the same structures
   (`matscreen generate` / `matscreen export` write them as extxyz), and the two models'
   single points differ, so the check has teeth.
3. `check` and `run` stop before any work when a stage's model does not cover a species of
   the search space, naming the species, the model and the stage (one message, also at 2
   ranks, no output file left).
4. The rigid-ion options on the command line go through the family's parser: bad values and
   misspelt keys exit 1 with the flag named and a suggestion, printed once at 2 ranks.
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

exe, mpiexec = sys.argv[1], sys.argv[2]
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


SEARCH = """search:
  - {generator: prototype_substitution, prototypes: [rocksalt], sites: {A: [Ca2+], X: [O2-]}}
  - {generator: prototype_substitution, prototypes: [corundum], sites: {A: [Y3+, La3+, Gd3+], X: [O2-]}}
"""
CAMPAIGN_A = """campaign: {name: stage-models-a, seed: 5}
potential: bush1994
""" + SEARCH + """funnel:
  - {stage: single_point, potential: {name: lewis_catlow1985, method: direct, accuracy: 1e-12}}
  - {stage: relax, cell: full, fmax: 0.005}
  - {stage: hull}
"""
CAMPAIGN_B = """campaign: {name: stage-models-b, seed: 5}
potential: {name: lewis_catlow1985, method: direct, accuracy: 1e-12}
""" + SEARCH + """funnel:
  - {stage: single_point}
  - {stage: relax, cell: full, fmax: 0.005, potential: bush1994}
  - {stage: hull}
"""
TABLES = ["candidates/id", "candidates/formula", "candidates/status", "candidates/e_single_point_eV_per_atom",
          "candidates/e_relaxed_eV_per_atom", "candidates/e_above_hull_eV_per_atom",
          "hull/reference_formula", "hull/reference_energy_eV_per_atom", "structures/lattice_A",
          "structures/frac_positions", "funnel/stage", "funnel/model", "funnel/count_out"]


def bitwise(a, b):
    return a.shape == b.shape and a.tobytes() == b.tobytes()


def energies(paths, potential, extra=()):
    """{candidate id (the number the file name starts with): energy per atom} from
    `matscreen energy --json`; the key is the file name itself when it has no number."""
    rc, out, err = run(["energy"] + paths + ["--potential", potential, "--json"] + list(extra))
    check(rc == 0, f"energy --potential {potential}: {rc} {err[-300:]}")
    got = {}
    for line in out.splitlines():
        r = json.loads(line)
        stem = os.path.basename(r["file"]).split(".")[0].split("_")[0]
        got[int(stem) if stem.isdigit() else stem] = r["energy_per_atom_eV"]
    return got


with tempfile.TemporaryDirectory() as tmp:
    files = {}
    for tag, text in (("a", CAMPAIGN_A), ("b", CAMPAIGN_B)):
        y = os.path.join(tmp, f"{tag}.yaml")
        with open(y, "w") as fh:
            fh.write(text)
        for np_ in (1, 2):
            out = os.path.join(tmp, f"{tag}_np{np_}.h5")
            rc, so, se = run(["--quiet", "run", y, "-o", out], np_)
            check(rc == 0, f"run {tag} np={np_}: exit {rc}: {se[-500:]}")
            files[(tag, np_)] = out
    a, b = h5py.File(files[("a", 1)], "r"), h5py.File(files[("b", 1)], "r")

    # 1. what each stage used, the defaults, and the resolved campaign
    stages = [s.decode() for s in a["funnel/stage"][:]]
    check(stages == ["generate", "single_point", "relax", "hull"], f"stages: {stages}")
    for f, default in ((a, "bush1994"), (b, "lewis_catlow1985")):
        models = [m.decode() for m in f["funnel/model"][:]]
        check(models == ["", "lewis_catlow1985", "bush1994", "bush1994"], f"{default}: /funnel/model {models}")
        pot = f.attrs["potential"]
        pot = pot.decode() if isinstance(pot, bytes) else pot
        check(pot == default, f"root attribute potential {pot} != {default}")
    resolved = a["config/resolved"][0].decode()
    check("- {stage: single_point, potential: {name: lewis_catlow1985, accuracy: 1e-12, method: direct}}" in resolved,
          f"the resolved campaign records the stage's model: {resolved}")
    for tag in ("a", "b"):
        one, two = h5py.File(files[(tag, 1)], "r"), h5py.File(files[(tag, 2)], "r")
        for name in TABLES:
            check(bitwise(one[name][()], two[name][()]), f"{tag}: {name} differs between 1 and 2 ranks")
    for name in TABLES:
        if name != "funnel/model":
            check(bitwise(a[name][()], b[name][()]), f"{name} differs between the two ways of choosing models")
    n = a["candidates/id"].shape[0]
    check(n == 4 and np.all(np.isfinite(a["candidates/e_single_point_eV_per_atom"][:])), f"4 candidates scored: {n}")
    check(a["hull/reference_formula"].shape[0] == 4, "four binary-oxide references")

    # 2. the energies are those of `matscreen energy` with the stage's model
    gen = os.path.join(tmp, "generated")
    rc, so, se = run(["generate", os.path.join(tmp, "a.yaml"), "-d", gen, "-f", "extxyz"])
    check(rc == 0, f"generate: {rc} {se[-300:]}")
    paths = sorted(glob.glob(os.path.join(gen, "*.xyz")))
    lewis = energies(paths, "lewis_catlow1985", ["--method", "direct", "--accuracy", "1e-12"])
    bush = energies(paths, "bush1994")
    es = a["candidates/e_single_point_eV_per_atom"][:]
    check(len(lewis) == n, f"generate wrote every candidate: {sorted(lewis)}")
    for k, cid in enumerate(a["candidates/id"][:]):
        e, eb = lewis.get(int(cid)), bush.get(int(cid))
        # the files hold 14 decimals, and the Ewald sum is accurate to 1e-12 relative
        check(e is not None and abs(e - es[k]) <= 1e-10 * abs(e), f"candidate {cid}: single point {es[k]} vs energy {e}")
        check(eb is not None and e is not None and abs(eb - e) > 0.01,
              f"candidate {cid}: the two models differ ({e} vs {eb})")
    exp = os.path.join(tmp, "relaxed")
    rc, so, se = run(["export", files[("a", 1)], "--what", "survivors", "--format", "extxyz", "-d", exp])
    check(rc == 0, f"export: {rc} {se[-300:]}")
    paths = sorted(glob.glob(os.path.join(exp, "*.xyz")))
    check(len(paths) >= 4, f"relaxed survivors exported: {len(paths)}")
    got = energies(paths, "bush1994")
    er = dict(zip(a["candidates/id"][:], a["candidates/e_relaxed_eV_per_atom"][:]))
    for cid, e in got.items():
        check(abs(e - er[cid]) <= 1e-8, f"candidate {cid}: relaxed {er[cid]} vs energy --potential bush1994 {e}")

    # 3. species outside a stage's model: an error before any work
    bad = os.path.join(tmp, "bad.yaml")
    with open(bad, "w") as fh:
        fh.write(CAMPAIGN_A.replace("A: [Ca2+]", "A: [Ca2+, Sr2+]"))
    for cmd, np_ in (("check", None), ("run", None), ("run", 2)):
        out = os.path.join(tmp, "bad.h5")
        args = [cmd, bad] + (["-o", out] if cmd == "run" else ["--no-calibrate"])
        rc, so, se = run(args, np_)
        errors = [line for line in se.splitlines() if "error:" in line]
        check(rc == 1 and len(errors) == 1, f"uncovered species ({cmd} np={np_}): rc {rc}, {se[-400:]}")
        check("bad.yaml:" in se and "funnel[0].potential" in se
              and "model 'lewis_catlow1985' (funnel[0] single_point) does not cover Sr2+ (search[0])" in se,
              f"the message names the species, the model and the stage: {se[-400:]}")
        check("'bush1994'" not in se.split("does not cover")[-1].split(".")[0],
              f"bush1994 covers Sr2+ and is not blamed: {se[-400:]}")
        check(not os.path.exists(out) and not os.path.exists(out + ".partial"), f"{cmd}: no output left")

    # 4. the electrostatics options on the command line: one parser, the flag named
    mgo = os.path.join(tmp, "mgo.xyz")
    with open(mgo, "w") as fh:
        fh.write('2\nLattice="0 2.1 2.1 2.1 0 2.1 2.1 2.1 0" Properties=species:S:1:pos:R:3:oxi_states:R:1 '
                 'pbc="T T T"\nMg 0 0 0 2\nO 2.1 2.1 2.1 -2\n')
    for cmd in (["energy"], ["relax"]):
        for args, text in ((["--method", "pmee"], "--method: must be auto, direct or pme, got 'pmee' (did you mean 'pme'?)"),
                           (["--accuracy", "0.5"], "--accuracy: must be in [1e-15, 1e-2], got 0.5"),
                           (["--model-option", "methd=pme"], "--model-option methd: unknown option of rigid_ion models "
                                                             "(did you mean 'method'?)"),
                           (["--model-option", "method"], "--model-option expects KEY=VALUE")):
            rc, so, se = run(cmd + [mgo, "--potential", "bush1994"] + args, 2)
            check(rc == 1 and text in se, f"{cmd[0]} {args}: rc {rc}, {se[-300:]}")
            check(sum(line.startswith("matscreen") for line in se.splitlines()) == 1,
                  f"{cmd[0]} {args}: printed once: {se!r}")
    e_pme = energies([mgo], "bush1994", ["--model-option", "method=pme", "--accuracy", "1e-10"])
    e_dir = energies([mgo], "bush1994", ["--method", "direct", "--model-option", "accuracy=1e-10"])
    check(e_pme and e_dir and abs(e_pme["mgo"] - e_dir["mgo"]) < 1e-8,
          f"--model-option and the shorthands reach the same settings: {e_pme} {e_dir}")

print(f"{len(failures)} failed" if failures else "all stage-model CLI checks passed", file=sys.stderr)
sys.exit(1 if failures else 0)
