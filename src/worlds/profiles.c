/* The time series of generated worlds: how much a household, a shop, a data centre or an
 * off-grid village draws hour by hour, and how much of a PV array's rating the sun makes
 * available.
 *
 * Households and commerce follow profiles SHAPED AFTER the German standard load profiles H0 and
 * G0; they are not the published tables (see below) ("Repräsentative
 * VDEW-Lastprofile", VDEW M-28/99, 1999, and "Anwendung der Repräsentativen VDEW-Lastprofile
 * step-by-step", VDEW M-05/2000): a day curve in W per 1000 kWh of annual consumption for each
 * of three seasons (winter 1 Nov - 20 Mar, summer 15 May - 14 Sep, transition the rest) and three
 * day types (workday, Saturday, Sunday and holiday; 24 and 31 December count as Saturdays), and,
 * for H0 only, the dynamization factor F(t) = -3.92e-10 t^4 + 3.2e-7 t^3 - 7.02e-5 t^2
 * + 2.1e-3 t + 1.24 of day t = 1..365 applied to every value of that day. The tables here are
 * NOT BDEW's published values: they are hourly values in whole watts written to follow the
 * published day curves' shape (night trough, midday and evening peaks, seasons, weekends), so a
 * series made from them is "shaped after BDEW H0/G0 (VDEW 1999)", never the standard profile
 * itself. The season/day-type calendar and the dynamization polynomial are the published rules.
 * The year they make is scaled to exactly 1000 kWh, as the published tables are. The calendar is that of
 * a non-leap year starting on a Monday (2018), with the nationwide German fixed holidays (1 Jan,
 * 1 May, 3 Oct, 25 and 26 Dec) counted as Sundays.
 *
 * PV is the Haurwitz clear-sky global horizontal irradiance (Haurwitz 1945; G = 1098 cos(z)
 * exp(-0.057 / cos(z)) W/m^2, z the solar zenith angle from Cooper's declination and the hour
 * angle at local solar time) per 1000 W/m^2, times a daily clearness index drawn for each day,
 * capped at 1. The data centre is a flat IT load with a cooling load that follows the afternoon
 * heat; the off-grid village has the evening lighting peak of rural mini-grid demand with HOMER's
 * day-to-day and hour-to-hour random variability. With a data folder, households are instead the
 * measured non-shiftable load of one of the 17 CityLearn 2022 homes (Fontana, California), each
 * series divided by that home's annual peak. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "worlds/internal.h"

#define HOURS_YEAR 8760
#define CITYLEARN_HOMES 17
/* The CityLearn rows start at 00:00 of 1 August (day 212 of a non-leap year, 0-based). */
#define CITYLEARN_FIRST_DAY 212

struct pgi_profiles {
    size_t n_homes;
    double *homes; /* [home * HOURS_YEAR + hour of the data set], each divided by its peak */
    double h0_scale, g0_scale; /* table value (W) x scale = multiplier of the annual peak */
    double h0_peak_w, g0_peak_w;
};

/* ---------------------------------------------------------------- calendar */

enum { SEASON_WINTER = 0, SEASON_SUMMER = 1, SEASON_TRANSITION = 2 };
enum { DAY_WORKDAY = 0, DAY_SATURDAY = 1, DAY_SUNDAY = 2 };

static const int month_start[13] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365};

static void
day_to_date(int doy, int *month, int *mday)
{
    int m = 0;
    while (m < 11 && doy >= month_start[m + 1])
        m++;
    *month = m + 1;
    *mday = doy - month_start[m] + 1;
}

static int
season_of(int doy)
{
    int month, mday;
    day_to_date(doy, &month, &mday);
    int md = month * 100 + mday;
    if (md >= 1101 || md <= 320)
        return SEASON_WINTER;
    if (md >= 515 && md <= 914)
        return SEASON_SUMMER;
    return SEASON_TRANSITION;
}

static int
daytype_of(int doy)
{
    int month, mday;
    day_to_date(doy, &month, &mday);
    int md = month * 100 + mday;
    int weekday = doy % 7; /* 0 = Monday: 1 January 2018 was a Monday */
    if (md == 101 || md == 501 || md == 1003 || md == 1225 || md == 1226 || weekday == 6)
        return DAY_SUNDAY;
    if (md == 1224 || md == 1231 || weekday == 5)
        return DAY_SATURDAY;
    return DAY_WORKDAY;
}

/* The H0 dynamization factor of day doy (0-based), rounded to four places as the rule says. */
static double
h0_dynamization(int doy)
{
    double t = doy + 1;
    double f = -3.92e-10 * t * t * t * t + 3.2e-7 * t * t * t - 7.02e-5 * t * t + 2.1e-3 * t + 1.24;
    return round(f * 1e4) / 1e4;
}

/* ---------------------------------------------------------------- H0/G0-shaped tables */

/* Written to follow the shape of BDEW's H0 and G0 day curves; not the published values.
 * W per 1000 kWh/a, hour 0 = 00:00-01:00; [season][day type][hour]. */
static const double h0_table[3][3][24] = {
    {/* winter */
     {65,  45,  39,  37,  37,  41,  60,  88,  100, 104, 107, 117,
      130, 121, 107, 100, 103, 126, 157, 170, 162, 146, 127, 95},
     {72,  50,  42,  39,  38,  39,  47,  67,  97,  118, 128, 133,
      140, 135, 122, 113, 113, 130, 155, 166, 160, 148, 132, 104},
     {78,  57,  46,  41,  39,  38,  41,  52,  78,  110, 130, 145,
      157, 140, 118, 108, 109, 126, 150, 161, 152, 138, 119, 92}},
    {/* summer */
     {62,  45,  38, 36, 36, 38, 53,  76,  86,  91,  95,  104,
      116, 108, 95, 88, 88, 98, 116, 126, 130, 131, 120, 92},
     {66,  48,  40,  37, 36, 36,  41,  57,  83,  101, 110, 115,
      121, 116, 104, 96, 95, 103, 117, 124, 127, 128, 120, 96},
     {72,  53,  43,  38, 36, 35, 37,  45,  67,  94,  110, 123,
      134, 120, 101, 92, 90, 98, 113, 121, 124, 125, 114, 88}},
    {/* transition */
     {64,  45,  39,  37, 37, 40,  58,  84,  95,  99,  102, 112,
      124, 116, 102, 95, 97, 113, 139, 152, 152, 142, 124, 93},
     {70,  49,  41,  38,  37,  38,  45,  64,  93,  112, 121, 126,
      133, 128, 115, 106, 106, 119, 140, 150, 150, 142, 128, 101},
     {76,  55,  45,  40,  38,  37,  40,  50,  75,  104, 122, 136,
      148, 132, 111, 101, 101, 115, 136, 146, 142, 133, 116, 90}},
};

static const double g0_table[3][3][24] = {
    {/* winter */
     {72,  68,  66,  65,  66,  72,  90,  125, 165, 185, 192, 193,
      185, 180, 180, 176, 165, 145, 125, 110, 100, 92,  84,  77},
     {74,  70,  68,  67, 67, 70, 78, 92, 112, 128, 136, 138,
      133, 120, 105, 95, 90, 88, 87, 85, 82,  80,  78,  75},
     {72, 69, 67, 66, 66, 67, 68, 70, 74, 80, 84, 86,
      85, 80, 76, 74, 74, 76, 78, 78, 76, 74, 72, 70}},
    {/* summer */
     {68,  64,  62,  62,  62,  66,  82,  115, 152, 170, 178, 180,
      174, 170, 170, 165, 155, 135, 112, 97,  88,  82,  76,  71},
     {70,  66,  64, 63, 63, 64, 70, 84, 104, 118, 126, 128,
      124, 112, 98, 88, 82, 79, 77, 75, 74,  73,  72,  70},
     {68, 65, 63, 62, 62, 62, 63, 65, 69, 74, 78, 80,
      79, 75, 71, 69, 68, 69, 70, 70, 69, 68, 67, 66}},
    {/* transition */
     {70,  66,  64,  63,  64,  69,  86,  120, 159, 178, 185, 187,
      180, 175, 175, 171, 160, 140, 119, 104, 94,  87,  80,  74},
     {72,  68,  66,  65, 65, 67, 74, 88, 108, 123, 131, 133,
      129, 116, 102, 92, 86, 84, 82, 80, 78,  77,  75,  73},
     {70, 67, 65, 64, 64, 65, 66, 68, 72, 77, 81, 83,
      82, 78, 74, 72, 71, 73, 74, 74, 73, 71, 70, 68}},
};

/* The table value of hour h (0..8759) of the year, W, dynamization applied for H0. */
static double
bdew_w(const double (*table)[3][24], bool dynamic, size_t h)
{
    int doy = (int)(h / 24);
    double v = table[season_of(doy)][daytype_of(doy)][h % 24];
    return dynamic ? v * h0_dynamization(doy) : v;
}

/* Sets *scale so that the year of the table sums to 1000 kWh, and *peak_w to its peak (scaled). */
static void
bdew_normalise(const double (*table)[3][24], bool dynamic, double *scale, double *peak_w)
{
    double sum_wh = 0, peak = 0;
    for (size_t h = 0; h < HOURS_YEAR; h++) {
        double v = bdew_w(table, dynamic, h);
        sum_wh += v;
        if (v > peak)
            peak = v;
    }
    double s = 1e6 / sum_wh; /* 1000 kWh = 1e6 Wh */
    *scale = s;
    *peak_w = peak * s;
}

double
pgi_profile_full_load_hours(const pgi_profiles *p, pgi_profile_kind kind)
{
    if (kind == PGI_PROFILE_HOUSEHOLD)
        return 1e6 / p->h0_peak_w;
    if (kind == PGI_PROFILE_COMMERCIAL)
        return 1e6 / p->g0_peak_w;
    return NAN;
}

/* ---------------------------------------------------------------- clear-sky PV */

/* Haurwitz clear-sky global horizontal irradiance, W/m^2, at hour t (solar time, continuous, 0 =
 * midnight of day doy) and latitude lat_deg. */
static double
haurwitz(int doy, double t, double lat_deg)
{
    const double d2r = M_PI / 180.0;
    double decl = 23.45 * d2r * sin(2.0 * M_PI * (284.0 + (doy + 1)) / 365.0);
    double omega = 15.0 * d2r * (t - 12.0);
    double lat = lat_deg * d2r;
    double cz = sin(lat) * sin(decl) + cos(lat) * cos(decl) * cos(omega);
    if (cz <= 0.0)
        return 0.0;
    return 1098.0 * cz * exp(-0.057 / cz);
}

/* A daily clearness index in (0, 1]: clear days (k in 0.8..1) with probability 0.55, otherwise
 * cloudy (k in 0.15..0.8), the bimodal shape of daily clearness distributions (Liu and Jordan
 * 1960; Hollands and Huget 1983). */
static double
draw_clearness(pg_rng *rng)
{
    double u = pg_rng_uniform(rng);
    double v = pg_rng_uniform(rng);
    return u < 0.55 ? 0.8 + 0.2 * v : 0.15 + 0.65 * v;
}

/* ---------------------------------------------------------------- other shapes */

/* Off-grid village demand per hour, fraction of the peak hour: evening lighting peak, morning
 * shoulder, daytime productive use (the shape of the rural community loads of ESMAP's mini-grid
 * reports and HOMER's community load). */
static const double village_shape[24] = {0.15, 0.12, 0.10, 0.10, 0.12, 0.22, 0.38, 0.36,
                                         0.32, 0.32, 0.34, 0.36, 0.38, 0.36, 0.34, 0.34,
                                         0.38, 0.52, 0.82, 1.00, 0.95, 0.75, 0.45, 0.25};

/* ---------------------------------------------------------------- CityLearn homes */

/* Reads column "non_shiftable_load" of one Building_N.csv into v[HOURS_YEAR]. */
static int
read_home(const char *path, double *v, pg_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = pg_input_read(path, 0, &text, &len, err);
    if (rc != PG_OK)
        return rc;
    const char *s = text;
    const char *eol = strchr(s, '\n');
    int col = -1;
    {
        int c = 0;
        const char *f = s;
        while (f && (!eol || f < eol)) {
            const char *comma = strpbrk(f, ",\n");
            size_t flen = comma ? (size_t)(comma - f) : strlen(f);
            if (flen && f[flen - 1] == '\r')
                flen--;
            if (flen == strlen("non_shiftable_load") &&
                memcmp(f, "non_shiftable_load", flen) == 0) {
                col = c;
                break;
            }
            if (!comma || *comma == '\n')
                break;
            f = comma + 1;
            c++;
        }
    }
    if (col < 0) {
        rc = pg_error_set(err, PG_EPARSE, "%s: line 1: no column 'non_shiftable_load'", path);
        goto out;
    }
    size_t row = 0;
    s = eol ? eol + 1 : s + strlen(s);
    while (*s && row < HOURS_YEAR) {
        const char *f = s;
        for (int c = 0; c < col && f; c++) {
            f = strpbrk(f, ",\n");
            if (f && *f == '\n')
                f = NULL;
            else if (f)
                f++;
        }
        char *end = NULL;
        double x = f ? strtod(f, &end) : NAN;
        if (!f || end == f || !isfinite(x) || x < 0) {
            rc = pg_error_set(err, PG_EPARSE,
                              "%s: line %zu: non_shiftable_load is not a number >= 0", path,
                              row + 2);
            goto out;
        }
        v[row++] = x;
        const char *nl = strchr(s, '\n');
        s = nl ? nl + 1 : s + strlen(s);
    }
    if (row != HOURS_YEAR) {
        rc = pg_error_set(err, PG_EPARSE, "%s: %zu rows of data, expected %d (one year, hourly)",
                          path, row, HOURS_YEAR);
        goto out;
    }
    double peak = 0;
    for (size_t i = 0; i < HOURS_YEAR; i++)
        if (v[i] > peak)
            peak = v[i];
    if (!(peak > 0)) {
        rc = pg_error_set(err, PG_EPARSE, "%s: non_shiftable_load is zero all year", path);
        goto out;
    }
    for (size_t i = 0; i < HOURS_YEAR; i++)
        v[i] /= peak;
    rc = PG_OK;
out:
    free(text);
    return rc;
}

int
pgi_profiles_open(pgi_profiles **out, const char *data_dir, pg_error *err)
{
    int rc = PG_OK;
    char *dir = NULL, *path = NULL;
    pgi_profiles *p = calloc(1, sizeof *p);
    if (!p)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    bdew_normalise(h0_table, true, &p->h0_scale, &p->h0_peak_w);
    bdew_normalise(g0_table, false, &p->g0_scale, &p->g0_peak_w);
    if (data_dir) {
        dir = pgi_path_join(data_dir, "citylearn-2022-fontana");
        p->homes = malloc(sizeof(double) * CITYLEARN_HOMES * HOURS_YEAR);
        if (!dir || !p->homes) {
            rc = pg_error_set(err, PG_ENOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < CITYLEARN_HOMES; i++) {
            char name[32];
            snprintf(name, sizeof name, "Building_%zu.csv", i + 1);
            free(path);
            path = pgi_path_join(dir, name);
            if (!path) {
                rc = pg_error_set(err, PG_ENOMEM, "out of memory");
                goto out;
            }
            rc = read_home(path, p->homes + i * HOURS_YEAR, err);
            if (rc != PG_OK)
                goto out;
        }
        p->n_homes = CITYLEARN_HOMES;
    }
out:
    free(dir);
    free(path);
    if (rc != PG_OK) {
        pgi_profiles_free(p);
        return rc;
    }
    *out = p;
    return PG_OK;
}

void
pgi_profiles_free(pgi_profiles *p)
{
    if (!p)
        return;
    free(p->homes);
    free(p);
}

/* ---------------------------------------------------------------- series */

/* Sub-samples per step: every quarter hour of the step, at least one. */
static size_t
subsamples(double step_h)
{
    double m = ceil(step_h / 0.25 - 1e-9);
    return m < 1 ? 1 : (size_t)m;
}

int
pgi_profile(const pgi_profiles *p, const pgi_profile_request *rq, pg_rng *rng, double *out,
            pg_error *err)
{
    if (!p || !rq || !rng || !out)
        return pg_error_set(err, PG_EINVAL, "profile: missing argument");
    if (rq->n == 0 || rq->n > PG_MAX_STEPS)
        return pg_error_set(err, PG_EINVAL, "profile: %zu steps (1 to %d)", rq->n, PG_MAX_STEPS);
    if (!(rq->step_h > 0) || rq->step_h > 24 || rq->day_of_year < 0 || rq->day_of_year > 364)
        return pg_error_set(err, PG_EINVAL, "profile: step %g h or day %d out of range", rq->step_h,
                            rq->day_of_year);
    if (rq->kind < PGI_PROFILE_HOUSEHOLD || rq->kind > PGI_PROFILE_VILLAGE)
        return pg_error_set(err, PG_EINVAL, "profile: unknown kind %d", (int)rq->kind);
    if (rq->kind == PGI_PROFILE_PV && !(fabs(rq->latitude_deg) <= 66))
        return pg_error_set(err, PG_EINVAL, "profile: latitude %g outside -66..66 degrees",
                            rq->latitude_deg);

    size_t home = 0;
    bool measured = rq->kind == PGI_PROFILE_HOUSEHOLD && p->n_homes > 0;
    if (measured)
        home = pg_rng_below(rng, p->n_homes);
    /* Per-day random factors, drawn in day order as days are first reached. */
    int last_day = -1;
    double day_k = 1.0, day_f = 1.0, hour_noise[24] = {0};

    size_t m = subsamples(rq->step_h);
    double t0 = rq->day_of_year * 24.0;
    for (size_t k = 0; k < rq->n; k++) {
        double acc = 0;
        for (size_t j = 0; j < m; j++) {
            double t = t0 + k * rq->step_h + (j + 0.5) * rq->step_h / (double)m;
            t = fmod(t, (double)HOURS_YEAR);
            size_t h = (size_t)t;
            if (h >= HOURS_YEAR)
                h = HOURS_YEAR - 1;
            int doy = (int)(h / 24);
            if (doy != last_day) {
                last_day = doy;
                if (rq->kind == PGI_PROFILE_PV) {
                    day_k = draw_clearness(rng);
                } else if (rq->kind == PGI_PROFILE_VILLAGE) {
                    /* HOMER's random variability: day-to-day 10 %, timestep 15 %. */
                    day_f = 1.0 + 0.10 * pg_rng_normal(rng);
                    for (int i = 0; i < 24; i++)
                        hour_noise[i] = 0.15 * pg_rng_normal(rng);
                } else if (rq->kind == PGI_PROFILE_DATACENTER) {
                    for (int i = 0; i < 24; i++)
                        hour_noise[i] = 0.01 * pg_rng_normal(rng);
                }
            }
            double v = 0;
            switch (rq->kind) {
            case PGI_PROFILE_HOUSEHOLD:
                if (measured) {
                    size_t row = ((size_t)(doy + 365 - CITYLEARN_FIRST_DAY) % 365) * 24 + h % 24;
                    v = p->homes[home * HOURS_YEAR + row];
                } else {
                    v = bdew_w(h0_table, true, h) * p->h0_scale / p->h0_peak_w;
                }
                break;
            case PGI_PROFILE_COMMERCIAL:
                v = bdew_w(g0_table, false, h) * p->g0_scale / p->g0_peak_w;
                break;
            case PGI_PROFILE_DATACENTER: {
                /* IT at PUE 1.4 (0.714 of the peak) plus cooling (0.286) swinging +-20 % with the
                 * afternoon heat (warmest at 15:00). */
                double hod = fmod(t, 24.0);
                double cooling = 0.2857 * (0.8 + 0.2 * cos(2.0 * M_PI * (hod - 15.0) / 24.0));
                v = (0.7143 + cooling) * (1.0 + hour_noise[h % 24]);
                break;
            }
            case PGI_PROFILE_PV:
                v = day_k * haurwitz(doy, fmod(t, 24.0), rq->latitude_deg) / 1000.0;
                break;
            case PGI_PROFILE_VILLAGE:
                v = village_shape[h % 24] * day_f * (1.0 + hour_noise[h % 24]) / 1.25;
                break;
            }
            if (v < 0)
                v = 0;
            if (v > 1)
                v = 1;
            acc += v;
        }
        out[k] = acc / (double)m;
    }
    return PG_OK;
}
