#include "tokenizer/tok_internal.h"

#include <stdlib.h>
#include <string.h>

static int before(const tok_bigram *a, const tok_bigram *b) {
    return a->key > b->key || (a->key == b->key && a->left < b->left);
}

int bigram_push(tok_bigram_heap *h, tok_bigram b) {
    if (h->n == h->cap) {
        size_t nc = h->cap ? h->cap * 2 : 64;
        tok_bigram *v = realloc(h->v, nc * sizeof *v);
        if (!v) return -1;
        h->v = v;
        h->cap = nc;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(&b, &h->v[p])) break;
        h->v[i] = h->v[p];
        i = p;
    }
    h->v[i] = b;
    return 0;
}

tok_bigram bigram_pop(tok_bigram_heap *h) {
    tok_bigram top = h->v[0], last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && before(&h->v[c + 1], &h->v[c])) c++;
        if (!before(&h->v[c], &last)) break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n) h->v[i] = last;
    return top;
}

int bpe_push_ranked(tok_bigram_heap *h, const strmap *ranks, const char *a, size_t la, const char *b, size_t lb,
                    int left, int right, char **key, size_t *key_cap) {
    size_t kl = 4 + la + lb;
    if (kl > *key_cap) {
        char *k = realloc(*key, kl * 2);
        if (!k) return -1;
        *key = k;
        *key_cap = kl * 2;
    }
    uint32_t ll = (uint32_t)la;
    memcpy(*key, &ll, 4);
    memcpy(*key + 4, a, la);
    memcpy(*key + 4 + la, b, lb);
    int32_t rank = strmap_get(ranks, *key, kl);
    if (rank < 0) return 0;
    return bigram_push(h, (tok_bigram){-(float)rank, left, right, la + lb});
}

int spans_push(spans *s, size_t off, size_t len) {
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        span *v = realloc(s->v, nc * sizeof *v);
        if (!v) return -1;
        s->v = v;
        s->cap = nc;
    }
    s->v[s->n++] = (span){off, len};
    return 0;
}
