/* The campaign's link to the lab queue (internal to src/driver; see labfeed.c).
 *
 *   lab_feedback: {database: PATH}   read before the run: candidates with a ticket are not
 *                                    proposed again, reported outcomes go to /lab, and the run
 *                                    is the next round
 *   lab_queue: {database: PATH, export: [nimo, alabos, csv, json],
 *               heating: {temperature_C: 1000, time_min: 720}}
 *                                    after the output is written, its /shortlist is pushed as
 *                                    tickets and the queue is exported next to the output (the
 *                                    heating program goes into the alabos experiments)
 *
 * One database for both (the usual set-up of a campaign that runs round after round) need not
 * exist before the first round: that round has no feedback and creates it by pushing.
 *
 * Rank 0 talks to the database; what every rank needs is broadcast. Collective: setup, write,
 * push. */
#ifndef MS_DRIVER_LABFEED_H
#define MS_DRIVER_LABFEED_H

#include <mpi.h>
#include <stdint.h>

#include "matscreen/campaign.h"
#include "matscreen/error.h"
#include "matscreen/h5out.h"
#include "matscreen/labq.h"

typedef struct {
  char *queue_db;          /* lab_queue.database (resolved against the campaign file) */
  int exports[4];          /* ms_labq_export_format values */
  int nexports;
  ms_labq_export_options xo; /* lab_queue.heating */
  char *feedback_db;       /* lab_feedback.database */
  int64_t *tried;          /* candidate ids with a ticket (sorted), every rank */
  int64_t ntried;
  ms_labq_result *results; /* reported outcomes (sorted by candidate id), every rank */
  int64_t nresults;
  int64_t round;           /* this run's round: 1 + the last round in the database */
} ms_labfeed;

ms_err ms__labfeed_setup(MPI_Comm comm, ms_campaign *c, ms_labfeed *lf);
/** /lab: the outcomes read at setup (collective; nothing without lab_feedback). */
ms_err ms__labfeed_write(ms_labfeed *lf, ms_h5 f, int rank);
/** After the output is complete: push its shortlist and export (collective, rank 0 works). */
ms_err ms__labfeed_push(MPI_Comm comm, ms_labfeed *lf, const char *output);
void ms__labfeed_free(ms_labfeed *lf);

#endif
