/* Application-level helpers shared by the subcommands (not part of the library API).
 *
 * Each subcommand is `int ms_cmd_NAME(int argc, char **argv)`: argv[0] is the subcommand
 * name, MPI is already initialised (MPI_COMM_WORLD), and the return value is the process
 * exit code: 0 success, 1 bad input or usage, 2 runtime failure. A subcommand that fails
 * must agree on the failure across ranks (ms_err_agree) before returning, and print the
 * message once with ms_app_report(). */
#ifndef MS_APP_H
#define MS_APP_H

#include <mpi.h>
#include <stdio.h>

#include "matscreen/app.h"
#include "matscreen/error.h"

typedef int (*ms_cmd_fn)(int argc, char **argv);

typedef struct {
  const char *name;
  ms_cmd_fn run;
  const char *summary; /* one line for `matscreen help` */
  const char *usage;   /* full help text for `matscreen help NAME` */
} ms_command;

/* Exit code for an agreed error: 1 for bad input/usage, 2 for runtime failures. */
int ms_app_exit_code(ms_err e);
/* Print "matscreen: error: <message>" once (rank 0) and return ms_app_exit_code(e). */
int ms_app_report(ms_err e);
/* Print a usage error for command @p cmd on rank 0 and return 1. A message that starts
 * "unknown option '%s'" (the option is the first argument) gets the closest option of the
 * command's help text as a suggestion: "unknown option '--fmx' (did you mean '--fmax'?)". */
int ms_app_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  ;
/* Rank of this process in MPI_COMM_WORLD. */
int ms_app_rank(void);
/* 1 if argv[i] equals any of the given option spellings (NULL-terminated list). */
int ms_app_opt_is(const char *arg, const char *a, const char *b);
/* Value of an option that takes an argument ("--fmax 0.01" or "--fmax=0.01"); advances *i.
 * Returns NULL (and reports a usage error) when the value is missing. */
const char *ms_app_opt_value(int argc, char **argv, int *i, const char *cmd);
/* Parse a double option value strictly; on failure reports a usage error. 0 ok, 1 bad. */
int ms_app_parse_double(const char *cmd, const char *opt, const char *text, double *out);

/* The command table (main.c). */
const ms_command *ms_app_commands(int *count);
/* ms_app_main(), the whole program, is declared in the public matscreen/app.h. */

/* Subcommands. */
int ms_cmd_info(int argc, char **argv);
int ms_cmd_convert(int argc, char **argv);
int ms_cmd_energy(int argc, char **argv);
int ms_cmd_run(int argc, char **argv);
int ms_cmd_check(int argc, char **argv);
extern const char ms_usage_run[];
extern const char ms_usage_check[];
extern const char ms_usage_energy[];
int ms_cmd_relax(int argc, char **argv);
extern const char ms_usage_relax[];
int ms_cmd_match(int argc, char **argv);
extern const char ms_usage_match[];
int ms_cmd_hull(int argc, char **argv);
extern const char ms_usage_hull[];
int ms_cmd_verify(int argc, char **argv);
extern const char ms_usage_verify[];

extern const char ms_usage_info[];

/* Topics of `matscreen info`: one table line each (cmd_info.c). run() gets the topic's own
 * arguments (argv[0] is the topic name, --json already removed) and returns the exit code
 * like a subcommand: every rank runs it, rank 0 prints, all ranks return the same code.
 * args is an optional synopsis of the topic's arguments for the listing ("[ION ...]"). */
typedef struct {
  const char *name;
  const char *summary;
  int (*run)(int argc, char **argv, int json);
  const char *args;
} ms_info_topic;
const ms_info_topic *ms_info_topics(int *count);
int ms_info_models(int argc, char **argv, int json);
int ms_info_potentials(int argc, char **argv, int json);
int ms_info_prototypes(int argc, char **argv, int json);
int ms_info_generators(int argc, char **argv, int json);
int ms_info_stages(int argc, char **argv, int json);
int ms_info_output(int argc, char **argv, int json);
int ms_cmd_generate(int argc, char **argv);
extern const char ms_usage_generate[];
extern const char ms_usage_convert[];
int ms_cmd_queue(int argc, char **argv);
extern const char ms_usage_queue[];
int ms_cmd_export(int argc, char **argv);
extern const char ms_usage_export[];

#endif
