/* The receding-horizon LP controller against closed forms: a battery on a two-price day charges
 * in the cheap hours and discharges in the dear ones by exactly the energy its efficiencies
 * allow; an EV reaches its energy by departure at the least cost; a price event moves shiftable
 * consumption out of the event; the plan respects every bound on random nodes; the bid curve is
 * monotone and trades the planned net position at the grid price; bad parameters are refused.
 * The controller is driven through its contract (pg_node_view) with the environment simulated
 * here, independently of the node's device models. */
#include "node_sim.h"

#include <limits.h>

#include "node/controllers.h"
#include "node/internal.h"

#define MAXH 48

/* A hand-made view and its arrays. */
typedef struct vw {
    pg_node_env env;
    pg_node_view v;
    double retail[MAXH], feed[MAXH], fixed[MAXH], pv[MAXH], outdoor[MAXH];
    pg_dr_event events[2];
} vw;

static void
vw_init(vw *w, size_t H)
{
    memset(w, 0, sizeof *w);
    w->env.hours = 1;
    w->env.horizon = H;
    w->env.retail = w->retail;
    w->env.feed_in = w->feed;
    w->env.grid_connected = true;
    w->env.events = w->events;
    w->v.env = &w->env;
    w->v.profile = PG_NODE_RESIDENTIAL;
    w->v.fixed_kwh = w->fixed;
    w->v.pv_kwh = w->pv;
    w->v.eta_charge = 1;
    w->v.eta_discharge = 1;
}

/* Moves the view one interval on: the forecast arrays shift left, the horizon shrinks (a day
 * planned to its end) and the clock advances. */
static void
vw_advance(vw *w)
{
    size_t H = w->env.horizon;
    memmove(w->retail, w->retail + 1, (H - 1) * sizeof(double));
    memmove(w->feed, w->feed + 1, (H - 1) * sizeof(double));
    memmove(w->fixed, w->fixed + 1, (H - 1) * sizeof(double));
    memmove(w->pv, w->pv + 1, (H - 1) * sizeof(double));
    memmove(w->outdoor, w->outdoor + 1, (H - 1) * sizeof(double));
    w->env.horizon = H - 1;
    w->env.t++;
    w->env.time_h += w->env.hours;
}

/* A config with controller parameters, made by hand (the reader has its own tests). */
typedef struct tcfg {
    pg_node_config c;
    char *keys[16];
    double vals[16];
    pgi_dev_cfg dev[2];
} tcfg;

static void
tcfg_init(tcfg *t)
{
    memset(t, 0, sizeof *t);
    t->c.param_key = t->keys;
    t->c.param_val = t->vals;
    t->c.devices = t->dev;
    t->c.grid_connected = true;
}

static void
tcfg_param(tcfg *t, const char *k, double v)
{
    t->keys[t->c.n_params] = (char *)k;
    t->vals[t->c.n_params++] = v;
}

static void *
make(const tcfg *t)
{
    void *st = NULL;
    pg_error err = {0};
    if (pgi_ctl_lp.create(&st, t ? &t->c : NULL, 1, &err))
        fail_msg("create: %s", err.msg);
    return st;
}

static void
plan_ok(void *st, const vw *w, pg_node_plan *p)
{
    pg_error err = {0};
    if (pgi_ctl_lp.plan(st, &w->v, p, &err))
        fail_msg("plan at t=%zu: %s", w->env.t, err.msg);
}

/* The curve as the market reads it: pg_market_book_add_curve turns it into orders (and refuses
 * a curve that is not valid); q(x) is what they buy minus what they sell at price x. */
static double
curve_at(const pg_node_plan *p, double x)
{
    pg_market_book b;
    pg_market_book_init(&b);
    pg_error err = {0};
    if (pg_market_book_add_curve(&b, 0, p->curve, p->n_points, &err))
        fail_msg("the market refuses the curve: %s", err.msg);
    double q = 0;
    for (size_t i = 0; i < b.n; i++) {
        const pg_market_order *o = &b.orders[i];
        if (o->side == PG_MARKET_BUY && o->price >= x)
            q += o->qty;
        else if (o->side == PG_MARKET_SELL && o->price <= x)
            q -= o->qty;
    }
    pg_market_book_free(&b);
    return q;
}

static void
check_curve(const pg_node_plan *p)
{
    assert_true(p->n_points <= PG_NODE_MAX_POINTS);
    for (size_t i = 0; i < p->n_points; i++) {
        assert_true(isfinite(p->curve[i].price) && isfinite(p->curve[i].qty));
        if (i > 0) {
            assert_true(p->curve[i].price > p->curve[i - 1].price);
            assert_true(p->curve[i].qty <= p->curve[i - 1].qty);
        }
    }
    (void)curve_at(p, 0); /* the market takes it */
}

static void
test_battery_two_price_day(void **state)
{
    (void)state;
    const double eta_c = 0.95, eta_d = 0.9, cap = 10;
    tcfg t;
    tcfg_init(&t);
    tcfg_param(&t, "cycle_cost", 0);
    void *st = make(&t);
    vw w;
    vw_init(&w, 24);
    for (int h = 0; h < 24; h++) {
        w.retail[h] = h < 12 ? 0.10 : 0.40;
        w.feed[h] = 0;
        w.fixed[h] = 2;
    }
    w.v.soc_kwh = 0;
    w.v.soc_min_kwh = 0;
    w.v.soc_max_kwh = cap;
    w.v.charge_max_kw = 5;
    w.v.discharge_max_kw = 5;
    w.v.eta_charge = eta_c;
    w.v.eta_discharge = eta_d;
    double soc = 0, bought_cheap = 0, sold_dear = 0, cost = 0;
    for (int h = 0; h < 24; h++) {
        pg_node_plan p;
        w.v.soc_kwh = soc;
        plan_ok(st, &w, &p);
        check_curve(&p);
        double b = p.battery_kw;
        assert_true(b <= 5 + 1e-9 && b >= -5 - 1e-9);
        if (h < 12)
            assert_true(b >= -1e-9); /* never discharges when cheap */
        else
            assert_true(b <= 1e-9); /* never charges when dear */
        if (b > 0) {
            bought_cheap += b;
            soc += eta_c * b;
        } else {
            sold_dear += -b;
            soc -= -b / eta_d;
            assert_true(-b <= 2 + 1e-9); /* serves the load, exports nothing at feed-in 0 */
        }
        assert_true(soc >= -1e-9 && soc <= cap + 1e-9);
        double net = w.fixed[0] + b;
        double r = w.retail[0];
        if (h < 12) {
            /* the charge is bid at the stored energy's value, the price: the curve buys the
             * planned net at the interval's price */
            assert_near(curve_at(&p, r), net, 1e-7);
        } else {
            /* the discharge is offered at the stored energy's value (at most the price): above
             * the price the node sells it; at the price it buys no more than its load */
            assert_near(curve_at(&p, r + 1e-6), b, 1e-7);
            assert_true(curve_at(&p, r) >= net - 1e-7 && curve_at(&p, r) <= 2 + 1e-7);
        }
        cost += net * w.retail[0];
        if (h < 23)
            vw_advance(&w);
    }
    /* fills the battery from empty in the cheap hours, empties it into the dear ones */
    assert_near(bought_cheap, cap / eta_c, 1e-6);
    assert_near(sold_dear, cap * eta_d, 1e-6);
    assert_near(soc, 0, 1e-6);
    assert_near(cost, 12 * 2 * 0.1 + cap / eta_c * 0.1 + (24 - cap * eta_d) * 0.4, 1e-6);
    pgi_ctl_lp.destroy(st);
}

static void
test_ev_least_cost_by_departure(void **state)
{
    (void)state;
    const double price[8] = {0.30, 0.30, 0.10, 0.20, 0.10, 0.30, 0.15, 0.30};
    void *st = make(NULL);
    vw w;
    vw_init(&w, 8);
    for (int h = 0; h < 8; h++) {
        w.retail[h] = price[h];
        w.feed[h] = 0.05;
    }
    w.v.ev_max_kw = 4;
    double need = 10, cost = 0, got[8] = {0};
    for (int h = 0; h < 6; h++) {
        w.v.ev_need_kwh = need;
        w.v.ev_departs_in = (size_t)(6 - h);
        pg_node_plan p;
        plan_ok(st, &w, &p);
        check_curve(&p);
        assert_true(p.ev_kw >= 0 && p.ev_kw <= 4 + 1e-9);
        got[h] = p.ev_kw;
        need -= p.ev_kw;
        cost += p.ev_kw * price[h];
        if (p.ev_kw > 0) /* the EV's energy is bid at its marginal value, at least the price */
            assert_near(curve_at(&p, w.retail[0]), p.ev_kw, 1e-7);
        vw_advance(&w);
    }
    /* the cheapest 10 kWh before departure: 4 + 4 at 0.10, 2 at 0.20 */
    assert_near(need, 0, 1e-7);
    assert_near(got[2], 4, 1e-7);
    assert_near(got[4], 4, 1e-7);
    assert_near(got[3], 2, 1e-7);
    assert_near(cost, 1.2, 1e-7);
    pgi_ctl_lp.destroy(st);
}

static void
test_infeasible_ev_is_soft(void **state)
{
    (void)state;
    void *st = make(NULL);
    vw w;
    vw_init(&w, 4);
    for (int h = 0; h < 4; h++)
        w.retail[h] = 0.2, w.feed[h] = 0.05;
    w.v.ev_max_kw = 3;
    w.v.ev_need_kwh = 20; /* 2 h at 3 kW cannot give it */
    w.v.ev_departs_in = 2;
    pg_node_plan p;
    plan_ok(st, &w, &p);
    assert_near(p.ev_kw, 3, 1e-9); /* charges all it can */
    pgi_ctl_lp.destroy(st);
}

static void
set_price_event(pg_dr_event *e, double start, size_t n, double price)
{
    memset(e, 0, sizeof *e);
    strcpy(e->id, "peak");
    e->start_h = start;
    e->duration_h = (double)n;
    e->signal = PG_DR_PRICE;
    e->n_intervals = n;
    for (size_t i = 0; i < n; i++) {
        e->interval_h[i] = 1;
        e->interval_value[i] = price;
    }
}

static void
test_price_event_moves_consumption(void **state)
{
    (void)state;
    void *st = make(NULL);
    vw w;
    vw_init(&w, 6);
    for (int h = 0; h < 6; h++)
        w.retail[h] = 0.2, w.feed[h] = 0.05, w.fixed[h] = 0.5;
    w.v.shift_max_kw = 3;
    set_price_event(&w.events[0], 0, 3, 1.0); /* hours 0-2 at 1 $/kWh */
    w.env.n_events = 1;
    double need = 6, during = 0;
    for (int h = 0; h < 6; h++) {
        w.v.shift_need_kwh = need;
        w.v.shift_deadline_in = (size_t)(6 - h);
        pg_node_plan p;
        plan_ok(st, &w, &p);
        check_curve(&p);
        if (h < 3)
            during += p.shift_kw;
        need -= p.shift_kw;
        if (h < 5)
            vw_advance(&w);
    }
    assert_near(during, 0, 1e-9);
    assert_near(need, 0, 1e-7);
    pgi_ctl_lp.destroy(st);
}

static void
test_simple_event_discharges_battery(void **state)
{
    (void)state;
    tcfg t;
    tcfg_init(&t);
    tcfg_param(&t, "cycle_cost", 0);
    void *st = make(&t);
    vw w;
    vw_init(&w, 6);
    for (int h = 0; h < 6; h++)
        w.retail[h] = 0.2, w.feed[h] = 0.05, w.fixed[h] = 1;
    w.v.soc_kwh = 2;
    w.v.soc_max_kwh = 4;
    w.v.charge_max_kw = 2;
    w.v.discharge_max_kw = 2;
    pg_node_plan p;
    /* without an event, a flat price: holding is as good as discharging at eta 1; make it the
     * event that decides by putting it in interval 2 */
    pg_dr_event *e = &w.events[0];
    set_price_event(e, 2, 1, 0);
    e->signal = PG_DR_SIMPLE;
    e->interval_value[0] = 3; /* level 3: 0.3 $/kWh on imports */
    w.env.n_events = 1;
    double dis_at_2 = 0;
    double soc = 2;
    for (int h = 0; h < 4; h++) {
        w.v.soc_kwh = soc;
        plan_ok(st, &w, &p);
        soc += p.battery_kw;
        if (h == 2)
            dis_at_2 = -p.battery_kw;
        vw_advance(&w);
    }
    assert_near(dis_at_2, 1, 1e-7); /* the load of the event hour served from storage */
    pgi_ctl_lp.destroy(st);
}

/* A small deterministic generator for the random nodes. */
static double
rnd(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

static void
test_plan_respects_bounds(void **state)
{
    (void)state;
    tcfg t;
    tcfg_init(&t);
    /* a thermostat (heating) for the HVAC model */
    t.dev[0].kind = PGI_DEV_THERMOSTAT;
    t.dev[0].p.th.r_c_per_kw = 2;
    t.dev[0].p.th.c_kwh_per_c = 3;
    t.dev[0].p.th.cop = 3;
    t.dev[0].p.th.heating = true;
    t.c.n_devices = 1;
    void *st = make(&t);
    uint64_t seed = 42;
    for (int k = 0; k < 200; k++) {
        vw w;
        size_t H = 1 + (size_t)(rnd(&seed) * 30);
        vw_init(&w, H);
        w.env.hours = rnd(&seed) < 0.5 ? 1 : 0.25;
        w.env.grid_connected = rnd(&seed) < 0.8;
        for (size_t h = 0; h < H; h++) {
            w.retail[h] = 0.05 + 0.5 * rnd(&seed);
            w.feed[h] = -0.05 + 0.2 * rnd(&seed);
            w.fixed[h] = 3 * rnd(&seed);
            w.pv[h] = rnd(&seed) < 0.5 ? 0 : 4 * rnd(&seed);
            w.outdoor[h] = -5 + 20 * rnd(&seed);
        }
        w.v.soc_min_kwh = 1;
        w.v.soc_max_kwh = 1 + 10 * rnd(&seed);
        w.v.soc_kwh = w.v.soc_min_kwh + (w.v.soc_max_kwh - w.v.soc_min_kwh) * rnd(&seed);
        w.v.charge_max_kw = 5 * rnd(&seed);
        w.v.discharge_max_kw = 5 * rnd(&seed);
        w.v.eta_charge = 0.8 + 0.2 * rnd(&seed);
        w.v.eta_discharge = 0.8 + 0.2 * rnd(&seed);
        if (rnd(&seed) < 0.5) {
            w.v.ev_max_kw = 7;
            w.v.ev_need_kwh = 30 * rnd(&seed);
            w.v.ev_departs_in = (size_t)(rnd(&seed) * 40);
        }
        if (rnd(&seed) < 0.5) {
            w.v.shift_max_kw = 2;
            w.v.shift_need_kwh = 5 * rnd(&seed);
            w.v.shift_deadline_in = (size_t)(rnd(&seed) * 10);
        }
        if (rnd(&seed) < 0.5) {
            w.v.thermal = true;
            w.v.temp_c = 15 + 10 * rnd(&seed);
            w.v.setpoint_c = 20;
            w.v.deadband_c = 1;
            w.v.hvac_max_kw = 3;
            w.v.outdoor_c = w.outdoor;
        }
        if (rnd(&seed) < 0.3) {
            w.v.gen_max_kw = 3;
            w.v.gen_cost = 0.3;
        }
        if (rnd(&seed) < 0.3) {
            set_price_event(&w.events[0], 0.5, 2, 0.8);
            w.env.n_events = 1;
        }
        pg_node_plan p;
        plan_ok(st, &w, &p);
        check_curve(&p);
        double dt = w.env.hours;
        if (w.env.grid_connected) {
            /* below feed-in the node buys at least its plan, above retail it sells at most */
            double net = w.fixed[0] + (p.battery_kw + p.ev_kw + p.shift_kw - p.generator_kw) * dt +
                         (w.v.thermal ? p.hvac_kw * dt : 0) - (w.feed[0] > 0 ? w.pv[0] : 0);
            /* the price event covers the first interval when it is an hour long */
            double r = w.env.n_events && dt == 1 ? 0.8 : w.retail[0];
            if (w.feed[0] > 0) {
                assert_true(curve_at(&p, fmin(w.feed[0], r) - 1e-6) >= net - 1e-6);
                assert_true(curve_at(&p, r + 1e-6) <= net + 1e-6);
            }
        }
        assert_true(p.battery_kw <= w.v.charge_max_kw + 1e-9);
        assert_true(p.battery_kw >= -w.v.discharge_max_kw - 1e-9);
        double soc = w.v.soc_kwh + (p.battery_kw > 0 ? p.battery_kw * dt * w.v.eta_charge
                                                     : p.battery_kw * dt / w.v.eta_discharge);
        assert_true(soc >= w.v.soc_min_kwh - 1e-7 && soc <= w.v.soc_max_kwh + 1e-7);
        assert_true(p.ev_kw >= 0 && p.ev_kw <= w.v.ev_max_kw + 1e-9);
        assert_true(p.ev_kw * dt <= w.v.ev_need_kwh + 1e-7);
        if (w.v.ev_departs_in == 0)
            assert_true(p.ev_kw == 0);
        assert_true(p.shift_kw >= 0 && p.shift_kw <= w.v.shift_max_kw + 1e-9);
        assert_true(p.shift_kw * dt <= w.v.shift_need_kwh + 1e-7);
        assert_true(p.generator_kw >= 0 && p.generator_kw <= w.v.gen_max_kw + 1e-9);
        if (w.v.thermal)
            assert_true(p.hvac_kw >= 0 && p.hvac_kw <= w.v.hvac_max_kw + 1e-9);
        else
            assert_true(isnan(p.hvac_kw));
    }
    pgi_ctl_lp.destroy(st);
}

static void
test_bad_params(void **state)
{
    (void)state;
    const struct {
        const char *key;
        double v;
    } bad[] = {{"cycle_cost", -1}, {"horizon_h", 0}, {"horizon_h", 1e6}, {"ev_penalty", 1e300}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tcfg t;
        tcfg_init(&t);
        tcfg_param(&t, bad[i].key, bad[i].v);
        void *st = NULL;
        pg_error err = {0};
        assert_int_equal(pgi_ctl_lp.create(&st, &t.c, 1, &err), PG_EMODEL);
        assert_null(st);
        assert_non_null(strstr(err.msg, bad[i].key));
    }
    /* every parameter the controller takes is listed */
    size_t n = 0;
    while (pgi_ctl_lp.params[n])
        n++;
    assert_int_equal(n, 10);
}

static void
test_bad_view(void **state)
{
    (void)state;
    void *st = make(NULL);
    vw w;
    vw_init(&w, 3);
    w.retail[1] = NAN;
    pg_node_plan p;
    pg_error err = {0};
    assert_int_equal(pgi_ctl_lp.plan(st, &w.v, &p, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "retail price of forecast interval 1"));
    w.retail[1] = 0.1;
    w.v.soc_max_kwh = 1e300;
    assert_int_equal(pgi_ctl_lp.plan(st, &w.v, &p, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "soc_max_kwh"));
    pgi_ctl_lp.destroy(st);
}

/* Cooling before a price peak: with the peak ahead the LP cools more in the cheap hour than on a
 * flat price (where the room may drift up within its band first), and keeps it in its band. */
static void
test_precools_before_peak(void **state)
{
    (void)state;
    tcfg t;
    tcfg_init(&t);
    t.dev[0].kind = PGI_DEV_THERMOSTAT;
    t.dev[0].p.th.r_c_per_kw = 2;
    t.dev[0].p.th.c_kwh_per_c = 3;
    t.dev[0].p.th.cop = 3;
    t.dev[0].p.th.heating = false;
    t.c.n_devices = 1;
    void *st = make(&t);
    double hvac[2];
    for (int peak = 0; peak < 2; peak++) {
        vw w;
        vw_init(&w, 4);
        for (int h = 0; h < 4; h++) {
            w.retail[h] = peak && h > 0 ? 0.5 : 0.1;
            w.feed[h] = 0.05;
            w.outdoor[h] = 30;
        }
        w.v.thermal = true;
        w.v.temp_c = 24;
        w.v.setpoint_c = 24;
        w.v.deadband_c = 1;
        w.v.hvac_max_kw = 3;
        w.v.outdoor_c = w.outdoor;
        pg_node_plan p;
        plan_ok(st, &w, &p);
        hvac[peak] = p.hvac_kw;
        /* the devices' model: T' = T + a (T_out - T) - COP p dt / C */
        double a = 1 - exp(-1.0 / 6);
        double temp = 24 + a * (30 - 24) - 3 * p.hvac_kw / 3;
        assert_true(temp >= 23 - 1e-7 && temp <= 25 + 1e-7);
        if (!peak)
            assert_near(p.hvac_kw, 0, 1e-9); /* the room drifts within its band: no cooling yet */
        else
            assert_near(temp, 23, 1e-7); /* cooled to the bottom of the band before the peak */
    }
    assert_true(hvac[1] > hvac[0] + 1);
    pgi_ctl_lp.destroy(st);
}

/* Each allocation of create and of a plan fails in turn: the call fails with PG_ENOMEM (or
 * succeeds when the failed allocation had a fallback), and the controller plans correctly after. */
static void
test_allocation_failures(void **state)
{
    (void)state;
    vw w;
    vw_init(&w, 12);
    for (int h = 0; h < 12; h++)
        w.retail[h] = h < 6 ? 0.1 : 0.4, w.feed[h] = 0.05, w.fixed[h] = 1, w.pv[h] = h % 3;
    w.v.soc_max_kwh = 5;
    w.v.charge_max_kw = w.v.discharge_max_kw = 2;
    w.v.ev_max_kw = 3, w.v.ev_need_kwh = 4, w.v.ev_departs_in = 5;
    pg_node_plan ref, p;
    void *st = make(NULL);
    plan_ok(st, &w, &ref);
    pgi_ctl_lp.destroy(st);
    for (int phase = 0; phase < 2; phase++) {
        pgt_alloc_fail_after(LONG_MAX);
        st = NULL;
        pg_error err = {0};
        assert_int_equal(pgi_ctl_lp.create(&st, NULL, 1, &err), PG_OK);
        if (phase == 1)
            assert_int_equal(pgi_ctl_lp.plan(st, &w.v, &p, &err), PG_OK);
        long n = pgt_alloc_count();
        pgt_alloc_fail_after(-1);
        pgi_ctl_lp.destroy(st);
        for (long k = 0; k < n; k++) {
            st = NULL;
            pgt_alloc_fail_after(k);
            int rc = pgi_ctl_lp.create(&st, NULL, 1, &err);
            if (rc == PG_OK && phase == 1)
                rc = pgi_ctl_lp.plan(st, &w.v, &p, &err);
            pgt_alloc_fail_after(-1);
            assert_true(rc == PG_OK || rc == PG_ENOMEM);
            if (st) { /* whatever failed, the controller plans the same afterwards */
                plan_ok(st, &w, &p);
                assert_memory_equal(&p, &ref, sizeof p);
                pgi_ctl_lp.destroy(st);
            }
        }
    }
}

/* A node with nothing to decide plans nothing and bids its forecast: a deficit bought up to the
 * retail price, a surplus sold from the feed-in price (none when feed-in pays less than nothing:
 * the PV is curtailed), and a thermostat left to run itself. */
static void
test_inflexible_node(void **state)
{
    (void)state;
    void *st = make(NULL);
    vw w;
    vw_init(&w, 3);
    for (int h = 0; h < 3; h++)
        w.retail[h] = 0.3, w.feed[h] = 0.05, w.fixed[h] = 2;
    w.v.thermal = true; /* no thermal model in the config: it runs itself */
    w.v.hvac_self_kwh = 0.5;
    pg_node_plan p;
    plan_ok(st, &w, &p);
    assert_true(p.battery_kw == 0 && p.ev_kw == 0 && p.shift_kw == 0 && p.generator_kw == 0);
    assert_true(isnan(p.hvac_kw));
    assert_int_equal(p.n_points, 1);
    assert_near(p.curve[0].price, 0.3, 0);
    assert_near(p.curve[0].qty, 2.5, 1e-12);
    w.pv[0] = 5;
    plan_ok(st, &w, &p);
    assert_int_equal(p.n_points, 1);
    assert_near(p.curve[0].price, 0.05, 0);
    assert_near(p.curve[0].qty, -2.5, 1e-12);
    w.feed[0] = -0.01;
    plan_ok(st, &w, &p);
    assert_int_equal(p.n_points, 0);
    pgi_ctl_lp.destroy(st);
}

/* A node config naming the LP controller with a bad parameter is refused when it is read, at its
 * controller section; an unknown parameter is refused by name; good ones are taken. */
static void
test_config_params(void **state)
{
    (void)state;
    const struct {
        const char *kind, *params, *path, *msg;
        int code;
    } cases[] = {
        {"lp", "\"cycle_cost\": -1", "$.controller", "cycle_cost is -1", PG_EMODEL},
        {"lp", "\"horizon_h\": 0", "$.controller", "horizon_h is 0", PG_EMODEL},
        {"lp", "\"cycle\": 1", "$.controller.cycle", "unknown key 'cycle'", PG_EPARSE},
        {"aif", "\"depth\": 12", "$.controller", "depth is 12", PG_EMODEL},
        {"aif", "\"soc_levels\": 1", "$.controller", "soc_levels is 1", PG_EMODEL},
        {"lp", "\"cycle_cost\": 0.05, \"horizon_h\": 12", NULL, NULL, PG_OK},
        {"aif", "\"depth\": 3, \"sample\": 1", NULL, NULL, PG_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[1024];
        snprintf(text, sizeof text,
                 "{\"format\": \"plurigrid-node/1\", \"name\": \"n\",\n"
                 " \"profile\": \"residential\",\n"
                 " \"devices\": [{\"kind\": \"fixed_load\", \"name\": \"house\"}],\n"
                 " \"controller\": {\"kind\": \"%s\", %s}}\n",
                 cases[i].kind, cases[i].params);
        pg_node_config *c = NULL;
        pg_error err = {0};
        int rc = pg_node_config_parse(&c, "n.json", text, strlen(text), &err);
        if (rc != cases[i].code)
            fail_msg("case %zu: %d (%s)", i, rc, err.msg);
        if (rc) {
            assert_null(c);
            assert_string_equal(err.file, "n.json");
            assert_int_equal(err.line, 4);
            assert_string_equal(err.path, cases[i].path);
            if (!strstr(err.msg, cases[i].msg))
                fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].msg);
        } else {
            assert_near(pg_node_config_param(c, "depth", 0), i == 6 ? 3 : 0, 0);
            pg_node_config_free(c);
        }
    }
}

/* The residential example node a few days under the LP and under the rules (the node's own
 * devices, perfect forecasts, no market): the LP's bill is lower, the EV gets its energy, the
 * battery stays within its bounds and the room in its band. */
static double
run_example(const pg_node_controller *ctl, size_t hours, double *comfort, double *ev_short)
{
    pg_node_config *c = NULL;
    pg_error err = {0};
    if (pg_node_config_read(&c, pgt_source_path("examples/nodes/residential.json"), &err))
        fail_msg("%s", err.msg);
    c->controller = ctl;
    pg_node_step st[96];
    assert_true(hours <= 96);
    if (sim_run(c, 1, hours, NULL, 0, st, &err))
        fail_msg("%s under %s: %s", "residential", ctl->name, err.msg);
    double bill = 0;
    *comfort = *ev_short = 0;
    for (size_t t = 0; t < hours; t++) {
        bill += st[t].import_kwh * sim_retail((double)t) - st[t].export_kwh * 0.05;
        *comfort = fmax(*comfort, st[t].comfort_dev_c);
        *ev_short += st[t].ev_short_kwh;
        assert_true(st[t].soc_kwh >= 0.1 * 13.5 - 1e-9 && st[t].soc_kwh <= 13.5 + 1e-9);
    }
    pg_node_config_free(c);
    return bill;
}

static void
test_node_lp_beats_rules(void **state)
{
    (void)state;
    double comfort_lp, short_lp, comfort_rules, short_rules;
    double lp = run_example(&pgi_ctl_lp, 72, &comfort_lp, &short_lp);
    double rules = run_example(&pgi_ctl_rules, 72, &comfort_rules, &short_rules);
    print_message("residential, 3 days: bill %.3f $ under lp, %.3f $ under rules\n", lp, rules);
    assert_true(lp < rules);
    assert_near(short_lp, 0, 1e-9);
    assert_true(comfort_lp < 1e-6);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_battery_two_price_day),
        cmocka_unit_test(test_ev_least_cost_by_departure),
        cmocka_unit_test(test_infeasible_ev_is_soft),
        cmocka_unit_test(test_price_event_moves_consumption),
        cmocka_unit_test(test_simple_event_discharges_battery),
        cmocka_unit_test(test_plan_respects_bounds),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_bad_view),
        cmocka_unit_test(test_precools_before_peak),
        cmocka_unit_test(test_inflexible_node),
        cmocka_unit_test(test_config_params),
        cmocka_unit_test(test_node_lp_beats_rules),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
