/* Untrusted bytes made safe for a terminal or a log. Everything that comes
 * from a model file, a request or a user and is printed goes through here:
 * a name in a GGUF header or a URL in a request must not be able to clear
 * the screen, retitle the terminal or forge log lines. */
#ifndef WGPT_TEXT_H
#define WGPT_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* Writes src[0..len) into dst as printable text: valid UTF-8 is kept,
 * except control characters (C0, DEL, C1) and the bidirectional overrides,
 * which become \n, \t, \r, \\ or \xNN / \u{NNNN}; invalid UTF-8 bytes
 * become \xNN. At most max_src source bytes are shown (0: no cap); the rest
 * is replaced by "...(N more bytes)". dst is always NUL-terminated and cut
 * at a character boundary when cap is too small. Returns strlen(dst). */
size_t text_escape(char *dst, size_t cap, const char *src, size_t len, size_t max_src);

/* The same into one of a few rotating thread-local buffers (each 600
 * bytes, at most 200 source bytes shown), for use inside one printf call:
 * printf("%s %s", text_show(a, la), text_show(b, lb)) is fine; a pointer
 * must not be kept past four more calls. src may be NULL (shown as ""). */
const char *text_show(const char *src, size_t len);
const char *text_show_z(const char *src);

/* Streaming form for generated text, which arrives a token at a time and
 * may split a UTF-8 character across tokens: newlines and tabs pass, every
 * other control character and invalid byte is escaped as above. */
typedef struct {
    unsigned char pend[4];
    int npend;
    int raw;        /* 1: pass bytes through untouched (--raw) */
} text_stream;
/* Returns 0, or -1 if writing to f failed. */
int text_stream_write(text_stream *s, FILE *f, const char *p, size_t n);
int text_stream_flush(text_stream *s, FILE *f);

#endif
