/* Unit tests of the powder XRD pattern (ms_xrd_pattern, ms_xrd_json).
 *
 * Independent values:
 * - rock salt MgO by hand: Bragg angles of the face-centred reflections, their multiplicities,
 *   and intensities from the closed-form structure factor F = 4 (f_Mg ± f_O) (+ for h, k, l all
 *   even, - for all odd, 0 for mixed parity);
 * - pymatgen's XRDCalculator on eight cases (tests/data/xrd/cases.csv: rock salt, cubic
 *   perovskite, rutile, spinel with Cu and Mo radiation, Pnma perovskite, corundum on
 *   hexagonal axes, a triclinic cell), stored by tests/regression/make_xrd_reference.py.
 *   Every peak above 0.01 (of 100) on either side is matched one to one by 2θ.
 * Invariances: rotating, translating and permuting the sites (same peaks and indices), a
 * unimodular change of basis and supercells (same positions, d and intensities), oxidation
 * states (ignored), and the 2θ window (a sub-range is the same peaks rescaled). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/xrd_scattering.h"
#include "matscreen/cell.h"
#include "matscreen/io.h"
#include "matscreen/rng.h"
#include "matscreen/species.h"
#include "matscreen/xrd.h"
#include "ms_test.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define DATA "tests/data/xrd/"

/* Agreement asked of the pymatgen comparison. The model and the coefficients are the same,
 * so the differences are rounding only; these bounds are far tighter than what the lab needs
 * (0.01 degrees and 2 points of intensity). */
#define TOL_2THETA 1e-4   /* degrees */
#define TOL_D 1e-6        /* Å */
#define TOL_I_ABS 0.01    /* points of the strongest = 100 */
#define TOL_I_REL 1e-3    /* relative to the reference intensity */
#define MATCH_FLOOR 0.01  /* peaks weaker than this on both sides are not compared */

static void add(ms_cell *c, const char *sp, double x, double y, double z) {
  ms_species s;
  MS_TEST_OK(ms_species_parse(sp, &s));
  double f[3] = {x, y, z};
  MS_TEST_OK(ms_cell_add_atom(c, &s, f));
}

static void rocksalt(ms_cell *c, double a, const char *cation, const char *anion) {
  ms_cell_init(c);
  double L[3][3] = {{a, 0, 0}, {0, a, 0}, {0, 0, a}};
  ms_cell_set_lattice(c, L);
  const double fcc[4][3] = {{0, 0, 0}, {0, .5, .5}, {.5, 0, .5}, {.5, .5, 0}};
  for (int k = 0; k < 4; ++k) {
    add(c, cation, fcc[k][0], fcc[k][1], fcc[k][2]);
    add(c, anion, fcc[k][0] + .5, fcc[k][1], fcc[k][2]);
  }
}

static int read_one(const char *path, ms_cell *c) {
  ms_cell_list l;
  ms_cell_list_init(&l);
  ms_err e = ms_structure_read(path, MS_FORMAT_AUTO, &l);
  MS_TEST_OK(e);
  ms_cell_init(c);
  int ok = e == MS_SUCCESS && l.n == 1;
  if (ok) MS_TEST_OK(ms_cell_copy(c, &l.cells[0]));
  ms_cell_list_free(&l);
  return ok;
}

static double scattering_factor(int Z, double s) {
  const ms_xrd_sf_coeffs *c = &ms_xrd_sf[Z];
  double sum = 0;
  for (int i = 0; i < 4; ++i) sum += c->a[i] * exp(-c->b[i] * s * s);
  return Z - 41.78214 * s * s * sum;
}

static void test_defaults_and_errors(void) {
  ms_xrd_options o;
  ms_xrd_options_default(&o);
  MS_TEST_NEAR(o.wavelength_A, 1.54184, 0);
  MS_TEST_NEAR(o.two_theta_min_deg, 0, 0);
  MS_TEST_NEAR(o.two_theta_max_deg, 90, 0);
  MS_TEST_NEAR(o.merge_tol_deg, 1e-5, 0);
  MS_TEST_NEAR(o.min_intensity, 1e-3, 0);

  ms_cell c;
  rocksalt(&c, 4.212, "Mg2+", "O2-");
  ms_xrd_peak dummy;
  ms_xrd_peak *p = &dummy; /* must be reset to NULL on error */
  size_t n = 99;
  MS_TEST_ERR(ms_xrd_pattern(NULL, NULL, &p, &n), MS_ERR_ARG, "NULL cell");
  MS_TEST_TRUE(p == NULL && n == 0);
  MS_TEST_ERR(ms_xrd_pattern(&c, NULL, NULL, &n), MS_ERR_ARG, "NULL output");
  ms_xrd_options bad = o;
  bad.wavelength_A = 0;
  MS_TEST_ERR(ms_xrd_pattern(&c, &bad, &p, &n), MS_ERR_ARG, "wavelength_A");
  bad = o;
  bad.two_theta_max_deg = 180;
  MS_TEST_ERR(ms_xrd_pattern(&c, &bad, &p, &n), MS_ERR_ARG, "two_theta_max_deg < 180");
  bad = o;
  bad.two_theta_min_deg = 90;
  MS_TEST_ERR(ms_xrd_pattern(&c, &bad, &p, &n), MS_ERR_ARG, "two_theta_min_deg");
  bad = o;
  bad.merge_tol_deg = NAN;
  MS_TEST_ERR(ms_xrd_pattern(&c, &bad, &p, &n), MS_ERR_ARG, "merge_tol_deg");
  bad = o;
  bad.min_intensity = -1;
  MS_TEST_ERR(ms_xrd_pattern(&c, &bad, &p, &n), MS_ERR_ARG, "min_intensity");
  MS_TEST_TRUE(p == NULL && n == 0);

  /* Elements beyond the coefficient table (Cf, Z = 98) are refused by name. */
  ms_cell es;
  rocksalt(&es, 5.0, "Es", "O");
  MS_TEST_ERR(ms_xrd_pattern(&es, NULL, &p, &n), MS_ERR_INPUT, "no X-ray scattering coefficients for Es");
  ms_cell_free(&es);
  /* An invalid cell (zero lattice) is refused by ms_cell_validate. */
  ms_cell z;
  ms_cell_init(&z);
  add(&z, "O", 0, 0, 0);
  MS_TEST_ERR(ms_xrd_pattern(&z, NULL, &p, &n), MS_ERR_INPUT, NULL);
  ms_cell_free(&z);

  /* A cell so small that no reflection reaches 2θ = 90° has no peaks. */
  ms_cell tiny;
  rocksalt(&tiny, 1.0, "Mg", "O");
  MS_TEST_OK(ms_xrd_pattern(&tiny, NULL, &p, &n));
  MS_TEST_TRUE(p == NULL && n == 0);
  ms_cell_free(&tiny);
  ms_cell_free(&c);
}

/* MgO by hand: a = 4.212 Å, Cu K-alpha. */
static void test_rocksalt_by_hand(void) {
  ms_cell c;
  rocksalt(&c, 4.212, "Mg2+", "O2-");
  ms_xrd_peak *p = NULL;
  size_t n = 0;
  MS_TEST_OK(ms_xrd_pattern(&c, NULL, &p, &n));
  /* Face-centred reflections up to 2θ = 90°: sin θ = λ sqrt(N) / 2a <= sin 45° needs
   * N = h² + k² + l² <= 14.9, i.e. 111, 200, 220, 311, 222 (400 has N = 16). */
  const struct {
    int hkl[3], mult;
  } want[] = {{{1, 1, 1}, 8}, {{2, 0, 0}, 6}, {{2, 2, 0}, 12}, {{3, 1, 1}, 24}, {{2, 2, 2}, 8}};
  const size_t nw = sizeof want / sizeof want[0];
  MS_TEST_EQ_INT(n, nw);
  double lambda = MS_XRD_CU_KALPHA, a = 4.212, raw[5], rmax = 0;
  for (size_t i = 0; i < nw && i < n; ++i) {
    const int *h = want[i].hkl;
    double N = h[0] * h[0] + h[1] * h[1] + h[2] * h[2];
    double d = a / sqrt(N), st = lambda / (2 * d), th = asin(st);
    MS_TEST_NEAR(p[i].d_A, d, 1e-12);
    MS_TEST_NEAR(p[i].two_theta_deg, 2 * th * 180 / M_PI, 1e-10);
    MS_TEST_EQ_INT(p[i].multiplicity, want[i].mult);
    for (int k = 0; k < 3; ++k) MS_TEST_EQ_INT(p[i].hkl[k], h[k]);
    double s = st / lambda, sign = h[0] % 2 ? -1 : 1;
    double F = 4 * (scattering_factor(12, s) + sign * scattering_factor(8, s));
    double lp = (1 + cos(2 * th) * cos(2 * th)) / (st * st * cos(th));
    raw[i] = want[i].mult * F * F * lp;
    if (raw[i] > rmax) rmax = raw[i];
  }
  for (size_t i = 0; i < nw && i < n; ++i) MS_TEST_NEAR(p[i].intensity, 100 * raw[i] / rmax, 1e-9);
  if (n >= 2) MS_TEST_NEAR(p[1].intensity, 100, 0); /* (200) is the strongest */

  /* Oxidation states are ignored: bare Mg/O give the same pattern. */
  ms_cell bare;
  rocksalt(&bare, 4.212, "Mg", "O");
  ms_xrd_peak *q = NULL;
  size_t m = 0;
  MS_TEST_OK(ms_xrd_pattern(&bare, NULL, &q, &m));
  MS_TEST_EQ_INT(m, n);
  for (size_t i = 0; i < n && i < m; ++i) {
    MS_TEST_NEAR(q[i].two_theta_deg, p[i].two_theta_deg, 0);
    MS_TEST_NEAR(q[i].intensity, p[i].intensity, 0);
  }
  free(q);

  /* A sub-range: the same peaks, rescaled to the strongest inside it. */
  ms_xrd_options o;
  ms_xrd_options_default(&o);
  o.two_theta_min_deg = 50;
  o.two_theta_max_deg = 76;
  MS_TEST_OK(ms_xrd_pattern(&c, &o, &q, &m));
  MS_TEST_EQ_INT(m, 2); /* 220 and 311 */
  if (m == 2 && n >= 4) {
    MS_TEST_NEAR(q[0].two_theta_deg, p[2].two_theta_deg, 0);
    MS_TEST_NEAR(q[1].two_theta_deg, p[3].two_theta_deg, 0);
    MS_TEST_NEAR(q[0].intensity, 100, 1e-12);
    MS_TEST_NEAR(q[1].intensity, 100 * p[3].intensity / p[2].intensity, 1e-9);
  }
  free(q);

  /* Merging off: every reflection is its own peak, 8 + 6 + 12 + 24 + 8 of them. */
  o.two_theta_min_deg = 0;
  o.two_theta_max_deg = 90;
  o.merge_tol_deg = 0;
  MS_TEST_OK(ms_xrd_pattern(&c, &o, &q, &m));
  MS_TEST_EQ_INT(m, 58);
  free(q);
  free(p);
  ms_cell_free(&c);
  ms_cell_free(&bare);
}

static void test_json(void) {
  char *js = NULL;
  MS_TEST_OK(ms_xrd_json(NULL, 0, &js));
  MS_TEST_EQ_STR(js, "[]");
  free(js);
  ms_xrd_peak p[2] = {{36.96515661, 2.431799334, 10.4019, {1, 1, 1}, 8},
                      {42.94552497, 2.106, 100, {2, 0, -1}, 6}};
  MS_TEST_OK(ms_xrd_json(p, 2, &js));
  MS_TEST_EQ_STR(js, "[{\"two_theta_deg\":36.96515661,\"d_A\":2.431799334,\"intensity\":10.4019,"
                     "\"hkl\":[1,1,1],\"multiplicity\":8},{\"two_theta_deg\":42.94552497,"
                     "\"d_A\":2.106,\"intensity\":100,\"hkl\":[2,0,-1],\"multiplicity\":6}]");
  free(js);
  MS_TEST_ERR(ms_xrd_json(NULL, 1, &js), MS_ERR_ARG, "NULL peaks");
  MS_TEST_ERR(ms_xrd_json(p, 1, NULL), MS_ERR_ARG, NULL);
  /* Long output grows the buffer. */
  enum { NP = 500 };
  ms_xrd_peak *many = calloc(NP, sizeof *many);
  MS_TEST_TRUE(many != NULL);
  if (!many) return;
  for (int i = 0; i < NP; ++i) many[i] = (ms_xrd_peak){-123.456789012345, 1e-300, -1e300, {-1000000, -2000000, -3000000}, 2000000000};
  MS_TEST_OK(ms_xrd_json(many, NP, &js));
  MS_TEST_TRUE(js && js[0] == '[' && js[strlen(js) - 1] == ']');
  size_t nobj = 0;
  for (const char *s = js; s && (s = strstr(s, "{\"two_theta_deg\":-123.456789,")); ++s) ++nobj;
  MS_TEST_EQ_INT(nobj, NP);
  free(js);
  free(many);
}

/* L' = M L, and positions f' = f M^-1 (+ t); rotation R applied to the Cartesian frame;
 * sites in reverse order. */
static void transform(const ms_cell *c, const double M[3][3], const double R[3][3],
                      const double t[3], ms_cell *out) {
  ms_cell_init(out);
  double L[3][3], LR[3][3], Mi[3][3];
  ms_mat3_inv(M, Mi);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      L[i][j] = 0;
      for (int k = 0; k < 3; ++k) L[i][j] += M[i][k] * c->lattice[k][j];
    }
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      LR[i][j] = 0;
      for (int k = 0; k < 3; ++k) LR[i][j] += L[i][k] * R[j][k];
    }
  ms_cell_set_lattice(out, LR);
  for (int i = c->natoms - 1; i >= 0; --i) {
    double f[3];
    for (int j = 0; j < 3; ++j) {
      f[j] = t[j];
      for (int k = 0; k < 3; ++k) f[j] += c->frac[i][k] * Mi[k][j];
    }
    MS_TEST_OK(ms_cell_add_atom(out, &c->species[c->kind[i]], f));
  }
}

static void random_rotation(ms_rng *r, double R[3][3]) {
  double q[4], n = 0;
  for (int k = 0; k < 4; ++k) {
    q[k] = ms_rng_normal(r);
    n += q[k] * q[k];
  }
  n = sqrt(n);
  double w = q[0] / n, x = q[1] / n, y = q[2] / n, z = q[3] / n;
  double m[3][3] = {{1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)},
                    {2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)},
                    {2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)}};
  memcpy(R, m, sizeof m);
}

/* Compare patterns a (reference) and b: positions, d, intensities; multiplicities and indices
 * when asked. */
static void same_pattern(const char *what, const ms_xrd_peak *a, size_t na, const ms_xrd_peak *b,
                         size_t nb, int same_mult, int same_hkl) {
  int before = ms_test_failures;
  MS_TEST_EQ_INT(nb, na);
  for (size_t i = 0; i < na && i < nb; ++i) {
    MS_TEST_NEAR(b[i].two_theta_deg, a[i].two_theta_deg, 1e-8);
    MS_TEST_NEAR(b[i].d_A, a[i].d_A, 1e-9);
    MS_TEST_NEAR(b[i].intensity, a[i].intensity, 1e-7 * (1 + a[i].intensity));
    if (same_mult) MS_TEST_EQ_INT(b[i].multiplicity, a[i].multiplicity);
    else MS_TEST_TRUE(b[i].multiplicity >= a[i].multiplicity);
    if (same_hkl)
      for (int k = 0; k < 3; ++k) MS_TEST_EQ_INT(b[i].hkl[k], a[i].hkl[k]);
  }
  if (ms_test_failures != before) fprintf(stderr, "  (in %s)\n", what);
}

static void test_invariance(const char *file) {
  ms_cell c;
  if (!read_one(file, &c)) return;
  ms_xrd_peak *p = NULL, *q = NULL;
  size_t n = 0, m = 0;
  MS_TEST_OK(ms_xrd_pattern(&c, NULL, &p, &n));
  MS_TEST_TRUE(n > 0);
  ms_rng r;
  ms_rng_init(&r, 2024, (uint64_t)c.natoms);
  const double I[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  const double zero[3] = {0, 0, 0};
  char what[256];

  /* Rotated, translated, sites permuted: identical peaks, indices included. */
  double R[3][3], t[3] = {ms_rng_uniform(&r), ms_rng_uniform(&r), ms_rng_uniform(&r)};
  random_rotation(&r, R);
  ms_cell d;
  transform(&c, I, R, t, &d);
  MS_TEST_OK(ms_xrd_pattern(&d, NULL, &q, &m));
  snprintf(what, sizeof what, "%s rotated and translated", file);
  same_pattern(what, p, n, q, m, 1, 1);
  free(q);
  ms_cell_free(&d);

  /* Another basis of the same lattice (unimodular M): the same reflections, renamed. */
  const double U[3][3] = {{1, 1, 0}, {0, 1, 0}, {0, 1, 1}};
  transform(&c, U, I, zero, &d);
  MS_TEST_OK(ms_xrd_pattern(&d, NULL, &q, &m));
  snprintf(what, sizeof what, "%s in another basis", file);
  same_pattern(what, p, n, q, m, 1, 0);
  free(q);
  ms_cell_free(&d);

  /* Supercells: the extra reciprocal points are systematic absences of the supercell. They can
   * fall on an existing peak and count in its multiplicity, so that may only grow. */
  const double S[2][3][3] = {{{2, 0, 0}, {0, 1, 0}, {0, 0, 1}}, {{1, 1, 0}, {-1, 1, 0}, {0, 0, 2}}};
  for (int k = 0; k < 2; ++k) {
    int M[3][3];
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) M[i][j] = (int)S[k][i][j];
    ms_cell sc;
    ms_cell_init(&sc);
    MS_TEST_OK(ms_cell_supercell(&c, M, &sc));
    MS_TEST_EQ_INT(sc.natoms, c.natoms * (k ? 4 : 2));
    MS_TEST_OK(ms_xrd_pattern(&sc, NULL, &q, &m));
    snprintf(what, sizeof what, "%s supercell %d", file, k);
    same_pattern(what, p, n, q, m, 0, 0);
    free(q);
    ms_cell_free(&sc);
  }
  free(p);
  ms_cell_free(&c);
}

/* ---- the pymatgen references ---- */

typedef struct {
  double tt, d, inten;
  int mult;
  int nfam;
  int fam[16][3];
} ref_peak;

/* Read NAME.csv (see make_xrd_reference.py); returns the number of peaks, -1 on error. */
static long read_reference(const char *path, ref_peak **out) {
  *out = NULL;
  FILE *fp = fopen(path, "r");
  if (!fp) {
    MS_TEST_FAILED_("cannot open %s", path);
    return -1;
  }
  char line[1024];
  long n = 0, cap = 0;
  ref_peak *r = NULL;
  int header = 0;
  while (fgets(line, sizeof line, fp)) {
    if (line[0] == '#' || line[0] == '\n') continue;
    if (!header) { /* column names */
      header = 1;
      continue;
    }
    if (n == cap) {
      cap = cap ? 2 * cap : 64;
      ref_peak *nr = realloc(r, (size_t)cap * sizeof *r);
      if (!nr) break;
      r = nr;
    }
    ref_peak *p = &r[n];
    memset(p, 0, sizeof *p);
    char *s = line, *e;
    p->tt = strtod(s, &e);
    p->d = strtod(e + 1, &e);
    p->inten = strtod(e + 1, &e);
    p->mult = (int)strtol(e + 1, &e, 10);
    s = e + 1;
    while (p->nfam < 16) {
      int h, k, l, used = 0;
      if (sscanf(s, "%d %d %d%n", &h, &k, &l, &used) != 3) break;
      p->fam[p->nfam][0] = h;
      p->fam[p->nfam][1] = k;
      p->fam[p->nfam][2] = l;
      ++p->nfam;
      s += used;
      if (*s != ';') break;
      ++s;
    }
    MS_TEST_TRUE(p->nfam > 0 && p->tt > 0 && p->d > 0);
    ++n;
  }
  fclose(fp);
  *out = r;
  return n;
}

typedef struct {
  double tt, d, i_abs, i_rel;
} deviations;

static void compare_case(const char *name, const char *structure, double lambda, double lo,
                         double hi, deviations *dev) {
  char path[512];
  snprintf(path, sizeof path, DATA "%s", structure);
  ms_cell c;
  if (!read_one(path, &c)) return;
  ms_xrd_options o;
  ms_xrd_options_default(&o);
  o.wavelength_A = lambda;
  o.two_theta_min_deg = lo;
  o.two_theta_max_deg = hi;
  ms_xrd_peak *p = NULL;
  size_t n = 0;
  MS_TEST_OK(ms_xrd_pattern(&c, &o, &p, &n));
  snprintf(path, sizeof path, DATA "%s.csv", name);
  ref_peak *ref = NULL;
  long nr = read_reference(path, &ref);
  int before = ms_test_failures;
  deviations cd = {0, 0, 0, 0};
  int compared = 0;
  char *used = calloc(n + 1, 1);
  /* Every reference peak above the floor has exactly one of ours within the 2θ tolerance. */
  for (long i = 0; i < nr && used; ++i) {
    if (ref[i].inten <= MATCH_FLOOR) continue;
    size_t best = n;
    for (size_t j = 0; j < n; ++j)
      if (fabs(p[j].two_theta_deg - ref[i].tt) <= TOL_2THETA) {
        MS_TEST_TRUE(best == n); /* only one candidate */
        best = j;
      }
    if (best == n) {
      MS_TEST_FAILED_("%s: reference peak at 2θ = %.6f (I = %.4f) not found", name, ref[i].tt,
                      ref[i].inten);
      continue;
    }
    used[best] = 1;
    ++compared;
    const ms_xrd_peak *q = &p[best];
    double di = fabs(q->intensity - ref[i].inten);
    cd.tt = fmax(cd.tt, fabs(q->two_theta_deg - ref[i].tt));
    cd.d = fmax(cd.d, fabs(q->d_A - ref[i].d));
    cd.i_abs = fmax(cd.i_abs, di);
    cd.i_rel = fmax(cd.i_rel, di / ref[i].inten);
    MS_TEST_NEAR(q->d_A, ref[i].d, TOL_D);
    MS_TEST_NEAR(q->intensity, ref[i].inten, TOL_I_ABS);
    MS_TEST_REL(q->intensity, ref[i].inten, TOL_I_REL);
    MS_TEST_EQ_INT(q->multiplicity, ref[i].mult);
    int found = 0;
    for (int f = 0; f < ref[i].nfam; ++f)
      found |= !memcmp(q->hkl, ref[i].fam[f], sizeof q->hkl);
    if (!found)
      MS_TEST_FAILED_("%s: peak at 2θ = %.6f: (%d %d %d) is not one of pymatgen's families", name,
                      ref[i].tt, q->hkl[0], q->hkl[1], q->hkl[2]);
  }
  /* ...and none of ours above the floor is missing from the reference. */
  for (size_t j = 0; j < n && used; ++j)
    if (!used[j] && p[j].intensity > MATCH_FLOOR)
      MS_TEST_FAILED_("%s: peak at 2θ = %.6f (I = %.4f) is not in the reference", name,
                      p[j].two_theta_deg, p[j].intensity);
  MS_TEST_TRUE(used != NULL && compared > 0);
  fprintf(stderr, "%-20s %3zu peaks, %3d compared: max |d2θ| %.2e deg, |dd| %.2e Å, |dI| %.2e "
          "(rel %.2e)\n", name, n, compared, cd.tt, cd.d, cd.i_abs, cd.i_rel);
  if (ms_test_failures != before) fprintf(stderr, "  (in case %s)\n", name);
  dev->tt = fmax(dev->tt, cd.tt);
  dev->d = fmax(dev->d, cd.d);
  dev->i_abs = fmax(dev->i_abs, cd.i_abs);
  dev->i_rel = fmax(dev->i_rel, cd.i_rel);
  free(used);
  free(ref);
  free(p);
  ms_cell_free(&c);
}

static void test_pymatgen(void) {
  FILE *fp = fopen(DATA "cases.csv", "r");
  MS_TEST_TRUE(fp != NULL);
  if (!fp) return;
  char line[512];
  int header = 0, ncases = 0;
  deviations dev = {0, 0, 0, 0};
  while (fgets(line, sizeof line, fp)) {
    if (line[0] == '#' || line[0] == '\n') continue;
    if (!header) {
      header = 1;
      continue;
    }
    char name[128], structure[128];
    double lambda, lo, hi;
    if (sscanf(line, "%127[^,],%127[^,],%lf,%lf,%lf", name, structure, &lambda, &lo, &hi) != 5) {
      MS_TEST_FAILED_("bad line in cases.csv: %s", line);
      continue;
    }
    compare_case(name, structure, lambda, lo, hi, &dev);
    ++ncases;
  }
  fclose(fp);
  MS_TEST_EQ_INT(ncases, 8);
  fprintf(stderr, "all cases: max |d2θ| %.2e deg, |dd| %.2e Å, |dI| %.2e (rel %.2e)\n", dev.tt,
          dev.d, dev.i_abs, dev.i_rel);
}

int main(void) {
  if (ms_elements_load() != MS_SUCCESS) {
    fprintf(stderr, "element table: %s\n", ms_err_message());
    return 1;
  }
  test_defaults_and_errors();
  test_rocksalt_by_hand();
  test_json();
  test_invariance(DATA "TiO2-rutile.cif");
  test_invariance(DATA "CaTiO3-pnma.cif");
  test_invariance(DATA "CaTiO3-triclinic.cif");
  test_invariance(DATA "Al2O3-corundum.cif");
  test_pymatgen();
  ms_elements_unload();
  return MS_TEST_RESULT();
}
