/* Checking an output file against its checksums (h5verify.h), and the digests the writer uses
 * too (h5_digest.h). */
#include "matscreen/h5verify.h"

#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5_digest.h"

/* NAME_W, HEX_W: the widths of the manifest's two datasets (output_schema.def). */
enum { SLAB_BYTES = 4 << 20, NAME_W = MS_OUTW_CHECKSUMS_DATASET, HEX_W = MS_OUTW_CHECKSUMS_SHA256 };

static int host_little_endian(void) {
  const uint16_t one = 1;
  return *(const unsigned char *)&one == 1;
}

void ms__h5_hash_values(ms_sha256 *s, const void *data, size_t nbytes, size_t elem) {
  if (elem <= 1 || host_little_endian()) {
    ms_sha256_update(s, data, nbytes);
    return;
  }
  unsigned char tmp[4096];
  const unsigned char *p = data;
  while (nbytes >= elem) {
    size_t n = nbytes < sizeof tmp ? nbytes : sizeof tmp;
    n -= n % elem;
    for (size_t k = 0; k < n; k += elem)
      for (size_t b = 0; b < elem; ++b) tmp[k + b] = p[k + elem - 1 - b];
    ms_sha256_update(s, tmp, n);
    p += n;
    nbytes -= n;
  }
}

/* ---- root attributes ------------------------------------------------------------------------- */

typedef struct {
  char **v;
  int n, cap;
} name_list;

static herr_t collect_name(hid_t loc, const char *name, const H5A_info_t *info, void *op) {
  (void)loc;
  (void)info;
  name_list *l = op;
  if (l->n == l->cap) {
    int cap = l->cap ? 2 * l->cap : 32;
    char **v = realloc(l->v, (size_t)cap * sizeof *v);
    if (!v) return -1;
    l->v = v;
    l->cap = cap;
  }
  size_t len = strlen(name);
  char *copy = malloc(len + 1);
  if (!copy) return -1;
  memcpy(copy, name, len + 1);
  l->v[l->n++] = copy;
  return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void put_le64(unsigned char out[8], uint64_t v) {
  for (int k = 0; k < 8; ++k) out[k] = (unsigned char)(v >> (8 * k));
}

/* Feed one scalar attribute into @p s; -1 if it cannot be read or is of a type we never write. */
static int hash_attribute(hid_t file, const char *name, ms_sha256 *s) {
  hid_t a = H5Aopen_by_name(file, "/", name, H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0) return -1;
  hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
  int ok = t >= 0 && sp >= 0 && H5Sget_simple_extent_type(sp) == H5S_SCALAR;
  H5T_class_t cls = ok ? H5Tget_class(t) : H5T_NO_CLASS;
  unsigned char le[8];
  ms_sha256_update(s, name, strlen(name) + 1);
  if (ok && cls == H5T_STRING && H5Tis_variable_str(t) == 0) {
    size_t size = H5Tget_size(t);
    char *buf = calloc(size + 1, 1);
    hid_t mt = H5Tcopy(t);
    ok = buf && H5Aread(a, mt, buf) >= 0;
    H5Tclose(mt);
    if (ok) {
      ms_sha256_update(s, "s", 1);
      ms_sha256_update(s, buf, strnlen(buf, size) + 0);
      ms_sha256_update(s, "", 1);
    }
    free(buf);
  } else if (ok && cls == H5T_INTEGER) {
    int64_t v = 0;
    ok = H5Aread(a, H5T_NATIVE_INT64, &v) >= 0;
    put_le64(le, (uint64_t)v);
    ms_sha256_update(s, "i", 1);
    ms_sha256_update(s, le, 8);
  } else if (ok && cls == H5T_FLOAT) {
    double v = 0;
    ok = H5Aread(a, H5T_NATIVE_DOUBLE, &v) >= 0;
    uint64_t bits;
    memcpy(&bits, &v, 8);
    put_le64(le, bits);
    ms_sha256_update(s, "f", 1);
    ms_sha256_update(s, le, 8);
  } else {
    ok = 0;
  }
  if (sp >= 0) H5Sclose(sp);
  if (t >= 0) H5Tclose(t);
  H5Aclose(a);
  return ok ? 0 : -1;
}

int ms__h5_root_attr_digest(hid_t file, char hex[65]) {
  name_list l = {0};
  int rc = H5Aiterate_by_name(file, "/", H5_INDEX_NAME, H5_ITER_INC, NULL, collect_name, &l, H5P_DEFAULT) < 0 ? -1 : 0;
  if (l.n > 1) qsort(l.v, (size_t)l.n, sizeof *l.v, cmp_str);
  ms_sha256 s;
  ms_sha256_init(&s);
  for (int k = 0; k < l.n && rc == 0; ++k)
    if (strcmp(l.v[k], MS_H5_ROOT_DIGEST_ATTR) != 0) rc = hash_attribute(file, l.v[k], &s);
  for (int k = 0; k < l.n; ++k) free(l.v[k]);
  free(l.v);
  if (rc == 0) ms_sha256_hex(&s, hex);
  return rc;
}

/* ---- datasets -------------------------------------------------------------------------------- */

/* Digest of a dataset read back in slabs of rows; -1 if it cannot be read. */
static int dataset_digest(hid_t file, const char *name, char hex[65]) {
  hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
  if (d < 0) return -1;
  hid_t ft = H5Dget_type(d), sp = H5Dget_space(d);
  int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
  hsize_t dims[8] = {0};
  int ok = ft >= 0 && nd >= 1 && nd <= 8 && H5Sget_simple_extent_dims(sp, dims, NULL) == nd;
  hid_t mt = H5I_INVALID_HID;
  size_t elem = 1;
  if (ok) {
    H5T_class_t cls = H5Tget_class(ft);
    size_t size = H5Tget_size(ft);
    if (cls == H5T_STRING && H5Tis_variable_str(ft) == 0) {
      mt = H5Tcopy(ft);
    } else if (cls == H5T_INTEGER && (size == 4 || size == 8)) {
      mt = H5Tcopy(size == 4 ? H5T_NATIVE_INT32 : H5T_NATIVE_INT64);
      elem = size;
    } else if (cls == H5T_FLOAT && size == 8) {
      mt = H5Tcopy(H5T_NATIVE_DOUBLE);
      elem = 8;
    }
    ok = mt >= 0;
  }
  size_t inner = 1;
  for (int k = 1; ok && k < nd; ++k) inner *= (size_t)dims[k];
  size_t rowbytes = ok ? inner * H5Tget_size(mt) : 0;
  hsize_t per = rowbytes ? SLAB_BYTES / rowbytes : 1;
  if (per < 1) per = 1;
  char *buf = ok ? malloc((size_t)per * rowbytes + 1) : NULL;
  ok = ok && buf;
  ms_sha256 s;
  ms_sha256_init(&s);
  for (hsize_t r = 0; ok && r < dims[0]; r += per) {
    hsize_t n = dims[0] - r < per ? dims[0] - r : per;
    hsize_t start[8] = {r}, count[8] = {n};
    for (int k = 1; k < nd; ++k) count[k] = dims[k];
    hid_t fs = H5Dget_space(d), ms = H5Screate_simple(nd, count, NULL);
    ok = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
         H5Dread(d, mt, ms, fs, H5P_DEFAULT, buf) >= 0;
    H5Sclose(ms);
    H5Sclose(fs);
    if (ok) ms__h5_hash_values(&s, buf, (size_t)n * rowbytes, elem);
  }
  free(buf);
  if (mt >= 0) H5Tclose(mt);
  if (ft >= 0) H5Tclose(ft);
  if (sp >= 0) H5Sclose(sp);
  H5Dclose(d);
  if (ok) ms_sha256_hex(&s, hex);
  return ok ? 0 : -1;
}

/* Whole contents of a 1-D fixed-width string dataset of exactly @p width bytes a row. */
static char *read_fixed_strings(hid_t file, const char *name, size_t width, hsize_t *rows) {
  *rows = 0;
  hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
  if (d < 0) return NULL;
  hid_t ft = H5Dget_type(d), sp = H5Dget_space(d);
  char *buf = NULL;
  hsize_t n = 0;
  if (ft >= 0 && sp >= 0 && H5Tget_class(ft) == H5T_STRING && H5Tis_variable_str(ft) == 0 &&
      H5Tget_size(ft) == width && H5Sget_simple_extent_ndims(sp) == 1 &&
      H5Sget_simple_extent_dims(sp, &n, NULL) == 1) {
    buf = malloc((size_t)n * width + 1);
    hid_t mt = H5Tcopy(ft);
    if (buf && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
      free(buf);
      buf = NULL;
    }
    H5Tclose(mt);
  }
  if (ft >= 0) H5Tclose(ft);
  if (sp >= 0) H5Sclose(sp);
  H5Dclose(d);
  if (buf) *rows = n;
  return buf;
}

static int read_hex_attr(hid_t file, const char *name, char out[65]) {
  if (H5Aexists_by_name(file, "/", name, H5P_DEFAULT) <= 0) return -1;
  hid_t a = H5Aopen_by_name(file, "/", name, H5P_DEFAULT, H5P_DEFAULT);
  hid_t t = a >= 0 ? H5Aget_type(a) : H5I_INVALID_HID;
  int ok = t >= 0 && H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) == 0 && H5Tget_size(t) == 65;
  if (ok) {
    hid_t mt = H5Tcopy(t);
    ok = H5Aread(a, mt, out) >= 0;
    H5Tclose(mt);
    out[64] = '\0';
  }
  if (t >= 0) H5Tclose(t);
  if (a >= 0) H5Aclose(a);
  return ok ? 0 : -1;
}

typedef struct {
  char *names, *hexes;
  hsize_t n;
} manifest;

static long manifest_find(const manifest *m, const char *name) {
  long lo = 0, hi = (long)m->n - 1;
  while (lo <= hi) {
    long mid = (lo + hi) / 2;
    int c = strncmp(m->names + (size_t)mid * NAME_W, name, NAME_W);
    if (c == 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

static int dataset_exists(hid_t file, const char *name) {
  /* H5Lexists needs every group on the way to exist: check them one by one. */
  char path[NAME_W + 1];
  snprintf(path, sizeof path, "%s", name);
  for (char *p = strchr(path + 1, '/');; p = strchr(p + 1, '/')) {
    if (p) *p = '\0';
    if (H5Lexists(file, path, H5P_DEFAULT) <= 0) return 0;
    if (!p) break;
    *p = '/';
  }
  H5O_info_t info;
  return H5Oget_info_by_name(file, name, &info, H5P_DEFAULT) >= 0 && info.type == H5O_TYPE_DATASET;
}

typedef struct {
  const manifest *m;
  ms_h5_verify_fn fn;
  void *ctx;
  int unlisted;
  char first[NAME_W + 1];
  const char *group; /* the manifest's group, whose datasets are not listed in it */
} visit_ctx;

static herr_t visit_cb(hid_t obj, const char *name, const H5O_info_t *info, void *op) {
  (void)obj;
  visit_ctx *v = op;
  if (info->type != H5O_TYPE_DATASET) return 0;
  char path[NAME_W + 1];
  if (snprintf(path, sizeof path, "/%s", name) >= (int)sizeof path) return 0; /* longer than any we write */
  size_t glen = strlen(v->group);
  if (strncmp(path, v->group, glen) == 0 && path[glen] == '/') return 0;
  if (manifest_find(v->m, path) >= 0) return 0;
  if (!v->unlisted++) snprintf(v->first, sizeof v->first, "%s", path);
  if (v->fn) v->fn(path, "not in the checksum manifest", v->ctx);
  return 0;
}

ms_err ms_h5_verify(const char *path, const char *const *datasets, int n, ms_h5_verify_fn fn,
                    void *ctx, ms_h5_verify_report *rep) {
  ms_h5_verify_report local;
  if (!rep) rep = &local;
  memset(rep, 0, sizeof *rep);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) {
    H5Eclear2(H5E_DEFAULT);
    MS_FAIL(MS_ERR_FILE, "%s: cannot be opened as an HDF5 file (missing, not HDF5, or damaged)", path);
  }
  ms_err e = MS_SUCCESS;
  manifest m = {0};
  char group[64];
  ms_output_parent(MS_OUT_CHECKSUMS_DATASET, group, sizeof group);
  if (H5Lexists(file, group, H5P_DEFAULT) <= 0) {
    H5Fclose(file);
    H5Eclear2(H5E_DEFAULT);
    return MS_SUCCESS; /* written before checksums existed */
  }
  rep->has_checksums = 1;
  hsize_t nh = 0;
  m.names = read_fixed_strings(file, MS_OUT_PATH(CHECKSUMS_DATASET), NAME_W, &m.n);
  m.hexes = read_fixed_strings(file, MS_OUT_PATH(CHECKSUMS_SHA256), HEX_W, &nh);
  char want[65], have[65];
  if (!m.names || !m.hexes || nh != m.n) {
    e = ms__err_set(MS_ERR_FILE, __FILE__, __LINE__, __func__,
                    "%s: the checksum manifest (%s) is damaged: it cannot be read", path, group);
  } else {
    ms_sha256 s;
    ms_sha256_init(&s);
    ms_sha256_update(&s, m.names, (size_t)m.n * NAME_W);
    ms_sha256_update(&s, m.hexes, (size_t)m.n * HEX_W);
    ms_sha256_hex(&s, have);
    if (read_hex_attr(file, MS_H5_MANIFEST_DIGEST_ATTR, want) != 0 || strcmp(want, have) != 0)
      e = ms__err_set(MS_ERR_FILE, __FILE__, __LINE__, __func__,
                      "%s: the checksum manifest (%s) is damaged: its checksum does not match", path,
                      group);
  }
  if (!e && (read_hex_attr(file, MS_H5_ROOT_DIGEST_ATTR, want) != 0 ||
             ms__h5_root_attr_digest(file, have) != 0 || strcmp(want, have) != 0))
    e = ms__err_set(MS_ERR_FILE, __FILE__, __LINE__, __func__,
                    "%s: the root attributes are damaged: their checksum does not match", path);
  rep->root_ok = !e;
  if (fn) fn("/ (root attributes and checksum manifest)", e ? "damaged" : "ok", ctx);
  int count = datasets ? n : (int)m.n;
  for (int k = 0; k < count && (!e || !datasets); ++k) {
    if (e && !rep->root_ok) break;
    char name[NAME_W + 1];
    if (datasets) snprintf(name, sizeof name, "%s", datasets[k]);
    else {
      memcpy(name, m.names + (size_t)k * NAME_W, NAME_W);
      name[NAME_W] = '\0';
    }
    long row = manifest_find(&m, name);
    int exists = dataset_exists(file, name);
    const char *verdict = "ok";
    char why[NAME_W + 128] = "";
    if (row < 0 && !exists) {
      continue; /* not written by this run (a stage it did not have) */
    } else if (row < 0) {
      rep->damaged++;
      verdict = "damaged: not in the checksum manifest";
      snprintf(why, sizeof why, "dataset %s is not covered by the checksums written with the file", name);
    } else if (!exists) {
      rep->missing++;
      verdict = "missing";
      snprintf(why, sizeof why, "dataset %s is missing", name);
    } else {
      rep->checked++;
      if (dataset_digest(file, name, have) != 0) {
        rep->damaged++;
        verdict = "damaged: it cannot be read";
        snprintf(why, sizeof why, "dataset %s is damaged: it cannot be read (decompression or I/O failed)", name);
      } else if (memcmp(have, m.hexes + (size_t)row * HEX_W, HEX_W) != 0) {
        rep->damaged++;
        verdict = "damaged: its checksum does not match";
        snprintf(why, sizeof why, "dataset %s is damaged: its checksum does not match the one written with the file", name);
      }
    }
    if (fn) fn(name, verdict, ctx);
    if (why[0] && !e) e = ms__err_set(MS_ERR_FILE, __FILE__, __LINE__, __func__, "%s: %s", path, why);
  }
  if (!datasets && rep->root_ok) {
    visit_ctx v = {&m, fn, ctx, 0, "", group};
    H5Ovisit(file, H5_INDEX_NAME, H5_ITER_INC, visit_cb, &v);
    rep->unlisted = v.unlisted;
    if (v.unlisted && !e)
      e = ms__err_set(MS_ERR_FILE, __FILE__, __LINE__, __func__,
                      "%s: dataset %s is not covered by the checksums written with the file", path, v.first);
  }
  free(m.names);
  free(m.hexes);
  H5Fclose(file);
  H5Eclear2(H5E_DEFAULT);
  return e;
}
