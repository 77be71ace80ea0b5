/* wgpt serve-web: serves the browser build (build/web/) and a model over HTTP
 * on loopback, with the MIME types browsers insist on (application/wasm,
 * text/javascript) and single-range requests, which the page's loader uses to
 * read a GGUF header first and then one tensor at a time.
 *
 * libmicrohttpd does the HTTP, opened with dlopen (cli/mhd.h says why).
 *
 * Everything in a request is hostile: any web page the user visits can send
 * requests to 127.0.0.1. So the log escapes what it prints, nothing but a
 * regular file is ever opened (a FIFO or a device could block a thread
 * forever), idle connections are dropped after a few seconds, and a stop
 * signal ends the process even if a request is stuck. */
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
#include <strings.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#ifdef SYS_openat2
#include <linux/openat2.h>
#endif

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/mhd.h"
#include "util/text.h"

/* ---- configuration ---- */
static char g_root[PATH_MAX];  /* realpath of --root */
static int g_root_fd = -1;     /* g_root opened, for opening files beneath it */
static char g_model[PATH_MAX]; /* realpath of the model behind /default.gguf, or "" */
static int g_quiet;

/* Idle connections (a request header sent a byte at a time, or nothing at
 * all) are dropped after this many seconds without progress. A download that
 * moves keeps its connection. */
#define CONNECTION_TIMEOUT_S 10u
/* A stop signal gives requests this long to finish; then the process exits
 * anyway, since MHD_stop_daemon waits for threads that may never return (a
 * stalled network file system, a stderr nobody reads). */
#define STOP_GRACE_S 3

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

/* Reads the decimal digits at *p into *v, saturating at UINT64_MAX: a byte
 * position past 2^64 - 1 is past the end of any file, which is what the
 * saturated value says too. Returns whether there was a digit. */
static int parse_pos(const char **p, uint64_t *v) {
    const char *s = *p;
    uint64_t x = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        x = x > (UINT64_MAX - d) / 10 ? UINT64_MAX : x * 10 + d;
    }
    int any = s != *p;
    *p = s;
    *v = x;
    return any;
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
    uint64_t first = 0, last = 0;
    int have_first = parse_pos(&p, &first);
    if (*p++ != '-') return 0;
    int have_last = parse_pos(&p, &last);
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

/* ---- logging ---- */

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
    /* One fprintf per request: stderr is locked per call, so lines never
     * interleave. The method, URL (already percent-decoded by MHD) and Range
     * come from the client: escaped, so that "%1b" or "%0a" cannot drive the
     * terminal or start a forged line. */
    fprintf(stderr, "serve-web: %s %s %s range=%s status=%u bytes=%llu\n", addr, text_show_z(method), text_show_z(url),
            range ? text_show_z(range) : "-", status, (unsigned long long)bytes);
}

/* libmicrohttpd's own messages. They arrive one per dropped connection (a
 * flood of them under a slowloris), some with an HTML page inside, and may
 * quote the request: each becomes one escaped, prefixed line without markup,
 * at most LOG_BURST of them per LOG_WINDOW_S seconds. */
#define LOG_BURST 5
#define LOG_WINDOW_S 10
static pthread_mutex_t g_log_mu = PTHREAD_MUTEX_INITIALIZER;
static time_t g_log_window;
static unsigned g_log_shown, g_log_dropped;

static void log_dropped_locked(void) {
    if (g_log_dropped)
        fprintf(stderr, "serve-web: (%u more libmicrohttpd messages not shown)\n", g_log_dropped);
    g_log_dropped = 0;
}

static int is_word(char c) { return (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z'); }

static void mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    if (g_quiet) return;
    char raw[1024], flat[1024];
    vsnprintf(raw, sizeof raw, fmt, ap);
    /* Tags go; so do line breaks and runs of blanks. A tag separates words
     * ("big</title><body>Your"), but not a word from its quote mark. */
    size_t n = 0;
    int in_tag = 0, gap = 0; /* gap: 1 after a tag, 2 after a blank */
    for (const char *p = raw; *p && n < sizeof flat - 2; p++) {
        if (in_tag) {
            if (*p == '>') in_tag = 0, gap = gap ? gap : 1;
            continue;
        }
        if (*p == '<') { in_tag = 1; continue; }
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') { gap = 2; continue; }
        if (n && (gap == 2 || (gap == 1 && is_word(flat[n - 1]) && is_word(*p)))) flat[n++] = ' ';
        gap = 0;
        flat[n++] = *p;
    }
    flat[n] = 0;
    char shown[2048];
    text_escape(shown, sizeof shown, flat, n, 400);

    pthread_mutex_lock(&g_log_mu);
    time_t now = time(NULL);
    if (now - g_log_window >= LOG_WINDOW_S) {
        log_dropped_locked();
        g_log_window = now;
        g_log_shown = 0;
    }
    if (g_log_shown < LOG_BURST) {
        g_log_shown++;
        fprintf(stderr, "serve-web: %s\n", shown);
    } else {
        g_log_dropped++;
    }
    pthread_mutex_unlock(&g_log_mu);
}

/* ---- requests ---- */

static enum MHD_Result send_simple(struct MHD_Connection *c, const char *method, const char *url, const char *range,
                                   unsigned status, const char *body, const char *location) {
    struct MHD_Response *r = mhd.create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    mhd.add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED) mhd.add_response_header(r, "Allow", "GET, HEAD");
    if (location) {
        mhd.add_response_header(r, "Location", location);
        /* Browsers keep a 301 forever; a folder can later become a file. */
        mhd.add_response_header(r, "Cache-Control", "no-cache");
    }
    enum MHD_Result ret = mhd.queue_response(c, status, r);
    mhd.destroy_response(r);
    logf_req(c, method, url, range, status, strcmp(method, "HEAD") ? strlen(body) : 0);
    return ret;
}

/* Whether a real path is the root or lies beneath it. "/srv/web" must not
 * admit "/srv/webroot-secret", and a root that already ends in '/' (after
 * realpath only "/" does) admits everything that starts with it. */
static int under_root(const char *real) {
    size_t rl = strlen(g_root);
    if (strncmp(real, g_root, rl)) return 0;
    return (rl && g_root[rl - 1] == '/') || real[rl] == '/' || real[rl] == 0;
}

/* A path segment starting with '.': dotfiles (.git, .env, .htpasswd) are not
 * part of a web build and are served to no one. */
static int has_dot_segment(const char *p) {
    for (const char *s = p; *s; s++)
        if (*s == '.' && (s == p || s[-1] == '/')) return 1;
    return 0;
}

/* The URL of a folder with its slash added, for a redirect: percent-encoded
 * (MHD gave us the decoded path) and with runs of '/' collapsed, so that
 * "//host" cannot become a redirect to another site. 0 if it does not fit. */
static int folder_url(const char *url, char *out, size_t cap) {
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (const unsigned char *s = (const unsigned char *)url; *s; s++) {
        if (*s == '/' && n && out[n - 1] == '/') continue;
        int plain = is_word((char)*s) || strchr("/-._~", *s);
        if (n + 4 >= cap) return 0;
        if (plain) out[n++] = (char)*s;
        else out[n++] = '%', out[n++] = hex[*s >> 4], out[n++] = hex[*s & 15];
    }
    if (n + 2 > cap) return 0;
    out[n++] = '/';
    out[n] = 0;
    return 1;
}

/* Maps a URL path to a file under the root. Returns 0 with the real path in
 * out (PATH_MAX bytes) and *rel pointing at its part below the root, or the
 * HTTP status to answer with: 301 (loc holds where to), 400, 403 or 404. */
static unsigned resolve(const char *url, char out[PATH_MAX], const char **rel, char *loc, size_t locsz) {
    if (url[0] != '/') return MHD_HTTP_BAD_REQUEST;
    /* Refuse any ".." segment, backslashes and control bytes outright, before
     * touching the file system. */
    for (const char *s = url; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '\\') return MHD_HTTP_FORBIDDEN;
        if (s[0] == '/' && s[1] == '.' && s[2] == '.' && (s[3] == '/' || s[3] == 0)) return MHD_HTTP_FORBIDDEN;
    }
    if (has_dot_segment(url)) return MHD_HTTP_NOT_FOUND;
    int want_index = url[strlen(url) - 1] == '/';
    char joined[PATH_MAX];
    int n = snprintf(joined, sizeof joined, "%s%s%s", g_root, url, want_index ? "index.html" : "");
    if (n < 0 || (size_t)n >= sizeof joined) return MHD_HTTP_NOT_FOUND;
    if (!realpath(joined, out)) return errno == EACCES ? MHD_HTTP_FORBIDDEN : MHD_HTTP_NOT_FOUND;
    /* Symbolic links may point anywhere: what they resolve to must still be
     * under the root, and not into a dot-folder there. */
    if (!under_root(out)) return MHD_HTTP_FORBIDDEN;
    const char *r = out + strlen(g_root);
    while (*r == '/') r++;
    if (has_dot_segment(r)) return MHD_HTTP_NOT_FOUND;
    struct stat st;
    if (stat(out, &st)) return errno == EACCES ? MHD_HTTP_FORBIDDEN : MHD_HTTP_NOT_FOUND;
    if (S_ISDIR(st.st_mode)) {
        /* "/sub" is answered with a redirect to "/sub/" (whose index.html is
         * served) rather than the page itself, or its relative links would
         * resolve against "/". */
        if (want_index || !folder_url(url, loc, locsz)) return MHD_HTTP_NOT_FOUND;
        return MHD_HTTP_MOVED_PERMANENTLY;
    }
    /* FIFOs, sockets and devices: 403, as for a file we may not read. They
     * exist, so 404 would mislead whoever set up the folder, and opening one
     * can block or have side effects: they are never opened. */
    if (!S_ISREG(st.st_mode)) return MHD_HTTP_FORBIDDEN;
    *rel = r;
    return 0;
}

/* Opens a file that resolve() found (rel: its path below the root), or the
 * model (rel NULL). Nothing is followed: between realpath and here a path
 * component could have been swapped for a symbolic link out of the root.
 * O_NONBLOCK so that a FIFO swapped in cannot block the open. */
static int open_file(const char *abs, const char *rel) {
    int flags = O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC;
#ifdef SYS_openat2
    if (rel && g_root_fd >= 0) {
        struct open_how how;
        memset(&how, 0, sizeof how);
        how.flags = (uint64_t)flags;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
        long fd = syscall(SYS_openat2, g_root_fd, rel, &how, sizeof how);
        /* Kernels before 5.6, and some seccomp filters, lack openat2: then
         * O_NOFOLLOW on the real path guards the last component only. */
        if (fd >= 0 || (errno != ENOSYS && errno != EPERM)) return (int)fd;
    }
#endif
    return open(abs, flags);
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
        return send_simple(c, method, url, range, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n", NULL);

    char path[PATH_MAX], loc[PATH_MAX * 3 + 2];
    const char *rel = NULL;
    unsigned st = 0;
    if (!strcmp(url, "/default.gguf")) {
        if (!g_model[0]) st = MHD_HTTP_NOT_FOUND;
        else snprintf(path, sizeof path, "%s", g_model);
    } else {
        st = resolve(url, path, &rel, loc, sizeof loc);
    }
    if (st == MHD_HTTP_MOVED_PERMANENTLY) return send_simple(c, method, url, range, st, "moved permanently\n", loc);
    if (st == MHD_HTTP_FORBIDDEN) return send_simple(c, method, url, range, st, "forbidden\n", NULL);
    if (st == MHD_HTTP_BAD_REQUEST) return send_simple(c, method, url, range, st, "bad request\n", NULL);
    if (st) return send_simple(c, method, url, range, MHD_HTTP_NOT_FOUND, "not found\n", NULL);

    int fd = open_file(path, rel);
    if (fd < 0) {
        /* EACCES: unreadable; ELOOP/EXDEV: a link appeared on the way;
         * ENXIO: a socket. None is "not found". */
        int e = errno;
        if (e == EACCES || e == EPERM || e == ELOOP || e == EXDEV || e == ENXIO)
            return send_simple(c, method, url, range, MHD_HTTP_FORBIDDEN, "forbidden\n", NULL);
        return send_simple(c, method, url, range, MHD_HTTP_NOT_FOUND, "not found\n", NULL);
    }
    struct stat sb;
    if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) { /* swapped after resolve(), or the model replaced */
        close(fd);
        return send_simple(c, method, url, range, MHD_HTTP_FORBIDDEN, "forbidden\n", NULL);
    }
    /* O_NONBLOCK has no effect on a regular file; it stays. */
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

/* Runs once a stop signal has come: if stopping takes longer than
 * STOP_GRACE_S, or a second signal comes, the process ends here. */
static void *stop_watchdog(void *arg) {
    const sigset_t *stop_set = arg;
    struct timespec deadline, now;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += STOP_GRACE_S;
    const char *why = "serve-web: requests still running; exiting without them\n";
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left_ms = (long)(deadline.tv_sec - now.tv_sec) * 1000 + (deadline.tv_nsec - now.tv_nsec) / 1000000;
        if (left_ms <= 0) break;
        struct timespec ts = {left_ms / 1000, (left_ms % 1000) * 1000000};
        if (sigtimedwait(stop_set, NULL, &ts) > 0) { why = "serve-web: second stop signal; exiting now\n"; break; }
    }
    /* Not stdio: another thread may hold stderr's lock. And if nobody reads
     * stderr the write itself could block, so SIGALRM (not blocked, default
     * action: terminate) ends the process a second later regardless. */
    alarm(1);
    ssize_t w = write(STDERR_FILENO, why, strlen(why));
    (void)w;
    _exit(1);
}

int cmd_serve_web(int argc, char **argv) {
    int port = 8080;
    const char *host = "127.0.0.1", *root = NULL, *model = NULL;
    const cli_opt opts[] = {
        {"-p,--port", CLI_INT, &port, 0, 65535, "N", "TCP port (default 8080; 0 picks a free one, printed on stderr)", 0},
        {"--host", CLI_STR, &host, 0, 0, "ADDR", "IPv4 address or localhost to listen on (default 127.0.0.1, loopback only)", 0},
        {"--root", CLI_STR, &root, 0, 0, "DIR", "folder to serve (default: build/web beside the wgpt binary)", 0},
        {"-m,--model", CLI_STR, &model, 0, 0, "FILE",
         "what /default.gguf serves (default: $WGPT_MODEL, then models/default.gguf)", 0},
        {"-q,--quiet", CLI_FLAG, &g_quiet, 0, 0, NULL, "no request log (by default one line per request on stderr)", 0},
        {0},
    };
    cli_command cmd = {"serve-web", "[--port N] [--host ADDR] [--root DIR] [--model FILE] [--quiet]",
                       "Serves the browser build and a model over HTTP with Range support.\n"
                       "Only regular files are served; dotfiles (.git, .env, ...) are not.\n",
                       opts, NULL, 0, NULL, 0, NULL};
    int pr = cli_parse(&cmd, argc, argv);
    if (pr) return pr < 0 ? 0 : pr;

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
    if (!realpath(root, g_root))
        return cli_error("cannot serve %s: %s (run `make web` first?)", text_show_z(root), strerror(errno));
    struct stat st;
    if (stat(g_root, &st) || !S_ISDIR(st.st_mode)) return cli_error("%s is not a folder", text_show_z(g_root));
    /* Every file the process can read, to anything that can reach the port,
     * is never what was meant. */
    if (!strcmp(g_root, "/"))
        return cli_usage_error("serve-web", "refusing to serve / (the whole file system); give --root the folder to serve");
    g_root_fd = open(g_root, O_PATH | O_DIRECTORY | O_CLOEXEC);

    cli_model_opts mo;
    cli_opts_init(&mo);
    mo.model_path = model;
    const char *mp = cli_model_path(&mo);
    if (mp && !realpath(mp, g_model)) {
        if (model) return cli_error("cannot read model %s: %s", text_show_z(model), strerror(errno));
        g_model[0] = 0;
    }
    if (g_model[0]) {
        /* A folder would answer 404 on every request and a FIFO would block
         * each one: say so now, in one line. stat, not open, so a FIFO cannot
         * block this either. */
        if (stat(g_model, &st)) return cli_error("cannot read model %s: %s", text_show_z(g_model), strerror(errno));
        if (!S_ISREG(st.st_mode)) return cli_error("serve-web: model %s is not a regular file", text_show_z(g_model));
        if (access(g_model, R_OK)) return cli_error("cannot read model %s: %s", text_show_z(g_model), strerror(errno));
    }

    struct sockaddr_in sa;
    if (cli_mhd_address("serve-web", &host, port, &sa)) return CLI_EXIT_USAGE;

    if (cli_mhd_open("serve-web")) return 1;
    /* SIGINT/SIGTERM stop the server: blocked here (MHD's threads inherit
     * the mask) and taken with sigwait below. */
    sigset_t stop_set;
    cli_mhd_block_stop_signals(&stop_set);

    /* Slowloris: connections that send a header a byte at a time hold a
     * slot each. MHD_USE_AUTO picks epoll, so an idle connection costs a
     * descriptor and some memory but no thread, and the limit is set by
     * descriptors, not by select()'s FD_SETSIZE (MHD's default limit, about
     * 1020). One address may hold half of the slots, so a single remote host
     * cannot take them all; on loopback every client shares 127.0.0.1, and
     * thousands of idle connections still leave room for the page. */
    unsigned conn_limit = cli_mhd_connection_budget();
    unsigned per_ip = conn_limit / 2 ? conn_limit / 2 : 1;
    struct MHD_Daemon *d = mhd.start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG, (uint16_t)port, NULL, NULL, handle, NULL,
        MHD_OPTION_EXTERNAL_LOGGER, (MHD_LogCallback)mhd_log, (void *)NULL, /* first, to catch startup messages */
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)4,
        MHD_OPTION_CONNECTION_TIMEOUT, CONNECTION_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT, conn_limit,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip, MHD_OPTION_END);
    if (!d) return cli_error("cannot listen on %s:%d (in use?)", text_show_z(host), port);
    const union MHD_DaemonInfo *di = mhd.get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned bound = di ? di->port : (unsigned)port;
    char shown_root[PATH_MAX * 4], shown_model[PATH_MAX * 4];
    text_escape(shown_root, sizeof shown_root, g_root, strlen(g_root), 0);
    text_escape(shown_model, sizeof shown_model, g_model[0] ? g_model : "none", strlen(g_model[0] ? g_model : "none"), 0);
    fprintf(stderr, "serve-web: serving %s on http://%s:%u/ (/default.gguf: %s)\n", shown_root, host, bound, shown_model);
    if (conn_limit < 1024)
        fprintf(stderr, "serve-web: at most %u connections (raise `ulimit -n` for more)\n", conn_limit);
    fflush(stderr);
    int sig;
    sigwait(&stop_set, &sig);
    pthread_t wd;
    if (pthread_create(&wd, NULL, stop_watchdog, &stop_set)) alarm(STOP_GRACE_S); /* no thread: the same, bluntly */
    fprintf(stderr, "serve-web: stopping\n");
    mhd.stop_daemon(d);
    pthread_mutex_lock(&g_log_mu);
    log_dropped_locked();
    pthread_mutex_unlock(&g_log_mu);
    return 0;
}
