/* Command-line model selection for `energy` and `relax` (model_args.h). */
#include "model_args.h"

#include <string.h>

#include "app.h"

void ms_app_model_args_init(ms_app_model_args *a) {
  memset(a, 0, sizeof *a);
  ms_model_spec_init(&a->spec, "", "--potential");
}

/* The family option whose command-line shorthand is @p arg (any registered family). */
static const ms_model_option_info *shorthand(const char *arg) {
  int nf = 0;
  const ms_model_family *const *fam = ms_model_family_list(&nf);
  for (int k = 0; k < nf; ++k)
    for (const ms_model_option_info *o = fam[k]->options; o && o->key; ++o)
      if (o->flag && ms_app_opt_is(arg, o->flag, NULL)) return o;
  return NULL;
}

int ms_app_model_arg(ms_app_model_args *a, int argc, char **argv, int *i, const char *cmd) {
  const char *arg = argv[*i], *v = NULL;
  if (ms_app_opt_is(arg, "--potential", "-p")) {
    if (!(v = ms_app_opt_value(argc, argv, i, cmd))) return -1;
    a->spec.name = v;
    a->have_name = 1;
    return 1;
  }
  ms_err e = MS_SUCCESS;
  if (ms_app_opt_is(arg, "--model-option", NULL)) {
    if (!(v = ms_app_opt_value(argc, argv, i, cmd))) return -1;
    const char *eq = strchr(v, '=');
    if (!eq || eq == v || (size_t)(eq - v) >= sizeof a->key[0] || a->nkey == MS_MODEL_MAX_OPTIONS) {
      ms_app_usage_error(cmd, "--model-option expects KEY=VALUE, got '%s'", v);
      return -1;
    }
    char *key = a->key[a->nkey++];
    memcpy(key, v, (size_t)(eq - v));
    key[eq - v] = '\0';
    char where[96];
    snprintf(where, sizeof where, "--model-option %s", key);
    e = ms_model_spec_add(&a->spec, key, eq + 1, where);
  } else {
    const ms_model_option_info *o = shorthand(arg);
    if (!o) return 0;
    if (o->flag_value) {
      if (strchr(arg, '=')) {
        ms_app_usage_error(cmd, "%s takes no value", o->flag);
        return -1;
      }
      v = o->flag_value;
    } else if (!(v = ms_app_opt_value(argc, argv, i, cmd))) {
      return -1;
    }
    e = ms_model_spec_add(&a->spec, o->key, v, o->flag);
  }
  if (e) {
    ms_app_usage_error(cmd, "%s", ms_err_message());
    ms_err_clear();
    return -1;
  }
  return 1;
}

ms_err ms_app_model_spec(ms_app_model_args *a, const char *cmd, const ms_model_spec **spec) {
  *spec = NULL;
  if (!a->have_name) {
    ms_app_usage_error(cmd, "--potential NAME|FILE is required (see 'matscreen info models')");
    return MS_ERR_USAGE;
  }
  MS_CALL(ms_model_spec_check(&a->spec));
  *spec = &a->spec;
  return MS_SUCCESS;
}
