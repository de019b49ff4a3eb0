/* Error records and collective agreement.
 *
 * The record is thread-local so that library calls made from several threads do not clobber
 * each other's messages; there is no global "last error" shared between threads. Messages are
 * bounded (MS_ERR_MSG_MAX) and truncated with "..." rather than allocated, so recording an
 * error can never itself fail. */
#include "matscreen/error.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MS_ERR_MSG_MAX = 1024, MS_ERR_TB_MAX = 2048 };

typedef struct {
  ms_err code;
  char msg[MS_ERR_MSG_MAX];
  char tb[MS_ERR_TB_MAX];
  size_t tb_len;
} err_record;

static _Thread_local err_record rec;

static const char *const names[] = {
#define X(code, name, msg) name,
#include "matscreen/errors.def"
#undef X
};
static const char *const messages[] = {
#define X(code, name, msg) msg,
#include "matscreen/errors.def"
#undef X
};

const char *ms_err_name(ms_err code) {
  if ((int)code < 0 || code >= MS_ERR_COUNT_) return "UNKNOWN";
  return names[code];
}

const char *ms_strerror(ms_err code) {
  if ((int)code < 0 || code >= MS_ERR_COUNT_) return "unknown error code";
  return messages[code];
}

const char *ms_err_message(void) { return rec.msg; }
ms_err ms_err_last(void) { return rec.code; }
const char *ms_err_traceback(void) { return rec.tb; }

void ms_err_clear(void) {
  rec.code = MS_SUCCESS;
  rec.msg[0] = '\0';
  rec.tb[0] = '\0';
  rec.tb_len = 0;
}

static void tb_append(const char *file, int line, const char *func) {
  if (rec.tb_len >= MS_ERR_TB_MAX - 1) return;
  int n = snprintf(rec.tb + rec.tb_len, MS_ERR_TB_MAX - rec.tb_len, "  %s:%d (%s)\n", file,
                   line, func);
  if (n > 0) {
    rec.tb_len += (size_t)n;
    if (rec.tb_len >= MS_ERR_TB_MAX) rec.tb_len = MS_ERR_TB_MAX - 1;
  }
}

static void set_message_v(const char *fmt, va_list ap) {
  int n = vsnprintf(rec.msg, MS_ERR_MSG_MAX, fmt, ap);
  if (n >= MS_ERR_MSG_MAX) memcpy(rec.msg + MS_ERR_MSG_MAX - 4, "...", 4);
}

ms_err ms__err_set(ms_err code, const char *file, int line, const char *func, const char *fmt,
                   ...) {
  ms_err_clear();
  rec.code = code;
  va_list ap;
  va_start(ap, fmt);
  set_message_v(fmt, ap);
  va_end(ap);
  tb_append(file, line, func);
  return code;
}

ms_err ms__err_push(ms_err code, const char *file, int line, const char *func) {
  /* A code returned by a function that did not record a message (for example a bare
   * return of a code from a callback) still gets a readable message. */
  if (rec.code == MS_SUCCESS) {
    rec.code = code;
    snprintf(rec.msg, MS_ERR_MSG_MAX, "%s", ms_strerror(code));
  }
  tb_append(file, line, func);
  return code;
}

ms_err ms__err_mpi(int mpi_rc, const char *what, const char *file, int line, const char *func) {
  char s[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(mpi_rc, s, &len) != MPI_SUCCESS) snprintf(s, sizeof s, "code %d", mpi_rc);
  return ms__err_set(MS_ERR_MPI, file, line, func, "MPI call failed: %s: %s", what, s);
}

ms_err ms__calloc(size_t count, size_t size, void *out_ptr, const char *file, int line,
                  const char *func) {
  void **out = (void **)out_ptr;
  *out = NULL;
  if (count == 0) count = 1; /* a valid, freeable pointer even for empty arrays */
  if (size != 0 && count > SIZE_MAX / size)
    return ms__err_set(MS_ERR_MEM, file, line, func, "allocation of %zu x %zu bytes overflows",
                       count, size);
  *out = calloc(count, size);
  if (!*out)
    return ms__err_set(MS_ERR_MEM, file, line, func, "out of memory allocating %zu bytes",
                       count * size);
  return MS_SUCCESS;
}

ms_err ms__realloc(size_t count, size_t size, void *inout_ptr, const char *file, int line,
                   const char *func) {
  void **p = (void **)inout_ptr;
  if (count == 0) count = 1;
  if (size != 0 && count > SIZE_MAX / size)
    return ms__err_set(MS_ERR_MEM, file, line, func, "allocation of %zu x %zu bytes overflows",
                       count, size);
  void *q = realloc(*p, count * size);
  if (!q)
    return ms__err_set(MS_ERR_MEM, file, line, func, "out of memory allocating %zu bytes",
                       count * size);
  *p = q;
  return MS_SUCCESS;
}

/* Collective agreement (the pattern of FFTW's any_true, extended to carry the message):
 * 1. MIN-reduce "failed ? rank : size" to find the lowest failing rank (or none).
 * 2. That rank broadcasts its code and message; everyone installs them.
 * Every rank performs exactly the same collective calls whatever its local result, so the
 * function cannot deadlock on its own. */
ms_err ms_err_agree(MPI_Comm comm, ms_err local) {
  int rank = 0, size = 1;
  if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS || MPI_Comm_size(comm, &size) != MPI_SUCCESS)
    return ms__err_set(MS_ERR_MPI, __FILE__, __LINE__, __func__, "invalid communicator");
  int mine = (local != MS_SUCCESS) ? rank : size;
  int first = size;
  if (MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm) != MPI_SUCCESS)
    return ms__err_set(MS_ERR_MPI, __FILE__, __LINE__, __func__,
                       "MPI_Allreduce failed while agreeing on an error");
  if (first == size) return MS_SUCCESS;

  struct {
    int code;
    char msg[MS_ERR_MSG_MAX];
  } pkt;
  memset(&pkt, 0, sizeof pkt);
  if (rank == first) {
    pkt.code = (int)local;
    if (rec.code == MS_SUCCESS || rec.msg[0] == '\0')
      snprintf(pkt.msg, sizeof pkt.msg, "%s", ms_strerror(local));
    else
      memcpy(pkt.msg, rec.msg, sizeof pkt.msg);
  }
  if (MPI_Bcast(&pkt, (int)sizeof pkt, MPI_BYTE, first, comm) != MPI_SUCCESS)
    return ms__err_set(MS_ERR_MPI, __FILE__, __LINE__, __func__,
                       "MPI_Bcast failed while agreeing on an error");
  pkt.msg[MS_ERR_MSG_MAX - 1] = '\0';
  if (rank != first) {
    /* Keep this rank's own traceback only if it failed itself; install the agreed message. */
    if (local == MS_SUCCESS) ms_err_clear();
    rec.code = (ms_err)pkt.code;
    if (first != 0)
      snprintf(rec.msg, MS_ERR_MSG_MAX, "[rank %d] %.*s", first, MS_ERR_MSG_MAX - 32, pkt.msg);
    else
      memcpy(rec.msg, pkt.msg, MS_ERR_MSG_MAX);
  } else if (first != 0) {
    char tmp[MS_ERR_MSG_MAX];
    memcpy(tmp, rec.msg, sizeof tmp);
    snprintf(rec.msg, MS_ERR_MSG_MAX, "[rank %d] %.*s", first, MS_ERR_MSG_MAX - 16, tmp);
    rec.code = local;
  }
  return (ms_err)pkt.code;
}
