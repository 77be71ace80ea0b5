#!/usr/bin/env bash
# The browser build in Debian's Chromium (headless, WebGPU on SwiftShader),
# driven by playwright-core (tests/web/browser.mjs) through the chat page
# served by `wgpt serve-web` on loopback:
#  - ?autorun=1 loads a tiny Q8_0 GGUF over Range requests and generates 16
#    greedy tokens: the ids must equal native `wgpt run --temp 0`'s;
#  - a reload in the same profile downloads no model bytes (the server's
#    request log says so): the weights come from the Cache API;
#  - the same model picked as a local file and the prompt sent from the
#    message box give the same ids; "Clear cached weights" empties the cache;
#  - with the default model, the page used as a person would (Load, type,
#    Send, Stop): screenshots mid-generation at desktop and phone size in
#    build/artifacts/chat.png and chat-phone.png.
# Skips (77) without build/web/wgpt.wasm, Chromium or Node.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh
need_wgpt
need_browser
command -v npm >/dev/null || { echo "npm not installed"; exit 77; }
ldconfig -p 2>/dev/null | grep -q libmicrohttpd.so.12 || { echo "libmicrohttpd12 not installed"; exit 77; }
[ -f scripts/env.sh ] && . scripts/env.sh   # SwiftShader for the native run, where no GPU

# playwright-core, pinned in tests/web/package.json, installed into build/webtest.
pw=build/webtest
if [ ! -f "$pw/node_modules/playwright-core/package.json" ] || [ tests/web/package.json -nt "$pw/node_modules/.wgpt-installed" ]; then
  mkdir -p "$pw" && cp tests/web/package.json tests/web/package-lock.json "$pw/"
  (cd "$pw" && timeout 300 npm ci --no-audit --no-fund --loglevel=error >&2) \
    || { echo "could not install playwright-core from the npm registry"; exit 77; }
  touch "$pw/node_modules/.wgpt-installed"
fi

m=$(tiny_model web_q8_0 --type q8_0 --seed 5) || { echo "could not make the tiny model"; exit 1; }
prompt="Once upon a time"
n=16
expect=$(build/wgpt run -m "$m" -p "$prompt" -n $n --temp 0 --print-ids 2>/dev/null | tr -d '\000' | head -n 1)
[ -n "$expect" ] || { echo "native wgpt run gave no ids"; exit 1; }
echo "native ids: $expect"

# A root of its own: the browser build plus the tiny model; /default.gguf is
# the default model (for the screenshots).
web_root
# The page files as in src/web (what `make web` copies), in case build/web is older.
for f in src/web/*.html src/web/*.css src/web/*.js; do
  [ "$(basename "$f")" = wgpt.js ] || cp "$f" "$root/"
done
cp "$m" "$root/tiny.gguf"
model_args=(); shots=()
if [ -f models/default.gguf ]; then
  model_args=(--model models/default.gguf); shots=(--screenshots build/artifacts)
else
  echo "no models/default.gguf: no screenshots"
fi
log=$tmp/server.log
serve_web "$log" 600 --root "$root" "${model_args[@]}"
pid=$server_pid port=$server_port
[ -n "$port" ] || { echo "serve-web did not start:"; cat "$log"; exit 1; }

timeout 420 node tests/web/browser.mjs --base "http://127.0.0.1:$port" --chromium "$CHROMIUM" \
  --model /tiny.gguf --model-file "$m" --prompt "$prompt" --n $n --temp 0 --expect-ids "$expect" \
  --server-log "$log" --timeout 150 "${shots[@]}"
rc=$?
ranges=$(grep -c 'GET /tiny.gguf range=bytes=.* status=206' "$log")
echo "server: $(grep -c '^serve-web: 127' "$log") requests, $ranges range requests for the model"
if [ $rc -eq 0 ] && [ "$ranges" -eq 0 ]; then echo "the model was not read with Range requests"; rc=1; fi
[ $rc -eq 0 ] || { echo "--- server log (last 30 lines)"; tail -n 30 "$log"; }
exit $rc
