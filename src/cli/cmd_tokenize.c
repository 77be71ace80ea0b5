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
#include "util/text.h"
#include "util/util.h"

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
    const cli_opt opts[] = {
        {"--special", CLI_FLAG, &special, 0, 0, NULL,
         "add BOS/EOS as the model's metadata says, and read control-token texts such as <|eot_id|> as those tokens "
         "(without it, neither)", 0},
        {"-0,--null", CLI_FLAG, &null_sep, 0, 0, NULL,
         "stdin holds many texts, each ended by a NUL byte (a last one may go without): one line of ids per text", 0},
        {0},
    };
    cli_command cmd = {"tokenize", "[-m FILE] [--special] [-0] < text",
                       "Prints the token ids of the UTF-8 text on stdin, space-separated, on one line.\n"
                       "Reads only the model's tokenizer: no GPU.\n", opts, &o, 1, NULL, 0, NULL};
    int pr = cli_parse(&cmd, argc, argv);
    if (pr) return pr < 0 ? 0 : pr;
    const char *path = cli_model_path(&o);
    if (!path) return cli_error("tokenize: no model given (-m FILE or $WGPT_MODEL)");

    char err[512];
    gguf_file g;
    if (gguf_open(&g, path, err, sizeof err) < 0) return cli_error("%s", err);
    wgpt_tokenizer *t = NULL;
    if (tokenizer_from_gguf(&g, &t, err, sizeof err) < 0) {
        gguf_close(&g);
        return cli_error("%s: %s", text_show_z(path), err);
    }
    gguf_close(&g); /* the tokenizer keeps its own copies */

    size_t len = 0;
    char *text = read_stream(stdin, &len, err, sizeof err);
    if (!text) {
        tokenizer_free(t);
        return cli_error("tokenize: %s", err);
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
    if (cli_check_stdout("tokenize")) return 1;
    return rc;
}
