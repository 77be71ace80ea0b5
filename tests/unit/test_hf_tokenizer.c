/* tokenizer.json tokenizers on tiny inline files, each expectation worked
 * out by hand: BPE merge order, every Split behaviour and invert, ByteLevel,
 * Digits, Metaspace, the normalizers, added tokens (longest first, special
 * only with parse_special, lstrip/rstrip), the post-processor, the decoders
 * piece by piece and at the start of a sequence, byte fallback and fuse_unk,
 * GPT-2's vocab.json + merges.txt, the GGUF-shaped folder description, and
 * one clear error line per kind of broken file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../fuzz/gguf_build.h"
#include "tokenizer/tok_internal.h"
#include "tokenizer/tokenizer.h"

#define SP "\xe2\x96\x81" /* U+2581 */

/* tokenizer.json with the vocabulary given as a JSON list of token texts
 * (ids 0, 1, ...) and the other parts as JSON text ("null" where absent). */
static char *doc(const char *tokens, const char *merges, const char *norm, const char *pre, const char *post,
                 const char *dec, const char *added, const char *model_extra) {
    /* vocab: turn ["a","b"] into {"a":0,"b":1} */
    static char vocab[8192];
    size_t o = 0;
    int id = 0;
    vocab[o++] = '{';
    for (const char *p = tokens; *p;) {
        const char *q = strchr(p, '"');
        if (!q) break;
        const char *e = q + 1;
        while (*e && *e != '"') e += (*e == '\\' && e[1]) ? 2 : 1;
        o += (size_t)snprintf(vocab + o, sizeof vocab - o, "%s%.*s:%d", id ? "," : "", (int)(e - q + 1), q, id);
        id++;
        p = e + 1;
    }
    vocab[o++] = '}';
    vocab[o] = 0;
    size_t cap = strlen(vocab) + strlen(merges) + strlen(norm) + strlen(pre) + strlen(post) + strlen(dec) +
                 strlen(added) + strlen(model_extra) + 512;
    char *s = malloc(cap);
    snprintf(s, cap,
             "{\"version\":\"1.0\",\"added_tokens\":%s,\"normalizer\":%s,\"pre_tokenizer\":%s,\"post_processor\":%s,"
             "\"decoder\":%s,\"model\":{\"type\":\"BPE\",\"vocab\":%s,\"merges\":%s%s}}",
             added, norm, pre, post, dec, vocab, merges, model_extra);
    return s;
}

static wgpt_tokenizer *load(const char *json, const char *cfg) {
    wgpt_tokenizer *t = NULL;
    char err[512] = "";
    if (tokenizer_from_hf(json, strlen(json), cfg, cfg ? strlen(cfg) : 0, &t, err, sizeof err) != 0)
        fail_msg("tokenizer_from_hf: %s\n%s", err, json);
    return t;
}

static wgpt_tokenizer *mk(const char *tokens, const char *merges, const char *norm, const char *pre, const char *post,
                          const char *dec, const char *added, const char *model_extra) {
    char *j = doc(tokens, merges, norm, pre, post, dec, added, model_extra);
    wgpt_tokenizer *t = load(j, NULL);
    free(j);
    return t;
}

/* the ids of text as "1 2 3" */
static const char *enc(const wgpt_tokenizer *t, const char *text, int add_special, int parse_special) {
    static char out[1024];
    int32_t *ids = NULL;
    size_t n = 0;
    char err[256] = "";
    if (tokenizer_encode(t, text, strlen(text), add_special, parse_special, &ids, &n, err, sizeof err) != 0)
        fail_msg("encode %s: %s", text, err);
    size_t o = 0;
    out[0] = 0;
    for (size_t i = 0; i < n; i++) o += (size_t)snprintf(out + o, sizeof out - o, i ? " %d" : "%d", ids[i]);
    free(ids);
    return out;
}

static const char *piece(const wgpt_tokenizer *t, int32_t id) {
    static char b[64];
    int n = tokenizer_token_to_piece(t, id, b, sizeof b - 1);
    assert_true(n >= 0 && n < (int)sizeof b);
    b[n] = 0;
    return b;
}

static const char *decode(const wgpt_tokenizer *t, const char *text) {
    static char b[256];
    int32_t *ids = NULL;
    size_t n = 0;
    char err[256];
    assert_int_equal(tokenizer_encode(t, text, strlen(text), 0, 1, &ids, &n, err, sizeof err), 0);
    size_t l = tokenizer_decode(t, ids, n, b, sizeof b - 1);
    free(ids);
    assert_true(l < sizeof b);
    b[l] = 0;
    return b;
}

#define NUL "null"

static void bpe_merge_order(void **state) {
    (void)state;
    /* b+c ranks before a+b, so "abc" is a|bc and never ab|c */
    wgpt_tokenizer *t = mk("[\"a\",\"b\",\"c\",\"ab\",\"bc\"]", "[\"b c\",\"a b\"]", NUL, NUL, NUL, NUL, "[]", "");
    assert_string_equal(enc(t, "abc", 1, 1), "0 4");
    assert_string_equal(enc(t, "ab", 1, 1), "3");
    /* equal ranks: the leftmost first ("bcbc"... here: "abab" -> ab ab) */
    assert_string_equal(enc(t, "abab", 1, 1), "3 3");
    tokenizer_free(t);
    /* merges as pairs (tokenizers >= 0.20) */
    t = mk("[\"a\",\"b\",\"ab\"]", "[[\"a\",\"b\"]]", NUL, NUL, NUL, NUL, "[]", "");
    assert_string_equal(enc(t, "aab", 1, 1), "0 2");
    tokenizer_free(t);
    /* ignore_merges: a word in the vocabulary is taken whole */
    t = mk("[\"a\",\"b\",\"c\",\"bc\",\"abc\"]", "[\"b c\"]", NUL, NUL, NUL, NUL, "[]", ",\"ignore_merges\":true");
    assert_string_equal(enc(t, "abc", 1, 1), "4");
    tokenizer_free(t);
    t = mk("[\"a\",\"b\",\"c\",\"bc\",\"abc\"]", "[\"b c\"]", NUL, NUL, NUL, NUL, "[]", "");
    assert_string_equal(enc(t, "abc", 1, 1), "0 3");
    tokenizer_free(t);
}

/* a- -b -- merge when they meet in one piece, so the pieces show */
#define SPLIT_VOCAB "[\"a\",\"b\",\"-\",\"a-\",\"-b\",\"--\"]"
#define SPLIT_MERGES "[\"a -\",\"- b\",\"- -\"]"

static const char *split_ids(const char *behavior, int invert, const char *text) {
    char pre[256];
    snprintf(pre, sizeof pre, "{\"type\":\"Split\",\"pattern\":{\"String\":\"-\"},\"behavior\":\"%s\",\"invert\":%s}",
             behavior, invert ? "true" : "false");
    wgpt_tokenizer *t = mk(SPLIT_VOCAB, SPLIT_MERGES, NUL, pre, NUL, NUL, "[]", "");
    const char *r = enc(t, text, 1, 1);
    tokenizer_free(t);
    return r;
}

static void split_behaviours(void **state) {
    (void)state;
    assert_string_equal(split_ids("Removed", 0, "a-b"), "0 1");
    assert_string_equal(split_ids("Isolated", 0, "a-b"), "0 2 1");
    assert_string_equal(split_ids("MergedWithPrevious", 0, "a-b"), "3 1");
    assert_string_equal(split_ids("MergedWithNext", 0, "a-b"), "0 4");
    assert_string_equal(split_ids("Contiguous", 0, "a--b"), "0 5 1");
    assert_string_equal(split_ids("Isolated", 0, "a--b"), "0 2 2 1");
    /* invert: the pattern's matches are the words, the rest the delimiters */
    assert_string_equal(split_ids("Removed", 1, "a-b"), "2");
    assert_string_equal(split_ids("Isolated", 1, "a-b"), "0 2 1");
    /* a regex, with JavaScript's ASCII \d */
    wgpt_tokenizer *t = mk("[\"1\",\"2\",\"12\",\"x\",\"\xd9\xa1\"]", "[\"1 2\"]", NUL,
                           "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\d\"},\"behavior\":\"Isolated\"}", NUL, NUL,
                           "[]", "");
    assert_string_equal(enc(t, "12x\xd9\xa1", 1, 1), "0 1 3 4");
    tokenizer_free(t);
    /* \s as the tokenizers library reads it (Unicode White_Space): U+0085
     * splits, U+FEFF does not (JavaScript's \s has it the other way round) */
    t = mk("[\"a\",\"b\",\"\xc2\x85\",\"\xc2\x85" "b\",\"\xef\xbb\xbf\",\"a\xef\xbb\xbf" "\"]",
           "[\"\xc2\x85" " b\",\"a \xef\xbb\xbf" "\"]", NUL,
           "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\s\"},\"behavior\":\"Isolated\"}", NUL, NUL, "[]", "");
    assert_string_equal(enc(t, "a\xc2\x85" "b", 1, 1), "0 2 1");
    assert_string_equal(enc(t, "a\xef\xbb\xbf", 1, 1), "5");
    tokenizer_free(t);
    /* JavaScript's \u escapes, both forms */
    t = mk("[\"a\",\"b\",\"ab\"]", "[\"a b\"]", NUL,
           "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\u0062|\\\\u{61}\"},\"behavior\":\"Isolated\"}", NUL,
           NUL, "[]", "");
    assert_string_equal(enc(t, "ab", 1, 1), "0 1");
    tokenizer_free(t);
    /* a regex that backtracks without end: an error, not a silently cut text */
    t = mk("[\"a\"]", "[]", NUL, "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(a+)+(?:b|c)\"},\"behavior\":\"Isolated\"}",
           NUL, NUL, "[]", "");
    char text[64];
    memset(text, 'a', 40);
    text[40] = 0;
    int32_t *ids = NULL;
    size_t n = 0;
    char err[256] = "";
    assert_int_not_equal(tokenizer_encode(t, text, 40, 1, 1, &ids, &n, err, sizeof err), 0);
    assert_non_null(strstr(err, "regex"));
    tokenizer_free(t);
}

static char *byte_vocab(const char *extra) {
    /* the 256 GPT-2 byte code points (ids 0..255), then extra tokens */
    static char v[8192];
    size_t o = 0;
    v[o++] = '[';
    for (unsigned b = 0; b < 256; b++) {
        int cp = bpe_byte_to_cp(b);
        char u[4];
        size_t l = cp < 0x80 ? (u[0] = (char)cp, 1) : (u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), 2);
        if (cp == '"' || cp == '\\') o += (size_t)snprintf(v + o, sizeof v - o, "%s\"\\%c\"", b ? "," : "", cp);
        else o += (size_t)snprintf(v + o, sizeof v - o, "%s\"%.*s\"", b ? "," : "", (int)l, u);
    }
    snprintf(v + o, sizeof v - o, "%s]", extra);
    return v;
}

static void byte_level(void **state) {
    (void)state;
    /* "\xc4\xa0" is U+0120, the byte-level space */
    const char *vocab = byte_vocab(",\"\xc4\xa0" "b\",\"a\xc4\xa0\"");
    const char *merges = "[\"a \xc4\xa0\",\"\xc4\xa0 b\"]";
    wgpt_tokenizer *t = mk(vocab, merges, NUL, "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true}",
                           NUL, "{\"type\":\"ByteLevel\"}", "[]", "");
    /* the regex splits "a b" into "a" and " b": a+space never meets */
    assert_string_equal(enc(t, "a b", 1, 1), "97 256");
    assert_string_equal(piece(t, 256), " b");
    assert_string_equal(piece(t, 10), "\n"); /* the byte 0x0A's code point is U+010A */
    assert_string_equal(decode(t, "\xc3\xa9 b\n"), "\xc3\xa9 b\n");
    tokenizer_free(t);
    t = mk(vocab, merges, NUL, "{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"use_regex\":false}", NUL,
           "{\"type\":\"ByteLevel\"}", "[]", "");
    /* no regex: one piece " a b", where a+space (rank 0) wins over space+b */
    assert_string_equal(enc(t, "a b", 1, 1), "32 257 98");
    assert_string_equal(enc(t, " b", 1, 1), "256"); /* no second space before a space */
    tokenizer_free(t);
}

static void digits(void **state) {
    (void)state;
    const char *v = "[\"1\",\"2\",\"12\",\"a\"]", *m = "[\"1 2\"]";
    wgpt_tokenizer *t = mk(v, m, NUL, "{\"type\":\"Digits\",\"individual_digits\":true}", NUL, NUL, "[]", "");
    assert_string_equal(enc(t, "a12", 1, 1), "3 0 1");
    tokenizer_free(t);
    t = mk(v, m, NUL, "{\"type\":\"Digits\",\"individual_digits\":false}", NUL, NUL, "[]", "");
    assert_string_equal(enc(t, "a12", 1, 1), "3 2");
    tokenizer_free(t);
}

static const char *meta(const char *scheme, int split, const char *text) {
    char pre[256];
    snprintf(pre, sizeof pre, "{\"type\":\"Metaspace\",\"replacement\":\"" SP "\",\"prepend_scheme\":\"%s\",\"split\":%s}",
             scheme, split ? "true" : "false");
    wgpt_tokenizer *t = mk("[\"" SP "\",\"a\",\"b\",\"" SP "a\",\"" SP "b\",\"a" SP "\"]", "[\"" SP " a\",\"" SP " b\",\"a " SP "\"]",
                           NUL, pre, NUL, NUL,
                           "[{\"id\":6,\"content\":\"<x>\",\"special\":true}]", "");
    const char *r = enc(t, text, 1, 1);
    tokenizer_free(t);
    return r;
}

static void metaspace(void **state) {
    (void)state;
    assert_string_equal(meta("always", 1, "a b"), "3 4");
    assert_string_equal(meta("never", 1, "a b"), "1 4");
    /* unsplit, "a_b" merges _a? no: "a" "_" merges first (rank 2 is after _b rank 1):
     * a _ b -> pairs (a,_)=2 (_,b)=1 -> _b first -> a _b */
    assert_string_equal(meta("never", 0, "a b"), "1 4");
    assert_string_equal(meta("always", 0, "a"), "3");
    /* first: only the first section gets the prefix */
    assert_string_equal(meta("first", 1, "a<x>a"), "3 6 1");
    assert_string_equal(meta("always", 1, "a<x>a"), "3 6 3");
    /* already starting with the replacement: no second one */
    assert_string_equal(meta("always", 1, " a"), "3");
}

static void normalizers(void **state) {
    (void)state;
    const char *v = "[\"\xc3\xa9\",\"e\",\"\xcc\x81\",\"f\",\"i\",\"a\",\"b\",\"#\",\"" SP "\",\"x\",\" \"]";
    struct { const char *norm, *text, *ids; } cases[] = {
        {"{\"type\":\"NFC\"}", "e\xcc\x81", "0"},
        {"{\"type\":\"NFD\"}", "\xc3\xa9", "1 2"},
        {"{\"type\":\"NFKC\"}", "\xef\xac\x81", "3 4"},   /* U+FB01 ligature fi */
        {"{\"type\":\"NFKD\"}", "\xc3\xa9", "1 2"},
        {"{\"type\":\"Lowercase\"}", "AB", "5 6"},
        {"{\"type\":\"StripAccents\"}", "e\xcc\x81", "1"},
        {"{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"" SP "\"}", "a b", "5 8 6"},
        {"{\"type\":\"Replace\",\"pattern\":{\"Regex\":\"[0-9]+\"},\"content\":\"#\"}", "a12b3", "5 7 6 7"},
        {"{\"type\":\"Prepend\",\"prepend\":\"" SP "\"}", "a", "8 5"},
        {"{\"type\":\"Strip\",\"strip_left\":true,\"strip_right\":false}", " \ta ", "5 10"},
        {"{\"type\":\"Strip\",\"strip_left\":true,\"strip_right\":true}", "\xe3\x80\x80 a\n", "5"},
        {"{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Lowercase\"},{\"type\":\"Prepend\",\"prepend\":\"x\"}]}",
         "A", "9 5"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wgpt_tokenizer *t = mk(v, "[]", cases[i].norm, NUL, NUL, NUL, "[]", "");
        const char *got = enc(t, cases[i].text, 1, 1);
        if (strcmp(got, cases[i].ids) != 0) fail_msg("%s on %s: %s, want %s", cases[i].norm, cases[i].text, got, cases[i].ids);
        tokenizer_free(t);
    }
    /* JavaScript's toLowerCase: I-dot becomes i + U+0307, a final sigma ς */
    {
        wgpt_tokenizer *lt = mk("[\"i\",\"\xcc\x87\",\"\xcf\x83\",\"\xcf\x82\",\"\xce\xb1\",\" \"]", "[]",
                                "{\"type\":\"Lowercase\"}", NUL, NUL, NUL, "[]", "");
        assert_string_equal(enc(lt, "\xc4\xb0", 1, 1), "0 1");
        /* ΣΑΣ ΑΣ: the first Σ starts a word, the others end one */
        assert_string_equal(enc(lt, "\xce\xa3\xce\x91\xce\xa3 \xce\x91\xce\xa3", 1, 1), "2 4 3 5 4 3");
        tokenizer_free(lt);
    }
    /* a section the normalizer empties has no tokens */
    wgpt_tokenizer *t = mk(v, "[]", "{\"type\":\"Strip\",\"strip_left\":true,\"strip_right\":true}", NUL, NUL, NUL, "[]", "");
    assert_string_equal(enc(t, "   ", 1, 1), "");
    tokenizer_free(t);
}

static void added_tokens(void **state) {
    (void)state;
    const char *added =
        "[{\"id\":3,\"content\":\"<a>\",\"special\":true},{\"id\":4,\"content\":\"<ab>\",\"special\":true},"
        "{\"id\":5,\"content\":\"[u]\",\"special\":false},"
        "{\"id\":6,\"content\":\"<l>\",\"special\":true,\"lstrip\":true},"
        "{\"id\":7,\"content\":\"<r>\",\"special\":true,\"rstrip\":true}]";
    wgpt_tokenizer *t = mk("[\"<\",\">\",\" \",\"a\",\"b\",\"[\",\"]\",\"u\",\"l\",\"r\"]", "[]", NUL, NUL, NUL, NUL, added, "");
    /* longest first: <ab> over <a> */
    assert_string_equal(enc(t, "<ab><a>", 1, 1), "4 3");
    /* special ones are text without parse_special; non-special ones never are */
    assert_string_equal(enc(t, "<a>[u]", 1, 0), "0 3 1 5");
    /* lstrip eats the spaces before, rstrip the spaces after */
    assert_string_equal(enc(t, "a  <l>  a", 1, 1), "3 6 2 2 3");
    assert_string_equal(enc(t, "a  <r>  a", 1, 1), "3 2 2 7 3");
    assert_string_equal(piece(t, 4), "<ab>");
    assert_int_equal(tokenizer_n_vocab(t), 10);
    tokenizer_free(t);
}

static void post_processor(void **state) {
    (void)state;
    const char *added = "[{\"id\":2,\"content\":\"<s>\",\"special\":true},{\"id\":3,\"content\":\"</s>\",\"special\":true}]";
    const char *post =
        "{\"type\":\"Sequence\",\"processors\":[{\"type\":\"ByteLevel\"},{\"type\":\"TemplateProcessing\",\"single\":["
        "{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},"
        "{\"SpecialToken\":{\"id\":\"</s>\",\"type_id\":0}}],\"pair\":[],\"special_tokens\":{}}]}";
    wgpt_tokenizer *t = mk("[\"a\",\"b\",\"<s>\",\"</s>\"]", "[]", NUL, NUL, post, NUL, added, "");
    assert_string_equal(enc(t, "ab", 1, 1), "2 0 1 3");
    assert_string_equal(enc(t, "ab", 0, 1), "0 1");
    assert_string_equal(enc(t, "", 1, 1), "2 3");
    assert_true(tokenizer_adds_bos(t));
    assert_true(tokenizer_adds_eos(t));
    assert_int_equal(tokenizer_bos(t), 2);
    assert_int_equal(tokenizer_eos(t), 3);
    assert_true(tokenizer_is_eog(t, 3));
    assert_false(tokenizer_is_eog(t, 2));
    tokenizer_free(t);
    /* no post-processor: nothing added; tokenizer_config.json names bos/eos */
    char *j = doc("[\"a\",\"<s>\",\"</s>\"]", "[]", NUL, NUL, NUL, NUL, "[]", "");
    t = load(j, "{\"bos_token\":{\"content\":\"<s>\",\"__type\":\"AddedToken\"},\"eos_token\":\"</s>\",\"add_bos_token\":true}");
    free(j);
    assert_string_equal(enc(t, "a", 1, 1), "0");
    assert_false(tokenizer_adds_bos(t));
    assert_int_equal(tokenizer_bos(t), 1);
    assert_int_equal(tokenizer_eos(t), 2);
    tokenizer_free(t);
}

static void decoders(void **state) {
    (void)state;
    /* Llama 2's: Replace, ByteFallback, Fuse, Strip (after Fuse: the start of the text only) */
    const char *dec =
        "{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Replace\",\"pattern\":{\"String\":\"" SP "\"},\"content\":\" \"},"
        "{\"type\":\"ByteFallback\"},{\"type\":\"Fuse\"},{\"type\":\"Strip\",\"content\":\" \",\"start\":1,\"stop\":0}]}";
    const char *norm =
        "{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Prepend\",\"prepend\":\"" SP "\"},"
        "{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"" SP "\"}]}";
    wgpt_tokenizer *t = mk("[\"<unk>\",\"<0x41>\",\"<0xC3>\",\"<0xA9>\",\"" SP "\",\"a\",\"" SP "a\"]", "[\"" SP " a\"]", norm,
                           NUL, NUL, dec, "[]", ",\"byte_fallback\":true,\"unk_token\":\"<unk>\"");
    assert_string_equal(enc(t, "a a", 1, 1), "6 6");
    assert_string_equal(piece(t, 6), " a");      /* the piece keeps its space ... */
    assert_string_equal(decode(t, "a a"), "a a"); /* ... the start of the text loses it */
    assert_string_equal(piece(t, 1), "A");
    /* byte fallback: bytes of a character the vocabulary lacks */
    assert_string_equal(enc(t, "\xc3\xa9", 1, 1), "4 2 3");
    assert_string_equal(decode(t, "\xc3\xa9"), "\xc3\xa9");
    /* no byte token for 'b': the unknown token */
    assert_string_equal(enc(t, "b", 1, 1), "4 0");
    assert_string_equal(tokenizer_kind(t), "Hugging Face BPE (SentencePiece-style, byte fallback)");
    tokenizer_free(t);

    /* Metaspace decoder: the prefix space goes at the start */
    t = mk("[\"" SP "a\",\"b\"]", "[]", NUL, NUL, NUL,
           "{\"type\":\"Metaspace\",\"replacement\":\"" SP "\",\"prepend_scheme\":\"always\",\"split\":true}", "[]", "");
    int32_t ids[] = {0, 0, 1};
    char b[32];
    size_t l = tokenizer_decode(t, ids, 3, b, sizeof b);
    assert_int_equal(l, 4);
    assert_memory_equal(b, "a ab", 4);
    assert_string_equal(piece(t, 0), " a");
    tokenizer_free(t);

    /* Strip before Fuse strips every piece */
    t = mk("[\"_a_\",\"b\"]", "[]", NUL, NUL, NUL,
           "{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Strip\",\"content\":\"_\",\"start\":1,\"stop\":1}]}", "[]", "");
    assert_string_equal(piece(t, 0), "a");
    tokenizer_free(t);
}

static void fuse_unk(void **state) {
    (void)state;
    const char *v = "[\"<unk>\",\"a\"]";
    wgpt_tokenizer *t = mk(v, "[]", NUL, NUL, NUL, NUL, "[]", ",\"unk_token\":\"<unk>\",\"fuse_unk\":true");
    assert_string_equal(enc(t, "xyaz", 1, 1), "0 1 0");
    tokenizer_free(t);
    t = mk(v, "[]", NUL, NUL, NUL, NUL, "[]", ",\"unk_token\":\"<unk>\",\"fuse_unk\":false");
    assert_string_equal(enc(t, "xyaz", 1, 1), "0 0 1 0");
    tokenizer_free(t);
    /* no unk_token and no token: an error, not a crash */
    t = mk(v, "[]", NUL, NUL, NUL, NUL, "[]", "");
    int32_t *ids = NULL;
    size_t n = 0;
    char err[256] = "";
    assert_int_not_equal(tokenizer_encode(t, "x", 1, 1, 1, &ids, &n, err, sizeof err), 0);
    assert_non_null(strstr(err, "unk_token"));
    tokenizer_free(t);
}

static void gpt2_files(void **state) {
    (void)state;
    const char *vocab = "{\"a\":0,\"b\":1,\"\xc4\xa0\":2,\"\xc4\xa0" "b\":3,\"ab\":4,\"<|endoftext|>\":5}";
    const char *merges = "#version: 0.2\n\xc4\xa0 b\na b\n";
    wgpt_tokenizer *t = NULL;
    char err[256] = "";
    if (tokenizer_from_gpt2_files(vocab, strlen(vocab), merges, strlen(merges), &t, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_string_equal(enc(t, "ab b", 1, 1), "4 3");
    assert_string_equal(enc(t, "a<|endoftext|>", 1, 1), "0 5");
    assert_int_equal(tokenizer_eos(t), 5);
    assert_true(tokenizer_is_eog(t, 5));
    assert_string_equal(piece(t, 3), " b");
    assert_string_equal(tokenizer_kind(t), "Hugging Face BPE (byte-level)");
    tokenizer_free(t);
    /* a merge naming a token the vocabulary lacks */
    const char *bad = "#version: 0.2\nz b\n";
    assert_int_not_equal(tokenizer_from_gpt2_files(vocab, strlen(vocab), bad, strlen(bad), &t, err, sizeof err), 0);
    assert_non_null(strstr(err, "merges[0]"));
}

static void from_gguf_description(void **state) {
    (void)state;
    char *j = doc("[\"a\",\"b\",\"ab\",\"<s>\",\"<eot>\"]", "[\"a b\"]", NUL, NUL, NUL, NUL,
                  "[{\"id\":3,\"content\":\"<s>\",\"special\":true},{\"id\":4,\"content\":\"<eot>\",\"special\":true}]", "");
    gb b = {0};
    gb_header(&b, 3, 0, 4);
    gb_kv_str(&b, "general.architecture", "llama");
    gb_kv_str(&b, "tokenizer.huggingface.json", j);
    gb_kv_str(&b, "tokenizer.huggingface.config_json", "{\"bos_token\":\"<s>\"}");
    gb_key(&b, "tokenizer.huggingface.eos_token_ids", GGUF_TYPE_ARRAY);
    gb_u32(&b, GGUF_TYPE_INT32);
    gb_u64(&b, 2);
    gb_u32(&b, 4);
    gb_u32(&b, 99); /* beyond the vocabulary: ignored */
    gb_pad(&b, 32);
    free(j);
    gguf_file g;
    char err[256] = "";
    if (gguf_parse(&g, b.p, b.len, err, sizeof err) != 0) fail_msg("gguf_parse: %s", err);
    wgpt_tokenizer *t = NULL;
    if (tokenizer_from_gguf(&g, &t, err, sizeof err) != 0) fail_msg("tokenizer_from_gguf: %s", err);
    gguf_close(&g);
    gb_free(&b);
    assert_string_equal(enc(t, "ab<eot>", 1, 1), "2 4");
    assert_int_equal(tokenizer_bos(t), 3);
    assert_true(tokenizer_is_eog(t, 4));
    assert_false(tokenizer_is_eog(t, 2));
    tokenizer_free(t);
}

static void bad_files(void **state) {
    (void)state;
    struct { const char *json, *want; } cases[] = {
        {"[]", "top"},
        {"{\"model\":{\"type\":\"Unigram\",\"vocab\":[]}}", "model.type"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":[],\"merges\":[]}}", "model.vocab"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":\"0\"},\"merges\":[]}}", "model.vocab['a']"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":-1},\"merges\":[]}}", "out of range"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":99999999999},\"merges\":[]}}", "out of range"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":0},\"merges\":[]}}", "id 0"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":9000000},\"merges\":[]}}", "out of range for 2 tokens"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"a\":1},\"merges\":[]}}", "twice"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"a z\"]}}", "merges[0]"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"a a\"]}}", "merged"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"aa\"]}}", "merges[0]"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[5]}}", "merges[0]"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[],\"byte_fallback\":1}}", "byte_fallback"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[],\"continuing_subword_prefix\":\"##\"}}",
         "continuing_subword_prefix"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"pre_tokenizer\":{\"type\":\"Nope\"}}",
         "pre_tokenizer.type"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"pre_tokenizer\":{\"type\":\"Split\","
         "\"pattern\":{\"Regex\":\"(\"},\"behavior\":\"Isolated\"}}", "pre_tokenizer.pattern.Regex"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"pre_tokenizer\":{\"type\":\"Sequence\","
         "\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"String\":\"x\"},\"behavior\":\"Sideways\"}]}}",
         "pre_tokenizer.pretokenizers[0].behavior"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"normalizer\":{\"type\":\"Precompiled\"}}",
         "normalizer.type"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"normalizer\":{\"type\":\"Replace\","
         "\"pattern\":{\"String\":\"a\"}}}", "normalizer.content"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"decoder\":{\"type\":\"CTC\"}}", "decoder.type"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"post_processor\":{\"type\":\"TemplateProcessing\","
         "\"single\":[{\"SpecialToken\":{\"id\":\"<s>\"}},{\"Sequence\":{\"id\":\"A\"}}]}}", "post_processor.single[0]"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"added_tokens\":[{\"id\":1}]}",
         "added_tokens[0].content"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"added_tokens\":[{\"id\":1e30,\"content\":\"x\"}]}",
         "added_tokens[0].id"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"added_tokens\":{}}", "added_tokens"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]", "tokenizer.json"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wgpt_tokenizer *t = NULL;
        char err[512] = "";
        int rc = tokenizer_from_hf(cases[i].json, strlen(cases[i].json), NULL, 0, &t, err, sizeof err);
        if (rc == 0 || t) fail_msg("case %zu loaded: %s", i, cases[i].json);
        if (!strstr(err, cases[i].want) || strchr(err, '\n') || strncmp(err, "tokenizer.json", 14) != 0)
            fail_msg("case %zu: '%s' does not name '%s'", i, err, cases[i].want);
    }
    /* a bad tokenizer_config.json */
    const char *ok = "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}";
    wgpt_tokenizer *t = NULL;
    char err[512] = "";
    assert_int_not_equal(tokenizer_from_hf(ok, strlen(ok), "{\"eos_token\":5}", 15, &t, err, sizeof err), 0);
    assert_non_null(strstr(err, "eos_token"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bpe_merge_order),
        cmocka_unit_test(split_behaviours),
        cmocka_unit_test(byte_level),
        cmocka_unit_test(digits),
        cmocka_unit_test(metaspace),
        cmocka_unit_test(normalizers),
        cmocka_unit_test(added_tokens),
        cmocka_unit_test(post_processor),
        cmocka_unit_test(decoders),
        cmocka_unit_test(fuse_unk),
        cmocka_unit_test(gpt2_files),
        cmocka_unit_test(from_gguf_description),
        cmocka_unit_test(bad_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
