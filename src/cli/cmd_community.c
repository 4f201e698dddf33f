/* plurigrid community: plays a community scenario (plurigrid-community/1, docs/community.md):
 * every variant with its market and with the market off (the baseline), and prints the report
 * side by side; JSON, CSV and SVG charts on request, through the library's printers and its one
 * atomic writer. Progress (runs done) goes to standard error only on a terminal. With --nats the
 * runs are played on NATS servers, every node of the community hosted by this process, and the
 * lattice's events are logged to standard error (lattice_opts.h). */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/lattice_opts.h"
#include "plurigrid/community.h"
#include "plurigrid/privacy.h"

#define CMD "community"

static void
usage(FILE *f)
{
    fprintf(f,
            "Usage: plurigrid community SCENARIO.json [--data DIR] [--days N] [--start-day D]\n"
            "                           [--seed S] [--market none|uniform|pay-as-bid|continuous]\n"
            "                           [--threads K] [--json FILE|-] [--csv FILE|-] [--plot DIR]\n"
            "                           [--nats URL[,URL...] [--session TOKEN]\n"
            "                            [--connections shared|per-node] [--log-level LEVEL]\n"
            "                            [--clock simulation|wall] [--interval-s S]]\n"
            "                           [--ledger DIR [--ledger-sync-s S]] [--private]\n"
            "\n"
            "Plays a community of nodes (homes, buildings, off-grid systems) interval by\n"
            "interval: each node plans its devices and bids, a market operator clears the bids\n"
            "(a double auction among neighbours, the grid as the outside option; against the\n"
            "feeder's limits when the scenario names one), the nodes run their devices and are\n"
            "settled. Every variant of the scenario is played with the market and without it\n"
            "(the baseline: every node trades with the grid alone), and the report shows both\n"
            "side by side: energy traded, bills, revenues, self-sufficiency, local use of solar\n"
            "energy, peak import, demand response delivered, unserved energy. The format and\n"
            "the metrics are in docs/community.md.\n"
            "\n"
            "Options:\n"
            "  --data DIR     the scenario's data folder (default: the scenario's \"data.dir\",\n"
            "                 relative to the scenario file)\n"
            "  --days N       days to play (default: all the data from the start day)\n"
            "  --start-day D  first day to play, counted from the data's first row (default 0)\n"
            "  --seed S       random seed (default: the scenario's \"seed\"); the same seed gives\n"
            "                 the same report\n"
            "  --market M     the mechanism: uniform, pay-as-bid, continuous, or none (the\n"
            "                 baseline only); default: the scenario's\n"
            "  --threads K    runs played at once, 1 to %d (default 2); the report does not\n"
            "                 depend on it\n"
            "  --json FILE|-  write the report as JSON (plurigrid-community-report/1) to FILE, or\n"
            "                 to standard output for '-' (the text report is then not printed)\n"
            "  --csv FILE|-   write one row of metrics per variant, run and node as CSV\n"
            "  --plot DIR     write flows-, prices- and bills-VARIANT.svg into DIR (created if\n"
            "                 missing)\n"
            "  --progress     show progress on standard error even when it is not a terminal\n"
            "  -h, --help     show this help\n"
            "\n"
            "On the lattice (docs/lattice.md): the same runs over NATS, every node in this\n"
            "process, with the same results as in process:\n"
            "  --nats URLS    the NATS servers, comma-separated (nats://127.0.0.1:4222)\n"
            "  --session TOKEN  a token in the subjects, to keep runs of one community apart\n"
            "                 on one server (letters, digits, '-', '_')\n"
            "  --connections C  shared (default: one connection for every node) or per-node\n"
            "  --log-level L  error, warn (default), info or debug: the lattice's events on\n"
            "                 standard error, one line each\n"
            "  --clock C      simulation (default: each interval as soon as the last is\n"
            "                 settled) or wall (one interval every --interval-s seconds)\n"
            "  --interval-s S wall clock: seconds per interval (default: the scenario's step)\n"
            "  --transport T  nats (with --nats), or inproc: the lattice's rules on the\n"
            "                 in-process bus\n"
            "  --ledger DIR   record the run on the community's shared ledger: every member's\n"
            "                 copy in DIR/NAME.db (DIR made by 'plurigrid ledger init --scenario\n"
            "                 SCENARIO --out DIR'); the run recorded is the first variant's with\n"
            "                 the market; without --nats, on the in-process bus\n"
            "  --ledger-sync-s S  seconds between reconciliations with a peer (default 5)\n"
            "\n"
            "",
            PG_COMMUNITY_MAX_THREADS);
    fputs("Privacy (docs/privacy.md):\n"
          "  --private      play the market by secure aggregation: the members' bids and\n"
          "                 meter readings are summed without anyone (the operator, a peer,\n"
          "                 an eavesdropper) seeing one member's; the same clearing as the\n"
          "                 open uniform auction; the report adds what each party saw. With\n"
          "                 --nats the aggregation runs on NATS. Uniform market only; not\n"
          "                 with a feeder, shared batteries or --ledger\n"
          "\n"
          "Files are replaced whole: a failed write leaves the old file.\n"
          "\n"
          "Exit status: 0 done, 2 bad input or usage (the message names the file, line and\n"
          "field), 3 the NATS servers cannot be reached, or an internal failure.\n",
          f);
}

static void
progress(size_t done, size_t total, void *ud)
{
    size_t *shown = ud;
    if (done == *shown)
        return;
    *shown = done;
    fprintf(stderr, "\rplurigrid " CMD ": %zu/%zu runs%s", done, total, done == total ? "\n" : "");
    fflush(stderr);
}

typedef int (*printer)(const pg_community_report *, char **, pg_error *);

/* --private: the report's printers with the privacy section (what each party saw) added. */
static const pg_privacy_report *the_privacy;

static int
text_private(const pg_community_report *r, char **out, pg_error *err)
{
    char *a = NULL, *b = NULL;
    if (pg_community_report_text(r, &a, err) || pg_privacy_report_text(the_privacy, &b, err)) {
        free(a);
        return err->code;
    }
    size_t na = strlen(a), nb = strlen(b);
    char *s = malloc(na + nb + 1);
    if (s) {
        memcpy(s, a, na);
        memcpy(s + na, b, nb + 1);
    }
    free(a);
    free(b);
    if (!s)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    *out = s;
    return PG_OK;
}

static int
json_private(const pg_community_report *r, char **out, pg_error *err)
{
    return pg_community_report_json_private(r, the_privacy, out, err);
}

static int
emit(const char *path, printer fn, const pg_community_report *r)
{
    pg_error err = {0};
    char *text = NULL;
    if (fn(r, &text, &err))
        return pg_cli_report(CMD, &err);
    int code = pg_cli_write(CMD, path, text, strlen(text));
    free(text);
    return code;
}

/* Writes the report fn makes into a new output at path, flushed but not yet in place: *out is
 * committed by the caller once every output has been written, so that one that fails (a full
 * disk) leaves every existing file as it was. */
static int
stage(const char *path, printer fn, const pg_community_report *r, pg_output **out)
{
    pg_error err = {0};
    char *text = NULL;
    pg_output *o = NULL;
    if (fn(r, &text, &err) || pg_output_open(&o, path, &err))
        goto fail;
    FILE *f = pg_output_stream(o);
    if (fputs(text, f) == EOF || fflush(f) != 0 || ferror(f)) {
        pg_error_set(&err, PG_EIO, "%s: cannot write the file: %s", path,
                     strerror(errno ? errno : EIO));
        goto fail;
    }
    free(text);
    *out = o;
    return PG_EXIT_OK;
fail:
    pg_output_discard(o);
    free(text);
    return pg_cli_report(CMD, &err);
}

int
pg_cmd_community(int argc, char **argv)
{
    const char *file = NULL, *json_path = NULL, *csv_path = NULL, *plot_dir = NULL;
    bool show_progress = isatty(STDERR_FILENO), private_ = false;
    pg_community_options o;
    pg_community_options_init(&o);
    pg_cli_lattice lat;
    pg_cli_lattice_init(&lat, CMD, PG_CLI_LAT_CONNECTIONS | PG_CLI_LAT_TRANSPORT);
    lat.level = PG_LOG_WARN; /* many nodes: their joins would flood the terminal */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long long v = 0;
        int got = 0;
        if (pg_cli_is_help(a)) {
            usage(stdout);
            return PG_EXIT_OK;
        } else if ((got = pg_cli_lattice_option(&lat, argc, argv, &i)) != 0) {
            if (got < 0)
                return PG_EXIT_USAGE;
        } else if (strcmp(a, "--data") == 0) {
            if (!next)
                return pg_cli_missing_value(CMD, a, "a folder");
            o.data_dir = argv[++i];
        } else if (strcmp(a, "--days") == 0) {
            if (pg_cli_count_option(CMD, a, next, 1, 100000, &v))
                return PG_EXIT_USAGE;
            i++;
            o.days = (size_t)v;
        } else if (strcmp(a, "--start-day") == 0) {
            if (pg_cli_count_option(CMD, a, next, 0, 100000, &v))
                return PG_EXIT_USAGE;
            i++;
            o.start_day = (size_t)v;
        } else if (strcmp(a, "--seed") == 0) {
            if (pg_cli_count_option(CMD, a, next, 0, INT64_MAX, &v))
                return PG_EXIT_USAGE;
            i++;
            o.set_seed = true;
            o.seed = v;
        } else if (strcmp(a, "--threads") == 0) {
            if (pg_cli_count_option(CMD, a, next, 1, PG_COMMUNITY_MAX_THREADS, &v))
                return PG_EXIT_USAGE;
            i++;
            o.threads = (size_t)v;
        } else if (strcmp(a, "--market") == 0) {
            if (!next)
                return pg_cli_missing_value(CMD, a,
                                            "a mechanism: none, uniform, pay-as-bid or continuous");
            o.market = argv[++i];
        } else if (strcmp(a, "--json") == 0) {
            if (!next)
                return pg_cli_missing_value(CMD, a, PG_CLI_OUTPUT_VALUE);
            json_path = argv[++i];
        } else if (strcmp(a, "--csv") == 0) {
            if (!next)
                return pg_cli_missing_value(CMD, a, PG_CLI_OUTPUT_VALUE);
            csv_path = argv[++i];
        } else if (strcmp(a, "--plot") == 0) {
            if (!next)
                return pg_cli_missing_value(CMD, a, "a folder");
            plot_dir = argv[++i];
        } else if (strcmp(a, "--progress") == 0) {
            show_progress = true;
        } else if (strcmp(a, "--private") == 0) {
            private_ = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            return pg_cli_usage_error(CMD, "unknown option; try 'plurigrid community --help'", a);
        } else if (file) {
            return pg_cli_usage_error(CMD, "one scenario file at a time", a);
        } else {
            file = a;
        }
    }
    if (!file) {
        fprintf(stderr, "plurigrid " CMD ": no scenario file; try 'plurigrid community --help'\n");
        return PG_EXIT_USAGE;
    }
    bool json_std = json_path && strcmp(json_path, "-") == 0;
    bool csv_std = csv_path && strcmp(csv_path, "-") == 0;
    if (json_std && csv_std) {
        fprintf(stderr, "plurigrid " CMD ": --json and --csv cannot both go to standard output; "
                        "write one of them to a file\n");
        return PG_EXIT_USAGE;
    }
    if (pg_cli_same_file(json_path, file) || pg_cli_same_file(csv_path, file))
        return pg_cli_usage_error(CMD, "an output would replace the scenario file it reads", file);
    if (pg_cli_same_file(json_path, csv_path))
        return pg_cli_usage_error(CMD, "--json and --csv name the same file", json_path);
    if (private_ && lat.ledger)
        return pg_cli_usage_error(CMD,
                                  "--private keeps the bids off the wire; a shared ledger "
                                  "records them: give one or the other",
                                  "--ledger");
    if (private_ && o.market && strcmp(o.market, "uniform") != 0)
        return pg_cli_usage_error(CMD, "--private plays the uniform market only", o.market);
    pg_lattice_options lo;
    pg_lattice_options_init(&lo);
    if (lat.ledger && !pg_cli_lattice_wanted(&lat))
        lat.transport = "inproc"; /* a ledger is the lattice's: here on the in-process bus */
    if (pg_cli_lattice_wanted(&lat)) {
        if (pg_cli_lattice_apply(&lat, &lo) != 0 ||
            (lo.ledger_dir && pg_cli_ledger_ready(&lat, lo.ledger_dir, file, NULL) != 0))
            return PG_EXIT_USAGE;
        o.lattice = &lo;
    } else if (lat.session || lat.connections || lat.clock || lat.interval_s || lat.log_level ||
               lat.ledger_sync_s) {
        fprintf(stderr, "plurigrid " CMD ": --session, --connections, --clock, --interval-s, "
                        "--log-level and --ledger-sync-s are for runs on the lattice: add --nats "
                        "URL (or --ledger DIR)\n");
        return PG_EXIT_USAGE;
    }

    pg_error err = {0};
    pg_community *c = NULL;
    pg_community_report *r = NULL;
    pg_privacy_report pv = {0};
    pg_output *jo = NULL, *co = NULL;
    int code = PG_EXIT_OK;
    size_t shown = 0;
    if (show_progress) {
        o.progress = progress;
        o.progress_ud = &shown;
    }
    /* The plot folder is made before the run, so that a bad one is told at once, not after a
     * year of intervals. */
    char dir[4096] = "";
    if (plot_dir) {
        snprintf(dir, sizeof dir, "%s", plot_dir);
        for (size_t n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--)
            dir[n - 1] = '\0';
        if (pg_cli_make_dirs(dir) != 0) {
            fprintf(stderr, "plurigrid " CMD ": cannot create the folder '");
            pg_cli_put_safe(stderr, dir, false);
            fprintf(stderr, "': %s\n", strerror(errno));
            code = PG_EXIT_USAGE;
            goto out;
        }
    }
    if (pg_community_read(&c, file, &o, &err) != PG_OK ||
        (private_ ? pg_community_run_private(c, &o, &r, &pv, &err)
                  : pg_community_run_all(c, &o, &r, &err)) != PG_OK) {
        code = pg_cli_report(CMD, &err);
        if (err.code == PG_ENET) {
            fprintf(stderr, "plurigrid " CMD ": to start a server: nats-server -p 4222, and give "
                            "--nats nats://127.0.0.1:4222\n");
            code = PG_EXIT_INTERNAL;
        }
        goto out;
    }
    printer text_fn = pg_community_report_text, json_fn = pg_community_report_json;
    if (private_) {
        the_privacy = &pv;
        text_fn = text_private;
        json_fn = json_private;
    }
    if (!json_std && !csv_std && (code = emit("-", text_fn, r)))
        goto out;
    /* Standard output is written at once; files are written whole, and put in place only when
     * every output (the plots too) has been written. */
    if (json_path && json_std && (code = emit("-", json_fn, r)))
        goto out;
    if (csv_path && csv_std && (code = emit("-", pg_community_report_csv, r)))
        goto out;
    if (json_path && !json_std && (code = stage(json_path, json_fn, r, &jo)))
        goto out;
    if (csv_path && !csv_std && (code = stage(csv_path, pg_community_report_csv, r, &co)))
        goto out;
    if (plot_dir && pg_community_write_plots(r, dir, &err) != PG_OK) {
        code = pg_cli_report(CMD, &err);
        goto out;
    }
    if (jo) {
        int rc = pg_output_commit(jo, &err);
        jo = NULL;
        if (rc != PG_OK) {
            code = pg_cli_report(CMD, &err);
            goto out;
        }
    }
    if (co) {
        int rc = pg_output_commit(co, &err);
        co = NULL;
        if (rc != PG_OK) {
            code = pg_cli_report(CMD, &err);
            goto out;
        }
    }
    if (plot_dir && !json_std && !csv_std) {
        fputs("\nCharts written to ", stdout);
        pg_cli_put_safe(stdout, dir, false);
        fputs("/\n", stdout);
    }
out:
    pg_output_discard(jo);
    pg_output_discard(co);
    pg_community_report_free(r);
    pg_privacy_report_free(&pv);
    pg_community_free(c);
    return code;
}
