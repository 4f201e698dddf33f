/* A community over NATS settles exactly as the in-process run of the same scenario and seed: the
 * example community (examples/lattice: four homes, two days) played by `plurigrid community
 * --nats URL` (every node in one process, one shared connection, then one connection per node)
 * and by four `plurigrid node` daemons (one process per home) on a real nats-server, against
 * `plurigrid community` on the in-process bus. The JSON reports are compared field by field,
 * every number exactly (naming the first difference), leaving out only the bus's message counters
 * should a report carry them; the whole community's reports, in process and on NATS, must also be
 * the same bytes. A daemon's report holds the one run it played, which must equal the in-process
 * run of that variant and market, and the four daemons' reports must be the same. */
#include "lattice_e2e.h"

/* The whole community in one process on NATS (connections: NULL shared, or "per-node"). */
static void
community_on_nats(const char *url, const char *connections, const json_t *ref)
{
    char path[4200], name[64];
    snprintf(name, sizeof name, "nats-%s", connections ? connections : "shared");
    snprintf(path, sizeof path, "%s/%s.json", pgt_tmpdir(), name);
    const char *args[] = {"community", pge_scen, "--data",
                          pge_data,    "--nats", url,
                          "--json",    path,     connections ? "--connections" : NULL,
                          connections, NULL};
    pge_proc *p = pge_start(name, args);
    assert_int_equal(pge_wait_exit(p, 240), 0);
    json_t *got = pge_json_load(path);
    pge_json_strip_counters(got);
    pge_assert_json_equal(ref, got, "the in-process report and the NATS report");
    /* The same bytes, too: the report has no message counters. */
    char inproc[4200];
    snprintf(inproc, sizeof inproc, "%s/inproc.json", pgt_tmpdir());
    size_t la, lb;
    char *a = pgt_slurp(inproc, &la), *b = pgt_slurp(path, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a);
    free(b);
    json_decref(got);
}

static void
test_community_over_nats(void **state)
{
    (void)state;
    pge_paths();
    pgt_nats *s = pgt_nats_start();
    json_t *ref = pge_reference();
    community_on_nats(pgt_nats_url(s, 0), NULL, ref);
    community_on_nats(pgt_nats_url(s, 0), "per-node", ref);
    json_decref(ref);
    pge_pass();
}

/* One daemon per home: each one's report (the run as that process saw it: every member's
 * settlement as the operator published it) equals the in-process market run, field by field. */
static void
test_daemons_over_nats(void **state)
{
    (void)state;
    pge_paths();
    pgt_nats *s = pgt_nats_start();
    json_t *ref = pge_reference();
    pge_proc *p[PGE_MEMBERS];
    char member[PGE_MEMBERS][24];
    for (int i = 0; i < PGE_MEMBERS; i++) {
        snprintf(member[i], sizeof member[i], "home-%d", i + 1);
        p[i] = pge_start_node(member[i], pge_member_file(member[i], NULL), pgt_nats_url(s, 0));
    }
    for (int i = 0; i < PGE_MEMBERS; i++)
        assert_int_equal(pge_wait_exit(p[i], 240), 0);
    json_t *first = NULL;
    for (int i = 0; i < PGE_MEMBERS; i++) {
        char path[4200], what[128];
        snprintf(path, sizeof path, "%s/%s.json", pgt_tmpdir(), member[i]);
        json_t *got = pge_json_load(path);
        pge_json_strip_counters(got);
        pge_assert_same_runs(ref, got, member[i]);
        if (!first) {
            first = got;
        } else {
            snprintf(what, sizeof what, "home-1's and %s's reports", member[i]);
            pge_assert_json_equal(first, got, what);
            json_decref(got);
        }
    }
    json_decref(first);
    json_decref(ref);
    pge_pass();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_community_over_nats, pge_setup, pge_teardown),
        cmocka_unit_test_setup_teardown(test_daemons_over_nats, pge_setup, pge_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
