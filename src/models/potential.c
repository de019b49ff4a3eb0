/* Potential sets: reading inputs/potentials/NAME.yaml, binding a set to a structure.
 *
 * A potential set is the data of a rigid-ion model: the charge of each covered ion and the
 * short-range pair terms between ions (pair.c has the forms and the kernel). The total energy
 * the "model" layer computes is
 *     E = sum_{i<j, images} [ K q_i q_j / r_ij  (Ewald, ewald.c)  +  sum_terms E_t(r_ij) ],
 * with K = 14.399645478 eV·Å and the charges q from the file's charge model:
 *   formal: q = oxidation state of the ion (bush1994, lewis_catlow1985, coulomb);
 *   table:  q from a per-ion table (pedone2006: 0.6 x formal).
 * Binding matches each species of a structure to a covered ion: exactly (element and
 * oxidation state) when the structure gives an oxidation state, otherwise by element when the
 * set covers exactly one ion of that element. With formal charges the structure's oxidation
 * state and the matched ion's are the same number, so "charges come from the structure's
 * oxidation states" and "from the potential" agree; with a charge table the table wins (the
 * partial charges are part of the fitted model).
 *
 * Guards are computed once at load time per pair of covered ions, because the charges of a
 * covered ion are fixed by the file: the automatic guard radius is the barrier top of the bare
 * pair energy (all terms of the pair, untruncated, plus K q_a q_b / r; pair.c) plus the file's
 * margin (`guard.margin_A`, default 0.1 Å). The overlap distance (`guard.overlap_A`, default
 * 0.3 Å) applies to every pair of sites.
 *
 * File format: see docs/models.md, "Short-range terms and potential library"; the library
 * files in inputs/potentials/ are complete examples. Every key is checked: unknown keys are
 * errors with a did-you-mean suggestion, and every message carries file:line:col.
 *
 * Limits: pair terms only (no three-body terms, no shells: shell-model sets are used
 * rigid-ion, see the file headers for when that is exact). */
#include "matscreen/potential.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/data.h"
#include "matscreen/species.h"
#include "matscreen/yaml.h"

enum { GUARD_AUTO = 0, GUARD_NONE = 1, GUARD_FIXED = 2 };

/* Default recommended Coulomb accuracy (relative; the meaning of ms_ewald_params.accuracy). */
static const double default_accuracy = 1e-8;

typedef struct {
  char label[16];
  ms_species sp;
  double charge;
} pot_species;

typedef struct {
  int a, b;          /* covered-species indices */
  ms_pair_term term;
  int cit;           /* index into the citations */
  int line;
} pot_term;

typedef struct {
  int mode;          /* GUARD_* */
  int given_line;    /* line of the entry that set it (0: default) */
  double r_min, core_eV;
  double barrier_r, barrier_e;
} pot_guard;

struct ms_potential {
  char *name, *description, *source;
  int ncit;
  char **cit_key, **cit_text;
  int ncaveats;
  char **caveats;
  ms_charge_model model;
  int any;
  int nspecies;
  pot_species *species;
  int nterms;
  pot_term *terms;
  pot_guard *guard;  /* nspecies x nspecies, symmetric */
  double accuracy, margin, overlap, max_cutoff;
};

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                              */

static ms_err dupstr(const char *s, char **out) {
  *out = strdup(s ? s : "");
  MS_CHECK(*out, MS_ERR_MEM, "out of memory copying a string");
  return MS_SUCCESS;
}

/* Re-emit the current error message positioned at @p node (parsers of species and pair
 * parameters do not know where their text came from). */
static ms_err reposition(const ms_ynode *node, const char *path) {
  char msg[700];
  snprintf(msg, sizeof msg, "%s", ms_err_message());
  return ms_ynode_error(node, path, "%s", msg);
}

static int find_species(const ms_potential *p, const ms_species *sp) {
  for (int k = 0; k < p->nspecies; ++k)
    if (ms_species_equal(&p->species[k].sp, sp)) return k;
  return -1;
}

static int find_citation(const ms_potential *p, const char *key) {
  for (int k = 0; k < p->ncit; ++k)
    if (strcmp(p->cit_key[k], key) == 0) return k;
  return -1;
}

char *ms_potential_covers(const ms_potential *p, char *buf, size_t len) {
  if (!buf || len == 0) return buf;
  buf[0] = '\0';
  if (p->any) {
    snprintf(buf, len, "any species with an oxidation state");
    return buf;
  }
  size_t used = 0;
  for (int k = 0; k < p->nspecies && used + 1 < len; ++k) {
    int n = snprintf(buf + used, len - used, "%s%s", k ? ", " : "", p->species[k].label);
    if (n < 0) break;
    used += (size_t)n;
  }
  if (used + 1 >= len && len > 4) memcpy(buf + len - 4, "...", 4);
  return buf;
}

void ms_potential_free(ms_potential **pp) {
  if (!pp || !*pp) return;
  ms_potential *p = *pp;
  free(p->name);
  free(p->description);
  free(p->source);
  for (int k = 0; k < p->ncit; ++k) {
    free(p->cit_key[k]);
    free(p->cit_text[k]);
  }
  free(p->cit_key);
  free(p->cit_text);
  for (int k = 0; k < p->ncaveats; ++k) free(p->caveats[k]);
  free(p->caveats);
  free(p->species);
  free(p->terms);
  free(p->guard);
  free(p);
  *pp = NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Parsing                                                                                    */

static const char *const top_keys[] = {"name",    "description", "citations", "caveats", "charges",
                                       "species", "coulomb",     "guard",     "pairs",   NULL};

static ms_err parse_string(ms_ynode *map, const char *key, int required, char **out) {
  ms_ynode *n = ms_ynode_get(map, key);
  if (!n) {
    if (!required) return MS_SUCCESS;
    return ms_ynode_error(map, NULL, "missing required key '%s'", key);
  }
  const char *s;
  MS_CALL(ms_ynode_string(n, key, &s));
  MS_CHECK(s[0] != '\0', MS_ERR_INPUT, "%s:%d:%d: %s: must not be empty", n->file, n->line,
           n->col, key);
  return dupstr(s, out);
}

static ms_err parse_name(ms_potential *p, ms_ynode *root) {
  MS_CALL(parse_string(root, "name", 1, &p->name));
  for (const char *c = p->name; *c; ++c)
    if (!(isalnum((unsigned char)*c) || *c == '_' || *c == '-' || *c == '.')) {
      ms_ynode *n = ms_ynode_get(root, "name");
      return ms_ynode_error(n, "name", "'%s' may contain only letters, digits, '_', '-', '.'",
                            p->name);
    }
  return MS_SUCCESS;
}

static ms_err parse_citations(ms_potential *p, ms_ynode *root) {
  ms_ynode *c = ms_ynode_get(root, "citations");
  if (!c) return ms_ynode_error(root, NULL, "missing required key 'citations' (a mapping "
                                            "from citation key to reference text)");
  MS_CALL(ms_ynode_expect(c, MS_YMAP, "citations"));
  MS_CHECK(c->n > 0, MS_ERR_INPUT, "%s:%d:%d: citations: at least one citation is required",
           c->file, c->line, c->col);
  /* One extra NULL entry: cit_key doubles as the candidate list of ms_suggest(). */
  MS_CALL(MS_CALLOC((size_t)c->n + 1, &p->cit_key));
  MS_CALL(MS_CALLOC((size_t)c->n, &p->cit_text));
  for (int k = 0; k < c->n; ++k) {
    char path[128];
    snprintf(path, sizeof path, "citations.%s", c->keys[k]->value);
    c->used[k] = 1;
    const char *text;
    MS_CALL(ms_ynode_string(c->items[k], path, &text));
    if (text[0] == '\0') return ms_ynode_error(c->items[k], path, "must not be empty");
    MS_CALL(dupstr(c->keys[k]->value, &p->cit_key[p->ncit]));
    MS_CALL(dupstr(text, &p->cit_text[p->ncit]));
    ++p->ncit;
  }
  return MS_SUCCESS;
}

static ms_err parse_caveats(ms_potential *p, ms_ynode *root) {
  ms_ynode *c = ms_ynode_get(root, "caveats");
  if (!c) return MS_SUCCESS;
  MS_CALL(ms_ynode_expect(c, MS_YSEQ, "caveats"));
  if (c->n == 0) return MS_SUCCESS;
  MS_CALL(MS_CALLOC((size_t)c->n, &p->caveats));
  for (int k = 0; k < c->n; ++k) {
    char path[64];
    snprintf(path, sizeof path, "caveats[%d]", k);
    const char *text;
    MS_CALL(ms_ynode_string(c->items[k], path, &text));
    MS_CALL(dupstr(text, &p->caveats[p->ncaveats]));
    ++p->ncaveats;
  }
  return MS_SUCCESS;
}

/* One ion label ("Sr2+"); the oxidation state is required because it identifies the ion. */
static ms_err parse_ion(const ms_ynode *n, const char *path, pot_species *out) {
  const char *text;
  MS_CALL(ms_ynode_string(n, path, &text));
  if (ms_species_parse(text, &out->sp) != MS_SUCCESS) return reposition(n, path);
  if (!out->sp.has_ox)
    return ms_ynode_error(n, path, "'%s' needs an oxidation state (e.g. 'Sr2+', 'O2-')", text);
  ms_species_format(&out->sp, out->label, sizeof out->label);
  return MS_SUCCESS;
}

static ms_err add_species(ms_potential *p, const ms_ynode *n, const char *path,
                          const pot_species *s) {
  if (find_species(p, &s->sp) >= 0)
    return ms_ynode_error(n, path, "species '%s' listed twice", s->label);
  p->species[p->nspecies++] = *s;
  return MS_SUCCESS;
}

static ms_err parse_charges_species(ms_potential *p, ms_ynode *root) {
  ms_ynode *ch = ms_ynode_get(root, "charges");
  ms_ynode *sp = ms_ynode_get(root, "species");
  if (!ch)
    return ms_ynode_error(root, NULL, "missing required key 'charges' ('formal', or a mapping "
                                      "from species to charge in e)");
  if (ch->type == MS_YSCALAR) {
    if (strcmp(ch->value, "formal") != 0)
      return ms_ynode_error(ch, "charges",
                            "must be 'formal' or a mapping from species to charge, got '%s'",
                            ch->value);
    p->model = MS_CHARGES_FORMAL;
    if (!sp)
      return ms_ynode_error(root, NULL, "missing required key 'species' (a list such as "
                                        "[Sr2+, Ti4+, O2-], or 'any')");
    if (sp->type == MS_YSCALAR && strcmp(sp->value, "any") == 0) {
      p->any = 1;
      return MS_SUCCESS;
    }
    MS_CALL(ms_ynode_expect(sp, MS_YSEQ, "species"));
    MS_CHECK(sp->n > 0, MS_ERR_INPUT, "%s:%d:%d: species: the list is empty", sp->file,
             sp->line, sp->col);
    MS_CALL(MS_CALLOC((size_t)sp->n, &p->species));
    for (int k = 0; k < sp->n; ++k) {
      char path[64];
      snprintf(path, sizeof path, "species[%d]", k);
      pot_species s;
      MS_CALL(parse_ion(sp->items[k], path, &s));
      s.charge = s.sp.ox;
      MS_CALL(add_species(p, sp->items[k], path, &s));
    }
    return MS_SUCCESS;
  }
  MS_CALL(ms_ynode_expect(ch, MS_YMAP, "charges"));
  MS_CHECK(ch->n > 0, MS_ERR_INPUT, "%s:%d:%d: charges: the table is empty", ch->file, ch->line,
           ch->col);
  p->model = MS_CHARGES_TABLE;
  MS_CALL(MS_CALLOC((size_t)ch->n, &p->species));
  for (int k = 0; k < ch->n; ++k) {
    char path[96];
    snprintf(path, sizeof path, "charges.%s", ch->keys[k]->value);
    ch->used[k] = 1;
    pot_species s;
    MS_CALL(parse_ion(ch->keys[k], path, &s));
    MS_CALL(ms_ynode_double(ch->items[k], path, &s.charge));
    if (fabs(s.charge) > 12.0)
      return ms_ynode_error(ch->items[k], path, "charge must be within +-12 e, got %g",
                            s.charge);
    MS_CALL(add_species(p, ch->keys[k], path, &s));
  }
  /* An explicit species list next to a table must name the same ions. */
  if (sp) {
    MS_CALL(ms_ynode_expect(sp, MS_YSEQ, "species"));
    for (int k = 0; k < sp->n; ++k) {
      char path[64];
      snprintf(path, sizeof path, "species[%d]", k);
      pot_species s;
      MS_CALL(parse_ion(sp->items[k], path, &s));
      if (find_species(p, &s.sp) < 0)
        return ms_ynode_error(sp->items[k], path, "'%s' has no entry in the charges table",
                              s.label);
    }
    if (sp->n != p->nspecies)
      return ms_ynode_error(sp, "species", "lists %d species but the charges table has %d",
                            sp->n, p->nspecies);
  }
  return MS_SUCCESS;
}

static ms_err parse_number_in(ms_ynode *map, const char *key, const char *path, double lo,
                              double hi, double *out) {
  ms_ynode *n = ms_ynode_get(map, key);
  if (!n) return MS_SUCCESS;
  MS_CALL(ms_ynode_double(n, path, out));
  if (!(*out >= lo && *out <= hi))
    return ms_ynode_error(n, path, "must be in [%g, %g], got %g", lo, hi, *out);
  return MS_SUCCESS;
}

static ms_err parse_settings(ms_potential *p, ms_ynode *root) {
  p->accuracy = default_accuracy;
  p->margin = MS_PAIR_GUARD_MARGIN_A;
  p->overlap = MS_PAIR_OVERLAP_A;
  ms_ynode *c = ms_ynode_get(root, "coulomb");
  if (c) {
    static const char *const keys[] = {"accuracy", NULL};
    MS_CALL(ms_ynode_expect(c, MS_YMAP, "coulomb"));
    MS_CALL(parse_number_in(c, "accuracy", "coulomb.accuracy", 1e-15, 1e-2, &p->accuracy));
    MS_CALL(ms_ynode_check_unused(c, "coulomb", keys));
  }
  ms_ynode *g = ms_ynode_get(root, "guard");
  if (g) {
    static const char *const keys[] = {"margin_A", "overlap_A", NULL};
    MS_CALL(ms_ynode_expect(g, MS_YMAP, "guard"));
    MS_CALL(parse_number_in(g, "margin_A", "guard.margin_A", 0.0, 2.0, &p->margin));
    MS_CALL(parse_number_in(g, "overlap_A", "guard.overlap_A", 0.0, 1.5, &p->overlap));
    MS_CALL(ms_ynode_check_unused(g, "guard", keys));
  }
  return MS_SUCCESS;
}

/* `guard:` of one pair entry: "auto", "none", or {r_min_A: X | auto, core_eV: E}. */
static ms_err parse_pair_guard(ms_potential *p, ms_ynode *gn, const char *path, int a, int b) {
  pot_guard *g = &p->guard[a * p->nspecies + b];
  if (g->given_line)
    return ms_ynode_error(gn, path, "guard for %s-%s already given at line %d",
                          p->species[a].label, p->species[b].label, g->given_line);
  pot_guard ng = {GUARD_AUTO, gn->line, 0.0, 0.0, 0.0, 0.0};
  if (gn->type == MS_YSCALAR) {
    if (strcmp(gn->value, "auto") == 0) ng.mode = GUARD_AUTO;
    else if (strcmp(gn->value, "none") == 0) ng.mode = GUARD_NONE;
    else
      return ms_ynode_error(gn, path,
                            "must be 'auto', 'none' or a mapping {r_min_A: ..., core_eV: ...}, "
                            "got '%s'",
                            gn->value);
  } else {
    static const char *const keys[] = {"r_min_A", "core_eV", NULL};
    MS_CALL(ms_ynode_expect(gn, MS_YMAP, path));
    char sub[160];
    ms_ynode *r = ms_ynode_get(gn, "r_min_A");
    snprintf(sub, sizeof sub, "%.140s.r_min_A", path);
    if (r && !(r->type == MS_YSCALAR && strcmp(r->value, "auto") == 0)) {
      MS_CALL(ms_ynode_double(r, sub, &ng.r_min));
      if (!(ng.r_min > 0.0 && ng.r_min <= 10.0))
        return ms_ynode_error(r, sub, "must be in (0, 10] Å, got %g", ng.r_min);
      ng.mode = GUARD_FIXED;
    }
    snprintf(sub, sizeof sub, "%.140s.core_eV", path);
    MS_CALL(parse_number_in(gn, "core_eV", sub, 0.0, 1e4, &ng.core_eV));
    MS_CALL(ms_ynode_check_unused(gn, path, keys));
  }
  *g = ng;
  p->guard[b * p->nspecies + a] = ng;
  return MS_SUCCESS;
}

/* `shift`: none (or false), energy (or true, as before there were three), force; see
 * ms_pair_shift. */
static ms_err parse_shift(ms_ynode *n, const char *path, int *shift) {
  int yes = 0;
  if (ms_ynode_bool(n, path, &yes) == MS_SUCCESS) {
    *shift = yes ? MS_PAIR_SHIFT_ENERGY : MS_PAIR_SHIFT_NONE;
    return MS_SUCCESS;
  }
  ms_err_clear();
  const char *v = NULL;
  MS_CALL(ms_ynode_string(n, path, &v));
  static const struct {
    const char *name;
    int shift;
  } names[] = {{"none", MS_PAIR_SHIFT_NONE}, {"energy", MS_PAIR_SHIFT_ENERGY}, {"force", MS_PAIR_SHIFT_FORCE}};
  for (size_t k = 0; k < sizeof names / sizeof names[0]; ++k)
    if (strcmp(v, names[k].name) == 0) {
      *shift = names[k].shift;
      return MS_SUCCESS;
    }
  return ms_ynode_error(n, path,
                        "must be none (plain truncation, also false), energy (E - E(rc), also true) "
                        "or force (E - E(rc) - (r - rc) E'(rc)), got '%s'",
                        v);
}

static const char *shift_note(int shift) {
  return shift == MS_PAIR_SHIFT_FORCE ? " (shifted force)" : shift == MS_PAIR_SHIFT_ENERGY ? " (shifted energy)" : "";
}

static ms_err parse_pair(ms_potential *p, ms_ynode *e, const char *path) {
  MS_CALL(ms_ynode_expect(e, MS_YMAP, path));
  char sub[160];
  /* Read every key this entry may have first, so an unknown key gets a suggestion before
   * a "missing parameter" error hides it. */
  ms_ynode *sp = ms_ynode_get(e, "species");
  ms_ynode *fo = ms_ynode_get(e, "form");
  ms_ynode *cu = ms_ynode_get(e, "cutoff_A");
  ms_ynode *sh = ms_ynode_get(e, "shift");
  ms_ynode *ci = ms_ynode_get(e, "citation");
  ms_ynode *gu = ms_ynode_get(e, "guard");
  ms_ynode *no = ms_ynode_get(e, "note");
  if (!fo) return ms_ynode_error(e, path, "missing 'form' (one of buckingham, born_mayer, "
                                          "lennard_jones, morse, pedone, inverse_power)");
  snprintf(sub, sizeof sub, "%s.form", path);
  const char *form_name;
  MS_CALL(ms_ynode_string(fo, sub, &form_name));
  ms_pair_form form;
  if (ms_pair_form_lookup(form_name, &form) != MS_SUCCESS) {
    ms_err_clear();
    const char *names[MS_PAIR_NFORMS_ + 1];
    for (int f = 0; f < MS_PAIR_NFORMS_; ++f) names[f] = ms_pair_form_get((ms_pair_form)f)->name;
    names[MS_PAIR_NFORMS_] = NULL;
    const char *hint = ms_suggest(form_name, names);
    if (hint) return ms_ynode_error(fo, sub, "unknown form '%s' (did you mean '%s'?)", form_name, hint);
    return ms_ynode_error(fo, sub, "unknown form '%s' (known: buckingham, born_mayer, "
                                   "lennard_jones, morse, pedone, inverse_power)", form_name);
  }
  const ms_pair_form_info *fi = ms_pair_form_get(form);
  ms_ynode *pn[MS_PAIR_MAX_PARAMS] = {NULL};
  const char *allowed[8 + MS_PAIR_MAX_PARAMS];
  int na = 0;
  static const char *const common[] = {"species", "form", "cutoff_A", "shift", "citation",
                                       "guard", "note", NULL};
  for (int k = 0; common[k]; ++k) allowed[na++] = common[k];
  for (int k = 0; k < fi->nparams; ++k) {
    pn[k] = ms_ynode_get(e, fi->param[k].key);
    allowed[na++] = fi->param[k].key;
  }
  allowed[na] = NULL;
  MS_CALL(ms_ynode_check_unused(e, path, allowed));

  /* species: [A, B], both covered */
  snprintf(sub, sizeof sub, "%s.species", path);
  if (!sp) return ms_ynode_error(e, path, "missing 'species' (a pair such as [Sr2+, O2-])");
  if (sp->type != MS_YSEQ || sp->n != 2)
    return ms_ynode_error(sp, sub, "must be a pair of species such as [Sr2+, O2-]");
  int idx[2];
  for (int k = 0; k < 2; ++k) {
    char s2[180];
    snprintf(s2, sizeof s2, "%s[%d]", sub, k);
    pot_species s;
    MS_CALL(parse_ion(sp->items[k], s2, &s));
    idx[k] = find_species(p, &s.sp);
    if (idx[k] < 0) {
      char cov[512];
      return ms_ynode_error(sp->items[k], s2, "'%s' is not a covered species (species: %s)",
                            s.label, ms_potential_covers(p, cov, sizeof cov));
    }
  }

  /* parameters */
  double par[MS_PAIR_MAX_PARAMS] = {0};
  for (int k = 0; k < fi->nparams; ++k) {
    snprintf(sub, sizeof sub, "%s.%s", path, fi->param[k].key);
    if (!pn[k])
      return ms_ynode_error(e, path, "missing parameter '%s' (%s in %s) of form %s = %s",
                            fi->param[k].key, fi->param[k].name, fi->param[k].unit, fi->name,
                            fi->formula);
    MS_CALL(ms_ynode_double(pn[k], sub, &par[k]));
    if (ms_pair_param_check(form, k, par[k]) != MS_SUCCESS) return reposition(pn[k], sub);
  }
  double cutoff = 0.0;
  snprintf(sub, sizeof sub, "%s.cutoff_A", path);
  if (!cu) return ms_ynode_error(e, path, "missing 'cutoff_A' (short-range cutoff in Å)");
  MS_CALL(ms_ynode_double(cu, sub, &cutoff));
  if (!(cutoff > 0.0 && cutoff <= 100.0))
    return ms_ynode_error(cu, sub, "must be in (0, 100] Å, got %g", cutoff);
  int shift = MS_PAIR_SHIFT_NONE;
  if (sh) {
    snprintf(sub, sizeof sub, "%s.shift", path);
    MS_CALL(parse_shift(sh, sub, &shift));
  }
  pot_term *t = &p->terms[p->nterms];
  memset(t, 0, sizeof *t);
  if (ms_pair_term_set(&t->term, form, par, cutoff, shift) != MS_SUCCESS)
    return reposition(e, path);
  t->a = idx[0];
  t->b = idx[1];
  t->line = e->line;

  /* citation: a key of `citations` */
  snprintf(sub, sizeof sub, "%s.citation", path);
  if (!ci)
    return ms_ynode_error(e, path, "missing 'citation' (every pair term names its source: one "
                                   "of the keys under 'citations')");
  const char *ckey;
  MS_CALL(ms_ynode_string(ci, sub, &ckey));
  t->cit = find_citation(p, ckey);
  if (t->cit < 0) {
    const char *hint = ms_suggest(ckey, (const char *const *)p->cit_key);
    if (hint) return ms_ynode_error(ci, sub, "unknown citation '%s' (did you mean '%s'?)", ckey, hint);
    return ms_ynode_error(ci, sub, "unknown citation '%s' (not a key under 'citations')", ckey);
  }
  if (no) {
    const char *dummy;
    snprintf(sub, sizeof sub, "%s.note", path);
    MS_CALL(ms_ynode_string(no, sub, &dummy));
  }

  /* At most MS_PAIR_MAX_TERMS terms per species pair, and one term per form: a repeated
   * form is almost always a pasted line that would silently double the interaction. */
  int same = 0;
  for (int k = 0; k < p->nterms; ++k)
    if ((p->terms[k].a == t->a && p->terms[k].b == t->b) ||
        (p->terms[k].a == t->b && p->terms[k].b == t->a)) {
      ++same;
      if (p->terms[k].term.form == form)
        return ms_ynode_error(e, path, "second %s term for %s-%s (the first is at line %d)",
                              fi->name, p->species[t->a].label, p->species[t->b].label,
                              p->terms[k].line);
    }
  if (same >= MS_PAIR_MAX_TERMS)
    return ms_ynode_error(e, path, "more than %d terms for %s-%s", MS_PAIR_MAX_TERMS,
                          p->species[t->a].label, p->species[t->b].label);
  if (gu) {
    snprintf(sub, sizeof sub, "%s.guard", path);
    MS_CALL(parse_pair_guard(p, gu, sub, t->a, t->b));
  }
  ++p->nterms;
  if (cutoff > p->max_cutoff) p->max_cutoff = cutoff;
  return MS_SUCCESS;
}

static ms_err parse_pairs(ms_potential *p, ms_ynode *root) {
  ms_ynode *pl = ms_ynode_get(root, "pairs");
  if (p->nspecies > 0) {
    const size_t ns = (size_t)p->nspecies;
    MS_CALL(MS_CALLOC(ns * ns, &p->guard));
  }
  if (!pl || pl->type == MS_YNULL) return MS_SUCCESS;
  MS_CALL(ms_ynode_expect(pl, MS_YSEQ, "pairs"));
  if (pl->n == 0) return MS_SUCCESS;
  if (p->any)
    return ms_ynode_error(pl, "pairs", "pair terms need an explicit species list (got "
                                       "'species: any')");
  MS_CALL(MS_CALLOC((size_t)pl->n, &p->terms));
  for (int k = 0; k < pl->n; ++k) {
    char path[48];
    snprintf(path, sizeof path, "pairs[%d]", k);
    MS_CALL(parse_pair(p, pl->items[k], path));
  }
  return MS_SUCCESS;
}

/* Guards of every covered species pair (see the file comment). */
static ms_err compute_guards(ms_potential *p, const char *source) {
  const int ns = p->nspecies;
  for (int a = 0; a < ns; ++a)
    for (int b = a; b < ns; ++b) {
      pot_guard *g = &p->guard[a * ns + b];
      ms_pair_term terms[MS_PAIR_MAX_TERMS];
      int nt = 0;
      for (int k = 0; k < p->nterms && nt < MS_PAIR_MAX_TERMS; ++k)
        if ((p->terms[k].a == a && p->terms[k].b == b) ||
            (p->terms[k].a == b && p->terms[k].b == a))
          terms[nt++] = p->terms[k].term;
      const double kqq = MS_COULOMB_K * p->species[a].charge * p->species[b].charge;
      int found = 0;
      double rt = 0.0, et = 0.0;
      MS_CALL(ms_pair_barrier(terms, nt, kqq, &rt, &et, &found));
      g->barrier_r = found ? rt : 0.0;
      g->barrier_e = found ? et : 0.0;
      if (g->mode == GUARD_AUTO) g->r_min = found ? rt + p->margin : 0.0;
      else if (g->mode == GUARD_NONE) g->r_min = 0.0;
      MS_CHECK(g->core_eV == 0.0 || g->r_min > 0.0, MS_ERR_INPUT,
               "%s:%d: guard of %s-%s: core_eV needs a guard radius, but the pair has no "
               "barrier; give r_min_A",
               source, g->given_line, p->species[a].label, p->species[b].label);
      p->guard[b * ns + a] = *g;
    }
  return MS_SUCCESS;
}

static ms_err parse_root(ms_potential *p, ms_ynode *root) {
  if (!root || root->type != MS_YMAP)
    return ms_ynode_error(root, NULL, "a potential file must be a mapping with keys name, "
                                      "description, citations, charges, species, pairs");
  for (int k = 0; top_keys[k]; ++k) (void)ms_ynode_get(root, top_keys[k]);
  MS_CALL(ms_ynode_check_unused(root, "", top_keys));
  MS_CALL(parse_name(p, root));
  MS_CALL(parse_string(root, "description", 1, &p->description));
  MS_CALL(parse_citations(p, root));
  MS_CALL(parse_caveats(p, root));
  MS_CALL(parse_charges_species(p, root));
  MS_CALL(parse_settings(p, root));
  MS_CALL(parse_pairs(p, root));
  return MS_SUCCESS;
}

ms_err ms_potential_parse(const char *text, size_t len, const char *source, ms_potential **out) {
  MS_CHECK(text && out, MS_ERR_ARG, "ms_potential_parse: NULL argument");
  *out = NULL;
  MS_CALL(ms_elements_load());
  ms_ydoc *doc = NULL;
  MS_CALL(ms_ydoc_parse(text, len, source ? source : "<potential>", &doc));
  ms_potential *p = NULL;
  ms_err e = MS_CALLOC(1, &p);
  if (e == MS_SUCCESS) e = dupstr(source ? source : "<potential>", &p->source);
  if (e == MS_SUCCESS) e = parse_root(p, ms_ydoc_root(doc));
  if (e == MS_SUCCESS) e = compute_guards(p, p->source);
  ms_ydoc_free(&doc);
  if (e != MS_SUCCESS) {
    ms_potential_free(&p);
    MS_CALL(e);
  }
  *out = p;
  return MS_SUCCESS;
}

/* ------------------------------------------------------------------------------------------ */
/* Loading by name or path                                                                    */

const char *const *ms_potential_builtin_names(int *count) {
  enum { MAXN = 64 };
  static _Thread_local char names[MAXN][64];
  static _Thread_local const char *list[MAXN + 1];
  int n = ms_data_names("potentials", names, MAXN, list);
  if (count) *count = n;
  return list;
}

ms_err ms_potential_load(const char *arg, ms_potential **out) {
  MS_CHECK(arg && out, MS_ERR_ARG, "ms_potential_load: NULL argument");
  MS_CHECK(arg[0] != '\0', MS_ERR_INPUT, "empty potential name");
  *out = NULL;
  char *text = NULL;
  size_t len = 0;
  if (ms_data_is_path(arg)) {
    MS_CALL(ms_read_file(arg, &text, &len));
    const ms_err e = ms_potential_parse(text, len, arg, out);
    free(text);
    MS_CALL(e);
    return MS_SUCCESS;
  }
  int valid = 1;
  for (const char *c = arg; *c; ++c)
    if (!(isalnum((unsigned char)*c) || *c == '_' || *c == '-' || *c == '.')) valid = 0;
  char dname[256];
  snprintf(dname, sizeof dname, "potentials/%s.yaml", arg);
  const char *origin = NULL;
  if (!valid || strlen(arg) > 200 || ms_data_read(dname, &text, &len, &origin) != MS_SUCCESS) {
    ms_err_clear();
    int n = 0;
    const char *const *names = ms_potential_builtin_names(&n);
    char list[512] = "";
    size_t used = 0;
    for (int k = 0; k < n && used + 1 < sizeof list; ++k)
      used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", k ? ", " : "", names[k]);
    const char *hint = ms_suggest(arg, names);
    if (hint)
      MS_FAIL(MS_ERR_INPUT,
              "unknown potential '%s' (did you mean '%s'?); built-in potentials: %s; or give "
              "the path of a potential file",
              arg, hint, list);
    MS_FAIL(MS_ERR_INPUT,
            "unknown potential '%s'; built-in potentials: %s; or give the path of a potential "
            "file",
            arg, list);
  }
  /* Messages point at "potentials/NAME.yaml" for the embedded copy, or at the override. */
  const char *source = (origin && strcmp(origin, "embedded") != 0) ? origin : dname;
  char src[4096];
  snprintf(src, sizeof src, "%s", source);
  ms_err e = ms_potential_parse(text, len, src, out);
  free(text);
  MS_CALL(e);
  if (strcmp((*out)->name, arg) != 0) {
    const char *got = (*out)->name;
    char msg[600];
    snprintf(msg, sizeof msg, "%.300s: declares name '%.100s' but is loaded as '%.100s'", src,
             got, arg);
    ms_potential_free(out);
    MS_FAIL(MS_ERR_INPUT, "%s", msg);
  }
  return MS_SUCCESS;
}

/* ------------------------------------------------------------------------------------------ */
/* Accessors                                                                                  */

const char *ms_potential_name(const ms_potential *p) { return p->name; }
const char *ms_potential_description(const ms_potential *p) { return p->description; }
const char *ms_potential_source(const ms_potential *p) { return p->source; }
ms_charge_model ms_potential_charge_model(const ms_potential *p) { return p->model; }
double ms_potential_coulomb_accuracy(const ms_potential *p) { return p->accuracy; }
double ms_potential_max_cutoff(const ms_potential *p) { return p->max_cutoff; }
int ms_potential_any_species(const ms_potential *p) { return p->any; }
int ms_potential_nspecies(const ms_potential *p) { return p->nspecies; }
int ms_potential_nterms(const ms_potential *p) { return p->nterms; }
int ms_potential_ncitations(const ms_potential *p) { return p->ncit; }

const char *ms_potential_species(const ms_potential *p, int k, ms_species *sp, double *charge) {
  if (k < 0 || k >= p->nspecies) return NULL;
  if (sp) *sp = p->species[k].sp;
  if (charge) *charge = p->species[k].charge;
  return p->species[k].label;
}

const char *ms_potential_citation(const ms_potential *p, int k, const char **key) {
  if (k < 0 || k >= p->ncit) return NULL;
  if (key) *key = p->cit_key[k];
  return p->cit_text[k];
}

ms_err ms_potential_term(const ms_potential *p, int k, ms_potential_term_info *info) {
  MS_CHECK(p && info, MS_ERR_ARG, "ms_potential_term: NULL argument");
  MS_CHECK(k >= 0 && k < p->nterms, MS_ERR_ARG, "term %d out of range 0..%d", k, p->nterms - 1);
  const pot_term *t = &p->terms[k];
  const pot_guard *g = &p->guard[t->a * p->nspecies + t->b];
  info->species[0] = p->species[t->a].label;
  info->species[1] = p->species[t->b].label;
  info->term = &t->term;
  info->citation = p->cit_text[t->cit];
  info->citation_key = p->cit_key[t->cit];
  info->line = t->line;
  info->guard_r = g->r_min;
  info->barrier_r = g->barrier_r;
  info->barrier_e = g->barrier_e;
  info->core_eV = g->core_eV;
  return MS_SUCCESS;
}

ms_err ms_potential_guard(const ms_potential *p, const char *a, const char *b, double *r_min,
                          double *barrier_r, double *core_eV) {
  MS_CHECK(p && a && b, MS_ERR_ARG, "ms_potential_guard: NULL argument");
  int idx[2];
  const char *lab[2] = {a, b};
  for (int k = 0; k < 2; ++k) {
    ms_species sp;
    MS_CALL(ms_species_parse(lab[k], &sp));
    idx[k] = find_species(p, &sp);
    MS_CHECK(idx[k] >= 0, MS_ERR_INPUT, "potential '%s' does not cover %s", p->name, lab[k]);
  }
  const pot_guard *g = &p->guard[idx[0] * p->nspecies + idx[1]];
  if (r_min) *r_min = g->r_min;
  if (barrier_r) *barrier_r = g->barrier_r;
  if (core_eV) *core_eV = g->core_eV;
  return MS_SUCCESS;
}

/* ------------------------------------------------------------------------------------------ */
/* Binding                                                                                    */

/* Covered ion for a structure species: exact match, or the only ion of a bare element. */
static ms_err match_species(const ms_potential *p, const ms_species *sp, int *idx) {
  char lab[16], cov[1024];
  ms_species_format(sp, lab, sizeof lab);
  if (sp->has_ox) {
    *idx = find_species(p, sp);
    MS_CHECK(*idx >= 0, MS_ERR_INPUT, "potential '%s' has no parameters for %s (covers: %s)",
             p->name, lab, ms_potential_covers(p, cov, sizeof cov));
    return MS_SUCCESS;
  }
  int found = -1, n = 0;
  char same[256] = "";
  size_t used = 0;
  for (int k = 0; k < p->nspecies; ++k)
    if (p->species[k].sp.Z == sp->Z) {
      found = k;
      ++n;
      if (used + 1 < sizeof same)
        used += (size_t)snprintf(same + used, sizeof same - used, "%s%s", n > 1 ? ", " : "",
                                 p->species[k].label);
    }
  MS_CHECK(n > 0, MS_ERR_INPUT, "potential '%s' has no parameters for %s (covers: %s)", p->name,
           lab, ms_potential_covers(p, cov, sizeof cov));
  MS_CHECK(n == 1, MS_ERR_INPUT,
           "species %s has no oxidation state and potential '%s' has several ions of that "
           "element (%s): give oxidation states in the structure",
           lab, p->name, same);
  *idx = found;
  return MS_SUCCESS;
}

ms_err ms_potential_match(const ms_potential *p, const ms_species *sp) {
  MS_CHECK(p && sp, MS_ERR_ARG, "ms_potential_match: NULL argument");
  if (p->any) {
    char lab[16];
    MS_CHECK(sp->has_ox, MS_ERR_INPUT,
             "potential '%s' takes charges from oxidation states, but species %s in the "
             "structure has none",
             p->name, ms_species_format(sp, lab, sizeof lab));
    return MS_SUCCESS;
  }
  int idx = -1;
  return match_species(p, sp, &idx);
}

ms_err ms_potential_bind(const ms_potential *p, const ms_cell *c,
                         double charge[MS_CELL_MAX_KINDS], ms_pair_table *table) {
  MS_CHECK(p && c && charge && table, MS_ERR_ARG, "ms_potential_bind: NULL argument");
  MS_CHECK(c->nkinds >= 1 && c->nkinds <= MS_CELL_MAX_KINDS, MS_ERR_INPUT,
           "structure has %d species; need 1..%d", c->nkinds, MS_CELL_MAX_KINDS);
  const int nk = c->nkinds;
  int idx[MS_CELL_MAX_KINDS];
  for (int k = 0; k < nk; ++k) {
    const ms_species *sp = &c->species[k];
    if (p->any) {
      char lab[16];
      MS_CHECK(sp->has_ox, MS_ERR_INPUT,
               "potential '%s' takes charges from oxidation states, but species %s in the "
               "structure has none",
               p->name, ms_species_format(sp, lab, sizeof lab));
      idx[k] = -1;
      charge[k] = sp->ox;
      continue;
    }
    MS_CALL(match_species(p, sp, &idx[k]));
    charge[k] = p->species[idx[k]].charge;
  }
  MS_CALL(ms_pair_table_reset(table, nk));
  MS_CALL(ms_pair_table_set_overlap(table, p->overlap));
  if (p->any) return MS_SUCCESS;
  const int ns = p->nspecies;
  for (int a = 0; a < nk; ++a)
    for (int b = a; b < nk; ++b) {
      const int sa = idx[a], sb = idx[b];
      for (int k = 0; k < p->nterms; ++k) {
        const pot_term *t = &p->terms[k];
        if ((t->a == sa && t->b == sb) || (t->a == sb && t->b == sa))
          MS_CALL(ms_pair_table_add_term(table, a, b, &t->term));
      }
      const pot_guard *g = &p->guard[sa * ns + sb];
      if (g->r_min > 0.0)
        MS_CALL(ms_pair_table_set_guard(table, a, b, g->r_min, g->barrier_r, g->core_eV));
    }
  return MS_SUCCESS;
}

/* ------------------------------------------------------------------------------------------ */
/* Description                                                                                */

ms_err ms_potential_describe(const ms_potential *p, FILE *fp) {
  MS_CHECK(p && fp, MS_ERR_ARG, "ms_potential_describe: NULL argument");
  char cov[2048];
  fprintf(fp, "potential %s  (%s)\n", p->name, p->source);
  fprintf(fp, "  %s\n", p->description);
  fprintf(fp, "  charges: %s\n",
          p->model == MS_CHARGES_FORMAL ? "formal (oxidation states)" : "per-species table");
  fprintf(fp, "  species: %s\n", ms_potential_covers(p, cov, sizeof cov));
  if (p->model == MS_CHARGES_TABLE) {
    fprintf(fp, "  charge table (e):");
    for (int k = 0; k < p->nspecies; ++k)
      fprintf(fp, "%s %s %+g", k ? "," : "", p->species[k].label, p->species[k].charge);
    fprintf(fp, "\n");
  }
  fprintf(fp, "  Coulomb: recommended relative accuracy %g\n", p->accuracy);
  fprintf(fp, "  guard: margin %g Å above the barrier top, overlap distance %g Å\n", p->margin,
          p->overlap);
  if (p->nterms) fprintf(fp, "  short-range terms (max cutoff %g Å):\n", p->max_cutoff);
  for (int k = 0; k < p->nterms; ++k) {
    const pot_term *t = &p->terms[k];
    const ms_pair_form_info *fi = ms_pair_form_get(t->term.form);
    fprintf(fp, "    %-5s - %-5s %s:", p->species[t->a].label, p->species[t->b].label, fi->name);
    for (int m = 0; m < fi->nparams; ++m)
      fprintf(fp, " %s = %g %s", fi->param[m].name, t->term.p[m], fi->param[m].unit);
    fprintf(fp, "; cutoff %g Å%s [%s]\n", t->term.cutoff, shift_note(t->term.shift),
            p->cit_key[t->cit]);
    const pot_guard *g = &p->guard[t->a * p->nspecies + t->b];
    if (g->barrier_r > 0.0 || g->r_min > 0.0)
      fprintf(fp, "      guard r_min %.4f Å (barrier top %.4f Å, %.1f eV%s)\n", g->r_min,
              g->barrier_r, g->barrier_e, g->core_eV > 0 ? ", with repulsive core" : "");
  }
  if (p->ncaveats) fprintf(fp, "  caveats:\n");
  for (int k = 0; k < p->ncaveats; ++k) fprintf(fp, "    - %s\n", p->caveats[k]);
  fprintf(fp, "  citations:\n");
  for (int k = 0; k < p->ncit; ++k) fprintf(fp, "    [%s] %s\n", p->cit_key[k], p->cit_text[k]);
  return MS_SUCCESS;
}
