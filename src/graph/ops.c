/* The ops: each fills its kernel's Params struct (the WGSL declares the
 * same fields in the same order) and records the dispatch. */
#include "graph/ops.h"

#include <stdlib.h>
#include <string.h>


/* The kernel, or NULL with the reason recorded in the graph; v_slot: V's
 * own format for KERNEL_MATVEC_QKV (kernels_get_qkv_v_own), else -1. */
static gpu_kernel *kernel_v(graph *g, kernel_id id, int slot, int v_slot, int variant) {
    char err[512];
    gpu_kernel *k = v_slot < 0 ? kernels_get(graph_kernels(g), id, slot, variant, err, sizeof err)
                               : kernels_get_qkv_v_own(graph_kernels(g), slot, v_slot, variant, err, sizeof err);
    if (!k) graph_fail(g, err);
    return k;
}

static gpu_kernel *kernel(graph *g, kernel_id id, int slot, int variant) { return kernel_v(g, id, slot, -1, variant); }

static uint32_t slots(graph *g) { return graph_kernels(g)->group_slots; }

static int chunk_rows(const gpu_matrix *w, int c) {
    int left = w->rows - c * w->chunk_rows;
    return left < w->chunk_rows ? left : w->chunk_rows;
}

/* Split-K. A product of few row tiles (K and V, Q and O, the down
 * projection at a 1B's 2048 rows) launches fewer workgroups than the GPU
 * has room for, and then takes one workgroup's walk over every column:
 * on the H200 at 512 tokens a 512x2048 Q8_0 product ran at 11.5 TFLOP/s
 * against 50 at 8192 rows. Below SPLITK_TARGET workgroups (the H200's 132
 * SMs, two each: the adapter does not report its SM count) the columns
 * are split into parts of whole stages, at most SPLITK_MAX, none shorter
 * than SPLITK_MIN_COLS (a shorter part gains less than its partial sums'
 * write and the reduction cost; it also leaves the tiny test models, whose
 * rows are short, as they were). Only matrices of up to FEW_ROWS rows
 * split unless forced: on the H200 (2026-11-30, wgpt-kbench -n 512)
 * splitting K and V (512 rows) took them from 113 to 49 us (Q8_0, 8
 * parts) and 110 to 68 (F16, 3), while Q and O (2048 rows, 3 parts) went
 * from 94 to 129 and the down projection (2048 x 8192) from 335 to 405. */
#define SPLITK_TARGET 264u
#define SPLITK_MAX 8u
#define SPLITK_MIN_COLS 256u
#define SPLITK_TILE_OUTPUTS (128u * 64u) /* the largest tile: matmul_i8.wgsl's rows by tokens */

uint64_t op_matmul_partials_bytes(int max_rows, int w_rows) {
    uint64_t all = (uint64_t)SPLITK_MAX * (uint64_t)max_rows * (uint64_t)w_rows;
    uint64_t most = 2ull * SPLITK_TARGET * SPLITK_TILE_OUTPUTS;
    return 4 * (all < most ? all : most);
}

/* Matrices of up to FEW_ROWS rows (K and V) fill more of the GPU in tiles
 * of 32 tokens (512-row products of 512 tokens: 14.4 TFLOP/s against 9.7
 * in 64s), and only they split. */
#define FEW_ROWS 1024u

/* WGPT_SPLITK's parts, or 0 where it is not set. */
static uint32_t splitk_forced(void) {
    const char *e = getenv("WGPT_SPLITK");
    unsigned long v = e && *e ? strtoul(e, NULL, 10) : 0;
    return v > SPLITK_MAX ? SPLITK_MAX : (uint32_t)v;
}

/* Parts a product of rows x cols splits into (1: none), and columns a
 * part (the last may have fewer). The grid is recorded once, so the parts
 * are chosen for the largest step the scratch is sized for; shorter steps
 * split alike (fewer tiles: they need it no less). */
typedef struct { uint32_t parts, span; } k_split;
static k_split matmul_split(graph *g, int slot, uint32_t rows, uint32_t cols, uint32_t row_tiles, uint32_t tile_tokens) {
    k_split none = {1, cols};
    uint64_t bytes;
    uint32_t max_rows, forced = splitk_forced();
    if (!graph_scratch(g, &bytes, &max_rows) || !max_rows || forced == 1 || (!forced && rows > FEW_ROWS))
        return none;
    uint32_t stage = kernels_matmul_stage_cols(slot), stages = (cols + stage - 1) / stage;
    uint32_t tiles = row_tiles * ((max_rows + tile_tokens - 1) / tile_tokens);
    uint32_t parts = forced ? forced : tiles < SPLITK_TARGET ? (SPLITK_TARGET + tiles - 1) / tiles : 1;
    uint32_t most = forced ? stages : cols / SPLITK_MIN_COLS;
    if (parts > SPLITK_MAX) parts = SPLITK_MAX;
    if (parts > most) parts = most;
    while (parts > 1 && (uint64_t)parts * max_rows * rows * 4 > bytes) parts--;
    if (parts < 2) return none;
    uint32_t per = (stages + parts - 1) / parts; /* stages a part; then no part is empty */
    return (k_split){(stages + per - 1) / per, per * stage};
}

/* How the batched kernel takes rows x cols of weights of a slot: row tiles,
 * tokens a tile (32 with t32), and the split of the columns. */
typedef struct { uint32_t row_tiles, tile_tokens; k_split ks; } mm_plan;
static mm_plan matmul_plan(graph *g, int slot, uint32_t rows, uint32_t cols, int t32) {
    uint32_t tile_rows = kernels_matmul_rows(slot);
    mm_plan pl = {(rows + tile_rows - 1) / tile_rows, kernels_matmul_tokens(slot, t32 ? KV_T32 : KV_PLAIN), {1, cols}};
    pl.ks = matmul_split(g, slot, rows, cols, pl.row_tiles, pl.tile_tokens);
    return pl;
}

int op_matmul_k_parts(graph *g, const gpu_matrix *w, int rows) {
    return (int)matmul_plan(g, w->gpu_slot, (uint32_t)rows, (uint32_t)w->cols, (uint32_t)rows <= FEW_ROWS).ks.parts;
}

/* matmul.wgsl's Params begin with these; matvec.wgsl's too. */
typedef struct { uint32_t rows, cols, row_offset, out_stride, in_stride, accumulate, rows_mode, w_first; } mm_head;
typedef struct { mm_head h; uint32_t k_splits, k_span, pad0, pad1; } mm_params;

/* The split's second dispatch (matmul_reduce.wgsl), a lane an output: the
 * parts' sums in P, added up and put where the unsplit kernel puts them. */
static void matmul_reduce(graph *g, const mm_head *h, uint32_t parts, gpu_buffer *part, gpu_buffer *y,
                          gpu_buffer *bias, step_when many) {
    struct { uint32_t rows, out_stride, row_offset, accumulate, rows_mode, splits, has_bias, pad; } p = {
        h->rows, h->out_stride, h->row_offset, h->accumulate, h->rows_mode, parts, bias != NULL, 0};
    gpu_binding b[3] = {{part, 0, 0}, {y, 0, 0}, {bias ? bias : part, 0, 0}};
    uint32_t out = h->rows_mode == ROWS_OUT;
    graph_dispatch(g, kernel(g, KERNEL_MATMUL_REDUCE, 0, KV_PLAIN), &p, sizeof p, b, 3,
                   (grid_rule){0, out ? 0 : h->rows, out ? h->rows : 0, 64 /* the kernel's lanes */, many});
}

/* The batched product of chunk c's rows p->h: matmul.wgsl's tiles of rows
 * by tokens (or n_out rows), and where matmul_split says, by part, into
 * the scratch, then their reduction into y. */
static void matmul_tiles(graph *g, const gpu_matrix *w, int c, mm_params *p, gpu_buffer *x, gpu_buffer *y,
                         const matmul_opts *o, int t32, step_when many) {
    int split_variant = t32 ? KV_T32_SPLIT : KV_SPLIT; /* parts add no bias: their reduction does */
    int variant = t32 ? (o->bias ? KV_T32_BIAS : KV_T32) : (o->bias ? KV_BIAS : KV_PLAIN);
    mm_plan pl = matmul_plan(g, w->gpu_slot, p->h.rows, p->h.cols, t32);
    k_split ks = pl.ks;
    uint64_t bytes;
    uint32_t max_rows;
    gpu_buffer *part = ks.parts > 1 ? graph_scratch(g, &bytes, &max_rows) : NULL;
    p->k_splits = ks.parts;
    p->k_span = ks.span;
    gpu_binding b[4] = {{w->chunk[c], 0, 0}, {op_matmul_takes_xq(w) ? o->xq : x, 0, 0}, {part ? part : y, 0, 0},
                        {o->bias, 0, 0}};
    graph_dispatch_tiled(g, kernel(g, KERNEL_MATMUL, w->gpu_slot, part ? split_variant : variant), p, sizeof *p, b,
                         o->bias && !part ? 4 : 3, (grid_rule){0, 0, 0, 1, many}, pl.row_tiles * ks.parts, pl.tile_tokens,
                         o->rows == ROWS_OUT);
    if (part) matmul_reduce(g, &p->h, ks.parts, part, y, o->bias, many);
}

/* One dispatch per chunk that holds rows of the wanted part: each reads
 * its rows where they lie and writes them at their column in the part.
 * Each chunk is recorded twice: the batched kernel for steps of several
 * tokens (split or not: matmul_split), matvec.wgsl for one-token steps (a
 * decode step), which is bound by the bytes of W alone. */
void op_matmul(graph *g, const gpu_matrix *w, gpu_buffer *x, gpu_buffer *y, const matmul_opts *o) {
    int first = o->w_rows ? o->w_first : 0, n = o->w_rows ? o->w_rows : w->rows;
    mm_params p = {{0, (uint32_t)w->cols, 0, (uint32_t)(o->out_stride ? o->out_stride : n), (uint32_t)w->cols,
                    (uint32_t)o->accumulate, (uint32_t)o->rows, 0}, 1, (uint32_t)w->cols, 0, 0};
    int fold = o->norm && o->norm_x;
    /* matvec.wgsl's Params: matmul's head, then the norm's epsilon and where x's row is */
    struct { mm_head h; float eps; uint32_t x_row, pad0, pad1; } pv;
    int out = o->rows == ROWS_OUT;
    step_when one = out ? WHEN_ONE_OUT : WHEN_ONE_TOKEN, many = out ? WHEN_SEQ_OUTS : WHEN_SEQ_TOKENS;
    int t32 = (uint32_t)n <= FEW_ROWS;
    int mv_variant = fold ? (o->bias ? KV_NORM_BIAS : KV_NORM) : (o->bias ? KV_BIAS : KV_PLAIN);
    gpu_kernel *kv = o->many_only ? NULL : kernel(g, KERNEL_MATVEC, w->gpu_slot, mv_variant);
    uint32_t mv_per_wg = kernels_matvec_per_wg(graph_kernels(g), KERNEL_MATVEC, w->gpu_slot, mv_variant);
    if (op_matmul_takes_xq(w) && !o->xq) {
        graph_fail(g, "op_matmul: a matrix of 8-bit products needs x quantized (matmul_opts.xq, op_quant_act)");
        return;
    }
    for (int c = 0; c < w->n_chunks; c++) {
        int c0 = c * w->chunk_rows, c1 = c0 + chunk_rows(w, c);
        int r0 = first > c0 ? first : c0, r1 = first + n < c1 ? first + n : c1;
        if (r0 >= r1) continue;
        p.h.rows = (uint32_t)(r1 - r0);
        p.h.row_offset = (uint32_t)(r0 - first);
        p.h.w_first = (uint32_t)(r0 - c0);
        matmul_tiles(g, w, c, &p, x, y, o, t32, many);
        memset(&pv, 0, sizeof pv);
        pv.h = p.h;
        if (graph_multi(g)) { /* a batch's decode steps: matvec.wgsl, MV_MULTI_TOKENS tokens a group, on x as it is */
            int mvm = o->bias ? KV_MULTI_BIAS : KV_MULTI;
            kernel_registry *r = graph_kernels(g);
            uint32_t group_rows = kernels_matvec_rows(r, KERNEL_MATVEC, w->gpu_slot, mvm);
            gpu_binding bm[4] = {{w->chunk[c], 0, 0}, {x, 0, 0}, {y, 0, 0}, {o->bias, 0, 0}};
            graph_dispatch_tiled(g, kernel(g, KERNEL_MATVEC, w->gpu_slot, mvm), &pv, sizeof pv, bm, o->bias ? 4 : 3,
                                 (grid_rule){0, 0, 0, kernels_matvec_per_wg(r, KERNEL_MATVEC, w->gpu_slot, mvm), WHEN_MULTI},
                                 (p.h.rows + group_rows - 1) / group_rows * group_rows, MV_MULTI_TOKENS, out);
        }
        if (o->many_only) continue;
        pv.eps = o->norm_eps;
        pv.x_row = (uint32_t)(fold && out); /* the residual stream's row out_first, not a packed row 0 */
        gpu_binding bv[5] = {{w->chunk[c], 0, 0}, {fold ? o->norm_x : x, 0, 0}, {y, 0, 0}};
        int nb = 3;
        if (o->bias) bv[nb++] = (gpu_binding){o->bias, 0, 0};
        if (fold) bv[nb++] = (gpu_binding){o->norm, 0, 0};
        graph_dispatch(g, kv, &pv, sizeof pv, bv, nb, (grid_rule){p.h.rows, 0, 0, mv_per_wg, one});
    }
}

int op_matmul_takes_xq(const gpu_matrix *w) { return kernels_matmul_i8(w->gpu_slot); }

/* A lane a block (quant_act.wgsl); with up, x = silu(x) * up first. */
static void quant_act(graph *g, gpu_buffer *x, gpu_buffer *up, gpu_buffer *xq, int cols, int from_out) {
    struct { uint32_t cols, in_stride, rows_mode, pad; } p = {(uint32_t)cols, (uint32_t)cols, (uint32_t)(from_out != 0),
                                                             0};
    uint32_t blocks = (uint32_t)cols / 32;
    gpu_binding b[3] = {{x, 0, 0}, {xq, 0, 0}, {up, 0, 0}};
    /* Not in a batch's decode steps, whose products read x as it is; but the
     * SwiGLU variant makes the activation they read. */
    step_when when = from_out ? (up ? WHEN_OUTS : WHEN_SEQ_OUTS) : (up ? WHEN_TOKENS : WHEN_SEQ_TOKENS);
    graph_dispatch(g, kernel(g, KERNEL_QUANT_ACT, 0, up ? KV_QA_SWIGLU : KV_PLAIN), &p, sizeof p, b, up ? 3 : 2,
                   from_out ? (grid_rule){0, 0, blocks, 64, when} : (grid_rule){0, blocks, 0, 64, when});
}

void op_quant_act(graph *g, gpu_buffer *x, gpu_buffer *xq, int cols, int from_out) {
    quant_act(g, x, NULL, xq, cols, from_out);
}

void op_swiglu_quant_many(graph *g, gpu_buffer *gate, gpu_buffer *up, gpu_buffer *xq, int width) {
    quant_act(g, gate, up, xq, width, 0);
}

uint64_t op_quant_act_bytes(int rows, int cols) {
    uint64_t blocks = (uint64_t)rows * (uint64_t)(cols / 32);
    return (blocks + (blocks & 1)) * 40;
}

/* matvec_glu.wgsl: gated with RMSNorm (wu set), or ungated with LayerNorm
 * (wu NULL: W bound again in its place, never read). */
static void glu(graph *g, const gpu_matrix *wg, const gpu_matrix *wu, gpu_buffer *x, const fused_norm *n,
                gpu_buffer *y, uint32_t act, int from_out) {
    struct { uint32_t rows, cols, row_offset, out_stride, in_stride, accumulate, rows_mode, w_first; float eps;
             uint32_t act, bias_at, x_row; } p = {(uint32_t)wg->rows, (uint32_t)wg->cols, 0, (uint32_t)wg->rows,
                                                 (uint32_t)wg->cols, 0, 0, 0, n->eps, act,
                                                 n->biased ? (uint32_t)wg->cols * (n->layer_norm ? 2 : 1) : 0,
                                                 (uint32_t)(from_out != 0)};
    gpu_binding b[5] = {{wg->chunk[0], 0, 0}, {x, 0, 0}, {y, 0, 0}, {n->vecs, 0, 0}, {(wu ? wu : wg)->chunk[0], 0, 0}};
    int variant = wu ? KV_PLAIN : KV_LNORM;
    uint32_t per_wg = kernels_matvec_per_wg(graph_kernels(g), KERNEL_MATVEC_GLU, wg->gpu_slot, variant);
    graph_dispatch(g, kernel(g, KERNEL_MATVEC_GLU, wg->gpu_slot, variant), &p, sizeof p, b, 5,
                   (grid_rule){p.rows, 0, 0, per_wg, from_out ? WHEN_ONE_OUT : WHEN_ONE_TOKEN});
}

void op_matvec_glu(graph *g, const gpu_matrix *wg, const gpu_matrix *wu, gpu_buffer *x, gpu_buffer *norm, float eps,
                   gpu_buffer *gate, int gelu) {
    if (wg->n_chunks != 1 || wu->n_chunks != 1 || wg->gpu_slot != wu->gpu_slot || wg->rows != wu->rows ||
        wg->cols != wu->cols) {
        graph_fail(g, "op_matvec_glu: gate and up must be one buffer each, of one type and shape");
        return;
    }
    glu(g, wg, wu, x, &(fused_norm){norm, 0, 0, eps}, gate, gelu != 0, 0);
}

int op_matvec_lnorm(graph *g, const gpu_matrix *w, gpu_buffer *x, const fused_norm *n, gpu_buffer *y, int gelu,
                    int from_out) {
    if (w->n_chunks != 1 || !n->layer_norm) return 0;
    glu(g, w, NULL, x, n, y, gelu ? 1 : 2, from_out);
    return 1;
}

/* op_matvec_qkv's work: m[0..2] the matrices of Q, K and V, or with stacked
 * one matrix three times; without with_v only Q's and K's rows (m[2] is
 * bound all the same, unread). */
static int matvec_qkv(graph *g, const gpu_matrix *const m[3], int q_rows, int kv_rows, int stacked, int with_v,
                      gpu_buffer *x, const fused_norm *n, gpu_buffer *q, gpu_buffer *k_cache, gpu_buffer *v_cache,
                      const qkv_rope *rope) {
    uint32_t rows = kernels_matvec_rows(graph_kernels(g), KERNEL_MATVEC_QKV, m[0]->gpu_slot, KV_PLAIN);
    int v_slot = with_v && m[2]->gpu_slot != m[0]->gpu_slot ? m[2]->gpu_slot : -1; /* V of its own format */
    if (v_slot >= 0 && !kernels_qkv_v_own(m[0]->gpu_slot, v_slot)) return 0;
    for (int i = 0; i < (with_v ? 3 : 2); i++)
        if (m[i]->n_chunks != 1 || (m[i]->gpu_slot != m[0]->gpu_slot && i < 2) || m[i]->cols != m[0]->cols) return 0;
    if (q_rows % (int)rows || kv_rows % (int)rows) return 0;
    /* a group turns the two rows of a pair: two rows a group, heads of whole pairs */
    int turn = rope && !n->layer_norm && rope->rope_pairs > 0 && rows == 2 && rope->head_dim % 2 == 0 &&
               2 * rope->rope_pairs <= rope->head_dim && q_rows % rope->head_dim == 0 &&
               kv_rows % rope->head_dim == 0 && gpu_get_limits(graph_device(g))->max_storage_buffers >= 9;
    struct { uint32_t q_rows, cols, kv_rows, rope_pairs, neox, head_dim, stacked, bias_at; float eps;
             uint32_t no_v, pad6, pad7; } p = {
        (uint32_t)q_rows, (uint32_t)m[0]->cols, (uint32_t)kv_rows, turn ? (uint32_t)rope->rope_pairs : 0,
        turn ? (uint32_t)(rope->neox != 0) : 0, turn ? (uint32_t)rope->head_dim : 1, (uint32_t)(stacked != 0),
        n->biased ? (uint32_t)m[0]->cols * (n->layer_norm ? 2 : 1) : 0, n->eps, (uint32_t)!with_v, 0, 0};
    gpu_binding b[9] = {{m[0]->chunk[0], 0, 0}, {x, 0, 0},           {q, 0, 0},       {n->vecs, 0, 0},
                        {m[1]->chunk[0], 0, 0}, {m[with_v ? 2 : 1]->chunk[0], 0, 0}, {k_cache, 0, 0}, {v_cache, 0, 0},
                        {turn ? rope->cs : NULL, 0, 0}};
    int variant = n->layer_norm ? KV_LNORM : turn ? KV_QKV_ROPE : KV_PLAIN;
    graph_dispatch(g, kernel_v(g, KERNEL_MATVEC_QKV, m[0]->gpu_slot, v_slot, variant), &p, sizeof p, b, turn ? 9 : 8,
                   (grid_rule){p.q_rows + (with_v ? 2 : 1) * p.kv_rows, 0, 0,
                               kernels_matvec_per_wg(graph_kernels(g), KERNEL_MATVEC_QKV, m[0]->gpu_slot, variant),
                               WHEN_ONE_TOKEN});
    return turn ? 2 : 1;
}

int op_matvec_qkv(graph *g, const gpu_matrix *wq, const gpu_matrix *wk, const gpu_matrix *wv, gpu_buffer *x,
                  const fused_norm *n, gpu_buffer *q, gpu_buffer *k_cache, gpu_buffer *v_cache, const qkv_rope *rope) {
    if (wk->rows != wv->rows) return 0;
    const gpu_matrix *const m[3] = {wq, wk, wv};
    int r = matvec_qkv(g, m, wq->rows, wk->rows, 0, 1, x, n, q, k_cache, v_cache, rope);
    if (r || wv->gpu_slot == wq->gpu_slot) return r;
    /* Q and K alone, V the caller's (V of a type no kernel pairs with Q's):
     * on the H200 (2026-11-30) the 1B Q4_K_M's eight layers whose V is
     * q6_K took 0.39 ms a token as three products and a RoPE pass, its
     * eight others 0.18 fused; fusing their Q and K took tg128 from 681 to
     * 705 (V now joins them: mv_qkv_v_own.wgsl). */
    r = matvec_qkv(g, m, wq->rows, wk->rows, 0, 0, x, n, q, k_cache, v_cache, rope);
    return r ? r | QKV_NO_V : 0;
}

int op_matvec_qkv_stacked(graph *g, const gpu_matrix *wqkv, int q_rows, gpu_buffer *x, const fused_norm *n,
                          gpu_buffer *q, gpu_buffer *k_cache, gpu_buffer *v_cache, const qkv_rope *rope) {
    int kv_rows = (wqkv->rows - q_rows) / 2;
    if (q_rows <= 0 || kv_rows <= 0 || q_rows + 2 * kv_rows != wqkv->rows) return 0;
    const gpu_matrix *const m[3] = {wqkv, wqkv, wqkv};
    return matvec_qkv(g, m, q_rows, kv_rows, 1, 1, x, n, q, k_cache, v_cache, rope);
}

static void embed(graph *g, const gpu_matrix *w, gpu_buffer *ids, gpu_buffer *x, float scale, int by_pos) {
    struct { uint32_t rows, cols, row_offset, by_pos; float scale; uint32_t accumulate, pad0, pad1; } p = {
        0, (uint32_t)w->cols, 0, (uint32_t)by_pos, scale, (uint32_t)by_pos, 0, 0};
    gpu_kernel *k = kernel(g, KERNEL_EMBED, w->gpu_slot, KV_PLAIN);
    for (int c = 0; c < w->n_chunks; c++) {
        p.rows = (uint32_t)chunk_rows(w, c);
        p.row_offset = (uint32_t)(c * w->chunk_rows);
        gpu_binding b[3] = {{w->chunk[c], 0, 0}, {ids, 0, 0}, {x, 0, 0}};
        graph_dispatch(g, k, &p, sizeof p, b, 3, (grid_rule){0, 1, 0, 1, WHEN_ALWAYS});
    }
}

void op_embed(graph *g, const gpu_matrix *w, gpu_buffer *ids, gpu_buffer *x, float scale) {
    embed(g, w, ids, x, scale, 0);
}

/* ids is bound but not read: the row is the position. */
void op_add_pos_embed(graph *g, const gpu_matrix *w, gpu_buffer *ids, gpu_buffer *x) { embed(g, w, ids, x, 1.0f, 1); }

static void rmsnorm(graph *g, gpu_buffer *x, gpu_buffer *w, gpu_buffer *y, int dim, float eps, int from_out,
                    int accumulate, step_when when) {
    struct { uint32_t dim; float eps; uint32_t from_out, accumulate; } p = {(uint32_t)dim, eps, (uint32_t)from_out,
                                                                             (uint32_t)accumulate};
    gpu_binding b[3] = {{x, 0, 0}, {w, 0, 0}, {y, 0, 0}};
    graph_dispatch(g, kernel(g, KERNEL_RMSNORM, 0, KV_PLAIN), &p, sizeof p, b, 3,
                   from_out ? (grid_rule){0, 0, 1, slots(g), when} : (grid_rule){0, 1, 0, slots(g), when});
}

void op_rmsnorm(graph *g, gpu_buffer *x, gpu_buffer *w, gpu_buffer *y, int dim, float eps, int from_out) {
    rmsnorm(g, x, w, y, dim, eps, from_out, 0, WHEN_ALWAYS);
}

void op_rmsnorm_add(graph *g, gpu_buffer *x, gpu_buffer *w, gpu_buffer *y, int dim, float eps) {
    rmsnorm(g, x, w, y, dim, eps, 0, 1, WHEN_ALWAYS);
}

void op_rmsnorm_many(graph *g, gpu_buffer *x, gpu_buffer *w, gpu_buffer *y, int dim, float eps, int from_out) {
    rmsnorm(g, x, w, y, dim, eps, from_out, 0, from_out ? WHEN_OUTS : WHEN_TOKENS);
}

static void layernorm(graph *g, gpu_buffer *x, gpu_buffer *w, gpu_buffer *bias, gpu_buffer *y, int dim, float eps,
                      int from_out, step_when when) {
    struct { uint32_t dim; float eps; uint32_t from_out, pad; } p = {(uint32_t)dim, eps, (uint32_t)from_out, 0};
    gpu_binding b[4] = {{x, 0, 0}, {w, 0, 0}, {bias, 0, 0}, {y, 0, 0}};
    graph_dispatch(g, kernel(g, KERNEL_LAYERNORM, 0, KV_PLAIN), &p, sizeof p, b, 4,
                   from_out ? (grid_rule){0, 0, 1, slots(g), when} : (grid_rule){0, 1, 0, slots(g), when});
}

void op_layernorm(graph *g, gpu_buffer *x, gpu_buffer *w, gpu_buffer *bias, gpu_buffer *y, int dim, float eps,
                  int from_out) {
    layernorm(g, x, w, bias, y, dim, eps, from_out, WHEN_ALWAYS);
}

void op_layernorm_many(graph *g, gpu_buffer *x, gpu_buffer *w, gpu_buffer *bias, gpu_buffer *y, int dim, float eps,
                       int from_out) {
    layernorm(g, x, w, bias, y, dim, eps, from_out, from_out ? WHEN_OUTS : WHEN_TOKENS);
}

void op_head_rmsnorm_rope(graph *g, const attn_shape *a, int rope_pairs, int neox, gpu_buffer *q,
                          gpu_buffer *k_cache, gpu_buffer *wq, gpu_buffer *wk, gpu_buffer *cs, float eps) {
    struct { uint32_t n_heads, n_kv_heads, head_dim, q_dim, kv_dim; float eps; uint32_t rope_pairs, neox; } p = {
        (uint32_t)a->n_heads, (uint32_t)a->n_kv_heads, (uint32_t)a->head_dim, (uint32_t)(a->n_heads * a->head_dim),
        (uint32_t)(a->n_kv_heads * a->head_dim), eps, (uint32_t)rope_pairs, (uint32_t)(neox != 0)};
    /* Without pairs to turn the table is never read, and may not exist: wq stands in for its binding. */
    gpu_binding b[5] = {{q, 0, 0}, {k_cache, 0, 0}, {wq, 0, 0}, {wk, 0, 0}, {rope_pairs ? cs : wq, 0, 0}};
    graph_dispatch(g, kernel(g, KERNEL_HEAD_RMSNORM, 0, KV_PLAIN), &p, sizeof p, b, 5,
                   (grid_rule){0, (uint32_t)(a->n_heads + a->n_kv_heads), 0, slots(g), WHEN_ALWAYS});
}

static void rope(graph *g, const attn_shape *a, int rope_pairs, int neox, gpu_buffer *q, gpu_buffer *k_cache,
                 gpu_buffer *cs, step_when when) {
    struct { uint32_t n_heads, n_kv_heads, head_dim, rope_pairs, neox, kv_dim, q_dim, pad; } p = {
        (uint32_t)a->n_heads, (uint32_t)a->n_kv_heads, (uint32_t)a->head_dim, (uint32_t)rope_pairs,
        (uint32_t)(neox != 0), (uint32_t)(a->n_kv_heads * a->head_dim), (uint32_t)(a->n_heads * a->head_dim), 0};
    gpu_binding b[3] = {{q, 0, 0}, {k_cache, 0, 0}, {cs, 0, 0}};
    graph_dispatch(g, kernel(g, KERNEL_ROPE, 0, KV_PLAIN), &p, sizeof p, b, 3,
                   (grid_rule){0, (uint32_t)(a->n_heads + a->n_kv_heads), 0, 1, when});
}

void op_rope(graph *g, const attn_shape *a, int rope_pairs, int neox, gpu_buffer *q, gpu_buffer *k_cache,
             gpu_buffer *cs) {
    rope(g, a, rope_pairs, neox, q, k_cache, cs, WHEN_ALWAYS);
}
void op_rope_many(graph *g, const attn_shape *a, int rope_pairs, int neox, gpu_buffer *q, gpu_buffer *k_cache,
                  gpu_buffer *cs) {
    rope(g, a, rope_pairs, neox, q, k_cache, cs, WHEN_TOKENS);
}

/* The split kernels need a head in vec4s that one lane each covers. */
static int attention_splits(const attn_shape *a) { return a->head_dim % 4 == 0 && a->head_dim <= 4 * 64; }

/* Keys a chunk of the partials: a subgroup's (attention_split_sg.wgsl), or a workgroup's. */
static uint32_t attention_chunk_keys(const kernel_registry *k) {
    uint32_t sg = kernels_attention_sg_keys(k);
    return sg ? sg : KERNELS_ATTN_CHUNK;
}

uint64_t op_attention_partials_bytes(const kernel_registry *k, const attn_shape *a, int n_ctx) {
    if (!attention_splits(a)) return 0;
    uint64_t keys = attention_chunk_keys(k), chunks = ((uint64_t)n_ctx + keys - 1) / keys;
    return (uint64_t)a->n_heads * chunks * ((uint64_t)a->head_dim / 4 + 1) * 16;
}

/* attention_prompt.wgsl's tile, as its Params name them, for its
 * ATTN_LANES (256) lanes: row quads as many as give each lane of the sum
 * 4 rows by one vec4 of the head (64 rows at head size 64, 32 at 128, 16
 * at 256, at most 16 quads), key quads as many as give each lane of the
 * scores 4 rows by 4 keys (64 keys at 64, 128 at 128; at most 32 quads,
 * 16 past 128 dims, where a tile's V rows take several stages already), so
 * that row_quads + key_quads <= 40 keeps a stage of Q and K at 24 dims or
 * more of the kernel's 16 KB region. The rows are the query heads sharing a
 * KV head (as many as divide the group and fit) by tokens: one staging of
 * the keys serves them all, and a short step (a one-token fallback) still
 * fills the rows. */
#define ATTN_LANES 256u
typedef struct { uint32_t row_quads, key_quads, heads, tokens; } attention_tile;

static attention_tile attention_tile_of(const attn_shape *a) {
    uint32_t dv = ((uint32_t)a->head_dim + 3) / 4, rq = ATTN_LANES / dv < 16 ? ATTN_LANES / dv : 16;
    uint32_t kq_max = a->head_dim <= 128 ? 32 : 16, kq = ATTN_LANES / rq < kq_max ? ATTN_LANES / rq : kq_max;
    uint32_t group = (uint32_t)(a->n_heads / a->n_kv_heads), heads = 1;
    for (uint32_t h = 1; h <= group && h <= 4 * rq; h++)
        if (group % h == 0) heads = h;
    return (attention_tile){rq, kq, heads, 4 * rq / heads};
}

/* Steps of several tokens (a prompt) have parallelism enough in their
 * tokens: attention_prompt.wgsl, a workgroup a tile of tokens by heads.
 * A one-token step has only its heads, so it splits the keys in chunks
 * (attention_split.wgsl, a workgroup per KV head, group of query heads and
 * chunk; the chunk count grows with the position) and merges them
 * (attention_merge.wgsl): one dispatch more, for parallelism that grows
 * with the cache. */
void op_attention(graph *g, const attn_shape *a, int n_ctx, float scale, int window, gpu_buffer *q,
                  gpu_buffer *k_cache, gpu_buffer *v_cache, gpu_buffer *partials, gpu_buffer *out) {
    int split = partials && attention_splits(a);
    attention_tile t = attention_tile_of(a);
    struct { uint32_t n_heads, n_kv_heads, head_dim, kv_dim, q_dim, cache_off, row_quads; float scale;
             uint32_t window, key_quads, heads, tokens; } pp = {
        (uint32_t)a->n_heads, (uint32_t)a->n_kv_heads, (uint32_t)a->head_dim, (uint32_t)(a->n_kv_heads * a->head_dim),
        (uint32_t)(a->n_heads * a->head_dim), 0, t.row_quads, scale, (uint32_t)(window > 0 ? window : 0), t.key_quads,
        t.heads, t.tokens};
    gpu_binding b[4] = {{q, 0, 0}, {k_cache, 0, 0}, {v_cache, 0, 0}, {out, 0, 0}};
    graph_dispatch_tiled(g, kernel(g, KERNEL_ATTENTION, 0, KV_PLAIN), &pp, sizeof pp, b, 4,
                         (grid_rule){0, 0, 0, 1, split ? WHEN_SEQ_TOKENS : WHEN_SEQ}, (uint32_t)a->n_heads / t.heads,
                         t.tokens, 0);
    /* A batch's decode step: each token sees its own sequence's keys, so a
     * tile is one token (by the heads of its KV group). */
    pp.tokens = 1;
    graph_dispatch_tiled(g, kernel(g, KERNEL_ATTENTION, 0, KV_PLAIN), &pp, sizeof pp, b, 4,
                         (grid_rule){0, 0, 0, 1, WHEN_MULTI}, (uint32_t)a->n_heads / t.heads, 1, 0);
    if (!split) return;
    /* Where reductions go by subgroups, a subgroup takes a chunk of its
     * own (attention_split_sg.wgsl): on the H200 the workgroup version's
     * barriers and serial steps were most of a short cache's attention. */
    int by_subgroup = kernels_attention_sg_keys(graph_kernels(g)) != 0;
    uint32_t chunk_keys = attention_chunk_keys(graph_kernels(g));
    uint32_t chunks = (uint32_t)((n_ctx + chunk_keys - 1) / chunk_keys);
    struct { uint32_t n_heads, n_kv_heads, head_dim, kv_dim, q_dim, cache_off, n_ctx; float scale;
             uint32_t window, chunks, chunk_keys, pad2; } p = {
        (uint32_t)a->n_heads, (uint32_t)a->n_kv_heads, (uint32_t)a->head_dim, (uint32_t)(a->n_kv_heads * a->head_dim),
        (uint32_t)(a->n_heads * a->head_dim), 0, (uint32_t)n_ctx, scale, (uint32_t)(window > 0 ? window : 0), chunks,
        chunk_keys, 0};
    uint32_t group = (uint32_t)(a->n_heads / a->n_kv_heads);
    uint32_t per_chunk = (uint32_t)a->n_kv_heads * ((group + KERNELS_ATTN_HEADS - 1) / KERNELS_ATTN_HEADS);
    gpu_binding bs[4] = {{q, 0, 0}, {k_cache, 0, 0}, {v_cache, 0, 0}, {partials, 0, 0}};
    /* either way a workgroup per KERNELS_ATTN_CHUNK keys (the subgroup version: a chunk a subgroup) */
    graph_dispatch_chunked(g, kernel(g, by_subgroup ? KERNEL_ATTENTION_SPLIT_SG : KERNEL_ATTENTION_SPLIT, 0, KV_PLAIN),
                           &p, sizeof p, bs, 4, (grid_rule){0, 0, 0, 1, WHEN_ONE_TOKEN}, per_chunk, KERNELS_ATTN_CHUNK);
    gpu_binding bm[2] = {{partials, 0, 0}, {out, 0, 0}};
    graph_dispatch(g, kernel(g, KERNEL_ATTENTION_MERGE, 0, KV_PLAIN), &p, sizeof p, bm, 2,
                   (grid_rule){(uint32_t)a->n_heads, 0, 0, 1, WHEN_ONE_TOKEN});
}

static void swiglu(graph *g, gpu_buffer *gate, gpu_buffer *up, int width, step_when when) {
    struct { uint32_t width, pad0, pad1, pad2; } p = {(uint32_t)width, 0, 0, 0};
    gpu_binding b[2] = {{gate, 0, 0}, {up, 0, 0}};
    graph_dispatch(g, kernel(g, KERNEL_SWIGLU, 0, KV_PLAIN), &p, sizeof p, b, 2,
                   (grid_rule){0, (uint32_t)((width + 63) / 64), 0, 1, when});
}

void op_swiglu(graph *g, gpu_buffer *gate, gpu_buffer *up, int width) { swiglu(g, gate, up, width, WHEN_ALWAYS); }
void op_swiglu_many(graph *g, gpu_buffer *gate, gpu_buffer *up, int width) { swiglu(g, gate, up, width, WHEN_TOKENS); }

static void gelu(graph *g, gpu_buffer *x, gpu_buffer *up, int width, int gated, step_when when) {
    struct { uint32_t width, gated, pad0, pad1; } p = {(uint32_t)width, (uint32_t)(gated != 0), 0, 0};
    gpu_binding b[2] = {{x, 0, 0}, {up, 0, 0}};
    graph_dispatch(g, kernel(g, KERNEL_GELU, 0, KV_PLAIN), &p, sizeof p, b, 2,
                   (grid_rule){0, (uint32_t)((width + 63) / 64), 0, 1, when});
}

void op_gelu(graph *g, gpu_buffer *x, gpu_buffer *up, int width, int gated) { gelu(g, x, up, width, gated, WHEN_ALWAYS); }
void op_gelu_many(graph *g, gpu_buffer *x, gpu_buffer *up, int width, int gated) {
    gelu(g, x, up, width, gated, WHEN_TOKENS);
}

void op_softcap(graph *g, gpu_buffer *logits, int width, float cap) {
    struct { uint32_t width; float cap; uint32_t pad0, pad1; } p = {(uint32_t)width, cap, 0, 0};
    gpu_binding b[1] = {{logits, 0, 0}};
    graph_dispatch(g, kernel(g, KERNEL_SOFTCAP, 0, KV_PLAIN), &p, sizeof p, b, 1,
                   (grid_rule){0, 0, (uint32_t)((width + 63) / 64), 1, WHEN_ALWAYS});
}
