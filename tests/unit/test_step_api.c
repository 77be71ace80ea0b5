/* The public API (include/wgpt.h) on tiny Llama models written here, byte
 * by byte, and run on the adapter (SwiftShader here): the step functions
 * called out of order or with bad arguments, out-of-range sampling values,
 * non-finite logits, contexts at the device's limits, tokenizers that do
 * not match the embedding, and the wording of load errors. Every misuse
 * must give its documented status and a message, never a crash. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../fuzz/gguf_build.h"
#include "gpu/gpu.h"
#include "wgpt.h"

/* ---- tiny models ---------------------------------------------------- */

typedef float (*weight_fn)(const char *tensor, size_t row, size_t col);

typedef struct {
    int dim, n_heads, n_kv_heads, head_dim, ffn;
    int n_rows;             /* token_embd rows: the model's vocabulary */
    int n_tokens;           /* tokenizer.ggml.tokens entries */
    int vocab_key;          /* write llama.vocab_size = n_rows */
    uint32_t n_ctx;         /* llama.context_length */
    const char *arch;       /* general.architecture */
    const char *tok_model;  /* tokenizer.ggml.model */
    const char *pre;        /* tokenizer.ggml.pre (gpt2), or NULL */
    const char *extra;      /* one more (1-D) tensor of this name, or NULL */
    weight_fn weight;       /* NULL: small pseudo-random values, norms 1 */
} tiny_spec;

static tiny_spec tiny_default(void) {
    return (tiny_spec){.dim = 32, .n_heads = 2, .n_kv_heads = 1, .head_dim = 16, .ffn = 64, .n_rows = 64,
                       .n_tokens = 64, .n_ctx = 64, .arch = "llama", .tok_model = "llama"};
}

static float random_weight(const char *tensor, size_t row, size_t col) {
    if (strstr(tensor, "norm")) return 1.0f;
    uint32_t x = (uint32_t)(row * 7919u + col * 104729u) ^ (uint32_t)strlen(tensor) * 2654435761u;
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    return ((float)(x % 2001u) / 1000.0f - 1.0f) * 0.3f;
}

typedef struct { char name[64]; uint64_t cols, rows; float *data; } tiny_tensor;

static void add_tensor(tiny_tensor *t, int *n, const char *name, uint64_t cols, uint64_t rows, weight_fn w) {
    tiny_tensor *x = &t[(*n)++];
    snprintf(x->name, sizeof x->name, "%s", name);
    x->cols = cols;
    x->rows = rows;
    x->data = malloc(cols * rows * sizeof(float));
    assert_non_null(x->data);
    for (uint64_t r = 0; r < rows; r++)
        for (uint64_t c = 0; c < cols; c++) x->data[r * cols + c] = w(name, (size_t)r, (size_t)c);
}

/* Writes the model to a new file under /tmp; returns its malloc'd path. */
static char *write_tiny(const tiny_spec *s) {
    weight_fn w = s->weight ? s->weight : random_weight;
    const uint64_t dim = (uint64_t)s->dim, q = (uint64_t)s->n_heads * s->head_dim,
                   kv = (uint64_t)s->n_kv_heads * s->head_dim, ffn = (uint64_t)s->ffn, rows = (uint64_t)s->n_rows;
    tiny_tensor t[16];
    int nt = 0;
    add_tensor(t, &nt, "token_embd.weight", dim, rows, w);
    add_tensor(t, &nt, "output_norm.weight", dim, 1, w);
    add_tensor(t, &nt, "output.weight", dim, rows, w);
    add_tensor(t, &nt, "blk.0.attn_norm.weight", dim, 1, w);
    add_tensor(t, &nt, "blk.0.attn_q.weight", dim, q, w);
    add_tensor(t, &nt, "blk.0.attn_k.weight", dim, kv, w);
    add_tensor(t, &nt, "blk.0.attn_v.weight", dim, kv, w);
    add_tensor(t, &nt, "blk.0.attn_output.weight", q, dim, w);
    add_tensor(t, &nt, "blk.0.ffn_norm.weight", dim, 1, w);
    add_tensor(t, &nt, "blk.0.ffn_gate.weight", dim, ffn, w);
    add_tensor(t, &nt, "blk.0.ffn_up.weight", dim, ffn, w);
    add_tensor(t, &nt, "blk.0.ffn_down.weight", ffn, dim, w);
    if (s->extra) add_tensor(t, &nt, s->extra, 32, 1, w);

    gb kvs = {0};
    uint64_t n_kv = 0;
    gb_kv_str(&kvs, "general.architecture", s->arch), n_kv++;
    gb_kv_u32(&kvs, "llama.context_length", s->n_ctx), n_kv++;
    gb_kv_u32(&kvs, "llama.embedding_length", (uint32_t)s->dim), n_kv++;
    gb_kv_u32(&kvs, "llama.block_count", 1), n_kv++;
    gb_kv_u32(&kvs, "llama.feed_forward_length", (uint32_t)s->ffn), n_kv++;
    gb_kv_u32(&kvs, "llama.attention.head_count", (uint32_t)s->n_heads), n_kv++;
    gb_kv_u32(&kvs, "llama.attention.head_count_kv", (uint32_t)s->n_kv_heads), n_kv++;
    gb_kv_u32(&kvs, "llama.attention.key_length", (uint32_t)s->head_dim), n_kv++;
    gb_kv_f32(&kvs, "llama.attention.layer_norm_rms_epsilon", 1e-5f), n_kv++;
    if (s->vocab_key) gb_kv_u32(&kvs, "llama.vocab_size", (uint32_t)s->n_rows), n_kv++;
    gb_kv_str(&kvs, "tokenizer.ggml.model", s->tok_model), n_kv++;
    if (s->pre) gb_kv_str(&kvs, "tokenizer.ggml.pre", s->pre), n_kv++;
    if (!strcmp(s->tok_model, "gpt2")) gb_kv_strs(&kvs, "tokenizer.ggml.merges", NULL, 0), n_kv++;
    gb_key(&kvs, "tokenizer.ggml.tokens", GGUF_TYPE_ARRAY), n_kv++;
    gb_u32(&kvs, GGUF_TYPE_STRING);
    gb_u64(&kvs, (uint64_t)s->n_tokens);
    for (int i = 0; i < s->n_tokens; i++) {
        char tok[16];
        snprintf(tok, sizeof tok, i == 0 ? "<unk>" : i == 1 ? "<s>" : i == 2 ? "</s>" : "t%d", i);
        gb_str(&kvs, tok);
    }

    gb_tensor gt[16];
    for (int i = 0; i < nt; i++)
        gt[i] = (gb_tensor){t[i].name, t[i].rows > 1 ? 2 : 1, {t[i].cols, t[i].rows, 1, 1}, GGML_TYPE_F32,
                            (const uint8_t *)t[i].data, t[i].cols * t[i].rows * sizeof(float)};
    gb file = {0};
    gb_header(&file, 3, (uint64_t)nt, n_kv);
    gb_bytes(&file, kvs.p, kvs.len);
    gb_tensors(&file, gt, (size_t)nt, 32);

    char *path = strdup("/tmp/wgpt_test_step_api_XXXXXX");
    assert_non_null(path);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, file.p, file.len), (ssize_t)file.len);
    close(fd);
    for (int i = 0; i < nt; i++) free(t[i].data);
    gb_free(&kvs);
    gb_free(&file);
    return path;
}

static wgpt_model_params quiet(void) {
    wgpt_model_params p;
    wgpt_model_params_default(&p);
    p.progress = 0;
    return p;
}

/* Loads the model of spec s: WGPT_OK with *m, or the status with err. The
 * file is gone afterwards; *path_out (if given) keeps its name. */
static wgpt_status load_tiny(const tiny_spec *s, wgpt_model **m, char *err, size_t errlen, char **path_out) {
    char *path = write_tiny(s);
    wgpt_model_params p = quiet();
    wgpt_status st = wgpt_model_load(path, &p, m, err, errlen);
    unlink(path);
    if (path_out) *path_out = path;
    else free(path);
    return st;
}

/* The model most tests share, loaded once. */
static wgpt_model *shared;

static int setup(void **state) {
    (void)state;
    char err[512];
    tiny_spec s = tiny_default();
    if (load_tiny(&s, &shared, err, sizeof err, NULL) != WGPT_OK) {
        fprintf(stderr, "loading the tiny model: %s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    wgpt_model_free(shared);
    return 0;
}

static wgpt_context *new_context(wgpt_model *m, int n_ctx, float temperature) {
    wgpt_context_params cp;
    wgpt_context_params_default(&cp);
    cp.n_ctx = n_ctx;
    cp.sampling.temperature = temperature;
    wgpt_context *c = NULL;
    char err[512];
    wgpt_status st = wgpt_context_create(m, &cp, &c, err, sizeof err);
    if (st != WGPT_OK) fail_msg("wgpt_context_create: %s", err);
    return c;
}

static void assert_msg(const wgpt_context *c, const char *want) {
    if (!strstr(wgpt_errmsg(c), want)) fail_msg("message '%s' lacks '%s'", wgpt_errmsg(c), want);
}

/* ---- step API misuse --------------------------------------------------- */

/* step-API misuse: collecting with no step submitted. */
static void test_collect_before_submit(void **state) {
    (void)state;
    wgpt_context *c = new_context(shared, 16, 0);
    int32_t tok = 7;
    assert_int_equal(wgpt_step_collect(c, 1, &tok), WGPT_ERR_STATE);
    assert_int_equal(tok, -1);
    assert_msg(c, "no step in flight");
    assert_int_equal(wgpt_step_collect(c, 0, &tok), WGPT_ERR_STATE);
    assert_int_equal(wgpt_step_collect(c, 1, NULL), WGPT_ERR_ARG);
    assert_msg(c, "no place for the token");
    wgpt_context_free(c);
}

/* step-API misuse: a second submit, and a feed, while a step is in flight;
 * the step in flight is not disturbed and collects normally afterwards. */
static void test_submit_twice_and_feed_in_flight(void **state) {
    (void)state;
    wgpt_context *c = new_context(shared, 16, 0);
    const int32_t ids[] = {1, 5, 9};
    assert_int_equal(wgpt_feed(c, ids, 3), WGPT_OK);
    assert_int_equal(wgpt_step_submit(c), WGPT_OK);
    assert_int_equal(wgpt_step_submit(c), WGPT_ERR_STATE);
    assert_msg(c, "a step is already in flight");
    assert_int_equal(wgpt_feed(c, ids, 1), WGPT_ERR_STATE);
    assert_msg(c, "a step is in flight: collect it first");
    int32_t tok;
    assert_int_equal(wgpt_step_collect(c, 1, &tok), WGPT_OK);
    assert_true(tok >= 0 && tok < 64);
    assert_int_equal(wgpt_context_pos(c), 3);
    wgpt_context_free(c);
}

/* step-API misuse: feeding 0 tokens queues nothing (OK), NULL with a count
 * is refused, and submitting with nothing queued says so. */
static void test_feed_nothing_and_submit_nothing(void **state) {
    (void)state;
    wgpt_context *c = new_context(shared, 16, 0);
    assert_int_equal(wgpt_feed(c, NULL, 0), WGPT_OK);
    const int32_t one = 1;
    assert_int_equal(wgpt_feed(c, &one, 0), WGPT_OK);
    assert_int_equal(wgpt_step_submit(c), WGPT_ERR_STATE);
    assert_msg(c, "nothing to evaluate: feed tokens first");
    assert_int_equal(wgpt_feed(c, NULL, 3), WGPT_ERR_ARG);
    assert_msg(c, "no tokens");
    const int32_t bad[] = {1, 64};
    assert_int_equal(wgpt_feed(c, bad, 2), WGPT_ERR_ARG);
    assert_msg(c, "token id 64 is outside the vocabulary (0..63)");
    assert_int_equal(wgpt_step_submit(c), WGPT_ERR_STATE); /* the refused feed queued nothing */
    wgpt_context_free(c);
}

/* step-API misuse: feeding past n_ctx is WGPT_ERR_CONTEXT_FULL with both
 * counts, queues nothing, and leaves the context usable. */
static void test_feed_past_context(void **state) {
    (void)state;
    wgpt_context *c = new_context(shared, 8, 0);
    int32_t ids[9] = {1, 3, 4, 5, 6, 7, 8, 9, 10};
    assert_int_equal(wgpt_feed(c, ids, 9), WGPT_ERR_CONTEXT_FULL);
    assert_string_equal(wgpt_errmsg(c), "context full: 9 tokens would not fit in the context of 8 tokens");
    assert_int_equal(wgpt_feed(c, ids, 6), WGPT_OK);
    assert_int_equal(wgpt_step_submit(c), WGPT_OK);
    int32_t tok;
    assert_int_equal(wgpt_step_collect(c, 1, &tok), WGPT_OK); /* queued as the 7th */
    assert_int_equal(wgpt_feed(c, ids, 2), WGPT_ERR_CONTEXT_FULL);
    assert_string_equal(wgpt_errmsg(c), "context full: 9 tokens would not fit in the context of 8 tokens "
                                        "(6 of them already in it)");
    assert_int_equal(wgpt_feed(c, ids, 1), WGPT_OK); /* the 8th fits */
    assert_int_equal(wgpt_step_submit(c), WGPT_OK);
    assert_int_equal(wgpt_step_collect(c, 1, &tok), WGPT_OK);
    assert_int_equal(wgpt_context_pos(c), 8);
    assert_int_equal(wgpt_feed(c, ids, 1), WGPT_ERR_CONTEXT_FULL);
    assert_int_equal(wgpt_step_submit(c), WGPT_ERR_STATE); /* full: the sampled token was not queued */
    wgpt_context_free(c);
}

/* step-API misuse: no logits before the first collected step, nor after a
 * reset; a step in flight does not change the ones already collected. */
static void test_logits_before_any_step(void **state) {
    (void)state;
    wgpt_context *c = new_context(shared, 16, 0);
    int rows = 5;
    assert_null(wgpt_logits(c, &rows));
    assert_int_equal(rows, 0);
    const int32_t ids[] = {1, 5};
    assert_int_equal(wgpt_feed(c, ids, 2), WGPT_OK);
    assert_int_equal(wgpt_step_submit(c), WGPT_OK);
    assert_null(wgpt_logits(c, &rows)); /* still in flight */
    int32_t tok;
    assert_int_equal(wgpt_step_collect(c, 1, &tok), WGPT_OK);
    const float *l = wgpt_logits(c, &rows);
    assert_non_null(l);
    assert_int_equal(rows, 1);
    int best = 0; /* greedy: the token is the argmax, lowest id on ties */
    for (int i = 1; i < 64; i++)
        if (l[i] > l[best]) best = i;
    assert_int_equal(tok, best);
    float first = l[0];
    assert_int_equal(wgpt_step_submit(c), WGPT_OK);
    assert_true(wgpt_logits(c, &rows) == l && rows == 1 && l[0] == first);
    assert_int_equal(wgpt_step_collect(c, 1, &tok), WGPT_OK);
    wgpt_reset(c);
    assert_null(wgpt_logits(c, &rows));
    assert_int_equal(rows, 0);
    wgpt_context_free(c);
}

/* Greedy tokens of a fresh run from ids, n steps. */
static void greedy_run(wgpt_context *c, const int32_t *ids, size_t n_ids, int32_t *out, int n) {
    assert_int_equal(wgpt_feed(c, ids, n_ids), WGPT_OK);
    for (int i = 0; i < n; i++) {
        assert_int_equal(wgpt_step_submit(c), WGPT_OK);
        assert_int_equal(wgpt_step_collect(c, 1, &out[i]), WGPT_OK);
    }
}

/* step-API misuse: wgpt_reset with a step in flight drops it; the context
 * then gives the same tokens as a fresh one, and a pending read-back left
 * behind does not break later steps (or the free). */
static void test_reset_in_flight(void **state) {
    (void)state;
    const int32_t ids[] = {1, 17, 23, 5};
    int32_t want[4], got[4];
    wgpt_context *fresh = new_context(shared, 32, 0);
    greedy_run(fresh, ids, 4, want, 4);
    wgpt_context_free(fresh);

    wgpt_context *c = new_context(shared, 32, 0);
    assert_int_equal(wgpt_feed(c, ids, 4), WGPT_OK);
    assert_int_equal(wgpt_step_submit(c), WGPT_OK);
    wgpt_reset(c);
    assert_int_equal(wgpt_context_pos(c), 0);
    int32_t tok;
    assert_int_equal(wgpt_step_collect(c, 1, &tok), WGPT_ERR_STATE);
    greedy_run(c, ids, 4, got, 4);
    assert_memory_equal(got, want, sizeof want);
    /* freeing with a step in flight is allowed too */
    assert_int_equal(wgpt_feed(c, ids, 1), WGPT_OK);
    assert_int_equal(wgpt_step_submit(c), WGPT_OK);
    wgpt_context_free(c);
}

/* Sampling on the GPU (greedy steps queued ahead, see context.c) against
 * the CPU sampler on twin contexts: the same tokens and the same logits
 * (fetched from the GPU on demand) through every way a caller leaves the
 * plain token loop: polling, feeding more after a collect, rewinding,
 * resetting; and the same draws for a seeded sampler with a penalty. */
static wgpt_context *twin(float temperature, int on_cpu, int top_k, float penalty) {
    wgpt_context_params cp;
    wgpt_context_params_default(&cp);
    cp.n_ctx = 48;
    cp.sampling.temperature = temperature;
    cp.sampling.top_k = top_k;
    cp.sampling.repeat_penalty = penalty;
    cp.sampling.repeat_last_n = 6;
    cp.sampling.seed = 42;
    cp.sampling.on_cpu = on_cpu;
    wgpt_context *c = NULL;
    char err[512];
    if (wgpt_context_create(shared, &cp, &c, err, sizeof err) != WGPT_OK) fail_msg("wgpt_context_create: %s", err);
    assert_int_equal(wgpt_context_gpu_sampling(c), !on_cpu);
    return c;
}

/* One step on both; wait 0 polls. Their tokens and logits must agree. */
static int32_t twin_step(wgpt_context *g, wgpt_context *c, int poll) {
    int32_t tg, tc;
    assert_int_equal(wgpt_step_submit(g), WGPT_OK);
    assert_int_equal(wgpt_step_submit(c), WGPT_OK);
    wgpt_status st;
    while (poll && (st = wgpt_step_collect(g, 0, &tg)) == WGPT_PENDING) {}
    if (!poll) st = wgpt_step_collect(g, 1, &tg);
    assert_int_equal(st, WGPT_OK);
    assert_int_equal(wgpt_step_collect(c, 1, &tc), WGPT_OK);
    assert_int_equal(tg, tc);
    int rg, rc;
    const float *lc = wgpt_logits(c, &rc), *lg = wgpt_logits(g, &rg);
    assert_non_null(lg);
    assert_int_equal(rg, 1);
    assert_memory_equal(lg, lc, 64 * sizeof(float));
    assert_int_equal(wgpt_context_pos(g), wgpt_context_pos(c));
    return tg;
}

static void test_gpu_sampler_matches_cpu(void **state) {
    (void)state;
    const int32_t ids[] = {1, 17, 23, 5}, more[] = {9, 2};
    struct { float temp, penalty; int top_k; } cases[] = {{0, 1, 40}, {1.2f, 1.3f, 20}, {0, 1.5f, 40}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        wgpt_context *g = twin(cases[k].temp, 0, cases[k].top_k, cases[k].penalty);
        wgpt_context *c = twin(cases[k].temp, 1, cases[k].top_k, cases[k].penalty);
        for (int round = 0; round < 2; round++) {
            assert_int_equal(wgpt_feed(g, ids, 4), WGPT_OK);
            assert_int_equal(wgpt_feed(c, ids, 4), WGPT_OK);
            for (int i = 0; i < 6; i++) twin_step(g, c, i % 2);
            /* more tokens after a collect: the step queued ahead is dropped */
            assert_int_equal(wgpt_feed(g, more, 2), WGPT_OK);
            assert_int_equal(wgpt_feed(c, more, 2), WGPT_OK);
            for (int i = 0; i < 4; i++) twin_step(g, c, 0);
            /* back three tokens: the pending one and two in the cache */
            int keep = wgpt_context_pos(g) - 2;
            assert_int_equal(wgpt_rewind(g, keep), WGPT_OK);
            assert_int_equal(wgpt_rewind(c, keep), WGPT_OK);
            assert_int_equal(wgpt_feed(g, more, 1), WGPT_OK);
            assert_int_equal(wgpt_feed(c, more, 1), WGPT_OK);
            for (int i = 0; i < 5; i++) twin_step(g, c, 0);
            /* to the end of the context: the last step queues nothing ahead */
            while (wgpt_context_pos(g) < 47) twin_step(g, c, 0);
            int32_t t;
            assert_int_equal(wgpt_step_submit(g), WGPT_OK);
            assert_int_equal(wgpt_step_collect(g, 1, &t), WGPT_OK);
            assert_int_equal(wgpt_feed(g, &t, 1), WGPT_ERR_CONTEXT_FULL);
            wgpt_reset(g);
            wgpt_reset(c);
        }
        wgpt_context_free(g);
        wgpt_context_free(c);
    }
}

/* step-API misuse: the NULL handles the API allows. */
/* ---- wgpt_batch ---------------------------------------------------------- */

/* Misuse of a batch is refused whole, naming the fault, and leaves it usable. */
static void test_batch_errors(void **state) {
    (void)state;
    wgpt_batch *b = NULL;
    char err[256];
    wgpt_batch_params bp = {.n_seq = 3, .n_ctx = 16};
    assert_int_equal(wgpt_batch_create(NULL, &bp, &b, err, sizeof err), WGPT_ERR_ARG);
    bp.n_seq = 257;
    assert_int_equal(wgpt_batch_create(shared, &bp, &b, err, sizeof err), WGPT_ERR_ARG);
    assert_non_null(strstr(err, "n_seq"));
    bp.n_seq = 3;
    bp.n_ctx = 65; /* the tiny model's training context is 64 */
    assert_int_equal(wgpt_batch_create(shared, &bp, &b, err, sizeof err), WGPT_ERR_ARG);
    bp.n_ctx = 16;
    assert_int_equal(wgpt_batch_create(shared, &bp, &b, err, sizeof err), WGPT_OK);
    int32_t t5[5] = {1, 5, 6, 7, 8}, big[17] = {0}, bad[1] = {64}, out[3];
    const int32_t *tp[3] = {t5, t5, t5};
    int seqs[3] = {0, 1, 0}, n1[3] = {1, 1, 1}, n5[3] = {5, 5, 5};
    assert_int_equal(wgpt_batch_decode(b, 3, seqs, tp, n1, out), WGPT_ERR_ARG); /* sequence 0 twice */
    assert_non_null(strstr(wgpt_batch_errmsg(b), "twice"));
    seqs[2] = 3;
    assert_int_equal(wgpt_batch_decode(b, 3, seqs, tp, n1, out), WGPT_ERR_ARG); /* out of range */
    seqs[2] = 2;
    const int32_t *bp1[1] = {bad};
    assert_int_equal(wgpt_batch_decode(b, 1, seqs, bp1, n1, out), WGPT_ERR_ARG); /* id past the vocabulary */
    const int32_t *bg[1] = {big};
    int n17[1] = {17};
    assert_int_equal(wgpt_batch_decode(b, 1, seqs, bg, n17, out), WGPT_ERR_CONTEXT_FULL);
    assert_non_null(strstr(wgpt_batch_errmsg(b), "sequence 0"));
    for (int s = 0; s < 3; s++) assert_int_equal(wgpt_batch_seq_pos(b, s), 0); /* nothing was done */
    assert_int_equal(wgpt_batch_decode(b, 3, seqs, tp, n5, out), WGPT_OK);
    for (int s = 0; s < 3; s++) assert_int_equal(wgpt_batch_seq_pos(b, s), 5);
    assert_int_equal(wgpt_batch_seq_keep(b, 1, 6), WGPT_ERR_ARG);
    assert_int_equal(wgpt_batch_seq_keep(b, 1, 2), WGPT_OK);
    assert_int_equal(wgpt_batch_seq_pos(b, 1), 2);
    wgpt_sampling s = {.temperature = -1};
    assert_int_equal(wgpt_batch_seq_sampling(b, 0, &s), WGPT_ERR_ARG);
    assert_non_null(strstr(wgpt_batch_errmsg(b), "temperature"));
    assert_int_equal(wgpt_batch_seq_pos(b, 9), -1);
    assert_string_equal(wgpt_batch_errmsg(NULL), "no batch");
    wgpt_batch_free(b);
    wgpt_batch_free(NULL);
}

/* Three sequences stepped together, prompts of different lengths, each
 * greedy token equal to the same sequence's alone in a batch of one (a
 * multi step of one token), and to a context's (the one-token kernels:
 * equal on this model, whose greedy path is decisive). */
static void test_batch_matches_alone(void **state) {
    (void)state;
    const int32_t prompts[3][6] = {{1, 9, 10, 11, 12, 13}, {1, 20}, {1, 30, 31, 32}};
    const int len[3] = {6, 2, 4};
    enum { STEPS = 12 };
    int32_t together[3][STEPS], alone[3][STEPS];
    char err[256];
    for (int mode = 0; mode < 2; mode++) {
        wgpt_batch *b = NULL;
        wgpt_batch_params bp = {.n_seq = mode ? 1 : 3, .n_ctx = 32};
        assert_int_equal(wgpt_batch_create(shared, &bp, &b, err, sizeof err), WGPT_OK);
        for (int q = 0; q < 3; q++) {
            if (mode == 1 && q) assert_int_equal(wgpt_batch_seq_keep(b, 0, 0), WGPT_OK);
            if (mode == 1 || q == 0) { /* alone: one sequence at a time; together: all three each step */
                int32_t last[3];
                int k = mode ? 1 : 3;
                for (int step = 0; step < STEPS; step++) {
                    int seqs[3], n[3];
                    int32_t out[3];
                    const int32_t *tp[3];
                    for (int i = 0; i < k; i++) {
                        int p = mode ? q : i;
                        seqs[i] = i;
                        tp[i] = step ? &last[i] : prompts[p];
                        n[i] = step ? 1 : len[p];
                    }
                    assert_int_equal(wgpt_batch_decode(b, k, seqs, tp, n, out), WGPT_OK);
                    for (int i = 0; i < k; i++) {
                        int p = mode ? q : i;
                        last[i] = out[i];
                        (mode ? alone : together)[p][step] = out[i];
                    }
                }
            }
        }
        wgpt_batch_free(b);
    }
    for (int q = 0; q < 3; q++) {
        assert_memory_equal(together[q], alone[q], sizeof alone[q]);
        wgpt_context *c = NULL;
        wgpt_context_params cp;
        wgpt_context_params_default(&cp);
        cp.sampling.temperature = 0;
        cp.n_ctx = 32;
        assert_int_equal(wgpt_context_create(shared, &cp, &c, err, sizeof err), WGPT_OK);
        assert_int_equal(wgpt_feed(c, prompts[q], (size_t)len[q]), WGPT_OK);
        for (int step = 0; step < STEPS; step++) {
            int32_t t;
            assert_int_equal(wgpt_step_submit(c), WGPT_OK);
            assert_int_equal(wgpt_step_collect(c, 1, &t), WGPT_OK);
            assert_int_equal(t, alone[q][step]);
        }
        wgpt_context_free(c);
    }
}

static void test_null_handles(void **state) {
    (void)state;
    wgpt_context_free(NULL);
    wgpt_model_free(NULL);
    wgpt_loader_free(NULL);
    wgpt_reset(NULL);
    assert_string_equal(wgpt_errmsg(NULL), "no context");
    int32_t tok;
    assert_int_equal(wgpt_feed(NULL, &tok, 1), WGPT_ERR_ARG);
    assert_int_equal(wgpt_step_submit(NULL), WGPT_ERR_ARG);
    assert_int_equal(wgpt_step_collect(NULL, 1, &tok), WGPT_ERR_ARG);
    int rows = 3;
    assert_null(wgpt_logits(NULL, &rows));
    assert_int_equal(rows, 0);
    char err[256] = "";
    wgpt_context *c = (wgpt_context *)err;
    assert_int_equal(wgpt_context_create(NULL, NULL, &c, err, sizeof err), WGPT_ERR_ARG);
    assert_null(c);
    assert_string_equal(err, "wgpt_context_create: no model");
    wgpt_model *m = (wgpt_model *)err;
    assert_int_equal(wgpt_model_load(NULL, NULL, &m, err, sizeof err), WGPT_ERR_ARG);
    assert_null(m);
    assert_string_equal(err, "gguf: no model file given");
}

/* ---- W1: sampling values ------------------------------------------------ */

static wgpt_status create_with(wgpt_sampling s, char *err, size_t errlen) {
    wgpt_context_params cp;
    wgpt_context_params_default(&cp);
    cp.n_ctx = 8;
    cp.sampling = s;
    wgpt_context *c = NULL;
    wgpt_status st = wgpt_context_create(shared, &cp, &c, err, errlen);
    wgpt_context_free(c);
    return st;
}

/* W1: each out-of-range or NaN value is refused by name with its range
 * (the QA report's --temp nan/-1, --top-p -1/2/nan, --min-p 2/nan,
 * --repeat-penalty 0/nan/1e-45 reached wgpt_context_create unchecked). */
static void test_sampling_out_of_range_refused(void **state) {
    (void)state;
    wgpt_context_params d;
    wgpt_context_params_default(&d);
    const struct { int field; float v; const char *want; } bad[] = {
        {0, NAN, "sampling: temperature = nan is out of range (0 or more; 0 is greedy)"},
        {0, -1.0f, "sampling: temperature = -1 is out of range (0 or more; 0 is greedy)"},
        {1, -1.0f, "sampling: top_p = -1 is out of range (0 to 1; 1 is off)"},
        {1, 2.0f, "sampling: top_p = 2 is out of range (0 to 1; 1 is off)"},
        {1, NAN, "sampling: top_p = nan is out of range"},
        {2, 2.0f, "sampling: min_p = 2 is out of range (0 to 1; 0 is off)"},
        {2, NAN, "sampling: min_p = nan"},
        {2, -0.5f, "sampling: min_p = -0.5"},
        {3, 0.0f, "sampling: repeat_penalty = 0 is out of range (more than 0, finite; 1 is off)"},
        {3, NAN, "sampling: repeat_penalty = nan"},
        {3, -1.0f, "sampling: repeat_penalty = -1"},
        {3, INFINITY, "sampling: repeat_penalty = inf"},
        {4, -1, "sampling: top_k = -1 is out of range (0 or more; 0 is off)"},
        {5, -1, "sampling: repeat_last_n = -1 is out of range (0 or more; 0 is off)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        wgpt_sampling s = d.sampling;
        switch (bad[i].field) {
        case 0: s.temperature = bad[i].v; break;
        case 1: s.top_p = bad[i].v; break;
        case 2: s.min_p = bad[i].v; break;
        case 3: s.repeat_penalty = bad[i].v; break;
        case 4: s.top_k = (int)bad[i].v; break;
        default: s.repeat_last_n = (int)bad[i].v; break;
        }
        char err[256] = "";
        assert_int_equal(create_with(s, err, sizeof err), WGPT_ERR_ARG);
        if (!strstr(err, bad[i].want)) fail_msg("case %zu: '%s' lacks '%s'", i, err, bad[i].want);
    }
    /* the ends of every range are accepted */
    wgpt_sampling edges[] = {d.sampling, d.sampling, d.sampling};
    edges[0].temperature = 0; edges[0].top_p = 0; edges[0].min_p = 0; edges[0].top_k = 0; edges[0].repeat_last_n = 0;
    edges[1].top_p = 1; edges[1].min_p = 1; edges[1].repeat_penalty = 1e-45f; edges[1].temperature = 1e9f;
    edges[2].repeat_penalty = 3.4e38f; edges[2].top_k = 1 << 30; edges[2].repeat_last_n = 1 << 30;
    for (size_t i = 0; i < 3; i++) {
        char err[256] = "";
        if (create_with(edges[i], err, sizeof err) != WGPT_OK) fail_msg("edge case %zu refused: %s", i, err);
    }
    wgpt_context_params cp = d;
    cp.n_ctx = -1;
    wgpt_context *c = NULL;
    char err[256];
    assert_int_equal(wgpt_context_create(shared, &cp, &c, err, sizeof err), WGPT_ERR_ARG);
    assert_string_equal(err, "n_ctx -1 is negative (0 means the default)");
}

/* ---- W10: non-finite logits --------------------------------------------- */

static float nan_attn_q(const char *tensor, size_t row, size_t col) {
    if (!strcmp(tensor, "blk.0.attn_q.weight")) return NAN;
    return random_weight(tensor, row, col);
}

/* W10: the QA report's snip_nan.py, blk.0.attn_q.weight all NaN. The old
 * engine sampled token 0 (<unk>) from all-NaN logits, step after step; now
 * the step fails with its own status and says why. */
static void test_nan_weights_refused(void **state) {
    (void)state;
    tiny_spec s = tiny_default();
    s.weight = nan_attn_q;
    wgpt_model *m = NULL;
    char err[512];
    assert_int_equal(load_tiny(&s, &m, err, sizeof err, NULL), WGPT_OK);
    for (int greedy = 0; greedy < 2; greedy++) {
        wgpt_context *c = new_context(m, 16, greedy ? 0.0f : 0.8f);
        const int32_t ids[] = {1, 5, 9};
        assert_int_equal(wgpt_feed(c, ids, 3), WGPT_OK);
        assert_int_equal(wgpt_step_submit(c), WGPT_OK);
        int32_t tok = 0;
        assert_int_equal(wgpt_step_collect(c, 1, &tok), WGPT_ERR_NOT_FINITE);
        assert_int_equal(tok, -1);
        assert_string_equal(wgpt_errmsg(c),
                            "the logits are not finite (NaN/Inf): the model's weights or an activation overflowed");
        int rows;
        const float *l = wgpt_logits(c, &rows); /* still there to look at */
        assert_non_null(l);
        assert_true(isnan(l[0]));
        assert_int_equal(wgpt_step_submit(c), WGPT_ERR_STATE); /* nothing was queued */
        wgpt_context_free(c);
    }
    wgpt_model_free(m);
}

/* ---- E6: buffers at the device's limits --------------------------------- */

/* E6: the QA report's make_tiny_llama.py --ctx 1048576 run with -c 1048576
 * on SwiftShader: the attention scores of 4 heads x batch 64 x n_ctx floats
 * came to exactly the binding limit (1 GiB there), which the old precheck
 * (score_bytes > limit) let through; Dawn then refused the buffer and the
 * user got "bind group: [Invalid Buffer "scores"] is invalid". There is no
 * score buffer now; the largest buffer per position is a layer's K cache,
 * here 4 KV heads x 64 x n_ctx floats, at exactly the limit. A context one
 * token larger is over the limit and refused up front. Either way the
 * message is the advice, never a Dawn validation error. */
static void test_context_at_binding_limit(void **state) {
    (void)state;
    char err[1024];
    gpu_options o = {NULL, -1, 0, 0};
    gpu_device *d = gpu_open(&o, err, sizeof err);
    if (!d) fail_msg("gpu_open: %s", err);
    uint64_t lim = gpu_get_limits(d)->max_storage_binding;
    gpu_close(d);
    const uint64_t per_token = 4 * 64 * 4; /* KV heads x head size x sizeof(float) */
    if (lim / per_token + 1 > (1u << 30)) skip();
    int n_ctx = (int)(lim / per_token);

    tiny_spec s = tiny_default();
    s.dim = 256;
    s.n_heads = 4;
    s.n_kv_heads = 4;
    s.head_dim = 64;
    s.n_ctx = (uint32_t)n_ctx + 1;
    wgpt_model *m = NULL;
    assert_int_equal(load_tiny(&s, &m, err, sizeof err, NULL), WGPT_OK);
    wgpt_context_params cp;
    wgpt_context_params_default(&cp);
    cp.n_batch = 64;
    for (int extra = 0; extra < 2; extra++) {
        cp.n_ctx = n_ctx + extra;
        wgpt_context *c = NULL;
        wgpt_status st = wgpt_context_create(m, &cp, &c, err, sizeof err);
        if (st == WGPT_OK && !extra) { /* a device that makes it must then run it */
            const int32_t bos = 1;
            int32_t tok;
            assert_int_equal(wgpt_feed(c, &bos, 1), WGPT_OK);
            if (wgpt_step_submit(c) != WGPT_OK || wgpt_step_collect(c, 1, &tok) != WGPT_OK)
                fail_msg("a context of %d tokens was made but does not run: %s", n_ctx, wgpt_errmsg(c));
            wgpt_context_free(c);
            continue;
        }
        assert_int_equal(st, WGPT_ERR_GPU);
        assert_null(c);
        char head[128];
        snprintf(head, sizeof head, "context of %d tokens with batch 64 needs ", cp.n_ctx);
        if (strncmp(err, head, strlen(head)) || !strstr(err, "; use a smaller -c or --batch") || strstr(err, "bind group"))
            fail_msg("n_ctx %d: '%s'", cp.n_ctx, err);
        if (extra) {
            char want[256];
            snprintf(want, sizeof want, "needs buffers larger than this device binds (%llu MB; k_cache needs %llu MB)",
                     (unsigned long long)(lim >> 20), (unsigned long long)((lim + per_token + (1 << 20) - 1) >> 20));
            if (!strstr(err, want)) fail_msg("'%s' lacks '%s'", err, want);
        }
    }
    /* The device is still fine for a context it can hold: the failed buffer
     * left no error behind for the next step to trip over. */
    wgpt_context *c = new_context(m, 16, 0);
    int32_t out[2];
    const int32_t ids[] = {1, 2};
    greedy_run(c, ids, 2, out, 2);
    wgpt_context_free(c);
    wgpt_model_free(m);
}

/* ---- E8: tokenizer against the embedding -------------------------------- */

/* E8: the QA report's snip_vocab.py (600 tokenizer tokens, a 512-row
 * embedding) loaded and failed only when token 512 was fed; now the load
 * fails naming both counts, with and without llama.vocab_size. */
static void test_tokenizer_larger_than_vocab(void **state) {
    (void)state;
    for (int key = 0; key < 2; key++) {
        tiny_spec s = tiny_default();
        s.n_rows = 512;
        s.n_tokens = 600;
        s.vocab_key = key;
        wgpt_model *m = NULL;
        char err[512], *path;
        assert_int_equal(load_tiny(&s, &m, err, sizeof err, &path), WGPT_ERR_FORMAT);
        assert_null(m);
        char want[512];
        snprintf(want, sizeof want, "%s: tokenizer.ggml.tokens has 600 entries but the model's vocabulary "
                 "(token_embd.weight) has 512 rows", path);
        assert_string_equal(err, want);
        free(path);
    }
}

/* Every layer adds nothing (attn_output and ffn_down are 0) and every token
 * embeds as all ones, so the last hidden state is rmsnorm(ones) = ones; row
 * i of the output is (i + 1) / 100 everywhere, so logit i = dim (i + 1) / 100
 * (0.32 (i + 1)): increasing with the id, the largest at the last row. */
static float rising_logits(const char *tensor, size_t row, size_t col) {
    (void)col;
    if (!strcmp(tensor, "blk.0.attn_output.weight") || !strcmp(tensor, "blk.0.ffn_down.weight")) return 0.0f;
    if (!strcmp(tensor, "token_embd.weight") || strstr(tensor, "norm")) return 1.0f;
    if (!strcmp(tensor, "output.weight")) return (float)(row + 1) / 100.0f;
    return random_weight(tensor, row, col);
}

/* E8: a tokenizer smaller than the embedding (400 tokens, 512 rows) loads,
 * like llama.cpp's padded vocabularies, but ids 400..511 have no text and
 * are never sampled: greedy picks 399 although row 511 has the largest
 * logit, and random draws (where the old sampler gave 400..511 nearly all
 * the mass: e^(0.32 * 112) to one) stay below 400. */
static void test_padded_vocab_never_sampled(void **state) {
    (void)state;
    tiny_spec s = tiny_default();
    s.n_rows = 512;
    s.n_tokens = 400;
    s.vocab_key = 1;
    s.weight = rising_logits;
    wgpt_model *m = NULL;
    char err[512];
    assert_int_equal(load_tiny(&s, &m, err, sizeof err, NULL), WGPT_OK);
    assert_int_equal(wgpt_model_n_vocab(m), 512);
    wgpt_context *c = new_context(m, 64, 0);
    const int32_t ids[] = {1, 450}; /* padded ids may still be fed */
    assert_int_equal(wgpt_feed(c, ids, 2), WGPT_OK);
    assert_int_equal(wgpt_step_submit(c), WGPT_OK);
    int32_t tok;
    assert_int_equal(wgpt_step_collect(c, 1, &tok), WGPT_OK);
    int rows;
    const float *l = wgpt_logits(c, &rows);
    int best = 0;
    for (int i = 1; i < 512; i++)
        if (l[i] > l[best]) best = i;
    assert_int_equal(best, 511);
    assert_true(fabsf(l[511] - 0.32f * 512) < 0.05f);
    assert_int_equal(tok, 399);
    wgpt_context_free(c);

    wgpt_context_params cp;
    wgpt_context_params_default(&cp);
    cp.n_ctx = 64;
    cp.sampling.temperature = 1.0f;
    cp.sampling.top_k = 0;
    cp.sampling.top_p = 1.0f;
    cp.sampling.min_p = 0.0f;
    cp.sampling.seed = 7;
    c = NULL;
    assert_int_equal(wgpt_context_create(m, &cp, &c, err, sizeof err), WGPT_OK);
    assert_int_equal(wgpt_feed(c, ids, 1), WGPT_OK);
    for (int i = 0; i < 40; i++) {
        assert_int_equal(wgpt_step_submit(c), WGPT_OK);
        assert_int_equal(wgpt_step_collect(c, 1, &tok), WGPT_OK);
        assert_true(tok >= 0 && tok < 400);
    }
    wgpt_context_free(c);
    wgpt_model_free(m);
}

/* ---- E9 and S1: load errors --------------------------------------------- */

/* Loads spec s, expects status st and the message "PATH: rest". */
static void expect_load_error(const tiny_spec *s, wgpt_status st, const char *rest) {
    wgpt_model *m = NULL;
    char err[1024], *path;
    assert_int_equal(load_tiny(s, &m, err, sizeof err, &path), st);
    assert_null(m);
    char want[1024];
    snprintf(want, sizeof want, "%s: %s", path, rest);
    if (strcmp(err, want)) fail_msg("got  '%s'\nwant '%s'", err, want);
    free(path);
}

/* E9: "tokenizer: tokenizer:" appeared twice; now once, after the file. */
static void test_tokenizer_error_prefixed_once(void **state) {
    (void)state;
    tiny_spec s = tiny_default();
    s.tok_model = "bert";
    expect_load_error(&s, WGPT_ERR_FORMAT, "tokenizer: unsupported tokenizer model 'bert' (supported: llama, gpt2)");
}

/* E9: a head too large for the attention kernel is a property of the file
 * on this adapter: said at load time with the file's name (it came only at
 * context creation, without it). 4096 is past the attention kernels' 1024
 * (kernels_attention_max_head). */
static void test_head_size_error_names_file(void **state) {
    (void)state;
    tiny_spec s = tiny_default();
    s.n_heads = 1;
    s.n_kv_heads = 1;
    s.head_dim = 4096;
    wgpt_model *m = NULL;
    char err[512], *path;
    assert_int_equal(load_tiny(&s, &m, err, sizeof err, &path), WGPT_ERR_UNSUPPORTED);
    char want[512];
    snprintf(want, sizeof want, "%s: head size 4096 is larger than the attention kernel handles on this adapter (", path);
    if (strncmp(err, want, strlen(want))) fail_msg("got '%s'", err);
    free(path);
}

/* A file that cannot be opened is an I/O error (WGPT_ERR_IO), not a bad
 * file (WGPT_ERR_FORMAT); the reason still names it. */
static void test_missing_file_is_io(void **state) {
    (void)state;
    wgpt_model_params p = quiet();
    wgpt_model *m = NULL;
    char err[512];
    assert_int_equal(wgpt_model_load("/nonexistent/x.gguf", &p, &m, err, sizeof err), WGPT_ERR_IO);
    assert_null(m);
    assert_non_null(strstr(err, "cannot open '/nonexistent/x.gguf'"));
}

/* E9: device and WebGPU-library errors are not the file's: no path. */
static void test_gpu_errors_do_not_blame_the_file(void **state) {
    (void)state;
    char *path = NULL;
    tiny_spec s = tiny_default();
    path = write_tiny(&s);
    wgpt_model_params p = quiet();
    p.device = 99;
    wgpt_model *m = NULL;
    char err[1024];
    assert_int_equal(wgpt_model_load(path, &p, &m, err, sizeof err), WGPT_ERR_GPU);
    if (strncmp(err, "--device 99: only ", 18) || strstr(err, path)) fail_msg("got '%s'", err);
    p = quiet();
    p.webgpu_lib = "/nonexistent/libwebgpu_x.so";
    assert_int_equal(wgpt_model_load(path, &p, &m, err, sizeof err), WGPT_ERR_GPU);
    assert_string_equal(err, "cannot load the WebGPU library /nonexistent/libwebgpu_x.so: /nonexistent/libwebgpu_x.so: "
                             "cannot open shared object file: No such file or directory");
    unlink(path);
    free(path);
}

/* S1: names from the file reach messages escaped, never as the bytes a
 * terminal acts on (the QA report's evil-arch.gguf and RED-TENSOR). */
static void test_file_strings_escaped(void **state) {
    (void)state;
    tiny_spec s = tiny_default();
    s.arch = "\x1b[2JX";
    expect_load_error(&s, WGPT_ERR_UNSUPPORTED, "unsupported architecture '\\x1b[2JX' (supported: llama, qwen2, qwen3, gpt2, gemma3)");
    s = tiny_default();
    s.extra = "x\x1b[31mRED-TENSOR\x1b[0m\x1b]0;PWNED\x07";
    expect_load_error(&s, WGPT_ERR_FORMAT,
                      "unexpected tensor 'x\\x1b[31mRED-TENSOR\\x1b[0m\\x1b]0;PWNED\\x07' (not part of the llama architecture)");
    s = tiny_default();
    s.tok_model = "\x1b]0;PWNED\x07";
    expect_load_error(&s, WGPT_ERR_FORMAT,
                      "tokenizer: unsupported tokenizer model '\\x1b]0;PWNED\\x07' (supported: llama, gpt2)");
    s = tiny_default();
    s.tok_model = "gpt2";
    s.pre = "evil\xe2\x80\xae\x1b[2J";
    expect_load_error(&s, WGPT_ERR_FORMAT,
                      "tokenizer: unsupported pre-tokenizer 'evil\\u{202e}\\x1b[2J' (tokenizer.ggml.pre)");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collect_before_submit),
        cmocka_unit_test(test_submit_twice_and_feed_in_flight),
        cmocka_unit_test(test_feed_nothing_and_submit_nothing),
        cmocka_unit_test(test_feed_past_context),
        cmocka_unit_test(test_logits_before_any_step),
        cmocka_unit_test(test_reset_in_flight),
        cmocka_unit_test(test_gpu_sampler_matches_cpu),
        cmocka_unit_test(test_null_handles),
        cmocka_unit_test(test_sampling_out_of_range_refused),
        cmocka_unit_test(test_nan_weights_refused),
        cmocka_unit_test(test_context_at_binding_limit),
        cmocka_unit_test(test_tokenizer_larger_than_vocab),
        cmocka_unit_test(test_padded_vocab_never_sampled),
        cmocka_unit_test(test_tokenizer_error_prefixed_once),
        cmocka_unit_test(test_head_size_error_names_file),
        cmocka_unit_test(test_missing_file_is_io),
        cmocka_unit_test(test_gpu_errors_do_not_blame_the_file),
        cmocka_unit_test(test_file_strings_escaped),
        cmocka_unit_test(test_batch_errors),
        cmocka_unit_test(test_batch_matches_alone),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
