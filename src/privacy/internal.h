/* The secure-aggregation engine of src/privacy/: the contract between the engine (fixed-point
 * encoding, Shamir sharing, the client and server state machines of Bonawitz et al., CCS 2017,
 * with the active-security additions) and the code that carries its messages (the lattice
 * integration, private metering and clearing, the command).
 *
 * The engine is message in, message out: it has no threads, no clock and no I/O. A client is fed
 * the server's messages and returns its replies; the server is fed the clients' messages and,
 * when the caller decides a round is over (everyone answered, or its deadline passed), closes the
 * round and returns the messages of the next one. The same code therefore runs in one process
 * (tests), on the in-process bus and on NATS. Every message is a versioned binary record signed
 * with its sender's Ed25519 key (docs/privacy.md, "Wire format"); everything received is checked
 * whole before use, and a message refused leaves the receiver's state as it was.
 *
 * Identity: the n members of a coalition are known in advance by their Ed25519 public keys (the
 * roster, in the order that gives each member its id 0..n-1), as the ledger knows a community's
 * members; the aggregator has an Ed25519 key of its own, known to every member. Secret keys are
 * libsodium's 64-byte form (pg_ledger_key.sk is one).
 *
 * Where the functions live: fixed-point encoding and pgi_secagg_peek need no libsodium and are in
 * libplurigrid itself (fixed.c). Everything else is in the module privacy.so (the files
 * shamir.c and secagg_*.c), loaded at the first pgi_privacy_engine_get, so a command that never
 * aggregates never loads libsodium; the static library (tests, benchmarks) has it built in, and
 * there the pgi_ functions below may also be called directly. Code in libplurigrid calls them
 * through the table (pgi_privacy_engine). */
#ifndef PG_PRIVACY_INTERNAL_H
#define PG_PRIVACY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plurigrid/core.h"

/* ---------------------------------------------------------------- limits */

/* At most this many members in a coalition (Shamir x-coordinates are member id + 1 in
 * GF(2^16); the bound also keeps the fixed-point sum below 2^63, see PGI_SECAGG_VALUE_MAX). */
#define PGI_SECAGG_MAX_MEMBERS 1000u
/* At most this many values in one aggregated vector. */
#define PGI_SECAGG_MAX_LEN 65536u
/* The largest |x * scale| pgi_secagg_encode accepts: 2^53, so every accepted value is an exact
 * integer in a double, and a sum over PGI_SECAGG_MAX_MEMBERS (< 2^10) members stays below
 * 2^63 in magnitude: the sum modulo 2^64 read as a two's-complement int64 is the true sum. */
#define PGI_SECAGG_VALUE_MAX 9007199254740992.0
/* The largest message the engine makes or accepts (bytes): a masked vector of
 * PGI_SECAGG_MAX_LEN values with its header and signature fits. */
#define PGI_SECAGG_MAX_MSG ((size_t)PGI_SECAGG_MAX_LEN * 8u + 4096u)
/* The id of the aggregator in message headers, and "every member" as a recipient. */
#define PGI_SECAGG_SERVER 0xFFFFu
#define PGI_SECAGG_ALL 0xFFFFu

/* ---------------------------------------------------------------- fixed point (fixed.c) */

/* Encodes n values as fixed point: round(x[i] * scale) as an int64, stored in two's complement as
 * a uint64 (arithmetic mod 2^64). Refuses (PG_EINVAL, naming the index, never the value) a value
 * that is not finite, a scale that is not finite and positive, and any |x * scale| above
 * PGI_SECAGG_VALUE_MAX. Writes out (n values, borrowed) only on success. */
int pgi_secagg_encode(const double *x, size_t n, double scale, uint64_t *out, pg_error *err);

/* Decodes a sum of encoded vectors: each value read as a two's-complement int64 divided by
 * scale. Exact when the sum's magnitude is at most 2^53; a larger sum (possible only with many
 * members near the bound) is rounded to the nearest double. */
void pgi_secagg_decode(const uint64_t *sum, size_t n, double scale, double *out);

/* ---------------------------------------------------------------- randomness */

/* Where an engine object draws its randomness: the system's (libsodium's randombytes_buf), or a
 * ChaCha20 stream keyed by a 32-byte seed (deterministic runs and tests; never in production). */
typedef struct pgi_secagg_rng {
    bool seeded;      /* false: randombytes_buf */
    uint8_t key[32];  /* the seed, when seeded */
    uint64_t counter; /* the next ChaCha20 nonce, when seeded */
} pgi_secagg_rng;

/* A seeded generator (copies seed). */
void pgi_secagg_rng_seed(pgi_secagg_rng *r, const uint8_t seed[32]);
/* n random bytes; r NULL or not seeded means the system's generator. */
void pgi_secagg_rng_fill(pgi_secagg_rng *r, void *buf, size_t n);

/* ---------------------------------------------------------------- Shamir (shamir.c) */

/* Shamir t-of-n sharing of a 32-byte secret over GF(2^16) (x^16 + x^12 + x^3 + x + 1): the
 * secret is 16 field elements, each the constant term of its own random polynomial of degree
 * t - 1. The arithmetic is constant-time (shift-and-xor multiplication with masks, inversion by a
 * fixed exponent: no table indexed by a secret, no branch on one). A share carries its
 * x-coordinate (nonzero). */
#define PGI_SHAMIR_SECRET 32
typedef struct pgi_shamir_share {
    uint16_t x;
    uint16_t y[PGI_SHAMIR_SECRET / 2];
} pgi_shamir_share;
/* A share on the wire: x then y, big-endian 16-bit words. */
#define PGI_SHAMIR_SHARE_BYTES 34

/* Splits secret into the shares at x-coordinates xs[0..n-1] (distinct, nonzero; 1 <= t <= n <=
 * 65535), writing out[0..n-1]. Coefficients come from rng (NULL: the system's). */
int pgi_shamir_split(const uint8_t secret[PGI_SHAMIR_SECRET], unsigned t, const uint16_t *xs,
                     size_t n, pgi_shamir_share *out, pgi_secagg_rng *rng, pg_error *err);
/* Reconstructs the secret from n >= t shares (the first t are used). Refuses fewer than t shares,
 * an x-coordinate of zero and two shares with the same x. */
int pgi_shamir_combine(const pgi_shamir_share *shares, size_t n, unsigned t,
                       uint8_t secret[PGI_SHAMIR_SECRET], pg_error *err);
/* GF(2^16) arithmetic, exposed for the tests. */
uint16_t pgi_gf16_mul(uint16_t a, uint16_t b);
uint16_t pgi_gf16_inv(uint16_t a); /* inv(0) = 0 */
void pgi_shamir_share_pack(const pgi_shamir_share *s, uint8_t out[PGI_SHAMIR_SHARE_BYTES]);
void pgi_shamir_share_unpack(const uint8_t in[PGI_SHAMIR_SHARE_BYTES], pgi_shamir_share *s);

/* ---------------------------------------------------------------- the protocol */

/* One aggregation: the same parameters at the server and at every client. */
typedef struct pgi_secagg_params {
    /* What this aggregation is (e.g. BLAKE2b of "community/interval/bids"): bound into every
     * message, every key derivation and every mask, so nothing of one aggregation is accepted
     * or reused in another. */
    uint8_t round_id[32];
    uint32_t n;             /* members in the roster, 2..PGI_SECAGG_MAX_MEMBERS */
    uint32_t t;             /* Shamir threshold, n/2 < t <= n: see docs/privacy.md for its choice */
    uint32_t min_coalition; /* no sum over fewer survivors is released (0: t alone) */
    uint32_t len;           /* values per vector, 1..PGI_SECAGG_MAX_LEN */
} pgi_secagg_params;

/* A threshold that resists an active aggregator colluding with up to c members: the smallest t
 * with t > (n + c) / 2, at least 2 (docs/privacy.md, "Threat model"). */
uint32_t pgi_secagg_threshold(uint32_t n, uint32_t c);

/* Message types (the byte after the version in every header). */
typedef enum pgi_secagg_msg_type {
    PGI_SA_ADVERTISE = 1,   /* client -> server, round 0: the client's two X25519 public keys */
    PGI_SA_KEYS = 2,        /* server -> all: the advertisements of U1, each signed by its member */
    PGI_SA_SHARES = 3,      /* client -> server, round 1: encrypted shares, one per peer in U1 */
    PGI_SA_SHARES_FWD = 4,  /* server -> one member: the shares addressed to it, from U2 */
    PGI_SA_MASKED = 5,      /* client -> server, round 2: the masked input vector */
    PGI_SA_CONSIST_REQ = 6, /* server -> all: the survivor set U3 */
    PGI_SA_CONSIST_SIG = 7, /* client -> server, round 3: the member's signature on U3 */
    PGI_SA_UNMASK_REQ = 8,  /* server -> all: U3 and the signatures of U4 on it */
    PGI_SA_UNMASK = 9,      /* client -> server, round 4: b-shares of U3, s-shares of U2 \ U3 */
} pgi_secagg_msg_type;

/* Reads a message's header without checking its signature (for routing only: the receiver checks
 * everything again). Returns PG_OK and the type, sender and recipient (PGI_SECAGG_SERVER /
 * PGI_SECAGG_ALL), or PG_EPARSE for what is not a well-formed header. */
int pgi_secagg_peek(const void *msg, size_t len, pgi_secagg_msg_type *type, uint32_t *sender,
                    uint32_t *to, pg_error *err);

/* One outgoing message (the caller frees the data with pgi_secagg_outbox_free). */
typedef struct pgi_secagg_msg {
    uint32_t to; /* a member id, or PGI_SECAGG_ALL for every member, PGI_SECAGG_SERVER */
    uint8_t *data;
    size_t len;
} pgi_secagg_msg;
typedef struct pgi_secagg_outbox {
    pgi_secagg_msg *msgs;
    size_t n;
} pgi_secagg_outbox;
void pgi_secagg_outbox_free(pgi_secagg_outbox *box); /* frees the messages, leaves box empty */

/* What one party saw in one aggregation, for the report ("what each party saw"). Counts only:
 * no value, key or share ever appears here. */
typedef struct pgi_secagg_view {
    size_t msgs_in[10];  /* messages accepted, by pgi_secagg_msg_type */
    size_t msgs_out[10]; /* messages made, by type */
    size_t bytes_in, bytes_out;
    size_t refused;              /* messages refused (malformed, forged, replayed, out of round) */
    uint32_t u1, u2, u3, u4, u5; /* sizes of the sets seen: advertised, shared, masked,
                                    signed the survivor set, unmasked (0 when not reached) */
    size_t masked_vectors;       /* server: masked vectors received (uniform mod 2^64 each) */
    size_t shares_held;          /* client: Shamir shares received (peers' b and s_sk, one each) */
    size_t b_revealed;           /* b-shares revealed (client) / used to reconstruct (server) */
    size_t s_revealed;           /* s_sk-shares revealed (client) / used (server) */
    size_t seeds_reconstructed;  /* server: self-mask seeds b of survivors reconstructed */
    size_t keys_reconstructed;   /* server: mask keys s_sk of dropped members reconstructed */
    bool saw_sum;                /* server: the sum was computed and released */
} pgi_secagg_view;

/* ------------------------------------------------ client (secagg_client.c) */

typedef enum pgi_secagg_client_state {
    PGI_SAC_NEW = 0,    /* made; pgi_secagg_client_start gives ADVERTISE */
    PGI_SAC_ADVERTISED, /* waiting for KEYS */
    PGI_SAC_SHARED,     /* waiting for SHARES_FWD */
    PGI_SAC_MASKED,     /* waiting for CONSIST_REQ */
    PGI_SAC_SIGNED,     /* waiting for UNMASK_REQ */
    PGI_SAC_DONE,       /* answered UNMASK_REQ: its part is over */
    PGI_SAC_ABORTED,    /* refused to go on (too few peers, an inconsistent server) */
} pgi_secagg_client_state;

typedef struct pgi_secagg_client pgi_secagg_client;

/* A member's side of one aggregation. roster: p->n Ed25519 public keys (copied); self: this
 * member's id; sign_sk: its Ed25519 secret key (copied, wiped at free); server_pk: the
 * aggregator's public key (copied); rng: copied (NULL: the system's generator). */
int pgi_secagg_client_new(pgi_secagg_client **out, const pgi_secagg_params *p,
                          const uint8_t (*roster)[32], uint32_t self, const uint8_t sign_sk[64],
                          const uint8_t server_pk[32], const pgi_secagg_rng *rng, pg_error *err);
void pgi_secagg_client_free(pgi_secagg_client *c); /* wipes every secret; accepts NULL */

/* Round 0: takes the member's encoded input (p->len values, copied) and gives the ADVERTISE
 * message (*msg malloc'd, the caller frees it). */
int pgi_secagg_client_start(pgi_secagg_client *c, const uint64_t *input, uint8_t **msg, size_t *len,
                            pg_error *err);

/* Handles one message from the server. On PG_OK, *reply is the answer to send to the server
 * (malloc'd; the caller frees it), or NULL when there is none. A message refused (malformed,
 * not signed by the server, not for this member, of another aggregation, of a round other than
 * the one the client waits for, a replay) returns PG_EPARSE / PG_EAUTH / PG_ESTATE with the
 * reason and changes nothing. A valid message that the client must not answer (fewer than t
 * peers, a survivor set inconsistent with what it saw) returns PG_ESTATE and moves the client
 * to PGI_SAC_ABORTED: it reveals nothing more in this aggregation. */
int pgi_secagg_client_handle(pgi_secagg_client *c, const void *msg, size_t len, uint8_t **reply,
                             size_t *reply_len, pg_error *err);

pgi_secagg_client_state pgi_secagg_client_state_get(const pgi_secagg_client *c);
void pgi_secagg_client_view(const pgi_secagg_client *c, pgi_secagg_view *v);

/* For tests of collusion only: what a colluding member hands the aggregator, its self-mask seed
 * b and its mask secret key s_sk, between start and the KEYS message (the member wipes each
 * secret as soon as it has used it: c_sk once the channel keys are derived, b, s_sk and the
 * input once the masked input is made). Never used by the protocol. */
int pgi_secagg_client_reveal(const pgi_secagg_client *c, uint8_t b_seed[32], uint8_t s_sk[32],
                             pg_error *err);

/* ------------------------------------------------ server (secagg_server.c) */

typedef enum pgi_secagg_server_state {
    PGI_SAS_ADVERTISE = 0, /* collecting ADVERTISE (round 0) */
    PGI_SAS_SHARES,        /* collecting SHARES (round 1) */
    PGI_SAS_MASKED,        /* collecting MASKED (round 2) */
    PGI_SAS_CONSIST,       /* collecting CONSIST_SIG (round 3) */
    PGI_SAS_UNMASK,        /* collecting UNMASK (round 4) */
    PGI_SAS_DONE,          /* the sum is released */
    PGI_SAS_FAILED,        /* nothing is released; pgi_secagg_server_failure says why */
} pgi_secagg_server_state;

typedef struct pgi_secagg_server pgi_secagg_server;

/* The aggregator of one aggregation. roster: p->n member public keys (copied); sign_sk: the
 * aggregator's Ed25519 secret key (copied, wiped at free). */
int pgi_secagg_server_new(pgi_secagg_server **out, const pgi_secagg_params *p,
                          const uint8_t (*roster)[32], const uint8_t sign_sk[64], pg_error *err);
void pgi_secagg_server_free(pgi_secagg_server *s); /* accepts NULL */

/* Takes one member's message for the current round. A message refused (malformed, forged, of
 * another aggregation or round, a second message of a member in a round, from a member dropped
 * earlier) returns a negative code with the reason, is counted in the view, changes nothing. */
int pgi_secagg_server_receive(pgi_secagg_server *s, const void *msg, size_t len, pg_error *err);

/* True when every member still expected in the current round has answered (the caller may close
 * the round before its deadline). */
bool pgi_secagg_server_complete(const pgi_secagg_server *s);

/* Closes the current round: members that did not answer are dropped. Gives the next round's
 * messages in *box (filled only on PG_OK; empty after round 4). When too few members remain
 * (fewer than max(t, min_coalition)), or reconstruction fails, the server moves to
 * PGI_SAS_FAILED, releases nothing and returns PG_ESTATE with the reason. */
int pgi_secagg_server_advance(pgi_secagg_server *s, pgi_secagg_outbox *box, pg_error *err);

pgi_secagg_server_state pgi_secagg_server_state_get(const pgi_secagg_server *s);
/* After PGI_SAS_DONE: the sum of the inputs of the survivors (p->len values, written to sum) and
 * which members they are (bitmap of n bools, may be NULL) and how many. */
int pgi_secagg_server_result(const pgi_secagg_server *s, uint64_t *sum, bool *included,
                             uint32_t *n_included, pg_error *err);
/* Why the server failed ("" when it has not). Never names a value. */
const char *pgi_secagg_server_failure(const pgi_secagg_server *s);
void pgi_secagg_server_view(const pgi_secagg_server *s, pgi_secagg_view *v);

/* ---------------------------------------------------------------- the module's table */

/* The engine as libplurigrid reaches it in privacy.so (secagg_table.c): one row per function
 * above that needs libsodium. */
typedef struct pgi_privacy_engine {
    void (*rng_seed)(pgi_secagg_rng *r, const uint8_t seed[32]);
    void (*rng_fill)(pgi_secagg_rng *r, void *buf, size_t n);
    void (*outbox_free)(pgi_secagg_outbox *box);
    int (*client_new)(pgi_secagg_client **out, const pgi_secagg_params *p,
                      const uint8_t (*roster)[32], uint32_t self, const uint8_t sign_sk[64],
                      const uint8_t server_pk[32], const pgi_secagg_rng *rng, pg_error *err);
    void (*client_free)(pgi_secagg_client *c);
    int (*client_start)(pgi_secagg_client *c, const uint64_t *input, uint8_t **msg, size_t *len,
                        pg_error *err);
    int (*client_handle)(pgi_secagg_client *c, const void *msg, size_t len, uint8_t **reply,
                         size_t *reply_len, pg_error *err);
    pgi_secagg_client_state (*client_state)(const pgi_secagg_client *c);
    void (*client_view)(const pgi_secagg_client *c, pgi_secagg_view *v);
    int (*server_new)(pgi_secagg_server **out, const pgi_secagg_params *p,
                      const uint8_t (*roster)[32], const uint8_t sign_sk[64], pg_error *err);
    void (*server_free)(pgi_secagg_server *s);
    int (*server_receive)(pgi_secagg_server *s, const void *msg, size_t len, pg_error *err);
    bool (*server_complete)(const pgi_secagg_server *s);
    int (*server_advance)(pgi_secagg_server *s, pgi_secagg_outbox *box, pg_error *err);
    pgi_secagg_server_state (*server_state)(const pgi_secagg_server *s);
    int (*server_result)(const pgi_secagg_server *s, uint64_t *sum, bool *included,
                         uint32_t *n_included, pg_error *err);
    const char *(*server_failure)(const pgi_secagg_server *s);
    void (*server_view)(const pgi_secagg_server *s, pgi_secagg_view *v);
    /* Ed25519 key of a 32-byte seed (pk 32, sk 64), as libsodium makes it. */
    int (*sign_keypair_from_seed)(uint8_t pk[32], uint8_t sk[64], const uint8_t seed[32]);
    /* BLAKE2b-256 of a label: a round id. */
    void (*round_id)(uint8_t out[32], const void *label, size_t len);
} pgi_privacy_engine;

#if defined(__GNUC__)
#define PGI_PRIVACY_EXPORT __attribute__((visibility("default")))
#else
#define PGI_PRIVACY_EXPORT
#endif
extern PGI_PRIVACY_EXPORT const pgi_privacy_engine pgi_privacy_engine_table;

/* The table: loaded from privacy.so at the first call in libplurigrid (module.c), built in in the
 * static library (builtin.c). NULL with err set when the module cannot be loaded. */
const pgi_privacy_engine *pgi_privacy_engine_get(pg_error *err);

/* Direct forms of the two helpers of the table (privacy.so / static library only). */
int pgi_secagg_sign_keypair_from_seed(uint8_t pk[32], uint8_t sk[64], const uint8_t seed[32]);
void pgi_secagg_round_id(uint8_t out[32], const void *label, size_t len);

#endif
