/* Volume scan: scale a cell isotropically through a range of volumes and keep the one of lowest
 * energy (model.h). It needs nothing but a model, so it lives with the models; the single-point
 * stage runs it on generated cells, whose lattices are guesses. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "matscreen/model.h"

void ms_volume_scan_options_default(ms_volume_scan_options *o) {
  o->vmin = 0.8;
  o->vmax = 1.2;
  o->points = 9;
}

ms_err ms_volume_scan(ms_model m, ms_cell *c, const ms_volume_scan_options *opt,
                      ms_volume_scan_result *res) {
  ms_volume_scan_options def;
  if (!opt) {
    ms_volume_scan_options_default(&def);
    opt = &def;
  }
  MS_CHECK(opt->points >= 1 && opt->points <= 1000, MS_ERR_ARG,
           "volume scan: points must be in 1..1000, got %d", opt->points);
  MS_CHECK(opt->vmin > 0 && opt->vmax >= opt->vmin, MS_ERR_ARG,
           "volume scan: need 0 < vmin <= vmax, got %g, %g", opt->vmin, opt->vmax);
  memset(res, 0, sizeof *res);
  res->status = MS_STATUS_FAILED;
  res->energy = INFINITY;
  double L0[3][3];
  memcpy(L0, c->lattice, sizeof L0);
  int best = -1;
  double best_f = 1;
  ms_model_result r;
  for (int k = 0; k < opt->points; ++k) {
    double f =
        opt->points > 1 ? opt->vmin + (opt->vmax - opt->vmin) * k / (opt->points - 1) : opt->vmin;
    double s = cbrt(f);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) c->lattice[i][j] = s * L0[i][j];
    memset(&r, 0, sizeof r);
    ms_err e = ms_model_compute(m, c, 0, &r);
    if (e) {
      memcpy(c->lattice, L0, sizeof L0);
      return ms__err_push(e, __FILE__, __LINE__, __func__);
    }
    if (r.status == MS_STATUS_OK && isfinite(r.energy)) {
      res->nok++;
      if (best < 0 || r.energy < res->energy) {
        best = k;
        best_f = f;
        res->energy = r.energy;
      }
    } else if (best < 0) {
      res->status = r.status;
      snprintf(res->detail, sizeof res->detail, "%s", r.detail);
    }
  }
  double s = best < 0 ? 1.0 : cbrt(best_f);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) c->lattice[i][j] = s * L0[i][j];
  if (best >= 0) {
    res->status = MS_STATUS_OK;
    res->best_factor = best_f;
    res->detail[0] = '\0';
  } else {
    res->best_factor = 1.0;
    res->energy = NAN;
  }
  return MS_SUCCESS;
}
