/* wgpt serve-web: serves the browser build (build/web/) and a model over HTTP
 * on loopback, with the MIME types browsers insist on (application/wasm,
 * text/javascript) and single-range requests, which the page's loader uses to
 * read a GGUF header first and then one tensor at a time.
 *
 * libmicrohttpd does the HTTP. It is opened with dlopen when this command runs
 * rather than linked: Debian's static libmicrohttpd.a needs GnuTLS and its
 * half-dozen libraries, and linking the shared one would make every wgpt
 * command (and the binary carried to the GPU machine) need it. Only this
 * command does. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <microhttpd.h>

#include "cli/cli.h"
#include "cli/commands.h"

/* ---- libmicrohttpd, opened at run time ---- */
static struct {
    struct MHD_Daemon *(*start_daemon)(unsigned int, uint16_t, MHD_AcceptPolicyCallback, void *, MHD_AccessHandlerCallback,
                                       void *, ...);
    void (*stop_daemon)(struct MHD_Daemon *);
    const union MHD_DaemonInfo *(*get_daemon_info)(struct MHD_Daemon *, enum MHD_DaemonInfoType, ...);
    const union MHD_ConnectionInfo *(*get_connection_info)(struct MHD_Connection *, enum MHD_ConnectionInfoType, ...);
    struct MHD_Response *(*create_response_from_buffer)(size_t, void *, enum MHD_ResponseMemoryMode);
    struct MHD_Response *(*create_response_from_fd_at_offset64)(uint64_t, int, uint64_t);
    enum MHD_Result (*add_response_header)(struct MHD_Response *, const char *, const char *);
    enum MHD_Result (*queue_response)(struct MHD_Connection *, unsigned int, struct MHD_Response *);
    void (*destroy_response)(struct MHD_Response *);
    const char *(*lookup_connection_value)(struct MHD_Connection *, enum MHD_ValueKind, const char *);
} mhd;

static int mhd_open(void) {
    static const char *const names[] = {"libmicrohttpd.so.12", "libmicrohttpd.so", NULL};
    void *h = NULL;
    for (int i = 0; names[i] && !h; i++) h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!h) return cli_error("serve-web needs libmicrohttpd (Debian: apt-get install libmicrohttpd12): %s", dlerror());
#define SYM(field, name)                                                                 \
    do {                                                                                 \
        *(void **)&mhd.field = dlsym(h, name);                                           \
        if (!mhd.field) return cli_error("libmicrohttpd has no %s (too old?)", name);     \
    } while (0)
    SYM(start_daemon, "MHD_start_daemon");
    SYM(stop_daemon, "MHD_stop_daemon");
    SYM(get_daemon_info, "MHD_get_daemon_info");
    SYM(get_connection_info, "MHD_get_connection_info");
    SYM(create_response_from_buffer, "MHD_create_response_from_buffer");
    SYM(create_response_from_fd_at_offset64, "MHD_create_response_from_fd_at_offset64");
    SYM(add_response_header, "MHD_add_response_header");
    SYM(queue_response, "MHD_queue_response");
    SYM(destroy_response, "MHD_destroy_response");
    SYM(lookup_connection_value, "MHD_lookup_connection_value");
#undef SYM
    return 0;
}

/* ---- configuration ---- */
static char g_root[PATH_MAX];  /* realpath of --root */
static char g_model[PATH_MAX]; /* realpath of the model behind /default.gguf, or "" */
static int g_quiet;

static const char *mime_type(const char *path) {
    static const char *const map[][2] = {
        {".html", "text/html; charset=utf-8"},   {".htm", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"}, {".mjs", "text/javascript; charset=utf-8"},
        {".wasm", "application/wasm"},           {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},           {".map", "application/json"},
        {".gguf", "application/octet-stream"},   {".bin", "application/octet-stream"},
        {".txt", "text/plain; charset=utf-8"},   {".md", "text/plain; charset=utf-8"},
        {".png", "image/png"},                   {".svg", "image/svg+xml"},
        {".ico", "image/x-icon"},                {".webmanifest", "application/manifest+json"},
    };
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (dot && (!slash || dot > slash))
        for (size_t i = 0; i < sizeof map / sizeof *map; i++)
            if (!strcasecmp(dot, map[i][0])) return map[i][1];
    return "application/octet-stream";
}

/* Parses a Range header against a resource of `size` bytes.
 * Returns 0: no usable range (absent, malformed, several ranges: serve it
 * all, as RFC 9110 lets a server ignore Range), 1: satisfiable, [*a, *b]
 * inclusive, 2: well-formed but unsatisfiable (416). */
static int parse_range(const char *h, uint64_t size, uint64_t *a, uint64_t *b) {
    if (!h) return 0;
    while (*h == ' ' || *h == '\t') h++;
    if (strncasecmp(h, "bytes=", 6)) return 0;
    h += 6;
    while (*h == ' ') h++;
    if (strchr(h, ',')) return 0; /* multipart/byteranges: not supported, send all */
    const char *p = h;
    int have_first = 0, have_last = 0;
    uint64_t first = 0, last = 0;
    while (*p >= '0' && *p <= '9') {
        if (first > (UINT64_MAX - 9) / 10) return 0;
        first = first * 10 + (uint64_t)(*p++ - '0');
        have_first = 1;
    }
    if (*p++ != '-') return 0;
    while (*p >= '0' && *p <= '9') {
        if (last > (UINT64_MAX - 9) / 10) return 0;
        last = last * 10 + (uint64_t)(*p++ - '0');
        have_last = 1;
    }
    while (*p == ' ' || *p == '\t') p++;
    if (*p) return 0;
    if (!have_first && !have_last) return 0;
    if (!have_first) { /* suffix: the last `last` bytes */
        if (last == 0 || size == 0) return 2;
        *a = last >= size ? 0 : size - last;
        *b = size - 1;
        return 1;
    }
    if (have_last && last < first) return 0; /* invalid range-spec: ignore the header */
    if (first >= size) return 2;
    *a = first;
    *b = have_last && last < size ? last : size - 1;
    return 1;
}

static void logf_req(struct MHD_Connection *c, const char *method, const char *url, const char *range, unsigned status,
                     uint64_t bytes) {
    if (g_quiet) return;
    char addr[INET6_ADDRSTRLEN] = "?";
    const union MHD_ConnectionInfo *ci = mhd.get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET) inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, addr, sizeof addr);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, addr, sizeof addr);
    }
    /* One fprintf per request: stderr is locked per call, so lines never interleave. */
    fprintf(stderr, "serve-web: %s %s %s range=%s status=%u bytes=%llu\n", addr, method, url, range ? range : "-", status,
            (unsigned long long)bytes);
}

static enum MHD_Result send_simple(struct MHD_Connection *c, const char *method, const char *url, const char *range,
                                   unsigned status, const char *body) {
    struct MHD_Response *r = mhd.create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    mhd.add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED) mhd.add_response_header(r, "Allow", "GET, HEAD");
    enum MHD_Result ret = mhd.queue_response(c, status, r);
    mhd.destroy_response(r);
    logf_req(c, method, url, range, status, strcmp(method, "HEAD") ? strlen(body) : 0);
    return ret;
}

/* Maps a URL path to a file under the root. Returns 0 and the real path, or
 * the HTTP status to answer with. */
static unsigned resolve(const char *url, char *out, size_t outsz) {
    if (url[0] != '/') return MHD_HTTP_BAD_REQUEST;
    if (!strcmp(url, "/default.gguf")) {
        if (!g_model[0]) return MHD_HTTP_NOT_FOUND;
        snprintf(out, outsz, "%s", g_model);
        return 0;
    }
    /* Refuse any ".." segment, backslashes and control bytes outright, before
     * touching the file system. */
    for (const char *s = url; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == '\\') return MHD_HTTP_FORBIDDEN;
        if (s[0] == '/' && s[1] == '.' && s[2] == '.' && (s[3] == '/' || s[3] == 0)) return MHD_HTTP_FORBIDDEN;
    }
    char joined[PATH_MAX];
    int n = snprintf(joined, sizeof joined, "%s%s", g_root, url);
    if (n < 0 || (size_t)n >= sizeof joined) return MHD_HTTP_NOT_FOUND;
    if (url[strlen(url) - 1] == '/') {
        n = snprintf(joined, sizeof joined, "%s%sindex.html", g_root, url);
        if (n < 0 || (size_t)n >= sizeof joined) return MHD_HTTP_NOT_FOUND;
    }
    char real[PATH_MAX];
    if (!realpath(joined, real)) return errno == EACCES ? MHD_HTTP_FORBIDDEN : MHD_HTTP_NOT_FOUND;
    /* Symbolic links may point anywhere: what they resolve to must still be
     * under the root. */
    size_t rl = strlen(g_root);
    if (strncmp(real, g_root, rl) || (real[rl] != '/' && real[rl] != 0)) return MHD_HTTP_FORBIDDEN;
    struct stat st;
    if (stat(real, &st)) return MHD_HTTP_NOT_FOUND;
    if (S_ISDIR(st.st_mode)) {
        char idx[PATH_MAX];
        n = snprintf(idx, sizeof idx, "%s/index.html", real);
        if (n < 0 || (size_t)n >= sizeof idx || !realpath(idx, real)) return MHD_HTTP_NOT_FOUND;
        if (strncmp(real, g_root, rl) || real[rl] != '/') return MHD_HTTP_FORBIDDEN;
    }
    snprintf(out, outsz, "%s", real);
    return 0;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_size, void **req_cls) {
    (void)cls; (void)version; (void)upload_data;
    static int first_call_marker;
    if (*req_cls != &first_call_marker) { /* headers only so far: wait for the body (if any) */
        *req_cls = &first_call_marker;
        return MHD_YES;
    }
    if (*upload_size) { *upload_size = 0; return MHD_YES; } /* discard request bodies */
    const char *range = mhd.lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);
    int head = !strcmp(method, MHD_HTTP_METHOD_HEAD);
    if (!head && strcmp(method, MHD_HTTP_METHOD_GET))
        return send_simple(c, method, url, range, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");

    char path[PATH_MAX];
    unsigned st = resolve(url, path, sizeof path);
    if (st == MHD_HTTP_FORBIDDEN) return send_simple(c, method, url, range, st, "forbidden\n");
    if (st == MHD_HTTP_BAD_REQUEST) return send_simple(c, method, url, range, st, "bad request\n");
    if (st) return send_simple(c, method, url, range, MHD_HTTP_NOT_FOUND, "not found\n");

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
        if (fd >= 0) close(fd);
        return send_simple(c, method, url, range, MHD_HTTP_NOT_FOUND, "not found\n");
    }
    uint64_t size = (uint64_t)sb.st_size, a = 0, b = 0;
    int pr = parse_range(range, size, &a, &b);
    if (pr == 2) {
        close(fd);
        struct MHD_Response *r = mhd.create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (!r) return MHD_NO;
        char cr[64];
        snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)size);
        mhd.add_response_header(r, "Content-Range", cr);
        mhd.add_response_header(r, "Accept-Ranges", "bytes");
        enum MHD_Result ret = mhd.queue_response(c, MHD_HTTP_RANGE_NOT_SATISFIABLE, r);
        mhd.destroy_response(r);
        logf_req(c, method, url, range, MHD_HTTP_RANGE_NOT_SATISFIABLE, 0);
        return ret;
    }
    uint64_t off = pr == 1 ? a : 0, len = pr == 1 ? b - a + 1 : size;
    /* MHD closes fd when the response is destroyed; for HEAD it sends the
     * headers (Content-Length included) and no body. */
    struct MHD_Response *r = mhd.create_response_from_fd_at_offset64(len, fd, off);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    mhd.add_response_header(r, "Content-Type", mime_type(path));
    mhd.add_response_header(r, "Accept-Ranges", "bytes");
    mhd.add_response_header(r, "X-Content-Type-Options", "nosniff");
    /* The page and its code are revalidated on every visit (cheap, and a
     * rebuilt page is picked up at once); weights are cached by the page
     * itself, in the Cache API. */
    mhd.add_response_header(r, "Cache-Control", "no-cache");
    unsigned status = MHD_HTTP_OK;
    if (pr == 1) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)a, (unsigned long long)b,
                 (unsigned long long)size);
        mhd.add_response_header(r, "Content-Range", cr);
        status = MHD_HTTP_PARTIAL_CONTENT;
    }
    enum MHD_Result ret = mhd.queue_response(c, status, r);
    mhd.destroy_response(r);
    logf_req(c, method, url, range, status, head ? 0 : len);
    return ret;
}

static int usage(FILE *f) {
    fprintf(f,
            "usage: wgpt serve-web [--port N] [--host ADDR] [--root DIR] [--model FILE] [--quiet]\n"
            "Serves the browser build and a model over HTTP with Range support.\n"
            "  --port N       TCP port (default 8080; 0 picks a free one, printed on stderr)\n"
            "  --host ADDR    IPv4 address to listen on (default 127.0.0.1, loopback only)\n"
            "  --root DIR     folder to serve (default: build/web beside the wgpt binary)\n"
            "  --model FILE   what /default.gguf serves (default: $WGPT_MODEL, then models/default.gguf)\n"
            "  --quiet        no request log (by default one line per request on stderr)\n");
    return f == stdout ? 0 : 2;
}

int cmd_serve_web(int argc, char **argv) {
    long port = 8080;
    const char *host = "127.0.0.1", *root = NULL, *model = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return usage(stdout);
        if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) { g_quiet = 1; continue; }
        if (i + 1 >= argc) {
            if (!strcmp(a, "--port") || !strcmp(a, "--host") || !strcmp(a, "--root") || !strcmp(a, "--model") || !strcmp(a, "-m"))
                return cli_error("%s needs a value", a);
            return cli_error("serve-web: unknown option '%s'", a), usage(stderr);
        }
        if (!strcmp(a, "--port") || !strcmp(a, "-p")) {
            char *end;
            port = strtol(argv[++i], &end, 10);
            if (*argv[i] == 0 || *end || port < 0 || port > 65535) return cli_error("--port expects 0..65535, got '%s'", argv[i]);
        } else if (!strcmp(a, "--host")) host = argv[++i];
        else if (!strcmp(a, "--root")) root = argv[++i];
        else if (!strcmp(a, "--model") || !strcmp(a, "-m")) model = argv[++i];
        else return cli_error("serve-web: unknown option '%s'", a), usage(stderr);
    }

    /* The root: given, else build/web beside the binary (build/wgpt). */
    char def_root[PATH_MAX + 8];
    if (!root) {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0) return cli_error("give --root DIR");
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        snprintf(def_root, sizeof def_root, "%s/web", exe);
        root = def_root;
    }
    if (!realpath(root, g_root)) return cli_error("cannot serve %s: %s (run `make web` first?)", root, strerror(errno));
    struct stat st;
    if (stat(g_root, &st) || !S_ISDIR(st.st_mode)) return cli_error("%s is not a folder", g_root);

    cli_model_opts mo;
    cli_opts_init(&mo);
    mo.model_path = model;
    const char *mp = cli_model_path(&mo);
    if (mp && !realpath(mp, g_model)) {
        if (model) return cli_error("cannot read model %s: %s", model, strerror(errno));
        g_model[0] = 0;
    }
    if (mp && g_model[0] && access(g_model, R_OK)) return cli_error("cannot read model %s: %s", g_model, strerror(errno));

    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) return cli_error("--host expects an IPv4 address, got '%s'", host);

    if (mhd_open()) return 1;
    /* SIGINT/SIGTERM stop the server: blocked here (MHD's threads inherit
     * the mask) and taken with sigwait below. */
    sigset_t stop_set;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGINT);
    sigaddset(&stop_set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_set, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct MHD_Daemon *d = mhd.start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG, (uint16_t)port, NULL, NULL, handle, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)4,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_END);
    if (!d) return cli_error("cannot listen on %s:%ld (in use?)", host, port);
    const union MHD_DaemonInfo *di = mhd.get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned bound = di ? di->port : (unsigned)port;
    fprintf(stderr, "serve-web: serving %s on http://%s:%u/ (/default.gguf: %s)\n", g_root, host, bound,
            g_model[0] ? g_model : "none");
    fflush(stderr);
    int sig;
    sigwait(&stop_set, &sig);
    fprintf(stderr, "serve-web: stopping\n");
    mhd.stop_daemon(d);
    return 0;
}
