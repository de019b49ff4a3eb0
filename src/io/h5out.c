/* HDF5 output through one writer (see h5out.h for why).
 *
 * Rank 0 holds the file. A whole-dataset write is: gather the row counts to rank 0; rank 0
 * creates the dataset, writes its own rows, then receives each other rank's rows in pieces of at
 * most PIECE bytes, in rank order, and writes them; every rank knows the counts and the row
 * size, so the sequence of messages is fixed before anything is written and a failed write only
 * makes rank 0 discard what it still receives. One ms_err_agree() ends every call. Tables
 * (ms_h5_table_*) use the same pieces, announced by a header message per piece and a final
 * header of -1 rows. Rank 0 hashes each dataset's bytes in file order as it writes them. */
#include "matscreen/h5out.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5_digest.h"
#include "h5_posix_driver.h"
#include "matscreen/log.h"
#include "matscreen/sha256.h"

/* NAME_MAX_: the longest dataset path, stored at this width in the manifest's /checksums/dataset;
 * HEX_: the width of a digest in /checksums/sha256 (output_schema.def). */
enum {
  PIECE = 4 << 20,
  TAG_ROWS = 7101,
  TAG_HDR = 7102,
  TAG_COL = 7103,
  NAME_MAX_ = MS_OUTW_CHECKSUMS_DATASET,
  HEX_ = MS_OUTW_CHECKSUMS_SHA256
};
_Static_assert(HEX_ == 64, "a SHA-256 digest is 64 hex digits");
/* Chunks of at most this many bytes: small enough that the default chunk cache keeps the chunk
 * being filled while rows arrive in pieces, large enough for good compression. */
enum { CHUNK_BYTES = 1 << 20 };

typedef struct {
  char name[NAME_MAX_];
  char hex[65];
} manifest_entry;

struct ms_h5_s {
  MPI_Comm comm; /* a private duplicate: our messages cannot meet anybody else's */
  int rank, size;
  hid_t file;    /* rank 0 only */
  char *path, *partial;
  ms_err failed; /* agreed: identical on every rank */
  int io_errno;  /* rank 0: the first failed write of the file driver (sticky; 0 = none) */
  char doing[320]; /* rank 0: what was written last, for the message of a storage failure */
  int64_t *counts;
  char *piece;
  manifest_entry *man;
  int nman, capman;
  long ops, fault_at;
  double t0;     /* MPI_Wtime() at create, for the log */
  int fault_at_close;
};

/* ---- errors ---------------------------------------------------------------------------------- */

/* The innermost message of HDF5's error stack; for a failed system call the part that says
 * why ("No space left on device"). */
static herr_t walk_cb(unsigned n, const H5E_error2_t *err, void *data) {
  char *out = data;
  if (n != 0 || !err->desc) return 0;
  const char *m = strstr(err->desc, "error message = '");
  if (m) {
    m += strlen("error message = '");
    const char *end = strchr(m, '\'');
    size_t len = end ? (size_t)(end - m) : strlen(m);
    if (len > 200) len = 200;
    memcpy(out, m, len);
    out[len] = '\0';
  } else {
    snprintf(out, 200, "%s", err->desc);
  }
  return 0;
}

static ms_err h5_fail(ms_h5 f, const char *what, const char *obj, const char *file, int line,
                      const char *func) {
  char why[256] = "";
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, why);
  H5Eclear2(H5E_DEFAULT);
  int storage = strstr(why, "space") || strstr(why, "quota") || strstr(why, "Input/output") ||
                strstr(why, "write failed");
  return ms__err_set(storage ? MS_ERR_IO : MS_ERR_HDF5, file, line, func, "%s: %s %s failed%s%s",
                     f->partial, what, obj, why[0] ? ": " : "", why);
}
#define H5FAIL(what, obj) h5_fail(f, (what), (obj), __FILE__, __LINE__, __func__)

/* Counts a write operation of rank 0; 1 when MATSCREEN_FAULT_OUTPUT says this one fails. */
static int injected(ms_h5 f) { return ++f->ops == f->fault_at; }
#define INJECTED_FAIL(what, obj)                                                                  \
  ms__err_set(MS_ERR_IO, __FILE__, __LINE__, __func__,                                            \
              "%s: %s %s failed: No space left on device (injected by MATSCREEN_FAULT_OUTPUT)",     \
              f->partial, (what), (obj))

/* Rank 0: the failure the file driver kept from HDF5 (h5_posix_driver.c), if any. HDF5 writes
 * when its caches fill and when it closes, so a failure is reported with what was being written
 * when it surfaced. */
static ms_err storage_failed(ms_h5 f, const char *what) {
  if (f->rank != 0 || !f->io_errno) return MS_SUCCESS;
  return ms__err_set(MS_ERR_IO, __FILE__, __LINE__, __func__, "%s: writing the output failed (at %s): %s",
                     f->partial, what, strerror(f->io_errno));
}

static ms_err agree(ms_h5 f, ms_err local) {
  if (!local) local = storage_failed(f, f->doing);
  ms_err e = ms_err_agree(f->comm, local);
  if (e) f->failed = e;
  return e;
}

/* ---- file ------------------------------------------------------------------------------------ */

static void free_handle(ms_h5 f) {
  if (!f) return;
  if (f->comm != MPI_COMM_NULL) MPI_Comm_free(&f->comm);
  free(f->path);
  free(f->partial);
  free(f->counts);
  free(f->piece);
  free(f->man);
  free(f);
}

ms_err ms_h5_create(MPI_Comm comm, const char *path, ms_h5 *out) {
  *out = NULL;
  ms_h5 f = calloc(1, sizeof *f);
  ms_err e = f ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  if (f) {
    f->comm = MPI_COMM_NULL;
    f->file = H5I_INVALID_HID;
    MPI_Comm_rank(comm, &f->rank);
    MPI_Comm_size(comm, &f->size);
    size_t n = strlen(path);
    f->path = malloc(n + 1);
    f->partial = malloc(n + 9);
    f->counts = calloc((size_t)f->size, sizeof *f->counts);
    f->piece = f->rank == 0 ? malloc(PIECE) : NULL;
    if (!f->path || !f->partial || !f->counts || (f->rank == 0 && !f->piece)) {
      e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
    } else {
      memcpy(f->path, path, n + 1);
      snprintf(f->partial, n + 9, "%s.partial", path);
    }
    const char *fault = getenv("MATSCREEN_FAULT_OUTPUT");
    f->fault_at = fault && *fault ? atol(fault) : -1;
    f->fault_at_close = fault && strcmp(fault, "close") == 0;
    f->t0 = MPI_Wtime();
  }
  /* Every rank must take part in the duplication, whatever failed locally. */
  MPI_Comm dup = MPI_COMM_NULL;
  int rc = MPI_Comm_dup(comm, &dup);
  if (f) f->comm = dup;
  else if (dup != MPI_COMM_NULL) MPI_Comm_free(&dup);
  if (!e && rc != MPI_SUCCESS) e = ms__err_mpi(rc, "MPI_Comm_dup", __FILE__, __LINE__, __func__);
  if (!e && f->rank == 0) {
    /* Quiet HDF5's own error stack printing: errors are reported through ms_err. */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t fapl = ms__h5_posix_fapl(&f->io_errno);
    f->file = fapl >= 0 ? H5Fcreate(f->partial, H5F_ACC_TRUNC, H5P_DEFAULT, fapl) : H5I_INVALID_HID;
    if (fapl >= 0) H5Pclose(fapl);
    if (f->file < 0) {
      char why[256] = "";
      H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, why);
      H5Eclear2(H5E_DEFAULT);
      if (ms__h5_posix_open_errno()) snprintf(why, sizeof why, "%s", strerror(ms__h5_posix_open_errno()));
      e = ms__err_set(MS_ERR_IO, __FILE__, __LINE__, __func__,
                      "%s: cannot create the output file%s%s (is the directory there, writable, "
                      "with free space?)",
                      f->partial, why[0] ? ": " : "", why);
    }
  }
  e = ms_err_agree(comm, e);
  if (e) {
    if (f && f->file >= 0) {
      H5Fclose(f->file);
      remove(f->partial);
    }
    free_handle(f);
    return e;
  }
  *out = f;
  return MS_SUCCESS;
}

long ms_h5_operations(const ms_h5 f) { return f ? f->ops : 0; }

static ms_err manifest_add(ms_h5 f, const char *name, ms_sha256 *s) {
  if (f->nman == f->capman) {
    int cap = f->capman ? 2 * f->capman : 64;
    manifest_entry *m = realloc(f->man, (size_t)cap * sizeof *m);
    MS_CHECK(m, MS_ERR_MEM, "out of memory");
    f->man = m;
    f->capman = cap;
  }
  manifest_entry *m = &f->man[f->nman++];
  snprintf(m->name, sizeof m->name, "%s", name);
  ms_sha256_hex(s, m->hex);
  return MS_SUCCESS;
}

static int cmp_manifest(const void *a, const void *b) {
  return strcmp(((const manifest_entry *)a)->name, ((const manifest_entry *)b)->name);
}


static ms_err write_all_rows(ms_h5 f, const char *name, int64_t n, ms_h5_type type, int cols,
                             int dims3, const void *data, ms_sha256 *hash_out);

/* Rank 0: a string attribute on the root group, counted as one write operation. */
static ms_err root_attr_hex(ms_h5 f, const char *name, const char *hex) {
  if (injected(f)) return INJECTED_FAIL("writing the root attribute", name);
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, 65);
  H5Tset_strpad(t, H5T_STR_NULLTERM);
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(f->file, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
  herr_t rc = a >= 0 ? H5Awrite(a, t, hex) : -1;
  if (a >= 0) H5Aclose(a);
  H5Sclose(sp);
  H5Tclose(t);
  return rc < 0 ? H5FAIL("writing the root attribute", name) : MS_SUCCESS;
}

/* Rank 0: the manifest and the two root digests, written last (the digest of the root
 * attributes covers the manifest's digest). */
static ms_err write_checksums(ms_h5 f) {
  qsort(f->man, (size_t)f->nman, sizeof *f->man, cmp_manifest);
  int n = f->nman;
  char *names = calloc((size_t)n + 1, NAME_MAX_), *hexes = calloc((size_t)n + 1, HEX_);
  ms_err e = names && hexes ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  for (int k = 0; k < n && !e; ++k) {
    memcpy(names + (size_t)k * NAME_MAX_, f->man[k].name, strnlen(f->man[k].name, NAME_MAX_));
    memcpy(hexes + (size_t)k * HEX_, f->man[k].hex, HEX_);
  }
  /* The manifest is not listed in itself (hash_out instead of the manifest). */
  ms_sha256 h1, h2;
  if (!e) e = write_all_rows(f, MS_OUT_PATH(CHECKSUMS_DATASET), n, MS_H5_STR, NAME_MAX_, 0, names, &h1);
  if (!e) e = write_all_rows(f, MS_OUT_PATH(CHECKSUMS_SHA256), n, MS_H5_STR, HEX_, 0, hexes, &h2);
  char hex[65];
  if (!e) {
    ms_sha256 all;
    ms_sha256_init(&all);
    ms_sha256_update(&all, names, (size_t)n * NAME_MAX_);
    ms_sha256_update(&all, hexes, (size_t)n * HEX_);
    ms_sha256_hex(&all, hex);
    e = root_attr_hex(f, MS_H5_MANIFEST_DIGEST_ATTR, hex);
  }
  if (!e && ms__h5_root_attr_digest(f->file, hex) != 0) e = H5FAIL("reading back", "the root attributes");
  if (!e) e = root_attr_hex(f, MS_H5_ROOT_DIGEST_ATTR, hex);
  free(names);
  free(hexes);
  return e;
}

/* Make the closed partial file durable, then give it its final name. */
static ms_err publish(ms_h5 f) {
  int fd = open(f->partial, O_RDONLY);
  if (fd >= 0) {
    int rc = fsync(fd);
    int err = errno;
    close(fd);
    MS_CHECK(rc == 0, MS_ERR_IO, "%s: flushing the output to disk failed: %s", f->partial, strerror(err));
  }
  MS_CHECK(rename(f->partial, f->path) == 0, MS_ERR_IO, "cannot rename %s to %s: %s", f->partial, f->path,
           strerror(errno));
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", f->path);
  char *slash = strrchr(dir, '/');
  if (slash) *(slash == dir ? slash + 1 : slash) = '\0';
  else snprintf(dir, sizeof dir, ".");
  int dfd = open(dir, O_RDONLY);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return MS_SUCCESS;
}

ms_err ms_h5_close(ms_h5 *fp) {
  if (!fp || !*fp) return MS_SUCCESS;
  ms_h5 f = *fp;
  *fp = NULL;
  ms_err e = f->failed;
  if (!e && f->rank == 0) {
    e = write_checksums(f);
    if (!e) {
      if (injected(f) || f->fault_at_close) {
        e = INJECTED_FAIL("closing", "the file");
      } else {
        /* Never close twice: after a failed H5Fclose the identifier is gone anyway, and
         * closing it again crashes inside HDF5. */
        herr_t rc = H5Fclose(f->file);
        f->file = H5I_INVALID_HID;
        if (rc < 0) e = H5FAIL("closing", "the file");
        if (!e) e = storage_failed(f, "closing the file");
      }
    }
    if (!e) e = publish(f);
    if (!e) ms_log_verbose("%s: written with %ld write operations in %.2f s", f->path, f->ops, MPI_Wtime() - f->t0);
  }
  e = ms_err_agree(f->comm, e);
  if (e && f->rank == 0) {
    if (f->file >= 0) H5Fclose(f->file);
    H5Eclear2(H5E_DEFAULT);
    remove(f->partial);
  }
  free_handle(f);
  return e;
}

void ms_h5_abort(ms_h5 *fp) {
  if (!fp || !*fp) return;
  ms_h5 f = *fp;
  *fp = NULL;
  if (f->rank == 0) {
    if (f->file >= 0) H5Fclose(f->file);
    H5Eclear2(H5E_DEFAULT);
    remove(f->partial);
  }
  MPI_Barrier(f->comm);
  free_handle(f);
}

/* ---- objects --------------------------------------------------------------------------------- */

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
  if (f->failed) return f->failed;
  ms_err e = MS_SUCCESS;
  if (f->rank == 0) {
    char what[300];
    snprintf(what, sizeof what, "attribute %s of", name);
    snprintf(f->doing, sizeof f->doing, "attribute %s of %s", name, obj);
    if (injected(f)) {
      e = INJECTED_FAIL(what, obj);
    } else {
      hid_t o = open_object(f, obj);
      herr_t rc = -1;
      if (o >= 0) {
        hid_t space = H5Screate(H5S_SCALAR);
        if (H5Aexists(o, name) > 0) H5Adelete(o, name);
        hid_t a = H5Acreate2(o, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
        rc = a >= 0 ? H5Awrite(a, type, v) : -1;
        if (a >= 0) H5Aclose(a);
        H5Sclose(space);
        H5Oclose(o);
      }
      if (rc < 0) e = H5FAIL(what, obj);
    }
  }
  return agree(f, e);
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

/* ---- datasets (rank 0) ----------------------------------------------------------------------- */

typedef struct {
  hid_t d, memtype;
  int nd;
  hsize_t inner[2];
  size_t rowbytes, elem; /* bytes per row and per value (1 for strings) */
  int64_t written, total;
  ms_sha256 hash;
  char name[NAME_MAX_];
} dset;

static size_t row_bytes(ms_h5_type type, int cols) {
  return type == MS_H5_STR ? (size_t)cols : (size_t)cols * (type == MS_H5_I32 ? 4 : 8);
}

static void dset_close(dset *ds) {
  if (ds->d >= 0) H5Dclose(ds->d);
  if (ds->memtype >= 0) H5Tclose(ds->memtype);
  ds->d = ds->memtype = H5I_INVALID_HID;
}

static ms_err dset_create(ms_h5 f, const char *name, ms_h5_type type, int cols, int dims3,
                          int64_t total, dset *ds) {
  memset(ds, 0, sizeof *ds);
  ds->d = ds->memtype = H5I_INVALID_HID;
  snprintf(ds->name, sizeof ds->name, "%s", name);
  ds->rowbytes = row_bytes(type, cols);
  ds->elem = type == MS_H5_STR ? 1 : type == MS_H5_I32 ? 4 : 8;
  ds->total = total;
  ms_sha256_init(&ds->hash);
  snprintf(f->doing, sizeof f->doing, "dataset %s", name);
  if (injected(f)) return INJECTED_FAIL("creating the dataset", name);
  hid_t filetype;
  int rank_dims = 0;
  if (type == MS_H5_STR) {
    ds->memtype = H5Tcopy(H5T_C_S1);
    H5Tset_size(ds->memtype, (size_t)cols);
    H5Tset_strpad(ds->memtype, H5T_STR_NULLPAD);
    filetype = H5Tcopy(ds->memtype);
  } else {
    hid_t mt = type == MS_H5_F64 ? H5T_NATIVE_DOUBLE : type == MS_H5_I64 ? H5T_NATIVE_INT64 : H5T_NATIVE_INT32;
    hid_t ft = type == MS_H5_F64 ? H5T_IEEE_F64LE : type == MS_H5_I64 ? H5T_STD_I64LE : H5T_STD_I32LE;
    ds->memtype = H5Tcopy(mt);
    filetype = H5Tcopy(ft);
    if (dims3 && cols == 9) {
      rank_dims = 2;
      ds->inner[0] = ds->inner[1] = 3;
    } else if (cols > 1) {
      rank_dims = 1;
      ds->inner[0] = (hsize_t)cols;
    }
  }
  ds->nd = 1 + rank_dims;
  hsize_t dims[3] = {(hsize_t)total, 1, 1}, chunk[3] = {0, 1, 1};
  for (int k = 0; k < rank_dims; ++k) dims[1 + k] = chunk[1 + k] = ds->inner[k];
  const char *leaf = NULL;
  hid_t g = parent_group(f, name, &leaf);
  if (g >= 0) {
    hid_t space = H5Screate_simple(ds->nd, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (total > 0) {
      hsize_t rows = CHUNK_BYTES / (ds->rowbytes ? ds->rowbytes : 1);
      if (rows < 1) rows = 1;
      chunk[0] = (hsize_t)total < rows ? (hsize_t)total : rows;
      H5Pset_chunk(dcpl, ds->nd, chunk);
      H5Pset_deflate(dcpl, 4);
    }
    ds->d = H5Dcreate2(g, leaf, filetype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Gclose(g);
  }
  H5Tclose(filetype);
  if (ds->d < 0) {
    ms_err e = H5FAIL("creating the dataset", name);
    dset_close(ds);
    return e;
  }
  return MS_SUCCESS;
}

/* Append @p n rows at the dataset's current end and hash them. */
static ms_err dset_append(ms_h5 f, dset *ds, int64_t n, const void *data) {
  if (n <= 0) return MS_SUCCESS;
  if (ds->written + n > ds->total)
    MS_FAIL(MS_ERR_INTERNAL, "%s: %s: %lld rows arrived for %lld", f->partial, ds->name,
            (long long)(ds->written + n), (long long)ds->total);
  if (injected(f)) return INJECTED_FAIL("writing", ds->name);
  hsize_t start[3] = {(hsize_t)ds->written, 0, 0}, count[3] = {(hsize_t)n, 1, 1};
  for (int k = 0; k + 1 < ds->nd; ++k) count[1 + k] = ds->inner[k];
  hid_t fspace = H5Dget_space(ds->d);
  hid_t mspace = H5Screate_simple(ds->nd, count, NULL);
  H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
  herr_t rc = H5Dwrite(ds->d, ds->memtype, mspace, fspace, H5P_DEFAULT, data);
  H5Sclose(mspace);
  H5Sclose(fspace);
  if (rc < 0) {
    char what[64];
    snprintf(what, sizeof what, "writing rows %lld..%lld of", (long long)ds->written,
             (long long)(ds->written + n));
    return H5FAIL(what, ds->name);
  }
  ms__h5_hash_values(&ds->hash, data, (size_t)n * ds->rowbytes, ds->elem);
  ds->written += n;
  return storage_failed(f, ds->name);
}

/* Rank 0: finish a dataset: all rows there, hash into the manifest. */
static ms_err dset_finish(ms_h5 f, dset *ds, ms_err e, ms_sha256 *hash_out) {
  if (!e && ds->written != ds->total)
    e = ms__err_set(MS_ERR_INTERNAL, __FILE__, __LINE__, __func__, "%s: %s: %lld rows written, %lld expected",
                    f->partial, ds->name, (long long)ds->written, (long long)ds->total);
  if (!e) {
    if (hash_out) *hash_out = ds->hash;
    else e = manifest_add(f, ds->name, &ds->hash);
  }
  dset_close(ds);
  return e;
}

/* Rank 0 writing a dataset alone (the manifest). */
static ms_err write_all_rows(ms_h5 f, const char *name, int64_t n, ms_h5_type type, int cols,
                             int dims3, const void *data, ms_sha256 *hash_out) {
  dset ds;
  ms_err e = dset_create(f, name, type, cols, dims3, n, &ds);
  if (e) return e;
  e = dset_append(f, &ds, n, data);
  return dset_finish(f, &ds, e, hash_out);
}

/* ---- distributed rows ------------------------------------------------------------------------ */

static int64_t rows_per_piece(size_t rowbytes) {
  int64_t r = (int64_t)(PIECE / (rowbytes ? rowbytes : 1));
  return r < 1 ? 1 : r;
}

/* The common path of every whole-dataset writer: rank r's rows go after those of ranks < r. */
static ms_err write_rows(ms_h5 f, const char *name, int64_t local_rows, ms_h5_type type, int cols,
                         int dims3, const void *data) {
  if (f->failed) return f->failed;
  size_t rb = row_bytes(type, cols);
  int64_t mine = local_rows;
  ms_err e = MS_SUCCESS;
  int rc = MPI_Gather(&mine, 1, MPI_INT64_T, f->counts, 1, MPI_INT64_T, 0, f->comm);
  if (rc != MPI_SUCCESS) e = ms__err_mpi(rc, "MPI_Gather", __FILE__, __LINE__, __func__);
  /* Rows are sent by every other rank with rows unless the row size makes pieces impossible,
   * which every rank sees the same way (rb is the same everywhere). */
  int transfer = rb <= PIECE;
  int64_t per = rows_per_piece(rb);
  if (f->rank == 0) {
    int64_t total = 0;
    for (int r = 0; r < f->size; ++r) total += f->counts[r];
    if (!transfer && total > f->counts[0])
      e = ms__err_set(MS_ERR_INTERNAL, __FILE__, __LINE__, __func__, "%s: rows of %zu bytes cannot be sent", name, rb);
    dset ds;
    int created = 0;
    ms_err le = e;
    if (!le) {
      le = dset_create(f, name, type, cols, dims3, total, &ds);
      created = !le;
    }
    if (!le) le = dset_append(f, &ds, f->counts[0], data);
    for (int r = 1; r < f->size && transfer; ++r)
      for (int64_t done = 0; done < f->counts[r]; done += per) {
        int64_t n = f->counts[r] - done < per ? f->counts[r] - done : per;
        rc = MPI_Recv(f->piece, (int)((size_t)n * rb), MPI_BYTE, r, TAG_ROWS, f->comm, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS && !le) le = ms__err_mpi(rc, "MPI_Recv", __FILE__, __LINE__, __func__);
        if (!le) le = dset_append(f, &ds, n, f->piece);
      }
    if (created) le = dset_finish(f, &ds, le, NULL);
    if (!e) e = le;
  } else if (transfer) {
    const char *p = data;
    for (int64_t done = 0; done < mine; done += per) {
      int64_t n = mine - done < per ? mine - done : per;
      rc = MPI_Send(p + (size_t)done * rb, (int)((size_t)n * rb), MPI_BYTE, 0, TAG_ROWS, f->comm);
      if (rc != MPI_SUCCESS && !e) e = ms__err_mpi(rc, "MPI_Send", __FILE__, __LINE__, __func__);
    }
  }
  return agree(f, e);
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
  if (f->failed) return f->failed;
  /* Only rank 0's text is written, so nothing travels but its length. */
  unsigned long long l = strlen(text);
  int rc = MPI_Bcast(&l, 1, MPI_UNSIGNED_LONG_LONG, 0, f->comm);
  if (rc != MPI_SUCCESS) return agree(f, ms__err_mpi(rc, "MPI_Bcast", __FILE__, __LINE__, __func__));
  return write_rows(f, name, f->rank == 0 ? 1 : 0, MS_H5_STR, (int)l + 1, 0, text);
}

/* ---- streamed tables ------------------------------------------------------------------------- */

struct ms_h5_table_s {
  ms_h5 f;
  int ncols;
  ms_h5_column *cols;
  dset *ds;      /* rank 0 */
  size_t maxrow; /* the widest column's row, bytes */
  int64_t per;   /* rows per piece */
  ms_err local;  /* rank 0: first write failure (later rows are discarded) */
};

static void table_free(ms_h5_table t) {
  if (!t) return;
  if (t->ds)
    for (int c = 0; c < t->ncols; ++c) dset_close(&t->ds[c]);
  free(t->ds);
  free(t->cols);
  free(t);
}

ms_err ms_h5_table_create(ms_h5 f, const char *group, int ncols, const ms_h5_column *cols,
                          int64_t total_rows, ms_h5_table *out) {
  *out = NULL;
  if (f->failed) return f->failed;
  ms_h5_table t = calloc(1, sizeof *t);
  ms_err e = t ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  if (t) {
    t->f = f;
    t->ncols = ncols;
    t->cols = calloc((size_t)ncols, sizeof *t->cols);
    t->ds = f->rank == 0 ? calloc((size_t)ncols, sizeof *t->ds) : NULL;
    if (!t->cols || (f->rank == 0 && !t->ds)) e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int c = 0; c < ncols && t->ds; ++c) t->ds[c].d = t->ds[c].memtype = H5I_INVALID_HID;
  }
  for (int c = 0; c < ncols && !e; ++c) {
    t->cols[c] = cols[c];
    size_t rb = row_bytes(cols[c].type, cols[c].cols);
    if (rb > t->maxrow) t->maxrow = rb;
    if (f->rank == 0) {
      char name[NAME_MAX_];
      snprintf(name, sizeof name, "%s/%s", group, cols[c].name);
      e = dset_create(f, name, cols[c].type, cols[c].cols, 0, total_rows, &t->ds[c]);
    }
  }
  if (!e && t->maxrow > PIECE)
    e = ms__err_set(MS_ERR_INTERNAL, __FILE__, __LINE__, __func__, "%s: rows of %zu bytes cannot be sent", group, t->maxrow);
  if (t) t->per = rows_per_piece(t->maxrow);
  e = agree(f, e);
  if (e) {
    table_free(t);
    return e;
  }
  *out = t;
  return MS_SUCCESS;
}

ms_err ms_h5_table_append(ms_h5_table t, int64_t nrows, const void *const *data) {
  ms_h5 f = t->f;
  for (int64_t done = 0; done < nrows; done += t->per) {
    int64_t n = nrows - done < t->per ? nrows - done : t->per;
    if (f->rank == 0) {
      for (int c = 0; c < t->ncols && !t->local; ++c) {
        size_t rb = t->ds[c].rowbytes;
        t->local = dset_append(f, &t->ds[c], n, (const char *)data[c] + (size_t)done * rb);
      }
      continue;
    }
    int rc = MPI_Send(&n, 1, MPI_INT64_T, 0, TAG_HDR, f->comm);
    for (int c = 0; c < t->ncols && rc == MPI_SUCCESS; ++c) {
      size_t rb = row_bytes(t->cols[c].type, t->cols[c].cols);
      rc = MPI_Send((const char *)data[c] + (size_t)done * rb, (int)((size_t)n * rb), MPI_BYTE, 0, TAG_COL,
                    f->comm);
    }
    if (rc != MPI_SUCCESS) return ms__err_mpi(rc, "MPI_Send", __FILE__, __LINE__, __func__);
  }
  return f->rank == 0 ? t->local : MS_SUCCESS;
}

ms_err ms_h5_table_finish(ms_h5_table *tp, ms_err local) {
  ms_h5_table t = *tp;
  *tp = NULL;
  ms_h5 f = t->f;
  ms_err e = local;
  if (f->rank == 0) {
    for (int r = 1; r < f->size; ++r) {
      for (;;) {
        int64_t n = -1;
        int rc = MPI_Recv(&n, 1, MPI_INT64_T, r, TAG_HDR, f->comm, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS) {
          if (!t->local) t->local = ms__err_mpi(rc, "MPI_Recv", __FILE__, __LINE__, __func__);
          break;
        }
        if (n < 0) break;
        for (int c = 0; c < t->ncols; ++c) {
          rc = MPI_Recv(f->piece, (int)((size_t)n * t->ds[c].rowbytes), MPI_BYTE, r, TAG_COL, f->comm,
                        MPI_STATUS_IGNORE);
          if (rc != MPI_SUCCESS && !t->local) t->local = ms__err_mpi(rc, "MPI_Recv", __FILE__, __LINE__, __func__);
          if (!t->local) t->local = dset_append(f, &t->ds[c], n, f->piece);
        }
      }
    }
    ms_err w = t->local;
    for (int c = 0; c < t->ncols; ++c) w = dset_finish(f, &t->ds[c], w, NULL);
    if (!e) e = w;
  } else {
    int64_t end = -1;
    int rc = MPI_Send(&end, 1, MPI_INT64_T, 0, TAG_HDR, f->comm);
    if (rc != MPI_SUCCESS && !e) e = ms__err_mpi(rc, "MPI_Send", __FILE__, __LINE__, __func__);
  }
  table_free(t);
  return agree(f, e);
}
