/* wgpt parallel: continuations of many prompts at once, as llama.cpp's
 * llama-parallel: one prompt a line (from -f FILE, or stdin), --parallel
 * slots of one wgpt_batch, every slot decoding in the same forward pass and
 * a finished slot taking the next waiting prompt between steps (continuous
 * batching). Each result is a JSON line, in the prompts' order; the
 * aggregate speed goes to stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "util/json.h"
#include "util/text.h"

typedef struct {
    char *text;           /* the line */
    int32_t *ids;         /* its tokens (wgpt_free) */
    size_t n_ids;
    int32_t *out;         /* generated tokens */
    long n_out;
    int done;
} job;

typedef struct { int job; int fed; int32_t last; } slot; /* job -1: free; fed: prompt tokens in the cache */

/* Splits text into lines (a last line without a newline counts; empty lines are skipped). */
static job *read_jobs(char *text, int *n_jobs) {
    int cap = 16, n = 0;
    job *jobs = calloc((size_t)cap, sizeof *jobs);
    for (char *save = NULL, *l = jobs ? strtok_r(text, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
        size_t len = strlen(l);
        if (len && l[len - 1] == '\r') l[--len] = 0;
        if (!len) continue;
        if (n == cap) {
            job *g = realloc(jobs, (size_t)(cap *= 2) * sizeof *jobs);
            if (!g) { free(jobs); return NULL; }
            jobs = g;
        }
        jobs[n++] = (job){.text = l};
    }
    *n_jobs = n;
    return jobs;
}

static void print_job(const wgpt_model *m, const job *j, int index, char **piece, size_t *cap) {
    json_buf b = {0};
    jbuf_printf(&b, "{\"index\": %d, \"prompt_tokens\": %zu, \"ids\": [", index, j->n_ids);
    for (long i = 0; i < j->n_out; i++) jbuf_printf(&b, i ? ", %d" : "%d", j->out[i]);
    jbuf_puts(&b, "], \"text\": ");
    json_buf t = {0};
    for (long i = 0; i < j->n_out; i++) {
        int len = cli_token_piece(m, j->out[i], piece, cap);
        if (len > 0) jbuf_put(&t, *piece, (size_t)len);
    }
    json_write_string(&b, t.data ? t.data : "", t.len, 0);
    jbuf_puts(&b, "}\n");
    if (!b.failed) fwrite(b.data, 1, b.len, stdout);
    jbuf_free(&t);
    jbuf_free(&b);
}

int cmd_parallel(int argc, char **argv) {
    cli_model_opts o;
    cli_opts_init(&o);
    const char *file = NULL;
    long n_predict = 128;
    int n_slots = 8, ignore_eos = 0;
    cli_opt opts[16];
    int n = 0;
    opts[n++] = (cli_opt){"-f,--file", CLI_STR, &file, 0, 0, "FILE", "prompts, one a line (default: stdin)", 0};
    opts[n++] = (cli_opt){"-n,--n-predict", CLI_LONG, &n_predict, 1, 1 << 30, "N", "tokens to generate for each (default 128)", 0};
    opts[n++] = (cli_opt){"--parallel", CLI_INT, &n_slots, 1, 256, "N", "sequences decoded together (default 8)", 0};
    n += cli_sampling_table(&o.cp.sampling, opts + n);
    opts[n++] = (cli_opt){"--ignore-eos", CLI_FLAG, &ignore_eos, 0, 0, NULL, "keep generating past end-of-generation tokens", 0};
    opts[n] = (cli_opt){0};
    cli_command cmd = {"parallel", "[options]",
                       "Generates a continuation of every prompt (one a line), --parallel of them in each forward\n"
                       "pass; prints one JSON line per prompt, in order ({index, prompt_tokens, ids, text}).\n"
                       "Slot i samples with seed + i.\n",
                       opts, &o, 0, NULL, 0, NULL};
    int pr = cli_parse(&cmd, argc, argv);
    if (pr) return pr < 0 ? 0 : pr;

    char err[1024];
    size_t len = 0;
    FILE *in = file ? fopen(file, "rb") : stdin;
    if (!in) return cli_error("parallel: cannot open %s", file);
    char *text = cli_read_stream(in, &len, err, sizeof err);
    if (file) fclose(in);
    if (!text) return cli_error("parallel: %s", err);
    if (memchr(text, 0, len)) { free(text); return cli_error("parallel: the prompts hold a NUL byte"); }
    int n_jobs = 0;
    job *jobs = read_jobs(text, &n_jobs);
    if (!jobs) { free(text); return cli_error("out of memory"); }
    if (!n_jobs) { free(jobs); free(text); return cli_error("parallel: no prompts (one a line)"); }
    if (n_slots > n_jobs) n_slots = n_jobs;

    double t_load = cli_now();
    wgpt_model *m = cli_load_model(&o);
    if (!m) { free(jobs); free(text); return 1; }
    t_load = cli_now() - t_load;
    int rc = 1;
    wgpt_batch *b = NULL;
    slot *slots = calloc((size_t)n_slots, sizeof *slots);
    int *seqs = malloc((size_t)n_slots * sizeof *seqs), *counts = malloc((size_t)n_slots * sizeof *counts);
    const int32_t **toks = malloc((size_t)n_slots * sizeof *toks);
    int32_t *picked = malloc((size_t)n_slots * sizeof *picked);
    size_t piece_cap = 256;
    char *piece = malloc(piece_cap);
    if (!slots || !seqs || !counts || !toks || !picked || !piece) { cli_error("out of memory"); goto out; }
    wgpt_batch_params bp;
    wgpt_batch_params_default(&bp);
    bp.n_seq = n_slots;
    bp.n_ctx = o.cp.n_ctx;
    bp.n_batch = o.cp.n_batch;
    if (wgpt_batch_create(m, &bp, &b, err, sizeof err) != WGPT_OK) { cli_error("%s", err); goto out; }
    int n_ctx = wgpt_batch_n_ctx(b);
    for (int i = 0; i < n_jobs; i++) {
        job *j = &jobs[i];
        if (wgpt_tokenize(m, j->text, strlen(j->text), 1, 0, &j->ids, &j->n_ids, err, sizeof err) != WGPT_OK) {
            cli_error("prompt %d: %s", i + 1, err);
            goto out;
        }
        if (j->n_ids == 0 || (long)j->n_ids + n_predict > n_ctx + 1) {
            cli_error("prompt %d (%zu tokens) + %ld tokens to generate %s the context of %d", i + 1, j->n_ids, n_predict,
                      j->n_ids ? "exceed" : "(empty, and the model adds no BOS token): nothing to run in", n_ctx);
            goto out;
        }
        if (!(j->out = malloc((size_t)n_predict * sizeof *j->out))) { cli_error("out of memory"); goto out; }
    }
    for (int s = 0; s < n_slots; s++) slots[s].job = -1;
    int next = 0, finished = 0;
    long generated = 0, steps = 0;
    double t0 = cli_now();
    while (finished < n_jobs) {
        int k = 0;
        for (int s = 0; s < n_slots; s++) {
            slot *sl = &slots[s];
            if (sl->job < 0 && next < n_jobs) { /* a free slot takes the next prompt */
                sl->job = next++;
                sl->fed = 0;
                wgpt_sampling sp = o.cp.sampling;
                sp.seed += (uint64_t)s;
                if (wgpt_batch_seq_keep(b, s, 0) != WGPT_OK || wgpt_batch_seq_sampling(b, s, &sp) != WGPT_OK) {
                    cli_error("%s", wgpt_batch_errmsg(b));
                    goto out;
                }
            }
            if (sl->job < 0) continue;
            job *j = &jobs[sl->job];
            seqs[k] = s;
            toks[k] = sl->fed ? &sl->last : j->ids;
            counts[k] = sl->fed ? 1 : (int)j->n_ids;
            k++;
        }
        if (wgpt_batch_decode(b, k, seqs, toks, counts, picked) != WGPT_OK) { cli_error("%s", wgpt_batch_errmsg(b)); goto out; }
        steps++;
        for (int i = 0; i < k; i++) {
            slot *sl = &slots[seqs[i]];
            job *j = &jobs[sl->job];
            sl->fed = 1;
            int32_t t = picked[i];
            int end = !ignore_eos && wgpt_token_is_eog(m, t);
            if (!end) {
                j->out[j->n_out++] = t;
                generated++;
                sl->last = t;
            }
            if (end || j->n_out >= n_predict || wgpt_batch_seq_pos(b, seqs[i]) >= n_ctx) {
                j->done = 1;
                sl->job = -1;
                finished++;
            }
        }
    }
    double secs = cli_now() - t0;
    for (int i = 0; i < n_jobs; i++) print_job(m, &jobs[i], i, &piece, &piece_cap);
    if (cli_check_stdout("parallel")) goto out;
    fprintf(stderr, "wgpt: load %.2f s | %d prompts, %d at a time | %ld tokens in %ld steps, %.2f s: %.1f tok/s | %s\n",
            t_load, n_jobs, n_slots, generated, steps, secs, secs > 0 ? generated / secs : 0.0,
            text_show_z(wgpt_model_adapter(m)));
    rc = 0;
out:
    for (int i = 0; i < n_jobs; i++) {
        wgpt_free(jobs[i].ids);
        free(jobs[i].out);
    }
    free(jobs);
    free(text);
    free(slots);
    free(seqs);
    free(counts);
    free(toks);
    free(picked);
    free(piece);
    wgpt_batch_free(b);
    wgpt_model_free(m);
    return rc;
}
