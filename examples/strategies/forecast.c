/* forecast: a strategy that reads the whole forecast (up to 96 intervals: a day of quarter
 * hours) and bids a curve of ten points (the ABI takes up to 16; examples/README.md). At a
 * price p the home wants its net need now, plus the battery's room times the share of the
 * coming intervals whose retail price is above p (energy cheaper now than later is worth
 * storing), less what the battery holds times the share below p (energy dearer now than later
 * is worth selling). Both shares move one way with p, so the curve falls as the price rises, as
 * the market requires. The ten prices are spread evenly from the feed-in price to the retail
 * price. The battery's setpoint follows the same rule at the median of the coming prices.
 * Plain arithmetic on doubles only (no libm), so the module and the native build agree bit for
 * bit. */
#include "strategy.h"

#define MAX_H 96
#define POINTS 10

static pg_wasm_plan plan;
static double retail[MAX_H], fixed[MAX_H], pv[MAX_H], sorted[MAX_H];

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

/* The share of sorted[1..n) (the coming intervals' prices, ascending) strictly above p and
 * strictly below p. */
static void
shares(int32_t n, double p, double *above, double *below)
{
    int32_t a = 0, b = 0;
    for (int32_t k = 1; k < n; k++) {
        a += sorted[k] > p;
        b += sorted[k] < p;
    }
    *above = n > 1 ? (double)a / (n - 1) : 0;
    *below = n > 1 ? (double)b / (n - 1) : 0;
}

PG_WASM_EXPORT("pg_init") int32_t pg_init(void)
{
    return 0;
}

PG_WASM_EXPORT("pg_on_interval") int32_t pg_on_interval(void)
{
    pg_wasm_view v;
    double feed_in;
    if (pg_view(&v, sizeof v) < (int32_t)sizeof v || !v.grid_connected)
        return pg_plan_address((pg_wasm_plan *)0);
    int32_t h = pg_series(PG_SERIES_RETAIL, retail, MAX_H);
    if (h < 1 || pg_series(PG_SERIES_FEED_IN, &feed_in, 1) < 1 ||
        pg_series(PG_SERIES_FIXED, fixed, MAX_H) < 1 || pg_series(PG_SERIES_PV, pv, MAX_H) < 1)
        return pg_plan_address((pg_wasm_plan *)0);
    int32_t n = h < MAX_H ? h : MAX_H;
    /* the coming prices in ascending order (insertion sort: n is small) */
    sorted[0] = retail[0];
    for (int32_t k = 1; k < n; k++) {
        double x = retail[k];
        int32_t j = k;
        while (j > 1 && sorted[j - 1] > x) {
            sorted[j] = sorted[j - 1];
            j--;
        }
        sorted[j] = x;
    }
    /* the net need over the horizon: a surplus later is energy the battery need not buy now */
    double later = 0;
    for (int32_t k = 1; k < n; k++)
        later += fixed[k] - pv[k];

    double net = fixed[0] - pv[0];
    double room = 0, avail = 0;
    if (v.soc_max_kwh > v.soc_min_kwh) {
        room = min2(v.charge_max_kw * v.hours, max2(0, v.soc_max_kwh - v.soc_kwh) / v.eta_charge);
        avail = min2(v.discharge_max_kw * v.hours,
                     max2(0, v.soc_kwh - v.soc_min_kwh) * v.eta_discharge);
    }
    if (later < 0) /* the coming surplus will fill the battery: keep room for it */
        room = max2(0, room + later);

    double cap = retail[0], lo = min2(feed_in, cap);
    plan = (pg_wasm_plan){0};
    plan.hvac_kw = __builtin_nan("");
    uint32_t m = 0;
    for (uint32_t i = 0; i < POINTS; i++) {
        double p = cap > lo ? lo + (cap - lo) * i / (POINTS - 1) : lo;
        double above, below;
        shares(n, p, &above, &below);
        double q = net + room * above - avail * below;
        if (m && p <= plan.curve[m - 1].price)
            break; /* one price only: a flat tariff */
        if (m && q >= plan.curve[m - 1].qty) {
            /* the same quantity: a buyer keeps it up to the higher price, a seller offered it
             * from the lower one already */
            if (q > 0)
                plan.curve[m - 1].price = p;
            continue;
        }
        plan.curve[m++] = (pg_wasm_point){p, q};
    }
    plan.n_points = m;
    if (m == 1 && plan.curve[0].qty == 0)
        plan.n_points = 0;
    /* the setpoint: what the curve says at the median of the coming prices */
    double above, below;
    shares(n, sorted[n / 2], &above, &below);
    double b = room * above - avail * below;
    plan.battery_kw = b / v.hours;
    return pg_plan_address(&plan);
}
