/* Stoichiometry rules for candidates of plain elements (prototype_substitution without
 * oxidation states): count the assignments that satisfy the rules and decode the i-th one
 * directly, the way the charge table does for ions.
 *
 * An assignment is a choice of one tuple per digit (a digit is a label, or a group of labels a
 * symmetry permutes, as in substitution.c). The rules depend on the choices made so far only
 * through a small state: the elements used with their atom counts per conventional cell
 * (counts only matter when `compositions` is given; with `distinct` or `max_elements` alone
 * the set of elements is enough, and with no rule the state is empty). So
 *   count(j, state) = sum over tuples t of digit j of count(j + 1, state + t),
 * zero for states that already break a rule, and 1 at the end. Counting fills a memo of the
 * reachable (digit, state) pairs once (depth-first from the empty state); decoding candidate i
 * walks the digits and skips whole branches by their counts, reading the memo only, so it is
 * pure and costs the sum of the digits' sizes in look-ups.
 *
 * Pruning: a repeated element breaks `distinct`; more than max_elements elements break
 * `max_elements`; with `compositions`, the state must fit inside one allowed composition
 * scaled to the cell (every element of the state in it, with at most its count). At the last
 * digit all atoms of the cell are placed, so fitting inside a target means equalling it.
 *
 * Memory: one entry per reachable (digit, state) pair, at most MS__STOICH_MAX_STATES; beyond
 * that the configuration is refused with a message asking for tighter rules. */
#include "stoich.h"

#include <stdlib.h>
#include <string.h>

#define MAXEL 32 /* distinct elements in a state: 8 labels x 4 per tuple */

typedef struct {
  uint16_t depth, n;
  uint16_t z[MAXEL];
  uint16_t c[MAXEL];
} state;

typedef struct {
  state key;
  int64_t count;
  int used;
} slot;

struct ms__stoich {
  ms__stoich_rules rules;
  int ndig;
  const ms__stoich_digit *dig; /* borrowed from the caller, which outlives this object */
  int track_counts, track_set;
  int ntarget;
  state *target; /* allowed compositions scaled to the cell, sorted by Z */
  size_t cap, nused;
  slot *tab;
};

static uint64_t hash_state(const state *s) {
  uint64_t h = 0xcbf29ce484222325ULL ^ ((uint64_t)s->depth << 8) ^ s->n;
  for (int k = 0; k < s->n; ++k) {
    h ^= ((uint64_t)s->z[k] << 16) | s->c[k];
    h *= 0x100000001b3ULL;
  }
  return h ^ (h >> 29);
}

static int same_state(const state *a, const state *b) {
  if (a->depth != b->depth || a->n != b->n) return 0;
  for (int k = 0; k < a->n; ++k)
    if (a->z[k] != b->z[k] || a->c[k] != b->c[k]) return 0;
  return 1;
}

static slot *find(const ms__stoich *s, const state *key) {
  size_t mask = s->cap - 1, i = (size_t)hash_state(key) & mask;
  while (s->tab[i].used && !same_state(&s->tab[i].key, key)) i = (i + 1) & mask;
  return &s->tab[i];
}

static ms_err grow(ms__stoich *s) {
  size_t ncap = s->cap ? 2 * s->cap : 1024;
  slot *old = s->tab;
  size_t ocap = s->cap;
  s->tab = calloc(ncap, sizeof *s->tab);
  MS_CHECK(s->tab, MS_ERR_MEM, "out of memory counting element assignments");
  s->cap = ncap;
  for (size_t k = 0; k < ocap; ++k)
    if (old[k].used) *find(s, &old[k].key) = old[k];
  free(old);
  return MS_SUCCESS;
}

/* state + tuple t of digit j (into *out); returns 0 when the result breaks a rule. */
static int add_tuple(const ms__stoich *s, const state *st, int j, int t, state *out) {
  *out = *st;
  out->depth = (uint16_t)(j + 1);
  const ms__stoich_digit *d = &s->dig[j];
  for (int a = 0; a < d->nlab; ++a) {
    int Z = d->z[t][a], c = s->track_counts ? d->count[a] : 0;
    int k = 0;
    while (k < out->n && out->z[k] < Z) ++k;
    if (k < out->n && out->z[k] == Z) {
      if (s->rules.distinct) return 0;
      out->c[k] = (uint16_t)(out->c[k] + c);
      continue;
    }
    if (!s->track_set && !s->track_counts) continue;
    if (out->n == MAXEL) return 0;
    memmove(&out->z[k + 1], &out->z[k], (size_t)(out->n - k) * sizeof out->z[0]);
    memmove(&out->c[k + 1], &out->c[k], (size_t)(out->n - k) * sizeof out->c[0]);
    out->z[k] = (uint16_t)Z;
    out->c[k] = (uint16_t)c;
    out->n++;
  }
  if (s->rules.max_elements > 0 && out->n > s->rules.max_elements) return 0;
  if (s->ntarget > 0 || s->rules.ncompositions > 0) {
    int fits = 0;
    for (int q = 0; q < s->ntarget && !fits; ++q) {
      const state *T = &s->target[q];
      int ok = 1, m = 0;
      for (int k = 0; k < out->n && ok; ++k) {
        while (m < T->n && T->z[m] < out->z[k]) ++m;
        ok = m < T->n && T->z[m] == out->z[k] && out->c[k] <= T->c[m];
      }
      fits = ok;
    }
    if (!fits) return 0;
  }
  return 1;
}

static ms_err count_from(ms__stoich *s, const state *st, int64_t *out) {
  if (st->depth == s->ndig) {
    *out = 1;
    return MS_SUCCESS;
  }
  slot *sl = find(s, st);
  if (sl->used) {
    *out = sl->count;
    return MS_SUCCESS;
  }
  int64_t sum = 0;
  const ms__stoich_digit *d = &s->dig[st->depth];
  for (int t = 0; t < d->ntuple; ++t) {
    state nx;
    if (!add_tuple(s, st, st->depth, t, &nx)) continue;
    int64_t n = 0;
    MS_CALL(count_from(s, &nx, &n));
    MS_CHECK(sum <= INT64_MAX - n, MS_ERR_INPUT, "more than 2^63 candidates");
    sum += n;
  }
  MS_CHECK(s->nused < MS__STOICH_MAX_STATES, MS_ERR_INPUT,
           "the rules leave more than %d partial assignments to count; add compositions or "
           "max_elements, or split the item",
           MS__STOICH_MAX_STATES);
  if (2 * (s->nused + 1) > s->cap) MS_CALL(grow(s));
  sl = find(s, st);
  sl->key = *st;
  sl->count = sum;
  sl->used = 1;
  s->nused++;
  *out = sum;
  return MS_SUCCESS;
}

static int64_t lookup(const ms__stoich *s, const state *st) {
  if (st->depth == s->ndig) return 1;
  const slot *sl = find(s, st);
  return sl->used ? sl->count : 0; /* every reachable state was counted at creation */
}

ms_err ms__stoich_create(const ms__stoich_rules *rules, int ndig, const ms__stoich_digit *dig,
                         int natoms, ms__stoich **out, int64_t *count) {
  *out = NULL;
  *count = 0;
  ms__stoich *s = calloc(1, sizeof *s);
  MS_CHECK(s, MS_ERR_MEM, "out of memory");
  s->rules = *rules;
  s->ndig = ndig;
  s->dig = dig;
  s->track_counts = rules->ncompositions > 0;
  s->track_set = rules->distinct || rules->max_elements > 0;
  ms_err e = MS_SUCCESS;
  /* Allowed compositions scaled to the cell's natoms atoms; those that do not divide it cannot
   * occur in this prototype. */
  if (rules->ncompositions > 0) {
    s->target = calloc((size_t)rules->ncompositions, sizeof *s->target);
    if (!s->target) e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int q = 0; !e && q < rules->ncompositions; ++q) {
      const ms__stoich_formula *f = &rules->composition[q];
      int total = 0;
      for (int k = 0; k < f->n; ++k) total += f->count[k];
      if (total <= 0 || natoms % total) continue;
      state *T = &s->target[s->ntarget++];
      T->n = (uint16_t)f->n;
      for (int k = 0; k < f->n; ++k) {
        T->z[k] = (uint16_t)f->z[k];
        T->c[k] = (uint16_t)(f->count[k] * (natoms / total));
      }
    }
  }
  if (!e) e = grow(s);
  state root;
  memset(&root, 0, sizeof root);
  if (!e && (rules->ncompositions == 0 || s->ntarget > 0)) e = count_from(s, &root, count);
  if (e) {
    ms__stoich_free(&s);
    return e;
  }
  *out = s;
  return MS_SUCCESS;
}

void ms__stoich_decode(const ms__stoich *s, int64_t i, int *choice) {
  state st;
  memset(&st, 0, sizeof st);
  for (int j = 0; j < s->ndig; ++j) {
    const ms__stoich_digit *d = &s->dig[j];
    for (int t = 0; t < d->ntuple; ++t) {
      state nx;
      int64_t n = add_tuple(s, &st, j, t, &nx) ? lookup(s, &nx) : 0;
      if (i < n) {
        choice[j] = t;
        st = nx;
        break;
      }
      i -= n;
    }
  }
}

size_t ms__stoich_states(const ms__stoich *s) { return s ? s->nused : 0; }

void ms__stoich_free(ms__stoich **sp) {
  if (!sp || !*sp) return;
  free((*sp)->target);
  free((*sp)->tab);
  free(*sp);
  *sp = NULL;
}

int ms__stoich_parse_formula(const char *text, ms__stoich_formula *f, char *why, size_t len) {
  int count[MS_MAX_Z + 1];
  int n = ms__formula_counts(text, count, why, len);
  if (n < 0) return -1;
  if (n > MS__STOICH_MAX_FORMULA) {
    snprintf(why, len, "'%s' has more than %d elements", text, MS__STOICH_MAX_FORMULA);
    return -1;
  }
  int g = 0;
  for (int Z = 1; Z <= MS_MAX_Z; ++Z)
    if (count[Z]) {
      int a = count[Z], b = g;
      while (b) {
        int t = a % b;
        a = b;
        b = t;
      }
      g = a;
    }
  memset(f, 0, sizeof *f);
  snprintf(f->text, sizeof f->text, "%s", text);
  for (int Z = 1; Z <= MS_MAX_Z; ++Z)
    if (count[Z]) {
      f->z[f->n] = Z;
      f->count[f->n++] = count[Z] / g;
    }
  return 0;
}
