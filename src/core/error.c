/* Status codes and the pg_error object: how every module reports what went wrong and where. */
#include "plurigrid/core.h"

#include <stdio.h>
#include <string.h>

#ifndef PG_VERSION_STRING
#define PG_VERSION_STRING "0.0.0"
#endif

const char *
pg_strerror(int code)
{
    switch (code) {
    case PG_OK: return "success";
    case PG_EINVAL: return "invalid argument";
    case PG_ENOMEM: return "out of memory";
    case PG_EIO: return "input/output error";
    case PG_EPARSE: return "malformed input";
    case PG_EMODEL: return "invalid model";
    case PG_ESOLVER: return "solver failure";
    case PG_ENOTFOUND: return "not found";
    case PG_EUNSUPPORTED: return "not supported";
    case PG_ENET: return "network error";
    case PG_EAUTH: return "authentication failed";
    case PG_ESTATE: return "invalid state";
    case PG_ELIMIT: return "limit exceeded";
    case PG_ECANCELED: return "stopped on request";
    default: return "unknown error";
    }
}

void
pg_error_clear(pg_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

int
pg_error_vset(pg_error *err, int code, const char *fmt, va_list ap)
{
    if (!err)
        return code;
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    return code;
}

int
pg_error_set(pg_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pg_error_vset(err, code, fmt, ap);
    va_end(ap);
    return code;
}

void
pg_error_at(pg_error *err, const char *file, int line, int column, const char *path)
{
    if (!err)
        return;
    if (file)
        snprintf(err->file, sizeof err->file, "%s", file);
    err->line = line;
    err->column = column;
    if (path)
        snprintf(err->path, sizeof err->path, "%s", path);
}

char *
pg_error_format(const pg_error *err, char *buf, size_t size)
{
    if (!buf || size == 0)
        return buf;
    buf[0] = '\0';
    if (!err)
        return buf;
    size_t n = 0;
#define APPEND(...)                                                                                \
    do {                                                                                           \
        if (n < size) {                                                                            \
            int w = snprintf(buf + n, size - n, __VA_ARGS__);                                      \
            if (w > 0)                                                                             \
                n += (size_t)w;                                                                    \
        }                                                                                          \
    } while (0)
    if (err->file[0]) {
        APPEND("%s", err->file);
        if (err->line > 0)
            APPEND(":%d", err->line);
        if (err->line > 0 && err->column > 0)
            APPEND(":%d", err->column);
        APPEND(": ");
    }
    if (err->path[0])
        APPEND("%s: ", err->path);
    APPEND("%s", err->msg[0] ? err->msg : pg_strerror(err->code));
#undef APPEND
    return buf;
}

const char *
pg_version(void)
{
    return PG_VERSION_STRING;
}
