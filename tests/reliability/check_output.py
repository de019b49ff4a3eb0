"""The end of a run (docs/reliability.md): faults while the output file is written, signals in
the stages after the relaxations, and the checksums that prove an output intact.

usage: check_output.py MATSCREEN MPIEXEC SOURCE_ROOT

1. Output write failures at 1, 2 and 4 ranks, injected (MATSCREEN_FAULT_OUTPUT=N: the N-th of
   rank 0's write operations fails) at the first operation, inside /candidates, late and at the
   close, and real ones on a small tmpfs that holds the checkpoint but not the output: no hang
   (each run has a time limit), exit 2 with 'No space left on device', no file under the final
   or the partial name, the checkpoint kept, and --resume writes the output identical to an
   uninterrupted run once space is back.
2. A signal during dedup, hull or shortlist (2 ranks): exit 75 with a resume hint, checkpoint
   kept, and the resumed output identical; during the output: the output is finished (exit 0,
   identical, and the log says so).
3. Checksums: `matscreen verify` accepts the output and names the damaged dataset of copies with
   a flipped byte in a compressed chunk, a silently edited value, an edited root attribute and a
   deleted dataset; `queue push`, `export` and the Python reader refuse the damaged copies with
   the dataset's name; the Python reader's digests agree with the C writer's for every dataset.
4. Checkpoint faults: a byte changed in the checkpoint's header is reported as a damaged header
   (not as an edited campaign); a byte changed in the middle of a checkpoint log loses only the
   blocks stored there: the resume says how much is kept and recomputes the rest, identically.

tmpfs mounts need root; without them the real disk-full case is skipped (and says so).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from h5tables import same, tables  # noqa: E402

MS, MPIEXEC, ROOT = sys.argv[1], sys.argv[2], sys.argv[3]
CAMPAIGN = os.path.join(ROOT, "tests", "reliability", "stops.yaml")
sys.path.insert(0, os.path.join(ROOT, "scripts"))
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


def run(out, *extra, env=None, np_=2, verbose=False, timeout=180):
    e = dict(os.environ)
    e.pop("MATSCREEN_FAULT_OUTPUT", None)
    e.pop("MATSCREEN_FAULT_SIGNAL", None)
    if env:
        e.update(env)
    try:
        return subprocess.run([MPIEXEC, "-n", str(np_), MS, "--verbose" if verbose else "--quiet", "run",
                               CAMPAIGN, "-o", out, *extra], capture_output=True, text=True, env=e,
                              timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        subprocess.run(["pkill", "-KILL", "-f", "matscreen .*run .* -o " + re.escape(out)], check=False)
        return subprocess.CompletedProcess(exc.cmd, 124, "", "timed out (hang)")


def mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", path], capture_output=True)
    return r.returncode == 0


def remount(path, size):
    subprocess.run(["mount", "-o", "remount,size=%s" % size, path], check=True)


def used_kib(path):
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize // 1024


def expect_failed_output(r, out, what):
    check(r.returncode == 2, "%s: exit 2 (got %d) %s" % (what, r.returncode, r.stderr.strip()[-200:]))
    check("No space left on device" in r.stderr, "%s: the message says why" % what)
    check(not os.path.exists(out) and not os.path.exists(out + ".partial"),
          "%s: nothing under the final or the partial name" % what)
    check(os.path.isdir(out + ".ckpt"), "%s: the checkpoint is kept" % what)


def expect_resumed(out, R, what, np_=2):
    r = run(out, "--resume", np_=np_)
    check(r.returncode == 0, "%s: --resume completes (%s)" % (what, r.stderr.strip()[-200:]))
    if r.returncode == 0:
        ok, why = same(R, tables(out))
        check(ok, "%s: the resumed output is identical %s" % (what, why))


def output_faults(work, R, ops):
    # the first operation, inside /candidates, late, and the close, spread over the rank counts
    for np_, n in ((1, 1), (1, "close"), (2, ops // 3), (2, (2 * ops) // 3), (2, "close"), (4, ops // 2),
                   (4, "close")):
        out = os.path.join(work, "inj-%d-%s.h5" % (np_, n))
        r = run(out, env={"MATSCREEN_FAULT_OUTPUT": str(n)}, np_=np_)
        expect_failed_output(r, out, "injected failure at write %s of %d, %d rank(s)" % (n, ops, np_))
        expect_resumed(out, R, "injected failure at write %s, %d rank(s)" % (n, np_), np_=3 if np_ == 4 else np_)

    full = os.path.join(work, "full")
    if not mount_tmpfs(full, "64m"):
        print("note: cannot mount a tmpfs here; the real disk-full case is covered by the injected failures")
        return
    try:
        size_out = os.path.getsize(os.path.join(work, "ref.h5")) // 1024
        for np_, frac in ((1, 0.2), (2, 0.7), (2, 0.2), (4, 0.5)):
            if True:
                for name in os.listdir(full):
                    p = os.path.join(full, name)
                    shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
                remount(full, "64m")
                out = os.path.join(full, "out.h5")
                # the checkpoint of a complete run, without the output
                run(out, env={"MATSCREEN_FAULT_OUTPUT": "1"}, np_=np_)
                remount(full, "%dk" % (used_kib(full) + int(frac * size_out) + 4))
                what = "tmpfs with room for %d%% of the output, %d rank(s)" % (100 * frac, np_)
                r = run(out, "--resume", np_=np_)
                expect_failed_output(r, out, what)
                remount(full, "64m")
                expect_resumed(out, R, what, np_=np_)
    finally:
        subprocess.run(["umount", "-l", full], check=False)


def signals(work, R):
    for stage in ("dedup", "hull", "shortlist"):
        out = os.path.join(work, "sig-%s.h5" % stage)
        r = run(out, env={"MATSCREEN_FAULT_SIGNAL": stage})
        check(r.returncode == 75, "SIGTERM during %s: exit 75 (got %d) %s" % (stage, r.returncode, r.stderr.strip()[-200:]))
        check("--resume" in r.stderr and "SIGTERM" in r.stderr, "SIGTERM during %s: the message says how to resume" % stage)
        check(os.path.isdir(out + ".ckpt") and not os.path.exists(out), "SIGTERM during %s: checkpoint kept, no output" % stage)
        expect_resumed(out, R, "SIGTERM during %s" % stage)
    out = os.path.join(work, "sig-usr1.h5")
    r = run(out, env={"MATSCREEN_FAULT_SIGNAL": "hull:SIGUSR1"})
    check(r.returncode == 75 and "SIGUSR1" in r.stderr, "SIGUSR1 during hull: exit 75 (got %d)" % r.returncode)
    expect_resumed(out, R, "SIGUSR1 during hull")
    out = os.path.join(work, "sig-output.h5")
    e = dict(os.environ, MATSCREEN_FAULT_SIGNAL="output")
    r = subprocess.run([MPIEXEC, "-n", "2", MS, "run", CAMPAIGN, "-o", out], capture_output=True, text=True,
                       env=e, timeout=180)
    check(r.returncode == 0, "SIGTERM while the output is written: it is finished, exit 0 (got %d)" % r.returncode)
    check("arrived while the output was written" in r.stderr, "SIGTERM while the output is written: the log says so")
    if r.returncode == 0:
        ok, why = same(R, tables(out))
        check(ok, "SIGTERM while the output is written: the output is complete and identical %s" % why)


def flip_in_chunk(src, dst, dataset, xor=0x10):
    import h5py
    shutil.copy(src, dst)
    with h5py.File(dst, "r") as f:
        info = f[dataset].id.get_chunk_info(0)
    with open(dst, "r+b") as f:
        f.seek(info.byte_offset + info.size // 2)
        b = f.read(1)
        f.seek(info.byte_offset + info.size // 2)
        f.write(bytes([b[0] ^ xor]))


def checksums(work, ref):
    import h5py
    import numpy as np
    from matscreen_post.reader import DamagedOutput, Output
    r = subprocess.run([MS, "verify", ref], capture_output=True, text=True)
    check(r.returncode == 0 and "intact" in r.stdout, "verify: the output is intact: " + r.stdout.strip()[-120:])
    with Output(ref) as o:
        v = o.verify()
        bad = [x for x in v if x[1] != "ok"]
        check(len(v) > 40 and not bad, "Python digests agree with the writer's for all %d datasets %s" % (len(v), bad[:3]))

    cases = []
    flipped = os.path.join(work, "flipped.h5")
    flip_in_chunk(ref, flipped, "shortlist/score")
    cases.append((flipped, "/shortlist/score"))
    edited = os.path.join(work, "edited.h5")
    shutil.copy(ref, edited)
    with h5py.File(edited, "r+") as f:
        d = f["structures/lattice_A"]
        a = d[()]
        a[0, 0, 0] += 1e-9
        d[...] = a
    cases.append((edited, "/structures/lattice_A"))
    attr = os.path.join(work, "attr.h5")
    shutil.copy(ref, attr)
    with h5py.File(attr, "r+") as f:
        f.attrs["seed"] = np.int64(f.attrs["seed"] + 1)
    cases.append((attr, "root attributes"))
    frac = os.path.join(work, "frac.h5")
    flip_in_chunk(ref, frac, "structures/frac_positions")
    cases.append((frac, "/structures/frac_positions"))
    deleted = os.path.join(work, "deleted.h5")
    shutil.copy(ref, deleted)
    with h5py.File(deleted, "r+") as f:
        del f["shortlist/formula"]
    cases.append((deleted, "/shortlist/formula"))

    for path, what in cases:
        name = os.path.basename(path)
        r = subprocess.run([MS, "verify", path], capture_output=True, text=True)
        check(r.returncode == 1 and what in r.stderr, "verify %s: exit 1 naming %s: %s" % (name, what, r.stderr.strip()[-160:]))
        db = os.path.join(work, name + ".sqlite")
        r = subprocess.run([MS, "queue", "push", path, "--db", db], capture_output=True, text=True)
        check(r.returncode != 0 and what in r.stderr, "queue push %s: refused naming %s: %s" % (name, what, r.stderr.strip()[-160:]))
        if not what.startswith("/shortlist/"):  # export reads /structures, not the shortlist's columns
            r = subprocess.run([MS, "export", path, "--what", "shortlist", "-d", os.path.join(work, name + ".d")],
                               capture_output=True, text=True)
            check(r.returncode == 1 and what in r.stderr, "export %s: refused naming %s: %s" % (name, what, r.stderr.strip()[-160:]))
        try:
            with Output(path) as o:
                o.shortlist
                o.structures
            check(False, "Python reader %s: refused" % name)
        except DamagedOutput as exc:
            check(what in str(exc), "Python reader %s: refused naming %s: %s" % (name, what, exc))


def checkpoint_faults(work, R):
    # a byte of the header's campaign hash changed: damage, not an edited campaign
    out = os.path.join(work, "hdr.h5")
    r = run(out, env={"MATSCREEN_FAULT_SIGNAL": "dedup"})
    check(r.returncode == 75, "checkpoint for the header test")
    hdr = os.path.join(out + ".ckpt", "header")
    with open(hdr) as f:
        text = f.read()
    i = text.index("campaign_hash ") + len("campaign_hash ")
    text = text[:i] + ("0" if text[i] != "0" else "1") + text[i + 1:]
    with open(hdr, "w") as f:
        f.write(text)
    r = run(out, "--resume")
    check(r.returncode == 1 and "header file is damaged" in r.stderr and "edited" not in r.stderr,
          "a changed byte in the checkpoint header is reported as damage: " + r.stderr.strip()[-200:])

    # a byte in the middle of a log: only the blocks stored there are recomputed
    out = os.path.join(work, "mid.h5")
    r = run(out, env={"MATSCREEN_FAULT_SIGNAL": "dedup"})
    logs = sorted(os.path.join(out + ".ckpt", n) for n in os.listdir(out + ".ckpt") if n.endswith(".log"))
    big = max(logs, key=os.path.getsize)
    size = os.path.getsize(big)
    with open(big, "r+b") as f:
        f.seek(size // 3)
        b = f.read(1)
        f.seek(size // 3)
        f.write(bytes([b[0] ^ 0xFF]))
    r = run(out, "--resume", verbose=True)
    check(r.returncode == 0, "a damaged region inside a checkpoint log: the resume completes")
    check("damaged region" in r.stderr and "are kept" in r.stderr and "recomputed" in r.stderr,
          "the resume says what is kept and what recomputed: " +
          " ".join(l for l in r.stderr.splitlines() if "damaged" in l)[:300])
    if r.returncode == 0:
        ok, why = same(R, tables(out))
        check(ok, "a damaged region inside a checkpoint log: the output is identical %s" % why)


def main():
    work = tempfile.mkdtemp(prefix="ms-output-")
    try:
        ref = os.path.join(work, "ref.h5")
        r = run(ref, verbose=True)
        check(r.returncode == 0, "reference run")
        m = re.search(r"written with (\d+) write operations", r.stderr)
        check(m is not None, "the run reports its write operations")
        R = tables(ref)
        output_faults(work, R, int(m.group(1)) if m else 100)
        signals(work, R)
        checksums(work, ref)
        checkpoint_faults(work, R)
    finally:
        shutil.rmtree(work, ignore_errors=True)


main()
print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
