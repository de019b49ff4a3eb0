/* Tests of the short-range pair forms, the block kernel and the catastrophe guard
 * (src/models/pair.c).
 *
 * Independent references used here:
 * - closed-form special points of each form (Lennard-Jones minimum -eps at 2^(1/6) sigma,
 *   Morse minimum -D at r0 and -3D/4 where exp(-a(r - r0)) = 1/2, ...);
 * - barrier positions and pair energies of the bare Buckingham + Coulomb energy with formal
 *   charges from the physics reference (shared/reference/physics.md §2.5, computed there
 *   independently with NumPy), parameters of Bush et al. 1994, Lewis & Catlow 1985 and the
 *   GULP catlow.lib Si-O entry;
 * - central finite differences of the energy for dE/dr, forces and the strain derivative on a
 *   rattled triclinic cell, with pairs generated here by a brute-force image loop (independent
 *   of src/core/neighbor.c).
 * The LAMMPS cross-check of the whole chain (potential file -> table -> kernel) is in
 * test_potential.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "matscreen/pair.h"
#include "ms_test.h"

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                    */

static ms_pair_term make_term(ms_pair_form f, double p0, double p1, double p2, double p3,
                              double rc, int shift) {
  ms_pair_term t;
  const double p[4] = {p0, p1, p2, p3};
  ms_err e = ms_pair_term_set(&t, f, p, rc, shift);
  if (e) fprintf(stderr, "make_term: %s\n", ms_err_message());
  return t;
}

/* Central difference with Richardson extrapolation (error O(h^4)). */
static double fd_term(const ms_pair_term *t, double r, double h) {
  const double d1 = (ms_pair_term_eval(t, r + h, NULL) - ms_pair_term_eval(t, r - h, NULL)) / (2 * h);
  const double d2 =
      (ms_pair_term_eval(t, r + 2 * h, NULL) - ms_pair_term_eval(t, r - 2 * h, NULL)) / (4 * h);
  return (4 * d1 - d2) / 3;
}

/* A tiny periodic system with Cartesian positions. */
enum { MAXAT = 16 };
typedef struct {
  double L[3][3]; /* rows */
  int n;
  double x[MAXAT][3];
  int kind[MAXAT];
} sys_t;

static void cross(const double a[3], const double b[3], double c[3]) {
  c[0] = a[1] * b[2] - a[2] * b[1];
  c[1] = a[2] * b[0] - a[0] * b[2];
  c[2] = a[0] * b[1] - a[1] * b[0];
}

/* Brute-force pair generation into blocks of at most `bs` pairs (a small block size exercises
 * the block boundaries of the kernel). Each unordered pair (i, j, n) once; for i == j only
 * the lexicographically positive image. */
static void brute_pass(const sys_t *s, double cutoff, int bs, const ms_pair_table *t,
                       ms_pair_acc *acc) {
  double vol, w[3];
  {
    double c[3];
    cross(s->L[1], s->L[2], c);
    vol = fabs(c[0] * s->L[0][0] + c[1] * s->L[0][1] + c[2] * s->L[0][2]);
    for (int k = 0; k < 3; ++k) {
      cross(s->L[(k + 1) % 3], s->L[(k + 2) % 3], c);
      w[k] = vol / sqrt(c[0] * c[0] + c[1] * c[1] + c[2] * c[2]);
    }
  }
  int nm[3];
  for (int k = 0; k < 3; ++k) nm[k] = (int)ceil(cutoff / w[k]) + 1;
  int bi[64], bj[64];
  double bx[64], by[64], bz[64], br2[64];
  int nb = 0;
  ms_pair_ctx ctx = {t, s->kind, acc};
  const double rc2 = cutoff * cutoff;
  for (int i = 0; i < s->n; ++i)
    for (int j = i; j < s->n; ++j)
      for (int a = -nm[0]; a <= nm[0]; ++a)
        for (int b = -nm[1]; b <= nm[1]; ++b)
          for (int c = -nm[2]; c <= nm[2]; ++c) {
            if (i == j) {
              if (a == 0 && b == 0 && c == 0) continue;
              if (a < 0 || (a == 0 && (b < 0 || (b == 0 && c < 0)))) continue;
            }
            double d[3];
            for (int k = 0; k < 3; ++k)
              d[k] = s->x[j][k] - s->x[i][k] + a * s->L[0][k] + b * s->L[1][k] + c * s->L[2][k];
            const double r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            if (r2 > rc2) continue;
            bi[nb] = i;
            bj[nb] = j;
            bx[nb] = d[0];
            by[nb] = d[1];
            bz[nb] = d[2];
            br2[nb] = r2;
            if (++nb == bs) {
              ms_nblock blk = {nb, bi, bj, bx, by, bz, br2};
              ms_pair_block_fn(&blk, &ctx);
              nb = 0;
            }
          }
  if (nb) {
    ms_nblock blk = {nb, bi, bj, bx, by, bz, br2};
    ms_pair_block_fn(&blk, &ctx);
  }
}

static double energy_of(const sys_t *s, const ms_pair_table *t) {
  ms_pair_acc acc = {0};
  ms_pair_acc_reset(&acc, NULL, 0);
  brute_pass(s, ms_pair_table_reach(t), 64, t, &acc);
  return acc.energy;
}

/* ------------------------------------------------------------------------------------------ */
/* Tests                                                                                      */

static void test_form_table(void) {
  for (int f = 0; f < MS_PAIR_NFORMS_; ++f) {
    const ms_pair_form_info *fi = ms_pair_form_get((ms_pair_form)f);
    MS_TEST_TRUE(fi && fi->name && fi->citation && strlen(fi->citation) > 10 && fi->eval);
    ms_pair_form back;
    MS_TEST_OK(ms_pair_form_lookup(fi->name, &back));
    MS_TEST_EQ_INT(back, f);
    for (int k = 0; k < fi->nparams; ++k) MS_TEST_TRUE(fi->param[k].key && fi->param[k].unit);
  }
  ms_pair_form f;
  MS_TEST_ERR(ms_pair_form_lookup("buckinghma", &f), MS_ERR_UNKNOWN_TYPE, "buckingham");
  MS_TEST_TRUE(ms_pair_form_get(MS_PAIR_NFORMS_) == NULL);
}

static void test_special_points(void) {
  double d;
  /* Lennard-Jones: zero at sigma, minimum -eps at 2^(1/6) sigma. */
  ms_pair_term lj = make_term(MS_PAIR_LENNARD_JONES, 0.0103, 3.4, 0, 0, 10, 0);
  MS_TEST_NEAR(ms_pair_term_eval(&lj, 3.4, &d), 0.0, 1e-15);
  MS_TEST_REL(d, -24 * 0.0103 / 3.4, 1e-13);  /* 4 eps (-12 + 6) / sigma */
  const double rm = pow(2.0, 1.0 / 6.0) * 3.4;
  MS_TEST_REL(ms_pair_term_eval(&lj, rm, &d), -0.0103, 1e-13);
  MS_TEST_NEAR(d, 0.0, 1e-14);
  /* Morse: -D at r0 with zero slope; -3D/4 where exp(-a(r - r0)) = 1/2; 0 where it is 2. */
  ms_pair_term mo = make_term(MS_PAIR_MORSE, 0.5, 1.7, 2.1, 0, 10, 0);
  MS_TEST_REL(ms_pair_term_eval(&mo, 2.1, &d), -0.5, 1e-14);
  MS_TEST_NEAR(d, 0.0, 1e-15);
  const double rh = 2.1 + log(2.0) / 1.7;
  MS_TEST_REL(ms_pair_term_eval(&mo, rh, &d), -0.375, 1e-13);
  MS_TEST_REL(d, 2 * 1.7 * 0.5 * 0.5 * 0.5, 1e-13);  /* 2 a D x (1 - x), x = 1/2 */
  MS_TEST_NEAR(ms_pair_term_eval(&mo, 2.1 - log(2.0) / 1.7, &d), 0.0, 1e-14);
  /* Pedone at r0: -D + C/r0^12 (Sr-O row of Pedone et al. 2006, physics.md §2.3). */
  ms_pair_term pe = make_term(MS_PAIR_PEDONE, 0.019623, 1.886, 3.328330, 3.0, 5.5, 0);
  MS_TEST_REL(ms_pair_term_eval(&pe, 3.328330, &d), -0.019623 + 3.0 / pow(3.328330, 12), 1e-13);
  MS_TEST_REL(d, -12 * 3.0 / pow(3.328330, 13), 1e-12);
  /* Buckingham at r = rho: A/e - C/rho^6; Born-Mayer at r = rho ln A: exactly 1 eV. */
  ms_pair_term bk = make_term(MS_PAIR_BUCKINGHAM, 25.41, 0.6937, 32.32, 0, 12, 0);
  MS_TEST_REL(ms_pair_term_eval(&bk, 0.6937, NULL), 25.41 * exp(-1.0) - 32.32 / pow(0.6937, 6), 1e-13);
  ms_pair_term bm = make_term(MS_PAIR_BORN_MAYER, 2457.243, 0.261, 0, 0, 10, 0);
  MS_TEST_REL(ms_pair_term_eval(&bm, 0.261 * log(2457.243), &d), 1.0, 1e-13);
  MS_TEST_REL(d, -1.0 / 0.261, 1e-13);
  /* Inverse power: B at 1 Å, B / 2^n at 2 Å. */
  ms_pair_term ip = make_term(MS_PAIR_INVERSE_POWER, 7.5, 9, 0, 0, 10, 0);
  MS_TEST_REL(ms_pair_term_eval(&ip, 1.0, &d), 7.5, 1e-15);
  MS_TEST_REL(d, -67.5, 1e-14);
  MS_TEST_REL(ms_pair_term_eval(&ip, 2.0, NULL), 7.5 / 512.0, 1e-15);
  /* Truncation: zero at and beyond the cutoff. */
  MS_TEST_NEAR(ms_pair_term_eval(&bk, 12.0, &d), 0.0, 0.0);
  MS_TEST_NEAR(d, 0.0, 0.0);
}

/* Physics reference §2.5: bare pair energy with formal charges at 2.0 Å (eV, 0.1 eV printed). */
static void test_pair_energy_table(void) {
  const double K = MS_COULOMB_K;
  struct {
    const char *name;
    double A, rho, C, qq, e2;
  } rows[] = {
      {"Mg-O Bush", 2457.243, 0.2610, 0, -4, -27.6},  {"Sr-O Bush", 1956.702, 0.3252, 0, -4, -24.6},
      {"Ti-O Bush", 2088.107, 0.2888, 0, -8, -55.5},  {"Al-O Bush", 2409.505, 0.2649, 0, -6, -41.9},
      {"O-O Bush", 25.410, 0.6937, 32.32, 4, 29.7},   {"O-O LC", 22764.0, 0.149, 27.879, 4, 28.4},
      {"Si-O Catlow", 1283.907, 0.32052, 10.66158, -8, -55.3},
  };
  for (size_t k = 0; k < sizeof rows / sizeof rows[0]; ++k) {
    ms_pair_term t = make_term(MS_PAIR_BUCKINGHAM, rows[k].A, rows[k].rho, rows[k].C, 0, 12, 0);
    const double e = ms_pair_term_eval(&t, 2.0, NULL) + K * rows[k].qq / 2.0;
    if (fabs(e - rows[k].e2) > 0.051) fprintf(stderr, "row %s\n", rows[k].name);
    MS_TEST_NEAR(e, rows[k].e2, 0.051);
  }
}

static void test_fd_derivatives(void) {
  const ms_pair_term terms[] = {
      make_term(MS_PAIR_BUCKINGHAM, 25.41, 0.6937, 32.32, 0, 12, 0),
      make_term(MS_PAIR_BUCKINGHAM, 2088.107, 0.2888, 0.0, 0, 10, 1),
      make_term(MS_PAIR_BORN_MAYER, 1271.504, 0.3, 0, 0, 10, 0),
      make_term(MS_PAIR_LENNARD_JONES, 0.0103, 3.4, 0, 0, 10, 1),
      make_term(MS_PAIR_MORSE, 0.5, 1.7, 2.1, 0, 10, 0),
      make_term(MS_PAIR_PEDONE, 0.042395, 1.379316, 3.618701, 22.0, 5.5, 0),
      make_term(MS_PAIR_PEDONE, 0.340554, 2.0067, 2.1, 1.0, 5.5, 1),
      make_term(MS_PAIR_INVERSE_POWER, 7.5, 9, 0, 0, 10, 0),
      make_term(MS_PAIR_INVERSE_POWER, 3.0, 4.5, 0, 0, 10, 0),
  };
  const double rs[] = {1.3, 1.9, 2.4, 3.1, 4.2, 5.3};
  for (size_t k = 0; k < sizeof terms / sizeof terms[0]; ++k)
    for (size_t m = 0; m < sizeof rs / sizeof rs[0]; ++m) {
      double d;
      ms_pair_term_eval(&terms[k], rs[m], &d);
      const double fd = fd_term(&terms[k], rs[m], 1e-4);
      if (!(fabs(fd - d) <= 1e-7 * fabs(d) + 1e-13))
        fprintf(stderr, "term %zu (%s) at r = %g\n", k, ms_pair_form_get(terms[k].form)->name,
                rs[m]);
      MS_TEST_NEAR(fd, d, 1e-7 * fabs(d) + 1e-13);
    }
}

static void test_shift(void) {
  ms_pair_term plain = make_term(MS_PAIR_BUCKINGHAM, 25.41, 0.6937, 32.32, 0, 6.0, 0);
  ms_pair_term shifted = make_term(MS_PAIR_BUCKINGHAM, 25.41, 0.6937, 32.32, 0, 6.0, 1);
  /* E_rc = A e^{-6/rho} - C/6^6 evaluated independently. */
  const double erc = 25.41 * exp(-6.0 / 0.6937) - 32.32 / 46656.0;
  MS_TEST_REL(shifted.eshift, erc, 1e-13);
  double d1, d2;
  for (double r = 1.5; r < 6.0; r += 0.7) {
    MS_TEST_REL(ms_pair_term_eval(&shifted, r, &d2), ms_pair_term_eval(&plain, r, &d1) - erc,
                1e-12);
    MS_TEST_REL(d2, d1, 0.0); /* forces are not shifted */
  }
  /* Continuous at the cutoff with the shift, a jump of E(rc) without. */
  MS_TEST_NEAR(ms_pair_term_eval(&shifted, 6.0 - 1e-9, NULL), 0.0, 1e-10);
  MS_TEST_NEAR(ms_pair_term_eval(&plain, 6.0 - 1e-9, NULL), erc, 1e-10);

  /* Shifted force: E(r) - E(rc) - (r - rc) E'(rc), with E'(rc) = -A/rho e^{-rc/rho} + 6C/rc^7
   * written out here; energy and force both vanish at the cutoff. */
  ms_pair_term sf = make_term(MS_PAIR_BUCKINGHAM, 25.41, 0.6937, 32.32, 0, 6.0, MS_PAIR_SHIFT_FORCE);
  const double drc = -25.41 / 0.6937 * exp(-6.0 / 0.6937) + 6.0 * 32.32 / 279936.0;
  MS_TEST_REL(sf.eshift, erc, 1e-13);
  MS_TEST_REL(sf.fshift, drc, 1e-13);
  for (double r = 1.5; r < 6.0; r += 0.7) {
    double d3;
    MS_TEST_REL(ms_pair_term_eval(&sf, r, &d3), ms_pair_term_eval(&plain, r, &d1) - erc - (r - 6.0) * drc, 1e-12);
    MS_TEST_REL(d3, d1 - drc, 1e-12);
    MS_TEST_NEAR(fd_term(&sf, r, 1e-4), d3, 1e-7 * fabs(d3) + 1e-13);
  }
  double d4;
  MS_TEST_NEAR(ms_pair_term_eval(&sf, 6.0 - 1e-9, &d4), 0.0, 1e-12);
  MS_TEST_NEAR(d4, 0.0, 1e-9);
  MS_TEST_NEAR(ms_pair_term_eval(&sf, 6.0 + 1e-9, &d4), 0.0, 0);
  /* no other value is a shift */
  ms_pair_term bad;
  const double prm[3] = {25.41, 0.6937, 32.32};
  MS_TEST_ERR(ms_pair_term_set(&bad, MS_PAIR_BUCKINGHAM, prm, 6.0, 3), MS_ERR_INPUT, "unknown cutoff shift 3");
}

static void test_bad_terms(void) {
  ms_pair_term t;
  const double neg_rho[3] = {100.0, -0.3, 0.0};
  MS_TEST_ERR(ms_pair_term_set(&t, MS_PAIR_BUCKINGHAM, neg_rho, 10, 0), MS_ERR_INPUT, "rho_A");
  const double ok[3] = {100.0, 0.3, 0.0};
  MS_TEST_ERR(ms_pair_term_set(&t, MS_PAIR_BUCKINGHAM, ok, -1, 0), MS_ERR_INPUT, "cutoff_A");
  MS_TEST_ERR(ms_pair_term_set(&t, MS_PAIR_BUCKINGHAM, ok, 1e4, 0), MS_ERR_INPUT, "cutoff_A");
  const double nan_a[3] = {NAN, 0.3, 0.0};
  MS_TEST_ERR(ms_pair_term_set(&t, MS_PAIR_BUCKINGHAM, nan_a, 10, 0), MS_ERR_INPUT, "A_eV");
  const double zero_sigma[2] = {0.01, 0.0};
  MS_TEST_ERR(ms_pair_term_set(&t, MS_PAIR_LENNARD_JONES, zero_sigma, 10, 0), MS_ERR_INPUT,
              "sigma_A");
  const double big_n[2] = {1.0, 40.0};
  MS_TEST_ERR(ms_pair_term_set(&t, MS_PAIR_INVERSE_POWER, big_n, 10, 0), MS_ERR_INPUT, "n must");
  ms_pair_table tab;
  ms_pair_table_init(&tab);
  MS_TEST_ERR(ms_pair_table_reset(&tab, 0), MS_ERR_ARG, "kinds");
  MS_TEST_OK(ms_pair_table_reset(&tab, 2));
  ms_pair_term good = make_term(MS_PAIR_BORN_MAYER, 1, 0.3, 0, 0, 5, 0);
  MS_TEST_ERR(ms_pair_table_add_term(&tab, 0, 2, &good), MS_ERR_ARG, "out of range");
  for (int k = 0; k < MS_PAIR_MAX_TERMS; ++k) MS_TEST_OK(ms_pair_table_add_term(&tab, 0, 1, &good));
  MS_TEST_ERR(ms_pair_table_add_term(&tab, 0, 1, &good), MS_ERR_INPUT, "more than");
  MS_TEST_ERR(ms_pair_table_set_guard(&tab, 0, 1, -1, 0, 0), MS_ERR_INPUT, "guard radius");
  ms_pair_table_free(&tab);
}

/* Barrier tops of the bare pair energy, physics reference §2.5 (r_top to 1e-3 Å, E(r_top)
 * printed to 0.1 eV). */
static void test_barriers(void) {
  const double K = MS_COULOMB_K;
  struct {
    const char *name;
    double A, rho, C, qq, rtop, etop;
  } rows[] = {
      {"Mg-O Bush", 2457.243, 0.2610, 0, -4, 0.0936, 1101.4},
      {"Sr-O Bush", 1956.702, 0.3252, 0, -4, 0.1172, 873.2},
      {"Ti-O Bush", 2088.107, 0.2888, 0, -8, 0.1692, 481.4},
      {"Al-O Bush", 2409.505, 0.2649, 0, -6, 0.1229, 812.1},
      {"O-O Bush", 25.410, 0.6937, 32.32, 4, 1.2368, 41.8},
      {"O-O Lewis-Catlow", 22764.0, 0.149, 27.879, 4, 0.7980, 71.7},
      {"Si-O Catlow", 1283.907, 0.32052, 10.66158, -8, 1.0228, -69.1},
  };
  for (size_t k = 0; k < sizeof rows / sizeof rows[0]; ++k) {
    ms_pair_term t = make_term(MS_PAIR_BUCKINGHAM, rows[k].A, rows[k].rho, rows[k].C, 0, 12, 0);
    double rt = 0, et = 0;
    int found = 0;
    MS_TEST_OK(ms_pair_barrier(&t, 1, K * rows[k].qq, &rt, &et, &found));
    if (!found || fabs(rt - rows[k].rtop) > 1e-3) fprintf(stderr, "barrier %s\n", rows[k].name);
    MS_TEST_EQ_INT(found, 1);
    MS_TEST_NEAR(rt, rows[k].rtop, 1e-3);
    MS_TEST_NEAR(et, rows[k].etop, 0.051);
  }
  /* No catastrophe: a repulsive cation-cation pair without short-range terms, a Pedone pair
   * whose C/r^12 wall dominates at short range, Lennard-Jones without charges. */
  int found = 1;
  double rt, et;
  MS_TEST_OK(ms_pair_barrier(NULL, 0, K * 8, &rt, &et, &found));
  MS_TEST_EQ_INT(found, 0);
  ms_pair_term pe = make_term(MS_PAIR_PEDONE, 0.019623, 1.886, 3.328330, 3.0, 5.5, 0);
  MS_TEST_OK(ms_pair_barrier(&pe, 1, K * 1.2 * -1.2, &rt, &et, &found));
  MS_TEST_EQ_INT(found, 0);
  ms_pair_term lj = make_term(MS_PAIR_LENNARD_JONES, 0.0103, 3.4, 0, 0, 10, 0);
  MS_TEST_OK(ms_pair_barrier(&lj, 1, 0.0, &rt, &et, &found));
  MS_TEST_EQ_INT(found, 0);
  /* A Morse pair is finite at r = 0, so with attractive charges it does collapse: the barrier
   * is where dE/dr = 0, checked here against the bisection bracket by evaluating the slope. */
  ms_pair_term mo = make_term(MS_PAIR_MORSE, 0.5, 1.7, 2.1, 0, 10, 0);
  MS_TEST_OK(ms_pair_barrier(&mo, 1, -K, &rt, &et, &found));
  MS_TEST_EQ_INT(found, 1);
  double d;
  ms_pair_term_eval(&mo, rt, &d);
  MS_TEST_NEAR(d + K / (rt * rt), 0.0, 1e-6 * K / (rt * rt));
}

/* Rattled triclinic cell with three kinds and several terms per pair (some shifted, one with
 * a repulsive core); forces and strain derivative against finite differences. */
static void build_system(sys_t *s) {
  memset(s, 0, sizeof *s);
  /* Skewed lattice, rows; lower-triangular is not required by the kernel. */
  const double L[3][3] = {{6.1, 0.0, 0.0}, {1.3, 5.7, 0.0}, {-0.8, 0.9, 5.2}};
  memcpy(s->L, L, sizeof L);
  /* Fractional sites of an "ABO3 x 2"-like arrangement, then rattled by fixed offsets. */
  const double fr[10][3] = {{0, 0, 0},        {0.5, 0.5, 0.5},   {0.5, 0.5, 0.0},
                            {0.5, 0.0, 0.5},  {0.0, 0.5, 0.5},   {0.25, 0.75, 0.25},
                            {0.75, 0.25, 0.75}, {0.75, 0.25, 0.25}, {0.25, 0.25, 0.75},
                            {0.75, 0.75, 0.25}};
  const int kinds[10] = {0, 0, 2, 2, 2, 1, 1, 2, 2, 2};
  s->n = 10;
  for (int i = 0; i < s->n; ++i) {
    s->kind[i] = kinds[i];
    for (int k = 0; k < 3; ++k) {
      /* deterministic "rattle" of up to ~0.15 Å */
      const double rattle = 0.15 * sin(1.7 * i + 2.3 * k + 0.4);
      s->x[i][k] = fr[i][0] * L[0][k] + fr[i][1] * L[1][k] + fr[i][2] * L[2][k] + rattle;
    }
  }
}

static void build_table(ms_pair_table *t) {
  ms_pair_table_init(t);
  ms_pair_table_reset(t, 3);
  /* kind 0 ~ Sr, 1 ~ Ti, 2 ~ O (Bush 1994 cation-O and O-O), plus extra terms. */
  ms_pair_term a = make_term(MS_PAIR_BUCKINGHAM, 1956.702, 0.3252, 0.0, 0, 6.5, 0);
  ms_pair_term b = make_term(MS_PAIR_BUCKINGHAM, 2088.107, 0.2888, 0.0, 0, 6.0, 1);
  ms_pair_term c = make_term(MS_PAIR_BUCKINGHAM, 25.410, 0.6937, 32.32, 0, 7.0, 0);
  ms_pair_term d = make_term(MS_PAIR_INVERSE_POWER, 30.0, 8, 0, 0, 3.0, 1);
  ms_pair_term e = make_term(MS_PAIR_MORSE, 0.05, 1.5, 3.5, 0, 5.0, 1);
  ms_pair_term f = make_term(MS_PAIR_LENNARD_JONES, 0.01, 3.0, 0, 0, 7.5, 0);
  ms_pair_term g = make_term(MS_PAIR_PEDONE, 0.024235, 2.254703, 2.708943, 1.0, 5.5, MS_PAIR_SHIFT_FORCE);
  ms_pair_table_add_term(t, 0, 2, &a);
  ms_pair_table_add_term(t, 1, 2, &b);
  ms_pair_table_add_term(t, 2, 1, &g);
  ms_pair_table_add_term(t, 2, 2, &c);
  ms_pair_table_add_term(t, 2, 2, &d);
  ms_pair_table_add_term(t, 0, 1, &e);
  ms_pair_table_add_term(t, 0, 0, &f);
  ms_pair_table_add_term(t, 1, 1, &e);
  /* A core on Sr-Ti reaching out to 3.9 Å so that some pairs feel it. */
  ms_pair_table_set_guard(t, 0, 1, 3.9, 0.0, 0.02);
}

static void test_kernel_fd(void) {
  sys_t s;
  build_system(&s);
  ms_pair_table t;
  build_table(&t);
  MS_TEST_NEAR(t.max_cutoff, 7.5, 0);
  MS_TEST_NEAR(ms_pair_table_reach(&t), 7.5, 0);
  double F[MAXAT][3];
  ms_pair_acc acc = {0};
  ms_pair_acc_reset(&acc, F, s.n);
  brute_pass(&s, ms_pair_table_reach(&t), 7, &t, &acc);
  MS_TEST_EQ_INT(acc.status, MS_STATUS_OK);
  MS_TEST_TRUE(isfinite(acc.energy) && acc.energy != 0.0);
  /* Block size must not matter. */
  ms_pair_acc acc2 = {0};
  ms_pair_acc_reset(&acc2, NULL, 0);
  brute_pass(&s, ms_pair_table_reach(&t), 64, &t, &acc2);
  MS_TEST_REL(acc2.energy, acc.energy, 1e-13);

  /* Net force vanishes (translation invariance). */
  double fsum[3] = {0, 0, 0}, fmax = 0;
  for (int i = 0; i < s.n; ++i)
    for (int k = 0; k < 3; ++k) {
      fsum[k] += F[i][k];
      if (fabs(F[i][k]) > fmax) fmax = fabs(F[i][k]);
    }
  for (int k = 0; k < 3; ++k) MS_TEST_NEAR(fsum[k], 0.0, 1e-11 * fmax);

  const double h = 1e-5;
  for (int i = 0; i < s.n; ++i)
    for (int k = 0; k < 3; ++k) {
      sys_t sp = s, sm = s;
      sp.x[i][k] += h;
      sm.x[i][k] -= h;
      const double fd = -(energy_of(&sp, &t) - energy_of(&sm, &t)) / (2 * h);
      MS_TEST_NEAR(F[i][k], fd, 1e-7 * fmax);
    }
  /* Strain derivative: positions and lattice deformed as x_b -> x_a (delta_ab + eps_ab). */
  double wmax = 0;
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b)
      if (fabs(acc.W[a][b]) > wmax) wmax = fabs(acc.W[a][b]);
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) {
      double e2[2];
      for (int sg = 0; sg < 2; ++sg) {
        const double eps = sg ? -h : h;
        sys_t q = s;
        for (int r = 0; r < 3; ++r) q.L[r][b] += eps * s.L[r][a];
        for (int i = 0; i < s.n; ++i) q.x[i][b] += eps * s.x[i][a];
        e2[sg] = energy_of(&q, &t);
      }
      MS_TEST_NEAR(acc.W[a][b], (e2[0] - e2[1]) / (2 * h), 1e-7 * wmax);
    }
  MS_TEST_NEAR(acc.W[0][1], acc.W[1][0], 0.0);

  /* The per-pair variant (for fusing with Ewald) gives the same sums. */
  {
    ms_pair_acc ga = {0};
    ms_pair_acc_reset(&ga, NULL, 0);
    double e = 0, Fe[MAXAT][3] = {{0}}, We[3][3] = {{0}};
    sys_t q = s;
    /* one block with every pair, generated by a pass that records them */
    int bi[512], bj[512];
    double bx[512], by[512], bz[512], br2[512], pe_[512] = {0}, pg[512] = {0};
    int nb = 0;
    const double rc = ms_pair_table_reach(&t);
    for (int i = 0; i < q.n; ++i)
      for (int j = i; j < q.n; ++j)
        for (int a = -3; a <= 3; ++a)
          for (int b = -3; b <= 3; ++b)
            for (int c = -3; c <= 3; ++c) {
              if (i == j && (a < 0 || (a == 0 && (b < 0 || (b == 0 && c <= 0))))) continue;
              double d[3];
              for (int k = 0; k < 3; ++k)
                d[k] = q.x[j][k] - q.x[i][k] + a * q.L[0][k] + b * q.L[1][k] + c * q.L[2][k];
              const double r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
              if (r2 > rc * rc || nb == 512) continue;
              bi[nb] = i, bj[nb] = j, bx[nb] = d[0], by[nb] = d[1], bz[nb] = d[2], br2[nb] = r2;
              ++nb;
            }
    MS_TEST_TRUE(nb < 512);
    const ms_nblock blk = {nb, bi, bj, bx, by, bz, br2};
    ms_pair_kernel_eg(&t, q.kind, &blk, pe_, pg, &ga);
    for (int p = 0; p < nb; ++p) {
      const double d[3] = {bx[p], by[p], bz[p]};
      e += pe_[p];
      for (int k = 0; k < 3; ++k) {
        Fe[bi[p]][k] += pg[p] * d[k];
        Fe[bj[p]][k] -= pg[p] * d[k];
        for (int m = 0; m < 3; ++m) We[k][m] += pg[p] * d[k] * d[m];
      }
    }
    MS_TEST_REL(e, acc.energy, 1e-12);
    for (int i = 0; i < s.n; ++i)
      for (int k = 0; k < 3; ++k) MS_TEST_NEAR(Fe[i][k], F[i][k], 1e-12 * fmax);
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) MS_TEST_NEAR(We[a][b], acc.W[a][b], 1e-12 * wmax);
    MS_TEST_EQ_INT(ga.status, MS_STATUS_OK);
    MS_TEST_NEAR(ga.energy, 0.0, 0.0);
  }

  /* Invariance: translating every atom leaves energy and forces unchanged. */
  sys_t st = s;
  for (int i = 0; i < s.n; ++i)
    for (int k = 0; k < 3; ++k) st.x[i][k] += 0.37 * (k + 1);
  MS_TEST_REL(energy_of(&st, &t), acc.energy, 1e-12);
  ms_pair_table_free(&t);
}

/* Two O2- ions in a large cubic box with Bush O-O and formal charges: the automatic guard
 * (barrier 1.2368 Å + margin) catches 1.0 Å and lets 2.5 Å pass; 0.2 Å is an overlap. */
static void test_guard(void) {
  ms_pair_table t;
  ms_pair_table_init(&t);
  MS_TEST_OK(ms_pair_table_reset(&t, 1));
  ms_pair_term oo = make_term(MS_PAIR_BUCKINGHAM, 25.410, 0.6937, 32.32, 0, 12, 0);
  MS_TEST_OK(ms_pair_table_add_term(&t, 0, 0, &oo));
  double rt, et;
  int found;
  MS_TEST_OK(ms_pair_barrier(&oo, 1, MS_COULOMB_K * 4, &rt, &et, &found));
  MS_TEST_OK(ms_pair_table_set_guard(&t, 0, 0, rt + MS_PAIR_GUARD_MARGIN_A, rt, 0.0));
  sys_t s;
  memset(&s, 0, sizeof s);
  for (int k = 0; k < 3; ++k) s.L[k][k] = 30.0;
  s.n = 2;
  const double dist[] = {1.0, 2.5, 0.2, 1.3};
  const ms_status want[] = {MS_STATUS_COLLAPSED, MS_STATUS_OK, MS_STATUS_OVERLAP,
                            MS_STATUS_COLLAPSED};
  for (int c = 0; c < 4; ++c) {
    s.x[1][0] = dist[c];
    ms_pair_acc acc = {0};
    ms_pair_acc_reset(&acc, NULL, 0);
    brute_pass(&s, ms_pair_table_reach(&t), 64, &t, &acc);
    MS_TEST_EQ_INT(acc.status, want[c]);
    if (want[c] != MS_STATUS_OK) {
      MS_TEST_EQ_INT(acc.nguard, 1);
      MS_TEST_EQ_INT(acc.bad_i, 0);
      MS_TEST_EQ_INT(acc.bad_j, 1);
      MS_TEST_NEAR(acc.bad_r, dist[c], 1e-12);
      char buf[200];
      ms_pair_acc_describe(&acc, NULL, buf, sizeof buf);
      MS_TEST_TRUE(strstr(buf, want[c] == MS_STATUS_OVERLAP ? "overlap" : "catastrophe guard"));
    }
  }
  /* Overlap outranks collapse when both occur, whatever the order of the pairs. */
  {
    sys_t q = s;
    q.n = 3;
    q.x[1][0] = 1.0;  /* sites 0 and 1: collapse */
    q.x[2][0] = 1.25; /* sites 1 and 2: overlap; sites 0 and 2: collapse */
    ms_pair_acc acc = {0};
    ms_pair_acc_reset(&acc, NULL, 0);
    brute_pass(&q, ms_pair_table_reach(&t), 64, &t, &acc);
    MS_TEST_EQ_INT(acc.status, MS_STATUS_OVERLAP);
    MS_TEST_EQ_INT(acc.bad_i, 1);
    MS_TEST_EQ_INT(acc.bad_j, 2);
    MS_TEST_EQ_INT(acc.nguard, 3);
    /* With stop_on_guard the block callback asks the pass to stop. */
    ms_pair_acc_reset(&acc, NULL, 0);
    acc.stop_on_guard = 1;
    ms_pair_ctx ctx = {&t, q.kind, &acc};
    const int bi[1] = {0}, bj[1] = {1};
    const double dx[1] = {1.0}, dy[1] = {0}, dz[1] = {0}, r2[1] = {1.0};
    const ms_nblock blk = {1, bi, bj, dx, dy, dz, r2};
    MS_TEST_EQ_INT(ms_pair_block_fn(&blk, &ctx), 1);
    MS_TEST_EQ_INT(acc.status, MS_STATUS_COLLAPSED);
  }
  /* With a repulsive core instead: no report, the energy carries the wall, and the force is
   * the derivative of that energy. */
  MS_TEST_OK(ms_pair_table_set_guard(&t, 0, 0, rt + MS_PAIR_GUARD_MARGIN_A, rt, 1.0));
  s.n = 2;
  for (double r = 0.6; r < 1.4; r += 0.2) {
    s.x[1][0] = r;
    double F[2][3];
    ms_pair_acc acc = {0};
    ms_pair_acc_reset(&acc, F, 2);
    brute_pass(&s, ms_pair_table_reach(&t), 64, &t, &acc);
    MS_TEST_EQ_INT(acc.status, MS_STATUS_OK);
    const double rm = rt + MS_PAIR_GUARD_MARGIN_A, x = rm / r;
    const double core = r < rm ? pow(x, 12) - 1 + 12 * (r / rm - 1) : 0.0;
    const double bare = ms_pair_term_eval(&oo, r, NULL);
    MS_TEST_REL(acc.energy, bare + core, 1e-12);
    sys_t sp = s, sm = s;
    sp.x[1][0] += 1e-6;
    sm.x[1][0] -= 1e-6;
    const double fd = -(energy_of(&sp, &t) - energy_of(&sm, &t)) / 2e-6;
    MS_TEST_NEAR(F[1][0], fd, 1e-7 * fabs(fd) + 1e-9);
  }
  /* The wall wins over the Coulomb + dispersion pull everywhere inside the guard: the total
   * pair force (short range + core + bare Coulomb of two O2-) is repulsive. */
  const double rm = rt + MS_PAIR_GUARD_MARGIN_A;
  const ms_pair_entry *pe = ms_pair_table_get(&t, 0, 0);
  int repulsive = 1;
  for (double r = 0.02; r < rm; r += 0.01) {
    const double x = rm / r;
    double d;
    ms_pair_term_eval(&oo, r, &d);
    d += pe->core_eV * 12.0 * (1.0 / rm - pow(x, 12) / r) - MS_COULOMB_K * 4 / (r * r);
    if (!(d < 0.0)) repulsive = 0;
  }
  MS_TEST_TRUE(repulsive);
  ms_pair_table_free(&t);
}

int main(void) {
  test_form_table();
  test_special_points();
  test_pair_energy_table();
  test_fd_derivatives();
  test_shift();
  test_bad_terms();
  test_barriers();
  test_kernel_fd();
  test_guard();
  return MS_TEST_RESULT();
}
