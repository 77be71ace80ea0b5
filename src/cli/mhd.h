/* libmicrohttpd, opened with dlopen when a command that serves HTTP runs
 * (serve-web, serve) rather than linked: Debian's static libmicrohttpd.a
 * needs GnuTLS and its half-dozen libraries, and linking the shared one
 * would make every wgpt command (and the binary carried to the GPU machine)
 * need it. Only these commands do. */
#ifndef WGPT_CLI_MHD_H
#define WGPT_CLI_MHD_H

#include <stdint.h>
#include <microhttpd.h>

typedef struct {
    struct MHD_Daemon *(*start_daemon)(unsigned int, uint16_t, MHD_AcceptPolicyCallback, void *, MHD_AccessHandlerCallback,
                                       void *, ...);
    void (*stop_daemon)(struct MHD_Daemon *);
    const union MHD_DaemonInfo *(*get_daemon_info)(struct MHD_Daemon *, enum MHD_DaemonInfoType, ...);
    const union MHD_ConnectionInfo *(*get_connection_info)(struct MHD_Connection *, enum MHD_ConnectionInfoType, ...);
    struct MHD_Response *(*create_response_from_buffer)(size_t, void *, enum MHD_ResponseMemoryMode);
    struct MHD_Response *(*create_response_from_fd_at_offset64)(uint64_t, int, uint64_t);
    struct MHD_Response *(*create_response_from_callback)(uint64_t, size_t, MHD_ContentReaderCallback, void *,
                                                          MHD_ContentReaderFreeCallback);
    enum MHD_Result (*add_response_header)(struct MHD_Response *, const char *, const char *);
    enum MHD_Result (*queue_response)(struct MHD_Connection *, unsigned int, struct MHD_Response *);
    void (*destroy_response)(struct MHD_Response *);
    const char *(*lookup_connection_value)(struct MHD_Connection *, enum MHD_ValueKind, const char *);
} cli_mhd_api;

extern cli_mhd_api mhd;

/* Opens the library once; 0, or 1 after saying (as `who`) what is missing. */
int cli_mhd_open(const char *who);

/* Raises the descriptor limit to the hard one and returns how many
 * connections it leaves room for (each may hold two descriptors). */
unsigned cli_mhd_connection_budget(void);

#include <signal.h>
/* SIGINT and SIGTERM blocked (the server's threads inherit the mask; the
 * caller takes them with sigwait on *set), SIGPIPE ignored (a client that
 * went away must not end the server). */
void cli_mhd_block_stop_signals(sigset_t *set);

struct sockaddr_in;
/* The address to listen on: host an IPv4 address, or "localhost" (which is
 * loopback, and resolving it could give ::1, where these IPv4 servers do not
 * listen; *host becomes "127.0.0.1", the address the servers then print). 0, or CLI_EXIT_USAGE after saying (as `who`) what host was. */
int cli_mhd_address(const char *who, const char **host, int port, struct sockaddr_in *sa);

#endif
