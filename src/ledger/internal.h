/* What the files of the ledger's implementation (the module ledger.so: every .c file of
 * src/ledger/ but api.c, module.c and builtin.c) share: each public pg_ledger_X that needs
 * libsodium or SQLite is implemented as pgi_ledger_X here (the table of api.h forwards to it), and
 * the implementation's files call one another by these names, never through the pg_ forwarders.
 * The pure helpers (hex, parsing, id order, options_init, key_wipe) are the pg_ functions of
 * api.c and callable from here. Only src/ledger/ and the tests include this. */
#ifndef PG_LEDGER_INTERNAL_H
#define PG_LEDGER_INTERNAL_H

#include "plurigrid/ledger.h"

/* libsodium's initialisation, once per process (thread-safe); PG_EUNSUPPORTED when it fails.
 * Every implementation function that uses libsodium calls it first (key.c). */
int pgi_ledger_sodium(pg_error *err);

/* The fixed parts of an op's encoding (docs/ledger.md "Ops"). */
#define PGI_LEDGER_MAGIC "PGL"
#define PGI_LEDGER_VERSION 1
#define PGI_LEDGER_HEADER 39 /* magic 3, version 1, kind 1, author 32, npreds 2 */
#define PGI_LEDGER_MAX_VALUE (16u << 10)
#define PGI_LEDGER_MAX_APP 1024u
#define PGI_LEDGER_MAX_DELTA ((int64_t)1 << 53)

/* A parsed op: pointers into its encoding (which must outlive the view), strings not
 * NUL-terminated. Only the fields of its kind are set. Ids and keys are 32 bytes each, packed. */
typedef struct pgi_opv {
    const uint8_t *bytes;
    size_t len;
    uint8_t kind;
    const uint8_t *author;
    const uint8_t *preds;
    size_t n_preds;
    const uint8_t *sig;
    /* GENESIS: members are (string name, key) pairs in a row, n_members of them */
    const char *community;
    size_t community_len;
    uint8_t admit;
    const uint8_t *members;
    size_t n_members;
    const uint8_t *operators;
    size_t n_operators;
    const uint8_t *app;
    size_t app_len;
    /* MEMBER_ADD (name, member), MEMBER_REMOVE (member, tags), REGISTER (name, value), COUNTER
       (name, delta) */
    const char *name;
    size_t name_len;
    const uint8_t *member;
    const uint8_t *tags;
    size_t n_tags;
    const uint8_t *value;
    size_t value_len;
    int64_t delta;
    /* RECORD */
    uint8_t rtype;
    uint32_t interval, term;
    const char *node;
    size_t node_len;
    const uint8_t *refs;
    size_t n_refs;
    const uint8_t *body;
    size_t body_len;
} pgi_opv;

/* Parses an encoding's structure (canonical form, limits; not the signature): PG_EPARSE saying
 * what is wrong. *v is written in any case; valid only on success. */
int pgi_ledger_parse(const void *op, size_t len, pgi_opv *v, pg_error *err);
/* Whether the signature of a parsed op is its author's. */
bool pgi_ledger_sig_ok(const pgi_opv *v);
/* The id of an encoding: BLAKE2b-256 of all its bytes. */
void pgi_ledger_hash(const void *op, size_t len, pg_ledger_id *id);
/* A decoded op (pg_ledger_op, one allocation) of a parsed view, with id, height and seq as
 * given. PG_ENOMEM. */
int pgi_ledger_op_of_view(const pgi_opv *v, const pg_ledger_id *id, uint64_t height, uint64_t seq,
                          pg_ledger_op **out, pg_error *err);
/* Whether s (n bytes) is a name: 1 to 63 letters, digits, '-', '_' or '.'. */
bool pgi_ledger_name_ok(const char *s, size_t n);

/* keys (key.c) */
int pgi_ledger_key_generate(pg_ledger_key *out, pg_error *err);
int pgi_ledger_key_from_seed(pg_ledger_key *out, const uint8_t seed[32], pg_error *err);
int pgi_ledger_key_read(const char *path, pg_ledger_key *out, pg_error *err);
int pgi_ledger_key_write(const char *path, const pg_ledger_key *k,
                         int (*open_private)(pg_output **out, const char *path, pg_error *err),
                         pg_error *err);

/* ops (op.c) */
int pgi_ledger_op_encode(const pg_ledger_key *k, const pg_ledger_id *preds, size_t n_preds,
                         const pg_ledger_payload *p, uint8_t **op, size_t *len, pg_error *err);
int pgi_ledger_op_decode(const void *op, size_t len, pg_ledger_op **out, pg_error *err);
void pgi_ledger_op_free(pg_ledger_op *op);

/* the ledger (ledger.c) */
int pgi_ledger_open(pg_ledger **out, const char *path, const void *genesis, size_t genesis_len,
                    const pg_ledger_options *o, pg_error *err);
void pgi_ledger_close(pg_ledger *l);
int pgi_ledger_append(pg_ledger *l, const pg_ledger_key *k, const pg_ledger_payload *p,
                      pg_ledger_id *id, pg_error *err);
int pgi_ledger_ingest(pg_ledger *l, const void *const *ops, const size_t *lens, size_t n,
                      pg_ledger_ingest_stats *st, pg_error *err);
const char *pgi_ledger_community(const pg_ledger *l);
void pgi_ledger_genesis_id(const pg_ledger *l, pg_ledger_id *out);
size_t pgi_ledger_count(const pg_ledger *l);
int pgi_ledger_heads(const pg_ledger *l, pg_ledger_id *out, size_t max, size_t *n_heads,
                     pg_error *err);
int pgi_ledger_heads_digest(const pg_ledger *l, pg_ledger_id *out, pg_error *err);
int pgi_ledger_state_digest(const pg_ledger *l, pg_ledger_id *out, pg_error *err);
bool pgi_ledger_has(const pg_ledger *l, const pg_ledger_id *id);
int pgi_ledger_get(pg_ledger *l, const pg_ledger_id *id, uint8_t **op, size_t *len, pg_error *err);
int pgi_ledger_each(pg_ledger *l, uint64_t after_seq, int (*fn)(void *ud, const pg_ledger_op *op),
                    void *ud, pg_error *err);
int pgi_ledger_each_record(pg_ledger *l, pg_ledger_record_type type, uint32_t interval,
                           int (*fn)(void *ud, const pg_ledger_op *op), void *ud, pg_error *err);
size_t pgi_ledger_members(const pg_ledger *l, pg_ledger_member *out, size_t max);
const char *pgi_ledger_member_name(const pg_ledger *l, const pg_ledger_pubkey *key);
int pgi_ledger_register_get(pg_ledger *l, const pg_ledger_pubkey *author, const char *name,
                            void **value, size_t *len, pg_error *err);
int64_t pgi_ledger_counter_get(const pg_ledger *l, const char *name);
void pgi_ledger_get_stats(const pg_ledger *l, pg_ledger_stats *s);

/* verify (verify.c) */
int pgi_ledger_verify_file(const char *path, const pg_ledger_checker *checker,
                           pg_ledger_verify_report *rep, pg_error *err);
void pgi_ledger_verify_report_free(pg_ledger_verify_report *rep);

/* show and export (describe.c) */
int pgi_ledger_show(pg_ledger *l, bool json, char **text, pg_error *err);
int pgi_ledger_export(pg_ledger *l, bool json, char **text, pg_error *err);
int pgi_ledger_verify_report_text(const pg_ledger_verify_report *rep, bool json, char **text,
                                  pg_error *err);

/* on the lattice (net.c) */
void pgi_ledger_net_options_init(pg_ledger_net_options *o);
int pgi_ledger_net_new(pg_ledger_net **out, pg_ledger *l, pg_bus *b, const pg_ledger_net_options *o,
                       pg_error *err);
void pgi_ledger_net_free(pg_ledger_net *n);
int pgi_ledger_net_publish(pg_ledger_net *n, const pg_ledger_id *id, pg_error *err);
int pgi_ledger_net_reconcile(pg_ledger_net *n, const char *peer, pg_error *err);
int pgi_ledger_net_step(pg_ledger_net *n, double now, pg_error *err);
bool pgi_ledger_net_idle(const pg_ledger_net *n);
int pgi_ledger_net_sync(pg_ledger_net *n, const char *peer, double timeout_s, pg_error *err);
void pgi_ledger_net_get_stats(const pg_ledger_net *n, pg_ledger_net_stats *s);

#endif
