/* Byte-level BPE as llama.cpp's llm_tokenizer_bpe_session does it: split the
 * text with the pre-tokenizer regexes of tokenizer.ggml.pre, map each piece's
 * bytes to GPT-2's printable code points, then merge adjacent symbols by
 * merge rank (ties: leftmost) within each piece. The GEMMA4 pre-type keeps
 * the bytes as they are and merges UTF-8 characters instead. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok_internal.h"
#include "tokenizer/unicode_sets.h"
#include "util/util.h"

/* ---- pre-tokenizer regexes ----
 * The expressions are llama.cpp's (llm_tokenizer_bpe, in its "adapted" forms)
 * and are translated for PCRE2 so that the character classes are llama.cpp's
 * own: its \s is Unicode White_Space exactly (PCRE2's also has U+180E), and its
 * category tables come from a newer Unicode than PCRE2 10.42's, so the code
 * points that gained a category since then are listed explicitly. Every list
 * below only adds: PCRE2 agrees with llama.cpp on all other code points. */
#define WS_SET "\\t-\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"
#define CONTRACTIONS "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
static const char RE_LLAMA3[] = CONTRACTIONS
    "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char RE_QWEN2[] = CONTRACTIONS
    "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char RE_QWEN35[] = CONTRACTIONS
    "|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char RE_GPT2[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
static const char RE_GPT4O[] =
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+" CONTRACTIONS
    "?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*" CONTRACTIONS
    "?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char RE_TEKKEN[] =
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])"
    "([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

typedef struct {
    const char *names; /* NUL-separated, double-NUL-terminated */
    const char *re[TOK_MAX_REGEX];
    int ignore_merges;
    int add_bos;       /* 1: llama.cpp sets add_bos for this pre-tokenizer */
    int no_bos;        /* 1: llama.cpp clears the default BOS id */
    int spm_style;     /* 1: llama.cpp's GEMMA4 (see tok_internal.h's escape_ws) */
} pre_def;

/* llama.cpp's tokenizer.ggml.pre names (llama_vocab::impl::load) and their
 * regexes; pre-tokenizers outside this list are refused rather than guessed. */
static const pre_def PRE_DEFS[] = {
    {"default\0\0", {"[\\p{P}\\$\\+<=>\\^~\\|]+", RE_GPT2, "\\p{N}+", "[0-9][0-9][0-9]"}, 0, 0, 0, 0},
    {"llama3\0llama-v3\0llama-bpe\0falcon3\0falcon-h1\0pixtral\0midm-2.0\0lfm2\0jina-v5-nano\0\0",
     {RE_LLAMA3}, 1, 1, 0, 0},
    {"dbrx\0smaug-bpe\0\0", {RE_LLAMA3}, 0, 0, 0, 0},
    {"glm4\0chatglm-bpe\0\0", {RE_LLAMA3}, 0, 0, 1, 0},
    {"gpt-2\0phi-2\0jina-es\0jina-de\0gigachat\0jina-v2-es\0jina-v2-de\0a.x-4.0\0mellum\0modern-bert\0"
     "jina-v1-en\0jina-v2-code\0roberta-bpe\0exaone4\0mpt\0olmo\0jais\0trillion\0granite-docling\0\0",
     {RE_GPT2}, 0, 0, 0, 0},
    {"starcoder\0refact\0command-r\0smollm\0codeshell\0exaone\0minerva-7b\0mellum2\0\0",
     {"\\p{N}", RE_GPT2}, 0, 0, 0, 0},
    {"qwen2\0deepseek-r1-qwen\0kormo\0f2llmv2\0megrez\0stablelm2\0hunyuan\0solar-open\0\0", {RE_QWEN2}, 0, 0, 0, 0},
    {"qwen35\0\0", {RE_QWEN35}, 0, 0, 0, 0},
    {"gpt-4o\0llama4\0kanana2\0talkie\0minimax-m2\0\0", {RE_GPT4O}, 0, 0, 0, 0},
    {"tekken\0\0", {RE_TEKKEN}, 1, 1, 0, 0},
    /* Gemma 3/4 vocabularies as llama.cpp's converter writes them from a
     * tokenizer.json (granite-embed-multi-311m is the hash its table
     * finds there): merges run over whole lines, newline runs apart. */
    {"gemma4\0granite-embed-multi-311m\0\0", {"[^\\n]+|[\\n]+"}, 0, 0, 0, 1},
};

/* Rewrites \p{X}, \s and \S into the explicit sets above. */
static char *translate_regex(const char *re) {
    size_t cap = strlen(re) * 4 + 4096, n = 0;
    char *o = malloc(cap);
    if (!o) return NULL;
    int inside = 0;
#define EMIT(str)                                                         \
    do {                                                                  \
        size_t l_ = strlen(str);                                          \
        if (n + l_ + 3 >= cap) {                                          \
            char *p_ = realloc(o, cap = (cap + l_) * 2);                  \
            if (!p_) { free(o); return NULL; }                            \
            o = p_;                                                       \
        }                                                                 \
        memcpy(o + n, str, l_);                                           \
        n += l_;                                                          \
    } while (0)
    for (size_t i = 0; re[i]; i++) {
        if (re[i] == '\\' && re[i + 1]) {
            const char *set = NULL;
            size_t skip = 1;
            if (re[i + 1] == 'p' && re[i + 2] == '{') {
                const char *close = strchr(re + i + 3, '}');
                if (close) {
                    size_t l = (size_t)(close - (re + i + 3));
                    const char *c = re + i + 3;
                    /* llama.cpp folds the letter subcategories into \p{L}. */
                    if (c[0] == 'L' && (l == 1 || (l == 2 && strchr("ultmo", c[1])))) set = L_SET;
                    else if (l == 1 && c[0] == 'N') set = N_SET;
                    else if (l == 1 && c[0] == 'P') set = P_SET;
                    else if (l == 1 && c[0] == 'M') set = M_SET;
                    else if (l == 1 && c[0] == 'S') set = S_SET;
                    if (set) skip = 2 + l + 1;
                }
            } else if (re[i + 1] == 's') {
                set = WS_SET;
            } else if (re[i + 1] == 'S' && !inside) {
                EMIT("[^" WS_SET "]");
                i += 1;
                continue;
            }
            if (set) {
                if (!inside) EMIT("[");
                EMIT(set);
                if (!inside) EMIT("]");
                i += skip;
                continue;
            }
            char esc[3] = {re[i], re[i + 1], 0};
            EMIT(esc);
            i++;
            continue;
        }
        if (re[i] == '[' && !inside) inside = 1;
        else if (re[i] == ']' && inside) inside = 0;
        char ch[2] = {re[i], 0};
        EMIT(ch);
    }
#undef EMIT
    o[n] = 0;
    return o;
}

/* ---- GPT-2 byte <-> code point mapping ---- */

/* GPT-2's bytes_to_unicode: printable bytes stand for themselves, the other
 * 68 (0x00-0x20, 0x7F-0xA0, 0xAD) take code points 256.. in byte order. */
static int byte_cp(unsigned b) {
    if (b <= 0x20) return 256 + (int)b;
    if (b >= 0x7F && b <= 0xA0) return 256 + 33 + (int)(b - 0x7F);
    if (b == 0xAD) return 256 + 33 + 34;
    return (int)b;
}

int bpe_byte_to_cp(unsigned b) { return byte_cp(b); }

static int cp_byte(int cp) {
    if (cp < 0 || cp > 323) return -1;
    if (cp < 256) return byte_cp((unsigned)cp) == cp ? cp : -1;
    if (cp < 256 + 33) return cp - 256;
    if (cp < 256 + 33 + 34) return 0x7F + (cp - 256 - 33);
    return 0xAD;
}

/* Appends the code point's UTF-8 (it is < 0x800) and returns the length. */
static size_t put_cp(char *o, int cp) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    o[0] = (char)(0xC0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
}

size_t bpe_decode_text(const char *s, size_t n, char *buf, size_t buflen) {
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        const unsigned char *p = (const unsigned char *)s + i;
        size_t l = utf8_seq_len(p, n - i);
        int cp = -1;
        if (l == 1) cp = p[0];
        else if (l == 2) cp = ((p[0] & 0x1F) << 6) | (p[1] & 0x3F);
        if (l == 0) l = 1;
        if (cp_byte(cp) >= 0) {
            if (o < buflen) buf[o] = (char)cp_byte(cp);
            o++;
        } else {
            /* Not a byte-level code point: keep the text as it is. */
            for (size_t k = 0; k < l; k++, o++)
                if (o < buflen) buf[o] = s[i + k];
        }
        i += l;
    }
    return o;
}

/* ---- setup ---- */

static int name_in(const char *names, const char *name) {
    for (const char *p = names; *p; p += strlen(p) + 1)
        if (strcmp(p, name) == 0) return 1;
    return 0;
}

int bpe_setup(wgpt_tokenizer *t, const char *pre, const gguf_str *merges, size_t n_merges, char *err,
              size_t errlen) {
    const pre_def *d = NULL;
    const char *want = (pre && *pre) ? pre : "default"; /* llama.cpp: missing pre -> default */
    for (size_t i = 0; i < sizeof PRE_DEFS / sizeof PRE_DEFS[0]; i++)
        if (name_in(PRE_DEFS[i].names, want)) { d = &PRE_DEFS[i]; break; }
    if (!d) {
        set_err(err, errlen, "tokenizer: unsupported pre-tokenizer '%s' (tokenizer.ggml.pre)", want);
        return -1;
    }
    t->ignore_merges = d->ignore_merges;
    if (d->add_bos) t->add_bos = 1;
    if (d->no_bos) t->ids[TOK_ID_BOS] = -1;
    t->escape_ws = t->force_bos = d->spm_style;
    for (int i = 0; i < TOK_MAX_REGEX && d->re[i]; i++) {
        char *pat = translate_regex(d->re[i]);
        if (!pat) { set_err(err, errlen, "tokenizer: out of memory"); return -1; }
        int ec;
        PCRE2_SIZE eo;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &ec, &eo, NULL);
        free(pat);
        if (!re) {
            PCRE2_UCHAR msg[160];
            pcre2_get_error_message(ec, msg, sizeof msg);
            set_err(err, errlen, "tokenizer: pre-tokenizer regex for '%s' does not compile: %s", want, (char *)msg);
            return -1;
        }
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* optional: falls back to the interpreter */
        t->re[t->n_re++] = re;
    }

    /* Ranks: llama.cpp splits each merge at the first space after its first
     * byte and keeps the first rank of a repeated pair. */
    size_t total = 0;
    for (size_t i = 0; i < n_merges; i++) total += merges[i].len + 4;
    t->merge_keys = malloc(total ? total : 1);
    if (!t->merge_keys || strmap_init(&t->ranks, n_merges) < 0) {
        set_err(err, errlen, "tokenizer: out of memory for %zu merges", n_merges);
        return -1;
    }
    char *k = t->merge_keys;
    for (size_t i = 0; i < n_merges; i++) {
        const char *m = merges[i].ptr;
        size_t ml = (size_t)merges[i].len;
        const char *sp = ml > 1 ? memchr(m + 1, ' ', ml - 1) : NULL;
        uint32_t ll = 0;
        size_t kl = 4;
        if (sp) {
            ll = (uint32_t)(sp - m);
            memcpy(k + 4, m, ll);
            memcpy(k + 4 + ll, sp + 1, ml - ll - 1);
            kl += ml - 1;
        }
        memcpy(k, &ll, 4);
        if (strmap_put(&t->ranks, k, kl, (int32_t)i, 0) < 0) {
            set_err(err, errlen, "tokenizer: out of memory for merges");
            return -1;
        }
        k += kl;
    }
    return 0;
}

void bpe_free(wgpt_tokenizer *t) {
    for (int i = 0; i < t->n_re; i++) pcre2_code_free(t->re[i]);
    t->n_re = 0;
    free(t->merge_keys);
    t->merge_keys = NULL;
    strmap_free(&t->ranks);
}

/* ---- tokenization ---- */

/* Like llama.cpp's unicode_regex_split: each regex refines the pieces of the
 * previous one; text between matches is kept as a piece of its own. */
static int split(const wgpt_tokenizer *t, const char *text, size_t len, spans *out, pcre2_match_data *md) {
    spans cur = {0}, nxt = {0};
    if (len && spans_push(&cur, 0, len) < 0) return -1;
    for (int r = 0; r < t->n_re; r++) {
        nxt.n = 0;
        for (size_t p = 0; p < cur.n; p++) {
            const char *subj = text + cur.v[p].off;
            size_t sl = cur.v[p].len, pos = 0, last = 0;
            while (pos <= sl) {
                int rc = pcre2_match(t->re[r], (PCRE2_SPTR)subj, sl, pos, PCRE2_NO_UTF_CHECK, md, NULL);
                if (rc < 0) break;
                PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
                size_t ms = ov[0], me = ov[1];
                if (ms > last && spans_push(&nxt, cur.v[p].off + last, ms - last) < 0) goto oom;
                if (me == ms) { /* empty match: step one character on */
                    if (ms >= sl) break;
                    size_t cl = utf8_seq_len((const unsigned char *)subj + ms, sl - ms);
                    pos = ms + (cl ? cl : 1);
                    last = ms;
                    continue;
                }
                if (spans_push(&nxt, cur.v[p].off + ms, me - ms) < 0) goto oom;
                last = pos = me;
            }
            if (last < sl && spans_push(&nxt, cur.v[p].off + last, sl - last) < 0) goto oom;
        }
        spans tmp = cur;
        cur = nxt;
        nxt = tmp;
    }
    free(nxt.v);
    *out = cur;
    return 0;
oom:
    free(cur.v);
    free(nxt.v);
    return -1;
}

typedef bpe_sym sym; /* off, n: within the encoded word */


typedef struct {
    const wgpt_tokenizer *t;
    char *word;       /* the piece, byte-encoded */
    size_t word_cap;
    sym *s;
    size_t s_cap;
    tok_bigram_heap h;
    char *key;        /* rank lookup key */
    size_t key_cap;
} session;

static int add_bigram(session *S, int left, int right) {
    if (left < 0 || right < 0) return 0;
    const sym *l = &S->s[left], *r = &S->s[right];
    return bpe_push_ranked(&S->h, &S->t->ranks, S->word + l->off, l->n, S->word + r->off, r->n, left, right, &S->key,
                           &S->key_cap);
}

static int emit(session *S, const char *s, size_t n, ivec *out) {
    int32_t id = strmap_get(&S->t->tok2id, s, n);
    if (id >= 0) return ivec_push(out, id);
    /* llama.cpp falls back to single-byte texts ("<0xXX>" ones for raw
     * UTF-8 vocabularies) and drops what has none. */
    for (size_t j = 0; j < n; j++) {
        int32_t b;
        if (S->t->escape_ws) {
            static const char hex[] = "0123456789ABCDEF";
            unsigned char c = (unsigned char)s[j];
            char bt[6] = {'<', '0', 'x', hex[c >> 4], hex[c & 15], '>'};
            b = strmap_get(&S->t->tok2id, bt, sizeof bt);
        } else {
            b = strmap_get(&S->t->tok2id, s + j, 1);
        }
        if (b >= 0 && ivec_push(out, b) < 0) return -1;
    }
    return 0;
}

static int encode_word(session *S, const char *src, size_t n, ivec *out) {
    const wgpt_tokenizer *t = S->t;
    if (n * 2 > S->word_cap) {
        char *w = realloc(S->word, n * 2);
        if (!w) return -1;
        S->word = w;
        S->word_cap = n * 2;
    }
    size_t wl = 0;
    if (t->escape_ws) {
        memcpy(S->word, src, n);
        wl = n;
    } else {
        for (size_t i = 0; i < n; i++) wl += put_cp(S->word + wl, byte_cp((unsigned char)src[i]));
    }
    if (t->ignore_merges && strmap_get(&t->tok2id, S->word, wl) >= 0) return emit(S, S->word, wl, out);

    if (n > S->s_cap) {
        sym *s = realloc(S->s, n * sizeof *s);
        if (!s) return -1;
        S->s = s;
        S->s_cap = n;
    }
    int ns = 0;
    /* llama.cpp's Gemma 4 fix: a run of newlines that is a token is taken
     * whole, since the merges would build it differently. */
    int whole = t->escape_ws;
    for (size_t i = 0; i < wl && whole; i++) whole = S->word[i] == '\n';
    if (whole) whole = strmap_get(&t->tok2id, S->word, wl) >= 0;
    if (whole) S->s[ns++] = (sym){0, wl, -1, -1};
    for (size_t o = 0; !whole && o < wl;) {
        size_t cl;
        if (t->escape_ws) {
            /* the caller checked the text is valid UTF-8 */
            cl = utf8_seq_len((const unsigned char *)S->word + o, wl - o);
            if (!cl) cl = 1;
        } else {
            cl = ((unsigned char)S->word[o] < 0x80) ? 1 : 2;
        }
        S->s[ns] = (sym){o, cl, ns - 1, o + cl == wl ? -1 : ns + 1};
        o += cl;
        ns++;
    }
    S->h.n = 0;
    for (int i = 1; i < ns; i++)
        if (add_bigram(S, i - 1, i) < 0) return -1;
    while (S->h.n) {
        tok_bigram b = bigram_pop(&S->h);
        sym *l = &S->s[b.left], *r = &S->s[b.right];
        /* Adjacent symbols are contiguous, so a matching length means the
         * same text as when the pair was queued. */
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.size) continue;
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) S->s[r->next].prev = b.left;
        if (add_bigram(S, l->prev, b.left) < 0 || add_bigram(S, b.left, l->next) < 0) return -1;
    }
    for (int i = 0; i < ns; i++)
        if (S->s[i].n && emit(S, S->word + S->s[i].off, S->s[i].n, out) < 0) return -1;
    return 0;
}

int bpe_tokenize(const wgpt_tokenizer *t, const char *text, size_t len, ivec *out, char *err, size_t errlen) {
    if (len == 0) return 0;
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    spans pieces = {0};
    session S = {.t = t};
    char *esc = NULL;
    int rc = -1;
    if (t->escape_ws) {
        /* only ' ' becomes U+2581 (3 bytes), as in llama_escape_whitespace */
        size_t el = 0;
        if (!(esc = malloc(len * 3))) goto oom;
        for (size_t i = 0; i < len; i++) {
            if (text[i] == ' ') { memcpy(esc + el, "\xe2\x96\x81", 3); el += 3; }
            else esc[el++] = text[i];
        }
        text = esc;
        len = el;
    }
    if (!md || split(t, text, len, &pieces, md) < 0) goto oom;
    for (size_t i = 0; i < pieces.n; i++)
        if (encode_word(&S, text + pieces.v[i].off, pieces.v[i].len, out) < 0) goto oom;
    rc = 0;
    goto done;
oom:
    set_err(err, errlen, "tokenizer: out of memory");
done:
    pcre2_match_data_free(md);
    free(esc);
    free(pieces.v);
    free(S.word);
    free(S.s);
    free(S.h.v);
    free(S.key);
    return rc;
}
