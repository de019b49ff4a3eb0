"""Storage faults of `matscreen run` (docs/reliability.md): a read-only output location, a
small filesystem that fills up during the run, and an injected write failure. Each must give a
clear error and a non-zero exit, leave no file under the output's final name, and keep what was
committed: after the fault is removed, --resume completes and gives the uninterrupted result.

usage: check_storage.py MATSCREEN MPIEXEC SOURCE_ROOT

tmpfs mounts need root and a kernel that allows them; where they are not available those two
cases fall back to the injected failure (MATSCREEN_FAULT_CHECKPOINT_FRAMES), and say so.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from h5tables import same, tables  # noqa: E402

MS, MPIEXEC, ROOT = sys.argv[1], sys.argv[2], sys.argv[3]
CAMPAIGN = os.path.join(ROOT, "tests", "reliability", "resume.yaml")
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


def run(out, *extra, env=None, np_=2):
    e = dict(os.environ)
    if env:
        e.update(env)
    return subprocess.run([MPIEXEC, "-n", str(np_), MS, "--quiet", "run", CAMPAIGN, "-o", out, *extra],
                          capture_output=True, text=True, env=e)


def mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", path], capture_output=True)
    return r.returncode == 0


def main():
    work = tempfile.mkdtemp(prefix="ms-storage-")
    mounts = []
    try:
        ref = os.path.join(work, "ref.h5")
        r = run(ref)
        check(r.returncode == 0, "reference run")
        R = tables(ref)

        # read-only location
        ro = os.path.join(work, "ro")
        if mount_tmpfs(ro, "1m"):
            mounts.append(ro)
            subprocess.run(["mount", "-o", "remount,ro", ro], check=False)
            target, how = os.path.join(ro, "out.h5"), "read-only tmpfs"
        else:
            target, how = "/proc/matscreen-test/out.h5", "unwritable path (no tmpfs)"
        r = run(target)
        check(r.returncode == 2, "%s: exit 2 (got %d)" % (how, r.returncode))
        check("cannot create the checkpoint directory" in r.stderr and target in r.stderr,
              "%s: the message names the path: %s" % (how, r.stderr.strip()[:200]))
        check(not os.path.exists(target), "%s: no output" % how)

        # a small filesystem that fills up during the run, then grows
        full = os.path.join(work, "full")
        if mount_tmpfs(full, "120k"):
            mounts.append(full)
            out = os.path.join(full, "out.h5")
            r = run(out)
            check(r.returncode == 2, "full tmpfs: exit 2 (got %d)" % r.returncode)
            check("No space left on device" in r.stderr, "full tmpfs: the message says why: %s" % r.stderr.strip()[:240])
            check(not os.path.exists(out), "full tmpfs: nothing under the final name")
            check(os.path.isdir(out + ".ckpt"), "full tmpfs: the committed part of the checkpoint stays")
            subprocess.run(["mount", "-o", "remount,size=64m", full], check=True)
            r = run(out, "--resume", np_=3)
            check(r.returncode == 0, "full tmpfs: after freeing space, --resume completes: " + r.stderr.strip()[-200:])
            if r.returncode == 0:
                check(same(R, tables(out))[0], "full tmpfs: resumed output identical to the uninterrupted run")
        else:
            print("note: cannot mount a tmpfs here; the full-disk case is covered by the injected failure")

        # injected write failure (every rank's 20th frame)
        out = os.path.join(work, "inj.h5")
        r = run(out, env={"MATSCREEN_FAULT_CHECKPOINT_FRAMES": "20"})
        check(r.returncode == 2, "injected ENOSPC: exit 2 (got %d)" % r.returncode)
        check("No space left on device" in r.stderr and "--resume" in r.stderr,
              "injected ENOSPC: clear message: " + r.stderr.strip()[:240])
        check(not os.path.exists(out), "injected ENOSPC: nothing under the final name")
        r = run(out, "--resume", np_=1)
        check(r.returncode == 0, "injected ENOSPC: --resume completes")
        if r.returncode == 0:
            check(same(R, tables(out))[0], "injected ENOSPC: resumed output identical")
    finally:
        for m in mounts:
            subprocess.run(["umount", "-l", m], check=False)
        shutil.rmtree(work, ignore_errors=True)


main()
print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
