/* The ledger's place in the library: every pg_ledger_* function that needs libsodium or SQLite is
 * implemented in the module ledger.so (every .c file of src/ledger/ except api.c, module.c and
 * builtin.c), under the same name with pgi_ for pg_ (internal.h), and reached through one table
 * of functions, pgi_ledger_table (table.c). libplurigrid holds api.c (the pg_ forwarders and the
 * few functions that need neither library) and module.c, which loads the table from ledger.so at
 * the first call; the static library has the implementation and builtin.c built in. */
#ifndef PG_LEDGER_API_H
#define PG_LEDGER_API_H

#include "plurigrid/ledger.h"

/* The symbol the module exports: visible even in a build with hidden visibility. */
#if defined(__GNUC__)
#define PGI_LEDGER_EXPORT __attribute__((visibility("default")))
#else
#define PGI_LEDGER_EXPORT
#endif

typedef struct pgi_ledger_api {
    /* keys (key.c) */
    int (*key_generate)(pg_ledger_key *out, pg_error *err);
    int (*key_from_seed)(pg_ledger_key *out, const uint8_t seed[32], pg_error *err);
    int (*key_read)(const char *path, pg_ledger_key *out, pg_error *err);
    /* open_private: the library's pgi_output_open_private (the module has no copy of the
     * writer) */
    int (*key_write)(const char *path, const pg_ledger_key *k,
                     int (*open_private)(pg_output **out, const char *path, pg_error *err),
                     pg_error *err);
    /* ops (op.c) */
    int (*op_encode)(const pg_ledger_key *k, const pg_ledger_id *preds, size_t n_preds,
                     const pg_ledger_payload *p, uint8_t **op, size_t *len, pg_error *err);
    int (*op_decode)(const void *op, size_t len, pg_ledger_op **out, pg_error *err);
    void (*op_free)(pg_ledger_op *op);
    /* the ledger (ledger.c) */
    int (*open)(pg_ledger **out, const char *path, const void *genesis, size_t genesis_len,
                const pg_ledger_options *o, pg_error *err);
    void (*close)(pg_ledger *l);
    int (*append)(pg_ledger *l, const pg_ledger_key *k, const pg_ledger_payload *p,
                  pg_ledger_id *id, pg_error *err);
    int (*ingest)(pg_ledger *l, const void *const *ops, const size_t *lens, size_t n,
                  pg_ledger_ingest_stats *st, pg_error *err);
    const char *(*community)(const pg_ledger *l);
    void (*genesis_id)(const pg_ledger *l, pg_ledger_id *out);
    size_t (*count)(const pg_ledger *l);
    int (*heads)(const pg_ledger *l, pg_ledger_id *out, size_t max, size_t *n_heads, pg_error *err);
    int (*heads_digest)(const pg_ledger *l, pg_ledger_id *out, pg_error *err);
    int (*state_digest)(const pg_ledger *l, pg_ledger_id *out, pg_error *err);
    bool (*has)(const pg_ledger *l, const pg_ledger_id *id);
    int (*get)(pg_ledger *l, const pg_ledger_id *id, uint8_t **op, size_t *len, pg_error *err);
    int (*each)(pg_ledger *l, uint64_t after_seq, int (*fn)(void *ud, const pg_ledger_op *op),
                void *ud, pg_error *err);
    int (*each_record)(pg_ledger *l, pg_ledger_record_type type, uint32_t interval,
                       int (*fn)(void *ud, const pg_ledger_op *op), void *ud, pg_error *err);
    size_t (*members)(const pg_ledger *l, pg_ledger_member *out, size_t max);
    const char *(*member_name)(const pg_ledger *l, const pg_ledger_pubkey *key);
    int (*register_get)(pg_ledger *l, const pg_ledger_pubkey *author, const char *name,
                        void **value, size_t *len, pg_error *err);
    int64_t (*counter_get)(const pg_ledger *l, const char *name);
    void (*get_stats)(const pg_ledger *l, pg_ledger_stats *s);
    /* verify (verify.c) */
    int (*verify_file)(const char *path, const pg_ledger_checker *checker,
                       pg_ledger_verify_report *rep, pg_error *err);
    void (*verify_report_free)(pg_ledger_verify_report *rep);
    /* show and export (describe.c) */
    int (*show)(pg_ledger *l, bool json, char **text, pg_error *err);
    int (*export_)(pg_ledger *l, bool json, char **text, pg_error *err);
    int (*verify_report_text)(const pg_ledger_verify_report *rep, bool json, char **text,
                              pg_error *err);
    /* on the lattice (net.c) */
    void (*net_options_init)(pg_ledger_net_options *o);
    int (*net_new)(pg_ledger_net **out, pg_ledger *l, pg_bus *b, const pg_ledger_net_options *o,
                   pg_error *err);
    void (*net_free)(pg_ledger_net *n);
    int (*net_publish)(pg_ledger_net *n, const pg_ledger_id *id, pg_error *err);
    int (*net_reconcile)(pg_ledger_net *n, const char *peer, pg_error *err);
    int (*net_step)(pg_ledger_net *n, double now, pg_error *err);
    bool (*net_idle)(const pg_ledger_net *n);
    int (*net_sync)(pg_ledger_net *n, const char *peer, double timeout_s, pg_error *err);
    void (*net_get_stats)(const pg_ledger_net *n, pg_ledger_net_stats *s);
} pgi_ledger_api;

/* The table ledger.so exports (and the static library has built in). */
extern PGI_LEDGER_EXPORT const pgi_ledger_api pgi_ledger_table;

/* The table, built in or loaded once from ledger.so; NULL with err filled (PG_EUNSUPPORTED, naming
 * the module and the packages it needs) when it cannot be loaded. Thread-safe. */
const pgi_ledger_api *pgi_ledger_api_get(pg_error *err);

#endif
