/* libFuzzer harness for the GGUF reader: parse, then touch everything a
 * caller could reach (strings, arrays, tensor data through the dequantizers)
 * so the sanitizers see any pointer the parser let out of the buffer. A
 * failed parse must still leave a proper one-line message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"
#include "formats/quant.h"

static volatile unsigned sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gguf_file g;
    char err[256] = "";
    if (gguf_parse(&g, data, size, err, sizeof err) != 0) {
        if (strncmp(err, "gguf: ", 6) != 0 || strchr(err, '\n') || g.kv || g.tensors) {
            fprintf(stderr, "bad failure state, message '%s'\n", err);
            abort();
        }
        return 0;
    }
    unsigned sum = 0;
    for (uint64_t i = 0; i < g.n_kv; i++) {
        const gguf_kv *kv = &g.kv[i];
        for (uint64_t j = 0; j < kv->key.len; j++) sum += (unsigned char)kv->key.ptr[j];
        if (kv->type == GGUF_TYPE_STRING)
            for (uint64_t j = 0; j < kv->str.len; j++) sum += (unsigned char)kv->str.ptr[j];
        if (kv->type != GGUF_TYPE_ARRAY) continue;
        gguf_str *s;
        if (gguf_arr_strings(kv, &s) == 0) {
            for (uint64_t j = 0; j < kv->arr_len; j++)
                for (uint64_t k = 0; k < s[j].len; k++) sum += (unsigned char)s[j].ptr[k];
            free(s);
        }
        double d;
        for (uint64_t j = 0; j < kv->arr_len && gguf_arr_num(kv, j, &d) == 0; j++) sum += d > 0;
    }
    uint64_t u;
    double f;
    int b;
    gguf_str str;
    sum += gguf_get_u64(&g, "llama.block_count", &u) + gguf_get_f64(&g, "llama.rope.freq_base", &f) +
           gguf_get_bool(&g, "tokenizer.ggml.add_bos_token", &b) +
           gguf_get_str(&g, "general.architecture", &str);
    for (uint64_t i = 0; i < g.n_tensors; i++) {
        const gguf_tensor *t = &g.tensors[i];
        uint32_t be, bb;
        if (ggml_type_block(t->type, &be, &bb) || (t->nbytes && !t->data)) abort();
        if (gguf_find_tensor(&g, "") == t) sum++;
        if (!dequantize_supported(t->type) || t->ne[0] > (1u << 16)) continue;
        uint64_t row = t->ne[0] / be * bb;
        if (row > t->nbytes) continue; /* an empty tensor has no first row */
        float *y = malloc((size_t)t->ne[0] * sizeof *y + 1);
        if (!y) continue;
        if (dequantize_row(t->type, t->data, y, (int64_t)t->ne[0]) != 0) abort();
        for (uint64_t j = 0; j < t->ne[0]; j++) sum += y[j] > 0;
        free(y);
    }
    sink = sum;
    gguf_close(&g);
    return 0;
}
