/* plurigrid study: a batch of power flows (pf, or every step of each world's series), day-ahead
 * schedules (run) or N-1 contingency analyses (contingency) over a folder of worlds or a few case
 * files, on local threads or NATS workers; a text summary on standard output and, on request, the
 * results as JSON (plurigrid-study/1), CSV and an SVG summary, each written whole. Progress goes to
 * standard error when a study takes a while. */
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "plurigrid/study.h"

static void
usage(FILE *f)
{
    fprintf(f,
            "Usage: plurigrid study pf|run|contingency (--worlds DIR | --case FILE)... [options]\n"
            "\n"
            "Runs one kind of work on many worlds at once and summarises the results:\n"
            "  pf            the power flow of every world (with --series: of every step of\n"
            "                each world's time series)\n"
            "  run           the day-ahead schedule of every world (as plurigrid run)\n"
            "  contingency   N-1: every branch in service taken out in turn, each outage's\n"
            "                power flow checked for overloads and voltage violations\n"
            "\n"
            "Worlds:\n"
            "  --worlds DIR       the worlds of a folder: those its manifest.json lists (a\n"
            "                     generated catalog, dropped worlds left out), or every .json\n"
            "                     and .m file in name order. A file that is not a world is a\n"
            "                     result with its error, not the end of the study.\n"
            "  --case FILE        one world file (plurigrid JSON or MATPOWER); may be repeated\n"
            "\n"
            "Options:\n"
            "  --series           pf: every step of each world's time series\n"
            "  --rating a|b|c     branch ratings checked for overloads (default a)\n"
            "  --tol X            power-flow tolerance, p.u. (default 1e-8)\n"
            "  --max-iter N       Newton iterations per solve (default 10)\n"
            "  --dc               pf: the DC power flow\n"
            "  --outages-per-job N  contingency: outages in one job (default 256)\n"
            "  --steps-per-job N  series: steps in one job, each job starting from the\n"
            "                     world's own starting point (default: a whole series)\n"
            "  --threads N        local threads (default: one per core)\n"
            "  --nats URL         run the jobs on workers (plurigrid worker --nats URL)\n"
            "  --queue NAME       NATS: the workers' queue group (default plurigrid-study;\n"
            "                     as plurigrid worker --queue)\n"
            "  --job-timeout S    NATS: send a job again when its worker is silent for S\n"
            "                     seconds (default 10)\n"
            "  --json FILE|-      the results as JSON (format plurigrid-study/1)\n"
            "  --csv FILE|-       the results as CSV, one row per item\n"
            "  --svg FILE|-       an SVG summary: losses, voltage ranges, worst items\n"
            "  --quiet            no progress on standard error\n"
            "  -h, --help         show this help\n"
            "\n"
            "The summary goes to standard output unless an output is '-'. The JSON and CSV are\n"
            "the same bytes whatever the threads or workers (docs/study.md). Files are replaced\n"
            "whole: a failed write leaves the old file.\n"
            "\n"
            "Exit status: 0 every world studied, 1 a world could not be read or its power flow,\n"
            "schedule or base case failed, 2 bad input or usage or an output that could not be\n"
            "written, 3 internal failure (or no NATS server).\n");
}

static volatile sig_atomic_t stop_signal;
static volatile int stop_flag;

static void
on_signal(int sig)
{
    (void)sig;
    stop_signal = 1;
    stop_flag = 1;
}

typedef struct progress {
    bool quiet, tty;
    double start, last;
    bool shown;
} progress;

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Shown once a study has run for a second: then every second on a terminal (one line kept up to
 * date), every ten seconds otherwise, and at the end. */
static void
on_progress(void *user, size_t done, size_t total)
{
    progress *p = user;
    if (p->quiet)
        return;
    double t = now_s();
    if (t - p->start < 1.0 && done < total)
        return;
    if (done < total && t - p->last < (p->tty ? 1.0 : 10.0))
        return;
    if (done == total && !p->shown)
        return; /* a short study: no progress at all */
    p->last = t;
    p->shown = true;
    fprintf(stderr, "%splurigrid study: %zu of %zu jobs done (%.0f s)%s", p->tty ? "\r" : "", done,
            total, t - p->start, p->tty && done < total ? "" : "\n");
    fflush(stderr);
}

static void
on_log(void *user, const char *line)
{
    progress *p = user;
    if (p->quiet)
        return;
    fprintf(stderr, "%splurigrid study: ", p->tty && p->shown ? "\n" : "");
    pg_cli_put_safe(stderr, line, false);
    fputc('\n', stderr);
}

#define MAX_INPUTS 1024

int
pg_cmd_study(int argc, char **argv)
{
    pg_study_options o;
    pg_study_options_init(&o);
    const char *inputs[MAX_INPUTS];
    bool is_dir[MAX_INPUTS];
    size_t n_inputs = 0;
    const char *json_path = NULL, *csv_path = NULL, *svg_path = NULL, *kind = NULL;
    bool quiet = false, steps_given = false, outages_given = false;
    int code = PG_EXIT_OK;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_next = i + 1 < argc;
        if (pg_cli_is_help(a)) {
            usage(stdout);
            return PG_EXIT_OK;
        } else if (strcmp(a, "--series") == 0) {
            o.series = true;
        } else if (strcmp(a, "--dc") == 0) {
            o.pf.dc = true;
        } else if (strcmp(a, "--quiet") == 0) {
            quiet = true;
        } else if (strcmp(a, "--json") == 0 || strcmp(a, "--csv") == 0 || strcmp(a, "--svg") == 0) {
            if (!has_next)
                return pg_cli_missing_value("study", a, PG_CLI_OUTPUT_VALUE);
            const char **dst = a[2] == 'j' ? &json_path : a[2] == 'c' ? &csv_path : &svg_path;
            *dst = argv[++i];
        } else if (strcmp(a, "--worlds") == 0 || strcmp(a, "--case") == 0) {
            if (!has_next)
                return pg_cli_missing_value("study", a,
                                            a[2] == 'w' ? "a folder of worlds" : "a world file");
            if (n_inputs == MAX_INPUTS)
                return pg_cli_usage("study", "at most %d --worlds and --case", MAX_INPUTS);
            is_dir[n_inputs] = a[2] == 'w';
            inputs[n_inputs++] = argv[++i];
        } else if (strcmp(a, "--rating") == 0 || strcmp(a, "--tol") == 0 ||
                   strcmp(a, "--max-iter") == 0 || strcmp(a, "--threads") == 0 ||
                   strcmp(a, "--nats") == 0 || strcmp(a, "--queue") == 0 ||
                   strcmp(a, "--job-timeout") == 0 || strcmp(a, "--outages-per-job") == 0 ||
                   strcmp(a, "--steps-per-job") == 0) {
            if (!has_next)
                return pg_cli_usage("study", "%s needs a value", a);
            const char *v = argv[++i];
            unsigned long long n;
            if (strcmp(a, "--rating") == 0) {
                if (strcmp(v, "a") == 0)
                    o.rating = PG_PF_RATE_A;
                else if (strcmp(v, "b") == 0)
                    o.rating = PG_PF_RATE_B;
                else if (strcmp(v, "c") == 0)
                    o.rating = PG_PF_RATE_C;
                else
                    return pg_cli_usage("study", "--rating is a, b or c (it is '%s')", v);
            } else if (strcmp(a, "--tol") == 0) {
                if (!pg_cli_parse_double(v, &o.pf.tol) || !(o.pf.tol > 0) || o.pf.tol > 1)
                    return pg_cli_usage("study",
                                        "--tol needs a number above 0 and at most 1, got '%s'", v);
            } else if (strcmp(a, "--max-iter") == 0) {
                if (pg_cli_count_option("study", a, v, 0, 1000, &n))
                    return PG_EXIT_USAGE;
                o.pf.max_iter = (int)n;
            } else if (strcmp(a, "--threads") == 0) {
                if (pg_cli_count_option("study", a, v, 1, 1024, &n))
                    return PG_EXIT_USAGE;
                o.threads = (int)n;
            } else if (strcmp(a, "--nats") == 0) {
                if (!*v)
                    return pg_cli_usage("study",
                                        "--nats needs a server URL, such as nats://127.0.0.1:4222");
                o.url = v;
                o.executor = "nats";
            } else if (strcmp(a, "--queue") == 0) {
                if (!*v)
                    return pg_cli_usage("study", "%s", "--queue needs the name of a queue group");
                o.queue = v;
            } else if (strcmp(a, "--job-timeout") == 0) {
                if (!pg_cli_parse_double(v, &o.job_timeout_s) || !(o.job_timeout_s > 0) ||
                    o.job_timeout_s > 86400)
                    return pg_cli_usage("study",
                                        "--job-timeout needs seconds above 0 and at most 86400, "
                                        "got '%s'",
                                        v);
            } else if (strcmp(a, "--outages-per-job") == 0) {
                if (pg_cli_count_option("study", a, v, 1, 1000000, &n))
                    return PG_EXIT_USAGE;
                o.outages_per_job = (size_t)n;
                outages_given = true;
            } else {
                if (pg_cli_count_option("study", a, v, 1, 1000000, &n))
                    return PG_EXIT_USAGE;
                o.steps_per_job = (size_t)n;
                steps_given = true;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            return pg_cli_usage("study", "unknown option '%s'", a);
        } else if (kind) {
            return pg_cli_usage("study",
                                "one kind of study only; '%s' is a second one (worlds are given "
                                "with --worlds DIR or --case FILE)",
                                a);
        } else {
            kind = a;
        }
    }
    if (!kind)
        return pg_cli_usage("study", "%s", "which study? pf, run or contingency");
    if (strcmp(kind, "pf") == 0)
        o.kind = PG_STUDY_PF;
    else if (strcmp(kind, "run") == 0)
        o.kind = PG_STUDY_RUN;
    else if (strcmp(kind, "contingency") == 0)
        o.kind = PG_STUDY_CONTINGENCY;
    else
        return pg_cli_usage("study", "unknown study '%s': pf, run or contingency", kind);
    if (n_inputs == 0)
        return pg_cli_usage("study", "%s", "which worlds? Give --worlds DIR or --case FILE");
    if (o.series && o.kind != PG_STUDY_PF)
        return pg_cli_usage("study", "%s", "--series is for pf studies");
    if (o.pf.dc && o.kind != PG_STUDY_PF)
        return pg_cli_usage("study", "%s", "--dc is for pf studies (contingency analysis is AC)");
    if (steps_given && !(o.kind == PG_STUDY_PF && o.series))
        return pg_cli_usage("study", "%s", "--steps-per-job is for pf --series studies");
    if (outages_given && o.kind != PG_STUDY_CONTINGENCY)
        return pg_cli_usage("study", "%s", "--outages-per-job is for contingency studies");
    const char *outs[3] = {json_path, csv_path, svg_path};
    const char *out_names[3] = {"--json", "--csv", "--svg"};
    int n_std = 0;
    for (int k = 0; k < 3; k++) {
        if (!outs[k])
            continue;
        n_std += strcmp(outs[k], "-") == 0;
        for (int m = 0; m < k; m++)
            if (outs[m] && strcmp(outs[k], "-") != 0 && pg_cli_same_file(outs[k], outs[m]))
                return pg_cli_usage("study", "%s and %s name the same file '%s'", out_names[m],
                                    out_names[k], outs[k]);
        for (size_t m = 0; m < n_inputs; m++)
            if (!is_dir[m] && pg_cli_same_file(outs[k], inputs[m]))
                return pg_cli_usage("study", "%s '%s' would overwrite an input", out_names[k],
                                    outs[k]);
    }
    if (n_std > 1)
        return pg_cli_usage("study", "%s",
                            "standard output carries one thing: only one of --json, --csv "
                            "and --svg can be '-'");

    progress pr = {quiet, isatty(STDERR_FILENO) == 1, now_s(), 0, false};
    o.progress = on_progress;
    o.progress_user = &pr;
    o.log = on_log;
    o.log_user = &pr;
    o.stop = &stop_flag;

    pg_error err = {0};
    pg_study *s = NULL;
    char *text = NULL;
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    if (pg_study_new(&s, &o, &err) != PG_OK) {
        code = pg_cli_report("study", &err);
        goto out;
    }
    for (size_t m = 0; m < n_inputs; m++) {
        int rc = is_dir[m] ? pg_study_add_dir(s, inputs[m], &err)
                           : pg_study_add_file(s, inputs[m], NULL, &err);
        if (rc != PG_OK) {
            code = pg_cli_report("study", &err);
            goto out;
        }
    }
    pr.start = now_s();
    if (pg_study_run(s, &err) != PG_OK) {
        code = stop_signal ? PG_EXIT_INTERNAL : pg_cli_report("study", &err);
        if (stop_signal)
            fprintf(stderr, "plurigrid study: stopped by a signal; nothing written\n");
        goto out;
    }
    int (*const makers[3])(const pg_study *, char **, pg_error *) = {
        pg_study_report_json, pg_study_report_csv, pg_study_report_svg};
    for (int k = 0; k < 3 && code == PG_EXIT_OK; k++) {
        if (!outs[k])
            continue;
        if (makers[k](s, &text, &err) != PG_OK) {
            code = pg_cli_report("study", &err);
            break;
        }
        code = pg_cli_write("study", outs[k], text, strlen(text));
        free(text);
        text = NULL;
    }
    if (code == PG_EXIT_OK && n_std == 0) {
        if (pg_study_report_text(s, &text, &err) != PG_OK) {
            code = pg_cli_report("study", &err);
        } else {
            pg_cli_put_safe(stdout, text, true);
        }
    }
    if (code == PG_EXIT_OK) {
        pg_study_totals t;
        pg_study_get_totals(s, &t);
        if (t.n_worlds_failed > 0)
            code = PG_EXIT_FAIL;
    }
out:
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    free(text);
    pg_study_free(s);
    return code;
}
