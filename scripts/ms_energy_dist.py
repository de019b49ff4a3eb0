#!/usr/bin/env python3
"""Distribution of candidate energies per atom in a matscreen output, grouped by prototype or
generator."""
import numpy as np

from matscreen_post import Output
from matscreen_post.cli import ArgumentParser, note, pyplot, run, save_figure

EPILOG = """\
Histogram of the single-point (/candidates/e_single_point_eV_per_atom, at the volume the scan
chose) or relaxed (/candidates/e_relaxed_eV_per_atom, converged relaxations only) energies per
atom, stacked by prototype or generator; the ten largest groups get their own colour, the rest
are 'other'. Candidates without that energy (not computed, failed, not relaxed) are counted in
the legend title and left out. Energies per atom of different compositions are compared here
as they are; the hull plot compares them properly.

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
    e = c[col]
    ok = np.isfinite(e)
    if not ok.any():
        note(f"{args.output}: no candidate has a finite {args.energy} energy: nothing to plot, "
             "no figure written")
        return 0
    if args.by in c:
        labels = np.array([str(x) or "(none)" for x in c[args.by]])
    else:
        note(f"{args.output} has no /candidates/{args.by}: one group")
        labels = np.array(["all"] * len(e))
    if args.by == "prototype" and "generator" in c:
        # random search has no prototype: name the generator instead
        labels = np.array([lab if lab != "(none)" else f"({g})" for lab, g in zip(labels, c["generator"])])
    e, labels = e[ok], labels[ok]
    names, counts = np.unique(labels, return_counts=True)
    order = [names[i] for i in np.lexsort((names, -counts))]
    shown = order[:MAX_GROUPS]
    groups = [(n, e[labels == n]) for n in shown]
    rest = e[~np.isin(labels, shown)]
    if rest.size:
        groups.append((f"other ({len(order) - len(shown)} groups)", rest))

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 5))
    lo, hi = float(e.min()), float(e.max())
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    bins = np.linspace(lo, hi, args.bins + 1)
    colors = plt.get_cmap("tab10" if len(groups) <= 10 else "tab20")(np.arange(len(groups)))
    ax.hist([g for _, g in groups], bins=bins, stacked=True, color=colors[:len(groups)],
            label=[f"{n} ({len(g)})" for n, g in groups], edgecolor="white", linewidth=0.3)
    ax.set_xlabel(f"{args.energy.replace('_', ' ')} energy (eV/atom)")
    ax.set_ylabel("candidates")
    missing = int((~ok).sum())
    ax.legend(fontsize=8, title=f"{args.by} ({int(ok.sum())} candidates"
              + (f"; {missing} without energy)" if missing else ")"), title_fontsize=8)
    ax.set_title(f"{args.energy.replace('_', ' ')} energies of {campaign}")
    fig.tight_layout()
    save_figure(fig, args.out, f"the {args.energy} energy distribution")
    return 0


if __name__ == "__main__":
    run(main)
