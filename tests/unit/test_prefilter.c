/* Chemistry prefilters: Goldschmidt t and Bartel's tau against the worked values of
 * physics.md §4.2 (computed there with Bartel's radius conventions), each rule passing and
 * failing with its reason, and configuration errors. */
#include <math.h>
#include <string.h>

#include "matscreen/prefilter.h"
#include "matscreen/prototype.h"
#include "ms_test.h"

static void test_t_tau(void) {
  static const struct {
    const char *A, *B, *X;
    double t, tau;
  } ref[] = {
      {"Sr2+", "Ti4+", "O2-", 1.0016, 3.8036}, {"Ba2+", "Ti4+", "O2-", 1.0615, 3.7519},
      {"Ca2+", "Ti4+", "O2-", 0.9663, 3.8847}, {"Pb2+", "Ti4+", "O2-", 1.0192, 3.7790},
      {"La3+", "Al3+", "O2-", 1.0086, 1.7909}, {"K+", "Nb5+", "O2-", 1.0537, 3.9107},
      {"Na+", "Nb5+", "O2-", 0.9671, 3.9878},  {"Mg2+", "Ti4+", "O2-", 0.8076, 5.9363},
  };
  for (size_t k = 0; k < sizeof ref / sizeof ref[0]; ++k) {
    ms_species A, B, X;
    MS_TEST_OK(ms_species_parse(ref[k].A, &A));
    MS_TEST_OK(ms_species_parse(ref[k].B, &B));
    MS_TEST_OK(ms_species_parse(ref[k].X, &X));
    double t = 0, tau = 0;
    MS_TEST_OK(ms_tolerance_factor(&A, &B, &X, &t));
    MS_TEST_OK(ms_bartel_tau(&A, &B, &X, &tau));
    MS_TEST_NEAR(t, ref[k].t, 5e-5);
    MS_TEST_NEAR(tau, ref[k].tau, 5e-5);
  }
  /* SrTiO3 by hand: (1.44 + 1.40) / (sqrt 2 (0.605 + 1.40)), Shannon XII / VI / VI. */
  ms_species A, B, X;
  ms_species_parse("Sr2+", &A);
  ms_species_parse("Ti4+", &B);
  ms_species_parse("O2-", &X);
  double t;
  MS_TEST_OK(ms_tolerance_factor(&A, &B, &X, &t));
  MS_TEST_NEAR(t, 2.84 / (sqrt(2.0) * 2.005), 1e-12);
  /* tau needs r_A > r_B. */
  double tau;
  MS_TEST_ERR(ms_bartel_tau(&B, &A, &X, &tau), MS_ERR_INPUT, "r_A > r_B");
  /* Radius-ratio limits (physics.md §4.3). */
  MS_TEST_NEAR(ms_radius_ratio_limit(3), 0.1547, 1e-4);
  MS_TEST_NEAR(ms_radius_ratio_limit(4), 0.2247, 1e-4);
  MS_TEST_NEAR(ms_radius_ratio_limit(6), 0.4142, 1e-4);
  MS_TEST_NEAR(ms_radius_ratio_limit(8), 0.7321, 1e-4);
  MS_TEST_NEAR(ms_radius_ratio_limit(12), 1.0, 0);
  MS_TEST_NEAR(ms_radius_ratio_limit(5), ms_radius_ratio_limit(4), 0);
}

/* volume_scale <= 0: the reference compound's lattice (for ions without Shannon radii). */
static ms_err build(const char *proto, const char *const *ions, double volume_scale, ms_cell *c) {
  ms_prototype *p = NULL;
  MS_CALL(ms_prototype_load(proto, &p));
  ms_species sp[8];
  for (int l = 0; l < ms_prototype_nlabels(p); ++l) ms_species_parse(ions[l], &sp[l]);
  ms_proto_build_options o;
  ms_proto_build_options_default(&o);
  o.volume_scale = volume_scale > 0 ? volume_scale : 1.0;
  if (volume_scale <= 0) o.lattice = MS_PROTO_LATTICE_REFERENCE;
  ms_err e = ms_prototype_build(p, sp, &o, c);
  ms_prototype_free(&p);
  return e;
}

static ms_prefilter *make(const char *yaml, ms_ydoc **doc) {
  ms_prefilter *f = NULL;
  *doc = NULL;
  ms_err e = ms_ydoc_parse(yaml, strlen(yaml), "f.yaml", doc);
  if (!e) e = ms_prefilter_create(ms_ydoc_root(*doc), "rules", &f);
  if (e) fprintf(stderr, "%s\n", ms_err_message());
  MS_TEST_EQ_INT(e, MS_SUCCESS);
  return f;
}

static ms_err make_error(const char *yaml) {
  ms_ydoc *doc = NULL;
  ms_prefilter *f = NULL;
  ms_err e = ms_ydoc_parse(yaml, strlen(yaml), "f.yaml", &doc);
  if (!e) e = ms_prefilter_create(ms_ydoc_root(doc), "rules", &f);
  ms_prefilter_free(&f);
  ms_ydoc_free(&doc);
  return e;
}

static void test_rules(void) {
  ms_ydoc *doc;
  ms_prefilter *f = make(
      "{charge_neutral: true, electronegativity_order: true,\n"
      " tolerance_factor: [0.825, 1.059], bartel_tau: {max: 4.18},\n"
      " radius_ratio: true, min_distance: {factor: 0.7},\n"
      " elements: {forbidden: [Pb, Cd]}}",
      &doc);
  if (!f) return;
  MS_TEST_EQ_INT(ms_prefilter_nrules(f), 7);
  MS_TEST_EQ_STR(ms_prefilter_rule_name(f, 2), "tolerance_factor");
  ms_cell c;
  ms_cell_init(&c);
  ms_prefilter_result r;

  /* SrTiO3 passes everything; t and tau are reported. */
  const char *sto[] = {"Sr2+", "Ti4+", "O2-"};
  MS_TEST_OK(build("perovskite_cubic", sto, 1.0, &c));
  MS_TEST_OK(ms_prefilter_check(f, &c, &r));
  MS_TEST_TRUE(r.pass);
  MS_TEST_EQ_INT(r.first_failed, -1);
  MS_TEST_NEAR(r.rules[2].value, 1.0016, 5e-5);
  MS_TEST_NEAR(r.rules[3].value, 3.8036, 5e-5);
  MS_TEST_NEAR(r.rules[0].value, 0, 1e-12);

  /* MgTiO3 as a perovskite fails the tolerance factor first (t = 0.8076), and tau too. */
  const char *mto[] = {"Mg2+", "Ti4+", "O2-"};
  MS_TEST_OK(build("perovskite_cubic", mto, 1.0, &c));
  MS_TEST_OK(ms_prefilter_check(f, &c, &r));
  MS_TEST_TRUE(!r.pass);
  MS_TEST_EQ_INT(r.first_failed, 2);
  MS_TEST_TRUE(strstr(r.rules[2].reason, "t = 0.8076 outside [0.825, 1.059]") != NULL);
  MS_TEST_EQ_INT(r.rules[3].outcome, MS_RULE_FAIL);
  MS_TEST_TRUE(strstr(r.rules[3].reason, "tau = 5.9363") != NULL);

  /* Not ABX3: t and tau are skipped, which does not reject. */
  const char *mgo[] = {"Mg2+", "O2-"};
  MS_TEST_OK(build("rocksalt", mgo, 1.0, &c));
  MS_TEST_OK(ms_prefilter_check(f, &c, &r));
  MS_TEST_TRUE(r.pass);
  MS_TEST_EQ_INT(r.rules[2].outcome, MS_RULE_SKIP);
  MS_TEST_EQ_INT(r.rules[3].outcome, MS_RULE_SKIP);

  /* Charge: a non-neutral assignment (Na+ on the rocksalt cation with O2-). */
  const char *nao[] = {"Na+", "O2-"};
  MS_TEST_OK(build("rocksalt", nao, 1.0, &c));
  MS_TEST_OK(ms_prefilter_check(f, &c, &r));
  MS_TEST_EQ_INT(r.first_failed, 0);
  MS_TEST_EQ_STR(r.rules[0].reason, "net charge -4 e");

  /* Electronegativity order: Cl+ / Na- in rock salt. */
  const char *inv[] = {"Cl+", "Na-"};
  ms_prefilter_free(&f);
  ms_ydoc_free(&doc);
  f = make("{electronegativity_order: true}", &doc);
  MS_TEST_OK(build("rocksalt", inv, 0, &c));
  MS_TEST_OK(ms_prefilter_check(f, &c, &r));
  MS_TEST_TRUE(!r.pass);
  MS_TEST_TRUE(strstr(r.rules[0].reason,
                      "anion Na- (X = 0.93) is not more electronegative than "
                      "cation Cl+ (X = 3.16)") != NULL);
  ms_prefilter_free(&f);
  ms_ydoc_free(&doc);

  /* Radius ratio: Be2+ in rock salt (0.45 / 1.40 = 0.32 < 0.414 x 0.8) fails; MgO passes;
   * CsCl-like Cs+ in rock salt passes the lower bound but fails with upper: true (1.67 / 1.81
   * = 0.92 > 0.732 x 1.2). */
  f = make("{radius_ratio: {tolerance: 0.2, upper: true}}", &doc);
  const char *beo[] = {"Be2+", "O2-"}, *csf[] = {"Cs+", "Cl-"};
  MS_TEST_OK(build("rocksalt", beo, 1.0, &c));
  MS_TEST_OK(ms_prefilter_check(f, &c, &r));
  MS_TEST_TRUE(!r.pass);
  MS_TEST_TRUE(strstr(r.rules[0].reason, "r+/r- = 0.321 below 0.414 for CN 6") != NULL);
  MS_TEST_OK(build("rocksalt", mgo, 1.0, &c));
  MS_TEST_OK(ms_prefilter_check(f, &c, &r));
  MS_TEST_TRUE(r.pass);
  MS_TEST_NEAR(r.rules[0].value, 0.72 / 1.40, 1e-12);
  MS_TEST_OK(build("rocksalt", csf, 1.0, &c));
  MS_TEST_OK(ms_prefilter_check(f, &c, &r));
  MS_TEST_TRUE(!r.pass);
  MS_TEST_TRUE(strstr(r.rules[0].reason, "above 0.732") != NULL);
  /* The coordination number comes from the geometry: 8 in CsCl, so Cs+ passes there. */
  MS_TEST_OK(build("cscl", csf, 1.0, &c));
  MS_TEST_OK(ms_prefilter_check(f, &c, &r));
  MS_TEST_TRUE(r.pass);
  ms_prefilter_free(&f);
  ms_ydoc_free(&doc);

  /* Minimum distance: MgO squeezed to a quarter of its volume (Mg-O 1.34 Å < 0.7 x 2.12). */
  f = make("{min_distance: true, elements: {allowed: [Mg, O]}}", &doc);
  MS_TEST_OK(build("rocksalt", mgo, 0.25, &c));
  MS_TEST_OK(ms_prefilter_check(f, &c, &r));
  MS_TEST_EQ_INT(r.first_failed, 0);
  MS_TEST_NEAR(r.rules[0].value, 4.24 * cbrt(0.25) / 2 / (0.7 * 2.12), 1e-9);
  /* Mg-Mg (a/sqrt2 against 0.7 (2 r_Mg + 2 r_O) / sqrt2) is exactly as short relative to its
   * minimum as Mg-O; either may be named. */
  MS_TEST_TRUE(strstr(r.rules[0].reason, "(Mg2+)") && strstr(r.rules[0].reason, "Å apart, below"));
  MS_TEST_OK(build("rocksalt", mgo, 1.0, &c));
  MS_TEST_OK(ms_prefilter_check(f, &c, &r));
  MS_TEST_TRUE(r.pass);
  /* Elements. */
  MS_TEST_OK(build("perovskite_cubic", sto, 1.0, &c));
  MS_TEST_OK(ms_prefilter_check(f, &c, &r));
  MS_TEST_EQ_INT(r.first_failed, 1);
  MS_TEST_EQ_STR(r.rules[1].reason, "Sr is not in the allowed elements");
  ms_prefilter_free(&f);
  ms_ydoc_free(&doc);

  /* `false` disables a rule. */
  f = make("{charge_neutral: false, tolerance_factor: true}", &doc);
  MS_TEST_EQ_INT(ms_prefilter_nrules(f), 1);
  ms_prefilter_free(&f);
  ms_ydoc_free(&doc);
  ms_cell_free(&c);
}

/* Plain elements: min_distance takes covalent radii (Cordero et al. 2008) and elements works;
 * the rules that need oxidation states say so. B2 NiAl at a = 2.887 Å (measured): the Ni-Al
 * bond is a sqrt(3)/2 = 2.500 Å, against 0.7 (1.24 + 1.21) = 1.715 Å: passes; compressed to
 * 0.3 of its volume (bond 1.674 Å) it fails. */
static void test_plain(void) {
  ms_ydoc *doc;
  ms_prefilter *f = make("{charge_neutral: true, min_distance: true, elements: {forbidden: [Pb]},\n"
                         " tolerance_factor: true, radius_ratio: true, bartel_tau: true,\n"
                         " electronegativity_order: true}",
                         &doc);
  if (!f) return;
  int needs[7] = {1, 0, 0, 1, 1, 1, 1};
  for (int k = 0; k < 7; ++k) MS_TEST_EQ_INT(ms_prefilter_rule_needs_ions(f, k), needs[k]);
  MS_TEST_EQ_INT(ms_prefilter_rule_needs_ions(f, 7), 0);
  ms_prefilter_free(&f);
  ms_ydoc_free(&doc);
  f = make("{min_distance: true, elements: {forbidden: [Pb]}}", &doc);
  if (!f) return;
  ms_cell c;
  ms_cell_init(&c);
  ms_prefilter_result r;
  ms_prototype *p = NULL;
  MS_TEST_OK(ms_prototype_load("cscl", &p));
  ms_species sp[2];
  ms_species_parse("Ni", &sp[0]);
  ms_species_parse("Al", &sp[1]);
  ms_proto_build_options o;
  ms_proto_build_options_default(&o);
  o.lattice = MS_PROTO_LATTICE_REFERENCE;
  o.volume_scale = pow(2.887 / 4.123, 3); /* cscl's reference lattice is CsCl's, a = 4.123 Å */
  MS_TEST_OK(ms_prototype_build(p, sp, &o, &c));
  MS_TEST_OK(ms_prefilter_check(f, &c, &r));
  MS_TEST_TRUE(r.pass);
  MS_TEST_EQ_INT(r.rules[1].outcome, MS_RULE_PASS);
  /* compressed until the Ni-Al bond is 1.6 Å: 1.6 / 1.715 of the minimum */
  o.volume_scale *= pow(1.6 / (2.887 * sqrt(3.0) / 2), 3);
  MS_TEST_OK(ms_prototype_build(p, sp, &o, &c));
  MS_TEST_OK(ms_prefilter_check(f, &c, &r));
  MS_TEST_TRUE(!r.pass);
  MS_TEST_NEAR(r.rules[0].value, 1.6 / (0.7 * (1.24 + 1.21)), 1e-9);
  MS_TEST_TRUE(strstr(r.rules[0].reason, "(Ni) and") != NULL);
  ms_prototype_free(&p);
  ms_cell_free(&c);
  ms_prefilter_free(&f);
  ms_ydoc_free(&doc);
}

static void test_errors(void) {
  MS_TEST_ERR(make_error("{tolerance_factr: [0.8, 1.0]}"), MS_ERR_INPUT,
              "f.yaml:1:2: rules.tolerance_factr: unknown rule (did you mean 'tolerance_factor'?)");
  MS_TEST_ERR(make_error("{tolerance_factor: [1.1, 0.8]}"), MS_ERR_INPUT, "0 <= min < max");
  MS_TEST_ERR(make_error("{charge_neutral: yes please}"), MS_ERR_INPUT, "true or false");
  MS_TEST_ERR(make_error("{radius_ratio: {tolerence: 0.1}}"), MS_ERR_INPUT,
              "did you mean 'tolerance'");
  MS_TEST_ERR(make_error("{elements: {forbidden: [Xx]}}"), MS_ERR_INPUT, "unknown element 'Xx'");
  MS_TEST_ERR(make_error("[charge_neutral]"), MS_ERR_INPUT, "must be a mapping");
}

int main(void) {
  if (ms_elements_load() != MS_SUCCESS) {
    fprintf(stderr, "%s\n", ms_err_message());
    return 1;
  }
  test_t_tau();
  test_rules();
  test_plain();
  test_errors();
  return MS_TEST_RESULT();
}
