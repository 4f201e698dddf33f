/* The world container: adders copy and check, clone is deep, validation names the problem, the
 * per-step view scales loads and renewables, cost curves evaluate as documented. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "plurigrid/model.h"

static pg_world *
small_world(void)
{
    pg_world *w = NULL;
    pg_error err = {0};
    assert_int_equal(pg_world_new(&w, "small", 100.0, &err), PG_OK);
    pg_bus b;
    pg_bus_init(&b);
    b.name = "a";
    b.number = 1;
    b.type = PG_BUS_REF;
    assert_int_equal(pg_world_add_bus(w, &b, NULL, &err), PG_OK);
    b.name = "b";
    b.number = 2;
    b.type = PG_BUS_PQ;
    assert_int_equal(pg_world_add_bus(w, &b, NULL, &err), PG_OK);
    double prof[] = {0.5, 1.0, 0.75};
    size_t s = PG_NONE;
    assert_int_equal(pg_world_add_series(w, "profile", 1.0, prof, 3, &s, &err), PG_OK);
    double avail[] = {0.0, 0.5, 1.0};
    size_t sa = PG_NONE;
    assert_int_equal(pg_world_add_series(w, "sun", 1.0, avail, 3, &sa, &err), PG_OK);
    pg_branch br;
    pg_branch_init(&br);
    br.name = "ab";
    br.from = 0;
    br.to = 1;
    br.x = 0.1;
    assert_int_equal(pg_world_add_branch(w, &br, NULL, &err), PG_OK);
    pg_load l;
    pg_load_init(&l);
    l.name = "ld";
    l.bus = 1;
    l.p = 40;
    l.q = 10;
    l.p_series = s;
    assert_int_equal(pg_world_add_load(w, &l, NULL, &err), PG_OK);
    pg_thermal t;
    pg_thermal_init(&t);
    t.name = "gen";
    t.bus = 0;
    t.pmax = 100;
    double c[] = {5, 20, 0.1};
    assert_int_equal(pg_cost_set_polynomial(&t.cost, c, 3, &err), PG_OK);
    assert_int_equal(pg_world_add_thermal(w, &t, NULL, &err), PG_OK);
    pg_cost_clear(&t.cost);
    pg_renewable r;
    pg_renewable_init(&r);
    r.name = "pv";
    r.bus = 1;
    r.rating = 10;
    r.power_factor = 0.8;
    r.availability = sa;
    assert_int_equal(pg_world_add_renewable(w, &r, NULL, &err), PG_OK);
    return w;
}

static void
test_build_and_validate(void **state)
{
    (void)state;
    pg_world *w = small_world();
    pg_error err = {0};
    assert_int_equal(pg_world_validate(w, &err), PG_OK);
    assert_int_equal(pg_world_find_bus(w, "b"), 1);
    assert_int_equal(pg_world_find_bus_number(w, 1), 0);
    assert_true(pg_world_find_bus(w, "zz") == PG_NONE);
    size_t n = 0;
    double step = 0;
    assert_int_equal(pg_world_horizon(w, &n, &step, &err), PG_OK);
    assert_int_equal(n, 3);
    assert_near(step, 1.0, 0);
    assert_near(pg_world_load_mw(w, 1), 40.0, 1e-12);
    assert_near(pg_world_load_mw(w, 0), 20.0, 1e-12);
    assert_near(pg_world_load_mw(w, PG_NONE), 40.0, 1e-12);
    pg_world_free(w);
}

static void
test_duplicates_rejected(void **state)
{
    (void)state;
    pg_world *w = small_world();
    pg_error err = {0};
    pg_bus b;
    pg_bus_init(&b);
    b.name = "a";
    b.number = 9;
    assert_int_equal(pg_world_add_bus(w, &b, NULL, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "'a'"));
    b.name = "c";
    b.number = 2;
    assert_int_equal(pg_world_add_bus(w, &b, NULL, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "number 2"));
    assert_int_equal(w->n_buses, 2);
    pg_world_free(w);
}

static void
test_validate_reports_component(void **state)
{
    (void)state;
    pg_world *w = small_world();
    pg_error err = {0};
    w->thermals[0].pmin = 200;
    assert_int_equal(pg_world_validate(w, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "thermal unit 'gen'"));
    assert_non_null(strstr(err.msg, "pmin"));
    w->thermals[0].pmin = 0;
    w->buses[1].vm = NAN;
    assert_int_equal(pg_world_validate(w, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "bus 'b'"));
    w->buses[1].vm = 1;
    w->series[1].values[2] = 1.5;
    assert_int_equal(pg_world_validate(w, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "availability"));
    pg_world_free(w);
}

static void
test_clone_is_deep_and_at_step_scales(void **state)
{
    (void)state;
    pg_world *w = small_world();
    pg_world *c = NULL, *s = NULL;
    pg_error err = {0};
    assert_int_equal(pg_world_clone(&c, w, &err), PG_OK);
    assert_ptr_not_equal(c->buses[0].name, w->buses[0].name);
    assert_string_equal(c->buses[0].name, "a");
    assert_ptr_not_equal(c->thermals[0].cost.coef, w->thermals[0].cost.coef);
    assert_int_equal(pg_world_at_step(&s, w, 2, &err), PG_OK);
    assert_near(s->loads[0].p, 30.0, 1e-12);
    assert_near(s->loads[0].q, 10.0, 1e-12); /* no q series: constant */
    assert_near(s->renewables[0].p, 10.0, 1e-12);
    assert_near(s->renewables[0].q, 7.5, 1e-12); /* tan(acos 0.8) = 0.75 */
    pg_world_free(s);
    /* Series do not repeat: step 4 of 3-value series does not exist. */
    s = NULL;
    assert_int_equal(pg_world_at_step(&s, w, 4, &err), PG_EMODEL);
    assert_null(s);
    assert_non_null(strstr(err.msg, "load 'ld'"));
    assert_non_null(strstr(err.msg, "'profile'"));
    assert_non_null(strstr(err.msg, "do not repeat"));
    assert_true(isnan(pg_world_load_mw(w, 4)));
    pg_world_free(c);
    pg_world_free(w);
}

/* The world at a step holds that step's values and no series that would scale them again:
 * taking its step 0 gives it back unchanged, its loads have no series, and each renewable's
 * availability is the one value of that step (so dispatch still sees it). */
static void
test_at_step_is_a_fixed_point(void **state)
{
    (void)state;
    pg_world *w = small_world();
    pg_error err = {0};
    for (size_t k = 0; k < 3; k++) {
        pg_world *s = NULL, *s0 = NULL;
        assert_int_equal(pg_world_at_step(&s, w, k, &err), PG_OK);
        assert_int_equal(pg_world_validate(s, &err), PG_OK);
        assert_near(s->loads[0].p, 40.0 * w->series[0].values[k], 0);
        assert_true(s->loads[0].p_series == PG_NONE && s->loads[0].q_series == PG_NONE);
        assert_int_equal(s->n_series, 1); /* 'profile' drove only the load: gone */
        assert_string_equal(s->series[0].name, "sun");
        assert_int_equal(s->series[0].n, 1);
        assert_near(s->series[0].values[0], w->series[1].values[k], 0);
        assert_int_equal(s->renewables[0].availability, 0);
        size_t n = 0;
        assert_int_equal(pg_world_horizon(s, &n, NULL, &err), PG_OK);
        assert_int_equal(n, 1);
        assert_near(pg_world_load_mw(s, 0), pg_world_load_mw(w, k), 0);
        assert_int_equal(pg_world_at_step(&s0, s, 0, &err), PG_OK);
        char diff[256] = "";
        if (!pg_world_equal(s, s0, diff, sizeof diff))
            print_error("step %zu: %s\n", k, diff);
        assert_true(pg_world_equal(s, s0, NULL, 0));
        pg_world_free(s0);
        pg_world_free(s);
    }
    /* A world without series is its own step 0. */
    pg_world *plain = NULL, *p0 = NULL;
    assert_int_equal(pg_world_clone(&plain, w, &err), PG_OK);
    plain->loads[0].p_series = PG_NONE;
    plain->renewables[0].availability = PG_NONE;
    plain->renewables[0].p = plain->renewables[0].rating;
    plain->renewables[0].q = 7.5;
    assert_int_equal(pg_world_at_step(&p0, plain, 0, &err), PG_OK);
    assert_int_equal(p0->n_series, 0);
    assert_near(p0->renewables[0].p, 10, 0);
    assert_near(p0->renewables[0].q, 7.5, 1e-12);
    pg_world_free(p0);
    pg_world_free(plain);
    pg_world_free(w);
}

/* A world needs buses, and a base MVA that per-unit arithmetic can take. */
static void
test_validate_no_buses_and_base(void **state)
{
    (void)state;
    pg_error err = {0};
    pg_world *e = NULL;
    assert_int_equal(pg_world_new(&e, "empty", 100.0, &err), PG_OK);
    assert_int_equal(pg_world_validate(e, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "no buses"));
    pg_world_free(e);
    double bad[] = {1e-300, 0, -1, 1e-4, 2e6, 1e300, INFINITY, NAN};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        pg_world *w = NULL;
        assert_int_equal(pg_world_new(&w, "x", bad[i], &err), PG_EMODEL);
        assert_null(w);
        assert_non_null(strstr(err.msg, "base MVA"));
        w = small_world();
        w->base_mva = bad[i];
        assert_int_equal(pg_world_validate(w, &err), PG_EMODEL);
        assert_non_null(strstr(err.msg, "base MVA"));
        pg_world_free(w);
    }
    double good[] = {PG_BASE_MVA_MIN, 1, 100, PG_BASE_MVA_MAX};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        pg_world *w = small_world();
        w->base_mva = good[i];
        assert_int_equal(pg_world_validate(w, &err), PG_OK);
        pg_world_free(w);
    }
}

static void
test_cost_eval(void **state)
{
    (void)state;
    pg_cost c = {0};
    double k[] = {5, 20, 0.1};
    assert_int_equal(pg_cost_set_polynomial(&c, k, 3, NULL), PG_OK);
    assert_near(pg_cost_eval(&c, 10), 5 + 200 + 10, 1e-12);
    assert_near(pg_cost_marginal(&c, 10), 20 + 2 * 0.1 * 10, 1e-12); /* c1 + 2 c2 p */
    assert_near(pg_cost_marginal(&c, 0), 20, 0);
    double x[] = {0, 10, 20}, y[] = {0, 100, 300};
    assert_int_equal(pg_cost_set_piecewise(&c, x, y, 3, NULL), PG_OK);
    assert_near(pg_cost_eval(&c, 5), 50, 1e-12);
    assert_near(pg_cost_eval(&c, 15), 200, 1e-12);
    assert_near(pg_cost_eval(&c, 25), 400, 1e-12); /* extrapolates the last segment */
    assert_near(pg_cost_marginal(&c, 5), 10, 1e-12);
    assert_near(pg_cost_marginal(&c, 15), 20, 1e-12);
    assert_near(pg_cost_marginal(&c, 25), 20, 1e-12);
    assert_int_equal(pg_cost_set_piecewise(&c, x, y, 1, NULL), PG_EMODEL);
    pg_cost_clear(&c);
    assert_near(pg_cost_eval(&c, 5), 0, 0);
    assert_near(pg_cost_marginal(&c, 5), 0, 0);
}

static void
test_validate_finds_duplicates_and_clone_keeps_buses(void **state)
{
    (void)state;
    pg_world *w = small_world();
    pg_world *c = NULL;
    pg_error err = {0};
    assert_int_equal(pg_world_clone(&c, w, &err), PG_OK);
    assert_true(pg_world_equal(w, c, NULL, 0));
    c->buses[1].number = c->buses[0].number;
    assert_int_equal(pg_world_validate(c, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "bus number 1 is used twice"));
    c->buses[1].number = 2;
    free(c->buses[1].name);
    c->buses[1].name = strdup("a");
    assert_int_equal(pg_world_validate(c, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "bus name 'a' is used twice"));
    assert_false(pg_world_equal(w, c, NULL, 0));
    char diff[128];
    pg_world_equal(w, c, diff, sizeof diff);
    assert_string_equal(diff, "buses[1].name: \"b\" vs \"a\"");
    pg_world_free(c);
    pg_world_free(w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_and_validate),
        cmocka_unit_test(test_duplicates_rejected),
        cmocka_unit_test(test_validate_reports_component),
        cmocka_unit_test(test_clone_is_deep_and_at_step_scales),
        cmocka_unit_test(test_validate_finds_duplicates_and_clone_keeps_buses),
        cmocka_unit_test(test_cost_eval),
        cmocka_unit_test(test_at_step_is_a_fixed_point),
        cmocka_unit_test(test_validate_no_buses_and_base),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
