#!/usr/bin/env bash
# Sampling on the GPU (src/sampling/gpu_sampler.c) against the CPU sampler
# (sampler.c, `--cpu-sampling`): the same tokens for the same seed, on the
# shipped model (4,096 ids: one select workgroup) and tiny models of 70,000
# and 300,000 ids (18 and 74 workgroups; the latter caps top-k at 55 on the
# GPU), for greedy (steps queued ahead), llama.cpp's defaults, narrow and
# wide top-k with top-p and min-p, and the repetition penalty. `-v` says
# where sampling ran: the GPU for every setting it takes, the CPU for the
# rest (top-k off, or past the cap), so the comparison cannot pass by both
# runs taking the CPU path.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh
need_wgpt
. scripts/env.sh
fails=0
v70k=$(tiny_model gs_v70k --type f16 --seed 5 --vocab 70000) || { echo "cannot make the 70k model"; exit 1; }
v300k=$(tiny_model gs_v300k --type q8_0 --seed 6 --vocab 300000) || { echo "cannot make the 300k model"; exit 1; }

# where MODEL ARGS...: "GPU" or "CPU", as `wgpt run -v` says
where() {
  local m=$1; shift
  build/wgpt run -v -m "$m" -p "a" -n 1 "$@" 2>&1 >/dev/null | sed -n 's/^wgpt: sampling on the \([A-Z]*\).*/\1/p'
}

# same MODEL EXPECT ARGS...: ids equal with and without --cpu-sampling, and the
# default path is EXPECT (GPU or CPU)
same() {
  local m=$1 expect=$2 a b w; shift 2
  w=$(where "$m" "$@")
  [ "$w" = "$expect" ] || { bad "$(basename "$m") $*: sampling on the '$w', expected $expect"; return; }
  a=$(build/wgpt run -m "$m" -p "In the beginning" -n 32 --ignore-eos --print-ids "$@" 2>/dev/null)
  b=$(build/wgpt run -m "$m" -p "In the beginning" -n 32 --ignore-eos --print-ids --cpu-sampling "$@" 2>/dev/null)
  if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "$(basename "$m") $* ($expect): 32 ids equal"
  else bad "$(basename "$m") $*: GPU '$a' against CPU '$b'"; fi
}

for m in models/default.gguf "$v70k"; do
  same "$m" GPU --temp 0
  same "$m" GPU --temp 0 --repeat-penalty 1.5 --repeat-last-n 8
  same "$m" GPU --seed 1
  same "$m" GPU --temp 1.5 --top-k 10 --top-p 0.9 --seed 7
  same "$m" GPU --temp 3 --top-k 2 --top-p 1 --min-p 0 --seed 11
  same "$m" GPU --temp 0.7 --top-k 1 --seed 2
done
same models/default.gguf CPU --temp 0.8 --top-k 0 --top-p 0.9 --seed 4
same "$v70k" GPU --temp 2 --top-k 64 --top-p 0.99 --min-p 0.01 --seed 9
same "$v70k" CPU --temp 1 --repeat-penalty 1.2 --repeat-last-n 300 --seed 5
same "$v300k" GPU --temp 0
same "$v300k" GPU --temp 1 --top-k 55 --top-p 1 --min-p 0 --repeat-penalty 1.3 --repeat-last-n 16 --seed 3
same "$v300k" CPU --temp 2 --top-k 56 --seed 9

[ "$fails" -eq 0 ] || { echo "$fails failed"; exit 1; }
