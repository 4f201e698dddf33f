/* What the dispatch refuses before a solver sees it, and what it takes: options and world values
 * beyond the ranges the solvers take reliably (docs/dispatch.md) are refused with a message that
 * names the component or option, the value and the range, never a solver's abort; numbers at the
 * limits still solve; the last guard before the solver refuses what slipped through; a step
 * outside the world's series is refused naming the range, and the DC OPF of a step is the OPF of
 * the world at that step; a branch without reactance gets a message that fits the command; the
 * MILP has a default time limit and says when the limit stopped it. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "dispatch/lp.h"
#include "plurigrid/dispatch.h"
#include "plurigrid/io.h"

static pg_world *
hello(void)
{
    pg_world *w = NULL;
    pg_error err = {0};
    if (pg_world_read(pgt_source_path("examples/hello-microworld.json"), NULL, &w, NULL, &err))
        fail_msg("%s", err.msg);
    return w;
}

static void
expect_refused(const pg_world *w, const pg_dispatch_options *o, int code,
               const char *const *needles)
{
    pg_dispatch_result *r = NULL;
    pg_error err = {0};
    int rc = pg_dispatch_run(w, o, &r, &err);
    if (rc != code)
        fail_msg("status %d (%s), expected %d", rc, err.msg, code);
    assert_null(r);
    for (; *needles; needles++)
        if (!strstr(err.msg, *needles))
            fail_msg("error '%s' does not mention '%s'", err.msg, *needles);
}

#define REFUSED(w, o, code, ...)                                                                   \
    do {                                                                                           \
        const char *const needles_[] = {__VA_ARGS__, NULL};                                        \
        expect_refused(w, o, code, needles_);                                                      \
    } while (0)

static void
test_options_out_of_range(void **state)
{
    (void)state;
    pg_world *w = hello();
    pg_dispatch_options o;
    pg_dispatch_options_init(&o);
    o.voll = 1e30;
    REFUSED(w, &o, PG_EINVAL, "value of lost load", "1e+06", "1e+30");
    o.voll = 1e6 * 1.0000001;
    REFUSED(w, &o, PG_EINVAL, "value of lost load");
    pg_dispatch_options_init(&o);
    o.overgen_cost = 1e30;
    REFUSED(w, &o, PG_EINVAL, "over-generation", "1e+06", "1e+30");
    int bad_threads[] = {0, 65, 99, 100, 200, 256, 1000};
    for (size_t i = 0; i < sizeof bad_threads / sizeof *bad_threads; i++) {
        pg_dispatch_options_init(&o);
        o.threads = bad_threads[i];
        char got[32];
        snprintf(got, sizeof got, "got %d", bad_threads[i]);
        REFUSED(w, &o, PG_EINVAL, "threads must be between 1 and 64", got);
    }
    pg_dispatch_options_init(&o);
    o.step_h = 1e30;
    REFUSED(w, &o, PG_EINVAL, "step length", "8784");
    o.step_h = 1e-300;
    REFUSED(w, &o, PG_EINVAL, "step length", "one second", "1e-300");
    o.step_h = 1e-6; /* one step a few milliseconds long: 24 million steps */
    REFUSED(w, &o, PG_EINVAL, "step length", "one second");
    o.step_h = 1.0 / 60; /* 1440 steps of one minute: too many for the MILP to be quick, but fine */
    o.horizon = 2;
    pg_dispatch_result *r = NULL;
    pg_error err = {0};
    if (pg_dispatch_run(w, &o, &r, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(r->n_steps, 2);
    pg_dispatch_result_free(r);
    /* a long series at short steps: more steps than a horizon may have */
    pg_world *year = hello();
    double *v = malloc(8760 * sizeof *v);
    assert_non_null(v);
    for (int i = 0; i < 8760; i++)
        v[i] = 1;
    size_t s = PG_NONE;
    assert_int_equal(pg_world_add_series(year, "year", 1.0, v, 8760, &s, &err), PG_OK);
    free(v);
    for (size_t i = 0; i < year->n_loads; i++)
        year->loads[i].p_series = s;
    for (size_t i = 0; i < year->n_renewables; i++)
        year->renewables[i].availability = PG_NONE;
    pg_dispatch_options_init(&o);
    o.step_h = 0.05;
    REFUSED(year, &o, PG_EINVAL, "1.752e+05 steps", "100000 steps");
    pg_world_free(year);
    pg_world_free(w);
}

/* Every number of the world the problem uses, one at a time. */
static void
test_world_out_of_range(void **state)
{
    (void)state;
    pg_world *w = hello();
    pg_thermal *t = &w->thermals[0];
    pg_error err = {0};

    t->pmax = 1e30; /* it used to be "no commitment satisfies the units' hard limits" */
    REFUSED(w, NULL, PG_EMODEL, "thermal unit 'diesel_gen'", "pmax 1e+30 MW", "1e+07 MW");
    t->pmax = 50;
    t->fixed_cost = 1e30;
    REFUSED(w, NULL, PG_EMODEL, "'diesel_gen'", "fixed cost 1e+30 $/h", "1e+09 $/h");
    t->fixed_cost = 50;
    t->startup_cost = 1e30;
    REFUSED(w, NULL, PG_EMODEL, "'diesel_gen'", "start-up cost 1e+30 $", "0 to 1e+09 $");
    t->startup_cost = 100;
    t->shutdown_cost = 1e30;
    REFUSED(w, NULL, PG_EMODEL, "'diesel_gen'", "shut-down cost 1e+30");
    t->shutdown_cost = 0;
    t->min_up_h = 1e30;
    REFUSED(w, NULL, PG_EMODEL, "'diesel_gen'", "minimum up time 1e+30 h");
    t->min_up_h = 0;
    double lin[] = {0, 1e25}, quad[] = {0, 30, 1e25}, big0[] = {1e30, 30};
    assert_int_equal(pg_cost_set_polynomial(&t->cost, lin, 2, &err), PG_OK);
    REFUSED(w, NULL, PG_EMODEL, "'diesel_gen'", "marginal cost", "1e+25 $/MWh", "1e+06 $/MWh");
    assert_int_equal(pg_cost_set_polynomial(&t->cost, quad, 3, &err), PG_OK);
    REFUSED(w, NULL, PG_EMODEL, "'diesel_gen'", "quadratic cost coefficient of 1e+25");
    assert_int_equal(pg_cost_set_polynomial(&t->cost, big0, 2, &err), PG_OK);
    REFUSED(w, NULL, PG_EMODEL, "'diesel_gen'", "1e+30 $/h", "1e+09 $/h");
    double px[] = {0, 25, 50}, py[] = {0, 750, 1e27};
    assert_int_equal(pg_cost_set_piecewise(&t->cost, px, py, 3, &err), PG_OK);
    REFUSED(w, NULL, PG_EMODEL, "'diesel_gen'", "marginal cost on cost segment 2");
    double ok[] = {0, 30};
    assert_int_equal(pg_cost_set_polynomial(&t->cost, ok, 2, &err), PG_OK);

    w->loads[1].p = 1e30;
    REFUSED(w, NULL, PG_EMODEL, "load 'load_2'", "p 1e+30 MW", "1e+07 MW");
    w->loads[1].p = 8;
    size_t s = w->loads[0].p_series;
    w->series[s].values[5] = 1e30;
    REFUSED(w, NULL, PG_EMODEL, "load 'load_1'", "time series 'active_load' at step 5", "8e+30 MW",
            "1e+07 MW");
    w->series[s].values[5] = 1;
    w->buses[0].gs = 1e30;
    REFUSED(w, NULL, PG_EMODEL, "bus 'bus1'", "shunt conductance 1e+30 MW");
    w->buses[0].gs = 0;
    w->renewables[0].rating = 1e30;
    REFUSED(w, NULL, PG_EMODEL, "renewable unit 'solar_gen'", "rating 1e+30 MW");
    w->renewables[0].rating = 10;
    w->renewables[0].cost = 1e30;
    REFUSED(w, NULL, PG_EMODEL, "renewable unit 'solar_gen'", "cost 1e+30 $/MWh");
    w->renewables[0].cost = 0;
    w->branches[0].rate_a = 1e30;
    REFUSED(w, NULL, PG_EMODEL, "branch 'line12'", "rating", "1e+30 MW");
    w->branches[0].rate_a = 100;
    w->branches[0].x = 1e-300;
    REFUSED(w, NULL, PG_EMODEL, "branch 'line12'", "reactance 1e-300", "1e-06 to 1000 p.u.");
    w->branches[0].x = 0.015;
    w->branches[0].shift = 1e30;
    REFUSED(w, NULL, PG_EMODEL, "branch 'line12'", "phase shift 1e+30");
    w->branches[0].shift = 0;

    pg_storage st;
    pg_storage_init(&st);
    st.name = "battery";
    st.bus = 0;
    st.energy_mwh = 10;
    st.charge_mw = st.discharge_mw = 5;
    assert_int_equal(pg_world_add_storage(w, &st, NULL, &err), PG_OK);
    pg_storage *b = &w->storages[0];
    b->charge_mw = 1e30;
    REFUSED(w, NULL, PG_EMODEL, "storage unit 'battery'", "charge limit 1e+30 MW");
    b->charge_mw = 5;
    b->energy_mwh = 1e30;
    REFUSED(w, NULL, PG_EMODEL, "storage unit 'battery'", "energy capacity 1e+30 MWh");
    b->energy_mwh = 10;
    b->eff_discharge = 1e-300;
    REFUSED(w, NULL, PG_EMODEL, "storage unit 'battery'", "discharge efficiency 1e-300",
            "0.01 to 1");
    b->eff_discharge = 1;
    b->cost = 1e30;
    REFUSED(w, NULL, PG_EMODEL, "storage unit 'battery'", "cost 1e+30 $/MWh");
    b->cost = 0;

    /* everything back in range: it schedules */
    pg_dispatch_result *r = NULL;
    if (pg_dispatch_run(w, NULL, &r, &err))
        fail_msg("%s", err.msg);
    pg_dispatch_result_free(r);
    pg_world_free(w);
}

/* Numbers at the limits solve, and solve right: VOLL and the over-generation cost at 1e6 $/MWh,
 * a start-up cost of 1e9 $ that keeps the diesel off once it stops, 1e7 MW of thermal capacity. */
static void
test_limits_still_solve(void **state)
{
    (void)state;
    pg_world *w = hello();
    pg_dispatch_options o;
    pg_dispatch_options_init(&o);
    o.voll = 1e6;
    o.overgen_cost = 1e6;
    pg_dispatch_result *ref = NULL, *r = NULL;
    pg_error err = {0};
    if (pg_dispatch_run(w, NULL, &ref, &err) || pg_dispatch_run(w, &o, &r, &err))
        fail_msg("%s", err.msg);
    assert_near(r->total_cost, ref->total_cost, 1e-6 * ref->total_cost);
    assert_near(r->total_unserved_mwh, 0, 1e-9);
    pg_dispatch_result_free(r);
    pg_dispatch_result_free(ref);

    w->thermals[0].pmax = 1e7;
    w->thermals[0].startup_cost = 1e9;
    w->thermals[0].initial_on = false;
    if (pg_dispatch_run(w, &o, &r, &err))
        fail_msg("%s", err.msg);
    /* never started: shortage at 1e6 $/MWh is far cheaper than 1e9 $ */
    for (size_t t = 0; t < r->n_steps; t++)
        assert_int_equal(r->thermal_on[t], 0);
    assert_true(r->total_unserved_mwh > 1);
    assert_near(r->cost_startup[0], 0, 0);
    pg_dispatch_result_free(r);
    pg_world_free(w);
}

/* The last guard before the solvers: numbers they abort on are refused, not passed on. */
static void
test_lp_guard(void **state)
{
    (void)state;
    const double bad[] = {1e25, -1e25, NAN, INFINITY, -INFINITY};
    for (int which = 0; which < 4; which++)
        for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
            pgi_lp lp = {0};
            int j = pgi_lp_col(&lp, 0, 10, which == 0 ? bad[k] : 1, true);
            int i = pgi_lp_row(&lp, which == 1 ? bad[k] : 1, which == 1 ? PGI_INF : 5);
            pgi_lp_add(&lp, i, j, which == 2 ? bad[k] : 1);
            if (which == 3)
                lp.col_hi[j] = bad[k];
            pgi_solution s = {0};
            pg_error err = {0};
            /* an infinite upper bound or lower bound is no bound, and fine */
            bool no_bound =
                (which == 3 && bad[k] == INFINITY) || (which == 1 && bad[k] == -INFINITY);
            int want = no_bound ? PG_OK : PG_EINVAL;
            assert_int_equal(pgi_solve_lp(&lp, NULL, &s, &err), want);
            pgi_solution_free(&s);
            memset(&err, 0, sizeof err);
            assert_int_equal(pgi_solve_mip(&lp, NULL, &s, &err), want);
            if (want == PG_EINVAL)
                assert_non_null(strstr(err.msg, "the solvers take"));
            pgi_solution_free(&s);
            pgi_lp_free(&lp);
        }
}

/* The world at step k, built by hand: loads at p times their series' value k, renewables at
 * rating times their availability k, no series left. */
static pg_world *
at_step(const pg_world *w, size_t k)
{
    pg_world *c = NULL;
    pg_error err = {0};
    if (pg_world_clone(&c, w, &err))
        fail_msg("%s", err.msg);
    for (size_t i = 0; i < c->n_loads; i++) {
        pg_load *l = &c->loads[i];
        if (l->p_series != PG_NONE)
            l->p *= c->series[l->p_series].values[k];
        if (l->q_series != PG_NONE)
            l->q *= c->series[l->q_series].values[k];
        l->p_series = l->q_series = PG_NONE;
    }
    for (size_t i = 0; i < c->n_renewables; i++) {
        pg_renewable *r = &c->renewables[i];
        if (r->availability != PG_NONE)
            r->rating *= c->series[r->availability].values[k];
        r->availability = PG_NONE;
    }
    return c;
}

static void
test_opf_step(void **state)
{
    (void)state;
    pg_world *w = hello();
    /* loads that change over the day, so that steps differ in more than the renewables */
    size_t s = w->loads[0].p_series;
    for (size_t k = 0; k < w->series[s].n; k++)
        w->series[s].values[k] = 1.5 + sin((double)k / 3);
    pg_dispatch_options o;
    pg_dispatch_options_init(&o);
    pg_error err = {0};
    pg_dcopf_result *r = NULL;

    o.start_step = 24;
    assert_int_equal(pg_dcopf_solve(w, &o, &r, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "step 24 does not exist"));
    assert_non_null(strstr(err.msg, "0 to 23"));
    o.start_step = 99;
    assert_int_equal(pg_dcopf_solve(w, &o, &r, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "step 99 does not exist"));
    assert_null(r);
    pg_dispatch_result *d = NULL;
    assert_int_equal(pg_dispatch_run(w, &o, &d, &err), PG_EMODEL);
    assert_null(d);

    double objective[2];
    const size_t steps[2] = {6, 12};
    for (int i = 0; i < 2; i++) {
        o.start_step = steps[i];
        pg_dcopf_result *a = NULL, *b = NULL;
        pg_world *ws = at_step(w, steps[i]);
        if (pg_dcopf_solve(w, &o, &a, &err) || pg_dcopf_solve(ws, NULL, &b, &err))
            fail_msg("step %zu: %s", steps[i], err.msg);
        assert_near(a->objective, b->objective, 1e-9 * fabs(b->objective));
        assert_near(a->unserved_mw, b->unserved_mw, 1e-9);
        for (size_t g = 0; g < a->n_thermals; g++)
            assert_near(a->pg[g], b->pg[g], 1e-9);
        for (size_t k = 0; k < a->n_buses; k++) {
            assert_near(a->lmp[k], b->lmp[k], 1e-9);
            assert_near(a->va[k], b->va[k], 1e-9);
        }
        for (size_t k = 0; k < a->n_branches; k++)
            assert_near(a->flow[k], b->flow[k], 1e-9);
        objective[i] = a->objective;
        pg_dcopf_result_free(a);
        pg_dcopf_result_free(b);
        pg_world_free(ws);
    }
    assert_true(fabs(objective[0] - objective[1]) > 1); /* the two steps do differ */

    /* a world without series has one step */
    pg_world *c9 = NULL;
    if (pg_matpower_read_file(pgt_data_path("matpower/cases/case9.m"), &c9, NULL, &err))
        fail_msg("%s", err.msg);
    o.start_step = 3;
    assert_int_equal(pg_dcopf_solve(c9, &o, &r, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "no time series"));
    assert_non_null(strstr(err.msg, "step 3 does not exist"));
    pg_world_free(c9);
    pg_world_free(w);
}

/* A branch without reactance: the OPF's message suggests nothing it lacks (a copper plate). */
static void
test_zero_reactance_messages(void **state)
{
    (void)state;
    pg_world *w = hello();
    w->branches[1].x = 0; /* line13 has r > 0, so the world itself is valid */
    pg_error err = {0};
    pg_dcopf_result *r = NULL;
    assert_int_equal(pg_dcopf_solve(w, NULL, &r, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "branch 'line13' has zero reactance"));
    assert_null(strstr(err.msg, "copper"));
    assert_null(strstr(err.msg, "--network"));
    REFUSED(w, NULL, PG_EMODEL, "branch 'line13' has zero reactance", "copper-plate");
    pg_dispatch_options o;
    pg_dispatch_options_init(&o);
    o.network = PG_NETWORK_COPPER; /* which ignores branches */
    pg_dispatch_result *d = NULL;
    if (pg_dispatch_run(w, &o, &d, &err))
        fail_msg("%s", err.msg);
    pg_dispatch_result_free(d);
    pg_world_free(w);
}

/* 24-hour unit commitment of case118 (54 units with minimum up/down times, start-up costs and
 * loads at 1.5 x the case's) to a zero gap takes from about 3 s (a quiet fast machine) to 10 s;
 * with a 1 s limit the search stops there and says so. */
static void
test_time_limit(void **state)
{
    (void)state;
    pg_dispatch_options o;
    pg_dispatch_options_init(&o);
    assert_near(o.time_limit_s, 300, 0); /* a default limit: a large MILP never runs unbounded */

    pg_world *w = NULL;
    pg_error err = {0};
    if (pg_matpower_read_file(pgt_data_path("matpower/cases/case118.m"), &w, NULL, &err))
        fail_msg("%s", err.msg);
    static const double daily[24] = {0.67, 0.63, 0.60, 0.59, 0.59, 0.60, 0.74, 0.86,
                                     0.95, 0.96, 0.96, 0.95, 0.95, 0.95, 0.93, 0.94,
                                     0.99, 1.00, 1.00, 0.96, 0.91, 0.83, 0.73, 0.63};
    size_t s = PG_NONE;
    assert_int_equal(pg_world_add_series(w, "daily", 1.0, daily, 24, &s, &err), PG_OK);
    for (size_t i = 0; i < w->n_loads; i++) {
        w->loads[i].p_series = s;
        w->loads[i].p *= 1.5;
    }
    for (size_t g = 0; g < w->n_thermals; g++) {
        pg_thermal *t = &w->thermals[g];
        bool big = t->pmax >= 300, mid = t->pmax > 100;
        t->pmin = (big ? 0.4 : mid ? 0.3 : 0.2) * t->pmax;
        t->ramp_up = t->ramp_down = (big ? 0.3 : mid ? 0.5 : 0) * t->pmax;
        t->min_up_h = t->min_down_h = big ? 8 : mid ? 4 : 2;
        t->startup_cost = (big ? 60 : mid ? 30 : 10) * t->pmax;
        t->fixed_cost = 100;
        t->initial_on = t->p > 0;
        t->initial_h = 24;
    }
    o.network = PG_NETWORK_COPPER;
    o.mip_gap = 0;
    o.time_limit_s = 1;
    pg_dispatch_result *r = NULL;
    int rc = pg_dispatch_run(w, &o, &r, &err);
    if (rc == PG_ELIMIT) {
        /* a loaded machine may not reach a first commitment in time: still the limit's report */
        assert_non_null(strstr(err.msg, "time limit of 1 s"));
    } else {
        if (rc)
            fail_msg("%s", err.msg);
        assert_int_equal(r->uc_status, PG_UC_TIME_LIMIT);
        assert_true(r->uc_gap > 0);
        assert_true(r->uc_bound < r->uc_objective);
        assert_true(r->uc_seconds < 1 + 5);
        char *json = NULL;
        assert_int_equal(pg_dispatch_result_json(w, r, NULL, &json, &err), PG_OK);
        assert_non_null(strstr(json, "\"time_limit\""));
        free(json);
        pg_dispatch_result_free(r);
    }
    pg_world_free(w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_out_of_range),
        cmocka_unit_test(test_world_out_of_range),
        cmocka_unit_test(test_limits_still_solve),
        cmocka_unit_test(test_lp_guard),
        cmocka_unit_test(test_opf_step),
        cmocka_unit_test(test_zero_reactance_messages),
        cmocka_unit_test(test_time_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
