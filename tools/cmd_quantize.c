/* cmd_quantize.c - rocmforge quantize. */
#include <stdio.h>

#include "commands.h"

int rf_cmd_quantize(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "rocmforge quantize: not available yet\n");
    return 1;
}
