/* Secure aggregation over the lattice's bus (docs/privacy.md, "On the lattice"): the engine's
 * messages (internal.h) carried on versioned subjects, the aggregator's round deadlines after
 * which silent members are dropped, and every message checked before it reaches the engine.
 *
 * Subjects, under the prefix pg.<community>[.<session>].privacy.v1.<label> (label names the
 * aggregation, e.g. "t12-bid" for the bids of interval 12):
 *   <prefix>.srv        a member's message to the aggregator
 *   <prefix>.all        the aggregator's message to every member
 *   <prefix>.m.<id>     the aggregator's message to member <id> (its forwarded shares)
 * What crosses the bus is only the engine's signed records: public keys, shares encrypted to
 * their recipient, masked vectors (uniform modulo 2^64), signatures and unmasking shares. */
#ifndef PG_PRIVACY_PNET_H
#define PG_PRIVACY_PNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plurigrid/core.h"
#include "plurigrid/lattice.h"
#include "privacy/internal.h"

/* What one party put on the bus and what reached it: message counts and bytes only. */
typedef struct pgi_pnet_traffic {
    uint64_t sent, sent_bytes;   /* published */
    uint64_t heard, heard_bytes; /* delivered to it */
    uint64_t refused;            /* malformed, forged, misrouted or out of round: dropped */
} pgi_pnet_traffic;

/* One aggregation as this process plays it: the aggregator (server_sk not NULL) and/or some
 * members (hosted). Everything is borrowed for the call. */
typedef struct pgi_pnet_round {
    pg_bus *bus;
    const char *prefix; /* pg.<community>[.<session>].privacy.v1 */
    const char *label;  /* 1..40 letters, digits, '-' or '_' */
    const pgi_secagg_params *params;
    const uint8_t (*roster)[32]; /* params->n members' Ed25519 public keys */
    const uint8_t *server_pk;    /* 32 bytes */
    const uint8_t *server_sk;    /* 64 bytes: this process is the aggregator; NULL: it is not */
    size_t n_hosted;
    const uint32_t *hosted;         /* [n_hosted] member ids */
    const uint8_t (*member_sk)[64]; /* [n_hosted] their secret keys */
    const uint64_t *const *inputs;  /* [n_hosted] their encoded vectors (params->len values) */
    /* Network: a round closes when every member still expected has answered or round_s has
     * passed (silent members are dropped); the whole aggregation gives up after overall_s.
     * 0 (in-process bus): a round closes after one delivery of everything queued. */
    double round_s, overall_s;
    const volatile int *stop;
    /* Tests and the command's fault injection: called when a message of type reaches hosted
     * member id; true: the member dies there (it handles nothing more, as if killed). */
    bool (*die)(void *ud, uint32_t id, pgi_secagg_msg_type type);
    void *die_ud;
    /* Called once this process's subscriptions are in place, before its members advertise
     * (tests start their member processes from here); NULL: none. */
    void (*ready)(void *ud);
    void *ready_ud;
    /* Log lines (reasons of refusals; never a value); NULL: none. */
    void (*log)(void *ud, pg_log_level level, const char *msg);
    void *log_ud;
} pgi_pnet_round;

/* What came of it. */
typedef struct pgi_pnet_result {
    bool released;  /* the aggregator released the sum (server only) */
    uint64_t *sum;  /* [params->len], the caller's, written when released */
    bool *included; /* [params->n], the caller's (may be NULL): whose inputs are in it */
    uint32_t n_included;
    char failure[200]; /* why nothing was released ("" otherwise) */
    pgi_secagg_view server_view;
    pgi_secagg_view *member_view;          /* [n_hosted], the caller's (may be NULL) */
    pgi_secagg_client_state *member_state; /* [n_hosted], the caller's (may be NULL) */
    uint32_t dropped;                      /* members the aggregator dropped for silence */
    pgi_pnet_traffic server, members;      /* members: summed over the hosted ones */
    double seconds;
} pgi_pnet_result;

/* Plays one aggregation on r->bus. PG_OK when this process's part is over (the sum released or
 * refused: see res->released; the members hosted done or aborted); PG_ENET when the bus fails;
 * PG_ETIMEOUT-like PG_ESTATE when overall_s passes; PG_ECANCELED when *stop. */
int pgi_pnet_run(const pgi_pnet_round *r, pgi_pnet_result *res, pg_error *err);

/* The subject prefix of a community (its subject token) and session (NULL: none). */
int pgi_pnet_prefix(char *buf, size_t size, const char *community, const char *session,
                    pg_error *err);

#endif
