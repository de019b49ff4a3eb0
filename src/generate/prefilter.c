/* Chemistry prefilters (prefilter.h): cheap rules applied before any energy.
 *
 * Each rule is a row of a table (name, parser, check), so adding a rule is one function pair
 * and one line. A prefilter is the list of active rules with their parameters in the order
 * the YAML gives them; checking a candidate runs every rule and records each outcome, so the
 * output can say why a candidate was rejected (the first failing rule) and what the others
 * said.
 *
 * Formulas and data: physics.md §4. Tolerance factor t = (rA + rX) / (sqrt(2) (rB + rX))
 * (Goldschmidt, Naturwissenschaften 14, 477 (1926)); tau = rX/rB - nA (nA - (rA/rB) /
 * ln(rA/rB)) (Bartel et al., Sci. Adv. 5, eaav0693 (2019)), with their radius conventions;
 * radius-ratio limits 2/sqrt(3)-1, sqrt(3/2)-1, sqrt(2)-1, sqrt(3)-1 and 1 for CN 3, 4, 6, 8,
 * 12 (Pauling, J. Am. Chem. Soc. 51, 1010 (1929)). */
#include "matscreen/prefilter.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_impl.h"

typedef enum {
  R_CHARGE,
  R_EN_ORDER,
  R_TOLERANCE,
  R_TAU,
  R_RADIUS_RATIO,
  R_MIN_DISTANCE,
  R_ELEMENTS,
} rule_kind;

typedef struct {
  rule_kind kind;
  const char *name;
  double p[3]; /* parameters */
  int flag;
  unsigned char allowed[MS_MAX_Z + 1], forbidden[MS_MAX_Z + 1];
  int has_allowed;
} rule;

struct ms_prefilter {
  int n;
  rule r[MS_PREFILTER_MAX_RULES];
};

static const char *const rule_names[] = {"charge_neutral",   "electronegativity_order",
                                         "tolerance_factor", "bartel_tau",
                                         "radius_ratio",     "min_distance",
                                         "elements",         NULL};

void ms_prefilter_free(ms_prefilter **f) {
  if (!f || !*f) return;
  free(*f);
  *f = NULL;
}

int ms_prefilter_nrules(const ms_prefilter *f) { return f->n; }
int ms_prefilter_rule_needs_ions(const ms_prefilter *f, int k) {
  if (k < 0 || k >= f->n) return 0;
  return f->r[k].kind != R_MIN_DISTANCE && f->r[k].kind != R_ELEMENTS;
}
const char *ms_prefilter_rule_name(const ms_prefilter *f, int k) {
  return k >= 0 && k < f->n ? f->r[k].name : NULL;
}

/* ---- the physics ------------------------------------------------------------------------- */

double ms_radius_ratio_limit(int cn) {
  if (cn <= 2) return 0;
  if (cn == 3) return 2 / sqrt(3.0) - 1;
  if (cn < 6) return sqrt(1.5) - 1;
  if (cn < 8) return sqrt(2.0) - 1;
  if (cn < 12) return sqrt(3.0) - 1;
  return 1.0;
}

/* The limit of the next tabulated CN above @p cn (for the upper bound), or +inf. */
static double next_limit(int cn) {
  if (cn < 3) return ms_radius_ratio_limit(3);
  if (cn < 4) return ms_radius_ratio_limit(4);
  if (cn < 6) return ms_radius_ratio_limit(6);
  if (cn < 8) return ms_radius_ratio_limit(8);
  if (cn < 12) return ms_radius_ratio_limit(12);
  return INFINITY;
}

static ms_err radii3(const ms_species *A, const ms_species *B, const ms_species *X, double *rA,
                     double *rB, double *rX) {
  MS_CALL(ms__ion_radius(A, 12, rA));
  MS_CALL(ms__ion_radius(B, 6, rB));
  MS_CALL(ms__ion_radius(X, 6, rX));
  return MS_SUCCESS;
}

ms_err ms_tolerance_factor(const ms_species *A, const ms_species *B, const ms_species *X,
                           double *t) {
  double rA, rB, rX;
  MS_CALL(radii3(A, B, X, &rA, &rB, &rX));
  *t = (rA + rX) / (sqrt(2.0) * (rB + rX));
  return MS_SUCCESS;
}

ms_err ms_bartel_tau(const ms_species *A, const ms_species *B, const ms_species *X, double *tau) {
  double rA, rB, rX;
  MS_CALL(radii3(A, B, X, &rA, &rB, &rX));
  char a[24], b[24];
  MS_CHECK(rA > rB, MS_ERR_INPUT, "tau needs r_A > r_B (%s %.3f Å at CN 12, %s %.3f Å at CN 6)",
           ms_species_format(A, a, sizeof a), rA, ms_species_format(B, b, sizeof b), rB);
  double nA = A->ox, q = rA / rB;
  *tau = rX / rB - nA * (nA - q / log(q));
  return MS_SUCCESS;
}

int ms_abx3_roles(const ms_cell *c, ms_species *A, ms_species *B, ms_species *X) {
  int count[MS_CELL_MAX_KINDS] = {0};
  for (int i = 0; i < c->natoms; ++i) count[c->kind[i]]++;
  int cat[2], ncat = 0, an = -1, nk = 0;
  for (int k = 0; k < c->nkinds; ++k) {
    if (!count[k]) continue;
    ++nk;
    if (!c->species[k].has_ox) return 0;
    if (c->species[k].ox > 0 && ncat < 2)
      cat[ncat++] = k;
    else if (c->species[k].ox < 0)
      an = k;
  }
  if (nk != 3 || ncat != 2 || an < 0) return 0;
  if (count[cat[0]] != count[cat[1]] || count[an] != 3 * count[cat[0]]) return 0;
  double r0, r1;
  if (ms__ion_radius(&c->species[cat[0]], 12, &r0) ||
      ms__ion_radius(&c->species[cat[1]], 12, &r1)) {
    ms_err_clear();
    return 0;
  }
  int a = r0 >= r1 ? cat[0] : cat[1], b = r0 >= r1 ? cat[1] : cat[0];
  *A = c->species[a];
  *B = c->species[b];
  *X = c->species[an];
  return 1;
}

/* ---- rule checks ------------------------------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
fail(ms_rule_result *r, const char *fmt, ...) {
  r->outcome = MS_RULE_FAIL;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->reason, sizeof r->reason, fmt, ap);
  va_end(ap);
}

static void skip(ms_rule_result *r, const char *why) {
  r->outcome = MS_RULE_SKIP;
  snprintf(r->reason, sizeof r->reason, "%s", why);
}

static int kind_used(const ms_cell *c, int k) {
  for (int i = 0; i < c->natoms; ++i)
    if (c->kind[i] == k) return 1;
  return 0;
}

static void check_charge(const rule *ru, const ms_cell *c, ms_rule_result *r) {
  (void)ru;
  int known = 1;
  double q = ms_cell_net_charge(c, &known);
  r->value = q;
  char name[24];
  if (!known) {
    for (int k = 0; k < c->nkinds; ++k)
      if (!c->species[k].has_ox && kind_used(c, k)) {
        fail(r, "%s has no oxidation state", ms_species_format(&c->species[k], name, sizeof name));
        return;
      }
  }
  if (fabs(q) > 1e-6) fail(r, "net charge %+g e", q);
}

static void check_en(const rule *ru, const ms_cell *c, ms_rule_result *r) {
  (void)ru;
  double xmax_cat = -INFINITY, xmin_an = INFINITY;
  int icat = -1, ian = -1;
  char a[24], b[24];
  for (int k = 0; k < c->nkinds; ++k) {
    if (!kind_used(c, k)) continue;
    const ms_species *sp = &c->species[k];
    if (!sp->has_ox) {
      fail(r, "%s has no oxidation state", ms_species_format(sp, a, sizeof a));
      return;
    }
    if (sp->ox == 0) continue;
    const ms_element *el = ms_element_by_z(sp->Z);
    if (!el || isnan(el->electronegativity)) {
      fail(r, "no Pauling electronegativity for %s", ms_species_format(sp, a, sizeof a));
      return;
    }
    double x = el->electronegativity;
    if (sp->ox > 0 && x > xmax_cat) xmax_cat = x, icat = k;
    if (sp->ox < 0 && x < xmin_an) xmin_an = x, ian = k;
  }
  if (icat < 0 || ian < 0) {
    skip(r, "needs both cations and anions");
    return;
  }
  r->value = xmin_an - xmax_cat;
  if (xmin_an <= xmax_cat)
    fail(r, "anion %s (X = %.2f) is not more electronegative than cation %s (X = %.2f)",
         ms_species_format(&c->species[ian], a, sizeof a), xmin_an,
         ms_species_format(&c->species[icat], b, sizeof b), xmax_cat);
}

static void check_abx3(const rule *ru, const ms_cell *c, ms_rule_result *r) {
  ms_species A, B, X;
  if (!ms_abx3_roles(c, &A, &B, &X)) {
    skip(r, "not an ABX3 composition of ions");
    return;
  }
  char a[24], b[24], x[24];
  ms_species_format(&A, a, sizeof a);
  ms_species_format(&B, b, sizeof b);
  ms_species_format(&X, x, sizeof x);
  double v;
  ms_err e =
      ru->kind == R_TOLERANCE ? ms_tolerance_factor(&A, &B, &X, &v) : ms_bartel_tau(&A, &B, &X, &v);
  if (e) {
    fail(r, "%s", ms_err_message());
    ms_err_clear();
    return;
  }
  r->value = v;
  if (ru->kind == R_TOLERANCE) {
    if (v < ru->p[0] || v > ru->p[1])
      fail(r, "t = %.4f outside [%g, %g] (A=%s, B=%s, X=%s)", v, ru->p[0], ru->p[1], a, b, x);
  } else if (!(v < ru->p[0])) {
    fail(r, "tau = %.4f >= %g (A=%s, B=%s, X=%s)", v, ru->p[0], a, b, x);
  }
}

/* Coordination of site i by anions: anions within shell x the nearest anion distance. */
typedef struct {
  const ms_cell *c;
  int i;
  double d[512];
  int n;
} shell_ctx;

static int collect_anion(int i, int j, const double d[3], double r, void *p) {
  (void)d;
  shell_ctx *s = p;
  int other = i == s->i ? j : j == s->i ? i : -1;
  if (other < 0 || (i == j)) return 0;
  if (!(s->c->species[s->c->kind[other]].ox < 0)) return 0;
  if (s->n < 512) s->d[s->n++] = r;
  return 0;
}

static void check_radius_ratio(const rule *ru, const ms_cell *c, ms_rule_result *r) {
  double tol = ru->p[0], shell = ru->p[1];
  double rmin_an = INFINITY, ran = 0;
  char a[24], b[24];
  for (int k = 0; k < c->nkinds; ++k) {
    if (!kind_used(c, k) || !c->species[k].has_ox || c->species[k].ox >= 0) continue;
    double rr;
    if (ms__ion_radius(&c->species[k], 6, &rr)) {
      fail(r, "%s", ms_err_message());
      ms_err_clear();
      return;
    }
    if (rr < rmin_an) rmin_an = rr;
    ran = rmin_an;
  }
  if (ran <= 0) {
    skip(r, "no anions");
    return;
  }
  double worst = INFINITY;
  for (int i = 0; i < c->natoms; ++i) {
    const ms_species *sp = &c->species[c->kind[i]];
    if (!sp->has_ox || sp->ox <= 0) continue;
    /* Anion distances from site i up to a generous radius, then the shell. */
    shell_ctx s = {c, i, {0}, 0};
    ms_cell_foreach_pair(c, 6.0, collect_anion, &s);
    if (s.n == 0) continue;
    double dmin = INFINITY;
    for (int k = 0; k < s.n; ++k) dmin = fmin(dmin, s.d[k]);
    int cn = 0;
    for (int k = 0; k < s.n; ++k) cn += s.d[k] <= shell * dmin;
    double rc;
    if (ms__ion_radius(sp, cn, &rc)) {
      fail(r, "%s", ms_err_message());
      ms_err_clear();
      return;
    }
    double ratio = rc / ran, lim = ms_radius_ratio_limit(cn);
    double score = lim > 0 ? ratio / lim : INFINITY;
    if (score < worst) worst = score, r->value = ratio;
    if (ratio < lim * (1 - tol)) {
      fail(r, "site %d %s: r+/r- = %.3f below %.3f for CN %d (tolerance %g)", i + 1,
           ms_species_format(sp, a, sizeof a), ratio, lim, cn, tol);
      return;
    }
    if (ru->flag && ratio > next_limit(cn) * (1 + tol)) {
      fail(r, "site %d %s: r+/r- = %.3f above %.3f, the limit of a higher CN than %d", i + 1,
           ms_species_format(sp, b, sizeof b), ratio, next_limit(cn), cn);
      return;
    }
  }
}

typedef struct {
  const ms_cell *c;
  double dmin[MS_CELL_MAX_KINDS][MS_CELL_MAX_KINDS];
  double worst;
  int wi, wj;
  double wd;
} md_ctx;

static int md_pair(int i, int j, const double d[3], double r, void *p) {
  (void)d;
  md_ctx *m = p;
  double lim = m->dmin[m->c->kind[i]][m->c->kind[j]];
  if (lim > 0 && r / lim < m->worst) {
    m->worst = r / lim;
    m->wi = i;
    m->wj = j;
    m->wd = r;
  }
  return 0;
}

static void check_min_distance(const rule *ru, const ms_cell *c, ms_rule_result *r) {
  md_ctx m;
  memset(&m, 0, sizeof m);
  m.c = c;
  m.worst = INFINITY;
  double radius[MS_CELL_MAX_KINDS], ranion = 0, xan = -1, dmax = 0;
  for (int k = 0; k < c->nkinds; ++k) {
    radius[k] = 0;
    if (!kind_used(c, k)) continue;
    if (ms__species_radius(&c->species[k], 6, &radius[k])) {
      fail(r, "%s", ms_err_message());
      ms_err_clear();
      return;
    }
    if (c->species[k].ox < 0) {
      const ms_element *el = ms_element_by_z(c->species[k].Z);
      double x = el && !isnan(el->electronegativity) ? el->electronegativity : 0;
      if (x > xan) xan = x, ranion = radius[k];
    }
  }
  for (int a = 0; a < c->nkinds; ++a)
    for (int b = 0; b < c->nkinds; ++b) {
      m.dmin[a][b] = ms__pair_min_separation(&c->species[a], radius[a], &c->species[b], radius[b],
                                             ranion, ru->p[0]);
      dmax = fmax(dmax, m.dmin[a][b]);
    }
  ms_cell_foreach_pair(c, dmax, md_pair, &m);
  r->value = isfinite(m.worst) ? m.worst : NAN;
  char a[24], b[24];
  if (m.worst < 1)
    fail(r, "sites %d (%s) and %d (%s) are %.3f Å apart, below %.3f Å", m.wi + 1,
         ms_species_format(&c->species[c->kind[m.wi]], a, sizeof a), m.wj + 1,
         ms_species_format(&c->species[c->kind[m.wj]], b, sizeof b), m.wd,
         m.dmin[c->kind[m.wi]][c->kind[m.wj]]);
}

static void check_elements(const rule *ru, const ms_cell *c, ms_rule_result *r) {
  for (int k = 0; k < c->nkinds; ++k) {
    if (!kind_used(c, k)) continue;
    int Z = c->species[k].Z;
    const ms_element *el = ms_element_by_z(Z);
    const char *sym = el ? el->symbol : "?";
    if (ru->forbidden[Z]) {
      fail(r, "%s is forbidden", sym);
      return;
    }
    if (ru->has_allowed && !ru->allowed[Z]) {
      fail(r, "%s is not in the allowed elements", sym);
      return;
    }
  }
}

ms_err ms_prefilter_check(const ms_prefilter *f, const ms_cell *c, ms_prefilter_result *res) {
  MS_CHECK(f && c && res, MS_ERR_ARG, "ms_prefilter_check: NULL argument");
  memset(res, 0, sizeof *res);
  res->pass = 1;
  res->first_failed = -1;
  res->nrules = f->n;
  for (int k = 0; k < f->n; ++k) {
    const rule *ru = &f->r[k];
    ms_rule_result *r = &res->rules[k];
    r->rule = ru->name;
    r->outcome = MS_RULE_PASS;
    r->value = NAN;
    switch (ru->kind) {
      case R_CHARGE:
        check_charge(ru, c, r);
        break;
      case R_EN_ORDER:
        check_en(ru, c, r);
        break;
      case R_TOLERANCE:
      case R_TAU:
        check_abx3(ru, c, r);
        break;
      case R_RADIUS_RATIO:
        check_radius_ratio(ru, c, r);
        break;
      case R_MIN_DISTANCE:
        check_min_distance(ru, c, r);
        break;
      case R_ELEMENTS:
        check_elements(ru, c, r);
        break;
    }
    if (r->outcome == MS_RULE_FAIL && res->pass) {
      res->pass = 0;
      res->first_failed = k;
    }
  }
  return MS_SUCCESS;
}

/* ---- configuration ----------------------------------------------------------------------- */

/* `true`/`false` for a rule node: *on = 1/0, *is_bool = 1. */
static ms_err bool_node(ms_ynode *n, const char *path, int *on, int *is_bool) {
  *is_bool = 0;
  if (n->type != MS_YSCALAR || n->quoted) return MS_SUCCESS;
  if (strcmp(n->value, "true") == 0 || strcmp(n->value, "false") == 0) {
    MS_CALL(ms_ynode_bool(n, path, on));
    *is_bool = 1;
  }
  return MS_SUCCESS;
}

static ms_err element_list(ms_ynode *n, const char *path, unsigned char *set) {
  MS_CALL(ms_ynode_expect(n, MS_YSEQ, path));
  for (int k = 0; k < n->n; ++k) {
    const char *t;
    MS_CALL(ms_ynode_string(n->items[k], path, &t));
    const ms_element *el = ms_element_by_symbol(t);
    if (!el) return ms_ynode_error(n->items[k], path, "unknown element '%s'", t);
    set[el->Z] = 1;
  }
  return MS_SUCCESS;
}

static ms_err parse_rule(rule *ru, ms_ynode *n, const char *path, int *on) {
  int is_bool = 0;
  *on = 1;
  MS_CALL(bool_node(n, path, on, &is_bool));
  switch (ru->kind) {
    case R_CHARGE:
    case R_EN_ORDER:
      if (!is_bool) return ms_ynode_error(n, path, "must be true or false");
      break;
    case R_TOLERANCE:
      ru->p[0] = 0.825;
      ru->p[1] = 1.059;
      if (!is_bool) {
        if (n->type == MS_YMAP) {
          static const char *const keys[] = {"min", "max", NULL};
          MS_CALL(ms_ynode_key_double(n, "min", path, 0, 10, &ru->p[0], NULL));
          MS_CALL(ms_ynode_key_double(n, "max", path, 0, 10, &ru->p[1], NULL));
          MS_CALL(ms_ynode_check_unused(n, path, keys));
        } else {
          MS_CALL(ms_ynode_doubles(n, path, ru->p, 2));
        }
        if (!(ru->p[0] >= 0 && ru->p[0] < ru->p[1] && ru->p[1] < 10))
          return ms_ynode_error(n, path, "needs 0 <= min < max < 10, got [%g, %g]", ru->p[0],
                                ru->p[1]);
      }
      break;
    case R_TAU:
      ru->p[0] = 4.18;
      if (!is_bool) {
        if (n->type == MS_YMAP) {
          static const char *const keys[] = {"max", NULL};
          MS_CALL(ms_ynode_key_double(n, "max", path, -100, 100, &ru->p[0], NULL));
          MS_CALL(ms_ynode_check_unused(n, path, keys));
        } else {
          MS_CALL(ms_ynode_double(n, path, &ru->p[0]));
        }
      }
      break;
    case R_RADIUS_RATIO:
      ru->p[0] = 0.2;
      ru->p[1] = 1.25;
      if (!is_bool) {
        static const char *const keys[] = {"tolerance", "upper", "shell", NULL};
        MS_CALL(ms_ynode_expect(n, MS_YMAP, path));
        MS_CALL(ms_ynode_key_double(n, "tolerance", path, 0, 0.99, &ru->p[0], NULL));
        MS_CALL(ms_ynode_key_double(n, "shell", path, 1.0, 2.0, &ru->p[1], NULL));
        ms_ynode *u = ms_ynode_get(n, "upper");
        if (u) {
          char sub[224];
          snprintf(sub, sizeof sub, "%s.upper", path);
          MS_CALL(ms_ynode_bool(u, sub, &ru->flag));
        }
        MS_CALL(ms_ynode_check_unused(n, path, keys));
      }
      break;
    case R_MIN_DISTANCE:
      ru->p[0] = 0.7;
      if (!is_bool) {
        static const char *const keys[] = {"factor", NULL};
        MS_CALL(ms_ynode_expect(n, MS_YMAP, path));
        MS_CALL(ms_ynode_key_double(n, "factor", path, 0.05, 2.0, &ru->p[0], NULL));
        MS_CALL(ms_ynode_check_unused(n, path, keys));
      }
      break;
    case R_ELEMENTS: {
      if (is_bool) return ms_ynode_error(n, path, "must be {allowed: [..], forbidden: [..]}");
      static const char *const keys[] = {"allowed", "forbidden", NULL};
      MS_CALL(ms_ynode_expect(n, MS_YMAP, path));
      char sub[224];
      ms_ynode *a = ms_ynode_get(n, "allowed"), *f = ms_ynode_get(n, "forbidden");
      if (!a && !f) return ms_ynode_error(n, path, "give allowed and/or forbidden elements");
      if (a) {
        snprintf(sub, sizeof sub, "%s.allowed", path);
        MS_CALL(element_list(a, sub, ru->allowed));
        ru->has_allowed = 1;
      }
      if (f) {
        snprintf(sub, sizeof sub, "%s.forbidden", path);
        MS_CALL(element_list(f, sub, ru->forbidden));
      }
      MS_CALL(ms_ynode_check_unused(n, path, keys));
      break;
    }
  }
  return MS_SUCCESS;
}

ms_err ms_prefilter_create(ms_ynode *rules, const char *path, ms_prefilter **out) {
  *out = NULL;
  MS_CALL(ms_ynode_expect(rules, MS_YMAP, path));
  ms_prefilter *f = calloc(1, sizeof *f);
  MS_CHECK(f, MS_ERR_MEM, "out of memory");
  for (int k = 0; k < rules->n; ++k) {
    const char *key = rules->keys[k]->value;
    char sub[192];
    snprintf(sub, sizeof sub, "%s.%s", path, key);
    int kind = -1;
    for (int j = 0; rule_names[j]; ++j)
      if (strcmp(rule_names[j], key) == 0) kind = j;
    if (kind < 0) {
      const char *hint = ms_suggest(key, rule_names);
      char list[256] = "";
      size_t used = 0;
      for (int j = 0; rule_names[j]; ++j) {
        int w = snprintf(list + used, sizeof list - used, "%s%s", j ? ", " : "", rule_names[j]);
        if (w > 0 && (size_t)w < sizeof list - used) used += (size_t)w;
      }
      ms_prefilter_free(&f);
      return ms_ynode_error(rules->keys[k], sub, "unknown rule%s%s%s; rules: %s",
                            hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "",
                            list);
    }
    rules->used[k] = 1;
    rule ru;
    memset(&ru, 0, sizeof ru);
    ru.kind = (rule_kind)kind;
    ru.name = rule_names[kind];
    for (int j = 0; j < f->n; ++j)
      if (f->r[j].kind == ru.kind) {
        ms_prefilter_free(&f);
        return ms_ynode_error(rules->keys[k], sub, "rule given twice");
      }
    int on = 1;
    ms_err e = parse_rule(&ru, rules->items[k], sub, &on);
    if (e) {
      ms_prefilter_free(&f);
      return ms__err_push(e, __FILE__, __LINE__, __func__);
    }
    if (on) f->r[f->n++] = ru;
  }
  *out = f;
  return MS_SUCCESS;
}
