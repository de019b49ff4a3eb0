/* Compositions: formula parsing and formatting, counts from cells, and the one-oxidation-state
 * per-element check used before building a hull from ionic-model energies. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/hull.h"

/* Add @p amount of species @p sp, merging with an equal species already present. */
static ms_err comp_add(ms_composition *c, const ms_species *sp, double amount, const char *text) {
  for (int k = 0; k < c->n; ++k)
    if (ms_species_equal(&c->sp[k], sp)) {
      c->amount[k] += amount;
      return MS_SUCCESS;
    }
  MS_CHECK(c->n < MS_COMPOSITION_MAX, MS_ERR_INPUT, "formula '%s' has more than %d distinct species",
           text, MS_COMPOSITION_MAX);
  c->sp[c->n] = *sp;
  c->amount[c->n] = amount;
  c->n++;
  return MS_SUCCESS;
}

/* Recursive-descent parser over the formula text; depth bounds nested parentheses. */
typedef struct {
  const char *text; /* the whole formula, for messages */
  const char *p;    /* cursor */
} parser;

/* A plain decimal count ("2", "0.5", ".5"); no signs, exponents or hex, which strtod alone
 * would accept. Returns 0 when there is no number at the cursor. */
static int parse_number(parser *ps, double *out) {
  const char *s = ps->p, *q = s;
  while (isdigit((unsigned char)*q)) ++q;
  if (*q == '.' && isdigit((unsigned char)q[1])) {
    ++q;
    while (isdigit((unsigned char)*q)) ++q;
  }
  if (q == s) return 0;
  char tmp[64];
  size_t n = (size_t)(q - s);
  if (n >= sizeof tmp) n = sizeof tmp - 1;
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  *out = strtod(tmp, NULL);
  ps->p = q;
  return 1;
}

static ms_err parse_group(parser *ps, ms_composition *acc, int depth);

static ms_err parse_seq(parser *ps, ms_composition *acc, int depth, char close) {
  int any = 0;
  while (*ps->p && *ps->p != close) {
    MS_CALL(parse_group(ps, acc, depth));
    any = 1;
  }
  MS_CHECK(any, MS_ERR_INPUT, "formula '%s': empty %s at position %d", ps->text,
           close ? "parentheses" : "formula", (int)(ps->p - ps->text) + 1);
  return MS_SUCCESS;
}

static ms_err parse_group(parser *ps, ms_composition *acc, int depth) {
  int pos = (int)(ps->p - ps->text) + 1;
  ms_composition part;
  memset(&part, 0, sizeof part);
  if (*ps->p == '(' || *ps->p == '[') {
    char want = *ps->p == '(' ? ')' : ']';
    MS_CHECK(depth < 8, MS_ERR_INPUT, "formula '%s': parentheses nested too deeply", ps->text);
    ++ps->p;
    MS_CALL(parse_seq(ps, &part, depth + 1, want));
    MS_CHECK(*ps->p == want, MS_ERR_INPUT, "formula '%s': missing '%c' for the bracket at position %d",
             ps->text, want, pos);
    ++ps->p;
  } else if (isupper((unsigned char)*ps->p)) {
    /* The longest symbol the table knows: "Co" before "C" + "o" (which is an error anyway). */
    char sym[4] = {*ps->p, 0, 0, 0};
    const ms_element *el = NULL;
    if (islower((unsigned char)ps->p[1])) {
      sym[1] = ps->p[1];
      el = ms_element_by_symbol(sym);
      if (el) ps->p += 2;
      else sym[1] = 0;
    }
    if (!el) {
      el = ms_element_by_symbol(sym);
      MS_CHECK(el, MS_ERR_INPUT, "formula '%s': unknown element '%.*s' at position %d", ps->text,
               islower((unsigned char)ps->p[1]) ? 2 : 1, ps->p, pos);
      ps->p += 1;
    }
    MS_CHECK(!islower((unsigned char)*ps->p), MS_ERR_INPUT,
             "formula '%s': unknown element '%s%c' at position %d", ps->text, sym, *ps->p, pos);
    ms_species sp = {el->Z, 0, 0.0};
    part.n = 1;
    part.sp[0] = sp;
    part.amount[0] = 1.0;
  } else {
    MS_FAIL(MS_ERR_INPUT, "formula '%s': unexpected '%c' at position %d", ps->text, *ps->p, pos);
  }
  double mult = 1.0;
  if (parse_number(ps, &mult))
    MS_CHECK(mult > 0 && isfinite(mult), MS_ERR_INPUT,
             "formula '%s': count at position %d must be positive", ps->text, pos);
  for (int k = 0; k < part.n; ++k) MS_CALL(comp_add(acc, &part.sp[k], part.amount[k] * mult, ps->text));
  return MS_SUCCESS;
}

ms_err ms_composition_parse(const char *formula, ms_composition *out) {
  MS_CHECK(formula && out, MS_ERR_ARG, "NULL argument");
  MS_CALL(ms_elements_load());
  memset(out, 0, sizeof *out);
  parser ps = {formula, formula};
  MS_CHECK(*formula, MS_ERR_INPUT, "empty formula");
  MS_CALL(parse_seq(&ps, out, 0, '\0'));
  MS_CHECK(*ps.p == '\0', MS_ERR_INPUT, "formula '%s': unexpected '%c' at position %d", formula,
           *ps.p, (int)(ps.p - formula) + 1);
  return MS_SUCCESS;
}

ms_err ms_composition_from_cell(const ms_cell *c, ms_composition *out) {
  MS_CHECK(c && out, MS_ERR_ARG, "NULL argument");
  memset(out, 0, sizeof *out);
  MS_CHECK(c->natoms > 0, MS_ERR_INPUT, "cell has no sites");
  for (int i = 0; i < c->natoms; ++i) {
    MS_CHECK(c->kind[i] >= 0 && c->kind[i] < c->nkinds, MS_ERR_INPUT, "site %d has an invalid kind", i);
    MS_CALL(comp_add(out, &c->species[c->kind[i]], 1.0, c->label));
  }
  return MS_SUCCESS;
}

double ms_composition_natoms(const ms_composition *c) {
  double s = 0;
  for (int k = 0; k < c->n; ++k) s += c->amount[k];
  return s;
}

static double electroneg(int Z) {
  const ms_element *e = ms_element_by_z(Z);
  return e && !isnan(e->electronegativity) ? e->electronegativity : 1e9;
}

ms_err ms_composition_formula(const ms_composition *c, char *buf, size_t len) {
  MS_CHECK(c && buf && len > 0, MS_ERR_ARG, "NULL argument");
  int Z[MS_COMPOSITION_MAX], nz = 0;
  double amt[MS_COMPOSITION_MAX];
  for (int k = 0; k < c->n; ++k) {
    int j = 0;
    while (j < nz && Z[j] != c->sp[k].Z) ++j;
    if (j == nz) {
      Z[nz] = c->sp[k].Z;
      amt[nz++] = 0;
    }
    amt[j] += c->amount[k];
  }
  /* Reduce by the gcd when every amount is an integer (as pymatgen's reduced formula does). */
  int integral = 1;
  long long g = 0;
  for (int j = 0; j < nz; ++j) {
    double r = nearbyint(amt[j]);
    if (fabs(amt[j] - r) > 1e-9 || r < 1 || r > 1e15) {
      integral = 0;
      break;
    }
    long long a = (long long)r, b = g;
    while (b) {
      long long t = a % b;
      a = b;
      b = t;
    }
    g = a;
  }
  if (!integral || g < 1) g = 1;
  /* Electronegativity order, ties by Z: the order ms_cell_formula and pymatgen use. */
  for (int a = 1; a < nz; ++a) {
    int z = Z[a];
    double x = amt[a];
    int b = a - 1;
    while (b >= 0 && (electroneg(Z[b]) > electroneg(z) ||
                      (electroneg(Z[b]) == electroneg(z) && Z[b] > z))) {
      Z[b + 1] = Z[b];
      amt[b + 1] = amt[b];
      --b;
    }
    Z[b + 1] = z;
    amt[b + 1] = x;
  }
  size_t used = 0;
  buf[0] = '\0';
  for (int j = 0; j < nz; ++j) {
    const ms_element *e = ms_element_by_z(Z[j]);
    double n = amt[j] / (double)g;
    char num[32] = "";
    if (fabs(n - 1.0) > 1e-12) {
      if (integral)
        snprintf(num, sizeof num, "%lld", (long long)nearbyint(n));
      else
        snprintf(num, sizeof num, "%.6g", n);
    }
    int w = snprintf(buf + used, len - used, "%s%s", e ? e->symbol : "?", num);
    MS_CHECK(w >= 0 && (size_t)w < len - used, MS_ERR_ARG, "formula buffer too small");
    used += (size_t)w;
  }
  return MS_SUCCESS;
}

ms_err ms_composition_check_oxidation(const ms_composition *comps, size_t n) {
  static const size_t none = (size_t)-1;
  size_t first[MS_MAX_Z + 1];
  double ox[MS_MAX_Z + 1];
  for (int z = 0; z <= MS_MAX_Z; ++z) first[z] = none;
  for (size_t i = 0; i < n; ++i)
    for (int k = 0; k < comps[i].n; ++k) {
      const ms_species *s = &comps[i].sp[k];
      if (!s->has_ox || s->Z < 1 || s->Z > MS_MAX_Z) continue;
      if (first[s->Z] == none) {
        first[s->Z] = i;
        ox[s->Z] = s->ox;
      } else if (fabs(ox[s->Z] - s->ox) > 1e-6) {
        ms_species a = {s->Z, 1, ox[s->Z]};
        char ta[16], tb[16];
        MS_FAIL(MS_ERR_INPUT,
                "%s occurs as %s (entry %zu) and as %s (entry %zu): ionic-model energies of "
                "different oxidation states are not comparable on one hull without correction "
                "energies (see docs/stability.md)",
                ms_element_by_z(s->Z) ? ms_element_by_z(s->Z)->symbol : "?",
                ms_species_format(&a, ta, sizeof ta), first[s->Z], ms_species_format(s, tb, sizeof tb), i);
      }
    }
  return MS_SUCCESS;
}
