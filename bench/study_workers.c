/* Batch throughput of studies: worlds per second of one study run on in-process threads (the
 * "local" executor, 1 and 2 threads) and on NATS workers (1 and 2 `plurigrid worker` processes of
 * one thread each, on a nats-server started here), in the same run, on the same batch. The batch is
 * small worlds such as a generator makes: the MATPOWER cases of up to 118 buses (case9, case14,
 * case30, case57, case118), each added many times under its own id. Two kinds: pf (a
 * power flow per world: the executor's overhead shows most) and run (a day-ahead schedule per
 * world). Each figure is the median of several runs. Results must be the same bytes on every
 * executor: the benchmark checks that too.
 *
 * Usage: study_workers [WORLDS]   (default 300 worlds per study) */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "core/util.h"
#include "plurigrid/lattice.h"
#include "plurigrid/study.h"

#define RUNS 3

static pid_t server_pid;
static pid_t worker_pid[2];
static char url[64];

static void
nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void
die(const char *what)
{
    fprintf(stderr, "study_workers: %s\n", what);
    exit(1);
}

static void
stop_all(void)
{
    for (int i = 0; i < 2; i++)
        if (worker_pid[i] > 0) {
            kill(worker_pid[i], SIGKILL);
            waitpid(worker_pid[i], NULL, 0);
            worker_pid[i] = 0;
        }
    if (server_pid > 0) {
        kill(server_pid, SIGKILL);
        waitpid(server_pid, NULL, 0);
        server_pid = 0;
    }
}

static int
free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t n = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &n) != 0)
        die("cannot find a free port");
    close(fd);
    return ntohs(a.sin_port);
}

static pid_t
spawn(char *const argv[], bool quiet)
{
    pid_t parent = getpid();
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        die("fork failed");
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(126);
        if (quiet) {
            FILE *f = freopen("/dev/null", "w", stderr);
            (void)f;
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static void
server_start(void)
{
    char port[16];
    snprintf(port, sizeof port, "%d", free_port());
    snprintf(url, sizeof url, "nats://127.0.0.1:%s", port);
    const char *prog = getenv("PGT_NATS_SERVER");
    if (!prog || !*prog)
        prog = access("/usr/sbin/nats-server", X_OK) == 0 ? "/usr/sbin/nats-server" : "nats-server";
    char *argv[] = {(char *)prog, "-a", "127.0.0.1", "-p", port, NULL};
    server_pid = spawn(argv, true);
    double end = pgi_now() + 20;
    while (pgi_now() < end) {
        pg_bus *b = NULL;
        char u[96];
        snprintf(u, sizeof u, "%s?connect_timeout=0.2", url);
        if (pg_bus_open(&b, "nats", u, NULL) == PG_OK) {
            pg_bus_close(b);
            return;
        }
        nap(0.05);
    }
    die("nats-server did not start (is it installed?)");
}

static const char *cases[] = {"case9", "case14", "case30", "case57", "case118"};

/* One study of n worlds; its JSON in *json (when json is not NULL); returns the wall time. */
static double
run_once(pg_study_kind kind, size_t n, const char *executor, int threads, char **json)
{
    pg_study_options o;
    pg_study_options_init(&o);
    o.kind = kind;
    o.executor = executor;
    o.threads = threads;
    o.url = url;
    pg_study *s = NULL;
    pg_error err = {0};
    if (pg_study_new(&s, &o, &err))
        die(err.msg);
    for (size_t i = 0; i < n; i++) {
        char path[512], id[64];
        const char *c = cases[i % (sizeof cases / sizeof *cases)];
        snprintf(path, sizeof path, "%s/matpower/cases/%s.m", PG_DATA_DIR, c);
        snprintf(id, sizeof id, "%s-%04zu", c, i);
        if (pg_study_add_file(s, path, id, &err))
            die(err.msg);
    }
    double t0 = pgi_now();
    if (pg_study_run(s, &err))
        die(err.msg);
    double t = pgi_now() - t0;
    if (json && pg_study_report_json(s, json, &err))
        die(err.msg);
    pg_study_free(s);
    return t;
}

static double
measure(pg_study_kind kind, size_t n, const char *executor, int threads, const char *expect)
{
    double t[RUNS];
    for (int r = 0; r < RUNS; r++) {
        char *json = NULL;
        t[r] = run_once(kind, n, executor, threads, expect ? &json : NULL);
        if (expect && strcmp(json, expect) != 0)
            die("the results differ from the local run's");
        free(json);
    }
    return bench_median(t, RUNS);
}

static void
start_workers(int n)
{
    for (int i = 0; i < 2; i++)
        if (worker_pid[i] > 0) {
            kill(worker_pid[i], SIGTERM);
            waitpid(worker_pid[i], NULL, 0);
            worker_pid[i] = 0;
        }
    for (int i = 0; i < n; i++) {
        char *argv[] = {(char *)PG_CLI_PATH, "worker", "--nats", url, "--threads", "1", NULL};
        worker_pid[i] = spawn(argv, true);
    }
    nap(0.5); /* connected and subscribed (a study would wait for them anyway) */
}

int
main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 300;
    if (n == 0)
        die("WORLDS must be a positive number");
    atexit(stop_all);
    server_start();
    const pg_study_kind kinds[] = {PG_STUDY_PF, PG_STUDY_RUN};
    const char *names[] = {"pf", "run"};
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    printf("study throughput, %zu worlds (MATPOWER cases of 9 to 118 buses), median of %d runs, "
           "%ld cores\n",
           n, RUNS, cores);
    printf("%-5s %-26s %10s %12s\n", "kind", "executor", "wall (s)", "worlds/s");
    for (int k = 0; k < 2; k++) {
        char *local = NULL;
        run_once(kinds[k], n, "local", 1, &local);
        struct {
            const char *label, *executor;
            int threads, workers;
        } rows[] = {
            {"local, 1 thread", "local", 1, 0},
            {"local, 2 threads", "local", 2, 0},
            {"nats, 1 worker x 1 thread", "nats", 0, 1},
            {"nats, 2 workers x 1 thread", "nats", 0, 2},
        };
        for (size_t r = 0; r < sizeof rows / sizeof *rows; r++) {
            if (rows[r].workers)
                start_workers(rows[r].workers);
            double t = measure(kinds[k], n, rows[r].executor, rows[r].threads, local);
            printf("%-5s %-26s %10.3f %12.1f\n", names[k], rows[r].label, t, (double)n / t);
            fflush(stdout);
        }
        free(local);
    }
    stop_all();
    return 0;
}
