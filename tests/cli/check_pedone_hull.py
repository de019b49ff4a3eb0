"""pedone2006 (energy-shifted at its 5.5 Å cutoff) relaxes what plain truncation could not.

usage: check_pedone_hull.py MATSCREEN MPIEXEC SOURCE_ROOT

With the plainly truncated terms, the energy jumped where an O-O distance crossed 5.5 Å, so
relaxations ended in line_search_failed or max_steps; here the Pnma SrTiO3 start reached
max_steps, and no relaxation of the corundum Cr2O3 reference converged, which stopped the hull
of every Cr compound (exit 2). With pedone2006 every relaxation of this campaign converges and
the hull stage runs with the Cr2O3 reference. pedone2006_truncated keeps the plain form
(test_potential checks the two tables are the same); it is loaded here too.
"""
import os
import subprocess
import sys
import tempfile

import h5py

MS, MPIEXEC, ROOT = sys.argv[1], sys.argv[2], sys.argv[3]
failures = []

CAMPAIGN = """\
campaign: {name: pedone-hull, seed: 1}
potential: POTENTIAL
search:
  - generator: prototype_substitution
    prototypes: [perovskite_cubic, perovskite_pnma]
    sites: {A: [Sr2+, Ca2+, Mg2+], B: [Ti4+], X: [O2-]}
  - generator: prototype_substitution
    prototypes: [spinel]
    sites: {A: [Mg2+, Ni2+], B: [Cr3+], X: [O2-]}
funnel:
  - {stage: relax, cell: full, fmax: 0.01, max_steps: 1000}
  - {stage: hull}
"""


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "c.yaml")
    with open(path, "w") as f:
        f.write(CAMPAIGN.replace("POTENTIAL", "pedone2006"))
    out = os.path.join(tmp, "out.h5")
    p = subprocess.run([MPIEXEC, "-n", "2", MS, "--quiet", "run", path, "-o", out], capture_output=True,
                       text=True, timeout=300)
    check(p.returncode == 0, f"pedone2006 campaign with Cr compounds and a hull: exit {p.returncode}: {p.stderr[-300:]}")
    if p.returncode == 0:
        with h5py.File(out, "r") as f:
            st = [x.decode() for x in f["candidates/relax_status"][()]]
            check(st and all(s == "converged" for s in st), f"every relaxation converged: {st}")
            refs = [x.decode() for x in f["hull/reference_formula"][()]]
            check("Cr2O3" in refs, f"the Cr2O3 end member is a hull reference: {refs}")
            form = [x.decode() for x in f["candidates/formula"][()]]
            eh = f["candidates/e_above_hull_eV_per_atom"][()]
            check(all(eh[k] == eh[k] for k in range(len(form)) if form[k] == "MgCr2O4"),
                  "MgCr2O4 has an energy above the hull")
    p = subprocess.run([MS, "info", "potentials", "pedone2006_truncated"], capture_output=True, text=True)
    check(p.returncode == 0 and "(shifted" not in p.stdout and "cutoff 5.5 Å [pedone2006]" in p.stdout,
          f"pedone2006_truncated is built in, plainly truncated: {p.stdout[-200:]}")
    p = subprocess.run([MS, "info", "potentials", "pedone2006"], capture_output=True, text=True)
    check(p.returncode == 0 and "cutoff 5.5 Å (shifted energy)" in p.stdout, "pedone2006 lists its terms as shifted")

print(f"{len(failures)} failed" if failures else "all checks passed")
sys.exit(1 if failures else 0)
