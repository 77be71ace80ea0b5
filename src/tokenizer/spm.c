/* SentencePiece-style tokenization as llama.cpp's llm_tokenizer_spm_session
 * does it: start from UTF-8 characters, repeatedly merge the adjacent pair
 * whose concatenation is the highest-scoring token (ties: leftmost), then
 * emit each final piece as its token or, failing that, as byte tokens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok_internal.h"
#include "util/util.h"

typedef struct {
    const char *text;
    size_t n;
    int prev, next;
} sym;


static int try_add(const wgpt_tokenizer *t, const sym *s, tok_bigram_heap *h, int left, int right) {
    if (left < 0 || right < 0) return 0;
    size_t n = s[left].n + s[right].n; /* adjacent symbols are contiguous in the text */
    int32_t id = strmap_get(&t->tok2id, s[left].text, n);
    if (id < 0) return 0;
    return bigram_push(h, (tok_bigram){t->scores[id], left, right, n});
}

/* llama.cpp's byte_to_token for SPM: "<0xAB>", else the byte itself as a
 * token. Where llama.cpp would throw, the unknown token stands in. */
static int32_t byte_token(const wgpt_tokenizer *t, unsigned char c) {
    char buf[7];
    snprintf(buf, sizeof buf, "<0x%02X>", c);
    int32_t id = strmap_get(&t->tok2id, buf, 6);
    if (id >= 0) return id;
    id = strmap_get(&t->tok2id, (const char *)&c, 1);
    if (id >= 0) return id;
    return t->ids[TOK_ID_UNK];
}

int spm_tokenize(const wgpt_tokenizer *t, const char *text, size_t len, ivec *out, char *err,
                 size_t errlen) {
    if (len == 0) return 0;
    if (len > (size_t)1 << 30) { set_err(err, errlen, "tokenizer: text fragment too long"); return -1; }
    sym *s = malloc(len * sizeof *s);
    tok_bigram_heap h = {0};
    int rc = -1;
    if (!s) { set_err(err, errlen, "tokenizer: out of memory"); return -1; }
    int ns = 0;
    for (size_t o = 0; o < len;) {
        size_t cl = utf8_seq_len((const unsigned char *)text + o, len - o);
        if (!cl) cl = 1; /* callers validate; a stray byte is its own symbol */
        s[ns] = (sym){text + o, cl, ns - 1, o + cl == len ? -1 : ns + 1};
        o += cl;
        ns++;
    }
    for (int i = 1; i < ns; i++)
        if (try_add(t, s, &h, i - 1, i) < 0) goto oom;
    while (h.n) {
        tok_bigram b = bigram_pop(&h);
        sym *l = &s[b.left], *r = &s[b.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.size) continue; /* stale */
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) s[r->next].prev = b.left;
        if (try_add(t, s, &h, l->prev, b.left) < 0 || try_add(t, s, &h, b.left, l->next) < 0) goto oom;
    }
    for (int i = 0; i != -1; i = s[i].next) {
        int32_t id = strmap_get(&t->tok2id, s[i].text, s[i].n);
        if (id >= 0) {
            if (ivec_push(out, id) < 0) goto oom;
            continue;
        }
        /* A final piece that is no token was never merged: it is a single
         * character, so llama.cpp's rev_merge lookup cannot find it either. */
        for (size_t j = 0; j < s[i].n; j++) {
            int32_t b = byte_token(t, (unsigned char)s[i].text[j]);
            if (b < 0) {
                set_err(err, errlen, "tokenizer: no token for byte 0x%02X (no <0x%02X> byte token, no unknown token)",
                        (unsigned char)s[i].text[j], (unsigned char)s[i].text[j]);
                goto done;
            }
            if (ivec_push(out, b) < 0) goto oom;
        }
    }
    rc = 0;
    goto done;
oom:
    set_err(err, errlen, "tokenizer: out of memory");
done:
    free(s);
    free(h.v);
    return rc;
}
