#!/usr/bin/env bash
# Runs on the GPU machine: the chat page in headless Chromium, against the
# NVIDIA adapter if Chromium's WebGPU reaches it, on a Llama-3.2-1B-shaped
# Q4_0 model made there. Prints which adapter each set of Chromium flags
# gives, then the browser's tok/s (and native wgpt's on the same file, when
# Dawn's library is carried), as JSON lines, also in $OUT/browser.jsonl.
#
# Nothing can be installed there and there is no Node.js: Chromium comes
# packed from here (scripts/pack_chromium.sh, in parts: the browser alone is
# larger than one call may carry) and is driven by tests/web/cdp.py (Python
# standard library, DevTools protocol) through the page's ?autorun=1 hook.
#
# What each call carries is kept under /tmp/wgpt-browser on the machine, so
# the parts can come in any order over consecutive calls (the machine stays
# warm about 30 s after a call: send the next at once). Here, first:
#   make && make web && scripts/pack_chromium.sh
#   cp build/wgpt .devcarry/wgpt     # with serve-web
# then one call per part, back to back; the last part is the small one and
# travels with the rest (a call carries at most 64 MiB with the working tree;
# 24 MB tree + 14 MB part + 21 MB of the rest fits):
#   carry [".devcarry/chromium-1"]                       command: scripts/device_browser.sh
#   carry [".devcarry/chromium-2"]                       command: scripts/device_browser.sh
#   carry [".devcarry/chromium-3", ".devcarry/wgpt", ".devcarry/libwebgpu_wrapper.so", "build/web", ".gl"]
#                                                        command: scripts/device_browser.sh
# (Dawn's .devcarry/libwebgpu_wrapper.so is for the native figure beside the
# browser's; without it the browser runs alone.) A call without every part
# prints what it has and exits 3; the call that completes the set runs.
# Everything stays under /tmp/wgpt-browser (and the model in /tmp/l.gguf)
# while the machine is warm: a call with nothing carried runs it again.
#
# usage: scripts/device_browser.sh [N_TOKENS...]   (default 128 512: the page's
# figure counts every token from the first, and the first run slower in a
# browser, so a longer run shows the steady rate too)
# For a dry run elsewhere: WGPT_BROWSER_MODEL=FILE (instead of making the 1B
# model), WGPT_BIN=build/wgpt (instead of .devcarry/wgpt).
set -u
cd "$(dirname "$0")/.."
counts=("$@"); [ ${#counts[@]} -gt 0 ] || counts=(128 512)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
S=/tmp/wgpt-browser; mkdir -p "$S/parts" "$S/stage"
log() { echo "device_browser: $*" >&2; }
jl() { echo "$1" | tee -a "$OUT/browser.jsonl"; }

# ---- gather what this call carried ----
for d in .devcarry/chromium-[0-9]*; do
  [ -f "$d/part" ] && [ -f "$d/MANIFEST" ] || continue
  i=$(awk '$1 == "part" {print $2}' "$d/MANIFEST")
  sum=$(awk '$1 == "sha256" {print $2}' "$d/MANIFEST")
  if [ -f "$S/MANIFEST" ] && [ "$(awk '$1 == "sha256" {print $2}' "$S/MANIFEST")" != "$sum" ]; then
    log "parts of another pack were here: starting over"; rm -rf "$S/parts" "$S/root"; mkdir -p "$S/parts"
  fi
  cp "$d/MANIFEST" "$S/MANIFEST"
  cp "$d/part" "$S/parts/$i"
  log "got part $i ($(stat -c %s "$d/part") bytes)"
done
if [ -n "${WGPT_BIN:-}" ]; then cp "$WGPT_BIN" "$S/stage/wgpt"; elif [ -x .devcarry/wgpt ]; then cp .devcarry/wgpt "$S/stage/wgpt"; fi
[ -f .devcarry/libwebgpu_wrapper.so ] && cp .devcarry/libwebgpu_wrapper.so "$S/stage/"
[ -f build/web/wgpt.wasm ] && { rm -rf "$S/stage/web"; cp -r build/web "$S/stage/web"; }
if compgen -G ".gl/*.deb" >/dev/null; then rm -rf "$S/stage/gl"; mkdir -p "$S/stage/gl"; cp .gl/*.deb "$S/stage/gl/"; fi

# ---- unpack Chromium once every part is here ----
R=$S/root
if [ ! -f "$R/CONTENTS" ]; then
  [ -f "$S/MANIFEST" ] || { log "no Chromium part carried yet (.devcarry/chromium-N from scripts/pack_chromium.sh)"; exit 3; }
  n=$(awk '$1 == "part" {print $4}' "$S/MANIFEST")
  sum=$(awk '$1 == "sha256" {print $2}' "$S/MANIFEST")
  have=$(ls "$S/parts" | wc -l)
  if [ "$have" -lt "$n" ]; then
    missing=$(for i in $(seq "$n"); do [ -f "$S/parts/$i" ] || printf ' .devcarry/chromium-%d' "$i"; done)
    log "have $have of $n Chromium parts; carry next:$missing"
    exit 3
  fi
  got=$(for i in $(seq "$n"); do cat "$S/parts/$i"; done | sha256sum | cut -d' ' -f1)
  [ "$got" = "$sum" ] || { log "the parts do not add up (sha256 $got, want $sum): carry them again"; rm -rf "$S/parts"; exit 1; }
  mkdir -p "$R"
  for i in $(seq "$n"); do cat "$S/parts/$i"; done | xz -d | tar -x -C "$R" || { log "unpacking failed"; rm -rf "$R"; exit 1; }
  rm -rf "$S/parts"; mkdir -p "$S/parts"
  log "Chromium unpacked: $(head -n1 "$R/CONTENTS")"
fi
W=$S/stage/wgpt
[ -x "$W" ] || { log "no wgpt binary yet: carry .devcarry/wgpt (build/wgpt with serve-web)"; exit 3; }
[ -f "$S/stage/web/wgpt.wasm" ] || { log "no browser build yet: carry build/web (make web)"; exit 3; }
BIN=$R/$(awk '$1 == "binary:" {print $2}' "$R/CONTENTS")

# ---- the GPU: Vulkan loader and NVIDIA's driver, as scripts/device_bench.sh ----
if compgen -G "$S/stage/gl/*.deb" >/dev/null; then for f in "$S"/stage/gl/*.deb; do dpkg -x "$f" /; done; ldconfig; fi
[ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
nvidia-smi -L 2>/dev/null | head -n 2
# Chromium and serve-web get the packed libraries; Python and native wgpt do not.
CLIBS="$R/lib:$R/chromium"
export FONTCONFIG_FILE=$R/fonts/fonts.conf
mkdir -p /tmp/wgpt-fontconfig

# ---- the model ----
m=${WGPT_BROWSER_MODEL:-/tmp/l.gguf}
if [ ! -s "$m" ]; then
  log "making a Llama-3.2-1B-shaped Q4_0 model"
  python3 scripts/make_llama1b.py --out "$m" --type q4_0 --threads 16 >/dev/null || { log "make_llama1b.py failed"; exit 1; }
fi
log "model: $(du -h "$m" | cut -f1)"

# ---- serve ----
slog=$S/server.log; : >"$slog"
LD_LIBRARY_PATH=$CLIBS timeout 900 "$W" serve-web --port 0 --root "$S/stage/web" --model "$m" 2>"$slog" &
spid=$!
trap 'kill $spid 2>/dev/null' EXIT
port=
for _ in $(seq 100); do
  port=$(sed -n 's|.*http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$slog" | head -n1)
  [ -n "$port" ] && break
  kill -0 $spid 2>/dev/null || break
  sleep 0.1
done
[ -n "$port" ] || { log "serve-web did not start:"; cat "$slog" >&2; exit 1; }
base=http://127.0.0.1:$port

# ---- which flags reach the NVIDIA adapter ----
CDP=(python3 tests/web/cdp.py --chromium "$BIN" --lib-path "$CLIBS" --browser-log "$OUT/chromium.log")
flagsets=(
  ""
  "--enable-features=Vulkan --ignore-gpu-blocklist"
  "--enable-features=Vulkan --use-angle=vulkan --disable-vulkan-surface --ignore-gpu-blocklist"
  "--enable-features=Vulkan,VulkanFromANGLE,DefaultANGLEVulkan --use-vulkan=native --use-angle=vulkan --ignore-gpu-blocklist --enable-gpu"
)
chosen=; chosen_adapter=; fallback=; fallback_adapter=; have_fallback=
for fs in "${flagsets[@]}"; do
  args=(); for f in $fs; do args+=(--flag="$f"); done
  a=$(timeout 60 "${CDP[@]}" adapter "$base/" --timeout 40 "${args[@]}" | tail -n 1)
  jl "{\"step\":\"adapter\",\"flags\":\"$fs\",\"adapter\":${a:-null}}"
  if [ -z "$chosen" ] && printf '%s' "$a" | grep -qi nvidia; then chosen="$fs"; chosen_adapter=$a; fi
  if [ -z "$have_fallback" ] && printf '%s' "$a" | grep -q '"vendor"'; then have_fallback=1; fallback="$fs"; fallback_adapter=$a; fi
done
if [ -z "$chosen" ]; then
  [ -n "$have_fallback" ] || { log "no flag set gave any WebGPU adapter (see $OUT/chromium.log)"; exit 1; }
  log "no flag set gave an NVIDIA adapter (see above and $OUT/chromium.log); running on the first that gave one"
  chosen=$fallback; chosen_adapter=$fallback_adapter
fi
nvidia=no; printf '%s' "$chosen_adapter" | grep -qi nvidia && nvidia=yes

# ---- the page, autorun, on the 1B model, then native on the same file ----
prompt="Once upon a time"
# WGPT_BROWSER_FLAGS: more Chromium flags for the page's run (experiments,
# e.g. --js-flags=--no-liftoff), recorded with the result
args=(); for f in $chosen ${WGPT_BROWSER_FLAGS:-}; do args+=(--flag="$f"); done
chosen="$chosen${WGPT_BROWSER_FLAGS:+ $WGPT_BROWSER_FLAGS}"
run_count() {
  local n_tok=$1
  q="model=default.gguf&prompt=Once%20upon%20a%20time&n=$n_tok&temp=0&autorun=1"
  r=$(timeout 330 "${CDP[@]}" autorun "$base/?$q" --timeout 300 --screenshot "$OUT/chat.png" "${args[@]}" | tail -n 1)
  jl "{\"step\":\"browser\",\"nvidia\":\"$nvidia\",\"flags\":\"$chosen\",\"result\":${r:-null}}"
  browser_ids=$(printf '%s' "$r" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("ids",""))' 2>/dev/null)
  grep -c ' /default.gguf ' "$slog" | sed 's/^/device_browser: model requests served: /' >&2

  # ---- native, same file, same prompt ----
  if [ -f "$S/stage/libwebgpu_wrapper.so" ]; then
    ids=$(WGPT_WEBGPU_LIB=$S/stage/libwebgpu_wrapper.so "$W" run -m "$m" -p "$prompt" -n "$n_tok" --temp 0 --print-ids 2>"$S/native.err" | head -n 1)
    summary=$(grep 'wgpt: load' "$S/native.err" | tail -n 1)
    same=no; [ -n "$ids" ] && [ "$ids" = "${browser_ids:-}" ] && same=yes
    jl "{\"step\":\"native\",\"summary\":$(printf '%s' "$summary" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))'),\"same_ids_as_browser\":\"$same\"}"
  else
    log "no .devcarry/libwebgpu_wrapper.so carried: no native figure (README has device_bench.sh's)"
  fi
}
for n in "${counts[@]}"; do run_count "$n"; done

tail -n 5 "$slog" >&2
