/* Power-flow benchmark: for each MATPOWER case in the reference data folder, the median time of
 * parsing the case file, building the admittance matrices, an AC Newton-Raphson solve from
 * scratch (topology, symbolic analysis and numeric work), a warm solve (a solver that has solved
 * the same topology before: numeric work only) from a new start and from the same start again,
 * one KLU refactorization + solve of the Jacobian, and the DC power flow cold and warm.
 *
 * Then the AC solve from scratch as a user meets it, with the page faults of each solve
 * (getrusage, ru_minflt): in this process (whose heap earlier solves have grown), on a trimmed heap
 * (malloc_trim(0) before each solve: what the allocator kept is given back to the kernel), and in
 * a new process per solve (this program run again: read the case, solve once; code pages the solve
 * runs for the first time count too). Prints two tables; figures go in bench/RESULTS.md.
 *
 *   build/bench/pf [--runs N] [--data DIR] [case ...]
 *
 * Each figure is the median of at least N runs (default 20; more for fast steps, up to a time
 * budget). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "bench.h"
#include "core/util.h"
#include "plurigrid/io.h"
#include "plurigrid/pf.h"
#include "powerflow/pf_internal.h"

static const char *const default_cases[] = {"case9",   "case14",  "case30",    "case57",
                                            "case118", "case300", "case2383wp"};

static int min_runs = 20;

/* How many runs: at least min_runs, more while a run is short (up to ~0.5 s or 2000 runs). */
static int
runs_for(double one)
{
    int n = min_runs;
    if (one > 0) {
        double want = 0.5 / one;
        if (want > n)
            n = want > 2000 ? 2000 : (int)want;
    }
    return n;
}

#define MAXRUNS 2000

static void
die(const char *what, const pg_error *err)
{
    char buf[1400];
    fprintf(stderr, "pf bench: %s: %s\n", what, pg_error_format(err, buf, sizeof buf));
    exit(1);
}

static long
minor_faults(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

/* One AC solve from scratch of w: seconds in *t, minor page faults in *faults. */
static void
solve_counted(const pg_world *w, double *t, long *faults)
{
    pg_error err = {0};
    pg_pf_result *res = NULL;
    long f0 = minor_faults();
    double t0 = pgi_now();
    if (pg_pf_solve(w, NULL, &res, &err))
        die("solve", &err);
    *t = pgi_now() - t0;
    *faults = minor_faults() - f0;
    if (!res->converged) {
        fprintf(stderr, "pf bench: did not converge: %s\n", res->reason);
        exit(1);
    }
    pg_pf_result_free(res);
}

/* The child of the new-process measurement: reads the case, solves it once, prints the time and
 * the faults of the solve. */
static int
fresh_child(const char *path)
{
    pg_error err = {0};
    pg_world *w = NULL;
    if (pg_matpower_read_file(path, &w, NULL, &err))
        die(path, &err);
    double t;
    long faults;
    solve_counted(w, &t, &faults);
    printf("%.9f %ld\n", t, faults);
    pg_world_free(w);
    return 0;
}

/* Runs this program as a fresh-process child for path; its time and faults. */
static void
fresh_run(const char *self, const char *path, double *t, long *faults)
{
    int fds[2];
    if (pipe(fds) < 0) {
        perror("pf bench: pipe");
        exit(1);
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("pf bench: fork");
        exit(1);
    }
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl(self, self, "--fresh-child", path, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char buf[128] = "";
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    buf[n > 0 ? n : 0] = '\0';
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || sscanf(buf, "%lf %ld", t, faults) != 2) {
        fprintf(stderr, "pf bench: the child for %s failed\n", path);
        exit(1);
    }
}

static double
median_long(const long *v, int n)
{
    static double d[MAXRUNS];
    for (int i = 0; i < n; i++)
        d[i] = (double)v[i];
    return bench_median(d, n);
}

/* The second table's row: AC from scratch in this process, on a trimmed heap, in a new process. */
static void
bench_fresh(const char *self, const char *dir, const char *name)
{
    static double t[MAXRUNS];
    static long f[MAXRUNS];
    char path[1024];
    snprintf(path, sizeof path, "%s/matpower/cases/%s.m", dir, name);
    pg_error err = {0};
    pg_world *w = NULL;
    if (pg_matpower_read_file(path, &w, NULL, &err))
        die(path, &err);
    int n = min_runs;
    for (int r = 0; r < n; r++)
        solve_counted(w, &t[r], &f[r]);
    double cold = bench_median(t, n), cold_f = median_long(f, n);
#ifdef __GLIBC__
    for (int r = 0; r < n; r++) {
        malloc_trim(0);
        solve_counted(w, &t[r], &f[r]);
    }
    double trim = bench_median(t, n), trim_f = median_long(f, n);
#else
    double trim = 0, trim_f = 0;
#endif
    for (int r = 0; r < n; r++)
        fresh_run(self, path, &t[r], &f[r]);
    double fresh = bench_median(t, n), fresh_f = median_long(f, n);
    printf("%-11s %9.4f %7.0f %9.4f %7.0f %9.4f %7.0f\n", name, cold * 1e3, cold_f, trim * 1e3,
           trim_f, fresh * 1e3, fresh_f);
    fflush(stdout);
    pg_world_free(w);
}

static void
bench_case(const char *dir, const char *name)
{
    static double t[MAXRUNS];
    char path[1024];
    snprintf(path, sizeof path, "%s/matpower/cases/%s.m", dir, name);
    pg_error err = {0};
    pg_world *w = NULL;

    double t0 = pgi_now();
    if (pg_matpower_read_file(path, &w, NULL, &err))
        die(path, &err);
    int n = runs_for(pgi_now() - t0);
    pg_world_free(w);
    for (int r = 0; r < n; r++) {
        t0 = pgi_now();
        if (pg_matpower_read_file(path, &w, NULL, &err))
            die(path, &err);
        t[r] = pgi_now() - t0;
        if (r < n - 1)
            pg_world_free(w);
    }
    double parse = bench_median(t, n);

    for (int r = 0; r < MAXRUNS; r++) {
        pg_pf_admittance *y = NULL;
        t0 = pgi_now();
        if (pg_pf_admittance_build(&y, w, &err))
            die("admittance", &err);
        t[r] = pgi_now() - t0;
        pg_pf_admittance_free(y);
        if (r + 1 >= runs_for(t[0]))
            n = r + 1, r = MAXRUNS;
    }
    double ybus = bench_median(t, n);

    /* AC from scratch: a new solver each time (admittance, islands, Jacobian pattern, KLU
     * analysis and factorization, iterations, results). */
    pg_pf_result *res = NULL;
    int iterations = 0;
    for (int r = 0; r < MAXRUNS; r++) {
        t0 = pgi_now();
        if (pg_pf_solve(w, NULL, &res, &err))
            die("solve", &err);
        t[r] = pgi_now() - t0;
        iterations = res->iterations;
        if (!res->converged) {
            fprintf(stderr, "pf bench: %s did not converge: %s\n", name, res->reason);
            exit(1);
        }
        pg_pf_result_free(res);
        if (r + 1 >= runs_for(t[0]))
            n = r + 1, r = MAXRUNS;
    }
    double cold = bench_median(t, n);

    /* AC warm: the same solver again (symbolic analysis and pivot order reused). */
    pg_pf_solver *s = NULL;
    if (pg_pf_solver_new(&s, NULL, &err) || pg_pf_solver_solve(s, w, &res, &err))
        die("solver", &err);
    pg_pf_result_free(res);
    for (int r = 0; r < MAXRUNS; r++) {
        t0 = pgi_now();
        if (pg_pf_solver_solve(s, w, &res, &err))
            die("solve", &err);
        t[r] = pgi_now() - t0;
        pg_pf_result_free(res);
        if (r + 1 >= runs_for(t[0]))
            n = r + 1, r = MAXRUNS;
    }
    double warm = bench_median(t, n);

    /* AC warm from a new start each time: two copies of the world whose reference angles differ
     * by 1e-9 degrees, solved in turn, so the factors kept for a repeated start never apply and
     * only the symbolic analysis and the pivot order are reused. */
    pg_world *w2 = NULL;
    if (pg_world_clone(&w2, w, &err))
        die("clone", &err);
    for (size_t b = 0; b < w2->n_buses; b++)
        if (w2->buses[b].type == PG_BUS_REF)
            w2->buses[b].va += 1e-9;
    for (int r = 0; r < MAXRUNS; r++) {
        t0 = pgi_now();
        if (pg_pf_solver_solve(s, r % 2 ? w2 : w, &res, &err))
            die("solve", &err);
        t[r] = pgi_now() - t0;
        pg_pf_result_free(res);
        if (r + 1 >= runs_for(t[0]))
            n = r + 1, r = MAXRUNS;
    }
    double warm_new = bench_median(t, n);
    pg_world_free(w2);
    double refac = pgi_pf_solver_time_refactor(s, runs_for(warm / (iterations + 1)));
    pg_pf_solver_info info;
    pg_pf_solver_get_info(s, &info);
    pg_pf_solver_free(s);

    /* DC: from scratch, and warm (the factorization of B is kept). */
    pg_pf_options dco;
    pg_pf_options_init(&dco);
    dco.dc = true;
    for (int r = 0; r < MAXRUNS; r++) {
        t0 = pgi_now();
        if (pg_pf_solve(w, &dco, &res, &err))
            die("dc solve", &err);
        t[r] = pgi_now() - t0;
        pg_pf_result_free(res);
        if (r + 1 >= runs_for(t[0]))
            n = r + 1, r = MAXRUNS;
    }
    double dccold = bench_median(t, n);
    if (pg_pf_solver_new(&s, &dco, &err) || pg_pf_solver_solve(s, w, &res, &err))
        die("dc solver", &err);
    pg_pf_result_free(res);
    for (int r = 0; r < MAXRUNS; r++) {
        t0 = pgi_now();
        if (pg_pf_solver_solve(s, w, &res, &err))
            die("dc solve", &err);
        t[r] = pgi_now() - t0;
        pg_pf_result_free(res);
        if (r + 1 >= runs_for(t[0]))
            n = r + 1, r = MAXRUNS;
    }
    double dcwarm = bench_median(t, n);
    pg_pf_solver_free(s);

    printf("%-11s %5zu %6d %7d %8.3f %7.3f %8.4f %8.4f %8.4f %3d %8.4f %5.3f %5.3f %8.4f %8.4f\n",
           name, w->n_buses, info.jacobian_n, info.jacobian_nnz, parse * 1e3, ybus * 1e3,
           cold * 1e3, warm_new * 1e3, warm * 1e3, iterations, refac * 1e3,
           warm_new / (iterations * refac), warm / (iterations * refac), dccold * 1e3,
           dcwarm * 1e3);
    fflush(stdout);
    pg_world_free(w);
}

int
main(int argc, char **argv)
{
    const char *dir = PG_DATA_DIR;
    const char *sel[64];
    int nsel = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            min_runs = atoi(argv[++i]);
            if (min_runs < 1 || min_runs > MAXRUNS) {
                fprintf(stderr, "pf bench: --runs must be 1..%d\n", MAXRUNS);
                return 2;
            }
        } else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (strcmp(argv[i], "--fresh-child") == 0 && i + 1 < argc) {
            return fresh_child(argv[i + 1]);
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("Usage: pf [--runs N] [--data DIR] [case ...]\n");
            return 0;
        } else if (nsel < 64) {
            sel[nsel++] = argv[i];
        }
    }
    if (nsel == 0)
        for (size_t i = 0; i < sizeof default_cases / sizeof *default_cases; i++)
            sel[nsel++] = default_cases[i];
    printf("times in ms, medians of >= %d runs.\n"
           "AC cold: from the world, new solver (admittance, analysis, factorization, results).\n"
           "AC warm: solver reused (symbolic analysis and pivot order), a new start each time.\n"
           "AC same: solver reused, the same start again (the starting Jacobian's factors kept).\n"
           "ratio = warm / (iterations x one KLU refactorization + solve)\n",
           min_runs);
    printf("%-11s %5s %6s %7s %8s %7s %8s %8s %8s %3s %8s %5s %5s %8s %8s\n", "case", "buses",
           "J n", "J nnz", "parse", "Ybus", "AC cold", "AC warm", "AC same", "it", "refac+sl",
           "ratio", "same", "DC cold", "DC warm");
    for (int i = 0; i < nsel; i++)
        bench_case(dir, sel[i]);

    /* The program itself, for the new-process runs. */
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) {
        snprintf(self, sizeof self, "%s", argv[0]);
        len = (ssize_t)strlen(self);
    }
    self[len] = '\0';
    printf("\nAC from scratch (pg_pf_solve) as a user meets it: ms and minor page faults per "
           "solve, medians of %d runs.\n"
           "in process: heap grown by earlier solves; trimmed: malloc_trim(0) before each solve; "
           "new process: this program run again per solve (reads the case, solves once).\n",
           min_runs);
    printf("%-11s %9s %7s %9s %7s %9s %7s\n", "case", "in proc", "faults", "trimmed", "faults",
           "new proc", "faults");
    for (int i = 0; i < nsel; i++)
        bench_fresh(self, dir, sel[i]);
    return 0;
}
