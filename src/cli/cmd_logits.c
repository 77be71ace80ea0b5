/* wgpt logits: the logits at every position, little-endian f32 [pos][vocab]. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "util/text.h"

static int parse_ids(const char *s, int32_t **out, size_t *n) {
    size_t cap = 16;
    *out = malloc(cap * sizeof **out);
    *n = 0;
    while (*out) {
        while (*s == ' ' || *s == ',' || *s == '\t' || *s == '\n') s++;
        if (!*s) return 0;
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 0 || v > INT32_MAX) return -1;
        if (*n == cap) {
            int32_t *p = realloc(*out, (cap *= 2) * sizeof **out);
            if (!p) return -1;
            *out = p;
        }
        (*out)[(*n)++] = (int32_t)v;
        s = end;
    }
    return -1;
}

int cmd_logits(int argc, char **argv) {
    cli_model_opts o;
    cli_opts_init(&o);
    const char *ids_text = NULL, *prompt = NULL, *out_path = NULL;
    const cli_opt opts[] = {
        {"--ids", CLI_STR, &ids_text, 0, 0, "\"1 2 3\"", "token ids, used as given", 0},
        {"-p,--prompt", CLI_STR, &prompt, 0, 0, "TEXT", "text, tokenized with BOS as the model's metadata says", CLI_EMPTY_OK},
        {"-o,--output", CLI_STR, &out_path, 0, 0, "OUT", "the file to write; - for stdout", 0},
        {0},
    };
    cli_command cmd = {"logits", "(--ids \"1 2 3\" | -p TEXT) -o OUT",
                       "Writes the logits at every position as little-endian f32, row-major [positions][vocab].\n",
                       opts, &o, 0, NULL, 0, NULL};
    int pr = cli_parse(&cmd, argc, argv);
    if (pr) return pr < 0 ? 0 : pr;
    if (!out_path) return cli_usage_error("logits", "-o OUT is required");
    if (!ids_text == !prompt) return cli_usage_error("logits", "give exactly one of --ids or -p");
    int32_t *ids = NULL;
    size_t n = 0;
    if (ids_text && (parse_ids(ids_text, &ids, &n) != 0 || n == 0)) {
        free(ids);
        return cli_usage_error("logits", "--ids expects non-negative integers separated by spaces, got '%s'", text_show_z(ids_text));
    }
    o.cp.logits_all = 1;
    wgpt_model *m = cli_load_model(&o);
    if (!m) { free(ids); return 1; }
    int rc = 1;
    wgpt_context *c = NULL;
    float *logits = NULL;
    FILE *f = NULL;
    char err[1024];
    if (prompt && wgpt_tokenize(m, prompt, strlen(prompt), 1, 0, &ids, &n, err, sizeof err) != WGPT_OK) {
        cli_error("prompt: %s", err);
        goto out;
    }
    if (n == 0) { cli_error("logits: no tokens"); goto out; }
    if (wgpt_context_create(m, &o.cp, &c, err, sizeof err) != WGPT_OK) { cli_error("%s", err); goto out; }
    size_t V = (size_t)wgpt_model_n_vocab(m);
    logits = malloc(n * V * sizeof(float));
    if (!logits) { cli_error("out of memory"); goto out; }
    if (wgpt_eval_logits(c, ids, n, logits) != WGPT_OK) { cli_error("%s", wgpt_errmsg(c)); goto out; }
    int to_stdout = !strcmp(out_path, "-");
    f = to_stdout ? stdout : fopen(out_path, "wb");
    if (!f || fwrite(logits, sizeof(float), n * V, f) != n * V) {
        cli_error("logits: cannot write %s: %s", to_stdout ? "stdout" : text_show_z(out_path), strerror(errno));
        goto out;
    }
    if (to_stdout) {
        f = NULL;
        if (cli_check_stdout("logits")) goto out;
    } else {
        int e = fclose(f);
        f = NULL;
        if (e != 0) { cli_error("logits: cannot write %s: %s", text_show_z(out_path), strerror(errno)); goto out; }
    }
    fprintf(stderr, "wgpt: wrote %zu x %zu logits to %s\n", n, V, to_stdout ? "stdout" : text_show_z(out_path));
    rc = 0;
out:
    if (f) fclose(f);
    free(logits);
    free(ids);
    wgpt_context_free(c);
    wgpt_model_free(m);
    return rc;
}
