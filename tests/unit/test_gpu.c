/* The GPU layer against hand-computed results: a real WGSL kernel runs on
 * the adapter (SwiftShader here), results come back through map/read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gpu/gpu.h"

static gpu_device *dev;

static int setup(void **state) {
    (void)state;
    char err[512];
    gpu_options o = {NULL, -1, 0, 0};
    dev = gpu_open(&o, err, sizeof err);
    if (!dev) fprintf(stderr, "gpu_open: %s\n", err);
    return dev ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    gpu_close(dev);
    return 0;
}

static const char *saxpy =
    "struct P { n: u32, a: f32 }\n"
    "@group(0) @binding(0) var<uniform> p: P;\n"
    "@group(0) @binding(1) var<storage, read> x: array<f32>;\n"
    "@group(0) @binding(2) var<storage, read_write> y: array<f32>;\n"
    "@compute @workgroup_size(64)\n"
    "fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,\n"
    "        @builtin(local_invocation_id) lid: vec3<u32>) {\n"
    "  let i = (wid.x + wid.y * nwg.x) * 64u + lid.x;\n"
    "  if (i < p.n) { y[i] = p.a * x[i] + y[i]; }\n"
    "}\n";

static void run_saxpy(uint32_t n) {
    char err[512];
    gpu_kernel *k = gpu_kernel_create(dev, saxpy, "saxpy", err, sizeof err);
    assert_non_null(k);
    float *x = malloc(n * 4), *y = malloc(n * 4);
    for (uint32_t i = 0; i < n; i++) { x[i] = (float)i; y[i] = 1.0f; }
    struct { uint32_t n; float a; uint32_t pad[2]; } p = {n, 2.0f, {0, 0}};
    gpu_buffer *pb = gpu_buffer_create(dev, sizeof p, GPU_UNIFORM, "p");
    gpu_buffer *xb = gpu_buffer_create(dev, n * 4, GPU_STORAGE, "x");
    gpu_buffer *yb = gpu_buffer_create(dev, n * 4, GPU_STORAGE, "y");
    gpu_buffer *rb = gpu_buffer_create(dev, n * 4, GPU_READBACK, "read");
    gpu_buffer_write(dev, pb, 0, &p, sizeof p);
    gpu_buffer_write(dev, xb, 0, x, n * 4);
    gpu_buffer_write(dev, yb, 0, y, n * 4);
    gpu_binding b[3] = {{pb, 0, 0}, {xb, 0, 0}, {yb, 0, 0}};
    gpu_bindings *g = gpu_bindings_create(dev, k, b, 3, err, sizeof err);
    assert_non_null(g);
    gpu_begin(dev);
    gpu_dispatch_1d(dev, k, g, (n + 63) / 64);
    gpu_copy(dev, yb, 0, rb, 0, n * 4);
    assert_int_equal(gpu_submit(dev, err, sizeof err), 0);
    assert_int_equal(gpu_read_begin(dev, rb, err, sizeof err), 0);
    const void *data = NULL;
    assert_int_equal(gpu_read_poll(dev, rb, 1, &data, err, sizeof err), 1);
    const float *r = data;
    for (uint32_t i = 0; i < n; i++) assert_float_equal(r[i], 2.0f * (float)i + 1.0f, 0.0f);
    gpu_read_end(dev, rb);
    gpu_bindings_free(g);
    gpu_kernel_free(k);
    gpu_buffer_free(pb); gpu_buffer_free(xb); gpu_buffer_free(yb); gpu_buffer_free(rb);
    free(x); free(y);
}

static void test_saxpy_small(void **state) { (void)state; run_saxpy(1000); }

/* More workgroups than one dimension allows: the dispatch splits over y. */
static void test_saxpy_split_dispatch(void **state) {
    (void)state;
    uint32_t maxd = gpu_get_limits(dev)->max_workgroups_per_dim;
    run_saxpy((maxd + 10) * 64);
}

static void test_limits_sane(void **state) {
    (void)state;
    const gpu_limits *L = gpu_get_limits(dev);
    assert_true(L->max_storage_binding >= 128u << 20);
    assert_true(L->max_workgroups_per_dim >= 65535);
    assert_true(L->max_workgroup_storage >= 16384);
    assert_true(strcmp(gpu_adapter(dev)->backend, "Null") != 0);
}

static void test_bad_wgsl_reports_words(void **state) {
    (void)state;
    char err[512] = "";
    gpu_kernel *k = gpu_kernel_create(dev, "@compute @workgroup_size(1) fn main() { let x: f32 = undefined_thing; }",
                                      "broken", err, sizeof err);
    assert_null(k);
    assert_non_null(strstr(err, "broken"));
    assert_non_null(strstr(err, "undefined_thing"));
}

/* Timestamps around each dispatch: one reading per dispatch, in order. */
static void test_profile_counts_dispatches(void **state) {
    (void)state;
    if (!gpu_get_limits(dev)->has_timestamp) skip();
    char err[512];
    gpu_kernel *k = gpu_kernel_create(dev, saxpy, "saxpy", err, sizeof err);
    struct { uint32_t n; float a; uint32_t pad[2]; } p = {64, 1.0f, {0, 0}};
    gpu_buffer *pb = gpu_buffer_create(dev, sizeof p, GPU_UNIFORM, "p");
    gpu_buffer *xb = gpu_buffer_create(dev, 256, GPU_STORAGE, "x"), *yb = gpu_buffer_create(dev, 256, GPU_STORAGE, "y");
    gpu_buffer_write(dev, pb, 0, &p, sizeof p);
    gpu_binding b[3] = {{pb, 0, 0}, {xb, 0, 0}, {yb, 0, 0}};
    gpu_bindings *g = gpu_bindings_create(dev, k, b, 3, err, sizeof err);
    assert_int_equal(gpu_profile_begin(dev, 8, err, sizeof err), 0);
    gpu_begin(dev);
    for (int i = 0; i < 3; i++) gpu_dispatch(dev, k, g, 1, 1, 1);
    assert_int_equal(gpu_submit(dev, err, sizeof err), 0);
    assert_int_equal(gpu_finish(dev, err, sizeof err), 0);
    double ns[8];
    assert_int_equal(gpu_profile_end(dev, ns, 8, err, sizeof err), 3);
    for (int i = 0; i < 3; i++) assert_true(ns[i] >= 0 && ns[i] < 1e10);
    assert_string_equal(gpu_kernel_label(k), "saxpy");
    gpu_bindings_free(g);
    gpu_kernel_free(k);
    gpu_buffer_free(pb); gpu_buffer_free(xb); gpu_buffer_free(yb);
}

static void test_devices_listed(void **state) {
    (void)state;
    gpu_adapter_desc d[8];
    char err[256];
    int n = gpu_list_adapters(NULL, d, 8, err, sizeof err);
    assert_true(n >= 1);
    assert_true(d[0].usable);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limits_sane),
        cmocka_unit_test(test_saxpy_small),
        cmocka_unit_test(test_saxpy_split_dispatch),
        cmocka_unit_test(test_bad_wgsl_reports_words),
        cmocka_unit_test(test_profile_counts_dispatches),
        cmocka_unit_test(test_devices_listed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
