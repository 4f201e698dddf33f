/* Helpers every subcommand shares: error reporting and exit codes. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int
pg_cli_exit_code(int status)
{
    switch (status) {
    case PG_OK: return PG_EXIT_OK;
    case PG_EINVAL:
    case PG_EIO:
    case PG_EPARSE:
    case PG_EMODEL:
    case PG_ENOTFOUND:
    case PG_EUNSUPPORTED:
    case PG_ELIMIT: return PG_EXIT_USAGE;
    default: return PG_EXIT_INTERNAL;
    }
}

int
pg_cli_report(const char *cmd, const pg_error *err)
{
    char buf[1400];
    pg_error_format(err, buf, sizeof buf);
    fprintf(stderr, "plurigrid %s: %s\n", cmd, buf);
    return pg_cli_exit_code(err ? err->code : PG_EINVAL);
}

bool
pg_cli_is_help(const char *arg)
{
    return arg && (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0);
}
