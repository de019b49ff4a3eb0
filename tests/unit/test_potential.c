/* Tests of the potential library (src/models/potential.c, inputs/potentials/): loading,
 * parameters against the physics reference, citations, guards, binding to structures, bad
 * files with positioned messages, and the short-range energy, forces and strain derivative of
 * the whole chain (file -> table -> neighbour list -> kernel) against LAMMPS.
 *
 * Independent references:
 * - parameters: shared/reference/physics.md §2.1-2.3 (Bush 1994, Lewis & Catlow 1985,
 *   Pedone 2006 as transcribed there from the GULP libraries and other copies);
 * - barrier tops: physics.md §2.5;
 * - LAMMPS 29 Sep 2021 `pair_style buck` results stored in tests/regression/pair/ (one YAML
 *   per case) by tests/regression/pair/make_lammps_reference.py (command in its header),
 *   which types the Bush parameters independently of inputs/potentials/bush1994.yaml. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/neighbor.h"
#include "matscreen/pair.h"
#include "matscreen/potential.h"
#include "matscreen/yaml.h"
#include "ms_test.h"

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                    */

static ms_species ion(const char *label) {
  ms_species sp = {0, 0, 0};
  if (ms_species_parse(label, &sp) != MS_SUCCESS) fprintf(stderr, "bad label %s\n", label);
  return sp;
}

/* Cubic box of side @p L with ions at Cartesian positions. */
static void make_box(ms_cell *c, double L, int n, const char *const *labels,
                     const double (*x)[3]) {
  ms_cell_init(c);
  const double lat[3][3] = {{L, 0, 0}, {0, L, 0}, {0, 0, L}};
  ms_cell_set_lattice(c, lat);
  for (int k = 0; k < n; ++k) {
    ms_species sp = ion(labels[k]);
    double f[3];
    ms_cell_cart_to_frac(c, x[k], f);
    ms_cell_add_atom(c, &sp, f);
  }
}

static const ms_pair_term *find_term(const ms_potential *p, const char *a, const char *b,
                                     ms_pair_form form) {
  ms_potential_term_info ti;
  for (int k = 0; k < ms_potential_nterms(p); ++k) {
    ms_potential_term(p, k, &ti);
    if (ti.term->form != form) continue;
    if ((strcmp(ti.species[0], a) == 0 && strcmp(ti.species[1], b) == 0) ||
        (strcmp(ti.species[0], b) == 0 && strcmp(ti.species[1], a) == 0))
      return ti.term;
  }
  return NULL;
}

/* Line and column (1-based) of the first occurrence of @p needle in @p text. */
static void pos_of(const char *text, const char *needle, int *line, int *col) {
  const char *at = strstr(text, needle);
  *line = 1;
  *col = 1;
  if (!at) return;
  for (const char *c = text; c < at; ++c) {
    if (*c == '\n') {
      ++*line;
      *col = 1;
    } else {
      ++*col;
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Library files                                                                              */

static void test_library_loads(void) {
  int n = 0;
  const char *const *names = ms_potential_builtin_names(&n);
  MS_TEST_TRUE(n >= 4);
  const char *want[] = {"bush1994", "coulomb", "lewis_catlow1985", "pedone2006"};
  for (int w = 0; w < 4; ++w) {
    int seen = 0;
    for (int k = 0; k < n; ++k) seen |= strcmp(names[k], want[w]) == 0;
    if (!seen) fprintf(stderr, "missing built-in potential %s\n", want[w]);
    MS_TEST_TRUE(seen);
  }
  for (int k = 0; k < n; ++k) {
    char name[64];
    snprintf(name, sizeof name, "%s", names[k]); /* the list is reused by later calls */
    ms_potential *p = NULL;
    MS_TEST_OK(ms_potential_load(name, &p));
    if (!p) continue;
    MS_TEST_EQ_STR(ms_potential_name(p), name);
    MS_TEST_TRUE(strlen(ms_potential_description(p)) > 20);
    MS_TEST_TRUE(ms_potential_ncitations(p) >= 1);
    /* every term has a resolved, non-trivial citation */
    for (int t = 0; t < ms_potential_nterms(p); ++t) {
      ms_potential_term_info ti;
      MS_TEST_OK(ms_potential_term(p, t, &ti));
      MS_TEST_TRUE(ti.citation && strlen(ti.citation) > 30);
      MS_TEST_TRUE(ti.citation_key && ti.citation_key[0]);
      MS_TEST_TRUE(ti.term->cutoff > 0);
    }
    FILE *null = fopen("/dev/null", "w");
    if (null) {
      MS_TEST_OK(ms_potential_describe(p, null));
      fclose(null);
    }
    ms_potential_free(&p);
    MS_TEST_TRUE(p == NULL);
  }
}

static void test_bush_parameters(void) {
  ms_potential *p = NULL;
  MS_TEST_OK(ms_potential_load("bush1994", &p));
  if (!p) return;
  MS_TEST_EQ_INT(ms_potential_charge_model(p), MS_CHARGES_FORMAL);
  MS_TEST_EQ_INT(ms_potential_nspecies(p), 20);
  MS_TEST_NEAR(ms_potential_max_cutoff(p), 12.0, 0);
  const ms_pair_term *t = find_term(p, "Ti4+", "O2-", MS_PAIR_BUCKINGHAM);
  MS_TEST_TRUE(t != NULL);
  if (t) {
    MS_TEST_NEAR(t->p[0], 2088.107, 0);
    MS_TEST_NEAR(t->p[1], 0.2888, 0);
    MS_TEST_NEAR(t->p[2], 0.0, 0);
    MS_TEST_NEAR(t->cutoff, 10.0, 0);
    MS_TEST_EQ_INT(t->shift, 0);
  }
  t = find_term(p, "Sr2+", "O2-", MS_PAIR_BUCKINGHAM);
  MS_TEST_TRUE(t && t->p[0] == 1956.702 && t->p[1] == 0.3252 && t->cutoff == 10.0);
  t = find_term(p, "O2-", "O2-", MS_PAIR_BUCKINGHAM);
  MS_TEST_TRUE(t != NULL);
  if (t) {
    MS_TEST_NEAR(t->p[0], 25.410, 0);
    MS_TEST_NEAR(t->p[1], 0.6937, 0);
    MS_TEST_NEAR(t->p[2], 32.32, 0);
    MS_TEST_NEAR(t->cutoff, 12.0, 0);
  }
  t = find_term(p, "Mg2+", "O2-", MS_PAIR_BUCKINGHAM);
  MS_TEST_TRUE(t && t->p[0] == 2457.243 && t->p[1] == 0.2610);
  t = find_term(p, "La3+", "O2-", MS_PAIR_BUCKINGHAM);
  MS_TEST_TRUE(t && t->p[0] == 5436.827 && t->p[1] == 0.2939);
  /* no cation-cation terms in the GULP file */
  MS_TEST_TRUE(find_term(p, "Sr2+", "Ti4+", MS_PAIR_BUCKINGHAM) == NULL);
  double q;
  ms_species sp;
  for (int k = 0; k < ms_potential_nspecies(p); ++k) {
    ms_potential_species(p, k, &sp, &q);
    MS_TEST_NEAR(q, sp.ox, 0); /* formal charges */
  }
  /* Guards (physics.md §2.5): barrier tops with formal charges, radius = top + 0.1 Å. */
  double rmin, rtop, core;
  MS_TEST_OK(ms_potential_guard(p, "O2-", "O2-", &rmin, &rtop, &core));
  MS_TEST_NEAR(rtop, 1.2368, 1e-3);
  MS_TEST_NEAR(rmin, rtop + MS_PAIR_GUARD_MARGIN_A, 1e-12);
  MS_TEST_NEAR(core, 0.0, 0);
  MS_TEST_OK(ms_potential_guard(p, "Mg2+", "O2-", &rmin, &rtop, &core));
  MS_TEST_NEAR(rtop, 0.0936, 1e-3);
  MS_TEST_OK(ms_potential_guard(p, "O2-", "Sr2+", &rmin, &rtop, &core));
  MS_TEST_NEAR(rtop, 0.1172, 1e-3);
  MS_TEST_OK(ms_potential_guard(p, "Ti4+", "O2-", &rmin, &rtop, &core));
  MS_TEST_NEAR(rtop, 0.1692, 1e-3);
  MS_TEST_OK(ms_potential_guard(p, "Al3+", "O2-", &rmin, &rtop, &core));
  MS_TEST_NEAR(rtop, 0.1229, 1e-3);
  /* repulsive cation-cation: no barrier, no guard */
  MS_TEST_OK(ms_potential_guard(p, "Sr2+", "Ti4+", &rmin, &rtop, &core));
  MS_TEST_NEAR(rmin, 0.0, 0);
  MS_TEST_ERR(ms_potential_guard(p, "Zn2+", "O2-", &rmin, &rtop, &core), MS_ERR_INPUT, "Zn2+");
  ms_potential_free(&p);
}

static void test_other_sets(void) {
  ms_potential *p = NULL;
  double rmin, rtop, core;
  MS_TEST_OK(ms_potential_load("lewis_catlow1985", &p));
  if (p) {
    const ms_pair_term *t = find_term(p, "O2-", "O2-", MS_PAIR_BUCKINGHAM);
    MS_TEST_TRUE(t && t->p[0] == 22764.0 && t->p[1] == 0.149 && t->p[2] == 27.879 &&
                 t->cutoff == 12.0);
    t = find_term(p, "Ni2+", "O2-", MS_PAIR_BORN_MAYER);
    MS_TEST_TRUE(t && t->p[0] == 641.2 && t->p[1] == 0.3372 && t->cutoff == 10.0);
    t = find_term(p, "Zr4+", "O2-", MS_PAIR_BORN_MAYER);
    MS_TEST_TRUE(t && t->p[0] == 1453.8 && t->p[1] == 0.35);
    MS_TEST_OK(ms_potential_guard(p, "O2-", "O2-", &rmin, &rtop, &core));
    MS_TEST_NEAR(rtop, 0.7980, 1e-3);
    /* doubtful transcriptions and the unverified Mg-O are left out */
    char cov[1024];
    ms_potential_covers(p, cov, sizeof cov);
    MS_TEST_TRUE(!strstr(cov, "Ti2+") && !strstr(cov, "Sc2+") && !strstr(cov, "Eu2+") &&
                 !strstr(cov, "Mg"));
    ms_potential_free(&p);
  }
  MS_TEST_OK(ms_potential_load("pedone2006", &p));
  if (p) {
    MS_TEST_EQ_INT(ms_potential_charge_model(p), MS_CHARGES_TABLE);
    MS_TEST_NEAR(ms_potential_max_cutoff(p), 5.5, 0);
    const ms_pair_term *t = find_term(p, "Si4+", "O2-", MS_PAIR_PEDONE);
    MS_TEST_TRUE(t && t->p[0] == 0.340554 && t->p[1] == 2.0067 && t->p[2] == 2.1 &&
                 t->p[3] == 1.0 && t->cutoff == 5.5);
    t = find_term(p, "O2-", "O2-", MS_PAIR_PEDONE);
    MS_TEST_TRUE(t && t->p[0] == 0.042395 && t->p[1] == 1.379316 && t->p[2] == 3.618701 &&
                 t->p[3] == 22.0);
    /* charges 0.6 x formal */
    ms_species sp;
    double q;
    for (int k = 0; k < ms_potential_nspecies(p); ++k) {
      ms_potential_species(p, k, &sp, &q);
      MS_TEST_NEAR(q, 0.6 * sp.ox, 1e-12);
    }
    /* the C/r^12 wall removes the catastrophe: no guard anywhere */
    for (int k = 0; k < ms_potential_nterms(p); ++k) {
      ms_potential_term_info ti;
      ms_potential_term(p, k, &ti);
      MS_TEST_NEAR(ti.guard_r, 0.0, 0);
    }
    ms_potential_free(&p);
  }
  MS_TEST_OK(ms_potential_load("coulomb", &p));
  if (p) {
    MS_TEST_EQ_INT(ms_potential_any_species(p), 1);
    MS_TEST_EQ_INT(ms_potential_nterms(p), 0);
    MS_TEST_NEAR(ms_potential_max_cutoff(p), 0.0, 0);
    ms_potential_free(&p);
  }
  /* by path, and unknown names */
  MS_TEST_OK(ms_potential_load("inputs/potentials/bush1994.yaml", &p));
  if (p) {
    MS_TEST_EQ_STR(ms_potential_name(p), "bush1994");
    MS_TEST_EQ_STR(ms_potential_source(p), "inputs/potentials/bush1994.yaml");
    ms_potential_free(&p);
  }
  MS_TEST_ERR(ms_potential_load("bush1949", &p), MS_ERR_INPUT, "did you mean 'bush1994'");
  MS_TEST_ERR(ms_potential_load("nothing_like_it", &p), MS_ERR_INPUT, "built-in potentials: ");
  MS_TEST_ERR(ms_potential_load("no/such/file.yaml", &p), MS_ERR_FILE, "no/such/file.yaml");
  MS_TEST_TRUE(p == NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* Binding                                                                                    */

static void test_bind(void) {
  ms_potential *bush = NULL, *ped = NULL, *coul = NULL;
  MS_TEST_OK(ms_potential_load("bush1994", &bush));
  MS_TEST_OK(ms_potential_load("pedone2006", &ped));
  MS_TEST_OK(ms_potential_load("coulomb", &coul));
  if (!bush || !ped || !coul) return;
  ms_pair_table tab;
  ms_pair_table_init(&tab);
  double q[MS_CELL_MAX_KINDS];
  ms_cell c;
  const double x[3][3] = {{0, 0, 0}, {1.95, 0, 0}, {0, 1.95, 0}};

  /* Bare "Sr" (no oxidation state) matches Sr2+; kinds follow the cell's order. */
  const char *l1[3] = {"O2-", "Sr", "Ti4+"};
  make_box(&c, 8.0, 3, l1, x);
  MS_TEST_OK(ms_potential_bind(bush, &c, q, &tab));
  MS_TEST_EQ_INT(tab.nkinds, 3);
  MS_TEST_NEAR(q[0], -2, 0);
  MS_TEST_NEAR(q[1], 2, 0);
  MS_TEST_NEAR(q[2], 4, 0);
  const ms_pair_entry *e = ms_pair_table_get(&tab, 1, 0);
  MS_TEST_EQ_INT(e->nterms, 1);
  MS_TEST_TRUE(e->term[0].p[0] == 1956.702);
  MS_TEST_TRUE(ms_pair_table_get(&tab, 0, 1)->term[0].p[0] == 1956.702);
  MS_TEST_EQ_INT(ms_pair_table_get(&tab, 1, 2)->nterms, 0);
  MS_TEST_NEAR(ms_pair_table_get(&tab, 0, 0)->guard_r, 1.2368 + 0.1, 1e-3);
  MS_TEST_NEAR(tab.max_cutoff, 12.0, 0);
  ms_cell_free(&c);

  /* Uncovered species: message names the species, the potential and what it covers. */
  const char *l2[3] = {"Zn2+", "O2-", "O2-"};
  make_box(&c, 8.0, 3, l2, x);
  MS_TEST_ERR(ms_potential_bind(bush, &c, q, &tab), MS_ERR_INPUT,
              "potential 'bush1994' has no parameters for Zn2+ (covers: Li+, Na+");
  ms_cell_free(&c);
  const char *l3[3] = {"Ti3+", "O2-", "O2-"};
  make_box(&c, 8.0, 3, l3, x);
  MS_TEST_ERR(ms_potential_bind(bush, &c, q, &tab), MS_ERR_INPUT, "no parameters for Ti3+");
  ms_cell_free(&c);

  /* Partial charges from the table even when the structure gives oxidation states. */
  const char *l4[3] = {"Fe3+", "O2-", "Si4+"};
  make_box(&c, 8.0, 3, l4, x);
  MS_TEST_OK(ms_potential_bind(ped, &c, q, &tab));
  MS_TEST_NEAR(q[0], 1.8, 1e-15);
  MS_TEST_NEAR(q[1], -1.2, 1e-15);
  MS_TEST_NEAR(q[2], 2.4, 1e-15);
  MS_TEST_NEAR(tab.max_cutoff, 5.5, 0);
  ms_cell_free(&c);
  /* Bare "Fe" is ambiguous in Pedone (Fe2+ and Fe3+) */
  const char *l5[3] = {"Fe", "O2-", "O2-"};
  make_box(&c, 8.0, 3, l5, x);
  MS_TEST_ERR(ms_potential_bind(ped, &c, q, &tab), MS_ERR_INPUT, "several ions");
  ms_cell_free(&c);

  /* Coulomb: charges are the oxidation states; species without one are an error. */
  const char *l6[3] = {"Zn2+", "O2-", "Cl-"};
  make_box(&c, 8.0, 3, l6, x);
  MS_TEST_OK(ms_potential_bind(coul, &c, q, &tab));
  MS_TEST_NEAR(q[0], 2, 0);
  MS_TEST_NEAR(q[2], -1, 0);
  MS_TEST_NEAR(tab.max_cutoff, 0.0, 0);
  MS_TEST_NEAR(ms_pair_table_reach(&tab), MS_PAIR_OVERLAP_A, 0);
  ms_cell_free(&c);
  const char *l7[3] = {"Zn", "O2-", "O2-"};
  make_box(&c, 8.0, 3, l7, x);
  MS_TEST_ERR(ms_potential_bind(coul, &c, q, &tab), MS_ERR_INPUT, "species Zn");
  ms_cell_free(&c);

  ms_pair_table_free(&tab);
  ms_potential_free(&bush);
  ms_potential_free(&ped);
  ms_potential_free(&coul);
}

/* Two O2- 1.0 Å apart with bush1994: collapsed; 2.5 Å: fine; 0.2 Å: overlap. Through the
 * library's neighbour list (ms_pair_compute). */
static void test_guard_bush(void) {
  ms_potential *p = NULL;
  MS_TEST_OK(ms_potential_load("bush1994", &p));
  if (!p) return;
  ms_pair_table tab;
  ms_pair_table_init(&tab);
  ms_nlist nl;
  ms_nlist_init(&nl);
  double q[MS_CELL_MAX_KINDS];
  const char *lab[2] = {"O2-", "O2-"};
  const double dist[3] = {1.0, 2.5, 0.2};
  const ms_status want[3] = {MS_STATUS_COLLAPSED, MS_STATUS_OK, MS_STATUS_OVERLAP};
  for (int k = 0; k < 3; ++k) {
    const double x[2][3] = {{5, 5, 5}, {5 + dist[k], 5, 5}};
    ms_cell c;
    make_box(&c, 30.0, 2, lab, x);
    MS_TEST_OK(ms_potential_bind(p, &c, q, &tab));
    ms_pair_acc acc = {0};
    ms_pair_acc_reset(&acc, NULL, 0);
    MS_TEST_OK(ms_pair_compute(&tab, &c, &nl, &acc));
    MS_TEST_EQ_INT(acc.status, want[k]);
    if (want[k] != MS_STATUS_OK) {
      char buf[256];
      ms_pair_acc_describe(&acc, &c, buf, sizeof buf);
      MS_TEST_TRUE(strstr(buf, "(O2-)") != NULL);
      MS_TEST_NEAR(acc.bad_r, dist[k], 1e-12);
    } else {
      /* at 2.5 Å the energy is the plain Bush O-O value */
      MS_TEST_REL(acc.energy, 25.410 * exp(-2.5 / 0.6937) - 32.32 / pow(2.5, 6), 1e-13);
    }
    /* stop_on_guard ends the pass early without an error */
    ms_pair_acc_reset(&acc, NULL, 0);
    acc.stop_on_guard = 1;
    MS_TEST_OK(ms_pair_compute(&tab, &c, &nl, &acc));
    MS_TEST_EQ_INT(acc.status, want[k]);
    ms_cell_free(&c);
  }
  ms_nlist_free(&nl);
  ms_pair_table_free(&tab);
  ms_potential_free(&p);
}

/* ------------------------------------------------------------------------------------------ */
/* Bad files                                                                                  */

static const char head[] = "name: t\n"
                           "description: a test potential\n"
                           "citations: {x: 'A. Author, J. Test. 1, 1 (2000)'}\n"
                           "charges: formal\n"
                           "species: [Sr2+, O2-]\n";

/* Parse head + @p tail and expect an MS_ERR_INPUT whose message begins with
 * "bad.yaml:L:C:" at the first occurrence of @p at in the tail and contains @p substr. */
static void expect_bad(const char *tail, const char *at, const char *substr) {
  char text[2048];
  snprintf(text, sizeof text, "%s%s", head, tail);
  ms_potential *p = NULL;
  const ms_err e = ms_potential_parse(text, strlen(text), "bad.yaml", &p);
  MS_TEST_EQ_INT(e, MS_ERR_INPUT);
  MS_TEST_TRUE(p == NULL);
  const char *msg = ms_err_message();
  if (at) {
    int line, col;
    pos_of(text + strlen(head), at, &line, &col);
    line += 5; /* lines of head */
    char prefix[64];
    snprintf(prefix, sizeof prefix, "bad.yaml:%d:%d: ", line, col);
    if (strncmp(msg, prefix, strlen(prefix)) != 0)
      fprintf(stderr, "expected prefix '%s' in: %s\n", prefix, msg);
    MS_TEST_TRUE(strncmp(msg, prefix, strlen(prefix)) == 0);
  } else {
    MS_TEST_TRUE(strncmp(msg, "bad.yaml:", 9) == 0);
  }
  if (!strstr(msg, substr)) fprintf(stderr, "expected '%s' in: %s\n", substr, msg);
  MS_TEST_TRUE(strstr(msg, substr) != NULL);
  ms_err_clear();
}

static void test_bad_files(void) {
  /* a good one first: the template itself is valid */
  {
    char text[1024];
    snprintf(text, sizeof text, "%s%s", head,
             "pairs:\n"
             "  - {species: [Sr2+, O2-], form: buckingham, A_eV: 1956.702, rho_A: 0.3252,\n"
             "     C_eV_A6: 0.0, cutoff_A: 10.0, citation: x}\n"
             "  - {species: [O2-, O2-], form: inverse_power, B_eV_An: 100.0, n: 12,\n"
             "     cutoff_A: 3.0, shift: true, citation: x,\n"
             "     guard: {r_min_A: 1.5, core_eV: 0.5}}\n");
    ms_potential *p = NULL;
    MS_TEST_OK(ms_potential_parse(text, strlen(text), "good.yaml", &p));
    if (p) {
      double rmin, rtop, core;
      MS_TEST_OK(ms_potential_guard(p, "O2-", "O2-", &rmin, &rtop, &core));
      MS_TEST_NEAR(rmin, 1.5, 0);
      MS_TEST_NEAR(core, 0.5, 0);
      ms_potential_term_info ti;
      MS_TEST_OK(ms_potential_term(p, 1, &ti));
      MS_TEST_EQ_INT(ti.term->shift, 1);
      MS_TEST_EQ_INT(ti.line, 9);
      ms_potential_free(&p);
    }
  }
  /* unknown key in a pair, with a suggestion */
  expect_bad("pairs:\n"
             "  - {species: [Sr2+, O2-], form: buckingham, A_eV: 1956.702, rho_a: 0.3252,\n"
             "     C_eV_A6: 0.0, cutoff_A: 10.0, citation: x}\n",
             "rho_a", "pairs[0].rho_a: unknown key (did you mean 'rho_A'?)");
  /* unknown top-level key */
  expect_bad("coulomb: {accuracy: 1e-6}\npair:\n  - {}\n", "pair:",
             "pair: unknown key (did you mean 'pairs'?)");
  expect_bad("coulomb: {acuracy: 1e-6}\n", "acuracy", "did you mean 'accuracy'");
  /* missing parameter */
  expect_bad("pairs:\n"
             "  - {species: [Sr2+, O2-], form: buckingham, A_eV: 1956.702,\n"
             "     C_eV_A6: 0.0, cutoff_A: 10.0, citation: x}\n",
             "{species", "missing parameter 'rho_A'");
  /* negative rho */
  expect_bad("pairs:\n"
             "  - {species: [Sr2+, O2-], form: buckingham, A_eV: 1956.702, rho_A: -0.3252,\n"
             "     C_eV_A6: 0.0, cutoff_A: 10.0, citation: x}\n",
             "-0.3252", "pairs[0].rho_A: must be > 0 Å, got -0.3252");
  /* species not covered, and not a species at all */
  expect_bad("pairs:\n"
             "  - {species: [Zn2+, O2-], form: born_mayer, A_eV: 700.3, rho_A: 0.3372,\n"
             "     cutoff_A: 10.0, citation: x}\n",
             "Zn2+", "'Zn2+' is not a covered species (species: Sr2+, O2-)");
  {
    const char *t = "name: t\ndescription: d\ncitations: {x: y}\ncharges: formal\n"
                    "species: [Sr2+, Xq2+]\n";
    ms_potential *p = NULL;
    MS_TEST_ERR(ms_potential_parse(t, strlen(t), "bad.yaml", &p), MS_ERR_INPUT,
                "bad.yaml:5:17: species[1]: ");
    MS_TEST_ERR(ms_potential_parse(t, strlen(t), "bad.yaml", &p), MS_ERR_INPUT, "Xq");
  }
  expect_bad("pairs:\n"
             "  - {species: [Sr, O2-], form: born_mayer, A_eV: 700.3, rho_A: 0.3372,\n"
             "     cutoff_A: 10.0, citation: x}\n",
             "Sr,", "needs an oxidation state");
  /* unknown form, unknown citation, missing citation, bad cutoff, bad guard */
  expect_bad("pairs:\n"
             "  - {species: [Sr2+, O2-], form: buckinham, A_eV: 1, rho_A: 0.3, C_eV_A6: 0,\n"
             "     cutoff_A: 10.0, citation: x}\n",
             "buckinham", "did you mean 'buckingham'");
  expect_bad("pairs:\n"
             "  - {species: [Sr2+, O2-], form: born_mayer, A_eV: 1, rho_A: 0.3,\n"
             "     cutoff_A: 10.0, citation: bush}\n",
             "bush}", "unknown citation 'bush'");
  expect_bad("pairs:\n"
             "  - {species: [Sr2+, O2-], form: born_mayer, A_eV: 1, rho_A: 0.3,\n"
             "     cutoff_A: 10.0}\n",
             "{species", "missing 'citation'");
  expect_bad("pairs:\n"
             "  - {species: [Sr2+, O2-], form: born_mayer, A_eV: 1, rho_A: 0.3,\n"
             "     cutoff_A: 0, citation: x}\n",
             "0, citation", "cutoff_A: must be in (0, 100]");
  expect_bad("pairs:\n"
             "  - {species: [Sr2+, O2-], form: born_mayer, A_eV: 1, rho_A: 0.3,\n"
             "     cutoff_A: 10, citation: x, guard: sometimes}\n",
             "sometimes", "must be 'auto', 'none'");
  expect_bad("pairs:\n"
             "  - {species: [O2-, O2-], form: born_mayer, A_eV: 1, rho_A: 0.3,\n"
             "     cutoff_A: 10, citation: x, guard: {r_min_A: 1.2, cor_eV: 1}}\n",
             "cor_eV", "did you mean 'core_eV'");
  expect_bad("pairs:\n"
             "  - {species: [O2-, O2-], form: born_mayer, A_eV: 1, rho_A: 0.3,\n"
             "     cutoff_A: 10, citation: x, guard: none}\n"
             "  - {species: [O2-, O2-], form: inverse_power, B_eV_An: 1, n: 12,\n"
             "     cutoff_A: 10, citation: x, guard: auto}\n",
             "auto}", "already given at line 8");
  expect_bad("pairs:\n"
             "  - {species: [Sr2+, O2-], form: born_mayer, A_eV: 1, rho_A: 0.3,\n"
             "     cutoff_A: 10, citation: x}\n"
             "  - {species: [O2-, Sr2+], form: born_mayer, A_eV: 2, rho_A: 0.3,\n"
             "     cutoff_A: 10, citation: x}\n",
             "{species: [O2-", "second born_mayer term for O2--Sr2+ (the first is at line 7)");
  expect_bad("pairs:\n"
             "  - {species: [Sr2+, O2-], form: born_mayer, A_eV: one, rho_A: 0.3,\n"
             "     cutoff_A: 10, citation: x}\n",
             "one,", "pairs[0].A_eV: must be a finite number");
  /* charges: neither formal nor a table; a table with a bad charge; missing keys */
  {
    const char *t = "name: t\ndescription: d\ncitations: {x: y}\ncharges: partial\n";
    ms_potential *p = NULL;
    MS_TEST_ERR(ms_potential_parse(t, strlen(t), "bad.yaml", &p), MS_ERR_INPUT,
                "bad.yaml:4:10: charges: must be 'formal' or a mapping");
    const char *t2 = "name: t\ndescription: d\ncitations: {x: y}\n"
                     "charges: {Sr2+: 1.2, O2-: -1.2x}\n";
    MS_TEST_ERR(ms_potential_parse(t2, strlen(t2), "bad.yaml", &p), MS_ERR_INPUT,
                "bad.yaml:4:27: charges.O2-: must be a finite number");
    const char *t3 = "name: t\ncitations: {x: y}\ncharges: formal\nspecies: any\n";
    MS_TEST_ERR(ms_potential_parse(t3, strlen(t3), "bad.yaml", &p), MS_ERR_INPUT,
                "missing required key 'description'");
    const char *t4 = "name: t\ndescription: d\ncitations: {x: y}\ncharges: formal\n"
                     "species: any\npairs:\n  - {species: [O2-, O2-], form: born_mayer, "
                     "A_eV: 1, rho_A: 0.3, cutoff_A: 10, citation: x}\n";
    MS_TEST_ERR(ms_potential_parse(t4, strlen(t4), "bad.yaml", &p), MS_ERR_INPUT,
                "explicit species list");
    MS_TEST_TRUE(p == NULL);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* LAMMPS cross-check                                                                         */

static int read_rows(ms_ynode *root, const char *key, double (*out)[3], int max) {
  ms_ynode *n = ms_ynode_get(root, key);
  if (!n || n->type != MS_YSEQ || n->n > max) return -1;
  for (int k = 0; k < n->n; ++k)
    if (ms_ynode_doubles(n->items[k], key, out[k], 3) != MS_SUCCESS) return -1;
  return n->n;
}

static void test_lammps_case(const char *file) {
  enum { MAXAT = 64 };
  ms_ydoc *doc = NULL;
  MS_TEST_OK(ms_ydoc_parse_file(file, &doc));
  if (!doc) return;
  ms_ynode *root = ms_ydoc_root(doc);
  double lat[3][3], x[MAXAT][3], fref[MAXAT][3], W[3][3], eref = 0;
  MS_TEST_EQ_INT(read_rows(root, "lattice_A", lat, 3), 3);
  const int n = read_rows(root, "positions_A", x, MAXAT);
  MS_TEST_EQ_INT(read_rows(root, "forces_eV_per_A", fref, MAXAT), n);
  MS_TEST_EQ_INT(read_rows(root, "strain_derivative_eV", W, 3), 3);
  MS_TEST_OK(ms_ynode_double(ms_ynode_get(root, "energy_eV"), "energy_eV", &eref));
  ms_ynode *sp = ms_ynode_get(root, "species");
  MS_TEST_TRUE(n > 0 && sp && sp->type == MS_YSEQ && sp->n == n);
  if (!(n > 0 && sp && sp->n == n)) {
    ms_ydoc_free(&doc);
    return;
  }
  ms_cell c;
  ms_cell_init(&c);
  ms_cell_set_lattice(&c, lat);
  for (int k = 0; k < n; ++k) {
    double f[3];
    ms_cell_cart_to_frac(&c, x[k], f);
    ms_species s = ion(sp->items[k]->value);
    MS_TEST_OK(ms_cell_add_atom(&c, &s, f));
  }
  ms_potential *p = NULL;
  MS_TEST_OK(ms_potential_load("bush1994", &p));
  ms_pair_table tab;
  ms_pair_table_init(&tab);
  double q[MS_CELL_MAX_KINDS];
  MS_TEST_OK(ms_potential_bind(p, &c, q, &tab));
  ms_nlist nl;
  ms_nlist_init(&nl);
  double (*F)[3] = calloc((size_t)n, sizeof *F);
  ms_pair_acc acc = {0};
  ms_pair_acc_reset(&acc, F, n);
  MS_TEST_OK(ms_pair_compute(&tab, &c, &nl, &acc));
  MS_TEST_EQ_INT(acc.status, MS_STATUS_OK);
  MS_TEST_REL(acc.energy, eref, 1e-8);
  double fbig = 0, wmax = 0;
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < 3; ++k) fbig = fbig > fabs(fref[i][k]) ? fbig : fabs(fref[i][k]);
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) wmax = wmax > fabs(W[a][b]) ? wmax : fabs(W[a][b]);
  /* MgO rocksalt has zero forces by symmetry: compare on the scale of a typical force. */
  const double fscale = fbig > 1e-3 ? fbig : 1.0;
  double fdiff = 0, wdiff = 0;
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < 3; ++k) fdiff = fmax(fdiff, fabs(F[i][k] - fref[i][k]));
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) wdiff = fmax(wdiff, fabs(acc.W[a][b] - W[a][b]));
  fprintf(stderr, "%s: E %.12f vs LAMMPS %.12f; max |dF| %.3g (|F|max %.3g); max |dW| %.3g\n",
          file, acc.energy, eref, fdiff, fbig, wdiff);
  MS_TEST_NEAR(fdiff, 0.0, 1e-8 * fscale);
  MS_TEST_NEAR(wdiff, 0.0, 1e-8 * wmax);

  /* Extensivity: a 2x1x2 supercell has 4 times the energy and W. */
  ms_cell s2;
  ms_cell_init(&s2);
  MS_TEST_OK(ms_cell_supercell_diag(&c, 2, 1, 2, &s2));
  MS_TEST_OK(ms_potential_bind(p, &s2, q, &tab));
  ms_pair_acc acc2 = {0};
  ms_pair_acc_reset(&acc2, NULL, 0);
  MS_TEST_OK(ms_pair_compute(&tab, &s2, &nl, &acc2));
  MS_TEST_REL(acc2.energy, 4 * eref, 1e-8);
  MS_TEST_NEAR(acc2.W[0][1], 4 * W[0][1], 4e-8 * wmax);
  ms_cell_free(&s2);

  free(F);
  ms_nlist_free(&nl);
  ms_pair_table_free(&tab);
  ms_potential_free(&p);
  ms_cell_free(&c);
  ms_ydoc_free(&doc);
}

/* Short-range energy per atom of cubic SrTiO3 (Sr at 0, Ti at the centre, O on the face centres)
 * with lattice constant @p a. */
static double srtio3_short_range(const ms_potential *p, double a) {
  ms_cell c;
  ms_cell_init(&c);
  const double lat[3][3] = {{a, 0, 0}, {0, a, 0}, {0, 0, a}};
  ms_cell_set_lattice(&c, lat);
  const char *lab[5] = {"Sr2+", "Ti4+", "O2-", "O2-", "O2-"};
  const double f[5][3] = {{0, 0, 0}, {0.5, 0.5, 0.5}, {0.5, 0.5, 0}, {0.5, 0, 0.5}, {0, 0.5, 0.5}};
  for (int k = 0; k < 5; ++k) {
    ms_species s = ion(lab[k]);
    ms_cell_add_atom(&c, &s, f[k]);
  }
  ms_pair_table tab;
  ms_pair_table_init(&tab);
  double q[MS_CELL_MAX_KINDS];
  ms_nlist nl;
  ms_nlist_init(&nl);
  ms_pair_acc acc = {0};
  ms_pair_acc_reset(&acc, NULL, 0);
  double e = NAN;
  if (ms_potential_bind(p, &c, q, &tab) == MS_SUCCESS && ms_pair_compute(&tab, &c, &nl, &acc) == MS_SUCCESS)
    e = acc.energy / 5;
  ms_nlist_free(&nl);
  ms_pair_table_free(&tab);
  ms_cell_free(&c);
  return e;
}

/* pedone2006 shifts each term's energy to zero at its 5.5 Å cutoff; pedone2006_truncated is the
 * same table plainly truncated. In cubic SrTiO3 the fourth O-O shell (12 neighbours at a sqrt 2)
 * crosses the cutoff at a = 5.5/sqrt 2 = 3.889 Å: truncated, the energy jumps there by
 * 3 O x 12 / 2 pairs x E_OO(5.5 Å) / 5 atoms = 3.6 E_OO(5.5 Å) = -21.9 meV/atom (E_OO from the
 * Morse + C/r^12 form written out below), which broke relaxations; shifted, it is continuous. */
static void test_pedone_cutoff(void) {
  ms_potential *sh = NULL, *tr = NULL;
  MS_TEST_OK(ms_potential_load("pedone2006", &sh));
  MS_TEST_OK(ms_potential_load("pedone2006_truncated", &tr));
  if (!sh || !tr) {
    ms_potential_free(&sh);
    ms_potential_free(&tr);
    return;
  }
  /* the same terms, charges and species; only the shift differs */
  MS_TEST_EQ_INT(ms_potential_nterms(sh), ms_potential_nterms(tr));
  MS_TEST_EQ_INT(ms_potential_nspecies(sh), ms_potential_nspecies(tr));
  for (int k = 0; k < ms_potential_nspecies(sh) && k < ms_potential_nspecies(tr); ++k) {
    double qa, qb;
    MS_TEST_EQ_STR(ms_potential_species(sh, k, NULL, &qa), ms_potential_species(tr, k, NULL, &qb));
    MS_TEST_NEAR(qa, qb, 0);
  }
  for (int k = 0; k < ms_potential_nterms(sh) && k < ms_potential_nterms(tr); ++k) {
    ms_potential_term_info a, b;
    ms_potential_term(sh, k, &a);
    ms_potential_term(tr, k, &b);
    MS_TEST_EQ_STR(a.species[0], b.species[0]);
    MS_TEST_EQ_STR(a.species[1], b.species[1]);
    MS_TEST_EQ_INT(a.term->form, b.term->form);
    MS_TEST_TRUE(memcmp(a.term->p, b.term->p, sizeof a.term->p) == 0 && a.term->cutoff == b.term->cutoff);
    MS_TEST_EQ_INT(a.term->shift, MS_PAIR_SHIFT_ENERGY);
    MS_TEST_EQ_INT(b.term->shift, MS_PAIR_SHIFT_NONE);
  }
  const double D = 0.042395, alpha = 1.379316, r0 = 3.618701, C = 22.0, rc = 5.5;
  const double x = 1.0 - exp(-alpha * (rc - r0));
  const double e_oo = D * (x * x - 1.0) + C / pow(rc, 12);
  const double a0 = rc / sqrt(2.0), h = 1e-7;
  const double jump_tr = srtio3_short_range(tr, a0 + h) - srtio3_short_range(tr, a0 - h);
  const double jump_sh = srtio3_short_range(sh, a0 + h) - srtio3_short_range(sh, a0 - h);
  fprintf(stderr, "pedone O-O shell crossing 5.5 Å in cubic SrTiO3: truncated %.6f, shifted %.2e eV/atom\n",
          jump_tr, jump_sh);
  MS_TEST_NEAR(jump_tr, -3.6 * e_oo, 2e-5); /* +21.9 meV/atom going out (the pairs' -6.1 meV vanish) */
  MS_TEST_NEAR(jump_sh, 0.0, 2e-5);         /* what the smooth change over 2e-7 Å leaves */
  ms_potential_free(&sh);
  ms_potential_free(&tr);
}

int main(void) {
  if (ms_elements_load() != MS_SUCCESS) {
    fprintf(stderr, "element table: %s\n", ms_err_message());
    return 1;
  }
  test_library_loads();
  test_bush_parameters();
  test_other_sets();
  test_pedone_cutoff();
  test_bind();
  test_guard_bush();
  test_bad_files();
  test_lammps_case("tests/regression/pair/mgo_rocksalt.yaml");
  test_lammps_case("tests/regression/pair/srtio3_rattled.yaml");
  return MS_TEST_RESULT();
}
