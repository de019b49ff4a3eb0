"""Tables of a `matscreen run` output for comparing runs (shared by the reliability tests):
every dataset under /candidates, /structures, /hull (with its per-system groups), /funnel and
/shortlist, except wall times, which differ between any two runs."""
import h5py
import numpy as np

GROUPS = ("candidates", "structures", "hull", "funnel", "shortlist", "lab")


def tables(path):
    out = {}
    with h5py.File(path, "r") as f:
        for g in GROUPS:
            if g not in f:
                continue

            def take(name, obj, g=g):
                leaf = name.rsplit("/", 1)[-1]
                if isinstance(obj, h5py.Dataset) and not (leaf.endswith("time_s") or leaf in ("cpu_s", "wall_s")):
                    out[g + "/" + name] = obj[()]

            f[g].visititems(take)
    return out


def same(a, b):
    """(True, "") when the two table sets are identical (NaN equal to NaN), else (False, why)."""
    if a.keys() != b.keys():
        return False, "datasets differ: %s" % sorted(set(a) ^ set(b))
    for k in a:
        x, y = a[k], b[k]
        if x.shape != y.shape:
            return False, "%s shape %s vs %s" % (k, x.shape, y.shape)
        eq = np.array_equal(x, y, equal_nan=True) if x.dtype.kind == "f" else np.array_equal(x, y)
        if not eq:
            return False, k
    return True, ""
