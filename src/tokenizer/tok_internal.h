/* Shared between the tokenizer's source files; not part of the API. */
#ifndef WGPT_TOK_INTERNAL_H
#define WGPT_TOK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "tokenizer/tokenizer.h"

/* Byte string -> int32 map with open addressing. Keys are not copied: they
 * live in the tokenizer's arenas for as long as the map does. */
typedef struct {
    const char *key;
    uint32_t len;
    uint32_t hash;
    int32_t val;
} strmap_ent;

typedef struct {
    uint64_t *slots; /* hash << 32 | (1 + index into ents); 0 = empty */
    uint32_t mask;
    strmap_ent *ents;
    uint32_t n, cap;
} strmap;

/* The merge queue both tokenizers use: candidate merges of adjacent
 * symbols, best first. key: higher merges first (an SPM score, or a BPE
 * rank negated); ties go to the leftmost pair, as in llama.cpp. size lets a
 * popped candidate be recognised as stale after its symbols changed. */
typedef struct {
    float key;
    int left, right;
    size_t size;
} tok_bigram;
typedef struct {
    tok_bigram *v;
    size_t n, cap;
} tok_bigram_heap;
int bigram_push(tok_bigram_heap *h, tok_bigram b); /* -1 on out of memory */
tok_bigram bigram_pop(tok_bigram_heap *h);         /* h->n must be > 0 */
/* Pieces of a text (byte ranges), as pre-tokenizers cut it. */
typedef struct {
    size_t off, len;
} span;
typedef struct {
    span *v;
    size_t n, cap;
} spans;
int spans_push(spans *s, size_t off, size_t len); /* empty ones too; -1 on out of memory */

/* A symbol of a word while BPE merges it: bytes [off, off + n) of the word,
 * its live neighbours (-1: none). */
typedef struct {
    size_t off, n;
    int prev, next;
} bpe_sym;

/* A BPE merge candidate: texts a and b of adjacent symbols left and right,
 * looked up in ranks (keyed by the u32 length of a, then a, then b, as
 * both BPE tokenizers key their merges) and pushed, rank negated, when the
 * pair is a merge. *key / *key_cap: scratch the caller keeps across calls
 * and frees. -1 on out of memory. */
int bpe_push_ranked(tok_bigram_heap *h, const strmap *ranks, const char *a, size_t la, const char *b, size_t lb,
                    int left, int right, char **key, size_t *key_cap);

int strmap_init(strmap *m, size_t expected);
/* overwrite: replace the value of an existing key (else the first one stays). */
int strmap_put(strmap *m, const char *key, size_t len, int32_t val, int overwrite);
int32_t strmap_get(const strmap *m, const char *key, size_t len); /* -1 if absent */
void strmap_free(strmap *m);

/* llama.cpp's token attributes (llama_token_attr). */
enum {
    ATTR_UNKNOWN = 1 << 0, ATTR_UNUSED = 1 << 1, ATTR_NORMAL = 1 << 2, ATTR_CONTROL = 1 << 3,
    ATTR_USER_DEFINED = 1 << 4, ATTR_BYTE = 1 << 5, ATTR_LSTRIP = 1 << 7, ATTR_RSTRIP = 1 << 8,
};

enum { TOK_SPM = 1, TOK_BPE = 2, TOK_HF = 3 }; /* TOK_HF: tokenizer.json, hf_*.c */

#define TOK_MAX_REGEX 4

/* Growable int32 output. */
typedef struct {
    int32_t *v;
    size_t n, cap;
} ivec;
int ivec_push(ivec *a, int32_t x);

struct wgpt_tokenizer {
    int type;
    int32_t n_vocab;
    char *text;          /* every token's text, back to back */
    uint64_t *off;       /* n_vocab: start of token i in text */
    uint32_t *len;       /* n_vocab */
    float *scores;       /* n_vocab */
    uint32_t *attr;      /* n_vocab, ATTR_* */
    strmap tok2id;       /* text -> id; a repeated text maps to its last id */

    /* gpt2: merge ranks, keyed by u32 length of left || left || right */
    char *merge_keys;
    strmap ranks;

    int32_t ids[TOK_ID_COUNT]; /* -1 = none */
    int add_bos, add_eos, add_space_prefix, ignore_merges;
    /* gpt2 with a SentencePiece-shaped vocabulary (llama.cpp's GEMMA4
     * pre-type): texts are raw UTF-8 with spaces as U+2581, byte fallback
     * goes through "<0xXX>" tokens, and a BOS is added whatever the
     * metadata says. */
    int escape_ws, force_bos;

    int32_t *special;    /* control/user-defined/unknown ids, longest text first */
    size_t n_special;
    uint8_t *eog;        /* n_vocab flags */

    void *re[TOK_MAX_REGEX]; /* pcre2_code_8 * */
    int n_re;

    struct hf_tok *hf;   /* TOK_HF only */
};

static inline const char *tok_text(const struct wgpt_tokenizer *t, int32_t id) { return t->text + t->off[id]; }

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
size_t utf8_seq_len(const unsigned char *s, size_t n);

/* spm.c: one raw-text fragment, already space-escaped. */
int spm_tokenize(const struct wgpt_tokenizer *t, const char *text, size_t len, ivec *out,
                 char *err, size_t errlen);

/* bpe.c */
int bpe_setup(struct wgpt_tokenizer *t, const char *pre, const gguf_str *merges, size_t n_merges,
              char *err, size_t errlen);
int bpe_tokenize(const struct wgpt_tokenizer *t, const char *text, size_t len, ivec *out,
                 char *err, size_t errlen);
void bpe_free(struct wgpt_tokenizer *t);
/* GPT-2's bytes_to_unicode: the code point that stands for byte b. */
int bpe_byte_to_cp(unsigned b);
/* GPT-2 byte-level decoding of a token text into buf; returns the full length. */
size_t bpe_decode_text(const char *s, size_t n, char *buf, size_t buflen);

#endif
