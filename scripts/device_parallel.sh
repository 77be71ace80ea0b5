#!/usr/bin/env bash
# Runs on the GPU machine (as scripts/device_bench.sh: wgpt and Dawn's
# library carried in .devcarry/, the Vulkan loader from .gl/*.deb).
# Batched decoding of several sequences on a Llama-3.2-1B-shaped random
# Q4_0 GGUF: first exactness (`wgpt parallel`, 6 prompts in 3 slots, equal
# to each prompt alone in the batch; and how far they agree with `wgpt run`,
# whose one-token kernels round otherwise), then aggregate generation
# speed with 1, 4, 16 and 64 streams (`wgpt bench --parallel P`, tg128,
# all P streams' tokens a second), beside the single-context tg128.
# usage: scripts/device_parallel.sh [TYPE]   (default q4_0)
set -u
cd "$(dirname "$0")/.."
. scripts/device_env.sh
t=${1:-q4_0}
m=/tmp/llama1b_$t.gguf
nvidia-smi -L
[ -f "$m" ] || python3 scripts/make_llama1b.py --out "$m" --type "$t" --threads 16 >/dev/null
printf '%s\n' "Hello" "Once upon a time there was a little girl who lived in a village near the forest." \
  "The capital of France is" "1 2 3 4 5" "In the beginning" "What is the meaning of life? The meaning of life is" \
  >/tmp/prompts.txt
for p in 3 1; do
  $W parallel -m "$m" -f /tmp/prompts.txt -n 32 --temp 0 --ignore-eos --parallel $p -c 256 >"$OUT/parallel${p}_$t.jsonl"
done
if cmp -s "$OUT/parallel3_$t.jsonl" "$OUT/parallel1_$t.jsonl"; then r=equal; else r=DIFFER; fi
echo "exactness: 3 slots against 1 slot (each prompt alone in the batch): $r" | tee "$OUT/parallel_exact_$t.txt"
i=0; ok=0
while IFS= read -r p; do
  want=$($W run -m "$m" -p "$p" -n 32 --temp 0 --ignore-eos --print-ids -c 256 2>/dev/null)
  got=$(python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])][int(sys.argv[2])]; print(" ".join(map(str, r["ids"])))' "$OUT/parallel3_$t.jsonl" $i)
  n_same=$(python3 -c 'import sys; a=sys.argv[1].split(); b=sys.argv[2].split(); n=0
while n < min(len(a), len(b)) and a[n] == b[n]: n += 1
print(n)' "$want" "$got")
  [ "$want" = "$got" ] && ok=$((ok+1))
  echo "prompt $i: wgpt run and the batch agree on the first $n_same of 32 greedy ids" | tee -a "$OUT/parallel_exact_$t.txt"
  i=$((i+1))
done </tmp/prompts.txt
echo "against wgpt run (one-token kernels): $ok of $i prompts equal" | tee -a "$OUT/parallel_exact_$t.txt"
$W bench -m "$m" -p 0 -n 128 -r 3 --json | tee -a "$OUT/parallel_bench_$t.jsonl"
for P in 1 4 16 64; do
  $W bench -m "$m" -n 128 -r 3 --parallel $P -c 160 --json | tee -a "$OUT/parallel_bench_$t.jsonl"
done
# where a batched step's GPU time goes
for P in 4 64; do
  $W bench -m "$m" -n 8 -r 1 --parallel $P -c 160 --profile | tee "$OUT/parallel_profile_x${P}_$t.txt"
done
