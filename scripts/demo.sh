#!/usr/bin/env bash
# `make demo`: runs the default model on the GPU (SwiftShader where there is none).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
model=models/default.gguf
if [ ! -f "$model" ]; then
  # No trained default model yet (issue 3): a small random-weight one shows the pipeline works.
  mkdir -p build/testmodels
  model=build/testmodels/demo_random_q8_0.gguf
  [ -f "$model" ] || /usr/bin/python3 scripts/make_tiny_llama.py --out "$model" --type q8_0 --seed 1 \
      --dim 128 --layers 4 --heads 4 --kv-heads 2 --ffn 384 --ctx 512 >/dev/null
  echo "demo: no trained default model in models/ yet — running a RANDOM-WEIGHT model ($model); its text is noise." >&2
fi
prompt="Once upon a time"
echo "demo: wgpt run -m $model -p \"$prompt\" -n 48 --temp 0" >&2
build/wgpt run -m "$model" -p "$prompt" -n 48 --temp 0 -v
