/* Global keep decisions between funnel stages (collective, deterministic, ties by id).
 *
 * The entries of a stage are spread over the ranks in any way (wherever they were computed);
 * the decisions depend only on the multiset of (energy, id, formula), so any distribution and
 * any number of ranks give the same survivors.
 *
 * Order of the rules: the absolute ones first (max_energy_per_atom_eV, then
 * max_energy_above_best_eV_per_atom relative to the best entry of the same reduced formula),
 * then top_k / top_fraction among what is left, ranked by (energy, id). The k-th entry is
 * found by bisection over the 64-bit order-preserving image of the energies, then over the ids
 * of the entries tied at that energy: 2 x 64 small Allreduces, no gathering of the entries. */
#include "keep.h"

#include "comm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Order-preserving map of a double to an unsigned integer. */
static uint64_t okey(double x) {
  uint64_t b;
  memcpy(&b, &x, sizeof b);
  return (b >> 63) ? ~b : (b | 0x8000000000000000ULL);
}

typedef struct {
  uint64_t key;
  int64_t id;
} kid;

static int cmp_kid(const void *a, const void *b) {
  const kid *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return (x->id > y->id) - (x->id < y->id);
}

/* Number of local entries (sorted by key) with key <= K, or key < K when @p strict. */
static int64_t count_le(const kid *v, int64_t n, uint64_t K, int strict) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    int64_t mid = (lo + hi) / 2;
    int after = strict ? v[mid].key >= K : v[mid].key > K;
    if (after) hi = mid; else lo = mid + 1;
  }
  return lo;
}

static int64_t count_tied_le(const kid *v, int64_t n, uint64_t K, int64_t I) {
  int64_t c = 0;
  /* entries with key == K are contiguous; binary search their range, then count ids <= I */
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    int64_t mid = (lo + hi) / 2;
    if (v[mid].key >= K) hi = mid; else lo = mid + 1;
  }
  for (int64_t k = lo; k < n && v[k].key == K; ++k) c += v[k].id <= I;
  return c;
}

typedef struct {
  char formula[MS_KEEP_FORMULA];
  double best;
} fbest;

static int cmp_fbest(const void *a, const void *b) {
  return strcmp(((const fbest *)a)->formula, ((const fbest *)b)->formula);
}

/* Best (lowest) energy per formula over all ranks: local minima, all-gathered, merged. */
static ms_err best_per_formula(MPI_Comm comm, int64_t n, const double *e,
                               const char (*formula)[MS_KEEP_FORMULA], const unsigned char *keep,
                               fbest **out, int64_t *nout) {
  fbest *loc = calloc((size_t)n + 1, sizeof *loc);
  ms_err e0 = ms_err_agree(comm, loc ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory"));
  if (e0) {
    free(loc);
    return e0;
  }
  int64_t m = 0;
  for (int64_t k = 0; k < n; ++k)
    if (keep[k]) {
      memcpy(loc[m].formula, formula[k], MS_KEEP_FORMULA);
      loc[m].best = e[k];
      m++;
    }
  qsort(loc, (size_t)m, sizeof *loc, cmp_fbest);
  int64_t u = 0;
  for (int64_t k = 0; k < m; ++k) {
    if (u > 0 && strcmp(loc[u - 1].formula, loc[k].formula) == 0) {
      if (loc[k].best < loc[u - 1].best) loc[u - 1].best = loc[k].best;
    } else {
      loc[u++] = loc[k];
    }
  }
  char *allb = NULL;
  size_t total = 0;
  ms_err err = ms__comm_allgather_bytes(comm, loc, (size_t)u * sizeof *loc, &allb, &total);
  free(loc);
  if (err) return err;
  fbest *all = (fbest *)allb;
  int64_t na = (int64_t)(total / sizeof(fbest));
  qsort(all, (size_t)na, sizeof *all, cmp_fbest);
  u = 0;
  for (int64_t k = 0; k < na; ++k) {
    if (u > 0 && strcmp(all[u - 1].formula, all[k].formula) == 0) {
      if (all[k].best < all[u - 1].best) all[u - 1].best = all[k].best;
    } else {
      all[u++] = all[k];
    }
  }
  *out = all;
  *nout = u;
  return MS_SUCCESS;
}

ms_err ms__keep_apply(MPI_Comm comm, const ms_keep_rule *rule, int64_t n, const double *e,
                      const int64_t *id, const char (*formula)[MS_KEEP_FORMULA],
                      unsigned char *keep) {
  /* absolute threshold */
  for (int64_t k = 0; k < n; ++k) {
    if (!keep[k]) continue;
    if (!isfinite(e[k])) keep[k] = 0;
    else if (!isnan(rule->max_energy_per_atom) && e[k] > rule->max_energy_per_atom) keep[k] = 0;
  }
  /* relative to the best of the same composition */
  if (!isnan(rule->max_above_best)) {
    fbest *tab = NULL;
    int64_t nt = 0;
    MS_CALL(best_per_formula(comm, n, e, formula, keep, &tab, &nt));
    for (int64_t k = 0; k < n; ++k) {
      if (!keep[k]) continue;
      fbest key;
      memcpy(key.formula, formula[k], MS_KEEP_FORMULA);
      fbest *hit = bsearch(&key, tab, (size_t)nt, sizeof *tab, cmp_fbest);
      if (hit && e[k] > hit->best + rule->max_above_best) keep[k] = 0;
    }
    free(tab);
  }
  if (rule->top_k <= 0 && !(rule->top_fraction > 0)) return MS_SUCCESS;

  /* top_k / top_fraction by (energy, id) */
  kid *v = malloc(((size_t)n + 1) * sizeof *v);
  MS_CHECK(v, MS_ERR_MEM, "out of memory");
  int64_t m = 0;
  for (int64_t k = 0; k < n; ++k)
    if (keep[k]) v[m++] = (kid){okey(e[k]), id[k]};
  qsort(v, (size_t)m, sizeof *v, cmp_kid);
  long long lm = m, total = 0;
  MPI_Allreduce(&lm, &total, 1, MPI_LONG_LONG, MPI_SUM, comm);
  long long want = rule->top_k > 0 ? rule->top_k : 0;
  if (rule->top_fraction > 0) {
    long long f = (long long)ceil(rule->top_fraction * (double)total - 1e-9);
    if (want == 0 || f < want) want = f;
  }
  if (want >= total) {
    free(v);
    return MS_SUCCESS;
  }
  /* smallest K with count(key <= K) >= want */
  uint64_t lo = 0, hi = UINT64_MAX;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    long long c = count_le(v, m, mid, 0), g = 0;
    MPI_Allreduce(&c, &g, 1, MPI_LONG_LONG, MPI_SUM, comm);
    if (g >= want) hi = mid; else lo = mid + 1;
  }
  uint64_t K = lo;
  long long below = count_le(v, m, K, 1), gbelow = 0;
  MPI_Allreduce(&below, &gbelow, 1, MPI_LONG_LONG, MPI_SUM, comm);
  long long need = want - gbelow; /* how many of the entries tied at K to keep, by id */
  int64_t ilo = INT64_MIN, ihi = INT64_MAX;
  while (ilo < ihi) {
    int64_t mid = ilo + (int64_t)(((uint64_t)ihi - (uint64_t)ilo) / 2);
    long long c = count_tied_le(v, m, K, mid), g = 0;
    MPI_Allreduce(&c, &g, 1, MPI_LONG_LONG, MPI_SUM, comm);
    if (g >= need) ihi = mid; else ilo = mid + 1;
  }
  int64_t I = ilo;
  free(v);
  for (int64_t k = 0; k < n; ++k) {
    if (!keep[k]) continue;
    uint64_t key = okey(e[k]);
    if (key > K || (key == K && id[k] > I)) keep[k] = 0;
  }
  return MS_SUCCESS;
}

/* The hull stage's rule (keep.h): a distance that could not be computed (NaN) never passes. */
int ms__keep_hull_passes(const ms_keep_rule *rule, double e_above_hull) {
  return isnan(rule->max_e_above_hull) || e_above_hull <= rule->max_e_above_hull;
}

/* ---- streaming form -------------------------------------------------------------------------- */

/* Sort the (formula, best) pairs and merge repeats, keeping the lowest energy. */
static int64_t compact_best(fbest *b, int64_t n) {
  if (n == 0) return 0;
  qsort(b, (size_t)n, sizeof *b, cmp_fbest);
  int64_t u = 0;
  for (int64_t k = 0; k < n; ++k) {
    if (u > 0 && strcmp(b[u - 1].formula, b[k].formula) == 0) {
      if (b[k].best < b[u - 1].best) b[u - 1].best = b[k].best;
    } else {
      b[u++] = b[k];
    }
  }
  return u;
}

ms_err ms__ks_init(ms_keep_stream *s, const ms_keep_rule *rule) {
  memset(s, 0, sizeof *s);
  s->rule = rule;
  return MS_SUCCESS;
}

static int passes_absolute(const ms_keep_rule *rule, double e) {
  if (!isfinite(e)) return 0;
  return isnan(rule->max_energy_per_atom) || e <= rule->max_energy_per_atom;
}

ms_err ms__ks_observe(ms_keep_stream *s, double e, const char *formula) {
  s->eligible++;
  if (isnan(s->rule->max_above_best) || !passes_absolute(s->rule, e)) return MS_SUCCESS;
  if (s->nbest == s->capbest) {
    /* compact before growing: the number of formulas is small next to the entries */
    if (s->nbest > 2 * s->nbest_compact + 1024) {
      s->nbest = s->nbest_compact = compact_best(s->best, s->nbest);
    }
    if (s->nbest == s->capbest) {
      int64_t c = s->capbest ? 2 * s->capbest : 4096;
      fbest *q = realloc(s->best, (size_t)c * sizeof *q);
      MS_CHECK(q, MS_ERR_MEM, "out of memory (keep rule)");
      s->best = q;
      s->capbest = c;
    }
  }
  fbest *b = (fbest *)s->best + s->nbest++;
  memset(b->formula, 0, MS_KEEP_FORMULA);
  strncpy(b->formula, formula, MS_KEEP_FORMULA - 1);
  b->best = e;
  return MS_SUCCESS;
}

ms_err ms__ks_reduce(ms_keep_stream *s, MPI_Comm comm) {
  long long loc = s->eligible;
  MPI_Allreduce(&loc, &s->eligible, 1, MPI_LONG_LONG, MPI_SUM, comm);
  const ms_keep_rule *r = s->rule;
  s->bound = s->eligible;
  if (r->top_k > 0 && r->top_k < s->bound) s->bound = r->top_k;
  if (r->top_fraction > 0) {
    long long f = (long long)ceil(r->top_fraction * (double)s->eligible - 1e-9);
    if (f < s->bound) s->bound = f;
  }
  if (isnan(r->max_above_best)) return MS_SUCCESS;
  int64_t n = s->nbest ? compact_best(s->best, s->nbest) : 0;
  unsigned char *all_keep = malloc((size_t)n + 1);
  double *e = malloc(((size_t)n + 1) * sizeof *e);
  char (*f)[MS_KEEP_FORMULA] = malloc(((size_t)n + 1) * sizeof *f);
  ms_err err = all_keep && e && f ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  err = ms_err_agree(comm, err);
  fbest *tab = NULL;
  int64_t nt = 0;
  if (!err) {
    for (int64_t k = 0; k < n; ++k) {
      all_keep[k] = 1;
      e[k] = ((fbest *)s->best)[k].best;
      memcpy(f[k], ((fbest *)s->best)[k].formula, MS_KEEP_FORMULA);
    }
    err = ms_err_agree(comm, best_per_formula(comm, n, e, (const char (*)[MS_KEEP_FORMULA])f, all_keep, &tab, &nt));
  }
  free(all_keep);
  free(e);
  free(f);
  if (err) return err;
  free(s->best);
  s->best = tab;
  s->nbest = s->capbest = nt;
  return MS_SUCCESS;
}

static int cmp_item_key(const void *a, const void *b) {
  const ms_keep_item *x = a, *y = b;
  uint64_t kx = okey(x->e), ky = okey(y->e);
  if (kx != ky) return kx < ky ? -1 : 1;
  return (x->id > y->id) - (x->id < y->id);
}

static int cmp_item_id(const void *a, const void *b) {
  int64_t x = ((const ms_keep_item *)a)->id, y = ((const ms_keep_item *)b)->id;
  return (x > y) - (x < y);
}

ms_err ms__ks_offer(ms_keep_stream *s, double e, int64_t id, const char *formula, double aux) {
  const ms_keep_rule *r = s->rule;
  if (!passes_absolute(r, e)) return MS_SUCCESS;
  if (!isnan(r->max_above_best)) {
    fbest key;
    memset(key.formula, 0, MS_KEEP_FORMULA);
    strncpy(key.formula, formula, MS_KEEP_FORMULA - 1);
    fbest *hit = bsearch(&key, s->best, (size_t)s->nbest, sizeof(fbest), cmp_fbest);
    if (hit && e > hit->best + r->max_above_best) return MS_SUCCESS;
  }
  if (s->n == s->cap) {
    /* Only the bound best of this rank can be among the global survivors: drop the rest
     * before growing, so memory follows the survivors, not the entries. */
    if (s->bound < s->n / 2) {
      qsort(s->v, (size_t)s->n, sizeof *s->v, cmp_item_key);
      s->n = s->bound;
    }
    if (s->n == s->cap) {
      int64_t c = s->cap ? 2 * s->cap : 4096;
      ms_keep_item *q = realloc(s->v, (size_t)c * sizeof *q);
      MS_CHECK(q, MS_ERR_MEM, "out of memory (keep rule)");
      s->v = q;
      s->cap = c;
    }
  }
  s->v[s->n++] = (ms_keep_item){e, id, aux};
  s->passing++;
  return MS_SUCCESS;
}

ms_err ms__ks_select(ms_keep_stream *s, MPI_Comm comm) {
  if (s->n > s->bound && s->n > 0) {
    qsort(s->v, (size_t)s->n, sizeof *s->v, cmp_item_key);
    s->n = s->bound;
  }
  /* What is left passed the absolute rules; apply the count rule among all of it. */
  ms_keep_rule count_rule;
  memset(&count_rule, 0, sizeof count_rule);
  count_rule.max_energy_per_atom = NAN;
  count_rule.max_above_best = NAN;
  count_rule.max_e_above_hull = NAN;
  long long loc = s->passing, passing = 0; /* before any truncation */
  MPI_Allreduce(&loc, &passing, 1, MPI_LONG_LONG, MPI_SUM, comm);
  const ms_keep_rule *r = s->rule;
  long long want = passing;
  if (r->top_k > 0 && r->top_k < want) want = r->top_k;
  if (r->top_fraction > 0) {
    /* the fraction is of the entries left after the absolute rules, as in ms__keep_apply */
    long long f = (long long)ceil(r->top_fraction * (double)passing - 1e-9);
    if (f < want) want = f;
  }
  count_rule.top_k = want;
  double *e = malloc(((size_t)s->n + 1) * sizeof *e);
  int64_t *id = malloc(((size_t)s->n + 1) * sizeof *id);
  unsigned char *keep = malloc((size_t)s->n + 1);
  char dummy[1][MS_KEEP_FORMULA] = {{0}};
  ms_err err = e && id && keep ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  err = ms_err_agree(comm, err);
  if (!err) {
    for (int64_t k = 0; k < s->n; ++k) {
      e[k] = s->v[k].e;
      id[k] = s->v[k].id;
      keep[k] = 1;
    }
    err = ms_err_agree(comm, ms__keep_apply(comm, &count_rule, s->n, e, id,
                                            (const char (*)[MS_KEEP_FORMULA])dummy, keep));
  }
  if (!err) {
    int64_t u = 0;
    for (int64_t k = 0; k < s->n; ++k)
      if (keep[k]) s->v[u++] = s->v[k];
    s->n = u;
    if (s->n > 0) qsort(s->v, (size_t)s->n, sizeof *s->v, cmp_item_id);
  }
  free(e);
  free(id);
  free(keep);
  return err;
}

void ms__ks_free(ms_keep_stream *s) {
  free(s->best);
  free(s->v);
  memset(s, 0, sizeof *s);
}

void ms__keep_describe(const ms_keep_rule *r, char *buf, size_t n) {
  size_t used = 0;
  buf[0] = '\0';
#define ADD(...)                                                                      \
  do {                                                                                \
    if (used < n) {                                                                   \
      int w_ = snprintf(buf + used, n - used, "%s", used ? ", " : "");               \
      if (w_ > 0) used += (size_t)w_;                                                 \
      if (used < n) {                                                                 \
        w_ = snprintf(buf + used, n - used, __VA_ARGS__);                             \
        if (w_ > 0) used += (size_t)w_;                                               \
      }                                                                               \
    }                                                                                 \
  } while (0)
  if (r->top_k > 0) ADD("top_k %lld", (long long)r->top_k);
  if (r->top_fraction > 0) ADD("top_fraction %g", r->top_fraction);
  if (!isnan(r->max_energy_per_atom)) ADD("max_energy_per_atom %g", r->max_energy_per_atom);
  if (!isnan(r->max_above_best)) ADD("max_energy_above_best %g eV/atom", r->max_above_best);
  if (!isnan(r->max_e_above_hull)) ADD("max_e_above_hull %g eV/atom", r->max_e_above_hull);
#undef ADD
}
