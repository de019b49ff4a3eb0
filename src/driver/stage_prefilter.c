/* The prefilter stage: chemistry rules on each generated candidate before any energy
 * (docs/generation.md). A per-candidate filter (stage.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "funnel_impl.h"
#include "stage_spec.h"

static ms_err pf_create(ms_run *x, const ms_stage *st, const char *path, void **state) {
  (void)x;
  char p2[96];
  snprintf(p2, sizeof p2, "%s.rules", path);
  ms_ynode *rules = ms_ynode_get(st->node, "rules");
  if (!rules) return ms_ynode_error(st->node, path, "missing required key 'rules' (e.g. {charge_neutral: true})");
  ms_prefilter *pf = NULL;
  MS_CALL(ms_prefilter_create(rules, p2, &pf));
  *state = pf;
  return MS_SUCCESS;
}

static void pf_destroy(void *state) {
  ms_prefilter *pf = state;
  ms_prefilter_free(&pf);
}

/* A rule that needs charges or ionic radii cannot judge plain elements: say so before any work. */
static ms_err pf_check(void *state, ms_run *x) {
  ms_prefilter *pf = state;
  char what[320];
  ms__fn_plain_elements(x, what, sizeof what);
  if (!what[0]) return MS_SUCCESS;
  int k = x->st[MS_STAGE_PREFILTER].index;
  const ms_stage *st = &x->camp->stage[k];
  ms_ynode *rules = ms_ynode_get(st->node, "rules");
  for (int r = 0; r < ms_prefilter_nrules(pf); ++r) {
    if (!ms_prefilter_rule_needs_ions(pf, r)) continue;
    const char *name = ms_prefilter_rule_name(pf, r);
    char path[128];
    snprintf(path, sizeof path, "funnel[%d].rules.%s", k, name);
    ms_ynode *n = rules ? ms_ynode_get(rules, name) : NULL;
    return ms_ynode_error(n ? n : st->node, path,
                          "needs oxidation states (charges or ionic radii), but %s; remove the "
                          "rule or give ions (min_distance and elements also judge plain "
                          "elements)",
                          what);
  }
  return MS_SUCCESS;
}

static ms_err pf_filter(void *state, ms_run *x, const ms_cell *cell, ms_stage_verdict *v) {
  (void)x;
  ms_prefilter_result pr;
  MS_CALL(ms_prefilter_check(state, cell, &pr));
  if (pr.pass) return MS_SUCCESS;
  v->pass = 0;
  v->status = MS_STATUS_REJECTED;
  snprintf(v->rule, sizeof v->rule, "%s", pr.rules[pr.first_failed].rule);
  ms__fn_set_reason(v->reason, "prefilter %s: %s", pr.rules[pr.first_failed].rule, pr.rules[pr.first_failed].reason);
  return MS_SUCCESS;
}

static const ms_stage_ops prefilter_ops = {
    .create = pf_create,
    .destroy = pf_destroy,
    .check = pf_check,
    .filter = pf_filter,
};

/* ---- prefilter ----------------------------------------------------------------------------- */

static const ms_opt_spec prefilter_rules[] = {
    {.key = "charge_neutral", .type = MS_OPT_MAP, UNBOUNDED, .help = "true: the formula is charge-neutral"},
    {.key = "electronegativity_order", .type = MS_OPT_MAP, UNBOUNDED,
     .help = "true: cations less electronegative than anions"},
    {.key = "tolerance_factor", .type = MS_OPT_MAP, UNBOUNDED,
     .help = "[min, max] of Goldschmidt's tolerance factor (ABX3 only)"},
    {.key = "bartel_tau", .type = MS_OPT_MAP, UNBOUNDED, .help = "max of Bartel et al.'s tau (ABX3 only)"},
    {.key = "radius_ratio", .type = MS_OPT_MAP, UNBOUNDED, .help = "{tolerance, upper, shell}: Pauling's radius ratios"},
    {.key = "min_distance", .type = MS_OPT_MAP, UNBOUNDED, .help = "{factor}: no two atoms closer than factor x radii"},
    {.key = "elements", .type = MS_OPT_MAP, UNBOUNDED, .help = "{allowed: [...], forbidden: [...]}"},
    {0},
};

static const ms_opt_spec prefilter_options[] = {
    {.key = "rules", .type = MS_OPT_MAP, UNBOUNDED, .default_text = "required",
     .help = "map of rules; each is true (defaults), false (off) or its parameters (docs/generation.md)",
     .example = "{charge_neutral: true}", .sub = prefilter_rules},
    {0},
};


const ms_stage_info ms__stage_prefilter = {
    .name = "prefilter",
    .summary = "chemistry rules before any energy (charge neutrality, tolerance factor, distances...)",
    .shape = MS_STAGE_SHAPE_FILTER,
    .kind = MS_STAGE_PREFILTER,
    .after = ms__stage_none,
    .needs = ms__stage_none,
    .input = "each generated candidate (its structure and species)",
    .output = "pass or the first rule that failed (rejected_by_rule)",
    .options = prefilter_options,
    .ops = &prefilter_ops,
};

