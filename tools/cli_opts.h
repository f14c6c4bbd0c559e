/* cli_opts.h - options shared by run, chat and bench (llama.cpp's names). */
#ifndef RF_CLI_OPTS_H
#define RF_CLI_OPTS_H

#include <stdbool.h>

#include "rocmforge.h"

#define CLI_MAX_STOP 16

typedef struct cli_opts {
    const char *model;
    const char *prompt;
    const char *prompt_file;
    const char *system;
    char *prompt_owned;         /* prompt read from -f */
    int32_t n_predict;          /* -n */
    int32_t n_prompt_bench;     /* bench: -p as a number */
    int32_t reps;               /* bench: -r */
    bool warmup;
    bool show_stats;
    rf_context_params cp;
    rf_sampling_params sp;
    const char *stop[CLI_MAX_STOP];
    int n_stop;
} cli_opts;

/* Parses argv (starting after the subcommand name) into o, which must hold
 * the command's defaults. `bench` reads -p as a token count. Returns 0, or
 * 2 after printing a message (1 for --help, printed to stdout). */
int cli_parse(int argc, char **argv, cli_opts *o, bool bench, const char *usage);
void cli_opts_free(cli_opts *o);

/* Loads the model with a progress bar on stderr (when it is a terminal). */
rf_model *cli_load_model(const char *path);
/* Reads a whole file into a NUL-terminated heap string (NULL on error). */
char *cli_read_file(const char *path);

#endif
