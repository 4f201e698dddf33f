/* The active-inference controller driving a home battery on days of a time-of-use price: it
 * charges more in the low-price hours than in the high ones, keeps the state of charge within its
 * bounds, answers a demand-response event, is deterministic for a seed, and refuses bad
 * parameters and views it cannot drive. The battery's physics are simulated here from the plan,
 * independently of the agent's model. */
#include "node_sim.h"

#include <limits.h>

#include "node/controllers.h"
#include "node/internal.h"

/* A day of hourly retail prices ($/kWh): cheap night and midday, evening peak 17:00-20:00. */
static const double day_price[24] = {0.10, 0.09, 0.09, 0.09, 0.10, 0.11, 0.21, 0.24,
                                     0.23, 0.20, 0.13, 0.11, 0.10, 0.10, 0.12, 0.14,
                                     0.22, 0.41, 0.45, 0.43, 0.38, 0.24, 0.20, 0.18};

typedef struct tcfg {
    pg_node_config c;
    char *keys[16];
    double vals[16];
} tcfg;

static void
tcfg_init(tcfg *t)
{
    memset(t, 0, sizeof *t);
    t->c.param_key = t->keys;
    t->c.param_val = t->vals;
    t->c.grid_connected = true;
}

static void
tcfg_param(tcfg *t, const char *k, double v)
{
    t->keys[t->c.n_params] = (char *)k;
    t->vals[t->c.n_params++] = v;
}

typedef struct trace {
    double battery_kw[24 * 7];
    double soc_at[24 * 7 + 1];
    double charged_low, charged_high, discharged_high, discharged_low;
    double dr_discharge;
} trace;

/* Runs the controller for `hours` hours from empty; dr_hour >= 0 puts a SIMPLE event there. */
static void
run(const tcfg *t, uint64_t seed, int hours, int dr_hour, trace *s)
{
    memset(s, 0, sizeof *s);
    void *st = NULL;
    pg_error err = {0};
    if (pgi_ctl_aif.create(&st, t ? &t->c : NULL, seed, &err))
        fail_msg("create: %s", err.msg);
    const double cap = 10, eta = 0.95;
    double retail[24], feed[24], fixed[24], pv[24];
    pg_dr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.start_h = dr_hour;
    ev.duration_h = 1;
    ev.signal = PG_DR_SIMPLE;
    ev.n_intervals = 1;
    ev.interval_h[0] = 1;
    ev.interval_value[0] = 2;
    pg_node_env env;
    memset(&env, 0, sizeof env);
    env.hours = 1;
    env.horizon = 24;
    env.retail = retail;
    env.feed_in = feed;
    env.grid_connected = true;
    env.events = &ev;
    env.n_events = dr_hour >= 0;
    pg_node_view v;
    memset(&v, 0, sizeof v);
    v.env = &env;
    v.fixed_kwh = fixed;
    v.pv_kwh = pv;
    v.soc_min_kwh = 0;
    v.soc_max_kwh = cap;
    v.charge_max_kw = 2.5;
    v.discharge_max_kw = 2.5;
    v.eta_charge = eta;
    v.eta_discharge = eta;
    double soc = 0;
    for (int h = 0; h < hours; h++) {
        env.t = (size_t)h;
        env.time_h = h;
        env.hour_of_day = h % 24;
        for (int k = 0; k < 24; k++) {
            retail[k] = day_price[(h + k) % 24];
            feed[k] = 0.05;
            fixed[k] = 1;
            pv[k] = 0;
        }
        v.soc_kwh = soc;
        pg_node_plan p;
        if (pgi_ctl_aif.plan(st, &v, &p, &err))
            fail_msg("plan at hour %d: %s", h, err.msg);
        assert_true(isnan(p.hvac_kw));
        /* the battery's physics: bounded by power and by what it holds */
        double b = p.battery_kw;
        assert_true(b <= v.charge_max_kw + 1e-9 && b >= -v.discharge_max_kw - 1e-9);
        if (b > 0)
            soc += b * eta;
        else
            soc += b / eta;
        assert_true(soc >= -1e-9 && soc <= cap + 1e-9);
        s->battery_kw[h] = b;
        s->soc_at[h + 1] = soc;
        double price = day_price[h % 24];
        if (b > 0 && price < 0.15)
            s->charged_low += b;
        if (b > 0 && price > 0.3)
            s->charged_high += b;
        if (b < 0 && price > 0.3)
            s->discharged_high += -b;
        if (b < 0 && price < 0.15)
            s->discharged_low += -b;
        if (h == dr_hour && b < 0)
            s->dr_discharge = -b;
        /* the curve trades the net position at the grid's prices */
        double net = 1 + b;
        assert_int_equal(p.n_points, 1);
        assert_near(p.curve[0].qty, net, 1e-12);
        assert_near(p.curve[0].price, net > 0 ? day_price[h % 24] : 0.05, 1e-12);
    }
    pgi_ctl_aif.destroy(st);
}

static void
test_charges_low_discharges_high(void **state)
{
    (void)state;
    trace s;
    run(NULL, 1, 24 * 4, -1, &s);
    assert_true(s.charged_low > 10);
    assert_true(s.charged_high <= 0.1 * s.charged_low);
    assert_true(s.discharged_high > 5);
    assert_true(s.discharged_low <= 0.1 * s.discharged_high);
}

static void
test_deterministic_for_a_seed(void **state)
{
    (void)state;
    tcfg t;
    tcfg_init(&t);
    tcfg_param(&t, "sample", 1);
    tcfg_param(&t, "depth", 4);
    trace a, b;
    run(&t, 7, 72, -1, &a);
    run(&t, 7, 72, -1, &b);
    assert_memory_equal(a.battery_kw, b.battery_kw, sizeof a.battery_kw);
    assert_memory_equal(a.soc_at, b.soc_at, sizeof a.soc_at);
}

static void
test_answers_a_dr_event(void **state)
{
    (void)state;
    /* an event at 15:00 on the second day, before the peak: a charged battery discharges into
     * the hour after it learns of it, as the event tends to last (dr_stay) */
    trace s, base;
    run(NULL, 1, 24 + 17, -1, &base);
    run(NULL, 1, 24 + 17, 24 + 15, &s);
    double in_event = 0, in_base = 0;
    for (int h = 24 + 15; h <= 24 + 16; h++) {
        in_event += -fmin(0.0, s.battery_kw[h]);
        in_base += -fmin(0.0, base.battery_kw[h]);
    }
    assert_true(in_event > in_base);
}

static void
test_no_battery_passes_through(void **state)
{
    (void)state;
    void *st = NULL;
    pg_error err = {0};
    assert_int_equal(pgi_ctl_aif.create(&st, NULL, 1, &err), PG_OK);
    double retail[2] = {0.2, 0.2}, feed[2] = {0.05, 0.05}, fixed[2] = {1, 1}, pv[2] = {3, 0};
    pg_node_env env = {
        .hours = 1, .horizon = 2, .retail = retail, .feed_in = feed, .grid_connected = true};
    pg_node_view v = {.env = &env, .fixed_kwh = fixed, .pv_kwh = pv};
    v.ev_departs_in = 3;
    v.ev_need_kwh = 5;
    v.ev_max_kw = 7;
    pg_node_plan p;
    assert_int_equal(pgi_ctl_aif.plan(st, &v, &p, &err), PG_OK);
    assert_true(p.battery_kw == 0);
    assert_near(p.ev_kw, 5, 1e-12);
    assert_int_equal(p.n_points, 1);
    assert_near(p.curve[0].qty, 1 - 3 + 5, 1e-12);
    assert_near(p.curve[0].price, 0.2, 1e-12);
    /* off the grid there is no price to act on: the battery balances the node (here it takes
     * the PV surplus), the generator covers what it cannot, and the node does not bid */
    env.grid_connected = false;
    v.ev_departs_in = 0;
    v.soc_max_kwh = 10;
    v.charge_max_kw = 1.5;
    v.discharge_max_kw = 1.5;
    v.eta_charge = v.eta_discharge = 0.9;
    assert_int_equal(pgi_ctl_aif.plan(st, &v, &p, &err), PG_OK);
    assert_near(p.battery_kw, 1.5, 1e-12);
    assert_int_equal(p.n_points, 0);
    pv[0] = 0;
    v.gen_max_kw = 5;
    v.soc_kwh = 0.5;
    assert_int_equal(pgi_ctl_aif.plan(st, &v, &p, &err), PG_OK);
    assert_near(p.battery_kw, -0.45, 1e-12);
    assert_near(p.generator_kw, 0.55, 1e-12);
    env.grid_connected = true;
    retail[1] = INFINITY;
    assert_int_equal(pgi_ctl_aif.plan(st, &v, &p, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "forecast interval 1"));
    pgi_ctl_aif.destroy(st);
}

static void
test_bad_params(void **state)
{
    (void)state;
    const struct {
        const char *key;
        double v;
    } bad[] = {{"depth", 0},       {"depth", 2.5},    {"depth", 9},
               {"price_noise", 0}, {"soc_levels", 1}, {"sample", 2},
               {"beta", -1},       {"dr_stay", 1.5},  {"gamma", 1e300}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tcfg t;
        tcfg_init(&t);
        tcfg_param(&t, bad[i].key, bad[i].v);
        void *st = NULL;
        pg_error err = {0};
        assert_int_equal(pgi_ctl_aif.create(&st, &t.c, 1, &err), PG_EMODEL);
        assert_null(st);
        assert_non_null(strstr(err.msg, bad[i].key));
    }
}

/* Each allocation of a plan that builds the agent fails in turn: the plan fails with PG_ENOMEM
 * and the controller still plans afterwards. */
static void
test_allocation_failures(void **state)
{
    (void)state;
    double retail[24], feed[24], fixed[24], pv[24];
    for (int k = 0; k < 24; k++)
        retail[k] = day_price[k], feed[k] = 0.05, fixed[k] = 1, pv[k] = 0;
    pg_node_env env = {
        .hours = 1, .horizon = 24, .retail = retail, .feed_in = feed, .grid_connected = true};
    pg_node_view v = {.env = &env, .fixed_kwh = fixed, .pv_kwh = pv};
    v.soc_max_kwh = 10, v.charge_max_kw = v.discharge_max_kw = 2.5;
    v.eta_charge = v.eta_discharge = 0.95;
    pg_error err = {0};
    void *st = NULL;
    pg_node_plan ref, p;
    assert_int_equal(pgi_ctl_aif.create(&st, NULL, 1, &err), PG_OK);
    pgt_alloc_fail_after(LONG_MAX);
    assert_int_equal(pgi_ctl_aif.plan(st, &v, &ref, &err), PG_OK);
    long n = pgt_alloc_count();
    pgt_alloc_fail_after(-1);
    pgi_ctl_aif.destroy(st);
    for (long k = 0; k < n; k++) {
        st = NULL;
        assert_int_equal(pgi_ctl_aif.create(&st, NULL, 1, &err), PG_OK);
        pgt_alloc_fail_after(k);
        int rc = pgi_ctl_aif.plan(st, &v, &p, &err);
        pgt_alloc_fail_after(-1);
        assert_true(rc == PG_OK || rc == PG_ENOMEM);
        assert_int_equal(pgi_ctl_aif.plan(st, &v, &p, &err), PG_OK);
        assert_memory_equal(&p, &ref, sizeof p);
        pgi_ctl_aif.destroy(st);
    }
}

/* The residential example node four days under the aif controller (the node's own devices, no
 * market): the battery charges in the cheap hours and discharges in the dear ones, within its
 * bounds, and the EV gets its energy. */
static void
test_node_residential(void **state)
{
    (void)state;
    pg_node_config *c = NULL;
    pg_error err = {0};
    if (pg_node_config_read(&c, pgt_source_path("examples/nodes/residential.json"), &err))
        fail_msg("%s", err.msg);
    c->controller = &pgi_ctl_aif;
    pg_node_step st[96];
    if (sim_run(c, 1, 96, NULL, 0, st, &err))
        fail_msg("residential under aif: %s", err.msg);
    double in_low = 0, in_high = 0, out_low = 0, out_high = 0, ev_short = 0;
    for (size_t t = 0; t < 96; t++) {
        double r = sim_retail((double)t);
        assert_true(st[t].soc_kwh >= 0.1 * 13.5 - 1e-9 && st[t].soc_kwh <= 13.5 + 1e-9);
        if (r < 0.2) {
            in_low += st[t].battery_in_kwh;
            out_low += st[t].battery_out_kwh;
        } else if (r > 0.4) {
            in_high += st[t].battery_in_kwh;
            out_high += st[t].battery_out_kwh;
        }
        ev_short += st[t].ev_short_kwh;
    }
    assert_true(in_low > 10 && in_high <= 0.1 * in_low);
    assert_true(out_high > 10 && out_low <= 0.1 * out_high);
    assert_near(ev_short, 0, 1e-9);
    pg_node_config_free(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_charges_low_discharges_high),
        cmocka_unit_test(test_deterministic_for_a_seed),
        cmocka_unit_test(test_answers_a_dr_event),
        cmocka_unit_test(test_no_battery_passes_through),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_node_residential),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
