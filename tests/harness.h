/* Test harness shared by every test executable: cmocka, a double-precision assert_near, where the
 * reference data and the built command are, and a helper that runs the command and captures its
 * output. */
#ifndef PG_TEST_HARNESS_H
#define PG_TEST_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fails the test when |a - b| > tol (or either is NaN), printing both values and the expression. */
#define assert_near(a, b, tol) pgt_assert_near((a), (b), (tol), #a, #b, __FILE__, __LINE__)
void pgt_assert_near(double a, double b, double tol, const char *ea, const char *eb,
                     const char *file, int line);

/* The reference data folder (../shared/data beside the checkout, or $PG_DATA_DIR). */
const char *pgt_data_dir(void);
/* Path of a file under the data folder; fails the test with a clear message when it is missing
 * (tests that need reference data never skip silently). Returns a static buffer per call slot. */
const char *pgt_data_path(const char *rel);
/* Path under the source tree (examples/, tests/data/). */
const char *pgt_source_path(const char *rel);

/* A fresh temporary directory for this test (removed by pgt_tmpdir_cleanup). */
const char *pgt_tmpdir(void);
void pgt_tmpdir_cleanup(void);
/* A path in the temporary directory (eight slots, used in turn). */
const char *pgt_tmp(const char *name);
/* A cmocka teardown that removes the temporary directory. */
int pgt_teardown_tmpdir(void **state);
/* Writes a copy of the file src into the temporary directory as name, with the first occurrence
 * of from replaced by to (failing the test when from is not there); returns its path (a pgt_tmp
 * slot). */
const char *pgt_variant(const char *src, const char *name, const char *from, const char *to);

/* Runs the built plurigrid command with the given arguments (NULL-terminated), optional stdin
 * text. Captures stdout and stderr (caller frees). Returns the exit status, or -1 when it was
 * killed by a signal (a crash: the test should fail). */
int pgt_run_cli(const char *const *args, const char *stdin_text, char **out, char **err);
/* Like pgt_run_cli, and standard input comes from the file stdin_path (when not NULL: /dev/zero,
 * a FIFO, ...), standard output goes to the file stdout_path (when not NULL: /dev/full, ...; *out
 * is then empty). A run that takes more than 300 s is killed and fails the test. */
int pgt_run_cli_io(const char *const *args, const char *stdin_text, const char *stdin_path,
                   const char *stdout_path, char **out, char **err);

/* Runs the command (standard input from stdin_path when not NULL) and fails the test unless it
 * exits with code and every needle (a NULL-terminated list, or NULL) is in its standard error. */
void pgt_expect_cli(const char *const *args, const char *stdin_path, int code,
                    const char *const *needles);
/* The same with the needles written in place: PGT_EXPECT_CLI(args, 2, "no buses", "file"). */
#define PGT_EXPECT_CLI(args, code, ...)                                                            \
    do {                                                                                           \
        const char *const pgt_needles_[] = {__VA_ARGS__, NULL};                                    \
        pgt_expect_cli(args, NULL, code, pgt_needles_);                                            \
    } while (0)

/* A full disk: returns a folder (under pgt_tmpdir) where writing more than bytes in all fails,
 * for this process and the commands it runs. It is a small tmpfs mounted in a mount namespace
 * of the test's own (ENOSPC, as a full disk) where that is permitted, and otherwise a file-size
 * limit (EFBIG). pgt_full_disk_end() undoes it; call it before pgt_tmpdir_cleanup(). */
const char *pgt_full_disk_begin(size_t bytes);
void pgt_full_disk_end(void);

/* Allocation failure injection (malloc, calloc and realloc called from the library's objects and
 * the test's code): pgt_alloc_fail_after(n) makes the n-th allocation from now (0 = the next one)
 * return NULL, once; -1 turns it off. pgt_alloc_count() is the number of allocations since the
 * last call to pgt_alloc_fail_after, so a test can count a call's allocations with
 * pgt_alloc_fail_after(LONG_MAX) and then fail each of them in turn. */
void pgt_alloc_fail_after(long n);
long pgt_alloc_count(void);

/* Reads a CSV file of numbers with a header row. Returns rows, writes columns to *ncols and a
 * malloc'd row-major array to *values (non-numeric cells become NAN). Fails the test on error. */
size_t pgt_read_csv(const char *path, size_t *ncols, double **values, char ***header);
void pgt_free_header(char **header, size_t ncols);
/* Column index by header name; fails the test when absent. */
size_t pgt_csv_col(char **header, size_t ncols, const char *name);

/* Reads a whole file; fails the test on error. */
char *pgt_slurp(const char *path, size_t *len);
/* Writes text to a file; fails the test on error. */
void pgt_write(const char *path, const char *text);

#endif
