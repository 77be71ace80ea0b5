/* Qwen 3 (dense): no biases, but an RMSNorm over each head of Q and of K
 * (attn_q_norm, attn_k_norm: one weight of head_dim shared by the heads)
 * before NEOX-mode RoPE. Its head size is its own (attention.key_length:
 * 128 for Qwen3-0.6B, whose dim / heads is 64). */
#include "models/decoder.h"

static const tensor_name qwen3_tensors[] = {
    {ROLE_TOKEN_EMBD, "token_embd.weight", TENSOR_REQUIRED},
    {ROLE_OUTPUT_NORM, "output_norm.weight", TENSOR_REQUIRED},
    {ROLE_OUTPUT, "output.weight", TENSOR_OPTIONAL},          /* absent: tied (Qwen3-0.6B) */
    {ROLE_ATTN_NORM, "blk.%d.attn_norm.weight", TENSOR_REQUIRED},
    {ROLE_ATTN_Q, "blk.%d.attn_q.weight", TENSOR_REQUIRED},
    {ROLE_ATTN_K, "blk.%d.attn_k.weight", TENSOR_REQUIRED},
    {ROLE_ATTN_V, "blk.%d.attn_v.weight", TENSOR_REQUIRED},
    {ROLE_ATTN_Q_NORM, "blk.%d.attn_q_norm.weight", TENSOR_REQUIRED},
    {ROLE_ATTN_K_NORM, "blk.%d.attn_k_norm.weight", TENSOR_REQUIRED},
    {ROLE_ATTN_OUT, "blk.%d.attn_output.weight", TENSOR_REQUIRED},
    {ROLE_FFN_NORM, "blk.%d.ffn_norm.weight", TENSOR_REQUIRED},
    {ROLE_FFN_GATE, "blk.%d.ffn_gate.weight", TENSOR_REQUIRED},
    {ROLE_FFN_UP, "blk.%d.ffn_up.weight", TENSOR_REQUIRED},
    {ROLE_FFN_DOWN, "blk.%d.ffn_down.weight", TENSOR_REQUIRED},
};

const model_family family_qwen3 = {
    .arch = "qwen3",
    .base = {.norm = NORM_RMS, .norm_at = NORM_PRE, .rope = ROPE_NEOX, .ffn = FFN_SWIGLU},
    .tensors = qwen3_tensors,
    .n_tensors = sizeof qwen3_tensors / sizeof *qwen3_tensors,
};
