/* CPU dequantization of ggml tensor data to f32, bit-exact with ggml's
 * reference dequantize_row_* routines. Used by the CPU reference forward, by
 * loaders that upload f32/f16 to the GPU, and by tests. Each type's
 * dequantizer is found in formats/dtype.c's table. */
#ifndef WGPT_QUANT_H
#define WGPT_QUANT_H

#include <stdint.h>

/* Dequantizes n consecutive elements (a row, or several) of ggml type
 * ggml_type from src into dst. n must be a multiple of the type's block size;
 * src need not be aligned. Supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1,
 * Q8_0, Q8_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K. Returns 0, or -1 for an
 * unsupported type or a bad n (nothing is written then). */
int dequantize_row(uint32_t ggml_type, const void *src, float *dst, int64_t n);

/* 1 if dequantize_row handles ggml_type, else 0. */
int dequantize_supported(uint32_t ggml_type);

/* "q8 activations": x quantized to 8 bits the way the GPU's integer
 * matrix-matrix kernel (matmul_i8.wgsl) takes a step's activations, and
 * handed back as floats. For each block of 32 values: amax = max |x_i|; the
 * scale is 2^k, k the least integer with amax <= 127 2^k (llama.cpp takes
 * amax / 127: a power of two makes x / 2^k and the scale exact in f32 on
 * every adapter, so the GPU and this agree bit for bit; a block with amax
 * under 1e-30 is all 0s); q_i = nearbyintf(x_i / 2^k) (round half to even),
 * within [-127, 127]; out_i = q_i 2^k. Then sum_i w_i * out_i over a weight
 * row dequantized to f32 is what the GPU's int8 path computes, up to float
 * rounding of the final sums. n must be a multiple of 32 (a row of a
 * matrix, or several rows back to back, each quantized on its own as its
 * blocks never straddle rows); out may equal x. A NaN stays NaN; a block
 * holding an infinity becomes NaN. */
void quantize_act_q8_fake(const float *x, float *out, int64_t n);

/* 1 for the weight types whose products in steps of several tokens take
 * q8 activations (quantize_act_q8_fake) on the GPU: Q8_0, Q4_0, Q4_K, Q5_K and
 * Q6_K (each with a matmul_i8.wgsl snippet, mmi8_TYPE.wgsl), unless
 * WGPT_MATMUL_I8=0 is in the environment (read at each call: set it before
 * a model or kernel registry is made), which keeps every product f32; else
 * 0. llama.cpp multiplies these types the same way (its scale is amax / 127,
 * ours a power of two; for the K-quants it quantizes x per 256 on the
 * CPU). One-token steps (the matrix-vector kernels) keep f32 activations. */
int quant_int8_matmul(uint32_t ggml_type);

#endif
