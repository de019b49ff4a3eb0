/* Per-candidate records of a campaign run (internal to src/driver).
 *
 * A record is small and fixed-size so that millions of them fit in memory and move between
 * ranks as plain bytes (MPI_BYTE). Structures are never stored for rejected candidates: any
 * rank can rebuild candidate i from its id (generators are pure functions of (seed, i)). */
#ifndef MS_DRIVER_RECORD_H
#define MS_DRIVER_RECORD_H

#include <stdint.h>

#include "matscreen/error.h"

#define MS_REC_FORMULA 32
#define MS_REC_PROTO 48

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
} ms_record;

typedef struct {
  ms_record *r;
  int64_t n, cap;
} ms_record_vec;

ms_err ms_record_push(ms_record_vec *v, const ms_record *r);
void ms_record_vec_free(ms_record_vec *v);

#endif
