/* wgpt_folder: a model folder handed over in memory a file at a time, as
 * the browser fetches one by URL, loads the model wgpt_model_load makes of
 * the same folder on disk: the same description and logits, bit for bit.
 * The protocol: every file is asked for once, a file given as absent is
 * taken as absent, a name that is not a plain file name (a shard the index
 * places in "../") is never asked for, and the folder may be freed before
 * the model runs. A broken folder gives native's message without the path.
 * The folder: a one-layer Llama of random weights written here as
 * safetensors, with the default model's tokenizer.json. */
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

#include "wgpt.h"

#define DIM 32
#define FFN 64
#define HEADS 2
#define KV_HEADS 1
#define HEAD_DIM 16
#define VOCAB 4096

static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void write_all(const char *dir, const char *name, const void *p, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static void copy_fixture(const char *dir, const char *name) {
    const char *root = getenv("WGPT_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/kjv/hf/%s", root ? root : ".", name);
    size_t n;
    char *p = read_all(path, &n);
    assert_non_null(p);
    write_all(dir, name, p, n);
    free(p);
}

static const char *CONFIG =
    "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", \"vocab_size\": 4096,"
    " \"hidden_size\": 32, \"intermediate_size\": 64, \"num_hidden_layers\": 1, \"num_attention_heads\": 2,"
    " \"num_key_value_heads\": 1, \"head_dim\": 16, \"hidden_act\": \"silu\", \"max_position_embeddings\": 64,"
    " \"rms_norm_eps\": 1e-05, \"rope_theta\": 10000.0, \"tie_word_embeddings\": true, \"bos_token_id\": 0,"
    " \"eos_token_id\": 1, \"torch_dtype\": \"float32\"}";

/* model.safetensors of random F32 weights (norms near 1). */
static void write_weights(const char *dir) {
    static const struct { const char *name; int rows, cols; } T[] = {
        {"model.embed_tokens.weight", VOCAB, DIM},
        {"model.layers.0.input_layernorm.weight", 0, DIM},
        {"model.layers.0.self_attn.q_proj.weight", HEADS * HEAD_DIM, DIM},
        {"model.layers.0.self_attn.k_proj.weight", KV_HEADS * HEAD_DIM, DIM},
        {"model.layers.0.self_attn.v_proj.weight", KV_HEADS * HEAD_DIM, DIM},
        {"model.layers.0.self_attn.o_proj.weight", DIM, HEADS * HEAD_DIM},
        {"model.layers.0.post_attention_layernorm.weight", 0, DIM},
        {"model.layers.0.mlp.gate_proj.weight", FFN, DIM},
        {"model.layers.0.mlp.up_proj.weight", FFN, DIM},
        {"model.layers.0.mlp.down_proj.weight", DIM, FFN},
        {"model.norm.weight", 0, DIM},
    };
    enum { NT = sizeof T / sizeof *T };
    char hdr[4096];
    size_t h = 0, off = 0, total = 0;
    h += (size_t)snprintf(hdr + h, sizeof hdr - h, "{");
    for (int i = 0; i < NT; i++) {
        size_t n = (size_t)(T[i].rows ? T[i].rows : 1) * (size_t)T[i].cols * 4;
        char shape[64];
        if (T[i].rows) snprintf(shape, sizeof shape, "[%d, %d]", T[i].rows, T[i].cols);
        else snprintf(shape, sizeof shape, "[%d]", T[i].cols);
        h += (size_t)snprintf(hdr + h, sizeof hdr - h, "%s\"%s\": {\"dtype\": \"F32\", \"shape\": %s, \"data_offsets\": [%zu, %zu]}",
                              i ? ", " : "", T[i].name, shape, off, off + n);
        off += n;
    }
    h += (size_t)snprintf(hdr + h, sizeof hdr - h, "}");
    while (h % 8) hdr[h++] = ' ';
    total = 8 + h + off;
    uint8_t *file = malloc(total);
    assert_non_null(file);
    for (int i = 0; i < 8; i++) file[i] = (uint8_t)((uint64_t)h >> (8 * i));
    memcpy(file + 8, hdr, h);
    float *w = (float *)(file + 8 + h); /* h is a multiple of 8: aligned as malloc's block */
    uint32_t s = 12345;
    off = 0;
    for (int i = 0; i < NT; i++) {
        size_t n = (size_t)(T[i].rows ? T[i].rows : 1) * (size_t)T[i].cols;
        for (size_t k = 0; k < n; k++) {
            s = s * 1664525u + 1013904223u;
            float u = (float)(s >> 8) / 16777216.0f - 0.5f;
            w[off + k] = T[i].rows ? u * 0.6f : 1.0f + 0.4f * u;
        }
        off += n;
    }
    write_all(dir, "model.safetensors", file, total);
    free(file);
}

static char *make_folder(void) {
    char *dir = strdup("/tmp/wgpt_test_folder_XXXXXX");
    assert_non_null(dir);
    assert_non_null(mkdtemp(dir));
    write_all(dir, "config.json", CONFIG, strlen(CONFIG));
    copy_fixture(dir, "tokenizer.json");
    copy_fixture(dir, "tokenizer_config.json");
    write_weights(dir);
    return dir;
}

static void remove_folder(char *dir) {
    const char *names[] = {"config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors",
                           "model.safetensors.index.json"};
    char path[4096];
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    free(dir);
}

/* wgpt_folder_load driven as the browser drives it, the files read from
 * dir: each asked for once, never a name that leaves the folder. */
static wgpt_status load_by_asking(const char *dir, wgpt_model **m, char *err, size_t errlen, int *rounds) {
    wgpt_folder *f = NULL;
    assert_int_equal(wgpt_folder_create(&f), WGPT_OK);
    char asked[32][256];
    int n_asked = 0;
    wgpt_status st;
    const char *need;
    while ((st = wgpt_folder_load(f, NULL, m, &need, err, errlen)) == WGPT_PENDING) {
        assert_non_null(need);
        assert_null(*m);
        assert_null(strchr(need, '/'));
        assert_true(n_asked < 32);
        for (int i = 0; i < n_asked; i++) assert_string_not_equal(asked[i], need);
        snprintf(asked[n_asked++], sizeof asked[0], "%s", need);
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, need);
        size_t len;
        char *bytes = read_all(path, &len);
        if (!bytes) {
            assert_int_equal(wgpt_folder_absent(f, need), WGPT_OK);
            continue;
        }
        uint8_t *space;
        assert_int_equal(wgpt_folder_add_space(f, need, len, &space), WGPT_OK);
        memcpy(space, bytes, len);
        free(bytes);
    }
    *rounds = n_asked;
    wgpt_folder_free(f); /* before the model is used: it keeps nothing of the folder */
    return st;
}

static void test_same_model(void **state) {
    (void)state;
    char *dir = make_folder();
    char err[1024];
    wgpt_model *disk = NULL, *mem = NULL;
    wgpt_status st = wgpt_model_load(dir, NULL, &disk, err, sizeof err);
    if (st != WGPT_OK) print_error("%s\n", err);
    assert_int_equal(st, WGPT_OK);
    int rounds = 0;
    st = load_by_asking(dir, &mem, err, sizeof err, &rounds);
    if (st != WGPT_OK) print_error("%s\n", err);
    assert_int_equal(st, WGPT_OK);
    assert_true(rounds >= 4); /* config.json, the two tokenizer files, model.safetensors at least */
    assert_string_equal(wgpt_model_desc(mem), wgpt_model_desc(disk));

    int32_t *ids;
    size_t n;
    const char *text = "In the beginning God created the heaven and the earth.";
    assert_int_equal(wgpt_tokenize(disk, text, strlen(text), 1, 0, &ids, &n, err, sizeof err), WGPT_OK);
    assert_true(n > 4);
    float *a = malloc(n * VOCAB * sizeof *a), *b = malloc(n * VOCAB * sizeof *b);
    assert_non_null(a);
    assert_non_null(b);
    wgpt_model *ms[2] = {disk, mem};
    float *outs[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        wgpt_context_params cp;
        wgpt_context_params_default(&cp);
        cp.logits_all = 1;
        cp.n_ctx = 64;
        wgpt_context *c = NULL;
        assert_int_equal(wgpt_context_create(ms[k], &cp, &c, err, sizeof err), WGPT_OK);
        assert_int_equal(wgpt_eval_logits(c, ids, n, outs[k]), WGPT_OK);
        wgpt_context_free(c);
    }
    assert_memory_equal(a, b, n * VOCAB * sizeof *a);
    free(a);
    free(b);
    wgpt_free(ids);
    wgpt_model_free(mem);
    wgpt_model_free(disk);
    remove_folder(dir);
}

/* The message of wgpt_model_load on dir, less its "dir: " prefix. */
static void native_reason(const char *dir, char *out, size_t cap) {
    wgpt_model *m = NULL;
    char err[1024];
    assert_int_not_equal(wgpt_model_load(dir, NULL, &m, err, sizeof err), WGPT_OK);
    size_t k = strlen(dir);
    assert_int_equal(strncmp(err, dir, k), 0);
    snprintf(out, cap, "%s", err + k + 2);
}

static void test_broken_folders(void **state) {
    (void)state;
    char *dir = make_folder();
    char err[1024], want[1024];
    wgpt_model *m = NULL;
    int rounds;
    /* A shard the index places outside the folder: refused, never asked for. */
    const char *index = "{\"metadata\": {}, \"weight_map\": {\"model.embed_tokens.weight\": \"../wgpt_no_such_file.safetensors\"}}";
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    char moved[4096];
    snprintf(moved, sizeof moved, "%s.moved", dir);
    assert_int_equal(rename(path, moved), 0);
    write_all(dir, "model.safetensors.index.json", index, strlen(index));
    native_reason(dir, want, sizeof want);
    assert_int_equal(load_by_asking(dir, &m, err, sizeof err, &rounds), WGPT_ERR_FORMAT);
    assert_null(m);
    assert_string_equal(err, want);
    assert_non_null(strstr(err, "not a plain file name"));
    /* A file the index names that the folder does not have. */
    index = "{\"metadata\": {}, \"weight_map\": {\"model.embed_tokens.weight\": \"model-00001-of-00001.safetensors\"}}";
    write_all(dir, "model.safetensors.index.json", index, strlen(index));
    native_reason(dir, want, sizeof want);
    assert_int_equal(load_by_asking(dir, &m, err, sizeof err, &rounds), WGPT_ERR_IO);
    assert_string_equal(err, want);
    assert_non_null(strstr(err, "no such file"));
    assert_int_equal(rename(moved, path), 0);
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    unlink(path);
    /* A malformed config.json. */
    const char *bad = "{\"model_type\": \"llama\", \"hidden_size\": ";
    write_all(dir, "config.json", bad, strlen(bad));
    native_reason(dir, want, sizeof want);
    assert_int_equal(load_by_asking(dir, &m, err, sizeof err, &rounds), WGPT_ERR_FORMAT);
    assert_string_equal(err, want);
    assert_non_null(strstr(err, "config.json"));
    remove_folder(dir);
}

static void test_args(void **state) {
    (void)state;
    wgpt_folder *f = NULL;
    wgpt_model *m = NULL;
    const char *need = "x";
    uint8_t *p;
    char err[256];
    assert_int_equal(wgpt_folder_create(NULL), WGPT_ERR_ARG);
    assert_int_equal(wgpt_folder_load(NULL, NULL, &m, &need, err, sizeof err), WGPT_ERR_ARG);
    assert_null(need);
    assert_int_equal(wgpt_folder_create(&f), WGPT_OK);
    assert_int_equal(wgpt_folder_add(f, "a", NULL, 3), WGPT_ERR_ARG);
    assert_int_equal(wgpt_folder_add(f, NULL, "abc", 3), WGPT_ERR_ARG);
    assert_int_equal(wgpt_folder_add_space(f, "a", 3, NULL), WGPT_ERR_ARG);
    /* A name given again replaces what it was. */
    assert_int_equal(wgpt_folder_add(f, "config.json", "{}", 2), WGPT_OK);
    assert_int_equal(wgpt_folder_absent(f, "config.json"), WGPT_OK);
    assert_int_equal(wgpt_folder_add_space(f, "config.json", 0, &p), WGPT_OK);
    assert_non_null(p);
    assert_int_equal(wgpt_folder_load(f, NULL, NULL, &need, err, sizeof err), WGPT_ERR_ARG);
    wgpt_folder_free(f);
    wgpt_folder_free(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_args),
        cmocka_unit_test(test_same_model),
        cmocka_unit_test(test_broken_folders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
