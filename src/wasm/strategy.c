/* Strategy calls (docs/wasm.md, "The strategy ABI"): a node's view is turned into the guest's
 * layouts (plurigrid/wasm_guest.h) and sent to the runner as the state its "pg" imports read;
 * pg_on_interval is called and the pg_wasm_plan it points to is read back in the same reply and
 * checked before anything of it is trusted: a malformed plan is the outcome "bad bid". */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "plurigrid/market.h"
#include "plurigrid/wasm_guest.h"
#include "wasm/internal.h"
#include "wasm/sandbox_internal.h"

_Static_assert(sizeof(pg_wasm_view) == 48 + 21 * 8, "pg_wasm_view's layout");
_Static_assert(offsetof(pg_wasm_view, hours) == 48, "pg_wasm_view's layout");
_Static_assert(sizeof(pg_wasm_plan) == 56 + 16 * PG_WASM_MAX_POINTS, "pg_wasm_plan's layout");
_Static_assert(offsetof(pg_wasm_plan, n_points) == 48, "pg_wasm_plan's layout");
_Static_assert(offsetof(pg_wasm_dr_event, start_h) == 80, "pg_wasm_dr_event's layout");
_Static_assert(sizeof(pg_wasm_dr_event) == 1640, "pg_wasm_dr_event's layout");
_Static_assert(PG_WASM_MAX_POINTS == PG_NODE_MAX_POINTS, "the plan's points");
_Static_assert(PG_WASM_DR_MAX_INTERVALS == PG_DR_MAX_INTERVALS, "a DR event's intervals");

/* The longest horizon and the most inputs sent (a day of minutes; more than any config has). */
#define MAX_HORIZON 8784u
#define MAX_INPUTS 64u

static uint32_t
clamp_u32(size_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static void
dr_event(pg_wasm_dr_event *g, const pg_dr_event *e)
{
    memset(g, 0, sizeof *g);
    memcpy(g->id, e->id, sizeof g->id);
    g->id[sizeof g->id - 1] = 0;
    g->modification = e->modification;
    g->signal = (uint32_t)e->signal;
    g->n_intervals =
        clamp_u32(e->n_intervals > PG_DR_MAX_INTERVALS ? PG_DR_MAX_INTERVALS : e->n_intervals);
    g->cancelled = e->cancelled;
    g->start_h = e->start_h;
    g->duration_h = e->duration_h;
    g->notice_h = e->notice_h;
    for (uint32_t i = 0; i < g->n_intervals; i++) {
        g->interval_h[i] = e->interval_h[i];
        g->interval_value[i] = e->interval_value[i];
    }
}

static void
series(pgw_wr *w, uint32_t *n, int32_t which, const double *v, uint32_t h)
{
    if (!v)
        return;
    pgw_put_u32(w, (uint32_t)which);
    pgw_put_u32(w, h);
    pgw_put(w, v, (size_t)h * sizeof *v);
    (*n)++;
}

/* The STATE frame of a view (and of the event being delivered, when given). */
static int
make_state(pgi_wasm_sandbox *sb, const pg_node_view *v, const pg_dr_event *current, pg_error *err)
{
    pgw_wr *w = &sb->state;
    w->len = 0;
    w->failed = 0;
    pg_wasm_view g;
    memset(&g, 0, sizeof g);
    g.version = v ? PG_WASM_ABI_VERSION : 0; /* 0: no view (pg_view answers -1) */
    g.size = sizeof g;
    const pg_node_env *env = v ? v->env : NULL;
    uint32_t h = 0, n_inputs = 0;
    if (v && env) {
        if (env->horizon < 1 || env->horizon > MAX_HORIZON)
            return pg_error_set(err, PG_EINVAL,
                                "a strategy's view has a horizon of %zu intervals (1 to %u)",
                                env->horizon, MAX_HORIZON);
        h = (uint32_t)env->horizon;
        n_inputs = clamp_u32(sb->host.n_inputs > MAX_INPUTS ? MAX_INPUTS : sb->host.n_inputs);
        g.t = clamp_u32(env->t);
        g.horizon = h;
        g.profile = (uint32_t)v->profile;
        g.n_inputs = env->forecast ? n_inputs : 0;
        g.n_events = clamp_u32(env->n_events > 64 ? 64 : env->n_events);
        g.grid_connected = env->grid_connected;
        g.ev_departs_in = clamp_u32(v->ev_departs_in);
        g.shift_deadline_in = clamp_u32(v->shift_deadline_in);
        g.thermal = v->thermal;
        g.hours = env->hours;
        g.time_h = env->time_h;
        g.hour_of_day = env->hour_of_day;
        g.soc_kwh = v->soc_kwh;
        g.soc_min_kwh = v->soc_min_kwh;
        g.soc_max_kwh = v->soc_max_kwh;
        g.charge_max_kw = v->charge_max_kw;
        g.discharge_max_kw = v->discharge_max_kw;
        g.eta_charge = v->eta_charge;
        g.eta_discharge = v->eta_discharge;
        g.ev_need_kwh = v->ev_need_kwh;
        g.ev_max_kw = v->ev_max_kw;
        g.temp_c = v->temp_c;
        g.setpoint_c = v->setpoint_c;
        g.deadband_c = v->deadband_c;
        g.hvac_max_kw = v->hvac_max_kw;
        g.shift_need_kwh = v->shift_need_kwh;
        g.shift_max_kw = v->shift_max_kw;
        g.gen_max_kw = v->gen_max_kw;
        g.gen_cost = v->gen_cost;
        g.hvac_self_kwh = v->hvac_self_kwh;
    }
    pgw_put(w, &g, sizeof g);
    size_t at = w->len;
    uint32_t n = 0;
    pgw_put_u32(w, 0);
    if (env) {
        series(w, &n, PG_SERIES_RETAIL, env->retail, h);
        series(w, &n, PG_SERIES_FEED_IN, env->feed_in, h);
        series(w, &n, PG_SERIES_FIXED, v->fixed_kwh, h);
        series(w, &n, PG_SERIES_PV, v->pv_kwh, h);
        series(w, &n, PG_SERIES_OUTDOOR, v->outdoor_c, h);
        for (uint32_t i = 0; env->forecast && i < g.n_inputs; i++)
            series(w, &n, PG_SERIES_INPUT + (int32_t)i, env->forecast[i], h);
    }
    if (!w->failed)
        memcpy(w->p + at, &n, sizeof n);
    pgw_put_u32(w, g.n_events);
    for (uint32_t i = 0; i < g.n_events; i++) {
        pg_wasm_dr_event e;
        dr_event(&e, &env->events[i]);
        pgw_put(w, &e, sizeof e);
    }
    pgw_put_u32(w, current != NULL);
    if (current) {
        pg_wasm_dr_event e;
        dr_event(&e, current);
        pgw_put(w, &e, sizeof e);
    }
    if (w->failed || w->len > PGW_FRAME_MAX) {
        w->len = 0;
        return pg_error_set(err, w->failed ? PG_ENOMEM : PG_ELIMIT,
                            "the strategy's view is too large to send");
    }
    return PG_OK;
}

static int bad(pgi_wasm_outcome *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int
bad(pgi_wasm_outcome *o, const char *fmt, ...)
{
    o->kind = PGI_WASM_BAD_BID;
    int k = snprintf(o->why, sizeof o->why, "bad bid: ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->why + k, sizeof o->why - (size_t)k, fmt, ap);
    va_end(ap);
    return 0;
}

/* Checks a plan read from the guest; fills *out when it is valid. */
static void
check_plan(const pg_wasm_plan *g, pg_node_plan *out, pgi_wasm_outcome *o)
{
    const double *f[] = {&g->battery_kw,        &g->ev_kw,    &g->hvac_kw,
                         &g->setpoint_offset_c, &g->shift_kw, &g->generator_kw};
    static const char *const names[] = {"battery_kw",        "ev_kw",    "hvac_kw",
                                        "setpoint_offset_c", "shift_kw", "generator_kw"};
    for (size_t i = 0; i < 6; i++) {
        double x = *f[i];
        if (i == 2 && isnan(x))
            continue; /* the thermostat on its own */
        if (!(fabs(x) <= PG_MARKET_QTY_MAX)) {
            bad(o, "%s is %g (a finite number of magnitude at most %g)", names[i], x,
                PG_MARKET_QTY_MAX);
            return;
        }
    }
    if (g->n_points > PG_NODE_MAX_POINTS) {
        bad(o, "%u points (at most %d)", g->n_points, PG_NODE_MAX_POINTS);
        return;
    }
    /* the market's own check of a curve, on a scratch book: finite, in range, monotone */
    pg_market_book book;
    pg_error e = {0};
    pg_market_point pts[PG_NODE_MAX_POINTS];
    for (uint32_t i = 0; i < g->n_points; i++) {
        pts[i].price = g->curve[i].price;
        pts[i].qty = g->curve[i].qty;
    }
    pg_market_book_init(&book);
    int rc = pg_market_book_add_curve(&book, 0, pts, g->n_points, &e);
    pg_market_book_free(&book);
    if (rc != PG_OK) {
        bad(o, "%s", e.msg);
        return;
    }
    memset(out, 0, sizeof *out);
    out->battery_kw = g->battery_kw;
    out->ev_kw = g->ev_kw;
    out->hvac_kw = g->hvac_kw;
    out->setpoint_offset_c = g->setpoint_offset_c;
    out->shift_kw = g->shift_kw;
    out->generator_kw = g->generator_kw;
    out->n_points = g->n_points;
    memcpy(out->curve, pts, sizeof pts[0] * g->n_points);
}

int
pgi_wasm_strategy_bid(pgi_wasm_sandbox *sb, const pg_node_view *v, pg_node_plan *out,
                      pgi_wasm_outcome *outcome, pg_error *err)
{
    if (!sb || !v || !v->env || !out || !outcome)
        return pg_error_set(err, PG_EINVAL, "pgi_wasm_strategy_bid: a required argument is NULL");
    int rc = make_state(sb, v, NULL, err);
    if (rc)
        return rc;
    pgi_wasm_val res = {0};
    pg_wasm_plan g;
    memset(&g, 0, sizeof g);
    rc = pgi_wasm_sandbox_call(sb, "pg_on_interval", NULL, 0, &res, 1, sizeof g, (uint8_t *)&g,
                               outcome, err);
    sb->state.len = 0;
    if (rc || outcome->kind != PGI_WASM_OK)
        return rc;
    if (res.v.i32 == 0) {
        /* no bid: the devices on their own */
        memset(out, 0, sizeof *out);
        out->hvac_kw = NAN;
        return PG_OK;
    }
    pg_node_plan p;
    check_plan(&g, &p, outcome);
    if (outcome->kind == PGI_WASM_OK)
        *out = p;
    return PG_OK;
}

int
pgi_wasm_strategy_dr_event(pgi_wasm_sandbox *sb, const pg_dr_event *e, pgi_wasm_outcome *outcome,
                           pg_error *err)
{
    if (!sb || !e || !outcome)
        return pg_error_set(err, PG_EINVAL,
                            "pgi_wasm_strategy_dr_event: a required argument is NULL");
    int rc = make_state(sb, NULL, e, err);
    if (rc)
        return rc;
    pgi_wasm_val res = {0};
    rc = pgi_wasm_sandbox_call(sb, "pg_on_dr_event", NULL, 0, &res, 1, 0, NULL, outcome, err);
    sb->state.len = 0;
    if (rc == PG_ENOTFOUND) {
        pg_error_clear(err);
        memset(outcome, 0, sizeof *outcome);
        outcome->kind = PGI_WASM_OK;
        snprintf(outcome->why, sizeof outcome->why, "ok: the strategy does not take events");
        return PG_OK;
    }
    return rc;
}
