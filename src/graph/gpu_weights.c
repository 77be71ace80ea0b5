#include "graph/gpu_weights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef __wasi__
#include <pthread.h>
#include <unistd.h>
#endif

#include "formats/quant.h"
#include "util/text.h"
#include "formats/dtype.h"
#include "util/util.h"

/* Rows r0..r1 of a staging batch, repacked into its planes. */
typedef struct {
    const dtype_info *dt;
    const uint8_t *src;
    uint64_t src_row, row_bytes, scale_row_bytes;
    uint8_t *q, *s;
    int cols, r0, r1;
} repack_part;

static void *repack_rows(void *arg) {
    const repack_part *p = arg;
    for (int i = p->r0; i < p->r1; i++)
        dtype_repack_row(p->dt, p->src + (uint64_t)i * p->src_row, p->q + (uint64_t)i * p->row_bytes,
                         p->s + (uint64_t)i * p->scale_row_bytes, p->cols);
    return NULL;
}

#define REPACK_THREADS 16
#define REPACK_MIN_ROWS 8 /* a thread's rows at least: fewer are not worth its start */

/* A batch's rows repacked, split over the machine's cores where the format
 * repacks: the K-quants' repack costs about 1.8 ns a weight on one core,
 * seven times Q4_0's, which made a 1B Q4_K_M or Q6_K file load in 4-5.7 s
 * against Q4_0's 0.8 s on the H200's host (2026-12-01). No threads in the
 * browser build (WASI has none); a thread that fails to start leaves its
 * rows to this one. */
static void repack_batch(repack_part all) {
#ifndef __wasi__
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int rows = all.r1 - all.r0, n = all.dt->repack && cores > 1 ? (int)(cores < REPACK_THREADS ? cores : REPACK_THREADS) : 1;
    if (n > rows / REPACK_MIN_ROWS) n = rows / REPACK_MIN_ROWS;
    if (n > 1) {
        repack_part part[REPACK_THREADS];
        pthread_t th[REPACK_THREADS];
        int started[REPACK_THREADS] = {0};
        for (int i = 0; i < n; i++) {
            part[i] = all;
            part[i].r0 = all.r0 + (int)((int64_t)rows * i / n);
            part[i].r1 = all.r0 + (int)((int64_t)rows * (i + 1) / n);
            if (i > 0) started[i] = pthread_create(&th[i], NULL, repack_rows, &part[i]) == 0;
        }
        repack_rows(&part[0]);
        for (int i = 1; i < n; i++) {
            if (started[i]) pthread_join(th[i], NULL);
            else repack_rows(&part[i]);
        }
        return;
    }
#endif
    repack_rows(&all);
}

wgpt_status gpu_matrix_upload(gpu_device *d, const gguf_tensor *t, gpu_matrix *m, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    const char *name = text_show(t->name.ptr, t->name.len);
    if (t->n_dims != 2) { set_err(err, errlen, "tensor '%s' is not a matrix", name); return WGPT_ERR_FORMAT; }
    const dtype_info *dt = dtype_of(t->type);
    if (!dt || dt->gpu_slot < 0) {
        set_err(err, errlen, "tensor '%s' has type %s, which the GPU engine does not run yet (supported: %s)", name,
                ggml_type_name(t->type), dtype_gpu_names());
        return WGPT_ERR_UNSUPPORTED;
    }
    uint32_t unit = dt->block_elems > 32 ? dt->block_elems : 32;
    if (t->ne[0] % unit != 0) {
        set_err(err, errlen, "tensor '%s': row length %llu is not a multiple of %u (%s)", name,
                (unsigned long long)t->ne[0], unit, dt->name);
        return WGPT_ERR_UNSUPPORTED;
    }
    if (!t->data) { set_err(err, errlen, "tensor '%s' has no data", name); return WGPT_ERR_ARG; }
    m->type = t->type;
    m->gpu_slot = dt->gpu_slot;
    m->cols = (int)t->ne[0];
    m->rows = (int)t->ne[1];
    dtype_gpu_layout row = dtype_gpu_layout_of(dt, 1, (uint64_t)m->cols);
    m->row_words = (uint32_t)(row.row_bytes / 4);
    uint64_t max_bytes = gpu_get_limits(d)->split_binding;
    if (gpu_get_limits(d)->max_buffer_size < max_bytes) max_bytes = gpu_get_limits(d)->max_buffer_size;
    /* The scale plane's padding can push the last row over. */
    uint64_t per_chunk = max_bytes / (row.row_bytes + row.scale_row_bytes);
    if (per_chunk > (uint64_t)m->rows) per_chunk = (uint64_t)m->rows;
    while (per_chunk > 0 && dtype_gpu_layout_of(dt, per_chunk, (uint64_t)m->cols).bytes > max_bytes) per_chunk--;
    if (per_chunk == 0) {
        set_err(err, errlen, "a single row of '%s' exceeds the device's binding limit", name);
        return WGPT_ERR_UNSUPPORTED;
    }
    m->chunk_rows = (int)per_chunk;
    m->n_chunks = (int)(((uint64_t)m->rows + per_chunk - 1) / per_chunk);
    if (m->n_chunks > GRAPH_MAX_CHUNKS) {
        set_err(err, errlen, "tensor '%s' needs %d buffers on this device (limit %d)", name, m->n_chunks,
                GRAPH_MAX_CHUNKS);
        m->n_chunks = 0;
        return WGPT_ERR_UNSUPPORTED;
    }
    uint64_t src_row = t->nbytes / (uint64_t)m->rows;
    /* Repack through a bounded staging area so memory stays small. An even
     * number of rows a batch keeps each batch's scales at a multiple of 4
     * bytes, as buffer writes must be; the last batch's odd tail is written
     * rounded up into the plane's padding. */
    int stage_rows = (int)((16u << 20) / (row.row_bytes + row.scale_row_bytes)) & ~1;
    if (stage_rows < 2) stage_rows = 2;
    uint8_t *stage = malloc((size_t)stage_rows * row.row_bytes);
    uint8_t *stage_s = calloc((size_t)stage_rows * row.scale_row_bytes + 4, 1);
    if (!stage || !stage_s) {
        free(stage);
        free(stage_s);
        set_err(err, errlen, "out of memory");
        return WGPT_ERR_NOMEM;
    }
    for (int c = 0; c < m->n_chunks; c++) {
        int r0 = c * m->chunk_rows;
        int nr = m->rows - r0 < m->chunk_rows ? m->rows - r0 : m->chunk_rows;
        dtype_gpu_layout lay = dtype_gpu_layout_of(dt, (uint64_t)nr, (uint64_t)m->cols);
        char label[80];
        snprintf(label, sizeof label, "%.*s#%d", (int)(t->name.len > 60 ? 60 : t->name.len), t->name.ptr, c);
        m->chunk[c] = gpu_buffer_create(d, lay.bytes, GPU_STORAGE, label);
        if (!m->chunk[c]) {
            free(stage);
            free(stage_s);
            set_err(err, errlen, "cannot allocate a GPU buffer for '%s'", name);
            return WGPT_ERR_GPU;
        }
        for (int r = 0; r < nr; r += stage_rows) {
            int k = nr - r < stage_rows ? nr - r : stage_rows;
            repack_batch((repack_part){dt, t->data + (uint64_t)(r0 + r) * src_row, src_row, lay.row_bytes,
                                       lay.scale_row_bytes, stage, stage_s, m->cols, 0, k});
            gpu_buffer_write(d, m->chunk[c], (uint64_t)r * lay.row_bytes, stage, (size_t)k * lay.row_bytes);
            if (lay.scale_row_bytes) {
                size_t sb = (size_t)k * lay.scale_row_bytes;
                memset(stage_s + sb, 0, 4);
                gpu_buffer_write(d, m->chunk[c], lay.scales_at + (uint64_t)r * lay.scale_row_bytes, stage_s,
                                 (sb + 3) & ~(size_t)3);
            }
        }
    }
    free(stage_s);
    free(stage);
    const char *e = gpu_take_error(d);
    if (e) { set_err(err, errlen, "uploading '%s': %s", name, e); return WGPT_ERR_GPU; }
    return WGPT_OK;
}

void gpu_matrix_free(gpu_matrix *m) {
    for (int c = 0; c < m->n_chunks; c++) gpu_buffer_free(m->chunk[c]);
    memset(m, 0, sizeof *m);
}

wgpt_status gpu_vector_upload(gpu_device *d, const gguf_tensor *t, gpu_buffer **out, char *err, size_t errlen) {
    *out = NULL;
    uint64_t n = 1;
    for (uint32_t i = 0; i < t->n_dims; i++) n *= t->ne[i];
    if (!t->data) { set_err(err, errlen, "tensor '%s' has no data", text_show(t->name.ptr, t->name.len)); return WGPT_ERR_ARG; }
    float *f = malloc(n * sizeof(float));
    if (!f) { set_err(err, errlen, "out of memory"); return WGPT_ERR_NOMEM; }
    if (dequantize_row(t->type, t->data, f, (int64_t)n) != 0) {
        free(f);
        set_err(err, errlen, "tensor '%s': unsupported type %s", text_show(t->name.ptr, t->name.len),
                ggml_type_name(t->type));
        return WGPT_ERR_UNSUPPORTED;
    }
    gpu_buffer *b = gpu_buffer_create(d, n * 4, GPU_STORAGE, "vector");
    if (b) gpu_buffer_write(d, b, 0, f, n * 4);
    free(f);
    if (!b) { set_err(err, errlen, "cannot allocate a GPU buffer"); return WGPT_ERR_GPU; }
    *out = b;
    return WGPT_OK;
}
