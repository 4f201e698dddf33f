/* Community benchmark. (1) A synthetic community of 1000 homes over one day of 15-minute
 * intervals (96), in this process: each home has a load (one of ten daily profiles, scaled),
 * rooftop PV (clear-sky model), and every third a home battery; the uniform-price market and the
 * baseline played on 2 threads. The median of several runs of pg_community_run_all (the scenario
 * is read once), and the same as a fresh process (this program run again to read and play it
 * once). Target: <= 5 s on 2 cores. (2) Scenario 0 for a whole year (both variants, market and
 * baseline), as a fresh process of the built command: `plurigrid community
 * examples/scenario0/scenario.json --json /dev/null`. Target: <= 30 s. Skipped with a message
 * when the reference data folder is missing.
 *
 *   build/bench/community [--runs N] [--nodes N] [--scenario FILE] [--no-year]
 *
 * (from the source tree: the scenario defaults to examples/scenario0/scenario.json)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "core/util.h"
#include "plurigrid/community.h"

static void
die(const char *what, const pg_error *err)
{
    char buf[1400];
    fprintf(stderr, "community bench: %s: %s\n", what, pg_error_format(err, buf, sizeof buf));
    exit(1);
}

/* The synthetic scenario's text. */
static char *
synthetic(size_t nodes)
{
    pgi_buf b = {0};
    pgi_buf_puts(&b, "{\"format\": \"plurigrid-community/1\", \"name\": \"synthetic\", \"seed\": 1,"
                     " \"step_h\": 0.25, \"intervals\": 96, \"horizon_h\": 6,"
                     " \"start\": {\"date\": \"2016-08-01T00:00\"},"
                     " \"prices\": {\"retail\": {\"model\": \"daily-profile\", \"values\": "
                     "[0.21,0.21,0.21,0.21,0.21,0.21,0.21,0.21,0.22,0.22,0.22,0.22,0.22,0.22,"
                     "0.22,0.22,0.40,0.40,0.50,0.54,0.54,0.40,0.22,0.21]},"
                     " \"feed_in\": {\"constant\": 0.05}},\n \"series\": {"
                     "\"pv\": {\"model\": \"clear-sky-pv\", \"latitude\": 34.1,"
                     " \"longitude\": -117.4, \"utc_offset_h\": -8}");
    for (int k = 0; k < 10; k++) {
        pgi_buf_printf(&b, ",\n  \"load%d\": {\"model\": \"daily-profile\", \"values\": [", k);
        for (int h = 0; h < 24; h++) {
            double v = 0.3 + 0.1 * k * (h >= 17 && h <= 21) + 0.05 * ((h * 7 + k * 3) % 5);
            pgi_buf_printf(&b, "%s%.3f", h ? "," : "", v);
        }
        pgi_buf_puts(&b, "]}");
    }
    pgi_buf_puts(&b, "},\n \"nodes\": [");
    for (size_t i = 0; i < nodes; i++) {
        pgi_buf_printf(&b,
                       "%s\n  {\"name\": \"h%zu\", \"config\": {\"name\": \"h%zu\", \"profile\": "
                       "\"residential\", \"devices\": [{\"kind\": \"fixed_load\", \"name\": "
                       "\"house\", \"input\": \"load\"}, {\"kind\": \"pv\", \"name\": \"roof\", "
                       "\"kw_peak\": %g, \"input\": \"pv\"}%s], \"controller\": {\"kind\": "
                       "\"rules\"}}, \"inputs\": {\"load\": \"load%zu\", \"pv\": \"pv\"}}",
                       i ? "," : "", i, i, 2.0 + (double)(i % 5),
                       i % 3 == 0 ? ", {\"kind\": \"battery\", \"name\": \"b\", \"capacity_kwh\": "
                                    "10, \"power_kw\": 5}"
                                  : "",
                       i % 10);
    }
    pgi_buf_puts(&b, "\n ],\n \"market\": {\"mechanism\": \"uniform\"}}\n");
    if (b.failed) {
        fprintf(stderr, "community bench: out of memory\n");
        exit(1);
    }
    return b.data;
}

static pg_community *
read_synthetic(size_t nodes)
{
    char *text = synthetic(nodes);
    pg_error err = {0};
    pg_community *c = NULL;
    if (pg_community_parse(&c, "synthetic", text, strlen(text), NULL, NULL, &err))
        die("reading the synthetic scenario", &err);
    free(text);
    return c;
}

static pg_community_report *
play(const pg_community *c)
{
    pg_community_options o;
    pg_community_options_init(&o);
    o.threads = 2;
    pg_error err = {0};
    pg_community_report *r = NULL;
    if (pg_community_run_all(c, &o, &r, &err))
        die("playing", &err);
    return r;
}

/* Wall time of a child process running argv, seconds (-1 when it fails). */
static double
child(char *const argv[])
{
    fflush(stdout); /* the child must not write what this process has buffered */
    double t0 = pgi_now();
    pid_t pid = fork();
    if (pid < 0) {
        perror("community bench: fork");
        exit(1);
    }
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout))
            _exit(127);
        execv(argv[0], argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    double t = pgi_now() - t0;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? t : -1;
}

int
main(int argc, char **argv)
{
    int runs = 5;
    size_t nodes = 1000;
    int year = 1;
    const char *scen = "examples/scenario0/scenario.json";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--fresh-child") == 0 && i + 1 < argc) {
            pg_community *c = read_synthetic((size_t)atol(argv[i + 1]));
            pg_community_report *r = play(c);
            pg_community_report_free(r);
            pg_community_free(c);
            return 0;
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--nodes") == 0 && i + 1 < argc) {
            nodes = (size_t)atol(argv[++i]);
        } else if (strcmp(argv[i], "--scenario") == 0 && i + 1 < argc) {
            scen = argv[++i];
        } else if (strcmp(argv[i], "--no-year") == 0) {
            year = 0;
        } else {
            fprintf(stderr,
                    "usage: community [--runs N] [--nodes N] [--scenario FILE] [--no-year]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > 100)
        runs = 5;
    double t[100], f[100], rd[100];
    pg_community *c = NULL;
    for (int r = 0; r < runs; r++) {
        double t0 = pgi_now();
        pg_community *cc = read_synthetic(nodes);
        rd[r] = pgi_now() - t0;
        if (!c)
            c = cc;
        else
            pg_community_free(cc);
    }
    double vol = 0;
    for (int r = 0; r < runs; r++) {
        double t0 = pgi_now();
        pg_community_report *rep = play(c);
        t[r] = pgi_now() - t0;
        vol = rep->variants[0].market.total.peer_bought_kwh;
        pg_community_report_free(rep);
    }
    pg_community_free(c);
    char nbuf[32];
    snprintf(nbuf, sizeof nbuf, "%zu", nodes);
    char *cargv[] = {argv[0], "--fresh-child", nbuf, NULL};
    for (int r = 0; r < runs; r++)
        f[r] = child(cargv);
    printf("| case | read, s | market + baseline (2 threads), s | fresh process, s | peer "
           "kWh |\n|---|---:|---:|---:|---:|\n");
    printf("| %zu nodes x 96 intervals (15 min) | %.3f | %.3f | %.3f | %.0f |\n", nodes,
           bench_median(rd, runs), bench_median(t, runs), bench_median(f, runs), vol);
    if (!year)
        return 0;
    const char *data = PG_DATA_DIR "/citylearn-2022-fontana";
    struct stat st;
    if (stat(data, &st) != 0 || !S_ISDIR(st.st_mode)) {
        printf("\nscenario 0 year: skipped, the data folder %s is missing\n", data);
        return 0;
    }
    if (stat(scen, &st) != 0) {
        printf("\nscenario 0 year: skipped, %s is missing (run from the source tree, or give "
               "--scenario FILE)\n",
               scen);
        return 0;
    }
    char *yargv[] = {PG_CLI_PATH,  "community", (char *)scen, "--data",
                     (char *)data, "--json",    "/dev/null",  NULL};
    int yr = runs < 3 ? runs : 3;
    double y[3];
    for (int r = 0; r < yr; r++)
        if ((y[r] = child(yargv)) < 0) {
            printf("\nscenario 0 year: the command failed\n");
            return 1;
        }
    printf("\n| case | fresh process, s |\n|---|---:|\n| scenario 0, 365 days, 2 variants x "
           "(market + baseline) | %.2f |\n",
           bench_median(y, yr));
    return 0;
}
