/* The device models of a node on a fixed step (docs/devices.md has the equations and units): the
 * table of kinds, each with its parameters (read from the node config), its state at the start of
 * an interval, its part of the controller's view and its step. */
#include "node/devices.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Intervals of dt from time t until an event at time at (the event happens at the start of the
 * interval that contains it). */
static double
intervals_until(double at, double t, double dt)
{
    return floor((at - t) / dt + 1e-9);
}

double
pgi_hour_mod(double x)
{
    double m = fmod(x, 24.0);
    if (m < 0)
        m += 24.0;
    if (m >= 24.0)
        m = 0;
    return m;
}

/* True when hour of day h falls in the interval starting at hour_of_day lasting dt. */
static bool
hour_in_interval(double h, const pg_node_env *env)
{
    return pgi_hour_mod(h - env->hour_of_day) < env->hours - 1e-9;
}

static double
clampd(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* The value of a series this interval / k intervals ahead, 0 when the env lacks it. */
static double
actual(const pg_node_env *env, size_t input)
{
    return env->actual ? env->actual[input] : 0.0;
}

static double
forecast(const pg_node_env *env, size_t input, size_t k)
{
    return env->forecast && env->forecast[input] ? env->forecast[input][k] : actual(env, input);
}

/* ------------------------------------------------------------------ reading helpers */

static int
num(pgi_jr *r, const json_t *o, const char *key, double lo, double hi, double *out)
{
    return pgi_jr_get_number(r, o, key, false, lo, hi, out);
}

static int
positive(pgi_jr *r, const json_t *o, const char *key, bool required, double *out)
{
    double x = *out;
    int rc = pgi_jr_get_number(r, o, key, required, -INFINITY, PGI_DEV_MAX, &x);
    if (rc)
        return rc;
    if (!(x > 0))
        return pgi_jr_fail_key(r, PG_EPARSE, key, "must be more than 0 (it is %g)", x);
    if (x < PGI_DEV_MIN) /* so that no ratio of parameters overflows */
        return pgi_jr_fail_key(r, PG_EPARSE, key, "must be at least %g (it is %g)", PGI_DEV_MIN, x);
    *out = x;
    return PG_OK;
}

/* The series member key names (dflt when absent; NULL: none), added to the config's inputs. */
static int
input(pgi_jr *r, const json_t *o, const char *key, const char *dflt, pg_node_config *c, size_t *idx)
{
    const char *name = dflt;
    int rc = pgi_jr_get_string(r, o, key, false, &name);
    if (rc)
        return rc;
    if (!name) {
        *idx = PGI_NO_INPUT;
        return PG_OK;
    }
    if (!name[0])
        return pgi_jr_fail_key(r, PG_EPARSE, key, "must name a series, not be empty");
    size_t mark = pgi_jr_push_key(r, key);
    rc = pgi_config_add_input(r, c, name, idx);
    pgi_jr_pop(r, mark);
    return rc;
}

static int
hour(pgi_jr *r, const json_t *o, const char *key, double *out)
{
    return pgi_jr_get_number(r, o, key, false, 0, 24, out);
}

/* ------------------------------------------------------------------ PV */

static const char *const pv_keys[] = {"kw_peak", "input", NULL};

static int
pv_read(pgi_jr *r, const json_t *o, pg_node_config *c, pgi_dev_cfg *d)
{
    int rc;
    if ((rc = positive(r, o, "kw_peak", true, &d->p.pv.kw_peak)) ||
        (rc = input(r, o, "input", "pv", c, &d->input)))
        return rc;
    return PG_OK;
}

static void
pv_view(const pgi_dev *d, pgi_view_ctx *vc)
{
    for (size_t k = 0; k < vc->env->horizon; k++)
        vc->pv[k] +=
            d->cfg->p.pv.kw_peak * fmax(0, forecast(vc->env, d->cfg->input, k)) * vc->env->hours;
}

static void
pv_step(pgi_dev *d, pgi_step_ctx *cx)
{
    cx->pv += d->cfg->p.pv.kw_peak * fmax(0, actual(cx->env, d->cfg->input)) * cx->dt;
}

/* ------------------------------------------------------------------ batteries */

static const char *const bat_keys[] = {
    "capacity_kwh",  "power_kw", "charge_kw", "discharge_kw", "eta_charge",
    "eta_discharge", "soc_min",  "soc_max",   "soc_initial",  NULL};
static const char *const pack_keys[] = {
    "capacity_kwh", "power_kw", "charge_kw",   "discharge_kw", "eta_charge", "eta_discharge",
    "soc_min",      "soc_max",  "soc_initial", "pack",         "docked",     NULL};

static int
bat_read(pgi_jr *r, const json_t *o, pg_node_config *c, pgi_dev_cfg *d)
{
    int rc;
    double power = NAN;
    d->p.bat.eta_charge = 0.95;
    d->p.bat.eta_discharge = 0.95;
    d->p.bat.soc_min = 0.1;
    d->p.bat.soc_max = 1.0;
    d->p.bat.soc_init = 0.5;
    if ((rc = positive(r, o, "capacity_kwh", true, &d->p.bat.capacity_kwh)) ||
        (rc = positive(r, o, "power_kw", true, &power)))
        return rc;
    d->p.bat.charge_kw = d->p.bat.discharge_kw = power;
    if ((rc = positive(r, o, "charge_kw", false, &d->p.bat.charge_kw)) ||
        (rc = positive(r, o, "discharge_kw", false, &d->p.bat.discharge_kw)) ||
        (rc = positive(r, o, "eta_charge", false, &d->p.bat.eta_charge)) ||
        (rc = positive(r, o, "eta_discharge", false, &d->p.bat.eta_discharge)) ||
        (rc = num(r, o, "soc_min", 0, 1, &d->p.bat.soc_min)) ||
        (rc = num(r, o, "soc_max", 0, 1, &d->p.bat.soc_max)))
        return rc;
    if (d->p.bat.eta_charge > 1)
        return pgi_jr_fail_key(r, PG_EPARSE, "eta_charge", "must be at most 1 (it is %g)",
                               d->p.bat.eta_charge);
    if (d->p.bat.eta_discharge > 1)
        return pgi_jr_fail_key(r, PG_EPARSE, "eta_discharge", "must be at most 1 (it is %g)",
                               d->p.bat.eta_discharge);
    if (d->p.bat.soc_max < d->p.bat.soc_min)
        return pgi_jr_fail_key(r, PG_EPARSE, "soc_max", "must be at least soc_min (%g; it is %g)",
                               d->p.bat.soc_min, d->p.bat.soc_max);
    d->p.bat.soc_init = clampd(0.5, d->p.bat.soc_min, d->p.bat.soc_max);
    if ((rc = num(r, o, "soc_initial", d->p.bat.soc_min, d->p.bat.soc_max, &d->p.bat.soc_init)))
        return rc;
    if (d->kind == PGI_DEV_PORTABLE) {
        size_t pack = 0; /* by default, its place among the node's portable batteries */
        for (size_t j = 0; j + 1 < c->n_devices; j++)
            pack += c->devices[j].kind == PGI_DEV_PORTABLE;
        d->p.bat.docked = true;
        if ((rc = pgi_jr_get_size(r, o, "pack", false, 0, UINT32_MAX, &pack)) ||
            (rc = pgi_jr_get_bool(r, o, "docked", false, &d->p.bat.docked)))
            return rc;
        d->p.bat.pack = (uint32_t)pack;
        for (size_t j = 0; j + 1 < c->n_devices; j++)
            if (c->devices[j].kind == PGI_DEV_PORTABLE && c->devices[j].p.bat.pack == pack)
                return pgi_jr_fail_key(r, PG_EPARSE, "pack",
                                       "another portable battery (devices[%zu]) is pack %zu", j,
                                       pack);
    }
    return PG_OK;
}

bool
pgi_dev_is_battery(const pgi_dev *d)
{
    return d->cfg->kind == PGI_DEV_BATTERY || d->cfg->kind == PGI_DEV_PORTABLE;
}

double
pgi_bat_in_max(const pgi_dev *d, double dt)
{
    double room = d->cfg->p.bat.soc_max * d->capacity_kwh - d->soc_kwh;
    return clampd(fmin(d->charge_kw * dt, room / d->cfg->p.bat.eta_charge), 0, INFINITY);
}

double
pgi_bat_out_max(const pgi_dev *d, double dt)
{
    double avail = d->soc_kwh - d->cfg->p.bat.soc_min * d->capacity_kwh;
    return clampd(fmin(d->discharge_kw * dt, avail * d->cfg->p.bat.eta_discharge), 0, INFINITY);
}

void
pgi_bat_apply(pgi_dev *d, double kwh)
{
    const double lo = d->cfg->p.bat.soc_min * d->capacity_kwh;
    const double hi = d->cfg->p.bat.soc_max * d->capacity_kwh;
    if (kwh > 0) {
        d->soc_kwh += kwh * d->cfg->p.bat.eta_charge;
        if (d->soc_kwh > hi) /* rounding only: the flow was within pgi_bat_in_max */
            d->soc_kwh = hi;
    } else if (kwh < 0) {
        d->soc_kwh += kwh / d->cfg->p.bat.eta_discharge;
        if (d->soc_kwh < lo)
            d->soc_kwh = lo;
    }
}

static void
bat_view(const pgi_dev *d, pgi_view_ctx *vc)
{
    pg_node_view *v = vc->v;
    double w_old = v->soc_max_kwh, w = d->cfg->p.bat.soc_max * d->capacity_kwh;
    if (w_old + w > 0) {
        v->eta_charge = (v->eta_charge * w_old + d->cfg->p.bat.eta_charge * w) / (w_old + w);
        v->eta_discharge =
            (v->eta_discharge * w_old + d->cfg->p.bat.eta_discharge * w) / (w_old + w);
    }
    v->soc_kwh += d->soc_kwh;
    v->soc_min_kwh += d->cfg->p.bat.soc_min * d->capacity_kwh;
    v->soc_max_kwh += w;
    v->charge_max_kw += d->charge_kw;
    v->discharge_max_kw += d->discharge_kw;
}

/* ------------------------------------------------------------------ EV */

static const char *const ev_keys[] = {"arrive_h",     "depart_h", "energy_kwh", "charger_kw",
                                      "capacity_kwh", "jitter_h", NULL};

static int
ev_read(pgi_jr *r, const json_t *o, pg_node_config *c, pgi_dev_cfg *d)
{
    (void)c;
    int rc;
    d->p.ev.arrive_h = 18;
    d->p.ev.depart_h = 7;
    d->p.ev.need_kwh = 10;
    d->p.ev.charger_kw = 7.2;
    d->p.ev.capacity_kwh = 60;
    d->p.ev.jitter_h = 0;
    if ((rc = hour(r, o, "arrive_h", &d->p.ev.arrive_h)) ||
        (rc = hour(r, o, "depart_h", &d->p.ev.depart_h)) ||
        (rc = num(r, o, "energy_kwh", 0, PGI_DEV_MAX, &d->p.ev.need_kwh)) ||
        (rc = positive(r, o, "charger_kw", false, &d->p.ev.charger_kw)) ||
        (rc = positive(r, o, "capacity_kwh", false, &d->p.ev.capacity_kwh)) ||
        (rc = num(r, o, "jitter_h", 0, 6, &d->p.ev.jitter_h)))
        return rc;
    if (pgi_hour_mod(d->p.ev.arrive_h) == pgi_hour_mod(d->p.ev.depart_h))
        return pgi_jr_fail_key(r, PG_EPARSE, "depart_h",
                               "must differ from arrive_h (the EV must be plugged for a while)");
    if (d->p.ev.need_kwh > d->p.ev.capacity_kwh)
        return pgi_jr_fail_key(r, PG_EPARSE, "energy_kwh",
                               "must be at most capacity_kwh (%g; it is %g)", d->p.ev.capacity_kwh,
                               d->p.ev.need_kwh);
    return PG_OK;
}

/* Hours from hour-of-day h until hour-of-day target, in (0, 24]. */
static double
hours_until(double h, double target)
{
    double x = pgi_hour_mod(target - h);
    return x > 0 ? x : 24.0;
}

static double
jitter(const pgi_dev *d, pg_rng *rng)
{
    double j = d->cfg->p.ev.jitter_h;
    return j > 0 ? (2 * pg_rng_uniform(rng) - 1) * j : 0;
}

/* Plugs the EV in: arrived at time at_h (h from the start) needing need kWh; it stays the window
 * from arrive_h to depart_h, give or take the jitter, and at least one interval. */
static void
ev_plug(pgi_dev *d, const pg_node_env *env, double at_h, double need, pg_rng *rng)
{
    double stay = hours_until(d->cfg->p.ev.arrive_h, d->cfg->p.ev.depart_h) + jitter(d, rng);
    d->plugged = true;
    d->need_kwh = need;
    d->depart_at_h = fmax(at_h + stay, env->time_h + env->hours);
    d->arrive_jitter_h = jitter(d, rng); /* for the next arrival */
}

static void
ev_start(pgi_dev *d, const pg_node_env *env, pg_rng *rng)
{
    /* plugged at the start when the hour falls in the plug window, needing its share */
    double window = hours_until(d->cfg->p.ev.arrive_h, d->cfg->p.ev.depart_h);
    double since = pgi_hour_mod(env->hour_of_day - d->cfg->p.ev.arrive_h);
    if (since < window && window - since >= env->hours) {
        double need = d->cfg->p.ev.need_kwh * (window - since) / window;
        d->plugged = true;
        d->need_kwh = need;
        d->depart_at_h = env->time_h + (window - since);
    }
    d->arrive_jitter_h = jitter(d, rng);
}

static int
ev_advance(pgi_dev *d, const pg_node_env *env, pg_rng *rng, pg_error *err)
{
    (void)err;
    if (d->plugged && d->depart_at_h < env->time_h + env->hours - 1e-9) {
        d->short_kwh += d->need_kwh;
        d->plugged = false;
        d->need_kwh = 0;
    }
    double arrive = d->cfg->p.ev.arrive_h + d->arrive_jitter_h;
    if (!d->plugged && hour_in_interval(arrive, env))
        ev_plug(d, env, env->time_h + pgi_hour_mod(arrive - env->hour_of_day),
                d->cfg->p.ev.need_kwh, rng);
    return PG_OK;
}

static void
ev_view(const pgi_dev *d, pgi_view_ctx *vc)
{
    if (!d->plugged)
        return;
    pg_node_view *v = vc->v;
    size_t in = (size_t)fmax(0, intervals_until(d->depart_at_h, vc->env->time_h, vc->env->hours));
    v->ev_need_kwh += d->need_kwh;
    v->ev_max_kw += d->cfg->p.ev.charger_kw;
    if (v->ev_departs_in == 0 || in < v->ev_departs_in)
        v->ev_departs_in = in;
}

static void
ev_step(pgi_dev *d, pgi_step_ctx *cx)
{
    cx->ev_short += d->short_kwh;
    d->short_kwh = 0;
    if (!d->plugged)
        return;
    const double max_kwh = d->cfg->p.ev.charger_kw * cx->dt;
    double left = intervals_until(d->depart_at_h, cx->env->time_h, cx->dt);
    /* the least this interval must take for the rest to fit before departure */
    double floor_kwh = fmax(0, d->need_kwh - max_kwh * fmax(0, left - 1));
    double want = clampd(cx->ev_kw * cx->dt, 0, max_kwh);
    double e = fmin(fmin(fmax(want, floor_kwh), max_kwh), d->need_kwh);
    cx->ev_kw = fmax(0, cx->ev_kw - e / cx->dt);
    d->need_kwh -= e;
    if (d->need_kwh < 1e-12)
        d->need_kwh = 0;
    cx->ev += e;
}

/* ------------------------------------------------------------------ thermal: thermostat, HVAC */

static const char *const th_keys[] = {"mode",        "setpoint_c", "deadband_c", "r_c_per_kw",
                                      "c_kwh_per_c", "cop",        "max_kw",     "initial_c",
                                      "outdoor",     "outdoor_c",  NULL};
static const char *const hvac_keys[] = {
    "mode",      "setpoint_c", "deadband_c", "r_c_per_kw", "c_kwh_per_c",     "cop",
    "max_kw",    "initial_c",  "outdoor",    "outdoor_c",  "occupied_from_h", "occupied_to_h",
    "setback_c", NULL};

static int
th_read(pgi_jr *r, const json_t *o, pg_node_config *c, pgi_dev_cfg *d)
{
    int rc;
    const char *mode = "cooling";
    bool building = d->kind == PGI_DEV_HVAC;
    if ((rc = pgi_jr_get_string(r, o, "mode", false, &mode)))
        return rc;
    if (strcmp(mode, "cooling") != 0 && strcmp(mode, "heating") != 0)
        return pgi_jr_fail_key(r, PG_EPARSE, "mode",
                               "must be \"cooling\" or \"heating\" (it is \"%s\")", mode);
    d->p.th.heating = strcmp(mode, "heating") == 0;
    d->p.th.setpoint_c = d->p.th.heating ? 20 : 24;
    d->p.th.deadband_c = 1;
    d->p.th.r_c_per_kw = building ? 0.05 : 2;
    d->p.th.c_kwh_per_c = building ? 60 : 3;
    d->p.th.cop = building ? 3.5 : 3;
    d->p.th.max_kw = building ? 100 : 3;
    d->p.th.outdoor_c = d->p.th.heating ? 5 : 30;
    d->p.th.occ_from_h = 8;
    d->p.th.occ_to_h = 18;
    d->p.th.setback_c = building ? 3 : 0;
    if ((rc = num(r, o, "setpoint_c", -50, 60, &d->p.th.setpoint_c)) ||
        (rc = positive(r, o, "deadband_c", false, &d->p.th.deadband_c)) ||
        (rc = positive(r, o, "r_c_per_kw", false, &d->p.th.r_c_per_kw)) ||
        (rc = positive(r, o, "c_kwh_per_c", false, &d->p.th.c_kwh_per_c)) ||
        (rc = positive(r, o, "cop", false, &d->p.th.cop)) ||
        (rc = positive(r, o, "max_kw", false, &d->p.th.max_kw)) ||
        (rc = num(r, o, "outdoor_c", -60, 70, &d->p.th.outdoor_c)) ||
        (rc = input(r, o, "outdoor", NULL, c, &d->outdoor)))
        return rc;
    if (d->p.th.deadband_c > 20)
        return pgi_jr_fail_key(r, PG_EPARSE, "deadband_c", "must be at most 20 (it is %g)",
                               d->p.th.deadband_c);
    if (d->p.th.cop > 20)
        return pgi_jr_fail_key(r, PG_EPARSE, "cop", "must be at most 20 (it is %g)", d->p.th.cop);
    d->p.th.initial_c = d->p.th.setpoint_c;
    if ((rc = num(r, o, "initial_c", -50, 70, &d->p.th.initial_c)))
        return rc;
    if (building && ((rc = hour(r, o, "occupied_from_h", &d->p.th.occ_from_h)) ||
                     (rc = hour(r, o, "occupied_to_h", &d->p.th.occ_to_h)) ||
                     (rc = num(r, o, "setback_c", 0, 20, &d->p.th.setback_c))))
        return rc;
    return PG_OK;
}

static void
th_start(pgi_dev *d, const pg_node_env *env, pg_rng *rng)
{
    (void)env;
    (void)rng;
    d->temp_c = d->cfg->p.th.initial_c;
}

/* The comfort band's half-width at hour h: wider by the setback outside a building's occupied
 * hours. */
static double
th_halfwidth(const pgi_dev_cfg *c, double h)
{
    if (c->kind != PGI_DEV_HVAC || c->p.th.setback_c <= 0)
        return c->p.th.deadband_c;
    double from = c->p.th.occ_from_h, to = c->p.th.occ_to_h;
    bool occupied = from <= to ? (h >= from && h < to) : (h >= from || h < to);
    return c->p.th.deadband_c + (occupied ? 0 : c->p.th.setback_c);
}

static double
th_outdoor(const pgi_dev *d, const pg_node_env *env)
{
    return d->cfg->outdoor == PGI_NO_INPUT ? d->cfg->p.th.outdoor_c : actual(env, d->cfg->outdoor);
}

/* The interval of a thermal device from its temperature: the electric power it runs at (hvac_kw
 * NaN: on its own; else that power moved into the range that keeps the band), its temperature
 * at the end and the band [*lo, *hi]. */
static double
th_run(const pgi_dev *d, const pg_node_env *env, double dt, double hvac_kw, double offset_c,
       double *t_end, double *lo, double *hi)
{
    const pgi_dev_cfg *c = d->cfg;
    const double s = c->p.th.heating ? -1.0 : 1.0; /* cooling lowers the temperature */
    const double sp = c->p.th.setpoint_c + s * fmax(0, offset_c);
    const double hw = th_halfwidth(c, env->hour_of_day);
    *lo = sp - hw;
    *hi = sp + hw;
    /* free response over the interval (exact for a constant outdoor temperature) */
    const double a = 1 - exp(-dt / (c->p.th.r_c_per_kw * c->p.th.c_kwh_per_c));
    const double tf = d->temp_c + a * (th_outdoor(d, env) - d->temp_c);
    const double k = c->p.th.cop * dt / c->p.th.c_kwh_per_c; /* degrees C per kW */
    /* T_end(p) = tf - s k p; the powers that keep T_end in [lo, hi] */
    double p_need = s > 0 ? (tf - *hi) / k : (*lo - tf) / k;
    double p_room = s > 0 ? (tf - *lo) / k : (*hi - tf) / k;
    double p;
    if (isnan(hvac_kw))
        p = (s > 0 ? tf > *hi : tf < *lo) ? s * (tf - sp) / k : 0;
    else {
        p = hvac_kw;
        if (p < p_need)
            p = p_need;
        if (p > p_room && p_room >= p_need)
            p = p_room;
    }
    p = clampd(p, 0, c->p.th.max_kw);
    *t_end = tf - s * k * p;
    return p;
}

static void
th_view(const pgi_dev *d, pgi_view_ctx *vc)
{
    pg_node_view *v = vc->v;
    double t_end, lo, hi;
    v->hvac_max_kw += d->cfg->p.th.max_kw;
    v->hvac_self_kwh +=
        th_run(d, vc->env, vc->env->hours, NAN, 0, &t_end, &lo, &hi) * vc->env->hours;
    if (vc->have_thermal)
        return;
    vc->have_thermal = true;
    v->thermal = true;
    v->temp_c = d->temp_c;
    v->setpoint_c = d->cfg->p.th.setpoint_c;
    v->deadband_c = th_halfwidth(d->cfg, vc->env->hour_of_day);
    if (d->cfg->outdoor != PGI_NO_INPUT && vc->env->forecast && vc->env->forecast[d->cfg->outdoor])
        v->outdoor_c = vc->env->forecast[d->cfg->outdoor];
    else {
        for (size_t k = 0; k < vc->env->horizon; k++)
            vc->outdoor[k] = th_outdoor(d, vc->env);
        v->outdoor_c = vc->outdoor;
    }
}

static void
th_step(pgi_dev *d, pgi_step_ctx *cx)
{
    double lo, hi, t_end;
    double p = th_run(d, cx->env, cx->dt, cx->hvac_kw, cx->setpoint_offset_c, &t_end, &lo, &hi);
    if (!isnan(cx->hvac_kw))
        cx->hvac_kw = fmax(0, cx->hvac_kw - p);
    d->temp_c = t_end;
    cx->load += p * cx->dt;
    if (isnan(cx->temp_c)) {
        cx->temp_c = d->temp_c;
        cx->comfort_dev_c = 0;
    }
    cx->comfort_dev_c = fmax(cx->comfort_dev_c, fmax(0, fmax(d->temp_c - hi, lo - d->temp_c)));
}

/* ------------------------------------------------------------------ fixed load and lighting */

static const char *const fixed_keys[] = {"input", "scale", "kw", NULL};

static int
fixed_read(pgi_jr *r, const json_t *o, pg_node_config *c, pgi_dev_cfg *d)
{
    int rc;
    json_t *kw = json_object_get(o, "kw");
    d->p.fixed.scale = 1;
    d->p.fixed.kw = 0;
    if ((rc = num(r, o, "scale", 0, PGI_DEV_MAX, &d->p.fixed.scale)) ||
        (rc = num(r, o, "kw", 0, PGI_DEV_MAX, &d->p.fixed.kw)) ||
        (rc = input(r, o, "input", kw ? NULL : "load", c, &d->input)))
        return rc;
    if (kw && d->input != PGI_NO_INPUT)
        return pgi_jr_fail_key(r, PG_EPARSE, "kw",
                               "a fixed load takes either \"input\" or \"kw\", "
                               "not both");
    return PG_OK;
}

static double
fixed_kwh(const pgi_dev_cfg *c, double value, double dt)
{
    return (c->input == PGI_NO_INPUT ? c->p.fixed.kw : fmax(0, value) * c->p.fixed.scale) * dt;
}

static void
fixed_view(const pgi_dev *d, pgi_view_ctx *vc)
{
    for (size_t k = 0; k < vc->env->horizon; k++)
        vc->fixed[k] += fixed_kwh(
            d->cfg, d->cfg->input == PGI_NO_INPUT ? 0 : forecast(vc->env, d->cfg->input, k),
            vc->env->hours);
}

static void
fixed_step(pgi_dev *d, pgi_step_ctx *cx)
{
    cx->load += fixed_kwh(
        d->cfg, d->cfg->input == PGI_NO_INPUT ? 0 : actual(cx->env, d->cfg->input), cx->dt);
}

static const char *const light_keys[] = {"kw", "occupancy", NULL};

static int
light_read(pgi_jr *r, const json_t *o, pg_node_config *c, pgi_dev_cfg *d)
{
    (void)c;
    int rc;
    json_t *occ;
    if ((rc = positive(r, o, "kw", true, &d->p.light.kw)))
        return rc;
    for (int h = 0; h < 24; h++)
        d->p.light.occupancy[h] = h >= 8 && h < 18 ? 1.0 : 0.1;
    if ((rc = pgi_jr_get_array(r, o, "occupancy", false, 24, &occ)))
        return rc;
    if (!occ)
        return PG_OK;
    size_t mark = pgi_jr_push_key(r, "occupancy");
    if (json_array_size(occ) != 24)
        rc = pgi_jr_fail(r, PG_EPARSE, "must have 24 numbers, one per hour of the day (it has %zu)",
                         json_array_size(occ));
    for (size_t h = 0; !rc && h < 24; h++) {
        size_t m = pgi_jr_push_index(r, h);
        rc = pgi_jr_number(r, json_array_get(occ, h), 0, 1, &d->p.light.occupancy[h]);
        pgi_jr_pop(r, m);
    }
    pgi_jr_pop(r, mark);
    return rc;
}

static double
light_kwh(const pgi_dev_cfg *c, double h, double dt)
{
    return c->p.light.kw * c->p.light.occupancy[(int)pgi_hour_mod(h) % 24] * dt;
}

static void
light_view(const pgi_dev *d, pgi_view_ctx *vc)
{
    for (size_t k = 0; k < vc->env->horizon; k++)
        vc->fixed[k] +=
            light_kwh(d->cfg, vc->env->hour_of_day + (double)k * vc->env->hours, vc->env->hours);
}

static void
light_step(pgi_dev *d, pgi_step_ctx *cx)
{
    cx->load += light_kwh(d->cfg, cx->env->hour_of_day, cx->dt);
}

/* ------------------------------------------------------------------ shiftable load */

static const char *const shift_keys[] = {"energy_kwh", "power_kw", "earliest_h", "deadline_h",
                                         NULL};

static int
shift_read(pgi_jr *r, const json_t *o, pg_node_config *c, pgi_dev_cfg *d)
{
    (void)c;
    int rc;
    d->p.shift.earliest_h = 9;
    d->p.shift.deadline_h = 21;
    if ((rc = positive(r, o, "energy_kwh", true, &d->p.shift.energy_kwh)) ||
        (rc = positive(r, o, "power_kw", true, &d->p.shift.power_kw)) ||
        (rc = hour(r, o, "earliest_h", &d->p.shift.earliest_h)) ||
        (rc = hour(r, o, "deadline_h", &d->p.shift.deadline_h)))
        return rc;
    if (d->p.shift.energy_kwh >
        d->p.shift.power_kw * hours_until(d->p.shift.earliest_h, d->p.shift.deadline_h))
        return pgi_jr_fail_key(r, PG_EPARSE, "energy_kwh",
                               "cannot run at power_kw between earliest_h and deadline_h "
                               "(%g kWh at %g kW takes longer)",
                               d->p.shift.energy_kwh, d->p.shift.power_kw);
    return PG_OK;
}

static int
shift_advance(pgi_dev *d, const pg_node_env *env, pg_rng *rng, pg_error *err)
{
    (void)rng;
    (void)err;
    const pgi_dev_cfg *c = d->cfg;
    if (hour_in_interval(c->p.shift.earliest_h, env)) {
        double at = env->time_h + pgi_hour_mod(c->p.shift.earliest_h - env->hour_of_day);
        d->shift_need_kwh += c->p.shift.energy_kwh;
        d->shift_deadline_h = at + hours_until(c->p.shift.earliest_h, c->p.shift.deadline_h);
    }
    return PG_OK;
}

static void
deadline_view(pgi_view_ctx *vc, double need, double kw, double deadline_h)
{
    pg_node_view *v = vc->v;
    v->shift_need_kwh += need;
    v->shift_max_kw += kw;
    if (deadline_h < vc->shift_deadline_h) {
        vc->shift_deadline_h = deadline_h;
        v->shift_deadline_in =
            (size_t)fmax(0, intervals_until(deadline_h, vc->env->time_h, vc->env->hours));
    }
}

static void
shift_view(const pgi_dev *d, pgi_view_ctx *vc)
{
    if (d->shift_need_kwh > 0)
        deadline_view(vc, d->shift_need_kwh, d->cfg->p.shift.power_kw, d->shift_deadline_h);
}

/* Runs a piece of deferrable work (need kWh, at most kw, due at deadline_h) this interval: at
 * least what the rest of its window cannot fit, else as much of the plan share as it takes. */
static double
run_deferrable(pgi_step_ctx *cx, double need, double kw, double deadline_h)
{
    const double max_kwh = kw * cx->dt;
    double left = intervals_until(deadline_h, cx->env->time_h, cx->dt);
    double floor_kwh = fmax(0, need - max_kwh * fmax(0, left - 1));
    double want = clampd(cx->shift_kw * cx->dt, 0, max_kwh);
    double e = fmin(fmin(fmax(want, floor_kwh), max_kwh), need);
    cx->shift_kw = fmax(0, cx->shift_kw - e / cx->dt);
    return e;
}

static void
shift_step(pgi_dev *d, pgi_step_ctx *cx)
{
    if (d->shift_need_kwh > 0) {
        double e =
            run_deferrable(cx, d->shift_need_kwh, d->cfg->p.shift.power_kw, d->shift_deadline_h);
        d->shift_need_kwh -= e;
        if (d->shift_need_kwh < 1e-12)
            d->shift_need_kwh = 0;
        cx->load += e;
    }
    cx->deferred += d->shift_need_kwh;
}

/* ------------------------------------------------------------------ data-center IT load */

static const char *const it_keys[] = {"input",   "base_kw", "scale",        "pue", "jobs_per_day",
                                      "job_kwh", "job_kw",  "job_window_h", NULL};

static int
it_read(pgi_jr *r, const json_t *o, pg_node_config *c, pgi_dev_cfg *d)
{
    int rc;
    d->p.it.base_kw = 0;
    d->p.it.scale = 1;
    d->p.it.pue = 1.4;
    d->p.it.jobs_per_day = 0;
    d->p.it.job_kwh = 0;
    d->p.it.job_kw = 0;
    d->p.it.job_window_h = 12;
    if ((rc = num(r, o, "base_kw", 0, PGI_DEV_MAX, &d->p.it.base_kw)) ||
        (rc = num(r, o, "scale", 0, PGI_DEV_MAX, &d->p.it.scale)) ||
        (rc = num(r, o, "pue", 1, 5, &d->p.it.pue)) ||
        (rc = num(r, o, "jobs_per_day", 0, 1440, &d->p.it.jobs_per_day)) ||
        (rc = num(r, o, "job_kwh", 0, PGI_DEV_MAX, &d->p.it.job_kwh)) ||
        (rc = num(r, o, "job_kw", 0, PGI_DEV_MAX, &d->p.it.job_kw)) ||
        (rc = num(r, o, "job_window_h", 0, 168, &d->p.it.job_window_h)) ||
        (rc = input(r, o, "input", NULL, c, &d->input)))
        return rc;
    if (d->p.it.jobs_per_day != floor(d->p.it.jobs_per_day))
        return pgi_jr_fail_key(r, PG_EPARSE, "jobs_per_day", "must be a whole number (it is %g)",
                               d->p.it.jobs_per_day);
    if (d->p.it.jobs_per_day > 0 && !(d->p.it.job_kw > 0 && d->p.it.job_kwh > 0 &&
                                      d->p.it.job_kwh <= d->p.it.job_kw * d->p.it.job_window_h))
        return pgi_jr_fail_key(r, PG_EPARSE, "job_kwh",
                               "deferrable jobs need job_kwh > 0 and job_kw > 0 with job_kwh at "
                               "most job_kw x job_window_h");
    return PG_OK;
}

static double
it_base_kwh(const pgi_dev_cfg *c, double value, double dt)
{
    double kw = c->input == PGI_NO_INPUT ? c->p.it.base_kw : fmax(0, value) * c->p.it.scale;
    return kw * dt;
}

static int
it_advance(pgi_dev *d, const pg_node_env *env, pg_rng *rng, pg_error *err)
{
    (void)rng;
    const pgi_dev_cfg *c = d->cfg;
    size_t n = (size_t)c->p.it.jobs_per_day;
    for (size_t j = 0; j < n; j++) {
        double h = 24.0 * (double)j / (double)n;
        if (!hour_in_interval(h, env))
            continue;
        if (d->n_jobs == d->cap_jobs) {
            size_t cap = d->cap_jobs ? 2 * d->cap_jobs : 8;
            pgi_job *jobs = realloc(d->jobs, cap * sizeof *jobs);
            if (!jobs)
                return pg_error_set(err, PG_ENOMEM, "out of memory");
            d->jobs = jobs;
            d->cap_jobs = cap;
        }
        double at = env->time_h + pgi_hour_mod(h - env->hour_of_day);
        /* every job has the same window, so appending keeps the queue in deadline order */
        d->jobs[d->n_jobs++] = (pgi_job){c->p.it.job_kwh, at + c->p.it.job_window_h};
    }
    return PG_OK;
}

static void
it_view(const pgi_dev *d, pgi_view_ctx *vc)
{
    const pgi_dev_cfg *c = d->cfg;
    for (size_t k = 0; k < vc->env->horizon; k++)
        vc->fixed[k] +=
            c->p.it.pue * it_base_kwh(c,
                                      c->input == PGI_NO_INPUT ? 0 : forecast(vc->env, c->input, k),
                                      vc->env->hours);
    for (size_t j = 0; j < d->n_jobs; j++)
        deadline_view(vc, d->jobs[j].kwh, c->p.it.job_kw, d->jobs[j].deadline_h);
}

static void
it_step(pgi_dev *d, pgi_step_ctx *cx)
{
    const pgi_dev_cfg *c = d->cfg;
    double it = it_base_kwh(c, c->input == PGI_NO_INPUT ? 0 : actual(cx->env, c->input), cx->dt);
    size_t kept = 0;
    for (size_t j = 0; j < d->n_jobs; j++) {
        pgi_job *job = &d->jobs[j];
        double e = run_deferrable(cx, job->kwh, c->p.it.job_kw, job->deadline_h);
        job->kwh -= e;
        it += e;
        if (job->kwh > 1e-12) {
            cx->deferred += job->kwh;
            d->jobs[kept++] = *job;
        }
    }
    d->n_jobs = kept;
    cx->load += c->p.it.pue * it; /* IT and the cooling that follows it */
}

/* ------------------------------------------------------------------ backup generator */

static const char *const gen_keys[] = {"max_kw", "min_kw", "cost", "min_run_h", NULL};

static int
gen_read(pgi_jr *r, const json_t *o, pg_node_config *c, pgi_dev_cfg *d)
{
    (void)c;
    int rc;
    d->p.gen.cost = 0.4;
    d->p.gen.min_run_h = 1;
    if ((rc = positive(r, o, "max_kw", true, &d->p.gen.max_kw)))
        return rc;
    d->p.gen.min_kw = 0.3 * d->p.gen.max_kw;
    if ((rc = num(r, o, "min_kw", 0, d->p.gen.max_kw, &d->p.gen.min_kw)) ||
        (rc = num(r, o, "cost", 0, 1e6, &d->p.gen.cost)) ||
        (rc = num(r, o, "min_run_h", 0, 168, &d->p.gen.min_run_h)))
        return rc;
    return PG_OK;
}

static void
gen_view(const pgi_dev *d, pgi_view_ctx *vc)
{
    pg_node_view *v = vc->v;
    double w = v->gen_max_kw + d->cfg->p.gen.max_kw;
    v->gen_cost = (v->gen_cost * v->gen_max_kw + d->cfg->p.gen.cost * d->cfg->p.gen.max_kw) / w;
    v->gen_max_kw = w;
}

static void
gen_step(pgi_dev *d, pgi_step_ctx *cx)
{
    const pgi_dev_cfg *c = d->cfg;
    double p = clampd(cx->gen_kw, 0, c->p.gen.max_kw);
    bool committed = d->gen_until_h > cx->env->time_h + 1e-9;
    if (p > 0 && !committed) { /* a start commits it for min_run_h at min_kw or more */
        d->gen_until_h = cx->env->time_h + c->p.gen.min_run_h;
        committed = c->p.gen.min_run_h > 0;
    }
    double floor_kw = committed ? fmin(c->p.gen.min_kw, c->p.gen.max_kw) : 0;
    p = fmax(p, floor_kw);
    cx->gen_kw = fmax(0, cx->gen_kw - p);
    cx->gen += p * cx->dt;
    cx->gen_min += floor_kw * cx->dt;
}

/* ------------------------------------------------------------------ the table */

const pgi_dev_type pgi_dev_types[PGI_DEV_N] = {
    [PGI_DEV_PV] = {"pv", "rooftop PV from an availability series", pv_keys, pv_read, NULL, NULL,
                    pv_view, pv_step},
    [PGI_DEV_BATTERY] = {"battery", "home battery", bat_keys, bat_read, NULL, NULL, bat_view, NULL},
    [PGI_DEV_PORTABLE] = {"portable_battery", "shared portable battery pack", pack_keys, bat_read,
                          NULL, NULL, bat_view, NULL},
    [PGI_DEV_EV] = {"ev", "electric vehicle and its charger", ev_keys, ev_read, ev_start,
                    ev_advance, ev_view, ev_step},
    [PGI_DEV_THERMOSTAT] = {"thermostat", "thermostatic load (first-order thermal model)", th_keys,
                            th_read, th_start, NULL, th_view, th_step},
    [PGI_DEV_FIXED] = {"fixed_load", "inflexible load from a series", fixed_keys, fixed_read, NULL,
                       NULL, fixed_view, fixed_step},
    [PGI_DEV_SHIFTABLE] = {"shiftable_load", "a run of energy within a daily window", shift_keys,
                           shift_read, NULL, shift_advance, shift_view, shift_step},
    [PGI_DEV_HVAC] = {"hvac", "building HVAC (thermal model at building scale)", hvac_keys, th_read,
                      th_start, NULL, th_view, th_step},
    [PGI_DEV_LIGHTING] = {"lighting", "lighting by hour of day and occupancy", light_keys,
                          light_read, NULL, NULL, light_view, light_step},
    [PGI_DEV_IT] = {"it_load", "data-center IT load, deferrable jobs and cooling", it_keys, it_read,
                    NULL, it_advance, it_view, it_step},
    [PGI_DEV_GENERATOR] = {"generator", "backup generator", gen_keys, gen_read, NULL, NULL,
                           gen_view, gen_step},
};

const pgi_dev_type *
pgi_dev_type_find(const char *name, pgi_dev_kind *kind)
{
    for (int k = 0; k < PGI_DEV_N; k++)
        if (strcmp(name, pgi_dev_types[k].name) == 0) {
            *kind = (pgi_dev_kind)k;
            return &pgi_dev_types[k];
        }
    return NULL;
}

void
pgi_dev_init(pgi_dev *d, const pgi_dev_cfg *cfg)
{
    memset(d, 0, sizeof *d);
    d->cfg = cfg;
    d->temp_c = NAN;
    d->shift_deadline_h = INFINITY;
    if (cfg->kind == PGI_DEV_BATTERY || cfg->kind == PGI_DEV_PORTABLE) {
        d->capacity_kwh = cfg->p.bat.capacity_kwh;
        d->charge_kw = cfg->p.bat.charge_kw;
        d->discharge_kw = cfg->p.bat.discharge_kw;
        d->soc_kwh = cfg->p.bat.soc_init * cfg->p.bat.capacity_kwh;
        d->pack = cfg->p.bat.pack;
    }
}

void
pgi_dev_release(pgi_dev *d)
{
    free(d->jobs);
    d->jobs = NULL;
    d->n_jobs = d->cap_jobs = 0;
}
