/* A JSON reader for hostile input (config.json, tokenizer.json,
 * tokenizer_config.json, chat messages, WebGPT's params) and a writer for
 * what we emit (Jinja's tojson, server replies).
 *
 * Why our own and not cJSON: Debian ships libcjson only as a shared library
 * and has no wasm build of it, while the browser build needs the same
 * reader; a reader of ours also bounds depth and sizes itself.
 *
 * The whole document lives in one arena owned by the json_doc: every
 * pointer into it dies with json_free. Objects keep their keys in file
 * order (tojson and Jinja's items() must give them back in that order);
 * a repeated key is kept twice and json_get finds the last, as JSON.parse
 * does. Strings are decoded, NUL-terminated and carry their length (a
 * "\u0000" inside one is kept). */
#ifndef WGPT_UTIL_JSON_H
#define WGPT_UTIL_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef enum { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json_value json_value;
struct json_value {
    json_type type;
    /* JSON_NUMBER: the value; int_text when the text had no fraction or
     * exponent, is_int when it also fits int64 (then i holds it exactly) */
    double num;
    int64_t i;
    int is_int, int_text;
    /* JSON_STRING */
    const char *str;
    size_t len;
    /* JSON_ARRAY / JSON_OBJECT: n items; objects also have n keys */
    size_t n;
    json_value *items;
    const char **keys;
    size_t *key_lens;
};

typedef struct json_doc json_doc;

#define JSON_MAX_DEPTH 64

/* Parses text[0..len) (need not be NUL-terminated). `what` names the
 * document in messages ("config.json"). Returns the document, or NULL with
 * one line in err: "<what>: <reason> at line L column C". Trailing
 * non-space text, depth past JSON_MAX_DEPTH, invalid UTF-8 in strings,
 * lone surrogates and numbers out of double's range are errors. */
json_doc *json_parse(const char *text, size_t len, const char *what, char *err, size_t errlen);
const json_value *json_root(const json_doc *d);
void json_free(json_doc *d);

/* Lookups: NULL when v is not of the kind asked or the member is absent. */
const json_value *json_get(const json_value *obj, const char *key);
const json_value *json_at(const json_value *arr, size_t i);
/* Typed member getters: 0 and *out set when present and of that type
 * (bool: true/false; int: a number that is an integer), else -1. */
int json_get_str(const json_value *obj, const char *key, const char **out, size_t *len);
int json_get_num(const json_value *obj, const char *key, double *out);
int json_get_int(const json_value *obj, const char *key, int64_t *out);
int json_get_bool(const json_value *obj, const char *key, int *out);
const char *json_type_name(json_type t);

/* A growing byte buffer for writers. On allocation failure `failed` is set
 * and later appends do nothing. */
typedef struct { char *data; size_t len, cap; int failed; } json_buf;
void jbuf_put(json_buf *b, const char *s, size_t n);
void jbuf_puts(json_buf *b, const char *s);
void jbuf_printf(json_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void jbuf_free(json_buf *b);
/* s as a JSON string literal with quotes; ascii_only escapes every non-ASCII
 * code point as \uXXXX (Python's json.dumps default; Jinja's tojson in
 * transformers passes ensure_ascii=False, so chat templates use 0). Invalid
 * UTF-8 bytes become U+FFFD. */
void json_write_string(json_buf *b, const char *s, size_t n, int ascii_only);
/* A value as compact JSON (",", ":" separators, as JSON.stringify). */
void json_write(json_buf *b, const json_value *v, int ascii_only);

#endif
