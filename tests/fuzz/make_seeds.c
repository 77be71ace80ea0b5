/* Writes the fuzzer's seed corpus: the unit tests' sample files and one file
 * with a tensor of every type the dequantizers handle, so the fuzzer starts
 * from inputs that reach deep into the parser and every dequantizer.
 * Usage: make_seeds DIR */
#include <stdio.h>

#include "gguf_build.h"

static int save(const char *dir, const char *name, const gb *b) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b->p, 1, b->len, f) != b->len || fclose(f) != 0) {
        perror(path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds DIR\n");
        return 2;
    }
    int rc = 0;
    gb b = {0};
    gb_sample(&b, 3, 0);
    rc |= save(argv[1], "sample_v3.gguf", &b);
    gb_free(&b);
    gb_sample(&b, 2, 64);
    rc |= save(argv[1], "sample_v2_align64.gguf", &b);
    gb_free(&b);
    gb_header(&b, 3, 0, 0);
    rc |= save(argv[1], "empty.gguf", &b);
    gb_free(&b);

    static const struct { const char *name; uint32_t type, elems, bytes; } types[] = {
        {"q4_1", GGML_TYPE_Q4_1, 32, 20},   {"q5_0", GGML_TYPE_Q5_0, 32, 22},
        {"q5_1", GGML_TYPE_Q5_1, 32, 24},   {"q8_1", GGML_TYPE_Q8_1, 32, 36},
        {"q2_K", GGML_TYPE_Q2_K, 256, 84},  {"q3_K", GGML_TYPE_Q3_K, 256, 110},
        {"q5_K", GGML_TYPE_Q5_K, 256, 176}, {"q8_K", GGML_TYPE_Q8_K, 256, 292},
        {"f16", GGML_TYPE_F16, 1, 2},       {"bf16", GGML_TYPE_BF16, 1, 2},
    };
    enum { NT = sizeof types / sizeof types[0] };
    static uint8_t data[NT][2 * 292];
    gb_tensor t[NT];
    for (int i = 0; i < NT; i++) {
        sample_fill(data[i], sizeof data[i], (uint32_t)i + 10);
        t[i] = (gb_tensor){types[i].name, 2, {types[i].elems, 2, 1, 1}, types[i].type, data[i],
                           2 * (size_t)types[i].bytes};
    }
    gb_header(&b, 3, NT, 1);
    gb_kv_str(&b, "general.architecture", "llama");
    gb_tensors(&b, t, NT, 32);
    rc |= save(argv[1], "all_types.gguf", &b);
    gb_free(&b);
    return rc ? 1 : 0;
}
