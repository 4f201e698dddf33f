/* A member's side of secure aggregation (Bonawitz et al., CCS 2017, with the active-security
 * additions): a state machine fed the aggregator's messages, answering each with the next of its
 * own. Round 0 advertises two fresh X25519 keys (c for share transport, s for masks); round 1
 * sends, encrypted to each peer, Shamir shares of the self-mask seed b and of s_sk; round 2 sends
 * the input masked by PRG(b) and by a pairwise mask with every peer that shared; round 3 signs
 * the survivor set; round 4 reveals, for each member, either its b-share (a survivor) or its
 * s_sk-share (a dropped member), never both, and only once. Every secret is wiped at free. */
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "privacy/common.h"

struct pgi_secagg_client {
    pgi_secagg_params p;
    uint32_t self;
    pgi_secagg_client_state state;
    uint8_t (*roster)[32];
    uint8_t server_pk[32];
    uint8_t sign_sk[64];
    pgi_secagg_rng rng;
    uint64_t *x;                    /* the input, len values */
    uint8_t c_pk[32], c_sk[32];     /* share transport */
    uint8_t s_pk[32], s_sk[32];     /* masks */
    uint8_t b[32];                  /* self-mask seed */
    uint8_t *in_u1, *in_u2, *in_u3; /* n flags each */
    uint8_t (*enc_key)[32];         /* n: key of the channel with each peer of U1 */
    uint8_t (*mask_key)[32];        /* n: pairwise mask key with each peer of U1 */
    pgi_shamir_share *b_sh, *s_sh;  /* n: the shares this member holds of each peer's secrets */
    uint8_t *u3_set;                /* the survivor set it signed, as sent */
    size_t u3_set_len;
    pgi_secagg_view view;
};

static uint32_t
need(const pgi_secagg_client *c)
{
    return c->p.min_coalition > c->p.t ? c->p.min_coalition : c->p.t;
}

int
pgi_secagg_client_new(pgi_secagg_client **out, const pgi_secagg_params *p,
                      const uint8_t (*roster)[32], uint32_t self, const uint8_t sign_sk[64],
                      const uint8_t server_pk[32], const pgi_secagg_rng *rng, pg_error *err)
{
    int rc = pgi_sa_check_params(p, err);
    if (rc)
        return rc;
    if (self >= p->n)
        return pg_error_set(err, PG_EINVAL,
                            "secure aggregation: member %u is not in a roster of %u", self, p->n);
    if (sodium_init() < 0)
        return pg_error_set(err, PG_EUNSUPPORTED, "secure aggregation: libsodium did not start");
    pgi_secagg_client *c = calloc(1, sizeof *c);
    if (!c)
        return pg_error_set(err, PG_ENOMEM, "secure aggregation: out of memory");
    size_t n = p->n;
    c->p = *p;
    c->self = self;
    c->roster = malloc(n * 32);
    c->x = calloc(p->len, sizeof *c->x);
    c->in_u1 = calloc(n, 1);
    c->in_u2 = calloc(n, 1);
    c->in_u3 = calloc(n, 1);
    c->enc_key = calloc(n, 32);
    c->mask_key = calloc(n, 32);
    c->b_sh = calloc(n, sizeof *c->b_sh);
    c->s_sh = calloc(n, sizeof *c->s_sh);
    if (!c->roster || !c->x || !c->in_u1 || !c->in_u2 || !c->in_u3 || !c->enc_key || !c->mask_key ||
        !c->b_sh || !c->s_sh) {
        pgi_secagg_client_free(c);
        return pg_error_set(err, PG_ENOMEM, "secure aggregation: out of memory");
    }
    memcpy(c->roster, roster, n * 32);
    memcpy(c->server_pk, server_pk, 32);
    memcpy(c->sign_sk, sign_sk, 64);
    if (rng)
        c->rng = *rng;
    c->state = PGI_SAC_NEW;
    *out = c;
    return PG_OK;
}

void
pgi_secagg_client_free(pgi_secagg_client *c)
{
    if (!c)
        return;
    size_t n = c->p.n;
    if (c->x)
        sodium_memzero(c->x, (size_t)c->p.len * sizeof *c->x);
    if (c->enc_key)
        sodium_memzero(c->enc_key, n * 32);
    if (c->mask_key)
        sodium_memzero(c->mask_key, n * 32);
    if (c->b_sh)
        sodium_memzero(c->b_sh, n * sizeof *c->b_sh);
    if (c->s_sh)
        sodium_memzero(c->s_sh, n * sizeof *c->s_sh);
    free(c->roster);
    free(c->x);
    free(c->in_u1);
    free(c->in_u2);
    free(c->in_u3);
    free(c->enc_key);
    free(c->mask_key);
    free(c->b_sh);
    free(c->s_sh);
    free(c->u3_set);
    sodium_memzero(c, sizeof *c); /* b, s_sk, c_sk, the signing key */
    free(c);
}

static void
keypair(pgi_secagg_rng *rng, uint8_t pk[32], uint8_t sk[32])
{
    pgi_secagg_rng_fill(rng, sk, 32);
    crypto_scalarmult_base(pk, sk);
}

static int
finish(pgi_secagg_client *c, uint8_t *m, size_t len, uint8_t **reply, size_t *reply_len)
{
    pgi_sa_msg_sign(m, len, c->sign_sk);
    c->view.msgs_out[m[5]]++;
    c->view.bytes_out += len;
    *reply = m;
    *reply_len = len;
    return PG_OK;
}

int
pgi_secagg_client_start(pgi_secagg_client *c, const uint64_t *input, uint8_t **msg, size_t *len,
                        pg_error *err)
{
    if (c->state != PGI_SAC_NEW)
        return pg_error_set(err, PG_ESTATE, "secure aggregation: member %u has already started",
                            c->self);
    size_t mlen;
    uint8_t *m = pgi_sa_msg_alloc(PGI_SA_ADVERTISE, c->self, PGI_SECAGG_SERVER, c->p.round_id,
                                  PGI_SA_ADV_BODY, &mlen);
    if (!m)
        return pg_error_set(err, PG_ENOMEM, "secure aggregation: out of memory");
    memcpy(c->x, input, (size_t)c->p.len * sizeof *c->x);
    keypair(&c->rng, c->c_pk, c->c_sk);
    keypair(&c->rng, c->s_pk, c->s_sk);
    pgi_secagg_rng_fill(&c->rng, c->b, 32);
    memcpy(m + PGI_SA_HEADER, c->c_pk, 32);
    memcpy(m + PGI_SA_HEADER + 32, c->s_pk, 32);
    c->state = PGI_SAC_ADVERTISED;
    return finish(c, m, mlen, msg, len);
}

/* Refuses a message: counted, nothing changed. */
static int
refuse(pgi_secagg_client *c, int rc)
{
    c->view.refused++;
    return rc;
}

static int abort_round(pgi_secagg_client *c, pg_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Refuses to go on: the member reveals nothing more in this aggregation. */
static int
abort_round(pgi_secagg_client *c, pg_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    c->state = PGI_SAC_ABORTED;
    pg_error_vset(err, PG_ESTATE, fmt, ap);
    va_end(ap);
    return PG_ESTATE;
}

/* Reads a server message of the type expected now, for this member (or all), signed by the
 * aggregator. */
static int
open_server(pgi_secagg_client *c, const void *msg, size_t len, uint8_t type, uint32_t to,
            pgi_sa_header *h, pg_error *err)
{
    int rc = pgi_sa_msg_open(msg, len, type, c->p.round_id, h, err);
    if (rc)
        return rc;
    if (h->sender != PGI_SECAGG_SERVER)
        return pg_error_set(err, PG_EAUTH,
                            "secure aggregation: a server message claims to come from member %u",
                            (unsigned)h->sender);
    if (h->to != to)
        return pg_error_set(
            err, PG_EPARSE,
            "secure aggregation: a server message addressed to %u reached member %u",
            (unsigned)h->to, c->self);
    return pgi_sa_msg_verify(msg, len, h, c->server_pk, err);
}

/* KEYS: the advertisements of U1, each checked against its member's roster key. */
static int
on_keys(pgi_secagg_client *c, const pgi_sa_header *h, uint8_t **reply, size_t *reply_len,
        pg_error *err)
{
    const uint8_t *b = h->body;
    if (h->body_len < 2)
        return pg_error_set(err, PG_EPARSE, "secure aggregation: a KEYS message without a count");
    size_t k = pgi_sa_get16(b);
    if ((size_t)h->body_len != 2 + k * PGI_SA_ADV_MSG || k > c->p.n)
        return pg_error_set(err, PG_EPARSE,
                            "secure aggregation: a KEYS message of %u bytes does not hold %zu "
                            "advertisements",
                            h->body_len, k);
    size_t n = c->p.n;
    uint8_t *u1 = calloc(n, 1);
    uint8_t(*ek)[32] = calloc(n, 32);
    uint8_t(*mk)[32] = calloc(n, 32);
    int rc = PG_OK;
    if (!u1 || !ek || !mk) {
        rc = pg_error_set(err, PG_ENOMEM, "secure aggregation: out of memory");
        goto out;
    }
    bool self_seen = false;
    long prev = -1;
    for (size_t i = 0; i < k; i++) {
        const uint8_t *a = b + 2 + i * PGI_SA_ADV_MSG;
        pgi_sa_header ah;
        rc = pgi_sa_msg_open(a, PGI_SA_ADV_MSG, PGI_SA_ADVERTISE, c->p.round_id, &ah, err);
        if (rc)
            goto out;
        uint32_t v = ah.sender;
        if (v >= n || (long)v <= prev || ah.to != PGI_SECAGG_SERVER ||
            ah.body_len != PGI_SA_ADV_BODY) {
            rc = pg_error_set(err, PG_EPARSE,
                              "secure aggregation: advertisement %zu of a KEYS message is not of a "
                              "member in order",
                              i);
            goto out;
        }
        rc = pgi_sa_msg_verify(a, PGI_SA_ADV_MSG, &ah, c->roster[v], err);
        if (rc)
            goto out;
        prev = v;
        u1[v] = 1;
        const uint8_t *cpk = ah.body, *spk = ah.body + 32;
        if (v == c->self) {
            if (sodium_memcmp(cpk, c->c_pk, 32) || sodium_memcmp(spk, c->s_pk, 32)) {
                rc = pg_error_set(err, PG_EAUTH,
                                  "secure aggregation: the KEYS message does not carry this "
                                  "member's own keys");
                goto out;
            }
            self_seen = true;
            continue;
        }
        if (pgi_sa_pair_key(ek[v], "pgsa-enc", c->p.round_id, c->c_sk, c->self, c->c_pk, v, cpk) ||
            pgi_sa_pair_key(mk[v], "pgsa-mask", c->p.round_id, c->s_sk, c->self, c->s_pk, v, spk)) {
            rc = pg_error_set(err, PG_EAUTH,
                              "secure aggregation: member %u advertised a public key of small "
                              "order",
                              (unsigned)v);
            goto out;
        }
    }
    if (!self_seen) {
        rc = pg_error_set(err, PG_EPARSE,
                          "secure aggregation: the KEYS message leaves this member out");
        goto out;
    }
    if (k < c->p.t) {
        rc = abort_round(c, err,
                         "secure aggregation: only %u members advertised keys, fewer than the "
                         "threshold %u: this member goes no further",
                         (unsigned)k, c->p.t);
        c->view.u1 = (uint32_t)k;
        goto out;
    }

    /* Shares of b and s_sk for every member of U1 (x = id + 1). */
    uint16_t *xs = malloc(k * sizeof *xs);
    pgi_shamir_share *bs = malloc(k * sizeof *bs), *ss = malloc(k * sizeof *ss);
    size_t mlen = 0;
    uint8_t *m = NULL;
    if (xs && bs && ss)
        m = pgi_sa_msg_alloc(PGI_SA_SHARES, c->self, PGI_SECAGG_SERVER, c->p.round_id,
                             2 + (k - 1) * PGI_SA_ENTRY, &mlen);
    if (!m) {
        rc = pg_error_set(err, PG_ENOMEM, "secure aggregation: out of memory");
    } else {
        size_t j = 0;
        for (uint32_t v = 0; v < n; v++)
            if (u1[v])
                xs[j++] = (uint16_t)(v + 1);
        rc = pgi_shamir_split(c->b, c->p.t, xs, k, bs, &c->rng, err);
        if (!rc)
            rc = pgi_shamir_split(c->s_sk, c->p.t, xs, k, ss, &c->rng, err);
    }
    if (!rc) {
        uint8_t *e = m + PGI_SA_HEADER;
        pgi_sa_put16(e, (uint32_t)(k - 1));
        e += 2;
        uint8_t plain[PGI_SA_PLAIN], ad[36];
        for (size_t i = 0; i < k; i++) {
            uint32_t v = xs[i] - 1u;
            if (v == c->self) {
                c->b_sh[v] = bs[i];
                c->s_sh[v] = ss[i];
                continue;
            }
            pgi_sa_put16(plain, c->self);
            pgi_sa_put16(plain + 2, v);
            pgi_shamir_share_pack(&bs[i], plain + 4);
            pgi_shamir_share_pack(&ss[i], plain + 4 + PGI_SHAMIR_SHARE_BYTES);
            memcpy(ad, c->p.round_id, 32);
            pgi_sa_put16(ad + 32, c->self);
            pgi_sa_put16(ad + 34, v);
            pgi_sa_put16(e, v);
            pgi_secagg_rng_fill(&c->rng, e + 2, 24);
            crypto_aead_xchacha20poly1305_ietf_encrypt(e + 26, NULL, plain, sizeof plain, ad,
                                                       sizeof ad, NULL, e + 2, ek[v]);
            e += PGI_SA_ENTRY;
        }
        sodium_memzero(plain, sizeof plain);
        memcpy(c->in_u1, u1, n);
        memcpy(c->enc_key, ek, n * 32);
        memcpy(c->mask_key, mk, n * 32);
        c->view.u1 = (uint32_t)k;
        c->state = PGI_SAC_SHARED;
        sodium_memzero(c->c_sk, sizeof c->c_sk); /* the channel keys are derived */
        finish(c, m, mlen, reply, reply_len);
        m = NULL;
    }
    free(m);
    if (bs)
        sodium_memzero(bs, k * sizeof *bs);
    if (ss)
        sodium_memzero(ss, k * sizeof *ss);
    free(xs);
    free(bs);
    free(ss);
out:
    if (ek)
        sodium_memzero(ek, n * 32);
    if (mk)
        sodium_memzero(mk, n * 32);
    free(u1);
    free(ek);
    free(mk);
    return rc;
}

/* SHARES_FWD: the shares peers of U2 sent this member; answered with the masked input. */
static int
on_shares(pgi_secagg_client *c, const pgi_sa_header *h, uint8_t **reply, size_t *reply_len,
          pg_error *err)
{
    size_t n = c->p.n, L = c->p.len;
    if (h->body_len < 2)
        return pg_error_set(err, PG_EPARSE, "secure aggregation: a SHARES_FWD without a count");
    size_t k = pgi_sa_get16(h->body);
    if ((size_t)h->body_len != 2 + k * PGI_SA_ENTRY || k >= n)
        return pg_error_set(err, PG_EPARSE,
                            "secure aggregation: a SHARES_FWD of %u bytes does not hold %zu shares",
                            h->body_len, k);
    uint8_t *u2 = calloc(n, 1);
    pgi_shamir_share *bs = calloc(n, sizeof *bs), *ss = calloc(n, sizeof *ss);
    uint64_t *y = malloc(L * sizeof *y);
    uint8_t *scratch = malloc(8 * L);
    uint8_t *m = NULL;
    size_t mlen = 0;
    int rc = PG_OK;
    if (!u2 || !bs || !ss || !y || !scratch) {
        rc = pg_error_set(err, PG_ENOMEM, "secure aggregation: out of memory");
        goto out;
    }
    long prev = -1;
    uint8_t plain[PGI_SA_PLAIN], ad[36];
    for (size_t i = 0; i < k; i++) {
        const uint8_t *e = h->body + 2 + i * PGI_SA_ENTRY;
        uint32_t u = pgi_sa_get16(e);
        if (u >= n || (long)u <= prev || u == c->self || !c->in_u1[u]) {
            rc = pg_error_set(err, PG_EPARSE,
                              "secure aggregation: share %zu of a SHARES_FWD is not from a peer "
                              "that advertised keys, in order",
                              i);
            goto out;
        }
        prev = u;
        memcpy(ad, c->p.round_id, 32);
        pgi_sa_put16(ad + 32, u);
        pgi_sa_put16(ad + 34, c->self);
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, NULL, NULL, e + 26, PGI_SA_CT, ad,
                                                       sizeof ad, e + 2, c->enc_key[u]) != 0) {
            rc = pg_error_set(err, PG_EAUTH,
                              "secure aggregation: the shares from member %u do not decrypt "
                              "(forged or altered)",
                              (unsigned)u);
            goto out;
        }
        pgi_shamir_share_unpack(plain + 4, &bs[u]);
        pgi_shamir_share_unpack(plain + 4 + PGI_SHAMIR_SHARE_BYTES, &ss[u]);
        if (pgi_sa_get16(plain) != u || pgi_sa_get16(plain + 2) != c->self ||
            bs[u].x != c->self + 1 || ss[u].x != c->self + 1) {
            sodium_memzero(plain, sizeof plain);
            rc = pg_error_set(err, PG_EAUTH,
                              "secure aggregation: the shares from member %u name other members",
                              (unsigned)u);
            goto out;
        }
        u2[u] = 1;
    }
    sodium_memzero(plain, sizeof plain);
    if (k + 1 < c->p.t) {
        c->view.u2 = (uint32_t)(k + 1);
        rc = abort_round(c, err,
                         "secure aggregation: only %u members shared keys, fewer than the "
                         "threshold %u: this member goes no further",
                         (unsigned)(k + 1), c->p.t);
        goto out;
    }
    /* y = x + PRG(b) + sum over peers v of U2 of +PRG(s_uv) (u < v) or -PRG(s_uv) (u > v). */
    memcpy(y, c->x, L * sizeof *y);
    uint8_t key[32];
    pgi_sa_self_key(key, c->p.round_id, c->b);
    pgi_sa_prg_add(y, L, key, +1, scratch);
    for (uint32_t v = 0; v < n; v++)
        if (u2[v])
            pgi_sa_prg_add(y, L, c->mask_key[v], c->self < v ? +1 : -1, scratch);
    sodium_memzero(key, sizeof key);
    m = pgi_sa_msg_alloc(PGI_SA_MASKED, c->self, PGI_SECAGG_SERVER, c->p.round_id, 8 * L, &mlen);
    if (!m) {
        rc = pg_error_set(err, PG_ENOMEM, "secure aggregation: out of memory");
        goto out;
    }
    for (size_t i = 0; i < L; i++)
        for (int j = 0; j < 8; j++)
            m[PGI_SA_HEADER + 8 * i + (size_t)j] = (uint8_t)(y[i] >> (56 - 8 * j));
    u2[c->self] = 1;
    for (uint32_t v = 0; v < n; v++)
        if (u2[v] && v != c->self) {
            c->b_sh[v] = bs[v];
            c->s_sh[v] = ss[v];
        }
    memcpy(c->in_u2, u2, n);
    c->view.u2 = (uint32_t)(k + 1);
    c->view.shares_held = 2 * k;
    c->state = PGI_SAC_MASKED;
    /* The input and the pairwise keys are no longer needed. */
    sodium_memzero(c->x, L * sizeof *c->x);
    sodium_memzero(c->enc_key, n * 32);
    sodium_memzero(c->mask_key, n * 32);
    sodium_memzero(c->b, sizeof c->b);
    sodium_memzero(c->s_sk, sizeof c->s_sk);
    finish(c, m, mlen, reply, reply_len);
    m = NULL;
out:
    free(m);
    if (bs)
        sodium_memzero(bs, n * sizeof *bs);
    if (ss)
        sodium_memzero(ss, n * sizeof *ss);
    if (y)
        sodium_memzero(y, L * sizeof *y);
    free(u2);
    free(bs);
    free(ss);
    free(y);
    free(scratch);
    return rc;
}

/* Reads a set of member ids (count, then ascending ids) at p, at most avail bytes; fills flags.
 * Returns its size in bytes, or 0 when malformed. */
static size_t
read_set(const uint8_t *p, size_t avail, uint32_t n, uint8_t *flags, uint32_t *count)
{
    if (avail < 2)
        return 0;
    size_t k = pgi_sa_get16(p);
    if (k > n || avail < 2 + 2 * k)
        return 0;
    long prev = -1;
    for (size_t i = 0; i < k; i++) {
        uint32_t v = pgi_sa_get16(p + 2 + 2 * i);
        if (v >= n || (long)v <= prev)
            return 0;
        prev = v;
        flags[v] = 1;
    }
    *count = (uint32_t)k;
    return 2 + 2 * k;
}

/* CONSIST_REQ: the survivor set U3; signed when it is consistent with what this member saw. */
static int
on_consist(pgi_secagg_client *c, const pgi_sa_header *h, uint8_t **reply, size_t *reply_len,
           pg_error *err)
{
    size_t n = c->p.n;
    uint8_t *u3 = calloc(n, 1);
    uint8_t *stmt = NULL, *set = NULL, *m = NULL;
    size_t stmt_len = 0, mlen = 0;
    uint32_t k = 0;
    int rc = PG_OK;
    if (!u3) {
        rc = pg_error_set(err, PG_ENOMEM, "secure aggregation: out of memory");
        goto out;
    }
    if (read_set(h->body, h->body_len, c->p.n, u3, &k) != h->body_len) {
        rc = pg_error_set(err, PG_EPARSE,
                          "secure aggregation: a CONSIST_REQ is not a set of members in order");
        goto out;
    }
    c->view.u3 = k;
    for (uint32_t v = 0; v < n; v++)
        if (u3[v] && !c->in_u2[v]) {
            rc = abort_round(c, err,
                             "secure aggregation: the survivor set names member %u, which did "
                             "not share keys with member %u: refused",
                             v, c->self);
            goto out;
        }
    if (!u3[c->self]) {
        rc = abort_round(c, err,
                         "secure aggregation: the survivor set of %u members leaves out member "
                         "%u, which sent its masked input: refused",
                         k, c->self);
        goto out;
    }
    if (k < need(c)) {
        rc = abort_round(c, err,
                         "secure aggregation: the survivor set has %u members, fewer than the "
                         "threshold or minimum coalition %u: refused",
                         k, need(c));
        goto out;
    }
    set = malloc(h->body_len);
    stmt = set ? pgi_sa_statement(c->p.round_id, h->body, h->body_len, &stmt_len) : NULL;
    m = stmt ? pgi_sa_msg_alloc(PGI_SA_CONSIST_SIG, c->self, PGI_SECAGG_SERVER, c->p.round_id,
                                crypto_sign_ed25519_BYTES, &mlen)
             : NULL;
    if (!m) {
        rc = pg_error_set(err, PG_ENOMEM, "secure aggregation: out of memory");
        goto out;
    }
    crypto_sign_ed25519_detached(m + PGI_SA_HEADER, NULL, stmt, stmt_len, c->sign_sk);
    memcpy(set, h->body, h->body_len);
    c->u3_set = set;
    c->u3_set_len = h->body_len;
    set = NULL;
    memcpy(c->in_u3, u3, n);
    c->state = PGI_SAC_SIGNED;
    finish(c, m, mlen, reply, reply_len);
    m = NULL;
out:
    free(u3);
    free(stmt);
    free(set);
    free(m);
    return rc;
}

/* UNMASK_REQ: U3 again with at least t members' signatures on it; answered once with b-shares
 * of U3 and s_sk-shares of U2 \ U3. */
static int
on_unmask(pgi_secagg_client *c, const pgi_sa_header *h, uint8_t **reply, size_t *reply_len,
          pg_error *err)
{
    size_t n = c->p.n;
    if (h->body_len < c->u3_set_len + 2 || memcmp(h->body, c->u3_set, c->u3_set_len) != 0) {
        return abort_round(c, err,
                           "secure aggregation: the unmasking request names another survivor "
                           "set than the one member %u signed: refused",
                           c->self);
    }
    const uint8_t *p = h->body + c->u3_set_len;
    size_t k4 = pgi_sa_get16(p);
    if ((size_t)h->body_len != c->u3_set_len + 2 + k4 * (2 + 64) || k4 > n)
        return pg_error_set(err, PG_EPARSE,
                            "secure aggregation: an UNMASK_REQ of %u bytes does not hold %zu "
                            "signatures",
                            h->body_len, k4);
    uint8_t *stmt = NULL, *m = NULL;
    size_t stmt_len = 0, mlen = 0;
    int rc = PG_OK;
    stmt = pgi_sa_statement(c->p.round_id, c->u3_set, c->u3_set_len, &stmt_len);
    if (!stmt) {
        rc = pg_error_set(err, PG_ENOMEM, "secure aggregation: out of memory");
        goto out;
    }
    long prev = -1;
    for (size_t i = 0; i < k4; i++) {
        const uint8_t *e = p + 2 + i * 66;
        uint32_t v = pgi_sa_get16(e);
        if (v >= n || (long)v <= prev || !c->in_u3[v]) {
            rc = pg_error_set(err, PG_EPARSE,
                              "secure aggregation: signature %zu of an UNMASK_REQ is not of a "
                              "survivor, in order",
                              i);
            goto out;
        }
        prev = v;
        if (crypto_sign_ed25519_verify_detached(e + 2, stmt, stmt_len, c->roster[v]) != 0) {
            rc = pg_error_set(err, PG_EAUTH,
                              "secure aggregation: member %u's signature on the survivor set "
                              "does not verify",
                              v);
            goto out;
        }
    }
    if (k4 < c->p.t) {
        rc = abort_round(c, err,
                         "secure aggregation: only %u members signed the survivor set, fewer "
                         "than the threshold %u: refused",
                         (unsigned)k4, c->p.t);
        goto out;
    }
    size_t entries = 0;
    for (uint32_t v = 0; v < n; v++)
        if (c->in_u2[v])
            entries++;
    m = pgi_sa_msg_alloc(PGI_SA_UNMASK, c->self, PGI_SECAGG_SERVER, c->p.round_id,
                         2 + entries * PGI_SA_UNMASK_ENTRY, &mlen);
    if (!m) {
        rc = pg_error_set(err, PG_ENOMEM, "secure aggregation: out of memory");
        goto out;
    }
    uint8_t *e = m + PGI_SA_HEADER;
    pgi_sa_put16(e, (uint32_t)entries);
    e += 2;
    for (uint32_t v = 0; v < n; v++) {
        if (!c->in_u2[v])
            continue;
        /* Survivors: b. Dropped: s_sk. One or the other, never both. */
        bool survivor = c->in_u3[v] != 0;
        pgi_sa_put16(e, v);
        e[2] = survivor ? PGI_SA_KIND_B : PGI_SA_KIND_S;
        pgi_shamir_share_pack(survivor ? &c->b_sh[v] : &c->s_sh[v], e + 3);
        if (survivor)
            c->view.b_revealed++;
        else
            c->view.s_revealed++;
        e += PGI_SA_UNMASK_ENTRY;
    }
    c->view.u4 = (uint32_t)k4;
    sodium_memzero(c->b_sh, n * sizeof *c->b_sh);
    sodium_memzero(c->s_sh, n * sizeof *c->s_sh);
    c->state = PGI_SAC_DONE;
    finish(c, m, mlen, reply, reply_len);
    m = NULL;
out:
    free(stmt);
    free(m);
    return rc;
}

int
pgi_secagg_client_handle(pgi_secagg_client *c, const void *msg, size_t len, uint8_t **reply,
                         size_t *reply_len, pg_error *err)
{
    static const uint8_t expect[] = {
        [PGI_SAC_ADVERTISED] = PGI_SA_KEYS,
        [PGI_SAC_SHARED] = PGI_SA_SHARES_FWD,
        [PGI_SAC_MASKED] = PGI_SA_CONSIST_REQ,
        [PGI_SAC_SIGNED] = PGI_SA_UNMASK_REQ,
    };
    if (c->state == PGI_SAC_NEW || c->state == PGI_SAC_DONE || c->state == PGI_SAC_ABORTED) {
        c->view.refused++;
        return pg_error_set(err, PG_ESTATE,
                            "secure aggregation: member %u expects no message from the aggregator "
                            "(%s)",
                            c->self,
                            c->state == PGI_SAC_NEW    ? "not started"
                            : c->state == PGI_SAC_DONE ? "its part is over"
                                                       : "it has aborted");
    }
    uint8_t type = expect[c->state];
    uint32_t to = type == PGI_SA_SHARES_FWD ? c->self : PGI_SECAGG_ALL;
    pgi_sa_header h;
    int rc = open_server(c, msg, len, type, to, &h, err);
    if (rc)
        return refuse(c, rc);
    *reply = NULL;
    *reply_len = 0;
    switch (type) {
    case PGI_SA_KEYS: rc = on_keys(c, &h, reply, reply_len, err); break;
    case PGI_SA_SHARES_FWD: rc = on_shares(c, &h, reply, reply_len, err); break;
    case PGI_SA_CONSIST_REQ: rc = on_consist(c, &h, reply, reply_len, err); break;
    default: rc = on_unmask(c, &h, reply, reply_len, err); break;
    }
    if (rc) {
        if (c->state != PGI_SAC_ABORTED)
            c->view.refused++;
        return rc;
    }
    c->view.msgs_in[type]++;
    c->view.bytes_in += len;
    return PG_OK;
}

pgi_secagg_client_state
pgi_secagg_client_state_get(const pgi_secagg_client *c)
{
    return c->state;
}

void
pgi_secagg_client_view(const pgi_secagg_client *c, pgi_secagg_view *v)
{
    *v = c->view;
}

int
pgi_secagg_client_reveal(const pgi_secagg_client *c, uint8_t b_seed[32], uint8_t s_sk[32],
                         pg_error *err)
{
    if (c->state != PGI_SAC_ADVERTISED)
        return pg_error_set(err, PG_ESTATE,
                            "secure aggregation: member %u's secrets are revealed only between "
                            "advertising and sharing its keys",
                            c->self);
    memcpy(b_seed, c->b, 32);
    memcpy(s_sk, c->s_sk, 32);
    return PG_OK;
}
