#!/usr/bin/env bash
# `make demo`: the default model (models/default.gguf, a small Llama trained
# on the King James Bible) continues a prompt on the GPU — SwiftShader on a
# machine without one. The speed summary goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
prompt="And it came to pass"
echo "demo: wgpt run -p \"$prompt\" -n 96 --temp 0.8 --top-k 40 --top-p 0.95 --repeat-penalty 1.1 --seed 3" >&2
echo >&2
printf '%s' "$prompt"
build/wgpt run -p "$prompt" -n 96 --temp 0.8 --top-k 40 --top-p 0.95 --repeat-penalty 1.1 --seed 3 -v
