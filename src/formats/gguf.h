/* GGUF v2/v3 reader: metadata of every type, tensor directory, data by
 * offset. The file is read from memory (mmap natively, a fetched buffer in
 * the browser) or, for header-only use, from a caller's read callback. */
#ifndef WGPT_GGUF_H
#define WGPT_GGUF_H

#include <stddef.h>
#include <stdint.h>

enum gguf_type {
    GGUF_TYPE_UINT8 = 0, GGUF_TYPE_INT8 = 1, GGUF_TYPE_UINT16 = 2, GGUF_TYPE_INT16 = 3,
    GGUF_TYPE_UINT32 = 4, GGUF_TYPE_INT32 = 5, GGUF_TYPE_FLOAT32 = 6, GGUF_TYPE_BOOL = 7,
    GGUF_TYPE_STRING = 8, GGUF_TYPE_ARRAY = 9, GGUF_TYPE_UINT64 = 10, GGUF_TYPE_INT64 = 11,
    GGUF_TYPE_FLOAT64 = 12,
};

/* ggml tensor types we know by name; only some are supported by the engine. */
enum ggml_type {
    GGML_TYPE_F32 = 0, GGML_TYPE_F16 = 1, GGML_TYPE_Q4_0 = 2, GGML_TYPE_Q4_1 = 3,
    GGML_TYPE_Q5_0 = 6, GGML_TYPE_Q5_1 = 7, GGML_TYPE_Q8_0 = 8, GGML_TYPE_Q8_1 = 9,
    GGML_TYPE_Q2_K = 10, GGML_TYPE_Q3_K = 11, GGML_TYPE_Q4_K = 12, GGML_TYPE_Q5_K = 13,
    GGML_TYPE_Q6_K = 14, GGML_TYPE_Q8_K = 15, GGML_TYPE_BF16 = 30,
};

typedef struct { const char *ptr; uint64_t len; } gguf_str; /* not NUL-terminated */

typedef struct {
    gguf_str key;
    uint32_t type;            /* enum gguf_type */
    /* scalar value (type != STRING/ARRAY) */
    union { uint64_t u; int64_t i; double f; } v;
    gguf_str str;             /* type == STRING */
    uint32_t arr_type;        /* type == ARRAY: element type */
    uint64_t arr_len;
    const uint8_t *arr_data;  /* raw elements (strings: length-prefixed) */
} gguf_kv;

#define GGUF_MAX_DIMS 4
typedef struct {
    gguf_str name;
    uint32_t n_dims;
    uint64_t ne[GGUF_MAX_DIMS];  /* ne[0] is the contiguous (row) dimension */
    uint32_t type;               /* enum ggml_type */
    uint64_t offset;             /* relative to data section */
    uint64_t nbytes;
    const uint8_t *data;         /* NULL until the data section is available */
} gguf_tensor;

typedef struct gguf_file {
    uint32_t version;
    uint64_t n_kv, n_tensors;
    gguf_kv *kv;
    gguf_tensor *tensors;
    uint32_t alignment;
    uint64_t data_offset;        /* absolute file offset of the data section */
    uint64_t file_size;
    const uint8_t *base;         /* whole file in memory, or NULL */
    void *mapping; size_t mapping_len; /* owned mmap, if any */
    int io_error;                /* after gguf_open failed: the file could not be opened or read
                                    (missing, no permission, a failed map), rather than its bytes
                                    not being a GGUF */
} gguf_file;

/* Parse a GGUF held in memory (not copied; must outlive the gguf_file).
 * Returns 0, or -1 with a one-line reason in err. */
int gguf_parse(gguf_file *g, const uint8_t *buf, size_t len, char *err, size_t errlen);
/* Parse only the header (metadata and tensor directory) from the first len
 * bytes of a file of file_size bytes: tensor data pointers stay NULL, their
 * ranges are checked against file_size. When the parse fails only because
 * the header goes on past the prefix (the file itself has those bytes),
 * *need (if need is not NULL) gets a prefix length, larger than len and at
 * most file_size, with which the parse gets further: the caller retries with
 * at least that many bytes. Every other failure is an error in the file and
 * sets *need to 0. */
int gguf_parse_header(gguf_file *g, const uint8_t *buf, size_t len, uint64_t file_size, uint64_t *need,
                      char *err, size_t errlen);
/* mmap a regular file and parse it. FIFOs, devices and directories are
 * refused without blocking; path NULL is an error too. */
int gguf_open(gguf_file *g, const char *path, char *err, size_t errlen);
void gguf_close(gguf_file *g);

const gguf_kv *gguf_find(const gguf_file *g, const char *key);
const gguf_tensor *gguf_find_tensor(const gguf_file *g, const char *name);
int gguf_str_eq(gguf_str s, const char *c);

/* Typed getters: return 0 if found and convertible, -1 otherwise. */
int gguf_get_u64(const gguf_file *g, const char *key, uint64_t *out);
int gguf_get_f64(const gguf_file *g, const char *key, double *out);
int gguf_get_str(const gguf_file *g, const char *key, gguf_str *out);
int gguf_get_bool(const gguf_file *g, const char *key, int *out);
/* Array access: element i of a scalar array as u64/i64/f64, or as a
 * keyless scalar gguf_kv (exact, whatever its type); strings via
 * gguf_arr_strings, which fills an index of (ptr,len) the caller frees. */
int gguf_arr_num(const gguf_kv *kv, uint64_t i, double *out);
int gguf_arr_scalar(const gguf_kv *kv, uint64_t i, gguf_kv *out);
int gguf_arr_strings(const gguf_kv *kv, gguf_str **out);

const char *gguf_type_name(uint32_t gguf_type);
/* A ggml type's name ("unknown" if not in formats/dtype.c's table), and its
 * block geometry: elements per block and bytes per block (0 and -1 if
 * unknown). Answered from that table. */
const char *ggml_type_name(uint32_t ggml_type);
int ggml_type_block(uint32_t type, uint32_t *block_elems, uint32_t *block_bytes);

#endif
