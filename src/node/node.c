/* A node: its devices' state, the view/plan/operate cycle of an interval (node.h), portable packs
 * docked and undocked, and the value of a demand-response event's signal. How an interval is
 * balanced (storage, generator, unserved energy, spilled PV, the meter) is in docs/devices.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "node/devices.h"
#include "node/internal.h"

struct pg_node {
    const pg_node_config *cfg;
    uint32_t index;
    pg_rng rng;
    const pg_node_controller *ctl;
    void *ctl_state;
    pgi_dev *devs; /* the config's devices (packs not docked at the start left out), docked packs */
    size_t n_devs, cap_devs;
    pgi_dev_cfg pack_cfg; /* what a pack docked from elsewhere has besides capacity and power */
    bool started, advanced, operated;
    size_t advanced_t, operated_t;
    pg_node_plan plan;
    bool have_plan;
    size_t plan_t;
    double *buf; /* fixed, pv, outdoor: [horizon] each */
    size_t buf_h;
};

double
pg_dr_event_value(const pg_dr_event *e, double h)
{
    if (!e || e->cancelled || !isfinite(h) || !(h >= e->start_h))
        return NAN;
    double t = e->start_h;
    size_t n = e->n_intervals < PG_DR_MAX_INTERVALS ? e->n_intervals : PG_DR_MAX_INTERVALS;
    if (n == 0) /* no schedule of intervals: one interval of the event's duration */
        return h < e->start_h + e->duration_h ? 0.0 : NAN;
    for (size_t i = 0; i < n; i++) {
        double len = e->interval_h[i];
        if (!(len > 0))
            continue;
        if (h < t + len)
            return e->interval_value[i];
        t += len;
    }
    return NAN;
}

static int
grow(pg_node *n, pg_error *err)
{
    if (n->n_devs < n->cap_devs)
        return PG_OK;
    size_t cap = n->cap_devs ? 2 * n->cap_devs : 8;
    pgi_dev *d = realloc(n->devs, cap * sizeof *d);
    if (!d)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    n->devs = d;
    n->cap_devs = cap;
    return PG_OK;
}

void
pg_node_free(pg_node *n)
{
    if (!n)
        return;
    if (n->ctl && n->ctl->destroy)
        n->ctl->destroy(n->ctl_state);
    for (size_t i = 0; i < n->n_devs; i++)
        pgi_dev_release(&n->devs[i]);
    free(n->devs);
    free(n->buf);
    free(n);
}

int
pg_node_new(pg_node **out, const pg_node_config *cfg, uint32_t index, uint64_t seed, pg_error *err)
{
    if (!out || !cfg)
        return pg_error_set(err, PG_EINVAL, "pg_node_new: no config");
    int rc = PG_OK;
    pg_node *n = calloc(1, sizeof *n);
    if (!n)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    n->cfg = cfg;
    n->index = index;
    /* the devices' stream; the controller gets the seed itself */
    pg_rng_seed(&n->rng, seed, ((uint64_t)index << 8) | 0x6e);
    /* a pack docked from elsewhere: the efficiencies and limits of the node's first portable
     * battery, or the defaults of docs/devices.md */
    n->pack_cfg =
        (pgi_dev_cfg){.kind = PGI_DEV_PORTABLE, .input = PGI_NO_INPUT, .outdoor = PGI_NO_INPUT};
    n->pack_cfg.p.bat.eta_charge = n->pack_cfg.p.bat.eta_discharge = 0.95;
    n->pack_cfg.p.bat.soc_min = 0.1;
    n->pack_cfg.p.bat.soc_max = 1.0;
    for (size_t i = 0; i < cfg->n_devices; i++)
        if (cfg->devices[i].kind == PGI_DEV_PORTABLE) {
            n->pack_cfg = cfg->devices[i];
            n->pack_cfg.name = NULL;
            break;
        }
    for (size_t i = 0; i < cfg->n_devices; i++) {
        const pgi_dev_cfg *d = &cfg->devices[i];
        if (d->kind == PGI_DEV_PORTABLE && !d->p.bat.docked)
            continue;
        if ((rc = grow(n, err)))
            goto out;
        pgi_dev_init(&n->devs[n->n_devs++], d);
    }
    n->ctl = cfg->controller;
    if (n->ctl && n->ctl->create && (rc = n->ctl->create(&n->ctl_state, cfg, seed, err)))
        goto out;
    *out = n;
    n = NULL;
out:
    if (n)
        n->ctl = NULL; /* the controller did not start: nothing of it to destroy */
    pg_node_free(n);
    return rc;
}

uint32_t
pg_node_index(const pg_node *n)
{
    return n->index;
}

/* The largest magnitude of an input value (kW, availability, degrees C): past it the devices'
 * products of parameters and inputs could overflow. */
#define INPUT_MAX PG_MARKET_QTY_MAX

static int
check_env(const pg_node *n, const pg_node_env *env, pg_error *err)
{
    if (!env)
        return pg_error_set(err, PG_EINVAL, "node '%s': no environment", n->cfg->name);
    /* at least a second: the count of intervals to a departure or deadline must fit a size_t */
    if (!(env->hours >= 1.0 / 3600 && env->hours <= 24))
        return pg_error_set(err, PG_EINVAL,
                            "node '%s': the interval must be from 1 s (1/3600 h) to 24 h (it is "
                            "%g h)",
                            n->cfg->name, env->hours);
    if (!(env->hour_of_day >= 0 && env->hour_of_day < 24) || !isfinite(env->time_h))
        return pg_error_set(err, PG_EINVAL, "node '%s': the time of the interval is not valid",
                            n->cfg->name);
    if (env->horizon < 1 || env->horizon > 1000000)
        return pg_error_set(err, PG_EINVAL, "node '%s': the forecast horizon must be 1 or more",
                            n->cfg->name);
    if (!env->retail || !env->feed_in)
        return pg_error_set(err, PG_EINVAL, "node '%s': no prices", n->cfg->name);
    if (n->cfg->n_inputs && !env->actual)
        return pg_error_set(err, PG_EINVAL, "node '%s': the values of its inputs are missing",
                            n->cfg->name);
    for (size_t i = 0; i < n->cfg->n_inputs; i++) {
        if (!(fabs(env->actual[i]) <= INPUT_MAX))
            return pg_error_set(err, PG_EINVAL,
                                "node '%s': input '%s' is %g, not a finite number of magnitude at "
                                "most %g",
                                n->cfg->name, n->cfg->inputs[i], env->actual[i], INPUT_MAX);
        if (env->forecast && env->forecast[i])
            for (size_t k = 0; k < env->horizon; k++)
                if (!(fabs(env->forecast[i][k]) <= INPUT_MAX))
                    return pg_error_set(err, PG_EINVAL,
                                        "node '%s': the forecast of input '%s' %zu intervals ahead "
                                        "is %g, not a finite number of magnitude at most %g",
                                        n->cfg->name, n->cfg->inputs[i], k, env->forecast[i][k],
                                        INPUT_MAX);
    }
    for (size_t k = 0; k < env->horizon; k++)
        if (!(fabs(env->retail[k]) <= PG_MARKET_PRICE_MAX) ||
            !(fabs(env->feed_in[k]) <= PG_MARKET_PRICE_MAX))
            return pg_error_set(err, PG_EINVAL,
                                "node '%s': the prices %zu intervals ahead (retail %g, feed-in %g "
                                "$/kWh) must be finite numbers of magnitude at most %g",
                                n->cfg->name, k, env->retail[k], env->feed_in[k],
                                PG_MARKET_PRICE_MAX);
    return PG_OK;
}

/* Brings the devices to the start of interval env->t (arrivals, departures, new runs and jobs):
 * once per interval, whichever of bid and operate comes first. */
static int
advance(pg_node *n, const pg_node_env *env, pg_error *err)
{
    if (n->advanced && n->advanced_t == env->t)
        return PG_OK;
    if (!n->started) {
        for (size_t i = 0; i < n->n_devs; i++) {
            const pgi_dev_type *t = &pgi_dev_types[n->devs[i].cfg->kind];
            if (t->start)
                t->start(&n->devs[i], env, &n->rng);
        }
        n->started = true;
    }
    for (size_t i = 0; i < n->n_devs; i++) {
        const pgi_dev_type *t = &pgi_dev_types[n->devs[i].cfg->kind];
        int rc;
        if (t->advance && (rc = t->advance(&n->devs[i], env, &n->rng, err)))
            return rc;
    }
    n->advanced = true;
    n->advanced_t = env->t;
    return PG_OK;
}

static bool
connected(const pg_node *n, const pg_node_env *env)
{
    return env->grid_connected && n->cfg->grid_connected;
}

int
pg_node_bid(pg_node *n, const pg_node_env *env, pg_node_plan *plan, pg_error *err)
{
    int rc;
    if (!n || !plan)
        return pg_error_set(err, PG_EINVAL, "pg_node_bid: no node or plan");
    if ((rc = check_env(n, env, err)) || (rc = advance(n, env, err)))
        return rc;
    if (n->buf_h < env->horizon) {
        double *b = realloc(n->buf, 3 * env->horizon * sizeof *b);
        if (!b)
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        n->buf = b;
        n->buf_h = env->horizon;
    }
    memset(n->buf, 0, 3 * env->horizon * sizeof *n->buf);
    pg_node_view v = {.env = env, .profile = n->cfg->profile};
    v.temp_c = v.setpoint_c = v.deadband_c = NAN;
    v.eta_charge = v.eta_discharge = 1;
    pgi_view_ctx vc = {.env = env,
                       .v = &v,
                       .fixed = n->buf,
                       .pv = n->buf + env->horizon,
                       .outdoor = n->buf + 2 * env->horizon,
                       .shift_deadline_h = INFINITY};
    for (size_t i = 0; i < n->n_devs; i++) {
        const pgi_dev_type *t = &pgi_dev_types[n->devs[i].cfg->kind];
        if (t->view)
            t->view(&n->devs[i], &vc);
    }
    v.fixed_kwh = vc.fixed;
    v.pv_kwh = vc.pv;
    pg_node_plan p;
    memset(&p, 0, sizeof p);
    p.hvac_kw = NAN;
    if (n->ctl && (rc = n->ctl->plan(n->ctl_state, &v, &p, err)))
        return rc;
    p.no_bid[sizeof p.no_bid - 1] = '\0';
    if (!connected(n, env) || p.no_bid[0])
        p.n_points = 0; /* nothing to trade over a grid it is not on, or nothing decided */
    if (p.n_points > PG_NODE_MAX_POINTS)
        return pg_error_set(err, PG_ESTATE, "node '%s': the controller returned %zu bid points",
                            n->cfg->name, p.n_points);
    for (size_t i = 0; i < p.n_points; i++) {
        if (!isfinite(p.curve[i].price) || !isfinite(p.curve[i].qty))
            return pg_error_set(err, PG_ESTATE,
                                "node '%s': the controller's bid point %zu is not finite",
                                n->cfg->name, i);
        /* within what the market takes: only absurdly large inputs or devices go beyond */
        if (fabs(p.curve[i].qty) > PG_MARKET_QTY_MAX ||
            fabs(p.curve[i].price) > PG_MARKET_PRICE_MAX)
            return pg_error_set(err, PG_EINVAL,
                                "node '%s': its bid (%g kWh at %g $/kWh) is beyond what the market "
                                "takes (%g kWh, %g $/kWh): check the size of its inputs and "
                                "devices",
                                n->cfg->name, p.curve[i].qty, p.curve[i].price, PG_MARKET_QTY_MAX,
                                PG_MARKET_PRICE_MAX);
    }
    n->plan = p;
    n->have_plan = true;
    n->plan_t = env->t;
    *plan = p;
    return PG_OK;
}

static double
finite_or(double x, double dflt)
{
    return isfinite(x) ? x : dflt;
}

int
pg_node_operate(pg_node *n, const pg_node_env *env, double cleared_kwh, double price,
                pg_node_step *out, pg_error *err)
{
    int rc;
    (void)price;
    if (!n || !out)
        return pg_error_set(err, PG_EINVAL, "pg_node_operate: no node or step");
    if ((rc = check_env(n, env, err)) || (rc = advance(n, env, err)))
        return rc;
    if (n->operated && env->t <= n->operated_t)
        return pg_error_set(err, PG_ESTATE,
                            "node '%s': interval %zu already ran (intervals run once, in order)",
                            n->cfg->name, env->t);
    if (!isfinite(cleared_kwh))
        return pg_error_set(err, PG_EINVAL, "node '%s': the cleared quantity is not finite",
                            n->cfg->name);
    pg_node_plan p;
    if (n->have_plan && n->plan_t == env->t)
        p = n->plan;
    else {
        memset(&p, 0, sizeof p);
        p.hvac_kw = NAN;
    }
    const double dt = env->hours;
    pgi_step_ctx cx = {.env = env,
                       .dt = dt,
                       .ev_kw = fmax(0, finite_or(p.ev_kw, 0)),
                       .shift_kw = fmax(0, finite_or(p.shift_kw, 0)),
                       .gen_kw = fmax(0, finite_or(p.generator_kw, 0)),
                       .hvac_kw = isnan(p.hvac_kw) ? NAN : fmax(0, finite_or(p.hvac_kw, 0)),
                       .setpoint_offset_c = fmin(fmax(0, finite_or(p.setpoint_offset_c, 0)), 10),
                       .temp_c = NAN};
    double gen_max = 0, b_in = 0, b_out = 0;
    for (size_t i = 0; i < n->n_devs; i++) {
        pgi_dev *d = &n->devs[i];
        const pgi_dev_type *t = &pgi_dev_types[d->cfg->kind];
        if (t->step)
            t->step(d, &cx);
        if (d->cfg->kind == PGI_DEV_GENERATOR)
            gen_max += d->cfg->p.gen.max_kw * dt;
        if (pgi_dev_is_battery(d)) {
            b_in += pgi_bat_in_max(d, dt);
            b_out += pgi_bat_out_max(d, dt);
        }
    }
    const double load = cx.load + cx.ev, pv = cx.pv;
    double gen = cx.gen;
    double b = fmin(fmax(finite_or(p.battery_kw, 0) * dt, -b_out), b_in);
    double net = load - pv - gen + b, unserved = 0, spilled = 0, imp = 0, exp_ = 0;
    if (connected(n, env)) {
        if (cleared_kwh < 0 && net > cleared_kwh) { /* honour a sale from storage */
            double db = fmin(net - cleared_kwh, b + b_out);
            b -= db;
            net -= db;
        }
        imp = fmax(net, 0);
        exp_ = fmax(-net, 0);
    } else {
        if (net > 0) { /* short: storage, then the generator, then unserved */
            double db = fmin(net, b + b_out);
            b -= db;
            net -= db;
            double dg = fmin(net, fmax(0, gen_max - gen));
            gen += dg;
            net -= dg;
            unserved = fmax(net, 0);
        } else if (net < 0) { /* long: storage, then spill PV, then turn the generator down */
            double s = -net;
            double db = fmin(s, b_in - b);
            b += db;
            s -= db;
            spilled = fmin(s, pv);
            s -= spilled;
            if (s > 0) /* down to what the rest needs, computed so as not to round off */
                gen = fmax(0, load + b - (pv - spilled));
        }
    }
    /* share the battery flow among the batteries in order */
    double rem = fabs(b);
    for (size_t i = 0; i < n->n_devs && rem > 0; i++) {
        pgi_dev *d = &n->devs[i];
        if (!pgi_dev_is_battery(d))
            continue;
        double x = fmin(rem, b > 0 ? pgi_bat_in_max(d, dt) : pgi_bat_out_max(d, dt));
        pgi_bat_apply(d, b > 0 ? x : -x);
        rem -= x;
    }
    double soc = 0;
    for (size_t i = 0; i < n->n_devs; i++)
        if (pgi_dev_is_battery(&n->devs[i]))
            soc += n->devs[i].soc_kwh;
    pg_node_step s = {
        .import_kwh = imp,
        .export_kwh = exp_,
        .load_kwh = load,
        .pv_kwh = pv - spilled,
        .pv_spilled_kwh = spilled,
        .battery_in_kwh = fmax(b, 0),
        .battery_out_kwh = fmax(-b, 0),
        .soc_kwh = soc,
        .generator_kwh = gen,
        .unserved_kwh = unserved,
        .ev_kwh = cx.ev,
        .ev_short_kwh = cx.ev_short,
        .temp_c = cx.temp_c,
        .comfort_dev_c = isnan(cx.temp_c) ? 0 : cx.comfort_dev_c,
        .deferred_kwh = cx.deferred,
    };
    n->have_plan = false;
    n->operated = true;
    n->operated_t = env->t;
    *out = s;
    return PG_OK;
}

int
pg_node_dock(pg_node *n, uint32_t pack, double capacity_kwh, double power_kw, double soc_kwh,
             pg_error *err)
{
    if (!n)
        return pg_error_set(err, PG_EINVAL, "pg_node_dock: no node");
    if (!(capacity_kwh > 0 && capacity_kwh <= PGI_DEV_MAX) ||
        !(power_kw > 0 && power_kw <= PGI_DEV_MAX))
        return pg_error_set(err, PG_EINVAL,
                            "pack %u: capacity and power must be more than 0 and finite", pack);
    if (!(soc_kwh >= 0 && soc_kwh <= capacity_kwh))
        return pg_error_set(err, PG_EINVAL,
                            "pack %u: its state of charge must be from 0 to its capacity (%g "
                            "kWh; it is %g)",
                            pack, capacity_kwh, soc_kwh);
    for (size_t i = 0; i < n->n_devs; i++)
        if (n->devs[i].cfg->kind == PGI_DEV_PORTABLE && n->devs[i].pack == pack)
            return pg_error_set(err, PG_ESTATE, "pack %u is already docked at node '%s'", pack,
                                n->cfg->name);
    int rc = grow(n, err);
    if (rc)
        return rc;
    pgi_dev *d = &n->devs[n->n_devs++];
    pgi_dev_init(d, &n->pack_cfg);
    d->pack = pack;
    d->capacity_kwh = capacity_kwh;
    d->charge_kw = d->discharge_kw = power_kw;
    d->soc_kwh = soc_kwh;
    return PG_OK;
}

int
pg_node_undock(pg_node *n, uint32_t pack, double *soc_kwh, pg_error *err)
{
    if (!n)
        return pg_error_set(err, PG_EINVAL, "pg_node_undock: no node");
    for (size_t i = 0; i < n->n_devs; i++) {
        pgi_dev *d = &n->devs[i];
        if (d->cfg->kind != PGI_DEV_PORTABLE || d->pack != pack)
            continue;
        if (soc_kwh)
            *soc_kwh = d->soc_kwh;
        pgi_dev_release(d);
        memmove(d, d + 1, (n->n_devs - i - 1) * sizeof *d);
        n->n_devs--;
        return PG_OK;
    }
    return pg_error_set(err, PG_ENOTFOUND, "pack %u is not docked at node '%s'", pack,
                        n->cfg->name);
}
