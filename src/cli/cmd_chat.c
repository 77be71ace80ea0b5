/* wgpt chat: a conversation on one KV cache. The model's chat template is
 * recognised by its markers (the common families, as llama.cpp does for
 * templates it knows); a model without one continues the text turn by turn. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"

typedef struct {
    const char *name, *marker;        /* marker: text that identifies it in tokenizer.chat_template */
    const char *system, *user, *assistant; /* printf formats with one %s (assistant: the generation prompt) */
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

static const chat_template *pick_template(wgpt_model *m, const char *forced) {
    size_t n = sizeof templates / sizeof *templates;
    if (forced) {
        for (size_t i = 0; i < n; i++) if (!strcmp(templates[i].name, forced)) return &templates[i];
        return NULL;
    }
    int len = wgpt_model_meta_str(m, "tokenizer.chat_template", NULL, 0);
    if (len <= 0) return &templates[n - 1];
    char *t = malloc((size_t)len + 1);
    if (!t) return &templates[n - 1];
    wgpt_model_meta_str(m, "tokenizer.chat_template", t, (size_t)len + 1);
    const chat_template *found = &templates[n - 1];
    for (size_t i = 0; i + 1 < n; i++) if (strstr(t, templates[i].marker)) { found = &templates[i]; break; }
    free(t);
    return found;
}

static char *format(const char *fmt, const char *text) {
    size_t n = strlen(fmt) + strlen(text) + 1;
    char *s = malloc(n);
    if (s) snprintf(s, n, fmt, text);
    return s;
}

int cmd_chat(int argc, char **argv) {
    cli_model_opts o;
    cli_opts_init(&o);
    const char *system = NULL, *forced = NULL;
    long n_reply = 256;
    for (int i = 1; i < argc; i++) {
        int r = cli_common_option(&o, argc, argv, &i);
        if (r < 0) return 1;
        if (r) continue;
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("usage: wgpt chat [-m FILE] [--system TEXT] [-n N] [--template NAME] [--temp T] [--seed S]\n"
                   "Reads one message per line on stdin and streams each reply to stdout.\n"
                   "  --template NAME   llama3, chatml, gemma, llama2 or plain (default: from the model)\n"
                   "  -n N              most tokens per reply (default 256)\n%s", cli_common_help);
            return 0;
        }
        if (i + 1 >= argc) return cli_error("chat: unknown option or missing value: '%s'", a);
        const char *v = argv[++i];
        char *end;
        if (!strcmp(a, "--system")) system = v;
        else if (!strcmp(a, "--template")) forced = v;
        else if (!strcmp(a, "-n")) { n_reply = strtol(v, &end, 10); if (*end || n_reply <= 0) return cli_error("-n expects a count"); }
        else if (!strcmp(a, "--temp")) { o.cp.sampling.temperature = strtof(v, &end); if (*end) return cli_error("--temp expects a number"); }
        else if (!strcmp(a, "--seed")) { o.cp.sampling.seed = strtoull(v, &end, 10); if (*end) return cli_error("--seed expects an integer"); }
        else return cli_error("chat: unknown option '%s'", a);
    }
    wgpt_model *m = cli_load_model(&o);
    if (!m) return 1;
    const chat_template *tpl = pick_template(m, forced);
    if (!tpl) { wgpt_model_free(m); return cli_error("chat: unknown template '%s'", forced); }
    wgpt_context *c = NULL;
    char err[1024];
    if (wgpt_context_create(m, &o.cp, &c, err, sizeof err) != WGPT_OK) { wgpt_model_free(m); return cli_error("%s", err); }
    int tty = isatty(0), first = 1, rc = 0;
    if (tty) fprintf(stderr, "wgpt chat (%s template) — one message per line, Ctrl-D to end\n", tpl->name);
    char *line = NULL;
    size_t cap = 0;
    for (;;) {
        if (tty) fprintf(stderr, "> ");
        ssize_t len = getline(&line, &cap, stdin);
        if (len < 0) break;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (len == 0) continue;
        /* Turn text: system prompt once, the user's message, then the cue for the reply. */
        size_t tlen = 0;
        char *turn = NULL, *parts[3] = {NULL, NULL, NULL};
        if (first && system) parts[0] = format(tpl->system, system);
        parts[1] = format(tpl->user, line);
        parts[2] = strdup(tpl->assistant);
        for (int i = 0; i < 3; i++) tlen += parts[i] ? strlen(parts[i]) : 0;
        turn = calloc(tlen + 1, 1);
        for (int i = 0; i < 3; i++) if (parts[i] && turn) { strcat(turn, parts[i]); free(parts[i]); }
        int32_t *ids = NULL;
        size_t n = 0;
        /* BOS only at the very start; template markers are special tokens. */
        int ok = turn && wgpt_tokenize(m, turn, strlen(turn), first, 1, &ids, &n, err, sizeof err) == WGPT_OK;
        free(turn);
        if (!ok) { rc = cli_error("message: %s", err); break; }
        first = 0;
        if (wgpt_feed(c, ids, n) != WGPT_OK) { free(ids); rc = cli_error("%s", wgpt_errmsg(c)); break; }
        free(ids);
        char reply[4096] = "", piece[256];
        size_t rlen = 0;
        for (long k = 0; k < n_reply; k++) {
            int32_t tok;
            if (wgpt_step_submit(c) != WGPT_OK || wgpt_step_collect(c, 1, &tok) != WGPT_OK) {
                rc = cli_error("%s", wgpt_errmsg(c));
                goto done;
            }
            if (wgpt_token_is_eog(m, tok)) break;
            int pl = wgpt_token_to_piece(m, tok, piece, sizeof piece);
            if (pl <= 0) continue;
            if (pl > (int)sizeof piece) pl = (int)sizeof piece;
            if (rlen + (size_t)pl < sizeof reply) { memcpy(reply + rlen, piece, (size_t)pl); rlen += (size_t)pl; reply[rlen] = 0; }
            if (tpl->stop && strstr(reply, tpl->stop)) break;
            fwrite(piece, 1, (size_t)pl, stdout);
            fflush(stdout);
            if (wgpt_context_pos(c) + 1 >= wgpt_context_n_ctx(c)) {
                rc = cli_error("context full (%d tokens): start a new chat or use a larger -c", wgpt_context_n_ctx(c));
                goto done;
            }
        }
        if (!(rlen && reply[rlen - 1] == '\n')) putchar('\n');
        fflush(stdout);
    }
done:
    free(line);
    wgpt_context_free(c);
    wgpt_model_free(m);
    return rc;
}
