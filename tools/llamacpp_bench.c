/* llamacpp_bench: llama.cpp's prompt-processing and generation speed, measured
 * the way `wgpt bench` measures ours, so the two can be run side by side.
 *
 *   llamacpp_bench MODEL.gguf [--gpu vulkan|false] [-p P] [-n N] [-r REPS]
 *                  [-ub U] [-t THREADS] [--fa on|off|auto] [--libdir DIR] [-v]
 *
 * Links against the prebuilt llama.cpp shared libraries that node-llama-cpp
 * ships (@node-llama-cpp/linux-x64-vulkan), compiled against the llama.h of
 * the very llama.cpp source those binaries were built from (the git bundle in
 * node-llama-cpp/llama/), so the struct layouts match. Built and packed by
 * scripts/pack_llamacpp_vulkan.sh; run on the device by
 * scripts/device_llamacpp.sh.
 *
 * ggml is built with dynamically loaded backends: the Vulkan and CPU backends
 * (libggml-vulkan.so, libggml-cpu-*.so) are loaded from --libdir (default:
 * ../lib next to this executable, or $LLAMACPP_LIBDIR).
 *
 * --gpu vulkan (default): every layer offloaded (n_gpu_layers = -1) to the
 *   first Vulkan GPU device; fails if there is none. --gpu false: the Vulkan
 *   backend is unloaded and everything runs on the CPU.
 *
 * pp: the KV cache is cleared, then P prompt tokens (the same pseudo-random
 *   ids `wgpt bench` uses) are evaluated in one llama_decode (n_batch = P,
 *   n_ubatch = min(P, 512) unless -ub) and the greedy next token is read
 *   back; tok/s = P / time.
 * tg: the KV cache is cleared, then BOS is fed and N tokens are generated one
 *   at a time greedily (argmax of the logits, fed back); each step is a
 *   llama_decode of one token followed by reading its logits; tok/s = N /
 *   time (like llama-bench's tgN and `wgpt bench`: no prompt is timed).
 * Each test runs once as a warm-up, then REPS times (default 3), averaged.
 *
 * stdout: one JSON line. stderr: llama.cpp's log lines about the Vulkan
 * device, offloading and flash attention, plus its warnings and errors (all
 * of its log with -v).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ggml-backend.h"
#include "llama.h"

static int verbose;
static int last_shown;

/* The lines that say which device ran what. */
static int interesting(enum ggml_log_level level, const char *t) {
    if (level == GGML_LOG_LEVEL_DEBUG) return !strncmp(t, "ggml_vulkan: ", 13) && !strstr(t, "Warning");
    static const char *keys[] = {"ggml_vulkan:", "load_backend:", "using device", "offloaded", "model buffer size",
                                 "KV buffer size", "Flash Attention", "flash_attn ", NULL};
    for (int i = 0; keys[i]; i++)
        if (strstr(t, keys[i])) return 1;
    return 0;
}

static void log_cb(enum ggml_log_level level, const char *text, void *ud) {
    (void)ud;
    int show;
    if (level == GGML_LOG_LEVEL_CONT) show = last_shown;
    else show = verbose || level >= GGML_LOG_LEVEL_WARN || interesting(level, text);
    last_shown = show;
    if (show) fputs(text, stderr);
}

static bool no_progress(float p, void *ud) {
    (void)p;
    (void)ud;
    return true;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const char *msg) {
    fprintf(stderr, "llamacpp_bench: %s\n", msg);
    fflush(NULL);
    _exit(1); /* not exit(): ggml-vulkan's static destructors abort mid-failure */
}

static long count_arg(const char *opt, const char *v) {
    char *end;
    long x = v ? strtol(v, &end, 10) : -1;
    if (!v || !*v || *end || x < 0 || x > 1 << 20) {
        fprintf(stderr, "llamacpp_bench: %s expects a count, got '%s'\n", opt, v ? v : "");
        exit(2);
    }
    return x;
}

static void usage(int rc) {
    fprintf(rc ? stderr : stdout,
            "usage: llamacpp_bench MODEL.gguf [--gpu vulkan|false] [-p P] [-n N] [-r REPS]\n"
            "                      [-ub U] [-t THREADS] [--fa on|off|auto] [--libdir DIR] [-v]\n"
            "  -p P   prompt tokens evaluated in one llama_decode (default 512; 0 skips)\n"
            "  -n N   tokens generated one at a time, greedily (default 128; 0 skips)\n"
            "  -r R   repetitions averaged after one warm-up (default 3)\n"
            "  -ub U  physical batch (n_ubatch; default min(P, 512))\n"
            "  -t T   CPU threads (default: online CPUs)\n"
            "  --fa   flash attention (default auto, as llama-bench)\n"
            "  -v     all of llama.cpp's log on stderr\n");
    exit(rc);
}

static int argmax_last(struct llama_context *ctx, int n_vocab) {
    const float *l = llama_get_logits_ith(ctx, -1); /* waits for the GPU */
    if (!l) die("llama_get_logits_ith failed");
    int best = 0;
    for (int i = 1; i < n_vocab; i++)
        if (l[i] > l[best]) best = i;
    return best;
}

/* One timed run: clear the cache, evaluate ids[0..n) in one decode, then
 * gen-1 further single-token greedy decodes. Returns seconds. */
static double run_tokens(struct llama_context *ctx, llama_token *ids, int n, int gen, int n_vocab) {
    llama_memory_clear(llama_get_memory(ctx), true);
    llama_synchronize(ctx);
    double t0 = now();
    if (llama_decode(ctx, llama_batch_get_one(ids, n)) != 0) die("llama_decode failed");
    llama_token tok = argmax_last(ctx, n_vocab);
    for (int i = 1; i < gen; i++) {
        if (llama_decode(ctx, llama_batch_get_one(&tok, 1)) != 0) die("llama_decode failed");
        tok = argmax_last(ctx, n_vocab);
    }
    return now() - t0;
}

static double mean_sd(const double *v, int n, double *sd) {
    double m = 0, s = 0;
    for (int i = 0; i < n; i++) m += v[i];
    m /= n;
    for (int i = 0; i < n; i++) s += (v[i] - m) * (v[i] - m);
    *sd = n > 1 ? sqrt(s / (n - 1)) : 0;
    return m;
}

static void json_str(const char *s) {
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

int main(int argc, char **argv) {
    const char *model_path = NULL, *libdir = getenv("LLAMACPP_LIBDIR");
    int gpu = 1, fa = LLAMA_FLASH_ATTN_TYPE_AUTO;
    long n_prompt = 512, n_gen = 128, reps = 3, n_ubatch = 0;
    long n_threads = sysconf(_SC_NPROCESSORS_ONLN);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) usage(0);
        else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) verbose = 1;
        else if (!strcmp(a, "--gpu") && v) {
            if (!strcmp(v, "vulkan") || !strcmp(v, "auto") || !strcmp(v, "true")) gpu = 1;
            else if (!strcmp(v, "false") || !strcmp(v, "cpu") || !strcmp(v, "none")) gpu = 0;
            else usage(2);
            i++;
        } else if (!strcmp(a, "--fa") && v) {
            if (!strcmp(v, "on") || !strcmp(v, "1")) fa = LLAMA_FLASH_ATTN_TYPE_ENABLED;
            else if (!strcmp(v, "off") || !strcmp(v, "0")) fa = LLAMA_FLASH_ATTN_TYPE_DISABLED;
            else if (!strcmp(v, "auto")) fa = LLAMA_FLASH_ATTN_TYPE_AUTO;
            else usage(2);
            i++;
        } else if (!strcmp(a, "--libdir") && v) { libdir = v; i++; }
        else if (!strcmp(a, "-p")) { n_prompt = count_arg(a, v); i++; }
        else if (!strcmp(a, "-n")) { n_gen = count_arg(a, v); i++; }
        else if (!strcmp(a, "-r")) { reps = count_arg(a, v); i++; if (reps < 1) reps = 1; }
        else if (!strcmp(a, "-ub")) { n_ubatch = count_arg(a, v); i++; }
        else if (!strcmp(a, "-t")) { n_threads = count_arg(a, v); i++; }
        else if (a[0] != '-' && !model_path) model_path = a;
        else usage(2);
    }
    if (!model_path) usage(2);
    if (n_threads < 1) n_threads = 1;

    char exe_lib[PATH_MAX];
    if (!libdir) {
        char exe[PATH_MAX];
        ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (k <= 0) die("cannot find the executable's folder; pass --libdir");
        exe[k] = 0;
        snprintf(exe_lib, sizeof exe_lib, "%s/../lib", dirname(exe));
        libdir = exe_lib;
    }

    llama_log_set(log_cb, NULL);
    ggml_backend_load_all_from_path(libdir);
    ggml_backend_reg_t vk = ggml_backend_reg_by_name("Vulkan");
    if (!gpu && vk) ggml_backend_unload(vk);
    if (!ggml_backend_reg_by_name("CPU")) die("no CPU backend loaded (libggml-cpu-*.so missing from the lib folder?)");
    llama_backend_init();

    ggml_backend_dev_t dev = NULL;
    for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
        ggml_backend_dev_t d = ggml_backend_dev_get(i);
        enum ggml_backend_dev_type t = ggml_backend_dev_type(d);
        if (gpu && (t == GGML_BACKEND_DEVICE_TYPE_GPU || t == GGML_BACKEND_DEVICE_TYPE_IGPU)) { dev = d; break; }
        if (!gpu && t == GGML_BACKEND_DEVICE_TYPE_CPU) { dev = d; break; }
    }
    if (!dev && gpu && !vk)
        die("the Vulkan backend did not load (libggml-vulkan.so missing, or libvulkan.so.1 not found?)");
    if (!dev) die(gpu ? "the Vulkan backend found no GPU (is an ICD set up, e.g. VK_DRIVER_FILES? a CPU-type "
                        "device such as lavapipe is only used with GGML_VK_VISIBLE_DEVICES=0)"
                      : "no CPU device");
    const char *backend = ggml_backend_reg_name(ggml_backend_dev_backend_reg(dev));
    const char *device = ggml_backend_dev_description(dev);
    fprintf(stderr, "llamacpp_bench: backend %s, device %s (%s)\n", backend, ggml_backend_dev_name(dev), device);

    ggml_backend_dev_t devs[2] = {gpu ? dev : NULL, NULL};
    struct llama_model_params mp = llama_model_default_params();
    mp.devices = devs;
    mp.n_gpu_layers = gpu ? -1 : 0; /* negative: all layers */
    mp.split_mode = LLAMA_SPLIT_MODE_NONE;
    mp.main_gpu = 0;
    mp.progress_callback = no_progress; /* instead of a row of dots on stderr */
    double t_load = now();
    struct llama_model *model = llama_model_load_from_file(model_path, mp);
    if (!model) die("cannot load the model");
    t_load = now() - t_load;

    long n_ctx = n_prompt > n_gen + 1 ? n_prompt : n_gen + 1;
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (uint32_t)n_ctx;
    cp.n_batch = (uint32_t)(n_prompt > 0 ? n_prompt : 1);
    cp.n_ubatch = (uint32_t)(n_ubatch > 0 ? n_ubatch : n_prompt > 0 && n_prompt < 512 ? n_prompt : 512);
    if (cp.n_ubatch > cp.n_batch) cp.n_ubatch = cp.n_batch;
    cp.n_seq_max = 1;
    cp.n_threads = cp.n_threads_batch = (int32_t)n_threads;
    cp.flash_attn_type = (enum llama_flash_attn_type)fa;
    cp.no_perf = true;
    struct llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) die("cannot create the context");

    const struct llama_vocab *vocab = llama_model_get_vocab(model);
    int n_vocab = llama_vocab_n_tokens(vocab);
    llama_token bos = llama_vocab_bos(vocab);
    if (bos < 0) bos = 0;
    /* The prompt ids `wgpt bench` uses: spread over the vocabulary, fixed. */
    llama_token *ids = malloc((size_t)(n_prompt > 1 ? n_prompt : 1) * sizeof *ids);
    double *t = malloc((size_t)reps * sizeof *t);
    if (!ids || !t) die("out of memory");
    uint32_t x = 12345;
    for (long i = 0; i < n_prompt; i++) { x = x * 1664525u + 1013904223u; ids[i] = (llama_token)(x % (uint32_t)n_vocab); }

    double pp = 0, pp_sd = 0, tg = 0, tg_sd = 0;
    if (n_prompt > 0) {
        run_tokens(ctx, ids, (int)n_prompt, 1, n_vocab); /* warm-up */
        for (long r = 0; r < reps; r++) t[r] = n_prompt / run_tokens(ctx, ids, (int)n_prompt, 1, n_vocab);
        pp = mean_sd(t, (int)reps, &pp_sd);
    }
    if (n_gen > 0) {
        run_tokens(ctx, &bos, 1, (int)n_gen, n_vocab); /* warm-up */
        for (long r = 0; r < reps; r++) t[r] = n_gen / run_tokens(ctx, &bos, 1, (int)n_gen, n_vocab);
        tg = mean_sd(t, (int)reps, &tg_sd);
    }

    char desc[256];
    llama_model_desc(model, desc, sizeof desc);
    printf("{\"engine\":\"llama.cpp\",\"backend\":");
    json_str(backend);
    printf(",\"device\":");
    json_str(device);
    printf(",\"model\":");
    json_str(model_path);
    printf(",\"desc\":");
    json_str(desc);
    printf(",\"offload\":\"%s\",\"n_layer\":%d,\"flash_attn\":\"%s\",\"n_ubatch\":%u,\"n_threads\":%ld,"
           "\"reps\":%ld,\"load_s\":%.2f,\"n_prompt\":%ld,\"pp_tok_s\":%.2f,\"pp_sd\":%.2f,"
           "\"n_gen\":%ld,\"tg_tok_s\":%.2f,\"tg_sd\":%.2f}\n",
           gpu ? "all" : "none", llama_model_n_layer(model),
           llama_flash_attn_type_name((enum llama_flash_attn_type)fa), cp.n_ubatch, n_threads, reps, t_load,
           n_prompt, pp, pp_sd, n_gen, tg, tg_sd);
    fflush(stdout);
    free(ids);
    free(t);
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}
