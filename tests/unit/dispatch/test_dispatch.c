/* Dispatch on small systems whose answers are known in closed form: merit order, a start-up cost
 * that keeps a cheaper unit off, a minimum up time that keeps a unit on, ramps, storage arbitrage
 * with a lossy round trip, a congested line splitting prices, too little capacity; and bad input
 * rejected before any solve. Each test states its hand calculation. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "plurigrid/dispatch.h"

static pg_world *
world_new(size_t n_buses)
{
    pg_world *w = NULL;
    pg_error err = {0};
    assert_int_equal(pg_world_new(&w, "test", 100.0, &err), PG_OK);
    for (size_t i = 0; i < n_buses; i++) {
        pg_bus b;
        pg_bus_init(&b);
        char name[32];
        snprintf(name, sizeof name, "b%zu", i + 1);
        b.name = name;
        b.number = (int)i + 1;
        b.type = i == 0 ? PG_BUS_REF : PG_BUS_PQ;
        assert_int_equal(pg_world_add_bus(w, &b, NULL, &err), PG_OK);
    }
    return w;
}

static size_t
add_series(pg_world *w, const char *name, const double *v, size_t n)
{
    pg_error err = {0};
    size_t s = PG_NONE;
    assert_int_equal(pg_world_add_series(w, name, 1.0, v, n, &s, &err), PG_OK);
    return s;
}

static void
add_load(pg_world *w, const char *name, size_t bus, double p, size_t series)
{
    pg_error err = {0};
    pg_load l;
    pg_load_init(&l);
    l.name = (char *)name;
    l.bus = bus;
    l.p = p;
    l.p_series = series;
    assert_int_equal(pg_world_add_load(w, &l, NULL, &err), PG_OK);
}

/* A unit with a linear cost; further fields are set on the returned index. */
static size_t
add_unit(pg_world *w, const char *name, size_t bus, double pmin, double pmax, double mc)
{
    pg_error err = {0};
    pg_thermal t;
    pg_thermal_init(&t);
    t.name = (char *)name;
    t.bus = bus;
    t.pmin = pmin;
    t.pmax = pmax;
    t.p = pmin;
    t.initial_h = 100; /* long enough in its state that minimum times are served */
    double c[] = {0, mc};
    assert_int_equal(pg_cost_set_polynomial(&t.cost, c, 2, &err), PG_OK);
    size_t i = PG_NONE;
    assert_int_equal(pg_world_add_thermal(w, &t, &i, &err), PG_OK);
    pg_cost_clear(&t.cost);
    return i;
}

static void
add_line(pg_world *w, const char *name, size_t from, size_t to, double x, double rate)
{
    pg_error err = {0};
    pg_branch br;
    pg_branch_init(&br);
    br.name = (char *)name;
    br.from = from;
    br.to = to;
    br.x = x;
    br.rate_a = rate;
    assert_int_equal(pg_world_add_branch(w, &br, NULL, &err), PG_OK);
}

static pg_dispatch_result *
run(const pg_world *w, const pg_dispatch_options *o)
{
    pg_dispatch_result *r = NULL;
    pg_error err = {0};
    int rc = pg_dispatch_run(w, o, &r, &err);
    if (rc != PG_OK)
        fail_msg("pg_dispatch_run failed: %s", err.msg);
    return r;
}

static pg_dispatch_options
exact_options(void)
{
    pg_dispatch_options o;
    pg_dispatch_options_init(&o);
    o.mip_gap = 0;
    return o;
}

/* Invariants every schedule satisfies: balance at each step, unit limits, costs adding up. */
static void
check_invariants(const pg_world *w, const pg_dispatch_result *r)
{
    for (size_t t = 0; t < r->n_steps; t++) {
        double supply = 0, demand = 0;
        for (size_t g = 0; g < r->n_thermals; g++) {
            double p = r->thermal_p[t * r->n_thermals + g];
            const pg_thermal *th = &w->thermals[g];
            if (r->thermal_on[t * r->n_thermals + g]) {
                assert_true(p >= th->pmin - 1e-6 && p <= th->pmax + 1e-6);
            } else {
                assert_near(p, 0, 1e-9);
            }
            supply += p;
        }
        for (size_t k = 0; k < r->n_renewables; k++) {
            double p = r->renewable_p[t * r->n_renewables + k];
            assert_true(p >= -1e-9 && p <= r->renewable_avail[t * r->n_renewables + k] + 1e-6);
            supply += p;
        }
        for (size_t s = 0; s < r->n_storages; s++) {
            size_t i = t * r->n_storages + s;
            supply += r->storage_discharge[i] - r->storage_charge[i];
            assert_true(r->storage_charge[i] < 1e-7 || r->storage_discharge[i] < 1e-7);
            const pg_storage *st = &w->storages[s];
            assert_true(r->storage_soc[i] >= st->soc_min_mwh - 1e-6 &&
                        r->storage_soc[i] <= st->energy_mwh + 1e-6);
        }
        for (size_t b = 0; b < r->n_buses; b++) {
            size_t i = t * r->n_buses + b;
            demand += r->bus_demand[i] - r->bus_unserved[i] + r->bus_overgen[i];
        }
        assert_near(supply, demand, 1e-5 * (1 + demand));
    }
    double total = 0;
    for (size_t t = 0; t < r->n_steps; t++)
        total += r->cost_variable[t] + r->cost_fixed[t] + r->cost_startup[t] + r->cost_penalty[t];
    assert_near(total, r->total_cost, 1e-6 * (1 + total));
}

/* Two units, 100 MW of load: the 20 $/MWh unit runs at its 60 MW limit, the 30 $/MWh unit makes
 * up the other 40 MW and sets the price. Cost 60 x 20 + 40 x 30 = 2400 $. */
static void
test_merit_order(void **state)
{
    (void)state;
    for (int net = 0; net < 2; net++) {
        pg_world *w = world_new(1);
        add_load(w, "load", 0, 100, PG_NONE);
        add_unit(w, "cheap", 0, 0, 60, 20);
        add_unit(w, "dear", 0, 0, 100, 30);
        pg_dispatch_options o = exact_options();
        o.network = net ? PG_NETWORK_DC : PG_NETWORK_COPPER;
        pg_dispatch_result *r = run(w, &o);
        assert_int_equal(r->n_steps, 1);
        assert_near(r->thermal_p[0], 60, 1e-6);
        assert_near(r->thermal_p[1], 40, 1e-6);
        assert_near(r->lmp[0], 30, 1e-6);
        assert_near(r->energy_price[0], 30, 1e-6);
        assert_near(r->total_cost, 2400, 1e-6);
        assert_near(r->total_unserved_mwh, 0, 1e-9);
        check_invariants(w, r);
        pg_dispatch_result_free(r);
        pg_world_free(w);
    }
}

/* 50 MW for one hour. The cheap unit (20 $/MWh) is off and would save (30 - 20) x 50 = 500 $ over
 * the dear unit, which is on: with a start-up cost of 1000 $ it stays off (cost 1500 $), with 400 $
 * it starts (cost 50 x 20 + 400 = 1400 $). */
static void
test_startup_cost_keeps_unit_off(void **state)
{
    (void)state;
    double costs[] = {1000, 400};
    for (int i = 0; i < 2; i++) {
        pg_world *w = world_new(1);
        add_load(w, "load", 0, 50, PG_NONE);
        size_t c = add_unit(w, "cheap", 0, 0, 100, 20);
        w->thermals[c].initial_on = false;
        w->thermals[c].startup_cost = costs[i];
        add_unit(w, "dear", 0, 0, 100, 30);
        pg_dispatch_options o = exact_options();
        pg_dispatch_result *r = run(w, &o);
        if (i == 0) {
            assert_int_equal(r->thermal_on[0], 0);
            assert_near(r->thermal_p[1], 50, 1e-6);
            assert_near(r->total_cost, 1500, 1e-6);
            assert_near(r->lmp[0], 30, 1e-6);
        } else {
            assert_int_equal(r->thermal_on[0], 1);
            assert_int_equal(r->thermal_start[0], 1);
            assert_near(r->thermal_p[0], 50, 1e-6);
            assert_near(r->cost_startup[0], 400, 1e-9);
            assert_near(r->total_cost, 1400, 1e-6);
            assert_near(r->lmp[0], 20, 1e-6);
        }
        assert_near(r->uc_gap, 0, 1e-9);
        check_invariants(w, r);
        pg_dispatch_result_free(r);
        pg_world_free(w);
    }
}

/* Load 50, 50, 150, 50, 50, 50 MW. The base unit (20 $/MWh, 100 MW) cannot cover hour 2 alone, so
 * the peaker (50 $/MWh, 20..100 MW, minimum up time 3 h, off before) starts there; it must stay on
 * through hours 3 and 4 at its 20 MW minimum although the base unit could serve them, and goes off
 * in hour 5. Peaker 0, 0, 50, 20, 20, 0; cost 310 x 20 + 90 x 50 = 10700 $; the price is 50 in hour
 * 2 (peaker marginal) and 20 in hour 3 (base marginal). */
static void
test_min_up_time_forces_unit_on(void **state)
{
    (void)state;
    pg_world *w = world_new(1);
    double prof[] = {0.5, 0.5, 1.5, 0.5, 0.5, 0.5};
    add_load(w, "load", 0, 100, add_series(w, "profile", prof, 6));
    add_unit(w, "base", 0, 0, 100, 20);
    size_t p = add_unit(w, "peaker", 0, 20, 100, 50);
    w->thermals[p].initial_on = false;
    w->thermals[p].min_up_h = 3;
    pg_dispatch_options o = exact_options();
    pg_dispatch_result *r = run(w, &o);
    assert_int_equal(r->n_steps, 6);
    unsigned char on[] = {0, 0, 1, 1, 1, 0};
    double pp[] = {0, 0, 50, 20, 20, 0};
    for (size_t t = 0; t < 6; t++) {
        assert_int_equal(r->thermal_on[t * 2 + 1], on[t]);
        assert_near(r->thermal_p[t * 2 + 1], pp[t], 1e-6);
    }
    assert_near(r->total_cost, 10700, 1e-6);
    assert_near(r->lmp[2], 50, 1e-6);
    assert_near(r->lmp[3], 20, 1e-6);
    check_invariants(w, r);
    pg_dispatch_result_free(r);

    /* Without the minimum up time the peaker runs in hour 2 only: 310 x 20 + 50 x 50 + 40 x 20
     * = 9500 $ (the base unit takes the 40 MW of hours 3 and 4 back). */
    w->thermals[p].min_up_h = 0;
    r = run(w, &o);
    assert_int_equal(r->thermal_on[3 * 2 + 1], 0);
    assert_near(r->total_cost, 9500, 1e-6);
    pg_dispatch_result_free(r);

    /* Initial state: on for 1 h already with a 3 h minimum, it is held on for hours 0 and 1. */
    w->thermals[p].min_up_h = 3;
    w->thermals[p].initial_on = true;
    w->thermals[p].initial_h = 1;
    w->thermals[p].p = 20;
    r = run(w, &o);
    assert_int_equal(r->thermal_on[0 * 2 + 1], 1);
    assert_int_equal(r->thermal_on[1 * 2 + 1], 1);
    assert_near(r->thermal_p[0 * 2 + 1], 20, 1e-6);
    check_invariants(w, r);
    pg_dispatch_result_free(r);
    pg_world_free(w);
}

/* The cheap unit (10 $/MWh) ramps at 20 MW/h from 20 MW; load 20, 60, 60 MW. It reaches 40 and
 * 60 MW, the dear unit (50 $/MWh) covers the 20 MW it cannot reach in hour 1. Cost
 * 120 x 10 + 20 x 50 = 2200 $. */
static void
test_ramp_limit(void **state)
{
    (void)state;
    pg_world *w = world_new(1);
    double prof[] = {0.2, 0.6, 0.6};
    add_load(w, "load", 0, 100, add_series(w, "profile", prof, 3));
    size_t c = add_unit(w, "slow", 0, 0, 100, 10);
    w->thermals[c].ramp_up = 20;
    w->thermals[c].ramp_down = 20;
    w->thermals[c].p = 20;
    add_unit(w, "fast", 0, 0, 100, 50);
    pg_dispatch_options o = exact_options();
    pg_dispatch_result *r = run(w, &o);
    double slow[] = {20, 40, 60}, fast[] = {0, 20, 0};
    for (size_t t = 0; t < 3; t++) {
        assert_near(r->thermal_p[t * 2], slow[t], 1e-6);
        assert_near(r->thermal_p[t * 2 + 1], fast[t], 1e-6);
    }
    assert_near(r->total_cost, 2200, 1e-6);
    check_invariants(w, r);
    pg_dispatch_result_free(r);
    pg_world_free(w);
}

/* Load 20 MW then 120 MW; a 10 $/MWh unit of 100 MW and a 50 $/MWh unit. A store (charging
 * efficiency 0.9, empty at the start) charges 20 / 0.9 = 22.22 MW in hour 0 at 10 $/MWh to give
 * 20 MW in hour 1, displacing the 50 $/MWh unit (gain 0.9 x 50 - 10 = 35 $ per MWh charged > 0).
 * Cost (20 + 22.22 + 100) x 10 = 1422.22 $. Prices: 10 in hour 0; in hour 1 the store is marginal,
 * 10 / 0.9 = 11.11 $/MWh. */
static void
test_storage_arbitrage(void **state)
{
    (void)state;
    pg_world *w = world_new(1);
    double prof[] = {0.2, 1.2};
    add_load(w, "load", 0, 100, add_series(w, "profile", prof, 2));
    add_unit(w, "cheap", 0, 0, 100, 10);
    add_unit(w, "dear", 0, 0, 100, 50);
    pg_storage s;
    pg_storage_init(&s);
    s.name = "battery";
    s.bus = 0;
    s.energy_mwh = 50;
    s.charge_mw = 100;
    s.discharge_mw = 100;
    s.eff_charge = 0.9;
    s.eff_discharge = 1.0;
    pg_error err = {0};
    assert_int_equal(pg_world_add_storage(w, &s, NULL, &err), PG_OK);
    pg_dispatch_options o = exact_options();
    pg_dispatch_result *r = run(w, &o);
    assert_near(r->storage_charge[0], 20 / 0.9, 1e-6);
    assert_near(r->storage_discharge[1], 20, 1e-6);
    assert_near(r->storage_soc[0], 20, 1e-6);
    assert_near(r->storage_soc[1], 0, 1e-6);
    assert_near(r->thermal_p[1 * 2 + 1], 0, 1e-6);
    assert_near(r->total_cost, (120 + 20 / 0.9) * 10, 1e-6);
    assert_near(r->lmp[0], 10, 1e-6);
    assert_near(r->lmp[1], 10 / 0.9, 1e-6);
    check_invariants(w, r);
    pg_dispatch_result_free(r);
    pg_world_free(w);
}

/* Three buses in a triangle of equal reactances; 10 $/MWh at bus 1, 30 $/MWh at bus 2, 150 MW of
 * load at bus 3, line 1-3 limited to 60 MW. Shift factors on line 1-3: 2/3 from bus 1, 1/3 from
 * bus 2, so 2/3 P1 + 1/3 P2 = 60 and P1 + P2 = 150 give P1 = 30, P2 = 120. Prices: 10 and 30 at
 * the generator buses; a MW more at bus 3 needs +2 MW at bus 2 and -1 MW at bus 1, 50 $/MWh. The
 * line's price is 60 $/MWh (50 - 60 x 2/3 = 10). Cost 30 x 10 + 120 x 30 = 3900 $. */
static void
test_congestion_splits_prices(void **state)
{
    (void)state;
    pg_world *w = world_new(3);
    add_line(w, "l12", 0, 1, 0.1, 0);
    add_line(w, "l13", 0, 2, 0.1, 60);
    add_line(w, "l23", 1, 2, 0.1, 0);
    add_load(w, "load", 2, 150, PG_NONE);
    add_unit(w, "cheap", 0, 0, 200, 10);
    add_unit(w, "dear", 1, 0, 200, 30);
    pg_dispatch_options o = exact_options();
    pg_dispatch_result *r = run(w, &o);
    assert_near(r->thermal_p[0], 30, 1e-6);
    assert_near(r->thermal_p[1], 120, 1e-6);
    assert_near(r->lmp[0], 10, 1e-6);
    assert_near(r->lmp[1], 30, 1e-6);
    assert_near(r->lmp[2], 50, 1e-6);
    assert_near(r->energy_price[0], 10, 1e-6);
    assert_near(r->branch_flow[0], -30, 1e-6);
    assert_near(r->branch_flow[1], 60, 1e-6);
    assert_near(r->branch_flow[2], 90, 1e-6);
    assert_near(r->branch_price[1], 60, 1e-6);
    assert_near(r->branch_price[0], 0, 1e-9);
    assert_near(r->total_cost, 3900, 1e-6);
    check_invariants(w, r);
    pg_dispatch_result_free(r);

    /* With a value of lost load of 40 $/MWh, below the 50 $/MWh it costs to serve bus 3, it is
     * cheaper to shed there: each MW shed lets bus 2 give 2 MW less and bus 1 1 MW more (+10 - 60
     * + 40 < 0), until bus 2 is at 0: P1 = 90 (the line's 60 MW), 60 MW shed. Prices 10, 25, 40
     * (a MW at bus 2 comes half from bus 1, half from shedding); cost 900 + 60 x 40 = 3300 $. */
    o.voll = 40;
    r = run(w, &o);
    assert_near(r->thermal_p[0], 90, 1e-6);
    assert_near(r->thermal_p[1], 0, 1e-6);
    assert_near(r->bus_unserved[2], 60, 1e-6);
    assert_near(r->lmp[0], 10, 1e-6);
    assert_near(r->lmp[1], 25, 1e-6);
    assert_near(r->lmp[2], 40, 1e-6);
    assert_near(r->branch_price[1], 45, 1e-6);
    assert_near(r->total_cost, 3300, 1e-6);
    check_invariants(w, r);
    pg_dispatch_result_free(r);
    o.voll = 10000;

    /* On a copper plate the line is ignored: all 150 MW from bus 1 at 10 $/MWh. */
    o.network = PG_NETWORK_COPPER;
    r = run(w, &o);
    assert_near(r->thermal_p[0], 150, 1e-6);
    for (size_t b = 0; b < 3; b++)
        assert_near(r->lmp[b], 10, 1e-6);
    pg_dispatch_result_free(r);
    pg_world_free(w);
}

/* Two islands. In the first, 90 MW flow from bus 1 to bus 2 over two parallel lines of 0.1 and
 * 0.2 p.u. reactance, which share it 2:1 (60 and 30 MW); bus 2's angle is -60 MW / (100 MVA /
 * 0.1) = -0.06 rad = -3.4377 degrees. The second island (buses 3, 4) has no reference bus: its
 * lowest bus holds angle 0 and its own price, 20 $/MWh, while the first island's is 10. */
static void
test_islands_and_parallel_lines(void **state)
{
    (void)state;
    pg_world *w = world_new(4);
    add_line(w, "a", 0, 1, 0.1, 0);
    add_line(w, "b", 0, 1, 0.2, 0);
    add_line(w, "c", 3, 2, 0.05, 0);
    add_load(w, "l2", 1, 90, PG_NONE);
    add_load(w, "l3", 2, 50, PG_NONE);
    add_unit(w, "g1", 0, 0, 200, 10);
    add_unit(w, "g4", 3, 0, 200, 20);
    pg_dispatch_options o = exact_options();
    pg_dispatch_result *r = run(w, &o);
    assert_near(r->branch_flow[0], 60, 1e-6);
    assert_near(r->branch_flow[1], 30, 1e-6);
    assert_near(r->branch_flow[2], 50, 1e-6);
    assert_near(r->bus_angle[1], -0.06 * 180 / M_PI, 1e-9);
    assert_near(r->bus_angle[2], 0, 1e-12);
    assert_near(r->bus_angle[3], 50 / (100 / 0.05) * 180 / M_PI, 1e-9);
    assert_near(r->lmp[0], 10, 1e-6);
    assert_near(r->lmp[1], 10, 1e-6);
    assert_near(r->lmp[2], 20, 1e-6);
    assert_near(r->lmp[3], 20, 1e-6);
    assert_near(r->total_cost, 900 + 1000, 1e-6);
    check_invariants(w, r);
    pg_dispatch_result_free(r);
    pg_world_free(w);
}

/* 60 + 40 MW of load for two hours, 70 MW of capacity: 30 MW short each hour, 60 MWh unserved in
 * total, priced at the value of lost load. On a copper plate every bus loses the same share
 * (18 and 12 MW); on a single-bus DC network, likewise 30 MW. */
static void
test_too_little_capacity(void **state)
{
    (void)state;
    for (int net = 0; net < 2; net++) {
        pg_world *w = world_new(net ? 1 : 2);
        double prof[] = {1, 1};
        size_t s = add_series(w, "flat", prof, 2);
        add_load(w, "l1", 0, 60, s);
        add_load(w, "l2", net ? 0 : 1, 40, s);
        add_unit(w, "small", 0, 0, 70, 25);
        pg_dispatch_options o = exact_options();
        o.network = net ? PG_NETWORK_DC : PG_NETWORK_COPPER;
        o.voll = 5000;
        pg_dispatch_result *r = run(w, &o);
        assert_int_equal(r->n_steps, 2);
        assert_near(r->total_unserved_mwh, 60, 1e-6);
        assert_near(r->thermal_p[0], 70, 1e-6);
        assert_near(r->lmp[0], 5000, 1e-6);
        if (!net) {
            assert_near(r->bus_unserved[0], 18, 1e-6);
            assert_near(r->bus_unserved[1], 12, 1e-6);
        } else {
            assert_near(r->bus_unserved[0], 30, 1e-6);
        }
        assert_near(r->total_cost, 2 * (70 * 25 + 30 * 5000), 1e-4);
        check_invariants(w, r);
        pg_dispatch_result_free(r);
        pg_world_free(w);
    }
}

/* A unit with a 20 MW minimum and 10 MW of load: 10 MW spilled at the over-generation cost, and
 * the price is minus that cost. */
static void
test_over_generation(void **state)
{
    (void)state;
    pg_world *w = world_new(1);
    add_load(w, "load", 0, 10, PG_NONE);
    size_t g = add_unit(w, "mustrun", 0, 20, 100, 25);
    w->thermals[g].min_up_h = 10; /* held on */
    w->thermals[g].initial_h = 0;
    pg_dispatch_options o = exact_options();
    o.overgen_cost = 300;
    pg_dispatch_result *r = run(w, &o);
    assert_near(r->thermal_p[0], 20, 1e-6);
    assert_near(r->total_overgen_mwh, 10, 1e-6);
    assert_near(r->lmp[0], -300, 1e-6);
    check_invariants(w, r);
    pg_dispatch_result_free(r);
    pg_world_free(w);
}

/* A quadratic cost 0.1 P^2 + 10 P on 0..100 MW with 4 segments has breakpoints 0, 25, 50, 75,
 * 100 MW and segment slopes 12.5, 17.5, 22.5, 27.5 $/MWh. Against a 20 $/MWh linear unit and
 * 200 MW of load, the quadratic unit runs up to 50 MW (its third segment costs 22.5 > 20). */
static void
test_quadratic_segments(void **state)
{
    (void)state;
    pg_world *w = world_new(1);
    add_load(w, "load", 0, 200, PG_NONE);
    size_t q = add_unit(w, "quad", 0, 0, 100, 0);
    double c[] = {0, 10, 0.1};
    pg_error err = {0};
    assert_int_equal(pg_cost_set_polynomial(&w->thermals[q].cost, c, 3, &err), PG_OK);
    add_unit(w, "flat", 0, 0, 300, 20);
    pg_dispatch_options o = exact_options();
    pg_dispatch_result *r = run(w, &o);
    assert_near(r->thermal_p[0], 50, 1e-6);
    assert_near(r->thermal_p[1], 150, 1e-6);
    /* the segment curve is exact at breakpoints: 0.1 x 2500 + 500 = 750 */
    assert_near(r->total_cost, 750 + 150 * 20, 1e-6);
    pg_dispatch_result_free(r);
    pg_world_free(w);
}

/* A piecewise-linear cost through (0, 0), (50, 500), (100, 1500) $/h has marginal costs 10 and
 * 20 $/MWh; against a 15 $/MWh unit and 120 MW of load it runs at 50 MW, the other unit gives 70
 * and sets the price. Cost 500 + 70 x 15 = 1550 $. The same case as a DC OPF (exact costs) and
 * with the commitment left out (every unit on, LP only) gives the same answer. */
static void
test_piecewise_cost_and_no_commitment(void **state)
{
    (void)state;
    pg_world *w = world_new(1);
    add_load(w, "load", 0, 120, PG_NONE);
    size_t g = add_unit(w, "pwl", 0, 0, 100, 0);
    double px[] = {0, 50, 100}, py[] = {0, 500, 1500};
    pg_error err = {0};
    assert_int_equal(pg_cost_set_piecewise(&w->thermals[g].cost, px, py, 3, &err), PG_OK);
    add_unit(w, "flat", 0, 0, 100, 15);
    for (int commit = 0; commit < 2; commit++) {
        pg_dispatch_options o = exact_options();
        o.commitment = commit;
        pg_dispatch_result *r = run(w, &o);
        assert_int_equal(r->uc_status, commit ? PG_UC_OPTIMAL : PG_UC_NONE);
        assert_near(r->thermal_p[0], 50, 1e-6);
        assert_near(r->thermal_p[1], 70, 1e-6);
        assert_near(r->lmp[0], 15, 1e-6);
        assert_near(r->total_cost, 1550, 1e-6);
        check_invariants(w, r);
        pg_dispatch_result_free(r);
    }
    pg_dcopf_result *opf = NULL;
    assert_int_equal(pg_dcopf_solve(w, NULL, &opf, &err), PG_OK);
    assert_near(opf->pg[0], 50, 1e-6);
    assert_near(opf->objective, 1550, 1e-6);
    assert_near(opf->lmp[0], 15, 1e-6);
    pg_dcopf_result_free(opf);
    pg_world_free(w);
}

/* A two-hour series at a two-hour step: loads are averaged over the step (10 and 30 -> 20 MW). */
static void
test_step_averages_series(void **state)
{
    (void)state;
    pg_world *w = world_new(1);
    double prof[] = {0.1, 0.3, 0.5, 0.7};
    add_load(w, "load", 0, 100, add_series(w, "p", prof, 4));
    add_unit(w, "g", 0, 0, 100, 10);
    pg_dispatch_options o = exact_options();
    o.step_h = 2;
    pg_dispatch_result *r = run(w, &o);
    assert_int_equal(r->n_steps, 2);
    assert_near(r->bus_demand[0], 20, 1e-9);
    assert_near(r->bus_demand[1], 60, 1e-9);
    assert_near(r->total_cost, (20 + 60) * 2 * 10, 1e-6);
    pg_dispatch_result_free(r);
    pg_world_free(w);
}

static void
expect_error(const pg_world *w, int code, const char *needle)
{
    pg_dispatch_result *r = NULL;
    pg_error err = {0};
    int rc = pg_dispatch_run(w, NULL, &r, &err);
    assert_int_equal(rc, code);
    assert_null(r);
    if (!strstr(err.msg, needle))
        fail_msg("error '%s' does not mention '%s'", err.msg, needle);
}

static void
test_bad_input(void **state)
{
    (void)state;
    pg_world *w = world_new(1);
    add_load(w, "load", 0, 50, PG_NONE);
    size_t g = add_unit(w, "diesel", 0, 0, 100, 30);
    w->thermals[g].pmin = 60;
    w->thermals[g].pmax = 50;
    expect_error(w, PG_EMODEL, "pmin 60 MW > pmax 50 MW");
    w->thermals[g].pmin = 0;

    pg_storage s;
    pg_storage_init(&s);
    s.name = "battery";
    s.bus = 0;
    s.energy_mwh = 10;
    s.charge_mw = s.discharge_mw = 5;
    s.eff_charge = -0.9;
    pg_error err = {0};
    assert_int_equal(pg_world_add_storage(w, &s, NULL, &err), PG_OK);
    expect_error(w, PG_EMODEL, "efficiency");
    w->storages[0].eff_charge = 0.9;

    double day[24], short_[20];
    for (int i = 0; i < 24; i++)
        day[i] = 1;
    for (int i = 0; i < 20; i++)
        short_[i] = 0.5;
    w->loads[0].p_series = add_series(w, "day", day, 24);
    pg_renewable re;
    pg_renewable_init(&re);
    re.name = "pv";
    re.bus = 0;
    re.rating = 10;
    re.availability = add_series(w, "sun", short_, 20);
    assert_int_equal(pg_world_add_renewable(w, &re, NULL, &err), PG_OK);
    expect_error(w, PG_EMODEL, "time series 'sun'");

    /* a non-convex cost */
    w->renewables[0].availability = w->loads[0].p_series;
    double c[] = {0, 50, -0.2};
    assert_int_equal(pg_cost_set_polynomial(&w->thermals[g].cost, c, 3, &err), PG_OK);
    expect_error(w, PG_EMODEL, "non-convex");
    pg_world_free(w);
}

/* JSON and CSV name components and carry the numbers. */
static void
test_printers(void **state)
{
    (void)state;
    pg_world *w = world_new(1);
    add_load(w, "load", 0, 100, PG_NONE);
    add_unit(w, "cheap", 0, 0, 60, 20);
    add_unit(w, "dear, \"B\"", 0, 0, 100, 30);
    pg_dispatch_result *r = run(w, NULL);
    char *json = NULL, *csv = NULL;
    pg_error err = {0};
    assert_int_equal(pg_dispatch_result_json(w, r, NULL, &json, &err), PG_OK);
    assert_non_null(strstr(json, "\"format\": \"plurigrid-dispatch/1\""));
    assert_non_null(strstr(json, "\"name\": \"dear, \\\"B\\\"\""));
    assert_non_null(strstr(json, "\"lmp\": [30]"));
    assert_int_equal(pg_dispatch_result_csv(w, r, NULL, &csv, &err), PG_OK);
    assert_non_null(strstr(csv, "0,0,thermal,cheap,p,60\n"));
    assert_non_null(strstr(csv, "0,0,thermal,\"dear, \"\"B\"\"\",p,40\n"));
    free(json);
    free(csv);
    pg_dispatch_result_free(r);
    pg_world_free(w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merit_order),
        cmocka_unit_test(test_startup_cost_keeps_unit_off),
        cmocka_unit_test(test_min_up_time_forces_unit_on),
        cmocka_unit_test(test_ramp_limit),
        cmocka_unit_test(test_storage_arbitrage),
        cmocka_unit_test(test_congestion_splits_prices),
        cmocka_unit_test(test_islands_and_parallel_lines),
        cmocka_unit_test(test_too_little_capacity),
        cmocka_unit_test(test_over_generation),
        cmocka_unit_test(test_quadratic_segments),
        cmocka_unit_test(test_piecewise_cost_and_no_commitment),
        cmocka_unit_test(test_step_averages_series),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_printers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
