/* threshold: a simple price-threshold battery strategy, the first example of a strategy module
 * (examples/README.md). The threshold is the mean retail price over the coming day: below it the
 * home charges its battery from the grid or its neighbours, at or above it the battery covers
 * the home and offers the rest. The bid curve says that in the market:
 *   cheap hour:  buy the home's net need plus the battery's room up to the retail price;
 *   dear hour:   buy the net need at the feed-in price, and offer the battery's charge from the
 *                threshold up (it sells only at a price worth the charge).
 * During a demand-response event of level 2 or more the battery covers what it can and
 * nothing more is bought than the home needs. Everything is plain arithmetic on doubles, so the
 * module and the same source built natively bid the same numbers to the last bit. */
#include "strategy.h"

#define MAX_H 96

static pg_wasm_plan plan;
static double retail[MAX_H];

static double
min2(double a, double b)
{
    return a < b ? a : b;
}

static double
max2(double a, double b)
{
    return a > b ? a : b;
}

/* The highest SIMPLE level active at hour h (a LOAD_DISPATCH event counts as 2). */
static int
dr_level(uint32_t n_events, double h)
{
    int level = 0;
    pg_wasm_dr_event e;
    for (uint32_t i = 0; i < n_events; i++) {
        if (pg_dr_event((int32_t)i, &e, sizeof e) < 0 || e.cancelled || h < e.start_h)
            continue;
        double t = e.start_h;
        for (uint32_t k = 0; k < e.n_intervals && k < PG_WASM_DR_MAX_INTERVALS; k++) {
            if (h < t + e.interval_h[k]) {
                double v = e.interval_value[k];
                int l = e.signal == 0 ? (int)v : e.signal == 2 && v > 0 ? 2 : 0;
                if (l > level)
                    level = l;
                break;
            }
            t += e.interval_h[k];
        }
    }
    return level;
}

PG_WASM_EXPORT("pg_init") int32_t pg_init(void)
{
    static const char hello[] = "threshold: ready";
    pg_log(hello, sizeof hello - 1);
    return 0;
}

PG_WASM_EXPORT("pg_on_dr_event") int32_t pg_on_dr_event(void)
{
    static const char note[] = "threshold: a demand-response event";
    pg_log(note, sizeof note - 1);
    return 0;
}

PG_WASM_EXPORT("pg_on_interval") int32_t pg_on_interval(void)
{
    pg_wasm_view v;
    double feed_in, fixed, pv;
    if (pg_view(&v, sizeof v) < (int32_t)sizeof v || !v.grid_connected)
        return pg_plan_address((pg_wasm_plan *)0);
    int32_t h = pg_series(PG_SERIES_RETAIL, retail, MAX_H);
    if (h < 1 || pg_series(PG_SERIES_FEED_IN, &feed_in, 1) < 1 ||
        pg_series(PG_SERIES_FIXED, &fixed, 1) < 1 || pg_series(PG_SERIES_PV, &pv, 1) < 1)
        return pg_plan_address((pg_wasm_plan *)0);
    /* the mean retail price of the coming day */
    int32_t day = (int32_t)(24.0 / v.hours + 0.5);
    int32_t n = h < MAX_H ? h : MAX_H;
    if (day >= 1 && day < n)
        n = day;
    double sum = 0;
    for (int32_t k = 0; k < n; k++)
        sum += retail[k];
    double threshold = sum / n, price = retail[0];
    double floor_p = min2(feed_in, price);

    double net = fixed - pv; /* kWh this interval, < 0 a surplus */
    double room = 0, avail = 0;
    if (v.soc_max_kwh > v.soc_min_kwh) {
        room = min2(v.charge_max_kw * v.hours, max2(0, v.soc_max_kwh - v.soc_kwh) / v.eta_charge);
        avail = min2(v.discharge_max_kw * v.hours,
                     max2(0, v.soc_kwh - v.soc_min_kwh) * v.eta_discharge);
    }
    int level = dr_level(v.n_events, v.time_h + 0.5 * v.hours);

    plan = (pg_wasm_plan){0};
    plan.hvac_kw = __builtin_nan("");
    if (level >= 2) {
        /* an event: the battery covers the home, nothing is stored */
        plan.battery_kw = -avail / v.hours;
        plan.curve[0] = (pg_wasm_point){floor_p, net - avail};
        plan.n_points = 1;
    } else if (price < threshold) {
        /* cheap: fill the battery, from a surplus first */
        plan.battery_kw = room / v.hours;
        plan.curve[0] = (pg_wasm_point){floor_p, net + room};
        plan.curve[1] = (pg_wasm_point){price, net};
        plan.n_points = price > floor_p ? 2 : 1;
    } else {
        /* dear: the battery covers the home, and what is left is offered from the threshold */
        plan.battery_kw = -min2(avail, max2(0, net)) / v.hours;
        plan.curve[0] = (pg_wasm_point){floor_p, net};
        double sell_from = max2(floor_p, min2(threshold, price));
        if (sell_from > floor_p) {
            plan.curve[1] = (pg_wasm_point){sell_from, net - avail};
            plan.n_points = 2;
        } else {
            plan.curve[0].qty = net - avail;
            plan.n_points = 1;
        }
    }
    if (plan.n_points == 1 && plan.curve[0].qty == 0)
        plan.n_points = 0;
    return pg_plan_address(&plan);
}
