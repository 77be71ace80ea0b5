/* libFuzzer harness for the tokenizer.json reader and pipeline
 * (src/tokenizer/hf_*.c). The input up to its first NUL byte is a
 * tokenizer.json; what follows is text to encode (else a few fixed texts).
 * An input that starts with "#gpt2\n" is instead GPT-2's vocab.json, a NUL,
 * and merges.txt.
 * A file that loads is then used: every text is encoded with and without
 * specials and decoded, and every token's piece is taken, so the
 * sanitizers see any id, offset or regex the reader let through. A failure
 * must leave one line naming the file and nothing allocated. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer.h"

static volatile unsigned sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void use(const wgpt_tokenizer *t, const char *text, size_t len) {
    for (int mode = 0; mode < 2; mode++) {
        int32_t *ids = NULL;
        size_t n = 0;
        char err[512] = "";
        if (tokenizer_encode(t, text, len, mode, mode, &ids, &n, err, sizeof err) != 0) {
            if (!err[0] || strchr(err, '\n')) abort();
            continue;
        }
        for (size_t i = 0; i < n; i++)
            if (ids[i] < 0 || ids[i] >= tokenizer_n_vocab(t)) abort();
        char buf[256];
        sink += (unsigned)tokenizer_decode(t, ids, n, buf, sizeof buf);
        free(ids);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *json = (const char *)data;
    const uint8_t *z = memchr(data, 0, size);
    size_t jlen = z ? (size_t)(z - data) : size;
    wgpt_tokenizer *t = NULL;
    char err[512] = "";
    if (size >= 6 && memcmp(data, "#gpt2\n", 6) == 0) {
        const char *m = z ? (const char *)z + 1 : "";
        size_t ml = z ? size - jlen - 1 : 0;
        if (tokenizer_from_gpt2_files(json + 6, jlen - 6, m, ml, &t, err, sizeof err) != 0) {
            if (t || !err[0] || strchr(err, '\n')) {
                fprintf(stderr, "bad failure: '%s'\n", err);
                abort();
            }
            return 0;
        }
        z = NULL;
    } else if (tokenizer_from_hf(json, jlen, NULL, 0, &t, err, sizeof err) != 0) {
        if (t || strncmp(err, "tokenizer.json", 14) != 0 || strchr(err, '\n')) {
            fprintf(stderr, "bad failure: '%s'\n", err);
            abort();
        }
        return 0;
    }
    if (z) {
        use(t, (const char *)z + 1, size - jlen - 1);
    } else {
        static const char *const texts[] = {"Hello world", " a  b\n\t12 3.5 don't", "\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80",
                                            "<s>x</s><|endoftext|>", ""};
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) use(t, texts[i], strlen(texts[i]));
    }
    int nv = tokenizer_n_vocab(t);
    for (int32_t id = 0; id < nv && id < 4096; id++) {
        char buf[64];
        int l = tokenizer_token_to_piece(t, id, buf, sizeof buf);
        if (l < 0) abort();
        sink += (unsigned)l;
    }
    sink += (unsigned)tokenizer_bos(t) + (unsigned)tokenizer_eos(t) + (unsigned)tokenizer_is_eog(t, 0);
    tokenizer_free(t);
    return 0;
}
