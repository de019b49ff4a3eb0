/**
 * @file funnel.h
 * @brief Running a campaign: the MPI funnel from generated candidates to the HDF5 output.
 *
 * Conventions
 * -----------
 * - ms_funnel_run() is collective over its communicator: every rank works (no idle
 *   coordinator); candidates are handed out in chunks dynamically (schedule.h) because their
 *   costs differ by orders of magnitude; global keep decisions are collective and break ties by
 *   candidate id; survivors are handed out again for the expensive stages.
 * - Determinism: candidate i is built from (seed, i) wherever it is evaluated and every
 *   per-candidate computation depends on the candidate alone, so the output tables (sorted by
 *   candidate id) are identical for any number of ranks, energies bitwise.
 * - Memory per rank holds compact records of evaluated candidates (about 180 bytes each;
 *   with keep_rejected: counts, none for candidates rejected before the single point) and the
 *   relaxed structures of the survivors, never the search space itself.
 * - Per-candidate failures (a draw that found no placement, a species the potential does not
 *   cover, overlap, collapse, NaN, a relaxation that did not converge) are statuses in the
 *   output and counted per stage in /funnel; they never stop the run. Errors (I/O, MPI, bad
 *   configuration) are agreed on by all ranks and returned.
 * - Progress: rank 0 reports the stage, done/total, rate and ETA (a live line on a terminal, a
 *   log line every few seconds otherwise; nothing at log level QUIET) and the funnel summary.
 */
#ifndef MATSCREEN_FUNNEL_H
#define MATSCREEN_FUNNEL_H

#include <mpi.h>
#include <stdio.h>

#include "matscreen/campaign.h"
#include "matscreen/error.h"

typedef struct {
  const char *output;       /**< HDF5 path; NULL: the campaign's */
  double progress_interval; /**< seconds between progress lines when not on a terminal (10) */
  int dry_count;            /**< 1: only count candidates per generator (matscreen check) */
  int resume;               /**< 1: continue from the checkpoint OUTPUT.ckpt (--resume) */
  double max_walltime_s;    /**< stop cleanly before this many seconds (<= 0: no limit) */
} ms_funnel_options;

/** Per-stage figures (also written to /funnel). */
typedef struct {
  char name[32];
  long long in, out;
  double cpu_s, wall_s;
  long long by_status[16]; /**< candidates that ended in this stage with each ms_status */
} ms_funnel_stage_stats;

typedef struct {
  long long candidates;            /**< size of the search space */
  int nstages;                     /**< stages in stats[] (generation first) */
  ms_funnel_stage_stats stats[20];
  double wall_s;                   /**< the whole run, set-up included (s) */
  double setup_s;                  /**< set-up before the first candidate: potential, model,
                                        generators (random search tabulates the Wyckoff
                                        positions of every space group), lab feedback (s) */
  double peak_rss_mib;             /**< largest peak resident memory of any rank (MiB) */
  char output[512];                /**< the file written */
} ms_funnel_summary;

void ms_funnel_options_default(ms_funnel_options *o);

/** Collective. Run @p c on @p comm and write the HDF5 output; *summary is filled on every rank. */
ms_err ms_funnel_run(MPI_Comm comm, ms_campaign *c, const ms_funnel_options *opt,
                     ms_funnel_summary *summary);

/**
 * Collective. Validate @p c completely (generators, stage options, unknown keys), then rank 0
 * prints the resolved YAML, the exact number of candidates per generator and, with
 * @p calibrate, a cost estimate per stage from a short calibration run, to @p fp.
 */
ms_err ms_funnel_check(MPI_Comm comm, ms_campaign *c, int calibrate, FILE *fp);

#endif
