/* wgpt template: a conversation rendered with a chat template, exactly as
 * the model would be given it. No GPU: the template and the bos/eos texts
 * come from the model file's header. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "util/json.h"
#include "util/text.h"

static char *read_file(const char *path, size_t *len, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) { snprintf(err, errlen, "cannot open it"); return NULL; }
    char *s = cli_read_stream(f, len, err, errlen);
    fclose(f);
    return s;
}

/* A tokenizer_config.json's chat_template: a string, or a list of named
 * templates of which "default" is the one. */
static const json_value *config_template(const json_value *root) {
    const json_value *t = json_get(root, "chat_template");
    if (t && t->type == JSON_ARRAY)
        for (size_t i = 0; i < t->n; i++) {
            const char *name;
            size_t nl;
            if (json_get_str(&t->items[i], "name", &name, &nl) == 0 && !strcmp(name, "default")) {
                t = json_get(&t->items[i], "template");
                break;
            }
        }
    return t && t->type == JSON_STRING ? t : NULL;
}

static char *config_token(const json_value *root, const char *key) {
    const json_value *v = json_get(root, key);
    if (v && v->type == JSON_OBJECT) v = json_get(v, "content");
    return v && v->type == JSON_STRING ? strdup(v->str) : NULL;
}

/* The messages: a JSON array of {"role": string, "content": string}
 * (other members are ignored). Returns the count, or -1 after saying why. */
static long read_messages(const json_value *root, const char *what, wgpt_chat_message **out) {
    if (root->type != JSON_ARRAY) {
        cli_error("template: %s: expected an array of messages, found %s", what, json_type_name(root->type));
        return -1;
    }
    wgpt_chat_message *m = calloc(root->n ? root->n : 1, sizeof *m);
    if (!m) { cli_error("out of memory"); return -1; }
    for (size_t i = 0; i < root->n; i++) {
        const json_value *it = &root->items[i];
        if (it->type != JSON_OBJECT) {
            cli_error("template: %s: message %zu is %s, not an object", what, i + 1, json_type_name(it->type));
            free(m);
            return -1;
        }
        static const char *const keys[2] = {"role", "content"};
        for (int k = 0; k < 2; k++) {
            const json_value *v = json_get(it, keys[k]);
            if (!v || v->type != JSON_STRING) {
                cli_error("template: %s: message %zu: \"%s\" %s", what, i + 1, keys[k],
                          v ? "is not a string" : "is missing");
                free(m);
                return -1;
            }
            if (k == 0 && strlen(v->str) != v->len) {
                cli_error("template: %s: message %zu: \"role\" holds a NUL character", what, i + 1);
                free(m);
                return -1;
            }
            if (k == 0) m[i].role = v->str;
            else {
                m[i].content = v->str;
                m[i].content_len = v->len;
            }
        }
    }
    *out = m;
    return (long)root->n;
}

int cli_chat_template_file(const char *path, char **tpl, char **bos, char **eos) {
    char err[256];
    size_t len = 0;
    *tpl = *bos = *eos = NULL;
    char *src = read_file(path, &len, err, sizeof err);
    if (!src) return cli_error("template: %s: %s", text_show_z(path), err);
    if (strlen(src) != len) { free(src); return cli_error("template: %s: holds a NUL byte", text_show_z(path)); }
    /* a tokenizer_config.json, or else the template itself */
    json_doc *d = json_parse(src, len, path, err, sizeof err);
    if (!d) { *tpl = src; return 0; }
    const json_value *ct = json_root(d)->type == JSON_OBJECT ? config_template(json_root(d)) : NULL;
    free(src);
    if (!ct) {
        json_free(d);
        return cli_error("template: %s: a JSON file without a chat_template string", text_show_z(path));
    }
    *tpl = strdup(ct->str);
    *bos = config_token(json_root(d), "bos_token");
    *eos = config_token(json_root(d), "eos_token");
    json_free(d);
    if (!*tpl) return cli_error("out of memory");
    return 0;
}

int cmd_template(int argc, char **argv) {
    cli_model_opts o;
    cli_opts_init(&o);
    int no_gen = 0, n_args = 0;
    const char *tpl_file = NULL, *bos_opt = NULL, *eos_opt = NULL, *args[1] = {NULL};
    const cli_opt opts[] = {
        {"--no-generation-prompt", CLI_FLAG, &no_gen, 0, 0, NULL,
         "render without the cue for the assistant's reply (add_generation_prompt false)", 0},
        {"--chat-template-file", CLI_STR, &tpl_file, 0, 0, "FILE",
         "the template: a Jinja file, or a tokenizer_config.json (its chat_template, bos_token, eos_token)", 0},
        {"--bos-token", CLI_STR, &bos_opt, 0, 0, "TEXT", "the template's bos_token (default: the model's)", CLI_EMPTY_OK},
        {"--eos-token", CLI_STR, &eos_opt, 0, 0, "TEXT", "the template's eos_token (default: the model's)", CLI_EMPTY_OK},
        {0},
    };
    cli_command cmd = {"template", "[-m MODEL] [--no-generation-prompt] [--chat-template-file FILE] [MESSAGES.json]",
                       "Renders a JSON array of {\"role\", \"content\"} messages (from MESSAGES.json, or stdin)\n"
                       "with the model's chat template and prints exactly the text the model would be given\n"
                       "(no newline added). Reads only the model's header: no GPU. With --chat-template-file\n"
                       "and no -m, no model is read.\n",
                       opts, &o, 1, args, 1, &n_args};
    int pr = cli_parse(&cmd, argc, argv);
    if (pr) return pr < 0 ? 0 : pr;

    char err[2048];
    char *tpl = NULL, *bos = NULL, *eos = NULL, *text = NULL, *out = NULL;
    json_doc *msgs_doc = NULL;
    wgpt_chat_message *msgs = NULL;
    int rc = 1;
    /* the model's template and tokens, unless a template file alone is given */
    if (o.model_path || !tpl_file) {
        const char *path = cli_model_path(&o);
        if (!path) return cli_error("template: no model given (-m MODEL, $WGPT_MODEL or --chat-template-file)");
        wgpt_file *f = NULL;
        if (wgpt_file_open(path, &f, err, sizeof err) != WGPT_OK) return cli_error("%s", err);
        char *lt = NULL, *lb = NULL, *le = NULL;
        wgpt_status st = wgpt_file_chat_template(f, &lt, &lb, &le, err, sizeof err);
        wgpt_file_close(f);
        if (st != WGPT_OK) return cli_error("%s", err);
        /* copies of our own: the library's allocator may not be ours */
        tpl = lt ? strdup(lt) : NULL;
        bos = strdup(lb);
        eos = strdup(le);
        int lost = (lt && !tpl) || !bos || !eos;
        wgpt_free(lt);
        wgpt_free(lb);
        wgpt_free(le);
        if (lost) { free(tpl); free(bos); free(eos); return cli_error("out of memory"); }
        if (!tpl && !tpl_file) {
            free(bos);
            free(eos);
            return cli_error("template: %s has no chat template (tokenizer.chat_template); give one with "
                             "--chat-template-file", text_show_z(path));
        }
    }
    if (tpl_file) {
        char *b = NULL, *e = NULL;
        free(tpl);
        tpl = NULL;
        if (cli_chat_template_file(tpl_file, &tpl, &b, &e) != 0) goto done;
        if (b || !bos) { free(bos); bos = b; }
        if (e || !eos) { free(eos); eos = e; }
    }

    size_t len = 0;
    const char *what = n_args ? args[0] : "stdin";
    FILE *in = stdin;
    if (n_args && !(in = fopen(args[0], "rb"))) { cli_error("template: %s: cannot open it", text_show_z(what)); goto done; }
    text = cli_read_stream(in, &len, err, sizeof err);
    if (in != stdin) fclose(in);
    if (!text) { cli_error("template: %s: %s", text_show_z(what), err); goto done; }
    msgs_doc = json_parse(text, len, text_show_z(what), err, sizeof err);
    if (!msgs_doc) { cli_error("template: %s", err); goto done; }
    long n = read_messages(json_root(msgs_doc), text_show_z(what), &msgs);
    if (n < 0) goto done;
    size_t out_len = 0;
    if (wgpt_chat_render(tpl, msgs, (size_t)n, !no_gen, bos_opt ? bos_opt : bos, eos_opt ? eos_opt : eos, &out, &out_len,
                         err, sizeof err) != WGPT_OK) {
        cli_error("template: %s", err);
        goto done;
    }
    fwrite(out, 1, out_len, stdout);
    rc = cli_check_stdout("template");
done:
    free(tpl);
    free(bos);
    free(eos);
    wgpt_free(out);
    free(msgs);
    json_free(msgs_doc);
    free(text);
    return rc;
}
