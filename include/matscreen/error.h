/**
 * @file error.h
 * @brief Error codes, error context, and collective agreement on failure.
 *
 * Conventions
 * -----------
 * - Every fallible library function returns an ::ms_err; MS_SUCCESS (0) means success.
 *   Library code never calls exit(), abort() or MPI_Abort(); only the application's main()
 *   decides the process exit code.
 * - The first failing call records a message with context (what was expected, what was got,
 *   file and line of the *input* when there is one) in a thread-local error record with
 *   ms__err_set(); each caller that propagates the code with MS_CALL() appends one frame
 *   (source file, line, function) to the traceback. ms_err_message() returns the message,
 *   ms_err_traceback() the frames (for --verbose and bug reports).
 * - Calls into other libraries are wrapped so that their failures become codes with messages:
 *   MS_CALL_MPI() (MS_ERR_MPI), MS_CALL_PETSC() (MS_ERR_PETSC, with PETSc's own message) and
 *   MS_CALL_H5() (MS_ERR_HDF5). Code that must clean up before returning puts the wrapped calls
 *   in a helper function and frees in the caller, instead of a goto macro per file.
 * - MS_CHECK() is for conditions that depend on user input; it is always compiled in.
 *   MS_ASSERT() is for internal invariants and is compiled out with -DNDEBUG.
 * - Collectivity: ms_err_agree() is collective over its communicator and must be called by
 *   every rank after any step that can fail on some ranks only, before the next collective
 *   call. Every rank then returns the same code and holds the same message (that of the
 *   lowest failing rank), so rank 0 can print it once and nobody deadlocks.
 */
#ifndef MATSCREEN_ERROR_H
#define MATSCREEN_ERROR_H

#include <mpi.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Error codes, generated from errors.def. */
typedef enum {
#define X(code, name, msg) code,
#include "matscreen/errors.def"
#undef X
  MS_ERR_COUNT_
} ms_err;

/** Short stable name of a code ("INPUT"); "UNKNOWN" for out-of-range values. Not collective. */
const char *ms_err_name(ms_err code);
/** Generic one-line description of a code. Not collective. */
const char *ms_strerror(ms_err code);

/** Message of the most recent error on this thread ("" if none). Not collective. */
const char *ms_err_message(void);
/** Code of the most recent error on this thread (MS_SUCCESS if none). */
ms_err ms_err_last(void);
/** The traceback of the most recent error: one "file:line (function)" per line. */
const char *ms_err_traceback(void);
/** Forget the current error (after it has been handled, e.g. turned into a candidate status). */
void ms_err_clear(void);

/**
 * Record a new error with a printf-style message and return @p code.
 * Replaces any earlier record. Use through MS_CHECK / MS_FAIL.
 */
ms_err ms__err_set(ms_err code, const char *file, int line, const char *func,
                   const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 5, 6)))
#endif
  ;
/** Append a traceback frame to the current record and return @p code. Use through MS_CALL. */
ms_err ms__err_push(ms_err code, const char *file, int line, const char *func);

/**
 * Agree on failure across @p comm. Collective.
 *
 * Every rank passes its local result; every rank returns MS_SUCCESS if all ranks succeeded,
 * otherwise the code of the lowest-numbered failing rank, whose message is broadcast and
 * installed as the current error on every rank (prefixed with "[rank R] " when R != 0).
 * If the MPI calls themselves fail, returns MS_ERR_MPI.
 */
ms_err ms_err_agree(MPI_Comm comm, ms_err local);

/** Propagate a failure from a call, adding a traceback frame. */
#define MS_CALL(expr)                                                        \
  do {                                                                       \
    ms_err ms_e_ = (expr);                                                   \
    if (ms_e_ != MS_SUCCESS) return ms__err_push(ms_e_, __FILE__, __LINE__, __func__); \
  } while (0)

/** Fail with @p code and a formatted message unless @p cond holds. Always compiled in. */
#define MS_CHECK(cond, code, ...)                                            \
  do {                                                                       \
    if (!(cond)) return ms__err_set((code), __FILE__, __LINE__, __func__, __VA_ARGS__); \
  } while (0)

/** Fail unconditionally with @p code and a formatted message. */
#define MS_FAIL(code, ...) return ms__err_set((code), __FILE__, __LINE__, __func__, __VA_ARGS__)

/** Internal invariant; compiled out with NDEBUG. */
#ifdef NDEBUG
#define MS_ASSERT(cond) ((void)0)
#else
#define MS_ASSERT(cond)                                                      \
  do {                                                                       \
    if (!(cond)) return ms__err_set(MS_ERR_INTERNAL, __FILE__, __LINE__, __func__, \
                                    "internal invariant failed: %s", #cond); \
  } while (0)
#endif

/** Wrap an MPI call: a non-MPI_SUCCESS return becomes MS_ERR_MPI with the MPI error string. */
#define MS_CALL_MPI(expr)                                                    \
  do {                                                                       \
    int ms_mpi_rc_ = (expr);                                                 \
    if (ms_mpi_rc_ != MPI_SUCCESS) return ms__err_mpi(ms_mpi_rc_, #expr, __FILE__, __LINE__, __func__); \
  } while (0)
ms_err ms__err_mpi(int mpi_rc, const char *what, const char *file, int line, const char *func);

/**
 * Wrap a PETSc call: a nonzero PetscErrorCode becomes MS_ERR_PETSC with the call's text and
 * the message PETSc gave for the first failing frame (file, line, function inside PETSc), which
 * PETSc would otherwise print on stderr. The message is recorded only after ms_petsc_init()
 * (relax.h) has installed matscreen's PETSc error handler; before that the code alone is
 * reported. This header does not include PETSc: the code is passed on as an int.
 */
#define MS_CALL_PETSC(expr)                                                  \
  do {                                                                       \
    int ms_petsc_rc_ = (int)(expr);                                          \
    if (ms_petsc_rc_ != 0) return ms__err_petsc(ms_petsc_rc_, #expr, __FILE__, __LINE__, __func__); \
  } while (0)
/** Record MS_ERR_PETSC for PETSc code @p petsc_rc of call @p what and forget PETSc's message. */
ms_err ms__err_petsc(int petsc_rc, const char *what, const char *file, int line, const char *func);

/**
 * Check an HDF5 result: a negative value (HDF5's failure for both herr_t and hid_t) becomes
 * MS_ERR_HDF5 with the printf-style message that follows, which should name the file and the
 * dataset or attribute. @p expr may be the call itself or the handle it returned. This header
 * does not include HDF5. Writers of run outputs use the HDF5 layer (h5out.h), which also tells
 * a full disk (MS_ERR_IO) from other failures; this is for readers of HDF5 files.
 */
#define MS_CALL_H5(expr, ...)                                                \
  do {                                                                       \
    if ((expr) < 0) return ms__err_set(MS_ERR_HDF5, __FILE__, __LINE__, __func__, __VA_ARGS__); \
  } while (0)

/** Allocation helper: calloc that records MS_ERR_MEM with the requested size on failure. */
ms_err ms__calloc(size_t count, size_t size, void *out_ptr, const char *file, int line,
                  const char *func);
#define MS_CALLOC(count, ptr) ms__calloc((count), sizeof(**(ptr)), (ptr), __FILE__, __LINE__, __func__)
/** realloc counterpart of MS_CALLOC; on failure the old block is kept. */
ms_err ms__realloc(size_t count, size_t size, void *inout_ptr, const char *file, int line,
                   const char *func);
#define MS_REALLOC(count, ptr) ms__realloc((count), sizeof(**(ptr)), (ptr), __FILE__, __LINE__, __func__)

#ifdef __cplusplus
}
#endif
#endif /* MATSCREEN_ERROR_H */
