/* The WGSL kernels a model's ops dispatch, compiled when an op first asks
 * for one and kept for the device's life: a model compiles only the weight
 * formats and variants it uses. A kernel is composed from snippets in
 * kernels/ (embedded at build time): the reduction primitives, the shared
 * declarations, a weight-format snippet defining wblock4(), a variant
 * snippet, then the kernel body. */
#ifndef WGPT_GRAPH_KERNELS_H
#define WGPT_GRAPH_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "formats/dtype.h"
#include "gpu/gpu.h"

typedef enum {
    KERNEL_MATMUL,       /* per weight type; variant KV_BIAS adds a bias */
    KERNEL_MATVEC,       /* per weight type: MATMUL for a one-token step; variants
                            KV_BIAS, KV_NORM (the RMSNorm of x folded in), KV_NORM_BIAS */
    KERNEL_MATVEC_GLU,   /* per weight type: ffn norm, gate, up and activation, one token; variant
                            KV_LNORM: ungated, LayerNorm folded in (GPT-2's up and GELU, its LM head) */
    KERNEL_MATVEC_QKV,   /* per weight type: attention norm, Q, K and V, one token; variant KV_QKV_ROPE
                            turns Q and K too, KV_LNORM folds LayerNorm in (GPT-2) */
    KERNEL_EMBED,        /* per weight type */
    KERNEL_RMSNORM,
    KERNEL_HEAD_RMSNORM, /* q/k norm, then RoPE */
    KERNEL_ROPE,
    KERNEL_ATTENTION,    /* attention_prompt.wgsl: steps of several tokens (and one-token steps
                            the split kernels do not take) */
    KERNEL_SWIGLU,
    KERNEL_LAYERNORM,
    KERNEL_GELU,         /* gelu(g), or gelu(g) * u */
    KERNEL_SOFTCAP,
    KERNEL_SAMPLE_SELECT, /* sampling on the GPU: each workgroup's best candidates (src/sampling/) */
    KERNEL_SAMPLE_PICK,   /* the best of those, and the draw */
    KERNEL_ATTENTION_SPLIT, /* one-token attention: each chunk of the cache's keys apart */
    KERNEL_ATTENTION_MERGE, /* its chunks combined */
    KERNEL_ATTENTION_SPLIT_SG, /* KERNEL_ATTENTION_SPLIT by subgroups, a chunk each (kernels_attention_sg_keys) */
    KERNEL_QUANT_ACT,    /* x quantized per block of 32 for the 8-bit products (kernels_matmul_i8) */
    KERNEL_MATMUL_REDUCE, /* a split MATMUL's partial sums added up (matmul_reduce.wgsl) */
    KERNEL_ARGMAX_ROWS,   /* each row's greedy pick, for a batch (sampling/argmax_rows.wgsl) */
    KERNEL_COUNT
} kernel_id;

enum { KV_PLAIN = 0, KV_BIAS = 1, KV_NORM = 2, KV_NORM_BIAS = 3, KV_LNORM = 4,
       KV_T32 = 5, KV_T32_BIAS = 6, /* matmul.wgsl in tiles of 32 tokens (kernels_matmul_tokens) */
       KV_SPLIT = 7, KV_T32_SPLIT = 8, /* a part of a split product (matmul_common.wgsl's MM_SPLIT) */
       KV_MULTI = 9, KV_MULTI_BIAS = 10, /* matvec.wgsl for a batch's decode steps, MV_MULTI_TOKENS tokens a group */
       KV_COUNT }; /* kernel variants */
/* Tokens a group of matvec.wgsl's multi variants takes (MV_TOKENS). */
#define MV_MULTI_TOKENS 8u
enum { KV_QA_SWIGLU = 1 }; /* KERNEL_QUANT_ACT's: SwiGLU's activation made, written and quantized */
enum { KV_QKV_ROPE = 1 };                                                  /* KERNEL_MATVEC_QKV's */

typedef struct {
    gpu_device *dev;
    gpu_kernel *k[KERNEL_COUNT][DTYPE_GPU_SLOTS][KV_COUNT];
    gpu_kernel *qkv_v_own[DTYPE_GPU_SLOTS][DTYPE_GPU_SLOTS][KV_COUNT]; /* matvec_qkv.wgsl, V of its own K-quant */
    const char *reduce; /* the reduction snippet chosen for this adapter */
    /* Kernels that reduce run one group of lanes per output unit: a whole
     * workgroup, or, where the adapter's subgroup size is fixed, one
     * subgroup, with group_slots groups per workgroup. */
    uint32_t group_slots, group_lanes;
} kernel_registry;

/* Rows of W each group of lanes of a one-token product (id KERNEL_MATVEC,
 * KERNEL_MATVEC_GLU or KERNEL_MATVEC_QKV, its variant) takes for weight
 * type slot. */
/* Whether the one-token kernels of format slot load x's units one by one
 * (matvec.wgsl's MV_XJIT) rather than all of a step's first. */
int kernels_matvec_xjit(int slot);
uint32_t kernels_matvec_rows(const kernel_registry *r, kernel_id id, int slot, int variant);
/* Rows a workgroup of that product takes: a dispatch needs rows / this
 * workgroups (groups of several subgroups take fewer). */
uint32_t kernels_matvec_per_wg(const kernel_registry *r, kernel_id id, int slot, int variant);

/* attention_split_sg.wgsl's chunk, a key a lane of one subgroup, where
 * reductions go by subgroups; 0 where they do not (attention_split.wgsl then). */
uint32_t kernels_attention_sg_keys(const kernel_registry *r);

/* The snippet every per-format kernel of this slot takes before the
 * format's own (kquant.wgsl for the K-quants, q4_nibbles.wgsl for Q4_0 and
 * onnx_q4), NULL for none. */
const char *kernels_format_shared(int slot);

/* 1 where the batched kernel for weights of this slot is matmul_i8.wgsl,
 * which reads x as KERNEL_QUANT_ACT leaves it. */
int kernels_matmul_i8(int slot);
/* Blocks of 32 columns matmul_i8.wgsl stages between barriers: 2, or 1
 * with WGPT_MMI8_KB=1 (the two timed side by side by wgpt-kbench). */
uint32_t kernels_mmi8_blocks(void);

/* Rows a workgroup of the batched kernel takes for weights of this slot
 * (TR: matmul_i8.wgsl's for formats with 8-bit quants, matmul.wgsl's else). */
uint32_t kernels_matmul_rows(int slot);
/* Columns a stage of the batched kernel takes for weights of this slot:
 * where a product splits its columns (split-K), at whole stages. */
uint32_t kernels_matmul_stage_cols(int slot);
/* Tokens a workgroup of the batched kernel takes for this slot and variant
 * (TT): 32 for KV_T32, KV_T32_BIAS and KV_T32_SPLIT on the f32 path, else
 * KERNELS_MATMUL_TOKENS. */
uint32_t kernels_matmul_tokens(int slot, int variant);

/* The largest head size the attention kernels take: attention_prompt.wgsl's
 * lanes hold 4 of a head's values for at least 4 rows, 256 lanes a tile. */
uint32_t kernels_attention_max_head(const kernel_registry *r);

/* Keys per chunk of attention_split.wgsl (a multiple of its 64 lanes, which
 * take one key each) and query heads sharing a KV head that one workgroup
 * takes at most. */
#define KERNELS_ATTN_CHUNK 64
#define KERNELS_ATTN_HEADS 8

/* Tokens a workgroup of the batched kernel takes (matmul_i8.wgsl's TT, and
 * matmul.wgsl's but in its KV_T32 variants). */
#define KERNELS_MATMUL_TOKENS 64

/* Chooses the reduction variant for d; compiles nothing. */
void kernels_init(kernel_registry *r, gpu_device *d);
void kernels_free(kernel_registry *r);
/* The kernel, compiled on first use. slot: the weight type's gpu_slot
 * (dtype.h) for per-format kernels, else 0. NULL with a reason in err if
 * it does not compile. */
gpu_kernel *kernels_get(kernel_registry *r, kernel_id id, int slot, int variant, char *err, size_t errlen);
/* Whether matvec_qkv.wgsl can read V in format v_slot where Q and K are
 * slot: two different K-quants (llama.cpp's Q4_K_M and Q5_K_M files). */
int kernels_qkv_v_own(int slot, int v_slot);
/* That kernel (KERNEL_MATVEC_QKV, its variant), as kernels_get; v_slot -1:
 * the kernel with V of slot's type. */
gpu_kernel *kernels_get_qkv_v_own(kernel_registry *r, int slot, int v_slot, int variant, char *err, size_t errlen);

#endif
