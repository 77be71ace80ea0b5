/* wgpt_rewind, on which wgpt chat's cache reuse rests: a context rewound
 * to k tokens and fed more gives the logits of a fresh context fed the same
 * k tokens and the same more (so nothing of the forgotten tokens is left in
 * the KV cache), whether k falls in the cache or among queued tokens; and
 * its misuse gives the documented statuses. On the default model (real
 * weights: a stale token would move the logits well past the tolerance). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "wgpt.h"

static wgpt_model *g_model;

static int setup(void **st) {
    (void)st;
    wgpt_model_params p;
    wgpt_model_params_default(&p);
    char err[512];
    if (wgpt_model_load("models/default.gguf", &p, &g_model, err, sizeof err) != WGPT_OK) {
        fprintf(stderr, "loading models/default.gguf: %s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **st) {
    (void)st;
    wgpt_model_free(g_model);
    return 0;
}

static wgpt_context *ctx(void) {
    wgpt_context_params cp;
    wgpt_context_params_default(&cp);
    cp.n_ctx = 128;
    cp.n_batch = 16;
    cp.sampling.temperature = 0;
    wgpt_context *c = NULL;
    char err[512];
    assert_int_equal(wgpt_context_create(g_model, &cp, &c, err, sizeof err), WGPT_OK);
    return c;
}

static int32_t *tok(const char *text, size_t *n) {
    int32_t *ids = NULL;
    char err[256];
    assert_int_equal(wgpt_tokenize(g_model, text, strlen(text), 1, 0, &ids, n, err, sizeof err), WGPT_OK);
    return ids;
}

/* Feeds ids, runs the step; the last position's logits (a copy) and the token. */
static float *step(wgpt_context *c, const int32_t *ids, size_t n, int32_t *token) {
    if (n) assert_int_equal(wgpt_feed(c, ids, n), WGPT_OK);
    assert_int_equal(wgpt_step_submit(c), WGPT_OK);
    assert_int_equal(wgpt_step_collect(c, 1, token), WGPT_OK);
    int rows = 0;
    const float *l = wgpt_logits(c, &rows);
    assert_int_equal(rows, 1);
    size_t V = (size_t)wgpt_model_n_vocab(g_model);
    float *copy = malloc(V * sizeof *copy);
    assert_non_null(copy);
    memcpy(copy, l, V * sizeof *copy);
    return copy;
}

static void same_logits(const float *a, const float *b) {
    size_t V = (size_t)wgpt_model_n_vocab(g_model);
    float worst = 0;
    for (size_t i = 0; i < V; i++) worst = fmaxf(worst, fabsf(a[i] - b[i]));
    if (worst > 1e-3f) fail_msg("logits differ by %g", worst);
}

static void test_rewind_into_cache(void **st) {
    (void)st;
    size_t n1, n2, n3;
    int32_t *a = tok("And God said, Let there be light: and there was light.", &n1);
    int32_t *b = tok("And the evening and the morning were the first day.", &n2);
    int32_t *d = tok("Blessed are the meek: for they shall inherit the earth.", &n3);
    int32_t t;
    wgpt_context *c = ctx(), *fresh = ctx();
    free(step(c, a, n1, &t));
    /* the sampled t went in before b (without its BOS); the next t is queued */
    free(step(c, b + 1, n2 - 1, &t));
    assert_int_equal(wgpt_context_pos(c), (int)(n1 + n2));
    size_t k = n1 - 3; /* inside the first part: the cache keeps k tokens */
    assert_int_equal(wgpt_rewind(c, (int)k), WGPT_OK);
    assert_int_equal(wgpt_context_pos(c), (int)k);
    int32_t t1, t2;
    float *l1 = step(c, d + 1, n3 - 1, &t1);
    int32_t *both = malloc((k + n3 - 1) * sizeof *both);
    memcpy(both, a, k * sizeof *both);
    memcpy(both + k, d + 1, (n3 - 1) * sizeof *both);
    float *l2 = step(fresh, both, k + n3 - 1, &t2);
    same_logits(l1, l2);
    assert_int_equal(t1, t2);
    free(l1);
    free(l2);
    free(both);
    wgpt_context_free(c);
    wgpt_context_free(fresh);
    wgpt_free(a);
    wgpt_free(b);
    wgpt_free(d);
}

static void test_rewind_among_queued(void **st) {
    (void)st;
    size_t n1, n3;
    int32_t *a = tok("In the beginning God created the heaven and the earth.", &n1);
    int32_t *d = tok("Amen.", &n3);
    int32_t t, t1, t2;
    wgpt_context *c = ctx(), *fresh = ctx();
    free(step(c, a, n1, &t)); /* t is queued: pos n1, one more held */
    assert_int_equal(wgpt_context_pos(c), (int)n1);
    /* keep the queued token: it goes in with what is fed next */
    assert_int_equal(wgpt_rewind(c, (int)n1 + 1), WGPT_OK);
    float *l1 = step(c, d + 1, n3 - 1, &t1);
    int32_t *seq = malloc((n1 + n3) * sizeof *seq);
    memcpy(seq, a, n1 * sizeof *seq);
    seq[n1] = t;
    memcpy(seq + n1 + 1, d + 1, (n3 - 1) * sizeof *seq);
    float *l2 = step(fresh, seq, n1 + n3, &t2);
    same_logits(l1, l2);
    assert_int_equal(t1, t2);
    free(l1);
    free(l2);
    /* and drop it: the same as never having had it */
    wgpt_reset(fresh);
    assert_int_equal(wgpt_rewind(c, (int)n1), WGPT_OK);
    l1 = step(c, d + 1, n3 - 1, &t1);
    memcpy(seq + n1, d + 1, (n3 - 1) * sizeof *seq);
    l2 = step(fresh, seq, n1 + n3 - 1, &t2);
    same_logits(l1, l2);
    free(l1);
    free(l2);
    free(seq);
    wgpt_context_free(c);
    wgpt_context_free(fresh);
    wgpt_free(a);
    wgpt_free(d);
}

static void test_rewind_misuse(void **st) {
    (void)st;
    size_t n;
    int32_t *a = tok("And God said", &n);
    wgpt_context *c = ctx();
    assert_int_equal(wgpt_rewind(NULL, 0), WGPT_ERR_ARG);
    assert_int_equal(wgpt_rewind(c, 0), WGPT_OK);
    assert_int_equal(wgpt_rewind(c, 1), WGPT_ERR_ARG);
    assert_non_null(strstr(wgpt_errmsg(c), "wgpt_rewind"));
    assert_int_equal(wgpt_feed(c, a, n), WGPT_OK);
    assert_int_equal(wgpt_rewind(c, -1), WGPT_ERR_ARG);
    assert_int_equal(wgpt_rewind(c, (int)n + 1), WGPT_ERR_ARG);
    assert_int_equal(wgpt_step_submit(c), WGPT_OK);
    assert_int_equal(wgpt_rewind(c, 1), WGPT_ERR_STATE);
    int32_t t;
    assert_int_equal(wgpt_step_collect(c, 1, &t), WGPT_OK);
    assert_int_equal(wgpt_rewind(c, 2), WGPT_OK);
    assert_int_equal(wgpt_context_pos(c), 2);
    wgpt_context_free(c);
    wgpt_free(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rewind_into_cache),
        cmocka_unit_test(test_rewind_among_queued),
        cmocka_unit_test(test_rewind_misuse),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
