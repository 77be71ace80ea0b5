#!/usr/bin/env bash
# Runs on the GPU machine: one-token product shapes measured end to end.
# Each argument TYPE:TUNE[:VAR=VALUE] runs `wgpt bench -p 0 -n 128` on the
# 1B-shaped file of TYPE with WGPT_MV_TUNE=TUNE (src/graph/kernels.c: e.g.
# "mv.q4_0=k2;glu.q4_0=u8"; empty: the built-in shapes) and the variable
# VAR set (another experiment's switch), one line each into
# $OUT/mvtune.txt; the file is made if missing (scripts/make_llama1b.py).
# usage: scripts/device_mvtune.sh q4_0: q4_0:mv.q4_0=k1 f16:glu.f16=k2 q8_0::WGPT_X=1 ...
set -u
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig >/dev/null
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
export WGPT_WEBGPU_LIB=$PWD/.devcarry/libwebgpu_wrapper.so
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
for a in "$@"; do
  t=${a%%:*}; tune=${a#*:}; var=
  case $tune in *:*) var=${tune#*:}; tune=${tune%%:*} ;; esac
  m=/tmp/llama1b_$t.gguf
  [ -f "$m" ] || python3 scripts/make_llama1b.py --out "$m" --type "$t" --threads 16 >/dev/null
  r=$(env ${var:+"$var"} WGPT_MV_TUNE="$tune" .devcarry/wgpt bench -m "$m" -p 0 -n 128 -r 3 --json 2>&1 | grep -o '"tg_tok_s":[0-9.]*' | cut -d: -f2)
  printf '%-6s %-8s %s %s\n' "$t" "${r:-FAIL}" "${tune:-(built-in)}" "$var" | tee -a "$OUT/mvtune.txt"
done
