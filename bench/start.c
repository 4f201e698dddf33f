/* Process start benchmark: how long whole processes of the command take, as a user starts them
 * (fork, exec, load the libraries, run, exit): `plurigrid --help`, `plurigrid pf case118.m` and
 * `plurigrid pf case2383wp.m`, each the median of many runs with standard output to /dev/null;
 * with the page faults of each process (getrusage of the children, ru_minflt) and the shared
 * objects it has (the program, the dynamic loader and every library loaded, counted with
 * LD_DEBUG=files, modules opened later included). `/bin/true`, a process that does nothing, is
 * measured in the same run as the floor of the machine.
 *
 * Given a second command (an argument, or the environment variable PG_BASELINE_CLI), it measures
 * that one in the same run, interleaved with the built one, so both see the same machine:
 *
 *   build/bench/start [--runs N] [--data DIR] [BASELINE_CLI]
 *
 * Figures go in bench/RESULTS.md. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define MAXRUNS 1000

static double
now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void
die(const char *what)
{
    fprintf(stderr, "start bench: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* Runs argv with standard output (and, unless err_fd >= 0 takes it, standard error) to
 * /dev/null and the environment variable env (NAME=VALUE, or NULL) added. Returns the wall time
 * in seconds; *faults gets the child's minor page faults. Exits on failure: a benchmark of a
 * command that fails measures nothing. */
static double
run(char *const argv[], const char *env, int err_fd, long *faults)
{
    struct rusage before, after; /* of the children waited for: the difference is this one's */
    getrusage(RUSAGE_CHILDREN, &before);
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null < 0)
            _exit(126);
        dup2(null, 1);
        dup2(err_fd >= 0 ? err_fd : null, 2);
        if (env)
            putenv((char *)env);
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0)
        die("waitpid");
    double t = now() - t0;
    getrusage(RUSAGE_CHILDREN, &after);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "start bench: %s", argv[0]);
        for (int i = 1; argv[i]; i++)
            fprintf(stderr, " %s", argv[i]);
        fprintf(stderr, " failed (status %d)\n", status);
        exit(1);
    }
    *faults = after.ru_minflt - before.ru_minflt;
    return t;
}

/* The shared objects of a run of argv: the program, the dynamic loader and each library the
 * loader reports loading. */
static int
count_objects(char *const argv[])
{
    FILE *tmp = tmpfile();
    if (!tmp)
        die("tmpfile");
    long faults;
    run(argv, "LD_DEBUG=files", fileno(tmp), &faults);
    rewind(tmp);
    char line[4096];
    int n = 2;
    while (fgets(line, sizeof line, tmp))
        if (strstr(line, "file=") && (strstr(line, "needed by") || strstr(line, "loaded by")))
            n++;
    fclose(tmp);
    return n;
}

typedef struct measure {
    double ms;
    long faults;
    int objects;
} measure;

int
main(int argc, char **argv)
{
    int runs = 41;
    const char *dir = PG_DATA_DIR, *baseline = getenv("PG_BASELINE_CLI");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
            if (runs < 1 || runs > MAXRUNS) {
                fprintf(stderr, "start bench: --runs must be 1..%d\n", MAXRUNS);
                return 2;
            }
        } else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("Usage: start [--runs N] [--data DIR] [BASELINE_CLI]\n"
                   "Whole-process medians of plurigrid --help and plurigrid pf, for the built "
                   "command and, when given (or in $PG_BASELINE_CLI), another one.\n");
            return 0;
        } else if (argv[i][0] != '-' && !baseline) {
            baseline = argv[i];
        } else {
            fprintf(stderr, "start bench: unknown argument '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    if (baseline && baseline[0] == '\0')
        baseline = NULL;
    const char *cli[2] = {PG_CLI_PATH, baseline};
    int ncli = baseline ? 2 : 1;
    char case118[1024], case2383[1024];
    snprintf(case118, sizeof case118, "%s/matpower/cases/case118.m", dir);
    snprintf(case2383, sizeof case2383, "%s/matpower/cases/case2383wp.m", dir);
    const char *names[3] = {"plurigrid --help", "plurigrid pf case118.m",
                            "plurigrid pf case2383wp.m"};
    const char *args[3][3] = {
        {"--help", NULL, NULL}, {"pf", case118, NULL}, {"pf", case2383, NULL}};

    static double t[2][3][MAXRUNS], tt[MAXRUNS];
    static long f[2][3][MAXRUNS], ft[MAXRUNS];
    measure m[2][3];
    /* The floor: a process that does nothing, on this machine, in the same run. */
    char *true_av[] = {"/bin/true", NULL};
    bool have_true = access(true_av[0], X_OK) == 0;
    for (int c = 0; c < ncli; c++)
        for (int k = 0; k < 3; k++) {
            char *av[] = {(char *)cli[c], (char *)args[k][0], (char *)args[k][1], NULL};
            m[c][k].objects = count_objects(av);
            long faults;
            run(av, NULL, -1, &faults); /* once to warm the page cache */
        }
    /* Interleaved, so that both commands see the same load, each first on every other run (the
     * second of two runs in a row is a little faster). */
    for (int r = 0; r < runs; r++) {
        for (int k = 0; k < 3; k++)
            for (int i = 0; i < ncli; i++) {
                int c = r % 2 ? ncli - 1 - i : i;
                char *av[] = {(char *)cli[c], (char *)args[k][0], (char *)args[k][1], NULL};
                t[c][k][r] = run(av, NULL, -1, &f[c][k][r]);
            }
        if (have_true)
            tt[r] = run(true_av, NULL, -1, &ft[r]);
    }
    for (int c = 0; c < ncli; c++)
        for (int k = 0; k < 3; k++) {
            double fd[MAXRUNS];
            for (int r = 0; r < runs; r++)
                fd[r] = (double)f[c][k][r];
            m[c][k].ms = bench_median(t[c][k], runs) * 1e3;
            m[c][k].faults = (long)bench_median(fd, runs);
        }

    printf("whole processes, medians of %d runs; objects: the program, the dynamic loader and the "
           "libraries loaded.\n",
           runs);
    printf("this build: %s\n", cli[0]);
    if (baseline)
        printf("baseline:   %s\n", cli[1]);
    printf("%-27s %9s %7s %7s", "", "ms", "faults", "objects");
    if (baseline)
        printf(" | %9s %7s %7s | %6s", "base ms", "faults", "objects", "ratio");
    printf("\n");
    for (int k = 0; k < 3; k++) {
        printf("%-27s %9.2f %7ld %7d", names[k], m[0][k].ms, m[0][k].faults, m[0][k].objects);
        if (baseline)
            printf(" | %9.2f %7ld %7d | %6.2f", m[1][k].ms, m[1][k].faults, m[1][k].objects,
                   m[0][k].ms / m[1][k].ms);
        printf("\n");
    }
    if (have_true) {
        double fd[MAXRUNS];
        for (int r = 0; r < runs; r++)
            fd[r] = (double)ft[r];
        printf("%-27s %9.2f %7.0f\n", "/bin/true (the floor)", bench_median(tt, runs) * 1e3,
               bench_median(fd, runs));
    }
    return 0;
}
