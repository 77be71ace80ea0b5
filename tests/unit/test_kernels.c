/* Each WGSL kernel against the CPU, in the manner of llm.c's dev/cuda:
 * random inputs, the kernel's output compared with a plain C computation
 * on the same (dequantized) weights. Covers every weight format, token
 * counts around the kernel's 8-token tile, and row-split weights. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "formats/quant.h"
#include "models/graph.h"
#include "util/util.h"

static gpu_device *dev;
static kernel_set ks;

static int setup(void **state) {
    (void)state;
    char err[512];
    gpu_options o = {NULL, -1, 0, 0};
    if (!(dev = gpu_open(&o, err, sizeof err)) || kernel_set_build(dev, &ks, err, sizeof err) != 0) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    kernel_set_free(&ks);
    gpu_close(dev);
    return 0;
}

static uint64_t rng = 88172645463325252ull;
static float frand(void) { /* xorshift, uniform in [-1, 1) */
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

/* Encodes rows of floats into a ggml type the simple way (ggml's reference
 * quantizers' rules), so the test does not depend on the Python writer. */
static uint8_t *encode(uint32_t type, const float *x, int rows, int cols, uint64_t *nbytes) {
    uint32_t be, bb;
    ggml_type_block(type, &be, &bb);
    uint64_t row_bytes = (uint64_t)cols / be * bb;
    uint8_t *out = calloc((size_t)rows, row_bytes), *p = out;
    for (int r = 0; r < rows; r++)
        for (int b = 0; b < cols / (int)be; b++) {
            const float *v = x + (size_t)r * cols + (size_t)b * be;
            if (type == GGML_TYPE_F32) { memcpy(p, v, 4); p += 4; }
            else if (type == GGML_TYPE_F16) { uint16_t h = f32_to_f16(v[0]); memcpy(p, &h, 2); p += 2; }
            else if (type == GGML_TYPE_Q8_0) {
                float amax = 0;
                for (int i = 0; i < 32; i++) amax = fmaxf(amax, fabsf(v[i]));
                float d = amax / 127, id = d ? 1 / d : 0;
                uint16_t h = f32_to_f16(d);
                memcpy(p, &h, 2);
                for (int i = 0; i < 32; i++) p[2 + i] = (uint8_t)(int8_t)roundf(v[i] * id);
                p += 34;
            } else { /* Q4_0 */
                float amax = 0, max = 0;
                for (int i = 0; i < 32; i++) if (fabsf(v[i]) > amax) { amax = fabsf(v[i]); max = v[i]; }
                float d = max / -8, id = d ? 1 / d : 0;
                uint16_t h = f32_to_f16(d);
                memcpy(p, &h, 2);
                for (int i = 0; i < 16; i++) {
                    int q0 = (int)(v[i] * id + 8.5f), q1 = (int)(v[16 + i] * id + 8.5f);
                    q0 = q0 > 15 ? 15 : q0; q1 = q1 > 15 ? 15 : q1;
                    p[2 + i] = (uint8_t)(q0 | (q1 << 4));
                }
                p += 18;
            }
        }
    *nbytes = (uint64_t)rows * row_bytes;
    return out;
}

static gpu_buffer *upload_f32(const float *x, size_t n) {
    gpu_buffer *b = gpu_buffer_create(dev, n * 4, GPU_STORAGE, "test");
    gpu_buffer_write(dev, b, 0, x, n * 4);
    return b;
}

static float *download(gpu_buffer *b, size_t n) {
    char err[256];
    gpu_buffer *rb = gpu_buffer_create(dev, n * 4, GPU_READBACK, "rb");
    gpu_copy(dev, b, 0, rb, 0, n * 4);
    assert_int_equal(gpu_submit(dev, err, sizeof err), 0);
    const void *data;
    assert_int_equal(gpu_read_begin(dev, rb, err, sizeof err), 0);
    assert_int_equal(gpu_read_poll(dev, rb, 1, &data, err, sizeof err), 1);
    float *out = malloc(n * 4);
    memcpy(out, data, n * 4);
    gpu_read_end(dev, rb);
    gpu_buffer_free(rb);
    return out;
}

/* y = W x for n tokens, optionally accumulating, optionally split. */
static void check_matmul(uint32_t type, int rows, int cols, int n, int accumulate, uint64_t max_binding) {
    float *w = malloc((size_t)rows * cols * 4), *x = malloc((size_t)n * cols * 4), *y0 = malloc((size_t)n * rows * 4);
    for (int i = 0; i < rows * cols; i++) w[i] = frand();
    for (int i = 0; i < n * cols; i++) x[i] = frand();
    for (int i = 0; i < n * rows; i++) y0[i] = frand();
    uint64_t nbytes;
    uint8_t *raw = encode(type, w, rows, cols, &nbytes);
    gguf_tensor t;
    memset(&t, 0, sizeof t);
    t.name = (gguf_str){"w", 1};
    t.n_dims = 2;
    t.ne[0] = (uint64_t)cols;
    t.ne[1] = (uint64_t)rows;
    t.type = type;
    t.nbytes = nbytes;
    t.data = raw;
    /* The reference uses the same dequantized weights the GPU sees. */
    float *wd = malloc((size_t)rows * cols * 4);
    uint64_t row_bytes = nbytes / (uint64_t)rows;
    for (int r = 0; r < rows; r++) assert_int_equal(dequantize_row(type, raw + r * row_bytes, wd + (size_t)r * cols, cols), 0);

    char err[512];
    gpu_device *d = dev;
    gpu_matrix m;
    gpu_options o = {NULL, -1, max_binding, 0};
    gpu_device *split_dev = NULL;
    if (max_binding) { /* a device that pretends to bind little: the upload must split */
        split_dev = gpu_open(&o, err, sizeof err);
        assert_non_null(split_dev);
        d = split_dev;
    }
    kernel_set kk;
    kernel_set *k = &ks;
    if (split_dev) { assert_int_equal(kernel_set_build(d, &kk, err, sizeof err), 0); k = &kk; }
    assert_int_equal(gpu_matrix_upload(d, &t, &m, err, sizeof err), 0);
    if (max_binding) assert_true(m.n_chunks > 1);
    gpu_device *saved = dev;
    dev = d;
    gpu_buffer *xb = upload_f32(x, (size_t)n * cols), *yb = upload_f32(y0, (size_t)n * rows);
    gpu_buffer *step = gpu_buffer_create(d, 16, GPU_UNIFORM, "step");
    step_params sp = {0, (uint32_t)n, 0, (uint32_t)n};
    gpu_buffer_write(d, step, 0, &sp, sizeof sp);
    graph *g = graph_create(d, k, step);
    op_matmul(g, &m, xb, yb, rows, accumulate, 0);
    assert_null(graph_error(g));
    assert_int_equal(graph_replay(g, &sp, 0), 0);
    float *y = download(yb, (size_t)n * rows);
    double worst = 0;
    for (int t_ = 0; t_ < n; t_++)
        for (int r = 0; r < rows; r++) {
            double acc = accumulate ? y0[(size_t)t_ * rows + r] : 0;
            for (int c = 0; c < cols; c++) acc += (double)wd[(size_t)r * cols + c] * x[(size_t)t_ * cols + c];
            double diff = fabs(acc - y[(size_t)t_ * rows + r]);
            if (diff > worst) worst = diff;
        }
    if (worst > 1e-4 * sqrt((double)cols))
        fail_msg("matmul %s rows %d cols %d n %d acc %d: max abs diff %g", ggml_type_name(type), rows, cols, n, accumulate, worst);
    graph_free(g);
    gpu_buffer_free(xb); gpu_buffer_free(yb); gpu_buffer_free(step);
    gpu_matrix_free(&m);
    dev = saved;
    if (split_dev) { kernel_set_free(&kk); gpu_close(split_dev); }
    free(w); free(x); free(y0); free(y); free(wd); free(raw);
}

static const uint32_t types[] = {GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_Q8_0, GGML_TYPE_Q4_0};

static void test_matmul_formats(void **state) {
    (void)state;
    for (int i = 0; i < 4; i++) {
        check_matmul(types[i], 48, 64, 1, 0, 0);
        check_matmul(types[i], 37, 96, 3, 1, 0);
        check_matmul(types[i], 70, 256, 9, 0, 0);   /* more tokens than one tile */
    }
}

static void test_matmul_split(void **state) {
    (void)state;
    for (int i = 0; i < 4; i++) check_matmul(types[i], 100, 128, 2, 1, 4096);
}

/* Both reduction variants: subgroups where the adapter has them at a fixed
 * size, workgroup-memory trees everywhere else. */
static int setup_tree(void **state) {
    setenv("WGPT_NO_SUBGROUPS", "1", 1);
    int rc = setup(state);
    assert_int_equal(ks.group_slots, 1);
    return rc;
}

static int teardown_tree(void **state) {
    unsetenv("WGPT_NO_SUBGROUPS");
    return teardown(state);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matmul_formats),
        cmocka_unit_test(test_matmul_split),
    };
    int failed = cmocka_run_group_tests_name("default reductions", tests, setup, teardown);
    return failed + cmocka_run_group_tests_name("workgroup-tree reductions", tests, setup_tree, teardown_tree);
}
