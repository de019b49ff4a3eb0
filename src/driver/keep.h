/* Keep rules between funnel stages (internal to src/driver); see keep.c. */
#ifndef MS_DRIVER_KEEP_H
#define MS_DRIVER_KEEP_H

#include <mpi.h>
#include <stdint.h>

#include "matscreen/campaign.h"
#include "matscreen/error.h"

#define MS_KEEP_FORMULA 32

/**
 * Collective. On entry keep[k] = 1 marks the entries eligible for this stage (others stay 0);
 * on return keep[k] = 1 for the survivors. Entries with a non-finite energy never survive.
 */
ms_err ms__keep_apply(MPI_Comm comm, const ms_keep_rule *rule, int64_t n, const double *e,
                      const int64_t *id, const char (*formula)[MS_KEEP_FORMULA],
                      unsigned char *keep);

#endif
