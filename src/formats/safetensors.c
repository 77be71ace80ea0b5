/* safetensors headers and index files as hostile input: see safetensors.h. */
#include "formats/safetensors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"

#define MAX_DEPTH 64

static void fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || !errlen) return;
    int n = snprintf(err, errlen, "safetensors: ");
    if (n < 0 || (size_t)n >= errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
    for (char *c = err; *c; c++) if (*c == '\n' || *c == '\r') *c = ' ';
}

/* ---- a small JSON reader over [p, end) ---- */
typedef struct {
    const char *s, *p, *end;
    char *err;
    size_t errlen;
    const char *what;       /* "header" or "index" */
} js;

static int jerr(js *j, const char *msg) {
    fail(j->err, j->errlen, "%s is not valid JSON: %s at byte %zu", j->what, msg, (size_t)(j->p - j->s));
    return -1;
}

static void ws(js *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

static int expect(js *j, char c) {
    ws(j);
    if (j->p >= j->end || *j->p != c) {
        char m[32];
        snprintf(m, sizeof m, "expected '%c'", c);
        return jerr(j, m);
    }
    j->p++;
    return 0;
}

static int peek(js *j) { ws(j); return j->p < j->end ? (unsigned char)*j->p : -1; }

static int hex4(const char *p, unsigned *v) {
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                   : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16;
        if (d == 16) return -1;
        *v = *v * 16 + d;
    }
    return 0;
}

/* A JSON string, decoded into a new NUL-terminated buffer (out may be NULL
 * to skip). Decoded length in *len. Raw bytes must be valid per JSON (no
 * control characters); a decoded NUL is refused when out is wanted. */
static int jstring(js *j, char **out, size_t *len) {
    ws(j);
    if (j->p >= j->end || *j->p != '"') return jerr(j, "expected a string");
    j->p++;
    const char *q = j->p;
    size_t n = 0;
    /* first pass: find the end and bound the decoded size */
    while (q < j->end && *q != '"') {
        if ((unsigned char)*q < 0x20) { j->p = q; return jerr(j, "control character in a string"); }
        if (*q == '\\') { q++; if (q >= j->end) break; }
        q++; n++;
    }
    if (q >= j->end) return jerr(j, "unterminated string");
    char *b = malloc(n * 3 + 1);   /* \uXXXX (6 bytes) -> at most 3; a pair (12) -> 4 */
    if (!b) { fail(j->err, j->errlen, "out of memory"); return -1; }
    size_t o = 0;
    while (*j->p != '"') {
        char c = *j->p++;
        if (c != '\\') { b[o++] = c; continue; }
        c = *j->p++;
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
            if (j->end - j->p < 4 || hex4(j->p, &u)) { free(b); return jerr(j, "bad \\u escape"); }
            j->p += 4;
            if (u >= 0xD800 && u < 0xDC00) {
                if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' || hex4(j->p + 2, &u2) ||
                    u2 < 0xDC00 || u2 >= 0xE000) { free(b); return jerr(j, "unpaired surrogate"); }
                j->p += 6;
                u = 0x10000 + ((u - 0xD800) << 10) + (u2 - 0xDC00);
            } else if (u >= 0xDC00 && u < 0xE000) { free(b); return jerr(j, "unpaired surrogate"); }
            if (u == 0 && out) { free(b); return jerr(j, "\\u0000 in a string"); }
            if (u < 0x80) b[o++] = (char)u;
            else if (u < 0x800) { b[o++] = (char)(0xC0 | u >> 6); b[o++] = (char)(0x80 | (u & 63)); }
            else if (u < 0x10000) { b[o++] = (char)(0xE0 | u >> 12); b[o++] = (char)(0x80 | (u >> 6 & 63)); b[o++] = (char)(0x80 | (u & 63)); }
            else { b[o++] = (char)(0xF0 | u >> 18); b[o++] = (char)(0x80 | (u >> 12 & 63)); b[o++] = (char)(0x80 | (u >> 6 & 63)); b[o++] = (char)(0x80 | (u & 63)); }
            break;
        }
        default: free(b); j->p--; return jerr(j, "bad escape");
        }
    }
    j->p++;
    b[o] = 0;
    if (len) *len = o;
    if (out) *out = b; else free(b);
    return 0;
}

/* A non-negative integer (no sign, fraction or exponent), fitting uint64. */
static int juint(js *j, uint64_t *v, const char *what) {
    ws(j);
    if (j->p < j->end && *j->p == '-') { fail(j->err, j->errlen, "%s is negative", what); return -1; }
    if (j->p >= j->end || *j->p < '0' || *j->p > '9') { fail(j->err, j->errlen, "%s is not an integer", what); return -1; }
    uint64_t x = 0;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
        unsigned d = (unsigned)(*j->p - '0');
        if (x > (UINT64_MAX - d) / 10) { fail(j->err, j->errlen, "%s is too large", what); return -1; }
        x = x * 10 + d;
        j->p++;
    }
    if (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E')) {
        fail(j->err, j->errlen, "%s is not an integer", what);
        return -1;
    }
    *v = x;
    return 0;
}

static int jskip(js *j, int depth) {
    if (depth > MAX_DEPTH) return jerr(j, "nested too deeply");
    int c = peek(j);
    if (c == '"') return jstring(j, NULL, NULL);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        j->p++;
        if (peek(j) == close) { j->p++; return 0; }
        for (;;) {
            if (c == '{') { if (jstring(j, NULL, NULL) || expect(j, ':')) return -1; }
            if (jskip(j, depth + 1)) return -1;
            int d = peek(j);
            if (d == ',') { j->p++; continue; }
            if (d == close) { j->p++; return 0; }
            return jerr(j, c == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
        }
    }
    static const char *const lits[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t l = strlen(lits[i]);
        if ((size_t)(j->end - j->p) >= l && memcmp(j->p, lits[i], l) == 0) { j->p += l; return 0; }
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        const char *q = j->p;
        if (*q == '-') q++;
        if (q >= j->end || *q < '0' || *q > '9') return jerr(j, "bad number");
        while (q < j->end && ((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E' || *q == '+' || *q == '-')) q++;
        j->p = q;
        return 0;
    }
    return jerr(j, "unexpected character");
}

/* Iterates an object's members: call first with *first = 1. Returns 1 with
 * the key decoded (owned by the caller) and the ':' consumed, 0 at '}',
 * -1 on error. */
static int jmember(js *j, int *first, char **key, size_t *klen) {
    int c = peek(j);
    if (*first) {
        *first = 0;
        if (c == '}') { j->p++; return 0; }
    } else {
        if (c == '}') { j->p++; return 0; }
        if (c != ',') return jerr(j, "expected ',' or '}'");
        j->p++;
    }
    if (jstring(j, key, klen)) return -1;
    if (expect(j, ':')) { free(*key); *key = NULL; return -1; }
    return 1;
}

static int jend(js *j) {
    ws(j);
    if (j->p != j->end) return jerr(j, "trailing bytes after the object");
    return 0;
}

/* ---- safetensors ---- */
static const struct { const char *name; uint32_t ggml; unsigned size; } dtypes[] = {
    {"F32", ST_GGML_F32, 4}, {"F16", ST_GGML_F16, 2}, {"BF16", ST_GGML_BF16, 2},
};
/* The other dtypes the format defines: named as unsupported rather than unknown. */
static const char *const other_dtypes[] = {"F64", "I64", "I32", "I16", "I8", "U64", "U32", "U16", "U8",
                                           "BOOL", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2"};

void st_free(st_file *st) {
    if (!st) return;
    for (size_t i = 0; i < st->n_tensors; i++) free(st->tensors[i].name);
    free(st->tensors);
    for (size_t i = 0; i < st->n_meta; i++) { free(st->meta_keys[i]); free(st->meta_vals[i]); }
    free(st->meta_keys);
    free(st->meta_vals);
    memset(st, 0, sizeof *st);
}

int st_header_len(const uint8_t p[8], uint64_t file_size, uint64_t *n, char *err, size_t errlen) {
    if (file_size < 8) { fail(err, errlen, "file too short for a header length (%llu bytes)", (unsigned long long)file_size); return -1; }
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    if (v > ST_MAX_HEADER) {
        fail(err, errlen, "header length %llu exceeds the cap of %llu bytes", (unsigned long long)v, (unsigned long long)ST_MAX_HEADER);
        return -1;
    }
    if (v > file_size - 8) {
        fail(err, errlen, "header length %llu exceeds the file (%llu bytes)", (unsigned long long)v, (unsigned long long)file_size);
        return -1;
    }
    if (v < 2) { fail(err, errlen, "header length %llu is too small for a JSON object", (unsigned long long)v); return -1; }
    *n = v;
    return 0;
}

static int by_offset(const void *a, const void *b) {
    const st_tensor *x = *(st_tensor *const *)a, *y = *(st_tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset ? 1 : (x->nbytes > y->nbytes) - (x->nbytes < y->nbytes);
}
static int by_name(const void *a, const void *b) {
    const st_tensor *x = *(st_tensor *const *)a, *y = *(st_tensor *const *)b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    return c ? c : (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

/* One tensor's entry; key is the tensor name (ownership passes to t). */
static int parse_entry(js *j, st_tensor *t, uint64_t data_size) {
    const char *nm = text_show(t->name, t->name_len);
    char *err = j->err;
    size_t errlen = j->errlen;
    if (peek(j) != '{') { fail(err, errlen, "tensor '%s': entry is not an object", nm); return -1; }
    j->p++;
    int first = 1, have_dtype = 0, have_shape = 0, have_off = 0;
    unsigned esize = 0;
    uint64_t begin = 0, end = 0, shape[ST_MAX_DIMS];
    char *key;
    size_t klen;
    int r;
    while ((r = jmember(j, &first, &key, &klen)) == 1) {
        int which = strcmp(key, "dtype") == 0 ? 1 : strcmp(key, "shape") == 0 ? 2 : strcmp(key, "data_offsets") == 0 ? 3 : 0;
        if (!which) { fail(err, errlen, "tensor '%s': unknown field '%s'", text_show(t->name, t->name_len), text_show(key, klen)); free(key); return -1; }
        free(key);
        if ((which == 1 && have_dtype) || (which == 2 && have_shape) || (which == 3 && have_off)) {
            fail(err, errlen, "tensor '%s': field given twice", text_show(t->name, t->name_len));
            return -1;
        }
        if (which == 1) {
            char *d;
            size_t dl;
            if (peek(j) != '"') { fail(err, errlen, "tensor '%s': dtype is not a string", text_show(t->name, t->name_len)); return -1; }
            if (jstring(j, &d, &dl)) return -1;
            size_t k;
            for (k = 0; k < sizeof dtypes / sizeof *dtypes; k++) if (strcmp(d, dtypes[k].name) == 0) break;
            if (k == sizeof dtypes / sizeof *dtypes) {
                int known = 0;
                for (size_t m = 0; m < sizeof other_dtypes / sizeof *other_dtypes; m++) known |= strcmp(d, other_dtypes[m]) == 0;
                fail(err, errlen, "tensor '%s': %s dtype '%s' (F32, F16 and BF16 are read)", text_show(t->name, t->name_len),
                     known ? "unsupported" : "unknown", text_show(d, dl));
                free(d);
                return -1;
            }
            free(d);
            t->dtype = dtypes[k].name;
            t->ggml_type = dtypes[k].ggml;
            esize = dtypes[k].size;
            have_dtype = 1;
        } else {
            if (peek(j) != '[') { fail(err, errlen, "tensor '%s': %s is not an array", text_show(t->name, t->name_len), which == 2 ? "shape" : "data_offsets"); return -1; }
            j->p++;
            int n = 0;
            uint64_t *dst = which == 2 ? shape : NULL;
            uint64_t offs[2];
            if (peek(j) == ']') j->p++;
            else for (;;) {
                int cap = which == 2 ? ST_MAX_DIMS : 2;
                if (n >= cap) {
                    if (which == 2) fail(err, errlen, "tensor '%s': more than %d dimensions", text_show(t->name, t->name_len), ST_MAX_DIMS);
                    else fail(err, errlen, "tensor '%s': data_offsets has more than two entries", text_show(t->name, t->name_len));
                    return -1;
                }
                char what[300];
                snprintf(what, sizeof what, "tensor '%s': %s entry %d", text_show(t->name, t->name_len), which == 2 ? "shape" : "data_offsets", n);
                if (juint(j, which == 2 ? &dst[n] : &offs[n], what)) return -1;
                n++;
                int c = peek(j);
                if (c == ',') { j->p++; continue; }
                if (c == ']') { j->p++; break; }
                return jerr(j, "expected ',' or ']'");
            }
            if (which == 2) { t->n_dims = n; have_shape = 1; }
            else {
                if (n != 2) { fail(err, errlen, "tensor '%s': data_offsets has %d entries, not two", text_show(t->name, t->name_len), n); return -1; }
                begin = offs[0]; end = offs[1]; have_off = 1;
            }
        }
    }
    if (r < 0) return -1;
    if (!have_dtype || !have_shape || !have_off) {
        fail(err, errlen, "tensor '%s': missing %s", text_show(t->name, t->name_len), !have_dtype ? "dtype" : !have_shape ? "shape" : "data_offsets");
        return -1;
    }
    uint64_t count = 1;
    for (int i = 0; i < t->n_dims; i++) {
        if (shape[i] && count > UINT64_MAX / shape[i]) { fail(err, errlen, "tensor '%s': element count overflows", text_show(t->name, t->name_len)); return -1; }
        count *= shape[i];
        t->ne[t->n_dims - 1 - i] = shape[i];
    }
    if (count > UINT64_MAX / esize) { fail(err, errlen, "tensor '%s': byte size overflows", text_show(t->name, t->name_len)); return -1; }
    if (begin > end || end > data_size) {
        fail(err, errlen, "tensor '%s': data_offsets [%llu, %llu] out of range (data is %llu bytes)", text_show(t->name, t->name_len),
             (unsigned long long)begin, (unsigned long long)end, (unsigned long long)data_size);
        return -1;
    }
    if (end - begin != count * esize) {
        fail(err, errlen, "tensor '%s': data_offsets span %llu bytes, but %llu elements of %s take %llu", text_show(t->name, t->name_len),
             (unsigned long long)(end - begin), (unsigned long long)count, t->dtype, (unsigned long long)(count * esize));
        return -1;
    }
    t->offset = begin;     /* made absolute by the caller */
    t->nbytes = end - begin;
    return 0;
}

static int parse_meta(js *j, st_file *st) {
    if (peek(j) != '{') { fail(j->err, j->errlen, "__metadata__ is not an object"); return -1; }
    j->p++;
    int first = 1, r;
    char *key;
    size_t klen;
    while ((r = jmember(j, &first, &key, &klen)) == 1) {
        char *val;
        if (peek(j) != '"') { fail(j->err, j->errlen, "__metadata__ '%s' is not a string", text_show(key, klen)); free(key); return -1; }
        if (jstring(j, &val, NULL)) { free(key); return -1; }
        char **k2 = realloc(st->meta_keys, (st->n_meta + 1) * sizeof *k2);
        if (k2) st->meta_keys = k2;
        char **v2 = k2 ? realloc(st->meta_vals, (st->n_meta + 1) * sizeof *v2) : NULL;
        if (v2) st->meta_vals = v2;
        if (!k2 || !v2) { free(key); free(val); fail(j->err, j->errlen, "out of memory"); return -1; }
        st->meta_keys[st->n_meta] = key;
        st->meta_vals[st->n_meta] = val;
        st->n_meta++;
    }
    return r;
}

int st_parse(st_file *st, const uint8_t *p, size_t avail, uint64_t file_size, int file_index, char *err, size_t errlen) {
    memset(st, 0, sizeof *st);
    if (err && errlen) err[0] = 0;
    if (avail < 8 || avail > file_size) {
        fail(err, errlen, "file too short for a header length (%zu bytes)", avail);
        return -1;
    }
    uint64_t n;
    if (st_header_len(p, file_size, &n, err, errlen)) return -1;
    if (n > avail - 8) { fail(err, errlen, "header of %llu bytes not fully read (%zu bytes given)", (unsigned long long)n, avail); return -1; }
    uint64_t data_size = file_size - 8 - n;
    js j = {(const char *)p + 8, (const char *)p + 8, (const char *)p + 8 + n, err, errlen, "header"};
    if (peek(&j) != '{') { jerr(&j, "the header is not a JSON object"); return -1; }
    j.p++;
    int first = 1, r, have_meta = 0;
    char *key;
    size_t klen;
    size_t cap = 0;
    while ((r = jmember(&j, &first, &key, &klen)) == 1) {
        if (strcmp(key, "__metadata__") == 0 && klen == 12) {
            free(key);
            if (have_meta) { fail(err, errlen, "__metadata__ given twice"); goto bad; }
            have_meta = 1;
            if (parse_meta(&j, st)) goto bad;
            continue;
        }
        if (klen == 0) { free(key); fail(err, errlen, "a tensor has an empty name"); goto bad; }
        if (st->n_tensors == cap) {
            size_t nc = cap ? cap * 2 : 16;
            st_tensor *t2 = realloc(st->tensors, nc * sizeof *t2);
            if (!t2) { free(key); fail(err, errlen, "out of memory"); goto bad; }
            st->tensors = t2;
            cap = nc;
        }
        st_tensor *t = &st->tensors[st->n_tensors++];
        memset(t, 0, sizeof *t);
        t->name = key;
        t->name_len = klen;
        t->file = file_index;
        if (parse_entry(&j, t, data_size)) goto bad;
    }
    if (r < 0 || jend(&j)) goto bad;
    if (st->n_tensors) {
        st_tensor **v = malloc(st->n_tensors * sizeof *v);
        if (!v) { fail(err, errlen, "out of memory"); goto bad; }
        for (size_t i = 0; i < st->n_tensors; i++) v[i] = &st->tensors[i];
        qsort(v, st->n_tensors, sizeof *v, by_name);
        for (size_t i = 1; i < st->n_tensors; i++)
            if (by_name(&v[i - 1], &v[i]) == 0) {
                fail(err, errlen, "tensor '%s' is given twice", text_show(v[i]->name, v[i]->name_len));
                free(v);
                goto bad;
            }
        qsort(v, st->n_tensors, sizeof *v, by_offset);
        for (size_t i = 1; i < st->n_tensors; i++)
            if (v[i]->offset < v[i - 1]->offset + v[i - 1]->nbytes) {
                fail(err, errlen, "tensors '%s' and '%s' overlap", text_show(v[i - 1]->name, v[i - 1]->name_len),
                     text_show(v[i]->name, v[i]->name_len));
                free(v);
                goto bad;
            }
        free(v);
    }
    st->data_start = 8 + n;
    for (size_t i = 0; i < st->n_tensors; i++) st->tensors[i].offset += st->data_start;
    return 0;
bad:
    st_free(st);
    return -1;
}

/* ---- model.safetensors.index.json ---- */
void st_index_free(st_index *ix) {
    if (!ix) return;
    for (size_t i = 0; i < ix->n_files; i++) free(ix->files[i]);
    for (size_t i = 0; i < ix->n_names; i++) free(ix->names[i]);
    free(ix->files);
    free(ix->names);
    free(ix->file_of);
    memset(ix, 0, sizeof *ix);
}

static int plain_name(const char *s, size_t n) {
    if (n == 0 || strlen(s) != n) return 0;
    if (strchr(s, '/') || strchr(s, '\\')) return 0;
    if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || strstr(s, "..")) return 0;
    return 1;
}

static int parse_weight_map(js *j, st_index *ix) {
    if (peek(j) != '{') { fail(j->err, j->errlen, "index: weight_map is not an object"); return -1; }
    j->p++;
    int first = 1, r;
    char *key;
    size_t klen, cap = 0;
    while ((r = jmember(j, &first, &key, &klen)) == 1) {
        char *file;
        size_t fl;
        if (peek(j) != '"') { fail(j->err, j->errlen, "index: weight_map '%s' is not a string", text_show(key, klen)); free(key); return -1; }
        if (jstring(j, &file, &fl)) { free(key); return -1; }
        if (!plain_name(file, fl)) {
            fail(j->err, j->errlen, "index: tensor '%s' is in '%s', not a plain file name in the folder", text_show(key, klen), text_show(file, fl));
            free(key); free(file);
            return -1;
        }
        for (size_t i = 0; i < ix->n_names; i++)
            if (strcmp(ix->names[i], key) == 0) {
                fail(j->err, j->errlen, "index: tensor '%s' is given twice", text_show(key, klen));
                free(key); free(file);
                return -1;
            }
        size_t f;
        for (f = 0; f < ix->n_files; f++) if (strcmp(ix->files[f], file) == 0) break;
        if (f == ix->n_files) {
            char **f2 = realloc(ix->files, (ix->n_files + 1) * sizeof *f2);
            if (!f2) { free(key); free(file); fail(j->err, j->errlen, "out of memory"); return -1; }
            ix->files = f2;
            ix->files[ix->n_files++] = file;
        } else free(file);
        if (ix->n_names == cap) {
            size_t nc = cap ? cap * 2 : 64;
            char **n2 = realloc(ix->names, nc * sizeof *n2);
            if (n2) ix->names = n2;
            int *o2 = n2 ? realloc(ix->file_of, nc * sizeof *o2) : NULL;
            if (o2) ix->file_of = o2;
            if (!n2 || !o2) { free(key); fail(j->err, j->errlen, "out of memory"); return -1; }
            cap = nc;
        }
        ix->names[ix->n_names] = key;
        ix->file_of[ix->n_names] = (int)f;
        ix->n_names++;
    }
    return r;
}

int st_index_parse(st_index *ix, const char *json, size_t len, char *err, size_t errlen) {
    memset(ix, 0, sizeof *ix);
    if (err && errlen) err[0] = 0;
    if (len > ST_MAX_HEADER) { fail(err, errlen, "index: %zu bytes exceeds the cap", len); return -1; }
    js j = {json, json, json + len, err, errlen, "index"};
    if (peek(&j) != '{') { jerr(&j, "not a JSON object"); return -1; }
    j.p++;
    int first = 1, r, have_map = 0;
    char *key;
    size_t klen;
    while ((r = jmember(&j, &first, &key, &klen)) == 1) {
        int is_map = strcmp(key, "weight_map") == 0 && klen == 10;
        free(key);
        if (is_map) {
            if (have_map) { fail(err, errlen, "index: weight_map given twice"); goto bad; }
            have_map = 1;
            if (parse_weight_map(&j, ix)) goto bad;
        } else if (jskip(&j, 1)) goto bad;
    }
    if (r < 0 || jend(&j)) goto bad;
    if (!have_map) { fail(err, errlen, "index: no weight_map"); goto bad; }
    if (!ix->n_names) { fail(err, errlen, "index: weight_map is empty"); goto bad; }
    return 0;
bad:
    st_index_free(ix);
    return -1;
}
