/* Llama (Llama 2 and 3, 3.2 1B included): RMSNorm before each block, RoPE
 * in llama.cpp's NORMAL mode (adjacent pairs), SwiGLU; no biases. Llama 3.1
 * and later carry their rope scaling as per-pair divisors in rope_freqs. */
#include "models/decoder.h"

static const tensor_name llama_tensors[] = {
    {ROLE_TOKEN_EMBD, "token_embd.weight", TENSOR_REQUIRED},
    {ROLE_OUTPUT_NORM, "output_norm.weight", TENSOR_REQUIRED},
    {ROLE_OUTPUT, "output.weight", TENSOR_OPTIONAL},          /* absent: tied to the embedding */
    {ROLE_ROPE_FREQS, "rope_freqs.weight", TENSOR_OPTIONAL},
    {ROLE_ATTN_NORM, "blk.%d.attn_norm.weight", TENSOR_REQUIRED},
    {ROLE_ATTN_Q, "blk.%d.attn_q.weight", TENSOR_REQUIRED},
    {ROLE_ATTN_K, "blk.%d.attn_k.weight", TENSOR_REQUIRED},
    {ROLE_ATTN_V, "blk.%d.attn_v.weight", TENSOR_REQUIRED},
    {ROLE_ATTN_OUT, "blk.%d.attn_output.weight", TENSOR_REQUIRED},
    {ROLE_FFN_NORM, "blk.%d.ffn_norm.weight", TENSOR_REQUIRED},
    {ROLE_FFN_GATE, "blk.%d.ffn_gate.weight", TENSOR_REQUIRED},
    {ROLE_FFN_UP, "blk.%d.ffn_up.weight", TENSOR_REQUIRED},
    {ROLE_FFN_DOWN, "blk.%d.ffn_down.weight", TENSOR_REQUIRED},
};

const model_family family_llama = {
    .arch = "llama",
    .base = {.norm = NORM_RMS, .norm_at = NORM_PRE, .rope = ROPE_NORMAL, .ffn = FFN_SWIGLU},
    .tensors = llama_tensors,
    .n_tensors = sizeof llama_tensors / sizeof *llama_tensors,
};
