/* Queue groups on the in-process bus: a message reaches one member of each group that matches it,
 * members in turn (round robin, deterministic), subscriptions outside a group still get every
 * message, members that do not match a subject are not counted, an unsubscribed member leaves the
 * turn to the others, and bad group names are refused. */
#include <limits.h>

#include "harness.h"

#include "lattice/bus_internal.h"
#include "plurigrid/lattice.h"

typedef struct rec {
    const char *name;
    char *log; /* shared, 8192 bytes */
    size_t n;
} rec;

static void
on_rec(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)reply;
    rec *r = ctx;
    size_t k = strlen(r->log);
    snprintf(r->log + k, 8192 - k, "%s%s:%s:%.*s", k ? " " : "", r->name, subject, (int)len,
             (const char *)data);
    r->n++;
}

static uint64_t
qsub(pg_bus *b, const char *pattern, const char *group, rec *r)
{
    pg_error err = {0};
    uint64_t sid = 0;
    int rc = group ? pg_bus_subscribe_queue(b, pattern, group, on_rec, r, &sid, &err)
                   : pg_bus_subscribe(b, pattern, on_rec, r, &sid, &err);
    if (rc)
        fail_msg("subscribe %s: %s", pattern, err.msg);
    return sid;
}

static void
pub(pg_bus *b, const char *subject, const char *text)
{
    pg_error err = {0};
    assert_int_equal(pg_bus_publish(b, subject, text, strlen(text), &err), PG_OK);
}

static void
test_round_robin(void **state)
{
    (void)state;
    pg_bus *b = NULL;
    pg_error err = {0};
    assert_int_equal(pg_bus_open(&b, "inproc", NULL, &err), PG_OK);
    char log[8192] = "";
    rec w1 = {"w1", log, 0}, w2 = {"w2", log, 0}, w3 = {"w3", log, 0}, all = {"all", log, 0};
    rec o = {"o", log, 0};
    qsub(b, "job.*", "workers", &w1);
    qsub(b, "job.>", "workers", &w2);
    qsub(b, "job.*", NULL, &all);
    qsub(b, "job.x", "workers", &w3); /* a member only for job.x */
    qsub(b, "job.*", "other", &o);
    for (int i = 0; i < 4; i++)
        pub(b, "job.y", i % 2 ? "b" : "a");
    pub(b, "job.x", "c");
    pub(b, "job.x", "d");
    pub(b, "job.x", "e");
    pub(b, "job.x", "f");
    assert_int_equal(pg_bus_flush(b, 1, &err), PG_OK);
    /* job.y: members w1, w2 (w3 does not match): messages 0..3 of group "workers" go to the
     * (m mod 2)-th; job.x: members w1, w2, w3, messages 4..7 to the (m mod 3)-th. "other" has one
     * member, which gets everything; "all" is in no group. */
    assert_string_equal(log, "w1:job.y:a all:job.y:a o:job.y:a "
                             "w2:job.y:b all:job.y:b o:job.y:b "
                             "w1:job.y:a all:job.y:a o:job.y:a "
                             "w2:job.y:b all:job.y:b o:job.y:b "
                             "w2:job.x:c all:job.x:c o:job.x:c "
                             "all:job.x:d w3:job.x:d o:job.x:d "
                             "w1:job.x:e all:job.x:e o:job.x:e "
                             "w2:job.x:f all:job.x:f o:job.x:f");
    assert_int_equal(w1.n + w2.n + w3.n, 8);
    assert_int_equal(all.n, 8);
    pg_bus_close(b);
}

/* Every message reaches exactly one member, members share the load evenly, and an unsubscribed
 * member gets nothing more. */
static void
test_exactly_one(void **state)
{
    (void)state;
    pg_bus *b = NULL;
    pg_error err = {0};
    assert_int_equal(pg_bus_open(&b, "inproc", NULL, &err), PG_OK);
    char log[8192] = "";
    rec r[4] = {{"a", log, 0}, {"b", log, 0}, {"c", log, 0}, {"d", log, 0}};
    uint64_t sid[4];
    for (int i = 0; i < 4; i++)
        sid[i] = qsub(b, "q", "g", &r[i]);
    for (int i = 0; i < 400; i++) {
        pub(b, "q", "m");
        if (i % 50 == 49) {
            assert_int_equal(pg_bus_flush(b, 1, &err), PG_OK);
            log[0] = 0;
        }
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(r[i].n, 100);
    assert_int_equal(pg_bus_unsubscribe(b, sid[2], &err), PG_OK);
    for (int i = 0; i < 30; i++)
        pub(b, "q", "m");
    assert_int_equal(pg_bus_flush(b, 1, &err), PG_OK);
    assert_int_equal(r[2].n, 100);
    assert_int_equal(r[0].n + r[1].n + r[3].n, 330);
    assert_int_equal(r[0].n, 110);
    assert_int_equal(r[1].n, 110);
    assert_int_equal(r[3].n, 110);
    pg_bus_stats st;
    pg_bus_get_stats(b, &st);
    assert_int_equal(st.delivered, 430);
    assert_int_equal(pg_bus_max_payload(b), PG_BUS_MAX_PAYLOAD);
    pg_bus_close(b);
}

/* A request answered by one member of a group gets one answer. */
typedef struct echo {
    int n;
    pg_bus *b;
} echo;

static void
on_echo(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    echo *e = ctx;
    e->n++;
    if (reply)
        pg_bus_publish(e->b, reply, data, len, NULL);
}

static void
test_request_to_group(void **state)
{
    (void)state;
    pg_bus *b = NULL;
    pg_error err = {0};
    assert_int_equal(pg_bus_open(&b, "inproc", NULL, &err), PG_OK);
    echo x = {0, b}, y = {0, b};
    assert_int_equal(pg_bus_subscribe_queue(b, "svc", "g", on_echo, &x, NULL, &err), PG_OK);
    assert_int_equal(pg_bus_subscribe_queue(b, "svc", "g", on_echo, &y, NULL, &err), PG_OK);
    for (int i = 0; i < 6; i++) {
        void *ans = NULL;
        size_t len = 0;
        assert_int_equal(pg_bus_request(b, "svc", "hi", 2, 1, &ans, &len, &err), PG_OK);
        assert_int_equal(len, 2);
        free(ans);
    }
    assert_int_equal(x.n, 3);
    assert_int_equal(y.n, 3);
    pg_bus_close(b);
}

static void
test_bad_groups(void **state)
{
    (void)state;
    pg_bus *b = NULL;
    pg_error err = {0};
    assert_int_equal(pg_bus_open(&b, "inproc", NULL, &err), PG_OK);
    char log[8192] = "";
    rec r = {"r", log, 0};
    const char *bad[] = {"", "a b", "g.*", ">", "a..b"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(pg_bus_subscribe_queue(b, "x", bad[i], on_rec, &r, NULL, &err), PG_EINVAL);
        assert_non_null(strstr(err.msg, "queue group"));
    }
    assert_int_equal(pg_bus_subscribe_queue(b, "x", NULL, on_rec, &r, NULL, &err), PG_EINVAL);
    assert_int_equal(pg_bus_subscribe_queue(b, "x", "g", NULL, NULL, NULL, &err), PG_EINVAL);
    assert_int_equal(pg_bus_subscribe_queue(b, "x y", "g", on_rec, &r, NULL, &err), PG_EINVAL);
    assert_int_equal(pg_bus_subscribe_queue(NULL, "x", "g", on_rec, &r, NULL, &err), PG_EINVAL);
    assert_int_equal(pg_bus_max_payload(NULL), 0);
    pg_bus_close(b);
}

/* Each allocation failing in turn, with 40 members in each of 20 groups (more than the bus's
 * small buffers): every call fails cleanly with PG_ENOMEM or succeeds, and when the lists of a
 * delivery cannot be allocated the message still reaches one member of each group. */
static void
test_alloc_failures(void **state)
{
    (void)state;
    static char log[8192];
    static rec r[800];
    long total = -1;
    for (long k = 0;; k++) {
        pg_error err = {0};
        log[0] = 0;
        pgt_alloc_fail_after(k == 0 ? LONG_MAX : k - 1);
        pg_bus *b = NULL;
        int rc = pg_bus_open(&b, "inproc", NULL, &err);
        for (int i = 0; rc == PG_OK && i < 800; i++) {
            char g[16];
            snprintf(g, sizeof g, "g%d", i % 20);
            r[i] = (rec){"m", log, 0};
            rc = pg_bus_subscribe_queue(b, "q.*", g, on_rec, &r[i], NULL, &err);
        }
        if (rc == PG_OK)
            rc = pg_bus_publish(b, "q.x", "1", 1, &err);
        size_t before = 0;
        if (rc == PG_OK)
            rc = pg_bus_flush(b, 1, &err);
        if (k == 0)
            total = pgt_alloc_count();
        pgt_alloc_fail_after(-1);
        if (k == 0) {
            assert_int_equal(rc, PG_OK);
        } else if (rc != PG_OK && rc != PG_ENOMEM) {
            fail_msg("allocation %ld failing gave %d (%s)", k - 1, rc, err.msg);
        }
        if (rc == PG_OK) {
            for (int i = 0; i < 800; i++)
                before += r[i].n;
            assert_int_equal(before, 20); /* one member of each group */
        }
        pg_bus_close(b);
        if (k > total)
            break;
    }
    assert_true(total >= 5);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_robin),      cmocka_unit_test(test_exactly_one),
        cmocka_unit_test(test_request_to_group), cmocka_unit_test(test_bad_groups),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
