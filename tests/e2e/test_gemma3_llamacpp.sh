#!/usr/bin/env bash
# wgpt against llama.cpp (CPU, via node-llama-cpp) on tiny random Gemma 3
# (text) models in the GGUF form of llama.cpp's convert_hf_to_gguf.py
# (Gemma3Model), written by llama.cpp's own gguf-py
# (scripts/make_tiny_gpt2_gemma3.py): the embedding times sqrt(dim),
# RMSNorm weights holding 1 + w, norms before and after attention and the
# feed-forward, per-head q/k norms, GeGLU (tanh GELU), head_dim 32 != dim /
# heads 16, grouped-query attention; 7 layers with a sliding window of 16
# on layers 0-4 and 6 (llama.cpp's default pattern of 6: layer 5 global)
# and RoPE base 1e4 there, 1e6 on the global layer; 32 greedy tokens
# after each prompt (the BF16 model's prompt, 23 tokens, is itself longer
# than the window, so its prefill is masked inside one batch) and a logits
# text of 182 tokens, all far past the window; final logit
# soft-capping on the F32 model; F32, F16, BF16, Q8_0 and Q4_0; tied and untied
# output; SentencePiece-style vocabulary with BOS, no space prefix.
# Per model (tests/e2e/tiny_family_lib.sh): as test_gpt2_llamacpp.sh, with
# the mistakes no window, one RoPE base, no embedding scale, no post-norms,
# SwiGLU for GeGLU and every layer windowed.
#
# Tolerances: llama.cpp's CPU GELU reads a table at f16-rounded inputs
# (ggml-cpu/vec.h, GGML_GELU_FP16) and returns f16 values, and its KV cache
# is f16; with Gemma's sharp q/k-normed attention that puts llama.cpp 1.4e-3
# to 1.8e-3 of the logit scale from the exact forward on the F32 and F16
# models here (wgpt: 2e-6 from it), over compare_logits.py's 1e-3 and near
# its 2e-3. F32 and F16 get 3e-3; BF16's 1e-2 and the quantized types' 3e-2
# already hold it. The F16 model's attention is softer (--qk-norm 0.8):
# at the default 1.5 llama.cpp's f16 rounding reaches 5.8e-3.
# Exits 77 only when node or node-llama-cpp is missing.
set -uo pipefail
cd "$(dirname "$0")/../.." && . scripts/env.sh
. tests/e2e/oracle_lib.sh
. tests/e2e/tiny_family_lib.sh
TOL_MAX_f32=3e-3 TOL_RMS_f32=3e-3 TOL_MAX_f16=3e-3 TOL_RMS_f16=3e-3

TEXT='Once upon a time there was a little girl who lived in a village near the forest. Whenever she went out, the little girl wore a red riding cloak, so everyone in the village called her Little Red Riding Hood. One morning, she asked her mother if she could go to visit her grandmother, as it had been a while since they had seen each other.
The quick brown fox jumps over the lazy dog. What is the capital of France? The capital of France is Paris, and the meaning of life is 42.'

# type|seed|flags|prompt. Seeds picked (numpy forward, then llama.cpp) for
# greedy paths that are decisive for the tolerance, run the full 32 tokens
# and are no short loop. F32 soft-caps at 15, well inside its logits' range
# (about 20), so the cap bends them. The others need a strong successor
# structure (--bigram 16: Gemma's untied embedding is small, 1/sqrt(dim))
# and post-norms that let the blocks move the residual stream less
# (--block-scale): their tolerance is 1e-2 (BF16) and 3e-2 of the logit scale.
family_run gemma3 512 "$TEXT" \
  "f32|1|--softcap 15|The capital of France is" \
  "f16|10|--tied --qk-norm 0.8|Once upon a time, there was a little girl" \
  "bf16|2|--bigram 16 --block-scale 0.3|The quick brown fox jumps over the lazy dog" \
  "q8_0|2|--bigram 16 --block-scale 0.2|One morning, she asked her mother" \
  "q4_0|1|--bigram 16 --block-scale 0.2|Little Red Riding Hood went to the village"
