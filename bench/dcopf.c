/* Benchmark of the DC optimal power flow on generated radial feeders (bench/RESULTS.md, "DC
 * OPF"): for each size, the feeder of bench/feeder.h (one generator with a quadratic cost at the
 * reference bus, a load on every other bus, no branch ratings) is solved by pg_dcopf_solve (the
 * exact QP) and scheduled for its one step by pg_dispatch_run (commitment MILP, then the dispatch
 * LP), so that the two can be compared on the same network. Building the feeder is not timed.
 * Prints the median of the runs of each figure, and checks the OPF's answer against its closed
 * form (the generator carries the whole load; every LMP is its marginal cost at that output).
 *
 *   build/bench/dcopf [--runs N] [--sizes N1,N2,...]     (default: 3 runs, 5000,10000,50000)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "core/util.h"
#include "feeder.h"
#include "plurigrid/dispatch.h"

int
main(int argc, char **argv)
{
    int runs = 3;
    const char *sizes = "5000,10000,50000";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--sizes") == 0 && i + 1 < argc)
            sizes = argv[++i];
        else {
            fprintf(stderr, "usage: dcopf [--runs N] [--sizes N1,N2,...]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > 1000)
        return 2;
    double *a = calloc((size_t)runs, sizeof *a), *b = calloc((size_t)runs, sizeof *b),
           *c = calloc((size_t)runs, sizeof *c);
    if (!a || !b || !c)
        return 3;
    pg_error err = {0};
    char buf[1400];
    printf("radial feeder, one generator, no ratings; median of %d\n", runs);
    printf("%8s  %12s  %12s  %12s\n", "buses", "dcopf (s)", "QP solve (s)", "run (s)");
    for (const char *p = sizes; *p;) {
        char *end = NULL;
        long n = strtol(p, &end, 10);
        if (end == p || n < 2 || n > 10000000) {
            fprintf(stderr, "dcopf bench: bad size list '%s'\n", sizes);
            return 2;
        }
        p = *end == ',' ? end + 1 : end;
        pg_world *w = feeder_make((size_t)n, 1, false, NULL, &err);
        if (!w) {
            fprintf(stderr, "dcopf bench: %s\n", pg_error_format(&err, buf, sizeof buf));
            return 3;
        }
        double load = pg_world_load_mw(w, PG_NONE);
        double lmp = FEEDER_C1 + 2 * FEEDER_C2 * load, worst = 0;
        for (int k = 0; k < runs; k++) {
            pg_dcopf_result *r = NULL;
            double t0 = pgi_now();
            if (pg_dcopf_solve(w, NULL, &r, &err) != PG_OK) {
                fprintf(stderr, "dcopf bench: %ld buses: %s\n", n,
                        pg_error_format(&err, buf, sizeof buf));
                return 3;
            }
            a[k] = pgi_now() - t0;
            b[k] = r->seconds;
            for (size_t i = 0; i < r->n_buses; i++)
                worst = fmax(worst, fabs(r->lmp[i] - lmp));
            worst = fmax(worst, fabs(r->pg[0] - load));
            pg_dcopf_result_free(r);
            pg_dispatch_result *d = NULL;
            t0 = pgi_now();
            if (pg_dispatch_run(w, NULL, &d, &err) != PG_OK) {
                fprintf(stderr, "dcopf bench: %ld buses: run: %s\n", n,
                        pg_error_format(&err, buf, sizeof buf));
                return 3;
            }
            c[k] = pgi_now() - t0;
            pg_dispatch_result_free(d);
        }
        printf("%8ld  %12.3f  %12.3f  %12.3f\n", n, bench_median(a, runs), bench_median(b, runs),
               bench_median(c, runs));
        if (worst > 1e-6) {
            fprintf(stderr, "dcopf bench: %ld buses: the answer is off its closed form by %g\n", n,
                    worst);
            return 3;
        }
        pg_world_free(w);
    }
    free(a);
    free(b);
    free(c);
    return 0;
}
