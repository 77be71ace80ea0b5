/* Token sampling on the CPU over one logits vector, in llama.cpp's order:
 * repetition penalty, top-k, top-p, min-p, temperature, seeded draw.
 * top-p and min-p judge probabilities of the untempered logits (as llama.cpp
 * does); temperature only shapes the final draw among the survivors. */
#ifndef WGPT_SAMPLING_SAMPLER_H
#define WGPT_SAMPLING_SAMPLER_H

#include <stdint.h>

typedef struct {
    float temperature;    /* <= 0: greedy argmax (lowest index on ties), no randomness */
    int top_k;            /* <= 0: off */
    float top_p;          /* >= 1: off */
    float min_p;          /* <= 0: off */
    float repeat_penalty; /* 1: off */
    int repeat_last_n;    /* window of accepted tokens the penalty looks at; 0: off, -1: all */
    uint64_t seed;
} wgpt_sampler_params;

/* temp 0.8, top_k 40, top_p 0.95, min_p 0.05, repeat_penalty 1.0 (off),
 * repeat_last_n 64, seed 0. */
void sampler_params_default(wgpt_sampler_params *p);

typedef struct sampler sampler;

/* NULL if p is NULL, n_vocab <= 0, or memory runs out. */
sampler *sampler_create(const wgpt_sampler_params *p, int n_vocab);
void sampler_free(sampler *s);
/* Ids from n_allowed up are never picked, as if their logits were -inf:
 * a vocabulary padded past the tokenizer's last token has rows with no text.
 * n_allowed outside 1..n_vocab allows every id. */
void sampler_allow_only(sampler *s, int n_allowed);
/* Picks the next token from logits[n_vocab] (not modified). The pick is not
 * added to the history: call sampler_accept for it, as for prompt tokens. */
int32_t sampler_sample(sampler *s, const float *logits);
void sampler_accept(sampler *s, int32_t token);
/* For sampling elsewhere by the same rules (gpu_sampler.h): the
 * parameters, the allowed ids, the penalty window (the last repeat_last_n
 * accepted tokens, oldest first; *n 0 when the penalty is off), and the
 * uniform draw in [0, 1) sampler_sample would make next, which advances
 * the random stream as that call would. */
const wgpt_sampler_params *sampler_params(const sampler *s);
/* Whether p's repetition penalty does anything (a penalty other than 1 over a window). */
int sampler_penalises(const wgpt_sampler_params *p);
int sampler_n_allowed(const sampler *s);
const int32_t *sampler_window(const sampler *s, int *n);
double sampler_draw(sampler *s);
/* Forgets the history and restarts the random stream from the seed, so a
 * reset sampler repeats its earlier picks exactly. */
void sampler_reset(sampler *s);

#endif
