/* The GGUF reader against damaged and hostile files: every truncation, bit
 * flips at every byte, and each kind of impossible count, size or offset.
 * Inputs are copied into exactly-sized heap buffers so that, in the ASan
 * build, any read past the end is caught. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../fuzz/gguf_build.h"
#include "formats/gguf.h"
#include "formats/quant.h"

static uint8_t *exact_copy(const uint8_t *p, size_t n) {
    uint8_t *c = malloc(n ? n : 1);
    assert_non_null(c);
    if (n) memcpy(c, p, n);
    return c;
}

/* A failed parse must leave one line starting "gguf: " and an empty file. */
static void check_clean_failure(const gguf_file *g, const char *err) {
    if (strncmp(err, "gguf: ", 6) != 0 || strlen(err) < 12) fail_msg("bad message: '%s'", err);
    if (strchr(err, '\n')) fail_msg("message is not one line: '%s'", err);
    assert_null(g->kv);
    assert_null(g->tensors);
    assert_int_equal(g->n_kv, 0);
    assert_int_equal(g->n_tensors, 0);
}

static void expect_fail(const gb *b, const char *want) {
    uint8_t *c = exact_copy(b->p, b->len);
    gguf_file g;
    char err[512] = "";
    int rc = gguf_parse(&g, c, b->len, err, sizeof err);
    if (rc == 0) {
        gguf_close(&g);
        free(c);
        fail_msg("parsed, expected failure containing '%s'", want);
    }
    check_clean_failure(&g, err);
    if (!strstr(err, want)) fail_msg("message '%s' lacks '%s'", err, want);
    free(c);
}

static void expect_ok(const gb *b) {
    uint8_t *c = exact_copy(b->p, b->len);
    gguf_file g;
    char err[512] = "";
    if (gguf_parse(&g, c, b->len, err, sizeof err)) fail_msg("parse failed: %s", err);
    gguf_close(&g);
    free(c);
}

/* Touches everything a caller may touch after a successful parse, so that
 * ASan sees any pointer the parser let escape the buffer. */
static unsigned exercise(const gguf_file *g) {
    unsigned sum = 0;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const gguf_kv *kv = &g->kv[i];
        for (uint64_t j = 0; j < kv->key.len; j++) sum += (unsigned char)kv->key.ptr[j];
        if (kv->type == GGUF_TYPE_STRING)
            for (uint64_t j = 0; j < kv->str.len; j++) sum += (unsigned char)kv->str.ptr[j];
        if (kv->type != GGUF_TYPE_ARRAY) continue;
        gguf_str *s;
        if (gguf_arr_strings(kv, &s) == 0) {
            for (uint64_t j = 0; j < kv->arr_len; j++)
                for (uint64_t k = 0; k < s[j].len; k++) sum += (unsigned char)s[j].ptr[k];
            free(s);
        }
        double d;
        for (uint64_t j = 0; j < kv->arr_len && gguf_arr_num(kv, j, &d) == 0; j++) sum += d != 0;
    }
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *t = &g->tensors[i];
        uint32_t be, bb;
        if (ggml_type_block(t->type, &be, &bb)) fail_msg("parsed a tensor of unknown type %u", t->type);
        if (t->nbytes && !t->data) fail_msg("tensor %llu has bytes but no data", (unsigned long long)i);
        if (!dequantize_supported(t->type) || t->ne[0] > 4096) continue;
        uint64_t row = t->ne[0] / be * bb;
        if (row > t->nbytes) continue; /* a zero dimension leaves no rows */
        float *y = malloc((size_t)t->ne[0] * sizeof *y + 1);
        assert_non_null(y);
        assert_int_equal(dequantize_row(t->type, t->data, y, (int64_t)t->ne[0]), 0);
        free(y);
    }
    return sum;
}

static void test_every_truncation_fails(void **state) {
    (void)state;
    for (int variant = 0; variant < 2; variant++) {
        gb b = {0};
        gb_sample(&b, variant ? 2 : 3, variant ? 64 : 0);
        expect_ok(&b);
        for (size_t len = 0; len < b.len; len++) {
            uint8_t *c = exact_copy(b.p, len);
            gguf_file g;
            char err[512] = "";
            if (gguf_parse(&g, len ? c : NULL, len, err, sizeof err) == 0)
                fail_msg("prefix of %zu of %zu bytes parsed", len, b.len);
            check_clean_failure(&g, err);
            free(c);
        }
        gb_free(&b);
    }
}

static void test_bit_flips_never_crash(void **state) {
    (void)state;
    static const uint8_t patterns[] = {0xff, 0x01, 0x80, 0x10, 0x7f, 0x40};
    gb b = {0};
    gb_sample(&b, 3, 0);
    unsigned parsed = 0, failed = 0, sum = 0;
    for (size_t pos = 0; pos < b.len; pos++) {
        for (size_t k = 0; k < sizeof patterns; k++) {
            uint8_t *c = exact_copy(b.p, b.len);
            c[pos] ^= patterns[k];
            gguf_file g;
            char err[512] = "";
            if (gguf_parse(&g, c, b.len, err, sizeof err) == 0) {
                parsed++;
                sum += exercise(&g);
                gguf_close(&g);
            } else {
                failed++;
                check_clean_failure(&g, err);
            }
            free(c);
        }
    }
    /* Flips in tensor data and most values still parse; flips in lengths,
     * counts and types must not. Both outcomes have to occur. */
    assert_true(parsed > b.len);
    assert_true(failed > b.len / 4);
    (void)sum;
    gb_free(&b);
}

/* A file with one tensor info, written field by field, and data_bytes of
 * zeroed data after the aligned data offset. */
static void one_tensor(gb *b, const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t type,
                       uint64_t offset, size_t data_bytes) {
    gb_header(b, 3, 1, 0);
    gb_str(b, name);
    gb_u32(b, n_dims);
    for (uint32_t d = 0; d < n_dims; d++) gb_u64(b, ne[d]);
    gb_u32(b, type);
    gb_u64(b, offset);
    gb_pad(b, 32);
    for (size_t i = 0; i < data_bytes; i++) gb_u8(b, 0);
}

static void test_header_errors(void **state) {
    (void)state;
    gb b = {0};
    gb_bytes(&b, "GGUX", 4); gb_u32(&b, 3); gb_u64(&b, 0); gb_u64(&b, 0);
    expect_fail(&b, "not a GGUF file (magic 'GGUX'");
    gb_free(&b);

    gb_header(&b, 1, 0, 0);
    expect_fail(&b, "version 1 files are not supported");
    gb_free(&b);
    gb_header(&b, 0x03000000u, 0, 0);
    expect_fail(&b, "big-endian");
    gb_free(&b);
    gb_header(&b, 4, 0, 0);
    expect_fail(&b, "unsupported version 4");
    gb_free(&b);

    gb_header(&b, 3, 1ull << 62, 0);
    expect_fail(&b, "claims 4611686018427387904 tensors");
    gb_free(&b);
    gb_header(&b, 3, 0, UINT64_MAX);
    expect_fail(&b, "claims 18446744073709551615 metadata entries");
    gb_free(&b);
    /* the tensor count is checked again once the metadata is known */
    gb_header(&b, 3, 2, 1);
    gb_kv_str(&b, "k", "0123456789012345678901234567890123456789012345678901234567890123");
    expect_fail(&b, "after the metadata");
    gb_free(&b);

    gb_header(&b, 3, 0, 1);
    gb_key(&b, "k", GGUF_TYPE_UINT32); /* the value is missing */
    expect_fail(&b, "truncated file: kv 0 of 1 ('k') ends past byte 41 (file is 37 bytes)");
    gb_free(&b);

    char err[128];
    gguf_file g;
    assert_int_equal(gguf_parse(&g, NULL, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "truncated file: header ends past byte 4 (file is 0 bytes)"));
    assert_int_equal(gguf_parse(&g, NULL, 5, err, sizeof err), -1);
    assert_non_null(strstr(err, "no buffer"));
    /* no room for a message, or a tiny one: still fails safely */
    assert_int_equal(gguf_parse(&g, NULL, 0, NULL, 0), -1);
    char small[8];
    assert_int_equal(gguf_parse(&g, NULL, 0, small, sizeof small), -1);
    assert_string_equal(small, "gguf: t");
}

static void test_metadata_errors(void **state) {
    (void)state;
    gb b = {0};
    /* key length 2^63 */
    gb_header(&b, 3, 0, 1);
    gb_u64(&b, 1ull << 63);
    gb_bytes(&b, "abcdefgh", 8);
    expect_fail(&b, "kv 0 of 1: string length 9223372036854775808 runs past the end");
    gb_free(&b);
    /* value string length just past the end */
    gb_header(&b, 3, 0, 1);
    gb_key(&b, "name", GGUF_TYPE_STRING);
    gb_u64(&b, 5);
    gb_bytes(&b, "abcd", 4);
    expect_fail(&b, "truncated file: kv 0 of 1 ('name') ends past byte 53 (file is 52 bytes)");
    gb_free(&b);
    /* unknown value type */
    gb_header(&b, 3, 0, 1);
    gb_key(&b, "odd", 13);
    gb_u64(&b, 0);
    expect_fail(&b, "kv 0 of 1 ('odd'): unknown value type 13");
    gb_free(&b);
    /* huge array lengths, fixed-size and strings */
    gb_header(&b, 3, 0, 1);
    gb_key(&b, "arr", GGUF_TYPE_ARRAY); gb_u32(&b, GGUF_TYPE_UINT32); gb_u64(&b, 1ull << 61);
    gb_u32(&b, 1);
    expect_fail(&b, "array length 2305843009213693952 of u32 cannot fit");
    gb_free(&b);
    gb_header(&b, 3, 0, 1);
    gb_key(&b, "arr", GGUF_TYPE_ARRAY); gb_u32(&b, GGUF_TYPE_STRING); gb_u64(&b, UINT64_MAX);
    gb_u64(&b, 0);
    expect_fail(&b, "array length 18446744073709551615 of str cannot fit");
    gb_free(&b);
    /* an element string that lies past the end */
    gb_header(&b, 3, 0, 1);
    gb_key(&b, "arr", GGUF_TYPE_ARRAY); gb_u32(&b, GGUF_TYPE_STRING); gb_u64(&b, 2);
    gb_str(&b, "ok"); gb_u64(&b, 1000); gb_u64(&b, 0);
    expect_fail(&b, "string length 1000 runs past the end");
    gb_free(&b);
    /* unknown element type, also inside a nested array */
    gb_header(&b, 3, 0, 1);
    gb_key(&b, "arr", GGUF_TYPE_ARRAY); gb_u32(&b, 200); gb_u64(&b, 0);
    expect_fail(&b, "unknown array element type 200");
    gb_free(&b);
    gb_header(&b, 3, 0, 1);
    gb_key(&b, "arr", GGUF_TYPE_ARRAY); gb_u32(&b, GGUF_TYPE_ARRAY); gb_u64(&b, 1);
    gb_u32(&b, 77); gb_u64(&b, 0);
    expect_fail(&b, "unknown array element type 77");
    gb_free(&b);
    /* a nested array whose length is impossible */
    gb_header(&b, 3, 0, 1);
    gb_key(&b, "arr", GGUF_TYPE_ARRAY); gb_u32(&b, GGUF_TYPE_ARRAY); gb_u64(&b, 1);
    gb_u32(&b, GGUF_TYPE_UINT64); gb_u64(&b, 1ull << 60);
    expect_fail(&b, "array length 1152921504606846976 of u64 cannot fit");
    gb_free(&b);
    /* nesting: 8 levels parse, 9 do not */
    for (int levels = 8; levels <= 9; levels++) {
        gb_header(&b, 3, 0, 1);
        gb_key(&b, "deep", GGUF_TYPE_ARRAY);
        for (int l = 1; l < levels; l++) { gb_u32(&b, GGUF_TYPE_ARRAY); gb_u64(&b, 1); }
        gb_u32(&b, GGUF_TYPE_UINT8); gb_u64(&b, 1); gb_u8(&b, 42);
        if (levels == 8) expect_ok(&b);
        else expect_fail(&b, "arrays nested deeper than 8 levels");
        gb_free(&b);
    }
    /* duplicate keys */
    gb_header(&b, 3, 0, 3);
    gb_kv_u32(&b, "a", 1); gb_kv_u32(&b, "dup.key", 2); gb_kv_str(&b, "dup.key", "x");
    expect_fail(&b, "duplicate metadata key 'dup.key'");
    gb_free(&b);
    /* S1: a key with unprintable bytes is shown safely, escaped by the one
     * routine (util/text.h) every file-controlled string goes through */
    gb_header(&b, 3, 0, 1);
    gb_key(&b, "bad\n\x01key", 99);
    expect_fail(&b, "('bad\\n\\x01key'): unknown value type 99");
    gb_free(&b);
    /* S1: the QA report's injection: an escape sequence and a bidi override
     * in a tensor name come out as text, never as the bytes themselves */
    gb_header(&b, 3, 1, 0);
    gb_str(&b, "x\x1b[31mRED\x1b]0;PWNED\x07\xe2\x80\xae");
    gb_u32(&b, 9); /* n_dims out of range: the error quotes the name */
    expect_fail(&b, "('x\\x1b[31mRED\\x1b]0;PWNED\\x07\\u{202e}'): n_dims 9 out of range");
    gb_free(&b);
    /* S1: duplicate names quote the escaped name too */
    gb_header(&b, 3, 0, 2);
    gb_kv_u32(&b, "k\x1b[2J", 1); gb_kv_u32(&b, "k\x1b[2J", 2);
    expect_fail(&b, "duplicate metadata key 'k\\x1b[2J'");
    gb_free(&b);
}

static void test_alignment_errors(void **state) {
    (void)state;
    gb b = {0};
    static const uint32_t bad[] = {0, 3, 48, 0x80000001u};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gb_header(&b, 3, 0, 1);
        gb_kv_u32(&b, "general.alignment", bad[i]);
        expect_fail(&b, "is not a power of two");
        gb_free(&b);
    }
    gb_header(&b, 3, 0, 1);
    gb_key(&b, "general.alignment", GGUF_TYPE_UINT64); gb_u64(&b, 1ull << 40);
    expect_fail(&b, "general.alignment = 1099511627776 is not a power of two between 1 and 2^31");
    gb_free(&b);
    gb_header(&b, 3, 0, 1);
    gb_key(&b, "general.alignment", GGUF_TYPE_INT32); gb_u32(&b, (uint32_t)-32);
    expect_fail(&b, "general.alignment = -32 is not");
    gb_free(&b);
    gb_header(&b, 3, 0, 1);
    gb_kv_str(&b, "general.alignment", "32");
    expect_fail(&b, "general.alignment has type str, expected an integer");
    gb_free(&b);
    /* alignment 1 and 4096 are fine; the data offset follows them */
    for (uint32_t a = 1; a <= 4096; a *= 4096) {
        uint8_t data[4] = {1, 2, 3, 4};
        gb_tensor t = {"t", 1, {1, 1, 1, 1}, GGML_TYPE_F32, data, 4};
        gb_header(&b, 3, 1, 1);
        gb_kv_u32(&b, "general.alignment", a);
        gb_tensors(&b, &t, 1, a);
        gguf_file g;
        char err[256];
        assert_int_equal(gguf_parse(&g, b.p, b.len, err, sizeof err), 0);
        assert_int_equal(g.alignment, a);
        assert_int_equal(g.data_offset % a, 0);
        assert_memory_equal(g.tensors[0].data, data, 4);
        gguf_close(&g);
        gb_free(&b);
    }
}

static void test_tensor_errors(void **state) {
    (void)state;
    gb b = {0};
    const uint64_t ne1[4] = {8, 1, 1, 1};
    one_tensor(&b, "ok", 1, ne1, GGML_TYPE_F32, 0, 32);
    expect_ok(&b);
    gb_free(&b);

    const uint64_t ne5[5] = {1, 1, 1, 1, 1};
    one_tensor(&b, "w", 5, ne5, GGML_TYPE_F32, 0, 32);
    expect_fail(&b, "tensor info 0 of 1 ('w'): n_dims 5 out of range (1..4)");
    gb_free(&b);
    one_tensor(&b, "w", 0, ne5, GGML_TYPE_F32, 0, 32);
    expect_fail(&b, "n_dims 0 out of range");
    gb_free(&b);

    const uint64_t big[2] = {1ull << 32, 1ull << 32};
    one_tensor(&b, "w", 2, big, GGML_TYPE_F32, 0, 32);
    expect_fail(&b, "element count overflows (ne = 4294967296 x 4294967296 x 1 x 1)");
    gb_free(&b);
    const uint64_t neg[1] = {1ull << 63};
    one_tensor(&b, "w", 1, neg, GGML_TYPE_F32, 0, 32);
    expect_fail(&b, "ne[0] = 9223372036854775808 is negative as int64");
    gb_free(&b);
    const uint64_t wide[1] = {1ull << 62}; /* fits as elements, not as f32 bytes */
    one_tensor(&b, "w", 1, wide, GGML_TYPE_F32, 0, 32);
    expect_fail(&b, "byte size overflows");
    gb_free(&b);

    one_tensor(&b, "w", 1, ne1, 99, 0, 32);
    expect_fail(&b, "unknown ggml type 99");
    gb_free(&b);
    one_tensor(&b, "w", 1, ne1, 4 /* retired Q4_2 */, 0, 32);
    expect_fail(&b, "unknown ggml type 4");
    gb_free(&b);
    const uint64_t ne33[1] = {33};
    one_tensor(&b, "w", 1, ne33, GGML_TYPE_Q8_0, 0, 64);
    expect_fail(&b, "ne[0] = 33 is not a multiple of the q8_0 block size 32");
    gb_free(&b);

    one_tensor(&b, "w", 1, ne1, GGML_TYPE_F32, 16, 64);
    expect_fail(&b, "tensor 0 ('w'): offset 16 is not a multiple of the alignment 32");
    gb_free(&b);
    one_tensor(&b, "w", 1, ne1, GGML_TYPE_F32, 1024, 32);
    expect_fail(&b, "tensor 0 ('w'): data at offset 1024 + 32 bytes runs past the end of the data section (32 bytes");
    gb_free(&b);
    one_tensor(&b, "w", 1, ne1, GGML_TYPE_F32, 0, 31); /* one byte short */
    expect_fail(&b, "data at offset 0 + 32 bytes runs past the end of the data section (31 bytes");
    gb_free(&b);
    one_tensor(&b, "w", 1, ne1, GGML_TYPE_F32, UINT64_MAX - 31, 32); /* offset + size wraps */
    expect_fail(&b, "runs past the end");
    gb_free(&b);

    gb_header(&b, 3, 1, 0);
    gb_str(&b, "a_rather_long_name_x"); gb_u32(&b, 2); gb_u64(&b, 8); /* ne[1] is missing */
    expect_fail(&b, "truncated file: tensor info 0 of 1 ('a_rather_long_name_x') ends past byte 72 (file is 64 bytes)");
    gb_free(&b);

    /* duplicate names, also when not adjacent */
    uint8_t data[32] = {0};
    gb_tensor t[3] = {
        {"blk.0.w", 1, {8, 1, 1, 1}, GGML_TYPE_F32, data, 32},
        {"blk.1.w", 1, {8, 1, 1, 1}, GGML_TYPE_F32, data, 32},
        {"blk.0.w", 1, {8, 1, 1, 1}, GGML_TYPE_F32, data, 32},
    };
    gb_header(&b, 3, 3, 0);
    gb_tensors(&b, t, 3, 32);
    expect_fail(&b, "duplicate tensor name 'blk.0.w'");
    gb_free(&b);

    /* a zero dimension is a legal, empty tensor */
    const uint64_t empty[2] = {8, 0};
    one_tensor(&b, "empty", 2, empty, GGML_TYPE_F32, 0, 0);
    gguf_file g;
    char err[256];
    assert_int_equal(gguf_parse(&g, b.p, b.len, err, sizeof err), 0);
    assert_int_equal(g.tensors[0].nbytes, 0);
    exercise(&g);
    gguf_close(&g);
    gb_free(&b);
}

/* Parses the first len bytes of buf as the header of a file of file_size
 * bytes; returns 0 or -1, with *need and the message. */
static int header_of(const uint8_t *buf, size_t len, uint64_t file_size, uint64_t *need, char *err, size_t errlen) {
    uint8_t *c = exact_copy(buf, len);
    gguf_file g;
    int rc = gguf_parse_header(&g, len ? c : NULL, len, file_size, need, err, errlen);
    if (rc == 0) gguf_close(&g);
    else check_clean_failure(&g, err);
    free(c);
    return rc;
}

/* S4: a prefix of a valid file never fails for good; it asks for more, a
 * length past what it has and within the file, until the header parses. */
static void test_prefix_of_valid_header_asks_for_more(void **state) {
    (void)state;
    gb b = {0};
    gb_sample(&b, 3, 0);
    char err[512];
    uint64_t need;
    for (size_t len = 0; len < b.len; len++) {
        if (header_of(b.p, len, b.len, &need, err, sizeof err) == 0) continue;
        if (!(need > len && need <= b.len)) fail_msg("prefix %zu: need %llu, message '%s'", len, (unsigned long long)need, err);
    }
    /* Following the requests from nothing reaches a parsed header in a few rounds. */
    size_t len = 0;
    int rounds = 0;
    while (header_of(b.p, len, b.len, &need, err, sizeof err) != 0) {
        assert_true(need > len);
        len = (size_t)need;
        assert_true(++rounds < 200);
    }
    /* Hand-counted requests: the magic (4 bytes), then the tensor count
     * (a u64 at byte 8), then both tables at their smallest: 34 entries of
     * at least 13 bytes and 7 tensor infos of at least 32, after the
     * 24-byte header: 24 + 34 * 13 + 7 * 32 = 690. */
    assert_int_equal(header_of(b.p, 3, b.len, &need, err, sizeof err), -1);
    assert_int_equal(need, 4);
    assert_int_equal(header_of(b.p, 10, b.len, &need, err, sizeof err), -1);
    assert_int_equal(need, 16);
    assert_int_equal(header_of(b.p, 24, b.len, &need, err, sizeof err), -1);
    assert_int_equal(need, 690);
    assert_non_null(strstr(err, "goes on past the first 24 bytes"));
    /* The whole file held: a cut is the file's fault, nothing more to ask. */
    assert_int_equal(header_of(b.p, 20, 20, &need, err, sizeof err), -1);
    assert_int_equal(need, 0);
    assert_non_null(strstr(err, "truncated file: header ends past byte 24 (file is 20 bytes)"));
    gb_free(&b);
}

/* S4: errors in the bytes held fail at once, however large the file says it
 * is, so a loader never asks for more of a file that is not a model. */
static void test_header_errors_never_ask_for_more(void **state) {
    (void)state;
    const uint64_t huge = 8ull << 30; /* the QA report's 8 GiB URL */
    char err[512];
    uint64_t need = 1;
    gb b = {0};
    gb_bytes(&b, "NOPE", 4); gb_u32(&b, 3); gb_u64(&b, 0); gb_u64(&b, 0);
    assert_int_equal(header_of(b.p, b.len, huge, &need, err, sizeof err), -1);
    assert_int_equal(need, 0);
    assert_non_null(strstr(err, "not a GGUF file (magic 'NOPE'"));
    gb_free(&b);

    gb_header(&b, 1, 0, 0);
    assert_int_equal(header_of(b.p, b.len, huge, &need, err, sizeof err), -1);
    assert_int_equal(need, 0);
    assert_non_null(strstr(err, "version 1"));
    gb_free(&b);

    /* counts no file of this size could hold */
    gb_header(&b, 3, 0, 1ull << 62);
    assert_int_equal(header_of(b.p, b.len, huge, &need, err, sizeof err), -1);
    assert_int_equal(need, 0);
    assert_non_null(strstr(err, "claims 4611686018427387904 metadata entries"));
    gb_free(&b);

    /* a string longer than the file */
    gb_header(&b, 3, 0, 1);
    gb_u64(&b, huge + 1); /* key length */
    gb_bytes(&b, "keykeykey", 9);
    assert_int_equal(header_of(b.p, b.len, huge, &need, err, sizeof err), -1);
    assert_int_equal(need, 0);
    assert_non_null(strstr(err, "runs past the end of the file"));
    gb_free(&b);

    /* duplicate keys and a bad alignment, found inside the prefix */
    gb_header(&b, 3, 0, 2);
    gb_kv_u32(&b, "k", 1); gb_kv_u32(&b, "k", 2);
    assert_int_equal(header_of(b.p, b.len, huge, &need, err, sizeof err), -1);
    assert_int_equal(need, 0);
    assert_non_null(strstr(err, "duplicate metadata key 'k'"));
    gb_free(&b);
    gb_header(&b, 3, 0, 1);
    gb_kv_u32(&b, "general.alignment", 3);
    assert_int_equal(header_of(b.p, b.len, huge, &need, err, sizeof err), -1);
    assert_int_equal(need, 0);
    assert_non_null(strstr(err, "not a power of two"));
    gb_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefix_of_valid_header_asks_for_more),
        cmocka_unit_test(test_header_errors_never_ask_for_more),
        cmocka_unit_test(test_every_truncation_fails),
        cmocka_unit_test(test_bit_flips_never_crash),
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_metadata_errors),
        cmocka_unit_test(test_alignment_errors),
        cmocka_unit_test(test_tensor_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
