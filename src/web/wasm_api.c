/* The functions the browser's JS module (wgpt.js) calls: thin wrappers over
 * include/wgpt.h with JS-friendly argument types (64-bit sizes and seeds as
 * doubles, outputs through pointers into wasm memory), plus malloc/free so
 * JS can place bytes in wasm memory. Built only by `make web`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wgpt.h"

#define EXPORT(name) __attribute__((export_name(#name), used))

EXPORT(wgptw_malloc) void *wgptw_malloc(size_t n) { return malloc(n ? n : 1); }
EXPORT(wgptw_free) void wgptw_free(void *p) { free(p); }

/* ---- loading ---- */

/* verbose: the library's diagnostics on the console (WASI stderr). */
static void log_to_console(void *user, int level, const char *msg) {
    (void)user;
    if (level <= WGPT_LOG_INFO) fprintf(stderr, "wgpt: %s\n", msg);
}

EXPORT(wgptw_loader_begin)
int wgptw_loader_begin(const uint8_t *head, size_t len, double file_size, double max_binding, int verbose,
                       wgpt_loader **out, double *need, char *err, size_t errlen) {
    wgpt_model_params p;
    wgpt_model_params_default(&p);
    if (verbose) p.log = log_to_console;
    p.max_binding = max_binding > 0 ? (uint64_t)max_binding : 0;
    uint64_t n = 0;
    wgpt_status st = wgpt_loader_begin(head, len, (uint64_t)file_size, &p, out, &n, err, errlen);
    *need = (double)n;
    return st;
}

EXPORT(wgptw_loader_next)
int wgptw_loader_next(wgpt_loader *l, double *offset, double *size) {
    uint64_t o = 0, s = 0;
    wgpt_status st = wgpt_loader_next(l, &o, &s);
    *offset = (double)o;
    *size = (double)s;
    return st;
}

EXPORT(wgptw_loader_provide)
int wgptw_loader_provide(wgpt_loader *l, const uint8_t *data, size_t size, char *err, size_t errlen) {
    return wgpt_loader_provide(l, data, size, err, errlen);
}

EXPORT(wgptw_loader_finish)
int wgptw_loader_finish(wgpt_loader *l, wgpt_model **out, char *err, size_t errlen) {
    return wgpt_loader_finish(l, out, err, errlen);
}

EXPORT(wgptw_loader_free) void wgptw_loader_free(wgpt_loader *l) { wgpt_loader_free(l); }

/* A folder: JS fetches each file wgptw_folder_load names (see wgpt.h). */
EXPORT(wgptw_folder_create) wgpt_folder *wgptw_folder_create(void) {
    wgpt_folder *f = NULL;
    wgpt_folder_create(&f);
    return f;
}
EXPORT(wgptw_folder_free) void wgptw_folder_free(wgpt_folder *f) { wgpt_folder_free(f); }
/* Where JS writes the file's bytes; NULL: out of memory. */
EXPORT(wgptw_folder_add_space) uint8_t *wgptw_folder_add_space(wgpt_folder *f, const char *name, double size) {
    uint8_t *p = NULL;
    return size >= 0 && wgpt_folder_add_space(f, name, (uint64_t)size, &p) == WGPT_OK ? p : NULL;
}
EXPORT(wgptw_folder_absent) int wgptw_folder_absent(wgpt_folder *f, const char *name) {
    return wgpt_folder_absent(f, name);
}
EXPORT(wgptw_folder_load)
int wgptw_folder_load(wgpt_folder *f, double max_binding, int verbose, wgpt_model **out, const char **need, char *err,
                      size_t errlen) {
    wgpt_model_params p;
    wgpt_model_params_default(&p);
    if (verbose) p.log = log_to_console;
    p.max_binding = max_binding > 0 ? (uint64_t)max_binding : 0;
    return wgpt_folder_load(f, &p, out, need, err, errlen);
}

/* ---- the model ---- */

EXPORT(wgptw_model_free) void wgptw_model_free(wgpt_model *m) { wgpt_model_free(m); }
EXPORT(wgptw_model_desc) const char *wgptw_model_desc(const wgpt_model *m) { return wgpt_model_desc(m); }
EXPORT(wgptw_model_n_vocab) int wgptw_model_n_vocab(const wgpt_model *m) { return wgpt_model_n_vocab(m); }
EXPORT(wgptw_model_n_ctx_train) int wgptw_model_n_ctx_train(const wgpt_model *m) { return wgpt_model_n_ctx_train(m); }
EXPORT(wgptw_model_adapter) const char *wgptw_model_adapter(const wgpt_model *m) { return wgpt_model_adapter(m); }
EXPORT(wgptw_model_meta_str)
int wgptw_model_meta_str(const wgpt_model *m, const char *key, char *buf, size_t cap) {
    return wgpt_model_meta_str(m, key, buf, cap);
}

EXPORT(wgptw_tokenize)
int wgptw_tokenize(const wgpt_model *m, const char *text, size_t len, int add_special, int parse_special,
                   int32_t **ids, size_t *n_ids, char *err, size_t errlen) {
    return wgpt_tokenize(m, text, len, add_special, parse_special, ids, n_ids, err, errlen);
}

EXPORT(wgptw_token_to_piece)
int wgptw_token_to_piece(const wgpt_model *m, int32_t id, char *buf, size_t cap) {
    return wgpt_token_to_piece(m, id, buf, cap);
}
EXPORT(wgptw_token_is_eog) int wgptw_token_is_eog(const wgpt_model *m, int32_t id) { return wgpt_token_is_eog(m, id); }
EXPORT(wgptw_token_bos) int wgptw_token_bos(const wgpt_model *m) { return wgpt_token_bos(m); }

/* A model's own chat template over n messages (wgpt_chat_message laid out
 * by JS: role, content, content_len, 4 bytes each), as `wgpt template -m`
 * renders it. *out is freed with wgptw_free. */
EXPORT(wgptw_chat_prompt)
int wgptw_chat_prompt(const wgpt_model *m, const wgpt_chat_message *msgs, size_t n, int add_generation_prompt,
                      char **out, size_t *out_len, char *err, size_t errlen) {
    char *tmpl = NULL, *bos = NULL, *eos = NULL;
    wgpt_status st = wgpt_model_chat_template(m, &tmpl, &bos, &eos, err, errlen);
    if (st == WGPT_OK && !tmpl) {
        snprintf(err, errlen, "the model has no chat template");
        st = WGPT_ERR_FORMAT;
    }
    if (st == WGPT_OK) st = wgpt_chat_render(tmpl, msgs, n, add_generation_prompt, bos, eos, out, out_len, err, errlen);
    wgpt_free(tmpl);
    wgpt_free(bos);
    wgpt_free(eos);
    return st;
}

/* ---- contexts and generation ---- */

EXPORT(wgptw_context_create)
int wgptw_context_create(wgpt_model *m, int n_ctx, int n_batch, float temperature, int top_k, float top_p, float min_p,
                         float repeat_penalty, int repeat_last_n, double seed, wgpt_context **out, char *err,
                         size_t errlen) {
    wgpt_context_params p;
    wgpt_context_params_default(&p);
    p.n_ctx = n_ctx;
    p.n_batch = n_batch;
    p.sampling.temperature = temperature;
    p.sampling.top_k = top_k;
    p.sampling.top_p = top_p;
    p.sampling.min_p = min_p;
    p.sampling.repeat_penalty = repeat_penalty;
    if (repeat_last_n >= 0) p.sampling.repeat_last_n = repeat_last_n;
    p.sampling.seed = seed > 0 ? (uint64_t)seed : 0;
    return wgpt_context_create(m, &p, out, err, errlen);
}

EXPORT(wgptw_context_free) void wgptw_context_free(wgpt_context *c) { wgpt_context_free(c); }
EXPORT(wgptw_context_n_ctx) int wgptw_context_n_ctx(const wgpt_context *c) { return wgpt_context_n_ctx(c); }
EXPORT(wgptw_context_pos) int wgptw_context_pos(const wgpt_context *c) { return wgpt_context_pos(c); }
EXPORT(wgptw_errmsg) const char *wgptw_errmsg(const wgpt_context *c) { return wgpt_errmsg(c); }
EXPORT(wgptw_reset) void wgptw_reset(wgpt_context *c) { wgpt_reset(c); }

EXPORT(wgptw_feed) int wgptw_feed(wgpt_context *c, const int32_t *tokens, size_t n) { return wgpt_feed(c, tokens, n); }
EXPORT(wgptw_step_submit) int wgptw_step_submit(wgpt_context *c) { return wgpt_step_submit(c); }
/* Never waits: WGPT_PENDING until the read-back's mapAsync has completed. */
EXPORT(wgptw_step_collect) int wgptw_step_collect(wgpt_context *c, int32_t *token) {
    return wgpt_step_collect(c, 0, token);
}
