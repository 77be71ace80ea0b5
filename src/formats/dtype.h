/* Every tensor type wgpt knows, in one table: ggml's number and name, block
 * geometry, the CPU dequantizer, and how the GPU kernels read it (the WGSL
 * snippet defining wblock4() and the repacking at upload). The GGUF reader,
 * dequantization, the weight upload, the kernel registry and the engine all
 * ask here; a new type is one row (and, for the GPU, one wfmt_*.wgsl). */
#ifndef WGPT_DTYPE_H
#define WGPT_DTYPE_H

#include <stdint.h>

/* Types the kernels read; their rows come first in the table. */
#define DTYPE_GPU_SLOTS 5

typedef struct dtype_info dtype_info;
struct dtype_info {
    uint32_t id;              /* ggml's number, as GGUF stores it */
    const char *name;         /* ggml's name: "q8_0" */
    uint32_t block_elems, block_bytes;
    /* n whole blocks from src (any alignment) to f32; NULL: no dequantizer */
    void (*dequant)(const uint8_t *src, float *dst, int64_t n);
    /* On the GPU. gpu_slot -1: the kernels cannot read the type. */
    int gpu_slot;             /* 0..DTYPE_GPU_SLOTS-1 */
    const char *wgsl;         /* the weight-format snippet in graph/kernels/ */
    uint32_t gpu_words;       /* words 32 elements take after repacking */
    /* n blocks from the file's layout to the GPU's; NULL: copied as they are */
    void (*repack)(const dtype_info *t, const uint8_t *src, uint32_t *dst, int64_t n);
};

const dtype_info *dtype_of(uint32_t ggml_type);   /* NULL if unknown */
const dtype_info *dtype_gpu(int slot);            /* the type in a GPU slot */
int dtype_gpu_slot(uint32_t ggml_type);           /* -1 if the kernels cannot read it */
const char *dtype_gpu_names(void);                /* "f32, f16, q8_0, q4_0, bf16" */
/* Bytes of n elements (whole blocks) in the file. */
uint64_t dtype_row_bytes(const dtype_info *t, uint64_t n);
/* A row of n elements from the file into the GPU's words. */
void dtype_repack_row(const dtype_info *t, const uint8_t *src, uint32_t *dst, int64_t n);

#endif
