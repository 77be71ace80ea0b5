/* Decodes token ids with a GGUF file's tokenizer, for
 * tests/e2e/test_tokenizer_llamacpp.sh (built by it against
 * build/libwgpt_internal.a):
 *
 *   gguf_decode MODEL.gguf IDS_JSON
 *
 * IDS_JSON is a JSON list of id lists. For each list prints one line: the
 * bytes tokenizer_decode gives, in hex, since a piece cut inside a UTF-8
 * character would not survive as a JSON string. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"
#include "tokenizer/tokenizer.h"
#include "util/json.h"

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (!p || fread(p, 1, (size_t)n, f) != (size_t)n) { fprintf(stderr, "%s: read failed\n", path); exit(2); }
    fclose(f);
    *len = (size_t)n;
    return p;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: gguf_decode MODEL.gguf IDS_JSON\n");
        return 2;
    }
    char err[1024];
    gguf_file g;
    if (gguf_open(&g, argv[1], err, sizeof err) != 0) { fprintf(stderr, "%s\n", err); return 1; }
    wgpt_tokenizer *t = NULL;
    if (tokenizer_from_gguf(&g, &t, err, sizeof err) != 0) { fprintf(stderr, "load: %s\n", err); return 1; }
    size_t jl;
    char *js = slurp(argv[2], &jl);
    json_doc *d = json_parse(js, jl, argv[2], err, sizeof err);
    if (!d) { fprintf(stderr, "%s\n", err); return 1; }
    const json_value *lists = json_root(d);
    for (size_t i = 0; i < lists->n; i++) {
        const json_value *l = &lists->items[i];
        int32_t *ids = malloc((l->n ? l->n : 1) * sizeof *ids);
        if (!ids) return 1;
        for (size_t k = 0; k < l->n; k++) ids[k] = (int32_t)l->items[k].i;
        size_t n = tokenizer_decode(t, ids, l->n, NULL, 0);
        unsigned char *buf = malloc(n ? n : 1);
        if (!buf) return 1;
        tokenizer_decode(t, ids, l->n, (char *)buf, n);
        for (size_t k = 0; k < n; k++) printf("%02x", buf[k]);
        putchar('\n');
        free(buf);
        free(ids);
    }
    json_free(d);
    tokenizer_free(t);
    gguf_close(&g);
    free(js);
    return 0;
}
