/* wgpt chat: a conversation on one KV cache, rendered with the model's own
 * chat template (tokenizer.chat_template, through wgpt_chat_render); a
 * model without one continues the text turn by turn, and --template picks
 * one of a few built-in templates instead.
 *
 * Each turn the whole conversation is rendered and tokenized again, and
 * only the tokens past what the cache already holds are fed: where the new
 * tokens part from the cached ones (a reply the tokenizer spells another
 * way, a template that rewrites older turns, dropped exchanges) the cache
 * is rewound to that point and refilled from there. Replies end at the
 * tokenizer's end-of-generation tokens (<|eot_id|>, <|im_end|>,
 * <end_of_turn>, ...) or a built-in template's stop text.
 *
 * The conversation outlives its context: when the next message would not
 * fit, the oldest exchanges are dropped (the system prompt stays). A bad
 * line is reported and skipped; Ctrl-C stops the reply in progress, and
 * Ctrl-C at the prompt ends the chat. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "util/json.h"
#include "util/text.h"

/* For models without a template of their own, and --template. The model's
 * BOS goes before them when its tokenizer adds one. */
typedef struct {
    const char *name, *source;
    const char *stop;             /* text that ends a reply besides end-of-generation tokens */
} builtin_template;

static const builtin_template builtins[] = {
    {"llama3",
     "{% for m in messages %}<|start_header_id|>{{ m.role }}<|end_header_id|>\n\n{{ m.content }}<|eot_id|>{% endfor %}"
     "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}",
     NULL},
    {"chatml",
     "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
     "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}",
     "<|im_end|>"},
    {"gemma",
     "{% for m in messages %}{% if m.role == 'system' %}<start_of_turn>user\n{{ m.content }}\n"
     "{% else %}<start_of_turn>{{ 'model' if m.role == 'assistant' else m.role }}\n{{ m.content }}<end_of_turn>\n"
     "{% endif %}{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}",
     "<end_of_turn>"},
    {"llama2",
     "{% for m in messages %}{% if m.role == 'system' %}[INST] <<SYS>>\n{{ m.content }}\n<</SYS>>\n\n"
     "{% elif m.role == 'user' %}[INST] {{ m.content }} [/INST]{% else %}{{ m.content }}{{ eos_token }}{% endif %}"
     "{% endfor %}",
     "</s>"},
    /* no template: each line is more text for the model to continue */
    {"plain", "{% for m in messages %}{{ m.content }}\n{% endfor %}", "\n"},
};
#define N_BUILTINS (sizeof builtins / sizeof *builtins)

static const builtin_template *builtin_named(const char *name) {
    for (size_t i = 0; i < N_BUILTINS; i++) if (!strcmp(builtins[i].name, name)) return &builtins[i];
    return NULL;
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

/* The messages so far: an optional system message, then user and
 * assistant turns. Strings are ours. */
typedef struct {
    wgpt_chat_message *m;
    size_t n, cap;
} message_list;

static int ml_push(message_list *l, const char *role, const char *content, size_t len) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        wgpt_chat_message *p = realloc(l->m, cap * sizeof *p);
        if (!p) return -1;
        l->m = p;
        l->cap = cap;
    }
    char *c = malloc(len + 1);
    if (!c) return -1;
    memcpy(c, content, len);
    c[len] = 0;
    l->m[l->n].role = role;
    l->m[l->n].content_len = len;
    l->m[l->n++].content = c;
    return 0;
}

static void ml_drop(message_list *l, size_t from, size_t k) {
    for (size_t i = from; i < from + k; i++) free((char *)l->m[i].content);
    memmove(l->m + from, l->m + from + k, (l->n - from - k) * sizeof *l->m);
    l->n -= k;
}

/* Length of the valid UTF-8 character at p (of n bytes), or 0. */
static size_t utf8_char(const unsigned char *p, size_t n) {
    if (p[0] < 0x80) return 1;
    size_t k = p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : p[0] >= 0xe0 && p[0] <= 0xef ? 3 : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : 0;
    if (!k || k > n) return 0;
    for (size_t i = 1; i < k; i++) if ((p[i] & 0xc0) != 0x80) return 0;
    if (k == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0))) return 0;
    if (k == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))) return 0;
    return k;
}

/* A reply as text the tokenizer takes again: a random or cut-off model may
 * emit bytes that are not UTF-8 (byte-fallback tokens). Each bad byte
 * becomes U+FFFD; the rendering then parts from the cached tokens there,
 * and is refilled from that point. Returns a malloc'd string of *len bytes. */
static char *reply_text(const char *p, size_t n, size_t *len) {
    char *out = malloc(n * 3 + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_char((const unsigned char *)p + i, n - i);
        if (!k) { memcpy(out + o, "\xef\xbf\xbd", 3); o += 3; i++; continue; }
        memcpy(out + o, p + i, k);
        o += k;
        i += k;
    }
    out[o] = 0;
    *len = o;
    return out;
}

static void ml_free(message_list *l) {
    for (size_t i = 0; i < l->n; i++) free((char *)l->m[i].content);
    free(l->m);
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

/* What renders and tokenizes the conversation. */
typedef struct {
    wgpt_model *m;
    const char *tpl, *bos, *eos;
    int32_t lead;                /* a token put before the rendering (BOS, for built-in templates), or -1 */
    const char *transcript;      /* --transcript: the last rendering and its messages, as JSON */
} renderer;

/* The conversation's tokens with the generation prompt. 0; 1 with the
 * reason in err (a template error, text that cannot be tokenized). */
static int render_tokens(const renderer *r, const message_list *ml, token_list *out, char *err, size_t errlen) {
    char *text = NULL;
    size_t len = 0;
    out->n = 0;
    if (wgpt_chat_render(r->tpl, ml->m, ml->n, 1, r->bos, r->eos, &text, &len, err, errlen) != WGPT_OK) return 1;
    int32_t *ids = NULL;
    size_t n = 0;
    int rc = 0;
    if (wgpt_tokenize(r->m, text, len, 0, 1, &ids, &n, err, errlen) != WGPT_OK) rc = 1;
    else if ((r->lead >= 0 && tl_push(out, &r->lead, 1)) || tl_push(out, ids, n)) {
        snprintf(err, errlen, "out of memory");
        rc = 1;
    }
    if (!rc && r->transcript) {
        /* for tests: what this turn fed the model, beside the messages, to hold against wgpt template */
        json_buf b = {0};
        jbuf_puts(&b, "{\"prompt\": ");
        json_write_string(&b, text, len, 0);
        jbuf_puts(&b, ", \"messages\": [");
        for (size_t i = 0; i < ml->n; i++) {
            jbuf_puts(&b, i ? ", {\"role\": " : "{\"role\": ");
            json_write_string(&b, ml->m[i].role, strlen(ml->m[i].role), 0);
            jbuf_puts(&b, ", \"content\": ");
            json_write_string(&b, ml->m[i].content, ml->m[i].content_len, 0);
            jbuf_puts(&b, "}");
        }
        jbuf_puts(&b, "]}\n");
        FILE *f = fopen(r->transcript, "wb");
        if (!f || b.failed || fwrite(b.data, 1, b.len, f) != b.len) cli_error("chat: cannot write %s", text_show_z(r->transcript));
        if (f) fclose(f);
        jbuf_free(&b);
    }
    wgpt_free(ids);
    wgpt_free(text);
    return rc;
}

/* Feeds what `want` holds past its common prefix with `held` (the tokens the
 * context holds or has queued), rewinding the context to that prefix first.
 * held becomes want. Returns the number of tokens reused, or -1 after an
 * engine error (said). */
static long sync_context(wgpt_context *c, token_list *held, const token_list *want) {
    size_t k = 0;
    while (k < held->n && k < want->n && held->ids[k] == want->ids[k]) k++;
    /* a step needs something queued: feed the last token again if nothing is new */
    if (k == want->n && k > 0) k--;
    if (wgpt_rewind(c, (int)k) != WGPT_OK || wgpt_feed(c, want->ids + k, want->n - k) != WGPT_OK) {
        cli_error("%s", wgpt_errmsg(c));
        return -1;
    }
    held->n = 0;
    if (tl_push(held, want->ids, want->n)) { cli_error("out of memory"); return -1; }
    return (long)k;
}

/* The model's own template, or a built-in one (--template, or when the
 * model has none), or --chat-template-file's. 0, or 1 after saying why. */
static int choose_template(wgpt_model *m, const char *forced, const char *file, renderer *r, char **owned,
                           const builtin_template **bt, const char **what) {
    char err[1024];
    char *tpl = NULL, *bos = NULL, *eos = NULL;
    if (wgpt_model_chat_template(m, &tpl, &bos, &eos, err, sizeof err) != WGPT_OK) return cli_error("%s", err);
    owned[0] = bos ? strdup(bos) : NULL;
    owned[1] = eos ? strdup(eos) : NULL;
    owned[2] = tpl && !forced && !file ? strdup(tpl) : NULL;
    int have = tpl != NULL;
    wgpt_free(tpl);
    wgpt_free(bos);
    wgpt_free(eos);
    if (!owned[0] || !owned[1] || (have && !forced && !file && !owned[2])) return cli_error("out of memory");
    r->bos = owned[0];
    r->eos = owned[1];
    r->lead = -1;
    *bt = NULL;
    if (file) {
        char *b = NULL, *e = NULL;
        if (cli_chat_template_file(file, &owned[2], &b, &e)) return 1;
        if (b) { free(owned[0]); r->bos = owned[0] = b; }
        if (e) { free(owned[1]); r->eos = owned[1] = e; }
        r->tpl = owned[2];
        *what = "--chat-template-file";
        return 0;
    }
    if (have && !forced) {
        r->tpl = owned[2];
        *what = "the model's";
        return 0;
    }
    *bt = forced ? builtin_named(forced) : builtin_named("plain");
    r->tpl = (*bt)->source;
    *what = (*bt)->name;
    /* BOS as the tokenizer adds it to a text of its own */
    int32_t *ids = NULL;
    size_t n = 0;
    if (wgpt_tokenize(m, "", 0, 1, 0, &ids, &n, err, sizeof err) == WGPT_OK && n && ids[0] == wgpt_token_bos(m))
        r->lead = ids[0];
    wgpt_free(ids);
    return 0;
}

int cmd_chat(int argc, char **argv) {
    cli_model_opts o;
    cli_opts_init(&o);
    const char *system = NULL, *forced = NULL, *tpl_file = NULL, *transcript = NULL;
    long n_reply = 256;
    cli_opt opts[20];
    int k = 0;
    opts[k++] = (cli_opt){"--system", CLI_STR, &system, 0, 0, "TEXT", "system prompt, kept when old turns are dropped", 0};
    opts[k++] = (cli_opt){"--template", CLI_STR, &forced, 0, 0, "NAME",
                          "a built-in template instead of the model's: llama3, chatml, gemma, llama2 or plain "
                          "(the default for a model without one)", 0};
    opts[k++] = (cli_opt){"--chat-template-file", CLI_STR, &tpl_file, 0, 0, "FILE",
                          "the template: a Jinja file, or a tokenizer_config.json", 0};
    opts[k++] = (cli_opt){"--transcript", CLI_STR, &transcript, 0, 0, "FILE",
                          "write each turn's rendered conversation and its messages to FILE (JSON)", 0};
    opts[k++] = (cli_opt){"-n,--n-predict", CLI_LONG, &n_reply, 1, 1 << 20, "N", "most tokens per reply (default 256)", 0};
    k += cli_sampling_table(&o.cp.sampling, opts + k);
    opts[k] = (cli_opt){0};
    cli_command cmd = {"chat", "[options]",
                       "Reads one message per line on stdin and streams each reply to stdout, rendering\n"
                       "the conversation with the model's chat template (see wgpt template).\n"
                       "When the context fills up, the oldest exchanges are dropped (the system prompt\n"
                       "stays). Ctrl-C stops a reply; Ctrl-C at the prompt or Ctrl-D ends the chat.\n"
                       "-v tells, each turn, how many tokens the cache kept and how many were fed.\n",
                       opts, &o, 0, NULL, 0, NULL};
    int pr = cli_parse(&cmd, argc, argv);
    if (pr) return pr < 0 ? 0 : pr;
    if (forced && !builtin_named(forced))
        return cli_usage_error("chat", "unknown template '%s' (llama3, chatml, gemma, llama2, plain)", text_show_z(forced));
    if (forced && tpl_file) return cli_usage_error("chat", "--template and --chat-template-file: give one");

    wgpt_model *m = cli_load_model(&o);
    if (!m) return 1;
    renderer r = {m, NULL, NULL, NULL, -1, transcript};
    char *owned[3] = {NULL, NULL, NULL};
    const builtin_template *bt = NULL;
    const char *tpl_name = NULL;
    wgpt_context *c = NULL;
    char err[1024];
    int tty = isatty(0), rc = 0;
    message_list ml = {0};
    token_list held = {0}, want = {0};
    reply_writer w = {.stop = NULL, .last = '\n'};
    char *line = NULL, *piece = NULL, *reply = NULL;
    size_t cap = 0, piece_cap = 256, reply_len = 0, reply_cap = 0;
    if (choose_template(m, forced, tpl_file, &r, owned, &bt, &tpl_name)) { rc = 1; goto done; }
    w.stop = bt ? bt->stop : NULL;
    if (wgpt_context_create(m, &o.cp, &c, err, sizeof err) != WGPT_OK) { rc = cli_error("%s", err); goto done; }
    size_t n_ctx = (size_t)wgpt_context_n_ctx(c);
    /* A reply gets at least this much room before a message is read in. */
    size_t reply_room = (size_t)n_reply < n_ctx / 4 ? (size_t)n_reply : n_ctx / 4;
    if (reply_room < 1) reply_room = 1;
    if (!(piece = malloc(piece_cap))) { rc = cli_error("out of memory"); goto done; }
    size_t n_sys = 0;
    if (system) {
        if (ml_push(&ml, "system", system, strlen(system))) { rc = cli_error("out of memory"); goto done; }
        n_sys = 1;
        /* the system prompt alone must leave room for a message and a reply */
        if (render_tokens(&r, &ml, &want, err, sizeof err) == 0 && want.n + reply_room + 1 > n_ctx) {
            rc = cli_error("chat: the system prompt (%zu tokens) leaves no room in the context of %zu tokens", want.n, n_ctx);
            goto done;
        }
    }

    struct sigaction sa = {0};
    sa.sa_handler = on_sigint; /* no SA_RESTART: Ctrl-C at the prompt interrupts the read */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    if (tty) fprintf(stderr, "wgpt chat (%s template) — one message per line; Ctrl-C stops a reply, Ctrl-D ends\n", tpl_name);
    size_t last_prompt = 0; /* tokens of the last turn's rendering, before its reply */
    for (size_t lineno = 1, turn = 1;; lineno++) {
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
        if (ml_push(&ml, "user", line, (size_t)len)) { rc = cli_error("out of memory"); break; }
        int bad_render = render_tokens(&r, &ml, &want, err, sizeof err);
        if (bad_render || !want.n) {
            cli_error("chat: line %zu skipped: %s", lineno, bad_render ? err : "the template renders nothing");
            ml_drop(&ml, ml.n - 1, 1);
            continue;
        }
        /* Too long: drop the oldest exchanges (the system prompt stays) until it fits,
         * unless even the system prompt and this message alone would not. */
        if (want.n + reply_room > n_ctx && ml.n > n_sys + 1) {
            wgpt_chat_message alone[2] = {ml.m[0], ml.m[ml.n - 1]};
            message_list al = {n_sys ? alone : alone + 1, n_sys + 1, 0};
            token_list t = {0};
            renderer probe = r;
            probe.transcript = NULL; /* a trial, not what is fed */
            int fits = render_tokens(&probe, &al, &t, err, sizeof err) == 0 && t.n + reply_room <= n_ctx;
            size_t tn = t.n;
            free(t.ids);
            if (!fits) {
                cli_error("chat: message skipped: its %zu tokens%s and room for a reply do not fit the context of %zu tokens",
                          tn, n_sys ? " with the system prompt" : "", n_ctx);
                ml_drop(&ml, ml.n - 1, 1);
                continue;
            }
        }
        int dropped_now = 0;
        if (want.n + reply_room > n_ctx) {
            size_t dropped = 0;
            dropped_now = 1;
            int bad = 0;
            while (want.n + reply_room > n_ctx && ml.n > n_sys + 1) {
                /* an exchange: the oldest user turn and what follows it up to the next user turn */
                size_t e = n_sys + 1;
                while (e < ml.n - 1 && strcmp(ml.m[e].role, "user")) e++;
                ml_drop(&ml, n_sys, e - n_sys);
                dropped++;
                if (render_tokens(&r, &ml, &want, err, sizeof err)) { bad = 1; break; }
            }
            if (bad || want.n + reply_room > n_ctx) {
                if (bad) cli_error("chat: message skipped: %s", err);
                else
                    cli_error("chat: message skipped: its %zu tokens%s and room for a reply do not fit the context of %zu tokens",
                              want.n, n_sys ? " with the system prompt" : "", n_ctx);
                ml_drop(&ml, ml.n - 1, 1);
                continue;
            }
            fprintf(stderr, "wgpt: chat: the context (%zu tokens) is full: dropped the %zu oldest exchange%s%s\n", n_ctx,
                    dropped, dropped == 1 ? "" : "s", n_sys ? " (the system prompt stays)" : "");
        }
        size_t had = held.n;
        long reused = sync_context(c, &held, &want);
        if (reused < 0) { rc = 1; break; }
        /* Parting inside the last reply is usual (the tokenizer spells it another
         * way) and told with -v; parting before it means the template rewrote
         * earlier turns, which costs a refill worth saying. */
        if ((size_t)reused < had && (o.verbose || ((size_t)reused < last_prompt && !dropped_now)))
            fprintf(stderr, "wgpt: chat: the new rendering parts from the cache at token %ld of %zu%s: refilled from there\n",
                    reused, had, (size_t)reused < last_prompt && !dropped_now ? " (before the last reply)" : "");
        last_prompt = want.n;
        if (o.verbose)
            fprintf(stderr, "wgpt: chat: turn %zu: %zu tokens, %ld reused from the cache, %zu fed\n", turn, want.n, reused,
                    want.n - (size_t)reused);
        turn++;

        g_generating = 1;
        int cut = 0;
        reply_len = 0;
        for (long t = 0; t < n_reply && !g_interrupts; t++) {
            int32_t tok;
            if (wgpt_step_submit(c) != WGPT_OK || wgpt_step_collect(c, 1, &tok) != WGPT_OK) {
                g_generating = 0;
                rw_end(&w);
                rc = cli_error("%s", wgpt_errmsg(c));
                goto done;
            }
            /* The token is in the conversation once it is queued for the next step. */
            if ((size_t)wgpt_context_pos(c) < n_ctx) tl_push(&held, &tok, 1);
            else cut = 1;
            if (wgpt_token_is_eog(m, tok)) break;
            int pl = cli_token_piece(m, tok, &piece, &piece_cap);
            if (pl > 0) {
                if (reply_len + (size_t)pl + 1 > reply_cap) {
                    size_t nc = (reply_len + (size_t)pl + 1) * 2;
                    char *nr = realloc(reply, nc);
                    if (!nr) { w.werr = 1; break; }
                    reply = nr;
                    reply_cap = nc;
                }
                memcpy(reply + reply_len, piece, (size_t)pl);
                reply_len += (size_t)pl;
                if (rw_add(&w, piece, (size_t)pl)) break;
            }
            if (w.werr) break;
            if (cut) break;
        }
        g_generating = 0;
        int stopped = g_interrupts > 0;
        rw_end(&w);
        if (w.werr) { rc = cli_check_stdout("chat"); if (!rc) rc = 1; break; }
        /* The reply as the conversation keeps it: up to a stop text, without NUL bytes. */
        if (reply_len && w.stop) {
            char *at = memmem(reply, reply_len, w.stop, strlen(w.stop));
            if (at) reply_len = (size_t)(at - reply);
        }
        size_t text_len = 0;
        char *text = reply_text(reply ? reply : "", reply_len, &text_len);
        int lost = !text || ml_push(&ml, "assistant", text, text_len);
        free(text);
        if (lost) { rc = cli_error("out of memory"); break; }
        if (stopped) fprintf(stderr, "wgpt: chat: reply stopped\n");
        else if (cut) fprintf(stderr, "wgpt: chat: reply cut: the context (%zu tokens) is full; older turns go next\n", n_ctx);
    }
done:
    signal(SIGINT, SIG_DFL);
    if (rc == 0 && cli_check_stdout("chat")) rc = 1;
    free(line);
    free(piece);
    free(reply);
    free(w.buf);
    free(held.ids);
    free(want.ids);
    ml_free(&ml);
    for (int i = 0; i < 3; i++) free(owned[i]);
    wgpt_context_free(c);
    wgpt_model_free(m);
    return rc;
}
