"""What the ms_*.py scripts share: argument parsing with matscreen's exit codes, messages,
and a matplotlib without a display.

Exit codes, as for matscreen itself: 0 success (also when a part was skipped because the file
lacks a group: the script says so on stderr), 1 bad input or usage, 2 unexpected failure.
"""
import argparse
import os
import sys

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


def save_figure(fig, path, what):
    """Write the figure (creating missing directories); the format follows the extension (png,
    pdf, svg)."""
    make_parent_dirs(path)
    fig.savefig(path, dpi=150, bbox_inches="tight")
    print(f"{PROG}: wrote {what} to {path}", file=sys.stderr)
