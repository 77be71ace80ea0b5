/* A model folder held in memory (wgpt_folder, see wgpt.h): the browser
 * cannot list a folder or map a file, so it fetches the files the open asks
 * for by name and hands them over here. The open and the weights' upload
 * are the native folder's own code (hf_folder.c over a table instead of a
 * path, model_load_opened). */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "util/util.h"

struct wgpt_folder {
    struct folder_file { char *name; uint8_t *data; uint64_t size; int absent; } *files;
    size_t n, cap;
    char need[256];
};

wgpt_status wgpt_folder_create(wgpt_folder **out) {
    if (!out) return WGPT_ERR_ARG;
    *out = calloc(1, sizeof **out);
    return *out ? WGPT_OK : WGPT_ERR_NOMEM;
}

void wgpt_folder_free(wgpt_folder *f) {
    if (!f) return;
    for (size_t i = 0; i < f->n; i++) {
        free(f->files[i].name);
        free(f->files[i].data);
    }
    free(f->files);
    free(f);
}

/* The entry for name, emptied, or a new one; NULL: out of memory. */
static struct folder_file *entry(wgpt_folder *f, const char *name) {
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->files[i].name, name)) {
            free(f->files[i].data);
            f->files[i].data = NULL;
            f->files[i].size = 0;
            f->files[i].absent = 0;
            return &f->files[i];
        }
    if (f->n == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 16;
        struct folder_file *p = realloc(f->files, nc * sizeof *p);
        if (!p) return NULL;
        f->files = p;
        f->cap = nc;
    }
    char *nm = strdup(name);
    if (!nm) return NULL;
    f->files[f->n] = (struct folder_file){nm, NULL, 0, 0};
    return &f->files[f->n++];
}

wgpt_status wgpt_folder_add_space(wgpt_folder *f, const char *name, uint64_t size, uint8_t **data) {
    if (data) *data = NULL;
    if (!f || !name || !data) return WGPT_ERR_ARG;
    if (size >= SIZE_MAX) return WGPT_ERR_NOMEM; /* wasm32: a file past the address space */
    struct folder_file *e = entry(f, name);
    if (!e || !(e->data = malloc(size ? (size_t)size : 1))) {
        if (e) e->absent = 1; /* not listed as a file of zero bytes */
        return WGPT_ERR_NOMEM;
    }
    e->size = size;
    *data = e->data;
    return WGPT_OK;
}

wgpt_status wgpt_folder_add(wgpt_folder *f, const char *name, const void *data, uint64_t size) {
    if (!data && size) return WGPT_ERR_ARG;
    uint8_t *p;
    wgpt_status st = wgpt_folder_add_space(f, name, size, &p);
    if (st == WGPT_OK && size) memcpy(p, data, (size_t)size);
    return st;
}

wgpt_status wgpt_folder_absent(wgpt_folder *f, const char *name) {
    if (!f || !name) return WGPT_ERR_ARG;
    struct folder_file *e = entry(f, name);
    if (!e) return WGPT_ERR_NOMEM;
    e->absent = 1;
    return WGPT_OK;
}

wgpt_status wgpt_folder_load(wgpt_folder *f, const wgpt_model_params *p, wgpt_model **out, const char **need, char *err,
                             size_t errlen) {
    wgpt_model_params defaults;
    if (!p) { wgpt_model_params_default(&defaults); p = &defaults; }
    if (out) *out = NULL;
    if (need) *need = NULL;
    if (!f || !out) { set_err(err, errlen, "wgpt_folder_load: no %s", f ? "place for the model" : "folder"); return WGPT_ERR_ARG; }
    f->need[0] = 0;
    dir_mem_file *table = malloc((f->n ? f->n : 1) * sizeof *table);
    wgpt_model *m = calloc(1, sizeof *m);
    if (!table || !m) {
        free(table);
        free(m);
        set_err(err, errlen, "out of memory");
        return WGPT_ERR_NOMEM;
    }
    for (size_t i = 0; i < f->n; i++)
        table[i] = (dir_mem_file){f->files[i].name, f->files[i].data, f->files[i].size, f->files[i].absent};
    char e[1024];
    int io = 0;
    int rc = model_dir_open_mem(table, f->n, &m->gguf, &m->dir, &io, f->need, e, sizeof e);
    free(table);
    if (rc > 0) {
        free(m);
        if (need) *need = f->need;
        set_err(err, errlen, "the folder's file %s is needed", f->need);
        return WGPT_PENDING;
    }
    if (rc < 0 || !model_dir_has_weights(m->dir)) {
        set_err(err, errlen, "%s", rc < 0 ? e : model_dir_no_weights(m->dir));
        wgpt_model_free(m);
        return io ? WGPT_ERR_IO : WGPT_ERR_FORMAT;
    }
    wgpt_status st = model_load_opened(m, p, out, e, sizeof e);
    if (st != WGPT_OK) {
        set_err(err, errlen, "%s", e);
        return st;
    }
    /* Tensors read from files point into f, which the model must not
     * need: as after a step-driven load, their data is gone. */
    for (uint64_t i = 0; i < (*out)->gguf.n_tensors; i++)
        if (model_dir_tensor_file((*out)->dir, i) >= 0) (*out)->gguf.tensors[i].data = NULL;
    return WGPT_OK;
}
