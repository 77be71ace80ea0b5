/* Scalar ports of ggml's reference dequantizers (ggml-quants.c). The
 * arithmetic keeps ggml's operand order and types so results match it bit
 * for bit; blocks are read byte-wise because tensor data in a GGUF is only
 * aligned to the file's alignment, not to the block structs' fields. */
#include "formats/quant.h"

#include <string.h>

#include "formats/gguf.h"
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

int dequantize_supported(uint32_t t) {
    switch (t) {
    case GGML_TYPE_F32: case GGML_TYPE_F16: case GGML_TYPE_BF16:
    case GGML_TYPE_Q4_0: case GGML_TYPE_Q4_1: case GGML_TYPE_Q5_0: case GGML_TYPE_Q5_1:
    case GGML_TYPE_Q8_0: case GGML_TYPE_Q8_1:
    case GGML_TYPE_Q2_K: case GGML_TYPE_Q3_K: case GGML_TYPE_Q4_K: case GGML_TYPE_Q5_K:
    case GGML_TYPE_Q6_K: case GGML_TYPE_Q8_K:
        return 1;
    default: return 0;
    }
}

int dequantize_row(uint32_t type, const void *src, float *dst, int64_t n) {
    uint32_t be, bb;
    if (!dequantize_supported(type) || ggml_type_block(type, &be, &bb) || n < 0 || n % be)
        return -1;
    const uint8_t *s = src;
    /* Plain float types get their own loops: one element per "block" would
     * otherwise pay the dispatch below per element. */
    if (type == GGML_TYPE_F32) {
        for (int64_t i = 0; i < n; i++) {
            uint32_t bits = rd32(s + 4 * i);
            memcpy(dst + i, &bits, 4);
        }
        return 0;
    }
    if (type == GGML_TYPE_F16) {
        for (int64_t i = 0; i < n; i++) dst[i] = f16_to_f32(rd16(s + 2 * i));
        return 0;
    }
    if (type == GGML_TYPE_BF16) {
        for (int64_t i = 0; i < n; i++) dst[i] = bf16_to_f32(rd16(s + 2 * i));
        return 0;
    }
    const int64_t nb = n / be;
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *b = s + i * bb;
        float *y = dst + i * be;
        switch (type) {
        case GGML_TYPE_Q4_0: dq_q4_0(b, y); break;
        case GGML_TYPE_Q4_1: dq_q4_1(b, y); break;
        case GGML_TYPE_Q5_0: dq_q5_0(b, y); break;
        case GGML_TYPE_Q5_1: dq_q5_1(b, y); break;
        case GGML_TYPE_Q8_0: dq_q8(b, b + 2, y); break;
        case GGML_TYPE_Q8_1: dq_q8(b, b + 4, y); break;
        case GGML_TYPE_Q2_K: dq_q2_K(b, y); break;
        case GGML_TYPE_Q3_K: dq_q3_K(b, y); break;
        case GGML_TYPE_Q4_K: dq_q4_K(b, y); break;
        case GGML_TYPE_Q5_K: dq_q5_K(b, y); break;
        case GGML_TYPE_Q6_K: dq_q6_K(b, y); break;
        case GGML_TYPE_Q8_K: dq_q8_K(b, y); break;
        default: return -1;
        }
    }
    return 0;
}
