#!/usr/bin/env python3
"""Give a `matscreen run` output a /shortlist group for the lab-queue tests.

usage: queue_make_fixture.py OUT.h5 [--round R] [--id-offset K] [--rows N]

The group follows the layout `matscreen queue push` reads (docs/labqueue.md): the survivors of
the hull stage that have a relaxed structure, sorted by energy above the hull (then id), with
priority 1, 2, ... in that order, score = -e_above_hull, a made-up uncertainty of
0.01 + 0.001 * priority eV/atom (so that uncertainty values are distinguishable), and the hull
decomposition copied from /candidates. Strings are fixed-width and NUL-padded, as matscreen
writes them.

--id-offset adds K to every candidate id (candidates that then have no structure in
/structures: the tickets of such rows have no CIF); --rows keeps the first N rows.
A file that already has a /shortlist is left alone (exit 0, a note on stderr).
"""
import argparse
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from matscreen_post.checksums import seal  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("h5")
    ap.add_argument("--round", type=int, default=0)
    ap.add_argument("--id-offset", type=int, default=0)
    ap.add_argument("--rows", type=int, default=0)
    a = ap.parse_args()
    with h5py.File(a.h5, "r+") as f:
        if "shortlist" in f:
            print(f"{a.h5}: already has /shortlist, left as it is", file=sys.stderr)
            return 0
        c = f["candidates"]
        ids = c["id"][:]
        ehull = c["e_above_hull_eV_per_atom"][:]
        kept = (c["rejected_at_stage"][:] == -1) & np.isfinite(ehull)
        with_structure = np.isin(ids, f["structures/candidate_id"][:])
        rows = np.flatnonzero(kept & with_structure)
        rows = rows[np.lexsort((ids[rows], ehull[rows]))]
        if a.rows:
            rows = rows[: a.rows]
        n = len(rows)
        if n == 0:
            print(f"{a.h5}: no hull survivors with a structure", file=sys.stderr)
            return 1
        g = f.create_group("shortlist")
        prio = np.arange(1, n + 1, dtype=np.int32)
        g["candidate_id"] = (ids[rows] + a.id_offset).astype(np.int64)
        g["priority"] = prio
        g["score"] = -ehull[rows].astype(np.float64)
        g["e_above_hull_eV_per_atom"] = ehull[rows].astype(np.float64)
        g["uncertainty_eV_per_atom"] = 0.01 + 0.001 * prio.astype(np.float64)
        g["formula"] = c["formula"][:][rows].astype("S32")
        g["prototype"] = c["prototype"][:][rows].astype("S48")
        g["spacegroup"] = c["spacegroup"][:][rows].astype(np.int32)
        g["decomposition"] = c["decomposition"][:][rows].astype("S96")
        g["novelty"] = np.array([b"unchecked"] * n, dtype="S16")
        g["known_match"] = np.array([b""] * n, dtype="S64")
        g.attrs["round"] = np.int64(a.round)
        g.attrs["acquisition"] = np.bytes_("greedy")
        seal(f)  # changed on purpose: new checksums, so that `queue push` accepts it
    print(f"{a.h5}: /shortlist with {n} rows (round {a.round})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
