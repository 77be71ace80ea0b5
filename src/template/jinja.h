/* A small Jinja interpreter for chat templates: what the templates of
 * tokenizer_config.json and GGUF's tokenizer.chat_template use, rendered as
 * transformers renders them (trim_blocks and lstrip_blocks on, one trailing
 * newline of the source dropped) and, where Python's Jinja and
 * @huggingface/jinja (transformers.js) differ in what a value prints as,
 * as the latter does: `{{ true }}` is "true", `{{ none }}` prints nothing,
 * lists and dicts print as JSON with ", " and ": ". Comparisons are
 * Python's ("" == false is false; @huggingface/jinja's JavaScript == says
 * true).
 *
 * Templates come from model files, so they are hostile input: nesting,
 * steps (loop iterations, calls), memory and output are bounded, and
 * everything a render allocates lives in one arena freed at its end. A
 * construct outside the subset is an error naming it and its line, never
 * silently wrong output. */
#ifndef WGPT_TEMPLATE_JINJA_H
#define WGPT_TEMPLATE_JINJA_H

#include <stddef.h>
#include <stdint.h>

#include "util/json.h"

typedef struct {
    int max_depth;          /* nesting of the source and of calls at run time */
    uint64_t max_steps;     /* statements run, loop iterations and calls, in all */
    size_t max_output;      /* bytes of rendered text */
    size_t max_memory;      /* bytes the parse or the render may allocate */
} jinja_limits;

/* 200, 10M, 64 MiB, 512 MiB. */
void jinja_limits_default(jinja_limits *l);

typedef struct jinja_template jinja_template;

/* Parses src[0..len). lim NULL: the defaults (kept by the template for its
 * renders). On failure NULL and one line in err: "line N: reason". */
jinja_template *jinja_parse(const char *src, size_t len, const jinja_limits *lim, char *err, size_t errlen);
void jinja_free(jinja_template *t);

/* A variable given to a render: a JSON value (strings may hold NUL bytes;
 * not kept past the call). */
typedef struct {
    const char *name;
    const json_value *value;
} jinja_var;

/* Renders with the given variables (beside the globals range, namespace,
 * raise_exception, strftime_now, dict). On success 0 and *out (malloc'd,
 * NUL-terminated, *out_len bytes; free()). On failure -1, *out NULL, one
 * line in err: "line N: reason"; raise_exception(msg) gives
 * "line N: raise_exception: msg". */
int jinja_render(const jinja_template *t, const jinja_var *vars, size_t n_vars, char **out, size_t *out_len,
                 char *err, size_t errlen);

#endif
