/* cmd_tokenize.c - rocmforge tokenize. */
#include <stdio.h>

#include "commands.h"

int rf_cmd_tokenize(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "rocmforge tokenize: not available yet\n");
    return 1;
}
