/* wgpt tokenize: token ids of stdin's text, from the model file's tokenizer
 * alone (no GPU), in the two modes llama.cpp's tokenizer is usually compared in. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "util/text.h"

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

    char err[2048]; /* a file's messages carry its path, escaped */
    wgpt_file *f = NULL;
    if (wgpt_file_open(path, &f, err, sizeof err) != WGPT_OK) return cli_error("%s", err);
    wgpt_vocab *v = NULL;
    wgpt_status st = wgpt_vocab_open(f, &v, err, sizeof err);
    wgpt_file_close(f); /* the vocabulary keeps its own copies */
    if (st != WGPT_OK) return cli_error("%s", err);

    size_t len = 0;
    char *text = cli_read_stream(stdin, &len, err, sizeof err);
    if (!text) {
        wgpt_vocab_free(v);
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
        if (wgpt_vocab_tokenize(v, text + start, end - start, special, special, &ids, &n, err, sizeof err) != WGPT_OK) {
            if (null_sep) cli_error("text %zu: %s", count_texts(text, start), err);
            else cli_error("%s", err);
            rc = 1;
            break;
        }
        for (size_t i = 0; i < n; i++) printf(i ? " %d" : "%d", ids[i]);
        putchar('\n');
        wgpt_free(ids);
        start = end + 1;
    }
    free(text);
    wgpt_vocab_free(v);
    if (cli_check_stdout("tokenize")) return 1;
    return rc;
}
