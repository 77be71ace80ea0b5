/* Folders read as GGUF (formats/hf_folder.c), checked value by value on
 * folders written here: the converter's transforms (Llama's Q/K row
 * permutation over query and key heads, GPT-2's Conv1D transpose, Gemma's
 * norms + 1 from BF16 into F32), the names a multimodal Gemma 3 checkpoint
 * uses (text_config, language_model., a vision tower dropped), the layer
 * kinds written only where they leave llama.cpp's default pattern, the
 * tokenizer hand-off (a chat template list's "default" entry,
 * chat_template.jinja, generation_config's eos list) and a WebGPT folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "formats/hf_folder.h"

static char dir[256];

static void put(const char *name, const void *data, size_t n) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}
static void puts_file(const char *name, const char *text) { put(name, text, strlen(text)); }

static void fresh(void) {
    snprintf(dir, sizeof dir, "/tmp/wgpt_test_hf_%d", (int)getpid());
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(mkdir(dir, 0700), 0);
}

/* A safetensors file of tensors given as (name, dtype, shape, data). */
typedef struct { const char *name, *dtype; int nd; int64_t shape[2]; const void *data; size_t nbytes; } st_in;
static void write_st(const char *file, const st_in *t, int n) {
    char json[4096] = "{";
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        char shape[64], one[512];
        if (t[i].nd == 2) snprintf(shape, sizeof shape, "%lld,%lld", (long long)t[i].shape[0], (long long)t[i].shape[1]);
        else snprintf(shape, sizeof shape, "%lld", (long long)t[i].shape[0]);
        snprintf(one, sizeof one, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[%s],\"data_offsets\":[%zu,%zu]}",
                 i ? "," : "", t[i].name, t[i].dtype, shape, off, off + t[i].nbytes);
        strcat(json, one);
        off += t[i].nbytes;
    }
    strcat(json, "}");
    size_t hl = strlen(json);
    while (hl % 8) json[hl++] = ' ';
    json[hl] = 0;
    size_t total = 8 + hl + off;
    uint8_t *b = calloc(1, total);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(hl >> (8 * i));
    memcpy(b + 8, json, hl);
    size_t o = 8 + hl;
    for (int i = 0; i < n; i++) { memcpy(b + o, t[i].data, t[i].nbytes); o += t[i].nbytes; }
    put(file, b, total);
    free(b);
}

static const gguf_tensor *tensor(const gguf_file *g, const char *name) {
    const gguf_tensor *t = gguf_find_tensor(g, name);
    if (!t) fail_msg("no tensor %s", name);
    return t;
}
static uint64_t u(const gguf_file *g, const char *k) {
    uint64_t v = 0;
    if (gguf_get_u64(g, k, &v)) fail_msg("no integer key %s", k);
    return v;
}
static double f(const gguf_file *g, const char *k) {
    double v = 0;
    if (gguf_get_f64(g, k, &v)) fail_msg("no number key %s", k);
    return v;
}
static int str_is(const gguf_file *g, const char *k, const char *want) {
    gguf_str s;
    return gguf_get_str(g, k, &s) == 0 && gguf_str_eq(s, want);
}

static model_dir *open_ok(gguf_file *g) {
    model_dir *d = NULL;
    int io = 0;
    char err[512] = "";
    if (model_dir_open(dir, g, &d, &io, err, sizeof err) != 0) fail_msg("open: %s", err);
    return d;
}

/* Llama: 2 query heads over 1 KV head of head_dim 4, rows numbered so the
 * permutation can be read back. */
static void test_llama_permute(void **state) {
    (void)state;
    fresh();
    puts_file("config.json", "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":8,\"intermediate_size\":16,"
              "\"num_hidden_layers\":1,\"num_attention_heads\":2,\"num_key_value_heads\":1,\"rms_norm_eps\":1e-5,"
              "\"rope_theta\":500000.0,\"vocab_size\":4,\"max_position_embeddings\":64,"
              "\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":4.0,\"original_max_position_embeddings\":16}}");
    float q[8][8], k[4][8], qb[8];
    for (int r = 0; r < 8; r++) { qb[r] = (float)r; for (int c = 0; c < 8; c++) q[r][c] = (float)(r * 100 + c); }
    for (int r = 0; r < 4; r++) for (int c = 0; c < 8; c++) k[r][c] = (float)(r * 100 + c);
    st_in t[] = {
        {"model.layers.0.self_attn.q_proj.weight", "F32", 2, {8, 8}, q, sizeof q},
        {"model.layers.0.self_attn.k_proj.weight", "F32", 2, {4, 8}, k, sizeof k},
        {"model.layers.0.self_attn.q_proj.bias", "F32", 1, {8, 0}, qb, sizeof qb},
        {"model.layers.0.self_attn.rotary_emb.inv_freq", "F32", 1, {2, 0}, qb, 8},
    };
    write_st("model.safetensors", t, 4);
    gguf_file g;
    model_dir *d = open_ok(&g);
    assert_true(str_is(&g, "general.architecture", "llama"));
    assert_int_equal(u(&g, "llama.rope.dimension_count"), 4);
    assert_int_equal(u(&g, "llama.vocab_size"), 4);
    assert_float_equal(f(&g, "llama.rope.freq_base"), 500000.0, 0);
    assert_true(str_is(&g, "llama.rope.scaling.type", "yarn"));
    assert_int_equal(g.n_tensors, 3); /* inv_freq dropped */
    /* head h, pair i, half j: GGUF row h*4 + 2i + j is HF row h*4 + 2j + i */
    static const int want_q[8] = {0, 2, 1, 3, 4, 6, 5, 7}, want_k[4] = {0, 2, 1, 3};
    const gguf_tensor *tq = tensor(&g, "blk.0.attn_q.weight"), *tk = tensor(&g, "blk.0.attn_k.weight"),
                      *tb = tensor(&g, "blk.0.attn_q.bias");
    assert_int_equal(tq->ne[0], 8);
    assert_int_equal(tq->ne[1], 8);
    for (int r = 0; r < 8; r++) {
        assert_float_equal(((const float *)tq->data)[r * 8 + 3], want_q[r] * 100 + 3, 0);
        assert_float_equal(((const float *)tb->data)[r], want_q[r], 0);
    }
    for (int r = 0; r < 4; r++) assert_float_equal(((const float *)tk->data)[r * 8 + 5], want_k[r] * 100 + 5, 0);
    assert_int_equal(model_dir_tensor_file(d, (uint64_t)(tq - g.tensors)), -1); /* computed */
    gguf_close(&g);
    model_dir_free(d);
}

/* GPT-2: Conv1D [in][out] becomes ggml ne [in, out]; the attention mask is dropped. */
static void test_gpt2_transpose(void **state) {
    (void)state;
    fresh();
    puts_file("config.json", "{\"architectures\":[\"GPT2LMHeadModel\"],\"n_ctx\":8,\"n_embd\":2,\"n_head\":1,"
              "\"n_layer\":1,\"layer_norm_epsilon\":1e-5,\"n_inner\":null}");
    float w[2][6], mask[4] = {1, 0, 1, 1};
    for (int i = 0; i < 2; i++) for (int o = 0; o < 6; o++) w[i][o] = (float)(i * 10 + o);
    st_in t[] = {
        {"h.0.attn.c_attn.weight", "F32", 2, {2, 6}, w, sizeof w},
        {"h.0.attn.bias", "F32", 2, {2, 2}, mask, sizeof mask},
    };
    write_st("model.safetensors", t, 2);
    puts_file("vocab.json", "{\"a\":0}");
    puts_file("merges.txt", "#version: 0.2\n");
    gguf_file g;
    model_dir *d = open_ok(&g);
    assert_int_equal(u(&g, "gpt2.feed_forward_length"), 8);
    assert_int_equal(g.n_tensors, 1);
    const gguf_tensor *q = tensor(&g, "blk.0.attn_qkv.weight");
    assert_int_equal(q->ne[0], 2);
    assert_int_equal(q->ne[1], 6);
    for (int o = 0; o < 6; o++)
        for (int i = 0; i < 2; i++) assert_float_equal(((const float *)q->data)[o * 2 + i], i * 10 + o, 0);
    assert_true(str_is(&g, "tokenizer.huggingface.vocab_json", "{\"a\":0}"));
    assert_true(str_is(&g, "tokenizer.huggingface.merges_txt", "#version: 0.2\n"));
    gguf_close(&g);
    model_dir_free(d);
}

/* Gemma 3 as Gemma3ForConditionalGeneration saves it; BF16 norms come out F32 + 1. */
static void test_gemma3_multimodal(void **state) {
    (void)state;
    fresh();
    puts_file("config.json", "{\"architectures\":[\"Gemma3ForConditionalGeneration\"],\"model_type\":\"gemma3\","
              "\"text_config\":{\"hidden_size\":4,\"intermediate_size\":8,\"num_hidden_layers\":3,"
              "\"sliding_window\":16,\"head_dim\":2,\"rope_local_base_freq\":10000.0,\"query_pre_attn_scalar\":2,"
              "\"layer_types\":[\"sliding_attention\",\"full_attention\",\"sliding_attention\"]},"
              "\"vision_config\":{\"hidden_size\":1152}}");
    uint16_t norm[4] = {0x3f80, 0x0000, 0xbf80, 0x4000}; /* bf16 1, 0, -1, 2 */
    float vis[2] = {1, 2};
    st_in t[] = {
        {"language_model.model.layers.1.post_feedforward_layernorm.weight", "BF16", 1, {4, 0}, norm, sizeof norm},
        {"vision_tower.vision_model.embeddings.patch_embedding.bias", "F32", 1, {2, 0}, vis, sizeof vis},
        {"multi_modal_projector.mm_soft_emb_norm.weight", "F32", 1, {2, 0}, vis, sizeof vis},
    };
    write_st("model.safetensors", t, 3);
    puts_file("tokenizer.json", "{}");
    puts_file("tokenizer_config.json", "{\"chat_template\":[{\"name\":\"tool_use\",\"template\":\"T\"},"
              "{\"name\":\"default\",\"template\":\"D\"}]}");
    puts_file("generation_config.json", "{\"bos_token_id\":2,\"eos_token_id\":[1,106]}");
    gguf_file g;
    model_dir *d = open_ok(&g);
    assert_true(str_is(&g, "general.architecture", "gemma3"));
    assert_int_equal(u(&g, "gemma3.attention.head_count"), 8);       /* Gemma3Model's defaults */
    assert_int_equal(u(&g, "gemma3.attention.head_count_kv"), 4);
    assert_int_equal(u(&g, "gemma3.context_length"), 131072);
    assert_int_equal(u(&g, "gemma3.attention.key_length"), 2);
    assert_int_equal(u(&g, "gemma3.attention.sliding_window"), 16);
    assert_int_equal(u(&g, "gemma3.attention.sliding_window_pattern"), 2); /* every 2nd layer global */
    assert_float_equal(f(&g, "gemma3.rope.freq_base"), 1000000.0, 0);
    assert_float_equal(f(&g, "gemma3.rope.freq_base_swa"), 10000.0, 0);
    assert_int_equal(g.n_tensors, 1);
    const gguf_tensor *n = tensor(&g, "blk.1.post_ffw_norm.weight");
    assert_int_equal(n->type, GGML_TYPE_F32);
    assert_int_equal(n->nbytes, 16);
    static const float want[4] = {2, 1, 0, 3};
    for (int i = 0; i < 4; i++) assert_float_equal(((const float *)n->data)[i], want[i], 0);
    assert_true(str_is(&g, "tokenizer.chat_template", "D"));
    assert_true(str_is(&g, "tokenizer.huggingface.json", "{}"));
    assert_int_equal(u(&g, "tokenizer.ggml.bos_token_id"), 2);
    assert_int_equal(u(&g, "tokenizer.ggml.eos_token_id"), 1);
    const gguf_kv *eos = gguf_find(&g, "tokenizer.huggingface.eos_token_ids");
    assert_non_null(eos);
    assert_int_equal(eos->arr_type, GGUF_TYPE_INT32);
    assert_int_equal(eos->arr_len, 2);
    double v;
    assert_int_equal(gguf_arr_num(eos, 1, &v), 0);
    assert_float_equal(v, 106, 0);
    gguf_close(&g);
    model_dir_free(d);
}

/* Tokenizer files alone; chat_template.jinja beside them. */
static void test_tokenizer_only(void **state) {
    (void)state;
    fresh();
    puts_file("tokenizer.json", "{\"model\":{}}");
    puts_file("tokenizer_config.json", "{\"eos_token\":\"</s>\"}");
    puts_file("chat_template.jinja", "{{ messages }}");
    gguf_file g;
    model_dir *d = open_ok(&g);
    assert_false(model_dir_has_weights(d));
    assert_null(gguf_find(&g, "general.architecture"));
    assert_int_equal(g.n_tensors, 0);
    assert_true(str_is(&g, "tokenizer.chat_template", "{{ messages }}"));
    assert_true(str_is(&g, "tokenizer.huggingface.config_json", "{\"eos_token\":\"</s>\"}"));
    assert_int_equal(model_dir_n_files(d), 3);
    gguf_close(&g);
    model_dir_free(d);
}

/* WebGPT without bias: zeros, and [out][in] matrices taken as they are. */
static void test_webgpt(void **state) {
    (void)state;
    fresh();
    puts_file("params_gpt.json", "{\"n_layer\":1,\"n_head\":1,\"n_embd\":2,\"vocab_size\":3,\"block_size\":4,\"bias\":false}");
    static const struct { const char *name; size_t n; } files[] = {
        {"transformer.wte.weight", 6}, {"transformer.wpe.weight", 8}, {"transformer.ln_f.weight", 2},
        {"transformer.h.0.ln_1.weight", 2}, {"transformer.h.0.attn.c_attn.weight", 12},
        {"transformer.h.0.attn.c_proj.weight", 4}, {"transformer.h.0.ln_2.weight", 2},
        {"transformer.h.0.mlp.c_fc.weight", 16}, {"transformer.h.0.mlp.c_proj.weight", 16},
    };
    float buf[16];
    for (int i = 0; i < 16; i++) buf[i] = (float)i;
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char nm[128];
        snprintf(nm, sizeof nm, "%s_gpt.bin", files[i].name);
        put(nm, buf, files[i].n * 4);
    }
    gguf_file g;
    model_dir *d = open_ok(&g);
    assert_string_equal(model_dir_format(d), "WebGPT folder");
    assert_int_equal(u(&g, "gpt2.context_length"), 4);
    const gguf_tensor *qkv = tensor(&g, "blk.0.attn_qkv.weight"), *b = tensor(&g, "blk.0.ffn_up.bias"),
                      *down = tensor(&g, "blk.0.ffn_down.weight");
    assert_int_equal(qkv->ne[0], 2);
    assert_int_equal(qkv->ne[1], 6);
    assert_float_equal(((const float *)qkv->data)[5], 5, 0);
    assert_int_equal(down->ne[0], 8);
    assert_int_equal(down->ne[1], 2);
    assert_int_equal(b->ne[0], 8);
    for (int i = 0; i < 8; i++) assert_float_equal(((const float *)b->data)[i], 0, 0);
    assert_null(gguf_find_tensor(&g, "output.weight"));
    gguf_close(&g);
    model_dir_free(d);
}

static int cleanup(void **state) {
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_llama_permute),
        cmocka_unit_test(test_gpt2_transpose),
        cmocka_unit_test(test_gemma3_multimodal),
        cmocka_unit_test(test_tokenizer_only),
        cmocka_unit_test(test_webgpt),
    };
    return cmocka_run_group_tests(tests, NULL, cleanup);
}
