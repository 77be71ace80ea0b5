/* The CPU reference forward pass: every weight dequantized to f32 once, then
 * the Llama maths written out plainly, layer by layer over the whole batch so
 * each capture point sees all tokens at once.
 *
 * Dot products, norms and softmax sums accumulate in double. The reference is
 * what the f32 engines are judged against, so it should sit closer to the
 * exact result than any of them rather than add one more f32 rounding pattern
 * of its own; the f32 inputs and outputs keep it comparable with them. */
#include "models/llama.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/quant.h"
#include "util/util.h"

typedef struct {
    float *attn_norm;   /* [dim] */
    float *wq;          /* [n_heads * head_dim][dim] */
    float *wk, *wv;     /* [kv_dim][dim] */
    float *wo;          /* [dim][n_heads * head_dim] */
    float *ffn_norm;    /* [dim] */
    float *w_gate, *w_up; /* [hidden_dim][dim] */
    float *w_down;      /* [dim][hidden_dim] */
} llama_ref_layer;

struct llama_ref {
    llama_config c;
    int max_ctx;
    float *token_embd;  /* [n_vocab][dim] */
    float *output;      /* [n_vocab][dim]; aliases token_embd when tied */
    float *output_norm; /* [dim] */
    float *rope_freqs;  /* [rope_dim / 2] divisors, or NULL */
    llama_ref_layer *layers;
    float *key_cache, *value_cache; /* [n_layers][max_ctx][kv_dim] */
};

/* Dequantizes a whole tensor of ne0 x ne1 elements (rows of ne0) to f32.
 * The shape is checked again here so a config from elsewhere cannot make
 * the build read past a tensor. */
static float *load(const gguf_file *g, const char *name, uint64_t ne0, uint64_t ne1, char *err, size_t errlen) {
    const gguf_tensor *t = gguf_find_tensor(g, name);
    if (!t) { set_err(err, errlen, "missing tensor '%s'", name); return NULL; }
    uint64_t n = 1;
    for (uint32_t i = 0; i < t->n_dims; i++) n *= t->ne[i];
    if (t->ne[0] != ne0 || n != ne0 * ne1) {
        set_err(err, errlen, "tensor '%s' does not match the model config (%llu x %llu expected)", name,
                (unsigned long long)ne0, (unsigned long long)ne1);
        return NULL;
    }
    uint32_t block_elems, block_bytes;
    if (!dequantize_supported(t->type) || ggml_type_block(t->type, &block_elems, &block_bytes) != 0 ||
        block_elems == 0 || ne0 % block_elems != 0) {
        set_err(err, errlen, "tensor '%s' has type %s, which the CPU reference cannot dequantize", name,
                ggml_type_name(t->type));
        return NULL;
    }
    uint64_t row_bytes = ne0 / block_elems * block_bytes;
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

void llama_ref_free(llama_ref *r) {
    if (!r) return;
    if (r->output != r->token_embd) free(r->output);
    free(r->token_embd);
    free(r->output_norm);
    free(r->rope_freqs);
    if (r->layers) {
        for (int l = 0; l < r->c.n_layers; l++) {
            llama_ref_layer *w = &r->layers[l];
            free(w->attn_norm); free(w->wq); free(w->wk); free(w->wv); free(w->wo);
            free(w->ffn_norm); free(w->w_gate); free(w->w_up); free(w->w_down);
        }
        free(r->layers);
    }
    free(r->key_cache);
    free(r->value_cache);
    free(r);
}

int llama_ref_build(const gguf_file *g, const llama_config *c, int max_ctx, llama_ref **out,
                    char *err, size_t errlen) {
    *out = NULL;
    if (max_ctx <= 0) { set_err(err, errlen, "context size %d must be positive", max_ctx); return -1; }
    if (c->n_layers <= 0 || c->dim <= 0 || c->n_heads <= 0 || c->n_kv_heads <= 0 || c->head_dim <= 0 ||
        c->hidden_dim <= 0 || c->n_vocab <= 0 || c->n_heads % c->n_kv_heads != 0 ||
        c->rope_dim < 0 || c->rope_dim > c->head_dim || c->rope_dim % 2 || !(c->rope_linear_scale > 0)) {
        set_err(err, errlen, "invalid llama config (use llama_config_from_gguf)");
        return -1;
    }
    llama_ref *r = calloc(1, sizeof *r);
    if (!r) { set_err(err, errlen, "out of memory"); return -1; }
    r->c = *c;
    r->max_ctx = max_ctx;
    const uint64_t dim = (uint64_t)c->dim, q_dim = (uint64_t)c->n_heads * c->head_dim,
                   kv_dim = (uint64_t)c->n_kv_heads * c->head_dim, ffn = (uint64_t)c->hidden_dim;

    size_t cache_elems = (size_t)c->n_layers * (size_t)max_ctx * kv_dim;
    if (cache_elems / (size_t)max_ctx / kv_dim != (size_t)c->n_layers) cache_elems = SIZE_MAX / sizeof(float);
    r->key_cache = calloc(cache_elems, sizeof(float));
    r->value_cache = calloc(cache_elems, sizeof(float));
    r->layers = calloc((size_t)c->n_layers, sizeof *r->layers);
    if (!r->key_cache || !r->value_cache || !r->layers) {
        set_err(err, errlen, "out of memory for a KV cache of %d positions", max_ctx);
        llama_ref_free(r);
        return -1;
    }

    if (!(r->token_embd = load(g, "token_embd.weight", dim, (uint64_t)c->n_vocab, err, errlen)) ||
        !(r->output_norm = load(g, "output_norm.weight", dim, 1, err, errlen)))
        goto fail;
    if (c->tied_output) r->output = r->token_embd;
    else if (!(r->output = load(g, "output.weight", dim, (uint64_t)c->n_vocab, err, errlen))) goto fail;
    if (c->has_rope_freqs &&
        !(r->rope_freqs = load(g, "rope_freqs.weight", (uint64_t)c->rope_dim / 2, 1, err, errlen)))
        goto fail;

    for (int l = 0; l < c->n_layers; l++) {
        llama_ref_layer *w = &r->layers[l];
        const struct { float **dst; const char *part; uint64_t ne0, ne1; } want[] = {
            {&w->attn_norm, "attn_norm", dim, 1},  {&w->wq, "attn_q", dim, q_dim},
            {&w->wk, "attn_k", dim, kv_dim},       {&w->wv, "attn_v", dim, kv_dim},
            {&w->wo, "attn_output", q_dim, dim},   {&w->ffn_norm, "ffn_norm", dim, 1},
            {&w->w_gate, "ffn_gate", dim, ffn},    {&w->w_up, "ffn_up", dim, ffn},
            {&w->w_down, "ffn_down", ffn, dim},
        };
        for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
            char name[64];
            snprintf(name, sizeof name, "blk.%d.%s.weight", l, want[i].part);
            if (!(*want[i].dst = load(g, name, want[i].ne0, want[i].ne1, err, errlen))) goto fail;
        }
    }
    *out = r;
    return 0;
fail:
    llama_ref_free(r);
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

/* llama.cpp's NORMAL rope: adjacent pairs (2i, 2i+1) of each head's first
 * rope_dim values turn by theta_i = pos / scale * base^(-2i/rope_dim) / freqs[i]. */
static void rope(float *v, int n_heads, int head_dim, int pos, const llama_config *c, const float *freqs) {
    for (int i = 0; i < c->rope_dim / 2; i++) {
        double theta = (double)pos / c->rope_linear_scale * pow(c->rope_theta, -2.0 * i / c->rope_dim);
        if (freqs) theta /= freqs[i];
        float cs = (float)cos(theta), sn = (float)sin(theta);
        for (int h = 0; h < n_heads; h++) {
            float *p = v + (size_t)h * head_dim + 2 * i;
            float x0 = p[0], x1 = p[1];
            p[0] = x0 * cs - x1 * sn;
            p[1] = x0 * sn + x1 * cs;
        }
    }
}

static float silu(float x) { return x / (1.0f + expf(-x)); }

#define CAPTURE(name, layer, data, width) \
    do { if (capture) capture(user, name, layer, data, n, width); } while (0)

int llama_ref_forward(llama_ref *r, const int32_t *tokens, int n, int pos0, float *logits,
                      llama_capture_fn capture, void *user, char *err, size_t errlen) {
    const llama_config *c = &r->c;
    const int dim = c->dim, hd = c->head_dim, q_dim = c->n_heads * hd, kv_dim = c->n_kv_heads * hd,
              ffn = c->hidden_dim, vocab = c->n_vocab, group = c->n_heads / c->n_kv_heads;
    if (n <= 0 || pos0 < 0) { set_err(err, errlen, "bad batch: %d tokens at position %d", n, pos0); return -1; }
    if ((int64_t)pos0 + n > r->max_ctx) {
        set_err(err, errlen, "context overflow: positions %d..%lld do not fit a context of %d", pos0,
                (long long)pos0 + n - 1, r->max_ctx);
        return -1;
    }
    for (int t = 0; t < n; t++)
        if (tokens[t] < 0 || tokens[t] >= vocab) {
            set_err(err, errlen, "token %d at index %d is outside the vocabulary (0..%d)", tokens[t], t, vocab - 1);
            return -1;
        }

    size_t nn = (size_t)n;
    float *x = malloc(nn * dim * sizeof *x);          /* the residual stream */
    float *xb = malloc(nn * dim * sizeof *xb);        /* normed input of a block */
    float *q = malloc(nn * q_dim * sizeof *q);
    float *k = malloc(nn * kv_dim * sizeof *k);
    float *v = malloc(nn * kv_dim * sizeof *v);
    float *att = malloc(nn * q_dim * sizeof *att);    /* attention output, all heads */
    float *proj = malloc(nn * dim * sizeof *proj);    /* a block's output before the residual */
    float *gate = malloc(nn * ffn * sizeof *gate);
    float *up = malloc(nn * ffn * sizeof *up);
    double *scores = malloc(((size_t)r->max_ctx + hd) * sizeof *scores); /* then the head's sum */
    int need_logits = logits || capture;
    float *lg = logits ? logits : need_logits ? malloc(nn * vocab * sizeof *lg) : NULL;
    int rc = -1;
    if (!x || !xb || !q || !k || !v || !att || !proj || !gate || !up || !scores || (need_logits && !lg)) {
        set_err(err, errlen, "out of memory for a batch of %d tokens", n);
        goto done;
    }

    for (int t = 0; t < n; t++)
        memcpy(x + (size_t)t * dim, r->token_embd + (size_t)tokens[t] * dim, dim * sizeof *x);
    CAPTURE("embed", -1, x, dim);

    const double scale = 1.0 / sqrt((double)hd);
    for (int l = 0; l < c->n_layers; l++) {
        const llama_ref_layer *w = &r->layers[l];
        float *kc = r->key_cache + (size_t)l * r->max_ctx * kv_dim;
        float *vc = r->value_cache + (size_t)l * r->max_ctx * kv_dim;

        rmsnorm(xb, x, w->attn_norm, n, dim, c->norm_eps);
        CAPTURE("attn_norm", l, xb, dim);
        matmul(q, xb, w->wq, n, dim, q_dim);
        matmul(k, xb, w->wk, n, dim, kv_dim);
        matmul(v, xb, w->wv, n, dim, kv_dim);
        for (int t = 0; t < n; t++) {
            rope(q + (size_t)t * q_dim, c->n_heads, hd, pos0 + t, c, r->rope_freqs);
            rope(k + (size_t)t * kv_dim, c->n_kv_heads, hd, pos0 + t, c, r->rope_freqs);
        }
        CAPTURE("q", l, q, q_dim);
        CAPTURE("k", l, k, kv_dim);
        CAPTURE("v", l, v, kv_dim);
        memcpy(kc + (size_t)pos0 * kv_dim, k, nn * kv_dim * sizeof *k);
        memcpy(vc + (size_t)pos0 * kv_dim, v, nn * kv_dim * sizeof *v);

        /* Causal attention: the token at pos attends to cache positions 0..pos. */
        for (int t = 0; t < n; t++) {
            int pos = pos0 + t;
            for (int h = 0; h < c->n_heads; h++) {
                const float *qh = q + (size_t)t * q_dim + (size_t)h * hd;
                int kvh = h / group;
                double max = -INFINITY, sum = 0;
                for (int p = 0; p <= pos; p++) {
                    scores[p] = dot(qh, kc + (size_t)p * kv_dim + (size_t)kvh * hd, hd) * scale;
                    if (scores[p] > max) max = scores[p];
                }
                for (int p = 0; p <= pos; p++) { scores[p] = exp(scores[p] - max); sum += scores[p]; }
                double *acc = scores + r->max_ctx;
                for (int i = 0; i < hd; i++) acc[i] = 0;
                for (int p = 0; p <= pos; p++) {
                    const float *vp = vc + (size_t)p * kv_dim + (size_t)kvh * hd;
                    double a = scores[p] / sum;
                    for (int i = 0; i < hd; i++) acc[i] += a * vp[i];
                }
                float *oh = att + (size_t)t * q_dim + (size_t)h * hd;
                for (int i = 0; i < hd; i++) oh[i] = (float)acc[i];
            }
        }
        CAPTURE("attn", l, att, q_dim);
        matmul(proj, att, w->wo, n, q_dim, dim);
        for (size_t i = 0; i < nn * dim; i++) x[i] += proj[i];
        CAPTURE("attn_res", l, x, dim);

        rmsnorm(xb, x, w->ffn_norm, n, dim, c->norm_eps);
        CAPTURE("ffn_norm", l, xb, dim);
        matmul(gate, xb, w->w_gate, n, dim, ffn);
        matmul(up, xb, w->w_up, n, dim, ffn);
        for (size_t i = 0; i < nn * ffn; i++) gate[i] = silu(gate[i]) * up[i];
        CAPTURE("ffn_act", l, gate, ffn);
        matmul(proj, gate, w->w_down, n, ffn, dim);
        for (size_t i = 0; i < nn * dim; i++) x[i] += proj[i];
        CAPTURE("layer_out", l, x, dim);
    }

    rmsnorm(xb, x, r->output_norm, n, dim, c->norm_eps);
    CAPTURE("out_norm", -1, xb, dim);
    if (need_logits) {
        matmul(lg, xb, r->output, n, dim, vocab);
        CAPTURE("logits", -1, lg, vocab);
    }
    rc = 0;
done:
    free(x); free(xb); free(q); free(k); free(v); free(att); free(proj); free(gate); free(up); free(scores);
    if (lg != logits) free(lg);
    return rc;
}
