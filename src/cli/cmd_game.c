/* plurigrid game: runs a scenario file ("plurigrid-scenario/1") many times and prints its
 * resilience report, optionally with SVG charts; a classic-game file ("plurigrid-game/1") is
 * analysed instead (equilibria, checks, learning; see docs/open-games.md). */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "plurigrid/game.h"
#include "plurigrid/scenario.h"

static void
usage(FILE *f)
{
    fprintf(f,
            "Usage: plurigrid game SCENARIO.json [--runs N] [--turns T] [--seed S] [--threads K]\n"
            "                      [--plot DIR] [--json]\n"
            "       plurigrid game GAME.json [--seed S] [--rounds N] [--tol X] [--no-learning]\n"
            "                      [--json]\n"
            "\n"
            "Runs a scenario (format plurigrid-scenario/1, see docs/scenarios.md) N times and\n"
            "prints its resilience report: robustness, time to recover, loss area, recovery\n"
            "rate, final level and the probability of recovering, over all runs and per\n"
            "strategy profile, initial conditions and agent behaviour, ranked by effect.\n"
            "\n"
            "A classic game (format plurigrid-game/1, see docs/open-games.md) is analysed\n"
            "instead: the profiles it names are checked for equilibrium, equilibria are\n"
            "enumerated where the kind allows, and learning dynamics are run.\n"
            "\n"
            "Scenario options:\n"
            "  --runs N      number of runs (default: the file's \"runs\")\n"
            "  --turns T     turns per run (default: the file's \"turns\")\n"
            "  --seed S      random seed (default: the file's \"seed\"); a seed gives the same\n"
            "                results whatever the number of threads\n"
            "  --threads K   worker threads (default: the number of processors)\n"
            "  --plot DIR    write SVG charts and the report (report.json, report.txt) into DIR,\n"
            "                creating it if needed\n"
            "  --json        print the report as JSON\n"
            "\n"
            "Classic-game options:\n"
            "  --seed S      seed of the learning runs (default 1)\n"
            "  --rounds N    learning rounds (default: each run's own)\n"
            "  --tol X       equilibrium tolerance, absolute payoff (default 1e-9)\n"
            "  --no-learning skip the learning dynamics\n"
            "  --json        print the analysis as JSON\n"
            "\n"
            "  -h, --help    show this help\n"
            "\n"
            "Exit status: 0 done, 1 an expectation in a classic-game file does not hold,\n"
            "2 bad input or usage, 3 internal failure.\n");
}

static int
parse_count(const char *opt, const char *s, uint64_t max, uint64_t *out)
{
    unsigned long long v = 0;
    if (!s || !*s || *s == '-') {
        fprintf(stderr, "plurigrid game: %s needs a whole number\n", opt);
        return -1;
    }
    if (!pg_cli_parse_count(s, max, &v)) {
        fprintf(stderr, "plurigrid game: %s '%s' is not a whole number from 0 to %llu\n", opt, s,
                (unsigned long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

static int
write_text(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    ok &= fclose(f) == 0;
    return ok ? 0 : -1;
}

static void
progress(size_t done, size_t total, void *ud)
{
    (void)ud;
    fprintf(stderr, "\rplurigrid game: %zu/%zu runs (%3.0f%%)%s", done, total,
            total ? 100.0 * (double)done / (double)total : 100.0, done == total ? "\n" : "");
    fflush(stderr);
}

/* A classic-game file: analyse it with the game library and print its report. */
static int
run_classic(const char *file, const pg_game_options *go, bool json)
{
    pg_error err = {0};
    pg_game_report *rep = NULL;
    char *out = NULL;
    int code = PG_EXIT_OK;
    if (pg_game_file_analyze(file, go, &rep, &err) ||
        (json ? pg_game_report_json(rep, &out, &err) : pg_game_report_text(rep, &out, &err))) {
        code = pg_cli_report("game", &err);
        goto done;
    }
    fputs(out, stdout);
    if (rep->n_failed) {
        fprintf(stderr, "plurigrid game: %zu expectation%s in %s did not hold\n", rep->n_failed,
                rep->n_failed == 1 ? "" : "s", file);
        code = PG_EXIT_FAIL;
    }
done:
    free(out);
    pg_game_report_free(rep);
    return code;
}

int
pg_cmd_game(int argc, char **argv)
{
    const char *file = NULL, *plot_dir = NULL, *scenario_only = NULL, *classic_only = NULL;
    bool json = false;
    pg_game_options go;
    pg_game_options_init(&go);
    pg_scenario_options o;
    pg_scenario_options_init(&o);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    o.threads = ncpu > 0 ? (size_t)(ncpu < 64 ? ncpu : 64) : 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        uint64_t v = 0;
        if (pg_cli_is_help(a)) {
            usage(stdout);
            return PG_EXIT_OK;
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--runs") == 0 || strcmp(a, "--turns") == 0 ||
                   strcmp(a, "--threads") == 0 || strcmp(a, "--seed") == 0) {
            uint64_t max = strcmp(a, "--seed") == 0      ? (uint64_t)INT64_MAX
                           : strcmp(a, "--threads") == 0 ? 256
                           : strcmp(a, "--turns") == 0   ? 100000
                                                         : 100000000;
            if (parse_count(a, i + 1 < argc ? argv[i + 1] : NULL, max, &v))
                return PG_EXIT_USAGE;
            i++;
            if (strcmp(a, "--seed") == 0) {
                o.set_seed = true;
                o.seed = v;
                go.seed = v;
            } else if (v == 0) {
                fprintf(stderr, "plurigrid game: %s must be at least 1\n", a);
                return PG_EXIT_USAGE;
            } else if (strcmp(a, "--runs") == 0) {
                o.runs = (size_t)v;
                scenario_only = a;
            } else if (strcmp(a, "--turns") == 0) {
                o.turns = (size_t)v;
                scenario_only = a;
            } else {
                o.threads = (size_t)v;
                scenario_only = a;
            }
        } else if (strcmp(a, "--rounds") == 0) {
            uint64_t r = 0;
            if (parse_count(a, i + 1 < argc ? argv[i + 1] : NULL, 1000000000, &r))
                return PG_EXIT_USAGE;
            i++;
            go.rounds = (size_t)r;
            classic_only = a;
        } else if (strcmp(a, "--tol") == 0) {
            double x = -1;
            if (i + 1 >= argc || !pg_cli_parse_double(argv[i + 1], &x) || !(x >= 0) || x > 1e300) {
                fprintf(stderr, "plurigrid game: --tol needs a number >= 0\n");
                return PG_EXIT_USAGE;
            }
            i++;
            go.tolerance = x;
            classic_only = a;
        } else if (strcmp(a, "--no-learning") == 0) {
            go.learning = false;
            classic_only = a;
        } else if (strcmp(a, "--plot") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "plurigrid game: --plot needs a directory\n");
                return PG_EXIT_USAGE;
            }
            plot_dir = argv[++i];
            scenario_only = a;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "plurigrid game: unknown option '%s' (see plurigrid game --help)\n", a);
            return PG_EXIT_USAGE;
        } else if (!file) {
            file = a;
        } else {
            fprintf(stderr, "plurigrid game: give one scenario file (got '%s' and '%s')\n", file,
                    a);
            return PG_EXIT_USAGE;
        }
    }
    if (!file) {
        usage(stderr);
        return PG_EXIT_USAGE;
    }
    if (pg_game_file_is_classic(file)) {
        if (scenario_only) {
            fprintf(stderr, "plurigrid game: %s applies to scenario files; %s is a classic game\n",
                    scenario_only, file);
            return PG_EXIT_USAGE;
        }
        return run_classic(file, &go, json);
    }
    if (classic_only) {
        fprintf(stderr, "plurigrid game: %s applies to classic-game files (plurigrid-game/1)\n",
                classic_only);
        return PG_EXIT_USAGE;
    }

    pg_error err = {0};
    pg_scenario *sc = NULL;
    pg_scenario_result *res = NULL;
    char *report = NULL, *text = NULL;
    int code = PG_EXIT_OK;
    if (pg_scenario_read(file, &sc, &err)) {
        code = pg_cli_report("game", &err);
        goto out;
    }
    if (isatty(STDERR_FILENO)) {
        o.progress = progress;
        o.progress_ud = NULL;
    }
    if (pg_scenario_run(sc, &o, &res, &err) || pg_scenario_report_json(res, &report, &err) ||
        pg_scenario_report_text(res, &text, &err)) {
        code = pg_cli_report("game", &err);
        goto out;
    }
    char dir[4096];
    if (plot_dir) {
        /* "out/" and "out" name the same directory; drop trailing slashes for tidy paths */
        snprintf(dir, sizeof dir, "%s", plot_dir);
        for (size_t n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--)
            dir[n - 1] = '\0';
        plot_dir = dir;
        if (pg_cli_make_dirs(plot_dir) != 0) {
            fprintf(stderr, "plurigrid game: cannot create the directory '%s': %s\n", plot_dir,
                    strerror(errno));
            code = PG_EXIT_USAGE;
            goto out;
        }
        if (pg_scenario_write_plots(res, plot_dir, &err)) {
            code = pg_cli_report("game", &err);
            goto out;
        }
        if (write_text(plot_dir, "report.json", report) ||
            write_text(plot_dir, "report.txt", text)) {
            fprintf(stderr, "plurigrid game: cannot write the report into '%s': %s\n", plot_dir,
                    strerror(errno));
            code = PG_EXIT_INTERNAL;
            goto out;
        }
    }
    fputs(json ? report : text, stdout);
    if (plot_dir && !json)
        printf("\nCharts and report written to %s/\n", plot_dir);
out:
    free(report);
    free(text);
    pg_scenario_result_free(res);
    pg_scenario_free(sc);
    return code;
}
