/* Sampling on the GPU: the rules of the CPU sampler (sampler.h) applied to
 * the row of logits a forward pass left on the GPU, so that a step reads
 * back only the token id (and whether the row was finite). The token is
 * also written where the next step's embedding reads its input, so steps
 * can be queued ahead of their results.
 *
 * What runs here: greedy, and top-k from 1 to GPU_SAMPLER_K_MAX with top-p,
 * min-p, temperature and the repetition penalty over a window of up to
 * GPU_SAMPLER_WINDOW_MAX tokens. Anything else (top-k off with top-p on,
 * say) needs the whole sorted vocabulary, and stays on the CPU.
 *
 * Each step in flight uses one of GPU_SAMPLER_SLOTS slots: its result's
 * read-back buffer and a copy of its logits (kept for wgpt_logits, since a
 * step queued ahead overwrites the forward pass's own). */
#ifndef WGPT_SAMPLING_GPU_SAMPLER_H
#define WGPT_SAMPLING_GPU_SAMPLER_H

#include "gpu/gpu.h"
#include "graph/kernels.h"
#include "sampling/sampler.h"

#define GPU_SAMPLER_K_MAX 64        /* sample_common.wgsl's K_MAX */
#define GPU_SAMPLER_WINDOW_MAX 256
/* The last collected step, the one in flight, and the steps queued ahead
 * (internal.h's CONTEXT_AHEAD): two suffice natively; in a browser a
 * read-back's round trip through its GPU process is longer, and six ahead
 * took Chromium on the H200 from 247 to 314 tok/s (Q4_0, 2026-11-30). */
#ifdef __wasm__
#define GPU_SAMPLER_SLOTS 8
#else
#define GPU_SAMPLER_SLOTS 4
#endif

typedef struct gpu_sampler gpu_sampler;

/* Whether p runs on the GPU for a vocabulary of n_vocab (see above). */
int gpu_sampler_supports(const wgpt_sampler_params *p, int n_vocab);

/* logits: the forward pass's output, row 0 read; ids: the forward pass's
 * input ids, whose first entry gets the token. NULL with the reason in err
 * when a kernel does not compile or a buffer cannot be made. */
gpu_sampler *gpu_sampler_create(gpu_device *d, kernel_registry *k, gpu_buffer *logits, gpu_buffer *ids, int n_vocab,
                                char *err, size_t errlen);
void gpu_sampler_free(gpu_sampler *g);

/* One step's sampling. r: the CPU sampler's uniform draw (ignored when
 * greedy); window/n_window: the penalty window, oldest first (sampler_window:
 * empty when the penalty is off). */
typedef struct {
    const wgpt_sampler_params *p;
    int n_allowed;
    const int32_t *window;
    int n_window;
    double r;
} gpu_sample_step;

/* Writes the step's parameters and records the two dispatches, the copy of
 * the result into slot's read-back buffer and of the logits into slot's
 * keep buffer, into the open command buffer (before its submit). */
void gpu_sampler_encode(gpu_sampler *g, const gpu_sample_step *s, int slot);
/* The kernels gpu_sampler_encode dispatches, in order (profiling labels). */
int gpu_sampler_kernels(const gpu_sampler *g, gpu_kernel *out[2]);

/* After the submit: start reading slot's result; then poll it (1: *token
 * and *not_finite set, 0: pending with wait 0, -1: error in err). Every
 * begun read ends with gpu_sampler_read_end, read or not. */
int gpu_sampler_read_begin(gpu_sampler *g, int slot, char *err, size_t errlen);
int gpu_sampler_read_poll(gpu_sampler *g, int slot, int wait, int32_t *token, int *not_finite, char *err,
                          size_t errlen);
void gpu_sampler_read_end(gpu_sampler *g, int slot);

/* Copies slot's kept logits into out[n_vocab] (blocks until the GPU has
 * done everything submitted so far). */
int gpu_sampler_fetch_logits(gpu_sampler *g, int slot, float *out, char *err, size_t errlen);

#endif
