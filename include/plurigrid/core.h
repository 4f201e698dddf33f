/* Core definitions every libplurigrid module shares: status codes, the error object that carries
 * a detailed message (with file, line and JSON path for parse errors), and the library version. */
#ifndef PLURIGRID_CORE_H
#define PLURIGRID_CORE_H

#include <stdarg.h>
#include <stddef.h>

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
};

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

/* The library version, "MAJOR.MINOR.PATCH". */
PG_API const char *pg_version(void);

#ifdef __cplusplus
}
#endif
#endif
