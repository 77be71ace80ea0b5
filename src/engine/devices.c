/* wgpt_list_devices: the GPU layer's adapter list in the public shape. */
#include <string.h>

#include "gpu/gpu.h"
#include "util/util.h"
#include "wgpt.h"

#define MAX_PROBED 16 /* more adapters than this on one machine are not told apart */

static void copy_field(char *dst, size_t cap, const char *src) {
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
}

static void to_public(const gpu_adapter_desc *d, wgpt_device_info *o) {
    memset(o, 0, sizeof *o);
    copy_field(o->name, sizeof o->name, d->name);
    copy_field(o->backend, sizeof o->backend, d->backend);
    copy_field(o->kind, sizeof o->kind, d->kind);
    copy_field(o->driver, sizeof o->driver, d->driver);
    o->vendor_id = d->vendor_id;
    o->device_id = d->device_id;
    o->usable = d->usable;
    copy_field(o->why, sizeof o->why, d->why);
}

wgpt_status wgpt_list_devices(const char *webgpu_lib, wgpt_device_info *out, int max, int *n, char *err,
                              size_t errlen) {
    if (n) *n = 0;
    if (!n || max < 0 || (!out && max > 0)) {
        set_err(err, errlen, "wgpt_list_devices: no %s", n ? "place for the devices" : "place for the count");
        return WGPT_ERR_ARG;
    }
    gpu_adapter_desc d[MAX_PROBED];
    int k = gpu_list_adapters(webgpu_lib, d, max < MAX_PROBED ? max : MAX_PROBED, err, errlen);
    if (k < 0) return WGPT_ERR_GPU;
    for (int i = 0; i < k; i++) to_public(&d[i], &out[i]);
    *n = k;
    return WGPT_OK;
}
