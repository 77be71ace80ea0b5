/* The public API: an immutable model shared by contexts, and generation as
 * a step function (submit, then collect when the GPU is done). */
#include "wgpt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"
#include "gpu/gpu.h"
#include "models/graph.h"
#include "models/llama.h"
#include "models/llama_gpu.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"
#include "util/util.h"

struct wgpt_model {
    gguf_file gguf;
    uint8_t *head;       /* the header bytes gguf points into (step-driven loading) */
    llama_config c;
    wgpt_tokenizer *tok;
    gpu_device *dev;
    kernel_set kernels;
    llama_weights *w;
    char desc[256];
};

struct wgpt_context {
    wgpt_model *m;
    llama_state *s;
    sampler *smp;
    int n_ctx, n_batch, logits_all;
    int pos;                  /* tokens already in the KV cache */
    int32_t *pending;         /* tokens queued for the next step */
    uint32_t *ids;            /* staging for one pass's token ids: n_batch */
    size_t n_pending;
    int inflight;             /* a step was submitted and not yet collected */
    int last_rows;            /* logits rows of the last forward */
    float *logits;            /* host copy: [last_rows][n_vocab] */
    char err[512];
};

void wgpt_model_params_default(wgpt_model_params *p) {
    memset(p, 0, sizeof *p);
    p->device = -1;
    p->progress = 1;
}

static uint32_t common_type(const gguf_file *g) {
    const gguf_tensor *t = gguf_find_tensor(g, "blk.0.attn_q.weight");
    return t ? t->type : GGML_TYPE_F32;
}

struct wgpt_loader {
    wgpt_model *m;
    uint64_t *order;     /* tensor indices in file order, so reads go front to back */
    uint64_t next;       /* position in order of the tensor wanted next */
    progress_bar pb;
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
    if (llama_config_from_gguf(&m->gguf, &m->c, e, sizeof e) != 0) {
        set_err(err, errlen, "%s", e);
        wgpt_loader_free(l);
        return strstr(e, "unsupported") ? WGPT_ERR_UNSUPPORTED : WGPT_ERR_FORMAT;
    }
    /* Every matrix must be a type the kernels run before the GPU is touched. */
    uint64_t total = 0;
    for (uint64_t i = 0; i < m->gguf.n_tensors; i++) {
        const gguf_tensor *t = &m->gguf.tensors[i];
        total += t->nbytes;
        if (t->n_dims == 2 && wfmt_of(t->type) < 0) {
            set_err(err, errlen, "tensor %.*s has type %s, which wgpt does not run yet (supported: f32, f16, q8_0, q4_0)",
                    (int)t->name.len, t->name.ptr, ggml_type_name(t->type));
            wgpt_loader_free(l);
            return WGPT_ERR_UNSUPPORTED;
        }
    }
    wgpt_status st = WGPT_ERR_GPU;
    gpu_options go = {p->webgpu_lib, p->device, p->max_binding, p->verbose};
    if (tokenizer_from_gguf(&m->gguf, &m->tok, e, sizeof e) != 0) {
        set_err(err, errlen, "tokenizer: %s", e);
        st = WGPT_ERR_FORMAT;
    } else if (!(m->dev = gpu_open(&go, e, sizeof e)) || kernel_set_build(m->dev, &m->kernels, e, sizeof e) != 0) {
        set_err(err, errlen, "%s", e);
    } else if (begin_llama_weights(&m->c, &m->w, e, sizeof e) != 0 ||
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
        progress_begin(&l->pb, "loading", total);
        if (!p->progress) l->pb.tty = 0;
        *out = l;
        return WGPT_OK;
    }
    wgpt_loader_free(l);
    return st;
}

wgpt_status wgpt_loader_begin(const uint8_t *head, size_t len, uint64_t file_size, const wgpt_model_params *p,
                              wgpt_loader **out, uint64_t *need, char *err, size_t errlen) {
    wgpt_model_params defaults;
    if (!p) { wgpt_model_params_default(&defaults); p = &defaults; }
    *out = NULL;
    if (need) *need = 0;
    wgpt_model *m = calloc(1, sizeof *m);
    if (!m || !(m->head = malloc(len ? len : 1))) {
        free(m);
        set_err(err, errlen, "out of memory");
        return WGPT_ERR_NOMEM;
    }
    memcpy(m->head, head, len); /* metadata strings point into it for the model's life */
    char e[512];
    if (gguf_parse_header(&m->gguf, m->head, len, file_size, e, sizeof e) != 0) {
        wgpt_model_free(m);
        if (len < file_size) { /* most likely only cut short: ask for more */
            uint64_t want = (uint64_t)len * 4 > (1u << 20) ? (uint64_t)len * 4 : (1u << 20);
            if (need) *need = want < file_size ? want : file_size;
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
        set_err(err, errlen, "tensor %.*s: got %zu bytes, expected %llu", (int)t.name.len, t.name.ptr, size,
                (unsigned long long)t.nbytes);
        return WGPT_ERR_ARG;
    }
    t.data = data;
    char e[512];
    if (llama_weights_tensor(l->m->w, l->m->dev, &t, e, sizeof e) != 0) {
        set_err(err, errlen, "%s", e);
        return strstr(e, "allocate") ? WGPT_ERR_GPU : WGPT_ERR_FORMAT;
    }
    l->next++;
    progress_update(&l->pb, l->pb.done + t.nbytes);
    return WGPT_OK;
}

wgpt_status wgpt_loader_finish(wgpt_loader *l, wgpt_model **out, char *err, size_t errlen) {
    *out = NULL;
    wgpt_model *m = l->m;
    char e[512];
    progress_end(&l->pb);
    if (l->next < m->gguf.n_tensors) { set_err(err, errlen, "not every tensor was provided"); return WGPT_ERR_STATE; }
    if (complete_llama_weights(m->w, e, sizeof e) != 0) { set_err(err, errlen, "%s", e); return WGPT_ERR_FORMAT; }
    const char *ge = gpu_take_error(m->dev);
    if (ge) { set_err(err, errlen, "uploading weights: %s", ge); return WGPT_ERR_GPU; }
    snprintf(m->desc, sizeof m->desc, "llama, %d layers, dim %d, %d heads (%d kv), ffn %d, vocab %d, %s",
             m->c.n_layers, m->c.dim, m->c.n_heads, m->c.n_kv_heads, m->c.hidden_dim, m->c.n_vocab,
             ggml_type_name(common_type(&m->gguf)));
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
    if (gguf_open(&m->gguf, path, e, sizeof e) != 0) {
        set_err(err, errlen, "%s", e);
        free(m);
        return WGPT_ERR_FORMAT;
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
        set_err(err, errlen, "%s: %s", path, e);
    }
    return st;
}

void wgpt_model_free(wgpt_model *m) {
    if (!m) return;
    free_llama_weights(m->w);
    kernel_set_free(&m->kernels);
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

wgpt_status wgpt_context_create(wgpt_model *m, const wgpt_context_params *p, wgpt_context **out, char *err,
                                size_t errlen) {
    wgpt_context_params defaults;
    if (!p) { wgpt_context_params_default(&defaults); p = &defaults; }
    *out = NULL;
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
    char e[512];
    if (build_llama_state(m->dev, &m->kernels, m->w, n_ctx, n_batch, rows, &c->s, e, sizeof e) != 0) {
        set_err(err, errlen, "%s", e);
        wgpt_context_free(c);
        return WGPT_ERR_GPU;
    }
    *out = c;
    return WGPT_OK;
}

void wgpt_context_free(wgpt_context *c) {
    if (!c) return;
    if (c->inflight) gpu_read_end(c->m->dev, llama_state_logits_readback(c->s));
    free_llama_state(c->s);
    sampler_free(c->smp);
    free(c->logits);
    free(c->pending);
    free(c->ids);
    free(c);
}

const char *wgpt_errmsg(const wgpt_context *c) { return c->err; }
int wgpt_context_n_ctx(const wgpt_context *c) { return c->n_ctx; }
int wgpt_context_pos(const wgpt_context *c) { return c->pos; }

static wgpt_status fail(wgpt_context *c, wgpt_status st, const char *fmt, const char *arg) {
    snprintf(c->err, sizeof c->err, fmt, arg);
    return st;
}

static wgpt_status queue_tokens(wgpt_context *c, const int32_t *t, size_t n, int accept) {
    if (c->pos + c->n_pending + n > (size_t)c->n_ctx) {
        snprintf(c->err, sizeof c->err, "context full: %zu tokens would not fit in a context of %d (use a larger -c)",
                 c->pos + c->n_pending + n, c->n_ctx);
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
    if (c->inflight) return fail(c, WGPT_ERR_STATE, "%s", "a step is in flight: collect it first");
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
        gpu_buffer_write(d, llama_state_ids(c->s), 0, c->ids, n * sizeof *c->ids);
        step_params sp = {(uint32_t)c->pos, n, c->logits_all ? 0 : n - 1, c->logits_all ? n : 1};
        if (llama_encode_forward(c->s, &sp, capture, e, sizeof e) != 0 || gpu_submit(d, e, sizeof e) != 0)
            return fail(c, WGPT_ERR_GPU, "%s", e);
        c->pos += (int)n;
        c->last_rows = (int)sp.n_out;
        done += n;
    }
    c->n_pending = 0;
    if (gpu_read_begin(d, llama_state_logits_readback(c->s), e, sizeof e) != 0) return fail(c, WGPT_ERR_GPU, "%s", e);
    c->inflight = 1;
    return WGPT_OK;
}

wgpt_status wgpt_step_submit(wgpt_context *c) {
    if (c->inflight) return fail(c, WGPT_ERR_STATE, "%s", "a step is already in flight");
    if (c->n_pending == 0) return fail(c, WGPT_ERR_STATE, "%s", "nothing to evaluate: feed tokens first");
    return submit_pending(c, 0);
}

static wgpt_status collect_logits(wgpt_context *c, int wait) {
    if (!c->inflight) return fail(c, WGPT_ERR_STATE, "%s", "no step in flight");
    char e[512];
    const void *data;
    gpu_buffer *rb = llama_state_logits_readback(c->s);
    int r = gpu_read_poll(c->m->dev, rb, wait, &data, e, sizeof e);
    if (r == 0) return WGPT_PENDING;
    c->inflight = 0;
    if (r < 0) return fail(c, WGPT_ERR_GPU, "%s", e);
    memcpy(c->logits, data, (size_t)c->last_rows * c->m->c.n_vocab * sizeof(float));
    gpu_read_end(c->m->dev, rb);
    return WGPT_OK;
}

wgpt_status wgpt_step_collect(wgpt_context *c, int wait, int32_t *token) {
    wgpt_status st = collect_logits(c, wait);
    if (st != WGPT_OK) return st;
    int32_t t = sampler_sample(c->smp, c->logits + (size_t)(c->last_rows - 1) * c->m->c.n_vocab);
    sampler_accept(c->smp, t);
    *token = t;
    if (c->pos >= c->n_ctx) return WGPT_OK; /* nothing more fits; the next feed reports it */
    return queue_tokens(c, &t, 1, 0);
}

const float *wgpt_logits(const wgpt_context *c, int *n_rows) {
    if (n_rows) *n_rows = c->last_rows;
    return c->logits;
}

void wgpt_reset(wgpt_context *c) {
    if (c->inflight) { gpu_read_end(c->m->dev, llama_state_logits_readback(c->s)); c->inflight = 0; }
    c->pos = 0;
    c->n_pending = 0;
    c->last_rows = 0;
    sampler_reset(c->smp);
}

wgpt_status wgpt_eval_logits(wgpt_context *c, const int32_t *tokens, size_t n, float *out) {
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
    if (graph_capture_collect(llama_state_graph(c->s), fn, user, e, sizeof e) != 0) return fail(c, WGPT_ERR_GPU, "%s", e);
    return WGPT_OK;
}

wgpt_status wgpt_eval_profile(wgpt_context *c, const int32_t *tokens, size_t n, wgpt_profile_fn fn, void *user) {
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
        gpu_kernel *const *kernels = graph_last_dispatches(llama_state_graph(c->s), &nd);
        for (int i = 0; i < k && i < nd; i++) fn(user, gpu_kernel_label(kernels[i]), ns[i]);
    }
    free(ns);
    return st;
}
