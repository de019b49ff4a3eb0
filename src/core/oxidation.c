/* Guessing oxidation states (oxidation.h): a small exhaustive search over the elements of one
 * cell (a handful of elements, a handful of states each).
 *
 * Every element gets one (average) state. Candidates per element: its known states whose sign
 * is that of one of its common states (an element with no negative common state is never an
 * anion: Ni in NiAl), and for cations averages of two positive states over its sites (mixed
 * valence, Fe3O4; mixed-valence anions such as superoxide are not guessed). Among the charge-neutral assignments in which every element with a negative
 * state is more electronegative than every element with a positive one, the best is the one
 * with (1) the fewest elements off their common states (an average of two common states counts
 * as on them), (2) the fewest mixed-valence elements, (3) the least total |charge|, (4) the
 * first met (elements by Z, states by magnitude). Without occurrence statistics this differs
 * from pymatgen's guess (which ranks by ICSD frequencies) where chemistry is ambiguous, e.g.
 * CuFeO2 (Cu2+ Fe2+ here, Cu+ Fe3+ there) and FeS2 (Fe2+ S- here, Fe3+ S1.5- there). */
#include "matscreen/oxidation.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/species.h"

enum { MAX_EL = MS_CELL_MAX_KINDS, MAX_OPT = 96 };

typedef struct {
  double v;  /* (average) state */
  int off;   /* 1: not a common state (or an average involving one) */
  int frac;  /* 1: an average of two states */
} option;

typedef struct {
  int Z, n;    /* element, sites */
  double en;   /* electronegativity (NaN for noble gases) */
  int nopt;
  option opt[MAX_OPT];
} elem;

typedef struct {
  elem *e;
  int ne;
  int cur[MAX_EL];
  int best[MAX_EL];
  double best_cost[3];
  int found;
} search;

static int is_common(const ms_element *el, int s) {
  for (int k = 0; k < el->n_common_ox; ++k)
    if (el->common_ox[k] == s) return 1;
  return 0;
}

/* 1 if the element has a common state of the sign of @p s. */
static int sign_allowed(const ms_element *el, double s) {
  for (int k = 0; k < el->n_common_ox; ++k)
    if ((double)el->common_ox[k] * s > 0) return 1;
  return 0;
}

static void add_opt(elem *e, double v, int off, int frac) {
  if (v == 0 || e->nopt == MAX_OPT) return;
  for (int k = 0; k < e->nopt; ++k)
    if (fabs(e->opt[k].v - v) < 1e-9) {
      if (off < e->opt[k].off || (off == e->opt[k].off && frac < e->opt[k].frac)) e->opt[k] = (option){v, off, frac};
      return;
    }
  e->opt[e->nopt++] = (option){v, off, frac};
}

static int cmp_option(const void *a, const void *b) {
  const option *x = a, *y = b;
  if (fabs(x->v) != fabs(y->v)) return fabs(x->v) < fabs(y->v) ? -1 : 1;
  return (x->v > y->v) - (x->v < y->v);
}

/* The candidates of element @p e: integer states, and with @p mixed also averages. */
static void options(elem *e, int mixed) {
  const ms_element *el = ms_element_by_z(e->Z);
  e->nopt = 0;
  if (!el) return;
  int states[24], ns = 0;
  for (int k = 0; k < el->n_common_ox && ns < 24; ++k)
    if (sign_allowed(el, el->common_ox[k])) states[ns++] = el->common_ox[k];
  for (int k = 0; k < el->n_ox && ns < 24; ++k)
    if (sign_allowed(el, el->ox[k])) states[ns++] = el->ox[k];
  for (int k = 0; k < ns; ++k) add_opt(e, states[k], !is_common(el, states[k]), 0);
  if (mixed)
    for (int a = 0; a < ns; ++a)
      for (int b = 0; b < ns; ++b) {
        int s1 = states[a], s2 = states[b];
        if (!(s1 < s2) || s1 <= 0) continue; /* mixed valence of cations only */
        int off = !is_common(el, s1) || !is_common(el, s2);
        for (int m = 1; m < e->n; ++m) add_opt(e, (double)(m * s1 + (e->n - m) * s2) / e->n, off, 1);
      }
  qsort(e->opt, (size_t)e->nopt, sizeof e->opt[0], cmp_option);
}

/* Every element with a negative state more electronegative than every one with a positive. */
static int consistent(const search *s) {
  double max_pos = -INFINITY, min_neg = INFINITY;
  for (int k = 0; k < s->ne; ++k) {
    double v = s->e[k].opt[s->cur[k]].v;
    if (isnan(s->e[k].en)) return 0;
    if (v > 0 && s->e[k].en > max_pos) max_pos = s->e[k].en;
    if (v < 0 && s->e[k].en < min_neg) min_neg = s->e[k].en;
  }
  return max_pos < min_neg;
}

static void dfs(search *s, int k, double charge) {
  if (k == s->ne) {
    if (fabs(charge) > 1e-9 || !consistent(s)) return;
    double cost[3] = {0, 0, 0};
    for (int q = 0; q < s->ne; ++q) {
      const option *o = &s->e[q].opt[s->cur[q]];
      cost[0] += o->off;
      cost[1] += o->frac;
      cost[2] += s->e[q].n * fabs(o->v);
    }
    int better = !s->found;
    for (int c = 0; c < 3 && !better; ++c) {
      if (cost[c] < s->best_cost[c] - 1e-9) better = 1;
      if (cost[c] > s->best_cost[c] + 1e-9) break;
    }
    if (better) {
      s->found = 1;
      memcpy(s->best_cost, cost, sizeof cost);
      for (int q = 0; q < s->ne; ++q) s->best[q] = s->cur[q];
    }
    return;
  }
  for (int o = 0; o < s->e[k].nopt; ++o) {
    s->cur[k] = o;
    dfs(s, k + 1, charge + s->e[k].n * s->e[k].opt[o].v);
  }
}

ms_err ms_cell_guess_oxidation_states(ms_cell *c, char *summary, size_t len) {
  if (summary && len) summary[0] = '\0';
  for (int k = 0; k < c->nkinds; ++k)
    if (c->species[k].has_ox) return MS_SUCCESS;
  elem *ep = calloc(MAX_EL, sizeof *ep); /* ~50 KiB: off the stack */
  MS_CHECK(ep, MS_ERR_MEM, "out of memory");
  int ne = 0;
  ms_err err = MS_SUCCESS;
  for (int i = 0; i < c->natoms && !err; ++i) {
    int Z = c->species[c->kind[i]].Z, k = 0;
    while (k < ne && ep[k].Z != Z) ++k;
    if (k == ne) {
      const ms_element *el = ms_element_by_z(Z);
      if (ne == MAX_EL || !el) {
        err = ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__, "cannot guess oxidation states: %s",
                          el ? "too many elements" : "an element is not in the element table");
        break;
      }
      ep[ne].Z = Z;
      ep[ne].en = el->electronegativity;
      ne++;
    }
    ep[k].n++;
  }
  /* by atomic number: the result must not depend on the order of the atoms in the file */
  for (int a = 1; a < ne; ++a)
    for (int b = a; b > 0 && ep[b].Z < ep[b - 1].Z; --b) {
      elem t = ep[b];
      ep[b] = ep[b - 1];
      ep[b - 1] = t;
    }
  char formula[128] = "";
  if (!err && ms_cell_formula(c, 1, formula, sizeof formula)) {
    ms_err_clear();
    snprintf(formula, sizeof formula, "the structure");
  }
  if (!err && ne < 2)
    err = ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__,
                      "cannot guess oxidation states for %s: a single element has no charge-balanced ionic form",
                      formula);
  search s;
  memset(&s, 0, sizeof s);
  s.e = ep;
  s.ne = ne;
  if (!err) {
    for (int k = 0; k < ne; ++k) options(&ep[k], 0);
    dfs(&s, 0, 0);
    /* Mixed valence: one element at a time may take an average of two of its states. The best
     * integer assignment found so far stays unless an average scores better. */
    double best_val[MAX_EL] = {0};
    for (int q = 0; q < ne && s.found; ++q) best_val[q] = ep[q].opt[s.best[q]].v;
    for (int f = 0; f < ne; ++f) {
      for (int k = 0; k < ne; ++k) options(&ep[k], k == f);
      search t;
      memset(&t, 0, sizeof t);
      t.e = ep;
      t.ne = ne;
      dfs(&t, 0, 0);
      if (!t.found) continue;
      int better = !s.found;
      for (int q = 0; q < 3 && !better; ++q) {
        if (t.best_cost[q] < s.best_cost[q] - 1e-9) better = 1;
        if (t.best_cost[q] > s.best_cost[q] + 1e-9) break;
      }
      if (better) {
        s.found = 1;
        memcpy(s.best_cost, t.best_cost, sizeof t.best_cost);
        for (int q = 0; q < ne; ++q) best_val[q] = ep[q].opt[t.best[q]].v;
      }
    }
    if (!s.found)
      err = ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__,
                        "cannot guess oxidation states for %s: no charge-balanced assignment of the elements' "
                        "oxidation states puts the more electronegative elements on the negative side (an "
                        "intermetallic or covalent compound?); give the states in the file, or use a model that "
                        "needs none (M3GNet)",
                        formula);
    for (int k = 0; k < c->nkinds && !err; ++k)
      for (int q = 0; q < ne; ++q)
        if (c->species[k].Z == ep[q].Z) {
          c->species[k].has_ox = 1;
          c->species[k].ox = best_val[q];
        }
    if (!err && summary && len) {
      size_t used = 0;
      for (int q = 0; q < ne && used < len; ++q) {
        char b[24];
        ms_species sp = {ep[q].Z, 1, best_val[q]};
        ms_species_format(&sp, b, sizeof b);
        int w = snprintf(summary + used, len - used, "%s%s", q ? " " : "", b);
        if (w < 0) break;
        used += (size_t)w;
      }
    }
  }
  free(ep);
  return err;
}
