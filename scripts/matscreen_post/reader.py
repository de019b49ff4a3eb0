"""Reading the HDF5 output of `matscreen run` (layout: docs/output.md) into numpy arrays.

Each group becomes a Table: a dict from dataset name to numpy array, with fixed-width strings
decoded to `str`, the unit of each column in `.units` (taken from the name suffix the schema
uses: `_eV_per_atom`, `_A`, `_s`, `_e`) and the group's attributes in `.attrs`.

Groups that depend on the campaign (`/hull` needs a hull stage, `/shortlist` a shortlist
stage, `/structures` holds rows only after a relax stage) may be absent or empty; the
`read_*` functions then return None and `Output.missing()` says why, so a script can print
what is missing and skip that part instead of failing.

This is the only module that knows dataset names and layouts; the scripts and
matscreen_post.structures go through it.
"""
import os

import numpy as np

from .checksums import DamagedFile, Manifest

# Name suffix -> unit, longest first (docs/output.md puts units in dataset names).
_UNIT_SUFFIXES = (("_eV_per_atom", "eV/atom"), ("_GPa", "GPa"), ("_A", "Å"), ("_s", "s"),
                  ("_e", "e"))

# Why a group is absent, for messages. Anything not listed is reported as plain "absent".
_WHY_ABSENT = {
    "hull": "the campaign has no hull stage",
    "structures": "the campaign has no relax stage, so no relaxed structures were stored",
    "shortlist": "the campaign has no shortlist stage (or the file predates it)",
    "funnel": "the file predates the funnel table",
    "candidates": "no candidate table",
    "config": "no campaign text stored",
}


class MatscreenError(Exception):
    """A matscreen output that cannot be used as asked (missing file, group or id)."""


class MissingGroup(MatscreenError):
    """A group the caller needs is not in the file."""


class DamagedOutput(MatscreenError):
    """A dataset or attribute whose content does not match the checksum written with the file."""


def _read(f, path):
    """The values of dataset @path, checked against the file's checksums when it has them
    (files of older matscreen versions have none)."""
    man = getattr(f, "_matscreen_manifest", None)
    if man is None:
        return f[path][()]
    try:
        return man.read(f, path)
    except DamagedFile as exc:
        raise DamagedOutput(str(exc)) from exc


def unit_of(name):
    """Unit of a dataset from its name ('e_relaxed_eV_per_atom' -> 'eV/atom'; '' if none)."""
    for suffix, unit in _UNIT_SUFFIXES:
        if name.endswith(suffix):
            return unit
    return ""


def _decode(value):
    """Fixed-width bytes (and arrays of them) to str; everything else unchanged."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "S":
            return np.char.decode(value, "utf-8", errors="replace") if value.size else value.astype(str)
        if value.dtype.kind == "O":
            return np.array([_decode(v) for v in value.ravel()], dtype=object).reshape(value.shape)
    if isinstance(value, np.generic):
        return value.item()
    return value


class Table(dict):
    """Columns of one group: name -> numpy array. `units[name]` is the unit ('' if none),
    `attrs` the group's attributes, `name` the group, len() the number of rows of the first
    dimension shared by the columns (0 for an empty table)."""

    def __init__(self, name, columns, attrs=None):
        super().__init__(columns)
        self.name = name
        self.units = {k: unit_of(k) for k in columns}
        self.attrs = dict(attrs or {})

    def __len__(self):
        for v in self.values():
            return int(v.shape[0]) if v.ndim else 1
        return 0

    @property
    def nrows(self):
        return len(self)

    def row(self, i):
        """Row i as a dict of Python scalars (arrays for multi-dimensional columns)."""
        out = {}
        for k, v in self.items():
            x = v[i]
            out[k] = x.item() if isinstance(x, np.generic) else x
        return out

    def select(self, mask_or_index):
        """A new Table with the rows picked by a boolean mask or an index array."""
        return Table(self.name, {k: v[mask_or_index] for k, v in self.items()}, self.attrs)


def _h5py():
    try:
        import h5py
    except ImportError as exc:  # pragma: no cover - depends on the interpreter
        raise MatscreenError("h5py is not installed for this Python; run the scripts with a "
                             "python3 that has it (Debian: /usr/bin/python3, package "
                             "python3-h5py)") from exc
    return h5py


def read_attributes(f, obj="/"):
    """Attributes of an object of the open file as a dict of Python values (strings decoded)."""
    return {k: _decode(v) for k, v in f[obj].attrs.items()}


def has_group(f, name):
    """True when group @name exists and is a group."""
    h5py = _h5py()
    return name.strip("/") in f and isinstance(f[name.strip("/")], h5py.Group)


def read_table(f, group, columns=None):
    """Datasets of @group as a Table (None if the group is absent). @columns limits which are
    read; a listed column that is absent is left out (older files may lack new columns)."""
    h5py = _h5py()
    if not has_group(f, group):
        return None
    g = f[group.strip("/")]
    names = [k for k in g if isinstance(g[k], h5py.Dataset)]
    man = getattr(f, "_matscreen_manifest", None)
    if man is not None:
        prefix = g.name.rstrip("/") + "/"
        lost = sorted(p for p in man.digest if p.startswith(prefix) and "/" not in p[len(prefix):]
                      and p[len(prefix):] not in names)
        if lost:
            raise DamagedOutput("%s: dataset %s is missing (it is listed in the checksums written with the file)"
                                % (man.label, lost[0]))
    if columns is not None:
        names = [k for k in columns if k in names]
    return Table(group.strip("/"), {k: _decode(_read(f, g[k].name)) for k in names}, read_attributes(f, g.name))


def read_candidates(f):
    """/candidates: one row per candidate, sorted by id."""
    return read_table(f, "candidates")


def read_funnel(f):
    """/funnel: one row per stage. `attrs['status_columns']` lists the column names of the
    2-D `by_status` counts (from the dataset's `columns` attribute)."""
    t = read_table(f, "funnel")
    if t is None:
        return None
    cols = ""
    if "by_status" in f["funnel"]:
        cols = _decode(f["funnel/by_status"].attrs.get("columns", b""))
    t.attrs["status_columns"] = [c for c in str(cols).split(",") if c]
    return t


def read_structures(f):
    """/structures: the stored (relaxed) structures in compressed rows, or None when the file
    has none (group absent or empty). Per-structure columns: candidate_id, natoms, offset,
    lattice_A [n, 3, 3]; per-site columns (rows offset[k] .. offset[k] + natoms[k] - 1):
    species, frac_positions [total, 3]. Use matscreen_post.structures to get structures."""
    t = read_table(f, "structures")
    if t is None or "candidate_id" not in t or len(t["candidate_id"]) == 0:
        return None
    return t


def read_shortlist(f):
    """/shortlist: the prioritised candidates (candidate_id, priority, score, formula, ...;
    attribute `round`), sorted by priority; None when the file has no shortlist."""
    t = read_table(f, "shortlist")
    if t is None or "candidate_id" not in t:
        return None
    if "priority" in t and len(t):
        t = t.select(np.lexsort((t["candidate_id"], t["priority"])))
    return t


class Hull(dict):
    """The hull group: `references` is a Table of the end members (reference_formula,
    reference_prototype, reference_energy_eV_per_atom), `stable_candidate_id` the ids of the
    candidates on the hull, `attrs` the group's attributes. Per-candidate results
    (e_above_hull_eV_per_atom, decomposition) are columns of /candidates."""


def read_hull(f):
    """/hull, or None when the file has no hull.

    Everything that knows the layout of /hull is here: one hull whose components are the
    end-member references. If the layout changes (e.g. one hull per chemical system), adapt
    this function and keep the Hull it returns."""
    if not has_group(f, "hull"):
        return None
    g = f["hull"]
    ref_cols = [k for k in ("reference_formula", "reference_prototype",
                            "reference_energy_eV_per_atom") if k in g]
    refs = Table("hull", {k: _decode(_read(f, g[k].name)) for k in ref_cols}, read_attributes(f, "hull"))
    stable = _read(f, "hull/stable_candidate_id") if "stable_candidate_id" in g else np.zeros(0, np.int64)
    return Hull(references=refs, stable_candidate_id=np.asarray(stable, dtype=np.int64),
                attrs=read_attributes(f, "hull"))


def read_config(f):
    """{'given': YAML text as given, 'resolved': with defaults} (keys present in the file)."""
    out = {}
    if has_group(f, "config"):
        for k in ("given", "resolved"):
            if k in f["config"]:
                v = _decode(_read(f, "config/" + k))
                out[k] = str(v[0]) if isinstance(v, np.ndarray) and v.size else str(v)
    return out


class Output:
    """An open matscreen output. Groups are read on first use and kept:

        with Output("perovskite-oxides.h5") as out:
            c = out.candidates           # Table, or None
            print(out.attrs["campaign"], len(c), c.units["e_relaxed_eV_per_atom"])
            for group, why in out.missing(): print(group, why)
    """

    def __init__(self, path):
        h5py = _h5py()
        self.path = os.fspath(path)
        if not os.path.exists(self.path):
            raise MatscreenError(f"{self.path}: no such file")
        if os.path.isdir(self.path):
            raise MatscreenError(f"{self.path}: is a directory, expected an HDF5 file")
        if not h5py.is_hdf5(self.path):
            raise MatscreenError(f"{self.path}: not an HDF5 file (expected the output of "
                                 "'matscreen run')")
        self.file = h5py.File(self.path, "r")
        self.attrs = read_attributes(self.file)
        if self.attrs.get("program") != "matscreen" and "candidates" not in self.file:
            self.file.close()
            raise MatscreenError(f"{self.path}: not a matscreen output (no 'program' attribute "
                                 "and no /candidates group)")
        try:
            manifest = Manifest.of(self.file, self.path)
        except DamagedFile as exc:
            self.file.close()
            raise DamagedOutput(str(exc)) from exc
        # Every dataset read through this module is checked against it (_read).
        self.file._matscreen_manifest = manifest
        self.checksums = manifest
        self._cache = {}

    def verify(self):
        """[(dataset, verdict)] for every dataset ('ok' or why not); [] for files without
        checksums (self.checksums is None)."""
        return self.checksums.check_all(self.file) if self.checksums else []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.file:
            self.file.close()
            self.file = None

    def _get(self, key, fn):
        if key not in self._cache:
            self._cache[key] = fn(self.file)
        return self._cache[key]

    @property
    def candidates(self):
        return self._get("candidates", read_candidates)

    @property
    def funnel(self):
        return self._get("funnel", read_funnel)

    @property
    def structures(self):
        return self._get("structures", read_structures)

    @property
    def hull(self):
        return self._get("hull", read_hull)

    @property
    def shortlist(self):
        return self._get("shortlist", read_shortlist)

    @property
    def config(self):
        return self._get("config", read_config)

    def has(self, group):
        """True when the group is present with content (an empty /structures counts as absent)."""
        if group == "structures":
            return self.structures is not None
        return has_group(self.file, group)

    def why_missing(self, group):
        if group == "structures" and has_group(self.file, "structures"):
            return "no structure was stored (no candidate survived a relax stage)"
        return _WHY_ABSENT.get(group, "absent")

    def missing(self, groups=("candidates", "funnel", "structures", "hull", "shortlist")):
        """[(group, reason)] for the listed groups that are absent or empty."""
        return [(g, self.why_missing(g)) for g in groups if not self.has(g)]

    def require(self, group):
        """The group's content, or MissingGroup naming the file, the group and the reason."""
        value = getattr(self, group)
        if value is None:
            raise MissingGroup(f"{self.path} has no /{group}: {self.why_missing(group)}")
        return value


def open_output(path):
    """Output(path); raises MatscreenError with a clear message for unusable files."""
    return Output(path)
