/* The profiles of generated worlds against closed forms: the BDEW H0 year holds 1000 kWh and
 * follows the dynamization polynomial day by day, G0 holds 1000 kWh without it, seasons and day
 * types pick their tables; PV is zero at night and never above the Haurwitz clear sky; the
 * measured CityLearn homes are the CSV's values divided by the home's peak; every family is
 * deterministic in its generator and refuses bad requests. */
#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "worlds/internal.h"

static pgi_profiles *
open_profiles(const char *data_dir)
{
    pgi_profiles *p = NULL;
    pg_error err = {0};
    int rc = pgi_profiles_open(&p, data_dir, &err);
    if (rc) {
        char buf[1200];
        fail_msg("%s", pg_error_format(&err, buf, sizeof buf));
    }
    return p;
}

static double *
year_of(const pgi_profiles *p, pgi_profile_kind kind, double step_h, double lat, uint64_t seed)
{
    size_t n = (size_t)(8760 / step_h);
    double *v = malloc(sizeof(double) * n);
    assert_non_null(v);
    pgi_profile_request rq = {kind, n, step_h, 0, lat};
    pg_rng rng;
    pg_rng_seed(&rng, seed, 0);
    pg_error err = {0};
    assert_int_equal(pgi_profile(p, &rq, &rng, v, &err), PG_OK);
    return v;
}

static double
h0_f(int doy)
{
    double t = doy + 1;
    double f = -3.92e-10 * pow(t, 4) + 3.2e-7 * pow(t, 3) - 7.02e-5 * t * t + 2.1e-3 * t + 1.24;
    return round(f * 1e4) / 1e4;
}

/* H0: the year sums to 1000 kWh (full-load hours x peak), its peak is 1, two winter workdays
 * differ exactly by their dynamization factors, and Saturday, Sunday and a holiday differ from a
 * workday. G0: 1000 kWh too, and no dynamization. */
static void
test_bdew_normalisation_and_dynamization(void **state)
{
    (void)state;
    pgi_profiles *p = open_profiles(NULL);
    for (int k = 0; k < 2; k++) {
        pgi_profile_kind kind = k ? PGI_PROFILE_COMMERCIAL : PGI_PROFILE_HOUSEHOLD;
        double *v = year_of(p, kind, 1.0, 0, 1);
        double sum = 0, peak = 0;
        for (size_t i = 0; i < 8760; i++) {
            sum += v[i];
            peak = fmax(peak, v[i]);
            assert_true(v[i] > 0 && v[i] <= 1);
        }
        double flh = pgi_profile_full_load_hours(p, kind);
        print_message("%s: full-load hours %.1f, sum %.6f\n", k ? "G0" : "H0", flh, sum);
        assert_near(sum, flh, 1e-9 * flh);
        assert_near(peak, 1.0, 0);
        /* Typical full-load hours of the standard profiles (annual energy / peak). */
        assert_true(flh > (k ? 4000 : 3000) && flh < (k ? 7000 : 5500));
        /* Tuesday 9 January (day 8) and Tuesday 20 February (day 50), both winter workdays. */
        for (int h = 0; h < 24; h++) {
            double ratio = v[8 * 24 + h] / v[50 * 24 + h];
            assert_near(ratio, k ? 1.0 : h0_f(8) / h0_f(50), 1e-12);
        }
        /* Saturday 6 January (day 5), Sunday 7 January (day 6), 1 January (holiday, day 0) and a
         * workday (day 8): Sunday's table for the holiday, another for Saturday. */
        double sat = v[5 * 24 + 12], sun = v[6 * 24 + 12], hol = v[0 * 24 + 12];
        double wd = v[8 * 24 + 12];
        double fsat = k ? 1 : h0_f(5), fsun = k ? 1 : h0_f(6), fhol = k ? 1 : h0_f(0);
        double fwd = k ? 1 : h0_f(8);
        assert_near(hol / fhol, sun / fsun, 1e-12);
        assert_true(fabs(sat / fsat - wd / fwd) > 1e-6);
        assert_true(fabs(sun / fsun - wd / fwd) > 1e-6);
        /* A summer workday (Tuesday 3 July, day 183) uses the summer table. */
        assert_true(fabs(v[183 * 24 + 12] / (k ? 1 : h0_f(183)) - wd / fwd) > 1e-6);
        /* Quarter-hour steps: each hour's four quarters equal the hour (hourly tables). */
        double *q = year_of(p, kind, 0.25, 0, 1);
        for (size_t i = 0; i < 8760 * 4; i++)
            assert_near(q[i], v[i / 4], 0);
        free(q);
        free(v);
    }
    pgi_profiles_free(p);
}

static double
haurwitz_ghi(int doy, double t, double lat_deg)
{
    double d2r = M_PI / 180;
    double decl = 23.45 * d2r * sin(2 * M_PI * (284.0 + doy + 1) / 365);
    double cz =
        sin(lat_deg * d2r) * sin(decl) + cos(lat_deg * d2r) * cos(decl) * cos(15 * d2r * (t - 12));
    return cz > 0 ? 1098 * cz * exp(-0.057 / cz) : 0;
}

/* PV is 0 when the sun is down and never above the clear sky (at quarter-hour steps, each step
 * is the value at its midpoint); clear days come close to it; the capacity factor is that of
 * fixed PV at the latitude. */
static void
test_pv_night_and_clear_sky(void **state)
{
    (void)state;
    pgi_profiles *p = open_profiles(NULL);
    const double lats[] = {0, 23.5, 48, -33.9, 60};
    for (size_t l = 0; l < sizeof lats / sizeof lats[0]; l++) {
        for (uint64_t seed = 1; seed <= 3; seed++) {
            double *v = year_of(p, PGI_PROFILE_PV, 0.25, lats[l], seed);
            double energy = 0, best_ratio = 0;
            for (size_t i = 0; i < 8760 * 4; i++) {
                int doy = (int)(i / 96);
                double t = (i % 96) * 0.25 + 0.125;
                double clear = fmin(1.0, haurwitz_ghi(doy, t, lats[l]) / 1000);
                assert_true(v[i] >= 0);
                assert_true(v[i] <= clear + 1e-12);
                if (clear == 0)
                    assert_true(v[i] == 0);
                if (clear > 0.3)
                    best_ratio = fmax(best_ratio, v[i] / clear);
                energy += v[i] * 0.25;
            }
            double cf = energy / 8760;
            if (seed == 1)
                print_message("PV at latitude %g: capacity factor %.3f\n", lats[l], cf);
            assert_true(cf > 0.08 && cf < 0.30);
            assert_true(best_ratio > 0.95);
            free(v);
        }
    }
    /* Midnight and noon in June at 48 N, hourly. */
    pgi_profile_request rq = {PGI_PROFILE_PV, 24, 1.0, 171, 48};
    double d[24];
    pg_rng rng;
    pg_rng_seed(&rng, 7, 0);
    pg_error err = {0};
    assert_int_equal(pgi_profile(p, &rq, &rng, d, &err), PG_OK);
    assert_true(d[0] == 0 && d[1] == 0 && d[23] == 0);
    assert_true(d[12] > 0.1);
    pgi_profiles_free(p);
}

/* The measured homes: every household series is one home's non_shiftable_load column divided by
 * that home's annual peak, hour by hour from the CSV row of the requested day. */
static void
test_citylearn_values_equal_the_csv(void **state)
{
    (void)state;
    pgi_profiles *p = open_profiles(pgt_data_dir());
    double *cols[17];
    double peaks[17];
    for (int b = 0; b < 17; b++) {
        char rel[96];
        snprintf(rel, sizeof rel, "citylearn-2022-fontana/Building_%d.csv", b + 1);
        size_t ncols = 0;
        double *vals = NULL;
        char **header = NULL;
        size_t rows = pgt_read_csv(pgt_data_path(rel), &ncols, &vals, &header);
        assert_int_equal(rows, 8760);
        size_t c = ncols;
        for (size_t j = 0; j < ncols; j++)
            if (strcmp(header[j], "non_shiftable_load") == 0)
                c = j;
        assert_true(c < ncols);
        cols[b] = malloc(sizeof(double) * 8760);
        assert_non_null(cols[b]);
        peaks[b] = 0;
        for (size_t i = 0; i < 8760; i++) {
            cols[b][i] = vals[i * ncols + c];
            peaks[b] = fmax(peaks[b], cols[b][i]);
        }
        free(vals);
        pgt_free_header(header, ncols);
    }
    bool seen[17] = {false};
    for (uint64_t seed = 1; seed <= 60; seed++) {
        /* 48 hours from day d: CSV row (d - 212 mod 365) * 24 (the data starts on 1 August). */
        int day = (int)((seed * 37) % 365);
        pgi_profile_request rq = {PGI_PROFILE_HOUSEHOLD, 48, 1.0, day, 0};
        double v[48];
        pg_rng rng;
        pg_rng_seed(&rng, seed, 0);
        pg_error err = {0};
        assert_int_equal(pgi_profile(p, &rq, &rng, v, &err), PG_OK);
        int match = -1;
        for (int b = 0; b < 17 && match < 0; b++) {
            bool all = true;
            for (size_t i = 0; i < 48 && all; i++) {
                size_t row = ((size_t)(day + 365 - 212) % 365 * 24 + i) % 8760;
                all = v[i] == cols[b][row] / peaks[b];
            }
            if (all)
                match = b;
        }
        assert_true(match >= 0);
        seen[match] = true;
    }
    int n_seen = 0;
    for (int b = 0; b < 17; b++)
        n_seen += seen[b];
    assert_true(n_seen >= 12); /* homes are drawn, not always the same */
    for (int b = 0; b < 17; b++)
        free(cols[b]);
    pgi_profiles_free(p);
}

/* The village peaks in the evening, the data centre is nearly flat; every family stays in [0, 1]
 * and is the same for the same generator state. */
static void
test_shapes_and_determinism(void **state)
{
    (void)state;
    pgi_profiles *p = open_profiles(NULL);
    double *vil = year_of(p, PGI_PROFILE_VILLAGE, 1.0, 0, 3);
    double eve = 0, night = 0;
    for (size_t d = 0; d < 365; d++) {
        eve += vil[d * 24 + 19];
        night += vil[d * 24 + 3];
    }
    assert_true(eve > 5 * night);
    double *dc = year_of(p, PGI_PROFILE_DATACENTER, 1.0, 0, 3);
    for (size_t i = 0; i < 8760; i++) {
        assert_true(vil[i] >= 0 && vil[i] <= 1);
        assert_true(dc[i] > 0.85 && dc[i] <= 1);
    }
    for (int kind = 0; kind <= PGI_PROFILE_VILLAGE; kind++) {
        double *a = year_of(p, (pgi_profile_kind)kind, 0.5, 40, 11);
        double *b = year_of(p, (pgi_profile_kind)kind, 0.5, 40, 11);
        assert_memory_equal(a, b, sizeof(double) * 8760 * 2);
        free(a);
        free(b);
    }
    free(vil);
    free(dc);
    pgi_profiles_free(p);
}

/* Bad requests and a data folder without the homes are refused with a message. */
static void
test_refusals(void **state)
{
    (void)state;
    pgi_profiles *p = open_profiles(NULL);
    double v[4];
    pg_rng rng;
    pg_rng_seed(&rng, 1, 0);
    pg_error err = {0};
    pgi_profile_request bad[] = {
        {PGI_PROFILE_HOUSEHOLD, 0, 1.0, 0, 0},   {PGI_PROFILE_HOUSEHOLD, 4, 0.0, 0, 0},
        {PGI_PROFILE_HOUSEHOLD, 4, 1.0, 365, 0}, {PGI_PROFILE_PV, 4, 1.0, 0, 80},
        {(pgi_profile_kind)9, 4, 1.0, 0, 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(pgi_profile(p, &bad[i], &rng, v, &err), PG_EINVAL);
    pgi_profiles_free(p);

    pgi_profiles *q = NULL;
    int rc = pgi_profiles_open(&q, pgt_tmpdir(), &err);
    assert_int_not_equal(rc, PG_OK);
    assert_null(q);
    char buf[1200];
    assert_non_null(strstr(pg_error_format(&err, buf, sizeof buf), "Building_1.csv"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bdew_normalisation_and_dynamization),
        cmocka_unit_test(test_pv_night_and_clear_sky),
        cmocka_unit_test(test_citylearn_values_equal_the_csv),
        cmocka_unit_test(test_shapes_and_determinism),
        cmocka_unit_test_teardown(test_refusals, pgt_teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
