/* wgpt inspect: what a model file holds, without touching the GPU, through
 * the public wgpt_file API. Metadata is grouped the way one reads a model:
 * identity, the architecture's hyperparameters, the tokenizer, everything
 * else; then the tensor table and the quantization mix (bytes and bits
 * per weight per ggml type, general.file_type named as llama.cpp names it). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "util/text.h"

/* Strings longer than this are cut in the listing (chat templates run to kilobytes). */
#define MAX_SHOWN 96
/* Keys and tensor names are rarely past 64 bytes; a hostile file may hold megabytes. */
#define MAX_NAME 200

static int str_eq(wgpt_str s, const char *c) {
    size_t n = strlen(c);
    return s.len == n && (n == 0 || memcmp(s.ptr, c, n) == 0);
}

/* Quoted, escaped (a model file is untrusted: its strings must not drive
 * the terminal), and cut after max bytes with the length left out. */
static void print_quoted(wgpt_str s, size_t max) {
    char buf[MAX_SHOWN * 12 + 64];
    text_escape(buf, sizeof buf, s.ptr, s.len, max);
    printf("'%s'", buf);
}

/* A key or tensor name: escaped and capped, as wide as `width` columns. */
static void print_name(wgpt_str name, int width) {
    char buf[MAX_NAME * 12 + 64];
    text_escape(buf, sizeof buf, name.ptr, name.len, MAX_NAME);
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

static void print_value(const wgpt_meta *m) {
    switch (m->type) {
    case WGPT_META_UINT: printf("%llu", (unsigned long long)m->u); break;
    case WGPT_META_INT: printf("%lld", (long long)m->i); break;
    case WGPT_META_F32: print_real(m->f, 1); break;
    case WGPT_META_F64: print_real(m->f, 0); break;
    case WGPT_META_BOOL: fputs(m->u ? "true" : "false", stdout); break;
    case WGPT_META_STR: print_quoted(m->str, MAX_SHOWN); break;
    case WGPT_META_ARRAY: printf("[%s \xc3\x97 %llu]", m->elem_type_name, (unsigned long long)m->n); break;
    }
}

static void print_kv_line(const wgpt_meta *m, int keyw) {
    fputs("  ", stdout);
    print_name(m->key, keyw);
    fputs(" = ", stdout);
    print_value(m);
    putchar('\n');
}

/* Keys that the tokenizer summary already shows. */
static const char *const tok_keys[] = {
    "tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.tokens", "tokenizer.ggml.merges",
    "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id",
    "tokenizer.ggml.padding_token_id", "tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token",
};

static int is_hparam(const wgpt_meta *m, wgpt_str arch) {
    return arch.len && m->key.len > arch.len + 1 && !memcmp(m->key.ptr, arch.ptr, arch.len) &&
           m->key.ptr[arch.len] == '.';
}

static int shown_elsewhere(const wgpt_meta *m, wgpt_str arch) {
    if (str_eq(m->key, "general.architecture") || str_eq(m->key, "general.name")) return 1;
    if (is_hparam(m, arch)) return 1;
    for (size_t i = 0; i < sizeof tok_keys / sizeof *tok_keys; i++)
        if (str_eq(m->key, tok_keys[i])) return 1;
    return 0;
}

/* The entry named key, or -1 if absent. */
static int64_t find_meta(const wgpt_file *f, const char *key, wgpt_meta *m) {
    int64_t i = wgpt_file_meta_find(f, key);
    if (i >= 0) wgpt_file_meta(f, (uint64_t)i, m);
    return i;
}

static int get_str(const wgpt_file *f, const char *key, wgpt_str *out) {
    wgpt_meta m;
    if (find_meta(f, key, &m) < 0 || m.type != WGPT_META_STR) return -1;
    *out = m.str;
    return 0;
}

/* An id: an unsigned integer, a non-negative signed one, or a bool. */
static int get_id(const wgpt_file *f, const char *key, uint64_t *out) {
    wgpt_meta m;
    if (find_meta(f, key, &m) < 0) return -1;
    if (m.type == WGPT_META_UINT || m.type == WGPT_META_BOOL) *out = m.u;
    else if (m.type == WGPT_META_INT && m.i >= 0) *out = (uint64_t)m.i;
    else return -1;
    return 0;
}

/* A flag: a bool or any integer, true when not 0. */
static int get_flag(const wgpt_file *f, const char *key, int *out) {
    wgpt_meta m;
    if (find_meta(f, key, &m) < 0) return -1;
    if (m.type == WGPT_META_UINT || m.type == WGPT_META_BOOL) *out = m.u != 0;
    else if (m.type == WGPT_META_INT) *out = m.i != 0;
    else return -1;
    return 0;
}

/* vocab: the entry of tokenizer.ggml.tokens when it is an array of strings, else -1. */
static void print_special_token(wgpt_file *f, const char *label, const char *key, int64_t vocab, uint64_t n_vocab) {
    uint64_t id;
    printf("  %-11s ", label);
    if (get_id(f, key, &id)) {
        puts(wgpt_file_meta_find(f, key) >= 0 ? "(not a token id)" : "(none)");
        return;
    }
    printf("%llu ", (unsigned long long)id);
    wgpt_meta text;
    if (vocab >= 0 && id < n_vocab && wgpt_file_meta_elem(f, (uint64_t)vocab, id, &text) == WGPT_OK)
        print_quoted(text.str, MAX_SHOWN);
    else fputs("(not in the vocabulary)", stdout);
    putchar('\n');
}

static void print_flag(const wgpt_file *f, const char *label, const char *key) {
    int b;
    printf("  %-11s %s\n", label, get_flag(f, key, &b) ? "(unset)" : b ? "true" : "false");
}

/* A tokenizer carried as Hugging Face files (a folder's tokenizer.json, or
 * vocab.json + merges.txt): told by what the tokenizer made of them. */
static void print_hf_tokenizer(wgpt_file *f, const char *source) {
    printf("\ntokenizer:\n  %-11s %s\n", "source", source);
    char e[512];
    wgpt_vocab *v = NULL;
    if (wgpt_vocab_open(f, &v, e, sizeof e) != WGPT_OK) {
        printf("  %-11s %s\n", "error", text_show_z(e));
        return;
    }
    printf("  %-11s %s\n  %-11s %d\n", "kind", wgpt_vocab_kind(v), "vocab size", wgpt_vocab_n_tokens(v));
    const char *names[2] = {"bos", "eos"};
    int32_t ids[2] = {wgpt_vocab_bos(v), wgpt_vocab_eos(v)};
    for (int i = 0; i < 2; i++) {
        printf("  %-11s ", names[i]);
        char piece[64];
        int n = ids[i] >= 0 ? wgpt_vocab_token_to_piece(v, ids[i], piece, sizeof piece) : -1;
        if (n < 0) puts("(none)");
        else printf("%d %s\n", ids[i], text_show(piece, (size_t)n < sizeof piece ? (size_t)n : sizeof piece));
    }
    wgpt_vocab_free(v);
}

static void print_tokenizer(wgpt_file *f) {
    wgpt_str s;
    wgpt_meta probe;
    if (find_meta(f, "tokenizer.ggml.tokens", &probe) < 0) {
        if (find_meta(f, "tokenizer.huggingface.json", &probe) >= 0) { print_hf_tokenizer(f, "tokenizer.json"); return; }
        if (find_meta(f, "tokenizer.huggingface.vocab_json", &probe) >= 0) {
            print_hf_tokenizer(f, "vocab.json + merges.txt");
            return;
        }
    }
    printf("\ntokenizer:\n");
    printf("  %-11s ", "model");
    if (get_str(f, "tokenizer.ggml.model", &s) == 0) print_quoted(s, MAX_SHOWN);
    else fputs("(none)", stdout);
    printf("\n  %-11s ", "pre");
    if (get_str(f, "tokenizer.ggml.pre", &s) == 0) print_quoted(s, MAX_SHOWN);
    else fputs("(none)", stdout);
    putchar('\n');

    wgpt_meta tokens;
    int64_t vocab = find_meta(f, "tokenizer.ggml.tokens", &tokens);
    int has_tokens = vocab >= 0;
    if (has_tokens && !(tokens.type == WGPT_META_ARRAY && tokens.elem_type == WGPT_META_STR)) vocab = -1;
    uint64_t n_vocab = vocab >= 0 ? tokens.n : 0;
    printf("  %-11s ", "vocab size");
    if (vocab >= 0) printf("%llu\n", (unsigned long long)n_vocab);
    else puts(has_tokens ? "(tokenizer.ggml.tokens is not an array of strings)" : "(no tokens)");
    wgpt_meta merges;
    printf("  %-11s ", "merges");
    if (find_meta(f, "tokenizer.ggml.merges", &merges) >= 0 && merges.type == WGPT_META_ARRAY)
        printf("%llu\n", (unsigned long long)merges.n);
    else puts("(none)");
    print_special_token(f, "bos", "tokenizer.ggml.bos_token_id", vocab, n_vocab);
    print_special_token(f, "eos", "tokenizer.ggml.eos_token_id", vocab, n_vocab);
    print_special_token(f, "unk", "tokenizer.ggml.unknown_token_id", vocab, n_vocab);
    print_special_token(f, "pad", "tokenizer.ggml.padding_token_id", vocab, n_vocab);
    print_flag(f, "add_bos", "tokenizer.ggml.add_bos_token");
    print_flag(f, "add_eos", "tokenizer.ggml.add_eos_token");
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
static int shape_str(const wgpt_tensor_info *t, char *out, size_t cap) {
    size_t n = 0;
    int w = 0;
    out[0] = 0;
    for (int d = 0; d < t->n_dims && n < cap; d++) {
        int k = snprintf(out + n, cap - n, "%s%llu", d ? "\xc3\x97" : "", (unsigned long long)t->ne[d]);
        if (k < 0) break;
        n += (size_t)k;
        w += k - (d ? 1 : 0);
    }
    return w;
}

/* Bits per weight: 8 * bytes / elements, as llama.cpp's "(4.89 BPW)". */
static void print_bpw(uint64_t bytes, uint64_t elems, int width) {
    if (elems) printf("%*.2f", width, 8.0 * (double)bytes / (double)elems);
    else printf("%*s", width, "-");
}

static uint64_t n_elements(const wgpt_tensor_info *t) {
    uint64_t e = 1;
    for (int d = 0; d < 4; d++) e *= t->ne[d]; /* the parser bounded this by INT64_MAX */
    return e;
}

/* llama.cpp's llama_ftype_name for general.file_type (llama_ftype), so the
 * summary reads like its "file type = Q4_K - Medium". */
static const char *ftype_name(uint64_t ft) {
    static const char *const names[] = {
        [0] = "all F32", [1] = "F16", [2] = "Q4_0", [3] = "Q4_1", [7] = "Q8_0", [8] = "Q5_0", [9] = "Q5_1",
        [10] = "Q2_K - Medium", [11] = "Q3_K - Small", [12] = "Q3_K - Medium", [13] = "Q3_K - Large",
        [14] = "Q4_K - Small", [15] = "Q4_K - Medium", [16] = "Q5_K - Small", [17] = "Q5_K - Medium",
        [18] = "Q6_K", [19] = "IQ2_XXS - 2.0625 bpw", [20] = "IQ2_XS - 2.3125 bpw", [21] = "Q2_K - Small",
        [22] = "IQ3_XS - 3.3 bpw", [23] = "IQ3_XXS - 3.0625 bpw", [24] = "IQ1_S - 1.5625 bpw",
        [25] = "IQ4_NL - 4.5 bpw", [26] = "IQ3_S - 3.4375 bpw", [27] = "IQ3_S mix - 3.66 bpw",
        [28] = "IQ2_S - 2.5 bpw", [29] = "IQ2_M - 2.7 bpw", [30] = "IQ4_XS - 4.25 bpw", [31] = "IQ1_M - 1.75 bpw",
        [32] = "BF16", [36] = "TQ1_0 - 1.69 bpw ternary", [37] = "TQ2_0 - 2.06 bpw ternary",
        [38] = "MXFP4 MoE", [39] = "NVFP4", [40] = "Q1_0", [41] = "Q2_0",
    };
    /* 1024: LLAMA_FTYPE_GUESSED, set by llama.cpp only in memory, but harmless to honour. */
    uint64_t base = ft & ~(uint64_t)1024;
    const char *n = base < sizeof names / sizeof *names ? names[base] : NULL;
    return n ? n : "unknown";
}

/* One ggml type's share of the file. type_name is static, one per type. */
typedef struct {
    const char *type;
    uint64_t tensors, elems, bytes;
} type_total;

/* The quantization mix: per type, then the whole file, as llama.cpp's
 * loader reports it (bytes of all tensors over their elements). */
static void print_mix(const wgpt_file *f, uint64_t n_tensors, uint64_t total_elems, uint64_t total_bytes) {
    type_total by[64];
    size_t n = 0;
    wgpt_tensor_info t;
    for (uint64_t i = 0; i < n_tensors; i++) {
        wgpt_file_tensor(f, i, &t);
        size_t k = 0;
        while (k < n && strcmp(by[k].type, t.type_name)) k++;
        if (k == n) {
            if (n == sizeof by / sizeof *by) continue; /* ggml has fewer types than this */
            by[n++] = (type_total){t.type_name, 0, 0, 0};
        }
        by[k].tensors++;
        by[k].elems += n_elements(&t);
        by[k].bytes += t.nbytes;
    }
    /* Most bytes first: the type that makes the file's size leads. */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && (by[j].bytes > by[j - 1].bytes ||
                                     (by[j].bytes == by[j - 1].bytes && strcmp(by[j].type, by[j - 1].type) < 0));
             j--) {
            type_total x = by[j];
            by[j] = by[j - 1];
            by[j - 1] = x;
        }
    printf("\nquantization mix:\n  %-8s %7s %14s %14s %6s %7s\n", "type", "tensors", "elements", "bytes", "bpw",
           "bytes%");
    for (size_t i = 0; i < n; i++) {
        printf("  %-8s %7llu %14llu %14llu ", by[i].type, (unsigned long long)by[i].tensors,
               (unsigned long long)by[i].elems, (unsigned long long)by[i].bytes);
        print_bpw(by[i].bytes, by[i].elems, 6);
        printf(" %6.1f%%\n", total_bytes ? 100.0 * (double)by[i].bytes / (double)total_bytes : 0.0);
    }
    printf("  %-8s %7llu %14llu %14llu ", "all", (unsigned long long)n_tensors, (unsigned long long)total_elems,
           (unsigned long long)total_bytes);
    print_bpw(total_bytes, total_elems, 6);
    printf(" %6.1f%%\n", total_bytes ? 100.0 : 0.0);

    wgpt_meta m;
    printf("file type:    ");
    if (find_meta(f, "general.file_type", &m) < 0) puts("(no general.file_type)");
    else if (m.type == WGPT_META_UINT || (m.type == WGPT_META_INT && m.i >= 0)) {
        uint64_t ft = m.type == WGPT_META_UINT ? m.u : (uint64_t)m.i;
        printf("%s (general.file_type = %llu)\n", ftype_name(ft), (unsigned long long)ft);
    } else puts("(general.file_type is not a non-negative integer)");
    char hb[32];
    human_bytes(hb, sizeof hb, total_bytes);
    printf("model size:   %s (", hb);
    print_bpw(total_bytes, total_elems, 0);
    printf(" BPW)\n");
}

static void print_tensors(const wgpt_file *f, uint64_t n_tensors, int folder) {
    int namew = 4, shapew = 5;
    wgpt_tensor_info t;
    for (uint64_t i = 0; i < n_tensors; i++) {
        char sh[128];
        wgpt_file_tensor(f, i, &t);
        int w = shape_str(&t, sh, sizeof sh);
        if (w > shapew) shapew = w;
        if (t.name.len > (size_t)namew) namew = t.name.len > 64 ? 64 : (int)t.name.len;
    }
    printf("\ntensors:\n  %-*s  %-*s  %-7s %14s %6s\n", namew, "name", shapew, "shape", "type", "bytes", "bpw");
    uint64_t total_bytes = 0, total_elems = 0;
    for (uint64_t i = 0; i < n_tensors; i++) {
        wgpt_file_tensor(f, i, &t);
        char sh[128];
        int w = shape_str(&t, sh, sizeof sh);
        fputs("  ", stdout);
        print_name(t.name, namew);
        uint64_t e = n_elements(&t);
        printf("  %s%*s  %-7s %14llu ", sh, shapew - w, "", t.type_name, (unsigned long long)t.nbytes);
        print_bpw(t.nbytes, e, 6);
        wgpt_str part;
        if (folder && t.file >= 0 && wgpt_file_part(f, (uint64_t)t.file, &part, NULL) == WGPT_OK)
            printf("  %s", text_show(part.ptr, part.len));
        else if (folder)
            printf("  (computed as the converter does)");
        putchar('\n');
        total_elems += e;
        total_bytes += t.nbytes; /* each fits in the file, so the sum cannot wrap */
    }
    char hb[32];
    human_bytes(hb, sizeof hb, total_bytes);
    printf("total: %llu tensors, %llu elements, %llu bytes (%s)\n", (unsigned long long)n_tensors,
           (unsigned long long)total_elems, (unsigned long long)total_bytes, hb);
    print_mix(f, n_tensors, total_elems, total_bytes);
}

static void print_file(wgpt_file *f, const char *path) {
    wgpt_file_info info;
    wgpt_file_get_info(f, &info);
    char hb[32];
    human_bytes(hb, sizeof hb, info.size);
    int folder = strcmp(info.format, "GGUF") != 0;
    printf("file:         %s\n", text_show_z(path));
    if (folder) printf("format:       %s (described as llama.cpp's converter would write it)\n", info.format);
    else printf("version:      %s v%u\n", info.format, info.version);
    printf("size:         %llu bytes (%s), %llu metadata keys, %llu tensors\n", (unsigned long long)info.size, hb,
           (unsigned long long)info.n_meta, (unsigned long long)info.n_tensors);
    if (folder) {
        printf("files:\n");
        for (uint64_t i = 0; i < info.n_files; i++) {
            wgpt_str name;
            uint64_t size;
            if (wgpt_file_part(f, i, &name, &size) != WGPT_OK) continue;
            printf("  %s  %llu bytes\n", text_show(name.ptr, name.len), (unsigned long long)size);
        }
    } else {
        printf("alignment:    %llu (data section at byte %llu)\n", (unsigned long long)info.alignment,
               (unsigned long long)info.data_offset);
    }

    wgpt_str arch = {"", 0}, name;
    printf("architecture: ");
    if (get_str(f, "general.architecture", &arch) == 0) print_quoted(arch, MAX_SHOWN);
    else { arch.len = 0; fputs("(none)", stdout); }
    putchar('\n');
    if (get_str(f, "general.name", &name) == 0) {
        printf("name:         ");
        print_quoted(name, MAX_SHOWN);
        putchar('\n');
    }

    wgpt_meta m;
    int keyw = 0, has_tok = 0;
    for (uint64_t i = 0; i < info.n_meta; i++) {
        wgpt_file_meta(f, i, &m);
        if (m.key.len > (size_t)keyw) keyw = m.key.len > 48 ? 48 : (int)m.key.len;
        if (m.key.len > 10 && !memcmp(m.key.ptr, "tokenizer.", 10)) has_tok = 1;
    }

    if (arch.len) {
        printf("\nhyperparameters (%s.*):\n", text_show(arch.ptr, arch.len));
        int any = 0;
        for (uint64_t i = 0; i < info.n_meta; i++) {
            wgpt_file_meta(f, i, &m);
            if (is_hparam(&m, arch)) { print_kv_line(&m, keyw); any = 1; }
        }
        if (!any) printf("  (none)\n");
    }

    if (has_tok) print_tokenizer(f);

    int header = 0;
    for (uint64_t i = 0; i < info.n_meta; i++) {
        wgpt_file_meta(f, i, &m);
        if (shown_elsewhere(&m, arch)) continue;
        if (!header) { printf("\nother metadata:\n"); header = 1; }
        print_kv_line(&m, keyw);
    }
    print_tensors(f, info.n_tensors, folder);
}

int cmd_inspect(int argc, char **argv) {
    cli_model_opts o;
    cli_opts_init(&o);
    const char *file = NULL;
    int n_files = 0;
    const cli_opt opts[] = {{0}};
    cli_command cmd = {"inspect", "[FILE | -m FILE]",
                       "Prints a GGUF file's (or a Hugging Face or WebGPT folder's) version, architecture,\n"
                       "hyperparameters, tokenizer summary, other metadata (arrays as [type x N]), its\n"
                       "tensors with shape, type, size and bits per weight, and the quantization mix: per\n"
                       "type the tensors, elements, bytes and bits per weight, the file's overall bits per\n"
                       "weight (as llama.cpp's BPW) and general.file_type as llama.cpp names it.\n"
                       "Without FILE: $WGPT_MODEL, then models/default.gguf. Reads no weights; no GPU.\n",
                       opts, &o, 1, &file, 1, &n_files};
    int pr = cli_parse(&cmd, argc, argv);
    if (pr) return pr < 0 ? 0 : pr;
    if (file && o.model_path) return cli_usage_error("inspect", "one file at a time: give FILE or -m FILE");
    if (file) o.model_path = file;
    const char *path = cli_model_path(&o);
    if (!path) return cli_error("inspect: no model: give FILE (no default model found in models/)");
    wgpt_file *f = NULL;
    char err[2048]; /* the reason carries the path, escaped */
    if (wgpt_file_open(path, &f, err, sizeof err) != WGPT_OK) return cli_error("%s", err);
    print_file(f, path);
    wgpt_file_close(f);
    return cli_check_stdout("inspect");
}
