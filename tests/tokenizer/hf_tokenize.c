/* Drives the tokenizer.json tokenizers for tests/e2e/test_hf_tokenizers.sh
 * (built by it against build/libwgpt_internal.a):
 *
 *   hf_tokenize --hf TOKENIZER_JSON [TOKENIZER_CONFIG_JSON] TEXTS_JSON
 *   hf_tokenize --gpt2 VOCAB_JSON MERGES_TXT TEXTS_JSON
 *
 * A last option --text-special reads special-token texts as text
 * (parse_special=0), as GPT-2's own encoder does.
 * For each text of TEXTS_JSON (a JSON list of strings) prints one JSON line:
 * {"ids": encode(add_special=1, parse_special=1), "pieces": the pieces of
 * the ids add_special did not add, back to back, "decoded": the same through
 * tokenizer_decode}. A text that fails to encode prints {"error": "..."}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    if (argc < 4) {
        fprintf(stderr, "usage: hf_tokenize --hf TOKENIZER_JSON [CONFIG_JSON] TEXTS_JSON | --gpt2 VOCAB MERGES TEXTS\n");
        return 2;
    }
    int parse_special = 1;
    if (strcmp(argv[argc - 1], "--text-special") == 0) {
        parse_special = 0;
        argc--;
    }
    char err[1024];
    wgpt_tokenizer *t = NULL;
    size_t la, lb = 0;
    char *a = slurp(argv[2], &la), *b = NULL;
    const char *texts_path = argv[argc - 1];
    int rc;
    if (strcmp(argv[1], "--gpt2") == 0) {
        b = slurp(argv[3], &lb);
        rc = tokenizer_from_gpt2_files(a, la, b, lb, &t, err, sizeof err);
    } else {
        if (argc == 5) b = slurp(argv[3], &lb);
        rc = tokenizer_from_hf(a, la, b, lb, &t, err, sizeof err);
    }
    if (rc != 0) { fprintf(stderr, "load: %s\n", err); return 1; }
    size_t tl;
    char *tj = slurp(texts_path, &tl);
    json_doc *d = json_parse(tj, tl, texts_path, err, sizeof err);
    if (!d) { fprintf(stderr, "%s\n", err); return 1; }
    const json_value *texts = json_root(d);
    size_t np, ns;
    tokenizer_n_added_special(t, &np, &ns);
    for (size_t i = 0; i < texts->n; i++) {
        const json_value *x = &texts->items[i];
        int32_t *ids = NULL;
        size_t n = 0;
        json_buf o = {0};
        if (tokenizer_encode(t, x->str, x->len, 1, parse_special, &ids, &n, err, sizeof err) != 0) {
            jbuf_puts(&o, "{\"error\":");
            json_write_string(&o, err, strlen(err), 0);
            jbuf_puts(&o, "}");
        } else {
            jbuf_puts(&o, "{\"ids\":[");
            for (size_t k = 0; k < n; k++) jbuf_printf(&o, k ? ",%d" : "%d", ids[k]);
            jbuf_puts(&o, "],\"pieces\":");
            size_t lo = n >= np + ns ? np : 0, hi = n >= np + ns ? n - ns : n;
            json_buf p = {0};
            for (size_t k = lo; k < hi; k++) {
                char buf[512];
                int l = tokenizer_token_to_piece(t, ids[k], buf, sizeof buf);
                if (l > (int)sizeof buf) { fprintf(stderr, "piece too long\n"); return 1; }
                if (l > 0) jbuf_put(&p, buf, (size_t)l);
            }
            json_write_string(&o, p.data ? p.data : "", p.len, 0);
            size_t dl = tokenizer_decode(t, ids + lo, hi - lo, NULL, 0);
            char *dec = malloc(dl + 1);
            tokenizer_decode(t, ids + lo, hi - lo, dec, dl);
            jbuf_puts(&o, ",\"decoded\":");
            json_write_string(&o, dec, dl, 0);
            jbuf_puts(&o, "}");
            free(dec);
            jbuf_free(&p);
        }
        fwrite(o.data, 1, o.len, stdout);
        putchar('\n');
        jbuf_free(&o);
        free(ids);
    }
    json_free(d);
    tokenizer_free(t);
    free(a);
    free(b);
    free(tj);
    return 0;
}
