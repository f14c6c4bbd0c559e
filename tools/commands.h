/* commands.h - the subcommands of the rocmforge command, one file each. */
#ifndef RF_COMMANDS_H
#define RF_COMMANDS_H

/* Each receives argv starting at the subcommand name; returns the exit status. */
int rf_cmd_run(int argc, char **argv);
int rf_cmd_chat(int argc, char **argv);
int rf_cmd_bench(int argc, char **argv);
int rf_cmd_inspect(int argc, char **argv);
int rf_cmd_tokenize(int argc, char **argv);
int rf_cmd_quantize(int argc, char **argv);

#endif
