/* libFuzzer harness for the JSON reader (src/util/json.c): on success the
 * document is walked and written back, and what is written must parse
 * again to the same text (the writer and reader agree); on failure there
 * must be one line naming the document. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[256] = "";
    json_doc *d = json_parse((const char *)data, size, "fuzz.json", err, sizeof err);
    if (!d) {
        if (strncmp(err, "fuzz.json: ", 11) != 0 || strchr(err, '\n')) {
            fprintf(stderr, "bad failure message '%s'\n", err);
            abort();
        }
        return 0;
    }
    for (int ascii = 0; ascii < 2; ascii++) {
        json_buf b = {0};
        json_write(&b, json_root(d), ascii);
        if (b.failed) abort();
        json_doc *again = json_parse(b.data ? b.data : "", b.len, "again", err, sizeof err);
        if (!again) { fprintf(stderr, "written JSON does not parse: %s\n", err); abort(); }
        json_buf b2 = {0};
        json_write(&b2, json_root(again), ascii);
        if (b2.len != b.len || memcmp(b2.data, b.data, b.len) != 0) abort();
        jbuf_free(&b2);
        json_free(again);
        jbuf_free(&b);
    }
    json_free(d);
    return 0;
}
