#!/usr/bin/env bash
# wgpt against llama.cpp (CPU, via node-llama-cpp) on tiny random Llama
# models: f32 (tied output), f16 (Llama 3 rope_freqs), q8_0, q4_0 (rope_freqs),
# all with grouped-query attention (4 query heads, 2 KV heads).
#
# Oracle side, always checked: our quantizers are byte-identical to ggml's;
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
PY=/usr/bin/python3
WGPT=${WGPT:-build/wgpt}
DIR=build/testmodels
ORACLE=tests/oracle
N=32

if ! command -v node >/dev/null || [ ! -d deps/node_modules/node-llama-cpp ]; then
  echo "node or deps/node_modules/node-llama-cpp missing (run make deps)"; exit 77
fi
mkdir -p "$DIR" || exit 1
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

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
)

[ -x "$WGPT" ] || { echo "FAIL: $WGPT does not exist (run make)"; exit 1; }

min_gap_all=
for spec in "${MODELS[@]}"; do
  IFS='|' read -r type seed flags prompt <<<"$spec"
  prompt=${spec#*|*|*|}  # the prompt may contain a newline
  tag="tiny_${type}_s${seed}$(echo "$flags" | tr -d ' -')"
  model="$DIR/$tag.gguf"
  if [ ! -s "$model" ] || [ scripts/make_tiny_llama.py -nt "$model" ] || [ scripts/gguf_writer.py -nt "$model" ]; then
    # shellcheck disable=SC2086
    $PY scripts/make_tiny_llama.py --out "$model.tmp.$$" --type "$type" --seed "$seed" $flags --no-check \
      && mv "$model.tmp.$$" "$model" || { fail "$tag: generating the model"; continue; }
  fi
  echo "== $tag"

  # --- oracle: greedy ---
  if ! node $ORACLE/llamacpp.mjs greedy "$model" "$prompt" $N --json >"$tmp/g.json" 2>"$tmp/err"; then
    cat "$tmp/err"; fail "$tag: llama.cpp greedy"; continue
  fi
  read -r prompt_ids lc_ids min_gap < <($PY - "$tmp/g.json" <<'EOF'
import json, sys
g = json.load(open(sys.argv[1]))
print(json.dumps(g["prompt_ids"]).replace(" ", ""), ",".join(map(str, g["ids"])) or "-",
      min(g["gaps"]) if g["gaps"] else 0)
EOF
  )
  lc_ids=${lc_ids//,/ }
  echo "prompt ids: $prompt_ids"
  echo "llama.cpp:  $lc_ids (smallest top-1/top-2 gap $min_gap)"
  n_ids=$(wc -w <<<"$lc_ids"); n_distinct=$(tr ' ' '\n' <<<"$lc_ids" | sort -u | wc -l)
  [ "$n_ids" -eq $N ] || fail "$tag: llama.cpp stopped after $n_ids tokens (end of generation)"
  [ "$n_distinct" -ge 8 ] || fail "$tag: degenerate greedy sequence ($n_distinct distinct ids)"
  np_ids=$($PY $ORACLE/numpy_llama.py greedy "$model" "$prompt_ids" $N)
  [ "$np_ids" = "$lc_ids" ] || fail "$tag: exact numpy forward disagrees with llama.cpp: $np_ids"
  min_gap_all=$($PY -c "print(min(float(x) for x in '$min_gap ${min_gap_all:-inf}'.split()))")

  # --- oracle: logits ---
  ids=$(node $ORACLE/llamacpp.mjs tokenize "$model" "$TEXT") || { fail "$tag: tokenize"; continue; }
  ids_json="[${ids// /,}]"
  node $ORACLE/llamacpp.mjs logits "$model" "$ids_json" "$tmp/lc.bin" || { fail "$tag: llama.cpp logits"; continue; }
  $PY $ORACLE/numpy_llama.py logits "$model" "$ids_json" "$tmp/np.bin" || { fail "$tag: numpy logits"; continue; }
  $PY $ORACLE/compare_logits.py "$tmp/lc.bin" "$tmp/np.bin" --vocab 512 --type "$type" \
    --label "exact forward vs llama.cpp" || fail "$tag: llama.cpp outside the tolerance of the exact forward"
  # Greedy ids are only a fair test if the logit tolerance cannot flip them.
  $PY - "$tmp/lc.bin" "$type" "$min_gap" <<'EOF' || fail "$tag: greedy path not decisive for this tolerance"
import sys
import numpy as np
sys.path.insert(0, "tests/oracle")
from compare_logits import TOLERANCES
scale = np.abs(np.fromfile(sys.argv[1], "<f4")).max()
need = 2 * TOLERANCES[sys.argv[2]][0] * scale
print(f"greedy margin: smallest gap {float(sys.argv[3]):.3g}, needed {need:.3g}")
sys.exit(0 if float(sys.argv[3]) > need else 1)
EOF

  # --- wgpt ---
  if w_ids=$("$WGPT" run -m "$model" -p "$prompt" -n $N --temp 0 --print-ids 2>"$tmp/err"); then
    w_ids=$(echo $w_ids)  # normalise whitespace
    echo "wgpt:       $w_ids"
    [ "$w_ids" = "$lc_ids" ] || fail "$tag: wgpt run ids differ from llama.cpp"
  else
    tail -n 5 "$tmp/err"; fail "$tag: wgpt run failed"
  fi
  if "$WGPT" logits -m "$model" --ids "$ids" -o "$tmp/w.bin" 2>"$tmp/err" >/dev/null; then
    $PY $ORACLE/compare_logits.py "$tmp/lc.bin" "$tmp/w.bin" --vocab 512 --type "$type" \
      --label "wgpt logits vs llama.cpp" || fail "$tag: wgpt logits"
  else
    tail -n 5 "$tmp/err"; fail "$tag: wgpt logits failed"
  fi
done

# make_llama1b.py shrunk to 1/8 width and 2 layers, keeping the 128256-token
# vocabulary (the tiny one padded): llama.cpp loads it, tokenizes text as
# with the tiny vocabulary, and wgpt's logits match over the whole vocabulary.
big="$DIR/llama1b_sd8_L2_q4_0.gguf"
echo "== $(basename "$big" .gguf)"
if [ ! -s "$big" ] || [ scripts/make_llama1b.py -nt "$big" ] || [ scripts/make_tiny_llama.py -nt "$big" ] \
   || [ scripts/gguf_writer.py -nt "$big" ]; then
  $PY scripts/make_llama1b.py --out "$big.tmp.$$" --type q4_0 --scale-down 8 --layers 2 --threads 2 2>/dev/null \
    && mv "$big.tmp.$$" "$big" || fail "make_llama1b.py"
fi
if [ -s "$big" ]; then
  big_ids=$(node $ORACLE/llamacpp.mjs tokenize "$big" "The capital of France is")
  [ "$big_ids" = "1 365 458 328 455 331" ] || fail "1B-shaped vocabulary tokenizes differently: $big_ids"
  big_ids="$big_ids 53978 47025 128255 3"  # padding pieces, the last id, a byte token
  node $ORACLE/llamacpp.mjs logits "$big" "[${big_ids// /,}]" "$tmp/lc.bin" || fail "llama.cpp on the 1B-shaped model"
  $PY $ORACLE/numpy_llama.py logits "$big" "[${big_ids// /,}]" "$tmp/np.bin" \
    && $PY $ORACLE/compare_logits.py "$tmp/lc.bin" "$tmp/np.bin" --vocab 128256 --type q4_0 \
         --label "exact forward vs llama.cpp" || fail "1B-shaped: llama.cpp vs exact forward"
  if "$WGPT" logits -m "$big" --ids "$big_ids" -o "$tmp/w.bin" 2>"$tmp/err" >/dev/null; then
    $PY $ORACLE/compare_logits.py "$tmp/lc.bin" "$tmp/w.bin" --vocab 128256 --type q4_0 \
      --label "wgpt logits vs llama.cpp" || fail "1B-shaped: wgpt logits"
  else
    tail -n 5 "$tmp/err"; fail "1B-shaped: wgpt logits failed"
  fi
fi

echo "smallest top-1/top-2 logit gap on llama.cpp's greedy paths: $min_gap_all"
[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all models match llama.cpp"
