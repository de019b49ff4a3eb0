"""Tests of `matscreen export` and of the structure loaders of scripts/matscreen_post.

usage: check_export.py MATSCREEN MPIEXEC SOURCE_ROOT

1. The perovskite example (2 ranks) is exported as survivors in CIF, POSCAR and extxyz: one
   file per /structures row named ID_FORMULA.EXT, the id in the title (CIF block, POSCAR
   comment, extxyz label); the same files from 1 and 2 ranks.
2. Round trip: every exported file read by pymatgen and ASE equals the stored structure to
   1e-8 Å (lattice after the best rotation, Cartesian sites after matching), with the
   oxidation states where the format carries them (CIF, extxyz; a POSCAR has plain element
   symbols on its species line, so that VASP and ASE read it, and the oxidation states only as
   position labels); the loaders load_pymatgen / load_ase give the same structures.
3. --what ids:LIST and --what shortlist (on a copy with a /shortlist in the planned layout)
   write exactly those candidates; the loaders take the same sets.
4. Bad uses exit 1 with one clear message and write nothing: missing file, not HDF5, no
   /shortlist, an unknown id, a duplicate's id, bad --what; an output without relaxed
   structures exports nothing for survivors and refuses ids.
"""
import filecmp
import os
import re
import sys
import tempfile

import h5py

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from post_common import (add_shortlist, strip_shortlist, check, compare_structure, finish, mpi, run,  # noqa: E402
                         run_campaign, run_no_relax, structures_h5)

exe, mpiexec, root = (os.path.abspath(x) if os.sep in x else x for x in sys.argv[1:4])
sys.path.insert(0, os.path.join(root, "scripts"))
import matscreen_post as mp  # noqa: E402

try:
    import ase.io
    from pymatgen.io.ase import AseAtomsAdaptor
    from pymatgen.io.cif import CifParser
    from pymatgen.io.vasp import Poscar
    have_readers = True
except ImportError as exc:
    print(f"pymatgen/ASE missing ({exc}): round trips skipped", file=sys.stderr)
    have_readers = False

EXT = {"cif": "cif", "poscar": "vasp", "extxyz": "xyz"}


def export(*args, n=None):
    cmd = [exe, "export", *args]
    return run(mpi(mpiexec, n, exe, "export", *args) if n else cmd)


def files_of(d):
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def title_id(path, fmt):
    """Candidate id named in the title of an exported file."""
    text = open(path).read()
    if fmt == "cif":
        m = re.search(r"^data_(\S+)", text, re.M)
    elif fmt == "poscar":
        m = re.match(r"(.*)", text)
    else:
        m = re.search(r'label="([^"]*)"', text)
    t = m.group(1) if m else ""
    m = re.search(r"candidate[ _](\d+)[ _]", t)
    return int(m.group(1)) if m else None


def species_text(el, ox):
    """('Sr', 2.0) -> 'Sr2+', ('Na', 1.0) -> 'Na+', as matscreen writes species."""
    n = abs(ox)
    return f"{el}{'' if n == 1 else f'{n:g}'}{'+' if ox > 0 else '-'}"


def read_back(path, fmt):
    """[(reader, lattice, species, cartesian, elements_only)] of the exported file."""
    out = []
    if fmt == "cif":
        s = CifParser(path).get_structures(primitive=False)[0]
        out.append(("pymatgen", s.lattice.matrix, [str(x.specie) for x in s], s.cart_coords, False))
        a = ase.io.read(path, format="cif")
        out.append(("ase", a.cell[:], a.get_chemical_symbols(), a.positions, True))
    elif fmt == "poscar":
        # VASP, ASE and pymatgen take the species line as element symbols (ASE raised KeyError
        # on 'La3+' there); the oxidation states are position labels, which they ignore
        lines = open(path).read().splitlines()
        check(all(t.isalpha() for t in lines[5].split()), f"{path}: species line '{lines[5]}' has plain symbols")
        check(all(re.search(r"\d[+-]$", ln.split()[3]) for ln in lines[8:] if ln.strip()),
              f"{path}: positions carry their species with oxidation states")
        s = Poscar.from_file(path).structure
        out.append(("pymatgen", s.lattice.matrix, [str(x.specie) for x in s], s.cart_coords, True))
        a = ase.io.read(path, format="vasp")
        out.append(("ase", a.cell[:], a.get_chemical_symbols(), a.positions, True))
    else:
        a = ase.io.read(path, format="extxyz")
        s = AseAtomsAdaptor.get_structure(a)
        out.append(("ase+AseAtomsAdaptor", s.lattice.matrix, [str(x.specie) for x in s],
                    s.cart_coords, False))
        check("oxi_states" in a.arrays, f"{path}: oxi_states column")
    return out


with tempfile.TemporaryDirectory() as tmp:
    perov = run_campaign(exe, mpiexec, os.path.join(root, "examples/perovskite-oxides/campaign.yaml"),
                         os.path.join(tmp, "perov.h5"))
    stored = structures_h5(perov, survivors_only=True)
    check(len(structures_h5(perov)) > len(stored), "/structures also keeps dedup survivors the hull removed")
    with h5py.File(perov, "r") as f:
        formula = dict(zip(f["candidates/id"][:].tolist(), [x.decode() for x in f["candidates/formula"][:]]))
        dup = dict(zip(f["candidates/id"][:].tolist(), f["candidates/duplicate_of"][:].tolist()))
    check(len(stored) >= 10, f"perovskite example stores {len(stored)} structures")
    expected = {f"{i:06d}_{formula[i]}" for i in stored}

    # 1. survivors in every format, from 1 and 2 ranks
    for fmt, ext in EXT.items():
        d1, d2 = os.path.join(tmp, f"s1-{fmt}"), os.path.join(tmp, f"s2-{fmt}")
        rc, so, se = export(perov, "-d", d1, "--format", fmt)
        check(rc == 0, f"export {fmt}: exit {rc}: {se}")
        rc, so, se = export(perov, "-d", d2, "-f", fmt, "--what", "survivors", n=2)
        check(rc == 0, f"export {fmt} at 2 ranks: exit {rc}: {se}")
        names = files_of(d1)
        check({os.path.splitext(x)[0] for x in names} == expected and len(names) == len(expected),
              f"{fmt}: files {names[:4]}... vs {sorted(expected)[:4]}...")
        check(all(x.endswith("." + ext) for x in names), f"{fmt}: extension .{ext}")
        check(names == files_of(d2) and all(filecmp.cmp(os.path.join(d1, x), os.path.join(d2, x), shallow=False)
                                            for x in names), f"{fmt}: same files from 1 and 2 ranks")
        for x in names:
            cid = int(x.split("_")[0])
            check(title_id(os.path.join(d1, x), fmt) == cid, f"{fmt} {x}: id {cid} in the title")

        # 2. round trip through pymatgen / ASE
        if have_readers:
            for x in names:
                cid = int(x.split("_")[0])
                for reader, lat, sp, cart, el_only in read_back(os.path.join(d1, x), fmt):
                    compare_structure(stored[cid], lat, sp, cart, f"{fmt} {x} via {reader}",
                                      elements_only=el_only)

    # the loaders return the stored structures, and the exported ones
    if have_readers:
        pm = mp.load_pymatgen(perov, "survivors")
        at = mp.load_ase(perov, "survivors")
        check(list(pm) == list(stored) and list(at) == list(stored), "loaders: ids in file order")
        for cid, ref in stored.items():
            s, a = pm[cid], at[cid]
            compare_structure(ref, s.lattice.matrix, [str(x.specie) for x in s], s.cart_coords,
                              f"load_pymatgen {cid}", tol=1e-12)
            check(all(hasattr(x.specie, "oxi_state") for x in s), f"load_pymatgen {cid}: Species")
            ox = a.arrays.get("oxi_states")
            sp = [species_text(e, o) for e, o in zip(a.get_chemical_symbols(), ox)]
            compare_structure(ref, a.cell[:], sp, a.positions, f"load_ase {cid}", tol=1e-12)
            check(a.info.get("candidate_id") == cid, f"load_ase {cid}: info")
            # and the CIF written by export, read by pymatgen, is the same crystal
            c = CifParser(os.path.join(tmp, "s1-cif", f"{cid:06d}_{formula[cid]}.cif")).get_structures(primitive=False)[0]
            compare_structure((s.lattice.matrix, [str(x.specie) for x in s], s.frac_coords),
                              c.lattice.matrix, [str(x.specie) for x in c], c.cart_coords,
                              f"loader vs exported CIF {cid}")

    # 3. ids and shortlist
    ids = sorted(stored)[:3][::-1]
    d = os.path.join(tmp, "ids")
    rc, so, se = export(perov, "--what", "ids:" + ",".join(map(str, ids + ids[:1])), "-f", "poscar", "-d", d)
    check(rc == 0 and files_of(d) == sorted(f"{i:06d}_{formula[i]}.vasp" for i in ids),
          f"ids: exit {rc}, files {files_of(d)}: {se}")
    check(list(mp.load_pymatgen(perov, ids)) == ids, "load_pymatgen(ids) keeps the order")
    check([r["candidate_id"] for r in mp.structure_rows(perov, "ids:" + ",".join(map(str, ids)))] == ids,
          "structure_rows('ids:...')")
    short_ids = sorted(stored)[-4:]
    sl = add_shortlist(perov, os.path.join(tmp, "perov-shortlist.h5"), short_ids)
    d = os.path.join(tmp, "short")
    rc, so, se = export(sl, "--what", "shortlist", "--format", "extxyz", "-d", d)
    check(rc == 0 and files_of(d) == sorted(f"{i:06d}_{formula[i]}.xyz" for i in short_ids),
          f"shortlist: exit {rc}, files {files_of(d)}: {se}")
    check([r["candidate_id"] for r in mp.structure_rows(sl, "shortlist")] == short_ids,
          "structure_rows('shortlist') in priority order")

    # 4. bad uses
    def bad(args, fragments, what, n=None, d=None):
        rc, so, se = export(*args, n=n)
        errors = [x for x in se.splitlines() if "error" in x or x.startswith("matscreen export:")]
        check(rc == 1, f"{what}: exit {rc}, expected 1: {se.strip()[:300]}")
        check(len(errors) == 1, f"{what}: {len(errors)} error lines: {se.strip()[:300]}")
        check(all(fr in se for fr in fragments), f"{what}: message lacks {fragments}: {se.strip()[:300]}")
        if d:
            check(not os.path.exists(d), f"{what}: {d} created")

    nd = os.path.join(tmp, "never")
    bad([os.path.join(tmp, "missing.h5"), "-d", nd], ["missing.h5", "No such file"], "missing file", d=nd)
    notes = os.path.join(tmp, "notes.txt")
    with open(notes, "w") as fh:
        fh.write("not hdf5\n")
    bad([notes, "-d", nd], ["notes.txt", "not an HDF5 file"], "text file", d=nd)
    nosl = strip_shortlist(perov, os.path.join(tmp, "perov-nosl.h5"))
    bad([nosl, "--what", "shortlist", "-d", nd], ["perov-nosl.h5", "no /shortlist"], "no shortlist", d=nd)
    bad([nosl, "--what", "shortlist", "-d", nd], ["no /shortlist"], "no shortlist at 2 ranks", n=2, d=nd)
    first = sorted(stored)[0]
    bad([perov, "--what", f"ids:{first},99999", "-d", nd], ["candidate 99999", "no such candidate"],
        "unknown id", d=nd)
    dups = [i for i, j in dup.items() if j >= 0]
    if check(dups, "the example has duplicates"):
        bad([perov, "--what", f"ids:{dups[0]}", "-d", nd],
            [f"candidate {dups[0]}", f"duplicate of candidate {dup[dups[0]]}"], "duplicate id", n=2, d=nd)
    for w in ("ids:", "ids:1,,2", "ids:-3", "ids:x", "best"):
        bad([perov, "--what", w, "-d", nd], ["--what"], f"--what {w}", d=nd)
    bad([perov], ["-d DIR"], "no directory")
    bad([perov, "-d", nd, "--format", "pdb"], ["--format"], "bad format", d=nd)
    try:
        mp.structure_rows(perov, "ids:99999")
        check(False, "structure_rows: unknown id raises")
    except mp.MissingStructure as exc:
        check("99999" in str(exc), f"MissingStructure names the id: {exc}")
    try:
        mp.structure_rows(nosl, "shortlist")
        check(False, "structure_rows: shortlist without /shortlist raises")
    except mp.MissingGroup as exc:
        check("/shortlist" in str(exc), f"MissingGroup names the group: {exc}")

    # an output without relaxed structures
    nr = run_no_relax(exe, mpiexec, tmp)
    d = os.path.join(tmp, "nr")
    rc, so, se = export(nr, "-d", d)
    check(rc == 0 and files_of(d) == [] and "no structures" in se, f"no-relax survivors: exit {rc}: {se}")
    bad([nr, "--what", "ids:0", "-d", nd], ["candidate 0", "no stored structure"], "no-relax ids", d=nd)
    check(mp.structure_rows(nr, "survivors") == [], "structure_rows on a file without structures")

    rc, so, se = run([exe, "help", "export"])
    check(rc == 0 and "--what" in so and "ids:LIST" in so, "help export")
    rc, so, se = run([exe, "help"])
    check(rc == 0 and re.search(r"^\s+export\s", so, re.M), "export in the command list")

finish("export")
