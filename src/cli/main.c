/* wgpt: run transformer language models on the GPU through WebGPU. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>

#include "cli/commands.h"
#include "wgpt.h"

static const struct { const char *name; int (*fn)(int, char **); const char *what; } commands[] = {
    {"run", cmd_run, "generate a continuation of a prompt"},
    {"chat", cmd_chat, "talk with the model, one message per line"},
    {"inspect", cmd_inspect, "show a GGUF file's metadata and tensors"},
    {"tokenize", cmd_tokenize, "print the token ids of text read on stdin"},
    {"template", cmd_template, "render a conversation (JSON messages) with the model's chat template"},
    {"logits", cmd_logits, "write the logits at every position as f32"},
    {"verify", cmd_verify, "compare every layer's activations on the GPU with the CPU reference"},
    {"bench", cmd_bench, "measure prompt and generation speed (like llama-bench)"},
    {"devices", cmd_devices, "list the GPU adapters WebGPU offers"},
    {"parallel", cmd_parallel, "continue many prompts (one a line) at once, decoded together in each step"},
    {"serve", cmd_serve, "an OpenAI-compatible HTTP server (chat, completions, streaming; parallel slots)"},
    {"serve-web", cmd_serve_web, "serve the browser build and a model on localhost (HTTP, Range requests)"},
};

static int usage(FILE *f) {
    fprintf(f, "usage: wgpt COMMAND [options]   (wgpt COMMAND --help for its options)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].what);
    return f == stdout ? 0 : 2;
}

/* A closed standard descriptor would be taken by the next file opened, and
 * generated text written into it (a model file, a cache). Hold each one
 * with /dev/null, read-only for stdout so that writing fails as it should. */
static void hold_std_fds(void) {
    static const int modes[3] = {O_RDONLY, O_RDONLY, O_WRONLY};
    for (int fd = 0; fd < 3; fd++)
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            int n = open("/dev/null", modes[fd]);
            if (n >= 0 && n != fd) { dup2(n, fd); close(n); }
        }
}

int main(int argc, char **argv) {
    hold_std_fds();
    if (argc < 2) return usage(stderr);
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) return usage(stdout);
    if (!strcmp(argv[1], "--version")) { printf("wgpt %s\n", wgpt_version()); return 0; }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "wgpt: unknown command '%s'\n", argv[1]);
    return usage(stderr);
}
