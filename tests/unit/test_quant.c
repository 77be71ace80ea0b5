/* quantize_act_q8_fake (formats/quant.h), the "q8 activations" rule of the
 * GPU's int8 products, against values worked out by hand; and which weight
 * types take it (quant_int8_matmul). */
#include <math.h>
#include <stdlib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "formats/gguf.h"
#include "formats/quant.h"

/* Bit-exact comparison (so -0 and 0 are told apart only where asked). */
static void assert_floats(const float *got, const float *want, int n, const char *what) {
    for (int i = 0; i < n; i++)
        if (!(got[i] == want[i])) fail_msg("%s[%d] = %.9g, expected %.9g", what, i, got[i], want[i]);
}

/* amax 127 = 127 2^0: the scale is 1, so out = round-half-even(x). */
static void test_unit_scale_and_ties(void **state) {
    (void)state;
    float x[32] = {127, 2.5f, 3.5f, -2.5f, -3.5f, 0.5f, -0.5f, 1.5f, 126.4f, -127, 0.49f, 100.5f, -101.5f, 7};
    float want[32] = {127, 2, 4, -2, -4, 0, 0, 2, 126, -127, 0, 100, -102, 7};
    float out[32];
    quantize_act_q8_fake(x, out, 32);
    assert_floats(out, want, 32, "unit scale");
    assert_true(signbit(out[6]) != 0); /* -0.5 rounds to -0 */
}

/* amax 1, the largest magnitude negative: the least 2^k with 1 <= 127 2^k
 * is 2^-6, so q = round(64 x) and out = q / 64. */
static void test_negative_max(void **state) {
    (void)state;
    float x[32] = {0}, want[32] = {0};
    x[0] = 0.5f;    want[0] = 0.5f;      /* 32 */
    x[1] = -1.0f;   want[1] = -1.0f;     /* the max: -64 */
    x[2] = 0.25f;   want[2] = 0.25f;     /* 16 */
    x[3] = -0.1f;   want[3] = -6 / 64.0f; /* -6.4 -> -6 */
    x[4] = 3 / 128.0f; want[4] = 2 / 64.0f; /* 1.5: a tie, to even 2 */
    x[5] = 5 / 128.0f; want[5] = 2 / 64.0f; /* 2.5 -> 2 */
    x[6] = -5 / 128.0f; want[6] = -2 / 64.0f; /* -2.5 -> -2 */
    x[7] = 0.003f;  want[7] = 0;         /* 0.192 -> 0 */
    x[31] = 0.008f; want[31] = 1 / 64.0f; /* 0.512 -> 1 */
    float out[32];
    quantize_act_q8_fake(x, out, 32);
    assert_floats(out, want, 32, "negative max");
}

/* An all-zero block stays zero (no 0/0), next to a block of its own scale
 * (amax 16: 2^-2): blocks are quantized independently. In place. */
static void test_zero_block_in_place(void **state) {
    (void)state;
    float x[64] = {0}, want[64] = {0};
    x[5] = -0.0f;
    for (int i = 32; i < 64; i++) x[i] = want[i] = (float)(i - 48); /* -16 .. 15: exact in quarters */
    x[40] = 0.3f;   want[40] = 0.25f; /* 1.2 -> 1 */
    x[41] = 0.375f; want[41] = 0.5f;  /* 1.5 -> 2 */
    x[42] = 0.625f; want[42] = 0.5f;  /* 2.5 -> 2 */
    quantize_act_q8_fake(x, x, 64);
    assert_floats(x, want, 64, "zero block, then amax 16");
    for (int i = 0; i < 32; i++) assert_true(x[i] == 0 && !isnan(x[i]));
}

/* The scale is the least power of two 2^k with amax <= 127 2^k: at
 * amax = 127/64 it is 2^-6 (q 127), just above it 2^-5 (q 64); 2 and
 * 127/32 take 2^-5 too. A block with amax under 1e-30 is all zeros; a NaN
 * stays NaN. */
static void test_scale_boundaries(void **state) {
    (void)state;
    const float at = 127 / 64.0f, above = nextafterf(at, 4);
    const float amaxes[4] = {at, above, 2, 127 / 32.0f}, want[4] = {at, 2, 2, 127 / 32.0f};
    for (int j = 0; j < 4; j++) {
        float x[32] = {amaxes[j], 1 / 64.0f, 3 / 64.0f}, out[32];
        quantize_act_q8_fake(x, out, 32);
        if (!(out[0] == want[j])) fail_msg("amax %.9g -> %.9g, expected %.9g", amaxes[j], out[0], want[j]);
        /* 1/64 and 3/64 are exact at 2^-6; at 2^-5 they are 0.5 and 1.5 steps, to even: 0 and 2/32 */
        assert_true(out[1] == (j == 0 ? 1 / 64.0f : 0) && out[2] == (j == 0 ? 3 / 64.0f : 2 / 32.0f));
    }
    float tiny[32] = {1e-31f, -5e-31f}, out[32];
    quantize_act_q8_fake(tiny, out, 32);
    for (int i = 0; i < 32; i++) assert_true(out[i] == 0);
    float nan_block[32] = {NAN, 1.0f}, out2[32];
    quantize_act_q8_fake(nan_block, out2, 32);
    assert_true(isnan(out2[0]) && out2[1] == 1.0f);
}

static void test_int8_types(void **state) {
    (void)state;
    unsetenv("WGPT_MATMUL_I8"); /* on by default, off with 0 */
    const uint32_t int8[] = {GGML_TYPE_Q8_0, GGML_TYPE_Q4_0, GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K};
    for (size_t i = 0; i < sizeof int8 / sizeof *int8; i++) assert_int_equal(quant_int8_matmul(int8[i]), 1);
    setenv("WGPT_MATMUL_I8", "0", 1);
    for (size_t i = 0; i < sizeof int8 / sizeof *int8; i++) assert_int_equal(quant_int8_matmul(int8[i]), 0);
    setenv("WGPT_MATMUL_I8", "1", 1);
    for (size_t i = 0; i < sizeof int8 / sizeof *int8; i++) assert_int_equal(quant_int8_matmul(int8[i]), 1);
    const uint32_t others[] = {GGML_TYPE_F32,  GGML_TYPE_F16,  GGML_TYPE_Q4_1, GGML_TYPE_Q5_0,
                               GGML_TYPE_Q5_1, GGML_TYPE_Q8_1, 30 /* BF16 */,  9999};
    for (size_t i = 0; i < sizeof others / sizeof *others; i++) assert_int_equal(quant_int8_matmul(others[i]), 0);
    unsetenv("WGPT_MATMUL_I8");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unit_scale_and_ties),
        cmocka_unit_test(test_negative_max),
        cmocka_unit_test(test_zero_block_in_place),
        cmocka_unit_test(test_scale_boundaries),
        cmocka_unit_test(test_int8_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
