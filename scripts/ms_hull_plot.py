#!/usr/bin/env python3
"""Convex-hull plot of one chemical system of a matscreen output: binary (formation energy
against composition, with the hull) or ternary (Gibbs triangle with the hull's tie lines)."""
import numpy as np

from matscreen_post import Output
from matscreen_post.cli import ArgumentParser, note, place_labels, pyplot, run, save_figure
from matscreen_post.hull import HullData, lower_facets_3, lower_hull_2d

EPILOG = """\
How the plotted numbers are computed. The hull stage of 'matscreen run' measures each relaxed,
deduplicated candidate against the hull of the candidates and end-member references
(/hull/reference_formula, for oxides the binary oxide of each cation, with its relaxed energy
/hull/reference_energy_eV_per_atom). The axes are compositions in atom fractions of those end
members: SrTiO3 = 0.4 SrO + 0.6 TiO2 (2 and 3 atoms per formula unit). The formation energy
per atom of a candidate with relaxed energy E (/candidates/e_relaxed_eV_per_atom) and
end-member atom fractions x_i is

    E_form = E - sum_i x_i E_i

where E_i is the lowest energy per atom of end member i: its reference, or a candidate of
the same composition if one is lower (the hull code's convention, docs/stability.md). The
end members sit at E_form = 0. Energies are drawn in meV/atom. The candidates are those with a
finite /candidates/e_above_hull_eV_per_atom (duplicates have none), coloured by it; the hull
line (binary) or tie lines (ternary) join the stable ones (/hull/stable_candidate_id). The
title counts the candidates and their compositions. A binary plot shows every candidate; a
ternary one shows the lowest candidate of each composition (several candidates of one
composition sit on one point there). The lowest candidate of each composition is labelled
with its formula, its structure (/candidates/structure_type, the library prototype its relaxed
structure matches, else the prototype it started from) and how many higher candidates share
the composition.

A chemical system is a set of end members, named by their formulas (SrO-TiO2) or by their
cations (Sr-Ti, Sr-Ti-O; an element all end members share is ignored). Without --system the
system with the most candidates is drawn; --list-systems shows them all. Two end members give
a binary plot, three a ternary one; larger systems cannot be drawn in a plane.

Without a /hull (a campaign without a hull stage) nothing is plotted: the script says so and
exits with 0.

examples:
  python3 scripts/ms_hull_plot.py perovskite-oxides.h5 --list-systems
  python3 scripts/ms_hull_plot.py perovskite-oxides.h5 -o hull.png --system SrO-TiO2
  python3 scripts/ms_hull_plot.py perovskite-oxides.h5 -o hull-ternary.png --system La-Ga-Fe
"""


def pretty(formula):
    """Subscripted digits for matplotlib (TiO2 -> TiO$_2$)."""
    out, digits = "", ""
    for ch in formula + " ":
        if ch.isdigit() or ch == ".":
            digits += ch
            continue
        if digits:
            out += f"$_{{{digits}}}$"
            digits = ""
        out += ch
    return out.strip()


MEV = 1000.0  # the plot is in meV/atom


def composition_label(h, group, others=True):
    """'SrTiO3' over its structure ('ilmenite'), and '(+2 higher)' when @others and more
    candidates share the composition."""
    k = group[0]
    text = pretty(h.formula[k])
    if h.structure[k]:
        text += f"\n{h.structure[k]}"
    if others and len(group) > 1:
        text += f" (+{len(group) - 1} higher)"
    return text


def corner_labels(ax, names, xy, offsets):
    """The end members, outside the plot's corners."""
    return [ax.annotate(pretty(n), p, textcoords="offset points", xytext=o, ha="center",
                        va="top" if o[1] < 0 else "bottom", fontsize=9) for n, p, o in zip(names, xy, offsets)]


def plot_binary(fig, ax, h, system, cmap, norm):
    """Formation energy against composition; every candidate is a point, the lowest of each
    composition is labelled. Returns the scatter and what was drawn."""
    a, b = system
    ks = h.entries(system)
    x = np.array([h.x[k][b] for k in ks] + [0.0, 1.0])
    y = np.array([h.formation[k] * MEV for k in ks] + [0.0, 0.0])
    hull = lower_hull_2d(x, y)
    ax.plot(x[hull], y[hull], "-", color="0.3", lw=1.2, zorder=1, label="convex hull")
    # highest first, so that a stable point is drawn over others of its composition
    order = np.argsort(-h.e_above_hull[ks], kind="stable")
    sc = ax.scatter(x[order], y[order], c=h.e_above_hull[ks][order] * MEV, cmap=cmap, norm=norm, s=46,
                    edgecolors="k", linewidths=0.4, zorder=3)
    ax.scatter([0, 1], [0, 0], marker="s", s=60, color="k", zorder=4, label="end members")
    ax.set_xlim(-0.08, 1.08)
    lo, hi = min(float(y.min()), 0.0), max(float(y.max()), 0.0)
    pad = 0.18 * (hi - lo) + 10.0
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel(f"atom fraction of {pretty(h.end.formulas[b])} "
                  f"(rest {pretty(h.end.formulas[a])})")
    ax.set_ylabel("formation energy from the end members (meV/atom)")
    ax.axhline(0, color="0.8", lw=0.8, zorder=0)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=8, frameon=False)
    fig.tight_layout()
    groups = h.compositions(ks)
    pos = {k: j for j, k in enumerate(ks)}
    ends = corner_labels(ax, [h.end.formulas[a], h.end.formulas[b]], [(0.0, 0.0), (1.0, 0.0)], [(0, 9), (0, 9)])
    # every candidate: the lowest of a composition with its formula, the others by structure
    labels = []
    for g in groups:
        labels.append((x[pos[g[0]]], y[pos[g[0]]], composition_label(h, g, others=False), {"fontsize": 7}))
        labels += [(x[pos[k]], y[pos[k]], h.structure[k] or "(no prototype)", {"fontsize": 7, "color": "0.3"})
                   for k in g[1:]]
    segs = [((x[p], y[p]), (x[q], y[q])) for p, q in zip(hull[:-1], hull[1:])]
    place_labels(fig, ax, labels, points=list(zip(x, y)), avoid=ends, lines=segs)
    return sc, groups


def plot_ternary(fig, ax, h, system, cmap, norm):
    """Gibbs triangle: one point per composition (its lowest candidate, coloured by that one's
    energy above the hull), labelled with the formula, the structure and how many other
    candidates share the composition. Returns the scatter and the composition groups."""
    ks = h.entries(system)
    groups = h.compositions(ks)
    best = [g[0] for g in groups]
    bary = np.array([[h.x[k][i] for i in system] for k in best] + list(np.eye(3)))
    y = np.array([h.formation[k] for k in best] + [0.0, 0.0, 0.0])
    n = len(best)
    # Gibbs triangle: corners (0, 0), (1, 0), (1/2, sqrt(3)/2)
    px = bary[:, 1] + 0.5 * bary[:, 2]
    py = np.sqrt(3) / 2 * bary[:, 2]
    ax.plot([0, 1, 0.5, 0], [0, 0, np.sqrt(3) / 2, 0], "-", color="k", lw=1)
    vertices = [j for j in range(n) if int(h.ids[best[j]]) in h.stable_ids] + [n, n + 1, n + 2]
    edges = set()
    for tri in lower_facets_3(bary, y, vertices):
        for p, q in ((tri[0], tri[1]), (tri[1], tri[2]), (tri[0], tri[2])):
            edges.add((min(p, q), max(p, q)))
    segs = [((0, 0), (1, 0)), ((1, 0), (0.5, np.sqrt(3) / 2)), ((0.5, np.sqrt(3) / 2), (0, 0))]
    for p, q in sorted(edges):
        ax.plot([px[p], px[q]], [py[p], py[q]], "-", color="0.55", lw=0.9, zorder=1)
        segs.append(((px[p], py[p]), (px[q], py[q])))
    sc = ax.scatter(px[:n], py[:n], c=h.e_above_hull[best] * MEV, cmap=cmap, norm=norm,
                    s=46, edgecolors="k", linewidths=0.4, zorder=3)
    ax.set_aspect("equal")
    ax.set_xlim(-0.25, 1.25)
    ax.set_ylim(-0.15, 1.0)
    ax.axis("off")
    fig.tight_layout()
    ends = corner_labels(ax, [h.end.formulas[i] for i in system], list(zip(px[n:], py[n:])),
                         [(0, -8), (0, -8), (0, 8)])
    labels = [(px[j], py[j], composition_label(h, groups[j]), {"fontsize": 7}) for j in range(n)]
    place_labels(fig, ax, labels, points=list(zip(px, py)), avoid=ends, lines=segs)
    return sc, groups


def make_figure(h, system, campaign, max_color=None):
    """The figure of one system and what it shows: {"groups": [[entry, ...] per composition],
    "candidates": n} (for the tests)."""
    plt = pyplot()
    import matplotlib.colors as mcolors

    ks = h.entries(system)
    eh = h.e_above_hull[ks] * MEV if ks else np.zeros(1)
    vmax = max_color * MEV if max_color else max(float(np.max(eh)), 1.0)
    norm = mcolors.Normalize(vmin=0.0, vmax=vmax)
    cmap = plt.get_cmap("viridis")
    fig, ax = plt.subplots(figsize=(7.5, 5.6) if len(system) == 2 else (7.5, 6.6))
    draw = plot_binary if len(system) == 2 else plot_ternary
    ngroups = len(h.compositions(ks))
    ax.set_title(f"{'-'.join(pretty(h.end.formulas[i]) for i in system)} ({campaign}):\n"
                 f"{len(ks)} candidate{'' if len(ks) == 1 else 's'} at {ngroups} "
                 f"composition{'' if ngroups == 1 else 's'}", fontsize=10)
    cb = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.8)
    cb.set_label("energy above hull (meV/atom)")
    sc, groups = draw(fig, ax, h, system, cmap, norm)
    return fig, {"groups": groups, "candidates": len(ks)}


def main():
    p = ArgumentParser(prog="ms_hull_plot.py", description=__doc__, epilog=EPILOG)
    p.add_argument("output", metavar="OUT.h5", help="output of 'matscreen run' with a hull stage")
    p.add_argument("-o", "--out", metavar="FILE", default="hull.png",
                   help="figure to write (default: hull.png)")
    p.add_argument("--system", metavar="A-B[-C]",
                   help="end members to plot, e.g. SrO-TiO2 or Sr-Ti (default: the system "
                        "with the most candidates)")
    p.add_argument("--list-systems", action="store_true",
                   help="list the chemical systems and their candidates, then exit")
    p.add_argument("--max-color", type=float, default=None, metavar="EV",
                   help="upper end of the colour scale in eV/atom (default: the largest "
                        "energy above the hull plotted)")
    args = p.parse_args()
    with Output(args.output) as out:
        if not out.has("hull"):
            note(f"{args.output} has no /hull ({out.why_missing('hull')}): nothing to plot, "
                 "no figure written")
            return 0
        h = HullData(out)
        campaign = out.attrs.get("campaign", args.output)
    systems = h.systems()
    if args.list_systems:
        for s in sorted(systems, key=lambda s: (len(s), h.system_name(s))):
            forms = sorted({h.formula[k] for k in systems[s]})
            print(f"{h.system_name(s):32s} {len(systems[s]):4d} candidates  {' '.join(forms)}")
        return 0
    system = h.parse_system(args.system) if args.system else h.default_system()
    if system is None:
        note(f"{args.output}: no candidate on the hull spans two end members: nothing to plot, "
             "no figure written")
        return 0
    if len(system) > 3:
        p.error(f"--system {args.system}: {len(system)} end members cannot be drawn in a plane; "
                "name two or three")
    ks = h.entries(system)
    if not ks:
        note(f"no candidate with an energy above the hull in {h.system_name(system)}: only the "
             "end members are drawn")
    fig, _ = make_figure(h, system, campaign, args.max_color)
    save_figure(fig, args.out, f"the hull of {h.system_name(system)}")
    return 0


if __name__ == "__main__":
    run(main)
