/* Generator registry, generator objects, the campaign's search space, and helpers shared by
 * the generator implementations (compositions, radii, YAML accessors).
 *
 * The registry is a constant table of the built-in records (generators.def) plus a short list
 * filled by ms_generator_register() at start-up. A generator object is the record plus the
 * implementation's immutable state; the search space concatenates the id ranges of its items
 * so a global candidate id decodes to (item, local index) with a binary search. */
#include "matscreen/generator.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gen_impl.h"

/* ---- registry ---------------------------------------------------------------------------- */

#define MS_GENERATOR(name) &ms__generator_##name,
static const ms_generator_info *const builtin[] = {
#include "generators.def"
};
#undef MS_GENERATOR
enum { NBUILTIN = sizeof builtin / sizeof builtin[0], MAX_EXTRA = 32 };

static const ms_generator_info *extra[MAX_EXTRA];
static int nextra;

const ms_generator_info *ms_generator_find(const char *name) {
  for (int k = 0; k < NBUILTIN; ++k)
    if (strcmp(builtin[k]->name, name) == 0) return builtin[k];
  for (int k = 0; k < nextra; ++k)
    if (strcmp(extra[k]->name, name) == 0) return extra[k];
  return NULL;
}

ms_err ms_generator_register(const ms_generator_info *info) {
  MS_CHECK(info && info->name && info->ops && info->ops->create && info->ops->count &&
               info->ops->build && info->ops->destroy,
           MS_ERR_ARG, "ms_generator_register: incomplete generator record");
  MS_CHECK(!ms_generator_find(info->name), MS_ERR_INPUT, "a generator named '%s' already exists",
           info->name);
  MS_CHECK(nextra < MAX_EXTRA, MS_ERR_INPUT, "at most %d registered generators", MAX_EXTRA);
  for (const ms_param_spec *p = info->params; p && p->name; ++p)
    MS_CHECK(p->type && p->help && p->default_value, MS_ERR_ARG,
             "generator '%s': parameter '%s' lacks type, default or help", info->name, p->name);
  extra[nextra++] = info;
  return MS_SUCCESS;
}

const ms_generator_info *const *ms_generator_list(int *count) {
  static _Thread_local const ms_generator_info *list[NBUILTIN + MAX_EXTRA + 1];
  int n = 0;
  for (int k = 0; k < NBUILTIN; ++k) list[n++] = builtin[k];
  for (int k = 0; k < nextra; ++k) list[n++] = extra[k];
  list[n] = NULL;
  if (count) *count = n;
  return list;
}

/* ---- generator objects ------------------------------------------------------------------- */

struct ms_generator_s {
  const ms_generator_info *info;
  void *data;
};

ms_err ms_generator_create(ms_ynode *item, const char *path, const ms_generator_context *ctx,
                           ms_generator *out) {
  *out = NULL;
  MS_CALL(ms_ynode_expect(item, MS_YMAP, path));
  ms_ynode *gn = ms_ynode_get(item, "generator");
  if (!gn) return ms_ynode_error(item, path, "missing required key 'generator'");
  char sub[160];
  snprintf(sub, sizeof sub, "%s.generator", path);
  const char *name;
  MS_CALL(ms_ynode_string(gn, sub, &name));
  const ms_generator_info *info = ms_generator_find(name);
  if (!info) {
    int n = 0;
    const ms_generator_info *const *all = ms_generator_list(&n);
    const char *names[NBUILTIN + MAX_EXTRA + 1];
    char list[512] = "";
    size_t used = 0;
    for (int k = 0; k < n; ++k) {
      names[k] = all[k]->name;
      int w = snprintf(list + used, sizeof list - used, "%s%s", k ? ", " : "", names[k]);
      if (w > 0 && (size_t)w < sizeof list - used) used += (size_t)w;
    }
    names[n] = NULL;
    const char *hint = ms_suggest(name, names);
    ms_ynode_error(gn, sub, "unknown generator '%s'%s%s%s; generators: %s", name,
                   hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "", list);
    return MS_ERR_UNKNOWN_TYPE;
  }
  ms_generator g = calloc(1, sizeof *g);
  MS_CHECK(g, MS_ERR_MEM, "out of memory");
  g->info = info;
  ms_generator_context def = {0, NULL, 0};
  ms_err e = info->ops->create(item, path, ctx ? ctx : &def, &g->data);
  if (e) {
    free(g);
    return ms__err_push(e, __FILE__, __LINE__, __func__);
  }
  *out = g;
  return MS_SUCCESS;
}

void ms_generator_destroy(ms_generator *g) {
  if (!g || !*g) return;
  (*g)->info->ops->destroy((*g)->data);
  free(*g);
  *g = NULL;
}

const ms_generator_info *ms_generator_type(const ms_generator g) { return g->info; }
int64_t ms_generator_count(const ms_generator g) { return g->info->ops->count(g->data); }

ms_err ms_generator_build(const ms_generator g, int64_t i, ms_cell *out, ms_candidate_info *info) {
  int64_t n = ms_generator_count(g);
  MS_CHECK(i >= 0 && i < n, MS_ERR_ARG, "%s: candidate %lld out of range (0..%lld)", g->info->name,
           (long long)i, (long long)n - 1);
  ms_candidate_info tmp;
  if (!info) info = &tmp;
  memset(info, 0, sizeof *info);
  snprintf(info->generator, sizeof info->generator, "%s", g->info->name);
  for (int k = 0; k < 3; ++k) info->basis[k][k] = 1;
  info->status = MS_STATUS_OK;
  return g->info->ops->build(g->data, i, out, info);
}

int ms_generator_species(const ms_generator g, ms_species *out, int max) {
  if (!g->info->ops->species) return -1;
  return g->info->ops->species(g->data, out, max);
}

ms_err ms_generator_describe(const ms_generator g, FILE *fp) {
  if (g->info->ops->describe) return g->info->ops->describe(g->data, fp);
  fprintf(fp, "%s: %lld candidates\n", g->info->name, (long long)ms_generator_count(g));
  return MS_SUCCESS;
}

/* ---- search space ------------------------------------------------------------------------ */

uint64_t ms__splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t ms_search_item_seed(uint64_t seed, int item) {
  return ms__splitmix64(seed ^ ms__splitmix64((uint64_t)item + 1));
}

struct ms_search_s {
  int n;
  ms_generator *gen;
  int64_t *offset; /* n + 1 entries */
};

void ms_search_destroy(ms_search *sp) {
  if (!sp || !*sp) return;
  ms_search s = *sp;
  for (int k = 0; k < s->n; ++k) ms_generator_destroy(&s->gen[k]);
  free(s->gen);
  free(s->offset);
  free(s);
  *sp = NULL;
}

ms_err ms_search_create_with_models(ms_ynode *search, uint64_t seed, const ms_model *models,
                                    int nmodels, ms_search *out) {
  *out = NULL;
  MS_CALL(ms_ynode_expect(search, MS_YSEQ, "search"));
  if (search->n == 0) return ms_ynode_error(search, "search", "empty: give at least one generator");
  ms_search s = calloc(1, sizeof *s);
  MS_CHECK(s, MS_ERR_MEM, "out of memory");
  s->gen = calloc((size_t)search->n, sizeof *s->gen);
  s->offset = calloc((size_t)search->n + 1, sizeof *s->offset);
  if (!s->gen || !s->offset) {
    ms_search_destroy(&s);
    MS_FAIL(MS_ERR_MEM, "out of memory");
  }
  for (int k = 0; k < search->n; ++k) {
    char path[32];
    snprintf(path, sizeof path, "search[%d]", k);
    ms_generator_context ctx = {ms_search_item_seed(seed, k), models, nmodels};
    ms_err e = ms_generator_create(search->items[k], path, &ctx, &s->gen[k]);
    if (e) {
      ms_search_destroy(&s);
      return ms__err_push(e, __FILE__, __LINE__, __func__);
    }
    s->n = k + 1;
    int64_t c = ms_generator_count(s->gen[k]);
    if (s->offset[k] > INT64_MAX - c) {
      ms_search_destroy(&s);
      return ms_ynode_error(search->items[k], path, "the search space exceeds 2^63 candidates");
    }
    s->offset[k + 1] = s->offset[k] + c;
  }
  *out = s;
  return MS_SUCCESS;
}

ms_err ms_search_create(ms_ynode *search, uint64_t seed, const ms_potential *potential,
                        ms_search *out) {
  *out = NULL;
  if (!potential) return ms_search_create_with_models(search, seed, NULL, 0, out);
  /* The potential's guard through a rigid-ion model on it (the generators read it only while
   * they are created). */
  ms_model m = NULL;
  MS_CALL(ms_model_create_with(potential, NULL, &m));
  ms_err e = ms_search_create_with_models(search, seed, &m, 1, out);
  ms_model_destroy(&m);
  return e;
}

int ms_search_species(const ms_search s, ms_species *out, int *item, int max, int *unlisted) {
  enum { MAXG = 64 };
  int n = 0, nu = 0;
  for (int k = 0; k < s->n; ++k) {
    ms_species g[MAXG];
    int m = ms_generator_species(s->gen[k], g, MAXG);
    if (m < 0) {
      nu++;
      continue;
    }
    for (int q = 0; q < m && q < MAXG; ++q) {
      int seen = 0;
      for (int j = 0; j < n && j < max && !seen; ++j) seen = ms_species_equal(&out[j], &g[q]);
      if (seen) continue;
      if (n < max) {
        out[n] = g[q];
        if (item) item[n] = k;
      }
      n++;
    }
  }
  if (unlisted) *unlisted = nu;
  return n;
}

int64_t ms_search_count(const ms_search s) { return s->offset[s->n]; }
int ms_search_nitems(const ms_search s) { return s->n; }
ms_generator ms_search_generator(const ms_search s, int item) {
  return item >= 0 && item < s->n ? s->gen[item] : NULL;
}
int64_t ms_search_offset(const ms_search s, int item) {
  return item >= 0 && item <= s->n ? s->offset[item] : -1;
}

int ms_search_locate(const ms_search s, int64_t id, int64_t *local) {
  if (id < 0 || id >= s->offset[s->n]) return -1;
  int lo = 0, hi = s->n - 1;
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (s->offset[mid] <= id)
      lo = mid;
    else
      hi = mid - 1;
  }
  if (local) *local = id - s->offset[lo];
  return lo;
}

ms_err ms_search_build(const ms_search s, int64_t id, ms_cell *out, ms_candidate_info *info) {
  int64_t local = 0;
  int item = ms_search_locate(s, id, &local);
  MS_CHECK(item >= 0, MS_ERR_ARG, "candidate id %lld out of range (0..%lld)", (long long)id,
           (long long)ms_search_count(s) - 1);
  return ms_generator_build(s->gen[item], local, out, info);
}

/* ---- shared helpers ---------------------------------------------------------------------- */

void ms__species_collect(ms_species *out, int *n, int max, const ms_species *sp) {
  for (int k = 0; k < *n && k < max; ++k)
    if (ms_species_equal(&out[k], sp)) return;
  if (*n < max) out[*n] = *sp;
  ++*n;
}

ms_err ms__ion_radius(const ms_species *sp, int cn, double *r) {
  char name[32];
  MS_CHECK(sp->has_ox, MS_ERR_INPUT, "%s has no oxidation state (radii need ions, e.g. 'Ti4+')",
           ms_species_format(sp, name, sizeof name));
  MS_CHECK(sp->ox == nearbyint(sp->ox), MS_ERR_INPUT,
           "%s: Shannon radii exist only for integer oxidation states",
           ms_species_format(sp, name, sizeof name));
  ms_shannon_radius rr;
  MS_CALL(ms_shannon_lookup(sp->Z, (int)sp->ox, cn, MS_SPIN_NONE, &rr, NULL));
  *r = rr.ionic;
  return MS_SUCCESS;
}

double ms__pair_min_separation(const ms_species *a, double ra, const ms_species *b, double rb,
                               double anion_radius, double factor) {
  if (a->ox > 0 && b->ox > 0 && anion_radius > 0)
    return factor * (ra + rb + 2 * anion_radius) / sqrt(2.0);
  return factor * (ra + rb);
}

ms_err ms__species_radius(const ms_species *sp, int cn, double *r) {
  if (sp->has_ox) return ms__ion_radius(sp, cn, r);
  const ms_element *el = ms_element_by_z(sp->Z);
  char name[32];
  MS_CHECK(el && el->covalent_radius > 0, MS_ERR_INPUT,
           "%s: the element table has no covalent radius for it", ms_species_format(sp, name, sizeof name));
  *r = el->covalent_radius;
  return MS_SUCCESS;
}

ms_err ms__y_species(const ms_ynode *node, const char *path, ms_species *out) {
  const char *t;
  MS_CALL(ms_ynode_string(node, path, &t));
  if (ms_species_parse(t, out) != MS_SUCCESS) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s", ms_err_message());
    ms_err_clear();
    return ms_ynode_error(node, path, "%s", msg);
  }
  if (out->has_ox && out->ox != nearbyint(out->ox))
    return ms_ynode_error(node, path, "'%s': only integer oxidation states are supported", t);
  return MS_SUCCESS;
}

ms_err ms__mixed_species_error(const ms_ynode *node, const char *path, const ms_species *sp,
                               const char *first) {
  char name[32];
  ms_species_format(sp, name, sizeof name);
  return ms_ynode_error(node, path,
                        "'%s' is %s but %s is %s: in one item every species needs an oxidation "
                        "state (ions: charge-neutral candidates) or none (plain elements: "
                        "stoichiometry rules); split the item in two",
                        name, sp->has_ox ? "an ion" : "a plain element", first,
                        sp->has_ox ? "a plain element" : "an ion");
}

ms_err ms__y_ion(const ms_ynode *node, const char *path, ms_species *out) {
  const char *t;
  MS_CALL(ms_ynode_string(node, path, &t));
  if (ms_species_parse(t, out) != MS_SUCCESS) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s", ms_err_message());
    ms_err_clear();
    return ms_ynode_error(node, path, "%s", msg);
  }
  if (!out->has_ox)
    return ms_ynode_error(node, path, "'%s' needs an oxidation state (e.g. 'Ti4+', 'O2-')", t);
  if (out->ox != nearbyint(out->ox))
    return ms_ynode_error(node, path, "'%s': only integer oxidation states are supported", t);
  return MS_SUCCESS;
}

/* Neutral assignments of common oxidation states with anions more electronegative than
 * cations; stops after two (only uniqueness matters). */
static void guess_ox(const ms__composition *c, int k, double q, int *cur, int sol[2][8],
                     int *nsol) {
  if (*nsol >= 2) return;
  if (k == c->n) {
    if (q != 0) return;
    double xmax_cat = -1, xmin_an = 1e9;
    for (int i = 0; i < c->n; ++i) {
      const ms_element *el = ms_element_by_z(c->sp[i].Z);
      double x = el && !isnan(el->electronegativity) ? el->electronegativity : 0;
      if (cur[i] > 0) xmax_cat = fmax(xmax_cat, x);
      if (cur[i] < 0) xmin_an = fmin(xmin_an, x);
      if (cur[i] == 0) return;
    }
    if (xmin_an <= xmax_cat) return;
    memcpy(sol[(*nsol)++], cur, (size_t)c->n * sizeof *cur);
    return;
  }
  if (c->sp[k].has_ox) { /* given: only that state */
    cur[k] = (int)c->sp[k].ox;
    guess_ox(c, k + 1, q + (double)c->count[k] * cur[k], cur, sol, nsol);
    return;
  }
  const ms_element *el = ms_element_by_z(c->sp[k].Z);
  for (int j = 0; el && j < el->n_common_ox; ++j) {
    cur[k] = el->common_ox[j];
    guess_ox(c, k + 1, q + (double)c->count[k] * cur[k], cur, sol, nsol);
  }
}

int ms__formula_counts(const char *text, int count[MS_MAX_Z + 1], char *why, size_t len) {
  memset(count, 0, (MS_MAX_Z + 1) * sizeof *count);
  int n = 0;
  const char *s = text;
  while (*s) {
    if (!isupper((unsigned char)*s)) {
      snprintf(why, len, "bad formula '%s' at '%s' (write e.g. 'Ni3Al'; parentheses are not supported)",
               text, s);
      return -1;
    }
    char sym[4] = {*s++, 0, 0, 0};
    if (islower((unsigned char)*s)) sym[1] = *s++;
    const ms_element *el = ms_element_by_symbol(sym);
    if (!el) {
      snprintf(why, len, "unknown element '%s' in '%s'", sym, text);
      return -1;
    }
    long k = 1;
    if (isdigit((unsigned char)*s)) {
      char *end;
      k = strtol(s, &end, 10);
      s = end;
      if (k < 1 || k > 64) {
        snprintf(why, len, "count of %s in '%s' must be in 1..64", sym, text);
        return -1;
      }
    }
    n += count[el->Z] == 0;
    count[el->Z] += (int)k;
  }
  if (n == 0) snprintf(why, len, "empty formula");
  return n ? n : -1;
}

ms_err ms__composition_parse(const ms_ynode *node, const char *path, const int *ox_by_Z,
                             const unsigned char *has_ox_by_Z, int plain, ms__composition *c) {
  memset(c, 0, sizeof *c);
  const char *text;
  MS_CALL(ms_ynode_string(node, path, &text));
  snprintf(c->formula, sizeof c->formula, "%s", text);
  const char *s = text;
  while (*s) {
    if (!isupper((unsigned char)*s))
      return ms_ynode_error(node, path,
                            "bad formula '%s' at '%s' (write e.g. 'SrTiO3'; "
                            "parentheses are not supported)",
                            text, s);
    char sym[4] = {*s++, 0, 0, 0};
    if (islower((unsigned char)*s)) sym[1] = *s++;
    const ms_element *el = ms_element_by_symbol(sym);
    if (!el) return ms_ynode_error(node, path, "unknown element '%s' in '%s'", sym, text);
    long n = 1;
    if (isdigit((unsigned char)*s)) {
      char *end;
      n = strtol(s, &end, 10);
      s = end;
      if (n < 1 || n > 64)
        return ms_ynode_error(node, path, "count of %s in '%s' must be in 1..64", sym, text);
    }
    int k = 0;
    while (k < c->n && c->sp[k].Z != el->Z) ++k;
    if (k == c->n) {
      if (c->n == MS__GEN_MAX_SPECIES)
        return ms_ynode_error(node, path, "at most %d elements in '%s'", MS__GEN_MAX_SPECIES, text);
      c->sp[c->n++].Z = el->Z;
    }
    c->count[k] += (int)n;
  }
  if (c->n == 0) return ms_ynode_error(node, path, "empty formula");
  if (plain) return MS_SUCCESS; /* plain elements: no oxidation states, no neutrality */
  int missing = 0;
  for (int k = 0; k < c->n; ++k) {
    if (has_ox_by_Z && has_ox_by_Z[c->sp[k].Z]) {
      c->sp[k].has_ox = 1;
      c->sp[k].ox = ox_by_Z[c->sp[k].Z];
    } else {
      missing = 1;
    }
  }
  if (missing) {
    int cur[8], sol[2][8], nsol = 0;
    guess_ox(c, 0, 0, cur, sol, &nsol);
    if (nsol != 1)
      return ms_ynode_error(node, path,
                            "%s oxidation-state assignment for '%s' from the common oxidation "
                            "states; give them with oxidation_states: {EL: N, ...}, or "
                            "oxidation_states: none for plain elements (intermetallics; models "
                            "that need no charges)",
                            nsol ? "more than one" : "no neutral", text);
    for (int k = 0; k < c->n; ++k) {
      c->sp[k].has_ox = 1;
      c->sp[k].ox = sol[0][k];
    }
  }
  double q = 0;
  for (int k = 0; k < c->n; ++k) q += c->count[k] * c->sp[k].ox;
  if (q != 0)
    return ms_ynode_error(node, path,
                          "'%s' is not neutral with the given oxidation states "
                          "(%g e per formula unit)",
                          text, q);
  return MS_SUCCESS;
}
