/* plurigrid game: runs a scenario file ("plurigrid-scenario/1") many times and prints its
 * resilience report, optionally with SVG charts. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "plurigrid/scenario.h"

static void
usage(FILE *f)
{
    fprintf(f,
            "Usage: plurigrid game SCENARIO.json [--runs N] [--turns T] [--seed S] [--threads K]\n"
            "                      [--plot DIR] [--json]\n"
            "\n"
            "Runs a scenario (format plurigrid-scenario/1, see docs/scenarios.md) N times and\n"
            "prints its resilience report: robustness, time to recover, loss area, recovery\n"
            "rate, final level and the probability of recovering, over all runs and per\n"
            "strategy profile, initial conditions and agent behaviour, ranked by effect.\n"
            "\n"
            "Options:\n"
            "  --runs N      number of runs (default: the file's \"runs\")\n"
            "  --turns T     turns per run (default: the file's \"turns\")\n"
            "  --seed S      random seed (default: the file's \"seed\"); a seed gives the same\n"
            "                results whatever the number of threads\n"
            "  --threads K   worker threads (default: the number of processors)\n"
            "  --plot DIR    write SVG charts and the report (report.json, report.txt) into DIR,\n"
            "                creating it if needed\n"
            "  --json        print the report as JSON\n"
            "  -h, --help    show this help\n"
            "\n"
            "Exit status: 0 done, 2 bad input or usage, 3 internal failure.\n");
}

static int
parse_count(const char *opt, const char *s, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    if (!s || !*s || *s == '-') {
        fprintf(stderr, "plurigrid game: %s needs a whole number\n", opt);
        return -1;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max) {
        fprintf(stderr, "plurigrid game: %s '%s' is not a whole number from 0 to %llu\n", opt, s,
                (unsigned long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

/* mkdir -p */
static int
make_dirs(const char *path)
{
    char buf[4096];
    if (strlen(path) >= sizeof buf)
        return -1;
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return -1;
    struct stat st;
    return (stat(buf, &st) == 0 && S_ISDIR(st.st_mode)) ? 0 : -1;
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

int
pg_cmd_game(int argc, char **argv)
{
    const char *file = NULL, *plot_dir = NULL;
    bool json = false;
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
            uint64_t max = strcmp(a, "--seed") == 0     ? (uint64_t)INT64_MAX
                           : strcmp(a, "--threads") == 0 ? 256
                           : strcmp(a, "--turns") == 0   ? 100000
                                                         : 100000000;
            if (parse_count(a, i + 1 < argc ? argv[i + 1] : NULL, max, &v))
                return PG_EXIT_USAGE;
            i++;
            if (strcmp(a, "--seed") == 0) {
                o.set_seed = true;
                o.seed = v;
            } else if (v == 0) {
                fprintf(stderr, "plurigrid game: %s must be at least 1\n", a);
                return PG_EXIT_USAGE;
            } else if (strcmp(a, "--runs") == 0) {
                o.runs = (size_t)v;
            } else if (strcmp(a, "--turns") == 0) {
                o.turns = (size_t)v;
            } else {
                o.threads = (size_t)v;
            }
        } else if (strcmp(a, "--plot") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "plurigrid game: --plot needs a directory\n");
                return PG_EXIT_USAGE;
            }
            plot_dir = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "plurigrid game: unknown option '%s' (see plurigrid game --help)\n",
                    a);
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
    if (pg_scenario_run(sc, &o, &res, &err) ||
        pg_scenario_report_json(res, &report, &err) ||
        pg_scenario_report_text(res, &text, &err)) {
        code = pg_cli_report("game", &err);
        goto out;
    }
    if (plot_dir) {
        if (make_dirs(plot_dir) != 0) {
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
