/* Entry point of the plurigrid command: finds the subcommand and hands it the arguments, then
 * makes sure that what it printed reached standard output. A subcommand with dependencies of its
 * own (kanban: libcurl, cmark) lives in a module beside the library and is loaded only when it
 * runs, so every other subcommand starts without loading them. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "plurigrid/core.h"

static const pg_command commands[] = {
    {"version", "print the version of plurigrid", pg_cmd_version, NULL},
    {"run", "the main job: day-ahead unit commitment, dispatch, prices, AC check", pg_cmd_run,
     NULL},
    {"pf", "power flow of a world or MATPOWER case (AC Newton-Raphson or DC)", pg_cmd_pf, NULL},
    {"opf", "DC optimal power flow of a case (exact quadratic costs, LMPs)", pg_cmd_opf, NULL},
    {"kanban", "turn a markdown roadmap into GitHub issues (payloads, or --post)", NULL, "kanban"},
    {"game", "run a scenario many times and report its resilience (or analyse a game)", pg_cmd_game,
     NULL},
    {"convert", "convert a world between plurigrid JSON and MATPOWER case files", pg_cmd_convert,
     NULL},
    {"community", "play a community of nodes with a peer market and without (its baseline)",
     pg_cmd_community, NULL},
    {"node", "the node daemon: one member of a community trading with its peers over NATS",
     pg_cmd_node, NULL},
    {"ledger", "a community's shared ledger: keys, a new ledger folder, show, export, verify",
     pg_cmd_ledger, NULL},
    {"worlds", "generate realistic microworlds from recipes; list, show and reproduce them",
     pg_cmd_worlds, NULL},
    {"study", "many worlds at once: power flows, schedules or N-1, on threads or NATS workers",
     pg_cmd_study, NULL},
    {"worker", "run the jobs of studies on NATS (a study worker; start as many as you like)",
     pg_cmd_worker, NULL},
    {"serve", "the grid designer, dashboard and JSON API over HTTP (a browser's plurigrid)", NULL,
     "http"},
    {"wasm", "check and build WebAssembly strategy modules a node runs in its sandbox", pg_cmd_wasm,
     NULL},
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
               "Output: --json FILE|- writes a command's result as JSON to FILE, or to standard\n"
               "output for '-'. Files are replaced whole: a failed write leaves the old file.\n"
               "\n"
               "Exit status: 0 success, 1 negative result (e.g. did not converge),\n"
               "2 bad input or usage, 3 internal failure.\n");
}

/* Runs a subcommand that lives in lib/plurigrid/<module>.so beside libplurigrid. */
static int
run_module(const pg_command *c, int argc, char **argv)
{
    void *h = pg_cli_module_open(c->name, c->module);
    if (!h)
        return PG_EXIT_INTERNAL;
    char sym[64];
    snprintf(sym, sizeof sym, "pg_cmd_%s", c->name);
    int (*fn)(int, char **);
    void *p = dlsym(h, sym);
    if (!p) {
        fprintf(stderr, "plurigrid %s: the module %s does not hold the command (%s)\n", c->name,
                c->module, sym);
        return PG_EXIT_INTERNAL;
    }
    memcpy(&fn, &p, sizeof fn);
    return fn(argc, argv);
}

static int
run(const pg_command *c, int argc, char **argv)
{
    return c->run ? c->run(argc, argv) : run_module(c, argc, argv);
}

static const pg_command *
find(const char *name)
{
    for (size_t i = 0; i < n_commands; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* Standard output is checked once, here, for every subcommand: a full disk, /dev/full or a
 * closed terminal must not pass for success. */
static int
close_stdout(const char *cmd, int rc)
{
    int bad = ferror(stdout);
    errno = 0;
    if (fclose(stdout) != 0 || bad) {
        /* The reason is known when the last flush failed; an earlier failed write leaves only
         * the stream's error flag. */
        int e = errno;
        fprintf(stderr, "plurigrid%s%s: cannot write to standard output: %s\n", cmd ? " " : "",
                cmd ? cmd : "", e ? strerror(e) : "a write failed (is the disk full?)");
        return rc == PG_EXIT_OK || rc == PG_EXIT_FAIL ? PG_EXIT_USAGE : rc;
    }
    return rc;
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
            const pg_command *c = find(argv[2]);
            if (!c) {
                fprintf(stderr,
                        "plurigrid help: unknown command '%s'. Run 'plurigrid --help' for the "
                        "list.\n",
                        argv[2]);
                return PG_EXIT_USAGE;
            }
            char *hargv[] = {argv[2], "--help", NULL};
            return close_stdout(c->name, run(c, 2, hargv));
        }
        usage(stdout);
        return close_stdout(NULL, PG_EXIT_OK);
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("plurigrid %s\n", pg_version());
        return close_stdout(NULL, PG_EXIT_OK);
    }
    const pg_command *c = find(argv[1]);
    if (!c) {
        fprintf(stderr, "plurigrid: unknown command '%s'. Run 'plurigrid --help' for the list.\n",
                argv[1]);
        return PG_EXIT_USAGE;
    }
    return close_stdout(c->name, run(c, argc - 1, argv + 1));
}
