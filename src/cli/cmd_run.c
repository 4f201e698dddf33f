/* plurigrid run: the main job. Reads a world, schedules its day ahead (unit commitment, then the
 * dispatch with the commitment fixed and its prices), checks each step's schedule with an AC power
 * flow, and prints an hourly table; writes JSON, CSV and SVG plots on request. Progress goes to
 * standard error while the solvers work, only on a terminal or with --progress. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "plurigrid/dispatch.h"
#include "plurigrid/io.h"
#include "plurigrid/plot.h"

/* Tables show one column per unit (or bus) up to this many; above it, totals and ranges. */
#define WIDE 8

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
        "  --json FILE|-      write the result as JSON (format plurigrid-dispatch/1); '-' for\n"
        "                     standard output (the table is then not printed)\n"
        "  --csv FILE         write the result as CSV (step,hour,component,name,quantity,value)\n"
        "  --plot DIR         write dispatch.svg and prices.svg into DIR (created if missing)\n"
        "  --no-ac            skip the AC power flow check\n"
        "  --format FMT       read WORLD as FMT (json or matpower) whatever its extension\n"
        "  --progress         show progress on standard error even when it is not a terminal\n"
        "  --verbose          print the solvers' logs and notes about the input\n"
        "  -h, --help         show this help\n"
        "\n"
        "Exit status: 0 scheduled with all demand served, 1 scheduled but some demand was not\n"
        "served (or no commitment was found within the time limit), 2 bad input or usage,\n"
        "3 internal failure.\n");
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

/* ------------------------------------------------------------------ tables */

static double
sum_row(const double *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s;
}

/* A column header cut to fit 10 characters. */
static void
head(const char *name)
{
    printf(" %10.10s", name ? name : "?");
}

static void
print_header(const pg_world *w, const pg_dispatch_result *r)
{
    size_t on_units = 0;
    for (size_t g = 0; g < w->n_thermals; g++)
        on_units += w->thermals[g].in_service;
    printf("%s: %zu steps of %g h from step %zu, %s network\n", w->name, r->n_steps, r->step_h,
           r->start_step, r->network == PG_NETWORK_DC ? "DC" : "copper-plate");
    printf("  %zu buses, %zu branches, %zu loads, %zu thermal (%zu in service), %zu renewable, "
           "%zu storage units\n",
           w->n_buses, w->n_branches, w->n_loads, w->n_thermals, on_units, w->n_renewables,
           w->n_storages);
    if (r->uc_status == PG_UC_NONE)
        printf("Dispatch LP: %zu variables, %zu constraints, solved in %.2f s\n", r->n_variables,
               r->n_constraints, r->ed_seconds);
    else
        printf("Unit commitment: %s, gap %.3f%%, %.2f s (%zu variables, %zu integer, %zu "
               "constraints); dispatch LP %.2f s\n",
               r->uc_status == PG_UC_OPTIMAL ? "optimal" : "stopped at the time limit",
               100 * r->uc_gap, r->uc_seconds, r->n_variables, r->n_integers, r->n_constraints,
               r->ed_seconds);
}

static void
print_schedule(const pg_world *w, const pg_dispatch_result *r)
{
    size_t T = r->n_steps, ng = r->n_thermals, nr = r->n_renewables, ns = r->n_storages;
    bool wide = ng + nr > WIDE || ns > 4;
    printf("\nSchedule (MW; '-' = unit off; storage: net output MW / state of charge MWh)\n");
    printf("%6s %10s", "hour", "demand");
    if (wide) {
        printf(" %10s %10s %10s", "thermal", "units on", "renewable");
        if (ns)
            printf(" %10s %10s", "storage", "SOC");
    } else {
        for (size_t g = 0; g < ng; g++)
            head(w->thermals[g].name);
        for (size_t k = 0; k < nr; k++)
            head(w->renewables[k].name);
        for (size_t s = 0; s < ns; s++) {
            head(w->storages[s].name);
            printf(" %10s", "SOC");
        }
    }
    printf(" %10s %10s", "curtailed", "unserved");
    printf("\n");
    for (size_t t = 0; t < T; t++) {
        printf("%6g %10.2f", (double)t * r->step_h,
               sum_row(&r->bus_demand[t * r->n_buses], r->n_buses));
        double curt = 0;
        for (size_t k = 0; k < nr; k++)
            curt += r->renewable_avail[t * nr + k] - r->renewable_p[t * nr + k];
        if (wide) {
            size_t on = 0;
            for (size_t g = 0; g < ng; g++)
                on += r->thermal_on[t * ng + g];
            printf(" %10.2f %10zu %10.2f", sum_row(&r->thermal_p[t * ng], ng), on,
                   sum_row(&r->renewable_p[t * nr], nr));
            if (ns) {
                double net = 0, soc = 0;
                for (size_t s = 0; s < ns; s++) {
                    net += r->storage_discharge[t * ns + s] - r->storage_charge[t * ns + s];
                    soc += r->storage_soc[t * ns + s];
                }
                printf(" %10.2f %10.2f", net, soc);
            }
        } else {
            for (size_t g = 0; g < ng; g++) {
                if (r->thermal_on[t * ng + g])
                    printf(" %10.2f", r->thermal_p[t * ng + g]);
                else
                    printf(" %10s", "-");
            }
            for (size_t k = 0; k < nr; k++)
                printf(" %10.2f", r->renewable_p[t * nr + k]);
            for (size_t s = 0; s < ns; s++)
                printf(" %10.2f %10.2f",
                       r->storage_discharge[t * ns + s] - r->storage_charge[t * ns + s],
                       r->storage_soc[t * ns + s]);
        }
        printf(" %10.2f %10.2f\n", fabs(curt) < 5e-9 ? 0.0 : curt,
               sum_row(&r->bus_unserved[t * r->n_buses], r->n_buses));
    }
}

static void
print_prices(const pg_world *w, const pg_dispatch_result *r)
{
    size_t T = r->n_steps, nb = r->n_buses;
    bool wide = nb > WIDE;
    printf("\nPrices ($/MWh)%s\n", wide ? ": range over the buses" : "");
    printf("%6s", "hour");
    if (wide) {
        printf(" %10s %10s %10s", "lowest", "mean", "highest");
    } else {
        for (size_t b = 0; b < nb; b++)
            head(w->buses[b].name);
    }
    printf(" %10s\n", "energy");
    for (size_t t = 0; t < T; t++) {
        printf("%6g", (double)t * r->step_h);
        const double *p = &r->lmp[t * nb];
        if (wide) {
            double lo = INFINITY, hi = -INFINITY, s = 0;
            size_t n = 0;
            for (size_t b = 0; b < nb; b++)
                if (isfinite(p[b])) {
                    lo = fmin(lo, p[b]);
                    hi = fmax(hi, p[b]);
                    s += p[b];
                    n++;
                }
            printf(" %10.2f %10.2f %10.2f", lo, n ? s / (double)n : NAN, hi);
        } else {
            for (size_t b = 0; b < nb; b++)
                printf(" %10.2f", p[b]);
        }
        printf(" %10.2f\n", r->energy_price[t]);
    }
}

static void
print_costs(const pg_dispatch_result *r)
{
    size_t T = r->n_steps;
    printf("\nCost ($)\n%6s %12s %12s %12s %12s %12s\n", "hour", "variable", "fixed", "start-up",
           "penalty", "total");
    double tv = 0, tf = 0, ts = 0, tp = 0;
    for (size_t t = 0; t < T; t++) {
        double v = r->cost_variable[t], f = r->cost_fixed[t], s = r->cost_startup[t],
               p = r->cost_penalty[t];
        printf("%6g %12.2f %12.2f %12.2f %12.2f %12.2f\n", (double)t * r->step_h, v, f, s, p,
               v + f + s + p);
        tv += v, tf += f, ts += s, tp += p;
    }
    printf("%6s %12.2f %12.2f %12.2f %12.2f %12.2f\n", "total", tv, tf, ts, tp, r->total_cost);
    printf("\nTotal cost %.2f $; unserved energy %.3f MWh; spilled generation %.3f MWh; "
           "curtailed renewable energy %.3f MWh\n",
           r->total_cost, r->total_unserved_mwh, r->total_overgen_mwh, r->total_curtailed_mwh);
}

static void
print_ac(const pg_dispatch_ac *ac, const pg_dispatch_result *r)
{
    printf("\nAC power flow of each step's schedule (violations are reported, not enforced)\n");
    printf("%6s %6s %5s %10s %10s %8s %8s %7s %10s %8s %5s\n", "hour", "solved", "iter",
           "losses MW", "slack MW", "Vmin", "Vmax", "V out", "overloads", "max load", "Q lim");
    bool held = false;
    for (size_t t = 0; t < ac->n_steps; t++) {
        const pg_dispatch_ac_step *s = &ac->steps[t];
        held = held || s->ref_held;
        printf("%6g %6s %5d %10.3f %10.3f %8.4f %8.4f %7zu %10zu %7.1f%% %5zu%s\n",
               (double)t * r->step_h, s->solved ? "yes" : "NO", s->iterations, s->losses_mw,
               s->slack_mw, s->vm_min, s->vm_max, s->n_voltage, s->n_overload, 100 * s->max_loading,
               s->n_q_limit, s->ref_held ? " *" : "");
    }
    for (size_t t = 0; t < ac->n_steps; t++)
        if (!ac->steps[t].solved)
            printf("  hour %g: %s\n", (double)t * r->step_h, ac->steps[t].reason);
    if (held)
        printf("  * the reference bus's unit is off in the schedule; the power flow kept it "
               "connected at 0 MW to hold the voltage and take up the losses\n");
    printf("AC check: %zu of %zu steps solved; %zu with voltage, flow or reactive-limit "
           "violations\n",
           ac->n_steps - ac->n_unsolved, ac->n_steps, ac->n_with_violations);
}

/* ------------------------------------------------------------------ plots */

static int
write_plots(const char *dir, const pg_world *w, const pg_dispatch_result *r, pg_error *err)
{
    if (pg_cli_make_dirs(dir) != 0) {
        pg_error_at(err, dir, 0, 0, NULL);
        return pg_error_set(err, PG_EIO, "cannot create the plot folder: %s", strerror(errno));
    }
    size_t T = r->n_steps;
    double *x = malloc(T * sizeof *x), *y = malloc(T * sizeof *y);
    char path[4096];
    pg_plot *p = NULL;
    int rc = PG_OK;
    if (!x || !y) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t t = 0; t < T; t++)
        x[t] = (double)t * r->step_h;
    pg_plot_options po;
    pg_plot_options_init(&po);
    po.step = 1;
    char title[300];
    snprintf(title, sizeof title, "%s: dispatch by unit", w->name);
    if ((rc = pg_plot_new(&p, title, "hour", "MW", &po, err)))
        goto out;
    /* Stack: thermal units, storage discharge, renewables; load (plus charging) on top. */
    for (size_t g = 0; g < r->n_thermals && !rc; g++) {
        if (!w->thermals[g].in_service)
            continue;
        for (size_t t = 0; t < T; t++)
            y[t] = r->thermal_p[t * r->n_thermals + g];
        rc = pg_plot_add_stack(p, w->thermals[g].name, x, y, T, NULL, err);
    }
    for (size_t s = 0; s < r->n_storages && !rc; s++) {
        for (size_t t = 0; t < T; t++)
            y[t] = r->storage_discharge[t * r->n_storages + s];
        rc = pg_plot_add_stack(p, w->storages[s].name, x, y, T, NULL, err);
    }
    for (size_t k = 0; k < r->n_renewables && !rc; k++) {
        for (size_t t = 0; t < T; t++)
            y[t] = r->renewable_p[t * r->n_renewables + k];
        rc = pg_plot_add_stack(p, w->renewables[k].name, x, y, T, NULL, err);
    }
    bool short_ = r->total_unserved_mwh > 0;
    if (!rc && short_) {
        for (size_t t = 0; t < T; t++)
            y[t] = sum_row(&r->bus_unserved[t * r->n_buses], r->n_buses);
        rc = pg_plot_add_stack(p, "unserved", x, y, T, "#d62728", err);
    }
    if (!rc) {
        for (size_t t = 0; t < T; t++) {
            y[t] = sum_row(&r->bus_demand[t * r->n_buses], r->n_buses);
            for (size_t s = 0; s < r->n_storages; s++)
                y[t] += r->storage_charge[t * r->n_storages + s];
        }
        rc = pg_plot_add_line(p, r->n_storages ? "load + charging" : "load", x, y, T, "#000000",
                              err);
    }
    snprintf(path, sizeof path, "%s/dispatch.svg", dir);
    if (rc || (rc = pg_plot_write(p, path, err)))
        goto out;
    pg_plot_free(p);
    p = NULL;

    snprintf(title, sizeof title, "%s: locational marginal prices", w->name);
    if ((rc = pg_plot_new(&p, title, "hour", "$/MWh", &po, err)))
        goto out;
    size_t nb = r->n_buses, shown = 0;
    for (size_t b = 0; b < nb && !rc; b++) {
        if (w->buses[b].type == PG_BUS_ISOLATED)
            continue;
        /* Many buses: plot at most 12 (the first ones), the rest are in the JSON/CSV. */
        if (++shown > 12)
            break;
        for (size_t t = 0; t < T; t++)
            y[t] = r->lmp[t * nb + b];
        rc = pg_plot_add_line(p, w->buses[b].name, x, y, T, NULL, err);
    }
    snprintf(path, sizeof path, "%s/prices.svg", dir);
    if (!rc)
        rc = pg_plot_write(p, path, err);
out:
    pg_plot_free(p);
    free(x);
    free(y);
    return rc;
}

static int
write_text(const char *path, const char *text, pg_error *err)
{
    if (strcmp(path, "-") == 0) {
        fputs(text, stdout);
        return PG_OK;
    }
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        int e = errno;
        if (f)
            fclose(f);
        pg_error_at(err, path, 0, 0, NULL);
        return pg_error_set(err, PG_EIO, "cannot write the file: %s", strerror(e));
    }
    return PG_OK;
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
        } else if (strcmp(a, "--json") == 0 && has) {
            json_path = argv[++i];
        } else if (strcmp(a, "--csv") == 0 && has) {
            csv_path = argv[++i];
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
    char *text = NULL;
    int code = PG_EXIT_OK;
    bool table = !(json_path && strcmp(json_path, "-") == 0);
    if (pg_world_read(path, format, &w, &notes, &err) != PG_OK) {
        code = pg_cli_report("run", &err);
        goto out;
    }
    if (verbose)
        for (size_t i = 0; i < notes.n; i++)
            fprintf(stderr, "plurigrid run: note: %s\n", notes.items[i]);
    if (pg_dispatch_run(w, &o, &r, &err) != PG_OK) {
        tick_end(&tk);
        if (!err.file[0])
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
    if (table) {
        print_header(w, r);
        print_schedule(w, r);
        print_prices(w, r);
        print_costs(r);
        if (ac)
            print_ac(ac, r);
    }
    if (json_path) {
        if (pg_dispatch_result_json(w, r, ac, &text, &err) || write_text(json_path, text, &err)) {
            code = pg_cli_report("run", &err);
            goto out;
        }
        free(text);
        text = NULL;
    }
    if (csv_path) {
        if (pg_dispatch_result_csv(w, r, ac, &text, &err) || write_text(csv_path, text, &err)) {
            code = pg_cli_report("run", &err);
            goto out;
        }
        free(text);
        text = NULL;
    }
    if (plot_dir) {
        if (write_plots(plot_dir, w, r, &err)) {
            code = pg_cli_report("run", &err);
            goto out;
        }
        if (table)
            printf("Plots: %s/dispatch.svg, %s/prices.svg\n", plot_dir, plot_dir);
    }
    if (r->total_unserved_mwh > 1e-6)
        code = PG_EXIT_FAIL;
out:
    tick_end(&tk);
    pthread_mutex_destroy(&tk.mu);
    pthread_cond_destroy(&tk.cv);
    free(text);
    pg_dispatch_ac_free(ac);
    pg_dispatch_result_free(r);
    pg_notes_clear(&notes);
    pg_world_free(w);
    return code;
}
