/* The browser GPU layer: gpu.h over navigator.gpu. Every call goes to a
 * small JS import module "wgpu" (src/web/wgpt.js) that holds the GPUDevice
 * the page created, and keeps WebGPU objects in a table indexed by the
 * integers stored here. Nothing blocks: WebGPU reports errors and map
 * completions later, through promises; the JS side records them and this
 * file polls (gpu_take_error, gpu_read_poll), so the caller in JS awaits
 * between steps instead of spinning.
 *
 * Compiled only for WebAssembly (`make web`); in a native build this file
 * is empty, gpu_webgpu.c is the implementation there. */
#ifdef __wasm__

#include "gpu/gpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"
#include "util/util.h"

#define WGPU_IMPORT(name) __attribute__((import_module("wgpu"), import_name(#name)))

/* Limits in the order wgpt.js writes them (see `limits` there). */
enum {
    L_MAX_STORAGE_BINDING, L_MAX_BUFFER, L_MAX_WG_STORAGE, L_MAX_INVOCATIONS, L_MAX_WG_PER_DIM,
    L_MIN_STORAGE_ALIGN, L_MIN_UNIFORM_ALIGN, L_SUBGROUPS, L_F16, L_TIMESTAMP, L_SUBGROUP_MIN, L_SUBGROUP_MAX,
    L_MAX_STORAGE_BUFFERS, L_COUNT
};
enum { S_NAME, S_BACKEND, S_KIND, S_DRIVER };

WGPU_IMPORT(limits) int js_limits(double *out, int n);
WGPU_IMPORT(adapter_str) int js_adapter_str(int which, char *buf, int cap);
WGPU_IMPORT(buffer_create) int js_buffer_create(double size, int usage, const char *label);
WGPU_IMPORT(buffer_destroy) void js_buffer_destroy(int h);
WGPU_IMPORT(buffer_write) void js_buffer_write(int h, double offset, const void *data, int size);
WGPU_IMPORT(kernel_create) int js_kernel_create(const char *wgsl, int len, const char *label);
WGPU_IMPORT(release) void js_release(int h);
WGPU_IMPORT(bindings_create) int js_bindings_create(int kernel, const double *entries, int n);
WGPU_IMPORT(dispatch) void js_dispatch(int kernel, int bindings, int x, int y, int z);
WGPU_IMPORT(copy) void js_copy(int src, double src_off, int dst, double dst_off, double size);
WGPU_IMPORT(submit) int js_submit(void);
WGPU_IMPORT(read_begin) int js_read_begin(int h, void *dst, double size);
WGPU_IMPORT(read_state) int js_read_state(int h);
WGPU_IMPORT(read_end) void js_read_end(int h);
WGPU_IMPORT(take_error) int js_take_error(char *buf, int cap);

struct gpu_buffer {
    gpu_device *dev;
    int h;
    uint64_t size;
    unsigned usage;
    int map_state; /* 0 idle, 1 pending, 2 mapped */
    void *host;    /* read-back copy, filled by JS when the map completes */
};

struct gpu_kernel { gpu_device *dev; int h; char label[128]; };
struct gpu_bindings { gpu_device *dev; int h; };

struct gpu_device {
    gpu_adapter_desc desc;
    gpu_limits limits;
    char error[512];
};

static void adapter_desc(gpu_adapter_desc *d) {
    memset(d, 0, sizeof *d);
    js_adapter_str(S_NAME, d->name, (int)sizeof d->name);
    js_adapter_str(S_BACKEND, d->backend, (int)sizeof d->backend);
    js_adapter_str(S_KIND, d->kind, (int)sizeof d->kind);
    js_adapter_str(S_DRIVER, d->driver, (int)sizeof d->driver);
    d->usable = 1;
}

int gpu_list_adapters(const char *lib_path, gpu_adapter_desc *out, int max, char *err, size_t errlen) {
    (void)lib_path;
    double l[L_COUNT];
    if (js_limits(l, L_COUNT) != 0) { set_err(err, errlen, "no WebGPU device: the page has not created one"); return -1; }
    if (max < 1) return 0;
    adapter_desc(&out[0]);
    return 1;
}

gpu_device *gpu_open(const gpu_options *opt, char *err, size_t errlen) {
    double l[L_COUNT];
    if (js_limits(l, L_COUNT) != 0) { set_err(err, errlen, "no WebGPU device: the page has not created one"); return NULL; }
    if (opt && opt->adapter_index > 0) {
        set_err(err, errlen, "device %d: the browser offers only the one adapter the page chose", opt->adapter_index);
        return NULL;
    }
    gpu_device *d = calloc(1, sizeof *d);
    if (!d) { set_err(err, errlen, "out of memory"); return NULL; }
    adapter_desc(&d->desc);
    gpu_limits *L = &d->limits;
    L->max_storage_binding = (uint64_t)l[L_MAX_STORAGE_BINDING];
    L->split_binding = L->max_storage_binding;
    if (opt && opt->max_binding_override && opt->max_binding_override < L->split_binding)
        L->split_binding = opt->max_binding_override;
    L->max_buffer_size = (uint64_t)l[L_MAX_BUFFER];
    L->max_workgroup_storage = (uint32_t)l[L_MAX_WG_STORAGE];
    L->max_invocations = (uint32_t)l[L_MAX_INVOCATIONS];
    L->max_workgroups_per_dim = (uint32_t)l[L_MAX_WG_PER_DIM];
    L->min_storage_offset_align = (uint32_t)l[L_MIN_STORAGE_ALIGN];
    L->min_uniform_offset_align = (uint32_t)l[L_MIN_UNIFORM_ALIGN];
    L->has_subgroups = l[L_SUBGROUPS] != 0;
    L->max_storage_buffers = (uint32_t)l[L_MAX_STORAGE_BUFFERS];
    L->has_f16 = l[L_F16] != 0;
    L->has_timestamp = 0; /* the profiler's blocking read-back has no browser form */
    L->subgroup_min = (uint32_t)l[L_SUBGROUP_MIN];
    L->subgroup_max = (uint32_t)l[L_SUBGROUP_MAX];
    if (opt && opt->log && opt->log->fn) {
        char line[512];
        snprintf(line, sizeof line, "adapter %s (%s), binding limit %llu", text_show_z(d->desc.name),
                 text_show_z(d->desc.backend), (unsigned long long)L->max_storage_binding);
        opt->log->fn(opt->log->user, 2 /* WGPT_LOG_INFO */, line);
    }
    if (L->max_workgroups_per_dim == 0 || L->max_storage_binding == 0) {
        set_err(err, errlen, "the WebGPU device reported no compute limits");
        free(d);
        return NULL;
    }
    return d;
}

/* The GPUDevice belongs to the page (it may load another model on it);
 * closing forgets it here, and wgpt.js destroys it in WGPT.destroy(). */
void gpu_close(gpu_device *d) { free(d); }

const gpu_limits *gpu_get_limits(const gpu_device *d) { return &d->limits; }
const gpu_adapter_desc *gpu_adapter(const gpu_device *d) { return &d->desc; }

const char *gpu_take_error(gpu_device *d) {
    static char copy[512];
    if (!d->error[0]) js_take_error(d->error, (int)sizeof d->error);
    if (!d->error[0]) return NULL;
    memcpy(copy, d->error, sizeof copy);
    d->error[0] = 0;
    return copy;
}

gpu_buffer *gpu_buffer_create(gpu_device *d, uint64_t size, unsigned usage, const char *label) {
    size = (size + 15) & ~(uint64_t)15;
    if (size == 0) size = 16;
    gpu_buffer *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    if (usage & GPU_READBACK) {
        if (size > (uint64_t)1 << 31 || !(b->host = malloc((size_t)size))) { free(b); return NULL; }
    }
    b->h = js_buffer_create((double)size, (int)usage, label ? label : "");
    if (!b->h) { free(b->host); free(b); return NULL; }
    b->dev = d;
    b->size = size;
    b->usage = usage;
    return b;
}

void gpu_buffer_free(gpu_buffer *b) {
    if (!b) return;
    js_buffer_destroy(b->h);
    free(b->host);
    free(b);
}

uint64_t gpu_buffer_size(const gpu_buffer *b) { return b->size; }

void gpu_buffer_write(gpu_device *d, gpu_buffer *b, uint64_t offset, const void *data, size_t size) {
    (void)d;
    /* writeBuffer wants sizes in multiples of 4; pad the tail. */
    size_t body = size & ~(size_t)3;
    if (body) js_buffer_write(b->h, (double)offset, data, (int)body);
    if (size > body) {
        uint8_t tail[4] = {0};
        memcpy(tail, (const uint8_t *)data + body, size - body);
        js_buffer_write(b->h, (double)(offset + body), tail, 4);
    }
}

/* Compile errors arrive later (getCompilationInfo, popErrorScope): JS
 * records them as "kernel LABEL: ..." and gpu_take_error reports them. Only
 * errors thrown at once (a malformed descriptor) come back here. */
gpu_kernel *gpu_kernel_create(gpu_device *d, const char *wgsl, const char *label, char *err, size_t errlen) {
    gpu_kernel *k = calloc(1, sizeof *k);
    if (!k) { set_err(err, errlen, "out of memory"); return NULL; }
    snprintf(k->label, sizeof k->label, "%s", label ? label : "");
    k->h = js_kernel_create(wgsl, (int)strlen(wgsl), k->label);
    if (!k->h) {
        const char *e = gpu_take_error(d);
        set_err(err, errlen, "kernel %s: %s", k->label, e ? e : "pipeline creation failed");
        free(k);
        return NULL;
    }
    k->dev = d;
    return k;
}

void gpu_kernel_free(gpu_kernel *k) {
    if (!k) return;
    js_release(k->h);
    free(k);
}

const char *gpu_kernel_label(const gpu_kernel *k) { return k->label; }

gpu_bindings *gpu_bindings_create(gpu_device *d, gpu_kernel *k, const gpu_binding *b, int n, char *err, size_t errlen) {
    if (n > 16) { set_err(err, errlen, "too many bindings (%d)", n); return NULL; }
    double e[16 * 3];
    for (int i = 0; i < n; i++) {
        e[3 * i] = b[i].buf->h;
        e[3 * i + 1] = (double)b[i].offset;
        e[3 * i + 2] = (double)(b[i].size ? b[i].size : b[i].buf->size - b[i].offset);
    }
    int h = js_bindings_create(k->h, e, n);
    if (!h) {
        const char *m = gpu_take_error(d);
        set_err(err, errlen, "bind group: %s", m ? m : "creation failed");
        return NULL;
    }
    gpu_bindings *g = calloc(1, sizeof *g);
    if (!g) { js_release(h); set_err(err, errlen, "out of memory"); return NULL; }
    g->dev = d;
    g->h = h;
    return g;
}

void gpu_bindings_free(gpu_bindings *g) {
    if (!g) return;
    js_release(g->h);
    free(g);
}

/* The JS side opens the command encoder and the compute pass lazily. */
void gpu_begin(gpu_device *d) { (void)d; }

void gpu_dispatch(gpu_device *d, gpu_kernel *k, gpu_bindings *g, uint32_t x, uint32_t y, uint32_t z) {
    (void)d;
    js_dispatch(k->h, g->h, (int)x, (int)y, (int)z);
}

void gpu_dispatch_1d(gpu_device *d, gpu_kernel *k, gpu_bindings *g, uint32_t count) {
    uint32_t maxd = d->limits.max_workgroups_per_dim;
    if (count <= maxd) { gpu_dispatch(d, k, g, count, 1, 1); return; }
    /* Callers bound-check the linear index, so rounding up is harmless. */
    uint32_t y = (count + maxd - 1) / maxd;
    uint32_t x = (count + y - 1) / y;
    gpu_dispatch(d, k, g, x, y, 1);
}

void gpu_copy(gpu_device *d, gpu_buffer *src, uint64_t src_off, gpu_buffer *dst, uint64_t dst_off, uint64_t size) {
    (void)d;
    js_copy(src->h, (double)src_off, dst->h, (double)dst_off, (double)((size + 3) & ~3ull));
}

int gpu_submit(gpu_device *d, char *err, size_t errlen) {
    if (js_submit() != 0) {
        const char *e = gpu_take_error(d);
        set_err(err, errlen, "%s", e ? e : "command encoding failed");
        return -1;
    }
    const char *e = gpu_take_error(d);
    if (e) { set_err(err, errlen, "%s", e); return -1; }
    return 0;
}

int gpu_read_begin(gpu_device *d, gpu_buffer *b, char *err, size_t errlen) {
    (void)d;
    if (!(b->usage & GPU_READBACK)) { set_err(err, errlen, "read-back of a buffer made without GPU_READBACK"); return -1; }
    if (b->map_state != 0) { set_err(err, errlen, "read-back already in progress"); return -1; }
    if (js_read_begin(b->h, b->host, (double)b->size) != 0) {
        const char *e = gpu_take_error(d);
        set_err(err, errlen, "read-back failed: %s", e ? e : "mapAsync refused");
        return -1;
    }
    b->map_state = 1;
    return 0;
}

/* Never blocks, whatever `wait` says: the browser's event loop must run for
 * the map to complete, so JS awaits it (WGPT's step loop) and polls again. */
int gpu_read_poll(gpu_device *d, gpu_buffer *b, int wait, const void **data, char *err, size_t errlen) {
    (void)wait;
    if (b->map_state == 2) { *data = b->host; return 1; }
    if (b->map_state != 1) { set_err(err, errlen, "no read-back in progress"); return -1; }
    int s = js_read_state(b->h);
    if (s == 0) return 0;
    if (s < 0) {
        b->map_state = 0;
        const char *e = gpu_take_error(d);
        set_err(err, errlen, "read-back failed: %s", e ? e : "buffer could not be mapped");
        return -1;
    }
    b->map_state = 2;
    *data = b->host;
    return 1;
}

void gpu_read_end(gpu_device *d, gpu_buffer *b) {
    (void)d;
    if (b->map_state == 1) js_read_end(b->h); /* forget a pending map */
    b->map_state = 0;
}

int gpu_profile_begin(gpu_device *d, int max_dispatches, char *err, size_t errlen) {
    (void)d; (void)max_dispatches;
    set_err(err, errlen, "GPU profiling is not available in the browser build");
    return -1;
}

int gpu_profile_end(gpu_device *d, double *ns, int max, char *err, size_t errlen) {
    (void)d; (void)ns; (void)max;
    set_err(err, errlen, "GPU profiling is not available in the browser build");
    return -1;
}

/* Cannot wait in the browser: the queue orders the work anyway, and
 * wgpt.js awaits onSubmittedWorkDone() where it needs completion. Reports
 * the errors known so far. */
int gpu_finish(gpu_device *d, char *err, size_t errlen) {
    js_submit();
    const char *e = gpu_take_error(d);
    if (e) { set_err(err, errlen, "%s", e); return -1; }
    return 0;
}

#else
typedef int gpu_browser_native_build_has_nothing_here;
#endif /* __wasm__ */
