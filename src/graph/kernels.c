#include "graph/kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

extern const struct { const char *name; const char *src; } wgpt_embedded_files[];

static const char *embedded(const char *name) {
    for (int i = 0; wgpt_embedded_files[i].name; i++)
        if (!strcmp(wgpt_embedded_files[i].name, name)) return wgpt_embedded_files[i].src;
    return NULL;
}

/* What each kernel is made of. A per-format kernel takes its weight type's
 * snippet from dtype.c's table; a kernel with variant snippets takes one of
 * them (it declares the step uniform's binding, which comes last). */
static const struct {
    const char *body;
    int reduces, per_format;
    const char *variant[KV_COUNT]; /* NULL: no variants */
} kernel_parts[KERNEL_COUNT] = {
    [KERNEL_MATMUL] = {"matmul.wgsl", 1, 1, {"matmul_nobias.wgsl", "matmul_bias.wgsl"}},
    [KERNEL_EMBED] = {"embed.wgsl", 0, 1, {NULL, NULL}},
    [KERNEL_RMSNORM] = {"rmsnorm.wgsl", 1, 0, {NULL, NULL}},
    [KERNEL_HEAD_RMSNORM] = {"head_rmsnorm.wgsl", 1, 0, {NULL, NULL}},
    [KERNEL_ROPE] = {"rope.wgsl", 0, 0, {NULL, NULL}},
    [KERNEL_ATTENTION] = {"attention.wgsl", 1, 0, {NULL, NULL}},
    [KERNEL_SWIGLU] = {"swiglu.wgsl", 0, 0, {NULL, NULL}},
    [KERNEL_LAYERNORM] = {"layernorm.wgsl", 1, 0, {NULL, NULL}},
    [KERNEL_GELU] = {"gelu.wgsl", 0, 0, {NULL, NULL}},
    [KERNEL_SOFTCAP] = {"softcap.wgsl", 0, 0, {NULL, NULL}},
};

#define WG 64 /* workgroup size of every kernel; common.wgsl says the same */

void kernels_init(kernel_registry *r, gpu_device *d) {
    memset(r, 0, sizeof *r);
    r->dev = d;
    const gpu_limits *L = gpu_get_limits(d);
    r->reduce = "reduce_tree.wgsl";
    r->group_slots = 1;
    r->group_lanes = WG;
    if (L->has_subgroups && L->subgroup_min == L->subgroup_max && L->subgroup_min >= 4 && WG % L->subgroup_min == 0 &&
        !getenv("WGPT_NO_SUBGROUPS")) {
        r->reduce = "reduce_subgroup.wgsl";
        r->group_slots = WG / L->subgroup_min;
        r->group_lanes = L->subgroup_min;
    }
}

void kernels_free(kernel_registry *r) {
    for (int i = 0; i < KERNEL_COUNT; i++)
        for (int f = 0; f < DTYPE_GPU_SLOTS; f++)
            for (int v = 0; v < KV_COUNT; v++) gpu_kernel_free(r->k[i][f][v]);
    memset(r, 0, sizeof *r);
}

/* "matmul q8_0 bias subgroup": the kernel, then each snippet's own part of
 * its file name. */
static void label_part(char *label, size_t cap, const char *file, size_t skip) {
    if (!file) return;
    size_t n = strlen(label);
    snprintf(label + n, cap - n, "%s%.*s", n ? " " : "", (int)strcspn(file + skip, "."), file + skip);
}

gpu_kernel *kernels_get(kernel_registry *r, kernel_id id, int slot, int variant, char *err, size_t errlen) {
    if (id < 0 || id >= KERNEL_COUNT || slot < 0 || slot >= DTYPE_GPU_SLOTS || variant < 0 || variant >= KV_COUNT ||
        (!kernel_parts[id].per_format && slot) || (!kernel_parts[id].variant[0] && variant)) {
        set_err(err, errlen, "no such kernel (%d, format %d, variant %d)", (int)id, slot, variant);
        return NULL;
    }
    gpu_kernel **k = &r->k[id][slot][variant];
    if (*k) return *k;
    const dtype_info *t = dtype_gpu(slot);
    /* The reduction snippet goes first: it may carry `enable` directives. */
    const char *files[5] = {kernel_parts[id].reduces ? r->reduce : NULL, "common.wgsl",
                            kernel_parts[id].per_format ? t->wgsl : NULL, kernel_parts[id].variant[variant],
                            kernel_parts[id].body};
    const char *parts[5];
    size_t len = 1;
    for (int i = 0; i < 5; i++) {
        parts[i] = files[i] ? embedded(files[i]) : "";
        if (!parts[i]) { set_err(err, errlen, "kernel source %s missing", files[i]); return NULL; }
        len += strlen(parts[i]) + 1;
    }
    char *src = malloc(len), *p = src;
    if (!src) { set_err(err, errlen, "out of memory"); return NULL; }
    for (int i = 0; i < 5; i++) p += sprintf(p, "%s\n", parts[i]);
    char label[128] = "";
    label_part(label, sizeof label, files[4], 0);
    label_part(label, sizeof label, kernel_parts[id].per_format ? t->name : NULL, 0);
    if (variant) label_part(label, sizeof label, files[3], strcspn(files[4], ".") + 1); /* "matmul_bias" */
    label_part(label, sizeof label, files[0], strlen("reduce_"));
    *k = gpu_kernel_create(r->dev, src, label, err, errlen);
    free(src);
    return *k;
}
