#!/usr/bin/env bash
# Runs on the GPU machine (as scripts/device_bench.sh, whose setup it
# shares): prompt processing (pp512) of llama.cpp's Vulkan backend on the
# Llama-3.2-1B-shaped random F16, Q8_0 and Q4_0 files three ways, twice
# each, beside wgpt's: as it runs by default (NV_coopmat2, the tensor
# cores), without matrix cores (GGML_VK_DISABLE_COOPMAT, _COOPMAT2: f16
# arithmetic and 8-bit integer dot products left), and without f16
# arithmetic too (GGML_VK_DISABLE_F16): what the WebGPU wgpt runs on offers
# on an NVIDIA GPU (Dawn turns shader-f16 off there and offers no subgroup
# matrices). The line llama.cpp prints about its device, saying which
# features it took, goes to $OUT/llamacpp_modes.txt.
#   scripts/device_pp_features.sh [TYPES...]   (default: f16 q8_0 q4_0)
set -u
cd "$(dirname "$0")/.."
. scripts/device_env.sh
B=.devcarry/llamacpp-vulkan.tar.xz
types=("$@"); [ ${#types[@]} -gt 0 ] || types=(f16 q8_0 q4_0)
for t in "${types[@]}"; do
  m=/tmp/llama1b_$t.gguf
  [ -f "$m" ] || python3 scripts/make_llama1b.py --out "$m" --type "$t" --threads 16 >/dev/null
  for mode in default nocoopmat nocoopmat_nof16; do
    case $mode in
      default) E=() ;;
      nocoopmat) E=(GGML_VK_DISABLE_COOPMAT=1 GGML_VK_DISABLE_COOPMAT2=1) ;;
      nocoopmat_nof16) E=(GGML_VK_DISABLE_COOPMAT=1 GGML_VK_DISABLE_COOPMAT2=1 GGML_VK_DISABLE_F16=1) ;;
    esac
    for i in 1 2; do
      env "${E[@]}" scripts/device_llamacpp.sh "$B" "$m" 512 0 2>"/tmp/lc_${t}_${mode}_$i.err" |
        sed "s/^{/{\"mode\":\"$mode\",/" | tee -a "$OUT/llamacpp_modes.jsonl"
    done
    grep -h "ggml_vulkan: 0" "/tmp/lc_${t}_${mode}_1.err" | head -1 | tee -a "$OUT/llamacpp_modes.txt"
  done
  $W bench -m "$m" -p 512 -n 0 -r 3 --json | tee -a "$OUT/llamacpp_modes.jsonl"
done
