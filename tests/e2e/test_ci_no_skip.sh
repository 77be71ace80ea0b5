#!/usr/bin/env bash
# The test runner itself: a test that cannot run its oracle exits 77, which
# a developer's run reports as a skip and CI (CI=true, as .ci/run runs)
# counts as a failure. Checked with a stand-in test that always skips, and
# with the real llama.cpp oracle test when node-llama-cpp is hidden.
set -u
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
mkdir -p "$tmp/e2e"
printf '#!/usr/bin/env bash\necho "oracle missing"; exit 77\n' >"$tmp/e2e/test_zz_oracle_stand_in.sh"
WGPT_E2E_DIR=$tmp/e2e CI=true tests/run.sh zz_oracle_stand_in >"$tmp/ci.log" 2>&1; rc=$?
if [ $rc -ne 0 ] && grep -q "^0 passed, 1 failed, 0 skipped" "$tmp/ci.log"; then echo "ok   CI=true: a skip fails the run (exit $rc)"
else echo "FAIL CI=true: exit $rc"; cat "$tmp/ci.log"; fails=1; fi
WGPT_E2E_DIR=$tmp/e2e CI= tests/run.sh zz_oracle_stand_in >"$tmp/dev.log" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "^0 passed, 0 failed, 1 skipped" "$tmp/dev.log"; then echo "ok   outside CI: a skip is reported, not failed"
else echo "FAIL outside CI: exit $rc"; cat "$tmp/dev.log"; fails=1; fi
# The real oracle test with the npm oracles out of reach: it must say so with 77, which CI turns red.
if [ -d deps/node_modules/node-llama-cpp ]; then
  mkdir -p "$tmp/real"
  cp tests/e2e/test_llamacpp_oracle.sh "$tmp/real/"
  # Same script, run where deps/node_modules does not exist (a failed npm install).
  mkdir -p "$tmp/tree" && cp -r tests scripts "$tmp/tree/" && mkdir -p "$tmp/tree/build" "$tmp/tree/deps"
  (cd "$tmp/tree" && bash tests/e2e/test_llamacpp_oracle.sh >"$tmp/oracle.log" 2>&1); rc=$?
  if [ $rc -eq 77 ]; then echo "ok   llama.cpp oracle test without node-llama-cpp: exit 77 ($(tail -n1 "$tmp/oracle.log"))"
  else echo "FAIL llama.cpp oracle test without node-llama-cpp: exit $rc"; tail -5 "$tmp/oracle.log"; fails=1; fi
fi
exit $fails
