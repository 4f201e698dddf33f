/* The lattice run over a real nats-server (tests/nats_fixture.h): a day of scenario 0 played over
 * NATS, with one shared connection and with one connection per node, gives the same report as
 * the in-process runner byte for byte; and two hosts' worth of members (two lattice runs on two
 * threads, each hosting half of the members) trade with each other, each recording every
 * settlement, and both report the in-process run, the non-operator side having recomputed every
 * result from the bids it saw. */
#include "harness.h"
#include "nats_fixture.h"

#include <limits.h>
#include <pthread.h>

#include "community/internal.h"
#include "core/util.h"
#include "plurigrid/community.h"
#include "plurigrid/lattice.h"

static pg_community *
scenario0(size_t days)
{
    pg_community_options o;
    pg_community_options_init(&o);
    o.days = days;
    char data[PATH_MAX];
    snprintf(data, sizeof data, "%s", pgt_data_path("citylearn-2022-fontana"));
    o.data_dir = data;
    pg_community *c = NULL;
    pg_error err = {0};
    if (pg_community_read(&c, pgt_source_path("examples/scenario0/scenario.json"), &o, &err))
        fail_msg("scenario0: %s", err.msg);
    return c;
}

static char *
report_json(const pg_community *c, const pg_lattice_options *lo, double *seconds)
{
    pg_community_options o;
    pg_community_options_init(&o);
    o.lattice = lo;
    pg_community_report *r = NULL;
    pg_error err = {0};
    double t0 = pgi_now();
    int rc = pg_community_run_all(c, &o, &r, &err);
    *seconds = pgi_now() - t0;
    if (rc)
        fail_msg("run: %s", err.msg);
    char *json = NULL;
    assert_int_equal(pg_community_report_json(r, &json, &err), PG_OK);
    pg_community_report_free(r);
    return json;
}

static void
test_day_equal(void **state)
{
    (void)state;
    pgt_nats *s = pgt_nats_start();
    pg_community *c = scenario0(1);
    pg_lattice_options lo;
    pg_lattice_options_init(&lo);
    lo.servers = pgt_nats_url(s, 0);
    double t_in, t_shared, t_per;
    char *a = report_json(c, NULL, &t_in);
    char *b = report_json(c, &lo, &t_shared);
    assert_string_equal(a, b);
    lo.per_node_connections = true;
    char *d = report_json(c, &lo, &t_per);
    assert_string_equal(a, d);
    fprintf(stderr,
            "scenario 0, one day (4 runs of 17 nodes x 24 intervals): in process %.3f s, over "
            "NATS with one connection %.3f s, with a connection per node %.3f s\n",
            t_in, t_shared, t_per);
    free(a);
    free(b);
    free(d);
    pg_community_free(c);
    pgt_nats_stop(s);
}

/* ---------------------------------------------------------------- two hosts */

typedef struct side {
    const pg_community *c;
    const char *url;
    const char **members;
    size_t n_members;
    pg_community_report *r;
    int rc;
    pg_error err;
    size_t recomputed, errors;
} side;

static void
side_log(void *ud, pg_log_level level, const char *msg)
{
    side *s = ud;
    if (strstr(msg, "recomputed from"))
        s->recomputed++;
    if (level == PG_LOG_ERROR) {
        s->errors++;
        fprintf(stderr, "error: %s\n", msg);
    }
}

static void *
side_main(void *arg)
{
    side *s = arg;
    pg_lattice_options lo;
    pg_lattice_options_init(&lo);
    lo.servers = s->url;
    lo.session = "two";
    lo.log = side_log;
    lo.log_ud = s;
    lo.log_level = PG_LOG_DEBUG;
    s->rc =
        pg_community_run_lattice(s->c, s->members, s->n_members, "uniform", &lo, &s->r, &s->err);
    return NULL;
}

static void
assert_same_run(const pg_community_run *a, const pg_community_run *b, size_t T)
{
    assert_int_equal(a->n_nodes, b->n_nodes);
    assert_memory_equal(a->node, b->node, a->n_nodes * sizeof *a->node);
    assert_memory_equal(&a->total, &b->total, sizeof a->total);
    assert_memory_equal(a->price, b->price, T * sizeof(double));
    assert_memory_equal(a->volume_kwh, b->volume_kwh, T * sizeof(double));
    assert_memory_equal(a->grid_import_kwh, b->grid_import_kwh, T * sizeof(double));
    assert_memory_equal(a->grid_export_kwh, b->grid_export_kwh, T * sizeof(double));
}

static void
test_two_hosts(void **state)
{
    (void)state;
    pgt_nats *s = pgt_nats_start();
    pg_community *c = scenario0(1);
    size_t n = pg_community_n_nodes(c);
    /* the in-process run of the same market */
    pg_lattice_options lo;
    pg_lattice_options_init(&lo);
    lo.transport = "inproc";
    pg_community_report *ref = NULL;
    pg_error err = {0};
    assert_int_equal(pg_community_run_lattice(c, NULL, 0, "uniform", &lo, &ref, &err), PG_OK);
    /* odd members on one side, even on the other */
    const char **names[2];
    side sd[2];
    memset(sd, 0, sizeof sd);
    for (int k = 0; k < 2; k++) {
        names[k] = calloc(n, sizeof *names[k]);
        assert_non_null(names[k]);
        sd[k].c = c;
        sd[k].url = pgt_nats_url(s, 0);
        sd[k].members = names[k];
    }
    for (size_t i = 0; i < n; i++) {
        side *x = &sd[i % 2];
        x->members[x->n_members++] = c->nodes[i].name;
    }
    pthread_t tid[2];
    for (int k = 0; k < 2; k++)
        assert_int_equal(pthread_create(&tid[k], NULL, side_main, &sd[k]), 0);
    for (int k = 0; k < 2; k++)
        pthread_join(tid[k], NULL);
    for (int k = 0; k < 2; k++) {
        if (sd[k].rc)
            fail_msg("side %d: %s", k, sd[k].err.msg);
        assert_same_run(&ref->variants[0].baseline, &sd[k].r->variants[0].baseline,
                        ref->n_intervals);
        assert_int_equal(sd[k].errors, 0);
    }
    /* the side without the operator checked every interval's result */
    assert_true(sd[0].recomputed + sd[1].recomputed >= pg_community_n_intervals(c));
    for (int k = 0; k < 2; k++) {
        pg_community_report_free(sd[k].r);
        free(names[k]);
    }
    pg_community_report_free(ref);
    pg_community_free(c);
    pgt_nats_stop(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_day_equal, pgt_nats_teardown),
        cmocka_unit_test_teardown(test_two_hosts, pgt_nats_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
