#!/usr/bin/env python3
"""CLI test of `matscreen queue`: push (twice), list, claim (also under mpirun and from eight
processes at once), report and its errors, lease expiry and requeue, stats, the four exports,
a claimer killed with SIGKILL, file modes and usage errors.

usage: check_queue.py MATSCREEN MPIEXEC SOURCE_ROOT

Input: a run of examples/perovskite-oxides (two ranks, about a second). Its /shortlist is used
when the run writes one; until the shortlist stage lands, queue_make_fixture.py adds one made
from the hull survivors (same layout). Values are checked against the HDF5 file and against
pymatgen (CIF text, compositions), not against the queue's own output alone.
"""
import csv
import json
import math
import os
import random
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import time

import h5py
import numpy as np

failures = []
HERE = os.path.dirname(os.path.abspath(__file__))


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)
    return cond


class Q:
    """Runs `matscreen queue ...` on one database."""

    def __init__(self, exe, mpiexec, db):
        self.exe, self.mpiexec, self.db = exe, mpiexec, db

    def run(self, *args, want=0, ranks=0, db=True):
        cmd = [self.exe, "queue", *args] + (["--db", self.db] if db else [])
        if ranks:
            cmd = [self.mpiexec, "--oversubscribe", "-n", str(ranks)] + cmd
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        check(p.returncode == want, f"{' '.join(args)}: exit {p.returncode}, expected {want}\n{p.stderr}")
        return p

    def json(self, *args, **kw):
        p = self.run(*args, **kw)
        try:
            return json.loads(p.stdout)
        except ValueError as e:
            check(False, f"{' '.join(args)}: not JSON ({e}): {p.stdout[:300]!r}")
            return None


def strs(ds):
    return [x.decode() for x in ds[:]]


def shortlist_rows(h5path):
    with h5py.File(h5path, "r") as f:
        s = f["shortlist"]
        rows = []
        for k in range(len(s["candidate_id"])):
            rows.append({
                "candidate_id": int(s["candidate_id"][k]),
                "priority": int(s["priority"][k]),
                "score": float(s["score"][k]),
                "e_above_hull_eV_per_atom": float(s["e_above_hull_eV_per_atom"][k]),
                "uncertainty_eV_per_atom": float(s["uncertainty_eV_per_atom"][k]),
                "formula": s["formula"][k].decode(),
                "prototype": s["prototype"][k].decode(),
                "spacegroup": int(s["spacegroup"][k]),
                "decomposition": s["decomposition"][k].decode(),
                "novelty": s["novelty"][k].decode(),
            })
        campaign = f.attrs["campaign"]
        campaign = campaign.decode() if isinstance(campaign, bytes) else str(campaign)
        return campaign, int(s.attrs["round"]), rows


TICKET_TYPES = {
    "id": int, "campaign": str, "round": int, "candidate_id": int, "formula": str, "prototype": str,
    "spacegroup": int, "novelty": str, "known_match": str, "priority": int, "score": (int, float),
    "e_above_hull_eV_per_atom": (int, float), "uncertainty_eV_per_atom": (int, float, type(None)),
    "precursors": list, "xrd": (list, type(None)), "status": str, "worker": (str, type(None)),
    "claims": int, "lease_expires": (int, float, type(None)), "created": (int, float),
    "claimed_at": (int, float, type(None)), "reported_at": (int, float, type(None)),
    "outcome": (str, type(None)), "phase_fraction": (int, float, type(None)), "notes": (str, type(None)),
    "cif": (str, type(None)),
}


def check_ticket_shape(t, where):
    check(set(t) == set(TICKET_TYPES), f"{where}: keys {sorted(set(t) ^ set(TICKET_TYPES))} differ")
    for k, ty in TICKET_TYPES.items():
        if k in t:
            check(isinstance(t[k], ty) and not isinstance(t[k], bool), f"{where}: {k} = {t[k]!r} is not {ty}")


def element_amounts(formula):
    from pymatgen.core import Composition
    return Composition(formula).get_el_amt_dict()


def check_tickets_against_shortlist(tickets, campaign, rnd, rows):
    from pymatgen.core import Composition, Structure

    by_cand = {t["candidate_id"]: t for t in tickets}
    check(len(tickets) == len(rows) and len(by_cand) == len(rows), f"{len(tickets)} tickets for {len(rows)} rows")
    for r in rows:
        t = by_cand.get(r["candidate_id"])
        if not check(t is not None, f"no ticket for candidate {r['candidate_id']}"):
            continue
        w = f"ticket of candidate {r['candidate_id']}"
        check_ticket_shape(t, w)
        for k in ("priority", "score", "e_above_hull_eV_per_atom", "uncertainty_eV_per_atom", "formula",
                  "prototype", "spacegroup", "novelty"):
            check(t[k] == r[k], f"{w}: {k} {t[k]!r} != shortlist {r[k]!r}")
        check(t["campaign"] == campaign and t["round"] == rnd, f"{w}: campaign/round {t['campaign']}/{t['round']}")
        check(t["status"] == "queued" and t["claims"] == 0 and t["worker"] is None, f"{w}: fresh state {t}")
        # the CIF is the relaxed structure: pymatgen reads it, with the ticket's composition
        s = Structure.from_str(t["cif"], fmt="cif")
        check(s.composition.element_composition.reduced_composition.almost_equals(
                  Composition(r["formula"]).reduced_composition),
              f"{w}: CIF composition {s.composition} is not {r['formula']}")
        # precursors: the end-member binaries of the target's ions, on the hull or not; their
        # moles make one formula unit of the target exactly
        check(len(t["precursors"]) >= 2 and all(len(element_amounts(p["formula"])) == 2 for p in t["precursors"]),
              f"{w}: binary precursors {t['precursors']}")
        check(abs(sum(p["fraction"] for p in t["precursors"]) - 1) < 1e-9, f"{w}: fractions {t['precursors']}")
        total = {}
        for p in t["precursors"]:
            for el, n in element_amounts(p["formula"]).items():
                total[el] = total.get(el, 0) + p["mol_per_mol_target"] * n
        target = element_amounts(r["formula"])
        check(set(total) == set(target) and all(abs(total[e] - target[e]) < 1e-9 * target[e] for e in target),
              f"{w}: precursors {t['precursors']} do not balance {r['formula']}: {total}")
        if t["xrd"] is not None:
            check(len(t["xrd"]) > 0 and all({"two_theta_deg", "d_A", "intensity", "hkl"} <= set(p) for p in t["xrd"]),
                  f"{w}: xrd peaks {t['xrd'][:2]}")


def concurrent_claims(q, nproc):
    """nproc processes claim until exit 3; returns the claimed tickets of each."""
    got = [[] for _ in range(nproc)]
    errors = []

    def loop(k):
        while True:
            p = subprocess.run([q.exe, "queue", "claim", "--db", q.db, "--worker", f"cli{k}", "--lease", "600"],
                               capture_output=True, text=True, timeout=120)
            if p.returncode == 3:
                if p.stdout.strip():
                    errors.append(f"exit 3 with output {p.stdout!r}")
                return
            if p.returncode != 0:
                errors.append(f"claim exit {p.returncode}: {p.stderr}")
                return
            got[k].append(json.loads(p.stdout))

    threads = [threading.Thread(target=loop, args=(k,)) for k in range(nproc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(not errors, f"concurrent claims: {errors}")
    return got


def db_invariants(path):
    con = sqlite3.connect(path, timeout=30)
    try:
        ok = con.execute("PRAGMA integrity_check").fetchone()[0]
        bad = con.execute(
            "SELECT count(*) FROM tickets WHERE NOT ("
            " (status = 'queued' AND worker IS NULL AND lease_expires IS NULL AND outcome IS NULL) OR"
            " (status = 'claimed' AND worker IS NOT NULL AND lease_expires > claimed_at AND outcome IS NULL) OR"
            " (status = 'done' AND outcome IN ('success', 'partial') AND reported_at IS NOT NULL) OR"
            " (status = 'failed' AND outcome = 'failure' AND reported_at IS NOT NULL) OR"
            " (status = 'expired' AND worker IS NULL AND lease_expires IS NULL))").fetchone()[0]
        return ok, bad
    finally:
        con.close()


def main():
    exe, mpiexec, src = sys.argv[1], sys.argv[2], sys.argv[3]
    tmp = tempfile.mkdtemp(prefix="check_queue.")
    out = os.path.join(tmp, "out.h5")
    p = subprocess.run([mpiexec, "--oversubscribe", "-n", "2", exe, "--quiet", "run",
                        os.path.join(src, "examples", "perovskite-oxides", "campaign.yaml"), "-o", out],
                       capture_output=True, text=True, timeout=300)
    if not check(p.returncode == 0, f"run: exit {p.returncode}\n{p.stderr}"):
        return 1
    with h5py.File(out, "r") as f:
        real = "shortlist" in f
    # The run writes /shortlist once the shortlist stage exists; until then the fixture script
    # adds one with the same layout, made from the hull survivors.
    if not real:
        subprocess.run([sys.executable, os.path.join(HERE, "queue_make_fixture.py"), out], check=True,
                       capture_output=True)
    campaign, rnd, rows = shortlist_rows(out)
    n = len(rows)
    print(f"shortlist: {'from the run' if real else 'fixture'}, {n} rows, campaign {campaign}, round {rnd}")
    if not check(n >= 8, f"need at least 8 shortlist rows, got {n}"):
        return 1

    db = os.path.join(tmp, "q.db")
    q = Q(exe, mpiexec, db)

    # --- usage errors, before the database exists
    p = q.run("list", want=1)
    check("q.db" in p.stderr and "cannot open" in p.stderr, f"list on a missing db: {p.stderr}")
    check(not os.path.exists(db), "list must not create the database")
    p = q.run("list", want=1, db=False)
    check("--db" in p.stderr, f"no --db: {p.stderr}")
    q.run("frobnicate", want=1)
    q.run(want=1)
    q.run("claim", want=1)  # no --worker
    q.run("list", "--worker", "x", want=1)  # option of another subcommand
    q.run("export", "--format", "xml", "-o", os.path.join(tmp, "x"), want=1)
    p = q.run("push", os.path.join(tmp, "missing.h5"), want=1)
    check("missing.h5" in p.stderr, f"push of a missing file: {p.stderr}")
    notdb = os.path.join(tmp, "notdb.txt")
    with open(notdb, "w") as fp:
        fp.write("hello\n" * 100)
    p = subprocess.run([exe, "queue", "list", "--db", notdb], capture_output=True, text=True)
    check(p.returncode == 1 and "notdb.txt" in p.stderr, f"list on a text file: {p.returncode} {p.stderr}")
    bare = os.path.join(tmp, "bare.h5")
    with h5py.File(bare, "w") as f:
        f.attrs["campaign"] = np.bytes_("x")
    p = q.run("push", bare, want=1)
    check("/shortlist" in p.stderr, f"push without /shortlist: {p.stderr}")
    check(subprocess.run([exe, "help", "queue"], capture_output=True, text=True).returncode == 0, "help queue")

    # --- push, twice: nothing duplicated
    d = q.json("push", out, "--json")
    check(d and d["new"] == n and d["already_present"] == 0 and d["rows"] == n and d["campaign"] == campaign,
          f"first push: {d}")
    d = q.json("push", out, "--json", ranks=2)
    check(d and d["new"] == 0 and d["already_present"] == n, f"second push (2 ranks): {d}")
    mode = stat.S_IMODE(os.stat(db).st_mode)
    check(mode == 0o600, f"database mode {oct(mode)}, expected 0o600")
    con = sqlite3.connect(db)
    check(con.execute("PRAGMA journal_mode").fetchone()[0] == "wal", "journal mode is WAL")
    check(con.execute("PRAGMA user_version").fetchone()[0] == 1, "schema version 1")
    con.close()

    tickets = q.json("list", "--json")
    check_tickets_against_shortlist(tickets or [], campaign, rnd, rows)
    table = q.run("list").stdout
    check(f"{n} tickets" in table and rows[0]["formula"] in table, f"list table: {table[:300]}")
    check(q.json("list", "--json", "--status", "claimed,done") == [], "no claimed or done tickets yet")

    # --- exports of the fresh queue
    alabos = os.path.join(tmp, "alabos.json")
    q.run("export", "--format", "alabos", "-o", alabos)
    with open(alabos) as fp:
        doc = json.load(fp)
    exps = doc["experiments"]
    check(len(exps) == n, f"alabos: {len(exps)} experiments for {n} queued tickets")
    order = sorted(rows, key=lambda r: r["priority"])
    for e, r in zip(exps, order):
        w = f"alabos experiment {e.get('name')}"
        check({"name", "tags", "metadata", "samples", "tasks"} <= set(e), f"{w}: keys {sorted(e)}")
        check(len(e["samples"]) == 1 and not any(c in e["samples"][0]["name"] for c in "$. "), f"{w}: samples")
        check(e["samples"][0]["metadata"]["candidate_id"] == r["candidate_id"], f"{w}: not in priority order")
        check([t["type"] for t in e["tasks"]] == ["PowderDosing", "Heating", "Diffraction"], f"{w}: task types")
        check([t["prev_tasks"] for t in e["tasks"]] == [[], [0], [1]], f"{w}: prev_tasks")
        check(all(t["samples"] == [e["samples"][0]["name"]] for t in e["tasks"]), f"{w}: task samples")
        heat = e["tasks"][1]["parameters"]
        check(isinstance(heat["heating_temperature"], (int, float)) and isinstance(heat["heating_time"], (int, float)),
              f"{w}: heating {heat}")
        dose = e["tasks"][0]["parameters"]["precursors"]
        check(dose == next(t for t in tickets if t["candidate_id"] == r["candidate_id"])["precursors"],
              f"{w}: precursors {dose}")

    # --- claim: lowest priority number first; one JSON object; under mpirun printed once
    p = q.run("claim", "--worker", "robot1", "--lease", "3600", ranks=2)
    lines = p.stdout.splitlines()
    check(len(lines) == 1, f"claim under 2 ranks printed {len(lines)} lines")
    t1 = json.loads(lines[0]) if lines else {}
    check_ticket_shape(t1, "claimed ticket")
    check(t1.get("priority") == 1 and t1.get("candidate_id") == order[0]["candidate_id"], f"first claim: {t1}")
    check(t1.get("status") == "claimed" and t1.get("worker") == "robot1" and t1.get("claims") == 1, "claimed state")
    check(abs(t1["lease_expires"] - t1["claimed_at"] - 3600) < 1e-3 and abs(t1["claimed_at"] - time.time()) < 60,
          f"lease {t1['claimed_at']} .. {t1['lease_expires']}")
    t2 = q.json("claim", "--worker", "robot2")
    check(t2 and t2["priority"] == 2, f"second claim: {t2}")

    # --- report: errors first (exit 1, clear message), then the real ones
    p = q.run("report", "99999", "--outcome", "success", want=1)
    check("no ticket 99999" in p.stderr, f"unknown ticket: {p.stderr}")
    queued = next(t for t in tickets if t["priority"] == n)
    p = q.run("report", str(queued["id"]), "--outcome", "success", want=1)
    check("is queued, not claimed" in p.stderr, f"queued ticket: {p.stderr}")
    p = q.run("report", str(t1["id"]), "--outcome", "success", "--worker", "robot2", want=1)
    check("claimed by 'robot1'" in p.stderr, f"wrong worker: {p.stderr}")
    q.run("report", str(t1["id"]), "--outcome", "maybe", want=1)
    q.run("report", str(t1["id"]), "--outcome", "success", "--phase-fraction", "1.5", want=1)
    q.run("report", str(t1["id"]), want=1)  # no outcome
    q.run("report", str(t1["id"]), "--outcome", "success", "--phase-fraction", "0.85", "--notes",
          "single phase, \"clean\" XRD", "--worker", "robot1", ranks=2)
    p = q.run("report", str(t1["id"]), "--outcome", "failure", want=1)
    check("reported already" in p.stderr, f"second report: {p.stderr}")
    q.run("report", str(t2["id"]), "--outcome", "failure", "--notes", "pyrochlore formed")
    t = {x["id"]: x for x in q.json("list", "--json")}
    check(t[t1["id"]]["status"] == "done" and t[t1["id"]]["outcome"] == "success"
          and t[t1["id"]]["phase_fraction"] == 0.85 and t[t1["id"]]["notes"] == "single phase, \"clean\" XRD",
          f"reported ticket: {t[t1['id']]}")
    check(t[t2["id"]]["status"] == "failed" and t[t2["id"]]["outcome"] == "failure", f"failed: {t[t2['id']]}")

    # --- leases: a lapsed one comes back with requeue, and is expired after --max-claims claims
    t3 = q.json("claim", "--worker", "slow", "--lease", "0.3")
    time.sleep(0.6)
    d = q.json("requeue", "--expired", "--json")
    check(d and d["requeued"] == 1 and d["expired"] == 0, f"requeue: {d}")
    back = {x["id"]: x for x in q.json("list", "--json", "--status", "queued")}
    check(t3["id"] in back and back[t3["id"]]["worker"] is None and back[t3["id"]]["claims"] == 1,
          f"requeued ticket: {back.get(t3['id'])}")
    p = q.run("report", str(t3["id"]), "--outcome", "success", want=1)
    check("is queued" in p.stderr, f"report after requeue: {p.stderr}")
    t3b = q.json("claim", "--worker", "slow", "--lease", "0.3")
    check(t3b["id"] == t3["id"] and t3b["claims"] == 2, f"reclaim: {t3b}")
    time.sleep(0.6)
    d = q.json("requeue", "--expired", "--max-claims", "2", "--json")
    check(d and d["requeued"] == 0 and d["expired"] == 1, f"requeue with --max-claims 2: {d}")
    check([x["id"] for x in q.json("list", "--json", "--status", "expired")] == [t3["id"]], "expired ticket")

    # --- eight processes claim what is left, until exit 3: every ticket exactly once
    left = n - 3
    got = concurrent_claims(q, 8)
    ids = [x["id"] for g in got for x in g]
    check(len(ids) == left and len(set(ids)) == left, f"8 claimers: {len(ids)} claims, {len(set(ids))} distinct, "
                                                       f"{left} queued")
    for g in got:
        prios = [(x["priority"], x["id"]) for x in g]
        check(prios == sorted(prios), f"one claimer's tickets are out of claim order: {prios}")
    p = q.run("claim", "--worker", "late", want=3, ranks=2)
    check(p.stdout == "", f"exit 3 prints nothing: {p.stdout!r}")

    # --- a claimer killed with SIGKILL: the database stays consistent, nothing is lost
    for k, cid in enumerate(sorted(ids)[:4]):  # give four tickets back to the queue by hand
        con = sqlite3.connect(db, timeout=30)
        con.execute("UPDATE tickets SET status='queued', worker=NULL, lease_expires=NULL WHERE id=?", (cid,))
        con.commit()
        con.close()
    rng = random.Random(7)
    for k in range(6):
        pr = subprocess.Popen([exe, "queue", "claim", "--db", db, "--worker", f"doomed{k}", "--lease", "0.5"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, 0.5))
        pr.send_signal(signal.SIGKILL)
        pr.wait()
    ok, bad = db_invariants(db)
    check(ok == "ok" and bad == 0, f"after SIGKILL: integrity {ok}, {bad} tickets in an impossible state")
    time.sleep(0.6)
    q.run("requeue", "--expired", "--max-claims", "100")
    got = concurrent_claims(q, 2)
    check(sorted(x["id"] for g in got for x in g) == sorted(ids)[:4], "the four tickets came back, each once")

    # --- report the rest: success, partial, failure by id
    all_t = q.json("list", "--json", "--status", "claimed")
    outcome = {}
    for x in all_t:
        o = ("success", "partial", "failure")[x["id"] % 3]
        args = ["report", str(x["id"]), "--outcome", o]
        if o != "failure":
            args += ["--phase-fraction", "0.5" if o == "partial" else "0.95"]
        q.run(*args)
        outcome[x["id"]] = o
    outcome[t1["id"]], outcome[t2["id"]] = "success", "failure"

    st = q.json("stats", "--json")
    r0 = st["rounds"][0] if st and st["rounds"] else {}
    succ = sum(o == "success" for o in outcome.values())
    part = sum(o == "partial" for o in outcome.values())
    fail = sum(o == "failure" for o in outcome.values())
    want = {"campaign": campaign, "round": rnd, "pushed": n, "queued": 0, "in_progress": 0, "claimed": n,
            "done": succ + part, "failed": fail, "expired": 1, "success": succ, "partial": part, "failure": fail,
            "reported": n - 1}
    check(len(st["rounds"]) == 1 and all(r0.get(k) == v for k, v in want.items()), f"stats {r0} != {want}")
    check(abs(r0.get("hit_rate", -1) - succ / (n - 1)) < 1e-12, f"hit rate {r0.get('hit_rate')}")
    text = q.run("stats").stdout
    check(campaign in text and f"{succ / (n - 1):.3f}" in text, f"stats table: {text}")

    # --- exports: csv and json carry every column of every ticket
    final = q.json("list", "--json")
    csvp = os.path.join(tmp, "tickets.csv")
    q.run("export", "--format", "csv", "-o", csvp)
    with open(csvp, newline="") as fp:
        recs = list(csv.DictReader(fp))
    check(list(recs[0].keys()) == list(TICKET_TYPES.keys()) if recs else False, f"csv header {list(recs[0])}")
    check(len(recs) == n, f"csv rows {len(recs)}")
    for rec, t in zip(recs, final):
        check(int(rec["id"]) == t["id"] and rec["formula"] == t["formula"] and rec["status"] == t["status"]
              and float(rec["e_above_hull_eV_per_atom"]) == t["e_above_hull_eV_per_atom"]
              and rec["cif"] == (t["cif"] or "") and json.loads(rec["precursors"]) == t["precursors"]
              and (rec["phase_fraction"] == "" if t["phase_fraction"] is None
                   else float(rec["phase_fraction"]) == t["phase_fraction"]),
              f"csv row of ticket {t['id']}")
    jsp = os.path.join(tmp, "tickets.json")
    q.run("export", "--format", "json", "-o", jsp)
    with open(jsp) as fp:
        check(json.load(fp) == final, "json export == list --json")

    # --- nimo: numbers only in candidates.csv, objective = phase fraction; proposals index it
    nimo = os.path.join(tmp, "nimo")
    q.run("export", "--format", "nimo", "-o", nimo)
    arr = np.genfromtxt(os.path.join(nimo, "candidates.csv"), delimiter=",", skip_header=1)
    with open(os.path.join(nimo, "candidates.csv")) as fp:
        header = fp.readline().strip().split(",")
    xcols = [k for k, h in enumerate(header) if h.startswith("x_")]
    check(header[-1] == "objective_phase_fraction" and header[-4:-1] == [
        "e_above_hull_eV_per_atom", "uncertainty_eV_per_atom", "spacegroup"], f"nimo header {header}")
    check(arr.shape == (n, len(header)), f"nimo candidates shape {arr.shape}")
    check(not np.isnan(arr[:, :-1]).any(), "nimo descriptors are all numbers")
    check(np.allclose(arr[:, xcols].sum(axis=1), 1.0), "atom fractions sum to 1")
    with open(os.path.join(nimo, "tickets.csv"), newline="") as fp:
        tmap = list(csv.DictReader(fp))
    byid = {t["id"]: t for t in final}
    for k, m in enumerate(tmap):
        t = byid[int(m["ticket_id"])]
        obj = arr[k, -1]
        want_obj = (t["phase_fraction"] if t["phase_fraction"] is not None
                    else 0.0 if t["outcome"] == "failure" else 1.0 if t["outcome"] == "success" else math.nan)
        check((math.isnan(obj) and math.isnan(want_obj)) or obj == want_obj, f"nimo objective of ticket {t['id']}")
        amounts = element_amounts(t["formula"])
        tot = sum(amounts.values())
        for c in xcols:
            el = header[c][2:]
            check(abs(arr[k, c] - amounts.get(el, 0) / tot) < 1e-12, f"nimo x_{el} of {t['formula']}")
    with open(os.path.join(nimo, "proposals.csv")) as fp:
        prop_header = fp.readline().strip().split(",")
    check(prop_header == ["actions"] + header[:-1], f"proposals header {prop_header}")
    # only the queued tickets are proposals; here none is left
    check(os.path.getsize(os.path.join(nimo, "proposals.csv")) == len(",".join(prop_header)) + 1, "no proposals")

    # --- a second round: new candidates (no structures for them: tickets without CIF)
    out2 = os.path.join(tmp, "round1.h5")
    with h5py.File(out, "r") as f, h5py.File(out2, "w") as g:
        for k in ("candidates", "structures"):
            f.copy(k, g)
        for k, v in f.attrs.items():
            g.attrs[k] = v
    subprocess.run([sys.executable, os.path.join(HERE, "queue_make_fixture.py"), out2, "--round", str(rnd + 1),
                    "--id-offset", "100000", "--rows", "5"], check=True, capture_output=True)
    p = q.run("push", out2)
    check("5 new tickets" in p.stdout and "no relaxed structure" in p.stderr, f"round 1 push: {p.stdout} {p.stderr}")
    r1 = q.json("list", "--json", "--status", "queued")
    check(len(r1) == 5 and all(t["round"] == rnd + 1 and t["cif"] is None and t["xrd"] is None for t in r1),
          f"round 1 tickets {[(t['round'], t['cif'] is None) for t in r1]}")
    st = q.json("stats", "--json")
    check([(r["round"], r["pushed"], r["queued"]) for r in st["rounds"]] == [(rnd, n, 0), (rnd + 1, 5, 5)],
          f"stats per round {st['rounds']}")
    check(len(st["rounds"]) == 2 and st["rounds"][1]["hit_rate"] is None, "hit rate null before any report")
    q.run("export", "--format", "nimo", "-o", nimo)
    prop = np.genfromtxt(os.path.join(nimo, "proposals.csv"), delimiter=",", skip_header=1)
    cand = np.genfromtxt(os.path.join(nimo, "candidates.csv"), delimiter=",", skip_header=1)
    check(prop.shape == (5, len(header)), f"proposals {prop.shape}")
    check(all(np.array_equal(cand[int(r[0]), :-1], r[1:]) for r in prop), "proposal rows repeat their candidates")
    check(all(np.isnan(cand[int(r[0]), -1]) for r in prop), "proposed candidates have no objective yet")

    # --round replaces the file's round attribute
    out3 = os.path.join(tmp, "round5.h5")
    with h5py.File(out, "r") as f, h5py.File(out3, "w") as g:
        for k in ("candidates", "structures"):
            f.copy(k, g)
        for k, v in f.attrs.items():
            g.attrs[k] = v
    subprocess.run([sys.executable, os.path.join(HERE, "queue_make_fixture.py"), out3, "--round", str(rnd + 2),
                    "--id-offset", "200000", "--rows", "2"], check=True, capture_output=True)
    d = q.json("push", out3, "--round", str(rnd + 10), "--json")
    check(d and d["round"] == rnd + 10 and d["new"] == 2, f"push --round {rnd + 10}: {d}")
    check(sorted(t["round"] for t in q.json("list", "--json", "--status", "queued")) == [rnd + 1] * 5 + [rnd + 10] * 2,
          "rounds of the queued tickets")

    ok, bad = db_invariants(db)
    check(ok == "ok" and bad == 0, f"final: integrity {ok}, {bad} bad tickets")
    print(f"{len(failures)} failure(s)")
    if failures:
        print(f"files kept in {tmp}")
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
