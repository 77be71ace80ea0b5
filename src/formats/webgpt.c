/* WebGPT's model folders (0hq/WebGPT, models/<name>/): params_gpt.json
 * (n_layer, n_head, n_embd, vocab_size, block_size, bias) and one
 * <tensor>_gpt.bin of row-major little-endian f32 per tensor, named as
 * nanoGPT's state_dict ("transformer.h.0.attn.c_attn.weight_gpt.bin").
 * Its export stores every matrix as [out][in] (c_attn as [3 n_embd][n_embd],
 * which WebGPT's model.js transposes for its own matmul), which is ggml's
 * ne = [in, out] already: no transform. WebGPT computes the logits with the
 * token embedding (model.js never reads lm_head), so the GPT-2 GGUF form is
 * tied; without bias, model.js uses zeros, and so does this. */
#include <stdio.h>
#include <string.h>

#include "formats/hf_folder.h"
#include "util/json.h"
#include "util/text.h"
#include "util/util.h"

static int param(const json_value *root, const char *key, int64_t max, int64_t *out, char *err, size_t errlen) {
    int64_t v;
    const json_value *j = json_get(root, key);
    if (!j) { set_err(err, errlen, "params_gpt.json: missing field '%s'", key); return -1; }
    if (json_get_int(root, key, &v) != 0) {
        set_err(err, errlen, "params_gpt.json: field '%s' is %s, expected an integer", key,
                j->type == JSON_NUMBER ? "a fraction" : json_type_name(j->type));
        return -1;
    }
    if (v < 1 || v > max) {
        set_err(err, errlen, "params_gpt.json: field '%s' = %lld is out of range (1..%lld)", key, (long long)v,
                (long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

/* <hf>_gpt.bin as the GGUF tensor gguf of shape ne (ggml order); a bias
 * absent by params_gpt.json's choice is zeros. */
static int bin(model_dir *d, const char *hf, const char *gguf, int n_dims, uint64_t ne0, uint64_t ne1, int zeros,
               char *err, size_t errlen) {
    uint64_t ne[2] = {ne0, ne1}, n = ne0 * ne1;
    if (zeros) {
        void *z = gb_alloc(&d->b, (size_t)n * 4);
        if (!z) { set_err(err, errlen, "out of memory"); return -1; }
        return dir_tensor(d, gguf, GGML_TYPE_F32, n_dims, ne, z, n * 4, -1, 0, err, errlen);
    }
    char file[160];
    snprintf(file, sizeof file, "%s_gpt.bin", hf);
    if (!dir_has(d, file)) {
        set_err(err, errlen, "%s: missing (params_gpt.json says %s)", file,
                strstr(hf, ".bias") ? "the model has biases" : "the model has it");
        d->io_error = 1;
        return -1;
    }
    const uint8_t *data;
    uint64_t size;
    int fi = dir_map(d, file, &data, &size, err, errlen);
    if (fi < 0) return -1;
    if (size != n * 4) {
        set_err(err, errlen, "%s: %llu bytes, expected %llu (%llu f32 values for %s)", file, (unsigned long long)size,
                (unsigned long long)(n * 4), (unsigned long long)n, gguf);
        return -1;
    }
    return dir_tensor(d, gguf, GGML_TYPE_F32, n_dims, ne, data, size, fi, 0, err, errlen);
}

int webgpt_open(model_dir *d, char *err, size_t errlen) {
    d->format = "WebGPT folder";
    char *text;
    size_t len;
    if (dir_read(d, "params_gpt.json", &text, &len, err, errlen)) return -1;
    json_doc *doc = json_parse(text, len, "params_gpt.json", err, errlen);
    if (!doc) return -1;
    const json_value *root = json_root(doc);
    int64_t n_layer, n_head, n_embd, vocab, block;
    int bias = 1, rc = -1;
    if (root->type != JSON_OBJECT) { set_err(err, errlen, "params_gpt.json: not a JSON object"); goto out; }
    if (param(root, "n_layer", 4096, &n_layer, err, errlen) || param(root, "n_head", 4096, &n_head, err, errlen) ||
        param(root, "n_embd", 1 << 16, &n_embd, err, errlen) || param(root, "vocab_size", 1 << 24, &vocab, err, errlen) ||
        param(root, "block_size", 1 << 24, &block, err, errlen))
        goto out;
    const json_value *bv = json_get(root, "bias");
    if (bv && bv->type != JSON_NULL && json_get_bool(root, "bias", &bias) != 0) {
        set_err(err, errlen, "params_gpt.json: field 'bias' is %s, expected true or false", json_type_name(bv->type));
        goto out;
    }
    if (n_embd % n_head) {
        set_err(err, errlen, "params_gpt.json: n_embd (%lld) is not a multiple of n_head (%lld)", (long long)n_embd,
                (long long)n_head);
        goto out;
    }
    gguf_builder *b = &d->b;
    gb_str(b, "general.architecture", "gpt2", 4);
    gb_u32(b, "gpt2.block_count", (uint32_t)n_layer);
    gb_u32(b, "gpt2.context_length", (uint32_t)block);
    gb_u32(b, "gpt2.embedding_length", (uint32_t)n_embd);
    gb_u32(b, "gpt2.feed_forward_length", (uint32_t)(4 * n_embd));
    gb_u32(b, "gpt2.attention.head_count", (uint32_t)n_head);
    gb_f32(b, "gpt2.attention.layer_norm_epsilon", 1e-5f); /* nanoGPT's LayerNorm, which WebGPT exports */
    uint64_t E = (uint64_t)n_embd, F = 4 * E;
    if (bin(d, "transformer.wte.weight", "token_embd.weight", 2, E, (uint64_t)vocab, 0, err, errlen) ||
        bin(d, "transformer.wpe.weight", "position_embd.weight", 2, E, (uint64_t)block, 0, err, errlen))
        goto out;
    for (int64_t l = 0; l < n_layer; l++) {
        static const struct { const char *hf, *gguf; int bias, mat; uint64_t rows; } parts[] = {
            {"ln_1.weight", "attn_norm.weight", 0, 0, 0},   {"ln_1.bias", "attn_norm.bias", 1, 0, 0},
            {"attn.c_attn.weight", "attn_qkv.weight", 0, 1, 3}, {"attn.c_attn.bias", "attn_qkv.bias", 1, 0, 3},
            {"attn.c_proj.weight", "attn_output.weight", 0, 1, 1}, {"attn.c_proj.bias", "attn_output.bias", 1, 0, 1},
            {"ln_2.weight", "ffn_norm.weight", 0, 0, 0},    {"ln_2.bias", "ffn_norm.bias", 1, 0, 0},
            {"mlp.c_fc.weight", "ffn_up.weight", 0, 1, 4},   {"mlp.c_fc.bias", "ffn_up.bias", 1, 0, 4},
            {"mlp.c_proj.weight", "ffn_down.weight", 0, 2, 1}, {"mlp.c_proj.bias", "ffn_down.bias", 1, 0, 1},
        };
        for (size_t p = 0; p < sizeof parts / sizeof *parts; p++) {
            char hf[128], gg[128];
            snprintf(hf, sizeof hf, "transformer.h.%lld.%s", (long long)l, parts[p].hf);
            snprintf(gg, sizeof gg, "blk.%lld.%s", (long long)l, parts[p].gguf);
            uint64_t out = parts[p].rows ? parts[p].rows * E : E;
            int r;
            if (parts[p].mat == 1) r = bin(d, hf, gg, 2, E, out, 0, err, errlen);        /* [out][n_embd] */
            else if (parts[p].mat == 2) r = bin(d, hf, gg, 2, F, E, 0, err, errlen);     /* [n_embd][4 n_embd] */
            else r = bin(d, hf, gg, 1, out, 1, parts[p].bias && !bias, err, errlen);
            if (r) goto out;
        }
    }
    if (bin(d, "transformer.ln_f.weight", "output_norm.weight", 1, E, 1, 0, err, errlen) ||
        bin(d, "transformer.ln_f.bias", "output_norm.bias", 1, E, 1, !bias, err, errlen))
        goto out;
    rc = dir_tokenizer(d, err, errlen);
out:
    json_free(doc);
    return rc;
}
