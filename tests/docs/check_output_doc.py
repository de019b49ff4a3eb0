"""docs/output.md and the output agree: every dataset (and root attribute) that the perovskite
example writes is documented in its group's table, and every dataset a table documents is in
the file, readable with h5py.

usage: check_output_doc.py MATSCREEN MPIEXEC SOURCE_ROOT
(/surrogate and /lab are documented in prose; tests/cli/check_surrogate.py and
check_lab_roundtrip.py read them.)
"""
import os
import re
import subprocess
import sys
import tempfile

import h5py

MS, MPIEXEC, ROOT = sys.argv[1], sys.argv[2], sys.argv[3]
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


def documented():
    """{section: set of names} from the first column of each table of docs/output.md."""
    out, sec = {}, None
    for line in open(os.path.join(ROOT, "docs", "output.md")):
        m = re.match(r"## (Root attributes|`(/[a-z]+)`)", line)
        if m:
            sec = "/" if m.group(1) == "Root attributes" else m.group(2)
            continue
        if line.startswith("## "):
            sec = None
        if sec and line.startswith("| `"):
            first = line.split("|")[1]
            out.setdefault(sec, set()).update(re.findall(r"`([^`]+)`", first))
    return out


def main():
    work = tempfile.mkdtemp(prefix="ms-outdoc-")
    out = os.path.join(work, "p.h5")
    r = subprocess.run([MPIEXEC, "-n", "2", MS, "--quiet", "run",
                        os.path.join(ROOT, "examples", "perovskite-oxides", "campaign.yaml"), "-o", out],
                       capture_output=True, text=True)
    check(r.returncode == 0, "the perovskite example runs")
    doc = documented()
    check({"/", "/config", "/species", "/candidates", "/structures", "/hull", "/shortlist", "/funnel"} <= set(doc),
          "docs/output.md has tables for %s" % sorted(doc))
    with h5py.File(out, "r") as f:
        check(set(f.attrs) == doc.get("/", set()),
              "root attributes documented exactly: missing in docs %s, missing in file %s"
              % (sorted(set(f.attrs) - doc.get("/", set())), sorted(doc.get("/", set()) - set(f.attrs))))
        written = set()
        f.visititems(lambda n, o: written.add("/" + n) if isinstance(o, h5py.Dataset) else None)
        want = set()
        for sec, names in doc.items():
            if sec == "/":
                continue
            for n in names:
                want.add(n if n.startswith("/") else sec + "/" + n)
        # /species and /prototypes share a section with absolute names
        check(written == want, "datasets documented exactly: missing in docs %s, missing in file %s"
              % (sorted(written - want), sorted(want - written)))
        for name in sorted(written & want):
            d = f[name][()]
            check(d is not None, "h5py reads %s" % name)


main()
print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
