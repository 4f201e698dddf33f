/* plurigrid pf: the power flow of a world file (MATPOWER case or plurigrid JSON), AC by default,
 * optionally at one step of the world's time series: the library's readable report and, on
 * request, its JSON, each to standard output or to a file written whole. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "plurigrid/io.h"
#include "plurigrid/model.h"
#include "plurigrid/pf.h"

static void
usage(FILE *f)
{
    fprintf(f,
            "Usage: plurigrid pf FILE [options]\n"
            "\n"
            "Solves the power flow of FILE (a MATPOWER case .m or a plurigrid world .json) and\n"
            "prints bus voltages, unit outputs, branch flows and losses. AC Newton-Raphson by\n"
            "default, as MATPOWER's runpf; the reference solution starts from the case's\n"
            "voltages with generator buses at their setpoints.\n"
            "\n"
            "Options:\n"
            "  --dc               DC power flow (B-theta, lossless) instead of AC\n"
            "  --enforce-q-lims   keep thermal units within their reactive limits by switching\n"
            "                     their buses from PV to PQ (as MATPOWER's pf.enforce_q_lims)\n"
            "  --tol X            stop when the largest mismatch is below X p.u. (default 1e-8)\n"
            "  --max-iter N       at most N Newton iterations (default 10)\n"
            "  --step K|peak      solve the world at step K of its time series (0 is the first),\n"
            "                     or at the step of peak total load\n"
            "  --format FMT       read FILE as FMT (json or matpower) whatever its extension\n"
            "  --json FILE|-      write the result as JSON (format plurigrid-pf/1) to FILE, or\n"
            "                     to standard output for '-' (the report then goes only to\n"
            "                     the file --out names)\n"
            "  --out FILE|-       write the report to FILE instead of standard output\n"
            "  -h, --help         show this help\n"
            "\n"
            "Files are replaced whole: a failed write leaves the old file (docs/cli.md).\n"
            "\n"
            "Exit status: 0 solved, 1 did not converge or part of the network could not be\n"
            "solved (an island without a reference bus), 2 bad input or usage or an output\n"
            "that could not be written, 3 internal failure.\n");
}

/* Picks the step (numbered from 0) that --step asks for. Returns an exit code. */
static int
choose_step(const pg_world *w, const char *spec, size_t *step)
{
    size_t n_steps = 0;
    double step_h = 1;
    pg_error err = {0};
    if (pg_world_horizon(w, &n_steps, &step_h, &err))
        return pg_cli_report("pf", &err);
    if (n_steps == 0) {
        fprintf(stderr,
                "plurigrid pf: --step %s: the world has no time series, so there is no "
                "step to choose\n",
                spec);
        return PG_EXIT_USAGE;
    }
    if (strcmp(spec, "peak") == 0) {
        size_t best = 0;
        for (size_t k = 1; k < n_steps; k++)
            if (pg_world_load_mw(w, k) > pg_world_load_mw(w, best))
                best = k;
        *step = best;
        return PG_EXIT_OK;
    }
    unsigned long long k;
    if (!pg_cli_parse_count(spec, INT_MAX, &k))
        return pg_cli_usage("pf", "--step needs a step number (0, 1, ...) or 'peak', got '%s'",
                            spec);
    if ((size_t)k >= n_steps) {
        fprintf(stderr,
                "plurigrid pf: --step %llu: the world's time series have %zu steps "
                "(0 to %zu)\n",
                k, n_steps, n_steps - 1);
        return PG_EXIT_USAGE;
    }
    *step = (size_t)k;
    return PG_EXIT_OK;
}

/* Writes the report of r (the power flow of solve_w, which is w or w at step `step`) to path.
 * Returns an exit code. */
static int
write_report(const char *path, const pg_world *w, const pg_world *solve_w, const pg_pf_result *r,
             const char *step_spec, size_t step)
{
    pg_error err = {0};
    char *text = NULL, *all = NULL, head[200] = "";
    if (pg_pf_result_text(solve_w, r, &text, &err) != PG_OK)
        return pg_cli_report("pf", &err);
    if (step_spec)
        snprintf(head, sizeof head,
                 "Step %zu of the world's time series%s: total load %.2f MW.\n\n", step,
                 strcmp(step_spec, "peak") == 0 ? " (peak load)" : "", pg_world_load_mw(w, step));
    size_t nh = strlen(head), nt = strlen(text);
    int code;
    if (!(all = malloc(nh + nt + 1))) {
        fprintf(stderr, "plurigrid pf: out of memory\n");
        code = PG_EXIT_INTERNAL;
    } else {
        memcpy(all, head, nh);
        memcpy(all + nh, text, nt + 1);
        code = pg_cli_write("pf", path, all, nh + nt);
    }
    free(all);
    free(text);
    return code;
}

static int
write_json(const char *path, const pg_world *solve_w, const pg_pf_result *r)
{
    pg_error err = {0};
    char *text = NULL;
    if (pg_pf_result_json(solve_w, r, &text, &err) != PG_OK)
        return pg_cli_report("pf", &err);
    int code = pg_cli_write("pf", path, text, strlen(text));
    free(text);
    return code;
}

int
pg_cmd_pf(int argc, char **argv)
{
    pg_pf_options opt;
    pg_pf_options_init(&opt);
    const char *path = NULL, *format = NULL, *out_path = NULL, *step_spec = NULL;
    const char *json_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_next = i + 1 < argc;
        if (pg_cli_is_help(a)) {
            usage(stdout);
            return PG_EXIT_OK;
        } else if (strcmp(a, "--dc") == 0) {
            opt.dc = true;
        } else if (strcmp(a, "--enforce-q-lims") == 0) {
            opt.enforce_q_lims = true;
        } else if (strcmp(a, "--json") == 0) {
            if (!has_next)
                return pg_cli_missing_value("pf", a, PG_CLI_OUTPUT_VALUE);
            json_path = argv[++i];
        } else if (strcmp(a, "--tol") == 0 || strcmp(a, "--max-iter") == 0 ||
                   strcmp(a, "--step") == 0 || strcmp(a, "--out") == 0 ||
                   strcmp(a, "--format") == 0) {
            if (!has_next)
                return pg_cli_usage("pf", "%s needs a value", a);
            const char *v = argv[++i];
            if (strcmp(a, "--tol") == 0) {
                if (!pg_cli_parse_double(v, &opt.tol) || !(opt.tol > 0))
                    return pg_cli_usage("pf", "--tol needs a positive number, got '%s'", v);
            } else if (strcmp(a, "--max-iter") == 0) {
                unsigned long long n;
                if (!pg_cli_parse_count(v, INT_MAX, &n))
                    return pg_cli_usage("pf", "--max-iter needs a whole number 0 or more, got '%s'",
                                        v);
                opt.max_iter = (int)n;
            } else if (strcmp(a, "--step") == 0) {
                step_spec = v;
            } else if (strcmp(a, "--out") == 0) {
                out_path = v;
            } else {
                format = v;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            return pg_cli_usage("pf", "unknown option '%s'", a);
        } else if (path) {
            return pg_cli_usage("pf", "one world file only; '%s' is a second one", a);
        } else {
            path = a;
        }
    }
    if (!path)
        return pg_cli_usage("pf", "%s", "which world? Give a file: plurigrid pf FILE");
    if (opt.dc && opt.enforce_q_lims)
        return pg_cli_usage("pf", "%s",
                            "--enforce-q-lims is for the AC power flow; the DC model has no "
                            "reactive power");
    /* Standard output carries one thing: the report, or the JSON (docs/cli.md). */
    bool json_std = json_path && strcmp(json_path, "-") == 0;
    const char *report_path = out_path ? out_path : json_std ? NULL : "-";
    if (json_std && report_path && strcmp(report_path, "-") == 0)
        return pg_cli_usage("pf", "%s", "--json - and --out - cannot both go to standard output");
    if (pg_cli_same_file(json_path, path) || pg_cli_same_file(out_path, path))
        return pg_cli_usage("pf", "an output would replace the world file it reads ('%s')", path);
    if (pg_cli_same_file(json_path, out_path))
        return pg_cli_usage("pf", "--json and --out name the same file ('%s')", out_path);

    int code = PG_EXIT_OK;
    pg_world *w = NULL, *at = NULL;
    pg_pf_result *r = NULL;
    pg_notes notes = {0};
    pg_error err = {0};
    int rc = pg_world_read(path, format, &w, &notes, &err);
    if (rc) {
        code = pg_cli_report("pf", &err);
        goto out;
    }
    for (size_t i = 0; i < notes.n; i++)
        fprintf(stderr, "plurigrid pf: note: %s\n", notes.items[i]);
    if ((rc = pg_world_validate(w, &err))) {
        pg_error_at(&err, path, 0, 0, NULL);
        code = pg_cli_report("pf", &err);
        goto out;
    }
    const pg_world *solve_w = w;
    size_t step = 0;
    if (step_spec) {
        if ((code = choose_step(w, step_spec, &step)))
            goto out;
        if ((rc = pg_world_at_step(&at, w, step, &err))) {
            code = pg_cli_report("pf", &err);
            goto out;
        }
        solve_w = at;
    }
    if ((rc = pg_pf_solve(solve_w, &opt, &r, &err))) {
        pg_error_at(&err, path, 0, 0, NULL);
        code = pg_cli_report("pf", &err);
        goto out;
    }
    if (report_path && (code = write_report(report_path, w, solve_w, r, step_spec, step)))
        goto out;
    if (json_path && (code = write_json(json_path, solve_w, r)))
        goto out;
    if (!r->all_solved) {
        fprintf(stderr, "plurigrid pf: %s: %s\n", path,
                r->converged ? "part of the network was not solved" : "did not converge");
        fprintf(stderr, "plurigrid pf: %s\n", r->reason);
        code = PG_EXIT_FAIL;
    }
out:
    pg_pf_result_free(r);
    pg_world_free(at);
    pg_world_free(w);
    pg_notes_clear(&notes);
    return code;
}
