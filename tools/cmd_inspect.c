/* cmd_inspect.c - rocmforge inspect. */
#include <stdio.h>

#include "commands.h"

int rf_cmd_inspect(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "rocmforge inspect: not available yet\n");
    return 1;
}
