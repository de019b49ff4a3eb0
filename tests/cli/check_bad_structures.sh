#!/usr/bin/env bash
# Run `matscreen convert` on every bad structure file in tests/data/bad/ and check that each one
# fails cleanly: exit code 1, exactly one line on stderr, "matscreen: error: FILE:LINE: ..."
# with the line and text listed in tests/data/bad/structures.expected, no output file, no
# crash. A few files also run under `mpiexec -n 2`: same exit code, message printed once.
#
# usage: check_bad_structures.sh MATSCREEN MPIEXEC SOURCE_ROOT
set -u
bin=$1
mpiexec=$2
root=$3
dir="$root/tests/data/bad"
expect="$dir/structures.expected"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
checks=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

declare -A want_line want_text
while IFS=$'\t' read -r f l t; do
  [[ -z "$f" || "$f" == \#* ]] && continue
  want_line[$f]=$l
  want_text[$f]=$t
done <"$expect"

# Every corpus file needs an expectation and every expectation a file, so the corpus and the
# list cannot drift apart.
shopt -s nullglob
files=()
for path in "$dir"/bad_cif_* "$dir"/bad_poscar_* "$dir"/bad_extxyz_* "$dir"/bad_structure_*; do
  files+=("$(basename "$path")")
done
for f in "${files[@]}"; do
  [[ -n "${want_line[$f]+x}" ]] || fail "$f has no line in structures.expected"
done
for f in "${!want_line[@]}"; do
  [[ -e "$dir/$f" ]] || fail "structures.expected lists $f, which does not exist"
done

# check_run LABEL FILE RC ERRFILE NPROCS: the outcome of one run.
check_run() {
  local f=$1 rc=$2 err=$3 nprocs=$4
  local line=${want_line[$f]} text=${want_text[$f]}
  local prefix="matscreen: error: $f:$line: "
  [[ "$line" == "-" ]] && prefix="matscreen: error: $f: "
  checks=$((checks + 1))
  if ((rc >= 124)); then
    fail "$f (-n $nprocs): crashed or timed out (exit $rc): $(head -c 400 "$err")"
    return
  fi
  [[ $rc -eq 1 ]] || fail "$f (-n $nprocs): exit code $rc, expected 1"
  local nerr
  nerr=$(grep -c '^matscreen: error: ' "$err")
  [[ $nerr -eq 1 ]] || fail "$f (-n $nprocs): $nerr error messages, expected 1: $(cat "$err")"
  if ((nprocs == 1)); then
    local nlines
    nlines=$(wc -l <"$err")
    [[ $nlines -eq 1 ]] || fail "$f: $nlines lines on stderr, expected 1: $(cat "$err")"
  fi
  local msg
  msg=$(grep -m1 '^matscreen: error: ' "$err")
  [[ "$msg" == "$prefix"* ]] || fail "$f (-n $nprocs): message does not start with '$prefix': $msg"
  [[ "$msg" == *"$text"* ]] || fail "$f (-n $nprocs): message lacks '$text': $msg"
  [[ ! -e "$tmp/out.xyz" ]] || fail "$f (-n $nprocs): an output file was written"
  local leftover=("$tmp"/out.xyz.tmp*)
  ((${#leftover[@]} == 0)) || fail "$f (-n $nprocs): a temporary file was left behind"
  rm -f "$tmp/out.xyz" "$tmp"/out.xyz.tmp*
}

cd "$dir" || exit 1
for f in "${files[@]}"; do
  timeout 60 "$bin" convert "$f" "$tmp/out.xyz" >"$tmp/stdout" 2>"$tmp/stderr"
  check_run "$f" $? "$tmp/stderr" 1
done

# Under MPI: every rank must agree (exit code 1 from mpiexec, which returns non-zero if any
# rank does, and no hang), and rank 0 alone prints the message.
for f in bad_cif_partial_occupancy.cif bad_poscar_truncated.vasp bad_extxyz_garbage.xyz \
  bad_cif_empty.cif; do
  timeout 120 "$mpiexec" -n 2 "$bin" convert "$f" "$tmp/out.xyz" >"$tmp/stdout" 2>"$tmp/stderr"
  check_run "$f" $? "$tmp/stderr" 2
done

# Errors that are not about one file's content.
good="$root/tests/data/structures"
checks=$((checks + 1))
timeout 60 "$bin" convert "$good/frames_ase.extxyz" "$tmp/x.vasp" 2>"$tmp/stderr"
rc=$?
[[ $rc -eq 1 ]] || fail "multi-frame to POSCAR: exit $rc, expected 1"
grep -q "frames_ase.extxyz holds 4 structures, but a POSCAR file" "$tmp/stderr" ||
  fail "multi-frame to POSCAR: unexpected message: $(cat "$tmp/stderr")"
[[ ! -e "$tmp/x.vasp" ]] || fail "multi-frame to POSCAR wrote a file"

checks=$((checks + 1))
timeout 60 "$bin" convert "$tmp/does-not-exist.cif" "$tmp/x.xyz" 2>"$tmp/stderr"
rc=$?
[[ $rc -eq 1 ]] || fail "missing input: exit $rc, expected 1"
grep -q "does-not-exist.cif" "$tmp/stderr" || fail "missing input: message lacks the name"

checks=$((checks + 1))
timeout 60 "$bin" convert "$good/srtio3_sym_oxi.cif" "$tmp/x.unknown" 2>"$tmp/stderr"
rc=$?
[[ $rc -eq 1 ]] || fail "unknown output format: exit $rc, expected 1"

checks=$((checks + 1))
timeout 60 "$bin" convert "$good/srtio3_sym_oxi.cif" "$tmp/x.vasp" --format pdb 2>"$tmp/stderr"
rc=$?
[[ $rc -eq 1 ]] || fail "--format pdb: exit $rc, expected 1"
grep -q "unknown structure format 'pdb'" "$tmp/stderr" || fail "--format pdb: $(cat "$tmp/stderr")"

# And a good conversion under MPI: exit 0, one file written by rank 0.
checks=$((checks + 1))
timeout 120 "$mpiexec" -n 2 "$bin" convert "$good/spinel_sym_oxi.cif" "$tmp/sp.xyz" \
  >/dev/null 2>"$tmp/stderr"
rc=$?
[[ $rc -eq 0 ]] || fail "good conversion under mpiexec -n 2: exit $rc: $(cat "$tmp/stderr")"
[[ "$(head -1 "$tmp/sp.xyz" 2>/dev/null)" == "56" ]] || fail "spinel: expected 56 atoms in sp.xyz"

echo "$checks checks, $failures failed"
((failures == 0))
