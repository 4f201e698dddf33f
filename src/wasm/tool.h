/* The wabt tools and the C compiler as child processes, and a private temporary folder for their
 * files. A tool is started with posix_spawnp from an argument array (never through a shell), in
 * a process group of its own so that a compiler's own children stop with it, with standard input
 * from /dev/null and standard output and error captured (bounded); it runs against a deadline
 * past which the group is killed, and its exit status is checked. */
#ifndef PG_WASM_TOOL_H
#define PG_WASM_TOOL_H

#include <stddef.h>

#include "plurigrid/core.h"

/* Default time limit of one tool run, seconds. */
#define PGI_WASM_TOOL_TIMEOUT_S 300.0

/* Runs argv[0] (looked up on PATH) with argv (NULL-terminated), at most timeout_s seconds.
 * package is the Debian package that provides the tool, named when it is missing. Returns PG_OK
 * when it exits with status 0. Otherwise: PG_ENOTFOUND (not installed), PG_ELIMIT (killed at
 * its deadline), PG_EIO (a non-zero exit or a signal), with err naming the tool, what happened
 * and the start of what it wrote. *output (may be NULL) receives what it wrote to standard output
 * and error (at most 64 KiB, malloc'd, caller frees), on success and on failure alike. */
int pgi_wasm_tool_run(const char *const *argv, const char *package, double timeout_s, char **output,
                      pg_error *err);

/* Makes a private temporary folder (mode 0700) in $TMPDIR or /tmp; *dir is malloc'd. */
int pgi_wasm_tmpdir_make(char **dir, pg_error *err);

/* Removes a folder made by pgi_wasm_tmpdir_make and the files in it (it holds no folders).
 * Accepts NULL. */
void pgi_wasm_tmpdir_remove(const char *dir);

/* dir/name, malloc'd; NULL when out of memory. */
char *pgi_wasm_tmpdir_file(const char *dir, const char *name);

#endif
