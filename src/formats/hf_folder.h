/* A model folder read as if it were a GGUF: a Hugging Face folder
 * (config.json, model.safetensors or shards with
 * model.safetensors.index.json, tokenizer.json, tokenizer_config.json,
 * generation_config.json) or a WebGPT folder (params_gpt.json and one
 * <name>_gpt.bin of f32 per tensor). The folder becomes an in-memory
 * gguf_file whose metadata and tensor directory are what llama.cpp's
 * convert_hf_to_gguf.py would write for it (keys, tensor names, the
 * converter's transforms), so the rest of wgpt reads it unchanged. Tensor
 * data stays in the memory-mapped files where the converter would store
 * it as it is; only transformed tensors (Llama's Q/K row order, Gemma's
 * norms + 1, GPT-2's transposed Conv1D weights, Llama 3's rope_freqs) are
 * computed into owned buffers.
 *
 * The tokenizer and chat template are handed on as strings (the tokenizer
 * and template readers parse them):
 *   tokenizer.huggingface.json         tokenizer.json, whole
 *   tokenizer.huggingface.config_json  tokenizer_config.json, whole
 *   tokenizer.huggingface.vocab_json, tokenizer.huggingface.merges_txt
 *                                      GPT-2's vocab.json + merges.txt (no tokenizer.json)
 *   tokenizer.chat_template            tokenizer_config.json's chat_template (the "default"
 *                                      one of a list), else chat_template.jinja
 *   tokenizer.huggingface.eos_token_ids  generation_config.json's eos_token_id (int32 array)
 *   tokenizer.ggml.bos_token_id / eos_token_id  where known
 * A folder with only tokenizer files opens (no architecture, no tensors).
 * Natively the files are read from a path; the browser hands them over in
 * memory (model_dir_open_mem), fetching each one the open asks for. */
#ifndef WGPT_HF_FOLDER_H
#define WGPT_HF_FOLDER_H

#include <stddef.h>
#include <stdint.h>

#include "formats/gguf.h"
#include "formats/gguf_build.h"

typedef struct model_dir model_dir;

/* 1 if path names a directory. */
int model_dir_is(const char *path);
/* Reads the folder into g (and *out, which owns what g points at). 0, or
 * -1 with one line in err (naming the file inside the folder, not the
 * folder) and *io_error set when a file could not be opened or read
 * rather than being malformed. */
int model_dir_open(const char *path, gguf_file *g, model_dir **out, int *io_error, char *err, size_t errlen);
/* The browser's folder: files the caller holds, by name, or known to be
 * absent (absent = 1: a 404). The browser cannot list a folder, so the
 * open asks: a name the table does not list makes it return 1 with need
 * (NUL-terminated) naming the file; fetch it (or mark it
 * absent) and open again. 0 and -1 as model_dir_open. The tensors read
 * from files point into the table's bytes: only transformed ones are
 * owned by *out. files is not kept past the call. */
typedef struct { const char *name; const uint8_t *data; uint64_t size; int absent; } dir_mem_file;
int model_dir_open_mem(const dir_mem_file *files, size_t n_files, gguf_file *g, model_dir **out, int *io_error,
                       char need[256], char *err, size_t errlen);
/* After gguf_close(g). NULL: nothing. */
void model_dir_free(model_dir *d);

const char *model_dir_format(const model_dir *d);   /* "Hugging Face folder", "WebGPT folder" */
int model_dir_has_weights(const model_dir *d);
/* Why there are no weights, for a command that needs them. */
const char *model_dir_no_weights(const model_dir *d);
size_t model_dir_n_files(const model_dir *d);
/* File i's name (relative to the folder) and size; NULL past the end. */
const char *model_dir_file(const model_dir *d, size_t i, uint64_t *size);
/* The file tensor i of g was read from (-1: computed, not read). */
int model_dir_tensor_file(const model_dir *d, uint64_t i);

/* ---- shared with webgpt.c ---- */
struct model_dir {
    gguf_builder b;
    const char *format;
    const char *no_weights;
    char *path;
    struct dir_file { char *name; uint64_t size; void *map; size_t map_len; } *files;
    size_t n_files, cap_files;
    int *tensor_file;       /* per tensor of b, grown with it */
    size_t cap_tensor_file;
    int io_error;
    const dir_mem_file *mem; /* model_dir_open_mem's table during the open; NULL: the folder at path */
    size_t n_mem;
    char need[256];          /* the first name the table lacked; "": none */
};
/* Whether NAME exists in the folder as a regular file. */
int dir_has(model_dir *d, const char *name);
/* NAME read whole into owned memory (NUL-terminated) and listed as a file
 * of the folder; -1 with err when absent or unreadable (io_error set). */
int dir_read(model_dir *d, const char *name, char **text, size_t *len, char *err, size_t errlen);
/* NAME memory-mapped and listed; returns its file index, or -1 with err. */
int dir_map(model_dir *d, const char *name, const uint8_t **data, uint64_t *size, char *err, size_t errlen);
/* A tensor of the directory, recording the file it came from. */
int dir_tensor(model_dir *d, const char *name, uint32_t type, int n_dims, const uint64_t *ne, const uint8_t *data,
               uint64_t nbytes, int file, uint64_t offset, char *err, size_t errlen);
/* The tokenizer files beside the weights, as the strings listed above. */
int dir_tokenizer(model_dir *d, char *err, size_t errlen);

int webgpt_open(model_dir *d, char *err, size_t errlen);
/* config.json's text alone into d's metadata (and Llama 3's rope_freqs):
 * what hf_open does with it, for the fuzzer. d from calloc + gb_init. */
int hf_config_read(model_dir *d, const char *text, size_t len, char *err, size_t errlen);

#endif
