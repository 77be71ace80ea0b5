/* A gguf_file made in memory rather than parsed: metadata and a tensor
 * directory synthesized from another format (a Hugging Face or WebGPT
 * folder, formats/hf_folder.h), so that everything downstream of a parsed
 * GGUF (decoder_config_from_gguf, the CPU reference, the weight upload, the
 * tokenizer) reads it unchanged.
 *
 * The builder owns every byte the result points at (keys, strings, arrays,
 * tensor names, transformed tensor data); the kv and tensor arrays
 * themselves pass to the gguf_file at gb_finish, so that gguf_close frees
 * them as it does a parsed file's. Free the builder (its storage) after
 * gguf_close. A failed allocation sets `failed` and later calls do nothing,
 * so a caller checks once, at gb_finish. */
#ifndef WGPT_GGUF_BUILD_H
#define WGPT_GGUF_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "formats/gguf.h"

typedef struct {
    gguf_kv *kv;
    size_t n_kv, cap_kv;
    gguf_tensor *tensors;
    size_t n_tensors, cap_tensors;
    void **blocks;          /* owned storage */
    size_t n_blocks, cap_blocks;
    int failed;
} gguf_builder;

void gb_init(gguf_builder *b);
/* n bytes owned by the builder (zeroed); NULL on failure. */
void *gb_alloc(gguf_builder *b, size_t n);
/* Setting a key again replaces its value (the first position is kept). */
void gb_str(gguf_builder *b, const char *key, const char *s, size_t len);
void gb_u32(gguf_builder *b, const char *key, uint32_t v);
void gb_f32(gguf_builder *b, const char *key, float v);
void gb_bool(gguf_builder *b, const char *key, int v);
void gb_arr_i32(gguf_builder *b, const char *key, const int32_t *v, size_t n);
void gb_arr_bool(gguf_builder *b, const char *key, const uint8_t *v, size_t n);
int gb_has(const gguf_builder *b, const char *key);
/* A tensor whose data lives at data (a mapping, or gb_alloc'd); ne in ggml
 * order. Returns its index, or -1 on failure. */
long gb_tensor(gguf_builder *b, const char *name, uint32_t type, int n_dims, const uint64_t *ne, const uint8_t *data,
               uint64_t nbytes, uint64_t offset);
/* Hands kv and tensors to g (GGUF v3 shape, no data section of its own). */
int gb_finish(gguf_builder *b, gguf_file *g);
/* Frees the storage and whatever gb_finish did not hand over. */
void gb_free(gguf_builder *b);

#endif
