/* wgpt chat: a conversation on one KV cache. The model's chat template is
 * recognised by its markers (the common families, as llama.cpp does for
 * templates it knows); a model without one continues the text turn by turn.
 *
 * The conversation outlives its context: when the next message would not
 * fit, the oldest exchanges are dropped (the system prompt stays) and what
 * is left is read again. A bad line is reported and skipped; Ctrl-C stops
 * the reply in progress, and Ctrl-C at the prompt ends the chat. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "util/text.h"

typedef struct {
    const char *name, *marker;        /* marker: text that identifies it in tokenizer.chat_template */
    const char *system, *user, *assistant; /* text before and after the message ("%s" marks where it goes) */
    const char *stop;                 /* text that ends a reply besides end-of-generation tokens */
} chat_template;

static const chat_template templates[] = {
    {"llama3", "<|start_header_id|>", "<|start_header_id|>system<|end_header_id|>\n\n%s<|eot_id|>",
     "<|start_header_id|>user<|end_header_id|>\n\n%s<|eot_id|>", "<|start_header_id|>assistant<|end_header_id|>\n\n", NULL},
    {"chatml", "<|im_start|>", "<|im_start|>system\n%s<|im_end|>\n", "<|im_start|>user\n%s<|im_end|>\n",
     "<|im_start|>assistant\n", "<|im_end|>"},
    {"gemma", "<start_of_turn>", "<start_of_turn>user\n%s\n", "<start_of_turn>user\n%s<end_of_turn>\n",
     "<start_of_turn>model\n", "<end_of_turn>"},
    {"llama2", "[INST]", "[INST] <<SYS>>\n%s\n<</SYS>>\n\n", "[INST] %s [/INST]", "", "</s>"},
    /* No template: each line is more text for the model to continue. */
    {"plain", NULL, "%s\n", "%s\n", "", "\n"},
};
#define N_TEMPLATES (sizeof templates / sizeof *templates)

static const chat_template *template_named(const char *name) {
    for (size_t i = 0; i < N_TEMPLATES; i++) if (!strcmp(templates[i].name, name)) return &templates[i];
    return NULL;
}

static const chat_template *template_of_model(wgpt_model *m) {
    const chat_template *plain = &templates[N_TEMPLATES - 1];
    int len = wgpt_model_meta_str(m, "tokenizer.chat_template", NULL, 0);
    if (len <= 0) return plain;
    char *t = malloc((size_t)len + 1);
    if (!t) return plain;
    wgpt_model_meta_str(m, "tokenizer.chat_template", t, (size_t)len + 1);
    const chat_template *found = plain;
    for (size_t i = 0; i + 1 < N_TEMPLATES; i++) if (strstr(t, templates[i].marker)) { found = &templates[i]; break; }
    free(t);
    return found;
}

/* fmt with "%s" replaced by text[0..len), which may hold NUL bytes: a
 * message is bytes, not a C string. */
static char *fill(const char *fmt, const char *text, size_t len, size_t *out_len) {
    const char *at = strstr(fmt, "%s");
    size_t pre = at ? (size_t)(at - fmt) : strlen(fmt), post = at ? strlen(at + 2) : 0;
    if (!at) len = 0;
    char *s = malloc(pre + len + post + 1);
    if (!s) return NULL;
    memcpy(s, fmt, pre);
    if (len) memcpy(s + pre, text, len);
    if (post) memcpy(s + pre + len, at + 2, post);
    s[pre + len + post] = 0;
    *out_len = pre + len + post;
    return s;
}

typedef struct { int32_t *ids; size_t n, cap; } token_list;

static int tl_push(token_list *t, const int32_t *ids, size_t n) {
    if (t->n + n > t->cap) {
        size_t cap = t->cap ? t->cap : 64;
        while (cap < t->n + n) cap *= 2;
        int32_t *p = realloc(t->ids, cap * sizeof *p);
        if (!p) return -1;
        t->ids = p;
        t->cap = cap;
    }
    memcpy(t->ids + t->n, ids, n * sizeof *ids);
    t->n += n;
    return 0;
}

/* The conversation as the KV cache holds it: the head (BOS and the system
 * prompt), then one entry per exchange (the user's turn and the reply). */
typedef struct {
    token_list head;
    token_list *ex;
    size_t n_ex, cap_ex;
    size_t used;                 /* tokens fed or queued: head + every exchange */
} conversation;

static token_list *conv_new_exchange(conversation *cv) {
    if (cv->n_ex == cv->cap_ex) {
        size_t cap = cv->cap_ex ? cv->cap_ex * 2 : 16;
        token_list *p = realloc(cv->ex, cap * sizeof *p);
        if (!p) return NULL;
        cv->ex = p;
        cv->cap_ex = cap;
    }
    token_list *e = &cv->ex[cv->n_ex++];
    memset(e, 0, sizeof *e);
    return e;
}

static void conv_free(conversation *cv) {
    free(cv->head.ids);
    for (size_t i = 0; i < cv->n_ex; i++) free(cv->ex[i].ids);
    free(cv->ex);
}

/* Ctrl-C: the first stops the reply; at the prompt, or a second one before
 * the reply has stopped, ends the chat. */
static volatile sig_atomic_t g_interrupts, g_generating;

static void on_sigint(int sig) {
    (void)sig;
    g_interrupts++;
    if (!g_generating) {
        /* At the prompt: end the chat. Exiting here, not after the read
         * returns, because the signal may come just before the read starts
         * and would then be lost. Every reply was flushed when it ended. */
        static const char nl = '\n';
        if (isatty(2) && write(2, &nl, 1) < 0) _exit(130);
        _exit(130);
    }
    if (g_interrupts > 1) { /* a second Ctrl-C while the reply is still stopping */
        signal(SIGINT, SIG_DFL);
        raise(SIGINT);
    }
}

/* Writes the reply as it comes, holding back what could be the start of
 * the template's stop text so that the stop text itself is never shown. */
typedef struct {
    char *buf;
    size_t len, cap;
    const char *stop;
    text_stream out;
    int werr, last;              /* a write failed; the last byte written */
} reply_writer;

static void rw_emit(reply_writer *w, const char *p, size_t n) {
    if (!n) return;
    if (text_stream_write(&w->out, stdout, p, n)) w->werr = 1;
    w->last = (unsigned char)p[n - 1];
}

/* Returns 1 when the stop text has appeared: the reply ends there. */
static int rw_add(reply_writer *w, const char *piece, size_t n) {
    if (w->len + n + 1 > w->cap) {
        size_t cap = (w->len + n + 1) * 2;
        char *b = realloc(w->buf, cap);
        if (!b) { w->werr = 1; return 1; }
        w->buf = b;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, piece, n);
    w->len += n;
    w->buf[w->len] = 0;
    size_t sl = w->stop ? strlen(w->stop) : 0;
    if (sl) {
        char *at = memmem(w->buf, w->len, w->stop, sl);
        if (at) {
            rw_emit(w, w->buf, (size_t)(at - w->buf));
            w->len = 0;
            return 1;
        }
    }
    size_t keep = sl > 1 ? sl - 1 : 0;
    if (w->len > keep) {
        rw_emit(w, w->buf, w->len - keep);
        memmove(w->buf, w->buf + w->len - keep, keep);
        w->len = keep;
    }
    return 0;
}

static void rw_end(reply_writer *w) {
    rw_emit(w, w->buf, w->len);
    w->len = 0;
    if (text_stream_flush(&w->out, stdout)) w->werr = 1;
    /* Every reply ends its line, whatever the model did. */
    if (w->last != '\n' && putchar('\n') == EOF) w->werr = 1;
    if (fflush(stdout) != 0) w->werr = 1;
    w->last = '\n';
}

/* Feeds the turn, first dropping the oldest exchanges if the turn and room
 * for a reply would not fit. Returns 0, 1 to skip this message (said why),
 * or -1 on an engine error (said why). */
static int feed_turn(wgpt_context *c, conversation *cv, const int32_t *ids, size_t n, size_t reply_room) {
    size_t n_ctx = (size_t)wgpt_context_n_ctx(c);
    if (cv->used + n + reply_room <= n_ctx) {
        if (wgpt_feed(c, ids, n) != WGPT_OK) { cli_error("%s", wgpt_errmsg(c)); return -1; }
        return 0;
    }
    if (cv->head.n + n + reply_room > n_ctx) {
        cli_error("chat: message skipped: its %zu tokens%s and room for a reply do not fit the context of %zu tokens",
                  n, cv->head.n > 1 ? " with the system prompt" : "", n_ctx);
        return 1;
    }
    size_t keep_from = 0, used = cv->used;
    while (keep_from < cv->n_ex && used + n + reply_room > n_ctx) used -= cv->ex[keep_from++].n;
    fprintf(stderr, "wgpt: chat: the context (%zu tokens) is full: dropped the %zu oldest exchange%s%s\n", n_ctx,
            keep_from, keep_from == 1 ? "" : "s", cv->head.n > 1 ? " (the system prompt stays)" : "");
    for (size_t i = 0; i < keep_from; i++) free(cv->ex[i].ids);
    memmove(cv->ex, cv->ex + keep_from, (cv->n_ex - keep_from) * sizeof *cv->ex);
    cv->n_ex -= keep_from;
    cv->used = used;
    wgpt_reset(c);
    wgpt_status st = wgpt_feed(c, cv->head.ids, cv->head.n);
    for (size_t i = 0; i < cv->n_ex && st == WGPT_OK; i++) st = wgpt_feed(c, cv->ex[i].ids, cv->ex[i].n);
    if (st == WGPT_OK) st = wgpt_feed(c, ids, n);
    if (st != WGPT_OK) { cli_error("%s", wgpt_errmsg(c)); return -1; }
    return 0;
}

int cmd_chat(int argc, char **argv) {
    cli_model_opts o;
    cli_opts_init(&o);
    const char *system = NULL, *forced = NULL;
    long n_reply = 256;
    cli_opt opts[16];
    int k = 0;
    opts[k++] = (cli_opt){"--system", CLI_STR, &system, 0, 0, "TEXT", "system prompt, kept when old turns are dropped", 0};
    opts[k++] = (cli_opt){"--template", CLI_STR, &forced, 0, 0, "NAME",
                          "llama3, chatml, gemma, llama2 or plain (default: from the model's metadata)", 0};
    opts[k++] = (cli_opt){"-n,--n-predict", CLI_LONG, &n_reply, 1, 1 << 20, "N", "most tokens per reply (default 256)", 0};
    k += cli_sampling_table(&o.cp.sampling, opts + k);
    opts[k] = (cli_opt){0};
    cli_command cmd = {"chat", "[options]",
                       "Reads one message per line on stdin and streams each reply to stdout.\n"
                       "When the context fills up, the oldest exchanges are dropped (the system prompt\n"
                       "stays). Ctrl-C stops a reply; Ctrl-C at the prompt or Ctrl-D ends the chat.\n",
                       opts, &o, 0, NULL, 0, NULL};
    int pr = cli_parse(&cmd, argc, argv);
    if (pr) return pr < 0 ? 0 : pr;
    const chat_template *tpl = NULL;
    if (forced && !(tpl = template_named(forced)))
        return cli_usage_error("chat", "unknown template '%s' (llama3, chatml, gemma, llama2, plain)", text_show_z(forced));

    wgpt_model *m = cli_load_model(&o);
    if (!m) return 1;
    if (!tpl) tpl = template_of_model(m);
    wgpt_context *c = NULL;
    char err[1024];
    if (wgpt_context_create(m, &o.cp, &c, err, sizeof err) != WGPT_OK) { wgpt_model_free(m); return cli_error("%s", err); }
    size_t n_ctx = (size_t)wgpt_context_n_ctx(c);
    /* A reply gets at least this much room before a message is read in. */
    size_t reply_room = (size_t)n_reply < n_ctx / 4 ? (size_t)n_reply : n_ctx / 4;
    if (reply_room < 1) reply_room = 1;

    int tty = isatty(0), rc = 0;
    conversation cv = {0};
    reply_writer w = {.stop = tpl->stop, .last = '\n'};
    char *line = NULL, *piece = NULL;
    size_t cap = 0, piece_cap = 256;
    piece = malloc(piece_cap);
    /* The head: BOS as the model says, then the system prompt. */
    int32_t *ids = NULL;
    size_t n = 0, tlen = 0;
    char *text = system ? fill(tpl->system, system, strlen(system), &tlen) : strdup("");
    if (!piece || !text || wgpt_tokenize(m, text, system ? tlen : 0, 1, 1, &ids, &n, err, sizeof err) != WGPT_OK ||
        tl_push(&cv.head, ids, n)) {
        rc = cli_error("chat: system prompt: %s", text && piece ? err : "out of memory");
        free(text);
        goto done;
    }
    free(text);
    free(ids);
    ids = NULL;
    if (cv.head.n + reply_room + 1 > n_ctx) {
        rc = cli_error("chat: the system prompt (%zu tokens) leaves no room in the context of %zu tokens", cv.head.n, n_ctx);
        goto done;
    }
    if (wgpt_feed(c, cv.head.ids, cv.head.n) != WGPT_OK) { rc = cli_error("%s", wgpt_errmsg(c)); goto done; }
    cv.used = cv.head.n;

    struct sigaction sa = {0};
    sa.sa_handler = on_sigint; /* no SA_RESTART: Ctrl-C at the prompt interrupts the read */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    if (tty) fprintf(stderr, "wgpt chat (%s template) — one message per line; Ctrl-C stops a reply, Ctrl-D ends\n", tpl->name);
    for (size_t lineno = 1;; lineno++) {
        g_interrupts = 0;
        if (tty) fprintf(stderr, "> ");
        errno = 0;
        ssize_t len = getline(&line, &cap, stdin);
        if (len < 0) {
            if (ferror(stdin)) rc = cli_error("chat: cannot read the input: %s", strerror(errno ? errno : EIO));
            break;
        }
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (len == 0) continue;
        /* The user's turn, then the cue for the reply; template markers are special tokens. */
        size_t ul = 0, al = strlen(tpl->assistant);
        char *turn = fill(tpl->user, line, (size_t)len, &ul), *grown = turn ? realloc(turn, ul + al + 1) : NULL;
        if (!grown) { free(turn); rc = cli_error("out of memory"); break; }
        turn = grown;
        memcpy(turn + ul, tpl->assistant, al + 1);
        al += ul;
        int tk = wgpt_tokenize(m, turn, al, 0, 1, &ids, &n, err, sizeof err);
        free(turn);
        if (tk != WGPT_OK) {
            cli_error("chat: line %zu skipped: %s", lineno, err);
            continue;
        }
        int fr = feed_turn(c, &cv, ids, n, reply_room);
        token_list *ex = fr == 0 ? conv_new_exchange(&cv) : NULL;
        if (fr == 0 && (!ex || tl_push(ex, ids, n))) fr = -1;
        free(ids);
        ids = NULL;
        if (fr > 0) continue;
        if (fr < 0) { rc = 1; break; }
        cv.used += n;

        g_generating = 1;
        int cut = 0;
        for (long t = 0; t < n_reply && !g_interrupts; t++) {
            int32_t tok;
            if (wgpt_step_submit(c) != WGPT_OK || wgpt_step_collect(c, 1, &tok) != WGPT_OK) {
                g_generating = 0;
                rw_end(&w);
                rc = cli_error("%s", wgpt_errmsg(c));
                goto done;
            }
            /* The token is in the conversation once it is queued for the next step. */
            if ((size_t)wgpt_context_pos(c) < n_ctx) { tl_push(ex, &tok, 1); cv.used++; }
            else cut = 1;
            if (wgpt_token_is_eog(m, tok)) break;
            int pl = cli_token_piece(m, tok, &piece, &piece_cap);
            if (pl > 0 && rw_add(&w, piece, (size_t)pl)) break;
            if (w.werr) break;
            if (cut) break;
        }
        g_generating = 0;
        int stopped = g_interrupts > 0;
        rw_end(&w);
        if (w.werr) { rc = cli_check_stdout("chat"); if (!rc) rc = 1; break; }
        if (stopped) fprintf(stderr, "wgpt: chat: reply stopped\n");
        else if (cut) fprintf(stderr, "wgpt: chat: reply cut: the context (%zu tokens) is full; older turns go next\n", n_ctx);
    }
done:
    signal(SIGINT, SIG_DFL);
    if (rc == 0 && cli_check_stdout("chat")) rc = 1;
    free(ids);
    free(line);
    free(piece);
    free(w.buf);
    conv_free(&cv);
    wgpt_context_free(c);
    wgpt_model_free(m);
    return rc;
}
