/* The model handle: loading (from a mapped file, or step by step as the
 * bytes arrive), and what a loaded model answers. A model is immutable once
 * loaded and may serve several contexts (context.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "formats/dtype.h"
#include "formats/quant.h"
#include "util/text.h"
#include "util/util.h"

void wgpt_model_params_default(wgpt_model_params *p) {
    memset(p, 0, sizeof *p);
    p->device = -1;
}

struct wgpt_loader {
    wgpt_model *m;
    uint64_t *order;     /* tensor indices in file order, so reads go front to back */
    uint64_t next;       /* position in order of the tensor wanted next */
    wgpt_progress_fn progress;
    void *user;
    uint64_t done, total; /* bytes of weights, for progress */
};

void wgpt_loader_free(wgpt_loader *l) {
    if (!l) return;
    wgpt_model_free(l->m);
    free(l->order);
    free(l);
}

/* Everything but the weights: hyperparameters, tokenizer, device, kernels.
 * Takes the parsed header m->gguf as it is. */
static wgpt_status loader_start(wgpt_model *m, const wgpt_model_params *p, wgpt_loader **out, char *err, size_t errlen) {
    char e[512];
    wgpt_loader *l = calloc(1, sizeof *l);
    if (!l) { wgpt_model_free(m); set_err(err, errlen, "out of memory"); return WGPT_ERR_NOMEM; }
    l->m = m;
    wgpt_status st = decoder_config_from_gguf(&m->gguf, &m->c, e, sizeof e);
    if (st != WGPT_OK) {
        set_err(err, errlen, "%s", e);
        wgpt_loader_free(l);
        return st;
    }
    /* Every matrix must be a type the kernels run before the GPU is touched. */
    uint64_t total = 0;
    for (uint64_t i = 0; i < m->gguf.n_tensors; i++) {
        const gguf_tensor *t = &m->gguf.tensors[i];
        total += t->nbytes;
        if (t->n_dims == 2 && dtype_gpu_slot(t->type) < 0) {
            set_err(err, errlen, "tensor '%s' has type %s, which wgpt does not run yet (supported: %s)",
                    text_show(t->name.ptr, t->name.len), ggml_type_name(t->type), dtype_gpu_names());
            wgpt_loader_free(l);
            return WGPT_ERR_UNSUPPORTED;
        }
    }
    st = WGPT_ERR_GPU;
    char embd[96];
    decoder_tensor_name(&m->c, ROLE_TOKEN_EMBD, -1, embd, sizeof embd);
    gpu_log log = {p->log, p->user};
    gpu_options go = {p->webgpu_lib, p->device, p->max_binding, &log};
    if (tokenizer_from_gguf(&m->gguf, &m->tok, e, sizeof e) != 0) {
        set_err(err, errlen, "%s", e); /* the tokenizer's messages say "tokenizer:" themselves */
        st = WGPT_ERR_FORMAT;
    } else if (tokenizer_n_vocab(m->tok) > m->c.n_vocab) {
        /* Ids past the embedding would fail only once fed. Fewer tokens than
         * rows is a padded vocabulary: allowed, and the sampler never picks
         * the rows without a token. */
        set_err(err, errlen, "tokenizer.ggml.tokens has %d entries but the model's vocabulary (%s) has %d rows",
                tokenizer_n_vocab(m->tok), embd, m->c.n_vocab);
        st = WGPT_ERR_FORMAT;
    } else if (!(m->dev = gpu_open(&go, e, sizeof e))) {
        set_err(err, errlen, "%s", e);
    } else if (kernels_init(&m->kernels, m->dev), (uint32_t)m->c.head_dim > kernels_attention_max_head(&m->kernels)) {
        /* build_decoder_state refuses the same, but this is the model and
         * the adapter, not a context size, so it is said at load time. */
        set_err(err, errlen, "head size %d is larger than the attention kernel handles on this adapter (%u)",
                m->c.head_dim, kernels_attention_max_head(&m->kernels));
        st = WGPT_ERR_UNSUPPORTED;
    } else if (begin_decoder_weights(&m->c, &m->w, e, sizeof e) != WGPT_OK ||
               !(l->order = malloc((m->gguf.n_tensors ? m->gguf.n_tensors : 1) * sizeof *l->order))) {
        set_err(err, errlen, "%s", l->order ? e : "out of memory");
        st = WGPT_ERR_NOMEM;
    } else {
        /* Insertion sort: files are nearly always in offset order already. */
        for (uint64_t i = 0; i < m->gguf.n_tensors; i++) {
            uint64_t j = i;
            for (; j > 0 && m->gguf.tensors[l->order[j - 1]].offset > m->gguf.tensors[i].offset; j--)
                l->order[j] = l->order[j - 1];
            l->order[j] = i;
        }
        l->progress = p->progress;
        l->user = p->user;
        l->total = total;
        if (l->progress) l->progress(l->user, 0, total);
        *out = l;
        return WGPT_OK;
    }
    wgpt_loader_free(l);
    return st;
}

/* The header is copied and kept for the model's life; no real model's
 * header comes near this (a 256k-token vocabulary with its merges is tens
 * of MB), so a file claiming more is refused rather than fetched. */
#define MAX_HEADER_BYTES (256ull << 20)

/* How much to ask for when the parser needs at least `need` bytes: at least
 * twice what was given, so that a long header (one string after another
 * just past the end) takes a few rounds, not one per string; in whole
 * 64 KiB, and never past the file. */
static uint64_t header_request(uint64_t need, uint64_t len, uint64_t file_size) {
    uint64_t want = need > 2 * len ? need : 2 * len;
    if (want > MAX_HEADER_BYTES) want = need > MAX_HEADER_BYTES ? need : MAX_HEADER_BYTES;
    want = (want + 0xffff) & ~(uint64_t)0xffff;
    return want < file_size ? want : file_size;
}

wgpt_status wgpt_loader_begin(const uint8_t *head, size_t len, uint64_t file_size, const wgpt_model_params *p,
                              wgpt_loader **out, uint64_t *need, char *err, size_t errlen) {
    wgpt_model_params defaults;
    if (!p) { wgpt_model_params_default(&defaults); p = &defaults; }
    if (out) *out = NULL;
    if (need) *need = 0;
    if (!out || (!head && len)) { set_err(err, errlen, "wgpt_loader_begin: no %s", out ? "bytes" : "place for the loader"); return WGPT_ERR_ARG; }
    wgpt_model *m = calloc(1, sizeof *m);
    if (!m || !(m->head = malloc(len ? len : 1))) {
        free(m);
        set_err(err, errlen, "out of memory");
        return WGPT_ERR_NOMEM;
    }
    if (len) memcpy(m->head, head, len); /* metadata strings point into it for the model's life */
    char e[512];
    uint64_t more = 0;
    if (gguf_parse_header(&m->gguf, m->head, len, file_size, &more, e, sizeof e) != 0) {
        wgpt_model_free(m);
        if (more > MAX_HEADER_BYTES) {
            set_err(err, errlen, "gguf: the header would take at least %llu bytes, more than the %llu MB a model's "
                    "header can have: the file is corrupt or not a model", (unsigned long long)more,
                    (unsigned long long)(MAX_HEADER_BYTES >> 20));
            return WGPT_ERR_FORMAT;
        }
        if (more) { /* only cut short: the file has the bytes the parser wants */
            if (need) *need = header_request(more, len, file_size);
            set_err(err, errlen, "%s", e);
            return WGPT_PENDING;
        }
        set_err(err, errlen, "%s", e);
        return WGPT_ERR_FORMAT;
    }
    return loader_start(m, p, out, err, errlen);
}

wgpt_status wgpt_loader_next(wgpt_loader *l, uint64_t *offset, uint64_t *size) {
    const gguf_file *g = &l->m->gguf;
    if (l->next >= g->n_tensors) return WGPT_OK;
    const gguf_tensor *t = &g->tensors[l->order[l->next]];
    *offset = g->data_offset + t->offset;
    *size = t->nbytes;
    return WGPT_PENDING;
}

wgpt_status wgpt_loader_provide(wgpt_loader *l, const uint8_t *data, size_t size, char *err, size_t errlen) {
    const gguf_file *g = &l->m->gguf;
    if (l->next >= g->n_tensors) { set_err(err, errlen, "no tensor is wanted: every weight is loaded"); return WGPT_ERR_STATE; }
    gguf_tensor t = g->tensors[l->order[l->next]];
    if (size != t.nbytes) {
        set_err(err, errlen, "tensor '%s': got %zu bytes, expected %llu", text_show(t.name.ptr, t.name.len), size,
                (unsigned long long)t.nbytes);
        return WGPT_ERR_ARG;
    }
    t.data = data;
    char e[512];
    wgpt_status st = decoder_weights_take(l->m->w, l->m->dev, &t, e, sizeof e);
    if (st != WGPT_OK) {
        set_err(err, errlen, "%s", e);
        return st;
    }
    l->next++;
    l->done += t.nbytes;
    if (l->progress) l->progress(l->user, l->done, l->total);
    return WGPT_OK;
}

wgpt_status wgpt_loader_finish(wgpt_loader *l, wgpt_model **out, char *err, size_t errlen) {
    *out = NULL;
    wgpt_model *m = l->m;
    char e[512];
    if (l->next < m->gguf.n_tensors) { set_err(err, errlen, "not every tensor was provided"); return WGPT_ERR_STATE; }
    wgpt_status st = complete_decoder_weights(m->w, e, sizeof e);
    if (st != WGPT_OK) { set_err(err, errlen, "%s", e); return st; }
    const char *ge = gpu_take_error(m->dev);
    if (ge) { set_err(err, errlen, "uploading weights: %s", ge); return WGPT_ERR_GPU; }
    snprintf(m->desc, sizeof m->desc, "%s, %d layers, dim %d, %d heads (%d kv), ffn %d, vocab %d, %s",
             m->c.family->arch, m->c.n_layers, m->c.dim, m->c.n_heads, m->c.n_kv_heads, m->c.hidden_dim,
             m->c.n_vocab, ggml_type_name(decoder_weights_type(m->w)));
    l->m = NULL;
    wgpt_loader_free(l);
    *out = m;
    return WGPT_OK;
}

wgpt_status model_load_opened(wgpt_model *m, const wgpt_model_params *p, wgpt_model **out, char *e, size_t elen) {
    *out = NULL;
    wgpt_loader *l = NULL;
    wgpt_status st = loader_start(m, p, &l, e, elen);
    uint64_t off, size;
    /* Each tensor's bytes where the parser (or the folder) put them: a
     * folder's are in several files or computed, not at one base. */
    while (st == WGPT_OK && wgpt_loader_next(l, &off, &size) == WGPT_PENDING)
        st = wgpt_loader_provide(l, m->gguf.tensors[l->order[l->next]].data, (size_t)size, e, elen);
    if (st == WGPT_OK && (st = wgpt_loader_finish(l, out, e, elen)) == WGPT_OK) l = NULL; /* finish freed it */
    if (st == WGPT_OK && gpu_finish((*out)->dev, e, elen) != 0) {
        wgpt_model_free(*out);
        *out = NULL;
        st = WGPT_ERR_GPU;
    }
    if (l) wgpt_loader_free(l);
    return st;
}

/* The native path: the loader's loop over a memory-mapped file. */
wgpt_status wgpt_model_load(const char *path, const wgpt_model_params *p, wgpt_model **out, char *err, size_t errlen) {
    wgpt_model_params defaults;
    if (!p) { wgpt_model_params_default(&defaults); p = &defaults; }
    *out = NULL;
    wgpt_model *m = calloc(1, sizeof *m);
    if (!m) { set_err(err, errlen, "out of memory"); return WGPT_ERR_NOMEM; }
    char e[1024];
    if (model_dir_is(path)) {
        int io = 0;
        const char *why = NULL;
        if (model_dir_open(path, &m->gguf, &m->dir, &io, e, sizeof e) == 0 && !model_dir_has_weights(m->dir))
            why = model_dir_no_weights(m->dir);
        if (!m->dir || why) {
            set_err(err, errlen, "%s: %s", text_show_z(path), why ? why : e);
            wgpt_model_free(m);
            return io ? WGPT_ERR_IO : WGPT_ERR_FORMAT;
        }
    } else if (gguf_open(&m->gguf, path, e, sizeof e) != 0) { /* its messages name the file */
        wgpt_status st = !path ? WGPT_ERR_ARG : m->gguf.io_error ? WGPT_ERR_IO : WGPT_ERR_FORMAT;
        set_err(err, errlen, "%s", e);
        free(m);
        return st;
    }
    wgpt_status st = model_load_opened(m, p, out, e, sizeof e);
    if (st != WGPT_OK) {
        /* What is wrong with the file names the file; the device, the
         * WebGPU library or memory are not the file's fault. */
        if (st == WGPT_ERR_GPU || st == WGPT_ERR_NOMEM) set_err(err, errlen, "%s", e);
        else set_err(err, errlen, "%s: %s", text_show_z(path), e);
    }
    return st;
}

void wgpt_model_free(wgpt_model *m) {
    if (!m) return;
    free_decoder_weights(m->w);
    kernels_free(&m->kernels);
    gpu_close(m->dev);
    tokenizer_free(m->tok);
    gguf_close(&m->gguf);
    model_dir_free(m->dir);
    free(m->head);
    free(m);
}

const char *wgpt_model_desc(const wgpt_model *m) { return m->desc; }
int wgpt_model_n_vocab(const wgpt_model *m) { return m->c.n_vocab; }
int wgpt_model_n_ctx_train(const wgpt_model *m) { return m->c.n_ctx_train; }
const char *wgpt_model_adapter(const wgpt_model *m) { return gpu_adapter(m->dev)->name; }
const char *wgpt_model_prompt_path(const wgpt_model *m) {
    return quant_int8_matmul(decoder_weights_type(m->w)) ? "8-bit dot products (matmul_i8.wgsl), flash attention"
                                                         : "f32 tiles (matmul.wgsl), flash attention";
}

int wgpt_model_meta_str(const wgpt_model *m, const char *key, char *buf, size_t cap) {
    gguf_str v;
    if (gguf_get_str(&m->gguf, key, &v) != 0) return -1;
    if (cap) {
        size_t n = v.len < cap - 1 ? (size_t)v.len : cap - 1;
        memcpy(buf, v.ptr, n);
        buf[n] = 0;
    }
    return (int)v.len;
}

wgpt_status wgpt_tokenize(const wgpt_model *m, const char *text, size_t len, int add_special, int parse_special,
                          int32_t **ids, size_t *n_ids, char *err, size_t errlen) {
    if (tokenizer_encode(m->tok, text, len, add_special, parse_special, ids, n_ids, err, errlen) != 0) return WGPT_ERR_ARG;
    return WGPT_OK;
}

int wgpt_token_to_piece(const wgpt_model *m, int32_t id, char *buf, size_t cap) {
    return tokenizer_token_to_piece(m->tok, id, buf, cap);
}
int wgpt_token_is_eog(const wgpt_model *m, int32_t id) { return tokenizer_is_eog(m->tok, id); }
int32_t wgpt_token_bos(const wgpt_model *m) { return tokenizer_bos(m->tok); }

