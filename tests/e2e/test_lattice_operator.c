/* The operator's process dies mid-day: the example community (four `plurigrid node` daemons on one
 * nats-server, two days of hourly intervals paced on the wall clock) loses the daemon holding the
 * market-operator role (SIGKILL) after a few intervals. Another member takes the role by the
 * documented rule (the live member whose name sorts first, with the next term) within the
 * documented time (docs/lattice.md: timeout_s + retry_s after the operator's last message, so at
 * most that long after the kill), and the day completes: every surviving daemon settles the last
 * interval and ends with status 0, and the survivors, which each record every settlement the
 * operator publishes, report the same run. */
#include "lattice_e2e.h"

#define TIMEOUT_S 2.0
#define RETRY_S 0.25
/* What a loaded machine may add to the documented time (scheduling, reading the log). */
#define SLACK_S 1.5
#define LATTICE                                                                                    \
    "{\"heartbeat_s\": 0.25, \"timeout_s\": 2, \"retry_s\": 0.25, \"form_s\": 120, "               \
    "\"clock\": \"wall\", \"interval_s\": 0.3}"

static void
test_operator_killed(void **state)
{
    (void)state;
    pge_paths();
    pgt_nats *s = pgt_nats_start();
    pge_proc *p[PGE_MEMBERS];
    char member[PGE_MEMBERS][24];
    for (int i = 0; i < PGE_MEMBERS; i++) {
        snprintf(member[i], sizeof member[i], "home-%d", i + 1);
        p[i] = pge_start_node(member[i], pge_member_file(member[i], LATTICE), pgt_nats_url(s, 0));
    }
    if (pge_wait_award(p, PGE_MEMBERS, 3, 180) < 0)
        fail_msg("no daemon logged an award for interval 3 within 180 s");

    /* Who holds the role (the first-sorting member, home-1, when all are there). */
    char op[64];
    long term = pge_operator(p[0], 0, op, sizeof op);
    assert_true(term >= 1);
    int victim = -1;
    for (int i = 0; i < PGE_MEMBERS; i++)
        if (strcmp(member[i], op) == 0)
            victim = i;
    if (victim < 0)
        fail_msg("the operator named in home-1's log (\"%s\") is not a member", op);
    assert_string_equal(op, "home-1");

    size_t from[PGE_MEMBERS];
    pge_proc *survivors[PGE_MEMBERS];
    size_t ns = 0;
    for (int i = 0; i < PGE_MEMBERS; i++)
        if (i != victim) {
            from[ns] = pge_log_size(p[i]);
            survivors[ns++] = p[i];
        }
    long at_kill = pge_last_award(p[victim], 0);
    pge_kill(p[victim], SIGKILL);
    double t0 = pge_now();

    long who = pge_wait_any_log(survivors, from, ns, PGE_LOG_OPERATOR, 60);
    double took = pge_now() - t0;
    if (who < 0)
        fail_msg("no member took the operator's role within 60 s of the kill");
    char next[64];
    long next_term = pge_operator(survivors[who], from[who], next, sizeof next);
    print_message("[ INFO     ] operator %s (term %ld) killed after interval %ld; %s took the "
                  "role (term %ld) %.2f s later\n",
                  op, term, at_kill, next, next_term, took);
    /* The rule: the live member whose name sorts first, the next term. */
    assert_string_equal(next, "home-2");
    assert_int_equal(next_term, term + 1);
    if (took > TIMEOUT_S + RETRY_S + SLACK_S)
        fail_msg("the role was taken %.2f s after the kill, more than timeout_s + retry_s = "
                 "%.2f s (+ %.1f s for a loaded machine)",
                 took, TIMEOUT_S + RETRY_S, SLACK_S);
    if (at_kill >= PGE_INTERVALS - 1)
        fail_msg("the operator had settled the whole day before it was killed");

    /* The day completes, and every survivor reports the same run. */
    const char *const ops[] = {"home-1 (term 1)", "home-2 (term 2)", NULL};
    pge_assert_operators(p, PGE_MEMBERS, ops);
    json_t *first = NULL;
    for (size_t i = 0; i < ns; i++) {
        assert_int_equal(pge_wait_exit(survivors[i], 240), 0);
        if (pge_last_award(survivors[i], 0) != PGE_INTERVALS - 1)
            fail_msg("%s's last award is for interval %ld, not the day's last (%d)",
                     survivors[i]->name, pge_last_award(survivors[i], 0), PGE_INTERVALS - 1);
        char path[4200];
        snprintf(path, sizeof path, "%s/%s.json", pgt_tmpdir(), survivors[i]->name);
        json_t *got = pge_json_load(path);
        pge_json_strip_counters(got);
        if (!first) {
            first = got;
        } else {
            char what[256];
            snprintf(what, sizeof what, "%s's and %s's reports", survivors[0]->name,
                     survivors[i]->name);
            pge_assert_json_equal(first, got, what);
            json_decref(got);
        }
    }
    json_decref(first);
    pge_assert_operators(p, PGE_MEMBERS, ops);
    pge_pass();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_operator_killed, pge_setup, pge_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
