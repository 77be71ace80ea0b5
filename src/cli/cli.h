/* What the subcommands share: one table-driven option parser, model
 * loading, error printing, and output that is checked for write errors.
 *
 * Exit codes, the same in every command: 0 success, 1 the work failed (a
 * bad file, a GPU error, a prompt that does not fit), 2 the command line is
 * wrong (unknown option, missing or out-of-range value). */
#ifndef WGPT_CLI_H
#define WGPT_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "wgpt.h"

#define CLI_EXIT_USAGE 2

typedef struct {
    const char *model_path;
    const char *model_from;   /* where model_path came from, for messages: "-m", "$WGPT_MODEL", "default" */
    wgpt_model_params mp;
    wgpt_context_params cp;
    int seed_random;          /* --seed -1: a fresh seed, told with -v */
    int verbose;              /* -v: the library's INFO lines and the load time on stderr */
} cli_model_opts;

typedef enum {
    CLI_FLAG,    /* int*: set to 1 */
    CLI_INT,     /* int*, range [lo, hi] */
    CLI_LONG,    /* long*, range [lo, hi] */
    CLI_U64,     /* uint64_t*, range [lo, hi] */
    CLI_SEED,    /* uint64_t*: 0..2^64-1, or -1 for a random seed */
    CLI_FLOAT,   /* float*, finite, range [lo, hi] (lo excluded with CLI_LO_OPEN) */
    CLI_DOUBLE,  /* double*, likewise */
    CLI_STR,     /* const char**: any text, "" only with CLI_EMPTY_OK */
} cli_opt_type;

enum { CLI_LO_OPEN = 1, CLI_EMPTY_OK = 2 };

/* One row per option: every command validates and documents its options
 * from the same kind of table. */
typedef struct {
    const char *names;     /* spellings, comma-separated: "-n,--n-predict" */
    cli_opt_type type;
    void *dst;
    double lo, hi;         /* accepted range of a number */
    const char *meta;      /* the value's name in the usage: N, T, FILE */
    const char *help;      /* one line */
    int flags;
} cli_opt;

typedef struct {
    const char *name;       /* "run" */
    const char *synopsis;   /* after "usage: wgpt run " */
    const char *about;      /* lines printed after the usage line */
    const cli_opt *opts;    /* ended by a row with names == NULL */
    cli_model_opts *model;  /* non-NULL: the model, context and device options too */
    int model_only;         /* with model: only -m (commands that do not touch the GPU) */
    const char **args;      /* positional arguments, or NULL: none accepted */
    int max_args, *n_args;
} cli_command;

/* Parses argv[1..argc) against the command's table (and the shared model
 * options). Returns 0 to go on, -1 after printing --help (exit 0), or
 * CLI_EXIT_USAGE after printing one line that names the option and what it
 * accepts. "--opt=value" and "--opt value" are both accepted. */
int cli_parse(const cli_command *cmd, int argc, char **argv);

void cli_opts_init(cli_model_opts *o);
/* The model file: -m, else $WGPT_MODEL, else models/default.gguf beside
 * the build (resolved to a real path). Sets o->model_from. */
const char *cli_model_path(cli_model_opts *o);
/* Loads the model, with a progress bar when stderr is a terminal and, with
 * -v, the library's diagnostics; on failure prints one line and returns NULL. */
wgpt_model *cli_load_model(cli_model_opts *o);

/* Monotonic clock in seconds. */
double cli_now(void);
/* The whole of a stream in a malloc'd, NUL-terminated buffer; NULL with a
 * reason in err when it cannot be read. */
char *cli_read_stream(FILE *f, size_t *len, char *err, size_t errlen);

/* "wgpt: " + message + newline on stderr; returns 1 (the exit code). */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* 0 if everything written to stdout so far reached it, else prints
 * "wgpt: CMD: cannot write the output: REASON" and returns 1. */
int cli_check_stdout(const char *cmd);

/* A JSON string literal of s (escaped) on f. */
void cli_json_str(FILE *f, const char *s);
/* Prints s padded with spaces to `width` terminal columns (UTF-8 aware:
 * "±" and "µ" are one column each); right-aligned when right != 0. */
void cli_pad(FILE *f, const char *s, int width, int right);

/* Shared by run and chat: the sampling options' rows (returns how many it
 * wrote into t), a token's whole text into a growing buffer (its length, or
 * -1), and the advice when tokens do not fit the context. */
int cli_sampling_table(wgpt_sampling *s, cli_opt *t);
int cli_token_piece(const wgpt_model *m, int32_t tok, char **buf, size_t *cap);
void cli_context_hint(char *out, size_t cap, const wgpt_model *m, const wgpt_context *c);

#endif
