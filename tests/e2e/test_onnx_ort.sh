#!/usr/bin/env bash
# transformers.js-style ONNX q4 folders (onnx/model_q4.onnx beside
# config.json and the tokenizer files), `-m DIR`:
#   - each folder in tests/fixtures/onnx/ (scripts/make_tiny_onnx.py:
#     torch.onnx.export of a tiny Hugging Face model, then onnxruntime's
#     MatMulNBitsQuantizer, 4 bits, blocks of 32) against onnxruntime-node,
#     the runtime @huggingface/transformers uses in Node
#     (tests/oracle/onnx_ort.mjs): logits at every position of a text within
#     1e-3 of the reference's spread (max - min) at that position, 16 greedy
#     ids equal (the greedy path checked to be decisive for that
#     tolerance), and `wgpt verify` (GPU against the CPU reference) green;
#   - q4 folders written here field by field (tests/oracle/onnx_wire.py q4:
#     symmetric and with zero points, the embedding as INT4, UINT4 and UINT8
#     GatherBlockQuantized, weights inline and in external data) give the
#     logits and greedy ids of the same weights dequantized into a
#     safetensors folder, and pass `wgpt verify`;
#   - malformed models (truncated, an 11-byte varint, an initializer whose
#     data disagrees with its dims, external data outside the folder or
#     missing) fail with one line and a non-zero exit, never a crash.
# Exits 77 only when node or onnxruntime-node is missing (run.sh fails that
# under CI=true).
set -uo pipefail
cd "$(dirname "$0")/../.." && . scripts/env.sh
. tests/e2e/lib.sh  # PY MODELS tiny_model need_wgpt ok bad fails
WGPT=${WGPT:-build/wgpt}
ORT=deps/node_modules/onnxruntime-node
FIX=tests/fixtures/onnx
N=16
TOL=1e-3
command -v node >/dev/null && [ -d "$ORT" ] || { echo "node or $ORT missing (run make deps)"; exit 77; }
need_wgpt
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

TEXT='Once upon a time there was a little girl who lived in a village near the forest. Whenever she went out, the little girl wore a red riding cloak. The quick brown fox jumps over the lazy dog. What is the capital of France? The capital of France is Paris.'
PROMPTS=("The capital of France is" "Once upon a time, there was a little girl" "The quick brown fox")

# close LABEL REF GOT VOCAB TOL: per position, max |REF - GOT| <= TOL * (max - min of REF).
close() {
  $PY - "$2" "$3" "$4" "$5" "$1" <<'EOF'
import sys
import numpy as np
a, b = np.fromfile(sys.argv[1], "<f4"), np.fromfile(sys.argv[2], "<f4")
v, tol = int(sys.argv[3]), float(sys.argv[4])
if a.size != b.size or a.size == 0 or a.size % v:
    print(f"{sys.argv[5]}: {a.size} vs {b.size} logits"); sys.exit(1)
a, b = a.reshape(-1, v), b.reshape(-1, v)
if not np.isfinite(b).all():
    print(f"{sys.argv[5]}: non-finite logits"); sys.exit(1)
r = np.abs(a - b).max(axis=1) / (a.max(axis=1) - a.min(axis=1))
print(f"{sys.argv[5]}: {a.shape[0]} positions, worst max |diff| / spread {r.max():.3g} at {int(r.argmax())} (allowed {tol:g})")
sys.exit(0 if r.max() <= tol else 1)
EOF
}

vocab_of() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["vocab_size"])' "$1/config.json"; }

# --- the fixtures against onnxruntime ---
dirs=()
for d in "$FIX"/*/; do [ -f "$d/onnx/model_q4.onnx" ] || [ -f "$d/onnx/model_q4f16.onnx" ] && dirs+=("${d%/}"); done
[ ${#dirs[@]} -gt 0 ] || bad "no fixture folders in $FIX (scripts/make_tiny_onnx.py makes them)"
for d in "${dirs[@]}"; do
  tag=$(basename "$d")
  echo "== $tag"
  v=$(vocab_of "$d")
  if ! ids=$(printf %s "$TEXT" | "$WGPT" tokenize -m "$d" --special 2>"$tmp/err"); then
    tail -n 3 "$tmp/err"; bad "$tag: wgpt tokenize"; continue
  fi
  if node tests/oracle/onnx_ort.mjs logits "$d" "$ids" "$tmp/ort.bin" 2>"$tmp/err"; then
    if "$WGPT" logits -m "$d" --ids "$ids" -o "$tmp/w.bin" >/dev/null 2>"$tmp/err"; then
      close "$tag: wgpt logits vs onnxruntime" "$tmp/ort.bin" "$tmp/w.bin" "$v" $TOL && ok "$tag: logits" \
        || bad "$tag: logits outside $TOL of onnxruntime's spread"
    else
      tail -n 3 "$tmp/err"; bad "$tag: wgpt logits"
    fi
  else
    tail -n 5 "$tmp/err"; bad "$tag: onnxruntime logits"
  fi
  for prompt in "${PROMPTS[@]}"; do
    pids=$(printf %s "$prompt" | "$WGPT" tokenize -m "$d" --special 2>/dev/null) || { bad "$tag: tokenize '$prompt'"; continue; }
    if ! node tests/oracle/onnx_ort.mjs greedy "$d" "$pids" $N >"$tmp/g.txt" 2>"$tmp/err"; then
      tail -n 5 "$tmp/err"; bad "$tag: onnxruntime greedy"; continue
    fi
    read -r -a o_ids <"$tmp/g.txt"
    gap=$(sed -n 2p "$tmp/g.txt")
    # A gap under twice the tolerance could flip within it: try the next prompt.
    if ! $PY -c "import sys; sys.exit(0 if float('${gap#gap }') > 2 * $TOL else 1)"; then
      echo "'$prompt': greedy path not decisive ($gap of the spread), next prompt"; continue
    fi
    if w_ids=$("$WGPT" run -m "$d" -p "$prompt" -n $N --temp 0 --ignore-eos --print-ids 2>"$tmp/err"); then
      w_ids=$(echo $w_ids)
      echo "onnxruntime: ${o_ids[*]} ($gap)"
      echo "wgpt:        $w_ids"
      [ "$w_ids" = "${o_ids[*]}" ] && ok "$tag: $N greedy ids of '$prompt'" || bad "$tag: greedy ids differ from onnxruntime's"
    else
      tail -n 3 "$tmp/err"; bad "$tag: wgpt run"
    fi
    if "$WGPT" verify -m "$d" -p "$prompt" >"$tmp/v.log" 2>&1; then
      ok "$tag: wgpt verify: $(tail -n 1 "$tmp/v.log")"
    else
      tail -n 8 "$tmp/v.log"; bad "$tag: wgpt verify"
    fi
    continue 2
  done
  bad "$tag: no prompt with a decisive greedy path"
done

# --- q4 folders written here, against their weights dequantized ---
# source GGUF | generator | onnx_wire.py q4 flags
SELF=(
  "tiny_bf16_s5|make_tiny_llama.py --type bf16 --seed 5 --no-check|"
  "tiny_bf16_s5|make_tiny_llama.py --type bf16 --seed 5 --no-check|--u8-gather"
  "qwen_qwen2_f16_s45|make_tiny_qwen.py --arch qwen2 --type f16 --seed 45 --vocab 512|--asym --external"
  "qwen_qwen2_f16_s45|make_tiny_qwen.py --arch qwen2 --type f16 --seed 45 --vocab 512|--asym --u8-gather"
)
ids="1 5 9 200 17 3 44 300 2 7 7 7 99 12 13 400 5 6 8 10 11 250 251 252"
for spec in "${SELF[@]}"; do
  IFS='|' read -r src gen flags <<<"$spec"
  tag="wire_${src}$(echo "$flags" | tr -d ' -')"
  echo "== $tag"
  model="$MODELS/$src.gguf"
  if [ ! -s "$model" ]; then
    # shellcheck disable=SC2086
    $PY scripts/$gen --out "$model.tmp.$$" && mv "$model.tmp.$$" "$model" || { bad "$tag: generating $src"; continue; }
  fi
  # shellcheck disable=SC2086
  $PY scripts/make_tiny_hf.py --from "$model" --out "$tmp/$tag.hf" --dtype f32 >/dev/null \
    && $PY tests/oracle/onnx_wire.py q4 "$tmp/$tag.hf" "$tmp/$tag" "$tmp/$tag.deq" $flags || { bad "$tag: writing"; continue; }
  if "$WGPT" logits -m "$tmp/$tag" --ids "$ids" -o "$tmp/q.bin" >/dev/null 2>"$tmp/err" \
     && "$WGPT" logits -m "$tmp/$tag.deq" --ids "$ids" -o "$tmp/d.bin" >/dev/null 2>>"$tmp/err"; then
    close "$tag: q4 folder vs dequantized safetensors" "$tmp/d.bin" "$tmp/q.bin" 512 1e-5 && ok "$tag: logits" \
      || bad "$tag: the q4 folder is not its dequantized weights"
    "$WGPT" logits -m "$tmp/$tag.hf" --ids "$ids" -o "$tmp/f.bin" >/dev/null 2>&1 \
      && close "$tag: the unquantized model, for scale" "$tmp/d.bin" "$tmp/f.bin" 512 1e-5 \
      && bad "$tag: quantizing changed nothing: the comparison shows nothing"
  else
    tail -n 3 "$tmp/err"; bad "$tag: wgpt logits"
  fi
  q=$("$WGPT" run -m "$tmp/$tag" -p "The quick brown fox" -n $N --temp 0 --ignore-eos --print-ids 2>/dev/null | tr '\n' ' ')
  r=$("$WGPT" run -m "$tmp/$tag.deq" -p "The quick brown fox" -n $N --temp 0 --ignore-eos --print-ids 2>/dev/null | tr '\n' ' ')
  [ -n "$q" ] && [ "$q" = "$r" ] && ok "$tag: greedy ids (one token at a time)" || bad "$tag: greedy ids differ: '$q' vs '$r'"
  if "$WGPT" verify -m "$tmp/$tag" -p "The quick brown fox" >"$tmp/v.log" 2>&1; then
    ok "$tag: wgpt verify: $(tail -n 1 "$tmp/v.log")"
  else
    tail -n 8 "$tmp/v.log"; bad "$tag: wgpt verify"
  fi
done

# --- malformed models: one line, a non-zero exit ---
base=$tmp/wire_tiny_bf16_s5
if [ -d "$base" ]; then
  # expect_error LABEL PHRASE DIR
  expect_error() {
    "$WGPT" logits -m "$3" --ids "1 2" -o "$tmp/x.bin" >/dev/null 2>"$tmp/err"
    local rc=$? lines; lines=$(wc -l <"$tmp/err")
    if [ $rc -ne 1 ] || [ "$lines" -ne 1 ] || ! grep -qF -- "$2" "$tmp/err"; then
      cat "$tmp/err"; bad "$1: exit $rc, $lines lines, expected one saying '$2'"
    else
      ok "$1: $(cat "$tmp/err")"
    fi
  }
  mk() { rm -rf "$tmp/$1"; mkdir -p "$tmp/$1/onnx"; cp "$base"/*.json "$tmp/$1/"; }
  mk trunc; head -c $(( $(stat -c %s "$base/onnx/model_q4.onnx") / 2 )) "$base/onnx/model_q4.onnx" >"$tmp/trunc/onnx/model_q4.onnx"
  expect_error "truncated .onnx" "runs past the end" "$tmp/trunc"
  for w in bad-varint:"longer than 64 bits" bad-dims:"but its dims and type (FLOAT) take 16384" escape:"leads out of the model's folder"; do
    mk "${w%%:*}"; $PY tests/oracle/onnx_wire.py "${w%%:*}" "$tmp/${w%%:*}/onnx/model_q4.onnx"
    expect_error "${w%%:*}" "${w#*:}" "$tmp/${w%%:*}"
  done
  ext=$tmp/wire_qwen_qwen2_f16_s45asymexternal
  if [ -d "$ext" ]; then
    rm -rf "$tmp/noext"; cp -r "$ext" "$tmp/noext"; rm "$tmp/noext/onnx/model_q4.onnx_data"
    expect_error "missing external data" "onnx/model_q4.onnx_data: cannot open" "$tmp/noext"
    rm -rf "$tmp/shortext"; cp -r "$ext" "$tmp/shortext"; truncate -s 1000 "$tmp/shortext/onnx/model_q4.onnx_data"
    expect_error "short external data" "past the end of model_q4.onnx_data" "$tmp/shortext"
  fi
else
  bad "malformed models: no folder to start from"
fi

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "ONNX q4 folders run as onnxruntime runs them"
