#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "sampling/sampler.h"

#define DRAWS 20000

/* Everything off but what a test turns on. */
static wgpt_sampler_params plain(float temp) {
    wgpt_sampler_params p;
    sampler_params_default(&p);
    p.temperature = temp;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.repeat_penalty = 1.0f;
    p.seed = 1234;
    return p;
}

static void draw_counts(const wgpt_sampler_params *p, const float *logits, int n, int draws, int *counts) {
    sampler *s = sampler_create(p, n);
    assert_non_null(s);
    for (int i = 0; i < n; i++) counts[i] = 0;
    for (int i = 0; i < draws; i++) {
        int32_t t = sampler_sample(s, logits);
        assert_true(t >= 0 && t < n);
        counts[t]++;
    }
    sampler_free(s);
}

/* Five standard deviations of a binomial frequency, plus a floor. */
static void assert_freq(int count, int draws, double expect) {
    double f = (double)count / draws, tol = 5 * sqrt(expect * (1 - expect) / draws) + 1e-3;
    if (fabs(f - expect) > tol) fail_msg("frequency %.4f, expected %.4f +- %.4f", f, expect, tol);
}

static void test_defaults(void **state) {
    (void)state;
    wgpt_sampler_params p;
    sampler_params_default(&p);
    assert_true(p.temperature == 0.8f && p.top_k == 40 && p.top_p == 0.95f && p.min_p == 0.05f);
    assert_true(p.repeat_penalty == 1.0f && p.repeat_last_n == 64);
    assert_null(sampler_create(&p, 0));
    assert_null(sampler_create(NULL, 10));
}

static void test_greedy_lowest_index_on_ties(void **state) {
    (void)state;
    const float logits[] = {1, 5, 5, 2};
    for (uint64_t seed = 0; seed < 5; seed++) {
        wgpt_sampler_params p = plain(0.0f);
        p.seed = seed;
        p.top_k = 1; /* irrelevant to greedy; must not change the answer */
        sampler *s = sampler_create(&p, 4);
        for (int i = 0; i < 10; i++) assert_int_equal(sampler_sample(s, logits), 1);
        sampler_free(s);
    }
    const float neg[] = {-3, -2, -7};
    wgpt_sampler_params p = plain(-1.0f);
    sampler *s = sampler_create(&p, 3);
    assert_int_equal(sampler_sample(s, neg), 1);
    sampler_free(s);
}

static void test_top_k(void **state) {
    (void)state;
    const float logits[] = {1, 2, 3, 4};
    wgpt_sampler_params p = plain(1.0f);
    p.top_k = 2;
    int counts[4];
    draw_counts(&p, logits, 4, DRAWS, counts);
    assert_int_equal(counts[0] + counts[1], 0);
    /* softmax over {3, 4}: 1 / (1 + e) */
    assert_freq(counts[2], DRAWS, 0.268941);

    /* Ties at the cut go to the lower index. */
    const float tied[] = {1, 3, 3, 3};
    draw_counts(&p, tied, 4, 2000, counts);
    assert_int_equal(counts[0] + counts[3], 0);
    assert_true(counts[1] > 0 && counts[2] > 0);

    /* top_k beyond the vocabulary keeps everything. */
    p.top_k = 100;
    draw_counts(&p, logits, 4, 2000, counts);
    for (int i = 0; i < 4; i++) assert_true(counts[i] > 0);
}

static int cmp_desc(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

static void test_top_k_large_vocab(void **state) {
    (void)state;
    enum { N = 5000, K = 5 };
    static float logits[N], sorted[N];
    static int counts[N];
    srand(7);
    for (int i = 0; i < N; i++) sorted[i] = logits[i] = (float)rand() / RAND_MAX;
    qsort(sorted, N, sizeof *sorted, cmp_desc);
    wgpt_sampler_params p = plain(1.0f);
    p.top_k = K;
    draw_counts(&p, logits, N, 4000, counts);
    int seen = 0;
    for (int i = 0; i < N; i++) {
        if (logits[i] >= sorted[K - 1]) seen += counts[i] > 0;
        else assert_int_equal(counts[i], 0);
    }
    assert_int_equal(seen, K);
}

/* probabilities 0.5, 0.3, 0.15, 0.05 */
static void probs_logits(float *l) {
    l[0] = logf(0.5f); l[1] = logf(0.3f); l[2] = logf(0.15f); l[3] = logf(0.05f);
}

static void test_top_p(void **state) {
    (void)state;
    float logits[4];
    probs_logits(logits);
    wgpt_sampler_params p = plain(1.0f);
    int counts[4];
    /* cumulative 0.5, 0.8: 0.8 >= 0.75 keeps {0, 1} */
    p.top_p = 0.75f;
    draw_counts(&p, logits, 4, DRAWS, counts);
    assert_int_equal(counts[2] + counts[3], 0);
    assert_freq(counts[0], DRAWS, 0.5 / 0.8);
    /* cumulative 0.5, 0.8, 0.95: keeps {0, 1, 2} */
    p.top_p = 0.85f;
    draw_counts(&p, logits, 4, DRAWS, counts);
    assert_int_equal(counts[3], 0);
    assert_freq(counts[0], DRAWS, 0.5 / 0.95);
    assert_freq(counts[2], DRAWS, 0.15 / 0.95);
    /* p below the top probability still keeps one token */
    p.top_p = 0.1f;
    draw_counts(&p, logits, 4, 1000, counts);
    assert_int_equal(counts[0], 1000);
}

static void test_top_p_large_vocab_unsorted(void **state) {
    (void)state;
    /* tokens 700, 3, 500 hold 0.5, 0.3, 0.15; 997 others share 0.05 */
    enum { N = 1000 };
    static float logits[N];
    static int counts[N];
    for (int i = 0; i < N; i++) logits[i] = logf(0.05f / 997);
    logits[700] = logf(0.5f); logits[3] = logf(0.3f); logits[500] = logf(0.15f);
    wgpt_sampler_params p = plain(1.0f);
    p.top_p = 0.85f;
    draw_counts(&p, logits, N, DRAWS, counts);
    assert_int_equal(counts[700] + counts[3] + counts[500], DRAWS);
    assert_freq(counts[3], DRAWS, 0.3 / 0.95);
}

static void test_min_p(void **state) {
    (void)state;
    float logits[4];
    probs_logits(logits);
    wgpt_sampler_params p = plain(1.0f);
    int counts[4];
    /* threshold 0.2 * 0.5 = 0.1: drops only 0.05 */
    p.min_p = 0.2f;
    draw_counts(&p, logits, 4, DRAWS, counts);
    assert_int_equal(counts[3], 0);
    assert_true(counts[2] > 0);
    assert_freq(counts[1], DRAWS, 0.3 / 0.95);
    /* threshold 0.35 * 0.5 = 0.175: keeps 0.5 and 0.3 */
    p.min_p = 0.35f;
    draw_counts(&p, logits, 4, DRAWS, counts);
    assert_int_equal(counts[2] + counts[3], 0);
    assert_freq(counts[0], DRAWS, 0.5 / 0.8);
}

/* top-p judges untempered probabilities; temperature shapes only the draw.
 * At T = 0.1 token 1 keeps weight 0.3^10 / (0.5^10 + 0.3^10) = 0.006, and
 * tokens 2 and 3 must never appear although T alone would allow them. */
static void test_temperature_applies_after_cuts(void **state) {
    (void)state;
    float logits[4];
    probs_logits(logits);
    wgpt_sampler_params p = plain(0.1f);
    p.top_p = 0.75f;
    int counts[4];
    draw_counts(&p, logits, 4, DRAWS, counts);
    assert_int_equal(counts[2] + counts[3], 0);
    assert_freq(counts[1], DRAWS, 0.0060);
}

static void test_temperature_frequencies(void **state) {
    (void)state;
    /* softmax([1,2,3,4] / 0.5) = e^2, e^4, e^6, e^8 over 3446.3741 */
    const float logits[] = {1, 2, 3, 4};
    const double expect[] = {0.0021440, 0.0158422, 0.1170589, 0.8649549};
    wgpt_sampler_params p = plain(0.5f);
    int counts[4];
    draw_counts(&p, logits, 4, DRAWS, counts);
    for (int i = 0; i < 4; i++) assert_freq(counts[i], DRAWS, expect[i]);
}

static void test_repeat_penalty(void **state) {
    (void)state;
    wgpt_sampler_params p = plain(0.0f);
    p.repeat_penalty = 1.1f;
    /* positive logit divided: 2 / 1.1 = 1.818 < 1.9 */
    const float pos[] = {2.0f, 1.9f, -1.0f};
    sampler *s = sampler_create(&p, 3);
    assert_int_equal(sampler_sample(s, pos), 0);
    sampler_accept(s, 0);
    assert_int_equal(sampler_sample(s, pos), 1);
    sampler_free(s);
    /* negative logit multiplied: -1 * 1.1 = -1.1 < -1.05 */
    const float neg[] = {-1.0f, -1.05f, -5.0f};
    s = sampler_create(&p, 3);
    sampler_accept(s, 0);
    assert_int_equal(sampler_sample(s, neg), 1);
    sampler_free(s);
    /* once per distinct token: 3 / 1.5 = 2 > 1.9, but 3 / 1.5^2 = 1.33 would lose */
    p.repeat_penalty = 1.5f;
    const float once[] = {3.0f, 1.9f};
    s = sampler_create(&p, 2);
    sampler_accept(s, 0); sampler_accept(s, 0); sampler_accept(s, 0);
    assert_int_equal(sampler_sample(s, once), 0);
    sampler_free(s);
    /* only the last repeat_last_n tokens count */
    p.repeat_penalty = 1.1f;
    p.repeat_last_n = 2;
    s = sampler_create(&p, 3);
    sampler_accept(s, 0); sampler_accept(s, 2); sampler_accept(s, 2);
    assert_int_equal(sampler_sample(s, pos), 0);
    sampler_accept(s, 0);
    assert_int_equal(sampler_sample(s, pos), 1);
    /* reset forgets the history */
    sampler_reset(s);
    assert_int_equal(sampler_sample(s, pos), 0);
    sampler_free(s);
    /* repeat_last_n -1 looks at the whole history */
    p.repeat_last_n = -1;
    s = sampler_create(&p, 3);
    sampler_accept(s, 0);
    for (int i = 0; i < 500; i++) sampler_accept(s, 2);
    assert_int_equal(sampler_sample(s, pos), 1);
    sampler_free(s);
    /* repeat_last_n 0 turns it off */
    p.repeat_last_n = 0;
    s = sampler_create(&p, 3);
    sampler_accept(s, 0);
    assert_int_equal(sampler_sample(s, pos), 0);
    sampler_free(s);
}

/* The penalised logits feed the distribution: [2, 0] with penalty 2 on
 * token 0 becomes [1, 0], p0 = e / (e + 1); [0, -1] with token 1 penalised
 * becomes [0, -2], p0 = 1 / (1 + e^-2). */
static void test_repeat_penalty_distribution(void **state) {
    (void)state;
    wgpt_sampler_params p = plain(1.0f);
    p.repeat_penalty = 2.0f;
    int c0 = 0;
    const float a[] = {2.0f, 0.0f};
    sampler *s = sampler_create(&p, 2);
    sampler_accept(s, 0);
    for (int i = 0; i < DRAWS; i++) c0 += sampler_sample(s, a) == 0;
    assert_freq(c0, DRAWS, 0.731059);
    sampler_free(s);
    c0 = 0;
    const float b[] = {0.0f, -1.0f};
    s = sampler_create(&p, 2);
    sampler_accept(s, 1);
    for (int i = 0; i < DRAWS; i++) c0 += sampler_sample(s, b) == 0;
    assert_freq(c0, DRAWS, 0.880797);
    sampler_free(s);
}

static void draw_sequence(uint64_t seed, int32_t *out, int n) {
    const float logits[] = {0.1f, 0.5f, 0.2f, 0.9f, 0.4f, 0.3f, 0.0f, 0.6f};
    wgpt_sampler_params p;
    sampler_params_default(&p);
    p.seed = seed;
    sampler *s = sampler_create(&p, 8);
    for (int i = 0; i < n; i++) out[i] = sampler_sample(s, logits);
    sampler_free(s);
}

static void test_seed_reproducible(void **state) {
    (void)state;
    int32_t a[200], b[200], c[200];
    draw_sequence(42, a, 200);
    draw_sequence(42, b, 200);
    draw_sequence(43, c, 200);
    int same = 1, differ = 0;
    for (int i = 0; i < 200; i++) { same &= a[i] == b[i]; differ |= a[i] != c[i]; }
    assert_true(same);
    assert_true(differ);
    /* reset restarts the random stream */
    const float logits[] = {0.1f, 0.5f, 0.2f, 0.9f, 0.4f, 0.3f, 0.0f, 0.6f};
    wgpt_sampler_params p;
    sampler_params_default(&p);
    p.seed = 42;
    sampler *s = sampler_create(&p, 8);
    for (int i = 0; i < 50; i++) sampler_sample(s, logits);
    sampler_reset(s);
    for (int i = 0; i < 200; i++) assert_int_equal(sampler_sample(s, logits), a[i]);
    sampler_free(s);
}

static void test_masked_logits(void **state) {
    (void)state;
    const float logits[] = {-INFINITY, 2.0f, NAN, -INFINITY};
    wgpt_sampler_params p;
    sampler_params_default(&p);
    sampler *s = sampler_create(&p, 4);
    for (int i = 0; i < 100; i++) assert_int_equal(sampler_sample(s, logits), 1);
    sampler_free(s);
}

/* E8: ids past the tokenizer (a padded embedding) are never picked, though
 * they hold the largest logits. Among the allowed ids {0, 1, 2} with logits
 * {0, ln 2, ln 3} the draw follows softmax: 1/6, 2/6, 3/6. */
static void test_allow_only_masks_padded_ids(void **state) {
    (void)state;
    const float logits[] = {0.0f, logf(2.0f), logf(3.0f), 50.0f, 60.0f};
    wgpt_sampler_params p = plain(0.0f);
    sampler *s = sampler_create(&p, 5);
    assert_int_equal(sampler_sample(s, logits), 4); /* unmasked: the largest */
    sampler_allow_only(s, 3);
    assert_int_equal(sampler_sample(s, logits), 2);
    sampler_allow_only(s, 0); /* out of range: everything allowed again */
    assert_int_equal(sampler_sample(s, logits), 4);
    sampler_free(s);

    const wgpt_sampler_params variants[] = {plain(1.0f), plain(1.0f), plain(1.0f)};
    for (int v = 0; v < 3; v++) {
        wgpt_sampler_params q = variants[v];
        if (v == 1) q.top_k = 4;          /* top-k keeps a masked id: it must weigh nothing */
        if (v == 2) q.repeat_penalty = 2; /* the penalty must not revive a masked id */
        s = sampler_create(&q, 5);
        sampler_allow_only(s, 3);
        if (v == 2) sampler_accept(s, 4);
        int counts[5] = {0};
        for (int i = 0; i < DRAWS; i++) {
            int32_t t = sampler_sample(s, logits);
            assert_true(t >= 0 && t < 3);
            counts[t]++;
        }
        assert_freq(counts[0], DRAWS, 1.0 / 6);
        assert_freq(counts[1], DRAWS, 2.0 / 6);
        assert_freq(counts[2], DRAWS, 3.0 / 6);
        sampler_free(s);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allow_only_masks_padded_ids),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_greedy_lowest_index_on_ties),
        cmocka_unit_test(test_top_k),
        cmocka_unit_test(test_top_k_large_vocab),
        cmocka_unit_test(test_top_p),
        cmocka_unit_test(test_top_p_large_vocab_unsorted),
        cmocka_unit_test(test_min_p),
        cmocka_unit_test(test_temperature_applies_after_cuts),
        cmocka_unit_test(test_temperature_frequencies),
        cmocka_unit_test(test_repeat_penalty),
        cmocka_unit_test(test_repeat_penalty_distribution),
        cmocka_unit_test(test_seed_reproducible),
        cmocka_unit_test(test_masked_logits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
