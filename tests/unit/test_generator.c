/* Generators: Wyckoff positions derived from spglib's operations (1731 over the 230 groups,
 * the count of the International Tables, and spglib's own Wyckoff letters), exact candidate
 * counts against analytic formulas and brute force, determinism of build(i) in any order,
 * 10,000 random SrTiO3 draws (minimum separations, drawn symmetry), the potential's guard,
 * ordering counts (analytic, Burnside, brute-force bracelets), registry errors. */
#include <math.h>
#include <spglib.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "matscreen/generator.h"
#include "matscreen/ordering.h"
#include "matscreen/potential.h"
#include "matscreen/prototype.h"
#include "matscreen/rng.h"
#include "matscreen/wyckoff.h"
#include "ms_test.h"

/* ---- Wyckoff positions ------------------------------------------------------------------- */

static void test_wyckoff(void) {
  int total = 0, letters_ok = 0;
  static const struct {
    int number, count;
  } known[] = {{1, 1}, {2, 9}, {47, 27}, {191, 18}, {221, 14}, {225, 12}, {227, 9}, {230, 8}};
  for (int n = 1; n <= 230; ++n) {
    ms_spacegroup g;
    ms_wyckoff_set w;
    MS_TEST_OK(ms_spacegroup_load(ms_spacegroup_default_hall(n), &g));
    MS_TEST_EQ_INT(g.number, n);
    MS_TEST_OK(ms_wyckoff_set_compute(&g, &w));
    total += w.n;
    for (size_t k = 0; k < sizeof known / sizeof known[0]; ++k)
      if (known[k].number == n) MS_TEST_EQ_INT(w.n, known[k].count);
    /* The general position is last, with multiplicity = number of operations. */
    MS_TEST_EQ_INT(w.pos[w.n - 1].multiplicity, g.nops);
    MS_TEST_EQ_INT(w.pos[w.n - 1].dof, 3);
    /* One atom type per position, generic parameters, a generic lattice of the setting:
     * spglib must find this group, and give each position one letter, all letters distinct
     * and forming a..(n-1) (so our count is the International Tables' count). */
    double g0[3][3] = {{25, 2.1, -1.3}, {2.1, 30, 1.7}, {-1.3, 1.7, 36}}, L[3][3];
    MS_TEST_OK(ms_spacegroup_lattice(&g, g0, 0, L));
    const double(*P)[3] = g.to_primitive;
    double det = P[0][0] * (P[1][1] * P[2][2] - P[1][2] * P[2][1]) -
                 P[0][1] * (P[1][0] * P[2][2] - P[1][2] * P[2][0]) +
                 P[0][2] * (P[1][0] * P[2][1] - P[1][1] * P[2][0]);
    double Pinv[3][3] = {{(P[1][1] * P[2][2] - P[1][2] * P[2][1]) / det,
                          (P[0][2] * P[2][1] - P[0][1] * P[2][2]) / det,
                          (P[0][1] * P[1][2] - P[0][2] * P[1][1]) / det},
                         {(P[1][2] * P[2][0] - P[1][0] * P[2][2]) / det,
                          (P[0][0] * P[2][2] - P[0][2] * P[2][0]) / det,
                          (P[0][2] * P[1][0] - P[0][0] * P[1][2]) / det},
                         {(P[1][0] * P[2][1] - P[1][1] * P[2][0]) / det,
                          (P[0][1] * P[2][0] - P[0][0] * P[2][1]) / det,
                          (P[0][0] * P[1][1] - P[0][1] * P[1][0]) / det}};
    double(*pos)[3] = malloc(4096 * sizeof *pos);
    int *types = malloc(4096 * sizeof *types), *owner = malloc(4096 * sizeof *owner);
    int na = 0;
    /* Two more general-position orbits (types past the positions') remove the extra
     * symmetry a lone orbit can have (one atom in P1 is centrosymmetric). */
    static const double u[3][3] = {
        {0.0731, 0.1913, 0.3377}, {0.4127, 0.2269, 0.0618}, {0.2851, 0.4432, 0.1509}};
    for (int k = 0; k < w.n + 2; ++k) {
      double x[3], orb[MS_SG_MAX_OPS][3];
      int m = 0;
      int kk = k < w.n ? k : w.n - 1;
      ms_wyckoff_point(&w.pos[kk], u[k < w.n ? 0 : k - w.n + 1], x);
      MS_TEST_OK(ms_spacegroup_orbit(&g, x, 1e-9, orb, MS_SG_MAX_OPS, &m));
      MS_TEST_EQ_INT(m, w.pos[kk].multiplicity);
      /* spglib gets the primitive cell (a quarter of the atoms for F): the first
       * multiplicity / ncentring listed operations give one image per primitive point. */
      int nprim = w.pos[kk].multiplicity / g.ncentring;
      for (int q = 0; q < nprim && na < 4096; ++q) {
        double y[3];
        ms_spacegroup_apply(&g, w.pos[kk].ops[q], x, y);
        for (int j = 0; j < 3; ++j)
          pos[na][j] = y[0] * Pinv[0][j] + y[1] * Pinv[1][j] + y[2] * Pinv[2][j];
        types[na] = k + 1;
        owner[na++] = k < w.n ? k : -1;
      }
    }
    double lat[3][3];
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        lat[i][j] = g.to_primitive[j][0] * L[0][i] + g.to_primitive[j][1] * L[1][i] +
                    g.to_primitive[j][2] * L[2][i];
    SpglibDataset *ds = spg_get_dataset(lat, pos, types, na, 1e-5);
    MS_TEST_TRUE(ds != NULL);
    if (ds) {
      MS_TEST_EQ_INT(ds->spacegroup_number, n);
      int letter[64], ok = ds->spacegroup_number == n;
      for (int k = 0; k < w.n && k < 64; ++k) letter[k] = -1;
      for (int a = 0; a < na && ok; ++a) {
        int k = owner[a];
        if (k < 0) continue;
        if (letter[k] < 0) letter[k] = ds->wyckoffs[a];
        ok = letter[k] == ds->wyckoffs[a];
      }
      unsigned long long seen = 0;
      for (int k = 0; k < w.n && ok; ++k) {
        ok = letter[k] >= 0 && letter[k] < w.n && !(seen >> letter[k] & 1);
        seen |= 1ULL << letter[k];
      }
      if (!ok) fprintf(stderr, "space group %d: Wyckoff letters disagree with spglib\n", n);
      letters_ok += ok;
      spg_free_dataset(ds);
    }
    free(pos);
    free(types);
    free(owner);
    ms_wyckoff_set_free(&w);
  }
  MS_TEST_EQ_INT(total, 1731);
  MS_TEST_EQ_INT(letters_ok, 230);
}

/* ---- helpers ----------------------------------------------------------------------------- */

static ms_search make_search(const char *yaml, uint64_t seed, const ms_potential *pot,
                             ms_ydoc **doc) {
  ms_search s = NULL;
  *doc = NULL;
  ms_err e = ms_ydoc_parse(yaml, strlen(yaml), "t.yaml", doc);
  if (!e) e = ms_search_create(ms_ynode_get(ms_ydoc_root(*doc), "search"), seed, pot, &s);
  if (e) fprintf(stderr, "%s\n", ms_err_message());
  MS_TEST_EQ_INT(e, MS_SUCCESS);
  return s;
}

static ms_err search_error(const char *yaml) {
  ms_ydoc *doc = NULL;
  ms_search s = NULL;
  ms_err e = ms_ydoc_parse(yaml, strlen(yaml), "t.yaml", &doc);
  if (!e) e = ms_search_create(ms_ynode_get(ms_ydoc_root(doc), "search"), 1, NULL, &s);
  ms_search_destroy(&s);
  ms_ydoc_free(&doc);
  return e;
}

/* ---- prototype_substitution counts ------------------------------------------------------- */

static void test_substitution_counts(void) {
  ms_ydoc *doc;
  /* design.md's example: A + B charges must add to 6: 3 x 3 (2+, 4+) + 1 x 2 (3+, 3+) = 11 per
   * ABX3 prototype. */
  ms_search s = make_search(
      "search:\n"
      "  - generator: prototype_substitution\n"
      "    prototypes: [perovskite_cubic, perovskite_pnma, ilmenite]\n"
      "    sites: {A: [Ca2+, Sr2+, Ba2+, La3+], B: [Ti4+, Zr4+, Sn4+, Al3+, Fe3+], X: [O2-]}\n",
      1, NULL, &doc);
  if (s) {
    MS_TEST_EQ_INT(ms_search_count(s), 33);
    ms_cell c;
    ms_cell_init(&c);
    ms_candidate_info info;
    char seen[33][128];
    for (int i = 0; i < 33; ++i) {
      MS_TEST_OK(ms_search_build(s, i, &c, &info));
      MS_TEST_NEAR(ms_cell_net_charge(&c, NULL), 0, 1e-12);
      snprintf(seen[i], sizeof seen[i], "%s", c.label);
      for (int j = 0; j < i; ++j) MS_TEST_TRUE(strcmp(seen[i], seen[j]) != 0);
    }
    MS_TEST_EQ_STR(info.prototype, "ilmenite");
    MS_TEST_EQ_INT(info.spacegroup, 148);
    ms_cell_free(&c);
  }
  ms_search_destroy(&s);
  ms_ydoc_free(&doc);

  /* Double perovskite, B and Bp interchangeable: unordered pairs {B, Bp} with charges adding
   * to 8 from [Mg2+, Ni2+, Ti4+, W6+, Mo6+]: {2+, 6+}: 2 x 2 = 4, {Ti, Ti}: 1 -> 5; times two
   * A ions = 10. The same lists without the equivalence would give 2 x 9 = 18. */
  s = make_search(
      "search:\n"
      "  - generator: prototype_substitution\n"
      "    prototypes: [double_perovskite]\n"
      "    sites: {A: [Ba2+, Sr2+], B: [Mg2+, Ni2+, Ti4+, W6+, Mo6+],\n"
      "            Bp: [Mg2+, Ni2+, Ti4+, W6+, Mo6+], X: [O2-]}\n",
      1, NULL, &doc);
  if (s) {
    MS_TEST_EQ_INT(ms_search_count(s), 10);
    /* Brute force: every neutral ordered assignment, reduced to a canonical form (B, Bp as a
     * sorted pair), counted once. */
    const char *bl[5] = {"Mg2+", "Ni2+", "Ti4+", "W6+", "Mo6+"};
    const int bq[5] = {2, 2, 4, 6, 6};
    char keys[64][32];
    int nk = 0;
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 5; ++b)
        for (int c = 0; c < 5; ++c) {
          if (8 * 2 + 4 * bq[b] + 4 * bq[c] - 2 * 24 != 0) continue; /* per conventional cell */
          char key[32];
          int lo = strcmp(bl[b], bl[c]) < 0 ? b : c, hi = lo == b ? c : b;
          snprintf(key, sizeof key, "%d/%s/%s", a, bl[lo], bl[hi]);
          int dup = 0;
          for (int k = 0; k < nk; ++k) dup |= strcmp(keys[k], key) == 0;
          if (!dup) snprintf(keys[nk++], sizeof keys[0], "%s", key);
        }
    MS_TEST_EQ_INT(nk, 10);
    /* Every decoded candidate is one of them, and all are distinct. */
    ms_cell c;
    ms_cell_init(&c);
    char got[10][128];
    for (int i = 0; i < 10; ++i) {
      MS_TEST_OK(ms_search_build(s, i, &c, NULL));
      MS_TEST_NEAR(ms_cell_net_charge(&c, NULL), 0, 1e-12);
      snprintf(got[i], sizeof got[i], "%s", c.label);
      for (int j = 0; j < i; ++j) MS_TEST_TRUE(strcmp(got[i], got[j]) != 0);
    }
    ms_cell_free(&c);
  }
  ms_search_destroy(&s);
  ms_ydoc_free(&doc);

  /* Different lists: (B=Mg, Bp=W) is allowed but its swap is not, so it is kept. */
  s = make_search(
      "search:\n"
      "  - {generator: prototype_substitution, prototypes: [double_perovskite],\n"
      "     sites: {A: Ba2+, B: [W6+], Bp: [Mg2+, W6+], X: O2-}}\n",
      1, NULL, &doc);
  if (s) MS_TEST_EQ_INT(ms_search_count(s), 1);
  ms_search_destroy(&s);
  ms_ydoc_free(&doc);

  /* Every library prototype with its reference compound: exactly one candidate. */
  int n = 0;
  const char *const *names0 = ms_prototype_builtin_names(&n);
  char names[128][64];
  for (int k = 0; k < n && k < 128; ++k) snprintf(names[k], sizeof names[k], "%s", names0[k]);
  for (int k = 0; k < n && k < 128; ++k) {
    ms_prototype *p = NULL;
    MS_TEST_OK(ms_prototype_load(names[k], &p));
    if (!p) continue;
    char yaml[1024];
    size_t used = (size_t)snprintf(yaml, sizeof yaml,
                                   "search:\n  - {generator: prototype_substitution, prototypes: "
                                   "[%s], sites: {",
                                   names[k]);
    for (int l = 0; l < ms_prototype_nlabels(p); ++l) {
      char ion[24];
      used += (size_t)snprintf(
          yaml + used, sizeof yaml - used, "%s%s: %s", l ? ", " : "", ms_prototype_label(p, l),
          ms_species_format(ms_prototype_reference_ion(p, l), ion, sizeof ion));
    }
    snprintf(yaml + used, sizeof yaml - used, "}}\n");
    s = make_search(yaml, 1, NULL, &doc);
    if (s) MS_TEST_EQ_INT(ms_search_count(s), 1);
    ms_search_destroy(&s);
    ms_ydoc_free(&doc);
    ms_prototype_free(&p);
  }
}

/* ---- determinism ------------------------------------------------------------------------- */

static const char mixed_yaml[] =
    "search:\n"
    "  - generator: prototype_substitution\n"
    "    prototypes: [perovskite_cubic, spinel]\n"
    "    sites: {A: [Mg2+, Sr2+, Zn2+], B: [Ti4+, Al3+, Ga3+], X: [O2-]}\n"
    "  - {generator: random_search, compositions: [SrTiO3, MgAl2O4], formula_units: [1, 2],\n"
    "     draws: 40}\n"
    "  - generator: partial_substitution\n"
    "    prototype: spinel\n"
    "    sites: {A: Mg2+, B: Al3+, X: O2-}\n"
    "    substitute: {label: B, ion: Ga3+, count_range: [1, 3]}\n";

static int same_cell(const ms_cell *a, const ms_cell *b) {
  if (a->natoms != b->natoms || a->nkinds != b->nkinds) return 0;
  if (memcmp(a->lattice, b->lattice, sizeof a->lattice) != 0) return 0;
  if (a->natoms && memcmp(a->frac, b->frac, (size_t)a->natoms * sizeof *a->frac) != 0) return 0;
  if (a->natoms && memcmp(a->kind, b->kind, (size_t)a->natoms * sizeof *a->kind) != 0) return 0;
  for (int k = 0; k < a->nkinds; ++k)
    if (!ms_species_equal(&a->species[k], &b->species[k])) return 0;
  return strcmp(a->label, b->label) == 0;
}

static void test_determinism(void) {
  ms_ydoc *doc;
  ms_search s = make_search(mixed_yaml, 20261129, NULL, &doc);
  if (!s) return;
  int64_t n = ms_search_count(s);
  /* 3 x 3 neutral per prototype (2+ with 4+ on B for the perovskite, 2+ with 3+ for the
   * spinel): perovskite 3 x 1, spinel 3 x 2 = 9; 80 draws; spinel primitive cell 4 B sites:
   * k = 1: 1, k = 2: 1, k = 3: 1 (the four B sites form one tetrahedron). */
  MS_TEST_EQ_INT(ms_search_count(s), 9 + 80 + 3);
  ms_cell *fwd = calloc((size_t)n, sizeof *fwd);
  ms_cell c;
  ms_cell_init(&c);
  for (int64_t i = 0; i < n; ++i) {
    ms_cell_init(&fwd[i]);
    MS_TEST_OK(ms_search_build(s, i, &fwd[i], NULL));
  }
  /* Reverse order, then a shuffled order, with one reused cell. */
  int mismatches = 0;
  for (int64_t i = n - 1; i >= 0; --i) {
    MS_TEST_OK(ms_search_build(s, i, &c, NULL));
    mismatches += !same_cell(&c, &fwd[i]);
  }
  ms_rng r;
  ms_rng_init(&r, 7, 0);
  for (int k = 0; k < 200; ++k) {
    int64_t i = (int64_t)ms_rng_below(&r, (uint64_t)n);
    MS_TEST_OK(ms_search_build(s, i, &c, NULL));
    mismatches += !same_cell(&c, &fwd[i]);
  }
  MS_TEST_EQ_INT(mismatches, 0);
  /* A second search object from the same YAML and seed gives the same cells; another seed
   * changes the random draws only. */
  ms_ydoc *doc2, *doc3;
  ms_search s2 = make_search(mixed_yaml, 20261129, NULL, &doc2);
  ms_search s3 = make_search(mixed_yaml, 1, NULL, &doc3);
  int diff_random = 0, same_other = 1;
  for (int64_t i = 0; s2 && s3 && i < n; ++i) {
    MS_TEST_OK(ms_search_build(s2, i, &c, NULL));
    MS_TEST_TRUE(same_cell(&c, &fwd[i]));
    MS_TEST_OK(ms_search_build(s3, i, &c, NULL));
    int item = ms_search_locate(s3, i, NULL);
    if (item == 1)
      diff_random += !same_cell(&c, &fwd[i]);
    else
      same_other &= same_cell(&c, &fwd[i]);
  }
  MS_TEST_EQ_INT(diff_random, 80);
  MS_TEST_TRUE(same_other);
  MS_TEST_TRUE(ms_search_item_seed(5, 0) != ms_search_item_seed(5, 1));
  int64_t local = -1;
  MS_TEST_EQ_INT(ms_search_locate(s, 9, &local), 1);
  MS_TEST_EQ_INT(local, 0);
  MS_TEST_EQ_INT(ms_search_locate(s, 9 + 80, &local), 2);
  MS_TEST_EQ_INT(ms_search_locate(s, n, &local), -1);
  MS_TEST_ERR(ms_search_build(s, n, &c, NULL), MS_ERR_ARG, "out of range");
  for (int64_t i = 0; i < n; ++i) ms_cell_free(&fwd[i]);
  free(fwd);
  ms_cell_free(&c);
  ms_search_destroy(&s);
  ms_search_destroy(&s2);
  ms_search_destroy(&s3);
  ms_ydoc_free(&doc);
  ms_ydoc_free(&doc2);
  ms_ydoc_free(&doc3);
}

/* ---- random search ----------------------------------------------------------------------- */

/* The documented default minimum separations (docs/generation.md), computed here from the
 * Shannon radii at CN 6 independently of the generator. */
static double expected_dmin(const ms_species *a, const ms_species *b, double factor) {
  ms_shannon_radius ra, rb, rx;
  ms_shannon_lookup(a->Z, (int)a->ox, 6, MS_SPIN_NONE, &ra, NULL);
  ms_shannon_lookup(b->Z, (int)b->ox, 6, MS_SPIN_NONE, &rb, NULL);
  ms_shannon_lookup(8, -2, 6, MS_SPIN_NONE, &rx, NULL); /* O2-: the anion of SrTiO3 */
  if (a->ox > 0 && b->ox > 0) return factor * (ra.ionic + rb.ionic + 2 * rx.ionic) / sqrt(2.0);
  return factor * (ra.ionic + rb.ionic);
}

typedef struct {
  const ms_cell *c;
  double factor;
  double worst; /* smallest distance / minimum */
} sep_ctx;

static int sep_pair(int i, int j, const double d[3], double r, void *p) {
  (void)d;
  sep_ctx *s = p;
  double m = expected_dmin(&s->c->species[s->c->kind[i]], &s->c->species[s->c->kind[j]], s->factor);
  if (r / m < s->worst) s->worst = r / m;
  return 0;
}

/* Every drawn operation maps the output onto itself (through info->basis). */
static int drawn_ops_hold(const ms_cell *c, const ms_candidate_info *info) {
  ms_spacegroup g;
  if (ms_spacegroup_load(info->hall, &g)) return 0;
  const double(*M)[3] = info->basis;
  double d = M[0][0] * (M[1][1] * M[2][2] - M[1][2] * M[2][1]) -
             M[0][1] * (M[1][0] * M[2][2] - M[1][2] * M[2][0]) +
             M[0][2] * (M[1][0] * M[2][1] - M[1][1] * M[2][0]);
  double Mi[3][3] = {
      {(M[1][1] * M[2][2] - M[1][2] * M[2][1]) / d, (M[0][2] * M[2][1] - M[0][1] * M[2][2]) / d,
       (M[0][1] * M[1][2] - M[0][2] * M[1][1]) / d},
      {(M[1][2] * M[2][0] - M[1][0] * M[2][2]) / d, (M[0][0] * M[2][2] - M[0][2] * M[2][0]) / d,
       (M[0][2] * M[1][0] - M[0][0] * M[1][2]) / d},
      {(M[1][0] * M[2][1] - M[1][1] * M[2][0]) / d, (M[0][1] * M[2][0] - M[0][0] * M[2][1]) / d,
       (M[0][0] * M[1][1] - M[0][1] * M[1][0]) / d}};
  for (int op = 0; op < g.nops; ++op)
    for (int a = 0; a < c->natoms; ++a) {
      double fc[3], y[3], fo[3];
      for (int q = 0; q < 3; ++q)
        fc[q] = c->frac[a][0] * M[0][q] + c->frac[a][1] * M[1][q] + c->frac[a][2] * M[2][q];
      ms_spacegroup_apply(&g, op, fc, y);
      for (int q = 0; q < 3; ++q) fo[q] = y[0] * Mi[0][q] + y[1] * Mi[1][q] + y[2] * Mi[2][q];
      int found = 0;
      for (int b = 0; b < c->natoms && !found; ++b) {
        if (c->kind[b] != c->kind[a]) continue;
        double s2 = 0;
        for (int q = 0; q < 3; ++q) {
          double dd = fo[q] - c->frac[b][q];
          dd -= nearbyint(dd);
          s2 += dd * dd;
        }
        found = s2 < 1e-14;
      }
      if (!found) return 0;
    }
  return 1;
}

static void test_random_search(void) {
  ms_ydoc *doc;
  ms_search s = make_search(
      "search:\n"
      "  - {generator: random_search, compositions: [SrTiO3],\n"
      "     formula_units: [1, 4], draws: 10000}\n",
      20261129, NULL, &doc);
  if (!s) return;
  MS_TEST_EQ_INT(ms_search_count(s), 10000);
  ms_cell c;
  ms_cell_init(&c);
  ms_candidate_info info;
  int failed = 0, sep_bad = 0, sym_bad = 0, spg_lower = 0, spg_same = 0, comp_bad = 0;
  int groups[231] = {0}, zcount[5] = {0};
  double worst = INFINITY;
  clock_t t0 = clock();
  for (int i = 0; i < 10000; ++i) {
    MS_TEST_OK(ms_search_build(s, i, &c, &info));
    if (info.status != MS_STATUS_OK) {
      ++failed;
      continue;
    }
    groups[info.spacegroup]++;
    if (info.formula_units >= 1 && info.formula_units <= 4) zcount[info.formula_units]++;
    /* Composition: Z x (1 Sr, 1 Ti, 3 O). */
    int n[3] = {0, 0, 0};
    for (int a = 0; a < c.natoms; ++a) {
      int Z = c.species[c.kind[a]].Z;
      n[Z == 38 ? 0 : Z == 22 ? 1 : 2]++;
    }
    comp_bad += !(n[0] == info.formula_units && n[1] == n[0] && n[2] == 3 * n[0]);
    /* Minimum separations. */
    sep_ctx sc = {&c, 0.7, INFINITY};
    ms_cell_foreach_pair(&c, 3.0, sep_pair, &sc);
    sep_bad += sc.worst < 1 - 1e-9;
    if (sc.worst < worst) worst = sc.worst;
    /* Drawn symmetry: every drawn operation holds, and spglib finds at least as many
     * operations per cell as the drawn point group has. */
    sym_bad += !drawn_ops_hold(&c, &info);
    double lat[3][3];
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) lat[a][b] = c.lattice[b][a];
    ms_spacegroup g;
    ms_spacegroup_load(info.hall, &g);
    if (spg_get_multiplicity(lat, c.frac, c.kind, c.natoms, 1e-3) < ms_spacegroup_point_order(&g))
      ++spg_lower;
    /* How often the found group is the drawn one rather than a supergroup (a sample). */
    if (i % 10 == 0) {
      char sym[11];
      spg_same +=
          spg_get_international(sym, lat, c.frac, c.kind, c.natoms, 1e-3) == info.spacegroup;
    }
  }
  double dt = (double)(clock() - t0) / CLOCKS_PER_SEC;
  int ngroups = 0;
  for (int k = 1; k <= 230; ++k) ngroups += groups[k] > 0;
  fprintf(stderr,
          "random_search: 10000 SrTiO3 draws, %d failed, %d space groups, Z counts %d %d %d %d, "
          "closest pair at %.4f x its minimum, spglib finds the drawn group in %d of 1000, "
          "checks %.2f s\n",
          failed, ngroups, zcount[1], zcount[2], zcount[3], zcount[4], worst, spg_same, dt);
  MS_TEST_EQ_INT(failed, 0);
  MS_TEST_EQ_INT(comp_bad, 0);
  MS_TEST_EQ_INT(sep_bad, 0);
  MS_TEST_EQ_INT(sym_bad, 0);
  MS_TEST_EQ_INT(spg_lower, 0);
  MS_TEST_TRUE(ngroups >= 150);
  for (int z = 1; z <= 4; ++z) MS_TEST_TRUE(zcount[z] > 1500);
  ms_cell_free(&c);
  ms_search_destroy(&s);
  ms_ydoc_free(&doc);
}

/* With Bush's potential, O-O pairs stay outside its catastrophe guard even when the radii rule
 * alone would allow them closer (factor 0.3 gives 0.84 Å). */
typedef struct {
  const ms_cell *c;
  double min_oo;
} oo_ctx;

static int oo_pair(int i, int j, const double d[3], double r, void *p) {
  (void)d;
  oo_ctx *o = p;
  if (o->c->species[o->c->kind[i]].Z == 8 && o->c->species[o->c->kind[j]].Z == 8 && r < o->min_oo)
    o->min_oo = r;
  return 0;
}

static void test_guard(void) {
  ms_potential *pot = NULL;
  MS_TEST_OK(ms_potential_load("bush1994", &pot));
  if (!pot) return;
  double guard = 0, br = 0, core = 0;
  MS_TEST_OK(ms_potential_guard(pot, "O2-", "O2-", &guard, &br, &core));
  MS_TEST_TRUE(guard > 1.2); /* the barrier top is at 1.2368 Å (physics.md §2.5) */
  ms_ydoc *doc;
  ms_search s = make_search(
      "search:\n"
      "  - {generator: random_search, compositions: [SrTiO3], draws: 300,\n"
      "     min_separation: {factor: 0.3}}\n",
      3, pot, &doc);
  ms_cell c;
  ms_cell_init(&c);
  double min_oo = INFINITY;
  for (int i = 0; s && i < 300; ++i) {
    ms_candidate_info info;
    MS_TEST_OK(ms_search_build(s, i, &c, &info));
    if (info.status) continue;
    oo_ctx o = {&c, INFINITY};
    ms_cell_foreach_pair(&c, 3.0, oo_pair, &o);
    if (o.min_oo < min_oo) min_oo = o.min_oo;
  }
  MS_TEST_TRUE(min_oo >= guard - 1e-9);
  MS_TEST_TRUE(min_oo < guard + 0.3); /* the guard is what binds */
  ms_cell_free(&c);
  ms_search_destroy(&s);
  ms_ydoc_free(&doc);
  ms_potential_free(&pot);
}

/* ---- orderings --------------------------------------------------------------------------- */

/* Bracelets: binary strings of length n with k ones up to rotation and reflection, by brute
 * force (the dihedral group acting on a ring of n beads). */
static int bracelets(int n, int k) {
  int count = 0;
  for (unsigned m = 0; m < 1u << n; ++m) {
    if (__builtin_popcount(m) != k) continue;
    unsigned best = m;
    for (int r = 0; r < n; ++r)
      for (int f = 0; f < 2; ++f) {
        unsigned t = 0;
        for (int i = 0; i < n; ++i)
          if (m >> i & 1) {
            int j = f ? (n - i + r) % n : (i + r) % n;
            t |= 1u << j;
          }
        if (t < best) best = t;
      }
    count += best == m;
  }
  return count;
}

static ms_err perovskite_supercell(int n0, int n1, int n2, ms_cell *out, int *bsites, int *nb) {
  ms_prototype *p = NULL;
  MS_CALL(ms_prototype_load("perovskite_cubic", &p));
  ms_species ions[3];
  ms_species_parse("Sr2+", &ions[0]);
  ms_species_parse("Ti4+", &ions[1]);
  ms_species_parse("O2-", &ions[2]);
  ms_cell c;
  ms_cell_init(&c);
  ms_err e = ms_prototype_build(p, ions, NULL, &c);
  if (!e) e = ms_cell_supercell_diag(&c, n0, n1, n2, out);
  *nb = 0;
  for (int a = 0; !e && a < out->natoms; ++a)
    if (out->species[out->kind[a]].Z == 22) bsites[(*nb)++] = a;
  ms_cell_free(&c);
  ms_prototype_free(&p);
  return e;
}

static void test_orderings(void) {
  ms_cell c;
  ms_cell_init(&c);
  int b[64], nb = 0;
  /* 2x2x2 perovskite, B sites: one way to place one, three for two (the pair separated by
   * <100>, <110> or <111>). */
  MS_TEST_OK(perovskite_supercell(2, 2, 2, &c, b, &nb));
  MS_TEST_EQ_INT(nb, 8);
  ms_ordering *o = NULL;
  MS_TEST_OK(ms_ordering_create(&c, b, nb, 1, NULL, &o));
  MS_TEST_EQ_INT(ms_ordering_count(o), 1);
  ms_ordering_free(&o);
  MS_TEST_OK(ms_ordering_create(&c, b, nb, 2, NULL, &o));
  MS_TEST_EQ_INT(ms_ordering_count(o), 3);
  MS_TEST_EQ_INT(ms_ordering_parent_ops(o), 48 * 8);
  /* The representatives: three different B-B distances a, sqrt2 a, sqrt3 a. */
  double dist[3];
  for (int i = 0; i < 3; ++i) {
    int ch[2];
    MS_TEST_OK(ms_ordering_get(o, i, ch));
    dist[i] = ms_cell_distance(&c, ch[0], ch[1], NULL) / (c.lattice[0][0] / 2);
  }
  MS_TEST_NEAR(dist[0] * dist[0] + dist[1] * dist[1] + dist[2] * dist[2], 1 + 2 + 3, 1e-9);
  ms_ordering_free(&o);
  ms_cell_free(&c);

  /* n x 1 x 1 chains: the B sites form a ring acted on by the dihedral group D_n. */
  for (int n = 3; n <= 8; ++n)
    for (int k = 1; k < n; ++k) {
      ms_cell_init(&c);
      MS_TEST_OK(perovskite_supercell(n, 1, 1, &c, b, &nb));
      MS_TEST_OK(ms_ordering_create(&c, b, nb, k, NULL, &o));
      if (o) {
        MS_TEST_EQ_INT(ms_ordering_count(o), bracelets(n, k));
        MS_TEST_EQ_INT(ms_ordering_count_burnside(o), bracelets(n, k));
      }
      ms_ordering_free(&o);
      ms_cell_free(&c);
    }

  /* Conventional spinel, half of the 16 B sites: enumeration agrees with Burnside's count. */
  ms_prototype *p = NULL;
  MS_TEST_OK(ms_prototype_load("spinel", &p));
  ms_species ions[3];
  ms_species_parse("Mg2+", &ions[0]);
  ms_species_parse("Al3+", &ions[1]);
  ms_species_parse("O2-", &ions[2]);
  ms_cell_init(&c);
  MS_TEST_OK(ms_prototype_build(p, ions, NULL, &c));
  nb = 0;
  for (int a = 0; a < c.natoms; ++a)
    if (c.species[c.kind[a]].Z == 13) b[nb++] = a;
  MS_TEST_EQ_INT(nb, 16);
  for (int k = 1; k <= 8; ++k) {
    MS_TEST_OK(ms_ordering_create(&c, b, nb, k, NULL, &o));
    int64_t bs = -1;
    MS_TEST_OK(ms_ordering_burnside(&c, b, nb, k, 1e-3, &bs));
    if (o) {
      MS_TEST_EQ_INT(ms_ordering_count(o), bs);
      MS_TEST_EQ_INT(ms_ordering_parent_ops(o), 192);
    }
    if (k == 1 && o) MS_TEST_EQ_INT(ms_ordering_count(o), 1);
    ms_ordering_free(&o);
  }
  /* The bound refuses large enumerations, giving the exact count in the message. */
  ms_ordering_options oo;
  ms_ordering_options_default(&oo);
  oo.max_enumeration = 1000;
  MS_TEST_ERR(ms_ordering_create(&c, b, nb, 8, &oo, &o), MS_ERR_INPUT, "C(16,8) = 12870");
  ms_cell_free(&c);
  ms_prototype_free(&p);
}

/* ---- registry and configuration errors --------------------------------------------------- */

static ms_err dummy_create(ms_ynode *item, const char *path, const ms_generator_context *ctx,
                           void **data) {
  (void)ctx;
  long long n = 3;
  ms_ynode *v = ms_ynode_get(item, "n");
  if (v) MS_CALL(ms_ynode_int(v, "n", &n));
  static const char *const keys[] = {"generator", "n", NULL};
  MS_CALL(ms_ynode_check_unused(item, path, keys));
  int64_t *d = malloc(sizeof *d);
  *d = n;
  *data = d;
  return MS_SUCCESS;
}
static int64_t dummy_count(const void *d) { return *(const int64_t *)d; }
static ms_err dummy_build(const void *d, int64_t i, ms_cell *out, ms_candidate_info *info) {
  (void)d;
  (void)info;
  double L[3][3] = {{3 + (double)i, 0, 0}, {0, 3, 0}, {0, 0, 3}}, f[3] = {0, 0, 0};
  ms_cell_free(out);
  ms_cell_set_lattice(out, L);
  ms_species na = {11, 0, 0};
  return ms_cell_add_atom(out, &na, f);
}
static void dummy_destroy(void *d) { free(d); }
static const ms_generator_ops dummy_ops = {dummy_create, dummy_count, dummy_build, NULL,
                                           dummy_destroy, NULL};
static const ms_param_spec dummy_params[] = {{"n", "integer", "3", "number of cells"},
                                             {0, 0, 0, 0}};
static const ms_generator_info dummy_info = {"dummy", "test generator", dummy_params, NULL,
                                             &dummy_ops};

static void test_registry(void) {
  int n = 0;
  const ms_generator_info *const *all = ms_generator_list(&n);
  MS_TEST_EQ_INT(n, 3);
  MS_TEST_EQ_STR(all[0]->name, "prototype_substitution");
  MS_TEST_TRUE(ms_generator_find("random_search") != NULL);
  for (int k = 0; k < n; ++k)
    for (const ms_param_spec *p = all[k]->params; p->name; ++p)
      MS_TEST_TRUE(p->type && p->help && p->default_value);
  MS_TEST_OK(ms_generator_register(&dummy_info));
  MS_TEST_ERR(ms_generator_register(&dummy_info), MS_ERR_INPUT, "already exists");
  ms_ydoc *doc;
  ms_search s =
      make_search("search:\n  - {generator: dummy, n: 5}\n  - {generator: dummy}\n", 1, NULL, &doc);
  if (s) {
    MS_TEST_EQ_INT(ms_search_count(s), 8);
    ms_cell c;
    ms_cell_init(&c);
    MS_TEST_OK(ms_search_build(s, 6, &c, NULL));
    MS_TEST_NEAR(c.lattice[0][0], 4, 0);
    ms_cell_free(&c);
  }
  ms_search_destroy(&s);
  ms_ydoc_free(&doc);

  MS_TEST_ERR(
      search_error("search:\n  - {generator: random_serch, compositions: [SrTiO3], draws: 1}\n"),
      MS_ERR_UNKNOWN_TYPE, "did you mean 'random_search'");
  MS_TEST_ERR(
      search_error("search:\n  - {generator: random_search, compositions: [SrTiO3], draws: 1,\n"
                   "     formula_unit: [1, 2]}\n"),
      MS_ERR_INPUT,
      "t.yaml:3:6: search[0].formula_unit: unknown key (did you mean 'formula_units'?)");
  MS_TEST_ERR(
      search_error("search:\n  - {generator: random_search, compositions: [SrTiO3], draws: 1,\n"
                   "     formula_units: [3, 1]}\n"),
      MS_ERR_INPUT, "search[0].formula_units: must be within");
  MS_TEST_ERR(
      search_error("search:\n  - {generator: random_search, compositions: [Fe3O4], draws: 1}\n"),
      MS_ERR_INPUT, "oxidation_states");
  MS_TEST_ERR(
      search_error("search:\n  - {generator: prototype_substitution, prototypes: [spinel],\n"
                   "     sites: {A: [Mg2+], X: [O2-]}}\n"),
      MS_ERR_INPUT, "has site label 'B'");
  MS_TEST_ERR(
      search_error("search:\n  - {generator: prototype_substitution, prototypes: [rocksalt],\n"
                   "     sites: {A: [Mg2+], X: [O2-], Q: [F-]}}\n"),
      MS_ERR_INPUT, "labelled 'Q'");
  MS_TEST_ERR(
      search_error("search:\n  - {generator: prototype_substitution, prototypes: [rocksalt],\n"
                   "     sites: {A: [Mg], X: [O2-]}}\n"),
      MS_ERR_INPUT, "needs an oxidation state");
  MS_TEST_ERR(search_error("search:\n  - {generator: partial_substitution, prototype: rocksalt,\n"
                           "     sites: {A: Mg2+, X: O2-}, supercell: [2, 2, 2],\n"
                           "     substitute: {label: A, ion: Ni2+, counts: [1, 40]}}\n"),
              MS_ERR_INPUT, "must be in 1..8 (sites of 'A')");
  /* Given oxidation states are used as given: Fe3O4 with Fe3+ is not neutral. */
  MS_TEST_ERR(search_error("search:\n  - {generator: random_search, compositions: [Fe3O4],\n"
                           "     oxidation_states: {Fe: 3, O: -2}, draws: 1}\n"),
              MS_ERR_INPUT, "not neutral");
}

int main(void) {
  if (ms_elements_load() != MS_SUCCESS) {
    fprintf(stderr, "%s\n", ms_err_message());
    return 1;
  }
  test_wyckoff();
  test_substitution_counts();
  test_determinism();
  test_random_search();
  test_guard();
  test_orderings();
  test_registry();
  return MS_TEST_RESULT();
}
