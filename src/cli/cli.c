#include "cli/cli.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "util/text.h"

int cli_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fflush(stdout); /* so the message never lands inside a line of output */
    fputs("wgpt: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fflush(stdout);
    fprintf(stderr, "wgpt: %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see wgpt %s --help)\n", cmd);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

void cli_opts_init(cli_model_opts *o) {
    memset(o, 0, sizeof *o);
    wgpt_model_params_default(&o->mp);
    wgpt_context_params_default(&o->cp);
}

/* ---- the option table ---- */

/* Does `names` ("-n,--n-predict") hold the spelling s[0..len)? */
static int has_name(const char *names, const char *s, size_t len) {
    for (const char *p = names; *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == len && !memcmp(p, s, len)) return 1;
        if (!comma) break;
        p = comma + 1;
    }
    return 0;
}

static void print_range(char *out, size_t cap, const cli_opt *o) {
    if (o->type == CLI_FLOAT || o->type == CLI_DOUBLE)
        snprintf(out, cap, "a number in %s%g..%g%s", o->flags & CLI_LO_OPEN ? "(" : "", o->lo, o->hi,
                 o->flags & CLI_LO_OPEN ? "]" : "");
    else snprintf(out, cap, "an integer in %.0f..%.0f", o->lo, o->hi);
}

/* Integers: digits with an optional minus, nothing around them, no overflow. */
static int parse_ll(const char *v, long long *out) {
    if (!(*v == '-' || (*v >= '0' && *v <= '9'))) return -1;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno == ERANGE || end == v || *end) return -1;
    *out = x;
    return 0;
}

static int parse_real(const char *v, double *out) {
    if (!(*v == '-' || *v == '+' || *v == '.' || (*v >= '0' && *v <= '9'))) return -1;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || *end || !isfinite(x) || (errno == ERANGE && fabs(x) > 1)) return -1;
    *out = x;
    return 0;
}

static int set_value(const char *cmd, const cli_opt *o, const char *opt, const char *v) {
    char range[96];
    print_range(range, sizeof range, o);
    long long ll;
    double d;
    switch (o->type) {
    case CLI_FLAG: return 0;
    case CLI_STR:
        if (!*v && !(o->flags & CLI_EMPTY_OK)) return cli_usage_error(cmd, "%s needs a non-empty value", opt);
        *(const char **)o->dst = v;
        return 0;
    case CLI_INT: case CLI_LONG:
        if (parse_ll(v, &ll) || (double)ll < o->lo || (double)ll > o->hi)
            return cli_usage_error(cmd, "%s expects %s, got '%s'", opt, range, text_show_z(v));
        if (o->type == CLI_INT) *(int *)o->dst = (int)ll;
        else *(long *)o->dst = (long)ll;
        return 0;
    case CLI_U64: {
        char *end;
        errno = 0;
        unsigned long long u = (*v >= '0' && *v <= '9') ? strtoull(v, &end, 10) : 0;
        if (!(*v >= '0' && *v <= '9') || errno == ERANGE || *end || (double)u < o->lo || (double)u > o->hi)
            return cli_usage_error(cmd, "%s expects %s, got '%s'", opt, range, text_show_z(v));
        *(uint64_t *)o->dst = u;
        return 0;
    }
    case CLI_SEED: {
        if (!strcmp(v, "-1")) {
            /* A fresh seed each run, as llama.cpp's -1 means. */
            uint64_t s = 0;
            if (getrandom(&s, sizeof s, 0) != (ssize_t)sizeof s) s = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
            *(uint64_t *)o->dst = s;
            return 0;
        }
        char *end;
        errno = 0;
        unsigned long long u = (*v >= '0' && *v <= '9') ? strtoull(v, &end, 10) : 0;
        if (!(*v >= '0' && *v <= '9') || errno == ERANGE || *end)
            return cli_usage_error(cmd, "%s expects an integer in 0..18446744073709551615, or -1 for a random seed, got '%s'",
                                   opt, text_show_z(v));
        *(uint64_t *)o->dst = u;
        return 0;
    }
    case CLI_FLOAT: case CLI_DOUBLE:
        if (parse_real(v, &d) || d > o->hi || d < o->lo || ((o->flags & CLI_LO_OPEN) && d <= o->lo) ||
            (o->type == CLI_FLOAT && !isfinite((float)d)))
            return cli_usage_error(cmd, "%s expects %s, got '%s'", opt, range, text_show_z(v));
        if (o->type == CLI_FLOAT) *(float *)o->dst = (float)d;
        else *(double *)o->dst = d;
        return 0;
    }
    return 0;
}

/* The options every model command shares, pointing into m. */
static int model_table(cli_model_opts *m, int model_only, cli_opt *t) {
    int n = 0;
    t[n++] = (cli_opt){"-m,--model", CLI_STR, &m->model_path, 0, 0, "FILE",
                       "model (GGUF); default: $WGPT_MODEL, then models/default.gguf", 0};
    if (!model_only) {
        t[n++] = (cli_opt){"-c,--ctx-size", CLI_INT, &m->cp.n_ctx, 1, 1 << 24, "N",
                           "context length (default: min(training context, 4096))", 0};
        t[n++] = (cli_opt){"--batch", CLI_INT, &m->cp.n_batch, 1, 4096, "N",
                           "tokens per forward pass while reading the prompt (default 512)", 0};
        t[n++] = (cli_opt){"--device", CLI_INT, &m->mp.device, 0, 64, "N", "adapter index from `wgpt devices` (default: best)", 0};
        t[n++] = (cli_opt){"--webgpu-lib", CLI_STR, &m->mp.webgpu_lib, 0, 0, "PATH",
                           "WebGPU library (default: $WGPT_WEBGPU_LIB, then the bundled Dawn)", 0};
        t[n++] = (cli_opt){"--max-binding", CLI_U64, &m->mp.max_binding, 256, 4611686018427387904.0, "BYTES",
                           "pretend the device binds at most this much (forces tensor splitting)", 0};
        t[n++] = (cli_opt){"-v,--verbose", CLI_FLAG, &m->verbose, 0, 0, NULL, "say which adapter was chosen and why", 0};
    }
    t[n] = (cli_opt){0};
    return n;
}

static void print_rows(const cli_opt *t) {
    for (; t->names; t++) {
        char left[64] = "";
        size_t n = 0;
        for (const char *p = t->names; *p && n + 3 < sizeof left; p++) {
            if (*p == ',') { left[n++] = ','; left[n++] = ' '; }
            else left[n++] = *p;
        }
        left[n] = 0;
        if (t->meta) snprintf(left + n, sizeof left - n, " %s", t->meta);
        printf("  %-24s %s\n", left, t->help);
    }
}

static void print_help(const cli_command *cmd, const cli_opt *common) {
    printf("usage: wgpt %s %s\n", cmd->name, cmd->synopsis);
    if (cmd->about) fputs(cmd->about, stdout);
    printf("options:\n");
    print_rows(cmd->opts);
    if (common) print_rows(common);
    printf("  %-24s %s\n", "-h, --help", "this help");
}

int cli_parse(const cli_command *cmd, int argc, char **argv) {
    cli_opt common[10];
    const cli_opt *tables[2] = {cmd->opts, NULL};
    if (cmd->model) {
        model_table(cmd->model, cmd->model_only, common);
        tables[1] = common;
    }
    if (cmd->n_args) *cmd->n_args = 0;
    int only_args = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_args || a[0] != '-' || !a[1]) {
            if (!cmd->args || *cmd->n_args >= cmd->max_args)
                return cli_usage_error(cmd->name, "unexpected argument '%s'", text_show_z(a));
            cmd->args[(*cmd->n_args)++] = a;
            continue;
        }
        if (!strcmp(a, "--")) { only_args = 1; continue; }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { print_help(cmd, tables[1]); return -1; }
        const char *eq = a[1] == '-' ? strchr(a, '=') : NULL;
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        const cli_opt *o = NULL;
        for (int k = 0; k < 2 && !o; k++)
            for (const cli_opt *t = tables[k]; t && t->names && !o; t++)
                if (has_name(t->names, a, nlen)) o = t;
        char opt[64];
        snprintf(opt, sizeof opt, "%.*s", (int)(nlen < 60 ? nlen : 60), a);
        if (!o) return cli_usage_error(cmd->name, "unknown option '%s'", text_show(a, nlen));
        if (o->type == CLI_FLAG) {
            if (eq) return cli_usage_error(cmd->name, "%s takes no value", opt);
            *(int *)o->dst = 1;
            continue;
        }
        const char *v;
        if (eq) v = eq + 1;
        else if (i + 1 < argc) v = argv[++i];
        else return cli_usage_error(cmd->name, "%s needs a value (%s)", opt, o->meta ? o->meta : "");
        int rc = set_value(cmd->name, o, opt, v);
        if (rc) return rc;
    }
    return 0;
}

/* ---- sampling and generation, shared by run and chat ---- */

/* The sampling rows run and chat share, pointing into s. */
int cli_sampling_table(wgpt_sampling *s, cli_opt *t) {
    int n = 0;
    t[n++] = (cli_opt){"--temp", CLI_FLOAT, &s->temperature, 0, 1000, "T", "temperature; 0 = greedy (default 0.8)", 0};
    t[n++] = (cli_opt){"--top-k", CLI_INT, &s->top_k, 0, 1e9, "K", "keep the K most likely tokens (default 40; 0 = off)", 0};
    t[n++] = (cli_opt){"--top-p", CLI_FLOAT, &s->top_p, 0, 1, "P", "nucleus: smallest set of probability >= P (default 0.95; 1 = off)", 0};
    t[n++] = (cli_opt){"--min-p", CLI_FLOAT, &s->min_p, 0, 1, "P", "drop tokens below P x the top probability (default 0.05; 0 = off)", 0};
    /* Below 0.01 the division overflows the logits: a penalty that makes a token certain. */
    t[n++] = (cli_opt){"--repeat-penalty", CLI_FLOAT, &s->repeat_penalty, 0.01, 100, "R",
                       "divide the logits of recent tokens by R (default 1 = off)", 0};
    t[n++] = (cli_opt){"--repeat-last-n", CLI_INT, &s->repeat_last_n, 0, 1 << 24, "N", "tokens the penalty looks back over (default 64)", 0};
    t[n++] = (cli_opt){"--seed", CLI_SEED, &s->seed, 0, 0, "S", "random seed; -1 = a fresh one each run (default: fixed)", 0};
    t[n++] = (cli_opt){"--cpu-sampling", CLI_FLAG, &s->on_cpu, 0, 0, NULL,
                       "read the logits back and sample on the CPU (default: on the GPU where the settings allow)", 0};
    return n;
}

/* The whole text of one token, however long (the vocabulary decides). */
int cli_token_piece(const wgpt_model *m, int32_t tok, char **buf, size_t *cap) {
    int len = wgpt_token_to_piece(m, tok, *buf, *cap);
    if (len > 0 && (size_t)len > *cap) {
        char *nb = realloc(*buf, (size_t)len);
        if (!nb) return -1;
        *buf = nb;
        *cap = (size_t)len;
        len = wgpt_token_to_piece(m, tok, *buf, *cap);
    }
    return len;
}

/* What to say when tokens do not fit: a larger -c only helps when the
 * model's own context is larger. */
void cli_context_hint(char *out, size_t cap, const wgpt_model *m, const wgpt_context *c) {
    int n_ctx = wgpt_context_n_ctx(c), train = wgpt_model_n_ctx_train(m);
    if (n_ctx < train) snprintf(out, cap, "use -c up to %d, or fewer tokens", train);
    else snprintf(out, cap, "the model's context is %d tokens: use a shorter prompt or a smaller -n", train);
}

/* ---- the model ---- */

const char *cli_model_path(cli_model_opts *o) {
    if (o->model_path) { o->model_from = "-m"; return o->model_path; }
    const char *env = getenv("WGPT_MODEL");
    if (env && *env) { o->model_from = "$WGPT_MODEL"; return env; }
    static char path[PATH_MAX];
    char exe[PATH_MAX], guess[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            snprintf(guess, sizeof guess, "%s/../models/default.gguf", exe);
            /* The real path, not build/../models: that is what a user would type. */
            if (realpath(guess, path) && access(path, R_OK) == 0) { o->model_from = "default"; return path; }
        }
    }
    return NULL;
}

/* ---- loading: the progress bar and the library's diagnostics ---- */

double cli_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct {
    double t0;
    int tty;        /* draw only on a terminal: a log file wants no carriage returns */
    int last_pct;   /* -1: nothing drawn yet */
    int verbose;
} load_view;

static void on_progress(void *user, uint64_t done, uint64_t total) {
    load_view *v = user;
    if (done == 0) { v->t0 = cli_now(); return; } /* the weights start: the speed counts from here */
    if (!v->tty) return;
    int pct = (int)(100.0 * (double)done / (double)(total ? total : 1));
    if (pct == v->last_pct) return;
    v->last_pct = pct;
    int width = 30, fill = pct * width / 100;
    double dt = cli_now() - v->t0, mb = (double)done / 1e6;
    fprintf(stderr, "\rloading [%.*s%*s] %3d%% %.1f MB %.1f MB/s", fill, "##############################",
            width - fill, "", pct, mb, dt > 0 ? mb / dt : 0.0);
    fflush(stderr);
}

/* The bar is erased whether the load succeeded or not, so that the next
 * line (the error, or the output) starts clean. */
static void progress_erase(load_view *v) {
    if (v->tty && v->last_pct >= 0) fprintf(stderr, "\r\033[K");
    v->last_pct = -1;
}

static void on_log(void *user, int level, const char *msg) {
    load_view *v = user;
    if (level > WGPT_LOG_INFO || (level == WGPT_LOG_INFO && !v->verbose)) return;
    progress_erase(v);
    fprintf(stderr, "wgpt: %s\n", msg);
}

wgpt_model *cli_load_model(cli_model_opts *o) {
    const char *path = cli_model_path(o);
    if (!path) {
        cli_error("no model: give -m FILE (no default model found in models/)");
        return NULL;
    }
    wgpt_model *m = NULL;
    char err[1024];
    load_view view = {cli_now(), isatty(2), -1, o->verbose};
    wgpt_model_params mp = o->mp;
    mp.progress = on_progress;
    mp.log = on_log;
    mp.user = &view;
    double t0 = cli_now();
    wgpt_status st = wgpt_model_load(path, &mp, &m, err, sizeof err);
    progress_erase(&view);
    if (st != WGPT_OK) {
        if (!strcmp(o->model_from, "$WGPT_MODEL")) cli_error("%s (the model named by $WGPT_MODEL)", err);
        else cli_error("%s", err);
        return NULL;
    }
    if (o->verbose)
        fprintf(stderr, "wgpt: loaded %s (%s) on %s in %.2f s; prompt steps: %s\n", text_show_z(path),
                wgpt_model_desc(m), text_show_z(wgpt_model_adapter(m)), cli_now() - t0, wgpt_model_prompt_path(m));
    return m;
}

char *cli_read_stream(FILE *f, size_t *len, char *err, size_t errlen) {
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) { snprintf(err, errlen, "out of memory"); return NULL; }
    for (;;) {
        if (n + 1 >= cap) {
            char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap *= 2);
            if (!nb) { free(buf); snprintf(err, errlen, "out of memory after reading %zu bytes", n); return NULL; }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    /* A read error is not the end of the text: an empty prompt is no answer to EISDIR. */
    if (ferror(f)) {
        snprintf(err, errlen, "cannot read the input: %s", strerror(errno ? errno : EIO));
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

/* ---- output ---- */

int cli_check_stdout(const char *cmd) {
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout)) return 0;
    int e = errno;
    fprintf(stderr, "wgpt: %s: cannot write the output%s%s\n", cmd, e ? ": " : "", e ? strerror(e) : "");
    return 1;
}

void cli_json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p == '\n') fputs("\\n", f);
        else if (*p == '\t') fputs("\\t", f);
        else if (*p == '\r') fputs("\\r", f);
        else if (*p < 0x20 || *p == 0x7f) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

void cli_pad(FILE *f, const char *s, int width, int right) {
    int cols = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) cols += (*p & 0xC0) != 0x80;
    if (right) fprintf(f, "%*s%s", width > cols ? width - cols : 0, "", s);
    else fprintf(f, "%s%*s", s, width > cols ? width - cols : 0, "");
}
