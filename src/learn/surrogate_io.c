/* Saving a surrogate into a run's HDF5 output and loading it back (surrogate.h; the layout is
 * in docs/surrogate.md, "Saved format").
 *
 * Everything prediction reads is stored in binary64 as used (frequencies already divided by
 * the length scale), so a loaded model predicts bitwise what the trained one did. Writing is
 * collective through h5out (rank 0 contributes the rows, the others none); reading is a plain
 * serial HDF5 read, which the parallel library allows with the default file access list. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn/surrogate_impl.h"
#include "matscreen/descriptors.h"
#include "matscreen/output_schema.h"
#include "ms_config.h"

#define FORMAT_NAME "matscreen-surrogate"

/* The group's attribute names are the saved surrogate's lines of the output schema
 * (output_schema.def, SUR_ATTR_*), whatever group the model is written to. */
#define A(id) MS_OUT_NAME(SUR_ATTR_##id)

/* The model's names are stored at the schema's width (output_schema.def). */
_Static_assert(MS__SURR_NAME_LEN == MS_OUTW_SUR_COLUMN_NAMES, "surrogate column name width");

/* ---- writing ---------------------------------------------------------------------------- */

ms_err ms_surrogate_write(const ms_surrogate s, MPI_Comm comm, ms_h5 f, const char *group) {
  int rank = 0;
  MS_CALL_MPI(MPI_Comm_rank(comm, &rank));
  ms_err e = s && f && group && group[0] && strcmp(group, "/") != 0 && strlen(group) < 200
                 ? MS_SUCCESS
                 : ms__err_set(MS_ERR_ARG, __FILE__, __LINE__, __func__,
                               "ms_surrogate_write: NULL model or file, or a group name "
                               "that is empty, \"/\" or long");
  MS_CALL(ms_err_agree(comm, e));
  char g[256], name[320];
  int len = snprintf(g, sizeof g, "%s", group);
  if (len > 1 && g[len - 1] == '/') g[len - 1] = '\0';
  const int M = s->opt.members;
  const int64_t Mp = (int64_t)M * s->p;
  /* Every rank holds the same model; rank 0 contributes the rows, the others none. */
  const int first = rank == 0;
  /* h5out calls are collective: agree after each so that no rank goes on alone. */
#define W(call)                              \
  do {                                       \
    if (!e) e = ms_err_agree(comm, (call));  \
  } while (0)
#define N(leaf) (snprintf(name, sizeof name, "%s/%s", g, leaf), name)
  W(ms_h5_write_strings(f, N(MS_OUT_NAME(SUR_COLUMN_NAMES)), first ? s->d : 0, MS_OUTW_SUR_COLUMN_NAMES,
                        (const char *)s->names));
  W(ms_h5_write_double(f, N(MS_OUT_NAME(SUR_STANDARDIZE_MEAN)), first ? s->d : 0, 1, s->mu, 0));
  W(ms_h5_write_double(f, N(MS_OUT_NAME(SUR_STANDARDIZE_SCALE)), first ? s->d : 0, 1, s->scale, 0));
  W(ms_h5_write_double(f, N(MS_OUT_NAME(SUR_RFF_FREQUENCIES)), first ? Mp : 0, s->d, s->freq, 0));
  W(ms_h5_write_double(f, N(MS_OUT_NAME(SUR_RFF_PHASES)), first ? Mp : 0, 1, s->phase, 0));
  W(ms_h5_write_double(f, N(MS_OUT_NAME(SUR_WEIGHTS)), first ? M : 0, s->nw, s->weight, 0));
  W(ms_h5_write_double(f, N(MS_OUT_NAME(SUR_INTERCEPTS)), first ? M : 0, 1, s->intercept, 0));
  W(ms_h5_write_double(f, N(MS_OUT_NAME(SUR_LAMBDA_ABS)), first ? M : 0, 1, s->lambda_abs, 0));
  if (s->opt.noise == 2) {
    W(ms_h5_write_double(f, N(MS_OUT_NAME(SUR_NOISE_WEIGHTS)), first ? M : 0, s->nw, s->noise_w, 0));
    W(ms_h5_write_double(f, N(MS_OUT_NAME(SUR_NOISE_INTERCEPTS)), first ? M : 0, 1, s->noise_b, 0));
  }
#undef N
  int64_t seed_bits;
  memcpy(&seed_bits, &s->opt.seed, sizeof seed_bits);
  char seed_text[32];
  snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)s->opt.seed);
  W(ms_h5_attr_str(f, g, A(FORMAT), FORMAT_NAME));
  W(ms_h5_attr_int(f, g, A(FORMAT_VERSION), MS_SURROGATE_FORMAT_VERSION));
  W(ms_h5_attr_str(f, g, A(PROGRAM_VERSION), MS_VERSION));
  W(ms_h5_attr_int(f, g, A(DESCRIPTOR_NAMES), s->descriptor_names));
  W(ms_h5_attr_int(f, g, A(DESCRIPTORS_VERSION), MS_DESCRIPTORS_VERSION));
  W(ms_h5_attr_int(f, g, A(D), s->d));
  W(ms_h5_attr_int(f, g, A(MEMBERS), M));
  W(ms_h5_attr_int(f, g, A(FEATURES), s->p));
  W(ms_h5_attr_int(f, g, A(LINEAR), s->opt.linear));
  W(ms_h5_attr_int(f, g, A(NOISE), s->opt.noise));
  W(ms_h5_attr_int(f, g, A(TARGET_DELTA), s->opt.target_delta));
  W(ms_h5_attr_int(f, g, A(BASELINE_COLUMN), s->baseline));
  W(ms_h5_attr_int(f, g, A(SEED), seed_bits));
  W(ms_h5_attr_str(f, g, A(SEED_DECIMAL), seed_text));
  W(ms_h5_attr_int(f, g, A(NTRAIN), s->ntrain));
  W(ms_h5_attr_double(f, g, A(LAMBDA), s->opt.lambda));
  W(ms_h5_attr_double(f, g, A(LENGTH_SCALE_OPTION), s->opt.length_scale));
  W(ms_h5_attr_double(f, g, A(LENGTH_SCALE), s->length_scale));
  W(ms_h5_attr_double(f, g, A(NOISE_VARIANCE), s->noise_var));
  W(ms_h5_attr_double(f, g, A(OOB_RMSE), s->oob_rmse));
  W(ms_h5_attr_int(f, g, A(OOB_ROWS), s->oob_rows));
  if (s->opt.noise == 2) {
    W(ms_h5_attr_double(f, g, A(NOISE_LOG_MIN), s->noise_lo));
    W(ms_h5_attr_double(f, g, A(NOISE_LOG_MAX), s->noise_hi));
  }
  W(ms_h5_attr_str(f, g, A(DESCRIPTION),
                   "ensemble of ridge regressions on random Fourier features of standardised "
                   "descriptors; predicts the relaxed energy in eV/atom (docs/surrogate.md)"));
#undef W
  return e;
}

/* ---- reading ---------------------------------------------------------------------------- */

typedef struct {
  const char *path, *group;
  hid_t file, g;
} reader;

static ms_err attr_read(reader *r, const char *name, hid_t memtype, void *out) {
  MS_CHECK(H5Aexists(r->g, name) > 0, MS_ERR_INPUT, "%s:%s: not a saved surrogate (no attribute '%s')",
           r->path, r->group, name);
  hid_t a = H5Aopen(r->g, name, H5P_DEFAULT);
  herr_t rc = a >= 0 ? H5Aread(a, memtype, out) : -1;
  if (a >= 0) H5Aclose(a);
  MS_CALL_H5(rc, "%s:%s: cannot read attribute '%s'", r->path, r->group, name);
  return MS_SUCCESS;
}

static ms_err attr_int(reader *r, const char *name, int64_t lo, int64_t hi, int64_t *out) {
  MS_CALL(attr_read(r, name, H5T_NATIVE_INT64, out));
  MS_CHECK(*out >= lo && *out <= hi, MS_ERR_INPUT, "%s:%s: attribute %s = %lld outside %lld..%lld",
           r->path, r->group, name, (long long)*out, (long long)lo, (long long)hi);
  return MS_SUCCESS;
}

static ms_err attr_str(reader *r, const char *name, char *buf, size_t len) {
  MS_CHECK(H5Aexists(r->g, name) > 0, MS_ERR_INPUT, "%s:%s: not a saved surrogate (no attribute '%s')",
           r->path, r->group, name);
  hid_t a = H5Aopen(r->g, name, H5P_DEFAULT);
  hid_t ft = a >= 0 ? H5Aget_type(a) : -1;
  size_t size = ft >= 0 ? H5Tget_size(ft) : 0;
  herr_t rc = -1;
  if (ft >= 0 && H5Tget_class(ft) == H5T_STRING && !H5Tis_variable_str(ft) && size < len) {
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, size);
    memset(buf, 0, len);
    rc = H5Aread(a, mt, buf);
    H5Tclose(mt);
  }
  if (ft >= 0) H5Tclose(ft);
  if (a >= 0) H5Aclose(a);
  MS_CHECK(rc >= 0, MS_ERR_INPUT, "%s:%s: cannot read string attribute '%s'", r->path, r->group, name);
  buf[len - 1] = '\0';
  return MS_SUCCESS;
}

/* Read dataset @p name, which must hold exactly @p count values of @p memtype's kind. */
static ms_err dset_read(reader *r, const char *name, hid_t memtype, size_t count, void *out) {
  MS_CHECK(H5Lexists(r->g, name, H5P_DEFAULT) > 0, MS_ERR_INPUT,
           "%s:%s: not a saved surrogate (no dataset '%s')", r->path, r->group, name);
  hid_t d = H5Dopen2(r->g, name, H5P_DEFAULT);
  hid_t sp = d >= 0 ? H5Dget_space(d) : -1;
  hssize_t np = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
  herr_t rc = -1;
  if (np == (hssize_t)count) rc = count ? H5Dread(d, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) : 0;
  if (sp >= 0) H5Sclose(sp);
  if (d >= 0) H5Dclose(d);
  MS_CHECK(np == (hssize_t)count, MS_ERR_INPUT, "%s:%s/%s: %lld values, expected %zu", r->path,
           r->group, name, (long long)np, count);
  MS_CALL_H5(rc, "%s:%s/%s: cannot read", r->path, r->group, name);
  return MS_SUCCESS;
}

/* The descriptors of the saved model must be this build's: same version, names and order. */
static ms_err check_descriptors(reader *r, const ms_surrogate s, int64_t version) {
  const int D = ms_descriptor_count();
  MS_CHECK(version == MS_DESCRIPTORS_VERSION, MS_ERR_INPUT,
           "%s:%s: the surrogate was trained on descriptors version %lld, this build computes "
           "version %d; retrain it", r->path, r->group, (long long)version, MS_DESCRIPTORS_VERSION);
  MS_CHECK(s->d == D, MS_ERR_INPUT,
           "%s:%s: the surrogate was trained on %d descriptors, this build computes %d; retrain it",
           r->path, r->group, s->d, D);
  for (int j = 0; j < D; ++j)
    MS_CHECK(strcmp(s->names[j], ms_descriptor_name(j)) == 0, MS_ERR_INPUT,
             "%s:%s: descriptor %d of the surrogate is '%s', this build's is '%s'; retrain it",
             r->path, r->group, j, s->names[j], ms_descriptor_name(j));
  return MS_SUCCESS;
}

static ms_err read_model(reader *r, ms_surrogate *out) {
  char text[64];
  MS_CALL(attr_str(r, A(FORMAT), text, sizeof text));
  MS_CHECK(strcmp(text, FORMAT_NAME) == 0, MS_ERR_INPUT, "%s:%s: format '%s', expected '%s'",
           r->path, r->group, text, FORMAT_NAME);
  int64_t v, dn, dv, d, M, p, lin, noise, delta, base, seed, ntrain, oobn;
  MS_CALL(attr_read(r, A(FORMAT_VERSION), H5T_NATIVE_INT64, &v));
  MS_CHECK(v == MS_SURROGATE_FORMAT_VERSION, MS_ERR_INPUT,
           "%s:%s: surrogate format version %lld, this build reads version %d", r->path, r->group,
           (long long)v, MS_SURROGATE_FORMAT_VERSION);
  MS_CALL(attr_int(r, A(DESCRIPTOR_NAMES), 0, 1, &dn));
  MS_CALL(attr_read(r, A(DESCRIPTORS_VERSION), H5T_NATIVE_INT64, &dv));
  MS_CALL(attr_int(r, A(D), 1, 100000, &d));
  MS_CALL(attr_int(r, A(MEMBERS), 1, 4096, &M));
  MS_CALL(attr_int(r, A(FEATURES), 1, 65536, &p));
  MS_CALL(attr_int(r, A(LINEAR), 0, 1, &lin));
  MS_CALL(attr_int(r, A(NOISE), 0, 2, &noise));
  MS_CALL(attr_int(r, A(TARGET_DELTA), 0, 1, &delta));
  MS_CALL(attr_int(r, A(BASELINE_COLUMN), -1, d - 1, &base));
  MS_CHECK((base >= 0) == (delta != 0), MS_ERR_INPUT,
           "%s:%s: baseline_column %lld does not fit target_delta %lld", r->path, r->group,
           (long long)base, (long long)delta);
  MS_CALL(attr_read(r, A(SEED), H5T_NATIVE_INT64, &seed));
  MS_CALL(attr_int(r, A(NTRAIN), 2, INT64_MAX, &ntrain));
  MS_CALL(attr_int(r, A(OOB_ROWS), 0, INT64_MAX, &oobn));
  ms_surrogate s = calloc(1, sizeof *s);
  MS_CHECK(s, MS_ERR_MEM, "out of memory");
  *out = s;
  ms_surrogate_options_default(&s->opt);
  s->opt.members = (int)M;
  s->opt.features = (int)p;
  s->opt.linear = (int)lin;
  s->opt.noise = (int)noise;
  s->opt.target_delta = (int)delta;
  memcpy(&s->opt.seed, &seed, sizeof seed);
  s->d = (int)d;
  s->p = (int)p;
  s->nlin = lin ? (int)d : 0;
  s->nw = s->p + s->nlin;
  s->baseline = (int)base;
  s->ntrain = ntrain;
  s->oob_rows = oobn;
  s->descriptor_names = (int)dn;
  MS_CALL(attr_read(r, A(LAMBDA), H5T_NATIVE_DOUBLE, &s->opt.lambda));
  MS_CALL(attr_read(r, A(LENGTH_SCALE_OPTION), H5T_NATIVE_DOUBLE, &s->opt.length_scale));
  MS_CALL(attr_read(r, A(LENGTH_SCALE), H5T_NATIVE_DOUBLE, &s->length_scale));
  MS_CALL(attr_read(r, A(NOISE_VARIANCE), H5T_NATIVE_DOUBLE, &s->noise_var));
  MS_CALL(attr_read(r, A(OOB_RMSE), H5T_NATIVE_DOUBLE, &s->oob_rmse));
  MS_CHECK(s->noise_var >= 0, MS_ERR_INPUT, "%s:%s: negative noise variance", r->path, r->group);
  MS_CALL(ms__surrogate_alloc(s));
  /* The base column of a model on descriptors is e_single; its options record the default. */
  s->opt.baseline_column = delta && dn ? -1 : (int)base;

  hid_t st = H5Tcopy(H5T_C_S1);
  H5Tset_size(st, MS__SURR_NAME_LEN);
  H5Tset_strpad(st, H5T_STR_NULLPAD);
  ms_err e = dset_read(r, MS_OUT_NAME(SUR_COLUMN_NAMES), st, (size_t)d, s->names);
  H5Tclose(st);
  MS_CALL(e);
  for (int j = 0; j < s->d; ++j) s->names[j][MS__SURR_NAME_LEN - 1] = '\0';
  if (dn) MS_CALL(check_descriptors(r, s, dv));
  const size_t Mp = (size_t)M * (size_t)p;
  MS_CALL(dset_read(r, MS_OUT_NAME(SUR_STANDARDIZE_MEAN), H5T_NATIVE_DOUBLE, (size_t)d, s->mu));
  MS_CALL(dset_read(r, MS_OUT_NAME(SUR_STANDARDIZE_SCALE), H5T_NATIVE_DOUBLE, (size_t)d, s->scale));
  MS_CALL(dset_read(r, MS_OUT_NAME(SUR_RFF_FREQUENCIES), H5T_NATIVE_DOUBLE, Mp * (size_t)d, s->freq));
  MS_CALL(dset_read(r, MS_OUT_NAME(SUR_RFF_PHASES), H5T_NATIVE_DOUBLE, Mp, s->phase));
  MS_CALL(dset_read(r, MS_OUT_NAME(SUR_WEIGHTS), H5T_NATIVE_DOUBLE, (size_t)M * s->nw, s->weight));
  MS_CALL(dset_read(r, MS_OUT_NAME(SUR_INTERCEPTS), H5T_NATIVE_DOUBLE, (size_t)M, s->intercept));
  MS_CALL(dset_read(r, MS_OUT_NAME(SUR_LAMBDA_ABS), H5T_NATIVE_DOUBLE, (size_t)M, s->lambda_abs));
  if (noise == 2) {
    MS_CALL(MS_CALLOC((size_t)M * s->nw, &s->noise_w));
    MS_CALL(MS_CALLOC((size_t)M, &s->noise_b));
    MS_CALL(dset_read(r, MS_OUT_NAME(SUR_NOISE_WEIGHTS), H5T_NATIVE_DOUBLE, (size_t)M * s->nw, s->noise_w));
    MS_CALL(dset_read(r, MS_OUT_NAME(SUR_NOISE_INTERCEPTS), H5T_NATIVE_DOUBLE, (size_t)M, s->noise_b));
    for (int64_t m = 0; m < M; ++m)
      MS_CHECK(isfinite(s->noise_b[m]), MS_ERR_INPUT, "%s:%s: bad local noise model", r->path, r->group);
    MS_CALL(attr_read(r, A(NOISE_LOG_MIN), H5T_NATIVE_DOUBLE, &s->noise_lo));
    MS_CALL(attr_read(r, A(NOISE_LOG_MAX), H5T_NATIVE_DOUBLE, &s->noise_hi));
    MS_CHECK(isfinite(s->noise_lo) && isfinite(s->noise_hi) &&
                 s->noise_lo <= s->noise_hi && s->noise_hi < 700,
             MS_ERR_INPUT, "%s:%s: bad local noise model", r->path, r->group);
  }
  for (int j = 0; j < s->d; ++j)
    MS_CHECK(s->scale[j] > 0 && isfinite(s->scale[j]) && isfinite(s->mu[j]), MS_ERR_INPUT,
             "%s:%s: bad standardisation of column %d", r->path, r->group, j);
  return MS_SUCCESS;
}

ms_err ms_surrogate_read(const char *path, const char *group, ms_surrogate *out) {
  MS_CHECK(path && group && out, MS_ERR_ARG, "ms_surrogate_read: NULL argument");
  *out = NULL;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  reader r = {path, group, -1, -1};
  r.file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  MS_CHECK(r.file >= 0, MS_ERR_FILE, "%s: cannot open as HDF5 (missing or not an HDF5 file)", path);
  if (H5Lexists(r.file, group, H5P_DEFAULT) <= 0 ||
      (r.g = H5Gopen2(r.file, group, H5P_DEFAULT)) < 0) {
    H5Fclose(r.file);
    MS_FAIL(MS_ERR_INPUT, "%s: no group '%s' (a surrogate is saved as a group, e.g. /surrogate)",
            path, group);
  }
  ms_surrogate s = NULL;
  ms_err e = read_model(&r, &s);
  H5Gclose(r.g);
  H5Fclose(r.file);
  if (e) {
    ms_surrogate_free(&s);
    return ms__err_push(e, __FILE__, __LINE__, __func__);
  }
  *out = s;
  return MS_SUCCESS;
}
