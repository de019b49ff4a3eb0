#!/usr/bin/env python3
"""Summary of a matscreen output: campaign, versions, the funnel and the best candidates."""
import html
import json
import math
import sys

import numpy as np

from matscreen_post import Output
from matscreen_post.cli import ArgumentParser, make_parent_dirs, note, run

EPILOG = """\
The funnel table has one row per stage (generate, then the campaign's stages): candidates in
and out, CPU time summed over ranks, wall time, and the candidates that ended in the stage by
status ('rejected' = removed by the stage's keep rule).

Top candidates are ranked by energy above the hull when the file has a hull, else by relaxed
energy per atom, else by single-point energy per atom (ties by id); duplicates found by the
dedup stage are left out. With a /shortlist, its rows follow in priority order. Groups the
file lacks (/hull, /structures, /shortlist) are named on stderr and their parts skipped.

--format json prints every number as stored in the file (NaN as null), for scripts.

examples:
  python3 scripts/ms_summary.py perovskite-oxides.h5
  python3 scripts/ms_summary.py perovskite-oxides.h5 --format markdown -o summary.md
"""

ATTR_ORDER = ["campaign", "seed", "potential", "ranks", "start_time", "end_time", "program",
              "program_version", "git_revision", "schema_version", "mpi_version", "petsc_version",
              "hdf5_version", "fftw_version", "libyaml_version", "spglib_version"]


def jsonable(v):
    """numpy scalars and arrays to JSON values; NaN and infinities to None."""
    if isinstance(v, np.ndarray):
        return [jsonable(x) for x in v.tolist()]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    return v


def funnel_rows(out):
    f = out.funnel
    if f is None:
        return None
    cols = f.attrs.get("status_columns", [])
    rows = []
    for k in range(len(f)):
        by = {}
        if "by_status" in f:
            by = {cols[j] if j < len(cols) else str(j): int(n)
                  for j, n in enumerate(f["by_status"][k]) if n}
        rows.append({"stage": str(f["stage"][k]), "count_in": int(f["count_in"][k]),
                     "count_out": int(f["count_out"][k]), "cpu_s": float(f["cpu_s"][k]),
                     "wall_s": float(f["wall_s"][k]), "by_status": by})
    return rows


def ranking_column(out):
    """Column the candidates are ranked by: the first with a finite value."""
    c = out.candidates
    for col in ("e_above_hull_eV_per_atom", "e_relaxed_eV_per_atom", "e_single_point_eV_per_atom"):
        if col in c and np.isfinite(c[col]).any():
            return col
    return None


TOP_COLUMNS = ["id", "formula", "prototype", "generator", "spacegroup", "status",
               "e_single_point_eV_per_atom", "e_relaxed_eV_per_atom", "e_above_hull_eV_per_atom",
               "decomposition"]


def top_candidates(out, n):
    c = out.candidates
    if c is None or len(c) == 0:
        return None, []
    col = ranking_column(out)
    if col is None:
        return None, []
    ok = np.isfinite(c[col])
    if "duplicate_of" in c:
        ok &= c["duplicate_of"] < 0
    idx = np.nonzero(ok)[0]
    idx = idx[np.lexsort((c["id"][idx], c[col][idx]))][:n]
    rows = [{k: c[k][i].item() if isinstance(c[k][i], np.generic) else c[k][i]
             for k in TOP_COLUMNS if k in c} for i in idx]
    return col, rows


SHORTLIST_COLUMNS = ["priority", "candidate_id", "formula", "prototype", "spacegroup", "score",
                     "e_above_hull_eV_per_atom", "uncertainty_eV_per_atom", "novelty",
                     "known_match", "decomposition"]


def shortlist_rows(out, n):
    s = out.shortlist
    if s is None:
        return None
    return [{k: s[k][i].item() if isinstance(s[k][i], np.generic) else s[k][i]
             for k in SHORTLIST_COLUMNS if k in s} for i in range(min(n, len(s)))]


def collect(out, ntop):
    """Everything the report shows, as plain data (the json format prints this)."""
    attrs = {k: out.attrs[k] for k in ATTR_ORDER if k in out.attrs}
    attrs.update({k: v for k, v in out.attrs.items() if k not in attrs})
    col, top = top_candidates(out, ntop)
    c, s = out.candidates, out.structures
    data = {
        "file": out.path,
        "attributes": attrs,
        "counts": {"candidates": len(c) if c is not None else 0,
                   "structures": len(s["candidate_id"]) if s is not None else 0,
                   "hull_references": len(out.hull["references"]) if out.hull else 0,
                   "hull_stable": len(out.hull["stable_candidate_id"]) if out.hull else 0,
                   "shortlist": len(out.shortlist) if out.shortlist is not None else 0},
        "funnel": funnel_rows(out),
        "top_candidates": {"ranked_by": col, "rows": top},
        "shortlist": shortlist_rows(out, ntop),
        "missing": [{"group": g, "reason": why} for g, why in out.missing()],
    }
    if out.shortlist is not None and "round" in out.shortlist.attrs:
        data["shortlist_round"] = out.shortlist.attrs["round"]
    return data


# ---- rendering -------------------------------------------------------------------------------

HEAD = {"e_single_point_eV_per_atom": "E single point (eV/atom)",
        "e_relaxed_eV_per_atom": "E relaxed (eV/atom)",
        "e_above_hull_eV_per_atom": "E above hull (eV/atom)",
        "uncertainty_eV_per_atom": "uncertainty (eV/atom)", "candidate_id": "id",
        "count_in": "in", "count_out": "out", "cpu_s": "CPU s", "wall_s": "wall s",
        "by_status": "failures / rejections"}


def cell(v, key=""):
    if v is None:
        return "-"
    if isinstance(v, float):
        if not math.isfinite(v):
            return "-"
        if key.endswith("_s"):
            return f"{v:.2f}"
        text = f"{v:.6f}" if "eV" in key or key == "score" else f"{v:g}"
        # a value that rounds to zero prints as 0, whatever its sign ("-0.000000" reads as a
        # small negative number)
        return text[1:] if text.startswith("-") and float(text) == 0 else text
    if isinstance(v, dict):
        return ", ".join(f"{k} {n}" for k, n in v.items())
    return str(v)


def table(fmt, rows, keys):
    head = [HEAD.get(k, k) for k in keys]
    body = [[cell(r.get(k, ""), k) for k in keys] for r in rows]
    numeric = [all(_isnum(r.get(k)) for r in rows) for k in keys]
    if fmt == "markdown":
        lines = ["| " + " | ".join(head) + " |",
                 "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
        lines += ["| " + " | ".join(x.replace("|", "\\|") for x in b) + " |" for b in body]
        return "\n".join(lines)
    if fmt == "html":
        th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
        trs = "".join("<tr>" + "".join(
            f"<td{' class=num' if n else ''}>{html.escape(x)}</td>" for x, n in zip(b, numeric))
            + "</tr>\n" for b in body)
        return f"<table>\n<tr>{th}</tr>\n{trs}</table>"
    width = [max([len(h)] + [len(b[j]) for b in body]) for j, h in enumerate(head)]
    def line(cells):
        return "  ".join(x.rjust(w) if n else x.ljust(w)
                         for x, w, n in zip(cells, width, numeric)).rstrip()
    return "\n".join([line(head)] + [line(b) for b in body])


def _isnum(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def heading(fmt, text, level=2):
    if fmt == "markdown":
        return "#" * level + " " + text
    if fmt == "html":
        return f"<h{level}>{html.escape(text)}</h{level}>"
    return text + "\n" + ("=" if level == 1 else "-") * len(text)


def para(fmt, text):
    return f"<p>{html.escape(text)}</p>" if fmt == "html" else text


def render(data, fmt):
    a = data["attributes"]
    parts = [heading(fmt, f"matscreen output {data['file']}", 1)]
    facts = [{"key": "campaign", "value": a.get("campaign", "?")},
             {"key": "seed", "value": a.get("seed", "?")},
             {"key": "potential", "value": a.get("potential", "?")},
             {"key": "ranks", "value": a.get("ranks", "?")},
             {"key": "run", "value": f"{a.get('start_time', '?')} .. {a.get('end_time', '?')}"},
             {"key": "candidates", "value": data["counts"]["candidates"]},
             {"key": "stored structures", "value": data["counts"]["structures"]}]
    parts += [heading(fmt, "Campaign"), table(fmt, facts, ["key", "value"])]
    versions = [{"key": k, "value": v} for k, v in a.items()
                if k not in ("campaign", "seed", "potential", "ranks", "start_time", "end_time")]
    parts += [heading(fmt, "Versions"), table(fmt, versions, ["key", "value"])]
    if data["funnel"] is not None:
        parts += [heading(fmt, "Funnel"),
                  table(fmt, data["funnel"], ["stage", "count_in", "count_out", "cpu_s", "wall_s",
                                              "by_status"])]
    top = data["top_candidates"]
    if top["ranked_by"]:
        keys = [k for k in TOP_COLUMNS if any(k in r for r in top["rows"])]
        # columns that are empty or all NaN for these rows say nothing
        keys = [k for k in keys if any(cell(r.get(k, ""), k) not in ("", "-") for r in top["rows"])]
        if len({r.get("generator") for r in top["rows"]}) == 1:
            keys = [k for k in keys if k != "generator"]
        parts += [heading(fmt, f"Top {len(top['rows'])} candidates by {HEAD.get(top['ranked_by'])}"),
                  table(fmt, top["rows"], keys)]
    else:
        parts += [heading(fmt, "Top candidates"), para(fmt, "no candidate has an energy")]
    if data["shortlist"] is not None:
        rnd = f" (round {data['shortlist_round']})" if "shortlist_round" in data else ""
        keys = [k for k in SHORTLIST_COLUMNS if any(k in r for r in data["shortlist"])]
        parts += [heading(fmt, f"Shortlist{rnd}"), table(fmt, data["shortlist"], keys)]
    if data["missing"]:
        parts += [heading(fmt, "Not in this file"),
                  table(fmt, data["missing"], ["group", "reason"])]
    body = "\n\n".join(parts) + "\n"
    if fmt == "html":
        style = ("body{font-family:sans-serif} table{border-collapse:collapse} "
                 "td,th{border:1px solid #bbb;padding:2px 6px} td.num{text-align:right}")
        title = html.escape(f"matscreen: {a.get('campaign', data['file'])}")
        body = (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title>"
                f"<style>{style}</style></head><body>\n{body}</body></html>\n")
    return body


def main():
    p = ArgumentParser(prog="ms_summary.py", description=__doc__, epilog=EPILOG)
    p.add_argument("output", metavar="OUT.h5", help="output of 'matscreen run'")
    p.add_argument("--format", choices=["text", "markdown", "html", "json"], default="text",
                   help="report format (default: text)")
    p.add_argument("-o", "--out", metavar="FILE", help="write the report to FILE (default: stdout)")
    p.add_argument("--top", type=int, default=10, metavar="N",
                   help="number of top candidates and shortlist rows (default: 10)")
    args = p.parse_args()
    if args.top < 1:
        p.error("--top must be at least 1")
    with Output(args.output) as out:
        data = collect(out, args.top)
    for m in data["missing"]:
        note(f"{args.output} has no /{m['group']}: {m['reason']}; skipped")
    if args.format == "json":
        text = json.dumps(jsonable(data), indent=1) + "\n"
    else:
        text = render(jsonable(data), args.format)
    if args.out:
        make_parent_dirs(args.out)
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    run(main)
