#!/usr/bin/env bash
# wgpt against llama.cpp (CPU, via node-llama-cpp) on tiny random Llama
# models: f32 (tied output), f16 (Llama 3 rope_freqs), q8_0, q4_0 (rope_freqs),
# bf16, all with grouped-query attention (4 query heads, 2 KV heads).
#
# Oracle side, always checked: our quantizers (and bf16 rounding) are
# byte-identical to ggml's;
# node-llama-cpp's own GGUF parser reads back what gguf_writer.py wrote;
# llama.cpp's greedy continuation equals a float64 numpy forward pass on the
# same weights (so llama.cpp reads the files as we meant them) and is not
# degenerate; llama.cpp's logits are within the tolerances of
# tests/oracle/compare_logits.py of that exact forward pass; and every
# greedy step is decided by a top-1/top-2 gap of at least 2 * tol_max * scale,
# so any implementation inside the logit tolerance must produce the same ids.
#
# wgpt side: `wgpt run --temp 0 -n 32 --print-ids` must print exactly
# llama.cpp's 32 greedy ids (prompt fed as BOS + tokenize(prompt)), and
# `wgpt logits --ids` on a 208-token text must match llama.cpp's logits
# within compare_logits.py's tolerance; the same for 10 positions of a
# make_llama1b.py model shrunk to 1/8 width (full 128256 vocabulary).
# Exits 77 (skip) only without node-llama-cpp; a missing or failing
# build/wgpt fails the test.
set -uo pipefail
cd "$(dirname "$0")/../.." && . scripts/env.sh  # standalone runs get SwiftShader too
. tests/e2e/oracle_lib.sh  # PY WGPT DIR ORACLE N, fail, oracle_setup, oracle_check_model, wgpt_check_model

oracle_setup
mkdir -p "$DIR" || exit 1

$PY $ORACLE/check_quantizers.py >"$tmp/q.log" 2>&1 || { cat "$tmp/q.log"; fail "quantizers differ from ggml's"; }
$PY $ORACLE/check_gguf_writer.py >"$tmp/q.log" 2>&1 || { cat "$tmp/q.log"; fail "gguf_writer output misread by node-llama-cpp's parser"; }

# Text for the logits comparison: 208 tokens, so RoPE reaches angles where
# rope_freqs matters, with byte-fallback characters (é, —, €) and a newline.
TEXT='Once upon a time there was a little girl who lived in a village near the forest. Whenever she went out, the little girl wore a red riding cloak, so everyone in the village called her Little Red Riding Hood. One morning, she asked her mother if she could go to visit her grandmother, as it had been a while since they had seen each other.
The quick brown fox jumps over the lazy dog. "Café?" she said — 3€ only! What is the capital of France? The capital of France is Paris, and the meaning of life is 42.'

# type seed flags prompt. Seeds were picked so that llama.cpp's greedy path
# is decisive (see the header) and not a one-token loop.
MODELS=(
  "f32|16|--tied|The capital of France is"
  "f16|18|--rope-freqs --bigram 0|Once upon a time, there was a little girl"
  "q8_0|8||Hello, world!
Café au lait costs 3€."
  "q4_0|1|--rope-freqs|We hold these truths to be self-evident"
  "bf16|5||The quick brown fox"
)

[ -x "$WGPT" ] || { echo "FAIL: $WGPT does not exist (run make)"; exit 1; }

min_gap_all=
for spec in "${MODELS[@]}"; do
  IFS='|' read -r type seed flags prompt <<<"$spec"
  prompt=${spec#*|*|*|}  # the prompt may contain a newline
  tag="tiny_${type}_s${seed}$(echo "$flags" | tr -d ' -')"
  model="$DIR/$tag.gguf"
  if [ ! -s "$model" ] || [ scripts/make_tiny_llama.py -nt "$model" ] || [ scripts/gguf_writer.py -nt "$model" ] \
     || [ scripts/tiny_corpus.py -nt "$model" ]; then
    # shellcheck disable=SC2086
    $PY scripts/make_tiny_llama.py --out "$model.tmp.$$" --type "$type" --seed "$seed" $flags --no-check \
      && mv "$model.tmp.$$" "$model" || { fail "$tag: generating the model"; continue; }
  fi
  echo "== $tag"

  oracle_check_model "$tag" "$model" "$type" 512 $ORACLE/numpy_llama.py "$prompt" "$TEXT" || continue
  wgpt_check_model "$tag" "$model" "$type" 512 "$prompt"
done

# make_llama1b.py shrunk to 1/8 width and 2 layers, keeping the 128256-token
# vocabulary (the tiny one padded): llama.cpp loads it, tokenizes text as
# with the tiny vocabulary, and wgpt's logits match over the whole vocabulary.
big="$DIR/llama1b_sd8_L2_q4_0.gguf"
echo "== $(basename "$big" .gguf)"
if [ ! -s "$big" ] || [ scripts/make_llama1b.py -nt "$big" ] || [ scripts/make_tiny_llama.py -nt "$big" ] \
   || [ scripts/gguf_writer.py -nt "$big" ] || [ scripts/tiny_corpus.py -nt "$big" ]; then
  $PY scripts/make_llama1b.py --out "$big.tmp.$$" --type q4_0 --scale-down 8 --layers 2 --threads 2 2>/dev/null \
    && mv "$big.tmp.$$" "$big" || fail "make_llama1b.py"
fi
if [ -s "$big" ]; then
  big_ids=$(node $ORACLE/llamacpp.mjs tokenize "$big" "The capital of France is")
  [ "$big_ids" = "1 365 458 328 455 331" ] || fail "1B-shaped vocabulary tokenizes differently: $big_ids"
  big_ids="$big_ids 53978 47025 128255 3"  # padding pieces, the last id, a byte token
  rm -f "$tmp/np.bin"  # the tiny models' exact logits: not this one's
  node $ORACLE/llamacpp.mjs logits "$big" "[${big_ids// /,}]" "$tmp/lc.bin" || fail "llama.cpp on the 1B-shaped model"
  $PY $ORACLE/numpy_llama.py logits "$big" "[${big_ids// /,}]" "$tmp/np.bin" \
    && $PY $ORACLE/compare_logits.py "$tmp/lc.bin" "$tmp/np.bin" --vocab 128256 --type q4_0 \
         --label "exact forward vs llama.cpp" || fail "1B-shaped: llama.cpp vs exact forward"
  wgpt_check_logits "1B-shaped" "$big" 128256 q4_0 "$big_ids"
fi

echo "smallest top-1/top-2 logit gap on llama.cpp's greedy paths: $min_gap_all"
[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all models match llama.cpp"
