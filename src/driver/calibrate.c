/* `matscreen check`'s cost estimate: the filter stage that evaluates energies and the relaxer
 * (lent by the relax stage) timed on a few candidates spread over the id range. */
#include <stdio.h>
#include <string.h>

#include "funnel_impl.h"

ms_err ms__fn_calibrate(run_ctx *x, int64_t total, ms__fn_cost *c) {
  ms_cell cell;
  ms_cell_init(&cell);
  int samples = total < 24 ? (int)total : 24;
  ms_err e = MS_SUCCESS;
  for (int k = 0; k < samples && !e; ++k) {
    int64_t id = (int64_t)((double)k * (double)total / samples);
    ms_candidate_info info;
    e = ms_search_build(x->search, id, &cell, &info);
    if (e || info.status != MS_STATUS_OK) {
      c->n_fail += !e;
      continue;
    }
    /* the filter that evaluates energies, timed on the candidate */
    ms_stage_verdict v;
    memset(&v, 0, sizeof v);
    v.pass = 1;
    v.volume_scale = 1.0;
    double t0 = MPI_Wtime();
    if (x->keep_item >= 0) {
      e = x->item_info[x->keep_item]->ops->filter(x->item_state[x->keep_item], x, &cell, &v);
      c->t_eval += MPI_Wtime() - t0;
      c->n_eval++;
    }
    if (!e && x->relax && c->n_relax < 3 && v.pass) {
      ms_relax_result rr;
      memset(&rr, 0, sizeof rr);
      ms__fn_scale_volume(&cell, v.volume_scale > 0 ? v.volume_scale : 1.0);
      double t1 = MPI_Wtime();
      e = ms_relax_run(x->relax, &cell, &rr);
      if (e == MS_ERR_INPUT) {
        ms_err_clear();
        e = MS_SUCCESS;
      }
      c->t_relax += MPI_Wtime() - t1;
      c->n_relax++;
    }
  }
  ms_cell_free(&cell);
  return e;
}

void ms__fn_cost_print(const run_ctx *x, int64_t total, const ms__fn_cost *c, FILE *fp) {
  fprintf(fp, "cost estimate (calibrated on %d candidates here, %d rank%s):\n", c->n_eval + c->n_fail,
          x->size, x->size == 1 ? "" : "s");
  if (c->n_eval) {
    double per = c->t_eval / c->n_eval;
    fprintf(fp, "  %-13s %.3g s per candidate -> %.3g core-hours for the whole space, "
            "%.3g h wall on %d ranks\n", x->item_info[x->keep_item]->name, per, per * (double)total / 3600,
            per * (double)total / 3600 / x->size, x->size);
  }
  if (c->n_relax) {
    double per = c->t_relax / c->n_relax;
    const ms_keep_rule *k = x->keep_item >= 0 ? &x->camp->stage[x->keep_item].keep : NULL;
    double nrel = (double)total;
    if (k && k->top_k > 0 && k->top_k < nrel) nrel = (double)k->top_k;
    if (k && k->top_fraction > 0 && k->top_fraction * total < nrel) nrel = k->top_fraction * (double)total;
    fprintf(fp, "  relax         %.3g s per relaxation; about %.0f relaxations (from the keep "
            "rule) -> %.3g core-hours\n", per, nrel, per * nrel / 3600);
  }
  if (c->n_fail) fprintf(fp, "  %d of the sampled candidates could not be built (status failed)\n", c->n_fail);
}
