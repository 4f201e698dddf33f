/* The two community examples (examples/scenario0/, examples/offgrid-village/) read and run, and
 * are wired to their data as their READMEs say: scenario 0's homes each read their own building
 * file, with PV scaled by the home's nominal power from pv_nominal_power.csv, checked against the
 * CSV files themselves, and its demand-response events measured as docs/community.md says; a
 * missing data folder names the data set and --data; the village runs from its models alone and
 * rents packs. */
#include "harness.h"

#include <sys/stat.h>
#include <unistd.h>

#include "plurigrid/community.h"

#define FONTANA "citylearn-2022-fontana"

/* Sum over the first rows of a column of a CSV file of the data set. */
static double
csv_sum(const char *file, const char *column, size_t rows)
{
    size_t ncols = 0;
    double *v = NULL;
    char **header = NULL;
    char rel[256];
    snprintf(rel, sizeof rel, FONTANA "/%s", file);
    size_t n = pgt_read_csv(pgt_data_path(rel), &ncols, &v, &header);
    size_t c = pgt_csv_col(header, ncols, column);
    assert_true(n >= rows);
    double s = 0;
    for (size_t i = 0; i < rows; i++)
        s += v[i * ncols + c];
    free(v);
    pgt_free_header(header, ncols);
    return s;
}

static void
test_scenario0_wiring(void **state)
{
    (void)state;
    pg_community_options o;
    pg_community_options_init(&o);
    o.data_dir = pgt_data_path(FONTANA);
    o.days = 2;
    o.start_day = 100;
    pg_community *c = NULL;
    pg_community_report *r = NULL;
    pg_error err = {0};
    if (pg_community_read(&c, pgt_source_path("examples/scenario0/scenario.json"), &o, &err) ||
        pg_community_run_all(c, &o, &r, &err))
        fail_msg("%s:%d: %s: %s", err.file, err.line, err.path, err.msg);
    assert_int_equal(pg_community_n_nodes(c), 17);
    assert_int_equal(pg_community_n_intervals(c), 48);
    assert_int_equal(r->n_variants, 2);
    assert_string_equal(r->variants[0].name, "as-measured");
    assert_string_equal(r->variants[1].name, "with-devices");
    /* Each home's load and PV, from its own file: days 100 and 101 are rows 2400 to 2447. */
    static const double kw[17] = {4, 4, 4, 5, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5};
    for (size_t i = 0; i < 17; i++) {
        char file[64];
        snprintf(file, sizeof file, "Building_%zu.csv", i + 1);
        double load =
            csv_sum(file, "non_shiftable_load", 2448) - csv_sum(file, "non_shiftable_load", 2400);
        double pv =
            (csv_sum(file, "solar_generation", 2448) - csv_sum(file, "solar_generation", 2400)) *
            kw[i] / 1000;
        const pg_community_metrics *m = &r->variants[0].baseline.node[i];
        char name[64];
        snprintf(name, sizeof name, "Building_%zu", i + 1);
        assert_string_equal(r->node_names[i], name);
        assert_near(m->load_kwh, load, 1e-9 * (1 + load));
        assert_near(m->pv_kwh, pv, 1e-9 * (1 + pv));
        /* The homes with an EV (2, 4, ..., 16) use more in the variant with devices. */
        const pg_community_metrics *d = &r->variants[1].baseline.node[i];
        if ((i + 1) % 2 == 0 && i + 1 <= 16)
            assert_true(d->load_kwh > load + 5);
        else
            assert_near(d->load_kwh, load, 1e-9 * (1 + load));
        assert_true(d->battery_out_kwh > 0);
        assert_near(m->battery_out_kwh, 0, 0);
    }
    pg_community_report_free(r);
    pg_community_free(c);
}

/* Scenario 0's demand-response events, checked against the CSV files: over the first 18 days the
 * events of 15, 16 and 17 August 2016 (17:00-20:00, every home) are in the run, and the homes as
 * measured have nothing to shift, so in both runs each home's net import during the events is its
 * measured load minus PV over those hours, its reduction against the run without the events is 0,
 * and against the 10-of-10 baseline it is the mean of the same hours on the 10 earlier weekdays
 * without an event (1-5 and 8-12 August for all three) minus the actual. */
static void
test_scenario0_dr_events(void **state)
{
    (void)state;
    pg_community_options o;
    pg_community_options_init(&o);
    o.data_dir = pgt_data_path(FONTANA);
    o.days = 18;
    pg_community *c = NULL;
    pg_community_report *r = NULL;
    pg_error err = {0};
    if (pg_community_read(&c, pgt_source_path("examples/scenario0/scenario.json"), &o, &err) ||
        pg_community_run_all(c, &o, &r, &err))
        fail_msg("%s:%d: %s: %s", err.file, err.line, err.path, err.msg);
    static const double kw[17] = {4, 4, 4, 5, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5};
    static const int event_day[3] = {15, 16, 17}, base_day[10] = {1, 2, 3, 4, 5, 8, 9, 10, 11, 12};
    double community = 0;
    for (size_t i = 0; i < 17; i++) {
        char file[64];
        snprintf(file, sizeof file, FONTANA "/Building_%zu.csv", i + 1);
        size_t ncols = 0;
        double *v = NULL;
        char **header = NULL;
        size_t n = pgt_read_csv(pgt_data_path(file), &ncols, &v, &header);
        assert_true(n >= 8760);
        size_t cl = pgt_csv_col(header, ncols, "non_shiftable_load");
        size_t cp = pgt_csv_col(header, ncols, "solar_generation");
        double actual = 0, baseline = 0;
        for (int e = 0; e < 3; e++)
            for (int h = 17; h < 20; h++) {
                /* the row of August D, hour h: the data starts on 31 July at 23:00 */
                size_t row = (size_t)(event_day[e] - 1) * 24 + (size_t)h + 1;
                actual += v[row * ncols + cl] - v[row * ncols + cp] * kw[i] / 1000;
                for (int d = 0; d < 10; d++) {
                    row = (size_t)(base_day[d] - 1) * 24 + (size_t)h + 1;
                    baseline += (v[row * ncols + cl] - v[row * ncols + cp] * kw[i] / 1000) / 10;
                }
            }
        free(v);
        pgt_free_header(header, ncols);
        const pg_community_run *runs[2] = {&r->variants[0].market, &r->variants[0].baseline};
        for (int k = 0; k < 2; k++) {
            const pg_community_metrics *m = &runs[k]->node[i];
            assert_near(m->dr_event_kwh, actual, 1e-9 * (1 + fabs(actual)));
            assert_near(m->dr_delivered_kwh, baseline - actual, 1e-9 * (1 + fabs(baseline)));
            assert_near(m->dr_delivered_cf_kwh, 0, 1e-9);
        }
        community += actual;
    }
    /* the three hottest evenings: the community imported more than on the baseline days */
    assert_near(r->variants[0].baseline.total.dr_event_kwh, community, 1e-9 * community);
    assert_true(r->variants[0].baseline.total.dr_delivered_kwh < 0);
    /* with devices, the run without the events was played (the reduction is a number) */
    assert_false(isnan(r->variants[1].baseline.total.dr_delivered_cf_kwh));
    pg_community_report_free(r);
    pg_community_free(c);
}

static void
test_scenario0_missing_data(void **state)
{
    (void)state;
    pg_community_options o;
    pg_community_options_init(&o);
    o.data_dir = pgt_tmp("no-such-folder");
    pg_community *c = NULL;
    pg_error err = {0};
    assert_int_equal(
        pg_community_read(&c, pgt_source_path("examples/scenario0/scenario.json"), &o, &err),
        PG_ENOTFOUND);
    assert_null(c);
    assert_non_null(strstr(err.msg, FONTANA));
    assert_non_null(strstr(err.msg, "--data DIR"));
    pgt_tmpdir_cleanup();
}

/* The command on a copy of the data with one missing hour: exit 2, naming the file, the line and
 * the column, even when the run does not reach that hour (every row is checked). */
static void
test_scenario0_missing_hour(void **state)
{
    (void)state;
    char dir[2048], src[4096], dst[4096];
    snprintf(dir, sizeof dir, "%s/data", pgt_tmpdir());
    assert_int_equal(mkdir(dir, 0777), 0);
    const char *data = pgt_data_path(FONTANA);
    for (int i = 0; i <= 17; i++) {
        char name[64];
        if (i)
            snprintf(name, sizeof name, "Building_%d.csv", i);
        else
            snprintf(name, sizeof name, "pricing.csv");
        snprintf(src, sizeof src, "%s/%s", data, name);
        snprintf(dst, sizeof dst, "%s/%s", dir, name);
        if (i == 5) {
            /* Building_5's row of line 1000 loses its load: "m,h,d,0,,,,LOAD,..." */
            size_t len = 0;
            char *text = pgt_slurp(src, &len);
            char *p = text;
            for (int line = 1; line < 1000; line++)
                p = strchr(p, '\n') + 1;
            char *f = p;
            for (int comma = 0; comma < 7; comma++)
                f = strchr(f, ',') + 1;
            char *end = strchr(f, ',');
            memmove(f, end, strlen(end) + 1);
            pgt_write(dst, text);
            free(text);
        } else {
            assert_int_equal(symlink(src, dst), 0);
        }
    }
    const char *args[] = {"community", pgt_source_path("examples/scenario0/scenario.json"),
                          "--data",    dir,
                          "--days",    "1",
                          NULL};
    PGT_EXPECT_CLI(args, 2, "Building_5.csv:1000:", "non_shiftable_load", "is empty",
                   "missing hour");
    pgt_tmpdir_cleanup();
}

static void
test_village(void **state)
{
    (void)state;
    pg_community_options o;
    pg_community_options_init(&o);
    o.days = 60;
    pg_community *c = NULL;
    pg_community_report *r = NULL;
    pg_error err = {0};
    if (pg_community_read(&c, pgt_source_path("examples/offgrid-village/scenario.json"), &o,
                          &err) ||
        pg_community_run_all(c, &o, &r, &err))
        fail_msg("%s:%d: %s: %s", err.file, err.line, err.path, err.msg);
    assert_int_equal(pg_community_n_nodes(c), 22);
    assert_false(r->grid_connected);
    const pg_community_variant *v = &r->variants[0];
    assert_true(v->has_market);
    /* A round every evening (18:00 of each of the 60 days), packs rented. */
    assert_int_equal(v->market.share_rounds, 60);
    assert_true(v->market.share_rented > 0);
    assert_true(v->market.pack_utilisation > 0 && v->market.pack_utilisation <= 1);
    assert_int_equal(v->baseline.share_rented, 0);
    /* The same loads and sun with and without sharing. */
    assert_near(v->market.total.load_kwh, v->baseline.total.load_kwh, 1e-9);
    assert_near(v->market.total.pv_kwh, v->baseline.total.pv_kwh, 1e-9);
    /* Rent paid equals rent received. */
    assert_near(v->market.total.rental_paid, v->market.total.rental_received, 1e-9);
    assert_true(v->market.total.rental_paid > 0);
    pg_community_report_free(r);
    pg_community_free(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenario0_wiring),
        cmocka_unit_test(test_scenario0_dr_events),
        cmocka_unit_test(test_scenario0_missing_data),
        cmocka_unit_test(test_scenario0_missing_hour),
        cmocka_unit_test(test_village),
    };
    return cmocka_run_group_tests(tests, NULL, pgt_teardown_tmpdir);
}
