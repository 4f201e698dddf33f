/* plurigrid run: the main job. Reads a world, schedules its day ahead (unit commitment, then the
 * dispatch with the commitment fixed and its prices), checks each step's schedule with an AC power
 * flow, and prints the library's hourly report; writes JSON, CSV and SVG plots on request, through
 * the library's printers and its one atomic writer. Progress goes to standard error while the
 * solvers work, only on a terminal or with --progress. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "plurigrid/dispatch.h"
#include "plurigrid/io.h"

static void
usage(FILE *f)
{
    fprintf(
        f,
        "Usage: plurigrid run WORLD [options]\n"
        "\n"
        "Schedules WORLD (a plurigrid .json world or a MATPOWER .m case) over its horizon:\n"
        "unit commitment (a MILP solved by Cbc), then the economic dispatch with that\n"
        "commitment fixed (an LP solved by Clp) and the locational marginal prices from its\n"
        "duals, then an AC power flow of each step's schedule that reports voltage and flow\n"
        "violations. Prints an hourly table of outputs, storage, curtailment, unserved energy,\n"
        "prices and costs. See docs/dispatch.md for the formulation.\n"
        "\n"
        "Options:\n"
        "  --horizon N        number of steps (default: as many as the time series cover)\n"
        "  --start K          start at step K of the time series (default 0)\n"
        "  --step-h H         step length in hours (default: the series' own; other lengths\n"
        "                     average the series over each step)\n"
        "  --network MODEL    copper (no network) or dc (DC power flow with branch limits;\n"
        "                     the default)\n"
        "  --no-commitment    keep every available unit on; solve the dispatch LP only\n"
        "  --voll X           value of lost load, $/MWh (default 10000)\n"
        "  --overgen-cost X   penalty on spilled generation, $/MWh (default 1000)\n"
        "  --segments K       segments of quadratic cost curves (default 4)\n"
        "  --gap G            relative MILP gap to stop at (default 0.001)\n"
        "  --time-limit S     stop the MILP after S seconds with the best schedule found\n"
        "                     (default 300; 0 for no limit)\n"
        "  --threads K        MILP threads, 1 to 64 (default 1)\n"
        "  --json FILE|-      write the result as JSON (format plurigrid-dispatch/1) to FILE,\n"
        "                     or to standard output for '-' (the table is then not printed)\n"
        "  --csv FILE|-       write the result as CSV (step,hour,component,name,quantity,value)\n"
        "                     to FILE, or to standard output for '-' (no table then either)\n"
        "  --plot DIR         write dispatch.svg and prices.svg into DIR (created if missing)\n"
        "  --no-ac            skip the AC power flow check\n"
        "  --format FMT       read WORLD as FMT (json or matpower) whatever its extension\n"
        "  --progress         show progress on standard error even when it is not a terminal\n"
        "  --verbose          print the solvers' logs and notes about the input\n"
        "  -h, --help         show this help\n"
        "\n"
        "Files are replaced whole: a failed write leaves the old file (docs/cli.md).\n"
        "\n"
        "Exit status: 0 scheduled with all demand served, 1 scheduled but some demand was not\n"
        "served (or no commitment was found within the time limit), 2 bad input or usage\n"
        "or an output that could not be written, 3 internal failure.\n");
}

/* ------------------------------------------------------------------ progress */

typedef struct ticker {
    bool on;  /* progress is shown */
    bool tty; /* standard error is a terminal */
    pthread_t thread;
    bool running;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    const char *what;
    double t0;
} ticker;

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *
tick_main(void *arg)
{
    ticker *tk = arg;
    pthread_mutex_lock(&tk->mu);
    while (!tk->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += tk->tty ? 1 : 10;
        pthread_cond_timedwait(&tk->cv, &tk->mu, &until);
        if (tk->stop)
            break;
        /* a terminal gets one line redrawn every second, a log a line every 10 s */
        if (tk->tty)
            fprintf(stderr, "\r%s ... %.0f s ", tk->what, now_s() - tk->t0);
        else
            fprintf(stderr, "%s ... %.0f s\n", tk->what, now_s() - tk->t0);
    }
    pthread_mutex_unlock(&tk->mu);
    return NULL;
}

static void
tick_end(ticker *tk)
{
    if (!tk->running)
        return;
    pthread_mutex_lock(&tk->mu);
    tk->stop = true;
    pthread_cond_signal(&tk->cv);
    pthread_mutex_unlock(&tk->mu);
    pthread_join(tk->thread, NULL);
    tk->running = false;
    fprintf(stderr, "%s%s ... done in %.1f s\n", tk->tty ? "\r" : "", tk->what, now_s() - tk->t0);
}

static void
tick_begin(ticker *tk, const char *what)
{
    tick_end(tk);
    tk->what = what;
    tk->t0 = now_s();
    tk->stop = false;
    if (tk->tty)
        fprintf(stderr, "%s ...", what);
    if (pthread_create(&tk->thread, NULL, tick_main, tk) == 0)
        tk->running = true;
}

static void
on_progress(void *user, pg_dispatch_phase phase, size_t step, size_t n)
{
    ticker *tk = user;
    if (!tk->on)
        return;
    switch (phase) {
    case PG_DISPATCH_COMMITMENT: tick_begin(tk, "plurigrid run: unit commitment (MILP)"); break;
    case PG_DISPATCH_ECONOMIC: tick_begin(tk, "plurigrid run: dispatch and prices (LP)"); break;
    case PG_DISPATCH_AC:
        tick_end(tk);
        if (tk->tty) {
            fprintf(stderr, "\rplurigrid run: AC power flow, step %zu of %zu ", step + 1, n);
            if (step + 1 == n)
                fprintf(stderr, "\n");
        } else if (step + 1 == n) {
            fprintf(stderr, "plurigrid run: AC power flow of %zu steps done\n", n);
        }
        break;
    case PG_DISPATCH_DONE: tick_end(tk); break;
    default: break;
    }
}

/* ------------------------------------------------------------------ outputs */

typedef int (*printer)(const pg_world *w, const pg_dispatch_result *r, const pg_dispatch_ac *ac,
                       char **text, pg_error *err);

/* Prints the result with make and writes it to path ("-": standard output). Returns an exit
 * code. */
static int
emit(const char *path, printer make, const pg_world *w, const pg_dispatch_result *r,
     const pg_dispatch_ac *ac)
{
    pg_error err = {0};
    char *text = NULL;
    if (make(w, r, ac, &text, &err) != PG_OK)
        return pg_cli_report("run", &err);
    int code = pg_cli_write("run", path, text, strlen(text));
    free(text);
    return code;
}

static int
write_plots(const char *dir, const pg_world *w, const pg_dispatch_result *r)
{
    pg_error err = {0};
    if (pg_cli_make_dirs(dir) != 0) {
        pg_error_at(&err, dir, 0, 0, NULL);
        pg_error_set(&err, PG_EIO, "cannot create the plot folder: %s", strerror(errno));
        return pg_cli_report("run", &err);
    }
    if (pg_dispatch_write_plots(w, r, dir, &err) != PG_OK)
        return pg_cli_report("run", &err);
    return PG_EXIT_OK;
}

/* ------------------------------------------------------------------ the command */

int
pg_cmd_run(int argc, char **argv)
{
    const char *path = NULL, *format = NULL, *json_path = NULL, *csv_path = NULL, *plot_dir = NULL;
    bool verbose = false, show_progress = isatty(STDERR_FILENO), no_ac = false;
    pg_dispatch_options o;
    pg_dispatch_options_init(&o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        double d = 0;
        unsigned long long z = 0;
        if (pg_cli_is_help(a)) {
            usage(stdout);
            return PG_EXIT_OK;
        } else if (strcmp(a, "--verbose") == 0) {
            verbose = true;
        } else if (strcmp(a, "--progress") == 0) {
            show_progress = true;
        } else if (strcmp(a, "--no-ac") == 0) {
            no_ac = true;
        } else if (strcmp(a, "--no-commitment") == 0) {
            o.commitment = false;
        } else if (strcmp(a, "--format") == 0 && has) {
            format = argv[++i];
        } else if (strcmp(a, "--json") == 0 || strcmp(a, "--csv") == 0) {
            if (!has)
                return pg_cli_missing_value("run", a, PG_CLI_OUTPUT_VALUE);
            *(a[2] == 'j' ? &json_path : &csv_path) = argv[++i];
        } else if (strcmp(a, "--plot") == 0 && has) {
            plot_dir = argv[++i];
        } else if (strcmp(a, "--network") == 0 && has) {
            const char *v = argv[++i];
            if (strcmp(v, "copper") == 0)
                o.network = PG_NETWORK_COPPER;
            else if (strcmp(v, "dc") == 0)
                o.network = PG_NETWORK_DC;
            else
                return pg_cli_usage_error("run", "--network takes copper or dc", v);
        } else if (strcmp(a, "--horizon") == 0 && has) {
            if (!pg_cli_parse_count(argv[++i], 1000000000, &z) || z == 0 || z > 100000)
                return pg_cli_usage_error("run", "--horizon takes a number of steps, 1 to 100000",
                                          argv[i]);
            o.horizon = (size_t)z;
        } else if (strcmp(a, "--start") == 0 && has) {
            if (!pg_cli_parse_count(argv[++i], 1000000000, &z))
                return pg_cli_usage_error("run", "--start takes a step number >= 0", argv[i]);
            o.start_step = (size_t)z;
        } else if (strcmp(a, "--step-h") == 0 && has) {
            if (!pg_cli_parse_double(argv[++i], &d) || !(d > 0))
                return pg_cli_usage_error("run", "--step-h takes a positive number of hours",
                                          argv[i]);
            o.step_h = d;
        } else if (strcmp(a, "--voll") == 0 && has) {
            if (!pg_cli_parse_double(argv[++i], &d) || !(d > 0))
                return pg_cli_usage_error("run", "--voll takes a positive number of $/MWh",
                                          argv[i]);
            o.voll = d;
        } else if (strcmp(a, "--overgen-cost") == 0 && has) {
            if (!pg_cli_parse_double(argv[++i], &d) || !(d >= 0))
                return pg_cli_usage_error("run", "--overgen-cost takes a number of $/MWh >= 0",
                                          argv[i]);
            o.overgen_cost = d;
        } else if (strcmp(a, "--segments") == 0 && has) {
            if (!pg_cli_parse_count(argv[++i], 1000000000, &z) || z < 1 || z > 1000)
                return pg_cli_usage_error("run", "--segments takes a number from 1 to 1000",
                                          argv[i]);
            o.pwl_segments = (int)z;
        } else if (strcmp(a, "--gap") == 0 && has) {
            if (!pg_cli_parse_double(argv[++i], &d) || !(d >= 0 && d < 1))
                return pg_cli_usage_error(
                    "run", "--gap takes a fraction in [0, 1), e.g. 0.01 for 1%", argv[i]);
            o.mip_gap = d;
        } else if (strcmp(a, "--time-limit") == 0 && has) {
            if (!pg_cli_parse_double(argv[++i], &d) || !(d >= 0))
                return pg_cli_usage_error(
                    "run", "--time-limit takes a number of seconds (0 for no limit)", argv[i]);
            o.time_limit_s = d;
        } else if (strcmp(a, "--threads") == 0 && has) {
            if (!pg_cli_parse_count(argv[++i], 1000000000, &z))
                return pg_cli_usage_error("run", "--threads takes a number of threads", argv[i]);
            o.threads = (int)z;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr,
                    "plurigrid run: unknown option '%s' (or it lacks its value); try "
                    "'plurigrid run --help'\n",
                    a);
            return PG_EXIT_USAGE;
        } else if (!path) {
            path = a;
        } else {
            fprintf(stderr, "plurigrid run: one world only ('%s' is extra)\n", a);
            return PG_EXIT_USAGE;
        }
    }
    if (!path) {
        usage(stderr);
        return PG_EXIT_USAGE;
    }
    /* Standard output carries one thing: the table, or the JSON, or the CSV (docs/cli.md). */
    bool json_std = json_path && strcmp(json_path, "-") == 0;
    bool csv_std = csv_path && strcmp(csv_path, "-") == 0;
    if (json_std && csv_std) {
        fprintf(stderr, "plurigrid run: --json - and --csv - cannot both go to standard output; "
                        "write one of them to a file\n");
        return PG_EXIT_USAGE;
    }
    if (pg_cli_same_file(json_path, path) || pg_cli_same_file(csv_path, path))
        return pg_cli_usage_error("run", "an output would replace the world file it reads", path);
    if (pg_cli_same_file(json_path, csv_path))
        return pg_cli_usage_error("run", "--json and --csv name the same file", json_path);
    ticker tk = {.on = show_progress, .tty = isatty(STDERR_FILENO)};
    pthread_mutex_init(&tk.mu, NULL);
    pthread_cond_init(&tk.cv, NULL);
    o.solver_log = verbose;
    o.progress = on_progress;
    o.progress_user = &tk;

    pg_error err = {0};
    pg_world *w = NULL;
    pg_notes notes = {0};
    pg_dispatch_result *r = NULL;
    pg_dispatch_ac *ac = NULL;
    int code = PG_EXIT_OK;
    if (pg_world_read(path, format, &w, &notes, &err) != PG_OK) {
        code = pg_cli_report("run", &err);
        goto out;
    }
    if (verbose)
        for (size_t i = 0; i < notes.n; i++)
            fprintf(stderr, "plurigrid run: note: %s\n", notes.items[i]);
    if (pg_dispatch_run(w, &o, &r, &err) != PG_OK) {
        tick_end(&tk);
        if (!err.file[0] && err.code != PG_EINVAL) /* PG_EINVAL: an option, not the world */
            pg_error_at(&err, path, 0, 0, NULL);
        code = pg_cli_report("run", &err);
        if (err.code == PG_ELIMIT) /* no commitment within the time limit: a negative result */
            code = PG_EXIT_FAIL;
        goto out;
    }
    if (!no_ac && pg_dispatch_ac_check(w, r, &o, &ac, &err) != PG_OK) {
        tick_end(&tk);
        code = pg_cli_report("run", &err);
        goto out;
    }
    tick_end(&tk);
    if (!json_std && !csv_std && (code = emit("-", pg_dispatch_result_text, w, r, ac)))
        goto out;
    if (json_path && (code = emit(json_path, pg_dispatch_result_json, w, r, ac)))
        goto out;
    if (csv_path && (code = emit(csv_path, pg_dispatch_result_csv, w, r, ac)))
        goto out;
    if (plot_dir) {
        if ((code = write_plots(plot_dir, w, r)))
            goto out;
        if (!json_std && !csv_std)
            printf("Plots: %s/dispatch.svg, %s/prices.svg\n", plot_dir, plot_dir);
    }
    if (r->total_unserved_mwh > 1e-6)
        code = PG_EXIT_FAIL;
out:
    tick_end(&tk);
    pthread_mutex_destroy(&tk.mu);
    pthread_cond_destroy(&tk.cv);
    pg_dispatch_ac_free(ac);
    pg_dispatch_result_free(r);
    pg_notes_clear(&notes);
    pg_world_free(w);
    return code;
}
