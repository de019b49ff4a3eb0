"""What the post-processing tests share: running example campaigns, variants of an output
(with a /shortlist in the planned layout, without relaxed structures), and checks."""
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from matscreen_post.checksums import seal  # noqa: E402

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_btl="self,vader", OMPI_MCA_rmaps_base_oversubscribe="1")
failures = []
counted = [0]


def check(cond, what):
    counted[0] += 1
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)
    return cond


def finish(name):
    print(f"{name}: {len(failures)} of {counted[0]} checks failed" if failures
          else f"{name}: all {counted[0]} checks passed", file=sys.stderr)
    sys.exit(1 if failures else 0)


def run(cmd, cwd=None, timeout=300, env=None):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout,
                       cwd=cwd, env=env or ENV)
    return p.returncode, p.stdout, p.stderr


def mpi(mpiexec, n, exe, *args):
    return [mpiexec, "-n", str(n), "--oversubscribe", exe, *args]


def run_campaign(exe, mpiexec, campaign, out):
    rc, so, se = run(mpi(mpiexec, 2, exe, "--quiet", "run", campaign, "-o", out), timeout=600)
    if not check(rc == 0 and os.path.exists(out), f"run {campaign}: exit {rc}: {se[-500:]}"):
        sys.exit(1)
    return out


NO_RELAX = """\
campaign: {name: no-relax, seed: 7}
potential: bush1994
search:
  - generator: prototype_substitution
    prototypes: [rocksalt, cscl]
    sites: {A: [Mg2+, Ca2+], X: [O2-]}
funnel:
  - {stage: single_point}
"""


def run_no_relax(exe, mpiexec, tmp):
    """An output with no relax stage: no /hull, an empty /structures."""
    yaml = os.path.join(tmp, "no-relax.yaml")
    with open(yaml, "w") as fh:
        fh.write(NO_RELAX)
    return run_campaign(exe, mpiexec, yaml, os.path.join(tmp, "no-relax.h5"))


def add_shortlist(src, dst, ids):
    """Copy of @src with a /shortlist group in the layout the shortlist stage will write:
    candidate_id int64, priority int32, score / e_above_hull / uncertainty float64, strings
    formula (32), prototype (48), spacegroup int32, decomposition (96), novelty (16),
    known_match (64); attribute round. Rows are stored out of priority order on purpose."""
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        if "shortlist" in f:  # a real one from the shortlist stage: replaced by the synthetic rows
            del f["shortlist"]
        c = f["candidates"]
        row = {int(i): k for k, i in enumerate(c["id"][:])}
        rows = [row[i] for i in ids]
        g = f.create_group("shortlist")
        g.attrs["round"] = 1
        n = len(ids)
        g["candidate_id"] = np.array(ids[::-1], dtype=np.int64)
        g["priority"] = np.arange(n, 0, -1, dtype=np.int32)  # ids[0] gets priority 1
        g["score"] = np.linspace(1.0, 0.5, n)[::-1]
        g["e_above_hull_eV_per_atom"] = c["e_above_hull_eV_per_atom"][:][rows][::-1]
        g["uncertainty_eV_per_atom"] = np.full(n, 0.02)
        g["formula"] = np.array([c["formula"][k] for k in rows][::-1], dtype="S32")
        g["prototype"] = np.array([c["prototype"][k] for k in rows][::-1], dtype="S48")
        g["spacegroup"] = np.array([c["spacegroup"][k] for k in rows][::-1], dtype=np.int32)
        g["decomposition"] = np.array([c["decomposition"][k] for k in rows][::-1], dtype="S96")
        g["novelty"] = np.array([b"new"] * n, dtype="S16")
        g["known_match"] = np.array([b""] * n, dtype="S64")
        seal(f)  # an output changed on purpose: new checksums, so that readers accept it
    return dst


def strip_shortlist(src, dst):
    """Copy of @src without its /shortlist group (an output of a campaign without a shortlist)."""
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        if "shortlist" in f:
            del f["shortlist"]
        seal(f)
    return dst


def check_image(path, what, min_kb=10):
    """The figure exists, is a PNG of reasonable size and is not blank."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.image as mpimg

    if not check(os.path.exists(path), f"{what}: {path} written"):
        return
    size = os.path.getsize(path)
    check(size > min_kb * 1024, f"{what}: {path} is {size} bytes (> {min_kb} KB expected)")
    img = mpimg.imread(path)
    check(img.ndim == 3 and img.shape[0] >= 300 and img.shape[1] >= 400,
          f"{what}: image shape {img.shape}")
    rgb = img[..., :3].reshape(-1, 3)
    colours = len(np.unique((rgb * 255).astype(np.uint8), axis=0))
    check(rgb.std() > 0.05 and colours > 20,
          f"{what}: image looks blank (std {rgb.std():.3f}, {colours} colours)")


def structures_h5(path, survivors_only=False):
    """{candidate_id: (lattice 3x3, [species], frac n x 3)} straight from h5py; with
    @survivors_only the rows with survived = 1 (what `--what survivors` exports)."""
    out = {}
    with h5py.File(path, "r") as f:
        s = f["structures"]
        surv = s["survived"][:] if "survived" in s else None
        for k, cid in enumerate(s["candidate_id"][:]):
            if survivors_only and surv is not None and not surv[k]:
                continue
            o, n = int(s["offset"][k]), int(s["natoms"][k])
            out[int(cid)] = (s["lattice_A"][k], [x.decode() for x in s["species"][o:o + n]],
                             s["frac_positions"][o:o + n])
    return out


def best_rotation(a, b):
    """Rotation R minimising |a R - b| (Kabsch), for lattices given as rows."""
    u, _, vt = np.linalg.svd(a.T @ b)
    d = np.sign(np.linalg.det(u @ vt))
    return u @ np.diag([1.0, 1.0, d]) @ vt


def element(species):
    """'Sr2+' -> 'Sr'."""
    return species.rstrip("+-0123456789.")


def compare_structure(ref, lattice, species, cart, what, tol=1e-8, elements_only=False):
    """@ref = (lattice, species, frac) as stored; the other structure as read back (lattice
    rows, species strings, Cartesian positions), possibly rotated (CIF keeps only the lattice
    parameters) and with sites reordered (POSCAR groups them by species). Lattice vectors and
    every site must agree to @tol Å after the best rotation and matching of sites."""
    L0, sp0, f0 = ref
    if elements_only:
        sp0 = [element(x) for x in sp0]
    L = np.asarray(lattice, float)
    R = best_rotation(L0, L)
    check(np.abs(L0 @ R - L).max() < tol, f"{what}: lattice differs by {np.abs(L0 @ R - L).max():.2e} Å")
    check(len(species) == len(sp0), f"{what}: {len(species)} sites, stored {len(sp0)}")
    check(sorted(species) == sorted(sp0), f"{what}: species {sorted(set(species))} vs {sorted(set(sp0))}")
    c0 = np.asarray(f0) @ L0 @ R
    inv = np.linalg.inv(L)
    used = set()
    worst = 0.0
    for i in range(len(sp0)):
        d = (np.asarray(cart) - c0[i]) @ inv
        d -= np.round(d)
        dist = np.linalg.norm(d @ L, axis=1)
        cand = [j for j in np.argsort(dist) if species[j] == sp0[i] and j not in used]
        if not cand:
            check(False, f"{what}: site {i} ({sp0[i]}) has no partner")
            return
        used.add(cand[0])
        worst = max(worst, dist[cand[0]])
    check(worst < tol, f"{what}: sites differ by up to {worst:.2e} Å")
