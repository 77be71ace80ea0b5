/* GGUF reader and dequantizers on hand-built files and blocks whose expected
 * values are derived by hand here, independently of the code under test. */
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../fuzz/gguf_build.h"
#include "formats/gguf.h"
#include "formats/quant.h"
#include "util/util.h"

static void must_parse(gguf_file *g, const gb *b) {
    char err[256] = "";
    int rc = gguf_parse(g, b->p, b->len, err, sizeof err);
    if (rc) fail_msg("parse failed: %s", err);
}

static void expect_str(gguf_str s, const char *want) {
    if (!gguf_str_eq(s, want)) fail_msg("got '%.*s', want '%s'", (int)s.len, s.ptr, want);
}

/* base: where the file's bytes are expected to be (the builder's buffer, or
 * the mapping when opened from disk). */
static void check_sample(const gguf_file *g, const gb *b, const uint8_t *base, uint32_t version,
                         uint32_t alignment) {
    assert_int_equal(g->version, version);
    assert_int_equal(g->n_tensors, SAMPLE_N_TENSORS);
    assert_int_equal(g->n_kv, SAMPLE_N_KV_BASE + (alignment != 32));
    assert_int_equal(g->alignment, alignment);
    assert_int_equal(g->file_size, b->len);
    assert_ptr_equal(g->base, base);

    gguf_str s;
    assert_int_equal(gguf_get_str(g, "general.architecture", &s), 0);
    expect_str(s, "llama");
    assert_int_equal(gguf_get_str(g, "test.str", &s), 0);
    expect_str(s, "h\xc3\xa9llo\n");
    assert_int_equal(gguf_get_str(g, "test.empty", &s), 0);
    assert_int_equal(s.len, 0);

    /* every scalar type: raw fields and the typed getters */
    const gguf_kv *kv;
    assert_non_null(kv = gguf_find(g, "test.u8"));
    assert_int_equal(kv->type, GGUF_TYPE_UINT8);
    assert_int_equal(kv->v.u, 200);
    assert_non_null(kv = gguf_find(g, "test.i8"));
    assert_int_equal(kv->type, GGUF_TYPE_INT8);
    assert_int_equal(kv->v.i, -100);
    assert_int_equal(gguf_find(g, "test.u16")->v.u, 60000);
    assert_int_equal(gguf_find(g, "test.i16")->v.i, -30000);
    assert_int_equal(gguf_find(g, "test.u32")->v.u, 4000000000u);
    assert_int_equal(gguf_find(g, "test.i32")->v.i, -2000000000);
    assert_true(gguf_find(g, "test.u64")->v.u == (1ull << 40) + 7);
    assert_true(gguf_find(g, "test.i64")->v.i == -(1ll << 40));
    assert_true(gguf_find(g, "test.f32")->v.f == 1.5);
    assert_true(gguf_find(g, "test.f64")->v.f == -3.25);
    assert_int_equal(gguf_find(g, "test.bool")->type, GGUF_TYPE_BOOL);

    uint64_t u;
    double f;
    int bl;
    assert_int_equal(gguf_get_u64(g, "llama.context_length", &u), 0);
    assert_int_equal(u, 128);
    assert_int_equal(gguf_get_u64(g, "test.u64", &u), 0);
    assert_true(u == (1ull << 40) + 7);
    assert_int_equal(gguf_get_u64(g, "test.i8", &u), -1); /* negative: not a u64 */
    assert_int_equal(gguf_get_u64(g, "test.f32", &u), -1);
    assert_int_equal(gguf_get_u64(g, "test.str", &u), -1);
    assert_int_equal(gguf_get_u64(g, "no.such.key", &u), -1);
    assert_int_equal(gguf_get_f64(g, "llama.attention.layer_norm_rms_epsilon", &f), 0);
    assert_true(f == (double)1e-5f);
    assert_int_equal(gguf_get_f64(g, "llama.rope.freq_base", &f), 0);
    assert_true(f == 10000.0);
    assert_int_equal(gguf_get_f64(g, "test.i16", &f), 0);
    assert_true(f == -30000.0);
    assert_int_equal(gguf_get_f64(g, "test.str", &f), -1);
    assert_int_equal(gguf_get_bool(g, "test.bool", &bl), 0);
    assert_int_equal(bl, 1);
    assert_int_equal(gguf_get_bool(g, "test.str", &bl), -1);
    assert_int_equal(gguf_get_str(g, "test.u8", &s), -1);

    /* numeric and empty arrays */
    assert_non_null(kv = gguf_find(g, "test.arr_i16"));
    assert_int_equal(kv->type, GGUF_TYPE_ARRAY);
    assert_int_equal(kv->arr_type, GGUF_TYPE_INT16);
    assert_int_equal(kv->arr_len, 3);
    assert_int_equal(gguf_arr_num(kv, 0, &f), 0);
    assert_true(f == -1.0);
    assert_int_equal(gguf_arr_num(kv, 2, &f), 0);
    assert_true(f == -300.0);
    assert_int_equal(gguf_arr_num(kv, 3, &f), -1);
    assert_non_null(kv = gguf_find(g, "test.arr_empty"));
    assert_int_equal(kv->arr_len, 0);
    assert_int_equal(gguf_arr_num(kv, 0, &f), -1);
    assert_non_null(kv = gguf_find(g, "tokenizer.ggml.scores"));
    assert_int_equal(gguf_arr_num(kv, 5, &f), 0);
    assert_true(f == -5.0);

    /* arrays of strings */
    gguf_str *strs;
    assert_non_null(kv = gguf_find(g, "tokenizer.ggml.tokens"));
    assert_int_equal(kv->arr_len, 6);
    assert_int_equal(gguf_arr_num(kv, 0, &f), -1);
    assert_int_equal(gguf_arr_strings(kv, &strs), 0);
    for (int i = 0; i < 6; i++) expect_str(strs[i], sample_tokens[i]);
    free(strs);
    assert_int_equal(gguf_arr_strings(gguf_find(g, "test.arr_i16"), &strs), -1);
    assert_null(strs);

    /* nested arrays: parsed past correctly (keys after them are intact), and
     * arr_data points at the first inner array's header */
    assert_non_null(kv = gguf_find(g, "test.nested"));
    assert_int_equal(kv->arr_type, GGUF_TYPE_ARRAY);
    assert_int_equal(kv->arr_len, 3);
    assert_int_equal(gguf_arr_num(kv, 0, &f), -1);
    assert_int_equal(gguf_arr_strings(kv, &strs), -1);
    const uint8_t *p = kv->arr_data;
    assert_int_equal(p[0], GGUF_TYPE_UINT16);
    assert_int_equal(p[4], 3);
    assert_int_equal(p[12], 1);
    assert_int_equal(p[16], 3);
    p += 12 + 6; /* second inner array: empty i8 */
    assert_int_equal(p[0], GGUF_TYPE_INT8);
    assert_int_equal(p[4], 0);
    p += 12; /* third: strings "x", "yz" */
    assert_int_equal(p[0], GGUF_TYPE_STRING);
    assert_int_equal(p[4], 2);
    assert_memory_equal(p + 12 + 8, "x", 1);
    assert_memory_equal(p + 12 + 8 + 1 + 8, "yz", 2);
    assert_non_null(kv = gguf_find(g, "test.nested3"));
    assert_int_equal(kv->arr_len, 1);
    assert_int_equal(gguf_get_str(g, "tokenizer.ggml.model", &s), 0);
    expect_str(s, "gpt2");

    /* tensors: geometry, sizes and where their data lies */
    assert_int_equal(g->data_offset % alignment, 0);
    sample_data sd;
    sample_tensors(&sd);
    for (int i = 0; i < SAMPLE_N_TENSORS; i++) {
        const gguf_tensor *t = gguf_find_tensor(g, sd.t[i].name);
        assert_non_null(t);
        assert_ptr_equal(t, &g->tensors[i]);
        assert_int_equal(t->n_dims, sd.t[i].n_dims);
        for (int d = 0; d < 4; d++) assert_int_equal(t->ne[d], sd.t[i].ne[d]);
        assert_int_equal(t->type, sd.t[i].type);
        assert_int_equal(t->nbytes, sd.t[i].nbytes);
        assert_int_equal(t->offset % alignment, 0);
        assert_ptr_equal(t->data, base + g->data_offset + t->offset);
        assert_memory_equal(t->data, sd.t[i].data, sd.t[i].nbytes);
    }
    assert_int_equal(g->tensors[1].offset, 32 >= alignment ? 32 : alignment); /* f32: 24 bytes, rounded up */
    assert_null(gguf_find_tensor(g, "missing.weight"));
    assert_null(gguf_find_tensor(g, "f16.weigh"));
    /* the last tensor's data ends exactly at the end of the file */
    const gguf_tensor *last = &g->tensors[SAMPLE_N_TENSORS - 1];
    assert_int_equal(g->data_offset + last->offset + last->nbytes, b->len);
}

static void test_parse_v3_default_alignment(void **state) {
    (void)state;
    gb b = {0};
    gb_sample(&b, 3, 0);
    gguf_file g;
    must_parse(&g, &b);
    check_sample(&g, &b, b.p, 3, 32);
    gguf_close(&g);
    gb_free(&b);
}

static void test_parse_v2_alignment_64(void **state) {
    (void)state;
    gb b = {0};
    gb_sample(&b, 2, 64);
    gguf_file g;
    must_parse(&g, &b);
    check_sample(&g, &b, b.p, 2, 64);
    uint64_t a;
    assert_int_equal(gguf_get_u64(&g, "general.alignment", &a), 0);
    assert_int_equal(a, 64);
    gguf_close(&g);
    gb_free(&b);
}

static void test_header_only_and_empty_tables(void **state) {
    (void)state;
    /* no metadata, no tensors: valid, and the data section may be absent */
    gb b = {0};
    gb_header(&b, 3, 0, 0);
    gguf_file g;
    must_parse(&g, &b);
    assert_int_equal(g.n_kv, 0);
    assert_int_equal(g.n_tensors, 0);
    assert_null(gguf_find(&g, "general.architecture"));
    assert_int_equal(g.data_offset, 32);
    gguf_close(&g);
    gb_free(&b);
}

static void test_open_file(void **state) {
    (void)state;
    char path[] = "/tmp/wgpt_test_gguf_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    gb b = {0};
    gb_sample(&b, 3, 0);
    assert_int_equal(write(fd, b.p, b.len), (ssize_t)b.len);
    close(fd);

    gguf_file g;
    char err[256] = "";
    assert_int_equal(gguf_open(&g, path, err, sizeof err), 0);
    assert_non_null(g.mapping);
    assert_int_equal(g.mapping_len, b.len);
    check_sample(&g, &b, g.mapping, 3, 32);
    gguf_close(&g);
    assert_null(g.mapping);
    gguf_close(&g); /* closing twice is harmless */

    /* empty file */
    fd = open(path, O_WRONLY | O_TRUNC);
    close(fd);
    assert_int_equal(gguf_open(&g, path, err, sizeof err), -1);
    assert_non_null(strstr(err, "truncated file"));
    assert_int_equal(g.io_error, 0); /* read, and not a GGUF */
    unlink(path);

    assert_int_equal(gguf_open(&g, "/nonexistent/x.gguf", err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot open '/nonexistent/x.gguf'"));
    assert_int_equal(g.io_error, 1); /* not read at all */
    assert_int_equal(gguf_open(&g, "/tmp", err, sizeof err), -1);
    assert_non_null(strstr(err, "not a regular file"));
    assert_int_equal(g.io_error, 0);
    gb_free(&b);
}

/* S3: a FIFO with no writer is refused at once, as not a regular file; the
 * old open() waited forever for a writer. alarm() turns a hang into a failure. */
static void test_open_refuses_fifo(void **state) {
    (void)state;
    char dir[] = "/tmp/wgpt_test_fifo_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/model.gguf", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    gguf_file g;
    char err[256] = "";
    alarm(20);
    int rc = gguf_open(&g, path, err, sizeof err);
    alarm(0);
    assert_int_equal(rc, -1);
    char want[128];
    snprintf(want, sizeof want, "gguf: '%s' is not a regular file", path);
    assert_string_equal(err, want);
    unlink(path);
    rmdir(dir);
}

/* S6: no path is an error with a message, never open(NULL). */
static void test_open_null_path(void **state) {
    (void)state;
    gguf_file g;
    char err[256] = "";
    assert_int_equal(gguf_open(&g, NULL, err, sizeof err), -1);
    assert_string_equal(err, "gguf: no model file given");
    assert_null(g.kv);
}

/* S1: a path is shown escaped, and a parse error names the file it is about. */
static void test_open_messages_name_the_file(void **state) {
    (void)state;
    assert_int_equal(gguf_open(&(gguf_file){0}, "/nonexistent/\x1b[2Jx.gguf", NULL, 0), -1);
    gguf_file g;
    char err[256] = "";
    assert_int_equal(gguf_open(&g, "/nonexistent/\x1b[2Jx.gguf", err, sizeof err), -1);
    assert_string_equal(err, "gguf: cannot open '/nonexistent/\\x1b[2Jx.gguf': No such file or directory");

    char path[] = "/tmp/wgpt_test_gguf_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "NOPE0000", 8), 8);
    close(fd);
    assert_int_equal(gguf_open(&g, path, err, sizeof err), -1);
    char want[160];
    snprintf(want, sizeof want, "%s: gguf: not a GGUF file (magic 'NOPE', expected 'GGUF')", path);
    assert_string_equal(err, want);
    unlink(path);
}

static void test_type_tables(void **state) {
    (void)state;
    static const struct { uint32_t t, be, bb; const char *name; } want[] = {
        {GGML_TYPE_F32, 1, 4, "f32"},      {GGML_TYPE_F16, 1, 2, "f16"},
        {GGML_TYPE_BF16, 1, 2, "bf16"},    {GGML_TYPE_Q4_0, 32, 18, "q4_0"},
        {GGML_TYPE_Q4_1, 32, 20, "q4_1"},  {GGML_TYPE_Q5_0, 32, 22, "q5_0"},
        {GGML_TYPE_Q5_1, 32, 24, "q5_1"},  {GGML_TYPE_Q8_0, 32, 34, "q8_0"},
        {GGML_TYPE_Q8_1, 32, 36, "q8_1"},  {GGML_TYPE_Q2_K, 256, 84, "q2_K"},
        {GGML_TYPE_Q3_K, 256, 110, "q3_K"}, {GGML_TYPE_Q4_K, 256, 144, "q4_K"},
        {GGML_TYPE_Q5_K, 256, 176, "q5_K"}, {GGML_TYPE_Q6_K, 256, 210, "q6_K"},
        {GGML_TYPE_Q8_K, 256, 292, "q8_K"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        uint32_t be = 0, bb = 0;
        assert_int_equal(ggml_type_block(want[i].t, &be, &bb), 0);
        assert_int_equal(be, want[i].be);
        assert_int_equal(bb, want[i].bb);
        assert_string_equal(ggml_type_name(want[i].t), want[i].name);
    }
    uint32_t be = 7, bb = 7;
    assert_int_equal(ggml_type_block(99, &be, &bb), -1);
    assert_int_equal(be, 0);
    assert_int_equal(bb, 0);
    assert_int_equal(ggml_type_block(4, &be, &bb), -1); /* retired Q4_2 */
    assert_string_equal(ggml_type_name(99), "unknown");
    assert_string_equal(gguf_type_name(GGUF_TYPE_STRING), "str");
    assert_string_equal(gguf_type_name(GGUF_TYPE_FLOAT64), "f64");
    assert_string_equal(gguf_type_name(13), "unknown");
}

/* ---- dequantization: expected values worked out from the formats ---- */

static void test_dequant_f32_f16_bf16(void **state) {
    (void)state;
    float y[8];
    /* unaligned source: tensor data is only file-aligned */
    uint8_t buf[1 + sizeof sample_f32];
    memcpy(buf + 1, sample_f32, sizeof sample_f32);
    assert_int_equal(dequantize_row(GGML_TYPE_F32, buf + 1, y, 6), 0);
    const float f32_want[6] = {1.0f, -2.0f, 0.75f, 0.0f, 10.0f, -0.25f};
    for (int i = 0; i < 6; i++) assert_true(y[i] == f32_want[i]);

    assert_int_equal(dequantize_row(GGML_TYPE_F16, sample_f16, y, 8), 0);
    assert_true(y[0] == 1.0f);
    assert_true(y[1] == -2.0f);
    assert_true(y[2] == 0.5f);
    assert_true(y[3] == 65504.0f);
    assert_true(y[4] == 0x1p-24f); /* smallest subnormal */
    assert_true(y[5] == 0.0f && signbit(y[5]));
    assert_true(y[6] == 0x1.554p-2f); /* 0x3555: exponent -2, mantissa 0x155 */
    assert_true(isinf(y[7]) && y[7] > 0);

    const uint8_t bf[4] = {0x80, 0x3f, 0xa0, 0xc0};
    assert_int_equal(dequantize_row(GGML_TYPE_BF16, bf, y, 2), 0);
    assert_true(y[0] == 1.0f);
    assert_true(y[1] == -5.0f);
}

static void test_dequant_q8_0(void **state) {
    (void)state;
    uint8_t q[68];
    sample_q8_0(q);
    float y[64];
    assert_int_equal(dequantize_row(GGML_TYPE_Q8_0, q, y, 64), 0);
    /* block 0: d = 0.5, q = j - 16 */
    assert_true(y[0] == -8.0f);
    assert_true(y[1] == -7.5f);
    assert_true(y[16] == 0.0f);
    assert_true(y[31] == 7.5f);
    /* block 1: d = -0.25, q = 127 - 8j (wraps to negative past j = 15) */
    assert_true(y[32] == -31.75f);
    assert_true(y[33] == -29.75f);
    assert_true(y[32 + 16] == 0.25f);  /* q = -1 */
    assert_true(y[32 + 31] == 30.25f); /* q = 127 - 248 = -121 */
    for (int j = 0; j < 32; j++) {
        assert_true(y[j] == (j - 16) * 0.5f);
        assert_true(y[32 + j] == (float)(int8_t)(127 - 8 * j) * -0.25f);
    }
    /* n must be a whole number of blocks */
    assert_int_equal(dequantize_row(GGML_TYPE_Q8_0, q, y, 33), -1);
    assert_int_equal(dequantize_row(GGML_TYPE_Q8_0, q, y, -32), -1);
    assert_int_equal(dequantize_row(GGML_TYPE_Q8_0, q, y, 0), 0);
}

static void test_dequant_q4_0(void **state) {
    (void)state;
    uint8_t q[18];
    sample_q4_0(q); /* d = 2, byte j = j | (15 - j) << 4 */
    float y[32];
    assert_int_equal(dequantize_row(GGML_TYPE_Q4_0, q, y, 32), 0);
    /* low nibbles are elements 0..15: (j - 8) * 2 */
    assert_true(y[0] == -16.0f);
    assert_true(y[8] == 0.0f);
    assert_true(y[15] == 14.0f);
    /* high nibbles are elements 16..31: (15 - j - 8) * 2 */
    assert_true(y[16] == 14.0f);
    assert_true(y[31] == -16.0f);
    for (int j = 0; j < 16; j++) {
        assert_true(y[j] == (float)((j - 8) * 2));
        assert_true(y[16 + j] == (float)((7 - j) * 2));
    }
}

static void test_dequant_q4_1_q5(void **state) {
    (void)state;
    float y[32];
    /* Q4_1: d = 0.5, m = -1, byte j = j | j << 4 -> x = q * 0.5 - 1 */
    uint8_t q41[20] = {0x00, 0x38, 0x00, 0xbc};
    for (int j = 0; j < 16; j++) q41[4 + j] = (uint8_t)(j | j << 4);
    assert_int_equal(dequantize_row(GGML_TYPE_Q4_1, q41, y, 32), 0);
    for (int j = 0; j < 16; j++) {
        assert_true(y[j] == j * 0.5f - 1.0f);
        assert_true(y[16 + j] == j * 0.5f - 1.0f);
    }
    /* Q5_0: d = 1, qh bit e is bit 4 of element e; x = q - 16 */
    uint8_t q50[22] = {0x00, 0x3c};
    const uint32_t qh = 0xA5F0C381u;
    for (int i = 0; i < 4; i++) q50[2 + i] = (uint8_t)(qh >> (8 * i));
    for (int j = 0; j < 16; j++) q50[6 + j] = (uint8_t)((j * 3) % 16 | ((j * 5 + 1) % 16) << 4);
    assert_int_equal(dequantize_row(GGML_TYPE_Q5_0, q50, y, 32), 0);
    for (int e = 0; e < 32; e++) {
        int lo = e < 16 ? (e * 3) % 16 : ((e - 16) * 5 + 1) % 16;
        int q = lo | (int)((qh >> e) & 1) << 4;
        assert_true(y[e] == (float)(q - 16));
    }
    /* Q5_1: same bits, d = 0.25, m = 2, no offset */
    uint8_t q51[24] = {0x00, 0x34, 0x00, 0x40};
    memcpy(q51 + 4, q50 + 2, 20);
    assert_int_equal(dequantize_row(GGML_TYPE_Q5_1, q51, y, 32), 0);
    for (int e = 0; e < 32; e++) {
        int lo = e < 16 ? (e * 3) % 16 : ((e - 16) * 5 + 1) % 16;
        int q = lo | (int)((qh >> e) & 1) << 4;
        assert_true(y[e] == q * 0.25f + 2.0f);
    }
}

/* Q4_K / Q5_K: eight sub-blocks of 32 with 6-bit scale and min packed in 12
 * bytes: sub-blocks 0..3 in the low 6 bits of bytes 0..3 (scale) and 4..7
 * (min); sub-blocks 4..7 take their low 4 bits from bytes 8..11 (scale low
 * nibble, min high nibble) and their top 2 bits from the top of bytes 0..7. */
static void pack_k4_scales(uint8_t out[12], const uint8_t sc[8], const uint8_t mn[8]) {
    memset(out, 0, 12);
    for (int j = 0; j < 4; j++) {
        out[j] = (uint8_t)(sc[j] | (sc[j + 4] >> 4) << 6);
        out[j + 4] = (uint8_t)(mn[j] | (mn[j + 4] >> 4) << 6);
        out[j + 8] = (uint8_t)((sc[j + 4] & 0xF) | (mn[j + 4] & 0xF) << 4);
    }
}

static void test_dequant_q4_k_q5_k(void **state) {
    (void)state;
    const uint8_t sc[8] = {1, 2, 3, 63, 21, 0, 47, 16};
    const uint8_t mn[8] = {0, 1, 5, 34, 63, 2, 17, 8};
    uint8_t b[176];
    float y[256];
    /* Q4_K: d = 0.25, dmin = 0.5; element e is sub-block e/32; within each 64
     * the first 32 use low nibbles of 32 bytes, the next 32 the high ones. */
    b[0] = 0x00; b[1] = 0x34; b[2] = 0x00; b[3] = 0x38;
    pack_k4_scales(b + 4, sc, mn);
    for (int i = 0; i < 128; i++) b[16 + i] = (uint8_t)(i * 37 + 11);
    assert_int_equal(dequantize_row(GGML_TYPE_Q4_K, b, y, 256), 0);
    for (int e = 0; e < 256; e++) {
        int sb = e / 32, byte = b[16 + (e / 64) * 32 + e % 32];
        int q = (e % 64) < 32 ? byte & 0xF : byte >> 4;
        float want = 0.25f * sc[sb] * q - 0.5f * mn[sb];
        if (y[e] != want) fail_msg("q4_K element %d: got %g want %g", e, y[e], want);
    }
    /* Q5_K: d = 0.5, dmin = 0.25, plus a fifth bit: bit sb of qh[e % 32] */
    b[0] = 0x00; b[1] = 0x38; b[2] = 0x00; b[3] = 0x34;
    pack_k4_scales(b + 4, sc, mn);
    for (int i = 0; i < 32; i++) b[16 + i] = (uint8_t)(i * 71 + 5);
    for (int i = 0; i < 128; i++) b[48 + i] = (uint8_t)(i * 13 + 200);
    assert_int_equal(dequantize_row(GGML_TYPE_Q5_K, b, y, 256), 0);
    for (int e = 0; e < 256; e++) {
        int sb = e / 32, byte = b[48 + (e / 64) * 32 + e % 32];
        int q = ((e % 64) < 32 ? byte & 0xF : byte >> 4) | ((b[16 + e % 32] >> sb) & 1) << 4;
        float want = 0.5f * sc[sb] * q - 0.25f * mn[sb];
        if (y[e] != want) fail_msg("q5_K element %d: got %g want %g", e, y[e], want);
    }
}

static void test_dequant_q6_k(void **state) {
    (void)state;
    /* ql[128] qh[64] scales[16] (int8) d. Element e: half h = e/128, quarter
     * k = (e%128)/32, l = e%32. Low 4 bits: ql[64h + l + 32(k&1)], low nibble
     * for k < 2 else high; top 2 bits: bits 2k..2k+1 of qh[32h + l]; value
     * q - 32 times scale[8h + 2k + l/16] times d. */
    uint8_t b[210];
    for (int i = 0; i < 128; i++) b[i] = (uint8_t)(i * 29 + 7);
    for (int i = 0; i < 64; i++) b[128 + i] = (uint8_t)(i * 53 + 1);
    const int8_t scales[16] = {1, -1, 2, -2, 3, -3, 127, -128, 5, 6, 7, 8, -9, 10, 0, 11};
    memcpy(b + 192, scales, 16);
    b[208] = 0x00; b[209] = 0x30; /* d = 0.125 */
    float y[256];
    assert_int_equal(dequantize_row(GGML_TYPE_Q6_K, b, y, 256), 0);
    for (int e = 0; e < 256; e++) {
        int h = e / 128, k = (e % 128) / 32, l = e % 32;
        int lowbyte = b[64 * h + l + 32 * (k & 1)];
        int lo = k < 2 ? lowbyte & 0xF : lowbyte >> 4;
        int hi = (b[128 + 32 * h + l] >> (2 * k)) & 3;
        float want = 0.125f * scales[8 * h + 2 * k + l / 16] * ((lo | hi << 4) - 32);
        if (y[e] != want) fail_msg("q6_K element %d: got %g want %g", e, y[e], want);
    }
}

static void test_dequant_q2_k_q3_k(void **state) {
    (void)state;
    /* Q2_K: scales[16] qs[64] d dmin. Element e: half h = e/128, shift pair
     * j = (e%128)/32, g = (e%32)/16, l = e%16; q = bits 2j of qs[32h+16g+l];
     * sub-block s = 8h + 2j + g with scale nibble low (x d) and min high (x dmin). */
    uint8_t b[110];
    for (int i = 0; i < 16; i++) b[i] = (uint8_t)(i * 17 + 3);
    for (int i = 0; i < 64; i++) b[16 + i] = (uint8_t)(i * 101 + 9);
    b[80] = 0x00; b[81] = 0x3c; /* d = 1 */
    b[82] = 0x00; b[83] = 0x38; /* dmin = 0.5 */
    float y[256];
    assert_int_equal(dequantize_row(GGML_TYPE_Q2_K, b, y, 256), 0);
    for (int e = 0; e < 256; e++) {
        int h = e / 128, j = (e % 128) / 32, g = (e % 32) / 16, l = e % 16;
        int q = (b[16 + 32 * h + 16 * g + l] >> (2 * j)) & 3;
        int s = b[8 * h + 2 * j + g];
        float want = (float)((s & 0xF) * q) - 0.5f * (s >> 4);
        if (y[e] != want) fail_msg("q2_K element %d: got %g want %g", e, y[e], want);
    }
    /* Q3_K: hmask[32] qs[64] scales[12] d. Same 2-bit layout; the third bit
     * is bit (4h + j) of hmask[16g + l] and, when clear, subtracts 4. Scales
     * are 6-bit, stored low nibbles first (s < 8: byte s low, else byte s-8
     * high) and top 2 bits in byte 8 + s%4 at bit 2*(s/4); value minus 32. */
    for (int i = 0; i < 32; i++) b[i] = (uint8_t)(i * 45 + 17);
    for (int i = 0; i < 64; i++) b[32 + i] = (uint8_t)(i * 77 + 2);
    int sc6[16];
    for (int s = 0; s < 16; s++) sc6[s] = (s * 23 + 5) % 64;
    memset(b + 96, 0, 12);
    for (int s = 0; s < 16; s++) {
        if (s < 8) b[96 + s] |= (uint8_t)(sc6[s] & 0xF);
        else b[96 + s - 8] |= (uint8_t)((sc6[s] & 0xF) << 4);
        b[96 + 8 + s % 4] |= (uint8_t)((sc6[s] >> 4) << (2 * (s / 4)));
    }
    b[108] = 0x00; b[109] = 0x38; /* d = 0.5 */
    assert_int_equal(dequantize_row(GGML_TYPE_Q3_K, b, y, 256), 0);
    for (int e = 0; e < 256; e++) {
        int h = e / 128, j = (e % 128) / 32, g = (e % 32) / 16, l = e % 16;
        int q = (b[32 + 32 * h + 16 * g + l] >> (2 * j)) & 3;
        if (!((b[16 * g + l] >> (4 * h + j)) & 1)) q -= 4;
        float want = 0.5f * (float)(sc6[8 * h + 2 * j + g] - 32) * (float)q;
        if (y[e] != want) fail_msg("q3_K element %d: got %g want %g", e, y[e], want);
    }
}

static void test_dequant_unsupported(void **state) {
    (void)state;
    uint8_t b[64] = {0};
    float y[32];
    assert_int_equal(dequantize_row(99, b, y, 32), -1);
    assert_int_equal(dequantize_row(16 /* iq2_xxs: known to the parser only */, b, y, 256), -1);
    assert_int_equal(dequantize_supported(GGML_TYPE_Q6_K), 1);
    assert_int_equal(dequantize_supported(16), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_v3_default_alignment),
        cmocka_unit_test(test_parse_v2_alignment_64),
        cmocka_unit_test(test_header_only_and_empty_tables),
        cmocka_unit_test(test_open_file),
        cmocka_unit_test(test_open_refuses_fifo),
        cmocka_unit_test(test_open_null_path),
        cmocka_unit_test(test_open_messages_name_the_file),
        cmocka_unit_test(test_type_tables),
        cmocka_unit_test(test_dequant_f32_f16_bf16),
        cmocka_unit_test(test_dequant_q8_0),
        cmocka_unit_test(test_dequant_q4_0),
        cmocka_unit_test(test_dequant_q4_1_q5),
        cmocka_unit_test(test_dequant_q4_k_q5_k),
        cmocka_unit_test(test_dequant_q6_k),
        cmocka_unit_test(test_dequant_q2_k_q3_k),
        cmocka_unit_test(test_dequant_unsupported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
