/* GGUF v2/v3 reader. Every count, length and offset in the file is treated
 * as hostile: each is checked against the bytes that remain before it is
 * used, with overflow-safe arithmetic, so a damaged or malicious file fails
 * with a one-line reason instead of reading out of bounds. */
#include "formats/gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/text.h"
#include "util/util.h"

#define GGUF_MAGIC 0x46554747u /* "GGUF" read as a little-endian u32 */
#define GGUF_DEFAULT_ALIGNMENT 32u
/* Arrays of arrays are legal GGUF, but nothing real nests deeply; the limit
 * keeps a crafted file from exhausting the stack through recursion. */
#define GGUF_MAX_ARRAY_DEPTH 8
/* Smallest encodings, used to reject counts that cannot possibly fit. */
#define MIN_KV_BYTES 13u     /* key length (8) + type (4) + a 1-byte value */
#define MIN_TENSOR_BYTES 32u /* name length (8) + n_dims (4) + ne[0] (8) + type (4) + offset (8) */
#define MIN_ARRAY_BYTES 12u  /* nested array header: type (4) + length (8) */

typedef unsigned long long ull;

typedef struct {
    const uint8_t *buf;
    uint64_t len, pos;  /* bytes held, and the read position */
    uint64_t size;      /* bytes in the whole file: len, or more when only a prefix is held */
    uint64_t more;      /* set when a read failed only because the prefix ends: the prefix length it needs */
    char *err;
    size_t errlen;
    char what[160]; /* the item being read, for error messages */
} reader;

/* A name from the file, escaped and shortened for a message. */
static const char *shown(char *dst, size_t cap, const char *src, uint64_t len) {
    text_escape(dst, cap, src, (size_t)len, 48);
    return dst;
}

static uint64_t remaining(const reader *r) { return r->len - r->pos; }
static uint64_t file_remaining(const reader *r) { return r->size - r->pos; }

/* The held prefix is cut short: a caller with more of the file could go
 * on, so this is not an error in the file. at_least is a lower bound on
 * the prefix length that would get past this point. */
static int need_prefix(reader *r, uint64_t at_least) {
    r->more = at_least;
    set_err(r->err, r->errlen, "gguf: the header goes on past the first %llu bytes: %s needs at least %llu",
            (unsigned long long)r->len, r->what, (unsigned long long)at_least);
    return -1;
}

static int need(reader *r, uint64_t n) {
    if (n <= remaining(r)) return 0;
    if (n <= file_remaining(r)) return need_prefix(r, r->pos + n);
    set_err(r->err, r->errlen, "gguf: truncated file: %s ends past byte %llu (file is %llu bytes)",
            r->what, (unsigned long long)(r->pos + n), (unsigned long long)r->size);
    return -1;
}

/* Whether count items of at least min_bytes each can follow: 1 if not even
 * the rest of the file could hold them (the caller says why), -1 asking for
 * a longer prefix if only the held bytes cannot, else 0. */
static int count_fits(reader *r, uint64_t count, uint64_t min_bytes) {
    if (count > file_remaining(r) / min_bytes) return 1;
    if (count > remaining(r) / min_bytes) return need_prefix(r, r->pos + count * min_bytes);
    return 0;
}

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

static int rd_u32(reader *r, uint32_t *out) {
    if (need(r, 4)) return -1;
    *out = le32(r->buf + r->pos);
    r->pos += 4;
    return 0;
}

static int rd_u64(reader *r, uint64_t *out) {
    if (need(r, 8)) return -1;
    *out = le64(r->buf + r->pos);
    r->pos += 8;
    return 0;
}

static int rd_str(reader *r, gguf_str *out) {
    uint64_t n;
    if (rd_u64(r, &n)) return -1;
    /* A length the file could hold means the file (or the held prefix) was
     * cut short; a larger one is corrupt, and pos + n might not even be
     * representable. */
    if (n > file_remaining(r) && n > r->size) {
        set_err(r->err, r->errlen,
                "gguf: %s: string length %llu runs past the end of the file (%llu bytes left at byte %llu)",
                r->what, (ull)n, (ull)file_remaining(r), (ull)r->pos);
        return -1;
    }
    if (need(r, n)) return -1;
    out->ptr = (const char *)(r->buf + r->pos);
    out->len = n;
    r->pos += n;
    return 0;
}

/* Size of a fixed-size value type, 0 for STRING, ARRAY and unknown types. */
static uint32_t scalar_size(uint32_t t) {
    switch (t) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_INT8: case GGUF_TYPE_BOOL: return 1;
    case GGUF_TYPE_UINT16: case GGUF_TYPE_INT16: return 2;
    case GGUF_TYPE_UINT32: case GGUF_TYPE_INT32: case GGUF_TYPE_FLOAT32: return 4;
    case GGUF_TYPE_UINT64: case GGUF_TYPE_INT64: case GGUF_TYPE_FLOAT64: return 8;
    default: return 0;
    }
}

static int known_type(uint32_t t) { return t <= GGUF_TYPE_FLOAT64; }

/* Decodes a scalar whose bytes are known to be in bounds. */
static void decode_scalar(uint32_t t, const uint8_t *p, gguf_kv *kv) {
    switch (t) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_BOOL: kv->v.u = p[0]; break;
    case GGUF_TYPE_INT8: kv->v.i = (int8_t)p[0]; break;
    case GGUF_TYPE_UINT16: kv->v.u = le16(p); break;
    case GGUF_TYPE_INT16: kv->v.i = (int16_t)le16(p); break;
    case GGUF_TYPE_UINT32: kv->v.u = le32(p); break;
    case GGUF_TYPE_INT32: kv->v.i = (int32_t)le32(p); break;
    case GGUF_TYPE_UINT64: kv->v.u = le64(p); break;
    case GGUF_TYPE_INT64: kv->v.i = (int64_t)le64(p); break;
    case GGUF_TYPE_FLOAT32: {
        uint32_t b = le32(p);
        float f;
        memcpy(&f, &b, 4);
        kv->v.f = f;
        break;
    }
    case GGUF_TYPE_FLOAT64: {
        uint64_t b = le64(p);
        memcpy(&kv->v.f, &b, 8);
        break;
    }
    default: break;
    }
}

/* Walks the n elements of an array body (after its type and length) so the
 * whole extent is known to be in bounds. */
static int skip_array(reader *r, uint32_t et, uint64_t n, int depth) {
    if (!known_type(et)) {
        set_err(r->err, r->errlen, "gguf: %s: unknown array element type %u", r->what, et);
        return -1;
    }
    uint32_t fs = scalar_size(et);
    uint64_t min = fs ? fs : et == GGUF_TYPE_STRING ? 8 : MIN_ARRAY_BYTES;
    int fit = count_fits(r, n, min);
    if (fit > 0)
        set_err(r->err, r->errlen,
                "gguf: %s: array length %llu of %s cannot fit in the %llu bytes left at byte %llu",
                r->what, (ull)n, gguf_type_name(et), (ull)file_remaining(r), (ull)r->pos);
    if (fit) return -1;
    if (fs) {
        r->pos += n * fs;
        return 0;
    }
    if (et == GGUF_TYPE_STRING) {
        for (uint64_t i = 0; i < n; i++) {
            gguf_str s;
            if (rd_str(r, &s)) return -1;
        }
        return 0;
    }
    if (depth >= GGUF_MAX_ARRAY_DEPTH) {
        set_err(r->err, r->errlen, "gguf: %s: arrays nested deeper than %d levels", r->what,
                GGUF_MAX_ARRAY_DEPTH);
        return -1;
    }
    for (uint64_t i = 0; i < n; i++) {
        uint32_t t;
        uint64_t m;
        if (rd_u32(r, &t) || rd_u64(r, &m) || skip_array(r, t, m, depth + 1)) return -1;
    }
    return 0;
}

static int parse_kv(reader *r, gguf_kv *kv, uint64_t i, uint64_t n) {
    snprintf(r->what, sizeof r->what, "kv %llu of %llu", (ull)i, (ull)n);
    if (rd_str(r, &kv->key)) return -1;
    char name[96];
    snprintf(r->what, sizeof r->what, "kv %llu of %llu ('%s')", (ull)i, (ull)n,
             shown(name, sizeof name, kv->key.ptr, kv->key.len));
    if (rd_u32(r, &kv->type)) return -1;
    if (!known_type(kv->type)) {
        set_err(r->err, r->errlen, "gguf: %s: unknown value type %u", r->what, kv->type);
        return -1;
    }
    if (kv->type == GGUF_TYPE_STRING) return rd_str(r, &kv->str);
    if (kv->type == GGUF_TYPE_ARRAY) {
        if (rd_u32(r, &kv->arr_type) || rd_u64(r, &kv->arr_len)) return -1;
        kv->arr_data = r->buf + r->pos;
        return skip_array(r, kv->arr_type, kv->arr_len, 1);
    }
    uint32_t sz = scalar_size(kv->type);
    if (need(r, sz)) return -1;
    decode_scalar(kv->type, r->buf + r->pos, kv);
    r->pos += sz;
    return 0;
}

static int parse_tensor_info(reader *r, gguf_tensor *t, uint64_t i, uint64_t n) {
    snprintf(r->what, sizeof r->what, "tensor info %llu of %llu", (ull)i, (ull)n);
    if (rd_str(r, &t->name)) return -1;
    char name[96];
    snprintf(r->what, sizeof r->what, "tensor info %llu of %llu ('%s')", (ull)i, (ull)n,
             shown(name, sizeof name, t->name.ptr, t->name.len));
    if (rd_u32(r, &t->n_dims)) return -1;
    if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS) {
        set_err(r->err, r->errlen, "gguf: %s: n_dims %u out of range (1..%d)", r->what, t->n_dims,
                GGUF_MAX_DIMS);
        return -1;
    }
    for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) t->ne[d] = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        if (rd_u64(r, &t->ne[d])) return -1;
        if (t->ne[d] > (uint64_t)INT64_MAX) {
            set_err(r->err, r->errlen, "gguf: %s: ne[%u] = %llu is negative as int64", r->what, d,
                    (ull)t->ne[d]);
            return -1;
        }
    }
    if (rd_u32(r, &t->type) || rd_u64(r, &t->offset)) return -1;

    uint32_t be, bb;
    if (ggml_type_block(t->type, &be, &bb)) {
        set_err(r->err, r->errlen, "gguf: %s: unknown ggml type %u", r->what, t->type);
        return -1;
    }
    /* ggml's own limit: the element count must fit in int64. */
    uint64_t elems = 1;
    for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) {
        if (__builtin_mul_overflow(elems, t->ne[d], &elems) || elems > (uint64_t)INT64_MAX) {
            set_err(r->err, r->errlen,
                    "gguf: %s: element count overflows (ne = %llu x %llu x %llu x %llu)", r->what,
                    (ull)t->ne[0], (ull)t->ne[1], (ull)t->ne[2], (ull)t->ne[3]);
            return -1;
        }
    }
    if (t->ne[0] % be) {
        set_err(r->err, r->errlen,
                "gguf: %s: ne[0] = %llu is not a multiple of the %s block size %u", r->what,
                (ull)t->ne[0], ggml_type_name(t->type), be);
        return -1;
    }
    uint64_t bytes = t->ne[0] / be;
    if (__builtin_mul_overflow(bytes, (uint64_t)bb, &bytes) ||
        __builtin_mul_overflow(bytes, t->ne[1], &bytes) ||
        __builtin_mul_overflow(bytes, t->ne[2], &bytes) ||
        __builtin_mul_overflow(bytes, t->ne[3], &bytes)) {
        set_err(r->err, r->errlen, "gguf: %s: byte size overflows", r->what);
        return -1;
    }
    t->nbytes = bytes;
    return 0;
}

static int cmp_str_ptr(const void *a, const void *b) {
    const gguf_str *x = *(const gguf_str *const *)a, *y = *(const gguf_str *const *)b;
    uint64_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->ptr, y->ptr, (size_t)n) : 0;
    if (c) return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* Finds a repeated name in O(n log n); sets *dup to it. stride/first walk an
 * array of structs that each contain a gguf_str. */
static int find_duplicate(const void *first, size_t stride, uint64_t n, const gguf_str **dup,
                          int *oom) {
    *dup = NULL;
    *oom = 0;
    if (n < 2) return 0;
    const gguf_str **idx = malloc((size_t)n * sizeof *idx);
    if (!idx) { *oom = 1; return -1; }
    for (uint64_t i = 0; i < n; i++) idx[i] = (const gguf_str *)((const char *)first + i * stride);
    qsort(idx, (size_t)n, sizeof *idx, cmp_str_ptr);
    for (uint64_t i = 1; i < n && !*dup; i++)
        if (cmp_str_ptr(&idx[i - 1], &idx[i]) == 0) *dup = idx[i];
    free(idx);
    return *dup ? -1 : 0;
}

static int is_integer_type(uint32_t t) {
    switch (t) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_INT8: case GGUF_TYPE_UINT16: case GGUF_TYPE_INT16:
    case GGUF_TYPE_UINT32: case GGUF_TYPE_INT32: case GGUF_TYPE_UINT64: case GGUF_TYPE_INT64:
        return 1;
    default: return 0;
    }
}

static int is_signed_type(uint32_t t) {
    return t == GGUF_TYPE_INT8 || t == GGUF_TYPE_INT16 || t == GGUF_TYPE_INT32 ||
           t == GGUF_TYPE_INT64;
}

/* Tensor data is checked against the whole file's length, r->size; the
 * reader holds only its first r->len bytes when parsing a header alone. */
static int parse_inner(gguf_file *g, reader *r) {
    const uint64_t file_size = r->size;
    snprintf(r->what, sizeof r->what, "header");
    uint32_t magic;
    if (rd_u32(r, &magic)) return -1;
    if (magic != GGUF_MAGIC) {
        char m[24];
        set_err(r->err, r->errlen, "gguf: not a GGUF file (magic '%s', expected 'GGUF')",
                shown(m, sizeof m, (const char *)r->buf, 4));
        return -1;
    }
    if (rd_u32(r, &g->version)) return -1;
    if (g->version == 1) {
        set_err(r->err, r->errlen,
                "gguf: version 1 files are not supported (32-bit counts, pre-2023 layout); "
                "convert the model again with a current llama.cpp");
        return -1;
    }
    if (g->version == 0x02000000u || g->version == 0x03000000u) {
        set_err(r->err, r->errlen, "gguf: big-endian GGUF files are not supported");
        return -1;
    }
    if (g->version != 2 && g->version != 3) {
        set_err(r->err, r->errlen, "gguf: unsupported version %u (this reader knows 2 and 3)",
                g->version);
        return -1;
    }
    if (rd_u64(r, &g->n_tensors) || rd_u64(r, &g->n_kv)) return -1;
    /* Both tables follow, so they must fit in what is left of the file;
     * checked before anything is allocated for them. */
    if (g->n_kv > file_remaining(r) / MIN_KV_BYTES) {
        set_err(r->err, r->errlen,
                "gguf: header claims %llu metadata entries but the %llu bytes left can hold at most %llu",
                (ull)g->n_kv, (ull)file_remaining(r), (ull)(file_remaining(r) / MIN_KV_BYTES));
        return -1;
    }
    if (g->n_tensors > file_remaining(r) / MIN_TENSOR_BYTES) {
        set_err(r->err, r->errlen,
                "gguf: header claims %llu tensors but the %llu bytes left can hold at most %llu",
                (ull)g->n_tensors, (ull)file_remaining(r), (ull)(file_remaining(r) / MIN_TENSOR_BYTES));
        return -1;
    }
    /* Neither product wraps, each being within the file. Their sum is the
     * least the two tables take: beyond the file an error, beyond a held
     * prefix what the caller is asked for (so memory follows bytes held). */
    uint64_t tables = g->n_kv * MIN_KV_BYTES + g->n_tensors * MIN_TENSOR_BYTES;
    if (tables > file_remaining(r)) {
        set_err(r->err, r->errlen,
                "gguf: header claims %llu metadata entries and %llu tensors, at least %llu bytes, "
                "but only %llu bytes are left",
                (ull)g->n_kv, (ull)g->n_tensors, (ull)tables, (ull)file_remaining(r));
        return -1;
    }
    if (need(r, tables)) return -1;

    if (g->n_kv) {
        g->kv = calloc((size_t)g->n_kv, sizeof *g->kv);
        if (!g->kv) { set_err(r->err, r->errlen, "gguf: out of memory for %llu metadata entries", (ull)g->n_kv); return -1; }
    }
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (parse_kv(r, &g->kv[i], i, g->n_kv)) return -1;

    const gguf_str *dup;
    int oom;
    if (find_duplicate(g->kv, sizeof *g->kv, g->n_kv, &dup, &oom)) {
        if (oom) { set_err(r->err, r->errlen, "gguf: out of memory"); return -1; }
        char name[96];
        set_err(r->err, r->errlen, "gguf: duplicate metadata key '%s'", shown(name, sizeof name, dup->ptr, dup->len));
        return -1;
    }

    int fit = count_fits(r, g->n_tensors, MIN_TENSOR_BYTES);
    if (fit > 0)
        set_err(r->err, r->errlen,
                "gguf: header claims %llu tensors but the %llu bytes left after the metadata can hold at most %llu",
                (ull)g->n_tensors, (ull)file_remaining(r), (ull)(file_remaining(r) / MIN_TENSOR_BYTES));
    if (fit) return -1;
    if (g->n_tensors) {
        g->tensors = calloc((size_t)g->n_tensors, sizeof *g->tensors);
        if (!g->tensors) { set_err(r->err, r->errlen, "gguf: out of memory for %llu tensors", (ull)g->n_tensors); return -1; }
    }
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (parse_tensor_info(r, &g->tensors[i], i, g->n_tensors)) return -1;

    if (find_duplicate(g->tensors, sizeof *g->tensors, g->n_tensors, &dup, &oom)) {
        if (oom) { set_err(r->err, r->errlen, "gguf: out of memory"); return -1; }
        char name[96];
        set_err(r->err, r->errlen, "gguf: duplicate tensor name '%s'", shown(name, sizeof name, dup->ptr, dup->len));
        return -1;
    }

    g->alignment = GGUF_DEFAULT_ALIGNMENT;
    const gguf_kv *al = gguf_find(g, "general.alignment");
    if (al) {
        if (!is_integer_type(al->type)) {
            set_err(r->err, r->errlen, "gguf: general.alignment has type %s, expected an integer",
                    gguf_type_name(al->type));
            return -1;
        }
        uint64_t a = al->v.u;
        if ((is_signed_type(al->type) && al->v.i <= 0) || a == 0 || (a & (a - 1)) ||
            a > 0x80000000u) {
            char v[32];
            if (is_signed_type(al->type)) snprintf(v, sizeof v, "%lld", (long long)al->v.i);
            else snprintf(v, sizeof v, "%llu", (ull)al->v.u);
            set_err(r->err, r->errlen,
                    "gguf: general.alignment = %s is not a power of two between 1 and 2^31", v);
            return -1;
        }
        g->alignment = (uint32_t)a;
    }

    /* r->pos <= len, and len is far below 2^63, so rounding up cannot wrap. */
    g->data_offset = (r->pos + g->alignment - 1) & ~(uint64_t)(g->alignment - 1);
    uint64_t avail = g->data_offset <= file_size ? file_size - g->data_offset : 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        gguf_tensor *t = &g->tensors[i];
        char name[96];
        shown(name, sizeof name, t->name.ptr, t->name.len);
        if (t->offset % g->alignment) {
            set_err(r->err, r->errlen,
                    "gguf: tensor %llu ('%s'): offset %llu is not a multiple of the alignment %u",
                    (ull)i, name, (ull)t->offset, g->alignment);
            return -1;
        }
        if (t->offset > avail || t->nbytes > avail - t->offset) {
            set_err(r->err, r->errlen,
                    "gguf: tensor %llu ('%s'): data at offset %llu + %llu bytes runs past the end of "
                    "the data section (%llu bytes, file is %llu bytes)",
                    (ull)i, name, (ull)t->offset, (ull)t->nbytes, (ull)avail, (ull)file_size);
            return -1;
        }
        t->data = file_size == r->len && g->data_offset <= r->len ? r->buf + g->data_offset + t->offset : NULL;
    }
    return 0;
}

/* Parses the first len bytes of a file of file_size bytes; more (if not
 * NULL) gets the prefix length a failed parse needs, or 0 when the failure
 * is in the file itself. */
static int parse_prefix(gguf_file *g, const uint8_t *buf, size_t len, uint64_t file_size, uint64_t *more,
                        char *err, size_t errlen) {
    memset(g, 0, sizeof *g);
    if (more) *more = 0;
    if ((!buf && len) || len > file_size) {
        set_err(err, errlen, "gguf: %s", !buf && len ? "no buffer" : "header longer than the file");
        return -1;
    }
    reader r = {.buf = buf, .len = len, .pos = 0, .size = file_size, .err = err, .errlen = errlen};
    g->file_size = file_size;
    g->base = len == file_size ? buf : NULL;
    if (parse_inner(g, &r)) {
        free(g->kv);
        free(g->tensors);
        memset(g, 0, sizeof *g);
        if (more) *more = r.more;
        return -1;
    }
    return 0;
}

int gguf_parse(gguf_file *g, const uint8_t *buf, size_t len, char *err, size_t errlen) {
    return parse_prefix(g, buf, len, len, NULL, err, errlen);
}

int gguf_parse_header(gguf_file *g, const uint8_t *buf, size_t len, uint64_t file_size, uint64_t *need,
                      char *err, size_t errlen) {
    return parse_prefix(g, buf, len, file_size, need, err, errlen);
}

int gguf_open(gguf_file *g, const char *path, char *err, size_t errlen) {
    memset(g, 0, sizeof *g);
    if (!path) {
        set_err(err, errlen, "gguf: no model file given");
        return -1;
    }
    /* O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever,
     * before fstat could say it is not a file at all. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        set_err(err, errlen, "gguf: cannot open '%s': %s", text_show_z(path), strerror(errno));
        g->io_error = 1;
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        set_err(err, errlen, "gguf: cannot stat '%s': %s", text_show_z(path), strerror(errno));
        close(fd);
        g->io_error = 1;
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        set_err(err, errlen, "gguf: '%s' is not a regular file", text_show_z(path));
        close(fd);
        return -1;
    }
    /* O_NONBLOCK stays set: the descriptor is only mapped, never read, and
     * a regular file ignores the flag anyway. */
    size_t size = (size_t)st.st_size;
    void *map = NULL;
    if (size > 0) { /* mmap refuses length 0; the parser reports the empty file */
        map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            set_err(err, errlen, "gguf: cannot map '%s': %s", text_show_z(path), strerror(errno));
            close(fd);
            g->io_error = 1;
            return -1;
        }
    }
    close(fd);
    char e[512];
    if (gguf_parse(g, map, size, e, sizeof e)) {
        if (map) munmap(map, size);
        set_err(err, errlen, "%s: %s", text_show_z(path), e); /* which file, as every load error says */
        return -1;
    }
    g->mapping = map;
    g->mapping_len = size;
    return 0;
}

void gguf_close(gguf_file *g) {
    if (!g) return;
    free(g->kv);
    free(g->tensors);
    if (g->mapping) munmap(g->mapping, g->mapping_len);
    memset(g, 0, sizeof *g);
}

int gguf_str_eq(gguf_str s, const char *c) {
    size_t n = strlen(c);
    return s.len == n && (n == 0 || memcmp(s.ptr, c, n) == 0);
}

const gguf_kv *gguf_find(const gguf_file *g, const char *key) {
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (gguf_str_eq(g->kv[i].key, key)) return &g->kv[i];
    return NULL;
}

const gguf_tensor *gguf_find_tensor(const gguf_file *g, const char *name) {
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (gguf_str_eq(g->tensors[i].name, name)) return &g->tensors[i];
    return NULL;
}

int gguf_get_u64(const gguf_file *g, const char *key, uint64_t *out) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv || !(is_integer_type(kv->type) || kv->type == GGUF_TYPE_BOOL)) return -1;
    if (is_signed_type(kv->type) && kv->v.i < 0) return -1;
    *out = kv->v.u;
    return 0;
}

int gguf_get_f64(const gguf_file *g, const char *key, double *out) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv) return -1;
    if (kv->type == GGUF_TYPE_FLOAT32 || kv->type == GGUF_TYPE_FLOAT64) *out = kv->v.f;
    else if (is_signed_type(kv->type)) *out = (double)kv->v.i;
    else if (is_integer_type(kv->type)) *out = (double)kv->v.u;
    else return -1;
    return 0;
}

int gguf_get_str(const gguf_file *g, const char *key, gguf_str *out) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv || kv->type != GGUF_TYPE_STRING) return -1;
    *out = kv->str;
    return 0;
}

int gguf_get_bool(const gguf_file *g, const char *key, int *out) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv || !(kv->type == GGUF_TYPE_BOOL || is_integer_type(kv->type))) return -1;
    *out = kv->v.u != 0;
    return 0;
}

int gguf_arr_scalar(const gguf_kv *kv, uint64_t i, gguf_kv *out) {
    if (!kv || kv->type != GGUF_TYPE_ARRAY || i >= kv->arr_len) return -1;
    uint32_t sz = scalar_size(kv->arr_type);
    if (!sz) return -1;
    memset(out, 0, sizeof *out);
    out->type = kv->arr_type;
    decode_scalar(kv->arr_type, kv->arr_data + i * sz, out);
    return 0;
}

int gguf_arr_num(const gguf_kv *kv, uint64_t i, double *out) {
    gguf_kv tmp;
    if (gguf_arr_scalar(kv, i, &tmp) != 0) return -1;
    if (kv->arr_type == GGUF_TYPE_FLOAT32 || kv->arr_type == GGUF_TYPE_FLOAT64) *out = tmp.v.f;
    else if (is_signed_type(kv->arr_type)) *out = (double)tmp.v.i;
    else *out = (double)tmp.v.u;
    return 0;
}

int gguf_arr_strings(const gguf_kv *kv, gguf_str **out) {
    *out = NULL;
    if (!kv || kv->type != GGUF_TYPE_ARRAY || kv->arr_type != GGUF_TYPE_STRING) return -1;
    /* Never 0 bytes, so that success always comes with a pointer to free. */
    gguf_str *s = malloc((size_t)(kv->arr_len ? kv->arr_len : 1) * sizeof *s);
    if (!s) return -1;
    /* The parser checked every length against the file, so this walk stays in bounds. */
    const uint8_t *p = kv->arr_data;
    for (uint64_t i = 0; i < kv->arr_len; i++) {
        s[i].len = le64(p);
        s[i].ptr = (const char *)(p + 8);
        p += 8 + s[i].len;
    }
    *out = s;
    return 0;
}

const char *gguf_type_name(uint32_t t) {
    static const char *const names[] = {"u8",  "i8",   "u16", "i16", "u32", "i32", "f32",
                                        "bool", "str", "arr", "u64", "i64", "f64"};
    return t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

