/* The tokenizer.json pipeline, as transformers.js runs it: added tokens
 * split the text first (longest match at each position, left to right);
 * each remaining section is normalized and pre-tokenized on its own; BPE
 * merges each piece by rank (ties: leftmost); the post-processor's tokens
 * go around the whole. Decoding works one token at a time. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "tokenizer/hf_internal.h"
#include "util/util.h"

/* ---- growable byte buffer and piece lists ---- */

typedef struct {
    char *p;
    size_t n, cap;
} hbuf;

static int hb_reserve(hbuf *b, size_t more) {
    if (b->n + more <= b->cap) return 0;
    size_t nc = (b->n + more) * 2 + 64;
    char *p = realloc(b->p, nc);
    if (!p) return -1;
    b->p = p;
    b->cap = nc;
    return 0;
}

static int hb_put(hbuf *b, const char *s, size_t n) {
    if (hb_reserve(b, n) < 0) return -1;
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    return 0;
}

typedef struct {
    hbuf text;
    span *v;
    size_t n, cap;
} plist;

static int pl_add(plist *l, const char *s, size_t n) {
    if (n == 0) return 0;
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        span *v = realloc(l->v, nc * sizeof *v);
        if (!v) return -1;
        l->v = v;
        l->cap = nc;
    }
    size_t off = l->text.n;
    if (hb_put(&l->text, s, n) < 0) return -1;
    l->v[l->n++] = (span){off, n};
    return 0;
}

static void pl_free(plist *l) {
    free(l->text.p);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static uint32_t cp_at(const char *s, size_t n, size_t *l) {
    const unsigned char *u = (const unsigned char *)s;
    size_t k = utf8_seq_len(u, n);
    if (k == 0) { *l = 1; return u[0]; }
    *l = k;
    if (k == 1) return u[0];
    if (k == 2) return (uint32_t)(u[0] & 0x1F) << 6 | (u[1] & 0x3F);
    if (k == 3) return (uint32_t)(u[0] & 0x0F) << 12 | (uint32_t)(u[1] & 0x3F) << 6 | (u[2] & 0x3F);
    return (uint32_t)(u[0] & 0x07) << 18 | (uint32_t)(u[1] & 0x3F) << 12 | (uint32_t)(u[2] & 0x3F) << 6 | (u[3] & 0x3F);
}

static size_t put_utf8(char *o, uint32_t c) {
    if (c < 0x80) { o[0] = (char)c; return 1; }
    if (c < 0x800) { o[0] = (char)(0xC0 | c >> 6); o[1] = (char)(0x80 | (c & 0x3F)); return 2; }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | c >> 12); o[1] = (char)(0x80 | ((c >> 6) & 0x3F)); o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | c >> 18); o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3F)); o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* ---- matching ---- */

#define RE_FAILED (-3) /* PCRE2 gave up (match or depth limit): the text is not silently cut */

/* The non-empty matches of a step's pattern (a literal, or a regex) in s,
 * left to right. After an empty match the search goes on one character
 * later, as JavaScript's matchAll does. */
static int find_matches(const hf_step *st, const char *s, size_t n, pcre2_match_data *md, spans *out) {
    out->n = 0;
    if (!st->re) {
        for (size_t pos = 0; pos + st->alen <= n;) {
            const char *m = memmem(s + pos, n - pos, st->a, st->alen);
            if (!m) break;
            size_t ms = (size_t)(m - s);
            if (spans_push(out, ms, st->alen) < 0) return -1;
            pos = ms + st->alen;
        }
        return 0;
    }
    for (size_t pos = 0; pos <= n;) {
        int rc = pcre2_match(st->re, (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK, md, NULL);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) return RE_FAILED;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t ms = ov[0], me = ov[1];
        if (me == ms) {
            if (ms >= n) break;
            size_t l;
            cp_at(s + ms, n - ms, &l);
            pos = ms + l;
            continue;
        }
        if (spans_push(out, ms, me - ms) < 0) return -1;
        pos = me;
    }
    return 0;
}

/* ---- normalizers ---- */

static int replace_all(const hf_step *st, const char *s, size_t n, pcre2_match_data *md, hbuf *o) {
    spans m = {0};
    int r = find_matches(st, s, n, md, &m);
    if (r < 0) { free(m.v); return r; }
    size_t last = 0;
    for (size_t i = 0; i < m.n; i++) {
        if (hb_put(o, s + last, m.v[i].off - last) < 0 || hb_put(o, st->b, st->blen) < 0) { free(m.v); return -1; }
        last = m.v[i].off + m.v[i].len;
    }
    free(m.v);
    return hb_put(o, s + last, n - last);
}

static int unicode_form(int kind, const char *s, size_t n, hbuf *o) {
    if (n == 0) return 0;
    utf8proc_option_t opt = UTF8PROC_STABLE;
    if (kind == HN_NFC || kind == HN_NFKC) opt |= UTF8PROC_COMPOSE;
    else opt |= UTF8PROC_DECOMPOSE;
    if (kind == HN_NFKC || kind == HN_NFKD) opt |= UTF8PROC_COMPAT;
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &dst, opt);
    if (r < 0) return -1;
    int rc = hb_put(o, (const char *)dst, (size_t)r);
    free(dst);
    return rc;
}

static int case_ignorable(uint32_t c) {
    utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);
    return k == UTF8PROC_CATEGORY_MN || k == UTF8PROC_CATEGORY_ME || k == UTF8PROC_CATEGORY_CF ||
           k == UTF8PROC_CATEGORY_LM || k == UTF8PROC_CATEGORY_SK || c == '\'' || c == '.' || c == ':' || c == 0x2019;
}

static int cased(uint32_t c) {
    utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);
    return k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LL || k == UTF8PROC_CATEGORY_LT;
}

/* Unicode's Final_Sigma: a cased letter before (past case-ignorables), none after. */
static int final_sigma(const char *s, size_t n, size_t at, size_t l) {
    int before = 0;
    for (size_t k = at; k > 0;) {
        size_t j = k - 1, cl;
        while (j > 0 && ((unsigned char)s[j] & 0xC0) == 0x80) j--;
        uint32_t c = cp_at(s + j, k - j, &cl);
        k = j;
        if (case_ignorable(c)) continue;
        before = cased(c);
        break;
    }
    if (!before) return 0;
    for (size_t k = at + l; k < n;) {
        size_t cl;
        uint32_t c = cp_at(s + k, n - k, &cl);
        k += cl;
        if (case_ignorable(c)) continue;
        return !cased(c);
    }
    return 1;
}

static int normalize_step(const hf_step *st, const char *s, size_t n, pcre2_match_data *md, hbuf *o) {
    switch (st->kind) {
    case HN_NFC: case HN_NFD: case HN_NFKC: case HN_NFKD:
        return unicode_form(st->kind, s, n, o);
    case HN_REPLACE:
        return replace_all(st, s, n, md, o);
    case HN_PREPEND:
        return hb_put(o, st->b, st->blen) < 0 ? -1 : hb_put(o, s, n);
    case HN_LOWERCASE:
    case HN_STRIP_ACCENTS:
        for (size_t i = 0; i < n;) {
            size_t l;
            uint32_t c = cp_at(s + i, n - i, &l);
            char u[4];
            if (st->kind == HN_LOWERCASE) {
                uint32_t lc = (uint32_t)utf8proc_tolower((utf8proc_int32_t)c);
                /* JavaScript's toLowerCase also applies SpecialCasing.txt's
                 * unconditional I-dot and conditional final sigma */
                if (c == 0x130) {
                    if (hb_put(o, "i\xcc\x87", 3) < 0) return -1;
                    i += l;
                    continue;
                }
                if (c == 0x3A3 && final_sigma(s, n, i, l)) lc = 0x3C2;
                if (hb_put(o, u, put_utf8(u, lc)) < 0) return -1;
            } else {
                utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)c);
                int mark = cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC || cat == UTF8PROC_CATEGORY_ME;
                if (!mark && hb_put(o, s + i, l) < 0) return -1;
            }
            i += l;
        }
        return 0;
    case HN_STRIP: {
        size_t a = 0, b = n, l;
        if (st->flag)
            while (a < b && hf_space(cp_at(s + a, b - a, &l))) a += l;
        if (st->flag2)
            while (b > a) {
                size_t k = b - 1;
                while (k > a && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
                if (!hf_space(cp_at(s + k, b - k, &l))) break;
                b = k;
            }
        return hb_put(o, s + a, b - a);
    }
    }
    return -1;
}

/* ---- pre-tokenizers ---- */

typedef struct {
    size_t off, len;
    int match;
} seg;

/* Splits s at the pattern's matches and joins the parts as the Rust
 * library's SplitDelimiterBehavior says. transformers.js treats every
 * behaviour but Removed as Isolated; the two agree on the files we test,
 * where the split is Isolated or its pattern no longer occurs. */
static int split_piece(const hf_step *st, int behavior, int invert, const char *s, size_t n, pcre2_match_data *md,
                       plist *out) {
    spans m = {0};
    seg *g = NULL;
    size_t ng = 0, last = 0;
    int rc = find_matches(st, s, n, md, &m);
    if (rc < 0) goto done;
    rc = -1;
    g = malloc((2 * m.n + 1) * sizeof *g);
    if (!g) goto done;
    for (size_t i = 0; i < m.n; i++) {
        if (m.v[i].off > last) g[ng++] = (seg){last, m.v[i].off - last, 0};
        g[ng++] = (seg){m.v[i].off, m.v[i].len, 1};
        last = m.v[i].off + m.v[i].len;
    }
    if (last < n) g[ng++] = (seg){last, n - last, 0};
    if (invert)
        for (size_t i = 0; i < ng; i++) g[i].match = !g[i].match;
    size_t k = 0; /* joined parts, in place */
    int prev = 0;
    switch (behavior) {
    case HB_REMOVED:
        for (size_t i = 0; i < ng; i++)
            if (!g[i].match) g[k++] = g[i];
        break;
    case HB_ISOLATED:
        k = ng;
        break;
    case HB_MERGED_PREV:
        for (size_t i = 0; i < ng; i++) {
            if (g[i].match && !prev && k > 0) g[k - 1].len = g[i].off + g[i].len - g[k - 1].off;
            else g[k++] = g[i];
            prev = g[i].match;
        }
        break;
    case HB_MERGED_NEXT:
        for (size_t i = ng; i-- > 0;) {
            /* built from the right; the kept parts sit at the end of g */
            if (g[i].match && !prev && k > 0) {
                seg *nx = &g[ng - k];
                nx->len = nx->off + nx->len - g[i].off;
                nx->off = g[i].off;
            } else {
                g[ng - 1 - k] = g[i];
                k++;
            }
            prev = g[i].match;
        }
        memmove(g, g + ng - k, k * sizeof *g);
        break;
    case HB_CONTIGUOUS:
        for (size_t i = 0; i < ng; i++) {
            if (g[i].match == prev && k > 0) g[k - 1].len = g[i].off + g[i].len - g[k - 1].off;
            else g[k++] = g[i];
            prev = g[i].match;
        }
        break;
    }
    rc = 0;
    for (size_t i = 0; i < k && rc == 0; i++) rc = pl_add(out, s + g[i].off, g[i].len);
done:
    free(m.v);
    free(g);
    return rc;
}

static int byte_level_map(const char *s, size_t n, plist *out) {
    char *tmp = malloc(n * 2 + 1);
    if (!tmp) return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) o += put_utf8(tmp + o, (uint32_t)bpe_byte_to_cp((unsigned char)s[i]));
    int rc = pl_add(out, tmp, o);
    free(tmp);
    return rc;
}

static int pretok_step(const hf_step *st, const char *s, size_t n, int section_index, pcre2_match_data *md, plist *out) {
    spans m = {0};
    int rc = -1;
    switch (st->kind) {
    case HP_MATCH:
        if ((rc = find_matches(st, s, n, md, &m)) < 0) break;
        for (size_t i = 0; i < m.n && rc == 0; i++) rc = pl_add(out, s + m.v[i].off, m.v[i].len);
        break;
    case HP_SPLIT:
        rc = split_piece(st, st->behavior, st->invert, s, n, md, out);
        break;
    case HP_BYTELEVEL: {
        char *p = NULL;
        if (st->flag && !(n > 0 && s[0] == ' ')) {
            if (!(p = malloc(n + 1))) break;
            p[0] = ' ';
            memcpy(p + 1, s, n);
            s = p;
            n++;
        }
        if (st->flag2) {
            if ((rc = find_matches(st, s, n, md, &m)) == 0) {
                for (size_t i = 0; i < m.n && rc == 0; i++) rc = byte_level_map(s + m.v[i].off, m.v[i].len, out);
            }
        } else {
            rc = byte_level_map(s, n, out);
        }
        free(p);
        break;
    }
    case HP_METASPACE: {
        const char *rep = st->blen ? st->b : st->a; /* str_rep, else the replacement */
        size_t rl = st->blen ? st->blen : st->alen;
        hbuf b = {0};
        int prepend = st->flag && (st->scheme == HS_ALWAYS || (st->scheme == HS_FIRST && section_index == 0));
        for (size_t i = 0; i < n; i++) {
            if (s[i] == ' ') { if (hb_put(&b, rep, rl) < 0) goto ms_done; }
            else if (hb_put(&b, s + i, 1) < 0) goto ms_done;
        }
        if (prepend && !(b.n >= st->alen && memcmp(b.p, st->a, st->alen) == 0)) {
            if (hb_reserve(&b, rl) < 0) goto ms_done;
            memmove(b.p + rl, b.p, b.n);
            memcpy(b.p, rep, rl);
            b.n += rl;
        }
        /* the Rust library splits before each replacement (split: true);
         * transformers.js keeps the piece whole */
        if (st->flag2) {
            hf_step lit = {.kind = HP_SPLIT, .a = st->a, .alen = st->alen};
            rc = split_piece(&lit, HB_MERGED_NEXT, 0, b.p ? b.p : "", b.n, md, out);
        } else {
            rc = pl_add(out, b.p, b.n);
        }
    ms_done:
        free(b.p);
        break;
    }
    }
    free(m.v);
    return rc;
}

/* ---- the BPE model ---- */

typedef bpe_sym sym;

typedef struct {
    const hf_tok *h;
    const char *w;
    sym *s;
    tok_bigram_heap heap;
    char *key;
    size_t key_cap;
} bpe_state;

static int add_pair(bpe_state *B, int left, int right) {
    if (left < 0 || right < 0) return 0;
    const sym *l = &B->s[left], *r = &B->s[right];
    return bpe_push_ranked(&B->heap, &B->h->ranks, B->w + l->off, l->n, B->w + r->off, r->n, left, right, &B->key,
                           &B->key_cap);
}

/* -2: no token for a piece and no unknown token */
static int emit_piece(const wgpt_tokenizer *t, const char *s, size_t n, ivec *out) {
    const hf_tok *h = t->hf;
    int32_t id = strmap_get(&t->tok2id, s, n);
    if (id >= 0) return ivec_push(out, id);
    if (h->byte_fallback) {
        size_t i = 0;
        while (i < n && h->byte_ids[(unsigned char)s[i]] >= 0) i++;
        if (i == n) {
            for (i = 0; i < n; i++)
                if (ivec_push(out, h->byte_ids[(unsigned char)s[i]]) < 0) return -1;
            return 0;
        }
    }
    if (h->unk < 0) return -2;
    return ivec_push(out, h->unk);
}

/* The float keys hold ranks exactly: the largest merge lists are ~500k < 2^24. */
static int bpe_word(const wgpt_tokenizer *t, bpe_state *B, const char *w, size_t n, ivec *out) {
    const hf_tok *h = t->hf;
    if (n == 0) return 0;
    if (h->ignore_merges && strmap_get(&t->tok2id, w, n) >= 0) return emit_piece(t, w, n, out);
    sym *s = malloc(n * sizeof *s);
    if (!s) return -1;
    int ns = 0;
    for (size_t o = 0; o < n;) {
        size_t l;
        cp_at(w + o, n - o, &l);
        s[ns] = (sym){o, l, ns - 1, o + l == n ? -1 : ns + 1};
        o += l;
        ns++;
    }
    B->w = w;
    B->s = s;
    B->heap.n = 0;
    int rc = 0;
    for (int i = 1; i < ns && rc == 0; i++) rc = add_pair(B, i - 1, i);
    while (rc == 0 && B->heap.n) {
        tok_bigram b = bigram_pop(&B->heap);
        sym *l = &s[b.left], *r = &s[b.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.size || l->next != b.right) continue; /* stale */
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) s[r->next].prev = b.left;
        rc = add_pair(B, l->prev, b.left);
        if (rc == 0) rc = add_pair(B, b.left, l->next);
    }
    for (int i = 0; rc == 0 && i != -1; i = s[i].next) rc = emit_piece(t, w + s[i].off, s[i].n, out);
    free(s);
    return rc;
}

/* ---- encode ---- */

typedef struct {
    int32_t added; /* index into hf->added, -1 for text */
    size_t off, len;
} section;

int hf_encode(const wgpt_tokenizer *t, const char *text, size_t len, int add_special, int parse_special, ivec *out,
              char *err, size_t errlen) {
    const hf_tok *h = t->hf;
    section *sec = NULL;
    size_t nsec = 0, cap = 0, start = 0;
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    bpe_state B = {.h = h};
    hbuf nb[2];
    plist pl[2];
    memset(nb, 0, sizeof nb);
    memset(pl, 0, sizeof pl);
    int rc = -1;
    size_t text_start = 0;
    char *own = NULL;
    if (!md) goto oom;
    if (add_special)
        for (size_t i = 0; i < h->n_prefix; i++)
            if (ivec_push(out, h->prefix[i]) < 0) goto oom;
    text_start = out->n;
    if (h->llama_nonlegacy && len > 0) {
        /* LlamaTokenizer (legacy: false) in transformers.js: the text's own
         * U+2581 become spaces and one U+2581 goes in front */
        if (!(own = malloc(len + 3))) goto oom;
        memcpy(own, "\xe2\x96\x81", 3);
        size_t o = 3;
        for (size_t i = 0; i < len;) {
            if (len - i >= 3 && memcmp(text + i, "\xe2\x96\x81", 3) == 0) { own[o++] = ' '; i += 3; }
            else own[o++] = text[i++];
        }
        text = own;
        len = o;
    }

    /* added tokens: the longest at each position (transformers.js's
     * DictionarySplitter); special ones only when parse_special */
    for (size_t i = 0; i < len;) {
        int32_t best = -1;
        size_t best_len = 0;
        uint32_t node = 0;
        for (size_t j = i; j < len; j++) {
            int c = hf_trie_child(h, node, (unsigned char)text[j]);
            if (c < 0) break;
            node = (uint32_t)c;
            int32_t a = h->node_tok[node];
            if (a >= 0 && (parse_special || !(h->added_flags[a] & AF_SPECIAL))) { best = a; best_len = j + 1 - i; }
        }
        if (best < 0) {
            size_t l;
            cp_at(text + i, len - i, &l);
            i += l;
            continue;
        }
        if (nsec + 2 > cap) {
            cap = cap ? cap * 2 : 16;
            section *v = realloc(sec, cap * sizeof *v);
            if (!v) goto oom;
            sec = v;
        }
        if (i > start) sec[nsec++] = (section){-1, start, i - start};
        sec[nsec++] = (section){best, i, best_len};
        i += best_len;
        start = i;
    }
    if (start < len || nsec == 0) {
        if (nsec + 1 > cap) {
            section *v = realloc(sec, (cap + 1) * sizeof *v);
            if (!v) goto oom;
            sec = v;
        }
        sec[nsec++] = (section){-1, start, len - start};
    }
    /* lstrip / rstrip take whitespace (hf_space) off the neighbouring text */
    for (size_t i = 0; i < nsec; i++) {
        if (sec[i].added < 0) continue;
        uint8_t f = h->added_flags[sec[i].added];
        if ((f & AF_LSTRIP) && i > 0 && sec[i - 1].added < 0) {
            section *p = &sec[i - 1];
            size_t l;
            while (p->len > 0) {
                size_t k = p->off + p->len - 1;
                while (k > p->off && ((unsigned char)text[k] & 0xC0) == 0x80) k--;
                if (!hf_space(cp_at(text + k, p->off + p->len - k, &l))) break;
                p->len = k - p->off;
            }
        }
        if ((f & AF_RSTRIP) && i + 1 < nsec && sec[i + 1].added < 0) {
            section *q = &sec[i + 1];
            size_t l;
            while (q->len > 0 && hf_space(cp_at(text + q->off, q->len, &l))) { q->off += l; q->len -= l; }
        }
    }

    for (size_t si = 0; si < nsec; si++) {
        if (sec[si].added >= 0) {
            if (ivec_push(out, h->added[sec[si].added]) < 0) goto oom;
            continue;
        }
        if (sec[si].len == 0) continue;
        /* normalizers, one after another */
        const char *s = text + sec[si].off;
        size_t n = sec[si].len;
        int cur = 0;
        for (size_t k = 0; k < h->norm.n; k++) {
            nb[cur].n = 0;
            int r = normalize_step(&h->norm.v[k], s, n, md, &nb[cur]);
            if (r == RE_FAILED) goto re_failed;
            if (r < 0) goto oom;
            s = nb[cur].p ? nb[cur].p : "";
            n = nb[cur].n;
            cur ^= 1;
        }
        if (n == 0) continue;
        /* pre-tokenizers, each on every piece of the one before */
        pl[0].n = pl[0].text.n = 0;
        if (pl_add(&pl[0], s, n) < 0) goto oom;
        int c = 0;
        for (size_t k = 0; k < h->pre.n; k++) {
            plist *src = &pl[c], *dst = &pl[c ^ 1];
            dst->n = dst->text.n = 0;
            for (size_t p = 0; p < src->n; p++) {
                int r = pretok_step(&h->pre.v[k], src->text.p + src->v[p].off, src->v[p].len, (int)si, md, dst);
                if (r == RE_FAILED) goto re_failed;
                if (r < 0) goto oom;
            }
            c ^= 1;
        }
        size_t first = out->n;
        for (size_t p = 0; p < pl[c].n; p++) {
            int r = bpe_word(t, &B, pl[c].text.p + pl[c].v[p].off, pl[c].v[p].len, out);
            if (r == -2) {
                set_err(err, errlen, "tokenizer: no token for part of the text and no unk_token");
                goto done;
            }
            if (r < 0) goto oom;
        }
        if (h->fuse_unk && h->unk >= 0) {
            size_t k = first;
            for (size_t i = first; i < out->n; i++)
                if (!(out->v[i] == h->unk && k > first && out->v[k - 1] == h->unk)) out->v[k++] = out->v[i];
            out->n = k;
        }
    }
    /* ... and a lone U+2581 before a special token is dropped again */
    if (own && out->n - text_start > 1 && out->v[text_start] == h->spm_space && h->spm_space >= 0 &&
        h->is_special[out->v[text_start + 1]]) {
        memmove(out->v + text_start, out->v + text_start + 1, (out->n - text_start - 1) * sizeof *out->v);
        out->n--;
    }
    if (add_special)
        for (size_t i = 0; i < h->n_suffix; i++)
            if (ivec_push(out, h->suffix[i]) < 0) goto oom;
    rc = 0;
    goto done;
oom:
    set_err(err, errlen, "tokenizer: out of memory");
    goto done;
re_failed:
    set_err(err, errlen, "tokenizer: a tokenizer.json regex gave up on this text (PCRE2's match limit)");
done:
    free(own);
    pcre2_match_data_free(md);
    free(sec);
    free(B.heap.v);
    free(B.key);
    free(nb[0].p);
    free(nb[1].p);
    pl_free(&pl[0]);
    pl_free(&pl[1]);
    return rc;
}

/* ---- decode ---- */

static int hexv(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int hf_token_to_piece(const wgpt_tokenizer *t, int32_t id, char *buf, size_t buflen) {
    const hf_tok *h = t->hf;
    if (!h->present[id]) return 0;
    hbuf b[2];
    memset(b, 0, sizeof b);
    int cur = 0, rc = -1;
    pcre2_match_data *md = NULL;
    if (hb_put(&b[0], tok_text(t, id), t->len[id]) < 0) goto done;
    for (size_t k = 0; k < h->dec.n; k++) {
        const hf_step *st = &h->dec.v[k];
        const char *s = b[cur].p;
        size_t n = b[cur].n;
        hbuf *o = &b[cur ^ 1];
        o->n = 0;
        switch (st->kind) {
        case HD_BYTELEVEL:
            if (h->is_added[id]) { if (hb_put(o, s, n) < 0) goto done; break; } /* added tokens are plain text */
            if (hb_reserve(o, n) < 0) goto done;
            o->n = bpe_decode_text(s, n, o->p, o->cap);
            break;
        case HD_REPLACE:
            if (st->re && !md && !(md = pcre2_match_data_create(1, NULL))) goto done;
            if (replace_all(st, s, n, md, o) < 0) goto done;
            break;
        case HD_METASPACE: {
            hf_step lit = {.kind = HD_REPLACE, .a = st->a, .alen = st->alen, .b = " ", .blen = 1};
            if (replace_all(&lit, s, n, NULL, o) < 0) goto done;
            break;
        }
        case HD_BYTEFALLBACK:
            if (n == 6 && memcmp(s, "<0x", 3) == 0 && s[5] == '>' && hexv(s[3]) >= 0 && hexv(s[4]) >= 0) {
                char c = (char)(hexv(s[3]) * 16 + hexv(s[4]));
                if (hb_put(o, &c, 1) < 0) goto done;
            } else if (hb_put(o, s, n) < 0) {
                goto done;
            }
            break;
        case HD_STRIP: {
            size_t a = 0, e = n;
            for (int i = 0; i < st->start && e - a >= st->alen && memcmp(s + a, st->a, st->alen) == 0; i++) a += st->alen;
            for (int i = 0; i < st->stop && e - a >= st->alen && memcmp(s + e - st->alen, st->a, st->alen) == 0; i++)
                e -= st->alen;
            if (hb_put(o, s + a, e - a) < 0) goto done;
            break;
        }
        }
        cur ^= 1;
    }
    if (buf && buflen) memcpy(buf, b[cur].p ? b[cur].p : "", b[cur].n < buflen ? b[cur].n : buflen);
    rc = b[cur].n > INT32_MAX ? INT32_MAX : (int)b[cur].n;
done:
    pcre2_match_data_free(md);
    free(b[0].p);
    free(b[1].p);
    return rc;
}
