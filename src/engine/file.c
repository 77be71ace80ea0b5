/* A model file read without a GPU (wgpt_file), the CPU reference run from
 * it, and the tokenizer made from it alone (wgpt_vocab): what `wgpt
 * inspect`, `verify` and `tokenize` need, in the public API's
 * format-neutral shapes. Today every file is GGUF; another format becomes
 * another branch of wgpt_file_open filling the same answers. */
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"
#include "formats/hf_folder.h"
#include "models/decoder.h"
#include "tokenizer/tokenizer.h"
#include "util/text.h"
#include "util/util.h"
#include "wgpt.h"

struct wgpt_file {
    gguf_file g;
    model_dir *dir;      /* a folder read as a GGUF (formats/hf_folder.h); NULL for a GGUF file */
    char *path;          /* for messages about the file */
    uint64_t strs_of;    /* the entry whose string array strs indexes; UINT64_MAX: none */
    gguf_str *strs;
};

struct wgpt_vocab { wgpt_tokenizer *tok; };

wgpt_status wgpt_file_open(const char *path, wgpt_file **out, char *err, size_t errlen) {
    if (out) *out = NULL;
    if (!path || !out) {
        set_err(err, errlen, "wgpt_file_open: no %s", path ? "place for the file" : "path");
        return WGPT_ERR_ARG;
    }
    wgpt_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        set_err(err, errlen, "out of memory");
        return WGPT_ERR_NOMEM;
    }
    f->strs_of = UINT64_MAX;
    if (model_dir_is(path)) {
        char e[1024];
        int io = 0;
        if (model_dir_open(path, &f->g, &f->dir, &io, e, sizeof e) != 0) {
            set_err(err, errlen, "%s: %s", text_show_z(path), e);
            free(f->path);
            free(f);
            return io ? WGPT_ERR_IO : WGPT_ERR_FORMAT;
        }
        *out = f;
        return WGPT_OK;
    }
    if (gguf_open(&f->g, path, err, errlen) != 0) { /* its messages name the file */
        wgpt_status st = f->g.io_error ? WGPT_ERR_IO : WGPT_ERR_FORMAT;
        free(f->path);
        free(f);
        return st;
    }
    *out = f;
    return WGPT_OK;
}

void wgpt_file_close(wgpt_file *f) {
    if (!f) return;
    gguf_close(&f->g);
    model_dir_free(f->dir);
    free(f->strs);
    free(f->path);
    free(f);
}

void wgpt_file_get_info(const wgpt_file *f, wgpt_file_info *out) {
    memset(out, 0, sizeof *out);
    if (f->dir) {
        out->format = model_dir_format(f->dir);
        out->n_files = model_dir_n_files(f->dir);
        for (size_t i = 0; i < out->n_files; i++) {
            uint64_t size;
            model_dir_file(f->dir, i, &size);
            out->size += size;
        }
        out->n_meta = f->g.n_kv;
        out->n_tensors = f->g.n_tensors;
        return;
    }
    out->n_files = 1;
    out->format = "GGUF";
    out->version = f->g.version;
    out->size = f->g.file_size;
    out->n_meta = f->g.n_kv;
    out->n_tensors = f->g.n_tensors;
    out->alignment = f->g.alignment;
    out->data_offset = f->g.data_offset;
}

static wgpt_str str_of(gguf_str s) { return (wgpt_str){s.ptr ? s.ptr : "", (size_t)s.len}; }

static wgpt_meta_type meta_type(uint32_t t) {
    switch (t) {
    case GGUF_TYPE_INT8: case GGUF_TYPE_INT16: case GGUF_TYPE_INT32: case GGUF_TYPE_INT64: return WGPT_META_INT;
    case GGUF_TYPE_FLOAT32: return WGPT_META_F32;
    case GGUF_TYPE_FLOAT64: return WGPT_META_F64;
    case GGUF_TYPE_BOOL: return WGPT_META_BOOL;
    case GGUF_TYPE_STRING: return WGPT_META_STR;
    case GGUF_TYPE_ARRAY: return WGPT_META_ARRAY;
    default: return WGPT_META_UINT; /* the parser admits no type outside the list */
    }
}

/* A parsed entry, or a decoded array element, in the public shape. */
static void meta_of(const gguf_kv *kv, wgpt_meta *out) {
    memset(out, 0, sizeof *out);
    out->key = str_of(kv->key);
    out->type = meta_type(kv->type);
    out->type_name = gguf_type_name(kv->type);
    switch (out->type) {
    case WGPT_META_UINT: case WGPT_META_BOOL: out->u = kv->v.u; break;
    case WGPT_META_INT: out->i = kv->v.i; break;
    case WGPT_META_F32: case WGPT_META_F64: out->f = kv->v.f; break;
    case WGPT_META_STR: out->str = str_of(kv->str); break;
    case WGPT_META_ARRAY:
        out->elem_type = meta_type(kv->arr_type);
        out->elem_type_name = gguf_type_name(kv->arr_type);
        out->n = kv->arr_len;
        break;
    }
}

wgpt_status wgpt_file_meta(const wgpt_file *f, uint64_t i, wgpt_meta *out) {
    if (!f || !out || i >= f->g.n_kv) return WGPT_ERR_ARG;
    meta_of(&f->g.kv[i], out);
    return WGPT_OK;
}

int64_t wgpt_file_meta_find(const wgpt_file *f, const char *key) {
    if (!f || !key) return -1;
    for (uint64_t i = 0; i < f->g.n_kv; i++)
        if (gguf_str_eq(f->g.kv[i].key, key)) return (int64_t)i;
    return -1;
}

/* Strings of an array sit one after another with their lengths, so
 * reaching element j means walking j strings: index the array once. */
static wgpt_status index_strings(wgpt_file *f, uint64_t i) {
    if (f->strs_of == i) return WGPT_OK;
    free(f->strs);
    f->strs = NULL;
    f->strs_of = UINT64_MAX;
    if (gguf_arr_strings(&f->g.kv[i], &f->strs) != 0) return WGPT_ERR_NOMEM; /* the type was checked */
    f->strs_of = i;
    return WGPT_OK;
}

wgpt_status wgpt_file_meta_elem(wgpt_file *f, uint64_t i, uint64_t j, wgpt_meta *out) {
    if (!f || !out || i >= f->g.n_kv) return WGPT_ERR_ARG;
    const gguf_kv *kv = &f->g.kv[i];
    if (kv->type != GGUF_TYPE_ARRAY || j >= kv->arr_len) return WGPT_ERR_ARG;
    if (kv->arr_type == GGUF_TYPE_ARRAY) return WGPT_ERR_UNSUPPORTED;
    gguf_kv e;
    if (kv->arr_type == GGUF_TYPE_STRING) {
        wgpt_status st = index_strings(f, i);
        if (st != WGPT_OK) return st;
        memset(&e, 0, sizeof e);
        e.type = GGUF_TYPE_STRING;
        e.str = f->strs[j];
    } else if (gguf_arr_scalar(kv, j, &e) != 0) {
        return WGPT_ERR_ARG;
    }
    meta_of(&e, out);
    return WGPT_OK;
}

wgpt_status wgpt_file_tensor(const wgpt_file *f, uint64_t i, wgpt_tensor_info *out) {
    if (!f || !out || i >= f->g.n_tensors) return WGPT_ERR_ARG;
    const gguf_tensor *t = &f->g.tensors[i];
    memset(out, 0, sizeof *out);
    out->name = str_of(t->name);
    out->n_dims = (int)t->n_dims;
    for (int d = 0; d < GGUF_MAX_DIMS; d++) out->ne[d] = t->ne[d]; /* the parser sets 1 past n_dims */
    out->type_name = ggml_type_name(t->type);
    out->offset = f->g.data_offset + t->offset;
    out->nbytes = t->nbytes;
    out->file = f->dir ? model_dir_tensor_file(f->dir, i) : 0;
    return WGPT_OK;
}

wgpt_status wgpt_file_part(const wgpt_file *f, uint64_t i, wgpt_str *name, uint64_t *size) {
    if (!f || !name) return WGPT_ERR_ARG;
    if (!f->dir) {
        if (i != 0) return WGPT_ERR_ARG;
        *name = (wgpt_str){f->path, strlen(f->path)};
        if (size) *size = f->g.file_size;
        return WGPT_OK;
    }
    uint64_t sz;
    const char *n = model_dir_file(f->dir, (size_t)i, &sz);
    if (!n) return WGPT_ERR_ARG;
    *name = (wgpt_str){n, strlen(n)};
    if (size) *size = sz;
    return WGPT_OK;
}

/* The reference over tokens 0..n-1 as one forward, to fn; then with last_fn
 * and n >= 2, 0..n-2 as one forward and n-1 as one of its own, to last_fn. */
static wgpt_status reference_capture(const char *what, const wgpt_file *f, const int32_t *tokens, size_t n,
                                     wgpt_capture_fn fn, void *user, wgpt_capture_fn last_fn, void *last_user,
                                     wgpt_activation_fn inputs, void *inputs_user, char *err, size_t errlen) {
    if (!f || !fn || !tokens || n == 0 || n > INT32_MAX) {
        set_err(err, errlen, "%s: %s", what, !f ? "no file" : !fn ? "no callback" : "no tokens");
        return WGPT_ERR_ARG;
    }
    if (f->dir && !model_dir_has_weights(f->dir)) {
        set_err(err, errlen, "%s: %s", text_show_z(f->path), model_dir_no_weights(f->dir));
        return WGPT_ERR_FORMAT;
    }
    decoder_config c;
    wgpt_status st = decoder_config_from_gguf(&f->g, &c, err, errlen);
    if (st != WGPT_OK) return st;
    for (size_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= c.n_vocab) {
            set_err(err, errlen, "token id %d is outside the vocabulary (0..%d)", tokens[i], c.n_vocab - 1);
            return WGPT_ERR_ARG;
        }
    decoder_ref *r = NULL;
    /* The second pass starts again at position 0, so the cache holds only
     * what its own steps put there. */
    if (decoder_ref_build(&f->g, &c, (int)n, &r, err, errlen) == 0) decoder_ref_feed_inputs(r, inputs, inputs_user);
    if (!r ||
        decoder_ref_forward(r, tokens, (int)n, 0, NULL, fn, user, err, errlen) != 0 ||
        (last_fn && n >= 2 &&
         (decoder_ref_forward(r, tokens, (int)n - 1, 0, NULL, NULL, NULL, err, errlen) != 0 ||
          decoder_ref_forward(r, tokens + n - 1, 1, (int)n - 1, NULL, last_fn, last_user, err, errlen) != 0)))
        st = WGPT_ERR_UNSUPPORTED; /* the ids and the config were checked: what is left is the weights or memory */
    decoder_ref_free(r);
    return st;
}

wgpt_status wgpt_file_reference_capture(const wgpt_file *f, const int32_t *tokens, size_t n, wgpt_capture_fn fn,
                                        void *user, char *err, size_t errlen) {
    return reference_capture("wgpt_file_reference_capture", f, tokens, n, fn, user, NULL, NULL, NULL, NULL, err,
                             errlen);
}

wgpt_status wgpt_file_reference_capture_decode(const wgpt_file *f, const int32_t *tokens, size_t n,
                                               wgpt_capture_fn fn, void *user, wgpt_capture_fn last_fn,
                                               void *last_user, wgpt_activation_fn inputs, void *inputs_user,
                                               char *err, size_t errlen) {
    if (!last_fn) {
        set_err(err, errlen, "wgpt_file_reference_capture_decode: no callback for the last token");
        return WGPT_ERR_ARG;
    }
    return reference_capture("wgpt_file_reference_capture_decode", f, tokens, n, fn, user, last_fn, last_user, inputs,
                             inputs_user, err, errlen);
}

wgpt_status wgpt_vocab_open(const wgpt_file *f, wgpt_vocab **out, char *err, size_t errlen) {
    if (out) *out = NULL;
    if (!f || !out) {
        set_err(err, errlen, "wgpt_vocab_open: no %s", f ? "place for the vocabulary" : "file");
        return WGPT_ERR_ARG;
    }
    wgpt_vocab *v = calloc(1, sizeof *v);
    if (!v) { set_err(err, errlen, "out of memory"); return WGPT_ERR_NOMEM; }
    char e[512];
    if (tokenizer_from_gguf(&f->g, &v->tok, e, sizeof e) != 0) {
        set_err(err, errlen, "%s: %s", text_show_z(f->path), e);
        free(v);
        return WGPT_ERR_FORMAT;
    }
    *out = v;
    return WGPT_OK;
}

void wgpt_vocab_free(wgpt_vocab *v) {
    if (!v) return;
    tokenizer_free(v->tok);
    free(v);
}

wgpt_status wgpt_vocab_tokenize(const wgpt_vocab *v, const char *text, size_t len, int add_special, int parse_special,
                                int32_t **ids, size_t *n_ids, char *err, size_t errlen) {
    if (!v || !ids || !n_ids || (!text && len)) {
        set_err(err, errlen, "wgpt_vocab_tokenize: no %s", !v ? "vocabulary" : text || !len ? "place for the ids" : "text");
        return WGPT_ERR_ARG;
    }
    if (tokenizer_encode(v->tok, text ? text : "", len, add_special, parse_special, ids, n_ids, err, errlen) != 0)
        return WGPT_ERR_ARG;
    return WGPT_OK;
}

int wgpt_vocab_token_to_piece(const wgpt_vocab *v, int32_t id, char *buf, size_t cap) {
    return v ? tokenizer_token_to_piece(v->tok, id, buf, cap) : -1;
}

int wgpt_vocab_n_tokens(const wgpt_vocab *v) { return v ? tokenizer_n_vocab(v->tok) : 0; }
const char *wgpt_vocab_kind(const wgpt_vocab *v) { return v ? tokenizer_kind(v->tok) : ""; }
int32_t wgpt_vocab_bos(const wgpt_vocab *v) { return v ? tokenizer_bos(v->tok) : -1; }
int32_t wgpt_vocab_eos(const wgpt_vocab *v) { return v ? tokenizer_eos(v->tok) : -1; }
