/**
 * @file log.h
 * @brief Rank-0 logging with levels.
 *
 * Conventions
 * -----------
 * - Messages go to stderr so that stdout stays clean for JSON and data (`--json`).
 * - ms_log_info/ms_log_warn/ms_log_debug print on rank 0 of the communicator given to
 *   ms_log_init() only; ms_log_any() prints from any rank with a "[rank R]" tag (for events
 *   only one rank sees). Error messages are printed by the application after ms_err_agree().
 * - Levels: MS_LOG_QUIET (errors only; --quiet), MS_LOG_INFO (default), MS_LOG_VERBOSE
 *   (--verbose), MS_LOG_DEBUG. Not collective.
 */
#ifndef MATSCREEN_LOG_H
#define MATSCREEN_LOG_H

#include <mpi.h>

typedef enum { MS_LOG_QUIET = 0, MS_LOG_INFO = 1, MS_LOG_VERBOSE = 2, MS_LOG_DEBUG = 3 } ms_log_level;

/** Remember the communicator whose rank 0 prints. Call after MPI_Init. */
void ms_log_init(MPI_Comm comm);
void ms_log_set_level(ms_log_level level);
ms_log_level ms_log_get_level(void);
/** 1 on the rank that prints (rank 0 of the log communicator). */
int ms_log_is_root(void);

#if defined(__GNUC__)
#define MS_PRINTF_LIKE(i, j) __attribute__((format(printf, i, j)))
#else
#define MS_PRINTF_LIKE(i, j)
#endif

void ms_log_info(const char *fmt, ...) MS_PRINTF_LIKE(1, 2);
void ms_log_verbose(const char *fmt, ...) MS_PRINTF_LIKE(1, 2);
void ms_log_debug(const char *fmt, ...) MS_PRINTF_LIKE(1, 2);
/** Warnings are shown at every level except QUIET. */
void ms_log_warn(const char *fmt, ...) MS_PRINTF_LIKE(1, 2);
/** Error line "matscreen: error: ..." on rank 0, at every level. */
void ms_log_error(const char *fmt, ...) MS_PRINTF_LIKE(1, 2);
/** From any rank, tagged with the rank; shown at VERBOSE and above. */
void ms_log_any(const char *fmt, ...) MS_PRINTF_LIKE(1, 2);

#endif
