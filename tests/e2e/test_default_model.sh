#!/usr/bin/env bash
# The shipped model (models/default.gguf, trained by scripts/train/train.py)
# against what its training run saved (tests/fixtures/kjv/ref): wgpt's
# logits within 1e-3 of the PyTorch reference (f16-exact weights, f32
# arithmetic), greedy continuations of 64 tokens equal to the reference's
# and to llama.cpp's (CPU) on the same file, and `wgpt tokenize` equal to the
# Hugging Face tokenizers library's ids on the whole validation text.
set -u
. tests/e2e/lib.sh
need_wgpt
exec $PY scripts/train/check_export.py tests/fixtures/kjv models/default.gguf --tol 1e-3
