#!/usr/bin/env bash
# Build the libFuzzer targets with clang and run them: the structure readers (cif, poscar,
# extxyz), the YAML inputs (campaign files, potential files, prototype files) and the hull
# stage's CSV of reference phases (hull_csv).
#
# usage: scripts/fuzz.sh [all|cif|poscar|extxyz|campaign|potential|prototype|hull_csv] [SECONDS]
#        (defaults: all, 60; SECONDS is per target, the targets run one after another;
#        0 runs each target until its first failure, as libFuzzer's -max_total_time=0)
#
# The first run configures build-fuzz/ (or $FUZZ_BUILD_DIR) with
#   CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined
# and coverage instrumentation (-fsanitize=fuzzer-no-link) of the whole library; the targets
# themselves link with -fsanitize=fuzzer. New inputs are kept in build-fuzz/fuzz-work/T/corpus
# (the checked-in seeds in tests/fuzz/corpus/T are only read). A crash leaves its input in
# build-fuzz/fuzz-work/T/artifacts/; once fixed, keep it as a regression input: in
# tests/fuzz/corpus/T/ (every target), and for a structure reader also in tests/data/bad/ as
# bad_T_fuzz_NAME.EXT with a line in tests/data/bad/structures.expected, for a campaign as a
# case in tests/data/bad/campaigns/make_bad_campaigns.py (which writes the file and its line
# in campaigns.expected). docs/fuzzing.md has the figures of the last long runs. Each target runs as one process (no -jobs/-workers): the
# machines this runs on are small and shared.
# Needs clang and libclang-rt-dev (Debian: apt-get install clang libclang-rt-14-dev).
set -euo pipefail

target=${1:-all}
seconds=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}

all_targets=(cif poscar extxyz campaign potential prototype hull_csv)
case "$target" in
  all) targets=("${all_targets[@]}") ;;
  cif | poscar | extxyz | campaign | potential | prototype | hull_csv) targets=("$target") ;;
  *)
    echo "usage: $0 [all|cif|poscar|extxyz|campaign|potential|prototype|hull_csv] [SECONDS]" >&2
    exit 1
    ;;
esac
if ! [[ "$seconds" =~ ^[0-9]+$ ]]; then
  echo "$0: SECONDS must be a whole number, got '$seconds'" >&2
  exit 1
fi
command -v clang >/dev/null || {
  echo "$0: clang not found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
}

if [[ ! -f "$build/build.ninja" ]]; then
  CC=clang meson setup "$build" "$root" -Dfuzz=true -Dbuildtype=debugoptimized \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args="-fsanitize=fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer"
fi
ninja -C "$build" -j2 $(printf 'tests/fuzz/fuzz_%s ' "${targets[@]}")

# Leaks in one-time initialisation (element table) are reachable, not leaks; anything else
# is reported. UBSan findings abort so that libFuzzer records them.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
for t in "${targets[@]}"; do
  work="$build/fuzz-work/$t"
  mkdir -p "$work/corpus" "$work/artifacts"
  echo "== fuzz_$t for ${seconds}s =="
  if ! "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -dict="$root/tests/fuzz/$t.dict" -artifact_prefix="$work/artifacts/" \
    -print_final_stats=1 "$work/corpus" "$root/tests/fuzz/corpus/$t"; then
    echo "fuzz_$t found a problem; inputs in $work/artifacts/" >&2
    status=1
  fi
done
exit $status
