/* Campaign YAML: the design's example parses with the right values and defaults; each kind of
 * mistake gives MS_ERR_INPUT with the file, line and column of the offending key or value. */
#include "matscreen/campaign.h"
#include "ms_test.h"

static const char *good =
    "campaign: {name: perovskite-oxides, seed: 20261129, output: perovskite-oxides.h5}\n"
    "potential: bush1994\n"
    "search:\n"
    "  - generator: prototype_substitution\n"
    "    prototypes: [perovskite_cubic]\n"
    "    sites: {A: [Ca2+, Sr2+], B: [Ti4+], X: [O2-]}\n"
    "funnel:\n"
    "  - {stage: prefilter, rules: {charge_neutral: true}}\n"
    "  - {stage: single_point, keep: {top_fraction: 0.2}}\n"
    "  - {stage: relax, cell: full, fmax: 0.01, keep: {max_energy_above_best_eV_per_atom: 0.5}}\n"
    "  - {stage: dedup, ltol: 0.2}\n"
    "  - {stage: hull, references: auto, keep: {max_e_above_hull_eV_per_atom: 0.05}}\n"
    "shortlist: {size: 24, acquisition: {kind: ucb, kappa: 1.0}}\n"
    "lab_queue: {database: q.sqlite}\n";

static ms_err parse(const char *text, ms_campaign **c) {
  return ms_campaign_parse(text, strlen(text), "c.yaml", c);
}

/* Replace the first occurrence of @p from in the good text by @p to. */
static char *variant(const char *from, const char *to) {
  static char buf[4096];
  const char *p = strstr(good, from);
  if (!p) {
    fprintf(stderr, "variant: '%s' not in the good text\n", from);
    exit(2);
  }
  snprintf(buf, sizeof buf, "%.*s%s%s", (int)(p - good), good, to, p + strlen(from));
  return buf;
}

static void bad(const char *text, const char *expect) {
  ms_campaign *c = NULL;
  MS_TEST_ERR(parse(text, &c), MS_ERR_INPUT, expect);
  MS_TEST_TRUE(c == NULL);
}

int main(void) {
  ms_campaign *c = NULL;
  MS_TEST_OK(parse(good, &c));
  if (!c) return MS_TEST_RESULT();
  MS_TEST_EQ_STR(c->name, "perovskite-oxides");
  MS_TEST_EQ_INT(c->seed, 20261129);
  MS_TEST_EQ_STR(c->potential, "bush1994");
  MS_TEST_EQ_INT(c->model.nopt, 0); /* the options' defaults are the family's (test_model) */
  MS_TEST_EQ_INT(c->keep_rejected_rows, 1);
  MS_TEST_EQ_INT(c->nsearch, 1);
  MS_TEST_EQ_STR(c->search[0].generator, "prototype_substitution");
  MS_TEST_EQ_INT(c->nstages, 5);
  MS_TEST_EQ_INT(c->stage[1].kind, MS_STAGE_SINGLE_POINT);
  MS_TEST_NEAR(c->stage[1].keep.top_fraction, 0.2, 0);
  MS_TEST_TRUE(isnan(c->stage[1].keep.max_energy_per_atom));
  MS_TEST_NEAR(c->stage[2].keep.max_above_best, 0.5, 0);
  MS_TEST_NEAR(c->stage[4].keep.max_e_above_hull, 0.05, 0);
  MS_TEST_EQ_INT(c->shortlist_size, 24);
  /* stage and generator options are left for their owners: unread so far */
  MS_TEST_ERR(ms_campaign_check_unused(c), MS_ERR_INPUT, "c.yaml:5:5: search[0].prototypes: unknown key");
  char *resolved = ms_campaign_resolved_yaml(c);
  MS_TEST_TRUE(resolved && strstr(resolved, "seed: 20261129") && strstr(resolved, "{stage: relax, cell: full"));
  /* the resolved text is itself a valid campaign with the same values */
  ms_campaign *c2 = NULL;
  MS_TEST_OK(ms_campaign_parse(resolved, strlen(resolved), "resolved.yaml", &c2));
  if (c2) MS_TEST_EQ_INT(c2->nstages, 5);
  ms_campaign_free(&c2);
  free(resolved);
  ms_campaign_free(&c);
  MS_TEST_TRUE(c == NULL);

  /* potential as a mapping */
  MS_TEST_OK(parse(variant("potential: bush1994", "potential: {name: bush1994, accuracy: 1e-6, method: pme}"), &c));
  if (c) {
    MS_TEST_EQ_STR(ms_model_spec_get(&c->model, "accuracy"), "1e-6");
    MS_TEST_EQ_STR(ms_model_spec_get(&c->model, "method"), "pme");
  }
  ms_campaign_free(&c);

  bad(variant("top_fraction: 0.2", "top_fraction: 1.5"),
      "c.yaml:9:48: funnel[1].keep.top_fraction: must be in (0, 1], got 1.5");
  bad(variant("top_fraction: 0.2", "top_fracton: 0.2"),
      "funnel[1].keep.top_fracton: unknown key (did you mean 'top_fraction'?)");
  bad(variant("seed: 20261129", "seed: -3"), "c.yaml:1:43: campaign.seed: must be >= 0, got -3");
  bad(variant("seed: 20261129", "seed: many"), "campaign.seed: must be an integer, got 'many'");
  bad(variant(", seed: 20261129", ""), "missing required key 'seed'");
  bad(variant("campaign:", "campaing:"), "unknown key (did you mean 'campaign'?)");
  bad(variant("potential: bush1994\n", ""), "missing required key 'potential'");
  bad(variant("stage: single_point", "stage: single_pont"), "unknown stage 'single_pont' (did you mean 'single_point'?)");
  bad(variant("{stage: dedup, ltol: 0.2}", "{stage: relax}"), "stage 'relax' appears twice");
  bad(variant("  - {stage: prefilter, rules: {charge_neutral: true}}\n  - {stage: single_point, keep: {top_fraction: 0.2}}\n",
              "  - {stage: single_point, keep: {top_fraction: 0.2}}\n  - {stage: prefilter}\n"),
      "stage 'prefilter' must come before 'single_point'");
  bad(variant("name: perovskite-oxides", "name: perovskite oxides"), "it names files");
  bad(variant("search:\n  - generator: prototype_substitution\n    prototypes: [perovskite_cubic]\n    sites: {A: [Ca2+, Sr2+], B: [Ti4+], X: [O2-]}\n", "search: []\n"),
      "c.yaml:3:9: search: empty search space");
  bad(variant("  - generator: prototype_substitution", "  - generatr: prototype_substitution"),
      "search[0]: missing required key 'generator'");
  bad(variant("{stage: dedup, ltol: 0.2}", "{stage: dedup, keep: {top_k: 3}}"), "has no keep rule");
  bad(variant("keep: {max_e_above_hull_eV_per_atom: 0.05}", "keep: {top_k: 5}"), "keeps by max_e_above_hull");
  bad(variant("keep: {top_fraction: 0.2}", "keep: {max_e_above_hull_eV_per_atom: 0.1}"), "only the hull stage");
  bad(variant("keep: {top_fraction: 0.2}", "keep: {top_k: 0}"), "top_k: must be >= 1, got 0");
  bad(variant("size: 24", "size: 0"), "shortlist.size: must be >= 1");
  bad(variant("shortlist: {", "shortlist: [{"), "c.yaml:14:1: did not find expected");
  bad("", "the campaign file is empty");
  bad("- just\n- a list\n", "the campaign file: must be a mapping, got sequence");
  bad("campaign: {name: x, seed: 1\n", "c.yaml:");
  return MS_TEST_RESULT();
}
