"""What the ms_*.py scripts share: argument parsing with matscreen's exit codes, messages,
and a matplotlib without a display.

Exit codes, as for matscreen itself: 0 success (also when a part was skipped because the file
lacks a group: the script says so on stderr), 1 bad input or usage, 2 unexpected failure.
"""
import argparse
import os
import sys

import numpy as np

from .reader import MatscreenError

PROG = os.path.basename(sys.argv[0]) or "matscreen_post"


class ArgumentParser(argparse.ArgumentParser):
    """argparse with usage errors exiting 1 (argparse's own default is 2, which matscreen
    uses for runtime failures)."""

    def __init__(self, **kw):
        kw.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(**kw)

    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(1)


def note(message):
    """Tell the user about a skipped part (missing group, nothing to plot)."""
    print(f"{PROG}: note: {message}", file=sys.stderr)


def run(main):
    """Call main() and turn matscreen and file errors into one message and exit code 1."""
    try:
        code = main()
    except MatscreenError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        code = 1
    except OSError as exc:
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"{PROG}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        code = 1
    except BrokenPipeError:
        code = 0
    sys.exit(code or 0)


def pyplot():
    """matplotlib.pyplot on the Agg backend (files only, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def make_parent_dirs(path):
    """Create the missing directories of an output file, as matscreen's commands do."""
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)


# Offsets (points) tried in turn for a label next to its point: below, above, right, left,
# then the diagonals and twice as far.
_OFFSETS = [(0, -9), (0, 9), (9, 0), (-9, 0), (9, -9), (-9, -9), (9, 9), (-9, 9),
            (0, -20), (0, 20), (20, 0), (-20, 0), (18, -16), (-18, -16), (18, 16), (-18, 16)]


def place_labels(fig, ax, labels, points=(), marker_pt=5.0, avoid=(), lines=()):
    """Annotate points without overlaps: @labels is a list of (x, y, text, kwargs) in data
    coordinates. Each label takes the first offset of _OFFSETS at which its box overlaps no
    label placed before, no marker of @points (data coordinates; radius @marker_pt points)
    and no tick label, artist of @avoid or line of @lines (segments ((x0, y0), (x1, y1)) in
    data coordinates), and stays inside the axes; if none is free, the least crowded one.
    Call it after the layout is final (fig.tight_layout()): offsets are in points, so they keep
    their size when the figure is saved at another resolution. Returns the annotations."""
    from matplotlib.transforms import Bbox

    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    px = fig.dpi / 72.0
    taken = [t.get_window_extent(r) for t in ax.get_xticklabels() + ax.get_yticklabels() if t.get_text()]
    taken += [a.get_window_extent(r) for a in avoid]
    for (x, y) in points:
        cx, cy = ax.transData.transform((x, y))
        m = marker_pt * px
        taken.append(Bbox([[cx - m, cy - m], [cx + m, cy + m]]))
    for p0, p1 in lines:  # small boxes every 3 pixels along each line
        a, b = ax.transData.transform(p0), ax.transData.transform(p1)
        m = 1.5 * px
        for t in np.linspace(0, 1, max(2, int(np.hypot(*(b - a)) / 3) + 1)):
            cx, cy = a + t * (b - a)
            taken.append(Bbox([[cx - m, cy - m], [cx + m, cy + m]]))
    frame = ax.get_window_extent(r)
    placed = []
    for (x, y, text, kw) in labels:
        best, best_bad = None, None
        for dx, dy in _OFFSETS:
            ha = "center" if dx == 0 else ("left" if dx > 0 else "right")
            va = "center" if dy == 0 else ("bottom" if dy > 0 else "top")
            a = ax.annotate(text, (x, y), textcoords="offset points", xytext=(dx, dy), ha=ha, va=va, **kw)
            bb = a.get_window_extent(r)
            bad = sum(1 for t in taken if bb.overlaps(t))
            bad += 0 if (frame.contains(bb.x0, bb.y0) and frame.contains(bb.x1, bb.y1)) else 1
            if best is None or bad < best_bad:
                if best:
                    best[0].remove()
                best, best_bad = (a, bb), bad
            else:
                a.remove()
            if best_bad == 0:
                break
        taken.append(best[1])
        placed.append(best[0])
    return placed


def save_figure(fig, path, what):
    """Write the figure (creating missing directories); the format follows the extension (png,
    pdf, svg)."""
    make_parent_dirs(path)
    fig.savefig(path, dpi=150, bbox_inches="tight")
    print(f"{PROG}: wrote {what} to {path}", file=sys.stderr)
