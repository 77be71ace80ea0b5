/* The context handle: one sequence's KV cache, scratch and sampler, and
 * generation as a step function (submit, then collect when the GPU is
 * done). This is the only code that uploads token ids, replays the forward
 * pass, submits and reads logits back. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "util/util.h"

static void drop_flight(wgpt_context *c);

void wgpt_context_params_default(wgpt_context_params *p) {
    memset(p, 0, sizeof *p);
    wgpt_sampler_params sp;
    sampler_params_default(&sp);
    p->sampling = (wgpt_sampling){sp.temperature, sp.top_k, sp.top_p, sp.min_p, sp.repeat_penalty, sp.repeat_last_n, sp.seed, 0};
}

wgpt_sampler_params sampler_params_of(const wgpt_sampling *s) {
    return (wgpt_sampler_params){s->temperature, s->top_k, s->top_p, s->min_p, s->repeat_penalty, s->repeat_last_n,
                                 s->seed};
}

/* Out-of-range values would not fail later: they would quietly sample
 * something else (a NaN temperature picks the least likely token, a
 * repeat penalty of 0 repeats one token forever), so they are refused. */
int check_sampling(const wgpt_sampling *s, char *err, size_t errlen) {
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
    int n_batch = p->n_batch > 0 ? p->n_batch : 512;
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
    wgpt_sampler_params sp = sampler_params_of(&p->sampling);
    c->smp = sampler_create(&sp, m->c.n_vocab);
    if (!c->logits || !c->pending || !c->ids || !c->smp) {
        set_err(err, errlen, "out of memory");
        wgpt_context_free(c);
        return WGPT_ERR_NOMEM;
    }
    /* Rows past the tokenizer's tokens (a padded embedding) have no text. */
    sampler_allow_only(c->smp, tokenizer_n_vocab(m->tok));
    char e[512];
    wgpt_status st = build_decoder_state(m->dev, &m->kernels, m->w, n_ctx, 0, n_batch, rows, &c->s, e, sizeof e);
    if (st != WGPT_OK) {
        set_err(err, errlen, "%s", e);
        wgpt_context_free(c);
        return st;
    }
    /* The GPU sampler reads row 0 of the logits: contexts that keep every
     * row (eval) read them back anyway. */
    if (!p->logits_all && !p->sampling.on_cpu && gpu_sampler_supports(&sp, m->c.n_vocab)) {
        c->gs = gpu_sampler_create(m->dev, &m->kernels, decoder_state_logits(c->s), decoder_state_ids(c->s),
                                   m->c.n_vocab, e, sizeof e);
        if (!c->gs) {
            set_err(err, errlen, "%s", e);
            wgpt_context_free(c);
            return WGPT_ERR_GPU;
        }
    }
    *out = c;
    return WGPT_OK;
}

void wgpt_context_free(wgpt_context *c) {
    if (!c) return;
    drop_flight(c);
    context_drop_ahead(c);
    gpu_sampler_free(c->gs);
    free_decoder_state(c->s);
    sampler_free(c->smp);
    free(c->logits);
    free(c->pending);
    free(c->ids);
    free(c);
}

/* Ends the read-back of the step in flight, which is then forgotten. */
static void drop_flight(wgpt_context *c) {
    if (!c->inflight) return;
    if (c->flight_gpu) gpu_sampler_read_end(c->gs, c->flight_slot);
    else gpu_read_end(c->m->dev, decoder_state_logits_readback(c->s));
    c->inflight = 0;
}

void context_drop_ahead(wgpt_context *c) {
    for (int i = 0; i < c->n_ahead; i++) gpu_sampler_read_end(c->gs, c->ahead_slot[i]);
    c->n_ahead = 0;
}

_Static_assert(GPU_SAMPLER_SLOTS >= CONTEXT_AHEAD + 2, "a slot for each step ahead, the one in flight and the last");

/* A slot no step in flight and no kept logits use. */
static int free_slot(const wgpt_context *c) {
    for (int i = 0;; i++) {
        int used = (c->last_rows && !c->logits_on_host && c->last_slot == i) ||
                   (c->inflight && c->flight_gpu && c->flight_slot == i);
        for (int k = 0; k < c->n_ahead; k++) used |= c->ahead_slot[k] == i;
        if (!used) return i;
    }
}

const char *wgpt_errmsg(const wgpt_context *c) { return c ? c->err : "no context"; }
int wgpt_context_n_ctx(const wgpt_context *c) { return c->n_ctx; }
int wgpt_context_pos(const wgpt_context *c) { return c->pos; }
int wgpt_context_gpu_sampling(const wgpt_context *c) { return c && c->gs; }

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
    if (n) c->pending_from_gpu = 0;
    return queue_tokens(c, tokens, n, 1);
}

/* The sampling of the step whose logits land at the end of the command
 * buffer being recorded, into slot: the CPU sampler's draw is made now, as
 * sampler_sample would make it at collect time. */
static void encode_sampling(wgpt_context *c, int slot) {
    const wgpt_sampler_params *p = sampler_params(c->smp);
    gpu_sample_step st = {p, sampler_n_allowed(c->smp), NULL, 0, 0};
    st.window = sampler_window(c->smp, &st.n_window);
    if (p->temperature > 0) st.r = sampler_draw(c->smp);
    gpu_sampler_encode(c->gs, &st, slot);
}

/* Submits forward passes over the queued tokens, n_batch at a time; each
 * chunk is one command buffer. The last chunk's logits are read back, or
 * with gpu_pick sampled on the GPU and only the token read back. */
static wgpt_status submit_pending(wgpt_context *c, int capture, int gpu_pick) {
    char e[512];
    gpu_device *d = c->m->dev;
    size_t done = 0;
    int slot = gpu_pick ? free_slot(c) : 0;
    c->pending_from_gpu = 0;
    while (done < c->n_pending) {
        uint32_t n = (uint32_t)(c->n_pending - done < (size_t)c->n_batch ? c->n_pending - done : (size_t)c->n_batch);
        int last = done + n == c->n_pending;
        for (uint32_t i = 0; i < n; i++) c->ids[i] = (uint32_t)c->pending[done + i];
        gpu_buffer_write(d, decoder_state_ids(c->s), 0, c->ids, n * sizeof *c->ids);
        step_params sp = {.pos0 = (uint32_t)c->pos, .n_tokens = n, .out_first = c->logits_all ? 0 : n - 1, .n_out = c->logits_all ? n : 1};
        int ok = decoder_encode_forward(c->s, &sp, capture, last && !gpu_pick, e, sizeof e) == 0;
        if (ok && last && gpu_pick) encode_sampling(c, slot);
        if (!ok || gpu_submit(d, e, sizeof e) != 0) {
            c->n_pending = 0; /* what the cache holds is unknown now: the caller resets */
            return fail(c, WGPT_ERR_GPU, "%s", e);
        }
        c->pos += (int)n;
        c->flight_rows = (int)sp.n_out;
        done += n;
    }
    c->n_pending = 0;
    int rc = gpu_pick ? gpu_sampler_read_begin(c->gs, slot, e, sizeof e)
                      : gpu_read_begin(d, decoder_state_logits_readback(c->s), e, sizeof e);
    if (rc != 0) return fail(c, WGPT_ERR_GPU, "%s", e);
    c->inflight = 1;
    c->flight_gpu = gpu_pick;
    c->flight_slot = slot;
    return WGPT_OK;
}

/* Greedy steps on the GPU queue the next steps at once: each one's input
 * is the token the step before will pick, which its sampler writes where
 * the embedding reads. If the caller goes on with that token, the step is
 * already done or running; anything else drops them (the cache rows they
 * wrote are past the position and written again before they are read). */
static void queue_ahead(wgpt_context *c) {
    const wgpt_sampler_params *p = sampler_params(c->smp);
    if (!c->inflight || !c->flight_gpu || p->temperature > 0 || sampler_penalises(p))
        return;
    while (c->n_ahead < CONTEXT_AHEAD && c->pos + c->n_ahead < c->n_ctx) {
        char e[512];
        int slot = free_slot(c), pos = c->pos + c->n_ahead;
        step_params sp = {.pos0 = (uint32_t)pos, .n_tokens = 1, .n_out = 1};
        if (decoder_encode_forward(c->s, &sp, 0, 0, e, sizeof e) != 0) return;
        encode_sampling(c, slot);
        if (gpu_submit(c->m->dev, e, sizeof e) != 0 || gpu_sampler_read_begin(c->gs, slot, e, sizeof e) != 0) return;
        c->ahead_slot[c->n_ahead] = slot;
        c->ahead_pos[c->n_ahead++] = pos;
    }
}

wgpt_status wgpt_step_submit(wgpt_context *c) {
    if (!c) return WGPT_ERR_ARG;
    if (c->inflight) return fail(c, WGPT_ERR_STATE, "%s", "a step is already in flight");
    if (c->n_pending == 0) return fail(c, WGPT_ERR_STATE, "%s", "nothing to evaluate: feed tokens first");
    if (c->n_ahead && c->n_pending == 1 && c->pending_from_gpu && c->pos == c->ahead_pos[0]) {
        c->inflight = c->flight_gpu = 1;
        c->flight_slot = c->ahead_slot[0];
        c->n_ahead--;
        memmove(c->ahead_slot, c->ahead_slot + 1, (size_t)c->n_ahead * sizeof *c->ahead_slot);
        memmove(c->ahead_pos, c->ahead_pos + 1, (size_t)c->n_ahead * sizeof *c->ahead_pos);
        c->flight_rows = 1;
        c->pos++;
        c->n_pending = 0;
        c->pending_from_gpu = 0;
    } else {
        context_drop_ahead(c);
        wgpt_status st = submit_pending(c, 0, c->gs != NULL);
        if (st != WGPT_OK) return st;
    }
    queue_ahead(c);
    return WGPT_OK;
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
    c->logits_on_host = 1;
    gpu_read_end(c->m->dev, rb);
    return WGPT_OK;
}

/* The token a GPU-sampled step picked; its logits stay in its slot. */
static wgpt_status collect_token(wgpt_context *c, int wait, int32_t *token, int *not_finite) {
    char e[512];
    int r = gpu_sampler_read_poll(c->gs, c->flight_slot, wait, token, not_finite, e, sizeof e);
    if (r == 0) return WGPT_PENDING;
    gpu_sampler_read_end(c->gs, c->flight_slot);
    c->inflight = 0;
    if (r < 0) return fail(c, WGPT_ERR_GPU, "%s", e);
    c->last_rows = 1;
    c->last_slot = c->flight_slot;
    c->logits_on_host = 0;
    return WGPT_OK;
}

/* NaN or an infinity among the logits means the weights or an activation
 * were not finite; sampling would still pick something (NaN ranks last,
 * so all-NaN picks token 0), a plausible answer to a broken computation. */
int logits_finite(const float *l, int n) {
    for (int i = 0; i < n; i++)
        if (!isfinite(l[i])) return 0;
    return 1;
}

const char not_finite_msg[] = "the logits are not finite (NaN/Inf): the model's weights or an activation overflowed";

wgpt_status wgpt_step_collect(wgpt_context *c, int wait, int32_t *token) {
    if (!c) return WGPT_ERR_ARG;
    if (!token) return fail(c, WGPT_ERR_ARG, "%s", "wgpt_step_collect: no place for the token (NULL)");
    *token = -1;
    if (!c->inflight) return fail(c, WGPT_ERR_STATE, "%s", "no step in flight: submit one first");
    int32_t t;
    if (c->flight_gpu) {
        int bad = 0;
        wgpt_status st = collect_token(c, wait, &t, &bad);
        if (st != WGPT_OK) return st;
        if (bad) return fail(c, WGPT_ERR_NOT_FINITE, "%s", not_finite_msg);
    } else {
        wgpt_status st = collect_logits(c, wait);
        if (st != WGPT_OK) return st;
        const float *row = c->logits + (size_t)(c->last_rows - 1) * c->m->c.n_vocab;
        if (!logits_finite(row, c->m->c.n_vocab)) return fail(c, WGPT_ERR_NOT_FINITE, "%s", not_finite_msg);
        t = sampler_sample(c->smp, row);
    }
    sampler_accept(c->smp, t);
    *token = t;
    if (c->pos >= c->n_ctx) return WGPT_OK; /* nothing more fits; the next feed reports it */
    wgpt_status st = queue_tokens(c, &t, 1, 0);
    c->pending_from_gpu = st == WGPT_OK && c->flight_gpu && c->n_pending == 1;
    return st;
}

const float *wgpt_logits(const wgpt_context *cc, int *n_rows) {
    int rows = cc ? cc->last_rows : 0;
    if (n_rows) *n_rows = rows;
    if (!rows) return NULL;
    wgpt_context *c = (wgpt_context *)cc; /* the host copy is filled on first ask */
    if (!c->logits_on_host) {
        char e[512];
        if (gpu_sampler_fetch_logits(c->gs, c->last_slot, c->logits, e, sizeof e) != 0) {
            fail(c, WGPT_ERR_GPU, "%s", e);
            if (n_rows) *n_rows = 0;
            return NULL;
        }
        c->logits_on_host = 1;
    }
    return c->logits;
}

void wgpt_reset(wgpt_context *c) {
    if (!c) return;
    drop_flight(c);
    context_drop_ahead(c);
    c->pending_from_gpu = 0;
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
        if (st == WGPT_OK) st = submit_pending(c, 0, 0);
        if (st == WGPT_OK) st = collect_logits(c, 1);
        if (st != WGPT_OK) return st;
        memcpy(out + done * V, c->logits, k * V * sizeof(float));
        done += k;
    }
    return WGPT_OK;
}

/* Capture and profiling look at one forward pass: nothing else pending,
 * and at most n_batch tokens. */
static wgpt_status one_pass(wgpt_context *c, size_t n, const char *what) {
    context_drop_ahead(c);
    if (c->inflight || c->n_pending) return fail(c, WGPT_ERR_STATE, "%s", "a step is pending");
    if (n == 0 || n > (size_t)c->n_batch) {
        snprintf(c->err, sizeof c->err, "%s takes 1..%d tokens in one pass (got %zu)", what, c->n_batch, n);
        return WGPT_ERR_ARG;
    }
    return WGPT_OK;
}

wgpt_status wgpt_eval_capture(wgpt_context *c, const int32_t *tokens, size_t n, wgpt_capture_fn fn, void *user) {
    if (!c) return WGPT_ERR_ARG;
    wgpt_status st = one_pass(c, n, "capture");
    if (st == WGPT_OK) st = queue_tokens(c, tokens, n, 1);
    if (st == WGPT_OK) st = submit_pending(c, 1, 0);
    if (st == WGPT_OK) st = collect_logits(c, 1);
    if (st != WGPT_OK) return st;
    char e[512];
    if (graph_capture_collect(decoder_state_graph(c->s), fn, user, e, sizeof e) != 0) return fail(c, WGPT_ERR_GPU, "%s", e);
    return WGPT_OK;
}

wgpt_status wgpt_eval_profile(wgpt_context *c, const int32_t *tokens, size_t n, wgpt_profile_fn fn, void *user) {
    if (!c) return WGPT_ERR_ARG;
    wgpt_status st0 = one_pass(c, n, "profiling");
    if (st0 != WGPT_OK) return st0;
    char e[512];
    gpu_device *d = c->m->dev;
    if (gpu_profile_begin(d, 2048, e, sizeof e) != 0) return fail(c, WGPT_ERR_GPU, "%s", e);
    wgpt_status st = queue_tokens(c, tokens, n, 1);
    int gpu_pick = c->gs != NULL, bad;
    int32_t t;
    if (st == WGPT_OK) st = submit_pending(c, 0, gpu_pick);
    if (st == WGPT_OK) st = gpu_pick ? collect_token(c, 1, &t, &bad) : collect_logits(c, 1);
    double *ns = malloc(2048 * sizeof *ns);
    int k = ns ? gpu_profile_end(d, ns, 2048, e, sizeof e) : -1;
    if (st == WGPT_OK && k < 0) st = fail(c, WGPT_ERR_GPU, "%s", ns ? e : "out of memory");
    if (st == WGPT_OK) {
        int nd;
        gpu_kernel *const *kernels = graph_last_dispatches(decoder_state_graph(c->s), &nd);
        for (int i = 0; i < k && i < nd; i++) fn(user, gpu_kernel_label(kernels[i]), ns[i]);
        gpu_kernel *sk[2];
        for (int i = nd, j = 0; gpu_pick && i < k && j < gpu_sampler_kernels(c->gs, sk); i++, j++)
            fn(user, gpu_kernel_label(sk[j]), ns[i]);
    }
    free(ns);
    return st;
}
