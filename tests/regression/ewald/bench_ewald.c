/* Timing of matscreen's Ewald and PME (not a test: results depend on the machine).
 *
 *   bench_ewald small [ACCURACY]        per-structure time, 20-100 atom oxide cells
 *   bench_ewald scale [ACCURACY] [NMAX] direct Ewald vs PME on growing MgO supercells
 *   bench_ewald pme ACCURACY NREP       one PME evaluation of an NREP^3 MgO supercell, with the
 *                                       error against direct Ewald when NREP <= 6
 *
 * Structures: rocksalt MgO (a = 4.21 Å, 8-site cell) and cubic SrTiO3 (a = 3.905 Å) supercells
 * with every site displaced by up to 0.15 Å (xorshift generator, fixed seed), formal charges.
 * Every timing is energy + forces + strain derivative with a reused workspace; "small" reports
 * the median over repeated evaluations of slightly different rattled copies. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "matscreen/cell.h"
#include "matscreen/ewald.h"
#include "matscreen/neighbor.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static unsigned long long rng_state = 88172645463325252ULL;
static double urand(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}

/* kind 0: MgO conventional cell (8 sites); kind 1: SrTiO3 (5 sites). */
static int build(int kind, int n0, int n1, int n2, double rattle, ms_cell *c, double **q) {
  ms_cell u;
  ms_cell_init(&u);
  if (kind == 0) {
    double a = 4.21, L[3][3] = {{a, 0, 0}, {0, a, 0}, {0, 0, a}};
    ms_cell_set_lattice(&u, L);
    const double fc[4][3] = {{0, 0, 0}, {0, .5, .5}, {.5, 0, .5}, {.5, .5, 0}};
    ms_species mg = {12, 1, 2}, o = {8, 1, -2};
    for (int t = 0; t < 4; ++t) {
      double f2[3] = {fmod(fc[t][0] + .5, 1), fc[t][1], fc[t][2]};
      if (ms_cell_add_atom(&u, &mg, fc[t]) || ms_cell_add_atom(&u, &o, f2)) return 1;
    }
  } else {
    double a = 3.905, L[3][3] = {{a, 0, 0}, {0, a, 0}, {0, 0, a}};
    ms_cell_set_lattice(&u, L);
    ms_species sr = {38, 1, 2}, ti = {22, 1, 4}, o = {8, 1, -2};
    const double f[5][3] = {{0, 0, 0}, {.5, .5, .5}, {.5, .5, 0}, {.5, 0, .5}, {0, .5, .5}};
    if (ms_cell_add_atom(&u, &sr, f[0]) || ms_cell_add_atom(&u, &ti, f[1])) return 1;
    for (int k = 2; k < 5; ++k)
      if (ms_cell_add_atom(&u, &o, f[k])) return 1;
  }
  ms_cell_init(c);
  if (ms_cell_supercell_diag(&u, n0, n1, n2, c)) return 1;
  ms_cell_free(&u);
  *q = malloc(sizeof(double) * (size_t)c->natoms);
  for (int i = 0; i < c->natoms; ++i) {
    (*q)[i] = c->species[c->kind[i]].ox;
    double r[3];
    ms_cell_site_cart(c, i, r);
    for (int d = 0; d < 3; ++d) r[d] += rattle * (2 * urand() - 1);
    ms_cell_cart_to_frac(c, r, c->frac[i]);
  }
  return 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int bench_small(double acc) {
  struct {
    int kind, n0, n1, n2;
  } cases[] = {{1, 1, 1, 4}, {1, 2, 2, 2}, {0, 2, 1, 1}, {1, 2, 2, 3}, {0, 2, 2, 1},
               {1, 2, 2, 4}, {0, 2, 2, 2}, {0, 3, 2, 2}};
  printf("# direct Ewald per structure (E+F+W), accuracy %.0e, median of 201 evaluations\n", acc);
  printf("# real: neighbour search + kernel; kernel: real-space kernel on a stored pair list;\n"
         "# kspace+kernel: the time without the neighbour search\n");
  printf("# natoms  method  alpha(1/A)  rcut(A)  nk    total(us)  real(us)  kspace(us)  pairs"
         "  kernel(us)  kspace+kernel(us)\n");
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; ++k) {
    ms_cell c;
    double *q;
    if (build(cases[k].kind, cases[k].n0, cases[k].n1, cases[k].n2, 0.15, &c, &q)) return 1;
    ms_ewald_params p;
    ms_ewald_params_default(&p);
    p.accuracy = acc;
    ms_ewald ew = NULL;
    if (ms_ewald_create(&p, &ew)) return 1;
    double (*F)[3] = calloc((size_t)c.natoms, sizeof *F);
    enum { NREP = 201 };
    double t_tot[NREP], t_k[NREP];
    ms_ewald_result r = {0};
    for (int rep = 0; rep < NREP; ++rep) {
      /* a slightly different structure each time, as in a relaxation */
      c.frac[rep % c.natoms][0] += 1e-4;
      r.forces = F;
      double t0 = now();
      if (ms_ewald_compute(ew, &c, q, MS_EWALD_ALL, &r)) {
        fprintf(stderr, "%s\n", ms_err_message());
        return 1;
      }
      double t1 = now();
      ms_ewald_result rk = {0};
      rk.forces = F;
      if (ms_ewald_kspace(ew, MS_EWALD_ALL, &rk)) return 1;
      double t2 = now();
      t_tot[rep] = t1 - t0;
      t_k[rep] = t2 - t1;
    }
    qsort(t_tot, NREP, sizeof(double), cmp_double);
    qsort(t_k, NREP, sizeof(double), cmp_double);
    ms_ewald_info in;
    ms_ewald_get_info(ew, &in);
    double tt = t_tot[NREP / 2] * 1e6, tk = t_k[NREP / 2] * 1e6;
    /* The real-space kernel alone, on a stored pair list (no neighbour search). */
    ms_nlist nl;
    ms_nlist_init(&nl);
    if (ms_nlist_build(&nl, &c, in.rcut)) return 1;
    static double e[MS_NBLOCK], g[MS_NBLOCK];
    double tkern[NREP];
    for (int rep = 0; rep < NREP; ++rep) {
      double t0 = now(), en = 0, W[3][3] = {{0}};
      for (int o = 0; o < nl.npairs; o += MS_NBLOCK) {
        ms_nblock b = {nl.npairs - o < MS_NBLOCK ? nl.npairs - o : MS_NBLOCK, nl.i + o,
                       nl.j + o, nl.dx + o, nl.dy + o, nl.dz + o, nl.r2 + o};
        memset(e, 0, sizeof(double) * (size_t)b.n);
        memset(g, 0, sizeof(double) * (size_t)b.n);
        ms_ewald_real_block(ew, &b, e, g);
        ms_ewald_block_accumulate(&b, e, g, MS_EWALD_ALL, &en, F, W);
      }
      tkern[rep] = now() - t0;
    }
    qsort(tkern, NREP, sizeof(double), cmp_double);
    double tkr = tkern[NREP / 2] * 1e6;
    printf("%6d  %-6s  %9.4f  %7.3f  %6ld  %9.1f  %8.1f  %9.1f  %7d  %8.1f  %8.1f\n", c.natoms,
           ms_ewald_method_name(in.method), in.alpha, in.rcut, in.nk, tt, tt - tk, tk,
           nl.npairs, tkr, tk + tkr);
    ms_nlist_free(&nl);
    free(F);
    free(q);
    ms_ewald_destroy(&ew);
    ms_cell_free(&c);
  }
  return 0;
}

static double time_one(ms_ewald ew, const ms_cell *c, const double *q, double (*F)[3],
                       ms_ewald_result *r, int *reps) {
  double t0 = now(), t = 0;
  int n = 0;
  do {
    r->forces = F;
    if (ms_ewald_compute(ew, c, q, MS_EWALD_ALL, r)) {
      fprintf(stderr, "%s\n", ms_err_message());
      return -1;
    }
    ++n;
    t = now() - t0;
  } while (t < 0.3 && n < 50);
  *reps = n;
  return t / n;
}

static int bench_scale(double acc, int nmax) {
  printf("# MgO supercells, accuracy %.0e: seconds per evaluation (E+F+W)\n", acc);
  printf("# natoms  direct(s)   pme(s)     auto-choice  pme-order  pme-grid\n");
  for (int nrep = 2; nrep <= nmax; ++nrep) {
    ms_cell c;
    double *q;
    if (build(0, nrep, nrep, nrep, 0.15, &c, &q)) return 1;
    double (*F)[3] = calloc((size_t)c.natoms, sizeof *F);
    double t[2];
    ms_ewald_info in[2];
    for (int m = 0; m < 2; ++m) {
      ms_ewald_params p;
      ms_ewald_params_default(&p);
      p.accuracy = acc;
      p.method = m ? MS_EWALD_PME : MS_EWALD_DIRECT;
      ms_ewald ew = NULL;
      ms_ewald_result r = {0};
      int reps;
      if (ms_ewald_create(&p, &ew)) return 1;
      if (m == 0 && c.natoms > 20000) {
        t[m] = NAN;
      } else {
        t[m] = time_one(ew, &c, q, F, &r, &reps);
        if (t[m] < 0) return 1;
      }
      ms_ewald_setup(ew, &c, q);
      ms_ewald_get_info(ew, &in[m]);
      ms_ewald_destroy(&ew);
    }
    ms_ewald_params p;
    ms_ewald_params_default(&p);
    p.accuracy = acc;
    ms_ewald ew = NULL;
    ms_ewald_info ia;
    if (ms_ewald_create(&p, &ew) || ms_ewald_setup(ew, &c, q)) return 1;
    ms_ewald_get_info(ew, &ia);
    ms_ewald_destroy(&ew);
    printf("%7d  %9.5f  %9.5f   %-6s       %2d        %dx%dx%d\n", c.natoms, t[0], t[1],
           ms_ewald_method_name(ia.method), in[1].pme_order, in[1].pme_grid[0],
           in[1].pme_grid[1], in[1].pme_grid[2]);
    fflush(stdout);
    free(F);
    free(q);
    ms_cell_free(&c);
  }
  return 0;
}

static int bench_pme(double acc, int nrep) {
  ms_cell c;
  double *q;
  if (build(0, nrep, nrep, nrep, 0.15, &c, &q)) return 1;
  double (*F)[3] = calloc((size_t)c.natoms, sizeof *F);
  double (*F0)[3] = calloc((size_t)c.natoms, sizeof *F0);
  ms_ewald_params p;
  ms_ewald_params_default(&p);
  p.accuracy = acc;
  p.method = MS_EWALD_PME;
  ms_ewald ew = NULL;
  ms_ewald_result r = {0};
  int reps;
  if (ms_ewald_create(&p, &ew)) return 1;
  double t = time_one(ew, &c, q, F, &r, &reps);
  ms_ewald_info in;
  ms_ewald_get_info(ew, &in);
  printf("natoms %d accuracy %.0e: pme %.5f s (order %d, grid %dx%dx%d, alpha %.4f, rcut %.3f)"
         " E = %.8f eV\n",
         c.natoms, acc, t, in.pme_order, in.pme_grid[0], in.pme_grid[1], in.pme_grid[2],
         in.alpha, in.rcut, r.energy);
  if (nrep <= 6) {
    ms_ewald_params pd;
    ms_ewald_params_default(&pd);
    pd.accuracy = 1e-12;
    pd.method = MS_EWALD_DIRECT;
    ms_ewald ed = NULL;
    ms_ewald_result r0 = {0};
    r0.forces = F0;
    if (ms_ewald_create(&pd, &ed) || ms_ewald_compute(ed, &c, q, MS_EWALD_ALL, &r0)) return 1;
    double fe = 0;
    for (int i = 0; i < c.natoms; ++i)
      for (int d = 0; d < 3; ++d) fe += (F[i][d] - F0[i][d]) * (F[i][d] - F0[i][d]);
    printf("  vs direct: relative energy error %.2e, RMS force error %.2e eV/Å\n",
           fabs(r.energy - r0.energy) / fabs(r0.energy), sqrt(fe / c.natoms));
    ms_ewald_destroy(&ed);
  }
  ms_ewald_destroy(&ew);
  free(F);
  free(F0);
  free(q);
  ms_cell_free(&c);
  return 0;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "small";
  double acc = argc > 2 ? atof(argv[2]) : 1e-8;
  if (!strcmp(mode, "small")) return bench_small(acc);
  if (!strcmp(mode, "scale")) return bench_scale(acc, argc > 3 ? atoi(argv[3]) : 8);
  if (!strcmp(mode, "pme")) return bench_pme(acc, argc > 3 ? atoi(argv[3]) : 4);
  fprintf(stderr, "usage: bench_ewald small|scale|pme [ACCURACY] [N]\n");
  return 1;
}
