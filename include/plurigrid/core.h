/* Core definitions every libplurigrid module shares: status codes, the error object that carries
 * a detailed message (with file, line and JSON path for parse errors), and the library version. */
#ifndef PLURIGRID_CORE_H
#define PLURIGRID_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* PG_API marks the functions libplurigrid exports. The library is built with hidden visibility
 * (PG_BUILDING_LIBRARY), so these declarations are its whole ABI: nothing else is visible to a
 * program that links it. */
#if defined(PG_BUILDING_LIBRARY) && defined(__GNUC__)
#define PG_API __attribute__((visibility("default")))
#else
#define PG_API
#endif

/* Status codes. Every fallible function returns PG_OK (0) or one of these negative values. */
enum {
    PG_OK = 0,
    PG_EINVAL = -1,       /* a bad argument from the caller (a programming error) */
    PG_ENOMEM = -2,       /* out of memory */
    PG_EIO = -3,          /* a file or stream could not be read or written */
    PG_EPARSE = -4,       /* malformed input: syntax, types, unknown keys, bad numbers */
    PG_EMODEL = -5,       /* well-formed input that describes an invalid model */
    PG_ESOLVER = -6,      /* a numerical solver failed (not: did not converge, which is a result) */
    PG_ENOTFOUND = -7,    /* a named thing does not exist */
    PG_EUNSUPPORTED = -8, /* valid input that this version does not handle */
    PG_ENET = -9,         /* a network peer or transport failed */
    PG_EAUTH = -10,       /* authentication or signature check failed */
    PG_ESTATE = -11,      /* the call is not valid in the object's current state */
    PG_ELIMIT = -12,      /* a size or rate limit was exceeded */
    PG_ECANCELED = -13,   /* stopped on request (a signal) before the work was done */
};

/* How much a long-running part (a node daemon, a ledger on the lattice) logs: a line of level L is
 * passed on when L <= the level asked for. */
typedef enum pg_log_level {
    PG_LOG_ERROR = 0,
    PG_LOG_WARN = 1,
    PG_LOG_INFO = 2,
    PG_LOG_DEBUG = 3,
} pg_log_level;

/* A short fixed description of a status code ("malformed input", ...). Never NULL. */
PG_API const char *pg_strerror(int code);

/* Detailed error report. Callers pass one in (or NULL when they only want the status code);
 * functions fill it only when they fail. Zero-initialise or call pg_error_clear() first. */
typedef struct pg_error {
    int code;       /* status code, PG_OK when no error was recorded */
    char file[256]; /* input file name, "" when not about a file */
    int line;       /* 1-based line in file, 0 when unknown */
    int column;     /* 1-based column, 0 when unknown */
    char path[256]; /* JSON path ("$.buses[2].vmax") or matrix place ("bus row 3, column 8") */
    char msg[768];  /* what went wrong, in words a newcomer understands */
} pg_error;

PG_API void pg_error_clear(pg_error *err);

/* Records code and a printf-style message on err (no-op when err is NULL) and returns code, so
 * callers can write `return pg_error_set(err, PG_EPARSE, "...")`. Does not touch file/line/path. */
PG_API int pg_error_set(pg_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
PG_API int pg_error_vset(pg_error *err, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Sets the place an error refers to. file may be NULL (kept as is), line/column 0 for unknown,
 * path may be NULL (kept as is). */
PG_API void pg_error_at(pg_error *err, const char *file, int line, int column, const char *path);

/* Formats err as one line: "FILE:LINE:COL: PATH: MESSAGE" leaving out the parts that are unknown.
 * Writes at most size bytes including the terminating NUL; returns buf. */
PG_API char *pg_error_format(const pg_error *err, char *buf, size_t size);

/* ------------------------------------------------------------------ reading and writing files
 * Every reader and writer in plurigrid goes through these, so that inputs are bounded and
 * outputs are whole. */

/* Largest input any reader accepts unless told otherwise, bytes (256 MiB). */
#define PG_INPUT_MAX ((size_t)256 << 20)

/* How long pg_input_read waits for a program to open a named FIFO for writing, seconds. */
#define PG_INPUT_FIFO_WAIT_S 30

/* Reads a whole input: the file at path, or standard input when path is "-". Regular files,
 * pipes and FIFOs (`<(cmd)`, `mkfifo`) are read, each once (a named FIFO that no program opens for
 * writing within PG_INPUT_FIFO_WAIT_S seconds is refused); a folder, a device such as
 * /dev/zero, or anything else is refused (PG_EIO) with a message naming it, and an input longer
 * than max bytes (0 means PG_INPUT_MAX) is refused (PG_ELIMIT) after reading at most max + 1
 * bytes. On success *data is a malloc'd, NUL-terminated copy (the caller frees it) and *len its
 * length. Errors name the file ("standard input" for "-"). Borrows path. */
PG_API int pg_input_read(const char *path, size_t max, char **data, size_t *len, pg_error *err);

/* An output written whole or not at all. For a path that is a regular file or does not exist,
 * the text goes to a temporary file in the same folder that is flushed, synced and renamed over
 * path only by pg_output_commit: a failed write (a full disk) leaves the old file as it was. For
 * "-" it is standard output; for an existing file that is not a regular file (/dev/null, a FIFO,
 * a terminal) it is that file, written in place, with every write error reported. */
typedef struct pg_output pg_output;

/* Opens an output; *out is written only on success. Borrows path (copied). */
PG_API int pg_output_open(pg_output **out, const char *path, pg_error *err);
/* The stream to write to (stdout for "-"). Valid until commit or discard. */
PG_API FILE *pg_output_stream(pg_output *o);
/* Finishes the output: checks every write, flushes, syncs and renames into place (standard
 * output is flushed, not closed). Frees o whatever the outcome; on failure the old file is
 * untouched and err names the path and the reason (PG_EIO). */
PG_API int pg_output_commit(pg_output *o, pg_error *err);
/* Abandons the output: removes the temporary file and frees o. Accepts NULL. */
PG_API void pg_output_discard(pg_output *o);
/* Writes len bytes of data to path as one output (open, write, commit). Borrows both. */
PG_API int pg_output_write(const char *path, const void *data, size_t len, pg_error *err);

/* The library version, "MAJOR.MINOR.PATCH". */
PG_API const char *pg_version(void);

#ifdef __cplusplus
}
#endif
#endif
