/* Shared helpers for subcommands: exit codes, error printing, option values. */
#include "app.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/log.h"
#include "matscreen/yaml.h"

int ms_app_rank(void) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

int ms_app_exit_code(ms_err e) {
  switch (e) {
    case MS_SUCCESS:
      return 0;
    case MS_ERR_ARG:
    case MS_ERR_USAGE:
    case MS_ERR_INPUT:
    case MS_ERR_FILE:
    case MS_ERR_YAML:
    case MS_ERR_UNKNOWN_TYPE:
    case MS_ERR_UNSUPPORTED:
      return 1;
    case MS_ERR_INTERRUPTED:
      return 75; /* EX_TEMPFAIL (sysexits.h): stopped early on purpose, resumable */
    default:
      return 2;
  }
}

int ms_app_report(ms_err e) {
  if (e == MS_SUCCESS) return 0;
  if (ms_app_rank() == 0) {
    fprintf(stderr, "matscreen: error: %s\n", ms_err_message());
    if (ms_log_get_level() >= MS_LOG_VERBOSE && ms_err_traceback()[0])
      fprintf(stderr, "traceback (%s):\n%s", ms_err_name(e), ms_err_traceback());
    fflush(stderr);
  }
  return ms_app_exit_code(e);
}

/* The option of the help text of command @p cmd closest to @p opt ("--fmx" -> "--fmax"), or
 * NULL. The options are the words of the help text that start with '-' (up to '=', ',' or a
 * bracket), so a new option is suggested as soon as its help line exists. */
static const char *suggest_option(const char *cmd, const char *opt, char *buf, size_t len) {
  int n = 0;
  const ms_command *cmds = ms_app_commands(&n);
  const char *usage = NULL;
  for (int k = 0; k < n; ++k)
    if (strcmp(cmds[k].name, cmd) == 0) usage = cmds[k].usage;
  if (!usage || opt[0] != '-') return NULL;
  char word[64];
  size_t w = strcspn(opt, "=");
  if (w >= sizeof word) return NULL;
  memcpy(word, opt, w);
  word[w] = '\0';
  enum { MAX_OPTIONS = 128 };
  char names[MAX_OPTIONS][48];
  const char *list[MAX_OPTIONS + 1];
  int m = 0;
  for (const char *p = usage; *p && m < MAX_OPTIONS; ++p) {
    int starts = *p == '-' && (p == usage || p[-1] == ' ' || p[-1] == '[' || p[-1] == '\n' || p[-1] == '|');
    if (!starts || !(isalpha((unsigned char)p[1]) || (p[1] == '-' && isalpha((unsigned char)p[2])))) continue;
    size_t l = strcspn(p, " =,[]|\n");
    if (l >= sizeof names[0]) continue;
    memcpy(names[m], p, l);
    names[m][l] = '\0';
    list[m] = names[m];
    ++m;
    p += l - 1;
  }
  list[m] = NULL;
  const char *hint = ms_suggest(word, list);
  if (!hint || strcmp(hint, word) == 0) return NULL;
  snprintf(buf, len, "%s", hint);
  return buf;
}

int ms_app_usage_error(const char *cmd, const char *fmt, ...) {
  if (ms_app_rank() == 0) {
    fprintf(stderr, "matscreen %s: ", cmd);
    va_list ap;
    va_start(ap, fmt);
    va_list first;
    va_copy(first, ap);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    /* every command reports a misspelt option with this message: add the closest option */
    if (strncmp(fmt, "unknown option '%s'", 19) == 0) {
      const char *opt = va_arg(first, const char *);
      char hint[64];
      if (opt && suggest_option(cmd, opt, hint, sizeof hint)) fprintf(stderr, " (did you mean '%s'?)", hint);
    }
    va_end(first);
    fprintf(stderr, "\nTry 'matscreen help %s'.\n", cmd);
    fflush(stderr);
  }
  return 1;
}

int ms_app_opt_is(const char *arg, const char *a, const char *b) {
  size_t la = a ? strlen(a) : 0, lb = b ? strlen(b) : 0;
  if (a && (strcmp(arg, a) == 0 || (strncmp(arg, a, la) == 0 && arg[la] == '=' && a[1] == '-')))
    return 1;
  if (b && (strcmp(arg, b) == 0 || (strncmp(arg, b, lb) == 0 && arg[lb] == '=' && b[1] == '-')))
    return 1;
  return 0;
}

const char *ms_app_opt_value(int argc, char **argv, int *i, const char *cmd) {
  const char *eq = strchr(argv[*i], '=');
  if (eq && argv[*i][0] == '-' && argv[*i][1] == '-') return eq + 1;
  if (*i + 1 >= argc) {
    ms_app_usage_error(cmd, "option %s needs a value", argv[*i]);
    return NULL;
  }
  ++*i;
  return argv[*i];
}

int ms_app_parse_double(const char *cmd, const char *opt, const char *text, double *out) {
  char *end = NULL;
  errno = 0;
  double v = strtod(text, &end);
  if (end == text || *end != '\0' || errno == ERANGE || !isfinite(v)) {
    ms_app_usage_error(cmd, "%s expects a number, got '%s'", opt, text);
    return 1;
  }
  *out = v;
  return 0;
}
