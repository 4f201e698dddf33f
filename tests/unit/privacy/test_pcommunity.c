/* The private market run of a community (src/privacy/pcommunity.c) with a member dropping out of
 * the metering aggregation: the coalition's totals are over the survivors, and the settlement
 * check (peers bought as much as they sold) must not take the dropout for an imbalance. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "privacy/pcommunity.h"

typedef struct dier {
    uint32_t keys; /* KEYS messages member 0 has received */
    uint32_t killed;
} dier;

/* Member 0 falls silent in the metering aggregation of every interval: aggregations alternate
 * bids, meter, so its even-numbered KEYS message opens a metering round. */
static bool
die_in_meter(void *ud, uint32_t id, pgi_secagg_msg_type type)
{
    dier *d = ud;
    if (id != 0 || type != PGI_SA_KEYS)
        return false;
    if (++d->keys % 2 == 0) {
        d->killed++;
        return true;
    }
    return false;
}

static void
test_dropout_in_metering(void **state)
{
    (void)state;
    pg_community_options o;
    pg_community_options_init(&o);
    o.data_dir = pgt_data_path("citylearn-2022-fontana");
    o.days = 1;
    pg_community *c = NULL;
    pg_error err = {0};
    if (pg_community_read(&c, pgt_source_path("examples/scenario0/scenario.json"), &o, &err))
        fail_msg("%s", err.msg);
    dier d = {0};
    pgi_private_spec sp = {
        .variant = 0, .events = false, .seed = 1, .die = die_in_meter, .die_ud = &d};
    cm_trace tr;
    memset(&tr, 0, sizeof tr);
    pg_privacy_report view;
    memset(&view, 0, sizeof view);
    int rc = pgi_private_play(c, &sp, &tr, &view, &err);
    if (rc)
        fail_msg("the private run with a dropout in metering fails (%d): %s", rc, err.msg);
    assert_true(d.killed > 0);
    assert_int_equal(view.dropouts, d.killed);
    assert_int_equal(view.withheld, 0);
    pgi_community_trace_free(&tr);
    pg_community_free(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dropout_in_metering),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
