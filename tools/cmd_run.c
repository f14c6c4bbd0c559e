/* cmd_run.c - rocmforge run. */
#include <stdio.h>

#include "commands.h"

int rf_cmd_run(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "rocmforge run: not available yet\n");
    return 1;
}
