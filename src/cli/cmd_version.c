/* plurigrid version: the library's version, as text or (--json FILE|-) as JSON. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int
pg_cmd_version(int argc, char **argv)
{
    const char *json_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (pg_cli_is_help(argv[i])) {
            printf("Usage: plurigrid version [--json FILE|-]\n"
                   "\n"
                   "Prints the version of plurigrid. --json writes it as JSON,\n"
                   "{\"plurigrid\": \"MAJOR.MINOR.PATCH\"}, to FILE, or to standard output for "
                   "'-'.\n");
            return PG_EXIT_OK;
        } else if (strcmp(argv[i], "--json") == 0) {
            if (i + 1 >= argc)
                return pg_cli_missing_value("version", argv[i], PG_CLI_OUTPUT_VALUE);
            json_path = argv[++i];
        } else {
            fprintf(stderr, "plurigrid version: unknown option '%s'\n", argv[i]);
            return PG_EXIT_USAGE;
        }
    }
    if (!json_path) {
        printf("plurigrid %s\n", pg_version());
        return PG_EXIT_OK;
    }
    /* The version is MAJOR.MINOR.PATCH: digits and dots, nothing to escape. */
    char text[128];
    int n = snprintf(text, sizeof text, "{\"plurigrid\": \"%s\"}\n", pg_version());
    return pg_cli_write("version", json_path, text, (size_t)n);
}
