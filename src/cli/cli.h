/* The plurigrid command: one function per subcommand (src/cli/cmd_<name>.c) and the helpers they
 * share. Exit codes across every subcommand: 0 success, 1 a negative result (did not converge,
 * infeasible, check failed), 2 bad input or usage, 3 an internal or system failure. */
#ifndef PG_CLI_H
#define PG_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "plurigrid/core.h"

enum { PG_EXIT_OK = 0, PG_EXIT_FAIL = 1, PG_EXIT_USAGE = 2, PG_EXIT_INTERNAL = 3 };

typedef struct pg_command {
    const char *name;
    const char *summary;               /* one line for `plurigrid --help` */
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name; NULL: in a module */
    const char *module;                /* the module (lib/plurigrid/NAME.so) that holds the
                                          subcommand, exporting pg_cmd_NAME; NULL: built in */
} pg_command;

/* The entry point a command module exports (visible in a build with hidden visibility). */
#if defined(__GNUC__)
#define PG_CLI_MODULE_EXPORT __attribute__((visibility("default")))
#else
#define PG_CLI_MODULE_EXPORT
/* The bearer token of --token-file (plurigrid serve, plurigrid node --http; docs/http.md,
 * Security): a private file (neither readable nor writable by others), one line of
 * PG_CLI_TOKEN_MIN or more printable characters without spaces. *out (malloc'd, free it with
 * pg_cli_forget) and *len are written on success (PG_EXIT_OK); otherwise the problem is printed
 * as "plurigrid CMD: --token-file ..." and PG_EXIT_USAGE returned. The token itself is never
 * printed. */
#define PG_CLI_TOKEN_MIN 16
#define PG_CLI_TOKEN_FILE_MAX 4096
int pg_cli_read_token(const char *cmd, const char *path, char **out, size_t *len);
/* Overwrites n bytes of secret, then frees it; accepts NULL. */
void pg_cli_forget(char *secret, size_t n);

#endif

/* Subcommands. Add one line here and one entry in main.c's table. */
int pg_cmd_version(int argc, char **argv);
int pg_cmd_run(int argc, char **argv);
int pg_cmd_opf(int argc, char **argv);
PG_CLI_MODULE_EXPORT int pg_cmd_kanban(int argc, char **argv); /* lib/plurigrid/kanban.so */
int pg_cmd_pf(int argc, char **argv);
int pg_cmd_game(int argc, char **argv);
int pg_cmd_convert(int argc, char **argv);
int pg_cmd_community(int argc, char **argv);
int pg_cmd_node(int argc, char **argv);
int pg_cmd_ledger(int argc, char **argv);
int pg_cmd_worlds(int argc, char **argv);
PG_CLI_MODULE_EXPORT int pg_cmd_serve(int argc, char **argv); /* lib/plurigrid/http.so */
int pg_cmd_study(int argc, char **argv);
int pg_cmd_worker(int argc, char **argv);
int pg_cmd_wasm(int argc, char **argv);

/* Writes s to f with control characters escaped ("\x1b", "\r", C1 controls as "\u009b"),
 * newlines kept when keep_newlines: text that comes from input files cannot move the cursor,
 * retitle the terminal or rewrite what was printed before. */
void pg_cli_put_safe(FILE *f, const char *s, bool keep_newlines);

/* Prints "plurigrid <cmd>: <formatted error>" to stderr, control characters escaped, and returns
 * the exit code that fits the error's status (2 for bad input, 3 for internal failures). */
int pg_cli_report(const char *cmd, const pg_error *err);

/* Maps a status code to an exit code: parse/model/not-found/unsupported -> 2, others -> 3. */
int pg_cli_exit_code(int status);

/* True when arg is "-h" or "--help". */
bool pg_cli_is_help(const char *arg);

/* A command made of subcommands ("plurigrid ledger keygen ..."): one row each. */
typedef struct pg_cli_subcommand {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand's name */
    void (*help)(FILE *f);
} pg_cli_subcommand;

/* Runs the subcommand argv[1] of "plurigrid cmd" from its table sub[0..n): "--help" (or "help"
 * alone) prints usage to stdout, "help NAME" that subcommand's help; a missing or unknown
 * subcommand prints an error naming the subcommands (names, e.g. "check and build") and returns
 * the usage exit code. */
int pg_cli_subcommands(const char *cmd, const pg_cli_subcommand *sub, size_t n,
                       void (*usage)(FILE *f), const char *names, int argc, char **argv);

/* Option values. Both accept only a whole string: no trailing characters, no empty string.
 * pg_cli_parse_double: a finite number. pg_cli_parse_count: a whole number from 0 to max (no
 * sign). Each writes *out only on success. */
bool pg_cli_parse_double(const char *s, double *out);
bool pg_cli_parse_count(const char *s, unsigned long long max, unsigned long long *out);

/* The value s of option opt of command cmd as a whole number from lo to hi in *out; otherwise
 * prints "plurigrid CMD: OPT must be a whole number from LO to HI (it is 'S')" (or "needs ..."
 * when s is NULL) and returns -1. */
int pg_cli_count_option(const char *cmd, const char *opt, const char *s, unsigned long long lo,
                        unsigned long long hi, unsigned long long *out);

/* Prints "plurigrid CMD: WHAT (got 'GOT')" to stderr and returns PG_EXIT_USAGE. */
int pg_cli_usage_error(const char *cmd, const char *what, const char *got);

/* Prints "plurigrid CMD: " and the formatted message to stderr, then "Run 'plurigrid CMD --help'
 * for the options.", and returns PG_EXIT_USAGE. */
int pg_cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Output conventions shared by every subcommand (docs/cli.md). --json FILE|- (and --csv,
 * --out) name where a result goes: a file, replaced whole through the library's atomic writer
 * (pg_output_write), or "-" for standard output, which main() checks once when the subcommand
 * returns. */

/* Writes len bytes of text to path ("-": standard output; on a terminal with control characters
 * escaped, pg_cli_put_safe). On failure prints "plurigrid CMD:
 * PATH: why" and returns the exit code (2); PG_EXIT_OK otherwise. */
int pg_cli_write(const char *cmd, const char *path, const char *text, size_t len);

/* For an option that takes a value: prints "plurigrid CMD: OPT needs WHAT" and returns
 * PG_EXIT_USAGE. */
int pg_cli_missing_value(const char *cmd, const char *opt, const char *what);

/* The words for an output option's value, for pg_cli_missing_value and usage lines. */
#define PG_CLI_OUTPUT_VALUE "a file name, or - for standard output"

/* True when a and b name the same file: the same string (other than "-"), or two names of one
 * existing file. Commands refuse to write an output over their input or over another output. */
bool pg_cli_same_file(const char *a, const char *b);

/* Reads f to its end, or until more than max bytes have come (so *len > max tells the caller the
 * input is too long). Returns a malloc'd NUL-terminated buffer, or NULL with errno set when reading
 * fails or memory runs out. */
char *pg_cli_read_stream(FILE *f, size_t max, size_t *len);

/* Creates a folder and any missing parents (mkdir -p). Returns 0, or -1 with errno set. */
int pg_cli_make_dirs(const char *path);

/* Opens the command's module lib/plurigrid/MODULE.so beside libplurigrid (dlopen). On failure
 * prints "plurigrid CMD: cannot load the module MODULE: why" and returns NULL. */
void *pg_cli_module_open(const char *cmd, const char *module);

/* The bearer token of --token-file (plurigrid serve, plurigrid node --http; docs/http.md,
 * Security): a private file (neither readable nor writable by others), one line of
 * PG_CLI_TOKEN_MIN or more printable characters without spaces. *out (malloc'd, free it with
 * pg_cli_forget) and *len are written on success (PG_EXIT_OK); otherwise the problem is printed
 * as "plurigrid CMD: --token-file ..." and PG_EXIT_USAGE returned. The token itself is never
 * printed. */
#define PG_CLI_TOKEN_MIN 16
#define PG_CLI_TOKEN_FILE_MAX 4096
int pg_cli_read_token(const char *cmd, const char *path, char **out, size_t *len);
/* Overwrites n bytes of secret, then frees it; accepts NULL. */
void pg_cli_forget(char *secret, size_t n);

#endif
