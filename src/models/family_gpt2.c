/* GPT-2: learned positions added to the token embedding, LayerNorm (with
 * bias) before each block, Q, K and V stacked in one matrix (c_attn, with
 * bias), biases on every projection, GELU (tanh form) between the two
 * feed-forward matrices, no RoPE. output.weight where the file has one,
 * else the embedding (tied, as GPT-2's checkpoints are). llama.cpp's
 * src/models/gpt2.cpp. */
#include "models/decoder.h"

static const tensor_name gpt2_tensors[] = {
    {ROLE_TOKEN_EMBD, "token_embd.weight", TENSOR_REQUIRED},
    {ROLE_POS_EMBD, "position_embd.weight", TENSOR_REQUIRED},
    {ROLE_OUTPUT_NORM, "output_norm.weight", TENSOR_REQUIRED},
    {ROLE_OUTPUT_NORM_BIAS, "output_norm.bias", TENSOR_REQUIRED},
    {ROLE_OUTPUT, "output.weight", TENSOR_OPTIONAL},
    {ROLE_ATTN_NORM, "blk.%d.attn_norm.weight", TENSOR_REQUIRED},
    {ROLE_ATTN_NORM_BIAS, "blk.%d.attn_norm.bias", TENSOR_REQUIRED},
    {ROLE_ATTN_QKV, "blk.%d.attn_qkv.weight", TENSOR_REQUIRED},
    {ROLE_ATTN_QKV_BIAS, "blk.%d.attn_qkv.bias", TENSOR_REQUIRED},
    {ROLE_ATTN_OUT, "blk.%d.attn_output.weight", TENSOR_REQUIRED},
    {ROLE_ATTN_OUT_BIAS, "blk.%d.attn_output.bias", TENSOR_REQUIRED},
    {ROLE_FFN_NORM, "blk.%d.ffn_norm.weight", TENSOR_REQUIRED},
    {ROLE_FFN_NORM_BIAS, "blk.%d.ffn_norm.bias", TENSOR_REQUIRED},
    {ROLE_FFN_UP, "blk.%d.ffn_up.weight", TENSOR_REQUIRED},
    {ROLE_FFN_UP_BIAS, "blk.%d.ffn_up.bias", TENSOR_REQUIRED},
    {ROLE_FFN_DOWN, "blk.%d.ffn_down.weight", TENSOR_REQUIRED},
    {ROLE_FFN_DOWN_BIAS, "blk.%d.ffn_down.bias", TENSOR_REQUIRED},
};

const model_family family_gpt2 = {
    .arch = "gpt2",
    .base = {.norm = NORM_LAYER, .norm_at = NORM_PRE, .rope = ROPE_NONE, .ffn = FFN_GELU, .learned_pos = 1},
    .tensors = gpt2_tensors,
    .n_tensors = sizeof gpt2_tensors / sizeof *gpt2_tensors,
};
