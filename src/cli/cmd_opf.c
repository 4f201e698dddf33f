/* plurigrid opf: single-period DC optimal power flow of a case (MATPOWER or plurigrid JSON), with
 * quadratic costs solved exactly; prints the library's report (objective, generator outputs, bus
 * angles and prices and binding branch limits, the way MATPOWER's printpf does) and, on request,
 * its JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "plurigrid/dispatch.h"
#include "plurigrid/io.h"

static void
usage(FILE *f)
{
    fprintf(
        f, "Usage: plurigrid opf CASE --dc [options]\n"
           "\n"
           "Solves the DC optimal power flow of CASE (a MATPOWER .m case or a plurigrid .json\n"
           "world) as MATPOWER's rundcopf does: lossless B-theta network with taps, phase\n"
           "shifters and shunt conductance, branch rateA limits, angle-difference limits, every\n"
           "in-service generator committed, quadratic costs solved exactly. Prints the objective,\n"
           "generator outputs, bus angles and locational marginal prices (LMPs), and the branch\n"
           "limits that bind.\n"
           "\n"
           "Options:\n"
           "  --dc            the DC model (required: the AC OPF is not available)\n"
           "  --json FILE|-   write the result as JSON (format plurigrid-dcopf/1) to FILE, or\n"
           "                  to standard output for '-' (the report is then not printed)\n"
           "  --format FMT    read CASE as FMT (json or matpower) whatever its extension\n"
           "  --step K        step K of the world's time series (default 0)\n"
           "  --voll X        value of lost load, $/MWh, if the case cannot be balanced\n"
           "                  (default 10000)\n"
           "  --verbose       print the solver's log and notes about the input\n"
           "  -h, --help      show this help\n"
           "\n"
           "Files are replaced whole: a failed write leaves the old file (docs/cli.md).\n"
           "\n"
           "Exit status: 0 solved, 1 solved but some load could not be served, 2 bad input or\n"
           "usage or an output that could not be written, 3 internal failure.\n");
}

/* Prints the result with make and writes it to path ("-": standard output). Returns an exit
 * code. */
static int
emit(const char *path, int (*make)(const pg_world *, const pg_dcopf_result *, char **, pg_error *),
     const pg_world *w, const pg_dcopf_result *r)
{
    pg_error err = {0};
    char *text = NULL;
    if (make(w, r, &text, &err) != PG_OK)
        return pg_cli_report("opf", &err);
    int code = pg_cli_write("opf", path, text, strlen(text));
    free(text);
    return code;
}

int
pg_cmd_opf(int argc, char **argv)
{
    const char *path = NULL, *format = NULL, *json_path = NULL;
    bool dc = false, verbose = false;
    pg_dispatch_options o;
    pg_dispatch_options_init(&o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (pg_cli_is_help(a)) {
            usage(stdout);
            return PG_EXIT_OK;
        } else if (strcmp(a, "--dc") == 0) {
            dc = true;
        } else if (strcmp(a, "--json") == 0) {
            if (!has)
                return pg_cli_missing_value("opf", a, PG_CLI_OUTPUT_VALUE);
            json_path = argv[++i];
        } else if (strcmp(a, "--verbose") == 0) {
            verbose = true;
        } else if (strcmp(a, "--format") == 0 && has) {
            format = argv[++i];
        } else if (strcmp(a, "--step") == 0 && has) {
            unsigned long long k = 0;
            if (!pg_cli_parse_count(argv[++i], 1000000000, &k))
                return pg_cli_usage_error("opf", "--step takes a step number >= 0", argv[i]);
            o.start_step = (size_t)k;
        } else if (strcmp(a, "--voll") == 0 && has) {
            if (!pg_cli_parse_double(argv[++i], &o.voll) || !(o.voll > 0))
                return pg_cli_usage_error("opf", "--voll takes a positive number of $/MWh",
                                          argv[i]);
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr,
                    "plurigrid opf: unknown option '%s' (or it lacks its value); try "
                    "'plurigrid opf --help'\n",
                    a);
            return PG_EXIT_USAGE;
        } else if (!path) {
            path = a;
        } else {
            fprintf(stderr, "plurigrid opf: one case only ('%s' is extra)\n", a);
            return PG_EXIT_USAGE;
        }
    }
    if (!path) {
        usage(stderr);
        return PG_EXIT_USAGE;
    }
    if (!dc) {
        fprintf(stderr, "plurigrid opf: only the DC OPF is available; pass --dc\n");
        return PG_EXIT_USAGE;
    }
    if (pg_cli_same_file(json_path, path))
        return pg_cli_usage_error("opf", "--json would replace the case file it reads", path);
    o.solver_log = verbose;
    pg_error err = {0};
    pg_world *w = NULL;
    pg_notes notes = {0};
    pg_dcopf_result *r = NULL;
    int code = PG_EXIT_OK;
    if (pg_world_read(path, format, &w, &notes, &err) != PG_OK) {
        code = pg_cli_report("opf", &err);
        goto out;
    }
    if (verbose)
        for (size_t i = 0; i < notes.n; i++)
            fprintf(stderr, "plurigrid opf: note: %s\n", notes.items[i]);
    if (pg_dcopf_solve(w, &o, &r, &err) != PG_OK) {
        if (!err.file[0])
            pg_error_at(&err, path, 0, 0, NULL);
        code = pg_cli_report("opf", &err);
        goto out;
    }
    /* Standard output carries one thing: the report, or the JSON (docs/cli.md). */
    if (!(json_path && strcmp(json_path, "-") == 0) &&
        (code = emit("-", pg_dcopf_result_text, w, r)))
        goto out;
    if (json_path && (code = emit(json_path, pg_dcopf_result_json, w, r)))
        goto out;
    if (r->unserved_mw > 1e-6)
        code = PG_EXIT_FAIL;
out:
    pg_dcopf_result_free(r);
    pg_notes_clear(&notes);
    pg_world_free(w);
    return code;
}
