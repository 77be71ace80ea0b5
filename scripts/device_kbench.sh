#!/usr/bin/env bash
# Runs on the GPU machine: the matrix-vector kernel harness (wgpt-kbench,
# carried in .devcarry/ beside wgpt and Dawn's library) on the shapes of a
# Llama-3.2-1B decode step, its table into $OUT/kbench.txt.
# usage: scripts/device_kbench.sh [wgpt-kbench options]   (default: every type, the 1B shapes)
set -u
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
export WGPT_WEBGPU_LIB=$PWD/.devcarry/libwebgpu_wrapper.so
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
nvidia-smi -L
.devcarry/wgpt-kbench "$@" | tee -a "$OUT/kbench.txt"
