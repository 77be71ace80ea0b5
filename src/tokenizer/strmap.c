/* Open-addressing hash map from byte strings to ids, sized up front so that
 * a 128k-token vocabulary and 280k merges load with no rehashing. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok_internal.h"

static uint32_t hash_bytes(const char *s, size_t n) {
    /* FNV-1a, 64-bit, folded: the final mix spreads short keys (single
     * bytes, two-letter merges) over the low bits the mask keeps. */
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) { h ^= (unsigned char)s[i]; h *= 1099511628211ull; }
    h ^= h >> 29; h *= 0xbf58476d1ce4e5b9ull; h ^= h >> 32;
    return (uint32_t)h;
}

static int alloc_slots(strmap *m, size_t want) {
    size_t cap = 16;
    while (cap < want * 2) cap <<= 1;
    if (cap > (1u << 31)) return -1;
    m->slots = calloc(cap, sizeof *m->slots);
    if (!m->slots) return -1;
    m->mask = (uint32_t)(cap - 1);
    return 0;
}

int strmap_init(strmap *m, size_t expected) {
    memset(m, 0, sizeof *m);
    if (expected > (1u << 30)) return -1;
    if (alloc_slots(m, expected ? expected : 1) < 0) return -1;
    m->cap = (uint32_t)(expected ? expected : 1);
    m->ents = malloc(m->cap * sizeof *m->ents);
    if (!m->ents) { free(m->slots); m->slots = NULL; return -1; }
    return 0;
}

/* A slot holds the hash beside the index, so that probing past other keys
 * touches only the slot array. */
static uint64_t slot_of(uint32_t hash, uint32_t idx) { return (uint64_t)hash << 32 | (idx + 1); }

static void insert_slot(strmap *m, uint32_t idx) {
    uint32_t i = m->ents[idx].hash & m->mask;
    while (m->slots[i]) i = (i + 1) & m->mask;
    m->slots[i] = slot_of(m->ents[idx].hash, idx);
}

static int grow(strmap *m) {
    if (m->cap >= (1u << 30)) return -1;
    uint32_t ncap = m->cap * 2;
    strmap_ent *e = realloc(m->ents, ncap * sizeof *e);
    if (!e) return -1;
    m->ents = e;
    m->cap = ncap;
    free(m->slots);
    if (alloc_slots(m, ncap) < 0) return -1;
    for (uint32_t i = 0; i < m->n; i++) insert_slot(m, i);
    return 0;
}

int strmap_put(strmap *m, const char *key, size_t len, int32_t val, int overwrite) {
    if (len > UINT32_MAX) return -1;
    uint32_t h = hash_bytes(key, len);
    for (uint32_t i = h & m->mask;; i = (i + 1) & m->mask) {
        uint64_t s = m->slots[i];
        if (!s) break;
        if ((uint32_t)(s >> 32) != h) continue;
        strmap_ent *e = &m->ents[(uint32_t)s - 1];
        if (e->len == len && memcmp(e->key, key, len) == 0) {
            if (overwrite) e->val = val;
            return 0;
        }
    }
    if (m->n == m->cap && grow(m) < 0) return -1;
    m->ents[m->n] = (strmap_ent){key, (uint32_t)len, h, val};
    insert_slot(m, m->n);
    m->n++;
    return 0;
}

int32_t strmap_get(const strmap *m, const char *key, size_t len) {
    if (!m->slots) return -1;
    uint32_t h = hash_bytes(key, len);
    for (uint32_t i = h & m->mask;; i = (i + 1) & m->mask) {
        uint64_t s = m->slots[i];
        if (!s) return -1;
        if ((uint32_t)(s >> 32) != h) continue;
        const strmap_ent *e = &m->ents[(uint32_t)s - 1];
        if (e->len == len && memcmp(e->key, key, len) == 0) return e->val;
    }
}

void strmap_free(strmap *m) {
    free(m->slots);
    free(m->ents);
    memset(m, 0, sizeof *m);
}

int ivec_push(ivec *a, int32_t x) {
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 64;
        int32_t *v = realloc(a->v, nc * sizeof *v);
        if (!v) return -1;
        a->v = v;
        a->cap = nc;
    }
    a->v[a->n++] = x;
    return 0;
}
