/* The parts of include/wgpt.h that are not generation: version and status
 * names; the GPU-free file handle on the sample GGUF (every metadata type,
 * array elements, tensors) and on the default model; the CPU reference
 * from a file against the GPU; the vocabulary against the loaded model's
 * tokenizer; the device list; the progress and log callbacks; and two
 * models loaded and run on two threads at once, with fd 2 where it was
 * (the adapter probe parks it). */
#include <math.h>
#include <pthread.h>
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

#include "../fuzz/gguf_build.h"
#include "wgpt.h"

static const char *default_model(void) {
    const char *root = getenv("WGPT_ROOT");
    static char p[4096];
    snprintf(p, sizeof p, "%s/models/default.gguf", root ? root : ".");
    return p;
}

static int str_is(wgpt_str s, const char *c) { return s.len == strlen(c) && !memcmp(s.ptr, c, s.len); }

static void test_version_and_status(void **state) {
    (void)state;
    assert_string_equal(wgpt_version(), WGPT_VERSION);
    const wgpt_status all[] = {WGPT_OK, WGPT_PENDING, WGPT_ERR_IO, WGPT_ERR_FORMAT, WGPT_ERR_UNSUPPORTED,
                               WGPT_ERR_GPU, WGPT_ERR_ARG, WGPT_ERR_CONTEXT_FULL, WGPT_ERR_NOMEM,
                               WGPT_ERR_STATE, WGPT_ERR_NOT_FINITE};
    size_t n = sizeof all / sizeof *all;
    for (size_t i = 0; i < n; i++) {
        const char *s = wgpt_status_str(all[i]);
        assert_non_null(s);
        assert_string_not_equal(s, "unknown status");
        for (size_t j = 0; j < i; j++) assert_string_not_equal(s, wgpt_status_str(all[j]));
    }
    assert_string_equal(wgpt_status_str((wgpt_status)-100), "unknown status");
    wgpt_free(NULL);
    /* No context: a status, not a crash. */
    int32_t t = 1;
    float out[1];
    assert_int_equal(wgpt_eval_logits(NULL, &t, 1, out), WGPT_ERR_ARG);
    assert_int_equal(wgpt_eval_capture(NULL, &t, 1, NULL, NULL), WGPT_ERR_ARG);
    assert_int_equal(wgpt_eval_profile(NULL, &t, 1, NULL, NULL), WGPT_ERR_ARG);
}

/* The sample GGUF of tests/fuzz/gguf_build.h in a temporary file. */
static char *write_sample(void) {
    static char path[] = "/tmp/wgpt_test_api_XXXXXX";
    strcpy(path + sizeof path - 7, "XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    gb b = {0};
    gb_sample(&b, 3, 0);
    assert_int_equal(write(fd, b.p, b.len), (ssize_t)b.len);
    close(fd);
    gb_free(&b);
    return path;
}

static wgpt_meta meta_of(wgpt_file *f, const char *key) {
    wgpt_meta m;
    int64_t i = wgpt_file_meta_find(f, key);
    assert_true(i >= 0);
    assert_int_equal(wgpt_file_meta(f, (uint64_t)i, &m), WGPT_OK);
    assert_true(str_is(m.key, key));
    return m;
}

static void test_file_metadata(void **state) {
    (void)state;
    char *path = write_sample();
    wgpt_file *f = NULL;
    char err[512];
    assert_int_equal(wgpt_file_open(path, &f, err, sizeof err), WGPT_OK);
    unlink(path); /* mapped: the handle no longer needs the name */

    wgpt_file_info info;
    wgpt_file_get_info(f, &info);
    assert_string_equal(info.format, "GGUF");
    assert_int_equal(info.version, 3);
    assert_int_equal(info.n_meta, SAMPLE_N_KV_BASE);
    assert_int_equal(info.n_tensors, SAMPLE_N_TENSORS);
    assert_int_equal(info.alignment, 32);

    wgpt_meta m = meta_of(f, "test.u64");
    assert_int_equal(m.type, WGPT_META_UINT);
    assert_string_equal(m.type_name, "u64");
    assert_true(m.u == (1ull << 40) + 7);
    m = meta_of(f, "test.i64");
    assert_int_equal(m.type, WGPT_META_INT);
    assert_true(m.i == -(int64_t)(1ll << 40));
    m = meta_of(f, "test.i8");
    assert_true(m.type == WGPT_META_INT && m.i == -100);
    m = meta_of(f, "test.f32");
    assert_true(m.type == WGPT_META_F32 && m.f == 1.5);
    m = meta_of(f, "test.f64");
    assert_true(m.type == WGPT_META_F64 && m.f == -3.25);
    m = meta_of(f, "test.bool");
    assert_true(m.type == WGPT_META_BOOL && m.u == 1);
    m = meta_of(f, "test.str");
    assert_true(m.type == WGPT_META_STR && str_is(m.str, "h\xc3\xa9llo\n"));
    m = meta_of(f, "test.empty");
    assert_true(m.type == WGPT_META_STR && m.str.len == 0 && m.str.ptr);
    assert_int_equal(wgpt_file_meta_find(f, "test.absent"), -1);
    assert_int_equal(wgpt_file_meta(f, info.n_meta, &m), WGPT_ERR_ARG);

    /* Arrays: numbers exactly, strings in any order, arrays of arrays refused. */
    int64_t arr = wgpt_file_meta_find(f, "test.arr_i16");
    m = meta_of(f, "test.arr_i16");
    assert_true(m.type == WGPT_META_ARRAY && m.elem_type == WGPT_META_INT && m.n == 3);
    assert_string_equal(m.elem_type_name, "i16");
    const int64_t want[] = {-1, 2, -300};
    for (uint64_t j = 0; j < 3; j++) {
        assert_int_equal(wgpt_file_meta_elem(f, (uint64_t)arr, j, &m), WGPT_OK);
        assert_true(m.type == WGPT_META_INT && m.i == want[j] && m.key.len == 0);
    }
    assert_int_equal(wgpt_file_meta_elem(f, (uint64_t)arr, 3, &m), WGPT_ERR_ARG);
    int64_t tok = wgpt_file_meta_find(f, "tokenizer.ggml.tokens");
    for (int j = 5; j >= 0; j--) {
        assert_int_equal(wgpt_file_meta_elem(f, (uint64_t)tok, (uint64_t)j, &m), WGPT_OK);
        assert_true(m.type == WGPT_META_STR && str_is(m.str, sample_tokens[j]));
    }
    int64_t scores = wgpt_file_meta_find(f, "tokenizer.ggml.scores");
    assert_int_equal(wgpt_file_meta_elem(f, (uint64_t)scores, 4, &m), WGPT_OK);
    assert_true(m.type == WGPT_META_F32 && m.f == -4.0);
    assert_int_equal(wgpt_file_meta_elem(f, (uint64_t)wgpt_file_meta_find(f, "test.nested"), 0, &m),
                     WGPT_ERR_UNSUPPORTED);
    assert_int_equal(wgpt_file_meta_elem(f, (uint64_t)wgpt_file_meta_find(f, "test.u8"), 0, &m), WGPT_ERR_ARG);
    wgpt_file_close(f);
}

static void test_file_tensors(void **state) {
    (void)state;
    char *path = write_sample();
    wgpt_file *f = NULL;
    char err[512];
    assert_int_equal(wgpt_file_open(path, &f, err, sizeof err), WGPT_OK);
    unlink(path);
    wgpt_file_info info;
    wgpt_file_get_info(f, &info);
    sample_data sd;
    sample_tensors(&sd);
    static const char *const types[SAMPLE_N_TENSORS] = {"f32", "f16", "q8_0", "q4_0", "q4_K", "q6_K", "bf16"};
    uint64_t end = 0;
    for (uint64_t i = 0; i < SAMPLE_N_TENSORS; i++) {
        wgpt_tensor_info t;
        assert_int_equal(wgpt_file_tensor(f, i, &t), WGPT_OK);
        assert_true(str_is(t.name, sd.t[i].name));
        assert_int_equal(t.n_dims, sd.t[i].n_dims);
        for (int d = 0; d < 4; d++) assert_int_equal(t.ne[d], sd.t[i].ne[d]);
        assert_string_equal(t.type_name, types[i]);
        assert_int_equal(t.nbytes, sd.t[i].nbytes);
        assert_true(t.offset >= info.data_offset && t.offset % 32 == 0 && t.offset >= end);
        end = t.offset + t.nbytes;
    }
    assert_true(end == info.size);
    wgpt_tensor_info t;
    assert_int_equal(wgpt_file_tensor(f, SAMPLE_N_TENSORS, &t), WGPT_ERR_ARG);
    wgpt_file_close(f);
}

static void test_file_errors(void **state) {
    (void)state;
    wgpt_file *f = (wgpt_file *)1;
    char err[512] = "";
    assert_int_equal(wgpt_file_open(NULL, &f, err, sizeof err), WGPT_ERR_ARG);
    assert_null(f);
    assert_true(err[0]);
    assert_int_equal(wgpt_file_open("/nonexistent/x.gguf", &f, err, sizeof err), WGPT_ERR_IO);
    assert_null(f);
    assert_non_null(strstr(err, "/nonexistent/x.gguf"));
    assert_int_equal(wgpt_file_open("/tmp", &f, NULL, 0), WGPT_ERR_FORMAT); /* no buffer: no message */
    wgpt_file_close(NULL);
    wgpt_vocab_free(NULL);

    /* A well-formed file without a tokenizer: the vocabulary says which file. */
    char path[] = "/tmp/wgpt_test_api_XXXXXX";
    int fd = mkstemp(path);
    gb b = {0};
    gb_header(&b, 3, 0, 1);
    gb_kv_str(&b, "general.architecture", "llama");
    assert_int_equal(write(fd, b.p, b.len), (ssize_t)b.len);
    close(fd);
    gb_free(&b);
    assert_int_equal(wgpt_file_open(path, &f, err, sizeof err), WGPT_OK);
    wgpt_vocab *v = (wgpt_vocab *)1;
    assert_int_equal(wgpt_vocab_open(f, &v, err, sizeof err), WGPT_ERR_FORMAT);
    assert_null(v);
    assert_memory_equal(err, path, strlen(path));
    wgpt_file_close(f);
    unlink(path);
}

typedef struct { int calls, zero_first, monotonic, last_is_total; uint64_t last; int info_lines, adapter_line; } seen;

static void on_progress(void *user, uint64_t done, uint64_t total) {
    seen *s = user;
    if (s->calls++ == 0) s->zero_first = done == 0;
    else if (done < s->last) s->monotonic = 0;
    s->last = done;
    s->last_is_total = done == total;
}

static void on_log(void *user, int level, const char *msg) {
    seen *s = user;
    if (level == WGPT_LOG_INFO) s->info_lines++;
    if (!strncmp(msg, "using adapter ", 14)) s->adapter_line = 1;
    assert_null(strchr(msg, '\n'));
}

static wgpt_model *load(const char *path, seen *s) {
    wgpt_model_params p;
    wgpt_model_params_default(&p);
    if (s) {
        p.progress = on_progress;
        p.log = on_log;
        p.user = s;
    }
    wgpt_model *m = NULL;
    char err[1024];
    wgpt_status st = wgpt_model_load(path, &p, &m, err, sizeof err);
    if (st != WGPT_OK) fail_msg("load: %s", err);
    return m;
}

/* The vocabulary of a file tokenizes as the model loaded from it. */
static void test_vocab_matches_model(void **state) {
    (void)state;
    seen s = {.monotonic = 1};
    wgpt_model *m = load(default_model(), &s);
    assert_true(s.calls >= 2 && s.zero_first && s.monotonic && s.last_is_total);
    assert_true(s.adapter_line && s.info_lines >= 1);

    wgpt_file *f = NULL;
    wgpt_vocab *v = NULL;
    char err[512];
    assert_int_equal(wgpt_file_open(default_model(), &f, err, sizeof err), WGPT_OK);
    assert_int_equal(wgpt_vocab_open(f, &v, err, sizeof err), WGPT_OK);
    wgpt_file_close(f); /* the vocabulary keeps its own copies */
    assert_int_equal(wgpt_vocab_n_tokens(v), wgpt_model_n_vocab(m));

    static const char text[] = "And God said, Let there be light: and there was light. <|eos|>";
    for (int special = 0; special <= 1; special++) {
        int32_t *a = NULL, *b = NULL;
        size_t na = 0, nb = 0;
        assert_int_equal(wgpt_vocab_tokenize(v, text, strlen(text), special, special, &a, &na, err, sizeof err), WGPT_OK);
        assert_int_equal(wgpt_tokenize(m, text, strlen(text), special, special, &b, &nb, err, sizeof err), WGPT_OK);
        assert_int_equal(na, nb);
        assert_memory_equal(a, b, na * sizeof *a);
        for (size_t i = 0; i < na; i++) {
            char pa[64], pb[64];
            int la = wgpt_vocab_token_to_piece(v, a[i], pa, sizeof pa);
            assert_int_equal(la, wgpt_token_to_piece(m, a[i], pb, sizeof pb));
            assert_memory_equal(pa, pb, (size_t)la);
        }
        wgpt_free(a);
        wgpt_free(b);
    }
    assert_int_equal(wgpt_vocab_token_to_piece(v, -1, err, sizeof err), -1);
    int32_t *ids = NULL;
    size_t n = 0;
    assert_int_equal(wgpt_vocab_tokenize(v, "\xff", 1, 0, 0, &ids, &n, err, sizeof err), WGPT_ERR_ARG);
    assert_non_null(strstr(err, "UTF-8"));
    wgpt_vocab_free(v);
    wgpt_model_free(m);
}

typedef struct { int points, logits_rows, logits_width; float *logits; } ref_seen;

static void on_point(void *user, const char *name, int layer, const float *data, int n_tokens, int width) {
    ref_seen *s = user;
    (void)layer;
    s->points++;
    if (strcmp(name, "logits")) return;
    s->logits_rows = n_tokens;
    s->logits_width = width;
    s->logits = malloc((size_t)n_tokens * width * sizeof(float));
    memcpy(s->logits, data, (size_t)n_tokens * width * sizeof(float));
}

/* The CPU reference from the file gives the GPU's logits, and refuses what it cannot run. */
static void test_reference(void **state) {
    (void)state;
    static const int32_t ids[] = {0, 41, 575, 80, 1179};
    enum { N = sizeof ids / sizeof *ids };
    wgpt_file *f = NULL;
    char err[512];
    assert_int_equal(wgpt_file_open(default_model(), &f, err, sizeof err), WGPT_OK);
    ref_seen s = {0};
    assert_int_equal(wgpt_file_reference_capture(f, ids, N, on_point, &s, err, sizeof err), WGPT_OK);
    assert_true(s.points > 6 * 8 && s.logits && s.logits_rows == N);

    wgpt_model *m = load(default_model(), NULL);
    assert_int_equal(s.logits_width, wgpt_model_n_vocab(m));
    wgpt_context_params cp;
    wgpt_context_params_default(&cp);
    cp.logits_all = 1;
    wgpt_context *c = NULL;
    assert_int_equal(wgpt_context_create(m, &cp, &c, err, sizeof err), WGPT_OK);
    float *gpu = malloc((size_t)N * s.logits_width * sizeof(float));
    assert_int_equal(wgpt_eval_logits(c, ids, N, gpu), WGPT_OK);
    float worst = 0;
    for (size_t i = 0; i < (size_t)N * s.logits_width; i++) {
        float d = fabsf(gpu[i] - s.logits[i]);
        if (!(d <= worst)) worst = d;
    }
    assert_true(worst < 1e-2f);
    free(gpu);
    free(s.logits);
    wgpt_context_free(c);
    wgpt_model_free(m);

    const int32_t bad = 4096;
    assert_int_equal(wgpt_file_reference_capture(f, &bad, 1, on_point, &s, err, sizeof err), WGPT_ERR_ARG);
    assert_non_null(strstr(err, "4096"));
    assert_int_equal(wgpt_file_reference_capture(f, ids, 0, on_point, &s, err, sizeof err), WGPT_ERR_ARG);
    assert_int_equal(wgpt_file_reference_capture(f, ids, N, NULL, NULL, err, sizeof err), WGPT_ERR_ARG);
    wgpt_file_close(f);

    /* The sample GGUF has tensors no family runs. */
    char *path = write_sample();
    assert_int_equal(wgpt_file_open(path, &f, err, sizeof err), WGPT_OK);
    unlink(path);
    wgpt_status st = wgpt_file_reference_capture(f, ids, 1, on_point, &s, err, sizeof err);
    assert_true(st == WGPT_ERR_FORMAT || st == WGPT_ERR_UNSUPPORTED);
    assert_true(err[0]);
    wgpt_file_close(f);
}

static void test_devices(void **state) {
    (void)state;
    wgpt_device_info d[16];
    int n = -1;
    char err[1024];
    assert_int_equal(wgpt_list_devices(NULL, d, 16, &n, err, sizeof err), WGPT_OK);
    assert_true(n >= 1 && n <= 16);
    int usable = 0;
    for (int i = 0; i < n; i++) usable += d[i].usable;
    assert_true(usable >= 1);
    assert_true(d[0].usable); /* best first */
    assert_int_equal(wgpt_list_devices(NULL, NULL, 0, &n, err, sizeof err), WGPT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(wgpt_list_devices(NULL, d, 16, NULL, err, sizeof err), WGPT_ERR_ARG);
    assert_int_equal(wgpt_list_devices(NULL, NULL, 4, &n, err, sizeof err), WGPT_ERR_ARG);
    assert_int_equal(wgpt_list_devices("/nonexistent/libwebgpu.so", d, 16, &n, err, sizeof err), WGPT_ERR_GPU);
    assert_int_equal(n, 0);
    assert_non_null(strstr(err, "/nonexistent/libwebgpu.so"));
}

/* ---- two models on two threads ---- */

enum { N_IDS = 8 };
static const int32_t ids[N_IDS] = {41, 575, 80, 1179, 13, 222, 29, 93};

typedef struct { float *logits; size_t n_vocab; wgpt_status st; char err[512]; } run_result;

static void *run_model(void *arg) {
    run_result *r = arg;
    wgpt_model *m = load(default_model(), NULL);
    wgpt_context_params cp;
    wgpt_context_params_default(&cp);
    cp.logits_all = 1;
    cp.n_ctx = 32;
    wgpt_context *c = NULL;
    r->st = wgpt_context_create(m, &cp, &c, r->err, sizeof r->err);
    if (r->st == WGPT_OK) {
        r->n_vocab = (size_t)wgpt_model_n_vocab(m);
        r->logits = malloc(N_IDS * r->n_vocab * sizeof(float));
        r->st = wgpt_eval_logits(c, ids, N_IDS, r->logits);
        if (r->st != WGPT_OK) snprintf(r->err, sizeof r->err, "%s", wgpt_errmsg(c));
    }
    wgpt_context_free(c);
    wgpt_model_free(m);
    return NULL;
}

static void test_two_threads(void **state) {
    (void)state;
    struct stat before, after;
    assert_int_equal(fstat(2, &before), 0);
    run_result alone = {0}, r[2] = {{0}, {0}};
    run_model(&alone);
    assert_int_equal(alone.st, WGPT_OK);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) assert_int_equal(pthread_create(&t[i], NULL, run_model, &r[i]), 0);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 2; i++) {
        if (r[i].st != WGPT_OK) fail_msg("thread %d: %s", i, r[i].err);
        assert_memory_equal(r[i].logits, alone.logits, N_IDS * alone.n_vocab * sizeof(float));
        free(r[i].logits);
    }
    free(alone.logits);
    /* The probes parked fd 2 in turn, and each put it back. */
    assert_int_equal(fstat(2, &after), 0);
    assert_true(before.st_dev == after.st_dev && before.st_ino == after.st_ino);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_and_status),
        cmocka_unit_test(test_file_metadata),
        cmocka_unit_test(test_file_tensors),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_vocab_matches_model),
        cmocka_unit_test(test_reference),
        cmocka_unit_test(test_devices),
        cmocka_unit_test(test_two_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
