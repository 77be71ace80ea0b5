/* Hugging Face tensor names to GGUF names: see hf_names.h. The rows are
 * the entries of gguf-py's tensor_mapping.py that the five converters
 * (LlamaModel, Qwen2Model, Qwen3Model, Gemma3Model, GPT2Model) reach, and
 * the transforms are those of their modify_tensors. */
#include "formats/hf_names.h"

#include <stdio.h>
#include <string.h>

typedef struct { const char *hf, *gguf; hf_xform xf; } row;

/* Llama, Qwen 2 and Qwen 3 share HF's LlamaForCausalLM layout; only Llama
 * GGUFs are stored with interleaved RoPE pairs (the converter's permute). */
#define LLAMA_LIKE(QX, KX)                                                        \
    {"model.embed_tokens.weight", "token_embd.weight", HF_KEEP},                  \
    {"model.norm.weight", "output_norm.weight", HF_KEEP},                         \
    {"lm_head.weight", "output.weight", HF_KEEP},                                 \
    {"model.layers.%d.input_layernorm.weight", "blk.%d.attn_norm.weight", HF_KEEP}, \
    {"model.layers.%d.self_attn.q_proj.weight", "blk.%d.attn_q.weight", QX},      \
    {"model.layers.%d.self_attn.q_proj.bias", "blk.%d.attn_q.bias", QX},          \
    {"model.layers.%d.self_attn.k_proj.weight", "blk.%d.attn_k.weight", KX},      \
    {"model.layers.%d.self_attn.k_proj.bias", "blk.%d.attn_k.bias", KX},          \
    {"model.layers.%d.self_attn.v_proj.weight", "blk.%d.attn_v.weight", HF_KEEP}, \
    {"model.layers.%d.self_attn.v_proj.bias", "blk.%d.attn_v.bias", HF_KEEP},     \
    {"model.layers.%d.self_attn.o_proj.weight", "blk.%d.attn_output.weight", HF_KEEP}, \
    {"model.layers.%d.mlp.gate_proj.weight", "blk.%d.ffn_gate.weight", HF_KEEP},  \
    {"model.layers.%d.mlp.up_proj.weight", "blk.%d.ffn_up.weight", HF_KEEP},      \
    {"model.layers.%d.mlp.down_proj.weight", "blk.%d.ffn_down.weight", HF_KEEP}

static const row llama_rows[] = {
    LLAMA_LIKE(HF_PERMUTE_Q, HF_PERMUTE_K),
    {"model.layers.%d.post_attention_layernorm.weight", "blk.%d.ffn_norm.weight", HF_KEEP},
    {NULL, NULL, HF_KEEP},
};

static const row qwen_rows[] = {
    LLAMA_LIKE(HF_KEEP, HF_KEEP),
    {"model.layers.%d.post_attention_layernorm.weight", "blk.%d.ffn_norm.weight", HF_KEEP},
    {"model.layers.%d.self_attn.q_norm.weight", "blk.%d.attn_q_norm.weight", HF_KEEP},
    {"model.layers.%d.self_attn.k_norm.weight", "blk.%d.attn_k_norm.weight", HF_KEEP},
    {NULL, NULL, HF_KEEP},
};

/* Gemma 3: every "*norm.weight" gets + 1 (Gemma3Model.norm_shift). */
static const row gemma3_rows[] = {
    {"model.embed_tokens.weight", "token_embd.weight", HF_KEEP},
    {"model.norm.weight", "output_norm.weight", HF_NORM_PLUS1},
    {"lm_head.weight", "output.weight", HF_KEEP},
    {"model.layers.%d.input_layernorm.weight", "blk.%d.attn_norm.weight", HF_NORM_PLUS1},
    {"model.layers.%d.self_attn.q_proj.weight", "blk.%d.attn_q.weight", HF_KEEP},
    {"model.layers.%d.self_attn.k_proj.weight", "blk.%d.attn_k.weight", HF_KEEP},
    {"model.layers.%d.self_attn.v_proj.weight", "blk.%d.attn_v.weight", HF_KEEP},
    {"model.layers.%d.self_attn.o_proj.weight", "blk.%d.attn_output.weight", HF_KEEP},
    {"model.layers.%d.self_attn.q_norm.weight", "blk.%d.attn_q_norm.weight", HF_NORM_PLUS1},
    {"model.layers.%d.self_attn.k_norm.weight", "blk.%d.attn_k_norm.weight", HF_NORM_PLUS1},
    {"model.layers.%d.post_attention_layernorm.weight", "blk.%d.post_attention_norm.weight", HF_NORM_PLUS1},
    {"model.layers.%d.pre_feedforward_layernorm.weight", "blk.%d.ffn_norm.weight", HF_NORM_PLUS1},
    {"model.layers.%d.post_feedforward_layernorm.weight", "blk.%d.post_ffw_norm.weight", HF_NORM_PLUS1},
    {"model.layers.%d.mlp.gate_proj.weight", "blk.%d.ffn_gate.weight", HF_KEEP},
    {"model.layers.%d.mlp.up_proj.weight", "blk.%d.ffn_up.weight", HF_KEEP},
    {"model.layers.%d.mlp.down_proj.weight", "blk.%d.ffn_down.weight", HF_KEEP},
    {NULL, NULL, HF_KEEP},
};

/* GPT-2, with any "transformer." prefix taken off first (openai-community/
 * gpt2's own file has none). */
static const row gpt2_rows[] = {
    {"wte.weight", "token_embd.weight", HF_KEEP},
    {"wpe.weight", "position_embd.weight", HF_KEEP},
    {"ln_f.weight", "output_norm.weight", HF_KEEP},
    {"ln_f.bias", "output_norm.bias", HF_KEEP},
    {"lm_head.weight", "output.weight", HF_KEEP},
    {"h.%d.ln_1.weight", "blk.%d.attn_norm.weight", HF_KEEP},
    {"h.%d.ln_1.bias", "blk.%d.attn_norm.bias", HF_KEEP},
    {"h.%d.attn.c_attn.weight", "blk.%d.attn_qkv.weight", HF_TRANSPOSE},
    {"h.%d.attn.c_attn.bias", "blk.%d.attn_qkv.bias", HF_KEEP},
    {"h.%d.attn.c_proj.weight", "blk.%d.attn_output.weight", HF_TRANSPOSE},
    {"h.%d.attn.c_proj.bias", "blk.%d.attn_output.bias", HF_KEEP},
    {"h.%d.ln_2.weight", "blk.%d.ffn_norm.weight", HF_KEEP},
    {"h.%d.ln_2.bias", "blk.%d.ffn_norm.bias", HF_KEEP},
    {"h.%d.mlp.c_fc.weight", "blk.%d.ffn_up.weight", HF_TRANSPOSE},
    {"h.%d.mlp.c_fc.bias", "blk.%d.ffn_up.bias", HF_KEEP},
    {"h.%d.mlp.c_proj.weight", "blk.%d.ffn_down.weight", HF_TRANSPOSE},
    {"h.%d.mlp.c_proj.bias", "blk.%d.ffn_down.bias", HF_KEEP},
    {NULL, NULL, HF_KEEP},
};

static const row *rows_of(const char *arch) {
    if (!strcmp(arch, "llama")) return llama_rows;
    if (!strcmp(arch, "qwen2") || !strcmp(arch, "qwen3")) return qwen_rows;
    if (!strcmp(arch, "gemma3")) return gemma3_rows;
    if (!strcmp(arch, "gpt2")) return gpt2_rows;
    return NULL;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !memcmp(s + n - m, suffix, m);
}

/* name against a pattern with at most one %d (a layer written plainly). */
static int match(const char *pat, const char *name, int *layer) {
    const char *d = strstr(pat, "%d");
    *layer = -1;
    if (!d) return !strcmp(pat, name);
    size_t pre = (size_t)(d - pat), post = strlen(d + 2), len = strlen(name);
    if (len < pre + post + 1 || memcmp(name, pat, pre) || memcmp(name + len - post, d + 2, post)) return 0;
    size_t nd = len - pre - post;
    if (nd > 6 || (nd > 1 && name[pre] == '0')) return 0;
    int v = 0;
    for (size_t i = 0; i < nd; i++) {
        char c = name[pre + i];
        if (c < '0' || c > '9') return 0;
        v = v * 10 + (c - '0');
    }
    *layer = v;
    return 1;
}

int hf_map_name(const char *arch, const char *name, char *buf, size_t cap, hf_xform *xf) {
    const row *rows = rows_of(arch);
    if (!rows) return -1;
    /* The converter's filters: a multimodal checkpoint's text weights sit
     * under "language_model."; what is not text is dropped. */
    char n[512];
    size_t o = 0;
    for (const char *p = name; *p && o + 1 < sizeof n;) {
        if (!strncmp(p, "language_model.", 15)) { p += 15; continue; }
        n[o++] = *p++;
    }
    n[o] = 0;
    if (ends_with(n, ".attn.bias") && !strcmp(arch, "gpt2")) return 0; /* the causal mask buffer */
    if (ends_with(n, ".attn.masked_bias") || ends_with(n, ".attention.masked_bias") ||
        ends_with(n, ".attention.bias") || ends_with(n, ".rotary_emb.inv_freq"))
        return 0;
    if (!strncmp(n, "vision_tower.", 13) || !strncmp(n, "multi_modal_projector.", 22) ||
        !strncmp(n, "model.vision_tower.", 19) || !strncmp(n, "model.multi_modal_projector.", 28))
        return 0;
    const char *key = n;
    if (!strcmp(arch, "gpt2") && !strncmp(key, "transformer.", 12)) key += 12;
    for (const row *r = rows; r->hf; r++) {
        int layer;
        if (!match(r->hf, key, &layer)) continue;
        if (layer >= 0) snprintf(buf, cap, r->gguf, layer);
        else snprintf(buf, cap, "%s", r->gguf);
        *xf = r->xf;
        return 1;
    }
    return -1;
}
