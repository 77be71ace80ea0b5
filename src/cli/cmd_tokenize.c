/* wgpt tokenize: token ids of stdin's text, from the GGUF's tokenizer alone
 * (no GPU), in the two modes llama.cpp's tokenizer is usually compared in. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "formats/gguf.h"
#include "tokenizer/tokenizer.h"
#include "util/util.h"

static const char *const usage_text =
    "usage: wgpt tokenize [-m FILE] [--special] [-0] < text\n"
    "Prints the token ids of the UTF-8 text on stdin, space-separated, on one line.\n"
    "  -m FILE     model (GGUF); default: $WGPT_MODEL, then models/default.gguf\n"
    "  --special   add BOS/EOS as the model's metadata says, and read control-token\n"
    "              texts such as <|eot_id|> as those tokens (without it, neither)\n"
    "  -0, --null  stdin holds many texts, each ended by a NUL byte (a last one\n"
    "              may go without): one line of ids per text\n";

/* 1-based number of the NUL-ended text that starts at byte off. */
static size_t count_texts(const char *text, size_t off) {
    size_t k = 1;
    for (size_t i = 0; i < off; i++) k += text[i] == 0;
    return k;
}

int cmd_tokenize(int argc, char **argv) {
    cli_model_opts o;
    cli_opts_init(&o);
    int special = 0, null_sep = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(usage_text, stdout); return 0; }
        if (!strcmp(a, "--special")) { special = 1; continue; }
        if (!strcmp(a, "-0") || !strcmp(a, "--null")) { null_sep = 1; continue; }
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (i + 1 >= argc) return cli_error("%s needs a value", a);
            o.model_path = argv[++i];
            continue;
        }
        fputs(usage_text, stderr);
        return cli_error("tokenize: unknown option '%s'", a);
    }
    const char *path = cli_model_path(&o);
    if (!path) return cli_error("tokenize: no model given (-m FILE or $WGPT_MODEL)");

    char err[512];
    gguf_file g;
    if (gguf_open(&g, path, err, sizeof err) < 0) return cli_error("%s", err);
    wgpt_tokenizer *t = NULL;
    if (tokenizer_from_gguf(&g, &t, err, sizeof err) < 0) {
        gguf_close(&g);
        return cli_error("%s: %s", path, err);
    }
    gguf_close(&g); /* the tokenizer keeps its own copies */

    size_t len = 0;
    char *text = read_stream(stdin, &len);
    if (!text) {
        tokenizer_free(t);
        return cli_error("tokenize: cannot read stdin");
    }
    int rc = 0;
    for (size_t start = 0; start < len || (!null_sep && start == 0);) {
        size_t end = len;
        if (null_sep) {
            const char *z = memchr(text + start, 0, len - start);
            if (z) end = (size_t)(z - text);
        }
        int32_t *ids = NULL;
        size_t n = 0;
        if (tokenizer_encode(t, text + start, end - start, special, special, &ids, &n, err, sizeof err) < 0) {
            if (null_sep) cli_error("text %zu: %s", count_texts(text, start), err);
            else cli_error("%s", err);
            rc = 1;
            break;
        }
        for (size_t i = 0; i < n; i++) printf(i ? " %d" : "%d", ids[i]);
        putchar('\n');
        free(ids);
        start = end + 1;
    }
    free(text);
    tokenizer_free(t);
    if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout))) return cli_error("tokenize: cannot write stdout");
    return rc;
}
