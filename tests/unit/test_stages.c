/* The stage list and the generic option reader.
 *
 * - The list (stages.def) is consistent: unique names, every funnel enum value has exactly one
 *   record and ms_stage_name() agrees with it, the list order satisfies every `after`
 *   constraint, every option has help text and every scalar option a valid default.
 * - The defaults the specs print are the defaults the libraries apply (relax, structure
 *   matcher, dedup, surrogate, shortlist): two independent sources that must agree.
 * - ms_opts_read converts and range-checks with positioned messages, fills defaults, and
 *   leaves nested entries to their owners. */
#include <math.h>
#include <string.h>

#include "../../src/driver/stability.h" /* MS_DEDUP_ENERGY_TOL */
#include "matscreen/match.h"
#include "matscreen/options.h"
#include "matscreen/relax.h"
#include "matscreen/shortlist.h"
#include "matscreen/stage.h"
#include "matscreen/surrogate.h"
#include "ms_test.h"

static double spec_def(const char *stage, const char *key) {
  const ms_stage_info *s = ms_stage_find(stage);
  const ms_opt_spec *o = s ? ms_opts_find(s->options, key) : NULL;
  if (!o) {
    fprintf(stderr, "no option %s.%s\n", stage, key);
    return NAN;
  }
  return o->def; /* CHOICE: an index into choices */
}

static const char *spec_choice_default(const char *stage, const char *key) {
  const ms_opt_spec *o = ms_opts_find(ms_stage_find(stage)->options, key);
  return o && o->choices ? o->choices[(int)o->def] : "";
}

static void test_list(void) {
  int n = 0;
  const ms_stage_info *const *all = ms_stage_list(&n);
  MS_TEST_EQ_INT(n, 7);
  int kinds[MS_STAGE_COUNT_] = {0};
  for (int k = 0; k < n; ++k) {
    const ms_stage_info *s = all[k];
    MS_TEST_TRUE(s->name && s->summary && s->summary[0] && s->input && s->output);
    MS_TEST_TRUE(ms_stage_find(s->name) == s);
    for (int q = 0; q < k; ++q) MS_TEST_TRUE(strcmp(all[q]->name, s->name) != 0);
    if (!s->section) {
      MS_TEST_TRUE((int)s->kind >= 0 && s->kind < MS_STAGE_COUNT_);
      kinds[s->kind]++;
      MS_TEST_EQ_STR(ms_stage_name(s->kind), s->name);
      MS_TEST_TRUE(ms_stage_of_kind(s->kind) == s);
    } else {
      MS_TEST_EQ_INT(s->kind, MS_STAGE_COUNT_);
    }
    /* every stage it must follow is listed, and listed earlier */
    for (int a = 0; s->after && s->after[a]; ++a) {
      const ms_stage_info *o = ms_stage_find(s->after[a]);
      MS_TEST_TRUE(o != NULL);
      int pos = -1;
      for (int q = 0; q < n; ++q)
        if (all[q] == o) pos = q;
      MS_TEST_TRUE(pos >= 0 && pos < k);
    }
    for (int a = 0; s->needs && s->needs[a]; ++a) MS_TEST_TRUE(ms_stage_find(s->needs[a]) != NULL);
    /* a stage that follows another in the list follows everything that one follows */
    for (int q = 0; q < k; ++q)
      if (ms_stage_comes_after(s, all[q]->name))
        for (int a = 0; all[q]->after && all[q]->after[a]; ++a)
          MS_TEST_TRUE(ms_stage_comes_after(s, all[q]->after[a]));
    for (const ms_opt_spec *o = s->options; o && o->key; ++o) {
      MS_TEST_TRUE(o->help && o->help[0]);
      MS_TEST_TRUE(o->default_text && o->default_text[0]);
      MS_TEST_TRUE(ms_opts_find(s->options, o->key) == o); /* unique keys */
      if (o->type == MS_OPT_NUMBER || o->type == MS_OPT_INTEGER) {
        /* the default is in range unless the option is required or unset by default */
        int range_ok = (isnan(o->lo) || o->def >= o->lo) && (isnan(o->hi) || o->def <= o->hi);
        if (!range_ok && strcmp(o->default_text, "required") != 0 && strcmp(o->default_text, "unset") != 0)
          MS_TEST_FAILED_("%s.%s: default %g outside its range", s->name, o->key, o->def);
      }
    }
  }
  for (int k = 0; k < MS_STAGE_COUNT_; ++k) MS_TEST_EQ_INT(kinds[k], 1);
  MS_TEST_TRUE(ms_stage_name(MS_STAGE_COUNT_) == NULL);
  /* the funnel's stages in run order, the shortlist not among them */
  const char *names[16];
  MS_TEST_EQ_INT(ms_stage_funnel_names(names, 16), 6);
  MS_TEST_EQ_STR(names[0], "prefilter");
  MS_TEST_EQ_STR(names[5], "hull");
  MS_TEST_TRUE(names[6] == NULL);
  /* keep and potential where the campaign allows them, nowhere else */
  MS_TEST_TRUE(!ms_stage_has_option(ms_stage_find("prefilter"), "keep"));
  MS_TEST_TRUE(!ms_stage_has_option(ms_stage_find("dedup"), "keep"));
  MS_TEST_TRUE(ms_stage_has_option(ms_stage_find("hull"), "keep"));
  MS_TEST_TRUE(!ms_stage_has_option(ms_stage_find("hull"), "potential"));
  MS_TEST_TRUE(ms_stage_has_option(ms_stage_find("surrogate"), "potential"));
}

static void test_defaults(void) {
  ms_relax_options ro;
  ms_relax_options_default(&ro);
  MS_TEST_EQ_STR(spec_choice_default("relax", "cell"), ms_relax_cell_name(ro.cell));
  MS_TEST_TRUE(spec_def("relax", "fmax") == ro.fmax);
  MS_TEST_TRUE(spec_def("relax", "smax") == ro.smax);
  MS_TEST_TRUE(spec_def("relax", "pressure") == ro.pressure);
  MS_TEST_TRUE(spec_def("relax", "max_steps") == ro.max_steps);
  ms_match_options mo;
  ms_match_options_default(&mo);
  MS_TEST_TRUE(spec_def("dedup", "ltol") == mo.ltol);
  MS_TEST_TRUE(spec_def("dedup", "stol") == mo.stol);
  MS_TEST_TRUE(spec_def("dedup", "angle_tol") == mo.angle_tol);
  MS_TEST_EQ_STR(spec_choice_default("dedup", "compare"), mo.compare_elements ? "elements" : "species");
  MS_TEST_TRUE(spec_def("dedup", "energy_tol") == MS_DEDUP_ENERGY_TOL);
  ms_surrogate_options so;
  ms_surrogate_options_default(&so);
  const ms_opt_spec *model = ms_opts_find(ms_stage_find("surrogate")->options, "model")->sub;
  MS_TEST_TRUE(ms_opts_find(model, "members")->def == so.members);
  MS_TEST_TRUE(ms_opts_find(model, "features")->def == so.features);
  MS_TEST_TRUE(ms_opts_find(model, "lambda")->def == so.lambda);
  MS_TEST_TRUE(ms_opts_find(model, "length_scale")->def == so.length_scale);
  const ms_opt_spec *noise = ms_opts_find(model, "noise"), *target = ms_opts_find(model, "target");
  MS_TEST_EQ_INT((int)noise->def, so.noise); /* none, constant, local = 0, 1, 2 */
  MS_TEST_EQ_STR(target->choices[(int)target->def], so.target_delta ? "relaxation_energy" : "relaxed_energy");
  ms_shortlist_options sl;
  ms_shortlist_options_default(&sl);
  MS_TEST_TRUE(spec_def("shortlist", "size") == (double)sl.size);
  MS_TEST_TRUE(spec_def("shortlist", "max_per_system") == (double)sl.max_per_system);
  MS_TEST_TRUE(spec_def("shortlist", "exclude_tried") == (double)sl.exclude_tried);
  ms_shortlist_options_free(&sl);
}

static const char *const colours[] = {"red", "green", "blue", NULL};
static const ms_opt_spec spec[] = {
    {.key = "fmax", .type = MS_OPT_NUMBER, .unit = "eV/Å", .lo = 1e-6, .hi = 10, .def = 0.01, .default_text = "0.01", .help = "h"},
    {.key = "frac", .type = MS_OPT_NUMBER, .lo = 0, .hi = 1, .lo_open = 1, .def = 1, .default_text = "1", .help = "h"},
    {.key = "steps", .type = MS_OPT_INTEGER, .lo = 1, .hi = 200, .def = 9, .default_text = "9", .help = "h"},
    {.key = "batch", .type = MS_OPT_INTEGER, .lo = 2, .hi = NAN, .def = 100, .note = " (two at least)", .default_text = "100", .help = "h"},
    {.key = "flag", .type = MS_OPT_BOOL, .lo = NAN, .hi = NAN, .default_text = "false", .help = "h"},
    {.key = "colour", .type = MS_OPT_CHOICE, .lo = NAN, .hi = NAN, .choices = colours, .def = 1, .default_text = "green", .help = "h"},
    {.key = "nested", .type = MS_OPT_MAP, .lo = NAN, .hi = NAN, .default_text = "none", .help = "h"},
    {0},
};

static ms_err read_text(const char *text, ms_opt_value *v, ms_ydoc **doc) {
  MS_CALL(ms_ydoc_parse(text, strlen(text), "s.yaml", doc));
  return ms_opts_read(ms_ydoc_root(*doc), "funnel[2]", spec, v);
}

static void bad(const char *text, const char *expect) {
  ms_opt_value v[8];
  ms_ydoc *doc = NULL;
  MS_TEST_ERR(read_text(text, v, &doc), MS_ERR_INPUT, expect);
  ms_ydoc_free(&doc);
}

static void test_reader(void) {
  MS_TEST_EQ_INT(ms_opts_count(spec), 7);
  ms_opt_value v[8];
  ms_ydoc *doc = NULL;
  /* absent: defaults */
  MS_TEST_OK(read_text("{other: 1}", v, &doc));
  MS_TEST_TRUE(!v[0].set && v[0].num == 0.01 && v[2].i == 9 && v[3].i == 100 && !v[4].b);
  MS_TEST_EQ_STR(v[5].s, "green");
  MS_TEST_EQ_INT(v[5].choice, 1);
  ms_ydoc_free(&doc);
  /* given: converted, marked used (the unused key is reported, the read ones are not) */
  MS_TEST_OK(read_text("{fmax: 0.05, frac: 1, steps: 200, flag: true, colour: blue, nested: {a: 1}, x: 2}", v, &doc));
  MS_TEST_TRUE(v[0].set && v[0].num == 0.05 && v[1].num == 1 && v[2].i == 200 && v[4].b);
  MS_TEST_EQ_STR(v[5].s, "blue");
  MS_TEST_EQ_INT(v[5].choice, 2);
  MS_TEST_TRUE(!v[6].set); /* nested entries are their owners' */
  MS_TEST_EQ_STR(ms_opts_get(spec, v, "colour")->s, "blue");
  MS_TEST_TRUE(ms_opts_get(spec, v, "nope") == NULL);
  ms_ynode_get(ms_ydoc_root(doc), "nested"); /* what its owner does */
  const char *keys[] = {"fmax", "frac", "steps", "batch", "flag", "colour", "nested", NULL};
  MS_TEST_ERR(ms_ynode_check_unused(ms_ydoc_root(doc), "funnel[2]", keys), MS_ERR_INPUT, "s.yaml:1:77: funnel[2].x: unknown key");
  ms_ydoc_free(&doc);
  /* positioned range messages in one wording */
  bad("{fmax: 20}", "s.yaml:1:8: funnel[2].fmax: must be in [1e-06, 10] eV/Å, got 20");
  bad("{fmax: abc}", "funnel[2].fmax: must be a finite number");
  bad("{frac: 0}", "funnel[2].frac: must be in (0, 1], got 0");
  bad("{steps: 201}", "funnel[2].steps: must be in 1..200, got 201");
  bad("{steps: 1.5}", "funnel[2].steps: must be an integer");
  bad("{batch: 1}", "funnel[2].batch: must be >= 2 (two at least), got 1");
  bad("{flag: maybe}", "funnel[2].flag:");
  bad("{colour: bleu}", "s.yaml:1:10: funnel[2].colour: must be red, green or blue, got 'bleu' (did you mean 'blue'?)");
  bad("[1, 2]", "must be a mapping");
  /* a NULL map: every default */
  MS_TEST_OK(ms_opts_read(NULL, "x", spec, v));
  MS_TEST_TRUE(v[0].num == 0.01 && !v[0].set);
  char buf[128];
  ms_opts_describe_type(&spec[0], buf, sizeof buf);
  MS_TEST_EQ_STR(buf, "number in [1e-06, 10] eV/Å");
  ms_opts_describe_type(&spec[3], buf, sizeof buf);
  MS_TEST_EQ_STR(buf, "integer >= 2");
  ms_opts_describe_type(&spec[5], buf, sizeof buf);
  MS_TEST_EQ_STR(buf, "red|green|blue");
}

int main(void) {
  test_list();
  test_defaults();
  test_reader();
  return MS_TEST_RESULT();
}
