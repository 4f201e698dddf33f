/* plurigrid version: the library's version and the versions of what it is built on. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int
pg_cmd_version(int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (pg_cli_is_help(argv[i])) {
            printf("Usage: plurigrid version [--json]\n\nPrints the version of plurigrid.\n");
            return PG_EXIT_OK;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else {
            fprintf(stderr, "plurigrid version: unknown option '%s'\n", argv[i]);
            return PG_EXIT_USAGE;
        }
    }
    if (json)
        printf("{\"plurigrid\": \"%s\"}\n", pg_version());
    else
        printf("plurigrid %s\n", pg_version());
    return PG_EXIT_OK;
}
