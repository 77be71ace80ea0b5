/* Llama on the GPU. forward() below is the whole model, written once in
 * terms of graph ops; it runs when a context is created and is replayed
 * for every step. */
#include "models/llama_gpu.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"

typedef struct {
    gpu_buffer *attn_norm, *ffn_norm;
    gpu_matrix wq, wk, wv, wo, w_gate, w_up, w_down;
} llama_layer;

struct llama_weights {
    llama_config c;
    gpu_matrix tok_embd, output; /* output aliases tok_embd when tied */
    gpu_buffer *out_norm;
    llama_layer *layers;
    float *rope_freqs;           /* per-pair divisors (Llama 3), or NULL */
};

struct llama_state {
    gpu_device *dev;
    const llama_weights *w;
    int n_ctx, n_batch, n_out_max;
    gpu_buffer *step, *ids;
    gpu_buffer *x, *xn, *q, *k, *v, *att, *gate, *up, *scores, *logits, *logits_rb;
    gpu_buffer **k_cache, **v_cache; /* one per layer, so no single buffer outgrows a binding */
    gpu_buffer *rope_cs;
    graph *g;
};

int begin_llama_weights(const llama_config *c, llama_weights **out, char *err, size_t errlen) {
    llama_weights *w = calloc(1, sizeof *w);
    if (!w || !(w->layers = calloc((size_t)c->n_layers, sizeof *w->layers))) {
        free(w);
        set_err(err, errlen, "out of memory");
        return -1;
    }
    w->c = *c;
    *out = w;
    return 0;
}

/* Where a tensor goes, by its GGUF name: a matrix, a vector, or (rope_freqs)
 * a host copy. The config check has already refused names not listed here. */
static int destination(llama_weights *w, const char *name, gpu_matrix **mat, gpu_buffer ***vec) {
    *mat = NULL;
    *vec = NULL;
    if (!strcmp(name, "token_embd.weight")) *mat = &w->tok_embd;
    else if (!strcmp(name, "output.weight")) *mat = &w->output;
    else if (!strcmp(name, "output_norm.weight")) *vec = &w->out_norm;
    else if (!strcmp(name, "rope_freqs.weight")) return 0;
    else {
        int l, n = 0;
        char field[32];
        if (sscanf(name, "blk.%d.%31[a-z_].weight%n", &l, field, &n) != 2 || name[n] || l < 0 || l >= w->c.n_layers)
            return -1;
        llama_layer *L = &w->layers[l];
        static const struct { const char *name; size_t off; int is_vec; } fields[] = {
            {"attn_norm", offsetof(llama_layer, attn_norm), 1}, {"ffn_norm", offsetof(llama_layer, ffn_norm), 1},
            {"attn_q", offsetof(llama_layer, wq), 0},           {"attn_k", offsetof(llama_layer, wk), 0},
            {"attn_v", offsetof(llama_layer, wv), 0},           {"attn_output", offsetof(llama_layer, wo), 0},
            {"ffn_gate", offsetof(llama_layer, w_gate), 0},     {"ffn_up", offsetof(llama_layer, w_up), 0},
            {"ffn_down", offsetof(llama_layer, w_down), 0},
        };
        size_t i = 0;
        while (i < sizeof fields / sizeof *fields && strcmp(fields[i].name, field)) i++;
        if (i == sizeof fields / sizeof *fields) return -1;
        if (fields[i].is_vec) *vec = (gpu_buffer **)((char *)L + fields[i].off);
        else *mat = (gpu_matrix *)((char *)L + fields[i].off);
    }
    return 0;
}

int llama_weights_tensor(llama_weights *w, gpu_device *d, const gguf_tensor *t, char *err, size_t errlen) {
    char name[96];
    snprintf(name, sizeof name, "%.*s", (int)(t->name.len < 95 ? t->name.len : 95), t->name.ptr);
    gpu_matrix *mat;
    gpu_buffer **vec;
    if (destination(w, name, &mat, &vec) != 0) {
        set_err(err, errlen, "unexpected tensor '%s'", text_show(t->name.ptr, t->name.len));
        return -1;
    }
    if (!strcmp(name, "rope_freqs.weight")) {
        if (t->type != GGML_TYPE_F32) { set_err(err, errlen, "rope_freqs.weight must be f32"); return -1; }
        free(w->rope_freqs);
        if (!(w->rope_freqs = malloc(t->nbytes))) { set_err(err, errlen, "out of memory"); return -1; }
        memcpy(w->rope_freqs, t->data, t->nbytes);
        return 0;
    }
    if ((mat && mat->n_chunks) || (vec && *vec)) {
        set_err(err, errlen, "tensor '%s' given twice", text_show(t->name.ptr, t->name.len));
        return -1;
    }
    if (mat) return gpu_matrix_upload(d, t, mat, err, errlen);
    return (*vec = gpu_vector_upload(d, t, err, errlen)) ? 0 : -1;
}

int complete_llama_weights(llama_weights *w, char *err, size_t errlen) {
    if (w->c.tied_output) w->output = w->tok_embd;
    if (!w->tok_embd.n_chunks || !w->output.n_chunks || !w->out_norm || (w->c.has_rope_freqs && !w->rope_freqs)) {
        set_err(err, errlen, "model incomplete: a global tensor was never loaded");
        return -1;
    }
    for (int l = 0; l < w->c.n_layers; l++) {
        llama_layer *L = &w->layers[l];
        if (!L->attn_norm || !L->ffn_norm || !L->wq.n_chunks || !L->wk.n_chunks || !L->wv.n_chunks ||
            !L->wo.n_chunks || !L->w_gate.n_chunks || !L->w_up.n_chunks || !L->w_down.n_chunks) {
            set_err(err, errlen, "model incomplete: layer %d was not fully loaded", l);
            return -1;
        }
    }
    return 0;
}

void free_llama_weights(llama_weights *w) {
    if (!w) return;
    for (int l = 0; l < w->c.n_layers && w->layers; l++) {
        llama_layer *L = &w->layers[l];
        gpu_buffer_free(L->attn_norm);
        gpu_buffer_free(L->ffn_norm);
        gpu_matrix *m[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down};
        for (size_t i = 0; i < sizeof m / sizeof *m; i++) gpu_matrix_free(m[i]);
    }
    if (!w->c.tied_output) gpu_matrix_free(&w->output);
    gpu_matrix_free(&w->tok_embd);
    gpu_buffer_free(w->out_norm);
    free(w->layers);
    free(w->rope_freqs);
    free(w);
}

/* cos/sin for every (position, pair), in double precision on the CPU,
 * exactly as the reference computes the angles. */
static float *rope_table(const llama_config *c, const float *freqs, int n_ctx) {
    int pairs = c->rope_dim / 2;
    float *t = malloc((size_t)n_ctx * pairs * 2 * sizeof(float));
    if (!t) return NULL;
    for (int pos = 0; pos < n_ctx; pos++)
        for (int i = 0; i < pairs; i++) {
            double theta = ((double)pos / c->rope_linear_scale) * pow(c->rope_theta, -2.0 * i / c->rope_dim);
            if (freqs) theta /= freqs[i];
            t[((size_t)pos * pairs + i) * 2] = (float)cos(theta);
            t[((size_t)pos * pairs + i) * 2 + 1] = (float)sin(theta);
        }
    return t;
}

static void op_rope(llama_state *s, const kernel_set *k, int layer) {
    const llama_config *c = &s->w->c;
    uint32_t p[8] = {(uint32_t)c->n_heads, (uint32_t)c->n_kv_heads, (uint32_t)c->head_dim, (uint32_t)(c->rope_dim / 2),
                     0, (uint32_t)(c->n_kv_heads * c->head_dim), (uint32_t)(c->n_heads * c->head_dim), 0};
    gpu_binding b[6] = {{s->q, 0, 0}, {s->k, 0, 0}, {s->v, 0, 0}, {s->k_cache[layer], 0, 0},
                        {s->v_cache[layer], 0, 0}, {s->rope_cs, 0, 0}};
    graph_dispatch(s->g, k->rope, p, sizeof p, b, 6, (grid_rule){0, (uint32_t)(c->n_heads + c->n_kv_heads), 0, 1});
}

static void op_attention(llama_state *s, const kernel_set *k, int layer) {
    const llama_config *c = &s->w->c;
    struct { uint32_t n_heads, n_kv_heads, head_dim, kv_dim, q_dim, cache_off, n_ctx; float scale; } p = {
        (uint32_t)c->n_heads, (uint32_t)c->n_kv_heads, (uint32_t)c->head_dim, (uint32_t)(c->n_kv_heads * c->head_dim),
        (uint32_t)(c->n_heads * c->head_dim), 0, (uint32_t)s->n_ctx, 1.0f / sqrtf((float)c->head_dim)};
    gpu_binding b[5] = {{s->q, 0, 0}, {s->k_cache[layer], 0, 0}, {s->v_cache[layer], 0, 0}, {s->scores, 0, 0},
                        {s->att, 0, 0}};
    graph_dispatch(s->g, k->attention, &p, sizeof p, b, 5, (grid_rule){0, (uint32_t)c->n_heads, 0, k->group_slots});
}

/* The model. */
static void forward(llama_state *s, const kernel_set *k) {
    const llama_weights *w = s->w;
    const llama_config *c = &w->c;
    graph *g = s->g;
    int q_dim = c->n_heads * c->head_dim, kv_dim = c->n_kv_heads * c->head_dim;

    op_embed(g, &w->tok_embd, s->ids, s->x);
    graph_capture(g, "embed", -1, s->x, c->dim, 0);
    for (int l = 0; l < c->n_layers; l++) {
        const llama_layer *L = &w->layers[l];
        /* attention */
        op_rmsnorm(g, s->x, L->attn_norm, s->xn, c->dim, c->norm_eps, 0);
        graph_capture(g, "attn_norm", l, s->xn, c->dim, 0);
        op_matmul(g, &L->wq, s->xn, s->q, q_dim, 0, 0);
        op_matmul(g, &L->wk, s->xn, s->k, kv_dim, 0, 0);
        op_matmul(g, &L->wv, s->xn, s->v, kv_dim, 0, 0);
        op_rope(s, k, l);
        graph_capture(g, "q", l, s->q, q_dim, 0);
        graph_capture(g, "k", l, s->k, kv_dim, 0);
        graph_capture(g, "v", l, s->v, kv_dim, 0);
        op_attention(s, k, l);
        graph_capture(g, "attn", l, s->att, q_dim, 0);
        op_matmul(g, &L->wo, s->att, s->x, c->dim, 1, 0); /* residual add fused */
        graph_capture(g, "attn_res", l, s->x, c->dim, 0);
        /* feed-forward */
        op_rmsnorm(g, s->x, L->ffn_norm, s->xn, c->dim, c->norm_eps, 0);
        graph_capture(g, "ffn_norm", l, s->xn, c->dim, 0);
        op_matmul(g, &L->w_gate, s->xn, s->gate, c->hidden_dim, 0, 0);
        op_matmul(g, &L->w_up, s->xn, s->up, c->hidden_dim, 0, 0);
        op_swiglu(g, s->gate, s->up, c->hidden_dim);
        graph_capture(g, "ffn_act", l, s->gate, c->hidden_dim, 0);
        op_matmul(g, &L->w_down, s->gate, s->x, c->dim, 1, 0);
        graph_capture(g, "layer_out", l, s->x, c->dim, 0);
    }
    /* only the rows whose logits are wanted */
    op_rmsnorm(g, s->x, w->out_norm, s->xn, c->dim, c->norm_eps, 1);
    graph_capture(g, "out_norm", -1, s->xn, c->dim, 1);
    op_matmul(g, &w->output, s->xn, s->logits, c->n_vocab, 0, 1);
    graph_capture(g, "logits", -1, s->logits, c->n_vocab, 1);
}

/* Every buffer a context needs, with its size, so that all are checked
 * against the device's limits before any is made. */
typedef struct { const char *name; uint64_t bytes; int bound; } state_buffer;

static int state_buffers(const llama_config *c, int n_ctx, int n_batch, int n_out_max, state_buffer *out) {
    uint64_t B = (uint64_t)n_batch, q_dim = (uint64_t)c->n_heads * c->head_dim,
             kv_dim = (uint64_t)c->n_kv_heads * c->head_dim, logit_bytes = (uint64_t)n_out_max * c->n_vocab * 4;
    const state_buffer list[] = {
        {"ids", B * 4, 1},
        {"x", B * c->dim * 4, 1},
        {"xn", B * c->dim * 4, 1},
        {"q", B * q_dim * 4, 1},
        {"k", B * kv_dim * 4, 1},
        {"v", B * kv_dim * 4, 1},
        {"att", B * q_dim * 4, 1},
        {"gate", B * c->hidden_dim * 4, 1},
        {"up", B * c->hidden_dim * 4, 1},
        {"scores", (uint64_t)c->n_heads * B * n_ctx * 4, 1},
        {"logits", logit_bytes, 1},
        {"logits_rb", logit_bytes, 0}, /* read back, never bound */
        {"k_cache", (uint64_t)n_ctx * kv_dim * 4, 1},
        {"v_cache", (uint64_t)n_ctx * kv_dim * 4, 1},
        {"rope_cs", (uint64_t)n_ctx * (c->rope_dim / 2) * 8, 1},
    };
    memcpy(out, list, sizeof list);
    return (int)(sizeof list / sizeof *list);
}

static unsigned long long mb(uint64_t bytes) { return (unsigned long long)((bytes + (1 << 20) - 1) >> 20); }

static int check_state_limits(gpu_device *d, const llama_config *c, int n_ctx, int n_batch, int n_out_max,
                              char *err, size_t errlen) {
    const gpu_limits *L = gpu_get_limits(d);
    state_buffer b[16];
    int n = state_buffers(c, n_ctx, n_batch, n_out_max, b);
    for (int i = 0; i < n; i++) {
        /* gpu_buffer_create rounds sizes up to 16 bytes */
        uint64_t bytes = (b[i].bytes + 15) & ~(uint64_t)15, lim = L->max_buffer_size;
        const char *verb = "makes";
        if (b[i].bound && L->max_storage_binding <= lim) lim = L->max_storage_binding, verb = "binds";
        if (bytes > lim) {
            set_err(err, errlen, "context of %d tokens with batch %d needs buffers larger than this device %s "
                    "(%llu MB; %s needs %llu MB); use a smaller -c or --batch",
                    n_ctx, n_batch, verb, (unsigned long long)(lim >> 20), b[i].name, mb(bytes));
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
    gpu_buffer *b = gpu_buffer_create(d, bytes, usage, name);
    if (!b) {
        const char *e = gpu_take_error(d);
        set_err(err, errlen, "context of %d tokens with batch %d needs a buffer of %llu MB (%s) that this device "
                "could not make (%s); use a smaller -c or --batch", n_ctx, n_batch, mb(bytes), name,
                e ? e : "no reason given");
    }
    return b;
}

int build_llama_state(gpu_device *d, const kernel_set *k, const llama_weights *w, int n_ctx, int n_batch,
                      int n_out_max, llama_state **out, char *err, size_t errlen) {
    const llama_config *c = &w->c;
    *out = NULL;
    if ((uint32_t)c->head_dim > 32 * k->group_lanes) { /* attention.wgsl's MAXD */
        set_err(err, errlen, "head size %d is larger than the attention kernel handles on this adapter (%u)",
                c->head_dim, 32 * k->group_lanes);
        return -1;
    }
    if (check_state_limits(d, c, n_ctx, n_batch, n_out_max, err, errlen) != 0) return -1;
    llama_state *s = calloc(1, sizeof *s);
    if (!s) { set_err(err, errlen, "out of memory"); return -1; }
    *out = s;
    s->dev = d;
    s->w = w;
    s->n_ctx = n_ctx;
    s->n_batch = n_batch;
    s->n_out_max = n_out_max;
    state_buffer sb[16];
    int nb = state_buffers(c, n_ctx, n_batch, n_out_max, sb);
    /* in the order of state_buffers */
    gpu_buffer **field[] = {&s->ids, &s->x, &s->xn, &s->q, &s->k, &s->v, &s->att, &s->gate, &s->up,
                            &s->scores, &s->logits, &s->logits_rb};
    if (!(s->step = state_buffer_create(d, 16, GPU_UNIFORM, "step", n_ctx, n_batch, err, errlen))) return -1;
    for (size_t i = 0; i < sizeof field / sizeof *field; i++) {
        unsigned usage = sb[i].bound ? GPU_STORAGE : GPU_READBACK;
        if (!(*field[i] = state_buffer_create(d, sb[i].bytes, usage, sb[i].name, n_ctx, n_batch, err, errlen))) return -1;
    }
    const state_buffer *kv = &sb[nb - 3]; /* k_cache; v_cache is the same size */
    s->k_cache = calloc((size_t)c->n_layers, sizeof *s->k_cache);
    s->v_cache = calloc((size_t)c->n_layers, sizeof *s->v_cache);
    if (!s->k_cache || !s->v_cache) { set_err(err, errlen, "out of memory"); return -1; }
    for (int l = 0; l < c->n_layers; l++) {
        if (!(s->k_cache[l] = state_buffer_create(d, kv->bytes, GPU_STORAGE, "k_cache", n_ctx, n_batch, err, errlen)) ||
            !(s->v_cache[l] = state_buffer_create(d, kv->bytes, GPU_STORAGE, "v_cache", n_ctx, n_batch, err, errlen)))
            return -1;
    }
    float *cs = rope_table(c, w->rope_freqs, n_ctx);
    if (!cs) { set_err(err, errlen, "out of memory"); return -1; }
    uint64_t cs_bytes = sb[nb - 1].bytes;
    s->rope_cs = state_buffer_create(d, cs_bytes ? cs_bytes : 16, GPU_STORAGE, "rope_cs", n_ctx, n_batch, err, errlen);
    if (!s->rope_cs) { free(cs); return -1; }
    gpu_buffer_write(d, s->rope_cs, 0, cs, cs_bytes);
    free(cs);

    s->g = graph_create(d, k, s->step);
    if (!s->g) { set_err(err, errlen, "out of memory"); return -1; }
    forward(s, k);
    if (graph_error(s->g)) { set_err(err, errlen, "%s", graph_error(s->g)); return -1; }
    return 0;
}

void free_llama_state(llama_state *s) {
    if (!s) return;
    graph_free(s->g);
    gpu_buffer *bufs[] = {s->step, s->ids, s->x, s->xn, s->q, s->k, s->v, s->att, s->gate, s->up,
                          s->scores, s->logits, s->logits_rb, s->rope_cs};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) gpu_buffer_free(bufs[i]);
    for (int l = 0; s->k_cache && l < s->w->c.n_layers; l++) gpu_buffer_free(s->k_cache[l]);
    for (int l = 0; s->v_cache && l < s->w->c.n_layers; l++) gpu_buffer_free(s->v_cache[l]);
    free(s->k_cache);
    free(s->v_cache);
    free(s);
}

int llama_encode_forward(llama_state *s, const step_params *p, int capture, char *err, size_t errlen) {
    if (p->n_tokens == 0 || p->n_tokens > (uint32_t)s->n_batch || p->n_out > (uint32_t)s->n_out_max ||
        p->pos0 + p->n_tokens > (uint32_t)s->n_ctx) {
        set_err(err, errlen, "forward pass out of range (pos %u + %u tokens, context %d)", p->pos0, p->n_tokens, s->n_ctx);
        return -1;
    }
    gpu_buffer_write(s->dev, s->step, 0, p, sizeof *p);
    if (graph_replay(s->g, p, capture) != 0) { set_err(err, errlen, "%s", graph_error(s->g)); return -1; }
    gpu_copy(s->dev, s->logits, 0, s->logits_rb, 0, (uint64_t)p->n_out * s->w->c.n_vocab * 4);
    return 0;
}

gpu_buffer *llama_state_ids(llama_state *s) { return s->ids; }
gpu_buffer *llama_state_step(llama_state *s) { return s->step; }
gpu_buffer *llama_state_logits_readback(llama_state *s) { return s->logits_rb; }
graph *llama_state_graph(llama_state *s) { return s->g; }
