"""Checkpoint/restart and clean stops of `matscreen run` (docs/reliability.md).

usage: check_resume.py MATSCREEN MPIEXEC SOURCE_ROOT

1. A reference run (2 ranks, uninterrupted).
2. Kill cycles: `mpirun -n 2 matscreen run` is killed with SIGKILL (the whole process group,
   as a node failure or `scancel --signal=KILL` would) at >= 10 moments aimed at every phase
   (generation + single point, relaxation, and after it: dedup, hull, writing the output), then
   resumed with 1, 2 or 3 ranks, killed again, ... until a run completes. The final file must
   equal the reference (every table, energies bitwise; timing columns excluded), with every
   candidate exactly once.
3. SIGTERM (to the ranks, as Slurm sends it) and SIGUSR1 (to mpirun, which forwards it) stop
   within about one block, exit 75; the resumed run completes identically. The same for
   --max-walltime.
4. Refusals: a fresh run next to an existing checkpoint, --resume after an edited campaign
   file, --resume with nothing to resume.
"""
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from h5tables import same, tables  # noqa: E402

MS, MPIEXEC, ROOT = sys.argv[1], sys.argv[2], sys.argv[3]
CAMPAIGN = os.path.join(ROOT, "tests", "reliability", "resume.yaml")
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


def cmd(np_, out, *extra):
    return [MPIEXEC, "-n", str(np_), MS, "run", CAMPAIGN, "-o", out, "--progress-interval", "0.02", *extra]


def kill_all(p, out):
    """SIGKILL the job: mpirun's process group and any rank still writing @p out."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    subprocess.run(["pkill", "-KILL", "-f", "matscreen run .* -o " + re.escape(out)], check=False)
    p.wait()


def run_and_kill(np_, out, resume, target, delay):
    """Start a run; when rank 0 reports @p target (a progress line prefix, or 'after' = the
    relaxation finished), wait @p delay seconds and SIGKILL it. Returns ('killed', stage seen
    last) or ('finished', exit code)."""
    args = cmd(np_, out, *(["--resume"] if resume else []))
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    seen = {"last": "start"}
    hit = threading.Event()

    def reader():
        for line in p.stderr:
            if line.startswith("["):
                seen["last"] = line.split("]")[0][1:]
                done_relax = line.startswith("[relax]") and "(100.0%)" in line
                if (target == "after" and done_relax) or (target != "after" and line.startswith("[" + target)):
                    hit.set()
            elif "funnel summary" in line:
                seen["last"] = "summary"

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    while not hit.is_set() and p.poll() is None:
        time.sleep(0.005)
    if p.poll() is not None:
        t.join(timeout=5)
        return "finished", p.returncode
    time.sleep(delay)
    if p.poll() is not None:
        t.join(timeout=5)
        return "finished", p.returncode
    kill_all(p, out)
    t.join(timeout=5)
    return "killed", seen["last"] if target != "after" else "after relax"


def main():
    rnd = random.Random(20261129)
    work = tempfile.mkdtemp(prefix="ms-resume-")
    try:
        ref = os.path.join(work, "ref.h5")
        t0 = time.time()
        r = subprocess.run(cmd(2, ref), capture_output=True, text=True)
        check(r.returncode == 0, "reference run exits 0 (%.1f s)" % (time.time() - t0))
        if r.returncode != 0:
            print(r.stderr)
            return
        check(not os.path.exists(ref + ".ckpt"), "a completed run removes its checkpoint")
        R = tables(ref)
        ids = R["candidates/id"]
        check(np.array_equal(ids, np.arange(len(ids))), "reference: one row per candidate id")

        # -- SIGKILL cycles ------------------------------------------------------------------
        targets = ["generate", "relax", "after"]
        kills, stages, rounds = 0, set(), 0
        while kills < 12 and rounds < 8:
            rounds += 1
            out = os.path.join(work, "kill%d.h5" % rounds)
            resume = False
            ranks = [2, 1, 3, 2, 3, 1]
            for step in range(6):
                # each round's fresh run dies during phase A (its only chance: resumed runs
                # skip the committed part), later ones in the phases that follow
                target = "generate" if step == 0 else targets[(rounds + step) % 3]
                delay = rnd.uniform(0.0, 0.05) if step == 0 else rnd.uniform(0.0, 0.25)
                np_ = ranks[(rounds + step) % len(ranks)] if resume else 2
                how, what = run_and_kill(np_, out, resume, target, delay)
                if how == "finished":
                    check(what == 0, "round %d: run (np=%d) completes with exit 0 (got %s)" % (rounds, np_, what))
                    break
                kills += 1
                stages.add(what if what in ("after relax", "relax", "summary") else "generate + single_point")
                print("  round %d: killed np=%d during %s" % (rounds, np_, what), flush=True)
                check(not os.path.exists(out), "round %d: no file under the final name after a kill" % rounds)
                resume = True
            else:
                r = subprocess.run(cmd(3, out, "--resume"), capture_output=True, text=True)
                check(r.returncode == 0, "round %d: last resume completes" % rounds)
            if os.path.exists(out):
                ok, why = same(R, tables(out))
                check(ok, "round %d: resumed output identical to the uninterrupted run %s" % (rounds, why))
                check(not os.path.exists(out + ".ckpt"), "round %d: checkpoint removed at the end" % rounds)
        check(kills >= 10, "at least 10 SIGKILLs (%d)" % kills)
        check(len(stages) >= 3, "kills spread over the phases: %s" % sorted(stages))

        # -- SIGTERM to the ranks (as srun/Slurm sends it) and SIGUSR1 to mpirun (which forwards
        #    it): a clean stop within a block, exit 75, then resume ----------------------------
        for sig, to_mpirun, np_resume in (("TERM", False, 1), ("USR1", True, 3)):
            out = os.path.join(work, "sig%s.h5" % sig)
            p = subprocess.Popen(cmd(2, out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                 start_new_session=True)
            err_lines = []
            got_relax = threading.Event()

            def rd():
                for line in p.stderr:
                    err_lines.append(line)
                    if line.startswith("[relax]"):
                        got_relax.set()

            th = threading.Thread(target=rd, daemon=True)
            th.start()
            got_relax.wait(timeout=120)
            t_sig = time.time()
            if to_mpirun:
                os.kill(p.pid, getattr(signal, "SIG" + sig))
            else:
                subprocess.run(["pkill", "-" + sig, "-f", "^" + re.escape(MS) + " run .* -o " + re.escape(out)],
                               check=False)
            rc = p.wait(timeout=120)
            dt = time.time() - t_sig
            th.join(timeout=5)
            text = "".join(err_lines)
            check(rc == 75, "SIG%s: exit code 75 (got %d)" % (sig, rc))
            check(dt < 5.0, "SIG%s: stopped %.2f s after the signal (a relaxation block is milliseconds)" % (sig, dt))
            check("--resume" in text and "SIG" + sig in text, "SIG%s: the message says how to resume" % sig)
            check(os.path.isdir(out + ".ckpt") and not os.path.exists(out), "SIG%s: checkpoint kept, no output yet" % sig)
            r = subprocess.run(cmd(np_resume, out, "--resume"), capture_output=True, text=True)
            check(r.returncode == 0, "SIG%s: resume on %d rank(s) completes" % (sig, np_resume))
            if r.returncode == 0:
                ok, why = same(R, tables(out))
                check(ok, "SIG%s: resumed output identical %s" % (sig, why))

        # -- --max-walltime ------------------------------------------------------------------
        out = os.path.join(work, "wall.h5")
        # 2.2 s with the 2 s reserve for the output: the run stops about 0.2 s into its work
        r = subprocess.run(cmd(2, out, "--max-walltime", "2.2"), capture_output=True, text=True)
        check(r.returncode == 75, "--max-walltime 2.2: exit 75 (got %d)" % r.returncode)
        check("max-walltime" in r.stderr, "--max-walltime: the message names the limit")
        r = subprocess.run(cmd(2, out, "--resume"), capture_output=True, text=True)
        check(r.returncode == 0, "--max-walltime: resume completes")
        if r.returncode == 0:
            ok, why = same(R, tables(out))
            check(ok, "--max-walltime: resumed output identical %s" % why)

        # -- refusals ------------------------------------------------------------------------
        out = os.path.join(work, "refuse.h5")
        p = subprocess.Popen(cmd(2, out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        for line in p.stderr:
            if line.startswith("[relax]"):
                break
        kill_all(p, out)
        r = subprocess.run(cmd(2, out), capture_output=True, text=True)
        check(r.returncode == 1 and "--resume" in r.stderr and ".ckpt" in r.stderr,
              "a fresh run next to a checkpoint is refused, pointing at --resume: " + r.stderr.strip()[-160:])
        edited = os.path.join(work, "edited.yaml")
        with open(CAMPAIGN) as f:
            text = f.read().replace("top_k: 80", "top_k: 81")
        with open(edited, "w") as f:
            f.write(text)
        r = subprocess.run([MPIEXEC, "-n", "2", MS, "run", edited, "-o", out, "--resume"], capture_output=True, text=True)
        check(r.returncode == 1 and "edited" in r.stderr, "--resume after editing the campaign is refused: " + r.stderr.strip()[-200:])
        r = subprocess.run(cmd(2, out, "--resume"), capture_output=True, text=True)
        check(r.returncode == 0, "the unedited campaign resumes")
        r = subprocess.run(cmd(2, out, "--resume"), capture_output=True, text=True)
        check(r.returncode == 1 and "nothing to resume" in r.stderr, "--resume of a completed run: nothing to resume")
        # a damaged header is refused with an explanation
        p = subprocess.Popen(cmd(2, out + "2"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        for line in p.stderr:
            if line.startswith("[relax]"):
                break
        kill_all(p, out + "2")
        with open(os.path.join(out + "2.ckpt", "header"), "a") as f:
            f.write("garbage\n")
        r = subprocess.run(cmd(2, out + "2", "--resume"), capture_output=True, text=True)
        check(r.returncode == 1 and "does not" in r.stderr, "a damaged checkpoint header is refused: " + r.stderr.strip()[-200:])
        # a checkpoint of the previous format (2: three fixed count rows per phase-A frame, a
        # header without the stage list) is refused with the reason, not misread
        hdr = os.path.join(out + "2.ckpt", "header")
        with open(hdr) as f:
            lines = [l for l in f.read().splitlines() if l and not l.startswith(("header_fnv1a", "garbage"))]
        check(lines[0] == "matscreen checkpoint 3" and any(l.startswith("stages generate,") for l in lines),
              "the header names its format (3) and the stages: %s" % lines[:1])
        old = ["matscreen checkpoint 2"] + [l for l in lines[1:] if not l.startswith(("stages ", "frame_"))]
        with open(hdr, "w") as f:
            f.write("\n".join(old) + "\n")
        r = subprocess.run(cmd(2, out + "2", "--resume"), capture_output=True, text=True)
        check(r.returncode == 1 and "older matscreen" in r.stderr and "checkpoint 2" in r.stderr,
              "a format-2 checkpoint is refused as an older matscreen's: " + r.stderr.strip()[-200:])
    finally:
        shutil.rmtree(work, ignore_errors=True)


main()
print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
