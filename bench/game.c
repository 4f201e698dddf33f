/* Scenario-simulator benchmark: the Georgian energy-market scenario, 10,000 runs of 100 turns
 * (the target: <= 10 s on 2 cores), timed with 1 and 2 threads (or the counts given),
 * plus the report and a single-thread figure per run and per turn. Prints medians; figures go in
 * bench/RESULTS.md. Run from the repository root (as `make bench` does) or give the file.
 *
 *   build/bench/game [--repeat N] [--runs R] [--turns T] [--threads K ...] [SCENARIO.json]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "core/util.h"
#include "plurigrid/scenario.h"

int
main(int argc, char **argv)
{
    const char *file = "examples/games/georgia.json";
    int repeat = 3;
    size_t runs = 10000, turns = 100, threads[8] = {1, 2}, n_threads = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = (size_t)strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--turns") == 0 && i + 1 < argc)
            turns = (size_t)strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc && n_threads < 8)
            threads[n_threads++] = (size_t)strtoull(argv[++i], NULL, 10);
        else if (argv[i][0] != '-')
            file = argv[i];
        else {
            fprintf(stderr, "usage: game [--repeat N] [--runs R] [--turns T] [--threads K ...] "
                            "[SCENARIO.json]\n");
            return 2;
        }
    }
    if (!n_threads)
        n_threads = 2;
    if (repeat < 1 || runs < 1 || turns < 1) {
        fprintf(stderr, "game: --repeat, --runs and --turns must be at least 1\n");
        return 2;
    }
    pg_error err = {0};
    pg_scenario *sc = NULL;
    double t0 = pgi_now();
    if (pg_scenario_read(file, &sc, &err)) {
        char buf[1400];
        fprintf(stderr, "game: %s\n", pg_error_format(&err, buf, sizeof buf));
        return 2;
    }
    double parse_ms = (pgi_now() - t0) * 1e3;
    printf("scenario %s: %zu runs x %zu turns, median of %d\n", pg_scenario_name(sc), runs, turns,
           repeat);
    printf("  parse                 %10.3f ms\n", parse_ms);
    double *t = malloc((size_t)repeat * sizeof *t);
    double one_thread = 0;
    for (size_t k = 0; k < n_threads; k++) {
        pg_scenario_result *res = NULL;
        for (int i = 0; i < repeat; i++) {
            pg_scenario_options o;
            pg_scenario_options_init(&o);
            o.runs = runs;
            o.turns = turns;
            o.threads = threads[k];
            pg_scenario_result_free(res);
            res = NULL;
            double s = pgi_now();
            if (pg_scenario_run(sc, &o, &res, &err)) {
                fprintf(stderr, "game: %s\n", err.msg);
                return 3;
            }
            t[i] = pgi_now() - s;
        }
        double m = bench_median(t, repeat);
        if (threads[k] == 1)
            one_thread = m;
        printf("  run, %zu thread%s        %10.3f s   (%.2f us per run-turn)%s\n", threads[k],
               threads[k] == 1 ? " " : "s", m, m * 1e6 / (double)runs / (double)turns,
               threads[k] == 2 ? "   target <= 10 s" : "");
        if (k + 1 == n_threads) {
            char *json = NULL, *text = NULL;
            for (int i = 0; i < repeat; i++) {
                double s = pgi_now();
                if (pg_scenario_report_json(res, &json, &err) ||
                    pg_scenario_report_text(res, &text, &err)) {
                    fprintf(stderr, "game: %s\n", err.msg);
                    return 3;
                }
                t[i] = pgi_now() - s;
                free(json);
                free(text);
            }
            printf("  report (JSON + text)  %10.3f ms\n", bench_median(t, repeat) * 1e3);
        }
        pg_scenario_result_free(res);
    }
    if (one_thread > 0)
        printf("  one run of %zu turns  %10.3f ms (1 thread)\n", turns,
               one_thread * 1e3 / (double)runs);
    free(t);
    pg_scenario_free(sc);
    return 0;
}
