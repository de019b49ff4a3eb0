/* Rank-0 logging. State is process-wide but set once at start-up (communicator, level);
 * the print functions only read it. */
#include "matscreen/log.h"

#include <stdarg.h>
#include <stdio.h>

static int log_rank = 0;
static ms_log_level log_level = MS_LOG_INFO;

void ms_log_init(MPI_Comm comm) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) MPI_Comm_rank(comm, &log_rank);
}

void ms_log_set_level(ms_log_level level) { log_level = level; }
ms_log_level ms_log_get_level(void) { return log_level; }
int ms_log_is_root(void) { return log_rank == 0; }

static void vlog(const char *prefix, const char *fmt, va_list ap) {
  fputs(prefix, stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  fflush(stderr);
}

#define LOG_BODY(minlevel, prefix)                   \
  do {                                               \
    if (log_rank != 0 || log_level < (minlevel)) return; \
    va_list ap;                                      \
    va_start(ap, fmt);                               \
    vlog(prefix, fmt, ap);                           \
    va_end(ap);                                      \
  } while (0)

void ms_log_info(const char *fmt, ...) { LOG_BODY(MS_LOG_INFO, ""); }
void ms_log_verbose(const char *fmt, ...) { LOG_BODY(MS_LOG_VERBOSE, ""); }
void ms_log_debug(const char *fmt, ...) { LOG_BODY(MS_LOG_DEBUG, "debug: "); }
void ms_log_warn(const char *fmt, ...) { LOG_BODY(MS_LOG_INFO, "matscreen: warning: "); }
void ms_log_error(const char *fmt, ...) { LOG_BODY(MS_LOG_QUIET, "matscreen: error: "); }

void ms_log_any(const char *fmt, ...) {
  if (log_level < MS_LOG_VERBOSE) return;
  char prefix[32];
  snprintf(prefix, sizeof prefix, "[rank %d] ", log_rank);
  va_list ap;
  va_start(ap, fmt);
  vlog(prefix, fmt, ap);
  va_end(ap);
}
