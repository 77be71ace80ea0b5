# Shared by the test_serve_*.sh tests (sourced after lib.sh): `wgpt serve`
# on a free loopback port, stopped when the test exits.
WGPT=${WGPT:-build/wgpt}
[ -x "$WGPT" ] || { echo "$WGPT missing (run make)"; exit 1; }
command -v curl >/dev/null || { echo "curl not installed"; exit 77; }
ldconfig -p 2>/dev/null | grep -q libmicrohttpd.so.12 || { echo "libmicrohttpd12 not installed"; exit 77; }
tmp=$(mktemp -d)
serve_pids=()
serve_cleanup() {
  local p
  for p in "${serve_pids[@]}"; do kill -KILL $(pgrep -P "$p") "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap serve_cleanup EXIT
# serve_start LOG LIMIT ARGS...: `wgpt serve --port 0 ARGS` for at most LIMIT
# seconds; sets spid (the server itself, not timeout) and sport ("" if it
# did not start) and base (http://127.0.0.1:PORT).
serve_start() {
  local log=$1 limit=$2; shift 2
  timeout "$limit" "$WGPT" serve --port 0 "$@" 2>"$log" &
  local tpid=$!; serve_pids+=("$tpid"); sport=
  for _ in $(seq 300); do
    sport=$(sed -n 's|.*http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$log" | head -n1)
    [ -n "$sport" ] && break
    kill -0 "$tpid" 2>/dev/null || break
    sleep 0.1
  done
  spid=$(pgrep -P "$tpid" | head -n1); spid=${spid:-$tpid}
  base=http://127.0.0.1:$sport
}
# serve_stop PID SECONDS: SIGTERM; sets stopped to "stopped" or "running"
serve_stop() {
  kill -TERM "$1" 2>/dev/null
  local i
  for i in $(seq $(($2 * 10))); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$1" 2>/dev/null; then stopped=running; kill -KILL "$1"; else stopped=stopped; fi
}
# rss_kb PID: the process's resident memory
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
# json FILE EXPR: a value from a JSON file, by a Python expression over d
json() { $PY -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
# sse_text FILE: the text of a streamed reply (chat deltas or completion texts), and
# "DONE" on a last line when data: [DONE] was seen
sse_text() {
  $PY - "$1" <<'PY'
import json, sys
text, done = "", False
for line in open(sys.argv[1], encoding="utf-8"):
    if not line.startswith("data: "): continue
    p = line[6:].strip()
    if p == "[DONE]": done = True; continue
    d = json.loads(p)
    for c in d.get("choices", []):
        text += c.get("delta", {}).get("content") or c.get("text") or ""
sys.stdout.write(json.dumps(text) + ("\nDONE" if done else "") + "\n")
PY
}
