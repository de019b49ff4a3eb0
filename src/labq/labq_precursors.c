/* Lab queue: suggested precursors from a hull decomposition.
 *
 * The phases a candidate would decompose into are, read backwards, the natural solid-state
 * precursors: "0.4 SrO + 0.6 TiO2" for SrTiO3 says that SrO and TiO2 in those atom fractions
 * have the target's composition. A lab doses moles, not atom fractions, so each precursor also
 * gets mol_per_mol_target = x_i * N(target) / N(precursor), with N the atoms per formula unit
 * (0.4 * 5 / 2 = 1 mol SrO per mol SrTiO3). The run writes fractions with 4 significant digits,
 * so the molar amounts are rounded to 4 significant digits as well. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "labq_impl.h"
#include "matscreen/hull.h"
#include "matscreen/species.h"

typedef struct {
  double fraction;
  long long candidate_id; /* -1 for a reference compound */
  char formula[64];
} term;

static double round4(double v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.4g", v);
  return strtod(buf, NULL);
}

/* One "FRACTION NAME" or "FRACTION id:N FORMULA" term of @p len bytes at @p s. */
static ms_err parse_term(const char *text, const char *s, size_t len, term *t) {
  char buf[128];
  while (len && isspace((unsigned char)*s)) ++s, --len;
  while (len && isspace((unsigned char)s[len - 1])) --len;
  MS_CHECK(len > 0 && len < sizeof buf, MS_ERR_INPUT, "decomposition '%s': empty or overlong term", text);
  memcpy(buf, s, len);
  buf[len] = '\0';
  char *end = NULL;
  errno = 0;
  t->fraction = strtod(buf, &end);
  MS_CHECK(end != buf && errno == 0 && isfinite(t->fraction) && t->fraction > 0 && t->fraction <= 1 + 1e-6 &&
               isspace((unsigned char)*end),
           MS_ERR_INPUT, "decomposition '%s': '%s' does not start with an atom fraction in (0, 1]", text, buf);
  char *name = end;
  while (isspace((unsigned char)*name)) ++name;
  t->candidate_id = -1;
  if (strncmp(name, "id:", 3) == 0) {
    errno = 0;
    t->candidate_id = strtoll(name + 3, &end, 10);
    MS_CHECK(end != name + 3 && errno == 0 && t->candidate_id >= 0 && isspace((unsigned char)*end),
             MS_ERR_INPUT, "decomposition '%s': bad candidate reference in '%s'", text, buf);
    name = end;
    while (isspace((unsigned char)*name)) ++name;
  }
  MS_CHECK(*name && strlen(name) < sizeof t->formula && !strpbrk(name, " \t"), MS_ERR_INPUT,
           "decomposition '%s': '%s' does not end with one formula", text, buf);
  snprintf(t->formula, sizeof t->formula, "%s", name);
  return MS_SUCCESS;
}

static ms_err write_terms(FILE *fp, const term *t, int n, double target_atoms) {
  fputc('[', fp);
  for (int k = 0; k < n; ++k) {
    ms_composition c;
    MS_CALL(ms_composition_parse(t[k].formula, &c));
    double atoms = ms_composition_natoms(&c);
    fputs(k ? ", {\"formula\": " : "{\"formula\": ", fp);
    ms_json_fput_str(fp, t[k].formula);
    fputs(", \"fraction\": ", fp);
    ms_json_fput_num(fp, t[k].fraction);
    fputs(", \"mol_per_mol_target\": ", fp);
    ms_json_fput_num(fp, target_atoms > 0 && atoms > 0 ? round4(t[k].fraction * target_atoms / atoms) : NAN);
    if (t[k].candidate_id >= 0) fprintf(fp, ", \"candidate_id\": %lld", t[k].candidate_id);
    fputc('}', fp);
  }
  fputc(']', fp);
  return MS_SUCCESS;
}

/* ---- end-member binaries ---------------------------------------------------------------------- */

static long long gcd_ll(long long a, long long b) { return b ? gcd_ll(b, a % b) : a; }

/* Exact numbers for JSON: at most 12 significant digits, which is exact for the ratios of small
 * integers here and drops the last-bit noise of the division. */
static double tidy(double v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.12g", v);
  return strtod(buf, NULL);
}

/* The JSON list [{"formula", "fraction", "mol_per_mol_target"}, ...] of @p n precursors. */
static ms_err write_list(int n, char (*formula)[64], const double *fraction, const double *mol, char **json) {
  char *buf = NULL;
  size_t size = 0;
  FILE *fp = open_memstream(&buf, &size);
  MS_CHECK(fp, MS_ERR_MEM, "out of memory");
  fputc('[', fp);
  for (int q = 0; q < n; ++q) {
    fputs(q ? ", {\"formula\": " : "{\"formula\": ", fp);
    ms_json_fput_str(fp, formula[q]);
    fputs(", \"fraction\": ", fp);
    ms_json_fput_num(fp, tidy(fraction[q]));
    fputs(", \"mol_per_mol_target\": ", fp);
    ms_json_fput_num(fp, tidy(mol[q]));
    fputc('}', fp);
  }
  fputc(']', fp);
  if (fclose(fp) != 0) {
    free(buf);
    MS_FAIL(MS_ERR_MEM, "out of memory");
  }
  *json = buf;
  return MS_SUCCESS;
}

ms_err ms_labq_binary_precursors_json(const ms_cell *c, char **json) {
  MS_CHECK(c && json, MS_ERR_ARG, "ms_labq_binary_precursors_json: NULL argument");
  *json = NULL;
  /* ions and their counts */
  ms_species ion[MS_CELL_MAX_KINDS];
  long long count[MS_CELL_MAX_KINDS] = {0};
  int n = 0, anion = -1;
  for (int i = 0; i < c->natoms; ++i) {
    const ms_species *sp = &c->species[c->kind[i]];
    MS_CHECK(sp->has_ox && sp->ox != 0 && sp->ox == (double)(long long)sp->ox, MS_ERR_INPUT,
             "precursors: every ion needs an integer oxidation state");
    int k = 0;
    while (k < n && !ms_species_equal(&ion[k], sp)) ++k;
    if (k == n) ion[n++] = *sp;
    count[k]++;
  }
  for (int k = 0; k < n; ++k)
    if (ion[k].ox < 0) {
      MS_CHECK(anion < 0, MS_ERR_INPUT, "precursors: end-member binaries need a single anion");
      anion = k;
    }
  MS_CHECK(anion >= 0 && n >= 2, MS_ERR_INPUT, "precursors: no cation-anion compound");
  long long qa = (long long)-ion[anion].ox, charge = -qa * count[anion], units = 0;
  for (int k = 0; k < n; ++k) {
    units = gcd_ll(units, count[k]);
    if (k != anion) charge += (long long)ion[k].ox * count[k];
  }
  MS_CHECK(charge == 0, MS_ERR_INPUT, "precursors: the charges of the ions do not balance");
  /* cations by atomic number, then charge */
  int order[MS_CELL_MAX_KINDS], m = 0;
  for (int k = 0; k < n; ++k)
    if (k != anion) order[m++] = k;
  for (int a = 1; a < m; ++a)
    for (int b = a; b > 0 && (ion[order[b]].Z < ion[order[b - 1]].Z ||
                              (ion[order[b]].Z == ion[order[b - 1]].Z && ion[order[b]].ox < ion[order[b - 1]].ox));
         --b) {
      int t = order[b];
      order[b] = order[b - 1];
      order[b - 1] = t;
    }
  char formula[MS_CELL_MAX_KINDS][64];
  double fraction[MS_CELL_MAX_KINDS], mol[MS_CELL_MAX_KINDS];
  for (int q = 0; q < m; ++q) {
    const ms_species *cat = &ion[order[q]];
    long long qc = (long long)cat->ox, g = gcd_ll(qc, qa), a = qa / g, x = qc / g;
    const ms_element *ec = ms_element_by_z(cat->Z), *ea = ms_element_by_z(ion[anion].Z);
    char na[24] = "", nx[24] = "";
    if (a > 1) snprintf(na, sizeof na, "%lld", a);
    if (x > 1) snprintf(nx, sizeof nx, "%lld", x);
    snprintf(formula[q], sizeof formula[q], "%s%s%s%s", ec ? ec->symbol : "X", na, ea ? ea->symbol : "X", nx);
    /* count/units cations per formula unit of the target, a of them per unit of the binary */
    mol[q] = (double)(count[order[q]] / units) / (double)a;
    fraction[q] = (double)count[order[q]] * (double)(a + x) / (double)a / (double)c->natoms;
  }
  return write_list(m, formula, fraction, mol, json);
}

ms_err ms_labq_element_precursors_json(const ms_cell *c, char **json) {
  MS_CHECK(c && json, MS_ERR_ARG, "ms_labq_element_precursors_json: NULL argument");
  *json = NULL;
  int z[MS_CELL_MAX_KINDS], n = 0;
  long long count[MS_CELL_MAX_KINDS] = {0}, units = 0;
  for (int i = 0; i < c->natoms; ++i) {
    const ms_species *sp = &c->species[c->kind[i]];
    MS_CHECK(!sp->has_ox, MS_ERR_INPUT, "precursors: elemental precursors are for structures of plain elements");
    int k = 0;
    while (k < n && z[k] != sp->Z) ++k;
    if (k == n) z[n++] = sp->Z;
    count[k]++;
  }
  MS_CHECK(n >= 1, MS_ERR_INPUT, "precursors: an empty structure");
  for (int k = 0; k < n; ++k) units = gcd_ll(units, count[k]);
  /* by atomic number */
  for (int a = 1; a < n; ++a)
    for (int b = a; b > 0 && z[b] < z[b - 1]; --b) {
      int tz = z[b];
      z[b] = z[b - 1];
      z[b - 1] = tz;
      long long tc = count[b];
      count[b] = count[b - 1];
      count[b - 1] = tc;
    }
  char formula[MS_CELL_MAX_KINDS][64];
  double fraction[MS_CELL_MAX_KINDS], mol[MS_CELL_MAX_KINDS];
  for (int q = 0; q < n; ++q) {
    const ms_element *el = ms_element_by_z(z[q]);
    snprintf(formula[q], sizeof formula[q], "%s", el ? el->symbol : "X");
    fraction[q] = (double)count[q] / (double)c->natoms;
    mol[q] = (double)(count[q] / units);
  }
  return write_list(n, formula, fraction, mol, json);
}

ms_err ms_labq_precursors_json(const char *decomposition, const char *formula, char **json) {
  MS_CHECK(json, MS_ERR_ARG, "ms_labq_precursors_json: NULL output");
  *json = NULL;
  const char *text = decomposition ? decomposition : "";
  term t[MS_HULL_MAX_COMPONENTS + 1];
  int n = 0;
  const char *p = text;
  while (isspace((unsigned char)*p)) ++p;
  while (*p) {
    const char *plus = strstr(p, " + ");
    size_t len = plus ? (size_t)(plus - p) : strlen(p);
    MS_CHECK(n < (int)(sizeof t / sizeof t[0]), MS_ERR_INPUT, "decomposition '%s': too many phases", text);
    MS_CALL(parse_term(text, p, len, &t[n]));
    ++n;
    p = plus ? plus + 3 : p + len;
  }
  double target_atoms = NAN;
  if (formula && *formula) {
    ms_composition c;
    MS_CALL(ms_composition_parse(formula, &c));
    target_atoms = ms_composition_natoms(&c);
  }
  char *buf = NULL;
  size_t size = 0;
  FILE *fp = open_memstream(&buf, &size);
  MS_CHECK(fp, MS_ERR_MEM, "out of memory");
  ms_err e = write_terms(fp, t, n, target_atoms);
  if (fclose(fp) != 0 && !e) e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  if (e) {
    free(buf);
    return e;
  }
  *json = buf;
  return MS_SUCCESS;
}
