/* What every libFuzzer target shares: the entry points, the one-time set-up (the element
 * table, quiet logging) and the way a violated property stops the run (abort, so libFuzzer
 * keeps the input). */
#ifndef MS_FUZZ_BASE_H
#define MS_FUZZ_BASE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "matscreen/error.h"
#include "matscreen/log.h"
#include "matscreen/species.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fail(const char *what) {
  fprintf(stderr, "%s\n", what);
  abort();
}

/* A call that must succeed on an input the parser accepted. */
static inline void check_ok(ms_err e, const char *what) {
  if (e != MS_SUCCESS) {
    fprintf(stderr, "%s failed on an accepted input: %s\n", what, ms_err_message());
    abort();
  }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  ms_log_set_level(MS_LOG_QUIET);
  if (ms_elements_load() != MS_SUCCESS) {
    fprintf(stderr, "element table: %s\n", ms_err_message());
    abort();
  }
  return 0;
}

#endif
