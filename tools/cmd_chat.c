/* cmd_chat.c - rocmforge chat. */
#include <stdio.h>

#include "commands.h"

int rf_cmd_chat(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "rocmforge chat: not available yet\n");
    return 1;
}
