#!/usr/bin/env bash
# The test command: install what is needed, build with warnings as errors, run every test
# suite, then rebuild with AddressSanitizer + UndefinedBehaviorSanitizer and run the unit and
# cli suites there. Exits non-zero on any failure and prints a summary at the end.
#
#   scripts/test.sh            everything (what CI runs)
#   scripts/test.sh --quick    main build and the unit suite only
set -uo pipefail
cd "$(dirname "$0")/.."

quick=0
[ "${1:-}" = "--quick" ] && quick=1

# Open MPI refuses to run as root and to oversubscribe cores unless told it may.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl=self,vader
jobs=$(nproc 2>/dev/null || echo 2)

bash scripts/install-deps.sh || { echo "test.sh: installing dependencies failed" >&2; exit 1; }

declare -a summary
failed=0
step() { # name, command...
  local name=$1; shift
  local t0=$SECONDS
  echo "==> $name"
  if "$@"; then
    summary+=("ok      $name ($((SECONDS - t0)) s)")
  else
    summary+=("FAILED  $name ($((SECONDS - t0)) s)")
    failed=1
  fi
}

setup() { # builddir, meson options...
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@" >/dev/null
  fi
}

suite_exists() { # builddir suite
  # Read the whole list first: `meson test --list | grep -q` lets grep close the pipe early,
  # and with pipefail meson's SIGPIPE would make a present suite look absent.
  local list
  list=$(meson test -C "$1" --list 2>/dev/null) || return 1
  grep -q "^matscreen:$2 " <<<"$list"
}

run_suites() { # builddir suites...
  local dir=$1; shift
  local args=()
  for s in "$@"; do suite_exists "$dir" "$s" && args+=(--suite "$s"); done
  [ ${#args[@]} -gt 0 ] || return 0
  meson test -C "$dir" "${args[@]}" --num-processes "$jobs" --print-errorlogs
}

step "configure (warnings are errors)" setup build -Dwerror=true -Dbuildtype=debugoptimized
step "build" ninja -C build -j "$jobs"
if [ $quick = 1 ]; then
  step "unit tests" run_suites build unit
else
  step "tests: unit mpi cli regression examples reliability post" run_suites build unit mpi cli regression examples reliability post

  # Sanitizers. Open MPI itself leaks by design at MPI_Init/Finalize; those frames are
  # suppressed (tests/util/lsan.supp), our own leaks are not.
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1"
  export LSAN_OPTIONS="suppressions=$PWD/tests/util/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  step "configure sanitizer build" setup build-asan -Dwerror=true -Dbuildtype=debug \
    -Db_sanitize=address,undefined -Db_lundef=false
  step "build (ASan+UBSan)" ninja -C build-asan -j "$jobs"
  # Tests that start MPI set their own ASAN_OPTIONS without leak checks (tests/meson.build).
  step "tests under ASan+UBSan: unit cli" run_suites build-asan unit cli
  unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS

  if [ -x scripts/fuzz.sh ] && command -v clang >/dev/null 2>&1; then
    # libFuzzer prints a line per new input; keep that in a log and show it only on failure.
    fuzz_short() {
      local log=build-fuzz-short.log
      if scripts/fuzz.sh all 10 >"$log" 2>&1; then
        grep -E '^(== fuzz_|Done )' "$log"
      else
        tail -n 60 "$log"
        return 1
      fi
    }
    step "fuzz targets (short runs)" fuzz_short
  fi
fi

echo
echo "==== test summary ===="
printf '%s\n' "${summary[@]}"
if [ $failed = 0 ]; then echo "all steps passed"; else echo "some steps FAILED"; fi
exit $failed
