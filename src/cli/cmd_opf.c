/* plurigrid opf: single-period DC optimal power flow of a case (MATPOWER or plurigrid JSON), with
 * quadratic costs solved exactly; prints the objective, generator outputs, bus angles and prices
 * and binding branch limits the way MATPOWER's printpf does, or JSON. */
#include <math.h>
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
           "  --json          print the result as JSON (format plurigrid-dcopf/1) instead\n"
           "  --format FMT    read CASE as FMT (json or matpower) whatever its extension\n"
           "  --step K        step K of the world's time series (default 0)\n"
           "  --voll X        value of lost load, $/MWh, if the case cannot be balanced\n"
           "                  (default 10000)\n"
           "  --verbose       print the solver's log and notes about the input\n"
           "  -h, --help      show this help\n"
           "\n"
           "Exit status: 0 solved, 1 solved but some load could not be served, 2 bad input or\n"
           "usage, 3 internal failure.\n");
}

static const char *
bus_label(const pg_world *w, size_t b, char *buf, size_t n)
{
    snprintf(buf, n, "%d", w->buses[b].number);
    return buf;
}

static void
print_text(const pg_world *w, const pg_dcopf_result *r)
{
    const char *rule = "================================================================"
                       "================";
    char a[32], b[32];
    double pg = 0, pd = 0;
    size_t on = 0;
    for (size_t g = 0; g < r->n_thermals; g++) {
        pg += r->pg[g];
        on += w->thermals[g].in_service;
    }
    pd = pg_world_load_mw(w, PG_NONE);
    printf("DC optimal power flow of %s: %zu buses, %zu generators (%zu in service), %zu "
           "branches\n",
           w->name, w->n_buses, w->n_thermals, on, w->n_branches);
    printf("Objective function value: %.2f $/hr (solved in %.1f ms)\n", r->objective,
           r->seconds * 1e3);
    printf("Total generation %.2f MW, load %.2f MW", pg, pd);
    if (r->unserved_mw > 0)
        printf(", NOT SERVED %.2f MW", r->unserved_mw);
    if (r->overgen_mw > 0)
        printf(", spilled %.2f MW", r->overgen_mw);
    printf("\n\n%s\n|     Generator Data%*s|\n%s\n", rule, 59, "", rule);
    printf(" Gen   Bus   Status     Pg (MW)   Lambda ($/MWh)\n");
    printf("-----  -----  ------  ----------  --------------\n");
    for (size_t g = 0; g < r->n_thermals; g++) {
        const pg_thermal *t = &w->thermals[g];
        printf("%5zu  %5s  %6d  %10.2f  %14.2f\n", g + 1, bus_label(w, t->bus, a, sizeof a),
               t->in_service ? 1 : 0, r->pg[g], r->lmp[t->bus]);
    }
    printf("\n%s\n|     Bus Data%*s|\n%s\n", rule, 65, "", rule);
    printf("  Bus    Va (deg)   Load (MW)   Gen (MW)   Lambda P ($/MWh)\n");
    printf("------  ---------  ----------  ---------  ----------------\n");
    double *load = calloc(w->n_buses ? w->n_buses : 1, sizeof *load);
    double *gen = calloc(w->n_buses ? w->n_buses : 1, sizeof *gen);
    if (load && gen) {
        for (size_t i = 0; i < w->n_loads; i++)
            if (w->loads[i].in_service)
                load[w->loads[i].bus] += w->loads[i].p;
        for (size_t g = 0; g < r->n_thermals; g++)
            gen[w->thermals[g].bus] += r->pg[g];
        for (size_t i = 0; i < r->n_buses; i++)
            printf("%6s  %9.3f  %10.2f  %9.2f  %16.3f\n", bus_label(w, i, a, sizeof a), r->va[i],
                   load[i], gen[i], r->lmp[i]);
    }
    free(load);
    free(gen);
    size_t binding = 0;
    for (size_t k = 0; k < r->n_branches; k++)
        binding += r->branch_price[k] != 0;
    printf("\n%s\n|     Branch Flow Constraints%*s|\n%s\n", rule, 50, "", rule);
    if (!binding) {
        printf("No branch limit binds.\n");
        return;
    }
    printf("Brnch   From     To   Flow (MW)  Limit (MW)  mu ($/MWh)\n");
    printf("-----  -----  -----  ----------  ----------  ----------\n");
    for (size_t k = 0; k < r->n_branches; k++) {
        if (r->branch_price[k] == 0)
            continue;
        const pg_branch *br = &w->branches[k];
        printf("%5zu  %5s  %5s  %10.2f  %10.2f  %10.3f\n", k + 1,
               bus_label(w, br->from, a, sizeof a), bus_label(w, br->to, b, sizeof b), r->flow[k],
               br->rate_a, fabs(r->branch_price[k]));
    }
}

int
pg_cmd_opf(int argc, char **argv)
{
    const char *path = NULL, *format = NULL;
    bool dc = false, json = false, verbose = false;
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
            json = true;
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
    if (json) {
        char *text = NULL;
        if (pg_dcopf_result_json(w, r, &text, &err) != PG_OK) {
            code = pg_cli_report("opf", &err);
            goto out;
        }
        fputs(text, stdout);
        free(text);
    } else {
        print_text(w, r);
    }
    if (r->unserved_mw > 1e-6)
        code = PG_EXIT_FAIL;
out:
    pg_dcopf_result_free(r);
    pg_notes_clear(&notes);
    pg_world_free(w);
    return code;
}
