/* Unit tests of the shortlist: acquisition scores against hand-computed values (expected
 * improvement against the closed form with tabulated normal pdf/cdf values), similarity,
 * the greedy batch (ties, order independence, diversity, caps, filters, exclusions), Thompson
 * determinism, novelty against known structures (tests/data/shortlist/), and the YAML section
 * with its positioned errors. */
#include <math.h>
#include <string.h>

#include "matscreen/io.h"
#include "matscreen/rng.h"
#include "matscreen/shortlist.h"
#include "matscreen/yaml.h"
#include "ms_test.h"

#define DATA "tests/data/shortlist/"

/* Tabulated standard normal values (any statistics table): phi(0), phi(1), Phi(1), Phi(-1). */
#define PHI0 0.3989422804014327
#define PHI1 0.24197072451914337
#define CDF1 0.8413447460685429
#define CDFM1 0.15865525393145707

static ms_shortlist_entry entry(int64_t id, double e, double sigma, const char *formula,
                                const char *prototype) {
  ms_shortlist_entry x;
  memset(&x, 0, sizeof x);
  x.id = id;
  x.e_above_hull = e;
  x.sigma = sigma;
  x.formula = formula;
  x.prototype = prototype;
  return x;
}

/* Run a selection; returns the number of picks (picks freed by the caller). */
static size_t run(const ms_shortlist_options *o, const ms_shortlist_entry *e, size_t n,
                  const int64_t *ex, size_t nex, ms_shortlist_pick **p) {
  size_t np = 0;
  *p = NULL;
  MS_TEST_OK(ms_shortlist_select(o, e, n, ex, nex, p, &np));
  return np;
}

static void test_scores(void) {
  ms_shortlist_options o;
  ms_shortlist_options_default(&o);
  MS_TEST_EQ_INT(o.size, 24);
  MS_TEST_EQ_INT(o.kind, MS_ACQ_UCB);
  /* UCB: -(e - kappa sigma) */
  MS_TEST_NEAR(ms_shortlist_score(&o, 1, 0.10, 0.05), -0.05, 1e-15);
  o.kappa = 2.0;
  MS_TEST_NEAR(ms_shortlist_score(&o, 1, 0.10, 0.05), 0.0, 1e-15);
  MS_TEST_NEAR(ms_shortlist_score(&o, 1, 0.10, NAN), -0.10, 1e-15); /* unknown sigma = 0 */
  /* on the hull without uncertainty the score is +0, not -0 (which printed as "-0.000000") */
  MS_TEST_TRUE(!signbit(ms_shortlist_score(&o, 1, 0.0, 0.0)));
  /* greedy ignores sigma */
  o.kind = MS_ACQ_GREEDY;
  MS_TEST_NEAR(ms_shortlist_score(&o, 1, 0.10, 0.05), -0.10, 1e-15);
  MS_TEST_TRUE(!signbit(ms_shortlist_score(&o, 1, 0.0, 0.05)));
  /* EI below t = target - xi: d Phi(d/s) + s phi(d/s), d = t - mu */
  o.kind = MS_ACQ_EI;
  o.ei_target = 0.05;
  o.xi = 0.0;
  MS_TEST_NEAR(ms_shortlist_score(&o, 1, 0.05, 0.1), 0.1 * PHI0, 1e-15);              /* z = 0 */
  MS_TEST_NEAR(ms_shortlist_score(&o, 1, 0.15, 0.1), -0.1 * CDFM1 + 0.1 * PHI1, 1e-15); /* z = -1 */
  o.ei_target = 0.25;
  o.xi = 0.05;
  MS_TEST_NEAR(ms_shortlist_score(&o, 1, 0.10, 0.1), 0.1 * CDF1 + 0.1 * PHI1, 1e-15); /* z = 1 */
  /* sigma = 0: the deterministic improvement max(0, t - mu) */
  o.ei_target = 0.05;
  o.xi = 0.0;
  MS_TEST_NEAR(ms_shortlist_score(&o, 1, 0.02, 0.0), 0.03, 1e-15);
  MS_TEST_NEAR(ms_shortlist_score(&o, 1, 0.08, 0.0), 0.0, 0);
  /* far tail: tiny but never negative */
  double tail = ms_shortlist_score(&o, 1, 2.0, 0.01);
  MS_TEST_TRUE(tail >= 0 && tail < 1e-100);
  /* Thompson: sigma = 0 is greedy; same (seed, id) same draw; draws are N(mu, sigma^2) */
  o.kind = MS_ACQ_THOMPSON;
  o.seed = 20261129;
  MS_TEST_NEAR(ms_shortlist_score(&o, 5, 0.07, 0.0), -0.07, 0);
  MS_TEST_TRUE(!signbit(ms_shortlist_score(&o, 5, 0.0, 0.0)));
  MS_TEST_TRUE(ms_shortlist_score(&o, 5, 0.07, 0.1) == ms_shortlist_score(&o, 5, 0.07, 0.1));
  MS_TEST_TRUE(ms_shortlist_score(&o, 5, 0.07, 0.1) != ms_shortlist_score(&o, 6, 0.07, 0.1));
  double s1 = 0, s2 = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    double x = -ms_shortlist_score(&o, i, 0.0, 1.0);
    s1 += x;
    s2 += x * x;
  }
  MS_TEST_NEAR(s1 / n, 0.0, 4.0 / sqrt(n)); /* 4 standard errors */
  MS_TEST_NEAR(s2 / n, 1.0, 0.06);
  /* the draw is not the generators' (seed, id) stream */
  ms_rng r;
  ms_rng_init(&r, o.seed, 5);
  MS_TEST_TRUE(-ms_shortlist_score(&o, 5, 0.0, 1.0) != ms_rng_normal(&r));
}

static void test_ties_and_order(void) {
  ms_shortlist_options o;
  ms_shortlist_options_default(&o);
  o.diversity = 0;
  ms_shortlist_entry e[3] = {entry(7, 0.02, 0, "SrTiO3", ""), entry(3, 0.02, 0, "BaZrO3", ""),
                             entry(5, 0.02, 0, "CaSnO3", "")};
  ms_shortlist_pick *p;
  size_t np = run(&o, e, 3, NULL, 0, &p);
  MS_TEST_EQ_INT(np, 3);
  if (np == 3) {
    MS_TEST_EQ_INT(p[0].id, 3);
    MS_TEST_EQ_INT(p[1].id, 5);
    MS_TEST_EQ_INT(p[2].id, 7);
    MS_TEST_EQ_INT(p[0].priority, 1);
    MS_TEST_EQ_INT(p[2].priority, 3);
    MS_TEST_NEAR(p[0].score, -0.02, 1e-15);
    MS_TEST_EQ_STR(p[0].novelty, "unchecked");
  }
  free(p);

  /* Order independence: 40 entries over a few systems, with diversity and Thompson draws,
   * selected from a shuffled copy, give bitwise the same picks. */
  const char *formulas[] = {"SrTiO3", "BaTiO3", "SrZrO3", "CaTiO3", "Sr2TiO4", "BaZrO3", "MgO", "TiO2"};
  const char *protos[] = {"perovskite_cubic", "perovskite_pnma", ""};
  ms_shortlist_entry a[40], b[40];
  ms_rng r;
  ms_rng_init(&r, 99, 0);
  for (int i = 0; i < 40; ++i)
    a[i] = entry(1000 - 7 * i, 0.1 * ms_rng_uniform(&r), 0.05 * ms_rng_uniform(&r),
                 formulas[ms_rng_below(&r, 8)], protos[ms_rng_below(&r, 3)]);
  a[11].e_above_hull = NAN; /* skipped */
  a[12].e_above_hull = a[13].e_above_hull; /* an exact tie */
  a[12].sigma = a[13].sigma;
  memcpy(b, a, sizeof a);
  for (int i = 39; i > 0; --i) {
    int j = (int)ms_rng_below(&r, (uint64_t)i + 1);
    ms_shortlist_entry t = b[i];
    b[i] = b[j];
    b[j] = t;
  }
  const ms_acquisition kinds[] = {MS_ACQ_UCB, MS_ACQ_THOMPSON, MS_ACQ_EI};
  for (int k = 0; k < 3; ++k) {
    o.kind = kinds[k];
    o.diversity = 0.05;
    o.size = 12;
    o.seed = 7;
    ms_shortlist_pick *pa, *pb;
    size_t na = run(&o, a, 40, NULL, 0, &pa), nb = run(&o, b, 40, NULL, 0, &pb);
    MS_TEST_EQ_INT(na, 12);
    MS_TEST_EQ_INT(nb, na);
    MS_TEST_TRUE(na == nb && memcmp(pa, pb, na * sizeof *pa) == 0);
    for (size_t i = 0; i < na; ++i) MS_TEST_TRUE(pa[i].id != a[11].id);
    /* penalised scores never increase along the batch (penalties only grow) */
    for (size_t i = 1; i < na; ++i) MS_TEST_TRUE(pa[i].penalised_score <= pa[i - 1].penalised_score);
    free(pa);
    free(pb);
  }
  /* Thompson: another seed gives another batch order (probability of a tie ~ 0). */
  o.kind = MS_ACQ_THOMPSON;
  o.diversity = 0;
  ms_shortlist_pick *p7, *p8;
  size_t n7 = run(&o, a, 40, NULL, 0, &p7);
  o.seed = 8;
  size_t n8 = run(&o, a, 40, NULL, 0, &p8);
  int differ = 0;
  for (size_t i = 0; i < n7 && i < n8; ++i) differ |= p7[i].id != p8[i].id;
  MS_TEST_TRUE(differ);
  free(p7);
  free(p8);
  /* duplicate ids are a caller bug */
  ms_shortlist_entry d[2] = {entry(4, 0.1, 0, "MgO", ""), entry(4, 0.2, 0, "MgO", "")};
  size_t nd;
  MS_TEST_ERR(ms_shortlist_select(&o, d, 2, NULL, 0, &p, &nd), MS_ERR_ARG, "candidate id 4 appears twice");
}

static void test_filters(void) {
  ms_shortlist_options o;
  ms_shortlist_options_default(&o);
  o.diversity = 0;
  o.kind = MS_ACQ_GREEDY;
  ms_shortlist_entry e[6] = {entry(1, 0.00, 0, "SrTiO3", ""),  entry(2, 0.01, 0, "Sr2TiO4", ""),
                             entry(3, 0.02, 0, "SrTi2O5", ""), entry(4, 0.03, 0, "BaZrO3", ""),
                             entry(5, 0.04, 0, "SrO", ""),     entry(6, 0.05, 0, "TiSrO3", "")};
  ms_shortlist_pick *p;
  /* max_per_system: Sr-Ti-O (ids 1, 2, 3, 6) at most 2 */
  o.max_per_system = 2;
  size_t np = run(&o, e, 6, NULL, 0, &p);
  MS_TEST_EQ_INT(np, 4);
  if (np == 4) {
    MS_TEST_EQ_INT(p[0].id, 1);
    MS_TEST_EQ_INT(p[1].id, 2);
    MS_TEST_EQ_INT(p[2].id, 4);
    MS_TEST_EQ_INT(p[3].id, 5); /* Sr-O is another system */
  }
  free(p);
  /* allowed_elements: Ba and Zr are not allowed; subsets (SrO) are fine */
  o.max_per_system = 0;
  char *allowed[] = {"O", "Sr", "Ti"};
  o.allowed_elements = allowed;
  o.nallowed = 3;
  np = run(&o, e, 6, NULL, 0, &p);
  MS_TEST_EQ_INT(np, 5);
  for (size_t i = 0; i < np; ++i) MS_TEST_TRUE(p[i].id != 4);
  free(p);
  o.allowed_elements = NULL;
  o.nallowed = 0;
  /* exclude_ids (sorted); ids that are not candidates are harmless */
  const int64_t ex[] = {-3, 1, 3, 99};
  np = run(&o, e, 6, ex, 4, &p);
  MS_TEST_EQ_INT(np, 4);
  if (np == 4) {
    MS_TEST_EQ_INT(p[0].id, 2);
    MS_TEST_EQ_INT(p[1].id, 4);
  }
  free(p);
  const int64_t unsorted[] = {3, 1};
  MS_TEST_ERR(ms_shortlist_select(&o, e, 6, unsorted, 2, &p, &np), MS_ERR_ARG, "sorted ascending");
  /* size caps the batch; a negative sigma is refused */
  o.size = 2;
  np = run(&o, e, 6, NULL, 0, &p);
  MS_TEST_EQ_INT(np, 2);
  free(p);
  e[2].sigma = -0.1;
  MS_TEST_ERR(ms_shortlist_select(&o, e, 6, NULL, 0, &p, &np), MS_ERR_ARG, "negative sigma");
  /* nothing to choose from */
  np = run(&o, NULL, 0, NULL, 0, &p);
  MS_TEST_EQ_INT(np, 0);
  MS_TEST_TRUE(p == NULL);
}

static void test_diversity(void) {
  ms_shortlist_options o;
  ms_shortlist_options_default(&o);
  MS_TEST_NEAR(o.diversity, 0.3, 0);
  /* Two SrTiO3 and one BaZrO3, equal scores, same prototype. */
  ms_shortlist_entry e[3] = {entry(1, 0.01, 0, "SrTiO3", "perovskite_cubic"),
                             entry(2, 0.01, 0, "SrTiO3", "perovskite_cubic"),
                             entry(3, 0.01, 0, "BaZrO3", "perovskite_cubic")};
  ms_shortlist_pick *p;
  size_t np = run(&o, e, 3, NULL, 0, &p);
  MS_TEST_EQ_INT(np, 3);
  if (np == 3) {
    MS_TEST_EQ_INT(p[0].id, 1);
    MS_TEST_EQ_INT(p[1].id, 3); /* the other composition before the copy */
    MS_TEST_EQ_INT(p[2].id, 2);
    /* C(SrTiO3, BaZrO3) = sum min / sum max of the fractions = 0.6 / 1.4, S = 1 */
    MS_TEST_NEAR(p[1].penalised_score, -0.01 - 0.3 * (0.6 / 1.4), 1e-12);
    MS_TEST_NEAR(p[2].penalised_score, -0.01 - 0.3 * 1.0, 1e-12);
  }
  free(p);
  o.diversity = 0;
  np = run(&o, e, 3, NULL, 0, &p);
  MS_TEST_TRUE(np == 3 && p[1].id == 2);
  free(p);

  /* Similarity values. */
  double s;
  ms_shortlist_entry x = entry(1, 0, 0, "SrTiO3", "perovskite_cubic");
  ms_shortlist_entry y = entry(2, 0, 0, "SrZrO3", "perovskite_cubic");
  MS_TEST_OK(ms_shortlist_similarity(&x, &y, &s));
  MS_TEST_NEAR(s, 0.8 / 1.2, 1e-12);
  y.prototype = "ilmenite"; /* no cells: S = 0 */
  MS_TEST_OK(ms_shortlist_similarity(&x, &y, &s));
  MS_TEST_NEAR(s, 0.5 * 0.8 / 1.2, 1e-12);
  y = entry(2, 0, 0, "MgF2", "");
  MS_TEST_OK(ms_shortlist_similarity(&x, &y, &s));
  MS_TEST_NEAR(s, 0.0, 0);
  y = entry(2, 0, 0, "Ti2Sr2O6", "perovskite_cubic"); /* unreduced formula: same fractions */
  MS_TEST_OK(ms_shortlist_similarity(&x, &y, &s));
  MS_TEST_NEAR(s, 1.0, 1e-12);
}

/* Rotated, translated 2x1x1 supercell of @p c. */
static void transformed_copy(const ms_cell *c, ms_cell *out) {
  MS_TEST_OK(ms_cell_supercell_diag(c, 2, 1, 1, out));
  const double t = 0.7, ct = cos(t), st = sin(t);
  const double R[3][3] = {{ct, -st, 0}, {st * 0.6, ct * 0.6, 0.8}, {-st * 0.8, -ct * 0.8, 0.6}};
  double L[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      L[i][j] = 0;
      for (int k = 0; k < 3; ++k) L[i][j] += out->lattice[i][k] * R[j][k];
    }
  ms_cell_set_lattice(out, L);
  for (int i = 0; i < out->natoms; ++i) {
    out->frac[i][0] += 0.13;
    out->frac[i][1] += 0.27;
    out->frac[i][2] += 0.41;
  }
}

static int kind_of(const ms_cell *c, int Z) {
  for (int k = 0; k < c->nkinds; ++k)
    if (c->species[k].Z == Z) return k;
  return -1;
}

static void test_novelty(void) {
  ms_cell_list sto, rutile;
  ms_cell_list_init(&sto);
  ms_cell_list_init(&rutile);
  MS_TEST_OK(ms_structure_read("examples/structures/SrTiO3.cif", MS_FORMAT_AUTO, &sto));
  MS_TEST_OK(ms_structure_read("examples/structures/TiO2-rutile.cif", MS_FORMAT_AUTO, &rutile));
  if (sto.n != 1 || rutile.n != 1) return;
  const ms_cell *orig = &sto.cells[0];
  ms_cell moved, shifted, ti3, bare;
  ms_cell_init(&moved);
  ms_cell_init(&shifted);
  ms_cell_init(&ti3);
  ms_cell_init(&bare);
  transformed_copy(orig, &moved);
  /* Ti off-centre by 0.25 c = 0.98 Å: after removing the mean shift the largest displacement is
   * 0.8 x 0.98 Å = 0.34 (V/N)^(1/3), above the strict stol (0.3) and below the loose (0.5). */
  MS_TEST_OK(ms_cell_copy(&shifted, orig));
  for (int i = 0; i < shifted.natoms; ++i)
    if (shifted.species[shifted.kind[i]].Z == 22) shifted.frac[i][2] += 0.25;
  /* Ti3+ instead of Ti4+: the same geometry, another species (charge order, reduction). */
  MS_TEST_OK(ms_cell_copy(&ti3, orig));
  ti3.species[kind_of(&ti3, 22)].ox = 3;
  /* No oxidation states at all: compared by element, so still the known crystal. */
  MS_TEST_OK(ms_cell_copy(&bare, orig));
  for (int k = 0; k < bare.nkinds; ++k) bare.species[k].has_ox = 0;

  ms_shortlist_options o;
  ms_shortlist_options_default(&o);
  ms_known_set *ks = NULL, *kx = NULL, *bad = NULL;
  MS_TEST_OK(ms_known_set_load(DATA "known", &ks));
  MS_TEST_EQ_INT(ms_known_set_size(ks), 2);
  MS_TEST_OK(ms_known_set_load(DATA "known.extxyz", &kx));
  MS_TEST_EQ_INT(ms_known_set_size(kx), 2);
  MS_TEST_ERR(ms_known_set_load(DATA "missing", &bad), MS_ERR_FILE, DATA "missing");
  MS_TEST_ERR(ms_known_set_load(DATA, &bad), MS_ERR_INPUT, "has no *.cif file");
  MS_TEST_TRUE(bad == NULL);

  char nov[16], name[64];
  MS_TEST_OK(ms_known_set_check(ks, orig, &o, nov, name));
  MS_TEST_EQ_STR(nov, "known");
  MS_TEST_EQ_STR(name, "SrTiO3.cif");
  MS_TEST_OK(ms_known_set_check(ks, &moved, &o, nov, name));
  MS_TEST_EQ_STR(nov, "known");
  MS_TEST_EQ_STR(name, "SrTiO3.cif");
  MS_TEST_OK(ms_known_set_check(ks, &bare, &o, nov, name));
  MS_TEST_EQ_STR(nov, "known");
  MS_TEST_OK(ms_known_set_check(ks, &shifted, &o, nov, name));
  MS_TEST_EQ_STR(nov, "ordered_variant");
  MS_TEST_EQ_STR(name, "SrTiO3.cif");
  MS_TEST_OK(ms_known_set_check(ks, &ti3, &o, nov, name));
  MS_TEST_EQ_STR(nov, "ordered_variant");
  MS_TEST_OK(ms_known_set_check(ks, &rutile.cells[0], &o, nov, name));
  MS_TEST_EQ_STR(nov, "new");
  MS_TEST_EQ_STR(name, "");
  MS_TEST_OK(ms_known_set_check(NULL, orig, &o, nov, name));
  MS_TEST_EQ_STR(nov, "unchecked");
  /* with a tighter loose level the off-centred Ti is simply new */
  o.loose_stol = 0.31;
  MS_TEST_OK(ms_known_set_check(ks, &shifted, &o, nov, name));
  MS_TEST_EQ_STR(nov, "new");
  o.loose_stol = 0.5;
  /* extxyz set: frames named by their label, else file[k]; no oxidation states there */
  MS_TEST_OK(ms_known_set_check(kx, &moved, &o, nov, name));
  MS_TEST_EQ_STR(nov, "known");
  MS_TEST_EQ_STR(name, "SrTiO3_cubic");
  MS_TEST_OK(ms_known_set_check(kx, &rutile.cells[0], &o, nov, name));
  MS_TEST_EQ_STR(nov, "known");
  MS_TEST_EQ_STR(name, "known.extxyz[1]");

  /* The acceptance item: a known structure in the novelty set is never proposed as new, even
   * when it and its transformed copy have the best scores. */
  ms_shortlist_entry e[5] = {entry(10, 0.000, 0, "SrTiO3", "perovskite_cubic"),
                             entry(11, 0.001, 0, "SrTiO3", ""),
                             entry(12, 0.030, 0, "SrTiO3", "perovskite_cubic"),
                             entry(13, 0.040, 0, "TiO2", "rutile"),
                             entry(14, 0.002, 0, "SrTiO3", "")};
  e[0].cell = orig;
  e[1].cell = &moved;
  e[2].cell = &shifted;
  e[3].cell = &rutile.cells[0];
  e[4].cell = &bare;
  ms_shortlist_pick *p;
  o.known = ks;
  size_t np = run(&o, e, 5, NULL, 0, &p);
  MS_TEST_EQ_INT(np, 2);
  if (np == 2) {
    MS_TEST_EQ_INT(p[0].id, 12);
    MS_TEST_EQ_STR(p[0].novelty, "ordered_variant");
    MS_TEST_EQ_STR(p[0].known_match, "SrTiO3.cif");
    MS_TEST_EQ_INT(p[1].id, 13);
    MS_TEST_EQ_STR(p[1].novelty, "new");
  }
  free(p);
  /* the same through the path (loaded by the call) */
  o.known = NULL;
  o.novelty_set = DATA "known";
  ms_shortlist_pick *q;
  size_t nq = run(&o, e, 5, NULL, 0, &q);
  MS_TEST_EQ_INT(nq, 2);
  MS_TEST_TRUE(nq == 2 && q[0].id == 12 && q[1].id == 13);
  free(q);
  o.novelty_set = DATA "missing";
  MS_TEST_ERR(ms_shortlist_select(&o, e, 5, NULL, 0, &q, &nq), MS_ERR_FILE, "missing");
  o.novelty_set = NULL;

  /* Fingerprint similarity: a rotated supercell of the same crystal is the same. */
  double s;
  ms_shortlist_entry a = e[0], b = e[1];
  MS_TEST_OK(ms_shortlist_similarity(&a, &b, &s));
  MS_TEST_NEAR(s, 1.0, 1e-9);
  b = e[2]; /* off-centred Ti: same composition (C = 1), a different radial fingerprint */
  b.prototype = "";
  MS_TEST_OK(ms_shortlist_similarity(&a, &b, &s));
  MS_TEST_TRUE(s > 0.6 && s < 0.9); /* S = 2 s - 1 about 0.58 */

  ms_known_set_free(&ks);
  ms_known_set_free(&kx);
  ms_known_set_free(&ks); /* NULL-safe */
  ms_cell_free(&moved);
  ms_cell_free(&shifted);
  ms_cell_free(&ti3);
  ms_cell_free(&bare);
  ms_cell_list_free(&sto);
  ms_cell_list_free(&rutile);
}

/* Parse @p text (a campaign fragment) and its shortlist: section. */
static ms_err parse_text(const char *text, ms_shortlist_options *o) {
  ms_ydoc *d = NULL;
  ms_err e = ms_ydoc_parse(text, strlen(text), "campaign.yaml", &d);
  if (e) return e;
  e = ms_shortlist_parse(ms_ynode_get(ms_ydoc_root(d), "shortlist"), "shortlist", o);
  ms_ydoc_free(&d);
  return e;
}

static void test_parse(void) {
  ms_shortlist_options o;
  MS_TEST_OK(parse_text("shortlist:\n"
                        "  size: 12\n"
                        "  acquisition: {kind: ei, xi: 0.01, target: 0.1, diversity: 0.5}\n"
                        "  max_per_system: 2\n"
                        "  allowed_elements: [Sr, ti, O]\n"
                        "  exclude_tried: false\n"
                        "  novelty:\n"
                        "    known: known/icsd\n"
                        "    strict: {ltol: 0.15, stol: 0.25, angle_tol: 4}\n"
                        "    loose: {stol: 0.6}\n",
                        &o));
  MS_TEST_EQ_INT(o.size, 12);
  MS_TEST_EQ_INT(o.kind, MS_ACQ_EI);
  MS_TEST_NEAR(o.xi, 0.01, 0);
  MS_TEST_NEAR(o.ei_target, 0.1, 0);
  MS_TEST_NEAR(o.diversity, 0.5, 0);
  MS_TEST_NEAR(o.kappa, 1.0, 0);
  MS_TEST_EQ_INT(o.max_per_system, 2);
  MS_TEST_EQ_INT(o.nallowed, 3);
  if (o.nallowed == 3) MS_TEST_EQ_STR(o.allowed_elements[1], "Ti");
  MS_TEST_EQ_INT(o.exclude_tried, 0);
  MS_TEST_EQ_STR(o.novelty_set, "known/icsd");
  MS_TEST_NEAR(o.strict_ltol, 0.15, 0);
  MS_TEST_NEAR(o.strict_stol, 0.25, 0);
  MS_TEST_NEAR(o.strict_angle_tol, 4, 0);
  MS_TEST_NEAR(o.loose_ltol, 0.3, 0);
  MS_TEST_NEAR(o.loose_stol, 0.6, 0);
  MS_TEST_NEAR(o.loose_angle_tol, 10, 0);
  ms_shortlist_options_free(&o);
  MS_TEST_TRUE(o.novelty_set == NULL && o.allowed_elements == NULL && o.size == 24);
  ms_shortlist_options_free(&o); /* twice is fine */

  /* defaults, and the short forms */
  MS_TEST_OK(parse_text("campaign: {name: x}\n", &o));
  MS_TEST_EQ_INT(o.kind, MS_ACQ_UCB);
  MS_TEST_EQ_INT(o.exclude_tried, 1);
  MS_TEST_TRUE(o.novelty_set == NULL);
  MS_TEST_OK(parse_text("shortlist: {acquisition: thompson, novelty: known.extxyz}\n", &o));
  MS_TEST_EQ_INT(o.kind, MS_ACQ_THOMPSON);
  MS_TEST_EQ_STR(o.novelty_set, "known.extxyz");
  ms_shortlist_options_free(&o);

  /* errors: file:line:col: path: message */
  MS_TEST_ERR(parse_text("shortlist:\n  acquisition: {kind: ucb, kappa: -1}\n", &o), MS_ERR_INPUT,
              "campaign.yaml:2:35: shortlist.acquisition.kappa: must be in [0, 1000], got -1");
  MS_TEST_ERR(parse_text("shortlist:\n  acquisition: {kind: ubc}\n", &o), MS_ERR_INPUT,
              "campaign.yaml:2:23: shortlist.acquisition.kind: unknown acquisition 'ubc' (did you mean 'ucb'?)");
  MS_TEST_ERR(parse_text("shortlist:\n  acquisition: {kind: ei, kappa: 2}\n", &o), MS_ERR_INPUT,
              "shortlist.acquisition.kappa: only used by kind 'ucb' (kind here is 'ei')");
  MS_TEST_ERR(parse_text("shortlist:\n  acquisition: {xi: 0.1}\n", &o), MS_ERR_INPUT,
              "shortlist.acquisition.xi: only used by kind 'ei' (kind here is 'ucb')");
  MS_TEST_ERR(parse_text("shortlist:\n  acquisition: {diversty: 0.1}\n", &o), MS_ERR_INPUT,
              "campaign.yaml:2:17: shortlist.acquisition.diversty: unknown key (did you mean 'diversity'?)");
  MS_TEST_ERR(parse_text("shortlist:\n  size: 0\n", &o), MS_ERR_INPUT,
              "campaign.yaml:2:9: shortlist.size: must be >= 1, got 0");
  MS_TEST_ERR(parse_text("shortlist:\n  max_per_sytem: 2\n", &o), MS_ERR_INPUT,
              "shortlist.max_per_sytem: unknown key (did you mean 'max_per_system'?)");
  MS_TEST_ERR(parse_text("shortlist:\n  max_per_system: -1\n", &o), MS_ERR_INPUT, "must be >= 0");
  MS_TEST_ERR(parse_text("shortlist:\n  allowed_elements: [Sr, Ti4+]\n", &o), MS_ERR_INPUT,
              "campaign.yaml:2:26: shortlist.allowed_elements[1]: 'Ti4+' is not an element symbol");
  MS_TEST_ERR(parse_text("shortlist:\n  allowed_elements: [O, Sr, O]\n", &o), MS_ERR_INPUT,
              "element O is listed twice");
  MS_TEST_ERR(parse_text("shortlist:\n  allowed_elements: []\n", &o), MS_ERR_INPUT, "is empty");
  MS_TEST_TRUE(o.allowed_elements == NULL); /* a failed parse owns nothing */
  MS_TEST_ERR(parse_text("shortlist:\n  exclude_tried: maybe\n", &o), MS_ERR_INPUT, "shortlist.exclude_tried");
  MS_TEST_ERR(parse_text("shortlist:\n  novelty: {strict: {stol: 0.2}}\n", &o), MS_ERR_INPUT,
              "shortlist.novelty: missing required key 'known'");
  MS_TEST_ERR(parse_text("shortlist:\n  novelty: {known: k, loose: {stol: 0.2}}\n", &o), MS_ERR_INPUT,
              "shortlist.novelty.loose.stol: must be >= shortlist.novelty.strict.stol (0.3), got 0.2");
  MS_TEST_ERR(parse_text("shortlist:\n  novelty: {known: k, strict: {angle_tol: 12}}\n", &o), MS_ERR_INPUT,
              "shortlist.novelty.strict.angle_tol: must be <= the loose tolerance (10, the default");
  MS_TEST_ERR(parse_text("shortlist:\n  novelty: {known: k, strict: {angle_tol: 90}}\n", &o), MS_ERR_INPUT,
              "must be in (0, 90) degrees, got 90");
  MS_TEST_ERR(parse_text("shortlist:\n  novelty: {known: k, loose: {sotl: 0.4}}\n", &o), MS_ERR_INPUT,
              "shortlist.novelty.loose.sotl: unknown key (did you mean 'stol'?)");
  MS_TEST_ERR(parse_text("shortlist: [1, 2]\n", &o), MS_ERR_INPUT, "campaign.yaml:1:12: shortlist: must be a mapping, got sequence");
}

int main(void) {
  if (ms_elements_load()) MS_TEST_SKIP("element table not available");
  test_scores();
  test_ties_and_order();
  test_filters();
  test_diversity();
  test_novelty();
  test_parse();
  ms_elements_unload();
  return MS_TEST_RESULT();
}
