/* The energy-model interface (model.h): the registry (resolution, claims, unknown names with a
 * did-you-mean, registration errors), a test-only family (harmonic springs, whose energy,
 * forces and stress are known in closed form) evaluated through ms_model_compute, the volume
 * scan, the relaxer and a whole campaign next to a rigid-ion stage, and the rigid-ion family's
 * option parser (the electrostatics method, accuracy, coulomb) with its messages. */
#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "matscreen/campaign.h"
#include "matscreen/funnel.h"
#include "matscreen/generator.h"
#include "matscreen/log.h"
#include "matscreen/model.h"
#include "matscreen/prototype.h"
#include "matscreen/relax.h"
#include "matscreen/species.h"
#include "ms_test.h"

/* ---- a test-only family: harmonic springs E = sum over pairs r < 1.25 r0 of k/2 (r - r0)^2 -- */

typedef struct {
  double k, r0, rc;
} toy_data;

typedef struct {
  const toy_data *d;
} toy_ws;

static ms_err toy_parse(const ms_model_spec *s, toy_data *d) {
  d->k = 1.0;
  d->r0 = 2.0;
  for (int q = 0; q < s->nopt; ++q) {
    double v = 0;
    MS_CALL(ms_model_option_double(&s->opt[q], &v));
    if (!(v > 0)) return ms_model_option_error(&s->opt[q], "must be > 0, got %g", v);
    if (strcmp(s->opt[q].key, "k") == 0) d->k = v;
    else d->r0 = v;
  }
  d->rc = 1.25 * d->r0;
  return MS_SUCCESS;
}

static ms_err toy_check(const ms_model_spec *s) {
  toy_data d;
  return toy_parse(s, &d);
}

static ms_err toy_settings(const ms_model_spec *s, ms_model_settings *out) {
  toy_data d;
  MS_CALL(toy_parse(s, &d));
  out->n = 2;
  snprintf(out->key[0], sizeof out->key[0], "k");
  snprintf(out->value[0], sizeof out->value[0], "%.17g", d.k);
  snprintf(out->key[1], sizeof out->key[1], "r0");
  snprintf(out->value[1], sizeof out->value[1], "%.17g", d.r0);
  return MS_SUCCESS;
}

static ms_err toy_load(const ms_model_spec *s, void **data, ms_model_about *about) {
  toy_data *d = malloc(sizeof *d);
  MS_CHECK(d, MS_ERR_MEM, "out of memory");
  ms_err e = toy_parse(s, d);
  if (e) {
    free(d);
    return e;
  }
  *data = d;
  about->name = "harmonic-toy";
  about->description = "harmonic springs between all pairs closer than 1.25 r0 (a test model)";
  about->citation = "";
  about->source = "test_model.c";
  about->needs_oxidation_states = 0;
  about->cutoff = d->rc;
  return MS_SUCCESS;
}

static void toy_unload(void *d) { free(d); }

static ms_err toy_ws_create(const void *d, void **ws) {
  toy_ws *w = malloc(sizeof *w);
  MS_CHECK(w, MS_ERR_MEM, "out of memory");
  w->d = d;
  *ws = w;
  return MS_SUCCESS;
}

static void toy_ws_free(void *w) { free(w); }

static int toy_covers(const void *d, const ms_species *sp, char *reason, size_t len) {
  (void)d;
  if (sp->Z <= 20) return 1;
  char lab[16];
  snprintf(reason, len, "harmonic-toy has no spring for %s (covers Z <= 20)", ms_species_format(sp, lab, sizeof lab));
  return 0;
}

typedef struct {
  const toy_data *d;
  ms_model_result *res;
} toy_pass;

static int toy_pair(int i, int j, const double dv[3], double r, void *ctx) {
  toy_pass *p = ctx;
  double dr = r - p->d->r0, g = p->d->k * dr / r; /* (1/r) dE/dr */
  p->res->energy += 0.5 * p->d->k * dr * dr;
  for (int a = 0; a < 3; ++a) {
    if (p->res->forces) {
      p->res->forces[i][a] += g * dv[a];
      p->res->forces[j][a] -= g * dv[a];
    }
    for (int b = 0; b < 3; ++b) p->res->W[a][b] += g * dv[a] * dv[b];
  }
  return 0;
}

static ms_err toy_compute(void *vw, const ms_cell *c, unsigned flags, ms_model_result *res) {
  const toy_ws *w = vw;
  for (int k = 0; k < c->nkinds; ++k) {
    char why[128];
    if (!toy_covers(w->d, &c->species[k], why, sizeof why)) MS_FAIL(MS_ERR_INPUT, "%s", why);
  }
  toy_pass p = {w->d, res};
  ms_cell_foreach_pair(c, w->d->rc, toy_pair, &p);
  res->e_coulomb = res->e_short = res->charge_total = NAN;
  ms_model_result_finish(res, c->natoms, flags);
  return MS_SUCCESS;
}

static const char *const *toy_names(int *count) {
  static const char *const names[] = {"harmonic-toy", NULL};
  *count = 1;
  return names;
}

static ms_model_claim toy_claims(const char *name) {
  size_t l = strlen(name);
  if (strcmp(name, "harmonic-toy") == 0 || (l > 4 && strcmp(name + l - 4, ".toy") == 0)) return MS_MODEL_CLAIM_SURE;
  return MS_MODEL_CLAIM_NO;
}

static const ms_model_option_info toy_options[] = {
    {"k", "a number > 0", "1", "spring constant, eV/Å^2", NULL, NULL},
    {"r0", "a number > 0", "2", "rest length, Å", NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL}};

static const ms_model_ops toy_ops = {toy_check,   toy_settings, toy_load, toy_unload, toy_ws_create, toy_ws_free,
                                     toy_compute, toy_covers,   NULL,     NULL,       NULL};

static const ms_model_family toy_family = {
    "harmonic", "harmonic springs (test only)", "*.toy", NULL, toy_options, toy_names, toy_claims, NULL, &toy_ops};

/* A family whose built-in name collides with the rigid-ion family's. */
static const char *const *thief_names(int *count) {
  static const char *const names[] = {"bush1994", NULL};
  *count = 1;
  return names;
}
static const ms_model_family thief_family = {
    "thief", "steals a name", "", NULL, NULL, thief_names, toy_claims, NULL, &toy_ops};

/* ---- helpers ----------------------------------------------------------------------------- */

static void cubic(ms_cell *c, double a, double b, double cc) {
  double L[3][3] = {{a, 0, 0}, {0, b, 0}, {0, 0, cc}};
  ms_cell_free(c);
  ms_cell_init(c);
  ms_cell_set_lattice(c, L);
}

static void add(ms_cell *c, int Z, int ox, double x, double y, double z) {
  ms_species sp = {Z, ox != 0, ox};
  double f[3] = {x, y, z};
  MS_TEST_OK(ms_cell_add_atom(c, &sp, f));
}

static double energy_of(ms_model m, const ms_cell *c) {
  ms_model_result r;
  r.forces = NULL;
  MS_TEST_OK(ms_model_compute(m, c, 0, &r));
  return r.energy;
}

static ms_model toy_model(const char *name) {
  ms_model_spec s;
  ms_model_spec_init(&s, name, "test");
  ms_model m = NULL;
  MS_TEST_OK(ms_model_create_spec(&s, &m));
  return m;
}

/* ---- the registry ----------------------------------------------------------------------- */

static void test_registry(void) {
  int n = 0;
  const ms_model_family *const *all = ms_model_family_list(&n);
  MS_TEST_TRUE(n >= 1 && strcmp(all[0]->name, "rigid_ion") == 0);
  const ms_model_family *f = NULL;
  MS_TEST_OK(ms_model_family_resolve("bush1994", &f));
  MS_TEST_TRUE(f && strcmp(f->name, "rigid_ion") == 0);
  MS_TEST_OK(ms_model_family_resolve("some/dir/my-set.yaml", &f));
  MS_TEST_TRUE(f && strcmp(f->name, "rigid_ion") == 0);
  MS_TEST_ERR(ms_model_family_resolve("bush1995", &f), MS_ERR_UNKNOWN_TYPE, "did you mean 'bush1994'?");
  MS_TEST_ERR(ms_model_family_resolve("bush1995", &f), MS_ERR_UNKNOWN_TYPE,
              "built-in models: bush1994, coulomb, lewis_catlow1985, pedone2006");
  MS_TEST_ERR(ms_model_family_resolve("", &f), MS_ERR_INPUT, "empty model name");

  /* registration: the toy family, a duplicate, a stolen built-in name, an incomplete record */
  MS_TEST_OK(ms_model_family_register(&toy_family));
  MS_TEST_ERR(ms_model_family_register(&toy_family), MS_ERR_INPUT, "already exists");
  MS_TEST_ERR(ms_model_family_register(&thief_family), MS_ERR_INPUT,
              "built-in model 'bush1994' already belongs to family 'rigid_ion'");
  ms_model_family broken = toy_family;
  broken.name = "broken";
  broken.claims = NULL;
  MS_TEST_ERR(ms_model_family_register(&broken), MS_ERR_ARG, "incomplete");
  MS_TEST_TRUE(ms_model_family_find("harmonic") == &toy_family);
  all = ms_model_family_list(&n);
  MS_TEST_TRUE(n >= 2 && all[n - 1] == &toy_family && all[n] == NULL);

  /* claims: a sure claim beats a path the rigid-ion family could only try to read */
  MS_TEST_OK(ms_model_family_resolve("harmonic-toy", &f));
  MS_TEST_TRUE(f == &toy_family);
  MS_TEST_OK(ms_model_family_resolve("dir/springs.toy", &f));
  MS_TEST_TRUE(f == &toy_family);
  MS_TEST_OK(ms_model_family_resolve("dir/springs.txt", &f));
  MS_TEST_TRUE(f && strcmp(f->name, "rigid_ion") == 0);
  MS_TEST_ERR(ms_model_family_resolve("harmonic-tyo", &f), MS_ERR_UNKNOWN_TYPE, "did you mean 'harmonic-toy'?");

  /* option keys are checked against the family's table, values by the family */
  ms_model_spec s;
  ms_model_spec_init(&s, "harmonic-toy", "--potential");
  MS_TEST_OK(ms_model_spec_add(&s, "r_0", "2", "--model-option r_0"));
  MS_TEST_ERR(ms_model_spec_check(&s), MS_ERR_INPUT,
              "--model-option r_0: unknown option of harmonic models (did you mean 'r0'?); options: k, r0");
  ms_model_spec_init(&s, "harmonic-toy", "--potential");
  MS_TEST_OK(ms_model_spec_add(&s, "k", "-1", "--model-option k"));
  MS_TEST_ERR(ms_model_spec_check(&s), MS_ERR_INPUT, "--model-option k: must be > 0, got -1");
  ms_model_spec_init(&s, "harmonic-toy", "--potential");
  MS_TEST_OK(ms_model_spec_add(&s, "k", "-1", "--model-option k"));
  MS_TEST_OK(ms_model_spec_add(&s, "k", "3", "--model-option k")); /* the last one given wins */
  MS_TEST_OK(ms_model_spec_check(&s));
  MS_TEST_EQ_STR(ms_model_spec_get(&s, "k"), "3");
  ms_model_settings st;
  MS_TEST_OK(ms_model_spec_settings(&s, &st));
  MS_TEST_TRUE(st.n == 2 && strcmp(st.key[1], "r0") == 0 && strcmp(st.value[1], "2") == 0);
}

/* ---- the toy family through the interface ------------------------------------------------ */

static void test_toy_family(void) {
  ms_model m = toy_model("harmonic-toy");
  if (!m) return;
  MS_TEST_EQ_STR(ms_model_name(m), "harmonic-toy");
  MS_TEST_EQ_STR(ms_model_family_name(m), "harmonic");
  MS_TEST_NEAR(ms_model_cutoff(m), 2.5, 0);
  MS_TEST_EQ_INT(ms_model_needs_oxidation_states(m), 0);
  MS_TEST_TRUE(ms_model_potential(m) == NULL); /* not a rigid-ion model */
  ms_species o = {8, 1, -2}, zn = {30, 1, 2};
  char why[160];
  MS_TEST_TRUE(ms_model_covers(m, &o, why, sizeof why));
  MS_TEST_TRUE(!ms_model_covers(m, &zn, why, sizeof why) && strstr(why, "Zn2+"));
  MS_TEST_NEAR(ms_model_min_distance(m, &o, &o), 0, 0); /* no guard: the op is optional */

  /* Simple cubic, a = 2.2, springs to the 6 nearest neighbours (3 per atom): E = 3 k/2 (a -
   * r0)^2, W = k (a - r0) a I per atom, forces zero. */
  ms_cell c;
  ms_cell_init(&c);
  cubic(&c, 2.2, 2.2, 2.2);
  add(&c, 12, 0, 0, 0, 0);
  double f[1][3];
  ms_model_result r;
  r.forces = f;
  MS_TEST_OK(ms_model_compute(m, &c, MS_MODEL_ALL, &r));
  MS_TEST_EQ_INT(r.status, MS_STATUS_OK);
  MS_TEST_NEAR(r.energy, 1.5 * 0.2 * 0.2, 1e-14);
  MS_TEST_NEAR(r.W[0][0], 0.2 * 2.2, 1e-14);
  MS_TEST_NEAR(r.W[0][1], 0, 1e-14);
  MS_TEST_NEAR(r.stress_GPa[2], 0.2 * 2.2 / (2.2 * 2.2 * 2.2) * MS_EV_PER_A3_IN_GPA, 1e-12);
  MS_TEST_NEAR(f[0][0], 0, 1e-14);
  MS_TEST_TRUE(isnan(r.e_coulomb) && isnan(r.e_short) && isnan(r.charge_total) && !r.has_coulomb);

  /* Forces and W against central differences on a rattled, sheared two-atom cell. */
  double L[3][3] = {{2.3, 0.1, 0}, {-0.05, 2.1, 0.07}, {0.02, 0.1, 4.3}};
  ms_cell_free(&c);
  ms_cell_init(&c);
  ms_cell_set_lattice(&c, L);
  add(&c, 12, 0, 0.02, -0.01, 0.03);
  add(&c, 8, 0, 0.47, 0.52, 0.49);
  double F[2][3];
  r.forces = F;
  MS_TEST_OK(ms_model_compute(m, &c, MS_MODEL_ALL, &r));
  double h = 1e-5;
  for (int i = 0; i < 2; ++i)
    for (int a = 0; a < 3; ++a) {
      double x[3], fr[3];
      ms_cell_frac_to_cart(&c, c.frac[i], x);
      double keep[3] = {c.frac[i][0], c.frac[i][1], c.frac[i][2]};
      x[a] += h;
      ms_cell_cart_to_frac(&c, x, fr);
      memcpy(c.frac[i], fr, sizeof fr);
      double ep = energy_of(m, &c);
      x[a] -= 2 * h;
      ms_cell_cart_to_frac(&c, x, fr);
      memcpy(c.frac[i], fr, sizeof fr);
      double em = energy_of(m, &c);
      memcpy(c.frac[i], keep, sizeof keep);
      MS_TEST_NEAR(F[i][a], -(ep - em) / (2 * h), 1e-7);
    }
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) {
      double E2[2];
      for (int s = 0; s < 2; ++s) {
        ms_cell d = MS_CELL_INIT;
        MS_TEST_OK(ms_cell_copy(&d, &c));
        double eps = s ? -h : h, Ld[3][3];
        for (int p = 0; p < 3; ++p)
          for (int q = 0; q < 3; ++q) Ld[p][q] = L[p][q] + eps * L[p][a] * (q == b);
        ms_cell_set_lattice(&d, Ld);
        E2[s] = energy_of(m, &d);
        ms_cell_free(&d);
      }
      MS_TEST_NEAR(r.W[a][b], (E2[0] - E2[1]) / (2 * h), 1e-7);
    }

  /* A clone (another workspace on the same data) gives the same numbers bit for bit. */
  ms_model m2 = NULL;
  MS_TEST_OK(ms_model_clone(m, &m2));
  if (m2) {
    double F2[2][3];
    ms_model_result r2;
    r2.forces = F2;
    MS_TEST_OK(ms_model_compute(m2, &c, MS_MODEL_ALL, &r2));
    MS_TEST_TRUE(r2.energy == r.energy && memcmp(F2, F, sizeof F) == 0 && memcmp(r2.W, r.W, sizeof r.W) == 0);
  }
  ms_model_destroy(&m); /* the data live on with the clone */
  MS_TEST_TRUE(m == NULL);
  if (m2) MS_TEST_NEAR(ms_model_cutoff(m2), 2.5, 0);
  m = m2;

  /* An uncovered species is an error (a campaign turns it into a status). */
  ms_cell z = MS_CELL_INIT;
  cubic(&z, 3, 3, 3);
  add(&z, 30, 2, 0, 0, 0);
  add(&z, 8, -2, 0.5, 0.5, 0.5);
  r.forces = NULL;
  MS_TEST_ERR(ms_model_compute(m, &z, 0, &r), MS_ERR_INPUT, "no spring for Zn2+");

  /* The volume scan finds the volume of the rest length: (2.0 / 2.2)^3 = 0.7513. */
  cubic(&c, 2.2, 2.2, 2.2);
  add(&c, 12, 0, 0, 0, 0);
  ms_volume_scan_options vo = {0.5, 1.0, 51};
  ms_volume_scan_result vr;
  MS_TEST_OK(ms_volume_scan(m, &c, &vo, &vr));
  MS_TEST_EQ_INT(vr.status, MS_STATUS_OK);
  MS_TEST_NEAR(vr.best_factor, 0.75, 1e-12);
  MS_TEST_NEAR(vr.energy, 1.5 * pow(2.2 * cbrt(0.75) - 2.0, 2), 1e-12);

  /* The relaxer: a stretched two-atom cell relaxes to springs at rest, a = b = 2, c = 4 (the
   * start's orthorhombic symmetry is kept, so the shear modes these springs do not resist stay
   * at zero). */
  ms_relax_options ro;
  ms_relax_options_default(&ro);
  ro.fmax = 1e-6;
  ro.smax = 1e-5;
  ms_relax rx = NULL;
  MS_TEST_OK(ms_relax_create(m, &ro, &rx));
  double Ls[3][3] = {{2.2, 0, 0}, {0, 2.15, 0}, {0, 0, 4.4}};
  ms_cell_free(&c);
  ms_cell_init(&c);
  ms_cell_set_lattice(&c, Ls);
  add(&c, 12, 0, 0, 0, 0);
  add(&c, 12, 0, 0, 0, 0.52);
  ms_relax_result rr;
  memset(&rr, 0, sizeof rr);
  if (rx) MS_TEST_OK(ms_relax_run(rx, &c, &rr));
  MS_TEST_EQ_INT(rr.status, MS_STATUS_CONVERGED);
  MS_TEST_NEAR(rr.energy, 0, 1e-10);
  double len[3];
  for (int k = 0; k < 3; ++k) len[k] = sqrt(c.lattice[k][0] * c.lattice[k][0] + c.lattice[k][1] * c.lattice[k][1] +
                                            c.lattice[k][2] * c.lattice[k][2]);
  MS_TEST_NEAR(len[0], 2.0, 1e-5);
  MS_TEST_NEAR(len[1], 2.0, 1e-5);
  MS_TEST_NEAR(len[2], 4.0, 1e-5);
  MS_TEST_NEAR(ms_cell_distance(&c, 0, 1, NULL), 2.0, 1e-5);
  memset(&rr, 0, sizeof rr);
  if (rx) MS_TEST_ERR(ms_relax_run(rx, &z, &rr), MS_ERR_INPUT, "Zn2+");
  ms_relax_destroy(&rx);
  ms_cell_free(&z);
  ms_cell_free(&c);
  ms_model_destroy(&m);
}

/* ---- the rigid-ion family through the interface -------------------------------------------- */

static void test_rigid_ion(void) {
  /* A spec with options gives the same numbers, bit for bit, as the typed settings. */
  ms_model_spec s;
  ms_model_spec_init(&s, "bush1994", "test");
  MS_TEST_OK(ms_model_spec_add(&s, "method", "pme", "test"));
  MS_TEST_OK(ms_model_spec_add(&s, "accuracy", "1e-6", "test"));
  ms_model a = NULL, b = NULL;
  MS_TEST_OK(ms_model_create_spec(&s, &a));
  ms_model_options mo;
  ms_model_options_default(&mo);
  mo.ewald.method = MS_EWALD_PME;
  mo.ewald.accuracy = 1e-6;
  MS_TEST_OK(ms_model_create("bush1994", &mo, &b));
  ms_cell c = MS_CELL_INIT;
  cubic(&c, 3.905, 3.905, 3.92);
  add(&c, 38, 2, 0.01, 0, 0);
  add(&c, 22, 4, 0.5, 0.52, 0.5);
  add(&c, 8, -2, 0.5, 0.5, 0.03);
  add(&c, 8, -2, 0.5, 0, 0.5);
  add(&c, 8, -2, 0, 0.49, 0.5);
  double fa[5][3], fb[5][3];
  ms_model_result ra, rb;
  ra.forces = fa;
  rb.forces = fb;
  if (a && b) {
    MS_TEST_OK(ms_model_compute(a, &c, MS_MODEL_ALL, &ra));
    MS_TEST_OK(ms_model_compute(b, &c, MS_MODEL_ALL, &rb));
    MS_TEST_TRUE(ra.energy == rb.energy && memcmp(fa, fb, sizeof fa) == 0 && memcmp(ra.W, rb.W, sizeof ra.W) == 0);
    MS_TEST_EQ_INT(ra.ewald.method, MS_EWALD_PME);
    MS_TEST_NEAR(ra.ewald.accuracy, 1e-6, 0);
    MS_TEST_NEAR(ra.e_coulomb + ra.e_short, ra.energy, 1e-9);
    MS_TEST_EQ_STR(ms_model_name(a), "bush1994");
    MS_TEST_EQ_STR(ms_model_family_name(a), "rigid_ion");
    MS_TEST_TRUE(ms_model_potential(a) != NULL);
    MS_TEST_NEAR(ms_model_cutoff(a), 12.0, 0);
    MS_TEST_TRUE(strstr(ms_model_citation(a), "J. Mater. Chem. 4, 831") != NULL);
  }
  /* coverage and the catastrophe guard come from the potential set */
  ms_species sr = {38, 1, 2}, zn = {30, 1, 2}, o = {8, 1, -2}, bare_sr = {38, 0, 0};
  char why[512];
  if (a) {
    MS_TEST_TRUE(ms_model_covers(a, &sr, why, sizeof why));
    MS_TEST_TRUE(ms_model_covers(a, &bare_sr, why, sizeof why)); /* one Sr ion in the set */
    MS_TEST_TRUE(!ms_model_covers(a, &zn, why, sizeof why));
    MS_TEST_TRUE(strstr(why, "potential 'bush1994' has no parameters for Zn2+ (covers: Li+,") != NULL);
    double guard = 0, br = 0, core = 0;
    MS_TEST_OK(ms_potential_guard(ms_model_potential(a), "O2-", "O2-", &guard, &br, &core));
    MS_TEST_NEAR(ms_model_min_distance(a, &o, &o), guard, 0);
    MS_TEST_NEAR(guard, 1.2368 + 0.1, 1e-3); /* barrier top + margin (docs/models.md) */
    MS_TEST_NEAR(ms_model_min_distance(a, &zn, &o), 0, 0);
    int nsp = ms_model_species(a, 0, NULL, NULL, NULL);
    MS_TEST_EQ_INT(nsp, 20);
    const char *lab = NULL;
    double q = 0;
    ms_species s19;
    ms_model_species(a, nsp - 1, &s19, &lab, &q);
    MS_TEST_TRUE(lab && strcmp(lab, "O2-") == 0 && q == -2 && s19.Z == 8);
  }
  /* A name another family claims takes no typed rigid-ion settings. */
  ms_model t = NULL;
  MS_TEST_ERR(ms_model_create("harmonic-toy", &mo, &t), MS_ERR_INPUT, "is a harmonic model");
  ms_model_destroy(&a);
  ms_model_destroy(&b);
  ms_cell_free(&c);
}

/* The one parser of the electrostatics options: values, did-you-mean, positions. */
static ms_err spec_yaml(const char *text, ms_ydoc **doc, ms_model_spec *s) {
  ms_err e = ms_ydoc_parse(text, strlen(text), "c.yaml", doc);
  if (!e) e = ms_model_spec_from_yaml(ms_ynode_get(ms_ydoc_root(*doc), "potential"), "potential", s);
  if (!e) e = ms_model_spec_check(s);
  return e;
}

static void bad_yaml(const char *text, ms_err code, const char *expect) {
  ms_ydoc *doc = NULL;
  ms_model_spec s;
  MS_TEST_ERR(spec_yaml(text, &doc, &s), code, expect);
  ms_ydoc_free(&doc);
}

static void test_rigid_ion_options(void) {
  bad_yaml("potential: {name: bush1994, method: pmee}\n", MS_ERR_INPUT,
           "c.yaml:1:37: potential.method: must be auto, direct or pme, got 'pmee' (did you mean 'pme'?)");
  bad_yaml("potential: {name: bush1994, method: ewald}\n", MS_ERR_INPUT,
           "potential.method: must be auto, direct or pme, got 'ewald'");
  bad_yaml("potential: {name: bush1994, accuracy: 0.5}\n", MS_ERR_INPUT,
           "c.yaml:1:39: potential.accuracy: must be in [1e-15, 1e-2], got 0.5");
  bad_yaml("potential: {name: bush1994, accuracy: high}\n", MS_ERR_INPUT,
           "potential.accuracy: must be a finite number, got 'high'");
  bad_yaml("potential: {name: bush1994, coulomb: maybe}\n", MS_ERR_INPUT, "potential.coulomb: must be true or false");
  bad_yaml("potential: {name: bush1994, methd: pme}\n", MS_ERR_INPUT,
           "c.yaml:1:36: potential.methd: unknown option of rigid_ion models (did you mean 'method'?); options: "
           "accuracy, method, coulomb");
  bad_yaml("potential: {name: bush1994, method: [pme]}\n", MS_ERR_INPUT, "potential.method: must be a string");
  bad_yaml("potential: {method: pme}\n", MS_ERR_INPUT, "c.yaml:1:12: potential: missing required key 'name'");
  bad_yaml("potential: bush1995\n", MS_ERR_UNKNOWN_TYPE,
           "c.yaml:1:12: potential: unknown model 'bush1995' (did you mean 'bush1994'?)");
  bad_yaml("potential: [bush1994]\n", MS_ERR_INPUT, "potential: must be a model name or file");
  /* the same parser on the command line, named by the flag given */
  ms_model_spec s;
  ms_model_spec_init(&s, "bush1994", "--potential");
  MS_TEST_OK(ms_model_spec_add(&s, "method", "pm", "--method"));
  MS_TEST_ERR(ms_model_spec_check(&s), MS_ERR_INPUT, "--method: must be auto, direct or pme, got 'pm' (did you mean 'pme'?)");
  ms_model_spec_init(&s, "bush1994", "--potential");
  MS_TEST_OK(ms_model_spec_add(&s, "accuracy", "1e-6x", "--accuracy"));
  MS_TEST_ERR(ms_model_spec_check(&s), MS_ERR_INPUT, "--accuracy: must be a finite number, got '1e-6x'");
  ms_model_spec_init(&s, "bush1994", "--potential");
  MS_TEST_OK(ms_model_spec_add(&s, "coulomb", "false", "--no-coulomb"));
  MS_TEST_OK(ms_model_spec_check(&s));

  /* equal specs mean the same settings: a default given or left out is the same model */
  ms_model_spec d1, d2;
  ms_model_spec_init(&d1, "bush1994", "a");
  ms_model_spec_init(&d2, "bush1994", "b");
  MS_TEST_OK(ms_model_spec_add(&d2, "method", "auto", "b"));
  MS_TEST_OK(ms_model_spec_add(&d2, "coulomb", "true", "b"));
  MS_TEST_TRUE(ms_model_spec_equal(&d1, &d2));
  MS_TEST_OK(ms_model_spec_add(&d2, "method", "pme", "b"));
  MS_TEST_TRUE(!ms_model_spec_equal(&d1, &d2));
  ms_model_spec_init(&d2, "coulomb", "b");
  MS_TEST_TRUE(!ms_model_spec_equal(&d1, &d2));

  /* settings with defaults filled in: what the resolved campaign shows */
  ms_ydoc *doc = NULL;
  ms_model_settings st;
  MS_TEST_OK(spec_yaml("potential: bush1994\n", &doc, &s));
  MS_TEST_OK(ms_model_spec_settings(&s, &st));
  MS_TEST_TRUE(st.n == 1 && strcmp(st.key[0], "method") == 0 && strcmp(st.value[0], "auto") == 0);
  MS_TEST_EQ_STR(st.note, "accuracy: the potential's");
  ms_ydoc_free(&doc);
  MS_TEST_OK(spec_yaml("potential: {name: bush1994, coulomb: off, accuracy: 1e-6, method: direct}\n", &doc, &s));
  MS_TEST_OK(ms_model_spec_settings(&s, &st));
  MS_TEST_TRUE(st.n == 3 && strcmp(st.value[0], "1e-06") == 0 && strcmp(st.value[1], "direct") == 0 &&
               strcmp(st.key[2], "coulomb") == 0 && strcmp(st.value[2], "false") == 0);
  MS_TEST_EQ_STR(st.note, "");
  ms_ydoc_free(&doc);
}

/* ---- campaigns: per-stage models, the coverage check, a run with the toy family ------------- */

static const char *campaign_text =
    "campaign: {name: toy-run, seed: 3, output: OUT}\n"
    "potential: bush1994\n"
    "search:\n"
    "  - {generator: prototype_substitution, prototypes: [rocksalt], sites: {A: [Mg2+, Ca2+], X: [O2-]}}\n"
    "funnel:\n"
    "  - {stage: single_point, potential: {name: harmonic-toy, k: 2}}\n"
    "  - {stage: relax, fmax: 0.01}\n";

static ms_err parse_campaign(const char *text, ms_campaign **c) {
  return ms_campaign_parse(text, strlen(text), "t.yaml", c);
}

/* Fixed-width strings of dataset @p name (width w) and doubles of another, rank 0 reads. */
static int read_h5(const char *path, const char *sname, int w, char *strs, int maxs, const char *dname, double *d,
                   int maxd) {
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return -1;
  int ok = 1;
  hid_t ds = H5Dopen2(f, sname, H5P_DEFAULT);
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, (size_t)w);
  hid_t sp = H5Dget_space(ds);
  hssize_t n = H5Sget_simple_extent_npoints(sp);
  ok &= ds >= 0 && n <= maxs && H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, strs) >= 0;
  H5Sclose(sp);
  H5Tclose(t);
  H5Dclose(ds);
  ds = H5Dopen2(f, dname, H5P_DEFAULT);
  sp = H5Dget_space(ds);
  hssize_t m = H5Sget_simple_extent_npoints(sp);
  ok &= ds >= 0 && m <= maxd && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, d) >= 0;
  H5Sclose(sp);
  H5Dclose(ds);
  H5Fclose(f);
  return ok ? (int)n : -1;
}

static void test_campaign_models(void) {
  /* where a stage may name a model, and the resolved text */
  ms_campaign *c = NULL;
  MS_TEST_OK(parse_campaign(campaign_text, &c));
  if (c) {
    MS_TEST_TRUE(c->stage[0].has_model && strcmp(c->stage[0].model.name, "harmonic-toy") == 0);
    MS_TEST_TRUE(!c->stage[1].has_model && strcmp(c->stage[1].model.name, "bush1994") == 0);
    char *res = ms_campaign_resolved_yaml(c);
    MS_TEST_TRUE(res && strstr(res, "potential: {name: bush1994, method: auto}  # accuracy: the potential's\n"));
    MS_TEST_TRUE(res && strstr(res, "- {stage: single_point, potential: {name: harmonic-toy, k: 2, r0: 2}}\n"));
    ms_campaign *c2 = NULL;
    if (res) MS_TEST_OK(parse_campaign(res, &c2));
    if (c2) MS_TEST_TRUE(c2->stage[0].has_model && ms_model_spec_get(&c2->stage[0].model, "r0"));
    ms_campaign_free(&c2);
    free(res);
  }
  ms_campaign_free(&c);
  char text[2048];
  const char *hull = "  - {stage: relax, fmax: 0.01}\n  - {stage: hull, potential: bush1994}\n";
  snprintf(text, sizeof text, "%.*s%s", (int)(strstr(campaign_text, "  - {stage: relax") - campaign_text),
           campaign_text, hull);
  MS_TEST_ERR(parse_campaign(text, &c), MS_ERR_INPUT, "funnel[2].potential: the hull compares the relax stage's");
  snprintf(text, sizeof text, "%s  - {stage: dedup, potential: bush1994}\n", campaign_text);
  MS_TEST_ERR(parse_campaign(text, &c), MS_ERR_INPUT, "funnel[2].potential: the dedup stage evaluates no energies");
  snprintf(text, sizeof text, "%s", campaign_text);
  memcpy(strstr(text, "k: 2"), "q: 2", 4);
  MS_TEST_ERR(parse_campaign(text, &c), MS_ERR_INPUT, "t.yaml:6:62: funnel[0].potential.q: unknown option of harmonic");

  /* species outside a stage's model: one error naming them, the models and the stages */
  snprintf(text, sizeof text, "%s", campaign_text);
  char *ca = strstr(text, "Ca2+");
  memcpy(ca, "Zn2+", 4);
  MS_TEST_OK(parse_campaign(text, &c));
  if (c)
    MS_TEST_ERR(ms_funnel_check(MPI_COMM_WORLD, c, 0, stdout), MS_ERR_INPUT,
                "t.yaml:6:45: funnel[0].potential: model 'harmonic-toy' (funnel[0] single_point) does not cover "
                "Zn2+ (search[0]); model 'bush1994' (funnel[1] relax) does not cover Zn2+ (search[0]). "
                "harmonic-toy has no spring for Zn2+");
  ms_campaign_free(&c);

  /* A run: the toy family's single point, then bush1994's relaxation. The output records each
   * stage's model, and the single-point energies are the toy model's on the generated cells. */
  char dir[] = "/tmp/ms-test-model-XXXXXX";
  if (!mkdtemp(dir)) {
    MS_TEST_TRUE(!"mkdtemp");
    return;
  }
  char out[256];
  snprintf(out, sizeof out, "%s/toy.h5", dir);
  snprintf(text, sizeof text, "%s", campaign_text);
  MS_TEST_OK(parse_campaign(text, &c));
  if (!c) return;
  ms_funnel_options fo;
  ms_funnel_options_default(&fo);
  fo.output = out;
  ms_funnel_summary sum;
  ms_log_set_level(MS_LOG_QUIET);
  MS_TEST_OK(ms_funnel_run(MPI_COMM_WORLD, c, &fo, &sum));
  char models[8][64];
  double es[8];
  memset(models, 0, sizeof models);
  int nrows = read_h5(out, "/funnel/model", 64, &models[0][0], 8, "/candidates/e_single_point_eV_per_atom", es, 8);
  MS_TEST_EQ_INT(nrows, 3);
  if (nrows == 3) {
    MS_TEST_EQ_STR(models[0], "");
    MS_TEST_EQ_STR(models[1], "harmonic-toy");
    MS_TEST_EQ_STR(models[2], "bush1994");
  }
  ms_model toy = NULL;
  ms_model_spec s;
  ms_model_spec_init(&s, "harmonic-toy", "test");
  MS_TEST_OK(ms_model_spec_add(&s, "k", "2", "test"));
  MS_TEST_OK(ms_model_create_spec(&s, &toy));
  ms_ydoc *doc = NULL;
  MS_TEST_OK(ms_ydoc_parse(text, strlen(text), "t.yaml", &doc));
  ms_search search = NULL;
  if (doc) MS_TEST_OK(ms_search_create(ms_ynode_get(ms_ydoc_root(doc), "search"), 3, NULL, &search));
  for (int id = 0; search && toy && id < 2; ++id) {
    ms_cell cell = MS_CELL_INIT;
    MS_TEST_OK(ms_search_build(search, id, &cell, NULL));
    MS_TEST_TRUE(es[id] == energy_of(toy, &cell) / cell.natoms); /* bit for bit */
    ms_cell_free(&cell);
  }
  ms_search_destroy(&search);
  ms_ydoc_free(&doc);
  ms_model_destroy(&toy);
  ms_campaign_free(&c);
  unlink(out);
  rmdir(dir);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  if (ms_elements_load()) {
    fprintf(stderr, "elements: %s\n", ms_err_message());
    return 1;
  }
  test_registry();
  test_toy_family();
  test_rigid_ion();
  test_rigid_ion_options();
  test_campaign_models();
  ms_petsc_finalize();
  MPI_Finalize();
  return MS_TEST_RESULT();
}
