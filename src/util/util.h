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

/* Reads a whole file or stream into a malloc'd buffer (NUL-terminated).
 * Returns NULL with a message in err on failure. */
char *read_all(const char *path, size_t *len, char *err, size_t errlen);
char *read_stream(void *file /* FILE* */, size_t *len, char *err, size_t errlen);

/* Progress bar on stderr, drawn only when stderr is a terminal. */
typedef struct { const char *label; uint64_t total, done; double t0; int tty; int last_pct; } progress_bar;
void progress_begin(progress_bar *p, const char *label, uint64_t total);
void progress_update(progress_bar *p, uint64_t done);
void progress_end(progress_bar *p);

#endif
