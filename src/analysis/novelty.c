/* Novelty of a candidate against a set of known structures (shortlist.h, docs/shortlist.md).
 *
 * Every known structure is reduced twice at load time (ms_match_prepare), once with elements
 * compared and, when all its sites carry oxidation states, once with species compared, so a
 * check costs only the comparisons. All three levels need equal element compositions and equal
 * primitive site counts, which is what the element-comparison key hashes; the set is sorted by
 * that key and a check compares only the structures of the candidate's key, in load order.
 * The space-group guard of dedup is off: novelty follows pymatgen's StructureMatcher, which has
 * none, and a relaxed candidate a hair off a known symmetry is still that known crystal. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "matscreen/io.h"
#include "matscreen/match.h"
#include "matscreen/shortlist.h"

typedef struct {
  char name[64];
  size_t order;      /* load order: first match wins, whatever the key order */
  int has_ox;        /* every site has an oxidation state */
  ms_match_prep el;  /* elements compared */
  ms_match_prep sp;  /* species compared (prepared only when has_ox) */
} known_entry;

struct ms_known_set {
  size_t n, cap;
  known_entry *k;
};

size_t ms_known_set_size(const ms_known_set *ks) { return ks ? ks->n : 0; }

void ms_known_set_free(ms_known_set **ks) {
  if (!ks || !*ks) return;
  for (size_t i = 0; i < (*ks)->n; ++i) {
    ms_match_prep_free(&(*ks)->k[i].el);
    ms_match_prep_free(&(*ks)->k[i].sp);
  }
  free((*ks)->k);
  free(*ks);
  *ks = NULL;
}

static int all_oxidised(const ms_cell *c) {
  for (int k = 0; k < c->nkinds; ++k)
    if (!c->species[k].has_ox) return 0;
  return 1;
}

/* Options for preparing and comparing: pymatgen's defaults, no space-group guard. */
static void match_options(ms_match_options *m, int compare_elements, double ltol, double stol,
                          double angle_tol) {
  ms_match_options_default(m);
  m->check_spacegroup = 0;
  m->compare_elements = compare_elements;
  m->ltol = ltol;
  m->stol = stol;
  m->angle_tol = angle_tol;
}

/* Copy with truncation to the fixed-size name (names are for people; 63 characters suffice). */
static void set_name(char dst[64], const char *src) {
  size_t n = strlen(src);
  if (n > 63) n = 63;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

static ms_err add_cell(ms_known_set *ks, const ms_cell *c, const char *name) {
  if (ks->n == ks->cap) {
    size_t cap = ks->cap ? 2 * ks->cap : 16;
    MS_CALL(MS_REALLOC(cap, &ks->k));
    ks->cap = cap;
  }
  known_entry *k = &ks->k[ks->n];
  memset(k, 0, sizeof *k);
  ms_match_prep_init(&k->el);
  ms_match_prep_init(&k->sp);
  set_name(k->name, name);
  k->order = ks->n;
  k->has_ox = all_oxidised(c);
  ms_match_options m;
  match_options(&m, 1, 0.2, 0.3, 5);
  ms_err e = ms_match_prepare(c, &m, &k->el);
  if (!e && k->has_ox) {
    m.compare_elements = 0;
    e = ms_match_prepare(c, &m, &k->sp);
  }
  if (e) {
    ms_match_prep_free(&k->el);
    ms_match_prep_free(&k->sp);
    return ms__err_push(e, __FILE__, __LINE__, __func__);
  }
  ks->n++;
  return MS_SUCCESS;
}

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

/* Read one file and add its structures; @p by_label names frames by their label when set. */
static ms_err add_file(ms_known_set *ks, const char *file, ms_format fmt, int by_label) {
  ms_cell_list l;
  ms_cell_list_init(&l);
  ms_err e = ms_structure_read(file, fmt, &l);
  if (!e && l.n == 0) {
    ms_cell_list_free(&l);
    MS_FAIL(MS_ERR_INPUT, "%s: no structure in the file", file);
  }
  char name[64];
  for (int i = 0; !e && i < l.n; ++i) {
    if (by_label && l.cells[i].label[0])
      set_name(name, l.cells[i].label);
    else if (l.n == 1)
      set_name(name, base_name(file));
    else if (snprintf(name, sizeof name, "%.50s[%d]", base_name(file), i) < 0)
      name[0] = '\0';
    e = add_cell(ks, &l.cells[i], name);
  }
  ms_cell_list_free(&l);
  if (e) return ms__err_push(e, __FILE__, __LINE__, __func__);
  return MS_SUCCESS;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_cif_name(const char *s) {
  size_t n = strlen(s);
  return n > 4 && s[n - 4] == '.' && (s[n - 3] | 32) == 'c' && (s[n - 2] | 32) == 'i' &&
         (s[n - 1] | 32) == 'f';
}

/* Every *.cif of a directory, in strcmp order so that the load order (and with it the name a
 * match reports) does not depend on the file system. */
static ms_err add_dir(ms_known_set *ks, const char *dir) {
  DIR *d = opendir(dir);
  MS_CHECK(d, MS_ERR_FILE, "cannot open the known-structure folder '%s': %s", dir, strerror(errno));
  char **names = NULL;
  size_t n = 0, cap = 0;
  ms_err e = MS_SUCCESS;
  struct dirent *de;
  while (!e && (de = readdir(d))) {
    if (!is_cif_name(de->d_name)) continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 32;
      e = MS_REALLOC(cap, &names);
      if (e) break;
    }
    size_t len = strlen(dir) + strlen(de->d_name) + 2;
    names[n] = malloc(len);
    if (!names[n]) {
      e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
      break;
    }
    snprintf(names[n], len, "%s/%s", dir, de->d_name);
    ++n;
  }
  closedir(d);
  if (!e && n == 0)
    e = ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__,
                    "the known-structure folder '%s' has no *.cif file", dir);
  if (!e) qsort(names, n, sizeof *names, cmp_str);
  for (size_t i = 0; !e && i < n; ++i) {
    struct stat st;
    if (stat(names[i], &st) == 0 && !S_ISREG(st.st_mode)) continue;
    e = add_file(ks, names[i], MS_FORMAT_CIF, 0);
  }
  for (size_t i = 0; i < n; ++i) free(names[i]);
  free(names);
  if (e) return ms__err_push(e, __FILE__, __LINE__, __func__);
  return MS_SUCCESS;
}

static int cmp_entry(const void *pa, const void *pb) {
  const known_entry *a = pa, *b = pb;
  if (a->el.key != b->el.key) return a->el.key < b->el.key ? -1 : 1;
  return a->order < b->order ? -1 : a->order > b->order;
}

ms_err ms_known_set_load(const char *path, ms_known_set **out) {
  MS_CHECK(path && out, MS_ERR_ARG, "NULL argument");
  *out = NULL;
  struct stat st;
  MS_CHECK(stat(path, &st) == 0, MS_ERR_FILE, "cannot open the known-structure set '%s': %s", path,
           strerror(errno));
  ms_known_set *ks = NULL;
  MS_CALL(MS_CALLOC(1, &ks));
  ms_err e = S_ISDIR(st.st_mode) ? add_dir(ks, path) : add_file(ks, path, MS_FORMAT_AUTO, 1);
  if (e) {
    ms_known_set_free(&ks);
    return ms__err_push(e, __FILE__, __LINE__, __func__);
  }
  qsort(ks->k, ks->n, sizeof *ks->k, cmp_entry);
  *out = ks;
  return MS_SUCCESS;
}

/* First entry index with key >= @p key. */
static size_t lower_bound(const ms_known_set *ks, uint64_t key) {
  size_t lo = 0, hi = ks->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ks->k[mid].el.key < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

static void set_result(char novelty[16], char known_match[64], const char *what, const char *name) {
  snprintf(novelty, 16, "%s", what);
  set_name(known_match, name);
}

ms_err ms_known_set_check(const ms_known_set *ks, const ms_cell *cell,
                          const ms_shortlist_options *o, char novelty[16], char known_match[64]) {
  MS_CHECK(o && novelty && known_match, MS_ERR_ARG, "NULL argument");
  set_result(novelty, known_match, "unchecked", "");
  if (!ks || !cell) return MS_SUCCESS;
  ms_match_options strict_el, strict_sp, loose;
  match_options(&strict_el, 1, o->strict_ltol, o->strict_stol, o->strict_angle_tol);
  match_options(&strict_sp, 0, o->strict_ltol, o->strict_stol, o->strict_angle_tol);
  match_options(&loose, 1, o->loose_ltol, o->loose_stol, o->loose_angle_tol);
  ms_match_prep el, sp;
  ms_match_prep_init(&el);
  ms_match_prep_init(&sp);
  MS_CALL(ms_match_prepare(cell, &strict_el, &el));
  int has_ox = all_oxidised(cell);
  size_t lo = lower_bound(ks, el.key), hi = lo;
  while (hi < ks->n && ks->k[hi].el.key == el.key) ++hi;
  ms_err e = MS_SUCCESS;
  size_t strict_hit = hi, loose_hit = hi;
  ms_match_result r;
  /* Strict level over the whole bucket first: a strict match anywhere beats a loose one
   * earlier in load order. */
  for (size_t i = lo; !e && i < hi && strict_hit == hi; ++i) {
    const known_entry *k = &ks->k[i];
    if (has_ox && k->has_ox) {
      if (!sp.cell.natoms) e = ms_match_prepare(cell, &strict_sp, &sp);
      if (!e) e = ms_match_prepared(&sp, &k->sp, &strict_sp, 0, &r);
    } else {
      e = ms_match_prepared(&el, &k->el, &strict_el, 0, &r);
    }
    if (!e && r.match) strict_hit = i;
  }
  for (size_t i = lo; !e && strict_hit == hi && i < hi && loose_hit == hi; ++i) {
    e = ms_match_prepared(&el, &ks->k[i].el, &loose, 0, &r);
    if (!e && r.match) loose_hit = i;
  }
  ms_match_prep_free(&el);
  ms_match_prep_free(&sp);
  if (e) return ms__err_push(e, __FILE__, __LINE__, __func__);
  if (strict_hit < hi)
    set_result(novelty, known_match, "known", ks->k[strict_hit].name);
  else if (loose_hit < hi)
    set_result(novelty, known_match, "ordered_variant", ks->k[loose_hit].name);
  else
    set_result(novelty, known_match, "new", "");
  return MS_SUCCESS;
}
