/* A gguf_file built in memory: see gguf_build.h. */
#include "formats/gguf_build.h"

#include <stdlib.h>
#include <string.h>

void gb_init(gguf_builder *b) { memset(b, 0, sizeof *b); }

void *gb_alloc(gguf_builder *b, size_t n) {
    if (b->failed) return NULL;
    if (b->n_blocks == b->cap_blocks) {
        size_t nc = b->cap_blocks ? b->cap_blocks * 2 : 64;
        void **p = realloc(b->blocks, nc * sizeof *p);
        if (!p) { b->failed = 1; return NULL; }
        b->blocks = p;
        b->cap_blocks = nc;
    }
    void *p = calloc(1, n ? n : 1);
    if (!p) { b->failed = 1; return NULL; }
    b->blocks[b->n_blocks++] = p;
    return p;
}

static gguf_str copy_str(gguf_builder *b, const char *s, size_t len) {
    char *p = gb_alloc(b, len + 1);
    if (!p) return (gguf_str){"", 0};
    if (len) memcpy(p, s, len);
    return (gguf_str){p, len};
}

static gguf_kv *find(const gguf_builder *b, const char *key) {
    for (size_t i = 0; i < b->n_kv; i++)
        if (gguf_str_eq(b->kv[i].key, key)) return &b->kv[i];
    return NULL;
}

int gb_has(const gguf_builder *b, const char *key) { return find(b, key) != NULL; }

/* The entry for key, new (appended) or cleared for a new value. */
static gguf_kv *entry(gguf_builder *b, const char *key) {
    if (b->failed) return NULL;
    gguf_kv *kv = find(b, key);
    if (kv) {
        gguf_str k = kv->key;
        memset(kv, 0, sizeof *kv);
        kv->key = k;
        return kv;
    }
    if (b->n_kv == b->cap_kv) {
        size_t nc = b->cap_kv ? b->cap_kv * 2 : 32;
        gguf_kv *p = realloc(b->kv, nc * sizeof *p);
        if (!p) { b->failed = 1; return NULL; }
        b->kv = p;
        b->cap_kv = nc;
    }
    gguf_str k = copy_str(b, key, strlen(key));
    if (b->failed) return NULL;
    kv = &b->kv[b->n_kv++];
    memset(kv, 0, sizeof *kv);
    kv->key = k;
    return kv;
}

void gb_str(gguf_builder *b, const char *key, const char *s, size_t len) {
    gguf_kv *kv = entry(b, key);
    if (!kv) return;
    kv->type = GGUF_TYPE_STRING;
    kv->str = copy_str(b, s, len);
}

void gb_u32(gguf_builder *b, const char *key, uint32_t v) {
    gguf_kv *kv = entry(b, key);
    if (!kv) return;
    kv->type = GGUF_TYPE_UINT32;
    kv->v.u = v;
}

void gb_f32(gguf_builder *b, const char *key, float v) {
    gguf_kv *kv = entry(b, key);
    if (!kv) return;
    kv->type = GGUF_TYPE_FLOAT32;
    kv->v.f = v; /* a parsed FLOAT32 holds exactly the float, as here */
}

void gb_bool(gguf_builder *b, const char *key, int v) {
    gguf_kv *kv = entry(b, key);
    if (!kv) return;
    kv->type = GGUF_TYPE_BOOL;
    kv->v.u = v != 0;
}

/* Array elements as the file would hold them: little-endian, which both
 * hosts wgpt builds for (x86-64, wasm32) are. */
static void arr(gguf_builder *b, const char *key, uint32_t type, const void *v, size_t n, size_t es) {
    gguf_kv *kv = entry(b, key);
    if (!kv) return;
    uint8_t *p = gb_alloc(b, n * es);
    if (!p) return;
    if (n) memcpy(p, v, n * es);
    kv->type = GGUF_TYPE_ARRAY;
    kv->arr_type = type;
    kv->arr_len = n;
    kv->arr_data = p;
}

void gb_arr_i32(gguf_builder *b, const char *key, const int32_t *v, size_t n) { arr(b, key, GGUF_TYPE_INT32, v, n, 4); }
void gb_arr_bool(gguf_builder *b, const char *key, const uint8_t *v, size_t n) { arr(b, key, GGUF_TYPE_BOOL, v, n, 1); }

long gb_tensor(gguf_builder *b, const char *name, uint32_t type, int n_dims, const uint64_t *ne, const uint8_t *data,
               uint64_t nbytes, uint64_t offset) {
    if (b->failed || n_dims < 1 || n_dims > GGUF_MAX_DIMS) return -1;
    if (b->n_tensors == b->cap_tensors) {
        size_t nc = b->cap_tensors ? b->cap_tensors * 2 : 64;
        gguf_tensor *p = realloc(b->tensors, nc * sizeof *p);
        if (!p) { b->failed = 1; return -1; }
        b->tensors = p;
        b->cap_tensors = nc;
    }
    gguf_str nm = copy_str(b, name, strlen(name));
    if (b->failed) return -1;
    gguf_tensor *t = &b->tensors[b->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = nm;
    t->n_dims = (uint32_t)n_dims;
    for (int d = 0; d < GGUF_MAX_DIMS; d++) t->ne[d] = d < n_dims ? ne[d] : 1;
    t->type = type;
    t->offset = offset;
    t->nbytes = nbytes;
    t->data = data;
    return (long)b->n_tensors++;
}

int gb_finish(gguf_builder *b, gguf_file *g) {
    memset(g, 0, sizeof *g);
    if (b->failed) return -1;
    g->version = 3;
    g->alignment = 32;
    g->n_kv = b->n_kv;
    g->kv = b->kv ? b->kv : calloc(1, sizeof *g->kv);
    g->n_tensors = b->n_tensors;
    g->tensors = b->tensors ? b->tensors : calloc(1, sizeof *g->tensors);
    if (!g->kv || !g->tensors) {
        if (!b->kv) free(g->kv);
        if (!b->tensors) free(g->tensors);
        memset(g, 0, sizeof *g);
        b->failed = 1;
        return -1;
    }
    b->kv = NULL;
    b->tensors = NULL;
    b->n_kv = b->cap_kv = b->n_tensors = b->cap_tensors = 0;
    return 0;
}

void gb_free(gguf_builder *b) {
    if (!b) return;
    for (size_t i = 0; i < b->n_blocks; i++) free(b->blocks[i]);
    free(b->blocks);
    free(b->kv);
    free(b->tensors);
    memset(b, 0, sizeof *b);
}
