#!/usr/bin/env bash
# `wgpt inspect`'s bits per weight and quantization mix, against numbers
# computed independently (tests/e2e/check_inspect_mix.py: llama.cpp's gguf-py
# reading the file's tensor table; general.file_type named by llama.cpp's own
# llama_ftype_name, read from its source; for llama.cpp-quantized files also
# the "quant size = ... BPW" its quantizer printed), on:
#   - tiny Llama GGUFs of our writer: f16, q8_0, q4_0 (one type per matrix);
#   - files made by llama.cpp's own quantizer (tools/llamacpp_quantize.c):
#     Q4_K_M, Q5_K_M, Q6_K of a 256-wide model (mixes of q4_K/q5_K/q6_K), and
#     Q4_K_M, Q5_K_M of one whose ffn_down rows (640) are no multiple of 256,
#     where llama.cpp falls back to q5_0/q5_1/q8_0 for them;
#   - a Hugging Face Llama folder (bf16 safetensors, 2 shards), whose numbers
#     must be the sums over its safetensors headers (wgpt describes what it
#     loads: the stored dtypes, 1-D norms included, which llama.cpp's
#     converter would widen to F32).
# Exits 77 (skip; a failure under CI=true) only without node-llama-cpp's
# llama.cpp (its source bundle and prebuilt libllama).
set -uo pipefail
cd "$(dirname "$0")/../.." && . scripts/env.sh
. tests/e2e/lib.sh         # PY MODELS tiny_model need_wgpt ok bad
. tests/e2e/kquant_lib.sh  # have_llamacpp_quantize build_llamacpp_quantize kquant_model
need_wgpt
have_llamacpp_quantize || { echo "node-llama-cpp's llama.cpp (source bundle, libllama) missing (run make deps)"; exit 77; }
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT

# check LABEL FILE ARGS...: inspect FILE, then check_inspect_mix.py ARGS.
check() {
  local label=$1 file=$2; shift 2
  if ! build/wgpt inspect "$file" >"$tmp/out" 2>"$tmp/err"; then
    bad "$label: inspect failed: $(tail -n 2 "$tmp/err")"; return
  fi
  if $PY tests/e2e/check_inspect_mix.py "$tmp/out" "$@" >"$tmp/chk" 2>&1; then
    ok "$label: $(tail -n 1 "$tmp/chk")"
  else
    bad "$label:"; cat "$tmp/chk"
  fi
}

for t in f16 q8_0 q4_0; do
  m=$(tiny_model "tiny_${t}_s1" --type "$t" --seed 1) || { bad "making the $t model"; continue; }
  check "$t" "$m" "$m"
done

if build_llamacpp_quantize >"$tmp/cc" 2>&1; then
  for shape in "256 512" "256 640"; do
    read -r dim ffn <<<"$shape"
    src=$(tiny_model "kq_d${dim}_f${ffn}_f16" --type f16 --seed 1 --dim "$dim" --ffn "$ffn" --vocab 512) \
      || { bad "making the ${dim}x$ffn model"; continue; }
    types="q4_K_M q5_K_M q6_K"; [ "$ffn" = 640 ] && types="q4_K_M q5_K_M"
    for t in $types; do
      m=$(kquant_model "$src" "$t") || { bad "llama.cpp's quantizer: $src to $t"; continue; }
      check "llama.cpp $t (ffn $ffn)" "$m" "$m" --quantize-log "$m.log"
    done
  done
else
  bad "building tools/llamacpp_quantize.c:"; cat "$tmp/cc"
fi

src=$(tiny_model tiny_f32_s16tied --type f32 --seed 16 --tied) || bad "making the folder's source model"
hf=$MODELS/inspect_hf_bf16shards2
if [ ! -s "$hf/config.json" ] || [ scripts/make_tiny_hf.py -nt "$hf/config.json" ] || [ "$src" -nt "$hf/config.json" ]; then
  rm -rf "$hf"
  $PY scripts/make_tiny_hf.py --from "$src" --out "$hf.tmp.$$" --dtype bf16 --shards 2 >"$tmp/hf" 2>&1 \
    && mv "$hf.tmp.$$" "$hf" || { cat "$tmp/hf"; bad "make_tiny_hf.py"; }
fi
check "HF folder (bf16, 2 shards)" "$hf" --folder "$hf"

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "inspect's quantization mix matches every file's own tensor table"
