"""Prototype library against an independent expansion, and the lattice guess against measured
lattice constants.

1. Every inputs/prototypes/*.yaml is expanded here in Python with spglib's operations for its
   Hall number (spglib.get_symmetry_from_database) and the file's own coordinate expressions,
   then compared with `matscreen generate` (prototype_substitution, reference ions or plain
   elements, reference lattice, conventional cell): same lattice parameters and the same
   multiset of (species, fractional position) to 1e-6; every orbit has the size of its Wyckoff
   multiplicity. The CIFs are then checked with spglib (space group = the declared one at
   symprec 1e-3), pymatgen (reduced formula = the reference compound), and the primitive cells
   with pymatgen's StructureMatcher against the conventional ones. Where pymatgen has the
   setting (its operations equal spglib's for the Hall number), pymatgen also builds the
   structure from the file's sites with its own operations (Structure.from_spacegroup), which
   must match matscreen's (StructureMatcher).
2. Prototypes with equivalent labels: the assignment and its swap are the same structure
   (StructureMatcher).
3. Lattice guess (radii rule) for the reference compounds of ions and for well-known
   substituted compounds against measured room-temperature lattice constants; `--table` prints
   the markdown tables of docs/generation.md.
4. Lattice guess of plain elements (Zen's law, corrected by a reference compound of elements)
   for elements and intermetallics other than the reference compounds, against measured
   lattice constants.

Usage: check_prototypes.py MATSCREEN [--table]
"""
import ast
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import spglib
import yaml
from pymatgen.core import Composition, Lattice, Structure
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.io.cif import CifParser

ROOT = os.environ.get("MATSCREEN_SOURCE_ROOT",
                      os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PROTO_DIR = os.path.join(ROOT, "inputs", "prototypes")

W63 = "Wyckoff (1963)"
# Measured room-temperature lattice constants (Å) of compounds that are not reference
# compounds of the library: (prototype, ions per label, a, second length or None, source).
# For inverse_spinel the cubic constant a_c is given as the Imma cell a = a_c/sqrt2, c = a_c.
EXTRA = [
    ("rocksalt", {"A": "Mg2+", "X": "O2-"}, 4.212, None, W63),
    ("rocksalt", {"A": "K+", "X": "Cl-"}, 6.293, None, W63),
    ("rocksalt", {"A": "Li+", "X": "F-"}, 4.027, None, W63),
    ("fluorite", {"A": "Ce4+", "X": "O2-"}, 5.411, None, W63),
    ("wurtzite", {"A": "Ga3+", "X": "N3-"}, 3.189, 5.185, "handbook value"),
    ("rutile", {"A": "Sn4+", "X": "O2-"}, 4.737, 3.186, W63),
    ("rutile", {"A": "Mg2+", "X": "F-"}, 4.621, 3.052, W63),
    ("corundum", {"A": "Cr3+", "X": "O2-"}, 4.959, 13.594, W63),
    ("corundum", {"A": "Fe3+", "X": "O2-"}, 5.035, 13.747, W63),
    ("ilmenite", {"A": "Mg2+", "B": "Ti4+", "X": "O2-"}, 5.054, 13.898, W63),
    ("spinel", {"A": "Zn2+", "B": "Al3+", "X": "O2-"}, 8.086, None, W63),
    ("inverse_spinel", {"A": "Fe2+", "B": "Fe3+", "X": "O2-"}, 8.396 / math.sqrt(2), 8.396, W63),
    ("k2nif4", {"A": "Sr2+", "B": "Ti4+", "X": "O2-"}, 3.884, 12.60,
     "Ruddlesden & Popper, Acta Cryst. 10, 538 (1957)"),
    ("scheelite", {"A": "Ba2+", "B": "W6+", "X": "O2-"}, 5.613, 12.720, W63),
    ("pyrochlore", {"A": "Y3+", "B": "Ti4+", "X": "O2-"}, 10.095, None, "handbook value"),
    ("double_perovskite", {"A": "Cs+", "B": "Ag+", "Bp": "Bi3+", "X": "Br-"}, 11.2711, None,
     "McClure et al., Chem. Mater. 28, 1348 (2016)"),
]

PEARSON = "Pearson (1967)"
# Plain elements built in prototypes whose reference compound is another element or
# intermetallic (or, for cscl, the ionic CsCl: Zen's law alone): (prototype, elements per label,
# a, second length or None, source). Room-temperature values.
EXTRA_PLAIN = [
    ("fcc", {"A": "Al"}, 4.0495, None, W63),
    ("fcc", {"A": "Ni"}, 3.5238, None, W63),
    ("fcc", {"A": "Pt"}, 3.9242, None, W63),
    ("fcc", {"A": "Pb"}, 4.9502, None, W63),
    ("bcc", {"A": "Fe"}, 2.8665, None, W63),
    ("bcc", {"A": "Na"}, 4.2906, None, W63),
    ("bcc", {"A": "Ta"}, 3.3058, None, W63),
    ("hcp", {"A": "Ti"}, 2.9508, 4.6855, W63),
    ("hcp", {"A": "Zn"}, 2.6649, 4.9468, W63),
    ("hcp", {"A": "Co"}, 2.5071, 4.0695, W63),
    ("diamond", {"A": "Sn"}, 6.4892, None, W63),
    ("diamond", {"A": "Ge"}, 5.6575, None, W63),
    ("a7", {"A": "Sb"}, 4.3084, 11.274, W63),
    ("a7", {"A": "Bi"}, 4.5460, 11.862, W63),
    ("cscl", {"A": "Ni", "X": "Al"}, 2.887, None, PEARSON),
    ("cscl", {"A": "Cu", "X": "Zn"}, 2.950, None, PEARSON),
    ("l1_2", {"A": "Ni", "B": "Al"}, 3.567, None, PEARSON),
    ("l1_0", {"A": "Fe", "B": "Pt"}, 3.852 / math.sqrt(2), 3.713, PEARSON),
    ("d0_3", {"A": "Fe", "B": "Si"}, 5.655, None, PEARSON),
    ("l2_1", {"A": "Ni", "B": "Mn", "C": "Ga"}, 5.825, None, PEARSON),
    ("c1b", {"A": "Ni", "B": "Zr", "C": "Sn"}, 6.11, None, PEARSON),
    ("alb2", {"A": "Mg", "B": "B"}, 3.086, 3.524, PEARSON),
    ("a15", {"A": "Nb", "B": "Sn"}, 5.289, None, PEARSON),
    ("a15", {"A": "V", "B": "Si"}, 4.722, None, PEARSON),
    ("c11b", {"A": "W", "B": "Si"}, 3.211, 7.868, PEARSON),
    ("pyrite", {"A": "Co", "B": "S"}, 5.535, None, PEARSON),
]


# ---- expressions of the prototype files ---------------------------------------------------

def eval_coord(text, params):
    """Value of "x", "1/2-x", "2x", "0.25" with the site's parameters (a whitelist of AST
    nodes: numbers, names, + - * /)."""
    s = str(text).strip()
    out = []
    for i, ch in enumerate(s):  # "2x" -> "2*x"
        if ch.isalpha() and i > 0 and (s[i - 1].isdigit() or s[i - 1] == "."):
            out.append("*")
        out.append(ch)
    tree = ast.parse("".join(out), mode="eval")

    def ev(n):
        if isinstance(n, ast.Expression):
            return ev(n.body)
        if isinstance(n, ast.Constant) and isinstance(n.value, (int, float)):
            return float(n.value)
        if isinstance(n, ast.Name):
            return float(params[n.id])
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.USub, ast.UAdd)):
            v = ev(n.operand)
            return -v if isinstance(n.op, ast.USub) else v
        if isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
            a, b = ev(n.left), ev(n.right)
            return {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b,
                    ast.Div: a / b if b else float("nan")}[type(n.op)]
        raise ValueError(f"unsupported expression {text!r}")

    return ev(tree)


def lattice_of(p):
    number = p["spacegroup"]["number"]
    t = spglib.get_spacegroup_type(p["spacegroup"]["hall"])
    hexagonal = 168 <= number <= 194 or (143 <= number <= 167 and t["choice"] != "R")
    lat = p["lattice"]
    a = lat["a_A"]
    b = lat.get("b_A", a)
    c = lat.get("c_A", a)
    return Lattice.from_parameters(a, b, c, lat.get("alpha_deg", 90), lat.get("beta_deg", 90),
                                   lat.get("gamma_deg", 120 if hexagonal else 90))


def expand(p):
    """Conventional cell of prototype p (dict from YAML) with its reference ions."""
    ops = spglib.get_symmetry_from_database(p["spacegroup"]["hall"])
    ions = p["reference_compound"]["ions"]
    species, coords = [], []
    for site in p["sites"]:
        x = np.array([eval_coord(v, site.get("params", {})) for v in site["position"]])
        orbit = []
        for R, t in zip(ops["rotations"], ops["translations"]):
            y = (R @ x + t) % 1.0
            if not any(np.linalg.norm(((y - o) + 0.5) % 1.0 - 0.5) < 1e-4 for o in orbit):
                orbit.append(y)
        mult = int("".join(ch for ch in site["wyckoff"] if ch.isdigit()))
        assert len(orbit) == mult, (p["name"], site, len(orbit))
        for y in orbit:
            species.append(ions[site["label"]])
            coords.append(y)
    return Structure(lattice_of(p), species, coords)


# ---- matscreen side -----------------------------------------------------------------------

def generate(exe, items, workdir):
    """Run `matscreen generate` on a campaign with the given search items; return the list of
    structures in id order."""
    os.makedirs(workdir, exist_ok=True)
    camp = os.path.join(workdir, "campaign.yaml")
    with open(camp, "w") as f:
        yaml.safe_dump({"campaign": {"seed": 1}, "search": items}, f, sort_keys=False)
    out = os.path.join(workdir, "out")
    subprocess.run([exe, "--quiet", "generate", camp, "-d", out], check=True)
    rows = [l.rstrip("\n").split(",") for l in open(os.path.join(out, "index.csv"))][1:]
    structs = []
    for r in rows:
        assert r[7] == "ok", r
        parser = CifParser(os.path.join(out, r[8]))
        structs.append(parser.get_structures(primitive=False)[0])
    return structs


def pymatgen_setting(hall):
    """pymatgen's symbol for spglib's Hall setting, when pymatgen has exactly that setting (its
    operations equal spglib's as a set); None otherwise."""
    from pymatgen.symmetry.groups import SpaceGroup
    t = spglib.get_spacegroup_type(hall)
    db = spglib.get_symmetry_from_database(hall)
    want = {(tuple(R.flatten()), tuple(np.round(np.mod(tr, 1.0), 6) % 1.0))
            for R, tr in zip(db["rotations"], db["translations"])}
    names = []
    if t["choice"]:
        names.append(f"{t['international_short']}:{t['choice']}")
    names += [t["international_short"], t["international"], t["international_full"]]
    for name in names:
        try:
            g = SpaceGroup(name)
        except Exception:  # noqa: BLE001 - pymatgen does not know this spelling
            continue
        got = {(tuple(np.round(op.rotation_matrix).astype(int).flatten()),
                tuple(np.round(np.mod(op.translation_vector, 1.0), 6) % 1.0))
               for op in g.symmetry_ops}
        if got == want:
            return name
    return None


def pymatgen_build(p, name):
    """The prototype's conventional cell built by pymatgen from its sites (reference species)."""
    ions = p["reference_compound"]["ions"]
    species, coords = [], []
    for site in p["sites"]:
        species.append(ions[site["label"]])
        coords.append([eval_coord(v, site.get("params", {})) for v in site["position"]])
    return Structure.from_spacegroup(name, lattice_of(p), species, coords, tol=1e-4)


def is_plain(p):
    return all(not any(ch in str(v) for ch in "+-") for v in p["reference_compound"]["ions"].values())


def key_sites(s):
    return sorted((str(site.specie), *[round(v % 1.0, 6) % 1.0 for v in site.frac_coords])
                  for site in s)


def spg_number(s, symprec=1e-3):
    cell = (s.lattice.matrix, s.frac_coords, [sp.Z * 100 + int(round(getattr(sp, "oxi_state", 0) or 0)) for sp in s.species])
    return spglib.get_symmetry_dataset(cell, symprec=symprec)["number"]


def main():
    exe = sys.argv[1]
    table = "--table" in sys.argv
    protos = []
    for fn in sorted(os.listdir(PROTO_DIR)):
        if fn.endswith(".yaml"):
            with open(os.path.join(PROTO_DIR, fn)) as f:
                protos.append(yaml.safe_load(f))
    assert len(protos) >= 24, len(protos)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        # 1. Conventional cells with the reference lattice, and primitive cells.
        items = []
        for p in protos:
            for cell in ("conventional", "primitive"):
                items.append({"generator": "prototype_substitution", "prototypes": [p["name"]],
                              "sites": dict(p["reference_compound"]["ions"]), "cell": cell,
                              "lattice": "reference"})
        got = generate(exe, items, os.path.join(tmp, "a"))
        matcher = StructureMatcher(ltol=1e-3, stol=1e-3, angle_tol=0.01, primitive_cell=True,
                                   scale=False, attempt_supercell=True)
        npmg = 0
        for k, p in enumerate(protos):
            conv, prim = got[2 * k], got[2 * k + 1]
            ref = expand(p)
            ok = True
            la, lb = conv.lattice, ref.lattice
            ok &= np.allclose(la.abc, lb.abc, atol=1e-6) and np.allclose(la.angles, lb.angles, atol=1e-6)
            ka, kb = key_sites(conv), key_sites(ref)
            ok &= len(ka) == len(kb) and all(a[0] == b[0] and np.allclose(a[1:], b[1:], atol=2e-6)
                                             or (a[0] == b[0] and np.allclose(
                                                 (np.array(a[1:]) - np.array(b[1:]) + 0.5) % 1 - 0.5, 0, atol=2e-6))
                                             for a, b in zip(ka, kb))
            declared = p["spacegroup"]["number"]
            sg_conv, sg_prim = spg_number(conv), spg_number(prim)
            ok &= sg_conv == declared and sg_prim == declared
            formula = Composition(p["reference_compound"]["formula"]).reduced_formula
            ok &= conv.composition.reduced_formula == formula
            ok &= prim.composition.reduced_formula == formula
            ok &= abs(conv.volume / prim.volume - len(conv) / len(prim)) < 1e-9
            ok &= matcher.fit(conv, prim)
            # pymatgen's own expansion of the file's sites, where it has the setting
            setting = pymatgen_setting(p["spacegroup"]["hall"])
            pmg = "pymatgen: no such setting"
            if setting:
                built = pymatgen_build(p, setting)
                same = len(built) == len(conv) and matcher.fit(conv, built)
                pmg = f"pymatgen {setting}: {'same' if same else 'DIFFERENT'}"
                ok &= same
                npmg += 1
            print(f"{p['name']:22s} {formula:10s} sg {sg_conv:3d}/{sg_prim:3d} (declared {declared:3d}) "
                  f"{len(conv):3d}/{len(prim):3d} atoms  {pmg:32s} {'ok' if ok else 'MISMATCH'}")
            failures += not ok
        print(f"{len(protos)} prototypes, {npmg} also built by pymatgen")
        failures += len(protos) < 60

        # 2. Equivalent labels: an assignment and its swap are one structure.
        for p in protos:
            for group in p.get("equivalent_labels", []):
                ions = dict(p["reference_compound"]["ions"])
                swapped = dict(ions)
                swapped[group[0]], swapped[group[1]] = ions[group[1]], ions[group[0]]
                items = [{"generator": "prototype_substitution", "prototypes": [p["name"]],
                          "sites": d, "cell": "primitive"} for d in (ions, swapped)]
                a, b = generate(exe, items, os.path.join(tmp, "eq" + p["name"]))
                same = StructureMatcher().fit(a, b)
                print(f"{p['name']}: {group} swapped gives the same structure: {same}")
                failures += not same

        # 3. Lattice guesses.
        rows = []
        for p in protos:
            if is_plain(p):
                continue
            lat = lattice_of(p)
            second = None
            abc = lat.abc
            if abs(abc[2] - abc[0]) > 1e-6:
                second = abc[2] if abs(abc[1] - abc[0]) < 1e-6 else (abc[1], abc[2])
            rows.append((p["name"], dict(p["reference_compound"]["ions"]), abc[0], second,
                         "reference compound"))
        for e in EXTRA:
            rows.append(e)
        mean, worst, lines = lattice_table(exe, rows, os.path.join(tmp, "lat"))
        print(f"lattice guess: {len(rows)} compounds, mean |error| {mean:.2f} %, worst {worst:.2f} %")
        if table:
            print("\n".join(lines))
        failures += not (mean < 3.0 and worst < 7.0)

        # 4. Plain elements: Zen's law against measured lattice constants.
        mean, worst, lines = lattice_table(exe, EXTRA_PLAIN, os.path.join(tmp, "latp"))
        print(f"lattice of plain elements: {len(EXTRA_PLAIN)} compounds, mean |error| {mean:.2f} %, "
              f"worst {worst:.2f} %")
        if table:
            print("\n".join(lines))
        failures += not (mean < 4.0 and worst < 12.0)
    print("FAILED" if failures else "all prototype checks passed")
    return 1 if failures else 0


def lattice_table(exe, rows, workdir):
    """Guessed against measured lattice lengths: (mean |error| %, worst %, markdown lines)."""
    items = [{"generator": "prototype_substitution", "prototypes": [r[0]],
              "sites": {k: v for k, v in r[1].items()}, "cell": "conventional"} for r in rows]
    got = generate(exe, items, workdir)
    errors = []
    lines = ["| compound | prototype | a guess | a exp | err % | c (or b, c) guess | exp | err % | source |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r, s in zip(rows, got):
        name, ions, a_exp, second, src = r
        abc = s.lattice.abc
        ea = 100 * (abc[0] / a_exp - 1)
        errors.append(abs(ea))
        sec_g, sec_e, sec_err = "", "", ""
        if second is not None:
            if isinstance(second, tuple):
                sec_g = f"{abc[1]:.3f}, {abc[2]:.3f}"
                sec_e = f"{second[0]:.3f}, {second[1]:.3f}"
                es = [100 * (abc[1] / second[0] - 1), 100 * (abc[2] / second[1] - 1)]
                sec_err = ", ".join(f"{v:+.1f}" for v in es)
                errors.extend(abs(v) for v in es)
            else:
                sec_g, sec_e = f"{abc[2]:.3f}", f"{second:.3f}"
                v = 100 * (abc[2] / second - 1)
                sec_err = f"{v:+.1f}"
                errors.append(abs(v))
        formula = s.composition.reduced_formula
        lines.append(f"| {formula} | {name} | {abc[0]:.3f} | {a_exp:.3f} | {ea:+.1f} | {sec_g} | "
                     f"{sec_e} | {sec_err} | {src} |")
    return float(np.mean(errors)), float(np.max(errors)), lines


if __name__ == "__main__":
    sys.exit(main())
