/* Entry point of the plurigrid command: finds the subcommand and hands it the arguments. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "plurigrid/core.h"

static const pg_command commands[] = {
    {"version", "print the version of plurigrid", pg_cmd_version},
    {"run", "the main job: day-ahead unit commitment, dispatch, prices, AC check", pg_cmd_run},
    {"pf", "power flow of a world or MATPOWER case (AC Newton-Raphson or DC)", pg_cmd_pf},
    {"opf", "DC optimal power flow of a case (exact quadratic costs, LMPs)", pg_cmd_opf},
    {"kanban", "turn a markdown roadmap into GitHub issues (payloads, or --post)", pg_cmd_kanban},
    {"game", "run a scenario many times and report its resilience (or analyse a game)",
     pg_cmd_game},
    {"convert", "convert a world between plurigrid JSON and MATPOWER case files", pg_cmd_convert},
};
static const size_t n_commands = sizeof commands / sizeof *commands;

static void
usage(FILE *f)
{
    fprintf(f,
            "plurigrid %s: decentralized energy coordination toolkit\n"
            "\n"
            "Usage: plurigrid <command> [options] [arguments]\n"
            "       plurigrid <command> --help\n"
            "\n"
            "Commands:\n",
            pg_version());
    for (size_t i = 0; i < n_commands; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n"
               "Options:\n"
               "  -h, --help     show this help\n"
               "  --version      print the version\n"
               "\n"
               "Exit status: 0 success, 1 negative result (e.g. did not converge),\n"
               "2 bad input or usage, 3 internal failure.\n");
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return PG_EXIT_USAGE;
    }
    if (pg_cli_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
        if (argc > 2 && strcmp(argv[1], "help") == 0) {
            for (size_t i = 0; i < n_commands; i++)
                if (strcmp(commands[i].name, argv[2]) == 0) {
                    char *hargv[] = {argv[2], "--help", NULL};
                    return commands[i].run(2, hargv);
                }
        }
        usage(stdout);
        return PG_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("plurigrid %s\n", pg_version());
        return PG_EXIT_OK;
    }
    for (size_t i = 0; i < n_commands; i++)
        if (strcmp(commands[i].name, argv[1]) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "plurigrid: unknown command '%s'. Run 'plurigrid --help' for the list.\n",
            argv[1]);
    return PG_EXIT_USAGE;
}
