/* wgpt — transformer language models on the GPU through WebGPU.
 *
 * The shape follows sqlite's C API: opaque handles, status codes, and a
 * per-handle error message. A model (weights on the GPU, tokenizer,
 * hyperparameters) is immutable once loaded and may be shared by several
 * contexts; a context holds one sequence's KV cache, scratch buffers and
 * sampler. Generation is a step function the caller drives — submit a step,
 * later collect its token — so nothing needs to block on the GPU (the
 * browser cannot). A file handle (wgpt_file) reads a model file's header
 * without a GPU, for inspection and tokenizing.
 *
 * Ownership. What a wgpt_*_load/_open/_create/_begin call returns is freed
 * by the matching wgpt_*_free/_close (each accepts NULL). Memory the library
 * allocates for the caller (the ids of wgpt_tokenize and
 * wgpt_vocab_tokenize) is freed with wgpt_free, never with free(): across a
 * DLL or WebAssembly boundary the caller's allocator may be another one.
 * Strings and arrays the library returns by pointer belong to it; each call
 * says how long they stay valid. Buffers the caller passes in are not kept
 * past the call unless the call says so.
 *
 * Lifetimes. A model must outlive its contexts (wgpt_model_free does not
 * check for them; free the contexts first). A loader owns its model until
 * wgpt_loader_finish hands it over.
 *
 * Errors. Every call that can fail returns a wgpt_status (WGPT_OK = 0,
 * WGPT_PENDING > 0, errors < 0; wgpt_status_str names one), and the reason
 * in words goes to exactly one place:
 *   - calls that make a handle, and calls given `char *err, size_t errlen`,
 *     write one line into err (always NUL-terminated, cut to errlen; err may
 *     be NULL); on failure their output handle is set to NULL;
 *   - calls on a context (wgpt_feed, wgpt_step_*, wgpt_eval_*) leave it in
 *     wgpt_errmsg(c);
 *   - queries that fail only for an absent key, an index or id out of range
 *     or a NULL argument return -1, NULL or WGPT_ERR_ARG with no message.
 * A name from a model file quoted in a message, and an adapter name in a
 * log line, is escaped (control characters, bidirectional overrides and
 * invalid UTF-8 as \xNN, \u{NNNN}), so that a message cannot drive a
 * terminal. Data handed back as such (metadata values, tensor names, token
 * pieces, device names) is the raw bytes: escape it before printing it.
 *
 * Threads. wgpt takes no locks around handles. A model, its loader and all
 * of its contexts share one GPU device (one command encoder, one error
 * slot): use them from one thread at a time (a caller's lock around every
 * call on any of them is enough). Different models may be used on different
 * threads at once: wgpt shares no state between them (each has its own
 * WebGPU instance and device; that the WebGPU library allows two devices on
 * two threads is its own matter: Dawn does, tests/unit/test_api.c checks
 * it). A wgpt_file, and a
 * wgpt_vocab, is likewise used by one thread at a time; different ones are
 * independent. Calls without a handle (wgpt_version, wgpt_status_str,
 * wgpt_*_params_default, wgpt_free) may be made from any thread. Callbacks
 * (progress, log, capture, profile) run on the calling thread, inside the
 * call that reports, and must not call wgpt on the same model.
 *
 * stderr. The library prints nothing itself: load progress and diagnostics
 * reach the caller through the callbacks in wgpt_model_params. One
 * exception concerns the whole process: natively, while adapters are probed
 * (wgpt_model_load, wgpt_loader_begin, wgpt_list_devices) and
 * XDG_RUNTIME_DIR is unset, file descriptor 2 is pointed at /dev/null,
 * because Dawn's Vulkan backend makes libwayland print a warning about that
 * variable on every headless machine. Probes are serialised inside the
 * library, so concurrent loads restore fd 2 correctly, but what other
 * threads write to stderr during a probe (a second or so) is lost. Set
 * XDG_RUNTIME_DIR to keep fd 2 untouched. */
#ifndef WGPT_H
#define WGPT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header; wgpt_version() is that of the library
 * linked, which may differ when wgpt is a shared library. */
#define WGPT_VERSION "0.1.0"
#define WGPT_VERSION_NUMBER 1000 /* major * 1000000 + minor * 1000 + patch */
const char *wgpt_version(void);   /* static string */

typedef enum {
    WGPT_OK = 0,
    WGPT_PENDING = 1,          /* the GPU has not finished yet: poll again */
    WGPT_ERR_IO = -1,          /* a file that cannot be opened or read */
    WGPT_ERR_FORMAT = -2,      /* truncated or corrupt file */
    WGPT_ERR_UNSUPPORTED = -3, /* architecture or tensor type we do not run */
    WGPT_ERR_GPU = -4,
    WGPT_ERR_ARG = -5,
    WGPT_ERR_CONTEXT_FULL = -6,
    WGPT_ERR_NOMEM = -7,
    WGPT_ERR_STATE = -8,       /* call out of order */
    WGPT_ERR_NOT_FINITE = -9,  /* the logits hold NaN or an infinity: broken weights or an overflow */
} wgpt_status;

/* A static string for any status ("ok", "GPU error", "context full", ...;
 * "unknown status" for a value not listed above). */
const char *wgpt_status_str(wgpt_status s);

/* Frees memory the library allocated for the caller (the ids of
 * wgpt_tokenize and wgpt_vocab_tokenize). NULL: nothing. */
void wgpt_free(void *p);

typedef struct wgpt_model wgpt_model;
typedef struct wgpt_context wgpt_context;

/* ---- callbacks ---- */

/* Loading progress: bytes of weights on the GPU so far, of total. Called
 * once with done = 0 when the weights start, then after each tensor; the
 * last call has done == total. */
typedef void (*wgpt_progress_fn)(void *user, uint64_t done, uint64_t total);

/* Diagnostics: one line (no newline, no "wgpt:" prefix), valid during the
 * call only. INFO is what a -v flag would show (which adapter was chosen,
 * and why the others were not). */
enum { WGPT_LOG_ERROR = 0, WGPT_LOG_WARN = 1, WGPT_LOG_INFO = 2, WGPT_LOG_DEBUG = 3 };
typedef void (*wgpt_log_fn)(void *user, int level, const char *msg);

/* ---- the model ---- */

typedef struct {
    const char *webgpu_lib;    /* NULL: $WGPT_WEBGPU_LIB, then the bundled Dawn */
    int device;                /* index in wgpt_list_devices' order; -1: the best usable one */
    uint64_t max_binding;      /* 0, or a smaller maxStorageBufferBindingSize to force tensor splitting */
    wgpt_progress_fn progress; /* NULL: none */
    wgpt_log_fn log;           /* NULL: diagnostics are dropped */
    void *user;                /* given to progress and log */
} wgpt_model_params;

/* Defaults: the bundled library, the best device, no callbacks. */
void wgpt_model_params_default(wgpt_model_params *p);
/* Loads a GGUF file, or a model folder as wgpt_file_open reads one (p
 * NULL: the defaults). On failure returns a status and
 * writes a one-line reason to err; *out is NULL. A reason about the file
 * starts with its path; one about the GPU or the WebGPU library
 * (WGPT_ERR_GPU), or memory, does not. WGPT_ERR_ARG: path is NULL.
 * WGPT_ERR_IO: the file cannot be opened or read (missing, no permission).
 * WGPT_ERR_FORMAT: not a GGUF model or model folder (also a FIFO or
 * device, refused without blocking; a folder without weights). WGPT_ERR_UNSUPPORTED: an
 * architecture, tensor type or head size this engine or adapter does not
 * run. WGPT_ERR_NOMEM. Blocks until the weights are on the GPU. The file
 * stays memory-mapped while the model lives (its metadata is read from
 * there): it may be renamed or deleted, not truncated or rewritten. */
wgpt_status wgpt_model_load(const char *path, const wgpt_model_params *p, wgpt_model **out, char *err, size_t errlen);
/* NULL: nothing. Free the model's contexts first. */
void wgpt_model_free(wgpt_model *m);

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
 *   3. wgpt_loader_finish hands over the model.
 * Errors go to err, without a file name (the loader never saw one). head
 * is copied: it need not outlive the call. p's callbacks and user are kept
 * by the loader until wgpt_loader_finish or wgpt_loader_free. */
typedef struct wgpt_loader wgpt_loader;
/* WGPT_OK: *out is the loader. WGPT_PENDING: see step 1. WGPT_ERR_ARG: out
 * NULL, or head NULL with len > 0. WGPT_ERR_FORMAT, WGPT_ERR_UNSUPPORTED,
 * WGPT_ERR_GPU, WGPT_ERR_NOMEM as for wgpt_model_load (the GPU is opened
 * here, once the header is whole). */
wgpt_status wgpt_loader_begin(const uint8_t *head, size_t len, uint64_t file_size, const wgpt_model_params *p,
                              wgpt_loader **out, uint64_t *need, char *err, size_t errlen);
/* WGPT_PENDING with the next range, or WGPT_OK: nothing more to fetch. */
wgpt_status wgpt_loader_next(wgpt_loader *l, uint64_t *offset, uint64_t *size);
/* WGPT_ERR_ARG: size is not the size wgpt_loader_next asked for (nothing
 * happened; provide the right bytes). WGPT_ERR_STATE: every tensor is
 * already in. WGPT_ERR_GPU, WGPT_ERR_NOMEM, WGPT_ERR_FORMAT (the tensor's
 * bytes are unusable): the load is lost, free the loader. */
wgpt_status wgpt_loader_provide(wgpt_loader *l, const uint8_t *data, size_t size, char *err, size_t errlen);
/* WGPT_OK: *out is the model and the loader is freed (do not use l again).
 * On failure *out is NULL and the loader is still the caller's to free:
 * WGPT_ERR_STATE (a tensor was not provided), WGPT_ERR_FORMAT, WGPT_ERR_GPU. */
wgpt_status wgpt_loader_finish(wgpt_loader *l, wgpt_model **out, char *err, size_t errlen);
void wgpt_loader_free(wgpt_loader *l);   /* NULL: nothing; frees the model being loaded */

/* A model folder held in memory, for callers that fetch a folder's files
 * themselves (the browser, by URL: it cannot list a folder). The load asks
 * for the files it reads one name at a time:
 *   1. wgpt_folder_create, then wgpt_folder_load. WGPT_PENDING: it needs
 *      the file *need (a plain name such as "config.json"): give it
 *      (wgpt_folder_add, or wgpt_folder_add_space and fill the buffer) or,
 *      when the folder has no such file, wgpt_folder_absent; call
 *      wgpt_folder_load again. Each call starts over from the files held;
 *      a folder takes about ten rounds, the weights last (fetching the
 *      shards model.safetensors.index.json names before they are asked
 *      for saves rounds).
 *   2. WGPT_OK: *out is the model. It keeps nothing of the folder, which
 *      may be freed at once.
 * The files are those wgpt_model_load reads in a folder on disk, with the
 * same results and messages. Every file is held whole in memory, the
 * safetensors too, until the folder is freed. */
typedef struct wgpt_folder wgpt_folder;
/* WGPT_OK, WGPT_ERR_ARG (out NULL) or WGPT_ERR_NOMEM (*out NULL). */
wgpt_status wgpt_folder_create(wgpt_folder **out);
void wgpt_folder_free(wgpt_folder *f);   /* NULL: nothing */
/* The file name, a copy of data[0, size) (data is not kept); replaces what
 * was given for name before. WGPT_ERR_ARG: f or name NULL, or data NULL
 * with size > 0. WGPT_ERR_NOMEM. */
wgpt_status wgpt_folder_add(wgpt_folder *f, const char *name, const void *data, uint64_t size);
/* As wgpt_folder_add without the copy: *data is a buffer of size bytes
 * (uninitialised) that the folder owns, for the caller to fill before the
 * next wgpt_folder_load; valid until name is given again or the folder is
 * freed. */
wgpt_status wgpt_folder_add_space(wgpt_folder *f, const char *name, uint64_t size, uint8_t **data);
/* The folder has no file name (an HTTP 404). WGPT_ERR_ARG, WGPT_ERR_NOMEM. */
wgpt_status wgpt_folder_absent(wgpt_folder *f, const char *name);
/* WGPT_PENDING: *need names the file wanted (owned by f, valid until the
 * next call on f), see step 1. Otherwise as wgpt_model_load, without a
 * path before the reason (the folder has none); WGPT_ERR_IO: a file the
 * folder cannot do without was given as absent (a shard the index
 * names). WGPT_ERR_ARG: f or out NULL. p NULL: the defaults. Natively
 * it blocks until the weights are on the GPU; in the browser it returns
 * with their upload queued. */
wgpt_status wgpt_folder_load(wgpt_folder *f, const wgpt_model_params *p, wgpt_model **out, const char **need, char *err,
                             size_t errlen);

/* Queries on a loaded model (m not NULL). Returned strings live as long
 * as the model. */
/* What the model is, for display: "llama, 2 layers, dim 64, q8_0" (the family first). */
const char *wgpt_model_desc(const wgpt_model *m);
int wgpt_model_n_vocab(const wgpt_model *m);
int wgpt_model_n_ctx_train(const wgpt_model *m);
const char *wgpt_model_adapter(const wgpt_model *m);   /* the adapter's name, raw */
/* How steps of several tokens (prompts) run on this model and adapter, for
 * display: "f32 tiles (matmul.wgsl), flash attention", or for Q8_0/Q4_0
 * (unless WGPT_MATMUL_I8=0) "8-bit dot products (matmul_i8.wgsl), flash
 * attention". (Subgroup matrices: not on any adapter this build has met.) */
const char *wgpt_model_prompt_path(const wgpt_model *m);
/* A string from the model's metadata (e.g. "tokenizer.chat_template"),
 * copied into buf (NUL-terminated, cut to cap); returns its whole length,
 * or -1 if absent or not a string. */
int wgpt_model_meta_str(const wgpt_model *m, const char *key, char *buf, size_t cap);

/* Tokenizer. add_special: BOS/EOS as the model's metadata says;
 * parse_special: recognise control-token texts. On WGPT_OK *ids holds
 * *n_ids ids (a block even when empty), freed with wgpt_free.
 * WGPT_ERR_ARG: text that cannot be tokenized (invalid UTF-8, a byte the
 * vocabulary cannot spell), reason in err. */
wgpt_status wgpt_tokenize(const wgpt_model *m, const char *text, size_t len, int add_special, int parse_special,
                          int32_t **ids, size_t *n_ids, char *err, size_t errlen);
/* Bytes of one token (raw: may be part of a UTF-8 character); returns its
 * whole length (may exceed cap: then cap bytes are written, no NUL), -1 for
 * an id outside the vocabulary. */
int wgpt_token_to_piece(const wgpt_model *m, int32_t id, char *buf, size_t cap);
int wgpt_token_is_eog(const wgpt_model *m, int32_t id);   /* 1: end of generation (eos, eot, ...) */
int32_t wgpt_token_bos(const wgpt_model *m);               /* -1: none */

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
    int on_cpu;          /* 1: sample on the CPU, reading the logits back each step. 0: on the GPU
                            where these settings allow (greedy, or top_k 1..64 with any top-p, min-p
                            and temperature, and a penalty window of up to 256 tokens), reading back
                            only the token; a greedy step then queues the next one ahead. Both pick
                            the same tokens for the same seed (bar float rounding at a boundary). */
} wgpt_sampling;

typedef struct {
    int n_ctx;           /* 0: min(model's training context, 4096); at most the training context */
    int n_batch;         /* tokens per forward pass during prompt processing; 0: 512 (or n_ctx if
                            smaller); memory for activations grows with it */
    int logits_all;      /* keep logits for every position of a forward, not only the last */
    wgpt_sampling sampling;
} wgpt_context_params;

void wgpt_context_params_default(wgpt_context_params *p);
/* p NULL: the defaults. The context keeps m: m must outlive it.
 * WGPT_ERR_ARG: m or out NULL, a negative n_ctx or n_batch, n_ctx past the
 * training context, or a sampling value out of range. WGPT_ERR_GPU: the
 * device cannot hold this context (the message says which buffer and the
 * device's limit; a smaller n_ctx or n_batch helps). WGPT_ERR_NOMEM. */
wgpt_status wgpt_context_create(wgpt_model *m, const wgpt_context_params *p, wgpt_context **out, char *err,
                                size_t errlen);
void wgpt_context_free(wgpt_context *c);        /* NULL: nothing; a step in flight is dropped */
/* The reason for the context's last failed call ("no context" for NULL).
 * Valid until the next call on c (or its free); a call that succeeds may
 * leave an old reason in place, so read it only after a failure. */
const char *wgpt_errmsg(const wgpt_context *c);
int wgpt_context_n_ctx(const wgpt_context *c);
int wgpt_context_pos(const wgpt_context *c);   /* tokens already in the KV cache */
/* 1: steps sample on the GPU and read back only the token (see
 * wgpt_sampling.on_cpu); 0: they read the logits back. */
int wgpt_context_gpu_sampling(const wgpt_context *c);

/* The step and eval functions below return WGPT_ERR_ARG for c NULL (with no
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
 * wgpt_reset); a step in flight does not change them until collected. The
 * array belongs to c and stays valid until the next wgpt_step_collect,
 * wgpt_reset, wgpt_eval_* or wgpt_context_free on c. */
const float *wgpt_logits(const wgpt_context *c, int *n_rows);
/* Forget the sequence (KV cache, queued tokens, logits and sampler
 * history); a step in flight is dropped. NULL: nothing. */
void wgpt_reset(wgpt_context *c);

/* Convenience for callers that may block (the CLI, tests): feed tokens and
 * compute logits for every position into out [n][n_vocab] (the caller's).
 * Needs a context made with logits_all (else WGPT_ERR_STATE) and no step
 * pending; other failures as for the step functions. Not in the browser. */
wgpt_status wgpt_eval_logits(wgpt_context *c, const int32_t *tokens, size_t n, float *out);

/* Activations of one forward pass for layer-by-layer checks: the callback
 * receives each named point, row-major [n_tokens][width], layer -1 outside
 * the layers. In forward order: embed; per layer attn_norm, q, k (both
 * after RoPE, and after the q/k norm where there is one), v, attn (before
 * the output projection), attn_res, ffn_norm, ffn_act, layer_out; then
 * out_norm and logits, for the rows the context keeps (every token with
 * logits_all, else the last). data is valid during the callback only.
 * 1..n_batch tokens (else WGPT_ERR_ARG). Blocks. */
typedef void (*wgpt_capture_fn)(void *user, const char *name, int layer, const float *data, int n_tokens, int width);
wgpt_status wgpt_eval_capture(wgpt_context *c, const int32_t *tokens, size_t n, wgpt_capture_fn fn, void *user);

/* GPU time of each kernel dispatch of one forward pass over tokens (needs
 * the adapter's timestamp-query feature, else WGPT_ERR_GPU). kernel is
 * valid during the callback only. Blocks. */
typedef void (*wgpt_profile_fn)(void *user, const char *kernel, double ns);
wgpt_status wgpt_eval_profile(wgpt_context *c, const int32_t *tokens, size_t n, wgpt_profile_fn fn, void *user);

/* ---- devices ---- */

/* One adapter the WebGPU library offers. Strings are NUL-terminated raw
 * text from the driver (escape them before printing). */
typedef struct {
    char name[160];
    char backend[16];      /* "Vulkan", "Metal", "D3D12", "Null", ... */
    char kind[16];         /* "discrete", "integrated", "cpu", "unknown" */
    char driver[160];
    uint32_t vendor_id, device_id;
    int usable;            /* 0: wgpt will not run on it, for the reason in why */
    char why[160];
} wgpt_device_info;

/* Fills out[0..*n) with the adapters in the order wgpt_model_params.device
 * numbers them (best first), at most max (16 are ever probed). webgpu_lib as
 * in wgpt_model_params. WGPT_ERR_GPU: the WebGPU library cannot be loaded
 * or has no instance (reason in err). WGPT_ERR_ARG: n NULL, or out NULL with
 * max > 0. No adapter is not an error: *n = 0. Blocks while adapters are
 * probed (see "stderr" above); in the browser, the page's one adapter. */
wgpt_status wgpt_list_devices(const char *webgpu_lib, wgpt_device_info *out, int max, int *n, char *err,
                              size_t errlen);

/* ---- model files without a GPU ---- */

/* A model file's header, read without a GPU: its metadata, its tensor
 * directory, and a tokenizer from it. A GGUF file (memory-mapped; tensor
 * data is never read), or a folder: Hugging Face (config.json,
 * model.safetensors or shards with model.safetensors.index.json,
 * tokenizer.json, tokenizer_config.json, generation_config.json) or WebGPT
 * (params_gpt.json and <tensor>_gpt.bin files). A folder is described in
 * GGUF's terms, as llama.cpp's convert_hf_to_gguf.py would write it
 * (metadata keys, tensor names and layouts), so the same queries answer
 * for both; its tokenizer files and chat template appear as string entries
 * (tokenizer.huggingface.json, tokenizer.huggingface.config_json,
 * tokenizer.chat_template, ...). Tensors the converter would transform
 * (Llama's Q/K rows, Gemma's norms, GPT-2's Conv1D weights) are computed
 * when the folder is opened; the others stay in the mapped files. A folder
 * with tokenizer files only opens too (no architecture, no tensors). */
typedef struct wgpt_file wgpt_file;

/* Bytes from a file, as they are: not NUL-terminated, not checked UTF-8. */
typedef struct { const char *ptr; size_t len; } wgpt_str;

/* WGPT_ERR_ARG: path or out NULL. WGPT_ERR_IO: the file (or a file of the
 * folder) cannot be opened or read. WGPT_ERR_FORMAT: not a well-formed GGUF
 * or model folder (also a FIFO or device, refused without blocking); the
 * reason names the path (and the file inside a folder).
 * WGPT_ERR_NOMEM.
 * The file stays mapped until wgpt_file_close: it may be renamed or
 * deleted meanwhile, not truncated or rewritten. */
wgpt_status wgpt_file_open(const char *path, wgpt_file **out, char *err, size_t errlen);
void wgpt_file_close(wgpt_file *f);   /* NULL: nothing; every wgpt_str of f dies with it */

typedef struct {
    const char *format;    /* as its specification names it: "GGUF", "Hugging Face folder", "WebGPT folder" (static) */
    uint32_t version;      /* of the format: GGUF 2 or 3; 0 for a folder */
    uint64_t size;         /* bytes (of every file read, for a folder) */
    uint64_t n_files;      /* files read: 1 for a GGUF (wgpt_file_part) */
    uint64_t n_meta;       /* metadata entries */
    uint64_t n_tensors;
    uint64_t alignment;    /* of tensor data in the file (0 for a folder) */
    uint64_t data_offset;  /* where tensor data begins (0 for a folder) */
} wgpt_file_info;
void wgpt_file_get_info(const wgpt_file *f, wgpt_file_info *out);
/* File i (0 .. n_files-1) that was read: its name (the path for a GGUF,
 * relative to the folder for a folder; valid until wgpt_file_close) and
 * bytes (size may be NULL). WGPT_ERR_ARG: out of range. */
wgpt_status wgpt_file_part(const wgpt_file *f, uint64_t i, wgpt_str *name, uint64_t *size);

typedef enum {
    WGPT_META_UINT, WGPT_META_INT, WGPT_META_F32, WGPT_META_F64, WGPT_META_BOOL, WGPT_META_STR, WGPT_META_ARRAY,
} wgpt_meta_type;

/* One metadata value. Which field holds it depends on type; the others are
 * 0. The wgpt_str fields point into f: valid until wgpt_file_close. */
typedef struct {
    wgpt_str key;              /* empty for an array element */
    wgpt_meta_type type;
    const char *type_name;     /* the file's own name for it (GGUF: "u8" .. "f64", "bool", "str", "arr"; static) */
    uint64_t u;                /* UINT; BOOL (0 false, anything else true) */
    int64_t i;                 /* INT */
    double f;                  /* F32 (exactly the file's float), F64 */
    wgpt_str str;              /* STR */
    wgpt_meta_type elem_type;  /* ARRAY: the elements' type */
    const char *elem_type_name;
    uint64_t n;                /* ARRAY: how many elements */
} wgpt_meta;

/* Entry i (0 .. n_meta-1) in file order. WGPT_ERR_ARG: i out of range. */
wgpt_status wgpt_file_meta(const wgpt_file *f, uint64_t i, wgpt_meta *out);
/* The index of key, or -1 if absent. */
int64_t wgpt_file_meta_find(const wgpt_file *f, const char *key);
/* Element j of the array at entry i, as a keyless value. WGPT_ERR_ARG:
 * entry i is not an array or j is out of range. WGPT_ERR_UNSUPPORTED: an
 * array of arrays. Elements of one string array in turn cost O(1) each
 * (f keeps an index of the array last asked for; hence not const). */
wgpt_status wgpt_file_meta_elem(wgpt_file *f, uint64_t i, uint64_t j, wgpt_meta *out);

typedef struct {
    wgpt_str name;             /* valid until wgpt_file_close */
    int n_dims;
    uint64_t ne[4];            /* elements along each dimension, ne[0] the contiguous one; 1 past n_dims */
    const char *type_name;     /* "f32", "f16", "q8_0", ... (ggml's names; "unknown"), static */
    uint64_t offset;           /* of its data, from the start of the file */
    uint64_t nbytes;
    int file;                  /* the wgpt_file_part it is in; -1: computed when a folder was opened */
} wgpt_tensor_info;
/* Tensor i (0 .. n_tensors-1) in file order. WGPT_ERR_ARG: out of range. */
wgpt_status wgpt_file_tensor(const wgpt_file *f, uint64_t i, wgpt_tensor_info *out);

/* The plain C reference forward pass (f32 on the CPU, obvious code) over
 * tokens at positions 0..n-1, from f's weights and hyperparameters: fn
 * receives the same named activations as wgpt_eval_capture gives for the
 * GPU (out_norm and logits for every token), so the two can be compared
 * layer by layer (`wgpt verify`), and with q/k norm q_normed and k_normed
 * (before RoPE) too, which the GPU, turning them in the norm's pass, has
 * not. The tokens run as one step: with n >= 2 its products with Q8_0 and
 * Q4_0 matrices take the activations quantized to 8 bits per block of 32, as
 * the GPU's step of several tokens does (the LM head's too, as in a context
 * with logits_all). For checks, not speed: it holds every weight as f32
 * while it runs. Blocks.
 * WGPT_ERR_ARG: f or fn NULL, n == 0, or an id outside the vocabulary.
 * WGPT_ERR_FORMAT, WGPT_ERR_UNSUPPORTED: the file is not a model this engine
 * runs, as wgpt_model_load says. WGPT_ERR_UNSUPPORTED also when the
 * reference itself cannot run it (a weight type it cannot dequantize, or
 * not enough memory; err says which). */
wgpt_status wgpt_file_reference_capture(const wgpt_file *f, const int32_t *tokens, size_t n, wgpt_capture_fn fn,
                                        void *user, char *err, size_t errlen);
/* Another engine's activation `name` of layer `layer` (-1: none) over a
 * step of n_tokens tokens, n_tokens x width floats as wgpt_eval_capture gave
 * them; NULL where the caller has none. The pointer must stay valid until
 * the call it was handed to returns. */
typedef const float *(*wgpt_activation_fn)(void *user, const char *name, int layer, int n_tokens, int width);
/* As wgpt_file_reference_capture (fn receives the forward over all n
 * tokens as one step), and then, for n >= 2, the last token as a decode step
 * follows a prompt: tokens 0..n-2 run again as one step, and the last token
 * as a step of its own after them, whose activations (one row each) go to
 * last_fn. Steps of one token and of several compute differently on Q8_0 and
 * Q4_0 weights (a step of several takes its activations quantized to 8 bits
 * into the products, as the GPU's matrix-matrix kernel does; a one-token step
 * keeps them f32), so a decode step is held to this, not to the last row of
 * the whole. With n == 1, last_fn is not called.
 * inputs (or NULL): the GPU's own activations of the same steps (of n and of
 * n-1 tokens). Where a product quantizes its input to 8 bits, the reference
 * quantizes the GPU's input (attn_norm, attn, ffn_norm, ffn_act, out_norm of
 * that layer and step) in place of its own: an input a float rounding away
 * from the GPU's can fall on the other side of a quant's boundary, one quant
 * step that compounds over the layers, while the input itself is compared
 * where it is captured. WGPT_ERR_ARG also when last_fn is NULL; else as
 * wgpt_file_reference_capture. */
wgpt_status wgpt_file_reference_capture_decode(const wgpt_file *f, const int32_t *tokens, size_t n,
                                               wgpt_capture_fn fn, void *user, wgpt_capture_fn last_fn,
                                               void *last_user, wgpt_activation_fn inputs, void *inputs_user,
                                               char *err, size_t errlen);

/* ---- a tokenizer without a model ---- */

typedef struct wgpt_vocab wgpt_vocab;
/* The tokenizer a model loaded from f would have. It copies what it needs:
 * f may be closed afterwards. WGPT_ERR_FORMAT: no usable tokenizer in the
 * metadata (the reason names the file). WGPT_ERR_NOMEM. */
wgpt_status wgpt_vocab_open(const wgpt_file *f, wgpt_vocab **out, char *err, size_t errlen);
void wgpt_vocab_free(wgpt_vocab *v);   /* NULL: nothing */
/* As wgpt_tokenize: *ids freed with wgpt_free. */
wgpt_status wgpt_vocab_tokenize(const wgpt_vocab *v, const char *text, size_t len, int add_special, int parse_special,
                                int32_t **ids, size_t *n_ids, char *err, size_t errlen);
/* As wgpt_token_to_piece. */
int wgpt_vocab_token_to_piece(const wgpt_vocab *v, int32_t id, char *buf, size_t cap);
int wgpt_vocab_n_tokens(const wgpt_vocab *v);
/* What kind of tokenizer it is ("gpt2 (byte-level BPE)", "Hugging Face BPE
 * (...)"): a string that lives as long as v. */
const char *wgpt_vocab_kind(const wgpt_vocab *v);
/* The BOS / EOS token ids, -1 where there is none. */
int32_t wgpt_vocab_bos(const wgpt_vocab *v);
int32_t wgpt_vocab_eos(const wgpt_vocab *v);

/* ---- chat templates ---- */

/* One turn of a conversation: role ("system", "user", "assistant", ...),
 * NUL-terminated, and content, UTF-8 of content_len bytes (0: up to its
 * NUL; a NUL byte inside is part of the text, as in a prompt). */
typedef struct {
    const char *role;
    const char *content;
    size_t content_len;
} wgpt_chat_message;

/* Renders a Jinja chat template (a model's tokenizer.chat_template) over
 * the messages as transformers' apply_chat_template does (trim_blocks and
 * lstrip_blocks on), with the variables messages, add_generation_prompt,
 * bos_token and eos_token (bos, eos NULL: "") and the functions
 * raise_exception and strftime_now; what a value prints as follows
 * @huggingface/jinja (transformers.js). On WGPT_OK *out holds the text
 * (*out_len bytes and a NUL; out_len may be NULL), freed with wgpt_free.
 * WGPT_ERR_FORMAT: the template does not parse, uses a construct outside
 * the supported subset, calls raise_exception, or passes a bound (nesting
 * 200, 10M steps, 64 MiB of text, 512 MiB of memory); err names the
 * template line ("chat template: line 7: unsupported filter 'batch'").
 * WGPT_ERR_ARG: template_src or out NULL, msgs NULL with n > 0, a message
 * without role or content. WGPT_ERR_NOMEM. Needs no model or GPU. */
wgpt_status wgpt_chat_render(const char *template_src, const wgpt_chat_message *msgs, size_t n,
                             int add_generation_prompt, const char *bos, const char *eos, char **out, size_t *out_len,
                             char *err, size_t errlen);
/* A model file's chat template (tokenizer.chat_template) and the texts
 * that are its bos_token and eos_token: tokenizer_config.json's for a
 * Hugging Face folder, else the texts of the BOS and EOS tokens ("" where
 * there is none). Each out pointer may be NULL; what is returned is freed
 * with wgpt_free. *tmpl is NULL (and the status WGPT_OK) when the file has
 * no template. WGPT_ERR_ARG: f NULL. WGPT_ERR_FORMAT: a folder's
 * tokenizer_config.json is not JSON. WGPT_ERR_NOMEM. */
wgpt_status wgpt_file_chat_template(wgpt_file *f, char **tmpl, char **bos, char **eos, char *err, size_t errlen);
/* The same for a loaded model. */
wgpt_status wgpt_model_chat_template(const wgpt_model *m, char **tmpl, char **bos, char **eos, char *err,
                                     size_t errlen);

/* Keeps the first n_keep tokens of c's sequence (those in the KV cache,
 * then those queued) and forgets the rest, so that a conversation whose
 * newest rendering shares only a prefix with what the cache holds is fed
 * from where they part (wgpt chat). The sampler's history (for the repeat
 * penalty) and the last logits stay as they are. WGPT_ERR_ARG: c NULL, or
 * n_keep negative or past the tokens held and queued. WGPT_ERR_STATE: a
 * step is in flight. */
wgpt_status wgpt_rewind(wgpt_context *c, int n_keep);

/* ---- several sequences stepped together (a server's slots) ----
 *
 * A batch holds n_seq sequences of one model, each with its own KV cache of
 * n_ctx positions and its own sampler, and steps any set of them together:
 * one forward pass reads the weights once for a token of every sequence in
 * the step, so that N streams decode at close to the cost of one
 * (continuous batching: a sequence joins or leaves between steps). Prompts
 * run first, each sequence's in passes of up to n_batch tokens. The calls
 * block until the GPU is done (not in the browser). Like a context, a batch
 * keeps its model (which must outlive it) and shares its device: one
 * thread at a time for the model and all its contexts and batches. A
 * sequence's tokens, sampled alone or in any batch, are the same (the
 * products of a token never depend on the other tokens of its step). */
typedef struct wgpt_batch wgpt_batch;

typedef struct {
    int n_seq;   /* sequences (slots), 1..256; 0: 1 */
    int n_ctx;   /* positions of each sequence's cache; 0: min(training context, 4096) */
    int n_batch; /* tokens of a prompt pass; 0: 512 (or n_ctx if smaller) */
} wgpt_batch_params;

void wgpt_batch_params_default(wgpt_batch_params *p);
/* p NULL: the defaults. WGPT_ERR_ARG: m or out NULL, or a value out of
 * range (the message names it). WGPT_ERR_GPU: the device cannot hold the
 * caches (the message says which buffer and the device's limit).
 * WGPT_ERR_NOMEM. Every sequence starts empty, greedy (the sampling of
 * wgpt_context_params_default but temperature 0). */
wgpt_status wgpt_batch_create(wgpt_model *m, const wgpt_batch_params *p, wgpt_batch **out, char *err,
                              size_t errlen);
void wgpt_batch_free(wgpt_batch *b);   /* NULL: nothing */
/* As wgpt_errmsg, for a batch ("no batch" for NULL). */
const char *wgpt_batch_errmsg(const wgpt_batch *b);
int wgpt_batch_n_seq(const wgpt_batch *b);
int wgpt_batch_n_ctx(const wgpt_batch *b);
/* Tokens in sequence seq's cache; -1 for seq out of range. */
int wgpt_batch_seq_pos(const wgpt_batch *b, int seq);
/* Keeps the first n_keep tokens of seq's cache and forgets the rest (0:
 * empties it), for a conversation that continues a prefix already there.
 * The sampler's history keeps only tokens still in the cache.
 * WGPT_ERR_ARG: seq out of range, n_keep negative or past the cache. */
wgpt_status wgpt_batch_seq_keep(wgpt_batch *b, int seq, int n_keep);
/* seq's sampling from now on (the values wgpt_context_create takes; on_cpu
 * is ignored), its random stream restarted from s->seed. WGPT_ERR_ARG: seq
 * out of range or a value out of range (the message names it). */
wgpt_status wgpt_batch_seq_sampling(wgpt_batch *b, int seq, const wgpt_sampling *s);
/* One step. For each i < n: tokens[i][0 .. n_tokens[i]) (n_tokens[i] >= 1)
 * go into sequence seqs[i] (each sequence at most once a step), then a
 * token is sampled from the logits of its last one into out[i] (never
 * queued: the caller feeds it back, or not, in a later step). The
 * sequences with one token share one forward pass. out may be NULL (a
 * prompt whose continuation is not wanted yet). WGPT_ERR_ARG: NULL arrays,
 * n < 0, a sequence out of range or twice, an id outside the vocabulary.
 * WGPT_ERR_CONTEXT_FULL: a sequence would pass n_ctx (the message names
 * it). On these nothing is done. WGPT_ERR_NOT_FINITE: a sequence's logits
 * hold NaN or an infinity: its out[i] is -1, the others are sampled.
 * WGPT_ERR_GPU: the device failed. */
wgpt_status wgpt_batch_decode(wgpt_batch *b, int n, const int *seqs, const int32_t *const *tokens,
                              const int *n_tokens, int32_t *out);
/* wgpt_batch_decode of one token for each listed sequence (a decode step,
 * tokens[i] its one token), timed by kernel as wgpt_eval_profile does: fn
 * gets each dispatch's label and GPU time. The tokens go into the caches as
 * in any step; nothing is sampled. WGPT_ERR_GPU: no timestamp queries. */
wgpt_status wgpt_batch_profile(wgpt_batch *b, int n, const int *seqs, const int32_t *tokens, wgpt_profile_fn fn,
                               void *user);

#ifdef __cplusplus
}
#endif
#endif
