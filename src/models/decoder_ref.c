/* The CPU reference forward pass: every weight dequantized to f32 once, then
 * the decoder's maths written out plainly, layer by layer over the whole
 * batch so each capture point sees all tokens at once. The config says which
 * terms a family has (biases, q/k norm, the RoPE pairing); the weights come
 * by role, so no family's tensor names appear here.
 *
 * Dot products, norms and softmax sums accumulate in double. The reference is
 * what the f32 engines are judged against, so it should sit closer to the
 * exact result than any of them rather than add one more f32 rounding pattern
 * of its own; the f32 inputs and outputs keep it comparable with them.
 *
 * Weights are exact (dequantized), but each matrix keeps its file type: in a
 * forward of two or more tokens, the products with Q8_0 and Q4_0 matrices
 * take their input rows through quantize_act_q8_fake first, as the GPU's
 * matrix-matrix kernel quantizes a step's activations to 8 bits for its
 * integer dot products (quant_int8_matmul). A forward of one token keeps
 * f32 activations, as the GPU's one-token kernels do. */
#include "models/decoder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/dtype.h"
#include "formats/quant.h"
#include "util/util.h"

typedef struct {
    float *attn_norm;   /* [dim] */
    float *wq;          /* [n_heads * head_dim][dim] */
    float *wk, *wv;     /* [kv_dim][dim] */
    float *bq, *bk, *bv; /* [q_dim], [kv_dim]: biases, or NULL */
    float *q_norm, *k_norm; /* [head_dim]: per-head RMSNorm weights, or NULL */
    float *wo;          /* [dim][n_heads * head_dim] */
    float *ffn_norm;    /* [dim] */
    float *w_gate, *w_up; /* [hidden_dim][dim] */
    float *w_down;      /* [dim][hidden_dim] */
    float *attn_norm_b, *ffn_norm_b; /* [dim]: LayerNorm biases, or NULL */
    float *wqkv, *bqkv; /* Q, K, V stacked (wq, wk, wv and the biases then point into them), or NULL */
    float *bo, *b_up, *b_down; /* biases, or NULL */
    float *attn_post_norm, *ffn_post_norm; /* [dim], or NULL */
    uint32_t type[ROLE_COUNT]; /* each role's ggml type in the file: a matrix's says whether its
                                  products take q8 activations (quant_int8_matmul) */
} ref_layer;

/* Where each per-layer role lands. */
static const struct { tensor_role role; size_t off; } layer_fields[] = {
    {ROLE_ATTN_NORM, offsetof(ref_layer, attn_norm)}, {ROLE_ATTN_Q, offsetof(ref_layer, wq)},
    {ROLE_ATTN_K, offsetof(ref_layer, wk)},           {ROLE_ATTN_V, offsetof(ref_layer, wv)},
    {ROLE_ATTN_Q_BIAS, offsetof(ref_layer, bq)},      {ROLE_ATTN_K_BIAS, offsetof(ref_layer, bk)},
    {ROLE_ATTN_V_BIAS, offsetof(ref_layer, bv)},      {ROLE_ATTN_Q_NORM, offsetof(ref_layer, q_norm)},
    {ROLE_ATTN_K_NORM, offsetof(ref_layer, k_norm)},  {ROLE_ATTN_OUT, offsetof(ref_layer, wo)},
    {ROLE_FFN_NORM, offsetof(ref_layer, ffn_norm)},   {ROLE_FFN_GATE, offsetof(ref_layer, w_gate)},
    {ROLE_FFN_UP, offsetof(ref_layer, w_up)},         {ROLE_FFN_DOWN, offsetof(ref_layer, w_down)},
    {ROLE_ATTN_NORM_BIAS, offsetof(ref_layer, attn_norm_b)}, {ROLE_FFN_NORM_BIAS, offsetof(ref_layer, ffn_norm_b)},
    {ROLE_ATTN_QKV, offsetof(ref_layer, wqkv)},       {ROLE_ATTN_QKV_BIAS, offsetof(ref_layer, bqkv)},
    {ROLE_ATTN_OUT_BIAS, offsetof(ref_layer, bo)},    {ROLE_FFN_UP_BIAS, offsetof(ref_layer, b_up)},
    {ROLE_FFN_DOWN_BIAS, offsetof(ref_layer, b_down)}, {ROLE_ATTN_POST_NORM, offsetof(ref_layer, attn_post_norm)},
    {ROLE_FFN_POST_NORM, offsetof(ref_layer, ffn_post_norm)},
};
#define N_LAYER_FIELDS (sizeof layer_fields / sizeof *layer_fields)

struct decoder_ref {
    decoder_config c;
    int max_ctx;
    float *token_embd;  /* [n_vocab][dim] */
    float *output;      /* [n_vocab][dim]; aliases token_embd when tied */
    uint32_t output_type; /* its ggml type in the file */
    float *output_norm; /* [dim] */
    float *output_norm_b; /* [dim], or NULL */
    float *pos_embd;    /* [n_ctx_train][dim], or NULL */
    float *rope_freqs;  /* [rope_dim / 2] divisors, or NULL */
    ref_layer *layers;
    float *key_cache, *value_cache; /* [n_layers][max_ctx][kv_dim] */
    decoder_input_fn inputs; /* the GPU's product inputs (decoder_ref_feed_inputs), or NULL */
    void *inputs_user;
};

void decoder_ref_feed_inputs(decoder_ref *r, decoder_input_fn fn, void *user) {
    r->inputs = fn;
    r->inputs_user = user;
}

/* Dequantizes a whole tensor of ne0 x ne1 elements (rows of ne0) to f32.
 * The shape is checked again here so a config from elsewhere cannot make
 * the build read past a tensor. */
static float *load(const gguf_file *g, const char *name, uint64_t ne0, uint64_t ne1, uint32_t *type, char *err,
                   size_t errlen) {
    const gguf_tensor *t = gguf_find_tensor(g, name);
    if (!t) { set_err(err, errlen, "missing tensor '%s'", name); return NULL; }
    if (type) *type = t->type;
    uint64_t n = 1;
    for (uint32_t i = 0; i < t->n_dims; i++) n *= t->ne[i];
    if (t->ne[0] != ne0 || n != ne0 * ne1) {
        set_err(err, errlen, "tensor '%s' does not match the model config (%llu x %llu expected)", name,
                (unsigned long long)ne0, (unsigned long long)ne1);
        return NULL;
    }
    const dtype_info *dt = dtype_of(t->type);
    if (!dt || !dt->dequant || ne0 % dt->block_elems != 0) {
        set_err(err, errlen, "tensor '%s' has type %s, which the CPU reference cannot dequantize", name,
                ggml_type_name(t->type));
        return NULL;
    }
    uint64_t row_bytes = dtype_row_bytes(dt, ne0);
    if (!t->data || t->nbytes < row_bytes * ne1) {
        set_err(err, errlen, "tensor '%s' has no data loaded", name);
        return NULL;
    }
    float *w = malloc(n * sizeof *w);
    if (!w) {
        set_err(err, errlen, "out of memory for tensor '%s' (%llu MiB as f32)", name,
                (unsigned long long)(n * sizeof *w >> 20));
        return NULL;
    }
    for (uint64_t r = 0; r < ne1; r++) {
        if (dequantize_row(t->type, t->data + r * row_bytes, w + r * ne0, (int64_t)ne0) != 0) {
            set_err(err, errlen, "tensor '%s': cannot dequantize %s", name, ggml_type_name(t->type));
            free(w);
            return NULL;
        }
    }
    return w;
}

/* The tensor of a role (of layer l) as f32, by the family's name for it;
 * its type in the file to *type (type may be NULL). */
static float *load_role(const gguf_file *g, const decoder_config *c, tensor_role role, int l, uint32_t *type,
                        char *err, size_t errlen) {
    char name[96];
    uint64_t ne[2];
    if (!decoder_tensor_name(c, role, l, name, sizeof name)) {
        set_err(err, errlen, "the %s family has no tensor for role %d", c->family->arch, (int)role);
        return NULL;
    }
    decoder_role_shape(c, role, ne);
    return load(g, name, ne[0], ne[1], type, err, errlen);
}

void decoder_ref_free(decoder_ref *r) {
    if (!r) return;
    if (r->output != r->token_embd) free(r->output);
    free(r->token_embd);
    free(r->output_norm);
    free(r->output_norm_b);
    free(r->pos_embd);
    free(r->rope_freqs);
    for (int l = 0; r->layers && l < r->c.n_layers; l++) {
        ref_layer *L = &r->layers[l];
        if (L->wqkv) L->wq = L->wk = L->wv = NULL; /* views into wqkv */
        if (L->bqkv) L->bq = L->bk = L->bv = NULL;
        for (size_t i = 0; i < N_LAYER_FIELDS; i++) free(*(float **)((char *)L + layer_fields[i].off));
    }
    free(r->layers);
    free(r->key_cache);
    free(r->value_cache);
    free(r);
}

int decoder_ref_build(const gguf_file *g, const decoder_config *c, int max_ctx, decoder_ref **out, char *err,
                      size_t errlen) {
    *out = NULL;
    if (max_ctx <= 0) { set_err(err, errlen, "context size %d must be positive", max_ctx); return -1; }
    if (!c->family || c->n_layers <= 0 || c->dim <= 0 || c->n_heads <= 0 || c->n_kv_heads <= 0 || c->head_dim <= 0 ||
        c->hidden_dim <= 0 || c->n_vocab <= 0 || c->n_heads % c->n_kv_heads != 0 ||
        c->rope_dim < 0 || c->rope_dim > c->head_dim || c->rope_dim % 2 || !(c->rope_linear_scale > 0)) {
        set_err(err, errlen, "invalid decoder config (use decoder_config_from_gguf)");
        return -1;
    }
    if (decoder_check_supported(c, err, errlen) != WGPT_OK) return -1;
    decoder_ref *r = calloc(1, sizeof *r);
    if (!r) { set_err(err, errlen, "out of memory"); return -1; }
    r->c = *c;
    r->max_ctx = max_ctx;
    size_t kv_dim = (size_t)c->n_kv_heads * c->head_dim;
    size_t cache_elems = (size_t)c->n_layers * (size_t)max_ctx * kv_dim;
    if (cache_elems / (size_t)max_ctx / kv_dim != (size_t)c->n_layers) cache_elems = SIZE_MAX / sizeof(float);
    r->key_cache = calloc(cache_elems, sizeof(float));
    r->value_cache = calloc(cache_elems, sizeof(float));
    r->layers = calloc((size_t)c->n_layers, sizeof *r->layers);
    if (!r->key_cache || !r->value_cache || !r->layers) {
        set_err(err, errlen, "out of memory for a KV cache of %d positions", max_ctx);
        decoder_ref_free(r);
        return -1;
    }

    /* output_type: the embedding's, which a tied output is, else the output's own below */
    if (!(r->token_embd = load_role(g, c, ROLE_TOKEN_EMBD, -1, &r->output_type, err, errlen)) ||
        !(r->output_norm = load_role(g, c, ROLE_OUTPUT_NORM, -1, NULL, err, errlen)))
        goto fail;
    if (c->tied_output) r->output = r->token_embd;
    else if (!(r->output = load_role(g, c, ROLE_OUTPUT, -1, &r->output_type, err, errlen))) goto fail;
    if (c->has_rope_freqs && !(r->rope_freqs = load_role(g, c, ROLE_ROPE_FREQS, -1, NULL, err, errlen))) goto fail;
    if (c->has[ROLE_OUTPUT_NORM_BIAS] &&
        !(r->output_norm_b = load_role(g, c, ROLE_OUTPUT_NORM_BIAS, -1, NULL, err, errlen)))
        goto fail;
    if (c->has[ROLE_POS_EMBD] && !(r->pos_embd = load_role(g, c, ROLE_POS_EMBD, -1, NULL, err, errlen))) goto fail;
    size_t q_dim = (size_t)c->n_heads * c->head_dim;
    for (int l = 0; l < c->n_layers; l++) {
        ref_layer *L = &r->layers[l];
        for (size_t i = 0; i < N_LAYER_FIELDS; i++) {
            tensor_role role = layer_fields[i].role;
            float **dst = (float **)((char *)L + layer_fields[i].off);
            if (c->has[role] && !(*dst = load_role(g, c, role, l, &L->type[role], err, errlen))) goto fail;
        }
        if (L->wqkv) { /* rows: Q's, then K's, then V's */
            L->wq = L->wqkv;
            L->wk = L->wqkv + q_dim * c->dim;
            L->wv = L->wk + kv_dim * c->dim;
        }
        if (L->bqkv) {
            L->bq = L->bqkv;
            L->bk = L->bqkv + q_dim;
            L->bv = L->bk + kv_dim;
        }
    }
    *out = r;
    return 0;
fail:
    decoder_ref_free(r);
    return -1;
}

/* ---- the maths ---- */

static double dot(const float *a, const float *b, int n) {
    /* Four partial sums keep the adds independent; in double the grouping
     * does not matter at f32 precision. */
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += (double)a[i] * b[i];
        s1 += (double)a[i + 1] * b[i + 1];
        s2 += (double)a[i + 2] * b[i + 2];
        s3 += (double)a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) s0 += (double)a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

/* y[o] = sum_i W[o][i] x[i] for each of n rows of x; W is [out][in] as GGUF
 * stores it (ne[0] = in is contiguous). */
static void matmul(float *y, const float *x, const float *w, int n, int in, int out) {
    for (int t = 0; t < n; t++)
        for (int o = 0; o < out; o++)
            y[(size_t)t * out + o] = (float)dot(w + (size_t)o * in, x + (size_t)t * in, in);
}

/* llama.cpp's ggml_rms_norm then the weight multiply: x / sqrt(mean(x^2) + eps) * w. */
static void rmsnorm(float *y, const float *x, const float *w, int n, int dim, float eps) {
    for (int t = 0; t < n; t++) {
        const float *xt = x + (size_t)t * dim;
        float *yt = y + (size_t)t * dim;
        double ss = 0;
        for (int i = 0; i < dim; i++) ss += (double)xt[i] * xt[i];
        float scale = (float)(1.0 / sqrt(ss / dim + eps));
        for (int i = 0; i < dim; i++) yt[i] = (xt[i] * scale) * w[i];
    }
}

/* llama.cpp's ggml_norm then weight and bias: (x - mean) / sqrt(var + eps) * w + b. */
static void layernorm(float *y, const float *x, const float *w, const float *b, int n, int dim, float eps) {
    for (int t = 0; t < n; t++) {
        const float *xt = x + (size_t)t * dim;
        float *yt = y + (size_t)t * dim;
        double sum = 0, ss = 0;
        for (int i = 0; i < dim; i++) sum += xt[i];
        double mean = sum / dim;
        for (int i = 0; i < dim; i++) ss += (xt[i] - mean) * (xt[i] - mean);
        double scale = 1.0 / sqrt(ss / dim + eps);
        for (int i = 0; i < dim; i++) yt[i] = (float)((xt[i] - mean) * scale) * w[i] + b[i];
    }
}

/* The norm of the config's kind. */
static void norm(const decoder_config *c, float *y, const float *x, const float *w, const float *b, int n) {
    if (c->norm == NORM_LAYER) layernorm(y, x, w, b, n, c->dim, c->norm_eps);
    else rmsnorm(y, x, w, n, c->dim, c->norm_eps);
}

/* GELU, tanh form (ggml_gelu; llama.cpp's CPU build reads it from a table
 * at f16 inputs, the exact function is what both engines aim at):
 * 0.5 x (1 + tanh(u)) written as x / (1 + exp(-2u)), the same function
 * without the cancellation of 1 + tanh(u) for negative x. */
static float gelu(float x) {
    double u = 0.7978845608028654 * x * (1.0 + 0.044715 * (double)x * x);
    return (float)(x / (1.0 + exp(-2.0 * u)));
}

/* y[t] += b for each of n rows of width (a projection's bias). */
static void add_bias(float *y, const float *b, int n, int width) {
    for (int t = 0; b && t < n; t++)
        for (int i = 0; i < width; i++) y[(size_t)t * width + i] += b[i];
}

/* RoPE on each head's first rope_dim values: pair i turns by
 * theta_i = pos / scale * base^(-2i/rope_dim) / freqs[i]. llama.cpp's NORMAL
 * mode pairs (2i, 2i+1); its NEOX mode pairs (i, i + rope_dim/2). Windowed
 * layers take their own base, unscaled. */
static void rope(float *v, int n_heads, int head_dim, int pos, const decoder_config *c, const float *freqs,
                 int windowed) {
    int half = c->rope_dim / 2, neox = c->rope == ROPE_NEOX;
    double base = windowed ? c->rope_theta_swa : c->rope_theta, lin = windowed ? 1.0 : c->rope_linear_scale;
    if (windowed) freqs = NULL;
    for (int i = 0; i < half; i++) {
        double theta = (double)pos / lin * pow(base, -2.0 * i / c->rope_dim);
        if (freqs) theta /= freqs[i];
        float cs = (float)cos(theta), sn = (float)sin(theta);
        int i0 = neox ? i : 2 * i, i1 = neox ? i + half : 2 * i + 1;
        for (int h = 0; h < n_heads; h++) {
            float *p = v + (size_t)h * head_dim;
            float x0 = p[i0], x1 = p[i1];
            p[i0] = x0 * cs - x1 * sn;
            p[i1] = x0 * sn + x1 * cs;
        }
    }
}

static float silu(float x) { return x / (1.0f + expf(-x)); }

#define CAPTURE(name, layer, data, width) \
    do { if (capture) capture(user, name, layer, data, n, width); } while (0)

/* Scratch for one forward of n tokens. */
typedef struct {
    float *x;      /* [n][dim] the residual stream */
    float *xb;     /* [n][dim] normed input of a block */
    float *q;      /* [n][q_dim] */
    float *k, *v;  /* [n][kv_dim] */
    float *att;    /* [n][q_dim] attention output, all heads */
    float *proj;   /* [n][dim] a block's output before the residual */
    float *gate, *up; /* [n][hidden_dim] */
    float *xq;     /* [n][max(dim, q_dim, hidden_dim)]: a product's input as q8 activations */
    double *scores; /* [max_ctx + head_dim]: one head's scores, then its sum */
} ref_scratch;

/* What a product with a matrix of type w_type multiplies, x being the
 * activation `name` (of layer l, width in): x itself, or in a step of two
 * or more tokens with a matrix the GPU multiplies in int8, x's rows as q8
 * activations in s->xq, quantized from the GPU's own input where it is fed
 * (decoder_ref_feed_inputs). */
static const float *product_input(const decoder_ref *r, const ref_scratch *s, const float *x, uint32_t w_type,
                                  const char *name, int l, int n, int in) {
    if (n < 2 || !quant_int8_matmul(w_type)) return x;
    const float *fed = r->inputs ? r->inputs(r->inputs_user, name, l, n, in) : NULL;
    quantize_act_q8_fake(fed ? fed : x, s->xq, (int64_t)n * in);
    return s->xq;
}

/* x += proj, or x += rmsnorm(proj) * post_norm (Gemma's norms after a block). */
static void add_block(const decoder_config *c, const ref_scratch *s, const float *post_norm, int n) {
    if (post_norm) rmsnorm(s->proj, s->proj, post_norm, n, c->dim, c->norm_eps);
    for (size_t i = 0; i < (size_t)n * c->dim; i++) s->x[i] += s->proj[i];
}

/* x += Wo attention(q, k, v) over the cache, from xb = norm(x); this
 * step's K and V join the cache of layer l. */
static void build_attn(decoder_ref *r, const ref_scratch *s, int l, int n, int pos0, decoder_capture_fn capture,
                       void *user) {
    const decoder_config *c = &r->c;
    const ref_layer *w = &r->layers[l];
    const int dim = c->dim, hd = c->head_dim, q_dim = c->n_heads * hd, kv_dim = c->n_kv_heads * hd,
              group = c->n_heads / c->n_kv_heads;
    float *q = s->q, *k = s->k, *v = s->v;
    float *kc = r->key_cache + (size_t)l * r->max_ctx * kv_dim;
    float *vc = r->value_cache + (size_t)l * r->max_ctx * kv_dim;
    /* a stacked QKV matrix: the type of its parts is its own */
    const uint32_t *ty = w->type;
    uint32_t tq = w->wqkv ? ty[ROLE_ATTN_QKV] : ty[ROLE_ATTN_Q], tk = w->wqkv ? ty[ROLE_ATTN_QKV] : ty[ROLE_ATTN_K],
             tv = w->wqkv ? ty[ROLE_ATTN_QKV] : ty[ROLE_ATTN_V];
    matmul(q, product_input(r, s, s->xb, tq, "attn_norm", l, n, dim), w->wq, n, dim, q_dim);
    matmul(k, product_input(r, s, s->xb, tk, "attn_norm", l, n, dim), w->wk, n, dim, kv_dim);
    matmul(v, product_input(r, s, s->xb, tv, "attn_norm", l, n, dim), w->wv, n, dim, kv_dim);
    add_bias(q, w->bq, n, q_dim);
    add_bias(k, w->bk, n, kv_dim);
    add_bias(v, w->bv, n, kv_dim);
    if (w->q_norm) { /* each head normed on its own, before RoPE */
        rmsnorm(q, q, w->q_norm, n * c->n_heads, hd, c->norm_eps);
        rmsnorm(k, k, w->k_norm, n * c->n_kv_heads, hd, c->norm_eps);
        CAPTURE("q_normed", l, q, q_dim);
        CAPTURE("k_normed", l, k, kv_dim);
    }
    int windowed = decoder_layer_windowed(c, l);
    for (int t = 0; c->rope != ROPE_NONE && t < n; t++) {
        rope(q + (size_t)t * q_dim, c->n_heads, hd, pos0 + t, c, r->rope_freqs, windowed);
        rope(k + (size_t)t * kv_dim, c->n_kv_heads, hd, pos0 + t, c, r->rope_freqs, windowed);
    }
    CAPTURE("q", l, q, q_dim);
    CAPTURE("k", l, k, kv_dim);
    CAPTURE("v", l, v, kv_dim);
    memcpy(kc + (size_t)pos0 * kv_dim, k, (size_t)n * kv_dim * sizeof *k);
    memcpy(vc + (size_t)pos0 * kv_dim, v, (size_t)n * kv_dim * sizeof *v);

    /* Causal attention: the token at pos attends to cache positions 0..pos,
     * or in a windowed layer pos - window + 1..pos. */
    const double scale = c->attn_scale;
    double *scores = s->scores;
    for (int t = 0; t < n; t++) {
        int pos = pos0 + t;
        int first = windowed && pos + 1 > c->sliding_window ? pos + 1 - c->sliding_window : 0;
        for (int h = 0; h < c->n_heads; h++) {
            const float *qh = q + (size_t)t * q_dim + (size_t)h * hd;
            int kvh = h / group;
            double max = -INFINITY, sum = 0;
            for (int p = first; p <= pos; p++) {
                scores[p] = dot(qh, kc + (size_t)p * kv_dim + (size_t)kvh * hd, hd) * scale;
                if (scores[p] > max) max = scores[p];
            }
            for (int p = first; p <= pos; p++) { scores[p] = exp(scores[p] - max); sum += scores[p]; }
            double *acc = scores + r->max_ctx;
            for (int i = 0; i < hd; i++) acc[i] = 0;
            for (int p = first; p <= pos; p++) {
                const float *vp = vc + (size_t)p * kv_dim + (size_t)kvh * hd;
                double a = scores[p] / sum;
                for (int i = 0; i < hd; i++) acc[i] += a * vp[i];
            }
            float *oh = s->att + (size_t)t * q_dim + (size_t)h * hd;
            for (int i = 0; i < hd; i++) oh[i] = (float)acc[i];
        }
    }
    CAPTURE("attn", l, s->att, q_dim);
    matmul(s->proj, product_input(r, s, s->att, ty[ROLE_ATTN_OUT], "attn", l, n, q_dim), w->wo, n, q_dim, dim);
    add_bias(s->proj, w->bo, n, dim);
    add_block(c, s, w->attn_post_norm, n);
    CAPTURE("attn_res", l, s->x, dim);
}

/* x += Wdown act(...), from xb = norm(x): silu(Wgate xb) * Wup xb,
 * gelu(Wgate xb) * Wup xb, or gelu(Wup xb + bup) (GPT-2); + bdown. */
static void build_ffn(decoder_ref *r, const ref_scratch *s, int l, int n, decoder_capture_fn capture, void *user) {
    const decoder_config *c = &r->c;
    const ref_layer *w = &r->layers[l];
    const int dim = c->dim, ffn = c->hidden_dim;
    size_t nf = (size_t)n * ffn;
    if (c->ffn == FFN_GELU) {
        matmul(s->gate, product_input(r, s, s->xb, w->type[ROLE_FFN_UP], "ffn_norm", l, n, dim), w->w_up, n, dim, ffn);
        add_bias(s->gate, w->b_up, n, ffn);
        for (size_t i = 0; i < nf; i++) s->gate[i] = gelu(s->gate[i]);
    } else {
        matmul(s->gate, product_input(r, s, s->xb, w->type[ROLE_FFN_GATE], "ffn_norm", l, n, dim), w->w_gate, n, dim,
               ffn);
        matmul(s->up, product_input(r, s, s->xb, w->type[ROLE_FFN_UP], "ffn_norm", l, n, dim), w->w_up, n, dim, ffn);
        add_bias(s->up, w->b_up, n, ffn);
        for (size_t i = 0; i < nf; i++)
            s->gate[i] = (c->ffn == FFN_GEGLU ? gelu(s->gate[i]) : silu(s->gate[i])) * s->up[i];
    }
    CAPTURE("ffn_act", l, s->gate, ffn);
    matmul(s->proj, product_input(r, s, s->gate, w->type[ROLE_FFN_DOWN], "ffn_act", l, n, ffn), w->w_down, n, ffn,
           dim);
    add_bias(s->proj, w->b_down, n, dim);
    add_block(c, s, w->ffn_post_norm, n);
}

int decoder_ref_forward(decoder_ref *r, const int32_t *tokens, int n, int pos0, float *logits,
                        decoder_capture_fn capture, void *user, char *err, size_t errlen) {
    const decoder_config *c = &r->c;
    const int dim = c->dim, hd = c->head_dim, q_dim = c->n_heads * hd, kv_dim = c->n_kv_heads * hd,
              ffn = c->hidden_dim, vocab = c->n_vocab;
    if (n <= 0 || pos0 < 0) { set_err(err, errlen, "bad batch: %d tokens at position %d", n, pos0); return -1; }
    if ((int64_t)pos0 + n > r->max_ctx) {
        set_err(err, errlen, "context overflow: positions %d..%lld do not fit a context of %d", pos0,
                (long long)pos0 + n - 1, r->max_ctx);
        return -1;
    }
    if (r->pos_embd && (int64_t)pos0 + n > c->n_ctx_train) {
        set_err(err, errlen, "positions up to %lld are past the model's %d learned positions", (long long)pos0 + n - 1,
                c->n_ctx_train);
        return -1;
    }
    for (int t = 0; t < n; t++)
        if (tokens[t] < 0 || tokens[t] >= vocab) {
            set_err(err, errlen, "token %d at index %d is outside the vocabulary (0..%d)", tokens[t], t, vocab - 1);
            return -1;
        }

    size_t nn = (size_t)n, xq_width = (size_t)(dim > q_dim ? dim : q_dim);
    if ((size_t)ffn > xq_width) xq_width = (size_t)ffn;
    ref_scratch s = {
        malloc(nn * dim * sizeof(float)),    malloc(nn * dim * sizeof(float)),
        malloc(nn * q_dim * sizeof(float)),  malloc(nn * kv_dim * sizeof(float)),
        malloc(nn * kv_dim * sizeof(float)), malloc(nn * q_dim * sizeof(float)),
        malloc(nn * dim * sizeof(float)),    malloc(nn * ffn * sizeof(float)),
        malloc(nn * ffn * sizeof(float)),    malloc(nn * xq_width * sizeof(float)),
        malloc(((size_t)r->max_ctx + hd) * sizeof(double)),
    };
    int need_logits = logits || capture;
    float *lg = logits ? logits : need_logits ? malloc(nn * vocab * sizeof *lg) : NULL;
    int rc = -1;
    if (!s.x || !s.xb || !s.q || !s.k || !s.v || !s.att || !s.proj || !s.gate || !s.up || !s.xq || !s.scores ||
        (need_logits && !lg)) {
        set_err(err, errlen, "out of memory for a batch of %d tokens", n);
        goto done;
    }

    for (int t = 0; t < n; t++)
        for (int i = 0; i < dim; i++) {
            float v = r->token_embd[(size_t)tokens[t] * dim + i] * c->embed_scale;
            if (r->pos_embd) v += r->pos_embd[(size_t)(pos0 + t) * dim + i];
            s.x[(size_t)t * dim + i] = v;
        }
    CAPTURE("embed", -1, s.x, dim);
    for (int l = 0; l < c->n_layers; l++) {
        norm(c, s.xb, s.x, r->layers[l].attn_norm, r->layers[l].attn_norm_b, n);
        CAPTURE("attn_norm", l, s.xb, dim);
        build_attn(r, &s, l, n, pos0, capture, user);
        norm(c, s.xb, s.x, r->layers[l].ffn_norm, r->layers[l].ffn_norm_b, n);
        CAPTURE("ffn_norm", l, s.xb, dim);
        build_ffn(r, &s, l, n, capture, user);
        CAPTURE("layer_out", l, s.x, dim);
    }
    norm(c, s.xb, s.x, r->output_norm, r->output_norm_b, n);
    CAPTURE("out_norm", -1, s.xb, dim);
    if (need_logits) {
        /* all n rows' logits, as the GPU's step keeping every row's (logits_all)
         * computes them: with two or more, through its matrix-matrix kernel */
        matmul(lg, product_input(r, &s, s.xb, r->output_type, "out_norm", -1, n, dim), r->output, n, dim, vocab);
        for (size_t i = 0; c->final_softcap > 0 && i < (size_t)n * vocab; i++)
            lg[i] = (float)(c->final_softcap * tanh((double)lg[i] / c->final_softcap));
        CAPTURE("logits", -1, lg, vocab);
    }
    rc = 0;
done:
    free(s.x); free(s.xb); free(s.q); free(s.k); free(s.v); free(s.att); free(s.proj); free(s.gate); free(s.up);
    free(s.xq); free(s.scores);
    if (lg != logits) free(lg);
    return rc;
}
