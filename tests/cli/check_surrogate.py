"""The surrogate funnel stage (docs/surrogate.md).

usage: check_surrogate.py MATSCREEN MPIEXEC SOURCE_ROOT

- the same output (every table, predictions and the saved model bitwise) at 1, 2 and 4 ranks;
- the stage relaxes the learning batches plus what its filter keeps, and skips the rest (rows
  rejected at the surrogate stage, no relaxation), with consistent counts in /funnel and
  /surrogate;
- a model saved by one run and loaded by another (`load:`) predicts exactly the same energies;
- ground_truth relaxes everything and scores the filter (precision/recall/DAF present and
  consistent with the rows);
- the rule against the hull (keep: {max_e_above_hull_eV_per_atom: X}): every candidate it
  skips has mean - kappa sigma more than X above the hull energy at its composition, checked
  against the final hull (which lies at or below the one the filter used) through relaxed
  candidates of the same composition, on a campaign with coupled-substitution orderings; the
  same decisions at 1 and 2 ranks (with the constant noise term; the rest use the local one);
- bad options give positioned errors.
"""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

MS, MPIEXEC, ROOT = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, os.path.join(ROOT, "tests", "reliability"))
from h5tables import same, tables  # noqa: E402

CAMPAIGN = os.path.join(ROOT, "tests", "data", "surrogate", "campaign.yaml")
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


def run(yaml, out, np_=2):
    return subprocess.run([MPIEXEC, "-n", str(np_), MS, "--quiet", "run", yaml, "-o", out], capture_output=True, text=True)


def model_arrays(path):
    out = {}
    with h5py.File(path, "r") as f:
        f["surrogate/model"].visititems(lambda n, o: out.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None)
    return out


def main():
    work = tempfile.mkdtemp(prefix="ms-surrogate-")
    outs = {}
    for np_ in (1, 2, 4):
        outs[np_] = os.path.join(work, "s%d.h5" % np_)
        r = run(CAMPAIGN, outs[np_], np_)
        check(r.returncode == 0, "np=%d runs: %s" % (np_, r.stderr[-300:]))
    if failures:
        return
    ref = tables(outs[1])
    m1 = model_arrays(outs[1])
    for np_ in (2, 4):
        ok, why = same(ref, tables(outs[np_]))
        check(ok, "np=%d: tables identical to np=1 %s" % (np_, why))
        m = model_arrays(outs[np_])
        check(m1.keys() == m.keys() and all(np.array_equal(m1[k], m[k]) for k in m1), "np=%d: saved model identical" % np_)
    with h5py.File(outs[2], "r") as f:
        c, s, fu = f["candidates"], f["surrogate"].attrs, f["funnel"]
        stages = [x.decode() for x in fu["stage"][()]]
        row = stages.index("surrogate")
        rej = c["rejected_at_stage"][()]
        er = c["e_relaxed_eV_per_atom"][()]
        rs = c["relax_status"][()]
        pred = c["e_predicted_eV_per_atom"][()]
        skipped = rej == row
        relaxed = rs != b""
        n_in, n_out = fu["count_in"][row], fu["count_out"][row]
        check(int(s["skipped"]) == int(skipped.sum()) and skipped.sum() > 0,
              "skipped candidates are rows rejected at the surrogate stage (%d)" % skipped.sum())
        check(not np.any(relaxed & skipped), "skipped candidates were not relaxed")
        check(int(s["relaxed_in_rounds"]) == 30, "two rounds of 15 relaxations")
        check(n_out == int(s["relaxed_in_rounds"] + s["relaxed_by_filter"]) == int(relaxed.sum()),
              "funnel count_out = relaxations = %d" % relaxed.sum())
        check(n_in == n_out + skipped.sum(), "funnel count_in = relaxed + skipped")
        check(np.all(np.isfinite(pred[(rej < 0) | skipped | relaxed][np.isfinite(pred[(rej < 0) | skipped | relaxed])])),
              "predictions are finite where present")
        check(np.isfinite(pred[skipped]).all(), "every skipped candidate has a prediction")
        check(0 < s["mae_eV_per_atom"] < 1.0, "held-out MAE %.4f eV/atom" % s["mae_eV_per_atom"])
        check(abs(s["relaxation_reduction_factor"] - n_in / n_out) < 1e-12, "reduction factor = in / relaxed")
        dec = c["surrogate_decision"][()]
        check(np.array_equal(dec == 0, skipped) and (dec == 1).sum() == 30
              and (dec == 2).sum() == int(s["relaxed_by_filter"]) and not np.any(dec == 3),
              "surrogate_decision: 0 for the skipped rows, 1 for the 30 learning relaxations, 2 for the filter's")
        check(np.all(dec[rej >= 0][rej[rej >= 0] < row] == -1), "surrogate_decision -1 before the stage")
    # load the saved model in a later campaign: identical predictions
    loaded = os.path.join(work, "loaded.yaml")
    with open(CAMPAIGN) as fh:
        text = fh.read()
    with open(loaded, "w") as fh:
        fh.write(text.replace("rounds: 2, batch_per_round: 15,", "load: s2.h5,"))
    out = os.path.join(work, "loaded.h5")
    r = run(loaded, out, 2)
    check(r.returncode == 0, "a campaign with load: runs: " + r.stderr[-300:])
    if r.returncode == 0:
        with h5py.File(outs[2], "r") as a, h5py.File(out, "r") as b:
            pa, pb = a["candidates/e_predicted_eV_per_atom"][()], b["candidates/e_predicted_eV_per_atom"][()]
            sa, sb = a["candidates/e_predicted_sigma_eV_per_atom"][()], b["candidates/e_predicted_sigma_eV_per_atom"][()]
            # rows the filter relaxed keep the prediction they were chosen with (an earlier
            # model); the others hold the final, saved model's
            final = np.isin(a["candidates/surrogate_decision"][()], (0, 1))
            both = np.isfinite(pa) & np.isfinite(pb) & final
            check(both.sum() > 0 and np.array_equal(pa[both], pb[both]) and np.array_equal(sa[both], sb[both]),
                  "the loaded model predicts bitwise the same (%d candidates)" % both.sum())
            check(int(b["surrogate"].attrs["relaxed_in_rounds"]) == 0, "no learning rounds with a loaded model")
    # ground truth
    gt = os.path.join(work, "gt.yaml")
    with open(gt, "w") as fh:
        fh.write(text.replace("kappa: 0.5,", "kappa: 0.5, ground_truth: true,"))
    out = os.path.join(work, "gt.h5")
    r = run(gt, out, 2)
    check(r.returncode == 0, "ground_truth runs: " + r.stderr[-300:])
    if r.returncode == 0:
        with h5py.File(out, "r") as f:
            s = f["surrogate"].attrs
            c = f["candidates"]
            eh = c["e_above_hull_eV_per_atom"][()]
            stable = np.isfinite(eh) & (eh <= 0.1 + 1e-12)
            check(int(s["skipped"]) > 0 and (c["relax_status"][()] != b"").sum() == int(s["survivors"]),
                  "ground truth: everything relaxed, the filter's skips counted")
            check(0 <= s["recall"] <= 1 and 0 <= s["precision"] <= 1 and np.isfinite(s["daf"]),
                  "ground truth: recall %.3f precision %.3f DAF %.2f" % (s["recall"], s["precision"], s["daf"]))
            check(abs(s["prevalence"] - stable.sum() / s["survivors"]) < 1e-12, "prevalence = stable / survivors")
            dec = c["surrogate_decision"][()]
            chosen = (dec == 1) | (dec == 2)
            tp = (chosen & stable).sum()
            check((dec == 3).sum() == int(s["skipped"]) and abs(s["recall"] - tp / stable.sum()) < 1e-12
                  and abs(s["precision"] - tp / chosen.sum()) < 1e-12,
                  "ground truth: recall and precision recomputed from surrogate_decision and e_above_hull")
    # the rule against the hull
    hull_rule(work, text)
    # bad options
    for repl, msg in (("rounds: 2,", "rounds: 0,"), ("kappa: 0.5,", "kappa: -1,"),
                      ("batch_per_round: 15,", "batch_per_round: 15, model: {target: nonsense},"),
                      ("batch_per_round: 15,", "batch_per_round: 15, model: {noise: loud},"),
                      ("batch_per_round: 15,", "batch_per_round: 15, model: {members: 1},")):
        bad = os.path.join(work, "bad.yaml")
        with open(bad, "w") as fh:
            fh.write(text.replace(repl, msg))
        r = subprocess.run([MPIEXEC, "-n", "2", MS, "run", bad, "-o", os.path.join(work, "bad.h5")], capture_output=True, text=True)
        check(r.returncode == 1 and "bad.yaml:15:" in r.stderr, "bad option %s: positioned error: %s" % (msg, r.stderr.strip().splitlines()[0][-140:] if r.stderr.strip() else ""))


def hull_rule(work, text):
    X, kappa = 0.03, 0.5
    yaml = os.path.join(work, "hull_rule.yaml")
    item = ("  - {generator: partial_substitution, prototype: perovskite_cubic, sites: {A: La3+, B: Al3+, X: O2-},\n"
            "     supercell: [2, 2, 1], substitute: [{label: A, ion: Sr2+, count_range: [1, 3]}, "
            "{label: B, ion: Ti4+, count_range: [1, 3]}]}\n")
    t = text.replace("funnel:\n", item + "funnel:\n")
    t = t.replace("keep: {max_energy_above_best_eV_per_atom: 0.02}}", "keep: {max_e_above_hull_eV_per_atom: %g}}" % X)
    # with the constant noise term (the other runs have the default, local one)
    t = t.replace("kappa: 0.5,", "kappa: 0.5, model: {noise: constant},")
    with open(yaml, "w") as fh:
        fh.write(t)
    outs = {}
    for np_ in (1, 2):
        outs[np_] = os.path.join(work, "hull_rule%d.h5" % np_)
        r = run(yaml, outs[np_], np_)
        check(r.returncode == 0, "hull rule, np=%d runs: %s" % (np_, r.stderr[-300:]))
        if r.returncode:
            return
    ok, why = same(tables(outs[1]), tables(outs[2]))
    check(ok, "hull rule: tables identical at 1 and 2 ranks %s" % why)
    with h5py.File(outs[2], "r") as f:
        c, s = f["candidates"], f["surrogate"].attrs
        row = [x.decode() for x in f["funnel/stage"][()]].index("surrogate")
        skipped = c["rejected_at_stage"][()] == row
        fo = c["formula"][()]
        er, eh = c["e_relaxed_eV_per_atom"][()], c["e_above_hull_eV_per_atom"][()]
        pred, sig = c["e_predicted_eV_per_atom"][()], c["e_predicted_sigma_eV_per_atom"][()]
        check(int(f["surrogate/model"].attrs["noise"]) == 1 and "noise_weights" not in f["surrogate/model"],
              "model: {noise: constant} saved as such")
        check(abs(s["hull_margin_eV_per_atom"] - X) < 1e-15 and np.isnan(s["margin_eV_per_atom"]),
              "hull rule recorded in /surrogate, no rule on the best")
        hull = {}
        for k in np.where(np.isfinite(er) & np.isfinite(eh))[0]:
            hull[fo[k]] = er[k] - eh[k]
        n_checked, bad = 0, []
        for k in np.where(skipped)[0]:
            if fo[k] in hull:
                n_checked += 1
                if not pred[k] - kappa * sig[k] > hull[fo[k]] + X - 1e-9:
                    bad.append((fo[k], pred[k] - kappa * sig[k] - hull[fo[k]]))
        check(skipped.sum() > 0 and n_checked > 0 and not bad,
              "hull rule: %d skipped, the %d with a relaxed candidate of their composition all predicted more "
              "than %g eV/atom above its hull %s" % (skipped.sum(), n_checked, X, bad[:3]))


main()
print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
