/* The shim that runs the example strategies natively (native.h): the strategy ABI's imports
 * answered from a pg_node_view with the same layouts and the same rules as the sandbox's host
 * (docs/wasm.md: which series exist, how many values are copied, what -1 means), and the plan
 * read back with the same checks. */
#include "native.h"

#include <math.h>
#include <string.h>

#include "plurigrid/market.h"
#include "plurigrid/wasm_guest.h"

#define MAX_INPUTS 64u
#define MAX_EVENTS 64u

static const pg_node_view *cur;
static size_t cur_inputs;
static const pg_dr_event *cur_event;
static const pg_wasm_plan *cur_plan;

static uint32_t
u32(size_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

int32_t
pgx_view(pg_wasm_view *dst, uint32_t len)
{
    if (!cur)
        return -1;
    const pg_node_view *v = cur;
    const pg_node_env *env = v->env;
    pg_wasm_view g;
    memset(&g, 0, sizeof g);
    g.version = PG_WASM_ABI_VERSION;
    g.size = sizeof g;
    g.t = u32(env->t);
    g.horizon = u32(env->horizon);
    g.profile = (uint32_t)v->profile;
    g.n_inputs = env->forecast ? u32(cur_inputs > MAX_INPUTS ? MAX_INPUTS : cur_inputs) : 0;
    g.n_events = u32(env->n_events > MAX_EVENTS ? MAX_EVENTS : env->n_events);
    g.grid_connected = env->grid_connected;
    g.ev_departs_in = u32(v->ev_departs_in);
    g.shift_deadline_in = u32(v->shift_deadline_in);
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
    memcpy(dst, &g, len < sizeof g ? len : sizeof g);
    return (int32_t)sizeof g;
}

int32_t
pgx_series(int32_t which, double *dst, uint32_t n)
{
    if (!cur)
        return -1;
    const pg_node_env *env = cur->env;
    const double *s = NULL;
    switch (which) {
    case PG_SERIES_RETAIL: s = env->retail; break;
    case PG_SERIES_FEED_IN: s = env->feed_in; break;
    case PG_SERIES_FIXED: s = cur->fixed_kwh; break;
    case PG_SERIES_PV: s = cur->pv_kwh; break;
    case PG_SERIES_OUTDOOR: s = cur->outdoor_c; break;
    default:
        if (which >= PG_SERIES_INPUT && env->forecast &&
            (size_t)(which - PG_SERIES_INPUT) < cur_inputs &&
            (uint32_t)(which - PG_SERIES_INPUT) < MAX_INPUTS)
            s = env->forecast[which - PG_SERIES_INPUT];
    }
    if (!s)
        return -1;
    size_t h = env->horizon, k = n < h ? n : h;
    memcpy(dst, s, k * sizeof *s);
    return (int32_t)h;
}

static void
guest_event(pg_wasm_dr_event *g, const pg_dr_event *e)
{
    memset(g, 0, sizeof *g);
    memcpy(g->id, e->id, sizeof g->id);
    g->id[sizeof g->id - 1] = 0;
    g->modification = e->modification;
    g->signal = (uint32_t)e->signal;
    g->n_intervals =
        u32(e->n_intervals > PG_DR_MAX_INTERVALS ? PG_DR_MAX_INTERVALS : e->n_intervals);
    g->cancelled = e->cancelled;
    g->start_h = e->start_h;
    g->duration_h = e->duration_h;
    g->notice_h = e->notice_h;
    for (uint32_t i = 0; i < g->n_intervals; i++) {
        g->interval_h[i] = e->interval_h[i];
        g->interval_value[i] = e->interval_value[i];
    }
}

int32_t
pgx_dr_event(int32_t index, pg_wasm_dr_event *dst, uint32_t len)
{
    const pg_dr_event *e = NULL;
    if (index == -1)
        e = cur_event;
    else if (cur && index >= 0 && (size_t)index < cur->env->n_events && index < (int32_t)MAX_EVENTS)
        e = &cur->env->events[index];
    if (!e)
        return -1;
    pg_wasm_dr_event g;
    guest_event(&g, e);
    memcpy(dst, &g, len < sizeof g ? len : sizeof g);
    return (int32_t)sizeof g;
}

void
pgx_log(const char *text, uint32_t len)
{
    (void)text;
    (void)len;
}

int32_t
pgx_native_plan(const pg_wasm_plan *plan)
{
    cur_plan = plan;
    return plan != NULL;
}

static void
no_bid(pg_node_plan *out, const char *why)
{
    memset(out, 0, sizeof *out);
    out->hvac_kw = NAN;
    strncpy(out->no_bid, why, sizeof out->no_bid - 1);
}

int
pgx_native_bid(const pgx_strategy *s, const pg_node_view *v, size_t n_inputs, pg_node_plan *out)
{
    if (v->env->horizon < 1 || v->env->horizon > 8784)
        return -1;
    cur = v;
    cur_inputs = n_inputs;
    cur_event = NULL;
    cur_plan = NULL;
    int32_t r = s->on_interval();
    const pg_wasm_plan *g = r ? cur_plan : NULL;
    cur = NULL;
    memset(out, 0, sizeof *out);
    out->hvac_kw = NAN;
    if (!g)
        return 0;
    const double f[] = {g->battery_kw,        g->ev_kw,    g->hvac_kw,
                        g->setpoint_offset_c, g->shift_kw, g->generator_kw};
    for (size_t i = 0; i < 6; i++)
        if (!(i == 2 && isnan(f[i])) && !(fabs(f[i]) <= PG_MARKET_QTY_MAX)) {
            no_bid(out, "bad bid: a setpoint is out of range");
            return 0;
        }
    if (g->n_points > PG_NODE_MAX_POINTS) {
        no_bid(out, "bad bid: too many points");
        return 0;
    }
    pg_market_book book;
    pg_error e = {0};
    pg_market_point pts[PG_NODE_MAX_POINTS];
    for (uint32_t i = 0; i < g->n_points; i++)
        pts[i] = (pg_market_point){g->curve[i].price, g->curve[i].qty};
    pg_market_book_init(&book);
    int rc = pg_market_book_add_curve(&book, 0, pts, g->n_points, &e);
    pg_market_book_free(&book);
    if (rc != PG_OK) {
        no_bid(out, "bad bid: the curve fails the market's check");
        return 0;
    }
    out->battery_kw = g->battery_kw;
    out->ev_kw = g->ev_kw;
    out->hvac_kw = g->hvac_kw;
    out->setpoint_offset_c = g->setpoint_offset_c;
    out->shift_kw = g->shift_kw;
    out->generator_kw = g->generator_kw;
    out->n_points = g->n_points;
    memcpy(out->curve, pts, g->n_points * sizeof *pts);
    return 0;
}

int32_t
pgx_native_dr_event(const pgx_strategy *s, const pg_node_view *v, size_t n_inputs,
                    const pg_dr_event *e)
{
    if (!s->on_dr_event)
        return 0;
    /* as the sandbox: no view while an event is told (pg_view and the series answer -1) */
    (void)v;
    cur = NULL;
    cur_inputs = n_inputs;
    cur_event = e;
    int32_t r = s->on_dr_event();
    cur = NULL;
    cur_event = NULL;
    return r;
}

/* The strategies, their exports renamed by the build (CMakeLists.txt, "example strategies"). */
int32_t threshold_init(void);
int32_t threshold_on_interval(void);
int32_t threshold_on_dr_event(void);
int32_t forecast_init(void);
int32_t forecast_on_interval(void);

const pgx_strategy pgx_threshold = {"threshold", threshold_init, threshold_on_interval,
                                    threshold_on_dr_event};
const pgx_strategy pgx_forecast = {"forecast", forecast_init, forecast_on_interval, NULL};

const pgx_strategy *
pgx_strategy_find(const char *name)
{
    static const pgx_strategy *const all[] = {&pgx_threshold, &pgx_forecast};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (name && strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}
