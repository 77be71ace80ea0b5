/* wgpt-kbench: the matrix kernels side by side, in the spirit of llm.c's
 * dev/cuda. For each weight type and shape it makes one random matrix in
 * the file's format, uploads it as the engine does (the same repacking),
 * and runs every variant on it. Each variant's output is checked against a
 * CPU loop in double precision, then the variant is timed with GPU
 * timestamp queries (the median of many dispatches, rotating over enough
 * copies of the matrix that the L2 cache cannot hold them).
 *
 * One token (-n 1, the default): the engine's batched kernel (matmul.wgsl)
 * and matvec.wgsl at several rows-per-group and unroll settings, every row
 * checked; the weight bytes read per second are printed beside the
 * adapter's nominal bandwidth (--bw).
 *
 * A prompt (-n TOKENS, more than one): only the matrix-matrix kernels, on
 * X of TOKENS x COLS random floats (Y: TOKENS x ROWS), dispatched as ops.c
 * does, ceil(ROWS / TR) * ceil(TOKENS / TT) workgroups, row tiles fastest.
 * The whole product is too slow to check on a CPU, so a sample is: every
 * row of some tokens (the first, the last, a few random, and those at the
 * edges of every variant's token tiles) and every token of some rows (the
 * same, for row tiles); then all of Y more loosely, Freivalds' way: for
 * every token a random combination of its rows, for every row one of its
 * tokens, against the same combination of the product on the CPU (rows x
 * cols work, as one token's), within the same rule summed. Y is poisoned
 * with NaN first, and any output left unwritten anywhere counts as wrong.
 * Printed: microseconds, TFLOP/s (2 * ROWS * COLS * TOKENS a dispatch) and
 * the % of --tflops (default 67, the H200's f32 FMA peak).
 *
 * -k PATH (repeatable): also runs a matmul kernel whose body is read from
 * PATH at run time, composed exactly as the engine composes matmul.wgsl
 * (common.wgsl, the format's wfmt_TYPE.wgsl and mmi8_TYPE.wgsl if any,
 * matmul_x_f32.wgsl unless the file binds X itself, matmul_common.wgsl
 * unless the file declares its own Params, matmul_nobias.wgsl, then the
 * file in matmul.wgsl's place), named by the file's basename: kernel
 * versions side by side without a rebuild. Its tile (TR rows by TT tokens
 * a workgroup) is read from its `const TR: u32 = Nu;` and `const TT: u32 =
 * Nu;` lines (an error if either is missing), and its workgroup size from
 * its @workgroup_size (printed only). The engine's own matmul.wgsl always
 * runs too (matmul_i8.wgsl for Q8_0, Q4_0, Q4_K, Q5_K and Q6_K unless WGPT_MATMUL_I8=0), with
 * its rows a tile from kernels_matmul_rows() by KERNELS_MATMUL_TOKENS.
 *
 * 8-bit products (Q8_0, Q4_0, Q4_K, Q5_K, Q6_K; several tokens) read x quantized once, as
 * the engine's steps do: quant_act.wgsl runs first, its blocks checked bit
 * for bit against quantize_act_q8_fake and timed on a row of its own; each
 * product that reads them (the engine's, and -k bodies using dot4I8Packed)
 * is timed alone, then on a "+ quant_act" row with the quantization added.
 * matmul_i8.wgsl also runs at the other count of blocks a stage than the
 * engine's (MMI8_KB: 2, or 1 with WGPT_MMI8_KB=1) as "matmul_i8 kbN".
 * The engine's kernels above run unsplit; "split-K xS" then runs the
 * product as op_matmul records it for a batch of TOKENS (S parts over the
 * columns and their reduction, matmul_reduce.wgsl; "split-K (none)" where
 * the engine would not split it, or WGPT_SPLITK=S to force S), checked
 * alike and timed as both dispatches summed.
 *
 * --attn H,KV,D,T[,POS0] (repeatable): instead, the prompt-step attention
 * (attention_prompt.wgsl) for T tokens from position POS0, H query heads on
 * KV heads of D dims, checked against a CPU softmax and timed in TFLOP/s.
 *
 *   build/wgpt-kbench [-t f16,q4_0,q4_K] [-s 2048x2048,8192x2048] [-n TOKENS] [-k PATH]... [-r REPS] [--quick]
 *                     [--bw GBPS] [--tflops TFLOPS] [--attn H,KV,D,T[,POS0]]...
 *
 * --quick: small shapes, no copies and 3 timed dispatches (unless -r says
 * otherwise), for a CPU adapter (SwiftShader), where only the correctness
 * column means anything. The error column: the worst |gpu - cpu| /
 * (2e-5 sum |w x|), ok <= 1 ("N NaN": outputs left unwritten). Exit status
 * 1 if any variant is wrong or does not compile; 2 for a bad argument or
 * an unusable -k file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/dtype.h"
#include "formats/onnx.h"
#include "formats/gguf.h"
#include "formats/quant.h"
#include "gpu/gpu.h"
#include "graph/graph.h"
#include "graph/kernels.h"
#include "graph/ops.h"
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
 * every bit pattern of a quant is exercised (and of the K-quants' packed
 * scales: every 6-bit scale and min, Q6_K's negative scales); the f16
 * scales are kept small and finite so the sums stay in range. */
static void random_row(uint32_t type, uint8_t *dst, int cols) {
    const dtype_info *t = dtype_of(type);
    int blocks = cols / (int)t->block_elems;
    for (int b = 0; b < blocks; b++) {
        uint8_t *p = dst + (size_t)b * t->block_bytes;
        if (type == GGML_TYPE_F32) { float f = frand(); memcpy(p, &f, 4); }
        else if (type == GGML_TYPE_F16) { uint16_t h = f32_to_f16(frand()); memcpy(p, &h, 2); }
        else if (type == GGML_TYPE_BF16) { float f = frand(); uint32_t u; memcpy(&u, &f, 4); uint16_t h = (uint16_t)(u >> 16); memcpy(p, &h, 2); }
        else if (t->block_elems == 256) { /* K-quants: random bytes, then d (and dmin) set */
            for (uint32_t i = 0; i < t->block_bytes; i++) p[i] = (uint8_t)rnd32();
            uint16_t d = f32_to_f16(frand() * 0.002f), dmin = f32_to_f16(frand() * 0.002f);
            memcpy(p + (type == GGML_TYPE_Q6_K ? 208 : 0), &d, 2);
            if (type != GGML_TYPE_Q6_K) memcpy(p + 2, &dmin, 2);
        } else if (type == ONNX_WGPT_Q4) { /* an f32 scale, a zero point of 0..15, 3 bytes unused, the nibbles */
            for (uint32_t i = 0; i < t->block_bytes; i++) p[i] = (uint8_t)rnd32();
            float d = frand() * 0.1f;
            memcpy(p, &d, 4);
            p[4] &= 15;
        } else { /* Q8_0, Q4_0: an f16 scale, then the quants */
            uint16_t h = f32_to_f16(frand() * (type == GGML_TYPE_Q8_0 ? 0.01f : 0.1f));
            memcpy(p, &h, 2);
            for (uint32_t i = 2; i < t->block_bytes; i++) p[i] = (uint8_t)rnd32();
        }
    }
}

typedef struct {
    const char *name;
    int matvec;          /* 1: matvec.wgsl (the matmul kernels are mm_variant's) */
    int rows, unroll;    /* matvec.wgsl's MV_ROWS, MV_UNROLL */
    int fused;           /* 1: the RMSNorm of x folded in (mv_norm.wgsl); 2: matvec_glu.wgsl
                            (norm, then SiLU(W x) * (W x): the matrix read twice, as gate and up) */
    const char *fmt;     /* the format snippet's suffix: "" (mvfmt_TYPE.wgsl), or another way to
                            read the type (types without that file skip the variant) */
    int ks;              /* subgroups that split each row's units (reduce_subgroup_ks.wgsl); 0: one */
} variant;

static const variant variants[] = {
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
    char fmt[64], fmt2[64], head[160];
    snprintf(fmt, sizeof fmt, "mvfmt_%s%s.wgsl", t->name, v->fmt);
    snprintf(fmt2, sizeof fmt2, "mvfmt2_%s.wgsl", t->name);
    snprintf(head, sizeof head,
             "const MV_ROWS: u32 = %du;\nconst MV_UNROLL: u32 = %du;\nconst KS: u32 = %du;\nconst MV_TOKENS: u32 = 1u;\n"
             "const MV_XJIT: bool = %s;\nconst KWG: u32 = WG;\n",
             v->rows, v->unroll, v->ks ? v->ks : 1, kernels_matvec_xjit(t->gpu_slot) ? "true" : "false");
    const char *shared = kernels_format_shared(t->gpu_slot);
    const char *parts[10] = {embedded(v->ks ? "reduce_subgroup_ks.wgsl" : k->reduce), head, embedded("common.wgsl"),
                            shared ? embedded(shared) : "", embedded(fmt),
                            embedded(v->fused == 2 ? fmt2 : v->fused ? "mv_norm.wgsl" : "mv_plain.wgsl"),
                            v->fused == 2 ? embedded("mv_glu_gated.wgsl") : "",
                            v->fused ? embedded("mv_norm_common.wgsl") : "",
                            embedded(v->fused == 2 ? "matvec_glu.wgsl" : "matvec.wgsl"), embedded("step_rows.wgsl")};
    size_t len = 1;
    for (int i = 0; i < 10; i++) {
        if (!parts[i]) { set_err(err, errlen, "kernel source missing (%s)", fmt); return NULL; }
        len += strlen(parts[i]) + 1;
    }
    char *src = malloc(len), *p = src;
    if (!src) { set_err(err, errlen, "out of memory"); return NULL; }
    for (int i = 0; i < 10; i++) p += sprintf(p, "%s\n", parts[i]);
    gpu_kernel *kr = gpu_kernel_create(d, src, v->name, err, errlen);
    free(src);
    return kr;
}

/* A matrix-matrix kernel: the engine's matmul.wgsl, or one from -k PATH. */
typedef struct {
    const char *name; /* "matmul (batched)", or the file's basename */
    char *src;        /* the body read from PATH; NULL: the engine's (kernels_get) */
    unsigned tr, tt;  /* rows and tokens a workgroup */
    unsigned wg;      /* its workgroup size (printed only); 0: unknown */
    unsigned kb;      /* matmul_i8.wgsl at this MMI8_KB (blocks a stage) rather than the engine's; 0: not */
} mm_variant;

#define MAX_MM 16

/* The value of `const NAME: u32 = Nu;` (the type and the u optional) on a
 * line of its own in src, outside // comments; 0 if there is none. */
static int wgsl_const(const char *src, const char *name, unsigned *out) {
    size_t nl = strlen(name);
    for (const char *l = src; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
        const char *c = l;
        while (*c == ' ' || *c == '\t') c++;
        if (strncmp(c, "const", 5) || (c[5] != ' ' && c[5] != '\t')) continue;
        c += 5;
        while (*c == ' ' || *c == '\t') c++;
        if (strncmp(c, name, nl) || c[nl] == '_' || (c[nl] >= '0' && c[nl] <= '9') ||
            ((c[nl] | 32) >= 'a' && (c[nl] | 32) <= 'z'))
            continue;
        c += nl;
        while (*c == ' ' || *c == '\t') c++;
        if (*c == ':') {
            c++;
            while (*c == ' ' || *c == '\t') c++;
            if (strncmp(c, "u32", 3)) continue;
            c += 3;
            while (*c == ' ' || *c == '\t') c++;
        }
        if (*c++ != '=') continue;
        while (*c == ' ' || *c == '\t') c++;
        char *end;
        unsigned long v = strtoul(c, &end, 0);
        if (end == c) continue;
        c = end;
        if (*c == 'u') c++;
        while (*c == ' ' || *c == '\t') c++;
        if (*c != ';' || v > 0xffffffffu) continue;
        *out = (unsigned)v;
        return 1;
    }
    return 0;
}

/* The workgroup size a kernel's source declares: @workgroup_size(N), or a
 * constant's name resolved in src, then in common.wgsl (WG); 0 unknown. */
static unsigned wgsl_workgroup_size(const char *src) {
    const char *c = strstr(src, "@workgroup_size(");
    if (!c) return 0;
    c += strlen("@workgroup_size(");
    while (*c == ' ') c++;
    char name[64];
    size_t n = strcspn(c, " ,)");
    if (n == 0 || n >= sizeof name) return 0;
    memcpy(name, c, n);
    name[n] = 0;
    unsigned v = 0;
    if (name[0] >= '0' && name[0] <= '9') return (unsigned)strtoul(name, NULL, 0);
    if (wgsl_const(src, name, &v)) return v;
    const char *common = embedded("common.wgsl");
    if (common && wgsl_const(common, name, &v)) return v;
    return 0;
}

/* -k PATH: the file read, its tile from its source; exits on an error. */
static void load_mm(mm_variant *v, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "-k %s: cannot open it\n", path); exit(2); }
    size_t cap = 1 << 16, n = 0;
    char *src = malloc(cap);
    for (size_t got; src && (got = fread(src + n, 1, cap - n - 1, f)) > 0;) {
        n += got;
        if (n + 1 == cap) src = realloc(src, cap *= 2);
    }
    fclose(f);
    if (!src) { fprintf(stderr, "out of memory\n"); exit(2); }
    src[n] = 0;
    const char *base = strrchr(path, '/');
    v->name = base ? base + 1 : path;
    v->src = src;
    if (!wgsl_const(src, "TR", &v->tr) || !wgsl_const(src, "TT", &v->tt)) {
        fprintf(stderr, "-k %s: no `const TR: u32 = Nu;` and `const TT: u32 = Nu;` lines (rows and tokens a workgroup)\n",
                path);
        exit(2);
    }
    if (v->tr < 1 || v->tt < 1) { fprintf(stderr, "-k %s: TR and TT must be at least 1\n", path); exit(2); }
    v->wg = wgsl_workgroup_size(src);
}

/* A matmul body composed as kernels_get composes matmul.wgsl without a
 * bias (the same parts in the same order, so line numbers in errors match):
 * f32 rows of x (matmul_x_f32.wgsl) unless the body binds X itself, and
 * MMI8_KB (matmul_i8.wgsl's blocks a stage) where it names one it does not
 * declare: the variant's, else the engine's. */
static gpu_kernel *make_matmul(gpu_device *d, const dtype_info *t, const mm_variant *v, char *err, size_t errlen) {
    char i8[40], kb[96] = "";
    snprintf(i8, sizeof i8, "mmi8_%s.wgsl", t->name); /* the 8-bit path's snippet, where the format has one */
    if (strstr(v->src, "MMI8_KB") && !strstr(v->src, "const MMI8_KB"))
        snprintf(kb, sizeof kb, "const MMI8_KB: u32 = %uu;", v->kb ? v->kb : kernels_mmi8_blocks());
    /* matmul_common.wgsl too, unless the file declares its Params itself
     * (older versions), unsplit (its MM_SPLIT) */
    const char *shared = strstr(v->src, "struct Params") ? "" : embedded("matmul_common.wgsl");
    if (*shared) strcat(kb, "\nconst MM_SPLIT: bool = false;");
    const char *xf32 = strstr(v->src, "binding(2)") ? "" : embedded("matmul_x_f32.wgsl");
    const char *fshared = kernels_format_shared(t->gpu_slot);
    /* step_rows.wgsl where matmul_common.wgsl is (its put names step_row) */
    const char *parts[9] = {embedded("common.wgsl"), fshared ? embedded(fshared) : "", embedded(t->wgsl), embedded(i8),
                            xf32, shared, embedded("matmul_nobias.wgsl"), v->src, *shared ? embedded("step_rows.wgsl") : ""};
    if (!parts[3]) parts[3] = "";
    size_t len = 16 + strlen(kb);
    for (int i = 0; i < 9; i++) {
        if (!parts[i]) { set_err(err, errlen, "kernel source missing (%s)", i == 2 ? t->wgsl : "common/nobias"); return NULL; }
        len += strlen(parts[i]) + 1;
    }
    char *src = malloc(len);
    if (!src) { set_err(err, errlen, "out of memory"); return NULL; }
    sprintf(src, "\n\n%s\n\n%s\n%s\n%s\n%s\n%s%s\n%s\n\n%s\n%s\n", kb, parts[0], parts[1], parts[2], parts[3], parts[4],
            parts[5], parts[6], parts[7], parts[8]);
    gpu_kernel *k = gpu_kernel_create(d, src, v->name, err, errlen);
    free(src);
    return k;
}

/* Whether variant v reads x as quant_act.wgsl leaves it: 8-bit products
 * (the engine's for Q8_0 and Q4_0, a -k body of dot4I8Packed) in steps of
 * several tokens. */
static int reads_xq(const mm_variant *v, const dtype_info *t, int tokens) {
    return tokens > 1 && kernels_matmul_i8(t->gpu_slot) && (!v->src || strstr(v->src, "dot4I8Packed"));
}

/* One output against the CPU: its error in units of 2e-5 of sum |w x| (as
 * tests/unit/test_kernels.c's matmul checks), counted bad past 1, and the
 * worst so far (a NaN is both). */
static void judge(double got, double want, double mag, int *bad, double *worst) {
    double e = fabs(got - want) / (2e-5 * mag + 1e-30);
    if (!(e <= 1.0)) (*bad)++;
    if (!(e <= *worst)) *worst = e;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    gpu_device *dev;
    kernel_registry ks;
    int reps, quick;
    int tokens;     /* -n */
    double bw;      /* GB/s the table compares with (one token) */
    double tflops;  /* TFLOP/s the table compares with (a prompt) */
    mm_variant mm[MAX_MM];
    int n_mm;
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

/* Adds i to the set (of at most cap) unless it is there or out of [0, n). */
static int add_index(int *set, int count, int cap, int i, int n) {
    if (i < 0 || i >= n || count >= cap) return count;
    for (int j = 0; j < count; j++)
        if (set[j] == i) return count;
    set[count++] = i;
    return count;
}

/* The indices of 0 .. n-1 the check covers: the ends, a few random ones,
 * and both sides of the first tile boundary and of the last tile's start
 * for every tile size in tiles. Sorted. */
static int sample_indices(int *set, int cap, int n, const unsigned *tiles, int n_tiles) {
    int c = 0;
    c = add_index(set, c, cap, 0, n);
    c = add_index(set, c, cap, 1, n);
    c = add_index(set, c, cap, n - 1, n);
    c = add_index(set, c, cap, n - 2, n);
    for (int i = 0; i < n_tiles; i++) {
        int t = (int)tiles[i], last = (n - 1) / t * t;
        c = add_index(set, c, cap, t - 1, n);
        c = add_index(set, c, cap, t, n);
        c = add_index(set, c, cap, last - 1, n);
        c = add_index(set, c, cap, last, n);
    }
    for (int i = 0; i < 6; i++) c = add_index(set, c, cap, (int)(rnd32() % (uint32_t)n), n);
    qsort(set, (size_t)c, sizeof *set, cmp_int);
    return c;
}

/* The median in ns of B->reps timed dispatches of k (after some to warm
 * up), rotating over the copies' bindings; -1 without timestamps. */
static double time_kernel(bench *B, gpu_kernel *k, gpu_bindings **bg, int copies, uint32_t wgs) {
    char err[512];
    int reps = B->reps, warm = copies < 8 ? copies : 8;
    gpu_begin(B->dev);
    for (int i = 0; i < warm; i++) gpu_dispatch_1d(B->dev, k, bg[i % copies], wgs);
    if (gpu_submit(B->dev, err, sizeof err) != 0 || gpu_finish(B->dev, err, sizeof err) != 0) { fprintf(stderr, "%s\n", err); exit(1); }
    double *ns = malloc((size_t)reps * sizeof *ns), med = -1;
    if (ns && gpu_get_limits(B->dev)->has_timestamp && gpu_profile_begin(B->dev, reps, err, sizeof err) == 0) {
        gpu_begin(B->dev);
        for (int i = 0; i < reps; i++) gpu_dispatch_1d(B->dev, k, bg[i % copies], wgs);
        int n = -1;
        if (gpu_submit(B->dev, err, sizeof err) == 0 && gpu_finish(B->dev, err, sizeof err) == 0)
            n = gpu_profile_end(B->dev, ns, reps, err, sizeof err);
        if (n > 0) { qsort(ns, (size_t)n, sizeof *ns, cmp_double); med = ns[n / 2]; }
    }
    free(ns);
    return med;
}

/* --peak: the arithmetic rates the matmul kernels are held to, measured
 * through this WebGPU rather than taken from the GPU's data sheet: f32
 * fma, and dot4I8Packed (four 8-bit multiply-adds, the 8-bit product's
 * instruction), each lane running 16 independent chains so that latency
 * hides behind the others, over enough workgroups to fill any GPU. A chain
 * feeds its own result back as an operand, so nothing is invariant in the
 * loop, and the sums are stored, so nothing is dead. */
static const char peak_src[] =
    "@group(0) @binding(0) var<storage, read_write> O: array<u32>;\n"
    "@group(0) @binding(1) var<uniform> P: vec4<u32>; // iterations, operand bits\n"
    "@compute @workgroup_size(256)\n"
    "fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>,\n"
    "        @builtin(num_workgroups) nwg: vec3<u32>) {\n"
    "  let i = (wid.x + wid.y * nwg.x) * 256u + li;\n"
    "  var a: array<T, 16>;\n"
    "  for (var c = 0u; c < 16u; c++) { a[c] = T(i + c); }\n"
    "  for (var k = 0u; k < P.x; k++) {\n"
    "    for (var c = 0u; c < 16u; c++) { a[c] = STEP; }\n"
    "  }\n"
    "  var s = T(0);\n"
    "  for (var c = 0u; c < 16u; c++) { s += a[c]; }\n"
    "  O[i] = bitcast<u32>(s);\n"
    "}\n";

static void run_peak(bench *B) {
    const struct { const char *name, *type, *step; double ops; } kinds[2] = {
        {"f32 fma", "f32", "fma(a[c], bitcast<f32>(P.y), bitcast<f32>(P.z))", 2},
        {"dot4I8Packed", "i32", "a[c] + dot4I8Packed(bitcast<u32>(a[c]), P.y)", 8},
    };
    const uint32_t wgs = 8192, iters = B->quick ? 16 : 2048;
    char err[512];
    gpu_buffer *ob = gpu_buffer_create(B->dev, (uint64_t)wgs * 256 * 4, GPU_STORAGE, "peak out");
    gpu_buffer *pb = gpu_buffer_create(B->dev, 16, GPU_UNIFORM, "peak params");
    float one = 0.999f, tiny = 1e-7f;
    uint32_t params[4] = {iters, 0, 0, 0};
    memcpy(&params[1], &one, 4);
    memcpy(&params[2], &tiny, 4);
    if (!ob || !pb) { fprintf(stderr, "cannot allocate the peak buffers\n"); exit(1); }
    gpu_buffer_write(B->dev, pb, 0, params, sizeof params);
    for (int i = 0; i < 2; i++) {
        char src[2048];
        snprintf(src, sizeof src, "alias T = %s;\n%s", kinds[i].type, peak_src);
        char *at = strstr(src, "STEP"), rest[1024];
        snprintf(rest, sizeof rest, "%s", at + 4);
        snprintf(at, sizeof src - (size_t)(at - src), "%s%s", kinds[i].step, rest);
        gpu_kernel *k = gpu_kernel_create(B->dev, src, kinds[i].name, err, sizeof err);
        gpu_binding b[2] = {{ob, 0, 0}, {pb, 0, 0}};
        gpu_bindings *bg = k ? gpu_bindings_create(B->dev, k, b, 2, err, sizeof err) : NULL;
        if (!bg) { fprintf(stderr, "%s: %s\n", kinds[i].name, err); exit(1); }
        double ns = time_kernel(B, k, &bg, 1, wgs);
        double ops = (double)wgs * 256 * iters * 16 * kinds[i].ops;
        printf("peak %-13s %9.1f us  %8.1f T%s/s (%.0f%% of --tflops %.1f)\n", kinds[i].name, ns / 1e3,
               ns > 0 ? ops / ns / 1e3 : 0.0, i ? "OP" : "FLOP", ns > 0 ? 100 * ops / ns / 1e3 / B->tflops : 0.0,
               B->tflops);
        gpu_bindings_free(bg);
        gpu_kernel_free(k);
    }
    gpu_buffer_free(ob);
    gpu_buffer_free(pb);
}

/* x (T rows of cols floats in xb) quantized into a new *xq by the engine's
 * quant_act.wgsl, its every block checked bit for bit against want (x as
 * quantize_act_q8_fake leaves it: each quant times its scale must be that
 * value, and the sums the quants' sums), then timed; prints its row and
 * returns the median ns (-1: no timestamps). */
static double run_quant(bench *B, const dtype_info *t, gpu_buffer *xb, gpu_buffer *sb, const float *want, int T,
                        int rows, int cols, gpu_buffer **xq) {
    char err[512];
    uint64_t blocks = (uint64_t)T * (uint64_t)(cols / 32), bytes = op_quant_act_bytes(T, cols), nb = bytes / 40;
    uint32_t params[4] = {(uint32_t)cols, (uint32_t)cols, 0, 0}, wgs = (uint32_t)((blocks + 63) / 64);
    gpu_kernel *k = kernels_get(&B->ks, KERNEL_QUANT_ACT, 0, KV_PLAIN, err, sizeof err);
    gpu_buffer *pb = gpu_buffer_create(B->dev, sizeof params, GPU_UNIFORM, "quant params");
    *xq = gpu_buffer_create(B->dev, bytes, GPU_STORAGE, "xq");
    uint32_t *w = malloc(bytes);
    if (!k) { printf("%-5s %6dx%-5d %-18s does not compile: %s\n", t->name, rows, cols, "quant_act", err); exit(1); }
    if (!pb || !*xq || !w) { fprintf(stderr, "cannot allocate the quantized x\n"); exit(1); }
    gpu_buffer_write(B->dev, pb, 0, params, sizeof params);
    gpu_binding b[4] = {{pb, 0, 16}, {xb, 0, 0}, {*xq, 0, 0}, {sb, 0, STEP_UNIFORM_BYTES}};
    gpu_bindings *bg = gpu_bindings_create(B->dev, k, b, 4, err, sizeof err);
    if (!bg) { fprintf(stderr, "quant_act: %s\n", err); exit(1); }
    gpu_begin(B->dev);
    gpu_dispatch_1d(B->dev, k, bg, wgs);
    if (read_floats(B->dev, *xq, (float *)w, bytes / 4, err, sizeof err) != 0) { fprintf(stderr, "%s\n", err); exit(1); }
    uint64_t bad = 0;
    for (uint64_t i = 0; i < blocks; i++) {
        float d;
        memcpy(&d, &w[8 * nb + 2 * i], 4);
        int32_t sum = 0;
        for (int j = 0; j < 32; j++) {
            int q = (int8_t)(w[8 * i + j / 4] >> (8 * (j % 4)));
            sum += q;
            if ((float)q * d != want[32 * i + (uint64_t)j]) { bad++; break; }
        }
        if ((int32_t)w[8 * nb + 2 * i + 1] != sum) bad++;
    }
    double med = time_kernel(B, k, &bg, 1, wgs);
    if (bad) B->failures++;
    char timing[64] = "no timestamps", errs[32];
    if (med > 0) snprintf(timing, sizeof timing, "%9.2f", med / 1e3);
    snprintf(errs, sizeof errs, "%llu blk", (unsigned long long)bad);
    printf("%-5s %6dx%-5d %-18s %4s %9s  %s\n", t->name, rows, cols, "quant_act (x)", bad ? "BAD" : "ok", errs, timing);
    gpu_bindings_free(bg);
    gpu_buffer_free(pb);
    free(w);
    return med;
}

/* The engine's split-K of a product (op_matmul, as a decoder with a batch
 * of T records it, with its scratch): a graph over each copy of W, as
 * time_kernel rotates over them; parts 1 where the engine does not split it. */
typedef struct { graph **g; int parts; gpu_buffer *part; uint64_t part_bytes; } split_run;

static split_run split_graphs(bench *B, const dtype_info *t, gpu_buffer **w, int copies, int rows, int cols,
                              gpu_buffer *x, gpu_buffer *xq, gpu_buffer *y, gpu_buffer *step, int T) {
    split_run s = {calloc((size_t)copies, sizeof(graph *)), 1, NULL, op_matmul_partials_bytes(T, rows)};
    if (!s.g || !(s.part = gpu_buffer_create(B->dev, s.part_bytes, GPU_STORAGE, "mm_part"))) {
        fprintf(stderr, "cannot allocate the split-K scratch\n");
        exit(1);
    }
    dtype_gpu_layout lay = dtype_gpu_layout_of(t, (uint64_t)rows, (uint64_t)cols);
    for (int i = 0; i < copies; i++) {
        gpu_matrix m = {t->id, t->gpu_slot, rows, cols, (uint32_t)(lay.row_bytes / 4), 1, rows, {w[i]}};
        if (!(s.g[i] = graph_create(B->dev, &B->ks, step))) { fprintf(stderr, "out of memory\n"); exit(1); }
        graph_set_scratch(s.g[i], s.part, s.part_bytes, (uint32_t)T);
        op_matmul(s.g[i], &m, x, y, &(matmul_opts){.many_only = 1, .xq = xq});
        if (graph_error(s.g[i])) { fprintf(stderr, "split-K: %s\n", graph_error(s.g[i])); exit(1); }
        if (!i) s.parts = op_matmul_k_parts(s.g[i], &m, rows);
    }
    return s;
}

static void free_split(split_run *s, int copies) {
    for (int i = 0; i < copies && s->g; i++) graph_free(s->g[i]);
    free(s->g);
    gpu_buffer_free(s->part);
    memset(s, 0, sizeof *s);
}

/* time_kernel for graphs: the median over replays of each replay's
 * dispatches summed (split-K's product and its reduction). */
static double time_graphs(bench *B, graph **g, int copies, int T) {
    char err[512];
    step_params run = {.n_tokens = (uint32_t)T, .n_out = (uint32_t)T};
    int reps = B->reps, warm = copies < 8 ? copies : 8, per;
    for (int i = 0; i < warm; i++) graph_replay(g[i % copies], &run, 0);
    graph_last_dispatches(g[(warm - 1) % copies], &per);
    if (gpu_submit(B->dev, err, sizeof err) != 0 || gpu_finish(B->dev, err, sizeof err) != 0) { fprintf(stderr, "%s\n", err); exit(1); }
    double *ns = malloc((size_t)reps * (size_t)per * sizeof *ns), med = -1;
    if (ns && per > 0 && gpu_get_limits(B->dev)->has_timestamp &&
        gpu_profile_begin(B->dev, reps * per, err, sizeof err) == 0) {
        for (int i = 0; i < reps; i++) graph_replay(g[i % copies], &run, 0);
        int n = -1;
        if (gpu_submit(B->dev, err, sizeof err) == 0 && gpu_finish(B->dev, err, sizeof err) == 0)
            n = gpu_profile_end(B->dev, ns, reps * per, err, sizeof err);
        for (int i = 0; i < n / per; i++) { /* each replay's sum, in place */
            double sum = 0;
            for (int j = 0; j < per; j++) sum += ns[i * per + j];
            ns[i] = sum;
        }
        if (n / per > 0) { qsort(ns, (size_t)(n / per), sizeof *ns, cmp_double); med = ns[n / per / 2]; }
    }
    free(ns);
    return med;
}

static void run_case(bench *B, uint32_t type, int rows, int cols) {
    char err[1024];
    const int T = B->tokens;
    const dtype_info *t = dtype_of(type);
    B->mm[0].tr = kernels_matmul_rows(t->gpu_slot);
    const gpu_limits *L = gpu_get_limits(B->dev);
    dtype_gpu_layout lay = dtype_gpu_layout_of(t, (uint64_t)rows, (uint64_t)cols);
    uint64_t lim = L->max_storage_binding;
    if (L->max_buffer_size < lim) lim = L->max_buffer_size;
    if ((uint64_t)T * (uint64_t)cols * 4 > lim) {
        printf("%-5s %6dx%-5d: X of %d tokens does not fit one binding; skipped\n", t->name, rows, cols, T);
        return;
    }
    if (lay.bytes > lim || (uint64_t)T * (uint64_t)rows * 4 > lim) {
        int r = (int)(lim / (lay.row_bytes + lay.scale_row_bytes));
        if ((uint64_t)r > lim / 4 / (uint64_t)T) r = (int)(lim / 4 / (uint64_t)T);
        while (dtype_gpu_layout_of(t, (uint64_t)r, (uint64_t)cols).bytes > lim) r--;
        printf("%-5s %6dx%-5d: %d rows fit one binding; timing those\n", t->name, rows, cols, r);
        rows = r;
        lay = dtype_gpu_layout_of(t, (uint64_t)rows, (uint64_t)cols);
    }
    uint64_t bytes = lay.bytes;
    size_t ny = (size_t)T * (size_t)rows;
    /* Enough copies that one pass over them all is well past the L2. */
    int copies = B->quick ? 1 : (int)((256ull << 20) / bytes) + 1;
    if (copies > 64) copies = 64;
    /* The outputs checked: every row of the tokens st[], every token of the
     * rows sr[] (one token: all of Y, through st = {0}). */
    unsigned ttiles[MAX_MM], rtiles[MAX_MM];
    for (int i = 0; i < B->n_mm; i++) { ttiles[i] = B->mm[i].tt; rtiles[i] = B->mm[i].tr; }
    int cap = 16 + 4 * B->n_mm;
    int *st = malloc((size_t)cap * sizeof *st), *sr = malloc((size_t)cap * sizeof *sr), *row_at = malloc((size_t)rows * sizeof *row_at);
    int nst = sample_indices(st, cap, T, ttiles, B->n_mm);
    int nsr = T > 1 ? sample_indices(sr, cap, rows, rtiles, B->n_mm) : 0;
    uint64_t src_row = dtype_row_bytes(t, (uint64_t)cols);
    uint8_t *src = malloc(rows * src_row);
    uint8_t *gpu_bytes = calloc(1, bytes);
    float *x = malloc((size_t)T * cols * 4), *wrow = malloc((size_t)cols * 4), *y = malloc(ny * 4);
    /* want[r * nst + s]: row r of token st[s]; want_r[i * T + t]: row sr[i] of token t; mag: sum |w x| */
    double *want = malloc((size_t)rows * nst * sizeof *want), *mag = malloc((size_t)rows * nst * sizeof *mag);
    double *want_r = malloc(((size_t)nsr * T + 1) * sizeof *want_r), *mag_r = malloc(((size_t)nsr * T + 1) * sizeof *mag_r);
    double *want_n = malloc((size_t)rows * sizeof *want), *mag_n = malloc((size_t)rows * sizeof *mag);
    float *nw = malloc((size_t)cols * 4);
    /* And all of Y, more loosely (Freivalds): for every token, a random
     * combination of its rows (v) against X (W^T v); for every row, a random
     * combination of the tokens (q) against W (X^T q); the bound is the rule's,
     * summed: 2e-5 of sum |v w x| (of sum |q w x|). Only an error well past
     * one output's tolerance shows there, but it shows wherever it is. */
    int fr = T > 1;
    double *v_r = calloc(fr ? (size_t)rows : 1, sizeof(double)), *q_t = calloc((size_t)T, sizeof(double));
    double *u = calloc((size_t)cols, sizeof(double)), *ua = calloc((size_t)cols, sizeof(double));
    double *xq = calloc((size_t)cols, sizeof(double)), *xqa = calloc((size_t)cols, sizeof(double));
    double *want_a = calloc((size_t)T, sizeof(double)), *mag_a = calloc((size_t)T, sizeof(double));
    double *want_b = calloc((size_t)rows, sizeof(double)), *mag_b = calloc((size_t)rows, sizeof(double));
    if (!v_r || !q_t || !u || !ua || !xq || !xqa || !want_a || !mag_a || !want_b || !mag_b) { fprintf(stderr, "out of memory\n"); exit(1); }
    if (!st || !sr || !row_at || !src || !gpu_bytes || !x || !wrow || !y || !want || !mag || !want_r || !mag_r || !want_n ||
        !mag_n || !nw) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (int r = 0; r < rows; r++) row_at[r] = -1;
    for (int i = 0; i < nsr; i++) row_at[sr[i]] = i;
    double ss = 0;
    for (int c = 0; c < cols; c++) { x[c] = frand(); nw[c] = frand() + 1.5f; ss += (double)x[c] * x[c]; }
    for (size_t i = (size_t)cols; i < (size_t)T * cols; i++) x[i] = frand();
    /* The GPU is given x; for Q8_0 and Q4_0 in steps of several tokens the
     * engine quantizes it per block of 32 (quant_act.wgsl, for
     * matmul_i8.wgsl), so the CPU's sums take it as quantize_act_q8_fake
     * leaves it (-k kernels of f32 products are then checked against that
     * too, and show it). */
    float *x_gpu = x;
    if (T > 1 && quant_int8_matmul(type)) {
        if (!(x_gpu = malloc((size_t)T * cols * 4))) { fprintf(stderr, "out of memory\n"); exit(1); }
        memcpy(x_gpu, x, (size_t)T * cols * 4);
        quantize_act_q8_fake(x, x, (int64_t)T * cols);
    }
    if (fr) {
        for (int r = 0; r < rows; r++) v_r[r] = frand();
        for (int tk = 0; tk < T; tk++) {
            q_t[tk] = frand();
            for (int c = 0; c < cols; c++) {
                double p = q_t[tk] * x[(size_t)tk * cols + c];
                xq[c] += p;
                xqa[c] += fabs(p);
            }
        }
    }
    const float eps = 1e-5f;
    double rms_inv = 1.0 / sqrt(ss / cols + eps);
    for (int r = 0; r < rows; r++) {
        random_row(type, src + (size_t)r * src_row, cols);
        dtype_repack_row(t, src + (size_t)r * src_row, gpu_bytes + (size_t)r * lay.row_bytes,
                         gpu_bytes + lay.scales_at + (size_t)r * lay.scale_row_bytes, cols);
        dequantize_row(type, src + (size_t)r * src_row, wrow, cols);
        for (int s = 0; s < nst; s++) {
            const float *xt = x + (size_t)st[s] * cols;
            double a = 0, m = 0;
            for (int c = 0; c < cols; c++) {
                double p = (double)wrow[c] * xt[c];
                a += p;
                m += fabs(p);
            }
            want[(size_t)r * nst + s] = a;
            mag[(size_t)r * nst + s] = m;
        }
        if (row_at[r] >= 0)
            for (int tk = 0; tk < T; tk++) {
                const float *xt = x + (size_t)tk * cols;
                double a = 0, m = 0;
                for (int c = 0; c < cols; c++) {
                    double p = (double)wrow[c] * xt[c];
                    a += p;
                    m += fabs(p);
                }
                want_r[(size_t)row_at[r] * T + tk] = a;
                mag_r[(size_t)row_at[r] * T + tk] = m;
            }
        if (fr) {
            double b = 0, mb = 0;
            for (int c = 0; c < cols; c++) {
                double vw = v_r[r] * wrow[c];
                u[c] += vw;
                ua[c] += fabs(vw);
                b += (double)wrow[c] * xq[c];
                mb += fabs((double)wrow[c]) * xqa[c];
            }
            want_b[r] = b;
            mag_b[r] = mb;
        }
        if (T == 1) { /* the RMSNorm of x folded in (matvec's norm variants) */
            double an = 0, mn = 0;
            for (int c = 0; c < cols; c++) {
                an += (double)wrow[c] * x[c] * rms_inv * nw[c];
                mn += fabs((double)wrow[c] * x[c] * rms_inv * nw[c]);
            }
            want_n[r] = an;
            mag_n[r] = mn;
        }
    }
    for (int tk = 0; fr && tk < T; tk++) {
        double a = 0, m = 0;
        for (int c = 0; c < cols; c++) {
            a += x[(size_t)tk * cols + c] * u[c];
            m += fabs(x[(size_t)tk * cols + c]) * ua[c];
        }
        want_a[tk] = a;
        mag_a[tk] = m;
    }
    gpu_buffer **w = calloc((size_t)copies, sizeof *w);
    for (int i = 0; i < copies; i++) {
        w[i] = gpu_buffer_create(B->dev, bytes, GPU_STORAGE, "w");
        if (!w[i]) { fprintf(stderr, "cannot allocate %d copies of %llu bytes\n", copies, (unsigned long long)bytes); exit(1); }
        gpu_buffer_write(B->dev, w[i], 0, gpu_bytes, bytes);
    }
    gpu_buffer *xb = gpu_buffer_create(B->dev, (uint64_t)T * cols * 4, GPU_STORAGE, "x");
    gpu_buffer *yb = gpu_buffer_create(B->dev, (uint64_t)ny * 4, GPU_STORAGE, "y");
    gpu_buffer *nb = gpu_buffer_create(B->dev, (uint64_t)cols * 4, GPU_STORAGE, "norm");
    gpu_buffer *pb = gpu_buffer_create(B->dev, 48, GPU_UNIFORM, "params");
    gpu_buffer *mpb = gpu_buffer_create(B->dev, 48, GPU_UNIFORM, "matmul params");
    gpu_buffer *sb = gpu_buffer_create(B->dev, STEP_UNIFORM_BYTES, GPU_UNIFORM, "step");
    if (!xb || !yb || !nb || !pb || !mpb || !sb) { fprintf(stderr, "cannot allocate X, Y or the uniforms\n"); exit(1); }
    gpu_buffer_write(B->dev, nb, 0, nw, (size_t)cols * 4);
    gpu_buffer_write(B->dev, xb, 0, x_gpu, (size_t)T * cols * 4);
    if (x_gpu != x) free(x_gpu);
    /* rows, cols, row_offset 0, out_stride rows, in_stride cols, accumulate 0, rows_mode 0, w_first 0,
       then matvec's eps and x_row 0, or matmul.wgsl's k_splits 1 and k_span cols (not split) */
    uint32_t params[12] = {(uint32_t)rows, (uint32_t)cols, 0, (uint32_t)rows, (uint32_t)cols, 0, 0, 0, 0, 0, 0, 0};
    uint32_t mm_params[12] = {(uint32_t)rows, (uint32_t)cols, 0, (uint32_t)rows, (uint32_t)cols, 0, 0, 0, 1,
                              (uint32_t)cols, 0, 0};
    memcpy(&params[8], &eps, 4);
    uint32_t step[4] = {0, (uint32_t)T, 0, (uint32_t)T}; /* pos0, n_tokens, out_first, n_out */
    gpu_buffer_write(B->dev, pb, 0, params, sizeof params);
    gpu_buffer_write(B->dev, mpb, 0, mm_params, sizeof mm_params);
    gpu_buffer_write(B->dev, sb, 0, step, sizeof step);
    /* The 8-bit products read x quantized once (quant_act.wgsl), as the
     * engine's steps do: timed apart, and with each product. */
    gpu_buffer *xqb = NULL;
    double quant_ns = T > 1 && kernels_matmul_i8(t->gpu_slot) ? run_quant(B, t, xb, sb, x, T, rows, cols, &xqb) : -1;

    /* The matmul kernels first, then (a prompt) the engine's split-K (op_matmul in a graph), or (one
     * token) matvec.wgsl's variants. */
    split_run sp = {NULL, 1, NULL, 0};
    char split_name[32];
    for (int v = 0; v < B->n_mm + (T == 1 ? N_VARIANTS : 1); v++) {
        const mm_variant *M = v < B->n_mm ? &B->mm[v] : NULL;
        int SP = !M && T > 1;
        const variant *V = M || SP ? NULL : &variants[v - B->n_mm];
        const char *name = M ? M->name : V ? V->name : split_name;
        gpu_kernel *k = NULL;
        uint32_t wgs = 0;
        int fused = V ? V->fused : 0;
        /* 8-bit kernels (the engine's for Q8_0/Q4_0, another MMI8_KB, a -k body of dot4I8Packed) read x
         * quantized, which only steps of several tokens make: a one-token step takes matvec.wgsl */
        if (M && (M->kb || reads_xq(M, t, 2)) && !xqb) continue;
        if (SP) {
            sp = split_graphs(B, t, w, copies, rows, cols, xb, xqb, yb, sb, T);
            snprintf(split_name, sizeof split_name, sp.parts > 1 ? "split-K x%d" : "split-K (none)", sp.parts);
        } else if (M) {
            k = M->src ? make_matmul(B->dev, t, M, err, sizeof err)
                       : kernels_get(&B->ks, KERNEL_MATMUL, t->gpu_slot, KV_PLAIN, err, sizeof err);
            /* as ops.c: a workgroup a tile of TR rows by TT tokens, row tiles fastest */
            wgs = (((uint32_t)rows + M->tr - 1) / M->tr) * (((uint32_t)T + M->tt - 1) / M->tt);
        } else {
            char fname[64];
            snprintf(fname, sizeof fname, "mvfmt_%s%s.wgsl", t->name, V->fmt);
            if (!embedded(fname)) continue;
            if (V->ks && (strcmp(B->ks.reduce, "reduce_subgroup.wgsl") || B->ks.group_slots % (uint32_t)V->ks)) continue;
            k = make_matvec(B->dev, &B->ks, t, V, err, sizeof err);
            uint32_t per_wg = B->ks.group_slots / (V->ks ? (uint32_t)V->ks : 1u) * (uint32_t)V->rows;
            wgs = ((uint32_t)rows + per_wg - 1) / per_wg;
        }
        if (!k && !SP) { printf("%-5s %6dx%-5d %-18s does not compile: %s\n", t->name, rows, cols, name, err); B->failures++; continue; }
        gpu_bindings **bg = calloc((size_t)copies, sizeof *bg);
        for (int i = 0; !SP && i < copies; i++) {
            gpu_buffer *xin = M && reads_xq(M, t, T) ? xqb : xb;
            gpu_binding plain[5] = {{M ? mpb : pb, 0, 48}, {w[i], 0, 0}, {xin, 0, 0}, {yb, 0, 0}, {sb, 0, STEP_UNIFORM_BYTES}};
            gpu_binding norm[6] = {{pb, 0, 48}, {w[i], 0, 0}, {xb, 0, 0}, {yb, 0, 0}, {nb, 0, 0}, {sb, 0, STEP_UNIFORM_BYTES}};
            gpu_binding glu[7] = {{pb, 0, 48}, {w[i], 0, 0}, {xb, 0, 0}, {yb, 0, 0}, {nb, 0, 0}, {w[i], 0, 0}, {sb, 0, STEP_UNIFORM_BYTES}};
            gpu_binding *b = fused == 2 ? glu : fused ? norm : plain;
            if (!(bg[i] = gpu_bindings_create(B->dev, k, b, 5 + fused, err, sizeof err))) { fprintf(stderr, "%s: %s\n", name, err); exit(1); }
        }
        /* correctness: Y poisoned first, so an unwritten output shows */
        for (size_t i = 0; i < ny; i++) y[i] = NAN;
        gpu_buffer_write(B->dev, yb, 0, y, ny * 4);
        if (SP) {
            step_params run = {.n_tokens = (uint32_t)T, .n_out = (uint32_t)T};
            if (graph_replay(sp.g[0], &run, 0) != 0) { fprintf(stderr, "split-K: %s\n", graph_error(sp.g[0])); exit(1); }
        } else {
            gpu_begin(B->dev);
            gpu_dispatch_1d(B->dev, k, bg[0], wgs);
        }
        if (read_floats(B->dev, yb, y, ny, err, sizeof err) != 0) { fprintf(stderr, "%s\n", err); exit(1); }
        double worst = 0;
        int bad = 0;
        for (int s = 0; s < nst; s++)
            for (int r = 0; r < rows; r++) {
                double wr = fused ? want_n[r] : want[(size_t)r * nst + s], mr = fused ? mag_n[r] : mag[(size_t)r * nst + s];
                if (fused == 2) { /* SiLU(g) * g, and its sensitivity to g's error: d/dg g^2 s(g) */
                    double sg = 1 / (1 + exp(-wr)), d = fabs(2 * wr * sg + wr * wr * sg * (1 - sg)) + 1;
                    mr *= d;
                    wr = wr * sg * wr;
                }
                judge(y[(size_t)st[s] * rows + r], wr, mr, &bad, &worst);
            }
        for (int i = 0; i < nsr; i++)
            for (int tk = 0; tk < T; tk++)
                judge(y[(size_t)tk * rows + sr[i]], want_r[(size_t)i * T + tk], mag_r[(size_t)i * T + tk], &bad, &worst);
        for (int tk = 0; fr && tk < T; tk++) { /* every row of token tk, combined */
            double a = 0;
            for (int r = 0; r < rows; r++) a += v_r[r] * y[(size_t)tk * rows + r];
            judge(a, want_a[tk], mag_a[tk], &bad, &worst);
        }
        for (int r = 0; fr && r < rows; r++) { /* every token of row r, combined */
            double b = 0;
            for (int tk = 0; tk < T; tk++) b += q_t[tk] * y[(size_t)tk * rows + r];
            judge(b, want_b[r], mag_b[r], &bad, &worst);
        }
        size_t unwritten = 0; /* anywhere, sampled or not */
        for (size_t i = 0; i < ny; i++)
            if (!isfinite(y[i])) unwritten++;
        if (unwritten) { bad++; worst = INFINITY; }
        double med = SP ? time_graphs(B, sp.g, copies, T) : time_kernel(B, k, bg, copies, wgs);
        if (bad) B->failures++;
        char timing[64] = "no timestamps";
        if (med > 0 && T > 1) { /* flops a nanosecond / 1e3: TFLOP/s */
            double tf = 2.0 * rows * cols * T / med / 1e3;
            snprintf(timing, sizeof timing, "%9.2f %8.2f %6.1f%%", med / 1e3, tf, 100.0 * tf / B->tflops);
        } else if (med > 0)
            snprintf(timing, sizeof timing, "%9.2f %8.1f %6.1f%%", med / 1e3, bytes * (fused == 2 ? 2 : 1) / med,
                     100.0 * bytes * (fused == 2 ? 2 : 1) / med / B->bw);
        char errs[32];
        if (unwritten) snprintf(errs, sizeof errs, "%zu NaN", unwritten);
        else snprintf(errs, sizeof errs, "%9.3f", worst);
        printf("%-5s %6dx%-5d %-18s %4s %9s  %s\n", t->name, rows, cols, name, bad ? "BAD" : "ok", errs, timing);
        if ((SP ? xqb != NULL : M && reads_xq(M, t, T)) && med > 0 && quant_ns > 0) { /* with x's quantization, as a step runs them */
            double tf = 2.0 * rows * cols * T / (med + quant_ns) / 1e3;
            printf("%-5s %6dx%-5d %-18s %4s %9s  %9.2f %8.2f %6.1f%%\n", t->name, rows, cols, "  + quant_act", "", "",
                   (med + quant_ns) / 1e3, tf, 100.0 * tf / B->tflops);
        }
        fflush(stdout);
        for (int i = 0; i < copies; i++) gpu_bindings_free(bg[i]);
        free(bg);
        if (!M || M->src) gpu_kernel_free(k);
        if (SP) free_split(&sp, copies);
    }
    for (int i = 0; i < copies; i++) gpu_buffer_free(w[i]);
    free(w);
    gpu_buffer_free(xb); gpu_buffer_free(xqb); gpu_buffer_free(yb); gpu_buffer_free(pb); gpu_buffer_free(mpb);
    gpu_buffer_free(sb); gpu_buffer_free(nb);
    free(src); free(gpu_bytes); free(x); free(wrow); free(y); free(want); free(mag); free(want_r); free(mag_r);
    free(want_n); free(mag_n); free(nw); free(st); free(sr); free(row_at);
    free(v_r); free(q_t); free(u); free(ua); free(xq); free(xqa); free(want_a); free(mag_a); free(want_b); free(mag_b);
}

/* --attn H,KV,D,T[,POS0]: the prompt-step attention (attention_prompt.wgsl,
 * as op_attention records it) for T tokens of H query heads (KV heads of D
 * dims) at positions POS0 .. POS0 + T - 1 over a cache of random keys and
 * values: outputs of a sample of tokens (every head) checked against a CPU
 * softmax in double (error in units of 1e-5 of sum |p v| + 1e-6, ok <= 1),
 * then timed, in TFLOP/s of the causal products (QK and PV, 4 D flops a
 * visible key a head). */
static void run_attn(bench *B, int H, int KV, int D, int T, int pos0) {
    char err[512];
    int n_ctx = pos0 + T, qd = H * D, kvd = KV * D;
    float *q = malloc((size_t)T * qd * 4), *kc = malloc((size_t)n_ctx * kvd * 4), *vc = malloc((size_t)n_ctx * kvd * 4),
          *o = malloc((size_t)T * qd * 4);
    double *sc = malloc((size_t)n_ctx * sizeof *sc);
    if (!q || !kc || !vc || !o || !sc) { fprintf(stderr, "out of memory\n"); exit(1); }
    for (size_t i = 0; i < (size_t)T * qd; i++) q[i] = frand();
    for (size_t i = 0; i < (size_t)n_ctx * kvd; i++) { kc[i] = frand(); vc[i] = frand(); }
    float scale = 1.0f / sqrtf((float)D);
    gpu_buffer *qb = gpu_buffer_create(B->dev, (uint64_t)T * qd * 4, GPU_STORAGE, "q"),
               *kb = gpu_buffer_create(B->dev, (uint64_t)n_ctx * kvd * 4, GPU_STORAGE, "k"),
               *vb = gpu_buffer_create(B->dev, (uint64_t)n_ctx * kvd * 4, GPU_STORAGE, "v"),
               *ob = gpu_buffer_create(B->dev, (uint64_t)T * qd * 4, GPU_STORAGE, "o"),
               *step = gpu_buffer_create(B->dev, STEP_UNIFORM_BYTES, GPU_UNIFORM, "step");
    if (!qb || !kb || !vb || !ob || !step) { fprintf(stderr, "cannot allocate the attention buffers\n"); exit(1); }
    gpu_buffer_write(B->dev, qb, 0, q, (size_t)T * qd * 4);
    gpu_buffer_write(B->dev, kb, 0, kc, (size_t)n_ctx * kvd * 4);
    gpu_buffer_write(B->dev, vb, 0, vc, (size_t)n_ctx * kvd * 4);
    graph *g = graph_create(B->dev, &B->ks, step);
    attn_shape a = {H, KV, D};
    op_attention(g, &a, n_ctx, scale, 0, qb, kb, vb, NULL, ob);
    step_params sp = {.pos0 = (uint32_t)pos0, .n_tokens = (uint32_t)T, .n_out = (uint32_t)T};
    gpu_buffer_write(B->dev, step, 0, &sp, sizeof sp);
    if (graph_error(g) || graph_replay(g, &sp, 0) != 0 || read_floats(B->dev, ob, o, (size_t)T * qd, err, sizeof err)) {
        fprintf(stderr, "attention: %s\n", graph_error(g) ? graph_error(g) : err);
        exit(1);
    }
    int toks[6] = {0, T / 3, T / 2, T - 2 > 0 ? T - 2 : 0, T - 1, (int)(rnd32() % (uint32_t)T)}, bad = 0;
    double worst = 0;
    for (int i = 0; i < 6; i++)
        for (int h = 0; h < H; h++) {
            int t = toks[i], kvh = h / (H / KV), nk = pos0 + t + 1;
            const float *qr = q + (size_t)t * qd + (size_t)h * D;
            double m = -1e300, l = 0;
            for (int j = 0; j < nk; j++) {
                double d = 0;
                for (int c = 0; c < D; c++) d += (double)qr[c] * kc[(size_t)j * kvd + (size_t)kvh * D + c];
                sc[j] = d * scale;
                if (sc[j] > m) m = sc[j];
            }
            for (int j = 0; j < nk; j++) l += (sc[j] = exp(sc[j] - m));
            for (int c = 0; c < D; c++) {
                double w = 0, mag = 0;
                for (int j = 0; j < nk; j++) {
                    double pv = sc[j] / l * vc[(size_t)j * kvd + (size_t)kvh * D + c];
                    w += pv;
                    mag += fabs(pv);
                }
                judge(o[(size_t)t * qd + (size_t)h * D + c], w, 0.5 * mag + 0.05, &bad, &worst);
            }
        }
    double flop = 0; /* QK and PV: 2 D multiply-adds a visible key, each 2 flops */
    for (int t = 0; t < T; t++) flop += 4.0 * D * (pos0 + t + 1) * H;
    double *ns = malloc((size_t)B->reps * sizeof *ns), med = -1;
    if (gpu_get_limits(B->dev)->has_timestamp && gpu_profile_begin(B->dev, B->reps, err, sizeof err) == 0) {
        for (int i = 0; i < B->reps; i++) graph_replay(g, &sp, 0);
        int n = -1;
        if (gpu_submit(B->dev, err, sizeof err) == 0 && gpu_finish(B->dev, err, sizeof err) == 0)
            n = gpu_profile_end(B->dev, ns, B->reps, err, sizeof err);
        if (n > 0) { qsort(ns, (size_t)n, sizeof *ns, cmp_double); med = ns[n / 2]; }
    }
    char timing[64] = "no timestamps";
    if (med > 0) snprintf(timing, sizeof timing, "%9.2f %8.2f %6.1f%%", med / 1e3, flop / med / 1e3, 100.0 * flop / med / 1e3 / B->tflops);
    printf("attn  %3dx%-2d d%-3d %5d@%-5d %-18s %4s %9.3f  %s\n", H, KV, D, T, pos0, "attention_prompt", bad ? "BAD" : "ok",
           worst, timing);
    if (bad) B->failures++;
    free(ns);
    graph_free(g);
    gpu_buffer_free(qb); gpu_buffer_free(kb); gpu_buffer_free(vb); gpu_buffer_free(ob); gpu_buffer_free(step);
    free(q); free(kc); free(vc); free(o); free(sc);
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
    const char *types = "f32,f16,bf16,q8_0,q4_0,q4_K,q5_K,q6_K,onnx_q4", *shapes = NULL;
    static bench B;
    B.reps = 0; /* 100; 3 with --quick (SwiftShader takes most of a second a matmul dispatch) */
    B.tokens = 1;
    B.bw = 4800;
    B.tflops = 67;
    /* the engine's matmul.wgsl, always first */
    /* (its rows a tile, and the kernel, depend on the type: run_case) */
    B.mm[B.n_mm++] = (mm_variant){"matmul (batched)", NULL, 64, KERNELS_MATMUL_TOKENS, 0, 0};
    const char *body = embedded("matmul.wgsl");
    if (body) B.mm[0].wg = wgsl_workgroup_size(body);
    /* and matmul_i8.wgsl at the other count of blocks a stage than the
     * engine's (WGPT_MMI8_KB), for Q8_0 and Q4_0 prompts: both side by side */
    static char other_kb[32];
    unsigned kb = kernels_mmi8_blocks() == 2 ? 1 : 2;
    snprintf(other_kb, sizeof other_kb, "matmul_i8 kb%u", kb);
    char *i8_body = body ? strdup(embedded("matmul_i8.wgsl")) : NULL;
    if (i8_body) B.mm[B.n_mm++] = (mm_variant){other_kb, i8_body, 128, KERNELS_MATMUL_TOKENS, 256, kb};
    int attn[8][5], n_attn = 0, peak = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-t") && i + 1 < argc) types = argv[++i];
        else if (!strcmp(argv[i], "-s") && i + 1 < argc) shapes = argv[++i];
        else if (!strcmp(argv[i], "-r") && i + 1 < argc) B.reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-n") && i + 1 < argc) B.tokens = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-k") && i + 1 < argc) {
            if (B.n_mm == MAX_MM) { fprintf(stderr, "-k: at most %d kernels\n", MAX_MM - 1); return 2; }
            load_mm(&B.mm[B.n_mm++], argv[++i]);
        } else if (!strcmp(argv[i], "--bw") && i + 1 < argc) B.bw = atof(argv[++i]);
        else if (!strcmp(argv[i], "--tflops") && i + 1 < argc) B.tflops = atof(argv[++i]);
        else if (!strcmp(argv[i], "--quick")) B.quick = 1;
        else if (!strcmp(argv[i], "--peak")) peak = 1;
        else if (!strcmp(argv[i], "--attn") && i + 1 < argc && n_attn < 8) {
            int *v = attn[n_attn++];
            v[4] = 0;
            if (sscanf(argv[++i], "%d,%d,%d,%d,%d", &v[0], &v[1], &v[2], &v[3], &v[4]) < 4 || v[0] < 1 || v[1] < 1 ||
                v[0] % v[1] || v[2] < 1 || v[3] < 1 || v[4] < 0 || v[3] > 65536 || v[4] > 65536) {
                fprintf(stderr, "--attn H,KV,D,T[,POS0]: heads (a multiple of KV), KV heads, head dims, tokens, first position\n");
                return 2;
            }
        } else {
            fprintf(stderr, "usage: wgpt-kbench [-t f32,f16,bf16,q8_0,q4_0,q4_K,q5_K,q6_K,onnx_q4] [-s ROWSxCOLS,...] [-n TOKENS] [-k MATMUL.wgsl]... "
                            "[-r REPS] [--quick] [--bw GBPS] [--tflops TFLOPS] [--attn H,KV,D,T[,POS0]]...\n");
            return 2;
        }
    }
    if (!B.reps) B.reps = B.quick ? 3 : 100;
    if (B.reps < 1 || B.reps > 2048) { fprintf(stderr, "-r: 1..2048\n"); return 2; }
    if (B.tokens < 1 || B.tokens > 65536) { fprintf(stderr, "-n: 1..65536\n"); return 2; }
    if (!(B.tflops > 0) || !(B.bw > 0)) { fprintf(stderr, "--bw, --tflops: more than 0\n"); return 2; }
    /* the defaults: shapes a type's blocks do not fit are left out (given with -s, an error) */
    int own_shapes = shapes != NULL;
    if (!shapes)
        shapes = B.quick ? "1x32,37x160,300x2080,1000x512,37x256,300x2304" : "2048x2048,8192x2048,2048x8192,128256x2048";
    char err[512];
    gpu_options o = {NULL, -1, 0, NULL};
    if (!(B.dev = gpu_open(&o, err, sizeof err))) { fprintf(stderr, "%s\n", err); return 1; }
    kernels_init(&B.ks, B.dev);
    const gpu_limits *L = gpu_get_limits(B.dev);
    printf("adapter: %s (%s); reductions: %s, %u groups of %u lanes a workgroup; subgroups %u..%u\n",
           gpu_adapter(B.dev)->name, gpu_adapter(B.dev)->backend, B.ks.reduce, B.ks.group_slots, B.ks.group_lanes,
           L->subgroup_min, L->subgroup_max);
    if (peak) { /* the arithmetic rates only */
        if (!B.reps || B.quick) B.reps = B.quick ? 3 : 20;
        run_peak(&B);
        kernels_free(&B.ks);
        gpu_close(B.dev);
        return 0;
    }
    if (n_attn) { /* attention only */
        printf("attention: err: worst |gpu - cpu| / (1e-5 sum |p v| + 1e-6), ok <= 1; TFLOP/s, %% of %.1f\n", B.tflops);
        for (int i = 0; i < n_attn; i++) run_attn(&B, attn[i][0], attn[i][1], attn[i][2], attn[i][3], attn[i][4]);
        kernels_free(&B.ks);
        gpu_close(B.dev);
        if (B.failures) printf("%d case(s) wrong\n", B.failures);
        return B.failures ? 1 : 0;
    }
    for (int i = 0; i < B.n_mm; i++) {
        char wg[16] = "?";
        if (B.mm[i].wg) snprintf(wg, sizeof wg, "%u", B.mm[i].wg);
        printf("matmul kernel %-18s tile %u rows x %u tokens, workgroup %s\n", B.mm[i].name, B.mm[i].tr, B.mm[i].tt, wg);
    }
    if (B.tokens == 1)
        printf("one token; err: worst |gpu - cpu| / (2e-5 sum|w x|), ok <= 1; GB/s of weight bytes read, %% of %.0f GB/s\n",
               B.bw);
    else
        printf("%d tokens (matmul kernels only); err: worst |gpu - cpu| / (2e-5 sum|w x|) over every row of a sample of "
               "tokens and every token of a sample of rows, and random combinations of every token's rows and every row's "
               "tokens (bound summed), ok <= 1; TFLOP/s of 2*rows*cols*tokens, %% of %.1f TFLOP/s\n",
               B.tokens, B.tflops);
    printf("%-5s %12s %-18s %4s %9s  %9s %8s %7s\n", "type", "shape", "variant", "", "err", "us", B.tokens == 1 ? "GB/s" : "TFLOP/s",
           "peak");
    for (const char *tp = types; *tp;) {
        size_t tn = strcspn(tp, ",");
        uint32_t type = type_by_name(tp, tn);
        for (const char *sp = shapes; *sp;) {
            int r, c;
            if (sscanf(sp, "%dx%d", &r, &c) != 2 || r < 1 || c < 32 || c % 32) {
                fprintf(stderr, "bad shape '%s' (ROWSxCOLS, COLS a multiple of 32)\n", sp);
                return 2;
            }
            uint32_t be = dtype_of(type)->block_elems;
            if (c % (int)be && own_shapes) {
                fprintf(stderr, "bad shape '%s' for %s (COLS a multiple of %u)\n", sp, dtype_of(type)->name, be);
                return 2;
            }
            if (c % (int)be == 0) run_case(&B, type, r, c);
            sp += strcspn(sp, ",");
            if (*sp) sp++;
        }
        tp += tn;
        if (*tp) tp++;
    }
    kernels_free(&B.ks);
    gpu_close(B.dev);
    for (int i = 1; i < B.n_mm; i++) free(B.mm[i].src);
    if (B.failures) printf("%d variant(s) wrong or not compiling\n", B.failures);
    return B.failures ? 1 : 0;
}
