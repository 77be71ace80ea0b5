/* wgpt run: stream a continuation of the prompt to stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "util/util.h"

static const char *help =
    "usage: wgpt run [-m FILE] [-p PROMPT] [-n N] [sampling options]\n"
    "Streams the continuation to stdout; timings go to stderr.\n"
    "  -p, --prompt TEXT    prompt (default: read stdin if it is not a terminal, else empty)\n"
    "  -n, --n-predict N    tokens to generate (default 128)\n"
    "  --temp T             temperature; 0 = greedy (default 0.8)\n"
    "  --top-k K            (default 40; 0 = off)\n"
    "  --top-p P            (default 0.95; 1 = off)\n"
    "  --min-p P            (default 0.05; 0 = off)\n"
    "  --repeat-penalty R   (default 1.0 = off)\n"
    "  --repeat-last-n N    tokens the penalty looks back over (default 64)\n"
    "  --seed S             random seed (default: fixed)\n"
    "  --print-ids          print the generated token ids instead of text\n"
    "  --ignore-eos         keep generating past end-of-generation tokens\n";

static int float_arg(const char *opt, const char *v, float *out) {
    char *end;
    float x = strtof(v, &end);
    if (!*v || *end) return cli_error("%s expects a number, got '%s'", opt, v);
    *out = x;
    return 0;
}

int cmd_run(int argc, char **argv) {
    cli_model_opts o;
    cli_opts_init(&o);
    const char *prompt = NULL;
    long n_predict = 128;
    int print_ids = 0, ignore_eos = 0;
    wgpt_sampling *s = &o.cp.sampling;
    for (int i = 1; i < argc; i++) {
        int r = cli_common_option(&o, argc, argv, &i);
        if (r < 0) return 1;
        if (r) continue;
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { printf("%s%s", help, cli_common_help); return 0; }
        if (!strcmp(a, "--print-ids")) { print_ids = 1; continue; }
        if (!strcmp(a, "--ignore-eos")) { ignore_eos = 1; continue; }
        if (i + 1 >= argc) return cli_error("run: unknown option or missing value: '%s'", a);
        const char *v = argv[++i];
        char *end;
        if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) prompt = v;
        else if (!strcmp(a, "-n") || !strcmp(a, "--n-predict")) {
            n_predict = strtol(v, &end, 10);
            if (!*v || *end || n_predict < 0) return cli_error("-n expects a count, got '%s'", v);
        } else if (!strcmp(a, "--temp")) { if (float_arg(a, v, &s->temperature)) return 1; }
        else if (!strcmp(a, "--top-p")) { if (float_arg(a, v, &s->top_p)) return 1; }
        else if (!strcmp(a, "--min-p")) { if (float_arg(a, v, &s->min_p)) return 1; }
        else if (!strcmp(a, "--repeat-penalty")) { if (float_arg(a, v, &s->repeat_penalty)) return 1; }
        else if (!strcmp(a, "--top-k")) {
            s->top_k = (int)strtol(v, &end, 10);
            if (!*v || *end || s->top_k < 0) return cli_error("--top-k expects a count, got '%s'", v);
        } else if (!strcmp(a, "--repeat-last-n")) {
            s->repeat_last_n = (int)strtol(v, &end, 10);
            if (!*v || *end || s->repeat_last_n < 0) return cli_error("--repeat-last-n expects a count, got '%s'", v);
        } else if (!strcmp(a, "--seed")) {
            s->seed = strtoull(v, &end, 10);
            if (!*v || *end) return cli_error("--seed expects an integer, got '%s'", v);
        } else return cli_error("run: unknown option '%s'", a);
    }
    char *stdin_text = NULL;
    if (!prompt && !isatty(0)) {
        stdin_text = read_stream(stdin, NULL);
        prompt = stdin_text ? stdin_text : "";
    }
    if (!prompt) prompt = "";

    double t_load = now_seconds();
    wgpt_model *m = cli_load_model(&o);
    if (!m) { free(stdin_text); return 1; }
    t_load = now_seconds() - t_load;
    int rc = 1;
    wgpt_context *c = NULL;
    int32_t *ids = NULL;
    size_t n_ids = 0;
    char err[1024];
    if (wgpt_tokenize(m, prompt, strlen(prompt), 1, 0, &ids, &n_ids, err, sizeof err) != WGPT_OK) {
        cli_error("prompt: %s", err);
        goto out;
    }
    if (n_ids == 0) { cli_error("the prompt is empty and the model adds no BOS token: give -p"); goto out; }
    if (wgpt_context_create(m, &o.cp, &c, err, sizeof err) != WGPT_OK) { cli_error("%s", err); goto out; }
    if ((long)n_ids + n_predict > wgpt_context_n_ctx(c) + 1) {
        cli_error("prompt (%zu tokens) + %ld tokens to generate exceed the context of %d (use -c or a smaller -n)",
                  n_ids, n_predict, wgpt_context_n_ctx(c));
        goto out;
    }
    if (wgpt_feed(c, ids, n_ids) != WGPT_OK) { cli_error("%s", wgpt_errmsg(c)); goto out; }

    double t0 = now_seconds(), t_prompt = 0;
    long generated = 0;
    char piece[256];
    while (generated < n_predict) {
        int32_t tok;
        if (wgpt_step_submit(c) != WGPT_OK) { cli_error("%s", wgpt_errmsg(c)); goto out; }
        wgpt_status st = wgpt_step_collect(c, 1, &tok);
        if (st != WGPT_OK) { cli_error("%s", wgpt_errmsg(c)); goto out; }
        if (generated == 0) t_prompt = now_seconds() - t0;
        if (!ignore_eos && wgpt_token_is_eog(m, tok)) break;
        generated++;
        if (print_ids) printf("%s%d", generated > 1 ? " " : "", tok);
        else {
            int len = wgpt_token_to_piece(m, tok, piece, sizeof piece);
            if (len > 0) fwrite(piece, 1, (size_t)(len < (int)sizeof piece ? len : (int)sizeof piece), stdout);
        }
        fflush(stdout);
        if (generated < n_predict && wgpt_context_pos(c) >= wgpt_context_n_ctx(c)) break;
    }
    if (print_ids || generated) putchar('\n');
    double t_gen = now_seconds() - t0 - t_prompt;
    fprintf(stderr, "\nwgpt: load %.2f s | prompt %zu tokens, %.1f tok/s | generation %ld tokens, %.1f tok/s | %s\n",
            t_load, n_ids, t_prompt > 0 ? n_ids / t_prompt : 0.0, generated,
            generated > 1 && t_gen > 0 ? (generated - 1) / t_gen : 0.0, wgpt_model_adapter(m));
    rc = 0;
out:
    free(ids);
    free(stdin_text);
    wgpt_context_free(c);
    wgpt_model_free(m);
    return rc;
}
