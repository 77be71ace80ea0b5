#include "util/util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void set_err(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) bits = sign;
        else { /* subnormal: normalise */
            int e = -1;
            do { man <<= 1; e++; } while (!(man & 0x400));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ff) << 13);
        }
    } else if (exp == 31) bits = sign | 0x7f800000u | (man << 13);
    else bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    int32_t exp = (int32_t)((x >> 23) & 0xff) - 127 + 15;
    uint32_t man = x & 0x7fffff;
    if (((x >> 23) & 0xff) == 0xff) return (uint16_t)(sign | 0x7c00 | (man ? 0x200 : 0));
    if (exp >= 31) return (uint16_t)(sign | 0x7c00);
    if (exp <= 0) {
        if (exp < -10) return (uint16_t)sign;
        man |= 0x800000;
        uint32_t shift = (uint32_t)(14 - exp);
        uint32_t half = man >> shift, rem = man & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)exp << 10) | (man >> 13);
    uint32_t rem = man & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) half++;
    return (uint16_t)half;
}

float bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

char *read_stream(void *file, size_t *len, char *err, size_t errlen) {
    FILE *f = file;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) { set_err(err, errlen, "out of memory"); return NULL; }
    for (;;) {
        if (n + 1 >= cap) {
            char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap *= 2);
            if (!nb) { free(buf); set_err(err, errlen, "out of memory after reading %zu bytes", n); return NULL; }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    /* A read error is not the end of the text: an empty prompt is no answer to EISDIR. */
    if (ferror(f)) {
        set_err(err, errlen, "cannot read the input: %s", strerror(errno ? errno : EIO));
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

char *read_all(const char *path, size_t *len, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) { set_err(err, errlen, "cannot open %s", path); return NULL; }
    char *buf = read_stream(f, len, err, errlen);
    fclose(f);
    return buf;
}

void progress_begin(progress_bar *p, const char *label, uint64_t total) {
    p->label = label; p->total = total ? total : 1; p->done = 0;
    p->t0 = now_seconds(); p->tty = isatty(2); p->last_pct = -1;
}

void progress_update(progress_bar *p, uint64_t done) {
    p->done = done;
    if (!p->tty) return;
    int pct = (int)(100.0 * (double)done / (double)p->total);
    if (pct == p->last_pct) return;
    p->last_pct = pct;
    int width = 30, fill = pct * width / 100;
    double dt = now_seconds() - p->t0, mb = (double)done / 1e6;
    fprintf(stderr, "\r%s [%.*s%*s] %3d%% %.1f MB %.1f MB/s", p->label, fill,
            "##############################", width - fill, "", pct, mb, dt > 0 ? mb / dt : 0.0);
    fflush(stderr);
}

void progress_end(progress_bar *p) {
    if (p->tty && p->last_pct >= 0) fprintf(stderr, "\r\033[K");
}
