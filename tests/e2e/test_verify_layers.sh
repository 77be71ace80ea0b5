#!/usr/bin/env bash
# Layer-by-layer match of the GPU forward against the CPU reference, for
# every weight type, with and without grouped-query attention, tied and
# untied output, Llama 3 rope scaling, and weights split over several GPU
# buffers; then the same for Qwen 2 (Q/K/V biases, NEOX RoPE) and Qwen 3
# (q/k norm per head, a head size other than dim/heads, NEOX RoPE).
# `wgpt verify` names the first activation out of tolerance.
set -u
. tests/e2e/lib.sh
need_wgpt
fail=0
for t in f32 f16 q8_0 q4_0 bf16; do
  verify_check "$t gqa"        "$(tiny_model v_${t}_gqa --type $t --seed 11 --heads 4 --kv-heads 2)"
  verify_check "$t mha tied"   "$(tiny_model v_${t}_mha_tied --type $t --seed 12 --heads 4 --kv-heads 4 --tied)"
done
verify_check "f32 rope-freqs" "$(tiny_model v_f32_ropefreqs --type f32 --seed 13 --rope-freqs)"
# Force every matrix over 4 KiB into several buffers: the split path must give the same activations.
verify_check "q8_0 split"     "$(tiny_model v_q8_0_gqa --type q8_0 --seed 11 --heads 4 --kv-heads 2)" --max-binding 4096
verify_check "f16 split tied" "$(tiny_model v_f16_mha_tied --type f16 --seed 12 --heads 4 --kv-heads 4 --tied)" --max-binding 2048
verify_check "bf16 split"     "$(tiny_model v_bf16_gqa --type bf16 --seed 11 --heads 4 --kv-heads 2)" --max-binding 4096
# The workgroup-memory reduction variant, used where subgroups are absent or vary in size.
# Prompt passes of several tiles of matmul.wgsl (64 tokens), the last one partial: ~180 tokens in passes of 100.
LONG=$(for i in 0 1 2 3 4; do printf 'The quick brown fox jumps over the lazy dog, and then it runs away %d. ' $i; done)
verify_check "q4_0 prompt in tiles"  "$(tiny_model v_q4_0_gqa --type q4_0 --seed 11 --heads 4 --kv-heads 2)" -p "$LONG" --batch 100
verify_check "f16 prompt in tiles"   "$(tiny_model v_f16_mha_tied --type f16 --seed 12 --heads 4 --kv-heads 4 --tied)" -p "$LONG" --batch 100
WGPT_NO_SUBGROUPS=1 verify_check "q4_0 tree reductions" "$(tiny_model v_q4_0_gqa --type q4_0 --seed 11 --heads 4 --kv-heads 2)"
for t in f32 f16 q8_0 q4_0 bf16; do
  verify_check "qwen2 $t gqa"     "$(tiny_model v_qwen2_${t}_gqa --arch qwen2 --type $t --seed 21 --heads 4 --kv-heads 2)"
  verify_check "qwen3 $t head 32" "$(tiny_model v_qwen3_${t}_hd32 --arch qwen3 --type $t --seed 22 --heads 4 --kv-heads 2 --head-dim 32)"
done
verify_check "qwen2 f16 mha tied" "$(tiny_model v_qwen2_f16_tied --arch qwen2 --type f16 --seed 23 --heads 4 --kv-heads 4 --tied)"
verify_check "qwen2 q8_0 split"   "$(tiny_model v_qwen2_q8_0_gqa --arch qwen2 --type q8_0 --seed 21 --heads 4 --kv-heads 2)" --max-binding 4096
verify_check "qwen3 f32 split"    "$(tiny_model v_qwen3_f32_hd32 --arch qwen3 --type f32 --seed 22 --heads 4 --kv-heads 2 --head-dim 32)" --max-binding 2048
verify_check "qwen2 q8_0 prompt in tiles" "$(tiny_model v_qwen2_q8_0_gqa --arch qwen2 --type q8_0 --seed 21 --heads 4 --kv-heads 2)" -p "$LONG" --batch 100
WGPT_NO_SUBGROUPS=1 verify_check "qwen3 q4_0 tree reductions" "$(tiny_model v_qwen3_q4_0_hd32 --arch qwen3 --type q4_0 --seed 22 --heads 4 --kv-heads 2 --head-dim 32)"
exit $fail
