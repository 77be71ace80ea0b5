/* A decoder on the GPU: weights (immutable, shared) and the per-context
 * state (activations, KV cache, the recorded forward graph). */
#ifndef WGPT_MODELS_DECODER_GPU_H
#define WGPT_MODELS_DECODER_GPU_H

#include "graph/gpu_weights.h"
#include "graph/graph.h"
#include "models/decoder.h"

typedef struct decoder_weights decoder_weights;
typedef struct decoder_state decoder_state;

/* Weights arrive one tensor at a time (from a mapped file, or fetched
 * piece by piece in the browser): begin, take each tensor, complete.
 * Failures are typed: WGPT_ERR_FORMAT (a tensor the model has not got, or
 * twice), WGPT_ERR_UNSUPPORTED (a type the kernels cannot read),
 * WGPT_ERR_GPU, WGPT_ERR_NOMEM. */
wgpt_status begin_decoder_weights(const decoder_config *c, decoder_weights **out, char *err, size_t errlen);
wgpt_status decoder_weights_take(decoder_weights *w, gpu_device *d, const gguf_tensor *t, char *err, size_t errlen);
wgpt_status complete_decoder_weights(decoder_weights *w, char *err, size_t errlen);
void free_decoder_weights(decoder_weights *w);
/* The ggml type of the attention's Q projection (for the description). */
uint32_t decoder_weights_type(const decoder_weights *w);

/* n_seq: sequences whose caches of n_ctx rows each the state holds, a
 * batch's slots, whose one-token steps are multi steps (step_params says
 * whose a pass is); 0: a context's one sequence, no multi steps.
 * n_out_max: rows of logits kept per forward (1, or n_batch for all).
 * WGPT_ERR_GPU: the device cannot hold it (the reason names the buffer);
 * WGPT_ERR_UNSUPPORTED: a head size or switch the kernels do not take;
 * WGPT_ERR_NOMEM. */
wgpt_status build_decoder_state(gpu_device *d, kernel_registry *k, const decoder_weights *w, int n_ctx, int n_seq,
                                int n_batch, int n_out_max, decoder_state **out, char *err, size_t errlen);
void free_decoder_state(decoder_state *s);

/* Encodes one forward pass of n tokens at pos0 (ids already written to the
 * ids buffer, or by the GPU sampler) and, with read_logits, copies the
 * wanted logits to the read-back buffer. */
int decoder_encode_forward(decoder_state *s, const step_params *p, int capture, int read_logits, char *err,
                           size_t errlen);
gpu_buffer *decoder_state_logits(decoder_state *s);
gpu_buffer *decoder_state_ids(decoder_state *s);
gpu_buffer *decoder_state_logits_readback(decoder_state *s);
graph *decoder_state_graph(decoder_state *s);

#endif
