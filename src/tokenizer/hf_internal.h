/* Hugging Face tokenizer.json tokenizers, shared between hf_load.c (the
 * file, checked field by field) and hf_encode.c (the pipeline). The
 * behaviour follows transformers.js (@lenml/tokenizers), the oracle the
 * tests compare with; where it departs from the Rust `tokenizers` library
 * the comment at the step says which one we follow. */
#ifndef WGPT_HF_INTERNAL_H
#define WGPT_HF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "tokenizer/tok_internal.h"

enum {
    /* normalizers */
    HN_NFC = 1, HN_NFD, HN_NFKC, HN_NFKD, HN_REPLACE, HN_PREPEND, HN_LOWERCASE, HN_STRIP, HN_STRIP_ACCENTS,
    /* pre-tokenizers */
    HP_SPLIT, HP_BYTELEVEL, HP_METASPACE, HP_MATCH, /* HP_MATCH: keep only the regex's matches */
    /* decoders */
    HD_BYTELEVEL, HD_REPLACE, HD_BYTEFALLBACK, HD_STRIP, HD_METASPACE,
};

/* Split behaviours (the Rust names). */
enum { HB_REMOVED, HB_ISOLATED, HB_MERGED_PREV, HB_MERGED_NEXT, HB_CONTIGUOUS };
/* Metaspace prepend schemes. */
enum { HS_ALWAYS, HS_FIRST, HS_NEVER };

typedef struct {
    int kind;
    char *a;       /* pattern text, prepend text, replacement, strip content */
    size_t alen;
    char *b;       /* replacement content */
    size_t blen;
    void *re;      /* pcre2_code *, for regex patterns */
    int behavior, invert;
    int flag;      /* add_prefix_space / strip_left / split */
    int flag2;     /* use_regex / strip_right */
    int scheme;    /* Metaspace prepend scheme */
    int start, stop;
} hf_step;

typedef struct {
    hf_step *v;
    size_t n, cap;
} hf_steps;

typedef struct hf_tok {
    hf_steps norm, pre, dec;
    /* decoders after a Fuse that strip at the start of a whole sequence */
    char lstrip_char[8];
    size_t lstrip_len;
    int lstrip_n;

    /* model BPE */
    char *merge_keys;          /* u32 length of left || left || right, back to back */
    strmap ranks;
    int byte_fallback, ignore_merges, fuse_unk;
    int32_t unk;               /* -1: none */
    int32_t byte_ids[256];     /* "<0xAB>" tokens, -1 where absent */
    int has_byte_ids;

    /* added tokens, matched longest first at each position */
    int32_t *added;            /* ids */
    uint8_t *added_flags;      /* per added token: AF_* */
    size_t n_added;
    strmap trie;               /* (node u32, byte) -> child node */
    char *trie_keys;           /* the trie's keys, 5 bytes each */
    int32_t *node_tok;         /* per trie node: index into added, -1 */
    size_t n_nodes, nodes_cap;

    /* post-processor (TemplateProcessing "single") */
    int32_t *prefix, *suffix;
    size_t n_prefix, n_suffix;

    uint8_t *is_added;         /* n_vocab: 1 for added tokens (ByteLevel decoding leaves them) */
    uint8_t *is_special;       /* n_vocab: special added tokens and tokenizer_config.json's additional_special_tokens */
    int llama_nonlegacy;       /* LlamaTokenizer with legacy: false (transformers.js's own encoding) */
    int32_t spm_space;         /* the id of U+2581 alone, -1 if none */
    uint8_t *present;          /* n_vocab: 0 for ids no token has */
    int byte_level;            /* for tokenizer_kind */
} hf_tok;

enum { AF_SPECIAL = 1, AF_LSTRIP = 2, AF_RSTRIP = 4 };

void hf_free(hf_tok *h);
int hf_trie_child(const hf_tok *h, uint32_t node, unsigned char c); /* -1: none */
/* Compiles a tokenizer.json regex as transformers.js would run it (JS
 * semantics for \s, \d, \w; its textual fix-ups). NULL with err on failure. */
void *hf_regex_compile(const char *pat, size_t len, char *err, size_t errlen);

int hf_encode(const struct wgpt_tokenizer *t, const char *text, size_t len, int add_special, int parse_special,
              ivec *out, char *err, size_t errlen);
int hf_token_to_piece(const struct wgpt_tokenizer *t, int32_t id, char *buf, size_t buflen);

/* Unicode's White_Space, as the tokenizers library (Rust, Oniguruma) reads \s, strips and trims. */
int hf_space(uint32_t cp);

#endif
