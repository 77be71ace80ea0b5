#include "sampling/sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct { float logit; int32_t id; } candidate;

struct sampler {
    wgpt_sampler_params p;
    int n_vocab;
    int n_allowed;            /* ids at or past it are masked */
    uint64_t rng[4];          /* xoshiro256** state */
    int32_t *history;         /* accepted tokens, oldest first */
    size_t n_history, cap_history;
    float *logits;            /* penalised copy of the caller's logits */
    candidate *cand;          /* [n_vocab] */
    double *weight;           /* [n_vocab] unnormalised probabilities of the survivors */
    uint32_t *seen;           /* [n_vocab] stamp: token already penalised this call */
    uint32_t stamp;
};

void sampler_params_default(wgpt_sampler_params *p) {
    p->temperature = 0.8f;
    p->top_k = 40;
    p->top_p = 0.95f;
    p->min_p = 0.05f;
    p->repeat_penalty = 1.0f;
    p->repeat_last_n = 64;
    p->seed = 0;
}

/* ---- random numbers: splitmix64 expands the seed into xoshiro256** state ---- */

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(uint64_t s[4]) {
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static void rng_seed(uint64_t s[4], uint64_t seed) {
    for (int i = 0; i < 4; i++) s[i] = splitmix64(&seed);
}

/* Uniform in [0, 1) with 53 random bits. */
static double rng_uniform(uint64_t s[4]) { return (double)(rng_next(s) >> 11) * 0x1.0p-53; }

/* ---- lifecycle ---- */

sampler *sampler_create(const wgpt_sampler_params *p, int n_vocab) {
    if (!p || n_vocab <= 0) return NULL;
    sampler *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->p = *p;
    s->n_vocab = n_vocab;
    s->n_allowed = n_vocab;
    s->logits = malloc((size_t)n_vocab * sizeof *s->logits);
    s->cand = malloc((size_t)n_vocab * sizeof *s->cand);
    s->weight = malloc((size_t)n_vocab * sizeof *s->weight);
    s->seen = calloc((size_t)n_vocab, sizeof *s->seen);
    if (!s->logits || !s->cand || !s->weight || !s->seen) { sampler_free(s); return NULL; }
    sampler_reset(s);
    return s;
}

void sampler_free(sampler *s) {
    if (!s) return;
    free(s->history);
    free(s->logits);
    free(s->cand);
    free(s->weight);
    free(s->seen);
    free(s);
}

void sampler_allow_only(sampler *s, int n_allowed) {
    s->n_allowed = n_allowed >= 1 && n_allowed <= s->n_vocab ? n_allowed : s->n_vocab;
}

void sampler_reset(sampler *s) {
    s->n_history = 0;
    rng_seed(s->rng, s->p.seed);
}

/* Out-of-range tokens are ignored: they could not be penalised anyway. */
void sampler_accept(sampler *s, int32_t token) {
    if (token < 0 || token >= s->n_vocab || s->p.repeat_last_n == 0) return;
    size_t window = s->p.repeat_last_n > 0 ? (size_t)s->p.repeat_last_n : 0;
    /* With a finite window the history is compacted once it holds two
     * windows, so memory stays bounded and appends stay O(1) amortised. */
    if (window && s->n_history == 2 * window) {
        memmove(s->history, s->history + window, window * sizeof *s->history);
        s->n_history = window;
    }
    if (s->n_history == s->cap_history) {
        size_t cap = s->cap_history ? 2 * s->cap_history : (window ? 2 * window : 256);
        int32_t *h = realloc(s->history, cap * sizeof *h);
        if (!h) return; /* the penalty then sees a shorter history; sampling still works */
        s->history = h;
        s->cap_history = cap;
    }
    s->history[s->n_history++] = token;
}

const wgpt_sampler_params *sampler_params(const sampler *s) { return &s->p; }
int sampler_penalises(const wgpt_sampler_params *p) { return p->repeat_penalty != 1.0f && p->repeat_last_n != 0; }
int sampler_n_allowed(const sampler *s) { return s->n_allowed; }
double sampler_draw(sampler *s) { return rng_uniform(s->rng); }

const int32_t *sampler_window(const sampler *s, int *n) {
    size_t k = s->n_history;
    if (!sampler_penalises(&s->p)) k = 0;
    else if (s->p.repeat_last_n > 0 && (size_t)s->p.repeat_last_n < k) k = (size_t)s->p.repeat_last_n;
    *n = (int)k;
    return k ? s->history + (s->n_history - k) : NULL;
}

/* ---- stages ---- */

/* llama.cpp's penalty: each distinct token of the recent window once,
 * dividing positive logits and multiplying negative ones, so the token
 * always becomes less likely. */
static void apply_repeat_penalty(sampler *s) {
    float pen = s->p.repeat_penalty;
    if (!sampler_penalises(&s->p) || s->n_history == 0) return;
    size_t n = s->n_history;
    if (s->p.repeat_last_n > 0 && (size_t)s->p.repeat_last_n < n) n = (size_t)s->p.repeat_last_n;
    if (++s->stamp == 0) { /* wrapped: old stamps could collide */
        memset(s->seen, 0, (size_t)s->n_vocab * sizeof *s->seen);
        s->stamp = 1;
    }
    for (size_t i = s->n_history - n; i < s->n_history; i++) {
        int32_t t = s->history[i];
        if (s->seen[t] == s->stamp) continue;
        s->seen[t] = s->stamp;
        float *l = &s->logits[t];
        *l = *l > 0 ? *l / pen : *l * pen;
    }
}

/* Total order: higher logit first, then lower id, so ties resolve the same
 * way every time. */
static int better(candidate a, candidate b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

/* Binary heap whose root is the element that `first` ranks first. */
static void sift_down(candidate *h, int n, int i, int (*first)(candidate, candidate)) {
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && first(h[l], h[m])) m = l;
        if (r < n && first(h[r], h[m])) m = r;
        if (m == i) return;
        candidate t = h[i]; h[i] = h[m]; h[m] = t;
        i = m;
    }
}

static int worse(candidate a, candidate b) { return better(b, a); }

/* The k best logits, best first, in O(n log k): a heap rooted at the worst
 * of the current k decides in one comparison whether a newcomer enters. */
static int select_top_k(const float *logits, int n, int k, candidate *out) {
    for (int i = 0; i < k; i++) out[i] = (candidate){logits[i], i};
    for (int i = k / 2 - 1; i >= 0; i--) sift_down(out, k, i, worse);
    for (int i = k; i < n; i++) {
        candidate c = {logits[i], i};
        if (better(c, out[0])) { out[0] = c; sift_down(out, k, 0, worse); }
    }
    /* Heap sort: moving the worst to the end leaves the best at the front. */
    for (int end = k - 1; end > 0; end--) {
        candidate t = out[0]; out[0] = out[end]; out[end] = t;
        sift_down(out, end, 0, worse);
    }
    return k;
}

static int32_t argmax(const float *l, int n) {
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (l[i] > l[best]) best = i;
    return best;
}

int32_t sampler_sample(sampler *s, const float *logits) {
    const int n = s->n_vocab;
    const wgpt_sampler_params *p = &s->p;
    float *l = s->logits;
    for (int i = 0; i < n; i++) l[i] = isnan(logits[i]) || i >= s->n_allowed ? -INFINITY : logits[i];
    apply_repeat_penalty(s);
    if (p->temperature <= 0) return argmax(l, n);

    candidate *c = s->cand;
    int nc, sorted = 0;
    if (p->top_k > 0 && p->top_k < n) {
        nc = select_top_k(l, n, p->top_k, c);
        sorted = 1;
    } else {
        for (int i = 0; i < n; i++) c[i] = (candidate){l[i], i};
        nc = n;
    }
    float max = -INFINITY;
    for (int i = 0; i < nc; i++) if (c[i].logit > max) max = c[i].logit;
    if (isinf(max)) return argmax(l, n); /* all masked, or one certain: nothing to weigh */

    /* top-p and min-p both keep a best-first prefix, so the survivors are
     * found by walking candidates in order and stopping at the first cut.
     * Unsorted candidates are visited through a max-heap, which orders only
     * as many as the cuts need instead of sorting the whole vocabulary. */
    candidate *kept = c;
    int nk = nc;
    if (p->top_p < 1.0f || p->min_p > 0.0f) {
        double z = 0; /* top-p normalises over all candidates, before min-p */
        for (int i = 0; i < nc; i++) z += exp((double)c[i].logit - max);
        if (!sorted) for (int i = nc / 2 - 1; i >= 0; i--) sift_down(c, nc, i, better);
        double cum = 0;
        int m = 0;
        while (m < nc) {
            candidate x;
            if (sorted) x = c[m];
            else { /* pop the root into the slot the heap gives up */
                int h = nc - m;
                x = c[0]; c[0] = c[h - 1]; c[h - 1] = x;
                sift_down(c, h - 1, 0, better);
            }
            double rel = exp((double)x.logit - max); /* prob / max prob */
            if (m > 0 && p->min_p > 0.0f && rel < p->min_p) break;
            m++;
            cum += rel / z;
            if (p->top_p < 1.0f && cum >= p->top_p) break;
        }
        kept = sorted ? c : c + (nc - m);
        nk = m;
    }

    /* Temperature, then the draw: softmax(l / T) over the survivors. */
    double inv_t = 1.0 / p->temperature, sum = 0;
    for (int i = 0; i < nk; i++) {
        s->weight[i] = exp(((double)kept[i].logit - max) * inv_t);
        sum += s->weight[i];
    }
    double target = rng_uniform(s->rng) * sum, acc = 0;
    int32_t last = kept[0].id;
    for (int i = 0; i < nk; i++) {
        if (s->weight[i] <= 0) continue;
        acc += s->weight[i];
        last = kept[i].id;
        if (target < acc) return last;
    }
    return last; /* rounding left target at the very top */
}
