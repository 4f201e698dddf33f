/* Benchmark of day-ahead scheduling (bench/RESULTS.md, "Dispatch"):
 *
 *   1. 24-hour unit commitment of case118 (54 units, loads at 1.5 x the case's) on the DC
 *      network to a 1% gap: the MILP, then the dispatch LP with the commitment fixed and its
 *      prices.
 *   2. 24-hour economic dispatch LP of case2383wp (327 units, 2896 rated branches) on the DC
 *      network with ramp limits, every unit committed.
 *
 * Both cases are MATPOWER's, read from the reference data folder; loads follow the daily profile
 * below, and the case118 units get the commitment data of uc_data() (MATPOWER cases have none).
 * Prints the median of the runs of each figure.
 *
 *   build/bench/dispatch [--runs N] [--threads K] [--data DIR]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "core/util.h"
#include "plurigrid/dispatch.h"
#include "plurigrid/io.h"

/* IEEE Reliability Test System (1979), hourly load of a winter weekday in fraction of the daily
 * peak, hours 0-23. */
static const double daily[24] = {0.67, 0.63, 0.60, 0.59, 0.59, 0.60, 0.74, 0.86,
                                 0.95, 0.96, 0.96, 0.95, 0.95, 0.95, 0.93, 0.94,
                                 0.99, 1.00, 1.00, 0.96, 0.91, 0.83, 0.73, 0.63};

static pg_world *
load_case(const char *dir, const char *name, double scale)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/matpower/cases/%s.m", dir, name);
    pg_world *w = NULL;
    pg_error err = {0};
    if (pg_matpower_read_file(path, &w, NULL, &err) != PG_OK) {
        char buf[1400];
        fprintf(stderr, "dispatch bench: %s\n", pg_error_format(&err, buf, sizeof buf));
        exit(2);
    }
    size_t s = PG_NONE;
    if (pg_world_add_series(w, "daily", 1.0, daily, 24, &s, &err) != PG_OK)
        exit(3);
    for (size_t i = 0; i < w->n_loads; i++) {
        w->loads[i].p_series = s;
        w->loads[i].p *= scale;
        w->loads[i].q *= scale;
    }
    return w;
}

/* Commitment data for MATPOWER units by size (pmax), documented in bench/RESULTS.md:
 *   pmax >= 300 MW:  pmin 40% pmax, ramps 30% pmax/h, min up/down 8 h, start-up 60 $/MW pmax
 *   100 < pmax < 300: pmin 30%,      ramps 50% pmax/h, min up/down 4 h, start-up 30 $/MW
 *   pmax <= 100 MW:  pmin 20%,      no ramp limit,     min up/down 2 h, start-up 10 $/MW
 * Units with output in the case start on (at it, within [pmin, pmax]) and have been on for 24 h;
 * the others start off, off for 24 h. */
static void
uc_data(pg_world *w)
{
    for (size_t g = 0; g < w->n_thermals; g++) {
        pg_thermal *t = &w->thermals[g];
        double pmax = t->pmax;
        double frac_min, ramp, hours, start;
        if (pmax >= 300)
            frac_min = 0.4, ramp = 0.3, hours = 8, start = 60;
        else if (pmax > 100)
            frac_min = 0.3, ramp = 0.5, hours = 4, start = 30;
        else
            frac_min = 0.2, ramp = 0, hours = 2, start = 10;
        t->pmin = frac_min * pmax;
        t->ramp_up = t->ramp_down = ramp * pmax;
        t->min_up_h = t->min_down_h = hours;
        t->startup_cost = start * pmax;
        t->initial_on = t->p > 0;
        t->initial_h = 24;
    }
}

/* Ramps for the ED of case2383wp: 50% of pmax per hour (the case has no ramp data). */
static void
ed_data(pg_world *w)
{
    for (size_t g = 0; g < w->n_thermals; g++) {
        pg_thermal *t = &w->thermals[g];
        t->ramp_up = t->ramp_down = 0.5 * t->pmax;
    }
}

int
main(int argc, char **argv)
{
    int runs = 5, threads = 2;
    const char *dir = PG_DATA_DIR;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            dir = argv[++i];
        else {
            fprintf(stderr, "usage: dispatch [--runs N] [--threads K] [--data DIR]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > 1000 || threads < 1)
        return 2;
    double *a = calloc((size_t)runs, sizeof *a), *b = calloc((size_t)runs, sizeof *b),
           *c = calloc((size_t)runs, sizeof *c);
    if (!a || !b || !c)
        return 3;
    pg_error err = {0};
    char buf[1400];

    /* 1. unit commitment of case118 */
    /* Loads at 1.5 x the case's (daily peak 6363 MW) so that the 19 large units (6466 MW) no
     * longer cover the day and some of the 35 small ones must start for the peak. */
    pg_world *w = load_case(dir, "case118", 1.5);
    uc_data(w);
    pg_dispatch_options o;
    pg_dispatch_options_init(&o);
    o.mip_gap = 0.01;
    o.threads = threads;
    pg_dispatch_result *r = NULL;
    double gap = 0, cost = 0;
    size_t nv = 0, ni = 0, nc = 0, starts = 0;
    for (int k = 0; k < runs; k++) {
        double t0 = pgi_now();
        if (pg_dispatch_run(w, &o, &r, &err) != PG_OK) {
            fprintf(stderr, "dispatch bench: case118 UC: %s\n",
                    pg_error_format(&err, buf, sizeof buf));
            return 3;
        }
        a[k] = pgi_now() - t0;
        b[k] = r->uc_seconds;
        c[k] = r->ed_seconds;
        gap = r->uc_gap, cost = r->total_cost;
        nv = r->n_variables, ni = r->n_integers, nc = r->n_constraints;
        starts = 0;
        for (size_t i = 0; i < r->n_steps * r->n_thermals; i++)
            starts += r->thermal_start[i];
        pg_dispatch_result_free(r);
    }
    printf("case118 24-hour unit commitment, loads x1.5, DC network, gap 1%%, %d thread(s), "
           "median of %d:\n",
           threads, runs);
    printf("  MILP %zu variables (%zu integer), %zu constraints; gap reached %.3f%%, "
           "cost %.0f $, %zu start-ups\n",
           nv, ni, nc, 100 * gap, cost, starts);
    printf("  total %.3f s  (MILP %.3f s, dispatch LP %.3f s)\n", bench_median(a, runs),
           bench_median(b, runs), bench_median(c, runs));
    pg_world_free(w);

    /* 2. economic dispatch of case2383wp */
    w = load_case(dir, "case2383wp", 1.0);
    ed_data(w);
    pg_dispatch_options_init(&o);
    o.commitment = false;
    for (int k = 0; k < runs; k++) {
        double t0 = pgi_now();
        if (pg_dispatch_run(w, &o, &r, &err) != PG_OK) {
            fprintf(stderr, "dispatch bench: case2383wp ED: %s\n",
                    pg_error_format(&err, buf, sizeof buf));
            return 3;
        }
        a[k] = pgi_now() - t0;
        c[k] = r->ed_seconds;
        nv = r->n_variables, nc = r->n_constraints, cost = r->total_cost;
        double unserved = r->total_unserved_mwh;
        pg_dispatch_result_free(r);
        if (k == 0)
            printf("case2383wp 24-hour economic dispatch LP, DC network, median of %d:\n"
                   "  LP %zu variables, %zu constraints; cost %.0f $, unserved %.1f MWh\n",
                   runs, nv, nc, cost, unserved);
    }
    printf("  total %.3f s  (LP %.3f s)\n", bench_median(a, runs), bench_median(c, runs));
    pg_world_free(w);
    free(a);
    free(b);
    free(c);
    return 0;
}
