/* Llama hyperparameters from GGUF metadata, and the check that the tensor
 * directory holds exactly the tensors those hyperparameters imply. */
#include "models/llama.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util/text.h"
#include "util/util.h"

/* Bounds generous enough for any published Llama-shaped model; beyond them
 * the metadata is corrupt, and sizes computed from it could overflow. */
#define MAX_DIM     (1 << 16)
#define MAX_LAYERS  4096
#define MAX_HEADS   4096
#define MAX_HIDDEN  (1 << 20)
#define MAX_VOCAB   (1 << 24)
#define MAX_CTX     (1 << 30)

static int is_int_type(uint32_t t) {
    return t <= GGUF_TYPE_INT32 || t == GGUF_TYPE_UINT64 || t == GGUF_TYPE_INT64;
}

static int is_signed_int(uint32_t t) {
    return t == GGUF_TYPE_INT8 || t == GGUF_TYPE_INT16 || t == GGUF_TYPE_INT32 || t == GGUF_TYPE_INT64;
}

/* A positive integer key no larger than max; dflt when absent and not required. */
static int get_int(const gguf_file *g, const char *key, int required, int dflt, int max, int *out,
                   char *err, size_t errlen) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv) {
        if (required) { set_err(err, errlen, "missing key '%s'", key); return -1; }
        *out = dflt;
        return 0;
    }
    uint64_t v;
    if (!is_int_type(kv->type)) {
        set_err(err, errlen, "key '%s' has type %s, expected an integer", key, gguf_type_name(kv->type));
        return -1;
    }
    if (is_signed_int(kv->type) && kv->v.i <= 0) {
        set_err(err, errlen, "key '%s' = %lld is out of range (1..%d)", key, (long long)kv->v.i, max);
        return -1;
    }
    if (gguf_get_u64(g, key, &v) != 0 || v == 0 || v > (uint64_t)max) {
        set_err(err, errlen, "key '%s' = %llu is out of range (1..%d)", key, (unsigned long long)kv->v.u, max);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int get_float(const gguf_file *g, const char *key, int required, double dflt, double *out,
                     char *err, size_t errlen) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv) {
        if (required) { set_err(err, errlen, "missing key '%s'", key); return -1; }
        *out = dflt;
        return 0;
    }
    if (kv->type == GGUF_TYPE_ARRAY || kv->type == GGUF_TYPE_STRING || gguf_get_f64(g, key, out) != 0) {
        set_err(err, errlen, "key '%s' has type %s, expected a number", key, gguf_type_name(kv->type));
        return -1;
    }
    if (!isfinite(*out)) { set_err(err, errlen, "key '%s' is not finite", key); return -1; }
    return 0;
}

/* Rope scaling the way llama.cpp reads it: the type defaults to linear, the
 * factor comes from rope.scaling.factor or the older rope.scale_linear, and
 * a factor of 0 means none. */
static int read_rope_scaling(const gguf_file *g, llama_config *c, char *err, size_t errlen) {
    gguf_str type = {"linear", 6};
    const gguf_kv *kv = gguf_find(g, "llama.rope.scaling.type");
    if (kv && gguf_get_str(g, "llama.rope.scaling.type", &type) != 0) {
        set_err(err, errlen, "key 'llama.rope.scaling.type' has type %s, expected a string",
                gguf_type_name(kv->type));
        return -1;
    }
    double factor = 0;
    const char *fkey = gguf_find(g, "llama.rope.scaling.factor") ? "llama.rope.scaling.factor"
                                                                 : "llama.rope.scale_linear";
    if (get_float(g, fkey, 0, 0.0, &factor, err, errlen) != 0) return -1;
    if (factor < 0) { set_err(err, errlen, "key '%s' = %g must not be negative", fkey, factor); return -1; }
    c->rope_linear_scale = 1.0f;
    if (gguf_str_eq(type, "none")) return 0;
    if (!gguf_str_eq(type, "linear")) {
        set_err(err, errlen, "unsupported rope scaling type '%s' (supported: none, linear)",
                text_show(type.ptr, type.len));
        return -1;
    }
    if (factor > 0) c->rope_linear_scale = (float)factor;
    return 0;
}

/* The vocabulary is the embedding's rows: llama.vocab_size when given
 * (checked against the embedding below), else the rows themselves. */
static int read_vocab_size(const gguf_file *g, llama_config *c, char *err, size_t errlen) {
    if (gguf_find(g, "llama.vocab_size"))
        return get_int(g, "llama.vocab_size", 1, 0, MAX_VOCAB, &c->n_vocab, err, errlen);
    const gguf_tensor *t = gguf_find_tensor(g, "token_embd.weight");
    if (!t) { set_err(err, errlen, "missing tensor 'token_embd.weight'"); return -1; }
    uint64_t n = t->n_dims >= 2 ? t->ne[1] : 0;
    if (n == 0 || n > MAX_VOCAB) {
        set_err(err, errlen, "vocabulary size %llu (the rows of token_embd.weight) is out of range (1..%d)",
                (unsigned long long)n, MAX_VOCAB);
        return -1;
    }
    c->n_vocab = (int)n;
    return 0;
}

/* ggml's shape rule: dimensions past the listed ones must be 1. */
static int check_shape(const gguf_tensor *t, const char *name, int n, const uint64_t *ne,
                       char *err, size_t errlen) {
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

static int check_tensor(const gguf_file *g, const char *name, int optional, int n, uint64_t ne0,
                        uint64_t ne1, int *present, char *err, size_t errlen) {
    const gguf_tensor *t = gguf_find_tensor(g, name);
    if (present) *present = t != NULL;
    if (!t) {
        if (optional) return 0;
        set_err(err, errlen, "missing tensor '%s'", name);
        return -1;
    }
    uint64_t ne[2] = {ne0, ne1};
    return check_shape(t, name, n, ne, err, errlen);
}

static const char *const layer_tensors[] = {
    "attn_norm", "attn_q", "attn_k", "attn_v", "attn_output",
    "ffn_norm", "ffn_gate", "ffn_up", "ffn_down",
};

/* Whether name is one of the tensors this architecture uses. Anything else
 * (biases, experts) would change the maths, so it is refused, not ignored. */
static int is_llama_tensor(gguf_str name, int n_layers) {
    if (gguf_str_eq(name, "token_embd.weight") || gguf_str_eq(name, "output_norm.weight") ||
        gguf_str_eq(name, "output.weight") || gguf_str_eq(name, "rope_freqs.weight"))
        return 1;
    char buf[64];
    if (name.len >= sizeof buf) return 0;
    memcpy(buf, name.ptr, name.len);
    buf[name.len] = '\0';
    int layer, used = 0;
    char part[32];
    if (sscanf(buf, "blk.%d.%31[a-z_].weight%n", &layer, part, &used) != 2 || used != (int)name.len ||
        layer < 0 || layer >= n_layers)
        return 0;
    char canon[64]; /* rejects "blk.01." and other spellings of the same layer */
    snprintf(canon, sizeof canon, "blk.%d.%s.weight", layer, part);
    if (strcmp(canon, buf) != 0) return 0;
    for (size_t i = 0; i < sizeof layer_tensors / sizeof *layer_tensors; i++)
        if (strcmp(part, layer_tensors[i]) == 0) return 1;
    return 0;
}

static int check_tensors(const gguf_file *g, llama_config *c, char *err, size_t errlen) {
    const uint64_t dim = (uint64_t)c->dim, q_dim = (uint64_t)c->n_heads * c->head_dim,
                   kv_dim = (uint64_t)c->n_kv_heads * c->head_dim, ffn = (uint64_t)c->hidden_dim,
                   vocab = (uint64_t)c->n_vocab;
    int present;
    if (check_tensor(g, "token_embd.weight", 0, 2, dim, vocab, NULL, err, errlen) ||
        check_tensor(g, "output_norm.weight", 0, 1, dim, 0, NULL, err, errlen) ||
        check_tensor(g, "output.weight", 1, 2, dim, vocab, &present, err, errlen))
        return -1;
    c->tied_output = !present;
    if (check_tensor(g, "rope_freqs.weight", 1, 1, (uint64_t)c->rope_dim / 2, 0, &present, err, errlen))
        return -1;
    c->has_rope_freqs = present;
    for (int l = 0; l < c->n_layers; l++) {
        const struct { const char *part; int n; uint64_t ne0, ne1; } want[] = {
            {"attn_norm", 1, dim, 0},      {"attn_q", 2, dim, q_dim},     {"attn_k", 2, dim, kv_dim},
            {"attn_v", 2, dim, kv_dim},    {"attn_output", 2, q_dim, dim}, {"ffn_norm", 1, dim, 0},
            {"ffn_gate", 2, dim, ffn},     {"ffn_up", 2, dim, ffn},       {"ffn_down", 2, ffn, dim},
        };
        for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
            char name[64];
            snprintf(name, sizeof name, "blk.%d.%s.weight", l, want[i].part);
            if (check_tensor(g, name, 0, want[i].n, want[i].ne0, want[i].ne1, NULL, err, errlen)) return -1;
        }
    }
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        gguf_str name = g->tensors[i].name;
        if (!is_llama_tensor(name, c->n_layers)) {
            set_err(err, errlen, "unexpected tensor '%s' (not part of the llama architecture)",
                    text_show(name.ptr, name.len));
            return -1;
        }
    }
    return 0;
}

int llama_config_from_gguf(const gguf_file *g, llama_config *c, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    gguf_str arch;
    if (!gguf_find(g, "general.architecture")) { set_err(err, errlen, "missing key 'general.architecture'"); return -1; }
    if (gguf_get_str(g, "general.architecture", &arch) != 0) {
        set_err(err, errlen, "key 'general.architecture' is not a string");
        return -1;
    }
    if (!gguf_str_eq(arch, "llama")) {
        set_err(err, errlen, "unsupported architecture '%s' (supported: llama)", text_show(arch.ptr, arch.len));
        return -1;
    }
    int experts = 0;
    if (get_int(g, "llama.expert_count", 0, 0, 1 << 20, &experts, err, errlen) != 0) return -1;
    if (experts > 0) {
        set_err(err, errlen, "mixture-of-experts llama models (llama.expert_count = %d) are not supported", experts);
        return -1;
    }

    if (get_int(g, "llama.context_length", 1, 0, MAX_CTX, &c->n_ctx_train, err, errlen) ||
        get_int(g, "llama.embedding_length", 1, 0, MAX_DIM, &c->dim, err, errlen) ||
        get_int(g, "llama.block_count", 1, 0, MAX_LAYERS, &c->n_layers, err, errlen) ||
        get_int(g, "llama.feed_forward_length", 1, 0, MAX_HIDDEN, &c->hidden_dim, err, errlen) ||
        get_int(g, "llama.attention.head_count", 1, 0, MAX_HEADS, &c->n_heads, err, errlen) ||
        get_int(g, "llama.attention.head_count_kv", 0, c->n_heads, MAX_HEADS, &c->n_kv_heads, err, errlen))
        return -1;
    if (c->n_kv_heads > c->n_heads || c->n_heads % c->n_kv_heads != 0) {
        set_err(err, errlen, "llama.attention.head_count (%d) is not a multiple of head_count_kv (%d)",
                c->n_heads, c->n_kv_heads);
        return -1;
    }
    if (gguf_find(g, "llama.attention.key_length")) {
        if (get_int(g, "llama.attention.key_length", 1, 0, MAX_DIM, &c->head_dim, err, errlen)) return -1;
    } else {
        if (c->dim % c->n_heads != 0) {
            set_err(err, errlen, "llama.embedding_length (%d) is not a multiple of head_count (%d)",
                    c->dim, c->n_heads);
            return -1;
        }
        c->head_dim = c->dim / c->n_heads;
    }
    int value_len;
    if (get_int(g, "llama.attention.value_length", 0, c->head_dim, MAX_DIM, &value_len, err, errlen)) return -1;
    if (value_len != c->head_dim) {
        set_err(err, errlen, "llama.attention.value_length (%d) differs from the key length (%d): not supported",
                value_len, c->head_dim);
        return -1;
    }
    if ((int64_t)c->n_heads * c->head_dim > MAX_HIDDEN) {
        set_err(err, errlen, "head_count (%d) x head dim (%d) is out of range", c->n_heads, c->head_dim);
        return -1;
    }

    double eps, theta;
    if (get_float(g, "llama.attention.layer_norm_rms_epsilon", 1, 0, &eps, err, errlen) ||
        get_float(g, "llama.rope.freq_base", 0, 10000.0, &theta, err, errlen))
        return -1;
    if (!(eps > 0 && eps < 1)) {
        set_err(err, errlen, "key 'llama.attention.layer_norm_rms_epsilon' = %g is out of range (0..1)", eps);
        return -1;
    }
    if (!(theta > 0)) {
        set_err(err, errlen, "key 'llama.rope.freq_base' = %g must be positive", theta);
        return -1;
    }
    c->norm_eps = (float)eps;
    c->rope_theta = (float)theta;
    if (get_int(g, "llama.rope.dimension_count", 0, c->head_dim, MAX_DIM, &c->rope_dim, err, errlen)) return -1;
    if (c->rope_dim > c->head_dim || c->rope_dim % 2 != 0) {
        set_err(err, errlen, "llama.rope.dimension_count (%d) must be even and at most the head dim (%d)",
                c->rope_dim, c->head_dim);
        return -1;
    }
    if (read_rope_scaling(g, c, err, errlen) || read_vocab_size(g, c, err, errlen)) return -1;
    return check_tensors(g, c, err, errlen);
}
