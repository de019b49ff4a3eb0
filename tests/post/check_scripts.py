"""Tests of the post-processing scripts (scripts/ms_*.py) and of docs/postprocessing.md.

usage: check_scripts.py MATSCREEN MPIEXEC SOURCE_ROOT

1. Every command of docs/postprocessing.md runs as written (```sh lines succeed, ```console
   commands print what the page shows, ```python blocks run) in a directory laid out like the
   repository (scripts/, examples/, build/matscreen).
2. The figures they write are PNGs of some size that are not blank.
3. The numbers of `ms_summary.py --format json` are those in the file (read here with h5py):
   attributes, counts, every funnel row and status count, the top candidates and their order;
   text, markdown and html carry the same numbers.
4. The hull plot's formation energies reproduce the file's energies above the hull in every
   binary system; the ternary and binary plots are drawn for chosen systems.
5. Outputs without /hull, /structures rows or /shortlist are handled (note on stderr, part
   skipped, exit 0); a /shortlist in the planned layout is reported in priority order.
6. Bad uses exit 1 with a message: missing file, not HDF5, unknown system, bad option.
"""
import json
import math
import os
import re
import shlex
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from post_common import (add_shortlist, check, check_image, finish, run, run_campaign,  # noqa: E402
                         run_no_relax)

exe, mpiexec, root = (os.path.abspath(x) if os.sep in x else x for x in sys.argv[1:4])
scripts = os.path.join(root, "scripts")
sys.path.insert(0, scripts)
from matscreen_post import Output  # noqa: E402
from matscreen_post.hull import HullData, above_hull_2d, lower_hull_2d  # noqa: E402

PY = sys.executable


def script(name, *args, cwd=None):
    return run([PY, os.path.join(scripts, name), *args], cwd=cwd)


def doc_blocks(path):
    """[(language, [lines])] of the fenced code blocks of a markdown file."""
    blocks, lang, lines = [], None, []
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^```(\w*)\s*$", line)
        if m and lang is None:
            lang, lines = m.group(1), []
        elif line.startswith("```") and lang is not None:
            blocks.append((lang, lines))
            lang = None
        elif lang is not None:
            lines.append(line.rstrip("\n"))
    return blocks


def command(line, cwd):
    """A documented command line as argv: python3 is the interpreter running the tests, and
    mpirun gets --oversubscribe (the test machine may have fewer cores than ranks); a relative
    program path (build/matscreen) is taken from @cwd."""
    argv = shlex.split(line)
    if "/" in argv[0] and not os.path.isabs(argv[0]):
        argv[0] = os.path.join(cwd, argv[0])
    if argv[0] == "python3":
        argv[0] = PY
    if argv[0] == "mpirun":
        argv = [mpiexec] + argv[1:3] + ["--oversubscribe"] + argv[3:]
    return argv


def run_docs(tmp):
    os.makedirs(os.path.join(tmp, "build"))
    os.symlink(scripts, os.path.join(tmp, "scripts"))
    os.symlink(os.path.join(root, "examples"), os.path.join(tmp, "examples"))
    os.symlink(exe, os.path.join(tmp, "build", "matscreen"))
    ran = 0
    for lang, lines in doc_blocks(os.path.join(root, "docs", "postprocessing.md")):
        if lang == "sh":
            for line in lines:
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                rc, so, se = run(command(line, tmp), cwd=tmp, timeout=600)
                check(rc == 0, f"docs: `{line}`: exit {rc}: {se[-400:]}")
                ran += 1
        elif lang == "console":
            cmd, expect = None, []
            for line in lines + ["$ "]:
                if line.startswith("$ "):
                    if cmd:
                        rc, so, se = run(command(cmd, tmp), cwd=tmp)
                        want_rc = 1 if any("error:" in e for e in expect) else 0
                        check(rc == want_rc, f"docs: `{cmd}`: exit {rc}, expected {want_rc}")
                        for e in expect:
                            check(e in so + se, f"docs: `{cmd}` does not print `{e}`: {(so + se)[-400:]}")
                        ran += 1
                    cmd, expect = line[2:].strip(), []
                elif line.strip():
                    expect.append(line.strip())
        elif lang == "python":
            prog = os.path.join(tmp, f"doc_snippet_{ran}.py")
            with open(prog, "w") as fh:
                fh.write("\n".join(lines) + "\n")
            rc, so, se = run([PY, prog], cwd=tmp)
            check(rc == 0, f"docs: python block: exit {rc}: {se[-600:]}")
            check("CaTiO3 Ca2+" in so, f"docs: python block output: {so[-400:]}")
            ran += 1
    check(ran >= 15, f"docs: {ran} commands run")


def nan_to_none(x):
    return None if isinstance(x, float) and math.isnan(x) else x


def summary_json(path, *args):
    rc, so, se = script("ms_summary.py", path, "--format", "json", *args)
    check(rc == 0, f"ms_summary.py {path} json: exit {rc}: {se[-300:]}")
    return json.loads(so) if rc == 0 else None, se


def compare_summary(path, top=10):
    """The numbers ms_summary.py prints are those in the file."""
    data, se = summary_json(path, "--top", str(top))
    if data is None:
        return None
    with h5py.File(path, "r") as f:
        for k, v in f.attrs.items():
            v = v.decode() if isinstance(v, bytes) else v.item()
            check(data["attributes"].get(k) == v, f"{path}: attribute {k}: {data['attributes'].get(k)} vs {v}")
        fu = f["funnel"]
        cols = fu["by_status"].attrs["columns"].decode().split(",")
        check(len(data["funnel"]) == fu["stage"].shape[0], f"{path}: funnel rows")
        for k, row in enumerate(data["funnel"]):
            check(row["stage"] == fu["stage"][k].decode(), f"{path}: stage {k}")
            for key in ("count_in", "count_out", "cpu_s", "wall_s"):
                check(row[key] == fu[key][k].item(), f"{path}: funnel {row['stage']} {key}: {row[key]} vs {fu[key][k]}")
            want = {cols[j]: int(n) for j, n in enumerate(fu["by_status"][k]) if n}
            check(row["by_status"] == want, f"{path}: funnel {row['stage']} by status: {row['by_status']} vs {want}")
        c = f["candidates"]
        check(data["counts"]["candidates"] == c["id"].shape[0], f"{path}: candidate count")
        check(data["counts"]["structures"] == f["structures/candidate_id"].shape[0], f"{path}: structure count")
        # the ranking, recomputed here
        col = next((x for x in ("e_above_hull_eV_per_atom", "e_relaxed_eV_per_atom",
                                "e_single_point_eV_per_atom") if np.isfinite(c[x][:]).any()), None)
        check(data["top_candidates"]["ranked_by"] == col, f"{path}: ranked by {data['top_candidates']['ranked_by']}, expected {col}")
        e, ids, dup = c[col][:], c["id"][:], c["duplicate_of"][:]
        ok = np.nonzero(np.isfinite(e) & (dup < 0))[0]
        best = ok[np.lexsort((ids[ok], e[ok]))][:top]
        rows = data["top_candidates"]["rows"]
        check([r["id"] for r in rows] == ids[best].tolist(), f"{path}: top ids {[r['id'] for r in rows]} vs {ids[best].tolist()}")
        for r, k in zip(rows, best):
            for key in ("e_single_point_eV_per_atom", "e_relaxed_eV_per_atom", "e_above_hull_eV_per_atom",
                        "spacegroup"):
                check(r[key] == nan_to_none(c[key][k].item()), f"{path}: top {r['id']} {key}: {r[key]} vs {c[key][k]}")
            for key in ("formula", "prototype", "status", "decomposition"):
                check(r[key] == c[key][k].decode(), f"{path}: top {r['id']} {key}")
        if "hull" in f:
            check(data["counts"]["hull_references"] == f["hull/reference_formula"].shape[0], f"{path}: references")
            check(data["counts"]["hull_stable"] == f["hull/stable_candidate_id"].shape[0], f"{path}: stable count")
        missing = {m["group"] for m in data["missing"]}
        for g in ("hull", "shortlist"):
            check((g in missing) == (g not in f), f"{path}: missing {g} reported: {missing}")
            check((g in missing) == (f"no /{g}" in se), f"{path}: note about /{g} on stderr")
    return data


with tempfile.TemporaryDirectory() as tmp:
    docs_dir = os.path.join(tmp, "docs-run")
    os.makedirs(docs_dir)
    # 1. the documented commands (they run the perovskite example first)
    run_docs(docs_dir)
    perov = os.path.join(docs_dir, "perovskite-oxides.h5")
    if not check(os.path.exists(perov), "docs: the example output exists"):
        finish("post_scripts")

    # 2. figures
    for name in ("funnel.png", "hull.png", "hull-ternary.png", "energies.png", "relaxed.png"):
        check_image(os.path.join(docs_dir, name), name)
    check(os.path.getsize(os.path.join(docs_dir, "funnel.pdf")) > 5000, "funnel.pdf")
    for d, ext in (("survivors", ".cif"), ("picked", ".vasp"), ("survivors-xyz", ".xyz")):
        names = os.listdir(os.path.join(docs_dir, d)) if os.path.isdir(os.path.join(docs_dir, d)) else []
        check(names and all(n.endswith(ext) for n in names), f"docs: {d}/ holds {ext} files: {names[:3]}")
    check(sorted(os.listdir(os.path.join(docs_dir, "picked"))) == ["000000_CaTiO3.vasp", "000003_LaAlO3.vasp"],
          "docs: picked/ holds ids 0 and 3")
    lab = os.path.join(docs_dir, "lab")
    with h5py.File(perov, "r") as fh:
        want = [int(i) for i in fh["shortlist/candidate_id"][()]]
    got = sorted(int(n.split("_")[0]) for n in os.listdir(lab)) if os.path.isdir(lab) else []
    check(got == sorted(want) and len(want) == 8, f"docs: lab/ holds the 8 shortlisted candidates {got}")

    # 3. summary numbers, in every format
    data = compare_summary(perov)
    with open(os.path.join(docs_dir, "summary.json")) as fh:
        doc_json = json.load(fh)
    check(len(doc_json["top_candidates"]["rows"]) == 5, "--top 5")
    if data:
        top = data["top_candidates"]["rows"]
        for fmt, name in (("text", None), ("markdown", "summary.md"), ("html", "summary.html")):
            if name:
                text = open(os.path.join(docs_dir, name)).read()
                if fmt == "html":
                    text = re.sub(r"<[^>]+>", " ", text)
            else:
                rc, text, se = script("ms_summary.py", perov)
                check(rc == 0, f"summary text: exit {rc}")
            for row in data["funnel"]:
                check(re.search(rf"{row['stage']}\W+{row['count_in']}\W+{row['count_out']}\W", text),
                      f"summary {fmt}: funnel row {row['stage']} {row['count_in']} {row['count_out']}")
            for r in top:
                check(f"{r['e_above_hull_eV_per_atom']:.6f}" in text and r["formula"] in text,
                      f"summary {fmt}: candidate {r['id']}")
            check(data["attributes"]["git_revision"] in text and "bush1994" in text, f"summary {fmt}: attributes")
        page = open(os.path.join(docs_dir, "summary.html")).read()
        check(page.startswith("<!DOCTYPE html>") and page.count("<table>") == page.count("</table>") >= 4,
              "html page")

    # 4. hull plot: formation energies reproduce the file's energies above the hull
    with Output(perov) as out:
        h = HullData(out)
    nbin = 0
    for system, ks in h.systems().items():
        if len(system) != 2:
            continue
        nbin += 1
        x = [h.x[k][system[1]] for k in ks] + [0.0, 1.0]
        y = list(h.formation[ks]) + [0.0, 0.0]
        eh = above_hull_2d(x, y, lower_hull_2d(x, y))[:len(ks)]
        check(np.abs(eh - h.e_above_hull[ks]).max() < 1e-9,
              f"hull {h.system_name(system)}: {eh} vs {h.e_above_hull[ks]}")
    check(nbin >= 10, f"{nbin} binary systems checked")
    k = list(h.ids).index(0)
    check(h.formula[k] == "CaTiO3" and abs(h.x[k][h.end.index("TiO2")] - 0.6) < 1e-12
          and abs(h.x[k][h.end.index("CaO")] - 0.4) < 1e-12, "CaTiO3 is 0.4 CaO + 0.6 TiO2 in atoms")
    e_ca, e_ti = (h.corner_energy[h.end.index(x)] for x in ("CaO", "TiO2"))
    check(abs(h.formation[k] - (h.energy[k] - 0.4 * e_ca - 0.6 * e_ti)) < 1e-12,
          "formation energy of CaTiO3 as --help explains it")
    out_default = os.path.join(tmp, "hull-default.png")
    rc, so, se = script("ms_hull_plot.py", perov, "-o", out_default)
    check(rc == 0, f"hull plot default system: {rc} {se}")
    check_image(out_default, "hull default")
    rc, so, se = script("ms_hull_plot.py", perov, "--list-systems")
    check(rc == 0 and "SrO-TiO2" in so.replace("TiO2-SrO", "SrO-TiO2"), f"--list-systems: {so[:300]}")

    # 5. files without some groups, and with a shortlist
    binary = run_campaign(exe, mpiexec, os.path.join(root, "examples/binary-oxides/campaign.yaml"),
                          os.path.join(tmp, "binary.h5"))
    compare_summary(binary)
    for name, args in (("ms_funnel_chart.py", []), ("ms_energy_dist.py", ["--energy", "relaxed"]),
                       ("ms_energy_dist.py", ["--by", "generator"])):
        png = os.path.join(tmp, f"binary-{name}-{len(args)}.png")
        rc, so, se = script(name, binary, "-o", png, *args)
        check(rc == 0, f"{name} on binary-oxides: exit {rc}: {se}")
        check_image(png, f"{name} binary-oxides")
    png = os.path.join(tmp, "binary-hull.png")
    rc, so, se = script("ms_hull_plot.py", binary, "-o", png)
    check(rc == 0 and "no /hull" in se and not os.path.exists(png), f"hull plot without /hull: {rc} {se}")

    nr = run_no_relax(exe, mpiexec, tmp)
    data, se = summary_json(nr)
    if data:
        check(data["top_candidates"]["ranked_by"] == "e_single_point_eV_per_atom", "no-relax: ranked by single point")
        check({m["group"] for m in data["missing"]} == {"structures", "hull", "shortlist"},
              f"no-relax: missing {data['missing']}")
    png = os.path.join(tmp, "nr-relaxed.png")
    rc, so, se = script("ms_energy_dist.py", nr, "-o", png, "--energy", "relaxed")
    check(rc == 0 and "nothing to plot" in se and not os.path.exists(png), f"no relaxed energies: {rc} {se}")
    png = os.path.join(tmp, "nr-funnel.png")
    rc, so, se = script("ms_funnel_chart.py", nr, "-o", png)
    check(rc == 0, f"funnel chart of no-relax: {se}")
    check_image(png, "funnel no-relax")

    short_ids = [1, 0, 3]
    sl = add_shortlist(perov, os.path.join(tmp, "shortlist.h5"), short_ids)
    data, se = summary_json(sl)
    if data:
        check([r["candidate_id"] for r in data["shortlist"]] == short_ids, f"shortlist order: {data['shortlist']}")
        check([r["priority"] for r in data["shortlist"]] == [1, 2, 3], "shortlist priorities")
        check(data["shortlist_round"] == 1 and data["counts"]["shortlist"] == 3, "shortlist round and count")
        check(all(m["group"] != "shortlist" for m in data["missing"]), "shortlist not reported missing")
        with h5py.File(sl, "r") as f:
            g = f["shortlist"]
            row = {int(i): k for k, i in enumerate(g["candidate_id"][:])}
            for r in data["shortlist"]:
                k = row[r["candidate_id"]]
                for key in ("score", "e_above_hull_eV_per_atom", "uncertainty_eV_per_atom", "spacegroup"):
                    check(r[key] == g[key][k].item(), f"shortlist {r['candidate_id']} {key}")
                for key in ("formula", "prototype", "novelty", "decomposition"):
                    check(r[key] == g[key][k].decode(), f"shortlist {r['candidate_id']} {key}")
    rc, text, se = script("ms_summary.py", sl)
    check(rc == 0 and "Shortlist (round 1)" in text, "shortlist section in the text report")

    # 6. bad uses and help
    notes = os.path.join(tmp, "notes.txt")
    with open(notes, "w") as fh:
        fh.write("not hdf5\n")
    for name in ("ms_summary.py", "ms_funnel_chart.py", "ms_hull_plot.py", "ms_energy_dist.py"):
        rc, so, se = script(name, "--help")
        check(rc == 0 and "usage:" in so and "example" in so, f"{name} --help")
        rc, so, se = script(name, os.path.join(tmp, "missing.h5"))
        check(rc == 1 and "missing.h5: no such file" in se, f"{name} missing file: {rc} {se}")
        rc, so, se = script(name, notes)
        check(rc == 1 and "not an HDF5 file" in se, f"{name} text file: {rc} {se}")
        rc, so, se = script(name, perov, "--no-such-option")
        check(rc == 1 and "unrecognized arguments" in se, f"{name} bad option: {rc} {se}")
    rc, so, se = script("ms_hull_plot.py", perov, "--system", "Sr-Xx", "-o", os.path.join(tmp, "x.png"))
    check(rc == 1 and "'Xx' is not an end member" in se, f"unknown system: {rc} {se}")
    rc, so, se = script("ms_hull_plot.py", perov, "--system", "SrO-TiO2-CaO-BaO", "-o", os.path.join(tmp, "x.png"))
    check(rc == 1 and "cannot be drawn" in se, f"four end members: {rc} {se}")
    rc, so, se = script("ms_hull_plot.py", "--help")
    check("E_form = E - sum_i x_i E_i" in so, "hull --help explains the formation energy")

finish("post_scripts")
