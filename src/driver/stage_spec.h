/* Shared pieces of the stage records (internal to src/driver): each built-in stage's file holds
 * its record (stage.h) with its option spec and its operations; these are the entries several
 * records share. */
#ifndef MS_DRIVER_STAGE_SPEC_H
#define MS_DRIVER_STAGE_SPEC_H

#include <math.h>

#include "matscreen/stage.h"

/* No bound on either side (zero-initialised bounds would mean [0, 0]). */
#define UNBOUNDED .lo = NAN, .hi = NAN

#define KEEP_ENTRY(what)                                                                              \
  {.key = "keep", .type = MS_OPT_KEEP, UNBOUNDED, .default_text = "keep all",                        \
   .help = "keep rule: " what " (docs/campaign.md, \"Keep rules\")", .sub = ms_keep_spec,             \
   .example = "{top_fraction: 0.5}"}
#define POTENTIAL_ENTRY                                                                               \
  {.key = "potential", .type = MS_OPT_MODEL, UNBOUNDED, .default_text = "the campaign's",             \
   .help = "the stage's own model: a name, a file or {name: NAME, OPTION: VALUE} (docs/campaign.md, " \
           "\"Models of the stages\")",                                                               \
   .example = "bush1994"}

extern const char *const ms__stage_none[];        /* {NULL} */
extern const char *const ms__stage_needs_relax[]; /* {"relax", NULL} */

#endif
