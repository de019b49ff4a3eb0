"""Every command that writes creates the missing parent directories of its output, as
`matscreen export -d` always did (one behaviour everywhere), and `generate` names its files
with six-digit ids like `export`.

usage: check_output_dirs.py MATSCREEN MPIEXEC SOURCE_ROOT

Each output below goes into a directory two levels deep that does not exist yet: `run -o`,
`generate -d`, `convert`, `relax -o`, `export -d`, `queue push --db`, `queue export -o` (a file
and the nimo directory), the campaign's lab_queue database and exports, and the scripts'
`-o`. A path whose parent is a regular file still fails with exit 1 or 2 and a message naming it.
"""
import os
import subprocess
import sys
import tempfile

MS, MPIEXEC, ROOT = sys.argv[1], sys.argv[2], sys.argv[3]
PY = sys.executable
failures = []

CAMPAIGN = """\
campaign: {name: dirs, seed: 3}
potential: bush1994
search:
  - generator: prototype_substitution
    prototypes: [perovskite_cubic]
    sites: {A: [Ca2+, Sr2+], B: [Ti4+], X: [O2-]}
funnel:
  - {stage: relax, cell: full}
  - {stage: hull}
shortlist: {size: 2}
lab_queue: {database: lab/db/queue.sqlite, export: [alabos, nimo]}
"""


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def ms(*args, np_=1, cwd=None):
    p = subprocess.run([MPIEXEC, "-n", str(np_), MS, *args], capture_output=True, text=True, cwd=cwd,
                       timeout=300)
    return p.returncode, p.stdout, p.stderr


def main():
    with tempfile.TemporaryDirectory(prefix="ms-dirs-") as w:
        camp = os.path.join(w, "c.yaml")
        with open(camp, "w") as f:
            f.write(CAMPAIGN)
        out = os.path.join(w, "runs", "first", "out.h5")
        rc, so, se = ms("--quiet", "run", camp, "-o", out, np_=2)
        check(rc == 0 and os.path.exists(out), f"run -o into a missing directory: exit {rc}: {se[-300:]}")
        check(os.path.exists(os.path.join(w, "lab", "db", "queue.sqlite")), "lab_queue.database in a missing directory")
        check(os.path.exists(os.path.join(w, "runs", "first", "out.alabos.json")), "lab_queue export next to the output")

        gdir = os.path.join(w, "gen", "a", "b")
        rc, so, se = ms("generate", camp, "-d", gdir, np_=2)
        names = sorted(os.listdir(gdir)) if os.path.isdir(gdir) else []
        check(rc == 0, f"generate -d A/B/C with A missing: exit {rc}: {se[-300:]}")
        check(names == ["000000.cif", "000001.cif", "index.csv"], f"generate: six-digit names {names}")

        src = os.path.join(ROOT, "examples", "structures", "MgO.cif")
        target = os.path.join(w, "conv", "x", "MgO.vasp")
        rc, so, se = ms("convert", src, target)
        check(rc == 0 and os.path.exists(target), f"convert into a missing directory: exit {rc}: {se[-300:]}")
        target = os.path.join(w, "rel", "x", "MgO.cif")
        rc, so, se = ms("relax", src, "--potential", "bush1994", "-o", target)
        check(rc == 0 and os.path.exists(target), f"relax -o into a missing directory: exit {rc}: {se[-300:]}")
        edir = os.path.join(w, "exp", "x", "y")
        rc, so, se = ms("export", out, "-d", edir)
        check(rc == 0 and len(os.listdir(edir)) >= 1, f"export -d: exit {rc}: {se[-300:]}")

        db = os.path.join(w, "q", "x", "lab.db")
        rc, so, se = ms("queue", "push", out, "--db", db)
        check(rc == 0 and os.path.exists(db), f"queue push --db into a missing directory: exit {rc}: {se[-300:]}")
        for fmt, path in (("json", os.path.join(w, "qx", "a", "t.json")), ("nimo", os.path.join(w, "qx", "b", "nimo"))):
            rc, so, se = ms("queue", "export", "--db", db, "--format", fmt, "-o", path)
            check(rc == 0 and os.path.exists(path), f"queue export {fmt} -o into a missing directory: exit {rc}: {se[-300:]}")

        scripts = os.path.join(ROOT, "scripts")
        for name, target in (("ms_funnel_chart.py", os.path.join(w, "fig", "a", "funnel.png")),
                             ("ms_summary.py", os.path.join(w, "fig", "b", "summary.md"))):
            p = subprocess.run([PY, os.path.join(scripts, name), out, "-o", target], capture_output=True, text=True)
            check(p.returncode == 0 and os.path.exists(target), f"{name} -o into a missing directory: {p.stderr[-300:]}")

        # a parent that is a file: a clear failure naming it
        blocker = os.path.join(w, "afile")
        open(blocker, "w").close()
        rc, so, se = ms("--quiet", "run", camp, "-o", os.path.join(blocker, "sub", "out.h5"))
        check(rc in (1, 2) and "afile" in se, f"run -o below a regular file fails clearly: exit {rc}: {se[-300:]}")
        rc, so, se = ms("generate", camp, "-d", os.path.join(blocker, "d"))
        check(rc in (1, 2) and "afile" in se and "Not a directory" in se, f"generate -d below a file: exit {rc}: {se[-300:]}")
    print(f"{len(failures)} failed" if failures else "all checks passed")
    return 1 if failures else 0


sys.exit(main())
