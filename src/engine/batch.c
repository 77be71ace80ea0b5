/* The batch handle: n_seq sequences of one model in one decoder state,
 * their caches side by side (sequence s's from row s * n_ctx), stepped
 * together. A step runs each sequence's prompt tokens as passes of its own,
 * then every one-token sequence in one pass (step_params.multi): the
 * weights are read once for all of them. Greedy sequences take their
 * token from argmax_rows.wgsl, reading back only it; the others sample on
 * the CPU from their logits read back, one sampler a sequence. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "util/util.h"

struct wgpt_batch {
    wgpt_model *m;
    decoder_state *s;
    int n_seq, n_ctx, n_batch;
    int *pos;          /* [n_seq]: tokens in each sequence's cache */
    int32_t *hist;     /* [n_seq][n_ctx]: those tokens, for the samplers' history after a keep */
    sampler **smp;     /* [n_seq] */
    uint32_t *ids;     /* staging for a pass's ids: the state's batch */
    float *logits;     /* one pass's rows read back: [n_seq][n_vocab] */
    step_params sp;
    /* argmax_rows.wgsl: its parameters, its picks [n_seq] of (id, not finite), their read-back */
    gpu_kernel *argmax;
    gpu_bindings *am_b;
    gpu_buffer *am_params, *am_out, *am_rb;
    int32_t *picks;    /* [n_seq]: the last pass's, read back; -1 where not finite */
    char err[512];
};

void wgpt_batch_params_default(wgpt_batch_params *p) { memset(p, 0, sizeof *p); }

void wgpt_batch_free(wgpt_batch *b) {
    if (!b) return;
    gpu_bindings_free(b->am_b);
    gpu_buffer_free(b->am_params);
    gpu_buffer_free(b->am_out);
    gpu_buffer_free(b->am_rb);
    free(b->picks);
    free_decoder_state(b->s);
    for (int i = 0; b->smp && i < b->n_seq; i++) sampler_free(b->smp[i]);
    free(b->smp);
    free(b->pos);
    free(b->hist);
    free(b->ids);
    free(b->logits);
    free(b);
}

wgpt_status wgpt_batch_create(wgpt_model *m, const wgpt_batch_params *p, wgpt_batch **out, char *err,
                              size_t errlen) {
    wgpt_batch_params defaults;
    if (!p) { wgpt_batch_params_default(&defaults); p = &defaults; }
    if (out) *out = NULL;
    if (!m || !out) { set_err(err, errlen, "wgpt_batch_create: no %s", m ? "place for the batch" : "model"); return WGPT_ERR_ARG; }
    if (p->n_seq < 0 || p->n_seq > STEP_MULTI_MAX || p->n_ctx < 0 || p->n_batch < 0) {
        set_err(err, errlen, "%s", p->n_seq < 0 || p->n_seq > STEP_MULTI_MAX ? "n_seq must be 1..256 (0: 1)"
                                    : p->n_ctx < 0 ? "n_ctx is negative (0 means the default)"
                                                   : "n_batch is negative (0 means the default)");
        return WGPT_ERR_ARG;
    }
    int n_ctx = p->n_ctx > 0 ? p->n_ctx : (m->c.n_ctx_train < 4096 ? m->c.n_ctx_train : 4096);
    if (n_ctx > m->c.n_ctx_train) {
        set_err(err, errlen, "context %d is longer than the model's training context %d", n_ctx, m->c.n_ctx_train);
        return WGPT_ERR_ARG;
    }
    wgpt_batch *b = calloc(1, sizeof *b);
    if (!b) { set_err(err, errlen, "out of memory"); return WGPT_ERR_NOMEM; }
    b->m = m;
    b->n_seq = p->n_seq > 0 ? p->n_seq : 1;
    b->n_ctx = n_ctx;
    b->n_batch = p->n_batch > 0 ? p->n_batch : 512;
    if (b->n_batch > n_ctx) b->n_batch = n_ctx;
    /* a pass holds a prompt chunk, or a token of every sequence */
    int state_batch = b->n_batch > b->n_seq ? b->n_batch : b->n_seq;
    size_t V = (size_t)m->c.n_vocab;
    b->pos = calloc((size_t)b->n_seq, sizeof *b->pos);
    b->hist = malloc((size_t)b->n_seq * n_ctx * sizeof *b->hist);
    b->smp = calloc((size_t)b->n_seq, sizeof *b->smp);
    b->ids = malloc((size_t)state_batch * sizeof *b->ids);
    b->logits = malloc((size_t)b->n_seq * V * sizeof *b->logits);
    b->picks = malloc((size_t)b->n_seq * sizeof *b->picks);
    int ok = b->pos && b->hist && b->smp && b->ids && b->logits && b->picks;
    wgpt_context_params cp;
    wgpt_context_params_default(&cp);
    cp.sampling.temperature = 0;
    wgpt_sampler_params sp = sampler_params_of(&cp.sampling);
    for (int i = 0; ok && i < b->n_seq; i++) {
        ok = (b->smp[i] = sampler_create(&sp, m->c.n_vocab)) != NULL;
        if (ok) sampler_allow_only(b->smp[i], tokenizer_n_vocab(m->tok));
    }
    if (!ok) {
        set_err(err, errlen, "out of memory");
        wgpt_batch_free(b);
        return WGPT_ERR_NOMEM;
    }
    char e[512];
    wgpt_status st = build_decoder_state(m->dev, &m->kernels, m->w, n_ctx, b->n_seq, state_batch, b->n_seq, &b->s, e,
                                         sizeof e);
    if (st == WGPT_OK) {
        gpu_device *d = m->dev;
        uint32_t params[4] = {(uint32_t)V, (uint32_t)tokenizer_n_vocab(m->tok), 0, 0};
        if (params[1] < 1 || params[1] > params[0]) params[1] = params[0];
        b->am_params = gpu_buffer_create(d, sizeof params, GPU_UNIFORM, "argmax params");
        b->am_out = gpu_buffer_create(d, (uint64_t)b->n_seq * 8, GPU_STORAGE | GPU_COPY_SRC, "argmax picks");
        b->am_rb = gpu_buffer_create(d, (uint64_t)b->n_seq * 8, GPU_READBACK, "argmax read-back");
        st = b->am_params && b->am_out && b->am_rb ? WGPT_OK : WGPT_ERR_GPU;
        if (st != WGPT_OK) snprintf(e, sizeof e, "cannot make the argmax buffers");
        if (st == WGPT_OK && !(b->argmax = kernels_get(&m->kernels, KERNEL_ARGMAX_ROWS, 0, 0, e, sizeof e))) st = WGPT_ERR_GPU;
        if (st == WGPT_OK) {
            gpu_buffer_write(d, b->am_params, 0, params, sizeof params);
            gpu_binding bb[3] = {{b->am_params, 0, 0}, {decoder_state_logits(b->s), 0, 0}, {b->am_out, 0, 0}};
            if (!(b->am_b = gpu_bindings_create(d, b->argmax, bb, 3, e, sizeof e))) st = WGPT_ERR_GPU;
        }
    }
    if (st != WGPT_OK) {
        set_err(err, errlen, "%s", e);
        wgpt_batch_free(b);
        return st;
    }
    *out = b;
    return WGPT_OK;
}

const char *wgpt_batch_errmsg(const wgpt_batch *b) { return b ? b->err : "no batch"; }
int wgpt_batch_n_seq(const wgpt_batch *b) { return b ? b->n_seq : -1; }
int wgpt_batch_n_ctx(const wgpt_batch *b) { return b ? b->n_ctx : -1; }
int wgpt_batch_seq_pos(const wgpt_batch *b, int seq) { return b && seq >= 0 && seq < b->n_seq ? b->pos[seq] : -1; }

static wgpt_status fail(wgpt_batch *b, wgpt_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static wgpt_status fail(wgpt_batch *b, wgpt_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->err, sizeof b->err, fmt, ap);
    va_end(ap);
    return st;
}

/* The sampler restarted, then given the tokens still in the cache. */
static void replay_history(wgpt_batch *b, int seq) {
    sampler_reset(b->smp[seq]);
    const int32_t *h = b->hist + (size_t)seq * b->n_ctx;
    for (int i = 0; i < b->pos[seq]; i++) sampler_accept(b->smp[seq], h[i]);
}

wgpt_status wgpt_batch_seq_keep(wgpt_batch *b, int seq, int n_keep) {
    if (!b) return WGPT_ERR_ARG;
    if (seq < 0 || seq >= b->n_seq) return fail(b, WGPT_ERR_ARG, "sequence %d is out of range (0..%d)", seq, b->n_seq - 1);
    if (n_keep < 0 || n_keep > b->pos[seq])
        return fail(b, WGPT_ERR_ARG, "cannot keep %d tokens of sequence %d: it holds %d", n_keep, seq, b->pos[seq]);
    b->pos[seq] = n_keep;
    replay_history(b, seq);
    return WGPT_OK;
}

wgpt_status wgpt_batch_seq_sampling(wgpt_batch *b, int seq, const wgpt_sampling *s) {
    if (!b) return WGPT_ERR_ARG;
    if (seq < 0 || seq >= b->n_seq) return fail(b, WGPT_ERR_ARG, "sequence %d is out of range (0..%d)", seq, b->n_seq - 1);
    if (!s) return fail(b, WGPT_ERR_ARG, "wgpt_batch_seq_sampling: no sampling (NULL)");
    char e[256];
    if (check_sampling(s, e, sizeof e) != 0) return fail(b, WGPT_ERR_ARG, "%s", e);
    wgpt_sampler_params sp = sampler_params_of(s);
    sampler *n = sampler_create(&sp, b->m->c.n_vocab);
    if (!n) return fail(b, WGPT_ERR_NOMEM, "out of memory");
    sampler_allow_only(n, tokenizer_n_vocab(b->m->tok));
    sampler_free(b->smp[seq]);
    b->smp[seq] = n;
    replay_history(b, seq);
    return WGPT_OK;
}

static wgpt_status read_back(wgpt_batch *b, gpu_buffer *rb, void *dst, size_t bytes) {
    char e[512];
    const void *data;
    gpu_device *d = b->m->dev;
    if (gpu_read_begin(d, rb, e, sizeof e) != 0 || gpu_read_poll(d, rb, 1, &data, e, sizeof e) != 1)
        return fail(b, WGPT_ERR_GPU, "%s", e);
    memcpy(dst, data, bytes);
    gpu_read_end(d, rb);
    return WGPT_OK;
}

/* One forward pass of the tokens staged in b->ids as b->sp says. With
 * picks, each of its n_out rows' greedy pick into b->picks; with logits,
 * the rows themselves into b->logits. */
static wgpt_status run_pass(wgpt_batch *b, int picks, int logits) {
    char e[512];
    gpu_device *d = b->m->dev;
    uint32_t rows = b->sp.n_out;
    gpu_buffer_write(d, decoder_state_ids(b->s), 0, b->ids, b->sp.n_tokens * sizeof *b->ids);
    if (decoder_encode_forward(b->s, &b->sp, 0, logits, e, sizeof e) != 0) return fail(b, WGPT_ERR_GPU, "%s", e);
    if (picks) {
        gpu_dispatch_1d(d, b->argmax, b->am_b, rows);
        gpu_copy(d, b->am_out, 0, b->am_rb, 0, (uint64_t)rows * 8);
    }
    if (gpu_submit(d, e, sizeof e) != 0) return fail(b, WGPT_ERR_GPU, "%s", e);
    wgpt_status st = WGPT_OK;
    if (picks) {
        uint32_t pk[2 * STEP_MULTI_MAX];
        st = read_back(b, b->am_rb, pk, (size_t)rows * 8);
        for (uint32_t i = 0; st == WGPT_OK && i < rows; i++) b->picks[i] = pk[2 * i + 1] ? -1 : (int32_t)pk[2 * i];
    }
    if (st == WGPT_OK && logits)
        st = read_back(b, decoder_state_logits_readback(b->s), b->logits, (size_t)rows * b->m->c.n_vocab * sizeof(float));
    return st;
}

/* Whether seq's next token is the greedy pick: no temperature, no penalty. */
static int greedy(const wgpt_batch *b, int seq) {
    const wgpt_sampler_params *p = sampler_params(b->smp[seq]);
    return p->temperature <= 0 && !sampler_penalises(p);
}

wgpt_status wgpt_batch_profile(wgpt_batch *b, int n, const int *seqs, const int32_t *tokens, wgpt_profile_fn fn,
                               void *user) {
    if (!b) return WGPT_ERR_ARG;
    if (n < 1 || !tokens || !fn) return fail(b, WGPT_ERR_ARG, "wgpt_batch_profile: no tokens or no callback");
    int *ones = malloc((size_t)n * sizeof *ones);
    const int32_t **tp = malloc((size_t)n * sizeof *tp);
    double *ns = malloc(2048 * sizeof *ns);
    wgpt_status st = ones && tp && ns ? WGPT_OK : fail(b, WGPT_ERR_NOMEM, "out of memory");
    for (int i = 0; st == WGPT_OK && i < n; i++) { ones[i] = 1; tp[i] = tokens + i; }
    char e[512];
    gpu_device *d = b->m->dev;
    if (st == WGPT_OK && gpu_profile_begin(d, 2048, e, sizeof e) != 0) st = fail(b, WGPT_ERR_GPU, "%s", e);
    else if (st == WGPT_OK) {
        st = wgpt_batch_decode(b, n, seqs, tp, ones, NULL);
        int k = gpu_profile_end(d, ns, 2048, e, sizeof e);
        if (st == WGPT_OK && k < 0) st = fail(b, WGPT_ERR_GPU, "%s", e);
        int nd;
        gpu_kernel *const *kernels = graph_last_dispatches(decoder_state_graph(b->s), &nd);
        for (int i = 0; st == WGPT_OK && i < k && i < nd; i++) fn(user, gpu_kernel_label(kernels[i]), ns[i]);
    }
    free(ones);
    free(tp);
    free(ns);
    return st;
}

/* Tokens fed to seq: into its history and its sampler's. */
static void took(wgpt_batch *b, int seq, const int32_t *t, int n) {
    int32_t *h = b->hist + (size_t)seq * b->n_ctx;
    for (int i = 0; i < n; i++) {
        h[b->pos[seq] + i] = t[i];
        sampler_accept(b->smp[seq], t[i]);
    }
    b->pos[seq] += n;
}

/* Sequence seq's token from the pass's row k: its greedy pick, or sampled
 * from its logits; -1 where they are not finite. */
static int32_t pick(wgpt_batch *b, int seq, int k, int *bad) {
    int32_t t;
    if (greedy(b, seq)) t = b->picks[k];
    else {
        const float *row = b->logits + (size_t)k * b->m->c.n_vocab;
        t = logits_finite(row, b->m->c.n_vocab) ? sampler_sample(b->smp[seq], row) : -1;
    }
    if (t < 0) *bad = 1;
    return t;
}

static wgpt_status check_step(wgpt_batch *b, int n, const int *seqs, const int32_t *const *tokens,
                              const int *n_tokens) {
    if (n < 0 || (n > 0 && (!seqs || !tokens || !n_tokens)))
        return fail(b, WGPT_ERR_ARG, "wgpt_batch_decode: %s", n < 0 ? "a negative count" : "NULL arrays");
    char *seen = calloc((size_t)b->n_seq, 1);
    if (!seen) return fail(b, WGPT_ERR_NOMEM, "out of memory");
    wgpt_status st = WGPT_OK;
    for (int i = 0; i < n && st == WGPT_OK; i++) {
        int s = seqs[i];
        if (s < 0 || s >= b->n_seq) st = fail(b, WGPT_ERR_ARG, "sequence %d is out of range (0..%d)", s, b->n_seq - 1);
        else if (seen[s]) st = fail(b, WGPT_ERR_ARG, "sequence %d is in the step twice", s);
        else if (n_tokens[i] < 1 || !tokens[i]) st = fail(b, WGPT_ERR_ARG, "sequence %d has no tokens in the step", s);
        else if (n_tokens[i] > b->n_ctx - b->pos[s])
            st = fail(b, WGPT_ERR_CONTEXT_FULL,
                      "context full: sequence %d would hold %lld tokens, past its context of %d (%d already in it)", s,
                      (long long)b->pos[s] + n_tokens[i], b->n_ctx, b->pos[s]);
        for (int j = 0; st == WGPT_OK && j < n_tokens[i]; j++)
            if (tokens[i][j] < 0 || tokens[i][j] >= b->m->c.n_vocab)
                st = fail(b, WGPT_ERR_ARG, "token id %d is outside the vocabulary (0..%d)", tokens[i][j],
                          b->m->c.n_vocab - 1);
        if (st == WGPT_OK) seen[s] = 1;
    }
    free(seen);
    return st;
}

wgpt_status wgpt_batch_decode(wgpt_batch *b, int n, const int *seqs, const int32_t *const *tokens,
                              const int *n_tokens, int32_t *out) {
    if (!b) return WGPT_ERR_ARG;
    wgpt_status st = check_step(b, n, seqs, tokens, n_tokens);
    if (st != WGPT_OK) return st;
    int n_one = 0, bad = 0;
    for (int i = 0; i < n; i++) n_one += n_tokens[i] == 1;
    /* A sequence of several tokens (a prompt) alone in its passes, in
     * chunks of n_batch. */
    for (int i = 0; i < n; i++) {
        if (n_tokens[i] == 1) continue;
        int s = seqs[i];
        for (int done = 0; done < n_tokens[i];) {
            int k = n_tokens[i] - done < b->n_batch ? n_tokens[i] - done : b->n_batch;
            int last = done + k == n_tokens[i];
            for (int j = 0; j < k; j++) b->ids[j] = (uint32_t)tokens[i][done + j];
            b->sp = (step_params){.pos0 = (uint32_t)b->pos[s], .n_tokens = (uint32_t)k, .out_first = (uint32_t)k - 1, .n_out = 1,
                                  .row0 = (uint32_t)(s * b->n_ctx)};
            int want = last && out;
            if ((st = run_pass(b, want && greedy(b, s), want && !greedy(b, s))) != WGPT_OK) return st;
            took(b, s, tokens[i] + done, k);
            done += k;
        }
        if (out) out[i] = pick(b, s, 0, &bad);
    }
    if (n_one) { /* every one-token sequence in one pass: a multi step, even alone, so that a token's
                    arithmetic never depends on which others share its step */
        int k = 0;
        memset(&b->sp, 0, sizeof b->sp);
        for (int i = 0; i < n; i++) {
            if (n_tokens[i] != 1) continue;
            int s = seqs[i];
            b->ids[k] = (uint32_t)tokens[i][0];
            b->sp.tok[2 * k] = (uint32_t)b->pos[s];
            b->sp.tok[2 * k + 1] = (uint32_t)(s * b->n_ctx + b->pos[s]);
            k++;
        }
        b->sp.n_tokens = b->sp.n_out = (uint32_t)k;
        b->sp.multi = 1;
        int any_greedy = 0, any_sampled = 0;
        for (int i = 0; out && i < n; i++)
            if (n_tokens[i] == 1) {
                any_greedy |= greedy(b, seqs[i]);
                any_sampled |= !greedy(b, seqs[i]);
            }
        if ((st = run_pass(b, any_greedy, any_sampled)) != WGPT_OK) return st;
        k = 0;
        for (int i = 0; i < n; i++) {
            if (n_tokens[i] != 1) continue;
            took(b, seqs[i], tokens[i], 1);
            if (out) out[i] = pick(b, seqs[i], k, &bad);
            k++;
        }
    }
    if (bad) return fail(b, WGPT_ERR_NOT_FINITE, "%s", not_finite_msg);
    return WGPT_OK;
}
