/* Hugging Face tensor names to the GGUF names llama.cpp's
 * convert_hf_to_gguf.py writes (gguf-py's tensor_mapping.py), per
 * architecture, with the transform the converter applies to each. */
#ifndef WGPT_HF_NAMES_H
#define WGPT_HF_NAMES_H

#include <stddef.h>

typedef enum {
    HF_KEEP,        /* as stored */
    HF_PERMUTE_Q,   /* Llama: rotate-half rows to interleaved pairs, over the query heads */
    HF_PERMUTE_K,   /* the same over the key/value heads */
    HF_NORM_PLUS1,  /* Gemma: RMSNorm computes x * (1 + w); GGUF stores 1 + w, as f32 */
    HF_TRANSPOSE,   /* GPT-2's Conv1D stores [in, out]; GGUF wants [out, in] (ggml ne [in, out]) */
} hf_xform;

/* What to do with an HF tensor name for arch (a general.architecture).
 * 1: map to gguf (into buf) with *xf; 0: a tensor the converter drops
 * (attention masks, rotary inv_freq, a vision tower); -1: not a name of
 * this architecture. */
int hf_map_name(const char *arch, const char *name, char *buf, size_t cap, hf_xform *xf);

#endif
