/* JSON reader and writer: see json.h. */
#include "util/json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena: the document's nodes and strings, freed at once ---- */
typedef struct chunk { struct chunk *next; size_t used, cap; max_align_t data[]; } chunk;

struct json_doc {
    chunk *chunks;
    json_value root;
};

static void *arena_alloc(json_doc *d, size_t n) {
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    chunk *c = d->chunks;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > (1u << 20) ? n : (1u << 20);
        c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->next = d->chunks;
        c->used = 0;
        c->cap = cap;
        d->chunks = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

typedef struct {
    json_doc *d;
    const char *s, *p, *end;
    const char *what;
    char *err;
    size_t errlen;
    int failed;
} parser;

static int perr(parser *ps, const char *msg) {
    if (ps->failed) return -1;
    ps->failed = 1;
    if (!ps->err || !ps->errlen) return -1;
    size_t line = 1, col = 1;
    for (const char *q = ps->s; q < ps->p && q < ps->end; q++) {
        if (*q == '\n') { line++; col = 1; }
        else if (((unsigned char)*q & 0xC0) != 0x80) col++;
    }
    snprintf(ps->err, ps->errlen, "%s: %s at line %zu column %zu", ps->what ? ps->what : "JSON", msg, line, col);
    return -1;
}

static void skip_ws(parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

static int hex4(const char *p, unsigned *v) {
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        unsigned x = c >= '0' && c <= '9' ? (unsigned)(c - '0') : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                   : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16u;
        if (x == 16) return -1;
        *v = *v * 16 + x;
    }
    return 0;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid
 * (overlong forms, surrogates and code points past U+10FFFF included). */
static size_t utf8_len(const unsigned char *p, size_t n) {
    unsigned c = p[0];
    if (c < 0x80) return 1;
    size_t k;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) { k = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { k = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { k = 4; cp = c & 0x07; }
    else return 0;
    if (n < k) return 0;
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if ((k == 3 && (cp < 0x800 || (cp >= 0xD800 && cp < 0xE000))) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return k;
}

static size_t put_utf8(char *o, unsigned u) {
    if (u < 0x80) { o[0] = (char)u; return 1; }
    if (u < 0x800) { o[0] = (char)(0xC0 | u >> 6); o[1] = (char)(0x80 | (u & 63)); return 2; }
    if (u < 0x10000) {
        o[0] = (char)(0xE0 | u >> 12); o[1] = (char)(0x80 | (u >> 6 & 63)); o[2] = (char)(0x80 | (u & 63));
        return 3;
    }
    o[0] = (char)(0xF0 | u >> 18); o[1] = (char)(0x80 | (u >> 12 & 63));
    o[2] = (char)(0x80 | (u >> 6 & 63)); o[3] = (char)(0x80 | (u & 63));
    return 4;
}

static int parse_string(parser *ps, const char **out, size_t *out_len) {
    ps->p++; /* the opening quote */
    const char *q = ps->p;
    int escapes = 0;
    while (q < ps->end && *q != '"') {
        unsigned char c = (unsigned char)*q;
        if (c < 0x20) { ps->p = q; return perr(ps, "control character in a string"); }
        if (c == '\\') {
            escapes = 1;
            if (++q >= ps->end) break;
            q++;
        } else if (c < 0x80) {
            q++;
        } else {
            size_t k = utf8_len((const unsigned char *)q, (size_t)(ps->end - q));
            if (!k) { ps->p = q; return perr(ps, "invalid UTF-8 in a string"); }
            q += k;
        }
    }
    if (q >= ps->end) return perr(ps, "unterminated string");
    size_t raw = (size_t)(q - ps->p);
    char *b = arena_alloc(ps->d, raw + 1); /* decoding never lengthens: \uXXXX (6) -> at most 3, a pair (12) -> 4 */
    if (!b) return perr(ps, "out of memory");
    if (!escapes) {
        memcpy(b, ps->p, raw);
        b[raw] = 0;
        *out = b;
        *out_len = raw;
        ps->p = q + 1;
        return 0;
    }
    size_t o = 0;
    while (ps->p < q) {
        char c = *ps->p++;
        if (c != '\\') { b[o++] = c; continue; }
        c = *ps->p++;
        switch (c) {
        case '"': b[o++] = '"'; break;
        case '\\': b[o++] = '\\'; break;
        case '/': b[o++] = '/'; break;
        case 'b': b[o++] = '\b'; break;
        case 'f': b[o++] = '\f'; break;
        case 'n': b[o++] = '\n'; break;
        case 'r': b[o++] = '\r'; break;
        case 't': b[o++] = '\t'; break;
        case 'u': {
            unsigned u, u2;
            if (q - ps->p < 4 || hex4(ps->p, &u)) { ps->p -= 2; return perr(ps, "bad \\u escape"); }
            ps->p += 4;
            if (u >= 0xD800 && u < 0xDC00) {
                if (q - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' || hex4(ps->p + 2, &u2) || u2 < 0xDC00 ||
                    u2 >= 0xE000) {
                    ps->p -= 6;
                    return perr(ps, "unpaired surrogate in a \\u escape");
                }
                ps->p += 6;
                u = 0x10000 + ((u - 0xD800) << 10) + (u2 - 0xDC00);
            } else if (u >= 0xDC00 && u < 0xE000) {
                ps->p -= 6;
                return perr(ps, "unpaired surrogate in a \\u escape");
            }
            o += put_utf8(b + o, u);
            break;
        }
        default: ps->p -= 2; return perr(ps, "bad escape in a string");
        }
    }
    b[o] = 0;
    *out = b;
    *out_len = o;
    ps->p = q + 1;
    return 0;
}

static int parse_number(parser *ps, json_value *v) {
    const char *q = ps->p, *start = q;
    int is_int = 1;
    if (q < ps->end && *q == '-') q++;
    if (q >= ps->end || *q < '0' || *q > '9') return perr(ps, "invalid number");
    if (*q == '0') q++;
    else while (q < ps->end && *q >= '0' && *q <= '9') q++;
    if (q < ps->end && *q == '.') {
        is_int = 0;
        q++;
        if (q >= ps->end || *q < '0' || *q > '9') { ps->p = q; return perr(ps, "invalid number"); }
        while (q < ps->end && *q >= '0' && *q <= '9') q++;
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
        is_int = 0;
        q++;
        if (q < ps->end && (*q == '+' || *q == '-')) q++;
        if (q >= ps->end || *q < '0' || *q > '9') { ps->p = q; return perr(ps, "invalid number"); }
        while (q < ps->end && *q >= '0' && *q <= '9') q++;
    }
    char buf[64];
    size_t n = (size_t)(q - start);
    char *tmp = n < sizeof buf ? buf : malloc(n + 1);
    if (!tmp) return perr(ps, "out of memory");
    memcpy(tmp, start, n);
    tmp[n] = 0;
    errno = 0;
    double d = strtod(tmp, NULL);
    int range = errno == ERANGE && isinf(d);
    v->type = JSON_NUMBER;
    v->num = d;
    v->int_text = is_int;
    if (is_int) {
        errno = 0;
        long long ll = strtoll(tmp, NULL, 10);
        /* "-0" stays a double: as an integer it would lose its sign. */
        if (errno == 0 && !(ll == 0 && tmp[0] == '-')) { v->i = ll; v->is_int = 1; }
    }
    if (tmp != buf) free(tmp);
    if (range) return perr(ps, "number out of range");
    ps->p = q;
    return 0;
}

static int literal(parser *ps, const char *word, json_type t, json_value *v) {
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) return perr(ps, "unexpected character");
    ps->p += n;
    v->type = t;
    return 0;
}

/* Items are collected in a growing heap array, then copied into the arena
 * once their count is known, so that the arena holds no dead space. */
typedef struct { json_value *v; const char **k; size_t *kl; size_t n, cap; } items;

static int items_push(items *it, int with_keys) {
    if (it->n < it->cap) return 0;
    size_t cap = it->cap ? it->cap * 2 : 8;
    json_value *v = realloc(it->v, cap * sizeof *v);
    if (!v) return -1;
    it->v = v;
    if (with_keys) {
        const char **k = realloc(it->k, cap * sizeof *k);
        if (!k) return -1;
        it->k = k;
        size_t *kl = realloc(it->kl, cap * sizeof *kl);
        if (!kl) return -1;
        it->kl = kl;
    }
    it->cap = cap;
    return 0;
}

static void items_free(items *it) { free(it->v); free(it->k); free(it->kl); }

static int parse_value(parser *ps, json_value *v, int depth);

static int parse_container(parser *ps, json_value *v, int depth, int object) {
    if (depth >= JSON_MAX_DEPTH) return perr(ps, "nested too deeply");
    ps->p++;
    items it = {0};
    int rc = -1;
    skip_ws(ps);
    char close = object ? '}' : ']';
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        rc = 0;
        goto done;
    }
    for (;;) {
        if (items_push(&it, object)) { perr(ps, "out of memory"); goto fail; }
        skip_ws(ps);
        if (object) {
            if (ps->p >= ps->end || *ps->p != '"') { perr(ps, "expected a string key"); goto fail; }
            if (parse_string(ps, &it.k[it.n], &it.kl[it.n])) goto fail;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') { perr(ps, "expected ':'"); goto fail; }
            ps->p++;
        }
        memset(&it.v[it.n], 0, sizeof it.v[it.n]);
        if (parse_value(ps, &it.v[it.n], depth + 1)) goto fail;
        it.n++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
        if (ps->p < ps->end && *ps->p == close) { ps->p++; break; }
        perr(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
        goto fail;
    }
    rc = 0;
done:
    v->type = object ? JSON_OBJECT : JSON_ARRAY;
    v->n = it.n;
    if (it.n) {
        v->items = arena_alloc(ps->d, it.n * sizeof *v->items);
        if (object) {
            v->keys = arena_alloc(ps->d, it.n * sizeof *v->keys);
            v->key_lens = arena_alloc(ps->d, it.n * sizeof *v->key_lens);
        }
        if (!v->items || (object && (!v->keys || !v->key_lens))) { perr(ps, "out of memory"); rc = -1; goto fail; }
        memcpy(v->items, it.v, it.n * sizeof *v->items);
        if (object) {
            memcpy(v->keys, it.k, it.n * sizeof *v->keys);
            memcpy(v->key_lens, it.kl, it.n * sizeof *v->key_lens);
        }
    }
fail:
    items_free(&it);
    return rc;
}

static int parse_value(parser *ps, json_value *v, int depth) {
    skip_ws(ps);
    if (ps->p >= ps->end) return perr(ps, "unexpected end of input");
    switch (*ps->p) {
    case '{': return parse_container(ps, v, depth, 1);
    case '[': return parse_container(ps, v, depth, 0);
    case '"': v->type = JSON_STRING; return parse_string(ps, &v->str, &v->len);
    case 't': return literal(ps, "true", JSON_TRUE, v);
    case 'f': return literal(ps, "false", JSON_FALSE, v);
    case 'n': return literal(ps, "null", JSON_NULL, v);
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) return parse_number(ps, v);
        return perr(ps, "unexpected character");
    }
}

json_doc *json_parse(const char *text, size_t len, const char *what, char *err, size_t errlen) {
    if (err && errlen) err[0] = 0;
    json_doc *d = calloc(1, sizeof *d);
    if (!d) {
        if (err && errlen) snprintf(err, errlen, "%s: out of memory", what ? what : "JSON");
        return NULL;
    }
    const char *s = text ? text : "";
    parser ps = {d, s, s, s + (text ? len : 0), what, err, errlen, 0};
    /* A byte-order mark is not JSON, but editors write one. */
    if (ps.end - ps.p >= 3 && memcmp(ps.p, "\xEF\xBB\xBF", 3) == 0) ps.p += 3;
    if (parse_value(&ps, &d->root, 0) == 0) {
        skip_ws(&ps);
        if (ps.p == ps.end) return d;
        perr(&ps, "trailing bytes after the JSON value");
    }
    json_free(d);
    return NULL;
}

const json_value *json_root(const json_doc *d) { return d ? &d->root : NULL; }

void json_free(json_doc *d) {
    if (!d) return;
    for (chunk *c = d->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(d);
}

const json_value *json_get(const json_value *obj, const char *key) {
    if (!obj || obj->type != JSON_OBJECT || !key) return NULL;
    size_t n = strlen(key);
    for (size_t i = obj->n; i-- > 0;)
        if (obj->key_lens[i] == n && memcmp(obj->keys[i], key, n) == 0) return &obj->items[i];
    return NULL;
}

const json_value *json_at(const json_value *arr, size_t i) {
    if (!arr || arr->type != JSON_ARRAY || i >= arr->n) return NULL;
    return &arr->items[i];
}

int json_get_str(const json_value *obj, const char *key, const char **out, size_t *len) {
    const json_value *v = json_get(obj, key);
    if (!v || v->type != JSON_STRING) return -1;
    if (out) *out = v->str;
    if (len) *len = v->len;
    return 0;
}

int json_get_num(const json_value *obj, const char *key, double *out) {
    const json_value *v = json_get(obj, key);
    if (!v || v->type != JSON_NUMBER) return -1;
    if (out) *out = v->num;
    return 0;
}

int json_get_int(const json_value *obj, const char *key, int64_t *out) {
    const json_value *v = json_get(obj, key);
    if (!v || v->type != JSON_NUMBER) return -1;
    if (v->is_int) {
        if (out) *out = v->i;
        return 0;
    }
    /* 1e3 or 2.0 name integers too (configs written by Python's json do). */
    if (v->num != floor(v->num) || fabs(v->num) > 9007199254740992.0) return -1;
    if (out) *out = (int64_t)v->num;
    return 0;
}

int json_get_bool(const json_value *obj, const char *key, int *out) {
    const json_value *v = json_get(obj, key);
    if (!v || (v->type != JSON_TRUE && v->type != JSON_FALSE)) return -1;
    if (out) *out = v->type == JSON_TRUE;
    return 0;
}

const char *json_type_name(json_type t) {
    switch (t) {
    case JSON_NULL: return "null";
    case JSON_FALSE: case JSON_TRUE: return "a boolean";
    case JSON_NUMBER: return "a number";
    case JSON_STRING: return "a string";
    case JSON_ARRAY: return "an array";
    case JSON_OBJECT: return "an object";
    }
    return "?";
}

/* ---- writer ---- */
void jbuf_put(json_buf *b, const char *s, size_t n) {
    if (b->failed || !n) return;
    if (b->cap - b->len <= n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len <= n) {
            if (cap > SIZE_MAX / 2) { b->failed = 1; return; }
            cap *= 2;
        }
        char *d = realloc(b->data, cap);
        if (!d) { b->failed = 1; return; }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
}

void jbuf_puts(json_buf *b, const char *s) { jbuf_put(b, s, strlen(s)); }

void jbuf_printf(json_buf *b, const char *fmt, ...) {
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) { b->failed = 1; return; }
    if ((size_t)n < sizeof small) { jbuf_put(b, small, (size_t)n); return; }
    char *big = malloc((size_t)n + 1);
    if (!big) { b->failed = 1; return; }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    jbuf_put(b, big, (size_t)n);
    free(big);
}

void jbuf_free(json_buf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

void json_write_string(json_buf *b, const char *s, size_t n, int ascii_only) {
    jbuf_put(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\') run++;
        jbuf_put(b, s + i, run - i);
        if ((i = run) >= n) break;
        unsigned char c = p[i];
        if (c < 0x80) {
            switch (c) {
            case '"': jbuf_puts(b, "\\\""); break;
            case '\\': jbuf_puts(b, "\\\\"); break;
            case '\n': jbuf_puts(b, "\\n"); break;
            case '\r': jbuf_puts(b, "\\r"); break;
            case '\t': jbuf_puts(b, "\\t"); break;
            case '\b': jbuf_puts(b, "\\b"); break;
            case '\f': jbuf_puts(b, "\\f"); break;
            default: jbuf_printf(b, "\\u%04x", c);
            }
            i++;
            continue;
        }
        size_t k = utf8_len(p + i, n - i);
        if (!k) {
            jbuf_puts(b, ascii_only ? "\\ufffd" : "\xEF\xBF\xBD");
            i++;
            continue;
        }
        if (!ascii_only) {
            jbuf_put(b, s + i, k);
        } else {
            unsigned cp = k == 2 ? p[i] & 0x1Fu : k == 3 ? p[i] & 0x0Fu : p[i] & 0x07u;
            for (size_t j = 1; j < k; j++) cp = cp << 6 | (p[i + j] & 0x3Fu);
            if (cp < 0x10000) jbuf_printf(b, "\\u%04x", cp);
            else jbuf_printf(b, "\\u%04x\\u%04x", 0xD800 + ((cp - 0x10000) >> 10), 0xDC00 + ((cp - 0x10000) & 0x3FF));
        }
        i += k;
    }
    jbuf_put(b, "\"", 1);
}

/* The shortest %g text that reads back as the same double. */
static void write_number(json_buf *b, const json_value *v) {
    if (v->is_int) { jbuf_printf(b, "%lld", (long long)v->i); return; }
    if (!isfinite(v->num)) { jbuf_puts(b, "null"); return; }
    char t[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(t, sizeof t, "%.*g", prec, v->num);
        if (strtod(t, NULL) == v->num) break;
    }
    jbuf_puts(b, t);
}

void json_write(json_buf *b, const json_value *v, int ascii_only) {
    switch (v->type) {
    case JSON_NULL: jbuf_puts(b, "null"); break;
    case JSON_FALSE: jbuf_puts(b, "false"); break;
    case JSON_TRUE: jbuf_puts(b, "true"); break;
    case JSON_NUMBER: write_number(b, v); break;
    case JSON_STRING: json_write_string(b, v->str, v->len, ascii_only); break;
    case JSON_ARRAY:
    case JSON_OBJECT:
        jbuf_put(b, v->type == JSON_ARRAY ? "[" : "{", 1);
        for (size_t i = 0; i < v->n; i++) {
            if (i) jbuf_put(b, ",", 1);
            if (v->type == JSON_OBJECT) {
                json_write_string(b, v->keys[i], v->key_lens[i], ascii_only);
                jbuf_put(b, ":", 1);
            }
            json_write(b, &v->items[i], ascii_only);
        }
        jbuf_put(b, v->type == JSON_ARRAY ? "]" : "}", 1);
        break;
    }
}
