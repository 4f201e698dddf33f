/* The rule-based controller: one rule set per profile, with demand-response answers, and a bid
 * curve of several points built from the node's inflexible and flexible energy
 * (docs/controllers.md, "Rules", states every rule). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "node/controllers.h"

static const char *const rules_params[] = {"dr_offset_c", "reserve", NULL};

typedef struct rules {
    double dr_offset_c; /* setpoint move at SIMPLE level >= 2 (half of it at level 1), C */
    double reserve;     /* off-grid: share of the storage range below which the generator runs */
} rules;

static int
rules_create(void **state, const pg_node_config *cfg, uint64_t seed, pg_error *err)
{
    (void)seed;
    rules *s = malloc(sizeof *s);
    if (!s)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    s->dr_offset_c = pg_node_config_param(cfg, "dr_offset_c", 2.0);
    s->reserve = pg_node_config_param(cfg, "reserve", 0.2);
    if (!(s->dr_offset_c >= 0 && s->dr_offset_c <= 10) || !(s->reserve >= 0 && s->reserve <= 1)) {
        free(s);
        return pg_error_set(err, PG_EMODEL,
                            "node '%s': the rules controller takes dr_offset_c from 0 to 10 and "
                            "reserve from 0 to 1",
                            pg_node_config_name(cfg));
    }
    *state = s;
    return PG_OK;
}

/* The demand-response situation of an interval: the highest SIMPLE level (a LOAD_DISPATCH event
 * counts as level 2), the price of an ELECTRICITY_PRICE event (NaN without one). */
typedef struct dr_now {
    int level;
    double price;
} dr_now;

static dr_now
dr_at(const pg_node_env *env)
{
    dr_now d = {0, NAN};
    double mid = env->time_h + 0.5 * env->hours; /* an event that covers the interval's middle */
    for (size_t i = 0; env->events && i < env->n_events; i++) {
        const pg_dr_event *e = &env->events[i];
        double v = pg_dr_event_value(e, mid);
        if (isnan(v))
            continue;
        if (e->signal == PG_DR_SIMPLE && v > d.level)
            d.level = v >= 3 ? 3 : (int)v;
        else if (e->signal == PG_DR_LOAD_DISPATCH && v > 0 && d.level < 2)
            d.level = 2;
        else if (e->signal == PG_DR_PRICE && isfinite(v))
            d.price = isnan(d.price) ? v : fmax(d.price, v);
    }
    return d;
}

/* The mean retail price over the coming day (or the forecast horizon when shorter). */
static double
day_mean(const pg_node_env *env)
{
    size_t n = (size_t)fmax(1, floor(24.0 / env->hours + 0.5));
    if (n > env->horizon)
        n = env->horizon;
    double s = 0;
    for (size_t k = 0; k < n; k++)
        s += env->retail[k];
    return s / (double)n;
}

/* The least of need (kWh, at most max_kw, due in `in` intervals) that must run this interval. */
static double
forced(double need, double max_kw, size_t in, double dt)
{
    if (need <= 0)
        return 0;
    return fmin(need, fmax(0, need - max_kw * dt * (in > 0 ? (double)(in - 1) : 0)));
}

static void
add_point(pg_node_plan *p, double price, double qty)
{
    if (p->n_points && price <= p->curve[p->n_points - 1].price)
        return; /* same price: the first point (the larger quantity) stands */
    if (p->n_points && fabs(qty - p->curve[p->n_points - 1].qty) < 1e-12) {
        /* The same quantity at a higher price: a buyer keeps buying it up to the higher price; a
         * seller already offered it from the lower price, which stands. */
        if (qty > 0)
            p->curve[p->n_points - 1].price = price;
        return;
    }
    if (p->n_points < PG_NODE_MAX_POINTS)
        p->curve[p->n_points++] = (pg_market_point){price, qty};
}

static int
rules_plan(void *state, const pg_node_view *v, pg_node_plan *out, pg_error *err)
{
    (void)err;
    const rules *s = state;
    const pg_node_env *env = v->env;
    const double dt = env->hours;
    const dr_now dr = dr_at(env);
    const double mean = day_mean(env);
    const double price = isnan(dr.price) ? env->retail[0] : dr.price;
    const bool offgrid = v->profile == PG_NODE_OFFGRID || !env->grid_connected;
    const bool high = !offgrid && price > mean + 1e-12;
    const double surplus = v->pv_kwh[0] - v->fixed_kwh[0]; /* kWh, < 0 a deficit */

    /* what storage can do this interval, kWh at its terminals */
    const double room =
        fmin(v->charge_max_kw * dt, fmax(0, v->soc_max_kwh - v->soc_kwh) / v->eta_charge);
    const double avail =
        fmin(v->discharge_max_kw * dt, fmax(0, v->soc_kwh - v->soc_min_kwh) * v->eta_discharge);

    pg_node_plan p;
    memset(&p, 0, sizeof p);
    p.hvac_kw = NAN; /* the thermostat runs itself, around a setpoint DR may move */
    p.setpoint_offset_c = dr.level >= 2                                 ? s->dr_offset_c
                          : dr.level == 1 || (!isnan(dr.price) && high) ? 0.5 * s->dr_offset_c
                                                                        : 0;

    /* storage */
    double b = 0; /* kWh, > 0 charge */
    if (dr.level >= 2)
        b = -avail;
    else if (surplus > 0)
        b = fmin(surplus, room);
    else if (offgrid || high || dr.level == 1)
        b = -fmin(-surplus, avail);
    p.battery_kw = b / dt;

    /* EV: full power when plugged, unless DR or a high price and there is slack to wait */
    double ev_full = fmin(v->ev_need_kwh, v->ev_max_kw * dt);
    double ev_forced = fmin(ev_full, forced(v->ev_need_kwh, v->ev_max_kw, v->ev_departs_in, dt));
    double ev = ev_full;
    if (v->ev_departs_in > 0 && (dr.level >= 1 || high) && surplus <= 0)
        ev = ev_forced;
    p.ev_kw = ev / dt;

    /* shiftable load and deferrable jobs: run now unless DR, or a high price (off grid: any
     * time) without the PV surplus to run them; what is due runs regardless */
    double sh_full = fmin(v->shift_need_kwh, v->shift_max_kw * dt);
    double sh_forced =
        fmin(sh_full, forced(v->shift_need_kwh, v->shift_max_kw, v->shift_deadline_in, dt));
    double sh = sh_full;
    if (dr.level >= 1 || ((high || offgrid) && surplus < sh_full))
        sh = sh_forced;
    p.shift_kw = sh / dt;

    /* generator: off grid when storage is low and there is a deficit; on grid at DR level 3 */
    double deficit = fmax(0, -surplus + ev + sh - (b < 0 ? -b : 0));
    if (v->gen_max_kw > 0) {
        double range = v->soc_max_kwh - v->soc_min_kwh;
        bool low = v->soc_kwh <= v->soc_min_kwh + s->reserve * range + 1e-9;
        if ((offgrid && low) || (!offgrid && dr.level >= 3))
            p.generator_kw = fmin(v->gen_max_kw, deficit / dt);
    }

    if (!offgrid) {
        /* the bid curve (docs/controllers.md): inflexible need I at the retail cap, flexible need
         * at lower prices, storage sold at the cap */
        double inflex = -surplus + v->hvac_self_kwh + ev_forced + sh_forced - p.generator_kw * dt;
        double flex_plan = (ev - ev_forced) + (sh - sh_forced) + fmax(b, 0);
        double flex_all = (ev_full - ev_forced) + (sh_full - sh_forced) + room;
        double cap = env->retail[0], floor_p = fmin(env->feed_in[0], cap);
        double mid = fmin(fmax(mean, floor_p), cap);
        double upper = 0.5 * (mid + cap);
        add_point(&p, floor_p, inflex + flex_all);
        add_point(&p, mid, inflex + flex_plan);
        add_point(&p, upper, inflex);
        add_point(&p, cap, inflex - avail);
        if (p.n_points == 1 && fabs(p.curve[0].qty) < 1e-12)
            p.n_points = 0;
    }
    *out = p;
    return PG_OK;
}

static void
rules_destroy(void *state)
{
    free(state);
}

const pg_node_controller pgi_ctl_rules = {
    .name = "rules",
    .summary = "rule-based, one rule set per profile",
    .params = rules_params,
    .create = rules_create,
    .plan = rules_plan,
    .destroy = rules_destroy,
};
