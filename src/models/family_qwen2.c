/* Qwen 2 and 2.5: Llama's layer with biases on the Q, K and V projections,
 * and RoPE in llama.cpp's NEOX mode (each head's first half turns against
 * its second half). llama.cpp takes the biases as optional; so do we. */
#include "models/decoder.h"

static const tensor_name qwen2_tensors[] = {
    {ROLE_TOKEN_EMBD, "token_embd.weight", TENSOR_REQUIRED},
    {ROLE_OUTPUT_NORM, "output_norm.weight", TENSOR_REQUIRED},
    {ROLE_OUTPUT, "output.weight", TENSOR_OPTIONAL},          /* absent: tied (Qwen2.5 0.5B) */
    {ROLE_ATTN_NORM, "blk.%d.attn_norm.weight", TENSOR_REQUIRED},
    {ROLE_ATTN_Q, "blk.%d.attn_q.weight", TENSOR_REQUIRED},
    {ROLE_ATTN_K, "blk.%d.attn_k.weight", TENSOR_REQUIRED},
    {ROLE_ATTN_V, "blk.%d.attn_v.weight", TENSOR_REQUIRED},
    {ROLE_ATTN_Q_BIAS, "blk.%d.attn_q.bias", TENSOR_OPTIONAL},
    {ROLE_ATTN_K_BIAS, "blk.%d.attn_k.bias", TENSOR_OPTIONAL},
    {ROLE_ATTN_V_BIAS, "blk.%d.attn_v.bias", TENSOR_OPTIONAL},
    {ROLE_ATTN_OUT, "blk.%d.attn_output.weight", TENSOR_REQUIRED},
    {ROLE_FFN_NORM, "blk.%d.ffn_norm.weight", TENSOR_REQUIRED},
    {ROLE_FFN_GATE, "blk.%d.ffn_gate.weight", TENSOR_REQUIRED},
    {ROLE_FFN_UP, "blk.%d.ffn_up.weight", TENSOR_REQUIRED},
    {ROLE_FFN_DOWN, "blk.%d.ffn_down.weight", TENSOR_REQUIRED},
};

const model_family family_qwen2 = {
    .arch = "qwen2",
    .base = {.norm = NORM_RMS, .norm_at = NORM_PRE, .rope = ROPE_NEOX, .ffn = FFN_SWIGLU},
    .tensors = qwen2_tensors,
    .n_tensors = sizeof qwen2_tensors / sizeof *qwen2_tensors,
};
