/* wgpt serve's engine thread: continuous batching over the slots of one
 * wgpt_batch. Each step admits waiting requests into free slots (the free
 * slot whose cache shares the longest prefix with the prompt, which keeps
 * that prefix), drops requests whose client is gone, and calls
 * wgpt_batch_decode once with every active slot: a slot new to its request
 * sends the rest of its prompt, the others their last sampled token. The
 * sampled text is released to the HTTP side as it becomes final: never
 * inside a UTF-8 character, never text that may be the start of a stop
 * string. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/serve.h"

pthread_mutex_t serve_mu = PTHREAD_MUTEX_INITIALIZER;

typedef struct {
    serve_req *r;
    int fresh;           /* admitted, its prompt not yet sent */
    int32_t *cache;      /* the tokens in this sequence's KV cache */
    int n_cache;
    int32_t last;        /* the token sampled last, to be fed next */
    char *acc;           /* every byte generated for r */
    size_t acc_len, acc_cap, released;
    long generated;
} slot;

static struct {
    serve_engine_cfg cfg;
    int n_seq, n_ctx;
    slot *slots;
    serve_req *head, *tail; /* waiting */
    int n_waiting;
    int stopping, running;
    long steps;
    int max_seqs;
    pthread_cond_t cv;   /* work for the engine */
    pthread_t thread;
    char *piece;
    size_t piece_cap;
} E = {.cv = PTHREAD_COND_INITIALIZER};

serve_req *serve_req_new(void) {
    serve_req *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    pthread_cond_init(&r->cv, NULL);
    r->refs = 1;
    return r;
}

static void req_free(serve_req *r) {
    for (int i = 0; i < r->n_stops; i++) free(r->stops[i]);
    free(r->stops);
    free(r->stop_lens);
    free(r->prompt);
    free(r->text);
    pthread_cond_destroy(&r->cv);
    free(r);
}

void serve_req_unref(serve_req *r) {
    if (!r) return;
    pthread_mutex_lock(&serve_mu);
    int last = --r->refs == 0;
    pthread_mutex_unlock(&serve_mu);
    if (last) req_free(r);
}

void serve_engine_stats(int *busy, int *waiting, long *steps, int *max_seqs) {
    pthread_mutex_lock(&serve_mu);
    *busy = 0;
    for (int i = 0; E.slots && i < E.n_seq; i++) *busy += E.slots[i].r != NULL;
    *waiting = E.n_waiting;
    *steps = E.steps;
    *max_seqs = E.max_seqs;
    pthread_mutex_unlock(&serve_mu);
}

int serve_submit(serve_req *r) {
    pthread_mutex_lock(&serve_mu);
    int rc = 0;
    if (!E.running || E.stopping) rc = 500;
    else if (E.n_waiting >= E.cfg.queue_max) {
        /* the queue is full unless a slot is free for it right away */
        int busy = 0;
        for (int i = 0; i < E.n_seq; i++) busy += E.slots[i].r != NULL;
        if (busy + E.n_waiting >= E.n_seq + E.cfg.queue_max) rc = 503;
    }
    if (!rc) {
        r->refs++;
        r->next = NULL;
        if (E.tail) E.tail->next = r;
        else E.head = r;
        E.tail = r;
        E.n_waiting++;
        pthread_cond_signal(&E.cv);
    }
    pthread_mutex_unlock(&serve_mu);
    return rc;
}

/* ---- text ---- */

/* Bytes at the end of s[0..n) that begin a UTF-8 character not yet complete. */
static size_t utf8_tail(const char *s, size_t n) {
    for (size_t k = 1; k <= 3 && k <= n; k++) {
        unsigned char c = (unsigned char)s[n - k];
        if ((c & 0xc0) == 0x80) continue; /* continuation byte: look further back */
        size_t need = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 1;
        return need > k && c >= 0xc2 ? k : 0;
    }
    return 0;
}

/* The longest suffix of s[0..n) shorter than a stop string that is that stop string's beginning. */
static size_t stop_prefix_tail(const serve_req *r, const char *s, size_t n) {
    size_t best = 0;
    for (int i = 0; i < r->n_stops; i++) {
        size_t L = r->stop_lens[i];
        for (size_t k = L - 1 < n ? L - 1 : n; k > best; k--)
            if (!memcmp(s + n - k, r->stops[i], k)) { best = k; break; }
    }
    return best;
}

/* Under serve_mu: r's text grows by what the slot may release now. */
static void publish(slot *s, size_t upto) {
    serve_req *r = s->r;
    if (upto <= s->released) return;
    size_t n = upto - s->released;
    if (r->text_len + n + 1 > r->text_cap) {
        size_t cap = r->text_cap ? r->text_cap : 256;
        while (cap < r->text_len + n + 1) cap *= 2;
        char *p = realloc(r->text, cap);
        if (!p) { r->finish = FINISH_ERROR; snprintf(r->errmsg, sizeof r->errmsg, "out of memory"); return; }
        r->text = p;
        r->text_cap = cap;
    }
    memcpy(r->text + r->text_len, s->acc + s->released, n);
    r->text_len += n;
    r->text[r->text_len] = 0;
    s->released = upto;
}

/* Under serve_mu: the slot's request ends (the engine's reference dropped). */
static void finish(slot *s, int why, const char *msg) {
    serve_req *r = s->r;
    if (!r) return;
    if (why != FINISH_ERROR && why != FINISH_NONE) publish(s, s->acc_len); /* all of it: nothing more can come */
    if (!r->finish) r->finish = why;
    if (msg && r->finish == FINISH_ERROR && !r->errmsg[0]) snprintf(r->errmsg, sizeof r->errmsg, "%s", msg);
    r->n_completion = s->generated;
    pthread_cond_broadcast(&r->cv);
    if (--r->refs == 0) req_free(r);
    s->r = NULL;
    s->acc_len = s->released = 0;
    s->generated = 0;
}

/* Engine thread, serve_mu not held: a token sampled for slot s. Returns
 * FINISH_NONE to go on, else how the request ends. */
static int take_token(slot *s, int32_t tok, size_t *release) {
    serve_req *r = s->r;
    *release = s->released;
    if (tok < 0) return FINISH_ERROR;
    if (wgpt_token_is_eog(E.cfg.m, tok)) return FINISH_STOP;
    s->generated++;
    int len = cli_token_piece(E.cfg.m, tok, &E.piece, &E.piece_cap);
    if (len > 0) {
        if (s->acc_len + (size_t)len > s->acc_cap) {
            size_t cap = s->acc_cap ? s->acc_cap : 1024;
            while (cap < s->acc_len + (size_t)len) cap *= 2;
            char *p = realloc(s->acc, cap);
            if (!p) return FINISH_ERROR;
            s->acc = p;
            s->acc_cap = cap;
        }
        memcpy(s->acc + s->acc_len, E.piece, (size_t)len);
        s->acc_len += (size_t)len;
    }
    /* A stop string can only begin at or after what was released: text was
     * released only when no stop string could begin in it. */
    size_t at = (size_t)-1;
    for (int i = 0; i < r->n_stops; i++) {
        const char *hit = memmem(s->acc + s->released, s->acc_len - s->released, r->stops[i], r->stop_lens[i]);
        if (hit && (size_t)(hit - s->acc) < at) at = (size_t)(hit - s->acc);
    }
    if (at != (size_t)-1) {
        s->acc_len = at; /* the stop string and what follows it are never shown */
        *release = at;
        return FINISH_STOP;
    }
    size_t keep = stop_prefix_tail(r, s->acc + s->released, s->acc_len - s->released);
    size_t upto = s->acc_len - keep;
    upto -= utf8_tail(s->acc, upto);
    if (upto > s->released) *release = upto;
    if (r->max_tokens >= 0 && s->generated >= r->max_tokens) return FINISH_LENGTH;
    if (s->n_cache >= E.n_ctx) return FINISH_LENGTH; /* the token cannot be fed: the context is full */
    return FINISH_NONE;
}

static int cache_push(slot *s, const int32_t *t, int n) {
    if (s->n_cache + n > E.n_ctx) return -1;
    memcpy(s->cache + s->n_cache, t, (size_t)n * sizeof *t);
    s->n_cache += n;
    return 0;
}

/* Under serve_mu: the free slot for r, the one whose cache shares the
 * longest prefix with its prompt; -1 if none is free. */
static int pick_slot(const serve_req *r) {
    int best = -1, best_k = -1;
    for (int i = 0; i < E.n_seq; i++) {
        const slot *s = &E.slots[i];
        if (s->r) continue;
        int k = 0;
        while (k < s->n_cache && k < r->n_prompt && s->cache[k] == r->prompt[k]) k++;
        if (k > best_k) { best = i; best_k = k; }
    }
    return best;
}

static void *engine_main(void *arg) {
    (void)arg;
    int n = E.n_seq;
    int *seqs = malloc((size_t)n * sizeof *seqs), *ntok = malloc((size_t)n * sizeof *ntok), *idx = malloc((size_t)n * sizeof *idx);
    const int32_t **toks = malloc((size_t)n * sizeof *toks);
    int32_t *out = malloc((size_t)n * sizeof *out);
    size_t *rel = malloc((size_t)n * sizeof *rel);
    int *why = malloc((size_t)n * sizeof *why);
    pthread_mutex_lock(&serve_mu);
    if (!seqs || !ntok || !idx || !toks || !out || !rel || !why) E.stopping = 1;
    while (!E.stopping) {
        for (int i = 0; i < n; i++)
            if (E.slots[i].r && E.slots[i].r->cancelled) finish(&E.slots[i], FINISH_ERROR, "the client went away");
        /* admit, oldest first */
        while (E.head) {
            serve_req *r = E.head;
            if (r->cancelled) {
                E.head = r->next;
                if (!E.head) E.tail = NULL;
                E.n_waiting--;
                slot tmp = {.r = r};
                finish(&tmp, FINISH_ERROR, "the client went away");
                continue;
            }
            int si = pick_slot(r);
            if (si < 0) break;
            E.head = r->next;
            if (!E.head) E.tail = NULL;
            E.n_waiting--;
            E.slots[si].r = r;
            E.slots[si].fresh = 1;
        }
        int active = 0;
        for (int i = 0; i < n; i++) active += E.slots[i].r != NULL;
        if (!active) {
            pthread_cond_wait(&E.cv, &serve_mu);
            continue;
        }
        pthread_mutex_unlock(&serve_mu);

        /* the step (serve_mu not held: the HTTP threads go on) */
        int k = 0;
        for (int i = 0; i < n; i++) {
            slot *s = &E.slots[i];
            serve_req *r = s->r;
            if (!r) continue;
            if (s->fresh) {
                s->fresh = 0;
                int keep = 0;
                while (keep < s->n_cache && keep < r->n_prompt && s->cache[keep] == r->prompt[keep]) keep++;
                if (keep == r->n_prompt) keep--; /* a step needs a token: the last one again */
                s->n_cache = keep;
                r->n_cached = keep;
                wgpt_status st = wgpt_batch_seq_keep(E.cfg.b, i, keep);
                if (st == WGPT_OK) st = wgpt_batch_seq_sampling(E.cfg.b, i, &r->samp);
                if (st != WGPT_OK) {
                    char msg[256];
                    snprintf(msg, sizeof msg, "%s", wgpt_batch_errmsg(E.cfg.b));
                    pthread_mutex_lock(&serve_mu);
                    finish(s, FINISH_ERROR, msg);
                    pthread_mutex_unlock(&serve_mu);
                    continue;
                }
                toks[k] = r->prompt + keep;
                ntok[k] = r->n_prompt - keep;
            } else {
                toks[k] = &s->last;
                ntok[k] = 1;
            }
            seqs[k] = i;
            idx[k++] = i;
        }
        if (!k) { pthread_mutex_lock(&serve_mu); continue; }
        wgpt_status st = wgpt_batch_decode(E.cfg.b, k, seqs, toks, ntok, out);
        pthread_mutex_lock(&serve_mu);
        E.steps++;
        if (k > E.max_seqs) E.max_seqs = k;
        pthread_mutex_unlock(&serve_mu);
        char msg[256] = "";
        if (st != WGPT_OK && st != WGPT_ERR_NOT_FINITE) snprintf(msg, sizeof msg, "%s", wgpt_batch_errmsg(E.cfg.b));
        for (int j = 0; j < k; j++) {
            slot *s = &E.slots[idx[j]];
            rel[j] = s->released;
            if (msg[0]) { why[j] = FINISH_ERROR; continue; }
            if (cache_push(s, toks[j], ntok[j])) { why[j] = FINISH_ERROR; continue; }
            s->last = out[j];
            why[j] = take_token(s, out[j], &rel[j]);
        }
        if (msg[0]) {
            /* nothing was done (a bad argument, a full context) or the device
             * failed: the caches are not trusted any more */
            for (int j = 0; j < k; j++) {
                E.slots[idx[j]].n_cache = 0;
                wgpt_batch_seq_keep(E.cfg.b, idx[j], 0);
            }
            if (E.cfg.verbose) fprintf(stderr, "serve: step failed: %s\n", msg);
        }
        pthread_mutex_lock(&serve_mu);
        for (int j = 0; j < k; j++) {
            slot *s = &E.slots[idx[j]];
            if (!s->r) continue;
            publish(s, rel[j]);
            if (why[j] != FINISH_NONE) {
                finish(s, why[j], msg[0] ? msg : why[j] == FINISH_ERROR ? "the model's logits are not finite" : NULL);
            } else {
                s->r->n_completion = s->generated;
                pthread_cond_broadcast(&s->r->cv);
            }
        }
    }
    /* stopping: everything still here ends */
    for (int i = 0; i < n; i++) finish(&E.slots[i], FINISH_ERROR, "the server is stopping");
    while (E.head) {
        serve_req *r = E.head;
        E.head = r->next;
        slot tmp = {.r = r};
        finish(&tmp, FINISH_ERROR, "the server is stopping");
    }
    E.tail = NULL;
    E.n_waiting = 0;
    E.running = 0;
    pthread_mutex_unlock(&serve_mu);
    free(seqs); free(ntok); free(idx); free(toks); free(out); free(rel); free(why);
    return NULL;
}

int serve_engine_start(const serve_engine_cfg *cfg) {
    E.cfg = *cfg;
    E.n_seq = wgpt_batch_n_seq(cfg->b);
    E.n_ctx = wgpt_batch_n_ctx(cfg->b);
    E.slots = calloc((size_t)E.n_seq, sizeof *E.slots);
    if (!E.slots) return cli_error("out of memory");
    for (int i = 0; i < E.n_seq; i++)
        if (!(E.slots[i].cache = malloc((size_t)E.n_ctx * sizeof(int32_t)))) return cli_error("out of memory");
    E.piece_cap = 256;
    if (!(E.piece = malloc(E.piece_cap))) return cli_error("out of memory");
    E.running = 1;
    if (pthread_create(&E.thread, NULL, engine_main, NULL)) { E.running = 0; return cli_error("cannot start a thread"); }
    return 0;
}

void serve_engine_stop(void) {
    pthread_mutex_lock(&serve_mu);
    int was = E.running || E.stopping;
    E.stopping = 1;
    pthread_cond_signal(&E.cv);
    pthread_mutex_unlock(&serve_mu);
    if (was) pthread_join(E.thread, NULL);
    pthread_mutex_lock(&serve_mu);
    slot *sl = E.slots;
    E.slots = NULL;
    pthread_mutex_unlock(&serve_mu);
    for (int i = 0; sl && i < E.n_seq; i++) {
        free(sl[i].cache);
        free(sl[i].acc);
    }
    free(sl);
    free(E.piece);
    E.piece = NULL;
}
