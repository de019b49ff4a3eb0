/* `matscreen verify OUT.h5...`: check run outputs against the checksums written with them.
 *
 * Rank 0 reads (the check is I/O bound and one reader is enough); the others take part in the
 * agreement so that every rank exits with the same code under mpirun. */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "core/json.h"
#include "matscreen/h5verify.h"
#include "matscreen/log.h"

const char ms_usage_verify[] =
    "usage: matscreen verify OUT.h5 [OUT.h5 ...] [--json] [--list]\n"
    "\n"
    "Check finished outputs of `matscreen run` against the checksums written with them: the\n"
    "SHA-256 of every dataset, of the list of datasets and of the root attributes. A damaged\n"
    "file (a flipped bit on disk, a truncated copy, an edited attribute) is named with the\n"
    "first damaged dataset; `queue push`, `export` and the Python scripts run the same check\n"
    "on the datasets they read.\n"
    "\n"
    "options:\n"
    "  --list      print every dataset with its verdict, not only the damaged ones.\n"
    "  --json      one JSON object per file: path, status (intact, damaged, unchecked),\n"
    "              datasets_checked, damaged, missing, unlisted, message.\n"
    "  -h, --help  show this help.\n"
    "\n"
    "Files written before checksums existed (schema_version 1) are reported as unchecked.\n"
    "\n"
    "Exit codes: 0 every file intact, 1 a file is damaged, unreadable or has no checksums,\n"
    "2 runtime failure.\n";

typedef struct {
  int list;
} print_ctx;

static void print_dataset(const char *dataset, const char *verdict, void *ctx) {
  const print_ctx *p = ctx;
  if (p->list || strcmp(verdict, "ok") != 0) printf("  %-56s %s\n", dataset, verdict);
}

static ms_err verify_one(const char *path, int json, int list) {
  print_ctx p = {list};
  ms_h5_verify_report rep;
  ms_err e = ms_h5_verify(path, NULL, 0, json ? NULL : print_dataset, &p, &rep);
  const char *status = e ? "damaged" : rep.has_checksums ? "intact" : "unchecked";
  if (e && !rep.has_checksums && !rep.root_ok && rep.checked == 0 && strstr(ms_err_message(), "cannot be opened"))
    status = "unreadable";
  if (json) {
    printf("{\"path\": ");
    ms_json_fput_str(stdout, path);
    printf(", \"status\": \"%s\", \"datasets_checked\": %d, \"damaged\": %d, \"missing\": %d, "
           "\"unlisted\": %d, \"message\": ",
           status, rep.checked, rep.damaged, rep.missing, rep.unlisted);
    ms_json_fput_str(stdout, e ? ms_err_message() : "");
    printf("}\n");
  } else if (!e && rep.has_checksums) {
    printf("%s: intact (%d datasets and the root attributes match their checksums)\n", path, rep.checked);
  } else if (!e) {
    printf("%s: unchecked: the file has no checksums (written by matscreen before schema_version 2)\n", path);
  } else {
    printf("%s: %s\n", path, status);
  }
  fflush(stdout);
  if (!e && !rep.has_checksums)
    return ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__, "%s has no checksums to verify", path);
  return e;
}

int ms_cmd_verify(int argc, char **argv) {
  int json = 0, list = 0, nfiles = 0;
  for (int i = 1; i < argc; ++i) {
    if (ms_app_opt_is(argv[i], "-h", "--help")) {
      if (ms_app_rank() == 0) fputs(ms_usage_verify, stdout);
      return 0;
    } else if (strcmp(argv[i], "--json") == 0) {
      json = 1;
    } else if (strcmp(argv[i], "--list") == 0) {
      list = 1;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      return ms_app_usage_error("verify", "unknown option '%s'", argv[i]);
    } else {
      nfiles++;
    }
  }
  if (nfiles == 0) return ms_app_usage_error("verify", "no output file given");
  ms_err first = MS_SUCCESS;
  if (ms_app_rank() == 0) {
    for (int i = 1; i < argc; ++i) {
      if (argv[i][0] == '-' && argv[i][1]) continue;
      ms_err e = verify_one(argv[i], json, list);
      if (e && !first) {
        first = e;
        /* keep the first failure's message for the final report, go on with the others */
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", ms_err_message());
        ms__err_set(e, __FILE__, __LINE__, __func__, "%s", msg);
      } else if (e) {
        ms_log_warn("%s", ms_err_message());
      }
    }
  }
  ms_err e = ms_err_agree(MPI_COMM_WORLD, first);
  if (!e) return 0;
  /* A damaged or unreadable file is bad input (exit 1). */
  if (e == MS_ERR_FILE) e = MS_ERR_INPUT;
  return ms_app_report(e);
}
