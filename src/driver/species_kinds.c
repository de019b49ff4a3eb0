/* What the funnel's stages need from the species of the search space (docs/generation.md,
 * "Plain elements"). Generators may give plain elements ('Ni', no oxidation state) for models
 * that need no charges; a stage that cannot work without oxidation states is refused before any
 * work, with the reason, at the YAML node that asks for it:
 *   - an energy stage whose model takes its charges from oxidation states (rigid-ion), at the
 *     model's spec (here);
 *   - a prefilter rule that needs charges or ionic radii (ms_prefilter_rule_needs_ions), at the
 *     rule (the prefilter stage's check, stage_prefilter.c, with ms__fn_plain_elements).
 * (The hull needs none: with a model that needs no charges its components are the elements,
 * hull_plan.c.)
 * Everything here depends on the campaign alone, so every rank reaches the same verdict. */
#include <stdio.h>
#include <string.h>

#include "funnel_impl.h"
#include "matscreen/stage.h"

void ms__fn_plain_elements(run_ctx *x, char *what, size_t len) {
  enum { MAXSP = 256 };
  ms_species sp[MAXSP];
  int item[MAXSP];
  int nsp = ms_search_species(x->search, sp, item, MAXSP, NULL);
  if (nsp > MAXSP) nsp = MAXSP;
  /* the plain elements and the first item that gives them: "search[1] gives plain elements
   * (Ni, Al)" */
  char plain[256] = "";
  size_t used = 0;
  int first_item = -1, nplain = 0;
  for (int q = 0; q < nsp; ++q) {
    if (sp[q].has_ox) continue;
    if (first_item < 0) first_item = item[q];
    if (item[q] != first_item) continue;
    char lab[24];
    int w = snprintf(plain + used, sizeof plain - used, "%s%s", nplain ? ", " : "",
                     ms_species_format(&sp[q], lab, sizeof lab));
    if (w > 0 && (size_t)w < sizeof plain - used) used += (size_t)w;
    nplain++;
  }
  what[0] = '\0';
  if (first_item >= 0) snprintf(what, len, "search[%d] gives plain elements (%s)", first_item, plain);
}

ms_err ms__fn_check_species_kinds(run_ctx *x) {
  char what[320];
  ms__fn_plain_elements(x, what, sizeof what);
  if (!what[0]) return MS_SUCCESS;
  ms_campaign *c = x->camp;
  for (int k = 0; k < c->nstages; ++k) {
    const ms_stage *st = &c->stage[k];
    ms_model m = x->item_model[k];
    if (!m || !ms_model_needs_oxidation_states(m)) continue;
    const ms_model_spec *spec = st->has_model ? &st->model : &c->model;
    const char *msg =
        "model '%s' of funnel[%d] (%s) takes its charges from oxidation states, but %s: give "
        "ions (e.g. 'Ni2+') or a model that needs none (e.g. m3gnet-mp-2021.2.8)";
    if (spec->node)
      return ms_ynode_error(spec->node, spec->where, msg, ms_model_name(m), k, st->name, what);
    MS_FAIL(MS_ERR_INPUT, "%s: %s: model '%s' of funnel[%d] (%s) takes its charges from oxidation "
            "states, but %s", c->file, spec->where, ms_model_name(m), k, st->name, what);
  }
  return MS_SUCCESS;
}
