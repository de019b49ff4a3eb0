/* Species text: parse and format "Ti4+", "O2-", "Na+", "Fe2.5+", "Ti" and VESTA's "Ti+4".
 *
 * Species labels reach us from CIF type symbols, POSCAR headers, campaign YAML and the command
 * line, so the parser is strict (the whole text must be a species) but accepts both sign
 * placements that real files use: charge-then-sign (pymatgen, CIF) and sign-then-charge
 * (VESTA). A number without a sign ("Ti4") is rejected rather than guessed, because it is
 * usually a CIF site label, not a charge. Element symbols are resolved through the element
 * table, which is loaded on first use. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/species.h"

/* Oxidation states beyond this are not chemistry (the highest known is +9); a bound keeps
 * typos such as "Ti44+" from passing silently. */
#define MAX_ABS_OX 12.0
/* Tolerance for comparing oxidation states: formatting keeps 6 significant digits. */
#define OX_TOL 1e-6

/* Read an unsigned decimal "12" or "2.5" at s[*pos]; returns 0 if there is none. */
static int read_number(const char *s, size_t *pos, double *out) {
  size_t p = *pos, start = p;
  while (isdigit((unsigned char)s[p])) ++p;
  if (p == start) return 0;
  if (s[p] == '.') {
    size_t frac = ++p;
    while (isdigit((unsigned char)s[p])) ++p;
    if (p == frac) return 0; /* "2." is not a number we accept */
  }
  char buf[32];
  size_t n = p - start;
  if (n >= sizeof buf) return 0;
  memcpy(buf, s + start, n);
  buf[n] = '\0';
  *out = strtod(buf, NULL);
  *pos = p;
  return 1;
}

ms_err ms_species_parse(const char *text, ms_species *out) {
  MS_CHECK(text && out, MS_ERR_ARG, "ms_species_parse: NULL argument");
  MS_CHECK(text[0] != '\0', MS_ERR_INPUT,
           "species \"\": empty text, expected an element symbol such as 'Ti' or 'Ti4+'");
  MS_CALL(ms_elements_load());

  size_t p = 0;
  while (isalpha((unsigned char)text[p])) ++p;
  MS_CHECK(p > 0, MS_ERR_INPUT,
           "species \"%s\": expected an element symbol at the start (e.g. 'Ti4+')", text);
  char sym[4];
  MS_CHECK(p < sizeof sym, MS_ERR_INPUT,
           "species \"%s\": '%.*s' is not an element symbol (at most 3 letters)", text, (int)p,
           text);
  memcpy(sym, text, p);
  sym[p] = '\0';
  const ms_element *el = ms_element_by_symbol(sym);
  MS_CHECK(el, MS_ERR_INPUT, "species \"%s\": unknown element symbol '%s'", text, sym);

  ms_species sp = {.Z = el->Z, .has_ox = 0, .ox = 0.0};
  if (text[p] != '\0') {
    double mag = 1.0;
    int sign = 0;
    if (text[p] == '+' || text[p] == '-') {
      /* "Na+", "Cl-" or VESTA's "Ti+4". */
      sign = text[p] == '+' ? 1 : -1;
      ++p;
      if (text[p] != '\0') {
        MS_CHECK(read_number(text, &p, &mag), MS_ERR_INPUT,
                 "species \"%s\": expected a number after the sign, got '%s'", text,
                 text + p);
      }
    } else {
      MS_CHECK(read_number(text, &p, &mag), MS_ERR_INPUT,
               "species \"%s\": expected an oxidation state such as '4+' or '2-' after '%s', "
               "got '%s'",
               text, sym, text + p);
      MS_CHECK(text[p] != '\0', MS_ERR_INPUT,
               "species \"%s\": the oxidation state needs a sign ('%s+' or '%s-')", text, text,
               text);
      MS_CHECK(text[p] == '+' || text[p] == '-', MS_ERR_INPUT,
               "species \"%s\": expected '+' or '-' after the oxidation state, got '%s'", text,
               text + p);
      sign = text[p] == '+' ? 1 : -1;
      ++p;
    }
    MS_CHECK(text[p] == '\0', MS_ERR_INPUT,
             "species \"%s\": unexpected '%s' after the oxidation state", text, text + p);
    MS_CHECK(mag <= MAX_ABS_OX, MS_ERR_INPUT,
             "species \"%s\": oxidation state %g is out of range (|ox| <= %g)", text, mag,
             MAX_ABS_OX);
    sp.has_ox = 1;
    sp.ox = sign * mag;
  }
  *out = sp;
  return MS_SUCCESS;
}

char *ms_species_format(const ms_species *sp, char *buf, size_t len) {
  if (!buf || len == 0) return buf;
  if (!sp) {
    snprintf(buf, len, "(null)");
    return buf;
  }
  const ms_element *el = ms_element_by_z(sp->Z);
  char sym[16];
  /* An unknown Z is a caller bug; print it visibly rather than crash or print nothing. */
  if (el)
    snprintf(sym, sizeof sym, "%s", el->symbol);
  else
    snprintf(sym, sizeof sym, "Z%d?", sp->Z);
  if (!sp->has_ox) {
    snprintf(buf, len, "%s", sym);
    return buf;
  }
  double mag = fabs(sp->ox);
  char sign = sp->ox < 0 ? '-' : '+';
  char num[32] = "";
  if (fabs(mag - 1.0) < OX_TOL)
    num[0] = '\0'; /* "Na+", "Cl-" as chemists write them */
  else if (fabs(mag - nearbyint(mag)) < OX_TOL)
    snprintf(num, sizeof num, "%d", (int)nearbyint(mag));
  else
    snprintf(num, sizeof num, "%.6g", mag);
  snprintf(buf, len, "%s%s%c", sym, num, sign);
  return buf;
}

int ms_species_equal(const ms_species *a, const ms_species *b) {
  if (!a || !b) return 0;
  if (a->Z != b->Z || (a->has_ox != 0) != (b->has_ox != 0)) return 0;
  if (!a->has_ox) return 1;
  return fabs(a->ox - b->ox) < OX_TOL;
}
