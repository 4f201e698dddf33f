/* A community day on the shared ledger over NATS: the example community (four `plurigrid node`
 * daemons, separate processes, on a real nats-server; two days of hourly intervals), each member
 * with its copy of the community's ledger (a folder made by pg_community_ledger_init, as
 * `plurigrid ledger init` makes it). When the run is over every daemon has ended with status 0,
 * every copy has the same heads (pg_ledger_heads_digest) and the same number of ops, every
 * interval's gate, result and settlement is on it, `plurigrid ledger verify --scenario` finds
 * nothing on any of them (every result recomputed from its gate's bids), and the settlements are
 * those of the run without a ledger (the in-process run).
 *
 * Then the same with the operator killed (SIGKILL) mid-day: another member takes the role over,
 * the day completes, and the survivors' copies end identical and verified (the killed operator's
 * copy too: everything it acknowledged is on disk).
 *
 * And the commands: `plurigrid ledger init`, then `plurigrid community --ledger` (in one process)
 * with the same report as without and copies that verify; a folder without its genesis or key
 * refused with the way forward; the ledger options checked. */
#include "lattice_e2e.h"

#include "plurigrid/community.h"
#include "plurigrid/ledger.h"

#define LATTICE                                                                                    \
    "{\"heartbeat_s\": 0.25, \"timeout_s\": 4, \"retry_s\": 0.25, \"form_s\": 120, "               \
    "\"ledger_sync_s\": 0.5}"
#define LATTICE_WALL                                                                               \
    "{\"heartbeat_s\": 0.25, \"timeout_s\": 2, \"retry_s\": 0.25, \"form_s\": 120, "               \
    "\"clock\": \"wall\", \"interval_s\": 0.3, \"ledger_sync_s\": 0.5}"

/* The ledger folder of the example community in the test's folder. */
static const char *
make_ledger(const char *name)
{
    static char dir[4200];
    snprintf(dir, sizeof dir, "%s/%s", pgt_tmpdir(), name);
    pg_community_options o;
    pg_community_options_init(&o);
    o.data_dir = pge_data;
    pg_community *c = NULL;
    pg_error err = {0};
    if (pg_community_read(&c, pge_scen, &o, &err) || pg_community_ledger_init(c, dir, &err))
        fail_msg("the ledger folder: %s", err.msg);
    pg_community_free(c);
    return dir;
}

/* A member file with the ledger folder. */
static const char *
member_file(const char *member, const char *lattice, const char *ledger)
{
    static char paths[8][4200];
    static size_t next;
    char *path = paths[next++ % 8];
    snprintf(path, sizeof paths[0], "%s/%s.member.json", pgt_tmpdir(), member);
    char text[16384];
    snprintf(text, sizeof text,
             "{\"format\": \"plurigrid-member/1\", \"community\": \"%s\", \"name\": \"%s\",\n"
             " \"data\": \"%s\", \"ledger\": \"%s\",\n \"lattice\": %s}\n",
             pge_scen, member, pge_data, ledger, lattice);
    pgt_write(path, text);
    return path;
}

static int
count_one(void *ud, const pg_ledger_op *op)
{
    (void)op;
    (*(size_t *)ud)++;
    return 0;
}

/* Opens member's copy read-only: its heads digest and op count; every interval's gate, result
 * and settlement there (at least one each). */
static void
inspect(const char *dir, const char *member, pg_ledger_id *heads, size_t *count, bool complete)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/%s.db", dir, member);
    pg_ledger_options o;
    pg_ledger_options_init(&o);
    o.read_only = true;
    pg_ledger *l = NULL;
    pg_error err = {0};
    if (pg_ledger_open(&l, path, NULL, 0, &o, &err))
        fail_msg("%s: %s", path, err.msg);
    assert_int_equal(pg_ledger_heads_digest(l, heads, NULL), PG_OK);
    *count = pg_ledger_count(l);
    for (uint32_t t = 0; complete && t < PGE_INTERVALS; t++) {
        const pg_ledger_record_type types[] = {PG_LEDGER_BID, PG_LEDGER_GATE, PG_LEDGER_RESULT,
                                               PG_LEDGER_SETTLE};
        for (size_t k = 0; k < 4; k++) {
            size_t n = 0;
            assert_int_equal(pg_ledger_each_record(l, types[k], t, count_one, &n, &err), PG_OK);
            if (n == 0)
                fail_msg("%s has no record of type %d for interval %u", path, (int)types[k], t);
        }
    }
    pg_ledger_close(l);
}

/* `plurigrid ledger verify --db F --scenario S --data D` exits 0. */
static void
verify_cli(const char *dir, const char *member)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/%s.db", dir, member);
    const char *args[] = {"ledger", "verify", "--db",   path, "--scenario",
                          pge_scen, "--data", pge_data, NULL};
    char *out = NULL, *err = NULL;
    int code = pgt_run_cli(args, NULL, &out, &err);
    if (code != 0)
        fail_msg("ledger verify of %s exited %d:\n%s%s", path, code, out, err);
    free(out);
    free(err);
}

static void
test_day(void **state)
{
    (void)state;
    pge_paths();
    pgt_nats *s = pgt_nats_start();
    json_t *ref = pge_reference();
    const char *dir = make_ledger("ledger");
    pge_proc *p[PGE_MEMBERS];
    char member[PGE_MEMBERS][24];
    for (int i = 0; i < PGE_MEMBERS; i++) {
        snprintf(member[i], sizeof member[i], "home-%d", i + 1);
        p[i] = pge_start_node(member[i], member_file(member[i], LATTICE, dir), pgt_nats_url(s, 0));
    }
    for (int i = 0; i < PGE_MEMBERS; i++)
        assert_int_equal(pge_wait_exit(p[i], 240), 0);
    pg_ledger_id heads[PGE_MEMBERS];
    size_t count[PGE_MEMBERS];
    for (int i = 0; i < PGE_MEMBERS; i++) {
        inspect(dir, member[i], &heads[i], &count[i], true);
        if (i > 0 && (memcmp(&heads[i], &heads[0], sizeof heads[0]) != 0 || count[i] != count[0]))
            fail_msg("%s's copy (%zu ops) differs from %s's (%zu ops)", member[i], count[i],
                     member[0], count[0]);
        verify_cli(dir, member[i]);
        /* the settlements are the run's without a ledger */
        char path[4200];
        snprintf(path, sizeof path, "%s/%s.json", pgt_tmpdir(), member[i]);
        json_t *got = pge_json_load(path);
        pge_json_strip_counters(got);
        pge_assert_same_runs(ref, got, member[i]);
        json_decref(got);
        /* nothing was rejected */
        if (pge_log_count(p[i], "rejected"))
            fail_msg("%s's log tells of a rejected op", member[i]);
    }
    /* genesis, and per interval 4 bids, 4 readings, a gate, a result and a settlement */
    assert_true(count[0] >= 1 + PGE_INTERVALS * 11);
    print_message("[ INFO     ] every copy: %zu ops, the same heads\n", count[0]);
    json_decref(ref);
    pge_pass();
}

static void
test_operator_killed(void **state)
{
    (void)state;
    pge_paths();
    pgt_nats *s = pgt_nats_start();
    const char *dir = make_ledger("ledger-kill");
    pge_proc *p[PGE_MEMBERS];
    char member[PGE_MEMBERS][24];
    for (int i = 0; i < PGE_MEMBERS; i++) {
        snprintf(member[i], sizeof member[i], "home-%d", i + 1);
        p[i] = pge_start_node(member[i], member_file(member[i], LATTICE_WALL, dir),
                              pgt_nats_url(s, 0));
    }
    if (pge_wait_award(p, PGE_MEMBERS, 5, 180) < 0)
        fail_msg("no daemon logged an award for interval 5 within 180 s");
    char op[64];
    assert_true(pge_operator(p[0], 0, op, sizeof op) >= 1);
    assert_string_equal(op, "home-1");
    long at_kill = pge_last_award(p[0], 0);
    pge_kill(p[0], SIGKILL);
    if (at_kill >= PGE_INTERVALS - 1)
        fail_msg("the operator had settled the whole day before it was killed");
    for (int i = 1; i < PGE_MEMBERS; i++)
        assert_int_equal(pge_wait_exit(p[i], 240), 0);
    const char *const ops[] = {"home-1 (term 1)", "home-2 (term 2)", NULL};
    pge_assert_operators(p, PGE_MEMBERS, ops);
    pg_ledger_id heads[PGE_MEMBERS];
    size_t count[PGE_MEMBERS];
    for (int i = 1; i < PGE_MEMBERS; i++) {
        inspect(dir, member[i], &heads[i], &count[i], true);
        if (i > 1 && (memcmp(&heads[i], &heads[1], sizeof heads[1]) != 0 || count[i] != count[1]))
            fail_msg("survivor %s's copy (%zu ops) differs from %s's (%zu ops)", member[i],
                     count[i], member[1], count[1]);
        verify_cli(dir, member[i]);
    }
    /* the killed operator's copy: what it had, intact */
    inspect(dir, member[0], &heads[0], &count[0], false);
    assert_true(count[0] > 1 && count[0] < count[1]);
    verify_cli(dir, member[0]);
    print_message("[ INFO     ] operator killed after interval %ld; survivors' copies: %zu ops, "
                  "the same heads; the killed operator's: %zu ops\n",
                  at_kill, count[1], count[0]);
    pge_pass();
}

/* The command's side: `plurigrid ledger init` makes the folder; `plurigrid community --ledger`
 * (every member in one process, on the in-process bus) gives the same report as without it and
 * leaves copies that verify; a folder without its genesis or key is refused with the way forward;
 * --ledger-sync-s is checked. */
static void
test_commands(void **state)
{
    (void)state;
    pge_paths();
    char dir[4200], a[4200], b[4200];
    snprintf(dir, sizeof dir, "%s/cli-ledger", pgt_tmpdir());
    snprintf(a, sizeof a, "%s/plain.json", pgt_tmpdir());
    snprintf(b, sizeof b, "%s/ledger.json", pgt_tmpdir());
    {
        const char *args[] = {"ledger", "init",   "--scenario", pge_scen, "--out",
                              dir,      "--data", pge_data,     NULL};
        PGT_EXPECT_CLI(args, 0, "");
    }
    {
        const char *args[] = {"community", pge_scen, "--data", pge_data, "--json", a, NULL};
        PGT_EXPECT_CLI(args, 0, "");
    }
    {
        const char *args[] = {"community", pge_scen,   "--data", pge_data, "--json",
                              b,           "--ledger", dir,      NULL};
        PGT_EXPECT_CLI(args, 0, "");
    }
    char *ta = pgt_slurp(a, NULL), *tb = pgt_slurp(b, NULL);
    assert_string_equal(ta, tb);
    free(ta);
    free(tb);
    pg_ledger_id heads[PGE_MEMBERS];
    size_t count[PGE_MEMBERS];
    for (int i = 0; i < PGE_MEMBERS; i++) {
        char member[24];
        snprintf(member, sizeof member, "home-%d", i + 1);
        inspect(dir, member, &heads[i], &count[i], true);
        assert_memory_equal(&heads[i], &heads[0], sizeof heads[0]);
        verify_cli(dir, member);
    }
    /* no genesis, no key: make the folder first */
    char empty[4200];
    snprintf(empty, sizeof empty, "%s/empty-ledger", pgt_tmpdir());
    {
        const char *args[] = {"community", pge_scen, "--data", pge_data, "--ledger", empty, NULL};
        PGT_EXPECT_CLI(args, 2, "has no genesis.op", "plurigrid ledger init --scenario", empty);
    }
    char key[4300];
    snprintf(key, sizeof key, "%s/home-2.key", dir);
    assert_int_equal(unlink(key), 0);
    const char *m = member_file("home-2", LATTICE, dir);
    {
        const char *args[] = {"node", "--config", m, "--nats", "nats://127.0.0.1:1", NULL};
        PGT_EXPECT_CLI(args, 2, "has no home-2.key", "plurigrid ledger init --scenario");
    }
    {
        const char *args[] = {
            "node", "--config", m, "--nats", "nats://127.0.0.1:1", "--ledger-sync-s", "0", NULL};
        PGT_EXPECT_CLI(args, 2, "--ledger-sync-s must be a number of seconds");
    }
    {
        const char *args[] = {"community", pge_scen, "--ledger-sync-s", "2", NULL};
        PGT_EXPECT_CLI(args, 2, "--ledger-sync-s");
    }
    {
        const char *args[] = {"community", pge_scen, "--ledger", NULL};
        PGT_EXPECT_CLI(args, 2, "--ledger needs");
    }
    pge_pass();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_day, pge_setup, pge_teardown),
        cmocka_unit_test_setup_teardown(test_operator_killed, pge_setup, pge_teardown),
        cmocka_unit_test_setup_teardown(test_commands, pge_setup, pge_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
