"""The lab round trip: run -> the shortlist goes to the lab queue -> the lab claims and reports
-> a second run (lab_feedback) does not propose what was tried, records the outcomes in /lab
and is round 2.

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


def main():
    work = tempfile.mkdtemp(prefix="ms-lab-")
    try:
        base = open(os.path.join(ROOT, "examples", "perovskite-oxides", "campaign.yaml")).read()
        db = os.path.join(work, "queue.sqlite")
        y1 = os.path.join(work, "round1.yaml")
        with open(y1, "w") as f:
            f.write(base + "lab_queue: {database: queue.sqlite, export: [nimo, alabos]}\n")
        out1 = os.path.join(work, "round1.h5")
        r = ms("--quiet", "run", y1, "-o", out1, np_=2)
        check(r.returncode == 0, "round 1 runs: " + r.stderr[-300:])
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
