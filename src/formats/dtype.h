/* Every tensor type wgpt knows, in one table: ggml's number and name, block
 * geometry, the CPU dequantizer, and how the GPU kernels read it (the WGSL
 * snippet defining wblock4(), and the layout the upload repacks it into). The GGUF reader,
 * dequantization, the weight upload, the kernel registry and the engine all
 * ask here; a new type is one row (and, for the GPU, one wfmt_*.wgsl). */
#ifndef WGPT_DTYPE_H
#define WGPT_DTYPE_H

#include <stdint.h>

/* Types the kernels read; their rows come first in the table. */
#define DTYPE_GPU_SLOTS 9

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
    uint32_t gpu_bytes;       /* bytes 32 elements take in the quant plane */
    uint32_t gpu_scales;      /* bytes a block (block_elems) takes in the scale plane; 0: no plane */
    /* n blocks from the file's layout to the planes' (quants to q, scales
     * to s); NULL: copied as they are, no scale plane */
    void (*repack)(const dtype_info *t, const uint8_t *src, uint8_t *q, uint8_t *s, int64_t n);
};

/* A chunk of rows in its GPU buffer. Quantized blocks are split so that
 * every 32 elements' quants sit at a multiple of gpu_bytes, whole words:
 * first the quant plane, [rows][cols / 32] of gpu_bytes each, then the
 * scale plane, [rows][blocks] of gpu_scales bytes each (Q8_0, Q4_0: the
 * block's f16 scale; the K-quants: a super-block's scales, dtype.c;
 * onnx_q4: its f32 scale and zero point),
 * padded to 16 bytes. Nothing in the buffer says where the scales start:
 * the kernels work it out from the buffer's size (kernels/wfmt_q4_0.wgsl),
 * so a chunk must be bound whole and be exactly `bytes` long. Other types
 * are the one plane, their rows as in the file. */
typedef struct {
    uint64_t row_bytes;       /* a row in the quant plane */
    uint64_t scales_at;       /* where the scale plane starts */
    uint64_t scale_row_bytes; /* a row in the scale plane; 0: none */
    uint64_t bytes;           /* the whole chunk, a multiple of 16 */
} dtype_gpu_layout;

const dtype_info *dtype_of(uint32_t ggml_type);   /* NULL if unknown */
const dtype_info *dtype_gpu(int slot);            /* the type in a GPU slot */
int dtype_gpu_slot(uint32_t ggml_type);           /* -1 if the kernels cannot read it */
const char *dtype_gpu_names(void);                /* "f32, f16, q8_0, q4_0, bf16, ..." */
/* Bytes of n elements (whole blocks) in the file. */
uint64_t dtype_row_bytes(const dtype_info *t, uint64_t n);
/* rows of cols elements (a multiple of 32 and of the block), as dtype_gpu_layout says. */
dtype_gpu_layout dtype_gpu_layout_of(const dtype_info *t, uint64_t rows, uint64_t cols);
/* A row of n elements from the file into the planes: its quants to q, its
 * scales (types with gpu_scales) to s. */
void dtype_repack_row(const dtype_info *t, const uint8_t *src, uint8_t *q, uint8_t *s, int64_t n);

#endif
