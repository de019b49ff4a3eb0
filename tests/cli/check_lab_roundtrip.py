"""The lab round trip: run -> the shortlist goes to the lab queue -> the lab claims and reports
-> a second run (lab_feedback) does not propose what was tried, records the outcomes in /lab
and is round 2. Both rounds use the same campaign settings, lab_queue and lab_feedback on one
database that does not exist before round 1 (round 1 used to fail: "no lab queue database").
The AlabOS export of round 1 doses the end-member binaries for every ticket, also those on the
hull (they had no precursors), in amounts that make the target, and heats with the campaign's
lab_queue.heating program; `queue export --heating-temperature/--heating-time` sets it too.

usage: check_lab_roundtrip.py MATSCREEN MPIEXEC SOURCE_ROOT
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import h5py

MS, MPIEXEC, ROOT = sys.argv[1], sys.argv[2], sys.argv[3]
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


def ms(*args, np_=1):
    return subprocess.run([MPIEXEC, "-n", str(np_), MS, *args], capture_output=True, text=True)


def element_amounts(formula):
    from pymatgen.core import Composition
    return Composition(formula).get_el_amt_dict()


def main():
    work = tempfile.mkdtemp(prefix="ms-lab-")
    try:
        base = open(os.path.join(ROOT, "examples", "perovskite-oxides", "campaign.yaml")).read()
        db = os.path.join(work, "queue.sqlite")
        y1 = os.path.join(work, "round1.yaml")
        with open(y1, "w") as f:
            f.write(base + "lab_queue: {database: queue.sqlite, export: [nimo, alabos], "
                    "heating: {temperature_C: 1250, time_min: 600}}\nlab_feedback: {database: queue.sqlite}\n")
        out1 = os.path.join(work, "round1.h5")
        check(not os.path.exists(db), "no queue database before round 1")
        r = ms("--quiet", "run", y1, "-o", out1, np_=2)
        check(r.returncode == 0, "round 1 with lab_queue and lab_feedback on a new database runs: " + r.stderr[-300:])
        with open(os.path.join(work, "round1.alabos.json")) as f:
            exps = json.load(f)["experiments"]
        with h5py.File(out1, "r") as f:
            formula = {int(i): x.decode() for i, x in zip(f["shortlist/candidate_id"][()], f["shortlist/formula"][()])}
            ehull = dict(zip((int(i) for i in f["shortlist/candidate_id"][()]), f["shortlist/e_above_hull_eV_per_atom"][()]))
        check(len(exps) == len(formula) and any(ehull[c] == 0 for c in formula), "one experiment per ticket, some on the hull")
        for e in exps:
            cid = e["samples"][0]["metadata"]["candidate_id"]
            dose = e["tasks"][0]["parameters"]["precursors"]
            check(len(dose) >= 2 and all(len(element_amounts(p["formula"])) == 2 for p in dose),
                  "experiment %s: binary precursors %s" % (cid, dose))
            total = {}
            for p in dose:
                for el, n in element_amounts(p["formula"]).items():
                    total[el] = total.get(el, 0) + p["mol_per_mol_target"] * n
            want = element_amounts(formula[cid])
            check(set(total) == set(want) and all(abs(total[k] - want[k]) < 1e-9 for k in want),
                  "experiment %s: %s make %s" % (cid, dose, formula[cid]))
            check(abs(sum(p["fraction"] for p in dose) - 1) < 1e-9, "experiment %s: atom fractions sum to 1" % cid)
            heat = e["tasks"][1]["parameters"]
            check(heat == {"heating_temperature": 1250, "heating_time": 600}, "experiment %s: heating %s" % (cid, heat))
        x2 = os.path.join(work, "again.alabos.json")
        r = ms("queue", "export", "--db", db, "--format", "alabos", "-o", x2, "--heating-temperature", "900",
               "--heating-time", "240")
        with open(x2) as f:
            heat = json.load(f)["experiments"][0]["tasks"][1]["parameters"]
        check(r.returncode == 0 and heat == {"heating_temperature": 900, "heating_time": 240},
              "queue export --heating-temperature/--heating-time: %s" % heat)
        check(os.path.exists(db) and (os.stat(db).st_mode & 0o777) == 0o600, "the queue database exists, mode 0600")
        check(os.path.isdir(os.path.join(work, "round1.nimo")) and os.path.exists(os.path.join(work, "round1.alabos.json")),
              "the configured exports are written next to the output")
        with h5py.File(out1, "r") as f:
            short1 = [int(i) for i in f["shortlist/candidate_id"][()]]
            check(int(f["shortlist"].attrs["round"]) == 1, "round 1 shortlist has round 1")
        r = ms("queue", "list", "--db", db, "--json")
        tickets = json.loads(r.stdout)
        check(sorted(t["candidate_id"] for t in tickets) == sorted(short1), "one ticket per shortlist row")
        # the lab: three tickets claimed and reported
        outcomes = {"success": 0.9, "partial": 0.4, "failure": None}
        reported = {}
        for outcome, frac in outcomes.items():
            r = ms("queue", "claim", "--db", db, "--worker", "robot-1")
            t = json.loads(r.stdout)
            args = ["queue", "report", str(t["id"]), "--db", db, "--outcome", outcome, "--worker", "robot-1"]
            if frac is not None:
                args += ["--phase-fraction", str(frac)]
            r = ms(*args)
            check(r.returncode == 0, "report %s on ticket %d" % (outcome, t["id"]))
            reported[t["candidate_id"]] = (outcome, frac)
        # round 2 with feedback
        y2 = os.path.join(work, "round2.yaml")
        with open(y2, "w") as f:
            f.write(base + "lab_queue: {database: queue.sqlite}\nlab_feedback: {database: queue.sqlite}\n")
        out2 = os.path.join(work, "round2.h5")
        r = ms("--quiet", "run", y2, "-o", out2, np_=2)
        check(r.returncode == 0, "round 2 runs: " + r.stderr[-300:])
        with h5py.File(out2, "r") as f:
            short2 = [int(i) for i in f["shortlist/candidate_id"][()]]
            check(int(f["shortlist"].attrs["round"]) == 2, "round 2 shortlist has round 2")
            check(not set(short2) & set(short1), "round 2 proposes none of round 1's candidates: %s" % short2)
            check(len(short2) > 0, "round 2 still proposes candidates")
            lab = f["lab"]
            got = {int(i): (o.decode(), p) for i, o, p in zip(lab["candidate_id"][()], lab["outcome"][()],
                                                                  lab["phase_fraction"][()])}
            check(set(got) == set(reported), "/lab holds the three reported candidates")
            for cid, (o, frac) in reported.items():
                go, gp = got.get(cid, (None, None))
                check(go == o and (frac is None and gp != gp or frac is not None and abs(gp - frac) < 1e-12),
                      "/lab outcome of %d: %s %s" % (cid, go, gp))
            check(int(lab.attrs["tried_candidates"]) == len(short1), "/lab counts the tried candidates")
        r = ms("queue", "stats", "--db", db, "--json")
        st = json.loads(r.stdout)
        rows = st if isinstance(st, list) else st.get("rounds", st)
        r1 = [x for x in rows if x["round"] == 1][0]
        r2 = [x for x in rows if x["round"] == 2][0]
        check(r1["pushed"] == len(short1) and r2["pushed"] == len(short2), "stats: tickets per round")
        check(abs(r1["hit_rate"] - 1.0 / 3.0) < 1e-12, "stats: round 1 hit rate 1/3 (%s)" % r1["hit_rate"])
        # feedback from a database that does not exist
        y3 = os.path.join(work, "bad.yaml")
        with open(y3, "w") as f:
            f.write(base + "lab_feedback: {database: nowhere.sqlite}\n")
        r = ms("run", y3, "-o", os.path.join(work, "bad.h5"), np_=2)
        check(r.returncode == 1 and "lab_feedback.database" in r.stderr and "bad.yaml:" in r.stderr,
              "a missing feedback database is a positioned error: " + r.stderr.strip().splitlines()[0][-160:])
    finally:
        shutil.rmtree(work, ignore_errors=True)


main()
print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
