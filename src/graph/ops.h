/* The ops a forward pass is written in. Each records one dispatch (a matrix
 * split over several buffers, one per chunk) into a graph; its parameters
 * are named here and laid out as the kernel's Params struct. Buffers hold
 * rows of f32: [tokens][width], or for the KV cache [positions][kv_dim]. */
#ifndef WGPT_GRAPH_OPS_H
#define WGPT_GRAPH_OPS_H

#include "graph/gpu_weights.h"
#include "graph/graph.h"

/* y[row] (+)= W x[t] (+ bias) for every row of W. */
typedef struct {
    gpu_buffer *bias;   /* [W's rows] added to each output, or NULL */
    int accumulate;     /* add into y: a residual add fused into the projection */
    row_span rows;      /* ROWS_STEP; ROWS_OUT: only the rows whose logits are wanted
                           (x packed likewise); ROWS_POS: written at the tokens'
                           positions (a K or V projection storing into the cache) */
    int out_stride;     /* floats from one row of y to the next; 0: W's rows */
    int w_first, w_rows; /* only rows w_first..w_first+w_rows-1 of W (w_rows 0: all), written from
                            column 0 of y: one part of a stacked matrix; the bias is that part's */
    gpu_buffer *norm, *norm_x; /* both set: in a one-token step (one n_out row for ROWS_OUT) x is not
                            read; the product reads norm_x (the residual stream) with its RMSNorm
                            (weights norm, epsilon norm_eps) folded in: x = rmsnorm(norm_x) is then
                            only made for steps of several tokens (op_rmsnorm_many) */
    float norm_eps;
    int many_only;      /* only the batched kernel, for steps of several tokens (a one-token
                           step computes this product inside a fused kernel) */
    gpu_buffer *xq;     /* x as op_quant_act left it: what the batched kernel reads instead of x
                           where W takes 8-bit products (op_matmul_takes_xq), which need it */
} matmul_opts;
/* In steps of several tokens a product whose tiles are too few to fill the
 * GPU splits its columns into parts (split-K) where the graph has scratch
 * for them (graph_set_scratch): each part's sums go to the scratch, and a
 * second dispatch adds them up in a fixed order (the same result every
 * run). WGPT_SPLITK=S (tests and experiments) takes S parts (at most 8)
 * wherever the columns and the scratch allow, and 1 none. */
void op_matmul(graph *g, const gpu_matrix *w, gpu_buffer *x, gpu_buffer *y, const matmul_opts *o);
/* Bytes of scratch op_matmul's splits need at most for steps of up to
 * max_rows rows (tokens or n_out rows) and matrices of up to w_rows rows:
 * 8 parts of them, but never more than a split ever takes, (target + its
 * tiles) x a tile's outputs (matmul_split in ops.c). */
uint64_t op_matmul_partials_bytes(int max_rows, int w_rows);
/* Parts op_matmul would split a product of rows of w into in g (1: none):
 * what wgpt-kbench prints beside its timing. */
int op_matmul_k_parts(graph *g, const gpu_matrix *w, int rows);

/* 1 where W's products in steps of several tokens are 8-bit dot products
 * (matmul_i8.wgsl: Q8_0 and Q4_0, quant_int8_matmul), reading x quantized
 * by op_quant_act (matmul_opts.xq). */
int op_matmul_takes_xq(const gpu_matrix *w);
/* xq = x's rows (cols wide, a multiple of 32; from_out: only the n_out
 * rows, packed from row 0) quantized per block of 32 (quant_act.wgsl), in
 * steps of several tokens (several n_out rows) only: once per input, for
 * every product that reads it. xq must be op_quant_act_bytes of a count of
 * blocks, which the kernels read back from its size: one buffer serves
 * inputs of any width up to it. */
void op_quant_act(graph *g, gpu_buffer *x, gpu_buffer *xq, int cols, int from_out);
/* Bytes of an xq for rows of cols (an even count of blocks of 40 bytes:
 * their quants, then a scale and a sum each). */
uint64_t op_quant_act_bytes(int rows, int cols);

/* gate = act(Wg xn) * (Wu xn), xn = rmsnorm(x) with weights norm: the ffn
 * norm, gate and up projections and the activation (gelu: GELU, else SiLU)
 * in one dispatch, in one-token steps only (steps of several tokens take
 * op_rmsnorm_many, op_matmul and op_swiglu/op_gelu). Wg and Wu: one buffer
 * each, the same type and shape. */
void op_matvec_glu(graph *g, const gpu_matrix *wg, const gpu_matrix *wu, gpu_buffer *x, gpu_buffer *norm, float eps,
                   gpu_buffer *gate, int gelu);

/* The norm a one-token fused op folds in and the bias it adds, all read from
 * one buffer, vecs: the norm's weight [cols] (with layer_norm, LayerNorm's
 * weight then its bias, [2][cols]), then with biased one bias a row of the
 * product (op_matvec_qkv: Q's, K's and V's, stacked). One binding for them
 * all keeps the fused kernels within the storage buffers every adapter
 * allows (eight; nine with RoPE's table). */
typedef struct { gpu_buffer *vecs; int layer_norm, biased; float eps; } fused_norm;

/* y = act(W xn + b), xn = layernorm(x) (n->layer_norm set; the bias where
 * n->biased): an ungated product with its norm and activation in one
 * dispatch. GPT-2's up projection and GELU in one-token steps (gelu set,
 * from_out 0; steps of several tokens take op_layernorm_many, op_matmul and
 * op_gelu_many), or its LM head (gelu 0, from_out: x's row out_first, in
 * steps with one n_out; others take op_layernorm_many and op_matmul's
 * batched kernel). Returns 0, recording nothing, where W is not one buffer. */
int op_matvec_lnorm(graph *g, const gpu_matrix *w, gpu_buffer *x, const fused_norm *n, gpu_buffer *y, int gelu,
                    int from_out);

/* RoPE for op_matvec_qkv to apply in its epilogue: pairs as op_rope's;
 * cs the [positions][rope_pairs] (cos, sin) table. */
typedef struct { int rope_pairs, neox, head_dim; gpu_buffer *cs; } qkv_rope;

/* q = Wq xn + bq, and the K and V cache rows at pos0 = Wk xn + bk, Wv xn +
 * bv, xn = norm(x) by n (RMSNorm, or LayerNorm; the biases where
 * n->biased): the attention's norm, projections and biases in one
 * dispatch, in one-token steps only (others take op_rmsnorm_many or
 * op_layernorm_many, and op_matmul). rope (or NULL): turn q and the new K
 * row too, where the kernel's shape allows (RMSNorm only). Returns 0 if
 * the matrices do not fit the kernel (each one buffer, one type, row counts
 * multiples of its rows per group): nothing is recorded then and the caller
 * records the separate products; 1 if recorded without RoPE (the caller
 * records op_rope); 2 if recorded with it (the caller records op_rope_many
 * for longer steps); either with QKV_NO_V added where only Q and K fit the
 * kernel and V is another type (Q4_K_M's q6_K V in some layers): then the
 * caller records V's product. */
#define QKV_NO_V 4
int op_matvec_qkv(graph *g, const gpu_matrix *wq, const gpu_matrix *wk, const gpu_matrix *wv, gpu_buffer *x,
                  const fused_norm *n, gpu_buffer *q, gpu_buffer *k_cache, gpu_buffer *v_cache, const qkv_rope *rope);
/* op_matvec_qkv over one matrix of Q's q_rows rows, then K's and V's (as
 * many each: GPT-2's attn_qkv), each part read where it lies. */
int op_matvec_qkv_stacked(graph *g, const gpu_matrix *wqkv, int q_rows, gpu_buffer *x, const fused_norm *n,
                          gpu_buffer *q, gpu_buffer *k_cache, gpu_buffer *v_cache, const qkv_rope *rope);

/* x[t] = scale * row ids[t] of the embedding, dequantized. */
void op_embed(graph *g, const gpu_matrix *w, gpu_buffer *ids, gpu_buffer *x, float scale);
/* x[t] += row pos0 + t of w: learned positions. */
void op_add_pos_embed(graph *g, const gpu_matrix *w, gpu_buffer *ids, gpu_buffer *x);

/* y (+)= x / sqrt(mean(x^2) + eps) * w over rows of dim; with from_out, only
 * the rows whose logits are wanted, packed from row 0; with accumulate,
 * added into y. */
void op_rmsnorm(graph *g, gpu_buffer *x, gpu_buffer *w, gpu_buffer *y, int dim, float eps, int from_out);
void op_rmsnorm_add(graph *g, gpu_buffer *x, gpu_buffer *w, gpu_buffer *y, int dim, float eps);
/* op_rmsnorm only in steps of several tokens (from_out: several n_out rows):
 * a one-token step folds the norm into the products that read y. */
void op_rmsnorm_many(graph *g, gpu_buffer *x, gpu_buffer *w, gpu_buffer *y, int dim, float eps, int from_out);
/* y = (x - mean) / sqrt(var + eps) * w + b over rows of dim; from_out as
 * for op_rmsnorm. */
void op_layernorm(graph *g, gpu_buffer *x, gpu_buffer *w, gpu_buffer *b, gpu_buffer *y, int dim, float eps,
                  int from_out);
/* op_layernorm only in steps of several tokens (from_out: several n_out
 * rows): a one-token step folds the norm into the products that read y. */
void op_layernorm_many(graph *g, gpu_buffer *x, gpu_buffer *w, gpu_buffer *b, gpu_buffer *y, int dim, float eps,
                       int from_out);

/* The attention's shape: q is [tokens][n_heads * head_dim], the caches
 * [positions][n_kv_heads * head_dim]. */
typedef struct { int n_heads, n_kv_heads, head_dim; } attn_shape;

/* RMSNorm of each head of this step's q (weights wq) and of its keys in the
 * cache (weights wk), in place (q/k norm), then op_rope's RoPE of them (none
 * with rope_pairs 0, when cs may be NULL), in one dispatch: the same
 * values as the norm and op_rope apart, for steps of any size. */
void op_head_rmsnorm_rope(graph *g, const attn_shape *a, int rope_pairs, int neox, gpu_buffer *q,
                          gpu_buffer *k_cache, gpu_buffer *wq, gpu_buffer *wk, gpu_buffer *cs, float eps);

/* RoPE in place on this step's q and on its keys in the cache, by the
 * [positions][rope_pairs] (cos, sin) table cs; neox: pairs (i, i + rope_pairs)
 * rather than (2i, 2i+1). */
void op_rope(graph *g, const attn_shape *a, int rope_pairs, int neox, gpu_buffer *q, gpu_buffer *k_cache,
             gpu_buffer *cs);
/* op_rope only in steps of several tokens (op_matvec_qkv turned a one-token step's). */
void op_rope_many(graph *g, const attn_shape *a, int rope_pairs, int neox, gpu_buffer *q, gpu_buffer *k_cache,
                  gpu_buffer *cs);

/* Causal attention of this step's queries over cache positions 0..pos
 * (window > 0: only pos - window + 1..pos): out [tokens][n_heads * head_dim],
 * with no scratch for steps of several tokens; partials is scratch of
 * op_attention_partials_bytes for one-token steps, which split the keys in
 * chunks (NULL, or a head size the split kernels do not take: one-token
 * steps run the kernel of the others). head_dim at most
 * kernels_attention_max_head. */
void op_attention(graph *g, const attn_shape *a, int n_ctx, float scale, int window, gpu_buffer *q,
                  gpu_buffer *k_cache, gpu_buffer *v_cache, gpu_buffer *partials, gpu_buffer *out);
/* Bytes of op_attention's partials for a context of n_ctx; 0 where one-token
 * steps do not split (head_dim not a multiple of 4, or over 256). */
uint64_t op_attention_partials_bytes(const kernel_registry *k, const attn_shape *a, int n_ctx);

/* gate = silu(gate) * up over rows of width; the _many forms only in steps
 * of several tokens (op_matvec_glu does it in one-token steps). */
void op_swiglu(graph *g, gpu_buffer *gate, gpu_buffer *up, int width);
void op_swiglu_many(graph *g, gpu_buffer *gate, gpu_buffer *up, int width);
/* op_swiglu_many and op_quant_act of its result (gate, width wide) into
 * xq in one pass, for steps of several tokens whose down projection takes
 * 8-bit products. */
void op_swiglu_quant_many(graph *g, gpu_buffer *gate, gpu_buffer *up, gpu_buffer *xq, int width);
/* x = gelu(x) (tanh form) over rows of width; gated, x = gelu(x) * up.
 * Ungated, up is bound but not read, and must not be x (a buffer cannot be
 * bound writable and read-only in one dispatch). */
void op_gelu(graph *g, gpu_buffer *x, gpu_buffer *up, int width, int gated);
void op_gelu_many(graph *g, gpu_buffer *x, gpu_buffer *up, int width, int gated);
/* The n_out rows of logits (width wide) become cap * tanh(logits / cap). */
void op_softcap(graph *g, gpu_buffer *logits, int width, float cap);

#endif
