/* wgpt run: stream a continuation of the prompt to stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "util/text.h"

static double rate(double n, double seconds) { return seconds > 0 ? n / seconds : 0.0; }

int cmd_run(int argc, char **argv) {
    cli_model_opts o;
    cli_opts_init(&o);
    const char *prompt = NULL;
    long n_predict = 128;
    int print_ids = 0, ignore_eos = 0, raw = 0;
    cli_opt opts[16];
    int n = 0;
    opts[n++] = (cli_opt){"-p,--prompt", CLI_STR, &prompt, 0, 0, "TEXT",
                          "prompt (default: stdin if it is not a terminal, else empty)", CLI_EMPTY_OK};
    opts[n++] = (cli_opt){"-n,--n-predict", CLI_LONG, &n_predict, 0, 1 << 30, "N", "tokens to generate (default 128)", 0};
    n += cli_sampling_table(&o.cp.sampling, opts + n);
    opts[n++] = (cli_opt){"--print-ids", CLI_FLAG, &print_ids, 0, 0, NULL, "print the generated token ids instead of text", 0};
    opts[n++] = (cli_opt){"--ignore-eos", CLI_FLAG, &ignore_eos, 0, 0, NULL, "keep generating past end-of-generation tokens", 0};
    opts[n++] = (cli_opt){"--raw", CLI_FLAG, &raw, 0, 0, NULL,
                          "write the model's bytes as they are (default: control bytes shown escaped)", 0};
    opts[n] = (cli_opt){0};
    cli_command cmd = {"run", "[options]", "Streams the continuation to stdout; timings go to stderr.\n", opts, &o, 0, NULL, 0, NULL};
    int pr = cli_parse(&cmd, argc, argv);
    if (pr) return pr < 0 ? 0 : pr;

    char *stdin_text = NULL;
    size_t prompt_len = prompt ? strlen(prompt) : 0;
    if (!prompt && !isatty(0)) {
        char err[256];
        stdin_text = cli_read_stream(stdin, &prompt_len, err, sizeof err);
        if (!stdin_text) return cli_error("run: %s", err);
        prompt = stdin_text;
    }
    if (!prompt) prompt = "";

    double t_load = cli_now();
    wgpt_model *m = cli_load_model(&o);
    if (!m) { free(stdin_text); return 1; }
    t_load = cli_now() - t_load;
    int rc = 1;
    wgpt_context *c = NULL;
    int32_t *ids = NULL;
    size_t n_ids = 0, piece_cap = 256;
    char err[1024], *piece = malloc(piece_cap);
    text_stream out = {.raw = raw};
    if (!piece) { cli_error("out of memory"); goto out; }
    /* The prompt's length, not strlen: a NUL from stdin is a byte like any other. */
    if (wgpt_tokenize(m, prompt, prompt_len, 1, 0, &ids, &n_ids, err, sizeof err) != WGPT_OK) {
        cli_error("prompt: %s", err);
        goto out;
    }
    if (n_ids == 0) { cli_error("the prompt is empty and the model adds no BOS token: give -p"); goto out; }
    if (wgpt_context_create(m, &o.cp, &c, err, sizeof err) != WGPT_OK) { cli_error("%s", err); goto out; }
    if (o.verbose)
        fprintf(stderr, "wgpt: sampling on the %s\n",
                wgpt_context_gpu_sampling(c) ? "GPU (only the token read back)" : "CPU (the logits read back)");
    /* n_predict <= 2^30 and n_ids <= the prompt's bytes: no overflow in long. */
    if ((long)n_ids + n_predict > wgpt_context_n_ctx(c) + 1) {
        char hint[160];
        cli_context_hint(hint, sizeof hint, m, c);
        cli_error("prompt (%zu tokens) + %ld tokens to generate exceed the context of %d (%s)", n_ids, n_predict,
                  wgpt_context_n_ctx(c), hint);
        goto out;
    }
    if (wgpt_feed(c, ids, n_ids) != WGPT_OK) { cli_error("%s", wgpt_errmsg(c)); goto out; }

    double t0 = cli_now(), t_first = 0;
    long generated = 0;
    int ends_in_newline = 1;
    while (generated < n_predict) {
        int32_t tok;
        if (wgpt_step_submit(c) != WGPT_OK) { cli_error("%s", wgpt_errmsg(c)); goto out; }
        wgpt_status st = wgpt_step_collect(c, 1, &tok);
        if (st != WGPT_OK) { cli_error("%s", wgpt_errmsg(c)); goto out; }
        if (generated == 0) t_first = cli_now() - t0;
        if (!ignore_eos && wgpt_token_is_eog(m, tok)) break;
        generated++;
        int werr = 0;
        if (print_ids) werr = printf("%s%d", generated > 1 ? " " : "", tok) < 0;
        else {
            int len = cli_token_piece(m, tok, &piece, &piece_cap);
            if (len > 0) {
                werr = text_stream_write(&out, stdout, piece, (size_t)len);
                ends_in_newline = piece[len - 1] == '\n';
            }
        }
        if (werr || fflush(stdout) != 0) break; /* reported below */
        if (generated < n_predict && wgpt_context_pos(c) >= wgpt_context_n_ctx(c)) break;
    }
    text_stream_flush(&out, stdout);
    if (print_ids ? generated > 0 : !ends_in_newline) putchar('\n');
    if (cli_check_stdout("run")) goto out;
    /* Prompt speed: the first step reads the whole prompt and makes one token;
     * generation speed: the tokens after it, over the time after it. */
    double t_gen = cli_now() - t0 - t_first;
    char gen_rate[32] = "n/a";
    if (generated > 1) snprintf(gen_rate, sizeof gen_rate, "%.1f tok/s", rate((double)(generated - 1), t_gen));
    fprintf(stderr, "wgpt: load %.2f s | prompt %zu tokens, %.1f tok/s | generation %ld token%s, %s | %s\n", t_load,
            n_ids, rate((double)n_ids, t_first), generated, generated == 1 ? "" : "s", gen_rate,
            text_show_z(wgpt_model_adapter(m)));
    rc = 0;
out:
    free(piece);
    free(ids);
    free(stdin_text);
    wgpt_context_free(c);
    wgpt_model_free(m);
    return rc;
}
