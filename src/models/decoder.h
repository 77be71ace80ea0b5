/* A decoder-only transformer described as data. A model family (Llama,
 * Qwen 2, Qwen 3, ...) is a decoder_config template holding the switches it
 * differs by, plus a table naming its tensors by role (family_*.c: the only
 * place a family's tensor names appear). One GPU forward (decoder_gpu.c)
 * and one CPU reference (decoder_ref.c) are driven by the config; shapes
 * follow from the config and the role, never from the family.
 *
 * The layer, as every family here builds it (llama.cpp's build_norm,
 * build_attn, build_ffn):
 *   x = embed[id] (* sqrt(dim)) (+ pos_embd[pos])
 *   x += post_norm(Wo attention(rope(qk_norm(Wq h + bq)), rope(qk_norm(Wk h + bk)), Wv h + bv) + bo),  h = norm(x)
 *   x += post_norm(Wdown act(Wgate h, Wup h + bup) + bdown),                                         h = norm(x)
 *   logits = softcap(Wout norm(x))
 * with the bias, q/k-norm, post-norm and positional terms only where the
 * family's file has them; norm is RMSNorm or LayerNorm (with bias), act
 * silu(gate) * up, gelu(gate) * up or gelu(up), RoPE's pairing or none by
 * the family's switches; Q, K, V may come stacked in one matrix (GPT-2). */
#ifndef WGPT_MODELS_DECODER_H
#define WGPT_MODELS_DECODER_H

#include <stddef.h>
#include <stdint.h>

#include "formats/gguf.h"
#include "wgpt.h"

typedef enum { NORM_RMS, NORM_LAYER } norm_kind;
typedef enum {
    NORM_PRE,      /* h = norm(x) before each block */
    NORM_PRE_POST, /* and the block's output normed again before the residual add (Gemma 2/3) */
} norm_place;
typedef enum {
    ROPE_NORMAL, /* llama.cpp's NORMAL: pairs (2i, 2i+1) of a head turn together */
    ROPE_NEOX,   /* NEOX: pairs (i, i + rope_dim/2) */
    ROPE_NONE,   /* no rotary embedding (GPT-2's learned positions instead) */
} rope_mode;
typedef enum { FFN_SWIGLU, FFN_GEGLU, FFN_GELU } ffn_kind;

typedef struct model_family model_family;

/* What a tensor is to the decoder, whatever a family calls it. Its shape
 * follows from the role and the config (decoder_role_shape). */
typedef enum {
    ROLE_TOKEN_EMBD, ROLE_OUTPUT_NORM, ROLE_OUTPUT, ROLE_ROPE_FREQS,
    ROLE_POS_EMBD,         /* learned positions: [n_ctx_train][dim] (GPT-2) */
    ROLE_OUTPUT_NORM_BIAS, /* LayerNorm's bias */
    /* per layer */
    ROLE_ATTN_NORM, ROLE_ATTN_Q, ROLE_ATTN_K, ROLE_ATTN_V, ROLE_ATTN_Q_BIAS, ROLE_ATTN_K_BIAS, ROLE_ATTN_V_BIAS,
    ROLE_ATTN_Q_NORM, ROLE_ATTN_K_NORM, ROLE_ATTN_OUT, ROLE_FFN_NORM, ROLE_FFN_GATE, ROLE_FFN_UP, ROLE_FFN_DOWN,
    ROLE_ATTN_NORM_BIAS, ROLE_FFN_NORM_BIAS,
    ROLE_ATTN_QKV,         /* Q, K and V stacked: [q_dim + 2 kv_dim][dim] (GPT-2's c_attn) */
    ROLE_ATTN_QKV_BIAS,
    ROLE_ATTN_OUT_BIAS, ROLE_FFN_UP_BIAS, ROLE_FFN_DOWN_BIAS,
    ROLE_ATTN_POST_NORM, ROLE_FFN_POST_NORM, /* a block's output normed before the residual add (Gemma 3) */
    ROLE_COUNT
} tensor_role;
#define ROLE_FIRST_LAYER ROLE_ATTN_NORM


typedef struct {
    const model_family *family;
    /* the switches: a family's template sets them */
    norm_kind norm;
    norm_place norm_at;
    rope_mode rope;
    ffn_kind ffn;
    int scale_embed;       /* the embedding times sqrt(dim) (Gemma); embed_scale holds the factor */
    int learned_pos;       /* a position embedding added to the token's (GPT-2) */
    int swa_period;        /* with a window: layer l is global when l % swa_period == swa_period - 1
                              (llama.cpp's set_swa_pattern; Gemma 3: 6); 0: all windowed */
    /* Not implemented: a model that turns it on is refused by name
     * (decoder_config_from_gguf), not run wrongly. */
    float attn_softcap;    /* 0: none; tanh soft-capping of attention scores (Gemma 2) */

    /* from the file, for the switches above */
    float embed_scale;     /* 1, or sqrt(dim) with scale_embed */
    int sliding_window;    /* <arch>.attention.sliding_window: 0 none; else keys a windowed layer sees
                              (the query's own position and the window - 1 before it) */
    float rope_theta_swa;  /* rope.freq_base_swa (llama.cpp's default 10000): windowed layers' base,
                              without the linear scaling of the global ones */
    float final_softcap;   /* final_logit_softcapping: logits = c tanh(logits / c); 0 none */
    float attn_scale;      /* the attention's score scale: attention.scale when the file has one,
                              else llama.cpp's rule (1/sqrt(head_dim); Gemma 3 27B 1/sqrt(dim/heads)) */

    /* hyperparameters, from the file */
    int n_vocab;
    int dim;           /* embedding_length */
    int n_layers;      /* block_count */
    int n_heads;
    int n_kv_heads;
    int head_dim;      /* attention.key_length, else dim / n_heads */
    int hidden_dim;    /* feed_forward_length */
    int n_ctx_train;   /* context_length */
    float norm_eps;    /* attention.layer_norm_rms_epsilon */
    float rope_theta;  /* rope.freq_base */
    int rope_dim;      /* rope.dimension_count (defaults to head_dim): partial rotary below it */
    float rope_linear_scale; /* positions are divided by this (1 = none) */

    /* which optional tensors the file has (by tensor role; per-layer roles
     * are in every layer or in none) */
    uint8_t has[ROLE_COUNT];
    int has_rope_freqs;      /* Llama 3 rope scaling: a ROLE_ROPE_FREQS tensor holds per-pair divisors */
    int tied_output;         /* no output.weight: the token embedding is reused */
} decoder_config;

typedef enum { TENSOR_REQUIRED, TENSOR_OPTIONAL } tensor_need;
/* One row of a family's table. A per-layer name has one %d, the layer. */
typedef struct { tensor_role role; const char *name; tensor_need need; } tensor_name;

struct model_family {
    const char *arch;            /* general.architecture */
    decoder_config base;         /* the switches; hyperparameters are read over it */
    const tensor_name *tensors;  /* every tensor the family has; anything else is refused */
    int n_tensors;
};

/* The registry: a family by its general.architecture; NULL if unknown. */
const model_family *family_find(const char *arch, size_t len);
/* "llama, qwen2, qwen3, ..." */
const char *family_list(void);

/* Reads the family from general.architecture, the hyperparameters from the
 * metadata (never from constants), and checks that the tensor directory
 * holds exactly the tensors they imply. WGPT_OK, or WGPT_ERR_FORMAT /
 * WGPT_ERR_UNSUPPORTED with a one-line reason. */
wgpt_status decoder_config_from_gguf(const gguf_file *g, decoder_config *c, char *err, size_t errlen);

/* WGPT_ERR_UNSUPPORTED, naming the switch, for a config that turns on one
 * the engine does not implement yet (the "not yet" fields above); both
 * forwards refuse such a config. */
wgpt_status decoder_check_supported(const decoder_config *c, char *err, size_t errlen);

/* [ne0, ne1] of a role's tensor (ne1 = 1 for a vector); returns n_dims. */
int decoder_role_shape(const decoder_config *c, tensor_role role, uint64_t ne[2]);
/* A tensor's name (layer ignored for global roles) into buf; NULL if the
 * family has no such role. */
/* Whether layer l attends through the sliding window (else to every
 * earlier position). */
int decoder_layer_windowed(const decoder_config *c, int l);

const char *decoder_tensor_name(const decoder_config *c, tensor_role role, int layer, char *buf, size_t cap);
/* The role and layer (-1 for global) of a tensor name; -1 if the family
 * has no tensor of that name (or the layer is out of range). */
int decoder_role_of(const decoder_config *c, const char *name, size_t len, tensor_role *role, int *layer);

/* Activation capture, shared by the GPU forward and the CPU reference so the
 * two can be compared layer by layer. `layer` is -1 for non-layer points.
 * data is row-major [n_tokens][width]. Names, in forward order:
 *   embed; per layer: attn_norm, (q_normed, k_normed with q/k norm: the
 *   reference only, as the GPU turns q and k in the head norm's dispatch,
 *   so its normed values are checked after RoPE, as q and k), q, k,
 *   v (q and k after RoPE), attn (before the output projection), attn_res
 *   (residual after attention), ffn_norm, ffn_act (the activation:
 *   silu(gate)*up, gelu(gate)*up or gelu(up)), layer_out; then out_norm,
 *   logits (after any soft-capping). */
typedef void (*decoder_capture_fn)(void *user, const char *name, int layer, const float *data, int n_tokens,
                                   int width);

/* The plain C reference forward pass on the CPU: f32, obvious code, with
 * the weights dequantized exactly. One call is one step, as on the GPU: in a
 * call of n >= 2 tokens, the products with Q8_0 and Q4_0 matrices
 * (quant_int8_matmul) take each input row as q8 activations
 * (quantize_act_q8_fake), as the GPU's int8 matrix-matrix kernel does; the
 * LM head's too, for all n rows, as a GPU step that keeps every row's logits
 * (logits_all) computes them. A call of one token keeps f32 activations (the
 * GPU's one-token kernels). So the same tokens in other batchings can differ
 * on those types. */
typedef struct decoder_ref decoder_ref;
int decoder_ref_build(const gguf_file *g, const decoder_config *c, int max_ctx, decoder_ref **out, char *err,
                      size_t errlen);
void decoder_ref_free(decoder_ref *r);
/* Runs n tokens at positions pos0..pos0+n-1 (KV cache kept between calls).
 * logits: [n][n_vocab], or NULL. capture may be NULL. Returns 0 or -1. */
int decoder_ref_forward(decoder_ref *r, const int32_t *tokens, int n, int pos0, float *logits,
                        decoder_capture_fn capture, void *user, char *err, size_t errlen);
/* Another engine's activation (name, layer) over a step of n_tokens tokens,
 * n_tokens x width floats as it captured them, or NULL where it has none. */
typedef const float *(*decoder_input_fn)(void *user, const char *name, int layer, int n_tokens, int width);
/* From now on, a product that quantizes its input to 8 bits (above) takes
 * the input from fn where fn has it: the GPU's own attn_norm, attn,
 * ffn_norm, ffn_act or out_norm of this step. An input a float rounding
 * away from the GPU's can land on the other side of a quant's boundary (one
 * quant step, ~1e-3 at a layer's output, compounding over the layers);
 * quantizing the GPU's input instead holds each product to exactly what
 * the GPU multiplied, while that input is itself compared where it is
 * captured, so a wrong one is still caught there. fn NULL: the reference's
 * own inputs again. */
void decoder_ref_feed_inputs(decoder_ref *r, decoder_input_fn fn, void *user);

#endif
