/* cmd_bench.c - rocmforge bench. */
#include <stdio.h>

#include "commands.h"

int rf_cmd_bench(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "rocmforge bench: not available yet\n");
    return 1;
}
