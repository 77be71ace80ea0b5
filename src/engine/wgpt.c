/* The public API: an immutable model shared by contexts, and generation as
 * a step function (submit, then collect when the GPU is done). */
#include "wgpt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/dtype.h"
#include "formats/gguf.h"
#include "gpu/gpu.h"
#include "graph/graph.h"
#include "models/decoder.h"
#include "models/decoder_gpu.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"
#include "util/text.h"
#include "util/util.h"

struct wgpt_model {
    gguf_file gguf;
    uint8_t *head;       /* the header bytes gguf points into (step-driven loading) */
    decoder_config c;
    wgpt_tokenizer *tok;
    gpu_device *dev;
    kernel_registry kernels;
    decoder_weights *w;
    char desc[256];
};

struct wgpt_context {
    wgpt_model *m;
    decoder_state *s;
    sampler *smp;
    int n_ctx, n_batch, logits_all;
    int pos;                  /* tokens already in the KV cache */
    int32_t *pending;         /* tokens queued for the next step */
    uint32_t *ids;            /* staging for one pass's token ids: n_batch */
    size_t n_pending;
    int inflight;             /* a step was submitted and not yet collected */
    int flight_rows;          /* logits rows the step in flight reads back */
    int last_rows;            /* logits rows of the last collected step; 0: none yet */
    float *logits;            /* host copy: [last_rows][n_vocab] */
    char err[512];
};

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
    } else if (kernels_init(&m->kernels, m->dev), (uint32_t)m->c.head_dim > 32 * m->kernels.group_lanes) {
        /* attention.wgsl holds 32 of a head's values per lane (its MAXD);
         * build_decoder_state refuses the same, but this is the model and the
         * adapter, not a context size, so it is said at load time. */
        set_err(err, errlen, "head size %d is larger than the attention kernel handles on this adapter (%u)",
                m->c.head_dim, 32 * m->kernels.group_lanes);
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

/* The native path: the loader's loop over a memory-mapped file. */
wgpt_status wgpt_model_load(const char *path, const wgpt_model_params *p, wgpt_model **out, char *err, size_t errlen) {
    wgpt_model_params defaults;
    if (!p) { wgpt_model_params_default(&defaults); p = &defaults; }
    *out = NULL;
    wgpt_model *m = calloc(1, sizeof *m);
    if (!m) { set_err(err, errlen, "out of memory"); return WGPT_ERR_NOMEM; }
    char e[512];
    if (gguf_open(&m->gguf, path, e, sizeof e) != 0) { /* its messages name the file */
        set_err(err, errlen, "%s", e);
        free(m);
        return path ? WGPT_ERR_FORMAT : WGPT_ERR_ARG;
    }
    wgpt_loader *l = NULL;
    wgpt_status st = loader_start(m, p, &l, e, sizeof e);
    uint64_t off, size;
    while (st == WGPT_OK && wgpt_loader_next(l, &off, &size) == WGPT_PENDING)
        st = wgpt_loader_provide(l, m->gguf.base + off, (size_t)size, e, sizeof e);
    if (st == WGPT_OK && (st = wgpt_loader_finish(l, out, e, sizeof e)) == WGPT_OK) l = NULL; /* finish freed it */
    if (st == WGPT_OK && gpu_finish((*out)->dev, e, sizeof e) != 0) {
        wgpt_model_free(*out);
        *out = NULL;
        st = WGPT_ERR_GPU;
    }
    if (st != WGPT_OK) {
        if (l) wgpt_loader_free(l);
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
    free(m->head);
    free(m);
}

const char *wgpt_model_desc(const wgpt_model *m) { return m->desc; }
int wgpt_model_n_vocab(const wgpt_model *m) { return m->c.n_vocab; }
int wgpt_model_n_ctx_train(const wgpt_model *m) { return m->c.n_ctx_train; }
const char *wgpt_model_adapter(const wgpt_model *m) { return gpu_adapter(m->dev)->name; }

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

void wgpt_context_params_default(wgpt_context_params *p) {
    memset(p, 0, sizeof *p);
    wgpt_sampler_params sp;
    sampler_params_default(&sp);
    p->sampling = (wgpt_sampling){sp.temperature, sp.top_k, sp.top_p, sp.min_p, sp.repeat_penalty, sp.repeat_last_n, sp.seed};
}

/* Out-of-range values would not fail later: they would quietly sample
 * something else (a NaN temperature picks the least likely token, a
 * repeat penalty of 0 repeats one token forever), so they are refused. */
static int check_sampling(const wgpt_sampling *s, char *err, size_t errlen) {
    const char *field = NULL, *range = NULL;
    double v = 0;
    if (!(s->temperature >= 0)) field = "temperature", v = s->temperature, range = "0 or more; 0 is greedy";
    else if (!(s->top_p >= 0 && s->top_p <= 1)) field = "top_p", v = s->top_p, range = "0 to 1; 1 is off";
    else if (!(s->min_p >= 0 && s->min_p <= 1)) field = "min_p", v = s->min_p, range = "0 to 1; 0 is off";
    else if (!(s->repeat_penalty > 0 && isfinite(s->repeat_penalty)))
        field = "repeat_penalty", v = s->repeat_penalty, range = "more than 0, finite; 1 is off";
    else if (s->top_k < 0) field = "top_k", v = s->top_k, range = "0 or more; 0 is off";
    else if (s->repeat_last_n < 0) field = "repeat_last_n", v = s->repeat_last_n, range = "0 or more; 0 is off";
    if (!field) return 0;
    set_err(err, errlen, "sampling: %s = %g is out of range (%s)", field, v, range);
    return -1;
}

wgpt_status wgpt_context_create(wgpt_model *m, const wgpt_context_params *p, wgpt_context **out, char *err,
                                size_t errlen) {
    wgpt_context_params defaults;
    if (!p) { wgpt_context_params_default(&defaults); p = &defaults; }
    if (out) *out = NULL;
    if (!m || !out) { set_err(err, errlen, "wgpt_context_create: no %s", m ? "place for the context" : "model"); return WGPT_ERR_ARG; }
    if (p->n_ctx < 0 || p->n_batch < 0) {
        set_err(err, errlen, "%s %d is negative (0 means the default)", p->n_ctx < 0 ? "n_ctx" : "n_batch",
                p->n_ctx < 0 ? p->n_ctx : p->n_batch);
        return WGPT_ERR_ARG;
    }
    if (check_sampling(&p->sampling, err, errlen) != 0) return WGPT_ERR_ARG;
    int n_ctx = p->n_ctx > 0 ? p->n_ctx : (m->c.n_ctx_train < 4096 ? m->c.n_ctx_train : 4096);
    if (n_ctx > m->c.n_ctx_train) {
        set_err(err, errlen, "context %d is longer than the model's training context %d", n_ctx, m->c.n_ctx_train);
        return WGPT_ERR_ARG;
    }
    int n_batch = p->n_batch > 0 ? p->n_batch : 64;
    if (n_batch > n_ctx) n_batch = n_ctx;
    wgpt_context *c = calloc(1, sizeof *c);
    if (!c) { set_err(err, errlen, "out of memory"); return WGPT_ERR_NOMEM; }
    c->m = m;
    c->n_ctx = n_ctx;
    c->n_batch = n_batch;
    c->logits_all = p->logits_all;
    int rows = p->logits_all ? n_batch : 1;
    c->logits = malloc((size_t)rows * m->c.n_vocab * sizeof(float));
    c->pending = malloc((size_t)n_ctx * sizeof(int32_t));
    c->ids = malloc((size_t)n_batch * sizeof(uint32_t));
    wgpt_sampler_params sp = {p->sampling.temperature, p->sampling.top_k, p->sampling.top_p, p->sampling.min_p,
                              p->sampling.repeat_penalty, p->sampling.repeat_last_n, p->sampling.seed};
    c->smp = sampler_create(&sp, m->c.n_vocab);
    if (!c->logits || !c->pending || !c->ids || !c->smp) {
        set_err(err, errlen, "out of memory");
        wgpt_context_free(c);
        return WGPT_ERR_NOMEM;
    }
    /* Rows past the tokenizer's tokens (a padded embedding) have no text. */
    sampler_allow_only(c->smp, tokenizer_n_vocab(m->tok));
    char e[512];
    if (build_decoder_state(m->dev, &m->kernels, m->w, n_ctx, n_batch, rows, &c->s, e, sizeof e) != 0) {
        set_err(err, errlen, "%s", e);
        wgpt_context_free(c);
        return WGPT_ERR_GPU;
    }
    *out = c;
    return WGPT_OK;
}

void wgpt_context_free(wgpt_context *c) {
    if (!c) return;
    if (c->inflight) gpu_read_end(c->m->dev, decoder_state_logits_readback(c->s));
    free_decoder_state(c->s);
    sampler_free(c->smp);
    free(c->logits);
    free(c->pending);
    free(c->ids);
    free(c);
}

const char *wgpt_errmsg(const wgpt_context *c) { return c ? c->err : "no context"; }
int wgpt_context_n_ctx(const wgpt_context *c) { return c->n_ctx; }
int wgpt_context_pos(const wgpt_context *c) { return c->pos; }

static wgpt_status fail(wgpt_context *c, wgpt_status st, const char *fmt, const char *arg) {
    snprintf(c->err, sizeof c->err, fmt, arg);
    return st;
}

static wgpt_status queue_tokens(wgpt_context *c, const int32_t *t, size_t n, int accept) {
    if (n == 0) return WGPT_OK;
    if (n > (size_t)c->n_ctx - c->pos - c->n_pending) { /* pos + n_pending <= n_ctx always holds */
        char held[64] = "";
        if (c->pos) snprintf(held, sizeof held, " (%d of them already in it)", c->pos);
        snprintf(c->err, sizeof c->err, "context full: %zu tokens would not fit in the context of %d tokens%s",
                 (size_t)c->pos + c->n_pending + n, c->n_ctx, held);
        return WGPT_ERR_CONTEXT_FULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (t[i] < 0 || t[i] >= c->m->c.n_vocab) {
            snprintf(c->err, sizeof c->err, "token id %d is outside the vocabulary (0..%d)", t[i], c->m->c.n_vocab - 1);
            return WGPT_ERR_ARG;
        }
    }
    memcpy(c->pending + c->n_pending, t, n * sizeof *t);
    c->n_pending += n;
    if (accept)
        for (size_t i = 0; i < n; i++) sampler_accept(c->smp, t[i]);
    return WGPT_OK;
}

wgpt_status wgpt_feed(wgpt_context *c, const int32_t *tokens, size_t n) {
    if (!c) return WGPT_ERR_ARG;
    if (c->inflight) return fail(c, WGPT_ERR_STATE, "%s", "a step is in flight: collect it first");
    if (!tokens && n) return fail(c, WGPT_ERR_ARG, "%s", "wgpt_feed: no tokens (NULL) for a count above 0");
    return queue_tokens(c, tokens, n, 1);
}

/* Submits forward passes over the queued tokens, n_batch at a time; each
 * chunk is one command buffer. Logits of the last chunk are read back. */
static wgpt_status submit_pending(wgpt_context *c, int capture) {
    char e[512];
    gpu_device *d = c->m->dev;
    size_t done = 0;
    while (done < c->n_pending) {
        uint32_t n = (uint32_t)(c->n_pending - done < (size_t)c->n_batch ? c->n_pending - done : (size_t)c->n_batch);
        for (uint32_t i = 0; i < n; i++) c->ids[i] = (uint32_t)c->pending[done + i];
        gpu_buffer_write(d, decoder_state_ids(c->s), 0, c->ids, n * sizeof *c->ids);
        step_params sp = {(uint32_t)c->pos, n, c->logits_all ? 0 : n - 1, c->logits_all ? n : 1};
        if (decoder_encode_forward(c->s, &sp, capture, e, sizeof e) != 0 || gpu_submit(d, e, sizeof e) != 0) {
            c->n_pending = 0; /* what the cache holds is unknown now: the caller resets */
            return fail(c, WGPT_ERR_GPU, "%s", e);
        }
        c->pos += (int)n;
        c->flight_rows = (int)sp.n_out;
        done += n;
    }
    c->n_pending = 0;
    if (gpu_read_begin(d, decoder_state_logits_readback(c->s), e, sizeof e) != 0) return fail(c, WGPT_ERR_GPU, "%s", e);
    c->inflight = 1;
    return WGPT_OK;
}

wgpt_status wgpt_step_submit(wgpt_context *c) {
    if (!c) return WGPT_ERR_ARG;
    if (c->inflight) return fail(c, WGPT_ERR_STATE, "%s", "a step is already in flight");
    if (c->n_pending == 0) return fail(c, WGPT_ERR_STATE, "%s", "nothing to evaluate: feed tokens first");
    return submit_pending(c, 0);
}

static wgpt_status collect_logits(wgpt_context *c, int wait) {
    if (!c->inflight) return fail(c, WGPT_ERR_STATE, "%s", "no step in flight: submit one first");
    char e[512];
    const void *data;
    gpu_buffer *rb = decoder_state_logits_readback(c->s);
    int r = gpu_read_poll(c->m->dev, rb, wait, &data, e, sizeof e);
    if (r == 0) return WGPT_PENDING;
    c->inflight = 0;
    if (r < 0) return fail(c, WGPT_ERR_GPU, "%s", e);
    memcpy(c->logits, data, (size_t)c->flight_rows * c->m->c.n_vocab * sizeof(float));
    c->last_rows = c->flight_rows;
    gpu_read_end(c->m->dev, rb);
    return WGPT_OK;
}

/* NaN or an infinity among the logits means the weights or an activation
 * were not finite; sampling would still pick something (NaN ranks last,
 * so all-NaN picks token 0), a plausible answer to a broken computation. */
static int all_finite(const float *l, int n) {
    for (int i = 0; i < n; i++)
        if (!isfinite(l[i])) return 0;
    return 1;
}

wgpt_status wgpt_step_collect(wgpt_context *c, int wait, int32_t *token) {
    if (!c) return WGPT_ERR_ARG;
    if (!token) return fail(c, WGPT_ERR_ARG, "%s", "wgpt_step_collect: no place for the token (NULL)");
    *token = -1;
    wgpt_status st = collect_logits(c, wait);
    if (st != WGPT_OK) return st;
    const float *row = c->logits + (size_t)(c->last_rows - 1) * c->m->c.n_vocab;
    if (!all_finite(row, c->m->c.n_vocab))
        return fail(c, WGPT_ERR_NOT_FINITE, "%s",
                    "the logits are not finite (NaN/Inf): the model's weights or an activation overflowed");
    int32_t t = sampler_sample(c->smp, row);
    sampler_accept(c->smp, t);
    *token = t;
    if (c->pos >= c->n_ctx) return WGPT_OK; /* nothing more fits; the next feed reports it */
    return queue_tokens(c, &t, 1, 0);
}

const float *wgpt_logits(const wgpt_context *c, int *n_rows) {
    int rows = c ? c->last_rows : 0;
    if (n_rows) *n_rows = rows;
    return rows ? c->logits : NULL;
}

void wgpt_reset(wgpt_context *c) {
    if (!c) return;
    if (c->inflight) { gpu_read_end(c->m->dev, decoder_state_logits_readback(c->s)); c->inflight = 0; }
    c->pos = 0;
    c->n_pending = 0;
    c->last_rows = 0;
    sampler_reset(c->smp);
}

wgpt_status wgpt_eval_logits(wgpt_context *c, const int32_t *tokens, size_t n, float *out) {
    if (!c) return WGPT_ERR_ARG;
    if (!c->logits_all) return fail(c, WGPT_ERR_STATE, "%s", "wgpt_eval_logits needs a context made with logits_all");
    if (c->inflight || c->n_pending) return fail(c, WGPT_ERR_STATE, "%s", "a step is pending");
    size_t V = (size_t)c->m->c.n_vocab;
    for (size_t done = 0; done < n;) {
        size_t k = n - done < (size_t)c->n_batch ? n - done : (size_t)c->n_batch;
        wgpt_status st = queue_tokens(c, tokens + done, k, 1);
        if (st == WGPT_OK) st = submit_pending(c, 0);
        if (st == WGPT_OK) st = collect_logits(c, 1);
        if (st != WGPT_OK) return st;
        memcpy(out + done * V, c->logits, k * V * sizeof(float));
        done += k;
    }
    return WGPT_OK;
}

wgpt_status wgpt_eval_capture(wgpt_context *c, const int32_t *tokens, size_t n, wgpt_capture_fn fn, void *user) {
    if (!c) return WGPT_ERR_ARG;
    if (c->inflight || c->n_pending) return fail(c, WGPT_ERR_STATE, "%s", "a step is pending");
    if (n == 0 || n > (size_t)c->n_batch) {
        snprintf(c->err, sizeof c->err, "capture takes 1..%d tokens in one pass (got %zu)", c->n_batch, n);
        return WGPT_ERR_ARG;
    }
    wgpt_status st = queue_tokens(c, tokens, n, 1);
    if (st == WGPT_OK) st = submit_pending(c, 1);
    if (st == WGPT_OK) st = collect_logits(c, 1);
    if (st != WGPT_OK) return st;
    char e[512];
    if (graph_capture_collect(decoder_state_graph(c->s), fn, user, e, sizeof e) != 0) return fail(c, WGPT_ERR_GPU, "%s", e);
    return WGPT_OK;
}

wgpt_status wgpt_eval_profile(wgpt_context *c, const int32_t *tokens, size_t n, wgpt_profile_fn fn, void *user) {
    if (!c) return WGPT_ERR_ARG;
    if (c->inflight || c->n_pending) return fail(c, WGPT_ERR_STATE, "%s", "a step is pending");
    if (n == 0 || n > (size_t)c->n_batch) {
        snprintf(c->err, sizeof c->err, "profiling takes 1..%d tokens in one pass (got %zu)", c->n_batch, n);
        return WGPT_ERR_ARG;
    }
    char e[512];
    gpu_device *d = c->m->dev;
    if (gpu_profile_begin(d, 2048, e, sizeof e) != 0) return fail(c, WGPT_ERR_GPU, "%s", e);
    wgpt_status st = queue_tokens(c, tokens, n, 1);
    if (st == WGPT_OK) st = submit_pending(c, 0);
    if (st == WGPT_OK) st = collect_logits(c, 1);
    double *ns = malloc(2048 * sizeof *ns);
    int k = ns ? gpu_profile_end(d, ns, 2048, e, sizeof e) : -1;
    if (st == WGPT_OK && k < 0) st = fail(c, WGPT_ERR_GPU, "%s", ns ? e : "out of memory");
    if (st == WGPT_OK) {
        int nd;
        gpu_kernel *const *kernels = graph_last_dispatches(decoder_state_graph(c->s), &nd);
        for (int i = 0; i < k && i < nd; i++) fn(user, gpu_kernel_label(kernels[i]), ns[i]);
    }
    free(ns);
    return st;
}
