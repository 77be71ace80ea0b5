/* libFuzzer harness for the ONNX reader (formats/onnx.c): the input is
 * parsed as a ModelProto. On success every name, attribute and in-file
 * tensor byte is touched (and checked to lie inside the input or in the
 * tensor's own decoded buffer) so the sanitizers see anything the parser
 * let out; external tensors are bound to the input itself as their file,
 * and their locations must be ones onnx_location_ok accepts. A failure
 * must leave one non-empty line and nothing allocated. Then the same bytes
 * are a tiny Llama's onnx/model_q4.onnx (and its onnx/model_q4.onnx_data)
 * in an in-memory folder, whose weights hf_folder.c maps: a model or one
 * line of error, never a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/hf_folder.h"
#include "formats/onnx.h"

static volatile unsigned sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char config[] =
    "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":64,\"intermediate_size\":128,"
    "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"num_key_value_heads\":2,\"vocab_size\":512,"
    "\"rms_norm_eps\":1e-5}";

static void as_folder(const uint8_t *data, size_t size) {
    const dir_mem_file files[] = {
        {"config.json", (const uint8_t *)config, sizeof config - 1, 0},
        {"onnx/model_q4.onnx", data, size, 0},
        {"onnx/model_q4.onnx_data", data, size, 0},
    };
    /* what the open asks for beyond these: absent */
    const char *absent[] = {"tokenizer.json", "vocab.json", "encoder.json", "tokenizer_config.json",
                            "chat_template.jinja", "chat_template.json", "generation_config.json",
                            "model.safetensors", "model.safetensors.index.json", "params_gpt.json"};
    dir_mem_file table[16];
    size_t n = 0;
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) table[n++] = files[i];
    for (size_t i = 0; i < sizeof absent / sizeof *absent; i++) table[n++] = (dir_mem_file){absent[i], NULL, 0, 1};
    gguf_file g;
    model_dir *d;
    int io;
    char need[256], err[1024] = "";
    int rc = model_dir_open_mem(table, n, &g, &d, &io, need, err, sizeof err);
    if (rc < 0 && (!err[0] || strchr(err, '\n'))) { fprintf(stderr, "bad failure message '%s'\n", err); abort(); }
    if (rc == 0) {
        gguf_close(&g);
        model_dir_free(d);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    as_folder(data, size);
    unsigned sum = 0;
    onnx_model m;
    char err[512] = "";
    if (onnx_parse(&m, data, size, err, sizeof err) != 0) {
        if (!err[0] || strchr(err, '\n')) { fprintf(stderr, "bad failure message '%s'\n", err); abort(); }
        if (m.tensors || m.nodes || m.n_tensors || m.n_nodes) abort();
        return 0;
    }
    for (size_t i = 0; i < m.n_tensors; i++) {
        onnx_tensor *t = &m.tensors[i];
        sum += (unsigned)strlen(t->name);
        if (t->n_dims < 0 || t->n_dims > ONNX_MAX_DIMS) abort();
        if (t->location) {
            if (!onnx_location_ok(t->location)) abort();
            if (onnx_external_bind(t, data, size, err, sizeof err) != 0) {
                if (!err[0] || strchr(err, '\n')) abort();
                continue;
            }
        }
        if (!t->data) continue;
        int inside = t->data >= data && t->data <= data + size && t->nbytes <= (uint64_t)(data + size - t->data);
        int own = t->owned && t->data == t->owned;
        if (!inside && !own) abort();
        for (uint64_t j = 0; j < t->nbytes; j++) sum += t->data[j];
    }
    for (size_t i = 0; i < m.n_nodes; i++) {
        const onnx_node *n = &m.nodes[i];
        sum += (unsigned)strlen(n->name) + (unsigned)strlen(n->op_type) + (unsigned)strlen(n->domain);
        for (size_t j = 0; j < n->n_inputs; j++) sum += (unsigned)strlen(n->inputs[j]);
        for (size_t j = 0; j < n->n_outputs; j++) sum += (unsigned)strlen(n->outputs[j]);
        for (size_t j = 0; j < n->n_attrs; j++) sum += (unsigned)strlen(n->attrs[j].name) + (unsigned)n->attrs[j].i;
        int64_t v;
        if (onnx_attr_int(n, "block_size", &v)) sum += (unsigned)v;
    }
    if (m.n_tensors && onnx_find_tensor(&m, m.tensors[0].name) != &m.tensors[0]) abort();
    onnx_free(&m);
    sink = sum;
    return 0;
}
