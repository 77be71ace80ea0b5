/* ONNX model files (ModelProto, protobuf wire format), read as hostile
 * input without a protobuf library: only what wgpt takes from them, the
 * graph's initializers and the nodes' names, op types, inputs, outputs and
 * integer attributes. The graph itself is not interpreted: hf_folder.c
 * maps the initializers onto a family's tensors by the nodes that use them.
 * Every length and offset is checked against the bytes there are; a
 * malformed file gives one line in err. */
#ifndef WGPT_ONNX_H
#define WGPT_ONNX_H

#include <stddef.h>
#include <stdint.h>

#define ONNX_MAX_DIMS 8

/* wgpt's own tensor type for MatMulNBits-style 4-bit weights (a row in
 * formats/dtype.c, numbered past ggml's types): blocks of 32 elements, 24
 * bytes each: f32 scale d, u8 zero point z (0..15), 3 zero bytes, then 16
 * bytes of nibbles in Q4_0's order (element j in the low nibble of byte j,
 * element j + 16 in the high one); element = (nibble - z) * d. */
#define ONNX_WGPT_Q4 1024u
#define ONNX_WGPT_Q4_BLOCK 24

/* TensorProto.DataType values wgpt meets */
enum {
    ONNX_FLOAT = 1, ONNX_UINT8 = 2, ONNX_INT8 = 3, ONNX_UINT16 = 4, ONNX_INT16 = 5, ONNX_INT32 = 6,
    ONNX_INT64 = 7, ONNX_STRING = 8, ONNX_BOOL = 9, ONNX_FLOAT16 = 10, ONNX_DOUBLE = 11, ONNX_UINT32 = 12,
    ONNX_UINT64 = 13, ONNX_BFLOAT16 = 16, ONNX_UINT4 = 21, ONNX_INT4 = 22,
};

typedef struct {
    char *name;                  /* NUL-terminated, owned */
    int32_t data_type;
    int n_dims;
    int64_t dims[ONNX_MAX_DIMS]; /* outermost first, as ONNX lists them */
    uint64_t n_elems;
    uint64_t nbytes;             /* what the elements take (4-bit types: two a byte) */
    /* In the file: data points into the parsed bytes (raw_data) or into
     * owned memory (float_data / int32_data decoded); little-endian,
     * unaligned. External: location (owned, relative to the .onnx file's
     * folder, checked by onnx_location_ok), offset, data NULL until the
     * caller maps it. */
    const uint8_t *data;
    char *location;
    uint64_t ext_offset;
    int ext_length_given;
    uint64_t ext_length;
    uint8_t *owned;              /* decoded float_data / int32_data */
} onnx_tensor;

typedef struct {
    char *name;
    int type;                    /* AttributeProto.type: 1 float, 2 int, 3 string; others kept unread */
    int64_t i;
    float f;
} onnx_attr;

typedef struct {
    char *name, *op_type, *domain;
    char **inputs, **outputs;    /* "" for an omitted optional input */
    size_t n_inputs, n_outputs;
    onnx_attr *attrs;
    size_t n_attrs;
} onnx_node;

typedef struct {
    onnx_tensor *tensors;        /* the graph's initializers */
    size_t n_tensors;
    onnx_node *nodes;
    size_t n_nodes;
    int64_t ir_version;
} onnx_model;

/* Parses a ModelProto of len bytes at p (which must outlive m: raw data
 * points into it). 0, or -1 with one line in err (and m emptied). */
int onnx_parse(onnx_model *m, const uint8_t *p, size_t len, char *err, size_t errlen);
void onnx_free(onnx_model *m);

/* Whether an external data location stays inside the model's folder: a
 * relative path of plain names (no "..", ".", empty part, backslash,
 * leading '/'). */
int onnx_location_ok(const char *location);
/* The external tensor t's bytes from its file's (file_size bytes at base):
 * offset and length checked against the file and against t's size. */
int onnx_external_bind(onnx_tensor *t, const uint8_t *base, uint64_t file_size, char *err, size_t errlen);

const onnx_tensor *onnx_find_tensor(const onnx_model *m, const char *name);
/* The integer attribute name of n: 1 and *v when present. */
int onnx_attr_int(const onnx_node *n, const char *name, int64_t *v);
/* "FLOAT", "UINT8", ...; "type N" for others (a static buffer). */
const char *onnx_type_name(int32_t data_type);

#endif
