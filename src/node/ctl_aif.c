/* The active-inference controller (docs/controllers.md, "Active inference"): the agent of the
 * aif module, with its home-battery model (pg_aif_battery_new), drives the node's battery; the
 * rest of the node runs as it would without a controller (loads and PV pass through, the EV and
 * shiftable work run as soon as they can), and the bid curve trades the resulting net position
 * with the grid's prices as limits.
 *
 * The model is aif's; this file is the agent's environment: it turns the node's view into the
 * model's observations and the agent's action into a battery setpoint. The model's clock has one
 * step per interval; its price levels are the interval's retail price against the day's
 * distribution of prices (low, mid, high by thirds of the day's range); its state-of-charge
 * levels are steps of the energy one interval of charging stores. An action chosen at the start
 * of an interval runs during it, so each plan first tells the agent what the last interval was
 * (its price level, DR status, the state of charge reached, the bill and DR response of what the
 * battery actually did) and then asks for the next action, which is exactly the model's timing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "node/controllers.h"
#include "plurigrid/aif.h"

enum {
    P_DEPTH,
    P_GAMMA,
    P_BETA,
    P_SOC_LEVELS,
    P_PRICE_NOISE,
    P_DR_START,
    P_DR_STAY,
    P_DR_VALUE,
    P_DR_PENALTY,
    P_SAMPLE,
    N_PARAMS
};

typedef struct param_def {
    const char *name;
    double dflt, lo, hi;
    bool whole; /* a whole number */
} param_def;

static const param_def aif_defs[N_PARAMS] = {
    [P_DEPTH] = {"depth", 6, 1, 8, true},
    [P_GAMMA] = {"gamma", 16, 0, 1e3, false},
    [P_BETA] = {"beta", 10, 0, 1e3, false},
    [P_SOC_LEVELS] = {"soc_levels", 0, 0, 20, true},
    [P_PRICE_NOISE] = {"price_noise", 0.05, 1e-6, 0.5, false},
    [P_DR_START] = {"dr_start", 0.02, 0, 1, false},
    [P_DR_STAY] = {"dr_stay", 0.5, 0, 1, false},
    [P_DR_VALUE] = {"dr_value", 0.5, 0, 1e3, false},
    [P_DR_PENALTY] = {"dr_penalty", 0.5, 0, 1e3, false},
    [P_SAMPLE] = {"sample", 0, 0, 1, true},
};

static const char *const aif_params[N_PARAMS + 1] = {
    "depth",   "gamma",    "beta",       "soc_levels", "price_noise", "dr_start",
    "dr_stay", "dr_value", "dr_penalty", "sample",     NULL};

#define EPS 1e-9
#define MAX_LEVELS 12 /* state-of-charge levels when chosen from the battery */
#define MAX_STEPS_PER_DAY 1000
#define MAX_PRICE 1e4
#define MAX_ENERGY 1e9

typedef struct aif_ctl {
    double p[N_PARAMS];
    uint64_t seed;
    pg_aif *agent;
    size_t spd;         /* intervals per day (the model's clock) */
    size_t K;           /* state-of-charge levels */
    double step_kwh;    /* stored energy between two levels */
    double *slot_price; /* [spd] the latest known retail price of each interval of the day */
    int *levels;        /* [spd] the price levels the agent was built with */
    double lvl_price[3];
    /* the last interval */
    bool have_prev;
    int prev_level, prev_dr;
    size_t prev_soc, prev_slot;
    size_t rebuilds;
} aif_ctl;

static int
aif_create(void **state, const pg_node_config *cfg, uint64_t seed, pg_error *err)
{
    aif_ctl *c = calloc(1, sizeof *c);
    if (!c)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    for (size_t i = 0; i < N_PARAMS; i++) {
        const param_def *d = &aif_defs[i];
        double v = cfg ? pg_node_config_param(cfg, d->name, d->dflt) : d->dflt;
        if (!(v >= d->lo && v <= d->hi) || (d->whole && v != floor(v)) ||
            (i == P_SOC_LEVELS && v == 1)) {
            free(c);
            return pg_error_set(err, PG_EMODEL,
                                "controller aif: parameter %s is %g; it must be a %s from %g to "
                                "%g%s",
                                d->name, v, d->whole ? "whole number" : "number", d->lo, d->hi,
                                i == P_SOC_LEVELS ? " other than 1 (0: chosen from the battery)"
                                                  : "");
        }
        c->p[i] = v;
    }
    c->seed = seed;
    *state = c;
    return PG_OK;
}

static void
aif_destroy(void *state)
{
    aif_ctl *c = state;
    if (!c)
        return;
    pg_aif_free(c->agent);
    free(c->slot_price);
    free(c->levels);
    free(c);
}

/* Whether a demand-response event asks for less consumption during forecast interval t. */
static int
dr_active(const pg_node_env *e, size_t t)
{
    double h = e->time_h + ((double)t + 0.5) * e->hours;
    for (size_t k = 0; k < e->n_events; k++) {
        if (e->events[k].cancelled)
            continue;
        double x = pg_dr_event_value(&e->events[k], h);
        if (isfinite(x) && (x > 0 || e->events[k].signal == PG_DR_PRICE))
            return 1;
    }
    return 0;
}

/* The level of price x in the day's range [lo, hi]: its lower, middle or upper third. */
static int
level_of(double x, double lo, double hi)
{
    double third = (hi - lo) / 3;
    if (!(third > 0))
        return PG_AIF_PRICE_MID;
    if (x < lo + third)
        return PG_AIF_PRICE_LOW;
    if (x > hi - third)
        return PG_AIF_PRICE_HIGH;
    return PG_AIF_PRICE_MID;
}

/* The day's price range from the known slots (NaN when none is known). */
static void
day_range(const aif_ctl *c, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t s = 0; s < c->spd; s++)
        if (!isnan(c->slot_price[s])) {
            *lo = fmin(*lo, c->slot_price[s]);
            *hi = fmax(*hi, c->slot_price[s]);
        }
    if (*lo > *hi)
        *lo = *hi = NAN;
}

/* Recomputes the level profile; returns whether it differs from the agent's. */
static bool
profile(aif_ctl *c, int *levels, double lvl_price[3])
{
    double lo, hi;
    day_range(c, &lo, &hi);
    double sum[3] = {0}, n[3] = {0};
    for (size_t s = 0; s < c->spd; s++) {
        double x = c->slot_price[s];
        levels[s] = isnan(x) ? PG_AIF_PRICE_MID : level_of(x, lo, hi);
        if (!isnan(x)) {
            sum[levels[s]] += x;
            n[levels[s]]++;
        }
    }
    const double fallback[3] = {lo, (lo + hi) / 2, hi};
    for (int l = 0; l < 3; l++)
        lvl_price[l] = n[l] > 0 ? sum[l] / n[l] : (isnan(fallback[l]) ? 0 : fallback[l]);
    bool changed = !c->agent;
    for (size_t s = 0; s < c->spd && !changed; s++)
        changed = levels[s] != c->levels[s];
    for (int l = 0; l < 3 && !changed; l++)
        changed = lvl_price[l] != c->lvl_price[l];
    return changed;
}

/* A new agent whose first observation is the one of obs with bill and response left out (a
 * fresh model does not know what the battery did last), at clock slot and level soc. */
static int
rebuild(aif_ctl *c, const int *levels, const double lvl_price[3], size_t slot, size_t soc,
        double efficiency, const size_t *obs, pg_error *err)
{
    pg_aif_battery_spec sp;
    pg_aif_battery_spec_init(&sp);
    sp.hours = c->spd;
    sp.start_hour = slot;
    sp.soc_levels = c->K;
    sp.start_soc = soc;
    sp.price_level = levels;
    for (int l = 0; l < 3; l++)
        sp.price[l] = lvl_price[l];
    sp.efficiency = efficiency;
    sp.price_noise = c->p[P_PRICE_NOISE];
    sp.dr_start = c->p[P_DR_START];
    sp.dr_stay = c->p[P_DR_STAY];
    sp.dr_value = c->p[P_DR_VALUE];
    sp.dr_penalty = c->p[P_DR_PENALTY];
    sp.beta = c->p[P_BETA];
    pg_aif_options o;
    pg_aif_options_init(&o);
    o.policy_depth = (size_t)c->p[P_DEPTH];
    o.gamma = c->p[P_GAMMA];
    o.action_selection = c->p[P_SAMPLE] ? PG_AIF_SAMPLE : PG_AIF_ARGMAX;
    o.seed = c->seed + c->rebuilds; /* each agent its own stream, the same for the same seed */
    pg_aif *a = NULL;
    int rc = pg_aif_battery_new(&a, &sp, &o, err);
    if (rc)
        return rc;
    size_t first[PG_AIF_BAT_N_OBS];
    memcpy(first, obs, sizeof first);
    first[PG_AIF_BAT_OBS_BILL] = PG_AIF_MISSING;
    first[PG_AIF_BAT_OBS_RESPONSE] = PG_AIF_MISSING;
    if ((rc = pg_aif_observe(a, first, err))) {
        pg_aif_free(a);
        return rc;
    }
    pg_aif_free(c->agent);
    c->agent = a;
    memcpy(c->levels, levels, c->spd * sizeof *levels);
    memcpy(c->lvl_price, lvl_price, sizeof c->lvl_price);
    c->rebuilds++;
    return PG_OK;
}

static bool
sane(double v, double lim)
{
    return isfinite(v) && fabs(v) <= lim;
}

static int
check_view(const pg_node_view *v, pg_error *err)
{
    const pg_node_env *e = v->env;
    for (size_t t = 0; e->grid_connected && t < e->horizon; t++)
        if (!sane(e->retail[t], MAX_PRICE) || !sane(e->feed_in[t], MAX_PRICE))
            return pg_error_set(err, PG_EINVAL,
                                "controller aif: the prices of forecast interval %zu are not "
                                "finite numbers of sensible size",
                                t);
    const double xs[] = {v->fixed_kwh[0],  v->pv_kwh[0],     v->soc_kwh,          v->soc_min_kwh,
                         v->soc_max_kwh,   v->charge_max_kw, v->discharge_max_kw, v->eta_charge,
                         v->eta_discharge, v->ev_need_kwh,   v->ev_max_kw,        v->shift_need_kwh,
                         v->shift_max_kw,  v->hvac_self_kwh};
    for (size_t i = 0; i < sizeof xs / sizeof *xs; i++)
        if (!sane(xs[i], MAX_ENERGY) || xs[i] < 0)
            return pg_error_set(err, PG_EINVAL,
                                "controller aif: the node's view has %g where a finite number "
                                ">= 0 is needed (loads, PV, battery, EV, shiftable work)",
                                xs[i]);
    if (v->eta_charge > 1 || v->eta_discharge > 1)
        return pg_error_set(err, PG_EINVAL, "controller aif: efficiencies above 1");
    return PG_OK;
}

/* The battery's part: the agent's action for this interval, as a setpoint (kW). */
static int
battery_kw(aif_ctl *c, const pg_node_view *v, double *kw, pg_error *err)
{
    const pg_node_env *e = v->env;
    const double dt = e->hours;
    const double usable = v->soc_max_kwh - v->soc_min_kwh;
    *kw = 0;
    if (!(usable > EPS && v->charge_max_kw > 0 && v->discharge_max_kw > 0 && v->eta_charge > 0 &&
          v->eta_discharge > 0))
        return PG_OK; /* no battery to drive */
    if (!c->agent && !c->slot_price) {
        c->spd = (size_t)llround(24 / dt);
        if (c->spd < 1 || c->spd > MAX_STEPS_PER_DAY || fabs((double)c->spd * dt - 24) > 1e-9)
            return pg_error_set(err, PG_EINVAL,
                                "controller aif: the interval (%g h) must divide the day into at "
                                "most %d intervals",
                                dt, MAX_STEPS_PER_DAY);
        c->slot_price = malloc(c->spd * sizeof *c->slot_price);
        c->levels = malloc(c->spd * sizeof *c->levels);
        if (!c->slot_price || !c->levels) {
            free(c->slot_price), free(c->levels);
            c->slot_price = NULL, c->levels = NULL;
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        }
        for (size_t s = 0; s < c->spd; s++)
            c->slot_price[s] = NAN;
        /* Levels as close as the battery's power allows: one interval of charging or
         * discharging at most power moves at least one level, so each action moves exactly one. */
        double step = fmin(v->charge_max_kw * dt * v->eta_charge,
                           v->discharge_max_kw * dt / v->eta_discharge);
        size_t K = (size_t)c->p[P_SOC_LEVELS];
        if (K == 0) {
            double k = ceil(usable / step - 1e-9) + 1;
            K = k < 2 ? 2 : (k > MAX_LEVELS ? MAX_LEVELS : (size_t)k);
        }
        c->K = K;
        c->step_kwh = usable / (double)(K - 1);
    }
    if (fabs(e->hours * (double)c->spd - 24) > 1e-9)
        return pg_error_set(err, PG_EINVAL,
                            "controller aif: the interval length changed from %g h to %g h",
                            24.0 / (double)c->spd, e->hours);
    size_t slot = (size_t)llround(e->hour_of_day / dt) % c->spd;
    for (size_t k = 0; k < e->horizon && k < c->spd; k++)
        c->slot_price[(slot + k) % c->spd] = e->retail[k];
    int levels[MAX_STEPS_PER_DAY];
    double lvl_price[3];
    bool changed = profile(c, levels, lvl_price);
    double lo, hi;
    day_range(c, &lo, &hi);

    double pos = (v->soc_kwh - v->soc_min_kwh) / c->step_kwh;
    long lv = lround(pos);
    size_t soc = lv < 0 ? 0 : (lv >= (long)c->K ? c->K - 1 : (size_t)lv);
    size_t obs[PG_AIF_BAT_N_OBS];
    size_t done = PG_AIF_BAT_IDLE;
    if (c->have_prev) {
        done = soc > c->prev_soc   ? PG_AIF_BAT_CHARGE
               : soc < c->prev_soc ? PG_AIF_BAT_DISCHARGE
                                   : PG_AIF_BAT_IDLE;
        obs[PG_AIF_BAT_OBS_PRICE] = (size_t)c->prev_level;
        obs[PG_AIF_BAT_OBS_DR] = (size_t)c->prev_dr;
        obs[PG_AIF_BAT_OBS_BILL] = pg_aif_battery_bill(done, c->prev_level);
        obs[PG_AIF_BAT_OBS_RESPONSE] = pg_aif_battery_response(done, c->prev_dr);
    } else {
        obs[PG_AIF_BAT_OBS_PRICE] = PG_AIF_MISSING;
        obs[PG_AIF_BAT_OBS_DR] = PG_AIF_MISSING;
        obs[PG_AIF_BAT_OBS_BILL] = PG_AIF_MISSING;
        obs[PG_AIF_BAT_OBS_RESPONSE] = PG_AIF_MISSING;
    }
    obs[PG_AIF_BAT_OBS_SOC] = soc;
    const double eff = v->eta_charge * v->eta_discharge;
    const size_t obs_slot = c->have_prev ? c->prev_slot : (slot + c->spd - 1) % c->spd;
    int rc = PG_OK;
    if (!changed) {
        /* What the battery did (a charge of a full battery runs as idle, and the node may have
         * moved it for the market): the agent's prior follows that, then the observation. */
        if ((rc = pg_aif_set_action(c->agent, done, err)))
            return rc;
        pg_error e2 = {0};
        rc = pg_aif_observe(c->agent, obs, &e2);
        if (rc == PG_EMODEL)
            changed = true; /* the state moved as the model cannot: start from what is seen */
        else if (rc)
            return pg_error_set(err, rc, "controller aif: %s", e2.msg);
    }
    if (changed && (rc = rebuild(c, levels, lvl_price, obs_slot, soc, eff, obs, err)))
        return rc;
    size_t action = PG_AIF_BAT_IDLE;
    if ((rc = pg_aif_plan(c->agent, err)) || (rc = pg_aif_act(c->agent, &action, err)))
        return rc;

    const double room = fmax(0.0, v->soc_max_kwh - v->soc_kwh);
    const double avail = fmax(0.0, v->soc_kwh - v->soc_min_kwh);
    if (action == PG_AIF_BAT_CHARGE)
        *kw = fmin(fmin(c->step_kwh, room) / v->eta_charge / dt, v->charge_max_kw);
    else if (action == PG_AIF_BAT_DISCHARGE)
        *kw = -fmin(fmin(c->step_kwh, avail) * v->eta_discharge / dt, v->discharge_max_kw);
    c->have_prev = true;
    c->prev_level = level_of(e->retail[0], lo, hi);
    c->prev_dr = dr_active(e, 0);
    c->prev_soc = soc;
    c->prev_slot = slot;
    return PG_OK;
}

static int
aif_plan(void *state, const pg_node_view *v, pg_node_plan *out, pg_error *err)
{
    aif_ctl *c = state;
    const pg_node_env *e = v ? v->env : NULL;
    if (!c || !v || !e || !out || !v->fixed_kwh || !v->pv_kwh || e->horizon < 1)
        return pg_error_set(err, PG_EINVAL, "controller aif: a view with its forecast is needed");
    if (!(e->hours > 0 && e->hours <= 24))
        return pg_error_set(err, PG_EINVAL,
                            "controller aif: the interval length (%g h) must be in (0, 24]",
                            e->hours);
    if (e->grid_connected && (!e->retail || !e->feed_in))
        return pg_error_set(err, PG_EINVAL, "controller aif: a grid-connected node needs prices");
    int rc = check_view(v, err);
    if (rc)
        return rc;
    const double dt = e->hours;
    pg_node_plan p;
    memset(&p, 0, sizeof p);
    /* The rest runs as without a controller: the EV and shiftable work as soon as they can. */
    if (v->ev_departs_in > 0)
        p.ev_kw = fmin(v->ev_max_kw, v->ev_need_kwh / dt);
    if (v->shift_need_kwh > 0)
        p.shift_kw = fmin(v->shift_max_kw, v->shift_need_kwh / dt);
    p.hvac_kw = NAN;
    double net = v->fixed_kwh[0] + v->hvac_self_kwh - v->pv_kwh[0] + (p.ev_kw + p.shift_kw) * dt;
    if (!e->grid_connected) {
        /* No price to act on: the battery balances the node (stores the surplus, covers the
         * deficit), the generator what the battery cannot, and an off-grid node does not bid. */
        double room = fmin(v->charge_max_kw * dt, fmax(0, v->soc_max_kwh - v->soc_kwh) /
                                                      (v->eta_charge > 0 ? v->eta_charge : 1));
        double avail =
            fmin(v->discharge_max_kw * dt, fmax(0, v->soc_kwh - v->soc_min_kwh) * v->eta_discharge);
        double b = net < 0 ? fmin(-net, room) : -fmin(net, avail);
        p.battery_kw = b / dt;
        p.generator_kw = fmin(v->gen_max_kw, fmax(0, net + b) / dt);
        *out = p;
        return PG_OK;
    }
    if ((rc = battery_kw(c, v, &p.battery_kw, err)))
        return rc;
    /* The bid: the net position bought up to the retail price or sold from the feed-in price. */
    net += p.battery_kw * dt;
    if (net > EPS)
        p.curve[p.n_points++] = (pg_market_point){e->retail[0], net};
    else if (net < -EPS)
        p.curve[p.n_points++] = (pg_market_point){fmin(e->feed_in[0], e->retail[0]), net};
    *out = p;
    return PG_OK;
}

const pg_node_controller pgi_ctl_aif = {
    .name = "aif",
    .summary = "active inference drives the home battery against the day's prices",
    .params = aif_params,
    .create = aif_create,
    .plan = aif_plan,
    .destroy = aif_destroy,
};
