/* The safetensors header reader and the index reader against valid files
 * (F32, F16, BF16; one laid out by Python as the safetensors package does)
 * and each kind of malformed header: every failure is one line starting
 * "safetensors: " naming what is wrong. Inputs are copied into exactly-sized
 * heap buffers so that, in the ASan build, any read past the end is caught. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "formats/safetensors.h"

static const unsigned char py_file[] = {
    0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7b, 0x22, 0x5f, 0x5f, 0x6d, 0x65, 0x74, 0x61,
    0x64, 0x61, 0x74, 0x61, 0x5f, 0x5f, 0x22, 0x3a, 0x7b, 0x22, 0x66, 0x6f, 0x72, 0x6d, 0x61, 0x74,
    0x22, 0x3a, 0x22, 0x70, 0x74, 0x22, 0x7d, 0x2c, 0x22, 0x61, 0x2e, 0x77, 0x65, 0x69, 0x67, 0x68,
    0x74, 0x22, 0x3a, 0x7b, 0x22, 0x64, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x22, 0x46, 0x33, 0x32,
    0x22, 0x2c, 0x22, 0x73, 0x68, 0x61, 0x70, 0x65, 0x22, 0x3a, 0x5b, 0x32, 0x2c, 0x33, 0x5d, 0x2c,
    0x22, 0x64, 0x61, 0x74, 0x61, 0x5f, 0x6f, 0x66, 0x66, 0x73, 0x65, 0x74, 0x73, 0x22, 0x3a, 0x5b,
    0x30, 0x2c, 0x32, 0x34, 0x5d, 0x7d, 0x2c, 0x22, 0x62, 0x2e, 0x62, 0x69, 0x61, 0x73, 0x22, 0x3a,
    0x7b, 0x22, 0x64, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x22, 0x42, 0x46, 0x31, 0x36, 0x22, 0x2c,
    0x22, 0x73, 0x68, 0x61, 0x70, 0x65, 0x22, 0x3a, 0x5b, 0x34, 0x5d, 0x2c, 0x22, 0x64, 0x61, 0x74,
    0x61, 0x5f, 0x6f, 0x66, 0x66, 0x73, 0x65, 0x74, 0x73, 0x22, 0x3a, 0x5b, 0x32, 0x34, 0x2c, 0x33,
    0x32, 0x5d, 0x7d, 0x2c, 0x22, 0x63, 0x2e, 0x65, 0x6d, 0x62, 0x22, 0x3a, 0x7b, 0x22, 0x64, 0x74,
    0x79, 0x70, 0x65, 0x22, 0x3a, 0x22, 0x46, 0x31, 0x36, 0x22, 0x2c, 0x22, 0x73, 0x68, 0x61, 0x70,
    0x65, 0x22, 0x3a, 0x5b, 0x32, 0x2c, 0x31, 0x2c, 0x32, 0x5d, 0x2c, 0x22, 0x64, 0x61, 0x74, 0x61,
    0x5f, 0x6f, 0x66, 0x66, 0x73, 0x65, 0x74, 0x73, 0x22, 0x3a, 0x5b, 0x33, 0x32, 0x2c, 0x34, 0x30,
    0x5d, 0x7d, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40,
    0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x80, 0x40, 0x00, 0x00, 0xa0, 0x40, 0x00, 0x00, 0xc0, 0x40,
    0x80, 0x3f, 0x00, 0x40, 0x40, 0x40, 0x80, 0x40, 0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38, 0x00, 0x42,
};
#define PY_HEADER_LEN 224

/* 8-byte length, the JSON, then data_size bytes of data. */
static uint8_t *build(const char *json, size_t data_size, size_t *len) {
    size_t n = strlen(json);
    *len = 8 + n + data_size;
    uint8_t *b = calloc(1, *len);
    assert_non_null(b);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)n >> (8 * i));
    memcpy(b + 8, json, n);
    return b;
}

static void check_line(const char *err) {
    if (strncmp(err, "safetensors: ", 13) != 0 || strlen(err) < 20) fail_msg("bad message: '%s'", err);
    if (strchr(err, '\n')) fail_msg("message is not one line: '%s'", err);
}

static void expect_fail_bytes(const uint8_t *b, size_t len, const char *want) {
    uint8_t *c = malloc(len ? len : 1);
    assert_non_null(c);
    if (len) memcpy(c, b, len);
    st_file st;
    char err[512] = "";
    int rc = st_parse(&st, c, len, len, 0, err, sizeof err);
    free(c);
    if (rc == 0) { st_free(&st); fail_msg("parsed, expected failure containing '%s'", want); }
    check_line(err);
    if (!strstr(err, want)) fail_msg("message '%s' lacks '%s'", err, want);
    assert_null(st.tensors);
    assert_int_equal(st.n_tensors, 0);
    assert_int_equal(st.n_meta, 0);
}

static void expect_fail(const char *json, size_t data_size, const char *want) {
    size_t len;
    uint8_t *b = build(json, data_size, &len);
    expect_fail_bytes(b, len, want);
    free(b);
}

static void test_python_file(void **state) {
    (void)state;
    size_t len = sizeof py_file;
    uint8_t *c = malloc(len);
    memcpy(c, py_file, len);
    st_file st;
    char err[512] = "";
    if (st_parse(&st, c, len, len, 3, err, sizeof err)) fail_msg("%s", err);
    assert_int_equal(st.data_start, 8 + PY_HEADER_LEN);
    assert_int_equal(st.n_tensors, 3);
    assert_int_equal(st.n_meta, 1);
    assert_string_equal(st.meta_keys[0], "format");
    assert_string_equal(st.meta_vals[0], "pt");
    const st_tensor *a = &st.tensors[0], *b = &st.tensors[1], *e = &st.tensors[2];
    assert_string_equal(a->name, "a.weight");
    assert_string_equal(a->dtype, "F32");
    assert_int_equal(a->ggml_type, ST_GGML_F32);
    assert_int_equal(a->n_dims, 2);
    assert_int_equal(a->ne[0], 3);
    assert_int_equal(a->ne[1], 2);
    assert_int_equal(a->file, 3);
    assert_int_equal(a->offset, st.data_start);
    assert_int_equal(a->nbytes, 24);
    float f[6];
    memcpy(f, c + a->offset, sizeof f);
    assert_true(f[0] == 1.0f && f[5] == 6.0f);
    assert_string_equal(b->name, "b.bias");
    assert_int_equal(b->ggml_type, ST_GGML_BF16);
    assert_int_equal(b->n_dims, 1);
    assert_int_equal(b->ne[0], 4);
    assert_int_equal(b->offset, st.data_start + 24);
    assert_int_equal(b->nbytes, 8);
    assert_int_equal(c[b->offset + 1], 0x3f);   /* bf16 1.0 = 0x3f80 */
    assert_string_equal(e->name, "c.emb");
    assert_int_equal(e->ggml_type, ST_GGML_F16);
    assert_int_equal(e->n_dims, 3);
    assert_int_equal(e->ne[0], 2);
    assert_int_equal(e->ne[1], 1);
    assert_int_equal(e->ne[2], 2);
    assert_int_equal(e->offset, st.data_start + 32);
    assert_int_equal(e->nbytes, 8);
    assert_int_equal(e->offset + e->nbytes, len);
    st_free(&st);
    /* Every truncation fails cleanly (the header-only prefix parses when the
     * full size is given). */
    for (size_t n = 0; n < len; n++) {
        uint8_t *t = malloc(n ? n : 1);
        memcpy(t, py_file, n);
        int rc = st_parse(&st, t, n, n, 0, err, sizeof err);
        if (rc == 0) fail_msg("truncated to %zu bytes parsed", n);
        check_line(err);
        free(t);
    }
    /* Bit flips at every header byte: parse or fail with one line, never crash. */
    for (size_t i = 0; i < 8 + PY_HEADER_LEN; i++)
        for (int bit = 0; bit < 8; bit++) {
            c[i] ^= (uint8_t)(1 << bit);
            if (st_parse(&st, c, len, len, 0, err, sizeof err) == 0) st_free(&st);
            else check_line(err);
            c[i] ^= (uint8_t)(1 << bit);
        }
    free(c);
}

static void test_valid_built(void **state) {
    (void)state;
    const char *json =
        "{ \"x\" : {\"shape\":[], \"dtype\":\"F16\", \"data_offsets\":[8, 10]},\n"
        "  \"empty\": {\"dtype\":\"BF16\",\"shape\":[0,5],\"data_offsets\":[8,8]},\n"
        "  \"na\\u00efve \\ud83d\\ude00\\n\": {\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]} }   ";
    size_t len;
    uint8_t *b = build(json, 10, &len);
    st_file st;
    char err[512] = "";
    if (st_parse(&st, b, len, len, 0, err, sizeof err)) fail_msg("%s", err);
    assert_int_equal(st.n_tensors, 3);
    assert_int_equal(st.n_meta, 0);
    assert_int_equal(st.tensors[0].n_dims, 0);
    assert_int_equal(st.tensors[0].nbytes, 2);
    assert_int_equal(st.tensors[1].nbytes, 0);
    assert_int_equal(st.tensors[1].ne[0], 5);
    assert_string_equal(st.tensors[2].name, "na\xc3\xafve \xf0\x9f\x98\x80\n");
    st_free(&st);
    /* The header alone is enough when the file size is given. */
    if (st_parse(&st, b, len - 10, len, 0, err, sizeof err)) fail_msg("%s", err);
    st_free(&st);
    free(b);
    b = build("{}", 0, &len);
    if (st_parse(&st, b, len, len, 0, err, sizeof err)) fail_msg("%s", err);
    assert_int_equal(st.n_tensors, 0);
    st_free(&st);
    free(b);
}

static void test_header_length(void **state) {
    (void)state;
    uint8_t b[16] = {0};
    expect_fail_bytes(b, 4, "too short");
    uint64_t big = ST_MAX_HEADER + 1;
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(big >> (8 * i));
    expect_fail_bytes(b, 16, "exceeds the cap");
    memset(b, 0xff, 8);
    expect_fail_bytes(b, 16, "exceeds the cap");
    memset(b, 0, 8);
    b[0] = 9;
    expect_fail_bytes(b, 16, "exceeds the file");
    b[0] = 0;
    expect_fail_bytes(b, 16, "too small");
    /* Only part of the header read. */
    size_t len;
    uint8_t *f = build("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, &len);
    st_file st;
    char err[512];
    assert_int_not_equal(st_parse(&st, f, 20, len, 0, err, sizeof err), 0);
    check_line(err);
    assert_non_null(strstr(err, "not fully read"));
    free(f);
}

static void test_malformed(void **state) {
    (void)state;
    expect_fail("[]", 0, "not a JSON object");
    expect_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", 4, "expected ',' or '}'");
    expect_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} x", 4, "trailing bytes");
    expect_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},}", 4, "expected a string");
    expect_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]", 4, "not valid JSON");
    expect_fail("{\"a\x01\":{}}", 0, "control character");
    expect_fail("{\"a\\u0000b\":{}}", 0, "\\u0000");
    expect_fail("{\"a\\ud800\":{}}", 0, "unpaired surrogate");
    expect_fail("{\"a\\q\":{}}", 0, "bad escape");
    expect_fail("{\"a\":[]}", 0, "tensor 'a': entry is not an object");
    expect_fail("{\"\":{}}", 0, "empty name");
    /* dtype */
    expect_fail("{\"w\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, "tensor 'w': unsupported dtype 'I64'");
    expect_fail("{\"w\":{\"dtype\":\"Q4\\u001b[2J\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, "unknown dtype 'Q4\\x1b[2J'");
    expect_fail("{\"w\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,8]}}", 8, "dtype is not a string");
    expect_fail("{\"w\":{\"shape\":[1],\"data_offsets\":[0,8]}}", 8, "missing dtype");
    expect_fail("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, "missing shape");
    expect_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "missing data_offsets");
    expect_fail("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "field given twice");
    expect_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"extra\":1}}", 8, "unknown field 'extra'");
    /* shape */
    expect_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "shape entry 0 is negative");
    expect_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8, "shape entry 0 is not an integer");
    expect_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 8, "shape entry 0 is not an integer");
    expect_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[1,99999999999999999999],\"data_offsets\":[0,8]}}", 8, "shape entry 1 is too large");
    expect_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8, "element count overflows");
    expect_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,8]}}", 8, "element count overflows");
    expect_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,8]}}", 8, "byte size overflows");
    expect_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, "more than 8 dimensions");
    expect_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8, "shape is not an array");
    /* data_offsets */
    expect_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8, "has 1 entries, not two");
    expect_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}}", 8, "more than two entries");
    expect_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,-8]}}", 8, "data_offsets entry 1 is negative");
    expect_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", 8, "out of range (data is 8 bytes)");
    expect_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8, "out of range");
    expect_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,6]}}", 8, "span 6 bytes, but 2 elements of F32 take 8");
    expect_fail("{\"w\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "2 elements of BF16 take 4");
    /* overlap and duplicates */
    expect_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[6,10]}}", 10, "tensors 'a' and 'b' overlap");
    expect_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 8, "overlap");
    expect_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "tensor 'a' is given twice");
    /* __metadata__ */
    expect_fail("{\"__metadata__\":{\"k\":1}}", 0, "__metadata__ 'k' is not a string");
    expect_fail("{\"__metadata__\":[]}", 0, "__metadata__ is not an object");
    expect_fail("{\"__metadata__\":{},\"__metadata__\":{}}", 0, "__metadata__ given twice");
    /* A hostile name is escaped in the message. */
    expect_fail("{\"\\u001b]0;pwned\\u0007\":{\"dtype\":\"X\",\"shape\":[],\"data_offsets\":[0,0]}}", 0, "tensor '\\x1b]0;pwned\\x07'");
}

static void expect_index_fail(const char *json, const char *want) {
    size_t n = strlen(json);
    char *c = malloc(n ? n : 1);
    memcpy(c, json, n);
    st_index ix;
    char err[512] = "";
    int rc = st_index_parse(&ix, c, n, err, sizeof err);
    free(c);
    if (rc == 0) { st_index_free(&ix); fail_msg("parsed, expected failure containing '%s'", want); }
    check_line(err);
    if (!strstr(err, want)) fail_msg("message '%s' lacks '%s'", err, want);
    assert_null(ix.names);
    assert_null(ix.files);
}

static void test_index(void **state) {
    (void)state;
    const char *json = "{\"metadata\": {\"total_size\": 1.5e3, \"x\": [null, true, false, {\"y\": -1}]},\n"
                       " \"weight_map\": {\"a\": \"model-00001-of-00002.safetensors\",\n"
                       "   \"b\": \"model-00002-of-00002.safetensors\", \"c\": \"model-00001-of-00002.safetensors\"}}\n";
    size_t n = strlen(json);
    char *c = malloc(n);
    memcpy(c, json, n);
    st_index ix;
    char err[512] = "";
    if (st_index_parse(&ix, c, n, err, sizeof err)) fail_msg("%s", err);
    assert_int_equal(ix.n_names, 3);
    assert_int_equal(ix.n_files, 2);
    assert_string_equal(ix.names[2], "c");
    assert_string_equal(ix.files[ix.file_of[1]], "model-00002-of-00002.safetensors");
    assert_int_equal(ix.file_of[0], ix.file_of[2]);
    st_index_free(&ix);
    free(c);
    expect_index_fail("{\"weight_map\":{\"a\":\"../x.safetensors\"}}", "not a plain file name");
    expect_index_fail("{\"weight_map\":{\"a\":\"/etc/passwd\"}}", "not a plain file name");
    expect_index_fail("{\"weight_map\":{\"a\":\"sub/x.safetensors\"}}", "'sub/x.safetensors', not a plain file name");
    expect_index_fail("{\"weight_map\":{\"a\":\"..\"}}", "not a plain file name");
    expect_index_fail("{\"weight_map\":{\"a\":\"\"}}", "not a plain file name");
    expect_index_fail("{\"weight_map\":{\"a\":3}}", "weight_map 'a' is not a string");
    expect_index_fail("{\"weight_map\":{\"a\":\"x\",\"a\":\"y\"}}", "tensor 'a' is given twice");
    expect_index_fail("{\"weight_map\":{}}", "weight_map is empty");
    expect_index_fail("{\"metadata\":{}}", "no weight_map");
    expect_index_fail("{\"weight_map\":[]}", "weight_map is not an object");
    expect_index_fail("{\"weight_map\":{\"a\":\"x\"}", "not valid JSON");
    char deep[400];
    strcpy(deep, "{\"m\":");
    for (int i = 0; i < 100; i++) strcat(deep, "[");
    expect_index_fail(deep, "nested too deeply");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_python_file),
        cmocka_unit_test(test_valid_built),
        cmocka_unit_test(test_header_length),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
