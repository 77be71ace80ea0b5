/* wgpt serve: an OpenAI-compatible HTTP server (chat completions,
 * completions, models; streaming as server-sent events) over N slots of one
 * model, decoded together by one engine thread (serve_engine.c).
 *
 * libmicrohttpd does the HTTP (opened with dlopen, see cli/mhd.h), one
 * thread per connection: a handler may block until its reply is ready, and
 * a streaming reply's reader blocks until there is text to send. Both poll
 * the client's socket while they wait, so a client that vanishes frees its
 * slot at the engine's next step.
 *
 * Everything in a request is hostile: bodies are capped (413), idle
 * connections dropped (slowloris), connections counted, --api-key compared
 * in constant time, and the log holds no message content unless -v (and
 * then escaped). Rendering and tokenizing happen on the HTTP threads, with
 * a tokenizer and chat template read from the file's header (the same ones
 * `wgpt template` and `wgpt tokenize` use), not the model: only the engine
 * thread touches the model. */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/mhd.h"
#include "cli/serve.h"
#include "util/json.h"
#include "util/text.h"

#define STOP_GRACE_S 3

/* For models without a chat template: each message's text on a line of its
 * own (wgpt chat's "plain"), the model's BOS before it, and a reply ends at
 * the end of its line. */
static const char PLAIN_TEMPLATE[] = "{% for m in messages %}{{ m.content }}\n{% endfor %}";

static struct {
    const char *alias;
    const char *api_key;
    size_t api_key_len;
    int verbose, n_ctx;
    long max_body;
    wgpt_vocab *vocab;
    char *tpl, *bos, *eos;
    int plain;            /* no template of the model's own: PLAIN_TEMPLATE */
    int32_t lead;         /* with plain: BOS, or -1 */
    size_t max_piece;     /* the longest token's bytes */
    wgpt_sampling defaults;
    int keepalive_ticks;  /* streaming: 200 ms waits before a keep-alive comment */
    volatile int stopping;
    unsigned long long next_id;
} S;

enum { EP_NONE, EP_HEALTH, EP_MODELS, EP_CHAT, EP_COMPLETIONS, EP_APPLY_TEMPLATE };

typedef struct {
    struct MHD_Connection *c;
    int ep;
    char method[16], path[128];
    double t0;
    unsigned status;
    json_buf body;
    int too_big;
    serve_req *r;
    long n_prompt;
    /* a reply */
    int stream, chat, include_usage;
    char id[48];
    long long created;
    json_buf pend;        /* streaming: formatted bytes not yet handed to MHD */
    size_t pend_off, text_sent;
    int done;
    int idle;             /* streaming: waits of 200 ms with nothing to send */
    char *show;           /* -v: the prompt, escaped, for the log */
} conn;

/* ---- small things ---- */

static void mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    if (!S.verbose) return;
    char raw[512], shown[1600];
    vsnprintf(raw, sizeof raw, fmt, ap);
    text_escape(shown, sizeof shown, raw, strlen(raw), 300);
    fprintf(stderr, "serve: libmicrohttpd: %s\n", shown);
}

/* Equal in time that depends on the key's length only. */
static int key_ok(const char *given) {
    if (!S.api_key) return 1;
    if (!given) return 0;
    size_t gl = strlen(given);
    unsigned char diff = gl != S.api_key_len;
    for (size_t i = 0; i < S.api_key_len; i++)
        diff |= (unsigned char)(S.api_key[i] ^ (i < gl ? given[i] : 0));
    return diff == 0;
}

/* The client closed its end (or the socket failed). */
static int peer_gone(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci = mhd.get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci) return 0;
    struct pollfd p = {.fd = ci->connect_fd, .events = POLLRDHUP};
    if (poll(&p, 1, 0) <= 0) return 0;
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

static void timed_wait(pthread_cond_t *cv, int ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (long)ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(cv, &serve_mu, &ts);
}

static enum MHD_Result respond(conn *cn, unsigned status, json_buf *b, const char *ctype) {
    if (b->failed) { jbuf_free(b); status = 500; jbuf_puts(b, "{\"error\":{\"message\":\"out of memory\"}}"); }
    struct MHD_Response *r = mhd.create_response_from_buffer(b->len, b->data ? b->data : (void *)"", MHD_RESPMEM_MUST_COPY);
    jbuf_free(b);
    if (!r) return MHD_NO;
    mhd.add_response_header(r, "Content-Type", ctype ? ctype : "application/json");
    if (status == 401) mhd.add_response_header(r, "WWW-Authenticate", "Bearer");
    if (status == 503) mhd.add_response_header(r, "Retry-After", "1");
    cn->status = status;
    enum MHD_Result ret = mhd.queue_response(cn->c, status, r);
    mhd.destroy_response(r);
    return ret;
}

/* An OpenAI error object. */
static enum MHD_Result respond_error(conn *cn, unsigned status, const char *type, const char *param, const char *code,
                                     const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static enum MHD_Result respond_error(conn *cn, unsigned status, const char *type, const char *param, const char *code,
                                     const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_buf b = {0};
    jbuf_puts(&b, "{\"error\":{\"message\":");
    json_write_string(&b, msg, strlen(msg), 0);
    jbuf_puts(&b, ",\"type\":");
    json_write_string(&b, type, strlen(type), 0);
    jbuf_puts(&b, ",\"param\":");
    if (param) json_write_string(&b, param, strlen(param), 0);
    else jbuf_puts(&b, "null");
    jbuf_puts(&b, ",\"code\":");
    if (code) json_write_string(&b, code, strlen(code), 0);
    else jbuf_puts(&b, "null");
    jbuf_puts(&b, "}}");
    return respond(cn, status, &b, NULL);
}

#define BAD(param, ...) respond_error(cn, 400, "invalid_request_error", param, NULL, __VA_ARGS__)

/* ---- reading a request ---- */

typedef struct { char msg[300]; const char *param; const char *code; unsigned status; } req_err;

static int fail(req_err *e, unsigned status, const char *param, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail(req_err *e, unsigned status, const char *param, const char *code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    e->status = status;
    e->param = param;
    e->code = code;
    return -1;
}

/* A member, NULL when absent or null (clients send null for "not given"). */
static const json_value *member(const json_value *o, const char *key) {
    const json_value *v = json_get(o, key);
    return v && v->type != JSON_NULL ? v : NULL;
}

static int get_number(const json_value *o, const char *key, double lo, double hi, double *out, req_err *e) {
    const json_value *v = member(o, key);
    if (!v) return 0;
    if (v->type != JSON_NUMBER) return fail(e, 400, key, NULL, "'%s' must be a number, not %s", key, json_type_name(v->type));
    if (!(v->num >= lo && v->num <= hi)) return fail(e, 400, key, NULL, "'%s' must be between %g and %g", key, lo, hi);
    *out = v->num;
    return 1;
}

static int get_integer(const json_value *o, const char *key, int64_t lo, int64_t hi, int64_t *out, req_err *e) {
    const json_value *v = member(o, key);
    if (!v) return 0;
    if (v->type != JSON_NUMBER || !v->is_int)
        return fail(e, 400, key, NULL, "'%s' must be an integer, not %s", key, v->type == JSON_NUMBER ? "a fraction" : json_type_name(v->type));
    if (v->i < lo || v->i > hi)
        return fail(e, 400, key, NULL, "'%s' must be between %lld and %lld", key, (long long)lo, (long long)hi);
    *out = v->i;
    return 1;
}

static int add_stop(serve_req *r, const char *s, size_t n) {
    char *c = malloc(n + 1);
    if (!c) return -1;
    memcpy(c, s, n);
    c[n] = 0;
    r->stops[r->n_stops] = c;
    r->stop_lens[r->n_stops++] = n;
    return 0;
}

/* The sampling, length and stop fields both endpoints share. */
static int read_params(const json_value *root, serve_req *r, int *stream, int *usage, req_err *e) {
    double d;
    int64_t i;
    int rc;
    r->samp = S.defaults;
    r->max_tokens = -1;
    if ((rc = get_number(root, "temperature", 0, 100, &d, e)) < 0) return -1;
    if (rc) r->samp.temperature = (float)d;
    if ((rc = get_number(root, "top_p", 0, 1, &d, e)) < 0) return -1;
    if (rc) r->samp.top_p = (float)d;
    if ((rc = get_number(root, "min_p", 0, 1, &d, e)) < 0) return -1;
    if (rc) r->samp.min_p = (float)d;
    if ((rc = get_number(root, "repeat_penalty", 0.01, 100, &d, e)) < 0) return -1;
    if (rc) r->samp.repeat_penalty = (float)d;
    if ((rc = get_integer(root, "top_k", 0, 1000000000, &i, e)) < 0) return -1;
    if (rc) r->samp.top_k = (int)i;
    if ((rc = get_integer(root, "repeat_last_n", 0, 1 << 24, &i, e)) < 0) return -1;
    if (rc) r->samp.repeat_last_n = (int)i;
    const json_value *seed = member(root, "seed");
    if (seed) {
        if (seed->type != JSON_NUMBER || !seed->int_text || !(seed->num >= -9.3e18 && seed->num <= 1.85e19))
            return fail(e, 400, "seed", NULL, "'seed' must be an integer");
        r->samp.seed = seed->is_int ? (uint64_t)seed->i : (uint64_t)seed->num;
    } else {
        pthread_mutex_lock(&serve_mu);
        unsigned long long k = ++S.next_id;
        pthread_mutex_unlock(&serve_mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        r->samp.seed = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)ts.tv_sec ^ (k << 32);
    }
    static const char *const pens[2] = {"presence_penalty", "frequency_penalty"};
    for (int k = 0; k < 2; k++) {
        if ((rc = get_number(root, pens[k], -2, 2, &d, e)) < 0) return -1;
        if (rc && d != 0)
            return fail(e, 400, pens[k], "unsupported_parameter",
                        "'%s' is not supported (only 0); use 'repeat_penalty' (as llama-server: > 1 discourages repeats)", pens[k]);
    }
    if ((rc = get_integer(root, "n", 1, 1000000, &i, e)) < 0) return -1;
    if (rc && i != 1) return fail(e, 400, "n", "unsupported_parameter", "'n' must be 1: one choice per request");
    static const char *const lens[2] = {"max_tokens", "max_completion_tokens"};
    for (int k = 0; k < 2; k++) {
        if ((rc = get_integer(root, lens[k], 0, 1 << 30, &i, e)) < 0) return -1;
        if (rc) r->max_tokens = (long)i;
    }
    const json_value *v = member(root, "stream");
    *stream = 0;
    if (v && v->type != JSON_TRUE && v->type != JSON_FALSE) return fail(e, 400, "stream", NULL, "'stream' must be a boolean");
    if (v) *stream = v->type == JSON_TRUE;
    *usage = 0;
    v = member(root, "stream_options");
    if (v) {
        if (v->type != JSON_OBJECT) return fail(e, 400, "stream_options", NULL, "'stream_options' must be an object");
        const json_value *u = member(v, "include_usage");
        if (u && u->type != JSON_TRUE && u->type != JSON_FALSE)
            return fail(e, 400, "stream_options.include_usage", NULL, "'include_usage' must be a boolean");
        *usage = u && u->type == JSON_TRUE;
    }
    v = member(root, "stop");
    size_t n = v ? (v->type == JSON_ARRAY ? v->n : 1) : 0;
    if (v && v->type != JSON_STRING && v->type != JSON_ARRAY)
        return fail(e, 400, "stop", NULL, "'stop' must be a string or an array of strings");
    if (n > 16) return fail(e, 400, "stop", NULL, "at most 16 stop strings");
    r->stops = calloc(n + 1, sizeof *r->stops);
    r->stop_lens = calloc(n + 1, sizeof *r->stop_lens);
    if (!r->stops || !r->stop_lens) return fail(e, 500, NULL, NULL, "out of memory");
    for (size_t k = 0; k < n; k++) {
        const json_value *s = v->type == JSON_ARRAY ? &v->items[k] : v;
        if (s->type != JSON_STRING) return fail(e, 400, "stop", NULL, "'stop' must be a string or an array of strings");
        if (s->len > 1024) return fail(e, 400, "stop", NULL, "a stop string is longer than 1024 bytes");
        if (s->len && add_stop(r, s->str, s->len)) return fail(e, 500, NULL, NULL, "out of memory");
    }
    return 0;
}

/* The messages of a chat request, as wgpt_chat_message (text of content
 * parts joined into blocks of `store`). */
static long read_messages(const json_value *root, wgpt_chat_message **out, json_buf *store, size_t **offs, req_err *e) {
    const json_value *msgs = member(root, "messages");
    if (!msgs) return fail(e, 400, "messages", NULL, "'messages' is required");
    if (msgs->type != JSON_ARRAY) return fail(e, 400, "messages", NULL, "'messages' must be an array");
    if (!msgs->n) return fail(e, 400, "messages", NULL, "'messages' is empty");
    wgpt_chat_message *m = calloc(msgs->n, sizeof *m);
    size_t *o = calloc(msgs->n, sizeof *o);
    *out = m;
    *offs = o;
    if (!m || !o) return fail(e, 500, NULL, NULL, "out of memory");
    for (size_t i = 0; i < msgs->n; i++) {
        const json_value *it = &msgs->items[i];
        if (it->type != JSON_OBJECT) return fail(e, 400, "messages", NULL, "message %zu is %s, not an object", i, json_type_name(it->type));
        const json_value *role = member(it, "role"), *content = json_get(it, "content");
        if (!role || role->type != JSON_STRING || strlen(role->str) != role->len || !role->len)
            return fail(e, 400, "messages", NULL, "message %zu: 'role' must be a non-empty string", i);
        m[i].role = role->str;
        if (!content || content->type == JSON_NULL) {
            m[i].content = "";
            continue;
        }
        if (content->type == JSON_STRING) {
            m[i].content = content->str;
            m[i].content_len = content->len;
            continue;
        }
        if (content->type != JSON_ARRAY)
            return fail(e, 400, "messages", NULL, "message %zu: 'content' must be a string or an array of text parts", i);
        /* parts: their text joined; offsets first, pointers once store stops moving */
        o[i] = store->len + 1;
        for (size_t k = 0; k < content->n; k++) {
            const json_value *p = &content->items[k];
            const char *type, *text;
            size_t tl, xl;
            if (p->type != JSON_OBJECT || json_get_str(p, "type", &type, &tl) || strcmp(type, "text") ||
                json_get_str(p, "text", &text, &xl))
                return fail(e, 400, "messages", NULL, "message %zu: only text content parts are supported", i);
            jbuf_put(store, text, xl);
        }
        m[i].content_len = store->len + 1 - o[i];
    }
    if (store->failed) return fail(e, 500, NULL, NULL, "out of memory");
    for (size_t i = 0; i < msgs->n; i++)
        if (o[i]) m[i].content = store->data ? store->data + o[i] - 1 : "";
    return (long)msgs->n;
}

/* The conversation as the model is given it (malloc'd by the library: wgpt_free). */
static int render_chat(const json_value *root, char **text, size_t *len, req_err *e) {
    wgpt_chat_message *m = NULL;
    size_t *offs = NULL;
    json_buf store = {0};
    int rc = -1;
    long n = read_messages(root, &m, &store, &offs, e);
    if (n >= 0) {
        char err[512];
        if (wgpt_chat_render(S.plain ? PLAIN_TEMPLATE : S.tpl, m, (size_t)n, 1, S.bos, S.eos, text, len, err, sizeof err) != WGPT_OK)
            fail(e, 400, "messages", NULL, "the chat template fails on these messages: %s", err);
        else rc = 0;
    }
    free(m);
    free(offs);
    jbuf_free(&store);
    return rc;
}

/* Tokens of a prompt into r; a prompt that cannot fit the context is
 * refused before it is tokenized (no token is longer than max_piece). */
static int tokenize_into(serve_req *r, const char *text, size_t len, int chat, req_err *e) {
    size_t limit = (size_t)S.n_ctx * (S.max_piece ? S.max_piece : 1);
    if (len > limit)
        return fail(e, 400, chat ? "messages" : "prompt", "context_length_exceeded",
                    "the prompt (%zu bytes) is longer than the context of %d tokens", len, S.n_ctx);
    int32_t *ids = NULL;
    size_t n = 0;
    char err[512];
    /* a wgpt_vocab is used by one thread at a time (wgpt.h), and every HTTP thread tokenizes */
    static pthread_mutex_t vocab_mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&vocab_mu);
    wgpt_status st = wgpt_vocab_tokenize(S.vocab, text, len, !chat, chat, &ids, &n, err, sizeof err);
    pthread_mutex_unlock(&vocab_mu);
    if (st != WGPT_OK)
        return fail(e, 400, chat ? "messages" : "prompt", NULL, "the prompt cannot be tokenized: %s", err);
    int lead = chat && S.plain && S.lead >= 0;
    r->prompt = malloc((n + 1) * sizeof *r->prompt);
    if (!r->prompt) { wgpt_free(ids); return fail(e, 500, NULL, NULL, "out of memory"); }
    if (lead) r->prompt[0] = S.lead;
    if (n) memcpy(r->prompt + lead, ids, n * sizeof *ids);
    wgpt_free(ids);
    r->n_prompt = (int)(n + (size_t)lead);
    if (r->n_prompt == 0) return fail(e, 400, chat ? "messages" : "prompt", NULL, "the prompt is empty");
    if (r->n_prompt > S.n_ctx - 1)
        return fail(e, 400, chat ? "messages" : "prompt", "context_length_exceeded",
                    "the prompt is %d tokens; this server's context is %d (at most %d for the prompt)", r->n_prompt,
                    S.n_ctx, S.n_ctx - 1);
    return 0;
}

/* ---- replies ---- */

static const char *finish_name(int f) { return f == FINISH_LENGTH ? "length" : "stop"; }

static void put_head(json_buf *b, const conn *cn, const char *object) {
    jbuf_printf(b, "{\"id\":\"%s\",\"object\":\"%s\",\"created\":%lld,\"model\":", cn->id, object, cn->created);
    json_write_string(b, S.alias, strlen(S.alias), 0);
    jbuf_puts(b, ",\"system_fingerprint\":\"wgpt\"");
}

static void put_usage(json_buf *b, long prompt, long completion) {
    jbuf_printf(b, "\"usage\":{\"prompt_tokens\":%ld,\"completion_tokens\":%ld,\"total_tokens\":%ld}", prompt, completion,
                prompt + completion);
}

/* One streamed chunk: text (may be NULL), finish (FINISH_NONE: none). */
static void put_chunk(conn *cn, const char *text, size_t len, int role, int finish) {
    json_buf *b = &cn->pend;
    jbuf_puts(b, "data: ");
    put_head(b, cn, cn->chat ? "chat.completion.chunk" : "text_completion");
    jbuf_puts(b, ",\"choices\":[{\"index\":0,");
    if (cn->chat) {
        jbuf_puts(b, "\"delta\":{");
        if (role) jbuf_puts(b, "\"role\":\"assistant\"");
        if (text) {
            jbuf_puts(b, role ? ",\"content\":" : "\"content\":");
            json_write_string(b, text, len, 0);
        }
        jbuf_puts(b, "}");
    } else {
        jbuf_puts(b, "\"text\":");
        json_write_string(b, text ? text : "", text ? len : 0, 0);
    }
    jbuf_puts(b, ",\"logprobs\":null,\"finish_reason\":");
    if (finish) jbuf_printf(b, "\"%s\"", finish_name(finish));
    else jbuf_puts(b, "null");
    jbuf_puts(b, "}]}\n\n");
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    conn *cn = cls;
    serve_req *r = cn->r;
    for (;;) {
        if (cn->pend_off < cn->pend.len) {
            size_t n = cn->pend.len - cn->pend_off;
            if (n > max) n = max;
            memcpy(buf, cn->pend.data + cn->pend_off, n);
            cn->pend_off += n;
            return (ssize_t)n;
        }
        cn->pend.len = cn->pend_off = 0;
        if (cn->pend.failed) return MHD_CONTENT_READER_END_WITH_ERROR;
        if (cn->done) return MHD_CONTENT_READER_END_OF_STREAM;
        pthread_mutex_lock(&serve_mu);
        int waited = 0;
        while (r->text_len == cn->text_sent && !r->finish && !S.stopping && waited < 1) {
            timed_wait(&r->cv, 200);
            waited++;
        }
        size_t from = cn->text_sent, to = r->text_len;
        int fin = r->finish;
        long completion = r->n_completion;
        char errmsg[256];
        memcpy(errmsg, r->errmsg, sizeof errmsg);
        /* the text is copied out under the lock: the engine may move it */
        if (to > from) put_chunk(cn, r->text + from, to - from, 0, FINISH_NONE);
        if (to > from || fin) cn->idle = 0;
        cn->text_sent = to;
        pthread_mutex_unlock(&serve_mu);
        if (fin == FINISH_ERROR) {
            jbuf_puts(&cn->pend, "data: {\"error\":{\"message\":");
            json_write_string(&cn->pend, errmsg, strlen(errmsg), 0);
            jbuf_puts(&cn->pend, ",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\ndata: [DONE]\n\n");
            cn->done = 1;
        } else if (fin) {
            put_chunk(cn, cn->chat ? NULL : "", 0, 0, fin);
            if (cn->include_usage) {
                jbuf_puts(&cn->pend, "data: ");
                put_head(&cn->pend, cn, cn->chat ? "chat.completion.chunk" : "text_completion");
                jbuf_puts(&cn->pend, ",\"choices\":[],");
                put_usage(&cn->pend, cn->n_prompt, completion);
                jbuf_puts(&cn->pend, "}\n\n");
            }
            jbuf_puts(&cn->pend, "data: [DONE]\n\n");
            cn->done = 1;
        } else if (cn->pend.len == 0) {
            /* A comment line now and then while nothing comes (a long
             * prompt, a wait for a slot): the connection's idle timeout
             * counts from the last byte sent. */
            if (++cn->idle >= S.keepalive_ticks) {
                jbuf_puts(&cn->pend, ": keep-alive\n\n");
                cn->idle = 0;
            }
            if (S.stopping) return MHD_CONTENT_READER_END_WITH_ERROR;
            if (peer_gone(cn->c)) {
                pthread_mutex_lock(&serve_mu);
                r->cancelled = 1;
                pthread_mutex_unlock(&serve_mu);
                return MHD_CONTENT_READER_END_WITH_ERROR;
            }
        }
    }
}

static enum MHD_Result run_request(conn *cn, serve_req *r) {
    int sr = serve_submit(r);
    if (sr) {
        serve_req_unref(r);
        if (sr == 503)
            return respond_error(cn, 503, "server_error", NULL, "server_busy",
                                 "every slot is busy and the queue is full; try again");
        return respond_error(cn, 500, "server_error", NULL, NULL, "the engine has stopped");
    }
    cn->r = r;
    if (cn->stream) {
        put_chunk(cn, cn->chat ? "" : NULL, 0, cn->chat, FINISH_NONE);
        if (!cn->chat) cn->pend.len = 0; /* completions have no role chunk */
        struct MHD_Response *resp = mhd.create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, cn, NULL);
        if (!resp) return MHD_NO;
        mhd.add_response_header(resp, "Content-Type", "text/event-stream");
        mhd.add_response_header(resp, "Cache-Control", "no-cache");
        cn->status = 200;
        enum MHD_Result ret = mhd.queue_response(cn->c, 200, resp);
        mhd.destroy_response(resp);
        return ret;
    }
    pthread_mutex_lock(&serve_mu);
    while (!r->finish) {
        timed_wait(&r->cv, 200);
        if (r->finish) break;
        pthread_mutex_unlock(&serve_mu);
        int gone = S.stopping || peer_gone(cn->c);
        pthread_mutex_lock(&serve_mu);
        if (gone) {
            r->cancelled = 1;
            pthread_mutex_unlock(&serve_mu);
            cn->status = 499;
            return MHD_NO;
        }
    }
    pthread_mutex_unlock(&serve_mu);
    /* finished: the engine no longer writes r */
    if (r->finish == FINISH_ERROR) return respond_error(cn, 500, "server_error", NULL, NULL, "%s", r->errmsg);
    json_buf b = {0};
    put_head(&b, cn, cn->chat ? "chat.completion" : "text_completion");
    jbuf_puts(&b, ",\"choices\":[{\"index\":0,");
    if (cn->chat) {
        jbuf_puts(&b, "\"message\":{\"role\":\"assistant\",\"content\":");
        json_write_string(&b, r->text ? r->text : "", r->text_len, 0);
        jbuf_puts(&b, "}");
    } else {
        jbuf_puts(&b, "\"text\":");
        json_write_string(&b, r->text ? r->text : "", r->text_len, 0);
    }
    jbuf_printf(&b, ",\"logprobs\":null,\"finish_reason\":\"%s\"}],", finish_name(r->finish));
    put_usage(&b, cn->n_prompt, r->n_completion);
    jbuf_puts(&b, "}");
    return respond(cn, 200, &b, NULL);
}

static enum MHD_Result handle_generate(conn *cn, const json_value *root) {
    req_err e = {0};
    serve_req *r = serve_req_new();
    if (!r) return respond_error(cn, 500, "server_error", NULL, NULL, "out of memory");
    cn->chat = cn->ep == EP_CHAT;
    if (read_params(root, r, &cn->stream, &cn->include_usage, &e)) goto bad;
    char *text = NULL;
    size_t len = 0;
    if (cn->chat) {
        if (render_chat(root, &text, &len, &e)) goto bad;
        if (S.plain && add_stop(r, "\n", 1)) { wgpt_free(text); fail(&e, 500, NULL, NULL, "out of memory"); goto bad; }
        int trc = tokenize_into(r, text, len, 1, &e);
        if (S.verbose) cn->show = strdup(text_show(text, len));
        wgpt_free(text);
        if (trc) goto bad;
    } else {
        const json_value *p = member(root, "prompt");
        if (p && p->type == JSON_ARRAY && p->n == 1) p = &p->items[0];
        if (!p) { fail(&e, 400, "prompt", NULL, "'prompt' is required"); goto bad; }
        if (p->type != JSON_STRING) { fail(&e, 400, "prompt", NULL, "'prompt' must be a string"); goto bad; }
        if (S.verbose) cn->show = strdup(text_show(p->str, p->len));
        if (tokenize_into(r, p->str, p->len, 0, &e)) goto bad;
    }
    cn->n_prompt = r->n_prompt;
    pthread_mutex_lock(&serve_mu);
    unsigned long long id = ++S.next_id;
    pthread_mutex_unlock(&serve_mu);
    snprintf(cn->id, sizeof cn->id, "%s-%llx%08lx", cn->chat ? "chatcmpl" : "cmpl", id, (unsigned long)random());
    cn->created = (long long)time(NULL);
    return run_request(cn, r);
bad:
    serve_req_unref(r);
    return respond_error(cn, e.status ? e.status : 400, e.status >= 500 ? "server_error" : "invalid_request_error",
                         e.param, e.code, "%s", e.msg);
}

static enum MHD_Result handle_apply_template(conn *cn, const json_value *root) {
    req_err e = {0};
    char *text = NULL;
    size_t len = 0;
    if (render_chat(root, &text, &len, &e))
        return respond_error(cn, e.status, e.status >= 500 ? "server_error" : "invalid_request_error", e.param, e.code, "%s", e.msg);
    json_buf b = {0};
    jbuf_puts(&b, "{\"prompt\":");
    json_write_string(&b, text, len, 0);
    jbuf_puts(&b, "}");
    wgpt_free(text);
    return respond(cn, 200, &b, NULL);
}

static int endpoint(const char *url) {
    static const struct { const char *path; int ep; } map[] = {
        {"/health", EP_HEALTH}, {"/v1/health", EP_HEALTH},
        {"/v1/models", EP_MODELS}, {"/models", EP_MODELS},
        {"/v1/chat/completions", EP_CHAT}, {"/chat/completions", EP_CHAT},
        {"/v1/completions", EP_COMPLETIONS}, {"/completions", EP_COMPLETIONS},
        {"/apply-template", EP_APPLY_TEMPLATE}, {"/v1/apply-template", EP_APPLY_TEMPLATE},
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (!strcmp(url, map[i].path)) return map[i].ep;
    return EP_NONE;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_size, void **req_cls) {
    (void)cls; (void)version;
    conn *cn = *req_cls;
    if (!cn) {
        cn = calloc(1, sizeof *cn);
        if (!cn) return MHD_NO;
        *req_cls = cn;
        cn->c = c;
        cn->t0 = cli_now();
        text_escape(cn->method, sizeof cn->method, method, strlen(method), 8);
        text_escape(cn->path, sizeof cn->path, url, strlen(url), 60);
        cn->ep = endpoint(url);
        int post = !strcmp(method, "POST");
        if (cn->ep == EP_NONE) return respond_error(cn, 404, "invalid_request_error", NULL, "not_found", "no such endpoint");
        int want_post = cn->ep >= EP_CHAT;
        if (post != want_post && !(!want_post && !strcmp(method, "HEAD")))
            return respond_error(cn, 405, "invalid_request_error", NULL, "method_not_allowed", "use %s for this endpoint",
                                 want_post ? "POST" : "GET");
        if (cn->ep != EP_HEALTH) {
            const char *auth = mhd.lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
            const char *key = auth && !strncasecmp(auth, "Bearer ", 7) ? auth + 7 : NULL;
            if (!key_ok(key))
                return respond_error(cn, 401, "invalid_request_error", NULL, "invalid_api_key",
                                     auth ? "invalid API key" : "an API key is needed (Authorization: Bearer KEY)");
        }
        const char *cl = mhd.lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > (unsigned long long)S.max_body) {
            cn->too_big = 1;
            return respond_error(cn, 413, "invalid_request_error", NULL, "request_too_large",
                                 "the request body is larger than %ld bytes", S.max_body);
        }
        return MHD_YES;
    }
    if (cn->status) { *upload_size = 0; return MHD_YES; } /* answered already: the rest is dropped */
    if (*upload_size) {
        if (cn->body.len + *upload_size > (size_t)S.max_body) {
            cn->too_big = 1;
            jbuf_free(&cn->body);
        }
        if (!cn->too_big) jbuf_put(&cn->body, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (cn->too_big)
        return respond_error(cn, 413, "invalid_request_error", NULL, "request_too_large",
                             "the request body is larger than %ld bytes", S.max_body);
    if (cn->body.failed) return respond_error(cn, 500, "server_error", NULL, NULL, "out of memory");
    if (cn->ep == EP_HEALTH) {
        json_buf b = {0};
        int busy, waiting, max_seqs;
        long steps;
        serve_engine_stats(&busy, &waiting, &steps, &max_seqs);
        jbuf_printf(&b, "{\"status\":\"%s\",\"slots_busy\":%d,\"waiting\":%d,\"steps\":%ld,\"max_seqs_in_step\":%d}",
                    S.stopping ? "stopping" : "ok", busy, waiting, steps, max_seqs);
        return respond(cn, S.stopping ? 503 : 200, &b, NULL);
    }
    if (cn->ep == EP_MODELS) {
        json_buf b = {0};
        jbuf_puts(&b, "{\"object\":\"list\",\"data\":[{\"id\":");
        json_write_string(&b, S.alias, strlen(S.alias), 0);
        jbuf_printf(&b, ",\"object\":\"model\",\"created\":%lld,\"owned_by\":\"wgpt\",\"meta\":{\"n_ctx\":%d}}]}",
                    (long long)time(NULL), S.n_ctx);
        return respond(cn, 200, &b, NULL);
    }
    char err[300];
    json_doc *d = json_parse(cn->body.data ? cn->body.data : "", cn->body.len, "body", err, sizeof err);
    jbuf_free(&cn->body);
    if (!d) return BAD(NULL, "the body is not JSON: %s", err);
    enum MHD_Result ret;
    if (json_root(d)->type != JSON_OBJECT) ret = BAD(NULL, "the body must be a JSON object");
    else if (cn->ep == EP_APPLY_TEMPLATE) ret = handle_apply_template(cn, json_root(d));
    else ret = handle_generate(cn, json_root(d));
    json_free(d);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **req_cls, enum MHD_RequestTerminationCode toe) {
    (void)cls; (void)c;
    conn *cn = *req_cls;
    if (!cn) return;
    *req_cls = NULL;
    long completion = 0, cached = 0;
    if (cn->r) {
        pthread_mutex_lock(&serve_mu);
        if (!cn->r->finish) cn->r->cancelled = 1;
        completion = cn->r->n_completion;
        cached = cn->r->n_cached;
        pthread_mutex_unlock(&serve_mu);
        serve_req_unref(cn->r);
    }
    const char *how = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection closed early)";
    unsigned status = cn->status ? cn->status : 499;
    if (cn->show)
        fprintf(stderr, "serve: %s %s %u prompt=%ld (cached %ld) completion=%ld %.2f s%s prompt-text=\"%s\"\n", cn->method,
                cn->path, status, cn->n_prompt, cached, completion, cli_now() - cn->t0, how, cn->show);
    else
        fprintf(stderr, "serve: %s %s %u prompt=%ld (cached %ld) completion=%ld %.2f s%s\n", cn->method, cn->path, status,
                cn->n_prompt, cached, completion, cli_now() - cn->t0, how);
    free(cn->show);
    jbuf_free(&cn->body);
    jbuf_free(&cn->pend);
    free(cn);
}

/* ---- the command ---- */

static void *stop_watchdog(void *arg) {
    const sigset_t *stop_set = arg;
    struct timespec ts = {STOP_GRACE_S, 0};
    const char *why = "serve: requests still running; exiting without them\n";
    if (sigtimedwait(stop_set, NULL, &ts) > 0) why = "serve: second stop signal; exiting now\n";
    alarm(1);
    ssize_t w = write(STDERR_FILENO, why, strlen(why));
    (void)w;
    _exit(1);
}

int cmd_serve(int argc, char **argv) {
    cli_model_opts o;
    cli_opts_init(&o);
    int port = 8080, parallel = 4, queue = -1, max_conn = 256, timeout_s = 10;
    long max_body = 1 << 20;
    const char *host = "127.0.0.1", *alias = NULL, *key = NULL;
    cli_opt opts[24];
    int n = 0;
    opts[n++] = (cli_opt){"--host", CLI_STR, &host, 0, 0, "ADDR", "IPv4 address or localhost to listen on (default 127.0.0.1, loopback only)", 0};
    opts[n++] = (cli_opt){"--port", CLI_INT, &port, 0, 65535, "N", "TCP port (default 8080; 0 picks a free one, printed on stderr)", 0};
    opts[n++] = (cli_opt){"--parallel", CLI_INT, &parallel, 1, 256, "N", "slots: requests decoded together (default 4)", 0};
    opts[n++] = (cli_opt){"--queue", CLI_INT, &queue, 0, 1 << 20, "N", "requests that may wait for a slot; past it 503 (default 4 x --parallel)", 0};
    opts[n++] = (cli_opt){"--api-key", CLI_STR, &key, 0, 0, "KEY", "require Authorization: Bearer KEY (default: $WGPT_API_KEY if set, else none)", 0};
    opts[n++] = (cli_opt){"--model-alias", CLI_STR, &alias, 0, 0, "NAME", "the model's id in /v1/models and replies (default: the file's name)", 0};
    opts[n++] = (cli_opt){"--max-body", CLI_LONG, &max_body, 1024, 1 << 30, "BYTES", "largest request body; larger: 413 (default 1048576)", 0};
    opts[n++] = (cli_opt){"--max-connections", CLI_INT, &max_conn, 4, 65536, "N", "open connections at most (default 256)", 0};
    opts[n++] = (cli_opt){"--timeout", CLI_INT, &timeout_s, 1, 3600, "S", "drop a connection idle this many seconds (default 10)", 0};
    n += cli_sampling_table(&o.cp.sampling, opts + n);
    n -= 2; /* the table ends with --seed (a request without one gets a fresh one) and --cpu-sampling (the batch samples on the CPU) */
    opts[n] = (cli_opt){0};
    cli_command cmd = {"serve", "[-m MODEL] [--host ADDR] [--port N] [--parallel N] [-c CTX] [--api-key KEY] [options]",
                       "An OpenAI-compatible server: POST /v1/chat/completions, /v1/completions (stream: true\n"
                       "for server-sent events), GET /v1/models, /health; POST /apply-template (the prompt a chat\n"
                       "request is rendered to). -c is each slot's context. The sampling options are the defaults\n"
                       "a request's own fields override. One log line per request on stderr; message text only with -v.\n",
                       opts, &o, 0, NULL, 0, NULL};
    int pr = cli_parse(&cmd, argc, argv);
    if (pr) return pr < 0 ? 0 : pr;
    if (!key) key = getenv("WGPT_API_KEY");
    if (key && !*key) key = NULL;
    S.api_key = key;
    S.api_key_len = key ? strlen(key) : 0;
    S.verbose = o.verbose;
    S.max_body = max_body;
    S.defaults = o.cp.sampling;
    if (queue < 0) queue = 4 * parallel;
    /* A thread per connection: without a cap glibc gives threads arenas of
     * their own (up to 8 per core), memory that stays mapped after them. */
    mallopt(M_ARENA_MAX, 2);
    S.keepalive_ticks = timeout_s * 5 / 2 < 15 ? (timeout_s * 5 / 2 ? timeout_s * 5 / 2 : 1) : 15;

    struct sockaddr_in sa;
    if (cli_mhd_address("serve", &host, port, &sa)) return CLI_EXIT_USAGE;
    if (cli_mhd_open("serve")) return 1;

    const char *path = cli_model_path(&o);
    if (!path) return cli_error("no model: give -m FILE (no default model found in models/)");
    char err[1024];
    int rc = 1;
    wgpt_file *f = NULL;
    wgpt_model *m = NULL;
    wgpt_batch *b = NULL;
    struct MHD_Daemon *d = NULL;
    char *lt = NULL, *lb = NULL, *le = NULL;
    if (wgpt_file_open(path, &f, err, sizeof err) != WGPT_OK) return cli_error("%s", err);
    if (wgpt_vocab_open(f, &S.vocab, err, sizeof err) != WGPT_OK ||
        wgpt_file_chat_template(f, &lt, &lb, &le, err, sizeof err) != WGPT_OK) {
        wgpt_file_close(f);
        cli_error("%s", err);
        goto out;
    }
    wgpt_file_close(f);
    S.tpl = lt ? strdup(lt) : NULL;
    S.bos = strdup(lb ? lb : "");
    S.eos = strdup(le ? le : "");
    wgpt_free(lt); wgpt_free(lb); wgpt_free(le);
    if (!S.bos || !S.eos) { cli_error("out of memory"); goto out; }
    S.plain = S.tpl == NULL;
    S.lead = -1;
    if (S.plain) {
        int32_t *ids = NULL;
        size_t k = 0;
        if (wgpt_vocab_tokenize(S.vocab, "", 0, 1, 0, &ids, &k, err, sizeof err) == WGPT_OK && k &&
            ids[0] == wgpt_vocab_bos(S.vocab))
            S.lead = ids[0];
        wgpt_free(ids);
    }
    for (int id = 0, nv = wgpt_vocab_n_tokens(S.vocab); id < nv; id++) {
        int len = wgpt_vocab_token_to_piece(S.vocab, id, NULL, 0);
        if (len > 0 && (size_t)len > S.max_piece) S.max_piece = (size_t)len;
    }
    const char *slash = strrchr(path, '/');
    S.alias = alias ? alias : slash ? slash + 1 : path;

    if (!(m = cli_load_model(&o))) goto out;
    wgpt_batch_params bp;
    wgpt_batch_params_default(&bp);
    bp.n_seq = parallel;
    bp.n_ctx = o.cp.n_ctx;
    bp.n_batch = o.cp.n_batch;
    if (wgpt_batch_create(m, &bp, &b, err, sizeof err) != WGPT_OK) { cli_error("%s", err); goto out; }
    S.n_ctx = wgpt_batch_n_ctx(b);
    /* the sampling defaults, checked once here rather than in every request */
    if (wgpt_batch_seq_sampling(b, 0, &S.defaults) != WGPT_OK) { cli_error("%s", wgpt_batch_errmsg(b)); goto out; }

    sigset_t stop_set;
    cli_mhd_block_stop_signals(&stop_set);

    serve_engine_cfg ec = {.m = m, .b = b, .queue_max = queue, .verbose = o.verbose};
    if (serve_engine_start(&ec)) goto out;
    unsigned budget = cli_mhd_connection_budget();
    unsigned conn_limit = (unsigned)max_conn < budget ? (unsigned)max_conn : budget;
    d = mhd.start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG,
                         (uint16_t)port, NULL, NULL, handle, NULL, MHD_OPTION_EXTERNAL_LOGGER, (MHD_LogCallback)mhd_log,
                         (void *)NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_TIMEOUT,
                         (unsigned)timeout_s, MHD_OPTION_CONNECTION_LIMIT, conn_limit, MHD_OPTION_NOTIFY_COMPLETED,
                         (MHD_RequestCompletedCallback)completed, (void *)NULL, MHD_OPTION_THREAD_STACK_SIZE,
                         (size_t)(1024 * 1024), MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_END);
    if (!d) {
        cli_error("cannot listen on %s:%d (in use?)", text_show_z(host), port);
        serve_engine_stop();
        goto out;
    }
    const union MHD_DaemonInfo *di = mhd.get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned bound = di ? di->port : (unsigned)port;
    fprintf(stderr, "serve: %s as \"%s\" on http://%s:%u/ (%d slots of %d tokens, queue %d, %s)\n",
            text_show_z(wgpt_model_desc(m)), text_show_z(S.alias), host, bound, wgpt_batch_n_seq(b), S.n_ctx, queue,
            S.plain ? "no chat template: plain text, a reply ends at a newline" : "the model's chat template");
    if (strncmp(host, "127.", 4) && !S.api_key)
        fprintf(stderr, "serve: warning: listening on %s without --api-key: anyone who can reach it can use the model\n",
                text_show_z(host));
    fflush(stderr);
    int sig;
    sigwait(&stop_set, &sig);
    pthread_t wd;
    if (pthread_create(&wd, NULL, stop_watchdog, &stop_set)) alarm(STOP_GRACE_S);
    fprintf(stderr, "serve: stopping\n");
    S.stopping = 1;
    serve_engine_stop(); /* ends every request: their threads return */
    mhd.stop_daemon(d);
    rc = 0;
out:
    wgpt_batch_free(b);
    wgpt_model_free(m);
    wgpt_vocab_free(S.vocab);
    free(S.tpl);
    free(S.bos);
    free(S.eos);
    return rc;
}
