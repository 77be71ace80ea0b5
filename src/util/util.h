/* Small helpers shared by every part of wgpt. */
#ifndef WGPT_UTIL_H
#define WGPT_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Formats a one-line error message into err (if err != NULL). */
void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);   /* round to nearest even, like numpy/ggml */
float bf16_to_f32(uint16_t h);

/* Monotonic clock in seconds. */
double now_seconds(void);

#endif
