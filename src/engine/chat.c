/* Chat templates through the public API: a model's or file's template and
 * its bos/eos texts, and rendering a conversation with src/template's
 * Jinja interpreter, with the variables transformers' apply_chat_template
 * gives a template. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "template/jinja.h"
#include "util/json.h"
#include "util/util.h"
#include "wgpt.h"

wgpt_status wgpt_chat_render(const char *template_src, const wgpt_chat_message *msgs, size_t n,
                             int add_generation_prompt, const char *bos, const char *eos, char **out, size_t *out_len,
                             char *err, size_t errlen) {
    if (out) *out = NULL;
    if (out_len) *out_len = 0;
    if (!template_src || !out || (!msgs && n)) {
        set_err(err, errlen, "wgpt_chat_render: no %s", !template_src ? "template" : !out ? "place for the text" : "messages");
        return WGPT_ERR_ARG;
    }
    for (size_t i = 0; i < n; i++)
        if (!msgs[i].role || !msgs[i].content) {
            set_err(err, errlen, "wgpt_chat_render: message %zu has no %s", i + 1, msgs[i].role ? "content" : "role");
            return WGPT_ERR_ARG;
        }
    static const char *const keys[2] = {"role", "content"};
    static const size_t key_lens[2] = {4, 7};
    json_value *items = calloc(n ? n : 1, sizeof *items), *fields = calloc(n ? 2 * n : 1, sizeof *fields);
    if (!items || !fields) {
        free(items);
        free(fields);
        set_err(err, errlen, "out of memory");
        return WGPT_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        json_value *f = &fields[2 * i];
        f[0].type = f[1].type = JSON_STRING;
        f[0].str = msgs[i].role;
        f[0].len = strlen(msgs[i].role);
        f[1].str = msgs[i].content;
        f[1].len = msgs[i].content_len ? msgs[i].content_len : strlen(msgs[i].content);
        items[i].type = JSON_OBJECT;
        items[i].n = 2;
        items[i].items = f;
        items[i].keys = (const char **)keys;
        items[i].key_lens = (size_t *)key_lens;
    }
    json_value messages = {.type = JSON_ARRAY, .n = n, .items = items};
    json_value agp = {.type = add_generation_prompt ? JSON_TRUE : JSON_FALSE};
    json_value b = {.type = JSON_STRING, .str = bos ? bos : "", .len = bos ? strlen(bos) : 0};
    json_value e = {.type = JSON_STRING, .str = eos ? eos : "", .len = eos ? strlen(eos) : 0};
    jinja_var vars[] = {{"messages", &messages}, {"add_generation_prompt", &agp}, {"bos_token", &b}, {"eos_token", &e}};
    char msg[512];
    wgpt_status st = WGPT_OK;
    jinja_template *t = jinja_parse(template_src, strlen(template_src), NULL, msg, sizeof msg);
    if (!t || jinja_render(t, vars, sizeof vars / sizeof *vars, out, out_len, msg, sizeof msg) != 0) {
        set_err(err, errlen, "chat template: %s", msg);
        st = strstr(msg, "memory") && !strstr(msg, "template needs") ? WGPT_ERR_NOMEM : WGPT_ERR_FORMAT;
    }
    jinja_free(t);
    free(items);
    free(fields);
    return st;
}

static char *dup_n(const char *p, size_t n) {
    char *s = malloc(n + 1);
    if (!s) return NULL;
    if (n) memcpy(s, p, n);
    s[n] = 0;
    return s;
}

/* bos_token / eos_token of tokenizer_config.json: a string, or an
 * AddedToken object {"content": ...}. 1: found (*out set), 0: absent. */
static int config_token(const json_value *root, const char *key, char **out) {
    const json_value *v = json_get(root, key);
    if (v && v->type == JSON_OBJECT) v = json_get(v, "content");
    if (!v || v->type != JSON_STRING) return 0;
    *out = dup_n(v->str, v->len);
    return 1;
}

/* What both wgpt_file_chat_template and wgpt_model_chat_template return,
 * from the template text, tokenizer_config.json (NULL: none) and the
 * tokens' own texts (NULL: none). */
static wgpt_status finish(const char *tpl, size_t tpl_len, const char *config, size_t config_len, const char *bos_piece,
                          size_t bos_len, const char *eos_piece, size_t eos_len, char **tmpl, char **bos, char **eos,
                          char *err, size_t errlen) {
    char *t = NULL, *b = NULL, *e = NULL;
    int got_b = 0, got_e = 0;
    if (config) {
        char msg[256];
        json_doc *d = json_parse(config, config_len, "tokenizer_config.json", msg, sizeof msg);
        if (!d) { set_err(err, errlen, "%s", msg); return WGPT_ERR_FORMAT; }
        got_b = config_token(json_root(d), "bos_token", &b);
        got_e = config_token(json_root(d), "eos_token", &e);
        json_free(d);
    }
    if (!got_b) b = dup_n(bos_piece ? bos_piece : "", bos_piece ? bos_len : 0);
    if (!got_e) e = dup_n(eos_piece ? eos_piece : "", eos_piece ? eos_len : 0);
    if (tpl) t = dup_n(tpl, tpl_len);
    if (!b || !e || (tpl && !t)) {
        free(t);
        free(b);
        free(e);
        set_err(err, errlen, "out of memory");
        return WGPT_ERR_NOMEM;
    }
    if (tmpl) *tmpl = t; else free(t);
    if (bos) *bos = b; else free(b);
    if (eos) *eos = e; else free(e);
    return WGPT_OK;
}

static int file_str(const wgpt_file *f, const char *key, wgpt_str *out) {
    int64_t i = wgpt_file_meta_find(f, key);
    wgpt_meta m;
    if (i < 0 || wgpt_file_meta(f, (uint64_t)i, &m) != WGPT_OK || m.type != WGPT_META_STR) return 0;
    *out = m.str;
    return 1;
}

/* The text of the token whose id the metadata key gives. */
static int file_token(wgpt_file *f, const char *id_key, wgpt_str *out) {
    int64_t i = wgpt_file_meta_find(f, id_key), k = wgpt_file_meta_find(f, "tokenizer.ggml.tokens");
    wgpt_meta m, t;
    if (i < 0 || k < 0 || wgpt_file_meta(f, (uint64_t)i, &m) != WGPT_OK) return 0;
    uint64_t id = m.type == WGPT_META_UINT ? m.u : m.type == WGPT_META_INT && m.i >= 0 ? (uint64_t)m.i : UINT64_MAX;
    if (id == UINT64_MAX || wgpt_file_meta_elem(f, (uint64_t)k, id, &t) != WGPT_OK || t.type != WGPT_META_STR) return 0;
    *out = t.str;
    return 1;
}

wgpt_status wgpt_file_chat_template(wgpt_file *f, char **tmpl, char **bos, char **eos, char *err, size_t errlen) {
    if (tmpl) *tmpl = NULL;
    if (bos) *bos = NULL;
    if (eos) *eos = NULL;
    if (!f) { set_err(err, errlen, "wgpt_file_chat_template: no file"); return WGPT_ERR_ARG; }
    wgpt_str t = {0}, c = {0}, b = {0}, e = {0};
    int has_t = file_str(f, "tokenizer.chat_template", &t), has_c = file_str(f, "tokenizer.huggingface.config_json", &c);
    int has_b = file_token(f, "tokenizer.ggml.bos_token_id", &b), has_e = file_token(f, "tokenizer.ggml.eos_token_id", &e);
    return finish(has_t ? t.ptr : NULL, t.len, has_c ? c.ptr : NULL, c.len, has_b ? b.ptr : NULL, b.len,
                  has_e ? e.ptr : NULL, e.len, tmpl, bos, eos, err, errlen);
}

/* A metadata string of the model, malloc'd; NULL if absent (or no memory:
 * *nomem set). */
static char *model_str(const wgpt_model *m, const char *key, size_t *len, int *nomem) {
    int n = wgpt_model_meta_str(m, key, NULL, 0);
    if (n < 0) return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s) { *nomem = 1; return NULL; }
    wgpt_model_meta_str(m, key, s, (size_t)n + 1);
    *len = (size_t)n;
    return s;
}

static char *token_text(const wgpt_tokenizer *tok, int32_t id, size_t *len) {
    if (id < 0) return NULL;
    int n = tokenizer_token_to_piece(tok, id, NULL, 0);
    if (n < 0) return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s) return NULL;
    tokenizer_token_to_piece(tok, id, s, (size_t)n);
    s[n] = 0;
    *len = (size_t)n;
    return s;
}

wgpt_status wgpt_model_chat_template(const wgpt_model *m, char **tmpl, char **bos, char **eos, char *err,
                                     size_t errlen) {
    if (tmpl) *tmpl = NULL;
    if (bos) *bos = NULL;
    if (eos) *eos = NULL;
    if (!m) { set_err(err, errlen, "wgpt_model_chat_template: no model"); return WGPT_ERR_ARG; }
    int nomem = 0;
    size_t tl = 0, cl = 0, bl = 0, el = 0;
    char *t = model_str(m, "tokenizer.chat_template", &tl, &nomem);
    char *c = model_str(m, "tokenizer.huggingface.config_json", &cl, &nomem);
    char *b = token_text(m->tok, tokenizer_bos(m->tok), &bl), *e = token_text(m->tok, tokenizer_eos(m->tok), &el);
    wgpt_status st = nomem ? WGPT_ERR_NOMEM : finish(t, tl, c, cl, b, bl, e, el, tmpl, bos, eos, err, errlen);
    if (nomem) set_err(err, errlen, "out of memory");
    free(t);
    free(c);
    free(b);
    free(e);
    return st;
}

wgpt_status wgpt_rewind(wgpt_context *c, int n_keep) {
    if (!c) return WGPT_ERR_ARG;
    if (c->inflight) {
        snprintf(c->err, sizeof c->err, "wgpt_rewind: a step is in flight");
        return WGPT_ERR_STATE;
    }
    if (n_keep < 0 || (size_t)n_keep > (size_t)c->pos + c->n_pending) {
        snprintf(c->err, sizeof c->err, "wgpt_rewind: %d tokens to keep of %zu", n_keep, (size_t)c->pos + c->n_pending);
        return WGPT_ERR_ARG;
    }
    context_drop_ahead(c);
    c->pending_from_gpu = 0;
    /* the cache past pos is written again before it is read: moving pos back is enough */
    if (n_keep <= c->pos) {
        c->pos = n_keep;
        c->n_pending = 0;
    } else c->n_pending = (size_t)(n_keep - c->pos);
    return WGPT_OK;
}
