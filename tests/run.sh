#!/usr/bin/env bash
# Runs every test: the cmocka unit tests (normal and ASan/UBSan builds) and
# the end-to-end scripts in tests/e2e (exit 0 pass, 77 skip, else fail).
# Under CI (CI=true, as .ci/run runs) a skip is a failure: a test that
# cannot run its oracle has not shown anything.
# Prints one closing line: "N passed, N failed, N skipped".
cd "$(dirname "$0")/.."
. scripts/env.sh
export WGPT_ROOT=$(pwd)
pass=0; fail=0; skip=0; failed=()
run() { # name, command...
  local name=$1; shift
  local log; log=$(mktemp)
  local t0=$SECONDS
  "$@" >"$log" 2>&1; local rc=$?
  if [ $rc -eq 0 ]; then pass=$((pass+1)); echo "PASS $name ($((SECONDS-t0))s)"
  elif [ $rc -eq 77 ] && [ "${CI:-}" != true ]; then skip=$((skip+1)); echo "SKIP $name: $(tail -n1 "$log")"
  elif [ $rc -eq 77 ]; then fail=$((fail+1)); failed+=("$name"); echo "FAIL $name (skipped, and CI=true allows no skip): $(tail -n1 "$log")"
  else fail=$((fail+1)); failed+=("$name"); echo "FAIL $name (exit $rc)"; tail -n 40 "$log" | sed 's/^/    /'; fi
  rm -f "$log"
}
filter=${1:-}
for t in build/tests/test_*; do
  [ -x "$t" ] || continue; n=$(basename "$t"); [[ -z $filter || $n == *$filter* ]] || continue
  run "unit/$n" "$t"
done
# Dawn is not built with sanitizers; its own allocations are not ours to check for leaks.
for t in build-san/tests/test_*; do
  [ -x "$t" ] || continue; n=$(basename "$t"); [[ -z $filter || $n == *$filter* ]] || continue
  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 run "asan/$n" "$t"
done
# WGPT_E2E_DIR: another folder of e2e scripts (the test of this runner itself uses it).
for t in "${WGPT_E2E_DIR:-tests/e2e}"/test_*.sh; do
  [ -f "$t" ] || continue; n=$(basename "$t" .sh); [[ -z $filter || $n == *$filter* ]] || continue
  run "e2e/$n" bash "$t"
done
echo
[ $fail -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
