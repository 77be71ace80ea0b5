/* libmicrohttpd opened at run time: see mhd.h. */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "cli/cli.h"
#include "cli/mhd.h"
#include "util/text.h"

cli_mhd_api mhd;

int cli_mhd_open(const char *who) {
    static int opened;
    if (opened) return 0;
    static const char *const names[] = {"libmicrohttpd.so.12", "libmicrohttpd.so", NULL};
    void *h = NULL;
    for (int i = 0; names[i] && !h; i++) h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!h) return cli_error("%s needs libmicrohttpd (Debian: apt-get install libmicrohttpd12): %s", who, dlerror());
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
    SYM(create_response_from_callback, "MHD_create_response_from_callback");
    SYM(add_response_header, "MHD_add_response_header");
    SYM(queue_response, "MHD_queue_response");
    SYM(destroy_response, "MHD_destroy_response");
    SYM(lookup_connection_value, "MHD_lookup_connection_value");
#undef SYM
    opened = 1;
    return 0;
}

/* Every connection holds a descriptor, and one serving a file a second: the
 * soft limit (often 1024) would cap a server near 500 connections, so it
 * is raised to the hard one. Returns how many connections to allow. */
unsigned cli_mhd_connection_budget(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl)) return 256;
    rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
    if (rl.rlim_cur < want) {
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl)) getrlimit(RLIMIT_NOFILE, &rl);
    }
    rlim_t fds = rl.rlim_cur == RLIM_INFINITY ? 65536 : rl.rlim_cur;
    /* 64 for the listen socket, MHD's epoll and wake-up descriptors, the
     * root, stdio and the dynamic loader; capped where memory (up to 32 KB a
     * connection) starts to matter more than slots. */
    rlim_t n = fds > 128 ? (fds - 64) / 2 : 32;
    return n > 8192 ? 8192u : (unsigned)n;
}

int cli_mhd_address(const char *who, const char **hostp, int port, struct sockaddr_in *sa) {
    if (!strcasecmp(*hostp, "localhost")) *hostp = "127.0.0.1";
    const char *host = *hostp;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return cli_usage_error(who, "--host expects an IPv4 address or localhost, got '%s'", text_show_z(host));
    return 0;
}

void cli_mhd_block_stop_signals(sigset_t *set) {
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}
