/* wgpt-kbench: the matrix-vector kernels side by side, in the spirit of
 * llm.c's dev/cuda. For each weight type and shape it makes one random
 * matrix in the file's format, uploads it as the engine does (the same
 * repacking), and runs every variant on one token: the engine's batched
 * kernel (matmul.wgsl) and matvec.wgsl at several rows-per-group and unroll
 * settings. Each variant's output is checked against a CPU loop in double
 * precision, then the variant is timed with GPU timestamp queries (the
 * median of many dispatches, rotating over enough copies of the matrix that
 * the L2 cache cannot hold them), and the weight bytes it read per second
 * are printed beside the adapter's nominal bandwidth.
 *
 *   build/wgpt-kbench [-t f16,q4_0] [-s 2048x2048,8192x2048] [-r REPS] [--quick] [--bw GBPS]
 *
 * --quick: small shapes and no copies, for a CPU adapter (SwiftShader),
 * where only the correctness column means anything. Exit status 1 if any
 * variant is wrong. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/dtype.h"
#include "formats/gguf.h"
#include "formats/quant.h"
#include "gpu/gpu.h"
#include "graph/kernels.h"
#include "util/util.h"

extern const struct { const char *name; const char *src; } wgpt_embedded_files[];

static const char *embedded(const char *name) {
    for (int i = 0; wgpt_embedded_files[i].name; i++)
        if (!strcmp(wgpt_embedded_files[i].name, name)) return wgpt_embedded_files[i].src;
    return NULL;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd32(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}
static float frand(void) { return (float)(rnd32() >> 8) * (2.0f / 16777216.0f) - 1.0f; }

/* Random rows in the file's format: values are whatever the bytes say, so
 * every bit pattern of a quant is exercised; scales are kept small and
 * finite so the sums stay in range. */
static void random_row(uint32_t type, uint8_t *dst, int cols) {
    const dtype_info *t = dtype_of(type);
    int blocks = cols / (int)t->block_elems;
    for (int b = 0; b < blocks; b++) {
        uint8_t *p = dst + (size_t)b * t->block_bytes;
        if (type == GGML_TYPE_F32) { float f = frand(); memcpy(p, &f, 4); }
        else if (type == GGML_TYPE_F16) { uint16_t h = f32_to_f16(frand()); memcpy(p, &h, 2); }
        else if (type == GGML_TYPE_BF16) { float f = frand(); uint32_t u; memcpy(&u, &f, 4); uint16_t h = (uint16_t)(u >> 16); memcpy(p, &h, 2); }
        else { /* Q8_0, Q4_0: an f16 scale, then the quants */
            uint16_t h = f32_to_f16(frand() * (type == GGML_TYPE_Q8_0 ? 0.01f : 0.1f));
            memcpy(p, &h, 2);
            for (uint32_t i = 2; i < t->block_bytes; i++) p[i] = (uint8_t)rnd32();
        }
    }
}

typedef struct {
    const char *name;
    int matvec;          /* 0: the engine's matmul.wgsl */
    int rows, unroll;    /* matvec.wgsl's MV_ROWS, MV_UNROLL */
    int fused;           /* 1: the RMSNorm of x folded in (mv_norm.wgsl); 2: matvec_glu.wgsl
                            (norm, then SiLU(W x) * (W x): the matrix read twice, as gate and up) */
    const char *fmt;     /* the format snippet's suffix: "" (mvfmt_TYPE.wgsl), or another way to
                            read the type (types without that file skip the variant) */
    int ks;              /* subgroups that split each row's units (reduce_subgroup_ks.wgsl); 0: one */
} variant;

static const variant variants[] = {
    {"matmul (batched)", 0, 0, 0, 0, "", 0},
    {"matvec r2 u4", 1, 2, 4, 0, "", 0}, {"matvec r2 u8", 1, 2, 8, 0, "", 0}, {"matvec r1 u4", 1, 1, 4, 0, "", 0},
    {"matvec r4 u4", 1, 4, 4, 0, "", 0}, {"ks2 r2 u4", 1, 2, 4, 0, "", 2}, {"ks2 r2 u8", 1, 2, 8, 0, "", 2},
    {"ks2 r1 u8", 1, 1, 8, 0, "", 2}, {"ks2 r4 u4", 1, 4, 4, 0, "", 2},
    {"norm+mv r2 u4", 1, 2, 4, 1, "", 0}, {"norm+mv r4 u4", 1, 4, 4, 1, "", 0}, {"norm ks2 r2 u4", 1, 2, 4, 1, "", 2},
    {"norm ks2 r4 u4", 1, 4, 4, 1, "", 2},
    {"glu r2 u4", 1, 2, 4, 2, "", 0}, {"glu r2 u8", 1, 2, 8, 2, "", 0}, {"glu ks2 r2 u4", 1, 2, 4, 2, "", 2},
    {"glu ks2 r2 u8", 1, 2, 8, 2, "", 2},
    {"block r1 u2", 1, 1, 2, 0, "_block", 0}, {"block r2 u2", 1, 2, 2, 0, "_block", 0},
};
#define N_VARIANTS (int)(sizeof variants / sizeof *variants)

/* matvec.wgsl as the engine composes it, with this variant's shape. */
static gpu_kernel *make_matvec(gpu_device *d, const kernel_registry *k, const dtype_info *t, const variant *v,
                               char *err, size_t errlen) {
    char fmt[64], fmt2[64], head[128];
    snprintf(fmt, sizeof fmt, "mvfmt_%s%s.wgsl", t->name, v->fmt);
    snprintf(fmt2, sizeof fmt2, "mvfmt2_%s.wgsl", t->name);
    snprintf(head, sizeof head, "const MV_ROWS: u32 = %du;\nconst MV_UNROLL: u32 = %du;\nconst KS: u32 = %du;\n",
             v->rows, v->unroll, v->ks ? v->ks : 1);
    const char *parts[8] = {embedded(v->ks ? "reduce_subgroup_ks.wgsl" : k->reduce), head, embedded("common.wgsl"), embedded(fmt),
                            embedded(v->fused == 2 ? fmt2 : v->fused ? "mv_norm.wgsl" : "mv_plain.wgsl"),
                            v->fused == 2 ? embedded("mv_glu_gated.wgsl") : "",
                            v->fused ? embedded("mv_norm_common.wgsl") : "",
                            embedded(v->fused == 2 ? "matvec_glu.wgsl" : "matvec.wgsl")};
    size_t len = 1;
    for (int i = 0; i < 8; i++) {
        if (!parts[i]) { set_err(err, errlen, "kernel source missing (%s)", fmt); return NULL; }
        len += strlen(parts[i]) + 1;
    }
    char *src = malloc(len), *p = src;
    if (!src) { set_err(err, errlen, "out of memory"); return NULL; }
    for (int i = 0; i < 8; i++) p += sprintf(p, "%s\n", parts[i]);
    gpu_kernel *kr = gpu_kernel_create(d, src, v->name, err, errlen);
    free(src);
    return kr;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    gpu_device *dev;
    kernel_registry ks;
    int reps, quick;
    double bw; /* GB/s the table compares with */
    int failures;
} bench;

/* Reads Y back. */
static int read_floats(gpu_device *d, gpu_buffer *b, float *out, size_t n, char *err, size_t errlen) {
    gpu_buffer *rb = gpu_buffer_create(d, n * 4, GPU_READBACK, "rb");
    if (!rb) { set_err(err, errlen, "cannot allocate a read-back buffer"); return -1; }
    gpu_copy(d, b, 0, rb, 0, n * 4);
    const void *data;
    int rc = -1;
    if (gpu_submit(d, err, errlen) == 0 && gpu_read_begin(d, rb, err, errlen) == 0 &&
        gpu_read_poll(d, rb, 1, &data, err, errlen) == 1) {
        memcpy(out, data, n * 4);
        gpu_read_end(d, rb);
        rc = 0;
    }
    gpu_buffer_free(rb);
    return rc;
}

static void run_case(bench *B, uint32_t type, int rows, int cols) {
    char err[1024];
    const dtype_info *t = dtype_of(type);
    const gpu_limits *L = gpu_get_limits(B->dev);
    dtype_gpu_layout lay = dtype_gpu_layout_of(t, (uint64_t)rows, (uint64_t)cols);
    uint64_t lim = L->max_storage_binding;
    if (L->max_buffer_size < lim) lim = L->max_buffer_size;
    if (lay.bytes > lim) {
        int r = (int)(lim / (lay.row_bytes + lay.scale_row_bytes));
        while (dtype_gpu_layout_of(t, (uint64_t)r, (uint64_t)cols).bytes > lim) r--;
        printf("%-5s %6dx%-5d: %d rows fit one binding; timing those\n", t->name, rows, cols, r);
        rows = r;
        lay = dtype_gpu_layout_of(t, (uint64_t)rows, (uint64_t)cols);
    }
    uint64_t bytes = lay.bytes;
    /* Enough copies that one pass over them all is well past the L2. */
    int copies = B->quick ? 1 : (int)((256ull << 20) / bytes) + 1;
    if (copies > 64) copies = 64;
    uint64_t src_row = dtype_row_bytes(t, (uint64_t)cols);
    uint8_t *src = malloc(rows * src_row);
    uint8_t *gpu_bytes = calloc(1, bytes);
    float *x = malloc((size_t)cols * 4), *wrow = malloc((size_t)cols * 4), *y = malloc((size_t)rows * 4);
    double *want = malloc((size_t)rows * sizeof *want), *mag = malloc((size_t)rows * sizeof *mag);
    double *want_n = malloc((size_t)rows * sizeof *want), *mag_n = malloc((size_t)rows * sizeof *mag);
    float *nw = malloc((size_t)cols * 4);
    if (!src || !gpu_bytes || !x || !wrow || !y || !want || !mag || !want_n || !mag_n || !nw) { fprintf(stderr, "out of memory\n"); exit(1); }
    double ss = 0;
    for (int c = 0; c < cols; c++) { x[c] = frand(); nw[c] = frand() + 1.5f; ss += (double)x[c] * x[c]; }
    const float eps = 1e-5f;
    double rms_inv = 1.0 / sqrt(ss / cols + eps);
    for (int r = 0; r < rows; r++) {
        random_row(type, src + (size_t)r * src_row, cols);
        dtype_repack_row(t, src + (size_t)r * src_row, gpu_bytes + (size_t)r * lay.row_bytes,
                         gpu_bytes + lay.scales_at + (size_t)r * lay.scale_row_bytes, cols);
        dequantize_row(type, src + (size_t)r * src_row, wrow, cols);
        double a = 0, m = 0, an = 0, mn = 0;
        for (int c = 0; c < cols; c++) {
            a += (double)wrow[c] * x[c];
            m += fabs((double)wrow[c] * x[c]);
            an += (double)wrow[c] * x[c] * rms_inv * nw[c];
            mn += fabs((double)wrow[c] * x[c] * rms_inv * nw[c]);
        }
        want[r] = a;
        mag[r] = m;
        want_n[r] = an;
        mag_n[r] = mn;
    }
    gpu_buffer **w = calloc((size_t)copies, sizeof *w);
    for (int i = 0; i < copies; i++) {
        w[i] = gpu_buffer_create(B->dev, bytes, GPU_STORAGE, "w");
        if (!w[i]) { fprintf(stderr, "cannot allocate %d copies of %llu bytes\n", copies, (unsigned long long)bytes); exit(1); }
        gpu_buffer_write(B->dev, w[i], 0, gpu_bytes, bytes);
    }
    gpu_buffer *xb = gpu_buffer_create(B->dev, (uint64_t)cols * 4, GPU_STORAGE, "x");
    gpu_buffer *yb = gpu_buffer_create(B->dev, (uint64_t)rows * 4, GPU_STORAGE, "y");
    gpu_buffer *nb = gpu_buffer_create(B->dev, (uint64_t)cols * 4, GPU_STORAGE, "norm");
    gpu_buffer *pb = gpu_buffer_create(B->dev, 48, GPU_UNIFORM, "params");
    gpu_buffer_write(B->dev, nb, 0, nw, (size_t)cols * 4);
    gpu_buffer *sb = gpu_buffer_create(B->dev, 16, GPU_UNIFORM, "step");
    gpu_buffer_write(B->dev, xb, 0, x, (size_t)cols * 4);
    uint32_t params[12] = {(uint32_t)rows, (uint32_t)cols, 0, (uint32_t)rows, (uint32_t)cols, 0, 0, 0, 0, 0, 0, 0};
    memcpy(&params[8], &eps, 4);
    uint32_t step[4] = {0, 1, 0, 1};
    gpu_buffer_write(B->dev, pb, 0, params, sizeof params);
    gpu_buffer_write(B->dev, sb, 0, step, sizeof step);

    for (int v = 0; v < N_VARIANTS; v++) {
        const variant *V = &variants[v];
        char fname[64];
        snprintf(fname, sizeof fname, "mvfmt_%s%s.wgsl", t->name, V->fmt);
        if (V->matvec && !embedded(fname)) continue;
        if (V->ks && (strcmp(B->ks.reduce, "reduce_subgroup.wgsl") || B->ks.group_slots % (uint32_t)V->ks)) continue;
        gpu_kernel *k = V->matvec ? make_matvec(B->dev, &B->ks, t, V, err, sizeof err)
                                  : kernels_get(&B->ks, KERNEL_MATMUL, t->gpu_slot, KV_PLAIN, err, sizeof err);
        if (!k) { printf("%-5s %6dx%-5d %-18s does not compile: %s\n", t->name, rows, cols, V->name, err); B->failures++; continue; }
        uint32_t per_wg = B->ks.group_slots / (V->ks ? (uint32_t)V->ks : 1u) * (V->matvec ? (uint32_t)V->rows : 1u);
        /* matmul.wgsl: a workgroup a tile of rows (one token: one tile of tokens) */
        if (!V->matvec) per_wg = KERNELS_MATMUL_TILE;
        uint32_t wgs = ((uint32_t)rows + per_wg - 1) / per_wg;
        gpu_bindings **bg = calloc((size_t)copies, sizeof *bg);
        for (int i = 0; i < copies; i++) {
            uint64_t psz = V->matvec ? 48 : 32;
            gpu_binding plain[5] = {{pb, 0, psz}, {w[i], 0, 0}, {xb, 0, 0}, {yb, 0, 0}, {sb, 0, 16}};
            gpu_binding norm[6] = {{pb, 0, psz}, {w[i], 0, 0}, {xb, 0, 0}, {yb, 0, 0}, {nb, 0, 0}, {sb, 0, 16}};
            gpu_binding glu[7] = {{pb, 0, psz}, {w[i], 0, 0}, {xb, 0, 0}, {yb, 0, 0}, {nb, 0, 0}, {w[i], 0, 0}, {sb, 0, 16}};
            gpu_binding *b = V->fused == 2 ? glu : V->fused ? norm : plain;
            if (!(bg[i] = gpu_bindings_create(B->dev, k, b, 5 + V->fused, err, sizeof err))) { fprintf(stderr, "%s\n", err); exit(1); }
        }
        /* correctness: Y poisoned first, so an unwritten row shows */
        for (int r = 0; r < rows; r++) y[r] = NAN;
        gpu_buffer_write(B->dev, yb, 0, y, (size_t)rows * 4);
        gpu_begin(B->dev);
        gpu_dispatch_1d(B->dev, k, bg[0], wgs);
        if (read_floats(B->dev, yb, y, (size_t)rows, err, sizeof err) != 0) { fprintf(stderr, "%s\n", err); exit(1); }
        /* 2e-5 of sum |w x|: as tests/unit/test_kernels.c's matmul checks */
        double worst = 0;
        int bad = 0;
        for (int r = 0; r < rows; r++) {
            double wr = V->fused ? want_n[r] : want[r], mr = V->fused ? mag_n[r] : mag[r];
            if (V->fused == 2) { /* SiLU(g) * g, and its sensitivity to g's error: d/dg g^2 s(g) */
                double sg = 1 / (1 + exp(-wr)), d = fabs(2 * wr * sg + wr * wr * sg * (1 - sg)) + 1;
                mr *= d;
                wr = wr * sg * wr;
            }
            double e = fabs((double)y[r] - wr) / (2e-5 * mr + 1e-30);
            if (!(e <= 1.0)) bad++;
            if (!(e <= worst)) worst = e;
        }
        /* timing */
        int reps = B->reps, warm = copies < 8 ? copies : 8;
        gpu_begin(B->dev);
        for (int i = 0; i < warm; i++) gpu_dispatch_1d(B->dev, k, bg[i % copies], wgs);
        if (gpu_submit(B->dev, err, sizeof err) != 0 || gpu_finish(B->dev, err, sizeof err) != 0) { fprintf(stderr, "%s\n", err); exit(1); }
        double *ns = malloc((size_t)reps * sizeof *ns), med = -1;
        if (B->dev && gpu_get_limits(B->dev)->has_timestamp && gpu_profile_begin(B->dev, reps, err, sizeof err) == 0) {
            gpu_begin(B->dev);
            for (int i = 0; i < reps; i++) gpu_dispatch_1d(B->dev, k, bg[i % copies], wgs);
            int n = -1;
            if (gpu_submit(B->dev, err, sizeof err) == 0 && gpu_finish(B->dev, err, sizeof err) == 0)
                n = gpu_profile_end(B->dev, ns, reps, err, sizeof err);
            if (n > 0) { qsort(ns, (size_t)n, sizeof *ns, cmp_double); med = ns[n / 2]; }
        }
        free(ns);
        if (bad) B->failures++;
        char timing[64] = "no timestamps";
        if (med > 0)
            snprintf(timing, sizeof timing, "%9.2f %8.1f %6.1f%%", med / 1e3, bytes * (V->fused == 2 ? 2 : 1) / med,
                     100.0 * bytes * (V->fused == 2 ? 2 : 1) / med / B->bw);
        printf("%-5s %6dx%-5d %-18s %4s %9.3f  %s\n", t->name, rows, cols, V->name, bad ? "BAD" : "ok", worst, timing);
        fflush(stdout);
        for (int i = 0; i < copies; i++) gpu_bindings_free(bg[i]);
        free(bg);
        if (V->matvec) gpu_kernel_free(k);
    }
    for (int i = 0; i < copies; i++) gpu_buffer_free(w[i]);
    free(w);
    gpu_buffer_free(xb); gpu_buffer_free(yb); gpu_buffer_free(pb); gpu_buffer_free(sb); gpu_buffer_free(nb);
    free(src); free(gpu_bytes); free(x); free(wrow); free(y); free(want); free(mag); free(want_n); free(mag_n); free(nw);
}

static uint32_t type_by_name(const char *s, size_t n) {
    for (int i = 0; i < DTYPE_GPU_SLOTS; i++) {
        const dtype_info *t = dtype_gpu(i);
        if (strlen(t->name) == n && !strncmp(t->name, s, n)) return t->id;
    }
    fprintf(stderr, "unknown type '%.*s' (known: %s)\n", (int)n, s, dtype_gpu_names());
    exit(2);
}

int main(int argc, char **argv) {
    const char *types = "f32,f16,bf16,q8_0,q4_0", *shapes = NULL;
    bench B = {0};
    B.reps = 100;
    B.bw = 4800;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-t") && i + 1 < argc) types = argv[++i];
        else if (!strcmp(argv[i], "-s") && i + 1 < argc) shapes = argv[++i];
        else if (!strcmp(argv[i], "-r") && i + 1 < argc) B.reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--bw") && i + 1 < argc) B.bw = atof(argv[++i]);
        else if (!strcmp(argv[i], "--quick")) B.quick = 1;
        else {
            fprintf(stderr, "usage: wgpt-kbench [-t f32,f16,bf16,q8_0,q4_0] [-s ROWSxCOLS,...] [-r REPS] [--quick] [--bw GBPS]\n");
            return 2;
        }
    }
    if (B.reps < 1 || B.reps > 2048) { fprintf(stderr, "-r: 1..2048\n"); return 2; }
    if (!shapes) shapes = B.quick ? "1x32,37x160,300x2080,1000x512" : "2048x2048,8192x2048,2048x8192,128256x2048";
    char err[512];
    gpu_options o = {NULL, -1, 0, NULL};
    if (!(B.dev = gpu_open(&o, err, sizeof err))) { fprintf(stderr, "%s\n", err); return 1; }
    kernels_init(&B.ks, B.dev);
    const gpu_limits *L = gpu_get_limits(B.dev);
    printf("adapter: %s (%s); reductions: %s, %u groups of %u lanes a workgroup; subgroups %u..%u\n",
           gpu_adapter(B.dev)->name, gpu_adapter(B.dev)->backend, B.ks.reduce, B.ks.group_slots, B.ks.group_lanes,
           L->subgroup_min, L->subgroup_max);
    printf("one token; err: worst |gpu - cpu| / (2e-5 sum|w x|), ok <= 1; GB/s of weight bytes read, %% of %.0f GB/s\n",
           B.bw);
    printf("%-5s %12s %-18s %4s %9s  %9s %8s %7s\n", "type", "shape", "variant", "", "err", "us", "GB/s", "peak");
    for (const char *tp = types; *tp;) {
        size_t tn = strcspn(tp, ",");
        uint32_t type = type_by_name(tp, tn);
        for (const char *sp = shapes; *sp;) {
            int r, c;
            if (sscanf(sp, "%dx%d", &r, &c) != 2 || r < 1 || c < 32 || c % 32) {
                fprintf(stderr, "bad shape '%s' (ROWSxCOLS, COLS a multiple of 32)\n", sp);
                return 2;
            }
            run_case(&B, type, r, c);
            sp += strcspn(sp, ",");
            if (*sp) sp++;
        }
        tp += tn;
        if (*tp) tp++;
    }
    kernels_free(&B.ks);
    gpu_close(B.dev);
    if (B.failures) printf("%d variant(s) wrong or not compiling\n", B.failures);
    return B.failures ? 1 : 0;
}
