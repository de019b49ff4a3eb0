#!/usr/bin/env python3
"""Regression test of `matscreen convert` against pymatgen and ASE.

Structures are built in memory with pymatgen (SrTiO3, rutile TiO2, corundum Al2O3, spinel
MgAl2O4, wurtzite ZnO, a triclinic cell; with and without oxidation states) and with ASE, and
written as CIF by pymatgen's CifWriter (with symprec, so symmetry operations must be expanded,
and without, P1) and by ASE. Each CIF goes through

    matscreen convert X.cif X.extxyz   -> read with ase.io.read + pymatgen's AseAtomsAdaptor
    matscreen convert X.cif X.vasp     -> read with pymatgen's Poscar and ASE (elements: the
                                          species line has plain symbols), and converted back
                                          to CIF by matscreen (oxidation states from the
                                          position labels)
    matscreen convert X.cif Y.cif      -> read with pymatgen's CifParser

and the result is compared with the structure that was written (for symmetrized CIFs, which
hold spglib's standard cell, with what pymatgen's CifParser reads from them): lattice parameters to 1e-6 Å
and 1e-6 degrees (the orientation may differ, so the metric is compared), every site matched
one to one within 1e-5 Å (periodic distance, reference metric), species and oxidation states
equal.

usage: tests/util/python.sh tests/regression/io/check_convert.py MATSCREEN
"""
import io
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import ase
import ase.build
import ase.io
from ase.spacegroup import crystal
from pymatgen.core import Lattice, Structure
from pymatgen.io.ase import AseAtomsAdaptor
from pymatgen.io.cif import CifParser, CifWriter
from pymatgen.io.vasp import Poscar

LEN_TOL = 1e-6   # Å
ANG_TOL = 1e-6   # degrees
SITE_TOL = 1e-5  # Å

# pymatgen notes that it rounds 0.33333333 to 1/3 when reading; expected, not a problem.
warnings.filterwarnings("ignore", message="Issues encountered while parsing CIF")

failures = []


def species_key(site):
    sp = site.specie
    return (sp.symbol, round(float(getattr(sp, "oxi_state", 0.0) or 0.0), 6),
            getattr(sp, "oxi_state", None) is not None)


def compare(ref, got, what, elements_only=False):
    """Compare pymatgen Structures ref and got (with @elements_only, species by element: a
    POSCAR's species line has plain symbols); record failures."""
    if elements_only:
        ref = ref.copy()
        ref.remove_oxidation_states()
    errs = []
    if len(ref) != len(got):
        errs.append("%d sites, expected %d" % (len(got), len(ref)))
    for x, y, name in zip(ref.lattice.abc, got.lattice.abc, "abc"):
        if abs(x - y) > LEN_TOL:
            errs.append("%s = %.10f, expected %.10f" % (name, y, x))
    for x, y, name in zip(ref.lattice.angles, got.lattice.angles, ("alpha", "beta", "gamma")):
        if abs(x - y) > ANG_TOL:
            errs.append("%s = %.10f, expected %.10f" % (name, y, x))
    g_ref = ref.lattice.matrix @ ref.lattice.matrix.T
    g_got = got.lattice.matrix @ got.lattice.matrix.T
    if np.max(np.abs(g_ref - g_got)) > 1e-5:
        errs.append("metric tensors differ by %.3g Å^2" % np.max(np.abs(g_ref - g_got)))
    if not errs:
        used = set()
        L = ref.lattice.matrix
        for i, s in enumerate(ref):
            best, best_j = None, None
            for j, t in enumerate(got):
                if j in used or species_key(s) != species_key(t):
                    continue
                d = s.frac_coords - t.frac_coords
                d -= np.round(d)
                dist = min(np.linalg.norm((d + np.array(n)) @ L)
                           for n in np.ndindex(3, 3, 3) for n in [np.array(n) - 1])
                if best is None or dist < best:
                    best, best_j = dist, j
            if best is None or best > SITE_TOL:
                errs.append("site %d %s %s has no partner (nearest %s Å)"
                            % (i, s.species_string, np.round(s.frac_coords, 6), best))
                if len(errs) > 5:
                    break
            else:
                used.add(best_j)
    status = "ok" if not errs else "FAIL"
    print("%-4s %s (%d sites)" % (status, what, len(ref)))
    for e in errs:
        print("       " + e)
    if errs:
        failures.append(what)


def run(matscreen, *args):
    r = subprocess.run([matscreen, "convert", *args], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("matscreen convert %s failed (%d): %s" % (" ".join(args), r.returncode,
                                                                      r.stderr.strip()))


def check_file(matscreen, tmp, name, cif_text, ref):
    path = os.path.join(tmp, name + ".cif")
    with open(path, "w") as fh:
        fh.write(cif_text)
    try:
        run(matscreen, path, os.path.join(tmp, name + ".extxyz"))
        atoms = ase.io.read(os.path.join(tmp, name + ".extxyz"), format="extxyz")
        compare(ref, AseAtomsAdaptor.get_structure(atoms), name + ": cif -> extxyz (ASE)")
        run(matscreen, path, os.path.join(tmp, name + ".vasp"))
        compare(ref, Poscar.from_file(os.path.join(tmp, name + ".vasp")).structure,
                name + ": cif -> POSCAR (pymatgen)", elements_only=True)
        compare(ref, AseAtomsAdaptor.get_structure(ase.io.read(os.path.join(tmp, name + ".vasp"), format="vasp")),
                name + ": cif -> POSCAR (ASE)", elements_only=True)
        # the oxidation states come back through matscreen's own reader (position labels)
        run(matscreen, os.path.join(tmp, name + ".vasp"), os.path.join(tmp, name + "_vasp.cif"))
        compare(ref, CifParser(os.path.join(tmp, name + "_vasp.cif")).get_structures(primitive=False)[0],
                name + ": cif -> POSCAR -> cif (pymatgen)")
        run(matscreen, path, os.path.join(tmp, name + "_out.cif"))
        back = CifParser(os.path.join(tmp, name + "_out.cif")).get_structures(primitive=False)[0]
        compare(ref, back, name + ": cif -> cif (pymatgen)")
    except RuntimeError as e:
        print("FAIL %s: %s" % (name, e))
        failures.append(name)


def pymatgen_cases():
    rng = np.random.default_rng(7)
    srtio3 = Structure.from_spacegroup("Pm-3m", Lattice.cubic(3.905), ["Sr", "Ti", "O"],
                                       [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0]])
    rutile = Structure.from_spacegroup("P4_2/mnm", Lattice.tetragonal(4.5937, 2.9587),
                                       ["Ti", "O"], [[0, 0, 0], [0.30478, 0.30478, 0]])
    corundum = Structure.from_spacegroup("R-3c", Lattice.hexagonal(4.7602, 12.9933), ["Al", "O"],
                                         [[0, 0, 0.35216], [0.30624, 0, 0.25]])
    # pymatgen's from_spacegroup uses origin choice 1 for Fd-3m.
    spinel = Structure.from_spacegroup(227, Lattice.cubic(8.0833), ["Mg", "Al", "O"],
                                       [[0, 0, 0], [0.625, 0.625, 0.625],
                                        [0.3862, 0.3862, 0.3862]])
    wurtzite = Structure.from_spacegroup("P6_3mc", Lattice.hexagonal(3.2495, 5.2069), ["Zn", "O"],
                                         [[1 / 3, 2 / 3, 0], [1 / 3, 2 / 3, 0.3819]])
    tri = Structure(Lattice.from_parameters(5.31, 5.62, 7.73, 86.1, 94.3, 101.7),
                    ["Ca", "Ca", "Ti", "Ti"] + ["O"] * 6, rng.random((10, 3)))
    ox = {"Sr": 2, "Ti": 4, "O": -2, "Al": 3, "Mg": 2, "Zn": 2, "Ca": 2}
    cases = [("srtio3", srtio3), ("rutile", rutile), ("corundum", corundum),
             ("spinel", spinel), ("wurtzite", wurtzite), ("triclinic", tri)]
    for name, s in cases:
        with_ox = s.copy()
        with_ox.add_oxidation_state_by_element({e: ox[e] for e in s.symbol_set})
        for tag, st in (("", s), ("_oxi", with_ox)):
            # With symprec, CifWriter writes spglib's standardized cell, which may differ from
            # the structure in memory (a triclinic cell is Niggli-reduced): the reference is
            # then what pymatgen reads from that CIF.
            text = str(CifWriter(st, symprec=0.01))
            ref = CifParser(io.StringIO(text)).get_structures(primitive=False)[0]
            yield name + tag + "_sym", text, ref
            yield name + tag + "_p1", str(CifWriter(st)), st


def ase_cases():
    rng = np.random.default_rng(11)
    yield "ase_cu_fcc", ase.build.bulk("Cu", "fcc", a=3.615, cubic=True)
    yield "ase_nacl_primitive", ase.build.bulk("NaCl", "rocksalt", a=5.64)
    yield "ase_rutile", crystal(["Ti", "O"], basis=[(0, 0, 0), (0.3048, 0.3048, 0)],
                                spacegroup=136, cellpar=[4.5937, 4.5937, 2.9587, 90, 90, 90])
    cell = ase.geometry.cellpar_to_cell([4.9, 6.1, 7.3, 72.0, 103.0, 95.5])
    yield "ase_triclinic", ase.Atoms("K2Mg2F6", cell=cell, scaled_positions=rng.random((10, 3)),
                                     pbc=True)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    matscreen = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        for name, text, ref in pymatgen_cases():
            check_file(matscreen, tmp, name, text, ref)
        for name, atoms in ase_cases():
            buf = io.BytesIO()
            ase.io.write(buf, atoms, format="cif")
            # ASE writes 5 decimals: the reference is what ASE reads back from its own file.
            text = buf.getvalue().decode()
            back = ase.io.read(io.StringIO(text), format="cif")
            check_file(matscreen, tmp, name, text, AseAtomsAdaptor.get_structure(back))
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
