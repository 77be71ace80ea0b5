/* Jinja for chat templates: lexer, parser to an AST, tree-walking
 * evaluator. Errors unwind with longjmp: every allocation of a parse or a
 * render is in that parse's or render's arena, so nothing leaks when one
 * is abandoned halfway. */
#include "template/jinja.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <utf8proc.h>

/* ------------------------------------------------------------------ arena */

typedef struct ablock {
    struct ablock *next;
    size_t used, cap;
    max_align_t data[];
} ablock;

typedef struct {
    ablock *head;
    size_t total, limit;
} arena;

static void arena_free(arena *a) {
    for (ablock *b = a->head, *n; b; b = n) { n = b->next; free(b); }
    a->head = NULL;
    a->total = 0;
}

/* NULL when the limit would be passed or malloc fails. */
static void *arena_try(arena *a, size_t n) {
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (n == 0) n = sizeof(max_align_t);
    ablock *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        if (a->total + cap > a->limit || a->total + cap < a->total) return NULL;
        b = malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->cap = cap;
        b->used = 0;
        b->next = a->head;
        a->head = b;
        a->total += cap;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    return p;
}

/* ----------------------------------------------------------------- errors */

typedef struct {
    jmp_buf jb;
    char msg[512];
    arena *ar;
} failer;

__attribute__((noreturn, format(printf, 3, 4))) static void fail(failer *f, int line, const char *fmt, ...) {
    char m[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    for (char *p = m; *p; p++) if (*p == '\n' || *p == '\r') *p = ' ';
    if (line > 0) snprintf(f->msg, sizeof f->msg, "line %d: %s", line, m);
    else snprintf(f->msg, sizeof f->msg, "%s", m);
    longjmp(f->jb, 1);
}

static void *xalloc(failer *f, size_t n) {
    void *p = arena_try(f->ar, n);
    if (!p) fail(f, 0, "template needs more than %zu MiB of memory", f->ar->limit >> 20);
    return p;
}

static void *xcalloc(failer *f, size_t n, size_t size) {
    if (size && n > SIZE_MAX / size) fail(f, 0, "template needs too much memory");
    void *p = xalloc(f, n * size);
    memset(p, 0, n * size);
    return p;
}

/* Printable (and short) text of a name from the template, for messages. */
static const char *show(char *buf, size_t cap, const char *p, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c < 0x7f) buf[o++] = (char)c;
        else o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
    }
    if (o >= cap) o = cap - 1;
    buf[o] = 0;
    return buf;
}

/* ----------------------------------------------------------------- values */

typedef enum {
    V_UNDEF, V_NONE, V_BOOL, V_INT, V_FLOAT, V_STR, V_LIST, V_DICT, V_MACRO, V_LOOP, V_FUNC,
} vtype;

typedef struct jlist jlist;
typedef struct jdict jdict;
typedef struct jmacro jmacro;
typedef struct jloop jloop;

typedef struct {
    vtype t;
    union {
        int b;
        int64_t i;
        double f;
        struct { const char *p; size_t n; } s;
        jlist *l;
        jdict *d;
        jmacro *m;
        jloop *loop;
        int fn;               /* a global function: index in global_names */
    } u;
} jv;

struct jlist { jv *v; size_t n, cap; };
struct jdict {
    const char **kp;
    size_t *kn;
    jv *v;
    size_t n, cap;
    int is_ns;                /* a namespace(): attributes may be set */
};
struct jloop { const jv *items; size_t n, i; };

static jv mk_undef(void) { jv v; memset(&v, 0, sizeof v); v.t = V_UNDEF; return v; }
static jv mk_none(void) { jv v = mk_undef(); v.t = V_NONE; return v; }
static jv mk_bool(int b) { jv v = mk_undef(); v.t = V_BOOL; v.u.b = !!b; return v; }
static jv mk_int(int64_t i) { jv v = mk_undef(); v.t = V_INT; v.u.i = i; return v; }
static jv mk_float(double f) { jv v = mk_undef(); v.t = V_FLOAT; v.u.f = f; return v; }
static jv mk_str(const char *p, size_t n) { jv v = mk_undef(); v.t = V_STR; v.u.s.p = p; v.u.s.n = n; return v; }

/* ------------------------------------------------------------------ lexer */

enum { T_TEXT, T_EXPR_OPEN, T_EXPR_CLOSE, T_STMT_OPEN, T_STMT_CLOSE, T_NAME, T_STR, T_INT, T_FLOAT, T_OP, T_EOF };

typedef struct {
    int type, line;
    const char *p;   /* text, name, decoded string, operator */
    size_t n;
    int64_t i;
    double f;
} token;

typedef struct {
    failer *f;
    token *t;
    size_t n, cap;
} toklist;

static void push_tok(toklist *tl, token t) {
    if (tl->n == tl->cap) {
        size_t cap = tl->cap ? tl->cap * 2 : 256;
        token *nt = xalloc(tl->f, cap * sizeof *nt);
        if (tl->n) memcpy(nt, tl->t, tl->n * sizeof *nt);
        tl->t = nt;
        tl->cap = cap;
    }
    tl->t[tl->n++] = t;
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
static int is_word(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int count_lines(const char *p, size_t n) {
    int k = 0;
    for (size_t i = 0; i < n; i++) k += p[i] == '\n';
    return k;
}

static void utf8_put(char *out, size_t *o, uint32_t cp) {
    if (cp < 0x80) out[(*o)++] = (char)cp;
    else if (cp < 0x800) { out[(*o)++] = (char)(0xc0 | cp >> 6); out[(*o)++] = (char)(0x80 | (cp & 63)); }
    else if (cp < 0x10000) {
        out[(*o)++] = (char)(0xe0 | cp >> 12);
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 63));
        out[(*o)++] = (char)(0x80 | (cp & 63));
    } else {
        out[(*o)++] = (char)(0xf0 | cp >> 18);
        out[(*o)++] = (char)(0x80 | ((cp >> 12) & 63));
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 63));
        out[(*o)++] = (char)(0x80 | (cp & 63));
    }
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Tokens of the tags' insides, from s[*pos] up to the tag's close. */
static void lex_tag(toklist *tl, const char *s, size_t n, size_t *pos, int *line, int is_stmt) {
    size_t i = *pos;
    int depth = 0; /* braces of dict literals: "}}" inside one is two braces */
    int open_line = *line;
    for (;;) {
        while (i < n && is_ws(s[i])) { if (s[i] == '\n') (*line)++; i++; }
        if (i >= n) fail(tl->f, open_line, "unterminated %s", is_stmt ? "{% tag" : "{{ expression");
        token t = {0};
        t.line = *line;
        char c = s[i];
        if (c == '-' && i + 2 < n && ((s[i + 1] == '%' && s[i + 2] == '}') || (s[i + 1] == '}' && s[i + 2] == '}' && !depth))) {
            if ((s[i + 1] == '%') != is_stmt) fail(tl->f, *line, "'%c%c%c' closes a tag it did not open", s[i], s[i + 1], s[i + 2]);
            t.type = is_stmt ? T_STMT_CLOSE : T_EXPR_CLOSE;
            t.i = 1; /* strip what follows */
            push_tok(tl, t);
            *pos = i + 3;
            return;
        }
        if ((c == '%' && i + 1 < n && s[i + 1] == '}' && is_stmt) || (c == '}' && i + 1 < n && s[i + 1] == '}' && !depth && !is_stmt)) {
            t.type = is_stmt ? T_STMT_CLOSE : T_EXPR_CLOSE;
            push_tok(tl, t);
            *pos = i + 2;
            return;
        }
        if (c == '}' && i + 1 < n && s[i + 1] == '}' && !depth && is_stmt)
            fail(tl->f, *line, "'}}' inside a {%% tag");
        if (c == '%' && i + 1 < n && s[i + 1] == '}' && !is_stmt) fail(tl->f, *line, "'%%}' inside a {{ expression");
        if (c == '\'' || c == '"') {
            size_t j = i + 1;
            char *out = xalloc(tl->f, n - i + 1), q = c;
            size_t o = 0;
            int l0 = *line;
            for (;;) {
                if (j >= n) fail(tl->f, l0, "unterminated string literal");
                char d = s[j];
                if (d == q) break;
                if (d == '\n') (*line)++;
                if (d == '\\' && j + 1 < n) {
                    char e = s[j + 1];
                    j += 2;
                    switch (e) {
                    case 'n': out[o++] = '\n'; break;
                    case 't': out[o++] = '\t'; break;
                    case 'r': out[o++] = '\r'; break;
                    case 'b': out[o++] = '\b'; break;
                    case 'f': out[o++] = '\f'; break;
                    case 'v': out[o++] = '\v'; break;
                    case '0': out[o++] = 0; break;
                    case '\\': case '\'': case '"': out[o++] = e; break;
                    case '\n': (*line)++; break; /* a continued line */
                    case 'x': case 'u': case 'U': {
                        int len = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                        uint32_t cp = 0;
                        for (int k = 0; k < len; k++) {
                            int h = j + (size_t)k < n ? hexval(s[j + (size_t)k]) : -1;
                            if (h < 0) fail(tl->f, *line, "bad \\%c escape in a string literal", e);
                            cp = cp * 16 + (uint32_t)h;
                        }
                        j += (size_t)len;
                        if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
                            fail(tl->f, *line, "\\%c escape of an invalid code point", e);
                        utf8_put(out, &o, cp);
                        break;
                    }
                    default: out[o++] = '\\'; out[o++] = e; break; /* Python keeps unknown escapes */
                    }
                    continue;
                }
                out[o++] = d;
                j++;
            }
            out[o] = 0;
            t.type = T_STR;
            t.p = out;
            t.n = o;
            push_tok(tl, t);
            i = j + 1;
            continue;
        }
        if (is_digit(c)) {
            size_t j = i;
            int64_t v = 0;
            int over = 0;
            while (j < n && (is_digit(s[j]) || (s[j] == '_' && j + 1 < n && is_digit(s[j + 1])))) {
                if (s[j] != '_') {
                    if (v > (INT64_MAX - (s[j] - '0')) / 10) over = 1;
                    else v = v * 10 + (s[j] - '0');
                }
                j++;
            }
            int isf = 0;
            if (j + 1 < n && s[j] == '.' && is_digit(s[j + 1]) && !(tl->n && tl->t[tl->n - 1].type == T_OP &&
                                                                    tl->t[tl->n - 1].p[0] == '.')) {
                isf = 1;
                j++;
                while (j < n && is_digit(s[j])) j++;
            }
            if (j < n && (s[j] == 'e' || s[j] == 'E')) {
                size_t k = j + 1;
                if (k < n && (s[k] == '+' || s[k] == '-')) k++;
                if (k < n && is_digit(s[k])) {
                    isf = 1;
                    j = k;
                    while (j < n && is_digit(s[j])) j++;
                }
            }
            if (isf || over) {
                char buf[64];
                size_t m = 0;
                for (size_t k = i; k < j && m + 1 < sizeof buf; k++) if (s[k] != '_') buf[m++] = s[k];
                buf[m] = 0;
                t.type = T_FLOAT;
                t.f = strtod(buf, NULL);
                if (!isfinite(t.f)) fail(tl->f, *line, "number out of range");
            } else {
                t.type = T_INT;
                t.i = v;
            }
            push_tok(tl, t);
            i = j;
            continue;
        }
        if (is_word(c)) {
            size_t j = i;
            while (j < n && is_word(s[j])) j++;
            t.type = T_NAME;
            t.p = s + i;
            t.n = j - i;
            push_tok(tl, t);
            i = j;
            continue;
        }
        static const char *const ops2[] = {"**", "//", "==", "!=", "<=", ">="};
        t.type = T_OP;
        t.p = s + i;
        t.n = 0;
        for (size_t k = 0; k < sizeof ops2 / sizeof *ops2; k++)
            if (i + 1 < n && s[i] == ops2[k][0] && s[i + 1] == ops2[k][1]) t.n = 2;
        if (!t.n) {
            if (!strchr("()[]{},.:|+-*/%~<>=", c) || c == 0) {
                char b[16];
                fail(tl->f, *line, "unexpected character '%s' in a tag", show(b, sizeof b, s + i, 1));
            }
            t.n = 1;
            if (c == '{') depth++;
            if (c == '}') depth--;
        }
        push_tok(tl, t);
        i += t.n;
    }
}

/* Whitespace control as @huggingface/jinja applies it (which is what
 * transformers' trim_blocks=True, lstrip_blocks=True give): a newline right
 * after %} or #} goes, spaces and tabs from the start of a line up to {% or
 * {# go, "-" inside a tag strips all whitespace on its side, and one
 * trailing newline of the source goes. */
static void lex(toklist *tl, const char *s, size_t n) {
    if (n && s[n - 1] == '\n') n--;
    size_t i = 0;
    int line = 1, strip_next = 0;
    while (i < n) {
        size_t start = i;
        while (i < n && !(s[i] == '{' && i + 1 < n && (s[i + 1] == '{' || s[i + 1] == '%' || s[i + 1] == '#'))) i++;
        /* text s[start..i) */
        size_t a = start, b = i;
        if (strip_next) while (a < b && is_ws(s[a])) a++;
        int opener_strip = i + 2 < n && s[i + 2] == '-' ;
        if (i < n && opener_strip) {
            while (b > a && is_ws(s[b - 1])) b--;
        } else if (i < n && (s[i + 1] == '%' || s[i + 1] == '#')) {
            /* lstrip_blocks: only blanks between the line's start and the tag */
            size_t k = i;
            while (k > start && (s[k - 1] == ' ' || s[k - 1] == '\t')) k--;
            if (k == 0 || s[k - 1] == '\n' || s[k - 1] == '\r') b = k < a ? a : k;
        }
        if (b > a) {
            token t = {0};
            t.type = T_TEXT;
            t.line = line + count_lines(s + start, a - start);
            t.p = s + a;
            t.n = b - a;
            push_tok(tl, t);
        }
        line += count_lines(s + start, i - start);
        strip_next = 0;
        if (i >= n) break;
        int tag_line = line;
        char kind = s[i + 1];
        i += 2;
        if (opener_strip) i++;
        if (kind == '#') {
            size_t j = i;
            while (j + 1 < n && !(s[j] == '#' && s[j + 1] == '}')) j++;
            if (j + 1 >= n) fail(tl->f, tag_line, "unterminated comment");
            line += count_lines(s + i, j - i);
            strip_next = j > i && s[j - 1] == '-';
            i = j + 2;
            if (!strip_next && i < n && s[i] == '\n') { i++; line++; }
            continue;
        }
        token t = {0};
        t.type = kind == '%' ? T_STMT_OPEN : T_EXPR_OPEN;
        t.line = tag_line;
        push_tok(tl, t);
        lex_tag(tl, s, n, &i, &line, kind == '%');
        token *close = &tl->t[tl->n - 1];
        strip_next = (int)close->i;
        /* trim_blocks: the newline after a statement's %} */
        if (!strip_next && kind == '%' && i < n && s[i] == '\n') { i++; line++; }
    }
    token e = {0};
    e.type = T_EOF;
    e.line = line;
    push_tok(tl, e);
}

/* ----------------------------------------------------------------- parser */

typedef enum {
    /* statements */
    N_TEXT, N_OUTPUT, N_IF, N_FOR, N_SET, N_MACRO, N_CALLBLOCK, N_FILTERBLOCK, N_BREAK, N_CONTINUE,
    /* expressions */
    E_LIT, E_NAME, E_ATTR, E_INDEX, E_SLICE, E_CALL, E_FILTER, E_TEST, E_BIN, E_NEG, E_POS, E_NOT, E_AND, E_OR,
    E_COND, E_LIST, E_DICT, E_FILTER_INPUT,
} nkind;

typedef struct node node;
struct node {
    nkind kind;
    int line;
    int op;                    /* E_BIN: the operator; E_TEST: negated */
    const char *s;             /* text, name, attribute, filter or test name */
    size_t sn;
    node *a, *b, *c;           /* children */
    node **list;               /* body, items, positional arguments */
    size_t n;
    node **list2;              /* else body, dict values, keyword values, defaults */
    size_t n2;
    const char **names;        /* keyword names, loop targets, parameters */
    size_t *name_lens;
    size_t nn;
    jv lit;
};

struct jinja_template {
    arena ar;
    node **body;
    size_t n;
    jinja_limits lim;
};

typedef struct {
    failer *f;
    token *t;
    size_t i, n;
    int depth, max_depth;
} parser;

static node *new_node(parser *p, nkind k, int line) {
    node *nd = xcalloc(p->f, 1, sizeof *nd);
    nd->kind = k;
    nd->line = line;
    return nd;
}

static token *peek(parser *p) { return &p->t[p->i]; }
static token *next(parser *p) { token *t = &p->t[p->i]; if (t->type != T_EOF) p->i++; return t; }
static int is_op(const token *t, const char *op) { return t->type == T_OP && t->n == strlen(op) && !memcmp(t->p, op, t->n); }
static int is_name(const token *t, const char *nm) { return t->type == T_NAME && t->n == strlen(nm) && !memcmp(t->p, nm, t->n); }

static const char *tok_desc(const token *t, char *buf, size_t cap) {
    switch (t->type) {
    case T_TEXT: return "text";
    case T_EXPR_OPEN: return "'{{'";
    case T_EXPR_CLOSE: return "'}}'";
    case T_STMT_OPEN: return "'{%'";
    case T_STMT_CLOSE: return "'%}'";
    case T_STR: return "a string";
    case T_INT: case T_FLOAT: return "a number";
    case T_EOF: return "the end of the template";
    default: {
        char b[64];
        snprintf(buf, cap, "'%s'", show(b, sizeof b, t->p, t->n));
        return buf;
    }
    }
}

__attribute__((noreturn)) static void unexpected(parser *p, const char *wanted) {
    char b[80];
    token *t = peek(p);
    fail(p->f, t->line, "expected %s, found %s", wanted, tok_desc(t, b, sizeof b));
}

static void expect_op(parser *p, const char *op) {
    if (!is_op(peek(p), op)) {
        char w[16];
        snprintf(w, sizeof w, "'%s'", op);
        unexpected(p, w);
    }
    next(p);
}

static token *expect_name(parser *p) {
    if (peek(p)->type != T_NAME) unexpected(p, "a name");
    return next(p);
}

static void enter(parser *p) {
    if (++p->depth > p->max_depth) fail(p->f, peek(p)->line, "template nested deeper than %d", p->max_depth);
}

typedef struct { node **v; size_t n, cap; } nodevec;
static void nv_push(parser *p, nodevec *v, node *nd) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        node **nv = xalloc(p->f, cap * sizeof *nv);
        if (v->n) memcpy(nv, v->v, v->n * sizeof *nv);
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = nd;
}

static node *parse_expr(parser *p);
static node *parse_or(parser *p);
static node *parse_unary(parser *p);

/* Arguments of a call, filter or test: positional, then name=value. */
static void parse_args(parser *p, node *nd) {
    expect_op(p, "(");
    nodevec pos = {0}, kv = {0};
    size_t nk = 0, capk = 0;
    const char **names = NULL;
    size_t *lens = NULL;
    while (!is_op(peek(p), ")")) {
        if (is_op(peek(p), "*") || is_op(peek(p), "**")) fail(p->f, peek(p)->line, "unsupported: *args and **kwargs in a call");
        if (peek(p)->type == T_NAME && is_op(&p->t[p->i + 1], "=")) {
            token *nm = next(p);
            next(p);
            if (nk == capk) {
                size_t cap = capk ? capk * 2 : 4;
                const char **nn = xalloc(p->f, cap * sizeof *nn);
                size_t *nl = xalloc(p->f, cap * sizeof *nl);
                if (nk) { memcpy(nn, names, nk * sizeof *nn); memcpy(nl, lens, nk * sizeof *nl); }
                names = nn;
                lens = nl;
                capk = cap;
            }
            names[nk] = nm->p;
            lens[nk++] = nm->n;
            nv_push(p, &kv, parse_expr(p));
        } else {
            if (nk) fail(p->f, peek(p)->line, "a positional argument after a keyword argument");
            nv_push(p, &pos, parse_expr(p));
        }
        if (!is_op(peek(p), ",")) break;
        next(p);
    }
    expect_op(p, ")");
    nd->list = pos.v;
    nd->n = pos.n;
    nd->list2 = kv.v;
    nd->n2 = kv.n;
    nd->names = names;
    nd->name_lens = lens;
    nd->nn = nk;
}

static node *parse_primary(parser *p) {
    token *t = peek(p);
    node *nd;
    switch (t->type) {
    case T_STR: {
        next(p);
        nd = new_node(p, E_LIT, t->line);
        /* adjacent literals join, as in Python */
        if (peek(p)->type == T_STR) {
            size_t total = t->n, k = p->i;
            while (p->t[k].type == T_STR) total += p->t[k++].n;
            char *buf = xalloc(p->f, total + 1);
            memcpy(buf, t->p, t->n);
            size_t o = t->n;
            while (peek(p)->type == T_STR) { token *u = next(p); memcpy(buf + o, u->p, u->n); o += u->n; }
            buf[o] = 0;
            nd->lit = mk_str(buf, o);
        } else nd->lit = mk_str(t->p, t->n);
        return nd;
    }
    case T_INT: next(p); nd = new_node(p, E_LIT, t->line); nd->lit = mk_int(t->i); return nd;
    case T_FLOAT: next(p); nd = new_node(p, E_LIT, t->line); nd->lit = mk_float(t->f); return nd;
    case T_NAME:
        next(p);
        nd = new_node(p, E_LIT, t->line);
        if (is_name(t, "true") || is_name(t, "True")) nd->lit = mk_bool(1);
        else if (is_name(t, "false") || is_name(t, "False")) nd->lit = mk_bool(0);
        else if (is_name(t, "none") || is_name(t, "None")) nd->lit = mk_none();
        else { nd->kind = E_NAME; nd->s = t->p; nd->sn = t->n; }
        return nd;
    case T_OP:
        if (is_op(t, "(")) {
            next(p);
            enter(p);
            if (is_op(peek(p), ")")) { next(p); p->depth--; nd = new_node(p, E_LIST, t->line); return nd; }
            node *e = parse_expr(p);
            if (is_op(peek(p), ",")) { /* a tuple: a list here */
                nodevec v = {0};
                nv_push(p, &v, e);
                while (is_op(peek(p), ",")) {
                    next(p);
                    if (is_op(peek(p), ")")) break;
                    nv_push(p, &v, parse_expr(p));
                }
                e = new_node(p, E_LIST, t->line);
                e->list = v.v;
                e->n = v.n;
            }
            expect_op(p, ")");
            p->depth--;
            return e;
        }
        if (is_op(t, "[")) {
            next(p);
            enter(p);
            nodevec v = {0};
            while (!is_op(peek(p), "]")) {
                nv_push(p, &v, parse_expr(p));
                if (!is_op(peek(p), ",")) break;
                next(p);
            }
            expect_op(p, "]");
            p->depth--;
            nd = new_node(p, E_LIST, t->line);
            nd->list = v.v;
            nd->n = v.n;
            return nd;
        }
        if (is_op(t, "{")) {
            next(p);
            enter(p);
            nodevec k = {0}, v = {0};
            while (!is_op(peek(p), "}")) {
                nv_push(p, &k, parse_expr(p));
                expect_op(p, ":");
                nv_push(p, &v, parse_expr(p));
                if (!is_op(peek(p), ",")) break;
                next(p);
            }
            expect_op(p, "}");
            p->depth--;
            nd = new_node(p, E_DICT, t->line);
            nd->list = k.v;
            nd->n = k.n;
            nd->list2 = v.v;
            nd->n2 = v.n;
            return nd;
        }
        break;
    default: break;
    }
    unexpected(p, "an expression");
}

static node *parse_postfix(parser *p, node *nd) {
    for (;;) {
        token *t = peek(p);
        if (is_op(t, ".")) {
            next(p);
            token *nm = peek(p);
            if (nm->type == T_INT) { /* a.0 is a[0] */
                next(p);
                node *x = new_node(p, E_INDEX, t->line);
                x->a = nd;
                x->b = new_node(p, E_LIT, t->line);
                x->b->lit = mk_int(nm->i);
                nd = x;
                continue;
            }
            nm = expect_name(p);
            node *x = new_node(p, E_ATTR, t->line);
            x->a = nd;
            x->s = nm->p;
            x->sn = nm->n;
            nd = x;
        } else if (is_op(t, "[")) {
            next(p);
            enter(p);
            node *parts[3] = {NULL, NULL, NULL};
            int k = 0, slice = 0;
            for (;;) {
                if (!is_op(peek(p), ":") && !is_op(peek(p), "]")) parts[k] = parse_expr(p);
                if (is_op(peek(p), ":") && k < 2) { next(p); k++; slice = 1; continue; }
                break;
            }
            expect_op(p, "]");
            p->depth--;
            node *x = new_node(p, slice ? E_SLICE : E_INDEX, t->line);
            x->a = nd;
            if (slice) { x->b = parts[0]; x->c = parts[1]; x->list = xalloc(p->f, sizeof(node *)); x->list[0] = parts[2]; x->n = 1; }
            else {
                if (!parts[0]) fail(p->f, t->line, "empty subscript");
                x->b = parts[0];
            }
            nd = x;
        } else if (is_op(t, "(")) {
            node *x = new_node(p, E_CALL, t->line);
            x->a = nd;
            enter(p);
            parse_args(p, x);
            p->depth--;
            nd = x;
        } else return nd;
    }
}

/* Filters (|name, |name(args)) and tests (is [not] name [arg]). */
static node *parse_filter_test(parser *p, node *nd) {
    for (;;) {
        token *t = peek(p);
        if (is_op(t, "|")) {
            next(p);
            token *nm = expect_name(p);
            node *x = new_node(p, E_FILTER, t->line);
            x->a = nd;
            x->s = nm->p;
            x->sn = nm->n;
            while (is_op(peek(p), ".")) { /* dotted filter names are not ours */
                fail(p->f, t->line, "unsupported: dotted filter name");
            }
            if (is_op(peek(p), "(")) { enter(p); parse_args(p, x); p->depth--; }
            nd = x;
        } else if (is_name(t, "is")) {
            next(p);
            node *x = new_node(p, E_TEST, t->line);
            if (is_name(peek(p), "not")) { next(p); x->op = 1; }
            token *nm = peek(p);
            /* "is none", "is true": keywords as test names */
            if (nm->type != T_NAME) unexpected(p, "a test name");
            next(p);
            x->a = nd;
            x->s = nm->p;
            x->sn = nm->n;
            token *u = peek(p);
            if (is_op(u, "(")) { enter(p); parse_args(p, x); p->depth--; }
            else if ((u->type == T_STR || u->type == T_INT || u->type == T_FLOAT || is_op(u, "[") || is_op(u, "{") ||
                      (u->type == T_NAME && !is_name(u, "else") && !is_name(u, "or") && !is_name(u, "and") &&
                       !is_name(u, "if") && !is_name(u, "in") && !is_name(u, "is") && !is_name(u, "not")))) {
                enter(p);
                node *arg = parse_postfix(p, parse_primary(p));
                p->depth--;
                x->list = xalloc(p->f, sizeof(node *));
                x->list[0] = arg;
                x->n = 1;
            }
            nd = x;
        } else return nd;
    }
}

enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_FLOORDIV, OP_MOD, OP_POW, OP_CONCAT, OP_EQ, OP_NE, OP_LT, OP_GT, OP_LE, OP_GE,
       OP_IN, OP_NOTIN };

static node *bin(parser *p, int op, node *l, node *r, int line) {
    node *x = new_node(p, E_BIN, line);
    x->op = op;
    x->a = l;
    x->b = r;
    return x;
}

/* As Jinja's parser: "-x|f" is f(-x), the sign taken before the filters. */
static node *parse_unary_f(parser *p, int with_filter) {
    token *t = peek(p);
    enter(p);
    node *nd;
    if (is_op(t, "-")) { next(p); nd = new_node(p, E_NEG, t->line); nd->a = parse_unary_f(p, 0); }
    else if (is_op(t, "+")) { next(p); nd = new_node(p, E_POS, t->line); nd->a = parse_unary_f(p, 0); }
    else nd = parse_primary(p);
    nd = parse_postfix(p, nd);
    if (with_filter) nd = parse_filter_test(p, nd);
    p->depth--;
    return nd;
}

static node *parse_unary(parser *p) { return parse_unary_f(p, 1); }

static node *parse_pow(parser *p) {
    node *l = parse_unary(p);
    while (is_op(peek(p), "**")) { int line = next(p)->line; l = bin(p, OP_POW, l, parse_unary(p), line); }
    return l;
}

static node *parse_math2(parser *p) {
    node *l = parse_pow(p);
    for (;;) {
        token *t = peek(p);
        int op = is_op(t, "*") ? OP_MUL : is_op(t, "/") ? OP_DIV : is_op(t, "//") ? OP_FLOORDIV : is_op(t, "%") ? OP_MOD : -1;
        if (op < 0) return l;
        next(p);
        l = bin(p, op, l, parse_pow(p), t->line);
    }
}

static node *parse_concat(parser *p) {
    node *l = parse_math2(p);
    while (is_op(peek(p), "~")) { int line = next(p)->line; l = bin(p, OP_CONCAT, l, parse_math2(p), line); }
    return l;
}

static node *parse_math1(parser *p) {
    node *l = parse_concat(p);
    for (;;) {
        token *t = peek(p);
        int op = is_op(t, "+") ? OP_ADD : is_op(t, "-") ? OP_SUB : -1;
        if (op < 0) return l;
        next(p);
        l = bin(p, op, l, parse_concat(p), t->line);
    }
}

static node *parse_compare(parser *p) {
    node *l = parse_math1(p);
    for (;;) {
        token *t = peek(p);
        int op = is_op(t, "==") ? OP_EQ : is_op(t, "!=") ? OP_NE : is_op(t, "<") ? OP_LT : is_op(t, ">") ? OP_GT
               : is_op(t, "<=") ? OP_LE : is_op(t, ">=") ? OP_GE : is_name(t, "in") ? OP_IN : -1;
        if (op < 0 && is_name(t, "not") && is_name(&p->t[p->i + 1], "in")) { next(p); op = OP_NOTIN; }
        if (op < 0) return l;
        next(p);
        l = bin(p, op, l, parse_math1(p), t->line);
    }
}

static node *parse_not(parser *p) {
    token *t = peek(p);
    if (is_name(t, "not")) {
        next(p);
        enter(p);
        node *x = new_node(p, E_NOT, t->line);
        x->a = parse_not(p);
        p->depth--;
        return x;
    }
    return parse_compare(p);
}

static node *parse_and(parser *p) {
    node *l = parse_not(p);
    while (is_name(peek(p), "and")) {
        int line = next(p)->line;
        node *x = new_node(p, E_AND, line);
        x->a = l;
        x->b = parse_not(p);
        l = x;
    }
    return l;
}

static node *parse_or(parser *p) {
    node *l = parse_and(p);
    while (is_name(peek(p), "or")) {
        int line = next(p)->line;
        node *x = new_node(p, E_OR, line);
        x->a = l;
        x->b = parse_and(p);
        l = x;
    }
    return l;
}

static node *parse_expr(parser *p) {
    enter(p);
    node *e = parse_or(p);
    while (is_name(peek(p), "if")) {
        int line = next(p)->line;
        node *x = new_node(p, E_COND, line);
        x->a = parse_or(p);
        x->b = e;
        if (is_name(peek(p), "else")) { next(p); x->c = parse_or(p); }
        e = x;
    }
    p->depth--;
    return e;
}

/* ---- statements ---- */

static void expect_close(parser *p) {
    if (peek(p)->type != T_STMT_CLOSE) unexpected(p, "'%}'");
    next(p);
}

/* Statements up to one of the end tags (names, NULL-terminated); leaves the
 * parser on the tag's name and says which it was. */
static void parse_body(parser *p, nodevec *out, const char *const *ends, const char *what, int line, int *which);

static node *parse_stmt(parser *p);

/* "a", "a, b", "ns.x": the target of set and for */
static void parse_targets(parser *p, node *nd) {
    size_t cap = 0;
    for (;;) {
        token *nm = expect_name(p);
        if (nd->nn == cap) {
            cap = cap ? cap * 2 : 2;
            const char **nn = xalloc(p->f, cap * sizeof *nn);
            size_t *nl = xalloc(p->f, cap * sizeof *nl);
            if (nd->nn) { memcpy(nn, nd->names, nd->nn * sizeof *nn); memcpy(nl, nd->name_lens, nd->nn * sizeof *nl); }
            nd->names = nn;
            nd->name_lens = nl;
        }
        nd->names[nd->nn] = nm->p;
        nd->name_lens[nd->nn++] = nm->n;
        if (!is_op(peek(p), ",")) break;
        next(p);
    }
}

static node *parse_stmt(parser *p) {
    token *open = next(p); /* {% */
    token *kw = peek(p);
    if (kw->type != T_NAME) unexpected(p, "a statement name");
    next(p);
    int line = kw->line;
    enter(p);
    node *nd = NULL;
    int which;
    if (is_name(kw, "if")) {
        nd = new_node(p, N_IF, line);
        nd->a = parse_expr(p);
        expect_close(p);
        nodevec body = {0};
        static const char *const ends[] = {"elif", "else", "endif", NULL};
        parse_body(p, &body, ends, "if", line, &which);
        nd->list = body.v;
        nd->n = body.n;
        node *cur = nd;
        while (which == 0) { /* elif: an if in the else branch */
            int l2 = next(p)->line;
            node *e = new_node(p, N_IF, l2);
            e->a = parse_expr(p);
            expect_close(p);
            nodevec b = {0};
            parse_body(p, &b, ends, "if", line, &which);
            e->list = b.v;
            e->n = b.n;
            cur->list2 = xalloc(p->f, sizeof(node *));
            cur->list2[0] = e;
            cur->n2 = 1;
            cur = e;
        }
        if (which == 1) {
            next(p);
            expect_close(p);
            nodevec b = {0};
            static const char *const ends2[] = {"endif", NULL};
            parse_body(p, &b, ends2, "if", line, &which);
            cur->list2 = b.v;
            cur->n2 = b.n;
        }
        next(p);
        expect_close(p);
    } else if (is_name(kw, "for")) {
        nd = new_node(p, N_FOR, line);
        parse_targets(p, nd);
        if (!is_name(peek(p), "in")) unexpected(p, "'in'");
        next(p);
        /* the iterable stops before "if" (a filter) and "recursive" */
        nd->a = parse_or(p);
        if (is_name(peek(p), "if")) { next(p); nd->b = parse_or(p); }
        if (is_name(peek(p), "recursive")) fail(p->f, line, "unsupported: recursive for loops");
        expect_close(p);
        nodevec body = {0};
        static const char *const ends[] = {"else", "endfor", NULL};
        parse_body(p, &body, ends, "for", line, &which);
        nd->list = body.v;
        nd->n = body.n;
        if (which == 0) {
            next(p);
            expect_close(p);
            nodevec b = {0};
            static const char *const ends2[] = {"endfor", NULL};
            parse_body(p, &b, ends2, "for", line, &which);
            nd->list2 = b.v;
            nd->n2 = b.n;
        }
        next(p);
        expect_close(p);
    } else if (is_name(kw, "set")) {
        nd = new_node(p, N_SET, line);
        token *nm = expect_name(p);
        if (is_op(peek(p), ".")) { /* ns.attr */
            next(p);
            token *at = expect_name(p);
            node *t = new_node(p, E_ATTR, line);
            t->a = new_node(p, E_NAME, line);
            t->a->s = nm->p;
            t->a->sn = nm->n;
            t->s = at->p;
            t->sn = at->n;
            nd->a = t;
        } else {
            p->i--;
            parse_targets(p, nd);
        }
        if (is_op(peek(p), "=")) {
            next(p);
            node *v = parse_expr(p);
            if (is_op(peek(p), ",")) { /* set a = 1, 2 */
                nodevec items = {0};
                nv_push(p, &items, v);
                while (is_op(peek(p), ",")) { next(p); nv_push(p, &items, parse_expr(p)); }
                v = new_node(p, E_LIST, line);
                v->list = items.v;
                v->n = items.n;
            }
            nd->b = v;
            expect_close(p);
        } else {
            if (nd->nn > 1) unexpected(p, "'='");
            if (peek(p)->type != T_STMT_CLOSE) fail(p->f, line, "unsupported: filters on a block set");
            expect_close(p);
            nodevec body = {0};
            static const char *const ends[] = {"endset", NULL};
            parse_body(p, &body, ends, "set", line, &which);
            nd->list = body.v;
            nd->n = body.n;
            next(p);
            expect_close(p);
        }
    } else if (is_name(kw, "macro")) {
        nd = new_node(p, N_MACRO, line);
        token *nm = expect_name(p);
        nd->s = nm->p;
        nd->sn = nm->n;
        expect_op(p, "(");
        nodevec defs = {0};
        size_t cap = 0;
        while (!is_op(peek(p), ")")) {
            token *a = expect_name(p);
            if (nd->nn == cap) {
                cap = cap ? cap * 2 : 4;
                const char **nn = xalloc(p->f, cap * sizeof *nn);
                size_t *nl = xalloc(p->f, cap * sizeof *nl);
                if (nd->nn) { memcpy(nn, nd->names, nd->nn * sizeof *nn); memcpy(nl, nd->name_lens, nd->nn * sizeof *nl); }
                nd->names = nn;
                nd->name_lens = nl;
            }
            nd->names[nd->nn] = a->p;
            nd->name_lens[nd->nn++] = a->n;
            node *d = NULL;
            if (is_op(peek(p), "=")) { next(p); d = parse_expr(p); }
            nv_push(p, &defs, d);
            if (!is_op(peek(p), ",")) break;
            next(p);
        }
        expect_op(p, ")");
        expect_close(p);
        nd->list2 = defs.v;
        nd->n2 = defs.n;
        nodevec body = {0};
        static const char *const ends[] = {"endmacro", NULL};
        parse_body(p, &body, ends, "macro", line, &which);
        nd->list = body.v;
        nd->n = body.n;
        next(p);
        if (peek(p)->type == T_NAME) next(p); /* {% endmacro name %} */
        expect_close(p);
    } else if (is_name(kw, "call")) {
        nd = new_node(p, N_CALLBLOCK, line);
        if (is_op(peek(p), "(")) { /* caller's parameters */
            next(p);
            size_t cap = 0;
            while (!is_op(peek(p), ")")) {
                token *a = expect_name(p);
                if (is_op(peek(p), "=")) fail(p->f, line, "unsupported: defaults of caller parameters");
                if (nd->nn == cap) {
                    cap = cap ? cap * 2 : 4;
                    const char **nn = xalloc(p->f, cap * sizeof *nn);
                    size_t *nl = xalloc(p->f, cap * sizeof *nl);
                    if (nd->nn) { memcpy(nn, nd->names, nd->nn * sizeof *nn); memcpy(nl, nd->name_lens, nd->nn * sizeof *nl); }
                    nd->names = nn;
                    nd->name_lens = nl;
                }
                nd->names[nd->nn] = a->p;
                nd->name_lens[nd->nn++] = a->n;
                if (!is_op(peek(p), ",")) break;
                next(p);
            }
            expect_op(p, ")");
        }
        nd->a = parse_expr(p);
        if (nd->a->kind != E_CALL) fail(p->f, line, "{%% call %%} needs a macro call");
        expect_close(p);
        nodevec body = {0};
        static const char *const ends[] = {"endcall", NULL};
        parse_body(p, &body, ends, "call", line, &which);
        nd->list = body.v;
        nd->n = body.n;
        next(p);
        expect_close(p);
    } else if (is_name(kw, "filter")) {
        nd = new_node(p, N_FILTERBLOCK, line);
        /* the filters apply to a placeholder the body's text replaces */
        node *ph = new_node(p, E_FILTER_INPUT, line);
        /* the keyword becomes a "|": the filter chain parses as in an expression */
        p->i--;
        p->t[p->i].type = T_OP;
        p->t[p->i].p = "|";
        p->t[p->i].n = 1;
        nd->a = parse_filter_test(p, ph);
        expect_close(p);
        nodevec body = {0};
        static const char *const ends[] = {"endfilter", NULL};
        parse_body(p, &body, ends, "filter", line, &which);
        nd->list = body.v;
        nd->n = body.n;
        next(p);
        expect_close(p);
    } else if (is_name(kw, "break") || is_name(kw, "continue")) {
        nd = new_node(p, is_name(kw, "break") ? N_BREAK : N_CONTINUE, line);
        expect_close(p);
    } else if (is_name(kw, "generation") || is_name(kw, "endgeneration")) {
        /* transformers' assistant-mask markers: no output */
        nd = new_node(p, N_TEXT, line);
        nd->s = "";
        expect_close(p);
    } else {
        char b[64];
        (void)open;
        static const char *const ends[] = {"endif", "endfor", "else", "elif", "endset", "endmacro", "endcall",
                                           "endfilter", NULL};
        for (int k = 0; ends[k]; k++)
            if (is_name(kw, ends[k])) fail(p->f, line, "unexpected {%% %s %%}", ends[k]);
        fail(p->f, line, "unsupported statement '%s'", show(b, sizeof b, kw->p, kw->n));
    }
    p->depth--;
    return nd;
}

static void parse_body(parser *p, nodevec *out, const char *const *ends, const char *what, int line, int *which) {
    for (;;) {
        token *t = peek(p);
        if (t->type == T_EOF) {
            if (!ends) return;
            int last = 0;
            while (ends[last + 1]) last++;
            fail(p->f, line, "unclosed {%% %s %%} (no {%% %s %%})", what, ends[last]);
        }
        if (t->type == T_TEXT) {
            next(p);
            node *nd = new_node(p, N_TEXT, t->line);
            nd->s = t->p;
            nd->sn = t->n;
            nv_push(p, out, nd);
        } else if (t->type == T_EXPR_OPEN) {
            next(p);
            node *nd = new_node(p, N_OUTPUT, t->line);
            nd->a = parse_expr(p);
            if (peek(p)->type != T_EXPR_CLOSE) unexpected(p, "'}}'");
            next(p);
            nv_push(p, out, nd);
        } else if (t->type == T_STMT_OPEN) {
            token *kw = &p->t[p->i + 1];
            if (ends)
                for (int k = 0; ends[k]; k++)
                    if (is_name(kw, ends[k])) {
                        p->i++;
                        *which = k;
                        return;
                    }
            nv_push(p, out, parse_stmt(p));
        } else unexpected(p, "text or a tag");
    }
}

void jinja_limits_default(jinja_limits *l) {
    l->max_depth = 200;
    l->max_steps = 10000000;
    l->max_output = (size_t)64 << 20;
    l->max_memory = (size_t)512 << 20;
}

jinja_template *jinja_parse(const char *src, size_t len, const jinja_limits *lim, char *err, size_t errlen) {
    if (err && errlen) err[0] = 0;
    jinja_template *volatile t = calloc(1, sizeof *t);
    if (!t) { if (err && errlen) snprintf(err, errlen, "out of memory"); return NULL; }
    if (lim) t->lim = *lim;
    else jinja_limits_default(&t->lim);
    t->ar.limit = t->lim.max_memory;
    failer f;
    f.ar = &t->ar;
    f.msg[0] = 0;
    if (setjmp(f.jb)) {
        if (err && errlen) snprintf(err, errlen, "%s", f.msg);
        arena_free(&t->ar);
        free(t);
        return NULL;
    }
    if (!src && len) fail(&f, 0, "no template");
    toklist tl = {&f, NULL, 0, 0};
    lex(&tl, src ? src : "", len);
    parser p = {&f, tl.t, 0, tl.n, 0, t->lim.max_depth};
    nodevec body = {0};
    int which;
    parse_body(&p, &body, NULL, NULL, 0, &which);
    t->body = body.v;
    t->n = body.n;
    return t;
}

void jinja_free(jinja_template *t) {
    if (!t) return;
    arena_free(&t->ar);
    free(t);
}

/* -------------------------------------------------------------- evaluator */

typedef struct scope scope;
struct scope {
    scope *parent;
    jdict vars;
};

struct jmacro {
    const node *def;            /* N_MACRO; for caller(), the N_CALLBLOCK */
    scope *env;                 /* where it was defined */
    int is_caller;
};

typedef struct {
    char *p;
    size_t n, cap;
} obuf;

typedef struct {
    failer *f;
    const jinja_template *t;
    scope *globals;
    uint64_t steps;
    int depth;
    int ctl;                    /* 1 break, 2 continue */
} evalr;

static const char *const global_names[] = {"range", "namespace", "raise_exception", "strftime_now", "dict", NULL};

static void step(evalr *e, int line) {
    if (++e->steps > e->t->lim.max_steps) fail(e->f, line, "template ran more than %llu steps", (unsigned long long)e->t->lim.max_steps);
}

/* Work on n bytes of text costs steps too (one per 256 bytes), so that a
 * loop over a long string's comparisons or copies is bounded in time, not
 * only in memory. */
static void work(evalr *e, size_t n, int line) {
    uint64_t k = n >> 8;
    if (!k) return;
    e->steps += k;
    if (e->steps > e->t->lim.max_steps) fail(e->f, line, "template ran more than %llu steps", (unsigned long long)e->t->lim.max_steps);
}

static void ob_put(evalr *e, obuf *b, const char *p, size_t n, int line) {
    if (!n) return;
    work(e, n, line);
    if (b->n + n > e->t->lim.max_output) fail(e->f, line, "output longer than %zu bytes", e->t->lim.max_output);
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *np = xalloc(e->f, cap);
        if (b->n) memcpy(np, b->p, b->n);
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = 0;
}
static void ob_puts(evalr *e, obuf *b, const char *s, int line) { ob_put(e, b, s, strlen(s), line); }


static void deeper(evalr *e, int line) {
    if (++e->depth > e->t->lim.max_depth) fail(e->f, line, "template recursion deeper than %d", e->t->lim.max_depth);
}

static const char *type_name(const jv *v) {
    switch (v->t) {
    case V_UNDEF: return "undefined";
    case V_NONE: return "none";
    case V_BOOL: return "boolean";
    case V_INT: return "integer";
    case V_FLOAT: return "float";
    case V_STR: return "string";
    case V_LIST: return "list";
    case V_DICT: return v->u.d->is_ns ? "namespace" : "dict";
    case V_MACRO: return "macro";
    case V_LOOP: return "loop";
    case V_FUNC: return "function";
    }
    return "?";
}

/* The type with its article, for messages: "an integer", "a string". */
static const char *a_type(const jv *v) {
    switch (v->t) {
    case V_UNDEF: return "an undefined value";
    case V_NONE: return "none";
    case V_BOOL: return "a boolean";
    case V_INT: return "an integer";
    case V_FLOAT: return "a float";
    case V_STR: return "a string";
    case V_LIST: return "a list";
    case V_DICT: return v->u.d->is_ns ? "a namespace" : "a dict";
    case V_MACRO: return "a macro";
    case V_LOOP: return "the loop variable";
    case V_FUNC: return "a function";
    }
    return "?";
}

/* ---- containers ---- */

static jlist *list_new(evalr *e, size_t cap) {
    jlist *l = xcalloc(e->f, 1, sizeof *l);
    if (cap) { l->v = xcalloc(e->f, cap, sizeof *l->v); l->cap = cap; }
    return l;
}

static void list_push(evalr *e, jlist *l, jv v) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        jv *nv = xcalloc(e->f, cap, sizeof *nv);
        if (l->n) memcpy(nv, l->v, l->n * sizeof *nv);
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = v;
}

static jv mk_list(jlist *l) { jv v = mk_undef(); v.t = V_LIST; v.u.l = l; return v; }
static jv mk_dict(jdict *d) { jv v = mk_undef(); v.t = V_DICT; v.u.d = d; return v; }

static jv *dict_find(const jdict *d, const char *k, size_t kn) {
    for (size_t i = d->n; i-- > 0;)
        if (d->kn[i] == kn && !memcmp(d->kp[i], k, kn)) return &d->v[i];
    return NULL;
}

static void dict_set(failer *f, jdict *d, const char *k, size_t kn, jv v) {
    jv *old = dict_find(d, k, kn);
    if (old) { *old = v; return; }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 4;
        const char **kp = xalloc(f, cap * sizeof *kp);
        size_t *kl = xalloc(f, cap * sizeof *kl);
        jv *nv = xalloc(f, cap * sizeof *nv);
        if (d->n) {
            memcpy(kp, d->kp, d->n * sizeof *kp);
            memcpy(kl, d->kn, d->n * sizeof *kl);
            memcpy(nv, d->v, d->n * sizeof *nv);
        }
        d->kp = kp;
        d->kn = kl;
        d->v = nv;
        d->cap = cap;
    }
    d->kp[d->n] = k;
    d->kn[d->n] = kn;
    d->v[d->n++] = v;
}

static jv *lookup(scope *s, const char *k, size_t kn) {
    for (; s; s = s->parent) {
        jv *v = dict_find(&s->vars, k, kn);
        if (v) return v;
    }
    return NULL;
}

static scope *scope_new(evalr *e, scope *parent) {
    scope *s = xcalloc(e->f, 1, sizeof *s);
    s->parent = parent;
    return s;
}

/* ---- conversions ---- */

static int truthy(const jv *v) {
    switch (v->t) {
    case V_UNDEF: case V_NONE: return 0;
    case V_BOOL: return v->u.b;
    case V_INT: return v->u.i != 0;
    case V_FLOAT: return v->u.f != 0;
    case V_STR: return v->u.s.n != 0;
    case V_LIST: return v->u.l->n != 0;
    case V_DICT: return v->u.d->n != 0;
    default: return 1;
    }
}

static void fmt_float(char *buf, size_t cap, double f) {
    if (isnan(f)) { snprintf(buf, cap, "NaN"); return; }
    if (isinf(f)) { snprintf(buf, cap, f > 0 ? "Infinity" : "-Infinity"); return; }
    if (f == 0) { snprintf(buf, cap, signbit(f) ? "-0.0" : "0.0"); return; }
    if (f == floor(f) && fabs(f) < 1e16) { snprintf(buf, cap, "%.1f", f); return; }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, f);
        if (strtod(buf, NULL) == f) break;
    }
}

static void json_str(evalr *e, obuf *b, const char *p, size_t n, int line) {
    ob_put(e, b, "\"", 1, line);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        const char *esc = NULL;
        char u[8];
        if (c == '"') esc = "\\\"";
        else if (c == '\\') esc = "\\\\";
        else if (c == '\n') esc = "\\n";
        else if (c == '\r') esc = "\\r";
        else if (c == '\t') esc = "\\t";
        else if (c == '\b') esc = "\\b";
        else if (c == '\f') esc = "\\f";
        else if (c < 0x20) { snprintf(u, sizeof u, "\\u%04x", c); esc = u; }
        if (esc) {
            ob_put(e, b, p + i - run, run, line);
            run = 0;
            ob_puts(e, b, esc, line);
        } else run++;
    }
    ob_put(e, b, p + n - run, run, line);
    ob_put(e, b, "\"", 1, line);
}

/* tojson (json.dumps with ensure_ascii=False) and the printing of lists and
 * dicts (which @huggingface/jinja does the same way, without indent). */
static void to_json(evalr *e, obuf *b, const jv *v, int indent, int level, int line) {
    deeper(e, line);
    char buf[64];
    switch (v->t) {
    case V_UNDEF: case V_NONE: ob_puts(e, b, "null", line); break;
    case V_BOOL: ob_puts(e, b, v->u.b ? "true" : "false", line); break;
    case V_INT: snprintf(buf, sizeof buf, "%lld", (long long)v->u.i); ob_puts(e, b, buf, line); break;
    case V_FLOAT: fmt_float(buf, sizeof buf, v->u.f); ob_puts(e, b, buf, line); break;
    case V_STR: json_str(e, b, v->u.s.p, v->u.s.n, line); break;
    case V_LIST: case V_DICT: {
        int is_list = v->t == V_LIST;
        size_t n = is_list ? v->u.l->n : v->u.d->n;
        ob_puts(e, b, is_list ? "[" : "{", line);
        for (size_t i = 0; i < n; i++) {
            if (i) ob_puts(e, b, indent >= 0 ? "," : ", ", line);
            if (indent >= 0) {
                ob_puts(e, b, "\n", line);
                for (int k = 0; k < (level + 1) * indent; k++) ob_put(e, b, " ", 1, line);
            }
            if (is_list) to_json(e, b, &v->u.l->v[i], indent, level + 1, line);
            else {
                json_str(e, b, v->u.d->kp[i], v->u.d->kn[i], line);
                ob_puts(e, b, ": ", line);
                to_json(e, b, &v->u.d->v[i], indent, level + 1, line);
            }
        }
        if (indent >= 0 && n) {
            ob_puts(e, b, "\n", line);
            for (int k = 0; k < level * indent; k++) ob_put(e, b, " ", 1, line);
        }
        ob_puts(e, b, is_list ? "]" : "}", line);
        break;
    }
    default: fail(e->f, line, "cannot convert %s to JSON", a_type(v));
    }
    e->depth--;
}

/* What {{ v }} prints. none_text: how none reads ("" when printed, as
 * @huggingface/jinja does; "None" in string conversions). */
static void print_val(evalr *e, obuf *b, const jv *v, const char *none_text, int line) {
    char buf[64];
    switch (v->t) {
    case V_UNDEF: break;
    case V_NONE: ob_puts(e, b, none_text, line); break;
    case V_BOOL: ob_puts(e, b, v->u.b ? "true" : "false", line); break;
    case V_INT: snprintf(buf, sizeof buf, "%lld", (long long)v->u.i); ob_puts(e, b, buf, line); break;
    case V_FLOAT: fmt_float(buf, sizeof buf, v->u.f); ob_puts(e, b, buf, line); break;
    case V_STR: ob_put(e, b, v->u.s.p, v->u.s.n, line); break;
    case V_LIST: case V_DICT: to_json(e, b, v, -1, 0, line); break;
    default: fail(e->f, line, "cannot print %s", a_type(v));
    }
}

static jv to_string(evalr *e, const jv *v, int line) {
    if (v->t == V_STR) return *v;
    obuf b = {0};
    print_val(e, &b, v, "None", line);
    return b.n ? mk_str(b.p, b.n) : mk_str("", 0);
}

static jv str_copy(evalr *e, const char *p, size_t n) {
    char *s = xalloc(e->f, n + 1);
    if (n) memcpy(s, p, n);
    s[n] = 0;
    return mk_str(s, n);
}

/* ---- UTF-8 ---- */

static size_t u8_len(const char *p, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += ((unsigned char)p[i] & 0xc0) != 0x80;
    return k;
}

/* Byte offsets of each code point (n_cp + 1 entries). */
static size_t *u8_offsets(evalr *e, const char *p, size_t n, size_t *n_cp) {
    work(e, n, 0);
    size_t k = u8_len(p, n);
    size_t *o = xalloc(e->f, (k + 1) * sizeof *o);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) if (((unsigned char)p[i] & 0xc0) != 0x80) o[j++] = i;
    o[k] = n;
    *n_cp = k;
    return o;
}

/* Case mapping of a whole string: mode 0 lower, 1 upper, 2 title, 3 capitalize. */
static jv str_case(evalr *e, const jv *v, int mode) {
    const char *p = v->u.s.p;
    size_t n = v->u.s.n;
    char *out = xalloc(e->f, n * 3 + 4);
    size_t o = 0;
    int prev_cased = 0, first = 1;
    for (size_t i = 0; i < n;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t l = utf8proc_iterate((const utf8proc_uint8_t *)p + i, (utf8proc_ssize_t)(n - i), &cp);
        if (l <= 0) { out[o++] = p[i++]; prev_cased = 0; first = 0; continue; }
        utf8proc_int32_t m = cp;
        int cased = utf8proc_tolower(cp) != cp || utf8proc_toupper(cp) != cp;
        if (mode == 0) m = utf8proc_tolower(cp);
        else if (mode == 1) m = utf8proc_toupper(cp);
        else if (mode == 2) m = prev_cased ? utf8proc_tolower(cp) : utf8proc_totitle(cp);
        else m = first ? utf8proc_totitle(cp) : utf8proc_tolower(cp);
        prev_cased = cased;
        first = 0;
        utf8_put(out, &o, (uint32_t)m);
        i += (size_t)l;
    }
    out[o] = 0;
    return mk_str(out, o);
}

static int is_ws_cp(const char *p, size_t n, size_t *l) {
    *l = 1;
    if (n && is_ws(p[0])) return 1;
    if (n >= 2 && (unsigned char)p[0] == 0xc2 && ((unsigned char)p[1] == 0x85 || (unsigned char)p[1] == 0xa0)) { *l = 2; return 1; }
    if (n >= 3 && (unsigned char)p[0] == 0xe2 && (unsigned char)p[1] == 0x80 &&
        (((unsigned char)p[2] >= 0x80 && (unsigned char)p[2] <= 0x8a) || (unsigned char)p[2] == 0xa8 ||
         (unsigned char)p[2] == 0xa9 || (unsigned char)p[2] == 0xaf)) { *l = 3; return 1; }
    if (n >= 3 && (unsigned char)p[0] == 0xe3 && (unsigned char)p[1] == 0x80 && (unsigned char)p[2] == 0x80) { *l = 3; return 1; }
    if (n >= 3 && (unsigned char)p[0] == 0xe1 && (unsigned char)p[1] == 0x9a && (unsigned char)p[2] == 0x80) { *l = 3; return 1; }
    if (n >= 3 && (unsigned char)p[0] == 0xe2 && (unsigned char)p[1] == 0x81 && (unsigned char)p[2] == 0x9f) { *l = 3; return 1; }
    return 0;
}

/* Whether the code point at p ends, as a suffix, a character in chars. */
static int in_chars(const char *c, size_t cn, const char *p, size_t l) {
    for (size_t i = 0; i + l <= cn;) {
        size_t k = 1;
        while (i + k < cn && ((unsigned char)c[i + k] & 0xc0) == 0x80) k++;
        if (k == l && !memcmp(c + i, p, l)) return 1;
        i += k;
    }
    return 0;
}

static size_t cp_len_at(const char *p, size_t n) {
    size_t k = 1;
    while (k < n && ((unsigned char)p[k] & 0xc0) == 0x80) k++;
    return k;
}

static size_t cp_start_before(const char *p, size_t end) {
    size_t k = end - 1;
    while (k > 0 && ((unsigned char)p[k] & 0xc0) == 0x80) k--;
    return k;
}

/* strip: which 1 left, 2 right, 3 both; chars NULL: whitespace. */
static jv str_strip(const jv *v, int which, const jv *chars) {
    const char *p = v->u.s.p;
    size_t a = 0, b = v->u.s.n, l;
    if (which & 1)
        while (a < b) {
            size_t k = cp_len_at(p + a, b - a);
            if (chars ? in_chars(chars->u.s.p, chars->u.s.n, p + a, k) : is_ws_cp(p + a, b - a, &l) && (k = l)) a += k;
            else break;
        }
    if (which & 2)
        while (b > a) {
            size_t s = cp_start_before(p, b);
            if (s < a) s = a;
            if (chars ? in_chars(chars->u.s.p, chars->u.s.n, p + s, b - s) : (is_ws_cp(p + s, b - s, &l) && l == b - s)) b = s;
            else break;
        }
    return mk_str(p + a, b - a);
}

static int str_eq(const jv *a, const char *s) { return a->t == V_STR && a->u.s.n == strlen(s) && !memcmp(a->u.s.p, s, a->u.s.n); }

/* ---- comparison ---- */

static int val_eq(evalr *e, const jv *a, const jv *b, int line);

static int is_num(const jv *v) { return v->t == V_INT || v->t == V_FLOAT || v->t == V_BOOL; }
static double num_of(const jv *v) { return v->t == V_INT ? (double)v->u.i : v->t == V_FLOAT ? v->u.f : v->u.b; }

/* Deep equality; nesting counts towards the depth bound (a template can
 * build lists nested as deep as its steps allow). */
static int val_eq(evalr *e, const jv *a, const jv *b, int line) {
    if (is_num(a) && is_num(b)) {
        if (a->t != V_FLOAT && b->t != V_FLOAT) return (a->t == V_INT ? a->u.i : a->u.b) == (b->t == V_INT ? b->u.i : b->u.b);
        return num_of(a) == num_of(b);
    }
    if (a->t != b->t) return 0;
    int r = 1;
    switch (a->t) {
    case V_UNDEF: case V_NONE: return 1;
    case V_STR: work(e, a->u.s.n, line); return a->u.s.n == b->u.s.n && !memcmp(a->u.s.p, b->u.s.p, a->u.s.n);
    case V_LIST:
        if (a->u.l->n != b->u.l->n) return 0;
        deeper(e, line);
        for (size_t i = 0; i < a->u.l->n && r; i++) r = val_eq(e, &a->u.l->v[i], &b->u.l->v[i], line);
        e->depth--;
        return r;
    case V_DICT:
        if (a->u.d->n != b->u.d->n) return 0;
        deeper(e, line);
        for (size_t i = 0; i < a->u.d->n && r; i++) {
            jv *o = dict_find(b->u.d, a->u.d->kp[i], a->u.d->kn[i]);
            r = o && val_eq(e, &a->u.d->v[i], o, line);
        }
        e->depth--;
        return r;
    default: return a->u.m == b->u.m;
    }
}

/* <0, 0, >0; fails for values without an order. */
static int val_cmp(evalr *e, const jv *a, const jv *b, int line) {
    if (is_num(a) && is_num(b)) {
        if (a->t == V_INT && b->t == V_INT) return (a->u.i > b->u.i) - (a->u.i < b->u.i);
        double x = num_of(a), y = num_of(b);
        return (x > y) - (x < y);
    }
    if (a->t == V_STR && b->t == V_STR) {
        size_t n = a->u.s.n < b->u.s.n ? a->u.s.n : b->u.s.n;
        work(e, n, line);
        int c = memcmp(a->u.s.p, b->u.s.p, n);
        if (c) return c;
        return (a->u.s.n > b->u.s.n) - (a->u.s.n < b->u.s.n);
    }
    if (a->t == V_LIST && b->t == V_LIST) {
        deeper(e, line);
        for (size_t i = 0; i < a->u.l->n && i < b->u.l->n; i++) {
            int c = val_cmp(e, &a->u.l->v[i], &b->u.l->v[i], line);
            if (c) { e->depth--; return c; }
        }
        e->depth--;
        return (a->u.l->n > b->u.l->n) - (a->u.l->n < b->u.l->n);
    }
    fail(e->f, line, "cannot compare %s with %s", a_type(a), a_type(b));
}

static int contains(evalr *e, const jv *hay, const jv *needle, int line) {
    if (hay->t == V_STR) work(e, hay->u.s.n, line);
    switch (hay->t) {
    case V_STR:
        if (needle->t != V_STR) fail(e->f, line, "'in <string>' needs a string on the left, not %s", a_type(needle));
        if (!needle->u.s.n) return 1;
        return memmem(hay->u.s.p, hay->u.s.n, needle->u.s.p, needle->u.s.n) != NULL;
    case V_LIST:
        for (size_t i = 0; i < hay->u.l->n; i++) if (val_eq(e, &hay->u.l->v[i], needle, line)) return 1;
        return 0;
    case V_DICT:
        return needle->t == V_STR && dict_find(hay->u.d, needle->u.s.p, needle->u.s.n) != NULL;
    case V_UNDEF: case V_NONE: return 0;
    default: fail(e->f, line, "'in' on %s", a_type(hay));
    }
}

/* ---- iteration ---- */

/* The items a for loop or a filter goes over: a list's, a dict's keys, a
 * string's characters. */
static jlist *items_of(evalr *e, const jv *v, int line) {
    if (v->t == V_LIST) return v->u.l;
    if (v->t == V_DICT) {
        jlist *l = list_new(e, v->u.d->n);
        for (size_t i = 0; i < v->u.d->n; i++) list_push(e, l, mk_str(v->u.d->kp[i], v->u.d->kn[i]));
        return l;
    }
    if (v->t == V_STR) {
        size_t k;
        size_t *o = u8_offsets(e, v->u.s.p, v->u.s.n, &k);
        jlist *l = list_new(e, k);
        for (size_t i = 0; i < k; i++) list_push(e, l, mk_str(v->u.s.p + o[i], o[i + 1] - o[i]));
        return l;
    }
    if (v->t == V_UNDEF || v->t == V_NONE) return list_new(e, 0);
    fail(e->f, line, "cannot iterate over %s", a_type(v));
}

static jv dict_items(evalr *e, const jdict *d) {
    jlist *l = list_new(e, d->n);
    for (size_t i = 0; i < d->n; i++) {
        jlist *pair = list_new(e, 2);
        list_push(e, pair, mk_str(d->kp[i], d->kn[i]));
        list_push(e, pair, d->v[i]);
        list_push(e, l, mk_list(pair));
    }
    return mk_list(l);
}

/* ---- evaluation ---- */

static jv eval(evalr *e, scope *s, const node *nd);
static void exec_body(evalr *e, scope *s, node *const *body, size_t n, obuf *out);

typedef struct {
    jv *pos;
    size_t n;
    const char **kn;
    size_t *kl;
    jv *kv;
    size_t nk;
    int line;
    const char *what;           /* "filter 'x'", for messages */
} args;

static void eval_args(evalr *e, scope *s, const node *nd, args *a, const char *what) {
    memset(a, 0, sizeof *a);
    a->line = nd->line;
    a->what = what;
    a->n = nd->n;
    if (nd->n) a->pos = xalloc(e->f, nd->n * sizeof *a->pos);
    for (size_t i = 0; i < nd->n; i++) a->pos[i] = eval(e, s, nd->list[i]);
    a->nk = nd->nn;
    a->kn = nd->names;
    a->kl = nd->name_lens;
    if (nd->nn) a->kv = xalloc(e->f, nd->nn * sizeof *a->kv);
    for (size_t i = 0; i < nd->nn; i++) a->kv[i] = eval(e, s, nd->list2[i]);
}

/* Argument i, or keyword name; NULL if neither is given. */
static const jv *arg(const args *a, size_t i, const char *name) {
    if (name)
        for (size_t k = 0; k < a->nk; k++)
            if (a->kl[k] == strlen(name) && !memcmp(a->kn[k], name, a->kl[k])) return &a->kv[k];
    return i < a->n ? &a->pos[i] : NULL;
}

static void max_args(evalr *e, const args *a, size_t n) {
    if (a->n > n) fail(e->f, a->line, "%s takes at most %zu argument%s, %zu given", a->what, n, n == 1 ? "" : "s", a->n);
}

static const jv *arg_str(evalr *e, const args *a, size_t i, const char *name, int required) {
    const jv *v = arg(a, i, name);
    if (!v || v->t == V_UNDEF) {
        if (required) fail(e->f, a->line, "%s needs its %s argument", a->what, name ? name : "first");
        return NULL;
    }
    if (v->t != V_STR) fail(e->f, a->line, "%s: %s must be a string, not %s", a->what, name ? name : "argument", a_type(v));
    return v;
}

static int64_t arg_int(evalr *e, const args *a, size_t i, const char *name, int64_t dflt) {
    const jv *v = arg(a, i, name);
    if (!v || v->t == V_UNDEF || v->t == V_NONE) return dflt;
    if (v->t == V_BOOL) return v->u.b;
    if (v->t != V_INT) fail(e->f, a->line, "%s: %s must be an integer, not %s", a->what, name ? name : "argument", a_type(v));
    return v->u.i;
}

static jv str_split(evalr *e, const jv *sv, const jv *sep, int64_t maxsplit, int line) {
    jlist *l = list_new(e, 0);
    const char *p = sv->u.s.p;
    size_t n = sv->u.s.n, i = 0;
    if (!sep) {
        size_t wl;
        for (;;) {
            while (i < n && is_ws_cp(p + i, n - i, &wl)) i += wl;
            if (i >= n) break;
            if (maxsplit >= 0 && (int64_t)l->n >= maxsplit) {
                size_t b = n;
                list_push(e, l, mk_str(p + i, b - i));
                break;
            }
            size_t j = i;
            while (j < n && !is_ws_cp(p + j, n - j, &wl)) j += cp_len_at(p + j, n - j);
            list_push(e, l, mk_str(p + i, j - i));
            i = j;
        }
        return mk_list(l);
    }
    if (!sep->u.s.n) fail(e->f, line, "split: empty separator");
    for (;;) {
        if (maxsplit >= 0 && (int64_t)l->n >= maxsplit) break;
        const char *at = memmem(p + i, n - i, sep->u.s.p, sep->u.s.n);
        if (!at) break;
        list_push(e, l, mk_str(p + i, (size_t)(at - (p + i))));
        i = (size_t)(at - p) + sep->u.s.n;
    }
    list_push(e, l, mk_str(p + i, n - i));
    return mk_list(l);
}

static jv str_replace(evalr *e, const jv *sv, const jv *old, const jv *nw, int64_t count) {
    obuf b = {0};
    const char *p = sv->u.s.p;
    size_t n = sv->u.s.n, i = 0;
    int64_t done = 0;
    if (!old->u.s.n) { /* Python inserts the new text between characters */
        for (;;) {
            if (count < 0 || done < count) { ob_put(e, &b, nw->u.s.p, nw->u.s.n, 0); done++; }
            if (i >= n) break;
            size_t k = cp_len_at(p + i, n - i);
            ob_put(e, &b, p + i, k, 0);
            i += k;
        }
        return b.n ? mk_str(b.p, b.n) : mk_str("", 0);
    }
    while (i < n && (count < 0 || done < count)) {
        const char *at = memmem(p + i, n - i, old->u.s.p, old->u.s.n);
        if (!at) break;
        ob_put(e, &b, p + i, (size_t)(at - (p + i)), 0);
        ob_put(e, &b, nw->u.s.p, nw->u.s.n, 0);
        i = (size_t)(at - p) + old->u.s.n;
        done++;
    }
    ob_put(e, &b, p + i, n - i, 0);
    return b.n ? mk_str(b.p, b.n) : mk_str("", 0);
}

static jv join(evalr *e, const jlist *l, const jv *sep, const jv *attr, int line) {
    obuf b = {0};
    for (size_t i = 0; i < l->n; i++) {
        if (i && sep) ob_put(e, &b, sep->u.s.p, sep->u.s.n, line);
        jv x = l->v[i];
        if (attr) {
            if (x.t != V_DICT) fail(e->f, line, "join(attribute=...) on %s", a_type(&x));
            jv *y = dict_find(x.u.d, attr->u.s.p, attr->u.s.n);
            x = y ? *y : mk_undef();
        }
        jv s = to_string(e, &x, line);
        ob_put(e, &b, s.u.s.p, s.u.s.n, line);
    }
    return b.n ? mk_str(b.p, b.n) : mk_str("", 0);
}

static int startswith_any(const jv *s, const jv *x, int end) {
    if (x->t == V_LIST) { /* a tuple of strings: one level, as Python takes it */
        for (size_t i = 0; i < x->u.l->n; i++)
            if (x->u.l->v[i].t == V_STR && startswith_any(s, &x->u.l->v[i], end)) return 1;
        return 0;
    }
    if (x->t != V_STR || x->u.s.n > s->u.s.n) return 0;
    return !memcmp(end ? s->u.s.p + s->u.s.n - x->u.s.n : s->u.s.p, x->u.s.p, x->u.s.n);
}

static int64_t norm_index(int64_t i, size_t n) { return i < 0 ? i + (int64_t)n : i; }

/* Python's slice on n items: the indices taken. */
static size_t slice_indices(evalr *e, const jv *a, const jv *b, const jv *c, size_t n, int64_t **out, int line) {
    int64_t step = 1;
    if (c && c->t != V_NONE && c->t != V_UNDEF) {
        if (c->t != V_INT) fail(e->f, line, "slice step must be an integer");
        step = c->u.i;
    }
    if (step == 0) fail(e->f, line, "slice step cannot be zero");
    int64_t N = (int64_t)n, lo, hi;
    if (step > 0) {
        lo = 0; hi = N;
        if (a && a->t == V_INT) { lo = a->u.i < 0 ? a->u.i + N : a->u.i; if (lo < 0) lo = 0; if (lo > N) lo = N; }
        if (b && b->t == V_INT) { hi = b->u.i < 0 ? b->u.i + N : b->u.i; if (hi < 0) hi = 0; if (hi > N) hi = N; }
    } else {
        lo = N - 1; hi = -1;
        if (a && a->t == V_INT) { lo = a->u.i < 0 ? a->u.i + N : a->u.i; if (lo < -1) lo = -1; if (lo > N - 1) lo = N - 1; }
        if (b && b->t == V_INT) { hi = b->u.i < 0 ? b->u.i + N : b->u.i; if (hi < -1) hi = -1; if (hi > N - 1) hi = N - 1; }
    }
    for (const jv *x = a; x; x = x == a ? b : NULL)
        if (x && x->t != V_INT && x->t != V_NONE && x->t != V_UNDEF) fail(e->f, line, "slice bounds must be integers");
    size_t k = 0;
    int64_t *idx = xalloc(e->f, (n + 1) * sizeof *idx);
    if (step > 0) for (int64_t i = lo; i < hi; i += step) { idx[k++] = i; if (step > N) break; }
    else for (int64_t i = lo; i > hi; i += step) { idx[k++] = i; if (-step > N) break; }
    *out = idx;
    return k;
}

static jv do_slice(evalr *e, const jv *obj, const jv *a, const jv *b, const jv *c, int line) {
    int64_t *idx;
    if (obj->t == V_LIST) {
        size_t k = slice_indices(e, a, b, c, obj->u.l->n, &idx, line);
        jlist *l = list_new(e, k);
        for (size_t i = 0; i < k; i++) list_push(e, l, obj->u.l->v[idx[i]]);
        return mk_list(l);
    }
    if (obj->t == V_STR) {
        size_t ncp;
        size_t *o = u8_offsets(e, obj->u.s.p, obj->u.s.n, &ncp);
        size_t k = slice_indices(e, a, b, c, ncp, &idx, line);
        char *out = xalloc(e->f, obj->u.s.n + 1);
        size_t w = 0;
        for (size_t i = 0; i < k; i++) {
            size_t l = o[idx[i] + 1] - o[idx[i]];
            memcpy(out + w, obj->u.s.p + o[idx[i]], l);
            w += l;
        }
        out[w] = 0;
        return mk_str(out, w);
    }
    fail(e->f, line, "cannot slice %s", a_type(obj));
}

static jv get_attr(evalr *e, const jv *obj, const char *name, size_t n, int line) {
    (void)e;
    (void)line;
    if (obj->t == V_DICT) {
        jv *v = dict_find(obj->u.d, name, n);
        return v ? *v : mk_undef();
    }
    if (obj->t == V_LOOP) {
        const jloop *lp = obj->u.loop;
        char nm[16];
        if (n >= sizeof nm) return mk_undef();
        memcpy(nm, name, n);
        nm[n] = 0;
        if (!strcmp(nm, "index")) return mk_int((int64_t)lp->i + 1);
        if (!strcmp(nm, "index0")) return mk_int((int64_t)lp->i);
        if (!strcmp(nm, "revindex")) return mk_int((int64_t)(lp->n - lp->i));
        if (!strcmp(nm, "revindex0")) return mk_int((int64_t)(lp->n - lp->i - 1));
        if (!strcmp(nm, "first")) return mk_bool(lp->i == 0);
        if (!strcmp(nm, "last")) return mk_bool(lp->i + 1 == lp->n);
        if (!strcmp(nm, "length")) return mk_int((int64_t)lp->n);
        if (!strcmp(nm, "previtem")) return lp->i ? lp->items[lp->i - 1] : mk_undef();
        if (!strcmp(nm, "nextitem")) return lp->i + 1 < lp->n ? lp->items[lp->i + 1] : mk_undef();
        if (!strcmp(nm, "depth")) return mk_int(1);
        if (!strcmp(nm, "depth0")) return mk_int(0);
        return mk_undef();
    }
    return mk_undef();
}

static jv get_index(evalr *e, const jv *obj, const jv *k, int line) {
    if (obj->t == V_DICT) {
        if (k->t == V_STR) {
            jv *v = dict_find(obj->u.d, k->u.s.p, k->u.s.n);
            return v ? *v : mk_undef();
        }
        if (k->t == V_INT) { /* JSON keys are strings: d[0] finds "0" */
            char b[32];
            int l = snprintf(b, sizeof b, "%lld", (long long)k->u.i);
            jv *v = dict_find(obj->u.d, b, (size_t)l);
            return v ? *v : mk_undef();
        }
        return mk_undef();
    }
    if (obj->t == V_LIST) {
        if (k->t != V_INT && k->t != V_BOOL) fail(e->f, line, "list index must be an integer, not %s", a_type(k));
        int64_t i = norm_index(k->t == V_INT ? k->u.i : k->u.b, obj->u.l->n);
        if (i < 0 || i >= (int64_t)obj->u.l->n) return mk_undef();
        return obj->u.l->v[i];
    }
    if (obj->t == V_STR) {
        if (k->t != V_INT) fail(e->f, line, "string index must be an integer, not %s", a_type(k));
        size_t ncp;
        size_t *o = u8_offsets(e, obj->u.s.p, obj->u.s.n, &ncp);
        int64_t i = norm_index(k->u.i, ncp);
        if (i < 0 || i >= (int64_t)ncp) return mk_undef();
        return mk_str(obj->u.s.p + o[i], o[i + 1] - o[i]);
    }
    if (obj->t == V_LOOP && k->t == V_STR) return get_attr(e, obj, k->u.s.p, k->u.s.n, line);
    return mk_undef();
}

static int64_t checked(evalr *e, int ovf, int line) {
    if (ovf) fail(e->f, line, "integer overflow");
    return 0;
}

static double py_fmod(double a, double b) {
    double m = fmod(a, b);
    if (m != 0 && ((m < 0) != (b < 0))) m += b;
    return m;
}

static jv binop(evalr *e, int op, const jv *a, const jv *b, int line) {
    char buf[64];
    switch (op) {
    case OP_EQ: return mk_bool(val_eq(e, a, b, line));
    case OP_NE: return mk_bool(!val_eq(e, a, b, line));
    case OP_LT: return mk_bool(val_cmp(e, a, b, line) < 0);
    case OP_GT: return mk_bool(val_cmp(e, a, b, line) > 0);
    case OP_LE: return mk_bool(val_cmp(e, a, b, line) <= 0);
    case OP_GE: return mk_bool(val_cmp(e, a, b, line) >= 0);
    case OP_IN: return mk_bool(contains(e, b, a, line));
    case OP_NOTIN: return mk_bool(!contains(e, b, a, line));
    case OP_CONCAT: {
        jv x = to_string(e, a, line), y = to_string(e, b, line);
        obuf o = {0};
        ob_put(e, &o, x.u.s.p, x.u.s.n, line);
        ob_put(e, &o, y.u.s.p, y.u.s.n, line);
        return o.n ? mk_str(o.p, o.n) : mk_str("", 0);
    }
    default: break;
    }
    if (op == OP_ADD && a->t == V_LIST && b->t == V_LIST) {
        jlist *l = list_new(e, a->u.l->n + b->u.l->n);
        for (size_t i = 0; i < a->u.l->n; i++) list_push(e, l, a->u.l->v[i]);
        for (size_t i = 0; i < b->u.l->n; i++) list_push(e, l, b->u.l->v[i]);
        return mk_list(l);
    }
    if (op == OP_ADD && (a->t == V_STR || b->t == V_STR)) {
        /* @huggingface/jinja joins a string and a number; Python would not */
        const jv *o = a->t == V_STR ? b : a;
        if (o->t != V_STR && !is_num(o))
            fail(e->f, line, "cannot add %s and %s", a_type(a), a_type(b));
        jv x = to_string(e, a, line), y = to_string(e, b, line);
        obuf ob = {0};
        ob_put(e, &ob, x.u.s.p, x.u.s.n, line);
        ob_put(e, &ob, y.u.s.p, y.u.s.n, line);
        return ob.n ? mk_str(ob.p, ob.n) : mk_str("", 0);
    }
    if (op == OP_MUL && ((a->t == V_STR && b->t == V_INT) || (a->t == V_INT && b->t == V_STR))) {
        const jv *s = a->t == V_STR ? a : b;
        int64_t k = a->t == V_INT ? a->u.i : b->u.i;
        if (k <= 0 || !s->u.s.n) return mk_str("", 0);
        if ((uint64_t)k > e->t->lim.max_output / s->u.s.n) fail(e->f, line, "string repetition longer than the output limit");
        obuf ob = {0};
        for (int64_t i = 0; i < k; i++) ob_put(e, &ob, s->u.s.p, s->u.s.n, line);
        return mk_str(ob.p, ob.n);
    }
    if (!is_num(a) || !is_num(b)) {
        static const char *const names[] = {"+", "-", "*", "/", "//", "%", "**"};
        fail(e->f, line, "unsupported operand types for %s: %s and %s", names[op], type_name(a), type_name(b));
    }
    (void)buf;
    if (a->t != V_FLOAT && b->t != V_FLOAT && op != OP_DIV) {
        int64_t x = a->t == V_INT ? a->u.i : a->u.b, y = b->t == V_INT ? b->u.i : b->u.b, r = 0;
        switch (op) {
        case OP_ADD: checked(e, __builtin_add_overflow(x, y, &r), line); return mk_int(r);
        case OP_SUB: checked(e, __builtin_sub_overflow(x, y, &r), line); return mk_int(r);
        case OP_MUL: checked(e, __builtin_mul_overflow(x, y, &r), line); return mk_int(r);
        case OP_FLOORDIV: case OP_MOD: {
            if (y == 0) fail(e->f, line, "integer division or modulo by zero");
            if (x == INT64_MIN && y == -1) fail(e->f, line, "integer overflow");
            int64_t q = x / y, m = x % y;
            if (m != 0 && ((m < 0) != (y < 0))) { q--; m += y; }
            return mk_int(op == OP_MOD ? m : q);
        }
        case OP_POW: {
            if (y < 0) return mk_float(pow((double)x, (double)y));
            r = 1;
            for (int64_t i = 0; i < y; i++) {
                checked(e, __builtin_mul_overflow(r, x, &r), line);
                if (r == 0 || r == 1) break;
            }
            if (r == 1 && x == -1 && (y & 1)) r = -1;
            return mk_int(r);
        }
        }
    }
    double x = num_of(a), y = num_of(b);
    switch (op) {
    case OP_ADD: return mk_float(x + y);
    case OP_SUB: return mk_float(x - y);
    case OP_MUL: return mk_float(x * y);
    case OP_DIV: if (y == 0) fail(e->f, line, "division by zero"); return mk_float(x / y);
    case OP_FLOORDIV: if (y == 0) fail(e->f, line, "division by zero"); return mk_float(floor(x / y));
    case OP_MOD: if (y == 0) fail(e->f, line, "modulo by zero"); return mk_float(py_fmod(x, y));
    case OP_POW: return mk_float(pow(x, y));
    }
    fail(e->f, line, "bad operator");
}

/* ---- tests ---- */

static int run_test(evalr *e, const char *name, size_t nl, const jv *v, const args *a, int line) {
    char nm[32];
    if (nl >= sizeof nm) goto unknown;
    memcpy(nm, name, nl);
    nm[nl] = 0;
    const jv *x = arg(a, 0, NULL);
    if (!strcmp(nm, "defined")) return v->t != V_UNDEF;
    if (!strcmp(nm, "undefined")) return v->t == V_UNDEF;
    if (!strcmp(nm, "none")) return v->t == V_NONE;
    if (!strcmp(nm, "string")) return v->t == V_STR;
    if (!strcmp(nm, "number")) return v->t == V_INT || v->t == V_FLOAT;
    if (!strcmp(nm, "integer")) return v->t == V_INT;
    if (!strcmp(nm, "float")) return v->t == V_FLOAT;
    if (!strcmp(nm, "boolean")) return v->t == V_BOOL;
    if (!strcmp(nm, "true")) return v->t == V_BOOL && v->u.b;
    if (!strcmp(nm, "false")) return v->t == V_BOOL && !v->u.b;
    if (!strcmp(nm, "mapping")) return v->t == V_DICT;
    if (!strcmp(nm, "iterable")) return v->t == V_LIST || v->t == V_DICT || v->t == V_STR;
    if (!strcmp(nm, "sequence")) return v->t == V_LIST || v->t == V_DICT || v->t == V_STR;
    if (!strcmp(nm, "callable")) return v->t == V_MACRO || v->t == V_FUNC;
    if (!strcmp(nm, "lower") || !strcmp(nm, "upper")) {
        if (v->t != V_STR) return 0;
        jv c = str_case(e, v, nm[0] == 'l' ? 0 : 1);
        return c.u.s.n == v->u.s.n && !memcmp(c.u.s.p, v->u.s.p, c.u.s.n);
    }
    if (!strcmp(nm, "odd") || !strcmp(nm, "even")) {
        if (v->t != V_INT) fail(e->f, line, "test '%s' needs an integer, not %s", nm, a_type(v));
        return (int)(v->u.i & 1) == (nm[0] == 'o');
    }
    if (!x) {
        static const char *const need[] = {"equalto", "eq", "==", "ne", "!=", "lt", "<", "le", "<=", "gt", ">", "ge",
                                           ">=", "in", "sameas", "divisibleby", NULL};
        for (int k = 0; need[k]; k++)
            if (!strcmp(nm, need[k])) fail(e->f, line, "test '%s' needs an argument", nm);
        goto unknown;
    }
    if (!strcmp(nm, "equalto") || !strcmp(nm, "eq") || !strcmp(nm, "==")) return val_eq(e, v, x, line);
    if (!strcmp(nm, "ne") || !strcmp(nm, "!=")) return !val_eq(e, v, x, line);
    if (!strcmp(nm, "lt") || !strcmp(nm, "<")) return val_cmp(e, v, x, line) < 0;
    if (!strcmp(nm, "le") || !strcmp(nm, "<=")) return val_cmp(e, v, x, line) <= 0;
    if (!strcmp(nm, "gt") || !strcmp(nm, ">")) return val_cmp(e, v, x, line) > 0;
    if (!strcmp(nm, "ge") || !strcmp(nm, ">=")) return val_cmp(e, v, x, line) >= 0;
    if (!strcmp(nm, "in")) return contains(e, x, v, line);
    if (!strcmp(nm, "sameas")) return v->t == x->t && (v->t == V_NONE || v->t == V_UNDEF || (v->t == V_BOOL && v->u.b == x->u.b) ||
                                                       ((v->t == V_LIST || v->t == V_DICT) && v->u.l == x->u.l));
    if (!strcmp(nm, "divisibleby")) {
        if (v->t != V_INT || x->t != V_INT || x->u.i == 0) fail(e->f, line, "test 'divisibleby' needs nonzero integers");
        if (x->u.i == -1) return 1;
        return v->u.i % x->u.i == 0;
    }
unknown:;
    char b[64];
    fail(e->f, line, "unsupported test '%s'", show(b, sizeof b, name, nl));
}

/* ---- filters ---- */

static jv attr_path(evalr *e, const jv *x, const jv *attr, int line) {
    /* "a.b" goes into nested dicts, as Jinja's attribute= does */
    const char *p = attr->u.s.p, *end = p + attr->u.s.n;
    jv cur = *x;
    while (p <= end) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        size_t l = dot ? (size_t)(dot - p) : (size_t)(end - p);
        jv k = mk_str(p, l);
        if (cur.t == V_LIST && l && is_digit(p[0])) k = mk_int(strtoll(p, NULL, 10));
        cur = get_index(e, &cur, &k, line);
        if (!dot) break;
        p = dot + 1;
    }
    return cur;
}

static void sort_vals(evalr *e, jv *v, size_t n, const jv *attr, int reverse, int line) {
    /* insertion sort would be O(n^2): a merge sort, stable as Python's */
    if (n < 2) return;
    jv *tmp = xalloc(e->f, n * sizeof *tmp);
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n, i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                jv ka = attr ? attr_path(e, &v[i], attr, line) : v[i], kb = attr ? attr_path(e, &v[j], attr, line) : v[j];
                int c = val_cmp(e, &ka, &kb, line);
                if (reverse) c = -c;
                tmp[k++] = c <= 0 ? v[i++] : v[j++];
            }
            while (i < mid) tmp[k++] = v[i++];
            while (j < hi) tmp[k++] = v[j++];
        }
        memcpy(v, tmp, n * sizeof *v);
        step(e, line);
    }
}

static jv apply_filter(evalr *e, scope *s, const char *name, size_t nl, const jv *in, const args *a, int line);

static jv select_items(evalr *e, scope *s, const jv *in, const args *a, int by_attr, int keep, int line) {
    jlist *src = items_of(e, in, line);
    jlist *out = list_new(e, 0);
    size_t first = by_attr ? 1 : 0;
    const jv *attr = by_attr ? arg_str(e, a, 0, NULL, 1) : NULL;
    const jv *test = arg(a, first, NULL);
    if (test && test->t != V_STR) fail(e->f, line, "%s: the test name must be a string", a->what);
    args ta = {0};
    ta.line = line;
    ta.what = "test";
    if (a->n > first + 1) { ta.pos = a->pos + first + 1; ta.n = a->n - first - 1; }
    for (size_t i = 0; i < src->n; i++) {
        step(e, line);
        jv x = by_attr ? attr_path(e, &src->v[i], attr, line) : src->v[i];
        int r = test ? run_test(e, test->u.s.p, test->u.s.n, &x, &ta, line) : truthy(&x);
        if (r == keep) list_push(e, out, src->v[i]);
    }
    (void)s;
    return mk_list(out);
}

static jv apply_filter(evalr *e, scope *s, const char *name, size_t nl, const jv *in, const args *a, int line) {
    if (in->t == V_STR) work(e, in->u.s.n, line);
    char nm[32];
    char b[64];
    if (nl >= sizeof nm) fail(e->f, line, "unsupported filter '%s'", show(b, sizeof b, name, nl));
    memcpy(nm, name, nl);
    nm[nl] = 0;
    if (!strcmp(nm, "safe") || !strcmp(nm, "e") || !strcmp(nm, "escape") || !strcmp(nm, "forceescape")) {
        if (!strcmp(nm, "safe")) return *in;
        /* autoescape is off for chat templates: escape() escapes */
        jv sv = to_string(e, in, line);
        obuf o = {0};
        for (size_t i = 0; i < sv.u.s.n; i++) {
            char c = sv.u.s.p[i];
            if (c == '&') ob_puts(e, &o, "&amp;", line);
            else if (c == '<') ob_puts(e, &o, "&lt;", line);
            else if (c == '>') ob_puts(e, &o, "&gt;", line);
            else if (c == '"') ob_puts(e, &o, "&#34;", line);
            else if (c == '\'') ob_puts(e, &o, "&#39;", line);
            else ob_put(e, &o, &c, 1, line);
        }
        return o.n ? mk_str(o.p, o.n) : mk_str("", 0);
    }
    if (!strcmp(nm, "trim")) {
        max_args(e, a, 1);
        if (in->t != V_STR) { jv sv = to_string(e, in, line); return str_strip(&sv, 3, arg_str(e, a, 0, "chars", 0)); }
        return str_strip(in, 3, arg_str(e, a, 0, "chars", 0));
    }
    if (!strcmp(nm, "length") || !strcmp(nm, "count")) {
        if (in->t == V_STR) return mk_int((int64_t)u8_len(in->u.s.p, in->u.s.n));
        if (in->t == V_LIST) return mk_int((int64_t)in->u.l->n);
        if (in->t == V_DICT) return mk_int((int64_t)in->u.d->n);
        if (in->t == V_UNDEF) return mk_int(0);
        fail(e->f, line, "filter 'length' on %s", a_type(in));
    }
    if (!strcmp(nm, "tojson")) {
        const jv *ind = arg(a, 0, "indent");
        int indent = -1;
        if (ind && ind->t == V_INT) {
            if (ind->u.i < 0 || ind->u.i > 64) fail(e->f, line, "tojson: indent out of range");
            indent = (int)ind->u.i;
        } else if (ind && ind->t != V_NONE && ind->t != V_UNDEF) fail(e->f, line, "tojson: indent must be an integer");
        obuf o = {0};
        to_json(e, &o, in, indent, 0, line);
        return mk_str(o.p, o.n);
    }
    if (!strcmp(nm, "upper") || !strcmp(nm, "lower") || !strcmp(nm, "title") || !strcmp(nm, "capitalize")) {
        jv sv = to_string(e, in, line);
        return str_case(e, &sv, nm[0] == 'l' ? 0 : nm[0] == 'u' ? 1 : nm[0] == 't' ? 2 : 3);
    }
    if (!strcmp(nm, "items")) {
        if (in->t == V_DICT) return dict_items(e, in->u.d);
        if (in->t == V_UNDEF || in->t == V_NONE) return mk_list(list_new(e, 0));
        fail(e->f, line, "filter 'items' on %s", a_type(in));
    }
    if (!strcmp(nm, "string")) return to_string(e, in, line);
    if (!strcmp(nm, "int")) {
        int64_t d = arg_int(e, a, 0, "default", 0);
        if (in->t == V_INT) return *in;
        if (in->t == V_BOOL) return mk_int(in->u.b);
        if (in->t == V_FLOAT) {
            if (!(fabs(in->u.f) < 9.2e18)) return mk_int(d);
            return mk_int((int64_t)in->u.f);
        }
        if (in->t == V_STR) {
            char buf[64];
            jv t = str_strip(in, 3, NULL);
            if (t.u.s.n == 0 || t.u.s.n >= sizeof buf) return mk_int(d);
            memcpy(buf, t.u.s.p, t.u.s.n);
            buf[t.u.s.n] = 0;
            char *end;
            long long v = strtoll(buf, &end, 10);
            if (!*end) return mk_int(v);
            double f = strtod(buf, &end);
            if (!*end && fabs(f) < 9.2e18) return mk_int((int64_t)f);
            return mk_int(d);
        }
        return mk_int(d);
    }
    if (!strcmp(nm, "float")) {
        if (in->t == V_INT || in->t == V_BOOL || in->t == V_FLOAT) return mk_float(num_of(in));
        if (in->t == V_STR) {
            char buf[64];
            jv t = str_strip(in, 3, NULL);
            if (t.u.s.n && t.u.s.n < sizeof buf) {
                memcpy(buf, t.u.s.p, t.u.s.n);
                buf[t.u.s.n] = 0;
                char *end;
                double f = strtod(buf, &end);
                if (!*end) return mk_float(f);
            }
        }
        const jv *d = arg(a, 0, "default");
        return d ? *d : mk_float(0);
    }
    if (!strcmp(nm, "default") || !strcmp(nm, "d")) {
        const jv *d = arg(a, 0, "default_value");
        const jv *bo = arg(a, 1, "boolean");
        int use = bo && truthy(bo) ? !truthy(in) : in->t == V_UNDEF;
        return use ? (d ? *d : mk_str("", 0)) : *in;
    }
    if (!strcmp(nm, "join")) {
        const jv *sep = arg_str(e, a, 0, "d", 0);
        const jv *attr = arg_str(e, a, 1, "attribute", 0);
        return join(e, items_of(e, in, line), sep, attr, line);
    }
    if (!strcmp(nm, "first") || !strcmp(nm, "last")) {
        jlist *l = items_of(e, in, line);
        if (!l->n) return mk_undef();
        return nm[0] == 'f' ? l->v[0] : l->v[l->n - 1];
    }
    if (!strcmp(nm, "reverse")) {
        if (in->t == V_STR) { jv m1 = mk_int(-1); return do_slice(e, in, NULL, NULL, &m1, line); }
        jlist *l = items_of(e, in, line), *r = list_new(e, l->n);
        for (size_t i = l->n; i-- > 0;) list_push(e, r, l->v[i]);
        return mk_list(r);
    }
    if (!strcmp(nm, "list")) {
        jlist *l = items_of(e, in, line), *r = list_new(e, l->n);
        for (size_t i = 0; i < l->n; i++) list_push(e, r, l->v[i]);
        return mk_list(r);
    }
    if (!strcmp(nm, "replace")) {
        jv sv = to_string(e, in, line);
        const jv *old = arg_str(e, a, 0, "old", 1), *nw = arg_str(e, a, 1, "new", 1);
        return str_replace(e, &sv, old, nw, arg_int(e, a, 2, "count", -1));
    }
    if (!strcmp(nm, "selectattr")) return select_items(e, s, in, a, 1, 1, line);
    if (!strcmp(nm, "rejectattr")) return select_items(e, s, in, a, 1, 0, line);
    if (!strcmp(nm, "select")) return select_items(e, s, in, a, 0, 1, line);
    if (!strcmp(nm, "reject")) return select_items(e, s, in, a, 0, 0, line);
    if (!strcmp(nm, "map")) {
        jlist *l = items_of(e, in, line), *r = list_new(e, l->n);
        const jv *attr = arg(a, 99, "attribute");
        if (attr) {
            if (attr->t != V_STR) fail(e->f, line, "map: attribute must be a string");
            const jv *dflt = arg(a, 99, "default");
            for (size_t i = 0; i < l->n; i++) {
                jv x = attr_path(e, &l->v[i], attr, line);
                list_push(e, r, x.t == V_UNDEF && dflt ? *dflt : x);
            }
            return mk_list(r);
        }
        const jv *fname = arg_str(e, a, 0, NULL, 1);
        args fa = {0};
        fa.line = line;
        fa.what = "filter";
        if (a->n > 1) { fa.pos = a->pos + 1; fa.n = a->n - 1; }
        deeper(e, line); /* map('map', 'map', ...) nests */
        for (size_t i = 0; i < l->n; i++) {
            step(e, line);
            list_push(e, r, apply_filter(e, s, fname->u.s.p, fname->u.s.n, &l->v[i], &fa, line));
        }
        e->depth--;
        return mk_list(r);
    }
    if (!strcmp(nm, "abs")) {
        if (in->t == V_INT) { if (in->u.i == INT64_MIN) fail(e->f, line, "integer overflow"); return mk_int(in->u.i < 0 ? -in->u.i : in->u.i); }
        if (in->t == V_FLOAT) return mk_float(fabs(in->u.f));
        fail(e->f, line, "filter 'abs' on %s", a_type(in));
    }
    if (!strcmp(nm, "round")) {
        if (!is_num(in)) fail(e->f, line, "filter 'round' on %s", a_type(in));
        int64_t prec = arg_int(e, a, 0, "precision", 0);
        const jv *method = arg_str(e, a, 1, "method", 0);
        if (prec < 0 || prec > 15) fail(e->f, line, "round: precision out of range");
        double m = pow(10, (double)prec), x = num_of(in) * m;
        if (!method || str_eq(method, "common")) x = x < 0 ? -floor(-x + 0.5) : floor(x + 0.5);
        else if (str_eq(method, "floor")) x = floor(x);
        else if (str_eq(method, "ceil")) x = ceil(x);
        else fail(e->f, line, "round: method must be common, floor or ceil");
        return mk_float(x / m);
    }
    if (!strcmp(nm, "sort") || !strcmp(nm, "dictsort")) {
        int reverse = 0;
        const jv *r = arg(a, !strcmp(nm, "sort") ? 0 : 2, "reverse");
        if (r) reverse = truthy(r);
        if (!strcmp(nm, "dictsort")) {
            if (in->t != V_DICT) fail(e->f, line, "filter 'dictsort' on %s", a_type(in));
            jv it = dict_items(e, in->u.d);
            jv zero = mk_str("0", 1);
            sort_vals(e, it.u.l->v, it.u.l->n, &zero, reverse, line);
            return it;
        }
        const jv *attr = arg_str(e, a, 2, "attribute", 0);
        jlist *l = items_of(e, in, line), *o = list_new(e, l->n);
        for (size_t i = 0; i < l->n; i++) list_push(e, o, l->v[i]);
        sort_vals(e, o->v, o->n, attr, reverse, line);
        return mk_list(o);
    }
    if (!strcmp(nm, "unique")) {
        jlist *l = items_of(e, in, line), *o = list_new(e, 0);
        for (size_t i = 0; i < l->n; i++) {
            int seen = 0;
            for (size_t j = 0; j < o->n && !seen; j++) seen = val_eq(e, &o->v[j], &l->v[i], line);
            step(e, line);
            if (!seen) list_push(e, o, l->v[i]);
        }
        return mk_list(o);
    }
    if (!strcmp(nm, "min") || !strcmp(nm, "max")) {
        jlist *l = items_of(e, in, line);
        if (!l->n) return mk_undef();
        jv best = l->v[0];
        for (size_t i = 1; i < l->n; i++) {
            int c = val_cmp(e, &l->v[i], &best, line);
            if (nm[1] == 'i' ? c < 0 : c > 0) best = l->v[i];
        }
        return best;
    }
    if (!strcmp(nm, "sum")) {
        jlist *l = items_of(e, in, line);
        const jv *attr = arg_str(e, a, 0, "attribute", 0);
        const jv *start = arg(a, 1, "start");
        jv acc = start ? *start : mk_int(0);
        for (size_t i = 0; i < l->n; i++) {
            jv x = attr ? attr_path(e, &l->v[i], attr, line) : l->v[i];
            acc = binop(e, OP_ADD, &acc, &x, line);
        }
        return acc;
    }
    if (!strcmp(nm, "indent")) {
        jv sv = to_string(e, in, line);
        const jv *w = arg(a, 0, "width");
        jv pad;
        if (!w || w->t == V_INT) {
            int64_t k = w ? w->u.i : 4;
            if (k < 0 || k > 1024) fail(e->f, line, "indent: width out of range");
            char *p = xalloc(e->f, (size_t)k + 1);
            memset(p, ' ', (size_t)k);
            pad = mk_str(p, (size_t)k);
        } else if (w->t == V_STR) pad = *w;
        else fail(e->f, line, "indent: width must be an integer or a string");
        const jv *fi = arg(a, 1, "first"), *bl = arg(a, 2, "blank");
        int first = fi && truthy(fi), blank = bl && truthy(bl);
        obuf o = {0};
        const char *p = sv.u.s.p, *end = p + sv.u.s.n;
        int lineno = 0;
        while (p < end || (lineno == 0 && p == end)) {
            const char *nlp = memchr(p, '\n', (size_t)(end - p));
            size_t l = nlp ? (size_t)(nlp - p) : (size_t)(end - p);
            if ((lineno > 0 || first) && (l > 0 || blank)) ob_put(e, &o, pad.u.s.p, pad.u.s.n, line);
            ob_put(e, &o, p, l, line);
            if (nlp) ob_put(e, &o, "\n", 1, line);
            lineno++;
            if (!nlp) break;
            p = nlp + 1;
            if (p == end) break;
        }
        return o.n ? mk_str(o.p, o.n) : mk_str("", 0);
    }
    if (!strcmp(nm, "wordcount")) {
        jv sv = to_string(e, in, line);
        jv parts = str_split(e, &sv, NULL, -1, line);
        return mk_int((int64_t)parts.u.l->n);
    }
    fail(e->f, line, "unsupported filter '%s'", nm);
}

/* ---- calls ---- */

static jv call_macro(evalr *e, const jv *mv, const args *a, const jmacro *caller, int line) {
    const jmacro *m = mv->u.m;
    const node *def = m->def;
    deeper(e, line);
    step(e, line);
    scope *s = scope_new(e, m->env);
    for (size_t i = 0; i < def->nn; i++) {
        const jv *v = i < a->n ? &a->pos[i] : NULL;
        for (size_t k = 0; k < a->nk; k++)
            if (a->kl[k] == def->name_lens[i] && !memcmp(a->kn[k], def->names[i], a->kl[k])) v = &a->kv[k];
        jv val = v ? *v : def->list2[i] ? eval(e, s, def->list2[i]) : mk_undef();
        dict_set(e->f, &s->vars, def->names[i], def->name_lens[i], val);
    }
    for (size_t k = 0; k < a->nk; k++) {
        int known = 0;
        for (size_t i = 0; i < def->nn; i++)
            known |= a->kl[k] == def->name_lens[i] && !memcmp(a->kn[k], def->names[i], a->kl[k]);
        if (!known) {
            char b[64], c[64];
            fail(e->f, line, "macro '%s' has no parameter '%s'", show(b, sizeof b, def->s, def->sn), show(c, sizeof c, a->kn[k], a->kl[k]));
        }
    }
    if (a->n > def->nn) {
        /* extra positional arguments: Jinja's varargs */
        jlist *va = list_new(e, a->n - def->nn);
        for (size_t i = def->nn; i < a->n; i++) list_push(e, va, a->pos[i]);
        dict_set(e->f, &s->vars, "varargs", 7, mk_list(va));
    }
    if (caller) {
        jv cv = mk_undef();
        cv.t = V_MACRO;
        cv.u.m = (jmacro *)caller;
        dict_set(e->f, &s->vars, "caller", 6, cv);
    }
    obuf out = {0};
    int ctl = e->ctl;
    exec_body(e, s, def->list, def->n, &out);
    e->ctl = ctl;
    e->depth--;
    return out.n ? mk_str(out.p, out.n) : mk_str("", 0);
}

/* caller() of a {% call %} block: a macro whose body is the block's. */
static jv call_caller(evalr *e, const jmacro *c, const args *a, int line) {
    deeper(e, line);
    step(e, line);
    scope *s = scope_new(e, c->env);
    for (size_t i = 0; i < c->def->nn; i++)
        dict_set(e->f, &s->vars, c->def->names[i], c->def->name_lens[i], i < a->n ? a->pos[i] : mk_undef());
    obuf out = {0};
    int ctl = e->ctl;
    exec_body(e, s, c->def->list, c->def->n, &out);
    e->ctl = ctl;
    e->depth--;
    return out.n ? mk_str(out.p, out.n) : mk_str("", 0);
}

static jv call_global(evalr *e, int fn, const args *a, int line) {
    switch (fn) {
    case 0: { /* range */
        int64_t start = 0, stop, stp = 1;
        if (a->n == 0 || a->n > 3) fail(e->f, line, "range takes 1 to 3 arguments");
        if (a->n == 1) stop = arg_int(e, a, 0, NULL, 0);
        else { start = arg_int(e, a, 0, NULL, 0); stop = arg_int(e, a, 1, NULL, 0); }
        if (a->n == 3) stp = arg_int(e, a, 2, NULL, 1);
        if (stp == 0) fail(e->f, line, "range step cannot be zero");
        jlist *l = list_new(e, 0);
        for (int64_t i = start; stp > 0 ? i < stop : i > stop;) {
            list_push(e, l, mk_int(i));
            step(e, line);
            if (__builtin_add_overflow(i, stp, &i)) break;
        }
        return mk_list(l);
    }
    case 1: case 4: { /* namespace, dict */
        jdict *d = xcalloc(e->f, 1, sizeof *d);
        d->is_ns = fn == 1;
        for (size_t i = 0; i < a->n; i++) {
            if (a->pos[i].t != V_DICT) fail(e->f, line, "%s() takes keyword arguments or a dict", fn == 1 ? "namespace" : "dict");
            for (size_t k = 0; k < a->pos[i].u.d->n; k++)
                dict_set(e->f, d, a->pos[i].u.d->kp[k], a->pos[i].u.d->kn[k], a->pos[i].u.d->v[k]);
        }
        for (size_t k = 0; k < a->nk; k++) dict_set(e->f, d, a->kn[k], a->kl[k], a->kv[k]);
        return mk_dict(d);
    }
    case 2: { /* raise_exception */
        jv msg = a->n ? to_string(e, &a->pos[0], line) : mk_str("", 0);
        char b[300];
        fail(e->f, line, "raise_exception: %s", show(b, sizeof b, msg.u.s.p, msg.u.s.n < 200 ? msg.u.s.n : 200));
    }
    case 3: { /* strftime_now */
        const jv *f = arg_str(e, a, 0, NULL, 1);
        char fmt[256], out[512];
        if (f->u.s.n >= sizeof fmt) fail(e->f, line, "strftime_now: format too long");
        memcpy(fmt, f->u.s.p, f->u.s.n);
        fmt[f->u.s.n] = 0;
        time_t now = time(NULL);
        struct tm tm;
        if (!localtime_r(&now, &tm)) fail(e->f, line, "strftime_now: no local time");
        size_t n = strftime(out, sizeof out, fmt, &tm);
        return str_copy(e, out, n);
    }
    }
    fail(e->f, line, "bad function");
}

/* A method of a string, dict, list or loop: obj.name(args). */
static int call_method(evalr *e, jv *obj, const char *name, size_t nl, const args *a, jv *out, int line) {
    if (obj->t == V_STR) work(e, obj->u.s.n, line);
    char nm[24];
    if (nl >= sizeof nm) return 0;
    memcpy(nm, name, nl);
    nm[nl] = 0;
    if (obj->t == V_STR) {
        if (!strcmp(nm, "startswith") || !strcmp(nm, "endswith")) {
            const jv *x = arg(a, 0, NULL);
            if (!x || (x->t != V_STR && x->t != V_LIST)) fail(e->f, line, "%s needs a string or a tuple of strings", nm);
            *out = mk_bool(startswith_any(obj, x, nm[0] == 'e'));
            return 1;
        }
        if (!strcmp(nm, "strip") || !strcmp(nm, "lstrip") || !strcmp(nm, "rstrip")) {
            const jv *c = arg(a, 0, "chars");
            if (c && c->t == V_NONE) c = NULL;
            if (c && c->t != V_STR) fail(e->f, line, "%s: chars must be a string", nm);
            *out = str_strip(obj, nm[0] == 'l' ? 1 : nm[0] == 'r' ? 2 : 3, c);
            return 1;
        }
        if (!strcmp(nm, "split")) {
            const jv *sep = arg(a, 0, "sep");
            if (sep && sep->t == V_NONE) sep = NULL;
            if (sep && sep->t != V_STR) fail(e->f, line, "split: sep must be a string");
            *out = str_split(e, obj, sep, arg_int(e, a, 1, "maxsplit", -1), line);
            return 1;
        }
        if (!strcmp(nm, "upper") || !strcmp(nm, "lower") || !strcmp(nm, "title") || !strcmp(nm, "capitalize")) {
            *out = str_case(e, obj, nm[0] == 'l' ? 0 : nm[0] == 'u' ? 1 : nm[0] == 't' ? 2 : 3);
            return 1;
        }
        if (!strcmp(nm, "replace")) {
            const jv *old = arg_str(e, a, 0, NULL, 1), *nw = arg_str(e, a, 1, NULL, 1);
            *out = str_replace(e, obj, old, nw, arg_int(e, a, 2, "count", -1));
            return 1;
        }
        if (!strcmp(nm, "join")) {
            const jv *x = arg(a, 0, NULL);
            if (!x) fail(e->f, line, "join needs a list");
            *out = join(e, items_of(e, x, line), obj, NULL, line);
            return 1;
        }
        if (!strcmp(nm, "find") || !strcmp(nm, "count")) {
            const jv *x = arg_str(e, a, 0, NULL, 1);
            const char *p = obj->u.s.p;
            size_t n = obj->u.s.n;
            if (nm[0] == 'f') {
                const char *at = x->u.s.n ? memmem(p, n, x->u.s.p, x->u.s.n) : p;
                *out = mk_int(at ? (int64_t)u8_len(p, (size_t)(at - p)) : -1);
            } else {
                int64_t k = 0;
                if (!x->u.s.n) k = (int64_t)u8_len(p, n) + 1;
                else for (const char *q = p; (q = memmem(q, n - (size_t)(q - p), x->u.s.p, x->u.s.n)); q += x->u.s.n) k++;
                *out = mk_int(k);
            }
            return 1;
        }
        if (!strcmp(nm, "format")) { /* Python's str.format: {}, {0}, {name}, {{ and }}; no format specs */
            obuf o = {0};
            const char *p = obj->u.s.p;
            size_t n = obj->u.s.n, next_arg = 0;
            for (size_t i = 0; i < n; i++) {
                if ((p[i] == '{' || p[i] == '}') && i + 1 < n && p[i + 1] == p[i]) { ob_put(e, &o, p + i, 1, line); i++; continue; }
                if (p[i] == '}') fail(e->f, line, "format: single '}' in the format string");
                if (p[i] != '{') { ob_put(e, &o, p + i, 1, line); continue; }
                const char *close = memchr(p + i, '}', n - i);
                if (!close) fail(e->f, line, "format: single '{' in the format string");
                const char *f = p + i + 1;
                size_t fl = (size_t)(close - f);
                const jv *v = NULL;
                if (memchr(f, ':', fl) || memchr(f, '!', fl) || memchr(f, '.', fl) || memchr(f, '[', fl))
                    fail(e->f, line, "unsupported: format specs and conversions in str.format");
                if (!fl) v = arg(a, next_arg++, NULL);
                else if (is_digit(f[0])) v = arg(a, (size_t)strtoul(f, NULL, 10), NULL);
                else
                    for (size_t k = 0; k < a->nk; k++)
                        if (a->kl[k] == fl && !memcmp(a->kn[k], f, fl)) v = &a->kv[k];
                if (!v) fail(e->f, line, "format: no argument for a field");
                jv sv = to_string(e, v, line);
                ob_put(e, &o, sv.u.s.p, sv.u.s.n, line);
                i = (size_t)(close - p);
            }
            *out = o.n ? mk_str(o.p, o.n) : mk_str("", 0);
            return 1;
        }
        if (!strcmp(nm, "isdigit") || !strcmp(nm, "isspace") || !strcmp(nm, "isalpha") || !strcmp(nm, "isalnum")) {
            int ok = obj->u.s.n > 0;
            for (size_t i = 0; i < obj->u.s.n && ok; i++) {
                char c = obj->u.s.p[i];
                ok = nm[2] == 'd' ? is_digit(c) : nm[2] == 's' ? is_ws(c) : nm[4] == 'a' && nm[5] == 0 ?
                     ((c | 32) >= 'a' && (c | 32) <= 'z') : is_word(c) && c != '_';
            }
            *out = mk_bool(ok);
            return 1;
        }
        return 0;
    }
    if (obj->t == V_DICT) {
        if (!strcmp(nm, "get")) {
            const jv *k = arg(a, 0, NULL), *d = arg(a, 1, NULL);
            if (!k) fail(e->f, line, "get needs a key");
            jv v = get_index(e, obj, k, line);
            *out = v.t == V_UNDEF ? (d ? *d : mk_none()) : v;
            return 1;
        }
        if (!strcmp(nm, "items")) { *out = dict_items(e, obj->u.d); return 1; }
        if (!strcmp(nm, "keys") || !strcmp(nm, "values")) {
            jlist *l = list_new(e, obj->u.d->n);
            for (size_t i = 0; i < obj->u.d->n; i++)
                list_push(e, l, nm[0] == 'k' ? mk_str(obj->u.d->kp[i], obj->u.d->kn[i]) : obj->u.d->v[i]);
            *out = mk_list(l);
            return 1;
        }
        return 0;
    }
    if (obj->t == V_LIST) {
        if (!strcmp(nm, "append")) {
            const jv *x = arg(a, 0, NULL);
            if (!x) fail(e->f, line, "append needs a value");
            list_push(e, obj->u.l, *x);
            *out = mk_none();
            return 1;
        }
        if (!strcmp(nm, "pop")) {
            if (!obj->u.l->n) fail(e->f, line, "pop from an empty list");
            int64_t i = norm_index(arg_int(e, a, 0, NULL, -1), obj->u.l->n);
            if (i < 0 || i >= (int64_t)obj->u.l->n) fail(e->f, line, "pop index out of range");
            *out = obj->u.l->v[i];
            memmove(obj->u.l->v + i, obj->u.l->v + i + 1, (obj->u.l->n - (size_t)i - 1) * sizeof(jv));
            obj->u.l->n--;
            return 1;
        }
        if (!strcmp(nm, "index") || !strcmp(nm, "count")) {
            const jv *x = arg(a, 0, NULL);
            if (!x) fail(e->f, line, "%s needs a value", nm);
            int64_t k = 0, at = -1;
            for (size_t i = 0; i < obj->u.l->n; i++)
                if (val_eq(e, &obj->u.l->v[i], x, line)) { if (at < 0) at = (int64_t)i; k++; }
            if (nm[0] == 'i' && at < 0) fail(e->f, line, "index: value not in the list");
            *out = mk_int(nm[0] == 'i' ? at : k);
            return 1;
        }
        return 0;
    }
    if (obj->t == V_LOOP && !strcmp(nm, "cycle")) {
        if (!a->n) fail(e->f, line, "loop.cycle needs arguments");
        *out = a->pos[obj->u.loop->i % a->n];
        return 1;
    }
    return 0;
}

static jv eval_call(evalr *e, scope *s, const node *nd, const jmacro *caller) {
    const node *fn = nd->a;
    int line = nd->line;
    args a;
    if (fn->kind == E_ATTR) {
        jv obj = eval(e, s, fn->a);
        jv member = obj.t == V_DICT ? get_attr(e, &obj, fn->s, fn->sn, line) : mk_undef();
        if (member.t != V_MACRO) {
            eval_args(e, s, nd, &a, "method");
            jv out;
            if (call_method(e, &obj, fn->s, fn->sn, &a, &out, line)) return out;
            char b[64];
            fail(e->f, line, "unsupported method '%s' of %s", show(b, sizeof b, fn->s, fn->sn), a_type(&obj));
        }
        eval_args(e, s, nd, &a, "macro");
        return call_macro(e, &member, &a, caller, line);
    }
    jv f = eval(e, s, fn);
    if (f.t == V_MACRO) {
        eval_args(e, s, nd, &a, "macro");
        if (f.u.m->is_caller) return call_caller(e, f.u.m, &a, line);
        return call_macro(e, &f, &a, caller, line);
    }
    if (f.t == V_FUNC) {
        eval_args(e, s, nd, &a, global_names[f.u.fn]);
        return call_global(e, f.u.fn, &a, line);
    }
    if (fn->kind == E_NAME) {
        char b[64];
        fail(e->f, line, "'%s' is %s, not a function", show(b, sizeof b, fn->s, fn->sn), f.t == V_UNDEF ? "undefined" : a_type(&f));
    }
    fail(e->f, line, "cannot call %s", a_type(&f));
}

static jv eval(evalr *e, scope *s, const node *nd) {
    deeper(e, nd->line);
    jv r;
    int line = nd->line;
    switch (nd->kind) {
    case E_LIT: r = nd->lit; break;
    case E_NAME: {
        jv *v = lookup(s, nd->s, nd->sn);
        if (v) { r = *v; break; }
        r = mk_undef();
        for (int k = 0; global_names[k]; k++)
            if (strlen(global_names[k]) == nd->sn && !memcmp(global_names[k], nd->s, nd->sn)) { r.t = V_FUNC; r.u.fn = k; }
        break;
    }
    case E_ATTR: {
        jv o = eval(e, s, nd->a);
        r = get_attr(e, &o, nd->s, nd->sn, line);
        break;
    }
    case E_INDEX: {
        jv o = eval(e, s, nd->a), k = eval(e, s, nd->b);
        r = get_index(e, &o, &k, line);
        break;
    }
    case E_SLICE: {
        jv o = eval(e, s, nd->a);
        jv a = nd->b ? eval(e, s, nd->b) : mk_none(), b = nd->c ? eval(e, s, nd->c) : mk_none();
        jv c = nd->list[0] ? eval(e, s, nd->list[0]) : mk_none();
        r = do_slice(e, &o, &a, &b, &c, line);
        break;
    }
    case E_CALL: r = eval_call(e, s, nd, NULL); break;
    case E_FILTER: {
        jv in = eval(e, s, nd->a);
        args a;
        eval_args(e, s, nd, &a, "filter");
        char what[48], b[32];
        snprintf(what, sizeof what, "filter '%s'", show(b, sizeof b, nd->s, nd->sn));
        a.what = what;
        r = apply_filter(e, s, nd->s, nd->sn, &in, &a, line);
        break;
    }
    case E_TEST: {
        jv in = eval(e, s, nd->a);
        args a;
        eval_args(e, s, nd, &a, "test");
        r = mk_bool(run_test(e, nd->s, nd->sn, &in, &a, line) != nd->op);
        break;
    }
    case E_BIN: {
        jv a = eval(e, s, nd->a), b = eval(e, s, nd->b);
        r = binop(e, nd->op, &a, &b, line);
        break;
    }
    case E_NEG: case E_POS: {
        jv a = eval(e, s, nd->a);
        if (a.t == V_INT) {
            if (nd->kind == E_NEG && a.u.i == INT64_MIN) fail(e->f, line, "integer overflow");
            r = mk_int(nd->kind == E_NEG ? -a.u.i : a.u.i);
        } else if (a.t == V_FLOAT) r = mk_float(nd->kind == E_NEG ? -a.u.f : a.u.f);
        else if (a.t == V_BOOL) r = mk_int(nd->kind == E_NEG ? -a.u.b : a.u.b);
        else fail(e->f, line, "unary %c on %s", nd->kind == E_NEG ? '-' : '+', a_type(&a));
        break;
    }
    case E_NOT: { jv a = eval(e, s, nd->a); r = mk_bool(!truthy(&a)); break; }
    case E_AND: { r = eval(e, s, nd->a); if (truthy(&r)) r = eval(e, s, nd->b); break; }
    case E_OR: { r = eval(e, s, nd->a); if (!truthy(&r)) r = eval(e, s, nd->b); break; }
    case E_COND: {
        jv c = eval(e, s, nd->a);
        r = truthy(&c) ? eval(e, s, nd->b) : nd->c ? eval(e, s, nd->c) : mk_undef();
        break;
    }
    case E_LIST: {
        jlist *l = list_new(e, nd->n);
        for (size_t i = 0; i < nd->n; i++) list_push(e, l, eval(e, s, nd->list[i]));
        r = mk_list(l);
        break;
    }
    case E_DICT: {
        jdict *d = xcalloc(e->f, 1, sizeof *d);
        for (size_t i = 0; i < nd->n; i++) {
            jv k = eval(e, s, nd->list[i]);
            if (k.t != V_STR) k = to_string(e, &k, line);
            dict_set(e->f, d, k.u.s.p, k.u.s.n, eval(e, s, nd->list2[i]));
        }
        r = mk_dict(d);
        break;
    }
    case E_FILTER_INPUT: {
        jv *v = lookup(s, "\x01filter", 7);
        r = v ? *v : mk_undef();
        break;
    }
    default: fail(e->f, line, "not an expression");
    }
    e->depth--;
    return r;
}

static void assign(evalr *e, scope *s, const node *nd, jv v) {
    if (nd->a) { /* ns.attr = v */
        jv obj = eval(e, s, nd->a->a);
        char b[64];
        if (obj.t != V_DICT || !obj.u.d->is_ns)
            fail(e->f, nd->line, "cannot set an attribute of %s (only of a namespace)",
                 obj.t == V_UNDEF ? show(b, sizeof b, nd->a->a->s, nd->a->a->sn) : a_type(&obj));
        dict_set(e->f, obj.u.d, nd->a->s, nd->a->sn, v);
        return;
    }
    if (nd->nn == 1) { dict_set(e->f, &s->vars, nd->names[0], nd->name_lens[0], v); return; }
    if (v.t != V_LIST) v = mk_list(items_of(e, &v, nd->line));
    if (v.u.l->n != nd->nn) fail(e->f, nd->line, "cannot unpack %zu values into %zu names", v.u.l->n, nd->nn);
    for (size_t i = 0; i < nd->nn; i++) dict_set(e->f, &s->vars, nd->names[i], nd->name_lens[i], v.u.l->v[i]);
}

static void exec_for(evalr *e, scope *s, const node *nd, obuf *out) {
    jv it = eval(e, s, nd->a);
    jlist *src = items_of(e, &it, nd->line);
    scope *ls = scope_new(e, s);
    const jv *items = src->v;
    size_t n = src->n;
    /* snapshot: the body may append to the list it walks */
    jv *copy = n ? xalloc(e->f, n * sizeof *copy) : NULL;
    if (n) memcpy(copy, items, n * sizeof *copy);
    items = copy;
    if (nd->b) { /* "for x in y if cond": loop.length counts what passes */
        jv *kept = n ? xalloc(e->f, n * sizeof *kept) : NULL;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            step(e, nd->line);
            node t = *nd;
            t.a = NULL;
            assign(e, ls, &t, items[i]);
            jv c = eval(e, ls, nd->b);
            if (truthy(&c)) kept[k++] = items[i];
        }
        items = kept;
        n = k;
    }
    jloop *lp = xcalloc(e->f, 1, sizeof *lp);
    lp->items = items;
    lp->n = n;
    jv lv = mk_undef();
    lv.t = V_LOOP;
    lv.u.loop = lp;
    for (size_t i = 0; i < n; i++) {
        step(e, nd->line);
        lp->i = i;
        dict_set(e->f, &ls->vars, "loop", 4, lv);
        node t = *nd;
        t.a = NULL;
        assign(e, ls, &t, items[i]);
        exec_body(e, ls, nd->list, nd->n, out);
        if (e->ctl == 1) { e->ctl = 0; break; }
        if (e->ctl == 2) e->ctl = 0;
    }
    if (!n) exec_body(e, ls, nd->list2, nd->n2, out);
}

static void exec_stmt(evalr *e, scope *s, const node *nd, obuf *out) {
    step(e, nd->line);
    switch (nd->kind) {
    case N_TEXT: ob_put(e, out, nd->s, nd->sn, nd->line); break;
    case N_OUTPUT: { jv v = eval(e, s, nd->a); print_val(e, out, &v, "", nd->line); break; }
    case N_IF: {
        jv c = eval(e, s, nd->a);
        if (truthy(&c)) exec_body(e, s, nd->list, nd->n, out);
        else exec_body(e, s, nd->list2, nd->n2, out);
        break;
    }
    case N_FOR: exec_for(e, s, nd, out); break;
    case N_SET: {
        jv v;
        if (nd->b) v = eval(e, s, nd->b);
        else {
            obuf b = {0};
            exec_body(e, s, nd->list, nd->n, &b);
            v = b.n ? mk_str(b.p, b.n) : mk_str("", 0);
        }
        assign(e, s, nd, v);
        break;
    }
    case N_MACRO: {
        jmacro *m = xcalloc(e->f, 1, sizeof *m);
        m->def = nd;
        m->env = s;
        jv v = mk_undef();
        v.t = V_MACRO;
        v.u.m = m;
        dict_set(e->f, &s->vars, nd->s, nd->sn, v);
        break;
    }
    case N_CALLBLOCK: {
        jmacro *cm = xcalloc(e->f, 1, sizeof *cm);
        cm->def = nd;
        cm->env = s;
        cm->is_caller = 1;
        jv v = eval_call(e, s, nd->a, cm);
        print_val(e, out, &v, "", nd->line);
        break;
    }
    case N_FILTERBLOCK: {
        obuf b = {0};
        exec_body(e, s, nd->list, nd->n, &b);
        scope *fs = scope_new(e, s);
        dict_set(e->f, &fs->vars, "\x01filter", 7, b.n ? mk_str(b.p, b.n) : mk_str("", 0));
        jv v = eval(e, fs, nd->a);
        print_val(e, out, &v, "", nd->line);
        break;
    }
    case N_BREAK: e->ctl = 1; break;
    case N_CONTINUE: e->ctl = 2; break;
    default: fail(e->f, nd->line, "not a statement");
    }
}

static void exec_body(evalr *e, scope *s, node *const *body, size_t n, obuf *out) {
    deeper(e, n ? body[0]->line : 0);
    for (size_t i = 0; i < n && !e->ctl; i++) exec_stmt(e, s, body[i], out);
    e->depth--;
}

/* JSON → value; bounded by json.h's own depth limit. */
static jv from_json(evalr *e, const json_value *j) {
    if (!j) return mk_undef();
    switch (j->type) {
    case JSON_NULL: return mk_none();
    case JSON_FALSE: return mk_bool(0);
    case JSON_TRUE: return mk_bool(1);
    case JSON_NUMBER: return j->is_int ? mk_int(j->i) : mk_float(j->num);
    case JSON_STRING: return mk_str(j->str ? j->str : "", j->str ? j->len : 0);
    case JSON_ARRAY: {
        jlist *l = list_new(e, j->n);
        for (size_t i = 0; i < j->n; i++) list_push(e, l, from_json(e, &j->items[i]));
        return mk_list(l);
    }
    case JSON_OBJECT: {
        jdict *d = xcalloc(e->f, 1, sizeof *d);
        for (size_t i = 0; i < j->n; i++)
            dict_set(e->f, d, j->keys[i], j->key_lens ? j->key_lens[i] : strlen(j->keys[i]), from_json(e, &j->items[i]));
        return mk_dict(d);
    }
    }
    return mk_undef();
}

int jinja_render(const jinja_template *t, const jinja_var *vars, size_t n_vars, char **out, size_t *out_len,
                 char *err, size_t errlen) {
    if (out) *out = NULL;
    if (out_len) *out_len = 0;
    if (err && errlen) err[0] = 0;
    if (!t || !out) { if (err && errlen) snprintf(err, errlen, "no template"); return -1; }
    arena ar = {NULL, 0, t->lim.max_memory};
    failer f;
    f.ar = &ar;
    f.msg[0] = 0;
    evalr e = {0};
    e.f = &f;
    e.t = t;
    if (setjmp(f.jb)) {
        if (err && errlen) snprintf(err, errlen, "%s", f.msg);
        arena_free(&ar);
        return -1;
    }
    e.globals = scope_new(&e, NULL);
    for (size_t i = 0; i < n_vars; i++)
        if (vars[i].name) dict_set(&f, &e.globals->vars, vars[i].name, strlen(vars[i].name), from_json(&e, vars[i].value));
    obuf o = {0};
    scope *top = scope_new(&e, e.globals);
    exec_body(&e, top, t->body, t->n, &o);
    char *res = malloc(o.n + 1);
    if (!res) fail(&f, 0, "out of memory");
    if (o.n) memcpy(res, o.p, o.n);
    res[o.n] = 0;
    *out = res;
    if (out_len) *out_len = o.n;
    arena_free(&ar);
    return 0;
}

