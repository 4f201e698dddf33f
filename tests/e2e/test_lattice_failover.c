/* Cluster failover: the example community (four `plurigrid node` daemons, two days of hourly
 * intervals) on a cluster of three nats-servers joined by routes, each daemon given the list of
 * all three. When a few intervals have been settled, the server most daemons are connected to is
 * killed (SIGKILL). The daemons it served reconnect to the others; the day completes; no member
 * is dropped (no daemon logs a drop, and every daemon has an award for every interval); no
 * accepted bid is lost; and every daemon's settlement equals the in-process run of the same
 * scenario, which is the run without the failure (test_lattice_same checks that the run on NATS
 * equals it).
 *
 * The clock is the simulation's (the operator opens each interval as soon as the last one is
 * settled, and waits for every live member's bid), so a member that is away for less than its
 * timeout changes nothing: the settlement must be exactly the one without the failure. */
#include "lattice_e2e.h"

/* Timings of the lattice (member files): a member silent for timeout_s is dropped; a reconnection
 * after a server dies takes a fraction of a second. */
#define LATTICE "{\"heartbeat_s\": 0.25, \"timeout_s\": 4, \"retry_s\": 0.25, \"form_s\": 120}"

static void
test_failover(void **state)
{
    (void)state;
    pge_paths();
    pgt_nats *c = pgt_nats_cluster(3);
    json_t *ref = pge_reference();
    const char *urls = pgt_nats_urls(c);

    pge_proc *p[PGE_MEMBERS];
    char member[PGE_MEMBERS][24];
    for (int i = 0; i < PGE_MEMBERS; i++) {
        snprintf(member[i], sizeof member[i], "home-%d", i + 1);
        p[i] = pge_start_node(member[i], pge_member_file(member[i], LATTICE), urls);
    }
    /* Every daemon connected (one connection each), then a few intervals settled. */
    double end = pge_now() + 120;
    for (;;) {
        long total = 0;
        for (size_t i = 0; i < 3; i++)
            total += pgt_nats_connections(c, i) > 0 ? pgt_nats_connections(c, i) : 0;
        if (total >= PGE_MEMBERS)
            break;
        if (pge_now() > end)
            fail_msg("the four daemons did not connect within 120 s (%ld connections)", total);
        for (int i = 0; i < PGE_MEMBERS; i++)
            if (!pge_alive(p[i]))
                fail_msg("%s ended before connecting", member[i]);
        pge_sleep(0.01);
    }
    if (pge_wait_award(p, PGE_MEMBERS, 3, 180) < 0)
        fail_msg("no daemon logged an award for interval 3 within 180 s");

    size_t victim = pgt_nats_busiest(c);
    long served = pgt_nats_connections(c, victim);
    long at_kill[PGE_MEMBERS];
    for (int i = 0; i < PGE_MEMBERS; i++) {
        if (!pge_alive(p[i]))
            fail_msg("%s ended before the server was killed", member[i]);
        at_kill[i] = pge_last_award(p[i], 0);
    }
    pgt_nats_kill(c, victim);
    print_message("[ INFO     ] killed server %zu (%ld of the daemons' connections) after "
                  "intervals %ld %ld %ld %ld\n",
                  victim, served, at_kill[0], at_kill[1], at_kill[2], at_kill[3]);
    assert_true(served >= 1);

    for (int i = 0; i < PGE_MEMBERS; i++)
        assert_int_equal(pge_wait_exit(p[i], 240), 0);

    /* The operator's server died, not the operator: nobody else took the role. */
    const char *const ops[] = {"home-1 (term 1)", NULL};
    pge_assert_operators(p, PGE_MEMBERS, ops);
    size_t lost = 0;
    for (int i = 0; i < PGE_MEMBERS; i++) {
        /* The failure happened during the day: after it every daemon settled more intervals. */
        if (at_kill[i] >= PGE_INTERVALS - 1)
            fail_msg("%s had settled the whole day before the server was killed: the test did "
                     "not test a failover",
                     member[i]);
        /* No member was dropped during the day (after it, the operator stays timeout_s to catch
         * up members that missed the last settlements, and may see one leave), and every
         * interval had every member. */
        char last[64];
        snprintf(last, sizeof last, ": interval %d: ", PGE_INTERVALS - 1);
        if (pge_log_count_before(p[i], PGE_LOG_DROP, last))
            fail_msg("%s's log tells of a member dropped during the day", member[i]);
        long iv[256];
        size_t n = pge_awards(p[i], 0, iv, NULL, 256);
        bool seen[PGE_INTERVALS] = {false};
        for (size_t k = 0; k < n && k < 256; k++)
            if (iv[k] >= 0 && iv[k] < PGE_INTERVALS)
                seen[iv[k]] = true;
        for (int k = 0; k < PGE_INTERVALS; k++)
            if (!seen[k])
                fail_msg("%s has no award for interval %d", member[i], k);
        lost += pge_log_count(p[i], PGE_LOG_LOST) > 0;
    }
    /* The daemons of the killed server noticed (each logs the connection lost). */
    if (lost != (size_t)served)
        fail_msg("%zu daemons logged their connection lost, but the server killed served %ld", lost,
                 served);

    /* No accepted bid lost: the settlement is the one without the failure. */
    for (int i = 0; i < PGE_MEMBERS; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s.json", pgt_tmpdir(), member[i]);
        json_t *got = pge_json_load(path);
        pge_json_strip_counters(got);
        pge_assert_same_runs(ref, got, member[i]);
        json_decref(got);
    }
    json_decref(ref);
    pge_pass();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_failover, pge_setup, pge_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
