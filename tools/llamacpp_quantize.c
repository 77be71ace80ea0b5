/* llamacpp_quantize: llama.cpp's own quantizer (llama_model_quantize, what
 * `llama-quantize` runs), so tests can compare wgpt against files made
 * exactly the way users' K-quant GGUFs are made, type mix included.
 *
 *   llamacpp_quantize IN.gguf OUT.gguf TYPE [--pure] [-t THREADS] [-v]
 *
 * TYPE: q4_K_M q5_K_M q6_K q8_0 ... (the list is in `usage`), case-insensitive.
 * --pure: every quantizable tensor gets TYPE's base type (no _M mix).
 * -v: llama.cpp's whole log (the per-tensor "converting to" lines); otherwise
 * only its warnings and errors reach stderr.
 *
 * Linked against the prebuilt libllama that node-llama-cpp ships
 * (@node-llama-cpp/linux-x64), compiled against the llama.h of the very
 * llama.cpp source those binaries were built from (the git bundle in
 * node-llama-cpp/llama/, cloned by scripts/llamacpp_src.py), so the layout
 * of llama_model_quantize_params matches; tests/e2e/test_kquants_llamacpp.sh
 * builds it. Exit 0 on success, 1 on a failed quantization, 2 on usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "llama.h"

static const struct {
    const char *name;
    enum llama_ftype ftype;
} ftypes[] = {
    {"f32", LLAMA_FTYPE_ALL_F32},          {"f16", LLAMA_FTYPE_MOSTLY_F16},       {"bf16", LLAMA_FTYPE_MOSTLY_BF16},
    {"q4_0", LLAMA_FTYPE_MOSTLY_Q4_0},     {"q4_1", LLAMA_FTYPE_MOSTLY_Q4_1},     {"q5_0", LLAMA_FTYPE_MOSTLY_Q5_0},
    {"q5_1", LLAMA_FTYPE_MOSTLY_Q5_1},     {"q8_0", LLAMA_FTYPE_MOSTLY_Q8_0},     {"q2_K", LLAMA_FTYPE_MOSTLY_Q2_K},
    {"q3_K_S", LLAMA_FTYPE_MOSTLY_Q3_K_S}, {"q3_K_M", LLAMA_FTYPE_MOSTLY_Q3_K_M}, {"q3_K_L", LLAMA_FTYPE_MOSTLY_Q3_K_L},
    {"q4_K_S", LLAMA_FTYPE_MOSTLY_Q4_K_S}, {"q4_K_M", LLAMA_FTYPE_MOSTLY_Q4_K_M}, {"q5_K_S", LLAMA_FTYPE_MOSTLY_Q5_K_S},
    {"q5_K_M", LLAMA_FTYPE_MOSTLY_Q5_K_M}, {"q6_K", LLAMA_FTYPE_MOSTLY_Q6_K},
};
#define N_FTYPES (sizeof ftypes / sizeof ftypes[0])

static int verbose;

static void log_cb(enum ggml_log_level level, const char *text, void *ud) {
    (void)ud;
    /* CONT lines continue the previous message, whose level decided. */
    static int showing;
    if (level != GGML_LOG_LEVEL_CONT) showing = verbose || level == GGML_LOG_LEVEL_WARN || level == GGML_LOG_LEVEL_ERROR;
    if (showing) fputs(text, stderr);
}

static int usage(void) {
    fprintf(stderr, "usage: llamacpp_quantize IN.gguf OUT.gguf TYPE [--pure] [-t THREADS] [-v]\nTYPE:");
    for (size_t i = 0; i < N_FTYPES; i++) fprintf(stderr, " %s", ftypes[i].name);
    fputc('\n', stderr);
    return 2;
}

int main(int argc, char **argv) {
    const char *pos[3];
    int npos = 0, pure = 0, threads = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--pure")) pure = 1;
        else if (!strcmp(argv[i], "-v")) verbose = 1;
        else if (!strcmp(argv[i], "-t") && i + 1 < argc) {
            char *end;
            long t = strtol(argv[++i], &end, 10);
            if (*end || t < 1 || t > 1024) return usage();
            threads = (int)t;
        } else if (argv[i][0] == '-' || npos == 3) return usage();
        else pos[npos++] = argv[i];
    }
    if (npos != 3) return usage();
    size_t k = 0;
    while (k < N_FTYPES && strcasecmp(pos[2], ftypes[k].name)) k++;
    if (k == N_FTYPES) {
        fprintf(stderr, "llamacpp_quantize: unknown type '%s'\n", pos[2]);
        return usage();
    }

    llama_log_set(log_cb, NULL);
    llama_backend_init();
    llama_model_quantize_params p = llama_model_quantize_default_params();
    p.ftype = ftypes[k].ftype;
    p.nthread = threads;
    p.pure = pure;
    uint32_t rc = llama_model_quantize(pos[0], pos[1], &p);
    llama_backend_free();
    if (rc) {
        fprintf(stderr, "llamacpp_quantize: llama_model_quantize(%s -> %s, %s) failed (%u)\n", pos[0], pos[1],
                ftypes[k].name, rc);
        return 1;
    }
    return 0;
}
