/* Parallel HDF5 output (see h5out.h). A dataset is written with collective H5Dwrite calls in
 * which each rank writes one hyperslab of rows: whole datasets in one call, with offsets from
 * an exclusive prefix sum of the row counts; large tables in rounds of slabs (ms_h5_dset_*). */
#include "matscreen/h5out.h"

#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ms_h5_s {
  MPI_Comm comm;
  hid_t file;
  char *path, *partial;
};

#define MS_H5_CHECK(expr, ...)                                                           \
  do {                                                                               \
    if ((expr) < 0) return ms__err_set(MS_ERR_HDF5, __FILE__, __LINE__, __func__, __VA_ARGS__); \
  } while (0)

ms_err ms_h5_create(MPI_Comm comm, const char *path, ms_h5 *out) {
  *out = NULL;
  ms_h5 f = calloc(1, sizeof *f);
  MS_CHECK(f, MS_ERR_MEM, "out of memory");
  f->comm = comm;
  size_t n = strlen(path);
  f->path = malloc(n + 1);
  f->partial = malloc(n + 9);
  if (!f->path || !f->partial) {
    free(f->path);
    free(f->partial);
    free(f);
    MS_FAIL(MS_ERR_MEM, "out of memory");
  }
  memcpy(f->path, path, n + 1);
  snprintf(f->partial, n + 9, "%s.partial", path);
  /* Quiet HDF5's own error stack printing: errors are reported through ms_err. */
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
  f->file = H5Fcreate(f->partial, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  if (f->file < 0) {
    ms_err e = ms__err_set(MS_ERR_IO, __FILE__, __LINE__, __func__,
                           "%s: cannot create the output file (directory missing, not writable, or full?)",
                           f->partial);
    free(f->path);
    free(f->partial);
    free(f);
    return e;
  }
  *out = f;
  return MS_SUCCESS;
}

ms_err ms_h5_close(ms_h5 *fp) {
  if (!fp || !*fp) return MS_SUCCESS;
  ms_h5 f = *fp;
  *fp = NULL;
  herr_t rc = H5Fclose(f->file);
  int rank = 0;
  MPI_Comm_rank(f->comm, &rank);
  int ok = rc >= 0, all_ok = 0;
  MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, f->comm);
  ms_err e = MS_SUCCESS;
  if (!all_ok) {
    e = ms__err_set(MS_ERR_HDF5, __FILE__, __LINE__, __func__, "%s: closing the file failed", f->partial);
  } else if (rank == 0 && rename(f->partial, f->path) != 0) {
    e = ms__err_set(MS_ERR_FILE, __FILE__, __LINE__, __func__, "cannot rename %s to %s: %s",
                    f->partial, f->path, strerror(errno));
  }
  free(f->path);
  free(f->partial);
  free(f);
  return e;
}

void ms_h5_abort(ms_h5 *fp) {
  if (!fp || !*fp) return;
  ms_h5 f = *fp;
  *fp = NULL;
  H5Fclose(f->file);
  int rank = 0;
  MPI_Comm_rank(f->comm, &rank);
  MPI_Barrier(f->comm);
  if (rank == 0) remove(f->partial);
  free(f->path);
  free(f->partial);
  free(f);
}

/* Open (creating as needed) the group that will hold @p name; returns its id and the leaf. */
static hid_t parent_group(ms_h5 f, const char *name, const char **leaf) {
  const char *slash = strrchr(name, '/');
  if (!slash || slash == name) {
    *leaf = slash ? slash + 1 : name;
    return H5Gopen2(f->file, "/", H5P_DEFAULT);
  }
  char path[512];
  size_t len = (size_t)(slash - name);
  if (len >= sizeof path) return -1;
  memcpy(path, name, len);
  path[len] = '\0';
  *leaf = slash + 1;
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  hid_t g;
  if (H5Lexists(f->file, path, H5P_DEFAULT) > 0)
    g = H5Gopen2(f->file, path, H5P_DEFAULT);
  else
    g = H5Gcreate2(f->file, path, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  H5Pclose(lcpl);
  return g;
}

static hid_t open_object(ms_h5 f, const char *obj) {
  if (strcmp(obj, "/") == 0) return H5Gopen2(f->file, "/", H5P_DEFAULT);
  if (H5Lexists(f->file, obj, H5P_DEFAULT) <= 0) {
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t g = H5Gcreate2(f->file, obj, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    return g;
  }
  return H5Oopen(f->file, obj, H5P_DEFAULT);
}

static ms_err write_attr(ms_h5 f, const char *obj, const char *name, hid_t type, const void *v) {
  hid_t o = open_object(f, obj);
  MS_H5_CHECK(o, "%s: cannot open object for attribute %s", obj, name);
  hid_t space = H5Screate(H5S_SCALAR);
  if (H5Aexists(o, name) > 0) H5Adelete(o, name);
  hid_t a = H5Acreate2(o, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  herr_t rc = a >= 0 ? H5Awrite(a, type, v) : -1;
  if (a >= 0) H5Aclose(a);
  H5Sclose(space);
  H5Oclose(o);
  MS_H5_CHECK(rc, "%s: cannot write attribute %s", obj, name);
  return MS_SUCCESS;
}

ms_err ms_h5_attr_str(ms_h5 f, const char *obj, const char *name, const char *value) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, strlen(value) + 1);
  H5Tset_strpad(t, H5T_STR_NULLTERM);
  ms_err e = write_attr(f, obj, name, t, value);
  H5Tclose(t);
  return e;
}
ms_err ms_h5_attr_int(ms_h5 f, const char *obj, const char *name, int64_t value) {
  return write_attr(f, obj, name, H5T_NATIVE_INT64, &value);
}
ms_err ms_h5_attr_double(ms_h5 f, const char *obj, const char *name, double value) {
  return write_attr(f, obj, name, H5T_NATIVE_DOUBLE, &value);
}

struct ms_h5_dset_s {
  ms_h5 f;
  hid_t d, memtype, filetype;
  int nd;
  hsize_t inner[3];
  char name[256];
};

ms_err ms_h5_dset_create(ms_h5 f, const char *name, ms_h5_type type, int cols, int dims3,
                         int64_t total, ms_h5_dset *out) {
  *out = NULL;
  ms_h5_dset ds = calloc(1, sizeof *ds);
  MS_CHECK(ds, MS_ERR_MEM, "out of memory");
  ds->f = f;
  snprintf(ds->name, sizeof ds->name, "%s", name);
  int rank_dims = 0;
  if (type == MS_H5_STR) {
    ds->memtype = H5Tcopy(H5T_C_S1);
    H5Tset_size(ds->memtype, (size_t)cols);
    H5Tset_strpad(ds->memtype, H5T_STR_NULLPAD);
    ds->filetype = H5Tcopy(ds->memtype);
  } else {
    hid_t mt = type == MS_H5_F64 ? H5T_NATIVE_DOUBLE : type == MS_H5_I64 ? H5T_NATIVE_INT64 : H5T_NATIVE_INT32;
    hid_t ft = type == MS_H5_F64 ? H5T_IEEE_F64LE : type == MS_H5_I64 ? H5T_STD_I64LE : H5T_STD_I32LE;
    ds->memtype = H5Tcopy(mt);
    ds->filetype = H5Tcopy(ft);
    if (dims3 && cols == 9) {
      rank_dims = 2;
      ds->inner[0] = ds->inner[1] = 3;
    } else if (cols > 1) {
      rank_dims = 1;
      ds->inner[0] = (hsize_t)cols;
    }
  }
  ds->nd = 1 + rank_dims;
  hsize_t dims[4] = {(hsize_t)total, 1, 1, 1}, chunk[4] = {0, 1, 1, 1};
  for (int k = 0; k < rank_dims; ++k) dims[1 + k] = chunk[1 + k] = ds->inner[k];
  const char *leaf = NULL;
  hid_t g = parent_group(f, name, &leaf);
  if (g < 0) {
    ms_h5_dset_close(&ds);
    MS_FAIL(MS_ERR_HDF5, "%s: cannot create its group", name);
  }
  hid_t space = H5Screate_simple(ds->nd, dims, NULL);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  if (total > 0) {
    chunk[0] = (hsize_t)total < 65536 ? (hsize_t)total : 65536;
    H5Pset_chunk(dcpl, ds->nd, chunk);
    H5Pset_deflate(dcpl, 4);
  }
  ds->d = H5Dcreate2(g, leaf, ds->filetype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  H5Pclose(dcpl);
  H5Sclose(space);
  H5Gclose(g);
  if (ds->d < 0) {
    ms_h5_dset_close(&ds);
    MS_FAIL(MS_ERR_HDF5, "%s: cannot create the dataset", name);
  }
  *out = ds;
  return MS_SUCCESS;
}

ms_err ms_h5_dset_write(ms_h5_dset ds, int64_t row0, int64_t nrows, const void *data) {
  hsize_t start[4] = {(hsize_t)row0, 0, 0, 0}, count[4] = {(hsize_t)nrows, 1, 1, 1};
  for (int k = 0; k + 1 < ds->nd; ++k) count[1 + k] = ds->inner[k];
  hid_t fspace = H5Dget_space(ds->d);
  hsize_t one[4] = {1, 1, 1, 1};
  hid_t mspace = H5Screate_simple(ds->nd, nrows > 0 ? count : one, NULL);
  if (nrows > 0) {
    H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
  } else {
    H5Sselect_none(fspace);
    H5Sselect_none(mspace);
  }
  hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
  H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);
  hsize_t total = (hsize_t)H5Sget_simple_extent_npoints(fspace);
  herr_t rc = total > 0 ? H5Dwrite(ds->d, ds->memtype, mspace, fspace, dxpl, data) : 0;
  H5Pclose(dxpl);
  H5Sclose(mspace);
  H5Sclose(fspace);
  MS_H5_CHECK(rc, "%s: writing rows %lld..%lld failed", ds->name, (long long)row0, (long long)(row0 + nrows));
  return MS_SUCCESS;
}

void ms_h5_dset_close(ms_h5_dset *dp) {
  if (!dp || !*dp) return;
  ms_h5_dset ds = *dp;
  if (ds->d > 0) H5Dclose(ds->d);
  if (ds->memtype > 0) H5Tclose(ds->memtype);
  if (ds->filetype > 0) H5Tclose(ds->filetype);
  free(ds);
  *dp = NULL;
}

/* The common path of every whole-dataset writer: rank r's rows go after those of ranks < r. */
static ms_err write_rows(ms_h5 f, const char *name, int64_t local_rows, ms_h5_type type, int cols,
                         int dims3, const void *data) {
  long long mine = local_rows, before = 0, total = 0;
  MS_CALL_MPI(MPI_Exscan(&mine, &before, 1, MPI_LONG_LONG, MPI_SUM, f->comm));
  int rank = 0;
  MPI_Comm_rank(f->comm, &rank);
  if (rank == 0) before = 0; /* MPI_Exscan leaves rank 0's result undefined */
  MS_CALL_MPI(MPI_Allreduce(&mine, &total, 1, MPI_LONG_LONG, MPI_SUM, f->comm));
  ms_h5_dset d = NULL;
  MS_CALL(ms_h5_dset_create(f, name, type, cols, dims3, total, &d));
  ms_err e = ms_h5_dset_write(d, before, mine, data);
  ms_h5_dset_close(&d);
  return e;
}

ms_err ms_h5_write_double(ms_h5 f, const char *name, int64_t n, int cols, const double *data,
                          int dims3) {
  return write_rows(f, name, n, MS_H5_F64, cols, dims3, data);
}

ms_err ms_h5_write_int64(ms_h5 f, const char *name, int64_t n, int cols, const int64_t *data) {
  return write_rows(f, name, n, MS_H5_I64, cols, 0, data);
}

ms_err ms_h5_write_int32(ms_h5 f, const char *name, int64_t n, int cols, const int32_t *data) {
  return write_rows(f, name, n, MS_H5_I32, cols, 0, data);
}

ms_err ms_h5_write_strings(ms_h5 f, const char *name, int64_t n, int width, const char *data) {
  return write_rows(f, name, n, MS_H5_STR, width, 0, data);
}

ms_err ms_h5_write_text(ms_h5 f, const char *name, const char *text) {
  /* One row written by rank 0 only. */
  int rank = 0;
  MPI_Comm_rank(f->comm, &rank);
  size_t len = strlen(text);
  unsigned long long l = len;
  MS_CALL_MPI(MPI_Bcast(&l, 1, MPI_UNSIGNED_LONG_LONG, 0, f->comm));
  return write_rows(f, name, rank == 0 ? 1 : 0, MS_H5_STR, (int)l + 1, 0, text);
}
