/* Number parsing for the scheduling commands (run, opf): whole strings only, finite values. */
#ifndef PG_CLI_DISPATCH_ARGS_H
#define PG_CLI_DISPATCH_ARGS_H

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

static inline bool
pgc_parse_double(const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (!s[0] || *end || errno || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static inline bool
pgc_parse_size(const char *s, size_t *out)
{
    char *end = NULL;
    errno = 0;
    if (!s[0] || s[0] == '-')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno || v > (unsigned long long)1e9)
        return false;
    *out = (size_t)v;
    return true;
}

static inline int
pgc_usage_error(const char *cmd, const char *what, const char *got)
{
    fprintf(stderr, "plurigrid %s: %s (got '%s')\n", cmd, what, got);
    return PG_EXIT_USAGE;
}

#endif
