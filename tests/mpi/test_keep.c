/* The keep rules (src/driver/keep.h) against a brute-force reference on one process.
 *
 * Every rank draws the same random stages (seeded): energies with many exact ties, -0 and +0,
 * NaN and +-inf, a few formulas repeated, ids distinct but in no relation to the energies,
 * some entries not eligible, and the entries dealt to the ranks unevenly (one rank gets none
 * when there are several). The reference sees all entries at once and spells the rules of
 * docs/campaign.md ("Keep rules") directly: eligible and finite, max_energy_per_atom,
 * max_energy_above_best against the best of the same formula among the entries passing the
 * threshold, then top_k / top_fraction (rounded up) of what is left by (energy, id). Each rank
 * checks ms__keep_apply() and the streaming form on its own entries against it, so runs at 1,
 * 2 and 4 ranks are checked against the same answer. A few hand-made stages check the
 * reference itself; a few large ones go through the streaming form's bounded memory (its
 * per-rank truncation and its compaction of the per-formula bests happen past 4096 entries).
 * ms__keep_hull_passes() is checked at and around its threshold. */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/keep.h"
#include "matscreen/rng.h"
#include "ms_test.h"

static const char *const formulas[] = {"SrTiO3", "BaTiO3", "Sr2TiO4", "CaTiO3", "La2NiMnO6"};
enum { NFORMULA = 5 };

typedef struct {
  double e;
  int64_t id;
  int formula;
  int eligible;
  int owner;
} entry;

static int rank, size;

/* ---- reference: all entries on one process, the rules as the documentation states them ---- */

/* (energy, id) with -0 before +0; only finite energies are ranked */
static int cmp_rank(const void *a, const void *b) {
  const entry *x = *(const entry *const *)a, *y = *(const entry *const *)b;
  if (x->e != y->e) return x->e < y->e ? -1 : 1;
  if (signbit(x->e) != signbit(y->e)) return signbit(x->e) ? -1 : 1;
  return (x->id > y->id) - (x->id < y->id);
}

/* kept[k] = 1 for the survivors among all n entries. */
static void reference(const ms_keep_rule *r, const entry *v, int64_t n, unsigned char *kept) {
  for (int64_t k = 0; k < n; ++k)
    kept[k] = v[k].eligible && isfinite(v[k].e) && (isnan(r->max_energy_per_atom) || v[k].e <= r->max_energy_per_atom);
  if (!isnan(r->max_above_best)) {
    double best[NFORMULA];
    for (int f = 0; f < NFORMULA; ++f) best[f] = INFINITY;
    for (int64_t k = 0; k < n; ++k)
      if (kept[k] && v[k].e < best[v[k].formula]) best[v[k].formula] = v[k].e;
    for (int64_t k = 0; k < n; ++k)
      if (kept[k] && v[k].e > best[v[k].formula] + r->max_above_best) kept[k] = 0;
  }
  const entry **left = malloc(((size_t)n + 1) * sizeof *left);
  int64_t m = 0;
  for (int64_t k = 0; k < n; ++k)
    if (kept[k]) left[m++] = &v[k];
  int64_t want = m;
  if (r->top_k > 0 && r->top_k < want) want = r->top_k;
  /* rounded up, forgiving the rounding of fraction x count (0.3 x 10 is 3.0000000000000004) */
  if (r->top_fraction > 0 && ceil(r->top_fraction * (double)m - 1e-9) < (double)want)
    want = (int64_t)ceil(r->top_fraction * (double)m - 1e-9);
  qsort(left, (size_t)m, sizeof *left, cmp_rank);
  for (int64_t k = want; k < m; ++k) kept[left[k] - v] = 0;
  free(left);
}

/* ---- the implementation, on this rank's entries -------------------------------------------- */

/* Runs ms__keep_apply and the streaming form on this rank's entries (in a scrambled order) and
 * counts the entries where either disagrees with kept[]. */
static int64_t check_stage(const char *what, const ms_keep_rule *r, const entry *v, int64_t n,
                           const unsigned char *kept, ms_rng *order) {
  int64_t *mine = malloc(((size_t)n + 1) * sizeof *mine), m = 0;
  for (int64_t k = 0; k < n; ++k)
    if (v[k].owner == rank) mine[m++] = k;
  for (int64_t k = m - 1; k > 0; --k) { /* the local order must not matter */
    int64_t j = (int64_t)ms_rng_below(order, (uint64_t)k + 1), t = mine[k];
    mine[k] = mine[j];
    mine[j] = t;
  }
  double *e = malloc(((size_t)m + 1) * sizeof *e);
  int64_t *id = malloc(((size_t)m + 1) * sizeof *id);
  char (*fo)[MS_KEEP_FORMULA] = calloc((size_t)m + 1, sizeof *fo);
  unsigned char *kp = malloc((size_t)m + 1);
  for (int64_t k = 0; k < m; ++k) {
    const entry *x = &v[mine[k]];
    e[k] = x->e;
    id[k] = x->id;
    snprintf(fo[k], MS_KEEP_FORMULA, "%s", formulas[x->formula]);
    kp[k] = (unsigned char)x->eligible;
  }
  int64_t bad = 0;
  MS_TEST_OK(ms__keep_apply(MPI_COMM_WORLD, r, m, e, id, (const char (*)[MS_KEEP_FORMULA])fo, kp));
  for (int64_t k = 0; k < m; ++k)
    if (kp[k] != kept[mine[k]]) {
      if (bad++ < 3)
        fprintf(stderr, "%s: ms__keep_apply %s entry id %lld (e %.17g, %s)\n", what,
                kp[k] ? "keeps" : "drops", (long long)id[k], e[k], fo[k]);
    }

  /* streaming: pass 1 observes, pass 2 offers, the aux value travels with the survivors */
  ms_keep_stream ks;
  MS_TEST_OK(ms__ks_init(&ks, r));
  for (int64_t k = 0; k < m; ++k)
    if (v[mine[k]].eligible) MS_TEST_OK(ms__ks_observe(&ks, e[k], fo[k]));
  MS_TEST_OK(ms__ks_reduce(&ks, MPI_COMM_WORLD));
  for (int64_t k = 0; k < m; ++k)
    if (v[mine[k]].eligible) MS_TEST_OK(ms__ks_offer(&ks, e[k], id[k], fo[k], 0.5 * (double)id[k] + 1));
  MS_TEST_OK(ms__ks_select(&ks, MPI_COMM_WORLD));
  /* expected: this rank's survivors by id */
  int64_t *want = malloc(((size_t)m + 1) * sizeof *want), nw = 0;
  for (int64_t k = 0; k < n; ++k)
    if (v[k].owner == rank && kept[k]) want[nw++] = v[k].id;
  for (int64_t a = 1; a < nw; ++a) /* insertion sort: the lists are short or nearly sorted */
    for (int64_t b = a; b > 0 && want[b - 1] > want[b]; --b) {
      int64_t t = want[b];
      want[b] = want[b - 1];
      want[b - 1] = t;
    }
  if (ks.n != nw) {
    bad++;
    fprintf(stderr, "%s: the streaming form keeps %lld here, the reference %lld\n", what, (long long)ks.n,
            (long long)nw);
  } else {
    for (int64_t k = 0; k < nw; ++k)
      if (ks.v[k].id != want[k] || ks.v[k].aux != 0.5 * (double)want[k] + 1) {
        if (bad++ < 3)
          fprintf(stderr, "%s: streaming survivor %lld is id %lld (aux %g), expected id %lld\n", what,
                  (long long)k, (long long)ks.v[k].id, ks.v[k].aux, (long long)want[k]);
      }
  }
  ms__ks_free(&ks);
  free(want);
  free(mine);
  free(e);
  free(id);
  free(fo);
  free(kp);
  return bad;
}

/* ---- random stages -------------------------------------------------------------------------- */

static double draw_energy(ms_rng *g) {
  uint64_t u = ms_rng_below(g, 100);
  if (u < 3) return NAN;
  if (u < 5) return INFINITY;
  if (u < 6) return -INFINITY;
  if (u < 8) return u == 6 ? -0.0 : 0.0;
  if (u < 60) return -1.0 + 0.125 * (double)ms_rng_below(g, 16); /* exact ties, exact sums */
  return -1.0 + 2.0 * ms_rng_uniform(g);
}

/* The entries come from @p g alone, so every number of ranks checks the same stages; how
 * they are dealt to the ranks comes from @p deal. */
static void draw_entries(ms_rng *g, ms_rng *deal, entry *v, int64_t n, int skewed, int ids) {
  /* uneven shares: one rank (of several) gets nothing, the others random weights */
  double w[64], tot = 0;
  int empty = size > 1 ? (int)ms_rng_below(deal, (uint64_t)size) : -1;
  for (int r = 0; r < size; ++r) {
    w[r] = r == empty ? 0 : 1 + 9 * ms_rng_uniform(deal);
    if (skewed && r == (empty + 1) % size) w[r] *= 20; /* one rank holds most: past 4096 entries */
    tot += w[r];
  }
  for (int64_t k = 0; k < n; ++k) {
    v[k].e = draw_energy(g);
    /* distinct and unrelated to the energies: consecutive (so that an off-by-one in the
     * ties shows), spaced, or spaced and partly negative */
    v[k].id = ids == 0 ? k : 5 * k + (int64_t)ms_rng_below(g, 5) - (ids == 2 ? 5 * (n / 2) : 0);
    v[k].formula = (int)ms_rng_below(g, NFORMULA);
    v[k].eligible = ms_rng_below(g, 100) < 85;
    double x = ms_rng_uniform(deal) * tot;
    int o = 0;
    while (o < size - 1 && (x >= w[o] || w[o] == 0)) x -= w[o++];
    if (w[o] == 0) o = (o + 1) % size;
    v[k].owner = o;
  }
}

static ms_keep_rule no_rule(void) {
  ms_keep_rule r;
  memset(&r, 0, sizeof r);
  r.max_energy_per_atom = r.max_above_best = r.max_e_above_hull = NAN;
  return r;
}

static ms_keep_rule draw_rule(ms_rng *g, int64_t n) {
  ms_keep_rule r = no_rule();
  if (ms_rng_below(g, 2)) r.top_k = 1 + (int64_t)ms_rng_below(g, (uint64_t)n + 3);
  if (ms_rng_below(g, 3) == 0) {
    static const double fr[] = {1.0, 0.5, 0.3, 0.1, 1.0 / 3.0, 1e-12};
    uint64_t c = ms_rng_below(g, 7);
    r.top_fraction = c < 6 ? fr[c] : 1.0 - ms_rng_uniform(g); /* (0, 1] */
  }
  if (ms_rng_below(g, 3) == 0)
    r.max_energy_per_atom = ms_rng_below(g, 2) ? -1.0 + 0.125 * (double)ms_rng_below(g, 16) : 2 * ms_rng_uniform(g) - 1;
  if (ms_rng_below(g, 3) == 0) {
    static const double mab[] = {0.0, 0.125, 0.25, 0.1};
    uint64_t c = ms_rng_below(g, 5);
    r.max_above_best = c < 4 ? mab[c] : ms_rng_uniform(g);
  }
  return r;
}

/* ---- hand-made stages: the reference itself against answers worked out by hand ------------- */

static void hand_cases(void) {
  /* ties at -1 (ids 3, 5, 7), -0 and +0, NaN and -inf (never kept, and -inf is not Y's best) */
  const entry v[] = {
      {-1.0, 7, 0, 1, 0}, {-1.0, 3, 0, 1, 0}, {-1.0, 5, 1, 1, 0}, {0.0, 1, 0, 1, 0},
      {-0.0, 2, 1, 1, 0}, {NAN, 0, 0, 1, 0},  {-INFINITY, 4, 1, 1, 0}, {0.5, 6, 1, 1, 0},
      {-2.0, 8, 1, 0, 0}, /* not eligible: neither kept nor counted nor anyone's best */
  };
  enum { N = sizeof v / sizeof v[0] };
  entry w[N];
  memcpy(w, v, sizeof v);
  for (int k = 0; k < N; ++k) w[k].owner = k % size;
  struct {
    const char *what;
    ms_keep_rule r;
    int64_t ids[N]; /* survivors, -1 terminated */
  } cases[] = {
      {"top_k 2: the ties at -1 by id", no_rule(), {3, 5, -1}},
      {"top_k 4: -0 before +0", no_rule(), {3, 5, 7, 2, -1}},
      {"top_k 5", no_rule(), {3, 5, 7, 2, 1, -1}},
      {"no rule: the finite eligible ones", no_rule(), {3, 5, 7, 2, 1, 6, -1}},
      {"above best 1.0 (0 is exactly at the bar)", no_rule(), {3, 5, 7, 2, 1, -1}},
      {"max -0.5 and above best 0", no_rule(), {3, 5, 7, -1}},
      {"max 0 then top_fraction 0.5 of the 5 left", no_rule(), {3, 5, 7, -1}},
      {"max 0 then top_fraction 0.4 of the 5 left: 2, not 3", no_rule(), {3, 5, -1}},
      {"top_fraction 1e-12 rounds up to nothing", no_rule(), {-1}},
      /* 2e-10 of the 8 eligible would round up to 1, of the 3 left to nothing */
      {"max -0.5 then top_fraction 2e-10 of the 3 left", no_rule(), {-1}},
  };
  cases[0].r.top_k = 2;
  cases[1].r.top_k = 4;
  cases[2].r.top_k = 5;
  cases[4].r.max_above_best = 1.0;
  cases[5].r.max_energy_per_atom = -0.5;
  cases[5].r.max_above_best = 0;
  cases[6].r.max_energy_per_atom = 0;
  cases[6].r.top_fraction = 0.5;
  cases[7].r.max_energy_per_atom = 0;
  cases[7].r.top_fraction = 0.4;
  cases[8].r.top_fraction = 1e-12;
  cases[9].r.max_energy_per_atom = -0.5;
  cases[9].r.top_fraction = 2e-10;
  ms_rng order;
  ms_rng_init(&order, 11, (uint64_t)rank);
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
    unsigned char kept[N];
    reference(&cases[c].r, w, N, kept);
    unsigned char expect[N] = {0};
    for (int j = 0; cases[c].ids[j] >= 0; ++j)
      for (int k = 0; k < N; ++k)
        if (w[k].id == cases[c].ids[j]) expect[k] = 1;
    int same = memcmp(kept, expect, N) == 0;
    if (!same) fprintf(stderr, "reference, hand case \"%s\": wrong survivors\n", cases[c].what);
    MS_TEST_TRUE(same);
    MS_TEST_EQ_INT(check_stage(cases[c].what, &cases[c].r, w, N, expect, &order), 0);
  }
}

static void hull_rule(void) {
  ms_keep_rule r = no_rule();
  /* no rule: everything passes, even a distance that could not be computed */
  MS_TEST_EQ_INT(ms__keep_hull_passes(&r, 0.0), 1);
  MS_TEST_EQ_INT(ms__keep_hull_passes(&r, 3.5), 1);
  MS_TEST_EQ_INT(ms__keep_hull_passes(&r, INFINITY), 1);
  MS_TEST_EQ_INT(ms__keep_hull_passes(&r, NAN), 1);
  r.max_e_above_hull = 0.05;
  MS_TEST_EQ_INT(ms__keep_hull_passes(&r, 0.05), 1); /* at the bar */
  MS_TEST_EQ_INT(ms__keep_hull_passes(&r, nextafter(0.05, 1.0)), 0);
  MS_TEST_EQ_INT(ms__keep_hull_passes(&r, nextafter(0.05, 0.0)), 1);
  MS_TEST_EQ_INT(ms__keep_hull_passes(&r, 0.0), 1);
  MS_TEST_EQ_INT(ms__keep_hull_passes(&r, -1e-12), 1); /* on the hull up to rounding */
  MS_TEST_EQ_INT(ms__keep_hull_passes(&r, 0.2), 0);
  MS_TEST_EQ_INT(ms__keep_hull_passes(&r, INFINITY), 0);
  MS_TEST_EQ_INT(ms__keep_hull_passes(&r, NAN), 0);
  r.max_e_above_hull = 0.0; /* only the stable ones */
  MS_TEST_EQ_INT(ms__keep_hull_passes(&r, 0.0), 1);
  MS_TEST_EQ_INT(ms__keep_hull_passes(&r, -0.0), 1);
  MS_TEST_EQ_INT(ms__keep_hull_passes(&r, 4.9e-324), 0);
  MS_TEST_EQ_INT(ms__keep_hull_passes(&r, NAN), 0);
}

/* The surrogate's rule on predictions: the excess over the bounds that apply. */
static void excess_rule(void) {
  ms_keep_rule r = no_rule();
  MS_TEST_TRUE(ms__keep_excess(&r, 1.0, 0.0, 0.0) == -HUGE_VAL); /* no relative bound set */
  r.max_above_best = 0.1;
  MS_TEST_NEAR(ms__keep_excess(&r, -5.0, -5.3, NAN), 0.2, 1e-12);   /* 0.3 above the best, 0.1 allowed */
  MS_TEST_NEAR(ms__keep_excess(&r, -5.25, -5.3, NAN), -0.05, 1e-12);
  MS_TEST_TRUE(ms__keep_excess(&r, -5.0, NAN, NAN) == -HUGE_VAL);   /* no best of its formula yet */
  MS_TEST_TRUE(ms__keep_excess(&r, NAN, -5.3, NAN) == -HUGE_VAL);   /* no prediction */
  r.max_e_above_hull = 0.05;
  MS_TEST_NEAR(ms__keep_excess(&r, -5.0, -5.3, -5.5), 0.45, 1e-12); /* the hull bound is the larger miss */
  MS_TEST_NEAR(ms__keep_excess(&r, -5.0, -4.0, -5.02), -0.03, 1e-12);
  r.max_above_best = NAN;
  MS_TEST_NEAR(ms__keep_excess(&r, -5.0, -9.0, -5.02), -0.03, 1e-12); /* best unused when unset */
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size > 64) MS_TEST_SKIP("more ranks than this test deals to");

  hand_cases();
  excess_rule();
  hull_rule();

  /* small random stages, many rules each; then a few large ones with small survivor counts */
  ms_rng order;
  ms_rng_init(&order, 12, (uint64_t)rank); /* local orders differ between ranks, on purpose */
  int64_t stages = 0, failed = 0, kept_total = 0;
  for (int t = 0; t < 64; ++t) {
    ms_rng g, deal;
    ms_rng_init(&g, 2024, (uint64_t)t);
    ms_rng_init(&deal, 2025, (uint64_t)t);
    int large = t >= 60;
    int64_t n = large ? 12000 + (int64_t)ms_rng_below(&g, 4000) : (int64_t)ms_rng_below(&g, 80);
    entry *v = malloc(((size_t)n + 1) * sizeof *v);
    unsigned char *kept = malloc((size_t)n + 1);
    draw_entries(&g, &deal, v, n, large, t % 3);
    for (int q = 0; q < (large ? 3 : 8); ++q) {
      ms_keep_rule r = draw_rule(&g, n);
      if (large) { /* few survivors of many: the streaming form truncates and compacts */
        r.top_k = 1 + (int64_t)ms_rng_below(&g, 200);
        if (q == 1) r.max_above_best = 0.25;
        if (q == 2) r.top_fraction = 0.01;
      }
      reference(&r, v, n, kept);
      char what[160], desc[120];
      ms__keep_describe(&r, desc, sizeof desc);
      snprintf(what, sizeof what, "stage %d rule %d (%lld entries; %s)", t, q, (long long)n, desc);
      int64_t bad = check_stage(what, &r, v, n, kept, &order);
      MS_TEST_EQ_INT(bad, 0);
      failed += bad != 0;
      stages++;
      for (int64_t k = 0; k < n; ++k) kept_total += kept[k];
    }
    free(v);
    free(kept);
  }
  /* the random rules must keep some and drop some, or the comparison shows little */
  MS_TEST_TRUE(kept_total > 1000);
  if (rank == 0) fprintf(stderr, "%lld stages checked, %lld survivors in all\n", (long long)stages, (long long)kept_total);

  int mine = ms_test_failures, worst = 0;
  MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  int rc = MS_TEST_RESULT();
  MPI_Finalize();
  return worst ? 1 : rc;
}
