/* Secure aggregation (src/privacy/secagg_*.c), the protocol of Bonawitz et al. (CCS 2017) with
 * its active-security additions, run in one process:
 * - exact sums for 3 to 50 members with members dropping out after every round, up to n - t;
 * - nothing released below the threshold or the minimum coalition, with the reason;
 * - a false dropout claim (the aggregator says a live member dropped after taking its masked
 *   input) gets the aggregator that member's mask key but never its self-mask seed, and a split
 *   of the members between two survivor sets is refused, so no member's two secrets are both
 *   revealed;
 * - t - 1 colluding members with the aggregator learn nothing of an honest member's input;
 * - the aggregator's view for an input of 0 and of 1e6 is the same but for the masked vector,
 *   whose bytes are indistinguishable (chi-square, Kolmogorov-Smirnov), while the same tests
 *   tell apart an unmasked and a weakly masked variant;
 * - malformed, forged, replayed, misaddressed and out-of-round messages are refused with a
 *   reason and change nothing; the aggregation then still gives the exact sum.
 * Every run is seeded: the tests are deterministic. */
#include "sim.h"

static void
random_inputs(sim *m, uint64_t *st)
{
    for (size_t i = 0; i < (size_t)m->n * m->L; i++)
        m->x[i] = sim_rand(st) % (1ull << 41) - (1ull << 40); /* +-2^40 */
}

/* The sum the coalition should get: the members that sent their masked input. */
static void
expected_sum(const sim *m, uint64_t *out)
{
    memset(out, 0, m->L * sizeof *out);
    for (uint32_t i = 0; i < m->n; i++)
        if (m->drop_at[i] >= 3)
            for (uint32_t j = 0; j < m->L; j++)
                out[j] += m->x[(size_t)i * m->L + j];
}

static void
check_sum(sim *m)
{
    uint64_t *want = calloc(m->L, 8), *got = calloc(m->L, 8);
    bool *inc = calloc(m->n, sizeof *inc);
    uint32_t k = 0, k_want = 0;
    expected_sum(m, want);
    pg_error err = {0};
    assert_int_equal(pgi_secagg_server_state_get(m->s), PGI_SAS_DONE);
    assert_int_equal(pgi_secagg_server_result(m->s, got, inc, &k, &err), PG_OK);
    assert_memory_equal(got, want, m->L * 8);
    for (uint32_t i = 0; i < m->n; i++) {
        assert_int_equal(inc[i], m->drop_at[i] >= 3);
        k_want += m->drop_at[i] >= 3;
    }
    assert_int_equal(k, k_want);
    pgi_secagg_view v;
    pgi_secagg_server_view(m->s, &v);
    assert_int_equal(v.masked_vectors, k_want);
    assert_true(v.saw_sum);
    assert_int_equal(v.u3, k_want);
    assert_int_equal(v.refused, 0);
    free(want);
    free(got);
    free(inc);
}

/* Exact sums with random dropouts (after round 0, 1, 2 or 3; at most n - t in all). */
static void
test_exact_sums_with_dropouts(void **state)
{
    (void)state;
    static const uint32_t sizes[] = {3, 3, 4, 5, 6, 8, 10, 13, 17, 25, 50};
    uint64_t st = 42;
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        uint32_t n = sizes[s];
        for (int variant = 0; variant < 2; variant++) {
            uint32_t t = variant ? pgi_secagg_threshold(n, 0)
                                 : n / 2 + 1 + (uint32_t)(sim_rand(&st) % (n - n / 2));
            sim m;
            sim_init(&m, n, t, 0, 1 + (uint32_t)(sim_rand(&st) % 9), (uint32_t)(100 * s + variant));
            random_inputs(&m, &st);
            uint32_t d = (uint32_t)(sim_rand(&st) % (n - t + 1));
            for (uint32_t k = 0; k < d; k++) {
                uint32_t v = (uint32_t)(sim_rand(&st) % n);
                m.drop_at[v] = 1 + (int)(sim_rand(&st) % 4);
            }
            assert_int_equal(sim_run(&m), PG_OK);
            check_sum(&m);
            sim_free(&m);
        }
    }
}

/* Dropouts in a chosen round: every round, and every count from none to n - t. */
static void
test_dropouts_each_round(void **state)
{
    (void)state;
    for (int r = 0; r <= 4; r++)
        for (uint32_t d = 0; d <= 3; d++) {
            sim m;
            sim_init(&m, 7, 4, 0, 3, (uint32_t)(1000 + 10 * r + d));
            uint64_t st = (uint64_t)r * 7 + d;
            random_inputs(&m, &st);
            for (uint32_t k = 0; k < d; k++)
                m.drop_at[(3 * k + (uint32_t)r) % 7] = r;
            assert_int_equal(sim_run(&m), PG_OK);
            check_sum(&m);
            sim_free(&m);
        }
}

static void
expect_failure(sim *m, int rc, const char *words)
{
    assert_int_equal(rc, PG_ESTATE);
    assert_int_equal(pgi_secagg_server_state_get(m->s), PGI_SAS_FAILED);
    const char *why = pgi_secagg_server_failure(m->s);
    if (!strstr(why, words))
        fail_msg("failure '%s' does not say '%s'", why, words);
    uint64_t sum[8];
    pg_error err = {0};
    assert_int_equal(pgi_secagg_server_result(m->s, sum, NULL, NULL, &err), PG_ESTATE);
    assert_non_null(strstr(err.msg, "nothing is released"));
}

/* Below the threshold, below the minimum coalition, too few unmasking answers: no sum. */
static void
test_below_threshold(void **state)
{
    (void)state;
    for (int r = 1; r <= 4; r++) {
        sim m;
        sim_init(&m, 6, 4, 0, 2, (uint32_t)(2000 + r));
        for (uint32_t k = 0; k < 3; k++)
            m.drop_at[k] = r;
        expect_failure(&m, sim_run(&m), "fewer than the threshold");
        sim_free(&m);
    }
    /* The minimum coalition: t = 4, at least 5 of 6. One dropout is fine, two are not. */
    sim m;
    sim_init(&m, 6, 4, 5, 2, 2010);
    m.drop_at[2] = 2;
    assert_int_equal(sim_run(&m), PG_OK);
    check_sum(&m);
    sim_free(&m);
    sim_init(&m, 6, 4, 5, 2, 2011);
    m.drop_at[2] = 2;
    m.drop_at[4] = 3;
    expect_failure(&m, sim_run(&m), "minimum coalition 5");
    sim_free(&m);
    /* Survivors enough, but fewer than t members answer the unmasking: members 0..2 signed and
     * vanished before unmasking. */
    sim_init(&m, 5, 3, 0, 2, 2012);
    m.drop_at[0] = m.drop_at[1] = m.drop_at[2] = 4;
    expect_failure(&m, sim_run(&m), "fewer than the threshold 3");
    sim_free(&m);
}

/* ---------------------------------------------------------------- adversarial aggregator */

typedef struct reveal_count {
    uint32_t member;
    int b, s;        /* shares of member's b and s_sk revealed */
    uint8_t *masked; /* its masked input, kept by the aggregator */
    size_t masked_len;
    bool withhold_masked;
} reveal_count;

static void
count_unmask(reveal_count *rc, const uint8_t *msg)
{
    size_t k = pgi_sa_get16(msg + PGI_SA_HEADER);
    for (size_t i = 0; i < k; i++) {
        const uint8_t *e = msg + PGI_SA_HEADER + 2 + i * PGI_SA_UNMASK_ENTRY;
        if (pgi_sa_get16(e) != rc->member)
            continue;
        if (e[2] == PGI_SA_KIND_B)
            rc->b++;
        else
            rc->s++;
    }
}

static bool
watch_claim(sim *m, uint32_t from, const uint8_t *msg, size_t len)
{
    reveal_count *rc = m->ud;
    if (msg[5] == PGI_SA_UNMASK)
        count_unmask(rc, msg);
    if (msg[5] == PGI_SA_MASKED && from == rc->member) {
        rc->masked = malloc(len);
        memcpy(rc->masked, msg, len);
        rc->masked_len = len;
        return !rc->withhold_masked; /* the aggregator takes it and claims it never came */
    }
    return true;
}

/* y_u minus the pairwise masks of u with every member of set (computed with u's mask key). */
static void
strip_pairwise(sim *m, uint32_t u, const uint8_t s_sk[32], const bool *set, uint64_t *y)
{
    uint8_t key[32], *scratch = malloc(8 * m->L);
    for (uint32_t v = 0; v < m->n; v++) {
        if (v == u || !set[v])
            continue;
        assert_int_equal(pgi_sa_pair_key(key, "pgsa-mask", m->p.round_id, s_sk, u, m->adv[u] + 32,
                                         v, m->adv[v] + 32),
                         PG_OK);
        pgi_sa_prg_add(y, m->L, key, u < v ? -1 : +1, scratch);
    }
    free(scratch);
}

/* The aggregator withholds member 0's masked input and names it dropped: the others reveal
 * shares of its mask key s_sk, none of its self-mask seed b, member 0 refuses to sign a survivor
 * set without itself, and y_0 stays masked by PRG(b_0) even with every pairwise mask removed. */
static void
test_false_dropout_claim(void **state)
{
    (void)state;
    sim m;
    reveal_count rc = {.member = 0, .withhold_masked = true};
    sim_init(&m, 5, 3, 0, 4, 3000);
    uint64_t st = 3;
    random_inputs(&m, &st);
    m.watch = watch_claim;
    m.ud = &rc;
    assert_int_equal(sim_run(&m), PG_OK);
    assert_int_equal(m.aborted, 1); /* member 0 */
    assert_int_equal(pgi_secagg_client_state_get(m.c[0]), PGI_SAC_ABORTED);
    assert_int_equal(rc.b, 0);
    assert_int_equal(rc.s, 4);
    /* The sum of the others is right. */
    m.drop_at[0] = 2;
    check_sum(&m);
    /* What the aggregator can do with y_0 and s_0: remove every pairwise mask; PRG(b_0) stays. */
    uint64_t y[4], x0[4];
    sim_masked_values(rc.masked, 4, y);
    uint8_t key[32], scratch[32], *b = m.b[0], *s_sk = m.s_sk[0];
    bool all[5] = {true, true, true, true, true};
    strip_pairwise(&m, 0, s_sk, all, y);
    memcpy(x0, m.x, sizeof x0);
    assert_memory_not_equal(y, x0, sizeof y);
    /* ... and only PRG(b_0), which nobody revealed a share of, stands between it and x_0. */
    pgi_sa_self_key(key, m.p.round_id, b);
    pgi_sa_prg_add(y, 4, key, -1, scratch);
    assert_memory_equal(y, x0, sizeof y);
    free(rc.masked);
    sim_free(&m);
}

static uint8_t *
server_msg(sim *m, uint8_t type, uint32_t to, const uint8_t *body, size_t body_len, size_t *len)
{
    uint8_t *msg = pgi_sa_msg_alloc(type, PGI_SECAGG_SERVER, to, m->p.round_id, body_len, len);
    memcpy(msg + PGI_SA_HEADER, body, body_len);
    pgi_sa_msg_sign(msg, *len, m->server_sk);
    return msg;
}

typedef struct split {
    uint8_t sig[8][64];
    bool have[8];
    reveal_count rc;
} split;

static bool
watch_split(sim *m, uint32_t from, const uint8_t *msg, size_t len)
{
    (void)len;
    split *sp = m->ud;
    if (msg[5] == PGI_SA_CONSIST_SIG) {
        memcpy(sp->sig[from], msg + PGI_SA_HEADER, 64);
        sp->have[from] = true;
        return false; /* the adversary collects them itself */
    }
    if (msg[5] == PGI_SA_UNMASK) {
        count_unmask(&sp->rc, msg);
        return false;
    }
    return true;
}

static size_t
unmask_body(uint8_t *out, const uint8_t *set, size_t set_len, const split *sp, const bool *who)
{
    memcpy(out, set, set_len);
    size_t k = 0, at = set_len + 2;
    for (uint32_t v = 0; v < 8; v++)
        if (who[v] && sp->have[v]) {
            pgi_sa_put16(out + at, v);
            memcpy(out + at + 2, sp->sig[v], 64);
            at += 66;
            k++;
        }
    pgi_sa_put16(out + set_len, (uint32_t)k);
    return at;
}

/* An active aggregator shows half the members a survivor set with member 0 and the other half
 * one without: each half signs its own set; the half that would reveal s_0 cannot gather t
 * signatures on its set (t > n/2), and signatures on the other set do not verify on it. So the
 * aggregator gets shares of b_0 or of s_0, never t of both. */
static void
test_split_survivor_sets(void **state)
{
    (void)state;
    sim m;
    split sp = {.rc = {.member = 0}};
    const uint32_t n = 7, t = 4;
    sim_init(&m, n, t, 0, 2, 3100);
    m.watch = watch_split;
    m.ud = &sp;
    sim_start(&m);
    pgi_secagg_outbox box;
    for (int r = 1; r <= 3; r++) { /* keys, shares, masked inputs as usual */
        assert_int_equal(sim_advance(&m, &box), PG_OK);
        if (r < 3)
            sim_deliver(&m, &box, r);
        pgi_secagg_outbox_free(&box);
    }
    uint8_t set_a[2 + 2 * 7], set_b[2 + 2 * 6];
    pgi_sa_put16(set_a, 7);
    pgi_sa_put16(set_b, 6);
    for (uint32_t v = 0; v < 7; v++)
        pgi_sa_put16(set_a + 2 + 2 * v, v);
    for (uint32_t v = 1; v < 7; v++)
        pgi_sa_put16(set_b + 2 * v, v);
    bool in_a[8] = {true, true, true, true},
         in_b[8] = {false, false, false, false, true, true, true};
    size_t len;
    uint8_t *ca = server_msg(&m, PGI_SA_CONSIST_REQ, PGI_SECAGG_ALL, set_a, sizeof set_a, &len);
    uint8_t *cb = server_msg(&m, PGI_SA_CONSIST_REQ, PGI_SECAGG_ALL, set_b, sizeof set_b, &len);
    pg_error err = {0};
    for (uint32_t v = 0; v < n; v++)
        assert_int_equal(sim_deliver_one(&m, v, in_a[v] ? ca : cb,
                                         in_a[v] ? PGI_SA_HEADER + sizeof set_a + 64
                                                 : PGI_SA_HEADER + sizeof set_b + 64,
                                         &err),
                         PG_OK);
    free(ca);
    free(cb);
    uint8_t body[2 + 14 + 2 + 8 * 66];
    /* B is shown its set with the signatures of 1..6, A's included: A's do not verify on set B. */
    bool everyone[8] = {false, true, true, true, true, true, true};
    size_t bl = unmask_body(body, set_b, sizeof set_b, &sp, everyone);
    uint8_t *ub = server_msg(&m, PGI_SA_UNMASK_REQ, PGI_SECAGG_ALL, body, bl, &len);
    for (uint32_t v = 4; v < n; v++) {
        assert_int_equal(sim_deliver_one(&m, v, ub, len, &err), PG_EAUTH);
        assert_non_null(strstr(err.msg, "does not verify"));
    }
    free(ub);
    /* B with its own three signatures: fewer than t, refused for good. */
    bl = unmask_body(body, set_b, sizeof set_b, &sp, in_b);
    ub = server_msg(&m, PGI_SA_UNMASK_REQ, PGI_SECAGG_ALL, body, bl, &len);
    for (uint32_t v = 4; v < n; v++) {
        assert_int_equal(sim_deliver_one(&m, v, ub, len, &err), PG_ESTATE);
        assert_int_equal(pgi_secagg_client_state_get(m.c[v]), PGI_SAC_ABORTED);
    }
    free(ub);
    /* A, shown set B, refuses: it signed set A. */
    ub = server_msg(&m, PGI_SA_UNMASK_REQ, PGI_SECAGG_ALL, body, bl, &len);
    assert_int_equal(sim_deliver_one(&m, 3, ub, len, &err), PG_ESTATE);
    assert_non_null(strstr(err.msg, "another survivor set"));
    free(ub);
    /* A with its four signatures on set A: members 0..2 answer (3 is out), with b-shares of 0. */
    bl = unmask_body(body, set_a, sizeof set_a, &sp, in_a);
    ub = server_msg(&m, PGI_SA_UNMASK_REQ, PGI_SECAGG_ALL, body, bl, &len);
    for (uint32_t v = 0; v < 3; v++)
        assert_int_equal(sim_deliver_one(&m, v, ub, len, &err), PG_OK);
    free(ub);
    assert_int_equal(sp.rc.b, 3);
    assert_int_equal(sp.rc.s, 0);
    assert_false(sp.rc.b >= (int)t && sp.rc.s >= (int)t);
    sim_free(&m);
}

/* ---------------------------------------------------------------- what the aggregator sees */

/* Two-sample chi-square of byte histograms (256 bins, 255 degrees of freedom). */
static double
chi2(const double *a, const double *b)
{
    double na = 0, nb = 0, x = 0;
    for (int i = 0; i < 256; i++)
        na += a[i], nb += b[i];
    for (int i = 0; i < 256; i++) {
        double s = a[i] + b[i];
        if (s > 0) {
            double d = a[i] * sqrt(nb / na) - b[i] * sqrt(na / nb);
            x += d * d / s;
        }
    }
    return x;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Two-sample Kolmogorov-Smirnov statistic over n values each, divided by its 0.1% critical
 * value (1.95 sqrt(2/n)): above 1 means the samples differ. */
static double
ks_ratio(uint64_t *a, uint64_t *b, size_t n)
{
    qsort(a, n, 8, cmp_u64);
    qsort(b, n, 8, cmp_u64);
    size_t i = 0, j = 0;
    double d = 0;
    while (i < n && j < n) {
        if (a[i] <= b[j])
            i++;
        else
            j++;
        double f = fabs((double)i / n - (double)j / n);
        if (f > d)
            d = f;
    }
    return d / (1.95 * sqrt(2.0 / n));
}

static void
histogram(const uint64_t *v, size_t n, double *h)
{
    memset(h, 0, 256 * sizeof *h);
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < 8; j++)
            h[(v[i] >> (8 * j)) & 255]++;
}

typedef struct capture {
    uint64_t *y; /* member 0's masked values, appended */
    size_t n;
    uint8_t **other; /* every other message the aggregator received, in order */
    size_t *other_len, n_other;
} capture;

static bool
watch_capture(sim *m, uint32_t from, const uint8_t *msg, size_t len)
{
    capture *c = m->ud;
    if (msg[5] == PGI_SA_MASKED && from == 0) {
        sim_masked_values(msg, m->L, c->y + c->n);
        c->n += m->L;
    } else if (c->other) {
        c->other[c->n_other] = malloc(len);
        memcpy(c->other[c->n_other], msg, len);
        c->other_len[c->n_other++] = len;
    }
    return true;
}

/* One aggregation of 3 members, member 0's input x0 in every value, the others' from seed. */
static void
run_capture(capture *c, double x0, uint32_t seed, uint32_t L)
{
    sim m;
    sim_init(&m, 3, 2, 0, L, seed);
    uint64_t st = seed;
    random_inputs(&m, &st);
    double *xs = malloc(L * sizeof *xs);
    for (uint32_t i = 0; i < L; i++)
        xs[i] = x0;
    assert_int_equal(pgi_secagg_encode(xs, L, 1.0, m.x, NULL), PG_OK);
    free(xs);
    m.watch = watch_capture;
    m.ud = c;
    assert_int_equal(sim_run(&m), PG_OK);
    check_sum(&m);
    sim_free(&m);
}

/* The aggregator's view for an input of 0 and of 1e6: with the same randomness, every message it
 * receives is byte for byte the same but the masked vector, which differs by the input alone
 * (a uniform mask added mod 2^64: a one-time pad); over many rounds the masked values for the
 * two inputs are indistinguishable to a chi-square test of their bytes and a Kolmogorov-Smirnov
 * test of their values, while the same tests flag an unmasked variant and a variant masked with
 * 16 random bits only. */
static void
test_aggregator_view_indistinguishable(void **state)
{
    (void)state;
    /* Same randomness, inputs 0 and 1e6: the same messages but the masked vector. */
    enum { MAXMSG = 64 };
    capture a = {0}, b = {0};
    uint64_t ya[8], yb[8];
    a.y = ya;
    b.y = yb;
    a.other = calloc(MAXMSG, sizeof *a.other);
    a.other_len = calloc(MAXMSG, sizeof *a.other_len);
    b.other = calloc(MAXMSG, sizeof *b.other);
    b.other_len = calloc(MAXMSG, sizeof *b.other_len);
    run_capture(&a, 0, 77, 8);
    run_capture(&b, 1e6, 77, 8);
    assert_int_equal(a.n_other, b.n_other);
    assert_true(a.n_other >= 9); /* advertise, shares, consistency, unmask (and 2 masked) */
    for (size_t i = 0; i < a.n_other; i++) {
        assert_int_equal(a.other_len[i], b.other_len[i]);
        assert_memory_equal(a.other[i], b.other[i], a.other_len[i]);
        free(a.other[i]);
        free(b.other[i]);
    }
    for (int i = 0; i < 8; i++)
        assert_true(yb[i] - ya[i] == 1000000);
    free(a.other);
    free(a.other_len);
    free(b.other);
    free(b.other_len);

    /* Many rounds, different randomness each. */
    enum { ROUNDS = 50, L = 48, N = ROUNDS * L };
    uint64_t *v0 = malloc(N * 8), *v1 = malloc(N * 8);
    capture c0 = {.y = v0}, c1 = {.y = v1};
    for (uint32_t r = 0; r < ROUNDS; r++) {
        run_capture(&c0, 0, 5000 + r, L);
        run_capture(&c1, 1e6, 9000 + r, L);
    }
    assert_int_equal(c0.n, N);
    double h0[256], h1[256];
    histogram(v0, N, h0);
    histogram(v1, N, h1);
    double x = chi2(h0, h1), ks = ks_ratio(v0, v1, N);
    print_message("masked: chi-square %.1f (critical 330.5), KS %.3f of critical\n", x, ks);
    assert_true(x < 330.5);
    assert_true(ks < 1);

    /* The tests have power: unmasked inputs, and inputs under a 16-bit mask, are told apart. */
    uint64_t st = 1;
    for (size_t i = 0; i < N; i++) {
        v0[i] = 0;
        v1[i] = 1000000;
    }
    histogram(v0, N, h0);
    histogram(v1, N, h1);
    x = chi2(h0, h1);
    print_message("unmasked: chi-square %.1f\n", x);
    assert_true(x > 330.5);
    for (size_t i = 0; i < N; i++) {
        v0[i] = 0 + (sim_rand(&st) & 0xFFFF);
        v1[i] = 1000000 + (sim_rand(&st) & 0xFFFF);
    }
    histogram(v0, N, h0);
    histogram(v1, N, h1);
    x = chi2(h0, h1);
    ks = ks_ratio(v0, v1, N);
    print_message("16-bit mask: chi-square %.1f, KS %.1f of critical\n", x, ks);
    assert_true(x > 330.5);
    assert_true(ks > 1);
    free(v0);
    free(v1);
}

/* t - 1 = 2 colluding members (3 and 4) hand the aggregator their keys. Against honest member 0
 * the adversary knows y_0, b_0 (reconstructed by the aggregator, as for every survivor) and the
 * pairwise masks of 0 with 3 and 4; what remains, z = x_0 + PRG(s_01) + PRG(s_02), is masked by
 * the keys 0 shares with the honest 1 and 2, uniform and independent of x_0: z for x_0 = 0 and
 * x_0 = 1e6 are indistinguishable. With the keys of 1 and 2 as well (all n - 1 others, beyond
 * the threshold), z is x_0 exactly: the test can tell. */
static void
test_colluders_learn_nothing(void **state)
{
    (void)state;
    enum { ROUNDS = 30, L = 32, N = ROUNDS * L };
    uint64_t *z0 = malloc(N * 8), *z1 = malloc(N * 8);
    const bool colluders[5] = {false, false, false, true, true};
    const bool everyone[5] = {false, true, true, true, true};
    for (uint32_t r = 0; r < 2 * ROUNDS; r++) {
        double x0 = r < ROUNDS ? 0 : 1e6;
        sim m;
        sim_init(&m, 5, 3, 0, L, 7000 + r);
        uint64_t st = r;
        random_inputs(&m, &st);
        double xs[L];
        for (int i = 0; i < L; i++)
            xs[i] = x0;
        assert_int_equal(pgi_secagg_encode(xs, L, 1.0, m.x, NULL), PG_OK);
        uint64_t y[L];
        capture c = {.y = y};
        m.watch = watch_capture;
        m.ud = &c;
        assert_int_equal(sim_run(&m), PG_OK);
        check_sum(&m);
        uint8_t key[32], scratch[8 * L], *b0 = m.b[0], *s0 = m.s_sk[0];
        pgi_sa_self_key(key, m.p.round_id, b0);
        pgi_sa_prg_add(y, L, key, -1, scratch);
        uint64_t full[L];
        memcpy(full, y, sizeof full);
        /* Member 0's pairwise key with v is the colluder's too: computed here from 0's side. */
        strip_pairwise(&m, 0, s0, colluders, y);
        memcpy((r < ROUNDS ? z0 : z1) + (r % ROUNDS) * L, y, sizeof y);
        strip_pairwise(&m, 0, s0, everyone, full);
        for (int i = 0; i < L; i++)
            assert_true(full[i] == m.x[i]); /* beyond the threshold: the input itself */
        sim_free(&m);
    }
    double h0[256], h1[256];
    histogram(z0, N, h0);
    histogram(z1, N, h1);
    double x = chi2(h0, h1), ks = ks_ratio(z0, z1, N);
    print_message("colluders: chi-square %.1f (critical 330.5), KS %.3f of critical\n", x, ks);
    assert_true(x < 330.5);
    assert_true(ks < 1);
    free(z0);
    free(z1);
}

/* ---------------------------------------------------------------- refusals */

/* The server refuses, with a reason and without changing anything: every truncation and every
 * flipped byte of an advertisement, a replay, another aggregation's message, a message out of
 * round, a member signing as another, an unknown member, garbage. Then the aggregation runs to
 * the exact sum. */
static void
test_server_refuses(void **state)
{
    (void)state;
    sim m, other;
    sim_init(&m, 4, 3, 0, 2, 8000);
    sim_init(&other, 4, 3, 0, 2, 8001); /* another aggregation (round id) */
    uint8_t *msg, *alien;
    size_t len, alen;
    assert_int_equal(pgi_secagg_client_start(m.c[1], m.x + 2, &msg, &len, NULL), PG_OK);
    assert_int_equal(pgi_secagg_client_start(other.c[1], other.x, &alien, &alen, NULL), PG_OK);
    pg_error err = {0};
    size_t refused = 0;
    for (size_t l = 0; l < len; l++, refused++)
        assert_true(pgi_secagg_server_receive(m.s, msg, l, &err) < 0);
    for (size_t i = 0; i < len; i++)
        for (int bit = 0; bit < 8; bit += 3, refused++) {
            msg[i] ^= (uint8_t)(1 << bit);
            assert_true(pgi_secagg_server_receive(m.s, msg, len, &err) < 0);
            msg[i] ^= (uint8_t)(1 << bit);
        }
    assert_int_equal(pgi_secagg_server_receive(m.s, alien, alen, &err), PG_ESTATE);
    assert_non_null(strstr(err.msg, "another aggregation"));
    refused++;
    /* Member 2 signs a message claiming to be member 1. */
    uint8_t *forged = malloc(len);
    memcpy(forged, msg, len);
    pgi_sa_msg_sign(forged, len, m.sk[2]);
    assert_int_equal(pgi_secagg_server_receive(m.s, forged, len, &err), PG_EAUTH);
    refused++;
    /* An unknown member. */
    pgi_sa_put16(forged + 6, 9);
    pgi_sa_msg_sign(forged, len, m.sk[2]);
    assert_true(pgi_secagg_server_receive(m.s, forged, len, &err) < 0);
    refused++;
    /* Out of round: a MASKED message now, well signed. */
    uint8_t body[16] = {0};
    size_t ml;
    uint8_t *masked = pgi_sa_msg_alloc(PGI_SA_MASKED, 1, PGI_SECAGG_SERVER, m.p.round_id, 16, &ml);
    memcpy(masked + PGI_SA_HEADER, body, 16);
    pgi_sa_msg_sign(masked, ml, m.sk[1]);
    assert_int_equal(pgi_secagg_server_receive(m.s, masked, ml, &err), PG_ESTATE);
    assert_non_null(strstr(err.msg, "out of round"));
    refused++;
    /* Garbage with a valid framing. */
    uint64_t st = 5;
    for (int i = 0; i < 300; i++, refused++) {
        uint8_t g[300];
        size_t gl = 110 + sim_rand(&st) % 190;
        for (size_t j = 0; j < gl; j++)
            g[j] = (uint8_t)sim_rand(&st);
        memcpy(g, "PGSA\1", 5);
        g[5] = (uint8_t)(1 + i % 9);
        pgi_sa_put32(g + 42, (uint32_t)(gl - 110));
        assert_true(pgi_secagg_server_receive(m.s, g, gl, &err) < 0);
    }
    /* The real one, then its replay. */
    assert_int_equal(pgi_secagg_server_receive(m.s, msg, len, &err), PG_OK);
    assert_int_equal(pgi_secagg_server_receive(m.s, msg, len, &err), PG_ESTATE);
    assert_non_null(strstr(err.msg, "already answered"));
    refused++;
    pgi_secagg_view v;
    pgi_secagg_server_view(m.s, &v);
    assert_int_equal(v.refused, refused);
    assert_int_equal(v.msgs_in[PGI_SA_ADVERTISE], 1);
    /* The rest of the aggregation, member 1 already heard. */
    for (uint32_t i = 0; i < 4; i++) {
        if (i == 1)
            continue;
        uint8_t *mm;
        size_t l;
        assert_int_equal(pgi_secagg_client_start(m.c[i], m.x + 2 * i, &mm, &l, NULL), PG_OK);
        sim_send(&m, i, mm, l);
    }
    for (int r = 1; r <= 5; r++) {
        pgi_secagg_outbox box;
        assert_int_equal(sim_advance(&m, &box), PG_OK);
        if (r < 5)
            sim_deliver(&m, &box, r);
        pgi_secagg_outbox_free(&box);
    }
    assert_int_equal(pgi_secagg_server_state_get(m.s), PGI_SAS_DONE);
    free(msg);
    free(alien);
    free(forged);
    free(masked);
    sim_free(&m);
    sim_free(&other);
}

/* A member refuses, with a reason and without changing anything: flipped bytes and truncations
 * of the aggregator's messages, a message signed by someone else, a message for another member,
 * a replay of an earlier round's message, well-signed bodies that are malformed or carry a
 * tampered ciphertext. Then it goes on to the exact sum. */
static void
test_client_refuses(void **state)
{
    (void)state;
    sim m;
    sim_init(&m, 4, 3, 0, 2, 8100);
    uint64_t st = 8;
    random_inputs(&m, &st);
    sim_start(&m);
    pgi_secagg_outbox keys, fwd;
    assert_int_equal(sim_advance(&m, &keys), PG_OK);
    assert_int_equal(keys.n, 1);
    const uint8_t *k = keys.msgs[0].data;
    size_t kl = keys.msgs[0].len;
    uint8_t *bad = malloc(kl);
    pg_error err = {0};
    uint8_t *reply;
    size_t rl;
    for (size_t i = 0; i < kl; i += 7) {
        memcpy(bad, k, kl);
        bad[i] ^= 0x10;
        assert_true(pgi_secagg_client_handle(m.c[0], bad, kl, &reply, &rl, &err) < 0);
        assert_true(pgi_secagg_client_handle(m.c[0], bad, i, &reply, &rl, &err) < 0);
    }
    /* Signed by a member, not the aggregator. */
    memcpy(bad, k, kl);
    pgi_sa_msg_sign(bad, kl, m.sk[1]);
    assert_int_equal(pgi_secagg_client_handle(m.c[0], bad, kl, &reply, &rl, &err), PG_EAUTH);
    /* Well signed, malformed: a count larger than the body. */
    memcpy(bad, k, kl);
    pgi_sa_put16(bad + PGI_SA_HEADER, 65535);
    pgi_sa_msg_sign(bad, kl, m.server_sk);
    assert_int_equal(pgi_secagg_client_handle(m.c[0], bad, kl, &reply, &rl, &err), PG_EPARSE);
    /* Well signed, an advertisement with a key changed: its member's signature fails. */
    memcpy(bad, k, kl);
    bad[PGI_SA_HEADER + 2 + PGI_SA_ADV_MSG + PGI_SA_HEADER + 5] ^= 1;
    pgi_sa_msg_sign(bad, kl, m.server_sk);
    assert_int_equal(pgi_secagg_client_handle(m.c[0], bad, kl, &reply, &rl, &err), PG_EAUTH);
    free(bad);
    pgi_secagg_view v;
    pgi_secagg_client_view(m.c[0], &v);
    assert_true(v.refused > 0);
    assert_int_equal(pgi_secagg_client_state_get(m.c[0]), PGI_SAC_ADVERTISED);
    sim_deliver(&m, &keys, 1);
    /* A replay of KEYS is now out of round. */
    assert_int_equal(pgi_secagg_client_handle(m.c[0], k, kl, &reply, &rl, &err), PG_ESTATE);
    assert_non_null(strstr(err.msg, "out of round"));
    assert_int_equal(sim_advance(&m, &fwd), PG_OK);
    assert_int_equal(fwd.n, 4);
    /* Member 0 gets member 1's forwarded shares: not for it. */
    assert_int_equal(fwd.msgs[1].to, 1);
    assert_int_equal(
        pgi_secagg_client_handle(m.c[0], fwd.msgs[1].data, fwd.msgs[1].len, &reply, &rl, &err),
        PG_EPARSE);
    /* A ciphertext altered by the aggregator (re-signed): does not decrypt. */
    size_t fl = fwd.msgs[0].len;
    bad = malloc(fl);
    memcpy(bad, fwd.msgs[0].data, fl);
    bad[PGI_SA_HEADER + 2 + 40] ^= 1;
    pgi_sa_msg_sign(bad, fl, m.server_sk);
    assert_int_equal(pgi_secagg_client_handle(m.c[0], bad, fl, &reply, &rl, &err), PG_EAUTH);
    assert_non_null(strstr(err.msg, "do not decrypt"));
    /* Another member's shares relabelled as member 2's: the associated data does not match. */
    memcpy(bad, fwd.msgs[0].data, fl);
    memcpy(bad + PGI_SA_HEADER + 2 + PGI_SA_ENTRY + 2, fwd.msgs[0].data + PGI_SA_HEADER + 2 + 2,
           PGI_SA_ENTRY - 2);
    pgi_sa_msg_sign(bad, fl, m.server_sk);
    assert_int_equal(pgi_secagg_client_handle(m.c[0], bad, fl, &reply, &rl, &err), PG_EAUTH);
    free(bad);
    assert_int_equal(pgi_secagg_client_state_get(m.c[0]), PGI_SAC_SHARED);
    sim_deliver(&m, &fwd, 2);
    pgi_secagg_outbox_free(&keys);
    pgi_secagg_outbox_free(&fwd);
    for (int r = 3; r <= 5; r++) {
        pgi_secagg_outbox box;
        assert_int_equal(sim_advance(&m, &box), PG_OK);
        if (r < 5)
            sim_deliver(&m, &box, r);
        pgi_secagg_outbox_free(&box);
    }
    check_sum(&m);
    /* Done: nothing more is answered. */
    assert_int_equal(pgi_secagg_client_state_get(m.c[0]), PGI_SAC_DONE);
    pgi_secagg_client_view(m.c[0], &v);
    assert_int_equal(v.b_revealed, 4);
    assert_int_equal(v.s_revealed, 0);
    assert_int_equal(v.shares_held, 6);
    sim_free(&m);
}

/* Parameters out of range are refused; a server message to a member that has not started is
 * refused. */
static void
test_params(void **state)
{
    (void)state;
    pgi_secagg_params p = {.n = 1, .t = 2, .len = 1};
    uint8_t(*roster)[32] = calloc(PGI_SECAGG_MAX_MEMBERS + 1, 32), sk[64] = {0};
    pgi_secagg_server *s = NULL;
    pgi_secagg_client *c = NULL;
    pg_error err = {0};
    assert_int_equal(pgi_secagg_server_new(&s, &p, (const uint8_t(*)[32])roster, sk, &err),
                     PG_EINVAL);
    p.n = PGI_SECAGG_MAX_MEMBERS + 1;
    assert_int_equal(pgi_secagg_server_new(&s, &p, (const uint8_t(*)[32])roster, sk, &err),
                     PG_EINVAL);
    p.n = 5;
    p.t = 6;
    assert_int_equal(pgi_secagg_server_new(&s, &p, (const uint8_t(*)[32])roster, sk, &err),
                     PG_EINVAL);
    p.t = 1;
    assert_int_equal(pgi_secagg_server_new(&s, &p, (const uint8_t(*)[32])roster, sk, &err),
                     PG_EINVAL);
    /* t <= n/2: two disjoint quorums of t members would exist (an active aggregator shows
     * each its own survivor set and gets t b-shares and t s_sk-shares of the same members). */
    p.t = 2;
    assert_int_equal(pgi_secagg_server_new(&s, &p, (const uint8_t(*)[32])roster, sk, &err),
                     PG_EINVAL);
    assert_non_null(strstr(err.msg, "disjoint quorums"));
    assert_int_equal(
        pgi_secagg_client_new(&c, &p, (const uint8_t(*)[32])roster, 0, sk, sk, NULL, &err),
        PG_EINVAL);
    p.n = 6;
    p.t = 3;
    assert_int_equal(
        pgi_secagg_client_new(&c, &p, (const uint8_t(*)[32])roster, 0, sk, sk, NULL, &err),
        PG_EINVAL);
    p.n = 5;
    p.t = 3;
    p.len = PGI_SECAGG_MAX_LEN + 1;
    assert_int_equal(pgi_secagg_server_new(&s, &p, (const uint8_t(*)[32])roster, sk, &err),
                     PG_EINVAL);
    p.len = 1;
    p.min_coalition = 6;
    assert_int_equal(pgi_secagg_server_new(&s, &p, (const uint8_t(*)[32])roster, sk, &err),
                     PG_EINVAL);
    p.min_coalition = 0;
    assert_int_equal(
        pgi_secagg_client_new(&c, &p, (const uint8_t(*)[32])roster, 5, sk, sk, NULL, &err),
        PG_EINVAL);
    assert_int_equal(
        pgi_secagg_client_new(&c, &p, (const uint8_t(*)[32])roster, 4, sk, sk, NULL, &err), PG_OK);
    uint8_t *reply;
    size_t rl;
    uint8_t junk[200] = {0};
    assert_int_equal(pgi_secagg_client_handle(c, junk, sizeof junk, &reply, &rl, &err), PG_ESTATE);
    pgi_secagg_client_free(c);
    pgi_secagg_client_free(NULL);
    pgi_secagg_server_free(NULL);
    free(roster);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_sums_with_dropouts),
        cmocka_unit_test(test_dropouts_each_round),
        cmocka_unit_test(test_below_threshold),
        cmocka_unit_test(test_false_dropout_claim),
        cmocka_unit_test(test_split_survivor_sets),
        cmocka_unit_test(test_aggregator_view_indistinguishable),
        cmocka_unit_test(test_colluders_learn_nothing),
        cmocka_unit_test(test_server_refuses),
        cmocka_unit_test(test_client_refuses),
        cmocka_unit_test(test_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
