"""Guessed oxidation states (`--guess-oxidation-states`, src/core/oxidation.c) against
pymatgen's add_oxidation_state_by_guess, computed here on the same compositions.

usage: check_guess.py MATSCREEN

- 45 compounds (oxides, mixed-valence oxides, sulfides, halides, nitrides, hydrides, ternaries
  and quaternaries): matscreen's states equal pymatgen's for every element (to 1e-3, so
  Fe3O4's 8/3 counts);
- where the chemistry is ambiguous and pymatgen ranks by ICSD statistics the rule differs on
  purpose (docs/models.md, "Oxidation states"): CuFeO2 Cu2+ Fe2+ (pymatgen Cu+ Fe3+), FeS2
  Fe2+ S- (pymatgen Fe3+ S1.5-), and Na2O2 Na+ O- (pymatgen finds none);
- no guess for an element, an intermetallic (NiAl) or a superoxide (KO2): status error with the
  reason, and the other structures are still evaluated;
- the guess does not depend on the order of the atoms (every structure also reversed).
"""
import json
import re
import subprocess
import sys
import tempfile
import warnings

import numpy as np

warnings.filterwarnings("ignore")
from pymatgen.core import Composition, Lattice, Structure  # noqa: E402

MS = sys.argv[1]
AGREE = ("NaCl MgO Al2O3 Fe2O3 FeO Fe3O4 Co3O4 Mn3O4 TiO2 SrTiO3 BaTiO3 LiCoO2 LiFePO4 CaCO3 ZnS GaN "
         "CdTe SnO2 SnS Cu2O CuO V2O5 VO2 MoO3 WO3 La2CuO4 NiO Cr2O3 MnO2 KMnO4 CsPbI3 NaNO3 Li2O CaF2 "
         "MgAl2O4 ZrSiO4 Bi2O3 PbO2 Ti2O3 MoS2 YBa2Cu3O7 LiMn2O4 SiO2 CH4 NH3").split()
DIFFER = {"CuFeO2": {"Cu": 2, "Fe": 2, "O": -2}, "FeS2": {"Fe": 2, "S": -1}, "Na2O2": {"Na": 1, "O": -1}}
NONE = ["Si", "NiAl", "KO2"]
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


def structure(formula, seed):
    c = Composition(formula)
    species = [el.symbol for el, n in c.items() for _ in range(int(n))]
    L = 8.0 * max(1, len(species)) ** (1 / 3)
    pos = np.random.default_rng(seed).random((len(species), 3)) * L
    return Structure(Lattice.cubic(L), species, pos, coords_are_cartesian=True)


def parse(text):
    out = {}
    for tok in text.split():
        m = re.fullmatch(r"([A-Z][a-z]?)([0-9.]*)([+-])", tok)
        out[m.group(1)] = (float(m.group(2)) if m.group(2) else 1.0) * (1 if m.group(3) == "+" else -1)
    return out


def main():
    names = AGREE + list(DIFFER) + NONE
    frames = []
    for k, f in enumerate(names):
        s = structure(f, k)
        frames.append((f, s))
        frames.append((f + "_reversed", Structure(s.lattice, s.species[::-1], s.cart_coords[::-1],
                                                  coords_are_cartesian=True)))
    with tempfile.NamedTemporaryFile("w", suffix=".extxyz", delete=False) as fh:
        for label, s in frames:
            fh.write('%d\nLattice="%s" Properties=species:S:1:pos:R:3 label=%s\n'
                     % (len(s), " ".join(repr(x) for x in s.lattice.matrix.ravel()), label))
            for site in s:
                fh.write("%s %r %r %r\n" % (site.specie.symbol, *site.coords))
        path = fh.name
    # `coulomb`: point charges from the oxidation states only, any element (it needs charges)
    r = subprocess.run([MS, "energy", path, "--potential", "coulomb", "--guess-oxidation-states", "--json"],
                       capture_output=True, text=True)
    res = {}
    for line in r.stdout.splitlines():
        x = json.loads(line)
        res[x["label"]] = x
    check(r.returncode == 1 and "%d of %d" % (2 * len(NONE), len(frames)) in r.stderr,
          "exit 1 naming the %d structures without a guess: %s" % (2 * len(NONE), r.stderr.strip()[-120:]))
    for label, s in frames:
        base = label.replace("_reversed", "")
        x = res.get(label, {})
        if base in NONE:
            check(x.get("status") == "error" and "cannot guess oxidation states" in x.get("detail", ""),
                  "%s: no guess, status error" % label)
            continue
        got = parse(x.get("oxidation_states_guessed", ""))
        if base in DIFFER:
            want = DIFFER[base]
        else:
            g = s.copy()
            g.add_oxidation_state_by_guess()
            want = {site.specie.symbol: site.specie.oxi_state for site in g}
        ok = got.keys() == want.keys() and all(abs(got[k] - want[k]) < 1e-3 for k in want)
        check(ok, "%s: %s (expected %s)" % (label, x.get("oxidation_states_guessed"), want))
    print("%d failure(s)" % len(failures))
    sys.exit(1 if failures else 0)


main()
