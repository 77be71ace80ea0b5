/* What the engine's handles hold, shared by model.c (loading, the model's
 * queries) and context.c (a sequence: feed, step, eval). Nothing outside
 * src/engine/ sees these. */
#ifndef WGPT_ENGINE_INTERNAL_H
#define WGPT_ENGINE_INTERNAL_H

#include "formats/gguf.h"
#include "formats/hf_folder.h"
#include "gpu/gpu.h"
#include "graph/kernels.h"
#include "models/decoder.h"
#include "models/decoder_gpu.h"
#include "sampling/gpu_sampler.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"
#include "wgpt.h"

struct wgpt_model {
    gguf_file gguf;
    uint8_t *head;       /* the header bytes gguf points into (step-driven loading) */
    model_dir *dir;      /* a folder read as a GGUF: owns what gguf points into */
    decoder_config c;
    wgpt_tokenizer *tok;
    gpu_device *dev;
    kernel_registry kernels;
    decoder_weights *w;
    char desc[256];
};

struct wgpt_context {
    wgpt_model *m;
    decoder_state *s;
    sampler *smp;
    int n_ctx, n_batch, logits_all;
    int pos;                  /* tokens already in the KV cache */
    int32_t *pending;         /* tokens queued for the next step */
    uint32_t *ids;            /* staging for one pass's token ids: n_batch */
    size_t n_pending;
    int inflight;             /* a step was submitted and not yet collected */
    int flight_rows;          /* logits rows the step in flight reads back */
    int last_rows;            /* logits rows of the last collected step; 0: none yet */
    float *logits;            /* host copy: [last_rows][n_vocab] */
    int logits_on_host;       /* logits holds the last collected step's; else they are in its GPU slot */
    /* Sampling on the GPU (gpu_sampler.h): steps then read back the token only. */
    gpu_sampler *gs;          /* NULL: every step reads its logits back and samples on the CPU */
    int flight_gpu;           /* the step in flight samples on the GPU, in flight_slot */
    int flight_slot, last_slot; /* last_slot: the last collected step's (its logits are kept there) */
    /* Greedy steps queued ahead, oldest first: each one's input is the GPU's pick of the step
     * before it, at position ahead_pos[i]. As many as the sampler has slots for (gpu_sampler.h:
     * more in a browser), so that a read-back's round trip never leaves the GPU idle. */
#define CONTEXT_AHEAD (GPU_SAMPLER_SLOTS - 2)
    int n_ahead, ahead_slot[CONTEXT_AHEAD], ahead_pos[CONTEXT_AHEAD];
    int pending_from_gpu;     /* the one queued token is the GPU's pick of the last collected step */
    char err[512];
};

/* The weights of m, whose header m->gguf is read (from a GGUF file or a
 * folder), loaded onto the GPU: wgpt_model_load's steps after the open.
 * Takes m (freed on failure); e gets the reason, without a file name. */
/* 0, or -1 with the field and its range in err: a sampling value out of
 * range (wgpt_context_create's and wgpt_batch_seq_sampling's check). */
int check_sampling(const wgpt_sampling *s, char *err, size_t errlen);
/* The sampler settings of a public wgpt_sampling. */
wgpt_sampler_params sampler_params_of(const wgpt_sampling *s);

/* 1: every one of l[0..n) is finite. The message for a row that is not. */
int logits_finite(const float *l, int n);
extern const char not_finite_msg[];

/* Drops a step queued ahead (its work is done and forgotten). */
void context_drop_ahead(wgpt_context *c);

wgpt_status model_load_opened(wgpt_model *m, const wgpt_model_params *p, wgpt_model **out, char *e, size_t elen);

#endif
