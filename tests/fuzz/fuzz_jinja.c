/* libFuzzer harness for the chat-template interpreter: the input is a
 * template, parsed and rendered over a small conversation with tight
 * bounds (so that a hostile template is cut short quickly, as it must be
 * whatever the bounds). A success must give text of the length it says,
 * within the output bound; a failure one line and no text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template/jinja.h"
#include "util/json.h"

static volatile unsigned sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *vars_json =
    "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"H\\u00e9llo \\\"x\\\"\\n\"},"
    "{\"role\": \"assistant\", \"content\": \"<think>\\nhm\\n</think>\\n\\nok\"}, {\"role\": \"user\", \"content\": \"\"}],"
    "\"add_generation_prompt\": true, \"bos_token\": \"<s>\", \"eos_token\": \"</s>\", \"tools\": [{\"name\": \"f\", \"n\": 1.5}]}";

static void one_line(const char *err) {
    if (!err[0] || strchr(err, '\n')) {
        fprintf(stderr, "bad failure message '%s'\n", err);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static json_doc *vars;
    static jinja_var v[8];
    static size_t nv;
    if (!vars) {
        char e[256];
        vars = json_parse(vars_json, strlen(vars_json), "vars", e, sizeof e);
        if (!vars) { fprintf(stderr, "%s\n", e); abort(); }
        const json_value *r = json_root(vars);
        for (size_t i = 0; i < r->n; i++) v[nv++] = (jinja_var){r->keys[i], &r->items[i]};
    }
    jinja_limits lim;
    jinja_limits_default(&lim);
    lim.max_steps = 20000;
    lim.max_output = 1 << 16;
    lim.max_memory = (size_t)32 << 20;
    lim.max_depth = 64;
    char err[512] = "";
    jinja_template *t = jinja_parse((const char *)data, size, &lim, err, sizeof err);
    if (!t) { one_line(err); return 0; }
    char *out = NULL;
    size_t len = 12345;
    if (jinja_render(t, v, nv, &out, &len, err, sizeof err) == 0) {
        if (!out || len > lim.max_output || out[len] != 0) abort();
        unsigned sum = 0;
        for (size_t i = 0; i < len; i++) sum += (unsigned char)out[i];
        sink = sum;
        free(out);
    } else {
        one_line(err);
        if (out || len) abort();
    }
    jinja_free(t);
    return 0;
}
