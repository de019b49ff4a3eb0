"""Usage messages: a misspelt option of any command gets the closest option of that command's
help as a suggestion, a misspelt stage option of a campaign the closest option of that stage,
and a negative relax pressure is accepted with a warning that says it is a tension.

usage: check_usage.py MATSCREEN MPIEXEC SOURCE_ROOT
"""
import os
import subprocess
import sys
import tempfile

MS, MPIEXEC, ROOT = sys.argv[1], sys.argv[2], sys.argv[3]
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


def ms(*args):
    p = subprocess.run([MS, *args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


CAMPAIGN = """\
campaign: {name: usage, seed: 1}
potential: bush1994
search:
  - generator: prototype_substitution
    prototypes: [rocksalt]
    sites: {A: [Mg2+], X: [O2-]}
funnel:
  - {stage: relax, PRESSURE}
"""

mgo = os.path.join(ROOT, "examples", "structures", "MgO.cif")
cases = [
    (["relax", mgo, "--potential", "bush1994", "--fmx", "0.01"], "unknown option '--fmx' (did you mean '--fmax'?)"),
    (["energy", mgo, "--potental", "bush1994"], "(did you mean '--potential'?)"),
    (["run", "x.yaml", "--resum"], "unknown option '--resum' (did you mean '--resume'?)"),
    (["check", "x.yaml", "--no-calibrat"], "(did you mean '--no-calibrate'?)"),
    (["queue", "list", "--db", "x.db", "--statsu", "done"], "(did you mean '--status'?)"),
    (["generate", "x.yaml", "--formt", "cif"], "(did you mean '--format'?)"),
    (["relax", mgo, "--potential", "bush1994", "--zzzzzz"], "unknown option '--zzzzzz'\n"),
]
for args, want in cases:
    rc, so, se = ms(*args)
    check(rc == 1 and want in se, f"{' '.join(args[:1] + args[-2:])}: exit {rc}, wants {want!r}: {se.strip()[:200]}")
rc, so, se = ms("relax", mgo, "--potential", "bush1994", "--zzzzzz")
check("did you mean" not in se, f"no suggestion for an option far from every option: {se.strip()[:200]}")

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "c.yaml")
    for pressure, warned in (("pressure: -5", True), ("pressure: 5", False)):
        with open(path, "w") as f:
            f.write(CAMPAIGN.replace("PRESSURE", pressure))
        rc, so, se = ms("check", path, "--no-calibrate")
        check(rc == 0, f"{pressure} is accepted: exit {rc}: {se[-200:]}")
        check(("tension" in se and "funnel[0].pressure is -5 GPa" in se) == warned,
              f"{pressure}: {'a' if warned else 'no'} warning about a tension: {se.strip()[:300]}")
    with open(path, "w") as f:
        f.write(CAMPAIGN.replace("PRESSURE", "fmx: 0.01"))
    rc, so, se = ms("check", path, "--no-calibrate")
    check(rc == 1 and "funnel[0].fmx: unknown key (did you mean 'fmax'?)" in se, f"campaign fmx: {se.strip()[:200]}")

print(f"{len(failures)} failed" if failures else "all checks passed")
sys.exit(1 if failures else 0)
