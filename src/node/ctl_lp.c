/* The optimizing controller: a receding-horizon LP over the node's forecast (docs/controllers.md,
 * "LP"). Every interval it builds a small LP over the coming hours (grid import and export, the
 * battery, the EV by its departure, shiftable work by its deadline, HVAC with the first-order
 * thermal model and a soft deadband, the generator, PV curtailment, unserved energy off-grid,
 * demand-response signals), solves it with Clp through the dispatch module's adapter, keeps the
 * first interval's setpoints as the plan and derives the bid curve from the solution and its
 * duals. Only the first interval is acted on; the next interval plans again on a fresh forecast.
 *
 * The adapter takes a whole problem per solve (there is no persistent model whose bounds could be
 * changed), so the LP is rebuilt every interval; it is small (a dozen columns per interval of the
 * horizon at most) and building it costs little next to the solve. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch/lp.h"
#include "node/controllers.h"
#include "node/internal.h"

/* ---------------------------------------------------------------- parameters */

enum {
    P_HORIZON,
    P_CYCLE,
    P_COMFORT,
    P_EV,
    P_SHIFT,
    P_UNSERVED,
    P_SIMPLE,
    P_DISPATCH,
    P_DR_SETPOINT,
    P_TERMINAL,
    N_PARAMS
};

typedef struct param_def {
    const char *name;
    double dflt; /* NaN: computed per plan (see the docs) */
    double lo, hi;
} param_def;

/* The most intervals the LP plans over (30 days of 15 min; it solves in about a second). */
#define LP_MAX_INTERVALS 2880

static const param_def lp_defs[N_PARAMS] = {
    [P_HORIZON] = {"horizon_h", 24, 0, 720},
    [P_CYCLE] = {"cycle_cost", 0.02, 0, 1e3},
    [P_COMFORT] = {"comfort_penalty", 1.0, 0, 1e4},
    [P_EV] = {"ev_penalty", 5.0, 0, 1e4},
    [P_SHIFT] = {"shift_penalty", 5.0, 0, 1e4},
    [P_UNSERVED] = {"unserved_penalty", 10.0, 0, 1e4},
    [P_SIMPLE] = {"simple_penalty", 0.1, 0, 1e3},
    [P_DISPATCH] = {"dispatch_penalty", 1.0, 0, 1e4},
    [P_DR_SETPOINT] = {"dr_offset_c", 2.0, 0, 20},
    [P_TERMINAL] = {"terminal_value", NAN, 0, 1e3},
};

static const char *const lp_params[N_PARAMS + 1] = {"horizon_h",
                                                    "cycle_cost",
                                                    "comfort_penalty",
                                                    "ev_penalty",
                                                    "shift_penalty",
                                                    "unserved_penalty",
                                                    "simple_penalty",
                                                    "dispatch_penalty",
                                                    "dr_offset_c",
                                                    "terminal_value",
                                                    NULL};

/* Values of magnitude beyond these in a view are refused before they reach the solver. */
#define MAX_PRICE 1e4  /* $/kWh */
#define MAX_ENERGY 1e9 /* kWh, kW */
#define MAX_TEMP 1e3   /* degrees C */
/* Setpoints and quantities this close to zero are zero (solver tolerances). */
#define EPS 1e-9

typedef struct lp_ctl {
    double p[N_PARAMS];
    /* thermal model of the node's first thermostat or HVAC (docs/devices.md) */
    bool thermal;
    double th_r, th_c, th_cop;
    bool th_heating;
    pgi_lp lp; /* the plan's LP, rebuilt each interval */
    /* per interval of the horizon, grown as needed */
    size_t cap;
    double *imp_cost, *exp_price, *cap_kwh, *band_shift;
    /* column and row indices per interval (-1: absent) */
    int *c_imp, *c_exp, *c_over, *c_pv, *c_ch, *c_dis, *c_soc, *c_ev, *c_sh, *c_hvac, *c_gen,
        *c_uns, *r_soc;
    int r_ev, r_sh;
} lp_ctl;

static int
lp_create(void **state, const pg_node_config *cfg, uint64_t seed, pg_error *err)
{
    (void)seed;
    lp_ctl *c = calloc(1, sizeof *c);
    if (!c)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    for (size_t i = 0; i < N_PARAMS; i++) {
        const param_def *d = &lp_defs[i];
        double v = cfg ? pg_node_config_param(cfg, d->name, d->dflt) : d->dflt;
        if (isnan(v) && isnan(d->dflt)) {
            c->p[i] = v;
            continue;
        }
        if (!(v >= d->lo && v <= d->hi) || (i == P_HORIZON && !(v > 0))) {
            free(c);
            return pg_error_set(err, PG_EMODEL,
                                "controller lp: parameter %s is %g; it must be a number %s %g "
                                "and at most %g",
                                d->name, v, i == P_HORIZON ? "above" : "of at least", d->lo, d->hi);
        }
        c->p[i] = v;
    }
    /* The LP plans HVAC with the thermal model of the node's first thermostat or HVAC device. */
    for (size_t i = 0; cfg && i < cfg->n_devices; i++) {
        const pgi_dev_cfg *d = &cfg->devices[i];
        if (d->kind != PGI_DEV_THERMOSTAT && d->kind != PGI_DEV_HVAC)
            continue;
        if (d->p.th.r_c_per_kw > 0 && d->p.th.c_kwh_per_c > 0 && d->p.th.cop > 0) {
            c->thermal = true;
            c->th_r = d->p.th.r_c_per_kw;
            c->th_c = d->p.th.c_kwh_per_c;
            c->th_cop = d->p.th.cop;
            c->th_heating = d->p.th.heating;
        }
        break;
    }
    *state = c;
    return PG_OK;
}

static void
lp_destroy(void *state)
{
    lp_ctl *c = state;
    if (!c)
        return;
    pgi_lp_free(&c->lp);
    free(c->imp_cost);
    free(c->exp_price);
    free(c->cap_kwh);
    free(c->band_shift);
    int **idx[] = {&c->c_imp, &c->c_exp, &c->c_over, &c->c_pv,  &c->c_ch,  &c->c_dis, &c->c_soc,
                   &c->c_ev,  &c->c_sh,  &c->c_hvac, &c->c_gen, &c->c_uns, &c->r_soc};
    for (size_t i = 0; i < sizeof idx / sizeof *idx; i++)
        free(*idx[i]);
    free(c);
}

static int
grow(lp_ctl *c, size_t H, pg_error *err)
{
    if (H <= c->cap)
        return PG_OK;
    double **dv[] = {&c->imp_cost, &c->exp_price, &c->cap_kwh, &c->band_shift};
    int **iv[] = {&c->c_imp, &c->c_exp, &c->c_over, &c->c_pv,  &c->c_ch,  &c->c_dis, &c->c_soc,
                  &c->c_ev,  &c->c_sh,  &c->c_hvac, &c->c_gen, &c->c_uns, &c->r_soc};
    for (size_t i = 0; i < sizeof dv / sizeof *dv; i++) {
        double *q = realloc(*dv[i], H * sizeof **dv[i]);
        if (!q)
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        *dv[i] = q;
    }
    for (size_t i = 0; i < sizeof iv / sizeof *iv; i++) {
        int *q = realloc(*iv[i], H * sizeof **iv[i]);
        if (!q)
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        *iv[i] = q;
    }
    c->cap = H;
    return PG_OK;
}

/* ---------------------------------------------------------------- the view */

static int
bad_number(pg_error *err, const char *what, size_t t, double v)
{
    return pg_error_set(err, PG_EINVAL,
                        "controller lp: %s of forecast interval %zu is %g, not a finite number of "
                        "sensible size",
                        what, t, v);
}

static bool
sane(double v, double lim)
{
    return isfinite(v) && fabs(v) <= lim;
}

/* Checks every number of the view the LP reads. */
static int
check_view(const pg_node_view *v, size_t H, bool hvac, pg_error *err)
{
    const pg_node_env *e = v->env;
    for (size_t t = 0; t < H; t++) {
        if (e->grid_connected) {
            if (!sane(e->retail[t], MAX_PRICE))
                return bad_number(err, "the retail price", t, e->retail[t]);
            if (!sane(e->feed_in[t], MAX_PRICE))
                return bad_number(err, "the feed-in price", t, e->feed_in[t]);
        }
        if (!sane(v->fixed_kwh[t], MAX_ENERGY) || v->fixed_kwh[t] < 0)
            return bad_number(err, "the fixed load", t, v->fixed_kwh[t]);
        if (!sane(v->pv_kwh[t], MAX_ENERGY) || v->pv_kwh[t] < 0)
            return bad_number(err, "the PV forecast", t, v->pv_kwh[t]);
        if (hvac && !sane(v->outdoor_c[t], MAX_TEMP))
            return bad_number(err, "the outdoor temperature", t, v->outdoor_c[t]);
    }
    const struct {
        const char *what;
        double v, lim;
    } scalars[] = {
        {"soc_kwh", v->soc_kwh, MAX_ENERGY},
        {"soc_min_kwh", v->soc_min_kwh, MAX_ENERGY},
        {"soc_max_kwh", v->soc_max_kwh, MAX_ENERGY},
        {"charge_max_kw", v->charge_max_kw, MAX_ENERGY},
        {"discharge_max_kw", v->discharge_max_kw, MAX_ENERGY},
        {"eta_charge", v->eta_charge, 1},
        {"eta_discharge", v->eta_discharge, 1},
        {"ev_need_kwh", v->ev_need_kwh, MAX_ENERGY},
        {"ev_max_kw", v->ev_max_kw, MAX_ENERGY},
        {"shift_need_kwh", v->shift_need_kwh, MAX_ENERGY},
        {"shift_max_kw", v->shift_max_kw, MAX_ENERGY},
        {"gen_max_kw", v->gen_max_kw, MAX_ENERGY},
        {"gen_cost", v->gen_cost, MAX_PRICE},
        {"hvac_self_kwh", v->hvac_self_kwh, MAX_ENERGY},
    };
    for (size_t i = 0; i < sizeof scalars / sizeof *scalars; i++)
        if (!sane(scalars[i].v, scalars[i].lim) ||
            (scalars[i].v < 0 && strcmp(scalars[i].what, "gen_cost")))
            return pg_error_set(err, PG_EINVAL,
                                "controller lp: the node's %s is %g, not a finite number in range",
                                scalars[i].what, scalars[i].v);
    if (hvac) {
        const double th[] = {v->temp_c, v->setpoint_c, v->deadband_c, v->hvac_max_kw};
        for (size_t i = 0; i < 4; i++)
            if (!sane(th[i], MAX_TEMP) || (i >= 2 && th[i] < 0))
                return pg_error_set(err, PG_EINVAL,
                                    "controller lp: the node's thermal state (temperature, "
                                    "setpoint, deadband, HVAC power) has %g, not a finite number "
                                    "in range",
                                    th[i]);
    }
    return PG_OK;
}

/* The demand-response signals in force at the middle of forecast interval t. */
typedef struct dr_now {
    double price;  /* ELECTRICITY_PRICE, $/kWh, or NaN */
    double level;  /* SIMPLE level, 0 none */
    double target; /* LOAD_DISPATCH reduction, kW, 0 none */
} dr_now;

static dr_now
dr_at(const pg_node_env *e, size_t t)
{
    dr_now d = {NAN, 0, 0};
    double h = e->time_h + ((double)t + 0.5) * e->hours;
    for (size_t k = 0; k < e->n_events; k++) {
        const pg_dr_event *ev = &e->events[k];
        if (ev->cancelled)
            continue;
        double x = pg_dr_event_value(ev, h);
        if (!isfinite(x))
            continue;
        switch (ev->signal) {
        case PG_DR_PRICE: d.price = isnan(d.price) ? x : fmax(d.price, x); break;
        case PG_DR_SIMPLE: d.level = fmax(d.level, x); break;
        case PG_DR_LOAD_DISPATCH: d.target = fmax(d.target, x); break;
        }
    }
    return d;
}

/* ---------------------------------------------------------------- the LP */

static void
set_all(int *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] = -1;
}

/* One step of a bid curve: buy (side +1) or sell (-1) qty kWh at limit price. */
typedef struct seg {
    int side;
    double qty, price;
} seg;

/* The net quantity of the segments at prices just below (side -1) or just above (+1) x: buys
 * hold up to their limit, sells from theirs. */
static double
net_near(const seg *s, size_t n, double x, int side)
{
    double q = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i].side > 0 && (side < 0 ? s[i].price >= x : s[i].price > x))
            q += s[i].qty;
        else if (s[i].side < 0 && (side < 0 ? s[i].price < x : s[i].price <= x))
            q -= s[i].qty;
    }
    return q;
}

/* The bid curve of the segments (docs/controllers.md): the node's net demand g(p), the sum of
 * the segments, is a non-increasing step function. In the market's reading of a curve
 * (market.h), a point (p, q > 0) buys q at prices up to p and a point (p, q < 0) sells -q at
 * prices from p, so at each segment price p the curve has the buy point (p, g just below p)
 * when that is a purchase and the sell point (p, g just above p) when that is a sale; where g
 * crosses zero at p, the sell point is put one floating-point step above p (the two sides may
 * not share a price). Between points the market then reads exactly g. Returns the points. */
static size_t
curve_of(const seg *s, size_t n, pg_market_point *pts, size_t max)
{
    double prices[8];
    size_t np = 0;
    for (size_t i = 0; i < n && np < 8; i++) {
        bool seen = false;
        for (size_t k = 0; k < np; k++)
            seen = seen || prices[k] == s[i].price;
        if (!seen)
            prices[np++] = s[i].price;
    }
    for (size_t i = 1; i < np; i++) /* insertion sort: a handful of prices */
        for (size_t k = i; k > 0 && prices[k - 1] > prices[k]; k--) {
            double x = prices[k];
            prices[k] = prices[k - 1];
            prices[k - 1] = x;
        }
    size_t out = 0;
    for (size_t k = 0; k < np; k++) {
        double below = net_near(s, n, prices[k], -1), above = net_near(s, n, prices[k], +1);
        bool buy = below > EPS;
        if (buy && out < max)
            pts[out++] = (pg_market_point){prices[k], below};
        if (above < -EPS && out < max)
            pts[out++] = (pg_market_point){buy ? nextafter(prices[k], INFINITY) : prices[k], above};
    }
    return out;
}

static double
clampd(double x, double lo, double hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/* Energy by a deadline for the columns cols[0..n) (kWh per interval, at most per_interval each):
 * what cannot be delivered in the intervals between the horizon and the deadline must come
 * within the horizon, a shortfall allowed at its penalty so that the LP is always feasible; and
 * no more than the energy needed is delivered. Returns the row of the requirement (its dual is
 * the marginal value of the energy), or -1 when the horizon need not deliver any. */
static int
energy_by_deadline(pgi_lp *lp, const int *cols, size_t n, size_t deadline, double need,
                   double per_interval, double penalty)
{
    if (per_interval * (double)n > need + EPS) {
        int cap = pgi_lp_row(lp, -PGI_INF, need);
        for (size_t t = 0; t < n; t++)
            pgi_lp_add(lp, cap, cols[t], 1);
    }
    double within = need - per_interval * (double)(deadline - n);
    if (!(within > EPS))
        return -1;
    int r = pgi_lp_row(lp, within, PGI_INF);
    int short_col = pgi_lp_col(lp, 0, within, penalty, false);
    pgi_lp_add(lp, r, short_col, 1);
    for (size_t t = 0; t < n; t++)
        pgi_lp_add(lp, r, cols[t], 1);
    return r;
}

static int
lp_plan(void *state, const pg_node_view *v, pg_node_plan *out, pg_error *err)
{
    lp_ctl *c = state;
    const pg_node_env *e = v ? v->env : NULL;
    if (!c || !v || !e || !out || !v->fixed_kwh || !v->pv_kwh)
        return pg_error_set(err, PG_EINVAL, "controller lp: a view with its forecast is needed");
    const double dt = e->hours;
    if (!(dt > 0 && dt <= 24) || e->horizon < 1)
        return pg_error_set(err, PG_EINVAL,
                            "controller lp: the interval length (%g h) must be in (0, 24] and the "
                            "forecast at least one interval long",
                            dt);
    if (e->grid_connected && (!e->retail || !e->feed_in))
        return pg_error_set(err, PG_EINVAL, "controller lp: a grid-connected node needs prices");
    size_t H = (size_t)llround(c->p[P_HORIZON] / dt);
    if (H < 1)
        H = 1;
    if (H > e->horizon)
        H = e->horizon;
    if (H > LP_MAX_INTERVALS) /* fine steps over a long horizon: an LP too large to solve */
        H = LP_MAX_INTERVALS;
    const bool hvac = v->thermal && c->thermal && v->outdoor_c && v->hvac_max_kw > 0;
    int rc = check_view(v, H, hvac, err);
    if (rc)
        return rc;
    if ((rc = grow(c, H, err)))
        return rc;

    const bool grid = e->grid_connected;
    const bool bat = v->soc_max_kwh > v->soc_min_kwh + EPS && v->eta_charge > 0 &&
                     v->eta_discharge > 0 && (v->charge_max_kw > 0 || v->discharge_max_kw > 0);
    const size_t ev_n = v->ev_departs_in > H ? H : v->ev_departs_in;
    const bool ev = v->ev_departs_in > 0 && v->ev_need_kwh > EPS && v->ev_max_kw > 0;
    size_t sh_deadline = v->shift_deadline_in ? v->shift_deadline_in : 1; /* overdue: now */
    const size_t sh_n = sh_deadline > H ? H : sh_deadline;
    const bool sh = v->shift_need_kwh > EPS && v->shift_max_kw > 0;
    const bool gen = v->gen_max_kw > 0;
    /* Demand response and effective prices per interval. */
    double min_cost = INFINITY;
    for (size_t t = 0; t < H; t++) {
        dr_now d = dr_at(e, t);
        double price = grid ? e->retail[t] : 0;
        if (!isnan(d.price))
            price = d.price;
        if (!sane(price, MAX_PRICE))
            return bad_number(err, "the demand-response price", t, price);
        c->imp_cost[t] = price + d.level * c->p[P_SIMPLE];
        /* Export never pays more than import costs: otherwise importing to export would be a
         * profit without bound and every device decision indifferent to price. */
        c->exp_price[t] = grid ? fmin(e->feed_in[t], c->imp_cost[t]) : 0;
        c->cap_kwh[t] =
            d.target > 0 ? fmax(0.0, v->fixed_kwh[t] - v->pv_kwh[t] - d.target * dt) : INFINITY;
        /* the thermostat's demand-response move, as the rules make it: the whole offset at
         * SIMPLE level 2 or more or under a LOAD_DISPATCH event, half at level 1 or under a
         * price event */
        c->band_shift[t] = d.level >= 2 || d.target > 0      ? c->p[P_DR_SETPOINT]
                           : d.level >= 1 || !isnan(d.price) ? 0.5 * c->p[P_DR_SETPOINT]
                                                             : 0;
        min_cost = fmin(min_cost, c->imp_cost[t]);
    }
    double terminal = c->p[P_TERMINAL];
    if (isnan(terminal)) {
        /* A stored kWh at the end is worth what it saves later at least: the cheapest import of
         * the horizon (or the generator's fuel off-grid) after both conversion losses, so that
         * using it within the horizon is preferred when it saves anything and buying to hold it
         * never pays. */
        double base = grid ? fmax(0.0, min_cost) : (gen ? fmax(0.0, v->gen_cost) : 1e-3);
        terminal = bat ? base * v->eta_charge * v->eta_discharge : 0;
    }

    pgi_lp *lp = &c->lp;
    pgi_lp_free(lp);
    set_all(c->c_imp, H), set_all(c->c_exp, H), set_all(c->c_over, H), set_all(c->c_pv, H);
    set_all(c->c_ch, H), set_all(c->c_dis, H), set_all(c->c_soc, H), set_all(c->c_ev, H);
    set_all(c->c_sh, H), set_all(c->c_hvac, H), set_all(c->c_gen, H), set_all(c->c_uns, H);
    set_all(c->r_soc, H);
    c->r_ev = c->r_sh = -1;
    /* Nothing to decide (no storage, EV, shiftable work, generator or modelled HVAC): the plan
     * is the forecast itself and needs no LP. */
    const bool flexible = bat || ev || sh || gen || hvac;
    /* A thermal load the LP does not model runs itself: its energy this interval is load. */
    const double self_kwh = v->thermal && !hvac ? v->hvac_self_kwh : 0;
    pgi_solution sol = {0};
    if (flexible) {
        const double soc_lo = fmin(v->soc_min_kwh, v->soc_kwh);
        const double soc_hi = fmax(v->soc_max_kwh, v->soc_kwh);
        /* the thermal model of docs/devices.md: T' = T + a (T_out - T) - s COP p dt / C */
        const double a = hvac ? 1 - exp(-dt / (c->th_r * c->th_c)) : 0;
        const double s_mode = c->th_heating ? -1 : 1;                /* +1 cooling */
        const double gain = hvac ? s_mode * c->th_cop / c->th_c : 0; /* C per kWh of electricity */
        int prev_temp = -1;
        for (size_t t = 0; t < H; t++) {
            double load = v->fixed_kwh[t] + (t == 0 ? self_kwh : 0);
            int bal = pgi_lp_row(lp, load, load);
            if (grid) {
                c->c_imp[t] = pgi_lp_col(lp, 0, PGI_INF, c->imp_cost[t], false);
                c->c_exp[t] = pgi_lp_col(lp, 0, PGI_INF, -c->exp_price[t], false);
                pgi_lp_add(lp, bal, c->c_imp[t], 1);
                pgi_lp_add(lp, bal, c->c_exp[t], -1);
                if (isfinite(c->cap_kwh[t])) {
                    c->c_over[t] = pgi_lp_col(lp, 0, PGI_INF, c->p[P_DISPATCH], false);
                    int r = pgi_lp_row(lp, -PGI_INF, c->cap_kwh[t]);
                    pgi_lp_add(lp, r, c->c_imp[t], 1);
                    pgi_lp_add(lp, r, c->c_over[t], -1);
                }
            } else {
                c->c_uns[t] = pgi_lp_col(lp, 0, PGI_INF, c->p[P_UNSERVED], false);
                pgi_lp_add(lp, bal, c->c_uns[t], 1);
            }
            if (v->pv_kwh[t] > 0) {
                c->c_pv[t] = pgi_lp_col(lp, 0, v->pv_kwh[t], 0, false);
                pgi_lp_add(lp, bal, c->c_pv[t], 1);
            }
            if (bat) {
                /* soc_t - eta_c ch_t + dis_t / eta_d - soc_{t-1} = 0, soc_{-1} the present state */
                double rhs = t == 0 ? v->soc_kwh : 0;
                c->r_soc[t] = pgi_lp_row(lp, rhs, rhs);
                bool last = t + 1 == H;
                c->c_soc[t] = pgi_lp_col(lp, soc_lo, soc_hi, last ? -terminal : 0, false);
                pgi_lp_add(lp, c->r_soc[t], c->c_soc[t], 1);
                if (t > 0)
                    pgi_lp_add(lp, c->r_soc[t], c->c_soc[t - 1], -1);
                if (v->charge_max_kw > 0) {
                    c->c_ch[t] = pgi_lp_col(lp, 0, v->charge_max_kw * dt, 0, false);
                    pgi_lp_add(lp, c->r_soc[t], c->c_ch[t], -v->eta_charge);
                    pgi_lp_add(lp, bal, c->c_ch[t], -1);
                }
                if (v->discharge_max_kw > 0) {
                    c->c_dis[t] = pgi_lp_col(lp, 0, v->discharge_max_kw * dt, c->p[P_CYCLE], false);
                    pgi_lp_add(lp, c->r_soc[t], c->c_dis[t], 1 / v->eta_discharge);
                    pgi_lp_add(lp, bal, c->c_dis[t], 1);
                }
            }
            if (ev && t < ev_n) {
                c->c_ev[t] = pgi_lp_col(lp, 0, v->ev_max_kw * dt, 0, false);
                pgi_lp_add(lp, bal, c->c_ev[t], -1);
            }
            if (sh && t < sh_n) {
                c->c_sh[t] = pgi_lp_col(lp, 0, v->shift_max_kw * dt, 0, false);
                pgi_lp_add(lp, bal, c->c_sh[t], -1);
            }
            if (gen) {
                c->c_gen[t] = pgi_lp_col(lp, 0, v->gen_max_kw * dt, v->gen_cost, false);
                pgi_lp_add(lp, bal, c->c_gen[t], 1);
            }
            if (hvac) {
                /* T_t = (1 - a) T_{t-1} + a T_out,t - s COP hvac_t / C (hvac_t in kWh); the band,
                 * moved by demand response to where the HVAC works less, is soft. */
                c->c_hvac[t] = pgi_lp_col(lp, 0, v->hvac_max_kw * dt, 0, false);
                pgi_lp_add(lp, bal, c->c_hvac[t], -1);
                int temp = pgi_lp_col(lp, -PGI_INF, PGI_INF, 0, false);
                double rhs = a * v->outdoor_c[t] + (t == 0 ? (1 - a) * v->temp_c : 0);
                int r = pgi_lp_row(lp, rhs, rhs);
                pgi_lp_add(lp, r, temp, 1);
                pgi_lp_add(lp, r, c->c_hvac[t], gain);
                if (prev_temp >= 0)
                    pgi_lp_add(lp, r, prev_temp, -(1 - a));
                prev_temp = temp;
                double shift = s_mode * c->band_shift[t];
                double lo = v->setpoint_c - v->deadband_c + shift;
                double hi = v->setpoint_c + v->deadband_c + shift;
                double pen = c->p[P_COMFORT] * dt;
                int below = pgi_lp_col(lp, 0, PGI_INF, pen, false);
                int above = pgi_lp_col(lp, 0, PGI_INF, pen, false);
                int rl = pgi_lp_row(lp, lo, PGI_INF);
                pgi_lp_add(lp, rl, temp, 1);
                pgi_lp_add(lp, rl, below, 1);
                int rh = pgi_lp_row(lp, -PGI_INF, hi);
                pgi_lp_add(lp, rh, temp, 1);
                pgi_lp_add(lp, rh, above, -1);
            }
        }
        if (ev && ev_n > 0)
            c->r_ev = energy_by_deadline(lp, c->c_ev, ev_n, v->ev_departs_in, v->ev_need_kwh,
                                         v->ev_max_kw * dt, c->p[P_EV]);
        if (sh && sh_n > 0)
            c->r_sh = energy_by_deadline(lp, c->c_sh, sh_n, sh_deadline, v->shift_need_kwh,
                                         v->shift_max_kw * dt, c->p[P_SHIFT]);
        if ((rc = pgi_lp_ok(lp, err)))
            return rc;

        pgi_solve_options so = {0};
        so.block_min_cols = -1; /* a small problem: solved in one piece */
        if ((rc = pgi_solve_lp(lp, &so, &sol, err)))
            return rc;
        if (sol.status != PGI_OPTIMAL) {
            rc = pg_error_set(err, PG_ESOLVER,
                              "controller lp: the plan's LP has no optimal solution (solver status "
                              "%d); this should not happen as every constraint is soft",
                              (int)sol.status);
            goto out;
        }
    }

#define X(col) ((col) >= 0 ? sol.x[(col)] : 0.0)
    pg_node_plan p;
    memset(&p, 0, sizeof p);
    double ch = clampd(X(c->c_ch[0]), 0, v->charge_max_kw * dt);
    double dis = clampd(X(c->c_dis[0]), 0, v->discharge_max_kw * dt);
    if (ch < EPS)
        ch = 0;
    if (dis < EPS)
        dis = 0;
    p.battery_kw = (ch - dis) / dt;
    double evk = ev ? clampd(X(c->c_ev[0]), 0, v->ev_max_kw * dt) : 0;
    double shk = sh ? clampd(X(c->c_sh[0]), 0, v->shift_max_kw * dt) : 0;
    double genk = gen ? clampd(X(c->c_gen[0]), 0, v->gen_max_kw * dt) : 0;
    double hvk = hvac ? clampd(X(c->c_hvac[0]), 0, v->hvac_max_kw * dt) : 0;
    p.ev_kw = evk < EPS ? 0 : evk / dt;
    p.shift_kw = shk < EPS ? 0 : shk / dt;
    p.generator_kw = genk < EPS ? 0 : genk / dt;
    p.hvac_kw = hvac ? (hvk < EPS ? 0 : hvk / dt) : NAN;
    if (v->thermal)
        p.setpoint_offset_c = c->band_shift[0];

    /* The bid curve (docs/controllers.md, "The LP's bid curve"). */
    seg s[8];
    size_t ns = 0;
    /* The marginal values: of a kWh stored at the end of this interval (minus the dual of its
     * SoC balance, whose right-hand side is the energy already stored), of a kWh of EV or
     * shiftable energy delivered (the dual of the by-departure row). */
    double lambda = bat ? -sol.dual[c->r_soc[0]] : 0;
    double mu_ev = c->r_ev >= 0 ? sol.dual[c->r_ev] : 0;
    double mu_sh = c->r_sh >= 0 ? sol.dual[c->r_sh] : 0;
    double buy_limit = grid ? c->imp_cost[0] : c->p[P_UNSERVED];
    double sell_limit = grid ? c->exp_price[0] : 0;
    double pv_used = flexible ? X(c->c_pv[0])
                     : grid && c->exp_price[0] >= 0
                         ? v->pv_kwh[0]
                         : fmin(v->pv_kwh[0], v->fixed_kwh[0] + self_kwh);
    double inflex = v->fixed_kwh[0] + self_kwh + hvk - pv_used;
    if (inflex > EPS)
        s[ns++] = (seg){+1, inflex, buy_limit};
    else if (inflex < -EPS)
        s[ns++] = (seg){-1, -inflex, sell_limit};
    double bnet = ch - dis;
    if (bnet > EPS)
        s[ns++] = (seg){+1, bnet, lambda * v->eta_charge};
    else if (bnet < -EPS)
        s[ns++] = (seg){-1, -bnet, lambda / v->eta_discharge};
    if (evk > EPS)
        s[ns++] = (seg){+1, evk, mu_ev};
    if (shk > EPS)
        s[ns++] = (seg){+1, shk, mu_sh};
    if (genk > EPS)
        s[ns++] = (seg){-1, genk, v->gen_cost};
    /* Only prices between the grid's matter (the market takes buy limits above retail as retail
     * and sell limits below feed-in as feed-in), so limits are brought into that range; a value
     * equal to a grid price up to the solver's rounding is that price. */
    for (size_t i = 0; i < ns; i++) {
        double x = clampd(s[i].price, sell_limit, buy_limit);
        double tol = 1e-9 * fmax(1.0, fabs(x));
        if (fabs(x - buy_limit) <= tol)
            x = buy_limit;
        else if (fabs(x - sell_limit) <= tol)
            x = sell_limit;
        s[i].price = x;
    }
    /* at most 8 points: the curve_of above keeps 8 prices, and the LP's bids stay as they were
       when a plan held no more */
    p.n_points = curve_of(s, ns, p.curve, 8);
#undef X
    *out = p;
out:
    pgi_solution_free(&sol);
    return rc;
}

const pg_node_controller pgi_ctl_lp = {
    .name = "lp",
    .summary = "receding-horizon LP over the forecast (Clp), bids from its marginal values",
    .params = lp_params,
    .create = lp_create,
    .plan = lp_plan,
    .destroy = lp_destroy,
};
