/* The native GPU layer: webgpu.h (Dawn, or wgpu-native) loaded with dlopen,
 * so the library path can be chosen at run time and nothing links against
 * it at build time. */
#include "gpu/gpu.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gpu/webgpu_abi.h"
#include "util/text.h"
#include "util/util.h"

typedef struct {
    void *handle;
#define X(ret, name, args) ret(*name) args;
    WGPU_FUNCTIONS(X)
#undef X
} wgpu_api;

struct gpu_buffer {
    gpu_device *dev;
    WGPUBuffer buf;
    uint64_t size;
    unsigned usage;
    volatile int map_state; /* 0 idle, 1 pending, 2 mapped, -1 failed; the map callback sets 2 or -1 */
    uint32_t map_status;
};

struct gpu_kernel { gpu_device *dev; WGPUComputePipeline pipeline; WGPUBindGroupLayout layout; char label[128]; };
struct gpu_bindings { gpu_device *dev; WGPUBindGroup group; };

struct gpu_device {
    wgpu_api api;
    WGPUInstance instance;
    WGPUAdapter adapter;
    WGPUDevice device;
    WGPUQueue queue;
    gpu_adapter_desc desc;
    gpu_limits limits;
    WGPUCommandEncoder encoder;
    WGPUComputePassEncoder pass;
    char error[512];
    int lost;
    /* profiling */
    WGPUQuerySet queries;
    gpu_buffer *query_resolve, *query_read;
    int prof_max, prof_n;
};

static const char *const default_libs[] = {
    "libwebgpu_wrapper.so", "libwebgpu_dawn.so", "libwgpu_native.so", NULL,
};

#define BUNDLED_REL "deps/node_modules/bun-webgpu-linux-x64/libwebgpu_wrapper.so"

/* What became of the places the bundled library was looked for, so that a
 * failure names the place and the reason that matter (a file that exists
 * but does not load), not the last system name tried. */
typedef struct {
    char first[PATH_MAX + 128];  /* the first place looked */
    char broken[PATH_MAX + 128]; /* the first place where a file was found but did not load */
    char why[512];               /* dlerror for it */
    int tried;
} bundled_search;

static void *try_bundled(const char *path, bundled_search *bs) {
    if (!bs->tried++) snprintf(bs->first, sizeof bs->first, "%s", path);
    if (access(path, F_OK) != 0) return NULL;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h && !bs->broken[0]) {
        const char *e = dlerror();
        snprintf(bs->broken, sizeof bs->broken, "%s", path);
        snprintf(bs->why, sizeof bs->why, "%s", e ? e : "unknown reason");
    }
    return h;
}

/* The pinned Dawn sits in deps/node_modules of the source tree; find it from
 * $WGPT_ROOT, or from the executable's location (build/, build/tests/). */
static void *open_bundled(bundled_search *bs) {
    char path[PATH_MAX + 128];
    const char *root = getenv("WGPT_ROOT");
    if (root) {
        snprintf(path, sizeof path, "%s/%s", root, BUNDLED_REL);
        void *h = try_bundled(path, bs);
        if (h) return h;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return NULL;
    exe[n] = 0;
    for (int up = 1; up <= 3; up++) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", exe);
        for (int i = 0; i < up; i++) {
            char *slash = strrchr(dir, '/');
            if (!slash) return NULL;
            *slash = 0;
        }
        snprintf(path, sizeof path, "%s/%s", dir, BUNDLED_REL);
        void *h = try_bundled(path, bs);
        if (h) return h;
    }
    return NULL;
}

static int load_api(wgpu_api *api, const char *lib_path, char *err, size_t errlen) {
    memset(api, 0, sizeof *api);
    const char *env = getenv("WGPT_WEBGPU_LIB");
    const char *want = lib_path ? lib_path : env;
    bundled_search bs = {0};
    char system_why[512] = "";
    if (want) api->handle = dlopen(want, RTLD_NOW | RTLD_LOCAL);
    else {
        api->handle = open_bundled(&bs);
        for (int i = 0; !api->handle && default_libs[i]; i++) {
            api->handle = dlopen(default_libs[i], RTLD_NOW | RTLD_LOCAL);
            const char *e = api->handle ? NULL : dlerror();
            if (e && i == 0) snprintf(system_why, sizeof system_why, "%s", e);
        }
    }
    if (!api->handle) {
        if (want) {
            const char *why = dlerror();
            set_err(err, errlen, "cannot load the WebGPU library %s%s: %s", want,
                    lib_path ? "" : " (from WGPT_WEBGPU_LIB)", why ? why : "not found");
        } else if (bs.broken[0]) {
            set_err(err, errlen, "cannot load the bundled WebGPU library %s: %s (run `make deps`, or set WGPT_WEBGPU_LIB)",
                    bs.broken, bs.why);
        } else if (system_why[0] && !strstr(system_why, "No such file")) { /* found on the system, but broken */
            set_err(err, errlen, "cannot load the WebGPU library %s: %s (run `make deps`, or set WGPT_WEBGPU_LIB)",
                    default_libs[0], system_why);
        } else {
            set_err(err, errlen, "cannot find the WebGPU library: %s does not exist%s, and %s is not on the system's "
                    "library path (run `make deps` in the source tree, or set WGPT_ROOT to it or WGPT_WEBGPU_LIB to the library)",
                    bs.tried ? bs.first : BUNDLED_REL,
                    bs.tried > 1 ? " (nor in the folders above)" : "", default_libs[0]);
        }
        return -1;
    }
#define X(ret, name, args)                                                                                 \
    api->name = (ret(*) args)dlsym(api->handle, #name);                                                    \
    if (!api->name) {                                                                                      \
        set_err(err, errlen, "the WebGPU library lacks %s: it is not a webgpu.h implementation of the "    \
                "supported version", #name);                                                               \
        dlclose(api->handle);                                                                              \
        return -1;                                                                                         \
    }
    WGPU_FUNCTIONS(X)
#undef X
    return 0;
}

static WGPUStringView sv(const char *s) { return (WGPUStringView){s, s ? strlen(s) : 0}; }

static void sv_copy(char *dst, size_t cap, WGPUStringView s) {
    size_t n = s.data ? (s.length == WGPU_STRLEN ? strlen(s.data) : s.length) : 0;
    if (n >= cap) n = cap - 1;
    if (n) memcpy(dst, s.data, n);
    dst[n] = 0;
}

/* Polls the instance until *flag is set, sleeping a little between polls;
 * a generous time limit turns a wedged device into an error, not a hang. */
static int wait_flag(wgpu_api *api, WGPUInstance inst, volatile int *flag, double limit_s) {
    double t0 = now_seconds();
    unsigned spins = 0;
    while (!*flag) {
        api->wgpuInstanceProcessEvents(inst);
        if (*flag) break;
        if (++spins > 64) {
            struct timespec ts = {0, spins > 4096 ? 200000 : 20000};
            nanosleep(&ts, NULL);
        }
        if (now_seconds() - t0 > limit_s) return -1;
    }
    return 0;
}

typedef struct { volatile int done; uint32_t status; WGPUAdapter adapter; char msg[256]; } adapter_req;
static void on_adapter(uint32_t status, WGPUAdapter adapter, WGPUStringView message, void *u1, void *u2) {
    (void)u2;
    adapter_req *r = u1;
    r->status = status;
    r->adapter = adapter;
    sv_copy(r->msg, sizeof r->msg, message);
    r->done = 1;
}

static WGPUAdapter request_adapter(wgpu_api *api, WGPUInstance inst, uint32_t backend, uint32_t power, int fallback) {
    WGPURequestAdapterOptions o = {0};
    o.featureLevel = WGPUFeatureLevel_Core;
    o.powerPreference = power;
    o.forceFallbackAdapter = (WGPUBool)fallback;
    o.backendType = backend;
    adapter_req r = {0};
    WGPURequestAdapterCallbackInfo cb = {NULL, WGPUCallbackMode_AllowProcessEvents, on_adapter, &r, NULL};
    api->wgpuInstanceRequestAdapter(inst, &o, cb);
    if (wait_flag(api, inst, &r.done, 60) != 0) return NULL;
    return r.status == WGPURequestAdapterStatus_Success ? r.adapter : NULL;
}

static const char *backend_name(uint32_t b) {
    switch (b) {
    case WGPUBackendType_Null: return "Null";
    case WGPUBackendType_WebGPU: return "WebGPU";
    case WGPUBackendType_D3D11: return "D3D11";
    case WGPUBackendType_D3D12: return "D3D12";
    case WGPUBackendType_Metal: return "Metal";
    case WGPUBackendType_Vulkan: return "Vulkan";
    case WGPUBackendType_OpenGL: return "OpenGL";
    case WGPUBackendType_OpenGLES: return "OpenGLES";
    default: return "unknown";
    }
}

static const char *kind_name(uint32_t t) {
    switch (t) {
    case WGPUAdapterType_DiscreteGPU: return "discrete";
    case WGPUAdapterType_IntegratedGPU: return "integrated";
    case WGPUAdapterType_CPU: return "cpu";
    default: return "unknown";
    }
}

static void describe(wgpu_api *api, WGPUAdapter a, gpu_adapter_desc *d) {
    memset(d, 0, sizeof *d);
    WGPUAdapterInfo info;
    memset(&info, 0, sizeof info);
    if (api->wgpuAdapterGetInfo(a, &info) != WGPUStatus_Success) {
        snprintf(d->name, sizeof d->name, "(no adapter info)");
        return;
    }
    sv_copy(d->name, sizeof d->name, info.device);
    if (!d->name[0]) sv_copy(d->name, sizeof d->name, info.description);
    sv_copy(d->driver, sizeof d->driver, info.description);
    snprintf(d->backend, sizeof d->backend, "%s", backend_name(info.backendType));
    snprintf(d->kind, sizeof d->kind, "%s", kind_name(info.adapterType));
    d->vendor_id = info.vendorID;
    d->device_id = info.deviceID;
    d->usable = 1;
    if (info.backendType == WGPUBackendType_Null) {
        d->usable = 0;
        snprintf(d->why, sizeof d->why, "Dawn's Null backend executes nothing and reads back zeros");
    } else if (info.backendType == WGPUBackendType_OpenGL || info.backendType == WGPUBackendType_OpenGLES) {
        d->usable = 0;
        snprintf(d->why, sizeof d->why, "OpenGL backends offer only compatibility mode");
    }
    api->wgpuAdapterInfoFreeMembers(info);
}

static int rank(const gpu_adapter_desc *d) {
    if (!d->usable) return 9;
    if (!strcmp(d->kind, "discrete")) return 0;
    if (!strcmp(d->kind, "integrated")) return 1;
    if (!strcmp(d->kind, "unknown")) return 2;
    return 3; /* cpu: SwiftShader and the like, last among usable */
}

typedef struct { gpu_adapter_desc desc; WGPUAdapter adapter; } found_adapter;

/* Dawn's Vulkan backend probes for a Wayland display, and libwayland prints
 * "XDG_RUNTIME_DIR is invalid" on every headless machine. That line says
 * nothing about our GPU, so stderr is parked while adapters are probed
 * where that variable is unset (include/wgpt.h tells users so). fd 2 is the
 * process's: two threads probing at once would each save what the other
 * parked, and one would leave stderr on /dev/null for good, so probes take
 * turns. */
static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;

static int quiet_begin(void) {
    if (getenv("XDG_RUNTIME_DIR")) return -1;
    fflush(stderr);
    int saved = dup(2), devnull = open("/dev/null", O_WRONLY);
    if (saved < 0 || devnull < 0) {
        if (saved >= 0) close(saved);
        if (devnull >= 0) close(devnull);
        return -1;
    }
    dup2(devnull, 2);
    close(devnull);
    return saved;
}

static void quiet_end(int saved) {
    if (saved < 0) return;
    dup2(saved, 2);
    close(saved);
}

/* webgpu.h has no enumeration call: ask for each backend and power
 * preference, and keep the distinct answers, best first. */
static int enumerate(wgpu_api *api, WGPUInstance inst, found_adapter *out, int max) {
    /* OpenGL(ES) is not asked for: compatibility mode only, and probing it
     * makes EGL print noise on headless machines. */
    static const uint32_t backends[] = {WGPUBackendType_Vulkan, WGPUBackendType_Metal, WGPUBackendType_D3D12,
                                        WGPUBackendType_Null};
    static const uint32_t powers[] = {WGPUPowerPreference_HighPerformance, WGPUPowerPreference_LowPower};
    pthread_mutex_lock(&probe_lock);
    int n = 0, quiet = quiet_begin();
    for (size_t b = 0; b < sizeof backends / sizeof *backends; b++)
        for (size_t p = 0; p < 2; p++)
            for (int fb = 0; fb < 2; fb++) {
                WGPUAdapter a = request_adapter(api, inst, backends[b], powers[p], fb);
                if (!a) continue;
                gpu_adapter_desc d;
                describe(api, a, &d);
                int dup = 0;
                for (int i = 0; i < n; i++)
                    if (!strcmp(out[i].desc.name, d.name) && !strcmp(out[i].desc.backend, d.backend) &&
                        out[i].desc.device_id == d.device_id)
                        dup = 1;
                if (dup || n == max) { api->wgpuAdapterRelease(a); continue; }
                out[n].desc = d;
                out[n].adapter = a;
                n++;
            }
    quiet_end(quiet);
    pthread_mutex_unlock(&probe_lock);
    for (int i = 1; i < n; i++) /* stable insertion sort by rank */
        for (int j = i; j > 0 && rank(&out[j].desc) < rank(&out[j - 1].desc); j--) {
            found_adapter t = out[j]; out[j] = out[j - 1]; out[j - 1] = t;
        }
    return n;
}

int gpu_list_adapters(const char *lib_path, gpu_adapter_desc *out, int max, char *err, size_t errlen) {
    wgpu_api api;
    if (load_api(&api, lib_path, err, errlen) != 0) return -1;
    WGPUInstance inst = api.wgpuCreateInstance(NULL);
    if (!inst) { set_err(err, errlen, "wgpuCreateInstance failed"); return -1; }
    found_adapter found[16];
    int n = enumerate(&api, inst, found, 16);
    for (int i = 0; i < n; i++) {
        if (i < max) out[i] = found[i].desc;
        api.wgpuAdapterRelease(found[i].adapter);
    }
    api.wgpuInstanceRelease(inst);
    /* Dawn's library is not unloaded: its threads may outlive the instance. */
    return n < max ? n : max;
}

static void record_error(gpu_device *d, const char *what, WGPUStringView message) {
    if (d->error[0]) return;
    char msg[400];
    sv_copy(msg, sizeof msg, message);
    for (char *p = msg; *p; p++) if (*p == '\n' || *p == '\r') *p = ' ';
    snprintf(d->error, sizeof d->error, "%s: %s", what, msg);
}

static void on_device_lost(const WGPUDevice *dev, uint32_t reason, WGPUStringView message, void *u1, void *u2) {
    (void)dev; (void)u2;
    gpu_device *d = u1;
    if (reason == 2 /* destroyed by us */ || reason == 3 /* callback cancelled at shutdown */) return;
    d->lost = 1;
    record_error(d, "GPU device lost", message);
}

static void on_uncaptured(const WGPUDevice *dev, uint32_t type, WGPUStringView message, void *u1, void *u2) {
    (void)dev; (void)u2;
    const char *what = type == WGPUErrorType_OutOfMemory ? "GPU out of memory"
                     : type == WGPUErrorType_Validation  ? "GPU validation error"
                                                         : "GPU error";
    record_error(u1, what, message);
}

typedef struct { volatile int done; uint32_t status; WGPUDevice device; char msg[256]; } device_req;
static void on_device(uint32_t status, WGPUDevice device, WGPUStringView message, void *u1, void *u2) {
    (void)u2;
    device_req *r = u1;
    r->status = status;
    r->device = device;
    sv_copy(r->msg, sizeof r->msg, message);
    r->done = 1;
}

/* One line per adapter through opt->log: the one chosen, then why not the others. */
static void tell_choice(const gpu_options *opt, const found_adapter *found, int n, int pick) {
    if (!opt->log || !opt->log->fn) return;
    char line[1024];
    for (int i = -1; i < n; i++) {
        if (i == pick) continue;
        const gpu_adapter_desc *d = &found[i < 0 ? pick : i].desc;
        if (i < 0) snprintf(line, sizeof line, "using adapter %d: %s (%s, %s)", pick, text_show_z(d->name),
                            text_show_z(d->backend), text_show_z(d->kind));
        else snprintf(line, sizeof line, "  not adapter %d: %s (%s, %s): %s", i, text_show_z(d->name),
                      text_show_z(d->backend), text_show_z(d->kind), d->usable ? "ranked lower" : text_show_z(d->why));
        opt->log->fn(opt->log->user, 2 /* WGPT_LOG_INFO */, line);
    }
}

gpu_device *gpu_open(const gpu_options *opt, char *err, size_t errlen) {
    gpu_options defaults = {NULL, -1, 0, NULL};
    if (!opt) opt = &defaults;
    gpu_device *d = calloc(1, sizeof *d);
    if (!d) { set_err(err, errlen, "out of memory"); return NULL; }
    if (load_api(&d->api, opt->lib_path, err, errlen) != 0) { free(d); return NULL; }
    wgpu_api *api = &d->api;
    d->instance = api->wgpuCreateInstance(NULL);
    if (!d->instance) { set_err(err, errlen, "wgpuCreateInstance failed"); free(d); return NULL; }

    found_adapter found[16];
    int n = enumerate(api, d->instance, found, 16);
    int pick = -1;
    if (opt->adapter_index >= 0) {
        if (opt->adapter_index >= n) {
            set_err(err, errlen, "--device %d: only %d adapter(s) found (see `wgpt devices`)", opt->adapter_index, n);
        } else if (!found[opt->adapter_index].desc.usable) {
            set_err(err, errlen, "--device %d (%s, %s) cannot be used: %s", opt->adapter_index,
                    found[opt->adapter_index].desc.name, found[opt->adapter_index].desc.backend,
                    found[opt->adapter_index].desc.why);
        } else pick = opt->adapter_index;
    } else {
        for (int i = 0; i < n && pick < 0; i++) if (found[i].desc.usable) pick = i;
        if (pick < 0)
            set_err(err, errlen, "no usable GPU adapter (%d found%s); on a machine without a GPU, point "
                    "VK_ICD_FILENAMES at SwiftShader (source scripts/env.sh after `make deps`)",
                    n, n ? ", all refused: see `wgpt devices`" : "");
    }
    if (pick >= 0) tell_choice(opt, found, n, pick);
    for (int i = 0; i < n; i++) if (i != pick) api->wgpuAdapterRelease(found[i].adapter);
    if (pick < 0) { api->wgpuInstanceRelease(d->instance); free(d); return NULL; }
    d->adapter = found[pick].adapter;
    d->desc = found[pick].desc;

    /* Dawn may know more limits than we declare: give it room to write them. */
    struct { WGPULimits l; char spare[512]; } lim;
    memset(&lim, 0, sizeof lim);
    if (api->wgpuAdapterGetLimits(d->adapter, &lim.l) != WGPUStatus_Success) {
        set_err(err, errlen, "cannot read the adapter's limits");
        gpu_close(d);
        return NULL;
    }
    uint32_t features[3];
    size_t nf = 0;
    int sub = api->wgpuAdapterHasFeature(d->adapter, WGPUFeatureName_Subgroups) != 0;
    int f16 = api->wgpuAdapterHasFeature(d->adapter, WGPUFeatureName_ShaderF16) != 0;
    int ts = api->wgpuAdapterHasFeature(d->adapter, WGPUFeatureName_TimestampQuery) != 0;
    if (sub) features[nf++] = WGPUFeatureName_Subgroups;
    if (f16) features[nf++] = WGPUFeatureName_ShaderF16;
    if (ts) features[nf++] = WGPUFeatureName_TimestampQuery;

    /* Dawn rounds timestamps to ~65 µs by default (a browser privacy
     * measure); a native engine wants them exact for its profiler. Only
     * Dawn knows this chained struct, so only Dawn is given it. */
    static const char *const disabled[] = {"timestamp_quantization"};
    /* Workgroup memory is not zeroed before a kernel runs: every kernel
     * writes what it reads first (tests/unit/test_kernels.c would see
     * garbage otherwise), and the zeroing code is most of what SwiftShader
     * takes to build a kernel with a few KB of it (9 KB: 0.8 s against
     * 0.006 s), in every process of the tests. */
    static const char *const always[] = {"disable_workgroup_init"};
    /* WGPT_DAWN_TOGGLES="a,b": more Dawn toggles to enable, for experiments
     * ("disable_robustness" gained ~6% on the H200's matmul kernels: not
     * worth unchecked indices). */
    char tog_buf[256] = "";
    const char *enabled[9] = {always[0]};
    size_t n_enabled = 1;
    const char *tog_env = getenv("WGPT_DAWN_TOGGLES");
    if (tog_env) snprintf(tog_buf, sizeof tog_buf, "%s", tog_env);
    for (char *save = NULL, *t = strtok_r(tog_buf, ",", &save); t && n_enabled < 9; t = strtok_r(NULL, ",", &save))
        enabled[n_enabled++] = t;
    WGPUDawnTogglesDescriptor toggles = {{NULL, WGPUSType_DawnTogglesDescriptor}, n_enabled, enabled, 1, disabled};
    int is_dawn = dlsym(api->handle, "wgpuDawnDrmFormatCapabilitiesFreeMembers") != NULL;
    WGPUDeviceDescriptor dd;
    memset(&dd, 0, sizeof dd);
    if (is_dawn) dd.nextInChain = &toggles.chain;
    dd.label = sv("wgpt");
    dd.requiredFeatureCount = nf;
    dd.requiredFeatures = features;
    dd.requiredLimits = &lim.l; /* everything the adapter offers */
    dd.deviceLostCallbackInfo = (WGPUDeviceLostCallbackInfo){NULL, WGPUCallbackMode_AllowProcessEvents, on_device_lost, d, NULL};
    dd.uncapturedErrorCallbackInfo = (WGPUUncapturedErrorCallbackInfo){NULL, on_uncaptured, d, NULL};
    device_req r = {0};
    WGPURequestDeviceCallbackInfo cb = {NULL, WGPUCallbackMode_AllowProcessEvents, on_device, &r, NULL};
    api->wgpuAdapterRequestDevice(d->adapter, &dd, cb);
    if (wait_flag(api, d->instance, &r.done, 60) != 0 || r.status != WGPURequestDeviceStatus_Success || !r.device) {
        set_err(err, errlen, "cannot create a device on %s: %s", d->desc.name, r.msg[0] ? r.msg : "no answer");
        gpu_close(d);
        return NULL;
    }
    d->device = r.device;
    d->queue = api->wgpuDeviceGetQueue(d->device);

    memset(&lim, 0, sizeof lim);
    api->wgpuDeviceGetLimits(d->device, &lim.l);
    gpu_limits *L = &d->limits;
    L->max_storage_binding = lim.l.maxStorageBufferBindingSize;
    L->split_binding = L->max_storage_binding;
    if (opt->max_binding_override && opt->max_binding_override < L->split_binding)
        L->split_binding = opt->max_binding_override;
    L->max_buffer_size = lim.l.maxBufferSize;
    L->max_workgroup_storage = lim.l.maxComputeWorkgroupStorageSize;
    L->max_invocations = lim.l.maxComputeInvocationsPerWorkgroup;
    L->max_workgroups_per_dim = lim.l.maxComputeWorkgroupsPerDimension;
    L->max_storage_buffers = lim.l.maxStorageBuffersPerShaderStage;
    L->min_storage_offset_align = lim.l.minStorageBufferOffsetAlignment;
    L->min_uniform_offset_align = lim.l.minUniformBufferOffsetAlignment;
    L->has_subgroups = sub;
    L->has_f16 = f16;
    L->has_timestamp = ts;
    WGPUAdapterInfo info;
    memset(&info, 0, sizeof info);
    if (api->wgpuAdapterGetInfo(d->adapter, &info) == WGPUStatus_Success) {
        L->subgroup_min = info.subgroupMinSize;
        L->subgroup_max = info.subgroupMaxSize;
        api->wgpuAdapterInfoFreeMembers(info);
    }
    if (L->max_workgroups_per_dim == 0 || L->max_storage_binding == 0) {
        set_err(err, errlen, "the adapter reported no compute limits (unsupported WebGPU library ABI?)");
        gpu_close(d);
        return NULL;
    }
    return d;
}

void gpu_close(gpu_device *d) {
    if (!d) return;
    wgpu_api *api = &d->api;
    if (d->pass) { api->wgpuComputePassEncoderEnd(d->pass); api->wgpuComputePassEncoderRelease(d->pass); }
    if (d->encoder) api->wgpuCommandEncoderRelease(d->encoder);
    if (d->queue) api->wgpuQueueRelease(d->queue);
    if (d->device) { api->wgpuDeviceDestroy(d->device); api->wgpuDeviceRelease(d->device); }
    if (d->adapter) api->wgpuAdapterRelease(d->adapter);
    if (d->instance) { api->wgpuInstanceProcessEvents(d->instance); api->wgpuInstanceRelease(d->instance); }
    free(d);
}

const gpu_limits *gpu_get_limits(const gpu_device *d) { return &d->limits; }
const gpu_adapter_desc *gpu_adapter(const gpu_device *d) { return &d->desc; }

const char *gpu_take_error(gpu_device *d) {
    static _Thread_local char copy[512];
    d->api.wgpuInstanceProcessEvents(d->instance);
    if (!d->error[0]) return NULL;
    memcpy(copy, d->error, sizeof copy);
    d->error[0] = 0;
    return copy;
}

typedef struct { volatile int done; uint32_t status, type; char msg[1024]; } scope_req;
static void on_scope(uint32_t status, uint32_t type, WGPUStringView message, void *u1, void *u2) {
    (void)u2;
    scope_req *r = u1;
    r->status = status;
    r->type = type;
    sv_copy(r->msg, sizeof r->msg, message);
    r->done = 1;
}

/* Pops the innermost error scope: 0 if it caught nothing, else -1 with
 * its message on one line in msg. */
static int pop_scope(gpu_device *d, char *msg, size_t cap) {
    scope_req r = {0};
    WGPUPopErrorScopeCallbackInfo cb = {NULL, WGPUCallbackMode_AllowProcessEvents, on_scope, &r, NULL};
    d->api.wgpuDevicePopErrorScope(d->device, cb);
    if (wait_flag(&d->api, d->instance, &r.done, 60) != 0) { snprintf(msg, cap, "the device did not answer"); return -1; }
    if (r.type == WGPUErrorType_NoError) return 0;
    for (char *p = r.msg; *p; p++) if (*p == '\n' || *p == '\r') *p = ' ';
    sv_copy(msg, cap, sv(r.msg[0] ? r.msg : "unknown error"));
    return -1;
}

gpu_buffer *gpu_buffer_create(gpu_device *d, uint64_t size, unsigned usage, const char *label) {
    gpu_buffer *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    size = (size + 15) & ~(uint64_t)15;
    if (size == 0) size = 16;
    WGPUBufferDescriptor bd;
    memset(&bd, 0, sizeof bd);
    bd.label = sv(label);
    bd.size = size;
    if (usage & GPU_READBACK) bd.usage = WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst;
    else {
        bd.usage = WGPUBufferUsage_CopyDst | WGPUBufferUsage_CopySrc;
        if (usage & GPU_STORAGE) bd.usage |= WGPUBufferUsage_Storage;
        if (usage & GPU_UNIFORM) bd.usage |= WGPUBufferUsage_Uniform;
        if (usage & GPU_QUERY_RESOLVE) bd.usage |= WGPUBufferUsage_QueryResolve;
    }
    /* Dawn hands back an error object instead of NULL when it cannot make
     * the buffer (out of memory, even within the limits it reports); only
     * an error scope says so here, rather than the first bind group later. */
    d->api.wgpuDevicePushErrorScope(d->device, WGPUErrorFilter_OutOfMemory);
    d->api.wgpuDevicePushErrorScope(d->device, WGPUErrorFilter_Validation);
    b->buf = d->api.wgpuDeviceCreateBuffer(d->device, &bd);
    char invalid[400], oom[400];
    int bad = pop_scope(d, invalid, sizeof invalid), no_memory = pop_scope(d, oom, sizeof oom);
    if (bad || no_memory || !b->buf) {
        if (b->buf) { d->api.wgpuBufferDestroy(b->buf); d->api.wgpuBufferRelease(b->buf); }
        free(b);
        char msg[512], *why = no_memory ? oom : bad ? invalid : NULL;
        /* Dawn's call chain and source location after the reason say nothing to a user. */
        char *chain = why ? strstr(why, " - While ") : NULL;
        if (chain) {
            while (chain > why && chain[-1] == ' ') chain--;
            *chain = 0;
        }
        snprintf(msg, sizeof msg, "buffer %s of %llu bytes: %s", label ? label : "", (unsigned long long)size,
                 why ? why : "not created");
        record_error(d, no_memory ? "GPU out of memory" : "GPU error", (WGPUStringView){msg, strlen(msg)});
        return NULL;
    }
    b->dev = d;
    b->size = size;
    b->usage = usage;
    return b;
}

void gpu_buffer_free(gpu_buffer *b) {
    if (!b) return;
    b->dev->api.wgpuBufferDestroy(b->buf);
    b->dev->api.wgpuBufferRelease(b->buf);
    free(b);
}

uint64_t gpu_buffer_size(const gpu_buffer *b) { return b->size; }

void gpu_buffer_write(gpu_device *d, gpu_buffer *b, uint64_t offset, const void *data, size_t size) {
    /* writeBuffer wants sizes in multiples of 4; pad the tail. */
    size_t body = size & ~(size_t)3;
    if (body) d->api.wgpuQueueWriteBuffer(d->queue, b->buf, offset, data, body);
    if (size > body) {
        uint8_t tail[4] = {0};
        memcpy(tail, (const uint8_t *)data + body, size - body);
        d->api.wgpuQueueWriteBuffer(d->queue, b->buf, offset + body, tail, 4);
    }
}

gpu_kernel *gpu_kernel_create(gpu_device *d, const char *wgsl, const char *label, char *err, size_t errlen) {
    wgpu_api *api = &d->api;
    api->wgpuDevicePushErrorScope(d->device, WGPUErrorFilter_Validation);
    WGPUShaderSourceWGSL src = {{NULL, WGPUSType_ShaderSourceWGSL}, sv(wgsl)};
    WGPUShaderModuleDescriptor md = {&src.chain, sv(label)};
    WGPUShaderModule mod = api->wgpuDeviceCreateShaderModule(d->device, &md);
    WGPUComputePipelineDescriptor pd;
    memset(&pd, 0, sizeof pd);
    pd.label = sv(label);
    pd.compute.module = mod;
    pd.compute.entryPoint = sv("main");
    WGPUComputePipeline pipe = mod ? api->wgpuDeviceCreateComputePipeline(d->device, &pd) : NULL;
    scope_req r = {0};
    WGPUPopErrorScopeCallbackInfo cb = {NULL, WGPUCallbackMode_AllowProcessEvents, on_scope, &r, NULL};
    api->wgpuDevicePopErrorScope(d->device, cb);
    wait_flag(api, d->instance, &r.done, 120);
    if (mod) api->wgpuShaderModuleRelease(mod);
    if (!pipe || !r.done || r.type != WGPUErrorType_NoError) {
        for (char *p = r.msg; *p; p++) if (*p == '\n') *p = ' ';
        set_err(err, errlen, "kernel %s: %s", label, r.msg[0] ? r.msg : "pipeline creation failed");
        if (pipe) api->wgpuComputePipelineRelease(pipe);
        return NULL;
    }
    gpu_kernel *k = calloc(1, sizeof *k);
    if (!k) { api->wgpuComputePipelineRelease(pipe); set_err(err, errlen, "out of memory"); return NULL; }
    k->pipeline = pipe;
    k->dev = d;
    snprintf(k->label, sizeof k->label, "%s", label ? label : "");
    k->layout = api->wgpuComputePipelineGetBindGroupLayout(pipe, 0);
    return k;
}

void gpu_kernel_free(gpu_kernel *k) {
    if (!k) return;
    if (k->layout) k->dev->api.wgpuBindGroupLayoutRelease(k->layout);
    k->dev->api.wgpuComputePipelineRelease(k->pipeline);
    free(k);
}

gpu_bindings *gpu_bindings_create(gpu_device *d, gpu_kernel *k, const gpu_binding *b, int n, char *err, size_t errlen) {
    WGPUBindGroupEntry e[16];
    if (n > 16) { set_err(err, errlen, "too many bindings (%d)", n); return NULL; }
    for (int i = 0; i < n; i++) {
        memset(&e[i], 0, sizeof e[i]);
        e[i].binding = (uint32_t)i;
        e[i].buffer = b[i].buf->buf;
        e[i].offset = b[i].offset;
        e[i].size = b[i].size ? b[i].size : b[i].buf->size - b[i].offset;
    }
    WGPUBindGroupDescriptor bd;
    memset(&bd, 0, sizeof bd);
    bd.layout = k->layout;
    bd.entryCount = (size_t)n;
    bd.entries = e;
    d->api.wgpuDevicePushErrorScope(d->device, WGPUErrorFilter_Validation);
    WGPUBindGroup g = d->api.wgpuDeviceCreateBindGroup(d->device, &bd);
    scope_req r = {0};
    WGPUPopErrorScopeCallbackInfo cb = {NULL, WGPUCallbackMode_AllowProcessEvents, on_scope, &r, NULL};
    d->api.wgpuDevicePopErrorScope(d->device, cb);
    wait_flag(&d->api, d->instance, &r.done, 60);
    if (!g || r.type != WGPUErrorType_NoError) {
        for (char *p = r.msg; *p; p++) if (*p == '\n') *p = ' ';
        set_err(err, errlen, "bind group: %s", r.msg[0] ? r.msg : "creation failed");
        if (g) d->api.wgpuBindGroupRelease(g);
        return NULL;
    }
    gpu_bindings *out = calloc(1, sizeof *out);
    if (!out) { d->api.wgpuBindGroupRelease(g); return NULL; }
    out->dev = d;
    out->group = g;
    return out;
}

void gpu_bindings_free(gpu_bindings *g) {
    if (!g) return;
    g->dev->api.wgpuBindGroupRelease(g->group);
    free(g);
}

void gpu_begin(gpu_device *d) {
    if (d->encoder) return;
    WGPUCommandEncoderDescriptor ed = {NULL, sv("forward")};
    d->encoder = d->api.wgpuDeviceCreateCommandEncoder(d->device, &ed);
}

static void end_pass(gpu_device *d) {
    if (!d->pass) return;
    d->api.wgpuComputePassEncoderEnd(d->pass);
    d->api.wgpuComputePassEncoderRelease(d->pass);
    d->pass = NULL;
}

const char *gpu_kernel_label(const gpu_kernel *k) { return k->label; }

void gpu_dispatch(gpu_device *d, gpu_kernel *k, gpu_bindings *g, uint32_t x, uint32_t y, uint32_t z) {
    gpu_begin(d);
    if (d->queries && d->prof_n < d->prof_max) {
        end_pass(d);
        WGPUPassTimestampWrites tw = {NULL, d->queries, (uint32_t)(2 * d->prof_n), (uint32_t)(2 * d->prof_n + 1)};
        WGPUComputePassDescriptor pd = {NULL, sv("profiled"), &tw};
        d->pass = d->api.wgpuCommandEncoderBeginComputePass(d->encoder, &pd);
        d->api.wgpuComputePassEncoderSetPipeline(d->pass, k->pipeline);
        d->api.wgpuComputePassEncoderSetBindGroup(d->pass, 0, g->group, 0, NULL);
        d->api.wgpuComputePassEncoderDispatchWorkgroups(d->pass, x, y, z);
        end_pass(d);
        d->prof_n++;
        return;
    }
    if (!d->pass) {
        WGPUComputePassDescriptor pd = {NULL, sv(NULL), NULL};
        d->pass = d->api.wgpuCommandEncoderBeginComputePass(d->encoder, &pd);
    }
    d->api.wgpuComputePassEncoderSetPipeline(d->pass, k->pipeline);
    d->api.wgpuComputePassEncoderSetBindGroup(d->pass, 0, g->group, 0, NULL);
    d->api.wgpuComputePassEncoderDispatchWorkgroups(d->pass, x, y, z);
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
    gpu_begin(d);
    end_pass(d);
    d->api.wgpuCommandEncoderCopyBufferToBuffer(d->encoder, src->buf, src_off, dst->buf, dst_off, (size + 3) & ~3ull);
}

int gpu_submit(gpu_device *d, char *err, size_t errlen) {
    if (!d->encoder) return 0;
    end_pass(d);
    if (d->queries && d->prof_n > 0) {
        d->api.wgpuCommandEncoderResolveQuerySet(d->encoder, d->queries, 0, (uint32_t)(2 * d->prof_n),
                                                 d->query_resolve->buf, 0);
        d->api.wgpuCommandEncoderCopyBufferToBuffer(d->encoder, d->query_resolve->buf, 0, d->query_read->buf, 0,
                                                    (uint64_t)d->prof_n * 16);
    }
    WGPUCommandBufferDescriptor cd = {NULL, sv(NULL)};
    WGPUCommandBuffer cmd = d->api.wgpuCommandEncoderFinish(d->encoder, &cd);
    d->api.wgpuCommandEncoderRelease(d->encoder);
    d->encoder = NULL;
    if (!cmd) { set_err(err, errlen, "command encoding failed"); return -1; }
    d->api.wgpuQueueSubmit(d->queue, 1, &cmd);
    d->api.wgpuCommandBufferRelease(cmd);
    const char *e = gpu_take_error(d);
    if (e) { set_err(err, errlen, "%s", e); return -1; }
    return 0;
}

static void on_map(uint32_t status, WGPUStringView message, void *u1, void *u2) {
    (void)message; (void)u2;
    gpu_buffer *b = u1;
    b->map_status = status;
    b->map_state = status == WGPUMapAsyncStatus_Success ? 2 : -1;
}

int gpu_read_begin(gpu_device *d, gpu_buffer *b, char *err, size_t errlen) {
    if (b->map_state != 0) { set_err(err, errlen, "read-back already in progress"); return -1; }
    b->map_state = 1;
    WGPUBufferMapCallbackInfo cb = {NULL, WGPUCallbackMode_AllowProcessEvents, on_map, b, NULL};
    d->api.wgpuBufferMapAsync(b->buf, WGPUMapMode_Read, 0, (size_t)b->size, cb);
    return 0;
}

int gpu_read_poll(gpu_device *d, gpu_buffer *b, int wait, const void **data, char *err, size_t errlen) {
    volatile int flag = 0;
    double t0 = now_seconds();
    unsigned spins = 0;
    for (;;) {
        d->api.wgpuInstanceProcessEvents(d->instance);
        if (b->map_state == 2) break;
        if (b->map_state == -1 || d->lost) {
            const char *e = gpu_take_error(d);
            set_err(err, errlen, "read-back failed: %s", e ? e : "buffer could not be mapped");
            b->map_state = 0;
            return -1;
        }
        if (!wait) return 0;
        if (++spins > 256) {
            struct timespec ts = {0, spins > 8192 ? 200000 : 10000};
            nanosleep(&ts, NULL);
        }
        if (now_seconds() - t0 > 600) { set_err(err, errlen, "GPU did not answer within 600 s"); return -1; }
    }
    (void)flag;
    *data = d->api.wgpuBufferGetConstMappedRange(b->buf, 0, (size_t)b->size);
    if (!*data) { set_err(err, errlen, "mapped range unavailable"); return -1; }
    return 1;
}

void gpu_read_end(gpu_device *d, gpu_buffer *b) {
    if (b->map_state == 1) {
        /* Unmapping aborts a pending map, but its callback still runs later
         * and writes to b: wait for it, or it would mark the buffer mapped
         * (or failed) after the next read began, or after b was freed. */
        d->api.wgpuBufferUnmap(b->buf);
        double t0 = now_seconds();
        while (b->map_state == 1 && now_seconds() - t0 < 10) d->api.wgpuInstanceProcessEvents(d->instance);
    }
    if (b->map_state == 2) d->api.wgpuBufferUnmap(b->buf);
    b->map_state = 0;
}

int gpu_profile_begin(gpu_device *d, int max_dispatches, char *err, size_t errlen) {
    if (!d->limits.has_timestamp) { set_err(err, errlen, "this adapter has no timestamp-query feature"); return -1; }
    if (d->queries || max_dispatches <= 0 || max_dispatches > 2048) { set_err(err, errlen, "bad profiling request"); return -1; }
    WGPUQuerySetDescriptor qd = {NULL, sv("profile"), WGPUQueryType_Timestamp, (uint32_t)(2 * max_dispatches)};
    d->queries = d->api.wgpuDeviceCreateQuerySet(d->device, &qd);
    d->query_resolve = gpu_buffer_create(d, (uint64_t)max_dispatches * 16, GPU_QUERY_RESOLVE, "query resolve");
    d->query_read = gpu_buffer_create(d, (uint64_t)max_dispatches * 16, GPU_READBACK, "query read");
    if (!d->queries || !d->query_resolve || !d->query_read) { set_err(err, errlen, "cannot create timestamp queries"); return -1; }
    d->prof_max = max_dispatches;
    d->prof_n = 0;
    return 0;
}

int gpu_profile_end(gpu_device *d, double *ns, int max, char *err, size_t errlen) {
    if (!d->queries) { set_err(err, errlen, "profiling is not on"); return -1; }
    int n = d->prof_n < max ? d->prof_n : max, rc = n;
    const void *data;
    if (gpu_read_begin(d, d->query_read, err, errlen) != 0 || gpu_read_poll(d, d->query_read, 1, &data, err, errlen) != 1)
        rc = -1;
    else {
        const uint64_t *t = data;
        for (int i = 0; i < n; i++) ns[i] = t[2 * i + 1] > t[2 * i] ? (double)(t[2 * i + 1] - t[2 * i]) : 0.0;
        gpu_read_end(d, d->query_read);
    }
    d->api.wgpuQuerySetRelease(d->queries);
    d->queries = NULL;
    gpu_buffer_free(d->query_resolve);
    gpu_buffer_free(d->query_read);
    d->query_resolve = d->query_read = NULL;
    return rc;
}

static void on_done(uint32_t status, WGPUStringView message, void *u1, void *u2) {
    (void)status; (void)message; (void)u2;
    *(volatile int *)u1 = 1;
}

int gpu_finish(gpu_device *d, char *err, size_t errlen) {
    volatile int done = 0;
    WGPUQueueWorkDoneCallbackInfo cb = {NULL, WGPUCallbackMode_AllowProcessEvents, on_done, (void *)&done, NULL};
    d->api.wgpuQueueOnSubmittedWorkDone(d->queue, cb);
    if (wait_flag(&d->api, d->instance, &done, 600) != 0) { set_err(err, errlen, "GPU did not finish within 600 s"); return -1; }
    const char *e = gpu_take_error(d);
    if (e) { set_err(err, errlen, "%s", e); return -1; }
    return 0;
}
