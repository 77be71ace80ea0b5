/* Weights on the GPU: a 2-D weight stays in its file format (repacked to
 * whole words, see kernels/wfmt_*.wgsl), in row chunks that each fit one
 * storage binding; a 1-D weight (norms, biases) becomes f32. */
#ifndef WGPT_GRAPH_GPU_WEIGHTS_H
#define WGPT_GRAPH_GPU_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#include "formats/gguf.h"
#include "gpu/gpu.h"
#include "wgpt.h"

#define GRAPH_MAX_CHUNKS 64

typedef struct {
    uint32_t type;           /* ggml type */
    int gpu_slot;            /* the kernels' weight format (dtype.h) */
    int rows, cols;
    uint32_t row_words;
    int n_chunks, chunk_rows;
    gpu_buffer *chunk[GRAPH_MAX_CHUNKS];
} gpu_matrix;

/* WGPT_OK; WGPT_ERR_FORMAT (not 2-D), WGPT_ERR_UNSUPPORTED (a type or
 * shape the kernels or the device cannot take), WGPT_ERR_ARG (no data),
 * WGPT_ERR_GPU, WGPT_ERR_NOMEM; the reason names the tensor. */
wgpt_status gpu_matrix_upload(gpu_device *d, const gguf_tensor *t, gpu_matrix *m, char *err, size_t errlen);
void gpu_matrix_free(gpu_matrix *m);
/* Uploads a tensor of any shape as f32 (dequantized) into *out. */
wgpt_status gpu_vector_upload(gpu_device *d, const gguf_tensor *t, gpu_buffer **out, char *err, size_t errlen);

#endif
