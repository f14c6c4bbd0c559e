/* rocmforge.c - the command: dispatches to one subcommand per file. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "rocmforge.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"run", rf_cmd_run, "generate text from a prompt"},
    {"chat", rf_cmd_chat, "interactive chat using the model's template"},
    {"bench", rf_cmd_bench, "prompt-processing and generation speed (llama-bench style)"},
    {"inspect", rf_cmd_inspect, "describe a GGUF file"},
    {"tokenize", rf_cmd_tokenize, "print the token ids of a text"},
    {"quantize", rf_cmd_quantize, "convert a GGUF file to another tensor type"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: rocmforge COMMAND [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n'rocmforge COMMAND --help' describes a command's options.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) { usage(stderr); return 2; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) { usage(stdout); return 0; }
    if (!strcmp(argv[1], "--version")) { printf("rocmforge %s\n", rf_version()); return 0; }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "rocmforge: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
