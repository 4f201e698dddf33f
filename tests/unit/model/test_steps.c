/* The model's one place for islands, the world at one step and series resampling: islands by
 * hand-counted cases and as the power flow reports them, resampled values by closed form, the
 * cap on the steps resampling may make, and the per-step values every solver shares. */
#include "harness.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"
#include "plurigrid/io.h"
#include "plurigrid/pf.h"

static size_t
add_bus(pg_world *w, int number, pg_bus_type type)
{
    pg_bus b;
    pg_bus_init(&b);
    char name[16];
    snprintf(name, sizeof name, "b%d", number);
    b.name = name;
    b.number = number;
    b.type = type;
    size_t i = PG_NONE;
    assert_int_equal(pg_world_add_bus(w, &b, &i, NULL), PG_OK);
    return i;
}

static void
add_line(pg_world *w, size_t f, size_t t, bool in_service)
{
    pg_branch br;
    pg_branch_init(&br);
    char name[32];
    snprintf(name, sizeof name, "l%zu", w->n_branches + 1);
    br.name = name;
    br.from = f;
    br.to = t;
    br.x = 0.1;
    br.in_service = in_service;
    assert_int_equal(pg_world_add_branch(w, &br, NULL, NULL), PG_OK);
}

/* Seven buses: {0, 2, 6} joined (not in bus order), {1, 4}, bus 3 isolated by type though a
 * branch reaches it, bus 5 alone (its only branch is out of service). */
static void
test_islands_by_hand(void **state)
{
    (void)state;
    pg_world *w = NULL;
    assert_int_equal(pg_world_new(&w, "islands", 100, NULL), PG_OK);
    pg_bus_type types[] = {PG_BUS_REF, PG_BUS_REF, PG_BUS_PQ, PG_BUS_ISOLATED,
                           PG_BUS_PQ,  PG_BUS_PQ,  PG_BUS_PQ};
    for (int b = 0; b < 7; b++)
        add_bus(w, 10 + b, types[b]);
    add_line(w, 6, 2, true);
    add_line(w, 4, 1, true);
    add_line(w, 2, 0, true);
    add_line(w, 0, 3, true);  /* to an isolated bus: not a connection */
    add_line(w, 5, 4, false); /* out of service */
    size_t island[7];
    assert_int_equal(pgi_world_islands(w, island), 3);
    size_t want[] = {0, 1, 0, PG_NONE, 1, 2, 0};
    for (int b = 0; b < 7; b++)
        assert_int_equal(island[b], want[b]);
    /* The power flow reports the same islands. */
    pg_thermal t;
    pg_thermal_init(&t);
    t.name = "g0";
    t.bus = 0;
    t.pmax = 100;
    assert_int_equal(pg_world_add_thermal(w, &t, NULL, NULL), PG_OK);
    t.name = "g1";
    t.bus = 1;
    assert_int_equal(pg_world_add_thermal(w, &t, NULL, NULL), PG_OK);
    pg_pf_result *r = NULL;
    pg_error err = {0};
    assert_int_equal(pg_pf_solve(w, NULL, &r, &err), PG_OK);
    assert_int_equal(r->n_islands, 3);
    for (int b = 0; b < 7; b++)
        assert_int_equal(r->island[b], want[b]);
    assert_int_equal(r->islands[2].status, PG_PF_ISLAND_NO_REFERENCE);
    pg_pf_result_free(r);
    /* An empty world has none. */
    pg_world *e = NULL;
    assert_int_equal(pg_world_new(&e, "e", 100, NULL), PG_OK);
    assert_int_equal(pgi_world_islands(e, NULL), 0);
    pg_world_free(e);
    pg_world_free(w);
}

/* On a large real network, with branches taken out so that it falls apart: the model's islands
 * are the power flow's. */
static void
test_islands_match_power_flow(void **state)
{
    (void)state;
    pg_world *w = NULL;
    pg_error err = {0};
    assert_int_equal(pg_world_read(pgt_data_path("matpower/cases/case300.m"), NULL, &w, NULL, &err),
                     PG_OK);
    for (size_t k = 0; k < w->n_branches; k += 7)
        w->branches[k].in_service = false;
    w->buses[5].type = PG_BUS_ISOLATED;
    size_t *island = malloc(w->n_buses * sizeof *island);
    assert_non_null(island);
    size_t n = pgi_world_islands(w, island);
    assert_true(n > 1);
    pg_pf_result *r = NULL;
    int rc = pg_pf_solve(w, NULL, &r, &err);
    assert_int_equal(rc, PG_OK);
    assert_int_equal(r->n_islands, n);
    size_t counted = 0;
    for (size_t b = 0; b < w->n_buses; b++) {
        assert_int_equal(r->island[b], island[b]);
        counted += island[b] != PG_NONE;
    }
    size_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += r->islands[i].n_buses;
        assert_int_equal(island[r->islands[i].first_bus], i); /* numbered by lowest bus */
        if (i > 0)
            assert_true(r->islands[i].first_bus > r->islands[i - 1].first_bus);
    }
    assert_int_equal(sum, counted);
    pg_pf_result_free(r);
    free(island);
    pg_world_free(w);
}

static pg_world *
series_world(const double *v, size_t n, double step_h)
{
    pg_world *w = NULL;
    assert_int_equal(pg_world_new(&w, "s", 100, NULL), PG_OK);
    add_bus(w, 1, PG_BUS_REF);
    size_t s = PG_NONE;
    assert_int_equal(pg_world_add_series(w, "s", step_h, v, n, &s, NULL), PG_OK);
    pg_load l;
    pg_load_init(&l);
    l.name = "l";
    l.bus = 0;
    l.p = 10;
    l.p_series = s;
    assert_int_equal(pg_world_add_load(w, &l, NULL, NULL), PG_OK);
    return w;
}

/* Values over horizon steps are the series' means over them (closed forms). */
static void
test_resampling(void **state)
{
    (void)state;
    double v[] = {1, 2, 3, 4, 5, 6, 7, 8};
    pg_world *w = series_world(v, 8, 1.0);
    pg_error err = {0};
    pgi_horizon h;
    /* the series' own steps, from step 2 */
    assert_int_equal(pgi_horizon_make(&h, w, 2, 0, 0, &err), PG_OK);
    assert_int_equal(h.n_steps, 6);
    assert_near(h.step_h, 1, 0);
    for (size_t t = 0; t < 6; t++)
        assert_near(pgi_horizon_value(&h, w, 0, t), v[t + 2], 0);
    assert_near(pgi_horizon_cover_h(&h, w, 0), 6, 0);
    assert_near(pgi_horizon_value(&h, w, PG_NONE, 3), 1, 0);
    /* two-hour steps average pairs; 2.5-hour steps straddle them */
    assert_int_equal(pgi_horizon_make(&h, w, 0, 2.0, 0, &err), PG_OK);
    assert_int_equal(h.n_steps, 4);
    for (size_t t = 0; t < 4; t++)
        assert_near(pgi_horizon_value(&h, w, 0, t), 2.0 * (double)t + 1.5, 1e-12);
    assert_int_equal(pgi_horizon_make(&h, w, 0, 2.5, 0, &err), PG_OK);
    assert_int_equal(h.n_steps, 3);
    assert_near(pgi_horizon_value(&h, w, 0, 1), (0.5 * 3 + 4 + 5) / 2.5 /* hours 2.5 to 5 */,
                1e-12);
    /* quarter-hour steps repeat each value four times */
    assert_int_equal(pgi_horizon_make(&h, w, 0, 0.25, 0, &err), PG_OK);
    assert_int_equal(h.n_steps, 32);
    for (size_t t = 0; t < 32; t++)
        assert_near(pgi_horizon_value(&h, w, 0, t), v[t / 4], 0);
    /* a given number of steps is taken as it is */
    assert_int_equal(pgi_horizon_make(&h, w, 1, 0.5, 3, &err), PG_OK);
    assert_int_equal(h.n_steps, 3);
    assert_near(pgi_horizon_value(&h, w, 0, 2), 3, 0);
    /* no series: one step */
    pg_world *plain = NULL;
    assert_int_equal(pg_world_new(&plain, "p", 100, NULL), PG_OK);
    assert_int_equal(pgi_horizon_make(&h, plain, 0, 0, 0, &err), PG_OK);
    assert_int_equal(h.n_steps, 1);
    pg_world_free(plain);
    /* starts past the end, or ends before one step */
    assert_int_equal(pgi_horizon_make(&h, w, 8, 0, 0, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "only 8 steps"));
    assert_int_equal(pgi_horizon_make(&h, w, 6, 3.0, 0, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "less than one step"));
    pg_world_free(w);
}

/* Resampling may not make more than PG_MAX_STEPS steps: a tiny step length is refused with the
 * limit named, before anything its size is allocated. */
static void
test_resampling_cap(void **state)
{
    (void)state;
    double v[24];
    for (int i = 0; i < 24; i++)
        v[i] = 1;
    pg_world *w = series_world(v, 24, 1.0);
    pg_error err = {0};
    pgi_horizon h;
    double tiny[] = {1e-6, 1e-9, 1e-300, 5e-324, 24.0 / (PG_MAX_STEPS + 1)};
    for (size_t i = 0; i < sizeof tiny / sizeof *tiny; i++) {
        pgt_alloc_fail_after(LONG_MAX);
        assert_int_equal(pgi_horizon_make(&h, w, 0, tiny[i], 0, &err), PG_EINVAL);
        assert_int_equal(pgt_alloc_count(), 0);
        assert_non_null(strstr(err.msg, "100000 steps"));
    }
    pgt_alloc_fail_after(-1);
    assert_int_equal(pgi_horizon_make(&h, w, 0, 24.0 / PG_MAX_STEPS, 0, &err), PG_OK);
    assert_int_equal(h.n_steps, PG_MAX_STEPS);
    assert_int_equal(pgi_horizon_make(&h, w, 0, 1e-6, PG_MAX_STEPS + 1, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "at most 100000"));
    pg_world_free(w);
}

/* The one place that sets a step gives what pg_world_at_step gives, for every hour of the hello
 * microworld (loads, renewables' P and Q from their power factor). */
static void
test_set_step_is_at_step(void **state)
{
    (void)state;
    pg_world *w = NULL, *c = NULL;
    pg_error err = {0};
    assert_int_equal(
        pg_world_read(pgt_source_path("examples/hello-microworld.json"), NULL, &w, NULL, &err),
        PG_OK);
    assert_int_equal(pg_world_clone(&c, w, &err), PG_OK);
    pgi_horizon h;
    assert_int_equal(pgi_horizon_make(&h, w, 0, 0, 0, &err), PG_OK);
    assert_int_equal(h.n_steps, 24);
    double *value = calloc(w->n_series, sizeof *value);
    assert_non_null(value);
    for (size_t t = 0; t < h.n_steps; t++) {
        for (size_t s = 0; s < w->n_series; s++)
            value[s] = pgi_horizon_value(&h, w, s, t);
        pgi_world_set_step(c, w, value);
        pg_world *a = NULL;
        assert_int_equal(pg_world_at_step(&a, w, t, &err), PG_OK);
        for (size_t i = 0; i < w->n_loads; i++) {
            assert_near(c->loads[i].p, a->loads[i].p, 0);
            assert_near(c->loads[i].q, a->loads[i].q, 0);
        }
        for (size_t i = 0; i < w->n_renewables; i++) {
            const pg_renewable *r = &w->renewables[i];
            assert_near(c->renewables[i].p, a->renewables[i].p, 0);
            assert_near(c->renewables[i].q, a->renewables[i].q, 0);
            double pf = r->power_factor;
            assert_near(c->renewables[i].q, c->renewables[i].p * sqrt(1 - pf * pf) / pf, 1e-9);
        }
        pg_world_free(a);
    }
    free(value);
    pg_world_free(c);
    pg_world_free(w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_islands_by_hand),     cmocka_unit_test(test_islands_match_power_flow),
        cmocka_unit_test(test_resampling),          cmocka_unit_test(test_resampling_cap),
        cmocka_unit_test(test_set_step_is_at_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
