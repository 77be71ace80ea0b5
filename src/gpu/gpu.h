/* wgpt's small GPU interface: buffers, compute pipelines from WGSL, bind
 * groups, dispatch, submit and asynchronous read-back. Everything above this
 * line (models, sampling, CLI) talks only to it; the native implementation
 * is over webgpu.h (gpu_webgpu.c), a browser one can sit over navigator.gpu.
 * Nothing here blocks except where a `wait` argument asks for it, so that a
 * caller in the browser can drive work step by step. */
#ifndef WGPT_GPU_H
#define WGPT_GPU_H

#include <stddef.h>
#include <stdint.h>

typedef struct gpu_device gpu_device;
typedef struct gpu_buffer gpu_buffer;
typedef struct gpu_kernel gpu_kernel;
typedef struct gpu_bindings gpu_bindings;

typedef struct {
    char name[160];
    char backend[16];      /* "Vulkan", "Metal", "D3D12", "Null", ... */
    char kind[16];         /* "discrete", "integrated", "cpu", "unknown" */
    char driver[160];
    uint32_t vendor_id, device_id;
    int usable;            /* 0: refused, reason in why */
    char why[160];
} gpu_adapter_desc;

typedef struct {
    uint64_t max_storage_binding;   /* maxStorageBufferBindingSize */
    uint64_t split_binding;         /* weights larger than this are split (the limit, or a smaller override) */
    uint64_t max_buffer_size;
    uint32_t max_workgroup_storage;
    uint32_t max_invocations;
    uint32_t max_workgroups_per_dim;
    uint32_t min_storage_offset_align;
    uint32_t min_uniform_offset_align;
    uint32_t max_storage_buffers;   /* maxStorageBuffersPerShaderStage */
    int has_subgroups, has_f16, has_timestamp;
    uint32_t subgroup_min, subgroup_max;
} gpu_limits;

/* Where diagnostics go: one line a call, level 2 (WGPT_LOG_INFO) for
 * which adapter was chosen and why others were not. Nothing here prints. */
typedef struct {
    void (*fn)(void *user, int level, const char *msg);
    void *user;
} gpu_log;

typedef struct {
    const char *lib_path;        /* NULL: $WGPT_WEBGPU_LIB, then the bundled Dawn, then the system */
    int adapter_index;           /* -1: choose automatically */
    uint64_t max_binding_override; /* 0: none; else pretend maxStorageBufferBindingSize is this (tests) */
    const gpu_log *log;          /* NULL: diagnostics are dropped */
} gpu_options;

/* Lists adapters in the order --device indexes them. Returns count or -1. */
int gpu_list_adapters(const char *lib_path, gpu_adapter_desc *out, int max, char *err, size_t errlen);

gpu_device *gpu_open(const gpu_options *opt, char *err, size_t errlen);
void gpu_close(gpu_device *d);
const gpu_limits *gpu_get_limits(const gpu_device *d);
const gpu_adapter_desc *gpu_adapter(const gpu_device *d);
/* The first error the device reported since the last call (validation,
 * out-of-memory, device lost), in words; NULL if none. Clears it. */
const char *gpu_take_error(gpu_device *d);

enum { GPU_STORAGE = 1, GPU_UNIFORM = 2, GPU_READBACK = 4, GPU_COPY_SRC = 8, GPU_QUERY_RESOLVE = 16 };
gpu_buffer *gpu_buffer_create(gpu_device *d, uint64_t size, unsigned usage, const char *label);
void gpu_buffer_free(gpu_buffer *b);
uint64_t gpu_buffer_size(const gpu_buffer *b);
void gpu_buffer_write(gpu_device *d, gpu_buffer *b, uint64_t offset, const void *data, size_t size);

/* Compiles WGSL; entry point "main". Errors (compile or validation) come back in words. */
gpu_kernel *gpu_kernel_create(gpu_device *d, const char *wgsl, const char *label, char *err, size_t errlen);
void gpu_kernel_free(gpu_kernel *k);

typedef struct { gpu_buffer *buf; uint64_t offset, size; /* size 0: to the end */ } gpu_binding;
/* Binds b[i] at @group(0) @binding(i). */
gpu_bindings *gpu_bindings_create(gpu_device *d, gpu_kernel *k, const gpu_binding *b, int n, char *err, size_t errlen);
void gpu_bindings_free(gpu_bindings *g);

/* Recording: one command buffer per gpu_begin/gpu_submit. */
void gpu_begin(gpu_device *d);
void gpu_dispatch(gpu_device *d, gpu_kernel *k, gpu_bindings *g, uint32_t x, uint32_t y, uint32_t z);
void gpu_copy(gpu_device *d, gpu_buffer *src, uint64_t src_off, gpu_buffer *dst, uint64_t dst_off, uint64_t size);
int gpu_submit(gpu_device *d, char *err, size_t errlen);

/* Splits a 1-D workgroup count over x and y within the per-dimension limit;
 * kernels recover the linear index as wid.x + wid.y * nwg.x. */
void gpu_dispatch_1d(gpu_device *d, gpu_kernel *k, gpu_bindings *g, uint32_t count);

/* Asynchronous read-back of a GPU_READBACK buffer (filled by gpu_copy). */
int gpu_read_begin(gpu_device *d, gpu_buffer *b, char *err, size_t errlen);
/* 1: mapped, *data valid until gpu_read_end; 0: pending; -1: error. */
int gpu_read_poll(gpu_device *d, gpu_buffer *b, int wait, const void **data, char *err, size_t errlen);
void gpu_read_end(gpu_device *d, gpu_buffer *b);

/* Profiling (needs timestamp-query): while on, every dispatch runs in a
 * pass of its own with timestamps around it, so its GPU time can be read
 * back after the submit has finished. Costs speed; for measurement only. */
int gpu_profile_begin(gpu_device *d, int max_dispatches, char *err, size_t errlen);
/* After gpu_submit and gpu_finish: nanoseconds of each dispatch since
 * gpu_profile_begin, in order; returns the count, or -1. Turns profiling off. */
int gpu_profile_end(gpu_device *d, double *ns, int max, char *err, size_t errlen);
const char *gpu_kernel_label(const gpu_kernel *k);

/* Waits until all submitted work has finished (for timing and tests). */
int gpu_finish(gpu_device *d, char *err, size_t errlen);

#endif
