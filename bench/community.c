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
#include "synthetic.h"
#include "core/util.h"
#include "plurigrid/community.h"

static void
die(const char *what, const pg_error *err)
{
    char buf[1400];
    fprintf(stderr, "community bench: %s: %s\n", what, pg_error_format(err, buf, sizeof buf));
    exit(1);
}

static pg_community *
read_synthetic(size_t nodes)
{
    char *text = bench_synthetic_community(nodes, 96);
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
