/* What the subcommands share: model options and loading, error printing. */
#ifndef WGPT_CLI_H
#define WGPT_CLI_H

#include "wgpt.h"

typedef struct {
    const char *model_path;
    wgpt_model_params mp;
    wgpt_context_params cp;
} cli_model_opts;

void cli_opts_init(cli_model_opts *o);
/* Consumes a shared option at argv[*i] (advancing *i past its value).
 * Returns 1 if consumed, 0 if not ours, -1 on a bad value (message printed). */
int cli_common_option(cli_model_opts *o, int argc, char **argv, int *i);
/* The model file: -m, else $WGPT_MODEL, else models/default.gguf beside the build. */
const char *cli_model_path(const cli_model_opts *o);
wgpt_model *cli_load_model(cli_model_opts *o);
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern const char *cli_common_help;

#endif
