/* A tiny GGUF writer for tests: primitives that emit raw little-endian
 * fields (so tests can also write deliberately broken files) and a sample
 * file that uses every metadata type, nested arrays and several tensor
 * types. Shared by tests/unit/test_gguf*.c and the fuzz seed generator, so
 * the files the tests check and the fuzzer starts from are the same. */
#ifndef WGPT_TESTS_GGUF_BUILD_H
#define WGPT_TESTS_GGUF_BUILD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"

typedef struct { uint8_t *p; size_t len, cap; } gb;

static inline void gb_bytes(gb *b, const void *src, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) abort(); /* test code: no sensible recovery */
        b->p = p;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, src, n);
    b->len += n;
}
static inline void gb_u8(gb *b, uint8_t v) { gb_bytes(b, &v, 1); }
static inline void gb_u16(gb *b, uint16_t v) { uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)}; gb_bytes(b, x, 2); }
static inline void gb_u32(gb *b, uint32_t v) {
    uint8_t x[4];
    for (int i = 0; i < 4; i++) x[i] = (uint8_t)(v >> (8 * i));
    gb_bytes(b, x, 4);
}
static inline void gb_u64(gb *b, uint64_t v) {
    uint8_t x[8];
    for (int i = 0; i < 8; i++) x[i] = (uint8_t)(v >> (8 * i));
    gb_bytes(b, x, 8);
}
static inline void gb_f32(gb *b, float f) { uint32_t u; memcpy(&u, &f, 4); gb_u32(b, u); }
static inline void gb_f64(gb *b, double f) { uint64_t u; memcpy(&u, &f, 8); gb_u64(b, u); }
static inline void gb_str(gb *b, const char *s) { gb_u64(b, strlen(s)); gb_bytes(b, s, strlen(s)); }
static inline void gb_pad(gb *b, uint32_t align) { while (b->len % align) gb_u8(b, 0); }
static inline void gb_free(gb *b) { free(b->p); memset(b, 0, sizeof *b); }

static inline void gb_header(gb *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    gb_bytes(b, "GGUF", 4);
    gb_u32(b, version);
    gb_u64(b, n_tensors);
    gb_u64(b, n_kv);
}
/* Key and value type; the caller writes the value. */
static inline void gb_key(gb *b, const char *key, uint32_t type) { gb_str(b, key); gb_u32(b, type); }
static inline void gb_kv_u32(gb *b, const char *k, uint32_t v) { gb_key(b, k, GGUF_TYPE_UINT32); gb_u32(b, v); }
static inline void gb_kv_f32(gb *b, const char *k, float v) { gb_key(b, k, GGUF_TYPE_FLOAT32); gb_f32(b, v); }
static inline void gb_kv_str(gb *b, const char *k, const char *v) { gb_key(b, k, GGUF_TYPE_STRING); gb_str(b, v); }
static inline void gb_kv_bool(gb *b, const char *k, int v) { gb_key(b, k, GGUF_TYPE_BOOL); gb_u8(b, (uint8_t)(v != 0)); }
static inline void gb_kv_strs(gb *b, const char *k, const char *const *v, uint64_t n) {
    gb_key(b, k, GGUF_TYPE_ARRAY);
    gb_u32(b, GGUF_TYPE_STRING);
    gb_u64(b, n);
    for (uint64_t i = 0; i < n; i++) gb_str(b, v[i]);
}

typedef struct {
    const char *name;
    uint32_t n_dims;
    uint64_t ne[4];
    uint32_t type;
    const uint8_t *data;
    size_t nbytes;
} gb_tensor;

/* Tensor infos, padding, then the data of each tensor at aligned offsets.
 * Nothing is written after the last tensor, so any shorter prefix of the
 * result is missing data the header promises. */
static inline void gb_tensors(gb *b, const gb_tensor *t, size_t n, uint32_t align) {
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        gb_str(b, t[i].name);
        gb_u32(b, t[i].n_dims);
        for (uint32_t d = 0; d < t[i].n_dims; d++) gb_u64(b, t[i].ne[d]);
        gb_u32(b, t[i].type);
        gb_u64(b, off);
        off += t[i].nbytes;
        off = (off + align - 1) / align * align;
    }
    gb_pad(b, align);
    size_t base = b->len;
    for (size_t i = 0; i < n; i++) {
        while ((b->len - base) % align) gb_u8(b, 0);
        gb_bytes(b, t[i].data, t[i].nbytes);
    }
}

/* ---- The sample file ---------------------------------------------------- */

enum { SAMPLE_N_KV_BASE = 34, SAMPLE_N_TENSORS = 7 };

static const char *const sample_tokens[] = {"<unk>", "<s>", "</s>", "a", "hello world", "\xc3\xa9t\xc3\xa9"};
static const char *const sample_merges[] = {"h e", "he llo"};

/* Tensor payloads, with values the unit tests derive by hand. */
static const uint8_t sample_f32[4 * 6] = {
    0x00, 0x00, 0x80, 0x3f, /* 1.0 */  0x00, 0x00, 0x00, 0xc0, /* -2.0 */
    0x00, 0x00, 0x40, 0x3f, /* 0.75 */ 0x00, 0x00, 0x00, 0x00, /* 0.0 */
    0x00, 0x00, 0x20, 0x41, /* 10.0 */ 0x00, 0x00, 0x80, 0xbe, /* -0.25 */
};
static const uint8_t sample_f16[2 * 8] = {
    0x00, 0x3c, /* 1.0 */ 0x00, 0xc0, /* -2.0 */ 0x00, 0x38, /* 0.5 */ 0xff, 0x7b, /* 65504 */
    0x01, 0x00, /* 2^-24 */ 0x00, 0x80, /* -0.0 */ 0x55, 0x35, /* 0.333251953125 */ 0x00, 0x7c, /* inf */
};

/* Fills a deterministic pseudo-random payload (tests recompute nothing from
 * it; they only compare bytes and run the dequantizers over it). */
static inline void sample_fill(uint8_t *p, size_t n, uint32_t seed) {
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        p[i] = (uint8_t)x;
    }
}

/* Q8_0: two blocks. Block 0: d = 0.5, qs[j] = j - 16. Block 1: d = -0.25, qs[j] = 127 - 8j. */
static inline void sample_q8_0(uint8_t out[68]) {
    out[0] = 0x00; out[1] = 0x38; /* f16 0.5 */
    for (int j = 0; j < 32; j++) out[2 + j] = (uint8_t)(int8_t)(j - 16);
    out[34] = 0x00; out[35] = 0xb4; /* f16 -0.25 */
    for (int j = 0; j < 32; j++) out[36 + j] = (uint8_t)(int8_t)(127 - 8 * j);
}

/* Q4_0: one block, d = 2.0, byte j = j | (15 - j) << 4. */
static inline void sample_q4_0(uint8_t out[18]) {
    out[0] = 0x00; out[1] = 0x40; /* f16 2.0 */
    for (int j = 0; j < 16; j++) out[2 + j] = (uint8_t)(j | (15 - j) << 4);
}

typedef struct {
    uint8_t f32[sizeof sample_f32], f16[sizeof sample_f16], q8[68], q4[18];
    uint8_t q4k[144], q6k[210], bf16[4];
    gb_tensor t[SAMPLE_N_TENSORS];
} sample_data;

static inline void sample_tensors(sample_data *s) {
    memcpy(s->f32, sample_f32, sizeof s->f32);
    memcpy(s->f16, sample_f16, sizeof s->f16);
    sample_q8_0(s->q8);
    sample_q4_0(s->q4);
    sample_fill(s->q4k, sizeof s->q4k, 4);
    sample_fill(s->q6k, sizeof s->q6k, 6);
    s->q4k[0] = 0x00; s->q4k[1] = 0x2c; /* d = 1/16: keep values finite */
    s->q4k[2] = 0x00; s->q4k[3] = 0x28; /* dmin = 1/32 */
    s->q6k[208] = 0x00; s->q6k[209] = 0x24; /* d = 1/64 */
    s->bf16[0] = 0x80; s->bf16[1] = 0x3f; /* 1.0 */
    s->bf16[2] = 0xa0; s->bf16[3] = 0xc0; /* -5.0 */
    const gb_tensor t[SAMPLE_N_TENSORS] = {
        {"token_embd.weight", 2, {3, 2, 1, 1}, GGML_TYPE_F32, s->f32, sizeof s->f32},
        {"f16.weight", 1, {8, 1, 1, 1}, GGML_TYPE_F16, s->f16, sizeof s->f16},
        {"blk.0.q8.weight", 2, {32, 2, 1, 1}, GGML_TYPE_Q8_0, s->q8, sizeof s->q8},
        {"blk.0.q4.weight", 4, {32, 1, 1, 1}, GGML_TYPE_Q4_0, s->q4, sizeof s->q4},
        {"q4k.weight", 1, {256, 1, 1, 1}, GGML_TYPE_Q4_K, s->q4k, sizeof s->q4k},
        {"q6k.weight", 1, {256, 1, 1, 1}, GGML_TYPE_Q6_K, s->q6k, sizeof s->q6k},
        {"bf16.weight", 3, {2, 1, 1, 1}, GGML_TYPE_BF16, s->bf16, sizeof s->bf16},
    };
    memcpy(s->t, t, sizeof t);
}

/* The sample GGUF. alignment 0 leaves general.alignment out (default 32). */
static inline void gb_sample(gb *b, uint32_t version, uint32_t alignment) {
    sample_data s;
    sample_tensors(&s);
    gb_header(b, version, SAMPLE_N_TENSORS, SAMPLE_N_KV_BASE + (alignment ? 1 : 0));
    gb_kv_str(b, "general.architecture", "llama");
    gb_kv_str(b, "general.name", "tiny test");
    if (alignment) gb_kv_u32(b, "general.alignment", alignment);
    gb_kv_u32(b, "llama.context_length", 128);
    gb_kv_u32(b, "llama.embedding_length", 64);
    gb_kv_u32(b, "llama.block_count", 2);
    gb_kv_f32(b, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    gb_key(b, "llama.rope.freq_base", GGUF_TYPE_FLOAT64); gb_f64(b, 10000.0);
    /* one of each scalar type */
    gb_key(b, "test.u8", GGUF_TYPE_UINT8); gb_u8(b, 200);
    gb_key(b, "test.i8", GGUF_TYPE_INT8); gb_u8(b, (uint8_t)(int8_t)-100);
    gb_key(b, "test.u16", GGUF_TYPE_UINT16); gb_u16(b, 60000);
    gb_key(b, "test.i16", GGUF_TYPE_INT16); gb_u16(b, (uint16_t)(int16_t)-30000);
    gb_key(b, "test.u32", GGUF_TYPE_UINT32); gb_u32(b, 4000000000u);
    gb_key(b, "test.i32", GGUF_TYPE_INT32); gb_u32(b, (uint32_t)(int32_t)-2000000000);
    gb_kv_f32(b, "test.f32", 1.5f);
    gb_kv_bool(b, "test.bool", 1);
    gb_kv_str(b, "test.str", "h\xc3\xa9llo\n");
    gb_key(b, "test.u64", GGUF_TYPE_UINT64); gb_u64(b, (1ull << 40) + 7);
    gb_key(b, "test.i64", GGUF_TYPE_INT64); gb_u64(b, (uint64_t)-(int64_t)(1ll << 40));
    gb_key(b, "test.f64", GGUF_TYPE_FLOAT64); gb_f64(b, -3.25);
    gb_kv_str(b, "test.empty", "");
    /* arrays: numeric, empty, and arrays of arrays with mixed element types */
    gb_key(b, "test.arr_i16", GGUF_TYPE_ARRAY); gb_u32(b, GGUF_TYPE_INT16); gb_u64(b, 3);
    gb_u16(b, (uint16_t)(int16_t)-1); gb_u16(b, 2); gb_u16(b, (uint16_t)(int16_t)-300);
    gb_key(b, "test.arr_empty", GGUF_TYPE_ARRAY); gb_u32(b, GGUF_TYPE_UINT8); gb_u64(b, 0);
    gb_key(b, "test.nested", GGUF_TYPE_ARRAY); gb_u32(b, GGUF_TYPE_ARRAY); gb_u64(b, 3);
    gb_u32(b, GGUF_TYPE_UINT16); gb_u64(b, 3); gb_u16(b, 1); gb_u16(b, 2); gb_u16(b, 3);
    gb_u32(b, GGUF_TYPE_INT8); gb_u64(b, 0);
    gb_u32(b, GGUF_TYPE_STRING); gb_u64(b, 2); gb_str(b, "x"); gb_str(b, "yz");
    gb_key(b, "test.nested3", GGUF_TYPE_ARRAY); gb_u32(b, GGUF_TYPE_ARRAY); gb_u64(b, 1);
    gb_u32(b, GGUF_TYPE_ARRAY); gb_u64(b, 2);
    gb_u32(b, GGUF_TYPE_FLOAT32); gb_u64(b, 1); gb_f32(b, 0.5f);
    gb_u32(b, GGUF_TYPE_BOOL); gb_u64(b, 2); gb_u8(b, 1); gb_u8(b, 0);
    /* tokenizer */
    gb_kv_str(b, "tokenizer.ggml.model", "gpt2");
    gb_kv_str(b, "tokenizer.ggml.pre", "default");
    gb_kv_strs(b, "tokenizer.ggml.tokens", sample_tokens, 6);
    gb_key(b, "tokenizer.ggml.scores", GGUF_TYPE_ARRAY); gb_u32(b, GGUF_TYPE_FLOAT32); gb_u64(b, 6);
    for (int i = 0; i < 6; i++) gb_f32(b, -(float)i);
    gb_key(b, "tokenizer.ggml.token_type", GGUF_TYPE_ARRAY); gb_u32(b, GGUF_TYPE_INT32); gb_u64(b, 6);
    for (int i = 0; i < 6; i++) gb_u32(b, i < 3 ? 3 : 1);
    gb_kv_strs(b, "tokenizer.ggml.merges", sample_merges, 2);
    gb_kv_u32(b, "tokenizer.ggml.bos_token_id", 1);
    gb_kv_u32(b, "tokenizer.ggml.eos_token_id", 2);
    gb_kv_u32(b, "tokenizer.ggml.unknown_token_id", 0);
    gb_kv_bool(b, "tokenizer.ggml.add_bos_token", 1);
    gb_tensors(b, s.t, SAMPLE_N_TENSORS, alignment ? alignment : 32);
}

#endif
