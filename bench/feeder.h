/* A generated radial feeder for the DC OPF benchmark (bench/dcopf.c) and tests: n buses in a
 * tree grown from bus 1 (the reference), each new bus hanging from the previous one 70% of the
 * time and otherwise from one of the 50 before it, so the feeder has long laterals and short
 * spurs; a load of 0.1 to 0.2 MW on every bus but the first; one generator at the reference with
 * a quadratic cost. Branches have x from 0.01 to 0.02 p.u. and, when rated, a rating of twice
 * the load they carry (so the network is in the problem but never binds). The same n and seed
 * give the same feeder. A header, since every .c file in bench/ is built as a program. */
#ifndef PG_BENCH_FEEDER_H
#define PG_BENCH_FEEDER_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "plurigrid/model.h"

/* The generator's cost, $/h: FEEDER_C1 p + FEEDER_C2 p^2 (p in MW). */
#define FEEDER_C1 20.0
#define FEEDER_C2 0.01

static inline double
feeder_uniform(unsigned long long *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

/* A new feeder of n >= 2 buses, or NULL with err filled. parent (n entries, may be NULL) gets
 * each bus's parent bus index (0 for bus 0 itself). */
static inline pg_world *
feeder_make(size_t n, unsigned long long seed, bool rated, size_t *parent, pg_error *err)
{
    pg_world *w = NULL;
    size_t *par = malloc(n * sizeof *par);
    double *load = malloc(n * sizeof *load), *down = malloc(n * sizeof *down);
    if (!par || !load || !down) {
        pg_error_set(err, PG_ENOMEM, "out of memory");
        goto fail;
    }
    if (pg_world_new(&w, "feeder", 100.0, err))
        goto fail;
    unsigned long long s = seed;
    char name[32];
    for (size_t i = 0; i < n; i++) {
        pg_bus b;
        pg_bus_init(&b);
        snprintf(name, sizeof name, "b%zu", i + 1);
        b.name = name;
        b.number = (int)i + 1;
        b.type = i == 0 ? PG_BUS_REF : PG_BUS_PQ;
        b.base_kv = 20;
        if (pg_world_add_bus(w, &b, NULL, err))
            goto fail;
        par[i] = 0;
        if (i > 0)
            par[i] = feeder_uniform(&s) < 0.7 || i < 2
                         ? i - 1
                         : (i > 50 ? i - 50 : 0) +
                               (size_t)(feeder_uniform(&s) * (double)(i > 50 ? 50 : i));
        load[i] = i == 0 ? 0.0 : 0.1 + 0.1 * feeder_uniform(&s);
        down[i] = load[i];
    }
    for (size_t i = n; i-- > 1;) /* children come after their parents */
        down[par[i]] += down[i];
    for (size_t i = 1; i < n; i++) {
        pg_branch br;
        pg_branch_init(&br);
        snprintf(name, sizeof name, "l%zu", i + 1);
        br.name = name;
        br.from = par[i];
        br.to = i;
        br.r = 0.005;
        br.x = 0.01 + 0.01 * feeder_uniform(&s);
        br.rate_a = rated ? 2 * down[i] : 0;
        if (pg_world_add_branch(w, &br, NULL, err))
            goto fail;
        pg_load l;
        pg_load_init(&l);
        snprintf(name, sizeof name, "d%zu", i + 1);
        l.name = name;
        l.bus = i;
        l.p = load[i];
        l.q = 0.2 * load[i];
        if (pg_world_add_load(w, &l, NULL, err))
            goto fail;
    }
    pg_thermal t;
    pg_thermal_init(&t);
    t.name = "g1";
    t.bus = 0;
    t.pmax = 2 * down[0] + 1;
    t.qmin = -t.pmax;
    t.qmax = t.pmax;
    const double coef[3] = {0, FEEDER_C1, FEEDER_C2};
    if (pg_cost_set_polynomial(&t.cost, coef, 3, err) || pg_world_add_thermal(w, &t, NULL, err)) {
        pg_cost_clear(&t.cost);
        goto fail;
    }
    pg_cost_clear(&t.cost);
    if (parent)
        for (size_t i = 0; i < n; i++)
            parent[i] = par[i];
    free(par);
    free(load);
    free(down);
    return w;
fail:
    free(par);
    free(load);
    free(down);
    pg_world_free(w);
    return NULL;
}

#endif
