"""Every candidate that failed, was rejected or is unsupported says why: /candidates/reason and
the log's summary of reasons (docs/output.md).

usage: check_reasons.py MATSCREEN MPIEXEC SOURCE_ROOT

tests/cli/reasons.yaml draws 30 random SrTiO3 structures that cannot be built (packing 1.5 with
minimum separations of 1.3 x the radius sums, one attempt each), two perovskites of which the
tolerance-factor rule rejects one, and relaxes the other. Before, a failed draw had an empty
formula and no reason anywhere but `generate`'s index.csv.
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(sys.argv[3], "tests", "reliability"))
from h5tables import same, tables  # noqa: E402

import h5py  # noqa: E402

MS, MPIEXEC, ROOT = sys.argv[1], sys.argv[2], sys.argv[3]
CAMPAIGN = os.path.join(ROOT, "tests", "cli", "reasons.yaml")
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


with tempfile.TemporaryDirectory() as tmp:
    outs = []
    for np_ in (1, 2):
        out = os.path.join(tmp, "r%d.h5" % np_)
        r = subprocess.run([MPIEXEC, "-n", str(np_), MS, "run", CAMPAIGN, "-o", out], capture_output=True, text=True)
        check(r.returncode == 0, "run at %d rank(s)" % np_)
        outs.append(out)
        if np_ == 1:
            log = r.stderr
    with h5py.File(outs[0], "r") as f:
        c = f["candidates"]
        st = [s.decode() for s in c["status"][()]]
        reason = [s.decode() for s in c["reason"][()]]
        formula = [s.decode() for s in c["formula"][()]]
        rej = c["rejected_at_stage"][()]
    out_rows = [k for k in range(len(st)) if st[k] in ("failed", "rejected", "unsupported") or rej[k] >= 0]
    check(len(out_rows) == 31, "31 candidates left the funnel (%d)" % len(out_rows))
    check(all(reason[k] for k in out_rows), "every one of them has a reason")
    check(all(not reason[k] for k in range(len(st)) if k not in out_rows), "the survivor has none")
    failed = [k for k in range(len(st)) if st[k] == "failed"]
    check(len(failed) == 30 and all(formula[k] == "SrTiO3" for k in failed),
          "the 30 failed draws keep their formula (SrTiO3)")
    check(all(reason[k].startswith("no structure after 1 attempts") and "minimum separations not reached" in reason[k]
              for k in failed), "a failed draw says why: " + reason[failed[0]] if failed else "")
    tol = [reason[k] for k in range(len(st)) if st[k] == "rejected"]
    check(len(tol) == 1 and tol[0].startswith("prefilter tolerance_factor: t = 1.06") and "Ba2+" in tol[0],
          "the rejected perovskite names the rule and its value: %s" % tol)
    check("no structure after" in log and "prefilter tolerance_factor" in log and "/candidates/reason" in log,
          "the log's summary lists the reasons")
    ok, why = same(tables(outs[0]), tables(outs[1]))
    check(ok, "the tables (with the reasons) are the same at 1 and 2 ranks %s" % why)

print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
