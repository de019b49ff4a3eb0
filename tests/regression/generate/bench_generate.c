/* Candidate-generation timings on one core (a benchmark, not a test):
 *   random   random_search SrTiO3, 1-4 formula units, all space groups: set-up (Wyckoff
 *            positions of 230 groups, feasible (Z, group) pairs) and draws per second;
 *   proto    prototype_substitution builds per second (perovskite + spinel + pyrochlore,
 *            primitive cells) and the time to count a 24-prototype space without building;
 *   order    ordering enumeration, 8 of the 16 B sites of conventional spinel (12870 subsets,
 *            192 operations).
 * Times are CPU seconds of this process (clock_gettime(CLOCK_PROCESS_CPUTIME_ID)).
 * Usage: bench_generate [DRAWS]   (default 10000). scripts/bench/generate_random.sh runs it
 * with the pymatgen peer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "matscreen/generator.h"
#include "matscreen/ordering.h"
#include "matscreen/prototype.h"

/* CPU time of this process: the figures are per core, and other processes on a shared machine
 * should not count. */
static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static ms_search make(const char *yaml, ms_ydoc **doc) {
  ms_search s = NULL;
  if (ms_ydoc_parse(yaml, strlen(yaml), "bench.yaml", doc) ||
      ms_search_create(ms_ynode_get(ms_ydoc_root(*doc), "search"), 20261129, NULL, &s)) {
    fprintf(stderr, "bench_generate: %s\n", ms_err_message());
    exit(2);
  }
  return s;
}

int main(int argc, char **argv) {
  long draws = argc > 1 ? atol(argv[1]) : 10000;
  if (draws < 1) draws = 10000;
  if (ms_elements_load()) return 2;
  char yaml[512];
  ms_ydoc *doc = NULL;
  ms_cell c;
  ms_cell_init(&c);

  /* random_search */
  snprintf(yaml, sizeof yaml,
           "search:\n  - {generator: random_search, compositions: [SrTiO3], formula_units: [1, 4], "
           "draws: %ld}\n",
           draws);
  double t0 = now();
  ms_search s = make(yaml, &doc);
  double t1 = now();
  long failed = 0, atoms = 0;
  for (long i = 0; i < draws; ++i) {
    ms_candidate_info info;
    if (ms_search_build(s, i, &c, &info)) return 2;
    failed += info.status != MS_STATUS_OK;
    atoms += c.natoms;
  }
  double t2 = now();
  printf(
      "random_search SrTiO3 Z=1-4: set-up %.3f s; %ld draws in %.3f s = %.0f structures/s "
      "(%.1f us each, mean %.1f atoms), %ld failed\n",
      t1 - t0, draws, t2 - t1, draws / (t2 - t1), 1e6 * (t2 - t1) / draws, (double)atoms / draws,
      failed);
  ms_search_destroy(&s);
  ms_ydoc_free(&doc);

  /* prototype_substitution builds */
  s = make(
      "search:\n"
      "  - generator: prototype_substitution\n"
      "    prototypes: [perovskite_cubic, perovskite_pnma, spinel, pyrochlore]\n"
      "    sites: {A: [Mg2+, Ca2+, Sr2+, Ba2+, La3+, Y3+, Gd3+], B: [Ti4+, Zr4+, Sn4+, Al3+, "
      "Ga3+, Fe3+], X: [O2-]}\n",
      &doc);
  int64_t n = ms_search_count(s);
  int reps = (int)(20000 / (n ? n : 1)) + 1;
  t1 = now();
  for (int r = 0; r < reps; ++r)
    for (int64_t i = 0; i < n; ++i)
      if (ms_search_build(s, i, &c, NULL)) return 2;
  t2 = now();
  printf(
      "prototype_substitution: %lld candidates, %lld builds in %.3f s = %.0f builds/s "
      "(primitive cells, lattice from radii)\n",
      (long long)n, (long long)n * reps, t2 - t1, (double)n * reps / (t2 - t1));
  ms_search_destroy(&s);
  ms_ydoc_free(&doc);

  /* Load (expand the Wyckoff sites) + build, conventional cells, the three prototypes the
   * pymatgen peer builds with Structure.from_spacegroup. */
  {
    static const char *names[3] = {"perovskite_cubic", "spinel", "pyrochlore"};
    static const char *ion[3][3] = {
        {"Sr2+", "Ti4+", "O2-"}, {"Mg2+", "Al3+", "O2-"}, {"Gd3+", "Ti4+", "O2-"}};
    int loops = 300;
    t1 = now();
    for (int r = 0; r < loops; ++r)
      for (int k = 0; k < 3; ++k) {
        ms_prototype *pp = NULL;
        ms_species sp[3];
        for (int l = 0; l < 3; ++l) ms_species_parse(ion[k][l], &sp[l]);
        ms_proto_build_options bo;
        ms_proto_build_options_default(&bo);
        bo.lattice = MS_PROTO_LATTICE_REFERENCE;
        if (ms_prototype_load(names[k], &pp) || ms_prototype_build(pp, sp, &bo, &c)) return 2;
        ms_prototype_free(&pp);
      }
    t2 = now();
    printf(
        "prototype load+build: %.0f per s (perovskite_cubic, spinel, pyrochlore, conventional "
        "cells, YAML parsing and Wyckoff expansion included)\n",
        3 * loops / (t2 - t1));
  }

  /* Counting a large space: 24 prototypes x many ions, without building anything. */
  const char *big =
      "search:\n"
      "  - generator: prototype_substitution\n"
      "    prototypes: [rocksalt, cscl, zincblende, wurtzite, fluorite, antifluorite, rutile, "
      "anatase, cdi2, corundum, ilmenite, linbo3, perovskite_cubic, perovskite_pnma, "
      "perovskite_tetragonal, double_perovskite, spinel, inverse_spinel, k2nif4, pyrochlore, "
      "olivine, layered_rocksalt, scheelite, zircon]\n"
      "    sites: {A: [Li+, Na+, K+, Rb+, Cs+, Mg2+, Ca2+, Sr2+, Ba2+, Zn2+, Cd2+, Ni2+, La3+, "
      "Y3+, Gd3+, Al3+, Ti4+, Zr4+, Sn4+, Ce4+],\n"
      "            B: [Mg2+, Ni2+, Zn2+, Al3+, Ga3+, Fe3+, Cr3+, Ti4+, Zr4+, Sn4+, Si4+, Ge4+, "
      "Nb5+, Ta5+, W6+, Mo6+],\n"
      "            Bp: [Mg2+, Ni2+, Zn2+, Al3+, Ga3+, Fe3+, Cr3+, Ti4+, Zr4+, Sn4+, Si4+, Ge4+, "
      "Nb5+, Ta5+, W6+, Mo6+],\n"
      "            X: [O2-, S2-, F-, Cl-, N3-]}\n";
  t1 = now();
  s = make(big, &doc);
  t2 = now();
  printf(
      "prototype_substitution, 24 prototypes: %lld neutral candidates counted in %.3f s "
      "(loading the prototypes included)\n",
      (long long)ms_search_count(s), t2 - t1);
  ms_search_destroy(&s);
  ms_ydoc_free(&doc);

  /* Ordering enumeration. */
  ms_prototype *p = NULL;
  if (ms_prototype_load("spinel", &p)) return 2;
  ms_species ions[3];
  ms_species_parse("Mg2+", &ions[0]);
  ms_species_parse("Al3+", &ions[1]);
  ms_species_parse("O2-", &ions[2]);
  if (ms_prototype_build(p, ions, NULL, &c)) return 2;
  int sites[16], ns = 0;
  for (int a = 0; a < c.natoms; ++a)
    if (c.species[c.kind[a]].Z == 13) sites[ns++] = a;
  ms_ordering *o = NULL;
  t1 = now();
  if (ms_ordering_create(&c, sites, ns, 8, NULL, &o)) return 2;
  t2 = now();
  printf(
      "ordering: 8 of 16 B sites of conventional spinel: %lld classes of 12870 subsets, %d "
      "permutations, %.3f s\n",
      (long long)ms_ordering_count(o), ms_ordering_group_order(o), t2 - t1);
  ms_ordering_free(&o);
  ms_prototype_free(&p);

  /* 4 of the 8 B sites of a 2x2x2 SrTiO3 supercell (the pymatgen peer's brute-force case). */
  if (ms_prototype_load("perovskite_cubic", &p)) return 2;
  ms_species_parse("Sr2+", &ions[0]);
  ms_species_parse("Ti4+", &ions[1]);
  ms_cell base;
  ms_cell_init(&base);
  if (ms_prototype_build(p, ions, NULL, &base) || ms_cell_supercell_diag(&base, 2, 2, 2, &c))
    return 2;
  ns = 0;
  for (int a = 0; a < c.natoms; ++a)
    if (c.species[c.kind[a]].Z == 22) sites[ns++] = a;
  t1 = now();
  int reps2 = 50;
  for (int r = 0; r < reps2; ++r) {
    if (ms_ordering_create(&c, sites, ns, 4, NULL, &o)) return 2;
    if (r + 1 < reps2) ms_ordering_free(&o);
  }
  t2 = now();
  printf(
      "ordering-perovskite: 4 of 8 B sites of 2x2x2 SrTiO3: %lld classes in %.2f ms "
      "(spglib operations included)\n",
      (long long)ms_ordering_count(o), 1e3 * (t2 - t1) / reps2);
  ms_ordering_free(&o);
  ms_prototype_free(&p);
  ms_cell_free(&base);
  ms_cell_free(&c);
  return 0;
}
