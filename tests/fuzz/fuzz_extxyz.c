/* libFuzzer target: ms_extxyz_parse on arbitrary bytes (see fuzz_common.h for what is checked).
 * Build and run with scripts/fuzz.sh extxyz SECONDS. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_one(data, size, ms_extxyz_parse, "fuzz.extxyz");
}
