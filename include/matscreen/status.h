/**
 * @file status.h
 * @brief Per-structure outcome statuses (data, not errors).
 *
 * Conventions
 * -----------
 * - A status describes what happened to one structure (candidate): a candidate that collapses,
 *   explodes or produces NaN gets a status and the campaign goes on. Errors (ms_err) are for
 *   problems that stop a command: bad input, I/O, MPI.
 * - Values are stored in HDF5 output and JSON as their names; append only.
 */
#ifndef MATSCREEN_STATUS_H
#define MATSCREEN_STATUS_H

typedef enum {
  MS_STATUS_OK = 0,             /**< computed normally */
  MS_STATUS_CONVERGED = 1,      /**< relaxation converged */
  MS_STATUS_MAX_STEPS = 2,      /**< relaxation hit its step limit */
  MS_STATUS_LINE_SEARCH = 3,    /**< relaxation's line search failed */
  MS_STATUS_EXPLODED = 4,       /**< volume or a cell length beyond its bound */
  MS_STATUS_COLLAPSED = 5,      /**< a pair inside the catastrophe guard, or energy below bound */
  MS_STATUS_NAN = 6,            /**< energy, force or stress not finite */
  MS_STATUS_OVERLAP = 7,        /**< two atoms (nearly) on top of each other */
  MS_STATUS_BAD_CELL = 8,       /**< degenerate cell (volume ~ 0) */
  MS_STATUS_UNSUPPORTED = 9,    /**< the model does not cover this structure (species) */
  MS_STATUS_REJECTED = 10,      /**< removed by a funnel rule */
  MS_STATUS_FAILED = 11,        /**< any other per-structure failure */
  MS_STATUS_COUNT_
} ms_status;

/** "ok", "converged", "max_steps", "line_search_failed", "exploded", "collapsed", "nan",
 *  "overlap", "bad_cell", "unsupported", "rejected", "failed". */
const char *ms_status_name(ms_status s);

#endif
