/* A node process killed and restarted rejoins and trades: the example community (four `plurigrid
 * node` daemons on one nats-server, two days of hourly intervals paced on the wall clock) loses
 * one home's daemon (SIGKILL, not the operator's) after a few intervals; the others drop it after
 * its timeout; the same daemon is started again with the same member file. It announces itself
 * and the operator takes it back ("member home-3 rejoined"); by the next interval after that its
 * bid is in the gate and it gets an award (the award comes only with the result of an interval
 * whose gate closed with its acknowledged bid), and it has one for every interval after, to the
 * end of the day, some of them trading energy. The others get an award for every interval of the
 * day, and every daemon ends the day with status 0. */
#include "lattice_e2e.h"

#define LATTICE                                                                                    \
    "{\"heartbeat_s\": 0.25, \"timeout_s\": 1.5, \"retry_s\": 0.25, \"form_s\": 120, "             \
    "\"clock\": \"wall\", \"interval_s\": 0.4}"
#define VICTIM 2 /* home-3: a home with a battery and 5 kW of PV, which trades by day */

static void
test_node_restarted(void **state)
{
    (void)state;
    pge_paths();
    pgt_nats *s = pgt_nats_start();
    pge_proc *p[PGE_MEMBERS];
    char member[PGE_MEMBERS][24];
    const char *file[PGE_MEMBERS];
    for (int i = 0; i < PGE_MEMBERS; i++) {
        snprintf(member[i], sizeof member[i], "home-%d", i + 1);
        file[i] = pge_member_file(member[i], LATTICE);
        p[i] = pge_start_node(member[i], file[i], pgt_nats_url(s, 0));
    }
    /* After a few intervals with everyone, kill home-3. */
    if (pge_wait_award(&p[VICTIM], 1, 4, 180) < 0)
        fail_msg("%s logged no award for interval 4 within 180 s", member[VICTIM]);
    size_t from = pge_log_size(p[0]);
    pge_kill(p[VICTIM], SIGKILL);
    long killed_after = pge_last_award(p[VICTIM], 0);

    /* The others drop it after its timeout (home-1, the operator, says so). */
    char needle[128];
    snprintf(needle, sizeof needle, "member %s dropped", member[VICTIM]);
    long at = pge_wait_log(p[0], from, needle, 60);
    if (at < 0)
        fail_msg("home-1 did not drop %s within 60 s of its kill", member[VICTIM]);
    long dropped_at = pge_last_award(p[0], 0);

    /* Back with the same member file: the operator takes it back. */
    pge_proc *back = pge_start_node(member[VICTIM], file[VICTIM], pgt_nats_url(s, 0));
    snprintf(needle, sizeof needle, "member %s rejoined", member[VICTIM]);
    if (pge_wait_log(p[0], (size_t)at, needle, 120) < 0)
        fail_msg("home-1 did not take %s back within 120 s of its restart", member[VICTIM]);
    long back_at = pge_last_award(p[0], 0);

    /* Its first award: the interval open when it came back may have opened without it; the next
     * one may not. */
    long iv[256];
    double kwh[256];
    size_t n = 0;
    double end = pge_now() + 60;
    while ((n = pge_awards(back, 0, iv, kwh, 256)) == 0) {
        if (!pge_alive(back))
            fail_msg("the restarted %s ended before its first award", member[VICTIM]);
        if (pge_now() > end)
            fail_msg("the restarted %s got no award within 60 s of rejoining", member[VICTIM]);
        pge_sleep(0.01);
    }
    long first_award = iv[0];
    /* Coming back, it follows the operator at work: it does not take the role. */
    const char *const ops[] = {"home-1 (term 1)", NULL};
    pge_proc *all[PGE_MEMBERS + 1] = {p[0], p[1], p[2], p[3], back};
    pge_assert_operators(all, PGE_MEMBERS + 1, ops);
    print_message("[ INFO     ] %s killed after interval %ld, dropped after interval %ld, back "
                  "after interval %ld; its first award after the restart is for interval %ld\n",
                  member[VICTIM], killed_after, dropped_at, back_at, first_award);
    assert_true(first_award > dropped_at);
    if (first_award > back_at + 2)
        fail_msg("%s was back after interval %ld but got its first award only in interval %ld",
                 member[VICTIM], back_at, first_award);

    for (int i = 0; i < PGE_MEMBERS; i++)
        if (i != VICTIM)
            assert_int_equal(pge_wait_exit(p[i], 240), 0);
    assert_int_equal(pge_wait_exit(back, 240), 0);

    /* It trades after it is back: some award of the rest of the day moves energy, and it has
     * an award for every interval from its first to the day's last. */
    n = pge_awards(back, 0, iv, kwh, 256);
    assert_true(n > 0 && n <= 256);
    bool traded = false;
    for (size_t k = 0; k < n; k++)
        traded |= kwh[k] != 0;
    if (!traded)
        fail_msg("the restarted %s traded nothing in the %zu intervals after it came back",
                 member[VICTIM], n);
    assert_int_equal(iv[n - 1], PGE_INTERVALS - 1);
    assert_int_equal((long)n, PGE_INTERVALS - first_award);
    pge_assert_operators(all, PGE_MEMBERS + 1, ops);
    /* The others traded through all of it: an award for every interval. */
    for (int i = 0; i < PGE_MEMBERS; i++) {
        if (i == VICTIM)
            continue;
        size_t m = pge_awards(p[i], 0, iv, NULL, 256);
        assert_int_equal(m, PGE_INTERVALS);
        for (size_t k = 0; k < m; k++)
            assert_int_equal(iv[k], (long)k);
    }
    pge_pass();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_node_restarted, pge_setup, pge_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
