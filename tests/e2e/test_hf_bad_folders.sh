#!/usr/bin/env bash
# Bad model folders get one clear line and a non-zero exit, never a crash:
# malformed or ill-typed config.json, safetensors headers with offsets out
# of range, overlapping tensors, an unknown dtype or a header too large, a
# missing shard, an index naming a tensor its shard lacks, a tensor no
# family has, WebGPT files of the wrong size. A folder of tokenizer files
# alone opens (inspect) and a command that needs weights says there are
# none. Run with the normal and the ASan/UBSan build. Exits 77 only
# without node-llama-cpp (its llama.cpp source carries gguf-py).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
need_wgpt
# make_tiny_hf.py writes with llama.cpp's gguf-py, which the node-llama-cpp bundle carries
[ -f deps/node_modules/node-llama-cpp/llama/gitRelease.bundle ] \
  || { echo "deps/node_modules/node-llama-cpp missing (run make deps)"; exit 77; }
src=$(tiny_model tiny_f32_s16tied --type f32 --seed 16 --tied) && [ -s "$src" ] || { echo "could not make the base model"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
good=$tmp/good
$PY scripts/make_tiny_hf.py --from "$src" --out "$good" >/dev/null || { echo "FAIL: make_tiny_hf.py"; exit 1; }
$PY scripts/make_tiny_hf.py --from "$src" --out "$tmp/sharded" --shards 2 >/dev/null || { echo "FAIL: make_tiny_hf.py --shards"; exit 1; }
fail=0
# expect_error LABEL PATTERN CMD...: exit 1, one stderr line "wgpt: ...PATTERN..."
expect_error() {
  local label=$1 pattern=$2; shift 2
  timeout 120 "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  local rc=$?
  local lines; lines=$(grep -cv '^$' "$tmp/err")
  if [ $rc -ne 1 ] || [ "$lines" -ne 1 ] || ! grep -q "^wgpt: .*$pattern" "$tmp/err"; then
    echo "FAIL $label: exit $rc, stderr:"; sed 's/^/    /' "$tmp/err" | head -20; fail=1
  else
    echo "ok   $label: $(cat "$tmp/err")"
  fi
}
# variant NAME [FROM]: a fresh copy of the good (or FROM) folder in $tmp/NAME
variant() { rm -rf "$tmp/$1"; cp -r "${2:-$good}" "$tmp/$1"; echo "$tmp/$1"; }
# config EDIT DIR: config.json rewritten by the Python expression EDIT on c
config() {
  $PY - "$2/config.json" "$1" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1])); exec(sys.argv[2]); open(sys.argv[1], "w").write(json.dumps(c))
EOF
}
# header EDIT FILE: the safetensors header rewritten by EDIT on h (a dict), data kept
header() {
  $PY - "$2" "$1" <<'EOF'
import json, sys
b = open(sys.argv[1], "rb").read(); n = int.from_bytes(b[:8], "little")
h = json.loads(b[8:8 + n]); exec(sys.argv[2])
j = json.dumps(h).encode(); j += b" " * ((8 - len(j) % 8) % 8)
open(sys.argv[1], "wb").write(len(j).to_bytes(8, "little") + j + b[8 + n:])
EOF
}

for bin in build/wgpt build-san/wgpt; do
  [ -x "$bin" ] || continue
  export ASAN_OPTIONS=detect_leaks=0
  d=$(variant notjson); printf '{"hidden_size": 64,' >"$d/config.json"
  expect_error "$bin config.json not JSON" "config.json: .*line 1" "$bin" inspect "$d"
  d=$(variant nohidden); config 'del c["hidden_size"]' "$d"
  expect_error "$bin config.json without hidden_size" "missing field 'hidden_size'" "$bin" inspect "$d"
  d=$(variant strlayers); config 'c["num_hidden_layers"] = "2"' "$d"
  expect_error "$bin num_hidden_layers a string" "field 'num_hidden_layers' is a string, expected an integer" "$bin" inspect "$d"
  d=$(variant negheads); config 'c["num_attention_heads"] = -4' "$d"
  expect_error "$bin negative head count" "num_attention_heads' = -4 is out of range" "$bin" inspect "$d"
  d=$(variant eps); config 'c["rms_norm_eps"] = "small"' "$d"
  expect_error "$bin rms_norm_eps a string" "field 'rms_norm_eps' is a string, expected a number" "$bin" inspect "$d"
  d=$(variant arch); config 'c["architectures"] = ["MambaForCausalLM"]' "$d"
  expect_error "$bin unknown architecture" "architecture 'MambaForCausalLM' is not one wgpt reads" "$bin" inspect "$d"
  d=$(variant rope); config 'c["rope_scaling"] = {"rope_type": "llama3", "factor": "eight"}' "$d"
  expect_error "$bin rope factor a string" "rope scaling field 'factor' is a string" "$bin" inspect "$d"
  d=$(variant shape); config 'c["intermediate_size"] = 96' "$d"
  expect_error "$bin config disagreeing with the weights" "blk.0.ffn_gate.weight' has shape" "$bin" logits -m "$d" --ids "1 2" -o "$tmp/l.bin"

  d=$(variant range); header 'h["model.norm.weight"]["data_offsets"][1] += 1 << 20' "$d/model.safetensors"
  expect_error "$bin offsets out of range" "model.safetensors: safetensors: .*model.norm.weight" "$bin" inspect "$d"
  d=$(variant overlap); header 'h["model.layers.0.post_attention_layernorm.weight"]["data_offsets"] = h["model.layers.0.input_layernorm.weight"]["data_offsets"]' "$d/model.safetensors"
  expect_error "$bin overlapping tensors" "model.safetensors: safetensors: .*overlap" "$bin" inspect "$d"
  d=$(variant dtype); header 'h["model.norm.weight"]["dtype"] = "F7"' "$d/model.safetensors"
  expect_error "$bin unknown dtype" "model.safetensors: safetensors: .*F7" "$bin" inspect "$d"
  d=$(variant hugeheader)
  $PY -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[:8] = (1 << 40).to_bytes(8, "little"); open(sys.argv[1], "wb").write(b)' "$d/model.safetensors"
  expect_error "$bin header too large" "model.safetensors: safetensors: " "$bin" inspect "$d"
  d=$(variant extra); header 'h["model.layers.0.mlp.experts.weight"] = h.pop("model.layers.0.mlp.up_proj.weight")' "$d/model.safetensors"
  expect_error "$bin tensor of no family" "model.layers.0.mlp.experts.weight' is not part of a llama model" "$bin" inspect "$d"
  d=$(variant noweights); rm "$d/model.safetensors"
  expect_error "$bin config without weights" "has no weights" "$bin" logits -m "$d" --ids "1 2" -o "$tmp/l.bin"

  d=$(variant noshard "$tmp/sharded"); rm "$d/model-00002-of-00002.safetensors"
  expect_error "$bin missing shard" "model-00002-of-00002.safetensors (named by model.safetensors.index.json): no such file" "$bin" inspect "$d"
  d=$(variant ghost "$tmp/sharded")
  $PY -c 'import json, sys; p = sys.argv[1]; i = json.load(open(p)); i["weight_map"]["model.layers.9.mlp.up_proj.weight"] = "model-00001-of-00002.safetensors"; json.dump(i, open(p, "w"))' "$d/model.safetensors.index.json"
  expect_error "$bin index naming a missing tensor" "places tensor 'model.layers.9.mlp.up_proj.weight' in model-00001-of-00002.safetensors, which does not have it" "$bin" inspect "$d"
  d=$(variant badindex "$tmp/sharded"); printf '{"weight_map": {"a": "../x"}}' >"$d/model.safetensors.index.json"
  expect_error "$bin index escaping the folder" "model.safetensors.index.json: safetensors: index: " "$bin" inspect "$d"

  # tokenizer files alone: inspect and tokenize work, commands that need weights say so
  d=$tmp/toko; rm -rf "$d"; mkdir "$d"; cp "$good"/tokenizer*.json "$d/"
  if "$bin" inspect "$d" >"$tmp/out" 2>"$tmp/err" && grep -q "tokenizer.huggingface.json" "$tmp/out"; then
    echo "ok   $bin tokenizer-only folder opens"
  else
    echo "FAIL $bin tokenizer-only folder: $(cat "$tmp/err")"; fail=1
  fi
  expect_error "$bin tokenizer-only folder has no weights" "tokenizer files only" "$bin" logits -m "$d" --ids "1 2" -o "$tmp/l.bin"
  d=$tmp/empty; rm -rf "$d"; mkdir "$d"
  expect_error "$bin empty folder" "not a model folder" "$bin" inspect "$d"
done

# WebGPT: a folder written here (1 layer, n_embd 8), then a .bin of the
# wrong size, a missing one, ill-typed params
wg=$tmp/webgpt; mkdir -p "$wg"
$PY - "$wg" <<'EOF'
import json, os, sys
import numpy as np
d, E, V, T = sys.argv[1], 8, 16, 8
json.dump({"n_layer": 1, "n_head": 2, "n_embd": E, "vocab_size": V, "block_size": T, "bias": True},
          open(os.path.join(d, "params_gpt.json"), "w"))
shapes = {"transformer.wte.weight": (V, E), "transformer.wpe.weight": (T, E), "transformer.ln_f.weight": (E,),
          "transformer.ln_f.bias": (E,)}
for k, sh in {"ln_1.weight": (E,), "ln_1.bias": (E,), "attn.c_attn.weight": (3 * E, E), "attn.c_attn.bias": (3 * E,),
              "attn.c_proj.weight": (E, E), "attn.c_proj.bias": (E,), "ln_2.weight": (E,), "ln_2.bias": (E,),
              "mlp.c_fc.weight": (4 * E, E), "mlp.c_fc.bias": (4 * E,), "mlp.c_proj.weight": (E, 4 * E),
              "mlp.c_proj.bias": (E,)}.items():
    shapes[f"transformer.h.0.{k}"] = sh
for k, sh in shapes.items():
    np.random.default_rng(0).standard_normal(sh).astype("<f4").tofile(os.path.join(d, k + "_gpt.bin"))
EOF
for bin in build/wgpt build-san/wgpt; do
  [ -x "$bin" ] || continue
  if "$bin" inspect "$wg" >"$tmp/out" 2>"$tmp/err" && grep -q "WebGPT folder" "$tmp/out"; then
    echo "ok   $bin WebGPT folder opens"
  else
    echo "FAIL $bin WebGPT folder: $(cat "$tmp/err")"; fail=1
  fi
  d=$(variant wg_short "$wg"); truncate -s -4 "$d/transformer.h.0.mlp.c_fc.weight_gpt.bin"
  expect_error "$bin WebGPT file too short" "transformer.h.0.mlp.c_fc.weight_gpt.bin: 1020 bytes, expected 1024" "$bin" inspect "$d"
  d=$(variant wg_missing "$wg"); rm "$d/transformer.ln_f.bias_gpt.bin"
  expect_error "$bin WebGPT file missing" "transformer.ln_f.bias_gpt.bin: missing" "$bin" inspect "$d"
  d=$(variant wg_params "$wg"); echo '{"n_layer": 1, "n_head": 4.5}' >"$d/params_gpt.json"
  expect_error "$bin WebGPT params ill-typed" "params_gpt.json: field 'n_head' is a fraction, expected an integer" "$bin" inspect "$d"
  d=$(variant wg_bias "$wg"); echo '{"n_layer": 1, "n_head": 2, "n_embd": 8, "vocab_size": 16, "block_size": 8, "bias": "no"}' >"$d/params_gpt.json"
  expect_error "$bin WebGPT bias ill-typed" "params_gpt.json: field 'bias' is a string, expected true or false" "$bin" inspect "$d"
done
[ $fail -eq 0 ] || exit 1
echo "every bad folder gets one clear line"
