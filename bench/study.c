/* Batch power-flow studies on case2383wp: N-1 contingency analysis (pg_pf_contingency) of the
 * in-service branches whose outage keeps the network connected, each solved from the base-case
 * solution to 1e-8 p.u., and 8760 hourly snapshots (pg_pf_series: loads and thermal generation
 * scaled by a daily profile, each step from the previous step's solution). Each is timed next to
 * our own solve-from-scratch of the same work in the same run: a fresh pg_pf_solve per outage
 * (the outaged world started from the base-case solution) and per step (pg_world_at_step, the
 * same scaling, started from the previous step's solution), and the two are compared: largest
 * voltage difference per outage, largest difference of the step summaries.
 *
 *   build/bench/study [--runs N] [--scratch-runs N | --no-scratch] [--data DIR] [--hours H]
 *
 * The fast figures are the median of N runs (default 5), the from-scratch ones of --scratch-runs
 * (default 1: they take about ten times longer). Times are wall clock and CPU time of the process
 * (the better figure on a busy machine). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "core/util.h"
#include "plurigrid/io.h"
#include "plurigrid/pf.h"

#define MAXRUNS 100

/* CPU time of the process, seconds: on a machine shared with other work, the wall clock also
 * counts the time spent waiting for a core. */
static double
cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void
die(const char *what, const pg_error *err)
{
    char buf[1400];
    fprintf(stderr, "study bench: %s: %s\n", what, pg_error_format(err, buf, sizeof buf));
    exit(1);
}

/* ---------------------------------------------------------------- N-1 */

static void
bench_contingency(const pg_world *w, int runs, int scratch_runs)
{
    static double t[MAXRUNS], u[MAXRUNS];
    pg_error err = {0};
    pg_pf_contingency_options o;
    pg_pf_contingency_options_init(&o);
    /* The outages: every in-service branch whose outage leaves the network connected. */
    pg_pf_contingency_result *all = NULL;
    if (pg_pf_contingency(w, &o, &all, &err))
        die("contingency", &err);
    size_t n = 0, *list = malloc(all->n_outages * sizeof *list);
    for (size_t k = 0; k < all->n_outages; k++)
        if (all->outages[k].status == PG_PF_OUTAGE_SOLVED)
            list[n++] = all->outages[k].branch;
    printf("N-1 of %s: %zu in-service branches, %zu islanding outages, %zu outages to solve\n",
           w->name, all->n_outages, all->n_islanding, n);
    pg_pf_contingency_result_free(all);

    o.branches = list;
    o.n_branches = n;
    o.keep_states = true;
    pg_pf_contingency_result *fast = NULL;
    double base = 0, outages[MAXRUNS];
    for (int r = 0; r < runs; r++) {
        pg_pf_contingency_result_free(fast);
        fast = NULL;
        o.keep_states = r == 0;
        double t0 = pgi_now(), c0 = cpu_now();
        if (pg_pf_contingency(w, &o, &fast, &err))
            die("contingency", &err);
        t[r] = pgi_now() - t0;
        u[r] = cpu_now() - c0;
        outages[r] = fast->time_outages_s;
        base = fast->time_base_s;
        if (r == 0) { /* keep the states of the first run for the comparison */
            pg_pf_contingency_result *keep = fast;
            fast = NULL;
            all = keep;
        }
    }
    pg_pf_contingency_result_free(fast);
    double total = bench_median(t, runs), total_cpu = bench_median(u, runs);
    double per = bench_median(outages, runs);
    long iters = 0;
    size_t conv = 0;
    for (size_t k = 0; k < n; k++) {
        iters += all->outages[k].summary.iterations;
        conv += all->outages[k].summary.converged;
    }

    /* From scratch: the outaged world, started from the base solution, one pg_pf_solve each. */
    pg_world *c = NULL;
    if (pg_world_clone(&c, w, &err))
        die("clone", &err);
    for (size_t b = 0; b < w->n_buses; b++)
        if (all->base->vm[b] > 0) {
            c->buses[b].vm = all->base->vm[b];
            c->buses[b].va = all->base->va[b];
        }
    double dvm = 0, dva = 0;
    long sc_iters = 0;
    size_t sc_conv = 0, differ = 0;
    for (int r = 0; r < scratch_runs; r++) {
        double t0 = pgi_now(), c0 = cpu_now();
        for (size_t k = 0; k < n; k++) {
            pg_pf_result *res = NULL;
            c->branches[list[k]].in_service = false;
            if (pg_pf_solve(c, NULL, &res, &err))
                die("solve", &err);
            c->branches[list[k]].in_service = true;
            if (r == 0) {
                const pg_pf_outage *ou = &all->outages[k];
                sc_iters += res->iterations;
                sc_conv += res->converged;
                differ += res->converged != ou->summary.converged;
                if (res->converged && ou->summary.converged)
                    for (size_t b = 0; b < w->n_buses; b++) {
                        dvm = fmax(dvm, fabs(res->vm[b] - ou->vm[b]));
                        dva = fmax(dva, fabs(res->va[b] - ou->va[b]));
                    }
            }
            pg_pf_result_free(res);
        }
        t[r] = pgi_now() - t0;
        u[r] = cpu_now() - c0;
    }
    double scratch = scratch_runs ? bench_median(t, scratch_runs) : NAN;
    double scratch_cpu = scratch_runs ? bench_median(u, scratch_runs) : NAN;
    printf("  pg_pf_contingency:      %7.3f s wall, %7.3f s CPU (%.3f ms per outage); base case "
           "and bridges %.1f ms, outages %.3f s wall; %zu converged, %.2f iterations per "
           "outage\n",
           total, total_cpu, total_cpu / (double)n * 1e3, base * 1e3, per, conv,
           (double)iters / (double)n);
    printf("  pg_pf_solve per outage: %7.3f s wall, %7.3f s CPU (%.3f ms per outage); %zu "
           "converged, %.2f iterations per outage\n",
           scratch, scratch_cpu, scratch_cpu / (double)n * 1e3, sc_conv,
           (double)sc_iters / (double)n);
    printf("  speed-up %.1fx (CPU); converged differently: %zu; largest |dVm| %.2e p.u., |dVa| "
           "%.2e deg\n",
           scratch_cpu / total_cpu, differ, dvm, dva);
    fflush(stdout);
    pg_world_free(c);
    pg_pf_contingency_result_free(all);
    free(list);
}

/* ---------------------------------------------------------------- time series */

/* Load multiplier at hour h: a daily profile between 0.75 (4 am) and 1.0 (6 pm). */
static double
daily(size_t h)
{
    static const double day[24] = {0.80, 0.78, 0.76, 0.75, 0.75, 0.77, 0.82, 0.88,
                                   0.92, 0.94, 0.95, 0.96, 0.96, 0.95, 0.95, 0.96,
                                   0.98, 0.99, 1.00, 0.99, 0.96, 0.92, 0.87, 0.83};
    return day[h % 24];
}

static void
bench_series(const pg_world *w0, size_t hours, int runs, int scratch_runs)
{
    static double t[MAXRUNS], u[MAXRUNS];
    pg_error err = {0};
    pg_world *w = NULL;
    if (pg_world_clone(&w, w0, &err))
        die("clone", &err);
    double *v = malloc(hours * sizeof *v);
    for (size_t h = 0; h < hours; h++)
        v[h] = daily(h);
    size_t sid;
    if (pg_world_add_series(w, "daily", 1.0, v, hours, &sid, &err))
        die("series", &err);
    free(v);
    for (size_t i = 0; i < w->n_loads; i++)
        w->loads[i].p_series = w->loads[i].q_series = sid;
    pg_pf_series_options o;
    pg_pf_series_options_init(&o);
    pg_pf_summary *fast = NULL;
    size_t n = 0;
    for (int r = 0; r < runs; r++) {
        free(fast);
        fast = NULL;
        double t0 = pgi_now(), c0 = cpu_now();
        if (pg_pf_series(w, &o, &fast, &n, &err))
            die("series", &err);
        t[r] = pgi_now() - t0;
        u[r] = cpu_now() - c0;
    }
    double total = bench_median(t, runs), total_cpu = bench_median(u, runs);
    long iters = 0;
    size_t conv = 0;
    for (size_t k = 0; k < n; k++) {
        iters += fast[k].iterations;
        conv += fast[k].converged;
    }
    /* From scratch: each step's world, the same scaling, the previous solution as the start. */
    double nominal = pg_world_load_mw(w, PG_NONE), dv = 0, dloss = 0;
    long sc_iters = 0;
    size_t sc_conv = 0;
    double *vm = malloc(w->n_buses * sizeof *vm), *va = malloc(w->n_buses * sizeof *va);
    for (int r = 0; r < scratch_runs; r++) {
        bool have = false;
        double t0 = pgi_now(), c0 = cpu_now();
        for (size_t k = 0; k < n; k++) {
            pg_world *ws = NULL;
            if (pg_world_at_step(&ws, w, k, &err))
                die("step", &err);
            double f = pg_world_load_mw(w, k) / nominal;
            for (size_t g = 0; g < ws->n_thermals; g++)
                ws->thermals[g].p *= f;
            for (size_t b = 0; have && b < ws->n_buses; b++)
                if (vm[b] > 0) {
                    ws->buses[b].vm = vm[b];
                    ws->buses[b].va = va[b];
                }
            pg_pf_result *res = NULL;
            if (pg_pf_solve(ws, NULL, &res, &err))
                die("solve", &err);
            have = res->converged;
            memcpy(vm, res->vm, w->n_buses * sizeof *vm);
            memcpy(va, res->va, w->n_buses * sizeof *va);
            if (r == 0) {
                pg_pf_summary s;
                pg_pf_summarize(ws, res, PG_PF_RATE_A, &s);
                sc_iters += s.iterations;
                sc_conv += s.converged;
                dv = fmax(dv,
                          fmax(fabs(s.vm_min - fast[k].vm_min), fabs(s.vm_max - fast[k].vm_max)));
                dloss = fmax(dloss, fabs(s.loss_p - fast[k].loss_p));
            }
            pg_pf_result_free(res);
            pg_world_free(ws);
        }
        t[r] = pgi_now() - t0;
        u[r] = cpu_now() - c0;
    }
    double scratch = scratch_runs ? bench_median(t, scratch_runs) : NAN;
    double scratch_cpu = scratch_runs ? bench_median(u, scratch_runs) : NAN;
    printf("%zu hourly snapshots of %s (daily profile 0.75-1.0)\n", n, w->name);
    printf("  pg_pf_series:         %7.3f s wall, %7.3f s CPU (%.3f ms per step); %zu "
           "converged, %.2f iterations per step\n",
           total, total_cpu, total_cpu / (double)n * 1e3, conv, (double)iters / (double)n);
    printf("  pg_pf_solve per step: %7.3f s wall, %7.3f s CPU (%.3f ms per step); %zu "
           "converged, %.2f iterations per step\n",
           scratch, scratch_cpu, scratch_cpu / (double)n * 1e3, sc_conv,
           (double)sc_iters / (double)n);
    printf("  speed-up %.1fx (CPU); largest difference of vm_min/vm_max %.2e p.u., of losses "
           "%.2e MW\n",
           scratch_cpu / total_cpu, dv, dloss);
    fflush(stdout);
    free(vm);
    free(va);
    free(fast);
    pg_world_free(w);
}

int
main(int argc, char **argv)
{
    const char *dir = "../shared/data";
    int runs = 5, scratch_runs = 1;
    size_t hours = 8760;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--scratch-runs") && i + 1 < argc)
            scratch_runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--data") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--no-scratch"))
            scratch_runs = 0;
        else if (!strcmp(argv[i], "--hours") && i + 1 < argc)
            hours = (size_t)atol(argv[++i]);
        else {
            fprintf(stderr,
                    "usage: study [--runs N] [--scratch-runs N | --no-scratch] [--data DIR] "
                    "[--hours H]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > MAXRUNS || scratch_runs < 0 || scratch_runs > MAXRUNS || hours < 1) {
        fprintf(stderr, "study bench: runs must be 1 to %d, hours at least 1\n", MAXRUNS);
        return 2;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/matpower/cases/case2383wp.m", dir);
    pg_error err = {0};
    pg_world *w = NULL;
    if (pg_matpower_read_file(path, &w, NULL, &err))
        die(path, &err);
    bench_contingency(w, runs, scratch_runs);
    bench_series(w, hours, runs, scratch_runs);
    pg_world_free(w);
    return 0;
}
