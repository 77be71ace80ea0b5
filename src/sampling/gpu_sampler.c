/* Sampling on the GPU: see gpu_sampler.h; the kernels are sample_*.wgsl
 * beside this file. */
#include "sampling/gpu_sampler.h"

#include <stdlib.h>
#include <string.h>

#include "util/util.h"

#define SWG 256 /* sample_common.wgsl: lanes a workgroup */
#define PER 16  /* candidates a lane holds */

/* sample_common.wgsl's SampleParams */
typedef struct {
    uint32_t n_vocab, n_allowed, k, greedy;
    float temperature, top_p, min_p, penalty;
    uint32_t n_window;
    float r;
    uint32_t n_groups, pad0;
} sample_params;

struct gpu_sampler {
    gpu_device *dev;
    int n_vocab;
    uint32_t n_groups;                 /* select workgroups: each takes SWG * PER logits */
    gpu_kernel *select, *pick;
    gpu_bindings *select_b, *pick_b;
    gpu_buffer *params, *window, *cand, *result, *logits;
    gpu_buffer *rb[GPU_SAMPLER_SLOTS];   /* the result, read back */
    gpu_buffer *keep[GPU_SAMPLER_SLOTS]; /* the logits of the step in that slot */
    gpu_buffer *logits_rb;               /* a kept row read back, for wgpt_logits */
};

static uint32_t groups_for(int n_vocab) { return (uint32_t)((n_vocab + SWG * PER - 1) / (SWG * PER)); }

/* The pick stage holds every group's k candidates, PER a lane. */
static int k_max(int n_vocab) {
    int k = SWG * PER / (int)groups_for(n_vocab);
    return k < GPU_SAMPLER_K_MAX ? k : GPU_SAMPLER_K_MAX;
}

int gpu_sampler_supports(const wgpt_sampler_params *p, int n_vocab) {
    if (n_vocab <= 0 || k_max(n_vocab) < 1) return 0;
    if (sampler_penalises(p) && (p->repeat_last_n < 0 || p->repeat_last_n > GPU_SAMPLER_WINDOW_MAX)) return 0;
    if (p->temperature <= 0) return 1;
    return p->top_k > 0 && p->top_k < n_vocab && p->top_k <= k_max(n_vocab);
}

gpu_sampler *gpu_sampler_create(gpu_device *d, kernel_registry *k, gpu_buffer *logits, gpu_buffer *ids, int n_vocab,
                                char *err, size_t errlen) {
    gpu_sampler *g = calloc(1, sizeof *g);
    if (!g) { set_err(err, errlen, "out of memory"); return NULL; }
    g->dev = d;
    g->n_vocab = n_vocab;
    g->n_groups = groups_for(n_vocab);
    g->logits = logits;
    if (!(g->select = kernels_get(k, KERNEL_SAMPLE_SELECT, 0, 0, err, errlen)) ||
        !(g->pick = kernels_get(k, KERNEL_SAMPLE_PICK, 0, 0, err, errlen))) {
        free(g);
        return NULL;
    }
    uint64_t row = (uint64_t)n_vocab * 4;
    g->params = gpu_buffer_create(d, sizeof(sample_params), GPU_UNIFORM, "sample params");
    g->window = gpu_buffer_create(d, GPU_SAMPLER_WINDOW_MAX * 4, GPU_STORAGE, "sample window");
    g->cand = gpu_buffer_create(d, (uint64_t)g->n_groups * (GPU_SAMPLER_K_MAX + 1) * 8, GPU_STORAGE, "sample candidates");
    g->result = gpu_buffer_create(d, 16, GPU_STORAGE, "sample result");
    g->logits_rb = gpu_buffer_create(d, row, GPU_READBACK, "kept logits read-back");
    int ok = g->params && g->window && g->cand && g->result && g->logits_rb;
    for (int i = 0; ok && i < GPU_SAMPLER_SLOTS; i++) {
        g->rb[i] = gpu_buffer_create(d, 16, GPU_READBACK, "sample read-back");
        g->keep[i] = gpu_buffer_create(d, row, GPU_STORAGE, "kept logits");
        ok = g->rb[i] && g->keep[i];
    }
    if (ok) {
        gpu_binding sb[4] = {{g->params, 0, 0}, {logits, 0, row}, {g->window, 0, 0}, {g->cand, 0, 0}};
        gpu_binding pb[4] = {{g->params, 0, 0}, {g->cand, 0, 0}, {ids, 0, 0}, {g->result, 0, 0}};
        ok = (g->select_b = gpu_bindings_create(d, g->select, sb, 4, err, errlen)) &&
             (g->pick_b = gpu_bindings_create(d, g->pick, pb, 4, err, errlen));
    } else {
        const char *e = gpu_take_error(d);
        set_err(err, errlen, "sampling buffers: %s", e ? e : "not made");
    }
    if (!ok) { gpu_sampler_free(g); return NULL; }
    return g;
}

void gpu_sampler_free(gpu_sampler *g) {
    if (!g) return;
    for (int i = 0; i < GPU_SAMPLER_SLOTS; i++) {
        if (g->rb[i]) gpu_read_end(g->dev, g->rb[i]);
        gpu_buffer_free(g->rb[i]);
        gpu_buffer_free(g->keep[i]);
    }
    gpu_bindings_free(g->select_b);
    gpu_bindings_free(g->pick_b);
    gpu_buffer *bufs[] = {g->params, g->window, g->cand, g->result, g->logits_rb};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) gpu_buffer_free(bufs[i]);
    free(g); /* the kernels belong to the registry */
}

void gpu_sampler_encode(gpu_sampler *g, const gpu_sample_step *s, int slot) {
    const wgpt_sampler_params *p = s->p;
    int greedy = p->temperature <= 0, n_window = s->n_window; /* sampler_window: none when the penalty is off */
    if (n_window > GPU_SAMPLER_WINDOW_MAX) n_window = GPU_SAMPLER_WINDOW_MAX; /* gpu_sampler_supports bounds it */
    sample_params sp = {(uint32_t)g->n_vocab, (uint32_t)s->n_allowed, greedy ? 1u : (uint32_t)p->top_k,
                        (uint32_t)greedy, p->temperature, p->top_p, p->min_p, p->repeat_penalty,
                        (uint32_t)n_window, (float)s->r, g->n_groups, 0};
    gpu_buffer_write(g->dev, g->params, 0, &sp, sizeof sp);
    if (n_window) gpu_buffer_write(g->dev, g->window, 0, s->window + (s->n_window - n_window), (size_t)n_window * 4);
    gpu_dispatch(g->dev, g->select, g->select_b, g->n_groups, 1, 1);
    gpu_dispatch(g->dev, g->pick, g->pick_b, 1, 1, 1);
    gpu_copy(g->dev, g->result, 0, g->rb[slot], 0, 8);
    gpu_copy(g->dev, g->logits, 0, g->keep[slot], 0, (uint64_t)g->n_vocab * 4);
}

int gpu_sampler_kernels(const gpu_sampler *g, gpu_kernel *out[2]) {
    out[0] = g->select;
    out[1] = g->pick;
    return 2;
}

int gpu_sampler_read_begin(gpu_sampler *g, int slot, char *err, size_t errlen) {
    return gpu_read_begin(g->dev, g->rb[slot], err, errlen);
}

int gpu_sampler_read_poll(gpu_sampler *g, int slot, int wait, int32_t *token, int *not_finite, char *err,
                          size_t errlen) {
    const void *data;
    int r = gpu_read_poll(g->dev, g->rb[slot], wait, &data, err, errlen);
    if (r != 1) return r;
    uint32_t v[2];
    memcpy(v, data, sizeof v);
    *token = (int32_t)v[0];
    *not_finite = v[1] != 0;
    if (!*not_finite && v[0] >= (uint32_t)g->n_vocab) {
        set_err(err, errlen, "GPU sampler returned token %u outside the vocabulary", v[0]);
        return -1;
    }
    return 1;
}

void gpu_sampler_read_end(gpu_sampler *g, int slot) { gpu_read_end(g->dev, g->rb[slot]); }

int gpu_sampler_fetch_logits(gpu_sampler *g, int slot, float *out, char *err, size_t errlen) {
    const void *data;
    gpu_begin(g->dev);
    gpu_copy(g->dev, g->keep[slot], 0, g->logits_rb, 0, (uint64_t)g->n_vocab * 4);
    if (gpu_submit(g->dev, err, errlen) != 0 || gpu_read_begin(g->dev, g->logits_rb, err, errlen) != 0) return -1;
    int r = gpu_read_poll(g->dev, g->logits_rb, 1, &data, err, errlen);
    if (r == 1) memcpy(out, data, (size_t)g->n_vocab * 4);
    gpu_read_end(g->dev, g->logits_rb);
    return r == 1 ? 0 : -1;
}
