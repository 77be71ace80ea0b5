#!/usr/bin/env bash
# wgpt on GGUF K-quants (Q4_K_M, Q5_K_M, Q6_K) made by llama.cpp's OWN
# quantizer, against llama.cpp (CPU, via node-llama-cpp).
#
# Files: tiny random Llamas (256 wide, FFN 512, 4 query / 2 KV heads, 2
# layers, 512-token vocabulary: every matrix row a multiple of 256, which
# K-quants need) written in F32 or F16 by make_tiny_llama.py, then quantized
# by llama_model_quantize of the libllama node-llama-cpp ships
# (tools/llamacpp_quantize.c, tests/e2e/kquant_lib.sh), so the type mix is
# llama.cpp's: Q4_K_M puts q6_K on output.weight and on the last layer's
# attn_v/ffn_down, q4_K elsewhere; Q5_K_M the same with q5_K; Q6_K is q6_K
# throughout. A fourth file has FFN 640, whose ffn_down rows llama.cpp cannot
# K-quantize: its Q6_K falls back to q8_0 for them (as real models with such
# widths do).
#
# Checked for each file:
#   - it really holds the K-quant types (llama.cpp's gguf-py reads the tensor
#     table; the quantizer's log is shown), so no check below is vacuous;
#   - oracle: llama.cpp's 32 greedy ids equal a float64 numpy forward pass
#     over the weights as llama.cpp's gguf-py dequantizes them
#     (tests/oracle/numpy_llama_ggufpy.py), are not degenerate, and every step
#     is decided by a top-1/top-2 gap above twice the logit tolerance;
#     llama.cpp's logits are within compare_logits.py's tolerance of that
#     forward (8-bit activations, as for q8_0/q4_0: llama.cpp feeds q8_K
#     blocks to K-quant matmuls) — tests/e2e/oracle_lib.sh, as for the
#     other weight types;
#   - wgpt: `wgpt run --temp 0 -n 32 --print-ids` prints llama.cpp's ids,
#     `wgpt logits` on a 208-token text is within compare_logits.py's
#     tolerance of llama.cpp's (widened to 3x llama.cpp's own distance from
#     the exact forward, as for q8_0/q4_0), and `wgpt verify` (GPU against
#     the CPU reference, layer by layer) passes.
# Exits 77 (skip; a failure under CI=true) only without node or
# node-llama-cpp (its llama.cpp source bundle and prebuilt libllama).
set -uo pipefail
cd "$(dirname "$0")/../.." && . scripts/env.sh
. tests/e2e/oracle_lib.sh  # PY WGPT DIR ORACLE N, fail, oracle_setup, oracle_check_model, wgpt_check_model
. tests/e2e/kquant_lib.sh  # build_llamacpp_quantize kquant_model LC_BUNDLE LC_BINS

oracle_setup "$LC_BUNDLE"
have_llamacpp_quantize || { echo "$LC_BINS/libllama.v*.so or cc missing (run make deps)"; exit 77; }
mkdir -p "$DIR" || exit 1
[ -x "$WGPT" ] || { echo "FAIL: $WGPT does not exist (run make)"; exit 1; }
build_llamacpp_quantize >"$tmp/cc" 2>&1 || { cat "$tmp/cc"; echo "FAIL: building tools/llamacpp_quantize.c"; exit 1; }

TEXT='Once upon a time there was a little girl who lived in a village near the forest. Whenever she went out, the little girl wore a red riding cloak, so everyone in the village called her Little Red Riding Hood. One morning, she asked her mother if she could go to visit her grandmother, as it had been a while since they had seen each other.
The quick brown fox jumps over the lazy dog. "Café?" she said — 3€ only! What is the capital of France? The capital of France is Paris, and the meaning of life is 42.'

# llama.cpp type | source type | seed | ffn | types the file must hold | prompt
MODELS=(
  "q4_K_M|f32|1|512|q4_K q6_K f32|The capital of France is"
  "q5_K_M|f16|2|512|q5_K q6_K f32|Once upon a time, there was a little girl"
  "q6_K|f32|3|512|q6_K f32|We hold these truths to be self-evident"
  "q6_K|f16|4|640|q6_K q8_0 f32|The quick brown fox"
)

min_gap_all=
for spec in "${MODELS[@]}"; do
  IFS='|' read -r qtype stype seed ffn want prompt <<<"$spec"
  src=$DIR/kq_${stype}_s${seed}_f${ffn}.gguf
  tag=$(basename "$src" .gguf)_$qtype
  echo "== $tag"
  if [ ! -s "$src" ] || [ scripts/make_tiny_llama.py -nt "$src" ] || [ scripts/gguf_writer.py -nt "$src" ] \
     || [ scripts/tiny_corpus.py -nt "$src" ]; then
    $PY scripts/make_tiny_llama.py --out "$src.tmp.$$" --type "$stype" --seed "$seed" --dim 256 --ffn "$ffn" \
      --heads 4 --kv-heads 2 --layers 2 --vocab 512 --no-check && mv "$src.tmp.$$" "$src" \
      || { fail "$tag: generating the source model"; continue; }
  fi
  model=$(kquant_model "$src" "$qtype") || { fail "$tag: llama.cpp's quantizer"; continue; }

  # What llama.cpp wrote, per tensor; the file must hold exactly the types
  # expected (so a quantizer that silently wrote f32 cannot pass).
  grep -o '\] [a-z_.0-9]* .*converting to [a-z0-9_A-Z]*' "$model.log" | sed 's/ *- \[.*converting to / -> /; s/^\] //' \
    | tr '\n' ' ' | sed 's/^/llama.cpp wrote: /; s/$/\n/'
  have=$($PY - "$model" <<'EOF'
import sys
sys.path.insert(0, "scripts")
import llamacpp_src
gguf = llamacpp_src.import_gguf()
names = {"Q4_K": "q4_K", "Q5_K": "q5_K", "Q6_K": "q6_K"}
types = {names.get(t.tensor_type.name, t.tensor_type.name.lower()) for t in gguf.GGUFReader(sys.argv[1]).tensors}
print(" ".join(sorted(types)))
EOF
  )
  [ "$have" = "$(tr ' ' '\n' <<<"$want" | sort | tr '\n' ' ' | sed 's/ $//')" ] \
    && echo "tensor types: $have" || fail "$tag: tensor types '$have', expected '$want'"

  # The file's main K-quant type names its logit tolerance.
  ltype=${qtype%_[SM]}
  oracle_check_model "$tag" "$model" "$ltype" 512 $ORACLE/numpy_llama_ggufpy.py "$prompt" "$TEXT" || continue
  wgpt_check_model "$tag" "$model" "$ltype" 512 "$prompt"
  if out=$("$WGPT" verify -m "$model" 2>&1); then
    echo "verify: $(tail -n 1 <<<"$out")"
  else
    grep -E "FAIL|first|wgpt:|error" <<<"$out" | head -n 5; fail "$tag: wgpt verify"
  fi
done

echo "smallest top-1/top-2 logit gap on llama.cpp's greedy paths: $min_gap_all"
[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all K-quant files match llama.cpp"
