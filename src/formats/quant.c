/* The activation side of the int8 products (quant.h): what the GPU's
 * matrix-matrix kernel does to a step's activations before the integer dot
 * products, written out for the CPU reference and the tests. The
 * dequantizers are in dtype.c's table. */
#include "formats/quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"
#include "util/util.h"

void quantize_act_q8_fake(const float *x, float *out, int64_t n) {
    for (int64_t b = 0; b + 32 <= n; b += 32) {
        float amax = 0.0f;
        for (int i = 0; i < 32; i++) {
            float a = fabsf(x[b + i]);
            if (a > amax) amax = a;
        }
        /* the scale 2^k, k the least with amax <= 127 2^k: amax = m 2^e
         * (m in [1, 2)) needs k = e - 6 while m <= 127/64, else e - 5 */
        float inv = 0.0f, d = 0.0f;
        if (amax >= 1e-30f) {
            int e;
            float m = 2.0f * frexpf(amax, &e); /* amax = m 2^(e-1) */
            int k = (m <= 127.0f / 64.0f) ? (e - 1) - 6 : (e - 1) - 5;
            inv = ldexpf(1.0f, -k);
            d = ldexpf(1.0f, k);
        }
        for (int i = 0; i < 32; i++) {
            /* q stays a float (an integer in [-127, 127]) so that a NaN
             * passes through instead of being cast to int */
            float q = nearbyintf(x[b + i] * inv);
            if (q > 127.0f) q = 127.0f;
            else if (q < -127.0f) q = -127.0f;
            out[b + i] = q * d;
        }
    }
}

int quant_int8_matmul(uint32_t ggml_type) {
    const char *on = getenv("WGPT_MATMUL_I8");
    int typed = ggml_type == GGML_TYPE_Q8_0 || ggml_type == GGML_TYPE_Q4_0 || ggml_type == GGML_TYPE_Q4_K ||
                ggml_type == GGML_TYPE_Q5_K || ggml_type == GGML_TYPE_Q6_K;
    return typed && !(on && !strcmp(on, "0"));
}
