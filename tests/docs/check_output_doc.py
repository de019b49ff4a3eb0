"""docs/output.md, the output schema and the output agree: every dataset (and root attribute)
that the perovskite example writes is documented in its group's table, and every dataset a
table documents is in the file, readable with h5py; the schema (`matscreen info output --json`,
from include/matscreen/output_schema.def) declares exactly the documented datasets and root
attributes, and every dataset of the file with the type and width the schema gives it.

usage: check_output_doc.py MATSCREEN MPIEXEC SOURCE_ROOT
(/surrogate and /lab are documented in prose; tests/cli/check_surrogate.py and
check_lab_roundtrip.py read them. Their schema datasets must be named in that prose, the saved
surrogate's in docs/surrogate.md, "Saved format".)
"""
import json
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


PROSE = ("/surrogate", "/lab")  # groups documented in prose, not in a table


def section_words(path, title):
    """Every `word` in the section of a markdown file whose heading contains @p title."""
    words, inside = set(), False
    for line in open(path):
        if line.startswith("## "):
            inside = title in line
            continue
        if inside:
            words.update(re.findall(r"`([^`]+)`", line))
    return words


def check_schema(doc, written_types):
    r = subprocess.run([MS, "info", "output", "--json"], capture_output=True, text=True)
    check(r.returncode == 0, "matscreen info output --json runs")
    items = json.loads(r.stdout)["items"] if r.returncode == 0 else []
    ids = [it["id"] for it in items]
    check(len(ids) == len(set(ids)), "schema identifiers are unique")
    attrs = {it["path"] for it in items if it["kind"] == "root_attribute"}
    check(attrs == doc.get("/", set()), "schema root attributes = documented: not in docs %s, not in schema %s"
          % (sorted(attrs - doc.get("/", set())), sorted(doc.get("/", set()) - attrs)))
    dsets = {it["path"]: it for it in items if it["kind"] == "dataset"}
    tabled = {p for p in dsets if not p.startswith(PROSE)}
    want = set()
    for sec, names in doc.items():
        if sec != "/":
            want.update(n if n.startswith("/") else sec + "/" + n for n in names)
    check(tabled == want, "schema datasets = documented in tables: not in docs %s, not in schema %s"
          % (sorted(tabled - want), sorted(want - tabled)))
    output_md = os.path.join(ROOT, "docs", "output.md")
    prose = {"/lab": section_words(output_md, "`/lab`"),
             "/surrogate/model": section_words(os.path.join(ROOT, "docs", "surrogate.md"), "Saved format")}
    for p in sorted(set(dsets) - tabled):
        group, leaf = p.rsplit("/", 1)
        check(leaf in prose.get(group, set()), "schema dataset %s is named in its documentation" % p)
    # the file's datasets have the schema's type and width
    h5type = {"float64": "f8", "int64": "i8", "int32": "i4"}
    for p, (kind, size, shape) in sorted(written_types.items()):
        it = dsets.get(p)
        check(it is not None, "%s is in the schema" % p)
        if it is None:
            continue
        if it["type"] == "string":
            ok = kind == "S" and (it["width"] == 0 or size == it["width"])
        else:
            cols = 1
            for d in shape[1:]:
                cols *= d
            ok = "%s%d" % (kind, size) == h5type[it["type"]] and (it["width"] == 0 or cols == it["width"])
        check(ok, "%s: file has %s%d %s, schema says %s width %d" % (p, kind, size, shape, it["type"], it["width"]))


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
        types = {n: (f[n].dtype.kind, f[n].dtype.itemsize, f[n].shape) for n in written}
    check_schema(doc, types)


main()
print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
