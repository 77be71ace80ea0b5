/* ONNX files: see onnx.h. The protobuf wire format is a run of fields,
 * each a varint key (field number << 3 | wire type) and a value: a varint
 * (0), 8 bytes (1), a length-delimited run (2) or 4 bytes (5). Nested
 * messages are length-delimited runs read by the same loop, bounded by
 * their run; fields wgpt does not need are skipped by their wire type.
 * The field numbers are onnx.proto's. Nothing here recurses past the
 * model's fixed depth (subgraphs in attributes are skipped), and every
 * count grows only with bytes consumed, so a hostile file costs at most
 * a few times its size. */
#include "formats/onnx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"

typedef struct {
    const uint8_t *p, *end;
    char *err;
    size_t errlen;
    int failed;
} rd;

static void fail(rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(rd *r, const char *fmt, ...) {
    if (r->failed) return;
    r->failed = 1;
    if (!r->err || !r->errlen) return;
    /* Formatted apart first: a nested message's error is often an argument. */
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    snprintf(r->err, r->errlen, "%s", buf);
    for (char *c = r->err; *c; c++) if (*c == '\n' || *c == '\r') *c = ' ';
}

static int varint(rd *r, uint64_t *v) {
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) { fail(r, "a varint runs past the end of its message"); return -1; }
        uint8_t b = *r->p++;
        if (shift == 63 && b > 1) break;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) { *v = x; return 0; }
    }
    fail(r, "a varint is longer than 64 bits");
    return -1;
}

/* The next field's key; 0 at the end of the message, -1 when malformed. */
static int key(rd *r, uint32_t *field, int *wire) {
    if (r->p == r->end) return 0;
    uint64_t k;
    if (varint(r, &k)) return -1;
    *field = (uint32_t)(k >> 3);
    *wire = (int)(k & 7);
    if (k >> 3 == 0 || k >> 3 > 0x1fffffff) { fail(r, "a field number of 0 or past 2^29"); return -1; }
    return 1;
}

/* A length-delimited value as a sub-reader. */
static int bytes(rd *r, rd *sub) {
    uint64_t n;
    if (varint(r, &n)) return -1;
    if (n > (uint64_t)(r->end - r->p)) {
        fail(r, "a field of %llu bytes runs past the end of its message (%zu left)", (unsigned long long)n,
             (size_t)(r->end - r->p));
        return -1;
    }
    *sub = (rd){r->p, r->p + n, r->err, r->errlen, 0};
    r->p += n;
    return 0;
}

static int skip(rd *r, int wire) {
    uint64_t v;
    rd sub;
    switch (wire) {
    case 0: return varint(r, &v);
    case 1:
    case 5: {
        size_t n = wire == 1 ? 8 : 4;
        if ((size_t)(r->end - r->p) < n) { fail(r, "a fixed-size field runs past the end of its message"); return -1; }
        r->p += n;
        return 0;
    }
    case 2: return bytes(r, &sub);
    default: fail(r, "wire type %d (groups or invalid) is not an ONNX field", wire); return -1;
    }
}

/* Checks a field's wire type against the one its number has. */
static int want(rd *r, int wire, int expect, const char *what) {
    if (wire == expect) return 0;
    fail(r, "%s has wire type %d, expected %d", what, wire, expect);
    return -1;
}

static char *str(rd *r, const char *what) {
    rd s;
    if (bytes(r, &s)) return NULL;
    size_t n = (size_t)(s.end - s.p);
    if (memchr(s.p, 0, n)) { fail(r, "%s holds a NUL byte", what); return NULL; }
    char *c = malloc(n + 1);
    if (!c) { fail(r, "out of memory"); return NULL; }
    memcpy(c, s.p, n);
    c[n] = 0;
    return c;
}

/* Appends to a malloc'ed array of elem-byte items, doubling its capacity. */
static void *grow(rd *r, void *arr, size_t *cap, size_t n, size_t elem) {
    if (n < *cap) return arr;
    size_t nc = *cap ? *cap * 2 : 4;
    void *p = realloc(arr, nc * elem);
    if (!p) { fail(r, "out of memory"); return NULL; }
    *cap = nc;
    return p;
}

/* ---- TensorProto ---- */

/* Bytes an element takes, in eighths: 4-bit types take half a byte. 0: a type wgpt does not read. */
static unsigned elem_bits(int32_t t) {
    switch (t) {
    case ONNX_UINT4: case ONNX_INT4: return 4;
    case ONNX_UINT8: case ONNX_INT8: case ONNX_BOOL: return 8;
    case ONNX_UINT16: case ONNX_INT16: case ONNX_FLOAT16: case ONNX_BFLOAT16: return 16;
    case ONNX_FLOAT: case ONNX_INT32: case ONNX_UINT32: return 32;
    case ONNX_INT64: case ONNX_UINT64: case ONNX_DOUBLE: return 64;
    default: return 0;
    }
}

const char *onnx_type_name(int32_t t) {
    static const char *names[] = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64",
                                  "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64",
                                  "COMPLEX128", "BFLOAT16"};
    static char buf[32];
    if (t >= 0 && t < (int32_t)(sizeof names / sizeof *names)) return names[t];
    if (t == ONNX_UINT4) return "UINT4";
    if (t == ONNX_INT4) return "INT4";
    snprintf(buf, sizeof buf, "type %d", (int)t);
    return buf;
}

static void tensor_free(onnx_tensor *t) {
    free(t->name);
    free(t->location);
    free(t->owned);
    memset(t, 0, sizeof *t);
}

/* Decimal digits to a u64: external_data's offset and length. */
static int decimal(const char *s, uint64_t *v) {
    uint64_t x = 0;
    if (!*s) return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || x > (UINT64_MAX - 9) / 10) return -1;
        x = x * 10 + (uint64_t)(*s - '0');
    }
    *v = x;
    return 0;
}

/* One external_data entry (StringStringEntryProto: key 1, value 2). */
static int ext_entry(rd *r, onnx_tensor *t) {
    rd e;
    if (bytes(r, &e)) return -1;
    char *k = NULL, *v = NULL;
    uint32_t f;
    int w, rc;
    while ((rc = key(&e, &f, &w)) > 0) {
        if (f == 1 || f == 2) {
            if (want(&e, w, 2, "external_data's key or value")) break;
            char **dst = f == 1 ? &k : &v;
            free(*dst);
            if (!(*dst = str(&e, "external_data"))) break;
        } else if (skip(&e, w)) break;
    }
    int ok = !e.failed && rc == 0;
    if (e.failed) fail(r, "%s", e.err ? e.err : "");
    if (ok && k && v) {
        if (!strcmp(k, "location")) {
            free(t->location);
            t->location = v;
            v = NULL;
        } else if (!strcmp(k, "offset") || !strcmp(k, "length")) {
            uint64_t x;
            if (decimal(v, &x)) {
                fail(r, "external data %s '%s' is not a number", k, text_show_z(v));
                ok = 0;
            } else if (!strcmp(k, "offset")) t->ext_offset = x;
            else { t->ext_length = x; t->ext_length_given = 1; }
        }
    }
    free(k);
    free(v);
    return ok ? 0 : -1;
}

/* A repeated scalar field, packed (one length-delimited run) or not (one
 * value a field): values appended to vals as uint64 (float bits for
 * fixed32). */
static int scalars(rd *r, int wire, int fixed32, uint64_t **vals, size_t *n, size_t *cap, const char *what) {
    rd s = *r;
    int packed = wire == 2;
    if (packed) {
        if (bytes(r, &s)) return -1;
    } else if (want(r, wire, fixed32 ? 5 : 0, what)) {
        return -1;
    }
    rd *src = packed ? &s : r;
    do {
        if (packed && src->p == src->end) break;
        uint64_t v;
        if (fixed32) {
            if (src->end - src->p < 4) { fail(r, "%s runs past the end of its message", what); return -1; }
            v = (uint64_t)src->p[0] | (uint64_t)src->p[1] << 8 | (uint64_t)src->p[2] << 16 | (uint64_t)src->p[3] << 24;
            src->p += 4;
        } else if (varint(src, &v)) {
            if (packed) fail(r, "%s", s.err ? s.err : "");
            return -1;
        }
        if (!(*vals = grow(r, *vals, cap, *n, sizeof **vals))) return -1;
        (*vals)[(*n)++] = v;
    } while (packed);
    return 0;
}

static int tensor(rd *r, onnx_tensor *t) {
    rd m;
    if (bytes(r, &m)) return -1;
    memset(t, 0, sizeof *t);
    uint64_t *dims = NULL, *vals = NULL;
    size_t n_dims = 0, cap_dims = 0, n_vals = 0, cap_vals = 0;
    int vals_kind = 0; /* 4: float_data, 5: int32_data */
    const uint8_t *raw = NULL;
    uint64_t raw_len = 0;
    int has_raw = 0, external = 0;
    uint32_t f;
    int w, rc;
    while ((rc = key(&m, &f, &w)) > 0) {
        if (f == 1) {
            if (scalars(&m, w, 0, &dims, &n_dims, &cap_dims, "a tensor's dims")) break;
        } else if (f == 2) {
            uint64_t v;
            if (want(&m, w, 0, "a tensor's data_type") || varint(&m, &v)) break;
            t->data_type = v > 0x7fffffff ? -1 : (int32_t)v;
        } else if (f == 4 || f == 5) {
            if (vals_kind && vals_kind != (int)f) { fail(&m, "a tensor has both float_data and int32_data"); break; }
            vals_kind = (int)f;
            if (scalars(&m, w, f == 4, &vals, &n_vals, &cap_vals, f == 4 ? "float_data" : "int32_data")) break;
        } else if (f == 8) {
            if (want(&m, w, 2, "a tensor's name")) break;
            free(t->name);
            if (!(t->name = str(&m, "a tensor's name"))) break;
        } else if (f == 9) {
            rd s;
            if (want(&m, w, 2, "raw_data") || bytes(&m, &s)) break;
            raw = s.p;
            raw_len = (uint64_t)(s.end - s.p);
            has_raw = 1;
        } else if (f == 13) {
            if (want(&m, w, 2, "external_data") || ext_entry(&m, t)) break;
        } else if (f == 14) {
            uint64_t v;
            if (want(&m, w, 0, "data_location") || varint(&m, &v)) break;
            external = v == 1;
        } else if (f == 6 || f == 7 || f == 10 || f == 11) {
            /* string, int64, double, uint64 data: types no weight wgpt reads has */
            if (skip(&m, w)) break;
        } else if (skip(&m, w)) {
            break;
        }
    }
    const char *nm = t->name ? text_show_z(t->name) : "(unnamed)";
    if (m.failed || rc < 0) {
        fail(r, "initializer %s: %s", nm, m.err ? m.err : "");
        goto bad;
    }
    if (!t->name || !*t->name) { fail(r, "an initializer has no name"); goto bad; }
    if (n_dims > ONNX_MAX_DIMS) {
        fail(r, "initializer %s has %zu dimensions (at most %d)", nm, n_dims, ONNX_MAX_DIMS);
        goto bad;
    }
    t->n_dims = (int)n_dims;
    t->n_elems = 1;
    for (size_t i = 0; i < n_dims; i++) {
        /* 2^40 a dimension and 2^48 elements: far past any weight, and no product overflows. */
        if (dims[i] > ((uint64_t)1 << 40) || (dims[i] && t->n_elems > ((uint64_t)1 << 48) / dims[i])) {
            fail(r, "initializer %s: dimensions too large", nm);
            goto bad;
        }
        t->dims[i] = (int64_t)dims[i];
        t->n_elems *= dims[i];
    }
    if (external && !t->location) { fail(r, "initializer %s: external data without a location", nm); goto bad; }
    if (t->location && !onnx_location_ok(t->location)) {
        fail(r, "initializer %s: external data location '%s' leads out of the model's folder", nm,
             text_show_z(t->location));
        goto bad;
    }
    if (!external) { free(t->location); t->location = NULL; }
    unsigned bits = elem_bits(t->data_type);
    if (!bits) {
        /* Kept with no data: a graph may hold strings or complex constants wgpt never asks for. */
        free(t->location);
        t->location = NULL;
        t->nbytes = 0;
        free(dims);
        free(vals);
        return 0;
    }
    t->nbytes = (t->n_elems * bits + 7) / 8;
    int sources = has_raw + (vals_kind != 0) + external;
    if (sources > 1) { fail(r, "initializer %s has its data in more than one place", nm); goto bad; }
    if (external) {
        if (t->ext_length_given && t->ext_length != t->nbytes) {
            fail(r, "initializer %s: external data length %llu, but dims %s take %llu bytes", nm,
                 (unsigned long long)t->ext_length, onnx_type_name(t->data_type), (unsigned long long)t->nbytes);
            goto bad;
        }
    } else if (has_raw) {
        if (raw_len != t->nbytes) {
            fail(r, "initializer %s: %llu bytes of raw_data, but its dims and type (%s) take %llu", nm,
                 (unsigned long long)raw_len, onnx_type_name(t->data_type), (unsigned long long)t->nbytes);
            goto bad;
        }
        t->data = raw;
    } else if (vals_kind) {
        /* float_data holds FLOAT; int32_data holds every narrower integer
         * type and FLOAT16/BFLOAT16 bits, one value each. */
        int ok = vals_kind == 4 ? t->data_type == ONNX_FLOAT
                                : bits >= 8 && bits <= 32 && t->data_type != ONNX_FLOAT && t->data_type != ONNX_UINT32;
        if (!ok) { fail(r, "initializer %s: %s values in %s", nm, vals_kind == 4 ? "float_data" : "int32_data",
                        onnx_type_name(t->data_type)); goto bad; }
        if (n_vals != t->n_elems) {
            fail(r, "initializer %s: %zu values, but its dims hold %llu", nm, n_vals, (unsigned long long)t->n_elems);
            goto bad;
        }
        uint8_t *o = malloc(t->nbytes ? (size_t)t->nbytes : 1);
        if (!o) { fail(r, "out of memory"); goto bad; }
        for (size_t i = 0; i < n_vals; i++)
            for (unsigned b = 0; b < bits / 8; b++) o[i * (bits / 8) + b] = (uint8_t)(vals[i] >> (8 * b));
        t->owned = o;
        t->data = o;
    } else if (t->n_elems) {
        fail(r, "initializer %s has no data", nm);
        goto bad;
    }
    free(dims);
    free(vals);
    return 0;
bad:
    free(dims);
    free(vals);
    tensor_free(t);
    return -1;
}

/* ---- NodeProto ---- */

static int attribute(rd *r, onnx_attr *a) {
    rd m;
    if (bytes(r, &m)) return -1;
    memset(a, 0, sizeof *a);
    uint32_t f;
    int w, rc;
    while ((rc = key(&m, &f, &w)) > 0) {
        if (f == 1) {
            if (want(&m, w, 2, "an attribute's name")) break;
            free(a->name);
            if (!(a->name = str(&m, "an attribute's name"))) break;
        } else if (f == 3) {
            uint64_t v;
            if (want(&m, w, 0, "an attribute's int") || varint(&m, &v)) break;
            a->i = (int64_t)v;
        } else if (f == 2) {
            if (want(&m, w, 5, "an attribute's float")) break;
            if (m.end - m.p < 4) { fail(&m, "an attribute's float runs past its end"); break; }
            uint32_t bits = (uint32_t)m.p[0] | (uint32_t)m.p[1] << 8 | (uint32_t)m.p[2] << 16 | (uint32_t)m.p[3] << 24;
            memcpy(&a->f, &bits, 4);
            m.p += 4;
        } else if (f == 20) {
            uint64_t v;
            if (want(&m, w, 0, "an attribute's type") || varint(&m, &v)) break;
            a->type = v > 100 ? -1 : (int)v;
        } else if (skip(&m, w)) {
            break;
        }
    }
    if (m.failed || rc < 0) {
        fail(r, "%s", m.err ? m.err : "");
        free(a->name);
        a->name = NULL;
        return -1;
    }
    if (!a->name) {
        a->name = malloc(1);
        if (!a->name) { fail(r, "out of memory"); return -1; }
        a->name[0] = 0;
    }
    return 0;
}

static void node_free(onnx_node *n) {
    free(n->name);
    free(n->op_type);
    free(n->domain);
    for (size_t i = 0; i < n->n_inputs; i++) free(n->inputs[i]);
    for (size_t i = 0; i < n->n_outputs; i++) free(n->outputs[i]);
    for (size_t i = 0; i < n->n_attrs; i++) free(n->attrs[i].name);
    free(n->inputs);
    free(n->outputs);
    free(n->attrs);
    memset(n, 0, sizeof *n);
}

static int node(rd *r, onnx_node *n) {
    rd m;
    if (bytes(r, &m)) return -1;
    memset(n, 0, sizeof *n);
    size_t cap_in = 0, cap_out = 0, cap_attr = 0;
    uint32_t f;
    int w, rc;
    while ((rc = key(&m, &f, &w)) > 0) {
        if (f == 1 || f == 2) {
            if (want(&m, w, 2, f == 1 ? "a node's input" : "a node's output")) break;
            char ***arr = f == 1 ? &n->inputs : &n->outputs;
            size_t *cnt = f == 1 ? &n->n_inputs : &n->n_outputs;
            void *g = grow(&m, *arr, f == 1 ? &cap_in : &cap_out, *cnt, sizeof **arr);
            if (!g) break;
            *arr = g;
            char *s = str(&m, "a node's input or output name");
            if (!s) break;
            (*arr)[(*cnt)++] = s;
        } else if (f == 3 || f == 4 || f == 7) {
            if (want(&m, w, 2, "a node's name, op_type or domain")) break;
            char **dst = f == 3 ? &n->name : f == 4 ? &n->op_type : &n->domain;
            free(*dst);
            if (!(*dst = str(&m, "a node's name, op_type or domain"))) break;
        } else if (f == 5) {
            if (want(&m, w, 2, "a node's attribute")) break;
            void *g = grow(&m, n->attrs, &cap_attr, n->n_attrs, sizeof *n->attrs);
            if (!g) break;
            n->attrs = g;
            if (attribute(&m, &n->attrs[n->n_attrs])) break;
            n->n_attrs++;
        } else if (skip(&m, w)) {
            break;
        }
    }
    const char *nm = n->name ? text_show_z(n->name) : "(unnamed)";
    if (m.failed || rc < 0) {
        fail(r, "node %s: %s", nm, m.err ? m.err : "");
        node_free(n);
        return -1;
    }
    if (!n->op_type || !*n->op_type) { fail(r, "node %s has no op_type", nm); node_free(n); return -1; }
    char **fill[] = {&n->name, &n->domain};
    for (int i = 0; i < 2; i++)
        if (!*fill[i] && !(*fill[i] = calloc(1, 1))) { fail(r, "out of memory"); node_free(n); return -1; }
    return 0;
}

/* ---- GraphProto, ModelProto ---- */

static int graph(rd *r, onnx_model *g) {
    rd m;
    if (bytes(r, &m)) return -1;
    size_t cap_t = 0, cap_n = 0;
    uint32_t f;
    int w, rc;
    /* A second graph field merges into the first, as protobuf does. */
    cap_t = g->n_tensors;
    cap_n = g->n_nodes;
    while ((rc = key(&m, &f, &w)) > 0) {
        if (f == 5) {
            if (want(&m, w, 2, "an initializer")) break;
            void *p = grow(&m, g->tensors, &cap_t, g->n_tensors, sizeof *g->tensors);
            if (!p) break;
            g->tensors = p;
            if (tensor(&m, &g->tensors[g->n_tensors])) break;
            g->n_tensors++;
        } else if (f == 1) {
            if (want(&m, w, 2, "a node")) break;
            void *p = grow(&m, g->nodes, &cap_n, g->n_nodes, sizeof *g->nodes);
            if (!p) break;
            g->nodes = p;
            if (node(&m, &g->nodes[g->n_nodes])) break;
            g->n_nodes++;
        } else if (f == 15) {
            fail(&m, "sparse initializers are not supported");
            break;
        } else if (skip(&m, w)) {
            break;
        }
    }
    if (m.failed || rc < 0) { fail(r, "graph: %s", m.err ? m.err : ""); return -1; }
    return 0;
}

int onnx_parse(onnx_model *g, const uint8_t *p, size_t len, char *err, size_t errlen) {
    memset(g, 0, sizeof *g);
    if (err && errlen) err[0] = 0;
    rd r = {p, p + len, err, errlen, 0};
    int have_graph = 0;
    uint32_t f;
    int w, rc;
    if (!len) { fail(&r, "empty file"); return -1; }
    while ((rc = key(&r, &f, &w)) > 0) {
        if (f == 1) {
            uint64_t v;
            if (want(&r, w, 0, "ir_version") || varint(&r, &v)) break;
            g->ir_version = (int64_t)v;
        } else if (f == 7) {
            if (want(&r, w, 2, "the graph") || graph(&r, g)) break;
            have_graph = 1;
        } else if (skip(&r, w)) {
            break;
        }
    }
    if (!r.failed && rc == 0 && !have_graph) fail(&r, "not an ONNX model: no graph");
    if (!r.failed && (g->ir_version < 1 || g->ir_version > 100))
        fail(&r, "not an ONNX model: ir_version %lld", (long long)g->ir_version);
    if (r.failed || rc < 0) {
        if (!r.failed) fail(&r, "malformed");
        onnx_free(g);
        return -1;
    }
    return 0;
}

void onnx_free(onnx_model *g) {
    for (size_t i = 0; i < g->n_tensors; i++) tensor_free(&g->tensors[i]);
    for (size_t i = 0; i < g->n_nodes; i++) node_free(&g->nodes[i]);
    free(g->tensors);
    free(g->nodes);
    memset(g, 0, sizeof *g);
}

int onnx_location_ok(const char *loc) {
    if (!loc || !*loc || loc[0] == '/' || strchr(loc, '\\') || strchr(loc, ':')) return 0;
    const char *s = loc;
    for (;;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) return 0;
        if (!e) return 1;
        s = e + 1;
    }
}

int onnx_external_bind(onnx_tensor *t, const uint8_t *base, uint64_t size, char *err, size_t errlen) {
    rd r = {NULL, NULL, err, errlen, 0};
    uint64_t len = t->ext_length_given ? t->ext_length : t->nbytes;
    if (t->ext_offset > size || len > size - t->ext_offset) {
        fail(&r, "initializer %s: external data at %llu, %llu bytes, past the end of %s (%llu bytes)",
             text_show_z(t->name), (unsigned long long)t->ext_offset, (unsigned long long)len,
             text_show_z(t->location), (unsigned long long)size);
        return -1;
    }
    if (len != t->nbytes) {
        fail(&r, "initializer %s: %llu bytes of external data, but its dims take %llu", text_show_z(t->name),
             (unsigned long long)len, (unsigned long long)t->nbytes);
        return -1;
    }
    t->data = base + t->ext_offset;
    return 0;
}

const onnx_tensor *onnx_find_tensor(const onnx_model *m, const char *name) {
    for (size_t i = 0; i < m->n_tensors; i++)
        if (!strcmp(m->tensors[i].name, name)) return &m->tensors[i];
    return NULL;
}

int onnx_attr_int(const onnx_node *n, const char *name, int64_t *v) {
    for (size_t i = 0; i < n->n_attrs; i++)
        if (!strcmp(n->attrs[i].name, name) && (n->attrs[i].type == 2 || n->attrs[i].type == 0)) {
            *v = n->attrs[i].i;
            return 1;
        }
    return 0;
}
