/* The models of the funnel's stages (docs/campaign.md, "Models of the stages"): the stages that
 * evaluate energies (single_point, surrogate, relax) use the campaign's model or their own; the
 * hull compares the relax stage's energies and the relaxer makes its reference phases, so it
 * needs no model of its own. Stages whose specs mean the same settings share one object, and a
 * stage without a model of its own shares the campaign's, so a campaign that names one model
 * runs exactly as it did before stages could name theirs.
 *
 * Before any work, every species the generators name is checked against the model of every
 * energy stage (ms_model_covers), so a campaign with an ion its model lacks stops with one
 * message instead of filling the output with `unsupported` candidates. Everything here depends
 * on the campaign alone, so every rank reaches the same result. */
#include <stdio.h>
#include <string.h>

#include "funnel_impl.h"
#include "matscreen/stage.h"

/* The stages that evaluate energies are those whose record takes a model (stage.h). */
static int evaluates_energies(const ms_stage *st) {
  return ms_stage_has_option(st->info, "potential");
}

ms_err ms__fn_stage_models(run_ctx *x) {
  ms_campaign *c = x->camp;
  MS_CALL(ms_model_create_spec(&c->model, &x->model));
  const ms_model_spec *owned[MS_MAX_STAGES];
  for (int k = 0; k < c->nstages; ++k) {
    const ms_stage *st = &c->stage[k];
    if (!evaluates_energies(st)) continue;
    ms_model m = x->model;
    if (st->has_model && !ms_model_spec_equal(&st->model, &c->model)) {
      int q = 0;
      while (q < x->nown && !ms_model_spec_equal(owned[q], &st->model)) ++q;
      if (q == x->nown) {
        MS_CALL(ms_model_create_spec(&st->model, &x->own[q]));
        owned[q] = &st->model;
        x->nown++;
      }
      m = x->own[q];
    }
    x->item_model[k] = m;
  }
  return MS_SUCCESS;
}

int ms__fn_models(const run_ctx *x, ms_model *out) {
  int n = 0;
  if (x->model) out[n++] = x->model;
  for (int k = 0; k < x->nown; ++k) out[n++] = x->own[k];
  return n;
}

void ms__fn_models_free(run_ctx *x) {
  for (int k = 0; k < x->nown; ++k) ms_model_destroy(&x->own[k]);
  x->nown = 0;
  ms_model_destroy(&x->model);
  memset(x->item_model, 0, sizeof x->item_model);
}

ms_err ms__fn_check_coverage(run_ctx *x) {
  enum { MAXSP = 256 }; /* distinct ions of a search space; more are not checked */
  ms_species sp[MAXSP];
  int item[MAXSP];
  int nsp = ms_search_species(x->search, sp, item, MAXSP, NULL);
  if (nsp > MAXSP) nsp = MAXSP;
  ms_campaign *c = x->camp;
  char msg[2048] = "", reason[1024] = "";
  size_t used = 0;
  const ms_model_spec *where = NULL; /* the spec of the first model that misses an ion */
  ms_model seen[MS_MAX_STAGES + 1];
  int nseen = 0;
  for (int k = 0; k < c->nstages; ++k) {
    ms_model m = x->item_model[k];
    if (!m || !evaluates_energies(&c->stage[k])) continue;
    int dup = 0;
    for (int q = 0; q < nseen; ++q) dup |= seen[q] == m;
    if (dup) continue;
    seen[nseen++] = m;
    char stages[256] = "", missing[768] = "";
    size_t su = 0, mu = 0;
    for (int j = k; j < c->nstages; ++j)
      if (evaluates_energies(&c->stage[j]) && x->item_model[j] == m) {
        int w = snprintf(stages + su, sizeof stages - su, "%sfunnel[%d] %s", su ? ", " : "", j, c->stage[j].name);
        if (w > 0 && (size_t)w < sizeof stages - su) su += (size_t)w;
      }
    int nmiss = 0;
    for (int q = 0; q < nsp; ++q) {
      char why[1024];
      if (ms_model_covers(m, &sp[q], why, sizeof why)) continue;
      if (!reason[0]) snprintf(reason, sizeof reason, "%s", why);
      char lab[24];
      int w = snprintf(missing + mu, sizeof missing - mu, "%s%s (search[%d])", nmiss ? ", " : "",
                       ms_species_format(&sp[q], lab, sizeof lab), item[q]);
      if (w > 0 && (size_t)w < sizeof missing - mu) mu += (size_t)w;
      nmiss++;
    }
    if (!nmiss) continue;
    if (!where) where = c->stage[k].has_model ? &c->stage[k].model : &c->model;
    int w = snprintf(msg + used, sizeof msg - used, "%smodel '%s' (%s) does not cover %s", used ? "; " : "",
                     ms_model_name(m), stages, missing);
    if (w > 0 && (size_t)w < sizeof msg - used) used += (size_t)w;
  }
  if (!where) return MS_SUCCESS;
  /* the species, models and stages first: the family's reason (with its list) may be cut */
  if (where->node) return ms_ynode_error(where->node, where->where, "%s. %s", msg, reason);
  MS_FAIL(MS_ERR_INPUT, "%s: %s: %s. %s", c->file, where->where, msg, reason);
}
