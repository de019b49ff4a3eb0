/* `matscreen run CAMPAIGN.yaml` and `matscreen check CAMPAIGN.yaml`: the campaign as one MPI
 * job, and its validation with counts and a cost estimate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "matscreen/campaign.h"
#include "matscreen/funnel.h"
#include "matscreen/log.h"
#include "matscreen/relax.h"

const char ms_usage_run[] =
    "usage: mpirun -n N matscreen run CAMPAIGN.yaml [-o OUT.h5] [--resume] [--max-walltime T]\n"
    "                                 [--quiet|--verbose]\n"
    "\n"
    "Run a screening campaign: generate the candidates of the campaign's search space, narrow\n"
    "them through the funnel stages, and write one HDF5 file (docs/output.md). Every rank\n"
    "works; candidates are handed out in chunks; the result does not depend on the number of\n"
    "ranks. The schema of CAMPAIGN.yaml is in docs/campaign.md; 'matscreen check' validates a\n"
    "campaign and estimates its cost without running it.\n"
    "\n"
    "options:\n"
    "  -o, --output OUT.h5   output file (default: campaign.output, or NAME.h5); missing\n"
    "                        directories are created\n"
    "  --resume              continue an interrupted run from its checkpoint OUT.h5.ckpt (same\n"
    "                        campaign file and output; any number of ranks)\n"
    "  --max-walltime T      stop cleanly before T (seconds, or [[D-]HH:]MM:SS as in Slurm),\n"
    "                        committing finished work; resume later with --resume\n"
    "  --progress-interval S seconds between progress lines when stderr is not a terminal (10)\n"
    "  --quiet               errors only (no progress lines, no summary)\n"
    "  --verbose             more detail, tracebacks with errors\n"
    "\n"
    "Finished work is committed to OUT.h5.ckpt/ as the run goes (removed at the end); the output\n"
    "is written as OUT.h5.partial and renamed when complete. SIGTERM or SIGUSR1 (sent by batch\n"
    "systems before the time limit) make the run finish its current blocks, commit and exit 75.\n"
    "Exit codes: 0 success, 1 bad campaign file or usage, 2 runtime failure, 75 stopped early by\n"
    "a signal or --max-walltime (resumable with --resume).\n";

const char ms_usage_check[] =
    "usage: matscreen check CAMPAIGN.yaml [--no-calibrate]\n"
    "\n"
    "Validate a campaign completely (every key, generator and stage option; unknown keys are\n"
    "errors with a suggestion), print the resolved configuration (defaults filled in), the exact\n"
    "number of candidates per generator, and an estimate of the cost per stage from a short\n"
    "calibration run on a few candidates.\n";

static int finish_petsc(int code) {
  ms_petsc_finalize();
  return code;
}

/* Seconds ("3600", "90.5") or Slurm's time formats: MM:SS, HH:MM:SS, D-HH, D-HH:MM[:SS]. */
static int parse_walltime(const char *t, double *out) {
  char *end = NULL;
  double v = strtod(t, &end);
  if (end != t && *end == 0) {
    *out = v;
    return v > 0 ? 0 : 1;
  }
  long d = 0, f[3] = {0, 0, 0};
  int n = 0;
  const char *p = t;
  const char *dash = strchr(t, '-');
  if (dash) {
    d = strtol(t, &end, 10);
    if (end != dash || d < 0) return 1;
    p = dash + 1;
  }
  while (*p && n < 3) {
    f[n++] = strtol(p, &end, 10);
    if (end == p || f[n - 1] < 0) return 1;
    p = end;
    if (*p == ':') p++;
    else if (*p) return 1;
  }
  if (*p || n == 0) return 1;
  double s;
  if (dash) s = n == 1 ? f[0] * 3600.0 : n == 2 ? f[0] * 3600.0 + f[1] * 60.0 : f[0] * 3600.0 + f[1] * 60.0 + f[2];
  else s = n == 1 ? f[0] * 60.0 : n == 2 ? f[0] * 60.0 + f[1] : f[0] * 3600.0 + f[1] * 60.0 + f[2];
  *out = s + d * 86400.0;
  return *out > 0 ? 0 : 1;
}

int ms_cmd_run(int argc, char **argv) {
  const char *path = NULL, *output = NULL;
  ms_funnel_options opt;
  ms_funnel_options_default(&opt);
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i], *v;
    if (ms_app_opt_is(a, "--output", "-o")) {
      if (!(v = ms_app_opt_value(argc, argv, &i, "run"))) return 1;
      output = v;
    } else if (ms_app_opt_is(a, "--progress-interval", NULL)) {
      if (!(v = ms_app_opt_value(argc, argv, &i, "run"))) return 1;
      if (ms_app_parse_double("run", "--progress-interval", v, &opt.progress_interval)) return 1;
    } else if (strcmp(a, "--resume") == 0) {
      opt.resume = 1;
    } else if (ms_app_opt_is(a, "--max-walltime", NULL)) {
      if (!(v = ms_app_opt_value(argc, argv, &i, "run"))) return 1;
      if (parse_walltime(v, &opt.max_walltime_s))
        return ms_app_usage_error("run", "--max-walltime wants seconds or [[D-]HH:]MM:SS, got '%s'", v);
    } else if (a[0] == '-' && a[1]) {
      return ms_app_usage_error("run", "unknown option '%s'", a);
    } else if (!path) {
      path = a;
    } else {
      return ms_app_usage_error("run", "only one campaign file, got '%s' and '%s'", path, a);
    }
  }
  if (!path) return ms_app_usage_error("run", "no campaign file given");
  opt.output = output;
  ms_campaign *c = NULL;
  ms_err e = ms_campaign_load(MPI_COMM_WORLD, path, &c);
  if (e) return ms_app_report(e);
  ms_funnel_summary sum;
  e = ms_funnel_run(MPI_COMM_WORLD, c, &opt, &sum);
  ms_campaign_free(&c);
  return finish_petsc(ms_app_report(e));
}

int ms_cmd_check(int argc, char **argv) {
  const char *path = NULL;
  int calibrate = 1;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--no-calibrate") == 0) calibrate = 0;
    else if (argv[i][0] == '-' && argv[i][1]) return ms_app_usage_error("check", "unknown option '%s'", argv[i]);
    else if (!path) path = argv[i];
    else return ms_app_usage_error("check", "only one campaign file");
  }
  if (!path) return ms_app_usage_error("check", "no campaign file given");
  ms_campaign *c = NULL;
  ms_err e = ms_campaign_load(MPI_COMM_WORLD, path, &c);
  if (e) return ms_app_report(e);
  e = ms_funnel_check(MPI_COMM_WORLD, c, calibrate, stdout);
  ms_campaign_free(&c);
  return finish_petsc(ms_app_report(e));
}
