#!/usr/bin/env bash
# Runs on the GPU machine (as scripts/device_bench.sh: wgpt and Dawn's
# library carried in .devcarry/, the Vulkan loader from .gl/*.deb).
# Batched decoding of several sequences on a Llama-3.2-1B-shaped random
# Q4_0 GGUF: first exactness (`wgpt parallel`, 6 prompts in 3 slots, equal
# to `wgpt run` of each prompt alone, greedy), then aggregate generation
# speed with 1, 4, 16 and 64 streams (`wgpt bench --parallel P`, tg128,
# all P streams' tokens a second), beside the single-context tg128.
# usage: scripts/device_parallel.sh [TYPE]   (default q4_0)
set -u
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
export WGPT_WEBGPU_LIB=$PWD/.devcarry/libwebgpu_wrapper.so
W=.devcarry/wgpt
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
t=${1:-q4_0}
m=/tmp/llama1b_$t.gguf
nvidia-smi -L
[ -f "$m" ] || python3 scripts/make_llama1b.py --out "$m" --type "$t" --threads 16 >/dev/null
printf '%s\n' "Hello" "Once upon a time there was a little girl who lived in a village near the forest." \
  "The capital of France is" "1 2 3 4 5" "In the beginning" "What is the meaning of life? The meaning of life is" \
  >/tmp/prompts.txt
$W parallel -m "$m" -f /tmp/prompts.txt -n 32 --temp 0 --ignore-eos --parallel 3 -c 256 >"$OUT/parallel_$t.jsonl"
i=0; ok=0
while IFS= read -r p; do
  want=$($W run -m "$m" -p "$p" -n 32 --temp 0 --ignore-eos --print-ids -c 256 2>/dev/null)
  got=$(python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])][int(sys.argv[2])]; print(" ".join(map(str, r["ids"])))' "$OUT/parallel_$t.jsonl" $i)
  if [ "$want" = "$got" ]; then ok=$((ok+1)); else echo "DIFFER prompt $i: alone [$want] batched [$got]"; fi
  i=$((i+1))
done </tmp/prompts.txt
echo "exactness: $ok of $i prompts equal alone and batched" | tee "$OUT/parallel_exact_$t.txt"
$W bench -m "$m" -p 0 -n 128 -r 3 --json | tee -a "$OUT/parallel_bench_$t.jsonl"
for P in 1 4 16 64; do
  $W bench -m "$m" -n 128 -r 3 --parallel $P -c 160 --json | tee -a "$OUT/parallel_bench_$t.jsonl"
done
