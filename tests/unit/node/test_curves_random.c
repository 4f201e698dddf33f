/* Every bid curve a controller returns is one the market takes: random environments (prices of
 * either sign up to the market's limits, PV, load and temperature series, demand-response events,
 * steps of 15 min to 24 h) for a node of every device kind under each of the three controllers;
 * pg_node_bid either refuses the environment with PG_EINVAL or returns a curve that
 * pg_market_book_add_curve accepts. */
#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plurigrid/node.h"

#define H 48

static const char *const cfg_fmt =
    "{\"format\": \"plurigrid-node/1\", \"name\": \"n\", \"profile\": \"residential\","
    " \"controller\": {\"kind\": \"%s\"},"
    " \"devices\": ["
    "  {\"kind\": \"pv\", \"name\": \"pv\", \"kw_peak\": %g},"
    "  {\"kind\": \"fixed_load\", \"name\": \"load\"},"
    "  {\"kind\": \"battery\", \"name\": \"bat\", \"capacity_kwh\": %g, \"power_kw\": %g},"
    "  {\"kind\": \"ev\", \"name\": \"ev\"},"
    "  {\"kind\": \"thermostat\", \"name\": \"ac\", \"outdoor\": \"outdoor_temp\"},"
    "  {\"kind\": \"shiftable_load\", \"name\": \"dw\", \"energy_kwh\": 1.5, \"power_kw\": 1},"
    "  {\"kind\": \"generator\", \"name\": \"gen\", \"max_kw\": 5}]}";

static uint64_t rs;
static double
rnd(void)
{
    rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rs >> 11) / 9007199254740992.0;
}

/* A price: mostly ordinary, sometimes negative, sometimes at the market's limit. */
static bool wild; /* this interval may carry prices at the market's limits */
static double
rprice(void)
{
    double u = rnd();
    if (!wild)
        u = 0.1 + 0.9 * u;
    if (u < 0.05)
        return PG_MARKET_PRICE_MAX;
    if (u < 0.1)
        return -PG_MARKET_PRICE_MAX;
    if (u < 0.2)
        return -1 + 2 * rnd();
    return 0.5 * rnd();
}

static void
run(const char *ctl, uint64_t seed0, int trials)
{
    rs = seed0;
    size_t taken = 0, refused = 0;
    for (int trial = 0; trial < trials; trial++) {
        char json[2048];
        snprintf(json, sizeof json, cfg_fmt, ctl, rnd() < 0.2 ? 1e6 : 1 + 10 * rnd(),
                 rnd() < 0.2 ? 1e6 : 1 + 20 * rnd(), rnd() < 0.2 ? 1e5 : 0.5 + 5 * rnd());
        pg_node_config *cfg = NULL;
        pg_node *node = NULL;
        pg_error err = {0};
        if (pg_node_config_parse(&cfg, "t.json", json, strlen(json), &err))
            fail_msg("config: %s", err.msg);
        assert_int_equal(pg_node_new(&node, cfg, 0, seed0 + (uint64_t)trial, &err), PG_OK);
        size_t ni = pg_node_config_n_inputs(cfg);
        assert_true(ni <= 4);
        double retail[H], feed[H], fc[4][H], act[4];
        const double *fcp[4];
        double dt = rnd() < 0.5 ? 0.25 : rnd() < 0.5 ? 1 : 24;
        pg_dr_event ev;
        memset(&ev, 0, sizeof ev);
        snprintf(ev.id, sizeof ev.id, "e");
        for (size_t t = 0; t < 40; t++) {
            size_t hz = 1 + (size_t)(rnd() * (H - 1));
            wild = rnd() < 0.15;
            for (size_t k = 0; k < hz; k++) {
                retail[k] = rprice();
                feed[k] = rnd() < 0.5 ? rprice() : fmin(retail[k], 0.05);
                for (size_t i = 0; i < ni; i++) {
                    const char *nm = pg_node_config_input(cfg, i);
                    double x = rnd();
                    fc[i][k] = strcmp(nm, "outdoor_temp") == 0 ? -20 + 60 * x
                               : rnd() < 0.1                   ? 1e3 * x
                                                               : x;
                }
            }
            for (size_t i = 0; i < ni; i++) {
                fcp[i] = fc[i];
                act[i] = fc[i][0];
            }
            double th = (double)t * dt;
            ev.signal = (pg_dr_signal)(int)(rnd() * 3);
            ev.start_h = th - dt * rnd();
            ev.n_intervals = 1;
            ev.interval_h[0] = ev.duration_h = 4 * dt;
            ev.interval_value[0] = ev.signal == PG_DR_PRICE ? rprice() : 3 * rnd();
            pg_node_env env = {.t = t,
                               .hours = dt,
                               .time_h = th,
                               .hour_of_day = fmod(th, 24),
                               .horizon = hz,
                               .retail = retail,
                               .feed_in = feed,
                               .grid_connected = true,
                               .forecast = fcp,
                               .actual = act,
                               .n_events = rnd() < 0.3,
                               .events = &ev};
            pg_node_plan plan;
            int rc = pg_node_bid(node, &env, &plan, &err);
            if (rc) {
                /* a controller may refuse prices at the limits as input out of its range, with a
                 * message; anything else is taken */
                if (!wild || rc != PG_EINVAL || !err.msg[0])
                    fail_msg("%s, trial %d, t %zu: pg_node_bid: %s", ctl, trial, t, err.msg);
                refused++;
                pg_node_step st;
                assert_int_equal(pg_node_operate(node, &env, 0, NAN, &st, &err), PG_OK);
                continue;
            }
            taken++;
            pg_market_book b;
            pg_market_book_init(&b);
            rc = pg_market_book_add_curve(&b, 0, plan.curve, plan.n_points, &err);
            pg_market_book_free(&b);
            if (rc) {
                for (size_t i = 0; i < plan.n_points; i++)
                    print_message("  %.17g %.17g\n", plan.curve[i].price, plan.curve[i].qty);
                fail_msg("%s, trial %d, t %zu: the market refuses the curve: %s", ctl, trial, t,
                         err.msg);
            }
            pg_node_step st;
            assert_int_equal(pg_node_operate(node, &env, 0, NAN, &st, &err), PG_OK);
            assert_true(st.soc_kwh >= 0);
        }
        pg_node_free(node);
        pg_node_config_free(cfg);
    }
    print_message("%s: %zu curves taken, %zu environments refused\n", ctl, taken, refused);
    assert_true(taken >= (size_t)trials * 40 * 7 / 10);
}

static void
test_rules(void **state)
{
    (void)state;
    run("rules", 1, 12);
}

static void
test_lp(void **state)
{
    (void)state;
    run("lp", 2, 4);
}

static void
test_aif(void **state)
{
    (void)state;
    run("aif", 3, 12);
}

/* Inputs of absurd size (a load of 1e300 kW, PV availability of 1e300) are refused with a
 * message, or give a curve the market takes: never a curve it refuses. */
static void
test_huge_inputs(void **state)
{
    (void)state;
    const char *ctls[] = {"rules", "lp", "aif"};
    const double bigs[] = {1e300, 1e15, 1e12, 1e9};
    for (size_t c = 0; c < 3; c++)
        for (size_t b = 0; b < sizeof bigs / sizeof *bigs; b++)
            for (size_t which = 0; which < 2; which++) {
                char json[2048];
                snprintf(json, sizeof json, cfg_fmt, ctls[c], 1e9, 1e9, 1e9);
                pg_node_config *cfg = NULL;
                pg_node *node = NULL;
                pg_error err = {0};
                if (pg_node_config_parse(&cfg, "t.json", json, strlen(json), &err))
                    fail_msg("config: %s", err.msg);
                assert_int_equal(pg_node_new(&node, cfg, 0, 1, &err), PG_OK);
                size_t ni = pg_node_config_n_inputs(cfg);
                double retail[4] = {0.3, 0.3, 0.3, 0.3}, feed[4] = {0.05, 0.05, 0.05, 0.05};
                double fc[4][4], act[4];
                const double *fcp[4];
                for (size_t i = 0; i < ni; i++) {
                    const char *nm = pg_node_config_input(cfg, i);
                    double x = strcmp(nm, "outdoor_temp") == 0          ? 30
                               : strcmp(nm, which ? "pv" : "load") == 0 ? bigs[b]
                                                                        : 0.5;
                    for (size_t k = 0; k < 4; k++)
                        fc[i][k] = x;
                    fcp[i] = fc[i];
                    act[i] = x;
                }
                pg_node_env env = {.hours = 1,
                                   .hour_of_day = 12,
                                   .horizon = 4,
                                   .retail = retail,
                                   .feed_in = feed,
                                   .grid_connected = true,
                                   .forecast = fcp,
                                   .actual = act};
                pg_node_plan plan;
                int rc = pg_node_bid(node, &env, &plan, &err);
                if (rc) {
                    if (rc != PG_EINVAL || !err.msg[0])
                        fail_msg("%s, %g: pg_node_bid: %s", ctls[c], bigs[b], err.msg);
                } else {
                    pg_market_book bk;
                    pg_market_book_init(&bk);
                    rc = pg_market_book_add_curve(&bk, 0, plan.curve, plan.n_points, &err);
                    pg_market_book_free(&bk);
                    if (rc)
                        fail_msg("%s, %s %g: the market refuses the curve: %s", ctls[c],
                                 which ? "pv" : "load", bigs[b], err.msg);
                    pg_node_step st;
                    if (pg_node_operate(node, &env, 0, NAN, &st, &err) == PG_OK)
                        assert_true(isfinite(st.import_kwh) && isfinite(st.export_kwh) &&
                                    isfinite(st.soc_kwh));
                }
                pg_node_free(node);
                pg_node_config_free(cfg);
            }
}

/* Prices beyond what the market takes (infinite, 1e300 $/kWh) are refused as bad input under
 * every controller: the rules controller used to pass 1e300 into its curve, and an infinite
 * price came back as an internal error. */
static void
test_absurd_prices(void **state)
{
    (void)state;
    const char *ctls[] = {"rules", "lp", "aif"};
    const double bad[] = {INFINITY, -INFINITY, 1e300, -2e6};
    for (size_t c = 0; c < 3; c++)
        for (size_t b = 0; b < 4; b++)
            for (int feed_bad = 0; feed_bad < 2; feed_bad++) {
                char json[2048];
                snprintf(json, sizeof json, cfg_fmt, ctls[c], 5.0, 10.0, 5.0);
                pg_node_config *cfg = NULL;
                pg_node *node = NULL;
                pg_error err = {0};
                if (pg_node_config_parse(&cfg, "t.json", json, strlen(json), &err))
                    fail_msg("config: %s", err.msg);
                assert_int_equal(pg_node_new(&node, cfg, 0, 1, &err), PG_OK);
                size_t ni = pg_node_config_n_inputs(cfg);
                double retail[2] = {0.3, 0.3}, feed[2] = {0.05, 0.05}, act[4];
                (feed_bad ? feed : retail)[1] = bad[b];
                for (size_t i = 0; i < ni; i++)
                    act[i] = strcmp(pg_node_config_input(cfg, i), "outdoor_temp") == 0 ? 30 : 0.5;
                pg_node_env env = {.hours = 1,
                                   .hour_of_day = 12,
                                   .horizon = 2,
                                   .retail = retail,
                                   .feed_in = feed,
                                   .grid_connected = true,
                                   .actual = act};
                pg_node_plan plan;
                assert_int_equal(pg_node_bid(node, &env, &plan, &err), PG_EINVAL);
                assert_non_null(strstr(err.msg, "price"));
                pg_node_step st;
                assert_int_equal(pg_node_operate(node, &env, 0, NAN, &st, &err), PG_EINVAL);
                pg_node_free(node);
                pg_node_config_free(cfg);
            }
}

/* Fine steps over a long forecast: the LP controller plans over at most 2880 intervals (a 720 h
 * horizon of 3.6 s steps was an LP of every interval of the forecast, minutes of solving for
 * 30000 and in effect a hang for a forecast of 10^6). */
static void
test_lp_long_fine_forecast(void **state)
{
    (void)state;
    char json[2048];
    snprintf(json, sizeof json, cfg_fmt, "lp", 5.0, 10.0, 5.0);
    /* the horizon at its largest */
    char *at = strstr(json, "\"kind\": \"lp\"}");
    assert_non_null(at);
    char tail[2048];
    snprintf(tail, sizeof tail, "%s", at + strlen("\"kind\": \"lp\"}"));
    snprintf(at, sizeof json - (size_t)(at - json), "\"kind\": \"lp\", \"horizon_h\": 720}%s",
             tail);
    pg_node_config *cfg = NULL;
    pg_node *node = NULL;
    pg_error err = {0};
    if (pg_node_config_parse(&cfg, "t.json", json, strlen(json), &err))
        fail_msg("config: %s", err.msg);
    assert_int_equal(pg_node_new(&node, cfg, 0, 1, &err), PG_OK);
    const size_t hz = 200000;
    size_t ni = pg_node_config_n_inputs(cfg);
    double *retail = malloc(hz * sizeof *retail), *feed = malloc(hz * sizeof *feed);
    double *fc[4], act[4];
    const double *fcp[4];
    assert_non_null(retail);
    assert_non_null(feed);
    for (size_t i = 0; i < ni; i++) {
        fc[i] = malloc(hz * sizeof *fc[i]);
        assert_non_null(fc[i]);
        double x = strcmp(pg_node_config_input(cfg, i), "outdoor_temp") == 0 ? 30 : 0.5;
        for (size_t k = 0; k < hz; k++)
            fc[i][k] = x;
        fcp[i] = fc[i];
        act[i] = x;
    }
    for (size_t k = 0; k < hz; k++) {
        retail[k] = 0.2 + 0.05 * (double)(k % 7);
        feed[k] = 0.05;
    }
    pg_node_env env = {.hours = 0.001,
                       .hour_of_day = 12,
                       .horizon = hz,
                       .retail = retail,
                       .feed_in = feed,
                       .grid_connected = true,
                       .forecast = fcp,
                       .actual = act};
    pg_node_plan plan;
    clock_t c0 = clock();
    assert_int_equal(pg_node_bid(node, &env, &plan, &err), PG_OK);
    double secs = (double)(clock() - c0) / CLOCKS_PER_SEC;
    print_message("LP over a forecast of %zu intervals: %.2f s\n", hz, secs);
    assert_true(secs < 60);
    for (size_t i = 0; i < ni; i++)
        free(fc[i]);
    free(retail);
    free(feed);
    pg_node_free(node);
    pg_node_config_free(cfg);
}

/* A step shorter than a second is refused: with 1e-300 h the count of intervals until an EV's
 * departure (1e300) was converted to a size_t, which is undefined. */
static void
test_tiny_step(void **state)
{
    (void)state;
    char json[2048];
    snprintf(json, sizeof json, cfg_fmt, "rules", 5.0, 10.0, 5.0);
    pg_node_config *cfg = NULL;
    pg_node *node = NULL;
    pg_error err = {0};
    if (pg_node_config_parse(&cfg, "t.json", json, strlen(json), &err))
        fail_msg("config: %s", err.msg);
    assert_int_equal(pg_node_new(&node, cfg, 0, 1, &err), PG_OK);
    size_t ni = pg_node_config_n_inputs(cfg);
    double retail[1] = {0.3}, feed[1] = {0.05}, act[4];
    for (size_t i = 0; i < ni; i++)
        act[i] = strcmp(pg_node_config_input(cfg, i), "outdoor_temp") == 0 ? 30 : 0.5;
    const double steps[] = {1e-300, 1e-9, 0.9 / 3600};
    for (size_t k = 0; k < 3; k++) {
        pg_node_env env = {.hours = steps[k],
                           .hour_of_day = 19, /* the EV is plugged */
                           .horizon = 1,
                           .retail = retail,
                           .feed_in = feed,
                           .grid_connected = true,
                           .actual = act};
        pg_node_plan plan;
        assert_int_equal(pg_node_bid(node, &env, &plan, &err), PG_EINVAL);
        assert_non_null(strstr(err.msg, "interval"));
    }
    pg_node_env env = {.hours = 1.0 / 3600,
                       .hour_of_day = 19,
                       .horizon = 1,
                       .retail = retail,
                       .feed_in = feed,
                       .grid_connected = true,
                       .actual = act};
    pg_node_plan plan;
    assert_int_equal(pg_node_bid(node, &env, &plan, &err), PG_OK);
    pg_node_free(node);
    pg_node_config_free(cfg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),         cmocka_unit_test(test_lp),
        cmocka_unit_test(test_aif),           cmocka_unit_test(test_huge_inputs),
        cmocka_unit_test(test_absurd_prices), cmocka_unit_test(test_lp_long_fine_forecast),
        cmocka_unit_test(test_tiny_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
