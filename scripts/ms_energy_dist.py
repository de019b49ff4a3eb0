#!/usr/bin/env python3
"""Distribution of candidate energies per atom in a matscreen output, grouped by prototype or
generator."""
import numpy as np

from matscreen_post import Output
from matscreen_post.cli import ArgumentParser, note, pyplot, run, save_figure

EPILOG = """\
Histogram of the single-point (/candidates/e_single_point_eV_per_atom, at the volume the scan
chose) or relaxed (/candidates/e_relaxed_eV_per_atom, converged relaxations only) energies,
each relative to the lowest energy of the same kind among the candidates of its composition
(reduced formula), in meV/atom: 0 is the best structure of a composition, and energies of
different compositions, which are not comparable, are not set against each other. The bars
are stacked by prototype or generator; the ten largest groups get their own colour, the rest
are 'other'. Candidates without that energy (not computed, failed, not relaxed) are counted in
the legend title and left out. The count axis has whole-number ticks. The hull plot compares
compositions properly.

examples:
  python3 scripts/ms_energy_dist.py perovskite-oxides.h5 -o energies.png
  python3 scripts/ms_energy_dist.py perovskite-oxides.h5 -o relaxed.png --energy relaxed --by generator
"""

COLUMN = {"single_point": "e_single_point_eV_per_atom", "relaxed": "e_relaxed_eV_per_atom"}
MAX_GROUPS = 10


def main():
    p = ArgumentParser(prog="ms_energy_dist.py", description=__doc__, epilog=EPILOG)
    p.add_argument("output", metavar="OUT.h5", help="output of 'matscreen run'")
    p.add_argument("-o", "--out", metavar="FILE", default="energies.png",
                   help="figure to write (default: energies.png)")
    p.add_argument("--by", choices=["prototype", "generator"], default="prototype",
                   help="group the candidates by (default: prototype)")
    p.add_argument("--energy", choices=["single_point", "relaxed"], default="single_point",
                   help="which energy (default: single_point)")
    p.add_argument("--bins", type=int, default=40, help="number of bins (default: 40)")
    args = p.parse_args()
    if args.bins < 1:
        p.error("--bins must be at least 1")
    col = COLUMN[args.energy]
    with Output(args.output) as out:
        c = out.candidates
        campaign = out.attrs.get("campaign", args.output)
    if c is None or col not in c:
        note(f"{args.output} has no /candidates/{col}: nothing to plot, no figure written")
        return 0
    fig, drawn = make_figure(c, col, args, campaign)
    if fig is None:
        note(f"{args.output}: no candidate has a finite {args.energy} energy: nothing to plot, "
             "no figure written")
        return 0
    save_figure(fig, args.out, f"the {args.energy} energy distribution")
    return 0


def relative_to_best(e, formula):
    """meV/atom above the lowest finite energy of the same formula (NaN where e is NaN)."""
    out = np.full(len(e), np.nan)
    for f in set(formula):
        k = np.array([x == f for x in formula]) & np.isfinite(e)
        if k.any():
            out[k] = (e[k] - e[k].min()) * 1000.0
    return out


def make_figure(c, col, args, campaign):
    """The histogram and what it shows: {"groups": [(label, count)], "edges": bin edges (meV/atom),
    "counts": per group per bin, "missing": n} (for the tests); (None, None) with nothing to draw."""
    e = np.asarray(c[col], dtype=float)
    ok = np.isfinite(e)
    if not ok.any():
        return None, None
    formula = [str(x) for x in c["formula"]] if "formula" in c else ["?"] * len(e)
    rel = relative_to_best(e, formula)
    if args.by in c:
        labels = np.array([str(x) or "(none)" for x in c[args.by]])
    else:
        note(f"{args.output} has no /candidates/{args.by}: one group")
        labels = np.array(["all"] * len(e))
    if args.by == "prototype" and "generator" in c:
        # random search has no prototype: name the generator instead
        labels = np.array([lab if lab != "(none)" else f"({g})" for lab, g in zip(labels, c["generator"])])
    rel, labels = rel[ok], labels[ok]
    names, counts = np.unique(labels, return_counts=True)
    order = [names[i] for i in np.lexsort((names, -counts))]
    shown = order[:MAX_GROUPS]
    groups = [(n, rel[labels == n]) for n in shown]
    rest = rel[~np.isin(labels, shown)]
    if rest.size:
        groups.append((f"other ({len(order) - len(shown)} groups)", rest))

    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(9, 5))
    hi = float(rel.max())
    if hi < 1.0:  # every candidate within 1 meV/atom of the best of its composition
        hi = 1.0
    edges = np.linspace(0.0, hi * (1 + 1e-9), args.bins + 1)
    colors = plt.get_cmap("tab10" if len(groups) <= 10 else "tab20")(np.arange(len(groups)))
    hist, _, _ = ax.hist([g for _, g in groups], bins=edges, stacked=True, color=colors[:len(groups)],
                         label=[f"{n} ({len(g)})" for n, g in groups], edgecolor="white", linewidth=0.3)
    ax.set_xlabel(f"{args.energy.replace('_', ' ')} energy above the lowest of the same composition (meV/atom)")
    ax.set_ylabel("candidates")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.ticklabel_format(axis="x", useOffset=False, style="plain")
    ax.set_xlim(edges[0] - 0.02 * hi, edges[-1] + 0.02 * hi)
    missing = int((~ok).sum())
    # outside the axes, so that it covers no bar
    ax.legend(fontsize=8, title=f"{args.by} ({int(ok.sum())} candidates"
              + (f"; {missing} without energy)" if missing else ")"), title_fontsize=8,
              loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    ncomp = len(set(np.asarray(formula)[ok]))
    ax.set_title(f"{args.energy.replace('_', ' ')} energies of {campaign} ({ncomp} composition"
                 f"{'' if ncomp == 1 else 's'})")
    fig.tight_layout()
    hist = np.atleast_2d(hist)
    return fig, {"groups": [(n, len(g)) for n, g in groups], "edges": edges, "counts": hist, "missing": missing}


if __name__ == "__main__":
    run(main)
