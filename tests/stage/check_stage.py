"""A stage added from outside the library (tests/stage/stage_max_sites.c) behaves like a built-in
one: found by name, ordered by its record, its options checked and suggested, its rejections in
/candidates and /funnel, its own output, the same tables at 1, 2 and 4 ranks, and the rest of
the funnel unchanged for the candidates it lets through.

usage: check_stage.py STAGE_BIN MATSCREEN MPIEXEC SOURCE_ROOT
"""
import os
import re
import subprocess
import sys
import tempfile

import h5py
import numpy as np

BIN, MS, MPIEXEC, ROOT = sys.argv[1:5]
sys.path.insert(0, os.path.join(ROOT, "tests", "reliability"))
from h5tables import same, tables  # noqa: E402

EXAMPLE = os.path.join(ROOT, "examples", "perovskite-oxides", "campaign.yaml")
MAX = 10
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


def campaign(work, stage_line, name):
    """The perovskite example with @p stage_line inserted after its prefilter."""
    text = open(EXAMPLE).read()
    lines = text.splitlines()
    at = next(k for k, l in enumerate(lines) if "stage: prefilter" in l)
    if stage_line:
        lines.insert(at + 1, stage_line)
    path = os.path.join(work, name + ".yaml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def run(exe, yaml, out, np_=2):
    return subprocess.run([MPIEXEC, "-n", str(np_), exe, "--quiet", "run", yaml, "-o", out],
                          capture_output=True, text=True)


def main():
    work = tempfile.mkdtemp(prefix="ms-stage-")
    # found by name, with its options
    r = subprocess.run([BIN, "info", "stages"], capture_output=True, text=True)
    check(r.returncode == 0 and "max_sites" in r.stdout, "info stages lists the added stage")
    r = subprocess.run([BIN, "info", "stages", "max_sites"], capture_output=True, text=True)
    check(r.returncode == 0 and "most sites" in r.stdout and "max" in r.stdout, "info stages max_sites shows its option")
    r = subprocess.run([MS, "check", campaign(work, "  - {stage: max_sites, max: %d}" % MAX, "plain")],
                       capture_output=True, text=True)
    check(r.returncode != 0 and "unknown stage 'max_sites'" in r.stderr, "plain matscreen does not know it")
    # its options: a misspelt key gets a suggestion at its line; a bad value its range
    bad = campaign(work, "  - {stage: max_sites, max: 10, maxx: 3}", "misspelt")
    line = 1 + open(bad).read().splitlines().index("  - {stage: max_sites, max: 10, maxx: 3}")
    r = subprocess.run([BIN, "check", bad], capture_output=True, text=True)
    check(r.returncode != 0 and "did you mean 'max'" in r.stderr and ":%d:" % line in r.stderr,
          "misspelt option: did-you-mean at its line (%s)" % r.stderr.strip()[-200:])
    bad = campaign(work, "  - {stage: max_sites, max: 0}", "range")
    r = subprocess.run([BIN, "check", bad], capture_output=True, text=True)
    check(r.returncode != 0 and "funnel[1].max" in r.stderr, "out-of-range option: positioned error")
    bad = campaign(work, "  - {stage: max_sites}", "missing")
    r = subprocess.run([BIN, "check", bad], capture_output=True, text=True)
    check(r.returncode != 0 and "missing required key 'max'" in r.stderr, "missing option: its message")
    # its place in the order comes from its record (after the prefilter)
    text = open(campaign(work, "", "order")).read().replace(
        "  - {stage: prefilter", "  - {stage: max_sites, max: 10}\n  - {stage: prefilter")
    order = os.path.join(work, "order.yaml")
    open(order, "w").write(text)
    r = subprocess.run([BIN, "check", order], capture_output=True, text=True)
    check(r.returncode != 0 and "must come before" in r.stderr, "order checked from its record")

    # runs: the same tables at 1, 2 and 4 ranks
    yaml = campaign(work, "  - {stage: max_sites, max: %d}" % MAX, "stage")
    outs = {}
    for np_ in (1, 2, 4):
        outs[np_] = os.path.join(work, "s%d.h5" % np_)
        r = run(BIN, yaml, outs[np_], np_)
        check(r.returncode == 0, "np=%d runs %s" % (np_, r.stderr[-400:]))
    if failures:
        return
    ref = tables(outs[1])
    for np_ in (2, 4):
        ok, why = same(ref, tables(outs[np_]))
        check(ok, "np=%d: tables identical to np=1 %s" % (np_, why))
    # a clean stop after the relaxations and --resume: the checkpoint's frames carry the stage's
    # counts (format 3), read back on resume
    stopped = os.path.join(work, "stopped.h5")
    env = dict(os.environ, MATSCREEN_FAULT_SIGNAL="dedup")
    r = subprocess.run([MPIEXEC, "-n", "2", BIN, "--quiet", "run", yaml, "-o", stopped], capture_output=True,
                       text=True, env=env)
    check(r.returncode == 75 and os.path.isdir(stopped + ".ckpt"), "a stop signal ends the run resumably (exit %d)" % r.returncode)
    with open(os.path.join(stopped + ".ckpt", "header")) as f:
        header = f.read()
    check("max_sites:filter" in header, "the checkpoint header names the stage")
    r = subprocess.run(
        [MPIEXEC, "-n", "2", BIN, "--quiet", "run", yaml, "-o", stopped, "--resume"], capture_output=True, text=True)
    check(r.returncode == 0, "--resume completes " + r.stderr[-300:])
    if r.returncode == 0:
        ok, why = same(ref, tables(stopped))
        check(ok, "resumed output identical to the uninterrupted run %s" % why)
    base = os.path.join(work, "base.h5")
    r = run(MS, campaign(work, "", "base"), base)
    check(r.returncode == 0, "the example without the stage runs")

    with h5py.File(outs[2], "r") as f, h5py.File(base, "r") as g:
        stages = [x.decode() for x in f["funnel/stage"][()]]
        check(stages[:3] == ["generate", "prefilter", "max_sites"], "/funnel rows %s" % stages)
        row = stages.index("max_sites")
        c = f["candidates"]
        nat, rej = c["natoms"][()], c["rejected_at_stage"][()]
        rule = np.array([x.decode() for x in c["rejected_by_rule"][()]])
        reason = [x.decode() for x in c["reason"][()]]
        status = [x.decode() for x in c["status"][()]]
        cg = g["candidates"]
        check(np.array_equal(c["id"][()], cg["id"][()]), "same candidates with and without the stage")
        passed_pf = cg["rejected_at_stage"][()] != 1  # not removed by the prefilter
        big = passed_pf & (nat > MAX)
        check(big.sum() > 0 and (~big & passed_pf).sum() > 0, "the example has cells on both sides of the limit")
        check(np.all(rej[big] == row) and np.all(rule[big] == "max_sites"),
              "every candidate with more than %d sites that passed the prefilter is rejected at the stage" % MAX)
        check(all(re.match(r"max_sites: \d+ sites, more than %d" % MAX, reason[k]) and status[k] == "rejected"
                  for k in np.flatnonzero(big)), "their reason and status")
        check(not np.any(rej[~big] == row), "no other candidate is rejected there")
        fin, fout = f["funnel/count_in"][row], f["funnel/count_out"][row]
        check(fin == passed_pf.sum() and fout == fin - big.sum(),
              "/funnel counts: in %d (passed the prefilter), out %d" % (fin, fout))
        cols = f["funnel/by_status"].attrs["columns"]
        cols = (cols.decode() if isinstance(cols, bytes) else str(cols)).split(",")
        check(int(f["funnel/by_status"][row][cols.index("rejected")]) == big.sum(),
              "/funnel by_status counts the rejections")
        # the candidates it lets through go on exactly as without it
        small = passed_pf & ~big
        es, eb = c["e_single_point_eV_per_atom"][()], cg["e_single_point_eV_per_atom"][()]
        check(np.array_equal(es[small], eb[small], equal_nan=True), "single-point energies of the others unchanged")
        check(np.all(np.isnan(es[big])), "no single point for the rejected ones")
        # its own output
        check("max_sites" in f and int(f["max_sites/max"][0]) == MAX, "/max_sites/max written by its write operation")


main()
if failures:
    print("%d failure(s)" % len(failures))
    sys.exit(1)
