#include "cli/cli.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"

const char *cli_common_help =
    "  -m FILE             model (GGUF); default: $WGPT_MODEL, then models/default.gguf\n"
    "  -c N                context length (default: min(training context, 4096))\n"
    "  --batch N           tokens per forward pass while reading the prompt (default 64)\n"
    "  --device N          adapter index from `wgpt devices` (default: best)\n"
    "  --webgpu-lib PATH   WebGPU library (default: $WGPT_WEBGPU_LIB, then the bundled Dawn)\n"
    "  --max-binding BYTES pretend the device binds at most this much (forces tensor splitting)\n"
    "  -v, --verbose       say which adapter was chosen and why\n";

int cli_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("wgpt: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

void cli_opts_init(cli_model_opts *o) {
    memset(o, 0, sizeof *o);
    wgpt_model_params_default(&o->mp);
    wgpt_context_params_default(&o->cp);
}

static int int_arg(const char *opt, const char *v, long lo, long hi, long *out) {
    char *end;
    long x = strtol(v, &end, 10);
    if (*v == 0 || *end != 0 || x < lo || x > hi) {
        cli_error("%s expects an integer in %ld..%ld, got '%s'", opt, lo, hi, v);
        return -1;
    }
    *out = x;
    return 0;
}

int cli_common_option(cli_model_opts *o, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) { o->mp.verbose = 1; return 1; }
    static const char *const takes_value[] = {"-m", "--model", "-c", "--ctx-size", "--batch", "--device", "--webgpu-lib", "--max-binding", NULL};
    int known = 0;
    for (int k = 0; takes_value[k]; k++) if (!strcmp(a, takes_value[k])) known = 1;
    if (!known) return 0;
    if (*i + 1 >= argc) { cli_error("%s needs a value", a); return -1; }
    const char *v = argv[++*i];
    long x;
    if (!strcmp(a, "-m") || !strcmp(a, "--model")) o->model_path = v;
    else if (!strcmp(a, "--webgpu-lib")) o->mp.webgpu_lib = v;
    else if (!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) { if (int_arg(a, v, 1, 1 << 24, &x)) return -1; o->cp.n_ctx = (int)x; }
    else if (!strcmp(a, "--batch")) { if (int_arg(a, v, 1, 4096, &x)) return -1; o->cp.n_batch = (int)x; }
    else if (!strcmp(a, "--device")) { if (int_arg(a, v, 0, 64, &x)) return -1; o->mp.device = (int)x; }
    else if (!strcmp(a, "--max-binding")) { if (int_arg(a, v, 256, LONG_MAX, &x)) return -1; o->mp.max_binding = (uint64_t)x; }
    return 1;
}

const char *cli_model_path(const cli_model_opts *o) {
    if (o->model_path) return o->model_path;
    const char *env = getenv("WGPT_MODEL");
    if (env && *env) return env;
    static char path[PATH_MAX + 64];
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            snprintf(path, sizeof path, "%s/../models/default.gguf", exe);
            if (access(path, R_OK) == 0) return path;
        }
    }
    return NULL;
}

wgpt_model *cli_load_model(cli_model_opts *o) {
    const char *path = cli_model_path(o);
    if (!path) {
        cli_error("no model: give -m FILE (no default model found in models/)");
        return NULL;
    }
    wgpt_model *m = NULL;
    char err[1024];
    double t0 = now_seconds();
    if (wgpt_model_load(path, &o->mp, &m, err, sizeof err) != WGPT_OK) {
        cli_error("%s", err);
        return NULL;
    }
    if (o->mp.verbose)
        fprintf(stderr, "wgpt: loaded %s (%s) on %s in %.2f s\n", path, wgpt_model_desc(m), wgpt_model_adapter(m),
                now_seconds() - t0);
    return m;
}
