/* text_escape / text_stream: what untrusted bytes look like once printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/text.h"

static void expect(const char *src, size_t len, const char *want) {
    char out[256];
    text_escape(out, sizeof out, src, len, 0);
    assert_string_equal(out, want);
}

static void test_plain_and_utf8_kept(void **st) {
    (void)st;
    expect("hello", 5, "hello");
    expect("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80", 14, "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80");
}

static void test_controls_escaped(void **st) {
    (void)st;
    expect("\x1b[2J\x1b]0;PWNED\x07", 14, "\\x1b[2J\\x1b]0;PWNED\\x07");
    expect("a\nb\tc\rd", 7, "a\\nb\\tc\\rd");
    expect("back\\slash", 10, "back\\\\slash");
    expect("\x7f", 1, "\\x7f");
    /* C1 CSI as UTF-8, and a right-to-left override. */
    expect("\xc2\x9b" "31m", 5, "\\x9b31m");
    expect("\xe2\x80\xae" "txt", 6, "\\u{202e}txt");
    expect("a\0b", 3, "a\\x00b");
}

static void test_invalid_utf8_escaped(void **st) {
    (void)st;
    expect("\xff\xfe", 2, "\\xff\\xfe");
    expect("\xc0\xaf", 2, "\\xc0\\xaf");            /* overlong '/' */
    expect("\xed\xa0\x80", 3, "\\xed\\xa0\\x80");   /* surrogate */
    expect("\xe6\x97", 2, "\\xe6\\x97");            /* cut short */
}

static void test_cap_marker(void **st) {
    (void)st;
    char big[1000];
    memset(big, 'x', sizeof big);
    char out[600];
    size_t n = text_escape(out, sizeof out, big, sizeof big, 100);
    assert_int_equal(n, strlen(out));
    assert_non_null(strstr(out, "...(900 more bytes)"));
    assert_int_equal(strspn(out, "x"), 100);
    /* A small buffer: cut with the marker, never overrun. */
    char small[48];
    char esc[20];
    memset(esc, 0x1b, sizeof esc);
    text_escape(small, sizeof small, esc, sizeof esc, 0);
    assert_true(strlen(small) < sizeof small);
    assert_non_null(strstr(small, "more bytes)"));
    assert_null(strchr(small, 0x1b));
    /* Rotating buffers survive several uses in one call. */
    char line[128];
    snprintf(line, sizeof line, "%s|%s|%s", text_show("a\n", 2), text_show_z("b\x1b"), text_show(NULL, 3));
    assert_string_equal(line, "a\\n|b\\x1b|");
}

static void test_stream_split_characters(void **st) {
    (void)st;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    text_stream s = {0};
    /* An emoji split over three pieces, an escape, a newline, a lone bad byte. */
    assert_int_equal(text_stream_write(&s, f, "\xf0\x9f", 2), 0);
    assert_int_equal(text_stream_write(&s, f, "\x98", 1), 0);
    assert_int_equal(text_stream_write(&s, f, "\x80 ok\n\x1b[2J\t", 10), 0);
    assert_int_equal(text_stream_write(&s, f, "\xff" "end\xe6", 5), 0);
    assert_int_equal(text_stream_flush(&s, f), 0);
    fclose(f);
    assert_string_equal(buf, "\xf0\x9f\x98\x80 ok\n\\x1b[2J\t\\xffend\\xe6");
    free(buf);
    /* --raw passes bytes as they are. */
    f = open_memstream(&buf, &len);
    text_stream r = {.raw = 1};
    text_stream_write(&r, f, "\x1b[2J", 4);
    fclose(f);
    assert_memory_equal(buf, "\x1b[2J", 4);
    free(buf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_utf8_kept),
        cmocka_unit_test(test_controls_escaped),
        cmocka_unit_test(test_invalid_utf8_escaped),
        cmocka_unit_test(test_cap_marker),
        cmocka_unit_test(test_stream_split_characters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
