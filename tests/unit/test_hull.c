/* Unit tests of compositions and the convex hull.
 *
 * Independent values: hand-worked binary Li-O (the lever rule between Li2O and O2), and random
 * binary and ternary sets checked against brute force (the hull energy at x is the minimum over
 * all pairs / triples of entries whose compositions bracket x of the interpolated energy, a
 * different algorithm from the incremental hull). Invariances: entry order, a linear function
 * of composition added to all energies, duplicates. pymatgen agreement on 2-5 elements and up
 * to 10^4 entries is the regression test tests/regression/hull. */
#include <math.h>
#include <string.h>

#include "matscreen/hull.h"
#include "matscreen/rng.h"
#include "ms_test.h"

static size_t add(ms_hull h, const char *formula, double e) {
  ms_composition c;
  size_t idx = (size_t)-1;
  MS_TEST_OK(ms_composition_parse(formula, &c));
  MS_TEST_OK(ms_hull_add(h, &c, e, &idx));
  return idx;
}

static void test_parse(void) {
  ms_composition c;
  char buf[64];
  MS_TEST_OK(ms_composition_parse("Ca(OH)2", &c));
  MS_TEST_EQ_INT(c.n, 3);
  MS_TEST_NEAR(ms_composition_natoms(&c), 5, 0);
  MS_TEST_OK(ms_composition_formula(&c, buf, sizeof buf));
  MS_TEST_EQ_STR(buf, "CaH2O2");
  MS_TEST_OK(ms_composition_parse("Sr2Ti2O6", &c));
  MS_TEST_OK(ms_composition_formula(&c, buf, sizeof buf));
  MS_TEST_EQ_STR(buf, "SrTiO3");
  MS_TEST_OK(ms_composition_parse("Li0.5CoO2", &c));
  MS_TEST_NEAR(ms_composition_natoms(&c), 3.5, 1e-15);
  MS_TEST_OK(ms_composition_parse("OFeO", &c)); /* repeated elements add up */
  MS_TEST_EQ_INT(c.n, 2);
  MS_TEST_OK(ms_composition_parse("Co", &c)); /* Co, not C + o */
  MS_TEST_EQ_INT(c.sp[0].Z, 27);
  MS_TEST_ERR(ms_composition_parse("SrTiX3", &c), MS_ERR_INPUT, "unknown element 'X'");
  MS_TEST_ERR(ms_composition_parse("Sr(TiO3", &c), MS_ERR_INPUT, "missing ')'");
  MS_TEST_ERR(ms_composition_parse("", &c), MS_ERR_INPUT, "empty formula");
  MS_TEST_ERR(ms_composition_parse("O0", &c), MS_ERR_INPUT, "positive");
  MS_TEST_ERR(ms_composition_parse("Sr2.", &c), MS_ERR_INPUT, "unexpected '.'");
  MS_TEST_ERR(ms_composition_parse("sr", &c), MS_ERR_INPUT, "unexpected 's'");
  /* Oxidation-state check. */
  ms_composition a[2];
  memset(a, 0, sizeof a);
  ms_species_parse("Fe2+", &a[0].sp[0]);
  a[0].amount[0] = 1;
  a[0].n = 1;
  ms_species_parse("Fe3+", &a[1].sp[0]);
  a[1].amount[0] = 2;
  a[1].n = 1;
  MS_TEST_OK(ms_composition_check_oxidation(a, 1));
  MS_TEST_ERR(ms_composition_check_oxidation(a, 2), MS_ERR_INPUT, "Fe occurs as Fe2+ (entry 0) and as Fe3+ (entry 1)");
}

/* Li-O by hand: references Li -1.9 and O2 -4.9 eV/atom; Li2O -4.7 (formation -1.8 at
 * x_O = 1/3). Li2O2 at x_O = 1/2: hull -1.8 * (1/2)/(2/3) = -1.35 formation, its formation
 * energy -4.5 + 3.4 = -1.1, so 0.25 above, as 3/4 Li2O + 1/4 O2 (atom fractions). */
static void test_binary_by_hand(void) {
  ms_hull h = NULL;
  MS_TEST_OK(ms_hull_create(&h));
  size_t li = add(h, "Li", -1.9), o2 = add(h, "O2", -4.9), li2o = add(h, "Li2O", -4.7);
  size_t li2o2 = add(h, "Li2O2", -4.5), lio2 = add(h, "LiO2", -4.3);
  size_t dup = add(h, "Li4O2", -4.7); /* Li2O again, same energy */
  size_t li_hi = add(h, "Li", -1.8);  /* a polymorph above the reference */
  MS_TEST_OK(ms_hull_compute(h));
  MS_TEST_EQ_INT(ms_hull_ncomponents(h), 2);
  MS_TEST_EQ_STR(ms_hull_component_name(h, 0), "Li");
  MS_TEST_EQ_INT(ms_hull_reference(h, 0), li);
  MS_TEST_EQ_INT(ms_hull_reference(h, 1), o2);
  ms_hull_result r;
  MS_TEST_OK(ms_hull_result_get(h, li2o2, &r));
  MS_TEST_NEAR(r.e_above_hull, 0.25, 1e-12);
  MS_TEST_NEAR(r.formation_energy, -1.1, 1e-12);
  MS_TEST_NEAR(r.hull_energy, -4.75, 1e-12);
  MS_TEST_EQ_INT(r.ndecomp, 2);
  for (int k = 0; k < r.ndecomp; ++k) {
    if (r.decomp[k] == li2o) MS_TEST_NEAR(r.fraction[k], 0.75, 1e-12);
    else if (r.decomp[k] == o2) MS_TEST_NEAR(r.fraction[k], 0.25, 1e-12);
    else MS_TEST_TRUE(0);
  }
  /* LiO2 at x_O = 2/3: hull -1.8 * (1/3)/(2/3) = -0.9, formation -4.3 + 3.9 = -0.4: 0.5. */
  MS_TEST_NEAR(ms_hull_e_above(h, lio2), 0.5, 1e-12);
  MS_TEST_OK(ms_hull_result_get(h, li2o, &r));
  MS_TEST_TRUE(r.stable);
  MS_TEST_TRUE(r.e_above_hull == 0.0);
  MS_TEST_OK(ms_hull_result_get(h, dup, &r));
  MS_TEST_TRUE(!r.stable);
  MS_TEST_TRUE(r.e_above_hull == 0.0);
  MS_TEST_EQ_INT(r.ndecomp, 1);
  MS_TEST_EQ_INT(r.decomp[0], li2o);
  MS_TEST_NEAR(ms_hull_e_above(h, li_hi), 0.1, 1e-12);
  size_t ns = 0;
  const size_t *st = ms_hull_stable(h, &ns);
  MS_TEST_EQ_INT(ns, 3);
  MS_TEST_EQ_INT(st[0], li);
  MS_TEST_EQ_INT(st[1], o2);
  MS_TEST_EQ_INT(st[2], li2o);
  ms_hull_destroy(&h);
  MS_TEST_TRUE(h == NULL);
}

/* Brute-force hull energy (formation-energy scale handled by the caller): minimum over pairs
 * (D = 1) or triples (D = 2) of points whose simplex contains u. */
static double brute(int D, int n, const double (*u)[2], const double *f, const double *q) {
  double best = INFINITY;
  for (int i = 0; i < n; ++i) {
    if (D == 1) {
      for (int j = 0; j < n; ++j) {
        if (!(u[i][0] <= q[0] && q[0] <= u[j][0])) continue;
        double w = u[j][0] > u[i][0] ? (q[0] - u[i][0]) / (u[j][0] - u[i][0]) : 0;
        best = fmin(best, (1 - w) * f[i] + w * f[j]);
      }
    } else {
      for (int j = i + 1; j < n; ++j)
        for (int k = j + 1; k < n; ++k) {
          double a0 = u[j][0] - u[i][0], a1 = u[k][0] - u[i][0], b0 = u[j][1] - u[i][1], b1 = u[k][1] - u[i][1];
          double det = a0 * b1 - a1 * b0;
          if (fabs(det) < 1e-14) continue;
          double p0 = q[0] - u[i][0], p1 = q[1] - u[i][1];
          double l1 = (p0 * b1 - a1 * p1) / det, l2 = (a0 * p1 - p0 * b0) / det, l0 = 1 - l1 - l2;
          if (l0 < -1e-12 || l1 < -1e-12 || l2 < -1e-12) continue;
          best = fmin(best, l0 * f[i] + l1 * f[j] + l2 * f[k]);
        }
      /* the point itself (for vertices of degenerate sets) */
      if (fabs(u[i][0] - q[0]) < 1e-15 && fabs(u[i][1] - q[1]) < 1e-15) best = fmin(best, f[i]);
    }
  }
  return best;
}

static void test_random_vs_brute(int D, int n, uint64_t seed) {
  const char *els[3] = {"Mg", "Al", "Si"};
  ms_rng rng;
  ms_rng_init(&rng, seed, (uint64_t)D);
  double (*u)[2] = calloc((size_t)n, sizeof *u), *f = calloc((size_t)n, sizeof *f), *e = calloc((size_t)n, sizeof *e);
  double eref[3] = {-1.5, -3.25, -5.0};
  ms_hull h = NULL;
  MS_TEST_OK(ms_hull_create(&h));
  for (int i = 0; i < n; ++i) {
    int amt[3] = {0, 0, 0};
    if (i <= D) {
      amt[i] = 1; /* the references first */
    } else {
      while (amt[0] + amt[1] + amt[2] == 0 || (D == 1 && amt[0] + amt[1] == 0))
        for (int k = 0; k <= D; ++k) amt[k] = (int)(ms_rng_u32(&rng) % 5);
    }
    char formula[64] = "";
    int tot = 0;
    for (int k = 0; k <= D; ++k) {
      if (!amt[k]) continue;
      char part[16];
      snprintf(part, sizeof part, "%s%d", els[k], amt[k]);
      strcat(formula, part);
      tot += amt[k];
    }
    /* Formation energies on a coarse grid (multiples of 1/64) make exact ties and points on
     * facets common: a test of the degenerate cases. */
    double form = i <= D ? 0.0 : -floor(ms_rng_uniform(&rng) * 64) / 64.0;
    double lin = 0;
    for (int k = 0; k <= D; ++k) lin += eref[k] * amt[k] / tot;
    e[i] = lin + form;
    f[i] = form;
    u[i][0] = (double)amt[1] / tot;
    u[i][1] = D == 2 ? (double)amt[2] / tot : 0;
    ms_composition c;
    MS_TEST_OK(ms_composition_parse(formula, &c));
    MS_TEST_OK(ms_hull_add(h, &c, e[i], NULL));
  }
  MS_TEST_OK(ms_hull_compute(h));
  double worst = 0;
  for (int i = 0; i < n; ++i) {
    double want = f[i] - brute(D, n, (const double (*)[2])u, f, u[i]);
    double got = ms_hull_e_above(h, (size_t)i);
    worst = fmax(worst, fabs(got - want));
    MS_TEST_NEAR(got, want, 1e-9);
    ms_hull_result r;
    MS_TEST_OK(ms_hull_result_get(h, (size_t)i, &r));
    /* The decomposition reproduces the composition and the hull energy. */
    double x[3], mix[3] = {0, 0, 0}, en = 0, sum = 0;
    for (int k = 0; k < r.ndecomp; ++k) {
      MS_TEST_OK(ms_hull_entry_fractions(h, r.decomp[k], x));
      for (int m = 0; m <= D; ++m) mix[m] += r.fraction[k] * x[m];
      en += r.fraction[k] * e[r.decomp[k]];
      sum += r.fraction[k];
    }
    MS_TEST_OK(ms_hull_entry_fractions(h, (size_t)i, x));
    for (int m = 0; m <= D; ++m) MS_TEST_NEAR(mix[m], x[m], 1e-12);
    MS_TEST_NEAR(sum, 1.0, 1e-12);
    MS_TEST_NEAR(en, r.hull_energy, 1e-9);
    if (r.stable) MS_TEST_TRUE(r.e_above_hull == 0.0);
  }
  size_t ns = 0;
  ms_hull_stable(h, &ns);
  fprintf(stderr, "D=%d n=%d: %zu stable, %zu facets, max |e_above - brute force| = %.2e\n", D, n, ns,
          ms_hull_nfacets(h), worst);
  /* Invariance: a linear function of composition added to every energy. */
  ms_hull h2 = NULL;
  MS_TEST_OK(ms_hull_create(&h2));
  for (int i = 0; i < n; ++i) {
    ms_composition c;
    /* rebuild from fractions: amounts are the fractions themselves (scale does not matter) */
    double x[3];
    MS_TEST_OK(ms_hull_entry_fractions(h, (size_t)i, x));
    memset(&c, 0, sizeof c);
    double shift = 0, mu[3] = {0.7, -2.3, 4.1};
    for (int k = 0; k <= D; ++k)
      if (x[k] > 0) {
        ms_species_parse(els[k], &c.sp[c.n]);
        c.amount[c.n++] = x[k];
        shift += mu[k] * x[k];
      }
    MS_TEST_OK(ms_hull_add(h2, &c, e[i] + shift, NULL));
  }
  MS_TEST_OK(ms_hull_compute(h2));
  for (int i = 0; i < n; ++i) MS_TEST_NEAR(ms_hull_e_above(h2, (size_t)i), ms_hull_e_above(h, (size_t)i), 1e-9);
  ms_hull_destroy(&h2);
  ms_hull_destroy(&h);
  free(u);
  free(f);
  free(e);
}

static void test_errors_and_end_members(void) {
  /* A missing elemental reference names the element. */
  ms_hull h = NULL;
  MS_TEST_OK(ms_hull_create(&h));
  add(h, "Sr", -1.6);
  add(h, "SrTiO3", -8.0);
  add(h, "O2", -4.9);
  MS_TEST_ERR(ms_hull_compute(h), MS_ERR_INPUT, "elemental reference Ti");
  ms_hull_destroy(&h);
  /* Two oxidation states of Fe are refused unless allowed. */
  MS_TEST_OK(ms_hull_create(&h));
  ms_composition c;
  memset(&c, 0, sizeof c);
  ms_species_parse("Fe2+", &c.sp[0]);
  ms_species_parse("O2-", &c.sp[1]);
  c.amount[0] = c.amount[1] = 1;
  c.n = 2;
  MS_TEST_OK(ms_hull_add(h, &c, -7.0, NULL));
  ms_species_parse("Fe3+", &c.sp[0]);
  c.amount[0] = 2;
  c.amount[1] = 3;
  MS_TEST_OK(ms_hull_add(h, &c, -7.5, NULL));
  add(h, "Fe", -8.0);
  add(h, "O2", -4.9);
  MS_TEST_ERR(ms_hull_compute(h), MS_ERR_INPUT, "Fe occurs as Fe2+ (entry 0) and as Fe3+ (entry 1)");
  ms_hull_allow_mixed_oxidation(h, 1);
  MS_TEST_OK(ms_hull_compute(h));
  ms_hull_destroy(&h);
  /* End members SrO and TiO2 (no elemental energies, as in an ionic-model screen): SrTiO3 is
   * 2/5 SrO + 3/5 TiO2 in atom fractions. With E(SrO) = -10, E(TiO2) = -12, E(SrTiO3) = -11.5
   * eV/atom: formation -11.5 - (0.4 * -10 + 0.6 * -12) = -0.3. Sr2TiO4 (4/7 SrO, 3/7 TiO2) at
   * -10.9: hull between SrO (x = 0) and SrTiO3 (x = 3/5) at x = 3/7 is -0.3 * (3/7)/(3/5) =
   * -3/14; its formation -10.9 + 4/7 * 10 + 3/7 * 12 = -0.0428571...; above hull 1/7 - 0.0428571 */
  ms_composition em[2];
  MS_TEST_OK(ms_composition_parse("SrO", &em[0]));
  MS_TEST_OK(ms_composition_parse("TiO2", &em[1]));
  MS_TEST_OK(ms_hull_create(&h));
  MS_TEST_OK(ms_hull_set_end_members(h, 2, em));
  add(h, "SrO", -10.0);
  add(h, "TiO2", -12.0);
  size_t sto = add(h, "SrTiO3", -11.5), s2t = add(h, "Sr2TiO4", -10.9);
  MS_TEST_OK(ms_hull_compute(h));
  MS_TEST_EQ_STR(ms_hull_component_name(h, 1), "TiO2");
  ms_hull_result r;
  MS_TEST_OK(ms_hull_result_get(h, sto, &r));
  MS_TEST_NEAR(r.formation_energy, -0.3, 1e-12);
  MS_TEST_TRUE(r.stable);
  MS_TEST_OK(ms_hull_result_get(h, s2t, &r));
  MS_TEST_NEAR(r.formation_energy, -10.9 + 4.0 / 7 * 10 + 3.0 / 7 * 12, 1e-12);
  MS_TEST_NEAR(r.e_above_hull, r.formation_energy + 0.3 * (3.0 / 7) / (3.0 / 5), 1e-12);
  add(h, "Sr", -1.6);
  MS_TEST_ERR(ms_hull_compute(h), MS_ERR_INPUT, "not a mixture of the end members");
  ms_hull_destroy(&h);
  MS_TEST_OK(ms_hull_create(&h));
  MS_TEST_OK(ms_hull_set_end_members(h, 2, em));
  add(h, "SrO", -10.0);
  add(h, "BaO", -9.0);
  add(h, "TiO2", -12.0);
  MS_TEST_ERR(ms_hull_compute(h), MS_ERR_INPUT, "contains Ba, which no end member contains");
  ms_hull_destroy(&h);
  /* Bad energies and empty hulls. */
  MS_TEST_OK(ms_hull_create(&h));
  MS_TEST_ERR(ms_hull_compute(h), MS_ERR_INPUT, "no entries");
  MS_TEST_OK(ms_composition_parse("O2", &c));
  MS_TEST_ERR(ms_hull_add(h, &c, NAN, NULL), MS_ERR_INPUT, "not finite");
  ms_hull_destroy(&h);
}

int main(void) {
  if (ms_elements_load()) MS_TEST_SKIP("element table not available");
  test_parse();
  test_binary_by_hand();
  test_random_vs_brute(1, 200, 11);
  test_random_vs_brute(2, 60, 12);
  test_random_vs_brute(2, 90, 13);
  test_errors_and_end_members();
  ms_elements_unload();
  return MS_TEST_RESULT();
}
