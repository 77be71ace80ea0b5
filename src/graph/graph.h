/* Recording and replay. A model's forward pass is written once in terms of
 * the ops in ops.h; it runs when a context is created, which makes every
 * bind group and uniform then and records the dispatches in order. Each
 * step replays the record into one command buffer with workgroup counts for
 * that step's token count, so nothing is created on the hot path. The graph
 * knows nothing of models or weight formats: it holds dispatches, named
 * activations to copy out (verify), and the step uniform. */
#ifndef WGPT_GRAPH_GRAPH_H
#define WGPT_GRAPH_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "gpu/gpu.h"
#include "graph/kernels.h"

typedef struct graph graph;

/* Per-forward values, written into the step uniform before each replay
 * (common.wgsl's Step): one sequence's tokens from pos0, its cache rows
 * from row0 + pos0; or with multi, one token of each of several sequences
 * (a batch's decode step), token t at position tok[2t] and cache row
 * tok[2t + 1]. */
#define STEP_MULTI_MAX 256
typedef struct {
    uint32_t pos0, n_tokens, out_first, n_out, row0, multi, pad0, pad1;
    uint32_t tok[2 * STEP_MULTI_MAX];
} step_params;
/* The step uniform's size, and the bytes of p a replay writes into it (the
 * table only for a multi step). */
#define STEP_UNIFORM_BYTES ((uint64_t)sizeof(step_params))
uint64_t step_params_bytes(const step_params *p);

/* Which rows of a [rows][width] buffer hold this step's values: rows
 * 0..n_tokens-1, only the rows whose logits are wanted (0..n_out-1), or the
 * rows of this step's positions, pos0..pos0+n_tokens-1 (the KV cache). */
typedef enum { ROWS_STEP, ROWS_OUT, ROWS_POS } row_span;

/* Which steps a dispatch or capture belongs to: all, or by the step's token
 * count (or n_out) being one or more than one. A decode step (one token, one
 * row of logits) takes kernels of its own, recorded beside the batched ones
 * they replace. SEQ: steps of one sequence (any count; SEQ_TOKENS, SEQ_OUTS:
 * more than one token, row of logits), MULTI: a batch's decode steps, of
 * any count, which run the TOKENS and OUTS kernels (never the one-token
 * ones, so that a token's arithmetic is the same whatever else shares its
 * step) and products of their own (op_matmul). */
typedef enum { WHEN_ALWAYS = 0, WHEN_ONE_TOKEN, WHEN_TOKENS, WHEN_ONE_OUT, WHEN_OUTS, WHEN_SEQ, WHEN_SEQ_TOKENS,
               WHEN_SEQ_OUTS, WHEN_MULTI } step_when;

/* How many workgroups a dispatch needs: units = fixed + per_token*n_tokens +
 * per_out*n_out, packed per_wg units to a workgroup (0 counts as 1); when:
 * the steps it runs in. */
typedef struct { uint32_t fixed, per_token, per_out, per_wg; step_when when; } grid_rule;

graph *graph_create(gpu_device *d, kernel_registry *k, gpu_buffer *step_uniform);
void graph_free(graph *g);
kernel_registry *graph_kernels(graph *g);
gpu_device *graph_device(graph *g);
/* The first error while recording, or NULL. */
const char *graph_error(const graph *g);
/* Records an error (the first one wins): recording goes on, and does nothing. */
void graph_fail(graph *g, const char *msg);

/* A dispatch: params (at most 64 bytes, matching the kernel's Params
 * struct) become a uniform bound at binding 0, then bufs at 1..n, then the
 * step uniform. kernel NULL (it did not compile) records nothing: the
 * caller has said why with graph_fail. */
void graph_dispatch(graph *g, gpu_kernel *k, const void *params, size_t params_size, gpu_binding *bufs, int n,
                    grid_rule rule);
/* graph_dispatch with units for the keys in the cache, which grow with the
 * position: per_chunk units more for each chunk of `chunk` positions up to
 * the step's last, ceil((pos0 + n_tokens) / chunk). */
void graph_dispatch_chunked(graph *g, gpu_kernel *k, const void *params, size_t params_size, gpu_binding *bufs, int n,
                            grid_rule rule, uint32_t per_chunk, uint32_t chunk);
/* graph_dispatch with units for tiles of the step's tokens (of_outs: of
 * its n_out rows): per_tile units more for each tile of `tile` of them,
 * ceil(count / tile). */
void graph_dispatch_tiled(graph *g, gpu_kernel *k, const void *params, size_t params_size, gpu_binding *bufs, int n,
                          grid_rule rule, uint32_t per_tile, uint32_t tile, int of_outs);
/* Scratch the ops may use between their own dispatches (op_matmul's
 * split products keep their partial sums there), bytes long, and the most
 * rows of activations a step has (its tokens, or its n_out rows), by which
 * they size their use of it. Without it (NULL) they do without. */
void graph_set_scratch(graph *g, gpu_buffer *buf, uint64_t bytes, uint32_t max_rows);
gpu_buffer *graph_scratch(const graph *g, uint64_t *bytes, uint32_t *max_rows);
/* Multi steps of up to max_tokens the graph will replay (a batch's
 * sequences; 0, the default: none, and the ops record nothing for them). */
void graph_set_multi(graph *g, uint32_t max_tokens);
uint32_t graph_multi(const graph *g);
/* A named activation to copy out when capturing (verify): rows of width
 * floats of buf. */
void graph_capture(graph *g, const char *name, int layer, gpu_buffer *buf, int width, row_span rows);
/* The same, only in the steps `when` names (an activation a decode step's
 * fused kernels never write). */
void graph_capture_when(graph *g, const char *name, int layer, gpu_buffer *buf, int width, row_span rows,
                        step_when when);

/* Replays the graph for one forward pass into the open command buffer.
 * With capture on, activations are copied into a capture buffer. */
int graph_replay(graph *g, const step_params *s, int capture);
/* The kernels the last replay dispatched, in order (for profiling). */
gpu_kernel *const *graph_last_dispatches(const graph *g, int *n);

/* After a capture replay has been submitted and finished: read the capture
 * buffer and hand each activation to fn (rows of width floats). */
typedef void (*graph_capture_fn)(void *user, const char *name, int layer, const float *data, int n_tokens, int width);
int graph_capture_collect(graph *g, graph_capture_fn fn, void *user, char *err, size_t errlen);

#endif
