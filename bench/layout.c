/* Layout benchmark: the median time of pg_world_layout (every bus placed) on MATPOWER cases from
 * the reference data folder and on a synthetic meshed grid of the most buses the layout takes
 * (one island of 20,000 buses: the sparse stress model), with the crossing branch pairs and the
 * median branch length of the drawing. Figures go in bench/RESULTS.md.
 *
 *   build/bench/layout [--runs N] [--data DIR] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "core/util.h"
#include "plurigrid/io.h"

static const char *const cases[] = {"case9", "case30", "case118", "case300", "case2383wp"};

static void
die(const char *what, const pg_error *err)
{
    char buf[1400];
    fprintf(stderr, "layout bench: %s: %s\n", what, pg_error_format(err, buf, sizeof buf));
    exit(1);
}

static bool
cross(const pg_bus *p, const pg_bus *q, const pg_bus *r, const pg_bus *s)
{
    double d1 = (q->x - p->x) * (r->y - p->y) - (q->y - p->y) * (r->x - p->x);
    double d2 = (q->x - p->x) * (s->y - p->y) - (q->y - p->y) * (s->x - p->x);
    double d3 = (s->x - r->x) * (p->y - r->y) - (s->y - r->y) * (p->x - r->x);
    double d4 = (s->x - r->x) * (q->y - r->y) - (s->y - r->y) * (q->x - r->x);
    return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
}

static size_t
crossings(const pg_world *w)
{
    size_t n = 0;
    for (size_t i = 0; i < w->n_branches; i++)
        for (size_t j = i + 1; j < w->n_branches; j++) {
            const pg_branch *a = &w->branches[i], *b = &w->branches[j];
            if (a->from == b->from || a->from == b->to || a->to == b->from || a->to == b->to)
                continue;
            n += cross(&w->buses[a->from], &w->buses[a->to], &w->buses[b->from], &w->buses[b->to]);
        }
    return n;
}

static double
median_branch(const pg_world *w)
{
    double *len = malloc((w->n_branches + 1) * sizeof *len);
    if (!len)
        exit(1);
    for (size_t k = 0; k < w->n_branches; k++) {
        const pg_bus *p = &w->buses[w->branches[k].from], *q = &w->buses[w->branches[k].to];
        len[k] = sqrt((p->x - q->x) * (p->x - q->x) + (p->y - q->y) * (p->y - q->y));
    }
    double m = bench_median(len, (int)w->n_branches);
    free(len);
    return m;
}

/* rows x cols buses, each joined to its right and lower neighbours (every fifth row only every
 * third link down), as the layout test's mesh. */
static pg_world *
mesh(size_t rows, size_t cols)
{
    pg_world *w = NULL;
    pg_error err = {0};
    if (pg_world_new(&w, "mesh", 100, &err))
        die("mesh", &err);
    size_t n = rows * cols;
    w->buses = calloc(n, sizeof *w->buses);
    if (!w->buses)
        exit(1);
    w->cap_buses = n;
    for (size_t i = 0; i < n; i++) {
        char name[32];
        pg_bus_init(&w->buses[i]);
        snprintf(name, sizeof name, "b%zu", i + 1);
        w->buses[i].name = pgi_strdup(name);
        w->buses[i].number = (int)(i + 1);
        w->n_buses++;
    }
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) {
            size_t i = r * cols + c,
                   to[2] = {c + 1 < cols ? i + 1 : PG_NONE,
                            r + 1 < rows && (r % 5 != 4 || c % 3 == 0) ? i + cols : PG_NONE};
            for (int k = 0; k < 2; k++) {
                if (to[k] == PG_NONE)
                    continue;
                pg_branch br;
                pg_branch_init(&br);
                char name[48];
                snprintf(name, sizeof name, "l%zu-%zu", i, to[k]);
                br.name = name;
                br.from = i;
                br.to = to[k];
                br.x = 0.1;
                if (pg_world_add_branch(w, &br, NULL, &err))
                    die("mesh", &err);
            }
        }
    return w;
}

/* CPU seconds of this process: on a machine shared with other work the wall-clock time counts
 * the waits for a core too. */
static double
cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void
run(const char *name, const pg_world *w, int runs, bool count_crossings)
{
    double t[64], cpu[64];
    pg_world *c = NULL;
    pg_error err = {0};
    for (int r = 0; r < runs; r++) {
        pg_world_free(c);
        c = NULL;
        if (pg_world_clone(&c, w, &err))
            die("clone", &err);
        double t0 = pgi_now(), c0 = cpu_now();
        if (pg_world_layout(c, true, &err))
            die(name, &err);
        t[r] = pgi_now() - t0;
        cpu[r] = cpu_now() - c0;
    }
    double med = bench_median(t, runs), med_cpu = bench_median(cpu, runs);
    char cr[32] = "-";
    if (count_crossings)
        snprintf(cr, sizeof cr, "%zu", crossings(c));
    printf("| %s | %zu | %zu | %.1f ms | %.1f ms | %s | %.2f |\n", name, w->n_buses, w->n_branches,
           med * 1e3, med_cpu * 1e3, cr, median_branch(c) / 100.0);
    fflush(stdout);
    pg_world_free(c);
}

int
main(int argc, char **argv)
{
    int runs = 9;
    const char *data = "../shared/data";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else {
            fprintf(stderr, "usage: layout [--runs N] [--data DIR]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > 64)
        runs = 9;
    printf("| world | buses | branches | layout, wall (median of %d) | CPU | crossing pairs | "
           "median branch / 100 units |\n|---|---|---|---|---|---|---|\n",
           runs);
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/matpower/cases/%s.m", data, cases[k]);
        pg_world *w = NULL;
        pg_error err = {0};
        if (pg_matpower_read_file(path, &w, NULL, &err))
            die(path, &err);
        run(cases[k], w, runs, true);
        pg_world_free(w);
    }
    pg_world *m = mesh(100, 200);
    run("mesh 100 x 200 (synthetic)", m, runs < 5 ? runs : 5, false);
    pg_world_free(m);
    return 0;
}
