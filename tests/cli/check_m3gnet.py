"""The M3GNet universal potential through the commands: energy, relax, info, check and run.

usage: check_m3gnet.py MATSCREEN MPIEXEC SOURCE_ROOT

1. `matscreen energy --json` on the six structures of the public M3GNet reference set
   (tests/regression/m3gnet/public.txt: float64 values of an independent implementation), both
   checkpoints, both semantics, at the tolerances of the issue: consistent within 1e-8 eV/atom,
   1e-7 eV/Å and 1e-6 GPa, matgl within 1e-6 eV/atom, 1e-5 eV/Å and 1e-4 GPa.
2. matgl's own unit test: CsCl-type MoS with a = 4.0 Å, -10.824362 eV within 2e-5 eV.
3. A converted model file given by path gives the built-in model's numbers; a damaged one is
   refused naming the file; an element the model lacks is refused naming it (energy, and a
   campaign's check and run before any work); `info models` lists the family and its models.
4. `relax` converges a rattled Si cell to a lower energy with forces below the tolerance.
5. `run` of a small M3GNet campaign (single point, relax, dedup, hull) at 1, 2 and 4 ranks gives
   identical tables.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

MS, MPIEXEC, ROOT = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, os.path.join(ROOT, "tests", "reliability"))
from h5tables import same, tables  # noqa: E402

MODELS = {"M3GNet-MP-2021.2.8-PES": "m3gnet-mp-2021.2.8", "M3GNet-MatPES-PBE-v2025.1-PES": "m3gnet-matpes-pbe-2025.1"}
TOL = {"consistent": (1e-8, 1e-7, 1e-6), "matgl": (1e-6, 1e-5, 1e-4)}
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


def read_public(path):
    """[(name, lattice 3x3, symbols, positions, {(model, semantics): (E, forces, stress)})]"""
    out, cur, res = [], None, None
    for line in open(path):
        w = line.split()
        if not w or w[0].startswith("#"):
            continue
        if w[0] == "structure":
            cur = {"name": w[1], "symbols": [], "pos": [], "ref": {}}
            out.append(cur)
        elif w[0] == "lattice":
            cur["lattice"] = np.array([float(x) for x in w[1:10]]).reshape(3, 3)
        elif w[0] == "atom":
            cur["symbols"].append(w[1])
            cur["pos"].append([float(x) for x in w[2:5]])
        elif w[0] == "result":
            res = {"E": float(w[3]), "F": [], "S": None}
            cur["ref"][(w[1], w[2])] = res
        elif w[0] == "force":
            res["F"].append([float(x) for x in w[1:4]])
        elif w[0] == "stress":
            res["S"] = [float(x) for x in w[1:7]]
    return out


def write_extxyz(path, structs):
    with open(path, "w") as f:
        for s in structs:
            f.write("%d\n" % len(s["symbols"]))
            f.write('Lattice="%s" Properties=species:S:1:pos:R:3 pbc="T T T"\n'
                    % " ".join(repr(float(x)) for x in s["lattice"].ravel()))
            for sym, p in zip(s["symbols"], s["pos"]):
                f.write("%s %s %s %s\n" % (sym, repr(p[0]), repr(p[1]), repr(p[2])))


def energy(path, model, *extra, np_=1):
    r = subprocess.run([MPIEXEC, "-n", str(np_), MS, "energy", path, "--potential", model, "--json", *extra],
                       capture_output=True, text=True)
    return r, [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]


def reference_set(work):
    structs = read_public(os.path.join(ROOT, "tests", "regression", "m3gnet", "public.txt"))
    check(len(structs) == 6, "six public structures")
    path = os.path.join(work, "public.extxyz")
    write_extxyz(path, structs)
    for ckpt, model in MODELS.items():
        for sem, (te, tf, ts) in TOL.items():
            r, res = energy(path, model, "--model-option", "semantics=" + sem)
            check(r.returncode == 0 and len(res) == 6, "%s %s: energy of the six structures" % (model, sem))
            de = df = ds = 0.0
            for s, x in zip(structs, res):
                ref = s["ref"][(ckpt, sem)]
                n = len(s["symbols"])
                de = max(de, abs(x["energy_eV"] - ref["E"]) / n)
                df = max(df, float(np.max(np.abs(np.array(x["forces_eV_per_A"]) - np.array(ref["F"])))))
                ds = max(ds, float(np.max(np.abs(np.array(x["stress_GPa"]) - np.array(ref["S"])))))
            check(de <= te and df <= tf and ds <= ts,
                  "%s %s: worst differences %.2g eV/atom, %.2g eV/Å, %.2g GPa (tolerances %g, %g, %g)"
                  % (model, sem, de, df, ds, te, tf, ts))


def mos(work):
    path = os.path.join(work, "MoS.extxyz")
    with open(path, "w") as f:
        f.write('2\nLattice="4.0 0.0 0.0 0.0 4.0 0.0 0.0 0.0 4.0" Properties=species:S:1:pos:R:3\n'
                "Mo 0.0 0.0 0.0\nS 2.0 2.0 2.0\n")
    for sem in ("consistent", "matgl"):
        r, res = energy(path, "m3gnet-mp-2021.2.8", "--model-option", "semantics=" + sem)
        e = res[0]["energy_eV"] if res else float("nan")
        check(abs(e + 10.824362) <= 2e-5, "matgl's MoS test (%s): %.7f eV, expected -10.824362 within 2e-5" % (sem, e))
    return path


def files_and_species(work, mos_path):
    builtin = os.path.join(ROOT, "inputs", "models", "m3gnet-mp-2021.2.8.h5")
    copy = os.path.join(work, "my-model.h5")
    shutil.copy(builtin, copy)
    _, a = energy(mos_path, "m3gnet-mp-2021.2.8")
    r, b = energy(mos_path, copy)
    check(r.returncode == 0 and a and b and a[0]["energy_eV"] == b[0]["energy_eV"],
          "a converted file given by path gives the built-in model's energy bit for bit")
    bad = os.path.join(work, "truncated.h5")
    with open(builtin, "rb") as f:
        data = f.read()
    with open(bad, "wb") as f:
        f.write(data[: len(data) // 2])
    r, _ = energy(mos_path, bad)
    check(r.returncode == 1 and "truncated.h5" in r.stderr, "a truncated model file is refused naming it: " + r.stderr.strip()[-160:])
    po = os.path.join(work, "Po.extxyz")
    with open(po, "w") as f:
        f.write('1\nLattice="3.35 0 0 0 3.35 0 0 0 3.35" Properties=species:S:1:pos:R:3\nPo 0 0 0\n')
    r, _ = energy(po, "m3gnet-mp-2021.2.8")
    check(r.returncode != 0 and "Po" in r.stderr, "an element the model lacks (Po) is refused naming it: " + r.stderr.strip()[-160:])
    r = subprocess.run([MS, "info", "models"], capture_output=True, text=True)
    check(r.returncode == 0 and "m3gnet" in r.stdout and "m3gnet-mp-2021.2.8" in r.stdout and
          "m3gnet-matpes-pbe-2025.1" in r.stdout, "info models lists the M3GNet family and its built-in models")
    r = subprocess.run([MS, "info", "models", "m3gnet-mp-2021.2.8"], capture_output=True, text=True)
    check(r.returncode == 0 and "Chen" in r.stdout and "BSD-3-Clause" in r.stdout,
          "info models m3gnet-mp-2021.2.8: citation and licence")
    camp = os.path.join(work, "po.yaml")
    with open(camp, "w") as f:
        f.write("campaign: {name: po-test, seed: 1}\npotential: m3gnet-mp-2021.2.8\nsearch:\n"
                "  - generator: prototype_substitution\n    prototypes: [rocksalt]\n"
                "    sites: {A: [Po2+, Ca2+], X: [O2-]}\nfunnel:\n  - {stage: single_point}\n")
    for cmd in (["check", camp], ["run", camp, "-o", os.path.join(work, "po.h5")]):
        r = subprocess.run([MPIEXEC, "-n", "2", MS, *cmd], capture_output=True, text=True)
        check(r.returncode == 1 and "Po" in r.stderr and "m3gnet-mp-2021.2.8" in r.stderr
              and r.stderr.count("error:") == 1,
              "%s refuses the campaign before any work, once, naming Po and the model: %s"
              % (cmd[0], r.stderr.strip()[-200:]))
    check(not os.path.exists(os.path.join(work, "po.h5.ckpt")), "run left no checkpoint behind")


def relax(work):
    src = os.path.join(work, "public.extxyz")
    with open(src) as f:
        lines = f.read().splitlines()
    si = os.path.join(work, "Si.extxyz")
    with open(si, "w") as f:
        f.write("\n".join(lines[:10]) + "\n")  # the first frame: Si 8 rattled
    r = subprocess.run([MS, "relax", si, "--potential", "m3gnet-mp-2021.2.8", "--json"], capture_output=True, text=True)
    x = json.loads(r.stdout.splitlines()[0]) if r.returncode == 0 else {}
    check(x.get("status") == "converged" and x["energy_eV"] < x["initial_energy_eV"] - 0.1 and
          x["fmax_eV_per_A"] <= 0.01 and x["smax_GPa"] <= 0.05,
          "relax: rattled Si converges (%s, %s -> %s eV)" % (x.get("status"), x.get("initial_energy_eV"), x.get("energy_eV")))


CAMPAIGN = """campaign: {name: m3gnet-perovskites, seed: 5}
potential: m3gnet-mp-2021.2.8
search:
  - generator: prototype_substitution
    prototypes: [perovskite_cubic, perovskite_tetragonal]
    sites: {A: [Ca2+, Sr2+, Ba2+], B: [Ti4+, Zr4+], X: [O2-]}
funnel:
  - {stage: single_point, volume_scan: {min: 0.9, max: 1.1, points: 3}}
  - {stage: relax, cell: full, fmax: 0.02, max_steps: 300}
  - {stage: dedup}
  - {stage: hull, references: auto}
"""


def run(work):
    camp = os.path.join(work, "m3.yaml")
    with open(camp, "w") as f:
        f.write(CAMPAIGN)
    outs = {}
    for np_ in (1, 2, 4):
        out = os.path.join(work, "m3-np%d.h5" % np_)
        r = subprocess.run([MPIEXEC, "-n", str(np_), MS, "--quiet", "run", camp, "-o", out], capture_output=True,
                           text=True, timeout=600)
        check(r.returncode == 0, "run at %d rank(s): %s" % (np_, r.stderr.strip()[-200:]))
        if r.returncode == 0:
            outs[np_] = tables(out)
    if 1 in outs:
        ok = int(np.isfinite(np.asarray(outs[1]["candidates/e_relaxed_eV_per_atom"], dtype=float)).sum())
        check(ok >= 11, "run: %d of 12 candidates relaxed" % ok)
    for np_ in (2, 4):
        if 1 in outs and np_ in outs:
            ok, why = same(outs[1], outs[np_])
            check(ok, "run: the tables at %d ranks equal those at 1 rank %s" % (np_, why))


def main():
    work = tempfile.mkdtemp(prefix="ms-m3gnet-")
    try:
        reference_set(work)
        mos_path = mos(work)
        files_and_species(work, mos_path)
        relax(work)
        run(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


main()
print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
