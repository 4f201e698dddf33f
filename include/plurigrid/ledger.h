/* The shared ledger: a community's state that every honest node agrees on, whatever other nodes
 * do (Byzantine-fault-tolerant CRDTs: Kleppmann, "Making CRDTs Byzantine Fault Tolerant", PaPoC
 * 2022; Kleppmann & Howard, "Byzantine Eventual Consistency and the Fundamental Limits of
 * Peer-to-Peer Databases", 2020).
 *
 * The ledger is a graph of operations. Each op carries its author's Ed25519 public key, a
 * payload, and the ids of its predecessors (the heads of the author's copy when it was made); it
 * is signed by its author, and its id is the BLAKE2b-256 hash of its canonical encoding
 * (docs/ledger.md). An op is delivered only once all its predecessors are, and whether it is
 * valid depends only on it and its ancestors, so every honest copy accepts or rejects it alike.
 * On top sit the CRDTs: membership (an OR-set of keys, admitted by the genesis key or by members
 * as the genesis op's rule says), per-author registers (last writer by height, then id), counters
 * (sums), and an append-only set of records: bids, the operator's gate closures naming the exact
 * bid set by ids, clearing results (which every node recomputes through a checker the application
 * gives), settlements and demand-response records.
 *
 * A ledger is stored in SQLite (WAL): an op acknowledged to a peer or a user (a call here that
 * returned PG_OK) is on disk first. pg_ledger_net reconciles two copies over the lattice's bus
 * (request/reply): heads and a Bloom filter keyed per run, then the ops the other lacks, fetched
 * back along the graph when a filter lied.
 *
 * libsodium and SQLite live in the module ledger.so, loaded at the first call that needs them,
 * so a program that never uses a ledger never loads them. A ledger object is used by one thread
 * at a time. */
#ifndef PLURIGRID_LEDGER_H
#define PLURIGRID_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plurigrid/core.h"
#include "plurigrid/lattice.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- ids and keys */

#define PG_LEDGER_HASH_BYTES 32
#define PG_LEDGER_KEY_BYTES 32
#define PG_LEDGER_SIG_BYTES 64
/* Limits every op is checked against (PG_ELIMIT / rejected beyond them). */
#define PG_LEDGER_MAX_PREDS 1024
#define PG_LEDGER_MAX_PAYLOAD (64u << 10)
#define PG_LEDGER_MAX_OP (PG_LEDGER_MAX_PAYLOAD + PG_LEDGER_MAX_PREDS * 32u + 256u)
/* Names (community, member, register, counter): 1 to 63 bytes of letters, digits, '-', '_', '.'. */
#define PG_LEDGER_MAX_NAME 63

/* An op's id: BLAKE2b-256 of its encoding. */
typedef struct pg_ledger_id {
    uint8_t b[PG_LEDGER_HASH_BYTES];
} pg_ledger_id;

/* An Ed25519 public key. */
typedef struct pg_ledger_pubkey {
    uint8_t b[PG_LEDGER_KEY_BYTES];
} pg_ledger_pubkey;

/* A signing key: libsodium's Ed25519 secret key (seed and public key) and the public key. A
 * secret: nothing here ever prints it; pg_ledger_key_wipe clears it. */
typedef struct pg_ledger_key {
    uint8_t sk[64];
    pg_ledger_pubkey pk;
} pg_ledger_key;

/* A fresh random key. */
PG_API int pg_ledger_key_generate(pg_ledger_key *out, pg_error *err);
/* The key of a 32-byte seed (deterministic: tests and simulations). */
PG_API int pg_ledger_key_from_seed(pg_ledger_key *out, const uint8_t seed[32], pg_error *err);
/* Key files ("plurigrid-key/1", docs/ledger.md): text naming the public key and the secret seed.
 * write creates the file with mode 0600 through the atomic writer and refuses to replace an
 * existing file (PG_ESTATE); read refuses a file that others than its owner may read or write
 * (PG_EAUTH, saying how to fix it) and malformed files (PG_EPARSE naming the line). */
PG_API int pg_ledger_key_read(const char *path, pg_ledger_key *out, pg_error *err);
PG_API int pg_ledger_key_write(const char *path, const pg_ledger_key *k, pg_error *err);
PG_API void pg_ledger_key_wipe(pg_ledger_key *k);

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
PG_API void pg_ledger_hex(const void *bytes, size_t n, char *out);
/* 64 hex digits → a key or an id; PG_EPARSE otherwise. */
PG_API int pg_ledger_pubkey_parse(const char *hex, pg_ledger_pubkey *out, pg_error *err);
PG_API int pg_ledger_id_parse(const char *hex, pg_ledger_id *out, pg_error *err);
/* memcmp order: ids and keys sort by their bytes. */
PG_API int pg_ledger_id_cmp(const pg_ledger_id *a, const pg_ledger_id *b);

/* ---------------------------------------------------------------- ops */

typedef enum pg_ledger_kind {
    PG_LEDGER_GENESIS = 1,       /* the community: its name, admission rule, members, operators */
    PG_LEDGER_MEMBER_ADD = 2,    /* admits a key under a name */
    PG_LEDGER_MEMBER_REMOVE = 3, /* removes the admissions of a key it has seen (OR-set) */
    PG_LEDGER_REGISTER = 4,      /* sets one of the author's registers */
    PG_LEDGER_COUNTER = 5,       /* adds to a counter */
    PG_LEDGER_RECORD = 6,        /* an append-only record (bids, gates, results, ...) */
} pg_ledger_kind;

/* Who may admit members: only the genesis key, or also every member. */
typedef enum pg_ledger_admit {
    PG_LEDGER_ADMIT_GENESIS = 0,
    PG_LEDGER_ADMIT_MEMBERS = 1,
} pg_ledger_admit;

typedef struct pg_ledger_member {
    const char *name;
    pg_ledger_pubkey key;
} pg_ledger_member;

/* The genesis op's payload. Its author is the genesis key. */
typedef struct pg_ledger_genesis {
    const char *community; /* a name */
    pg_ledger_admit admit;
    const pg_ledger_member *members; /* admitted from the start */
    size_t n_members;
    const pg_ledger_pubkey *operators; /* keys that may sign gate closures, results and
                                          settlements; none: any member may */
    size_t n_operators;
    const void *app; /* the application's bytes (a community: its run id), at most 1 KiB */
    size_t app_len;
} pg_ledger_genesis;

typedef enum pg_ledger_record_type {
    PG_LEDGER_BID = 1,    /* a node's bid for an interval; node = the author's member name */
    PG_LEDGER_GATE = 2,   /* operator: closes an interval's gate; refs = the exact bids cleared
                             (each a BID of that interval, at most one per node, each also a
                             predecessor of the gate) */
    PG_LEDGER_RESULT = 3, /* operator: the clearing result; refs = its gate (a predecessor, by the
                             same author); the checker recomputes it from the gate's bids */
    PG_LEDGER_SETTLE = 4, /* operator: the settlement of an interval; refs = its result */
    PG_LEDGER_DR = 5,     /* a demand-response event (operator) or a node's response */
} pg_ledger_record_type;

typedef struct pg_ledger_record {
    pg_ledger_record_type type;
    uint32_t interval;
    uint32_t term;           /* GATE, RESULT, SETTLE: the operator's term */
    const char *node;        /* BID: the bidding member's name; otherwise "" (or NULL) */
    const pg_ledger_id *refs; /* see the types */
    size_t n_refs;
    const void *body; /* the application's bytes: the bid, the result, ... */
    size_t body_len;
} pg_ledger_record;

/* An op's payload: kind says which fields are used. */
typedef struct pg_ledger_payload {
    pg_ledger_kind kind;
    pg_ledger_genesis genesis;     /* GENESIS */
    const char *name;              /* MEMBER_ADD: the member's name; REGISTER, COUNTER: its name */
    pg_ledger_pubkey member;       /* MEMBER_ADD, MEMBER_REMOVE */
    const pg_ledger_id *tags;      /* MEMBER_REMOVE: the admissions (MEMBER_ADD ids) removed */
    size_t n_tags;
    const void *value;             /* REGISTER, at most 16 KiB */
    size_t value_len;
    int64_t delta;                 /* COUNTER: |delta| <= 2^53 */
    pg_ledger_record record;       /* RECORD */
} pg_ledger_payload;

/* A decoded op. Every pointer inside is owned by the op (pg_ledger_op_free). */
typedef struct pg_ledger_op {
    pg_ledger_id id;
    pg_ledger_pubkey author;
    pg_ledger_id *preds; /* ascending */
    size_t n_preds;
    pg_ledger_payload payload;
    uint8_t sig[PG_LEDGER_SIG_BYTES];
    uint64_t height; /* 0 for the genesis, else 1 + the greatest of its predecessors' (set by a
                        ledger; 0 from pg_ledger_op_decode) */
    uint64_t seq;    /* its position in the ledger's delivery order (set by a ledger) */
} pg_ledger_op;

/* Encodes and signs an op of payload p by key k on predecessors preds (sorted and deduplicated
 * here); *op is malloc'd. PG_EINVAL/PG_ELIMIT for a payload outside the format's limits (a
 * structurally invalid op is never made). Borrows everything. */
PG_API int pg_ledger_op_encode(const pg_ledger_key *k, const pg_ledger_id *preds, size_t n_preds,
                               const pg_ledger_payload *p, uint8_t **op, size_t *len, pg_error *err);
/* Decodes len bytes: structure (canonical encoding, limits; PG_EPARSE saying what), then the
 * signature (PG_EAUTH). *out is malloc'd, written only on success. Borrows op. */
PG_API int pg_ledger_op_decode(const void *op, size_t len, pg_ledger_op **out, pg_error *err);
PG_API void pg_ledger_op_free(pg_ledger_op *op); /* accepts NULL */

/* ---------------------------------------------------------------- the ledger */

typedef struct pg_ledger pg_ledger;

/* The application's check of its records (a community: recomputing a clearing result from the
 * gate's bids). check is called before a record op is accepted, with the ops its refs name
 * (resolved through the ledger: for a RESULT, its gate followed by the gate's bids); PG_OK accepts,
 * anything else rejects the op (err says why). It must depend only on its arguments. */
typedef struct pg_ledger_checker {
    const char *name; /* says what checks, in messages: "the community market of scenario X" */
    void *ctx;
    int (*check)(void *ctx, const pg_ledger_op *rec, const pg_ledger_op *const *refs,
                 size_t n_refs, pg_error *err);
} pg_ledger_checker;

typedef struct pg_ledger_options {
    bool create;    /* create the database when it does not exist (needs the genesis op) */
    bool read_only; /* open without writing (show, export) */
    const pg_ledger_checker *checker; /* NULL: records are checked structurally only */
    size_t max_pending;       /* ops held waiting for their predecessors (default 100000) */
    size_t max_pending_bytes; /* and their bytes (default 64 MiB); beyond, the oldest are dropped */
    /* Called for each op rejected or dropped, with its id (NULL when it could not be decoded)
     * and why (may be NULL). */
    void (*reject)(void *ud, const pg_ledger_id *id, const char *why);
    void *reject_ud;
} pg_ledger_options;

PG_API void pg_ledger_options_init(pg_ledger_options *o);

/* Opens the ledger in the SQLite database at path. A new database (o->create) is created with
 * the genesis op (genesis, genesis_len: its encoding); an existing one must have been created with
 * the same genesis when one is given (PG_ESTATE naming both ids). One process at a time opens a
 * database for writing (PG_EIO when another holds it). Errors name the file. Borrows o (and
 * o->checker, which must outlive the ledger). */
PG_API int pg_ledger_open(pg_ledger **out, const char *path, const void *genesis,
                          size_t genesis_len, const pg_ledger_options *o, pg_error *err);
PG_API void pg_ledger_close(pg_ledger *l); /* accepts NULL */

/* Makes an op of payload p by key k on the ledger's current heads (and, for a record, its refs),
 * checks it as any received op is checked (PG_EAUTH: k may not do this; PG_EMODEL: it breaks its
 * CRDT's rule), stores it (on disk when this returns PG_OK) and applies it. *id (may be NULL)
 * is its id. Borrows everything. */
PG_API int pg_ledger_append(pg_ledger *l, const pg_ledger_key *k, const pg_ledger_payload *p,
                            pg_ledger_id *id, pg_error *err);

typedef struct pg_ledger_ingest_stats {
    size_t delivered; /* new ops delivered (including pending ones these completed) */
    size_t duplicate; /* already delivered */
    size_t pending;   /* held until their predecessors arrive */
    size_t rejected;  /* malformed, badly signed, or invalid by their ancestors */
} pg_ledger_ingest_stats;

/* Ingests n received ops (ops[i], lens[i] bytes): each is decoded and checked, held while a
 * predecessor is missing, and delivered (stored and applied) with every held op it completes, in
 * topological order; everything delivered is on disk when this returns PG_OK. Invalid ops are
 * rejected (counted in *st, reported to o->reject) and never applied; they are not an error.
 * Errors: PG_EIO (storage). st may be NULL. Borrows everything. */
PG_API int pg_ledger_ingest(pg_ledger *l, const void *const *ops, const size_t *lens, size_t n,
                            pg_ledger_ingest_stats *st, pg_error *err);

PG_API const char *pg_ledger_community(const pg_ledger *l);
PG_API void pg_ledger_genesis_id(const pg_ledger *l, pg_ledger_id *out);
/* Delivered ops, genesis included. */
PG_API size_t pg_ledger_count(const pg_ledger *l);
/* The heads (delivered ops no delivered op names as a predecessor), ascending: the first max of
 * them into out (out may be NULL when max is 0) and how many there are into *n_heads (may be
 * NULL). PG_ENOMEM; outputs written only on success. */
PG_API int pg_ledger_heads(const pg_ledger *l, pg_ledger_id *out, size_t max, size_t *n_heads,
                           pg_error *err);
/* BLAKE2b-256 of the ascending heads: two copies with the same heads have the same digest.
 * PG_ENOMEM; *out written only on success. */
PG_API int pg_ledger_heads_digest(const pg_ledger *l, pg_ledger_id *out, pg_error *err);
/* BLAKE2b-256 of the CRDT state (members, registers, counters, records) in a canonical order.
 * PG_ENOMEM; *out written only on success. */
PG_API int pg_ledger_state_digest(const pg_ledger *l, pg_ledger_id *out, pg_error *err);
PG_API bool pg_ledger_has(const pg_ledger *l, const pg_ledger_id *id);
/* The stored encoding of a delivered op (*op malloc'd); PG_ENOTFOUND. */
PG_API int pg_ledger_get(pg_ledger *l, const pg_ledger_id *id, uint8_t **op, size_t *len,
                         pg_error *err);
/* Calls fn for every delivered op in delivery order (a topological order), starting after
 * position after_seq (0: from the genesis), until fn returns nonzero (returned). */
PG_API int pg_ledger_each(pg_ledger *l, uint64_t after_seq,
                          int (*fn)(void *ud, const pg_ledger_op *op), void *ud, pg_error *err);
/* The same for the records of one type and interval (delivery order). */
PG_API int pg_ledger_each_record(pg_ledger *l, pg_ledger_record_type type, uint32_t interval,
                                 int (*fn)(void *ud, const pg_ledger_op *op), void *ud,
                                 pg_error *err);

/* Membership now: the current members (admitted and not removed), ascending by key, up to max
 * into out (names borrowed from the ledger until its next change); returns how many. */
PG_API size_t pg_ledger_members(const pg_ledger *l, pg_ledger_member *out, size_t max);
/* The name of member key, or NULL when it is not a member now. */
PG_API const char *pg_ledger_member_name(const pg_ledger *l, const pg_ledger_pubkey *key);
/* Register name of author: *value malloc'd (*len bytes); PG_ENOTFOUND when never set. */
PG_API int pg_ledger_register_get(pg_ledger *l, const pg_ledger_pubkey *author, const char *name,
                                  void **value, size_t *len, pg_error *err);
/* Counter name's sum (0 when never added to). Saturates at INT64_MAX / INT64_MIN. */
PG_API int64_t pg_ledger_counter_get(const pg_ledger *l, const char *name);

typedef struct pg_ledger_stats {
    uint64_t delivered, duplicate, rejected;
    uint64_t pending;      /* held now */
    uint64_t dropped;      /* held ops dropped beyond the limits */
    uint64_t equivocations; /* ops by one author on the same predecessors as another of its ops */
} pg_ledger_stats;
PG_API void pg_ledger_get_stats(const pg_ledger *l, pg_ledger_stats *s);

/* ---------------------------------------------------------------- verify, show, export */

/* One problem found by pg_ledger_verify_file, naming the op. */
typedef struct pg_ledger_problem {
    uint64_t seq;  /* the row's position (0: not an op's row) */
    char id[65];   /* the op's id as stored, hex ("" when unknown) */
    char what[256];
} pg_ledger_problem;

typedef struct pg_ledger_verify_report {
    size_t ops;                 /* rows checked */
    size_t n_problems;          /* problems found (0: the ledger verifies) */
    pg_ledger_problem *problems; /* the first PG_LEDGER_MAX_PROBLEMS of them */
    size_t equivocations;       /* valid, but shown: an author signed two ops on one set of heads */
    size_t results_recomputed;  /* RESULT records recomputed by the checker */
    size_t results_unchecked;   /* RESULT records not recomputed (no checker given) */
    pg_ledger_id heads_digest, state_digest;
} pg_ledger_verify_report;
#define PG_LEDGER_MAX_PROBLEMS 100

/* Checks the database at path from scratch without trusting anything derived in it: every row's
 * encoding, id (its hash), signature, predecessors (present, delivered before it), every op's
 * validity by its ancestors (checker: as pg_ledger_options.checker), and the stored heads and CRDT
 * state against those recomputed. Returns PG_OK when the file could be read, with what it found in
 * *rep (free with pg_ledger_verify_report_free); errors: cannot open or not a ledger. */
PG_API int pg_ledger_verify_file(const char *path, const pg_ledger_checker *checker,
                                 pg_ledger_verify_report *rep, pg_error *err);
PG_API void pg_ledger_verify_report_free(pg_ledger_verify_report *rep);
/* The report for people (text) or programs (JSON, docs/ledger.md): the ops checked, each problem
 * with the op's seq and id, equivocations, the results recomputed and not, the digests. *text
 * malloc'd, NUL-terminated. Borrows rep. */
PG_API int pg_ledger_verify_report_text(const pg_ledger_verify_report *rep, bool json,
                                        char **text, pg_error *err);

/* Text for people or JSON (docs/ledger.md) of an open ledger: show is a summary (community,
 * genesis, counts by kind, heads, members, counters, registers, the latest records), export every
 * op decoded in delivery order with its encoding in hex. *text malloc'd, NUL-terminated. */
PG_API int pg_ledger_show(pg_ledger *l, bool json, char **text, pg_error *err);
PG_API int pg_ledger_export(pg_ledger *l, bool json, char **text, pg_error *err);

/* ---------------------------------------------------------------- on the lattice */

/* A ledger on a bus: ops published as they are made and ingested as they arrive, reconciliation
 * requests answered, and reconciliations with peers run (non-blocking: replies are handled in the
 * bus's handlers during pg_bus_poll). Subjects (prefix e.g. "pg.<community>.ledger"):
 *   PREFIX.op                an op, as made (ingested by every copy; a missing predecessor
 *                            starts a reconciliation with the sender)
 *   PREFIX.sync.<self>       reconciliation requests to this copy (answered)
 *   PREFIX.reply.<self>.<n>  answers to this copy's requests
 * Messages are versioned and checked (docs/ledger.md); a peer that answers garbage, too much, or
 * not at all fails that reconciliation (counted, logged) and never blocks the owner. */
typedef struct pg_ledger_net pg_ledger_net;

typedef struct pg_ledger_net_options {
    const char *prefix;   /* subject prefix (valid subject tokens) */
    const char *self;     /* this copy's name: one subject token */
    double timeout_s;     /* a request unanswered this long fails (default 2) */
    size_t max_message;   /* bytes per message sent (default and at most 900 KiB) */
    bool bloom;           /* true (default): algorithm 2 (Bloom filter), else algorithm 1 */
    unsigned bloom_bits;  /* bits per op in a filter (default 24: a false positive in ~60000) */
    void (*log)(void *ud, pg_log_level level, const char *msg);
    void *log_ud;
    pg_log_level log_level;
} pg_ledger_net_options;

PG_API void pg_ledger_net_options_init(pg_ledger_net_options *o);
/* Subscribes on b for l. Borrows l, b and o (strings copied); both must outlive the net. */
PG_API int pg_ledger_net_new(pg_ledger_net **out, pg_ledger *l, pg_bus *b,
                             const pg_ledger_net_options *o, pg_error *err);
PG_API void pg_ledger_net_free(pg_ledger_net *n); /* accepts NULL */
/* Publishes the delivered op id on PREFIX.op. */
PG_API int pg_ledger_net_publish(pg_ledger_net *n, const pg_ledger_id *id, pg_error *err);
/* Starts a reconciliation with peer (a name) unless one with it is running; returns at once. */
PG_API int pg_ledger_net_reconcile(pg_ledger_net *n, const char *peer, pg_error *err);
/* Timeouts and retries; call after pg_bus_poll with the current monotonic time (s). */
PG_API int pg_ledger_net_step(pg_ledger_net *n, double now, pg_error *err);
/* True when no reconciliation of this copy is running. */
PG_API bool pg_ledger_net_idle(const pg_ledger_net *n);
/* Reconciles with peer and waits (polling the bus) until done: PG_OK when both copies now hold
 * each other's ops as of the start; PG_ENET when the peer failed or timeout_s passed. */
PG_API int pg_ledger_net_sync(pg_ledger_net *n, const char *peer, double timeout_s,
                              pg_error *err);

typedef struct pg_ledger_net_stats {
    uint64_t reconciliations; /* started */
    uint64_t completed, failed;
    uint64_t round_trips;     /* exchanges, as the papers count them: a run's SYNC and every
                                 further request answered (NEED, a SYNC again after a partial
                                 answer, a second or later PUSH, a PUSH answered with NEED), but
                                 not the first PUSH answered OK, which completes the first
                                 exchange (docs/ledger.md, "Reconciliation") */
    uint64_t ops_sent, ops_received;
    uint64_t bytes_sent, bytes_received;
    uint64_t served;          /* requests of peers answered */
    uint64_t bad_messages;    /* malformed, oversized or unexpected messages dropped */
    uint64_t requests;        /* requests of this copy answered (every SYNC, NEED and PUSH) */
} pg_ledger_net_stats;
PG_API void pg_ledger_net_get_stats(const pg_ledger_net *n, pg_ledger_net_stats *s);

#ifdef __cplusplus
}
#endif
#endif
