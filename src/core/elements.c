/* The element table: masses, Pauling electronegativities, oxidation states and Shannon radii,
 * read once at start-up from the data file elements.yaml (embedded, or MATSCREEN_DATA_DIR).
 *
 * The data live in a generated YAML file rather than in C arrays so that their provenance is
 * visible and checkable (scripts/gen_elements.py regenerates the file from pymatgen's table,
 * and a regression test compares), and so that a user can override them without rebuilding.
 * Because the file can be edited by hand, every field is validated with a positioned message.
 * The table is filled into static arrays and is read-only afterwards, so lookups need no lock.
 * Loading runs at every program start: about 3 ms, most of it in the YAML parser (~70 kB).
 * Field paths for messages are therefore built only when a field is wrong. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/data.h"
#include "matscreen/species.h"
#include "matscreen/yaml.h"

#define DATA_NAME "elements.yaml"
#define MAX_CN 14 /* largest coordination number in Shannon's table (XIV) */

typedef struct {
  ms_element el[MS_MAX_Z + 1]; /* indexed by Z; el[0] unused */
  ms_shannon_radius *radii;    /* sorted by Z, then as the file lists them */
  size_t n_radii;
  size_t rstart[MS_MAX_Z + 2]; /* radii of element Z are [rstart[Z], rstart[Z+1]) */
  char source[512];
} table;

static table *s_tab;

/* Symbol index for one- and two-letter symbols: slot (first letter) * 27 + (second letter + 1
 * or 0). Case-folded, so "Ti", "TI" and "ti" all land in the same slot. */
static short s_sym_index[26 * 27];

static int fold_upper(int c) { return (c >= 'a' && c <= 'z') ? c - 'a' + 'A' : c; }
static int fold_lower(int c) { return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c; }

static int sym_slot(const char *s) {
  int a = fold_upper((unsigned char)s[0]);
  if (a < 'A' || a > 'Z') return -1;
  if (s[1] == '\0') return (a - 'A') * 27;
  int b = fold_lower((unsigned char)s[1]);
  if (b < 'a' || b > 'z' || s[2] != '\0') return -1;
  return (a - 'A') * 27 + (b - 'a') + 1;
}

/* A scalar that YAML reads as null (the tree may or may not turn it into MS_YNULL). */
static int is_null(const ms_ynode *n) {
  if (!n || n->type == MS_YNULL) return 1;
  if (n->type != MS_YSCALAR || n->quoted || !n->value) return 0;
  return strcmp(n->value, "null") == 0 || strcmp(n->value, "~") == 0 ||
         strcmp(n->value, "Null") == 0 || strcmp(n->value, "NULL") == 0 || n->value[0] == '\0';
}

/* Required key of a mapping; the message names the whole path. */
static ms_err need(ms_ynode *map, const char *key, const char *path, ms_ynode **out) {
  *out = ms_ynode_get(map, key);
  if (*out) return MS_SUCCESS;
  /* A hand-edited file most often misspells a key: point at the likely culprit. */
  const char *const want[] = {key, NULL};
  for (int k = 0; map && map->type == MS_YMAP && k < map->n; ++k) {
    const char *have = map->keys[k]->value;
    if (!map->used[k] && have && ms_suggest(have, want))
      return ms_ynode_error(map->keys[k], path, "missing key '%s' (is '%s' a misspelling?)",
                            key, have);
  }
  return ms_ynode_error(map, path, "missing key '%s'", key);
}

/* The field getters below convert first and build the "elements[21].shannon_radii[3].ionic"
 * path only when something is wrong: formatting ~4000 paths that are never shown would cost
 * a good part of the start-up budget. On failure the conversion is repeated with the path so
 * that the message names it. */
static void field_path(char *buf, size_t len, const char *path, const char *key) {
  snprintf(buf, len, "%s.%s", path, key);
}

static ms_err get_int(ms_ynode *map, const char *key, const char *path, long long lo,
                      long long hi, int *out) {
  ms_ynode *n = NULL;
  long long v = 0;
  MS_CALL(need(map, key, path, &n));
  if (ms_ynode_int(n, NULL, &v) != MS_SUCCESS || v < lo || v > hi) {
    char p[160];
    field_path(p, sizeof p, path, key);
    ms_err_clear();
    MS_CALL(ms_ynode_int(n, p, &v));
    return ms_ynode_error(n, p, "must be in [%lld, %lld], got %lld", lo, hi, v);
  }
  *out = (int)v;
  return MS_SUCCESS;
}

static ms_err get_double(ms_ynode *map, const char *key, const char *path, double lo, double hi,
                         double *out) {
  ms_ynode *n = NULL;
  MS_CALL(need(map, key, path, &n));
  if (ms_ynode_double(n, NULL, out) != MS_SUCCESS || !(*out >= lo && *out <= hi)) {
    char p[160];
    field_path(p, sizeof p, path, key);
    ms_err_clear();
    MS_CALL(ms_ynode_double(n, p, out));
    return ms_ynode_error(n, p, "must be in [%g, %g], got %g", lo, hi, *out);
  }
  return MS_SUCCESS;
}

static ms_err get_bool(ms_ynode *map, const char *key, const char *path, int required,
                       int *out) {
  ms_ynode *n = ms_ynode_get(map, key);
  *out = 0;
  if (!n) {
    if (required) return need(map, key, path, &n);
    return MS_SUCCESS;
  }
  if (ms_ynode_bool(n, NULL, out) != MS_SUCCESS) {
    char p[160];
    field_path(p, sizeof p, path, key);
    ms_err_clear();
    return ms_ynode_bool(n, p, out);
  }
  return MS_SUCCESS;
}

static ms_err get_string(ms_ynode *map, const char *key, const char *path, size_t maxlen,
                         const char **out) {
  ms_ynode *n = NULL;
  MS_CALL(need(map, key, path, &n));
  size_t len = 0;
  if (ms_ynode_string(n, NULL, out) != MS_SUCCESS || (len = strlen(*out)) == 0 ||
      len > maxlen) {
    char p[160];
    field_path(p, sizeof p, path, key);
    ms_err_clear();
    MS_CALL(ms_ynode_string(n, p, out));
    return ms_ynode_error(n, p, "must be 1 to %zu characters, got \"%s\"", maxlen, *out);
  }
  return MS_SUCCESS;
}

/* A sequence of small integers (oxidation states) into out[cap]. */
static ms_err get_int_list(ms_ynode *map, const char *key, const char *path, int cap, int *out,
                           int *count) {
  char p[160], pi[176];
  snprintf(p, sizeof p, "%s.%s", path, key);
  ms_ynode *n = NULL;
  MS_CALL(need(map, key, path, &n));
  MS_CALL(ms_ynode_expect(n, MS_YSEQ, p));
  if (n->n > cap) return ms_ynode_error(n, p, "at most %d entries allowed, got %d", cap, n->n);
  for (int k = 0; k < n->n; ++k) {
    long long v = 0;
    snprintf(pi, sizeof pi, "%s[%d]", p, k);
    MS_CALL(ms_ynode_int(n->items[k], pi, &v));
    if (v < -12 || v > 12)
      return ms_ynode_error(n->items[k], pi, "oxidation state must be in [-12, 12], got %lld", v);
    out[k] = (int)v;
  }
  *count = n->n;
  return MS_SUCCESS;
}

static ms_err read_radius(ms_ynode *node, const char *path, int Z, ms_shannon_radius *r) {
  static const char *const keys[] = {"ox",        "cn",    "spin",    "square_planar",
                                     "pyramidal", "ionic", "crystal", NULL};
  MS_CALL(ms_ynode_expect(node, MS_YMAP, path));
  memset(r, 0, sizeof *r);
  r->Z = Z;
  MS_CALL(get_int(node, "ox", path, -12, 12, &r->ox));
  MS_CALL(get_int(node, "cn", path, 1, MAX_CN, &r->cn));
  const char *spin = NULL;
  MS_CALL(get_string(node, "spin", path, 8, &spin));
  if (strcmp(spin, "none") == 0)
    r->spin = MS_SPIN_NONE;
  else if (strcmp(spin, "high") == 0)
    r->spin = MS_SPIN_HIGH;
  else if (strcmp(spin, "low") == 0)
    r->spin = MS_SPIN_LOW;
  else
    return ms_ynode_error(ms_ynode_get(node, "spin"), path,
                          "spin must be none, high or low, got '%s'", spin);
  MS_CALL(get_bool(node, "square_planar", path, 1, &r->square_planar));
  MS_CALL(get_bool(node, "pyramidal", path, 0, &r->pyramidal));
  if (r->square_planar && r->pyramidal)
    return ms_ynode_error(node, path, "an entry cannot be both square_planar and pyramidal");
  /* Shannon tabulates a few negative radii (H+ CN I and II, C4+ III, N5+ III); anything
   * beyond these bounds is a typo, not data. */
  MS_CALL(get_double(node, "ionic", path, -1.0, 3.0, &r->ionic));
  MS_CALL(get_double(node, "crystal", path, -1.0, 3.0, &r->crystal));
  return ms_ynode_check_unused(node, path, keys);
}

static ms_err read_element(ms_ynode *node, const char *path, int Z, table *t, size_t *cap) {
  static const char *const keys[] = {"symbol",
                                     "Z",
                                     "name",
                                     "mass",
                                     "electronegativity",
                                     "common_oxidation_states",
                                     "oxidation_states",
                                     "shannon_radii",
                                     "atomic_volume",
                                     "covalent_radius",
                                     "structure",
                                     NULL};
  MS_CALL(ms_ynode_expect(node, MS_YMAP, path));
  ms_element *el = &t->el[Z];
  memset(el, 0, sizeof *el);

  int z_file = 0;
  MS_CALL(get_int(node, "Z", path, 1, MS_MAX_Z, &z_file));
  if (z_file != Z)
    return ms_ynode_error(ms_ynode_get(node, "Z"), path,
                          "elements must be listed in order of Z: expected Z = %d, got %d", Z,
                          z_file);
  el->Z = Z;

  const char *s = NULL;
  MS_CALL(get_string(node, "symbol", path, sizeof el->symbol - 1, &s));
  int ok = s[0] >= 'A' && s[0] <= 'Z';
  for (size_t k = 1; s[k]; ++k) ok = ok && s[k] >= 'a' && s[k] <= 'z';
  if (!ok)
    return ms_ynode_error(ms_ynode_get(node, "symbol"), path,
                          "symbol must be a capital letter followed by lower-case letters, "
                          "got '%s'", s);
  snprintf(el->symbol, sizeof el->symbol, "%s", s);
  MS_CALL(get_string(node, "name", path, sizeof el->name - 1, &s));
  snprintf(el->name, sizeof el->name, "%s", s);

  MS_CALL(get_double(node, "mass", path, 0.5, 400.0, &el->mass));

  ms_ynode *x = NULL;
  MS_CALL(need(node, "electronegativity", path, &x));
  if (is_null(x)) {
    el->electronegativity = NAN;
  } else {
    MS_CALL(get_double(node, "electronegativity", path, 0.1, 5.0, &el->electronegativity));
  }
  MS_CALL(get_int_list(node, "common_oxidation_states", path,
                       (int)(sizeof el->common_ox / sizeof el->common_ox[0]), el->common_ox,
                       &el->n_common_ox));
  MS_CALL(get_int_list(node, "oxidation_states", path, (int)(sizeof el->ox / sizeof el->ox[0]),
                       el->ox, &el->n_ox));
  /* Optional (NaN when absent or null): older tables and hand-made test tables lack them. */
  el->atomic_volume = NAN;
  el->covalent_radius = NAN;
  ms_ynode *v = ms_ynode_get(node, "atomic_volume");
  if (v && !is_null(v))
    MS_CALL(get_double(node, "atomic_volume", path, 1.0, 200.0, &el->atomic_volume));
  v = ms_ynode_get(node, "covalent_radius");
  if (v && !is_null(v))
    MS_CALL(get_double(node, "covalent_radius", path, 0.1, 4.0, &el->covalent_radius));
  v = ms_ynode_get(node, "structure");
  if (v && !is_null(v)) {
    MS_CALL(get_string(node, "structure", path, sizeof el->structure - 1, &s));
    snprintf(el->structure, sizeof el->structure, "%s", s);
  }

  ms_ynode *rl = NULL;
  char rp[64], rpi[96];
  snprintf(rp, sizeof rp, "%s.shannon_radii", path);
  MS_CALL(need(node, "shannon_radii", path, &rl));
  MS_CALL(ms_ynode_expect(rl, MS_YSEQ, rp));
  t->rstart[Z] = t->n_radii;
  for (int k = 0; k < rl->n; ++k) {
    if (t->n_radii == *cap) {
      size_t ncap = *cap ? 2 * *cap : 512;
      MS_CALL(MS_REALLOC(ncap, &t->radii));
      *cap = ncap;
    }
    snprintf(rpi, sizeof rpi, "%s[%d]", rp, k);
    ms_shannon_radius *r = &t->radii[t->n_radii];
    MS_CALL(read_radius(rl->items[k], rpi, Z, r));
    /* Two entries with the same key would make lookups depend on file order. */
    for (size_t j = t->rstart[Z]; j < t->n_radii; ++j) {
      const ms_shannon_radius *q = &t->radii[j];
      if (q->ox == r->ox && q->cn == r->cn && q->spin == r->spin &&
          q->square_planar == r->square_planar && q->pyramidal == r->pyramidal)
        return ms_ynode_error(rl->items[k], rpi,
                              "duplicate entry (same ox, cn, spin and geometry as entry %zu)",
                              j - t->rstart[Z]);
    }
    ++t->n_radii;
  }
  return ms_ynode_check_unused(node, path, keys);
}

/* Parse and validate the whole document into @p t. */
static ms_err read_table(ms_ynode *root, table *t) {
  static const char *const top_keys[] = {"source", "units", "counts", "elements", NULL};
  MS_CALL(ms_ynode_expect(root, MS_YMAP, "(top level)"));

  /* Provenance is part of the contract of this file, so it is required. */
  ms_ynode *src = NULL;
  const char *pkg = NULL, *radii = NULL, *xsrc = NULL;
  MS_CALL(need(root, "source", "(top level)", &src));
  MS_CALL(ms_ynode_expect(src, MS_YMAP, "source"));
  MS_CALL(get_string(src, "package", "source", 200, &pkg));
  MS_CALL(get_string(src, "radii", "source", 200, &radii));
  MS_CALL(get_string(src, "electronegativity", "source", 200, &xsrc));
  for (int k = 0; k < src->n; ++k) src->used[k] = 1; /* other provenance keys are free-form */
  snprintf(t->source, sizeof t->source, "%s; Shannon radii: %s; electronegativity: %s", pkg,
           radii, xsrc);

  /* The loader relies on these units; refuse a file that says otherwise. */
  ms_ynode *units = NULL;
  const char *mu = NULL, *ru = NULL;
  MS_CALL(need(root, "units", "(top level)", &units));
  MS_CALL(ms_ynode_expect(units, MS_YMAP, "units"));
  MS_CALL(get_string(units, "mass", "units", 16, &mu));
  MS_CALL(get_string(units, "radius", "units", 16, &ru));
  if (strcmp(mu, "u") != 0)
    return ms_ynode_error(ms_ynode_get(units, "mass"), "units.mass", "must be u, got '%s'", mu);
  if (strcmp(ru, "angstrom") != 0)
    return ms_ynode_error(ms_ynode_get(units, "radius"), "units.radius",
                          "must be angstrom, got '%s'", ru);
  ms_ynode *vu = ms_ynode_get(units, "volume");
  if (vu) {
    const char *vt = NULL;
    MS_CALL(get_string(units, "volume", "units", 16, &vt));
    if (strcmp(vt, "angstrom^3") != 0)
      return ms_ynode_error(vu, "units.volume", "must be angstrom^3, got '%s'", vt);
  }
  MS_CALL(ms_ynode_check_unused(units, "units", NULL));

  ms_ynode *els = NULL;
  MS_CALL(need(root, "elements", "(top level)", &els));
  MS_CALL(ms_ynode_expect(els, MS_YSEQ, "elements"));
  if (els->n != MS_MAX_Z)
    return ms_ynode_error(els, "elements", "expected all %d elements (Z = 1..%d), got %d",
                          MS_MAX_Z, MS_MAX_Z, els->n);
  size_t cap = 0;
  char path[32];
  for (int k = 0; k < els->n; ++k) {
    snprintf(path, sizeof path, "elements[%d]", k);
    MS_CALL(read_element(els->items[k], path, k + 1, t, &cap));
  }
  t->rstart[MS_MAX_Z + 1] = t->n_radii;

  /* The generator writes its counts; a mismatch means a truncated or hand-edited file. */
  ms_ynode *counts = ms_ynode_get(root, "counts");
  if (counts) {
    int ne = 0, nr = 0, nw = 0;
    MS_CALL(ms_ynode_expect(counts, MS_YMAP, "counts"));
    MS_CALL(get_int(counts, "elements", "counts", 0, 100000, &ne));
    MS_CALL(get_int(counts, "radii", "counts", 0, 100000, &nr));
    MS_CALL(get_int(counts, "with_radii", "counts", 0, 100000, &nw));
    int with = 0;
    for (int z = 1; z <= MS_MAX_Z; ++z) with += t->rstart[z + 1] > t->rstart[z];
    if (ne != els->n || (size_t)nr != t->n_radii || nw != with)
      return ms_ynode_error(counts, "counts",
                            "file lists %d elements, %zu radii (%d elements with radii), but "
                            "counts says %d, %d, %d",
                            els->n, t->n_radii, with, ne, nr, nw);
    MS_CALL(ms_ynode_check_unused(counts, "counts", NULL));
  }
  return ms_ynode_check_unused(root, "(top level)", top_keys);
}

static void free_table(table *t) {
  if (!t) return;
  free(t->radii);
  free(t);
}

ms_err ms_elements_load(void) {
  if (s_tab) return MS_SUCCESS;
  char *text = NULL;
  size_t len = 0;
  const char *origin = NULL;
  MS_CALL(ms_data_read(DATA_NAME, &text, &len, &origin));
  /* Messages name the override path, or the data file's name when it is the embedded copy. */
  char name[4096];
  snprintf(name, sizeof name, "%s", strcmp(origin, "embedded") == 0 ? DATA_NAME : origin);

  ms_ydoc *doc = NULL;
  ms_err e = ms_ydoc_parse(text, len, name, &doc);
  free(text);
  if (e != MS_SUCCESS) return ms__err_push(e, __FILE__, __LINE__, __func__);

  table *t = NULL;
  e = MS_CALLOC(1, &t);
  if (e == MS_SUCCESS) e = read_table(ms_ydoc_root(doc), t);
  ms_ydoc_free(&doc);
  if (e != MS_SUCCESS) {
    free_table(t);
    return ms__err_push(e, __FILE__, __LINE__, __func__);
  }

  memset(s_sym_index, 0, sizeof s_sym_index);
  for (int z = 1; z <= MS_MAX_Z; ++z) {
    int slot = sym_slot(t->el[z].symbol);
    if (slot >= 0) s_sym_index[slot] = (short)z;
  }
  s_tab = t;
  return MS_SUCCESS;
}

void ms_elements_unload(void) {
  free_table(s_tab);
  s_tab = NULL;
  memset(s_sym_index, 0, sizeof s_sym_index);
}

const ms_element *ms_element_by_z(int Z) {
  if (!s_tab || Z < 1 || Z > MS_MAX_Z) return NULL;
  return &s_tab->el[Z];
}

const ms_element *ms_element_by_symbol(const char *symbol) {
  if (!s_tab || !symbol || !symbol[0]) return NULL;
  int slot = sym_slot(symbol);
  if (slot >= 0) return s_sym_index[slot] ? &s_tab->el[s_sym_index[slot]] : NULL;
  /* Three-letter symbols (temporary IUPAC names) are not in the index. */
  if (strlen(symbol) != 3) return NULL;
  for (int z = 1; z <= MS_MAX_Z; ++z) {
    const char *s = s_tab->el[z].symbol;
    int same = 1;
    for (int k = 0; k < 4 && same; ++k)
      same = fold_lower((unsigned char)s[k]) == fold_lower((unsigned char)symbol[k]);
    if (same) return &s_tab->el[z];
  }
  return NULL;
}

const ms_shannon_radius *ms_shannon_table(size_t *count) {
  if (count) *count = s_tab ? s_tab->n_radii : 0;
  return s_tab ? s_tab->radii : NULL;
}

const char *ms_elements_source(void) { return s_tab ? s_tab->source : ""; }

/* Rank of an entry at a chosen CN: lower is better. Regular geometry beats square-planar or
 * pyramidal; then the requested spin beats an entry without spin; with no spin requested, high
 * spin beats no designation beats low spin (the header's "preferring high spin"). */
static int entry_rank(const ms_shannon_radius *r, ms_spin want) {
  int geom = (r->square_planar || r->pyramidal) ? 10 : 0;
  int spin;
  if (want == MS_SPIN_NONE)
    spin = r->spin == MS_SPIN_HIGH ? 0 : r->spin == MS_SPIN_NONE ? 1 : 2;
  else
    spin = r->spin == want ? 0 : 1;
  return geom + spin;
}

static const char *spin_word(ms_spin s) {
  return s == MS_SPIN_HIGH ? "high-spin " : s == MS_SPIN_LOW ? "low-spin " : "";
}

ms_err ms_shannon_lookup(int Z, int ox, int cn, ms_spin spin, ms_shannon_radius *out,
                         int *cn_used) {
  MS_CHECK(s_tab, MS_ERR_STATE, "element table not loaded (call ms_elements_load first)");
  MS_CHECK(out, MS_ERR_ARG, "ms_shannon_lookup: NULL output");
  MS_CHECK(Z >= 1 && Z <= MS_MAX_Z, MS_ERR_ARG, "ms_shannon_lookup: Z must be 1..%d, got %d",
           MS_MAX_Z, Z);
  MS_CHECK(cn >= 1, MS_ERR_ARG, "ms_shannon_lookup: coordination number must be >= 1, got %d",
           cn);
  MS_CHECK(spin == MS_SPIN_NONE || spin == MS_SPIN_HIGH || spin == MS_SPIN_LOW, MS_ERR_ARG,
           "ms_shannon_lookup: invalid spin %d", (int)spin);
  char name[32];
  ms_species sp = {.Z = Z, .has_ox = 1, .ox = ox};
  ms_species_format(&sp, name, sizeof name);

  const ms_shannon_radius *best = NULL;
  int best_dist = 0, best_rank = 0, any_ox = 0;
  for (size_t k = s_tab->rstart[Z]; k < s_tab->rstart[Z + 1]; ++k) {
    const ms_shannon_radius *r = &s_tab->radii[k];
    if (r->ox != ox) continue;
    any_ox = 1;
    if (spin != MS_SPIN_NONE && r->spin != spin && r->spin != MS_SPIN_NONE) continue;
    int dist = abs(r->cn - cn), rank = entry_rank(r, spin);
    /* Nearest CN; on equal distance the larger CN; at the same CN the better-ranked entry. */
    if (!best || dist < best_dist || (dist == best_dist && r->cn > best->cn) ||
        (r->cn == best->cn && rank < best_rank)) {
      best = r;
      best_dist = dist;
      best_rank = rank;
    }
  }
  if (!best) {
    char states[128] = "";
    size_t used = 0;
    int last = 1000;
    for (size_t k = s_tab->rstart[Z]; k < s_tab->rstart[Z + 1]; ++k) {
      const ms_shannon_radius *r = &s_tab->radii[k];
      if (r->ox == last || used + 8 >= sizeof states) continue;
      char one[32];
      ms_species o = {.Z = Z, .has_ox = 1, .ox = r->ox};
      int w = snprintf(states + used, sizeof states - used, "%s%s", used ? ", " : "",
                       ms_species_format(&o, one, sizeof one));
      if (w > 0) used += (size_t)w;
      last = r->ox;
    }
    if (!any_ox)
      MS_FAIL(MS_ERR_INPUT, "no Shannon radius for %s (tabulated ions of %s: %s)", name,
              s_tab->el[Z].symbol, used ? states : "none");
    MS_FAIL(MS_ERR_INPUT, "no %sShannon radius for %s", spin_word(spin), name);
  }
  *out = *best;
  if (cn_used) *cn_used = best->cn;
  return MS_SUCCESS;
}
