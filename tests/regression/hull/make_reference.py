#!/usr/bin/env python3
"""Make the pymatgen references for the convex-hull regression test (check_hull.py).

Run from the repository root with Debian's python3-pymatgen (2022.11.7 made the stored files):

    tests/util/python.sh tests/regression/hull/make_reference.py

Writes tests/regression/hull/sets/<name>.csv: entries (formula, energy_per_atom_eV, id) that
`matscreen hull` reads, plus pymatgen's values in extra columns the command ignores:
ref_e_above_hull (PhaseDiagram.get_e_above_hull), ref_formation_energy
(get_form_energy_per_atom), ref_stable (entry among stable_entries), ref_decomposition
("id:fraction;..." from get_decomp_and_e_above_hull) and kind (element, compound, dup,
onfacet, flat). The sets (gen_hull.random_set with the seeds below) cover 2 to 5 elements and:
- duplicates: the same formula and energy twice, and rescaled formulas (Fe2O3 / Fe4O6);
- onfacet: mixtures of 2..C vertices of a random pymatgen facet in integer formula units, with
  the energy of the mixture, i.e. points on the hull (up to rounding) that are not vertices;
- flat3: a ternary where every compound lies on the plane of the elements (formation energy 0
  up to rounding) or above it, so the whole hull is one degenerate facet.

Also writes large_<name>.txt for the bigger sets of gen_hull.LARGE, which check_hull.py
regenerates at test time: a "# sha256 HASH" line of the CSV text, then one line per entry:
e_above_hull (9 significant digits) and stable.
"""
import os
import sys

from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
from pymatgen.core import Composition

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import gen_hull  # noqa: E402

SMALL = {
    # name: (seed, components, compounds, on-facet points)
    "s2": (12, 2, 150, 25),
    "s3": (13, 3, 250, 40),
    "s4": (14, 4, 300, 40),
    "s5": (15, 5, 300, 40),
}


def entries_of(rows):
    out = []
    for f, e, ident in rows:
        c = Composition(f)
        out.append(PDEntry(c, e * c.num_atoms, name=ident))
    return out


def int_formula(comp):
    parts = []
    for el, n in comp.items():
        n = int(round(n))
        parts.append(f"{el.symbol}{n if n != 1 else ''}")
    return "".join(parts)


def reference_columns(rows):
    es = entries_of(rows)
    pd = PhaseDiagram(es)
    stable = {id(e) for e in pd.stable_entries}
    eah, form, st, dec = [], [], [], []
    for e in es:
        d, ea = pd.get_decomp_and_e_above_hull(e)
        eah.append(repr(float(ea)))
        form.append(repr(float(pd.get_form_energy_per_atom(e))))
        st.append(int(id(e) in stable))
        dec.append(";".join(f"{p.name}:{amt!r}" for p, amt in sorted(d.items(), key=lambda x: x[0].name)))
    return pd, eah, form, st, dec


def on_facet_rows(pd, rng, count):
    rows = []
    vertices_by_facet = [[pd.qhull_entries[i] for i in f] for f in pd.facets]
    for k in range(count):
        verts = vertices_by_facet[rng.randint(0, len(vertices_by_facet) - 1)]
        m = rng.randint(2, len(verts))
        chosen = rng.sample(verts, m)
        comp = Composition()
        energy = 0.0
        for v in chosen:
            n = rng.randint(1, 3)
            red, factor = v.composition.get_reduced_composition_and_factor()
            comp += red * n
            energy += n * v.energy_per_atom * red.num_atoms
        rows.append((int_formula(comp), energy / comp.num_atoms, f"facet{k}"))
    return rows


def kinds(rows):
    out = []
    for _, _, ident in rows:
        out.append("element" if "_" in ident and not ident.startswith("c") else
                   "dup" if ident.startswith("dup") else
                   "onfacet" if ident.startswith("facet") else
                   "flat" if ident.startswith("flat") else "compound")
    return out


def write_small(name, rows):
    pd, eah, form, st, dec = reference_columns(rows)
    text = gen_hull.csv_text(rows, [("ref_e_above_hull", eah), ("ref_formation_energy", form),
                                    ("ref_stable", st), ("ref_decomposition", dec),
                                    ("kind", kinds(rows))])
    os.makedirs(os.path.join(here, "sets"), exist_ok=True)
    with open(os.path.join(here, "sets", name + ".csv"), "w") as fp:
        fp.write(text)
    print(f"{name}: {len(rows)} entries, {len(pd.stable_entries)} stable")


def main():
    for name, (seed, ncomp, nc, nfacet) in SMALL.items():
        rows = gen_hull.random_set(seed, ncomp, nc)
        pd = PhaseDiagram(entries_of(rows))
        rows += on_facet_rows(pd, gen_hull.Rng(seed + 1000), nfacet)
        write_small(name, rows)
    # The degenerate ternary: compounds on or above the plane of the elements.
    r = gen_hull.Rng(99)
    els = ["Mg", "Al", "O"]
    e_el = {"Mg": -1.5, "Al": -3.75, "O": -4.875}
    rows = [("Mg", e_el["Mg"], "Mg_0"), ("Al", e_el["Al"], "Al_0"), ("O2", e_el["O"], "O_0")]
    for i in range(120):
        amounts = [(el, r.randint(0, 5)) for el in els]
        amounts = [(el, n) for el, n in amounts if n > 0]
        if len(amounts) < 2:
            continue
        natoms = sum(n for _, n in amounts)
        e = sum(n * e_el[el] for el, n in amounts) / natoms
        if i % 3 == 0:
            e += r.uniform(0.0, 0.2)
        rows.append((gen_hull.formula(amounts), e, f"flat{i}"))
    write_small("flat3", rows)

    for name in gen_hull.LARGE:
        rows = gen_hull.large_rows(name)
        text = gen_hull.csv_text(rows)
        pd, eah, form, st, _ = reference_columns(rows)
        with open(os.path.join(here, f"large_{name}.txt"), "w") as fp:
            fp.write(f"# sha256 {gen_hull.sha256(text)}\n")
            fp.write("# e_above_hull stable (pymatgen PhaseDiagram)\n")
            for a, c in zip(eah, st):
                fp.write(f"{float(a):.9g} {c}\n")
        print(f"{name}: {len(rows)} entries, {len(pd.stable_entries)} stable")


if __name__ == "__main__":
    main()
