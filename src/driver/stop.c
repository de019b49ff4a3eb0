/* Clean stops (see stop.h). The handlers only store the signal number: everything else
 * happens in ordinary code between blocks, where it is safe. */
#include "stop.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t got_signal = 0;
static struct sigaction old_term, old_usr1;
static int installed = 0;
static double t_start = 0, limit_s = 0;
static int reason = 0;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void on_signal(int sig) { got_signal = sig; }

void ms__stop_install(double max_walltime_s) {
  got_signal = 0;
  reason = 0;
  t_start = now_s();
  limit_s = max_walltime_s > 0 ? max_walltime_s : 0;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART; /* interrupted system calls (I/O, MPI progress) just go on */
  sigaction(SIGTERM, &sa, &old_term);
  sigaction(SIGUSR1, &sa, &old_usr1);
  installed = 1;
}

void ms__stop_restore(void) {
  if (!installed) return;
  sigaction(SIGTERM, &old_term, NULL);
  sigaction(SIGUSR1, &old_usr1, NULL);
  installed = 0;
}

double ms__stop_elapsed(void) { return now_s() - t_start; }

int ms__stop_requested(double block_s) {
  if (reason) return reason;
  if (got_signal) return reason = got_signal == SIGUSR1 ? MS_STOP_SIGUSR1 : MS_STOP_SIGTERM;
  if (limit_s > 0) {
    /* Reserve for committing and writing the output: 2% of the limit, at least 2 s, at most
     * 5 min (the output of a large campaign is written in a few minutes at worst). */
    double reserve = 0.02 * limit_s;
    if (reserve < 2) reserve = 2;
    if (reserve > 300) reserve = 300;
    if (ms__stop_elapsed() + 2 * block_s + reserve > limit_s) return reason = MS_STOP_WALLTIME;
  }
  return 0;
}

const char *ms__stop_reason(int code) {
  switch (code) {
    case MS_STOP_SIGTERM: return "SIGTERM";
    case MS_STOP_SIGUSR1: return "SIGUSR1";
    case MS_STOP_WALLTIME: return "the --max-walltime limit";
    default: return "no stop";
  }
}

void ms__stop_test_hook(const char *stage, int rank, int size) {
  const char *spec = getenv("MATSCREEN_FAULT_SIGNAL");
  if (!spec || rank != size - 1) return;
  size_t n = strcspn(spec, ":");
  if (strlen(stage) != n || strncmp(spec, stage, n) != 0) return;
  raise(spec[n] == ':' && strcmp(spec + n + 1, "SIGUSR1") == 0 ? SIGUSR1 : SIGTERM);
}
