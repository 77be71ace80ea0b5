/* The Jinja interpreter of chat templates, construct by construct, with
 * expectations worked out by hand from Jinja's and @huggingface/jinja's
 * documented behaviour, and its error paths and bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "template/jinja.h"
#include "util/json.h"
#include "wgpt.h"

static char g_err[512];

/* Renders src with the members of the JSON object vars as variables.
 * Returns the text (static buffer), or NULL with the reason in g_err. */
static const char *render_lim(const char *src, const char *vars, const jinja_limits *lim) {
    static char out_buf[1 << 16];
    json_doc *d = NULL;
    jinja_var v[16];
    size_t n = 0;
    if (vars) {
        d = json_parse(vars, strlen(vars), "vars", g_err, sizeof g_err);
        assert_non_null(d);
        const json_value *r = json_root(d);
        for (size_t i = 0; i < r->n && n < 16; i++) v[n++] = (jinja_var){r->keys[i], &r->items[i]};
    }
    g_err[0] = 0;
    jinja_template *t = jinja_parse(src, strlen(src), lim, g_err, sizeof g_err);
    const char *res = NULL;
    if (t) {
        char *out = NULL;
        size_t len = 0;
        if (jinja_render(t, v, n, &out, &len, g_err, sizeof g_err) == 0) {
            assert_int_equal(strlen(out), len);
            assert_true(len < sizeof out_buf);
            memcpy(out_buf, out, len + 1);
            free(out);
            res = out_buf;
        } else assert_null(out);
    }
    jinja_free(t);
    json_free(d);
    if (!res) assert_null(strchr(g_err, '\n')); /* one line */
    return res;
}

static const char *render(const char *src, const char *vars) { return render_lim(src, vars, NULL); }

#define EXPECT(src, vars, want) do { \
        const char *got_ = render(src, vars); \
        if (!got_) fail_msg("%s: error %s", src, g_err); \
        assert_string_equal(got_, want); \
    } while (0)

/* The render fails and the message holds `want`. */
#define EXPECT_ERR(src, vars, want) do { \
        const char *got_ = render(src, vars); \
        if (got_) fail_msg("%s: rendered '%s', wanted an error", src, got_); \
        if (!strstr(g_err, want)) fail_msg("%s: error '%s' lacks '%s'", src, g_err, want); \
    } while (0)

static void test_text_and_output(void **st) {
    (void)st;
    EXPECT("", NULL, "");
    EXPECT("plain text", NULL, "plain text");
    EXPECT("a{{ 'b' }}c", NULL, "abc");
    EXPECT("{{ x }}|{{ y }}", "{\"x\": \"hi\", \"y\": 3}", "hi|3");
    /* one trailing newline of the source goes, as transformers' Jinja does */
    EXPECT("x\n", NULL, "x");
    EXPECT("x\n\n", NULL, "x\n");
    /* printing follows @huggingface/jinja */
    EXPECT("{{ true }}|{{ false }}|{{ none }}|{{ nothing }}|{{ 1.0 }}|{{ 2.5 }}", NULL, "true|false|||1.0|2.5");
    EXPECT("{{ [1, 'a', none, true] }}|{{ {'k': [1]} }}", NULL, "[1, \"a\", null, true]|{\"k\": [1]}");
    EXPECT("{{ 'a' 'b' }}", NULL, "ab");
    EXPECT("{{ '\\n\\t\\\\\\'\\u00e9\\x41' }}", NULL, "\n\t\\'\xc3\xa9" "A");
}

static void test_whitespace_control(void **st) {
    (void)st;
    /* trim_blocks: the newline after a %} goes; lstrip_blocks: blanks before a {% at a line's start go */
    EXPECT("{% if true %}\nA\n{% endif %}\nB", NULL, "A\nB");
    EXPECT("  {% if true %}A{% endif %}", NULL, "A");
    EXPECT("x  {% if true %}A{% endif %}", NULL, "x  A");
    EXPECT("  {{ 'A' }}", NULL, "  A"); /* not for {{ */
    EXPECT("a  \n  {%- if true -%}  \n  b  {%- endif %}", NULL, "ab");
    EXPECT("a {{- 'b' -}} c", NULL, "abc");
    EXPECT("a {#- comment -#} b", NULL, "ab");
    EXPECT("a {# comment #}\nb", NULL, "a b");
    EXPECT("{# c #}\nb", NULL, "b");
}

static void test_for(void **st) {
    (void)st;
    const char *v = "{\"l\": [\"a\", \"b\", \"c\"], \"d\": {\"x\": 1, \"y\": 2}}";
    EXPECT("{% for x in l %}{{ loop.index }}{{ loop.index0 }}{{ x }}{{ loop.revindex }}{{ loop.revindex0 }}"
           "{{ loop.length }}{% if loop.first %}F{% endif %}{% if loop.last %}L{% endif %};{% endfor %}",
           v, "10a323F;21b213;32c103L;");
    EXPECT("{% for k, val in d.items() %}{{ k }}={{ val }},{% endfor %}", v, "x=1,y=2,");
    EXPECT("{% for k in d %}{{ k }}{% endfor %}", v, "xy");
    EXPECT("{% for x in l if x != 'b' %}{{ loop.index }}/{{ loop.length }}{{ x }} {% endfor %}", v, "1/2a 2/2c ");
    EXPECT("{% for x in [] %}x{% else %}empty{% endfor %}", NULL, "empty");
    EXPECT("{% for x in l if false %}x{% else %}none passed{% endfor %}", v, "none passed");
    EXPECT("{% for c in 'h\xc3\xa9!' %}[{{ c }}]{% endfor %}", NULL, "[h][\xc3\xa9][!]");
    EXPECT("{% for x in l %}{% if x == 'b' %}{% continue %}{% endif %}{{ x }}{% if x == 'c' %}{% break %}{% endif %}{% endfor %}",
           v, "ac");
    EXPECT("{% for x in l %}{{ loop.previtem }}{{ loop.nextitem }}{{ loop.cycle('+', '-') }}{% endfor %}", v, "b+ac-b+");
    /* a set in the loop does not leak out of it */
    EXPECT("{% set n = 0 %}{% for x in l %}{% set n = n + 1 %}{% endfor %}{{ n }}", v, "0");
    EXPECT("{% for i in range(3) %}{{ i }}{% endfor %}{% for i in range(5, 0, -2) %}{{ i }}{% endfor %}", NULL, "012531");
}

static void test_if_set_namespace(void **st) {
    (void)st;
    EXPECT("{% if x == 1 %}one{% elif x == 2 %}two{% else %}other{% endif %}", "{\"x\": 2}", "two");
    EXPECT("{% if x == 1 %}one{% elif x == 2 %}two{% else %}other{% endif %}", "{\"x\": 5}", "other");
    EXPECT("{% set a = 'x' %}{% set b, c = [1, 2] %}{{ a }}{{ b }}{{ c }}", NULL, "x12");
    EXPECT("{% set ns = namespace(n=0, s='') %}{% for i in range(3) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}",
           NULL, "3");
    EXPECT("{% set block %}in {{ 1 + 1 }}{% endset %}[{{ block }}]", NULL, "[in 2]");
    EXPECT_ERR("{% set d = {'a': 1} %}{% set d.a = 2 %}", NULL, "only of a namespace");
    EXPECT("{% filter upper %}abc{{ 'd' }}{% endfilter %}", NULL, "ABCD");
}

static void test_macros(void **st) {
    (void)st;
    EXPECT("{% macro f(a, b='x') %}[{{ a }}{{ b }}]{% endmacro %}{{ f(1) }}{{ f(2, b=3) }}{{ f(a=4) }}", NULL,
           "[1x][23][4x]");
    EXPECT("{% macro w(t) %}<{{ t }}:{{ caller() }}>{% endmacro %}{% call w('p') %}body{% endcall %}", NULL, "<p:body>");
    EXPECT("{% macro w() %}{{ caller(7) }}{% endmacro %}{% call(n) w() %}n={{ n }}{% endcall %}", NULL, "n=7");
    EXPECT_ERR("{% macro f(a) %}{% endmacro %}{{ f(b=1) }}", NULL, "has no parameter 'b'");
}

static void test_operators(void **st) {
    (void)st;
    EXPECT("{{ 1 + 2 * 3 }}|{{ (1 + 2) * 3 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ -7 % 3 }}|{{ 7 / 2 }}|{{ 4 / 2 }}|{{ 2 ** 10 }}",
           NULL, "7|9|3|-4|2|3.5|2.0|1024");
    EXPECT("{{ 1 + 1.5 }}|{{ 'a' ~ 1 ~ true }}|{{ 'a' + 'b' }}|{{ [1] + [2] }}|{{ 'ab' * 2 }}", NULL,
           "2.5|a1true|ab|[1, 2]|abab");
    EXPECT("{{ 1 == 1.0 }}{{ 'a' != 'b' }}{{ 2 < 3 }}{{ 'b' > 'a' }}{{ 3 <= 3 }}{{ 2 >= 3 }}", NULL,
           "truetruetruetruetruefalse");
    EXPECT("{{ 'ell' in 'hello' }}{{ 2 in [1, 2] }}{{ 'k' in {'k': 1} }}{{ 3 not in [1] }}", NULL, "truetruetruetrue");
    EXPECT("{{ not 0 }}|{{ [] or 'z' }}|{{ 0 and 1 }}|{{ 'x' if 1 else 'y' }}|{{ 'x' if 0 else 'y' }}|{{ 'x' if 0 }}",
           NULL, "true|z|0|x|y|");
    EXPECT("{{ -x }}|{{ +x }}|{{ - 2.5 }}", "{\"x\": 3}", "-3|3|-2.5");
    EXPECT("{{ '' == false }}", NULL, "false");
    EXPECT_ERR("{{ 9223372036854775807 + 1 }}", NULL, "integer overflow");
    EXPECT_ERR("{{ 1 // 0 }}", NULL, "by zero");
    EXPECT_ERR("{{ 'a' - 1 }}", NULL, "unsupported operand types for -: string and integer");
}

static void test_access_and_slices(void **st) {
    (void)st;
    const char *v = "{\"m\": {\"role\": \"user\", \"content\": \"hi\"}, \"l\": [1, 2, 3, 4]}";
    EXPECT("{{ m.role }}{{ m['content'] }}{{ m.missing }}{{ l[0] }}{{ l[-1] }}{{ l[9] }}", v, "userhi14");
    EXPECT("{{ l[1:3] }}|{{ l[::-1] }}|{{ l[::2] }}|{{ l[-2:] }}|{{ l[:-3] }}|{{ l[3:1:-1] }}", v,
           "[2, 3]|[4, 3, 2, 1]|[1, 3]|[3, 4]|[1]|[4, 3]");
    EXPECT("{{ 'h\xc3\xa9llo'[::-1] }}|{{ 'h\xc3\xa9llo'[1] }}|{{ 'hello'[-3:] }}", NULL, "oll\xc3\xa9h|\xc3\xa9|llo");
    EXPECT("{{ m.get('role') }}|{{ m.get('x', 'd') }}|{{ m.get('x') is none }}|{{ m.keys() | list }}|{{ m.values() | list }}",
           v, "user|d|true|[\"role\", \"content\"]|[\"user\", \"hi\"]");
    EXPECT("{% set x = [1] %}{{ x.append(2) }}{{ x }}|{{ x.pop() }}{{ x }}", NULL, "[1, 2]|2[1]");
    EXPECT_ERR("{{ l[::0] }}", v, "slice step cannot be zero");
}

static void test_string_methods(void **st) {
    (void)st;
    EXPECT("{{ 'abc'.startswith('a') }}{{ 'abc'.endswith(('x', 'c')) }}{{ 'abc'.startswith('b') }}", NULL,
           "truetruefalse");
    EXPECT("[{{ '  a b  '.strip() }}][{{ 'xxaxx'.strip('x') }}][{{ '\\n\\na\\n'.lstrip('\\n') }}][{{ 'a  '.rstrip() }}]", NULL,
           "[a b][a][a\n][a]");
    EXPECT("{{ 'a,b,,c'.split(',') }}|{{ '  a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}", NULL,
           "[\"a\", \"b\", \"\", \"c\"]|[\"a\", \"b\"]|[\"a\", \"b c\"]");
    EXPECT("{{ 'x</think>y'.split('</think>')[-1] }}", NULL, "y");
    EXPECT("{{ 'Ab\xc3\xa9'.upper() }}|{{ 'AB\xc3\x89'.lower() }}|{{ 'hello wORLD'.title() }}|{{ 'hELLO'.capitalize() }}",
           NULL, "AB\xc3\x89|ab\xc3\xa9|Hello World|Hello");
    EXPECT("{{ 'a-b-c'.replace('-', '+') }}|{{ 'a-b-c'.replace('-', '', 1) }}|{{ ', '.join(['a', 'b']) }}|{{ 'abcb'.find('b') }}"
           "|{{ 'abcb'.count('b') }}", NULL, "a+b+c|ab-c|a, b|1|2");
    EXPECT("{{ '{} and {0}, {x} {{}}'.format('a', x='b') }}", NULL, "a and a, b {}");
    EXPECT_ERR("{{ '{:>4}'.format(1) }}", NULL, "unsupported: format specs");
    EXPECT_ERR("{{ 'a'.frob() }}", NULL, "unsupported method 'frob' of a string");
    EXPECT_ERR("{{ 'a' + none }}", NULL, "cannot add a string and none");
}

static void test_filters(void **st) {
    (void)st;
    const char *v = "{\"ms\": [{\"role\": \"system\", \"content\": \"s\"}, {\"role\": \"user\", \"content\": \"u1\"},"
                    "{\"role\": \"user\", \"content\": \"u2\"}], \"d\": {\"b\": 1, \"a\": \"\xc3\xa9\\n\"}}";
    EXPECT("[{{ '  x \\n' | trim }}]{{ 'h\xc3\xa9' | length }}{{ ms | length }}{{ d | count }}", v, "[x]232");
    EXPECT("{{ d | tojson }}", v, "{\"b\": 1, \"a\": \"\xc3\xa9\\n\"}");
    EXPECT("{{ [1, {'k': []}] | tojson(indent=2) }}", NULL, "[\n  1,\n  {\n    \"k\": []\n  }\n]");
    EXPECT("{{ 'Ab' | upper }}{{ 'Ab' | lower }}{{ 'ab cd' | title }}{{ 'aB' | capitalize }}", NULL, "ABabAb CdAb");
    EXPECT("{{ d | items | list }}", v, "[[\"b\", 1], [\"a\", \"\xc3\xa9\\n\"]]");
    EXPECT("{{ 3 | string + 'a' }}|{{ '42' | int + 1 }}|{{ 'x' | int }}|{{ '4.5' | float }}|{{ 5 | float }}", NULL,
           "3a|43|0|4.5|5.0");
    EXPECT("{{ nope | default('d') }}|{{ '' | default('e') }}|{{ '' | d('e', true) }}", NULL, "d||e");
    EXPECT("{{ ms | map(attribute='role') | join('/') }}|{{ [1, 2] | join }}", v, "system/user/user|12");
    EXPECT("{{ [3, 1, 2] | first }}{{ [3, 1, 2] | last }}{{ [3, 1, 2] | reverse | list }}{{ 'ab' | reverse }}{{ 'ab' | list }}",
           NULL, "32[2, 1, 3]ba[\"a\", \"b\"]");
    EXPECT("{{ ms | selectattr('role', 'equalto', 'user') | map(attribute='content') | list }}", v, "[\"u1\", \"u2\"]");
    EXPECT("{{ ms | rejectattr('role', 'eq', 'user') | list | length }}|{{ [0, 1, '', 'a'] | select | list }}", v,
           "1|[1, \"a\"]");
    EXPECT("{{ 'a\\nb' | replace('\\n', ' ') }}|{{ '<a&>' | e }}|{{ '<a>' | safe }}", NULL, "a b|&lt;a&amp;&gt;|<a>");
    EXPECT("{{ [3, 1, 2] | sort }}|{{ ['b', 'a'] | sort(reverse=true) }}|{{ [1, 2, 1] | unique | list }}|{{ [1, 5] | max }}"
           "|{{ [1, 2] | sum }}", NULL, "[1, 2, 3]|[\"b\", \"a\"]|[1, 2]|5|3");
    EXPECT("{{ 'a\\nb' | indent(2) }}|{{ 'a\\nb' | indent(2, true) }}|{{ -3 | abs }}|{{ 2.567 | round(1) }}", NULL,
           "a\n  b|  a\n  b|3|2.6");
    EXPECT_ERR("{{ 'x' | frobnicate }}", NULL, "line 1: unsupported filter 'frobnicate'");
}

static void test_tests(void **st) {
    (void)st;
    EXPECT("{{ x is defined }}{{ y is defined }}{{ y is undefined }}{{ n is none }}{{ x is not none }}",
           "{\"x\": 1, \"n\": null}", "truefalsetruetruetrue");
    EXPECT("{{ 'a' is string }}{{ 1 is number }}{{ 1.5 is number }}{{ 1 is integer }}{{ {} is mapping }}{{ [] is iterable }}"
           "{{ 'a' is sequence }}{{ true is boolean }}", NULL, "truetruetruetruetruetruetruetrue");
    EXPECT("{{ true is true }}{{ 0 is false }}{{ 3 is odd }}{{ 4 is even }}{{ 6 is divisibleby 3 }}{{ 2 is equalto 2 }}"
           "{{ 2 is eq(3) }}{{ 1 is in [1] }}{{ 'AB' is upper }}", NULL,
           "truefalsetruetruetruetruefalsetruetrue");
    EXPECT("{{ not x is defined }}", NULL, "true");
    EXPECT_ERR("{{ 1 is frob }}", NULL, "unsupported test 'frob'");
}

static void test_globals(void **st) {
    (void)st;
    EXPECT_ERR("a\n{{ raise_exception('Roles must alternate') }}", NULL, "line 2: raise_exception: Roles must alternate");
    const char *now = render("{{ strftime_now('%Y') }}", NULL);
    assert_non_null(now);
    assert_int_equal(strlen(now), 4);
    EXPECT("{{ dict(a=1) }}|{{ namespace(b=2).b }}", NULL, "{\"a\": 1}|2");
    EXPECT_ERR("{{ nosuch(1) }}", NULL, "'nosuch' is undefined, not a function");
}

static void test_parse_errors(void **st) {
    (void)st;
    EXPECT_ERR("x\n{{ 1 + }}", NULL, "line 2: expected an expression");
    EXPECT_ERR("a {{ x", NULL, "line 1: unterminated {{ expression");
    EXPECT_ERR("{% if x %}", NULL, "line 1: unclosed {% if %} (no {% endif %})");
    EXPECT_ERR("{% for x in y %}\n{% endif %}", NULL, "line 2: unexpected {% endif %}");
    EXPECT_ERR("\n\n{% include 'x' %}", NULL, "line 3: unsupported statement 'include'");
    EXPECT_ERR("{% for x in y recursive %}{% endfor %}", NULL, "unsupported: recursive for loops");
    EXPECT_ERR("{{ 'abc }}", NULL, "unterminated string literal");
    EXPECT_ERR("{# never closed", NULL, "unterminated comment");
    EXPECT_ERR("{{ a ; b }}", NULL, "unexpected character ';'");
    EXPECT_ERR("{% endfor %}", NULL, "unexpected {% endfor %}");
}

static void test_bounds(void **st) {
    (void)st;
    jinja_limits lim;
    jinja_limits_default(&lim);
    /* nesting in the source */
    char deep[4096];
    size_t o = 0;
    o += (size_t)snprintf(deep + o, sizeof deep - o, "{{ ");
    for (int i = 0; i < 500; i++) deep[o++] = '(';
    deep[o++] = '1';
    for (int i = 0; i < 500; i++) deep[o++] = ')';
    snprintf(deep + o, sizeof deep - o, " }}");
    assert_null(render_lim(deep, NULL, &lim));
    assert_non_null(strstr(g_err, "nested deeper than 200"));
    /* recursion at run time */
    assert_null(render_lim("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", NULL, &lim));
    assert_non_null(strstr(g_err, "recursion deeper than 200"));
    /* values nested as deep as the steps allow, compared */
    assert_null(render_lim("{% set ns = namespace(l=[]) %}{% for i in range(100000) %}{% set ns.l = [ns.l] %}{% endfor %}"
                           "{{ ns.l == ns.l }}", NULL, &lim));
    assert_non_null(strstr(g_err, "recursion deeper than 200"));
    assert_null(render_lim("{% set ns = namespace(l=[]) %}{% for i in range(100000) %}{% set ns.l = [ns.l] %}{% endfor %}"
                           "{{ [ns.l] | sort }}{{ ns.l < ns.l }}", NULL, &lim));
    assert_non_null(strstr(g_err, "recursion deeper than 200"));
    /* steps */
    lim.max_steps = 100000;
    assert_null(render_lim("{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}", NULL, &lim));
    assert_non_null(strstr(g_err, "more than 100000 steps"));
    /* work on long strings counts: a loop of comparisons of 1 MB strings */
    assert_null(render_lim("{% set s = 'x' * 1000000 %}{% for i in range(100000) %}{% if s == s %}{% endif %}{% endfor %}",
                           NULL, &lim));
    assert_non_null(strstr(g_err, "more than 100000 steps"));
    /* output */
    jinja_limits_default(&lim);
    lim.max_output = 1000;
    assert_null(render_lim("{% for i in range(200) %}0123456789{% endfor %}", NULL, &lim));
    assert_non_null(strstr(g_err, "output longer than 1000 bytes"));
    assert_null(render_lim("{{ 'ab' * 100000 }}", NULL, &lim));
    /* memory: a string that doubles each turn */
    jinja_limits_default(&lim);
    lim.max_memory = (size_t)4 << 20;
    assert_null(render_lim("{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
                           NULL, &lim));
    assert_non_null(strstr(g_err, "more than 4 MiB of memory"));
}

static void test_public_render(void **st) {
    (void)st;
    const wgpt_chat_message m[] = {{"system", "Be brief.", 0}, {"user", "Hi \"there\"\n", 0}};
    const char *tpl = "{{ bos_token }}{% for x in messages %}<{{ x.role }}>{{ x.content | trim }}{{ eos_token }}\n"
                      "{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}";
    char *out = NULL, err[256];
    size_t len = 0;
    assert_int_equal(wgpt_chat_render(tpl, m, 2, 1, "<s>", "</s>", &out, &len, err, sizeof err), WGPT_OK);
    assert_string_equal(out, "<s><system>Be brief.</s>\n<user>Hi \"there\"</s>\n<assistant>");
    assert_int_equal(len, strlen(out));
    wgpt_free(out);
    assert_int_equal(wgpt_chat_render(tpl, m, 2, 0, NULL, NULL, &out, NULL, err, sizeof err), WGPT_OK);
    assert_string_equal(out, "<system>Be brief.\n<user>Hi \"there\"\n");
    wgpt_free(out);
    assert_int_equal(wgpt_chat_render("{{ raise_exception('no') }}", m, 2, 1, NULL, NULL, &out, NULL, err, sizeof err),
                     WGPT_ERR_FORMAT);
    assert_null(out);
    assert_string_equal(err, "chat template: line 1: raise_exception: no");
    const wgpt_chat_message nul[] = {{"user", "a\0b", 3}};
    assert_int_equal(wgpt_chat_render("[{{ messages[0].content }}]{{ messages[0].content | length }}", nul, 1, 0, NULL, NULL,
                                      &out, &len, err, sizeof err), WGPT_OK);
    assert_int_equal(len, 6);
    assert_memory_equal(out, "[a\0b]3", 6);
    wgpt_free(out);
    const wgpt_chat_message bad[] = {{"user", NULL, 0}};
    assert_int_equal(wgpt_chat_render(tpl, bad, 1, 1, NULL, NULL, &out, NULL, err, sizeof err), WGPT_ERR_ARG);
    assert_int_equal(wgpt_chat_render(NULL, m, 2, 1, NULL, NULL, &out, NULL, err, sizeof err), WGPT_ERR_ARG);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_and_output),
        cmocka_unit_test(test_whitespace_control),
        cmocka_unit_test(test_for),
        cmocka_unit_test(test_if_set_namespace),
        cmocka_unit_test(test_macros),
        cmocka_unit_test(test_operators),
        cmocka_unit_test(test_access_and_slices),
        cmocka_unit_test(test_string_methods),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_tests),
        cmocka_unit_test(test_globals),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_public_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
