/* plurigrid game: runs a scenario file ("plurigrid-scenario/1") many times and prints its
 * resilience report, optionally with SVG charts; a classic-game file ("plurigrid-game/1") is
 * analysed instead (equilibria, checks, learning; see docs/open-games.md). The file is read once
 * (a pipe, a FIFO or standard input as well as a file) and its "format" says which it is.
 *
 * Text from a file (names, descriptions) can hold control characters; they are shown escaped
 * ("\x1b") in every text this command prints, so that a file cannot drive the terminal. JSON
 * output escapes them its own way. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "plurigrid/game.h"
#include "plurigrid/scenario.h"

/* The larger of the two formats' input limits: the file is read before its kind is known. */
#define GAME_INPUT_MAX                                                                             \
    (PG_GAME_INPUT_MAX > PG_SCENARIO_INPUT_MAX ? PG_GAME_INPUT_MAX : PG_SCENARIO_INPUT_MAX)

static void
usage(FILE *f)
{
    fprintf(f,
            "Usage: plurigrid game SCENARIO.json [--runs N] [--turns T] [--seed S] [--threads K]\n"
            "                      [--plot DIR] [--json FILE|-] [--progress]\n"
            "       plurigrid game GAME.json [--seed S] [--rounds N] [--tol X] [--no-learning]\n"
            "                      [--json FILE|-] [--progress]\n"
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
            "The file may be a pipe or a FIFO; '-' reads standard input.\n"
            "\n"
            "Scenario options:\n"
            "  --runs N      number of runs, 1 to %zu (default: the file's \"runs\"); runs x\n"
            "                (turns + 1) may be at most %zu\n"
            "  --turns T     turns per run, 1 to %zu (default: the file's \"turns\")\n"
            "  --seed S      random seed (default: the file's \"seed\"); a seed gives the same\n"
            "                results whatever the number of threads\n"
            "  --threads K   worker threads, 1 to 256 (default: the number of processors)\n"
            "  --plot DIR    write SVG charts and the report (report.json, report.txt) into DIR,\n"
            "                creating it if needed\n"
            "\n"
            "Classic-game options:\n"
            "  --seed S      seed of the learning runs (default 1)\n"
            "  --rounds N    learning rounds of every run, 1 to %zu (default: each run's own)\n"
            "  --tol X       equilibrium tolerance, absolute payoff (default 1e-9)\n"
            "  --no-learning skip the learning dynamics\n"
            "\n"
            "Both:\n"
            "  --json FILE|- write the report as JSON to FILE ('-': standard output, instead of\n"
            "                the text report); FILE is replaced whole or not at all\n"
            "  --progress    show progress on standard error even when it is not a terminal\n"
            "  -h, --help    show this help\n"
            "\n"
            "Exit status: 0 done, 1 an expectation in a classic-game file does not hold,\n"
            "2 bad input or usage (a file that cannot be read or written included), 3 internal\n"
            "failure.\n",
            PG_SCENARIO_MAX_RUNS, PG_SCENARIO_MAX_VALUES, PG_SCENARIO_MAX_TURNS,
            PG_GAME_MAX_ROUNDS);
}

/* ---------------------------------------------------------------- printing text safely */

/* ---------------------------------------------------------------- progress */

/* ud: the count shown last, so that the final count (reported by the last block and again at
 * the end) is printed once. */
static void
scenario_progress(size_t done, size_t total, void *ud)
{
    size_t *shown = ud;
    if (done == *shown)
        return;
    *shown = done;
    fprintf(stderr, "\rplurigrid game: %zu/%zu runs (%3.0f%%)%s", done, total,
            total ? 100.0 * (double)done / (double)total : 100.0, done == total ? "\n" : "");
    fflush(stderr);
}

static void
learning_progress(const char *what, size_t done, size_t total, void *ud)
{
    (void)ud;
    fprintf(stderr, "\rplurigrid game: %s: %zu/%zu rounds (%3.0f%%)%s", what, done, total,
            total ? 100.0 * (double)done / (double)total : 100.0, done == total ? "\n" : "");
    fflush(stderr);
}

/* ---------------------------------------------------------------- output */

/* The JSON report to FILE (replaced whole or not at all) or to standard output ("-"). */
static int
write_json(const char *path, const char *json)
{
    pg_error err = {0};
    if (pg_output_write(path, json, strlen(json), &err))
        return pg_cli_report("game", &err);
    return PG_EXIT_OK;
}

/* A classic-game file: analyse it with the game library and print its report. */
static int
run_classic(const char *text, size_t len, const char *name, const pg_game_options *go,
            const char *json_path)
{
    pg_error err = {0};
    pg_game_report *rep = NULL;
    char *json = NULL, *report = NULL;
    int code = PG_EXIT_OK;
    if (pg_game_text_analyze(text, len, name, go, &rep, &err) ||
        (json_path && pg_game_report_json(rep, &json, &err)) ||
        pg_game_report_text(rep, &report, &err)) {
        code = pg_cli_report("game", &err);
        goto out;
    }
    if (json_path && (code = write_json(json_path, json)) != PG_EXIT_OK)
        goto out;
    if (!json_path || strcmp(json_path, "-") != 0)
        pg_cli_put_safe(stdout, report, true);
    if (rep->n_failed) {
        fprintf(stderr, "plurigrid game: %zu expectation%s in ", rep->n_failed,
                rep->n_failed == 1 ? "" : "s");
        pg_cli_put_safe(stderr, name, false);
        fputs(" did not hold\n", stderr);
        code = PG_EXIT_FAIL;
    }
out:
    free(json);
    free(report);
    pg_game_report_free(rep);
    return code;
}

/* A text file into dir, whole or not at all. */
static int
write_into(const char *dir, const char *file, const char *text, pg_error *err)
{
    char path[4200];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, file) >= sizeof path)
        return pg_error_set(err, PG_EINVAL, "the folder name '%s' is too long", dir);
    return pg_output_write(path, text, strlen(text), err);
}

/* The text report as the command prints it: control characters escaped. */
static char *
safe_copy(const char *text)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f)
        return NULL;
    pg_cli_put_safe(f, text, true);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int
run_scenario(const char *text, size_t len, const char *name, pg_scenario_options *o,
             const char *json_path, const char *plot_dir)
{
    pg_error err = {0};
    pg_scenario *sc = NULL;
    pg_scenario_result *res = NULL;
    char *json = NULL, *report = NULL, *safe = NULL;
    int code = PG_EXIT_OK;
    if (pg_scenario_parse(text, len, name, &sc, &err) || pg_scenario_run(sc, o, &res, &err) ||
        pg_scenario_report_json(res, &json, &err) || pg_scenario_report_text(res, &report, &err)) {
        code = pg_cli_report("game", &err);
        goto out;
    }
    if (!(safe = safe_copy(report))) {
        fprintf(stderr, "plurigrid game: out of memory\n");
        code = PG_EXIT_INTERNAL;
        goto out;
    }
    char dir[4096];
    if (plot_dir) {
        /* "out/" and "out" name the same folder; drop trailing slashes for tidy paths */
        snprintf(dir, sizeof dir, "%s", plot_dir);
        for (size_t n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--)
            dir[n - 1] = '\0';
        plot_dir = dir;
        if (pg_cli_make_dirs(plot_dir) != 0) {
            fprintf(stderr, "plurigrid game: cannot create the folder '%s': %s\n", plot_dir,
                    strerror(errno));
            code = PG_EXIT_USAGE;
            goto out;
        }
        if (pg_scenario_write_plots(res, plot_dir, &err) ||
            write_into(plot_dir, "report.json", json, &err) ||
            write_into(plot_dir, "report.txt", safe, &err)) {
            code = pg_cli_report("game", &err);
            goto out;
        }
    }
    if (json_path && (code = write_json(json_path, json)) != PG_EXIT_OK)
        goto out;
    if (!json_path || strcmp(json_path, "-") != 0) {
        fputs(safe, stdout);
        if (plot_dir) {
            fputs("\nCharts and report written to ", stdout);
            pg_cli_put_safe(stdout, plot_dir, false);
            fputs("/\n", stdout);
        }
    }
out:
    free(json);
    free(report);
    free(safe);
    pg_scenario_result_free(res);
    pg_scenario_free(sc);
    return code;
}

int
pg_cmd_game(int argc, char **argv)
{
    const char *file = NULL, *plot_dir = NULL, *json_path = NULL;
    const char *scenario_only = NULL, *classic_only = NULL;
    bool show_progress = isatty(STDERR_FILENO);
    pg_game_options go;
    pg_game_options_init(&go);
    pg_scenario_options o;
    pg_scenario_options_init(&o);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    o.threads = ncpu > 0 ? (size_t)(ncpu < 64 ? ncpu : 64) : 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long long v = 0;
        if (pg_cli_is_help(a)) {
            usage(stdout);
            return PG_EXIT_OK;
        } else if (strcmp(a, "--json") == 0) {
            if (!next) {
                fprintf(stderr, "plurigrid game: --json needs a file name, or '-' for standard "
                                "output\n");
                return PG_EXIT_USAGE;
            }
            json_path = argv[++i];
        } else if (strcmp(a, "--progress") == 0) {
            show_progress = true;
        } else if (strcmp(a, "--seed") == 0) {
            if (pg_cli_count_option("game", a, next, 0, INT64_MAX, &v))
                return PG_EXIT_USAGE;
            i++;
            o.set_seed = true;
            o.seed = v;
            go.seed = v;
        } else if (strcmp(a, "--runs") == 0) {
            if (pg_cli_count_option("game", a, next, 1, PG_SCENARIO_MAX_RUNS, &v))
                return PG_EXIT_USAGE;
            i++;
            o.runs = (size_t)v;
            scenario_only = a;
        } else if (strcmp(a, "--turns") == 0) {
            if (pg_cli_count_option("game", a, next, 1, PG_SCENARIO_MAX_TURNS, &v))
                return PG_EXIT_USAGE;
            i++;
            o.turns = (size_t)v;
            scenario_only = a;
        } else if (strcmp(a, "--threads") == 0) {
            if (pg_cli_count_option("game", a, next, 1, 256, &v))
                return PG_EXIT_USAGE;
            i++;
            o.threads = (size_t)v;
            scenario_only = a;
        } else if (strcmp(a, "--rounds") == 0) {
            if (pg_cli_count_option("game", a, next, 1, PG_GAME_MAX_ROUNDS, &v))
                return PG_EXIT_USAGE;
            i++;
            go.rounds = (size_t)v;
            classic_only = a;
        } else if (strcmp(a, "--tol") == 0) {
            double x = -1;
            if (!next || !pg_cli_parse_double(next, &x) || !(x >= 0) || x > 1e300) {
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
            if (!next) {
                fprintf(stderr, "plurigrid game: --plot needs a folder\n");
                return PG_EXIT_USAGE;
            }
            plot_dir = argv[++i];
            scenario_only = a;
        } else if (a[0] == '-' && a[1]) {
            fputs("plurigrid game: unknown option '", stderr);
            pg_cli_put_safe(stderr, a, false);
            fputs("' (see plurigrid game --help)\n", stderr);
            return PG_EXIT_USAGE;
        } else if (!file) {
            file = a;
        } else {
            fputs("plurigrid game: give one game or scenario file (got '", stderr);
            pg_cli_put_safe(stderr, file, false);
            fputs("' and '", stderr);
            pg_cli_put_safe(stderr, a, false);
            fputs("')\n", stderr);
            return PG_EXIT_USAGE;
        }
    }
    if (!file) {
        usage(stderr);
        return PG_EXIT_USAGE;
    }

    /* One read, whatever the file is; its "format" says which reader takes the text. */
    pg_error err = {0};
    char *text = NULL;
    size_t len = 0;
    if (pg_input_read(file, GAME_INPUT_MAX, &text, &len, &err))
        return pg_cli_report("game", &err);
    const char *name = strcmp(file, "-") == 0 ? "standard input" : file;
    int code;
    if (pg_game_text_is_classic(text, len)) {
        if (scenario_only) {
            fprintf(stderr, "plurigrid game: %s applies to scenario files; ", scenario_only);
            pg_cli_put_safe(stderr, name, false);
            fputs(" is a classic game\n", stderr);
            code = PG_EXIT_USAGE;
        } else {
            if (show_progress)
                go.progress = learning_progress;
            code = run_classic(text, len, name, &go, json_path);
        }
    } else if (classic_only) {
        fprintf(stderr, "plurigrid game: %s applies to classic-game files (plurigrid-game/1)\n",
                classic_only);
        code = PG_EXIT_USAGE;
    } else {
        size_t shown = 0;
        if (show_progress) {
            o.progress = scenario_progress;
            o.progress_ud = &shown;
        }
        code = run_scenario(text, len, name, &o, json_path, plot_dir);
    }
    free(text);
    return code;
}
