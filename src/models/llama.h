/* The Llama architecture (Llama 2/3, and the shape Qwen and others share):
 * RMSNorm, RoPE, grouped-query attention with a KV cache, SwiGLU. */
#ifndef WGPT_MODELS_LLAMA_H
#define WGPT_MODELS_LLAMA_H

#include <stddef.h>
#include <stdint.h>

#include "formats/gguf.h"

typedef struct {
    int n_vocab;
    int dim;           /* embedding_length */
    int n_layers;      /* block_count */
    int n_heads;
    int n_kv_heads;
    int head_dim;      /* dim / n_heads unless key_length says otherwise */
    int hidden_dim;    /* feed_forward_length */
    int n_ctx_train;   /* context_length */
    float norm_eps;    /* attention.layer_norm_rms_epsilon */
    float rope_theta;  /* rope.freq_base */
    int rope_dim;      /* rope.dimension_count (defaults to head_dim) */
    float rope_linear_scale; /* positions are divided by this (1 = none) */
    int has_rope_freqs;      /* Llama 3 rope scaling: rope_freqs.weight holds per-pair divisors */
    int tied_output;         /* no output.weight: the token embedding is reused */
} llama_config;

/* Reads hyperparameters from GGUF metadata (never from constants) and checks
 * that every tensor the architecture needs is present with the right shape.
 * Returns 0, or -1 with a one-line reason. */
int llama_config_from_gguf(const gguf_file *g, llama_config *c, char *err, size_t errlen);

/* Activation capture, shared by the GPU forward and the CPU reference so the
 * two can be compared layer by layer. `layer` is -1 for non-layer points.
 * data is row-major [n_tokens][width]. Names, in forward order:
 *   embed; per layer: attn_norm, q, k, v (q and k after RoPE), attn (before
 *   the output projection), attn_res (residual after attention), ffn_norm,
 *   ffn_act (silu(gate)*up), layer_out; then out_norm, logits. */
typedef void (*llama_capture_fn)(void *user, const char *name, int layer,
                                 const float *data, int n_tokens, int width);

/* The plain C reference forward pass on the CPU: f32, obvious code. */
typedef struct llama_ref llama_ref;
int llama_ref_build(const gguf_file *g, const llama_config *c, int max_ctx,
                    llama_ref **out, char *err, size_t errlen);
void llama_ref_free(llama_ref *r);
/* Runs n tokens at positions pos0..pos0+n-1 (KV cache kept between calls).
 * logits: [n][n_vocab], or NULL. capture may be NULL. Returns 0 or -1. */
int llama_ref_forward(llama_ref *r, const int32_t *tokens, int n, int pos0, float *logits,
                      llama_capture_fn capture, void *user, char *err, size_t errlen);

#endif
