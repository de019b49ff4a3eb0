#!/usr/bin/env python3
"""Chart of a matscreen funnel: candidates in and out of each stage, and its time."""
import numpy as np

from matscreen_post import Output
from matscreen_post.cli import ArgumentParser, note, pyplot, run, save_figure

EPILOG = """\
Left: candidates entering and passing each stage (/funnel/count_in, count_out), on a log
scale when the counts span more than two decades (whole numbers on the axis otherwise), with
the candidates each stage removed by status ('rejected' = its keep rule). Right: CPU time
summed over ranks and wall time of each stage (/funnel/cpu_s, wall_s); the title gives the
set-up before the first stage (root attribute setup_wall_s). The legends sit below the
panels, where they cover no bar. The figure format follows the extension of -o (png, pdf,
svg).

example:
  python3 scripts/ms_funnel_chart.py perovskite-oxides.h5 -o funnel.png
"""


def main():
    p = ArgumentParser(prog="ms_funnel_chart.py", description=__doc__, epilog=EPILOG)
    p.add_argument("output", metavar="OUT.h5", help="output of 'matscreen run'")
    p.add_argument("-o", "--out", metavar="FILE", default="funnel.png",
                   help="figure to write (default: funnel.png)")
    args = p.parse_args()
    with Output(args.output) as out:
        f = out.funnel
        campaign = out.attrs.get("campaign", args.output)
        out_attrs = dict(out.attrs)
    if f is None or len(f) == 0:
        note(f"{args.output} has no /funnel table: nothing to plot, no figure written")
        return 0
    fig, _ = make_figure(f, campaign, out_attrs)
    save_figure(fig, args.out, "the funnel chart")
    return 0


def make_figure(f, campaign, attrs):
    """The chart and what it shows: {"stages", "count_in", "count_out", "labels"} (for the tests)."""
    stages = [str(s) for s in f["stage"]]
    cin, cout = f["count_in"].astype(float), f["count_out"].astype(float)
    cols = f.attrs.get("status_columns", [])
    removed = [", ".join(f"{cols[j] if j < len(cols) else j} {int(n)}"
                         for j, n in enumerate(row) if n) for row in f.get("by_status", [])]

    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 0.55 * len(stages) + 2.6),
                                   gridspec_kw={"width_ratios": [3, 2]})
    y = np.arange(len(stages))
    ax1.barh(y + 0.2, cin, height=0.4, color="#9ecae1", label="in")
    ax1.barh(y - 0.2, cout, height=0.4, color="#08519c", label="out")
    positive = np.concatenate([cin[cin > 0], cout[cout > 0]])
    log = positive.size and positive.max() / positive.min() > 100
    if log:
        ax1.set_xscale("log")
    else:
        ax1.xaxis.set_major_locator(MaxNLocator(integer=True))
    labels = []
    for k in range(len(stages)):
        text = f"{int(cout[k])}"
        if k < len(removed) and removed[k]:
            text += f"  ({removed[k]})"
        ax1.text(max(cout[k], positive.min() if positive.size else 1) * (1.05 if log else 1.0), y[k] - 0.2,
                 " " + text, va="center", fontsize=8)
        labels.append(text)
    ax1.set_yticks(y, stages)
    ax1.invert_yaxis()
    ax1.set_xlabel("candidates")
    top = positive.max() if positive.size else 1
    ax1.set_xlim(right=top * (6 if log else 1.6))
    ax1.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, fontsize=8, frameon=False)
    ax1.set_title("candidates per stage")

    ax2.barh(y + 0.2, f["cpu_s"], height=0.4, color="#fdae6b", label="CPU (sum over ranks)")
    ax2.barh(y - 0.2, f["wall_s"], height=0.4, color="#d94801", label="wall")
    ax2.set_yticks(y, [""] * len(stages))
    ax2.invert_yaxis()
    ax2.set_xlabel("time (s)")
    ax2.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, fontsize=8, frameon=False)
    setup = attrs.get("setup_wall_s")
    ax2.set_title("time per stage" + (f" (set-up before them: {float(setup):.2f} s)" if setup is not None else ""))
    fig.suptitle(f"funnel of {campaign}")
    fig.tight_layout()
    return fig, {"stages": stages, "count_in": cin, "count_out": cout, "labels": labels}


if __name__ == "__main__":
    run(main)
