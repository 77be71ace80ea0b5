#!/usr/bin/env bash
# Batched decoding is exact: `wgpt parallel` (one wgpt_batch, --parallel 3
# slots for 6 prompts, so that finished slots take waiting prompts between
# steps and prompts run beside other slots' one-token steps) gives each
# prompt the same greedy ids as with --parallel 1 (each prompt alone in the
# batch), and as `wgpt run` gives it (a context of its own, sampled on the
# GPU, whose one-token steps fuse the norms and RoPE into their products:
# not bit for bit in general). Over the families' paths a batched step
# takes: Llama in Q8_0, Q4_0 (8-bit prompt products), F16, Q4_K_M (llama.cpp's
# quantizer) and a transformers.js ONNX q4 folder, Qwen 3 (head norm
# with RoPE), Gemma 3 (a 16-token window that 32 tokens pass), GPT-2
# (learned positions, LayerNorm) and the default model. Prompts from 1 to
# ~90 tokens: more than one 64-token tile of the prompt kernels, and slots
# far apart in position.
set -u
. tests/e2e/lib.sh
need_wgpt
WGPT=${WGPT:-build/wgpt}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL $1"; fails=$((fails+1)); }

made() { # NAME SCRIPT ARGS...: a model made once in $MODELS
  local name=$1 script=$2; shift 2
  local out="$MODELS/par_$name.gguf"
  if [ ! -s "$out" ] || [ "$script" -nt "$out" ]; then
    $PY "$script" --out "$out.tmp.$$" "$@" >"$tmp/make.log" 2>&1 && mv "$out.tmp.$$" "$out" \
      || { tail -n 5 "$tmp/make.log" >&2; return 1; }
  fi
  echo "$out"
}

cat >"$tmp/prompts" <<'P'
Hello
The quick brown fox jumps over the lazy dog, and the dog does not seem to mind at all.
a
In the beginning God created the heaven and the earth. And the earth was without form, and void; and darkness was upon the face of the deep. And the Spirit of God moved upon the face of the waters. And God said, Let there be light: and there was light.
Once upon a time
1 2 3 4 5 6 7 8 9 10
P

check() { # TAG MODEL [N]
  local tag=$1 model=$2 n=${3:-32} i=0 line want got
  local p
  for p in 3 1; do
    if ! "$WGPT" parallel -m "$model" -f "$tmp/prompts" -n "$n" --temp 0 --ignore-eos --parallel $p \
         >"$tmp/par$p.jsonl" 2>"$tmp/par.err"; then
      cat "$tmp/par.err"; fail "$tag: wgpt parallel --parallel $p"; return
    fi
  done
  if cmp -s "$tmp/par3.jsonl" "$tmp/par1.jsonl"; then echo "ok   $tag: 3 slots = 1 slot, every prompt"
  else fail "$tag: 3 slots differ from 1"; diff "$tmp/par3.jsonl" "$tmp/par1.jsonl" | head -n 4; fi
  while IFS= read -r line; do
    want=$("$WGPT" run -m "$model" -p "$line" -n "$n" --temp 0 --ignore-eos --print-ids 2>"$tmp/run.err") \
      || { cat "$tmp/run.err"; fail "$tag: wgpt run, prompt $i"; i=$((i+1)); continue; }
    got=$($PY -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])][int(sys.argv[2])]; print(" ".join(map(str, r["ids"])))' \
          "$tmp/par3.jsonl" "$i")
    if [ "$want" = "$got" ]; then echo "ok   $tag prompt $i ($(echo "$got" | wc -w) ids)"
    else fail "$tag prompt $i: alone [$want], batched [$got]"; fi
    i=$((i+1))
  done <"$tmp/prompts"
  [ $i -eq 6 ] || fail "$tag: $i prompts checked"
}

m=$(made llama_q8_0 scripts/make_tiny_llama.py --no-check --type q8_0 --seed 6) && check llama_q8_0 "$m" || fail "llama_q8_0: model"
m=$(made llama_q4_0 scripts/make_tiny_llama.py --no-check --type q4_0 --seed 7) && check llama_q4_0 "$m" || fail "llama_q4_0: model"
m=$(made llama_f16 scripts/make_tiny_llama.py --no-check --type f16 --seed 8) && check llama_f16 "$m" || fail "llama_f16: model"
# Q4_K_M (q4_K with q6_K V and down projections) by llama.cpp's own quantizer
. tests/e2e/kquant_lib.sh
if build_llamacpp_quantize >"$tmp/q.log" 2>&1 \
   && src=$(made llama256_f32 scripts/make_tiny_llama.py --no-check --type f32 --seed 9 --dim 256 --ffn 512 \
            --heads 4 --kv-heads 2 --layers 2 --vocab 512) \
   && m=$(kquant_model "$src" q4_K_M); then
  check llama_q4_K_M "$m"
else
  cat "$tmp/q.log"; fail "llama_q4_K_M: model"
fi
check onnx_q4 tests/fixtures/onnx/tiny-llama-q4 24
m=$(made qwen3 scripts/make_tiny_qwen.py --arch qwen3 --type f32 --seed 2) && check qwen3 "$m" || fail "qwen3: model"
m=$(made gemma3 scripts/make_tiny_gpt2_gemma3.py --arch gemma3 --type f32 --seed 3 --softcap 30) && check gemma3 "$m" || fail "gemma3: model"
m=$(made gpt2 scripts/make_tiny_gpt2_gemma3.py --arch gpt2 --type f32 --seed 4) && check gpt2 "$m" || fail "gpt2: model"
check default models/default.gguf 24

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "every prompt's batched greedy ids equal its ids alone"
