"""The examples in the documentation run, so the docs cannot drift from the program.

usage: check_docs.py MATSCREEN MPIEXEC SOURCE_ROOT

- every YAML block of docs/campaign.md, docs/generation.md and docs/shortlist.md is checked
  with `matscreen check --no-calibrate`: a whole campaign as it is, a list of search items
  inside a small campaign, a `shortlist:` section inside the perovskite example (prototype
  files, the one other kind of block there, are checked by loading them with `info`);
- every `sh` block of docs/labqueue.md runs with bash -e in a directory holding the
  perovskite example's output (perovskite-oxides.h5), with `matscreen` on PATH;
- README.md tells root users the Open MPI variables that scripts/quickstart.sh sets.
(docs/postprocessing.md has its own test, tests/post/check_scripts.py.)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

MS, MPIEXEC, ROOT = sys.argv[1], sys.argv[2], sys.argv[3]
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


def blocks(path, lang):
    out, cur, inside = [], [], False
    for line in open(path):
        if line.startswith("```"):
            if inside:
                out.append("".join(cur))
                inside, cur = False, []
            elif line.strip() == "```" + lang:
                inside = True
            continue
        if inside:
            cur.append(line)
    return out


# The model of the wrapper covers every ion with an oxidation state: the documented search items
# are about generation and use ions (Zr4+, Sn4+) no Buckingham set here has, and a campaign whose
# species its model does not cover is refused before any work. Items of plain elements (no
# oxidation states) are refused with a charge model; they are checked with M3GNet instead.
SMALL = "campaign: {name: docs, seed: 1}\npotential: coulomb\nsearch:\n%sfunnel:\n  - {stage: single_point}\n"
PLAIN_MODEL = "m3gnet-mp-2021.2.8"


def main():
    work = tempfile.mkdtemp(prefix="ms-docs-")
    try:
        bindir = os.path.join(work, "bin")
        os.makedirs(bindir)
        os.symlink(MS, os.path.join(bindir, "matscreen"))
        env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
        example = open(os.path.join(ROOT, "examples", "perovskite-oxides", "campaign.yaml")).read()
        known = os.path.join(work, "known-structures")
        os.makedirs(known)
        shutil.copy(os.path.join(ROOT, "examples", "structures", "SrTiO3.cif"), known)
        n = 0
        for doc in ("campaign.md", "generation.md", "shortlist.md"):
            for k, text in enumerate(blocks(os.path.join(ROOT, "docs", doc), "yaml")):
                first = text.lstrip().splitlines()[0] if text.strip() else ""
                y = os.path.join(work, "doc_%s_%d.yaml" % (doc.split(".")[0], k))
                if first.startswith("campaign:"):
                    body = text
                elif first.startswith("- generator:"):
                    body = SMALL % text
                elif first.startswith("shortlist:"):
                    body = re.sub(r"(?m)^shortlist:.*\n", "", example) + text
                elif first.startswith("name:"):
                    # a prototype file: must load (the name must equal the file name)
                    name = re.match(r"name:\s*(\S+)", first).group(1)
                    p = os.path.join(work, name + ".yaml")
                    with open(p, "w") as fh:
                        fh.write(text)
                    r = subprocess.run([MS, "info", "prototypes", p], capture_output=True, text=True, env=env)
                    check(r.returncode == 0, "%s block %d (prototype file) loads: %s" % (doc, k, r.stderr[-200:]))
                    n += 1
                    continue
                else:
                    check(False, "%s block %d: unknown kind of YAML block starting %r" % (doc, k, first))
                    continue
                with open(y, "w") as fh:
                    fh.write(body)
                r = subprocess.run([MS, "check", y, "--no-calibrate"], capture_output=True, text=True, env=env, cwd=work)
                if first.startswith("- generator:") and "takes its charges from oxidation states" in r.stderr:
                    with open(y, "w") as fh:
                        fh.write(body.replace("potential: coulomb", "potential: " + PLAIN_MODEL))
                    r = subprocess.run([MS, "check", y, "--no-calibrate"], capture_output=True, text=True, env=env, cwd=work)
                check(r.returncode == 0, "%s YAML block %d passes matscreen check: %s" % (doc, k, r.stderr[-300:]))
                n += 1
        check(n >= 7, "%d YAML blocks checked" % n)
        # the lab queue commands, on the perovskite example's output
        r = subprocess.run([MPIEXEC, "-n", "2", MS, "--quiet", "run",
                            os.path.join(ROOT, "examples", "perovskite-oxides", "campaign.yaml"),
                            "-o", os.path.join(work, "perovskite-oxides.h5")], capture_output=True, text=True)
        check(r.returncode == 0, "the perovskite example runs")
        sh = blocks(os.path.join(ROOT, "docs", "labqueue.md"), "sh")
        for k, text in enumerate(sh):
            r = subprocess.run(["bash", "-e", "-c", text], capture_output=True, text=True, env=env, cwd=work)
            check(r.returncode == 0, "docs/labqueue.md sh block %d runs: %s" % (k, (r.stderr or r.stdout)[-300:]))
        check(len(sh) >= 2, "%d sh blocks of docs/labqueue.md run" % len(sh))
        check(os.path.isfile(os.path.join(work, "nimo", "candidates.csv")), "the NIMO export of the docs exists")
        # README.md: a root user (a container) learns how to let Open MPI start, with the
        # variables the test scripts set
        readme = open(os.path.join(ROOT, "README.md")).read()
        quick = open(os.path.join(ROOT, "scripts", "quickstart.sh")).read()
        for var in ("OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1", "OMPI_MCA_rmaps_base_oversubscribe=1"):
            check(var in readme and var in quick, "README.md names %s as scripts/quickstart.sh sets it" % var)
    finally:
        shutil.rmtree(work, ignore_errors=True)


main()
print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
