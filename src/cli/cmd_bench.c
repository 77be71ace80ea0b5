/* wgpt bench: prompt processing and generation speed, measured the way
 * llama-bench does (ppP: P prompt tokens in one go; tgN: N tokens generated
 * one at a time after a single BOS, or with -d D, "tgN @ dD", after D
 * prompt tokens processed untimed: generation deep into a context, where
 * attention reads a long cache), repeated and averaged. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "util/text.h"

static double mean_of(const double *v, int n, double *sd) {
    double m = 0, s = 0;
    for (int i = 0; i < n; i++) m += v[i];
    m /= n;
    for (int i = 0; i < n; i++) s += (v[i] - m) * (v[i] - m);
    *sd = n > 1 ? sqrt(s / (n - 1)) : 0;
    return m;
}

typedef struct { char kernel[128]; int calls; double ns; } kernel_time;
typedef struct { kernel_time k[64]; int n; double total; } profile;
static void print_profile_table(profile *p, const char *what, int n);

static void add_time(void *user, const char *kernel, double ns) {
    profile *p = user;
    int i = 0;
    while (i < p->n && strcmp(p->k[i].kernel, kernel)) i++;
    if (i == p->n) {
        if (p->n == 64) return;
        snprintf(p->k[p->n++].kernel, sizeof p->k[0].kernel, "%s", kernel);
    }
    p->k[i].calls++;
    p->k[i].ns += ns;
    p->total += ns;
}

static int by_time(const void *a, const void *b) {
    double x = ((const kernel_time *)a)->ns, y = ((const kernel_time *)b)->ns;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* GPU time per kernel for one pass of the first n tokens. */
static int print_profile(wgpt_context *c, const int32_t *ids, int n, const char *what) {
    wgpt_reset(c);
    profile p = {0};
    if (wgpt_eval_profile(c, ids, (size_t)n, add_time, &p) != WGPT_OK) return cli_error("%s", wgpt_errmsg(c));
    print_profile_table(&p, what, n);
    return 0;
}

static void print_profile_table(profile *pp, const char *what, int n) {
    profile p = *pp;
    qsort(p.k, (size_t)p.n, sizeof *p.k, by_time);
    printf("\nGPU time of one %s pass (%d token%s), by kernel:\n", what, n, n > 1 ? "s" : "");
    int w = 28; /* the widest kernel label sets the column */
    for (int i = 0; i < p.n; i++)
        if ((int)strlen(p.k[i].kernel) > w) w = (int)strlen(p.k[i].kernel);
    printf("| %-*s | %5s | ", w, "kernel", "calls");
    cli_pad(stdout, "\xc2\xb5s", 10, 1);
    printf(" | %5s |\n|", "%");
    for (int i = 0; i < w + 2; i++) putchar('-');
    printf("|-------|------------|-------|\n");
    for (int i = 0; i < p.n; i++)
        printf("| %-*s | %5d | %10.1f | %5.1f |\n", w, p.k[i].kernel, p.k[i].calls, p.k[i].ns / 1e3,
               100 * p.k[i].ns / p.total);
    printf("| %-*s | %5s | %10.1f |       |\n", w, "total", "", p.total / 1e3);
}

/* depth > 0: ids are first processed untimed (n is then 0: the token they
 * yield is the next step's input), then the gen steps are timed. */
static int run_tokens(wgpt_context *c, const int32_t *ids, int depth, int n, int gen, double *seconds) {
    int32_t tok;
    wgpt_reset(c);
    if (depth > 0 && (wgpt_feed(c, ids, (size_t)depth) != WGPT_OK || wgpt_step_submit(c) != WGPT_OK ||
                      wgpt_step_collect(c, 1, &tok) != WGPT_OK))
        return cli_error("%s", wgpt_errmsg(c));
    double t0 = cli_now();
    if (wgpt_feed(c, ids, (size_t)n) != WGPT_OK) return cli_error("%s", wgpt_errmsg(c));
    if (wgpt_step_submit(c) != WGPT_OK || wgpt_step_collect(c, 1, &tok) != WGPT_OK) return cli_error("%s", wgpt_errmsg(c));
    for (int i = 1; i < gen; i++)
        if (wgpt_step_submit(c) != WGPT_OK || wgpt_step_collect(c, 1, &tok) != WGPT_OK) return cli_error("%s", wgpt_errmsg(c));
    *seconds = cli_now() - t0;
    return 0;
}

/* Where a generation step's wall time goes, seen through the public API:
 * the submit (recording and queueing the forward pass), the wait until the
 * step can be collected (the GPU's work and the read-back's mapping), and
 * the collect that returns the token (copying the logits and sampling).
 * Polled without sleeping, so the wait is not rounded up by a timer. */
static int print_step_split(wgpt_context *c, int32_t bos, int steps) {
    int32_t tok;
    double sub = 0, wait = 0, col = 0;
    wgpt_reset(c);
    if (wgpt_feed(c, &bos, 1) != WGPT_OK) return cli_error("%s", wgpt_errmsg(c));
    for (int i = 0; i <= steps; i++) {
        double t0 = cli_now();
        if (wgpt_step_submit(c) != WGPT_OK) return cli_error("%s", wgpt_errmsg(c));
        double t1 = cli_now(), t2;
        wgpt_status st;
        do {
            t2 = cli_now();
            st = wgpt_step_collect(c, 0, &tok);
        } while (st == WGPT_PENDING);
        if (st != WGPT_OK) return cli_error("%s", wgpt_errmsg(c));
        double t3 = cli_now();
        if (i == 0) continue; /* warm-up */
        sub += t1 - t0;
        wait += t2 - t1;
        col += t3 - t2;
    }
    printf("\nWall time of one generation step (mean of %d): submit %.1f \xc2\xb5s, wait for the GPU %.1f \xc2\xb5s, "
           "collect (logits copied, token sampled) %.1f \xc2\xb5s\n",
           steps, 1e6 * sub / steps, 1e6 * wait / steps, 1e6 * col / steps);
    return 0;
}

/* Aggregate generation of P sequences decoded together (a wgpt_batch, as
 * `wgpt serve` runs its slots): each starts from a token of its own, then
 * every step gives all P their next token in one forward pass; tok/s
 * counts the tokens of all of them. Sampling is greedy, on the CPU from the
 * logits read back (the batch's way). */
static int bench_parallel(wgpt_model *m, const cli_model_opts *o, int P, long n_gen, long reps, const int32_t *first,
                          int prof, double *mean, double *sd) {
    wgpt_batch_params bp;
    wgpt_batch_params_default(&bp);
    bp.n_seq = P;
    bp.n_ctx = o->cp.n_ctx;
    bp.n_batch = 1;
    wgpt_batch *b = NULL;
    char err[1024];
    int rc = 1;
    int *seqs = malloc((size_t)P * sizeof *seqs), *ones = malloc((size_t)P * sizeof *ones);
    int32_t *toks = malloc((size_t)P * sizeof *toks), *picked = malloc((size_t)P * sizeof *picked);
    const int32_t **tp = malloc((size_t)P * sizeof *tp);
    double *t = malloc((size_t)reps * sizeof *t);
    if (!seqs || !ones || !toks || !picked || !tp || !t) { cli_error("out of memory"); goto out; }
    if (wgpt_batch_create(m, &bp, &b, err, sizeof err) != WGPT_OK) { cli_error("%s", err); goto out; }
    for (int i = 0; i < P; i++) { seqs[i] = i; ones[i] = 1; tp[i] = &toks[i]; }
    for (long r = -1; r < reps; r++) { /* r -1: the warm-up */
        for (int i = 0; i < P; i++) {
            toks[i] = first[i];
            if (wgpt_batch_seq_keep(b, i, 0) != WGPT_OK) { cli_error("%s", wgpt_batch_errmsg(b)); goto out; }
        }
        double t0 = cli_now();
        for (long g = 0; g < n_gen; g++) {
            if (wgpt_batch_decode(b, P, seqs, tp, ones, picked) != WGPT_OK) { cli_error("%s", wgpt_batch_errmsg(b)); goto out; }
            memcpy(toks, picked, (size_t)P * sizeof *toks);
        }
        if (r >= 0) t[r] = (double)P * n_gen / (cli_now() - t0);
    }
    *mean = mean_of(t, (int)reps, sd);
    if (prof) { /* one more step of all P, timed by kernel */
        profile p = {0};
        if (wgpt_batch_profile(b, P, seqs, toks, add_time, &p) != WGPT_OK) { cli_error("%s", wgpt_batch_errmsg(b)); goto out; }
        char what[48];
        snprintf(what, sizeof what, "batched decode (%d sequences)", P);
        print_profile_table(&p, what, P);
    }
    rc = 0;
out:
    wgpt_batch_free(b);
    free(seqs);
    free(ones);
    free(toks);
    free(picked);
    free(tp);
    free(t);
    return rc;
}

/* "720.28 ± 0.00" */
static void print_row(const char *test, int width, double mean, double sd) {
    char v[64];
    snprintf(v, sizeof v, "%.2f \xc2\xb1 %.2f", mean, sd);
    printf("| %-*s | ", width, test);
    cli_pad(stdout, v, 16, 1);
    printf(" |\n");
}

int cmd_bench(int argc, char **argv) {
    cli_model_opts o;
    cli_opts_init(&o);
    long n_prompt = -1, n_gen = -1, reps = 3, depth = 0; /* -1: not given, fit the defaults to the model */
    int json = 0, prof = 0, parallel = 0;
    const cli_opt opts[] = {
        {"-p,--n-prompt", CLI_LONG, &n_prompt, 0, 1 << 20, "N",
         "prompt tokens processed in one go (default 512, or the model's context if smaller; 0 skips)", 0},
        {"-n,--n-gen", CLI_LONG, &n_gen, 0, 1 << 20, "N",
         "tokens generated one at a time (default 128, or what the context holds; 0 skips)", 0},
        {"-d,--depth", CLI_LONG, &depth, 0, 1 << 20, "N",
         "generation (tgN @ dN) measured with N prompt tokens already in the context, processed untimed "
         "first (default 0: after a single BOS)", 0},
        {"-r,--repetitions", CLI_LONG, &reps, 1, 1000, "N", "repetitions, averaged, after one warm-up (default 3)", 0},
        {"--json", CLI_FLAG, &json, 0, 0, NULL, "one JSON object on stdout instead of the table", 0},
        {"--profile", CLI_FLAG, &prof, 0, 0, NULL, "then print the GPU time of each kernel (timestamp queries)", 0},
        {"--parallel", CLI_INT, &parallel, 1, 256, "N",
         "measure generation of N sequences decoded together instead (tgN xP: all P's tokens a second; "
         "no prompt test)", 0},
        {0},
    };
    cli_command cmd = {"bench", "[-m FILE] [-p N] [-n N] [-d N] [-r N] [--parallel N] [--json | --profile]",
                       "Prompt processing (ppN) and generation (tgN) speed, as llama-bench measures them.\n",
                       opts, &o, 0, NULL, 0, NULL};
    int pr = cli_parse(&cmd, argc, argv);
    if (pr) return pr < 0 ? 0 : pr;
    if (json && prof) return cli_usage_error("bench", "--profile prints a table: it cannot go with --json");
    if (parallel && depth) return cli_usage_error("bench", "--parallel goes without -d");
    if (parallel) n_prompt = 0;
    o.cp.sampling.temperature = 0; /* greedy: no sampling cost to speak of */
    o.cp.sampling.repeat_penalty = 1;
    double t_load = cli_now();
    wgpt_model *m = cli_load_model(&o);
    if (!m) return 1;
    t_load = cli_now() - t_load;
    /* The defaults are llama-bench's, cut to what the model's context holds;
     * counts the user gave are checked, not cut. */
    long limit = o.cp.n_ctx ? o.cp.n_ctx : wgpt_model_n_ctx_train(m);
    if (n_prompt < 0) n_prompt = 512 < limit ? 512 : limit;
    if (n_gen < 0) n_gen = 128 < limit - 1 - depth ? 128 : limit - 1 - depth;
    if (depth && n_gen <= 0) {
        wgpt_model_free(m);
        return cli_error("bench: -d %ld measures generation; this context (%ld tokens) leaves no room for it", depth,
                         limit);
    }
    long gen_ctx = depth + n_gen + 1; /* the depth's tokens, the one they yield, the generated ones */
    if (n_prompt > limit || gen_ctx > limit) {
        wgpt_model_free(m);
        if (depth)
            return cli_error("bench: -p %ld / -n %ld -d %ld need a context of %ld tokens; this one holds %ld (use -c)",
                             n_prompt, n_gen, depth, n_prompt > gen_ctx ? n_prompt : gen_ctx, limit);
        return cli_error("bench: -p %ld / -n %ld need a context of %ld tokens; this one holds %ld (use -p %ld -n %ld or less)",
                         n_prompt, n_gen, n_prompt > n_gen + 1 ? n_prompt : n_gen + 1, limit, limit, limit - 1);
    }
    if (!o.cp.n_ctx) o.cp.n_ctx = (int)(n_prompt > gen_ctx ? n_prompt : gen_ctx);
    long batch_for = n_prompt > depth ? n_prompt : depth;
    if (!o.cp.n_batch) o.cp.n_batch = batch_for > 0 ? (int)(batch_for < 512 ? batch_for : 512) : 1;
    wgpt_context *c = NULL;
    char err[1024];
    int rc = 1;
    long n_ids = (n_prompt > depth ? n_prompt : depth) + 1;
    int32_t *ids = malloc((size_t)n_ids * sizeof *ids);
    double *t = malloc((size_t)reps * sizeof *t);
    if (!ids || !t) { cli_error("out of memory"); goto out; }
    if (wgpt_context_create(m, &o.cp, &c, err, sizeof err) != WGPT_OK) { cli_error("%s", err); goto out; }
    /* Token ids spread over the vocabulary, deterministic. */
    uint32_t x = 12345;
    int V = wgpt_model_n_vocab(m);
    for (long i = 0; i < n_ids; i++) { x = x * 1664525u + 1013904223u; ids[i] = (int32_t)(x % (uint32_t)V); }
    int32_t bos = wgpt_token_bos(m) >= 0 ? wgpt_token_bos(m) : 0;
    const int32_t *gen_from = depth ? ids : &bos;
    double pp = 0, pp_sd = 0, tg = 0, tg_sd = 0, s;
    if (n_prompt > 0) {
        if (run_tokens(c, ids, 0, (int)n_prompt, 1, &s)) goto out; /* warm-up */
        for (long r = 0; r < reps; r++) {
            if (run_tokens(c, ids, 0, (int)n_prompt, 1, &s)) goto out;
            t[r] = n_prompt / s;
        }
        pp = mean_of(t, (int)reps, &pp_sd);
    }
    if (n_gen > 0 && parallel) {
        int32_t *first = malloc((size_t)parallel * sizeof *first);
        for (int i = 0; first && i < parallel; i++) { x = x * 1664525u + 1013904223u; first[i] = (int32_t)(x % (uint32_t)V); }
        int bad = !first ? cli_error("out of memory") : bench_parallel(m, &o, parallel, n_gen, reps, first, prof, &tg, &tg_sd);
        free(first);
        if (bad) goto out;
    } else if (n_gen > 0) {
        if (run_tokens(c, gen_from, (int)depth, !depth, (int)n_gen, &s)) goto out;
        for (long r = 0; r < reps; r++) {
            if (run_tokens(c, gen_from, (int)depth, !depth, (int)n_gen, &s)) goto out;
            t[r] = n_gen / s;
        }
        tg = mean_of(t, (int)reps, &tg_sd);
    }
    const char *path = cli_model_path(&o);
    if (json) {
        printf("{\"engine\":\"wgpt\",\"model\":");
        cli_json_str(stdout, path);
        printf(",\"desc\":");
        cli_json_str(stdout, wgpt_model_desc(m));
        printf(",\"device\":");
        cli_json_str(stdout, wgpt_model_adapter(m));
        if (n_prompt > 0) {
            printf(",\"pp_path\":");
            cli_json_str(stdout, wgpt_model_prompt_path(m));
        }
        printf(",\"load_s\":%.2f,\"n_prompt\":%ld,\"pp_tok_s\":%.2f,\"n_gen\":%ld,\"tg_tok_s\":%.2f", t_load,
               n_prompt, pp, n_gen, tg);
        if (depth) printf(",\"depth\":%ld,\"tg_test\":\"tg%ld @ d%ld\"", depth, n_gen, depth);
        if (parallel) printf(",\"parallel\":%d,\"tg_test\":\"tg%ld x%d\"", parallel, n_gen, parallel);
        printf("}\n");
    } else {
        printf("model: %s (%s)\ndevice: %s\n", text_show_z(path), wgpt_model_desc(m), text_show_z(wgpt_model_adapter(m)));
        if (n_prompt > 0) printf("prompt steps: %s\n", wgpt_model_prompt_path(m));
        char test[48], tg_test[48];
        if (depth) snprintf(tg_test, sizeof tg_test, "tg%ld @ d%ld", n_gen, depth);
        else if (parallel) snprintf(tg_test, sizeof tg_test, "tg%ld x%d", n_gen, parallel);
        else snprintf(tg_test, sizeof tg_test, "tg%ld", n_gen);
        int w = depth || parallel ? (int)strlen(tg_test) : 8; /* llama-bench's column, wider for "tgN @ dD" */
        printf("| %-*s | %16s |\n|%.*s|------------------|\n", w, "test", "tok/s", w + 2,
               "------------------------------------------------");
        if (n_prompt > 0) { snprintf(test, sizeof test, "pp%ld", n_prompt); print_row(test, w, pp, pp_sd); }
        if (n_gen > 0) print_row(tg_test, w, tg, tg_sd);
    }
    if (prof && !parallel) {
        if (n_gen > 0 && print_profile(c, &bos, 1, "generation")) goto out; /* ids is unset without a prompt */
        if (n_prompt > 0 && print_profile(c, ids, (int)(n_prompt < o.cp.n_batch ? n_prompt : o.cp.n_batch), "prompt"))
            goto out;
        if (n_gen > 1 && print_step_split(c, bos, (int)(n_gen < 64 ? n_gen : 64))) goto out;
    }
    rc = cli_check_stdout("bench");
out:
    free(ids);
    free(t);
    wgpt_context_free(c);
    wgpt_model_free(m);
    return rc;
}
