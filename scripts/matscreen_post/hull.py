"""Formation energies relative to the hull's end members, chemical systems and lower hulls, for
plots of the convex hull of a matscreen output.

The hull stage of `matscreen run` builds the hull of the relaxed, deduplicated candidates
together with end-member references (/hull/reference_*: for oxides the binary oxide of each
cation). Its components are those end members, so for a plot:

- the composition of an entry is its vector x of atom fractions of the end members, solved
  from its formula (SrTiO3 = 0.4 SrO + 0.6 TiO2 in atoms: SrO has 2 atoms, TiO2 has 3);
- its formation energy per atom is E - sum_i x_i E_i, with E its relaxed energy per atom
  (/candidates/e_relaxed_eV_per_atom) and E_i the lowest energy per atom of end member i
  among the reference (/hull/reference_energy_eV_per_atom) and the candidates of that same
  composition, as the hull code does (docs/stability.md);
- its chemical system is the set of end members with x_i > 0.

The entries are the candidates with a finite e_above_hull_eV_per_atom (the relaxed survivors of
dedup; duplicates have NaN). A point on the boundary of the composition simplex only sees the
hull of that face, so the hull of a sub-system drawn from these entries gives the same energies
above the hull as the full one; hull_plot() checks that.
"""
import itertools
import re

import numpy as np

from .reader import MatscreenError

_TOKEN = re.compile(r"([A-Z][a-z]?)(\d*\.?\d*)")
TOL = 1e-9


def parse_formula(text):
    """'La2GaFeO6' -> {'La': 2.0, 'Ga': 1.0, 'Fe': 1.0, 'O': 6.0} (flat formulas, as matscreen
    writes them)."""
    text = text.strip()
    parts = _TOKEN.findall(text)
    if not text or "".join(e + n for e, n in parts) != text:
        raise MatscreenError(f"cannot read the formula '{text}'")
    out = {}
    for el, n in parts:
        out[el] = out.get(el, 0.0) + (float(n) if n else 1.0)
    return out


def atom_fractions(comp, elements):
    """Per-atom element vector of a composition over the given element order."""
    total = sum(comp.values())
    return np.array([comp.get(e, 0.0) / total for e in elements])


class EndMembers:
    """The hull's components: formulas, energies per atom, and the solver of compositions into
    atom fractions of them."""

    def __init__(self, formulas, energies):
        self.formulas = [str(x) for x in formulas]
        self.energies = np.array(energies, dtype=float)
        comps = [parse_formula(f) for f in self.formulas]
        self.elements = sorted({e for c in comps for e in c})
        self.matrix = np.array([atom_fractions(c, self.elements) for c in comps]).T

    def fractions(self, formula):
        """Atom fractions of the end members (sum 1) that make @formula, or None if it is not a
        non-negative combination of them."""
        comp = parse_formula(formula)
        if any(e not in self.elements for e in comp):
            return None
        target = atom_fractions(comp, self.elements)
        # Only end members whose elements all occur in the formula can take part.
        use = [i for i, f in enumerate(self.formulas)
               if set(parse_formula(f)) <= set(comp)]
        if not use:
            return None
        x, *_ = np.linalg.lstsq(self.matrix[:, use], target, rcond=None)
        if np.abs(self.matrix[:, use] @ x - target).max() > 1e-9 or x.min() < -1e-9:
            return None
        full = np.zeros(len(self.formulas))
        full[use] = np.clip(x, 0.0, None)
        return full / full.sum()

    def index(self, name):
        """Index of an end member by formula (exact, or same reduced composition)."""
        if name in self.formulas:
            return self.formulas.index(name)
        try:
            target = parse_formula(name)
        except MatscreenError:
            return None
        els = sorted(target)
        for i, f in enumerate(self.formulas):
            c = parse_formula(f)
            if sorted(c) == els and np.allclose(atom_fractions(c, els), atom_fractions(target, els)):
                return i
        return None


class HullData:
    """Entries of the hull of an output: ids, formulas, prototypes, relaxed energies,
    energies above the hull (from the file), end-member fractions and formation energies."""

    def __init__(self, out):
        hull = out.require("hull")
        c = out.require("candidates")
        refs = hull["references"]
        self.end = EndMembers(refs["reference_formula"], refs["reference_energy_eV_per_atom"])
        self.prototypes = [str(x) for x in refs.get("reference_prototype", [""] * len(self.end.formulas))]
        self.stable_ids = set(int(i) for i in hull["stable_candidate_id"])
        eh = c["e_above_hull_eV_per_atom"]
        e = c["e_relaxed_eV_per_atom"]
        keep = np.isfinite(eh) & np.isfinite(e)
        self.ids = np.asarray(c["id"][keep], dtype=np.int64)
        self.formula = [str(x) for x in c["formula"][keep]]
        self.prototype = [str(x) for x in c["prototype"][keep]] if "prototype" in c else [""] * len(self.ids)
        # the library prototype the relaxed structure matches (dedup), else the start prototype
        stype = [str(x) for x in c["structure_type"][keep]] if "structure_type" in c else [""] * len(self.ids)
        self.structure = [s or p for s, p in zip(stype, self.prototype)]
        self.energy = np.asarray(e[keep], dtype=float)
        self.e_above_hull = np.asarray(eh[keep], dtype=float)
        fr = [self.end.fractions(f) for f in self.formula]
        bad = [f for f, x in zip(self.formula, fr) if x is None]
        if bad:
            raise MatscreenError(f"{out.path}: {bad[0]} is not a combination of the hull's end "
                                 f"members ({', '.join(self.end.formulas)})")
        self.x = np.array(fr).reshape(len(self.ids), len(self.end.formulas))
        # Lowest energy per atom of each end member: its reference or a candidate of its
        # composition, whichever is lower (the hull code's corners).
        self.corner_energy = self.end.energies.copy()
        for k in range(len(self.ids)):
            i = np.nonzero(self.x[k] > 1 - TOL)[0]
            if i.size:
                self.corner_energy[i[0]] = min(self.corner_energy[i[0]], self.energy[k])
        self.formation = self.energy - self.x @ self.corner_energy

    def support(self, k):
        """End-member indices entry k is made of."""
        return tuple(int(i) for i in np.nonzero(self.x[k] > TOL)[0])

    def systems(self):
        """{system (tuple of end-member indices, >= 2): entries whose composition lies in it},
        for every system some entry spans."""
        spans = {self.support(k) for k in range(len(self.ids))}
        spans = {s for s in spans if len(s) >= 2}
        out = {}
        for s in spans:
            out[s] = [k for k in range(len(self.ids)) if set(self.support(k)) <= set(s)]
        return out

    def system_name(self, system):
        return "-".join(self.end.formulas[i] for i in system)

    def parse_system(self, text):
        """'SrO-TiO2' or 'Sr-Ti' (cations: the end member holding each) -> tuple of indices.
        An element that every end member holds (the anion) is ignored."""
        parts = [p for p in re.split(r"[-,\s]+", text.strip()) if p]
        common = set.intersection(*(set(parse_formula(f)) for f in self.end.formulas))
        idx = []
        for p in parts:
            i = self.end.index(p)
            if i is None and re.fullmatch(r"[A-Z][a-z]?", p):
                if p in common:
                    continue
                holders = [j for j, f in enumerate(self.end.formulas) if p in parse_formula(f)]
                i = holders[0] if len(holders) == 1 else None
            if i is None:
                raise MatscreenError(f"--system {text}: '{p}' is not an end member of the hull "
                                     f"(end members: {', '.join(self.end.formulas)})")
            if i not in idx:
                idx.append(i)
        if len(idx) < 2:
            raise MatscreenError(f"--system {text}: name at least two end members, e.g. "
                                 f"{self.end.formulas[0]}-{self.end.formulas[-1]}")
        return tuple(idx)

    def default_system(self):
        """The system with the most entries (ties: fewer components, then name); None if no
        entry spans two end members."""
        sy = self.systems()
        if not sy:
            return None
        return min(sy, key=lambda s: (-len(sy[s]), len(s), self.system_name(s)))

    def entries(self, system):
        """Entry indices whose composition lies in @system."""
        return [k for k in range(len(self.ids)) if set(self.support(k)) <= set(system)]

    def compositions(self, ks):
        """The entries @ks grouped by composition: a list of lists of entry indices, each sorted
        by energy (the first is the lowest), the groups in order of their lowest entry."""
        groups = []
        for k in sorted(ks, key=lambda k: (self.energy[k], self.ids[k])):
            for g in groups:
                if np.abs(self.x[g[0]] - self.x[k]).max() < TOL:
                    g.append(k)
                    break
            else:
                groups.append([k])
        return groups


def lower_hull_2d(x, y):
    """Vertices (indices, by increasing x) of the lower convex hull of points (x, y); points
    within 1e-9 eV/atom of a hull edge are left out (Andrew's monotone chain)."""
    order = sorted(range(len(x)), key=lambda i: (x[i], y[i]))
    # Lowest point of each composition only.
    uniq = []
    for i in order:
        if uniq and abs(x[uniq[-1]] - x[i]) < TOL:
            continue
        uniq.append(i)
    hull = []
    for i in uniq:
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            cross = (x[b] - x[a]) * (y[i] - y[a]) - (y[b] - y[a]) * (x[i] - x[a])
            if cross <= TOL * (x[i] - x[a]):
                hull.pop()
            else:
                break
        hull.append(i)
    return hull


def above_hull_2d(x, y, hull):
    """Height of each point above the piecewise-linear lower hull through the given vertices."""
    hx, hy = np.asarray(x)[hull], np.asarray(y)[hull]
    return np.asarray(y) - np.interp(x, hx, hy)


def lower_facets_3(bary, y, candidates):
    """Lower-hull triangles of points in a ternary: @bary are (n, 3) atom fractions, @y the
    formation energies, @candidates the indices that may be vertices (the stable entries and
    the corners). Returns index triples whose plane has no candidate below it (brute force:
    the stable set is small)."""
    pts = [(bary[i, 1], bary[i, 2], y[i]) for i in candidates]
    facets = []
    for a, b, c in itertools.combinations(range(len(pts)), 3):
        p, q, r = (np.array(pts[k]) for k in (a, b, c))
        area = (q[0] - p[0]) * (r[1] - p[1]) - (r[0] - p[0]) * (q[1] - p[1])
        if abs(area) < 1e-12:
            continue
        # plane z = u + v*s + w*t through the three points
        m = np.array([[1, p[0], p[1]], [1, q[0], q[1]], [1, r[0], r[1]]])
        u, v, w = np.linalg.solve(m, [p[2], q[2], r[2]])
        below = [k for k, s in enumerate(pts) if s[2] < u + v * s[0] + w * s[1] - 1e-9]
        if below:
            continue
        # a triangle with another vertex inside it is covered by smaller ones
        inside = False
        for k, s in enumerate(pts):
            if k in (a, b, c):
                continue
            l1 = ((q[0] - s[0]) * (r[1] - s[1]) - (r[0] - s[0]) * (q[1] - s[1])) / area
            l2 = ((r[0] - s[0]) * (p[1] - s[1]) - (p[0] - s[0]) * (r[1] - s[1])) / area
            l3 = 1 - l1 - l2
            if min(l1, l2, l3) > -1e-9 and abs(s[2] - (u + v * s[0] + w * s[1])) < 1e-9:
                inside = True
                break
        if not inside:
            facets.append((candidates[a], candidates[b], candidates[c]))
    return facets
