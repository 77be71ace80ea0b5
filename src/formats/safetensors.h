/* safetensors headers and model.safetensors.index.json, read as hostile
 * input. A safetensors file is an 8-byte little-endian header length N, N
 * bytes of JSON describing each tensor (dtype, shape, data_offsets relative
 * to the first byte after the header) and an optional "__metadata__" object
 * of strings, then the data. The JSON goes through util/json.h (the reader
 * every JSON file of a model folder goes through); this file checks what
 * it says. formats/hf_folder.c reads folders with it. */
#ifndef WGPT_SAFETENSORS_H
#define WGPT_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define ST_MAX_DIMS 8
/* The largest header accepted (the safetensors package itself caps at 100 MB). */
#define ST_MAX_HEADER ((uint64_t)100 * 1000 * 1000)

/* ggml type numbers, so that a format-neutral directory can take them. */
#define ST_GGML_F32  0u
#define ST_GGML_F16  1u
#define ST_GGML_BF16 30u

/* One tensor, format-neutral: ne[] in ggml order (ne[0] the innermost, i.e.
 * the safetensors shape reversed); offset is absolute in its file. */
typedef struct {
    char *name;             /* NUL-terminated, owned (a name holding NUL is refused) */
    size_t name_len;
    uint32_t ggml_type;     /* ST_GGML_* */
    const char *dtype;      /* "F32", "F16", "BF16" (static) */
    int n_dims;
    uint64_t ne[ST_MAX_DIMS];
    int file;               /* index of the file it lives in (0 for a single file) */
    uint64_t offset;        /* absolute byte offset in that file */
    uint64_t nbytes;
} st_tensor;

typedef struct {
    st_tensor *tensors;
    size_t n_tensors;
    char **meta_keys, **meta_vals;   /* "__metadata__", NUL-terminated, owned */
    size_t n_meta;
    uint64_t data_start;              /* 8 + N */
} st_file;

/* Parses the header of a file of file_size bytes whose first avail bytes are
 * at p (avail may be just 8 + N: the data need not be present). The tensors
 * get file index file_index. Returns 0, or -1 with one line in err starting
 * "safetensors: " (and st zeroed). */
int st_parse(st_file *st, const uint8_t *p, size_t avail, uint64_t file_size, int file_index,
             char *err, size_t errlen);
void st_free(st_file *st);
/* The length of the header the first 8 bytes announce, checked against
 * file_size and ST_MAX_HEADER: for a reader that fetches the header alone. */
int st_header_len(const uint8_t p[8], uint64_t file_size, uint64_t *n, char *err, size_t errlen);

/* model.safetensors.index.json: weight_map (tensor name -> shard file). */
typedef struct {
    char **files;           /* distinct shard names, in first-seen order */
    size_t n_files;
    char **names;           /* tensor names */
    int *file_of;           /* index into files for each name */
    size_t n_names;
} st_index;

int st_index_parse(st_index *ix, const char *json, size_t len, char *err, size_t errlen);
void st_index_free(st_index *ix);

#endif
