/* Each wgpt subcommand lives in its own cmd_<name>.c. They print results on
 * stdout only, everything else on stderr, and return the process exit code. */
#ifndef WGPT_CLI_COMMANDS_H
#define WGPT_CLI_COMMANDS_H

int cmd_run(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_logits(int argc, char **argv);
int cmd_devices(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_serve_web(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_parallel(int argc, char **argv);
int cmd_template(int argc, char **argv);
/* --chat-template-file of template and chat: a Jinja file, or a
 * tokenizer_config.json (its chat_template, and bos/eos tokens when it has
 * them, else NULL). 0, or 1 after saying why. All malloc'd. */
int cli_chat_template_file(const char *path, char **tpl, char **bos, char **eos);

#endif
