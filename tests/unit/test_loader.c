/* The step-driven loader (what the browser uses) against the native path:
 * header grown from a few bytes, weights handed over one range at a time
 * from copies that are freed at once, and the same logits as a model
 * loaded with wgpt_model_load. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "formats/gguf.h"
#include "util/util.h"
#include "wgpt.h"

static const char *model_path(void) {
    const char *root = getenv("WGPT_ROOT");
    static char p[4096];
    snprintf(p, sizeof p, "%s/models/default.gguf", root ? root : ".");
    return p;
}

/* The whole model file in memory, as the browser would hold its pieces. */
static uint8_t *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *buf = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n > 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n)) && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = n > 0 ? (size_t)n : 0;
    return buf;
}

static wgpt_model *load_in_steps(const uint8_t *file, size_t size) {
    char err[512];
    wgpt_model_params mp;
    wgpt_model_params_default(&mp);
    mp.progress = 0;
    wgpt_loader *l = NULL;
    uint64_t need = 0;
    size_t have = 64;
    int rounds = 0;
    wgpt_status st;
    while ((st = wgpt_loader_begin(file, have, size, &mp, &l, &need, err, sizeof err)) == WGPT_PENDING) {
        assert_true(need > have && need <= size);
        have = (size_t)need;
        rounds++;
    }
    assert_int_equal(st, WGPT_OK);
    assert_true(rounds >= 1);
    uint64_t off, len, last_end = 0;
    int ranges = 0;
    while (wgpt_loader_next(l, &off, &len) == WGPT_PENDING) {
        assert_true(off >= last_end && off + len <= size); /* front to back, inside the file */
        last_end = off + len;
        uint8_t *copy = malloc(len);
        memcpy(copy, file + off, len);
        assert_int_equal(wgpt_loader_provide(l, copy, len, err, sizeof err), WGPT_OK);
        memset(copy, 0xAB, len); /* the loader must not keep the caller's bytes */
        free(copy);
        ranges++;
    }
    assert_true(ranges > 10);
    wgpt_model *m = NULL;
    assert_int_equal(wgpt_loader_finish(l, &m, err, sizeof err), WGPT_OK);
    return m;
}

static float *logits_of(wgpt_model *m, const int32_t *ids, size_t n) {
    char err[512];
    wgpt_context_params cp;
    wgpt_context_params_default(&cp);
    cp.logits_all = 1;
    cp.n_ctx = 64;
    wgpt_context *c = NULL;
    assert_int_equal(wgpt_context_create(m, &cp, &c, err, sizeof err), WGPT_OK);
    float *out = malloc(n * (size_t)wgpt_model_n_vocab(m) * sizeof(float));
    assert_int_equal(wgpt_eval_logits(c, ids, n, out), WGPT_OK);
    wgpt_context_free(c);
    return out;
}

static void test_steps_match_native(void **state) {
    (void)state;
    size_t size;
    char err[512];
    uint8_t *file = read_file(model_path(), &size);
    assert_non_null(file);
    wgpt_model *stepped = load_in_steps(file, size);
    wgpt_model *native = NULL;
    assert_int_equal(wgpt_model_load(model_path(), NULL, &native, err, sizeof err), WGPT_OK);
    int32_t *ids;
    size_t n;
    assert_int_equal(wgpt_tokenize(stepped, "In the beginning God", 20, 1, 0, &ids, &n, err, sizeof err), WGPT_OK);
    free(file); /* the model keeps nothing of the caller's buffers */
    float *a = logits_of(stepped, ids, n), *b = logits_of(native, ids, n);
    size_t V = (size_t)wgpt_model_n_vocab(native);
    for (size_t i = 0; i < n * V; i++) assert_true(a[i] == b[i]);
    assert_string_equal(wgpt_model_desc(stepped), wgpt_model_desc(native));
    free(a); free(b); free(ids);
    wgpt_model_free(stepped);
    wgpt_model_free(native);
}

static void test_misuse_is_refused(void **state) {
    (void)state;
    size_t size;
    char err[512];
    uint8_t *file = read_file(model_path(), &size);
    assert_non_null(file);
    wgpt_loader *l = NULL;
    uint64_t need, off, len;
    assert_int_equal(wgpt_loader_begin(file, size, size, NULL, &l, &need, err, sizeof err), WGPT_OK);
    assert_int_equal(wgpt_loader_next(l, &off, &len), WGPT_PENDING);
    assert_int_equal(wgpt_loader_provide(l, file + off, len - 1, err, sizeof err), WGPT_ERR_ARG);
    assert_non_null(strstr(err, "expected"));
    wgpt_model *m = NULL;
    assert_int_equal(wgpt_loader_finish(l, &m, err, sizeof err), WGPT_ERR_STATE);
    assert_null(m);
    wgpt_loader_free(l);
    /* A whole file that is not a GGUF: an error at once, not a request for more. */
    memcpy(file, "GGUX", 4);
    assert_int_equal(wgpt_loader_begin(file, size, size, NULL, &l, &need, err, sizeof err), WGPT_ERR_FORMAT);
    assert_null(l);
    free(file);
}

/* S4: the QA report's Appendix B probe. A 1 MiB read of an 8 GiB URL whose
 * first bytes are not "GGUF" fails at the first call with the reason; the
 * old loader answered PENDING and asked for 4, 16, 64 MiB... up to the
 * whole file. */
static void test_bad_magic_fails_at_first_call(void **state) {
    (void)state;
    const uint64_t file_size = 8ull << 30;
    const size_t len = 1 << 20;
    uint8_t *buf = calloc(1, len);
    assert_non_null(buf);
    memcpy(buf, "NOPE", 4);
    wgpt_loader *l = (wgpt_loader *)buf; /* must be cleared */
    uint64_t need = 12345;
    char err[256] = "";
    assert_int_equal(wgpt_loader_begin(buf, len, file_size, NULL, &l, &need, err, sizeof err), WGPT_ERR_FORMAT);
    assert_null(l);
    assert_int_equal(need, 0);
    assert_string_equal(err, "gguf: not a GGUF file (magic 'NOPE', expected 'GGUF')");
    /* Damage past the magic is as final: a version-1 header, and counts no
     * file of this size could hold. */
    memcpy(buf, "GGUF\x01\0\0\0", 8);
    assert_int_equal(wgpt_loader_begin(buf, len, file_size, NULL, &l, &need, err, sizeof err), WGPT_ERR_FORMAT);
    assert_non_null(strstr(err, "version 1"));
    memcpy(buf, "GGUF\x03\0\0\0\0\0\0\0\0\0\0\x40\0\0\0\0\0\0\0\0", 24); /* 2^62 tensors */
    assert_int_equal(wgpt_loader_begin(buf, len, file_size, NULL, &l, &need, err, sizeof err), WGPT_ERR_FORMAT);
    assert_int_equal(need, 0);
    assert_non_null(strstr(err, "claims 4611686018427387904 tensors"));
    free(buf);
}

/* S4: a valid header cut short is the one case that asks for more: PENDING
 * with a request past the bytes given and within the file, until the header
 * parses. The requests follow what the parser needs, so the prefix read
 * stays near the header's size instead of growing toward the file's. */
static void test_truncated_header_pending_then_ok(void **state) {
    (void)state;
    size_t size;
    char err[512];
    uint8_t *file = read_file(model_path(), &size);
    assert_non_null(file);
    gguf_file g;
    assert_int_equal(gguf_parse(&g, file, size, err, sizeof err), 0);
    uint64_t header = g.data_offset;
    gguf_close(&g);
    wgpt_model_params mp;
    wgpt_model_params_default(&mp);
    mp.progress = 0;
    wgpt_loader *l = NULL;
    uint64_t need = 0;
    size_t have = 100;
    int rounds = 0;
    wgpt_status st;
    while ((st = wgpt_loader_begin(file, have, size, &mp, &l, &need, err, sizeof err)) == WGPT_PENDING) {
        assert_null(l);
        assert_true(need > have && need <= size);
        assert_non_null(strstr(err, "goes on past the first")); /* what was cut, for a caller that logs it */
        have = (size_t)need;
        assert_true(++rounds < 20);
    }
    assert_int_equal(st, WGPT_OK);
    assert_non_null(l);
    assert_true(have >= header);
    assert_true(have <= 2 * header + 65536);
    assert_true(have < size / 4);
    wgpt_loader_free(l);
    free(file);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_magic_fails_at_first_call),
        cmocka_unit_test(test_truncated_header_pending_then_ok),
        cmocka_unit_test(test_steps_match_native),
        cmocka_unit_test(test_misuse_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
