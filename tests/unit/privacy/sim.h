/* A coalition in one process for the secure-aggregation tests: n members and an aggregator of
 * src/privacy/, keys and randomness from seeds, messages carried by plain function calls, with
 * members dropping out at a chosen round and hooks to watch or withhold what members send.
 * Header-only (static). */
#ifndef PG_TEST_PRIVACY_SIM_H
#define PG_TEST_PRIVACY_SIM_H

#include <string.h>

#include "harness.h"

#include "privacy/common.h"
#include "privacy/internal.h"

#define SIM_NEVER 5 /* drop_at: answers every round */

typedef struct sim sim;
struct sim {
    pgi_secagg_params p;
    uint32_t n, L;
    uint8_t (*pk)[32];
    uint8_t (*sk)[64];
    uint8_t server_pk[32], server_sk[64];
    pgi_secagg_client **c;
    pgi_secagg_server *s;
    int *drop_at;           /* the round from which member i sends nothing (0: never starts) */
    uint64_t *x;            /* n * L inputs */
    uint8_t (*adv)[32 * 2]; /* each member's advertised c_pk, s_pk (as relayed) */
    /* Called with every message a member sends; return false to withhold it from the server. */
    bool (*watch)(sim *m, uint32_t from, const uint8_t *msg, size_t len);
    void *ud;
    int aborted; /* members that refused to go on */
    /* Each member's b and s_sk as it started: what a colluding member hands over. */
    uint8_t (*b)[32], (*s_sk)[32];
};

static inline uint64_t
sim_rand(uint64_t *st)
{
    uint64_t z = (*st += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline void
sim_seed32(uint8_t out[32], uint32_t a, uint32_t b)
{
    uint64_t st = (uint64_t)a << 32 | b;
    for (int i = 0; i < 4; i++) {
        uint64_t v = sim_rand(&st);
        memcpy(out + 8 * i, &v, 8);
    }
}

/* A coalition of n members (threshold t, minimum coalition min, vectors of L values) whose keys
 * and randomness come from seed; everyone answers every round, inputs are zero. */
static inline void
sim_init(sim *m, uint32_t n, uint32_t t, uint32_t min, uint32_t L, uint32_t seed)
{
    memset(m, 0, sizeof *m);
    m->n = n;
    m->L = L;
    m->p.n = n;
    m->p.t = t;
    m->p.min_coalition = min;
    m->p.len = L;
    char label[64];
    snprintf(label, sizeof label, "test/%u", seed);
    pgi_secagg_round_id(m->p.round_id, label, strlen(label));
    m->pk = calloc(n, 32);
    m->sk = calloc(n, 64);
    m->c = calloc(n, sizeof *m->c);
    m->drop_at = calloc(n, sizeof *m->drop_at);
    m->x = calloc((size_t)n * L, sizeof *m->x);
    m->adv = calloc(n, 64);
    m->b = calloc(n, 32);
    m->s_sk = calloc(n, 32);
    assert_non_null(m->pk);
    assert_non_null(m->x);
    uint8_t sd[32];
    for (uint32_t i = 0; i < n; i++) {
        sim_seed32(sd, 1000 + i, 0); /* member keys do not depend on the run's seed */
        assert_int_equal(pgi_secagg_sign_keypair_from_seed(m->pk[i], m->sk[i], sd), PG_OK);
        m->drop_at[i] = SIM_NEVER;
    }
    sim_seed32(sd, 999, 0);
    assert_int_equal(pgi_secagg_sign_keypair_from_seed(m->server_pk, m->server_sk, sd), PG_OK);
    assert_int_equal(
        pgi_secagg_server_new(&m->s, &m->p, (const uint8_t(*)[32])m->pk, m->server_sk, NULL),
        PG_OK);
    for (uint32_t i = 0; i < n; i++) {
        pgi_secagg_rng r;
        sim_seed32(sd, seed, i);
        pgi_secagg_rng_seed(&r, sd);
        assert_int_equal(pgi_secagg_client_new(&m->c[i], &m->p, (const uint8_t(*)[32])m->pk, i,
                                               m->sk[i], m->server_pk, &r, NULL),
                         PG_OK);
    }
}

static inline void
sim_free(sim *m)
{
    for (uint32_t i = 0; i < m->n; i++)
        pgi_secagg_client_free(m->c[i]);
    pgi_secagg_server_free(m->s);
    free(m->pk);
    free(m->sk);
    free(m->c);
    free(m->drop_at);
    free(m->x);
    free(m->adv);
    free(m->b);
    free(m->s_sk);
}

/* A member's message to the server, through the watch hook. */
static inline void
sim_send(sim *m, uint32_t from, uint8_t *msg, size_t len)
{
    if (msg[5] == PGI_SA_ADVERTISE)
        memcpy(m->adv[from], msg + PGI_SA_HEADER, 64);
    if (!m->watch || m->watch(m, from, msg, len)) {
        pg_error err = {0};
        int rc = pgi_secagg_server_receive(m->s, msg, len, &err);
        if (rc)
            fail_msg("the server refused member %u's message: %s", from, err.msg);
    }
    free(msg);
}

/* Round 0: every member with drop_at > 0 advertises. */
static inline void
sim_start(sim *m)
{
    for (uint32_t i = 0; i < m->n; i++) {
        if (m->drop_at[i] <= 0)
            continue;
        uint8_t *msg;
        size_t len;
        assert_int_equal(
            pgi_secagg_client_start(m->c[i], m->x + (size_t)i * m->L, &msg, &len, NULL), PG_OK);
        assert_int_equal(pgi_secagg_client_reveal(m->c[i], m->b[i], m->s_sk[i], NULL), PG_OK);
        sim_send(m, i, msg, len);
    }
}

/* Delivers one server message to member v (alive in round r) and sends its answer. */
static inline int
sim_deliver_one(sim *m, uint32_t v, const uint8_t *data, size_t len, pg_error *err)
{
    uint8_t *reply = NULL;
    size_t rlen = 0;
    int rc = pgi_secagg_client_handle(m->c[v], data, len, &reply, &rlen, err);
    if (rc == PG_OK && reply)
        sim_send(m, v, reply, rlen);
    if (rc && pgi_secagg_client_state_get(m->c[v]) == PGI_SAC_ABORTED)
        m->aborted++;
    return rc;
}

/* Delivers the server's messages of round r to the members still alive in it. */
static inline void
sim_deliver(sim *m, const pgi_secagg_outbox *box, int r)
{
    for (size_t i = 0; i < box->n; i++)
        for (uint32_t v = 0; v < m->n; v++) {
            if (box->msgs[i].to != PGI_SECAGG_ALL && box->msgs[i].to != v)
                continue;
            if (m->drop_at[v] <= r)
                continue;
            pgi_secagg_client_state st = pgi_secagg_client_state_get(m->c[v]);
            if (st == PGI_SAC_ABORTED || st == PGI_SAC_NEW)
                continue;
            pg_error err = {0};
            sim_deliver_one(m, v, box->msgs[i].data, box->msgs[i].len, &err);
        }
}

/* Closes the server's round; returns its status. */
static inline int
sim_advance(sim *m, pgi_secagg_outbox *box)
{
    pg_error err = {0};
    *box = (pgi_secagg_outbox){0};
    return pgi_secagg_server_advance(m->s, box, &err);
}

/* The whole aggregation: rounds 0 to 4 and the unmasking. Returns the last advance's status. */
static inline int
sim_run(sim *m)
{
    sim_start(m);
    for (int r = 1; r <= 5; r++) {
        pgi_secagg_outbox box;
        int rc = sim_advance(m, &box);
        if (rc)
            return rc;
        if (r < 5)
            sim_deliver(m, &box, r);
        pgi_secagg_outbox_free(&box);
    }
    return PG_OK;
}

/* The masked vector in a MASKED message (big-endian words). */
static inline void
sim_masked_values(const uint8_t *msg, size_t L, uint64_t *out)
{
    for (size_t i = 0; i < L; i++) {
        uint64_t v = 0;
        for (int j = 0; j < 8; j++)
            v = v << 8 | msg[PGI_SA_HEADER + 8 * i + (size_t)j];
        out[i] = v;
    }
}

#endif
