/* wgpt verify: the activation-matching method built in. The same tokens go
 * through the GPU forward and the plain C reference; every named activation
 * of every layer is compared, and the first one out of tolerance is named. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"

typedef struct {
    char name[24];
    int layer, rows, width;
    float *data;
} activation;

typedef struct {
    activation *a;
    int n, cap;
} activation_list;

static void keep(void *user, const char *name, int layer, const float *data, int rows, int width) {
    activation_list *l = user;
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 64;
        activation *p = realloc(l->a, (size_t)cap * sizeof *p);
        if (!p) return;
        l->a = p;
        l->cap = cap;
    }
    activation *a = &l->a[l->n];
    a->data = malloc((size_t)rows * width * sizeof(float));
    if (!a->data) return;
    memcpy(a->data, data, (size_t)rows * width * sizeof(float));
    snprintf(a->name, sizeof a->name, "%s", name);
    a->layer = layer;
    a->rows = rows;
    a->width = width;
    l->n++;
}

/* The GPU's inputs, fed to the reference's 8-bit products
 * (wgpt_file_reference_capture_decode): the activation of that name, layer
 * and step size from the whole prompt's pass or the pass before the decode
 * step, which differ in their token counts. */
typedef struct {
    const activation_list *lists[2];
} gpu_inputs;

static const float *gpu_input(void *user, const char *name, int layer, int n_tokens, int width) {
    const gpu_inputs *in = user;
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < in->lists[k]->n; i++) {
            const activation *a = &in->lists[k]->a[i];
            if (a->layer == layer && a->rows == n_tokens && a->width == width && !strcmp(a->name, name)) return a->data;
        }
    return NULL;
}

static void free_list(activation_list *l) {
    for (int i = 0; i < l->n; i++) free(l->a[i].data);
    free(l->a);
}

/* The reference computes logits for every position; the GPU keeps the rows
 * it was asked for. Compare the GPU's rows against the reference's last rows. */
static int compare(const activation *gpu, const activation *ref, double atol, double rtol, double *max_abs,
                   double *max_rel) {
    int bad = 0;
    *max_abs = *max_rel = 0;
    int skip = ref->rows - gpu->rows;
    for (int r = 0; r < gpu->rows; r++)
        for (int i = 0; i < gpu->width; i++) {
            double a = gpu->data[(size_t)r * gpu->width + i], b = ref->data[(size_t)(r + skip) * ref->width + i];
            double d = fabs(a - b);
            if (!(d <= atol + rtol * fabs(b))) bad = 1; /* NaN counts as bad */
            if (d > *max_abs || d != d) *max_abs = d;
            if (fabs(b) > atol && d / fabs(b) > *max_rel) *max_rel = d / fabs(b);
        }
    return bad;
}

/* One table: each of gpu's activations against ref's of the same name and
 * layer. Returns how many were compared (-1: the reference lacks one); the
 * first out of tolerance goes to *first_bad (-1: none). */
static int compare_lists(const activation_list *gpu, const activation_list *ref, double atol, double rtol,
                         int *first_bad) {
    *first_bad = -1;
    printf("%-6s %-10s %12s %12s\n", "layer", "activation", "max abs", "max rel");
    for (int i = 0; i < gpu->n; i++) {
        const activation *ga = &gpu->a[i], *ra = NULL;
        for (int j = 0; j < ref->n && !ra; j++)
            if (ref->a[j].layer == ga->layer && !strcmp(ref->a[j].name, ga->name)) ra = &ref->a[j];
        if (!ra || ra->width != ga->width || ra->rows < ga->rows) {
            cli_error("verify: the reference has no matching activation %s (layer %d)", ga->name, ga->layer);
            return -1;
        }
        double ma, mr;
        int bad = compare(ga, ra, atol, rtol, &ma, &mr);
        char layer[16];
        if (ga->layer < 0) snprintf(layer, sizeof layer, "-");
        else snprintf(layer, sizeof layer, "%d", ga->layer);
        printf("%-6s %-10s %12.3e %12.3e%s\n", layer, ga->name, ma, mr,
               bad ? (*first_bad < 0 ? "  <-- first to exceed tolerance" : "  exceeds") : "");
        if (bad && *first_bad < 0) *first_bad = i;
    }
    return gpu->n;
}

int cmd_verify(int argc, char **argv) {
    cli_model_opts o;
    cli_opts_init(&o);
    const char *prompt = "The quick brown fox jumps over the lazy dog";
    double atol = 1e-4, rtol = 1e-3;
    const cli_opt opts[] = {
        {"-p,--prompt", CLI_STR, &prompt, 0, 0, "TEXT", "the tokens to run (default: a pangram)", 0},
        {"--atol", CLI_DOUBLE, &atol, 0, 1e6, "A", "absolute tolerance (default 1e-4)", 0},
        {"--rtol", CLI_DOUBLE, &rtol, 0, 1e6, "R", "relative tolerance (default 1e-3)", 0},
        {0},
    };
    cli_command cmd = {"verify", "[-m FILE] [-p TEXT] [--atol A] [--rtol R]",
                       "Runs the GPU and the CPU reference side by side and prints, layer by layer, the\n"
                       "largest absolute and relative difference of each activation; an element passes if\n"
                       "|gpu-ref| <= atol + rtol*|ref|. Exit 0 when every activation matches.\n",
                       opts, &o, 0, NULL, 0, NULL};
    int pr = cli_parse(&cmd, argc, argv);
    if (pr) return pr < 0 ? 0 : pr;
    o.cp.logits_all = 1;
    wgpt_model *m = cli_load_model(&o);
    if (!m) return 1;
    int rc = 1;
    wgpt_context *c = NULL;
    int32_t *ids = NULL;
    size_t n = 0;
    char err[1024];
    activation_list gpu = {0}, before = {0}, ref = {0}, dec = {0}, ref_dec = {0};
    wgpt_file *f = NULL;
    if (wgpt_tokenize(m, prompt, strlen(prompt), 1, 0, &ids, &n, err, sizeof err) != WGPT_OK) {
        cli_error("prompt: %s", err);
        goto out;
    }
    if (n == 0) { cli_error("verify: no tokens"); goto out; }
    if (o.cp.n_batch < (int)n) o.cp.n_batch = (int)n;
    if (wgpt_context_create(m, &o.cp, &c, err, sizeof err) != WGPT_OK) { cli_error("%s", err); goto out; }
    if (wgpt_eval_capture(c, ids, n, keep, &gpu) != WGPT_OK) { cli_error("%s", wgpt_errmsg(c)); goto out; }
    /* A pass of several tokens takes the batched kernels; generation takes
     * one token at a time, through kernels of its own. So the last token
     * goes through again, alone, after the others are in the cache, and is
     * held to the reference run the same way (a step of several tokens and
     * one of a single token differ on Q8_0/Q4_0 weights: the former
     * quantizes its activations to 8 bits). */
    if (n > 1) {
        wgpt_reset(c);
        if (wgpt_eval_capture(c, ids, n - 1, keep, &before) != WGPT_OK ||
            wgpt_eval_capture(c, ids + n - 1, 1, keep, &dec) != WGPT_OK) {
            cli_error("%s", wgpt_errmsg(c));
            goto out;
        }
    }

    if (wgpt_file_open(cli_model_path(&o), &f, err, sizeof err) != WGPT_OK) { cli_error("%s", err); goto out; }
    /* and the reference of the decode step: its own one-token step after
     * the others as one step, as the GPU ran it */
    gpu_inputs inputs = {{&gpu, &before}};
    if (wgpt_file_reference_capture_decode(f, ids, n, keep, &ref, keep, &ref_dec, gpu_input, &inputs, err,
                                           sizeof err) != WGPT_OK) {
        cli_error("reference: %s", err);
        goto out;
    }
    printf("%zu tokens; tolerance atol %g rtol %g\n", n, atol, rtol);
    int first_bad = -1, compared = compare_lists(&gpu, &ref, atol, rtol, &first_bad), decoded = 0;
    if (compared < 0) goto out;
    if (first_bad < 0 && n > 1) {
        printf("the last token again, alone (one decode step after the other %zu):\n", n - 1);
        if ((decoded = compare_lists(&dec, &ref_dec, atol, rtol, &first_bad)) < 0) goto out;
    }
    if (first_bad >= 0) {
        const activation_list *l = decoded ? &dec : &gpu;
        printf("FAIL: %s (layer %d) is the first activation out of tolerance%s\n", l->a[first_bad].name,
               l->a[first_bad].layer, decoded ? " in the decode step" : "");
    } else {
        printf("OK: %d activations match, and %d of the last token decoded alone\n", compared, decoded);
        rc = 0;
    }
    if (cli_check_stdout("verify")) rc = 1;
out:
    wgpt_file_close(f);
    free_list(&gpu);
    free_list(&before);
    free_list(&dec);
    free_list(&ref);
    free_list(&ref_dec);
    wgpt_free(ids);
    wgpt_context_free(c);
    wgpt_model_free(m);
    return rc;
}
