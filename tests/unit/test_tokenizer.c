/* Tokenizer cases worked out by hand on tiny vocabularies: SPM merge order
 * by score, byte fallback, BPE merge order by rank, pre-tokenizer pieces,
 * special-token splitting, piece decoding, UTF-8 validation, and reading
 * the same from a GGUF in memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "formats/gguf.h"
#include "tokenizer/tokenizer.h"

#define SP "\xe2\x96\x81" /* U+2581, SentencePiece's space */

/* ---- building vocabularies ---- */

typedef struct {
    gguf_str tok[600];
    float score[600];
    int32_t type[600];
    char store[600][16];
    int n;
} vocab;

static int add(vocab *v, const char *text, float score, int32_t type) {
    v->tok[v->n] = (gguf_str){text, strlen(text)};
    v->score[v->n] = score;
    v->type[v->n] = type;
    return v->n++;
}

/* <unk> <s> </s>, then the 256 byte tokens <0x00>..<0xFF> at ids 3..258. */
static void spm_base(vocab *v, int with_bytes) {
    v->n = 0;
    add(v, "<unk>", 0, TOKEN_TYPE_UNKNOWN);
    add(v, "<s>", 0, TOKEN_TYPE_CONTROL);
    add(v, "</s>", 0, TOKEN_TYPE_CONTROL);
    if (!with_bytes) return;
    for (int b = 0; b < 256; b++) {
        snprintf(v->store[v->n], sizeof v->store[0], "<0x%02X>", b);
        add(v, v->store[v->n], 0, TOKEN_TYPE_BYTE);
    }
}

static wgpt_tokenizer *make(const vocab *v, const char *model, const char *pre, const char *const *merges,
                            size_t n_merges, wgpt_tokenizer_spec *extra) {
    wgpt_tokenizer_spec s;
    if (extra) s = *extra;
    else tokenizer_spec_init(&s);
    s.model = model;
    s.pre = pre;
    s.tokens = v->tok;
    s.n_tokens = (size_t)v->n;
    s.scores = v->score;
    s.types = v->type;
    gguf_str m[64];
    for (size_t i = 0; i < n_merges; i++) m[i] = (gguf_str){merges[i], strlen(merges[i])};
    s.merges = m;
    s.n_merges = n_merges;
    wgpt_tokenizer *t = NULL;
    char err[256] = "";
    int rc = tokenizer_from_spec(&s, &t, err, sizeof err);
    if (rc != 0) fail_msg("tokenizer_from_spec: %s", err);
    return t;
}

static size_t enc(const wgpt_tokenizer *t, const char *text, int add_special, int parse_special, int32_t *out) {
    int32_t *ids = NULL;
    size_t n = 0;
    char err[256] = "";
    if (tokenizer_encode(t, text, strlen(text), add_special, parse_special, &ids, &n, err, sizeof err) != 0)
        fail_msg("encode \"%s\": %s", text, err);
    assert_non_null(ids);
    memcpy(out, ids, n * sizeof *ids);
    free(ids);
    return n;
}

#define EXPECT(t, text, add, parse, ...)                                                 \
    do {                                                                                 \
        const int32_t want_[] = {__VA_ARGS__};                                           \
        int32_t got_[256];                                                               \
        size_t n_ = enc(t, text, add, parse, got_);                                      \
        assert_int_equal(n_, sizeof want_ / sizeof want_[0]);                            \
        for (size_t i_ = 0; i_ < n_; i_++) assert_int_equal(got_[i_], want_[i_]);        \
    } while (0)

static void expect_empty(const wgpt_tokenizer *t, const char *text, int add, int parse) {
    int32_t got[16];
    assert_int_equal(enc(t, text, add, parse, got), 0);
}

/* ---- SentencePiece ---- */

static void spm_merges_follow_scores(void **state) {
    (void)state;
    vocab v;
    spm_base(&v, 1);
    int sp = add(&v, SP, -10, TOKEN_TYPE_NORMAL);
    int a = add(&v, "a", -10, TOKEN_TYPE_NORMAL);
    int b = add(&v, "b", -10, TOKEN_TYPE_NORMAL);
    int c = add(&v, "c", -10, TOKEN_TYPE_NORMAL);
    int spa = add(&v, SP "a", -5, TOKEN_TYPE_NORMAL);
    int ab = add(&v, "ab", -1, TOKEN_TYPE_NORMAL);
    int bc = add(&v, "bc", -2, TOKEN_TYPE_NORMAL);
    int spab = add(&v, SP "ab", -3, TOKEN_TYPE_NORMAL);
    wgpt_tokenizer *t = make(&v, "llama", NULL, NULL, 0, NULL);
    /* "▁abc": "ab" (-1) beats "bc" (-2) and "▁a" (-5); then "▁ab" (-3) forms;
     * "abc" is no token, so c stays alone. */
    EXPECT(t, "abc", 0, 0, spab, c);
    EXPECT(t, "bc", 0, 0, sp, bc);
    /* BOS by default for SPM, no EOS */
    EXPECT(t, "abc", 1, 1, 1, spab, c);
    (void)a; (void)b; (void)ab; (void)spa;
    tokenizer_free(t);

    /* the same text with "bc" scored highest: "▁a" then stays a pair */
    v.score[bc] = -0.5f;
    t = make(&v, "llama", NULL, NULL, 0, NULL);
    EXPECT(t, "abc", 0, 0, spa, bc);
    tokenizer_free(t);
}

static void spm_ties_go_left(void **state) {
    (void)state;
    vocab v;
    spm_base(&v, 1);
    int a = add(&v, "a", -10, TOKEN_TYPE_NORMAL);
    int b = add(&v, "b", -10, TOKEN_TYPE_NORMAL);
    int ab = add(&v, "ab", -1, TOKEN_TYPE_NORMAL);
    int ba = add(&v, "ba", -1, TOKEN_TYPE_NORMAL);
    wgpt_tokenizer_spec s;
    tokenizer_spec_init(&s);
    s.add_space_prefix = 0;
    wgpt_tokenizer *t = make(&v, "llama", NULL, NULL, 0, &s);
    /* "aba": "ab" and "ba" score alike; the leftmost pair merges first */
    EXPECT(t, "aba", 0, 0, ab, a);
    EXPECT(t, "bab", 0, 0, ba, b);
    tokenizer_free(t);
}

static void spm_byte_fallback_and_unknown(void **state) {
    (void)state;
    vocab v;
    spm_base(&v, 1);
    int sp = add(&v, SP, -1, TOKEN_TYPE_NORMAL);
    int a = add(&v, "a", -1, TOKEN_TYPE_NORMAL);
    wgpt_tokenizer *t = make(&v, "llama", NULL, NULL, 0, NULL);
    /* "é" is C3 A9; "€" is E2 82 AC: no such pieces, so byte tokens */
    EXPECT(t, "a\xc3\xa9", 0, 0, sp, a, 3 + 0xC3, 3 + 0xA9);
    EXPECT(t, "\xe2\x82\xac", 0, 0, sp, 3 + 0xE2, 3 + 0x82, 3 + 0xAC);
    /* a newline is a byte too */
    EXPECT(t, "a\n", 0, 0, sp, a, 3 + 0x0A);
    tokenizer_free(t);

    /* without byte tokens the unknown token stands in, byte by byte */
    spm_base(&v, 0);
    sp = add(&v, SP, -1, TOKEN_TYPE_NORMAL);
    a = add(&v, "a", -1, TOKEN_TYPE_NORMAL);
    t = make(&v, "llama", NULL, NULL, 0, NULL);
    EXPECT(t, "a\xc3\xa9", 0, 0, sp, a, 0, 0);
    tokenizer_free(t);
}

static void spm_specials_and_prefix_space(void **state) {
    (void)state;
    vocab v;
    spm_base(&v, 1);
    int sp = add(&v, SP, -1, TOKEN_TYPE_NORMAL);
    int a = add(&v, "a", -2, TOKEN_TYPE_NORMAL);
    int spa = add(&v, SP "a", -1, TOKEN_TYPE_NORMAL);
    int user = add(&v, "<hr>", 0, TOKEN_TYPE_USER_DEFINED);
    wgpt_tokenizer *t = make(&v, "llama", NULL, NULL, 0, NULL);
    /* parse_special: "</s>" is a token, and the text after it gets the prefix space */
    EXPECT(t, "a</s>a", 0, 1, spa, 2, spa);
    /* without it, "</s>" is plain text: '<' '/' 's' '>' as bytes */
    EXPECT(t, "a</s>", 0, 0, spa, 3 + '<', 3 + '/', 3 + 's', 3 + '>');
    /* user-defined tokens are split out in both modes */
    EXPECT(t, "a<hr>a", 0, 0, spa, user, spa);
    /* the text after a user-defined token gets the prefix space too: "▁▁a" */
    EXPECT(t, "<hr> a", 0, 0, user, sp, spa);
    expect_empty(t, "", 0, 0);
    EXPECT(t, "", 1, 1, 1);
    (void)a;
    tokenizer_free(t);

    /* add_space_prefix false, add_eos true, BOS given by metadata */
    wgpt_tokenizer_spec s;
    tokenizer_spec_init(&s);
    s.add_space_prefix = 0;
    s.add_eos = 1;
    s.ids[TOK_ID_BOS] = 2;
    s.ids[TOK_ID_EOS] = 1;
    t = make(&v, "llama", NULL, NULL, 0, &s);
    EXPECT(t, "a a", 1, 0, 2, a, spa, 1);
    assert_int_equal(tokenizer_bos(t), 2);
    assert_int_equal(tokenizer_eos(t), 1);
    tokenizer_free(t);
}

/* ---- byte-level BPE ---- */

/* GPT-2's printable stand-in for a byte, as UTF-8. */
static void byte_char(unsigned b, char *out) {
    unsigned cp;
    if (b <= 0x20) cp = 256 + b;
    else if (b >= 0x7F && b <= 0xA0) cp = 256 + 33 + (b - 0x7F);
    else if (b == 0xAD) cp = 256 + 33 + 34;
    else cp = b;
    if (cp < 0x80) { out[0] = (char)cp; out[1] = 0; }
    else { out[0] = (char)(0xC0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 0x3F)); out[2] = 0; }
}

/* The 256 byte tokens at ids 0..255 (id = byte value). */
static void bpe_base(vocab *v) {
    v->n = 0;
    for (int b = 0; b < 256; b++) {
        byte_char((unsigned)b, v->store[v->n]);
        add(v, v->store[v->n], 0, TOKEN_TYPE_NORMAL);
    }
}

static void bpe_merges_follow_rank(void **state) {
    (void)state;
    vocab v;
    bpe_base(&v);
    int ab = add(&v, "ab", 0, TOKEN_TYPE_NORMAL);
    int bc = add(&v, "bc", 0, TOKEN_TYPE_NORMAL);
    int abc = add(&v, "abc", 0, TOKEN_TYPE_NORMAL);
    const char *m1[] = {"b c", "a b", "a bc"};
    wgpt_tokenizer *t = make(&v, "gpt2", "gpt-2", m1, 3, NULL);
    /* "b c" has rank 0: bc first, then "a bc" */
    EXPECT(t, "abc", 0, 0, abc);
    EXPECT(t, "abcc", 0, 0, abc, 'c');
    tokenizer_free(t);
    const char *m2[] = {"a b", "b c", "a bc"};
    t = make(&v, "gpt2", "gpt-2", m2, 3, NULL);
    /* "a b" first: "ab c" has no merge, so the pair stays apart */
    EXPECT(t, "abc", 0, 0, ab, 'c');
    /* "ba" has no merge; "ab" goes first, and "ab c" has none either */
    EXPECT(t, "babc", 0, 0, 'b', ab, 'c');
    (void)bc;
    tokenizer_free(t);
}

static void bpe_pretokenizer_pieces(void **state) {
    (void)state;
    vocab v;
    bpe_base(&v);
    int ab = add(&v, "ab", 0, TOKEN_TYPE_NORMAL);
    int gab = add(&v, "\xc4\xa0" "ab", 0, TOKEN_TYPE_NORMAL); /* "Ġab" = " ab" */
    int gg = add(&v, "\xc4\xa0\xc4\xa0", 0, TOKEN_TYPE_NORMAL);
    int q = add(&v, "'s", 0, TOKEN_TYPE_NORMAL);
    int d123 = add(&v, "123", 0, TOKEN_TYPE_NORMAL);
    int d34 = add(&v, "34", 0, TOKEN_TYPE_NORMAL);
    const char *m[] = {"3 4", "a b", "\xc4\xa0 ab", "\xc4\xa0 \xc4\xa0", "' s", "1 2", "12 3"};
    wgpt_tokenizer *t = make(&v, "gpt2", "llama-bpe", m, 7, NULL);
    /* pieces: "ab" " ab" — merges never cross a piece boundary */
    EXPECT(t, "ab ab", 0, 0, ab, gab);
    /* "   ab": the run of spaces leaves its last one to the word */
    EXPECT(t, "   ab", 0, 0, gg, gab);
    /* contractions are pieces of their own; digits go in threes */
    EXPECT(t, "ab's", 0, 0, ab, q);
    EXPECT(t, "1234", 0, 0, d123, '4');
    /* llama-bpe: BOS 11 by default since add_bos is on for it (id < vocab) */
    EXPECT(t, "ab", 1, 1, 11, ab);
    tokenizer_free(t);

    /* gpt-2 keeps "1234" whole: "3 4" (rank 0) merges first, then "1 2";
     * "12" is no token, so it falls back to its bytes; no BOS by default */
    t = make(&v, "gpt2", "gpt-2", m, 7, NULL);
    EXPECT(t, "1234", 0, 0, '1', '2', d34);
    EXPECT(t, "ab", 1, 1, ab);
    tokenizer_free(t);
}

static void bpe_ignore_merges_for_llama3(void **state) {
    (void)state;
    vocab v;
    bpe_base(&v);
    int xyz = add(&v, "xyz", 0, TOKEN_TYPE_NORMAL);
    wgpt_tokenizer *t = make(&v, "gpt2", "llama-bpe", NULL, 0, NULL);
    /* no merge builds "xyz", but llama3 takes a whole piece that is a token */
    EXPECT(t, "xyz", 0, 0, xyz);
    tokenizer_free(t);
    t = make(&v, "gpt2", "qwen2", NULL, 0, NULL);
    EXPECT(t, "xyz", 0, 0, 'x', 'y', 'z');
    tokenizer_free(t);
}

static void bpe_special_tokens(void **state) {
    (void)state;
    vocab v;
    bpe_base(&v);
    int bos = add(&v, "<|begin_of_text|>", 0, TOKEN_TYPE_CONTROL);
    int eot = add(&v, "<|eot_id|>", 0, TOKEN_TYPE_CONTROL);
    int think = add(&v, "<think>", 0, TOKEN_TYPE_USER_DEFINED);
    int plain = add(&v, "hi", 0, TOKEN_TYPE_NORMAL);
    const char *m[] = {"h i"};
    wgpt_tokenizer_spec s;
    tokenizer_spec_init(&s);
    s.ids[TOK_ID_BOS] = bos;
    s.ids[TOK_ID_EOS] = eot;
    s.add_eos = 1;
    wgpt_tokenizer *t = make(&v, "gpt2", "llama-bpe", m, 1, &s);
    EXPECT(t, "hi<|eot_id|>hi", 1, 1, bos, plain, eot, plain, eot);
    /* parse_special off: control text is text, user-defined still a token */
    EXPECT(t, "<think>hi", 0, 0, think, plain);
    int32_t got[64];
    size_t n = enc(t, "<|eot_id|>", 0, 0, got);
    assert_true(n > 1);
    for (size_t i = 0; i < n; i++) assert_int_not_equal(got[i], eot);
    /* end of generation: eos, and <|eot_id|> by its text */
    assert_true(tokenizer_is_eog(t, eot));
    assert_false(tokenizer_is_eog(t, bos));
    assert_false(tokenizer_is_eog(t, plain));
    assert_false(tokenizer_is_eog(t, -1));
    assert_false(tokenizer_is_eog(t, v.n));
    assert_true(tokenizer_adds_bos(t));
    assert_true(tokenizer_adds_eos(t));
    assert_string_equal(tokenizer_kind(t), "gpt2 (byte-level BPE)");
    tokenizer_free(t);
}

/* llama.cpp's GEMMA4 pre-type: gpt2 merges over raw UTF-8 with spaces as
 * U+2581, lines and newline runs apart, "<0xXX>" byte fallback, BOS always. */
static void bpe_gemma4(void **state) {
    (void)state;
    vocab v;
    v.n = 0;
    int bos = add(&v, "<bos>", 0, TOKEN_TYPE_CONTROL);
    int a = add(&v, "a", 0, TOKEN_TYPE_NORMAL);
    int b = add(&v, "b", 0, TOKEN_TYPE_NORMAL);
    add(&v, SP, 0, TOKEN_TYPE_NORMAL);
    int spa = add(&v, SP "a", 0, TOKEN_TYPE_NORMAL);
    int ab = add(&v, "ab", 0, TOKEN_TYPE_NORMAL);
    int nl = add(&v, "\n", 0, TOKEN_TYPE_NORMAL);
    int nl3 = add(&v, "\n\n\n", 0, TOKEN_TYPE_NORMAL);
    int e2 = add(&v, "<0xE2>", 0, TOKEN_TYPE_NORMAL); /* NORMAL, as the converter types them */
    int x82 = add(&v, "<0x82>", 0, TOKEN_TYPE_NORMAL);
    add(&v, "b\n", 0, TOKEN_TYPE_NORMAL);
    const char *m[] = {"a b", SP " a", "b \n"};
    wgpt_tokenizer_spec s;
    tokenizer_spec_init(&s);
    s.ids[TOK_ID_BOS] = bos;
    s.add_bos = 0; /* llama.cpp overrides it */
    const char *names[] = {"granite-embed-multi-311m", "gemma4"};
    for (int k = 0; k < 2; k++) {
        wgpt_tokenizer *t = make(&v, "gpt2", names[k], m, 3, &s);
        EXPECT(t, "ab a", 0, 0, ab, spa);
        /* the merges cannot build "\n\n\n", the run is taken whole; "\n\n" is no token */
        EXPECT(t, "a\n\n\nb\n\n", 0, 0, a, nl3, b, nl, nl);
        /* no merge crosses the end of a line: "b\n" is never built */
        EXPECT(t, "b\n a", 1, 1, bos, b, nl, spa);
        /* U+20AC E2 82 AC: "<0xAC>" is missing and dropped */
        EXPECT(t, "\xe2\x82\xac", 0, 0, e2, x82);
        assert_true(tokenizer_adds_bos(t));
        char buf[16];
        int l = tokenizer_token_to_piece(t, spa, buf, sizeof buf);
        assert_int_equal(l, 2);
        assert_memory_equal(buf, " a", 2);
        l = tokenizer_token_to_piece(t, e2, buf, sizeof buf);
        assert_int_equal(l, 6);
        assert_memory_equal(buf, "<0xE2>", 6);
        assert_string_equal(tokenizer_kind(t), "gpt2 (BPE over UTF-8, SentencePiece-style spaces)");
        tokenizer_free(t);
    }
}

/* ---- decoding ---- */

static void decode_all(const wgpt_tokenizer *t, const int32_t *ids, size_t n, char *out, size_t cap) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int l = tokenizer_token_to_piece(t, ids[i], out + o, cap - o);
        assert_true(l >= 0 && (size_t)l <= cap - o);
        o += (size_t)l;
    }
    out[o] = 0;
}

static void pieces_round_trip(void **state) {
    (void)state;
    static const char *const texts[] = {"hello world", "  two  spaces\n\ttab", "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac",
                                        "\xf0\x9f\x98\x80!", "x\x7f\x01y", ""};
    vocab v;
    bpe_base(&v);
    add(&v, "\xc4\xa0w", 0, TOKEN_TYPE_NORMAL);
    add(&v, "<|eot_id|>", 0, TOKEN_TYPE_CONTROL);
    const char *m[] = {"\xc4\xa0 w"};
    wgpt_tokenizer *t = make(&v, "gpt2", "llama-bpe", m, 1, NULL);
    char out[512];
    int32_t ids[256];
    for (size_t k = 0; k < sizeof texts / sizeof *texts; k++) {
        size_t n = enc(t, texts[k], 0, 0, ids);
        decode_all(t, ids, n, out, sizeof out);
        assert_string_equal(out, texts[k]);
    }
    char buf[32];
    assert_int_equal(tokenizer_token_to_piece(t, 256, buf, sizeof buf), 2);
    assert_memory_equal(buf, " w", 2);
    assert_int_equal(tokenizer_token_to_piece(t, 257, buf, sizeof buf), 10);
    assert_memory_equal(buf, "<|eot_id|>", 10);
    /* short buffer: full length returned, nothing written past the end */
    memset(buf, '#', sizeof buf);
    assert_int_equal(tokenizer_token_to_piece(t, 257, buf, 3), 10);
    assert_memory_equal(buf, "<|e###", 6);
    assert_int_equal(tokenizer_token_to_piece(t, 257, NULL, 0), 10);
    assert_int_equal(tokenizer_token_to_piece(t, -1, buf, sizeof buf), -1);
    assert_int_equal(tokenizer_token_to_piece(t, v.n, buf, sizeof buf), -1);
    tokenizer_free(t);

    /* SPM: the prefix space comes back as a leading space */
    spm_base(&v, 1);
    add(&v, SP, -1, TOKEN_TYPE_NORMAL);
    add(&v, SP "he", -1, TOKEN_TYPE_NORMAL);
    add(&v, "l", -1, TOKEN_TYPE_NORMAL);
    add(&v, "o", -1, TOKEN_TYPE_NORMAL);
    t = make(&v, "llama", NULL, NULL, 0, NULL);
    for (size_t k = 0; k + 1 < sizeof texts / sizeof *texts; k++) {
        size_t n = enc(t, texts[k], 0, 0, ids);
        decode_all(t, ids, n, out, sizeof out);
        assert_int_equal(out[0], ' ');
        assert_string_equal(out + 1, texts[k]);
    }
    assert_int_equal(tokenizer_token_to_piece(t, 3 + 0xAB, buf, sizeof buf), 1);
    assert_int_equal((unsigned char)buf[0], 0xAB);
    assert_string_equal(tokenizer_kind(t), "llama (SentencePiece)");
    tokenizer_free(t);
}

static void invalid_utf8_rejected(void **state) {
    (void)state;
    static const char *const bad[] = {"\xff", "ok\x80", "\xc0\xaf", "\xc3", "\xe2\x82", "\xed\xa0\x80",
                                      "\xf4\x90\x80\x80", "\xf0\x8f\xbf\xbf", "a\xc3(b"};
    vocab v;
    bpe_base(&v);
    wgpt_tokenizer *t = make(&v, "gpt2", "llama-bpe", NULL, 0, NULL);
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        int32_t *ids = (int32_t *)1;
        size_t n = 99;
        char err[256] = "";
        assert_int_equal(tokenizer_encode(t, bad[k], strlen(bad[k]), 0, 0, &ids, &n, err, sizeof err), -1);
        assert_null(ids);
        assert_int_equal(n, 0);
        assert_non_null(strstr(err, "UTF-8"));
        assert_null(strchr(err, '\n'));
    }
    /* U+10FFFF and a NUL byte are valid */
    int32_t got[8];
    assert_int_equal(enc(t, "\xf4\x8f\xbf\xbf", 0, 0, got), 4);
    int32_t *ids;
    size_t n;
    char err[64];
    assert_int_equal(tokenizer_encode(t, "a\0b", 3, 0, 0, &ids, &n, err, sizeof err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(ids[1], 0);
    free(ids);
    tokenizer_free(t);
}

static void bad_specs_refused(void **state) {
    (void)state;
    vocab v;
    bpe_base(&v);
    wgpt_tokenizer_spec s;
    tokenizer_spec_init(&s);
    s.tokens = v.tok;
    s.n_tokens = (size_t)v.n;
    wgpt_tokenizer *t = (wgpt_tokenizer *)1;
    char err[256];
    s.model = "bert";
    assert_int_equal(tokenizer_from_spec(&s, &t, err, sizeof err), -1);
    assert_null(t);
    assert_non_null(strstr(err, "bert"));
    s.model = "gpt2";
    s.pre = "no-such-pre";
    assert_int_equal(tokenizer_from_spec(&s, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, "no-such-pre"));
    s.pre = "gpt-2";
    s.n_tokens = 0;
    assert_int_equal(tokenizer_from_spec(&s, &t, err, sizeof err), -1);
}

/* ---- from a GGUF in memory ---- */

typedef struct {
    uint8_t *p;
    size_t n, cap;
} buf_t;

static void put(buf_t *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void put_u32(buf_t *b, uint32_t x) { put(b, &x, 4); }
static void put_u64(buf_t *b, uint64_t x) { put(b, &x, 8); }
static void put_s(buf_t *b, const char *s) { put_u64(b, strlen(s)); put(b, s, strlen(s)); }
static void kv_str(buf_t *b, const char *k, const char *v) { put_s(b, k); put_u32(b, GGUF_TYPE_STRING); put_s(b, v); }
static void kv_u32(buf_t *b, const char *k, uint32_t v) { put_s(b, k); put_u32(b, GGUF_TYPE_UINT32); put_u32(b, v); }
static void kv_bool(buf_t *b, const char *k, int v) {
    uint8_t x = (uint8_t)v;
    put_s(b, k);
    put_u32(b, GGUF_TYPE_BOOL);
    put(b, &x, 1);
}

static void from_gguf_reads_metadata(void **state) {
    (void)state;
    static const char *const toks[] = {"<unk>", "<s>", "</s>", SP, "a", SP "a", "<0x0A>"};
    static const float scores[] = {0, 0, 0, -3, -2, -1, 0};
    static const int32_t types[] = {2, 3, 3, 1, 1, 1, 6};
    const int nt = 7;
    buf_t b = {0};
    put(&b, "GGUF", 4);
    put_u32(&b, 3);
    put_u64(&b, 0); /* tensors */
    put_u64(&b, 8); /* kvs */
    kv_str(&b, "general.architecture", "llama");
    kv_str(&b, "tokenizer.ggml.model", "llama");
    put_s(&b, "tokenizer.ggml.tokens");
    put_u32(&b, GGUF_TYPE_ARRAY);
    put_u32(&b, GGUF_TYPE_STRING);
    put_u64(&b, (uint64_t)nt);
    for (int i = 0; i < nt; i++) put_s(&b, toks[i]);
    put_s(&b, "tokenizer.ggml.scores");
    put_u32(&b, GGUF_TYPE_ARRAY);
    put_u32(&b, GGUF_TYPE_FLOAT32);
    put_u64(&b, (uint64_t)nt);
    put(&b, scores, sizeof scores);
    put_s(&b, "tokenizer.ggml.token_type");
    put_u32(&b, GGUF_TYPE_ARRAY);
    put_u32(&b, GGUF_TYPE_INT32);
    put_u64(&b, (uint64_t)nt);
    put(&b, types, sizeof types);
    kv_u32(&b, "tokenizer.ggml.bos_token_id", 2);
    kv_u32(&b, "tokenizer.ggml.eos_token_id", 1);
    kv_bool(&b, "tokenizer.ggml.add_eos_token", 1);
    while (b.n % 32) put(&b, "", 1);

    gguf_file g;
    char err[256] = "";
    if (gguf_parse(&g, b.p, b.n, err, sizeof err) != 0) fail_msg("gguf_parse: %s", err);
    wgpt_tokenizer *t = NULL;
    if (tokenizer_from_gguf(&g, &t, err, sizeof err) != 0) fail_msg("tokenizer_from_gguf: %s", err);
    gguf_close(&g);
    free(b.p); /* the tokenizer keeps copies */
    assert_int_equal(tokenizer_n_vocab(t), nt);
    assert_int_equal(tokenizer_bos(t), 2);
    assert_int_equal(tokenizer_eos(t), 1);
    /* "▁a" (-1) beats "▁" + "a"; the newline is the byte token; BOS then EOS */
    EXPECT(t, "a\na", 1, 0, 2, 5, 6, 4, 1);
    assert_true(tokenizer_is_eog(t, 1)); /* eos */
    assert_true(tokenizer_is_eog(t, 2)); /* "</s>": llama.cpp ends generation on it by its text */
    assert_false(tokenizer_is_eog(t, 4));
    tokenizer_free(t);

    /* no tokenizer at all */
    buf_t e = {0};
    put(&e, "GGUF", 4);
    put_u32(&e, 3);
    put_u64(&e, 0);
    put_u64(&e, 1);
    kv_str(&e, "general.architecture", "llama");
    while (e.n % 32) put(&e, "", 1);
    assert_int_equal(gguf_parse(&g, e.p, e.n, err, sizeof err), 0);
    t = (wgpt_tokenizer *)1;
    assert_int_equal(tokenizer_from_gguf(&g, &t, err, sizeof err), -1);
    assert_null(t);
    assert_non_null(strstr(err, "tokenizer.ggml.model"));
    gguf_close(&g);
    free(e.p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spm_merges_follow_scores),
        cmocka_unit_test(spm_ties_go_left),
        cmocka_unit_test(spm_byte_fallback_and_unknown),
        cmocka_unit_test(spm_specials_and_prefix_space),
        cmocka_unit_test(bpe_merges_follow_rank),
        cmocka_unit_test(bpe_pretokenizer_pieces),
        cmocka_unit_test(bpe_ignore_merges_for_llama3),
        cmocka_unit_test(bpe_special_tokens),
        cmocka_unit_test(bpe_gemma4),
        cmocka_unit_test(pieces_round_trip),
        cmocka_unit_test(invalid_utf8_rejected),
        cmocka_unit_test(bad_specs_refused),
        cmocka_unit_test(from_gguf_reads_metadata),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
