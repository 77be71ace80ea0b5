/* A decoder's hyperparameters from GGUF metadata, and the check that the
 * tensor directory holds exactly the tensors its family and those
 * hyperparameters imply. Keys are llama.cpp's: "<arch>.embedding_length"
 * and so on, the same for every family. */
#include "models/decoder.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util/text.h"
#include "util/util.h"

/* Bounds generous enough for any published model; beyond them the metadata
 * is corrupt, and sizes computed from it could overflow. */
#define MAX_DIM     (1 << 16)
#define MAX_LAYERS  4096
#define MAX_HEADS   4096
#define MAX_HIDDEN  (1 << 20)
#define MAX_VOCAB   (1 << 24)
#define MAX_CTX     (1 << 30)

typedef struct { char s[128]; } key_buf;

/* "<arch>.<suffix>" */
static const char *key(const decoder_config *c, const char *suffix, key_buf *k) {
    snprintf(k->s, sizeof k->s, "%s.%s", c->family->arch, suffix);
    return k->s;
}

static int is_int_type(uint32_t t) {
    return t <= GGUF_TYPE_INT32 || t == GGUF_TYPE_UINT64 || t == GGUF_TYPE_INT64;
}

static int is_signed_int(uint32_t t) {
    return t == GGUF_TYPE_INT8 || t == GGUF_TYPE_INT16 || t == GGUF_TYPE_INT32 || t == GGUF_TYPE_INT64;
}

/* The key "<arch>.<suffix>" (its name into k): 1 if present; 0 if absent
 * and not required; -1, with a reason, if absent and required. */
static int find_key(const gguf_file *g, const decoder_config *c, const char *suffix, int required, key_buf *k,
                    const gguf_kv **kv, char *err, size_t errlen) {
    *kv = gguf_find(g, key(c, suffix, k));
    if (*kv) return 1;
    if (!required) return 0;
    set_err(err, errlen, "missing key '%s'", k->s);
    return -1;
}

/* A positive integer "<arch>.<suffix>" no larger than max; dflt when absent
 * and not required. */
static int get_int(const gguf_file *g, const decoder_config *c, const char *suffix, int required, int dflt, int max,
                   int *out, char *err, size_t errlen) {
    key_buf kb;
    const gguf_kv *kv;
    int found = find_key(g, c, suffix, required, &kb, &kv, err, errlen);
    if (found <= 0) { *out = dflt; return found; }
    const char *k = kb.s;
    uint64_t v;
    if (!is_int_type(kv->type)) {
        set_err(err, errlen, "key '%s' has type %s, expected an integer", k, gguf_type_name(kv->type));
        return -1;
    }
    if (is_signed_int(kv->type) && kv->v.i <= 0) {
        set_err(err, errlen, "key '%s' = %lld is out of range (1..%d)", k, (long long)kv->v.i, max);
        return -1;
    }
    if (gguf_get_u64(g, k, &v) != 0 || v == 0 || v > (uint64_t)max) {
        set_err(err, errlen, "key '%s' = %llu is out of range (1..%d)", k, (unsigned long long)kv->v.u, max);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int get_float(const gguf_file *g, const decoder_config *c, const char *suffix, int required, double dflt,
                     double *out, char *err, size_t errlen) {
    key_buf kb;
    const gguf_kv *kv;
    int found = find_key(g, c, suffix, required, &kb, &kv, err, errlen);
    if (found <= 0) { *out = dflt; return found; }
    const char *k = kb.s;
    if (kv->type == GGUF_TYPE_ARRAY || kv->type == GGUF_TYPE_STRING || gguf_get_f64(g, k, out) != 0) {
        set_err(err, errlen, "key '%s' has type %s, expected a number", k, gguf_type_name(kv->type));
        return -1;
    }
    if (!isfinite(*out)) { set_err(err, errlen, "key '%s' is not finite", k); return -1; }
    return 0;
}

/* Rope scaling the way llama.cpp reads it: the type defaults to linear, the
 * factor comes from rope.scaling.factor or the older rope.scale_linear, and
 * a factor of 0 means none. */
static wgpt_status read_rope_scaling(const gguf_file *g, decoder_config *c, char *err, size_t errlen) {
    key_buf kt, kf;
    const char *tkey = key(c, "rope.scaling.type", &kt);
    gguf_str type = {"linear", 6};
    const gguf_kv *kv = gguf_find(g, tkey);
    if (kv && gguf_get_str(g, tkey, &type) != 0) {
        set_err(err, errlen, "key '%s' has type %s, expected a string", tkey, gguf_type_name(kv->type));
        return WGPT_ERR_FORMAT;
    }
    const char *fsuffix = gguf_find(g, key(c, "rope.scaling.factor", &kf)) ? "rope.scaling.factor" : "rope.scale_linear";
    double factor = 0;
    if (get_float(g, c, fsuffix, 0, 0.0, &factor, err, errlen) != 0) return WGPT_ERR_FORMAT;
    if (factor < 0) {
        set_err(err, errlen, "key '%s' = %g must not be negative", key(c, fsuffix, &kf), factor);
        return WGPT_ERR_FORMAT;
    }
    c->rope_linear_scale = 1.0f;
    if (gguf_str_eq(type, "none")) return WGPT_OK;
    if (!gguf_str_eq(type, "linear")) {
        set_err(err, errlen, "unsupported rope scaling type '%s' (supported: none, linear)",
                text_show(type.ptr, type.len));
        return WGPT_ERR_UNSUPPORTED;
    }
    if (factor > 0) c->rope_linear_scale = (float)factor;
    return WGPT_OK;
}

/* The keys of the switches Gemma turns on, read for every family as
 * llama.cpp reads them for gemma3 (a family that does not use them never
 * has them; a windowed layer's own RoPE base is only read with a window). */
static int read_gemma_keys(const gguf_file *g, decoder_config *c, char *err, size_t errlen) {
    key_buf kb;
    c->embed_scale = c->scale_embed ? sqrtf((float)c->dim) : 1.0f;
    c->attn_scale = 1.0f / sqrtf((float)c->head_dim);
    /* llama.cpp's gemma3 ignores query_pre_attn_scalar and picks the scale
     * by model size (the 27B, 62 layers, uses dim / heads); both agree with
     * query_pre_attn_scalar on every released Gemma 3. attention.scale,
     * where a writer gives one (converters of gemma3 do not), wins. */
    if (c->scale_embed && c->n_layers == 62) c->attn_scale = 1.0f / sqrtf((float)(c->dim / c->n_heads));
    double v;
    if (gguf_find(g, key(c, "attention.scale", &kb))) {
        if (get_float(g, c, "attention.scale", 1, 0, &v, err, errlen)) return -1;
        if (!(v > 0)) { set_err(err, errlen, "key '%s' = %g must be positive", kb.s, v); return -1; }
        c->attn_scale = (float)v;
    }
    int window = 0;
    if (gguf_find(g, key(c, "attention.sliding_window", &kb))) {
        const gguf_kv *kv = gguf_find(g, kb.s);
        uint64_t u;
        /* llama.cpp takes 0 as "no window" */
        if (!is_int_type(kv->type) || gguf_get_u64(g, kb.s, &u) != 0 || u > MAX_CTX) {
            set_err(err, errlen, "key '%s' must be an integer in 0..%d", kb.s, MAX_CTX);
            return -1;
        }
        window = (int)u;
    }
    if (window > 0 && c->family->base.swa_period == 0) {
        set_err(err, errlen, "%s models with a sliding window are not supported", c->family->arch);
        return -1;
    }
    c->sliding_window = window;
    if (window > 0) {
        const gguf_kv *kv = gguf_find(g, key(c, "attention.sliding_window_pattern", &kb));
        if (kv && kv->type == GGUF_TYPE_ARRAY) {
            set_err(err, errlen, "key '%s' as a per-layer array is not supported (only a period)", kb.s);
            return -1;
        }
        if (kv && get_int(g, c, "attention.sliding_window_pattern", 1, 0, MAX_LAYERS, &c->swa_period, err, errlen))
            return -1;
        if (get_float(g, c, "rope.freq_base_swa", 0, 10000.0, &v, err, errlen)) return -1;
        if (!(v > 0)) { set_err(err, errlen, "key '%s' = %g must be positive", key(c, "rope.freq_base_swa", &kb), v); return -1; }
        c->rope_theta_swa = (float)v;
    }
    if (c->family->base.scale_embed) { /* gemma3 reads it; other families' graphs have no such step */
        if (get_float(g, c, "final_logit_softcapping", 0, 0.0, &v, err, errlen)) return -1;
        if (v < 0) { set_err(err, errlen, "key '%s' must not be negative", key(c, "final_logit_softcapping", &kb)); return -1; }
        c->final_softcap = (float)v;
    }
    return 0;
}

/* The vocabulary is the embedding's rows: <arch>.vocab_size when given
 * (checked against the embedding below), else the rows themselves. */
static int read_vocab_size(const gguf_file *g, decoder_config *c, char *err, size_t errlen) {
    key_buf kb;
    if (gguf_find(g, key(c, "vocab_size", &kb)))
        return get_int(g, c, "vocab_size", 1, 0, MAX_VOCAB, &c->n_vocab, err, errlen);
    char name[96];
    decoder_tensor_name(c, ROLE_TOKEN_EMBD, -1, name, sizeof name);
    const gguf_tensor *t = gguf_find_tensor(g, name);
    if (!t) { set_err(err, errlen, "missing tensor '%s'", name); return -1; }
    uint64_t n = t->n_dims >= 2 ? t->ne[1] : 0;
    if (n == 0 || n > MAX_VOCAB) {
        set_err(err, errlen, "vocabulary size %llu (the rows of %s) is out of range (1..%d)", (unsigned long long)n,
                name, MAX_VOCAB);
        return -1;
    }
    c->n_vocab = (int)n;
    return 0;
}

/* ---- tensor roles ---- */

int decoder_role_shape(const decoder_config *c, tensor_role role, uint64_t ne[2]) {
    const uint64_t dim = (uint64_t)c->dim, q_dim = (uint64_t)c->n_heads * c->head_dim,
                   kv_dim = (uint64_t)c->n_kv_heads * c->head_dim, ffn = (uint64_t)c->hidden_dim,
                   vocab = (uint64_t)c->n_vocab;
    ne[1] = 1;
    switch (role) {
    case ROLE_TOKEN_EMBD: case ROLE_OUTPUT: ne[0] = dim; ne[1] = vocab; return 2;
    case ROLE_ROPE_FREQS: ne[0] = (uint64_t)c->rope_dim / 2; return 1;
    case ROLE_ATTN_Q: ne[0] = dim; ne[1] = q_dim; return 2;
    case ROLE_ATTN_K: case ROLE_ATTN_V: ne[0] = dim; ne[1] = kv_dim; return 2;
    case ROLE_ATTN_OUT: ne[0] = q_dim; ne[1] = dim; return 2;
    case ROLE_ATTN_Q_BIAS: ne[0] = q_dim; return 1;
    case ROLE_ATTN_K_BIAS: case ROLE_ATTN_V_BIAS: ne[0] = kv_dim; return 1;
    case ROLE_ATTN_Q_NORM: case ROLE_ATTN_K_NORM: ne[0] = (uint64_t)c->head_dim; return 1;
    case ROLE_FFN_GATE: case ROLE_FFN_UP: ne[0] = dim; ne[1] = ffn; return 2;
    case ROLE_FFN_DOWN: ne[0] = ffn; ne[1] = dim; return 2;
    case ROLE_POS_EMBD: ne[0] = dim; ne[1] = (uint64_t)c->n_ctx_train; return 2;
    case ROLE_ATTN_QKV: ne[0] = dim; ne[1] = q_dim + 2 * kv_dim; return 2;
    case ROLE_ATTN_QKV_BIAS: ne[0] = q_dim + 2 * kv_dim; return 1;
    case ROLE_FFN_UP_BIAS: ne[0] = ffn; return 1;
    case ROLE_OUTPUT_NORM: case ROLE_ATTN_NORM: case ROLE_FFN_NORM: case ROLE_OUTPUT_NORM_BIAS:
    case ROLE_ATTN_NORM_BIAS: case ROLE_FFN_NORM_BIAS: case ROLE_ATTN_OUT_BIAS: case ROLE_FFN_DOWN_BIAS:
    case ROLE_ATTN_POST_NORM: case ROLE_FFN_POST_NORM: default: ne[0] = dim; return 1;
    }
}

static const tensor_name *entry(const decoder_config *c, tensor_role role) {
    for (int i = 0; i < c->family->n_tensors; i++)
        if (c->family->tensors[i].role == role) return &c->family->tensors[i];
    return NULL;
}

const char *decoder_tensor_name(const decoder_config *c, tensor_role role, int layer, char *buf, size_t cap) {
    const tensor_name *e = entry(c, role);
    if (!e) return NULL;
    if (role >= ROLE_FIRST_LAYER) snprintf(buf, cap, e->name, layer);
    else snprintf(buf, cap, "%s", e->name);
    return buf;
}

/* Whether name (len bytes) is pattern with its %d, if any, a layer number
 * written the one way (no sign, no leading zeros: "blk.01." is not layer 1). */
static int match_name(const char *pattern, const char *name, size_t len, int *layer) {
    const char *d = strstr(pattern, "%d");
    *layer = -1;
    if (!d) return strlen(pattern) == len && memcmp(pattern, name, len) == 0;
    size_t pre = (size_t)(d - pattern), post = strlen(d + 2);
    if (len < pre + 1 + post || memcmp(name, pattern, pre) || memcmp(name + len - post, d + 2, post)) return 0;
    size_t nd = len - pre - post;
    if (nd > 6 || (nd > 1 && name[pre] == '0')) return 0;
    int v = 0;
    for (size_t i = 0; i < nd; i++) {
        if (name[pre + i] < '0' || name[pre + i] > '9') return 0;
        v = v * 10 + (name[pre + i] - '0');
    }
    *layer = v;
    return 1;
}

int decoder_role_of(const decoder_config *c, const char *name, size_t len, tensor_role *role, int *layer) {
    for (int i = 0; i < c->family->n_tensors; i++) {
        const tensor_name *e = &c->family->tensors[i];
        if (!match_name(e->name, name, len, layer)) continue;
        if (*layer >= c->n_layers) return -1;
        *role = e->role;
        return 0;
    }
    return -1;
}

/* ggml's shape rule: dimensions past the listed ones must be 1. */
static int check_shape(const gguf_tensor *t, const char *name, int n, const uint64_t *ne, char *err, size_t errlen) {
    int ok = 1;
    for (int i = 0; i < GGUF_MAX_DIMS; i++) {
        uint64_t have = i < (int)t->n_dims ? t->ne[i] : 1, want = i < n ? ne[i] : 1;
        ok &= have == want;
    }
    if (ok) return 0;
    char have[96] = "", want[96] = "";
    for (uint32_t i = 0; i < t->n_dims && i < GGUF_MAX_DIMS; i++)
        snprintf(have + strlen(have), sizeof have - strlen(have), "%s%llu", i ? ", " : "",
                 (unsigned long long)t->ne[i]);
    for (int i = 0; i < n; i++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s%llu", i ? ", " : "",
                 (unsigned long long)ne[i]);
    set_err(err, errlen, "tensor '%s' has shape [%s], expected [%s]", name, have, want);
    return -1;
}

/* One tensor of the table (of layer l for a per-layer role): present with
 * the role's shape, or absent where that is allowed. An optional per-layer
 * tensor is in every layer or in none (layer 0 decides). */
static int check_one(const gguf_file *g, decoder_config *c, const tensor_name *e, int l, char *err, size_t errlen) {
    char name[96];
    decoder_tensor_name(c, e->role, l, name, sizeof name);
    const gguf_tensor *t = gguf_find_tensor(g, name);
    if (l <= 0) c->has[e->role] = t != NULL;
    if (!t) {
        if (e->need == TENSOR_OPTIONAL && !c->has[e->role]) return 0;
        if (e->need == TENSOR_OPTIONAL) set_err(err, errlen, "missing tensor '%s' (layer 0 has one)", name);
        else set_err(err, errlen, "missing tensor '%s'", name);
        return -1;
    }
    if (!c->has[e->role]) {
        set_err(err, errlen, "unexpected tensor '%s' (layer 0 has none)", name);
        return -1;
    }
    uint64_t ne[2];
    int n = decoder_role_shape(c, e->role, ne);
    return check_shape(t, name, n, ne, err, errlen);
}

static int check_tensors(const gguf_file *g, decoder_config *c, char *err, size_t errlen) {
    const model_family *f = c->family;
    for (int i = 0; i < f->n_tensors; i++) {
        const tensor_name *e = &f->tensors[i];
        if (e->role < ROLE_FIRST_LAYER && check_one(g, c, e, -1, err, errlen)) return -1;
        for (int l = 0; e->role >= ROLE_FIRST_LAYER && l < c->n_layers; l++)
            if (check_one(g, c, e, l, err, errlen)) return -1;
    }
    if (c->has[ROLE_ATTN_Q_NORM] != c->has[ROLE_ATTN_K_NORM]) {
        set_err(err, errlen, "%s has a norm for the %s of each head but not for the %s", f->arch,
                c->has[ROLE_ATTN_Q_NORM] ? "queries" : "keys", c->has[ROLE_ATTN_Q_NORM] ? "keys" : "queries");
        return -1;
    }
    c->tied_output = !c->has[ROLE_OUTPUT];
    c->has_rope_freqs = c->has[ROLE_ROPE_FREQS];
    /* Anything else (biases a family has not got, experts) would change
     * the maths, so it is refused, not ignored. */
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        gguf_str name = g->tensors[i].name;
        tensor_role role;
        int layer;
        if (decoder_role_of(c, name.ptr, name.len, &role, &layer) != 0) {
            set_err(err, errlen, "unexpected tensor '%s' (not part of the %s architecture)",
                    text_show(name.ptr, name.len), f->arch);
            return -1;
        }
    }
    return 0;
}

int decoder_layer_windowed(const decoder_config *c, int l) {
    if (c->sliding_window <= 0) return 0;
    return c->swa_period <= 0 || l % c->swa_period < c->swa_period - 1;
}

wgpt_status decoder_check_supported(const decoder_config *c, char *err, size_t errlen) {
    const char *what = NULL;
    if (c->attn_softcap != 0) what = "soft-capping of attention scores";
    else if (c->rope == ROPE_NONE && !c->learned_pos) what = "neither RoPE nor learned positions";
    if (!what) return WGPT_OK;
    set_err(err, errlen, "%s models need %s, which wgpt does not run yet", c->family->arch, what);
    return WGPT_ERR_UNSUPPORTED;
}

wgpt_status decoder_config_from_gguf(const gguf_file *g, decoder_config *c, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    gguf_str arch;
    if (!gguf_find(g, "general.architecture")) { set_err(err, errlen, "missing key 'general.architecture'"); return WGPT_ERR_FORMAT; }
    if (gguf_get_str(g, "general.architecture", &arch) != 0) {
        set_err(err, errlen, "key 'general.architecture' is not a string");
        return WGPT_ERR_FORMAT;
    }
    const model_family *f = family_find(arch.ptr, arch.len);
    if (!f) {
        set_err(err, errlen, "unsupported architecture '%s' (supported: %s)", text_show(arch.ptr, arch.len),
                family_list());
        return WGPT_ERR_UNSUPPORTED;
    }
    *c = f->base;
    c->family = f;
    wgpt_status st = decoder_check_supported(c, err, errlen);
    if (st != WGPT_OK) return st;
    int experts = 0;
    if (get_int(g, c, "expert_count", 0, 0, 1 << 20, &experts, err, errlen) != 0) return WGPT_ERR_FORMAT;
    if (experts > 0) {
        set_err(err, errlen, "mixture-of-experts %s models (%s.expert_count = %d) are not supported", f->arch, f->arch,
                experts);
        return WGPT_ERR_UNSUPPORTED;
    }

    if (get_int(g, c, "context_length", 1, 0, MAX_CTX, &c->n_ctx_train, err, errlen) ||
        get_int(g, c, "embedding_length", 1, 0, MAX_DIM, &c->dim, err, errlen) ||
        get_int(g, c, "block_count", 1, 0, MAX_LAYERS, &c->n_layers, err, errlen) ||
        get_int(g, c, "feed_forward_length", 1, 0, MAX_HIDDEN, &c->hidden_dim, err, errlen) ||
        get_int(g, c, "attention.head_count", 1, 0, MAX_HEADS, &c->n_heads, err, errlen) ||
        get_int(g, c, "attention.head_count_kv", 0, c->n_heads, MAX_HEADS, &c->n_kv_heads, err, errlen))
        return WGPT_ERR_FORMAT;
    if (c->n_kv_heads > c->n_heads || c->n_heads % c->n_kv_heads != 0) {
        set_err(err, errlen, "%s.attention.head_count (%d) is not a multiple of head_count_kv (%d)", f->arch,
                c->n_heads, c->n_kv_heads);
        return WGPT_ERR_FORMAT;
    }
    key_buf kb;
    if (gguf_find(g, key(c, "attention.key_length", &kb))) {
        if (get_int(g, c, "attention.key_length", 1, 0, MAX_DIM, &c->head_dim, err, errlen)) return WGPT_ERR_FORMAT;
    } else {
        if (c->dim % c->n_heads != 0) {
            set_err(err, errlen, "%s.embedding_length (%d) is not a multiple of head_count (%d)", f->arch, c->dim,
                    c->n_heads);
            return WGPT_ERR_FORMAT;
        }
        c->head_dim = c->dim / c->n_heads;
    }
    int value_len;
    if (get_int(g, c, "attention.value_length", 0, c->head_dim, MAX_DIM, &value_len, err, errlen))
        return WGPT_ERR_FORMAT;
    if (value_len != c->head_dim) {
        set_err(err, errlen, "%s.attention.value_length (%d) differs from the key length (%d): not supported",
                f->arch, value_len, c->head_dim);
        return WGPT_ERR_UNSUPPORTED;
    }
    if ((int64_t)c->n_heads * c->head_dim > MAX_HIDDEN) {
        set_err(err, errlen, "head_count (%d) x head dim (%d) is out of range", c->n_heads, c->head_dim);
        return WGPT_ERR_FORMAT;
    }

    double eps, theta;
    const char *eps_key = c->norm == NORM_LAYER ? "attention.layer_norm_epsilon" : "attention.layer_norm_rms_epsilon";
    if (get_float(g, c, eps_key, 1, 0, &eps, err, errlen) ||
        get_float(g, c, "rope.freq_base", 0, 10000.0, &theta, err, errlen))
        return WGPT_ERR_FORMAT;
    if (!(eps > 0 && eps < 1)) {
        set_err(err, errlen, "key '%s' = %g is out of range (0..1)", key(c, eps_key, &kb), eps);
        return WGPT_ERR_FORMAT;
    }
    if (!(theta > 0)) {
        set_err(err, errlen, "key '%s' = %g must be positive", key(c, "rope.freq_base", &kb), theta);
        return WGPT_ERR_FORMAT;
    }
    c->norm_eps = (float)eps;
    c->rope_theta = (float)theta;
    if (get_int(g, c, "rope.dimension_count", 0, c->head_dim, MAX_DIM, &c->rope_dim, err, errlen))
        return WGPT_ERR_FORMAT;
    if (c->rope_dim > c->head_dim || c->rope_dim % 2 != 0) {
        set_err(err, errlen, "%s.rope.dimension_count (%d) must be even and at most the head dim (%d)", f->arch,
                c->rope_dim, c->head_dim);
        return WGPT_ERR_FORMAT;
    }
    if ((st = read_rope_scaling(g, c, err, errlen)) != WGPT_OK) return st;
    if (read_gemma_keys(g, c, err, errlen) != 0) return WGPT_ERR_FORMAT;
    if (read_vocab_size(g, c, err, errlen) || check_tensors(g, c, err, errlen)) return WGPT_ERR_FORMAT;
    return WGPT_OK;
}
