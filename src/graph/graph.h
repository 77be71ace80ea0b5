/* How a model's forward pass reaches the GPU. A model family writes one
 * readable forward() in terms of the ops below; it runs once when a context
 * is created, which makes every bind group and uniform then and records the
 * ops in order. Each step replays the record into one command buffer with
 * workgroup counts for that step's token count, so nothing is created on the
 * hot path. The WGSL kernels the ops dispatch live in kernels/. */
#ifndef WGPT_GRAPH_GRAPH_H
#define WGPT_GRAPH_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "formats/gguf.h"
#include "gpu/gpu.h"

#define GRAPH_MAX_CHUNKS 64

/* A 2-D weight on the GPU, still quantized, in row chunks that each fit
 * one storage binding. Formats are repacked to whole words (see wfmt_*.wgsl). */
typedef struct {
    uint32_t type;           /* ggml type */
    int rows, cols;
    uint32_t row_words;
    int n_chunks, chunk_rows;
    gpu_buffer *chunk[GRAPH_MAX_CHUNKS];
} gpu_matrix;

/* Kernels compiled once per model (shared by its contexts). Index by the
 * weight-format slot: 0 f32, 1 f16, 2 q8_0, 3 q4_0. */
enum { WFMT_F32, WFMT_F16, WFMT_Q8_0, WFMT_Q4_0, WFMT_COUNT };
typedef struct {
    gpu_kernel *matmul[WFMT_COUNT], *embed[WFMT_COUNT];
    gpu_kernel *rmsnorm, *rope, *attention, *swiglu;
    /* Kernels that reduce run one group of lanes per output unit: a whole
     * workgroup, or, where the adapter's subgroup size is fixed, one
     * subgroup, with group_slots groups per workgroup. */
    uint32_t group_slots, group_lanes;
} kernel_set;

int wfmt_of(uint32_t ggml_type);   /* -1 if the engine cannot run this type */
int kernel_set_build(gpu_device *d, kernel_set *k, char *err, size_t errlen);
void kernel_set_free(kernel_set *k);

/* Uploads a GGUF tensor as a weight matrix; bytes_done advances for progress. */
int gpu_matrix_upload(gpu_device *d, const gguf_tensor *t, gpu_matrix *m, char *err, size_t errlen);
void gpu_matrix_free(gpu_matrix *m);
/* Uploads a 1-D tensor (norm weights, factors) as f32. */
gpu_buffer *gpu_vector_upload(gpu_device *d, const gguf_tensor *t, char *err, size_t errlen);

typedef struct graph graph;

/* How many workgroups an op needs: units = fixed + per_token*n_tokens +
 * per_out*n_out, packed per_wg units to a workgroup (0 counts as 1). */
typedef struct { uint32_t fixed, per_token, per_out, per_wg; } grid_rule;

graph *graph_create(gpu_device *d, const kernel_set *k, gpu_buffer *step_uniform);
void graph_free(graph *g);
/* The first error while recording, or NULL. */
const char *graph_error(const graph *g);

/* A dispatch: params (<= 32 bytes) become a uniform bound at binding 0,
 * then bufs at 1..n, then the step uniform. */
void graph_dispatch(graph *g, gpu_kernel *k, const void *params, size_t params_size, gpu_binding *bufs, int n,
                    grid_rule rule);
/* A named activation to copy out when capturing (verify). */
void graph_capture(graph *g, const char *name, int layer, gpu_buffer *buf, int width, int use_n_out);

/* The ops a forward() is written in. */
void op_matmul(graph *g, const gpu_matrix *w, gpu_buffer *x, gpu_buffer *y, int out_stride, int accumulate,
               int use_n_out);
void op_embed(graph *g, const gpu_matrix *w, gpu_buffer *ids, gpu_buffer *x);
void op_rmsnorm(graph *g, gpu_buffer *x, gpu_buffer *w, gpu_buffer *y, int dim, float eps, int from_out);
void op_swiglu(graph *g, gpu_buffer *gate, gpu_buffer *up, int width);

/* Replays the graph for one forward pass into the open command buffer.
 * With capture on, activations are copied into a capture buffer. */
typedef struct { uint32_t pos0, n_tokens, out_first, n_out; } step_params;
int graph_replay(graph *g, const step_params *s, int capture);
/* The kernels the last replay dispatched, in order (for profiling). */
gpu_kernel *const *graph_last_dispatches(const graph *g, int *n);

/* After a capture replay has been submitted and finished: read the capture
 * buffer and hand each activation to fn. */
typedef void (*graph_capture_fn)(void *user, const char *name, int layer, const float *data, int n_tokens, int width);
int graph_capture_collect(graph *g, graph_capture_fn fn, void *user, char *err, size_t errlen);

#endif
