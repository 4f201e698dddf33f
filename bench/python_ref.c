/* The C side of the Python package's benchmark (bench/python.py runs both, alternating):
 * the same loops as the Python ones, through the same shared library and public API.
 *
 *   build/bench/python_ref warm CASE.m N [dc]
 *       N warm solves of the case with one pg_pf_solver (each result freed), AC or (dc) DC;
 *       prints the median CPU time of one call (solve + free; this thread's CPU time, which
 *       other jobs of a busy machine do not add to), in microseconds.
 *   build/bench/python_ref series CASE.m STEPS FACTORS.bin
 *       STEPS snapshots: at step k every load i is set to p0[i] * (f[k] * h[(i + k) % 24]) (and
 *       q likewise), with f (STEPS doubles) then h (24 doubles) read from FACTORS.bin, and the
 *       power flow solved with one reused solver; prints the loop's wall time in seconds, the
 *       iterations summed over the steps, the steps that converged and the sum of the losses
 *       (so python.py can check both loops did the same work), and the loop's CPU time.
 *
 * This program links the shared library (not the static one the other benchmarks use), as the
 * Python package loads it, and solves a copy of the world read (pg_world_clone), as PowerFlow
 * does. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "plurigrid/io.h"
#include "plurigrid/pf.h"

static double
clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Wall time, and the CPU time of this thread: on a busy machine the time other jobs take the
 * processor from this one counts in the first and not in the second. */
static double
now(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

static double
cpu(void)
{
    return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

static void
die(const char *what, const pg_error *err)
{
    char buf[1400];
    fprintf(stderr, "python_ref: %s: %s\n", what, err ? pg_error_format(err, buf, sizeof buf) : "");
    exit(1);
}

static int
warm(const pg_world *w, int n, bool dc)
{
    pg_error err = {0};
    pg_pf_solver *s = NULL;
    pg_pf_result *r = NULL;
    pg_pf_options o;
    pg_pf_options_init(&o);
    o.dc = dc;
    double *t = malloc((size_t)n * sizeof *t);
    if (!t)
        die("out of memory", NULL);
    if (pg_pf_solver_new(&s, &o, &err) || pg_pf_solver_solve(s, w, &r, &err))
        die("solve", &err);
    pg_pf_result_free(r);
    for (int i = 0; i < n; i++) {
        double t0 = cpu();
        if (pg_pf_solver_solve(s, w, &r, &err))
            die("solve", &err);
        pg_pf_result_free(r);
        t[i] = cpu() - t0;
    }
    printf("%.3f\n", 1e6 * bench_median(t, n));
    free(t);
    pg_pf_solver_free(s);
    return 0;
}

static int
series(pg_world *w, long steps, const char *factors)
{
    double *f = malloc(((size_t)steps + 24) * sizeof *f);
    double *p0 = malloc((w->n_loads ? w->n_loads : 1) * sizeof *p0);
    double *q0 = malloc((w->n_loads ? w->n_loads : 1) * sizeof *q0);
    FILE *in = fopen(factors, "rb");
    if (!f || !p0 || !q0 || !in ||
        fread(f, sizeof *f, (size_t)steps + 24, in) != (size_t)steps + 24)
        die("cannot read the factors file", NULL);
    fclose(in);
    const double *h = f + steps;
    for (size_t i = 0; i < w->n_loads; i++) {
        p0[i] = w->loads[i].p;
        q0[i] = w->loads[i].q;
    }
    pg_error err = {0};
    pg_pf_solver *s = NULL;
    if (pg_pf_solver_new(&s, NULL, &err))
        die("solver", &err);
    long iterations = 0, converged = 0;
    double losses = 0;
    double t0 = now(), c0 = cpu();
    for (long k = 0; k < steps; k++) {
        for (size_t i = 0; i < w->n_loads; i++) {
            double x = f[k] * h[(i + (size_t)k) % 24];
            w->loads[i].p = p0[i] * x;
            w->loads[i].q = q0[i] * x;
        }
        pg_pf_result *r = NULL;
        if (pg_pf_solver_solve(s, w, &r, &err))
            die("solve", &err);
        iterations += r->iterations;
        converged += r->converged;
        losses += r->loss_p;
        pg_pf_result_free(r);
    }
    double t1 = now(), c1 = cpu();
    printf("%.6f %ld %ld %.17g %.6f\n", t1 - t0, iterations, converged, losses, c1 - c0);
    pg_pf_solver_free(s);
    free(f);
    free(p0);
    free(q0);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[1], "warm") != 0 && strcmp(argv[1], "series") != 0) ||
        (strcmp(argv[1], "series") == 0 && argc < 5)) {
        fprintf(stderr, "usage: python_ref warm CASE.m N [dc] | series CASE.m STEPS FACTORS.bin\n");
        return 2;
    }
    pg_error err = {0};
    pg_world *read = NULL, *w = NULL;
    /* A copy, as PowerFlow solves a copy of the world it is given: the same memory layout. */
    if (pg_world_read(argv[2], NULL, &read, NULL, &err) || pg_world_clone(&w, read, &err))
        die(argv[2], &err);
    pg_world_free(read);
    long n = strtol(argv[3], NULL, 10);
    if (n < 1 || n > 1000000)
        die("N or STEPS must be from 1 to 1000000", NULL);
    int rc = strcmp(argv[1], "warm") == 0 ? warm(w, (int)n, argc > 4 && strcmp(argv[4], "dc") == 0)
                                          : series(w, n, argv[4]);
    pg_world_free(w);
    return rc;
}
