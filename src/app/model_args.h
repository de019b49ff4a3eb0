/* Choosing a model on the command line, shared by `energy` and `relax` (not library API).
 *
 * --potential NAME|FILE names the model; --model-option KEY=VALUE (repeatable) gives one of its
 * family's options; and every family may declare shorthands for its options (model.h:
 * ms_model_option_info.flag), such as the rigid-ion family's --accuracy X, --method M and
 * --no-coulomb. Nothing here interprets an option: the family checks keys and values when the
 * spec is checked, and its messages name the flag the user typed. */
#ifndef MS_APP_MODEL_ARGS_H
#define MS_APP_MODEL_ARGS_H

#include "matscreen/model.h"

typedef struct {
  ms_model_spec spec;
  int have_name;
  char key[MS_MODEL_MAX_OPTIONS][64]; /* keys of --model-option KEY=VALUE */
  int nkey;
} ms_app_model_args;

void ms_app_model_args_init(ms_app_model_args *a);
/* If argv[*i] chooses the model or one of its options, take it (and its value, advancing *i)
 * and return 1; 0 when it is not a model argument; -1 after reporting a usage error of
 * command @p cmd. */
int ms_app_model_arg(ms_app_model_args *a, int argc, char **argv, int *i, const char *cmd);
/* After the arguments: the checked spec (name resolved, options valid). Usage error (1) when
 * --potential is missing; otherwise the error of ms_model_spec_check() (not yet reported). */
ms_err ms_app_model_spec(ms_app_model_args *a, const char *cmd, const ms_model_spec **spec);

#endif
