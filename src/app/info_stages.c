/* `matscreen info stages [NAME] [--json]`: the stages of a run and their options, printed from
 * the stage records and option specs the campaign parser and the funnel read (stage.h), so the
 * listing cannot drift from what a campaign accepts. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "core/json.h"
#include "matscreen/stage.h"

static void list_text(char *buf, size_t len, const char *const *names) {
  size_t used = 0;
  buf[0] = '\0';
  for (int k = 0; names && names[k] && used < len; ++k) {
    int w = snprintf(buf + used, len - used, "%s%s", k ? ", " : "", names[k]);
    if (w > 0) used += (size_t)w;
  }
  if (!buf[0]) snprintf(buf, len, "-");
}

static void options_text(const ms_opt_spec *spec, int depth) {
  for (const ms_opt_spec *o = spec; o && o->key; ++o) {
    char type[160];
    ms_opts_describe_type(o, type, sizeof type);
    int ind = 2 + 4 * depth;
    printf("%*s%-*s %s; default %s\n", ind, "", 36 - ind, o->key, type,
           o->default_text ? o->default_text : "-");
    printf("%*s%-*s %s\n", ind, "", 36 - ind, "", o->help ? o->help : "");
    /* nested keys of a mapping, except the keep rule's (listed once, below) */
    if (o->type == MS_OPT_MAP && o->sub) options_text(o->sub, depth + 1);
  }
}

static void stage_text(const ms_stage_info *s, int full) {
  printf("%-14s %s\n", s->name, s->summary);
  if (!full) return;
  char after[256], needs[256];
  list_text(after, sizeof after, s->after);
  list_text(needs, sizeof needs, s->needs);
  printf("\n  shape:    %s\n", ms_stage_shape_name(s->shape));
  printf("  after:    %s (when the campaign has them)\n", after);
  printf("  needs:    %s\n", needs);
  printf("  reads:    %s\n", s->input);
  printf("  hands on: %s\n", s->output);
  if (s->section)
    printf("\noptions (YAML keys of the top-level '%s:' section):\n", s->section);
  else
    printf("\noptions (YAML keys of a funnel item {stage: %s, ...}):\n", s->name);
  if (!s->options || !s->options->key) printf("  none\n");
  options_text(s->options, 0);
  if (ms_stage_has_option(s, "keep")) {
    printf("\nkeep rules (keys of keep:):\n");
    options_text(ms_keep_spec, 0);
  }
}

static void options_json(ms_jbuf *b, const ms_opt_spec *spec) {
  ms_jb_raw(b, "[");
  for (const ms_opt_spec *o = spec; o && o->key; ++o) {
    char type[160];
    ms_opts_describe_type(o, type, sizeof type);
    ms_jb_raw(b, o == spec ? "{" : ", {");
    ms_jb_key(b, "key", 1);
    ms_jb_str(b, o->key);
    ms_jb_key(b, "type", 0);
    ms_jb_str(b, type);
    ms_jb_key(b, "unit", 0);
    ms_jb_str(b, o->unit ? o->unit : "");
    ms_jb_key(b, "default", 0);
    ms_jb_str(b, o->default_text ? o->default_text : "");
    ms_jb_key(b, "help", 0);
    ms_jb_str(b, o->help ? o->help : "");
    ms_jb_key(b, "example", 0);
    ms_jb_str(b, o->example ? o->example : "");
    if (o->sub) {
      ms_jb_key(b, "keys", 0);
      options_json(b, o->sub);
    }
    ms_jb_raw(b, "}");
  }
  ms_jb_raw(b, "]");
}

static void names_json(ms_jbuf *b, const char *const *names) {
  ms_jb_raw(b, "[");
  for (int k = 0; names && names[k]; ++k) {
    if (k) ms_jb_raw(b, ", ");
    ms_jb_str(b, names[k]);
  }
  ms_jb_raw(b, "]");
}

static void stage_json(ms_jbuf *b, const ms_stage_info *s) {
  ms_jb_raw(b, "{");
  ms_jb_key(b, "name", 1);
  ms_jb_str(b, s->name);
  ms_jb_key(b, "summary", 0);
  ms_jb_str(b, s->summary);
  ms_jb_key(b, "shape", 0);
  ms_jb_str(b, ms_stage_shape_name(s->shape));
  ms_jb_key(b, "section", 0);
  ms_jb_str(b, s->section ? s->section : "funnel");
  ms_jb_key(b, "after", 0);
  names_json(b, s->after);
  ms_jb_key(b, "needs", 0);
  names_json(b, s->needs);
  ms_jb_key(b, "reads", 0);
  ms_jb_str(b, s->input);
  ms_jb_key(b, "hands_on", 0);
  ms_jb_str(b, s->output);
  ms_jb_key(b, "options", 0);
  options_json(b, s->options);
  ms_jb_raw(b, "}");
}

int ms_info_stages(int argc, char **argv, int json) {
  if (argc > 2) return ms_app_usage_error("info", "'info stages' takes at most one NAME");
  int n = 0;
  const ms_stage_info *const *all = ms_stage_list(&n);
  const ms_stage_info *one = NULL;
  if (argc == 2) {
    one = ms_stage_find(argv[1]);
    if (!one) {
      const char *names[32];
      int m = 0;
      for (; m < n && m < 31; ++m) names[m] = all[m]->name;
      names[m] = NULL;
      const char *hint = ms_suggest(argv[1], names);
      return ms_app_usage_error("info", "unknown stage '%s'%s%s%s", argv[1], hint ? " (did you mean '" : "",
                                hint ? hint : "", hint ? "'?)" : "");
    }
  }
  if (ms_app_rank() != 0) return 0;
  if (json) {
    ms_jbuf b;
    ms_jb_init(&b);
    if (one) {
      stage_json(&b, one);
    } else {
      ms_jb_raw(&b, "{\"stages\": [");
      for (int k = 0; k < n; ++k) {
        if (k) ms_jb_raw(&b, ", ");
        stage_json(&b, all[k]);
      }
      ms_jb_raw(&b, "], \"keep\": ");
      options_json(&b, ms_keep_spec);
      ms_jb_raw(&b, "}");
    }
    ms_jb_raw(&b, "\n");
    fputs(b.s ? b.s : "", stdout);
    ms_jb_free(&b);
  } else if (one) {
    stage_text(one, 1);
  } else {
    printf("stages of a run, in run order (funnel items in this order; the shortlist is the "
           "top-level 'shortlist:' section):\n\n");
    for (int k = 0; k < n; ++k) stage_text(all[k], 0);
    printf("\n'matscreen info stages NAME' shows the shape, the order and the options of one stage "
           "(docs/stages.md).\n");
  }
  fflush(stdout);
  return 0;
}
