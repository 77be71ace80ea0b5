/* Every WGSL kernel in src/graph/kernels/ against a plain C computation on
 * the CPU, in the manner of llm.c's dev/cuda and test_gpt2.c: random inputs
 * of awkward sizes, the kernel's output compared element by element with a
 * reference written out here in double precision, and a failure names the
 * kernel, the element that drifts, both values and the drift.
 *
 *   kernel (file)                  test
 *   matmul.wgsl x wfmt_f32/f16/    test_matmul_f32, _f16, _q8_0, _q4_0,
 *     q8_0/q4_0/bf16.wgsl            _bf16 (token counts around the 8-token tile, rows
 *                                    fewer than a workgroup's groups, rows
 *                                    longer than a group's lanes),
 *                                  test_matmul_residual_add (accumulate),
 *                                  test_matmul_logits (n_out rows, a wider
 *                                    output stride), test_matmul_split (rows
 *                                    over several buffers)
 *   x matmul_bias.wgsl             test_matmul_bias (alone, accumulating, split)
 *   matmul's w_first (a part of a  test_matmul_parts (Q, K, V parts, with
 *     stacked matrix)                bias, cache rows, across chunks)
 *   matmul's ROWS_POS (the KV-     test_matmul_kv_rows (rows at pos0 + t, with
 *     cache write)                   and without bias, split)
 *   matmul's split-K +             test_matmul_splitk (the engine's splits, and
 *     matmul_reduce.wgsl             parts forced with every option above)
 *   matvec.wgsl x mvfmt_*.wgsl     test_matvec (one-token steps: every matmul
 *     (one-token steps)              option again at one token, each format)
 *   x mv_norm*.wgsl (RMSNorm       test_matvec_norm (bias, the logits' row,
 *     folded in)                     split)
 *   matvec_glu.wgsl x mvfmt2_*     test_matvec_glu (SiLU and GELU)
 *   matvec_qkv.wgsl x mvfmt2/3_*   test_matvec_qkv (Q, and K and V into the cache,
 *                                    RoPE), test_matvec_qkv_bias (Qwen 2's biases),
 *                                    test_matvec_qkv_layernorm (mv_lnorm_common.wgsl,
 *                                    a stacked matrix: GPT-2)
 *   matvec_glu.wgsl ungated x      test_matvec_lnorm (GPT-2's up and GELU, its
 *     mv_lnorm_common.wgsl           LM head)
 *   embed.wgsl x the five formats  test_embed, test_embed_split,
 *                                    test_embed_scaled (Gemma's sqrt(dim)),
 *                                    test_pos_embed (GPT-2's positions added)
 *   Q8_0/Q4_0's upload planes       test_quant_planes (the bytes of each
 *     (dtype.h) x every kernel       chunk, then matvec, matmul, norm, embed,
 *     reading them                   glu and qkv on awkward chunk sizes)
 *   wfmt_/mvfmt_/mvfmt2_/mvfmt3_   test_kquant_matmul, test_kquant_matvec (with
 *     q4_K/q5_K/q6_K.wgsl and        norm, split-K), test_kquant_fused (glu, qkv,
 *     kquant.wgsl (the K-quants,     lnorm), test_kquant_embed, test_kquant_planes
 *     random blocks, dtype.c's       (each chunk's length and scale plane, then the
 *     dequantizers the reference)    kernels on split chunks), test_kquant_bad_rows
 *   rmsnorm.wgsl                   test_rmsnorm, test_rmsnorm_out_rows,
 *                                    test_rmsnorm_add (post-norm into the residual)
 *   layernorm.wgsl                 test_layernorm (offsets, out rows)
 *   head_rmsnorm.wgsl (q/k norm    test_head_rmsnorm (Q rows and cache rows,
 *     and RoPE)                      GQA, head sizes past the lanes, odd; both
 *                                    pair styles, partial rotation, batches
 *                                    at later positions; not RoPE first)
 *   rope.wgsl                      test_rope (NORMAL pairs), test_rope_neox
 *                                    (NEOX pairs; partial rotation in both)
 *   attention_prompt.wgsl          test_attention (MHA, GQA, MQA, one and
 *     (softmax inside it, online)    several positions, causal masking,
 *                                    batches, keys past a group's lanes,
 *                                    a dominant score)
 *                                  test_attention_window (sliding window)
 *                                  test_attention_prompt (prompts over
 *                                    several query and key tiles, partial
 *                                    ones, pos0 > 0, GQA, windows, head
 *                                    sizes 64/128/256 and odd ones, cache_off)
 *   attention_split.wgsl +         test_attention_decode (one-token steps over
 *     attention_merge.wgsl           many chunks: boundaries, windows, GQA,
 *     (one-token steps)              head sizes, a spike in one chunk)
 *   K/V projections + rope +       test_rope_attention_replay (one graph
 *     attention together             replayed: prefill, then later steps
 *                                    reading the cache earlier ones wrote)
 *   swiglu.wgsl                    test_swiglu
 *   gelu.wgsl                      test_gelu (GPT-2's, and gated: GeGLU)
 *   softcap.wgsl                   test_softcap
 *   common.wgsl (linear_wg)        test_swiglu_2d_grid, test_embed_2d_grid
 *   reduce_subgroup/reduce_tree    every reducing kernel (matmul, rmsnorm,
 *                                    head_rmsnorm, layernorm, attention) runs once per
 *                                    variant: the whole suite runs twice, the
 *                                    second time with WGPT_NO_SUBGROUPS=1 (on
 *                                    an adapter without fixed-size subgroups
 *                                    both runs use the tree; the banner says
 *                                    which).
 *   quant_act.wgsl                 test_quant_act (bit for bit against
 *                                    quantize_act_q8_fake; the n_out rows)
 *   matmul_i8.wgsl x mmi8_q8_0/q4_0 the matmul tests (for Q8_0 and Q4_0 steps
 *                                    of several tokens, x quantized by
 *                                    quant_act.wgsl) in groups of their own:
 *                                    WGPT_MATMUL_I8=1 at 2 blocks a stage and
 *                                    at 1 (WGPT_MMI8_KB=1), and
 *                                    WGPT_MATMUL_I8=0 (the f32 tiles)
 *
 * The residual add has no kernel of its own (matmul accumulates into the
 * residual stream), nor do softmax, the KV-cache write (the K and V
 * projections write the cache rows) or sampling (done on the CPU). Every
 * kernel is dispatched through its op in src/graph/ops.c, except attention's
 * cache_off cases, dispatched here with ops.c's parameter layout.
 *
 * Tolerances (why each is what it is) sit beside each check. Run with
 * KERNEL_TEST_VERBOSE=1 to see, for each check, the passing drift nearest
 * its tolerance, and with KERNEL_TEST_FILTER=PATTERN (cmocka's, e.g.
 * "test_kquant*") to run only the tests it matches. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "formats/quant.h"
#include "graph/graph.h"
#include "graph/ops.h"
#include "util/util.h"

/* ---- devices ---- */

typedef struct {
    gpu_device *dev;
    kernel_registry ks;
} gpu_ctx;

/* main: the device as the engine opens it. split: one that pretends to bind
 * only SPLIT_BINDING bytes, so weight uploads are cut into row chunks. The
 * figure is not a round one so that chunks come out at awkward row counts. */
#define SPLIT_BINDING 3000
static gpu_ctx main_ctx, split_ctx;
static char variant[64]; /* "subgroups of 16" or "workgroup tree of 64" */

static int open_ctx(gpu_ctx *c, uint64_t max_binding) {
    char err[512];
    gpu_options o = {NULL, -1, max_binding, 0};
    if (!(c->dev = gpu_open(&o, err, sizeof err))) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    kernels_init(&c->ks, c->dev);
    return 0;
}

static int setup(void **state) {
    (void)state;
    if (open_ctx(&main_ctx, 0) != 0 || open_ctx(&split_ctx, SPLIT_BINDING) != 0) return -1;
    const kernel_registry *k = &main_ctx.ks;
    if (k->group_slots > 1) snprintf(variant, sizeof variant, "subgroups of %u", k->group_lanes);
    else snprintf(variant, sizeof variant, "workgroup tree of %u", k->group_lanes);
    const gpu_limits *L = gpu_get_limits(main_ctx.dev);
    fprintf(stderr, "adapter %s; reductions: %s (subgroups %s, sizes %u..%u)\n", gpu_adapter(main_ctx.dev)->name,
            variant, L->has_subgroups ? "yes" : "no", L->subgroup_min, L->subgroup_max);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    gpu_ctx *cs[2] = {&main_ctx, &split_ctx};
    for (int i = 0; i < 2; i++) {
        kernels_free(&cs[i]->ks);
        gpu_close(cs[i]->dev);
        cs[i]->dev = NULL;
    }
    return 0;
}

/* ---- inputs ---- */

static uint64_t rng = 88172645463325252ull;
static float frand(void) { /* xorshift, uniform in [-1, 1) */
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}
static int irand(int n) { return (int)((frand() + 1.0f) * 0.5f * (float)n) % n; }

static float *rand_floats(size_t n, float scale) {
    float *x = malloc(n * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < n; i++) x[i] = frand() * scale;
    return x;
}

static double *alloc_d(size_t n) {
    double *x = calloc(n, sizeof *x);
    assert_non_null(x);
    return x;
}

/* Encodes rows of floats into a ggml type the simple way (ggml's reference
 * quantizers' rules), so the test does not depend on the Python writer. */
static uint8_t *encode(uint32_t type, const float *x, int rows, int cols, uint64_t *nbytes) {
    uint32_t be, bb;
    ggml_type_block(type, &be, &bb);
    uint64_t row_bytes = (uint64_t)cols / be * bb;
    uint8_t *out = calloc((size_t)rows, row_bytes), *p = out;
    for (int r = 0; r < rows; r++)
        for (int b = 0; b < cols / (int)be; b++) {
            const float *v = x + (size_t)r * cols + (size_t)b * be;
            if (type == GGML_TYPE_F32) { memcpy(p, v, 4); p += 4; }
            else if (type == GGML_TYPE_F16) { uint16_t h = f32_to_f16(v[0]); memcpy(p, &h, 2); p += 2; }
            else if (type == GGML_TYPE_BF16) { /* the top half of the f32, rounded to nearest even */
                uint32_t u;
                memcpy(&u, v, 4);
                uint16_t h = (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
                memcpy(p, &h, 2);
                p += 2;
            }
            else if (type == GGML_TYPE_Q8_0) {
                float amax = 0;
                for (int i = 0; i < 32; i++) amax = fmaxf(amax, fabsf(v[i]));
                float d = amax / 127, id = d ? 1 / d : 0;
                uint16_t h = f32_to_f16(d);
                memcpy(p, &h, 2);
                for (int i = 0; i < 32; i++) p[2 + i] = (uint8_t)(int8_t)roundf(v[i] * id);
                p += 34;
            } else { /* Q4_0 */
                float amax = 0, max = 0;
                for (int i = 0; i < 32; i++) if (fabsf(v[i]) > amax) { amax = fabsf(v[i]); max = v[i]; }
                float d = max / -8, id = d ? 1 / d : 0;
                uint16_t h = f32_to_f16(d);
                memcpy(p, &h, 2);
                for (int i = 0; i < 16; i++) {
                    int q0 = (int)(v[i] * id + 8.5f), q1 = (int)(v[16 + i] * id + 8.5f);
                    q0 = q0 > 15 ? 15 : q0; q1 = q1 > 15 ? 15 : q1;
                    p[2 + i] = (uint8_t)(q0 | (q1 << 4));
                }
                p += 18;
            }
        }
    *nbytes = (uint64_t)rows * row_bytes;
    return out;
}

/* The CPU side of the weight formats, written out from ggml's block layouts
 * (independent of src/formats/dtype.c, which it is also checked against). */
static float half_to_float(uint16_t h) {
    int e = (h >> 10) & 31, m = h & 1023;
    float v = e == 0 ? ldexpf((float)m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexpf((float)(m | 1024), e - 25);
    return (h & 0x8000) ? -v : v;
}

static void ref_dequant_row(uint32_t type, const uint8_t *src, float *dst, int cols) {
    for (int b = 0; b < cols / 32; b++) {
        float *y = dst + b * 32;
        if (type == GGML_TYPE_F32) memcpy(y, src + b * 128, 128);
        else if (type == GGML_TYPE_F16)
            for (int i = 0; i < 32; i++) y[i] = half_to_float((uint16_t)(src[b * 64 + 2 * i] | src[b * 64 + 2 * i + 1] << 8));
        else if (type == GGML_TYPE_BF16)
            for (int i = 0; i < 32; i++) {
                uint32_t u = (uint32_t)(src[b * 64 + 2 * i] | src[b * 64 + 2 * i + 1] << 8) << 16;
                memcpy(y + i, &u, 4);
            }
        else if (type == GGML_TYPE_Q8_0) {
            const uint8_t *q = src + b * 34;
            float d = half_to_float((uint16_t)(q[0] | q[1] << 8));
            for (int i = 0; i < 32; i++) y[i] = (float)(int8_t)q[2 + i] * d;
        } else {
            const uint8_t *q = src + b * 18;
            float d = half_to_float((uint16_t)(q[0] | q[1] << 8));
            for (int i = 0; i < 16; i++) {
                y[i] = (float)((q[2 + i] & 15) - 8) * d;
                y[16 + i] = (float)((q[2 + i] >> 4) - 8) * d;
            }
        }
    }
}

/* A random weight matrix in a ggml type, and what it holds as f32. */
typedef struct {
    gguf_tensor t;
    uint8_t *raw;
    float *w; /* [rows][cols], dequantized */
} test_weight;

static uint8_t *random_k(uint32_t type, int rows, int cols, uint64_t *nbytes);

static void make_weight(test_weight *tw, uint32_t type, int rows, int cols) {
    uint32_t be;
    ggml_type_block(type, &be, NULL);
    float *src = rand_floats((size_t)rows * cols, 1.0f);
    uint64_t nbytes;
    tw->raw = be == 256 ? random_k(type, rows, cols, &nbytes) : encode(type, src, rows, cols, &nbytes);
    free(src);
    memset(&tw->t, 0, sizeof tw->t);
    tw->t.name = (gguf_str){"w", 1};
    tw->t.n_dims = 2;
    tw->t.ne[0] = (uint64_t)cols;
    tw->t.ne[1] = (uint64_t)rows;
    tw->t.type = type;
    tw->t.nbytes = nbytes;
    tw->t.data = tw->raw;
    tw->w = malloc((size_t)rows * cols * sizeof *tw->w);
    float *lib = malloc((size_t)cols * sizeof *lib);
    uint64_t row_bytes = nbytes / (uint64_t)rows;
    for (int r = 0; r < rows && be == 256; r++) /* the K-quants: dtype.c's ports of ggml's dequantizers */
        assert_int_equal(dequantize_row(type, tw->raw + r * row_bytes, tw->w + (size_t)r * cols, cols), 0);
    for (int r = 0; r < rows && be != 256; r++) {
        ref_dequant_row(type, tw->raw + r * row_bytes, tw->w + (size_t)r * cols, cols);
        assert_int_equal(dequantize_row(type, tw->raw + r * row_bytes, lib, cols), 0);
        if (memcmp(lib, tw->w + (size_t)r * cols, (size_t)cols * sizeof *lib))
            fail_msg("the test's %s dequantization disagrees with dtype.c on row %d", ggml_type_name(type), r);
    }
    free(lib);
}

static void free_weight(test_weight *tw) {
    free(tw->raw);
    free(tw->w);
}

/* ---- running kernels ---- */

static gpu_buffer *upload(gpu_device *d, const void *data, size_t bytes) {
    gpu_buffer *b = gpu_buffer_create(d, bytes, GPU_STORAGE, "test");
    assert_non_null(b);
    gpu_buffer_write(d, b, 0, data, bytes);
    return b;
}

static float *download(gpu_device *d, gpu_buffer *b, size_t n) {
    char err[256];
    gpu_buffer *rb = gpu_buffer_create(d, n * 4, GPU_READBACK, "rb");
    gpu_copy(d, b, 0, rb, 0, n * 4);
    assert_int_equal(gpu_submit(d, err, sizeof err), 0);
    const void *data;
    assert_int_equal(gpu_read_begin(d, rb, err, sizeof err), 0);
    assert_int_equal(gpu_read_poll(d, rb, 1, &data, err, sizeof err), 1);
    float *out = malloc(n * 4);
    memcpy(out, data, n * 4);
    gpu_read_end(d, rb);
    gpu_buffer_free(rb);
    return out;
}

/* A graph of one or a few ops on one device, replayed once. */
typedef struct {
    gpu_ctx *c;
    gpu_buffer *step;
    graph *g;
} rig;

static rig rig_open(gpu_ctx *c) {
    rig r = {c, gpu_buffer_create(c->dev, STEP_UNIFORM_BYTES, GPU_UNIFORM, "step"), NULL};
    assert_non_null(r.step);
    r.g = graph_create(c->dev, &c->ks, r.step);
    assert_non_null(r.g);
    return r;
}

static void rig_run(rig *r, uint32_t pos0, uint32_t n_tokens, uint32_t out_first, uint32_t n_out) {
    char err[512];
    step_params sp = {.pos0 = pos0, .n_tokens = n_tokens, .out_first = out_first, .n_out = n_out};
    if (graph_error(r->g)) fail_msg("recording: %s", graph_error(r->g));
    gpu_buffer_write(r->c->dev, r->step, 0, &sp, step_params_bytes(&sp));
    if (graph_replay(r->g, &sp, 0) != 0) fail_msg("replay: %s", graph_error(r->g));
    if (gpu_submit(r->c->dev, err, sizeof err) != 0) fail_msg("submit: %s", err);
    const char *e = gpu_take_error(r->c->dev);
    if (e) fail_msg("device error: %s", e);
}

static void rig_close(rig *r) {
    graph_free(r->g);
    gpu_buffer_free(r->step);
}

/* x's rows (cols wide; from_out: the n_out rows) quantized for m's 8-bit
 * products (op_quant_act), recorded into r, where m takes them: into a new
 * buffer with room to spare, as the decoder's serves inputs of every width
 * (the kernels find its blocks from its size). NULL where m does not. */
static gpu_buffer *quantize_for(rig *r, const gpu_matrix *m, gpu_buffer *x, int rows, int cols, int from_out) {
    if (!op_matmul_takes_xq(m)) return NULL;
    gpu_buffer *xq = gpu_buffer_create(r->c->dev, op_quant_act_bytes(rows + 3, cols + 64), GPU_STORAGE, "xq");
    assert_non_null(xq);
    op_quant_act(r->g, x, xq, cols, from_out);
    return xq;
}

/* ---- comparing ---- */

/* Every element i must satisfy |got - want| <= tol[i] (tol 0: bit-exact;
 * NaN never passes). On failure, says which kernel and case, which element
 * (row and column of `width`), both values and the drift, like llm.c's
 * test_gpt2.c; the first few offenders go to stderr as well. */
static void expect_close(const char *what, const char *tensor, const float *got, const double *want,
                         const double *tol, size_t n, size_t width) {
    size_t bad = 0, worst_i = 0;
    double worst = 0, ratio = -1, near = 0, near_tol = 0; /* near: the passing drift closest to its tolerance */
    for (size_t i = 0; i < n; i++) {
        double diff = fabs((double)got[i] - want[i]);
        if (diff <= tol[i]) {
            if (tol[i] > 0 && diff / tol[i] > ratio) { ratio = diff / tol[i]; near = diff; near_tol = tol[i]; }
            continue;
        }
        if (bad < 5)
            fprintf(stderr, "  %s [%s]: %s[%zu][%zu] is %.9g on the GPU, %.9g on the CPU, drift %.3g > %.3g\n", what,
                    variant, tensor, i / width, i % width, got[i], want[i], diff, tol[i]);
        if (bad++ == 0 || (!isnan(worst) && !(diff <= worst))) { worst = diff; worst_i = i; }
    }
    if (bad)
        fail_msg("%s [%s]: %s[%zu][%zu] is %.9g on the GPU, %.9g on the CPU: drift %.3g, tolerance %.3g "
                 "(%zu of %zu elements out of tolerance)",
                 what, variant, tensor, worst_i / width, worst_i % width, got[worst_i], want[worst_i], worst,
                 tol[worst_i], bad, n);
    if (getenv("KERNEL_TEST_VERBOSE"))
        fprintf(stderr, "  ok %s [%s] %s: %zu elements, nearest drift %.3g against tolerance %.3g\n", what, variant,
                tensor, n, near, near_tol);
}

/* Elements a kernel must not touch: want = what was there before, exact. */
static void untouched(double *want, double *tol, const float *before, size_t from, size_t to) {
    for (size_t i = from; i < to; i++) { want[i] = before[i]; tol[i] = 0; }
}

static const uint32_t types[] = {GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_Q8_0, GGML_TYPE_Q4_0, GGML_TYPE_BF16};
#define N_TYPES (int)(sizeof types / sizeof *types)

/* ---- matmul.wgsl (and the residual add, which it does) ----
 * Y[t][row] (+)= sum_c W[row][c] X[t][c], accumulated in double here.
 * Tolerance: 2e-5 of sum_c |W X| (+ |Y0| when accumulating). An f32 sum of
 * these terms is off by at most (terms in the longest chain) * 2^-24 of that
 * magnitude; the kernel's chains are a 32-term block, one add per block a
 * lane owns and a log2(lanes) reduction, under 120 adds for every size here,
 * so 2e-5 covers the worst case with room, while a dropped, doubled or
 * misplaced block or token (drift ~ |W X| ~ 0.25 per term) is far outside. */
typedef struct {
    uint32_t type;
    int rows, cols, n;  /* n: tokens multiplied (n_out when use_n_out) */
    int accumulate;
    int out_stride;     /* 0: rows */
    int use_n_out;
    int split;
    int bias;           /* a bias row added to every output (matmul_bias.wgsl) */
    int at_pos;         /* ROWS_POS: output row t goes to row pos0 + t (a K or V
                           projection storing into the cache; pos0 is 4 here) */
    int part_first, part_rows; /* only W's rows part_first.. (part_rows of them; 0: all), written
                                  from column 0 with the bias's first part_rows values: one part
                                  of a stacked matrix (GPT-2's Q, K, V) */
    int k_parts;        /* split-K: this many parts forced (WGPT_SPLITK) where the columns allow;
                           0: the engine's choice */
} mm_case;

/* Split products' scratch for r, as the decoder gives its graph: sized for
 * steps of max_rows (more than a case's step has, so that the parts are
 * chosen for a larger batch than the step runs, as in a context's short
 * steps). */
static gpu_buffer *give_scratch(rig *r, int max_rows, int w_rows) {
    uint64_t bytes = op_matmul_partials_bytes(max_rows, w_rows);
    gpu_buffer *b = gpu_buffer_create(r->c->dev, bytes, GPU_STORAGE, "mm_part");
    assert_non_null(b);
    graph_set_scratch(r->g, b, bytes, (uint32_t)max_rows);
    return b;
}

/* op_matmul with WGPT_SPLITK at parts (0: as it was), restored after. */
static void matmul_parts(rig *r, const gpu_matrix *m, gpu_buffer *x, gpu_buffer *y, const matmul_opts *o, int parts) {
    const char *was = getenv("WGPT_SPLITK");
    char keep[16] = "";
    if (was) snprintf(keep, sizeof keep, "%s", was);
    char v[16];
    snprintf(v, sizeof v, "%d", parts);
    if (parts) setenv("WGPT_SPLITK", v, 1);
    op_matmul(r->g, m, x, y, o);
    if (parts && was) setenv("WGPT_SPLITK", keep, 1);
    else if (parts) unsetenv("WGPT_SPLITK");
}

static void check_matmul(const mm_case *c) {
    gpu_ctx *ctx = c->split ? &split_ctx : &main_ctx;
    int out_rows = c->part_rows ? c->part_rows : c->rows, first = c->part_rows ? c->part_first : 0;
    int stride = c->out_stride ? c->out_stride : out_rows;
    /* With use_n_out the step's n_tokens is larger than n_out: the kernel
     * must go by n_out. One spare row after the last must stay untouched. */
    int n_tok = c->use_n_out ? c->n + 5 : c->n, pos0 = c->at_pos ? 4 : 0, y_rows = pos0 + n_tok + 1;
    test_weight tw;
    make_weight(&tw, c->type, c->rows, c->cols);
    float *x = rand_floats((size_t)c->n * c->cols, 1.0f);
    float *bias = rand_floats((size_t)c->rows, 2.0f);
    float *y0 = rand_floats((size_t)y_rows * stride, 4.0f);
    size_t ny = (size_t)y_rows * stride;
    double *want = alloc_d(ny), *tol = alloc_d(ny);
    untouched(want, tol, y0, 0, ny);
    /* A step of several rows goes through matmul.wgsl, which for Q8_0 and
     * Q4_0 is matmul_i8.wgsl (unless WGPT_MATMUL_I8=0): x quantized per
     * block of 32 (quant_act.wgsl), exactly as quantize_act_q8_fake does;
     * one row goes through matvec.wgsl, f32. */
    int many = (c->use_n_out ? c->n : n_tok) > 1;
    float *xr = malloc((size_t)c->n * c->cols * sizeof *xr);
    assert_non_null(xr);
    memcpy(xr, x, (size_t)c->n * c->cols * sizeof *xr);
    if (many && quant_int8_matmul(c->type)) quantize_act_q8_fake(xr, xr, (int64_t)c->n * c->cols);
    for (int t = 0; t < c->n; t++)
        for (int r = 0; r < out_rows; r++) {
            size_t o = (size_t)(pos0 + t) * stride + r;
            double acc = (c->accumulate ? y0[o] : 0) + (c->bias ? bias[r] : 0), mag = fabs(acc);
            for (int k = 0; k < c->cols; k++) {
                double p = (double)tw.w[(size_t)(first + r) * c->cols + k] * xr[(size_t)t * c->cols + k];
                acc += p;
                mag += fabs(p);
            }
            want[o] = acc;
            tol[o] = 2e-5 * mag;
        }

    char err[512];
    gpu_matrix m;
    if (gpu_matrix_upload(ctx->dev, &tw.t, &m, err, sizeof err) != 0)
        fail_msg("matmul upload (%s, %d x %d): %s", ggml_type_name(c->type), c->rows, c->cols, err);
    if (c->split && m.n_chunks < 2) fail_msg("matmul split case: %d rows came out in one buffer", c->rows);
    rig r = rig_open(ctx);
    gpu_buffer *part = give_scratch(&r, 2 * n_tok + 40, c->rows);
    gpu_buffer *xb = upload(ctx->dev, x, (size_t)c->n * c->cols * 4), *yb = upload(ctx->dev, y0, ny * 4),
               *bb = upload(ctx->dev, bias, (size_t)c->rows * 4);
    matmul_opts mo = {.bias = c->bias ? bb : NULL, .accumulate = c->accumulate,
                      .rows = c->use_n_out ? ROWS_OUT : c->at_pos ? ROWS_POS : ROWS_STEP, .out_stride = stride,
                      .w_first = c->part_first, .w_rows = c->part_rows};
    gpu_buffer *xqb = quantize_for(&r, &m, xb, c->n, c->cols, c->use_n_out);
    mo.xq = xqb;
    matmul_parts(&r, &m, xb, yb, &mo, c->k_parts);
    rig_run(&r, (uint32_t)pos0, (uint32_t)n_tok, c->use_n_out ? 3u : 0u, (uint32_t)c->n);
    float *y = download(ctx->dev, yb, ny);
    char what[200];
    snprintf(what, sizeof what, "matmul %s rows %d cols %d tokens %d%s%s%s%s stride %d%s", ggml_type_name(c->type),
             c->rows, c->cols, c->n, c->accumulate ? " accumulate" : "", c->use_n_out ? " n_out" : "",
             c->bias ? " bias" : "", c->at_pos ? " at pos 4" : "", stride, c->split ? " split" : "");
    if (c->part_rows)
        snprintf(what + strlen(what), sizeof what - strlen(what), " rows %d..%d only", first, first + out_rows - 1);
    if (c->split) snprintf(what + strlen(what), sizeof what - strlen(what), " (%d buffers of %d rows)", m.n_chunks, m.chunk_rows);
    if (c->k_parts) snprintf(what + strlen(what), sizeof what - strlen(what), " in %d K parts", c->k_parts);
    expect_close(what, "Y", y, want, tol, ny, (size_t)stride);
    rig_close(&r);
    gpu_buffer_free(part);
    gpu_buffer_free(xqb);
    gpu_buffer_free(xb);
    gpu_buffer_free(yb);
    gpu_buffer_free(bb);
    gpu_matrix_free(&m);
    free_weight(&tw);
    free(x); free(xr); free(bias); free(y0); free(y); free(want); free(tol);
}

static void matmul_format(uint32_t type) {
    /* rows: one, fewer than a workgroup's groups, awkward, past 1024 (tiles
     * of 64 tokens; up to 1024 rows, tiles of 32: ops.c); cols: one block
     * (most lanes idle), awkward, and more blocks than a workgroup has lanes;
     * tokens: 1, a partial tile, across tiles of either size. The 8-bit
     * kernel's tiles (128 rows by 64 tokens) with one row and token past
     * (130 x 131; 129 x 65 at one block), and odd counts of blocks (3, 5,
     * 7, 65: its stages of two blocks end in one past the last). */
    const int shapes[][3] = {{1, 32, 1},    {3, 96, 2},     {37, 160, 8},  {70, 64, 9},
                             {5, 2080, 3},  {19, 224, 17},  {70, 64, 100}, {1100, 64, 70},
                             {130, 96, 131}, {129, 32, 65}};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        mm_case c = {type, shapes[i][0], shapes[i][1], shapes[i][2], 0, 0, 0, 0, 0, 0, 0, 0, 0};
        check_matmul(&c);
    }
}

static void test_matmul_f32(void **state) { (void)state; matmul_format(GGML_TYPE_F32); }
static void test_matmul_f16(void **state) { (void)state; matmul_format(GGML_TYPE_F16); }
static void test_matmul_q8_0(void **state) { (void)state; matmul_format(GGML_TYPE_Q8_0); }
static void test_matmul_q4_0(void **state) { (void)state; matmul_format(GGML_TYPE_Q4_0); }
static void test_matmul_bf16(void **state) { (void)state; matmul_format(GGML_TYPE_BF16); }

static void test_matmul_residual_add(void **state) {
    (void)state;
    for (int i = 0; i < N_TYPES; i++) {
        mm_case a = {types[i], 37, 96, 3, 1, 0, 0, 0, 0, 0, 0, 0, 0}, b = {types[i], 6, 288, 11, 1, 0, 0, 0, 0, 0, 0, 0, 0};
        check_matmul(&a);
        check_matmul(&b);
    }
}

/* The logits matmul: only n_out rows, and (here) a wider output stride. */
static void test_matmul_logits(void **state) {
    (void)state;
    for (int i = 0; i < N_TYPES; i++) {
        mm_case a = {types[i], 45, 128, 2, 0, 51, 1, 0, 0, 0, 0, 0, 0}, b = {types[i], 13, 64, 9, 0, 0, 1, 0, 0, 0, 0, 0, 0};
        check_matmul(&a);
        check_matmul(&b);
    }
}

static void test_matmul_split(void **state) {
    (void)state;
    for (int i = 0; i < N_TYPES; i++) {
        mm_case a = {types[i], 100, 96, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0}, b = {types[i], 61, 160, 9, 0, 67, 0, 1, 0, 0, 0, 0, 0};
        a.split = 1;
        check_matmul(&a);
        check_matmul(&b);
    }
}

/* Each case once per weight format (its type field is ignored). */
static void matmul_cases(const mm_case *cases, size_t n) {
    for (int i = 0; i < N_TYPES; i++)
        for (size_t j = 0; j < n; j++) {
            mm_case c = cases[j];
            c.type = types[i];
            check_matmul(&c);
        }
}

/* The bias variant (Qwen 2's Q, K and V): alone, under a residual add, and
 * over split rows (each chunk adds its own slice of the bias). */
static void test_matmul_bias(void **state) {
    (void)state;
    const mm_case cases[] = {{0, 37, 96, 3, 0, 0, 0, 0, 1, 0, 0, 0, 0}, {0, 6, 288, 11, 1, 0, 0, 0, 1, 0, 0, 0, 0},
                             {0, 100, 96, 2, 0, 0, 0, 1, 1, 0, 0, 0, 0}};
    matmul_cases(cases, sizeof cases / sizeof *cases);
}

/* The KV-cache write: a K or V projection stores its rows (kv_dim of them)
 * at the tokens' positions, with and without a bias, over split rows; rows
 * before pos0 and after the last token stay as they were. */
static void test_matmul_kv_rows(void **state) {
    (void)state;
    const mm_case cases[] = {{0, 16, 64, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0}, {0, 24, 96, 9, 0, 0, 0, 0, 1, 1, 0, 0, 0},
                             {0, 61, 160, 5, 0, 0, 0, 1, 1, 1, 0, 0, 0}};
    matmul_cases(cases, sizeof cases / sizeof *cases);
}

/* A part of a stacked matrix (GPT-2's c_attn: Q's rows, then K's, then V's)
 * read where it lies: each part alone, with its bias, into the cache rows
 * or accumulating, and over split rows so that parts start and end inside
 * chunks and span chunk boundaries (SPLIT_BINDING cuts 96-column f32 rows
 * into chunks of 7). */
static void test_matmul_parts(void **state) {
    (void)state;
    const mm_case cases[] = {
        {0, 96, 64, 3, 0, 0, 0, 0, 1, 0, 0, 32, 0},  /* Q of a 32-32-32 stack */
        {0, 96, 64, 5, 0, 0, 0, 0, 1, 1, 32, 32, 0}, /* K, into the cache rows */
        {0, 96, 64, 9, 1, 0, 0, 0, 1, 1, 64, 32, 0}, /* V, accumulating */
        {0, 60, 96, 4, 0, 0, 0, 1, 1, 0, 3, 40, 0},  /* split: from inside chunk 0 over several */
        {0, 60, 96, 2, 0, 0, 0, 1, 0, 1, 43, 17, 0}, /* split: the last rows, from inside a chunk */
        {0, 60, 96, 2, 0, 0, 0, 1, 0, 0, 8, 5, 0},   /* split: inside one chunk */
    };
    matmul_cases(cases, sizeof cases / sizeof *cases);
}

/* Split-K (matmul_common.wgsl's k_splits, matmul_reduce.wgsl): many tokens
 * by few rows over long columns, which the engine splits itself (2080
 * columns: 65 blocks, parts of unequal stages; 130 rows by 131 tokens:
 * one row and token past the 8-bit tiles), and parts forced on the other
 * options: a bias, accumulating, the n_out rows at a wider stride, the
 * cache rows at pos0, rows over several buffers, a part of a stacked
 * matrix, 8 parts, and more parts than the columns have stages (fewer
 * then). Every step is shorter than the batch the scratch is sized for. */
static void test_matmul_splitk(void **state) {
    (void)state;
    const mm_case cases[] = {
        {0, 70, 2080, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0},  {0, 130, 1024, 131, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        {0, 37, 160, 9, 0, 0, 0, 0, 1, 0, 0, 0, 3},     {0, 6, 288, 11, 1, 0, 0, 0, 0, 0, 0, 0, 4},
        {0, 45, 224, 7, 0, 51, 1, 0, 1, 0, 0, 0, 2},    {0, 24, 352, 9, 0, 0, 0, 0, 1, 1, 0, 0, 5},
        {0, 61, 160, 9, 1, 67, 0, 1, 1, 0, 0, 0, 3},    {0, 96, 256, 9, 1, 0, 0, 0, 1, 1, 64, 32, 2},
        {0, 3, 512, 2, 0, 0, 0, 0, 0, 0, 0, 0, 8},      {0, 65, 96, 70, 1, 0, 0, 0, 1, 0, 0, 0, 8},
    };
    matmul_cases(cases, sizeof cases / sizeof *cases);
}

/* ---- quant_act.wgsl ----
 * x quantized per block of 32 for the 8-bit products: each block's quants
 * times its scale must be quantize_act_q8_fake's values bit for bit (the
 * CPU reference quantizes so), and its sum the quants' sum. Blocks of
 * zeros, of values too small to matter, with amax 127/64 2^e (the larger
 * scale's edge) and just past it, of ties at the scale (k + 1/2, rounded
 * half to even, both signs). With from_out only the n_out rows from row 0:
 * the blocks of the rows after them stay as they were. */
static void check_quant_act(int n, int cols, int from_out, int glu) {
    gpu_ctx *ctx = &main_ctx;
    int nb = cols / 32, n_tok = n + (from_out ? 4 : 0);
    float *x = rand_floats((size_t)n_tok * cols, 4.0f), *want = malloc((size_t)n_tok * cols * sizeof *want);
    assert_non_null(want);
    float *blk[4] = {x, x + (size_t)(n - 1) * cols, x + (size_t)(nb - 1) * 32, x + (size_t)(n / 2) * cols};
    for (int i = 0; i < 32; i++) {
        blk[0][i] = 0.0f;
        blk[1][i] = (i % 2 ? -1e-31f : 1e-31f) * (float)(i + 1) / 32.0f;
        /* amax 15.875 = 127/64 2^3: quants of x * 8, ties at odd sixteenths */
        blk[2][i] = i == 0 ? 15.875f : (float)((i % 2 ? -1 : 1) * (2 * i + 1)) / 16.0f;
        /* just past: x * 4, ties at odd eighths */
        blk[3][i] = i == 0 ? nextafterf(15.875f, 16.0f) : (float)((i % 2 ? -1 : 1) * (2 * i + 1)) / 8.0f;
    }
    quantize_act_q8_fake(x, want, (int64_t)n_tok * cols);
    rig r = rig_open(ctx);
    uint64_t bytes = op_quant_act_bytes(n_tok + 3, cols + 64), cap = bytes / 40; /* room to spare, as the decoder's */
    uint32_t *poison = malloc(bytes);
    assert_non_null(poison);
    memset(poison, 0xA5, bytes);
    gpu_buffer *xb = upload(ctx->dev, x, (size_t)n_tok * cols * 4), *xqb = upload(ctx->dev, poison, bytes);
    float *up = glu ? rand_floats((size_t)n_tok * cols, 2.0f) : NULL;
    gpu_buffer *ub = glu ? upload(ctx->dev, up, (size_t)n_tok * cols * 4) : NULL;
    if (glu) op_swiglu_quant_many(r.g, xb, ub, xqb, cols);
    else op_quant_act(r.g, xb, xqb, cols, from_out);
    rig_run(&r, 0, (uint32_t)n_tok, 0, from_out ? (uint32_t)n : 1u);
    if (glu) { /* x became silu(x) * up, swiglu.wgsl's; the quants are of that, as the GPU left it */
        float *act = download(ctx->dev, xb, (size_t)n_tok * cols);
        for (int i = 0; i < n_tok * cols; i++) {
            double g = x[i], a = g / (1.0 + exp(-g)) * up[i];
            if (!(fabs(act[i] - a) <= 1e-6 + 1e-5 * fabs(a)))
                fail_msg("swiglu+quant_act cols %d rows %d: element %d = %.9g, silu(%g) * %g = %.9g", cols, n, i,
                         (double)act[i], g, (double)up[i], a);
        }
        quantize_act_q8_fake(act, want, (int64_t)n_tok * cols);
        free(act);
        free(up);
        gpu_buffer_free(ub);
    }
    float *got = download(ctx->dev, xqb, bytes / 4);
    uint32_t *w = malloc(bytes);
    assert_non_null(w);
    memcpy(w, got, bytes);
    for (int t = 0; t < n_tok; t++)
        for (int b = 0; b < nb; b++) {
            uint64_t i = (uint64_t)t * nb + b;
            uint32_t dw = w[8 * cap + 2 * i], sw = w[8 * cap + 2 * i + 1];
            if (t >= n) { /* from_out: rows past n_out untouched */
                int same = dw == poison[0] && sw == poison[0];
                for (int j = 0; j < 8; j++) same &= w[8 * i + j] == poison[0];
                if (!same) fail_msg("quant_act cols %d rows %d of %d: row %d block %d was written", cols, n, n_tok, t, b);
                continue;
            }
            float d;
            memcpy(&d, &dw, 4);
            int32_t sum = 0;
            for (int j = 0; j < 32; j++) {
                int q = (int8_t)(w[8 * i + j / 4] >> (8 * (j % 4)));
                float v = (float)q * d, e = want[(size_t)t * cols + 32 * b + j];
                sum += q;
                if (memcmp(&v, &e, 4) && !(v == 0.0f && e == 0.0f))
                    fail_msg("quant_act cols %d rows %d%s: row %d element %d: quant %d x scale %g = %.9g, the CPU's %.9g",
                             cols, n, from_out ? " (n_out)" : "", t, 32 * b + j, q, (double)d, (double)v, (double)e);
            }
            if ((int32_t)sw != sum)
                fail_msg("quant_act cols %d rows %d: row %d block %d: sum %d, the quants' %d", cols, n, t, b, (int32_t)sw, sum);
        }
    rig_close(&r);
    gpu_buffer_free(xb);
    gpu_buffer_free(xqb);
    free(x); free(want); free(poison); free(got); free(w);
}

/* Rows: a pair, a partial workgroup, past several; cols: one block and odd
 * counts of them; the n_out rows of the LM head's input. */
static void test_quant_act(void **state) {
    (void)state;
    /* rows, cols, n_out rows (from_out), SwiGLU's activation made first (op_swiglu_quant_many) */
    const int cases[][4] = {{2, 32, 0, 0},   {3, 96, 0, 0},   {17, 160, 0, 0}, {131, 2080, 0, 0},
                            {5, 96, 1, 0},   {70, 224, 1, 0}, {3, 96, 0, 1},   {131, 2080, 0, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_quant_act(cases[i][0], cases[i][1], cases[i][2], cases[i][3]);
}

/* ---- matvec.wgsl (one-token steps) ----
 * op_matmul records matvec.wgsl beside the batched kernel, for steps whose
 * count (tokens, or n_out for the logits) is one: every option of the
 * batched kernel again at one token, each weight type, with rows around a
 * group's (up to 4) rows and a workgroup's groups, rows longer than the
 * unrolled loads of a lane, split rows; the same tolerance. */
static void test_matvec(void **state) {
    (void)state;
    const mm_case cases[] = {
        {0, 1, 32, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0},    {0, 3, 96, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        {0, 37, 160, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  {0, 70, 64, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        {0, 5, 2080, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  {0, 203, 1024, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        {0, 19, 224, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0},  /* accumulate: the residual add */
        {0, 40, 128, 1, 0, 56, 1, 0, 0, 0, 0, 0, 0}, /* n_out: the logits, a wider stride */
        {0, 37, 96, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0},   /* bias */
        {0, 61, 160, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0},  /* bias, accumulate, split */
        {0, 24, 96, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0},   /* the cache row at pos0, bias */
        {0, 96, 64, 1, 0, 0, 0, 0, 1, 1, 32, 32, 0}, /* K part of a stack, into the cache */
        {0, 60, 96, 1, 0, 0, 0, 1, 1, 0, 3, 40, 0},  /* a part over split rows */
        {0, 100, 96, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0},  /* split */
    };
    matmul_cases(cases, sizeof cases / sizeof *cases);
}

static double rms_inv(const float *x, int dim, float eps) {
    double ss = 0;
    for (int i = 0; i < dim; i++) ss += (double)x[i] * x[i];
    return 1.0 / sqrt(ss / dim + eps);
}

/* The RMSNorm of x folded into a one-token product (mv_norm.wgsl,
 * mv_norm_bias.wgsl): y = W (x / rms(x) * nw) (+ bias), from the residual
 * stream's one row, or for the logits (n_out 1 of a 6-token step) from its
 * row out_first. The normed x is never written, so x is poisoned; the
 * tolerance is the product's (the norm's own rounding is far below it). */
static void check_matvec_norm(uint32_t type, int rows, int cols, int bias, int logits, int split) {
    gpu_ctx *ctx = split ? &split_ctx : &main_ctx;
    int n_tok = logits ? 6 : 1, out_first = logits ? 4 : 0;
    const float eps = 1e-5f;
    test_weight tw;
    make_weight(&tw, type, rows, cols);
    float *res = rand_floats((size_t)n_tok * cols, 3.0f), *nw = rand_floats((size_t)cols, 1.0f);
    float *b = rand_floats((size_t)rows, 1.0f), *junk = malloc((size_t)n_tok * cols * 4);
    for (int i = 0; i < n_tok * cols; i++) junk[i] = NAN;
    size_t ny = (size_t)rows + 1;
    float *y0 = rand_floats(ny, 1.0f);
    double *want = alloc_d(ny), *tol = alloc_d(ny);
    untouched(want, tol, y0, 0, ny);
    const float *xr = res + (size_t)out_first * cols;
    double sc = rms_inv(xr, cols, eps);
    for (int r = 0; r < rows; r++) {
        double acc = bias ? b[r] : 0, mag = fabs(acc);
        for (int k = 0; k < cols; k++) {
            double pr = (double)tw.w[(size_t)r * cols + k] * (xr[k] * sc * nw[k]);
            acc += pr;
            mag += fabs(pr);
        }
        want[r] = acc;
        tol[r] = 2e-5 * mag;
    }
    char err[512];
    gpu_matrix m;
    assert_int_equal(gpu_matrix_upload(ctx->dev, &tw.t, &m, err, sizeof err), 0);
    rig rg = rig_open(ctx);
    gpu_buffer *xb = upload(ctx->dev, junk, (size_t)n_tok * cols * 4), *rb = upload(ctx->dev, res, (size_t)n_tok * cols * 4),
               *nb = upload(ctx->dev, nw, (size_t)cols * 4), *bb = upload(ctx->dev, b, (size_t)rows * 4),
               *yb = upload(ctx->dev, y0, ny * 4);
    matmul_opts mo = {.bias = bias ? bb : NULL, .rows = logits ? ROWS_OUT : ROWS_STEP, .norm = nb, .norm_x = rb, .norm_eps = eps};
    gpu_buffer *xqb = quantize_for(&rg, &m, xb, n_tok, cols, logits); /* bound, never run: a one-row step */
    mo.xq = xqb;
    op_matmul(rg.g, &m, xb, yb, &mo);
    rig_run(&rg, 0, (uint32_t)n_tok, (uint32_t)out_first, 1);
    float *y = download(ctx->dev, yb, ny);
    char what[200];
    snprintf(what, sizeof what, "matvec+rmsnorm %s rows %d cols %d%s%s%s", ggml_type_name(type), rows, cols,
             bias ? " bias" : "", logits ? " logits from row 4 of 6" : "", split ? " split" : "");
    expect_close(what, "Y", y, want, tol, ny, ny);
    rig_close(&rg);
    gpu_buffer_free(xb); gpu_buffer_free(rb); gpu_buffer_free(nb); gpu_buffer_free(bb); gpu_buffer_free(yb);
    gpu_buffer_free(xqb);
    gpu_matrix_free(&m);
    free_weight(&tw);
    free(res); free(nw); free(b); free(junk); free(y0); free(y); free(want); free(tol);
}

static void test_matvec_norm(void **state) {
    (void)state;
    for (int i = 0; i < N_TYPES; i++) {
        check_matvec_norm(types[i], 37, 160, 0, 0, 0);
        check_matvec_norm(types[i], 5, 2080, 1, 0, 0);
        check_matvec_norm(types[i], 70, 256, 0, 1, 0);
        check_matvec_norm(types[i], 61, 96, 1, 0, 1);
    }
}

/* gate = act(Wg xn) * (Wu xn), xn = rmsnorm(x) * nw: the ffn of a one-token
 * step in one dispatch (matvec_glu.wgsl), SiLU (swiglu.wgsl's form) and
 * GELU (gelu.wgsl's). Each product's error (2e-5 of its sum |w x|, as
 * above) carries through the activation by its slope (under 1.2 for both)
 * and through the other factor. */
static void check_matvec_glu(uint32_t type, int rows, int cols, int gelu) {
    const float eps = 1e-6f;
    test_weight tg, tu;
    make_weight(&tg, type, rows, cols);
    make_weight(&tu, type, rows, cols);
    float *x = rand_floats((size_t)cols, 2.0f), *nw = rand_floats((size_t)cols, 1.5f);
    size_t ny = (size_t)rows + 1;
    float *y0 = rand_floats(ny, 1.0f);
    double *want = alloc_d(ny), *tol = alloc_d(ny);
    untouched(want, tol, y0, 0, ny);
    double sc = rms_inv(x, cols, eps);
    for (int r = 0; r < rows; r++) {
        double g = 0, u = 0, mg = 0, mu = 0;
        for (int k = 0; k < cols; k++) {
            double xn = x[k] * sc * nw[k];
            double pg = tg.w[(size_t)r * cols + k] * xn, pu = tu.w[(size_t)r * cols + k] * xn;
            g += pg; u += pu; mg += fabs(pg); mu += fabs(pu);
        }
        double a = gelu ? 0.5 * g * (1 + tanh(0.7978845608028654 * (g + 0.044715 * g * g * g))) : g / (1 + exp(-g));
        want[r] = a * u;
        tol[r] = 2e-5 * (mg * 1.2 * fabs(u) + mu * fabs(a)) + 1e-6 * fabs(want[r]);
    }
    char err[512];
    gpu_matrix mg_, mu_;
    assert_int_equal(gpu_matrix_upload(main_ctx.dev, &tg.t, &mg_, err, sizeof err), 0);
    assert_int_equal(gpu_matrix_upload(main_ctx.dev, &tu.t, &mu_, err, sizeof err), 0);
    rig rg = rig_open(&main_ctx);
    gpu_buffer *xb = upload(main_ctx.dev, x, (size_t)cols * 4), *nb = upload(main_ctx.dev, nw, (size_t)cols * 4),
               *yb = upload(main_ctx.dev, y0, ny * 4);
    op_matvec_glu(rg.g, &mg_, &mu_, xb, nb, eps, yb, gelu);
    rig_run(&rg, 0, 1, 0, 1);
    float *y = download(main_ctx.dev, yb, ny);
    char what[200];
    snprintf(what, sizeof what, "matvec_glu %s %s rows %d cols %d", gelu ? "gelu" : "silu", ggml_type_name(type), rows, cols);
    expect_close(what, "G", y, want, tol, ny, ny);
    rig_close(&rg);
    gpu_buffer_free(xb); gpu_buffer_free(nb); gpu_buffer_free(yb);
    gpu_matrix_free(&mg_); gpu_matrix_free(&mu_);
    free_weight(&tg); free_weight(&tu);
    free(x); free(nw); free(y0); free(y); free(want); free(tol);
}

static void test_matvec_glu(void **state) {
    (void)state;
    for (int i = 0; i < N_TYPES; i++) {
        check_matvec_glu(types[i], 1, 32, 0);
        check_matvec_glu(types[i], 37, 160, 0);
        check_matvec_glu(types[i], 70, 1056, 1);
        check_matvec_glu(types[i], 129, 256, 0);
    }
}

/* ---- the norm a fused one-token kernel folds in (fused_norm) ----
 * RMSNorm: xn = x / rms(x) * nw; LayerNorm: xn = (x - mean) / sd * nw + nb,
 * in double here. The fused kernels read nw, then nb (LayerNorm), then the
 * product's biases from one buffer, which norm_vecs lays out. x for a
 * LayerNorm is offset (50) and scaled (3) so that a mean left in, a variance
 * taken as E[x^2] - E[x]^2 or an RMSNorm in its place is far outside the
 * tolerance. */
typedef struct {
    int ln, cols;
    float eps;
    float *nw, *nb; /* nb: LayerNorm only */
    double mean, sd; /* LayerNorm: of the row normed */
} ref_norm;

static ref_norm ref_norm_make(int ln, int cols, float eps) {
    ref_norm n = {ln, cols, eps, rand_floats((size_t)cols, 1.0f), ln ? rand_floats((size_t)cols, 1.0f) : NULL, 0, 1};
    return n;
}

/* x normed into xn; with mistake set, a LayerNorm becomes an RMSNorm without
 * its bias (what a kernel that missed it would compute). */
static void ref_norm_apply(ref_norm *n, const float *x, double *xn, int mistake) {
    int cols = n->cols;
    if (!n->ln || mistake) {
        double sc = rms_inv(x, cols, n->eps);
        for (int k = 0; k < cols; k++) xn[k] = x[k] * sc * n->nw[k];
        return;
    }
    double sum = 0, ss = 0;
    for (int k = 0; k < cols; k++) sum += x[k];
    n->mean = sum / cols;
    for (int k = 0; k < cols; k++) ss += (x[k] - n->mean) * (x[k] - n->mean);
    n->sd = sqrt(ss / cols + n->eps);
    for (int k = 0; k < cols; k++) xn[k] = (x[k] - n->mean) / n->sd * n->nw[k] + n->nb[k];
}

/* The tolerance of dot(w, xn) (w a row of cols): 2e-5 of sum |w xn| as for
 * any product; a LayerNorm adds its own error on each xn[k] (layernorm's
 * test: 2e-5 of (|xhat| + |nw|) per unit of 1 + |mean| / sd) times |w[k]|. */
static double ref_norm_tol(const ref_norm *n, const float *w, const double *xn) {
    double t = 0;
    for (int k = 0; k < n->cols; k++) {
        t += 2e-5 * fabs(w[k] * xn[k]);
        if (n->ln) t += 2e-5 * fabs(w[k]) * (fabs(xn[k] - n->nb[k]) + fabs(n->nw[k])) * (1 + fabs(n->mean) / n->sd);
    }
    return t;
}

/* [nw | nb | bias] as fused_norm reads it; bias (n_bias floats) may be NULL. */
static gpu_buffer *norm_vecs(gpu_device *d, const ref_norm *n, const float *bias, int n_bias) {
    size_t len = (size_t)n->cols * (n->ln ? 2 : 1), all = len + (bias ? (size_t)n_bias : 0);
    float *v = malloc(all * sizeof *v);
    memcpy(v, n->nw, (size_t)n->cols * 4);
    if (n->ln) memcpy(v + n->cols, n->nb, (size_t)n->cols * 4);
    if (bias) memcpy(v + len, bias, (size_t)n_bias * 4);
    gpu_buffer *b = upload(d, v, all * 4);
    free(v);
    return b;
}

static void ref_norm_free(ref_norm *n) { free(n->nw); free(n->nb); }

static float *norm_input(int ln, size_t n) {
    float *x = rand_floats(n, 3.0f);
    for (size_t i = 0; ln && i < n; i++) x[i] += 50.0f;
    return x;
}

/* A deliberate mistake (the reference as a kernel with it would compute)
 * must fall outside the tolerance somewhere: the comparison above would
 * have caught it. */
static void expect_caught(const char *what, const char *mistake, const float *got, const double *mutant,
                          const double *tol, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!(fabs((double)got[i] - mutant[i]) <= tol[i])) return;
    fail_msg("%s: %s stays within the tolerance", what, mistake);
}

/* The attention's norm and Q, K, V projections of a one-token step in one
 * dispatch (matvec_qkv.wgsl): q from Wq, and the K and V cache rows at pos0
 * (3 here) from Wk and Wv, every other cache row untouched; each product
 * held as test_matvec_norm holds one. With bias, each row's bias (Qwen 2's,
 * read after the norm's vectors) before RoPE; with ln, LayerNorm instead of
 * RMSNorm (GPT-2); with stacked, Wq, Wk and Wv one matrix read by parts
 * (GPT-2's attn_qkv). Where a case has a bias, a LayerNorm or a stack, the
 * reference without it (no bias, RMSNorm, K and V read from Q's rows) is
 * shown to fail the comparison. */
typedef struct { uint32_t type; int q_rows, kv_rows, cols, head_dim, pairs, neox, bias, ln, stacked; } qkv_case;

/* want/tol of the three products at pos0 (RoPE'd by cs where pairs > 0); mistake:
 * 1 no bias, 2 RMSNorm for LayerNorm, 3 K and V from Q's rows */
static void qkv_ref(const qkv_case *c, ref_norm *n, const float *x, const float *const w[3], const float *bias,
                    const float *cs, int pos0, int mistake, double *want[3], double *tol[3]) {
    double *xn = alloc_d((size_t)c->cols);
    ref_norm_apply(n, x, xn, mistake == 2);
    const int first[3] = {0, c->q_rows, c->q_rows + c->kv_rows};
    for (int m = 0; m < 3; m++) {
        int rows = m ? c->kv_rows : c->q_rows;
        for (int r = 0; r < rows; r++) {
            const float *wr = w[mistake == 3 ? 0 : m] + (size_t)r * c->cols;
            double acc = c->bias && mistake != 1 ? bias[first[m] + r] : 0;
            for (int k = 0; k < c->cols; k++) acc += wr[k] * xn[k];
            size_t o = m ? (size_t)pos0 * c->kv_rows + r : (size_t)r;
            want[m][o] = acc;
            tol[m][o] = ref_norm_tol(n, wr, xn);
        }
    }
    /* RoPE on Q and the new K row: each pair (i0, i1) of a head turned by the table's (cos, sin) at pos0 */
    for (int m = 0; m < 2 && c->pairs > 0; m++) {
        int rows = m ? c->kv_rows : c->q_rows, pairs = c->pairs;
        double *wv = want[m] + (m ? (size_t)pos0 * c->kv_rows : 0), *t = tol[m] + (m ? (size_t)pos0 * c->kv_rows : 0);
        for (int h0 = 0; h0 < rows; h0 += c->head_dim)
            for (int i = 0; i < pairs; i++) {
                int i0 = h0 + (c->neox ? i : 2 * i), i1 = h0 + (c->neox ? i + pairs : 2 * i + 1);
                double co = cs[((size_t)pos0 * pairs + i) * 2], sn = cs[((size_t)pos0 * pairs + i) * 2 + 1];
                double x0 = wv[i0], x1 = wv[i1], t0 = t[i0], t1 = t[i1];
                wv[i0] = x0 * co - x1 * sn;
                wv[i1] = x0 * sn + x1 * co;
                t[i0] = t[i1] = (t0 + t1) * 2 + 1e-6 * (fabs(x0) + fabs(x1));
            }
    }
    free(xn);
}

/* With v_type other than c->type (not stacked), V shares the kernel only
 * where both are K-quants (mv_qkv_v_own.wgsl: Q4_K_M's q6_K V); otherwise
 * op_matvec_qkv takes Q and K alone (QKV_NO_V) and must leave the V cache
 * as it was. */
static void check_qkv_v(const qkv_case *c, uint32_t v_type) {
    const float eps = 1e-5f;
    const int v_apart = v_type != c->type && !kernels_qkv_v_own(dtype_gpu_slot(c->type), dtype_gpu_slot(v_type));
    const int n_ctx = 5, pos0 = 3, all_rows = c->q_rows + 2 * c->kv_rows;
    const int rows_of[3] = {c->q_rows, c->kv_rows, c->kv_rows};
    int nm = c->stacked ? 1 : 3;
    test_weight tw[3];
    for (int m = 0; m < nm; m++) make_weight(&tw[m], m == 2 ? v_type : c->type, c->stacked ? all_rows : rows_of[m], c->cols);
    const float *w[3] = {tw[0].w, c->stacked ? tw[0].w + (size_t)c->q_rows * c->cols : tw[1].w,
                         c->stacked ? tw[0].w + (size_t)(c->q_rows + c->kv_rows) * c->cols : tw[2].w};
    ref_norm n = ref_norm_make(c->ln, c->cols, eps);
    float *x = norm_input(c->ln, (size_t)c->cols), *bias = rand_floats((size_t)all_rows, 1.0f);
    size_t nq = (size_t)c->q_rows + 1, nc = (size_t)n_ctx * c->kv_rows, len[3] = {nq, nc, nc};
    float *q0 = rand_floats(nq, 1.0f), *c0[2] = {rand_floats(nc, 1.0f), rand_floats(nc, 1.0f)};
    const float *before[3] = {q0, c0[0], c0[1]};
    float *cs = rand_floats((size_t)n_ctx * (c->pairs > 0 ? c->pairs : 1) * 2, 1.0f);
    double *want[3], *tol[3], *mut[3], *mtol[3];
    for (int m = 0; m < 3; m++) {
        want[m] = alloc_d(len[m]); tol[m] = alloc_d(len[m]); mut[m] = alloc_d(len[m]); mtol[m] = alloc_d(len[m]);
        untouched(want[m], tol[m], before[m], 0, len[m]);
        untouched(mut[m], mtol[m], before[m], 0, len[m]);
    }
    qkv_ref(c, &n, x, w, bias, cs, pos0, 0, want, tol);
    if (v_apart) untouched(want[2], tol[2], before[2], 0, len[2]);

    char err[512];
    gpu_matrix mm[3];
    for (int m = 0; m < nm; m++) assert_int_equal(gpu_matrix_upload(main_ctx.dev, &tw[m].t, &mm[m], err, sizeof err), 0);
    rig rg = rig_open(&main_ctx);
    gpu_device *d = main_ctx.dev;
    gpu_buffer *xb = upload(d, x, (size_t)c->cols * 4), *vb = norm_vecs(d, &n, c->bias ? bias : NULL, all_rows);
    gpu_buffer *out[3] = {upload(d, q0, nq * 4), upload(d, c0[0], nc * 4), upload(d, c0[1], nc * 4)};
    gpu_buffer *csb = upload(d, cs, (size_t)n_ctx * (c->pairs > 0 ? c->pairs : 1) * 8);
    const qkv_rope rope = {c->pairs, c->neox, c->head_dim, csb};
    const fused_norm fn = {vb, c->ln, c->bias, eps};
    const qkv_rope *rp = c->pairs > 0 ? &rope : NULL;
    int rec = c->stacked ? op_matvec_qkv_stacked(rg.g, &mm[0], c->q_rows, xb, &fn, out[0], out[1], out[2], rp)
                         : op_matvec_qkv(rg.g, &mm[0], &mm[1], &mm[2], xb, &fn, out[0], out[1], out[2], rp);
    if (rec != ((c->pairs > 0 ? 2 : 1) | (v_apart ? QKV_NO_V : 0)))
        fail_msg("matvec_qkv recorded %d for %d/%d rows, %d pairs, V %s", rec, c->q_rows, c->kv_rows, c->pairs,
                 ggml_type_name(v_type));
    rig_run(&rg, (uint32_t)pos0, 1, 0, 1);
    float *got[3];
    for (int m = 0; m < 3; m++) got[m] = download(d, out[m], len[m]);
    char what[200];
    snprintf(what, sizeof what, "matvec_qkv %s q %d kv %d cols %d rope %d%s%s%s%s%s%s", ggml_type_name(c->type),
             c->q_rows, c->kv_rows, c->cols, c->pairs, c->neox ? " neox" : "", c->bias ? " bias" : "",
             c->ln ? " layernorm" : "", c->stacked ? " stacked" : "",
             v_type == c->type ? "" : v_apart ? " V apart, " : " V in, ", v_type == c->type ? "" : ggml_type_name(v_type));
    const char *names[3] = {"Q", "K cache", "V cache"};
    for (int m = 0; m < 3; m++) expect_close(what, names[m], got[m], want[m], tol[m], len[m], m ? (size_t)c->kv_rows : nq);
    const int has[4] = {0, c->bias, c->ln, c->stacked};
    const char *mistakes[4] = {NULL, "no bias", "RMSNorm for LayerNorm", "K and V read from Q's rows"};
    for (int k = 1; k < 4; k++) {
        if (!has[k]) continue;
        qkv_ref(c, &n, x, w, bias, cs, pos0, k, mut, mtol);
        /* the stack's mistake shows in K and V, the others in Q already */
        int m = k == 3 ? 1 : 0;
        expect_caught(what, mistakes[k], got[m], mut[m], tol[m], len[m]);
    }
    rig_close(&rg);
    for (int m = 0; m < 3; m++) {
        free(got[m]); free(want[m]); free(tol[m]); free(mut[m]); free(mtol[m]);
        gpu_buffer_free(out[m]);
        if (m < nm) { gpu_matrix_free(&mm[m]); free_weight(&tw[m]); }
    }
    gpu_buffer_free(xb); gpu_buffer_free(vb); gpu_buffer_free(csb);
    ref_norm_free(&n);
    free(x); free(bias); free(q0); free(c0[0]); free(c0[1]); free(cs);
}

static void check_qkv(const qkv_case *c) { check_qkv_v(c, c->type); }

static void check_matvec_qkv(uint32_t type, int q_rows, int kv_rows, int cols) {
    qkv_case c = {type, q_rows, kv_rows, cols, 0, 0, 0, 0, 0, 0};
    check_qkv(&c);
}

static void test_matvec_qkv(void **state) {
    (void)state;
    for (int i = 0; i < N_TYPES; i++) {
        const qkv_case cases[] = {
            {types[i], 64, 32, 160, 0, 0, 0, 0, 0, 0},
            {types[i], 128, 32, 2080, 0, 0, 0, 0, 0, 0},
            {types[i], 36, 4, 96, 0, 0, 0, 0, 0, 0},
            /* RoPE in the epilogue: NORMAL and NEOX pairs, whole and partial rotary, GQA */
            {types[i], 64, 32, 160, 16, 8, 0, 0, 0, 0},
            {types[i], 64, 32, 160, 16, 8, 1, 0, 0, 0},
            {types[i], 128, 64, 96, 32, 12, 1, 0, 0, 0},
            {types[i], 128, 64, 96, 32, 12, 0, 0, 0, 0},
        };
        for (size_t j = 0; j < sizeof cases / sizeof *cases; j++) check_qkv(&cases[j]);
    }
}

/* Q, K and V biases (Qwen 2): added to each row before RoPE (NEOX, as Qwen's,
 * and NORMAL; partial rotary), and without RoPE. */
static void test_matvec_qkv_bias(void **state) {
    (void)state;
    for (int i = 0; i < N_TYPES; i++) {
        const qkv_case cases[] = {
            {types[i], 64, 32, 160, 16, 8, 1, 1, 0, 0},
            {types[i], 128, 64, 96, 32, 12, 0, 1, 0, 0},
            {types[i], 36, 4, 1056, 0, 0, 0, 1, 0, 0},
        };
        for (size_t j = 0; j < sizeof cases / sizeof *cases; j++) check_qkv(&cases[j]);
    }
}

/* GPT-2's attention input: LayerNorm folded in, Q, K and V stacked in one
 * matrix with their biases; rows of x longer than a lane's LN_LOADS loads
 * (1056 columns: 264 vec4s over 64 lanes or fewer), and MHA and GQA shapes. */
static void test_matvec_qkv_layernorm(void **state) {
    (void)state;
    for (int i = 0; i < N_TYPES; i++) {
        const qkv_case cases[] = {
            {types[i], 64, 64, 64, 0, 0, 0, 1, 1, 1},
            {types[i], 96, 96, 1056, 0, 0, 0, 1, 1, 1},
            {types[i], 64, 16, 160, 0, 0, 0, 1, 1, 1},
            {types[i], 64, 32, 96, 0, 0, 0, 0, 1, 0}, /* three matrices, no bias */
        };
        for (size_t j = 0; j < sizeof cases / sizeof *cases; j++) check_qkv(&cases[j]);
    }
}

/* y = act(W xn + b), xn = layernorm(x) (op_matvec_lnorm, matvec_glu.wgsl's
 * ungated variant): GPT-2's up projection with GELU in a one-token step, and
 * its LM head (no activation, no bias) from x's row out_first of a step of
 * several tokens with one n_out. Tolerance as check_matvec_glu's (the
 * activation's slope under 1.2). A missing bias and RMSNorm for LayerNorm
 * are shown to fail the comparison. */
static double gelu_ref(double g) { return 0.5 * g * (1 + tanh(0.7978845608028654 * (g + 0.044715 * g * g * g))); }

static void lnorm_ref(test_weight *tw, ref_norm *n, const float *x, const float *bias, int rows, int gelu, int mistake,
                      double *want, double *tol) {
    double *xn = alloc_d((size_t)n->cols);
    ref_norm_apply(n, x, xn, mistake == 2);
    for (int r = 0; r < rows; r++) {
        const float *wr = tw->w + (size_t)r * n->cols;
        double a = bias && mistake != 1 ? bias[r] : 0;
        for (int k = 0; k < n->cols; k++) a += wr[k] * xn[k];
        want[r] = gelu ? gelu_ref(a) : a;
        tol[r] = ref_norm_tol(n, wr, xn) * 1.2 + 1e-6 * fabs(want[r]);
    }
    free(xn);
}

static void check_matvec_lnorm(uint32_t type, int rows, int cols, int gelu, int bias, int from_out) {
    const float eps = 1e-5f;
    int n_tok = from_out ? 5 : 1, out_first = from_out ? 3 : 0;
    test_weight tw;
    make_weight(&tw, type, rows, cols);
    ref_norm n = ref_norm_make(1, cols, eps);
    float *x = norm_input(1, (size_t)n_tok * cols), *b = rand_floats((size_t)rows, 1.0f);
    size_t ny = (size_t)rows + 1;
    float *y0 = rand_floats(ny, 1.0f);
    double *want = alloc_d(ny), *tol = alloc_d(ny), *mut = alloc_d(ny), *mtol = alloc_d(ny);
    untouched(want, tol, y0, 0, ny);
    untouched(mut, mtol, y0, 0, ny);
    const float *xr = x + (size_t)out_first * cols;
    lnorm_ref(&tw, &n, xr, bias ? b : NULL, rows, gelu, 0, want, tol);
    char err[512];
    gpu_matrix m;
    assert_int_equal(gpu_matrix_upload(main_ctx.dev, &tw.t, &m, err, sizeof err), 0);
    rig rg = rig_open(&main_ctx);
    gpu_device *d = main_ctx.dev;
    gpu_buffer *xb = upload(d, x, (size_t)n_tok * cols * 4), *vb = norm_vecs(d, &n, bias ? b : NULL, rows),
               *yb = upload(d, y0, ny * 4);
    const fused_norm fn = {vb, 1, bias, eps};
    if (op_matvec_lnorm(rg.g, &m, xb, &fn, yb, gelu, from_out) != 1) fail_msg("op_matvec_lnorm recorded nothing");
    rig_run(&rg, 0, (uint32_t)n_tok, (uint32_t)out_first, 1);
    float *y = download(d, yb, ny);
    char what[200];
    snprintf(what, sizeof what, "matvec_lnorm %s rows %d cols %d%s%s%s", ggml_type_name(type), rows, cols,
             gelu ? " gelu" : "", bias ? " bias" : "", from_out ? " logits from row 3 of 5" : "");
    expect_close(what, "Y", y, want, tol, ny, ny);
    for (int k = bias ? 1 : 2; k <= 2; k++) {
        lnorm_ref(&tw, &n, xr, bias ? b : NULL, rows, gelu, k, mut, mtol);
        expect_caught(what, k == 1 ? "no bias" : "RMSNorm for LayerNorm", y, mut, tol, ny);
    }
    rig_close(&rg);
    gpu_buffer_free(xb); gpu_buffer_free(vb); gpu_buffer_free(yb);
    gpu_matrix_free(&m);
    free_weight(&tw);
    ref_norm_free(&n);
    free(x); free(b); free(y0); free(y); free(want); free(tol); free(mut); free(mtol);
}

static void test_matvec_lnorm(void **state) {
    (void)state;
    for (int i = 0; i < N_TYPES; i++) {
        check_matvec_lnorm(types[i], 256, 64, 1, 1, 0);   /* GPT-2's up: 4 x dim */
        check_matvec_lnorm(types[i], 37, 1056, 1, 1, 0);  /* rows of x past a lane's loads, odd rows */
        check_matvec_lnorm(types[i], 129, 160, 0, 0, 1);  /* the LM head */
        check_matvec_lnorm(types[i], 1, 32, 0, 1, 0);   /* one row, no activation: its bias must show */
    }
}

/* ---- embed.wgsl ----
 * X[t] = scale * dequantized row ids[t], or with by_pos X[t] += row pos0 + t
 * (learned positions). Dequantizing is one f16 or bf16 widening and at most
 * one f32 multiply per element, the scale one more and the position one
 * f32 add, each correctly rounded on both sides (done in f32 here too), so
 * the GPU must match the CPU bit for bit (tolerance 0). */
static void check_embed_mode(uint32_t type, int vocab, int cols, int n, int split, float scale, int by_pos, int pos0) {
    gpu_ctx *ctx = split ? &split_ctx : &main_ctx;
    test_weight tw;
    make_weight(&tw, type, vocab, cols);
    char err[512];
    gpu_matrix m;
    assert_int_equal(gpu_matrix_upload(ctx->dev, &tw.t, &m, err, sizeof err), 0);
    if (split && m.n_chunks < 2) fail_msg("embed split case: %d rows came out in one buffer", vocab);
    /* The first and last rows, both sides of each chunk boundary, a repeat,
     * then random rows. */
    uint32_t *ids = malloc((size_t)n * sizeof *ids);
    for (int t = 0; t < n; t++) ids[t] = (uint32_t)irand(vocab);
    int k = 0;
    if (k < n) ids[k++] = (uint32_t)vocab - 1;
    if (k < n) ids[k++] = 0;
    for (int c = 1; c < m.n_chunks && k + 1 < n; c++) {
        ids[k++] = (uint32_t)(c * m.chunk_rows - 1);
        ids[k++] = (uint32_t)(c * m.chunk_rows);
    }
    if (k < n && k > 0) { ids[k] = ids[k - 1]; k++; }
    size_t nx = (size_t)(n + 1) * cols;
    float *x0 = rand_floats(nx, 1.0f);
    double *want = alloc_d(nx), *tol = alloc_d(nx);
    untouched(want, tol, x0, 0, nx);
    for (int t = 0; t < n; t++)
        for (int c = 0; c < cols; c++) {
            size_t o = (size_t)t * cols + c;
            float v = by_pos ? x0[o] + tw.w[(size_t)(pos0 + t) * cols + c] : tw.w[(size_t)ids[t] * cols + c] * scale;
            want[o] = v;
        }

    rig r = rig_open(ctx);
    gpu_buffer *ib = upload(ctx->dev, ids, (size_t)n * 4), *xb = upload(ctx->dev, x0, nx * 4);
    if (by_pos) op_add_pos_embed(r.g, &m, ib, xb);
    else op_embed(r.g, &m, ib, xb, scale);
    rig_run(&r, (uint32_t)pos0, (uint32_t)n, 0, 1);
    float *x = download(ctx->dev, xb, nx);
    char what[200];
    snprintf(what, sizeof what, "embed %s vocab %d cols %d tokens %d", ggml_type_name(type), vocab, cols, n);
    if (scale != 1) snprintf(what + strlen(what), sizeof what - strlen(what), " scale %g", scale);
    if (by_pos) snprintf(what + strlen(what), sizeof what - strlen(what), " positions from %d", pos0);
    if (split) snprintf(what + strlen(what), sizeof what - strlen(what), " split (%d buffers of %d rows)", m.n_chunks, m.chunk_rows);
    expect_close(what, "X", x, want, tol, nx, (size_t)cols);
    rig_close(&r);
    gpu_buffer_free(ib);
    gpu_buffer_free(xb);
    gpu_matrix_free(&m);
    free_weight(&tw);
    free(ids); free(x0); free(x); free(want); free(tol);
}

static void check_embed(uint32_t type, int vocab, int cols, int n, int split) {
    check_embed_mode(type, vocab, cols, n, split, 1.0f, 0, 0);
}

static void test_embed(void **state) {
    (void)state;
    for (int i = 0; i < N_TYPES; i++) {
        check_embed(types[i], 1, 32, 1, 0);
        check_embed(types[i], 50, 96, 7, 0);
        check_embed(types[i], 23, 288, 13, 0); /* 72 vec4s a row: more than the 64 lanes */
    }
}

static void test_embed_split(void **state) {
    (void)state;
    for (int i = 0; i < N_TYPES; i++) check_embed(types[i], 100, 96, 40, 1);
}

/* Every kernel kind on a matrix the planes tests split over chunks: one
 * token, a part of the rows across chunks, a batch; the norm variant and
 * the embedding. */
static void check_split_kernels(uint32_t type, int rows, int cols) {
    const mm_case cases[] = {
        {type, rows, cols, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0},        /* matvec */
        {type, rows, cols, 1, 1, 0, 0, 1, 1, 0, 5, rows - 9, 0}, /* matvec, a part across chunks */
        {type, rows, cols, 11, 1, 0, 0, 1, 0, 0, 0, 0, 0},       /* matmul */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) check_matmul(&cases[i]);
    check_matvec_norm(type, rows, cols, 1, 0, 1);
    check_embed(type, rows, cols, 16, 1);
}

/* ---- Q8_0 and Q4_0's planes (dtype.h) ----
 * These reach the GPU as two planes a chunk, the quants, then the f16
 * scales, and the kernels find where the scale plane starts from the
 * chunk's length alone. Each chunk of a split upload is read back and
 * compared byte for byte with planes built here from ggml's block layout,
 * its length included; then every kernel that reads the format runs on the
 * same split shapes, and the fused ones (one buffer a matrix) on matrices
 * of other block counts. Row and block counts are not powers of two, the
 * last chunk is shorter than the others, and between them the chunks' block
 * counts leave most remainders mod 8 (the scale plane's padding, which moves
 * where a kernel thinks the plane starts). */

static void check_planes(uint32_t type, int rows, int cols) {
    test_weight tw;
    make_weight(&tw, type, rows, cols);
    char err[512];
    gpu_matrix m;
    assert_int_equal(gpu_matrix_upload(split_ctx.dev, &tw.t, &m, err, sizeof err), 0);
    if (m.n_chunks < 2) fail_msg("planes case: %d rows came out in one buffer", rows);
    size_t nb = (size_t)cols / 32, qb = type == GGML_TYPE_Q8_0 ? 32 : 16;
    for (int c = 0; c < m.n_chunks; c++) {
        size_t r0 = (size_t)c * m.chunk_rows, nr = (size_t)rows - r0 < (size_t)m.chunk_rows ? rows - r0 : (size_t)m.chunk_rows;
        size_t n = nr * nb, len = n * qb + (2 * n + 15) / 16 * 16;
        if (gpu_buffer_size(m.chunk[c]) != len)
            fail_msg("%s rows %d cols %d chunk %d: %llu bytes, want %zu", ggml_type_name(type), rows, cols, c,
                     (unsigned long long)gpu_buffer_size(m.chunk[c]), len);
        uint8_t *want = calloc(len, 1);
        for (size_t i = 0; i < n; i++) {
            const uint8_t *blk = tw.raw + (r0 * nb + i) * (qb + 2);
            memcpy(want + i * qb, blk + 2, qb);
            memcpy(want + n * qb + 2 * i, blk, 2);
        }
        uint8_t *got = (uint8_t *)download(split_ctx.dev, m.chunk[c], len / 4);
        for (size_t b = 0; b < len; b++)
            if (got[b] != want[b])
                fail_msg("%s rows %d cols %d chunk %d (%zu rows): byte %zu (%s plane, block %zu) is %02x, want %02x",
                         ggml_type_name(type), rows, cols, c, nr, b, b < n * qb ? "quant" : "scale",
                         b < n * qb ? b / qb : (b - n * qb) / 2, got[b], want[b]);
        free(got);
        free(want);
    }
    gpu_matrix_free(&m);
    free_weight(&tw);
    check_split_kernels(type, rows, cols);
}

static void test_quant_planes(void **state) {
    (void)state;
    const uint32_t qt[] = {GGML_TYPE_Q8_0, GGML_TYPE_Q4_0};
    for (int i = 0; i < 2; i++) {
        check_planes(qt[i], 45, 224);
        check_planes(qt[i], 130, 96);
        check_planes(qt[i], 77, 160);
        check_matvec_glu(qt[i], 45, 224, 0);
        check_matvec_qkv(qt[i], 42, 6, 224);
        check_qkv(&(qkv_case){qt[i], 42, 6, 224, 0, 0, 0, 1, 1, 1}); /* a stack of 54 rows, LayerNorm */
        check_matvec_lnorm(qt[i], 45, 224, 1, 1, 0);
    }
}

/* ---- the K-quants (Q4_K, Q5_K, Q6_K) ----
 * Their super-blocks reach the GPU repacked (dtype.c: Q4_0's nibble order,
 * the high bits in words of their own, the scales in a plane after the
 * quants) and are dequantized inside the kernels. The weights here are
 * random bytes, so every quant and every packed 6-bit scale and min occur
 * (and Q6_K's negative scales), with d and dmin set to small f16s; what
 * they hold is what dtype.c's ports of ggml's dequantizers say, which the
 * CPU reference model uses too. Every kernel that reads a weight runs on
 * them with the tolerances above (embed.wgsl exactly: a K-quant value's
 * products are exact in f32, kernels/kquant.wgsl), over row counts that
 * leave the super-blocks of a buffer at each remainder mod 4 (Q6_K's scale
 * plane pads 20 bytes a super-block to 16), whole and split. */
static const uint32_t ktypes[] = {GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K};
#define N_KTYPES (int)(sizeof ktypes / sizeof *ktypes)

/* These tests draw from a generator of their own, swapped in at their start
 * and out at their end, so that the draws of the tests after them (some
 * tuned so that a mutant is told apart) stay what they were. */
static uint64_t k_rng = 0x2545f4914f6cdd1dull;
static void k_swap_rng(void) {
    uint64_t t = rng;
    rng = k_rng;
    k_rng = t;
}

static uint8_t *random_k(uint32_t type, int rows, int cols, uint64_t *nbytes) {
    uint32_t be, bb;
    ggml_type_block(type, &be, &bb);
    size_t n = (size_t)rows * (size_t)(cols / (int)be);
    uint8_t *out = malloc(n * bb);
    assert_non_null(out);
    for (size_t b = 0; b < n; b++) {
        uint8_t *p = out + b * bb;
        for (uint32_t i = 0; i < bb; i++) p[i] = (uint8_t)irand(256);
        uint16_t d = f32_to_f16(frand() * 0.001f), dmin = f32_to_f16(frand() * 0.001f);
        memcpy(p + (type == GGML_TYPE_Q6_K ? 208 : 0), &d, 2);
        if (type != GGML_TYPE_Q6_K) memcpy(p + 2, &dmin, 2);
    }
    *nbytes = n * bb;
    return out;
}

static void test_kquant_matmul(void **state) {
    (void)state;
    k_swap_rng();
    /* as matmul_format's, a super-block's columns at least: one, odd
     * counts, more than a workgroup's lanes take in a stage */
    const int shapes[][3] = {{1, 256, 1}, {3, 512, 2}, {37, 256, 8}, {70, 768, 9}, {5, 2304, 3}, {130, 256, 70}};
    for (int i = 0; i < N_KTYPES; i++)
        for (size_t j = 0; j < sizeof shapes / sizeof *shapes; j++) {
            mm_case c = {ktypes[i], shapes[j][0], shapes[j][1], shapes[j][2], 0, 0, 0, 0, 0, 0, 0, 0, 0};
            check_matmul(&c);
        }
    k_swap_rng();
}

/* test_matvec's cases on a super-block's columns, and the split-K of a
 * several-token step. */
static void test_kquant_matvec(void **state) {
    (void)state;
    k_swap_rng();
    for (int i = 0; i < N_KTYPES; i++) {
        uint32_t t = ktypes[i];
        const mm_case cases[] = {
            {t, 1, 256, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0},   {t, 3, 512, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0},
            {t, 37, 256, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  {t, 203, 1024, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0},
            {t, 5, 2304, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  {t, 19, 256, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0},
            {t, 40, 512, 1, 0, 56, 1, 0, 0, 0, 0, 0, 0}, {t, 37, 256, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0},
            {t, 61, 256, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0},  {t, 24, 256, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0},
            {t, 96, 256, 1, 0, 0, 0, 0, 1, 1, 32, 32, 0}, {t, 60, 256, 1, 0, 0, 0, 1, 1, 0, 3, 40, 0},
            {t, 45, 256, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0},  {t, 130, 512, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0},
            {t, 96, 2304, 40, 0, 0, 0, 0, 0, 0, 0, 0, 4}, /* split-K */
        };
        for (size_t j = 0; j < sizeof cases / sizeof *cases; j++) check_matmul(&cases[j]);
        check_matvec_norm(t, 37, 256, 0, 0, 0);
        check_matvec_norm(t, 5, 2304, 1, 0, 0);
        check_matvec_norm(t, 70, 512, 0, 1, 0);
        check_matvec_norm(t, 61, 256, 1, 0, 1);
    }
    k_swap_rng();
}

static void test_kquant_fused(void **state) {
    (void)state;
    k_swap_rng();
    for (int i = 0; i < N_KTYPES; i++) {
        uint32_t t = ktypes[i];
        check_matvec_glu(t, 1, 256, 0);
        check_matvec_glu(t, 37, 512, 0);
        check_matvec_glu(t, 70, 1280, 1);
        check_matvec_glu(t, 129, 256, 0);
        const qkv_case cases[] = {
            {t, 64, 32, 256, 0, 0, 0, 0, 0, 0},     {t, 128, 32, 2304, 0, 0, 0, 0, 0, 0},
            {t, 36, 4, 512, 0, 0, 0, 0, 0, 0},
            {t, 64, 32, 256, 16, 8, 1, 0, 0, 0},    {t, 128, 64, 256, 32, 12, 0, 0, 0, 0},
            {t, 64, 32, 256, 16, 8, 1, 1, 0, 0},    {t, 36, 4, 1280, 0, 0, 0, 1, 0, 0},
            {t, 64, 64, 256, 0, 0, 0, 1, 1, 1},     {t, 42, 6, 512, 0, 0, 0, 1, 1, 1},
        };
        for (size_t j = 0; j < sizeof cases / sizeof *cases; j++) check_qkv(&cases[j]);
        check_matvec_lnorm(t, 256, 256, 1, 1, 0);
        check_matvec_lnorm(t, 37, 1280, 1, 1, 0);
        check_matvec_lnorm(t, 129, 256, 0, 0, 1);
        check_matvec_lnorm(t, 1, 256, 0, 1, 0);
    }
    k_swap_rng();
}

/* Q4_K_M's layers with a q6_K V: V read in Q's and K's kernel in its own
 * unit type (and each K-quant with another's V); with a V no kernel pairs
 * (q8_0), Q and K alone. On a generator state of its own, restored after,
 * so that the other tests' random draws stay as they were. */
static void test_kquant_qk_v_apart(void **state) {
    (void)state;
    uint64_t saved = rng;
    rng = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < N_KTYPES; i++) {
        uint32_t t = ktypes[i];
        const qkv_case rope = {t, 64, 32, 256, 16, 8, 1, 0, 0, 0}, plain = {t, 36, 4, 512, 0, 0, 0, 0, 0, 0};
        check_qkv_v(&rope, t == GGML_TYPE_Q6_K ? GGML_TYPE_Q4_K : GGML_TYPE_Q6_K);
        check_qkv_v(&plain, GGML_TYPE_Q8_0);
    }
    rng = saved;
}

static void test_kquant_embed(void **state) {
    (void)state;
    k_swap_rng();
    for (int i = 0; i < N_KTYPES; i++) {
        check_embed(ktypes[i], 1, 256, 1, 0);
        check_embed(ktypes[i], 50, 512, 7, 0);
        check_embed(ktypes[i], 23, 2304, 13, 0);
        check_embed(ktypes[i], 100, 256, 40, 1);
        check_embed_mode(ktypes[i], 30, 256, 9, 0, 8.0f, 0, 0);
        check_embed_mode(ktypes[i], 30, 256, 5, 0, 1.0f, 1, 7);
    }
    k_swap_rng();
}

/* Q4_K/Q5_K's 12 scale bytes in the plane (dtype.c's repack_q45_K: low
 * nibbles of blocks 0-3 and 4-7 in words 1 and 2, scale at bit 4(b % 4),
 * min 16 above; top two bits in word 3, at 2b and 16 above) against
 * ggml's get_scale_min_k4 of the file's, written out here. */
static int k4_plane_scales_ok(const uint8_t *at, const uint8_t *blk) {
    const uint8_t *q = blk + 4;
    uint32_t w[3];
    for (int i = 0; i < 3; i++) w[i] = at[4 + 4 * i] | at[5 + 4 * i] << 8 | at[6 + 4 * i] << 16 | (uint32_t)at[7 + 4 * i] << 24;
    for (int j = 0; j < 8; j++) {
        int sc = j < 4 ? q[j] & 63 : (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        int m = j < 4 ? q[j + 4] & 63 : (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
        int gsc = (int)((w[j >> 2] >> (4 * (j & 3))) & 15) | (int)((w[2] >> (2 * j)) & 3) << 4;
        int gm = (int)((w[j >> 2] >> (16 + 4 * (j & 3))) & 15) | (int)((w[2] >> (16 + 2 * j)) & 3) << 4;
        if (sc != gsc || m != gm) return 0;
    }
    return 1;
}

/* Q6_K's 16 scales in the plane (dtype.c's repack_q6_K): plus 128, word j
 * blocks 2j and 2j + 1, their first scales in bytes 0 and 1, their second
 * in 2 and 3; against the file's, ggml's order (block b's at 2b, 2b + 1). */
static int q6_plane_scales_ok(const uint8_t *at, const uint8_t *file) {
    for (int b = 0; b < 8; b++)
        for (int h = 0; h < 2; h++)
            if ((uint8_t)(at[4 * (b >> 1) + 2 * h + (b & 1)] - 128) != file[2 * b + h]) return 0;
    return 1;
}

/* The chunks of a split upload: each exactly its quant plane (a block of 32
 * in gpu_bytes) and its scale plane, padded to 16 bytes, long, and that
 * plane the blocks' own scales (Q4_K, Q5_K: d and dmin as they are, the
 * 6-bit pairs as k4_plane_scales_ok reads them; Q6_K: its 16 scales as
 * q6_plane_scales_ok reads them, d, then two zero bytes) in order. */
static void check_kplanes(uint32_t type, int rows, int cols) {
    test_weight tw;
    make_weight(&tw, type, rows, cols);
    char err[512];
    gpu_matrix m;
    assert_int_equal(gpu_matrix_upload(split_ctx.dev, &tw.t, &m, err, sizeof err), 0);
    if (m.n_chunks < 2) fail_msg("planes case: %d rows came out in one buffer", rows);
    int q6 = type == GGML_TYPE_Q6_K;
    size_t sb = (size_t)cols / 256, qb = type == GGML_TYPE_Q4_K ? 128 : type == GGML_TYPE_Q5_K ? 160 : 192;
    size_t bb = type == GGML_TYPE_Q4_K ? 144 : type == GGML_TYPE_Q5_K ? 176 : 210, sbytes = q6 ? 20 : 16;
    for (int c = 0; c < m.n_chunks; c++) {
        size_t r0 = (size_t)c * m.chunk_rows, nr = (size_t)rows - r0 < (size_t)m.chunk_rows ? rows - r0 : (size_t)m.chunk_rows;
        size_t n = nr * sb, len = n * qb + (n * sbytes + 15) / 16 * 16;
        if (gpu_buffer_size(m.chunk[c]) != len)
            fail_msg("%s rows %d cols %d chunk %d: %llu bytes, want %zu", ggml_type_name(type), rows, cols, c,
                     (unsigned long long)gpu_buffer_size(m.chunk[c]), len);
        uint8_t *got = (uint8_t *)download(split_ctx.dev, m.chunk[c], len / 4);
        for (size_t i = 0; i < n; i++) {
            const uint8_t *blk = tw.raw + (r0 * sb + i) * bb, *want = q6 ? blk + 192 : blk;
            const uint8_t zero[2] = {0, 0}, *at = got + n * qb + i * sbytes;
            if (q6 ? !q6_plane_scales_ok(at, want) || memcmp(at + 16, want + 16, 2) || memcmp(at + 18, zero, 2)
                   : memcmp(at, want, 4) || !k4_plane_scales_ok(at, blk))
                fail_msg("%s rows %d cols %d chunk %d: the scale plane's super-block %zu is not the file's scales",
                         ggml_type_name(type), rows, cols, c, i);
        }
        free(got);
    }
    gpu_matrix_free(&m);
    free_weight(&tw);
    check_split_kernels(type, rows, cols);
}

static void test_kquant_planes(void **state) {
    (void)state;
    k_swap_rng();
    for (int i = 0; i < N_KTYPES; i++) {
        check_kplanes(ktypes[i], 45, 256);
        check_kplanes(ktypes[i], 57, 256);
        check_kplanes(ktypes[i], 130, 512);
    }
    k_swap_rng();
}

/* A K-quant matrix whose rows are not whole super-blocks: refused with a
 * reason, nothing allocated. */
static void test_kquant_bad_rows(void **state) {
    (void)state;
    for (int i = 0; i < N_KTYPES; i++) {
        uint8_t raw[210 * 4] = {0};
        gguf_tensor t;
        memset(&t, 0, sizeof t);
        t.name = (gguf_str){"blk.0.ffn_up.weight", 19};
        t.n_dims = 2;
        t.ne[0] = 128;
        t.ne[1] = 2;
        t.type = ktypes[i];
        t.nbytes = sizeof raw;
        t.data = raw;
        char err[512] = "";
        gpu_matrix m;
        assert_int_equal(gpu_matrix_upload(main_ctx.dev, &t, &m, err, sizeof err), WGPT_ERR_UNSUPPORTED);
        if (!strstr(err, "not a multiple of 256") || strchr(err, '\n'))
            fail_msg("%s: the refusal says '%s'", ggml_type_name(ktypes[i]), err);
        assert_int_equal(m.n_chunks, 0);
    }
}

/* Gemma's sqrt(dim) scale, and an awkward one. */
static void test_embed_scaled(void **state) {
    (void)state;
    for (int i = 0; i < N_TYPES; i++) {
        check_embed_mode(types[i], 50, 64, 7, 0, 8.0f, 0, 0);
        check_embed_mode(types[i], 100, 96, 40, 1, 25.298221f, 0, 0); /* sqrt(640): Gemma 3 270M */
    }
}

/* GPT-2's learned positions added at pos0 + t: from 0, later, up to the
 * last row, and over split rows (positions on both sides of chunk
 * boundaries); ids are ignored. */
static void test_pos_embed(void **state) {
    (void)state;
    for (int i = 0; i < N_TYPES; i++) {
        check_embed_mode(types[i], 40, 64, 7, 0, 1.0f, 1, 0);
        check_embed_mode(types[i], 40, 288, 3, 0, 1.0f, 1, 37); /* the last rows */
        check_embed_mode(types[i], 100, 96, 30, 1, 1.0f, 1, 5);
    }
}

/* ---- rmsnorm.wgsl ----
 * Y[r] = X[src] / sqrt(mean(X[src]^2) + eps) * w. Each output is a product,
 * so the tolerance is relative: 2e-5 of |Y|. The sum of squares has only
 * positive terms (relative error at most chain length * 2^-24, < 1e-5 for
 * these sizes), the square root and division add a few ulps. Rows are
 * scaled by 10^-2..10^2 so that eps matters in some; a mean over dim +- 1,
 * a missed vec4 or a wrong eps is far outside. */
static void check_rmsnorm_acc(int dim, int n_tokens, float eps, int from_out, int out_first, int n_out,
                              int accumulate) {
    int rows = from_out ? n_out : n_tokens;
    float *x = rand_floats((size_t)n_tokens * dim, 1.0f);
    for (int t = 0; t < n_tokens; t++) {
        float s = powf(10.0f, 2.0f * frand());
        for (int i = 0; i < dim; i++) x[(size_t)t * dim + i] *= s;
    }
    float *w = rand_floats((size_t)dim, 2.0f);
    size_t ny = (size_t)(rows + 1) * dim;
    float *y0 = rand_floats(ny, 1.0f);
    double *want = alloc_d(ny), *tol = alloc_d(ny);
    untouched(want, tol, y0, 0, ny);
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)(from_out ? out_first + r : r) * dim;
        double ss = 0;
        for (int i = 0; i < dim; i++) ss += (double)xr[i] * xr[i];
        double scale = 1.0 / sqrt(ss / dim + eps);
        for (int i = 0; i < dim; i++) {
            size_t o = (size_t)r * dim + i;
            double v = xr[i] * scale * w[i];
            want[o] = v + (accumulate ? y0[o] : 0);
            tol[o] = 2e-5 * fabs(v) + (accumulate ? 0x1p-23 * fabs(want[o]) : 0); /* and the add's rounding */
        }
    }
    rig r = rig_open(&main_ctx);
    gpu_device *d = main_ctx.dev;
    gpu_buffer *xb = upload(d, x, (size_t)n_tokens * dim * 4), *wb = upload(d, w, (size_t)dim * 4),
               *yb = upload(d, y0, ny * 4);
    if (accumulate) op_rmsnorm_add(r.g, xb, wb, yb, dim, eps);
    else op_rmsnorm(r.g, xb, wb, yb, dim, eps, from_out);
    rig_run(&r, 0, (uint32_t)n_tokens, (uint32_t)out_first, (uint32_t)n_out);
    float *y = download(d, yb, ny);
    char what[160];
    snprintf(what, sizeof what, "rmsnorm%s dim %d tokens %d eps %g", accumulate ? " accumulate" : "", dim, n_tokens, eps);
    if (from_out) snprintf(what + strlen(what), sizeof what - strlen(what), " out rows %d..%d", out_first, out_first + n_out - 1);
    expect_close(what, "Y", y, want, tol, ny, (size_t)dim);
    rig_close(&r);
    gpu_buffer_free(xb); gpu_buffer_free(wb); gpu_buffer_free(yb);
    free(x); free(w); free(y0); free(y); free(want); free(tol);
}

static void check_rmsnorm(int dim, int n_tokens, float eps, int from_out, int out_first, int n_out) {
    check_rmsnorm_acc(dim, n_tokens, eps, from_out, out_first, n_out, 0);
}

static void test_rmsnorm(void **state) {
    (void)state;
    check_rmsnorm(32, 1, 1e-5f, 0, 0, 1);
    check_rmsnorm(96, 3, 1e-6f, 0, 0, 3);
    check_rmsnorm(288, 7, 1e-5f, 0, 0, 7);
    check_rmsnorm(1056, 5, 0.25f, 0, 0, 5); /* 264 vec4s: past 4 x 64 lanes */
    check_rmsnorm(4128, 2, 1e-5f, 0, 0, 2);
}

/* With from_out: only rows out_first.. are normalised, packed from row 0. */
static void test_rmsnorm_out_rows(void **state) {
    (void)state;
    check_rmsnorm(96, 9, 1e-5f, 1, 8, 1);
    check_rmsnorm(160, 11, 1e-5f, 1, 2, 6);
    check_rmsnorm(64, 4, 1e-5f, 1, 0, 4);
}

/* Y += the normed rows (Gemma's post-norms before the residual add). */
static void test_rmsnorm_add(void **state) {
    (void)state;
    check_rmsnorm_acc(32, 1, 1e-6f, 0, 0, 1, 1);
    check_rmsnorm_acc(288, 7, 1e-6f, 0, 0, 7, 1);
    check_rmsnorm_acc(1056, 5, 0.25f, 0, 0, 5, 1);
}

/* ---- layernorm.wgsl ----
 * Y[r] = (X - mean) / sqrt(var + eps) * w + b (GPT-2). In double here. Rows
 * carry offsets up to 10^2 and scales 10^-2..10^2, so that a variance taken
 * as E[x^2] - E[x]^2 in f32 (cancellation), a missed mean or a wrong eps
 * is caught. Tolerance: 2e-5 of |xhat w| per unit of (1 + |mean| / sd),
 * since the f32 mean's own error (a few ulps of |mean|) moves x - mean by
 * that much relative to sd; plus an ulp of |b| and of the result. */
static void check_layernorm(int dim, int n_tokens, float eps, int from_out, int out_first, int n_out) {
    int rows = from_out ? n_out : n_tokens;
    float *x = rand_floats((size_t)n_tokens * dim, 1.0f);
    for (int t = 0; t < n_tokens; t++) {
        float s = powf(10.0f, 2.0f * frand()), off = 100.0f * frand() * (t % 2);
        for (int i = 0; i < dim; i++) x[(size_t)t * dim + i] = x[(size_t)t * dim + i] * s + off;
    }
    float *w = rand_floats((size_t)dim, 2.0f), *b = rand_floats((size_t)dim, 1.0f);
    size_t ny = (size_t)(rows + 1) * dim;
    float *y0 = rand_floats(ny, 1.0f);
    double *want = alloc_d(ny), *tol = alloc_d(ny);
    untouched(want, tol, y0, 0, ny);
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)(from_out ? out_first + r : r) * dim;
        double sum = 0, ss = 0;
        for (int i = 0; i < dim; i++) sum += xr[i];
        double mean = sum / dim;
        for (int i = 0; i < dim; i++) ss += (xr[i] - mean) * (xr[i] - mean);
        double sd = sqrt(ss / dim + eps);
        for (int i = 0; i < dim; i++) {
            size_t o = (size_t)r * dim + i;
            double xh = (xr[i] - mean) / sd * w[i];
            want[o] = xh + b[i];
            tol[o] = 2e-5 * (fabs(xh) + fabs(w[i])) * (1 + fabs(mean) / sd) + 0x1p-23 * (fabs(b[i]) + fabs(want[o]));
        }
    }
    rig r = rig_open(&main_ctx);
    gpu_device *d = main_ctx.dev;
    gpu_buffer *xb = upload(d, x, (size_t)n_tokens * dim * 4), *wb = upload(d, w, (size_t)dim * 4),
               *bb = upload(d, b, (size_t)dim * 4), *yb = upload(d, y0, ny * 4);
    op_layernorm(r.g, xb, wb, bb, yb, dim, eps, from_out);
    rig_run(&r, 0, (uint32_t)n_tokens, (uint32_t)out_first, (uint32_t)n_out);
    float *y = download(d, yb, ny);
    char what[160];
    snprintf(what, sizeof what, "layernorm dim %d tokens %d eps %g", dim, n_tokens, eps);
    if (from_out) snprintf(what + strlen(what), sizeof what - strlen(what), " out rows %d..%d", out_first, out_first + n_out - 1);
    expect_close(what, "Y", y, want, tol, ny, (size_t)dim);
    rig_close(&r);
    gpu_buffer_free(xb); gpu_buffer_free(wb); gpu_buffer_free(bb); gpu_buffer_free(yb);
    free(x); free(w); free(b); free(y0); free(y); free(want); free(tol);
}

static void test_layernorm(void **state) {
    (void)state;
    check_layernorm(32, 1, 1e-5f, 0, 0, 1);
    check_layernorm(96, 3, 1e-5f, 0, 0, 3);
    check_layernorm(768, 4, 1e-5f, 0, 0, 4); /* GPT-2 124M's width: 192 vec4s, past the lanes */
    check_layernorm(1056, 5, 0.25f, 0, 0, 5);
    check_layernorm(160, 11, 1e-5f, 1, 2, 6); /* only the rows whose logits are wanted */
    check_layernorm(64, 9, 1e-5f, 1, 8, 1);
}

/* ---- rope.wgsl: RoPE on this step's Q and on its keys in the cache ----
 * Pairs of each head's first 2 * rope_pairs values turn by the (cos, sin) of
 * the table row for the token's position: adjacent pairs (2i, 2i+1) in
 * llama.cpp's NORMAL mode, (i, i + rope_pairs) in NEOX mode. Q rows are the
 * step's tokens; K rows are cache rows pos0 + t (the K projection stored
 * them there). The table is made here the way decoder_gpu.c makes it
 * (double, then f32); the rotation is checked in double with the same f32
 * cos/sin. Tolerance 1e-6 of |x0 c| + |x1 s|: two products and a sum, a few
 * ulps (fused or not), where a wrong angle, position, pairing or head is
 * off by O(1). Values past the rotated ones, and every cache row outside
 * this step's positions, must be left exactly as they were. */
typedef struct { int n_heads, n_kv_heads, head_dim, rope_pairs, n, pos0, n_ctx, neox; } rope_case;

/* want/tol for one token's heads; values not rotated keep what the caller
 * put there. */
static void rope_ref(const float *in, double *want, double *tol, int n_heads, int head_dim, int pairs, int neox,
                     const float *cs, int pos) {
    for (int h = 0; h < n_heads; h++)
        for (int i = 0; i < pairs; i++) {
            size_t o0 = (size_t)h * head_dim + (neox ? i : 2 * i), o1 = (size_t)h * head_dim + (neox ? i + pairs : 2 * i + 1);
            double x0 = in[o0], x1 = in[o1];
            double c = cs[((size_t)pos * pairs + i) * 2], s = cs[((size_t)pos * pairs + i) * 2 + 1];
            want[o0] = x0 * c - x1 * s;
            want[o1] = x0 * s + x1 * c;
            tol[o0] = tol[o1] = 1e-6 * (fabs(x0) + fabs(x1)) * (fabs(c) + fabs(s));
        }
}

/* The cos/sin table as decoder_gpu.c's rope_table makes it, for rope_dim =
 * 2 * pairs and the given base, positions 0..n_ctx-1. */
static float *rope_table(int n_ctx, int pairs, double base) {
    size_t n = (size_t)n_ctx * pairs * 2;
    float *cs = malloc((n ? n : 4) * sizeof *cs);
    for (int pos = 0; pos < n_ctx; pos++)
        for (int i = 0; i < pairs; i++) {
            double theta = pos * pow(base, -2.0 * i / (2.0 * pairs));
            cs[((size_t)pos * pairs + i) * 2] = (float)cos(theta);
            cs[((size_t)pos * pairs + i) * 2 + 1] = (float)sin(theta);
        }
    return cs;
}

static void check_rope(const rope_case *c) {
    int q_dim = c->n_heads * c->head_dim, kv_dim = c->n_kv_heads * c->head_dim, n = c->n;
    size_t ncs = (size_t)c->n_ctx * c->rope_pairs * 2;
    float *cs = rope_table(c->n_ctx, c->rope_pairs, 10000.0);
    /* Q with one spare token row; the cache with a tail. */
    size_t nq = (size_t)(n + 1) * q_dim, nc = (size_t)c->n_ctx * kv_dim + 5;
    float *q = rand_floats(nq, 2.0f), *kc0 = rand_floats(nc, 2.0f);
    double *wq = alloc_d(nq), *tq = alloc_d(nq), *wkc = alloc_d(nc), *tkc = alloc_d(nc);
    untouched(wq, tq, q, 0, nq);
    untouched(wkc, tkc, kc0, 0, nc);
    for (int t = 0; t < n; t++) {
        int pos = c->pos0 + t;
        size_t qo = (size_t)t * q_dim, ko = (size_t)pos * kv_dim;
        rope_ref(q + qo, wq + qo, tq + qo, c->n_heads, c->head_dim, c->rope_pairs, c->neox, cs, pos);
        rope_ref(kc0 + ko, wkc + ko, tkc + ko, c->n_kv_heads, c->head_dim, c->rope_pairs, c->neox, cs, pos);
    }

    gpu_device *d = main_ctx.dev;
    rig r = rig_open(&main_ctx);
    gpu_buffer *qb = upload(d, q, nq * 4), *kcb = upload(d, kc0, nc * 4), *csb = upload(d, cs, (ncs ? ncs : 4) * 4);
    attn_shape a = {c->n_heads, c->n_kv_heads, c->head_dim};
    op_rope(r.g, &a, c->rope_pairs, c->neox, qb, kcb, csb);
    rig_run(&r, (uint32_t)c->pos0, (uint32_t)n, 0, 1);
    float *gq = download(d, qb, nq), *gkc = download(d, kcb, nc);
    char what[200];
    snprintf(what, sizeof what, "rope %s heads %d kv_heads %d head_dim %d pairs %d tokens %d at pos %d",
             c->neox ? "neox" : "normal", c->n_heads, c->n_kv_heads, c->head_dim, c->rope_pairs, n, c->pos0);
    expect_close(what, "Q", gq, wq, tq, nq, (size_t)q_dim);
    /* the cache rows are [position][kv_dim] */
    expect_close(what, "K cache", gkc, wkc, tkc, nc, (size_t)kv_dim);
    rig_close(&r);
    gpu_buffer *bs[] = {qb, kcb, csb};
    for (int i = 0; i < 3; i++) gpu_buffer_free(bs[i]);
    free(cs); free(q); free(kc0); free(wq); free(tq); free(wkc); free(tkc); free(gq); free(gkc);
}

static void test_rope(void **state) {
    (void)state;
    const rope_case cases[] = {
        {2, 2, 8, 4, 1, 0, 4, 0},        /* one token at position 0 */
        {6, 2, 20, 10, 5, 3, 11, 0},     /* GQA, a batch at position 3 */
        {4, 1, 16, 3, 3, 9, 12, 0},      /* partial rotation (rope_dim 6 of 16) */
        {3, 3, 160, 80, 2, 700, 705, 0}, /* 80 pairs: past the 64 lanes; large angles */
        {2, 1, 8, 0, 2, 1, 3, 0},        /* no rotation at all: nothing changes */
        {3, 1, 7, 3, 2, 4, 6, 0},        /* odd head_dim: the last element is not rotated */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) check_rope(&cases[i]);
}

/* NEOX mode (Qwen 2 and 3): each head's first half turns against its second. */
static void test_rope_neox(void **state) {
    (void)state;
    const rope_case cases[] = {
        {2, 2, 8, 4, 1, 0, 4, 1},        /* one token at position 0 */
        {6, 2, 20, 10, 5, 3, 11, 1},     /* GQA, a batch at position 3 */
        {4, 1, 16, 3, 3, 9, 12, 1},      /* partial rotation: pairs (i, i + 3) of 16 values */
        {2, 2, 128, 64, 3, 30, 40, 1},   /* Qwen 3's head size */
        {3, 3, 160, 80, 2, 700, 705, 1}, /* past the 64 lanes; large angles */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) check_rope(&cases[i]);
}

/* ---- head_rmsnorm.wgsl: q/k norm, then RoPE ----
 * Each head of this step's Q (weights wq) and of its keys in the cache at
 * pos0 + t (weights wk) becomes x / sqrt(mean(x^2) + eps) * w, in place,
 * then its pairs turn as rope.wgsl's do (rope_pairs 0: none). Relative
 * tolerance 2e-5 of the normed values as for rmsnorm.wgsl, times the
 * rotation's |cos| + |sin| as in rope_ref; cache rows outside the step and
 * Q's spare row must not change. The weights vary along the head, so RoPE
 * before the norm gives other values (a rotation keeps a pair's sum of
 * squares, hence the scale, but not which weight meets which value):
 * rope_first computes that order, which the kernel must not match. */
typedef struct { int n_heads, n_kv_heads, head_dim, rope_pairs, neox, n, pos0, n_ctx; float eps; } head_norm_case;

/* One head x of head_dim values into want/tol: normed by w then turned at
 * pos, or with rope_first turned then normed. */
static void head_norm_rope_ref(const float *x, const float *w, double *want, double *tol, const head_norm_case *c,
                               const float *cs, int pos, int rope_first) {
    int hd = c->head_dim, pairs = c->rope_pairs;
    double v[512], ss = 0;
    assert_true(hd <= 512);
    for (int i = 0; i < hd; i++) { v[i] = x[i]; ss += v[i] * v[i]; }
    double scale = 1.0 / sqrt(ss / hd + c->eps);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == rope_first) /* the norm */
            for (int i = 0; i < hd; i++) { v[i] *= scale * w[i]; tol[i] = 2e-5 * fabs(v[i]); }
        else
            for (int i = 0; i < pairs; i++) {
                int i0 = c->neox ? i : 2 * i, i1 = c->neox ? i + pairs : 2 * i + 1;
                double x0 = v[i0], x1 = v[i1];
                double cc = cs[((size_t)pos * pairs + i) * 2], sn = cs[((size_t)pos * pairs + i) * 2 + 1];
                v[i0] = x0 * cc - x1 * sn;
                v[i1] = x0 * sn + x1 * cc;
                /* the norm's drift on each input, carried through the turn */
                tol[i0] = tol[i1] = (2e-5 * (fabs(x0) + fabs(x1)) + 1e-6) * (fabs(cc) + fabs(sn));
            }
    }
    for (int i = 0; i < hd; i++) want[i] = v[i];
}

static void check_head_rmsnorm_rope(const head_norm_case *c) {
    int q_dim = c->n_heads * c->head_dim, kv_dim = c->n_kv_heads * c->head_dim, n = c->n;
    size_t nq = (size_t)(n + 1) * q_dim, nc = (size_t)c->n_ctx * kv_dim, ncs = (size_t)c->n_ctx * c->rope_pairs * 2;
    float *q = rand_floats(nq, 3.0f), *kc0 = rand_floats(nc, 0.5f);
    float *wq = rand_floats((size_t)c->head_dim, 2.0f), *wk = rand_floats((size_t)c->head_dim, 2.0f);
    float *cs = rope_table(c->n_ctx, c->rope_pairs, 10000.0);
    double *want[2][2], *tol[2][2]; /* [rope first][Q, K cache] */
    for (int f = 0; f < 2; f++) {
        want[f][0] = alloc_d(nq); tol[f][0] = alloc_d(nq); want[f][1] = alloc_d(nc); tol[f][1] = alloc_d(nc);
        untouched(want[f][0], tol[f][0], q, 0, nq);
        untouched(want[f][1], tol[f][1], kc0, 0, nc);
    }
    for (int t = 0; t < n; t++)
        for (int h = 0; h < c->n_heads + c->n_kv_heads; h++) {
            int is_k = h >= c->n_heads;
            size_t o = is_k ? (size_t)(c->pos0 + t) * kv_dim + (size_t)(h - c->n_heads) * c->head_dim
                            : (size_t)t * q_dim + (size_t)h * c->head_dim;
            for (int f = 0; f < 2; f++)
                head_norm_rope_ref((is_k ? kc0 : q) + o, is_k ? wk : wq, want[f][is_k] + o, tol[f][is_k] + o, c, cs,
                                   c->pos0 + t, f);
        }
    gpu_device *d = main_ctx.dev;
    rig r = rig_open(&main_ctx);
    gpu_buffer *qb = upload(d, q, nq * 4), *kcb = upload(d, kc0, nc * 4),
               *wqb = upload(d, wq, (size_t)c->head_dim * 4), *wkb = upload(d, wk, (size_t)c->head_dim * 4),
               *csb = upload(d, cs, (ncs ? ncs : 4) * 4);
    attn_shape a = {c->n_heads, c->n_kv_heads, c->head_dim};
    op_head_rmsnorm_rope(r.g, &a, c->rope_pairs, c->neox, qb, kcb, wqb, wkb, c->rope_pairs ? csb : NULL, c->eps);
    rig_run(&r, (uint32_t)c->pos0, (uint32_t)n, 0, 1);
    float *gq = download(d, qb, nq), *gkc = download(d, kcb, nc);
    char what[200];
    snprintf(what, sizeof what, "head_rmsnorm %s heads %d kv_heads %d head_dim %d pairs %d tokens %d at pos %d eps %g",
             c->neox ? "neox" : "normal", c->n_heads, c->n_kv_heads, c->head_dim, c->rope_pairs, n, c->pos0, c->eps);
    expect_close(what, "Q", gq, want[0][0], tol[0][0], nq, (size_t)q_dim);
    expect_close(what, "K cache", gkc, want[0][1], tol[0][1], nc, (size_t)kv_dim);
    if (c->rope_pairs && c->pos0 > 0) { /* the wrong order is far outside the tolerance somewhere in each
                                           tensor (at position 0 every turn is the identity) */
        const float *got[2] = {gq, gkc};
        const size_t len[2] = {nq, nc};
        for (int k = 0; k < 2; k++) {
            size_t off = 0;
            for (size_t i = 0; i < len[k]; i++) off += fabs(got[k][i] - want[1][k][i]) > 10 * tol[1][k][i] + 1e-4;
            if (!off) fail_msg("%s: %s matches RoPE before the norm too", what, k ? "K cache" : "Q");
        }
    }
    rig_close(&r);
    gpu_buffer *bs[] = {qb, kcb, wqb, wkb, csb};
    for (int i = 0; i < 5; i++) gpu_buffer_free(bs[i]);
    for (int f = 0; f < 2; f++)
        for (int k = 0; k < 2; k++) { free(want[f][k]); free(tol[f][k]); }
    free(q); free(kc0); free(wq); free(wk); free(cs); free(gq); free(gkc);
}

static void test_head_rmsnorm(void **state) {
    (void)state;
    const head_norm_case cases[] = {
        {2, 2, 8, 0, 0, 1, 0, 2, 1e-6f},        /* no RoPE: the norm alone; one token, MHA */
        {4, 1, 128, 0, 1, 3, 7, 12, 1e-6f},     /* Qwen 3's head size: past the 64 lanes */
        {3, 1, 7, 0, 0, 2, 1, 4, 0.5f},         /* odd head size; eps that matters */
        {2, 2, 8, 4, 0, 1, 0, 4, 1e-6f},        /* one token at position 0 */
        {6, 2, 20, 10, 0, 5, 3, 11, 1e-6f},     /* GQA, a batch at position 3 */
        {6, 2, 20, 10, 1, 5, 3, 11, 1e-6f},     /* the same in NEOX pairs */
        {4, 1, 16, 3, 0, 3, 9, 12, 1e-6f},      /* partial rotation (rope_dim 6 of 16) */
        {4, 1, 16, 3, 1, 3, 9, 12, 1e-6f},      /* partial, NEOX: pairs (i, i + 3) */
        {8, 2, 128, 64, 1, 4, 30, 40, 1e-6f},   /* Qwen 3's heads */
        {4, 1, 256, 128, 1, 2, 500, 510, 1e-6f}, /* Gemma 3's head size; large angles */
        {3, 3, 160, 80, 0, 2, 700, 705, 1e-6f}, /* 80 pairs: past the 64 lanes */
        {3, 1, 7, 3, 0, 2, 4, 6, 0.5f},         /* odd head_dim: the last element only normed */
        {4, 2, 64, 32, 1, 1, 37, 64, 1e-6f},    /* a one-token (decode) step */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) check_head_rmsnorm_rope(&cases[i]);
}

/* ---- attention_prompt.wgsl (with its softmax) ----
 * O[t][h] = sum_j softmax_j(Q[t][h] . K[j][h / group] * scale) V[j][h / group]
 * over cache positions j <= pos0 + t. The output is a convex combination of
 * V values in [-1, 1], so the tolerance is absolute: 1e-5 for exp's few ulps
 * and the sums, plus what an f32 score may be off by (at most about
 * (head_dim + 8) * 2^-24 of max_j sum_d |q_d k_jd| * scale, which shifts the
 * weights by that much relatively); 1e-5 to 6e-5 for these cases. One key
 * too many or too few, a wrong scale or KV head moves outputs by ~1e-2 or
 * more. Cache slots after the last position are filled with large values
 * (|x| <= 50) that would show at once if read.
 * spike: key 1 of each KV head is 20 times the first query of the head's
 * group, so that head's score there is ~200, far above the rest: the
 * softmax must subtract the true maximum or exp overflows (a max over only
 * some lanes passes every other case, softmax being shift-invariant). */
typedef struct { int n_heads, n_kv_heads, head_dim, n, pos0, n_ctx, cache_off, spike, window; } att_case;

/* The reference: want/tol rows [n][n_heads * hd] from Q rows of the same
 * width and caches of [positions][n_kv_heads * hd] after cache_off. */
static void attention_ref(const float *q, const float *kc, const float *vc, int n_heads, int n_kv_heads, int hd,
                          int n, int pos0, int cache_off, float scale, int window, double *want, double *tol) {
    int q_dim = n_heads * hd, kv_dim = n_kv_heads * hd, group = n_heads / n_kv_heads;
    double *sc = alloc_d((size_t)pos0 + n);
    for (int t = 0; t < n; t++)
        for (int h = 0; h < n_heads; h++) {
            const float *qh = q + (size_t)t * q_dim + (size_t)h * hd;
            size_t ko = (size_t)cache_off + (size_t)(h / group) * hd;
            int n_keys = pos0 + t + 1, first = window && n_keys > window ? n_keys - window : 0;
            double m = -INFINITY, l = 0, mag = 0;
            for (int j = 0; j < first; j++) sc[j] = 0; /* outside the window: weight 0 */
            for (int j = first; j < n_keys; j++) {
                double s = 0, a = 0;
                for (int i = 0; i < hd; i++) {
                    s += (double)qh[i] * kc[ko + (size_t)j * kv_dim + i];
                    a += fabs((double)qh[i] * kc[ko + (size_t)j * kv_dim + i]);
                }
                sc[j] = s * scale;
                if (sc[j] > m) m = sc[j];
                if (a * scale > mag) mag = a * scale;
            }
            for (int j = first; j < n_keys; j++) { sc[j] = exp(sc[j] - m); l += sc[j]; }
            for (int i = 0; i < hd; i++) {
                double acc = 0;
                for (int j = 0; j < n_keys; j++) acc += sc[j] * vc[ko + (size_t)j * kv_dim + i];
                size_t o = (size_t)t * q_dim + (size_t)h * hd + i;
                want[o] = acc / l;
                tol[o] = 1e-5 + (hd + 8) * 0x1p-24 * mag;
            }
        }
    free(sc);
}

static void check_attention(const att_case *c) {
    kernel_registry *ks = &main_ctx.ks;
    if ((uint32_t)c->head_dim > kernels_attention_max_head(ks)) { /* the host refuses these too */
        fail_msg("attention head_dim %d: over the %u the kernels take", c->head_dim, kernels_attention_max_head(ks));
        return;
    }
    int q_dim = c->n_heads * c->head_dim, kv_dim = c->n_kv_heads * c->head_dim, n = c->n, hd = c->head_dim;
    int group = c->n_heads / c->n_kv_heads, last = c->pos0 + n - 1;
    size_t nq = (size_t)n * q_dim, no = (size_t)(n + 1) * q_dim;
    size_t nc = (size_t)c->cache_off + (size_t)c->n_ctx * kv_dim;
    float *q = rand_floats(nq, 2.0f), *kc = rand_floats(nc, 1.0f), *vc = rand_floats(nc, 1.0f);
    int seen0 = c->window && c->pos0 + 1 > c->window ? c->pos0 + 1 - c->window : 0; /* no token sees keys before */
    for (size_t i = 0; i < nc; i++)
        if (i < (size_t)c->cache_off + (size_t)seen0 * kv_dim || i >= (size_t)c->cache_off + (size_t)(last + 1) * kv_dim) {
            kc[i] *= 50;
            vc[i] *= 50;
        }
    if (c->spike)
        for (int kvh = 0; kvh < c->n_kv_heads; kvh++)
            for (int i = 0; i < hd; i++) {
                size_t o = (size_t)c->cache_off + (size_t)kv_dim + (size_t)kvh * hd + i;
                kc[o] = 20 * q[(size_t)kvh * group * hd + i];
            }
    float *o0 = rand_floats(no, 1.0f);
    double *want = alloc_d(no), *tol = alloc_d(no);
    untouched(want, tol, o0, 0, no);
    float scale = 1.0f / sqrtf((float)hd);
    attention_ref(q, kc, vc, c->n_heads, c->n_kv_heads, hd, n, c->pos0, c->cache_off, scale, c->window, want, tol);

    gpu_device *d = main_ctx.dev;
    rig r = rig_open(&main_ctx);
    /* the partials start as noise: a chunk the merge reads but the split
     * kernel never wrote shows */
    const attn_shape a = {c->n_heads, c->n_kv_heads, hd};
    size_t np = (size_t)op_attention_partials_bytes(ks, &a, c->n_ctx) / 4;
    float *p0 = rand_floats(np ? np : 4, 1.0f);
    gpu_buffer *qb = upload(d, q, nq * 4), *kb = upload(d, kc, nc * 4), *vb = upload(d, vc, nc * 4),
               *ob = upload(d, o0, no * 4), *pb = upload(d, p0, (np ? np : 4) * 4);
    if (c->cache_off) {
        /* ops.c's op_attention for attention_prompt.wgsl (its tile as
         * attention_tile_of makes it), with a cache_off the engine never uses */
        uint32_t dv = ((uint32_t)hd + 3) / 4, rq = 256 / dv < 16 ? 256 / dv : 16;
        uint32_t kq_max = hd <= 128 ? 32 : 16, kq = 256 / rq < kq_max ? 256 / rq : kq_max;
        uint32_t heads = 1;
        for (uint32_t h = 1; h <= (uint32_t)group && h <= 4 * rq; h++)
            if (group % h == 0) heads = h;
        struct { uint32_t n_heads, n_kv_heads, head_dim, kv_dim, q_dim, cache_off, row_quads; float scale;
                 uint32_t window, key_quads, heads, tokens; } p = {
            (uint32_t)c->n_heads, (uint32_t)c->n_kv_heads, (uint32_t)hd, (uint32_t)kv_dim, (uint32_t)q_dim,
            (uint32_t)c->cache_off, rq, scale, (uint32_t)c->window, kq, heads, 4 * rq / heads};
        gpu_binding b[4] = {{qb, 0, 0}, {kb, 0, 0}, {vb, 0, 0}, {ob, 0, 0}};
        char err[256];
        gpu_kernel *k = kernels_get(ks, KERNEL_ATTENTION, 0, KV_PLAIN, err, sizeof err);
        if (!k) fail_msg("attention: %s", err);
        graph_dispatch_tiled(r.g, k, &p, sizeof p, b, 4, (grid_rule){0, 0, 0, 1, WHEN_ALWAYS},
                             (uint32_t)c->n_heads / heads, p.tokens, 0);
    } else {
        /* a one-token step takes the split kernels where the head size allows */
        op_attention(r.g, &a, c->n_ctx, scale, c->window, qb, kb, vb, pb, ob);
    }
    rig_run(&r, (uint32_t)c->pos0, (uint32_t)n, 0, 1);
    float *o = download(d, ob, no);
    char what[200];
    snprintf(what, sizeof what, "attention%s heads %d kv_heads %d head_dim %d tokens %d at pos %d (keys up to %d) n_ctx %d cache_off %d%s window %d",
             n == 1 && np ? " (split)" : "", c->n_heads, c->n_kv_heads, hd, n, c->pos0, last + 1, c->n_ctx,
             c->cache_off, c->spike ? " spike" : "", c->window);
    expect_close(what, "O", o, want, tol, no, (size_t)q_dim);
    rig_close(&r);
    gpu_buffer *bs[] = {qb, kb, vb, ob, pb};
    for (int i = 0; i < 5; i++) gpu_buffer_free(bs[i]);
    free(q); free(kc); free(vc); free(o0); free(p0); free(o); free(want); free(tol);
}

static void test_attention(void **state) {
    (void)state;
    const att_case cases[] = {
        {2, 2, 16, 1, 0, 1, 0, 0, 0},     /* one key: the output is V[0] */
        {3, 3, 20, 7, 0, 9, 0, 0, 0},     /* MHA prefill: causal masking inside the batch */
        {6, 2, 20, 5, 3, 12, 0, 0, 0},    /* GQA (3 heads per KV head), a batch at position 3 */
        {4, 1, 64, 1, 5, 8, 0, 0, 0},     /* MQA decode at position 5 */
        {6, 3, 72, 3, 66, 70, 0, 0, 0},   /* 67..69 keys: past 64 lanes; head_dim past the lanes */
        {4, 2, 128, 2, 10, 16, 24, 0, 0}, /* cache_off; 128 dims */
        {8, 2, 32, 9, 130, 140, 0, 0, 0}, /* 9 tokens, 131..139 keys */
        {2, 1, 18, 3, 4, 9, 0, 0, 0},     /* head_dim not a multiple of 4 (a subgroup's lanes) */
        {4, 2, 64, 2, 6, 8, 0, 1, 0},     /* a score of ~200 among small ones */
        {3, 1, 7, 2, 3, 5, 0, 0, 0},      /* odd head_dim */
        {4, 1, 256, 2, 5, 9, 0, 0, 0},    /* Gemma 3's 256: past 32 a lane on 4-lane subgroups */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) check_attention(&cases[i]);
}

/* A sliding window (Gemma 3's windowed layers, llama.cpp's standard SWA
 * mask: the token at pos sees pos - window + 1..pos). Keys before the
 * window are made large (scores and values up to 50x the others), so one
 * that leaks in moves the output far outside the tolerance. */
static void test_attention_window(void **state) {
    (void)state;
    const att_case cases[] = {
        {2, 1, 32, 12, 0, 16, 0, 0, 4},     /* prefill longer than the window */
        {4, 2, 32, 1, 20, 24, 0, 0, 8},     /* decode past the window */
        {4, 2, 32, 1, 6, 24, 0, 0, 8},      /* decode still inside the window */
        {6, 2, 72, 9, 70, 80, 0, 0, 67},    /* window past a group's lanes */
        {2, 2, 16, 5, 3, 12, 0, 0, 1},      /* window 1: each token sees only itself */
        {4, 2, 64, 3, 40, 48, 0, 1, 16},    /* a score of ~200 at key 1, outside every token's window */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) check_attention(&cases[i]);
}

/* Prompts over several of attention_prompt.wgsl's tiles (ops.c's
 * attention_tile_of): 64 rows at head size 64 (64 keys a key tile), 32 at
 * 128 (128 keys), 16 at 256 (64 keys), as the query heads of a group (up to
 * the tile's rows) by tokens. Token counts over one tile and not a multiple
 * of it, at later positions, so rows of a tile stop at different keys and
 * the last key tile is partial; windows starting inside a key tile; groups
 * that leave rows of a tile unused (3 and 7 heads: 63 of 64), one larger
 * than a tile (32 heads on one KV head at 256: 16 rows, one token); head
 * sizes not a multiple of 16 (80, 20) or 4 (7); and the cache after other
 * data (cache_off). */
static void test_attention_prompt(void **state) {
    (void)state;
    const att_case cases[] = {
        {8, 2, 64, 37, 21, 64, 0, 0, 0},     /* Llama 3.2 1B's group of 4: 16 tokens a tile, 3 tiles */
        {8, 2, 64, 37, 21, 64, 0, 0, 10},    /* the same, a window of 10 */
        {8, 2, 64, 37, 21, 64, 0, 1, 0},     /* a score of ~200 at key 1 */
        {4, 4, 64, 70, 3, 80, 0, 0, 0},      /* MHA: 64 tokens a tile, then 6 */
        {6, 2, 64, 50, 0, 56, 0, 0, 0},      /* a group of 3: 21 tokens a tile, 63 rows */
        {14, 2, 64, 20, 11, 40, 0, 0, 0},    /* Qwen 2.5's group of 7: 9 tokens a tile */
        {4, 2, 128, 41, 9, 64, 0, 0, 0},     /* 128: 16 tokens by 2 heads a tile */
        {4, 2, 128, 41, 9, 64, 0, 0, 24},    /* and a window of 24 */
        {4, 1, 256, 11, 70, 96, 0, 0, 0},    /* Gemma 3 1B: 4 tokens by 4 heads, 64-key tiles */
        {4, 1, 256, 11, 70, 96, 0, 0, 50},   /* and a window of 50 */
        {8, 4, 256, 19, 5, 32, 0, 0, 0},     /* Gemma 3 4B's group of 2 */
        {32, 1, 256, 5, 3, 12, 0, 0, 0},     /* 32 heads a KV head: a token's 16 heads a tile, two a token */
        {2, 2, 80, 53, 2, 64, 0, 0, 0},      /* 20 vec4s a head: 48 rows, 84 keys a tile */
        {3, 3, 20, 70, 1, 80, 0, 0, 0},      /* 20: lanes of the sum left idle */
        {3, 1, 7, 9, 4, 16, 0, 0, 3},        /* odd head size, a window */
        {8, 2, 64, 37, 21, 64, 40, 0, 12},   /* cache_off, with a window */
        {32, 8, 64, 150, 70, 224, 0, 0, 0},  /* Llama 3.2 1B: 10 tiles of 16 tokens, up to 4 key tiles */
        {32, 8, 64, 150, 70, 224, 0, 1, 90}, /* and a window across key tiles, the spike outside it */
        {8, 2, 128, 90, 45, 160, 0, 0, 0},   /* 128: 8 tokens a tile, 128-key tiles, V 25 keys a stage */
        {8, 2, 128, 90, 45, 160, 0, 0, 70},  /* and a window */
        {4, 1, 132, 21, 9, 40, 0, 0, 0},     /* 33 vec4s a head: 7 row quads, lanes of the sum idle */
        {2, 1, 1024, 6, 3, 12, 0, 0, 0},     /* the largest head the kernels take: one row quad */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) check_attention(&cases[i]);
}

/* One-token steps deep into the cache: attention_split.wgsl's chunks of
 * KERNELS_ATTN_CHUNK (64) keys, merged by attention_merge.wgsl. Keys
 * ending inside a chunk and exactly at its end, one key into a new chunk;
 * MHA, GQA, MQA, and a group over the 8 heads one workgroup takes; windows
 * shorter than a chunk (inside one, across a chunk boundary, starting
 * exactly at one) and longer; head sizes 64, 80 (lanes left over) and 256,
 * a spike in the first chunk only (its chunk's maximum far above the
 * others': the merge must rescale), and a head size the split kernels do
 * not take (7: attention_prompt.wgsl runs). */
static void test_attention_decode(void **state) {
    (void)state;
    const att_case cases[] = {
        {8, 2, 64, 1, 300, 320, 0, 0, 0},     /* 301 keys: 4 chunks and 45 */
        {4, 4, 64, 1, 127, 130, 0, 0, 0},     /* MHA, 128 keys: two whole chunks */
        {4, 4, 64, 1, 128, 130, 0, 0, 0},     /* 129: one key into a third */
        {8, 1, 64, 1, 200, 256, 0, 0, 0},     /* MQA, 8 heads a KV head */
        {12, 1, 32, 1, 150, 160, 0, 0, 0},    /* 12 heads a KV head: two workgroups, of 8 and 4 */
        {32, 8, 64, 1, 4095, 4096, 0, 0, 0},  /* Llama 3.2 1B's shape, the context full */
        {8, 2, 64, 1, 500, 512, 0, 1, 0},     /* a score of ~200 in chunk 0 only */
        {4, 2, 80, 1, 200, 210, 0, 0, 0},     /* 20 vec4 a head: 3 key groups, 4 lanes idle */
        {4, 1, 256, 1, 700, 800, 0, 0, 0},    /* Gemma 3's 256 */
        {4, 1, 256, 1, 700, 800, 0, 0, 512},  /* and its window of 512: chunks before it skipped */
        {4, 1, 256, 1, 300, 320, 0, 0, 512},  /* still inside the window */
        {4, 2, 64, 1, 300, 320, 0, 0, 30},    /* a window inside one chunk */
        {4, 2, 64, 1, 300, 320, 0, 0, 50},    /* a window across a chunk boundary */
        {4, 2, 64, 1, 319, 320, 0, 0, 64},    /* a window of exactly chunk 4 */
        {4, 2, 64, 1, 40, 48, 0, 1, 16},      /* the spike outside the window */
        {3, 1, 7, 1, 100, 110, 0, 0, 0},      /* head size 7: not split */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) check_attention(&cases[i]);
}

/* One attention block's kernels as the engine records them (decoder_gpu.c's
 * build_attn): the K and V projections storing into the cache at the
 * step's positions, NEOX RoPE on q and on those keys, then attention. Recorded
 * once into one graph, replayed for a prefill and then for steps at later
 * positions with only the step uniform changing, the cache carried between
 * replays. After each step the whole cache is checked against one kept on
 * the CPU (projection and RoPE tolerances as above; rows not yet written
 * must still be zero), and the output against attention over the GPU's
 * own cache (tolerances as above). */
static void test_rope_attention_replay(void **state) {
    (void)state;
    kernel_registry *ks = &main_ctx.ks;
    enum { H = 4, KVH = 2, HD = 24, PAIRS = 12, CTX = 13, BATCH = 5, IN = 64 };
    const int q_dim = H * HD, kv_dim = KVH * HD;
    const int steps[][2] = {{0, 5}, {5, 1}, {6, 3}, {9, 1}, {10, 3}}; /* pos0, tokens */
    float *cs = rope_table(CTX, PAIRS, 500000.0);
    gpu_device *d = main_ctx.dev;
    size_t nq = (size_t)BATCH * q_dim, nc = (size_t)CTX * kv_dim;
    test_weight wk, wv;
    make_weight(&wk, GGML_TYPE_F32, kv_dim, IN);
    make_weight(&wv, GGML_TYPE_F32, kv_dim, IN);
    char err[512];
    gpu_matrix mk, mv;
    assert_int_equal(gpu_matrix_upload(d, &wk.t, &mk, err, sizeof err), 0);
    assert_int_equal(gpu_matrix_upload(d, &wv.t, &mv, err, sizeof err), 0);
    float *zero = calloc(nc > nq ? nc : nq, sizeof *zero);
    gpu_buffer *qb = upload(d, zero, nq * 4), *xb = upload(d, zero, (size_t)BATCH * IN * 4),
               *kcb = upload(d, zero, nc * 4), *vcb = upload(d, zero, nc * 4),
               *csb = upload(d, cs, (size_t)CTX * PAIRS * 8), *ob = upload(d, zero, nq * 4);
    rig r = rig_open(&main_ctx);
    const attn_shape a = {H, KVH, HD};
    float *p0 = rand_floats(op_attention_partials_bytes(ks, &a, CTX) / 4, 1.0f);
    gpu_buffer *pb = upload(d, p0, op_attention_partials_bytes(ks, &a, CTX));
    float scale = 1.0f / sqrtf((float)HD);
    op_matmul(r.g, &mk, xb, kcb, &(matmul_opts){.rows = ROWS_POS});
    op_matmul(r.g, &mv, xb, vcb, &(matmul_opts){.rows = ROWS_POS});
    op_rope(r.g, &a, PAIRS, 1, qb, kcb, csb);
    op_attention(r.g, &a, CTX, scale, 0, qb, kcb, vcb, pb, ob);
    (void)ks;

    double *wkc = alloc_d(nc), *tkc = alloc_d(nc), *wvc = alloc_d(nc), *tvc = alloc_d(nc);
    float *qr = malloc(nq * sizeof *qr);
    double *wq = alloc_d(nq), *tq = alloc_d(nq), *want = alloc_d(nq), *tol = alloc_d(nq);
    float *row = malloc((size_t)kv_dim * sizeof *row);
    for (size_t s = 0; s < sizeof steps / sizeof *steps; s++) {
        int pos0 = steps[s][0], n = steps[s][1];
        float *q = rand_floats((size_t)n * q_dim, 2.0f), *x = rand_floats((size_t)n * IN, 0.5f);
        gpu_buffer_write(d, qb, 0, q, (size_t)n * q_dim * 4);
        gpu_buffer_write(d, xb, 0, x, (size_t)n * IN * 4);
        /* the CPU side: the projections, RoPE on q and k, the cache rows */
        for (int t = 0; t < n; t++) {
            size_t co = (size_t)(pos0 + t) * kv_dim;
            double kmag = 0;
            for (int o = 0; o < kv_dim; o++) {
                double ka = 0, va = 0, vm = 0, km = 0;
                for (int c = 0; c < IN; c++) {
                    ka += (double)wk.w[(size_t)o * IN + c] * x[(size_t)t * IN + c];
                    va += (double)wv.w[(size_t)o * IN + c] * x[(size_t)t * IN + c];
                    km += fabs((double)wk.w[(size_t)o * IN + c] * x[(size_t)t * IN + c]);
                    vm += fabs((double)wv.w[(size_t)o * IN + c] * x[(size_t)t * IN + c]);
                }
                row[o] = (float)ka;
                wvc[co + o] = va;
                tvc[co + o] = 2e-5 * vm;
                if (km > kmag) kmag = km;
            }
            rope_ref(row, wkc + co, tkc + co, KVH, HD, PAIRS, 1, cs, pos0 + t);
            /* a rotated key mixes two projections: their drift (2e-5 of the
             * row's largest magnitude each) adds to the rotation's */
            for (int o = 0; o < kv_dim; o++) tkc[co + o] += 4e-5 * kmag;
            rope_ref(q + (size_t)t * q_dim, wq + (size_t)t * q_dim, tq + (size_t)t * q_dim, H, HD, PAIRS, 1, cs,
                     pos0 + t);
        }
        for (size_t i = 0; i < (size_t)n * q_dim; i++) qr[i] = (float)wq[i];
        rig_run(&r, (uint32_t)pos0, (uint32_t)n, 0, 1);
        float *kc = download(d, kcb, nc), *vc = download(d, vcb, nc), *o = download(d, ob, (size_t)n * q_dim);
        char what[160];
        snprintf(what, sizeof what, "projections+rope+attention replay step %zu: tokens %d at pos %d (heads %d kv_heads %d head_dim %d)",
                 s, n, pos0, H, KVH, HD);
        expect_close(what, "K cache", kc, wkc, tkc, nc, (size_t)kv_dim);
        expect_close(what, "V cache", vc, wvc, tvc, nc, (size_t)kv_dim);
        attention_ref(qr, kc, vc, H, KVH, HD, n, pos0, 0, scale, 0, want, tol);
        expect_close(what, "O", o, want, tol, (size_t)n * q_dim, (size_t)q_dim);
        free(q); free(x); free(kc); free(vc); free(o);
    }
    rig_close(&r);
    gpu_buffer *bs[] = {qb, xb, kcb, vcb, csb, ob, pb};
    for (int i = 0; i < 7; i++) gpu_buffer_free(bs[i]);
    free(p0);
    gpu_matrix_free(&mk);
    gpu_matrix_free(&mv);
    free_weight(&wk);
    free_weight(&wv);
    free(cs); free(zero); free(qr); free(row); free(wq); free(tq); free(want); free(tol);
    free(wkc); free(tkc); free(wvc); free(tvc);
}

/* ---- swiglu.wgsl ----
 * G = G / (1 + exp(-G)) * U. Relative tolerance 2e-5: WGSL allows exp
 * 3 + 2|x| ulps, ~5e-6 relative at the |G| = 40 used here, plus a division
 * and two products. Inputs cover [-8, 8] and a few at +-20, +-40, 0. */
static void check_swiglu(int width, int n) {
    size_t nn = (size_t)n * width, ng = nn + (size_t)width; /* a spare row */
    float *g0 = rand_floats(ng, 8.0f), *u = rand_floats(nn, 2.0f);
    const float extreme[] = {40, -40, 20, -20, 0, -0.0f};
    for (size_t i = 0; i < sizeof extreme / sizeof *extreme && i < nn; i++) g0[(i * 7919) % nn] = extreme[i];
    double *want = alloc_d(ng), *tol = alloc_d(ng);
    untouched(want, tol, g0, 0, ng);
    for (size_t i = 0; i < nn; i++) {
        double g = g0[i];
        want[i] = g / (1 + exp(-g)) * u[i];
        tol[i] = 2e-5 * fabs(want[i]);
    }
    gpu_device *d = main_ctx.dev;
    rig r = rig_open(&main_ctx);
    gpu_buffer *gb = upload(d, g0, ng * 4), *ub = upload(d, u, nn * 4);
    op_swiglu(r.g, gb, ub, width);
    rig_run(&r, 0, (uint32_t)n, 0, 1);
    float *g = download(d, gb, ng);
    char what[120];
    snprintf(what, sizeof what, "swiglu width %d tokens %d", width, n);
    expect_close(what, "G", g, want, tol, ng, (size_t)width);
    rig_close(&r);
    gpu_buffer_free(gb); gpu_buffer_free(ub);
    free(g0); free(u); free(g); free(want); free(tol);
}

static void test_swiglu(void **state) {
    (void)state;
    check_swiglu(1, 1);
    check_swiglu(37, 3);
    check_swiglu(100, 5);
    check_swiglu(64, 2);
    check_swiglu(300, 1);
}

/* ---- gelu.wgsl ----
 * G = gelu(G) (* U when gated), GELU's tanh form 0.5 x (1 + tanh(u)),
 * u = sqrt(2/pi) (x + 0.044715 x^3), in double here. Relative tolerance
 * 5e-5: the kernel's exp(-2u) may be off by 3 + 2|2u| ulps (WGSL), ~1.2e-5
 * relative at the |x| = 6 where it still matters, then a division and a
 * product; past that the result is x or a tiny negative. Absolute 1e-30
 * for the deep negative tail (gelu(-20) underflows to -0 on the GPU, ~1e-260
 * in double). erf's GELU differs by up to 5e-4 relative, tanh
 * without the cubic term by far more: both outside. Inputs cover [-8, 8]
 * and a few at +-20, +-40, 0. */
static void check_gelu(int width, int n, int gated) {
    size_t nn = (size_t)n * width, ng = nn + (size_t)width; /* a spare row */
    float *g0 = rand_floats(ng, 8.0f), *u = rand_floats(nn, 2.0f);
    const float extreme[] = {40, -40, 20, -20, 0, -0.0f, 1e-4f, -1e-4f};
    for (size_t i = 0; i < sizeof extreme / sizeof *extreme && i < nn; i++) g0[(i * 7919) % nn] = extreme[i];
    double *want = alloc_d(ng), *tol = alloc_d(ng);
    untouched(want, tol, g0, 0, ng);
    for (size_t i = 0; i < nn; i++) {
        /* 0.5 x (1 + tanh(t)) as x / (1 + exp(-2t)): equal, without the
         * double's own cancellation of 1 + tanh(t) far below zero */
        double x = g0[i], t = 0.7978845608028654 * x * (1 + 0.044715 * x * x);
        want[i] = x / (1 + exp(-2 * t)) * (gated ? u[i] : 1);
        tol[i] = 5e-5 * fabs(want[i]) + 1e-30;
    }
    gpu_device *d = main_ctx.dev;
    rig r = rig_open(&main_ctx);
    gpu_buffer *gb = upload(d, g0, ng * 4), *ub = upload(d, u, nn * 4);
    op_gelu(r.g, gb, ub, width, gated);
    rig_run(&r, 0, (uint32_t)n, 0, 1);
    float *g = download(d, gb, ng);
    char what[120];
    snprintf(what, sizeof what, "gelu%s width %d tokens %d", gated ? " gated (GeGLU)" : "", width, n);
    expect_close(what, "G", g, want, tol, ng, (size_t)width);
    rig_close(&r);
    gpu_buffer_free(gb); gpu_buffer_free(ub);
    free(g0); free(u); free(g); free(want); free(tol);
}

static void test_gelu(void **state) {
    (void)state;
    for (int gated = 0; gated < 2; gated++) {
        check_gelu(1, 1, gated);
        check_gelu(37, 3, gated);
        check_gelu(256, 5, gated);
        check_gelu(300, 1, gated);
    }
}

/* ---- softcap.wgsl ----
 * The n_out rows of logits become cap tanh(Y / cap) (Gemma's final
 * soft-capping); rows past n_out stay. Tolerance 2e-6 of cap plus 2e-5 of
 * the result: exp(-2|u|) within a few ulps, |u| <= 10 here, and the
 * (1 - e) / (1 + e) around it. */
static void check_softcap(int width, int n_tokens, int n_out, float cap) {
    size_t ny = (size_t)n_tokens * width;
    float *y0 = rand_floats(ny, 3.0f * cap);
    double *want = alloc_d(ny), *tol = alloc_d(ny);
    untouched(want, tol, y0, 0, ny);
    for (size_t i = 0; i < (size_t)n_out * width; i++) {
        want[i] = cap * tanh((double)y0[i] / cap);
        tol[i] = 2e-6 * cap + 2e-5 * fabs(want[i]);
    }
    gpu_device *d = main_ctx.dev;
    rig r = rig_open(&main_ctx);
    gpu_buffer *yb = upload(d, y0, ny * 4);
    op_softcap(r.g, yb, width, cap);
    rig_run(&r, 0, (uint32_t)n_tokens, 0, (uint32_t)n_out);
    float *y = download(d, yb, ny);
    char what[120];
    snprintf(what, sizeof what, "softcap %g width %d rows %d of %d", cap, width, n_out, n_tokens);
    expect_close(what, "Y", y, want, tol, ny, (size_t)width);
    rig_close(&r);
    gpu_buffer_free(yb);
    free(y0); free(y); free(want); free(tol);
}

static void test_softcap(void **state) {
    (void)state;
    check_softcap(100, 1, 1, 30.0f);
    check_softcap(513, 4, 3, 30.0f);
    check_softcap(64, 5, 5, 0.5f);
}

/* More workgroups than one grid dimension holds: gpu_dispatch_1d spreads
 * them over x and y and common.wgsl's linear_wg() must put them back; the
 * rounded-up grid has workgroups past the end, which must do nothing. */
static void test_swiglu_2d_grid(void **state) {
    (void)state;
    uint32_t maxd = gpu_get_limits(main_ctx.dev)->max_workgroups_per_dim;
    if (maxd > 70000) { skip(); return; }
    check_swiglu(64, (int)maxd + 2); /* one workgroup a token */
}

static void test_embed_2d_grid(void **state) {
    (void)state;
    uint32_t maxd = gpu_get_limits(main_ctx.dev)->max_workgroups_per_dim;
    if (maxd > 70000) { skip(); return; }
    check_embed(GGML_TYPE_Q8_0, 50, 32, (int)maxd + 2, 0); /* one workgroup a token */
}

/* ---- both reduction variants ---- */

static int setup_tree(void **state) {
    setenv("WGPT_NO_SUBGROUPS", "1", 1);
    int rc = setup(state);
    if (rc == 0 && main_ctx.ks.group_slots != 1) {
        fprintf(stderr, "WGPT_NO_SUBGROUPS did not give the workgroup-tree reductions\n");
        return -1;
    }
    return rc;
}

static int teardown_tree(void **state) {
    unsetenv("WGPT_NO_SUBGROUPS");
    return teardown(state);
}

/* The two paths for Q8_0 and Q4_0 prompt steps, each in a group of the
 * matmul tests of its own whatever the default: 8-bit products
 * (quant_act.wgsl and matmul_i8.wgsl) at each count of blocks a stage, and
 * the f32 tiles (matmul.wgsl). */
static int setup_i8(void **state) {
    setenv("WGPT_MATMUL_I8", "1", 1);
    return setup(state);
}

static int setup_i8_kb1(void **state) {
    setenv("WGPT_MMI8_KB", "1", 1);
    return setup_i8(state);
}

static int setup_f32(void **state) {
    setenv("WGPT_MATMUL_I8", "0", 1);
    return setup(state);
}

static int teardown_paths(void **state) {
    unsetenv("WGPT_MATMUL_I8");
    unsetenv("WGPT_MMI8_KB");
    return teardown(state);
}

int main(void) {
    /* KERNEL_TEST_FILTER="test_kquant*": only the tests it matches, in every group */
    if (getenv("KERNEL_TEST_FILTER")) cmocka_set_test_filter(getenv("KERNEL_TEST_FILTER"));
    const struct CMUnitTest path_tests[] = {
        cmocka_unit_test(test_quant_act),
        cmocka_unit_test(test_matmul_q8_0),       cmocka_unit_test(test_matmul_q4_0),
        cmocka_unit_test(test_matmul_residual_add), cmocka_unit_test(test_matmul_logits),
        cmocka_unit_test(test_matmul_split),      cmocka_unit_test(test_matmul_bias),
        cmocka_unit_test(test_matmul_kv_rows),    cmocka_unit_test(test_matmul_parts),
        cmocka_unit_test(test_matmul_splitk),
        cmocka_unit_test(test_matvec_norm),       cmocka_unit_test(test_quant_planes),
    };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matmul_f32),
        cmocka_unit_test(test_matmul_f16),
        cmocka_unit_test(test_matmul_q8_0),
        cmocka_unit_test(test_matmul_q4_0),
        cmocka_unit_test(test_matmul_bf16),
        cmocka_unit_test(test_matmul_residual_add),
        cmocka_unit_test(test_matmul_logits),
        cmocka_unit_test(test_matmul_split),
        cmocka_unit_test(test_matmul_bias),
        cmocka_unit_test(test_matmul_kv_rows),
        cmocka_unit_test(test_matmul_parts),
        cmocka_unit_test(test_matmul_splitk),
        cmocka_unit_test(test_matvec),
        cmocka_unit_test(test_matvec_norm),
        cmocka_unit_test(test_matvec_glu),
        cmocka_unit_test(test_matvec_qkv),
        cmocka_unit_test(test_matvec_qkv_bias),
        cmocka_unit_test(test_matvec_qkv_layernorm),
        cmocka_unit_test(test_matvec_lnorm),
        cmocka_unit_test(test_embed),
        cmocka_unit_test(test_embed_split),
        cmocka_unit_test(test_embed_scaled),
        cmocka_unit_test(test_quant_planes),
        cmocka_unit_test(test_kquant_matmul),
        cmocka_unit_test(test_kquant_matvec),
        cmocka_unit_test(test_kquant_fused),
        cmocka_unit_test(test_kquant_qk_v_apart),
        cmocka_unit_test(test_kquant_embed),
        cmocka_unit_test(test_kquant_planes),
        cmocka_unit_test(test_kquant_bad_rows),
        cmocka_unit_test(test_pos_embed),
        cmocka_unit_test(test_embed_2d_grid),
        cmocka_unit_test(test_rmsnorm),
        cmocka_unit_test(test_rmsnorm_out_rows),
        cmocka_unit_test(test_rmsnorm_add),
        cmocka_unit_test(test_layernorm),
        cmocka_unit_test(test_rope),
        cmocka_unit_test(test_rope_neox),
        cmocka_unit_test(test_head_rmsnorm),
        cmocka_unit_test(test_attention),
        cmocka_unit_test(test_attention_window),
        cmocka_unit_test(test_attention_prompt),
        cmocka_unit_test(test_attention_decode),
        cmocka_unit_test(test_rope_attention_replay),
        cmocka_unit_test(test_swiglu),
        cmocka_unit_test(test_swiglu_2d_grid),
        cmocka_unit_test(test_gelu),
        cmocka_unit_test(test_softcap),
    };
    int failed = cmocka_run_group_tests_name("default reductions", tests, setup, teardown);
    failed += cmocka_run_group_tests_name("workgroup-tree reductions", tests, setup_tree, teardown_tree);
    failed += cmocka_run_group_tests_name("8-bit products (WGPT_MATMUL_I8=1)", path_tests, setup_i8, teardown_paths);
    failed += cmocka_run_group_tests_name("8-bit products, a block a stage (WGPT_MMI8_KB=1)", path_tests, setup_i8_kb1,
                                          teardown_paths);
    return failed + cmocka_run_group_tests_name("f32 products (WGPT_MATMUL_I8=0)", path_tests, setup_f32, teardown_paths);
}
