"""Candidates per second per core through generate + prefilter + single point, and the peak
memory per rank (VmHWM, read by matscreen at the end of the run and stored as the root
attribute peak_rss_MiB) for search spaces of growing size.

The campaign is random search of SrTiO3 (1 formula unit: 5 atoms, a direct-space
Ewald + Buckingham single point per candidate) with keep: {top_k: 100} after the single point,
no relaxation, and keep_rejected: counts, the setting for very large campaigns: the output
holds rows for the survivors only, while every candidate's record goes through the checkpoint
log on disk. Memory that does not grow with the number of candidates is the point.
"""
import argparse
import os
import subprocess
import tempfile
import time

import h5py

CAMPAIGN = """campaign: {{name: throughput, seed: 11, keep_rejected: counts}}
potential: bush1994
search:
  - generator: random_search
    compositions: [SrTiO3]
    formula_units: 1
    draws: {n}
funnel:
  - {{stage: prefilter, rules: {{charge_neutral: true}}}}
  - {{stage: single_point, keep: {{top_k: 100}}}}
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="build/matscreen")
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--workdir", default=None)
    a = ap.parse_args()
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", OMPI_MCA_btl="self,vader")
    work = a.workdir or tempfile.mkdtemp(prefix="ms-throughput-")
    os.makedirs(work, exist_ok=True)
    print("%12s %6s %10s %14s %16s %14s" % ("candidates", "ranks", "wall_s", "cand/s/core",
                                            "sp cpu us/cand", "peak MiB/rank"))
    for n in [int(x) for x in a.sizes.split(",")]:
        yml = os.path.join(work, "tp_%d.yaml" % n)
        out = os.path.join(work, "tp_%d.h5" % n)
        with open(yml, "w") as f:
            f.write(CAMPAIGN.format(n=n))
        t0 = time.time()
        r = subprocess.run(["mpirun", "-n", str(a.ranks), a.bin, "--quiet", "run", yml, "-o", out], env=env)
        wall = time.time() - t0
        if r.returncode != 0:
            print("run failed for", n)
            continue
        with h5py.File(out, "r") as f:
            rss = float(f.attrs["peak_rss_MiB"])
            stages = [s.decode() for s in f["funnel/stage"][()]]
            cpu = f["funnel/cpu_s"][()]
            sp_cpu = sum(cpu[i] for i, s in enumerate(stages) if s in ("generate", "prefilter", "single_point"))
        print("%12d %6d %10.1f %14.0f %16.1f %14.1f" % (n, a.ranks, wall, n / wall / a.ranks, 1e6 * sp_cpu / n, rss),
              flush=True)
        os.remove(out)


main()
