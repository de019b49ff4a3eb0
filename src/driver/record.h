/* Per-candidate records of a campaign run (internal to src/driver).
 *
 * ms_arec is what phase A (generate, prefilter, single point) commits to the checkpoint log for
 * every candidate it keeps a row for; ms_astats are the per-block counts that rebuild the
 * /funnel table on any number of ranks. ms_record is one finished row of /candidates, built
 * while the table is written. Structures are never stored for rejected candidates: any rank can
 * rebuild candidate i from its id (generators are pure functions of (seed, i)). */
#ifndef MS_DRIVER_RECORD_H
#define MS_DRIVER_RECORD_H

#include <stdint.h>

#include "matscreen/error.h"

#define MS_REC_FORMULA 32
#define MS_REC_PROTO 48
#define MS_REC_REASON 128 /* why a candidate failed, was rejected or is unsupported */

typedef struct {
  int64_t id;               /* global candidate id */
  double e_single;          /* single-point energy per atom (eV/atom), NaN if not computed */
  double volume_scale;      /* volume factor chosen by the volume scan (1 if none) */
  double sp_time_s;         /* wall time of building + single point (with the volume scan) */
  int32_t item;             /* index in search: */
  int32_t status;           /* ms_status of the last stage it went through */
  int32_t natoms;
  int32_t spacegroup;       /* declared / drawn space group (generator), 0 if unknown */
  int32_t reject_stage;     /* index of the stage that removed it, -1 if still in */
  int32_t pad_;
  char formula[MS_REC_FORMULA];   /* reduced formula, e.g. "SrTiO3" */
  char prototype[MS_REC_PROTO];   /* prototype name ("" for random search) */
  char rejected_by[32];           /* prefilter rule that rejected it ("" otherwise) */
  char reason[MS_REC_REASON];     /* why it failed or was rejected in phase A ("" otherwise) */
} ms_arec;

/* Counts of one phase-A block at one row: generation, then each filter stage of the campaign in
 * order (in, out, by status, busy time). A frame holds one row per row, then the records; the
 * checkpoint's header names the stages (funnel.c, fingerprint). */
typedef struct {
  int64_t in, out;
  int64_t by_status[16];
  double busy_s;
} ms_astats;

typedef struct {
  int64_t id;               /* global candidate id */
  int64_t duplicate_of;     /* id of the kept duplicate, -1 if none */
  double e_single;          /* single-point energy per atom (eV/atom), NaN if not computed */
  double volume_scale;      /* volume factor chosen by the volume scan (1 if none) */
  double e_relaxed;         /* relaxed energy per atom (eV/atom), NaN if not relaxed */
  double e_above_hull;      /* eV/atom, NaN if not computed */
  double relax_time_s;      /* wall time of the relaxation */
  double sp_time_s;         /* wall time of building + single point (with the volume scan) */
  int32_t item;             /* index in search: */
  int32_t status;           /* ms_status of the last stage it went through */
  int32_t stage_reached;    /* number of funnel stages passed (kept by) */
  int32_t natoms;
  int32_t spacegroup;       /* declared / drawn space group (generator), 0 if unknown */
  int32_t spacegroup_relaxed; /* of the relaxed structure (spglib), 0 if not relaxed */
  int32_t relax_iterations;
  int32_t relax_status;     /* ms_status of the relaxation, -1 if not relaxed */
  int32_t reject_stage;     /* index of the stage that removed it, -1 if still in */
  char formula[MS_REC_FORMULA];   /* reduced formula, e.g. "SrTiO3" */
  char prototype[MS_REC_PROTO];   /* prototype name ("" for random search) */
  char rejected_by[32];           /* prefilter rule that rejected it ("" otherwise) */
  char decomposition[96];         /* hull decomposition products ("" on the hull / no hull) */
  char structure_type[MS_REC_PROTO]; /* dedup survivors: library prototype the relaxed structure matches */
  double e_pred, e_pred_sigma;    /* surrogate prediction of the relaxed energy, eV/atom (NaN: none) */
  int32_t surrogate;              /* surrogate stage: 0 skipped, 1 relaxed to learn, 2 relaxed by the
                                     filter, 3 skipped but relaxed for the ground truth; -1 none */
  int32_t pad_;
  char reason[MS_REC_REASON];     /* why it failed, was rejected or is unsupported ("" when it is in) */
} ms_record;

#endif
