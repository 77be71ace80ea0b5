/* wgpt inspect: what a GGUF file holds, without touching the GPU. Metadata
 * is grouped the way one reads a model: identity, the architecture's
 * hyperparameters, the tokenizer, everything else; then the tensor table. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "formats/gguf.h"
#include "util/text.h"

/* Strings longer than this are cut in the listing (chat templates run to kilobytes). */
#define MAX_SHOWN 96
/* Keys and tensor names are rarely past 64 bytes; a hostile file may hold megabytes. */
#define MAX_NAME 200

/* Quoted, escaped (a model file is untrusted: its strings must not drive
 * the terminal), and cut after max bytes with the length left out. */
static void print_quoted(const char *s, uint64_t len, uint64_t max) {
    char buf[MAX_SHOWN * 12 + 64];
    text_escape(buf, sizeof buf, s, (size_t)len, (size_t)max);
    printf("'%s'", buf);
}

/* A key or tensor name: escaped and capped, as wide as `width` columns. */
static void print_name(gguf_str name, int width) {
    char buf[MAX_NAME * 12 + 64];
    text_escape(buf, sizeof buf, name.ptr, (size_t)name.len, MAX_NAME);
    cli_pad(stdout, buf, width, 0);
}

/* The shortest decimal that reads back as the same value. */
static void print_real(double x, int is_f32) {
    char b[40];
    for (int p = is_f32 ? 6 : 15; p <= (is_f32 ? 9 : 17); p++) {
        snprintf(b, sizeof b, "%.*g", p, x);
        if (is_f32 ? strtof(b, NULL) == (float)x : strtod(b, NULL) == x) break;
    }
    fputs(b, stdout);
}

static void print_value(const gguf_kv *kv) {
    switch (kv->type) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_UINT16: case GGUF_TYPE_UINT32: case GGUF_TYPE_UINT64:
        printf("%llu", (unsigned long long)kv->v.u);
        break;
    case GGUF_TYPE_INT8: case GGUF_TYPE_INT16: case GGUF_TYPE_INT32: case GGUF_TYPE_INT64:
        printf("%lld", (long long)kv->v.i);
        break;
    case GGUF_TYPE_FLOAT32: print_real(kv->v.f, 1); break;
    case GGUF_TYPE_FLOAT64: print_real(kv->v.f, 0); break;
    case GGUF_TYPE_BOOL: fputs(kv->v.u ? "true" : "false", stdout); break;
    case GGUF_TYPE_STRING: print_quoted(kv->str.ptr, kv->str.len, MAX_SHOWN); break;
    case GGUF_TYPE_ARRAY:
        printf("[%s \xc3\x97 %llu]", gguf_type_name(kv->arr_type), (unsigned long long)kv->arr_len);
        break;
    default: fputs("?", stdout);
    }
}

static void print_kv_line(const gguf_kv *kv, int keyw) {
    fputs("  ", stdout);
    print_name(kv->key, keyw);
    fputs(" = ", stdout);
    print_value(kv);
    putchar('\n');
}

/* Keys that the tokenizer summary already shows. */
static const char *const tok_keys[] = {
    "tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.tokens", "tokenizer.ggml.merges",
    "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id",
    "tokenizer.ggml.padding_token_id", "tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token",
};

static int is_hparam(const gguf_kv *kv, gguf_str arch) {
    return arch.len && kv->key.len > arch.len + 1 && !memcmp(kv->key.ptr, arch.ptr, arch.len) &&
           kv->key.ptr[arch.len] == '.';
}

static int shown_elsewhere(const gguf_kv *kv, gguf_str arch) {
    if (gguf_str_eq(kv->key, "general.architecture") || gguf_str_eq(kv->key, "general.name")) return 1;
    if (is_hparam(kv, arch)) return 1;
    for (size_t i = 0; i < sizeof tok_keys / sizeof *tok_keys; i++)
        if (gguf_str_eq(kv->key, tok_keys[i])) return 1;
    return 0;
}

static void print_special_token(const gguf_file *g, const char *label, const char *key,
                                const gguf_str *vocab, uint64_t n_vocab) {
    uint64_t id;
    printf("  %-11s ", label);
    if (gguf_get_u64(g, key, &id)) {
        puts(gguf_find(g, key) ? "(not a token id)" : "(none)");
        return;
    }
    printf("%llu ", (unsigned long long)id);
    if (vocab && id < n_vocab) print_quoted(vocab[id].ptr, vocab[id].len, MAX_SHOWN);
    else fputs("(not in the vocabulary)", stdout);
    putchar('\n');
}

static void print_flag(const gguf_file *g, const char *label, const char *key) {
    int b;
    printf("  %-11s %s\n", label, gguf_get_bool(g, key, &b) ? "(unset)" : b ? "true" : "false");
}

static void print_tokenizer(const gguf_file *g) {
    gguf_str s;
    printf("\ntokenizer:\n");
    printf("  %-11s ", "model");
    if (gguf_get_str(g, "tokenizer.ggml.model", &s) == 0) print_quoted(s.ptr, s.len, MAX_SHOWN);
    else fputs("(none)", stdout);
    printf("\n  %-11s ", "pre");
    if (gguf_get_str(g, "tokenizer.ggml.pre", &s) == 0) print_quoted(s.ptr, s.len, MAX_SHOWN);
    else fputs("(none)", stdout);
    putchar('\n');

    const gguf_kv *tokens = gguf_find(g, "tokenizer.ggml.tokens");
    gguf_str *vocab = NULL;
    uint64_t n_vocab = 0;
    if (tokens && gguf_arr_strings(tokens, &vocab) == 0) n_vocab = tokens->arr_len;
    printf("  %-11s ", "vocab size");
    if (vocab) printf("%llu\n", (unsigned long long)n_vocab);
    else puts(tokens ? "(tokenizer.ggml.tokens is not an array of strings)" : "(no tokens)");
    const gguf_kv *merges = gguf_find(g, "tokenizer.ggml.merges");
    printf("  %-11s ", "merges");
    if (merges && merges->type == GGUF_TYPE_ARRAY) printf("%llu\n", (unsigned long long)merges->arr_len);
    else puts("(none)");
    print_special_token(g, "bos", "tokenizer.ggml.bos_token_id", vocab, n_vocab);
    print_special_token(g, "eos", "tokenizer.ggml.eos_token_id", vocab, n_vocab);
    print_special_token(g, "unk", "tokenizer.ggml.unknown_token_id", vocab, n_vocab);
    print_special_token(g, "pad", "tokenizer.ggml.padding_token_id", vocab, n_vocab);
    print_flag(g, "add_bos", "tokenizer.ggml.add_bos_token");
    print_flag(g, "add_eos", "tokenizer.ggml.add_eos_token");
    free(vocab);
}

static void human_bytes(char *out, size_t cap, uint64_t n) {
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    double x = (double)n;
    int u = -1;
    while (x >= 1024 && u < 3) { x /= 1024; u++; }
    if (u < 0) snprintf(out, cap, "%llu B", (unsigned long long)n);
    else snprintf(out, cap, "%.1f %s", x, units[u]);
}

/* ne0×ne1×…; returns the display width (the multiplication sign is 2 bytes, 1 column). */
static int shape_str(const gguf_tensor *t, char *out, size_t cap) {
    size_t n = 0;
    int w = 0;
    out[0] = 0;
    for (uint32_t d = 0; d < t->n_dims && n < cap; d++) {
        int k = snprintf(out + n, cap - n, "%s%llu", d ? "\xc3\x97" : "", (unsigned long long)t->ne[d]);
        if (k < 0) break;
        n += (size_t)k;
        w += k - (d ? 1 : 0);
    }
    return w;
}

static void print_tensors(const gguf_file *g) {
    int namew = 4, shapew = 5;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        char sh[128];
        int w = shape_str(&g->tensors[i], sh, sizeof sh);
        if (w > shapew) shapew = w;
        if (g->tensors[i].name.len > (uint64_t)namew) namew = (int)g->tensors[i].name.len;
    }
    if (namew > 64) namew = 64;
    printf("\ntensors:\n  %-*s  %-*s  %-7s %14s\n", namew, "name", shapew, "shape", "type", "bytes");
    uint64_t total_bytes = 0, total_elems = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *t = &g->tensors[i];
        char sh[128];
        int w = shape_str(t, sh, sizeof sh);
        fputs("  ", stdout);
        print_name(t->name, namew);
        printf("  %s%*s  %-7s %14llu\n", sh, shapew - w, "", ggml_type_name(t->type), (unsigned long long)t->nbytes);
        uint64_t e = 1;
        for (int d = 0; d < GGUF_MAX_DIMS; d++) e *= t->ne[d]; /* the parser bounded this by INT64_MAX */
        total_elems += e;
        total_bytes += t->nbytes; /* each fits in the file, so the sum cannot wrap */
    }
    char hb[32];
    human_bytes(hb, sizeof hb, total_bytes);
    printf("total: %llu tensors, %llu elements, %llu bytes (%s)\n", (unsigned long long)g->n_tensors,
           (unsigned long long)total_elems, (unsigned long long)total_bytes, hb);
}

static void print_file(const gguf_file *g, const char *path) {
    char hb[32];
    human_bytes(hb, sizeof hb, g->file_size);
    printf("file:         %s\n", text_show_z(path));
    printf("version:      GGUF v%u\n", g->version);
    printf("size:         %llu bytes (%s), %llu metadata keys, %llu tensors\n",
           (unsigned long long)g->file_size, hb, (unsigned long long)g->n_kv,
           (unsigned long long)g->n_tensors);
    printf("alignment:    %u (data section at byte %llu)\n", g->alignment, (unsigned long long)g->data_offset);

    gguf_str arch = {"", 0}, name;
    printf("architecture: ");
    if (gguf_get_str(g, "general.architecture", &arch) == 0) print_quoted(arch.ptr, arch.len, MAX_SHOWN);
    else { arch.len = 0; fputs("(none)", stdout); }
    putchar('\n');
    if (gguf_get_str(g, "general.name", &name) == 0) {
        printf("name:         ");
        print_quoted(name.ptr, name.len, MAX_SHOWN);
        putchar('\n');
    }

    int keyw = 0;
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (g->kv[i].key.len > (uint64_t)keyw) keyw = (int)(g->kv[i].key.len > 48 ? 48 : g->kv[i].key.len);

    if (arch.len) {
        printf("\nhyperparameters (%s.*):\n", text_show(arch.ptr, (size_t)arch.len));
        int any = 0;
        for (uint64_t i = 0; i < g->n_kv; i++)
            if (is_hparam(&g->kv[i], arch)) { print_kv_line(&g->kv[i], keyw); any = 1; }
        if (!any) printf("  (none)\n");
    }

    int has_tok = 0;
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (g->kv[i].key.len > 10 && !memcmp(g->kv[i].key.ptr, "tokenizer.", 10)) has_tok = 1;
    if (has_tok) print_tokenizer(g);

    int header = 0;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        if (shown_elsewhere(&g->kv[i], arch)) continue;
        if (!header) { printf("\nother metadata:\n"); header = 1; }
        print_kv_line(&g->kv[i], keyw);
    }
    print_tensors(g);
}

int cmd_inspect(int argc, char **argv) {
    cli_model_opts o;
    cli_opts_init(&o);
    const char *file = NULL;
    int n_files = 0;
    const cli_opt opts[] = {{0}};
    cli_command cmd = {"inspect", "[FILE | -m FILE]",
                       "Prints a GGUF file's version, architecture, hyperparameters, tokenizer summary,\n"
                       "other metadata (arrays as [type x N]) and its tensors with shape, type and size.\n"
                       "Without FILE: $WGPT_MODEL, then models/default.gguf. Reads no weights; no GPU.\n",
                       opts, &o, 1, &file, 1, &n_files};
    int pr = cli_parse(&cmd, argc, argv);
    if (pr) return pr < 0 ? 0 : pr;
    if (file && o.model_path) return cli_usage_error("inspect", "one file at a time: give FILE or -m FILE");
    if (file) o.model_path = file;
    const char *path = cli_model_path(&o);
    if (!path) return cli_error("inspect: no model: give FILE (no default model found in models/)");
    gguf_file g;
    char err[512];
    if (gguf_open(&g, path, err, sizeof err)) return cli_error("%s", err);
    print_file(&g, path);
    gguf_close(&g);
    return cli_check_stdout("inspect");
}
