/* The decoder config reader and the CPU reference forward, on tiny Llama,
 * Qwen 2 and Qwen 3 models written as GGUF bytes here, with weights simple
 * enough to check each stage by hand: every matrix is a scaled shifted
 * identity y[o] = s * x[(o+off) % in]. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "formats/gguf.h"
#include "formats/quant.h"
#include "models/decoder.h"
#include "util/util.h"

/* ---------- a minimal GGUF writer ---------- */

typedef struct { uint8_t *p; size_t len, cap; } buf;

static void put(buf *b, const void *d, size_t n) {
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 256;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}
static void put_u32(buf *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(buf *b, uint64_t v) { put(b, &v, 8); }
static void put_str(buf *b, const char *s) { put_u64(b, strlen(s)); put(b, s, strlen(s)); }

typedef struct {
    char key[64];
    uint32_t type;      /* UINT32, INT32, FLOAT32, STRING, or ARRAY (of n strings) */
    uint64_t u;
    int64_t i;
    float f;
    char s[32];
} kv_spec;

typedef struct {
    char name[64];
    uint32_t n_dims, type; /* F32, F16 or Q8_0 (rows a multiple of 32) */
    uint64_t ne[2];
    float *data;
} tensor_spec;

typedef struct {
    kv_spec kv[40];
    int n_kv;
    tensor_spec t[64];
    int n_t;
} model_spec;

static kv_spec *find_kv(model_spec *m, const char *key) {
    for (int i = 0; i < m->n_kv; i++) if (!strcmp(m->kv[i].key, key)) return &m->kv[i];
    return NULL;
}
static kv_spec *set_kv(model_spec *m, const char *key, uint32_t type) {
    kv_spec *k = find_kv(m, key);
    if (!k) { assert_true(m->n_kv < 40); k = &m->kv[m->n_kv++]; }
    memset(k, 0, sizeof *k);
    snprintf(k->key, sizeof k->key, "%s", key);
    k->type = type;
    return k;
}
static void kv_u32(model_spec *m, const char *key, uint32_t v) { set_kv(m, key, GGUF_TYPE_UINT32)->u = v; }
static void kv_i32(model_spec *m, const char *key, int32_t v) { set_kv(m, key, GGUF_TYPE_INT32)->i = v; }
static void kv_f32(model_spec *m, const char *key, float v) { set_kv(m, key, GGUF_TYPE_FLOAT32)->f = v; }
static void kv_str(model_spec *m, const char *key, const char *v) {
    snprintf(set_kv(m, key, GGUF_TYPE_STRING)->s, 32, "%s", v);
}
static void kv_tokens(model_spec *m, uint64_t n) { set_kv(m, "tokenizer.ggml.tokens", GGUF_TYPE_ARRAY)->u = n; }
static void remove_kv(model_spec *m, const char *key) {
    kv_spec *k = find_kv(m, key);
    assert_non_null(k);
    *k = m->kv[--m->n_kv];
}

static tensor_spec *find_t(model_spec *m, const char *name) {
    for (int i = 0; i < m->n_t; i++) if (!strcmp(m->t[i].name, name)) return &m->t[i];
    return NULL;
}
static tensor_spec *add_t(model_spec *m, const char *name, uint32_t n_dims, uint64_t ne0, uint64_t ne1) {
    assert_true(m->n_t < 64);
    tensor_spec *t = &m->t[m->n_t++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->n_dims = n_dims;
    t->type = GGML_TYPE_F32;
    t->ne[0] = ne0;
    t->ne[1] = n_dims > 1 ? ne1 : 1;
    t->data = calloc(ne0 * t->ne[1], sizeof(float));
    return t;
}
static void remove_t(model_spec *m, const char *name) {
    tensor_spec *t = find_t(m, name);
    assert_non_null(t);
    free(t->data);
    *t = m->t[--m->n_t];
}
static void spec_free(model_spec *m) {
    for (int i = 0; i < m->n_t; i++) free(m->t[i].data);
    m->n_t = 0;
}

static uint64_t tensor_bytes(const tensor_spec *t) {
    uint64_t n = t->ne[0] * t->ne[1];
    return t->type == GGML_TYPE_Q8_0 ? n / 32 * 34 : n * (t->type == GGML_TYPE_F16 ? 2 : 4);
}

/* ggml's quantize_row_q8_0_ref: per block of 32, d = amax / 127 (stored as
 * f16), q = round(x / d). */
static void put_q8_0(buf *b, const float *x, size_t n) {
    for (size_t j = 0; j < n; j += 32) {
        float amax = 0;
        for (int i = 0; i < 32; i++) amax = fmaxf(amax, fabsf(x[j + i]));
        const float d = amax / 127, id = d ? 1.0f / d : 0.0f;
        uint16_t h = f32_to_f16(d);
        put(b, &h, 2);
        for (int i = 0; i < 32; i++) {
            int8_t q = (int8_t)roundf(x[j + i] * id);
            put(b, &q, 1);
        }
    }
}

static uint8_t *serialize(const model_spec *m, size_t *len) {
    buf b = {0};
    put(&b, "GGUF", 4);
    put_u32(&b, 3);
    put_u64(&b, (uint64_t)m->n_t);
    put_u64(&b, (uint64_t)m->n_kv);
    for (int i = 0; i < m->n_kv; i++) {
        const kv_spec *k = &m->kv[i];
        put_str(&b, k->key);
        put_u32(&b, k->type);
        switch (k->type) {
        case GGUF_TYPE_UINT32: put_u32(&b, (uint32_t)k->u); break;
        case GGUF_TYPE_INT32: put_u32(&b, (uint32_t)(int32_t)k->i); break;
        case GGUF_TYPE_FLOAT32: put(&b, &k->f, 4); break;
        case GGUF_TYPE_STRING: put_str(&b, k->s); break;
        case GGUF_TYPE_ARRAY:
            put_u32(&b, GGUF_TYPE_STRING);
            put_u64(&b, k->u);
            for (uint64_t j = 0; j < k->u; j++) { char s[32]; snprintf(s, sizeof s, "t%llu", (unsigned long long)j); put_str(&b, s); }
            break;
        default: fail();
        }
    }
    uint64_t offset = 0;
    for (int i = 0; i < m->n_t; i++) {
        const tensor_spec *t = &m->t[i];
        put_str(&b, t->name);
        put_u32(&b, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) put_u64(&b, t->ne[d]);
        put_u32(&b, t->type);
        put_u64(&b, offset);
        offset += (tensor_bytes(t) + 31) / 32 * 32;
    }
    while (b.len % 32) put(&b, "", 1);
    for (int i = 0; i < m->n_t; i++) {
        const tensor_spec *t = &m->t[i];
        size_t n = t->ne[0] * t->ne[1];
        if (t->type == GGML_TYPE_Q8_0) put_q8_0(&b, t->data, n);
        for (size_t j = 0; t->type != GGML_TYPE_Q8_0 && j < n; j++) {
            if (t->type == GGML_TYPE_F16) { uint16_t h = f32_to_f16(t->data[j]); put(&b, &h, 2); }
            else put(&b, &t->data[j], 4);
        }
        while (b.len % 32) put(&b, "", 1);
    }
    *len = b.len;
    return b.p;
}

/* ---------- the tiny model ---------- */

typedef struct {
    int dim, n_heads, n_kv_heads, hidden, vocab, n_layers;
    const char *arch;   /* NULL: llama */
    int head_dim;       /* 0: dim / n_heads; else written as <arch>.attention.key_length */
    int qkv_bias;       /* attn_q/k/v.bias (Qwen 2) */
    int qk_norm;        /* attn_q_norm/attn_k_norm (Qwen 3) */
} tiny;
static const tiny TINY = {.dim = 8, .n_heads = 2, .n_kv_heads = 1, .hidden = 4, .vocab = 6, .n_layers = 1};

/* W[o][i] = s where i == (o + off) % in: y[o] = s * x[(o + off) % in]. */
static void shifted_identity(tensor_spec *t, int off, float s) {
    for (uint64_t o = 0; o < t->ne[1]; o++) t->data[o * t->ne[0] + (o + off) % t->ne[0]] = s;
}
static void shifted(float *y, const float *x, int in, int out, int off, float s) {
    for (int o = 0; o < out; o++) y[o] = s * x[(o + off) % in];
}

static float embd_value(int t, int i) { return (float)((((t + 1) * (i + 3)) % 11) - 5) / 8; }
static float attn_norm_w(int i) { return 1 + 0.25f * i; }
static float ffn_norm_w(int i) { return 1 + 0.5f * (i % 2); }

/* bias value i of a projection: small, distinct, exact in f32 */
static float bias_value(int i) { return (float)((i % 5) - 2) / 16; }
static float qk_norm_w(int i) { return 0.5f + 0.25f * (i % 3); }

/* "<arch>.<suffix>" for the tiny model's arch */
static const char *akey(const tiny *c, const char *suffix) {
    static char k[96];
    snprintf(k, sizeof k, "%s.%s", c->arch ? c->arch : "llama", suffix);
    return k;
}

static void build_tiny(model_spec *m, const tiny *c) {
    memset(m, 0, sizeof *m);
    int hd = c->head_dim ? c->head_dim : c->dim / c->n_heads, q_dim = c->n_heads * hd, kv_dim = c->n_kv_heads * hd;
    kv_str(m, "general.architecture", c->arch ? c->arch : "llama");
    kv_u32(m, akey(c, "context_length"), 64);
    kv_u32(m, akey(c, "embedding_length"), (uint32_t)c->dim);
    kv_u32(m, akey(c, "block_count"), (uint32_t)c->n_layers);
    kv_u32(m, akey(c, "feed_forward_length"), (uint32_t)c->hidden);
    kv_u32(m, akey(c, "attention.head_count"), (uint32_t)c->n_heads);
    kv_u32(m, akey(c, "attention.head_count_kv"), (uint32_t)c->n_kv_heads);
    if (c->head_dim) kv_u32(m, akey(c, "attention.key_length"), (uint32_t)c->head_dim);
    kv_f32(m, akey(c, "attention.layer_norm_rms_epsilon"), 1e-5f);
    kv_f32(m, akey(c, "rope.freq_base"), 10000.0f);
    kv_tokens(m, (uint64_t)c->vocab);

    tensor_spec *t = add_t(m, "token_embd.weight", 2, c->dim, c->vocab);
    t->type = GGML_TYPE_F16; /* eighths are exact in f16: exercises dequantization */
    for (int v = 0; v < c->vocab; v++)
        for (int i = 0; i < c->dim; i++) t->data[v * c->dim + i] = embd_value(v, i);
    t = add_t(m, "output_norm.weight", 1, c->dim, 0);
    for (int i = 0; i < c->dim; i++) t->data[i] = 1;
    for (int l = 0; l < c->n_layers; l++) {
        char name[64];
#define LAYER_T(part, nd, a, b) (snprintf(name, sizeof name, "blk.%d." part ".weight", l), add_t(m, name, nd, a, b))
        t = LAYER_T("attn_norm", 1, c->dim, 0);
        for (int i = 0; i < c->dim; i++) t->data[i] = attn_norm_w(i);
        shifted_identity(LAYER_T("attn_q", 2, c->dim, q_dim), 0, 1);
        shifted_identity(LAYER_T("attn_k", 2, c->dim, kv_dim), 4, 1);
        shifted_identity(LAYER_T("attn_v", 2, c->dim, kv_dim), 0, 2);
        shifted_identity(LAYER_T("attn_output", 2, q_dim, c->dim), 0, 1);
        if (c->qkv_bias) {
            const char *part[3] = {"attn_q", "attn_k", "attn_v"};
            int width[3] = {q_dim, kv_dim, kv_dim};
            for (int j = 0; j < 3; j++) {
                snprintf(name, sizeof name, "blk.%d.%s.bias", l, part[j]);
                t = add_t(m, name, 1, width[j], 0);
                for (int i = 0; i < width[j]; i++) t->data[i] = bias_value(i + j);
            }
        }
        if (c->qk_norm) {
            t = LAYER_T("attn_q_norm", 1, hd, 0);
            for (int i = 0; i < hd; i++) t->data[i] = qk_norm_w(i);
            t = LAYER_T("attn_k_norm", 1, hd, 0);
            for (int i = 0; i < hd; i++) t->data[i] = qk_norm_w(i + 1);
        }
        t = LAYER_T("ffn_norm", 1, c->dim, 0);
        for (int i = 0; i < c->dim; i++) t->data[i] = ffn_norm_w(i);
        shifted_identity(LAYER_T("ffn_gate", 2, c->dim, c->hidden), 0, 1);
        shifted_identity(LAYER_T("ffn_up", 2, c->dim, c->hidden), 4, 1);
        shifted_identity(LAYER_T("ffn_down", 2, c->hidden, c->dim), 0, 0.5f);
#undef LAYER_T
    }
}

/* ---------- loading ---------- */

typedef struct { uint8_t *bytes; gguf_file g; decoder_config c; decoder_ref *r; } loaded;

/* Parses and reads the config; returns its rc with the message in err. */
static int load_config(const model_spec *m, loaded *L, char *err, size_t errlen) {
    size_t len;
    memset(L, 0, sizeof *L);
    L->bytes = serialize(m, &len);
    if (gguf_parse(&L->g, L->bytes, len, err, errlen) != 0) fail_msg("gguf_parse: %s", err);
    return decoder_config_from_gguf(&L->g, &L->c, err, errlen);
}

static void load_model(const model_spec *m, loaded *L, int max_ctx) {
    char err[256] = "";
    if (load_config(m, L, err, sizeof err) != 0) fail_msg("config: %s", err);
    if (decoder_ref_build(&L->g, &L->c, max_ctx, &L->r, err, sizeof err) != 0) fail_msg("build: %s", err);
}

static void unload(loaded *L) {
    decoder_ref_free(L->r);
    gguf_close(&L->g);
    free(L->bytes);
}

static void expect_config_error(const model_spec *m, const char *needle) {
    loaded L;
    char err[256] = "";
    assert_true(load_config(m, &L, err, sizeof err) < 0);
    if (!strstr(err, needle)) fail_msg("error '%s' does not contain '%s'", err, needle);
    assert_null(strchr(err, '\n'));
    unload(&L);
}

/* ---------- capture ---------- */

typedef struct {
    char name[16];
    int layer, n_tokens, width;
    float *data;
} shot;
typedef struct { shot s[128]; int n; } recorder;

static void record(void *user, const char *name, int layer, const float *data, int n_tokens, int width) {
    recorder *r = user;
    assert_true(r->n < 128);
    shot *s = &r->s[r->n++];
    snprintf(s->name, sizeof s->name, "%s", name);
    s->layer = layer;
    s->n_tokens = n_tokens;
    s->width = width;
    s->data = malloc((size_t)n_tokens * width * sizeof(float));
    memcpy(s->data, data, (size_t)n_tokens * width * sizeof(float));
}
static const shot *get(const recorder *r, const char *name, int layer) {
    for (int i = r->n - 1; i >= 0; i--)
        if (!strcmp(r->s[i].name, name) && r->s[i].layer == layer) return &r->s[i];
    fail_msg("no capture %s/%d", name, layer);
    return NULL;
}
static void recorder_clear(recorder *r) {
    for (int i = 0; i < r->n; i++) free(r->s[i].data);
    r->n = 0;
}

static void assert_close(const float *got, const float *want, int n, float tol, const char *what) {
    for (int i = 0; i < n; i++)
        if (!(fabsf(got[i] - want[i]) <= tol * (1 + fabsf(want[i]))))
            fail_msg("%s[%d] = %.7f, expected %.7f", what, i, got[i], want[i]);
}

static void rms(float *y, const float *x, float (*w)(int), int dim) {
    double ss = 0;
    for (int i = 0; i < dim; i++) ss += (double)x[i] * x[i];
    double s = 1 / sqrt(ss / dim + 1e-5);
    for (int i = 0; i < dim; i++) y[i] = (float)(x[i] * s * (w ? w(i) : 1));
}

/* Each head of v turned by thetas[i] on its pair (2i, 2i+1). */
static void rotate(float *y, const float *x, int n_heads, int hd, const double *thetas, int n_pairs) {
    memcpy(y, x, (size_t)n_heads * hd * sizeof *y);
    for (int h = 0; h < n_heads; h++)
        for (int i = 0; i < n_pairs; i++) {
            double a = x[h * hd + 2 * i], b = x[h * hd + 2 * i + 1];
            y[h * hd + 2 * i] = (float)(a * cos(thetas[i]) - b * sin(thetas[i]));
            y[h * hd + 2 * i + 1] = (float)(a * sin(thetas[i]) + b * cos(thetas[i]));
        }
}

/* ---------- config tests ---------- */

static void test_config_reads_metadata(void **state) {
    (void)state;
    model_spec m;
    build_tiny(&m, &TINY);
    loaded L;
    char err[256] = "";
    assert_int_equal(load_config(&m, &L, err, sizeof err), 0);
    const decoder_config *c = &L.c;
    assert_int_equal(c->n_vocab, 6);
    assert_int_equal(c->dim, 8);
    assert_int_equal(c->n_layers, 1);
    assert_int_equal(c->n_heads, 2);
    assert_int_equal(c->n_kv_heads, 1);
    assert_int_equal(c->head_dim, 4);
    assert_int_equal(c->hidden_dim, 4);
    assert_int_equal(c->n_ctx_train, 64);
    assert_int_equal(c->rope_dim, 4);
    assert_true(c->norm_eps == 1e-5f && c->rope_theta == 10000.0f && c->rope_linear_scale == 1.0f);
    assert_int_equal(c->has_rope_freqs, 0);
    assert_int_equal(c->tied_output, 1);
    unload(&L);

    /* defaults: kv heads = heads, base 10000, vocab from token_embd */
    remove_kv(&m, "llama.attention.head_count_kv");
    remove_kv(&m, "llama.rope.freq_base");
    remove_kv(&m, "tokenizer.ggml.tokens");
    tensor_spec *k = find_t(&m, "blk.0.attn_k.weight"), *v = find_t(&m, "blk.0.attn_v.weight");
    k->ne[1] = v->ne[1] = 8;
    k->data = realloc(k->data, 64 * sizeof(float));
    v->data = realloc(v->data, 64 * sizeof(float));
    memset(k->data, 0, 64 * sizeof(float));
    memset(v->data, 0, 64 * sizeof(float));
    /* untied output and Llama 3 rope factors */
    add_t(&m, "output.weight", 2, 8, 6);
    add_t(&m, "rope_freqs.weight", 1, 2, 0);
    kv_str(&m, "llama.rope.scaling.type", "linear");
    kv_f32(&m, "llama.rope.scaling.factor", 4.0f);
    assert_int_equal(load_config(&m, &L, err, sizeof err), 0);
    assert_int_equal(L.c.n_kv_heads, 2);
    assert_true(L.c.rope_theta == 10000.0f);
    assert_int_equal(L.c.n_vocab, 6);
    assert_int_equal(L.c.tied_output, 0);
    assert_int_equal(L.c.has_rope_freqs, 1);
    assert_true(L.c.rope_linear_scale == 4.0f);
    unload(&L);

    /* vocab_size wins over the token list; key_length overrides dim / heads */
    kv_u32(&m, "llama.vocab_size", 6);
    kv_tokens(&m, 9);
    kv_u32(&m, "llama.attention.key_length", 4);
    kv_u32(&m, "llama.rope.dimension_count", 2);
    remove_t(&m, "rope_freqs.weight");
    kv_str(&m, "llama.rope.scaling.type", "none");
    assert_int_equal(load_config(&m, &L, err, sizeof err), 0);
    assert_int_equal(L.c.n_vocab, 6);
    assert_int_equal(L.c.head_dim, 4);
    assert_int_equal(L.c.rope_dim, 2);
    assert_true(L.c.rope_linear_scale == 1.0f);
    unload(&L);
    spec_free(&m);
}

static void test_config_errors(void **state) {
    (void)state;
    model_spec m;
    build_tiny(&m, &TINY);
    kv_str(&m, "general.architecture", "gptj");
    expect_config_error(&m, "unsupported architecture 'gptj' (supported: llama, qwen2, qwen3, gpt2, gemma3)");
    spec_free(&m);

    build_tiny(&m, &TINY);
    remove_kv(&m, "llama.embedding_length");
    expect_config_error(&m, "missing key 'llama.embedding_length'");
    spec_free(&m);

    build_tiny(&m, &TINY);
    kv_i32(&m, "llama.block_count", -2);
    expect_config_error(&m, "'llama.block_count' = -2 is out of range");
    spec_free(&m);

    build_tiny(&m, &TINY);
    kv_str(&m, "llama.feed_forward_length", "four");
    expect_config_error(&m, "'llama.feed_forward_length' has type");
    spec_free(&m);

    build_tiny(&m, &TINY);
    kv_u32(&m, "llama.attention.head_count_kv", 3);
    expect_config_error(&m, "head_count (2) is not a multiple of head_count_kv (3)");
    spec_free(&m);

    build_tiny(&m, &TINY);
    kv_u32(&m, "llama.attention.head_count", 3);
    kv_u32(&m, "llama.attention.head_count_kv", 3);
    expect_config_error(&m, "embedding_length (8) is not a multiple of head_count (3)");
    spec_free(&m);

    build_tiny(&m, &TINY);
    kv_f32(&m, "llama.attention.layer_norm_rms_epsilon", -1.0f);
    expect_config_error(&m, "layer_norm_rms_epsilon");
    spec_free(&m);

    build_tiny(&m, &TINY);
    kv_u32(&m, "llama.rope.dimension_count", 3);
    expect_config_error(&m, "llama.rope.dimension_count (3) must be even");
    spec_free(&m);

    build_tiny(&m, &TINY);
    kv_str(&m, "llama.rope.scaling.type", "yarn");
    expect_config_error(&m, "unsupported rope scaling type 'yarn'");
    spec_free(&m);

    build_tiny(&m, &TINY);
    remove_t(&m, "blk.0.ffn_up.weight");
    expect_config_error(&m, "missing tensor 'blk.0.ffn_up.weight'");
    spec_free(&m);

    build_tiny(&m, &TINY);
    find_t(&m, "blk.0.attn_k.weight")->ne[1] = 2; /* data shrinks: the parser still accepts it */
    expect_config_error(&m, "tensor 'blk.0.attn_k.weight' has shape [8, 2], expected [8, 4]");
    spec_free(&m);

    build_tiny(&m, &TINY);
    find_t(&m, "blk.0.ffn_down.weight")->ne[0] = 2;
    expect_config_error(&m, "tensor 'blk.0.ffn_down.weight' has shape [2, 8], expected [4, 8]");
    spec_free(&m);

    build_tiny(&m, &TINY);
    add_t(&m, "output.weight", 2, 8, 5);
    expect_config_error(&m, "tensor 'output.weight' has shape [8, 5], expected [8, 6]");
    spec_free(&m);

    build_tiny(&m, &TINY);
    add_t(&m, "blk.0.attn_q.bias", 1, 8, 0);
    expect_config_error(&m, "unexpected tensor 'blk.0.attn_q.bias'");
    spec_free(&m);

    build_tiny(&m, &TINY);
    add_t(&m, "blk.1.attn_q.weight", 2, 8, 8); /* a layer past block_count */
    expect_config_error(&m, "unexpected tensor 'blk.1.attn_q.weight'");
    spec_free(&m);
}

/* ---------- forward tests ---------- */

static void test_capture_order(void **state) {
    (void)state;
    tiny c = TINY;
    c.n_layers = 2;
    model_spec m;
    build_tiny(&m, &c);
    loaded L;
    load_model(&m, &L, 8);
    recorder rec = {0};
    const int32_t toks[3] = {1, 4, 2};
    float logits[3 * 6];
    char err[256];
    assert_int_equal(decoder_ref_forward(L.r, toks, 3, 0, logits, record, &rec, err, sizeof err), 0);
    static const char *per_layer[] = {"attn_norm", "q", "k", "v", "attn", "attn_res", "ffn_norm", "ffn_act", "layer_out"};
    static const int widths[] = {8, 8, 4, 4, 8, 8, 8, 4, 8};
    assert_int_equal(rec.n, 1 + 2 * 9 + 2);
    int i = 0;
    assert_string_equal(rec.s[i].name, "embed");
    assert_int_equal(rec.s[i].layer, -1);
    assert_int_equal(rec.s[i++].width, 8);
    for (int l = 0; l < 2; l++)
        for (int j = 0; j < 9; j++, i++) {
            assert_string_equal(rec.s[i].name, per_layer[j]);
            assert_int_equal(rec.s[i].layer, l);
            assert_int_equal(rec.s[i].width, widths[j]);
        }
    assert_string_equal(rec.s[i].name, "out_norm");
    assert_int_equal(rec.s[i++].layer, -1);
    assert_string_equal(rec.s[i].name, "logits");
    assert_int_equal(rec.s[i].layer, -1);
    assert_int_equal(rec.s[i].width, 6);
    for (int j = 0; j < rec.n; j++) assert_int_equal(rec.s[j].n_tokens, 3);
    /* the logits capture is what the caller receives */
    assert_memory_equal(rec.s[i].data, logits, sizeof logits);
    recorder_clear(&rec);
    unload(&L);
    spec_free(&m);
}

/* One token at position 0: each stage checked from the one before. */
static void test_stages_single_position(void **state) {
    (void)state;
    model_spec m;
    build_tiny(&m, &TINY);
    loaded L;
    load_model(&m, &L, 8);
    recorder rec = {0};
    const int32_t tok = 2;
    float logits[6];
    char err[256];
    assert_int_equal(decoder_ref_forward(L.r, &tok, 1, 0, logits, record, &rec, err, sizeof err), 0);

    float want[8], tmp[8];
    for (int i = 0; i < 8; i++) want[i] = embd_value(2, i);
    assert_close(get(&rec, "embed", -1)->data, want, 8, 0, "embed");

    /* RMSNorm by hand: mean(x^2) = 0.15625, times weights 1 + i/4 */
    const float norm[8] = {1.2648706f, -1.5810882f, -0.4743265f, 1.1067618f,
                           3.1621765f, -2.1344691f, 0.0f, 2.6087956f};
    const float *xb = get(&rec, "attn_norm", 0)->data;
    assert_close(xb, norm, 8, 1e-6f, "attn_norm");

    /* position 0: RoPE is the identity */
    assert_close(get(&rec, "q", 0)->data, xb, 8, 1e-6f, "q");
    shifted(want, xb, 8, 4, 4, 1);
    assert_close(get(&rec, "k", 0)->data, want, 4, 1e-6f, "k");
    float v[4];
    shifted(v, xb, 8, 4, 0, 2);
    assert_close(get(&rec, "v", 0)->data, v, 4, 1e-6f, "v");

    /* a single position: softmax weight 1, so each head's output is V;
     * both query heads share the one KV head */
    const float *att = get(&rec, "attn", 0)->data;
    assert_close(att, v, 4, 1e-6f, "attn head 0");
    assert_close(att + 4, v, 4, 1e-6f, "attn head 1");

    const float *x0 = get(&rec, "embed", -1)->data;
    for (int i = 0; i < 8; i++) want[i] = x0[i] + att[i];
    const float *res = get(&rec, "attn_res", 0)->data;
    assert_close(res, want, 8, 1e-6f, "attn_res");

    rms(want, res, ffn_norm_w, 8);
    const float *fn = get(&rec, "ffn_norm", 0)->data;
    assert_close(fn, want, 8, 1e-5f, "ffn_norm");

    float act[4];
    for (int i = 0; i < 4; i++) { float g = fn[i], u = fn[i + 4]; act[i] = g / (1 + expf(-g)) * u; }
    assert_close(get(&rec, "ffn_act", 0)->data, act, 4, 1e-6f, "ffn_act");

    shifted(tmp, act, 4, 8, 0, 0.5f);
    for (int i = 0; i < 8; i++) want[i] = res[i] + tmp[i];
    const float *out = get(&rec, "layer_out", 0)->data;
    assert_close(out, want, 8, 1e-6f, "layer_out");

    rms(want, out, NULL, 8);
    const float *on = get(&rec, "out_norm", -1)->data;
    assert_close(on, want, 8, 1e-5f, "out_norm");

    /* tied output: logits are dot products with the embedding rows */
    float lw[6];
    for (int t = 0; t < 6; t++) {
        double s = 0;
        for (int i = 0; i < 8; i++) s += (double)on[i] * embd_value(t, i);
        lw[t] = (float)s;
    }
    assert_close(logits, lw, 6, 1e-6f, "logits");
    recorder_clear(&rec);
    unload(&L);
    spec_free(&m);
}

/* Two positions: RoPE at position 1 by hand, softmax over two keys, and the
 * batch run matching the token-by-token run through the KV cache. */
static void test_two_positions(void **state) {
    (void)state;
    model_spec m;
    build_tiny(&m, &TINY);
    loaded L;
    load_model(&m, &L, 8);
    recorder rec = {0};
    const int32_t toks[2] = {0, 2};
    float logits_step[2 * 6], logits_batch[2 * 6];
    char err[256];
    assert_int_equal(decoder_ref_forward(L.r, &toks[0], 1, 0, logits_step, record, &rec, err, sizeof err), 0);
    float k0[4], v0[4];
    memcpy(k0, get(&rec, "k", 0)->data, sizeof k0);
    memcpy(v0, get(&rec, "v", 0)->data, sizeof v0);
    assert_int_equal(decoder_ref_forward(L.r, &toks[1], 1, 1, logits_step + 6, record, &rec, err, sizeof err), 0);

    /* token 2's normed input is the one computed by hand above; at position 1
     * pair 0 turns by 1 rad and pair 1 by 10000^(-1/2) = 0.01 rad */
    const float q_hand[8] = {2.0138524f, 0.2100863f, -0.4853702f, 1.1019632f,
                             3.5046251f, 1.5076212f, -0.0260875f, 2.6086652f};
    const float *q = get(&rec, "q", 0)->data;
    assert_close(q, q_hand, 8, 1e-6f, "q at pos 1");
    const float *k1 = get(&rec, "k", 0)->data, *v1 = get(&rec, "v", 0)->data;

    float want[8];
    for (int h = 0; h < 2; h++) {
        double s0 = 0, s1 = 0;
        for (int i = 0; i < 4; i++) { s0 += q[h * 4 + i] * k0[i]; s1 += q[h * 4 + i] * k1[i]; }
        s0 /= 2; s1 /= 2; /* 1 / sqrt(head_dim) */
        double w0 = exp(s0) / (exp(s0) + exp(s1)), w1 = 1 - w0;
        assert_true(w0 > 0.01 && w1 > 0.01); /* both positions really count */
        for (int i = 0; i < 4; i++) want[h * 4 + i] = (float)(w0 * v0[i] + w1 * v1[i]);
    }
    assert_close(get(&rec, "attn", 0)->data, want, 8, 1e-6f, "attn over 2 positions");
    recorder_clear(&rec);

    /* the same two tokens as one batch, on a fresh cache */
    decoder_ref *r2;
    assert_int_equal(decoder_ref_build(&L.g, &L.c, 8, &r2, err, sizeof err), 0);
    assert_int_equal(decoder_ref_forward(r2, toks, 2, 0, logits_batch, NULL, NULL, err, sizeof err), 0);
    assert_close(logits_batch, logits_step, 12, 1e-6f, "batch vs steps");
    decoder_ref_free(r2);
    unload(&L);
    spec_free(&m);
}

/* The q capture at position p for each rope variant, against hand thetas. */
static void check_rope_variant(model_spec *m, int pos, const double *thetas, int n_pairs) {
    loaded L;
    load_model(m, &L, 8);
    recorder rec = {0};
    int32_t toks[8] = {2, 2, 2, 2, 2, 2, 2, 2};
    char err[256];
    assert_int_equal(decoder_ref_forward(L.r, toks, pos + 1, 0, NULL, record, &rec, err, sizeof err), 0);
    const shot *qs = get(&rec, "q", 0), *xs = get(&rec, "attn_norm", 0);
    float want[8];
    rotate(want, xs->data + pos * 8, 2, 4, thetas, n_pairs);
    assert_close(qs->data + pos * 8, want, 8, 1e-5f, "rotated q");
    recorder_clear(&rec);
    unload(&L);
}

static void test_rope_variants(void **state) {
    (void)state;
    model_spec m;
    build_tiny(&m, &TINY);
    const double plain[2] = {3, 3 * 0.01};
    check_rope_variant(&m, 3, plain, 2);

    /* only the first rope_dim values of each head turn */
    kv_u32(&m, "llama.rope.dimension_count", 2);
    const double partial[1] = {3};
    check_rope_variant(&m, 3, partial, 1);
    remove_kv(&m, "llama.rope.dimension_count");

    kv_f32(&m, "llama.rope.freq_base", 100.0f);
    const double base100[2] = {2, 2 * 0.1};
    check_rope_variant(&m, 2, base100, 2);
    kv_f32(&m, "llama.rope.freq_base", 10000.0f);

    /* linear scaling divides the position */
    kv_str(&m, "llama.rope.scaling.type", "linear");
    kv_f32(&m, "llama.rope.scaling.factor", 2.0f);
    const double linear[2] = {1.5, 1.5 * 0.01};
    check_rope_variant(&m, 3, linear, 2);
    remove_kv(&m, "llama.rope.scaling.type");
    remove_kv(&m, "llama.rope.scaling.factor");

    /* rope_freqs divides each pair's angle */
    tensor_spec *f = add_t(&m, "rope_freqs.weight", 1, 2, 0);
    f->data[0] = 1;
    f->data[1] = 4;
    const double freqs[2] = {3, 3 * 0.01 / 4};
    check_rope_variant(&m, 3, freqs, 2);
    spec_free(&m);
}

/* Four query heads over two KV heads: heads 0, 1 read KV head 0 and heads
 * 2, 3 read KV head 1. At a single position each head's output is its V. */
static void test_grouped_query_attention(void **state) {
    (void)state;
    tiny c = TINY;
    c.n_heads = 4;
    c.n_kv_heads = 2;
    model_spec m;
    build_tiny(&m, &c);
    loaded L;
    load_model(&m, &L, 4);
    assert_int_equal(L.c.head_dim, 2);
    recorder rec = {0};
    const int32_t tok = 4;
    char err[256];
    assert_int_equal(decoder_ref_forward(L.r, &tok, 1, 0, NULL, record, &rec, err, sizeof err), 0);
    const float *v = get(&rec, "v", 0)->data, *att = get(&rec, "attn", 0)->data;
    const float want[8] = {v[0], v[1], v[0], v[1], v[2], v[3], v[2], v[3]};
    assert_true(fabsf(v[0] - v[2]) > 0.1f);
    assert_close(att, want, 8, 1e-6f, "attn");
    recorder_clear(&rec);
    unload(&L);
    spec_free(&m);
}

static void test_untied_output(void **state) {
    (void)state;
    model_spec m;
    build_tiny(&m, &TINY);
    shifted_identity(add_t(&m, "output.weight", 2, 8, 6), 1, 1);
    loaded L;
    load_model(&m, &L, 4);
    assert_int_equal(L.c.tied_output, 0);
    recorder rec = {0};
    const int32_t tok = 3;
    float logits[6], want[6];
    char err[256];
    assert_int_equal(decoder_ref_forward(L.r, &tok, 1, 0, logits, record, &rec, err, sizeof err), 0);
    shifted(want, get(&rec, "out_norm", -1)->data, 8, 6, 1, 1);
    assert_close(logits, want, 6, 1e-6f, "untied logits");
    recorder_clear(&rec);
    unload(&L);
    spec_free(&m);
}

/* Q8_0 matrices: in a forward of two or more tokens each product takes its
 * input rows as q8 activations (quantize_act_q8_fake), as the GPU's int8
 * matrix-matrix kernel does; a forward of one token keeps them f32. All
 * matrices are scaled shifted identities, so each output is one weight
 * times one input. */
static float q8_weight(float s) { return 127.0f * f16_to_f32(f32_to_f16(s / 127.0f)); } /* s alone in its block */

/* xq = what a product sees of the n rows (32 wide) of a capture: q8
 * activations for n >= 2, the f32 values for one token. Returns how many
 * elements the quantization changed. */
static int q8_input(const recorder *rec, const char *name, int layer, int n, float *xq) {
    const float *x = get(rec, name, layer)->data;
    memcpy(xq, x, (size_t)n * 32 * sizeof *xq);
    if (n < 2) return 0;
    quantize_act_q8_fake(xq, xq, (int64_t)n * 32);
    int changed = 0;
    for (int i = 0; i < n * 32; i++) changed += xq[i] != x[i];
    return changed;
}

static void test_q8_activations(void **state) {
    (void)state;
    setenv("WGPT_MATMUL_I8", "1", 1); /* the 8-bit path, whatever the caller's environment says */
    const tiny T = {.dim = 32, .n_heads = 2, .n_kv_heads = 1, .hidden = 32, .vocab = 6, .n_layers = 1};
    model_spec m;
    build_tiny(&m, &T);
    shifted_identity(add_t(&m, "output.weight", 2, 32, 6), 1, 1);
    static const char *const mats[] = {"blk.0.attn_q.weight", "blk.0.attn_k.weight", "blk.0.attn_v.weight",
                                       "blk.0.attn_output.weight", "blk.0.ffn_gate.weight", "blk.0.ffn_up.weight",
                                       "blk.0.ffn_down.weight", "output.weight"};
    for (size_t i = 0; i < sizeof mats / sizeof *mats; i++) find_t(&m, mats[i])->type = GGML_TYPE_Q8_0;
    loaded L;
    load_model(&m, &L, 4);
    const float w1 = q8_weight(1), w2 = q8_weight(2), wh = q8_weight(0.5f);
    const int32_t toks[2] = {3, 1};
    char err[256];
    recorder rec = {0};
    float logits[2 * 6], want[2 * 32], xq[2 * 32];
    int quantized = 0; /* elements q8 changed, so the checks tell the two rules apart */
    for (int n = 2; n >= 1; n--) {
        recorder_clear(&rec);
        assert_int_equal(decoder_ref_forward(L.r, toks, n, 0, logits, record, &rec, err, sizeof err), 0);
        /* what each product sees: q8 activations in the batch, f32 alone */
        quantized += q8_input(&rec, "attn_norm", 0, n, xq);
        for (int t = 0; t < n; t++)
            for (int o = 0; o < 16; o++) want[t * 16 + o] = w2 * xq[t * 32 + o]; /* Wv: 2 I, kv_dim 16 */
        assert_close(get(&rec, "v", 0)->data, want, n * 16, 1e-7f, "v");
        quantized += q8_input(&rec, "attn", 0, n, xq);
        const float *emb = get(&rec, "embed", -1)->data;
        for (int i = 0; i < n * 32; i++) want[i] = emb[i] + w1 * xq[i]; /* Wo: I */
        assert_close(get(&rec, "attn_res", 0)->data, want, n * 32, 1e-7f, "attn_res");
        quantized += q8_input(&rec, "ffn_norm", 0, n, xq);
        for (int t = 0; t < n; t++)
            for (int o = 0; o < 32; o++) {
                float g = w1 * xq[t * 32 + o], u = w1 * xq[t * 32 + (o + 4) % 32]; /* gate I, up shifted by 4 */
                want[t * 32 + o] = g / (1.0f + expf(-g)) * u;
            }
        assert_close(get(&rec, "ffn_act", 0)->data, want, n * 32, 1e-6f, "ffn_act");
        quantized += q8_input(&rec, "ffn_act", 0, n, xq);
        const float *res = get(&rec, "attn_res", 0)->data;
        for (int i = 0; i < n * 32; i++) want[i] = res[i] + wh * xq[i]; /* Wdown: I / 2 */
        assert_close(get(&rec, "layer_out", 0)->data, want, n * 32, 1e-7f, "layer_out");
        quantized += q8_input(&rec, "out_norm", -1, n, xq);
        for (int t = 0; t < n; t++)
            for (int o = 0; o < 6; o++) want[t * 6 + o] = w1 * xq[t * 32 + o + 1]; /* output: I shifted by 1 */
        assert_close(logits, want, n * 6, 1e-7f, "logits");
    }
    assert_true(quantized > 32);
    recorder_clear(&rec);
    unload(&L);
    spec_free(&m);
    unsetenv("WGPT_MATMUL_I8");
}

/* Inputs fed from elsewhere (decoder_ref_feed_inputs, as verify feeds the
 * GPU's): an 8-bit product quantizes the fed input, not its own. Fed here:
 * the reference's own attention output doubled, which a power-of-two scale
 * quantizes to exactly twice its quants. */
typedef struct {
    const float *attn;
    int asked, layer, n, width;
} feed;

static const float *feed_attn(void *user, const char *name, int layer, int n_tokens, int width) {
    feed *f = user;
    f->asked++;
    if (strcmp(name, "attn")) return NULL;
    f->layer = layer;
    f->n = n_tokens;
    f->width = width;
    return f->attn;
}

static void test_fed_inputs(void **state) {
    (void)state;
    setenv("WGPT_MATMUL_I8", "1", 1);
    const tiny T = {.dim = 32, .n_heads = 2, .n_kv_heads = 1, .hidden = 32, .vocab = 6, .n_layers = 1};
    model_spec m;
    build_tiny(&m, &T);
    find_t(&m, "blk.0.attn_output.weight")->type = GGML_TYPE_Q8_0;
    find_t(&m, "blk.0.attn_v.weight")->type = GGML_TYPE_Q8_0;
    loaded L;
    load_model(&m, &L, 4);
    const int32_t toks[2] = {3, 1};
    char err[256];
    recorder own = {0}, fed = {0};
    assert_int_equal(decoder_ref_forward(L.r, toks, 2, 0, NULL, record, &own, err, sizeof err), 0);
    float doubled[2 * 32];
    for (int i = 0; i < 64; i++) doubled[i] = 2 * get(&own, "attn", 0)->data[i];
    feed f = {doubled, 0, 0, 0, 0};
    decoder_ref_feed_inputs(L.r, feed_attn, &f);
    assert_int_equal(decoder_ref_forward(L.r, toks, 2, 0, NULL, record, &fed, err, sizeof err), 0);
    assert_int_equal(f.layer, 0);
    assert_int_equal(f.n, 2);
    assert_int_equal(f.width, 32);
    assert_true(f.asked >= 2); /* V's input was asked for too, and taken from the reference's own */
    assert_close(get(&fed, "v", 0)->data, get(&own, "v", 0)->data, 2 * 16, 0, "v");
    assert_close(get(&fed, "attn", 0)->data, get(&own, "attn", 0)->data, 2 * 32, 0, "attn");
    /* Wo is I: attn_res = embed + q8(2 attn) = embed + 2 q8(attn) */
    const float *emb = get(&own, "embed", -1)->data, *own_res = get(&own, "attn_res", 0)->data;
    float want[2 * 32];
    for (int i = 0; i < 64; i++) want[i] = emb[i] + 2 * (own_res[i] - emb[i]);
    assert_close(get(&fed, "attn_res", 0)->data, want, 64, 1e-6f, "attn_res, fed");
    /* a step of one token takes f32 activations: nothing to feed */
    f.asked = 0;
    float logits[6];
    assert_int_equal(decoder_ref_forward(L.r, toks, 1, 0, logits, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(f.asked, 0);
    recorder_clear(&own);
    recorder_clear(&fed);
    unload(&L);
    spec_free(&m);
    unsetenv("WGPT_MATMUL_I8");
}

static void test_forward_errors(void **state) {
    (void)state;
    model_spec m;
    build_tiny(&m, &TINY);
    loaded L;
    load_model(&m, &L, 4);
    char err[256] = "";
    int32_t toks[4] = {1, 2, 3, 4};
    float logits[4 * 6];
    assert_int_equal(decoder_ref_forward(L.r, toks, 2, 0, logits, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(decoder_ref_forward(L.r, toks, 3, 2, logits, NULL, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "context overflow"));
    assert_int_equal(decoder_ref_forward(L.r, toks, 1, 2147483647, logits, NULL, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "context overflow"));
    /* the cache is intact: the rest of the context still runs */
    assert_int_equal(decoder_ref_forward(L.r, toks + 2, 2, 2, logits, NULL, NULL, err, sizeof err), 0);
    toks[1] = 6;
    assert_int_equal(decoder_ref_forward(L.r, toks, 2, 0, logits, NULL, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "token 6 at index 1"));
    assert_int_equal(decoder_ref_forward(L.r, toks, 0, 0, logits, NULL, NULL, err, sizeof err), -1);
    decoder_ref *r;
    assert_int_equal(decoder_ref_build(&L.g, &L.c, 0, &r, err, sizeof err), -1);
    assert_null(r);
    unload(&L);

    /* f16 weights load; a type without a dequantizer is refused by name */
    find_t(&m, "blk.0.ffn_up.weight")->type = GGML_TYPE_F16;
    load_model(&m, &L, 4);
    decoder_ref_free(L.r);
    for (uint64_t i = 0; i < L.g.n_tensors; i++)
        if (gguf_str_eq(L.g.tensors[i].name, "blk.0.ffn_up.weight")) L.g.tensors[i].type = 16; /* IQ2_XXS */
    assert_int_equal(decoder_ref_build(&L.g, &L.c, 4, &L.r, err, sizeof err), -1);
    assert_null(L.r);
    assert_non_null(strstr(err, "tensor 'blk.0.ffn_up.weight' has type"));
    unload(&L);
    spec_free(&m);
}

/* ---------- Qwen 2 and Qwen 3 ---------- */

/* Each head of v turned by thetas[i] on its NEOX pair (i, i + n_pairs). */
static void rotate_neox(float *y, const float *x, int n_heads, int hd, const double *thetas, int n_pairs) {
    memcpy(y, x, (size_t)n_heads * hd * sizeof *y);
    for (int h = 0; h < n_heads; h++)
        for (int i = 0; i < n_pairs; i++) {
            double a = x[h * hd + i], b = x[h * hd + i + n_pairs];
            y[h * hd + i] = (float)(a * cos(thetas[i]) - b * sin(thetas[i]));
            y[h * hd + i + n_pairs] = (float)(a * sin(thetas[i]) + b * cos(thetas[i]));
        }
}

/* Builds and loads the tiny model c, then runs toks from position 0,
 * recording every capture; finish_tiny frees it all. */
static void run_tiny(const tiny *c, const int32_t *toks, int n, model_spec *m, loaded *L, recorder *rec) {
    char err[256];
    build_tiny(m, c);
    load_model(m, L, 8);
    memset(rec, 0, sizeof *rec);
    if (decoder_ref_forward(L->r, toks, n, 0, NULL, record, rec, err, sizeof err) != 0) fail_msg("forward: %s", err);
}

static void finish_tiny(model_spec *m, loaded *L, recorder *rec) {
    recorder_clear(rec);
    unload(L);
    spec_free(m);
}

/* Qwen 2 at position 0, where RoPE is the identity: q, k and v are the
 * projections plus their biases. */
static void test_qwen2_biases(void **state) {
    (void)state;
    tiny c = TINY;
    c.arch = "qwen2";
    c.qkv_bias = 1;
    model_spec m;
    loaded L;
    recorder rec;
    const int32_t tok = 2;
    run_tiny(&c, &tok, 1, &m, &L, &rec);
    assert_true(L.c.has[ROLE_ATTN_Q_BIAS] && L.c.has[ROLE_ATTN_K_BIAS] && L.c.has[ROLE_ATTN_V_BIAS]);
    assert_int_equal(L.c.rope, ROPE_NEOX);
    const float *xb = get(&rec, "attn_norm", 0)->data;
    float want[8];
    shifted(want, xb, 8, 8, 0, 1);
    for (int i = 0; i < 8; i++) want[i] += bias_value(i);
    assert_close(get(&rec, "q", 0)->data, want, 8, 1e-6f, "q + bias");
    shifted(want, xb, 8, 4, 4, 1);
    for (int i = 0; i < 4; i++) want[i] += bias_value(i + 1);
    assert_close(get(&rec, "k", 0)->data, want, 4, 1e-6f, "k + bias");
    shifted(want, xb, 8, 4, 0, 2);
    for (int i = 0; i < 4; i++) want[i] += bias_value(i + 2);
    assert_close(get(&rec, "v", 0)->data, want, 4, 1e-6f, "v + bias");
    finish_tiny(&m, &L, &rec);
}

/* NEOX RoPE: at position 3 pair i of each head is (i, i + 2), turned by
 * 3 * 10000^(-i/2); the biases are optional (none here). */
static void test_qwen2_neox_rope(void **state) {
    (void)state;
    tiny c = TINY;
    c.arch = "qwen2";
    model_spec m;
    loaded L;
    recorder rec;
    const int32_t toks[4] = {2, 2, 2, 2};
    run_tiny(&c, toks, 4, &m, &L, &rec);
    assert_int_equal(L.c.has[ROLE_ATTN_Q_BIAS], 0);
    const double thetas[2] = {3, 3 * 0.01};
    float want[8];
    rotate_neox(want, get(&rec, "attn_norm", 0)->data + 3 * 8, 2, 4, thetas, 2);
    assert_close(get(&rec, "q", 0)->data + 3 * 8, want, 8, 1e-5f, "neox-rotated q");
    finish_tiny(&m, &L, &rec);
}

/* Qwen 3: a head size of its own (8, where dim / heads is 4) and each head
 * of q and k normed (weights qk_norm_w) before RoPE. */
static void test_qwen3_qk_norm(void **state) {
    (void)state;
    tiny c = TINY;
    c.arch = "qwen3";
    c.qk_norm = 1;
    c.head_dim = 8;
    model_spec m;
    loaded L;
    recorder rec;
    const int32_t tok = 2;
    run_tiny(&c, &tok, 1, &m, &L, &rec);
    assert_int_equal(L.c.head_dim, 8);
    assert_true(L.c.has[ROLE_ATTN_Q_NORM] && L.c.has[ROLE_ATTN_K_NORM]);
    const float *xb = get(&rec, "attn_norm", 0)->data;
    float q[16], k[8], want[16];
    shifted(q, xb, 8, 16, 0, 1);
    shifted(k, xb, 8, 8, 4, 1);
    for (int h = 0; h < 2; h++) {
        rms(want + 8 * h, q + 8 * h, NULL, 8);
        for (int i = 0; i < 8; i++) want[8 * h + i] *= qk_norm_w(i);
    }
    assert_close(get(&rec, "q_normed", 0)->data, want, 16, 1e-5f, "q_normed");
    assert_close(get(&rec, "q", 0)->data, want, 16, 1e-5f, "q at position 0");
    rms(want, k, NULL, 8);
    for (int i = 0; i < 8; i++) want[i] *= qk_norm_w(i + 1);
    assert_close(get(&rec, "k_normed", 0)->data, want, 8, 1e-5f, "k_normed");
    assert_int_equal(get(&rec, "attn", 0)->width, 16);
    finish_tiny(&m, &L, &rec);
}

static void test_family_config_errors(void **state) {
    (void)state;
    model_spec m;
    tiny q3 = TINY, q2 = TINY;
    q3.arch = "qwen3";
    q3.qk_norm = 1;
    q2.arch = "qwen2";
    q2.qkv_bias = 1;
    q2.n_layers = 2;

    build_tiny(&m, &q3);
    remove_t(&m, "blk.0.attn_k_norm.weight");
    expect_config_error(&m, "missing tensor 'blk.0.attn_k_norm.weight'");
    spec_free(&m);

    build_tiny(&m, &q3);
    find_t(&m, "blk.0.attn_q_norm.weight")->ne[0] = 2; /* data shrinks: the parser still accepts it */
    expect_config_error(&m, "tensor 'blk.0.attn_q_norm.weight' has shape [2], expected [4]");
    spec_free(&m);

    build_tiny(&m, &q3);
    add_t(&m, "blk.0.attn_q.bias", 1, 8, 0);
    expect_config_error(&m, "unexpected tensor 'blk.0.attn_q.bias' (not part of the qwen3 architecture)");
    spec_free(&m);

    build_tiny(&m, &q2);
    add_t(&m, "rope_freqs.weight", 1, 2, 0);
    expect_config_error(&m, "unexpected tensor 'rope_freqs.weight' (not part of the qwen2 architecture)");
    spec_free(&m);

    build_tiny(&m, &q2); /* a bias in one layer but not the other */
    remove_t(&m, "blk.1.attn_v.bias");
    expect_config_error(&m, "missing tensor 'blk.1.attn_v.bias' (layer 0 has one)");
    spec_free(&m);

    build_tiny(&m, &q2);
    remove_t(&m, "blk.0.attn_k.bias");
    expect_config_error(&m, "unexpected tensor 'blk.1.attn_k.bias' (layer 0 has none)");
    spec_free(&m);

    build_tiny(&m, &q2);
    find_t(&m, "blk.0.attn_k.bias")->ne[0] = 3;
    expect_config_error(&m, "tensor 'blk.0.attn_k.bias' has shape [3], expected [4]");
    spec_free(&m);

    build_tiny(&m, &TINY); /* Llama has no q/k norm */
    add_t(&m, "blk.0.attn_q_norm.weight", 1, 4, 0);
    expect_config_error(&m, "unexpected tensor 'blk.0.attn_q_norm.weight' (not part of the llama architecture)");
    spec_free(&m);

    build_tiny(&m, &q2); /* keys are the arch's own */
    remove_kv(&m, "qwen2.block_count");
    expect_config_error(&m, "missing key 'qwen2.block_count'");
    spec_free(&m);
}

/* Gemma 3's keys, as llama.cpp's gemma3 reads them: the window
 * (attention.sliding_window, 0 or absent: none) with a period of 6 unless
 * attention.sliding_window_pattern says otherwise (llama.cpp's
 * set_swa_pattern: layer l global when l % p == p - 1), rope.freq_base_swa
 * (10000 when absent), the final soft-cap; the embedding scale sqrt(dim),
 * the attention scale 1/sqrt(head_dim) unless attention.scale is given. */
static void test_gemma3_config(void **state) {
    (void)state;
    tiny g3 = TINY;
    g3.arch = "gemma3";
    g3.head_dim = 8; /* != dim / heads */
    g3.qk_norm = 1;
    model_spec m;
    build_tiny(&m, &g3);
    for (int part = 0; part < 2; part++) {
        tensor_spec *t = add_t(&m, part ? "blk.0.post_ffw_norm.weight" : "blk.0.post_attention_norm.weight", 1, 8, 0);
        for (int i = 0; i < 8; i++) t->data[i] = 1;
    }
    loaded L;
    char err[256] = "";
    assert_int_equal(load_config(&m, &L, err, sizeof err), 0);
    const decoder_config *c = &L.c;
    assert_int_equal(c->norm_at, NORM_PRE_POST);
    assert_int_equal(c->ffn, FFN_GEGLU);
    assert_true(c->embed_scale == sqrtf(8.0f));
    assert_true(c->attn_scale == 1 / sqrtf(8.0f));
    assert_int_equal(c->sliding_window, 0);
    assert_true(c->final_softcap == 0);
    assert_int_equal(decoder_layer_windowed(c, 0), 0);
    unload(&L);

    kv_u32(&m, "gemma3.attention.sliding_window", 4);
    kv_f32(&m, "gemma3.final_logit_softcapping", 30);
    kv_f32(&m, "gemma3.attention.scale", 0.25f);
    assert_int_equal(load_config(&m, &L, err, sizeof err), 0);
    assert_int_equal(L.c.sliding_window, 4);
    assert_int_equal(L.c.swa_period, 6);
    assert_true(L.c.rope_theta_swa == 10000.0f && L.c.rope_theta == 10000.0f);
    assert_true(L.c.final_softcap == 30 && L.c.attn_scale == 0.25f);
    for (int l = 0; l < 13; l++) assert_int_equal(decoder_layer_windowed(&L.c, l), l % 6 != 5);
    unload(&L);

    kv_u32(&m, "gemma3.attention.sliding_window_pattern", 3);
    kv_f32(&m, "gemma3.rope.freq_base_swa", 500);
    assert_int_equal(load_config(&m, &L, err, sizeof err), 0);
    assert_true(L.c.rope_theta_swa == 500.0f);
    for (int l = 0; l < 7; l++) assert_int_equal(decoder_layer_windowed(&L.c, l), l % 3 != 2);
    unload(&L);

    /* a per-layer pattern (Gemma 3n's, 4's form) is refused, not guessed */
    set_kv(&m, "gemma3.attention.sliding_window_pattern", GGUF_TYPE_ARRAY)->u = 1;
    expect_config_error(&m, "as a per-layer array is not supported");
    spec_free(&m);

    /* a window on a family whose graph has none */
    build_tiny(&m, &TINY);
    kv_u32(&m, "llama.attention.sliding_window", 4096);
    expect_config_error(&m, "llama models with a sliding window are not supported");
    spec_free(&m);

    /* GPT-2's LayerNorm epsilon is its own key */
    tiny g2 = TINY;
    g2.arch = "gpt2";
    build_tiny(&m, &g2);
    expect_config_error(&m, "missing key 'gpt2.attention.layer_norm_epsilon'");
    spec_free(&m);
}

/* Switches that exist in the config but not in the engine are refused by
 * name, by the config check and by both forwards. */
static void test_unimplemented_switches(void **state) {
    (void)state;
    model_spec m;
    build_tiny(&m, &TINY);
    loaded L;
    load_model(&m, &L, 4);
    decoder_ref_free(L.r);
    char err[256];
    decoder_config c = L.c;
    c.attn_softcap = 50; /* Gemma 2's; no family here turns it on */
    assert_int_equal(decoder_check_supported(&c, err, sizeof err), WGPT_ERR_UNSUPPORTED);
    assert_string_equal(err, "llama models need soft-capping of attention scores, which wgpt does not run yet");
    assert_int_equal(decoder_ref_build(&L.g, &c, 4, &L.r, err, sizeof err), -1);
    assert_null(L.r);
    c = L.c;
    c.rope = ROPE_NONE; /* and no learned positions: no position information at all */
    assert_int_equal(decoder_check_supported(&c, err, sizeof err), WGPT_ERR_UNSUPPORTED);
    assert_non_null(strstr(err, "neither RoPE nor learned positions"));
    c.learned_pos = 1;
    assert_int_equal(decoder_check_supported(&c, err, sizeof err), WGPT_OK);
    assert_int_equal(decoder_check_supported(&L.c, err, sizeof err), WGPT_OK);
    unload(&L);
    spec_free(&m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_reads_metadata),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_capture_order),
        cmocka_unit_test(test_stages_single_position),
        cmocka_unit_test(test_two_positions),
        cmocka_unit_test(test_rope_variants),
        cmocka_unit_test(test_grouped_query_attention),
        cmocka_unit_test(test_untied_output),
        cmocka_unit_test(test_q8_activations),
        cmocka_unit_test(test_fed_inputs),
        cmocka_unit_test(test_forward_errors),
        cmocka_unit_test(test_qwen2_biases),
        cmocka_unit_test(test_qwen2_neox_rope),
        cmocka_unit_test(test_qwen3_qk_norm),
        cmocka_unit_test(test_family_config_errors),
        cmocka_unit_test(test_unimplemented_switches),
        cmocka_unit_test(test_gemma3_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
