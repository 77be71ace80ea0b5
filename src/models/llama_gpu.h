/* The Llama architecture on the GPU: weights (immutable, shared) and the
 * per-context state (activations, KV cache, the recorded forward graph). */
#ifndef WGPT_MODELS_LLAMA_GPU_H
#define WGPT_MODELS_LLAMA_GPU_H

#include "graph/graph.h"
#include "models/llama.h"
#include "util/util.h"

typedef struct llama_weights llama_weights;
typedef struct llama_state llama_state;

/* Weights arrive one tensor at a time (from a mapped file, or fetched
 * piece by piece in the browser): begin, give each tensor, complete. */
int begin_llama_weights(const llama_config *c, llama_weights **out, char *err, size_t errlen);
int llama_weights_tensor(llama_weights *w, gpu_device *d, const gguf_tensor *t, char *err, size_t errlen);
int complete_llama_weights(llama_weights *w, char *err, size_t errlen);
void free_llama_weights(llama_weights *w);

/* n_out_max: rows of logits kept per forward (1, or n_batch for all). */
int build_llama_state(gpu_device *d, const kernel_set *k, const llama_weights *w, int n_ctx, int n_batch,
                      int n_out_max, llama_state **out, char *err, size_t errlen);
void free_llama_state(llama_state *s);

/* Encodes one forward pass of n tokens at pos0 (ids already written to the
 * ids buffer) and copies the wanted logits to the read-back buffer. */
int llama_encode_forward(llama_state *s, const step_params *p, int capture, char *err, size_t errlen);
gpu_buffer *llama_state_ids(llama_state *s);
gpu_buffer *llama_state_step(llama_state *s);
gpu_buffer *llama_state_logits_readback(llama_state *s);
graph *llama_state_graph(llama_state *s);

#endif
