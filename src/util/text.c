#include "util/text.h"

#include <stdint.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if p[0..n) does not
 * start with one; *cp gets the code point. *incomplete is set when the bytes
 * so far are a valid prefix cut short by the end of the buffer. */
static int utf8_seq(const unsigned char *p, size_t n, uint32_t *cp, int *incomplete) {
    *incomplete = 0;
    unsigned char c = p[0];
    int len;
    uint32_t v, min;
    if (c < 0x80) { *cp = c; return 1; }
    if (c >= 0xC2 && c <= 0xDF) { len = 2; v = c & 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; v = c & 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; v = c & 0x07; min = 0x10000; }
    else return 0;
    for (int i = 1; i < len; i++) {
        if ((size_t)i >= n) { *incomplete = 1; return 0; }
        if ((p[i] & 0xC0) != 0x80) return 0;
        v = v << 6 | (p[i] & 0x3F);
        /* Reject overlong forms and surrogates as soon as the second byte shows them. */
        if (i == 1) {
            if (c == 0xE0 && p[1] < 0xA0) return 0;
            if (c == 0xED && p[1] > 0x9F) return 0;
            if (c == 0xF0 && p[1] < 0x90) return 0;
            if (c == 0xF4 && p[1] > 0x8F) return 0;
        }
    }
    if (v < min || v > 0x10FFFF) return 0;
    *cp = v;
    return len;
}

/* Code points a terminal acts on rather than shows. */
static int is_control(uint32_t cp) {
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F || cp == 0x061C;
}

/* The escaped form of one code point or byte into out (at most 11 bytes). */
static size_t escape_one(char *out, uint32_t cp, int is_byte) {
    static const char hex[] = "0123456789abcdef";
    if (!is_byte) {
        switch (cp) {
        case '\n': memcpy(out, "\\n", 2); return 2;
        case '\t': memcpy(out, "\\t", 2); return 2;
        case '\r': memcpy(out, "\\r", 2); return 2;
        default: break;
        }
    }
    if (is_byte || cp < 0x100) {
        out[0] = '\\'; out[1] = 'x'; out[2] = hex[(cp >> 4) & 15]; out[3] = hex[cp & 15];
        return 4;
    }
    int k = 0;
    out[k++] = '\\'; out[k++] = 'u'; out[k++] = '{';
    for (int sh = 12; sh >= 0; sh -= 4) out[k++] = hex[(cp >> sh) & 15];
    out[k++] = '}';
    return (size_t)k;
}

/* One source character at p[0..n) as printable text into piece; returns
 * the source bytes it used. */
static int escape_char(const unsigned char *p, size_t n, char *piece, size_t *plen) {
    uint32_t cp;
    int inc;
    int sl = utf8_seq(p, n, &cp, &inc);
    if (sl == 0) { *plen = escape_one(piece, p[0], 1); return 1; }
    if (p[0] == '\\') { memcpy(piece, "\\\\", 2); *plen = 2; }
    else if (is_control(cp)) *plen = escape_one(piece, cp, 0);
    else { memcpy(piece, p, (size_t)sl); *plen = (size_t)sl; }
    return sl;
}

size_t text_escape(char *dst, size_t cap, const char *src, size_t len, size_t max_src) {
    if (!dst || cap == 0) return 0;
    const unsigned char *p = (const unsigned char *)(src ? src : "");
    if (!src) len = 0;
    size_t shown = max_src && len > max_src ? max_src : len;
    char piece[12];
    size_t plen, total = 0;
    for (size_t i = 0; i < shown;) {
        i += (size_t)escape_char(p + i, shown - i, piece, &plen);
        total += plen;
    }
    /* Everything fits: no marker. Otherwise keep room for one. */
    size_t budget = cap - 1;
    int cut = shown < len || total > budget;
    if (cut) budget = budget > 40 ? budget - 40 : 0;
    size_t n = 0, i = 0;
    while (i < shown) {
        int sl = escape_char(p + i, shown - i, piece, &plen);
        if (n + plen > budget) break;
        memcpy(dst + n, piece, plen);
        n += plen;
        i += (size_t)sl;
    }
    if (cut && i < len) {
        char tail[48];
        int tl = snprintf(tail, sizeof tail, "...(%zu more bytes)", len - i);
        if (tl > 0 && n + (size_t)tl <= cap - 1) { memcpy(dst + n, tail, (size_t)tl); n += (size_t)tl; }
    }
    dst[n] = 0;
    return n;
}

const char *text_show(const char *src, size_t len) {
    static _Thread_local char bufs[4][600];
    static _Thread_local unsigned k;
    char *b = bufs[k++ & 3];
    text_escape(b, sizeof bufs[0], src, len, 200);
    return b;
}

const char *text_show_z(const char *src) { return text_show(src, src ? strlen(src) : 0); }

static int put(FILE *f, const void *p, size_t n) { return fwrite(p, 1, n, f) == n ? 0 : -1; }

int text_stream_write(text_stream *s, FILE *f, const char *src, size_t n) {
    if (s->raw) return put(f, src, n);
    const unsigned char *p = (const unsigned char *)src;
    int rc = 0;
    size_t i = 0;
    while (i < n || s->npend) {
        unsigned char buf[8];
        size_t bl = 0;
        /* A character held back from the last piece is completed first. */
        for (int k = 0; k < s->npend; k++) buf[bl++] = s->pend[k];
        size_t from_src = 0;
        while (bl < 4 && i + from_src < n) buf[bl++] = p[i + from_src++];
        if (bl == 0) break;
        uint32_t cp;
        int inc;
        int sl = utf8_seq(buf, bl, &cp, &inc);
        if (sl == 0 && inc && i + from_src >= n) {
            /* Cut at the end of this piece: keep it for the next one. */
            memcpy(s->pend, buf, bl);
            s->npend = (int)bl;
            return rc;
        }
        char out[12];
        size_t ol;
        int used;
        if (sl == 0) { ol = escape_one(out, buf[0], 1); used = 1; }
        else if (cp == '\n' || cp == '\t' || !is_control(cp)) { memcpy(out, buf, (size_t)sl); ol = (size_t)sl; used = sl; }
        else { ol = escape_one(out, cp, 0); used = sl; }
        if (put(f, out, ol)) rc = -1;
        /* Consume `used` bytes: pending ones first, then the source's. */
        if (used <= s->npend) {
            memmove(s->pend, s->pend + used, (size_t)(s->npend - used));
            s->npend -= used;
        } else {
            i += (size_t)(used - s->npend);
            s->npend = 0;
        }
    }
    return rc;
}

int text_stream_flush(text_stream *s, FILE *f) {
    int rc = 0;
    for (int k = 0; k < s->npend; k++) {
        char out[12];
        size_t ol = escape_one(out, s->pend[k], 1);
        if (put(f, out, ol)) rc = -1;
    }
    s->npend = 0;
    return rc;
}
