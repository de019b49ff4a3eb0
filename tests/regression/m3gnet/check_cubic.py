"""The cubic-crystal benchmark of the M3GNet-MP-2021.2.8-PES model card, relaxed by `matscreen
relax`: at least 80 of the 84 printed "Predicted a" reproduced within 0.1 %.

usage: check_cubic.py MATSCREEN MPIEXEC SOURCE_ROOT

The 84 start structures are built as matgl's benchmark notebook builds them (cubic_table.py
beside this file) and relaxed to zero stress with the built-in model m3gnet-mp-2021.2.8 in its
default (consistent) semantics: --cell full --symmetrize (the cells stay cubic), forces below
1e-3 eV/Å and stresses below 5e-4 GPa. The conventional lattice constant is the start's scaled by
the cube root of the volume ratio. matgl relaxed with ASE's FIRE to fmax 0.01 eV/Å, which stops
before zero stress on soft crystals: the independent implementation's exact zero-stress
constants are within 0.1 % of the printed ones for 82 of 83 rows, CsI 0.21 % off.

Cs (BCC) has no zero-stress point: its energy falls as the lattice expands until every
neighbour leaves the 5 Å sphere at a = 2 x 5 / sqrt(3) = 5.7735 Å, beyond which the atoms do not
interact at all and the energy is flat (the printed 5.98735 Å is where FIRE stopped after jumping
past that point). Cs is therefore not counted: the check asserts instead that the relaxation
ends at or beyond 5.7735 Å with no bond left (a converged, stress-free, non-interacting cell).
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

MS, MPIEXEC, ROOT = sys.argv[1], sys.argv[2], sys.argv[3]
HERE = os.path.join(ROOT, "tests", "regression", "m3gnet")
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


def frames(path):
    out = []
    for line in open(path):
        if "Lattice=" in line:
            d = dict(re.findall(r'(\w+)="([^"]*)"', line))
            for k, v in re.findall(r'(\w+)=([^"\s]+)', line):
                d.setdefault(k, v)
            out.append(d)
    return out


def main():
    work = tempfile.mkdtemp(prefix="ms-cubic-")
    xyz = os.path.join(work, "cubic.extxyz")
    r = subprocess.run([sys.executable, os.path.join(HERE, "cubic_table.py"), "-o", xyz], capture_output=True, text=True)
    check(r.returncode == 0, "84 start structures built: " + r.stderr.strip()[-200:])
    fr = frames(xyz)
    r = subprocess.run([MPIEXEC, "-n", "2", MS, "--quiet", "relax", xyz, "--potential", "m3gnet-mp-2021.2.8",
                        "--cell", "full", "--symmetrize", "--fmax", "0.001", "--smax", "0.0005", "--json"],
                       capture_output=True, text=True, timeout=1200)
    res = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    check(r.returncode == 0 and len(res) == 84, "84 relaxations ran (exit %d)" % r.returncode)
    within, counted, misses = 0, 0, []
    for f, x in zip(fr, res):
        L = np.array([float(v) for v in f["Lattice"].split()]).reshape(3, 3)
        a = float(f["start_a"]) * (x["volume_A3"] / abs(np.linalg.det(L))) ** (1 / 3)
        want = float(f["expected_a"])
        rel = 100 * (a - want) / want
        if f["material"] == "Cs":
            check(x["status"] == "converged" and a >= 2 * 5 / np.sqrt(3) and a * np.sqrt(3) / 2 > 5.0,
                  "Cs: relaxed to a = %.5f Å, beyond 5.7735 Å where no bond is left (printed %.5f)" % (a, want))
            continue
        counted += 1
        ok = x["status"] == "converged" and abs(rel) <= 0.1
        within += ok
        if not ok:
            misses.append("%s (%s) a = %.5f Å vs %.5f printed: %+.3f %% [%s]" % (f["material"], f["structure"], a, want,
                                                                               rel, x["status"]))
    check(within >= 80, "%d of %d rows (Cs aside) within 0.1 %% of the printed predicted a (at least 80)" % (within, counted))
    for m in misses:
        print("  outside 0.1 %:", m)
    print("%d failure(s)" % len(failures))
    sys.exit(1 if failures else 0)


main()
