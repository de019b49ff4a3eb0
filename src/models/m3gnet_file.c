/* M3GNet model files: reading, validation, built-in names and accessors.
 *
 * A model file (format_version 1, written by scripts/m3gnet_convert.py, documented in
 * docs/models.md) holds the hyper-parameters and provenance as root attributes, the element
 * references in /element_refs and every weight of the checkpoint under /weights with its
 * PyTorch name and [out, in] shape, in float32 as stored. Everything is read into doubles.
 *
 * Validation: the format name and version, every hyper-parameter against what this code
 * implements (the same list the converter refuses), the element list, and every dataset the
 * network uses for presence, floating-point type, exact shape and finite values. A damaged file
 * fails here, naming the file and the dataset or attribute, instead of in the middle of a
 * campaign. Built-in models are the files inputs/models/NAME.h5 embedded in the program; they
 * are opened from memory with HDF5's core driver (or from MATSCREEN_DATA_DIR, see data.h). */
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/data.h"
#include "matscreen/m3gnet.h"
#include "matscreen/species.h"
#include "models/m3gnet_impl.h"

typedef struct {
  const char *label; /* the file path or "built-in model NAME", for messages */
  hid_t file;
} reader;

static char *dupstr(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

/* ---- attributes ---------------------------------------------------------------------- */

static ms_err attr_open(const reader *r, const char *name, hid_t *a) {
  htri_t ex = H5Aexists(r->file, name);
  MS_CHECK(ex > 0, MS_ERR_INPUT, "%s: attribute '%s' missing (not an M3GNet model file from "
           "scripts/m3gnet_convert.py, or a damaged one)", r->label, name);
  *a = H5Aopen(r->file, name, H5P_DEFAULT);
  MS_CHECK(*a >= 0, MS_ERR_INPUT, "%s: attribute '%s' cannot be opened", r->label, name);
  return MS_SUCCESS;
}

/* A scalar numeric attribute read as @p memtype (native int or double). */
static ms_err attr_scalar(const reader *r, const char *name, hid_t memtype, void *out) {
  hid_t a = -1;
  MS_CALL(attr_open(r, name, &a));
  hid_t sp = H5Aget_space(a), ty = H5Aget_type(a);
  H5T_class_t cls = H5Tget_class(ty);
  int ok = H5Sget_simple_extent_npoints(sp) == 1 && (cls == H5T_INTEGER || cls == H5T_FLOAT) &&
           H5Aread(a, memtype, out) >= 0;
  H5Tclose(ty);
  H5Sclose(sp);
  H5Aclose(a);
  MS_CHECK(ok, MS_ERR_INPUT, "%s: attribute '%s' must be one number", r->label, name);
  return MS_SUCCESS;
}

static ms_err attr_int(const reader *r, const char *name, int *v) {
  return attr_scalar(r, name, H5T_NATIVE_INT, v);
}

static ms_err attr_double(const reader *r, const char *name, double *v) {
  MS_CALL(attr_scalar(r, name, H5T_NATIVE_DOUBLE, v));
  MS_CHECK(isfinite(*v), MS_ERR_INPUT, "%s: attribute '%s' is not finite", r->label, name);
  return MS_SUCCESS;
}

/* String attribute (fixed-length or variable-length) into a malloc'd string. */
static ms_err attr_str(const reader *r, const char *name, char **out) {
  *out = NULL;
  hid_t a = -1;
  MS_CALL(attr_open(r, name, &a));
  hid_t ty = H5Aget_type(a), sp = H5Aget_space(a);
  char *s = NULL;
  int ok = H5Tget_class(ty) == H5T_STRING && H5Sget_simple_extent_npoints(sp) == 1;
  if (ok && H5Tis_variable_str(ty) > 0) {
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    char *vs = NULL;
    ok = H5Aread(a, mt, &vs) >= 0 && vs != NULL;
    if (ok) s = dupstr(vs);
    if (vs) H5free_memory(vs);
    H5Tclose(mt);
  } else if (ok) {
    size_t n = H5Tget_size(ty);
    s = calloc(n + 1, 1);
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, n);
    H5Tset_strpad(mt, H5T_STR_NULLPAD);
    ok = s != NULL && H5Aread(a, mt, s) >= 0;
    H5Tclose(mt);
  }
  H5Sclose(sp);
  H5Tclose(ty);
  H5Aclose(a);
  if (!ok || !s) {
    free(s);
    MS_FAIL(MS_ERR_INPUT, "%s: attribute '%s' must be a string", r->label, name);
  }
  *out = s;
  return MS_SUCCESS;
}

/* The element list: 'element_types' (symbols) and 'element_z' (atomic numbers) must agree. */
static ms_err read_elements(const reader *r, struct ms_m3gnet_s *m) {
  hid_t a = -1;
  MS_CALL(attr_open(r, "element_z", &a));
  hid_t sp = H5Aget_space(a);
  hssize_t n = H5Sget_simple_extent_npoints(sp);
  H5Sclose(sp);
  if (n < 1 || n > MS_MAX_Z) {
    H5Aclose(a);
    MS_FAIL(MS_ERR_INPUT, "%s: attribute 'element_z' has %lld entries (1..%d expected)",
            r->label, (long long)n, MS_MAX_Z);
  }
  ms_err e = MS_CALLOC((size_t)n, &m->type_z);
  if (e) {
    H5Aclose(a);
    return e;
  }
  herr_t rc = H5Aread(a, H5T_NATIVE_INT, m->type_z);
  H5Aclose(a);
  MS_CHECK(rc >= 0, MS_ERR_INPUT, "%s: attribute 'element_z' unreadable", r->label);
  m->ntypes = (int)n;
  for (int z = 0; z <= MS_MAX_Z; ++z) m->z_to_type[z] = -1;
  for (int k = 0; k < m->ntypes; ++k) {
    int z = m->type_z[k];
    MS_CHECK(z >= 1 && z <= MS_MAX_Z, MS_ERR_INPUT,
             "%s: attribute 'element_z'[%d] = %d is not an atomic number", r->label, k, z);
    MS_CHECK(m->z_to_type[z] < 0, MS_ERR_INPUT, "%s: attribute 'element_z' lists Z = %d twice",
             r->label, z);
    m->z_to_type[z] = k;
  }
  /* the symbols must name the same elements (a check of the file's consistency) */
  MS_CALL(attr_open(r, "element_types", &a));
  hid_t ty = H5Aget_type(a);
  sp = H5Aget_space(a);
  int ok = H5Tget_class(ty) == H5T_STRING && H5Tis_variable_str(ty) == 0 &&
           H5Sget_simple_extent_npoints(sp) == n && H5Tget_size(ty) < 16;
  size_t w = ok ? H5Tget_size(ty) : 0;
  char *buf = ok ? calloc((size_t)n, w + 1) : NULL;
  if (buf) {
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, w + 1);
    H5Tset_strpad(mt, H5T_STR_NULLTERM);
    ok = H5Aread(a, mt, buf) >= 0;
    H5Tclose(mt);
  } else {
    ok = 0;
  }
  H5Sclose(sp);
  H5Tclose(ty);
  H5Aclose(a);
  if (!ok) {
    free(buf);
    MS_FAIL(MS_ERR_INPUT, "%s: attribute 'element_types' must be %lld fixed-length symbols",
            r->label, (long long)n);
  }
  ms_err err = ms_elements_load();
  for (int k = 0; k < m->ntypes && !err; ++k) {
    const char *sym = buf + (size_t)k * (w + 1);
    const ms_element *el = ms_element_by_z(m->type_z[k]);
    if (!el || strcmp(el->symbol, sym) != 0)
      err = ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__,
                        "%s: element_types[%d] = '%s' but element_z[%d] = %d (%s)", r->label, k,
                        sym, k, m->type_z[k], el ? el->symbol : "?");
  }
  free(buf);
  return err;
}

/* ---- datasets ------------------------------------------------------------------------ */

/* Read dataset @p path of shape rows x cols (cols = 0: a vector of rows) as doubles into a new
 * array; every value must be finite. */
static ms_err dset(const reader *r, const char *path, int rows, int cols, double **out) {
  *out = NULL;
  htri_t ex = H5Lexists(r->file, path, H5P_DEFAULT);
  if (ex > 0) ex = H5Oexists_by_name(r->file, path, H5P_DEFAULT);
  MS_CHECK(ex > 0, MS_ERR_INPUT, "%s: dataset %s missing", r->label, path);
  hid_t d = H5Dopen2(r->file, path, H5P_DEFAULT);
  MS_CHECK(d >= 0, MS_ERR_INPUT, "%s: %s is not a readable dataset", r->label, path);
  hid_t sp = H5Dget_space(d), ty = H5Dget_type(d);
  int rank = H5Sget_simple_extent_ndims(sp);
  hsize_t dims[4] = {0, 0, 0, 0};
  if (rank >= 0 && rank <= 4) H5Sget_simple_extent_dims(sp, dims, NULL);
  int is_float = H5Tget_class(ty) == H5T_FLOAT;
  H5Tclose(ty);
  H5Sclose(sp);
  const int want_rank = cols > 0 ? 2 : 1;
  if (!is_float || rank != want_rank || dims[0] != (hsize_t)rows ||
      (cols > 0 && dims[1] != (hsize_t)cols)) {
    H5Dclose(d);
    char got[64];
    if (rank == 1)
      snprintf(got, sizeof got, "%llu", (unsigned long long)dims[0]);
    else if (rank == 2)
      snprintf(got, sizeof got, "%llux%llu", (unsigned long long)dims[0],
               (unsigned long long)dims[1]);
    else
      snprintf(got, sizeof got, "rank %d", rank);
    if (!is_float) MS_FAIL(MS_ERR_INPUT, "%s: dataset %s is not floating point", r->label, path);
    if (cols > 0)
      MS_FAIL(MS_ERR_INPUT, "%s: dataset %s has shape %s, expected %dx%d", r->label, path, got,
              rows, cols);
    MS_FAIL(MS_ERR_INPUT, "%s: dataset %s has shape %s, expected %d", r->label, path, got, rows);
  }
  size_t n = (size_t)rows * (size_t)(cols > 0 ? cols : 1);
  double *buf = malloc(n * sizeof *buf);
  if (!buf) {
    H5Dclose(d);
    MS_FAIL(MS_ERR_MEM, "%s: out of memory reading %s", r->label, path);
  }
  herr_t rc = H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
  H5Dclose(d);
  if (rc < 0) {
    free(buf);
    MS_FAIL(MS_ERR_INPUT, "%s: dataset %s cannot be read (file truncated or damaged)", r->label,
            path);
  }
  for (size_t i = 0; i < n; ++i)
    if (!isfinite(buf[i])) {
      free(buf);
      MS_FAIL(MS_ERR_INPUT, "%s: dataset %s has a non-finite value at flat index %zu", r->label,
              path, i);
    }
  *out = buf;
  return MS_SUCCESS;
}

/* rows x cols matrix a transposed into a new array (cols x rows). */
static ms_err transposed(const double *a, int rows, int cols, double **out) {
  MS_CALL(MS_CALLOC((size_t)rows * cols, out));
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) (*out)[(size_t)j * rows + i] = a[(size_t)i * cols + j];
  return MS_SUCCESS;
}

/* A linear layer "<prefix>.weight" (out x in) and, if @p bias, "<prefix>.bias". */
static ms_err lin(const reader *r, const char *prefix, int out, int in, int bias,
                  ms__m3g_lin *l) {
  char path[256];
  l->out = out;
  l->in = in;
  snprintf(path, sizeof path, "weights/%s.weight", prefix);
  MS_CALL(dset(r, path, out, in, &l->w));
  MS_CALL(transposed(l->w, out, in, &l->wt));
  if (bias) {
    snprintf(path, sizeof path, "weights/%s.bias", prefix);
    MS_CALL(dset(r, path, out, 0, &l->b));
  }
  return MS_SUCCESS;
}

static void lin_free(ms__m3g_lin *l) {
  free(l->w);
  free(l->wt);
  free(l->b);
  l->w = l->wt = l->b = NULL;
}


/* A graph-convolution gated MLP "<prefix>.layers/gates.{0,2,4}", first layers split by input. */
static ms_err conv_mlp(const reader *r, const char *prefix, int D, int U, ms__m3g_conv_mlp *c) {
  char name[256];
  ms__m3g_lin l0 = {0}, g0 = {0};
  snprintf(name, sizeof name, "%s.layers.0", prefix);
  ms_err e = lin(r, name, U, 3 * D, 1, &l0);
  snprintf(name, sizeof name, "%s.gates.0", prefix);
  if (!e) e = lin(r, name, U, 3 * D, 1, &g0);
  if (!e) e = MS_CALLOC((size_t)2 * U * D, &c->w_src);
  if (!e) e = MS_CALLOC((size_t)2 * U * D, &c->w_dst);
  if (!e) e = MS_CALLOC((size_t)2 * U * D, &c->w_e);
  if (!e) e = MS_CALLOC((size_t)2 * U, &c->b0);
  if (!e) {
    for (int h = 0; h < 2; ++h) {
      const ms__m3g_lin *src = h ? &g0 : &l0;
      for (int i = 0; i < U; ++i) {
        const double *row = src->w + (size_t)i * 3 * D;
        size_t o = ((size_t)h * U + i) * D;
        memcpy(c->w_src + o, row, (size_t)D * sizeof(double));
        memcpy(c->w_dst + o, row + D, (size_t)D * sizeof(double));
        memcpy(c->w_e + o, row + 2 * D, (size_t)D * sizeof(double));
        c->b0[h * U + i] = src->b[i];
      }
    }
  }
  lin_free(&l0);
  lin_free(&g0);
  MS_CALL(e);
  snprintf(name, sizeof name, "%s.layers.2", prefix);
  MS_CALL(lin(r, name, U, U, 1, &c->l2));
  snprintf(name, sizeof name, "%s.gates.2", prefix);
  MS_CALL(lin(r, name, U, U, 1, &c->g2));
  snprintf(name, sizeof name, "%s.layers.4", prefix);
  MS_CALL(lin(r, name, D, U, 1, &c->l4));
  snprintf(name, sizeof name, "%s.gates.4", prefix);
  MS_CALL(lin(r, name, D, U, 1, &c->g4));
  MS_CALL(transposed(c->w_src, 2 * U, D, &c->w_srcT));
  MS_CALL(transposed(c->w_dst, 2 * U, D, &c->w_dstT));
  MS_CALL(transposed(c->w_e, 2 * U, D, &c->w_eT));
  MS_CALL(MS_CALLOC((size_t)2 * U, &c->b2));
  memcpy(c->b2, c->l2.b, (size_t)U * sizeof(double));
  memcpy(c->b2 + U, c->g2.b, (size_t)U * sizeof(double));
  return MS_SUCCESS;
}

static void conv_mlp_free(ms__m3g_conv_mlp *c) {
  free(c->w_src);
  free(c->w_dst);
  free(c->w_e);
  free(c->w_srcT);
  free(c->w_dstT);
  free(c->w_eT);
  free(c->b0);
  free(c->b2);
  lin_free(&c->l2);
  lin_free(&c->g2);
  lin_free(&c->l4);
  lin_free(&c->g4);
}

/* ---- the whole model ----------------------------------------------------------------- */

static ms_err expect_str(const reader *r, const char *name, const char *want, const char *why) {
  char *s = NULL;
  MS_CALL(attr_str(r, name, &s));
  int ok = strcmp(s, want) == 0;
  if (!ok) {
    ms_err e = ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__,
                           "%s: attribute '%s' = '%s' is not supported (%s)", r->label, name, s,
                           why);
    free(s);
    return e;
  }
  free(s);
  return MS_SUCCESS;
}

static ms_err expect_int(const reader *r, const char *name, int lo, int hi, int *v,
                         const char *why) {
  MS_CALL(attr_int(r, name, v));
  MS_CHECK(*v >= lo && *v <= hi, MS_ERR_INPUT, "%s: attribute '%s' = %d is not supported (%s)",
           r->label, name, *v, why);
  return MS_SUCCESS;
}

static ms_err read_model(const reader *r, struct ms_m3gnet_s *m) {
  char *fmt = NULL;
  MS_CALL(attr_str(r, "format", &fmt));
  int is_m3g = strcmp(fmt, "matscreen-m3gnet") == 0;
  free(fmt);
  MS_CHECK(is_m3g, MS_ERR_INPUT,
           "%s: attribute 'format' is not 'matscreen-m3gnet' (not an M3GNet model file)",
           r->label);
  MS_CALL(attr_int(r, "format_version", &m->format_version));
  MS_CHECK(m->format_version == MS_M3GNET_FORMAT_VERSION, MS_ERR_INPUT,
           "%s: attribute 'format_version' = %d is unknown (this matscreen reads version %d; "
           "convert the checkpoint again with scripts/m3gnet_convert.py)",
           r->label, m->format_version, MS_M3GNET_FORMAT_VERSION);
  MS_CALL(attr_str(r, "name", &m->name));
  MS_CALL(attr_str(r, "description", &m->description));
  MS_CALL(attr_str(r, "citation", &m->citation));
  MS_CALL(attr_str(r, "licence", &m->licence));
  MS_CALL(attr_str(r, "source", &m->source));

  /* hyper-parameters: what this implementation covers, nothing else */
  int v, dim_edge;
  MS_CALL(expect_int(r, "max_n", 3, 3, &v, "the radial basis is implemented for max_n = 3"));
  MS_CALL(expect_int(r, "max_l", 3, 3, &v, "the angular basis is implemented for max_l = 3"));
  MS_CALL(expect_int(r, "use_phi", 0, 0, &v, "the angle-dependent basis (use_phi) is not "
                     "implemented"));
  MS_CALL(expect_int(r, "is_intensive", 0, 0, &v, "intensive readouts are not implemented"));
  MS_CALL(expect_int(r, "use_smooth", 0, 1, &m->use_smooth, "0 or 1"));
  MS_CALL(expect_int(r, "nblocks", 1, MS__M3G_MAX_BLOCKS, &m->nblocks, "1 to 16 blocks"));
  MS_CALL(expect_int(r, "units", 1, 4096, &m->U, "1 to 4096"));
  MS_CALL(expect_int(r, "dim_node_embedding", 1, 4096, &m->D, "1 to 4096"));
  MS_CALL(expect_int(r, "dim_edge_embedding", m->D, m->D, &dim_edge,
                     "must equal dim_node_embedding"));
  MS_CALL(expect_str(r, "activation", "swish", "only swish is implemented"));
  MS_CALL(expect_str(r, "readout", "weighted_atom", "only the per-atom readout is implemented"));
  MS_CALL(expect_str(r, "rbf_type", "SphericalBessel", "only the spherical Bessel basis"));
  MS_CALL(attr_double(r, "cutoff", &m->cutoff));
  MS_CALL(attr_double(r, "threebody_cutoff", &m->cutoff3));
  MS_CHECK(m->cutoff > 0 && m->cutoff <= 20, MS_ERR_INPUT,
           "%s: attribute 'cutoff' = %g Å is not supported (0 < cutoff <= 20)", r->label,
           m->cutoff);
  MS_CHECK(m->cutoff3 > 0 && m->cutoff3 <= m->cutoff, MS_ERR_INPUT,
           "%s: attribute 'threebody_cutoff' = %g Å must be in (0, cutoff]", r->label,
           m->cutoff3);
  MS_CALL(attr_double(r, "data_mean", &m->data_mean));
  MS_CALL(attr_double(r, "data_std", &m->data_std));
  MS_CHECK(m->data_std > 0, MS_ERR_INPUT, "%s: attribute 'data_std' must be positive", r->label);
  MS_CALL(read_elements(r, m));
  m->R = m->use_smooth ? 3 : 9;

  /* weights */
  const int D = m->D, U = m->U, F = MS__M3G_F, R = m->R;
  MS_CALL(dset(r, "element_refs", m->ntypes, 0, &m->elem_ref));
  MS_CALL(dset(r, "weights/model.embedding.layer_node_embedding.weight", m->ntypes, D,
               &m->node_emb));
  MS_CALL(lin(r, "model.embedding.layer_edge_embedding.layers.0", D, R, 1, &m->edge_emb));
  char p[200];
  for (int k = 0; k < m->nblocks; ++k) {
    ms__m3g_block *b = &m->blk[k];
    snprintf(p, sizeof p, "model.three_body_interactions.%d.update_network_atom.layers.0", k);
    MS_CALL(lin(r, p, F, D, 1, &b->tb_atom));
    snprintf(p, sizeof p, "model.three_body_interactions.%d.update_network_bond.layers.0", k);
    MS_CALL(lin(r, p, D, F, 0, &b->tb_bond));
    snprintf(p, sizeof p, "model.three_body_interactions.%d.update_network_bond.gates.0", k);
    MS_CALL(lin(r, p, D, F, 0, &b->tb_gate));
    snprintf(p, sizeof p, "model.graph_layers.%d.conv.edge_update_func", k);
    MS_CALL(conv_mlp(r, p, D, U, &b->edge));
    snprintf(p, sizeof p, "model.graph_layers.%d.conv.node_update_func", k);
    MS_CALL(conv_mlp(r, p, D, U, &b->node));
    snprintf(p, sizeof p, "model.graph_layers.%d.conv.edge_weight_func", k);
    MS_CALL(lin(r, p, D, R, 0, &b->edge_w));
    snprintf(p, sizeof p, "model.graph_layers.%d.conv.node_weight_func", k);
    MS_CALL(lin(r, p, D, R, 0, &b->node_w));
  }
  const int ro_out[4] = {D, U, U, 1}, ro_in[4] = {D, D, U, U};
  for (int k = 0; k < 4; ++k) {
    snprintf(p, sizeof p, "model.final_layer.gated.layers.%d", 2 * k);
    MS_CALL(lin(r, p, ro_out[k], ro_in[k], 1, &m->ro_l[k]));
    snprintf(p, sizeof p, "model.final_layer.gated.gates.%d", 2 * k);
    MS_CALL(lin(r, p, ro_out[k], ro_in[k], 1, &m->ro_g[k]));
  }
  ms__m3g_basis_init(m);
  return MS_SUCCESS;
}

void ms_m3gnet_free(ms_m3gnet *mp) {
  if (!mp || !*mp) return;
  struct ms_m3gnet_s *m = *mp;
  free(m->name);
  free(m->description);
  free(m->citation);
  free(m->licence);
  free(m->source);
  free(m->origin);
  free(m->type_z);
  free(m->node_emb);
  free(m->elem_ref);
  lin_free(&m->edge_emb);
  for (int k = 0; k < MS__M3G_MAX_BLOCKS; ++k) {
    ms__m3g_block *b = &m->blk[k];
    lin_free(&b->tb_atom);
    lin_free(&b->tb_bond);
    lin_free(&b->tb_gate);
    conv_mlp_free(&b->edge);
    conv_mlp_free(&b->node);
    lin_free(&b->edge_w);
    lin_free(&b->node_w);
  }
  for (int k = 0; k < 4; ++k) {
    lin_free(&m->ro_l[k]);
    lin_free(&m->ro_g[k]);
  }
  free(m);
  *mp = NULL;
}

/* ---- built-in models and loading ------------------------------------------------------ */

const char *const *ms_m3gnet_builtin_names(void) {
  enum { MAXN = 32 };
  static _Thread_local char names[MAXN][64];
  static _Thread_local const char *list[MAXN + 1];
  int nd = 0, n = 0;
  const char *const *files = ms_data_list("models", &nd);
  for (int k = 0; k < nd && n < MAXN; ++k) {
    const char *base = files[k] + strlen("models/");
    size_t l = strlen(base);
    if (l <= 3 || l - 3 >= sizeof names[0] || strcmp(base + l - 3, ".h5") != 0) continue;
    memcpy(names[n], base, l - 3);
    names[n][l - 3] = '\0';
    list[n] = names[n];
    ++n;
  }
  list[n] = NULL;
  return list;
}

static int is_path(const char *s) {
  size_t l = strlen(s);
  return strchr(s, '/') != NULL || (l > 3 && strcmp(s + l - 3, ".h5") == 0);
}

static ms_err open_builtin(const char *name, hid_t *file, char **label) {
  *file = -1;
  *label = NULL;
  int known = 0;
  for (const char *const *b = ms_m3gnet_builtin_names(); *b; ++b) known |= strcmp(*b, name) == 0;
  if (!known) {
    char list[512] = "";
    for (const char *const *b = ms_m3gnet_builtin_names(); *b; ++b) {
      if (list[0]) strncat(list, ", ", sizeof list - strlen(list) - 1);
      strncat(list, *b, sizeof list - strlen(list) - 1);
    }
    MS_FAIL(MS_ERR_UNKNOWN_TYPE, "no built-in M3GNet model '%s' (built-in: %s; or give the path "
            "of a file converted by scripts/m3gnet_convert.py)", name, list);
  }
  char data_name[128];
  snprintf(data_name, sizeof data_name, "models/%s.h5", name);
  char *image = NULL;
  size_t len = 0;
  const char *origin = NULL;
  MS_CALL(ms_data_read(data_name, &image, &len, &origin));
  char lab[4200];
  if (strcmp(origin, "embedded") == 0)
    snprintf(lab, sizeof lab, "built-in model %s", name);
  else
    snprintf(lab, sizeof lab, "%s", origin);
  *label = dupstr(lab);
  if (!*label) {
    free(image);
    MS_FAIL(MS_ERR_MEM, "out of memory");
  }
  /* The core driver keeps its own copy of the image; the file is never written. */
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  int ok = fapl >= 0 && H5Pset_fapl_core(fapl, 1 << 20, 0) >= 0 &&
           H5Pset_file_image(fapl, image, len) >= 0;
  if (ok) *file = H5Fopen(name, H5F_ACC_RDONLY, fapl);
  if (fapl >= 0) H5Pclose(fapl);
  free(image);
  MS_CHECK(*file >= 0, MS_ERR_FILE, "%s: cannot open as HDF5 (damaged?)", *label);
  return MS_SUCCESS;
}

ms_err ms_m3gnet_load(const char *name_or_path, ms_m3gnet *out) {
  MS_CHECK(name_or_path && *name_or_path && out, MS_ERR_ARG, "ms_m3gnet_load: no model given");
  *out = NULL;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  reader r = {NULL, -1};
  char *label = NULL;
  if (is_path(name_or_path)) {
    label = dupstr(name_or_path);
    MS_CHECK(label, MS_ERR_MEM, "out of memory");
    FILE *probe = fopen(name_or_path, "rb");
    if (!probe) {
      free(label);
      MS_FAIL(MS_ERR_FILE, "%s: cannot open the M3GNet model file", name_or_path);
    }
    fclose(probe);
    r.file = H5Fopen(name_or_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (r.file < 0) {
      free(label);
      MS_FAIL(MS_ERR_FILE, "%s: cannot open as HDF5 (truncated, damaged or not an HDF5 file)",
              name_or_path);
    }
  } else {
    ms_err e = open_builtin(name_or_path, &r.file, &label);
    if (e) {
      free(label);
      return ms__err_push(e, __FILE__, __LINE__, __func__);
    }
  }
  r.label = label;
  struct ms_m3gnet_s *m = NULL;
  ms_err e = MS_CALLOC(1, &m);
  if (!e) {
    m->origin = label;
    e = read_model(&r, m);
  } else {
    free(label);
  }
  H5Fclose(r.file);
  if (e) {
    ms_m3gnet_free(&m);
    return ms__err_push(e, __FILE__, __LINE__, __func__);
  }
  *out = m;
  return MS_SUCCESS;
}

/* ---- species and accessors ------------------------------------------------------------- */

int ms_m3gnet_covers(const ms_m3gnet m, int Z) {
  return m && Z >= 1 && Z <= MS_MAX_Z && m->z_to_type[Z] >= 0;
}

ms_err ms_m3gnet_check_species(const ms_m3gnet m, const ms_cell *c) {
  MS_CHECK(m && c, MS_ERR_ARG, "ms_m3gnet_check_species: NULL argument");
  for (int k = 0; k < c->nkinds; ++k) {
    int Z = c->species[k].Z;
    if (!ms_m3gnet_covers(m, Z)) {
      const ms_element *el = ms_element_by_z(Z);
      MS_FAIL(MS_ERR_INPUT, "species %s (Z = %d) is not covered by the M3GNet model %s "
              "(%d elements)", el ? el->symbol : "?", Z, m->name, m->ntypes);
    }
  }
  return MS_SUCCESS;
}

const char *ms_m3gnet_name(const ms_m3gnet m) { return m->name; }
const char *ms_m3gnet_description(const ms_m3gnet m) { return m->description; }
const char *ms_m3gnet_citation(const ms_m3gnet m) { return m->citation; }
const char *ms_m3gnet_licence(const ms_m3gnet m) { return m->licence; }
const char *ms_m3gnet_source(const ms_m3gnet m) { return m->source; }
const char *ms_m3gnet_origin(const ms_m3gnet m) { return m->origin; }
double ms_m3gnet_cutoff(const ms_m3gnet m) { return m->cutoff; }
double ms_m3gnet_threebody_cutoff(const ms_m3gnet m) { return m->cutoff3; }
int ms_m3gnet_n_elements(const ms_m3gnet m) { return m->ntypes; }
int ms_m3gnet_element_z(const ms_m3gnet m, int k) {
  return k >= 0 && k < m->ntypes ? m->type_z[k] : 0;
}
int ms_m3gnet_format_version(const ms_m3gnet m) { return m->format_version; }
int ms_m3gnet_use_smooth(const ms_m3gnet m) { return m->use_smooth; }
