/* The ops: each fills its kernel's Params struct (the WGSL declares the
 * same fields in the same order) and records the dispatch. */
#include "graph/ops.h"


/* The kernel, or NULL with the reason recorded in the graph. */
static gpu_kernel *kernel(graph *g, kernel_id id, int slot, int variant) {
    char err[512];
    gpu_kernel *k = kernels_get(graph_kernels(g), id, slot, variant, err, sizeof err);
    if (!k) graph_fail(g, err);
    return k;
}

static uint32_t slots(graph *g) { return graph_kernels(g)->group_slots; }

static int chunk_rows(const gpu_matrix *w, int c) {
    int left = w->rows - c * w->chunk_rows;
    return left < w->chunk_rows ? left : w->chunk_rows;
}

void op_matmul(graph *g, const gpu_matrix *w, gpu_buffer *x, gpu_buffer *y, const matmul_opts *o) {
    struct { uint32_t rows, cols, row_offset, out_stride, in_stride, accumulate, rows_mode, pad; } p = {
        0, (uint32_t)w->cols, 0, (uint32_t)(o->out_stride ? o->out_stride : w->rows), (uint32_t)w->cols,
        (uint32_t)o->accumulate, (uint32_t)o->rows, 0};
    gpu_kernel *k = kernel(g, KERNEL_MATMUL, w->gpu_slot, o->bias ? KV_BIAS : KV_PLAIN);
    for (int c = 0; c < w->n_chunks; c++) {
        p.rows = (uint32_t)chunk_rows(w, c);
        p.row_offset = (uint32_t)(c * w->chunk_rows);
        gpu_binding b[4] = {{w->chunk[c], 0, 0}, {x, 0, 0}, {y, 0, 0}, {o->bias, 0, 0}};
        graph_dispatch(g, k, &p, sizeof p, b, o->bias ? 4 : 3, (grid_rule){p.rows, 0, 0, slots(g)});
    }
}

void op_embed(graph *g, const gpu_matrix *w, gpu_buffer *ids, gpu_buffer *x) {
    struct { uint32_t rows, cols, row_offset, pad; } p = {0, (uint32_t)w->cols, 0, 0};
    gpu_kernel *k = kernel(g, KERNEL_EMBED, w->gpu_slot, KV_PLAIN);
    for (int c = 0; c < w->n_chunks; c++) {
        p.rows = (uint32_t)chunk_rows(w, c);
        p.row_offset = (uint32_t)(c * w->chunk_rows);
        gpu_binding b[3] = {{w->chunk[c], 0, 0}, {ids, 0, 0}, {x, 0, 0}};
        graph_dispatch(g, k, &p, sizeof p, b, 3, (grid_rule){0, 1, 0, 1});
    }
}

void op_rmsnorm(graph *g, gpu_buffer *x, gpu_buffer *w, gpu_buffer *y, int dim, float eps, int from_out) {
    struct { uint32_t dim; float eps; uint32_t from_out, pad; } p = {(uint32_t)dim, eps, (uint32_t)from_out, 0};
    gpu_binding b[3] = {{x, 0, 0}, {w, 0, 0}, {y, 0, 0}};
    graph_dispatch(g, kernel(g, KERNEL_RMSNORM, 0, KV_PLAIN), &p, sizeof p, b, 3,
                   from_out ? (grid_rule){0, 0, 1, slots(g)} : (grid_rule){0, 1, 0, slots(g)});
}

void op_head_rmsnorm(graph *g, const attn_shape *a, gpu_buffer *q, gpu_buffer *k_cache, gpu_buffer *wq,
                     gpu_buffer *wk, float eps) {
    struct { uint32_t n_heads, n_kv_heads, head_dim, q_dim, kv_dim; float eps; uint32_t pad0, pad1; } p = {
        (uint32_t)a->n_heads, (uint32_t)a->n_kv_heads, (uint32_t)a->head_dim, (uint32_t)(a->n_heads * a->head_dim),
        (uint32_t)(a->n_kv_heads * a->head_dim), eps, 0, 0};
    gpu_binding b[4] = {{q, 0, 0}, {k_cache, 0, 0}, {wq, 0, 0}, {wk, 0, 0}};
    graph_dispatch(g, kernel(g, KERNEL_HEAD_RMSNORM, 0, KV_PLAIN), &p, sizeof p, b, 4,
                   (grid_rule){0, (uint32_t)(a->n_heads + a->n_kv_heads), 0, slots(g)});
}

void op_rope(graph *g, const attn_shape *a, int rope_pairs, int neox, gpu_buffer *q, gpu_buffer *k_cache,
             gpu_buffer *cs) {
    struct { uint32_t n_heads, n_kv_heads, head_dim, rope_pairs, neox, kv_dim, q_dim, pad; } p = {
        (uint32_t)a->n_heads, (uint32_t)a->n_kv_heads, (uint32_t)a->head_dim, (uint32_t)rope_pairs,
        (uint32_t)(neox != 0), (uint32_t)(a->n_kv_heads * a->head_dim), (uint32_t)(a->n_heads * a->head_dim), 0};
    gpu_binding b[3] = {{q, 0, 0}, {k_cache, 0, 0}, {cs, 0, 0}};
    graph_dispatch(g, kernel(g, KERNEL_ROPE, 0, KV_PLAIN), &p, sizeof p, b, 3,
                   (grid_rule){0, (uint32_t)(a->n_heads + a->n_kv_heads), 0, 1});
}

void op_attention(graph *g, const attn_shape *a, int n_ctx, float scale, gpu_buffer *q, gpu_buffer *k_cache,
                  gpu_buffer *v_cache, gpu_buffer *scores, gpu_buffer *out) {
    struct { uint32_t n_heads, n_kv_heads, head_dim, kv_dim, q_dim, cache_off, n_ctx; float scale; } p = {
        (uint32_t)a->n_heads, (uint32_t)a->n_kv_heads, (uint32_t)a->head_dim, (uint32_t)(a->n_kv_heads * a->head_dim),
        (uint32_t)(a->n_heads * a->head_dim), 0, (uint32_t)n_ctx, scale};
    gpu_binding b[5] = {{q, 0, 0}, {k_cache, 0, 0}, {v_cache, 0, 0}, {scores, 0, 0}, {out, 0, 0}};
    graph_dispatch(g, kernel(g, KERNEL_ATTENTION, 0, KV_PLAIN), &p, sizeof p, b, 5,
                   (grid_rule){0, (uint32_t)a->n_heads, 0, slots(g)});
}

void op_swiglu(graph *g, gpu_buffer *gate, gpu_buffer *up, int width) {
    struct { uint32_t width, pad0, pad1, pad2; } p = {(uint32_t)width, 0, 0, 0};
    gpu_binding b[2] = {{gate, 0, 0}, {up, 0, 0}};
    graph_dispatch(g, kernel(g, KERNEL_SWIGLU, 0, KV_PLAIN), &p, sizeof p, b, 2,
                   (grid_rule){0, (uint32_t)((width + 63) / 64), 0, 1});
}
