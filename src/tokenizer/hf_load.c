/* Reading a Hugging Face tokenizer.json (+ tokenizer_config.json), or GPT-2's
 * vocab.json + merges.txt, into a wgpt_tokenizer. Every field is checked:
 * a hostile file gets one line naming the field, never a crash. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tokenizer/hf_internal.h"
#include "tokenizer/unicode_sets.h"
#include "util/json.h"
#include "util/text.h"
#include "util/util.h"

/* Token ids beyond this are refused: the id space is allocated densely, and
 * the largest real vocabularies are a few hundred thousand. */
#define HF_MAX_ID (1 << 24)

typedef struct {
    const char *what; /* "tokenizer.json" */
    char *err;
    size_t errlen;
} ld;

__attribute__((format(printf, 2, 3))) static int fail(ld *L, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    set_err(L->err, L->errlen, "%s: %s", L->what, msg);
    return -1;
}

static int oom(ld *L) { return fail(L, "out of memory"); }

static char *dupmem(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (!p) return NULL;
    if (n) memcpy(p, s, n);
    p[n] = 0;
    return p;
}

/* ---- regexes ---- */

/* \s as the tokenizers library that made the models reads it (Oniguruma's
 * Unicode \s; Rust's char::is_whitespace, which its Strip and lstrip/rstrip
 * use, is the same set): Unicode's White_Space, so U+0085 is in and U+FEFF
 * out. JavaScript's \s (and so transformers.js) has it the other way round;
 * on the GPU machine Python transformers settled it (README, Correctness). */
#define HF_WS "\\t\\n\\x0B\\f\\r \\x{85}\\xA0\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"

int hf_space(uint32_t c) {
    return (c >= 9 && c <= 13) || c == 32 || c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
           c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

typedef struct {
    char *p;
    size_t n, cap;
    int failed;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->failed) return;
    if (b->n + n + 1 > b->cap) {
        size_t nc = (b->n + n + 1) * 2;
        char *p = realloc(b->p, nc);
        if (!p) { b->failed = 1; return; }
        b->p = p;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}
static void sb_puts(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

/* transformers.js's createPattern: drops the backslash of \# \& \~ and
 * rewrites the case-insensitive contractions group JS cannot parse. Then
 * \s \S as HF_WS says (PCRE2's UCP \s also has U+180E), JavaScript's \d \D \w \W
 * and its newer \p{L} \p{N} \p{P} \p{M} \p{S} are spelled out for PCRE2 (its UCP \d
 * and \w are Unicode-wide). */
void *hf_regex_compile(const char *pat, size_t len, char *err, size_t errlen) {
    static const char CI_FROM[] = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";
    static const char CI_TO[] = "(?:'([sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD]))";
    sbuf b = {0};
    int inside = 0;
    for (size_t i = 0; i < len; i++) {
        if (len - i >= sizeof CI_FROM - 1 && memcmp(pat + i, CI_FROM, sizeof CI_FROM - 1) == 0) {
            sb_puts(&b, CI_TO);
            i += sizeof CI_FROM - 2;
            continue;
        }
        char c = pat[i];
        if (c == '\\' && i + 1 < len) {
            char e = pat[i + 1];
            if ((e == 'p' || e == 'P') && i + 4 < len && pat[i + 2] == '{' && pat[i + 4] == '}' &&
                pat[i + 3] && strchr("LNPMS", pat[i + 3]) && (e == 'p' || !inside)) {
                /* JavaScript's Unicode is newer than PCRE2 10.42's */
                const char *set = pat[i + 3] == 'L' ? L_SET : pat[i + 3] == 'N' ? N_SET : pat[i + 3] == 'P' ? P_SET
                                : pat[i + 3] == 'M' ? M_SET : S_SET;
                if (!inside) sb_puts(&b, e == 'p' ? "[" : "[^");
                sb_puts(&b, set);
                if (!inside) sb_puts(&b, "]");
                i += 4;
                continue;
            }
            if (e == 'u' && i + 2 < len) {
                /* JavaScript's \uXXXX and \u{X...}: PCRE2 spells them \x{...} */
                size_t k = i + 2, h = 0;
                int brace = pat[k] == '{';
                if (brace) k++;
                while (k + h < len && h < (brace ? 6u : 4u) && strchr("0123456789abcdefABCDEF", pat[k + h]) && pat[k + h]) h++;
                if (h > 0 && (brace ? k + h < len && pat[k + h] == '}' : h == 4)) {
                    sb_puts(&b, "\\x{");
                    sb_put(&b, pat + k, h);
                    sb_puts(&b, "}");
                    i = k + h + (brace ? 1 : 0) - 1;
                    continue;
                }
            }
            i++;
            switch (e) {
            case '#': case '&': case '~': sb_put(&b, &e, 1); break;
            case 's': sb_puts(&b, inside ? HF_WS : "[" HF_WS "]"); break;
            case 'S': sb_puts(&b, inside ? "\\S" : "[^" HF_WS "]"); break;
            case 'd': sb_puts(&b, inside ? "0-9" : "[0-9]"); break;
            case 'D': sb_puts(&b, inside ? "\\D" : "[^0-9]"); break;
            case 'w': sb_puts(&b, inside ? "A-Za-z0-9_" : "[A-Za-z0-9_]"); break;
            case 'W': sb_puts(&b, inside ? "\\W" : "[^A-Za-z0-9_]"); break;
            default: {
                char two[2] = {'\\', e};
                sb_put(&b, two, 2);
            }
            }
            continue;
        }
        if (c == '[' && !inside) inside = 1;
        else if (c == ']' && inside) inside = 0;
        sb_put(&b, &c, 1);
    }
    if (b.failed || !b.p) {
        free(b.p);
        if (!b.failed) b.p = dupmem("", 0);
        if (!b.p) { set_err(err, errlen, "out of memory"); return NULL; }
    }
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)b.p, b.n, PCRE2_UTF | PCRE2_DOLLAR_ENDONLY, &ec, &eo, NULL);
    free(b.p);
    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof msg);
        set_err(err, errlen, "regex %s does not compile: %s", text_show(pat, len), (char *)msg);
        return NULL;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* optional: the interpreter gives the same answers */
    return re;
}

/* ---- steps ---- */

static hf_step *push_step(hf_steps *s, int kind) {
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 8;
        hf_step *v = realloc(s->v, nc * sizeof *v);
        if (!v) return NULL;
        s->v = v;
        s->cap = nc;
    }
    hf_step *st = &s->v[s->n++];
    memset(st, 0, sizeof *st);
    st->kind = kind;
    return st;
}

static void free_steps(hf_steps *s) {
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].a);
        free(s->v[i].b);
        if (s->v[i].re) pcre2_code_free(s->v[i].re);
    }
    free(s->v);
    memset(s, 0, sizeof *s);
}

void hf_free(hf_tok *h) {
    if (!h) return;
    free_steps(&h->norm);
    free_steps(&h->pre);
    free_steps(&h->dec);
    free(h->merge_keys);
    strmap_free(&h->ranks);
    free(h->added);
    free(h->added_flags);
    strmap_free(&h->trie);
    free(h->trie_keys);
    free(h->node_tok);
    free(h->prefix);
    free(h->suffix);
    free(h->is_added);
    free(h->is_special);
    free(h->present);
    free(h);
}

static const char *type_of(const json_value *v) { return v ? json_type_name(v->type) : "missing"; }

/* obj.key as a string; absent -> *s = NULL when optional. */
static int get_str(ld *L, const json_value *obj, const char *path, const char *key, int optional, const char **s,
                   size_t *n) {
    const json_value *v = json_get(obj, key);
    *s = NULL;
    *n = 0;
    if (!v || (optional && v->type == JSON_NULL)) {
        if (optional) return 0;
        return fail(L, "%s.%s is missing", path, key);
    }
    if (v->type != JSON_STRING) return fail(L, "%s.%s: expected a string, got %s", path, key, type_of(v));
    *s = v->str;
    *n = v->len;
    return 0;
}

static int get_bool(ld *L, const json_value *obj, const char *path, const char *key, int dflt, int *out) {
    const json_value *v = json_get(obj, key);
    *out = dflt;
    if (!v || v->type == JSON_NULL) return 0;
    if (v->type == JSON_TRUE || v->type == JSON_FALSE) { *out = v->type == JSON_TRUE; return 0; }
    return fail(L, "%s.%s: expected true or false, got %s", path, key, type_of(v));
}

static int get_int(ld *L, const json_value *obj, const char *path, const char *key, int64_t lo, int64_t hi, int64_t dflt,
                   int64_t *out) {
    const json_value *v = json_get(obj, key);
    *out = dflt;
    if (!v || v->type == JSON_NULL) return 0;
    if (v->type != JSON_NUMBER || !v->is_int) return fail(L, "%s.%s: expected an integer, got %s", path, key, type_of(v));
    if (v->i < lo || v->i > hi) return fail(L, "%s.%s: %lld is out of range", path, key, (long long)v->i);
    *out = v->i;
    return 0;
}

static int type_is(const char *t, size_t n, const char *name) { return strlen(name) == n && memcmp(t, name, n) == 0; }

static int get_type(ld *L, const json_value *v, const char *path, const char **t, size_t *n) {
    if (v->type != JSON_OBJECT) return fail(L, "%s: expected an object, got %s", path, type_of(v));
    return get_str(L, v, path, "type", 0, t, n);
}

/* {"String": s} or {"Regex": r} into st->a / st->re. */
static int get_pattern(ld *L, const json_value *obj, const char *path, hf_step *st) {
    const json_value *p = json_get(obj, "pattern");
    if (!p || p->type != JSON_OBJECT) return fail(L, "%s.pattern: expected an object, got %s", path, type_of(p));
    const json_value *s = json_get(p, "String"), *r = json_get(p, "Regex");
    if (s) {
        if (s->type != JSON_STRING) return fail(L, "%s.pattern.String: expected a string, got %s", path, type_of(s));
        if (s->len == 0) return fail(L, "%s.pattern.String is empty", path);
        if (!(st->a = dupmem(s->str, s->len))) return oom(L);
        st->alen = s->len;
        return 0;
    }
    if (r) {
        if (r->type != JSON_STRING) return fail(L, "%s.pattern.Regex: expected a string, got %s", path, type_of(r));
        char e[400];
        if (!(st->re = hf_regex_compile(r->str, r->len, e, sizeof e))) return fail(L, "%s.pattern.Regex: %s", path, e);
        return 0;
    }
    return fail(L, "%s.pattern: expected a String or a Regex", path);
}

static int get_content(ld *L, const json_value *obj, const char *path, const char *key, hf_step *st) {
    const char *s;
    size_t n;
    if (get_str(L, obj, path, key, 0, &s, &n) < 0) return -1;
    if (!(st->b = dupmem(s, n))) return oom(L);
    st->blen = n;
    return 0;
}

static int match_step(ld *L, hf_steps *out, const char *re) {
    hf_step *st = push_step(out, HP_MATCH);
    if (!st) return oom(L);
    char e[400];
    if (!(st->re = hf_regex_compile(re, strlen(re), e, sizeof e))) return fail(L, "%s", e);
    return 0;
}

static int parse_normalizer(ld *L, const json_value *v, const char *path, hf_steps *out, int depth) {
    if (!v || v->type == JSON_NULL) return 0;
    if (depth > 16) return fail(L, "%s: sequences nested too deeply", path);
    const char *t;
    size_t tn;
    if (get_type(L, v, path, &t, &tn) < 0) return -1;
    char sub[256];
    if (type_is(t, tn, "Sequence")) {
        const json_value *a = json_get(v, "normalizers");
        if (!a || a->type != JSON_ARRAY) return fail(L, "%s.normalizers: expected an array, got %s", path, type_of(a));
        for (size_t i = 0; i < a->n; i++) {
            snprintf(sub, sizeof sub, "%s.normalizers[%zu]", path, i);
            if (parse_normalizer(L, &a->items[i], sub, out, depth + 1) < 0) return -1;
        }
        return 0;
    }
    static const struct { const char *name; int kind; } simple[] = {
        {"NFC", HN_NFC}, {"NFD", HN_NFD}, {"NFKC", HN_NFKC}, {"NFKD", HN_NFKD},
        {"Lowercase", HN_LOWERCASE}, {"StripAccents", HN_STRIP_ACCENTS},
    };
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
        if (type_is(t, tn, simple[i].name)) return push_step(out, simple[i].kind) ? 0 : oom(L);
    hf_step *st;
    if (type_is(t, tn, "Replace")) {
        if (!(st = push_step(out, HN_REPLACE))) return oom(L);
        return get_pattern(L, v, path, st) < 0 ? -1 : get_content(L, v, path, "content", st);
    }
    if (type_is(t, tn, "Prepend")) {
        if (!(st = push_step(out, HN_PREPEND))) return oom(L);
        return get_content(L, v, path, "prepend", st);
    }
    if (type_is(t, tn, "Strip")) {
        if (!(st = push_step(out, HN_STRIP))) return oom(L);
        if (get_bool(L, v, path, "strip_left", 0, &st->flag) < 0) return -1;
        return get_bool(L, v, path, "strip_right", 0, &st->flag2);
    }
    return fail(L, "%s.type '%s' is not supported (supported: Sequence, NFC, NFD, NFKC, NFKD, Replace, Prepend, "
                   "Lowercase, Strip, StripAccents)", path, text_show(t, tn));
}

static int parse_behavior(ld *L, const json_value *v, const char *path, int *out) {
    const char *s;
    size_t n;
    if (get_str(L, v, path, "behavior", 1, &s, &n) < 0) return -1;
    *out = HB_ISOLATED;
    if (!s) return 0;
    static const struct { const char *name; int b; } names[] = {
        {"Removed", HB_REMOVED}, {"Isolated", HB_ISOLATED}, {"MergedWithPrevious", HB_MERGED_PREV},
        {"MergedWithNext", HB_MERGED_NEXT}, {"Contiguous", HB_CONTIGUOUS},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i].name) == n && strncasecmp(s, names[i].name, n) == 0) { *out = names[i].b; return 0; }
    return fail(L, "%s.behavior '%s' is not one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous",
                path, text_show(s, n));
}

/* Metaspace's replacement and prepending, shared by the pre-tokenizer and
 * the decoder. add_prefix_space, where given, decides as in transformers.js;
 * files written by tokenizers >= 0.19 give only prepend_scheme, which then
 * decides as in the Rust library. */
static int parse_metaspace(ld *L, const json_value *v, const char *path, hf_step *st) {
    const char *s;
    size_t n;
    if (get_str(L, v, path, "replacement", 1, &s, &n) < 0) return -1;
    if (!s) { s = "\xe2\x96\x81"; n = 3; }
    if (n == 0) return fail(L, "%s.replacement is empty", path);
    if (!(st->a = dupmem(s, n))) return oom(L);
    st->alen = n;
    const char *ps;
    size_t pn;
    if (get_str(L, v, path, "prepend_scheme", 1, &ps, &pn) < 0) return -1;
    st->scheme = HS_ALWAYS;
    if (ps) {
        if (type_is(ps, pn, "always")) st->scheme = HS_ALWAYS;
        else if (type_is(ps, pn, "first")) st->scheme = HS_FIRST;
        else if (type_is(ps, pn, "never")) st->scheme = HS_NEVER;
        else return fail(L, "%s.prepend_scheme '%s' is not one of always, first, never", path, text_show(ps, pn));
    }
    const json_value *ap = json_get(v, "add_prefix_space");
    if (ap && ap->type != JSON_NULL) {
        if (get_bool(L, v, path, "add_prefix_space", 0, &st->flag) < 0) return -1;
    } else {
        st->flag = st->scheme != HS_NEVER;
    }
    return get_bool(L, v, path, "split", 1, &st->flag2);
}

static const char GPT2_JS_RE[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

static int parse_pretok(ld *L, const json_value *v, const char *path, hf_steps *out, int depth, int *byte_level) {
    if (!v || v->type == JSON_NULL) return 0;
    if (depth > 16) return fail(L, "%s: sequences nested too deeply", path);
    const char *t;
    size_t tn;
    if (get_type(L, v, path, &t, &tn) < 0) return -1;
    char sub[256];
    hf_step *st;
    if (type_is(t, tn, "Sequence")) {
        const json_value *a = json_get(v, "pretokenizers");
        if (!a || a->type != JSON_ARRAY) return fail(L, "%s.pretokenizers: expected an array, got %s", path, type_of(a));
        for (size_t i = 0; i < a->n; i++) {
            snprintf(sub, sizeof sub, "%s.pretokenizers[%zu]", path, i);
            if (parse_pretok(L, &a->items[i], sub, out, depth + 1, byte_level) < 0) return -1;
        }
        return 0;
    }
    if (type_is(t, tn, "Split")) {
        if (!(st = push_step(out, HP_SPLIT))) return oom(L);
        if (get_pattern(L, v, path, st) < 0 || parse_behavior(L, v, path, &st->behavior) < 0) return -1;
        return get_bool(L, v, path, "invert", 0, &st->invert);
    }
    if (type_is(t, tn, "ByteLevel")) {
        *byte_level = 1;
        if (!(st = push_step(out, HP_BYTELEVEL))) return oom(L);
        /* transformers.js: an absent add_prefix_space is false */
        if (get_bool(L, v, path, "add_prefix_space", 0, &st->flag) < 0) return -1;
        if (get_bool(L, v, path, "use_regex", 1, &st->flag2) < 0) return -1;
        if (st->flag2) {
            char e[400];
            if (!(st->re = hf_regex_compile(GPT2_JS_RE, strlen(GPT2_JS_RE), e, sizeof e))) return fail(L, "%s", e);
        }
        return 0;
    }
    if (type_is(t, tn, "Metaspace")) {
        if (!(st = push_step(out, HP_METASPACE))) return oom(L);
        if (parse_metaspace(L, v, path, st) < 0) return -1;
        const char *sr;
        size_t srn;
        if (get_str(L, v, path, "str_rep", 1, &sr, &srn) < 0) return -1;
        if (sr && srn) {
            if (!(st->b = dupmem(sr, srn))) return oom(L);
            st->blen = srn;
        }
        return 0;
    }
    if (type_is(t, tn, "Digits")) {
        int ind;
        if (get_bool(L, v, path, "individual_digits", 0, &ind) < 0) return -1;
        return match_step(L, out, ind ? "[^0-9]+|[0-9]" : "[^0-9]+|[0-9]+");
    }
    if (type_is(t, tn, "Whitespace")) return match_step(L, out, "\\w+|[^\\w\\s]+");
    if (type_is(t, tn, "WhitespaceSplit")) return match_step(L, out, "\\S+");
    return fail(L, "%s.type '%s' is not supported (supported: Sequence, Split, ByteLevel, Metaspace, Digits, "
                   "Whitespace, WhitespaceSplit)", path, text_show(t, tn));
}

static int parse_decoder(ld *L, const json_value *v, const char *path, hf_tok *h, int depth, int *fused) {
    if (!v || v->type == JSON_NULL) return 0;
    if (depth > 16) return fail(L, "%s: sequences nested too deeply", path);
    const char *t;
    size_t tn;
    if (get_type(L, v, path, &t, &tn) < 0) return -1;
    char sub[256];
    hf_step *st;
    if (type_is(t, tn, "Sequence")) {
        const json_value *a = json_get(v, "decoders");
        if (!a || a->type != JSON_ARRAY) return fail(L, "%s.decoders: expected an array, got %s", path, type_of(a));
        for (size_t i = 0; i < a->n; i++) {
            snprintf(sub, sizeof sub, "%s.decoders[%zu]", path, i);
            if (parse_decoder(L, &a->items[i], sub, h, depth + 1, fused) < 0) return -1;
        }
        return 0;
    }
    if (type_is(t, tn, "ByteLevel")) {
        h->byte_level = 1;
        return push_step(&h->dec, HD_BYTELEVEL) ? 0 : oom(L);
    }
    if (type_is(t, tn, "ByteFallback")) return push_step(&h->dec, HD_BYTEFALLBACK) ? 0 : oom(L);
    if (type_is(t, tn, "Fuse")) { *fused = 1; return 0; }
    if (type_is(t, tn, "Replace")) {
        if (!(st = push_step(&h->dec, HD_REPLACE))) return oom(L);
        return get_pattern(L, v, path, st) < 0 ? -1 : get_content(L, v, path, "content", st);
    }
    if (type_is(t, tn, "Strip")) {
        const char *c;
        size_t cn;
        int64_t start, stop;
        if (get_str(L, v, path, "content", 0, &c, &cn) < 0) return -1;
        if (cn == 0 || cn > 4 || utf8_seq_len((const unsigned char *)c, cn) != cn)
            return fail(L, "%s.content: expected one character", path);
        if (get_int(L, v, path, "start", 0, 1 << 20, 0, &start) < 0 || get_int(L, v, path, "stop", 0, 1 << 20, 0, &stop) < 0)
            return -1;
        if (*fused) {
            /* after Fuse the whole text is one string: only its start is
             * stripped, which token_to_piece cannot see (tokenizer_decode does) */
            memcpy(h->lstrip_char, c, cn);
            h->lstrip_len = cn;
            h->lstrip_n = (int)start;
            return 0;
        }
        if (!(st = push_step(&h->dec, HD_STRIP))) return oom(L);
        if (!(st->a = dupmem(c, cn))) return oom(L);
        st->alen = cn;
        st->start = (int)start;
        st->stop = (int)stop;
        return 0;
    }
    if (type_is(t, tn, "Metaspace")) {
        if (!(st = push_step(&h->dec, HD_METASPACE))) return oom(L);
        if (parse_metaspace(L, v, path, st) < 0) return -1;
        if (st->flag) {
            memcpy(h->lstrip_char, " ", 1);
            h->lstrip_len = 1;
            h->lstrip_n = 1;
        }
        return 0;
    }
    return fail(L, "%s.type '%s' is not supported (supported: Sequence, ByteLevel, ByteFallback, Fuse, Replace, Strip, "
                   "Metaspace)", path, text_show(t, tn));
}

/* ---- ids ---- */

typedef struct {
    int32_t *v;
    size_t n, cap;
} i32s;

static int i32_push(i32s *a, int32_t x) { return ivec_push((ivec *)a, x); }

static int special_id(ld *L, const wgpt_tokenizer *t, const json_value *specials, const char *path, const char *s,
                      size_t n, i32s *out) {
    int32_t id = strmap_get(&t->tok2id, s, n);
    if (id >= 0) return i32_push(out, id) < 0 ? oom(L) : 0;
    /* The Rust library takes the ids from special_tokens; transformers.js
     * looks the text up. They agree whenever the text is a token. */
    const json_value *sp = json_get(specials, s);
    const json_value *ids = sp ? json_get(sp, "ids") : NULL;
    if (ids && ids->type == JSON_ARRAY && ids->n > 0) {
        for (size_t i = 0; i < ids->n; i++) {
            const json_value *x = &ids->items[i];
            if (x->type != JSON_NUMBER || !x->is_int || x->i < 0 || x->i >= t->n_vocab || !t->hf->present[x->i])
                return fail(L, "%s: special token '%s' has an id out of range", path, text_show(s, n));
            if (i32_push(out, (int32_t)x->i) < 0) return oom(L);
        }
        return 0;
    }
    return fail(L, "%s: special token '%s' is not in the vocabulary", path, text_show(s, n));
}

/* Adds the post-processor's tokens around what is already in pre/suf. */
static int parse_post(ld *L, const json_value *v, const char *path, wgpt_tokenizer *t, i32s *pre, i32s *suf, int depth) {
    if (!v || v->type == JSON_NULL) return 0;
    if (depth > 16) return fail(L, "%s: sequences nested too deeply", path);
    const char *ty;
    size_t tn;
    if (get_type(L, v, path, &ty, &tn) < 0) return -1;
    char sub[256];
    if (type_is(ty, tn, "ByteLevel")) return 0;
    i32s p = {0}, s = {0};
    int rc = -1;
    if (type_is(ty, tn, "Sequence")) {
        const json_value *a = json_get(v, "processors");
        if (!a || a->type != JSON_ARRAY) return fail(L, "%s.processors: expected an array, got %s", path, type_of(a));
        for (size_t i = 0; i < a->n; i++) {
            snprintf(sub, sizeof sub, "%s.processors[%zu]", path, i);
            if (parse_post(L, &a->items[i], sub, t, pre, suf, depth + 1) < 0) return -1;
        }
        return 0;
    } else if (type_is(ty, tn, "TemplateProcessing")) {
        const json_value *single = json_get(v, "single"), *specials = json_get(v, "special_tokens");
        if (!single || single->type != JSON_ARRAY)
            return fail(L, "%s.single: expected an array, got %s", path, type_of(single));
        int seen_a = 0;
        for (size_t i = 0; i < single->n; i++) {
            const json_value *it = &single->items[i];
            snprintf(sub, sizeof sub, "%s.single[%zu]", path, i);
            const json_value *stv = json_get(it, "SpecialToken"), *seq = json_get(it, "Sequence");
            if (stv) {
                const char *s0;
                size_t n0;
                if (stv->type != JSON_OBJECT) { fail(L, "%s.SpecialToken: expected an object", sub); goto done; }
                if (get_str(L, stv, sub, "id", 0, &s0, &n0) < 0) goto done;
                if (special_id(L, t, specials, sub, s0, n0, seen_a ? &s : &p) < 0) goto done;
            } else if (seq) {
                const char *s0;
                size_t n0;
                if (seq->type != JSON_OBJECT) { fail(L, "%s.Sequence: expected an object", sub); goto done; }
                if (get_str(L, seq, sub, "id", 0, &s0, &n0) < 0) goto done;
                if (!type_is(s0, n0, "A")) { fail(L, "%s: sequence '%s' in the single template", sub, text_show(s0, n0)); goto done; }
                if (seen_a) { fail(L, "%s: sequence A twice", sub); goto done; }
                seen_a = 1;
            } else {
                fail(L, "%s: expected a SpecialToken or a Sequence", sub);
                goto done;
            }
        }
        if (!seen_a) { fail(L, "%s.single: no sequence A", path); goto done; }
    } else if (type_is(ty, tn, "BertProcessing") || type_is(ty, tn, "RobertaProcessing")) {
        const char *names[2] = {"cls", "sep"};
        for (int k = 0; k < 2; k++) {
            const json_value *c = json_get(v, names[k]);
            if (!c || c->type != JSON_ARRAY || c->n < 1 || c->items[0].type != JSON_STRING) {
                fail(L, "%s.%s: expected [token, id]", path, names[k]);
                goto done;
            }
            snprintf(sub, sizeof sub, "%s.%s", path, names[k]);
            if (special_id(L, t, NULL, sub, c->items[0].str, c->items[0].len, k ? &s : &p) < 0) goto done;
        }
    } else {
        return fail(L, "%s.type '%s' is not supported (supported: TemplateProcessing, ByteLevel, BertProcessing, "
                       "RobertaProcessing, Sequence)", path, text_show(ty, tn));
    }
    /* a later processor wraps what the earlier ones made */
    for (size_t i = 0; i < pre->n; i++)
        if (i32_push(&p, pre->v[i]) < 0) { oom(L); goto done; }
    for (size_t i = 0; i < s.n; i++)
        if (i32_push(suf, s.v[i]) < 0) { oom(L); goto done; }
    free(pre->v);
    *pre = p;
    p.v = NULL;
    rc = 0;
done:
    free(p.v);
    free(s.v);
    return rc;
}

/* ---- added-token trie ---- */

static int trie_child(const hf_tok *h, uint32_t node, unsigned char c) {
    char key[5];
    memcpy(key, &node, 4);
    key[4] = (char)c;
    return strmap_get(&h->trie, key, 5);
}

int hf_trie_child(const hf_tok *h, uint32_t node, unsigned char c) { return trie_child(h, node, c); }

static int build_trie(ld *L, wgpt_tokenizer *t) {
    hf_tok *h = t->hf;
    size_t total = 1;
    for (size_t i = 0; i < h->n_added; i++) total += t->len[h->added[i]];
    if (total > (size_t)INT32_MAX / 8) return fail(L, "added_tokens: too long in all");
    h->trie_keys = malloc(total * 5);
    h->node_tok = malloc(total * sizeof *h->node_tok);
    if (!h->trie_keys || !h->node_tok || strmap_init(&h->trie, total) < 0) return oom(L);
    h->n_nodes = 1;
    h->node_tok[0] = -1;
    for (size_t i = 0; i < h->n_added; i++) {
        const char *s = tok_text(t, h->added[i]);
        uint32_t node = 0;
        for (uint32_t k = 0; k < t->len[h->added[i]]; k++) {
            int c = trie_child(h, node, (unsigned char)s[k]);
            if (c < 0) {
                char *key = h->trie_keys + 5 * h->n_nodes;
                memcpy(key, &node, 4);
                key[4] = s[k];
                c = (int)h->n_nodes;
                h->node_tok[h->n_nodes++] = -1;
                if (strmap_put(&h->trie, key, 5, c, 0) < 0) return oom(L);
            }
            node = (uint32_t)c;
        }
        h->node_tok[node] = (int32_t)i; /* a repeated text: the last one, as in transformers.js's Map */
    }
    return 0;
}

/* ---- the whole file ---- */

static const char *const EOG_TEXTS_HF[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
    "<|end_of_text|>", "<|eom_id|>", "</s>", "<eos>", "<|return|>", "<|call|>", NULL};

/* tokenizer_config.json's bos_token / eos_token: a string or {"content": s}. */
static int config_token(ld *L, const json_value *cfg, const char *key, const wgpt_tokenizer *t, int32_t *id) {
    const json_value *v = json_get(cfg, key);
    if (!v || v->type == JSON_NULL) return 0;
    if (v->type == JSON_OBJECT) v = json_get(v, "content");
    if (!v || v->type != JSON_STRING) return fail(L, "tokenizer_config.json: %s: expected a string", key);
    int32_t x = strmap_get(&t->tok2id, v->str, v->len);
    if (x >= 0) *id = x;
    return 0;
}

typedef struct {
    const char *key;
    size_t klen;
    int32_t id;
} vent;

static int build(ld *L, const json_value *root, const json_value *cfg, wgpt_tokenizer **out) {
    if (root->type != JSON_OBJECT) return fail(L, "expected an object at the top, got %s", type_of(root));
    const json_value *model = json_get(root, "model");
    if (!model || model->type != JSON_OBJECT) return fail(L, "model: expected an object, got %s", type_of(model));
    const char *mt;
    size_t mtn;
    if (get_str(L, model, "model", "type", 1, &mt, &mtn) < 0) return -1;
    if (mt && !type_is(mt, mtn, "BPE"))
        return fail(L, "model.type '%s' is not supported (supported: BPE)", text_show(mt, mtn));
    const json_value *vocab = json_get(model, "vocab"), *merges = json_get(model, "merges");
    if (!vocab || vocab->type != JSON_OBJECT) return fail(L, "model.vocab: expected an object, got %s", type_of(vocab));
    if (!merges || merges->type != JSON_ARRAY) return fail(L, "model.merges: expected an array, got %s", type_of(merges));
    const json_value *added = json_get(root, "added_tokens");
    if (added && added->type != JSON_NULL && added->type != JSON_ARRAY)
        return fail(L, "added_tokens: expected an array, got %s", type_of(added));
    size_t n_added = added && added->type == JSON_ARRAY ? added->n : 0;

    /* the id space */
    int64_t max_id = -1;
    for (size_t i = 0; i < vocab->n; i++) {
        const json_value *x = &vocab->items[i];
        if (x->type != JSON_NUMBER || !x->is_int)
            return fail(L, "model.vocab['%s']: expected an integer id, got %s", text_show(vocab->keys[i], vocab->key_lens[i]),
                        type_of(x));
        if (x->i < 0 || x->i >= HF_MAX_ID)
            return fail(L, "model.vocab['%s']: id %lld is out of range", text_show(vocab->keys[i], vocab->key_lens[i]),
                        (long long)x->i);
        if (x->i > max_id) max_id = x->i;
    }
    for (size_t i = 0; i < n_added; i++) {
        const json_value *a = &added->items[i];
        char path[64];
        snprintf(path, sizeof path, "added_tokens[%zu]", i);
        if (a->type != JSON_OBJECT) return fail(L, "%s: expected an object, got %s", path, type_of(a));
        int64_t id;
        const char *c;
        size_t cn;
        if (!json_get(a, "id")) return fail(L, "%s.id is missing", path);
        if (get_int(L, a, path, "id", 0, HF_MAX_ID - 1, 0, &id) < 0 || get_str(L, a, path, "content", 0, &c, &cn) < 0)
            return -1;
        if (cn == 0) return fail(L, "%s.content is empty", path);
        if (id > max_id) max_id = id;
    }
    if (max_id < 0) return fail(L, "model.vocab is empty");
    /* ids are dense in real files; a few holes are fine, a vast empty id
     * space is a broken (or hostile) file that would cost memory */
    if ((size_t)max_id > 2 * (vocab->n + n_added) + 1024)
        return fail(L, "token id %lld is out of range for %zu tokens", (long long)max_id, vocab->n + n_added);

    wgpt_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return oom(L);
    *out = t; /* freed by the caller on failure */
    hf_tok *h = t->hf = calloc(1, sizeof *h);
    if (!h) return oom(L);
    t->type = TOK_HF;
    t->n_vocab = (int32_t)(max_id + 1);
    for (int i = 0; i < TOK_ID_COUNT; i++) t->ids[i] = -1;
    size_t nv = (size_t)t->n_vocab, total = 1;
    for (size_t i = 0; i < vocab->n; i++) total += vocab->key_lens[i];
    for (size_t i = 0; i < n_added; i++) total += json_get(&added->items[i], "content")->len;
    t->text = malloc(total);
    t->off = calloc(nv, sizeof *t->off);
    t->len = calloc(nv, sizeof *t->len);
    t->attr = calloc(nv, sizeof *t->attr);
    t->eog = calloc(nv, 1);
    h->present = calloc(nv, 1);
    h->is_added = calloc(nv, 1);
    h->is_special = calloc(nv, 1);
    h->added = malloc((n_added ? n_added : 1) * sizeof *h->added);
    h->added_flags = calloc(n_added ? n_added : 1, 1);
    if (!t->text || !t->off || !t->len || !t->attr || !t->eog || !h->present || !h->is_added || !h->is_special || !h->added ||
        !h->added_flags || strmap_init(&t->tok2id, vocab->n + n_added) < 0)
        return oom(L);
    size_t pos = 0;
    for (size_t i = 0; i < vocab->n; i++) {
        int32_t id = (int32_t)vocab->items[i].i;
        size_t kl = vocab->key_lens[i];
        if (h->present[id]) {
            return fail(L, "model.vocab: id %d is given to both '%s' and '%s'", id, text_show(tok_text(t, id), t->len[id]),
                        text_show(vocab->keys[i], kl));
        }
        if (kl > UINT32_MAX) return fail(L, "model.vocab: a token is too long");
        memcpy(t->text + pos, vocab->keys[i], kl);
        t->off[id] = pos;
        t->len[id] = (uint32_t)kl;
        pos += kl;
        h->present[id] = 1;
        t->attr[id] = ATTR_NORMAL;
        if (strmap_put(&t->tok2id, t->text + t->off[id], kl, id, 0) < 0) return oom(L);
    }
    if (t->tok2id.n != vocab->n) {
        /* a repeated key: JSON.parse keeps the last; the Rust library refuses
         * to load. Say which. */
        for (size_t i = 0; i < vocab->n; i++)
            if (strmap_get(&t->tok2id, vocab->keys[i], vocab->key_lens[i]) != (int32_t)vocab->items[i].i)
                return fail(L, "model.vocab: token '%s' is given twice", text_show(vocab->keys[i], vocab->key_lens[i]));
    }

    /* merges, checked against the model's own vocabulary */
    size_t mtotal = 0;
    for (size_t i = 0; i < merges->n; i++) {
        const json_value *m = &merges->items[i];
        if (m->type == JSON_STRING) mtotal += m->len + 4;
        else if (m->type == JSON_ARRAY && m->n == 2 && m->items[0].type == JSON_STRING && m->items[1].type == JSON_STRING)
            mtotal += m->items[0].len + m->items[1].len + 4;
        else return fail(L, "model.merges[%zu]: expected \"a b\" or [\"a\", \"b\"], got %s", i, type_of(m));
    }
    h->merge_keys = malloc(mtotal ? mtotal : 1);
    if (!h->merge_keys || strmap_init(&h->ranks, merges->n) < 0) return oom(L);
    char *k = h->merge_keys;
    char *cat = NULL;
    size_t cat_cap = 0;
    for (size_t i = 0; i < merges->n; i++) {
        const json_value *m = &merges->items[i];
        const char *a, *b;
        size_t an, bn;
        if (m->type == JSON_STRING) {
            const char *sp = memchr(m->str, ' ', m->len);
            if (!sp || memchr(sp + 1, ' ', m->len - (size_t)(sp + 1 - m->str)))
                { free(cat); return fail(L, "model.merges[%zu]: '%s' is not two tokens separated by one space", i, text_show(m->str, m->len)); }
            a = m->str;
            an = (size_t)(sp - m->str);
            b = sp + 1;
            bn = m->len - an - 1;
        } else {
            a = m->items[0].str;
            an = m->items[0].len;
            b = m->items[1].str;
            bn = m->items[1].len;
        }
        if (an == 0 || bn == 0) { free(cat); return fail(L, "model.merges[%zu]: an empty token", i); }
        if (strmap_get(&t->tok2id, a, an) < 0) { free(cat); return fail(L, "model.merges[%zu]: '%s' is not in model.vocab", i, text_show(a, an)); }
        if (strmap_get(&t->tok2id, b, bn) < 0) { free(cat); return fail(L, "model.merges[%zu]: '%s' is not in model.vocab", i, text_show(b, bn)); }
        if (an + bn > cat_cap) {
            char *c2 = realloc(cat, (an + bn) * 2);
            if (!c2) { free(cat); return oom(L); }
            cat = c2;
            cat_cap = (an + bn) * 2;
        }
        memcpy(cat, a, an);
        memcpy(cat + an, b, bn);
        if (strmap_get(&t->tok2id, cat, an + bn) < 0) {
            int rc = fail(L, "model.merges[%zu]: the merged '%s' is not in model.vocab", i, text_show(cat, an + bn));
            free(cat);
            return rc;
        }
        uint32_t al = (uint32_t)an;
        memcpy(k, &al, 4);
        memcpy(k + 4, a, an);
        memcpy(k + 4 + an, b, bn);
        /* a repeated pair keeps its last rank, as both implementations' maps do */
        if (strmap_put(&h->ranks, k, 4 + an + bn, (int32_t)i, 1) < 0) { free(cat); return oom(L); }
        k += 4 + an + bn;
    }
    free(cat);

    /* model options */
    if (get_bool(L, model, "model", "byte_fallback", 0, &h->byte_fallback) < 0 ||
        get_bool(L, model, "model", "ignore_merges", 0, &h->ignore_merges) < 0 ||
        get_bool(L, model, "model", "fuse_unk", 0, &h->fuse_unk) < 0)
        return -1;
    const char *s;
    size_t sn;
    static const char *const must_be_empty[] = {"continuing_subword_prefix", "end_of_word_suffix"};
    for (int i = 0; i < 2; i++) {
        if (get_str(L, model, "model", must_be_empty[i], 1, &s, &sn) < 0) return -1;
        if (sn) return fail(L, "model.%s '%s' is not supported (only empty)", must_be_empty[i], text_show(s, sn));
    }
    h->unk = -1;
    if (get_str(L, model, "model", "unk_token", 1, &s, &sn) < 0) return -1;
    if (s) h->unk = strmap_get(&t->tok2id, s, sn);
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        h->byte_ids[b] = strmap_get(&t->tok2id, name, 6);
    }

    /* added tokens: they also join the model's map, as in transformers.js */
    for (size_t i = 0; i < n_added; i++) {
        const json_value *a = &added->items[i];
        char path[64];
        snprintf(path, sizeof path, "added_tokens[%zu]", i);
        int32_t id = (int32_t)json_get(a, "id")->i;
        const json_value *c = json_get(a, "content");
        int special, lstrip, rstrip, single_word, normalized;
        if (get_bool(L, a, path, "special", 0, &special) < 0 || get_bool(L, a, path, "lstrip", 0, &lstrip) < 0 ||
            get_bool(L, a, path, "rstrip", 0, &rstrip) < 0 || get_bool(L, a, path, "single_word", 0, &single_word) < 0 ||
            get_bool(L, a, path, "normalized", 0, &normalized) < 0)
            return -1;
        if (!h->present[id] || t->len[id] != c->len || memcmp(tok_text(t, id), c->str, c->len) != 0) {
            memcpy(t->text + pos, c->str, c->len);
            t->off[id] = pos;
            t->len[id] = (uint32_t)c->len;
            pos += c->len;
        }
        h->present[id] = 1;
        h->is_added[id] = 1;
        h->is_special[id] = (uint8_t)special;
        t->attr[id] = special ? ATTR_CONTROL : ATTR_USER_DEFINED;
        if (strmap_put(&t->tok2id, tok_text(t, id), t->len[id], id, 1) < 0) return oom(L);
        h->added[h->n_added] = id;
        h->added_flags[h->n_added++] = (uint8_t)((special ? AF_SPECIAL : 0) | (lstrip ? AF_LSTRIP : 0) | (rstrip ? AF_RSTRIP : 0));
    }
    if (build_trie(L, t) < 0) return -1;

    /* the pipeline */
    int fused = 0;
    if (parse_normalizer(L, json_get(root, "normalizer"), "normalizer", &h->norm, 0) < 0 ||
        parse_pretok(L, json_get(root, "pre_tokenizer"), "pre_tokenizer", &h->pre, 0, &h->byte_level) < 0 ||
        parse_decoder(L, json_get(root, "decoder"), "decoder", h, 0, &fused) < 0)
        return -1;
    i32s pre = {0}, suf = {0};
    if (parse_post(L, json_get(root, "post_processor"), "post_processor", t, &pre, &suf, 0) < 0) {
        free(pre.v);
        free(suf.v);
        return -1;
    }
    h->prefix = pre.v;
    h->n_prefix = pre.n;
    h->suffix = suf.v;
    h->n_suffix = suf.n;

    /* special ids: tokenizer_config.json names them; else the template's */
    if (cfg) {
        if (cfg->type != JSON_OBJECT) return fail(L, "tokenizer_config.json: expected an object, got %s", type_of(cfg));
        if (config_token(L, cfg, "bos_token", t, &t->ids[TOK_ID_BOS]) < 0 ||
            config_token(L, cfg, "eos_token", t, &t->ids[TOK_ID_EOS]) < 0 ||
            config_token(L, cfg, "pad_token", t, &t->ids[TOK_ID_PAD]) < 0)
            return -1;
        const json_value *extra = json_get(cfg, "additional_special_tokens");
        if (extra && extra->type == JSON_ARRAY)
            for (size_t i = 0; i < extra->n; i++) {
                const json_value *x = &extra->items[i];
                if (x->type == JSON_OBJECT) x = json_get(x, "content");
                int32_t id = x && x->type == JSON_STRING ? strmap_get(&t->tok2id, x->str, x->len) : -1;
                if (id >= 0) h->is_special[id] = 1;
            }
        /* transformers.js's LlamaTokenizer with legacy: false replaces the
         * normalizer and the pre-tokenizer and prefixes the text itself */
        const char *cls;
        size_t cl;
        int legacy;
        if (get_str(L, cfg, "tokenizer_config.json", "tokenizer_class", 1, &cls, &cl) < 0 ||
            get_bool(L, cfg, "tokenizer_config.json", "legacy", 1, &legacy) < 0)
            return -1;
        if (cls && (type_is(cls, cl, "LlamaTokenizer") || type_is(cls, cl, "LlamaTokenizerFast")) && !legacy) {
            free_steps(&h->norm);
            free_steps(&h->pre);
            hf_step *st = push_step(&h->pre, HP_METASPACE);
            if (!st || !(st->a = dupmem("\xe2\x96\x81", 3))) return oom(L);
            st->alen = 3;
            st->flag = 1;
            st->scheme = HS_FIRST;
            st->flag2 = 0; /* transformers.js's Metaspace does not split */
            h->llama_nonlegacy = 1;
        }
    }
    h->spm_space = strmap_get(&t->tok2id, "\xe2\x96\x81", 3);
    if (t->ids[TOK_ID_BOS] < 0 && h->n_prefix) t->ids[TOK_ID_BOS] = h->prefix[0];
    if (t->ids[TOK_ID_EOS] < 0 && h->n_suffix) t->ids[TOK_ID_EOS] = h->suffix[h->n_suffix - 1];
    t->ids[TOK_ID_UNK] = h->unk;
    if (t->ids[TOK_ID_EOS] >= 0) t->eog[t->ids[TOK_ID_EOS]] = 1;
    for (const char *const *p = EOG_TEXTS_HF; *p; p++) {
        int32_t id = strmap_get(&t->tok2id, *p, strlen(*p));
        if (id >= 0 && h->is_added[id]) t->eog[id] = 1;
    }
    return 0;
}

static int from_doc(const char *what, const json_value *root, const json_value *cfg, wgpt_tokenizer **out, char *err,
                    size_t errlen) {
    ld L = {what, err, errlen};
    wgpt_tokenizer *t = NULL;
    if (build(&L, root, cfg, &t) < 0) {
        tokenizer_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

int tokenizer_from_hf(const char *tokenizer_json, size_t len, const char *tokenizer_config_json, size_t cfg_len,
                      wgpt_tokenizer **out, char *err, size_t errlen) {
    *out = NULL;
    json_doc *d = json_parse(tokenizer_json, len, "tokenizer.json", err, errlen);
    if (!d) return -1;
    json_doc *c = NULL;
    if (tokenizer_config_json && !(c = json_parse(tokenizer_config_json, cfg_len, "tokenizer_config.json", err, errlen))) {
        json_free(d);
        return -1;
    }
    int rc = from_doc("tokenizer.json", json_root(d), c ? json_root(c) : NULL, out, err, errlen);
    json_free(c);
    json_free(d);
    return rc;
}

/* GPT-2's files: vocab.json is model.vocab, merges.txt one merge a line
 * after a "#version" line; the rest is what GPT-2's tokenizer.json says
 * (ByteLevel pre-tokenizer and decoder, no post-processor). */
int tokenizer_from_gpt2_files(const char *vocab_json, size_t len, const char *merges_txt, size_t mlen,
                              wgpt_tokenizer **out, char *err, size_t errlen) {
    *out = NULL;
    json_doc *d = json_parse(vocab_json, len, "vocab.json", err, errlen);
    if (!d) return -1;
    json_buf b = {0};
    jbuf_puts(&b, "{\"model\":{\"type\":\"BPE\",\"vocab\":");
    json_write(&b, json_root(d), 0);
    jbuf_puts(&b, ",\"merges\":[");
    int first = 1;
    for (size_t i = 0; i < mlen;) {
        const char *nl = memchr(merges_txt + i, '\n', mlen - i);
        size_t e = nl ? (size_t)(nl - merges_txt) : mlen, l = e - i;
        const char *line = merges_txt + i;
        i = e + 1;
        if (l && line[l - 1] == '\r') l--;
        if (l == 0 || (l >= 8 && memcmp(line, "#version", 8) == 0)) continue;
        if (!first) jbuf_puts(&b, ",");
        first = 0;
        json_write_string(&b, line, l, 0);
    }
    jbuf_puts(&b, "]},\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true},"
                  "\"decoder\":{\"type\":\"ByteLevel\"},\"added_tokens\":[");
    /* <|endoftext|> is GPT-2's one special token (bos, eos and unk) */
    const json_value *eot = json_get(json_root(d), "<|endoftext|>");
    if (eot && eot->type == JSON_NUMBER && eot->is_int)
        jbuf_printf(&b, "{\"id\":%lld,\"content\":\"<|endoftext|>\",\"special\":true}", (long long)eot->i);
    jbuf_puts(&b, "]}");
    json_free(d);
    if (b.failed) {
        jbuf_free(&b);
        set_err(err, errlen, "vocab.json: out of memory");
        return -1;
    }
    static const char cfg[] = "{\"bos_token\":\"<|endoftext|>\",\"eos_token\":\"<|endoftext|>\"}";
    json_doc *t = json_parse(b.data, b.len, "vocab.json", err, errlen);
    jbuf_free(&b);
    if (!t) return -1;
    json_doc *c = json_parse(cfg, sizeof cfg - 1, "config", err, errlen);
    int rc = c ? from_doc("vocab.json/merges.txt", json_root(t), json_root(c), out, err, errlen) : -1;
    json_free(c);
    json_free(t);
    return rc;
}
