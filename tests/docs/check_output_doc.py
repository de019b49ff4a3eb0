"""docs/output.md, the output schema and the output agree: every dataset (and root attribute)
that the perovskite example writes is documented in its group's table, and every dataset a
table documents is in the file, readable with h5py; the schema (`matscreen info output --json`,
from include/matscreen/output_schema.def) declares exactly the documented datasets and root
attributes, and every dataset of the file with the type and width the schema gives it.
Group attributes: the schema declares exactly those of the "Group attributes" table, with its
types and units (the saved surrogate's are named in docs/surrogate.md, "Saved format"), and
the outputs of the perovskite example and of the surrogate test campaign carry exactly the
schema's attributes of each group they have, with the schema's types.

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


def documented_group_attrs():
    """{(group, name): (type, unit)} from the table of the "Group attributes" section."""
    out, inside = {}, False
    for line in open(os.path.join(ROOT, "docs", "output.md")):
        if line.startswith("## "):
            inside = line.strip() == "## Group attributes"
            continue
        if inside and line.startswith("| `"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            group = re.findall(r"`([^`]+)`", cells[0])[0]
            for name in re.findall(r"`([^`]+)`", cells[1]):
                out[(group, name)] = (cells[2], cells[3])
    return out


def schema_items():
    r = subprocess.run([MS, "info", "output", "--json"], capture_output=True, text=True)
    check(r.returncode == 0, "matscreen info output --json runs")
    return json.loads(r.stdout)["items"] if r.returncode == 0 else []


SAVED_MODEL = "/surrogate/model"  # its attributes are documented in docs/surrogate.md


def check_group_attrs_schema(items):
    doc = documented_group_attrs()
    check(len(doc) > 0, "docs/output.md has a Group attributes table")
    decl = {(it["group"], it["path"]): it for it in items if it["kind"] == "group_attribute"}
    tabled = {k for k in decl if k[0] != SAVED_MODEL}
    check(tabled == set(doc), "schema group attributes = documented: not in docs %s, not in schema %s"
          % (sorted(tabled - set(doc)), sorted(set(doc) - tabled)))
    for k in sorted(tabled & set(doc)):
        it = decl[k]
        check(doc[k] == (it["type"], it["unit"]), "%s@%s: docs say %s %r, schema %s %r"
              % (k[0], k[1], doc[k][0], doc[k][1], it["type"], it["unit"]))
    saved = section_words(os.path.join(ROOT, "docs", "surrogate.md"), "Saved format")
    for g, name in sorted(k for k in decl if k[0] == SAVED_MODEL):
        check(name in saved, "schema attribute %s@%s is named in docs/surrogate.md" % (g, name))
    return decl


def check_group_attrs_file(path, decl):
    """The file's attributes of every object but the root are the schema's, with its types, and
    every group of the file carries all that the schema declares for it."""
    kind = {"string": "S", "int64": "i8", "float64": "f8"}
    have = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            for a in obj.attrs:
                t = obj.attrs.get_id(a).dtype
                have[("/" + name, a)] = "S" if t.kind == "S" else "%s%d" % (t.kind, t.itemsize)
        f.visititems(visit)
        objects = set()
        f.visit(lambda n: objects.add("/" + n))
    base = os.path.basename(path)
    for k, t in sorted(have.items()):
        it = decl.get(k)
        check(it is not None, "%s: attribute %s@%s is in the schema" % (base, k[0], k[1]))
        if it is not None:
            check(t == kind[it["type"]], "%s: %s@%s is %s in the file, %s in the schema"
                  % (base, k[0], k[1], t, it["type"]))
    missing = sorted(k for k in decl if k[0] in objects and k not in have)
    check(not missing, "%s: every schema attribute of its groups is written; missing %s" % (base, missing))
    return {k[0] for k in have}


def check_schema(doc, written_types, items):
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
    surr = os.path.join(work, "s.h5")
    r = subprocess.run([MPIEXEC, "-n", "2", MS, "--quiet", "run",
                        os.path.join(ROOT, "tests", "data", "surrogate", "campaign.yaml"), "-o", surr],
                       capture_output=True, text=True)
    check(r.returncode == 0, "the surrogate test campaign runs")
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
    items = schema_items()
    check_schema(doc, types, items)
    decl = check_group_attrs_schema(items)
    groups = check_group_attrs_file(out, decl) | check_group_attrs_file(surr, decl)
    # the two files between them hold every group with attributes but /lab, which needs a lab
    # queue with results (check_lab_roundtrip.py makes one); /lab is checked against the docs only
    unseen = sorted({k[0] for k in decl} - groups)
    check(unseen == ["/lab"], "the two runs carry the attributes of every group but /lab; unseen: %s" % unseen)


main()
print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
