/* Gemma 3 (text): the embedding times sqrt(dim); RMSNorm before and after
 * each block (the norm weights in the file already hold Gemma's 1 + w: the
 * converter adds the 1); per-head q/k RMSNorm before NEOX RoPE; GeGLU (GELU,
 * tanh form, of the gate times up); its own head size (key_length). Layers
 * attend through a sliding window with RoPE base rope.freq_base_swa, except
 * every sixth (l % 6 == 5), which sees everything with rope.freq_base.
 * Final logits soft-capped only when the file says so. llama.cpp's
 * src/models/gemma3.cpp. */
#include "models/decoder.h"

static const tensor_name gemma3_tensors[] = {
    {ROLE_TOKEN_EMBD, "token_embd.weight", TENSOR_REQUIRED},
    {ROLE_OUTPUT_NORM, "output_norm.weight", TENSOR_REQUIRED},
    {ROLE_OUTPUT, "output.weight", TENSOR_OPTIONAL},          /* absent: tied (every Gemma 3) */
    {ROLE_ATTN_NORM, "blk.%d.attn_norm.weight", TENSOR_REQUIRED},
    {ROLE_ATTN_Q, "blk.%d.attn_q.weight", TENSOR_REQUIRED},
    {ROLE_ATTN_K, "blk.%d.attn_k.weight", TENSOR_REQUIRED},
    {ROLE_ATTN_V, "blk.%d.attn_v.weight", TENSOR_REQUIRED},
    {ROLE_ATTN_Q_NORM, "blk.%d.attn_q_norm.weight", TENSOR_REQUIRED},
    {ROLE_ATTN_K_NORM, "blk.%d.attn_k_norm.weight", TENSOR_REQUIRED},
    {ROLE_ATTN_OUT, "blk.%d.attn_output.weight", TENSOR_REQUIRED},
    {ROLE_ATTN_POST_NORM, "blk.%d.post_attention_norm.weight", TENSOR_REQUIRED},
    {ROLE_FFN_NORM, "blk.%d.ffn_norm.weight", TENSOR_REQUIRED},
    {ROLE_FFN_GATE, "blk.%d.ffn_gate.weight", TENSOR_REQUIRED},
    {ROLE_FFN_UP, "blk.%d.ffn_up.weight", TENSOR_REQUIRED},
    {ROLE_FFN_DOWN, "blk.%d.ffn_down.weight", TENSOR_REQUIRED},
    {ROLE_FFN_POST_NORM, "blk.%d.post_ffw_norm.weight", TENSOR_REQUIRED},
};

const model_family family_gemma3 = {
    .arch = "gemma3",
    .base = {.norm = NORM_RMS, .norm_at = NORM_PRE_POST, .rope = ROPE_NEOX, .ffn = FFN_GEGLU, .scale_embed = 1,
             .swa_period = 6},
    .tensors = gemma3_tensors,
    .n_tensors = sizeof gemma3_tensors / sizeof *gemma3_tensors,
};
