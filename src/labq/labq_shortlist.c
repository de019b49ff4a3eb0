/* Lab queue: tickets from the /shortlist of a `matscreen run` output.
 *
 * Read serially with the HDF5 C library (default file access: the library is the parallel
 * build, but one process reading one small group needs no MPI-IO). Each shortlist row becomes a
 * ticket; its relaxed structure, found by candidate id in /structures, becomes CIF text with the
 * writer of io.h, and its hull decomposition becomes the suggested precursors. Layouts:
 * docs/output.md (/structures) and docs/labqueue.md (/shortlist). Strings may be fixed-width
 * (NUL- or space-padded, as matscreen writes them) or variable-length (as h5py writes them by
 * default), so a shortlist written by a script reads as well. */
#include <errno.h>
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "labq_impl.h"
#include "matscreen/h5verify.h"
#include "matscreen/cell.h"
#include "matscreen/io.h"
#include "matscreen/log.h"
#include "matscreen/output_schema.h"
#include "matscreen/species.h"
#include "matscreen/xrd.h"

typedef struct {
  const char *path; /* file name, for messages */
  hid_t file;
} h5src;

/* Dimensions of dataset @p name; MS_ERR_INPUT when it is missing or has the wrong rank. */
static ms_err dset_dims(const h5src *s, const char *name, int rank, hsize_t dims[3]) {
  MS_CHECK(H5Lexists(s->file, name, H5P_DEFAULT) > 0, MS_ERR_INPUT, "%s: no dataset %s", s->path, name);
  hid_t d = H5Dopen2(s->file, name, H5P_DEFAULT);
  MS_CALL_H5(d, "%s: cannot open %s", s->path, name);
  hid_t sp = H5Dget_space(d);
  int r = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
  if (r == rank) H5Sget_simple_extent_dims(sp, dims, NULL);
  if (sp >= 0) H5Sclose(sp);
  H5Dclose(d);
  MS_CHECK(r == rank, MS_ERR_INPUT, "%s: %s has %d dimensions, expected %d", s->path, name, r, rank);
  return MS_SUCCESS;
}

/* Read all of dataset @p name as @p memtype into a new array of @p count elements. */
static ms_err read_all(const h5src *s, const char *name, hid_t memtype, size_t elem, size_t count, void **out) {
  *out = calloc(count ? count : 1, elem);
  MS_CHECK(*out, MS_ERR_MEM, "out of memory reading %s", name);
  hid_t d = H5Dopen2(s->file, name, H5P_DEFAULT);
  herr_t rc = d >= 0 ? H5Dread(d, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) : -1;
  if (d >= 0) H5Dclose(d);
  if (rc < 0) {
    free(*out);
    *out = NULL;
    MS_FAIL(MS_ERR_INPUT, "%s: cannot read %s (expected a numeric dataset)", s->path, name);
  }
  return MS_SUCCESS;
}

/* A 1-D dataset of @p n elements. */
static ms_err read_1d(const h5src *s, const char *name, hid_t memtype, size_t elem, hsize_t n, void **out) {
  hsize_t dims[3];
  MS_CALL(dset_dims(s, name, 1, dims));
  MS_CHECK(dims[0] == n, MS_ERR_INPUT, "%s: %s has %llu rows, expected %llu", s->path, name,
           (unsigned long long)dims[0], (unsigned long long)n);
  return read_all(s, name, memtype, elem, (size_t)n, out);
}

/* Copy one fixed-width string without its padding. */
static char *unpad(const char *p, size_t w, H5T_str_t pad) {
  size_t l = 0;
  while (l < w && p[l]) ++l;
  if (pad == H5T_STR_SPACEPAD)
    while (l && p[l - 1] == ' ') --l;
  char *s = malloc(l + 1);
  if (s) {
    memcpy(s, p, l);
    s[l] = '\0';
  }
  return s;
}

/* Strings of type @p ft read from object @p obj (a dataset or attribute) by @p rd. */
typedef herr_t (*read_fn)(hid_t obj, hid_t memtype, void *buf);
static herr_t rd_dset(hid_t obj, hid_t mt, void *buf) { return H5Dread(obj, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf); }
static herr_t rd_attr(hid_t obj, hid_t mt, void *buf) { return H5Aread(obj, mt, buf); }

static ms_err read_strings_obj(const h5src *s, const char *name, hid_t obj, hid_t space, hid_t ft, read_fn rd,
                               size_t n, char ***out) {
  MS_CHECK(H5Tget_class(ft) == H5T_STRING, MS_ERR_INPUT, "%s: %s is not a string", s->path, name);
  char **v = calloc(n ? n : 1, sizeof *v);
  MS_CHECK(v, MS_ERR_MEM, "out of memory reading %s", name);
  ms_err e = MS_SUCCESS;
  hid_t mt = H5Tcopy(H5T_C_S1);
  if (H5Tis_variable_str(ft) > 0) {
    char **raw = calloc(n ? n : 1, sizeof *raw);
    H5Tset_size(mt, H5T_VARIABLE);
    if (!raw || rd(obj, mt, raw) < 0) {
      e = ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__, "%s: cannot read the strings of %s", s->path, name);
    } else {
      for (size_t k = 0; k < n && !e; ++k)
        if (!(v[k] = strdup(raw[k] ? raw[k] : "")))
          e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
      H5Dvlen_reclaim(mt, space, H5P_DEFAULT, raw);
    }
    free(raw);
  } else {
    size_t w = H5Tget_size(ft);
    H5T_str_t pad = H5Tget_strpad(ft);
    char *raw = calloc(n ? n : 1, w ? w : 1);
    /* read with the file's own string type, so nothing is converted or cut; unpad() copies */
    if (!raw || rd(obj, ft, raw) < 0) {
      e = ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__, "%s: cannot read the strings of %s", s->path, name);
    } else {
      for (size_t k = 0; k < n && !e; ++k)
        if (!(v[k] = unpad(raw + k * w, w, pad)))
          e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
    }
    free(raw);
  }
  H5Tclose(mt);
  if (e) {
    for (size_t k = 0; k < n; ++k) free(v[k]);
    free(v);
    return e;
  }
  *out = v;
  return MS_SUCCESS;
}

static void free_strings(char **v, size_t n) {
  if (!v) return;
  for (size_t k = 0; k < n; ++k) free(v[k]);
  free(v);
}

static ms_err read_strings(const h5src *s, const char *name, hsize_t n, char ***out) {
  hsize_t dims[3];
  MS_CALL(dset_dims(s, name, 1, dims));
  MS_CHECK(dims[0] == n, MS_ERR_INPUT, "%s: %s has %llu rows, expected %llu", s->path, name,
           (unsigned long long)dims[0], (unsigned long long)n);
  hid_t d = H5Dopen2(s->file, name, H5P_DEFAULT);
  MS_CALL_H5(d, "%s: cannot open %s", s->path, name);
  hid_t ft = H5Dget_type(d), sp = H5Dget_space(d);
  ms_err e = read_strings_obj(s, name, d, sp, ft, rd_dset, (size_t)n, out);
  H5Sclose(sp);
  H5Tclose(ft);
  H5Dclose(d);
  return e;
}

/* String attribute @p name of object @p obj (NULL in *out when absent). */
static ms_err attr_string(const h5src *s, const char *obj, const char *name, char **out) {
  *out = NULL;
  if (H5Aexists_by_name(s->file, obj, name, H5P_DEFAULT) <= 0) return MS_SUCCESS;
  hid_t a = H5Aopen_by_name(s->file, obj, name, H5P_DEFAULT, H5P_DEFAULT);
  MS_CALL_H5(a, "%s: cannot open attribute %s of %s", s->path, name, obj);
  hid_t ft = H5Aget_type(a), sp = H5Aget_space(a);
  hssize_t npoints = H5Sget_simple_extent_npoints(sp);
  char **v = NULL;
  ms_err e = npoints == 1 ? read_strings_obj(s, name, a, sp, ft, rd_attr, 1, &v)
                          : ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__,
                                        "%s: attribute %s of %s is not one string", s->path, name, obj);
  H5Sclose(sp);
  H5Tclose(ft);
  H5Aclose(a);
  if (!e) {
    *out = v[0];
    free(v);
  }
  return e;
}

/* Integer attribute; *found = 0 when absent. */
static ms_err attr_int(const h5src *s, const char *obj, const char *name, int64_t *out, int *found) {
  *found = 0;
  if (H5Aexists_by_name(s->file, obj, name, H5P_DEFAULT) <= 0) return MS_SUCCESS;
  hid_t a = H5Aopen_by_name(s->file, obj, name, H5P_DEFAULT, H5P_DEFAULT);
  MS_CALL_H5(a, "%s: cannot open attribute %s of %s", s->path, name, obj);
  long long v = 0;
  herr_t rc = H5Aread(a, H5T_NATIVE_LLONG, &v);
  H5Aclose(a);
  MS_CHECK(rc >= 0, MS_ERR_INPUT, "%s: attribute %s of %s is not an integer", s->path, name, obj);
  *out = v;
  *found = 1;
  return MS_SUCCESS;
}

/* /structures, indexed by candidate id. */
struct row_key {
  int64_t id;
  size_t row;
};

typedef struct {
  hsize_t m, total;
  int64_t *cand, *offset;
  int32_t *natoms;
  double *lattice, *frac;
  char **species;
  struct row_key *order; /* (candidate id, row), sorted by candidate id */
} structures;

static void structures_free(structures *st) {
  free(st->cand);
  free(st->offset);
  free(st->natoms);
  free(st->lattice);
  free(st->frac);
  free_strings(st->species, (size_t)st->total);
  free(st->order);
  memset(st, 0, sizeof *st);
}

static int cmp_rows(const void *a, const void *b) {
  int64_t x = ((const struct row_key *)a)->id, y = ((const struct row_key *)b)->id;
  return (x > y) - (x < y);
}

static ms_err read_structures(const h5src *s, structures *st) {
  memset(st, 0, sizeof *st);
  char group[64];
  ms_output_parent(MS_OUT_STRUCT_CANDIDATE_ID, group, sizeof group);
  if (H5Lexists(s->file, group, H5P_DEFAULT) <= 0) return MS_SUCCESS; /* no relaxed survivors */
  hsize_t dims[3];
  MS_CALL(dset_dims(s, MS_OUT_PATH(STRUCT_CANDIDATE_ID), 1, dims));
  st->m = dims[0];
  MS_CALL(dset_dims(s, MS_OUT_PATH(STRUCT_FRAC_POSITIONS), 2, dims));
  MS_CHECK(dims[1] == 3, MS_ERR_INPUT, "%s: %s is not [n, 3]", s->path, MS_OUT_PATH(STRUCT_FRAC_POSITIONS));
  st->total = dims[0];
  MS_CALL(dset_dims(s, MS_OUT_PATH(STRUCT_LATTICE), 3, dims));
  MS_CHECK(dims[0] == st->m && dims[1] == 3 && dims[2] == 3, MS_ERR_INPUT,
           "%s: %s is not [%llu, 3, 3]", s->path, MS_OUT_PATH(STRUCT_LATTICE), (unsigned long long)st->m);
  MS_CALL(read_all(s, MS_OUT_PATH(STRUCT_CANDIDATE_ID), H5T_NATIVE_INT64, sizeof(int64_t), st->m, (void **)&st->cand));
  MS_CALL(read_1d(s, MS_OUT_PATH(STRUCT_OFFSET), H5T_NATIVE_INT64, sizeof(int64_t), st->m, (void **)&st->offset));
  MS_CALL(read_1d(s, MS_OUT_PATH(STRUCT_NATOMS), H5T_NATIVE_INT32, sizeof(int32_t), st->m, (void **)&st->natoms));
  MS_CALL(read_all(s, MS_OUT_PATH(STRUCT_LATTICE), H5T_NATIVE_DOUBLE, sizeof(double), 9 * st->m, (void **)&st->lattice));
  MS_CALL(read_all(s, MS_OUT_PATH(STRUCT_FRAC_POSITIONS), H5T_NATIVE_DOUBLE, sizeof(double), 3 * st->total,
                   (void **)&st->frac));
  MS_CALL(read_strings(s, MS_OUT_PATH(STRUCT_SPECIES), st->total, &st->species));
  for (hsize_t k = 0; k < st->m; ++k)
    MS_CHECK(st->natoms[k] >= 1 && st->offset[k] >= 0 && (hsize_t)st->offset[k] + (hsize_t)st->natoms[k] <= st->total,
             MS_ERR_INPUT, "%s: %s row %llu: sites %lld..%lld are outside the %llu site rows", s->path,
             group, (unsigned long long)k, (long long)st->offset[k], (long long)st->offset[k] + st->natoms[k] - 1,
             (unsigned long long)st->total);
  st->order = malloc((st->m ? st->m : 1) * sizeof *st->order);
  MS_CHECK(st->order, MS_ERR_MEM, "out of memory");
  for (size_t k = 0; k < st->m; ++k) st->order[k] = (struct row_key){st->cand[k], k};
  qsort(st->order, (size_t)st->m, sizeof *st->order, cmp_rows);
  return MS_SUCCESS;
}

/* Row of /structures holding candidate @p id, or -1. */
static long long find_structure(const structures *st, int64_t id) {
  size_t lo = 0, hi = (size_t)st->m;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (st->order[mid].id < id) lo = mid + 1; else hi = mid;
  }
  return lo < st->m && st->order[lo].id == id ? (long long)st->order[lo].row : -1;
}

static ms_err build_cell(const h5src *s, const structures *st, size_t row, const char *label, ms_cell *c) {
  double L[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) L[i][j] = st->lattice[9 * row + 3 * (size_t)i + (size_t)j];
  ms_cell_set_lattice(c, L);
  snprintf(c->label, sizeof c->label, "%s", label);
  for (int a = 0; a < st->natoms[row]; ++a) {
    size_t site = (size_t)st->offset[row] + (size_t)a;
    ms_species sp;
    ms_err e = ms_species_parse(st->species[site], &sp);
    if (e) MS_FAIL(MS_ERR_INPUT, "%s: %s row %zu: %s", s->path, MS_OUT_PATH(STRUCT_SPECIES), site, ms_err_message());
    MS_CALL(ms_cell_add_atom(c, &sp, st->frac + 3 * site));
  }
  return ms_cell_validate(c);
}

static ms_err cif_text(const ms_cell *c, char **out) {
  char *buf = NULL;
  size_t size = 0;
  FILE *fp = open_memstream(&buf, &size);
  MS_CHECK(fp, MS_ERR_MEM, "out of memory");
  ms_err e = ms_cif_write(fp, c);
  if (fclose(fp) != 0 && !e) e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  if (e) {
    free(buf);
    return e;
  }
  *out = buf;
  return MS_SUCCESS;
}

/* XRD: the predicted powder pattern of the relaxed structure (Cu K-alpha, 2-theta 0-90 degrees,
 * the defaults of xrd.h), for the lab to compare its diffractogram with. This is the one place
 * a ticket's xrd column is made; a failure here (an element without scattering factors) leaves
 * the ticket without a pattern instead of refusing the whole shortlist. */
static ms_err xrd_json(const ms_cell *c, char **out) {
  *out = NULL;
  ms_xrd_peak *peaks = NULL;
  size_t n = 0;
  ms_err e = ms_xrd_pattern(c, NULL, &peaks, &n);
  if (!e) e = ms_xrd_json(peaks, n, out);
  free(peaks);
  if (e) {
    ms_log_warn("%s: no XRD pattern: %s", c->label, ms_err_message());
    ms_err_clear();
    *out = NULL;
  }
  return MS_SUCCESS;
}

/* The columns of /shortlist. */
typedef struct {
  hsize_t n;
  int64_t *cand;
  int32_t *priority, *spacegroup;
  double *score, *ehull, *unc;
  char **formula, **prototype, **decomposition, **novelty, **known_match;
} shortlist;

static void shortlist_free(shortlist *sl) {
  free(sl->cand);
  free(sl->priority);
  free(sl->spacegroup);
  free(sl->score);
  free(sl->ehull);
  free(sl->unc);
  size_t n = (size_t)sl->n;
  free_strings(sl->formula, n);
  free_strings(sl->prototype, n);
  free_strings(sl->decomposition, n);
  free_strings(sl->novelty, n);
  free_strings(sl->known_match, n);
  memset(sl, 0, sizeof *sl);
}

static ms_err read_shortlist_cols(const h5src *s, shortlist *sl) {
  memset(sl, 0, sizeof *sl);
  char group[64];
  ms_output_parent(MS_OUT_SL_CANDIDATE_ID, group, sizeof group);
  MS_CHECK(H5Lexists(s->file, group, H5P_DEFAULT) > 0, MS_ERR_INPUT,
           "%s: no %s group (the run had no shortlist stage, or the file is not a matscreen run output)",
           s->path, group);
  hsize_t dims[3];
  MS_CALL(dset_dims(s, MS_OUT_PATH(SL_CANDIDATE_ID), 1, dims));
  sl->n = dims[0];
  hsize_t n = sl->n;
  MS_CALL(read_all(s, MS_OUT_PATH(SL_CANDIDATE_ID), H5T_NATIVE_INT64, sizeof(int64_t), n, (void **)&sl->cand));
  MS_CALL(read_1d(s, MS_OUT_PATH(SL_PRIORITY), H5T_NATIVE_INT32, sizeof(int32_t), n, (void **)&sl->priority));
  MS_CALL(read_1d(s, MS_OUT_PATH(SL_SPACEGROUP), H5T_NATIVE_INT32, sizeof(int32_t), n, (void **)&sl->spacegroup));
  MS_CALL(read_1d(s, MS_OUT_PATH(SL_SCORE), H5T_NATIVE_DOUBLE, sizeof(double), n, (void **)&sl->score));
  MS_CALL(read_1d(s, MS_OUT_PATH(SL_E_ABOVE_HULL), H5T_NATIVE_DOUBLE, sizeof(double), n,
                  (void **)&sl->ehull));
  MS_CALL(read_1d(s, MS_OUT_PATH(SL_UNCERTAINTY), H5T_NATIVE_DOUBLE, sizeof(double), n,
                  (void **)&sl->unc));
  MS_CALL(read_strings(s, MS_OUT_PATH(SL_FORMULA), n, &sl->formula));
  MS_CALL(read_strings(s, MS_OUT_PATH(SL_PROTOTYPE), n, &sl->prototype));
  MS_CALL(read_strings(s, MS_OUT_PATH(SL_DECOMPOSITION), n, &sl->decomposition));
  MS_CALL(read_strings(s, MS_OUT_PATH(SL_NOVELTY), n, &sl->novelty));
  MS_CALL(read_strings(s, MS_OUT_PATH(SL_KNOWN_MATCH), n, &sl->known_match));
  for (hsize_t k = 0; k < n; ++k)
    MS_CHECK(sl->priority[k] >= 1, MS_ERR_INPUT, "%s: %s row %llu is %d (1 = first)", s->path,
             MS_OUT_PATH(SL_PRIORITY), (unsigned long long)k, (int)sl->priority[k]);
  return MS_SUCCESS;
}

static ms_err make_ticket(const h5src *s, const shortlist *sl, const structures *st, size_t k,
                          const char *campaign, int64_t round, ms_labq_ticket *t) {
  memset(t, 0, sizeof *t);
  t->campaign = strdup(campaign);
  t->formula = strdup(sl->formula[k]);
  t->prototype = strdup(sl->prototype[k]);
  t->novelty = strdup(sl->novelty[k]);
  t->known_match = strdup(sl->known_match[k]);
  MS_CHECK(t->campaign && t->formula && t->prototype && t->novelty && t->known_match, MS_ERR_MEM, "out of memory");
  t->round = round;
  t->candidate_id = sl->cand[k];
  t->spacegroup = sl->spacegroup[k];
  t->priority = sl->priority[k];
  t->score = sl->score[k];
  t->e_above_hull_eV_per_atom = sl->ehull[k];
  t->uncertainty_eV_per_atom = sl->unc[k];
  long long row = find_structure(st, t->candidate_id);
  ms_err e = MS_SUCCESS;
  if (row < 0) {
    /* A ticket is still useful without a structure (the lab has the formula and prototype);
     * without ions there are no end members, so its precursors come from the decomposition. */
    e = ms_labq_precursors_json(sl->decomposition[k], sl->formula[k], &t->precursors);
    if (e) MS_FAIL(MS_ERR_INPUT, "%s: /shortlist row %zu (candidate %lld): %s", s->path, k, (long long)t->candidate_id,
                   ms_err_message());
    ms_log_warn("%s: candidate %lld of the shortlist has no relaxed structure in /structures; its ticket has no CIF",
                s->path, (long long)t->candidate_id);
    return MS_SUCCESS;
  }
  ms_cell c;
  ms_cell_init(&c);
  char label[MS_CELL_LABEL_MAX];
  snprintf(label, sizeof label, "%s_candidate_%lld", campaign, (long long)t->candidate_id);
  e = build_cell(s, st, (size_t)row, label, &c);
  if (e) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", ms_err_message());
    ms_cell_free(&c);
    MS_FAIL(MS_ERR_INPUT, "%s: structure of candidate %lld: %s", s->path, (long long)t->candidate_id, msg);
  }
  /* Precursors: the end-member binaries of its ions, for every ticket (a compound on the hull
   * has no decomposition, and one above it may decompose into other candidates, which are not
   * what a lab weighs in); for plain elements (intermetallics) the elements themselves. Ions
   * the binaries cannot describe (several anions) fall back to the decomposition. */
  e = ms_labq_binary_precursors_json(&c, &t->precursors);
  if (e == MS_ERR_INPUT) {
    ms_err_clear();
    e = ms_labq_element_precursors_json(&c, &t->precursors);
  }
  if (e == MS_ERR_INPUT) {
    ms_err_clear();
    e = ms_labq_precursors_json(sl->decomposition[k], sl->formula[k], &t->precursors);
    if (e) {
      ms_cell_free(&c);
      MS_FAIL(MS_ERR_INPUT, "%s: /shortlist row %zu (candidate %lld): %s", s->path, k, (long long)t->candidate_id,
              ms_err_message());
    }
  }
  if (!e) e = cif_text(&c, &t->cif);
  if (!e) e = xrd_json(&c, &t->xrd);
  ms_cell_free(&c);
  return e;
}

static ms_err read_file(const h5src *s, int64_t round_override, ms_labq_ticket **out, size_t *nout) {
  shortlist sl;
  structures st;
  char *campaign = NULL;
  ms_labq_ticket *t = NULL;
  size_t made = 0;
  ms_err e = read_shortlist_cols(s, &sl);
  if (!e) e = read_structures(s, &st);
  else memset(&st, 0, sizeof st);
  if (!e) e = attr_string(s, MS_OUT_GROUP(ATTR_CAMPAIGN), MS_OUT_NAME(ATTR_CAMPAIGN), &campaign);
  if (!e && (!campaign || !*campaign))
    e = ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__, "%s: no \"%s\" attribute on %s", s->path,
                    MS_OUT_NAME(ATTR_CAMPAIGN), MS_OUT_GROUP(ATTR_CAMPAIGN));
  int64_t round = 0;
  int found = 0;
  if (!e) e = attr_int(s, MS_OUT_GROUP(SL_ATTR_ROUND), MS_OUT_NAME(SL_ATTR_ROUND), &round, &found);
  if (!e && round_override >= 0) round = round_override;
  else if (!e && !found)
    e = ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__,
                    "%s: %s has no \"%s\" attribute (give the round with --round N)", s->path,
                    MS_OUT_GROUP(SL_ATTR_ROUND), MS_OUT_NAME(SL_ATTR_ROUND));
  if (!e && sl.n) {
    t = calloc((size_t)sl.n, sizeof *t);
    if (!t) e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  }
  for (size_t k = 0; !e && k < (size_t)sl.n; ++k) {
    e = make_ticket(s, &sl, &st, k, campaign, round, &t[k]);
    made = k + 1;
  }
  if (e) {
    ms_labq_tickets_free(&t, made);
  } else {
    *out = t;
    *nout = (size_t)sl.n;
  }
  free(campaign);
  shortlist_free(&sl);
  structures_free(&st);
  return e;
}

ms_err ms_labq_read_shortlist(const char *h5path, int64_t round_override, ms_labq_ticket **out, size_t *n) {
  MS_CHECK(h5path && out && n, MS_ERR_ARG, "ms_labq_read_shortlist: NULL argument");
  *out = NULL;
  *n = 0;
  /* HDF5 would print its own error stack; errors are reported through ms_err instead. */
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  MS_CHECK(access(h5path, R_OK) == 0, MS_ERR_FILE, "%s: cannot open: %s", h5path, strerror(errno));
  MS_CHECK(H5Fis_hdf5(h5path) > 0, MS_ERR_INPUT, "%s: not an HDF5 file (expected the output of matscreen run)", h5path);
  /* Tickets go to a lab: refuse a damaged file instead of sending wrong numbers there. */
  /* the datasets read below: checked against the file's checksums first */
  const char *const used[] = {
      MS_OUT_PATH(SL_CANDIDATE_ID), MS_OUT_PATH(SL_PRIORITY), MS_OUT_PATH(SL_SPACEGROUP), MS_OUT_PATH(SL_SCORE),
      MS_OUT_PATH(SL_E_ABOVE_HULL), MS_OUT_PATH(SL_UNCERTAINTY), MS_OUT_PATH(SL_FORMULA),
      MS_OUT_PATH(SL_PROTOTYPE), MS_OUT_PATH(SL_DECOMPOSITION), MS_OUT_PATH(SL_NOVELTY), MS_OUT_PATH(SL_KNOWN_MATCH),
      MS_OUT_PATH(STRUCT_CANDIDATE_ID), MS_OUT_PATH(STRUCT_OFFSET), MS_OUT_PATH(STRUCT_NATOMS), MS_OUT_PATH(STRUCT_LATTICE),
      MS_OUT_PATH(STRUCT_SPECIES), MS_OUT_PATH(STRUCT_FRAC_POSITIONS)};
  MS_CALL(ms_h5_verify(h5path, used, (int)(sizeof used / sizeof used[0]), NULL, NULL, NULL));
  h5src s = {h5path, H5Fopen(h5path, H5F_ACC_RDONLY, H5P_DEFAULT)};
  MS_CHECK(s.file >= 0, MS_ERR_INPUT, "%s: not an HDF5 file (expected the output of matscreen run)", h5path);
  ms_err e = read_file(&s, round_override, out, n);
  H5Fclose(s.file);
  return e;
}
