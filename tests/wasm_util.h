/* Helpers of the tests that run strategy modules (the test_wasm_ files of integration and e2e):
 * the example strategies built by make (cmake/strategies.cmake), hand-written modules in the
 * WebAssembly text format turned into modules by wabt's wat2wasm, and shared objects built of
 * them. Header-only, so each test stays one executable. */
#ifndef PG_TEST_WASM_UTIL_H
#define PG_TEST_WASM_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "plurigrid/wasm.h"

/* The example strategies must have been built (clang for wasm32-wasi at configure time): a test
 * that needs them fails, naming what is missing, rather than skip. */
static inline void
pgt_need_strategies(void)
{
#if !PG_WASM_STRATEGIES
    fail_msg("the example strategies were not built for wasm32-wasi: %s", PG_WASM_STRATEGIES_WHY);
#endif
}

/* The built example strategy NAME (".so" or ".wasm" by ext), in a static buffer per slot. */
static inline const char *
pgt_strategy(const char *name, const char *ext)
{
    static char buf[4][1024];
    static int slot;
    char *b = buf[slot++ % 4];
    snprintf(b, sizeof buf[0], "%s/%s%s", PG_WASM_STRATEGIES_DIR, name, ext);
    if (access(b, R_OK) != 0)
        fail_msg("%s is missing: the build makes it (target pg_strategies)", b);
    return b;
}

/* Runs argv (argv[0] found on PATH) and returns its exit status, or -1 when it could not run or
 * died. */
static inline int
pgt_run_tool(char *const *argv)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        execvp(argv[0], argv);
        _exit(127);
    }
    int st = 0;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

/* Writes the text-format module wat to the temporary folder as NAME.wat and makes NAME.wasm of it
 * with wat2wasm (Debian: wabt); returns the .wasm path (malloc'd). */
static inline char *
pgt_wat(const char *name, const char *wat)
{
    char watp[1024], *wasm = malloc(1024);
    assert_non_null(wasm);
    snprintf(watp, sizeof watp, "%s/%s.wat", pgt_tmpdir(), name);
    snprintf(wasm, 1024, "%s/%s.wasm", pgt_tmpdir(), name);
    pgt_write(watp, wat);
    char *argv[] = {"wat2wasm", watp, "-o", wasm, NULL};
    int rc = pgt_run_tool(argv);
    if (rc != 0)
        fail_msg("wat2wasm %s failed (status %d; Debian: wabt)", watp, rc);
    return wasm;
}

/* Builds the module at wasm into NAME.so in the temporary folder with pg_wasm_build; returns
 * the path (malloc'd). */
static inline char *
pgt_build_so(const char *name, const char *wasm)
{
    char *so = malloc(1024);
    assert_non_null(so);
    snprintf(so, 1024, "%s/%s.so", pgt_tmpdir(), name);
    pg_error err = {0};
    int rc = pg_wasm_build(wasm, so, NULL, &err);
    if (rc != PG_OK)
        fail_msg("pg_wasm_build %s: %s", wasm, err.msg);
    return so;
}

#endif
