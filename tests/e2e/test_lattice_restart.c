/* A node process killed and restarted rejoins and trades: the example community (four `plurigrid
 * node` daemons on one nats-server, two days of hourly intervals paced on the wall clock) loses
 * one home's daemon (SIGKILL, not the operator's) after a few intervals; the others drop it after
 * its timeout; the same daemon is started again with the same member file. It announces itself,
 * is taken back, and in the next interval after it is back its bid is acknowledged and it gets an
 * award; over the rest of the day it trades (an award with energy bought or sold). The others
 * keep trading through all of it, and every daemon ends the day with status 0. */
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
    char member[PGE_MEMBERS][16];
    const char *file[PGE_MEMBERS];
    for (int i = 0; i < PGE_MEMBERS; i++) {
        snprintf(member[i], sizeof member[i], "home-%d", i + 1);
        file[i] = pge_member_file(member[i], LATTICE);
        p[i] = pge_start_node(member[i], file[i], pgt_nats_url(s, 0));
    }
    /* After a few intervals with everyone, kill home-3. */
    if (pge_wait_award(&p[VICTIM], 1, 4, 180) < 0)
        fail_msg("%s logged no award for interval 4 within 180 s", member[VICTIM]);
    size_t op_from = pge_log_size(p[0]);
    pge_kill(p[VICTIM], SIGKILL);

    /* The others drop it after its timeout (home-1, the operator, says so). */
    long at = pge_wait_log(p[0], op_from, PGE_LOG_DROP, 60);
    if (at < 0)
        fail_msg("home-1 did not drop %s within 60 s of its kill", member[VICTIM]);
    long dropped_at = pge_last_award(p[0], 0);

    /* Back with the same member file. */
    pge_proc *back = pge_start_node(member[VICTIM], file[VICTIM], pgt_nats_url(s, 0));
    /* Taken back: the operator hears it again (its next message after the drop names it). */
    double t_back = pge_now();
    long first_award = -1;
    long iv[256];
    double kwh[256];
    while (pge_now() < t_back + 120) {
        size_t n = pge_awards(back, 0, iv, kwh, 256);
        if (n) {
            first_award = iv[0];
            break;
        }
        if (!pge_alive(back))
            fail_msg("the restarted %s ended before its first award", member[VICTIM]);
        pge_sleep(0.01);
    }
    if (first_award < 0)
        fail_msg("the restarted %s got no award within 120 s", member[VICTIM]);
    /* The interval the community was in when the restarted daemon joined (its first award must
     * come in the next one, or in the one it joined if it bid in time). */
    long joined_at = pge_last_award(p[0], 0);
    print_message("[ INFO     ] %s killed after interval %ld was dropped by interval %ld; "
                  "restarted, its first award is for interval %ld\n",
                  member[VICTIM], (long)0, dropped_at, first_award);
    assert_true(first_award > dropped_at);
    assert_true(first_award <= joined_at + 1);

    for (int i = 0; i < PGE_MEMBERS; i++)
        if (i != VICTIM)
            assert_int_equal(pge_wait_exit(p[i], 240), 0);
    assert_int_equal(pge_wait_exit(back, 240), 0);

    /* It trades after it is back: some award of the rest of the day moves energy, and it has
     * an award for every interval from its first to the day's last. */
    size_t n = pge_awards(back, 0, iv, kwh, 256);
    assert_true(n > 0 && n <= 256);
    bool traded = false;
    for (size_t k = 0; k < n; k++)
        traded |= kwh[k] != 0;
    if (!traded)
        fail_msg("the restarted %s traded nothing in the %zu intervals after it came back",
                 member[VICTIM], n);
    assert_int_equal(iv[n - 1], PGE_INTERVALS - 1);
    assert_int_equal((long)n, PGE_INTERVALS - first_award);
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
