/* An HDF5 file driver for the output writer: plain POSIX I/O like HDF5's default driver, except
 * that a failed write (a full disk, a quota, an I/O error) is NOT reported to HDF5. It is kept,
 * sticky, in the caller's errno slot, later writes are skipped and reads of the file return what
 * is there (zeros past its end).
 *
 * Why: when a write fails inside HDF5 1.10 while it flushes its caches at H5Fclose, the file
 * identifier is left half released and the library crashes when it cleans up at MPI_Finalize
 * (seen as a segfault in H5F__close_cb, exit 139). With this driver HDF5 never sees the failure,
 * closes cleanly, and the writer (h5out.c) checks the slot after every operation, reports the
 * system's reason and removes the partial file. Only rank 0's output file uses it. */
#include "h5_posix_driver.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  H5FD_t pub; /* must be first: HDF5 sees only this part */
  int fd;
  haddr_t eoa, eof;
  int *err;   /* the caller's sticky errno (0 while every write succeeded) */
  dev_t dev;
  ino_t ino;
} posix_file;

typedef struct {
  int *err;
} driver_info;

static hid_t driver_id = H5I_INVALID_HID;
static int open_errno = 0; /* why the last open failed (HDF5 may try several opens) */

int ms__h5_posix_open_errno(void) { return open_errno; }

static void fail(posix_file *f, int code) {
  if (f->err && *f->err == 0) *f->err = code ? code : EIO;
}

static void *info_copy(const void *info) {
  driver_info *c = malloc(sizeof *c);
  if (c) memcpy(c, info, sizeof *c);
  return c;
}

static herr_t info_free(void *info) {
  free(info);
  return 0;
}

static H5FD_t *drv_open(const char *name, unsigned flags, hid_t fapl, haddr_t maxaddr) {
  (void)maxaddr;
  int o = (flags & H5F_ACC_RDWR) ? O_RDWR : O_RDONLY;
  if (flags & H5F_ACC_TRUNC) o |= O_TRUNC;
  if (flags & H5F_ACC_CREAT) o |= O_CREAT;
  if (flags & H5F_ACC_EXCL) o |= O_EXCL;
  const driver_info *info = H5Pget_driver_info(fapl);
  int fd = open(name, o, 0644);
  if (fd < 0) {
    open_errno = errno;
    return NULL;
  }
  struct stat st;
  posix_file *f = calloc(1, sizeof *f);
  if (!f || fstat(fd, &st) != 0) {
    open_errno = f ? errno : ENOMEM;
    free(f);
    close(fd);
    return NULL;
  }
  f->fd = fd;
  f->eof = (haddr_t)st.st_size;
  f->dev = st.st_dev;
  f->ino = st.st_ino;
  f->err = info ? info->err : NULL;
  return &f->pub;
}

static herr_t drv_close(H5FD_t *file) {
  posix_file *f = (posix_file *)file;
  if (close(f->fd) != 0) fail(f, errno);
  free(f);
  return 0;
}

static int drv_cmp(const H5FD_t *a, const H5FD_t *b) {
  const posix_file *x = (const posix_file *)a, *y = (const posix_file *)b;
  if (x->dev != y->dev) return x->dev < y->dev ? -1 : 1;
  if (x->ino != y->ino) return x->ino < y->ino ? -1 : 1;
  return 0;
}

static herr_t drv_query(const H5FD_t *file, unsigned long *flags) {
  (void)file;
  /* The features of HDF5's own POSIX driver: metadata and small raw data are aggregated and
   * accumulated, raw data is sieved. */
  *flags = H5FD_FEAT_AGGREGATE_METADATA | H5FD_FEAT_ACCUMULATE_METADATA | H5FD_FEAT_DATA_SIEVE |
           H5FD_FEAT_AGGREGATE_SMALLDATA;
  return 0;
}

static haddr_t drv_get_eoa(const H5FD_t *file, H5FD_mem_t type) {
  (void)type;
  return ((const posix_file *)file)->eoa;
}

static herr_t drv_set_eoa(H5FD_t *file, H5FD_mem_t type, haddr_t addr) {
  (void)type;
  ((posix_file *)file)->eoa = addr;
  return 0;
}

static haddr_t drv_get_eof(const H5FD_t *file, H5FD_mem_t type) {
  (void)type;
  return ((const posix_file *)file)->eof;
}

static herr_t drv_get_handle(H5FD_t *file, hid_t fapl, void **handle) {
  (void)fapl;
  *handle = &((posix_file *)file)->fd;
  return 0;
}

static herr_t drv_read(H5FD_t *file, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t size, void *buf) {
  (void)type;
  (void)dxpl;
  posix_file *f = (posix_file *)file;
  char *p = buf;
  while (size > 0) {
    ssize_t n = pread(f->fd, p, size, (off_t)addr);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n < 0 && !(f->err && *f->err)) return -1; /* a real read error, nothing to hide */
      memset(p, 0, size); /* past the end, or after a failed write: what was never stored */
      break;
    }
    p += n;
    addr += (haddr_t)n;
    size -= (size_t)n;
  }
  return 0;
}

static herr_t drv_write(H5FD_t *file, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t size, const void *buf) {
  (void)type;
  (void)dxpl;
  posix_file *f = (posix_file *)file;
  if (addr + size > f->eof) f->eof = addr + size;
  if (f->err && *f->err) return 0; /* the file is lost already: skip, keep HDF5 going */
  const char *p = buf;
  while (size > 0) {
    ssize_t n = pwrite(f->fd, p, size, (off_t)addr);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      fail(f, n < 0 ? errno : ENOSPC);
      return 0;
    }
    p += n;
    addr += (haddr_t)n;
    size -= (size_t)n;
  }
  return 0;
}

static herr_t drv_truncate(H5FD_t *file, hid_t dxpl, hbool_t closing) {
  (void)dxpl;
  (void)closing;
  posix_file *f = (posix_file *)file;
  if (f->eoa == f->eof) return 0;
  if ((!f->err || !*f->err) && ftruncate(f->fd, (off_t)f->eoa) != 0) fail(f, errno);
  f->eof = f->eoa;
  return 0;
}

static const H5FD_class_t driver_class = {
#ifdef H5FD_CLASS_VERSION
    .version = H5FD_CLASS_VERSION,
    .value = (H5FD_class_value_t)600,
#endif
    .name = "matscreen_posix",
    .maxaddr = (haddr_t)INT64_MAX,
    .fc_degree = H5F_CLOSE_WEAK,
    .fapl_size = sizeof(driver_info),
    .fapl_copy = info_copy,
    .fapl_free = info_free,
    .open = drv_open,
    .close = drv_close,
    .cmp = drv_cmp,
    .query = drv_query,
    .get_eoa = drv_get_eoa,
    .set_eoa = drv_set_eoa,
    .get_eof = drv_get_eof,
    .get_handle = drv_get_handle,
    .read = drv_read,
    .write = drv_write,
    .truncate = drv_truncate,
    .fl_map = H5FD_FLMAP_DICHOTOMY,
};

hid_t ms__h5_posix_fapl(int *err) {
  if (driver_id < 0) driver_id = H5FDregister(&driver_class);
  if (driver_id < 0) return H5I_INVALID_HID;
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  driver_info info = {err};
  if (fapl >= 0 && H5Pset_driver(fapl, driver_id, &info) < 0) {
    H5Pclose(fapl);
    return H5I_INVALID_HID;
  }
  return fapl;
}
