/* Secure aggregation on the in-process bus (src/privacy/pnet.c): the exact sum with every member,
 * members dying at random messages of the protocol up to the threshold (the sum is exactly that
 * of the members included, and those are the ones that sent their masked vector), nothing
 * released below it; hostile messages on every subject of the aggregation (garbage, a truncated
 * header, a member's message sent to the members, the aggregator's message sent to it, a message
 * of another aggregation, a replay) are refused and counted and change nothing. */
#include "harness.h"

#include <string.h>

#include "plurigrid/lattice.h"
#include "privacy/internal.h"
#include "privacy/pnet.h"

#define N 6
#define LEN 5

static uint64_t rng_state = 12345;

static uint64_t
next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

typedef struct world {
    uint8_t pk[N][32], sk[N][64], spk[32], ssk[64];
    uint64_t in[N][LEN];
    const uint64_t *inputs[N];
    uint32_t ids[N];
    pgi_secagg_params p;
    pgi_secagg_msg_type die_at[N];
} world;

static void
make(world *w, const char *label)
{
    memset(w, 0, sizeof *w);
    for (int i = 0; i < N; i++) {
        uint8_t seed[32] = {(uint8_t)(i + 1), 3};
        assert_int_equal(pgi_secagg_sign_keypair_from_seed(w->pk[i], w->sk[i], seed), 0);
        for (int k = 0; k < LEN; k++)
            w->in[i][k] = next() % (1ull << 50); /* encoded values are at most 2^53 */
        w->inputs[i] = w->in[i];
        w->ids[i] = (uint32_t)i;
    }
    uint8_t seed[32] = {77};
    assert_int_equal(pgi_secagg_sign_keypair_from_seed(w->spk, w->ssk, seed), 0);
    w->p = (pgi_secagg_params){.n = N, .t = 4, .min_coalition = 4, .len = LEN};
    pgi_secagg_round_id(w->p.round_id, label, strlen(label));
}

static bool
die(void *ud, uint32_t id, pgi_secagg_msg_type type)
{
    world *w = ud;
    return w->die_at[id] && w->die_at[id] == type;
}

static int
run(world *w, pg_bus *bus, const char *label, uint64_t *sum, bool *inc, pgi_pnet_result *res)
{
    pg_error err = {0};
    pgi_pnet_round r = {.bus = bus,
                        .prefix = "pg.test.privacy.v1",
                        .label = label,
                        .params = &w->p,
                        .roster = (const uint8_t(*)[32])w->pk,
                        .server_pk = w->spk,
                        .server_sk = w->ssk,
                        .n_hosted = N,
                        .hosted = w->ids,
                        .member_sk = (const uint8_t(*)[64])w->sk,
                        .inputs = w->inputs,
                        .die = die,
                        .die_ud = w};
    memset(res, 0, sizeof *res);
    res->sum = sum;
    res->included = inc;
    int rc = pgi_pnet_run(&r, res, &err);
    if (rc)
        fail_msg("%s", err.msg);
    return rc;
}

static void
dropouts(void **state)
{
    (void)state;
    pg_error err = {0};
    pg_bus *bus = NULL;
    assert_int_equal(pg_bus_open(&bus, "inproc", NULL, &err), PG_OK);
    const pgi_secagg_msg_type phases[] = {PGI_SA_KEYS, PGI_SA_SHARES_FWD, PGI_SA_CONSIST_REQ,
                                          PGI_SA_UNMASK_REQ};
    for (int trial = 0; trial < 12; trial++) {
        world w;
        char label[16];
        snprintf(label, sizeof label, "d%d", trial);
        make(&w, label);
        int k = trial % 3; /* 0, 1 or 2 = n - t dying */
        for (int q = 0; q < k;) {
            int i = (int)(next() % N);
            if (w.die_at[i])
                continue;
            w.die_at[i] = phases[next() % 4];
            q++;
        }
        uint64_t sum[LEN];
        bool inc[N];
        pgi_pnet_result res;
        run(&w, bus, label, sum, inc, &res);
        assert_true(res.released);
        uint32_t n_inc = 0;
        for (int i = 0; i < N; i++) {
            bool sent = !w.die_at[i] || w.die_at[i] == PGI_SA_CONSIST_REQ ||
                        w.die_at[i] == PGI_SA_UNMASK_REQ;
            assert_int_equal(inc[i], sent);
            n_inc += inc[i];
        }
        assert_int_equal(res.n_included, n_inc);
        for (int v = 0; v < LEN; v++) {
            uint64_t want = 0;
            for (int i = 0; i < N; i++)
                if (inc[i])
                    want += w.in[i][v];
            if (sum[v] != want)
                fail_msg("trial %d value %d: sum %llu, want %llu (%u included)", trial, v,
                         (unsigned long long)sum[v], (unsigned long long)want, res.n_included);
        }
        assert_int_equal(res.server.refused, 0);
    }
    /* three die before masking: 3 < t = 4 survivors, nothing released */
    world w;
    make(&w, "few");
    w.die_at[0] = w.die_at[2] = PGI_SA_KEYS;
    w.die_at[4] = PGI_SA_SHARES_FWD;
    uint64_t sum[LEN] = {0};
    bool inc[N];
    pgi_pnet_result res;
    run(&w, bus, "few", sum, inc, &res);
    assert_false(res.released);
    assert_non_null(strstr(res.failure, "threshold"));
    for (int v = 0; v < LEN; v++)
        assert_true(sum[v] == 0);
    pg_bus_close(bus);
}

/* The aggregator's first message of an aggregation, kept for replaying. */
typedef struct grab {
    uint8_t buf[65536];
    size_t len;
} grab;

static void
on_grab(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    (void)reply;
    grab *g = ctx;
    if (!g->len && len <= sizeof g->buf) {
        memcpy(g->buf, data, len);
        g->len = len;
    }
}

static void
hostile(void **state)
{
    (void)state;
    pg_error err = {0};
    pg_bus *bus = NULL;
    assert_int_equal(pg_bus_open(&bus, "inproc", NULL, &err), PG_OK);
    /* an earlier aggregation's first KEYS message, to replay into the next */
    world w0;
    make(&w0, "first");
    grab g = {0}, adv = {0};
    uint64_t sid, sid2;
    assert_int_equal(pg_bus_subscribe(bus, "pg.test.privacy.v1.first.all", on_grab, &g, &sid, &err),
                     PG_OK);
    assert_int_equal(
        pg_bus_subscribe(bus, "pg.test.privacy.v1.first.srv", on_grab, &adv, &sid2, &err), PG_OK);
    uint64_t sum[LEN];
    bool inc[N];
    pgi_pnet_result res;
    run(&w0, bus, "first", sum, inc, &res);
    assert_true(g.len > 0 && adv.len > 0);
    pg_bus_unsubscribe(bus, sid, &err);
    pg_bus_unsubscribe(bus, sid2, &err);
    /* the hostile messages, queued before the next aggregation starts */
    const char *srv = "pg.test.privacy.v1.second.srv", *all = "pg.test.privacy.v1.second.all";
    uint8_t junk[200];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)next();
    assert_int_equal(pg_bus_publish(bus, srv, junk, sizeof junk, &err), PG_OK);
    assert_int_equal(pg_bus_publish(bus, srv, junk, 3, &err), PG_OK);
    assert_int_equal(pg_bus_publish(bus, all, junk, sizeof junk, &err), PG_OK);
    assert_int_equal(pg_bus_publish(bus, srv, g.buf, g.len, &err), PG_OK); /* not a member's */
    assert_int_equal(pg_bus_publish(bus, all, adv.buf, adv.len, &err),
                     PG_OK); /* not the server's */
    assert_int_equal(pg_bus_publish(bus, "pg.test.privacy.v1.second.m.1", g.buf, g.len, &err),
                     PG_OK); /* another aggregation's */
    assert_int_equal(pg_bus_publish(bus, srv, adv.buf, adv.len, &err), PG_OK); /* a replay */
    world w;
    make(&w, "second");
    run(&w, bus, "second", sum, inc, &res);
    assert_true(res.released);
    assert_int_equal(res.n_included, N);
    for (int v = 0; v < LEN; v++) {
        uint64_t want = 0;
        for (int i = 0; i < N; i++)
            want += w.in[i][v];
        assert_true(sum[v] == want);
    }
    /* at the aggregator: junk, the short one, the server's own, the replay; at the members: the
     * junk (every member), the member's message, the other aggregation's (member 1) */
    assert_int_equal(res.server.refused, 4);
    assert_int_equal(res.members.refused, 2 * N + 1);
    assert_int_equal(res.dropped, 0);
    pg_bus_close(bus);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dropouts),
        cmocka_unit_test(hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
