#!/usr/bin/env bash
# Runs on the GPU machine (see README, "Benchmarks"): wgpt built here and
# carried in .devcarry/ (the CLI plus Dawn's shared library), the Vulkan
# loader from .gl/*.deb. Makes Llama-3.2-1B-shaped random-weight GGUFs there,
# checks wgpt against its CPU reference, then benchmarks wgpt (for f16 also
# generation 4096 tokens deep: bench -d) and, when its bundle is carried,
# llama.cpp's Vulkan backend on the same files.
# With .devcarry/wgpt-base (a build of an earlier commit) carried too, it
# is benchmarked on the same files in the same call, as "wgpt-base": the
# before/after of a change on one machine.
# Each file is verified layer by layer twice: a 3-token prompt in line, and
# after every benchmark a 105-token one (more than a 64-token tile, not a
# multiple of it), all types at once, as their CPU references take minutes
# on a 1B model ($OUT/verify_TYPE.txt). Run beside the benchmarks, a
# verify's GPU part once took a Q4_0 pp512 from 20k to 6.8k tok/s.
# usage: scripts/device_bench.sh [TYPES...]   (default: f16 q8_0 q4_0; also
# q4_K_M, q5_K_M, q6_K: quantized there by llama.cpp from the F16 file)
set -u
cd "$(dirname "$0")/.."
. scripts/device_env.sh
types=("$@"); [ ${#types[@]} -gt 0 ] || types=(f16 q8_0 q4_0)
LONG="Once upon a time there was a little girl who lived in a village near the forest. Whenever she went out, the little girl wore a red riding cloak, so everyone in the village called her Little Red Riding Hood. One morning she asked her mother if she could go to visit her grandmother."
nvidia-smi -L
$W devices
echo "== tiny model: GPU vs CPU reference, layer by layer"
python3 scripts/make_tiny_llama.py --out /tmp/tiny.gguf --type q8_0 --seed 3 --no-check >/dev/null
$W verify -m /tmp/tiny.gguf -v | tail -n 3
for t in "${types[@]}"; do
  m=/tmp/llama1b_$t.gguf
  case "$t" in
    *_K*) # llama.cpp's own quantizer, from the F16 file (the bundle's
          # llamacpp_quantize: scripts/pack_llamacpp_vulkan.sh)
      f=/tmp/llama1b_f16.gguf q=/tmp/lcvq/bin/llamacpp_quantize
      [ -f "$f" ] || python3 scripts/make_llama1b.py --out "$f" --type f16 --threads 16 >/dev/null
      if [ ! -x "$q" ]; then
        python3 -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall('/tmp/lcvq-x')" \
          .devcarry/llamacpp-vulkan.tar.xz && mv /tmp/lcvq-x/lcv /tmp/lcvq
      fi
      [ -f "$m" ] || "$q" "$f" "$m" "$t" -t 16 >"$OUT/quantize_$t.log" 2>&1 || { echo "quantize $t failed"; continue; } ;;
    *) [ -f "$m" ] || python3 scripts/make_llama1b.py --out "$m" --type "$t" --threads 16 >/dev/null ;;
  esac
  echo "== $t: $(du -h "$m" | cut -f1)"
  $W verify -m "$m" -p "Hello world" -c 64 | tail -n 2
  $W bench -m "$m" -p 512 -n 128 -r 3 --json | tee -a "$OUT/bench.jsonl"
  if [ -x .devcarry/wgpt-base ]; then
    .devcarry/wgpt-base bench -m "$m" -p 512 -n 128 -r 3 --json | sed 's/"engine":"wgpt"/"engine":"wgpt-base"/' | tee -a "$OUT/bench.jsonl"
    $W bench -m "$m" -p 512 -n 128 -r 3 --json | sed 's/"engine":"wgpt"/"engine":"wgpt-again"/' | tee -a "$OUT/bench.jsonl"
  fi
  # generation 4096 tokens deep (one-token attention split over the cache)
  if [ "$t" = f16 ]; then
    $W bench -m "$m" -p 512 -n 128 -d 4096 -c 4608 -r 3 --json | tee -a "$OUT/bench.jsonl"
  fi
  # llama.cpp twice: its own tg128 moved by up to 9% between calls on the
  # H200 (2026-11-30), so one figure of it says little about a ratio
  if [ -f .devcarry/llamacpp-vulkan.tar.xz ] && [ -x scripts/device_llamacpp.sh ]; then
    for _ in 1 2; do
      scripts/device_llamacpp.sh .devcarry/llamacpp-vulkan.tar.xz "$m" 512 128 | tee -a "$OUT/bench.jsonl"
    done
  fi
  $W run -m "$m" -p "Once upon a time" -n 64 --temp 0 2>&1 >/dev/null | tail -n 1
  # time to first token of a 2,048-token prompt: both engines' pp2048 (the
  # first token is then sampled from the last prompt pass)
  $W bench -m "$m" -p 2048 -n 0 -r 2 -c 4096 --json | sed 's/"engine":"wgpt"/"engine":"wgpt-ttft"/' | tee -a "$OUT/bench.jsonl"
  if [ -f .devcarry/llamacpp-vulkan.tar.xz ] && [ -x scripts/device_llamacpp.sh ]; then
    scripts/device_llamacpp.sh .devcarry/llamacpp-vulkan.tar.xz "$m" 2048 0 | tee -a "$OUT/bench.jsonl"
  fi
done
echo "== verify, 105 tokens (waiting for the CPU references)"
for t in "${types[@]}"; do $W verify -m "/tmp/llama1b_$t.gguf" -p "$LONG" -c 512 >"$OUT/verify_$t.txt" 2>&1 & done
wait
for t in "${types[@]}"; do echo "$t: $(head -n 1 "$OUT/verify_$t.txt"): $(tail -n 1 "$OUT/verify_$t.txt")"; done
