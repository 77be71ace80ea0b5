/* The table of tensor types (dtype.h), and what it points to: scalar ports
 * of ggml's reference dequantizers (ggml-quants.c) and the repacking of a
 * block for the GPU. The dequantizers keep ggml's operand order and types so
 * results match it bit for bit; blocks are read byte-wise because tensor
 * data in a GGUF is only aligned to the file's alignment, not to the block
 * structs' fields. */
#include "formats/dtype.h"

#include <stdio.h>
#include <string.h>

#include "formats/gguf.h"
#include "formats/onnx.h"
#include "formats/quant.h"
#include "util/util.h"

#define QK_K 256

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static float h2f(const uint8_t *p) { return f16_to_f32(rd16(p)); }

/* block_q4_0 { f16 d; u8 qs[16]; } */
static void dq_q4_0(const uint8_t *b, float *y) {
    const float d = h2f(b);
    const uint8_t *qs = b + 2;
    for (int j = 0; j < 16; j++) {
        const int x0 = (qs[j] & 0x0F) - 8;
        const int x1 = (qs[j] >> 4) - 8;
        y[j] = x0 * d;
        y[j + 16] = x1 * d;
    }
}

/* block_q4_1 { f16 d; f16 m; u8 qs[16]; } */
static void dq_q4_1(const uint8_t *b, float *y) {
    const float d = h2f(b), m = h2f(b + 2);
    const uint8_t *qs = b + 4;
    for (int j = 0; j < 16; j++) {
        const int x0 = qs[j] & 0x0F;
        const int x1 = qs[j] >> 4;
        y[j] = x0 * d + m;
        y[j + 16] = x1 * d + m;
    }
}

/* block_q5_0 { f16 d; u8 qh[4]; u8 qs[16]; } */
static void dq_q5_0(const uint8_t *b, float *y) {
    const float d = h2f(b);
    const uint32_t qh = rd32(b + 2);
    const uint8_t *qs = b + 6;
    for (int j = 0; j < 16; j++) {
        const uint8_t xh_0 = (uint8_t)(((qh >> (j + 0)) << 4) & 0x10);
        const uint8_t xh_1 = (uint8_t)((qh >> (j + 12)) & 0x10);
        const int32_t x0 = ((qs[j] & 0x0F) | xh_0) - 16;
        const int32_t x1 = ((qs[j] >> 4) | xh_1) - 16;
        y[j] = x0 * d;
        y[j + 16] = x1 * d;
    }
}

/* block_q5_1 { f16 d; f16 m; u8 qh[4]; u8 qs[16]; } */
static void dq_q5_1(const uint8_t *b, float *y) {
    const float d = h2f(b), m = h2f(b + 2);
    const uint32_t qh = rd32(b + 4);
    const uint8_t *qs = b + 8;
    for (int j = 0; j < 16; j++) {
        const uint8_t xh_0 = (uint8_t)(((qh >> (j + 0)) << 4) & 0x10);
        const uint8_t xh_1 = (uint8_t)((qh >> (j + 12)) & 0x10);
        const int x0 = (qs[j] & 0x0F) | xh_0;
        const int x1 = (qs[j] >> 4) | xh_1;
        y[j] = x0 * d + m;
        y[j + 16] = x1 * d + m;
    }
}

/* block_q8_0 { f16 d; i8 qs[32]; }; block_q8_1 adds f16 s (d*sum) after d. */
static void dq_q8(const uint8_t *b, const uint8_t *qs, float *y) {
    const float d = h2f(b);
    for (int j = 0; j < 32; j++) y[j] = (int8_t)qs[j] * d;
}

/* 6-bit scale and min j of the 12 packed bytes shared by Q4_K and Q5_K. */
static void get_scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
    }
}

/* block_q2_K { u8 scales[16]; u8 qs[64]; f16 d; f16 dmin; } */
static void dq_q2_K(const uint8_t *b, float *y) {
    const uint8_t *scales = b, *q = b + 16;
    const float d = h2f(b + 80), min = h2f(b + 82);
    int is = 0;
    for (int n = 0; n < QK_K; n += 128) {
        int shift = 0;
        for (int j = 0; j < 4; ++j) {
            uint8_t sc = scales[is++];
            float dl = d * (sc & 0xF), ml = min * (sc >> 4);
            for (int l = 0; l < 16; ++l) *y++ = dl * ((int8_t)((q[l] >> shift) & 3)) - ml;
            sc = scales[is++];
            dl = d * (sc & 0xF);
            ml = min * (sc >> 4);
            for (int l = 0; l < 16; ++l) *y++ = dl * ((int8_t)((q[l + 16] >> shift) & 3)) - ml;
            shift += 2;
        }
        q += 32;
    }
}

/* block_q3_K { u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d; } */
static void dq_q3_K(const uint8_t *b, float *y) {
    const uint8_t *hm = b, *q = b + 32, *s = b + 96;
    const float d_all = h2f(b + 108);
    /* 16 6-bit scales: low 4 bits in s[0..7] (two per byte), high 2 bits in s[8..11]. */
    int8_t scales[16];
    for (int j = 0; j < 16; j++) {
        int lo = j < 8 ? (s[j] & 0xF) : (s[j - 8] >> 4);
        int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
        scales[j] = (int8_t)(lo | hi << 4);
    }
    int is = 0;
    uint8_t m = 1;
    for (int n = 0; n < QK_K; n += 128) {
        int shift = 0;
        for (int j = 0; j < 4; ++j) {
            float dl = d_all * (scales[is++] - 32);
            for (int l = 0; l < 16; ++l)
                *y++ = dl * ((int8_t)((q[l + 0] >> shift) & 3) - ((hm[l + 0] & m) ? 0 : 4));
            dl = d_all * (scales[is++] - 32);
            for (int l = 0; l < 16; ++l)
                *y++ = dl * ((int8_t)((q[l + 16] >> shift) & 3) - ((hm[l + 16] & m) ? 0 : 4));
            shift += 2;
            m = (uint8_t)(m << 1);
        }
        q += 32;
    }
}

/* block_q4_K { f16 d; f16 dmin; u8 scales[12]; u8 qs[128]; } */
static void dq_q4_K(const uint8_t *b, float *y) {
    const float d = h2f(b), min = h2f(b + 2);
    const uint8_t *scales = b + 4, *q = b + 16;
    int is = 0;
    uint8_t sc, m;
    for (int j = 0; j < QK_K; j += 64) {
        get_scale_min_k4(is + 0, scales, &sc, &m);
        const float d1 = d * sc, m1 = min * m;
        get_scale_min_k4(is + 1, scales, &sc, &m);
        const float d2 = d * sc, m2 = min * m;
        for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xF) - m1;
        for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
        q += 32;
        is += 2;
    }
}

/* block_q5_K { f16 d; f16 dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]; } */
static void dq_q5_K(const uint8_t *b, float *y) {
    const float d = h2f(b), min = h2f(b + 2);
    const uint8_t *scales = b + 4, *qh = b + 16, *ql = b + 48;
    int is = 0;
    uint8_t sc, m, u1 = 1, u2 = 2;
    for (int j = 0; j < QK_K; j += 64) {
        get_scale_min_k4(is + 0, scales, &sc, &m);
        const float d1 = d * sc, m1 = min * m;
        get_scale_min_k4(is + 1, scales, &sc, &m);
        const float d2 = d * sc, m2 = min * m;
        for (int l = 0; l < 32; ++l) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
        for (int l = 0; l < 32; ++l) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
        ql += 32;
        is += 2;
        u1 = (uint8_t)(u1 << 2);
        u2 = (uint8_t)(u2 << 2);
    }
}

/* block_q6_K { u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d; } */
static void dq_q6_K(const uint8_t *b, float *y) {
    const uint8_t *ql = b, *qh = b + 128;
    const int8_t *sc = (const int8_t *)(b + 192);
    const float d = h2f(b + 208);
    for (int n = 0; n < QK_K; n += 128) {
        for (int l = 0; l < 32; ++l) {
            int is = l / 16;
            const int8_t q1 = (int8_t)((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
            const int8_t q2 = (int8_t)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int8_t q3 = (int8_t)((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int8_t q4 = (int8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            y[l + 0] = d * sc[is + 0] * q1;
            y[l + 32] = d * sc[is + 2] * q2;
            y[l + 64] = d * sc[is + 4] * q3;
            y[l + 96] = d * sc[is + 6] * q4;
        }
        y += 128;
        ql += 64;
        qh += 32;
        sc += 8;
    }
}

/* block_q8_K { f32 d; i8 qs[256]; i16 bsums[16]; } */
static void dq_q8_K(const uint8_t *b, float *y) {
    uint32_t bits = rd32(b);
    float d;
    memcpy(&d, &bits, 4);
    for (int j = 0; j < QK_K; ++j) y[j] = d * (int8_t)b[4 + j];
}

/* ---- whole runs of blocks ---- */

/* The plain float types are one-element blocks: their own loops, rather
 * than a call per element. */
static void dq_f32(const uint8_t *s, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint32_t bits = rd32(s + 4 * i);
        memcpy(y + i, &bits, 4);
    }
}
static void dq_f16(const uint8_t *s, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = f16_to_f32(rd16(s + 2 * i));
}
static void dq_bf16(const uint8_t *s, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = bf16_to_f32(rd16(s + 2 * i));
}

static void dq_q8_0(const uint8_t *b, float *y) { dq_q8(b, b + 2, y); }
static void dq_q8_1(const uint8_t *b, float *y) { dq_q8(b, b + 4, y); }

/* fn over n blocks of the given size */
#define BLOCKS(fn, bytes, elems)                                                   \
    static void fn##_n(const uint8_t *s, float *y, int64_t n) {                   \
        for (int64_t i = 0; i < n; i++) fn(s + i * (bytes), y + i * (elems));      \
    }
BLOCKS(dq_q4_0, 18, 32)
BLOCKS(dq_q4_1, 20, 32)
BLOCKS(dq_q5_0, 22, 32)
BLOCKS(dq_q5_1, 24, 32)
BLOCKS(dq_q8_0, 34, 32)
BLOCKS(dq_q8_1, 36, 32)
BLOCKS(dq_q2_K, 84, QK_K)
BLOCKS(dq_q3_K, 110, QK_K)
BLOCKS(dq_q4_K, 144, QK_K)
BLOCKS(dq_q5_K, 176, QK_K)
BLOCKS(dq_q6_K, 210, QK_K)
BLOCKS(dq_q8_K, 292, QK_K)

/* For the GPU, a block that starts with an f16 scale loses it to the scale
 * plane (dtype.h), the scale's bits kept as they are; the rest of the block
 * (Q8_0's 32 signed bytes, Q4_0's 16 bytes of nibbles) goes to the quant
 * plane unchanged. */
static void repack_f16_scale(const dtype_info *t, const uint8_t *src, uint8_t *q, uint8_t *s, int64_t n) {
    for (int64_t b = 0; b < n; b++, src += t->block_bytes, q += t->gpu_bytes, s += 2) {
        memcpy(s, src, 2);
        memcpy(q, src + 2, t->gpu_bytes);
    }
}

/* The K-quants keep ggml's super-blocks of 256 as eight blocks of 32 in the
 * quant plane, each in Q4_0's nibble order (element i in the low nibble of
 * byte i, element i + 16 in the high one; kernels/mvfmt_q4_0.wgsl), so the
 * kernels unpack them as Q4_0's. Q5_K's fifth bits follow as one word a
 * block, Q6_K's top two bits as two: the bits of the element in nibble s
 * (bit 4s) of quant word k (0..3) at bit 4s + k (Q5_K), at bits
 * 4s + 2(k & 1), in high word k / 2 (Q6_K), so that a kernel shifting a
 * quant word to a nibble finds that nibble's high bits by the same shift
 * (kernels/kquant.wgsl). v: the super-block's 256 unsigned quants (Q6_K's
 * before its - 32), in ggml's element order. */
static void pack_k(const uint8_t *v, int hi_bits, uint8_t *q) {
    for (int b = 0; b < 8; b++, v += 32) {
        uint32_t h[2] = {0, 0};
        for (int i = 0; i < 16; i++) q[i] = (uint8_t)((v[i] & 15) | (v[i + 16] & 15) << 4);
        for (int e = 0; e < 32; e++) {
            int byte = e & 15, k = byte >> 2, s = 2 * (byte & 3) + (e >> 4);
            uint32_t top = (uint32_t)(v[e] >> 4);
            if (hi_bits == 1) h[0] |= top << (4 * s + k);
            if (hi_bits == 2) h[k >> 1] |= top << (4 * s + 2 * (k & 1));
        }
        for (int w = 0; w < hi_bits; w++)
            for (int i = 0; i < 4; i++) q[16 + 4 * w + i] = (uint8_t)(h[w] >> (8 * i));
        q += 16 + 4 * hi_bits;
    }
}

/* Q4_K, Q5_K: d and dmin, ggml's first 4 bytes, then the eight blocks'
 * 6-bit scales and mins (get_scale_min_k4) rearranged in the other 12
 * bytes so that a kernel reaches block b's pair with two shifts and two
 * masks (kquant.wgsl's k4_dm), where ggml's layout takes each field apart
 * two ways and selects: word 1 (blocks 0-3) and word 2 (blocks 4-7) hold
 * the low nibbles, the scale's at bit 4(b % 4), the min's 16 above it;
 * word 3 the top two bits, the scale's at bit 2b, the min's 16 above. The
 * quants, as pack_k says. */
static void repack_q45_K(const dtype_info *t, const uint8_t *src, uint8_t *q, uint8_t *s, int64_t n) {
    const int five = t->id == GGML_TYPE_Q5_K;
    for (int64_t b = 0; b < n; b++, src += t->block_bytes, q += 8 * t->gpu_bytes, s += 16) {
        const uint8_t *qh = src + 16, *ql = src + (five ? 48 : 16);
        uint8_t v[QK_K];
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++) {
                v[64 * c + l] = (uint8_t)((ql[32 * c + l] & 15) | (five ? ((qh[l] >> (2 * c)) & 1) << 4 : 0));
                v[64 * c + 32 + l] = (uint8_t)((ql[32 * c + l] >> 4) | (five ? ((qh[l] >> (2 * c + 1)) & 1) << 4 : 0));
            }
        uint32_t w[3] = {0, 0, 0};
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            get_scale_min_k4(j, src + 4, &sc, &m);
            w[j >> 2] |= (uint32_t)(sc & 15) << (4 * (j & 3)) | (uint32_t)(m & 15) << (16 + 4 * (j & 3));
            w[2] |= (uint32_t)(sc >> 4) << (2 * j) | (uint32_t)(m >> 4) << (16 + 2 * j);
        }
        memcpy(s, src, 4);
        for (int i = 0; i < 12; i++) s[4 + i] = (uint8_t)(w[i >> 2] >> (8 * (i & 3)));
        pack_k(v, five, q);
    }
}

/* Q6_K: the 16 signed scales plus 128 (so unsigned), then d and two bytes
 * of padding, to the scale plane (20 bytes); each word holds two blocks'
 * four scales, their low nibbles' in bytes 0 and 1, their high ones' in 2
 * and 3, so that a kernel shifts a block's pair into two f16 lanes at once
 * (kquant.wgsl's k6_unit). The quants, as pack_k says. */
static void repack_q6_K(const dtype_info *t, const uint8_t *src, uint8_t *q, uint8_t *s, int64_t n) {
    for (int64_t b = 0; b < n; b++, src += t->block_bytes, q += 8 * t->gpu_bytes, s += 20) {
        const uint8_t *ql = src, *qh = src + 128;
        uint8_t v[QK_K];
        for (int h = 0; h < 2; h++)
            for (int l = 0; l < 32; l++) {
                const uint8_t *L = ql + 64 * h, *H = qh + 32 * h;
                uint8_t *y = v + 128 * h;
                y[l] = (uint8_t)((L[l] & 15) | ((H[l] >> 0) & 3) << 4);
                y[l + 32] = (uint8_t)((L[l + 32] & 15) | ((H[l] >> 2) & 3) << 4);
                y[l + 64] = (uint8_t)((L[l] >> 4) | ((H[l] >> 4) & 3) << 4);
                y[l + 96] = (uint8_t)((L[l + 32] >> 4) | ((H[l] >> 6) & 3) << 4);
            }
        for (int i = 0; i < 16; i++) s[i] = (uint8_t)(src[192 + (i & ~3) + ((i & 1) << 1) + ((i >> 1) & 1)] ^ 0x80);
        memcpy(s + 16, src + 208, 2);
        s[18] = s[19] = 0;
        pack_k(v, 2, q);
    }
}

/* wgpt's onnx_q4 (formats/onnx.h: MatMulNBits' blocks of 32 with an f32
 * scale and a zero point): { f32 d; u8 z; u8 pad[3]; u8 qs[16] }, the
 * nibbles in Q4_0's order; (q - z) * d, as onnxruntime computes it. */
static void dq_onnx_q4(const uint8_t *b, float *y) {
    uint32_t bits = rd32(b);
    float d;
    memcpy(&d, &bits, 4);
    const int z = b[4];
    const uint8_t *qs = b + 8;
    for (int j = 0; j < 16; j++) {
        y[j] = (float)((qs[j] & 0x0F) - z) * d;
        y[j + 16] = (float)((qs[j] >> 4) - z) * d;
    }
}
BLOCKS(dq_onnx_q4, ONNX_WGPT_Q4_BLOCK, 32)

/* onnx_q4 for the GPU: the quants as they are, then d and z as two f32 in
 * the scale plane (kernels/wfmt_onnx_q4.wgsl). */
static void repack_onnx_q4(const dtype_info *t, const uint8_t *src, uint8_t *q, uint8_t *s, int64_t n) {
    (void)t;
    for (int64_t b = 0; b < n; b++, src += ONNX_WGPT_Q4_BLOCK, q += 16, s += 8) {
        float z = (float)src[4];
        memcpy(s, src, 4);
        memcpy(s + 4, &z, 4);
        memcpy(q, src + 8, 16);
    }
}

/* ---- the table ----
 * ggml's numbering, names and block geometry (ggml.c type_traits). Types
 * wgpt cannot compute with are listed all the same, so that files using
 * them parse and can be inspected. Ids 4, 5 and 31..33 were retired by
 * ggml and are unknown. gpu: the slot and snippet of the types the kernels
 * read; the bytes 32 elements take in the quant plane, those a block takes
 * in the scale plane after it (0: none), and the repacking (NULL: copied).
 * On the GPU Q4_K and Q5_K take their file's 4.5 and 5.5 bits a weight,
 * Q6_K 6.625 (6.5625 in the file: its scale plane pads 18 bytes to 20).
 * onnx_q4 is wgpt's own, numbered past ggml's (ONNX_WGPT_Q4): 6 bits a
 * weight in memory, 4 + 2 of f32 scale and zero point on the GPU. */
#define CPU(id, name, be, bb, dq) {id, name, be, bb, dq, -1, NULL, 0, 0, NULL}
#define NONE(id, name, be, bb) CPU(id, name, be, bb, NULL)
static const dtype_info dtypes[] = {
    {0, "f32", 1, 4, dq_f32, 0, "wfmt_f32.wgsl", 128, 0, NULL},
    {1, "f16", 1, 2, dq_f16, 1, "wfmt_f16.wgsl", 64, 0, NULL},
    {8, "q8_0", 32, 34, dq_q8_0_n, 2, "wfmt_q8_0.wgsl", 32, 2, repack_f16_scale},
    {2, "q4_0", 32, 18, dq_q4_0_n, 3, "wfmt_q4_0.wgsl", 16, 2, repack_f16_scale},
    {30, "bf16", 1, 2, dq_bf16, 4, "wfmt_bf16.wgsl", 64, 0, NULL},
    {12, "q4_K", 256, 144, dq_q4_K_n, 5, "wfmt_q4_K.wgsl", 16, 16, repack_q45_K},
    {13, "q5_K", 256, 176, dq_q5_K_n, 6, "wfmt_q5_K.wgsl", 20, 16, repack_q45_K},
    {14, "q6_K", 256, 210, dq_q6_K_n, 7, "wfmt_q6_K.wgsl", 24, 20, repack_q6_K},
    {ONNX_WGPT_Q4, "onnx_q4", 32, ONNX_WGPT_Q4_BLOCK, dq_onnx_q4_n, 8, "wfmt_onnx_q4.wgsl", 16, 8, repack_onnx_q4},
    CPU(3, "q4_1", 32, 20, dq_q4_1_n),      CPU(6, "q5_0", 32, 22, dq_q5_0_n),
    CPU(7, "q5_1", 32, 24, dq_q5_1_n),      CPU(9, "q8_1", 32, 36, dq_q8_1_n),
    CPU(10, "q2_K", 256, 84, dq_q2_K_n),    CPU(11, "q3_K", 256, 110, dq_q3_K_n),
    CPU(15, "q8_K", 256, 292, dq_q8_K_n),
    NONE(16, "iq2_xxs", 256, 66), NONE(17, "iq2_xs", 256, 74),  NONE(18, "iq3_xxs", 256, 98),
    NONE(19, "iq1_s", 256, 50),   NONE(20, "iq4_nl", 32, 18),   NONE(21, "iq3_s", 256, 110),
    NONE(22, "iq2_s", 256, 82),   NONE(23, "iq4_xs", 256, 136), NONE(24, "i8", 1, 1),
    NONE(25, "i16", 1, 2),        NONE(26, "i32", 1, 4),        NONE(27, "i64", 1, 8),
    NONE(28, "f64", 1, 8),        NONE(29, "iq1_m", 256, 56),   NONE(34, "tq1_0", 256, 54),
    NONE(35, "tq2_0", 256, 66),   NONE(39, "mxfp4", 32, 17),
};
#define N_DTYPES (sizeof dtypes / sizeof *dtypes)

const dtype_info *dtype_of(uint32_t id) {
    for (size_t i = 0; i < N_DTYPES; i++)
        if (dtypes[i].id == id) return &dtypes[i];
    return NULL;
}

const dtype_info *dtype_gpu(int slot) { return slot >= 0 && slot < DTYPE_GPU_SLOTS ? &dtypes[slot] : NULL; }

int dtype_gpu_slot(uint32_t id) {
    const dtype_info *t = dtype_of(id);
    return t ? t->gpu_slot : -1;
}

const char *dtype_gpu_names(void) {
    static char list[96];
    if (!list[0])
        for (int i = 0; i < DTYPE_GPU_SLOTS; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", dtypes[i].name);
    return list;
}

uint64_t dtype_row_bytes(const dtype_info *t, uint64_t n) { return n / t->block_elems * t->block_bytes; }

dtype_gpu_layout dtype_gpu_layout_of(const dtype_info *t, uint64_t rows, uint64_t cols) {
    dtype_gpu_layout l;
    l.row_bytes = cols / 32 * t->gpu_bytes;
    l.scales_at = rows * l.row_bytes;
    l.scale_row_bytes = cols / t->block_elems * t->gpu_scales;
    l.bytes = l.scales_at + (rows * l.scale_row_bytes + 15) / 16 * 16;
    return l;
}

void dtype_repack_row(const dtype_info *t, const uint8_t *src, uint8_t *q, uint8_t *s, int64_t n) {
    if (t->repack) t->repack(t, src, q, s, n / t->block_elems);
    else memcpy(q, src, (size_t)dtype_row_bytes(t, (uint64_t)n));
}

/* ---- quant.h and gguf.h, answered from the table ---- */

int dequantize_supported(uint32_t type) {
    const dtype_info *t = dtype_of(type);
    return t && t->dequant;
}

int dequantize_row(uint32_t type, const void *src, float *dst, int64_t n) {
    const dtype_info *t = dtype_of(type);
    if (!t || !t->dequant || n < 0 || n % t->block_elems) return -1;
    t->dequant(src, dst, n / t->block_elems);
    return 0;
}

const char *ggml_type_name(uint32_t type) {
    const dtype_info *t = dtype_of(type);
    return t ? t->name : "unknown";
}

int ggml_type_block(uint32_t type, uint32_t *block_elems, uint32_t *block_bytes) {
    const dtype_info *t = dtype_of(type);
    if (block_elems) *block_elems = t ? t->block_elems : 0;
    if (block_bytes) *block_bytes = t ? t->block_bytes : 0;
    return t ? 0 : -1;
}
