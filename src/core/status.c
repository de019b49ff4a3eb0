#include "matscreen/status.h"

static const char *const status_names[MS_STATUS_COUNT_] = {
    [MS_STATUS_OK] = "ok",
    [MS_STATUS_CONVERGED] = "converged",
    [MS_STATUS_MAX_STEPS] = "max_steps",
    [MS_STATUS_LINE_SEARCH] = "line_search_failed",
    [MS_STATUS_EXPLODED] = "exploded",
    [MS_STATUS_COLLAPSED] = "collapsed",
    [MS_STATUS_NAN] = "nan",
    [MS_STATUS_OVERLAP] = "overlap",
    [MS_STATUS_BAD_CELL] = "bad_cell",
    [MS_STATUS_UNSUPPORTED] = "unsupported",
    [MS_STATUS_REJECTED] = "rejected",
    [MS_STATUS_FAILED] = "failed",
};

const char *ms_status_name(ms_status s) {
  if ((int)s < 0 || s >= MS_STATUS_COUNT_) return "unknown";
  return status_names[s];
}
