/* The JSON reader and writer against hand-written documents: values,
 * escapes, order, and one clear line for each kind of bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/json.h"

static json_doc *parse(const char *s) {
    char err[256] = "";
    json_doc *d = json_parse(s, strlen(s), "t.json", err, sizeof err);
    if (!d) fprintf(stderr, "unexpected error: %s\n", err);
    assert_non_null(d);
    return d;
}

static void expect_error(const char *s, size_t len, const char *want) {
    char err[256] = "";
    json_doc *d = json_parse(s, len, "t.json", err, sizeof err);
    assert_null(d);
    if (!strstr(err, want)) fprintf(stderr, "got '%s', wanted '%s'\n", err, want);
    assert_non_null(strstr(err, want));
    assert_null(strchr(err, '\n'));
    assert_int_equal(strncmp(err, "t.json: ", 8), 0);
}

static void test_values(void **st) {
    (void)st;
    json_doc *d = parse(" {\"a\": [1, -2.5e1, 9007199254740993, true, false, null], \"s\": \"x\", \"o\": {}} ");
    const json_value *r = json_root(d), *a = json_get(r, "a");
    assert_int_equal(r->type, JSON_OBJECT);
    assert_int_equal(r->n, 3);
    assert_string_equal(r->keys[0], "a");
    assert_string_equal(r->keys[2], "o");
    assert_int_equal(a->n, 6);
    assert_true(json_at(a, 0)->is_int);
    assert_int_equal(json_at(a, 0)->i, 1);
    assert_false(json_at(a, 1)->is_int);
    assert_true(json_at(a, 1)->num == -25.0);
    assert_true(json_at(a, 2)->i == 9007199254740993LL); /* exact past 2^53 */
    assert_int_equal(json_at(a, 3)->type, JSON_TRUE);
    assert_int_equal(json_at(a, 5)->type, JSON_NULL);
    assert_null(json_at(a, 6));
    int64_t i;
    double f;
    int b;
    const char *s;
    size_t n;
    assert_int_equal(json_get_str(r, "s", &s, &n), 0);
    assert_string_equal(s, "x");
    assert_int_equal(json_get_int(r, "s", &i), -1);
    assert_int_equal(json_get_num(r, "missing", &f), -1);
    assert_int_equal(json_get_bool(r, "o", &b), -1);
    assert_int_equal(json_get(r, "o")->n, 0);
    json_free(d);
    d = parse("{\"k\": 2.0, \"e\": 1e3, \"h\": 0.5, \"t\": true, \"k\": 7}");
    assert_int_equal(json_get_int(json_root(d), "e", &i), 0);
    assert_int_equal(i, 1000);
    assert_int_equal(json_get_int(json_root(d), "h", &i), -1);
    assert_int_equal(json_get_bool(json_root(d), "t", &b), 0);
    assert_int_equal(b, 1);
    assert_int_equal(json_get_int(json_root(d), "k", &i), 0); /* the last of a repeated key, as JSON.parse */
    assert_int_equal(i, 7);
    json_free(d);
}

static void test_strings(void **st) {
    (void)st;
    json_doc *d = parse("[\"a\\\"b\\\\c\\/d\\n\\t\", \"\\u00e9\\u65e5\\ud83d\\ude00\", \"raw \xc3\xa9\", \"nul\\u0000x\"]");
    const json_value *r = json_root(d);
    assert_string_equal(json_at(r, 0)->str, "a\"b\\c/d\n\t");
    assert_string_equal(json_at(r, 1)->str, "\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80");
    assert_int_equal(json_at(r, 1)->len, 9);
    assert_string_equal(json_at(r, 2)->str, "raw \xc3\xa9");
    assert_int_equal(json_at(r, 3)->len, 5);
    assert_memory_equal(json_at(r, 3)->str, "nul\0x", 5);
    json_free(d);
}

static void test_errors(void **st) {
    (void)st;
    expect_error("", 0, "unexpected end of input at line 1 column 1");
    expect_error("{\"a\":1,}", 8, "expected a string key");
    expect_error("[1 2]", 5, "expected ',' or ']' at line 1 column 4");
    expect_error("{\n\"a\" 1}", 8, "expected ':' at line 2 column 5");
    expect_error("01", 2, "trailing bytes after the JSON value");
    expect_error("1.", 2, "invalid number");
    expect_error("1e999", 5, "number out of range");
    expect_error("\"abc", 4, "unterminated string");
    expect_error("\"a\nb\"", 5, "control character");
    expect_error("\"\\x\"", 4, "bad escape");
    expect_error("\"\\ud800\"", 8, "unpaired surrogate");
    expect_error("\"\\udc00\"", 8, "unpaired surrogate");
    expect_error("\"\xc3\"", 3, "invalid UTF-8");
    expect_error("\"\xed\xa0\x80\"", 5, "invalid UTF-8");   /* an encoded surrogate */
    expect_error("\"\xc0\xaf\"", 4, "invalid UTF-8");       /* overlong */
    expect_error("tru", 3, "unexpected character");
    expect_error("[1] x", 5, "trailing bytes");
    char deep[400];
    memset(deep, '[', sizeof deep);
    expect_error(deep, sizeof deep, "nested too deeply");
}

static void test_writer(void **st) {
    (void)st;
    json_doc *d = parse("{\"b\": [1, 0.1, -2.5e-8, 1e300, \"q\\\"\\u0001\xc3\xa9\xf0\x9f\x98\x80\"], \"a\": {\"x\": null}}");
    json_buf b = {0};
    json_write(&b, json_root(d), 0);
    assert_string_equal(b.data, "{\"b\":[1,0.1,-2.5e-08,1e+300,\"q\\\"\\u0001\xc3\xa9\xf0\x9f\x98\x80\"],\"a\":{\"x\":null}}");
    jbuf_free(&b);
    json_write(&b, json_at(json_get(json_root(d), "b"), 4), 1);
    assert_string_equal(b.data, "\"q\\\"\\u0001\\u00e9\\ud83d\\ude00\"");
    jbuf_free(&b);
    json_write_string(&b, "bad \xff byte", 10, 0);
    assert_string_equal(b.data, "\"bad \xef\xbf\xbd byte\"");
    jbuf_free(&b);
    json_free(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
