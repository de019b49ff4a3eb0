/* Descriptors (src/learn/descriptors.c): values for rock-salt MgO, cubic SrTiO3 and a double
 * perovskite worked out by hand from inputs/elements.yaml (Pauling electronegativity, Shannon
 * ionic radii at CN 6, and CN 12 for the perovskite A site), invariance under supercell,
 * rotation and site order, fill values, and the prototype code. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "matscreen/descriptors.h"
#include "matscreen/prefilter.h"
#include "matscreen/rng.h"
#include "ms_test.h"

static int D;

static double get(const double *v, const char *name) {
  int k = ms_descriptor_index(name);
  if (k < 0) {
    fprintf(stderr, "no descriptor %s\n", name);
    exit(1);
  }
  return v[k];
}

static ms_species ion(const char *text) {
  ms_species sp;
  if (ms_species_parse(text, &sp)) {
    fprintf(stderr, "%s\n", ms_err_message());
    exit(1);
  }
  return sp;
}

static void add(ms_cell *c, const char *sp, double x, double y, double z) {
  ms_species s = ion(sp);
  double f[3] = {x, y, z};
  if (ms_cell_add_atom(c, &s, f)) {
    fprintf(stderr, "%s\n", ms_err_message());
    exit(1);
  }
}

static void cubic(ms_cell *c, double a) {
  double L[3][3] = {{a, 0, 0}, {0, a, 0}, {0, 0, a}};
  ms_cell_set_lattice(c, L);
}

static void rocksalt_mgo(ms_cell *c, double a) {
  cubic(c, a);
  const double fcc[4][3] = {{0, 0, 0}, {0, 0.5, 0.5}, {0.5, 0, 0.5}, {0.5, 0.5, 0}};
  for (int k = 0; k < 4; ++k) add(c, "Mg2+", fcc[k][0], fcc[k][1], fcc[k][2]);
  for (int k = 0; k < 4; ++k) add(c, "O2-", fcc[k][0] + 0.5, fcc[k][1], fcc[k][2]);
}

static void cubic_srtio3(ms_cell *c, double a) {
  cubic(c, a);
  add(c, "Sr2+", 0, 0, 0);
  add(c, "Ti4+", 0.5, 0.5, 0.5);
  add(c, "O2-", 0.5, 0.5, 0);
  add(c, "O2-", 0.5, 0, 0.5);
  add(c, "O2-", 0, 0.5, 0.5);
}

/* Weighted population statistics by hand: values x with counts w. */
static void hand_stats(int n, const double *x, const double *w, double out[4]) {
  double W = 0, m = 0, v = 0, lo = x[0], hi = x[0];
  for (int k = 0; k < n; ++k) W += w[k];
  for (int k = 0; k < n; ++k) m += w[k] / W * x[k];
  for (int k = 0; k < n; ++k) v += w[k] / W * (x[k] - m) * (x[k] - m);
  for (int k = 0; k < n; ++k) lo = fmin(lo, x[k]), hi = fmax(hi, x[k]);
  out[0] = m;
  out[1] = sqrt(v);
  out[2] = lo;
  out[3] = hi;
}

static void check_stats(const double *v, const char *prefix, int n, const double *x,
                        const double *w) {
  double h[4];
  hand_stats(n, x, w, h);
  const char *suffix[4] = {"mean", "std", "min", "max"};
  for (int k = 0; k < 4; ++k) {
    char name[64];
    snprintf(name, sizeof name, "%s_%s", prefix, suffix[k]);
    double got = get(v, name);
    if (!(fabs(got - h[k]) <= 1e-12 * (1 + fabs(h[k]))))
      fprintf(stderr, "  %s: %.15g vs %.15g\n", name, got, h[k]);
    MS_TEST_NEAR(got, h[k], 1e-12 * (1 + fabs(h[k])));
  }
}

static void test_names(void) {
  D = ms_descriptor_count();
  MS_TEST_EQ_INT(D, 49);
  for (int k = 0; k < D; ++k) {
    MS_TEST_TRUE(ms_descriptor_name(k) != NULL);
    MS_TEST_EQ_INT(ms_descriptor_index(ms_descriptor_name(k)), k);
  }
  MS_TEST_TRUE(ms_descriptor_name(-1) == NULL && ms_descriptor_name(D) == NULL);
  MS_TEST_EQ_INT(ms_descriptor_index("no_such"), -1);
  MS_TEST_TRUE(ms_descriptor_index("e_single_eV_per_atom") >= 0);
  MS_TEST_TRUE(ms_descriptor_index("radius_A_max") >= 0);
  MS_TEST_TRUE(ms_descriptor_index("en_mean") >= 0);
}

/* The single-point force and stress entries, by hand: an anisotropic stress and forces of
 * known sizes; unknown forces (or a non-finite stress) give zeros and forces_known = 0. */
static void test_forces_and_stress(void) {
  ms_cell c = MS_CELL_INIT;
  rocksalt_mgo(&c, 4.212);
  double v[64];
  ms_descriptor_input in = {-40.1, -42.5, 2.4, "rocksalt", 1, 0.09, {1.0, 2.0, 6.0, 0.5, 0.0, -1.0}};
  MS_TEST_OK(ms_descriptors(&c, &in, v));
  MS_TEST_NEAR(get(v, "force_rms_eV_per_A"), 0.3, 1e-15);
  MS_TEST_NEAR(get(v, "force_sq_eV2_per_A2"), 0.09, 1e-15);
  /* p = -(1 + 2 + 6)/3 = -3; deviator (-2, -1, 3), shear 0.5, 0, -1:
   * sqrt(1.5 (4 + 1 + 9 + 2 (0.25 + 0 + 1))) = sqrt(24.75) */
  MS_TEST_NEAR(get(v, "pressure_GPa"), -3.0, 1e-15);
  MS_TEST_NEAR(get(v, "stress_deviatoric_GPa"), sqrt(24.75), 1e-14);
  MS_TEST_NEAR(get(v, "forces_known"), 1.0, 0);
  /* hydrostatic stress: no deviatoric part */
  double hyd[6] = {-2.5, -2.5, -2.5, 0, 0, 0};
  memcpy(in.stress_GPa, hyd, sizeof hyd);
  MS_TEST_OK(ms_descriptors(&c, &in, v));
  MS_TEST_NEAR(get(v, "stress_deviatoric_GPa"), 0.0, 1e-15);
  MS_TEST_NEAR(get(v, "pressure_GPa"), 2.5, 1e-15);
  in.stress_GPa[4] = NAN;
  MS_TEST_OK(ms_descriptors(&c, &in, v));
  MS_TEST_NEAR(get(v, "forces_known"), 0.0, 0);
  MS_TEST_NEAR(get(v, "force_rms_eV_per_A"), 0.0, 0);
  MS_TEST_NEAR(get(v, "pressure_GPa"), 0.0, 0);
  ms_cell_free(&c);
}

static void test_mgo(void) {
  const double a = 4.212;
  ms_cell c = MS_CELL_INIT;
  rocksalt_mgo(&c, a);
  double v[64];
  ms_descriptor_input in = {-40.1, -42.5, 2.4, "rocksalt", 0, NAN, {0}};
  MS_TEST_OK(ms_descriptors(&c, &in, v));
  const double w[2] = {4, 4};
  check_stats(v, "en", 2, (double[]){1.31, 3.44}, w);
  check_stats(v, "radius_A", 2, (double[]){0.72, 1.40}, w);
  check_stats(v, "ox_state_e", 2, (double[]){2, -2}, w);
  check_stats(v, "Z", 2, (double[]){12, 8}, w);
  check_stats(v, "mass_u", 2, (double[]){24.305, 15.9994}, w);
  /* the same by hand, written out */
  MS_TEST_NEAR(get(v, "en_mean"), 2.375, 1e-12);
  MS_TEST_NEAR(get(v, "en_std"), 1.065, 1e-12);
  MS_TEST_NEAR(get(v, "radius_A_std"), 0.34, 1e-12);
  MS_TEST_NEAR(get(v, "ox_state_e_std"), 2.0, 1e-12);
  MS_TEST_NEAR(get(v, "n_elements"), 2, 0);
  MS_TEST_NEAR(get(v, "atoms_per_formula_unit"), 2, 0);
  double V = a * a * a;
  MS_TEST_REL(get(v, "volume_per_atom_A3"), V / 8, 1e-12);
  MS_TEST_REL(get(v, "density_g_per_cm3"), 4 * (24.305 + 15.9994) * 1.66053906660 / V, 1e-12);
  MS_TEST_REL(get(v, "density_g_per_cm3"), 3.5833, 1e-3); /* MgO: 3.58 g/cm^3 */
  double pi = 3.14159265358979323846;
  MS_TEST_REL(get(v, "packing_fraction"), 4 * 4.0 / 3 * pi * (pow(0.72, 3) + pow(1.40, 3)) / V,
              1e-12);
  MS_TEST_REL(get(v, "ion_charge_density_e_per_A3"), 8 * 2 / V, 1e-12);
  MS_TEST_NEAR(get(v, "e_single_eV_per_atom"), -40.1, 0);
  MS_TEST_NEAR(get(v, "e_coulomb_eV_per_atom"), -42.5, 0);
  MS_TEST_NEAR(get(v, "e_short_eV_per_atom"), 2.4, 0);
  MS_TEST_NEAR(get(v, "e_single_known"), 1, 0);
  MS_TEST_NEAR(get(v, "e_parts_known"), 1, 0);
  /* not a perovskite: the fill value */
  MS_TEST_NEAR(get(v, "tolerance_factor"), MS_DESCRIPTOR_FILL_TOLERANCE, 0);
  MS_TEST_NEAR(get(v, "perovskite_like"), 0, 0);
  /* Mg: 6 O at a/2 = 2.106 <= 1.2 (0.72 + 1.40) = 2.544, no Mg at a/sqrt2 = 2.978 > 1.728;
   * O: 6 Mg and 12 O at 2.978 <= 1.2 x 2.80 = 3.36. Mean (6 + 18) / 2 = 12. */
  MS_TEST_NEAR(get(v, "cn_mean"), 12, 0);
  MS_TEST_NEAR(get(v, "cn_cation_anion_mean"), 6, 0);
  MS_TEST_REL(get(v, "dmin_over_radius_sum"), (a / 2) / (0.72 + 1.40), 1e-12);
  double code[MS_DESCRIPTOR_PROTO_DIMS];
  ms_descriptor_prototype_code("rocksalt", code);
  for (int k = 0; k < MS_DESCRIPTOR_PROTO_DIMS; ++k) {
    char name[32];
    snprintf(name, sizeof name, "proto_code_%d", k);
    MS_TEST_NEAR(get(v, name), code[k], 0);
  }
  for (int k = 0; k < D; ++k) MS_TEST_TRUE(isfinite(v[k]));
  ms_cell_free(&c);
}

static void test_srtio3(void) {
  const double a = 3.905;
  ms_cell c = MS_CELL_INIT;
  cubic_srtio3(&c, a);
  double v[64];
  MS_TEST_OK(ms_descriptors(&c, NULL, v));
  const double w[3] = {1, 1, 3};
  check_stats(v, "en", 3, (double[]){0.95, 1.54, 3.44}, w);
  check_stats(v, "radius_A", 3, (double[]){1.18, 0.605, 1.40}, w);
  check_stats(v, "ox_state_e", 3, (double[]){2, 4, -2}, w);
  check_stats(v, "Z", 3, (double[]){38, 22, 8}, w);
  check_stats(v, "mass_u", 3, (double[]){87.62, 47.867, 15.9994}, w);
  MS_TEST_NEAR(get(v, "en_mean"), (0.95 + 1.54 + 3 * 3.44) / 5, 1e-12);
  MS_TEST_NEAR(get(v, "en_min"), 0.95, 0);
  MS_TEST_NEAR(get(v, "radius_A_max"), 1.40, 0);
  MS_TEST_NEAR(get(v, "n_elements"), 3, 0);
  MS_TEST_NEAR(get(v, "atoms_per_formula_unit"), 5, 0);
  MS_TEST_REL(get(v, "volume_per_atom_A3"), a * a * a / 5, 1e-12);
  MS_TEST_REL(get(v, "ion_charge_density_e_per_A3"), (2 + 4 + 3 * 2) / (a * a * a), 1e-12);
  /* unknown energies: 0 with the flags off */
  MS_TEST_NEAR(get(v, "e_single_eV_per_atom"), 0, 0);
  MS_TEST_NEAR(get(v, "e_single_known"), 0, 0);
  MS_TEST_NEAR(get(v, "e_parts_known"), 0, 0);
  /* Goldschmidt t with Sr2+ at CN 12 (1.44), Ti4+ and O2- at CN 6 (0.605, 1.40) */
  double t_hand = (1.44 + 1.40) / (sqrt(2.0) * (0.605 + 1.40)), t_pref = 0;
  ms_species A = ion("Sr2+"), B = ion("Ti4+"), X = ion("O2-");
  MS_TEST_OK(ms_tolerance_factor(&A, &B, &X, &t_pref));
  MS_TEST_NEAR(get(v, "tolerance_factor"), t_hand, 1e-14);
  MS_TEST_NEAR(get(v, "tolerance_factor"), t_pref, 1e-14);
  MS_TEST_NEAR(get(v, "perovskite_like"), 1, 0);
  /* Sr: 12 O at a/sqrt2 = 2.761 <= 1.2 x 2.58; Ti: 6 O at a/2 <= 1.2 x 2.005;
   * O: 2 Ti, 4 Sr and 8 O (2.761 <= 3.36). Mean (12 + 6 + 3 x 14) / 5 = 12. */
  MS_TEST_NEAR(get(v, "cn_mean"), 12, 0);
  MS_TEST_NEAR(get(v, "cn_cation_anion_mean"), 9, 0);
  MS_TEST_REL(get(v, "dmin_over_radius_sum"), (a / 2) / (0.605 + 1.40), 1e-12);
  for (int k = 0; k < MS_DESCRIPTOR_PROTO_DIMS; ++k) {
    char name[32];
    snprintf(name, sizeof name, "proto_code_%d", k);
    MS_TEST_NEAR(get(v, name), 0, 0); /* no prototype */
  }
  ms_cell_free(&c);
}

/* Rock-salt ordered Ba2MgWO6: t with the mean B radius, (rA + rX) / (sqrt2 (<rB> + rX)). */
static void test_double_perovskite(void) {
  ms_cell c = MS_CELL_INIT;
  const double a = 4.0;
  double L[3][3] = {{2 * a, 0, 0}, {0, a, 0}, {0, 0, a}};
  ms_cell_set_lattice(&c, L);
  add(&c, "Ba2+", 0, 0, 0);
  add(&c, "Ba2+", 0.5, 0, 0);
  add(&c, "Mg2+", 0.25, 0.5, 0.5);
  add(&c, "W6+", 0.75, 0.5, 0.5);
  for (int k = 0; k < 2; ++k) {
    double x = 0.25 + 0.5 * k;
    add(&c, "O2-", x, 0.5, 0);
    add(&c, "O2-", x, 0, 0.5);
    add(&c, "O2-", x - 0.25, 0.5, 0.5);
  }
  double v[64];
  MS_TEST_OK(ms_descriptors(&c, NULL, v));
  double t = (1.61 + 1.40) / (sqrt(2.0) * ((0.72 + 0.60) / 2 + 1.40));
  MS_TEST_NEAR(get(v, "tolerance_factor"), t, 1e-14);
  MS_TEST_NEAR(get(v, "perovskite_like"), 1, 0);
  MS_TEST_NEAR(get(v, "atoms_per_formula_unit"), 10, 0);
  MS_TEST_NEAR(get(v, "ox_state_e_max"), 6, 0);
  ms_cell_free(&c);
}

static void rotate(ms_cell *c, const double R[3][3]) {
  double L[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      L[i][j] = 0;
      for (int k = 0; k < 3; ++k) L[i][j] += c->lattice[i][k] * R[j][k];
    }
  ms_cell_set_lattice(c, L);
}

static void expect_same(const double *a, const double *b, const char *what) {
  int bad = 0;
  for (int k = 0; k < D; ++k)
    if (!(fabs(a[k] - b[k]) <= 1e-9 * (1 + fabs(a[k])))) {
      fprintf(stderr, "  %s: %s %.15g vs %.15g\n", what, ms_descriptor_name(k), a[k], b[k]);
      ++bad;
    }
  MS_TEST_EQ_INT(bad, 0);
}

static void test_invariance(void) {
  /* A distorted SrTiO3 (strain and rattle), so that no value is special. */
  ms_cell c = MS_CELL_INIT;
  cubic_srtio3(&c, 3.95);
  ms_rng g;
  ms_rng_init(&g, 11, 3);
  double L[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) L[i][j] = c.lattice[i][j] + 0.15 * (2 * ms_rng_uniform(&g) - 1);
  ms_cell_set_lattice(&c, L);
  for (int i = 0; i < c.natoms; ++i)
    for (int k = 0; k < 3; ++k) c.frac[i][k] += 0.03 * (2 * ms_rng_uniform(&g) - 1);
  ms_descriptor_input in = {-30.5, -33.25, 2.75, "perovskite_cubic", 0, NAN, {0}};
  double ref[64], v[64];
  MS_TEST_OK(ms_descriptors(&c, &in, ref));

  ms_cell s = MS_CELL_INIT;
  const int M[3][3] = {{1, 1, 0}, {-1, 1, 0}, {0, 0, 2}};
  MS_TEST_OK(ms_cell_supercell(&c, M, &s));
  MS_TEST_EQ_INT(s.natoms, 20);
  MS_TEST_OK(ms_descriptors(&s, &in, v));
  expect_same(ref, v, "supercell");

  double th = 0.7, R[3][3] = {{cos(th), -sin(th), 0}, {sin(th), cos(th), 0}, {0, 0, 1}};
  double ph = -1.1, R2[3][3] = {{1, 0, 0}, {0, cos(ph), -sin(ph)}, {0, sin(ph), cos(ph)}};
  rotate(&s, R);
  rotate(&s, R2);
  MS_TEST_OK(ms_descriptors(&s, &in, v));
  expect_same(ref, v, "rotated supercell");

  /* Reversed site order (and so another kind order) and an origin shift. */
  ms_cell r = MS_CELL_INIT;
  ms_cell_set_lattice(&r, c.lattice);
  for (int i = c.natoms - 1; i >= 0; --i) {
    double f[3] = {c.frac[i][0] + 0.3, c.frac[i][1] - 0.2, c.frac[i][2] + 1.0};
    MS_TEST_OK(ms_cell_add_atom(&r, &c.species[c.kind[i]], f));
  }
  MS_TEST_OK(ms_descriptors(&r, &in, v));
  expect_same(ref, v, "reordered and shifted");
  ms_cell_free(&c);
  ms_cell_free(&s);
  ms_cell_free(&r);
}

static void test_fills_and_errors(void) {
  /* Bare elements: no oxidation state, so radii and oxidation states take the fills. */
  ms_cell c = MS_CELL_INIT;
  cubic(&c, 3.0);
  add(&c, "Cu", 0, 0, 0);
  add(&c, "Ar", 0.5, 0.5, 0.5); /* argon has no Pauling electronegativity */
  double v[64];
  ms_descriptor_input in = {-1.0, NAN, 0.5, NULL, 0, NAN, {0}};
  MS_TEST_OK(ms_descriptors(&c, &in, v));
  for (int k = 0; k < D; ++k) MS_TEST_TRUE(isfinite(v[k]));
  MS_TEST_NEAR(get(v, "radius_A_mean"), MS_DESCRIPTOR_FILL_RADIUS, 0);
  MS_TEST_NEAR(get(v, "en_min"), MS_DESCRIPTOR_FILL_EN, 0);
  MS_TEST_NEAR(get(v, "ox_state_e_max"), 0, 0);
  MS_TEST_NEAR(get(v, "e_single_known"), 1, 0);
  MS_TEST_NEAR(get(v, "e_parts_known"), 0, 0);
  MS_TEST_NEAR(get(v, "e_coulomb_eV_per_atom"), 0, 0);
  MS_TEST_NEAR(get(v, "e_short_eV_per_atom"), 0.5, 0);
  MS_TEST_NEAR(get(v, "perovskite_like"), 0, 0);
  MS_TEST_NEAR(get(v, "cn_cation_anion_mean"), 0, 0);
  ms_cell_free(&c);

  ms_cell empty = MS_CELL_INIT;
  cubic(&empty, 3.0);
  MS_TEST_ERR(ms_descriptors(&empty, NULL, v), MS_ERR_INPUT, "empty");
  MS_TEST_ERR(ms_descriptors(NULL, NULL, v), MS_ERR_ARG, NULL);
  ms_cell flat = MS_CELL_INIT;
  add(&flat, "Na+", 0, 0, 0); /* zero lattice */
  MS_TEST_TRUE(ms_descriptors(&flat, NULL, v) != MS_SUCCESS);
  ms_err_clear();
  ms_cell_free(&flat);
}

static void test_prototype_code(void) {
  double a[MS_DESCRIPTOR_PROTO_DIMS], b[MS_DESCRIPTOR_PROTO_DIMS], z[MS_DESCRIPTOR_PROTO_DIMS];
  ms_descriptor_prototype_code("perovskite_cubic", a);
  ms_descriptor_prototype_code("perovskite_pnma", b);
  ms_descriptor_prototype_code("", z);
  int differ = 0;
  for (int k = 0; k < MS_DESCRIPTOR_PROTO_DIMS; ++k) {
    MS_TEST_TRUE(a[k] == 1 || a[k] == -1);
    MS_TEST_NEAR(z[k], 0, 0);
    differ += a[k] != b[k];
  }
  MS_TEST_TRUE(differ > 0);
  ms_descriptor_prototype_code(NULL, b);
  for (int k = 0; k < MS_DESCRIPTOR_PROTO_DIMS; ++k) MS_TEST_NEAR(b[k], 0, 0);
  ms_descriptor_prototype_code("perovskite_cubic", b);
  MS_TEST_TRUE(memcmp(a, b, sizeof a) == 0);
}

int main(void) {
  if (ms_elements_load()) {
    fprintf(stderr, "%s\n", ms_err_message());
    return 1;
  }
  test_names();
  test_mgo();
  test_forces_and_stress();
  test_srtio3();
  test_double_perovskite();
  test_invariance();
  test_fills_and_errors();
  test_prototype_code();
  ms_elements_unload();
  return MS_TEST_RESULT();
}
