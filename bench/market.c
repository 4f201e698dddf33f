/* Market benchmark (bench/RESULTS.md, "Market"): one call auction of a million orders, the target
 * being <= 0.5 s. A book of N random orders (half bids, half asks; limits uniform in 0.05..0.45 and
 * 0.03..0.43 $/kWh, so the curves cross in the middle of the book; quantities uniform in 0.1..5
 * kWh; 10,000 nodes; a grid at retail 0.35 and feed-in 0.05) is cleared by each mechanism:
 *
 *   - in this process, warm: the same book cleared again and again (the allocator has the memory);
 *   - in a new process per clearing: this program run again builds the book and clears it once,
 *     so the time includes the first touch of every page the clearing allocates (minor faults);
 *
 * and beside them the raw limits measured on the same orders in the same run: qsort of the orders
 * by limit (what a comparison sort of the book costs), one pass reading every order (memory
 * bandwidth), and building the book with pg_market_book_add. Then the settlement of the uniform
 * clearing's result for the 10,000 nodes. Each figure is the median of the runs, in wall time and
 * in the process's CPU time (which leaves out the time other programs had the processor).
 *
 *   build/bench/market [--runs N] [--orders N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "core/util.h"
#include "plurigrid/market.h"

#define NODES 10000
#define MAXRUNS 200

static const pg_market_grid grid = {0.35, 0.05, true};

static void
die(const char *what, const pg_error *err)
{
    fprintf(stderr, "market bench: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

static uint64_t rng;

static double
unif(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static void
make_book(pg_market_book *b, size_t n)
{
    pg_error err = {0};
    rng = 0x853c49e6748fea9bu;
    pg_market_book_init(b);
    for (size_t i = 0; i < n; i++) {
        bool buy = unif() < 0.5;
        double p = buy ? 0.05 + 0.4 * unif() : 0.03 + 0.4 * unif();
        double q = 0.1 + 4.9 * unif();
        uint32_t node = (uint32_t)(unif() * NODES);
        if (pg_market_book_add(b, node, buy ? PG_MARKET_BUY : PG_MARKET_SELL, q, p, &err))
            die("add", &err);
    }
}

/* CPU time of this process, s: on a machine shared with other work the wall time of a run
 * includes the time others had the processor; the CPU time does not. */
static double
cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static long
minor_faults(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

static const pg_market_mechanism *
mechanism(const char *name)
{
    pg_error err = {0};
    const pg_market_mechanism *m = pg_market_mechanism_find(name, &err);
    if (!m)
        die(name, &err);
    return m;
}

/* One clearing: wall and CPU seconds in *t and *c, minor faults in *faults; the result's volume in
 * *vol. */
static void
clear_once(const pg_market_mechanism *m, const pg_market_book *b, double *t, double *c,
           long *faults, double *vol)
{
    pg_error err = {0};
    pg_market_result r;
    long f0 = minor_faults();
    double t0 = pgi_now(), c0 = cpu_now();
    if (m->clear(b, &grid, &r, &err))
        die(m->name, &err);
    *c = cpu_now() - c0;
    *t = pgi_now() - t0;
    *faults = minor_faults() - f0;
    *vol = r.volume;
    pg_market_result_free(&r);
}

static int
fresh_child(const char *name, size_t n)
{
    pg_market_book b;
    make_book(&b, n);
    double t, c, vol;
    long f;
    clear_once(mechanism(name), &b, &t, &c, &f, &vol);
    printf("%.9f %.9f %ld\n", t, c, f);
    pg_market_book_free(&b);
    return 0;
}

static void
fresh_run(const char *self, const char *name, size_t n, double *t, double *c, long *faults)
{
    int fds[2];
    if (pipe(fds) < 0) {
        perror("market bench: pipe");
        exit(1);
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("market bench: fork");
        exit(1);
    }
    if (pid == 0) {
        char num[32];
        snprintf(num, sizeof num, "%zu", n);
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl(self, self, "--fresh-child", name, "--orders", num, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char buf[128] = "";
    ssize_t got = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    buf[got > 0 ? got : 0] = '\0';
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
        sscanf(buf, "%lf %lf %ld", t, c, faults) != 3) {
        fprintf(stderr, "market bench: the child for %s failed\n", name);
        exit(1);
    }
}

static double
median_long(const long *v, int n)
{
    double d[MAXRUNS];
    for (int i = 0; i < n; i++)
        d[i] = (double)v[i];
    return bench_median(d, n);
}

static int
cmp_order(const void *a, const void *b)
{
    const pg_market_order *x = a, *y = b;
    if (x->price != y->price)
        return x->price < y->price ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

int
main(int argc, char **argv)
{
    int runs = 7;
    size_t n = 1000000;
    const char *child = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
            if (runs < 1 || runs > MAXRUNS) {
                fprintf(stderr, "market bench: --runs must be 1..%d\n", MAXRUNS);
                return 2;
            }
        } else if (strcmp(argv[i], "--orders") == 0 && i + 1 < argc) {
            long v = atol(argv[++i]);
            if (v < 1) {
                fprintf(stderr, "market bench: --orders must be >= 1\n");
                return 2;
            }
            n = (size_t)v;
        } else if (strcmp(argv[i], "--fresh-child") == 0 && i + 1 < argc) {
            child = argv[++i];
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("Usage: market [--runs N] [--orders N]\n");
            return 0;
        } else {
            fprintf(stderr, "market bench: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (child)
        return fresh_child(child, n);

    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) {
        snprintf(self, sizeof self, "%s", argv[0]);
        len = (ssize_t)strlen(self);
    }
    self[len] = '\0';

    double t[MAXRUNS], c[MAXRUNS];
    long f[MAXRUNS];
    pg_market_book b;
    for (int r = 0; r < runs; r++) {
        double t0 = pgi_now();
        make_book(&b, n);
        t[r] = pgi_now() - t0;
        if (r < runs - 1)
            pg_market_book_free(&b);
    }
    double build = bench_median(t, runs);

    /* Raw limits on the same orders. */
    pg_market_order *copy = malloc(n * sizeof *copy);
    if (!copy)
        die("malloc", NULL);
    for (int r = 0; r < runs; r++) {
        memcpy(copy, b.orders, n * sizeof *copy);
        double t0 = pgi_now(), c0 = cpu_now();
        qsort(copy, n, sizeof *copy, cmp_order);
        c[r] = cpu_now() - c0;
        t[r] = pgi_now() - t0;
    }
    double qs = bench_median(t, runs), qs_cpu = bench_median(c, runs);
    volatile double sink = 0;
    for (int r = 0; r < runs; r++) {
        double t0 = pgi_now(), s = 0;
        for (size_t i = 0; i < n; i++)
            s += b.orders[i].qty * b.orders[i].price;
        t[r] = pgi_now() - t0;
        sink += s;
    }
    double pass = bench_median(t, runs);
    free(copy);

    printf("market bench: %zu orders (%zu nodes), grid retail %.2f, feed-in %.2f $/kWh; medians "
           "of %d runs, ms\n",
           n, (size_t)NODES, grid.retail, grid.feed_in, runs);
    printf(
        "raw limits on the same orders: qsort by limit %.1f (cpu %.1f), one pass over the orders "
        "%.2f; building the book (pg_market_book_add) %.1f\n",
        qs * 1e3, qs_cpu * 1e3, pass * 1e3, build * 1e3);
    printf("warm: the same book cleared again in this process; new proc: this program run again "
           "per clearing. cpu: the process's CPU time of the clearing.\n");
    printf("%-11s %9s %9s %7s %9s %9s %7s %12s\n", "mechanism", "warm", "cpu", "faults", "new proc",
           "cpu", "faults", "volume kWh");
    const char *names[] = {"uniform", "pay-as-bid", "continuous"};
    for (int k = 0; k < 3; k++) {
        const pg_market_mechanism *m = mechanism(names[k]);
        double vol = 0;
        clear_once(m, &b, &t[0], &c[0], &f[0], &vol); /* warm-up */
        for (int r = 0; r < runs; r++)
            clear_once(m, &b, &t[r], &c[r], &f[r], &vol);
        double warm = bench_median(t, runs), warm_c = bench_median(c, runs);
        double warm_f = median_long(f, runs);
        for (int r = 0; r < runs; r++)
            fresh_run(self, names[k], n, &t[r], &c[r], &f[r]);
        double fresh = bench_median(t, runs), fresh_c = bench_median(c, runs);
        double fresh_f = median_long(f, runs);
        printf("%-11s %9.1f %9.1f %7.0f %9.1f %9.1f %7.0f %12.1f\n", names[k], warm * 1e3,
               warm_c * 1e3, warm_f, fresh * 1e3, fresh_c * 1e3, fresh_f, vol);
        fflush(stdout);
    }

    /* Settlement of the uniform clearing for every node. */
    pg_error err = {0};
    pg_market_result r;
    if (pg_market_clear_uniform(&b, &grid, &r, &err))
        die("uniform", &err);
    double *metered = calloc(NODES, sizeof *metered);
    pg_market_settlement *s = calloc(NODES, sizeof *s);
    if (!metered || !s)
        die("calloc", NULL);
    for (int k = 0; k < NODES; k++)
        metered[k] = 10 * unif() - 5;
    for (int i = 0; i < runs; i++) {
        double t0 = pgi_now();
        if (pg_market_settle(&b, &r, &grid, metered, NODES, s, &err))
            die("settle", &err);
        t[i] = pgi_now() - t0;
    }
    printf("settlement of the uniform result, %d nodes: %.1f ms\n", NODES,
           bench_median(t, runs) * 1e3);
    free(metered);
    free(s);
    pg_market_result_free(&r);
    pg_market_book_free(&b);
    (void)sink;
    return 0;
}
