/* Global keep decisions between funnel stages (collective, deterministic, ties by id).
 *
 * The entries of a stage are spread over the ranks in any way (wherever they were computed);
 * the decisions depend only on the multiset of (energy, id, formula), so any distribution and
 * any number of ranks give the same survivors.
 *
 * The rules are written once, in the streaming form (ms__ks_*); ms__keep_apply() runs that
 * form over arrays held in memory, and the hull stage's rule is ms__keep_hull_passes().
 *
 * Order of the rules: the absolute ones first (max_energy_per_atom_eV, then
 * max_energy_above_best_eV_per_atom relative to the best entry of the same reduced formula
 * among those passing the absolute threshold), then top_k / top_fraction among what is left,
 * ranked by (energy, id). The k-th entry is found by bisection over the 64-bit
 * order-preserving image of the energies, then over the ids of the entries tied at that
 * energy: 2 x 64 small Allreduces, no gathering of the entries. */
#include "keep.h"

#include "comm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the rules on one entry ------------------------------------------------------------------ */

static int passes_absolute(const ms_keep_rule *rule, double e) {
  if (!isfinite(e)) return 0;
  return isnan(rule->max_energy_per_atom) || e <= rule->max_energy_per_atom;
}

/* The hull stage's rule (keep.h): a distance that could not be computed (NaN) never passes. */
int ms__keep_hull_passes(const ms_keep_rule *rule, double e_above_hull) {
  return isnan(rule->max_e_above_hull) || e_above_hull <= rule->max_e_above_hull;
}

/* How many of @p count entries the count rules (top_k, top_fraction rounded up) keep. */
static long long count_kept(const ms_keep_rule *r, long long count) {
  long long want = count;
  if (r->top_k > 0 && r->top_k < want) want = r->top_k;
  if (r->top_fraction > 0) {
    long long f = (long long)ceil(r->top_fraction * (double)count - 1e-9);
    if (f < want) want = f;
  }
  return want;
}

/* ---- ranking by (energy, id) ----------------------------------------------------------------- */

/* Order-preserving map of a double to an unsigned integer (-0 ranks just before +0). */
static uint64_t okey(double x) {
  uint64_t b;
  memcpy(&b, &x, sizeof b);
  return (b >> 63) ? ~b : (b | 0x8000000000000000ULL);
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

/* Number of local entries (sorted by key) with key <= K, or key < K when @p strict. */
static int64_t count_le(const ms_keep_item *v, int64_t n, uint64_t K, int strict) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    int64_t mid = (lo + hi) / 2;
    uint64_t k = okey(v[mid].e);
    int after = strict ? k >= K : k > K;
    if (after) hi = mid; else lo = mid + 1;
  }
  return lo;
}

/* Number of local entries (sorted by key) with key == K and id <= I. */
static int64_t count_tied_le(const ms_keep_item *v, int64_t n, uint64_t K, int64_t I) {
  int64_t c = 0;
  /* entries with key == K are contiguous; binary search their start, then count ids <= I */
  int64_t k = count_le(v, n, K, 1);
  for (; k < n && okey(v[k].e) == K; ++k) c += v[k].id <= I;
  return c;
}

/* Collective. Keep the @p want lowest of all ranks' entries by (energy, id): sorts v[0..*n)
 * by (energy, id) and shortens *n to this rank's share of them. Entries with the same energy
 * and id are kept or dropped together. Allocates nothing, so nothing can fail between the
 * collective calls. */
static void keep_lowest(MPI_Comm comm, ms_keep_item *v, int64_t *n, long long want) {
  int64_t m = *n;
  if (m > 0) qsort(v, (size_t)m, sizeof *v, cmp_item_key);
  long long lm = m, total = 0;
  MPI_Allreduce(&lm, &total, 1, MPI_LONG_LONG, MPI_SUM, comm);
  if (want >= total) return;
  if (want <= 0) { /* a top_fraction so small that it rounds to nothing */
    *n = 0;
    return;
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
  /* v is sorted by (key, id): the survivors are a prefix */
  int64_t u = 0;
  while (u < m && (okey(v[u].e) < K || (okey(v[u].e) == K && v[u].id <= I))) ++u;
  *n = u;
}

/* Drop all but this rank's @p bound lowest by (energy, id) (and the entries equal to the last
 * of them): only those can be among the global survivors when at most @p bound survive. */
static void truncate_local(ms_keep_item *v, int64_t *n, long long bound) {
  if (*n <= bound) return;
  qsort(v, (size_t)*n, sizeof *v, cmp_item_key);
  int64_t u = bound;
  while (u > 0 && u < *n && cmp_item_key(&v[u], &v[u - 1]) == 0) ++u;
  *n = u;
}

/* ---- best energy per formula ----------------------------------------------------------------- */

typedef struct {
  char formula[MS_KEEP_FORMULA];
  double best;
} fbest;

static int cmp_fbest(const void *a, const void *b) {
  return strcmp(((const fbest *)a)->formula, ((const fbest *)b)->formula);
}

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

/* ---- streaming form -------------------------------------------------------------------------- */

ms_err ms__ks_init(ms_keep_stream *s, const ms_keep_rule *rule) {
  memset(s, 0, sizeof *s);
  s->rule = rule;
  return MS_SUCCESS;
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
  /* the entries passing the absolute rules are at most the eligible ones */
  s->bound = count_kept(s->rule, s->eligible);
  if (isnan(s->rule->max_above_best)) return MS_SUCCESS;
  /* every rank's best per formula, merged: the global best per formula on every rank */
  int64_t n = compact_best(s->best, s->nbest);
  char *all = NULL;
  size_t total = 0;
  MS_CALL(ms__comm_allgather_bytes(comm, s->best, (size_t)n * sizeof(fbest), &all, &total));
  free(s->best);
  s->best = all;
  s->nbest = s->capbest = s->nbest_compact = compact_best((fbest *)all, (int64_t)(total / sizeof(fbest)));
  return MS_SUCCESS;
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
    if (s->bound < s->n / 2) truncate_local(s->v, &s->n, s->bound);
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
  /* the count rules apply to the entries left after the absolute rules (before any
   * truncation of this rank's list) */
  long long loc = s->passing, passing = 0;
  MPI_Allreduce(&loc, &passing, 1, MPI_LONG_LONG, MPI_SUM, comm);
  keep_lowest(comm, s->v, &s->n, count_kept(s->rule, passing));
  if (s->n > 0) qsort(s->v, (size_t)s->n, sizeof *s->v, cmp_item_id);
  return MS_SUCCESS;
}

void ms__ks_free(ms_keep_stream *s) {
  free(s->best);
  free(s->v);
  memset(s, 0, sizeof *s);
}

/* ---- the same rules on entries held in memory ------------------------------------------------ */

static int cmp_item_aux(const void *a, const void *b) {
  double x = ((const ms_keep_item *)a)->aux, y = ((const ms_keep_item *)b)->aux;
  return (x > y) - (x < y);
}

ms_err ms__keep_apply(MPI_Comm comm, const ms_keep_rule *rule, int64_t n, const double *e,
                      const int64_t *id, const char (*formula)[MS_KEEP_FORMULA],
                      unsigned char *keep) {
  ms_keep_stream s;
  ms__ks_init(&s, rule);
  ms_err err = MS_SUCCESS;
  for (int64_t k = 0; k < n && !err; ++k)
    if (keep[k]) err = ms__ks_observe(&s, e[k], formula ? formula[k] : "");
  err = ms_err_agree(comm, err);
  if (!err) err = ms__ks_reduce(&s, comm);
  /* the entry's index rides along as aux (exact: indices stay far below 2^53) */
  for (int64_t k = 0; k < n && !err; ++k)
    if (keep[k]) err = ms__ks_offer(&s, e[k], id[k], formula ? formula[k] : "", (double)k);
  err = ms_err_agree(comm, err);
  if (!err) err = ms__ks_select(&s, comm);
  if (!err) {
    if (s.n > 0) qsort(s.v, (size_t)s.n, sizeof *s.v, cmp_item_aux);
    int64_t next = 0;
    for (int64_t k = 0; k < n; ++k) {
      if (next < s.n && (int64_t)s.v[next].aux == k) next++;
      else keep[k] = 0;
    }
  }
  ms__ks_free(&s);
  return err;
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

double ms__keep_excess(const ms_keep_rule *rule, double e, double best, double hull) {
  if (!isfinite(e)) return -HUGE_VAL;
  double s = -HUGE_VAL;
  if (!isnan(rule->max_above_best) && isfinite(best)) s = e - best - rule->max_above_best;
  if (!isnan(rule->max_e_above_hull) && isfinite(hull)) s = fmax(s, e - hull - rule->max_e_above_hull);
  return s;
}
