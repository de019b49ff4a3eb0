"""Every figure the plotting scripts make, rendered and looked at by a program.

usage: check_figures.py MATSCREEN MPIEXEC SOURCE_ROOT

The perovskite and random-search examples run (2 ranks); then each script's make_figure draws
every figure it can make of them: the funnel charts, the hull of every binary and ternary
system, the energy histograms (single point and relaxed, by prototype and by generator). On each
rendered figure:

1. no two texts overlap (titles, axis and tick labels, annotations, legend entries, colour
   bar), and no text leaves the figure;
2. no axis has an offset or scale text (the "1e-7-3.139708e1" of a histogram of nearly equal
   energies);
3. count axes have whole-number ticks;
4. no legend covers a bar or a point;
5. the numbers shown are those of the HDF5 file, read here with h5py: the hull plot's
   candidates and compositions per system (the title once said "6 candidates" over 3 visible
   points) and a label for every composition; the histogram's counts per group and in total,
   energies relative to the best of each composition (computed here); the funnel chart's bars
   and labels against /funnel.
"""
import os
import re
import sys
import tempfile
from types import SimpleNamespace

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from post_common import check, finish, run_campaign  # noqa: E402

exe, mpiexec, root = (os.path.abspath(x) if os.sep in x else x for x in sys.argv[1:4])
sys.path.insert(0, os.path.join(root, "scripts"))
import ms_energy_dist  # noqa: E402
import ms_funnel_chart  # noqa: E402
import ms_hull_plot  # noqa: E402
from matscreen_post import Output  # noqa: E402
from matscreen_post.cli import pyplot  # noqa: E402
from matscreen_post.hull import HullData  # noqa: E402

plt = pyplot()
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402


def texts_of(fig):
    """Every visible, non-empty text the figure draws: suptitle and figure texts; per axes the
    titles, axis labels, the tick labels of ticks inside the view, texts and annotations, the
    legend's title and entries."""
    out = list(fig.texts)
    if getattr(fig, "_suptitle", None) is not None:
        out.append(fig._suptitle)
    for ax in fig.axes:
        out += [ax.title, ax._left_title, ax._right_title]
        if ax.axison:  # axis("off") draws neither ticks nor axis labels
            out += [ax.xaxis.label, ax.yaxis.label]
        for axis, lim in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())) if ax.axison else ():
            lo, hi = min(lim), max(lim)
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if lo - 1e-9 <= tick.get_loc() <= hi + 1e-9:
                    out += [lab for lab in (tick.label1, tick.label2) if lab.get_visible()]
        out += list(ax.texts)
        leg = ax.get_legend()
        if leg is not None and leg.get_visible():
            out += [leg.get_title()] + list(leg.get_texts())
    return [t for t in dict.fromkeys(out) if t.get_visible() and t.get_text().strip()]


def problems_of(fig, what, count_axes=()):
    """What is wrong with a rendered figure (a list of messages; empty when nothing is)."""
    bad = []
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    frame = fig.bbox
    texts = texts_of(fig)
    boxes = [(t, t.get_window_extent(r)) for t in texts]
    for t, bb in boxes:
        if not (bb.x0 >= frame.x0 - 1 and bb.x1 <= frame.x1 + 1 and bb.y0 >= frame.y0 - 1 and bb.y1 <= frame.y1 + 1):
            bad.append(f"{what}: '{t.get_text()[:40]}' leaves the figure")
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            a, b = boxes[i][1], boxes[j][1]
            # overlap by more than a pixel in both directions
            if min(a.x1, b.x1) - max(a.x0, b.x0) > 1 and min(a.y1, b.y1) - max(a.y0, b.y0) > 1:
                bad.append(f"{what}: '{boxes[i][0].get_text()[:30]}' overlaps '{boxes[j][0].get_text()[:30]}'")
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_offset_text().get_text():
                bad.append(f"{what}: offset text '{axis.get_offset_text().get_text()}'")
    for ax, name in count_axes:
        axis = ax.yaxis if name == "y" else ax.xaxis
        lo, hi = sorted(ax.get_ylim() if name == "y" else ax.get_xlim())
        locs = [x for x in axis.get_majorticklocs() if lo <= x <= hi]
        if not locs or any(abs(x - round(x)) > 1e-9 for x in locs):
            bad.append(f"{what}: count ticks {locs} are not whole numbers")
    for ax in fig.axes:
        leg = ax.get_legend()
        if leg is None:
            continue
        lb = leg.get_window_extent(r)
        for p in ax.patches:
            if isinstance(p, Rectangle) and p.get_width() != 0 and p.get_height() != 0 and p.get_visible():
                bb = p.get_window_extent(r)
                if bb.width > 0.5 and bb.height > 0.5 and lb.overlaps(bb):
                    bad.append(f"{what}: the legend covers a bar")
                    break
        for c in ax.collections:
            if isinstance(c, PathCollection):
                for xy in c.get_offsets():
                    px, py = ax.transData.transform(xy)
                    if lb.contains(px, py):
                        bad.append(f"{what}: the legend covers a point")
                        break
    return bad, [t.get_text() for t in texts]


def check_figure(fig, what, count_axes=()):
    bad, texts = problems_of(fig, what, count_axes)
    for b in bad:
        check(False, b)
    return texts


def self_test():
    """The checks can fail: figures with each defect the issue named are caught."""
    fig, ax = plt.subplots()
    e = -31.39708 + 1e-7 * np.arange(40) / 40  # nearly equal energies: an offset axis label
    ax.hist(e, bins=7, label="random_search (40)")
    ax.legend(loc="upper left")  # over the first bars
    ax.text(0.5, 0.5, "label one", transform=ax.transAxes)
    ax.text(0.5, 0.5, "label two", transform=ax.transAxes)
    ax.set_ylim(0, 6)  # the bars reach the legend
    ax.yaxis.set_ticks([0, 1.5, 3, 4.5])
    bad, _ = problems_of(fig, "bad", count_axes=[(ax, "y")])
    for want in ("offset text", "overlaps", "not whole numbers", "legend covers a bar"):
        check(any(want in b for b in bad), f"self test: a figure with '{want}' is caught: {bad}")
    plt.close(fig)


def hull_figures(path, campaign):
    with Output(path) as out:
        h = HullData(out)
    with h5py.File(path, "r") as f:
        c = f["candidates"]
        eh = c["e_above_hull_eV_per_atom"][()]
        formula = [x.decode() for x in c["formula"][()]]
    finite = [k for k in range(len(eh)) if np.isfinite(eh[k])]
    n = 0
    for system in sorted(h.systems(), key=lambda s: h.system_name(s)):
        if len(system) > 3:
            continue
        fig, drawn = ms_hull_plot.make_figure(h, system, campaign)
        what = f"hull {h.system_name(system)}"
        texts = check_figure(fig, what)
        # candidates of the system, from the file: compositions made of its end members only
        ends = [h.end.formulas[i] for i in system]
        members = [k for k in finite if h.end.fractions(formula[k]) is not None
                   and set(np.nonzero(h.end.fractions(formula[k]) > 1e-9)[0]) <= set(system)]
        comps = {formula[k] for k in members}
        title = fig.axes[0].get_title()
        m = re.search(r"(\d+) candidates? at (\d+) compositions?", title)
        check(m and int(m.group(1)) == len(members) and int(m.group(2)) == len(comps),
              f"{what}: title '{title}' vs {len(members)} candidates at {len(comps)} compositions in the file")
        plain = [re.sub(r"\$_\{(\d+)\}\$", r"\1", t) for t in texts]
        for fo in comps:
            check(any(t.split("\n")[0].strip() == fo for t in plain), f"{what}: no label for {fo}")
        for e in ends:
            check(e in plain, f"{what}: end member {e} not labelled")
        pts = sum(len(col.get_offsets()) for col in fig.axes[0].collections if isinstance(col, PathCollection))
        want = len(members) + 2 if len(system) == 2 else len(comps)  # binary: + the end members
        check(pts == want, f"{what}: {pts} points drawn, {want} expected")
        plt.close(fig)
        n += 1
    return n


def hist_figures(path, campaign):
    n = 0
    with Output(path) as out:
        c = out.candidates
    with h5py.File(path, "r") as f:
        cc = f["candidates"]
        raw = {k: cc[k][()] for k in ("e_single_point_eV_per_atom", "e_relaxed_eV_per_atom", "formula",
                                      "prototype", "generator")}
    formula = [x.decode() for x in raw["formula"]]
    for energy in ("single_point", "relaxed"):
        col = ms_energy_dist.COLUMN[energy]
        e = raw[col]
        ok = np.isfinite(e)
        best = {fo: min(e[k] for k in range(len(e)) if ok[k] and formula[k] == fo) for fo in set(formula[k] for k in range(len(e)) if ok[k])}
        rel = [(e[k] - best[formula[k]]) * 1000 for k in range(len(e)) if ok[k]]
        for by in ("prototype", "generator"):
            args = SimpleNamespace(by=by, energy=energy, bins=40, output=path)
            fig, drawn = ms_energy_dist.make_figure(c, col, args, campaign)
            what = f"histogram {energy} by {by} of {campaign}"
            ax = fig.axes[0]
            check_figure(fig, what, count_axes=[(ax, "y")])
            counts = np.asarray(drawn["counts"])
            check(int(round(counts[-1].sum())) == int(ok.sum()), f"{what}: {counts[-1].sum()} counted, {ok.sum()} in the file")
            check(drawn["missing"] == int((~ok).sum()), f"{what}: missing {drawn['missing']}")
            labels = [x.decode() for x in raw[by]]
            if by == "prototype":
                labels = [x or f"({g.decode()})" for x, g in zip(labels, raw["generator"])]
            for name, cnt in drawn["groups"]:
                if not name.startswith("other"):
                    check(cnt == sum(1 for k in range(len(e)) if ok[k] and labels[k] == name),
                          f"{what}: group {name} has {cnt}")
                check(any(t.get_text() == f"{name} ({cnt})" for t in ax.get_legend().get_texts()),
                      f"{what}: legend entry '{name} ({cnt})'")
            edges = drawn["edges"]
            check(edges[0] == 0 and min(rel) == 0 and max(rel) <= edges[-1], f"{what}: energies relative to the best")
            want, _ = np.histogram(rel, bins=edges)
            check(np.array_equal(np.round(counts[-1]).astype(int), want), f"{what}: bin counts {counts[-1]} vs {want}")
            check("meV/atom" in ax.get_xlabel(), f"{what}: x label {ax.get_xlabel()}")
            plt.close(fig)
            n += 1
    return n


def funnel_figure(path, campaign):
    with Output(path) as out:
        f = out.funnel
        attrs = dict(out.attrs)
    fig, drawn = ms_funnel_chart.make_figure(f, campaign, attrs)
    what = f"funnel of {campaign}"
    ax1 = fig.axes[0]
    count_axes = [] if ax1.get_xscale() == "log" else [(ax1, "x")]
    texts = check_figure(fig, what, count_axes=count_axes)
    with h5py.File(path, "r") as h:
        stages = [x.decode() for x in h["funnel/stage"][()]]
        cout = h["funnel/count_out"][()]
        cin = h["funnel/count_in"][()]
    check(drawn["stages"] == stages, f"{what}: stages")
    widths = sorted(p.get_width() for p in ax1.patches if isinstance(p, Rectangle))
    check(widths == sorted(list(map(float, cin)) + list(map(float, cout))), f"{what}: bar lengths are /funnel counts")
    for k, s in enumerate(stages):
        check(any(t.strip().startswith(f"{cout[k]}") for t in texts if t.strip()[:1].isdigit()), f"{what}: {s} count label")
    check(f"{attrs['setup_wall_s']:.2f} s" in fig.axes[1].get_title(), f"{what}: set-up time in the title")
    plt.close(fig)
    return 1


self_test()
with tempfile.TemporaryDirectory() as tmp:
    nfig = 0
    for name in ("perovskite-oxides", "random-search-srtio3"):
        out = run_campaign(exe, mpiexec, os.path.join(root, "examples", name, "campaign.yaml"),
                           os.path.join(tmp, name + ".h5"))
        nfig += funnel_figure(out, name)
        nfig += hist_figures(out, name)
        with h5py.File(out, "r") as f:
            has_hull = "hull" in f
        if has_hull:
            nfig += hull_figures(out, name)
    check(nfig >= 30, f"{nfig} figures looked at")
    print(f"{nfig} figures rendered and checked", file=sys.stderr)
finish("figures")
