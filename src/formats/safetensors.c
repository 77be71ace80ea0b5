/* safetensors headers and index files as hostile input: see safetensors.h. */
#include "formats/safetensors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"
#include "util/text.h"


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

/* A non-negative integer, written without fraction or exponent, fitting
 * int64 (no real offset or dimension comes near). */
static int juint(const json_value *v, uint64_t *out, const char *what, char *err, size_t errlen) {
    if (v->type != JSON_NUMBER || !v->int_text) { fail(err, errlen, "%s is not an integer", what); return -1; }
    if (v->is_int ? v->i < 0 : v->num < 0) { fail(err, errlen, "%s is negative", what); return -1; }
    if (!v->is_int && v->num != 0) { fail(err, errlen, "%s is too large", what); return -1; }
    *out = v->is_int ? (uint64_t)v->i : 0;
    return 0;
}

/* A decoded string as an owned NUL-terminated copy; a NUL inside (\u0000)
 * is refused, since names and values are used as C strings. */
static char *own_str(const char *s, size_t n, const char *what, char *err, size_t errlen) {
    if (strlen(s) != n) { fail(err, errlen, "%s holds \\u0000", what); return NULL; }
    char *c = malloc(n + 1);
    if (!c) { fail(err, errlen, "out of memory"); return NULL; }
    memcpy(c, s, n + 1);
    return c;
}

/* The document of a header or index, or NULL with err set ("safetensors:
 * header is not valid JSON: ... at line L column C"). */
static json_doc *parse_json(const char *p, size_t n, const char *what, char *err, size_t errlen) {
    char label[64];
    snprintf(label, sizeof label, "safetensors: %s is not valid JSON", what);
    json_doc *d = json_parse(p, n, label, err, errlen);
    if (d && json_root(d)->type != JSON_OBJECT) {
        fail(err, errlen, "%s is not a JSON object", what);
        json_free(d);
        return NULL;
    }
    return d;
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

/* One tensor's entry (t's name already set). */
static int parse_entry(const json_value *e, st_tensor *t, uint64_t data_size, char *err, size_t errlen) {
    const char *nm = text_show(t->name, t->name_len);
    if (e->type != JSON_OBJECT) { fail(err, errlen, "tensor '%s': entry is not an object", nm); return -1; }
    int have_dtype = 0, have_shape = 0, have_off = 0;
    unsigned esize = 0;
    uint64_t begin = 0, end = 0, shape[ST_MAX_DIMS];
    for (size_t f = 0; f < e->n; f++) {
        const char *key = e->keys[f];
        const json_value *v = &e->items[f];
        int which = strcmp(key, "dtype") == 0 ? 1 : strcmp(key, "shape") == 0 ? 2 : strcmp(key, "data_offsets") == 0 ? 3 : 0;
        if (!which || strlen(key) != e->key_lens[f]) {
            fail(err, errlen, "tensor '%s': unknown field '%s'", nm, text_show(key, e->key_lens[f]));
            return -1;
        }
        if ((which == 1 && have_dtype) || (which == 2 && have_shape) || (which == 3 && have_off)) {
            fail(err, errlen, "tensor '%s': field given twice", nm);
            return -1;
        }
        if (which == 1) {
            if (v->type != JSON_STRING) { fail(err, errlen, "tensor '%s': dtype is not a string", nm); return -1; }
            size_t k;
            for (k = 0; k < sizeof dtypes / sizeof *dtypes; k++) if (strcmp(v->str, dtypes[k].name) == 0) break;
            if (k == sizeof dtypes / sizeof *dtypes || strlen(v->str) != v->len) {
                int known = 0;
                for (size_t m = 0; m < sizeof other_dtypes / sizeof *other_dtypes; m++) known |= strcmp(v->str, other_dtypes[m]) == 0;
                fail(err, errlen, "tensor '%s': %s dtype '%s' (F32, F16 and BF16 are read)", nm,
                     known ? "unsupported" : "unknown", text_show(v->str, v->len));
                return -1;
            }
            t->dtype = dtypes[k].name;
            t->ggml_type = dtypes[k].ggml;
            esize = dtypes[k].size;
            have_dtype = 1;
            continue;
        }
        const char *field = which == 2 ? "shape" : "data_offsets";
        if (v->type != JSON_ARRAY) { fail(err, errlen, "tensor '%s': %s is not an array", nm, field); return -1; }
        if (which == 2 && v->n > ST_MAX_DIMS) { fail(err, errlen, "tensor '%s': more than %d dimensions", nm, ST_MAX_DIMS); return -1; }
        if (which == 3 && v->n > 2) { fail(err, errlen, "tensor '%s': data_offsets has more than two entries", nm); return -1; }
        uint64_t offs[2];
        for (size_t i = 0; i < v->n; i++) {
            char what[300];
            snprintf(what, sizeof what, "tensor '%s': %s entry %zu", nm, field, i);
            if (juint(&v->items[i], which == 2 ? &shape[i] : &offs[i], what, err, errlen)) return -1;
        }
        if (which == 2) {
            t->n_dims = (int)v->n;
            have_shape = 1;
        } else {
            if (v->n != 2) { fail(err, errlen, "tensor '%s': data_offsets has %zu entries, not two", nm, v->n); return -1; }
            begin = offs[0];
            end = offs[1];
            have_off = 1;
        }
    }
    if (!have_dtype || !have_shape || !have_off) {
        fail(err, errlen, "tensor '%s': missing %s", nm, !have_dtype ? "dtype" : !have_shape ? "shape" : "data_offsets");
        return -1;
    }
    uint64_t count = 1;
    for (int i = 0; i < t->n_dims; i++) {
        if (shape[i] && count > UINT64_MAX / shape[i]) { fail(err, errlen, "tensor '%s': element count overflows", nm); return -1; }
        count *= shape[i];
        t->ne[t->n_dims - 1 - i] = shape[i];
    }
    if (count > UINT64_MAX / esize) { fail(err, errlen, "tensor '%s': byte size overflows", nm); return -1; }
    if (begin > end || end > data_size) {
        fail(err, errlen, "tensor '%s': data_offsets [%llu, %llu] out of range (data is %llu bytes)", nm,
             (unsigned long long)begin, (unsigned long long)end, (unsigned long long)data_size);
        return -1;
    }
    if (end - begin != count * esize) {
        fail(err, errlen, "tensor '%s': data_offsets span %llu bytes, but %llu elements of %s take %llu", nm,
             (unsigned long long)(end - begin), (unsigned long long)count, t->dtype, (unsigned long long)(count * esize));
        return -1;
    }
    t->offset = begin;     /* made absolute by the caller */
    t->nbytes = end - begin;
    return 0;
}

static int parse_meta(const json_value *m, st_file *st, char *err, size_t errlen) {
    if (m->type != JSON_OBJECT) { fail(err, errlen, "__metadata__ is not an object"); return -1; }
    st->meta_keys = calloc(m->n ? m->n : 1, sizeof *st->meta_keys);
    st->meta_vals = calloc(m->n ? m->n : 1, sizeof *st->meta_vals);
    if (!st->meta_keys || !st->meta_vals) { fail(err, errlen, "out of memory"); return -1; }
    for (size_t i = 0; i < m->n; i++) {
        const json_value *v = &m->items[i];
        if (v->type != JSON_STRING) {
            fail(err, errlen, "__metadata__ '%s' is not a string", text_show(m->keys[i], m->key_lens[i]));
            return -1;
        }
        char *k = own_str(m->keys[i], m->key_lens[i], "a __metadata__ key", err, errlen);
        char *val = k ? own_str(v->str, v->len, "a __metadata__ value", err, errlen) : NULL;
        if (!val) { free(k); return -1; }
        st->meta_keys[st->n_meta] = k;
        st->meta_vals[st->n_meta] = val;
        st->n_meta++;
    }
    return 0;
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
    json_doc *d = parse_json((const char *)p + 8, (size_t)n, "header", err, errlen);
    if (!d) return -1;
    const json_value *root = json_root(d);
    int have_meta = 0;
    st->tensors = calloc(root->n ? root->n : 1, sizeof *st->tensors);
    if (!st->tensors) { fail(err, errlen, "out of memory"); goto bad; }
    for (size_t i = 0; i < root->n; i++) {
        const char *key = root->keys[i];
        size_t klen = root->key_lens[i];
        if (klen == 12 && memcmp(key, "__metadata__", 12) == 0) {
            if (have_meta) { fail(err, errlen, "__metadata__ given twice"); goto bad; }
            have_meta = 1;
            if (parse_meta(&root->items[i], st, err, errlen)) goto bad;
            continue;
        }
        if (klen == 0) { fail(err, errlen, "a tensor has an empty name"); goto bad; }
        st_tensor *t = &st->tensors[st->n_tensors];
        if (!(t->name = own_str(key, klen, "a tensor name", err, errlen))) goto bad;
        st->n_tensors++;
        t->name_len = klen;
        t->file = file_index;
        if (parse_entry(&root->items[i], t, data_size, err, errlen)) goto bad;
    }
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
    json_free(d);
    return 0;
bad:
    json_free(d);
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

static int parse_weight_map(const json_value *m, st_index *ix, char *err, size_t errlen) {
    if (m->type != JSON_OBJECT) { fail(err, errlen, "index: weight_map is not an object"); return -1; }
    ix->names = calloc(m->n ? m->n : 1, sizeof *ix->names);
    ix->file_of = calloc(m->n ? m->n : 1, sizeof *ix->file_of);
    if (!ix->names || !ix->file_of) { fail(err, errlen, "out of memory"); return -1; }
    for (size_t i = 0; i < m->n; i++) {
        const char *key = m->keys[i];
        size_t klen = m->key_lens[i];
        const json_value *v = &m->items[i];
        if (v->type != JSON_STRING) { fail(err, errlen, "index: weight_map '%s' is not a string", text_show(key, klen)); return -1; }
        if (!plain_name(v->str, v->len)) {
            fail(err, errlen, "index: tensor '%s' is in '%s', not a plain file name in the folder", text_show(key, klen),
                 text_show(v->str, v->len));
            return -1;
        }
        for (size_t k = 0; k < ix->n_names; k++)
            if (strlen(ix->names[k]) == klen && memcmp(ix->names[k], key, klen) == 0) {
                fail(err, errlen, "index: tensor '%s' is given twice", text_show(key, klen));
                return -1;
            }
        size_t f;
        for (f = 0; f < ix->n_files; f++) if (strcmp(ix->files[f], v->str) == 0) break;
        if (f == ix->n_files) {
            char **f2 = realloc(ix->files, (ix->n_files + 1) * sizeof *f2);
            if (!f2) { fail(err, errlen, "out of memory"); return -1; }
            ix->files = f2;
            if (!(ix->files[ix->n_files] = own_str(v->str, v->len, "a shard name", err, errlen))) return -1;
            ix->n_files++;
        }
        if (!(ix->names[ix->n_names] = own_str(key, klen, "a tensor name", err, errlen))) return -1;
        ix->file_of[ix->n_names] = (int)f;
        ix->n_names++;
    }
    return 0;
}

int st_index_parse(st_index *ix, const char *json, size_t len, char *err, size_t errlen) {
    memset(ix, 0, sizeof *ix);
    if (err && errlen) err[0] = 0;
    if (len > ST_MAX_HEADER) { fail(err, errlen, "index: %zu bytes exceeds the cap", len); return -1; }
    json_doc *d = parse_json(json, len, "index", err, errlen);
    if (!d) return -1;
    const json_value *root = json_root(d);
    int have_map = 0;
    for (size_t i = 0; i < root->n; i++) {
        if (root->key_lens[i] != 10 || memcmp(root->keys[i], "weight_map", 10) != 0) continue;
        if (have_map) { fail(err, errlen, "index: weight_map given twice"); goto bad; }
        have_map = 1;
        if (parse_weight_map(&root->items[i], ix, err, errlen)) goto bad;
    }
    if (!have_map) { fail(err, errlen, "index: no weight_map"); goto bad; }
    if (!ix->n_names) { fail(err, errlen, "index: weight_map is empty"); goto bad; }
    json_free(d);
    return 0;
bad:
    json_free(d);
    st_index_free(ix);
    return -1;
}
