/* The single_point stage: the energy of each candidate at its generated geometry, or the
 * lowest of an isotropic volume scan (model.h, ms_volume_scan). A per-candidate filter that
 * evaluates energies (stage.h): its keep rule ranks them and makes the survivor set. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "funnel_impl.h"
#include "stage_spec.h"

static const ms_opt_spec volume_scan_keys[] = {
    {.key = "min", .type = MS_OPT_NUMBER, .lo = 0.2, .hi = 5, .lo_open = 1, .hi_open = 1, .default_text = "required",
     .help = "smallest volume factor (min <= max)", .example = "0.8"},
    {.key = "max", .type = MS_OPT_NUMBER, .lo = 0.2, .hi = 5, .lo_open = 1, .hi_open = 1, .default_text = "required",
     .help = "largest volume factor", .example = "1.2"},
    {.key = "points", .type = MS_OPT_INTEGER, .lo = 1, .hi = 200, .default_text = "required",
     .help = "number of volumes", .example = "9"},
    {0},
};

typedef struct {
  int item;
  int scan_points;          /* 0: no volume scan */
  double scan_min, scan_max; /* volume factors */
  ms_cell work;             /* scratch copy of the candidate */
} sp_state;

static void sp_destroy(void *state) {
  sp_state *s = state;
  if (!s) return;
  ms_cell_free(&s->work);
  free(s);
}

static ms_err sp_create(ms_run *x, const ms_stage *st, const char *path, void **state) {
  sp_state *s = calloc(1, sizeof *s);
  MS_CHECK(s, MS_ERR_MEM, "out of memory");
  ms_cell_init(&s->work);
  s->item = (int)(st - x->camp->stage);
  *state = s;
  ms_ynode *v = ms_ynode_get(st->node, "volume_scan");
  if (!v) return MS_SUCCESS;
  char p2[96];
  snprintf(p2, sizeof p2, "%s.volume_scan", path);
  /* the keys from their spec (ranges, positioned errors), then what the spec cannot say */
  ms_opt_value val[3];
  MS_CALL(ms_opts_read(v, p2, volume_scan_keys, val));
  const char *keys[4];
  ms_opts_keys(volume_scan_keys, keys, 4);
  MS_CALL(ms_ynode_check_unused(v, p2, keys)); /* a misspelt key before "needs ..." */
  if (!val[0].set || !val[1].set || !val[2].set) return ms_ynode_error(v, p2, "needs min, max and points");
  s->scan_min = val[0].num;
  s->scan_max = val[1].num;
  s->scan_points = (int)val[2].i;
  if (!(s->scan_min <= s->scan_max))
    return ms_ynode_error(v, p2, "need 0.2 < min <= max < 5 (volume factors), got %g and %g", s->scan_min,
                          s->scan_max);
  return MS_SUCCESS;
}

/* The energy of @p cell (with the volume scan when configured). Per-candidate problems become
 * verdicts: a failed evaluation, a species the model does not cover. */
static ms_err sp_filter(void *state, ms_run *x, const ms_cell *cell, ms_stage_verdict *v) {
  sp_state *s = state;
  ms_model m = x->item_model[s->item];
  MS_CALL(ms_cell_copy(&s->work, cell));
  double energy = NAN, factor = 1.0;
  ms_status status;
  ms_err e;
  char detail[192] = ""; /* the model's own detail; cut to the reason's width below */
  if (s->scan_points > 0) {
    ms_volume_scan_options vo;
    ms_volume_scan_options_default(&vo);
    vo.vmin = s->scan_min;
    vo.vmax = s->scan_max;
    vo.points = s->scan_points;
    ms_volume_scan_result vr;
    e = ms_volume_scan(m, &s->work, &vo, &vr);
    status = vr.status;
    energy = vr.energy;
    factor = vr.best_factor;
    if (!e && status != MS_STATUS_OK) memcpy(detail, vr.detail, sizeof detail);
  } else {
    ms_model_result res;
    res.forces = NULL;
    e = ms_model_compute(m, &s->work, 0, &res);
    status = res.status;
    energy = res.energy;
    if (!e && status != MS_STATUS_OK) memcpy(detail, res.detail, sizeof detail);
  }
  if (e == MS_ERR_INPUT) { /* a species the model does not cover */
    ms_err_clear();
    v->pass = 0;
    v->status = MS_STATUS_UNSUPPORTED;
    ms__fn_uncovered_reason(m, cell, v->reason, sizeof v->reason);
    return MS_SUCCESS;
  }
  MS_CALL(e);
  if (status != MS_STATUS_OK) {
    v->pass = 0;
    v->status = status;
    ms__fn_set_reason(v->reason, "single point %s: %s", ms_status_name(status), detail);
    return MS_SUCCESS;
  }
  v->energy = energy / cell->natoms;
  v->volume_scale = factor;
  return MS_SUCCESS;
}

static ms_model sp_model(void *state, const ms_run *x) { return x->item_model[((sp_state *)state)->item]; }

static const ms_stage_ops single_point_ops = {
    .create = sp_create,
    .destroy = sp_destroy,
    .filter = sp_filter,
    .model = sp_model,
};

/* ---- single_point -------------------------------------------------------------------------- */


static const ms_opt_spec single_point_options[] = {
    {.key = "volume_scan", .type = MS_OPT_MAP, UNBOUNDED, .default_text = "none",
     .help = "scale the volume isotropically from min to max (factors of the generated volume) in points "
             "steps and keep the lowest energy",
     .example = "{min: 0.8, max: 1.2, points: 5}", .sub = volume_scan_keys},
    POTENTIAL_ENTRY,
    KEEP_ENTRY("by energy per atom"),
    {0},
};

static const char *const after_single_point[] = {"prefilter", NULL};

const ms_stage_info ms__stage_single_point = {
    .name = "single_point",
    .summary = "energy of each candidate at its generated geometry (or the lowest of a volume scan)",
    .shape = MS_STAGE_SHAPE_FILTER,
    .kind = MS_STAGE_SINGLE_POINT,
    .after = after_single_point,
    .needs = ms__stage_none,
    .input = "each candidate that passed the prefilter",
    .output = "e_single_point and volume_scale per candidate; the keep rule's survivors form the survivor set",
    .options = single_point_options,
    .ops = &single_point_ops,
    .evaluates = 1,
};

