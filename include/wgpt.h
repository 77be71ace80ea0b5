/* wgpt — transformer language models on the GPU through WebGPU.
 *
 * The shape follows sqlite's C API: opaque handles, status codes, and a
 * per-handle error message. A model (weights on the GPU, tokenizer,
 * hyperparameters) is immutable once loaded and may be shared by several
 * contexts; a context holds one sequence's KV cache, scratch buffers and
 * sampler. Generation is a step function the caller drives — submit a step,
 * later collect its token — so nothing needs to block on the GPU (the
 * browser cannot). */
#ifndef WGPT_H
#define WGPT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    WGPT_OK = 0,
    WGPT_PENDING = 1,          /* the GPU has not finished yet: poll again */
    WGPT_ERR_IO = -1,
    WGPT_ERR_FORMAT = -2,      /* truncated or corrupt file */
    WGPT_ERR_UNSUPPORTED = -3, /* architecture or tensor type we do not run */
    WGPT_ERR_GPU = -4,
    WGPT_ERR_ARG = -5,
    WGPT_ERR_CONTEXT_FULL = -6,
    WGPT_ERR_NOMEM = -7,
    WGPT_ERR_STATE = -8,       /* call out of order */
    WGPT_ERR_NOT_FINITE = -9,  /* the logits hold NaN or an infinity: broken weights or an overflow */
} wgpt_status;

typedef struct wgpt_model wgpt_model;
typedef struct wgpt_context wgpt_context;

typedef struct {
    const char *webgpu_lib;    /* NULL: $WGPT_WEBGPU_LIB, then the bundled Dawn */
    int device;                /* adapter index from `wgpt devices`; -1: best */
    int progress;              /* progress bar while weights load (on a terminal) */
    int verbose;               /* adapter choice and load details on stderr */
    uint64_t max_binding;      /* 0, or a smaller maxStorageBufferBindingSize to force tensor splitting */
} wgpt_model_params;

void wgpt_model_params_default(wgpt_model_params *p);
/* Loads a GGUF file. On failure returns a status and writes a one-line
 * reason to err; *out is NULL. A reason about the file starts with its
 * path; one about the GPU or the WebGPU library (WGPT_ERR_GPU), or memory,
 * does not. WGPT_ERR_ARG: path is NULL. WGPT_ERR_FORMAT: not a readable
 * GGUF model (also a FIFO, device or directory, refused without blocking).
 * WGPT_ERR_UNSUPPORTED: an architecture, tensor type or head size this
 * engine or adapter does not run. */
wgpt_status wgpt_model_load(const char *path, const wgpt_model_params *p, wgpt_model **out, char *err, size_t errlen);
void wgpt_model_free(wgpt_model *m);   /* NULL: nothing */

/* Loading in steps, for callers that fetch the file piece by piece (the
 * browser, with HTTP Range requests) and cannot block; wgpt_model_load is
 * this same loop over a memory-mapped file.
 *   1. wgpt_loader_begin with the file's first bytes. WGPT_PENDING only
 *      when the header parsed so far is valid and goes on past those bytes
 *      (the file has more): call again with the first *need bytes (more
 *      than len, at most file_size; err says what was cut). Any other
 *      failure is final at once: WGPT_ERR_FORMAT for a file that is not a
 *      GGUF model or is damaged (also a header that would pass 256 MB), so
 *      a wrong URL costs one read, not the whole file.
 *   2. wgpt_loader_next gives the next byte range of the file to fetch
 *      (WGPT_PENDING), or WGPT_OK when every weight is on the GPU; pass the
 *      bytes of that range to wgpt_loader_provide (they are not kept).
 *   3. wgpt_loader_finish hands over the model. */
typedef struct wgpt_loader wgpt_loader;
wgpt_status wgpt_loader_begin(const uint8_t *head, size_t len, uint64_t file_size, const wgpt_model_params *p,
                              wgpt_loader **out, uint64_t *need, char *err, size_t errlen);
wgpt_status wgpt_loader_next(wgpt_loader *l, uint64_t *offset, uint64_t *size);
wgpt_status wgpt_loader_provide(wgpt_loader *l, const uint8_t *data, size_t size, char *err, size_t errlen);
wgpt_status wgpt_loader_finish(wgpt_loader *l, wgpt_model **out, char *err, size_t errlen);
void wgpt_loader_free(wgpt_loader *l);   /* NULL: nothing */

/* What the model is, for display: "llama, 2 layers, dim 64, q8_0". */
const char *wgpt_model_desc(const wgpt_model *m);
int wgpt_model_n_vocab(const wgpt_model *m);
int wgpt_model_n_ctx_train(const wgpt_model *m);
const char *wgpt_model_adapter(const wgpt_model *m);
/* A string from the model's metadata (e.g. "tokenizer.chat_template"),
 * copied into buf; returns its length, or -1 if absent or not a string. */
int wgpt_model_meta_str(const wgpt_model *m, const char *key, char *buf, size_t cap);

/* Tokenizer. add_special: BOS/EOS as the model's metadata says;
 * parse_special: recognise control-token texts. *ids is malloc'd. */
wgpt_status wgpt_tokenize(const wgpt_model *m, const char *text, size_t len, int add_special, int parse_special,
                          int32_t **ids, size_t *n_ids, char *err, size_t errlen);
/* Bytes of one token; returns its length (may exceed cap), -1 if invalid. */
int wgpt_token_to_piece(const wgpt_model *m, int32_t id, char *buf, size_t cap);
int wgpt_token_is_eog(const wgpt_model *m, int32_t id);
int32_t wgpt_token_bos(const wgpt_model *m);

/* wgpt_context_create refuses (WGPT_ERR_ARG, naming the field and its
 * range) values outside these ranges, NaN included. */
typedef struct {
    float temperature;   /* >= 0; 0: greedy */
    int top_k;           /* >= 0; 0: off */
    float top_p;         /* 0..1; 1: off */
    float min_p;         /* 0..1; 0: off */
    float repeat_penalty;/* > 0 and finite; 1: off */
    int repeat_last_n;   /* >= 0: tokens the penalty looks back over; 0: off */
    uint64_t seed;
} wgpt_sampling;

typedef struct {
    int n_ctx;           /* 0: min(model's training context, 4096); at most the training context */
    int n_batch;         /* tokens per forward pass during prompt processing; 0: 64 */
    int logits_all;      /* keep logits for every position of a forward, not only the last */
    wgpt_sampling sampling;
} wgpt_context_params;

void wgpt_context_params_default(wgpt_context_params *p);
/* WGPT_ERR_ARG: m or out NULL, a negative n_ctx or n_batch, n_ctx past the
 * training context, or a sampling value out of range. WGPT_ERR_GPU: the
 * device cannot hold this context (the message says which buffer and the
 * device's limit; a smaller n_ctx or n_batch helps). */
wgpt_status wgpt_context_create(wgpt_model *m, const wgpt_context_params *p, wgpt_context **out, char *err,
                                size_t errlen);
void wgpt_context_free(wgpt_context *c);        /* NULL: nothing; a step in flight is dropped */
/* The reason for the context's last failed call ("no context" for NULL). */
const char *wgpt_errmsg(const wgpt_context *c);
int wgpt_context_n_ctx(const wgpt_context *c);
int wgpt_context_pos(const wgpt_context *c);   /* tokens already in the KV cache */

/* The step functions below return WGPT_ERR_ARG for c NULL (with no
 * message, there being no context to hold one); every other failure leaves
 * its reason in wgpt_errmsg(c) and the context usable unless it says so.
 * Ids from the tokenizer's size up to the model's vocabulary (a padded
 * embedding) may be fed but are never sampled. */

/* Queue tokens (a prompt, or a token the caller chose) for the next step.
 * n == 0 queues nothing and returns WGPT_OK. WGPT_ERR_STATE: a step is in
 * flight. WGPT_ERR_ARG: tokens NULL with n > 0, or an id outside the
 * vocabulary (nothing is queued). WGPT_ERR_CONTEXT_FULL: the tokens in the
 * context, queued and these would pass n_ctx (nothing is queued; the
 * message gives both counts). */
wgpt_status wgpt_feed(wgpt_context *c, const int32_t *tokens, size_t n);
/* Submit the forward passes for every queued token; returns at once.
 * WGPT_ERR_STATE: a step is already in flight, or nothing is queued.
 * WGPT_ERR_GPU: the device failed; wgpt_reset before going on. */
wgpt_status wgpt_step_submit(wgpt_context *c);
/* Collect the step: WGPT_PENDING until the GPU is done (wait=1 blocks).
 * On WGPT_OK, *token is sampled from the last position's logits and is
 * queued as the input of the next step (unless the context is full: then
 * the next wgpt_feed or submit says so). WGPT_ERR_STATE: no step in flight.
 * WGPT_ERR_ARG: token NULL. WGPT_ERR_NOT_FINITE: a logit of that position
 * is NaN or infinite, so no token is sampled (*token is -1); the logits
 * stay readable with wgpt_logits. */
wgpt_status wgpt_step_collect(wgpt_context *c, int wait, int32_t *token);
/* The logits of the last collected step: [n_rows][n_vocab], where n_rows is
 * 1, or the number of tokens of the last forward pass with logits_all.
 * NULL with *n_rows = 0 before the first collected step (and after
 * wgpt_reset); a step in flight does not change them until collected. */
const float *wgpt_logits(const wgpt_context *c, int *n_rows);
/* Forget the sequence (KV cache, queued tokens, logits and sampler
 * history); a step in flight is dropped. NULL: nothing. */
void wgpt_reset(wgpt_context *c);

/* Convenience for callers that may block (the CLI, tests): feed tokens and
 * compute logits for every position into out [n][n_vocab]. */
wgpt_status wgpt_eval_logits(wgpt_context *c, const int32_t *tokens, size_t n, float *out);

/* Activations of one forward pass for layer-by-layer checks: the callback
 * receives each named point (see src/models/llama.h). Blocks. */
typedef void (*wgpt_capture_fn)(void *user, const char *name, int layer, const float *data, int n_tokens, int width);
wgpt_status wgpt_eval_capture(wgpt_context *c, const int32_t *tokens, size_t n, wgpt_capture_fn fn, void *user);

/* GPU time of each kernel dispatch of one forward pass over tokens (needs
 * the adapter's timestamp-query feature). Blocks. */
typedef void (*wgpt_profile_fn)(void *user, const char *kernel, double ns);
wgpt_status wgpt_eval_profile(wgpt_context *c, const int32_t *tokens, size_t n, wgpt_profile_fn fn, void *user);

#ifdef __cplusplus
}
#endif
#endif
