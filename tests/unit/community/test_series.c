/* The series of community scenarios (src/community/series.h): CSV columns of the real CityLearn
 * 2022 Fontana files checked against the dataset README's figures, windows of a run, bad data files
 * (a missing hour in each of its forms, a missing file or folder) with the messages a newcomer
 * reads, errors in the spec itself, the models (clear-sky PV, the off-grid household, daily
 * profile, temperature) against closed forms and invariants, and every allocation failing. */
#include "harness.h"

#include <limits.h>

#include "community/series.h"

#define FONTANA "citylearn-2022-fontana"

typedef struct run {
    const char *dir; /* data folder */
    size_t first, n;
    double step_h;
    uint64_t seed;
    const char *name;
    double year_hour;
} run;

/* Reads the series spec (JSON text, named "scenario.json" in errors, read at $.series.s). */
static int
read_series(const char *json, const run *u, double **v, pg_error *err)
{
    pgi_jr r;
    pg_error_clear(err);
    int rc = pgi_jr_open(&r, "scenario.json", json, strlen(json), err);
    if (rc)
        return rc;
    json_t *series = json_object_get(r.root, "series");
    json_t *spec = json_object_get(series, "s");
    assert_non_null(spec);
    size_t m1 = pgi_jr_push_key(&r, "series");
    pgi_jr_push_key(&r, "s");
    pgi_series_ctx c = {.data_dir = u->dir,
                        .dataset = "the CityLearn 2022 Fontana dataset",
                        .step_h = u->step_h > 0 ? u->step_h : 1,
                        .first = u->first,
                        .n = u->n,
                        .seed = u->seed,
                        .name = u->name ? u->name : "s",
                        .year_hour = u->year_hour};
    rc = pgi_series_read(&r, spec, &c, v);
    pgi_jr_pop(&r, m1);
    pgi_jr_close(&r);
    return rc;
}

/* The spec {"series": {"s": SPEC}} as text. */
static const char *
doc(const char *spec)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "{\"series\": {\n  \"s\": %s\n}}\n", spec);
    return buf;
}

static double *
must_read(const char *spec, const run *u)
{
    double *v = NULL;
    pg_error err = {0};
    if (read_series(doc(spec), u, &v, &err) != PG_OK)
        fail_msg("%s:%d: %s: %s", err.file, err.line, err.path, err.msg);
    return v;
}

static double
sum(const double *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s;
}

static double
maxv(const double *v, size_t n)
{
    double m = -INFINITY;
    for (size_t i = 0; i < n; i++)
        m = v[i] > m ? v[i] : m;
    return m;
}

static const char *
fontana(void)
{
    return pgt_data_path(FONTANA);
}

/* ---------------------------------------------------------------- CSV: the real files */

static void
test_building1_figures(void **state)
{
    (void)state;
    run u = {.dir = fontana(), .n = 8760};
    double *load = must_read(
        "{\"csv\": {\"file\": \"Building_1.csv\", \"column\": \"non_shiftable_load\", \"rows\": "
        "8760}}",
        &u);
    /* The dataset README: annual load 10,583 kWh, peak hourly load 7.99 kWh. */
    assert_near(sum(load, 8760), 10583, 0.5);
    assert_near(maxv(load, 8760), 7.99, 0.005);
    assert_near(load[0], 2.2758, 1e-12);
    assert_near(load[1], 0.85116667, 1e-12);
    /* Annual specific PV yield 1,803 kWh/kWp: solar_generation is W per kW installed. */
    double *pv = must_read("{\"csv\": {\"file\": \"Building_1.csv\", \"column\": "
                           "\"solar_generation\", \"scale\": 0.001}}",
                           &u);
    assert_near(sum(pv, 8760), 1803, 0.5);
    /* The home's PV in kWh: solar_generation x 4 kW / 1000. */
    double *pv4 = must_read("{\"csv\": {\"file\": \"Building_1.csv\", \"column\": "
                            "\"solar_generation\", \"scale\": 0.004}}",
                            &u);
    for (size_t i = 0; i < 8760; i++)
        assert_near(pv4[i], 4 * pv[i], 1e-12);
    free(load);
    free(pv);
    free(pv4);
}

static void
test_pricing(void **state)
{
    (void)state;
    run u = {.dir = fontana(), .n = 8760};
    double *p = must_read(
        "{\"csv\": {\"file\": \"pricing.csv\", \"column\": \"electricity_pricing\"}}", &u);
    /* Five prices in a time-of-use pattern (README). */
    static const double levels[] = {0.21, 0.22, 0.40, 0.50, 0.54};
    bool seen[5] = {false};
    for (size_t i = 0; i < 8760; i++) {
        size_t k = 0;
        while (k < 5 && fabs(p[i] - levels[k]) > 1e-12)
            k++;
        assert_true(k < 5);
        seen[k] = true;
    }
    for (size_t k = 0; k < 5; k++)
        assert_true(seen[k]);
    /* The _predicted_1 column equals the price 6 rows later. */
    double *p6 = must_read(
        "{\"csv\": {\"file\": \"pricing.csv\", \"column\": \"electricity_pricing_predicted_1\"}}",
        &u);
    for (size_t i = 0; i + 6 < 8760; i++)
        assert_near(p6[i], p[i + 6], 0);
    free(p);
    free(p6);
}

static void
test_window(void **state)
{
    (void)state;
    const char *spec = "{\"csv\": {\"file\": \"Building_7.csv\", \"column\": "
                       "\"non_shiftable_load\", \"scale\": 2}}";
    run all = {.dir = fontana(), .n = 8760};
    double *a = must_read(spec, &all);
    run w = {.dir = fontana(), .first = 24 * 100, .n = 48};
    double *b = must_read(spec, &w);
    for (size_t i = 0; i < 48; i++)
        assert_near(b[i], a[24 * 100 + i], 0);
    /* The last row is the last interval a run may reach. */
    run last = {.dir = fontana(), .first = 8759, .n = 1};
    double *c = must_read(spec, &last);
    assert_near(c[0], a[8759], 0);
    free(a);
    free(b);
    free(c);
    /* One more is a short file for this run: file, line and column named. */
    run past = {.dir = fontana(), .first = 8759, .n = 2};
    double *v = NULL;
    pg_error err = {0};
    assert_int_equal(read_series(doc(spec), &past, &v, &err), PG_EPARSE);
    assert_non_null(strstr(err.file, "Building_7.csv"));
    assert_int_equal(err.line, 8762);
    assert_non_null(strstr(err.msg, "8760 data rows"));
    assert_non_null(strstr(err.msg, "non_shiftable_load"));
    assert_non_null(strstr(err.msg, "rows 8760 to 8761"));
    assert_null(v);
}

/* ---------------------------------------------------------------- CSV: bad files */

static const char *good_csv = "month,hour,load,\"pv\"\n"
                              "1,1,0.5,\"0\"\n"
                              "1,2,0.25,\"12.5\"\n"
                              "1,3, 1e-1 ,\"3\"\r\n"
                              "1,4,2,\"4\"\n";

static void
test_csv_forms(void **state)
{
    (void)state;
    pgt_write(pgt_tmp("ok.csv"), good_csv);
    run u = {.dir = pgt_tmpdir(), .n = 4};
    double *v =
        must_read("{\"csv\": {\"file\": \"ok.csv\", \"column\": \"load\", \"rows\": 4}}", &u);
    assert_near(v[0], 0.5, 0);
    assert_near(v[1], 0.25, 0);
    assert_near(v[2], 0.1, 0);
    assert_near(v[3], 2, 0);
    free(v);
    v = must_read("{\"csv\": {\"file\": \"ok.csv\", \"column\": \"pv\"}}", &u);
    assert_near(v[1], 12.5, 0);
    assert_near(v[3], 4, 0);
    free(v);
    /* Empty lines after the last row are not missing hours. */
    char *text = malloc(strlen(good_csv) + 8);
    strcpy(text, good_csv);
    strcat(text, "\n\r\n\n");
    pgt_write(pgt_tmp("trail.csv"), text);
    free(text);
    v = must_read("{\"csv\": {\"file\": \"trail.csv\", \"column\": \"load\", \"rows\": 4}}", &u);
    assert_near(v[3], 2, 0);
    free(v);
    pgt_tmpdir_cleanup();
}

typedef struct bad_file {
    const char *text;
    const char *column;
    int code;
    int line;
    const char *words;
} bad_file;

static void
test_bad_files(void **state)
{
    (void)state;
    static const bad_file cases[] = {
        /* a missing hour: an empty field */
        {"month,hour,load,pv\n1,1,0.5,0\n1,2,,0\n1,3,1,0\n", "load", PG_EPARSE, 3,
         "the value in the column 'load' (field 3) is empty"},
        /* a missing hour: the row stops before the column */
        {"month,hour,load,pv\n1,1,0.5,0\n1,2\n1,3,1,0\n", "pv", PG_EPARSE, 3,
         "the row has 2 fields, so no value in the column 'pv' (field 4)"},
        /* a missing hour: an empty line between rows */
        {"month,hour,load,pv\n1,1,0.5,0\n\n1,3,1,0\n", "load", PG_EPARSE, 3, "the line is empty"},
        /* not a number */
        {"month,hour,load,pv\n1,1,0.5,0\n1,2,n/a,0\n", "load", PG_EPARSE, 3,
         "the value 'n/a' in the column 'load' (field 3) is not a number"},
        {"month,hour,load,pv\n1,1,nan,0\n", "load", PG_EPARSE, 2, "'nan'"},
        {"month,hour,load,pv\n1,1,inf,0\n", "load", PG_EPARSE, 2, "'inf'"},
        {"month,hour,load,pv\n1,1,0x10,0\n", "load", PG_EPARSE, 2, "'0x10'"},
        {"month,hour,load,pv\n1,1,1e999,0\n", "load", PG_EPARSE, 2, "too large"},
        {"month,hour,load,pv\n1,1,\"1,2,0\n", "load", PG_EPARSE, 2, "never closed"},
        {"month,hour,load,pv\n1,1,\"1\"2,0\n", "load", PG_EPARSE, 2,
         "text after the closing quote of a field (field 3)"},
        {"month,hour,\"load,pv\n1,1,1,0\n", "load", PG_EPARSE, 1,
         "the header row has a quote that is never closed"},
        /* a short file: three rows where the run needs four */
        {"month,hour,load,pv\n1,1,0.5,0\n1,2,0.5,0\n1,3,0.5,0\n", "load", PG_EPARSE, 5,
         "the file has 3 data rows"},
        /* no such column, no header */
        {"month,hour,load,pv\n1,1,0.5,0\n", "lod", PG_EPARSE, 1,
         "no column 'lod' in the header row (its columns are: 'month', 'hour', 'load', 'pv')"},
        /* two columns of one name: which one is meant cannot be told */
        {"month,hour,load,load\n1,1,0.5,0\n", "load", PG_EPARSE, 1,
         "the header row names the column 'load' twice (fields 3 and 4)"},
        {"", "load", PG_EPARSE, 1, "the file is empty"},
        {"\n1,2\n", "load", PG_EPARSE, 1, "the first line is empty"},
    };
    run u = {.dir = pgt_tmpdir(), .n = 4};
    char spec[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pgt_write(pgt_tmp("bad.csv"), cases[i].text);
        snprintf(spec, sizeof spec, "{\"csv\": {\"file\": \"bad.csv\", \"column\": \"%s\"}}",
                 cases[i].column);
        double *v = NULL;
        pg_error err = {0};
        int rc = read_series(doc(spec), &u, &v, &err);
        if (rc != cases[i].code || err.line != cases[i].line || !strstr(err.msg, cases[i].words) ||
            !strstr(err.file, "bad.csv") || err.path[0])
            fail_msg("case %zu: rc %d line %d file '%s' path '%s': %s", i, rc, err.line, err.file,
                     err.path, err.msg);
        assert_null(v);
    }
    /* The column of a bad value is where its field starts. */
    pgt_write(pgt_tmp("bad.csv"), "a,b\n1,2\n1,x\n");
    double *v = NULL;
    pg_error err = {0};
    run one = {.dir = pgt_tmpdir(), .n = 1};
    assert_int_equal(
        read_series(doc("{\"csv\": {\"file\": \"bad.csv\", \"column\": \"b\"}}"), &one, &v, &err),
        PG_EPARSE);
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 3);
    /* Every row is checked, not only the run's window. */
    assert_null(v);
    /* "rows" that disagree with the file. */
    pgt_write(pgt_tmp("ok.csv"), good_csv);
    assert_int_equal(read_series(doc("{\"csv\": {\"file\": \"ok.csv\", \"column\": \"load\", "
                                     "\"rows\": 5}}"),
                                 &one, &v, &err),
                     PG_EPARSE);
    assert_non_null(strstr(err.msg, "the file has 4 data rows, but the scenario says it has 5"));
    assert_int_equal(err.line, 6);
    assert_int_equal(read_series(doc("{\"csv\": {\"file\": \"ok.csv\", \"column\": \"load\", "
                                     "\"rows\": 3}}"),
                                 &one, &v, &err),
                     PG_EPARSE);
    assert_non_null(strstr(err.msg, "is it the right file?"));
    pgt_tmpdir_cleanup();
}

static void
test_missing_data(void **state)
{
    (void)state;
    const char *spec =
        "{\"csv\": {\"file\": \"Building_1.csv\", \"column\": \"non_shiftable_load\"}}";
    double *v = NULL;
    pg_error err = {0};
    /* A missing file in an existing folder. */
    run u = {.dir = pgt_tmpdir(), .n = 24};
    assert_int_equal(read_series(doc(spec), &u, &v, &err), PG_ENOTFOUND);
    assert_non_null(strstr(err.file, "Building_1.csv"));
    assert_non_null(strstr(err.msg, "the CityLearn 2022 Fontana dataset"));
    assert_non_null(strstr(err.msg, "--data DIR"));
    /* A missing folder. */
    run nodir = {.dir = pgt_tmp("no-such-folder"), .n = 24};
    assert_int_equal(read_series(doc(spec), &nodir, &v, &err), PG_ENOTFOUND);
    assert_non_null(strstr(err.file, "no-such-folder"));
    assert_non_null(strstr(err.msg, "does not exist"));
    assert_non_null(strstr(err.msg, "the CityLearn 2022 Fontana dataset"));
    assert_non_null(strstr(err.msg, "--data DIR"));
    /* A file where the folder should be. */
    pgt_write(pgt_tmp("plain"), "x");
    run file = {.dir = pgt_tmp("plain"), .n = 24};
    assert_int_equal(read_series(doc(spec), &file, &v, &err), PG_ENOTFOUND);
    assert_non_null(strstr(err.msg, "is not a folder"));
    /* No folder at all. */
    run none = {.n = 24};
    assert_int_equal(read_series(doc(spec), &none, &v, &err), PG_ENOTFOUND);
    assert_non_null(strstr(err.msg, "--data DIR"));
    assert_string_equal(err.path, "$.series.s.csv.file");
    /* A folder where the file should be: pg_input_read refuses it. */
    assert_int_equal(
        read_series(doc("{\"csv\": {\"file\": \".\", \"column\": \"x\"}}"), &u, &v, &err), PG_EIO);
    assert_null(v);
    pgt_tmpdir_cleanup();
}

/* ---------------------------------------------------------------- the spec */

typedef struct bad_spec {
    const char *spec;
    const char *path;
    const char *words;
} bad_spec;

static void
test_bad_specs(void **state)
{
    (void)state;
    static const bad_spec cases[] = {
        {"3", "$.series.s", "must be an object"},
        {"{}", "$.series.s", "one of the keys 'csv', 'model' or 'constant'"},
        {"{\"csv\": {\"file\": \"a.csv\"}}", "$.series.s.csv", "the key 'column' is missing"},
        {"{\"csv\": {\"file\": \"a.csv\", \"column\": \"x\", \"colour\": 1}}",
         "$.series.s.csv.colour", "unknown key 'colour'"},
        {"{\"csv\": {\"file\": \"a.csv\", \"column\": \"x\"}, \"constant\": 1}",
         "$.series.s.constant", "unknown key 'constant'"},
        {"{\"csv\": {\"file\": \"/etc/passwd\", \"column\": \"x\"}}", "$.series.s.csv.file",
         "inside the data folder"},
        {"{\"csv\": {\"file\": \"../x.csv\", \"column\": \"x\"}}", "$.series.s.csv.file",
         "inside the data folder"},
        {"{\"csv\": {\"file\": \"a.csv\", \"column\": \"x\", \"scale\": \"2\"}}",
         "$.series.s.csv.scale", "must be a number"},
        {"{\"csv\": {\"file\": \"a.csv\", \"column\": \"x\", \"rows\": 0}}", "$.series.s.csv.rows",
         ""},
        {"{\"constant\": \"x\"}", "$.series.s.constant", "must be a number"},
        {"{\"model\": \"sunshine\"}", "$.series.s.model",
         "unknown model 'sunshine' (the models are: clear-sky-pv, offgrid-household, "
         "daily-profile, temperature)"},
        {"{\"model\": \"clear-sky-pv\", \"latitude\": 34}", "$.series.s",
         "the key 'longitude' is missing"},
        {"{\"model\": \"clear-sky-pv\", \"latitude\": 91, \"longitude\": 0}", "$.series.s.latitude",
         ""},
        {"{\"model\": \"clear-sky-pv\", \"latitude\": 0, \"longitude\": 0, \"tilt\": 5}",
         "$.series.s.tilt", "unknown key 'tilt'"},
        {"{\"model\": \"clear-sky-pv\", \"latitude\": 0, \"longitude\": 0, \"clouds\": "
         "{\"transition\": [[1,0,0],[0,1,0],[0.5,0.6,0]]}}",
         "$.series.s.clouds.transition[2]", "add up to 1"},
        {"{\"model\": \"clear-sky-pv\", \"latitude\": 0, \"longitude\": 0, \"clouds\": "
         "{\"factor\": [1, 0.5]}}",
         "$.series.s.clouds.factor", "must have 3 numbers"},
        {"{\"model\": \"clear-sky-pv\", \"latitude\": 0, \"longitude\": 0, \"start_day\": 1.5}",
         "$.series.s.start_day", "whole day"},
        {"{\"model\": \"offgrid-household\", \"tier\": 4}", "$.series.s.tier", ""},
        {"{\"model\": \"daily-profile\", \"values\": [1, 2]}", "$.series.s.values",
         "must have 24 numbers"},
        {"{\"model\": \"temperature\", \"highs\": [1,1,1,1,1,1,1,1,1,1,1,1], \"lows\": "
         "[0,0,0,0,0,0,0,0,0,0,2,0]}",
         "$.series.s.lows[10]", "above the month's high"},
        {"{\"model\": \"temperature\", \"highs\": [1,1,1,1,1,1,1,1,1,1,1,\"x\"], \"lows\": "
         "[0,0,0,0,0,0,0,0,0,0,0,0]}",
         "$.series.s.highs[11]", "must be a number"},
    };
    run u = {.dir = pgt_tmpdir(), .n = 24};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double *v = NULL;
        pg_error err = {0};
        int rc = read_series(doc(cases[i].spec), &u, &v, &err);
        if (rc != PG_EPARSE || strcmp(err.path, cases[i].path) != 0 ||
            strcmp(err.file, "scenario.json") != 0 || err.line != 2 ||
            !strstr(err.msg, cases[i].words))
            fail_msg("case %zu: rc %d %s:%d: %s: %s", i, rc, err.file, err.line, err.path, err.msg);
        assert_null(v);
    }
    /* A run too far past a model's origin is refused, not looped over for ever. */
    run far = {.first = (size_t)1 << 40, .n = 24};
    double *v = NULL;
    pg_error err = {0};
    assert_int_equal(read_series(doc("{\"model\": \"offgrid-household\"}"), &far, &v, &err),
                     PG_ELIMIT);
    pgt_tmpdir_cleanup();
}

static void
test_constant(void **state)
{
    (void)state;
    run u = {.n = 100};
    double *v = must_read("{\"constant\": 0.05}", &u);
    for (size_t i = 0; i < 100; i++)
        assert_near(v[i], 0.05, 0);
    free(v);
    run zero = {.n = 0};
    v = must_read("{\"constant\": -1}", &zero);
    free(v);
}

/* ---------------------------------------------------------------- models */

static void
test_solar_position(void **state)
{
    (void)state;
    /* At solar noon the zenith angle is |latitude - declination| and the sun is due south of a
     * northern site. On 21 June (day 172) the declination is close to 23.44 degrees. */
    double cz, az;
    /* Longitude on the time zone's meridian: solar noon is 12:00 less the equation of time,
     * which is -1.5 minutes on 21 June (NOAA). */
    pgi_solar_position(34.1, -120, -8, 172, 12 + 1.5 / 60, &cz, &az);
    assert_near(acos(cz) * 180 / M_PI, 34.1 - 23.44, 0.1);
    assert_near(az, 180, 1);
    /* Sunrise east of north, sunset west. */
    pgi_solar_position(34.1, -120, -8, 172, 6, &cz, &az);
    assert_true(az > 45 && az < 90);
    pgi_solar_position(34.1, -120, -8, 172, 18, &cz, &az);
    assert_true(az > 270 && az < 315);
    /* Midnight: the sun is below the horizon. */
    pgi_solar_position(34.1, -120, -8, 172, 0, &cz, &az);
    assert_true(cz < 0);
}

static void
test_clear_sky_noon_equinox(void **state)
{
    (void)state;
    /* On the equator at solar noon at an equinox, the sun is (nearly) overhead: Haurwitz gives
     * 1098 exp(-0.057) W/m2 on a horizontal plane, and a 1 kWp system with no derate makes that
     * / 1000 in kW. One-minute steps around noon of 20 March (day 79). */
    run u = {.first = 78 * 24 * 60 + 11 * 60, .n = 120, .step_h = 1.0 / 60};
    double *v = must_read("{\"model\": \"clear-sky-pv\", \"latitude\": 0, \"longitude\": 0, "
                          "\"utc_offset_h\": 0, \"tilt_deg\": 0, \"derate\": 1}",
                          &u);
    double peak = maxv(v, 120);
    assert_near(peak, 1.098 * exp(-0.057), 0.002);
    free(v);
}

static void
test_clear_sky_day(void **state)
{
    (void)state;
    /* One day at one-minute steps in Fontana (34.1 N, 117.4 W, UTC-8). */
    size_t n = 24 * 60;
    run u = {.first = 171 * 24 * 60, .n = n, .step_h = 1.0 / 60};
    double *v = must_read("{\"model\": \"clear-sky-pv\", \"latitude\": 34.1, \"longitude\": "
                          "-117.4, \"utc_offset_h\": -8, \"kwp\": 4}",
                          &u);
    /* Zero at night: before 04:00 and after 20:30 local time. */
    for (size_t i = 0; i < 4 * 60; i++)
        assert_near(v[i], 0, 0);
    for (size_t i = 20 * 60 + 30; i < n; i++)
        assert_near(v[i], 0, 0);
    /* Symmetric about solar noon: the peak is at 12:00 - (eot + 4 lon + 480)/60 h = 11:51. */
    size_t ipk = 0;
    for (size_t i = 0; i < n; i++)
        ipk = v[i] > v[ipk] ? i : ipk;
    assert_true(ipk >= 11 * 60 + 48 && ipk <= 11 * 60 + 54);
    double peak_kw = v[ipk];
    assert_true(peak_kw > 0.7 * 4 && peak_kw < 4);
    for (size_t k = 1; k < 7 * 60; k++)
        assert_near(v[ipk - k], v[ipk + k], 0.01 * v[ipk] + 1e-9);
    free(v);
}

static double
annual_yield(const char *extra, uint64_t seed)
{
    char spec[512];
    snprintf(spec, sizeof spec,
             "{\"model\": \"clear-sky-pv\", \"latitude\": 34.1, \"longitude\": -117.4, "
             "\"utc_offset_h\": -8%s}",
             extra);
    run u = {.n = 8760, .seed = seed, .name = "pv"};
    double *v = must_read(spec, &u);
    double y = sum(v, 8760);
    free(v);
    return y;
}

static void
test_clear_sky_year(void **state)
{
    (void)state;
    /* A clear sky every day gives more than the measured 1,803 kWh/kWp of the Fontana homes
     * (which saw real clouds), and less than the ~2,500 kWh/kWp of a clear-sky year on a
     * tracking array in a desert. */
    double clear = annual_yield("", 1);
    assert_true(clear > 1803 && clear < 2500);
    /* Flat is less than tilted towards the equator at 34 N; facing north is less again. */
    double flat = annual_yield(", \"tilt_deg\": 0", 1);
    double north = annual_yield(", \"azimuth_deg\": 0", 1);
    assert_true(flat < clear && north < flat);
    /* The derate scales linearly. */
    assert_near(annual_yield(", \"derate\": 0.4", 1), clear / 2, 1e-6 * clear);
    /* Cloudy days: less, by about the chain's mean factor (0.62 + 0.28 * 0.6 + 0.10 * 0.25). */
    double c1 = annual_yield(", \"clouds\": {}", 1);
    double c1b = annual_yield(", \"clouds\": {}", 1);
    double c2 = annual_yield(", \"clouds\": {}", 2);
    assert_near(c1, c1b, 0);
    assert_true(c1 != c2);
    assert_near(c1 / clear, 0.81, 0.05);
    assert_near(c2 / clear, 0.81, 0.05);
    /* Always overcast: the overcast factor exactly. */
    double oc = annual_yield(", \"clouds\": {\"transition\": [[0,0,1],[0,0,1],[0,0,1]], "
                             "\"factor\": [1, 0.5, 0.3]}",
                             3);
    assert_near(oc, 0.3 * clear, 1e-6 * clear);
}

static void
test_clouds_window(void **state)
{
    (void)state;
    /* A window of the run sees the days the whole run sees. */
    const char *spec = "{\"model\": \"clear-sky-pv\", \"latitude\": -1.3, \"longitude\": 36.8, "
                       "\"clouds\": {}}";
    run all = {.n = 24 * 60, .seed = 7, .name = "pv"};
    run w = {.first = 24 * 33 + 5, .n = 24 * 3, .seed = 7, .name = "pv"};
    double *a = must_read(spec, &all);
    double *b = must_read(spec, &w);
    for (size_t i = 0; i < w.n; i++)
        assert_near(b[i], a[w.first + i], 1e-15);
    /* Another series' name is another stream. */
    run other = {.n = 24 * 60, .seed = 7, .name = "pv2"};
    double *c = must_read(spec, &other);
    size_t differ = 0;
    for (size_t i = 0; i < all.n; i++)
        differ += a[i] != c[i];
    assert_true(differ > 0);
    free(a);
    free(b);
    free(c);
}

static void
test_household(void **state)
{
    (void)state;
    size_t days = 365, n = 24 * days;
    run u = {.n = n, .seed = 42, .name = "load"};
    double *a = must_read("{\"model\": \"offgrid-household\", \"tier\": 2}", &u);
    double *b = must_read("{\"model\": \"offgrid-household\", \"tier\": 2}", &u);
    /* Deterministic per seed. */
    assert_memory_equal(a, b, n * sizeof *a);
    u.seed = 43;
    double *c = must_read("{\"model\": \"offgrid-household\", \"tier\": 2}", &u);
    assert_true(memcmp(a, c, n * sizeof *a) != 0);
    /* Tier 2 of the Multi-Tier Framework: at least 200 Wh a day; the appliance list makes
     * 303 Wh on an average day. */
    double per_day = sum(a, n) / (double)days;
    assert_near(per_day, 0.303, 0.02);
    for (size_t d = 0; d < days; d++)
        assert_true(sum(a + 24 * d, 24) > 0.08);
    /* No more than every appliance on at once (18 + 2 + 1 + 20 + 15 W). */
    assert_true(maxv(a, n) <= 0.056 + 1e-12);
    /* The evening is the peak: 19:00-23:00 uses more than 09:00-12:00. */
    double eve = 0, morn = 0;
    for (size_t d = 0; d < days; d++) {
        eve += sum(a + 24 * d + 19, 4);
        morn += sum(a + 24 * d + 9, 3);
    }
    assert_true(eve > 5 * morn);
    /* Without variation or jitter the day is exactly the appliance list. */
    double *e = must_read(
        "{\"model\": \"offgrid-household\", \"tier\": 1, \"variation\": 0, \"jitter_h\": 0}", &u);
    for (size_t d = 0; d < days; d++)
        assert_near(sum(e + 24 * d, 24), 0.014, 1e-12);
    assert_near(e[17], 0, 0);
    assert_near(e[18], 0.003, 1e-12); /* 18:00-19:00: two 1 W lamps and a phone charging */
    assert_near(e[19], 0.004, 1e-12); /* 19:00-20:00: and the radio */
    assert_near(e[6], 0.001, 1e-12);
    free(e);
    double *t3 = must_read("{\"model\": \"offgrid-household\", \"tier\": 3, \"variation\": 0, "
                           "\"jitter_h\": 0, \"scale\": 2}",
                           &u);
    assert_near(sum(t3, 24), 2 * 1.451, 1e-9);
    free(t3);
    /* A window of the run sees the whole run's days. */
    run w = {.first = 24 * 200 + 7, .n = 50, .seed = 42, .name = "load"};
    double *f = must_read("{\"model\": \"offgrid-household\", \"tier\": 2}", &w);
    for (size_t i = 0; i < w.n; i++)
        assert_near(f[i], a[w.first + i], 1e-15);
    free(f);
    free(a);
    free(b);
    free(c);
}

static void
test_daily_profile(void **state)
{
    (void)state;
    const char *spec = "{\"model\": \"daily-profile\", \"values\": [0,1,2,3,4,5,6,7,8,9,10,11,12,"
                       "13,14,15,16,17,18,19,20,21,22,23], \"start_hour\": 23}";
    run u = {.n = 72};
    double *v = must_read(spec, &u);
    for (size_t i = 0; i < 72; i++)
        assert_near(v[i], (double)((i + 23) % 24), 0);
    free(v);
    /* Half-hour steps hold the hour's value; two-hour steps average two hours. */
    run half = {.n = 4, .step_h = 0.5};
    v = must_read(spec, &half);
    assert_near(v[0], 23, 0);
    assert_near(v[1], 23, 0);
    assert_near(v[2], 0, 0);
    free(v);
    run two = {.n = 2, .step_h = 2};
    v = must_read(spec, &two);
    assert_near(v[0], 11.5, 0);
    assert_near(v[1], 1.5, 0);
    free(v);
    /* Without start_hour, the scenario's calendar places the first row (23:00 here). */
    run cal = {.n = 48, .year_hour = 212 * 24 + 23};
    v = must_read("{\"model\": \"daily-profile\", \"values\": [0,1,2,3,4,5,6,7,8,9,10,11,12,"
                  "13,14,15,16,17,18,19,20,21,22,23]}",
                  &cal);
    for (size_t i = 0; i < 48; i++)
        assert_near(v[i], (double)((i + 23) % 24), 0);
    free(v);
    /* The parameters win over the calendar. */
    v = must_read(spec, &cal);
    assert_near(v[0], 23, 0);
    free(v);
}

static void
test_calendar(void **state)
{
    (void)state;
    /* The scenario's calendar and start_day/start_hour place a clear-sky day alike. */
    run cal = {.n = 48, .year_hour = 171 * 24 + 6};
    double *a = must_read("{\"model\": \"clear-sky-pv\", \"latitude\": 34.1, \"longitude\": "
                          "-117.4}",
                          &cal);
    run plain = {.n = 48};
    double *b = must_read("{\"model\": \"clear-sky-pv\", \"latitude\": 34.1, \"longitude\": "
                          "-117.4, \"start_day\": 172, \"start_hour\": 6}",
                          &plain);
    assert_memory_equal(a, b, 48 * sizeof *a);
    /* 06:00 on 21 June is after sunrise, 21:00 after sunset. */
    assert_true(a[0] > 0);
    assert_near(a[15], 0, 0);
    free(a);
    free(b);
}

static void
test_temperature(void **state)
{
    (void)state;
    /* Every month 30 high and 10 low: the day runs from 10 C at 03:00 to 30 C at 15:00. */
    const char *spec = "{\"model\": \"temperature\", \"highs\": [30,30,30,30,30,30,30,30,30,30,30,"
                       "30], \"lows\": [10,10,10,10,10,10,10,10,10,10,10,10]}";
    run u = {.n = 24 * 60, .step_h = 1.0 / 60};
    double *v = must_read(spec, &u);
    assert_near(v[15 * 60], 30, 0.001);
    assert_near(v[3 * 60], 10, 0.001);
    assert_near(sum(v, 24 * 60) / (24 * 60), 20, 1e-9);
    free(v);
    /* Between the middles of January (high 10) and February (high 20), linear in the day. */
    const char *spec2 = "{\"model\": \"temperature\", \"highs\": [10,20,30,30,30,30,30,30,30,30,"
                        "30,30], \"lows\": [10,20,30,30,30,30,30,30,30,30,30,30]}";
    run h = {.n = 24 * 59};
    v = must_read(spec2, &h);
    /* Day 30.25 (30 January, 06:00): 10 + 10 * (30.25 - 15.5) / 29.5. */
    assert_near(v[30 * 24 + 6], 10 + 10 * (30.25 + 0.5 / 24 - 15.5) / 29.5, 1e-3);
    free(v);
}

/* ---------------------------------------------------------------- allocation failures */

static void
alloc_failures(const char *spec, const run *u)
{
    double *v = NULL;
    pg_error err = {0};
    const char *text = doc(spec);
    char *copy = malloc(strlen(text) + 1);
    strcpy(copy, text);
    pgt_alloc_fail_after(LONG_MAX);
    assert_int_equal(read_series(copy, u, &v, &err), PG_OK);
    long n = pgt_alloc_count();
    pgt_alloc_fail_after(-1);
    free(v);
    assert_true(n >= 1);
    for (long k = 0; k < n; k++) {
        v = NULL;
        pgt_alloc_fail_after(k);
        int rc = read_series(copy, u, &v, &err);
        pgt_alloc_fail_after(-1);
        if (rc == PG_OK) {
            free(v); /* jansson's allocations are not failed */
            continue;
        }
        assert_true(rc == PG_ENOMEM || rc == PG_EPARSE); /* EPARSE: jansson out of memory */
        assert_null(v);
    }
    free(copy);
}

static void
test_alloc_failures(void **state)
{
    (void)state;
    run csv = {.dir = fontana(), .n = 48, .first = 10};
    alloc_failures("{\"csv\": {\"file\": \"Building_3.csv\", \"column\": \"solar_generation\"}}",
                   &csv);
    run m = {.n = 48, .seed = 1};
    alloc_failures("{\"model\": \"clear-sky-pv\", \"latitude\": 34, \"longitude\": -117, "
                   "\"clouds\": {}}",
                   &m);
    alloc_failures("{\"model\": \"offgrid-household\"}", &m);
    alloc_failures("{\"model\": \"temperature\", \"highs\": [1,1,1,1,1,1,1,1,1,1,1,1], \"lows\": "
                   "[0,0,0,0,0,0,0,0,0,0,0,0]}",
                   &m);
    alloc_failures("{\"constant\": 2}", &m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_building1_figures),
        cmocka_unit_test(test_pricing),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_csv_forms),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_missing_data),
        cmocka_unit_test(test_bad_specs),
        cmocka_unit_test(test_constant),
        cmocka_unit_test(test_solar_position),
        cmocka_unit_test(test_clear_sky_noon_equinox),
        cmocka_unit_test(test_clear_sky_day),
        cmocka_unit_test(test_clear_sky_year),
        cmocka_unit_test(test_clouds_window),
        cmocka_unit_test(test_household),
        cmocka_unit_test(test_daily_profile),
        cmocka_unit_test(test_temperature),
        cmocka_unit_test(test_calendar),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, pgt_teardown_tmpdir);
}
