/* Recording and replay: see graph.h. */
#include "graph/graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

typedef struct {
    int is_capture;
    gpu_kernel *kernel;
    gpu_bindings *bindings;
    grid_rule rule;
    uint32_t per_chunk, chunk; /* graph_dispatch_chunked's term (chunk 0: none) */
    uint32_t per_tile, tile;   /* graph_dispatch_tiled's term (tile 0: none) */
    int tile_outs;             /* its count: n_out rather than n_tokens */
    int pend;                /* index into pend until bound */
    /* capture */
    char name[24];
    int layer, width;
    row_span rows;
    gpu_buffer *src;
    step_when when;
} graph_op;

/* Until the params uniform exists, an op's buffers wait here. */
typedef struct { gpu_binding b[12]; int n; int slot; uint32_t params_size; } pending_bind;

#define PARAM_SLOT 256 /* >= minUniformBufferOffsetAlignment on every adapter we know */
#define PARAM_MAX 64

struct graph {
    gpu_device *dev;
    kernel_registry *k;
    gpu_buffer *step;
    graph_op *ops;
    int n_ops, cap_ops;
    uint8_t *params;         /* host copy of every op's uniform, one slot each */
    int n_params, cap_params;
    gpu_buffer *param_buf;   /* created on first replay, from params */
    char error[512];
    pending_bind *pend;
    int n_pend, cap_pend;
    gpu_kernel **dispatched;  /* kernels of the last replay, in order */
    int n_dispatched;
    /* capture state */
    gpu_buffer *cap_buf;
    uint64_t cap_size;
    step_params cap_step;
    gpu_buffer *scratch;      /* graph_set_scratch's, not owned */
    uint64_t scratch_bytes;
    uint32_t scratch_rows;
    uint32_t multi_rows;      /* graph_set_multi's */
};

graph *graph_create(gpu_device *d, kernel_registry *k, gpu_buffer *step_uniform) {
    graph *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->dev = d;
    g->k = k;
    g->step = step_uniform;
    return g;
}

void graph_free(graph *g) {
    if (!g) return;
    for (int i = 0; i < g->n_ops; i++) gpu_bindings_free(g->ops[i].bindings);
    free(g->ops);
    free(g->params);
    free(g->pend);
    free(g->dispatched);
    gpu_buffer_free(g->param_buf);
    gpu_buffer_free(g->cap_buf);
    free(g);
}

kernel_registry *graph_kernels(graph *g) { return g->k; }
gpu_device *graph_device(graph *g) { return g->dev; }
const char *graph_error(const graph *g) { return g->error[0] ? g->error : NULL; }

void graph_set_scratch(graph *g, gpu_buffer *buf, uint64_t bytes, uint32_t max_rows) {
    g->scratch = buf;
    g->scratch_bytes = buf ? bytes : 0;
    g->scratch_rows = buf ? max_rows : 0;
}

void graph_set_multi(graph *g, uint32_t max_tokens) { g->multi_rows = max_tokens; }
uint32_t graph_multi(const graph *g) { return g->multi_rows; }

gpu_buffer *graph_scratch(const graph *g, uint64_t *bytes, uint32_t *max_rows) {
    *bytes = g->scratch_bytes;
    *max_rows = g->scratch_rows;
    return g->scratch;
}

void graph_fail(graph *g, const char *msg) {
    if (!g->error[0]) snprintf(g->error, sizeof g->error, "%s", msg);
}

/* Room for one more of n items of size elem in *p (capacity *cap), doubling. */
static int grow(void *p, int *cap, int n, size_t elem) {
    if (n < *cap) return 0;
    int c = *cap ? *cap * 2 : 64;
    void *q = realloc(*(void **)p, (size_t)c * elem);
    if (!q) return -1;
    *(void **)p = q;
    *cap = c;
    return 0;
}

static graph_op *new_op(graph *g) {
    if (grow(&g->ops, &g->cap_ops, g->n_ops, sizeof *g->ops) != 0) { graph_fail(g, "out of memory"); return NULL; }
    graph_op *op = &g->ops[g->n_ops++];
    memset(op, 0, sizeof *op);
    return op;
}

/* Params live in one uniform buffer, created once all ops are known; until
 * then bindings cannot be made, so ops keep their binding lists aside. */
void graph_dispatch(graph *g, gpu_kernel *k, const void *params, size_t params_size, gpu_binding *bufs, int n,
                    grid_rule rule) {
    graph_dispatch_chunked(g, k, params, params_size, bufs, n, rule, 0, 0);
}

static graph_op *record(graph *g, gpu_kernel *k, const void *params, size_t params_size, gpu_binding *bufs, int n,
                        grid_rule rule) {
    if (g->error[0]) return NULL;
    if (!k) { graph_fail(g, "dispatch of a kernel that does not exist"); return NULL; }
    if (n > 10 || params_size > PARAM_MAX) { graph_fail(g, "op with too many bindings or parameters"); return NULL; }
    if (grow(&g->params, &g->cap_params, g->n_params, PARAM_SLOT) != 0 ||
        grow(&g->pend, &g->cap_pend, g->n_pend, sizeof *g->pend) != 0) {
        graph_fail(g, "out of memory");
        return NULL;
    }
    graph_op *op = new_op(g);
    if (!op) return NULL;
    int slot = g->n_params++;
    memset(g->params + (size_t)slot * PARAM_SLOT, 0, PARAM_SLOT);
    memcpy(g->params + (size_t)slot * PARAM_SLOT, params, params_size);
    op->kernel = k;
    op->rule = rule;
    pending_bind *pb = &g->pend[g->n_pend];
    pb->n = n;
    pb->slot = slot;
    pb->params_size = (uint32_t)((params_size + 15) & ~(size_t)15); /* uniform structs are 16-byte aligned */
    memcpy(pb->b, bufs, (size_t)n * sizeof *bufs);
    op->pend = g->n_pend++;
    return op;
}

void graph_dispatch_chunked(graph *g, gpu_kernel *k, const void *params, size_t params_size, gpu_binding *bufs, int n,
                            grid_rule rule, uint32_t per_chunk, uint32_t chunk) {
    graph_op *op = record(g, k, params, params_size, bufs, n, rule);
    if (!op) return;
    op->per_chunk = per_chunk;
    op->chunk = chunk;
}

void graph_dispatch_tiled(graph *g, gpu_kernel *k, const void *params, size_t params_size, gpu_binding *bufs, int n,
                          grid_rule rule, uint32_t per_tile, uint32_t tile, int of_outs) {
    graph_op *op = record(g, k, params, params_size, bufs, n, rule);
    if (!op) return;
    op->per_tile = per_tile;
    op->tile = tile;
    op->tile_outs = of_outs;
}

void graph_capture(graph *g, const char *name, int layer, gpu_buffer *buf, int width, row_span rows) {
    graph_capture_when(g, name, layer, buf, width, rows, WHEN_ALWAYS);
}

void graph_capture_when(graph *g, const char *name, int layer, gpu_buffer *buf, int width, row_span rows,
                        step_when when) {
    if (g->error[0]) return;
    graph_op *op = new_op(g);
    if (!op) return;
    op->is_capture = 1;
    snprintf(op->name, sizeof op->name, "%s", name);
    op->layer = layer;
    op->width = width;
    op->rows = rows;
    op->src = buf;
    op->when = when;
}

/* Creates the params uniform and every bind group. */
static int graph_bind(graph *g) {
    if (g->param_buf) return 0;
    g->param_buf = gpu_buffer_create(g->dev, (uint64_t)(g->n_params ? g->n_params : 1) * PARAM_SLOT, GPU_UNIFORM, "params");
    if (!g->param_buf) { graph_fail(g, "cannot allocate the params buffer"); return -1; }
    gpu_buffer_write(g->dev, g->param_buf, 0, g->params, (size_t)g->n_params * PARAM_SLOT);
    for (int i = 0; i < g->n_ops; i++) {
        graph_op *op = &g->ops[i];
        if (op->is_capture) continue;
        pending_bind *pb = &g->pend[op->pend];
        gpu_binding all[12];
        all[0] = (gpu_binding){g->param_buf, (uint64_t)pb->slot * PARAM_SLOT, pb->params_size};
        memcpy(all + 1, pb->b, (size_t)pb->n * sizeof *all);
        all[pb->n + 1] = (gpu_binding){g->step, 0, STEP_UNIFORM_BYTES};
        char err[400];
        op->bindings = gpu_bindings_create(g->dev, op->kernel, all, pb->n + 2, err, sizeof err);
        if (!op->bindings) { graph_fail(g, err); return -1; }
    }
    free(g->pend);
    g->pend = NULL;
    g->n_pend = g->cap_pend = 0;
    return 0;
}

static int runs_in(step_when w, const step_params *s) {
    switch (w) {
    case WHEN_ONE_TOKEN: return s->n_tokens == 1 && !s->multi;
    case WHEN_TOKENS: return s->n_tokens > 1 || s->multi;
    case WHEN_ONE_OUT: return s->n_out == 1 && !s->multi;
    case WHEN_OUTS: return s->n_out > 1 || s->multi;
    case WHEN_SEQ: return !s->multi;
    case WHEN_SEQ_TOKENS: return !s->multi && s->n_tokens > 1;
    case WHEN_SEQ_OUTS: return !s->multi && s->n_out > 1;
    case WHEN_MULTI: return s->multi != 0;
    default: return 1;
    }
}

static uint64_t capture_rows(const graph_op *op, const step_params *s) {
    return op->rows == ROWS_OUT ? s->n_out : s->n_tokens;
}

uint64_t step_params_bytes(const step_params *p) {
    return offsetof(step_params, tok) + (p->multi ? (uint64_t)p->n_tokens * 2 * sizeof(uint32_t) : 0);
}

int graph_replay(graph *g, const step_params *s, int capture) {
    if (g->error[0] || graph_bind(g) != 0) return -1;
    if (s->multi && (capture || s->n_tokens > STEP_MULTI_MAX)) {
        graph_fail(g, s->n_tokens > STEP_MULTI_MAX ? "a multi step of more tokens than its table holds"
                                                   : "captures are of one sequence's steps");
        return -1;
    }
    uint64_t cap_off = 0;
    if (capture) {
        uint64_t need = 0;
        for (int i = 0; i < g->n_ops; i++)
            if (g->ops[i].is_capture && runs_in(g->ops[i].when, s))
                need += (uint64_t)g->ops[i].width * capture_rows(&g->ops[i], s) * 4;
        if (!g->cap_buf || g->cap_size < need) {
            gpu_buffer_free(g->cap_buf);
            g->cap_buf = gpu_buffer_create(g->dev, need, GPU_READBACK, "capture");
            g->cap_size = need;
            if (!g->cap_buf) { graph_fail(g, "cannot allocate the capture buffer"); return -1; }
        }
        g->cap_step = *s;
    }
    if (!g->dispatched && !(g->dispatched = malloc((size_t)(g->n_ops ? g->n_ops : 1) * sizeof *g->dispatched))) {
        graph_fail(g, "out of memory");
        return -1;
    }
    g->n_dispatched = 0;
    gpu_begin(g->dev);
    for (int i = 0; i < g->n_ops; i++) {
        graph_op *op = &g->ops[i];
        if (op->is_capture ? !runs_in(op->when, s) : !runs_in(op->rule.when, s)) continue;
        if (op->is_capture) {
            if (!capture) continue;
            uint64_t bytes = (uint64_t)op->width * capture_rows(op, s) * 4;
            uint64_t from = op->rows == ROWS_POS ? (uint64_t)op->width * (s->row0 + s->pos0) * 4 : 0;
            gpu_copy(g->dev, op->src, from, g->cap_buf, cap_off, bytes);
            cap_off += bytes;
            continue;
        }
        uint32_t units = op->rule.fixed + op->rule.per_token * s->n_tokens + op->rule.per_out * s->n_out;
        if (op->chunk) units += op->per_chunk * ((s->pos0 + s->n_tokens + op->chunk - 1) / op->chunk);
        if (op->tile) units += op->per_tile * (((op->tile_outs ? s->n_out : s->n_tokens) + op->tile - 1) / op->tile);
        uint32_t per = op->rule.per_wg ? op->rule.per_wg : 1;
        if (!units) continue;
        gpu_dispatch_1d(g->dev, op->kernel, op->bindings, (units + per - 1) / per);
        g->dispatched[g->n_dispatched++] = op->kernel;
    }
    return 0;
}

gpu_kernel *const *graph_last_dispatches(const graph *g, int *n) {
    *n = g->n_dispatched;
    return g->dispatched;
}

int graph_capture_collect(graph *g, graph_capture_fn fn, void *user, char *err, size_t errlen) {
    if (!g->cap_buf) { set_err(err, errlen, "nothing captured"); return -1; }
    const void *data;
    if (gpu_read_begin(g->dev, g->cap_buf, err, errlen) != 0) return -1;
    if (gpu_read_poll(g->dev, g->cap_buf, 1, &data, err, errlen) != 1) return -1;
    const float *f = data;
    uint64_t off = 0;
    for (int i = 0; i < g->n_ops; i++) {
        graph_op *op = &g->ops[i];
        if (!op->is_capture || !runs_in(op->when, &g->cap_step)) continue;
        int rows = (int)capture_rows(op, &g->cap_step);
        fn(user, op->name, op->layer, f + off, rows, op->width);
        off += (uint64_t)op->width * rows;
    }
    gpu_read_end(g->dev, g->cap_buf);
    return 0;
}
