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

#endif
