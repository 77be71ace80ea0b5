/* A decoder on the GPU. forward() below is the whole model, written once in
 * terms of graph ops and driven by the config; it runs when a context is
 * created and is replayed for every step. */
#include "models/decoder_gpu.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/ops.h"
#include "util/text.h"
#include "util/util.h"

typedef struct {
    gpu_buffer *attn_norm, *ffn_norm;  /* [dim] */
    gpu_buffer *attn_norm_b, *ffn_norm_b; /* [dim]: LayerNorm biases, or NULL */
    gpu_buffer *bq, *bk, *bv;          /* [q_dim], [kv_dim]: biases, or NULL (cut from a stacked bias) */
    gpu_buffer *q_norm, *k_norm;       /* [head_dim]: per-head RMSNorm weights, or NULL */
    gpu_buffer *bo, *b_up, *b_down;    /* biases, or NULL */
    gpu_buffer *attn_post_norm, *ffn_post_norm; /* [dim], or NULL */
    gpu_matrix wq, wk, wv, wo, w_gate, w_up, w_down;
    gpu_matrix wqkv;                   /* Q, K and V stacked, read in place by parts; or empty */
    gpu_buffer *attn_vecs, *ffn_vecs;  /* what the one-token fused kernels read (fused_norm), or NULL */
} gpu_layer;

/* Where each per-layer role lands: a matrix (kept in its format) or a
 * vector (f32). */
static const struct { tensor_role role; size_t off; int is_vec; } layer_fields[] = {
    {ROLE_ATTN_NORM, offsetof(gpu_layer, attn_norm), 1}, {ROLE_FFN_NORM, offsetof(gpu_layer, ffn_norm), 1},
    {ROLE_ATTN_Q_BIAS, offsetof(gpu_layer, bq), 1},      {ROLE_ATTN_K_BIAS, offsetof(gpu_layer, bk), 1},
    {ROLE_ATTN_V_BIAS, offsetof(gpu_layer, bv), 1},      {ROLE_ATTN_Q_NORM, offsetof(gpu_layer, q_norm), 1},
    {ROLE_ATTN_K_NORM, offsetof(gpu_layer, k_norm), 1},  {ROLE_ATTN_Q, offsetof(gpu_layer, wq), 0},
    {ROLE_ATTN_K, offsetof(gpu_layer, wk), 0},           {ROLE_ATTN_V, offsetof(gpu_layer, wv), 0},
    {ROLE_ATTN_OUT, offsetof(gpu_layer, wo), 0},         {ROLE_FFN_GATE, offsetof(gpu_layer, w_gate), 0},
    {ROLE_FFN_UP, offsetof(gpu_layer, w_up), 0},         {ROLE_FFN_DOWN, offsetof(gpu_layer, w_down), 0},
    {ROLE_ATTN_NORM_BIAS, offsetof(gpu_layer, attn_norm_b), 1}, {ROLE_FFN_NORM_BIAS, offsetof(gpu_layer, ffn_norm_b), 1},
    {ROLE_ATTN_QKV, offsetof(gpu_layer, wqkv), 0},       {ROLE_ATTN_OUT_BIAS, offsetof(gpu_layer, bo), 1},
    {ROLE_FFN_UP_BIAS, offsetof(gpu_layer, b_up), 1},    {ROLE_FFN_DOWN_BIAS, offsetof(gpu_layer, b_down), 1},
    {ROLE_ATTN_POST_NORM, offsetof(gpu_layer, attn_post_norm), 1},
    {ROLE_FFN_POST_NORM, offsetof(gpu_layer, ffn_post_norm), 1},
};
#define N_LAYER_FIELDS (sizeof layer_fields / sizeof *layer_fields)

struct decoder_weights {
    decoder_config c;
    gpu_matrix tok_embd, output; /* output aliases tok_embd when tied */
    gpu_matrix pos_embd;         /* learned positions, or empty */
    gpu_buffer *out_norm, *out_norm_b;
    gpu_buffer *out_vecs;        /* [out_norm | out_norm_b] for the fused LM head (LayerNorm), or NULL */
    gpu_layer *layers;
    gpu_device *dev;             /* the device the weights were taken onto */
    float *rope_freqs;           /* per-pair divisors (Llama 3), or NULL */
};

/* Activations are rows of f32: [n_batch][width]; the caches [n_seq][n_ctx][kv_dim]. */
struct decoder_state {
    gpu_device *dev;
    const decoder_weights *w;
    int n_ctx, n_seq, n_batch, n_out_max;
    gpu_buffer *step, *ids;      /* the Step uniform; [n_batch] token ids */
    gpu_buffer *x, *xn;          /* the residual stream and a block's normed input: [n_batch][dim] */
    gpu_buffer *q, *att;         /* [n_batch][q_dim] */
    gpu_buffer *gate, *up;       /* [n_batch][hidden_dim] */
    gpu_buffer *attn_part;       /* one-token attention's chunks (op_attention_partials_bytes) */
    gpu_buffer *logits, *logits_rb; /* [n_out_max][n_vocab] */
    gpu_buffer **k_cache, **v_cache; /* one per layer, so no single buffer outgrows a binding */
    gpu_buffer *rope_cs;         /* [n_ctx][rope_dim / 2] (cos, sin) */
    gpu_buffer *rope_cs_swa;     /* the same for windowed layers' base, or NULL */
    gpu_buffer *xq;              /* a product's input quantized (op_quant_act) for the widest, or NULL
                                    where no matrix takes 8-bit products */
    gpu_buffer *mm_part;         /* split products' partial sums (op_matmul_partials_bytes): the graph's scratch */
    graph *g;
};

wgpt_status begin_decoder_weights(const decoder_config *c, decoder_weights **out, char *err, size_t errlen) {
    decoder_weights *w = calloc(1, sizeof *w);
    if (!w || !(w->layers = calloc((size_t)c->n_layers, sizeof *w->layers))) {
        free(w);
        set_err(err, errlen, "out of memory");
        return WGPT_ERR_NOMEM;
    }
    w->c = *c;
    *out = w;
    return WGPT_OK;
}

/* Where a role goes: a matrix, a vector, or neither (rope_freqs: a host copy). */
static void destination(decoder_weights *w, tensor_role role, int layer, gpu_matrix **mat, gpu_buffer ***vec) {
    *mat = NULL;
    *vec = NULL;
    if (role == ROLE_TOKEN_EMBD) *mat = &w->tok_embd;
    else if (role == ROLE_OUTPUT) *mat = &w->output;
    else if (role == ROLE_POS_EMBD) *mat = &w->pos_embd;
    else if (role == ROLE_OUTPUT_NORM) *vec = &w->out_norm;
    else if (role == ROLE_OUTPUT_NORM_BIAS) *vec = &w->out_norm_b;
    for (size_t i = 0; role >= ROLE_FIRST_LAYER && i < N_LAYER_FIELDS; i++) {
        if (layer_fields[i].role != role) continue;
        char *field = (char *)&w->layers[layer] + layer_fields[i].off;
        if (layer_fields[i].is_vec) *vec = (gpu_buffer **)field;
        else *mat = (gpu_matrix *)field;
    }
}

/* A stacked Q, K, V bias becomes the three biases the parts' projections
 * add (a few KB; the stacked matrix itself is kept once, read by parts). */
static wgpt_status take_qkv_bias(decoder_weights *w, gpu_device *d, const gguf_tensor *t, int layer, char *err,
                                 size_t errlen) {
    gpu_layer *L = &w->layers[layer];
    const dtype_info *dt = dtype_of(t->type);
    if (L->bq) {
        set_err(err, errlen, "tensor '%s' given twice", text_show(t->name.ptr, t->name.len));
        return WGPT_ERR_FORMAT;
    }
    if (!dt || dt->block_elems != 1) {
        set_err(err, errlen, "tensor '%s' has type %s (a bias must be f32, f16 or bf16)",
                text_show(t->name.ptr, t->name.len), ggml_type_name(t->type));
        return WGPT_ERR_UNSUPPORTED;
    }
    uint64_t q_dim = (uint64_t)w->c.n_heads * w->c.head_dim, kv_dim = (uint64_t)w->c.n_kv_heads * w->c.head_dim;
    const uint64_t first[3] = {0, q_dim, q_dim + kv_dim}, len[3] = {q_dim, kv_dim, kv_dim};
    gpu_buffer **dst[3] = {&L->bq, &L->bk, &L->bv};
    for (int i = 0; i < 3; i++) {
        gguf_tensor part = *t;
        part.n_dims = 1;
        part.ne[0] = len[i];
        part.data = t->data ? t->data + first[i] * dt->block_bytes : NULL;
        part.nbytes = len[i] * dt->block_bytes;
        wgpt_status st = gpu_vector_upload(d, &part, dst[i], err, errlen);
        if (st != WGPT_OK) return st;
    }
    return WGPT_OK;
}

wgpt_status decoder_weights_take(decoder_weights *w, gpu_device *d, const gguf_tensor *t, char *err, size_t errlen) {
    w->dev = d;
    tensor_role role;
    int layer;
    if (decoder_role_of(&w->c, t->name.ptr, t->name.len, &role, &layer) != 0) {
        set_err(err, errlen, "unexpected tensor '%s'", text_show(t->name.ptr, t->name.len));
        return WGPT_ERR_FORMAT;
    }
    if (role == ROLE_ROPE_FREQS) {
        if (t->type != GGML_TYPE_F32) {
            set_err(err, errlen, "%s must be f32", text_show(t->name.ptr, t->name.len));
            return WGPT_ERR_FORMAT;
        }
        free(w->rope_freqs);
        if (!(w->rope_freqs = malloc(t->nbytes))) { set_err(err, errlen, "out of memory"); return WGPT_ERR_NOMEM; }
        memcpy(w->rope_freqs, t->data, t->nbytes);
        return WGPT_OK;
    }
    if (role == ROLE_ATTN_QKV_BIAS) return take_qkv_bias(w, d, t, layer, err, errlen);
    gpu_matrix *mat;
    gpu_buffer **vec;
    destination(w, role, layer, &mat, &vec);
    if ((mat && mat->n_chunks) || (vec && *vec)) {
        set_err(err, errlen, "tensor '%s' given twice", text_show(t->name.ptr, t->name.len));
        return WGPT_ERR_FORMAT;
    }
    if (mat) return gpu_matrix_upload(d, t, mat, err, errlen);
    return gpu_vector_upload(d, t, vec, err, errlen);
}

/* The one-token fused kernels read a norm's vectors and their product's
 * biases through one binding (fused_norm: the storage buffers an adapter
 * allows leave them no more): [norm weight | LayerNorm bias | biases], in
 * parts of len floats (0: not in this layout; a part without a buffer stays
 * zero, as a new buffer is). Copied on the GPU from the vectors' own buffers,
 * which the batched kernels bind: a few KB a layer. */
static wgpt_status stack_vectors(gpu_device *d, gpu_buffer *const *part, const uint64_t *len, int n, gpu_buffer **out,
                                 char *err, size_t errlen) {
    uint64_t total = 0;
    for (int i = 0; i < n; i++) total += len[i];
    if (!(*out = gpu_buffer_create(d, total * 4, GPU_STORAGE, "fused norm"))) {
        set_err(err, errlen, "cannot allocate a GPU buffer");
        return WGPT_ERR_GPU;
    }
    for (uint64_t i = 0, at = 0; i < (uint64_t)n; at += len[i++])
        if (part[i] && len[i]) gpu_copy(d, part[i], 0, *out, at * 4, len[i] * 4);
    return WGPT_OK;
}

/* Where a norm is a LayerNorm or the attention's products have biases, the
 * stacks the fused kernels read (elsewhere the norm's own buffer is all
 * they need). */
static wgpt_status make_fused_vectors(decoder_weights *w, char *err, size_t errlen) {
    const decoder_config *c = &w->c;
    int ln = c->norm == NORM_LAYER;
    uint64_t d = (uint64_t)c->dim, nb = ln ? d : 0, q_dim = (uint64_t)c->n_heads * c->head_dim,
             kv_dim = (uint64_t)c->n_kv_heads * c->head_dim;
    wgpt_status st = WGPT_OK;
    for (int l = 0; st == WGPT_OK && l < c->n_layers; l++) {
        gpu_layer *L = &w->layers[l];
        int biased = L->bq || L->bk || L->bv;
        gpu_buffer *attn[5] = {L->attn_norm, L->attn_norm_b, L->bq, L->bk, L->bv};
        const uint64_t attn_len[5] = {d, nb, biased ? q_dim : 0, biased ? kv_dim : 0, biased ? kv_dim : 0};
        gpu_buffer *ffn[3] = {L->ffn_norm, L->ffn_norm_b, L->b_up};
        const uint64_t ffn_len[3] = {d, nb, L->b_up ? (uint64_t)c->hidden_dim : 0};
        if (ln || biased) st = stack_vectors(w->dev, attn, attn_len, 5, &L->attn_vecs, err, errlen);
        if (ln && st == WGPT_OK) st = stack_vectors(w->dev, ffn, ffn_len, 3, &L->ffn_vecs, err, errlen);
    }
    gpu_buffer *out[2] = {w->out_norm, w->out_norm_b};
    const uint64_t out_len[2] = {d, d};
    if (ln && st == WGPT_OK) st = stack_vectors(w->dev, out, out_len, 2, &w->out_vecs, err, errlen);
    if (st == WGPT_OK && gpu_submit(w->dev, err, errlen) != 0) st = WGPT_ERR_GPU;
    return st;
}

wgpt_status complete_decoder_weights(decoder_weights *w, char *err, size_t errlen) {
    const decoder_config *c = &w->c;
    if (c->tied_output) w->output = w->tok_embd;
    if (!w->tok_embd.n_chunks || !w->output.n_chunks || !w->out_norm || (c->has_rope_freqs && !w->rope_freqs) ||
        (c->has[ROLE_POS_EMBD] && !w->pos_embd.n_chunks) || (c->has[ROLE_OUTPUT_NORM_BIAS] && !w->out_norm_b)) {
        set_err(err, errlen, "model incomplete: a global tensor was never loaded");
        return WGPT_ERR_FORMAT;
    }
    for (int l = 0; l < c->n_layers; l++)
        for (size_t i = 0; i < N_LAYER_FIELDS; i++) {
            gpu_matrix *mat;
            gpu_buffer **vec;
            destination(w, layer_fields[i].role, l, &mat, &vec);
            if (c->has[layer_fields[i].role] && (mat ? !mat->n_chunks : !*vec)) {
                set_err(err, errlen, "model incomplete: layer %d was not fully loaded", l);
                return WGPT_ERR_FORMAT;
            }
        }
    for (int l = 0; c->has[ROLE_ATTN_QKV_BIAS] && l < c->n_layers; l++)
        if (!w->layers[l].bq) {
            set_err(err, errlen, "model incomplete: layer %d was not fully loaded", l);
            return WGPT_ERR_FORMAT;
        }
    return make_fused_vectors(w, err, errlen);
}

void free_decoder_weights(decoder_weights *w) {
    if (!w) return;
    for (int l = 0; w->layers && l < w->c.n_layers; l++)
        for (size_t i = 0; i < N_LAYER_FIELDS; i++) {
            gpu_matrix *mat;
            gpu_buffer **vec;
            destination(w, layer_fields[i].role, l, &mat, &vec);
            if (mat) gpu_matrix_free(mat);
            else gpu_buffer_free(*vec);
        }
    for (int l = 0; w->layers && l < w->c.n_layers; l++) {
        gpu_buffer_free(w->layers[l].attn_vecs);
        gpu_buffer_free(w->layers[l].ffn_vecs);
    }
    gpu_buffer_free(w->out_vecs);
    if (!w->c.tied_output) gpu_matrix_free(&w->output);
    gpu_matrix_free(&w->tok_embd);
    gpu_matrix_free(&w->pos_embd);
    gpu_buffer_free(w->out_norm);
    gpu_buffer_free(w->out_norm_b);
    free(w->layers);
    free(w->rope_freqs);
    free(w);
}

uint32_t decoder_weights_type(const decoder_weights *w) {
    return w->c.has[ROLE_ATTN_QKV] ? w->layers[0].wqkv.type : w->layers[0].wq.type;
}

/* cos/sin for every (position, pair), in double precision on the CPU,
 * exactly as the reference computes the angles. */
static float *rope_table(const decoder_config *c, const float *freqs, int n_ctx, double base, double linear_scale) {
    int pairs = c->rope_dim / 2;
    float *t = malloc(((size_t)n_ctx * pairs * 2 + 1) * sizeof(float));
    if (!t) return NULL;
    for (int pos = 0; pos < n_ctx; pos++)
        for (int i = 0; i < pairs; i++) {
            double theta = ((double)pos / linear_scale) * pow(base, -2.0 * i / c->rope_dim);
            if (freqs) theta /= freqs[i];
            t[((size_t)pos * pairs + i) * 2] = (float)cos(theta);
            t[((size_t)pos * pairs + i) * 2 + 1] = (float)sin(theta);
        }
    return t;
}

/* ---- the model ---- */

/* xn = norm(x) of the config's kind (LayerNorm with its bias), and its
 * capture. Where folded (a one-token step's products read x with the norm
 * folded in: a fused kernel took them, or RMSNorm, which op_matmul folds),
 * it is made only for steps of several tokens (rows). */
static void build_norm(decoder_state *s, gpu_buffer *w, gpu_buffer *b, int from_out, const char *name, int layer,
                       int folded) {
    const decoder_config *c = &s->w->c;
    row_span rows = from_out ? ROWS_OUT : ROWS_STEP;
    int many = folded || c->norm == NORM_RMS;
    if (c->norm == NORM_LAYER)
        (many ? op_layernorm_many : op_layernorm)(s->g, s->x, w, b, s->xn, c->dim, c->norm_eps, from_out);
    else op_rmsnorm_many(s->g, s->x, w, s->xn, c->dim, c->norm_eps, from_out);
    graph_capture_when(s->g, name, layer, s->xn, c->dim, rows,
                       !many ? WHEN_ALWAYS : from_out ? WHEN_OUTS : WHEN_TOKENS);
}

/* s->xq = x (cols wide; from_out: the n_out rows) quantized, in steps of
 * several tokens, where one of the n matrices that read x next takes
 * 8-bit products: once for them all. Returns what their matmul_opts.xq
 * takes (NULL where none reads it). */
static gpu_buffer *quantized(decoder_state *s, gpu_buffer *x, int cols, int from_out, const gpu_matrix *const *m,
                             int n) {
    for (int i = 0; i < n; i++)
        if (m[i]->n_chunks && op_matmul_takes_xq(m[i])) {
            op_quant_act(s->g, x, s->xq, cols, from_out);
            return s->xq;
        }
    return NULL;
}

/* The Q, K and V products as op_matmul, with their biases (the parts of a
 * stacked matrix, or three matrices): for steps of several tokens, and
 * unless many_only (a fused kernel took them; V all the same with v_apart:
 * it took Q and K only) for one-token steps too, with
 * an RMSNorm folded in. */
static void qkv_products(decoder_state *s, int l, int many_only, int v_apart) {
    const decoder_config *c = &s->w->c;
    const gpu_layer *L = &s->w->layers[l];
    int q_dim = c->n_heads * c->head_dim, kv_dim = c->n_kv_heads * c->head_dim, stacked = L->wqkv.n_chunks != 0;
    const gpu_matrix *m[3] = {&L->wq, &L->wk, &L->wv};
    gpu_buffer *out[3] = {s->q, s->k_cache[l], s->v_cache[l]}, *bias[3] = {L->bq, L->bk, L->bv};
    const int first[3] = {0, q_dim, q_dim + kv_dim}, rows[3] = {q_dim, kv_dim, kv_dim};
    gpu_buffer *nw = c->norm == NORM_RMS ? L->attn_norm : NULL;
    const gpu_matrix *const all[1] = {&L->wqkv};
    gpu_buffer *xq = quantized(s, s->xn, c->dim, 0, stacked ? all : m, stacked ? 1 : 3);
    for (int i = 0; i < 3; i++)
        op_matmul(s->g, stacked ? &L->wqkv : m[i], s->xn, out[i],
                  &(matmul_opts){.bias = bias[i], .rows = i ? ROWS_POS : ROWS_STEP, .w_first = stacked ? first[i] : 0,
                                 .w_rows = stacked ? rows[i] : 0, .norm = nw, .norm_x = nw ? s->x : NULL,
                                 .norm_eps = c->norm_eps, .many_only = many_only && !(i == 2 && v_apart), .xq = xq});
}

/* x += Wo attention(...) of xn = norm(x): llama.cpp's build_attn with the
 * norm, Q/K/V projections, biases, q/k norm and RoPE before it. The K and
 * V projections write straight into this layer's cache at the step's
 * positions; the norm and RoPE then work on the keys there. A stacked QKV
 * matrix is read by parts, each written where its own projection would be.
 * A one-token step takes the norm, projections, biases and (where no q/k
 * norm comes between) RoPE in one fused dispatch where the matrices allow;
 * a q/k norm takes RoPE into its own dispatch, in steps of any size. */
static void build_attn(decoder_state *s, int l) {
    const decoder_config *c = &s->w->c;
    const gpu_layer *L = &s->w->layers[l];
    graph *g = s->g;
    const attn_shape a = {c->n_heads, c->n_kv_heads, c->head_dim};
    int q_dim = c->n_heads * c->head_dim, kv_dim = c->n_kv_heads * c->head_dim;
    gpu_buffer *kc = s->k_cache[l], *vc = s->v_cache[l];
    int windowed = decoder_layer_windowed(c, l);
    gpu_buffer *cs = windowed ? s->rope_cs_swa : s->rope_cs;
    const qkv_rope rope = {c->rope_dim / 2, c->rope == ROPE_NEOX, c->head_dim, cs};
    const qkv_rope *turn = c->rope != ROPE_NONE && !L->q_norm ? &rope : NULL;
    const fused_norm fn = {L->attn_vecs ? L->attn_vecs : L->attn_norm, c->norm == NORM_LAYER,
                           L->attn_vecs && (L->bq || L->bk || L->bv), c->norm_eps};
    int fused = L->wqkv.n_chunks ? op_matvec_qkv_stacked(g, &L->wqkv, q_dim, s->x, &fn, s->q, kc, vc, turn)
                                 : op_matvec_qkv(g, &L->wq, &L->wk, &L->wv, s->x, &fn, s->q, kc, vc, turn);
    int v_apart = fused & QKV_NO_V;
    fused &= ~QKV_NO_V;
    build_norm(s, L->attn_norm, L->attn_norm_b, 0, "attn_norm", l, fused);
    qkv_products(s, l, fused, v_apart);
    /* The head norm turns q and k too, so its normed values before RoPE
     * never reach memory: verify checks them only as q and k. */
    int pairs = c->rope != ROPE_NONE ? c->rope_dim / 2 : 0;
    if (L->q_norm) op_head_rmsnorm_rope(g, &a, pairs, rope.neox, s->q, kc, L->q_norm, L->k_norm, cs, c->norm_eps);
    else if (pairs && fused == 2) op_rope_many(g, &a, pairs, rope.neox, s->q, kc, cs);
    else if (pairs) op_rope(g, &a, pairs, rope.neox, s->q, kc, cs);
    graph_capture(g, "q", l, s->q, q_dim, ROWS_STEP);
    graph_capture(g, "k", l, kc, kv_dim, ROWS_POS);
    graph_capture(g, "v", l, vc, kv_dim, ROWS_POS);
    op_attention(g, &a, s->n_ctx, c->attn_scale, windowed ? c->sliding_window : 0, s->q, kc, vc, s->attn_part, s->att);
    graph_capture(g, "attn", l, s->att, q_dim, ROWS_STEP);
    const gpu_matrix *const wo[1] = {&L->wo};
    gpu_buffer *xq = quantized(s, s->att, q_dim, 0, wo, 1);
    if (L->attn_post_norm) { /* normed before the residual add: through xn, free until the next norm */
        op_matmul(g, &L->wo, s->att, s->xn, &(matmul_opts){.bias = L->bo, .xq = xq});
        op_rmsnorm_add(g, s->xn, L->attn_post_norm, s->x, c->dim, c->norm_eps);
    } else { /* the residual add, fused */
        op_matmul(g, &L->wo, s->att, s->x, &(matmul_opts){.bias = L->bo, .accumulate = 1, .xq = xq});
    }
    graph_capture(g, "attn_res", l, s->x, c->dim, ROWS_STEP);
}

/* Whether a one-token step takes op_matvec_glu for the ffn: RMSNorm, a gated
 * activation, no up bias, gate and up one buffer each of one type. */
static int ffn_fused(const decoder_config *c, const gpu_layer *L) {
    return c->norm == NORM_RMS && c->ffn != FFN_GELU && !L->b_up && L->w_gate.n_chunks == 1 && L->w_up.n_chunks == 1 &&
           L->w_gate.gpu_slot == L->w_up.gpu_slot && L->w_gate.rows == L->w_up.rows && L->w_gate.cols == L->w_up.cols;
}

/* x += Wdown act(...) of xn = norm(x): llama.cpp's build_ffn, SwiGLU or
 * GeGLU (gate and up in parallel), or GELU between up and down (GPT-2,
 * whose up projection lands in `gate` so that the activation is in the one
 * place all three leave it). One-token steps take the norm, gate and/or up
 * and the activation in one dispatch where the matrices allow. */
static void build_ffn(decoder_state *s, int l) {
    const decoder_config *c = &s->w->c;
    const gpu_layer *L = &s->w->layers[l];
    graph *g = s->g;
    gpu_buffer *nw = c->norm == NORM_RMS ? L->ffn_norm : NULL, *nx = nw ? s->x : NULL;
    float eps = c->norm_eps;
    gpu_buffer *down_xq = NULL; /* the activation quantized with SwiGLU itself (op_swiglu_quant_many) */
    const gpu_matrix *const gu[2] = {&L->w_up, &L->w_gate};
    if (c->ffn == FFN_GELU) {
        const fused_norm fn = {L->ffn_vecs, 1, L->b_up != NULL, eps};
        int fused = L->ffn_vecs && op_matvec_lnorm(g, &L->w_up, s->x, &fn, s->gate, 1, 0);
        build_norm(s, L->ffn_norm, L->ffn_norm_b, 0, "ffn_norm", l, fused);
        gpu_buffer *xq = quantized(s, s->xn, c->dim, 0, gu, 1);
        op_matmul(g, &L->w_up, s->xn, s->gate,
                  &(matmul_opts){.bias = L->b_up, .norm = nw, .norm_x = nx, .norm_eps = eps, .many_only = fused,
                                 .xq = xq});
        (fused ? op_gelu_many : op_gelu)(g, s->gate, s->up, c->hidden_dim, 0);
    } else if (ffn_fused(c, L)) { /* one-token steps: norm, gate, up and activation in one dispatch */
        op_matvec_glu(g, &L->w_gate, &L->w_up, s->x, L->ffn_norm, eps, s->gate, c->ffn == FFN_GEGLU);
        build_norm(s, L->ffn_norm, L->ffn_norm_b, 0, "ffn_norm", l, 1);
        gpu_buffer *xq = quantized(s, s->xn, c->dim, 0, gu, 2);
        op_matmul(g, &L->w_gate, s->xn, s->gate, &(matmul_opts){.many_only = 1, .xq = xq});
        op_matmul(g, &L->w_up, s->xn, s->up, &(matmul_opts){.many_only = 1, .xq = xq});
        if (c->ffn == FFN_GEGLU) op_gelu_many(g, s->gate, s->up, c->hidden_dim, 1);
        else if (s->xq && op_matmul_takes_xq(&L->w_down)) /* made and quantized for down in one pass */
            op_swiglu_quant_many(g, s->gate, s->up, down_xq = s->xq, c->hidden_dim);
        else op_swiglu_many(g, s->gate, s->up, c->hidden_dim);
    } else {
        build_norm(s, L->ffn_norm, L->ffn_norm_b, 0, "ffn_norm", l, 0);
        gpu_buffer *xq = quantized(s, s->xn, c->dim, 0, gu, 2);
        op_matmul(g, &L->w_gate, s->xn, s->gate, &(matmul_opts){.norm = nw, .norm_x = nx, .norm_eps = eps, .xq = xq});
        op_matmul(g, &L->w_up, s->xn, s->up,
                  &(matmul_opts){.bias = L->b_up, .norm = nw, .norm_x = nx, .norm_eps = eps, .xq = xq});
        if (c->ffn == FFN_GEGLU) op_gelu(g, s->gate, s->up, c->hidden_dim, 1);
        else op_swiglu(g, s->gate, s->up, c->hidden_dim);
    }
    graph_capture(g, "ffn_act", l, s->gate, c->hidden_dim, ROWS_STEP);
    const gpu_matrix *const down[1] = {&L->w_down};
    gpu_buffer *xq = down_xq ? down_xq : quantized(s, s->gate, c->hidden_dim, 0, down, 1);
    if (L->ffn_post_norm) {
        op_matmul(g, &L->w_down, s->gate, s->xn, &(matmul_opts){.bias = L->b_down, .xq = xq});
        op_rmsnorm_add(g, s->xn, L->ffn_post_norm, s->x, c->dim, c->norm_eps);
    } else {
        op_matmul(g, &L->w_down, s->gate, s->x, &(matmul_opts){.bias = L->b_down, .accumulate = 1, .xq = xq});
    }
}

static void forward(decoder_state *s) {
    const decoder_weights *w = s->w;
    const decoder_config *c = &w->c;
    graph *g = s->g;
    op_embed(g, &w->tok_embd, s->ids, s->x, c->embed_scale);
    if (w->pos_embd.n_chunks) op_add_pos_embed(g, &w->pos_embd, s->ids, s->x);
    graph_capture(g, "embed", -1, s->x, c->dim, ROWS_STEP);
    for (int l = 0; l < c->n_layers; l++) {
        build_attn(s, l);
        build_ffn(s, l);
        graph_capture(g, "layer_out", l, s->x, c->dim, ROWS_STEP);
    }
    /* only the rows whose logits are wanted; with one of them, the norm folded in */
    const fused_norm fn = {w->out_vecs, 1, 0, c->norm_eps};
    int fused = w->out_vecs && op_matvec_lnorm(g, &w->output, s->x, &fn, s->logits, 0, 1);
    build_norm(s, w->out_norm, w->out_norm_b, 1, "out_norm", -1, fused);
    gpu_buffer *nw = c->norm == NORM_RMS ? w->out_norm : NULL;
    const gpu_matrix *const out[1] = {&w->output};
    gpu_buffer *xq = quantized(s, s->xn, c->dim, 1, out, 1);
    op_matmul(g, &w->output, s->xn, s->logits,
              &(matmul_opts){.rows = ROWS_OUT, .norm = nw, .norm_x = nw ? s->x : NULL, .norm_eps = c->norm_eps,
                             .many_only = fused, .xq = xq});
    if (c->final_softcap > 0) op_softcap(g, s->logits, c->n_vocab, c->final_softcap);
    graph_capture(g, "logits", -1, s->logits, c->n_vocab, ROWS_OUT);
}

/* ---- the context's buffers ---- */

/* Every buffer a context needs, with its size, so that all are checked
 * against the device's limits before any is made. */
typedef struct { const char *name; uint64_t bytes; int bound; } state_buffer;

/* Bytes of s->mm_part: for the most rows a step has, and the longest
 * column of outputs a product writes (the LM head's, or a layer's); 0
 * where no step has several (only those split). */
static uint64_t mm_part_bytes(const decoder_config *c, int n_batch, int n_out_max) {
    int rows = c->n_vocab, q_dim = c->n_heads * c->head_dim, most = n_batch > n_out_max ? n_batch : n_out_max;
    if (c->dim > rows) rows = c->dim;
    if (q_dim > rows) rows = q_dim;
    if (c->hidden_dim > rows) rows = c->hidden_dim;
    return most > 1 ? op_matmul_partials_bytes(most, rows) : 0;
}

static int state_buffers(const kernel_registry *k, const decoder_config *c, int n_ctx, int n_seq, int n_batch,
                         int n_out_max, uint64_t xq_bytes, state_buffer *out) {
    uint64_t seqs = n_seq > 0 ? (uint64_t)n_seq : 1; /* n_seq 0: a context's one sequence */
    uint64_t B = (uint64_t)n_batch, q_dim = (uint64_t)c->n_heads * c->head_dim,
             kv_dim = (uint64_t)c->n_kv_heads * c->head_dim, logit_bytes = (uint64_t)n_out_max * c->n_vocab * 4;
    const state_buffer list[] = {
        {"ids", B * 4, 1},
        {"x", B * c->dim * 4, 1},
        {"xn", B * c->dim * 4, 1},
        {"q", B * q_dim * 4, 1},
        {"att", B * q_dim * 4, 1},
        {"gate", B * c->hidden_dim * 4, 1},
        {"up", B * c->hidden_dim * 4, 1},
        {"attn_part", op_attention_partials_bytes(k, &(attn_shape){c->n_heads, c->n_kv_heads, c->head_dim}, n_ctx), 1},
        {"logits", logit_bytes, 1},
        {"logits_rb", logit_bytes, 0}, /* read back, never bound */
        {"xq", xq_bytes, 1},
        {"mm_part", mm_part_bytes(c, n_batch, n_out_max), 1},
        {"k_cache", (uint64_t)seqs * n_ctx * kv_dim * 4, 1},
        {"v_cache", (uint64_t)seqs * n_ctx * kv_dim * 4, 1},
        {"rope_cs", (uint64_t)n_ctx * (c->rope_dim / 2) * 8, 1},
    };
    memcpy(out, list, sizeof list);
    return (int)(sizeof list / sizeof *list);
}

static unsigned long long mb(uint64_t bytes) { return (unsigned long long)((bytes + (1 << 20) - 1) >> 20); }

static int check_state_limits(gpu_device *d, const kernel_registry *k, const decoder_config *c, int n_ctx, int n_seq,
                              int n_batch, int n_out_max, uint64_t xq_bytes, char *err, size_t errlen) {
    const gpu_limits *L = gpu_get_limits(d);
    state_buffer b[16];
    int n = state_buffers(k, c, n_ctx, n_seq, n_batch, n_out_max, xq_bytes, b);
    for (int i = 0; i < n; i++) {
        /* gpu_buffer_create rounds sizes up to 16 bytes */
        uint64_t bytes = (b[i].bytes + 15) & ~(uint64_t)15, lim = L->max_buffer_size;
        const char *verb = "makes";
        if (b[i].bound && L->max_storage_binding <= lim) lim = L->max_storage_binding, verb = "binds";
        if (bytes > lim) {
            char seqs[48] = "";
            if (n_seq > 1) snprintf(seqs, sizeof seqs, " for each of %d sequences", n_seq);
            set_err(err, errlen, "context of %d tokens%s with batch %d needs buffers larger than this device %s "
                    "(%llu MB; %s needs %llu MB); use a smaller -c or --batch%s",
                    n_ctx, seqs, n_batch, verb, (unsigned long long)(lim >> 20), b[i].name, mb(bytes),
                    n_seq > 1 ? " or fewer sequences" : "");
            return -1;
        }
    }
    return 0;
}

/* A buffer within the limits the device still could not make (Dawn on
 * SwiftShader refuses one of exactly the limit) gets the same advice, with
 * the device's reason. Takes the device's error, so no later call sees it. */
static gpu_buffer *state_buffer_create(gpu_device *d, uint64_t bytes, unsigned usage, const char *name, int n_ctx,
                                       int n_batch, char *err, size_t errlen) {
    gpu_buffer *b = gpu_buffer_create(d, bytes ? bytes : 16, usage, name);
    if (!b) {
        const char *e = gpu_take_error(d);
        set_err(err, errlen, "context of %d tokens with batch %d needs a buffer of %llu MB (%s) that this device "
                "could not make (%s); use a smaller -c or --batch", n_ctx, n_batch, mb(bytes), name,
                e ? e : "no reason given");
    }
    return b;
}

/* Bytes of s->xq: the widest product input quantized, for the larger of a
 * step's tokens and its n_out rows; 0 where no matrix takes 8-bit products
 * (no buffer then). */
static uint64_t xq_bytes(const decoder_weights *w, int n_batch, int n_out_max) {
    const decoder_config *c = &w->c;
    int any = w->output.n_chunks && op_matmul_takes_xq(&w->output);
    for (int l = 0; l < c->n_layers && !any; l++) {
        const gpu_layer *L = &w->layers[l];
        const gpu_matrix *m[] = {&L->wq, &L->wk, &L->wv, &L->wqkv, &L->wo, &L->w_gate, &L->w_up, &L->w_down};
        for (size_t i = 0; i < sizeof m / sizeof *m; i++) any |= m[i]->n_chunks && op_matmul_takes_xq(m[i]);
    }
    if (!any) return 0;
    int q_dim = c->n_heads * c->head_dim, width = c->dim > q_dim ? c->dim : q_dim;
    if (c->hidden_dim > width) width = c->hidden_dim;
    return op_quant_act_bytes(n_batch > n_out_max ? n_batch : n_out_max, width);
}

wgpt_status build_decoder_state(gpu_device *d, kernel_registry *k, const decoder_weights *w, int n_ctx, int n_seq,
                                int n_batch, int n_out_max, decoder_state **out, char *err, size_t errlen) {
    const decoder_config *c = &w->c;
    *out = NULL;
    if ((uint32_t)c->head_dim > kernels_attention_max_head(k)) {
        set_err(err, errlen, "head size %d is larger than the attention kernel handles on this adapter (%u)",
                c->head_dim, kernels_attention_max_head(k));
        return WGPT_ERR_UNSUPPORTED;
    }
    if (decoder_check_supported(c, err, errlen) != WGPT_OK) return WGPT_ERR_UNSUPPORTED;
    uint64_t xqb = xq_bytes(w, n_batch, n_out_max);
    if (check_state_limits(d, k, c, n_ctx, n_seq, n_batch, n_out_max, xqb, err, errlen) != 0) return WGPT_ERR_GPU;
    decoder_state *s = calloc(1, sizeof *s);
    if (!s) { set_err(err, errlen, "out of memory"); return WGPT_ERR_NOMEM; }
    *out = s;
    s->dev = d;
    s->w = w;
    s->n_ctx = n_ctx;
    s->n_seq = n_seq > 0 ? n_seq : 1;
    s->n_batch = n_batch;
    s->n_out_max = n_out_max;
    state_buffer sb[16];
    int nb = state_buffers(k, c, n_ctx, n_seq, n_batch, n_out_max, xqb, sb);
    /* in the order of state_buffers */
    gpu_buffer **field[] = {&s->ids, &s->x, &s->xn, &s->q, &s->att, &s->gate, &s->up, &s->attn_part,
                            &s->logits, &s->logits_rb};
    if (!(s->step = state_buffer_create(d, STEP_UNIFORM_BYTES, GPU_UNIFORM, "step", n_ctx, n_batch, err, errlen)))
        return WGPT_ERR_GPU;
    for (size_t i = 0; i < sizeof field / sizeof *field; i++) {
        unsigned usage = sb[i].bound ? GPU_STORAGE : GPU_READBACK;
        if (!(*field[i] = state_buffer_create(d, sb[i].bytes, usage, sb[i].name, n_ctx, n_batch, err, errlen))) return WGPT_ERR_GPU;
    }
    if (xqb && !(s->xq = state_buffer_create(d, xqb, GPU_STORAGE, "xq", n_ctx, n_batch, err, errlen))) return WGPT_ERR_GPU;
    const state_buffer *part = &sb[nb - 4]; /* mm_part, before the caches and the RoPE table */
    if (!(s->mm_part = state_buffer_create(d, part->bytes, GPU_STORAGE, part->name, n_ctx, n_batch, err, errlen)))
        return WGPT_ERR_GPU;
    const state_buffer *kv = &sb[nb - 3]; /* k_cache; v_cache is the same size */
    s->k_cache = calloc((size_t)c->n_layers, sizeof *s->k_cache);
    s->v_cache = calloc((size_t)c->n_layers, sizeof *s->v_cache);
    if (!s->k_cache || !s->v_cache) { set_err(err, errlen, "out of memory"); return WGPT_ERR_NOMEM; }
    for (int l = 0; l < c->n_layers; l++) {
        if (!(s->k_cache[l] = state_buffer_create(d, kv->bytes, GPU_STORAGE, "k_cache", n_ctx, n_batch, err, errlen)) ||
            !(s->v_cache[l] = state_buffer_create(d, kv->bytes, GPU_STORAGE, "v_cache", n_ctx, n_batch, err, errlen)))
            return WGPT_ERR_GPU;
    }
    /* Windowed layers turn by their own base and without the global
     * layers' linear scaling (llama.cpp's rope_freq_scale_train_swa, 1). */
    for (int swa = 0; swa < 1 + (c->sliding_window > 0); swa++) {
        float *cs = swa ? rope_table(c, NULL, n_ctx, c->rope_theta_swa, 1.0)
                        : rope_table(c, w->rope_freqs, n_ctx, c->rope_theta, c->rope_linear_scale);
        if (!cs) { set_err(err, errlen, "out of memory"); return WGPT_ERR_NOMEM; }
        uint64_t cs_bytes = sb[nb - 1].bytes;
        gpu_buffer **dst = swa ? &s->rope_cs_swa : &s->rope_cs;
        *dst = state_buffer_create(d, cs_bytes, GPU_STORAGE, "rope_cs", n_ctx, n_batch, err, errlen);
        if (!*dst) { free(cs); return WGPT_ERR_GPU; }
        gpu_buffer_write(d, *dst, 0, cs, cs_bytes);
        free(cs);
    }

    s->g = graph_create(d, k, s->step);
    if (!s->g) { set_err(err, errlen, "out of memory"); return WGPT_ERR_NOMEM; }
    graph_set_scratch(s->g, s->mm_part, part->bytes, (uint32_t)(n_batch > n_out_max ? n_batch : n_out_max));
    graph_set_multi(s->g, (uint32_t)n_seq); /* 0: a context's one sequence, which takes no multi steps */
    forward(s);
    if (graph_error(s->g)) { set_err(err, errlen, "%s", graph_error(s->g)); return WGPT_ERR_GPU; }
    return WGPT_OK;
}

void free_decoder_state(decoder_state *s) {
    if (!s) return;
    graph_free(s->g);
    gpu_buffer *bufs[] = {s->step, s->ids, s->x, s->xn, s->q, s->att, s->gate, s->up, s->attn_part,
                          s->logits, s->logits_rb, s->xq, s->mm_part, s->rope_cs, s->rope_cs_swa};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) gpu_buffer_free(bufs[i]);
    for (int l = 0; s->k_cache && l < s->w->c.n_layers; l++) gpu_buffer_free(s->k_cache[l]);
    for (int l = 0; s->v_cache && l < s->w->c.n_layers; l++) gpu_buffer_free(s->v_cache[l]);
    free(s->k_cache);
    free(s->v_cache);
    free(s);
}

int decoder_encode_forward(decoder_state *s, const step_params *p, int capture, int read_logits, char *err,
                           size_t errlen) {
    int bad = p->n_tokens == 0 || p->n_tokens > (uint32_t)s->n_batch || p->n_out > (uint32_t)s->n_out_max;
    uint64_t rows = (uint64_t)s->n_seq * s->n_ctx;
    if (p->multi) {
        bad |= p->n_tokens > STEP_MULTI_MAX;
        for (uint32_t t = 0; !bad && t < p->n_tokens; t++)
            bad |= p->tok[2 * t] >= (uint32_t)s->n_ctx || p->tok[2 * t + 1] >= rows;
    } else {
        bad |= p->pos0 + (uint64_t)p->n_tokens > (uint64_t)s->n_ctx || p->row0 % s->n_ctx != 0 || p->row0 >= rows;
    }
    if (bad) {
        set_err(err, errlen, "forward pass out of range (pos %u + %u tokens, context %d)", p->pos0, p->n_tokens, s->n_ctx);
        return -1;
    }
    gpu_buffer_write(s->dev, s->step, 0, p, step_params_bytes(p));
    if (graph_replay(s->g, p, capture) != 0) { set_err(err, errlen, "%s", graph_error(s->g)); return -1; }
    if (read_logits) gpu_copy(s->dev, s->logits, 0, s->logits_rb, 0, (uint64_t)p->n_out * s->w->c.n_vocab * 4);
    return 0;
}

gpu_buffer *decoder_state_ids(decoder_state *s) { return s->ids; }
gpu_buffer *decoder_state_logits_readback(decoder_state *s) { return s->logits_rb; }
gpu_buffer *decoder_state_logits(decoder_state *s) { return s->logits; }
graph *decoder_state_graph(decoder_state *s) { return s->g; }
