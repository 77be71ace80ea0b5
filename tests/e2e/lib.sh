# Shared by the e2e tests: tiny random-weight Llama GGUFs, cached in build/.
PY=/usr/bin/python3
MODELS=build/testmodels
mkdir -p "$MODELS"
# tiny_model NAME ARGS... -> path of a model made once with make_tiny_llama.py
tiny_model() {
  local name=$1; shift
  local out="$MODELS/$name.gguf"
  if [ ! -s "$out" ] || [ scripts/make_tiny_llama.py -nt "$out" ] || [ scripts/gguf_writer.py -nt "$out" ] \
     || [ scripts/tiny_corpus.py -nt "$out" ]; then
    $PY scripts/make_tiny_llama.py --out "$out" --no-check "$@" >&2 || return 1
  fi
  echo "$out"
}
need_wgpt() { [ -x build/wgpt ] || { echo "build/wgpt missing (run make)"; exit 1; }; }
# need_browser: exits 77 (skip) without the browser build (make web; in
# $WGPT_WEB, build/web unless set), Chromium ($CHROMIUM, /usr/bin/chromium
# unless set) or node.
WGPT_WEB=${WGPT_WEB:-build/web}
need_browser() {
  [ -f "$WGPT_WEB/wgpt.wasm" ] && [ -f "$WGPT_WEB/wgpt.js" ] && [ -f "$WGPT_WEB/index.html" ] \
    || { echo "$WGPT_WEB/ has no browser build (make web)"; exit 77; }
  CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
  [ -x "$CHROMIUM" ] || { echo "Chromium not installed ($CHROMIUM; Debian package chromium)"; exit 77; }
  command -v node >/dev/null || { echo "node not installed"; exit 77; }
}
# serve_web LOG LIMIT ARGS...: `wgpt serve-web --port 0 ARGS` in the
# background for at most LIMIT seconds, run through "${SERVE_WRAP[@]}" when
# that array is set (setpriv, for one), stderr to LOG. Sets server_pid, and
# server_port once the server says where it listens ("" if it did not).
serve_web() {
  local log=$1 limit=$2; shift 2
  timeout "$limit" ${SERVE_WRAP[@]+"${SERVE_WRAP[@]}"} "${WGPT:-build/wgpt}" serve-web --port 0 "$@" 2>"$log" &
  server_pid=$!; server_port=
  for _ in $(seq 100); do
    server_port=$(sed -n 's|.*http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$log" | head -n1)
    [ -n "$server_port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
}
# ok/bad DESCRIPTION: one line per check; bad counts into $fails.
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
# web_root: a temporary folder $tmp (removed on exit, the server $pid
# stopped first) holding a copy of the browser build in $root.
web_root() {
  tmp=$(mktemp -d); pid=
  trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
  root=$tmp/root; mkdir -p "$root"
  cp -r "$WGPT_WEB/." "$root/"
}
# verify_check LABEL MODEL [wgpt args]: `wgpt verify` (GPU against the CPU
# reference, layer by layer) at the layer tests' tolerance; prints ok or
# FAIL with the first activation out of it, and sets fail=1 on a failure.
verify_check() {
  local label=$1 model=$2; shift 2
  local out
  out=$(build/wgpt verify -m "$model" -p "Hello world, this is a test of the layers." --atol 1e-4 --rtol 1e-3 "$@" 2>&1)
  if [ $? -ne 0 ]; then
    echo "FAIL $label"; echo "$out" | grep -E "FAIL|first|wgpt:" ; fail=1
  else
    echo "ok   $label: $(echo "$out" | tail -n1)"
  fi
}
