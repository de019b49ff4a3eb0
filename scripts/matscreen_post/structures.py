"""Structures stored in a matscreen output as pymatgen Structures or ASE Atoms.

A candidate set is one of
  "survivors"        the rows of /structures that passed every stage (survived = 1), in file order;
  "shortlist"        the candidates of /shortlist, in priority order;
  "ids:3,15,60"      or any iterable of ints: those candidate ids, in the given order.
An id without a stored structure raises MissingStructure naming it; "shortlist" on a file
without /shortlist raises MissingGroup. These are the sets `matscreen export --what` takes.

Sites keep their order in the file. Oxidation states become pymatgen Species (Sr2+) and, for
ASE, the per-site array `oxi_states` (the name pymatgen's AseAtomsAdaptor maps to Species and
that `matscreen export --format extxyz` writes); the candidate id is in `atoms.info`.
pymatgen and ASE are imported only when these loaders are called.
"""
import re

import numpy as np

from .reader import MatscreenError, Output

_SPECIES = re.compile(r"^([A-Z][a-z]?)(?:(\d*\.?\d*)([+-]))?$")


class MissingStructure(MatscreenError):
    """A requested candidate has no stored structure."""


def parse_species(text):
    """'Sr2+' -> ('Sr', 2.0); 'O2-' -> ('O', -2.0); 'Na+' -> ('Na', 1.0); 'Ti' -> ('Ti', None)."""
    m = _SPECIES.match(text.strip())
    if not m:
        raise MatscreenError(f"'{text}' is not a species such as Sr2+ or O2-")
    el, mag, sign = m.groups()
    if sign is None:
        return el, None
    value = float(mag) if mag else 1.0
    return el, value if sign == "+" else -value


def parse_selection(which):
    """'survivors' | 'shortlist' | 'ids:LIST' | iterable of ints -> ('survivors'|'shortlist',
    None) or ('ids', [ids])."""
    if isinstance(which, str):
        if which in ("survivors", "shortlist"):
            return which, None
        if which.startswith("ids:"):
            try:
                ids = [int(x) for x in which[4:].split(",")]
            except ValueError:
                raise MatscreenError(f"'{which}': expected ids:LIST with candidate ids "
                                     "separated by commas") from None
            if not ids or min(ids) < 0:
                raise MatscreenError(f"'{which}': candidate ids are non-negative integers")
            return "ids", ids
        raise MatscreenError(f"'{which}': expected survivors, shortlist or ids:LIST")
    return "ids", [int(x) for x in which]


def _open(source):
    return (source, False) if isinstance(source, Output) else (Output(source), True)


def _explain(out, cid):
    """Why candidate @cid has no stored structure (for the error message)."""
    c = out.candidates
    if c is None or "id" not in c:
        return "no stored structure"
    rows = np.nonzero(c["id"] == cid)[0]
    if rows.size == 0:
        return "no such candidate in the file"
    r = rows[0]
    if "duplicate_of" in c and c["duplicate_of"][r] >= 0:
        return f"no stored structure: it is a duplicate of candidate {int(c['duplicate_of'][r])}"
    status = str(c["status"][r]) if "status" in c else "unknown"
    return f"no stored structure (status {status}; /structures holds the relaxed survivors)"


def structure_rows(source, which="survivors"):
    """The stored structures of a candidate set as a list of dicts with candidate_id, formula
    (from /candidates when present, else ''), lattice_A (3x3, rows, Å), species (list of str,
    e.g. 'Sr2+') and frac_positions (n x 3). @source is a path or an open Output."""
    out, owned = _open(source)
    try:
        kind, ids = parse_selection(which)
        s = out.structures
        if kind == "shortlist":
            ids = [int(x) for x in out.require("shortlist")["candidate_id"]]
        if s is None:
            if kind == "survivors":
                return []
            if not ids:
                return []
            raise MissingStructure(f"{out.path}: candidate {ids[0]}: "
                                   f"{out.why_missing('structures')}")
        row_of = {}
        for k, cid in enumerate(s["candidate_id"]):
            row_of.setdefault(int(cid), k)
        if kind == "survivors":
            # rows that passed every stage (files written before the flag existed: every row)
            surv = s["survived"] if "survived" in s else None
            rows = [k for k in range(len(s["candidate_id"])) if surv is None or surv[k]]
        else:
            rows, seen = [], set()
            for cid in ids:
                if cid not in row_of:
                    src = "from /shortlist" if kind == "shortlist" else "requested"
                    raise MissingStructure(f"{out.path}: candidate {cid} ({src}): {_explain(out, cid)}")
                if cid not in seen:
                    seen.add(cid)
                    rows.append(row_of[cid])
        formula = {}
        c = out.candidates
        if c is not None and "formula" in c:
            formula = dict(zip((int(i) for i in c["id"]), (str(x) for x in c["formula"])))
        result = []
        for k in rows:
            o, n = int(s["offset"][k]), int(s["natoms"][k])
            cid = int(s["candidate_id"][k])
            result.append({
                "candidate_id": cid,
                "formula": formula.get(cid, ""),
                "lattice_A": np.array(s["lattice_A"][k], dtype=float).reshape(3, 3),
                "species": [str(x) for x in s["species"][o:o + n]],
                "frac_positions": np.array(s["frac_positions"][o:o + n], dtype=float),
            })
        return result
    finally:
        if owned:
            out.close()


def to_pymatgen(row):
    """One structure row -> pymatgen Structure with Species (oxidation states) on the sites."""
    from pymatgen.core import Element, Lattice, Species, Structure

    species = []
    for text in row["species"]:
        el, ox = parse_species(text)
        species.append(Element(el) if ox is None else Species(el, ox))
    return Structure(Lattice(row["lattice_A"]), species, row["frac_positions"],
                     coords_are_cartesian=False)


def to_ase(row):
    """One structure row -> ase.Atoms with the cell, scaled positions, pbc, the per-site
    array 'oxi_states' (when every site has one) and info['candidate_id']."""
    from ase import Atoms

    parsed = [parse_species(t) for t in row["species"]]
    atoms = Atoms(symbols=[el for el, _ in parsed], cell=row["lattice_A"],
                  scaled_positions=row["frac_positions"], pbc=True)
    if all(ox is not None for _, ox in parsed):
        atoms.set_array("oxi_states", np.array([ox for _, ox in parsed], dtype=float))
    atoms.info["candidate_id"] = row["candidate_id"]
    if row.get("formula"):
        atoms.info["formula"] = row["formula"]
    return atoms


def load_pymatgen(source, which="survivors"):
    """{candidate_id: pymatgen Structure} for a candidate set, in the set's order."""
    return {r["candidate_id"]: to_pymatgen(r) for r in structure_rows(source, which)}


def load_ase(source, which="survivors"):
    """{candidate_id: ase.Atoms} for a candidate set, in the set's order."""
    return {r["candidate_id"]: to_ase(r) for r in structure_rows(source, which)}
