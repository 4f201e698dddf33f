/* Device invariants under any plan: storage stays within its state-of-charge bounds (random
 * plans, random market sales), an EV gets its energy by departure when that is feasible, a
 * thermostat stays in its deadband unless a demand-response event moves it, every step balances;
 * and the rules controller's answers to demand-response events. */
#include "node_sim.h"

#include "node/internal.h"
#include "plurigrid/rng.h"

/* ------------------------------------------------------------------ a controller of random plans
 */

static pg_rng plan_rng;

static int
rnd_create(void **state, const pg_node_config *cfg, uint64_t seed, pg_error *err)
{
    (void)cfg;
    (void)err;
    pg_rng_seed(&plan_rng, seed, 99);
    *state = NULL;
    return PG_OK;
}

static double
wild(void)
{
    /* mostly within the devices' range, sometimes far outside it, sometimes not a number */
    double u = pg_rng_uniform(&plan_rng);
    if (u < 0.05)
        return NAN;
    if (u < 0.1)
        return 1e12 * (pg_rng_uniform(&plan_rng) - 0.5);
    return 20 * (pg_rng_uniform(&plan_rng) - 0.5);
}

static int
rnd_plan(void *state, const pg_node_view *v, pg_node_plan *out, pg_error *err)
{
    (void)state;
    (void)v;
    (void)err;
    memset(out, 0, sizeof *out);
    out->battery_kw = wild();
    out->ev_kw = wild();
    out->hvac_kw = pg_rng_uniform(&plan_rng) < 0.3 ? NAN : wild();
    out->shift_kw = wild();
    out->generator_kw = wild();
    out->setpoint_offset_c = 0;
    return PG_OK;
}

static void
rnd_destroy(void *state)
{
    (void)state;
}

static const char *const no_params[] = {NULL};
static const pg_node_controller random_ctl = {.name = "random",
                                              .summary = "random plans",
                                              .params = no_params,
                                              .create = rnd_create,
                                              .plan = rnd_plan,
                                              .destroy = rnd_destroy};

static const char *const home_json =
    "{\"format\": \"plurigrid-node/1\", \"name\": \"h\", \"profile\": \"residential\",\n"
    " \"devices\": [\n"
    "  {\"kind\": \"fixed_load\", \"name\": \"house\", \"input\": \"load\"},\n"
    "  {\"kind\": \"pv\", \"name\": \"roof\", \"kw_peak\": 5},\n"
    "  {\"kind\": \"battery\", \"name\": \"b1\", \"capacity_kwh\": 10, \"power_kw\": 4,\n"
    "   \"soc_min\": 0.2, \"soc_max\": 0.9, \"eta_charge\": 0.9, \"eta_discharge\": 0.92},\n"
    "  {\"kind\": \"portable_battery\", \"name\": \"p\", \"capacity_kwh\": 2, \"power_kw\": 1},\n"
    "  {\"kind\": \"ev\", \"name\": \"car\", \"arrive_h\": 18, \"depart_h\": 7,\n"
    "   \"energy_kwh\": 30, \"charger_kw\": 3.6, \"jitter_h\": 1},\n"
    "  {\"kind\": \"thermostat\", \"name\": \"ac\", \"outdoor\": \"outdoor_temp\"},\n"
    "  {\"kind\": \"shiftable_load\", \"name\": \"dw\", \"energy_kwh\": 2, \"power_kw\": 1,\n"
    "   \"earliest_h\": 9, \"deadline_h\": 15},\n"
    "  {\"kind\": \"generator\", \"name\": \"g\", \"max_kw\": 2, \"min_run_h\": 2}]}\n";

static const char *const village_json =
    "{\"format\": \"plurigrid-node/1\", \"name\": \"v\", \"profile\": \"offgrid\",\n"
    " \"devices\": [\n"
    "  {\"kind\": \"fixed_load\", \"name\": \"home\", \"input\": \"load\", \"scale\": 0.3},\n"
    "  {\"kind\": \"pv\", \"name\": \"panel\", \"kw_peak\": 0.6},\n"
    "  {\"kind\": \"battery\", \"name\": \"b\", \"capacity_kwh\": 1.5, \"power_kw\": 0.5},\n"
    "  {\"kind\": \"generator\", \"name\": \"g\", \"max_kw\": 0.3, \"min_kw\": 0.1}]}\n";

/* Runs cfg n hourly intervals under controller ctl (NULL: its own), with random market sales;
 * checks the storage bounds and the balance of every step. */
static void
run_random(pg_node_config *c, size_t n, double dt)
{
    c->controller = &random_ctl;
    double lo = 0, hi = 0;
    for (size_t i = 0; i < c->n_devices; i++)
        if (c->devices[i].kind == PGI_DEV_BATTERY || c->devices[i].kind == PGI_DEV_PORTABLE) {
            lo += c->devices[i].p.bat.soc_min * c->devices[i].p.bat.capacity_kwh;
            hi += c->devices[i].p.bat.soc_max * c->devices[i].p.bat.capacity_kwh;
        }
    sim s;
    memset(&s, 0, sizeof s);
    s.cfg = c;
    s.dt = dt;
    pg_node *node = NULL;
    pg_error err = {0};
    assert_int_equal(pg_node_new(&node, c, 3, 7, &err), PG_OK);
    pg_rng sales;
    pg_rng_seed(&sales, 5, 5);
    double unserved = 0, spilled = 0, sold_short = 0;
    for (size_t t = 0; t < n; t++) {
        pg_node_plan plan;
        pg_node_step st;
        sim_env(&s, t, NULL, 0);
        assert_int_equal(pg_node_bid(node, &s.env, &plan, &err), PG_OK);
        double cleared = pg_rng_uniform(&sales) < 0.3 ? -3 * pg_rng_uniform(&sales) : 0;
        assert_int_equal(pg_node_operate(node, &s.env, cleared, 0.2, &st, &err), PG_OK);
        sim_check_balance(&st);
        assert_true(st.soc_kwh >= lo - 1e-9 && st.soc_kwh <= hi + 1e-9);
        assert_true(st.battery_in_kwh <= 5 * dt + 1e-9 && st.battery_out_kwh <= 5 * dt + 1e-9);
        if (st.export_kwh < -cleared - 1e-9)
            sold_short += -cleared - st.export_kwh;
        unserved += st.unserved_kwh;
        spilled += st.pv_spilled_kwh;
        assert_near(st.comfort_dev_c, 0, 1e-9);
    }
    print_message("%s: unserved %.3f spilled %.3f kWh, sales not met %.3f kWh\n",
                  pg_node_config_name(c), unserved, spilled, sold_short);
    pg_node_free(node);
}

static void
test_storage_bounds_random_plans(void **state)
{
    (void)state;
    pg_node_config *c = sim_config(home_json);
    run_random(c, 24 * 20, 1);
    run_random(c, 96 * 3, 0.25);
    pg_node_config_free(c);
    c = sim_config(village_json);
    run_random(c, 24 * 20, 1);
    pg_node_config_free(c);
}

/* A sale from storage is honoured: the node exports at least what it sold when its battery has
 * the energy and the power. */
static void
test_sales_honoured_from_storage(void **state)
{
    (void)state;
    pg_node_config *c = sim_config(
        "{\"format\": \"plurigrid-node/1\", \"name\": \"s\", \"profile\": \"residential\",\n"
        " \"devices\": [{\"kind\": \"fixed_load\", \"name\": \"l\", \"kw\": 1},\n"
        "  {\"kind\": \"battery\", \"name\": \"b\", \"capacity_kwh\": 10, \"power_kw\": 3,\n"
        "   \"soc_initial\": 0.9, \"eta_discharge\": 1}]}\n");
    sim s;
    memset(&s, 0, sizeof s);
    s.cfg = c;
    s.dt = 1;
    pg_node *node = NULL;
    pg_error err = {0};
    assert_int_equal(pg_node_new(&node, c, 0, 1, &err), PG_OK);
    pg_node_step st;
    pg_node_plan plan;
    sim_env(&s, 0, NULL, 0); /* 00:00, cheap: the rules keep the battery idle */
    assert_int_equal(pg_node_bid(node, &s.env, &plan, &err), PG_OK);
    assert_near(plan.battery_kw, 0, 0);
    assert_int_equal(pg_node_operate(node, &s.env, -1.5, 0.3, &st, &err), PG_OK);
    assert_near(st.export_kwh, 1.5, 1e-12); /* 1 kWh for the load, 1.5 exported */
    assert_near(st.battery_out_kwh, 2.5, 1e-12);
    assert_near(st.soc_kwh, 9 - 2.5, 1e-12);
    /* a sale bigger than the battery's power: 3 kW out, 2 exported */
    sim_env(&s, 1, NULL, 0);
    assert_int_equal(pg_node_operate(node, &s.env, -5, 0.3, &st, &err), PG_OK);
    assert_near(st.export_kwh, 2, 1e-12);
    /* an interval runs once */
    assert_int_equal(pg_node_operate(node, &s.env, 0, 0.3, &st, &err), PG_ESTATE);
    assert_non_null(strstr(err.msg, "already ran"));
    pg_node_free(node);
    pg_node_config_free(c);
}

/* ------------------------------------------------------------------ EV */

static const char *const ev_json =
    "{\"format\": \"plurigrid-node/1\", \"name\": \"e\", \"profile\": \"residential\",\n"
    " \"devices\": [{\"kind\": \"ev\", \"name\": \"car\", \"arrive_h\": 18, \"depart_h\": 7,\n"
    "   \"energy_kwh\": ENERGY, \"charger_kw\": 3, \"capacity_kwh\": 60, \"jitter_h\": 2}]}\n";

static pg_node_config *
ev_config(double energy)
{
    char text[1024], num[32];
    snprintf(num, sizeof num, "%g", energy);
    const char *at = strstr(ev_json, "ENERGY");
    snprintf(text, sizeof text, "%.*s%s%s", (int)(at - ev_json), ev_json, num, at + 6);
    return sim_config(text);
}

/* A DR event over the whole evening of every day, so the rules defer charging as long as they
 * can. */
static void
evening_events(pg_dr_event *ev, size_t days)
{
    memset(ev, 0, days * sizeof *ev);
    for (size_t d = 0; d < days; d++) {
        snprintf(ev[d].id, sizeof ev[d].id, "evening-%zu", d);
        ev[d].start_h = 24.0 * (double)d + 17;
        ev[d].duration_h = 8;
        ev[d].signal = PG_DR_SIMPLE;
        ev[d].n_intervals = 1;
        ev[d].interval_h[0] = 8;
        ev[d].interval_value[0] = 2;
    }
}

static void
test_ev_reaches_its_energy(void **state)
{
    (void)state;
    pg_dr_event ev[10];
    evening_events(ev, 10);
    pg_node_step st[240];
    pg_error err = {0};
    /* feasible: 30 kWh at 3 kW in a window of 13 +- 2 h (>= 10 h): never short, under the rules
     * with and without events, and under random plans */
    pg_node_config *c = ev_config(30);
    for (int pass = 0; pass < 3; pass++) {
        if (pass == 2)
            c->controller = &random_ctl;
        assert_int_equal(sim_run(c, 1, 240, pass == 1 ? ev : NULL, pass == 1 ? 10 : 0, st, &err),
                         PG_OK);
        double charged = 0, in_event = 0;
        for (size_t t = 0; t < 240; t++) {
            assert_near(st[t].ev_short_kwh, 0, 1e-9);
            charged += st[t].ev_kwh;
            double h = fmod((double)t, 24);
            if (h >= 17 && h < 25 - 1e-9)
                in_event += st[t].ev_kwh;
        }
        print_message("pass %d: charged %.2f kWh, %.2f during evening hours\n", pass, charged,
                      in_event);
        assert_true(charged > 30 * 9 - 1e-9);
        if (pass == 1) /* shifted out of the events as far as the deadline allows */
            assert_true(in_event < 0.5 * charged);
    }
    pg_node_config_free(c);
    /* infeasible: 45 kWh at 3 kW in at most 15 h: short, and reported */
    c = ev_config(45);
    assert_int_equal(sim_run(c, 1, 240, NULL, 0, st, &err), PG_OK);
    double shortfall = 0;
    for (size_t t = 0; t < 240; t++)
        shortfall += st[t].ev_short_kwh;
    assert_true(shortfall > 0);
    pg_node_config_free(c);
}

/* ------------------------------------------------------------------ thermostat */

static void
test_thermostat_deadband(void **state)
{
    (void)state;
    pg_node_config *c = sim_config(
        "{\"format\": \"plurigrid-node/1\", \"name\": \"t\", \"profile\": \"residential\",\n"
        " \"devices\": [{\"kind\": \"thermostat\", \"name\": \"ac\", \"setpoint_c\": 24,\n"
        "   \"deadband_c\": 1, \"outdoor\": \"outdoor_temp\"}]}\n");
    pg_node_step st[96];
    pg_error err = {0};
    /* on its own (rules) and driven by random plans: always within 23..25 C */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            c->controller = &random_ctl;
        assert_int_equal(sim_run(c, 0.25, 96, NULL, 0, st, &err), PG_OK);
        for (size_t t = 0; t < 96; t++) {
            assert_true(st[t].temp_c >= 23 - 1e-9 && st[t].temp_c <= 25 + 1e-9);
            assert_near(st[t].comfort_dev_c, 0, 1e-9);
        }
    }
    /* a SIMPLE level-2 event 14:00-18:00 moves the setpoint up 2 C: the house warms above 25 C
     * during it, stays in the moved band, and uses less energy than without it */
    c->controller = pg_node_controller_find("rules", NULL);
    pg_dr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.start_h = 14;
    ev.duration_h = 4;
    ev.signal = PG_DR_SIMPLE;
    ev.n_intervals = 1;
    ev.interval_h[0] = 4;
    ev.interval_value[0] = 2;
    pg_node_step base[96];
    assert_int_equal(sim_run(c, 0.25, 96, NULL, 0, base, &err), PG_OK);
    assert_int_equal(sim_run(c, 0.25, 96, &ev, 1, st, &err), PG_OK);
    double warmest = 0, e_event = 0, e_base = 0;
    for (size_t t = 56; t < 72; t++) {
        warmest = fmax(warmest, st[t].temp_c);
        assert_true(st[t].temp_c <= 27 + 1e-9);
        assert_near(st[t].comfort_dev_c, 0, 1e-9);
        e_event += st[t].load_kwh;
        e_base += base[t].load_kwh;
    }
    print_message("event: warmest %.2f C, %.2f kWh against %.2f kWh\n", warmest, e_event, e_base);
    assert_true(warmest > 25.5);
    assert_true(e_event < e_base - 0.5);
    pg_node_config_free(c);
}

/* The view's hvac_self_kwh is what the thermostat then uses when the plan lets it run itself. */
static double seen_hvac_self;

static int
rec_plan(void *state, const pg_node_view *v, pg_node_plan *out, pg_error *err)
{
    (void)state;
    (void)err;
    memset(out, 0, sizeof *out);
    out->hvac_kw = NAN;
    seen_hvac_self = v->hvac_self_kwh;
    return PG_OK;
}

static const pg_node_controller recording_ctl = {.name = "recording",
                                                 .summary = "records the view",
                                                 .params = no_params,
                                                 .create = rnd_create,
                                                 .plan = rec_plan,
                                                 .destroy = rnd_destroy};

static void
test_view_thermal_estimate(void **state)
{
    (void)state;
    pg_node_config *c = sim_config(
        "{\"format\": \"plurigrid-node/1\", \"name\": \"t\", \"profile\": \"commercial\",\n"
        " \"devices\": [{\"kind\": \"hvac\", \"name\": \"h\", \"outdoor\": \"outdoor_temp\",\n"
        "   \"initial_c\": 26}]}\n");
    c->controller = &recording_ctl;
    sim s;
    memset(&s, 0, sizeof s);
    s.cfg = c;
    s.dt = 1;
    pg_node *n = NULL;
    pg_error err = {0};
    assert_int_equal(pg_node_new(&n, c, 0, 1, &err), PG_OK);
    double total = 0;
    for (size_t t = 0; t < 48; t++) {
        pg_node_plan plan;
        pg_node_step st;
        sim_env(&s, t, NULL, 0);
        assert_int_equal(pg_node_bid(n, &s.env, &plan, &err), PG_OK);
        assert_int_equal(pg_node_operate(n, &s.env, 0, NAN, &st, &err), PG_OK);
        assert_near(st.load_kwh, seen_hvac_self, 1e-12);
        total += st.load_kwh;
    }
    assert_true(total > 10);
    pg_node_free(n);
    pg_node_config_free(c);
}

/* ------------------------------------------------------------------ DR answers of the rules */

static void
test_rules_answer_dr(void **state)
{
    (void)state;
    pg_dr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.start_h = 10;
    ev.duration_h = 4;
    ev.signal = PG_DR_SIMPLE;
    ev.n_intervals = 2;
    ev.interval_h[0] = ev.interval_h[1] = 2;
    ev.interval_value[0] = 2;
    ev.interval_value[1] = 3;
    pg_error err = {0};
    /* storage discharges and the dishwasher waits */
    pg_node_config *c = sim_config(home_json);
    pg_node_step base[24], st[24];
    assert_int_equal(sim_run(c, 1, 24, NULL, 0, base, &err), PG_OK);
    assert_int_equal(sim_run(c, 1, 24, &ev, 1, st, &err), PG_OK);
    double imp_base = 0, imp_ev = 0;
    for (size_t t = 10; t < 14; t++) {
        imp_base += base[t].import_kwh - base[t].export_kwh;
        imp_ev += st[t].import_kwh - st[t].export_kwh;
        assert_true(st[t].battery_out_kwh > 0 || st[t].soc_kwh <= 2 + 0.2 * 2 + 1e-9);
        assert_true(st[t].deferred_kwh >= base[t].deferred_kwh - 1e-9);
    }
    print_message("net import during the event %.2f kWh against %.2f\n", imp_ev, imp_base);
    assert_true(imp_ev < imp_base - 1);
    assert_true(st[11].deferred_kwh > base[11].deferred_kwh);
    assert_near(st[14].deferred_kwh + st[15].deferred_kwh, 0, 2.0); /* caught up by 15:00 */
    pg_node_config_free(c);

    /* data-center jobs are deferred during the event and still run by their deadlines */
    c = sim_config("{\"format\": \"plurigrid-node/1\", \"name\": \"dc\", \"profile\": "
                   "\"datacenter\", \"devices\": [{\"kind\": \"it_load\", \"name\": \"s\",\n"
                   " \"base_kw\": 100, \"pue\": 1.5, \"jobs_per_day\": 24, \"job_kwh\": 20,\n"
                   " \"job_kw\": 10, \"job_window_h\": 6}]}\n");
    ev.start_h = 1; /* at night, when energy is cheap and the jobs would otherwise run */
    assert_int_equal(sim_run(c, 1, 24, NULL, 0, base, &err), PG_OK);
    assert_int_equal(sim_run(c, 1, 24, &ev, 1, st, &err), PG_OK);
    double e_base = 0, e_ev = 0, tot_base = 0, tot_ev = 0;
    for (size_t t = 0; t < 24; t++) {
        if (t >= 1 && t < 5) {
            e_base += base[t].load_kwh;
            e_ev += st[t].load_kwh;
        }
        tot_base += base[t].load_kwh + 1.5 * base[t].deferred_kwh;
        tot_ev += st[t].load_kwh;
    }
    print_message("data center during the event %.1f kWh against %.1f\n", e_ev, e_base);
    assert_true(e_ev < e_base - 50);
    assert_true(e_ev >= 100 * 1.5 * 4 - 1e-9); /* the base IT load and its cooling run */
    (void)tot_base;
    (void)tot_ev;
    pg_node_config_free(c);
}

static void
test_dr_event_value(void **state)
{
    (void)state;
    pg_dr_event e;
    memset(&e, 0, sizeof e);
    e.start_h = 5;
    e.duration_h = 3;
    e.signal = PG_DR_PRICE;
    e.n_intervals = 2;
    e.interval_h[0] = 1;
    e.interval_h[1] = 2;
    e.interval_value[0] = 0.5;
    e.interval_value[1] = 0.8;
    assert_true(isnan(pg_dr_event_value(&e, 4.999)));
    assert_near(pg_dr_event_value(&e, 5), 0.5, 0);
    assert_near(pg_dr_event_value(&e, 5.99), 0.5, 0);
    assert_near(pg_dr_event_value(&e, 6), 0.8, 0);
    assert_near(pg_dr_event_value(&e, 7.99), 0.8, 0);
    assert_true(isnan(pg_dr_event_value(&e, 8)));
    assert_true(isnan(pg_dr_event_value(&e, NAN)));
    assert_true(isnan(pg_dr_event_value(NULL, 6)));
    e.cancelled = true;
    assert_true(isnan(pg_dr_event_value(&e, 6)));
}

/* ------------------------------------------------------------------ portable packs */

static void
test_dock_undock(void **state)
{
    (void)state;
    pg_node_config *c = sim_config(village_json);
    pg_node *n = NULL;
    pg_error err = {0};
    assert_int_equal(pg_node_new(&n, c, 1, 1, &err), PG_OK);
    double soc = -1;
    assert_int_equal(pg_node_undock(n, 4, &soc, &err), PG_ENOTFOUND);
    assert_int_equal(pg_node_dock(n, 4, 2, 1, 1.5, &err), PG_OK);
    assert_int_equal(pg_node_dock(n, 4, 2, 1, 1.5, &err), PG_ESTATE);
    assert_int_equal(pg_node_dock(n, 5, -2, 1, 1, &err), PG_EINVAL);
    assert_int_equal(pg_node_dock(n, 5, 2, 1, 3, &err), PG_EINVAL);
    assert_int_equal(pg_node_dock(n, 5, 2, NAN, 1, &err), PG_EINVAL);
    /* at night the pack covers the load with the home battery */
    sim s;
    memset(&s, 0, sizeof s);
    s.cfg = c;
    s.dt = 1;
    pg_node_step st;
    pg_node_plan plan;
    double before = 0;
    for (size_t t = 19; t < 23; t++) {
        sim_env(&s, t, NULL, 0);
        assert_int_equal(pg_node_bid(n, &s.env, &plan, &err), PG_OK);
        assert_int_equal(plan.n_points, 0); /* off grid: no bids */
        assert_int_equal(pg_node_operate(n, &s.env, 0, NAN, &st, &err), PG_OK);
        sim_check_balance(&st);
        assert_near(st.import_kwh + st.export_kwh, 0, 0);
        if (t == 19)
            before = st.soc_kwh;
    }
    assert_true(st.soc_kwh < before);
    assert_int_equal(pg_node_undock(n, 4, &soc, &err), PG_OK);
    assert_true(soc >= 0.2 - 1e-12 && soc < 1.5);
    assert_int_equal(pg_node_undock(n, 4, &soc, &err), PG_ENOTFOUND);
    pg_node_free(n);
    pg_node_config_free(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_storage_bounds_random_plans),
        cmocka_unit_test(test_sales_honoured_from_storage),
        cmocka_unit_test(test_ev_reaches_its_energy),
        cmocka_unit_test(test_thermostat_deadband),
        cmocka_unit_test(test_view_thermal_estimate),
        cmocka_unit_test(test_rules_answer_dr),
        cmocka_unit_test(test_dr_event_value),
        cmocka_unit_test(test_dock_undock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
