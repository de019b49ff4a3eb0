/* `matscreen export OUT.h5 [--what WHAT] [--format FMT] -d DIR`: write structures stored in a
 * campaign output (/structures) as one structure file each.
 *
 * Rank 0 reads the file serially (H5Fopen with default properties: plain POSIX reads of a file
 * that parallel HDF5 wrote; the output is small next to the run that made it) and writes every
 * file; the other ranks only take part in the agreement on the result, so that under mpirun
 * every rank exits with the same code and the message is printed once.
 *
 * The structures are read one at a time (hyperslabs of the per-site datasets): memory holds
 * the index (three numbers per stored structure) and one structure, whatever the file size.
 * Every requested id is resolved before the first file is written, so a bad id leaves DIR
 * untouched. */
#include <errno.h>
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app.h"
#include "matscreen/output_schema.h"
#include "matscreen/paths.h"
#include "matscreen/h5verify.h"
#include "matscreen/io.h"
#include "matscreen/log.h"

const char ms_usage_export[] =
    "usage: matscreen export OUT.h5 -d DIR [--what WHAT] [--format FMT]\n"
    "\n"
    "Write structures stored in the output of 'matscreen run' as one file per structure,\n"
    "DIR/ID_FORMULA.EXT (ID zero-padded to six digits, e.g. 000123_SrTiO3.cif), with the\n"
    "oxidation states of the sites. The candidate id is also in the title of each file:\n"
    "the CIF data block name, the POSCAR comment line, the extxyz label= key\n"
    "(\"CAMPAIGN candidate ID FORMULA\").\n"
    "\n"
    "options:\n"
    "  -d, --dir DIR      output directory (created, with its parents, if missing)\n"
    "  -w, --what WHAT    which structures:\n"
    "                       survivors   the relaxed structures that passed every stage\n"
    "                                   (/structures rows with survived = 1)\n"
    "                                   (default)\n"
    "                       shortlist   the candidates of /shortlist, in priority order\n"
    "                                   (an error if the file has no /shortlist)\n"
    "                       ids:LIST    candidate ids separated by commas, e.g. ids:3,15,60;\n"
    "                                   an id without a stored structure is an error\n"
    "  -f, --format FMT   cif (default, .cif), poscar (.vasp) or extxyz (.xyz)\n"
    "  -h, --help         show this help\n"
    "\n"
    "Lattices and positions are written as stored (Å, lattice vectors as rows), to 1e-10 Å\n"
    "or better. Existing files of the same name are replaced. The file is read by rank 0;\n"
    "running under mpirun gives the same result.\n"
    "\n"
    "examples:\n"
    "  matscreen export perovskite-oxides.h5 -d survivors\n"
    "  matscreen export perovskite-oxides.h5 --what ids:3,15 --format poscar -d picked\n"
    "  matscreen export perovskite-oxides.h5 --what shortlist --format extxyz -d lab\n"
    "\n"
    "Exit codes: 0 success, 1 bad input or usage (the message names the file and the id),\n"
    "2 runtime failure.\n";

typedef enum { WHAT_SURVIVORS, WHAT_SHORTLIST, WHAT_IDS } what_kind;

/* Longest species text accepted from the file ("Fe2.5+" needs 6; the writer uses 8). */
#define SPECIES_WIDTH_MAX 32
/* Sites of one structure, as the structure readers bound them (io.h). */
#define SITES_MAX 10000000

/* The open output and the index of /structures. */
typedef struct {
  const char *path;
  hid_t file;
  hid_t d_lat, d_spc, d_frac;
  int64_t n;      /* stored structures */
  int64_t nsites; /* rows of the per-site datasets */
  int64_t *cid, *off;
  int64_t *nat;
  size_t species_width;
  char campaign[64];
} store;

/* H5Lexists fails, rather than answering "no", when an intermediate group is missing, so the
 * path is tested one component at a time. */
static int h5_exists(hid_t file, const char *obj) {
  char buf[256];
  size_t n = strlen(obj);
  if (n == 0 || n >= sizeof buf) return 0;
  memcpy(buf, obj, n + 1);
  for (size_t i = 1; i <= n; ++i) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    char save = buf[i];
    buf[i] = '\0';
    htri_t r = H5Lexists(file, buf, H5P_DEFAULT);
    buf[i] = save;
    if (r <= 0) return 0;
  }
  return 1;
}

/* Open dataset @p name, check its type class and shape [rows, tail...], return the rows. */
static ms_err open_rows(const store *s, const char *name, H5T_class_t cls, int ndims,
                        const hsize_t *tail, hid_t *out, int64_t *rows) {
  *out = -1;
  MS_CHECK(h5_exists(s->file, name), MS_ERR_INPUT,
           "%s: %s is missing (not an output of 'matscreen run', or a damaged one)", s->path, name);
  hid_t d = H5Dopen2(s->file, name, H5P_DEFAULT);
  MS_CALL_H5(d, "%s: cannot open %s", s->path, name);
  hid_t t = H5Dget_type(d), sp = H5Dget_space(d);
  hsize_t dims[4] = {0, 0, 0, 0};
  int ok = t >= 0 && sp >= 0 && H5Tget_class(t) == cls && H5Sget_simple_extent_ndims(sp) == ndims;
  if (ok) ok = H5Sget_simple_extent_dims(sp, dims, NULL) == ndims;
  for (int k = 1; ok && k < ndims; ++k) ok = dims[k] == tail[k - 1];
  if (t >= 0) H5Tclose(t);
  if (sp >= 0) H5Sclose(sp);
  if (!ok) {
    H5Dclose(d);
    MS_FAIL(MS_ERR_INPUT, "%s: %s has an unexpected type or shape (docs/output.md)", s->path, name);
  }
  *out = d;
  *rows = (int64_t)dims[0];
  return MS_SUCCESS;
}

/* Rows [start, start + count) of dataset @p d (first dimension), all of the other dimensions. */
static ms_err read_slab(const store *s, hid_t d, const char *name, hid_t memtype, int ndims,
                        int64_t start, int64_t count, const hsize_t *tail, void *buf) {
  hsize_t st[4] = {(hsize_t)start, 0, 0, 0}, cnt[4] = {(hsize_t)count, 1, 1, 1};
  for (int k = 1; k < ndims; ++k) cnt[k] = tail[k - 1];
  hid_t fs = H5Dget_space(d), ms = H5Screate_simple(ndims, cnt, NULL);
  herr_t rc = fs >= 0 && ms >= 0 ? H5Sselect_hyperslab(fs, H5S_SELECT_SET, st, NULL, cnt, NULL) : -1;
  if (rc >= 0) rc = H5Dread(d, memtype, ms, fs, H5P_DEFAULT, buf);
  if (fs >= 0) H5Sclose(fs);
  if (ms >= 0) H5Sclose(ms);
  MS_CALL_H5(rc, "%s: reading rows %lld..%lld of %s failed", s->path, (long long)start,
             (long long)(start + count - 1), name);
  return MS_SUCCESS;
}

/* A whole 1-D integer dataset as int64 (HDF5 converts int32 on reading). */
static ms_err read_ints(const store *s, const char *name, int64_t **out, int64_t *n) {
  hid_t d = -1;
  *out = NULL;
  MS_CALL(open_rows(s, name, H5T_INTEGER, 1, NULL, &d, n));
  int64_t *v = malloc(((size_t)*n + 1) * sizeof *v);
  ms_err e = v ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  if (!e && *n > 0) e = read_slab(s, d, name, H5T_NATIVE_INT64, 1, 0, *n, NULL, v);
  H5Dclose(d);
  if (e) {
    free(v);
    return ms__err_push(e, __FILE__, __LINE__, __func__);
  }
  *out = v;
  return MS_SUCCESS;
}

/* Root attribute "campaign" (a fixed-length string), or "" when absent or of another type. */
static void read_campaign_name(store *s) {
  s->campaign[0] = '\0';
  if (H5Aexists(s->file, MS_OUT_NAME(ATTR_CAMPAIGN)) <= 0) return;
  hid_t a = H5Aopen(s->file, MS_OUT_NAME(ATTR_CAMPAIGN), H5P_DEFAULT);
  hid_t t = a >= 0 ? H5Aget_type(a) : -1;
  if (t >= 0 && H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) == 0) {
    size_t w = H5Tget_size(t);
    char *buf = calloc(w + 1, 1);
    hid_t mt = H5Tcopy(H5T_C_S1);
    if (buf && mt >= 0 && H5Tset_size(mt, w) >= 0 && H5Aread(a, mt, buf) >= 0) {
      /* The name is only a label: keep the characters a campaign name may hold. */
      size_t k = 0;
      for (size_t i = 0; buf[i] && k + 1 < sizeof s->campaign; ++i) {
        char c = buf[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.')
          s->campaign[k++] = c;
      }
      s->campaign[k] = '\0';
    }
    if (mt >= 0) H5Tclose(mt);
    free(buf);
  }
  if (t >= 0) H5Tclose(t);
  if (a >= 0) H5Aclose(a);
}

static void store_close(store *s) {
  if (s->d_lat >= 0) H5Dclose(s->d_lat);
  if (s->d_spc >= 0) H5Dclose(s->d_spc);
  if (s->d_frac >= 0) H5Dclose(s->d_frac);
  if (s->file >= 0) H5Fclose(s->file);
  free(s->cid);
  free(s->off);
  free(s->nat);
  s->d_lat = s->d_spc = s->d_frac = s->file = -1;
  s->cid = s->off = s->nat = NULL;
}

static ms_err store_open(const char *path, store *s) {
  /* Errors are reported through ms_err; HDF5's own stack printing would repeat them. */
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  struct stat st;
  MS_CHECK(stat(path, &st) == 0, MS_ERR_FILE, "%s: cannot open: %s", path, strerror(errno));
  MS_CHECK(!S_ISDIR(st.st_mode), MS_ERR_FILE, "%s: is a directory, expected an HDF5 file",
           path);
  MS_CHECK(H5Fis_hdf5(path) > 0, MS_ERR_INPUT,
           "%s: not an HDF5 file (expected the output of 'matscreen run')", path);
  /* the datasets read below: checked against the file's checksums first */
  const char *const used[] = {
      MS_OUT_PATH(STRUCT_CANDIDATE_ID), MS_OUT_PATH(STRUCT_OFFSET), MS_OUT_PATH(STRUCT_NATOMS), MS_OUT_PATH(STRUCT_LATTICE),
      MS_OUT_PATH(STRUCT_SPECIES), MS_OUT_PATH(STRUCT_FRAC_POSITIONS), MS_OUT_PATH(STRUCT_SURVIVED), MS_OUT_PATH(SL_CANDIDATE_ID),
      MS_OUT_PATH(CAND_ID), MS_OUT_PATH(CAND_DUPLICATE_OF), MS_OUT_PATH(CAND_STATUS), MS_OUT_PATH(CAND_REJECTED_AT_STAGE),
      MS_OUT_PATH(FUNNEL_STAGE)};
  MS_CALL(ms_h5_verify(path, used, (int)(sizeof used / sizeof used[0]), NULL, NULL, NULL));
  s->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  MS_CHECK(s->file >= 0, MS_ERR_FILE, "%s: cannot open the HDF5 file", path);
  read_campaign_name(s);
  char group[64];
  ms_output_parent(MS_OUT_STRUCT_CANDIDATE_ID, group, sizeof group);
  MS_CHECK(h5_exists(s->file, group), MS_ERR_INPUT,
           "%s: no %s group (not an output of 'matscreen run', or a damaged one)", path, group);

  int64_t n_off = 0, n_nat = 0, rows = 0;
  MS_CALL(read_ints(s, MS_OUT_PATH(STRUCT_CANDIDATE_ID), &s->cid, &s->n));
  MS_CALL(read_ints(s, MS_OUT_PATH(STRUCT_OFFSET), &s->off, &n_off));
  MS_CALL(read_ints(s, MS_OUT_PATH(STRUCT_NATOMS), &s->nat, &n_nat));
  MS_CHECK(n_off == s->n && n_nat == s->n, MS_ERR_INPUT,
           "%s: %s, %s and %s differ in length (%lld, %lld, %lld)", path,
           MS_OUT_PATH(STRUCT_CANDIDATE_ID), MS_OUT_NAME(STRUCT_OFFSET), MS_OUT_NAME(STRUCT_NATOMS), (long long)s->n, (long long)n_off, (long long)n_nat);
  const hsize_t lat_tail[2] = {3, 3}, frac_tail[1] = {3};
  MS_CALL(open_rows(s, MS_OUT_PATH(STRUCT_LATTICE), H5T_FLOAT, 3, lat_tail, &s->d_lat, &rows));
  MS_CHECK(rows == s->n, MS_ERR_INPUT, "%s: %s has %lld rows, expected %lld",
           path, MS_OUT_PATH(STRUCT_LATTICE), (long long)rows, (long long)s->n);
  MS_CALL(open_rows(s, MS_OUT_PATH(STRUCT_SPECIES), H5T_STRING, 1, NULL, &s->d_spc, &s->nsites));
  MS_CALL(open_rows(s, MS_OUT_PATH(STRUCT_FRAC_POSITIONS), H5T_FLOAT, 2, frac_tail, &s->d_frac, &rows));
  MS_CHECK(rows == s->nsites, MS_ERR_INPUT,
           "%s: %s has %lld rows but %s %lld", path, MS_OUT_PATH(STRUCT_FRAC_POSITIONS),
           (long long)rows, MS_OUT_PATH(STRUCT_SPECIES), (long long)s->nsites);
  hid_t t = H5Dget_type(s->d_spc);
  int variable = t >= 0 ? H5Tis_variable_str(t) : -1;
  s->species_width = t >= 0 ? H5Tget_size(t) : 0;
  if (t >= 0) H5Tclose(t);
  MS_CHECK(variable == 0 && s->species_width >= 1 && s->species_width <= SPECIES_WIDTH_MAX,
           MS_ERR_INPUT, "%s: %s is not a fixed-length string of at most %d "
           "characters", path, MS_OUT_PATH(STRUCT_SPECIES), SPECIES_WIDTH_MAX);
  return MS_SUCCESS;
}

/* Read stored structure @p k into @p c (replaced). */
static ms_err load_cell_rows(const store *s, int64_t k, ms_cell *c, char *spc, double (*fr)[3]) {
  int64_t off = s->off[k], nat = s->nat[k];
  double lat[3][3];
  const hsize_t lat_tail[2] = {3, 3}, frac_tail[1] = {3};
  MS_CALL(read_slab(s, s->d_lat, MS_OUT_PATH(STRUCT_LATTICE), H5T_NATIVE_DOUBLE, 3, k, 1, lat_tail,
                    lat));
  hid_t mt = H5Tcopy(H5T_C_S1);
  MS_CALL_H5(mt, "HDF5 string type");
  H5Tset_size(mt, s->species_width);
  H5Tset_strpad(mt, H5T_STR_NULLPAD);
  ms_err e = read_slab(s, s->d_spc, MS_OUT_PATH(STRUCT_SPECIES), mt, 1, off, nat, NULL, spc);
  H5Tclose(mt);
  MS_CALL(e);
  MS_CALL(read_slab(s, s->d_frac, MS_OUT_PATH(STRUCT_FRAC_POSITIONS), H5T_NATIVE_DOUBLE, 2, off, nat,
                    frac_tail, fr));
  ms_cell_set_lattice(c, (const double(*)[3])lat);
  MS_CALL(ms_cell_reserve(c, (int)nat));
  for (int64_t i = 0; i < nat; ++i) {
    char text[SPECIES_WIDTH_MAX + 1];
    memcpy(text, spc + (size_t)i * s->species_width, s->species_width);
    text[s->species_width] = '\0';
    ms_species sp;
    if (ms_species_parse(text, &sp) != MS_SUCCESS) {
      ms_err_clear();
      MS_FAIL(MS_ERR_INPUT, "%s: %s row %lld ('%s', candidate %lld) is not an "
              "ion such as Sr2+", s->path, MS_OUT_PATH(STRUCT_SPECIES), (long long)(off + i), text,
              (long long)s->cid[k]);
    }
    MS_CALL(ms_cell_add_atom(c, &sp, fr[i]));
  }
  if (ms_cell_validate(c) != MS_SUCCESS)
    MS_FAIL(MS_ERR_INPUT, "%s: the stored structure of candidate %lld is not usable: %s", s->path,
            (long long)s->cid[k], ms_err_message());
  return MS_SUCCESS;
}

static ms_err load_cell(const store *s, int64_t k, ms_cell *c) {
  int64_t off = s->off[k], nat = s->nat[k];
  MS_CHECK(nat >= 1 && nat <= SITES_MAX && off >= 0 && off <= s->nsites - nat, MS_ERR_INPUT,
           "%s: structure of candidate %lld: %lld sites from row %lld do not fit in the %lld "
           "rows of %s",
           s->path, (long long)s->cid[k], (long long)nat, (long long)off, (long long)s->nsites,
           MS_OUT_PATH(STRUCT_SPECIES));
  ms_cell_free(c);
  char *spc = malloc((size_t)nat * s->species_width);
  double(*fr)[3] = malloc((size_t)nat * sizeof *fr);
  ms_err e = spc && fr ? load_cell_rows(s, k, c, spc, fr)
                       : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  free(spc);
  free(fr);
  if (e) return ms__err_push(e, __FILE__, __LINE__, __func__);
  return MS_SUCCESS;
}

/* ---- choosing the rows ---------------------------------------------------------------------- */

typedef struct {
  int64_t id, row;
} id_row;

static int cmp_id_row(const void *a, const void *b) {
  const id_row *x = a, *y = b;
  if (x->id != y->id) return (x->id > y->id) - (x->id < y->id);
  return (x->row > y->row) - (x->row < y->row);
}

/* Row @p row of a 1-D integer dataset; 0 when it cannot be read (only used for messages). */
static int int_at(const store *s, const char *name, int64_t row, int64_t *v) {
  hid_t d = -1;
  int64_t rows = 0;
  int ok = h5_exists(s->file, name) &&
           open_rows(s, name, H5T_INTEGER, 1, NULL, &d, &rows) == MS_SUCCESS;
  ok = ok && row < rows && read_slab(s, d, name, H5T_NATIVE_INT64, 1, row, 1, NULL, v) == MS_SUCCESS;
  if (d >= 0) H5Dclose(d);
  ms_err_clear();
  return ok;
}

/* Row @p row of a 1-D fixed-length string dataset; 0 when it cannot be read. */
static int str_at(const store *s, const char *name, int64_t row, char *buf, size_t len) {
  hid_t d = -1, mt = -1;
  int64_t rows = 0;
  buf[0] = '\0';
  int ok = h5_exists(s->file, name) &&
           open_rows(s, name, H5T_STRING, 1, NULL, &d, &rows) == MS_SUCCESS && row < rows;
  if (ok) {
    hid_t t = H5Dget_type(d);
    size_t w = t >= 0 && H5Tis_variable_str(t) == 0 ? H5Tget_size(t) : 0;
    if (t >= 0) H5Tclose(t);
    mt = H5Tcopy(H5T_C_S1);
    ok = w > 0 && w < len && mt >= 0 && H5Tset_size(mt, w) >= 0 &&
         H5Tset_strpad(mt, H5T_STR_NULLPAD) >= 0 &&
         read_slab(s, d, name, mt, 1, row, 1, NULL, buf) == MS_SUCCESS;
    buf[ok ? w : 0] = '\0';
  }
  if (mt >= 0) H5Tclose(mt);
  if (d >= 0) H5Dclose(d);
  ms_err_clear();
  return ok;
}

/* Why candidate @p id has no stored structure, from /candidates when the file has it. */
static void explain_missing(const store *s, int64_t id, char *buf, size_t len) {
  int64_t *ids = NULL, n = 0;
  snprintf(buf, len, "no stored structure");
  if (!h5_exists(s->file, MS_OUT_PATH(CAND_ID)) || read_ints(s, MS_OUT_PATH(CAND_ID), &ids, &n)) {
    ms_err_clear();
    return;
  }
  int64_t row = -1;
  for (int64_t k = 0; k < n && row < 0; ++k)
    if (ids[k] == id) row = k;
  free(ids);
  if (row < 0) {
    snprintf(buf, len, "no such candidate in the file (its /candidates table has %lld rows)",
             (long long)n);
    return;
  }
  /* A duplicate points to the kept one; otherwise its last status and the stage that removed
   * it tell the user why it was not kept. */
  int64_t dup = -1, stage = -1;
  if (int_at(s, MS_OUT_PATH(CAND_DUPLICATE_OF), row, &dup) && dup >= 0) {
    snprintf(buf, len, "no stored structure: it is a duplicate of candidate %lld", (long long)dup);
    return;
  }
  char status[64], stage_name[64] = "";
  if (!str_at(s, MS_OUT_PATH(CAND_STATUS), row, status, sizeof status)) snprintf(status, sizeof status, "unknown");
  if (int_at(s, MS_OUT_PATH(CAND_REJECTED_AT_STAGE), row, &stage) && stage >= 0 &&
      !str_at(s, MS_OUT_PATH(FUNNEL_STAGE), stage, stage_name, sizeof stage_name))
    snprintf(stage_name, sizeof stage_name, "%lld", (long long)stage);
  snprintf(buf, len, "no stored structure (status %s%s%s%s; /structures holds the relaxed survivors)",
           status, stage_name[0] ? ", removed at stage '" : "", stage_name,
           stage_name[0] ? "'" : "");
}

/* Stored rows of the given candidate ids, in the given order; the first id without a stored
 * structure is an error naming it. */
static ms_err rows_of_ids(const store *s, const int64_t *ids, int64_t nids, const char *source,
                          int64_t *rows) {
  id_row *index = malloc(((size_t)s->n + 1) * sizeof *index);
  MS_CHECK(index, MS_ERR_MEM, "out of memory");
  for (int64_t k = 0; k < s->n; ++k) index[k] = (id_row){s->cid[k], k};
  if (s->n > 0) qsort(index, (size_t)s->n, sizeof *index, cmp_id_row);
  ms_err e = MS_SUCCESS;
  for (int64_t q = 0; q < nids && !e; ++q) {
    id_row key = {ids[q], -1};
    /* lower bound: the first row of this id (a well-formed file has one) */
    int64_t lo = 0, hi = s->n;
    while (lo < hi) {
      int64_t mid = lo + (hi - lo) / 2;
      if (cmp_id_row(&index[mid], &key) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo < s->n && index[lo].id == ids[q]) {
      rows[q] = index[lo].row;
    } else {
      char why[160];
      explain_missing(s, ids[q], why, sizeof why);
      e = ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__, "%s: candidate %lld (%s): %s",
                      s->path, (long long)ids[q], source, why);
    }
  }
  free(index);
  return e;
}

/* "ids:3,15,60" -> ids. The syntax was checked by parse_what(). */
static ms_err parse_id_list(const char *list, int64_t **ids, int64_t *n) {
  int64_t cap = 1;
  for (const char *p = list; *p; ++p) cap += *p == ',';
  *ids = malloc((size_t)cap * sizeof **ids);
  MS_CHECK(*ids, MS_ERR_MEM, "out of memory");
  *n = 0;
  for (const char *p = list; *p;) {
    char *end = NULL;
    (*ids)[(*n)++] = strtoll(p, &end, 10);
    p = *end == ',' ? end + 1 : end;
  }
  return MS_SUCCESS;
}

/* Syntax of --what, checked on every rank (same arguments, same answer). 0 ok. */
static int parse_what(const char *what, what_kind *kind) {
  if (strcmp(what, "survivors") == 0) {
    *kind = WHAT_SURVIVORS;
    return 0;
  }
  if (strcmp(what, "shortlist") == 0) {
    *kind = WHAT_SHORTLIST;
    return 0;
  }
  if (strncmp(what, "ids:", 4) != 0)
    return ms_app_usage_error("export",
                              "--what expects survivors, shortlist or ids:LIST, got '%s'", what);
  *kind = WHAT_IDS;
  const char *p = what + 4;
  if (!*p)
    return ms_app_usage_error("export", "--what ids: needs candidate ids, e.g. ids:3,15,60");
  while (*p) {
    char *end = NULL;
    errno = 0;
    long long v = (*p >= '0' && *p <= '9') ? strtoll(p, &end, 10) : -1;
    if (v < 0 || errno == ERANGE || (*end != ',' && *end != '\0') ||
        (*end == ',' && end[1] == '\0'))
      return ms_app_usage_error("export",
                                "--what %s: expected candidate ids (non-negative integers) "
                                "separated by commas",
                                what);
    p = *end == ',' ? end + 1 : end;
  }
  return 0;
}

/* Rows to export for @p kind, in order, without repeats. */
static ms_err select_rows(const store *s, what_kind kind, const char *what, int64_t **rows,
                          int64_t *n) {
  int64_t *ids = NULL, nids = 0;
  *rows = NULL;
  *n = 0;
  if (kind == WHAT_SURVIVORS) {
    /* /structures/survived marks the rows that passed every stage (files without it: all) */
    int64_t *surv = NULL, ns = 0;
    if (h5_exists(s->file, MS_OUT_PATH(STRUCT_SURVIVED))) MS_CALL(read_ints(s, MS_OUT_PATH(STRUCT_SURVIVED), &surv, &ns));
    *rows = malloc(((size_t)s->n + 1) * sizeof **rows);
    if (!*rows) {
      free(surv);
      MS_FAIL(MS_ERR_MEM, "out of memory");
    }
    for (int64_t k = 0; k < s->n; ++k)
      if (!surv || (k < ns && surv[k])) (*rows)[(*n)++] = k;
    free(surv);
    return MS_SUCCESS;
  }
  if (kind == WHAT_SHORTLIST) {
    char group[64];
    ms_output_parent(MS_OUT_SL_CANDIDATE_ID, group, sizeof group);
    MS_CHECK(h5_exists(s->file, group), MS_ERR_INPUT,
             "%s has no %s group (the campaign has no shortlist stage); export "
             "--what survivors or --what ids:LIST instead",
             s->path, group);
    MS_CALL(read_ints(s, MS_OUT_PATH(SL_CANDIDATE_ID), &ids, &nids));
  } else {
    MS_CALL(parse_id_list(what + 4, &ids, &nids));
  }
  int64_t *r = malloc(((size_t)nids + 1) * sizeof *r);
  ms_err e = r ? rows_of_ids(s, ids, nids, kind == WHAT_SHORTLIST ? "from /shortlist" : "from --what",
                             r)
               : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  free(ids);
  if (e) {
    free(r);
    return ms__err_push(e, __FILE__, __LINE__, __func__);
  }
  /* An id named twice is written once, at its first place. */
  int64_t kept = 0;
  for (int64_t q = 0; q < nids; ++q) {
    int seen = 0;
    for (int64_t p = 0; p < kept && !seen; ++p) seen = r[p] == r[q];
    if (!seen) r[kept++] = r[q];
  }
  *rows = r;
  *n = kept;
  return MS_SUCCESS;
}

/* ---- writing -------------------------------------------------------------------------------- */

static ms_err write_rows(const store *s, const int64_t *rows, int64_t n, const char *dir,
                         ms_format fmt) {
  const char *ext = fmt == MS_FORMAT_POSCAR ? "vasp" : fmt == MS_FORMAT_EXTXYZ ? "xyz" : "cif";
  ms_cell c;
  ms_cell_init(&c);
  ms_err e = MS_SUCCESS;
  for (int64_t q = 0; q < n && !e; ++q) {
    int64_t k = rows[q];
    long long id = (long long)s->cid[k];
    char formula[64], path[4352];
    e = load_cell(s, k, &c);
    if (!e) e = ms_cell_formula(&c, 1, formula, sizeof formula);
    if (e) break;
    char label[256];
    if (s->campaign[0])
      snprintf(label, sizeof label, "%s candidate %lld %s", s->campaign, id, formula);
    else
      snprintf(label, sizeof label, "candidate %lld %s", id, formula);
    size_t ll = strnlen(label, sizeof c.label - 1);
    memcpy(c.label, label, ll);
    c.label[ll] = '\0';
    int w = snprintf(path, sizeof path, "%s/%06lld_%s.%s", dir, id, formula, ext);
    if (w < 0 || (size_t)w >= sizeof path) {
      e = ms__err_set(MS_ERR_ARG, __FILE__, __LINE__, __func__, "%s: output path too long", dir);
      break;
    }
    e = ms_structure_write(path, fmt, &c, 1);
  }
  ms_cell_free(&c);
  if (e) return ms__err_push(e, __FILE__, __LINE__, __func__);
  return MS_SUCCESS;
}

static ms_err export_file(const char *path, what_kind kind, const char *what, const char *dir,
                          ms_format fmt) {
  store s = {.path = path, .file = -1, .d_lat = -1, .d_spc = -1, .d_frac = -1};
  int64_t *rows = NULL, n = 0;
  ms_err e = store_open(path, &s);
  if (!e) e = select_rows(&s, kind, what, &rows, &n);
  if (!e) e = ms_make_dirs(dir);
  if (!e) e = write_rows(&s, rows, n, dir, fmt);
  if (!e) {
    const char *which = kind == WHAT_SURVIVORS ? "survivors" : kind == WHAT_SHORTLIST ? "shortlist" : "ids";
    if (n == 0)
      ms_log_warn("%s: no structures to export (%s: the file stores none)", path, which);
    else
      ms_log_info("exported %lld structure%s (%s) from %s to %s as %s", (long long)n,
                  n == 1 ? "" : "s", which, path, dir, ms_format_name(fmt));
  }
  free(rows);
  store_close(&s);
  if (e) return ms__err_push(e, __FILE__, __LINE__, __func__);
  return MS_SUCCESS;
}

int ms_cmd_export(int argc, char **argv) {
  const char *path = NULL, *dir = NULL, *what = "survivors", *fmt_name = NULL;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    if (ms_app_opt_is(a, "-h", "--help")) {
      if (ms_app_rank() == 0) fputs(ms_usage_export, stdout);
      return 0;
    } else if (ms_app_opt_is(a, "-d", "--dir")) {
      if (!(dir = ms_app_opt_value(argc, argv, &i, "export"))) return 1;
    } else if (ms_app_opt_is(a, "-w", "--what")) {
      if (!(what = ms_app_opt_value(argc, argv, &i, "export"))) return 1;
    } else if (ms_app_opt_is(a, "-f", "--format")) {
      if (!(fmt_name = ms_app_opt_value(argc, argv, &i, "export"))) return 1;
    } else if (a[0] == '-' && a[1] != '\0') {
      return ms_app_usage_error("export", "unknown option '%s'", a);
    } else if (!path) {
      path = a;
    } else {
      return ms_app_usage_error("export", "too many arguments ('%s'); expected one output file", a);
    }
  }
  if (!path) return ms_app_usage_error("export", "expected the HDF5 output of 'matscreen run'");
  if (!dir) return ms_app_usage_error("export", "give an output directory with -d DIR");
  ms_format fmt = MS_FORMAT_CIF;
  if (fmt_name && ms_format_from_name(fmt_name, &fmt) != MS_SUCCESS)
    return ms_app_usage_error("export", "--format: %s", ms_err_message());
  what_kind kind = WHAT_SURVIVORS;
  if (parse_what(what, &kind)) return 1;

  ms_err e = MS_SUCCESS;
  if (ms_app_rank() == 0) e = export_file(path, kind, what, dir, fmt);
  e = ms_err_agree(MPI_COMM_WORLD, e);
  return ms_app_report(e);
}
