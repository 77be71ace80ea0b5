#!/usr/bin/env bash
# wgpt against llama.cpp (CPU, via node-llama-cpp) on tiny random Qwen 2 and
# Qwen 3 models written by llama.cpp's OWN GGUF writer (gguf-py from the
# llama.cpp source node-llama-cpp ships; scripts/make_tiny_qwen.py), in F32,
# F16, Q8_0 and Q4_0, tied and untied, all with grouped-query attention
# (4 query heads, 2 KV heads); Qwen 2 with Q/K/V biases, Qwen 3 with per-head
# q/k RMSNorm and head_dim 32 != dim/heads 16; byte-level BPE vocabulary
# with the "qwen2" pre-tokenizer, no BOS.
#
# Oracle side: llama.cpp's greedy continuation equals a float64 numpy
# forward pass (tests/oracle/numpy_qwen.py, reading the file with gguf-py)
# and is not degenerate; llama.cpp's logits on a 208-token text are within
# compare_logits.py's tolerance of that forward; every greedy step is
# decided by a top-1/top-2 gap of at least 2 * tol_max * scale, so any
# implementation inside the logit tolerance must produce the same ids; and
# each deliberate mistake (Llama's RoPE pairing, no RoPE, no biases, no or
# misplaced q/k norm, wrong GQA mapping, 1/sqrt(dim/heads) scaling) puts the
# numpy logits outside that tolerance, so the logits check would catch it.
#
# wgpt side (no skipping: a wgpt that cannot run these models fails):
# `wgpt tokenize` gives llama.cpp's ids for the text; `wgpt run --temp 0 -n
# 32 --print-ids` prints llama.cpp's 32 greedy ids; `wgpt logits --ids` is
# within compare_logits.py's tolerance of llama.cpp's logits; `wgpt verify`
# (GPU against wgpt's CPU reference, layer by layer) exits 0.
# Exits 77 only when node or node-llama-cpp is missing.
set -uo pipefail
cd "$(dirname "$0")/../.." && . scripts/env.sh  # standalone runs get SwiftShader too
. tests/e2e/oracle_lib.sh  # PY WGPT DIR ORACLE N, fail, oracle_setup, oracle_check_model, wgpt_check_model
V=512  # vocabulary size of every model here
BUNDLE=deps/node_modules/node-llama-cpp/llama/gitRelease.bundle

oracle_setup "$BUNDLE"
mkdir -p "$DIR" || exit 1

# 208 tokens with this vocabulary: multi-byte characters (é, —, €), a
# newline, digits (split one by one by the qwen2 pre-tokenizer), contractions.
TEXT='Once upon a time there was a little girl who lived in a village near the forest. Whenever she went out, the little girl wore a red riding cloak, so everyone in the village called her Little Red Riding Hood. One morning, she asked her mother if she could go to visit her grandmother, as it had been a while since they had seen each other.
The quick brown fox jumps over the lazy dog. "Café?" she said — 3€ only! What is the capital of France? The capital of France is Paris, and the meaning of life is 42. I'"'"'m sure they'"'"'ll say 1234567.'

# arch type seed flags prompt. Seeds were picked (numpy forward, then
# llama.cpp) so that the greedy path is decisive (see the header), runs the
# full 32 tokens and is not a short loop. Q8_0/Q4_0 need a stronger
# successor structure (--bigram 2) and, for Qwen 3, softer attention
# (--qk-norm 1.5) for that: their tolerance is 3e-2 of the logit scale.
# Qwen 3 F16 gets --qk-norm 1.2: sharp attention magnifies llama.cpp's own
# rounding of activations to f16 beyond F16's tolerance (2e-3 of scale;
# 3.9e-3 measured at the default 2.5, 1.5e-3 at 1.2).
MODELS=(
  "qwen2|f32|91|--tied|The capital of France is"
  "qwen2|f16|45||Once upon a time, there was a little girl"
  "qwen2|q8_0|42|--bigram 2|Hello, world!
Café au lait costs 3€."
  "qwen2|q4_0|40|--bigram 2|We hold these truths to be self-evident"
  "qwen3|f32|5||I'm sure they'll say 42, won't they?"
  "qwen3|f16|120|--tied --qk-norm 1.2|The capital of France is"
  "qwen3|q8_0|86|--bigram 2 --qk-norm 1.5|Once upon a time, there was a little girl"
  "qwen3|q4_0|26|--bigram 2 --qk-norm 1.5|Hello, world!
Café au lait costs 3€."
)

[ -x "$WGPT" ] || fail "$WGPT does not exist (make all)"

min_gap_all=
for spec in "${MODELS[@]}"; do
  IFS='|' read -r arch type seed flags _ <<<"$spec"
  prompt=${spec#*|*|*|*|}  # the prompt may contain a newline
  tag="qwen_${arch}_${type}_s${seed}$(echo "$flags" | tr -d ' -')"
  model="$DIR/$tag.gguf"
  if [ ! -s "$model" ] || [ scripts/make_tiny_qwen.py -nt "$model" ] || [ scripts/llamacpp_src.py -nt "$model" ] \
     || [ scripts/tiny_corpus.py -nt "$model" ] || [ scripts/train/bytebpe.py -nt "$model" ] || [ "$BUNDLE" -nt "$model" ]; then
    # shellcheck disable=SC2086
    $PY scripts/make_tiny_qwen.py --arch "$arch" --type "$type" --seed "$seed" --vocab $V $flags --out "$model.tmp.$$" \
      && mv "$model.tmp.$$" "$model" || { fail "$tag: generating the model"; continue; }
  fi
  echo "== $tag"

  oracle_check_model "$tag" "$model" "$type" $V $ORACLE/numpy_qwen.py "$prompt" "$TEXT" || continue
  # The tolerance is tight enough to see each family-specific mistake.
  $PY $ORACLE/numpy_qwen.py mutants "$model" "$ids_json" "$tmp/lc.bin" "$type" "$prompt_ids" "$lc_ids" \
    || fail "$tag: a deliberate mistake stays inside the logit tolerance"

  # --- wgpt ---
  [ -x "$WGPT" ] || continue
  if w_tok=$(printf '%s' "$TEXT" | "$WGPT" tokenize -m "$model" 2>"$tmp/err"); then
    [ "$(echo $w_tok)" = "$ids" ] || fail "$tag: wgpt tokenize differs from llama.cpp"
  else
    tail -n 5 "$tmp/err"; fail "$tag: wgpt tokenize failed"
  fi
  wgpt_check_model "$tag" "$model" "$type" $V "$prompt"
  if "$WGPT" verify -m "$model" -p "$prompt" >"$tmp/v.log" 2>&1; then
    echo "wgpt verify: $(tail -n 1 "$tmp/v.log")"
  else
    tail -n 8 "$tmp/v.log"; fail "$tag: wgpt verify"
  fi
done

echo "smallest top-1/top-2 logit gap on llama.cpp's greedy paths: $min_gap_all"
[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all Qwen models match llama.cpp"
