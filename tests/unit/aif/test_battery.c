/* The active-inference home battery on days of prices: it charges when energy is cheap, has
 * energy stored when the evening peak starts, discharges at the peak, earns money over the day
 * and discharges into a demand-response event. The environment here is written independently
 * of the agent's model: it tracks the real state of charge and the real money. */
#include "harness.h"

#include <string.h>

#include "plurigrid/aif.h"

/* A day of hourly prices (money per step of energy): cheap night, morning shoulder, cheap solar
 * midday, evening peak 17:00-20:00, late shoulder. */
static const double day_price[24] = {0.10, 0.09, 0.09, 0.09, 0.10, 0.11, 0.21, 0.24,
                                     0.23, 0.20, 0.13, 0.11, 0.10, 0.10, 0.12, 0.14,
                                     0.22, 0.41, 0.45, 0.43, 0.38, 0.24, 0.20, 0.18};

static int
level_of(double p)
{
    return p < 0.15 ? PG_AIF_PRICE_LOW : (p < 0.30 ? PG_AIF_PRICE_MID : PG_AIF_PRICE_HIGH);
}

typedef struct day_log {
    int charged[48], discharged[48]; /* energy actually moved during hour t */
    int soc_at[49];                  /* state of charge at the start of hour t */
    double money;
} day_log;

/* Runs the agent for `steps` hours; dr_hour >= 0 puts a DR event at that hour. */
static void
run_days(pg_aif *ag, int steps, int dr_hour, day_log *log)
{
    memset(log, 0, sizeof *log);
    const int K = 5;
    int soc = 0;
    size_t pending = PG_AIF_BAT_IDLE; /* action to execute during the current hour */
    pg_error err = {0};
    for (int t = 0; t < steps; t++) {
        int h = t % 24;
        int dr = (t == dr_hour);
        double price = day_price[h];
        log->soc_at[t] = soc;
        /* execute the pending action during hour t */
        size_t done = PG_AIF_BAT_IDLE;
        if (pending == PG_AIF_BAT_CHARGE && soc < K - 1) {
            soc++;
            log->charged[t] = 1;
            log->money -= price;
            done = pending;
        } else if (pending == PG_AIF_BAT_DISCHARGE && soc > 0) {
            soc--;
            log->discharged[t] = 1;
            log->money += 0.9 * price + (dr ? 0.5 : 0.0);
            done = pending;
        }
        size_t obs[PG_AIF_BAT_N_OBS];
        obs[PG_AIF_BAT_OBS_PRICE] = (size_t)level_of(price);
        obs[PG_AIF_BAT_OBS_DR] = (size_t)dr;
        obs[PG_AIF_BAT_OBS_SOC] = (size_t)soc;
        obs[PG_AIF_BAT_OBS_BILL] = pg_aif_battery_bill(done, level_of(price));
        obs[PG_AIF_BAT_OBS_RESPONSE] = pg_aif_battery_response(done, dr);
        size_t act = 0;
        int rc = pg_aif_step(ag, obs, &act, &err);
        if (rc)
            fail_msg("hour %d: %s", t, err.msg);
        pending = act;
    }
    log->soc_at[steps] = soc;
}

static pg_aif *
new_battery(const int *levels, double dr_start)
{
    pg_aif_battery_spec sp;
    pg_aif_battery_spec_init(&sp);
    sp.price_level = levels;
    sp.dr_start = dr_start;
    pg_aif *ag = NULL;
    pg_error err = {0};
    if (pg_aif_battery_new(&ag, &sp, NULL, &err))
        fail_msg("pg_aif_battery_new: %s", err.msg);
    return ag;
}

static void
test_battery_charges_off_peak_and_discharges_at_peak(void **state)
{
    (void)state;
    int levels[24];
    for (int h = 0; h < 24; h++)
        levels[h] = level_of(day_price[h]);
    pg_aif *ag = new_battery(levels, 0.02);
    day_log log;
    run_days(ag, 48, -1, &log);
    int charges = 0, peak_discharges = 0;
    for (int t = 0; t < 48; t++) {
        int h = t % 24;
        if (log.charged[t]) {
            charges++;
            /* every charge is off-peak: at a low price */
            assert_true(day_price[h] < 0.15);
        }
        if (log.discharged[t]) {
            /* never sold below what it could have paid */
            assert_true(day_price[h] >= 0.18);
            if (h >= 17 && h <= 20)
                peak_discharges++;
        }
    }
    assert_true(charges >= 8);
    /* full battery at the start of each evening peak, all of it sold during the peak */
    assert_int_equal(log.soc_at[17], 4);
    assert_int_equal(log.soc_at[41], 4);
    assert_int_equal(peak_discharges, 8);
    assert_true(log.money > 1.0);
    pg_aif_free(ag);
}

static void
test_battery_discharges_into_a_dr_event(void **state)
{
    (void)state;
    int levels[24];
    for (int h = 0; h < 24; h++)
        levels[h] = level_of(day_price[h]);
    /* a DR event at 15:00 (not a peak hour): a charged battery sells into it */
    pg_aif *ag = new_battery(levels, 0.02);
    day_log log;
    run_days(ag, 24, 15, &log);
    assert_true(log.soc_at[15] > 0);
    pg_aif_free(ag);
    /* The agent learns of the event at 15:00 and its action runs from 16:00: the event's
     * persistence (dr_stay 0.5) makes discharging at 16:00 the better bet. */
    ag = new_battery(levels, 0.02);
    pg_error err = {0};
    int soc = 0;
    size_t pending = PG_AIF_BAT_IDLE;
    size_t chosen_at_15 = 99;
    for (int t = 0; t < 16; t++) {
        double price = day_price[t];
        size_t done = PG_AIF_BAT_IDLE;
        if (pending == PG_AIF_BAT_CHARGE && soc < 4) {
            soc++;
            done = pending;
        } else if (pending == PG_AIF_BAT_DISCHARGE && soc > 0) {
            soc--;
            done = pending;
        }
        size_t obs[PG_AIF_BAT_N_OBS] = {(size_t)level_of(price), t == 15, (size_t)soc,
                                        pg_aif_battery_bill(done, level_of(price)),
                                        pg_aif_battery_response(done, t == 15)};
        assert_int_equal(pg_aif_step(ag, obs, &pending, &err), PG_OK);
        if (t == 15)
            chosen_at_15 = pending;
    }
    assert_true(soc > 0);
    assert_int_equal(chosen_at_15, PG_AIF_BAT_DISCHARGE);
    pg_aif_free(ag);
}

static void
test_battery_spec_errors(void **state)
{
    (void)state;
    pg_aif_battery_spec sp;
    pg_aif_battery_spec_init(&sp);
    pg_aif *ag = NULL;
    pg_error err = {0};
    assert_int_equal(pg_aif_battery_new(&ag, &sp, NULL, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "price level profile is missing"));
    int levels[24] = {0};
    levels[5] = 3;
    sp.price_level = levels;
    assert_int_equal(pg_aif_battery_new(&ag, &sp, NULL, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "hour 5"));
    levels[5] = 1;
    sp.dr_stay = 1.5;
    assert_int_equal(pg_aif_battery_new(&ag, &sp, NULL, &err), PG_EINVAL);
    assert_null(ag);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_battery_charges_off_peak_and_discharges_at_peak),
        cmocka_unit_test(test_battery_discharges_into_a_dr_event),
        cmocka_unit_test(test_battery_spec_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
