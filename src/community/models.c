/* The table of series models of community scenarios (series.h): series computed from a few
 * documented parameters instead of read from a data file. docs/scenarios-community.md gives each
 * model's equations and where its figures come from:
 *   clear-sky-pv       PV output of a system at a site: NOAA's solar position, Haurwitz's
 *                      clear-sky irradiance, Erbs's diffuse fraction, an isotropic-sky tilted
 *                      plane, a derate; optional cloudy days from a Markov chain
 *   offgrid-household  the load of a solar-home-system household of a Multi-Tier Framework tier
 *   daily-profile      24 hourly values repeated every day (a time-of-use tariff)
 *   temperature        outdoor temperature: a daily sinusoid through monthly normal highs and lows
 * Every model places interval i of the run at hour (first + i) * step_h after its origin, which
 * its parameters "start_day" (day of the year, 1..366) and "start_hour" put on the calendar
 * (years of 365 days), or, without them, the scenario's calendar (pgi_series_ctx.year_hour).
 * Every value is the mean over the interval: a power in kW (the energy of the interval is that
 * times step_h), a price, a temperature. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "community/series.h"

#define PI 3.14159265358979323846
#define DEG (PI / 180.0)
/* The farthest a run may reach past a model's origin: 100 years of hours. */
#define MAX_HOURS (100.0 * 8760.0)

/* ---------------------------------------------------------------- the run's clock */

typedef struct clock {
    double h0;   /* hours from 1 January 00:00 to the start of interval 0 of the data */
    double step; /* h */
    size_t first, n;
} clock;

/* Reads start_day and start_hour (by default the scenario's calendar) and checks the run's
 * reach. */
static int
read_clock(pgi_jr *r, const json_t *spec, const pgi_series_ctx *c, clock *k)
{
    double y = c->year_hour >= 0 && c->year_hour < 8760 ? c->year_hour : 0;
    double day = floor(y / 24) + 1, hour = y - 24 * floor(y / 24);
    int rc;
    if ((rc = pgi_jr_get_number(r, spec, "start_day", false, 1, 366, &day)) ||
        (rc = pgi_jr_get_number(r, spec, "start_hour", false, 0, 24, &hour)))
        return rc;
    if (day != floor(day))
        return pgi_jr_fail_key(r, PG_EPARSE, "start_day", "must be a whole day of the year");
    if (hour >= 24)
        return pgi_jr_fail_key(r, PG_EPARSE, "start_hour", "must be less than 24");
    if (((double)c->first + (double)c->n) * c->step_h > MAX_HOURS)
        return pgi_jr_fail(r, PG_ELIMIT,
                           "the run would reach %.0f hours past the series' start; a model "
                           "series covers at most 100 years",
                           ((double)c->first + (double)c->n) * c->step_h);
    k->h0 = (day - 1) * 24 + hour;
    k->step = c->step_h;
    k->first = c->first;
    k->n = c->n;
    return PG_OK;
}

/* Hours from 1 January 00:00 of the origin's year to the start of interval i of the run. */
static double
clock_at(const clock *k, size_t i)
{
    return k->h0 + (double)(k->first + i) * k->step;
}

/* Day of a 365-day year (1..365) and hour of the day for an absolute hour H. */
static void
calendar(double H, double *doy, double *hour)
{
    double day = floor(H / 24);
    *hour = H - 24 * day;
    *doy = fmod(day, 365) + 1;
}

/* Sub-samples per interval for the smooth models: one every 5 minutes, at most 1000. */
static size_t
subsamples(double step_h)
{
    double k = ceil(step_h * 12);
    return k < 1 ? 1 : k > 1000 ? 1000 : (size_t)k;
}

/* An array of exactly n numbers from lo to hi at key of spec. */
static int
get_numbers(pgi_jr *r, const json_t *spec, const char *key, bool required, size_t n, double lo,
            double hi, double *out, bool *given)
{
    json_t *a = NULL;
    int rc = pgi_jr_get_array(r, spec, key, required, 0, &a);
    if (rc || !a) {
        if (given)
            *given = false;
        return rc;
    }
    size_t mark = pgi_jr_push_key(r, key);
    if (json_array_size(a) != n) {
        rc = pgi_jr_fail(r, PG_EPARSE, "must have %zu numbers (it has %zu)", n, json_array_size(a));
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        size_t m = pgi_jr_push_index(r, i);
        rc = pgi_jr_number(r, json_array_get(a, i), lo, hi, &out[i]);
        pgi_jr_pop(r, m);
        if (rc)
            goto out;
    }
    if (given)
        *given = true;
out:
    pgi_jr_pop(r, mark);
    return rc;
}

/* ---------------------------------------------------------------- solar position */

void
pgi_solar_position(double latitude, double longitude, double utc_offset_h, double doy, double hour,
                   double *cos_zenith, double *azimuth_deg)
{
    /* NOAA Global Monitoring Laboratory, "General Solar Position Calculations": the fractional
     * year, the equation of time (minutes) and the declination (radians) from Spencer's series. */
    double g = 2 * PI / 365 * (doy - 1 + (hour - 12) / 24);
    double eot = 229.18 * (0.000075 + 0.001868 * cos(g) - 0.032077 * sin(g) -
                           0.014615 * cos(2 * g) - 0.040849 * sin(2 * g));
    double decl = 0.006918 - 0.399912 * cos(g) + 0.070257 * sin(g) - 0.006758 * cos(2 * g) +
                  0.000907 * sin(2 * g) - 0.002697 * cos(3 * g) + 0.00148 * sin(3 * g);
    double solar_min = hour * 60 + eot + 4 * longitude - 60 * utc_offset_h;
    double w = (solar_min / 4 - 180) * DEG; /* hour angle, 0 at solar noon */
    double phi = latitude * DEG;
    /* The sun's direction in local east, north, up coordinates. */
    double e = -cos(decl) * sin(w);
    double nn = sin(decl) * cos(phi) - cos(decl) * cos(w) * sin(phi);
    double u = sin(decl) * sin(phi) + cos(decl) * cos(w) * cos(phi);
    *cos_zenith = u;
    double az = atan2(e, nn) / DEG;
    *azimuth_deg = az < 0 ? az + 360 : az;
}

/* ---------------------------------------------------------------- clear-sky-pv */

typedef struct pv_site {
    double lat, lon, utc, tilt, azim, albedo, kwp, derate;
} pv_site;

/* AC power of the system under a clear sky, kW, at day doy and local standard time hour. */
static double
clear_sky_kw(const pv_site *s, double doy, double hour)
{
    double cz, az;
    pgi_solar_position(s->lat, s->lon, s->utc, doy, hour, &cz, &az);
    if (cz <= 0)
        return 0;
    /* Haurwitz (1945): global horizontal irradiance under a cloudless sky, W/m2. */
    double ghi = 1098 * cz * exp(-0.057 / cz);
    /* Erbs, Klein and Duffie (1982): the diffuse fraction from the clearness index. */
    double g0 = 1361 * (1 + 0.033 * cos(2 * PI * doy / 365)) * cz;
    double kt = ghi / g0, kd;
    if (kt <= 0.22)
        kd = 1 - 0.09 * kt;
    else if (kt <= 0.80)
        kd = 0.9511 - 0.1604 * kt + 4.388 * kt * kt - 16.638 * kt * kt * kt +
             12.336 * kt * kt * kt * kt;
    else
        kd = 0.165;
    double dhi = kd * ghi;
    double dni = (1 - kd) * 1098 * exp(-0.057 / cz); /* (ghi - dhi) / cz without the division */
    /* The plane of the array: beam by the angle of incidence, isotropic sky diffuse (Liu and
     * Jordan), ground reflection. */
    double b = s->tilt * DEG, g = s->azim * DEG;
    double sz = sqrt(fmax(0, 1 - cz * cz));
    double ca = cz * cos(b) + sz * sin(b) * cos((az * DEG) - g);
    double poa = dni * fmax(0, ca) + dhi * (1 + cos(b)) / 2 + ghi * s->albedo * (1 - cos(b)) / 2;
    return s->kwp * s->derate * poa / 1000;
}

/* Cloudy days: a Markov chain over the days with three states (0 clear, 1 partly cloudy,
 * 2 overcast), each scaling the day's clear-sky output. */
typedef struct clouds {
    bool on;
    double p[3][3];
    double factor[3];
} clouds;

static int
read_clouds(pgi_jr *r, const json_t *spec, clouds *cl)
{
    static const char *const keys[] = {"transition", "factor", NULL};
    /* The defaults: a sunny climate (docs/scenarios-community.md): in the long run about 62 %
     * of days clear, 28 % partly cloudy, 10 % overcast. */
    static const double p0[3][3] = {{0.75, 0.20, 0.05}, {0.45, 0.40, 0.15}, {0.30, 0.40, 0.30}};
    static const double f0[3] = {1.0, 0.6, 0.25};
    json_t *o = NULL;
    int rc = pgi_jr_get_object(r, spec, "clouds", false, &o);
    cl->on = o != NULL;
    memcpy(cl->p, p0, sizeof p0);
    memcpy(cl->factor, f0, sizeof f0);
    if (rc || !o)
        return rc;
    size_t mark = pgi_jr_push_key(r, "clouds");
    json_t *t = NULL;
    if ((rc = pgi_jr_check_keys(r, o, "the clouds of clear-sky-pv", keys)) ||
        (rc = get_numbers(r, o, "factor", false, 3, 0, 1, cl->factor, NULL)) ||
        (rc = pgi_jr_get_array(r, o, "transition", false, 0, &t)))
        goto out;
    if (t) {
        size_t m = pgi_jr_push_key(r, "transition");
        if (json_array_size(t) != 3)
            rc = pgi_jr_fail(r, PG_EPARSE,
                             "must have 3 rows (from clear, partly cloudy, overcast), not %zu",
                             json_array_size(t));
        for (size_t i = 0; !rc && i < 3; i++) {
            size_t mi = pgi_jr_push_index(r, i);
            json_t *row = json_array_get(t, i);
            double *p = cl->p[i];
            if (!(rc = pgi_jr_want(r, row, JSON_ARRAY, "an array of 3 probabilities")) &&
                json_array_size(row) != 3)
                rc = pgi_jr_fail(r, PG_EPARSE, "must have 3 probabilities, not %zu",
                                 json_array_size(row));
            for (size_t j = 0; !rc && j < 3; j++) {
                size_t mj = pgi_jr_push_index(r, j);
                rc = pgi_jr_number(r, json_array_get(row, j), 0, 1, &p[j]);
                pgi_jr_pop(r, mj);
            }
            if (!rc && fabs(p[0] + p[1] + p[2] - 1) > 1e-6)
                rc = pgi_jr_fail(r, PG_EPARSE,
                                 "the probabilities must add up to 1 (they add up "
                                 "to %g)",
                                 p[0] + p[1] + p[2]);
            pgi_jr_pop(r, mi);
        }
        pgi_jr_pop(r, m);
    }
out:
    pgi_jr_pop(r, mark);
    return rc;
}

/* The chain's long-run distribution (power iteration: the rows are stochastic). */
static void
stationary(double p[3][3], double pi[3])
{
    double x[3] = {1.0 / 3, 1.0 / 3, 1.0 / 3};
    for (int it = 0; it < 1000; it++) {
        double y[3] = {0, 0, 0};
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                y[j] += x[i] * p[i][j];
        double s = y[0] + y[1] + y[2];
        for (int j = 0; j < 3; j++)
            x[j] = s > 0 ? y[j] / s : 1.0 / 3;
    }
    memcpy(pi, x, sizeof x);
}

static int
fill_clear_sky_pv(pgi_jr *r, const json_t *spec, const pgi_series_ctx *c, pg_rng *rng, double *v)
{
    static const char *const keys[] = {
        "model", "latitude", "longitude", "utc_offset_h", "tilt_deg",   "azimuth_deg", "albedo",
        "kwp",   "derate",   "clouds",    "start_day",    "start_hour", NULL};
    pv_site s = {.albedo = 0.2, .kwp = 1, .derate = 0.8, .tilt = 20};
    clouds cl;
    clock k;
    double *day_factor = NULL;
    int rc;
    if ((rc = pgi_jr_check_keys(r, spec, "the clear-sky-pv model", keys)) ||
        (rc = pgi_jr_get_number(r, spec, "latitude", true, -90, 90, &s.lat)) ||
        (rc = pgi_jr_get_number(r, spec, "longitude", true, -180, 180, &s.lon)))
        return rc;
    s.utc = round(s.lon / 15);
    s.azim = s.lat >= 0 ? 180 : 0;
    if ((rc = pgi_jr_get_number(r, spec, "utc_offset_h", false, -12, 14, &s.utc)) ||
        (rc = pgi_jr_get_number(r, spec, "tilt_deg", false, 0, 90, &s.tilt)) ||
        (rc = pgi_jr_get_number(r, spec, "azimuth_deg", false, 0, 360, &s.azim)) ||
        (rc = pgi_jr_get_number(r, spec, "albedo", false, 0, 1, &s.albedo)) ||
        (rc = pgi_jr_get_number(r, spec, "kwp", false, 0, 1e6, &s.kwp)) ||
        (rc = pgi_jr_get_number(r, spec, "derate", false, 0, 1, &s.derate)) ||
        (rc = read_clouds(r, spec, &cl)) || (rc = read_clock(r, spec, c, &k)))
        return rc;

    /* The day of every interval's start, counted from the origin's day; the chain runs from the
     * origin so that a window of the run sees the same days as the whole run. */
    double d_origin = floor(k.h0 / 24);
    size_t d_first = (size_t)(floor(clock_at(&k, 0) / 24) - d_origin);
    size_t d_last = (size_t)(floor(clock_at(&k, k.n) / 24) - d_origin);
    size_t nd = d_last - d_first + 1;
    day_factor = malloc(nd * sizeof *day_factor);
    if (!day_factor)
        return pgi_jr_nomem(r);
    if (cl.on) {
        double pi[3];
        stationary(cl.p, pi);
        size_t state = pg_rng_pick(rng, pi, 3);
        for (size_t d = 0; d <= d_last; d++) {
            if (d)
                state = pg_rng_pick(rng, cl.p[state], 3);
            if (state > 2)
                state = 0;
            if (d >= d_first)
                day_factor[d - d_first] = cl.factor[state];
        }
    } else {
        for (size_t d = 0; d < nd; d++)
            day_factor[d] = 1;
    }

    size_t m = subsamples(k.step);
    for (size_t i = 0; i < k.n; i++) {
        double a = clock_at(&k, i), sum = 0;
        for (size_t j = 0; j < m; j++) {
            double H = a + k.step * ((double)j + 0.5) / (double)m, doy, hour;
            calendar(H, &doy, &hour);
            size_t d = (size_t)(floor(H / 24) - d_origin) - d_first;
            sum += clear_sky_kw(&s, doy, hour) * day_factor[d < nd ? d : nd - 1];
        }
        v[i] = sum / (double)m;
    }
    free(day_factor);
    return PG_OK;
}

/* ---------------------------------------------------------------- offgrid-household */

/* An appliance of a solar-home-system household: count units of watts each, on in the given
 * windows of the day (hours; end may pass 24). always: on all day (a refrigerator's mean draw),
 * without the daily variation. */
typedef struct appliance {
    const char *name;
    double watts;
    int count;
    bool always;
    int n_windows;
    double win[2][2];
} appliance;

#define MAX_APPLIANCES 8

typedef struct tier {
    size_t n;
    appliance a[MAX_APPLIANCES];
} tier;

/* docs/scenarios-community.md: the appliances of each tier with the wattages of the table of
 * feasible applications that goes with the Multi-Tier Framework (Tenenbaum et al. 2014, "From the
 * Bottom Up", World Bank: task lighting, phone charging and radio 1 W, general lighting 18 W, air
 * circulation 15 W, television 20 W, computing 70 W, food processing 200 W, air cooling 240 W),
 * used at hours of our own choosing (lights in the evening, fans in the afternoon) so that the
 * day's energy falls in the tier's band of the framework (Bhatia and Angelou 2015: Tier 1 at
 * least 12 Wh, Tier 2 200 Wh, Tier 3 1 kWh a day). Days: 14 Wh, 303 Wh, 1451 Wh. */
static const tier tiers[3] = {
    {3,
     {{"task lighting", 1, 2, false, 1, {{18, 22}}},
      {"phone charging", 1, 1, false, 1, {{18, 21}}},
      {"radio", 1, 1, false, 2, {{6, 7}, {19, 21}}}}},
    {5,
     {{"general lighting", 18, 1, false, 2, {{18, 23}, {5.5, 6.5}}},
      {"phone charging", 1, 2, false, 1, {{18, 21}}},
      {"radio", 1, 1, false, 2, {{6, 8}, {19, 21}}},
      {"television", 20, 1, false, 1, {{19, 23}}},
      {"air circulation (fan)", 15, 1, false, 2, {{12, 17}, {21, 23}}}}},
    {8,
     {{"general lighting", 18, 1, false, 2, {{18, 23}, {5.5, 6.5}}},
      {"phone charging", 1, 3, false, 1, {{18, 21}}},
      {"radio", 1, 1, false, 2, {{6, 8}, {19, 21}}},
      {"television", 20, 1, false, 1, {{18, 23}}},
      {"air circulation (fan)", 15, 2, false, 2, {{12, 18}, {21, 24}}},
      {"computing", 70, 1, false, 1, {{19, 21}}},
      {"food processing", 200, 1, false, 1, {{11.5, 12}}},
      {"air cooling", 240, 1, false, 1, {{13, 16}}}}},
};

typedef struct on_span {
    double a, b, kw; /* absolute hours, power */
} on_span;

static int
fill_offgrid_household(pgi_jr *r, const json_t *spec, const pgi_series_ctx *c, pg_rng *rng,
                       double *v)
{
    static const char *const keys[] = {"model", "tier",      "variation",  "jitter_h",
                                       "scale", "start_day", "start_hour", NULL};
    size_t tier_no = 2;
    double variation = 0.2, jitter = 0.5, scale = 1;
    clock k;
    on_span *spans = NULL;
    size_t *day_start = NULL;
    int rc;
    if ((rc = pgi_jr_check_keys(r, spec, "the offgrid-household model", keys)) ||
        (rc = pgi_jr_get_size(r, spec, "tier", false, 1, 3, &tier_no)) ||
        (rc = pgi_jr_get_number(r, spec, "variation", false, 0, 1, &variation)) ||
        (rc = pgi_jr_get_number(r, spec, "jitter_h", false, 0, 3, &jitter)) ||
        (rc = pgi_jr_get_number(r, spec, "scale", false, 0, 1e6, &scale)) ||
        (rc = read_clock(r, spec, c, &k)))
        return rc;
    const tier *t = &tiers[tier_no - 1];
    size_t per_day = 0;
    for (size_t j = 0; j < t->n; j++)
        per_day += (size_t)t->a[j].n_windows * (size_t)t->a[j].count;

    /* Days from the one before the origin's (its evening windows reach past midnight) to the
     * last; the random draws run from there so a window of the run sees the whole run's days. */
    double d_origin = floor(k.h0 / 24) - 1;
    size_t d_first = (size_t)(floor(clock_at(&k, 0) / 24) - d_origin) - 1;
    size_t d_last = (size_t)(floor(clock_at(&k, k.n) / 24) - d_origin);
    size_t nd = d_last - d_first + 1;
    spans = malloc(nd * per_day * sizeof *spans);
    day_start = malloc((nd + 1) * sizeof *day_start);
    if (!spans || !day_start) {
        rc = pgi_jr_nomem(r);
        goto out;
    }
    size_t ns = 0;
    for (size_t d = 0; d <= d_last; d++) {
        /* The day's usage: every duration times one factor (a busier or quieter day), every
         * unit's start shifted on its own. */
        double f = 1 + variation * pg_rng_normal(rng);
        f = f < 0.3 ? 0.3 : f > 1.7 ? 1.7 : f;
        if (d >= d_first)
            day_start[d - d_first] = ns;
        double base = (d_origin + (double)d) * 24;
        for (size_t j = 0; j < t->n; j++) {
            const appliance *ap = &t->a[j];
            for (int u = 0; u < ap->count; u++) {
                for (int w = 0; w < ap->n_windows; w++) {
                    double shift = jitter * (2 * pg_rng_uniform(rng) - 1);
                    if (d < d_first)
                        continue;
                    double s0 = ap->win[w][0], s1 = ap->win[w][1];
                    on_span *sp = &spans[ns++];
                    if (ap->always) {
                        sp->a = base + s0;
                        sp->b = base + s1;
                    } else {
                        sp->a = base + s0 + shift;
                        sp->b = sp->a + (s1 - s0) * f;
                    }
                    sp->kw = ap->watts / 1000 * scale;
                }
            }
        }
    }
    day_start[nd] = ns;
    for (size_t i = 0; i < k.n; i++) {
        double a = clock_at(&k, i), b = a + k.step, e = 0;
        size_t da = (size_t)(floor(a / 24) - d_origin) - 1 - d_first;
        size_t db = (size_t)(floor(b / 24) - d_origin) - d_first;
        if (db >= nd)
            db = nd - 1;
        for (size_t q = day_start[da]; q < day_start[db + 1]; q++) {
            double lo = fmax(a, spans[q].a), hi = fmin(b, spans[q].b);
            if (hi > lo)
                e += (hi - lo) * spans[q].kw;
        }
        v[i] = e / k.step;
    }
out:
    free(spans);
    free(day_start);
    return rc;
}

/* ---------------------------------------------------------------- daily-profile */

static int
fill_daily_profile(pgi_jr *r, const json_t *spec, const pgi_series_ctx *c, pg_rng *rng, double *v)
{
    static const char *const keys[] = {"model", "values", "start_day", "start_hour", NULL};
    double h[24];
    clock k;
    int rc;
    (void)rng;
    if ((rc = pgi_jr_check_keys(r, spec, "the daily-profile model", keys)) ||
        (rc = get_numbers(r, spec, "values", true, 24, -INFINITY, INFINITY, h, NULL)) ||
        (rc = read_clock(r, spec, c, &k)))
        return rc;
    /* The interval's mean of the hourly steps: exact overlaps, hour by hour. */
    for (size_t i = 0; i < k.n; i++) {
        double a = clock_at(&k, i), b = a + k.step, sum = 0;
        for (double x = a; x < b;) {
            double next = fmin(floor(x) + 1, b);
            if (next <= x) /* rounding at the end of a very long run */
                break;
            double hour = fmod(floor(x), 24);
            sum += h[(size_t)hour % 24] * (next - x);
            x = next;
        }
        v[i] = sum / k.step;
    }
    return PG_OK;
}

/* ---------------------------------------------------------------- temperature */

/* Middle of each month in days from 1 January 00:00 (a 365-day year). */
static const double mid_month[12] = {15.5,  45.0,  74.5,  105.0, 135.5, 166.0,
                                     196.5, 227.5, 258.0, 288.5, 319.0, 349.5};

/* A monthly normal on day x (0..365): linear between the middles of the months, around the
 * year. */
static double
monthly(const double m[12], double x)
{
    for (int i = 0; i < 12; i++) {
        double a = i ? mid_month[i - 1] : mid_month[11] - 365, b = mid_month[i];
        if (x < b) {
            double ma = i ? m[i - 1] : m[11];
            return ma + (m[i] - ma) * (x - a) / (b - a);
        }
    }
    double a = mid_month[11], b = mid_month[0] + 365;
    return m[11] + (m[0] - m[11]) * (x - a) / (b - a);
}

static int
fill_temperature(pgi_jr *r, const json_t *spec, const pgi_series_ctx *c, pg_rng *rng, double *v)
{
    static const char *const keys[] = {"model",     "highs",      "lows", "peak_hour",
                                       "start_day", "start_hour", NULL};
    double hi[12], lo[12], peak = 15;
    clock k;
    int rc;
    (void)rng;
    if ((rc = pgi_jr_check_keys(r, spec, "the temperature model", keys)) ||
        (rc = get_numbers(r, spec, "highs", true, 12, -90, 60, hi, NULL)) ||
        (rc = get_numbers(r, spec, "lows", true, 12, -90, 60, lo, NULL)) ||
        (rc = pgi_jr_get_number(r, spec, "peak_hour", false, 0, 24, &peak)) ||
        (rc = read_clock(r, spec, c, &k)))
        return rc;
    for (int i = 0; i < 12; i++)
        if (lo[i] > hi[i]) {
            size_t m = pgi_jr_push_key(r, "lows");
            size_t mi = pgi_jr_push_index(r, (size_t)i);
            rc = pgi_jr_fail(r, PG_EPARSE, "the low (%g C) is above the month's high (%g C)", lo[i],
                             hi[i]);
            pgi_jr_pop(r, mi);
            pgi_jr_pop(r, m);
            return rc;
        }
    size_t m = subsamples(k.step);
    for (size_t i = 0; i < k.n; i++) {
        double a = clock_at(&k, i), sum = 0;
        for (size_t j = 0; j < m; j++) {
            double H = a + k.step * ((double)j + 0.5) / (double)m;
            double x = fmod(H, 8760) / 24, hour = fmod(H, 24);
            double th = monthly(hi, x), tl = monthly(lo, x);
            sum += (th + tl) / 2 + (th - tl) / 2 * cos(2 * PI * (hour - peak) / 24);
        }
        v[i] = sum / (double)m;
    }
    return PG_OK;
}

/* ---------------------------------------------------------------- the table */

static const pgi_series_model models[] = {
    {"clear-sky-pv", "PV output under a clear sky (optionally with cloudy days), kW",
     fill_clear_sky_pv},
    {"offgrid-household", "the load of a solar-home-system household, kW", fill_offgrid_household},
    {"daily-profile", "24 hourly values repeated every day", fill_daily_profile},
    {"temperature", "outdoor temperature from monthly normal highs and lows, C", fill_temperature},
};

static const char *const model_names[] = {"clear-sky-pv", "offgrid-household", "daily-profile",
                                          "temperature", NULL};

const char *const *
pgi_series_models(void)
{
    return model_names;
}

const pgi_series_model *
pgi_series_model_find(const char *name)
{
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++)
        if (strcmp(models[i].name, name) == 0)
            return &models[i];
    return NULL;
}
