#!/usr/bin/python3
"""Reference data for the M3GNet tests (tests/unit/test_m3gnet.c), written once and committed.

usage: make_reference.py --public REFERENCE_JSON --oracle ORACLE_PY --checkpoints DIR

- public.txt: the six structures of the public M3GNet reference set with their energies, forces
  and stresses for both checkpoints and both semantics, copied from its reference.json
  (float64 values of the independent reference implementation, see the header of the file).
- oracle_extra.txt: more structures built here (cells thinner than the cutoff, one atom, atoms
  without a neighbour, no bond at all, actinides, coordinates far outside the cell, a strongly
  compressed crystal, a slab, a random multi-element triclinic cell), evaluated by the same
  independent float64 implementation (m3gnet_oracle.py, one thread) for both checkpoints and
  both semantics.
Every structure keeps all its bond lengths at least 1e-3 Å away from the 4 and 5 Å cutoffs,
where float64 round-off could change membership. The command that made the committed files is
in their headers.

Format (read by tests/unit/test_m3gnet.c): '#' comments; per structure
  structure NAME / lattice 9 numbers (rows, Å) / natoms N / N lines "atom SYMBOL x y z"
  (Cartesian Å), then per (checkpoint, semantics)
  result CHECKPOINT SEMANTICS energy_eV n_edges n_triplets / N lines "force fx fy fz" (eV/Å) /
  "stress" 6 numbers (GPa, Voigt xx yy zz yz xz xy, positive = tensile) / end
Numbers are written with 17 significant digits (exact doubles).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CHECKPOINTS = {"mp": "M3GNet-MP-2021.2.8-PES", "matpes": "M3GNet-MatPES-PBE-v2025.1-PES"}
SEMANTICS = ("consistent", "matgl")


def g(x: float) -> str:
    return repr(float(x))


def write_structure(out, name, lattice, symbols, cart):
    out.write(f"structure {name}\n")
    out.write("lattice " + " ".join(g(v) for v in np.asarray(lattice).ravel()) + "\n")
    out.write(f"natoms {len(symbols)}\n")
    for s, p in zip(symbols, cart):
        out.write(f"atom {s} {g(p[0])} {g(p[1])} {g(p[2])}\n")


def write_result(out, ckpt, sem, energy, n_edges, n_trip, forces, stress):
    out.write(f"result {ckpt} {sem} {g(energy)} {n_edges} {n_trip}\n")
    for f in forces:
        out.write(f"force {g(f[0])} {g(f[1])} {g(f[2])}\n")
    out.write("stress " + " ".join(g(s) for s in stress) + "\n")
    out.write("end\n")


def bond_lengths(lattice, cart, rmax=5.5):
    """All pair distances up to rmax over periodic images (brute force; small cells)."""
    L = np.asarray(lattice)
    inv = np.linalg.inv(L)
    widths = 1.0 / np.linalg.norm(inv, axis=0)
    nmax = np.ceil(rmax / widths).astype(int) + 1
    imgs = np.array([[a, b, c] for a in range(-nmax[0], nmax[0] + 1)
                     for b in range(-nmax[1], nmax[1] + 1) for c in range(-nmax[2], nmax[2] + 1)])
    shifts = imgs @ L
    d = []
    for i in range(len(cart)):
        v = cart[None, :, :] + shifts[:, None, :] - cart[i][None, None, :]
        r = np.linalg.norm(v, axis=2).ravel()
        d.append(r[(r > 1e-8) & (r < rmax)])
    return np.concatenate(d) if d else np.zeros(0)


def safe(lattice, cart, margin=1e-3):
    d = bond_lengths(lattice, cart)
    return not np.any((np.abs(d - 4.0) < margin) | (np.abs(d - 5.0) < margin))


def lattice_from(a, b, c, al, be, ga):
    al, be, ga = np.radians([al, be, ga])
    v1 = [a, 0, 0]
    v2 = [b * np.cos(ga), b * np.sin(ga), 0]
    cx = c * np.cos(be)
    cy = c * (np.cos(al) - np.cos(be) * np.cos(ga)) / np.sin(ga)
    return np.array([v1, v2, [cx, cy, np.sqrt(c * c - cx * cx - cy * cy)]])


def extra_structures():
    """(name, lattice, symbols, cartesian) of the extra structures; deterministic."""
    rng = np.random.default_rng(20261207)
    out = []

    def add(name, lat, syms, frac=None, cart=None, rattle=0.0):
        lat = np.asarray(lat, float)
        for _ in range(200):
            x = np.asarray(cart, float) if cart is not None else np.asarray(frac, float) @ lat
            x = x + rattle * rng.standard_normal(x.shape)
            if safe(lat, x):
                out.append((name, lat, list(syms), x))
                return
        raise RuntimeError(f"{name}: no safe geometry found")

    # one atom in a skewed cell thinner than the cutoff in every direction
    add("Cu_1atom_thin_triclinic", lattice_from(2.3, 2.6, 2.9, 70, 80, 105), ["Cu"], frac=[[0.1, 0.2, 0.3]])
    # two atoms, thin in one direction (1.9 Å), many images per pair
    add("Si_2atom_thin", lattice_from(1.9, 5.2, 5.6, 90, 95, 88), ["Si", "Si"],
        frac=[[0, 0, 0], [0.5, 0.45, 0.55]], rattle=0.02)
    # actinides (type index is not Z - 1 after Bi) in a fluorite cell
    a = 5.55
    fcc = np.array([[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]])
    tet = np.array([[.25, .25, .25], [.75, .75, .75], [.25, .75, .75], [.75, .25, .25],
                    [.75, .75, .25], [.25, .25, .75], [.75, .25, .75], [.25, .75, .25]])
    add("ThUPuAc_O_fluorite", np.eye(3) * a, ["Th", "U", "Pu", "Ac"] + ["O"] * 8,
        frac=np.vstack([fcc, tet]), rattle=0.05)
    # a single atom in a 12 Å box: no bond at all
    add("He_isolated_box", np.eye(3) * 12.0, ["He"], cart=[[1.0, 2.0, 3.0]])
    # molecules plus an atom without any neighbour within 5 Å (16 Å box)
    add("CH4_CO_Ar_box", np.eye(3) * 16.0, ["C", "H", "H", "H", "H", "C", "O", "Ar"],
        cart=[[2, 2, 2], [2.63, 2.63, 2.63], [1.37, 1.37, 2.63], [1.37, 2.63, 1.37],
              [2.63, 1.37, 1.37], [5.0, 2.5, 2.2], [6.13, 2.5, 2.2], [10.5, 10.0, 10.0]],
        rattle=0.01)
    # rock salt with coordinates far outside [0, 1) and negative (wrapping, image offsets)
    nacl = np.vstack([fcc, fcc + [0.5, 0, 0]])
    shift = rng.integers(-2, 3, size=(8, 3))
    add("NaCl_8_outside_cell", lattice_from(5.6, 5.7, 5.65, 88, 91, 92), ["Na"] * 4 + ["Cl"] * 4,
        frac=nacl + shift, rattle=0.03)
    # strongly compressed diamond (short bonds, many triplets)
    dia = np.vstack([fcc, fcc + 0.25])
    add("C_diamond_compressed", np.eye(3) * 3.1, ["C"] * 8, frac=dia, rattle=0.03)
    # a slab: 12 Å of vacuum along c
    add("Al_slab_vacuum", [[2.86, 0, 0], [1.43, 2.477, 0], [0, 0, 16.0]], ["Al"] * 3,
        cart=[[0, 0, 0], [1.43, 0.826, 2.34], [0, 1.651, 4.68]], rattle=0.02)
    # random multi-element triclinic cell
    lat = lattice_from(6.1, 6.6, 7.2, 78, 96, 109)
    syms = ["Li", "Fe", "P", "O", "O", "O", "O", "Mn", "Ba", "Ti", "O", "O", "N", "F"]
    for _ in range(1000):
        frac = rng.random((len(syms), 3))
        x = frac @ lat
        d = bond_lengths(lat, x, rmax=1.6)
        if len(d) == 0 and safe(lat, x):
            break
    else:
        raise RuntimeError("random cell")
    out.append(("random_14_triclinic", lat, syms, x))
    # supercell-sized case with every atom having many bonds: BaTiO3 2x1x1, strained, rattled
    pv = np.array([[0, 0, 0], [.5, .5, .5], [.5, .5, 0], [.5, 0, .5], [0, .5, .5]])
    cells = np.vstack([(pv + [i, 0, 0]) / [2, 1, 1] for i in range(2)])
    add("BaTiO3_2x1x1_strained", lattice_from(8.02, 4.05, 3.98, 90, 89, 91),
        ["Ba", "Ti", "O", "O", "O"] * 2, frac=cells, rattle=0.04)
    # larger cells in a general (rotated) Cartesian frame, which decides matgl's bond order
    rng2 = np.random.default_rng(5)

    def rotation():
        q, _ = np.linalg.qr(rng2.standard_normal((3, 3)))
        return q

    c8 = np.array([[i, j, k] for i in range(2) for j in range(2) for k in range(2)])
    lat = np.diag([7.9, 7.9, 7.9]) @ rotation().T + 0.1 * rng2.standard_normal((3, 3))
    frac = (pv[None, :, :] + c8[:, None, :]).reshape(-1, 3) / 2
    for _ in range(200):
        x = frac @ lat + 0.05 * rng2.standard_normal((40, 3))
        if safe(lat, x):
            break
    else:
        raise RuntimeError("BaZrO3")
    out.append(("BaZrO3_2x2x2_rotated", lat, ["Ba", "Zr", "O", "O", "O"] * 8, x))
    pool = ["H", "Li", "C", "N", "O", "F", "Na", "Mg", "Al", "Si", "P", "S", "Cl", "K", "Ca",
            "Ti", "Fe", "Cu", "Zn", "Ga", "Br", "Sr", "Ag", "I", "Cs", "Ba", "La", "Gd", "W",
            "Pt", "Bi", "Th", "U"]
    lat = np.array([[9.1, 0.3, -0.4], [1.2, 9.8, 0.5], [-0.7, 0.9, 10.4]]) @ rotation().T
    for _ in range(100):
        syms = [str(v) for v in rng2.choice(pool, 60)]
        pts = []
        while len(pts) < 60:
            c = rng2.random(3) @ lat
            if all(np.linalg.norm((lambda fr: (fr - np.round(fr)) @ lat)(
                    np.linalg.solve(lat.T, c - p))) >= 1.6 for p in pts):
                pts.append(c)
        x = np.array(pts) - 3 * lat[0] + 2 * lat[2]  # far outside the cell
        if safe(lat, x):
            break
    else:
        raise RuntimeError("random 60")
    out.append(("random_60_rotated_outside", lat, syms, x))
    return out


def run_oracle(oracle, ckdir, sem, files):
    cmd = ["/usr/bin/python3", str(oracle), "--weights", str(ckdir), "--semantics", sem,
           "--threads", "1"] + [str(f) for f in files]
    res = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return [json.loads(line) for line in res.stdout.splitlines() if line.strip()]


def write_extxyz(path, lattice, symbols, cart):
    with open(path, "w") as f:
        f.write(f"{len(symbols)}\n")
        f.write('Lattice="' + " ".join(g(v) for v in np.asarray(lattice).ravel()) +
                '" Properties=species:S:1:pos:R:3 pbc="T T T"\n')
        for s, p in zip(symbols, cart):
            f.write(f"{s} {g(p[0])} {g(p[1])} {g(p[2])}\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--public", type=Path, required=True, help="reference.json of the public set")
    ap.add_argument("--oracle", type=Path, required=True, help="m3gnet_oracle.py")
    ap.add_argument("--checkpoints", type=Path, required=True,
                    help="directory holding the matgl checkpoint folders")
    a = ap.parse_args(argv)
    cmdline = ("tests/regression/m3gnet/make_reference.py --public PUBLIC/reference.json "
               "--oracle TOOLS/m3gnet_oracle.py --checkpoints CHECKPOINTS")

    ref = json.loads(a.public.read_text())
    with open(HERE / "public.txt", "w") as out:
        out.write("# M3GNet public reference set: structures and float64 reference values copied\n"
                  "# unchanged from its reference.json (energies, forces, stresses of the\n"
                  "# independent float64 implementation, both checkpoints, both semantics).\n"
                  f"# Made by: {cmdline}\n")
        for name, s in ref.items():
            if name.startswith("_"):
                continue
            write_structure(out, name, s["lattice_A"], s["symbols"], s["positions_A"])
            for ck in CHECKPOINTS.values():
                for sem in SEMANTICS:
                    r = s["models"][ck][sem]
                    write_result(out, ck, sem, r["energy_eV"], r["n_edges"], r["n_triplets"],
                                 r["forces_eV_per_A"], r["stress_GPa"])

    structs = extra_structures()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for name, lat, syms, x in structs:
            p = Path(tmp) / f"{name}.extxyz"
            write_extxyz(p, lat, syms, x)
            files.append(p)
        for ck in CHECKPOINTS.values():
            for sem in SEMANTICS:
                results[(ck, sem)] = run_oracle(a.oracle, a.checkpoints / ck, sem, files)
    with open(HERE / "oracle_extra.txt", "w") as out:
        out.write("# Extra M3GNet references: structures built by make_reference.py, values of the\n"
                  "# independent float64 implementation m3gnet_oracle.py (one thread), both\n"
                  "# checkpoints, both semantics. The bond search there follows pymatgen's order.\n"
                  f"# Made by: {cmdline}\n")
        for k, (name, lat, syms, x) in enumerate(structs):
            write_structure(out, name, lat, syms, x)
            for ck in CHECKPOINTS.values():
                for sem in SEMANTICS:
                    r = results[(ck, sem)][k]
                    write_result(out, ck, sem, r["energy_eV"], r["n_edges"], r["n_triplets"],
                                 r["forces_eV_per_A"], r["stress_GPa"])
    print(f"wrote {HERE / 'public.txt'} and {HERE / 'oracle_extra.txt'} "
          f"({len(structs)} extra structures)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
