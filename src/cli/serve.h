/* wgpt serve: what the HTTP side (cmd_serve.c) and the engine thread
 * (serve_engine.c) share. One engine thread owns the model and the batch
 * and makes every wgpt call on them; HTTP threads hand it requests through
 * a queue under one mutex and wait on the request's condition variable. */
#ifndef WGPT_CLI_SERVE_H
#define WGPT_CLI_SERVE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "wgpt.h"

enum { FINISH_NONE, FINISH_STOP, FINISH_LENGTH, FINISH_ERROR };

typedef struct serve_req serve_req;
struct serve_req {
    /* set by the HTTP thread before submit, read-only afterwards */
    int32_t *prompt;
    int n_prompt;
    wgpt_sampling samp;
    long max_tokens;     /* < 0: until the context ends */
    char **stops;        /* texts that end the reply (never part of it) */
    size_t *stop_lens;
    int n_stops;
    /* under serve_mu */
    int cancelled;       /* the client is gone: the engine drops it at its next step */
    int finish;          /* FINISH_*: set once, by the engine */
    char errmsg[256];
    char *text;          /* released text (never ends inside a stop string or a UTF-8 character) */
    size_t text_len, text_cap;
    long n_completion;   /* tokens sampled (an end-of-generation token not counted) */
    long n_cached;       /* prompt tokens reused from the slot's cache */
    int refs;            /* the HTTP side and the engine */
    serve_req *next;     /* in the waiting queue */
    pthread_cond_t cv;   /* signalled when text or finish change */
};

typedef struct {
    wgpt_model *m;
    wgpt_batch *b;       /* made by the caller; from here on the engine thread's alone */
    int queue_max;       /* requests waiting beyond the slots */
    int verbose;
} serve_engine_cfg;

extern pthread_mutex_t serve_mu;

/* Starts the engine thread; 0, or 1 after saying why. */
int serve_engine_start(const serve_engine_cfg *cfg);
/* Stops it: every request still running or waiting ends with an error. */
void serve_engine_stop(void);
/* A new request (refs 2: the caller's and the engine's). Returns 0 when
 * queued; 503: the queue is full; 500: the engine is gone (r untouched
 * otherwise: the caller still owns it, with refs 1). */
int serve_submit(serve_req *r);
serve_req *serve_req_new(void);
/* For /health: slots busy, requests waiting, steps taken, the most
 * sequences one step has decoded together. */
void serve_engine_stats(int *busy, int *waiting, long *steps, int *max_seqs);
/* Drops one reference (serve_mu NOT held); the last frees it. */
void serve_req_unref(serve_req *r);

#endif
