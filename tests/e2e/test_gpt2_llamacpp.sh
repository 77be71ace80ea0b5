#!/usr/bin/env bash
# wgpt against llama.cpp (CPU, via node-llama-cpp) on tiny random GPT-2
# models in the GGUF form of llama.cpp's convert_hf_to_gguf.py (GPT2Model),
# written by llama.cpp's own gguf-py (scripts/make_tiny_gpt2_gemma3.py):
# learned positions (position_embd, F32), LayerNorm with bias, Q/K/V stacked
# in attn_qkv with its bias, biases on attn_output, ffn_up and ffn_down,
# GELU (tanh); F32, F16, BF16, Q8_0 and Q4_0; tied and untied output;
# byte-level BPE vocabulary with the "gpt-2" pre-tokenizer.
# Per model (tests/e2e/tiny_family_lib.sh): llama.cpp's 32 greedy ids equal
# a float64 numpy forward's (tests/oracle/numpy_gpt2_gemma3.py), its logits
# are within compare_logits.py's tolerance of it, every greedy step is
# decided by more than the tolerance can flip, the deliberate mistakes (no
# positions, no QKV bias, RMSNorm for LayerNorm) fall outside it; then
# wgpt's tokenize, 32 greedy ids, logits and `wgpt verify` (GPU against the
# CPU reference, layer by layer).
# Exits 77 only when node or node-llama-cpp is missing.
set -uo pipefail
cd "$(dirname "$0")/../.." && . scripts/env.sh
. tests/e2e/oracle_lib.sh
. tests/e2e/tiny_family_lib.sh

TEXT='Once upon a time there was a little girl who lived in a village near the forest. Whenever she went out, the little girl wore a red riding cloak, so everyone in the village called her Little Red Riding Hood. One morning, she asked her mother if she could go to visit her grandmother, as it had been a while since they had seen each other.
The quick brown fox jumps over the lazy dog. "Café?" she said — 3€ only! What is the capital of France? The capital of France is Paris, and the meaning of life is 42. I'"'"'m sure they'"'"'ll say 1234567.'

# type|seed|flags|prompt. Seeds picked (numpy forward, then llama.cpp) for
# greedy paths that are decisive for the tolerance, run the full 32 tokens
# and are no short loop; the quantized ones need a strong successor
# structure (--bigram 2) and blocks that move the residual stream less
# (--block-scale 0.3): their tolerance is 3e-2 of the logit scale.
family_run gpt2 512 "$TEXT" \
  "f32|6|--tied|The capital of France is" \
  "f16|5||Once upon a time, there was a little girl" \
  "bf16|4|--block-scale 0.5|I'm sure they'll say 42, won't they?" \
  "q8_0|1|--bigram 2 --block-scale 0.3|Hello, world!
Café au lait costs 3€." \
  "q4_0|1|--bigram 2 --block-scale 0.3|We hold these truths to be self-evident"
