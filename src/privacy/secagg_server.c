/* The aggregator's side of secure aggregation (Bonawitz et al., CCS 2017, with the
 * active-security additions): it collects each round's messages, and when the caller closes the
 * round (everyone answered, or the deadline passed) drops the members that did not answer and
 * makes the next round's messages. It relays keys and encrypted shares it cannot read, sums the
 * masked vectors as they arrive (each is uniform modulo 2^64 to it), and at the end reconstructs
 * from t shares each the self-mask seeds of the survivors and the mask keys of the dropped
 * members, removes those masks and releases the sum, only when at least max(t, minimum
 * coalition) members survived. */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privacy/common.h"

struct pgi_secagg_server {
    pgi_secagg_params p;
    pgi_secagg_server_state state;
    char failure[512];
    uint8_t (*roster)[32];
    uint8_t sign_sk[64];
    uint8_t *adv; /* n raw advertisements (PGI_SA_ADV_MSG each) */
    uint8_t *got; /* n: answered in the current round */
    uint8_t *u1, *u2, *u3, *u4, *u5;
    uint8_t **shares; /* n: the body of each member's SHARES */
    uint64_t *ysum;   /* sum of the masked vectors of U3 */
    uint8_t *u3_body; /* the survivor set as sent */
    size_t u3_body_len;
    uint8_t *stmt; /* the statement members sign */
    size_t stmt_len;
    uint8_t (*csig)[64];   /* n: each member's signature on it */
    pgi_shamir_share *bsh; /* n * t: b-shares received of each survivor */
    pgi_shamir_share *ssh; /* n * t: s_sk-shares received of each dropped member */
    uint32_t *nb, *ns;     /* n: how many of each */
    uint64_t *sum;         /* the result */
    uint32_t n_sum;
    pgi_secagg_view view;
};

static uint32_t
need(const pgi_secagg_server *s)
{
    return s->p.min_coalition > s->p.t ? s->p.min_coalition : s->p.t;
}

int
pgi_secagg_server_new(pgi_secagg_server **out, const pgi_secagg_params *p,
                      const uint8_t (*roster)[32], const uint8_t sign_sk[64], pg_error *err)
{
    int rc = pgi_sa_check_params(p, err);
    if (rc)
        return rc;
    if (sodium_init() < 0)
        return pg_error_set(err, PG_EUNSUPPORTED, "secure aggregation: libsodium did not start");
    pgi_secagg_server *s = calloc(1, sizeof *s);
    if (!s)
        return pg_error_set(err, PG_ENOMEM, "secure aggregation: out of memory");
    size_t n = p->n;
    s->p = *p;
    s->roster = malloc(n * 32);
    s->adv = calloc(n, PGI_SA_ADV_MSG);
    s->got = calloc(n, 1);
    s->u1 = calloc(n, 1);
    s->u2 = calloc(n, 1);
    s->u3 = calloc(n, 1);
    s->u4 = calloc(n, 1);
    s->u5 = calloc(n, 1);
    s->shares = calloc(n, sizeof *s->shares);
    s->ysum = calloc(p->len, sizeof *s->ysum);
    s->csig = calloc(n, 64);
    s->nb = calloc(n, sizeof *s->nb);
    s->ns = calloc(n, sizeof *s->ns);
    if (!s->roster || !s->adv || !s->got || !s->u1 || !s->u2 || !s->u3 || !s->u4 || !s->u5 ||
        !s->shares || !s->ysum || !s->csig || !s->nb || !s->ns) {
        pgi_secagg_server_free(s);
        return pg_error_set(err, PG_ENOMEM, "secure aggregation: out of memory");
    }
    memcpy(s->roster, roster, n * 32);
    memcpy(s->sign_sk, sign_sk, 64);
    s->state = PGI_SAS_ADVERTISE;
    *out = s;
    return PG_OK;
}

void
pgi_secagg_server_free(pgi_secagg_server *s)
{
    if (!s)
        return;
    size_t n = s->p.n;
    if (s->shares)
        for (size_t i = 0; i < n; i++)
            free(s->shares[i]);
    if (s->bsh)
        sodium_memzero(s->bsh, n * s->p.t * sizeof *s->bsh);
    if (s->ssh)
        sodium_memzero(s->ssh, n * s->p.t * sizeof *s->ssh);
    free(s->roster);
    free(s->adv);
    free(s->got);
    free(s->u1);
    free(s->u2);
    free(s->u3);
    free(s->u4);
    free(s->u5);
    free(s->shares);
    free(s->ysum);
    free(s->u3_body);
    free(s->stmt);
    free(s->csig);
    free(s->bsh);
    free(s->ssh);
    free(s->nb);
    free(s->ns);
    free(s->sum);
    sodium_memzero(s, sizeof *s);
    free(s);
}

/* The set of members expected in the current round. */
static const uint8_t *
expected(const pgi_secagg_server *s)
{
    switch (s->state) {
    case PGI_SAS_ADVERTISE: return NULL; /* everyone */
    case PGI_SAS_SHARES: return s->u1;
    case PGI_SAS_MASKED: return s->u2;
    case PGI_SAS_CONSIST: return s->u3;
    case PGI_SAS_UNMASK: return s->u4;
    default: return NULL;
    }
}

static const uint8_t round_type[] = {
    [PGI_SAS_ADVERTISE] = PGI_SA_ADVERTISE, [PGI_SAS_SHARES] = PGI_SA_SHARES,
    [PGI_SAS_MASKED] = PGI_SA_MASKED,       [PGI_SAS_CONSIST] = PGI_SA_CONSIST_SIG,
    [PGI_SAS_UNMASK] = PGI_SA_UNMASK,
};

static int
on_advertise(pgi_secagg_server *s, uint32_t u, const void *msg, const pgi_sa_header *h,
             pg_error *err)
{
    if (h->body_len != PGI_SA_ADV_BODY)
        return pg_error_set(err, PG_EPARSE,
                            "secure aggregation: an ADVERTISE of member %u has a body of %u bytes",
                            u, h->body_len);
    if (pgi_sa_pk_bad(h->body) || pgi_sa_pk_bad(h->body + 32))
        return pg_error_set(err, PG_EAUTH,
                            "secure aggregation: member %u advertised a public key of small order",
                            u);
    memcpy(s->adv + (size_t)u * PGI_SA_ADV_MSG, msg, PGI_SA_ADV_MSG);
    return PG_OK;
}

static int
on_shares(pgi_secagg_server *s, uint32_t u, const pgi_sa_header *h, pg_error *err)
{
    size_t k = 0;
    for (size_t v = 0; v < s->p.n; v++)
        k += s->u1[v];
    if ((size_t)h->body_len != 2 + (k - 1) * PGI_SA_ENTRY || pgi_sa_get16(h->body) != k - 1)
        return pg_error_set(err, PG_EPARSE,
                            "secure aggregation: the SHARES of member %u do not hold one share "
                            "for each of the other %zu members",
                            u, k - 1);
    const uint8_t *e = h->body + 2;
    for (uint32_t v = 0; v < s->p.n; v++) {
        if (!s->u1[v] || v == u)
            continue;
        if (pgi_sa_get16(e) != v)
            return pg_error_set(err, PG_EPARSE,
                                "secure aggregation: the SHARES of member %u are not one for "
                                "each member that advertised keys, in order",
                                u);
        e += PGI_SA_ENTRY;
    }
    s->shares[u] = malloc(h->body_len);
    if (!s->shares[u])
        return pg_error_set(err, PG_ENOMEM, "secure aggregation: out of memory");
    memcpy(s->shares[u], h->body, h->body_len);
    return PG_OK;
}

static int
on_masked(pgi_secagg_server *s, uint32_t u, const pgi_sa_header *h, pg_error *err)
{
    size_t L = s->p.len;
    if ((size_t)h->body_len != 8 * L)
        return pg_error_set(err, PG_EPARSE,
                            "secure aggregation: the masked vector of member %u has %u bytes, "
                            "expected %zu",
                            u, h->body_len, 8 * L);
    for (size_t i = 0; i < L; i++) {
        const uint8_t *q = h->body + 8 * i;
        uint64_t v = 0;
        for (int j = 0; j < 8; j++)
            v = v << 8 | q[j];
        s->ysum[i] += v;
    }
    s->view.masked_vectors++;
    return PG_OK;
}

static int
on_consist(pgi_secagg_server *s, uint32_t u, const pgi_sa_header *h, pg_error *err)
{
    if (h->body_len != 64)
        return pg_error_set(err, PG_EPARSE,
                            "secure aggregation: the consistency signature of member %u has %u "
                            "bytes",
                            u, h->body_len);
    if (crypto_sign_ed25519_verify_detached(h->body, s->stmt, s->stmt_len, s->roster[u]) != 0)
        return pg_error_set(err, PG_EAUTH,
                            "secure aggregation: member %u's signature on the survivor set does "
                            "not verify",
                            u);
    memcpy(s->csig[u], h->body, 64);
    return PG_OK;
}

static int
on_unmask(pgi_secagg_server *s, uint32_t u, const pgi_sa_header *h, pg_error *err)
{
    size_t n = s->p.n, t = s->p.t;
    if (h->body_len < 2)
        return pg_error_set(err, PG_EPARSE, "secure aggregation: an UNMASK without a count");
    size_t k = pgi_sa_get16(h->body);
    if ((size_t)h->body_len != 2 + k * PGI_SA_UNMASK_ENTRY || k > n)
        return pg_error_set(err, PG_EPARSE,
                            "secure aggregation: the UNMASK of member %u does not hold %zu shares",
                            u, k);
    /* Check everything first: a refused message changes nothing. */
    long prev = -1;
    for (size_t i = 0; i < k; i++) {
        const uint8_t *e = h->body + 2 + i * PGI_SA_UNMASK_ENTRY;
        uint32_t v = pgi_sa_get16(e);
        bool ok = v < n && (long)v > prev && s->u2[v] &&
                  e[2] == (s->u3[v] ? PGI_SA_KIND_B : PGI_SA_KIND_S) &&
                  pgi_sa_get16(e + 3) == u + 1;
        if (!ok)
            return pg_error_set(err, PG_EPARSE,
                                "secure aggregation: share %zu of member %u's UNMASK is not a "
                                "b-share of a survivor or an s-share of a dropped member, in "
                                "order, at its x",
                                i, u);
        prev = v;
    }
    for (size_t i = 0; i < k; i++) {
        const uint8_t *e = h->body + 2 + i * PGI_SA_UNMASK_ENTRY;
        uint32_t v = pgi_sa_get16(e);
        if (e[2] == PGI_SA_KIND_B && s->nb[v] < t)
            pgi_shamir_share_unpack(e + 3, &s->bsh[(size_t)v * t + s->nb[v]++]);
        else if (e[2] == PGI_SA_KIND_S && s->ns[v] < t)
            pgi_shamir_share_unpack(e + 3, &s->ssh[(size_t)v * t + s->ns[v]++]);
    }
    return PG_OK;
}

int
pgi_secagg_server_receive(pgi_secagg_server *s, const void *msg, size_t len, pg_error *err)
{
    int rc;
    if (s->state >= PGI_SAS_DONE) {
        rc = pg_error_set(err, PG_ESTATE, "secure aggregation: the aggregation is over");
        goto refused;
    }
    pgi_sa_header h;
    rc = pgi_sa_msg_open(msg, len, round_type[s->state], s->p.round_id, &h, err);
    if (rc)
        goto refused;
    uint32_t u = h.sender;
    if (u >= s->p.n || h.to != PGI_SECAGG_SERVER) {
        rc = pg_error_set(err, PG_EPARSE,
                          "secure aggregation: a message from %u to %u is not from a member to "
                          "the aggregator",
                          u, (unsigned)h.to);
        goto refused;
    }
    const uint8_t *exp = expected(s);
    if (exp && !exp[u]) {
        rc = pg_error_set(err, PG_ESTATE,
                          "secure aggregation: member %u is no longer part of this aggregation "
                          "(dropped in an earlier round)",
                          u);
        goto refused;
    }
    if (s->got[u]) {
        rc = pg_error_set(err, PG_ESTATE,
                          "secure aggregation: member %u already answered this round (a replay "
                          "or a duplicate)",
                          u);
        goto refused;
    }
    rc = pgi_sa_msg_verify(msg, len, &h, s->roster[u], err);
    if (rc)
        goto refused;
    switch (s->state) {
    case PGI_SAS_ADVERTISE: rc = on_advertise(s, u, msg, &h, err); break;
    case PGI_SAS_SHARES: rc = on_shares(s, u, &h, err); break;
    case PGI_SAS_MASKED: rc = on_masked(s, u, &h, err); break;
    case PGI_SAS_CONSIST: rc = on_consist(s, u, &h, err); break;
    default: rc = on_unmask(s, u, &h, err); break;
    }
    if (rc)
        goto refused;
    s->got[u] = 1;
    s->view.msgs_in[h.type]++;
    s->view.bytes_in += len;
    return PG_OK;
refused:
    s->view.refused++;
    return rc;
}

bool
pgi_secagg_server_complete(const pgi_secagg_server *s)
{
    if (s->state >= PGI_SAS_DONE)
        return false;
    const uint8_t *exp = expected(s);
    for (size_t u = 0; u < s->p.n; u++)
        if ((!exp || exp[u]) && !s->got[u])
            return false;
    return true;
}

static int fail(pgi_secagg_server *s, pg_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Stops the aggregation: nothing is released. */
static int
fail(pgi_secagg_server *s, pg_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->failure, sizeof s->failure, fmt, ap);
    va_end(ap);
    s->state = PGI_SAS_FAILED;
    sodium_memzero(s->ysum, (size_t)s->p.len * sizeof *s->ysum);
    return pg_error_set(err, PG_ESTATE, "secure aggregation: %s", s->failure);
}

static const char *const round_names[] = {"advertising keys", "sharing keys",
                                          "sending masked inputs", "signing the survivor set",
                                          "unmasking"};

static int
push(pgi_secagg_outbox *box, size_t *cap, uint32_t to, uint8_t *m, size_t len)
{
    if (box->n == *cap) {
        size_t nc = *cap ? 2 * *cap : 8;
        pgi_secagg_msg *g = realloc(box->msgs, nc * sizeof *g);
        if (!g)
            return PG_ENOMEM;
        box->msgs = g;
        *cap = nc;
    }
    box->msgs[box->n++] = (pgi_secagg_msg){.to = to, .data = m, .len = len};
    return PG_OK;
}

static void
count_out(pgi_secagg_server *s, const pgi_secagg_outbox *box)
{
    for (size_t i = 0; i < box->n; i++) {
        s->view.msgs_out[box->msgs[i].data[5]]++;
        s->view.bytes_out += box->msgs[i].len;
    }
}

/* Writes the set flags as a count and ascending ids at p (2 + 2k bytes). */
static size_t
write_set(uint8_t *p, const uint8_t *flags, size_t n)
{
    size_t k = 0;
    for (size_t v = 0; v < n; v++)
        if (flags[v])
            pgi_sa_put16(p + 2 + 2 * k++, (uint32_t)v);
    pgi_sa_put16(p, (uint32_t)k);
    return 2 + 2 * k;
}

static int
make_keys(pgi_secagg_server *s, uint32_t k, pgi_secagg_outbox *box, size_t *cap)
{
    size_t len;
    uint8_t *m = pgi_sa_msg_alloc(PGI_SA_KEYS, PGI_SECAGG_SERVER, PGI_SECAGG_ALL, s->p.round_id,
                                  2 + (size_t)k * PGI_SA_ADV_MSG, &len);
    if (!m)
        return PG_ENOMEM;
    uint8_t *e = m + PGI_SA_HEADER;
    pgi_sa_put16(e, k);
    e += 2;
    for (size_t u = 0; u < s->p.n; u++)
        if (s->u1[u]) {
            memcpy(e, s->adv + u * PGI_SA_ADV_MSG, PGI_SA_ADV_MSG);
            e += PGI_SA_ADV_MSG;
        }
    pgi_sa_msg_sign(m, len, s->sign_sk);
    if (push(box, cap, PGI_SECAGG_ALL, m, len)) {
        free(m);
        return PG_ENOMEM;
    }
    return PG_OK;
}

static int
make_forwards(pgi_secagg_server *s, uint32_t k, pgi_secagg_outbox *box, size_t *cap)
{
    size_t n = s->p.n;
    /* rank[v]: members of U1 before v. u's entries are in id order over U1 \ {u}, so its entry
     * for v is at rank[v], less one when u comes before v. */
    uint32_t *rank = malloc(n * sizeof *rank);
    if (!rank)
        return PG_ENOMEM;
    for (uint32_t v = 0, r = 0; v < n; v++) {
        rank[v] = r;
        r += s->u1[v];
    }
    int rc = PG_OK;
    for (uint32_t v = 0; v < n && rc == PG_OK; v++) {
        if (!s->u2[v])
            continue;
        size_t len;
        uint8_t *m = pgi_sa_msg_alloc(PGI_SA_SHARES_FWD, PGI_SECAGG_SERVER, v, s->p.round_id,
                                      2 + (size_t)(k - 1) * PGI_SA_ENTRY, &len);
        if (!m) {
            rc = PG_ENOMEM;
            break;
        }
        uint8_t *e = m + PGI_SA_HEADER;
        pgi_sa_put16(e, k - 1);
        e += 2;
        for (uint32_t u = 0; u < n; u++) {
            if (!s->u2[u] || u == v)
                continue;
            size_t idx = rank[v] - (u < v);
            const uint8_t *src = s->shares[u] + 2 + idx * PGI_SA_ENTRY;
            memcpy(e, src, PGI_SA_ENTRY);
            pgi_sa_put16(e, u); /* the entry names its recipient; forwarded it names the sender */
            e += PGI_SA_ENTRY;
        }
        pgi_sa_msg_sign(m, len, s->sign_sk);
        if (push(box, cap, v, m, len)) {
            free(m);
            rc = PG_ENOMEM;
        }
    }
    free(rank);
    return rc;
}

static int
make_consist(pgi_secagg_server *s, pgi_secagg_outbox *box, size_t *cap)
{
    size_t n = s->p.n;
    uint8_t *set = malloc(2 + 2 * n);
    if (!set)
        return PG_ENOMEM;
    size_t sl = write_set(set, s->u3, n);
    s->u3_body = set;
    s->u3_body_len = sl;
    s->stmt = pgi_sa_statement(s->p.round_id, set, sl, &s->stmt_len);
    if (!s->stmt)
        return PG_ENOMEM;
    size_t len;
    uint8_t *m = pgi_sa_msg_alloc(PGI_SA_CONSIST_REQ, PGI_SECAGG_SERVER, PGI_SECAGG_ALL,
                                  s->p.round_id, sl, &len);
    if (!m)
        return PG_ENOMEM;
    memcpy(m + PGI_SA_HEADER, set, sl);
    pgi_sa_msg_sign(m, len, s->sign_sk);
    if (push(box, cap, PGI_SECAGG_ALL, m, len)) {
        free(m);
        return PG_ENOMEM;
    }
    return PG_OK;
}

static int
make_unmask(pgi_secagg_server *s, uint32_t k4, pgi_secagg_outbox *box, size_t *cap)
{
    size_t n = s->p.n, len;
    uint8_t *m = pgi_sa_msg_alloc(PGI_SA_UNMASK_REQ, PGI_SECAGG_SERVER, PGI_SECAGG_ALL,
                                  s->p.round_id, s->u3_body_len + 2 + (size_t)k4 * 66, &len);
    if (!m)
        return PG_ENOMEM;
    uint8_t *e = m + PGI_SA_HEADER;
    memcpy(e, s->u3_body, s->u3_body_len);
    e += s->u3_body_len;
    pgi_sa_put16(e, k4);
    e += 2;
    for (uint32_t u = 0; u < n; u++)
        if (s->u4[u]) {
            pgi_sa_put16(e, u);
            memcpy(e + 2, s->csig[u], 64);
            e += 66;
        }
    pgi_sa_msg_sign(m, len, s->sign_sk);
    if (push(box, cap, PGI_SECAGG_ALL, m, len)) {
        free(m);
        return PG_ENOMEM;
    }
    return PG_OK;
}

/* The end: reconstruct b of every survivor and s_sk of every dropped member from t shares each,
 * remove their masks from the sum of the masked vectors. */
static int
unmask(pgi_secagg_server *s, pg_error *err)
{
    size_t n = s->p.n, L = s->p.len, t = s->p.t;
    uint64_t *sum = malloc(L * sizeof *sum);
    uint8_t *scratch = malloc(8 * L);
    int rc = PG_OK;
    uint8_t secret[32], key[32], pk[32];
    if (!sum || !scratch) {
        rc = pg_error_set(err, PG_ENOMEM, "secure aggregation: out of memory");
        goto out;
    }
    memcpy(sum, s->ysum, L * sizeof *sum);
    for (uint32_t v = 0; v < n; v++) {
        if (!s->u2[v])
            continue;
        if (s->u3[v]) {
            if (s->nb[v] < t) {
                rc = fail(s, err,
                          "only %u shares of survivor %u's self-mask seed arrived, fewer than "
                          "the threshold %zu: nothing is released",
                          s->nb[v], v, t);
                goto out;
            }
            rc = pgi_shamir_combine(s->bsh + (size_t)v * t, t, (unsigned)t, secret, err);
            if (rc)
                goto out;
            pgi_sa_self_key(key, s->p.round_id, secret);
            pgi_sa_prg_add(sum, L, key, -1, scratch);
            s->view.seeds_reconstructed++;
            s->view.b_revealed += t;
            continue;
        }
        if (s->ns[v] < t) {
            rc = fail(s, err,
                      "only %u shares of dropped member %u's mask key arrived, fewer than the "
                      "threshold %zu: nothing is released",
                      s->ns[v], v, t);
            goto out;
        }
        rc = pgi_shamir_combine(s->ssh + (size_t)v * t, t, (unsigned)t, secret, err);
        if (rc)
            goto out;
        const uint8_t *vpk = s->adv + (size_t)v * PGI_SA_ADV_MSG + PGI_SA_HEADER + 32;
        crypto_scalarmult_base(pk, secret);
        if (sodium_memcmp(pk, vpk, 32) != 0) {
            rc = fail(s, err,
                      "the mask key of dropped member %u reconstructed from its shares does not "
                      "match the key it advertised (a member sent a false share): nothing is "
                      "released",
                      v);
            goto out;
        }
        s->view.keys_reconstructed++;
        s->view.s_revealed += t;
        /* Survivor u added +PRG(s_uv) when u < v, -PRG(s_uv) when u > v: take it out. */
        for (uint32_t u = 0; u < n; u++) {
            if (!s->u3[u])
                continue;
            const uint8_t *upk = s->adv + (size_t)u * PGI_SA_ADV_MSG + PGI_SA_HEADER + 32;
            if (pgi_sa_pair_key(key, "pgsa-mask", s->p.round_id, secret, v, vpk, u, upk)) {
                rc = fail(s, err, "member %u's mask key is of small order", u);
                goto out;
            }
            pgi_sa_prg_add(sum, L, key, u < v ? -1 : +1, scratch);
        }
    }
    s->sum = sum;
    sum = NULL;
out:
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(key, sizeof key);
    free(sum);
    free(scratch);
    return rc;
}

int
pgi_secagg_server_advance(pgi_secagg_server *s, pgi_secagg_outbox *box, pg_error *err)
{
    if (s->state >= PGI_SAS_DONE)
        return pg_error_set(err, PG_ESTATE, "secure aggregation: the aggregation is over");
    size_t n = s->p.n, cap = 0;
    uint32_t k = 0;
    for (size_t u = 0; u < n; u++)
        k += s->got[u];
    uint32_t floor = s->state == PGI_SAS_UNMASK ? s->p.t : need(s);
    if (k < floor)
        return fail(s, err,
                    "only %u members answered while %s, fewer than the %s %u: nothing is "
                    "released",
                    k, round_names[s->state],
                    s->state == PGI_SAS_UNMASK ? "threshold" : "threshold or minimum coalition",
                    floor);
    pgi_secagg_outbox ob = {0};
    int rc = PG_OK;
    switch (s->state) {
    case PGI_SAS_ADVERTISE:
        memcpy(s->u1, s->got, n);
        s->view.u1 = k;
        rc = make_keys(s, k, &ob, &cap);
        break;
    case PGI_SAS_SHARES:
        memcpy(s->u2, s->got, n);
        s->view.u2 = k;
        rc = make_forwards(s, k, &ob, &cap);
        break;
    case PGI_SAS_MASKED:
        memcpy(s->u3, s->got, n);
        s->view.u3 = k;
        rc = make_consist(s, &ob, &cap);
        break;
    case PGI_SAS_CONSIST:
        memcpy(s->u4, s->got, n);
        s->view.u4 = k;
        s->bsh = calloc(n * s->p.t, sizeof *s->bsh);
        s->ssh = calloc(n * s->p.t, sizeof *s->ssh);
        rc = s->bsh && s->ssh ? make_unmask(s, k, &ob, &cap) : PG_ENOMEM;
        break;
    default:
        memcpy(s->u5, s->got, n);
        s->view.u5 = k;
        rc = unmask(s, err);
        if (rc) {
            pgi_secagg_outbox_free(&ob);
            return rc;
        }
        break;
    }
    if (rc) {
        pgi_secagg_outbox_free(&ob);
        return pg_error_set(err, PG_ENOMEM, "secure aggregation: out of memory");
    }
    memset(s->got, 0, n);
    count_out(s, &ob);
    if (s->state == PGI_SAS_UNMASK) {
        s->state = PGI_SAS_DONE;
        s->n_sum = s->view.u3;
        s->view.saw_sum = true;
    } else {
        s->state++;
    }
    *box = ob;
    return PG_OK;
}

pgi_secagg_server_state
pgi_secagg_server_state_get(const pgi_secagg_server *s)
{
    return s->state;
}

int
pgi_secagg_server_result(const pgi_secagg_server *s, uint64_t *sum, bool *included,
                         uint32_t *n_included, pg_error *err)
{
    if (s->state != PGI_SAS_DONE)
        return pg_error_set(err, PG_ESTATE, "secure aggregation: no sum: %s",
                            s->state == PGI_SAS_FAILED ? s->failure
                                                       : "the aggregation is not over");
    memcpy(sum, s->sum, (size_t)s->p.len * sizeof *sum);
    if (included)
        for (size_t u = 0; u < s->p.n; u++)
            included[u] = s->u3[u] != 0;
    if (n_included)
        *n_included = s->n_sum;
    return PG_OK;
}

const char *
pgi_secagg_server_failure(const pgi_secagg_server *s)
{
    return s->failure;
}

void
pgi_secagg_server_view(const pgi_secagg_server *s, pgi_secagg_view *v)
{
    *v = s->view;
}
