#!/usr/bin/env bash
# `-m DIR` for Hugging Face folders: tiny folders written by
# scripts/make_tiny_hf.py from the tiny Llama, Qwen 2/3, GPT-2 and Gemma 3
# models of the llama.cpp oracle tests (F32, F16 and BF16 safetensors,
# single files and shards with model.safetensors.index.json, tied and
# untied, Llama 3 rope scaling, GPT-2's vocab.json + merges.txt), each next
# to its GGUF form (what convert_hf_to_gguf.py would write for the folder,
# written with llama.cpp's own gguf-py), and a GPT-2 also in WebGPT's
# layout (params_gpt.json, <name>_gpt.bin), which must give the HF
# folder's logits.
#
# For each folder:
#   - `wgpt logits -m DIR` is the same as `wgpt logits -m FORM.gguf`: the
#     folder is read as the converter would write it (Llama's Q/K
#     permutation, rope_freqs from rope_scaling, the dtypes kept), bit for
#     bit, not merely close;
#   - llama.cpp (CPU) on FORM.gguf: its 32 greedy ids equal `wgpt run -m DIR
#     --temp 0 -n 32 --print-ids` (the greedy path being decisive for the
#     type's logit tolerance), and its logits on a 200-token text are within
#     compare_logits.py's tolerance of `wgpt logits -m DIR`;
#   - `wgpt verify -m DIR` (GPU against the CPU reference, layer by layer) passes;
#   - a sharded folder gives the same logits as the same weights in one file.
# Exits 77 only when node or node-llama-cpp is missing.
set -uo pipefail
cd "$(dirname "$0")/../.." && . scripts/env.sh
. tests/e2e/oracle_lib.sh  # PY WGPT DIR ORACLE N, fail, oracle_setup
BUNDLE=deps/node_modules/node-llama-cpp/llama/gitRelease.bundle
V=512
oracle_setup "$BUNDLE"
mkdir -p "$DIR" || exit 1
[ -x "$WGPT" ] || { echo "FAIL: $WGPT does not exist (make all)"; exit 1; }

TEXT='Once upon a time there was a little girl who lived in a village near the forest. Whenever she went out, the little girl wore a red riding cloak, so everyone in the village called her Little Red Riding Hood. One morning, she asked her mother if she could go to visit her grandmother.
The quick brown fox jumps over the lazy dog. What is the capital of France? The capital of France is Paris.'

# source GGUF (generator and its flags, as the oracle tests pick them so that
# greedy paths are decisive) | folder dtype | make_tiny_hf.py flags | prompt
MODELS=(
  "tiny_f32_s16tied|make_tiny_llama.py --type f32 --seed 16 --tied|f32||The capital of France is"
  "tiny_f32_s16tied|make_tiny_llama.py --type f32 --seed 16 --tied|f32|--rope-scaling llama3|The capital of France is"
  "tiny_bf16_s5|make_tiny_llama.py --type bf16 --seed 5|bf16|--shards 3|The quick brown fox"
  "qwen_qwen2_f16_s45|make_tiny_qwen.py --arch qwen2 --type f16 --seed 45 --vocab 512|f16|--shards 2|Once upon a time, there was a little girl"
  "qwen_qwen2_f32_s91tied|make_tiny_qwen.py --arch qwen2 --type f32 --seed 91 --vocab 512 --tied|f32||The capital of France is"
  "qwen_qwen3_f32_s5|make_tiny_qwen.py --arch qwen3 --type f32 --seed 5 --vocab 512|f32|--shards 2|I'm sure they'll say 42, won't they?"
  "qwen_qwen2_f16_s45|make_tiny_qwen.py --arch qwen2 --type f16 --seed 45 --vocab 512|bf16||Once upon a time, there was a little girl"
  "gpt2_f32_s6tied|make_tiny_gpt2_gemma3.py --arch gpt2 --type f32 --seed 6 --vocab 512 --tied|f32|WEBGPT|The capital of France is"
  "gpt2_f16_s5|make_tiny_gpt2_gemma3.py --arch gpt2 --type f16 --seed 5 --vocab 512|f16|--vocab-merges|Once upon a time, there was a little girl"
  "gemma3_f32_s1|make_tiny_gpt2_gemma3.py --arch gemma3 --type f32 --seed 1 --vocab 512|f32|--shards 2|The capital of France is"
)

# same_logits LABEL A B: the two logit files are identical (max |A - B| <= 1e-6 of scale).
same_logits() {
  $PY - "$2" "$3" "$1" <<'EOF'
import sys
import numpy as np
a, b = np.fromfile(sys.argv[1], "<f4"), np.fromfile(sys.argv[2], "<f4")
if a.size != b.size or a.size == 0:
    print(f"{sys.argv[3]}: {a.size} vs {b.size} logits"); sys.exit(1)
d, s = float(np.abs(a - b).max()), float(np.abs(b).max())
print(f"{sys.argv[3]}: max |diff| {d:.3g} (scale {s:.3g})")
sys.exit(0 if d <= 1e-6 * s else 1)
EOF
}

for spec in "${MODELS[@]}"; do
  [[ -z ${ONLY:-} || $spec == *$ONLY* ]] || continue
  IFS='|' read -r src gen dtype hfflags prompt <<<"$spec"
  tag="hf_${src}_${dtype}$(echo "$hfflags" | tr -d ' -')"
  model="$DIR/$src.gguf" folder="$DIR/$tag" form="$DIR/$tag.gguf" webgpt=
  # WEBGPT: the same weights also in WebGPT's layout (GPT-2, tied: WebGPT computes the logits with wte)
  [ "$hfflags" = WEBGPT ] && webgpt="$DIR/${tag}_webgpt" && hfflags="--webgpt $webgpt"
  echo "== $tag"
  script=scripts/${gen%% *}
  if [ ! -s "$model" ] || [ "$script" -nt "$model" ] || [ scripts/tiny_corpus.py -nt "$model" ]; then
    # shellcheck disable=SC2086
    $PY scripts/$gen --out "$model.tmp.$$" $([ "${gen%% *}" = make_tiny_llama.py ] && echo --no-check) \
      && mv "$model.tmp.$$" "$model" || { fail "$tag: generating the source model"; continue; }
  fi
  if [ ! -s "$form" ] || [ scripts/make_tiny_hf.py -nt "$form" ] || [ "$model" -nt "$form" ]; then
    # shellcheck disable=SC2086
    $PY scripts/make_tiny_hf.py --from "$model" --out "$folder" --dtype "$dtype" $hfflags --gguf-out "$form" \
      || { fail "$tag: writing the folder"; continue; }
  fi

  ids=$(node $ORACLE/llamacpp.mjs tokenize "$form" "$TEXT") || { fail "$tag: llama.cpp tokenize"; continue; }
  ids_json="[${ids// /,}]"

  # --- the folder is its GGUF form ---
  if "$WGPT" logits -m "$folder" --ids "$ids" -o "$tmp/dir.bin" >/dev/null 2>"$tmp/err" \
     && "$WGPT" logits -m "$form" --ids "$ids" -o "$tmp/form.bin" >/dev/null 2>>"$tmp/err"; then
    same_logits "folder vs GGUF form" "$tmp/dir.bin" "$tmp/form.bin" || fail "$tag: folder and GGUF form differ"
  else
    tail -n 5 "$tmp/err"; fail "$tag: wgpt logits"; continue
  fi
  if [ -n "$webgpt" ]; then
    "$WGPT" logits -m "$webgpt" --ids "$ids" -o "$tmp/wg.bin" >/dev/null 2>"$tmp/err" || { tail -n 3 "$tmp/err"; fail "$tag: WebGPT folder"; }
    same_logits "WebGPT folder vs HF folder" "$tmp/wg.bin" "$tmp/dir.bin" || fail "$tag: WebGPT and HF folders differ"
  fi
  if [[ $hfflags == *--shards* ]]; then
    one="$DIR/${tag}_one"
    if [ ! -d "$one" ] || [ "$form" -nt "$one" ]; then
      $PY scripts/make_tiny_hf.py --from "$model" --out "$one" --dtype "$dtype" || fail "$tag: single-file folder"
    fi
    "$WGPT" logits -m "$one" --ids "$ids" -o "$tmp/one.bin" >/dev/null 2>"$tmp/err" || { tail -n 3 "$tmp/err"; fail "$tag: single file"; }
    same_logits "shards vs one file" "$tmp/dir.bin" "$tmp/one.bin" || fail "$tag: shards and one file differ"
  fi

  # --- llama.cpp on the GGUF form ---
  if ! node $ORACLE/llamacpp.mjs greedy "$form" "$prompt" $N --json >"$tmp/g.json" 2>"$tmp/err"; then
    cat "$tmp/err"; fail "$tag: llama.cpp greedy"; continue
  fi
  read -r lc_ids min_gap < <($PY -c 'import json,sys; g=json.load(open(sys.argv[1])); print(",".join(map(str,g["ids"])) or "-", min(g["gaps"]) if g["gaps"] else 0)' "$tmp/g.json")
  lc_ids=${lc_ids//,/ }
  echo "llama.cpp:  $lc_ids"
  [ "$(wc -w <<<"$lc_ids")" -eq $N ] || fail "$tag: llama.cpp stopped early"
  node $ORACLE/llamacpp.mjs logits "$form" "$ids_json" "$tmp/lc.bin" || { fail "$tag: llama.cpp logits"; continue; }
  # Gemma 3: llama.cpp's CPU GELU reads an f16 table, 1.2e-3 of the logit
  # scale from exact on F32 (test_gemma3_llamacpp.sh): 3e-3 for F32 and F16.
  tol=
  [[ $src == gemma3_* && $dtype != bf16 ]] && tol=3e-3
  $PY $ORACLE/compare_logits.py "$tmp/lc.bin" "$tmp/dir.bin" --vocab $V --type "$dtype" ${tol:+--tol-max $tol --tol-rms $tol} \
    --label "wgpt -m DIR vs llama.cpp on the GGUF form" || fail "$tag: logits outside the tolerance of llama.cpp's"
  $PY - "$tmp/lc.bin" "$dtype" "$min_gap" "$tol" <<'EOF' || fail "$tag: greedy path not decisive for this tolerance"
import sys
import numpy as np
sys.path.insert(0, "tests/oracle")
from compare_logits import TOLERANCES
tol = float(sys.argv[4]) if sys.argv[4] else TOLERANCES[sys.argv[2]][0]
need = 2 * tol * np.abs(np.fromfile(sys.argv[1], "<f4")).max()
print(f"greedy margin: smallest gap {float(sys.argv[3]):.3g}, needed {need:.3g}")
sys.exit(0 if float(sys.argv[3]) > need else 1)
EOF
  if w_ids=$("$WGPT" run -m "$folder" -p "$prompt" -n $N --temp 0 --print-ids 2>"$tmp/err"); then
    w_ids=$(echo $w_ids)
    echo "wgpt -m DIR: $w_ids"
    [ "$w_ids" = "$lc_ids" ] || fail "$tag: wgpt run ids differ from llama.cpp's"
  else
    tail -n 5 "$tmp/err"; fail "$tag: wgpt run"
  fi
  if "$WGPT" verify -m "$folder" -p "$prompt" >"$tmp/v.log" 2>&1; then
    echo "wgpt verify: $(tail -n 1 "$tmp/v.log")"
  else
    tail -n 8 "$tmp/v.log"; fail "$tag: wgpt verify"
  fi
done

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "every folder runs as its GGUF form and as llama.cpp does"
