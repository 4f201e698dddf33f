/* The ledger object's insides, shared by the files of the implementation (ledger.c: the graph,
 * delivery and the pending set; rules.c: validity and membership contexts; state.c: the CRDT
 * state; store.c: SQLite; verify.c). Only src/ledger/ and the tests include this.
 *
 * Every delivered op has an index (its seq - 1) into l->ops, a small fixed record of what the
 * rules and the queries need without reading SQLite: id, author, height, predecessors (indices),
 * its membership context, and for records their type, interval and node. */
#ifndef PG_LEDGER_GRAPH_H
#define PG_LEDGER_GRAPH_H

#include <sqlite3.h>

#include "ledger/internal.h"

/* ---------------------------------------------------------------- hash tables */

/* Open addressing on 64-bit hashes (keyed SipHash of the keys, so a peer cannot choose ids that
 * collide) with uint32 values; the keys live elsewhere and callers compare them. A multimap:
 * several values may share a hash or a key. */
typedef struct pgi_htab {
    uint64_t *h;
    uint32_t *v; /* 0 empty, 1 deleted, else value + 2 */
    size_t cap, used, n;
} pgi_htab;

int pgi_htab_put(pgi_htab *t, uint64_t h, uint32_t v);
/* Cursor over the values stored under hash h: start with *pos = SIZE_MAX; each call gives the
 * next one (true) until there is none (false). pgi_htab_del(t, pos) deletes the one just given. */
bool pgi_htab_next(const pgi_htab *t, uint64_t h, size_t *pos, uint32_t *v);
void pgi_htab_del(pgi_htab *t, size_t pos);
void pgi_htab_free(pgi_htab *t);

/* ---------------------------------------------------------------- the graph */

#define PGI_NONE UINT32_MAX

typedef struct pgi_lop {
    pg_ledger_id id;
    uint64_t height;
    uint32_t author; /* index in l->authors */
    uint32_t ctx;    /* membership context of its causal past, itself included */
    uint32_t pred0;  /* its predecessors: l->preds[pred0 .. pred0 + n_preds) (indices) */
    uint16_t n_preds;
    uint8_t kind;
    uint8_t rtype;     /* RECORD: its type */
    uint8_t is_pred;   /* a delivered op names it */
    uint32_t interval; /* RECORD */
    uint32_t aux;      /* BID: its node's name (l->names); MEMBER_*: l->mops index; else 0 */
    uint32_t head_pos; /* its place in l->heads when it is a head */
} pgi_lop;

/* A membership op: what a context's evaluation needs. */
typedef struct pgi_mop {
    uint32_t op;
    pg_ledger_pubkey key;
    char *name;     /* MEMBER_ADD */
    uint32_t *tags; /* MEMBER_REMOVE: the admissions removed (op indices; 0 is the genesis) */
    size_t n_tags;
} pgi_mop;

typedef struct pgi_member {
    pg_ledger_pubkey key;
    const char *name;   /* borrowed from a pgi_mop or the genesis */
    uint32_t admission; /* the op admitting it under that name (0: the genesis) */
} pgi_member;

/* A membership context: the membership ops among an op's ancestors and itself (indices,
 * ascending), interned so that ops with the same past share one. Its members are evaluated when
 * first asked for. */
typedef struct pgi_ctx {
    uint32_t *ops;
    size_t n;
    uint64_t hash;
    bool evaluated;
    pgi_member *members; /* ascending by key */
    size_t n_members;
} pgi_ctx;

/* A held op, waiting for predecessors. */
typedef struct pgi_pend {
    pg_ledger_id id;
    uint8_t *bytes; /* NULL: a free slot */
    size_t len;
    uint32_t missing; /* predecessors not delivered yet */
    uint32_t serial;  /* changes when the slot is reused, so stale references are seen */
    uint64_t call;    /* the ingest call that brought it */
} pgi_pend;

typedef struct pgi_wait {
    pg_ledger_id missing;
    uint32_t slot, serial;
} pgi_wait;

typedef struct pgi_reg {
    uint32_t author;
    char *name;
    uint32_t op;    /* the winning write */
    uint8_t *value; /* its value while not yet stored (dirty) */
    size_t value_len;
    bool dirty;
} pgi_reg;

typedef struct pgi_ctr {
    char *name;
    int64_t p, n; /* saturating sums of the positive and negative deltas (n as a positive) */
    bool dirty;
} pgi_ctr;

typedef struct pgi_store {
    sqlite3 *db;
    sqlite3_stmt *ins_op, *ins_rec, *ins_equiv, *ins_head, *del_head, *put_reg, *put_ctr,
        *del_members, *ins_member, *by_seq, *each, *each_rec, *reg_get;
    bool in_txn;
    bool wal; /* a writer of a file in WAL mode: back to a rollback journal when it closes */
    int lock; /* a writer: a descriptor of the file holding its flock, else -1 */
} pgi_store;

struct pg_ledger {
    char *path;
    pg_ledger_options o;
    pgi_store st;
    bool broken;      /* a storage failure left memory and disk apart: reopen */
    uint8_t hkey[16]; /* SipHash key of the hash tables */

    pg_ledger_op *genesis; /* decoded */
    char *community;

    pgi_lop *ops;
    size_t n_ops, cap_ops;
    uint32_t *preds;
    size_t n_preds, cap_preds;
    pgi_htab by_id; /* id -> op index */

    pg_ledger_pubkey *authors;
    size_t n_authors, cap_authors;
    pgi_htab by_author;

    char **names; /* interned node names of bids */
    size_t n_names, cap_names;
    pgi_htab by_name;

    uint32_t *heads;
    size_t n_heads, cap_heads;

    pgi_ctx *ctxs;
    size_t n_ctxs, cap_ctxs;
    pgi_htab by_ctx;
    pgi_mop *mops;
    size_t n_mops, cap_mops;
    uint32_t *all_mops; /* every membership op delivered: the context of the whole ledger */
    size_t cap_all_mops;
    pgi_member *members; /* the current members (evaluated all_mops) */
    size_t n_members;
    bool members_dirty; /* changed in this transaction */

    pgi_reg *regs;
    size_t n_regs, cap_regs;
    pgi_htab by_reg;
    pgi_ctr *ctrs;
    size_t n_ctrs, cap_ctrs;
    pgi_htab by_ctr;
    uint32_t *dirty_regs, *dirty_ctrs; /* changed in this transaction */
    size_t n_dirty_regs, cap_dirty_regs, n_dirty_ctrs, cap_dirty_ctrs;

    pgi_htab by_preds; /* (author, predecessors) -> first op: equivocation */
    uint64_t equivocations;

    /* The pending set. */
    pgi_pend *pend;
    size_t n_pend_slots, cap_pend, n_pending, pending_bytes;
    uint32_t *pend_free;
    size_t n_pend_free, cap_pend_free;
    pgi_htab pend_by_id;
    pgi_wait *waits;
    size_t n_waits, cap_waits;
    uint32_t *waits_free;
    size_t n_waits_free, cap_waits_free;
    pgi_htab waits_by_id;
    uint64_t *fifo; /* (slot << 32 | serial) in arrival order, from fifo_head */
    size_t fifo_head, n_fifo, cap_fifo;

    /* This transaction: the first op it delivered, and older heads it ended. */
    size_t txn_first;
    uint32_t *old_heads_gone;
    size_t n_old_heads_gone, cap_old_heads_gone;

    pg_ledger_stats stats;
    uint64_t calls; /* ingest calls so far */
};

/* Grows *p (elements of size sz) to hold at least need; PG_ENOMEM. */
int pgi_grow(void *p, size_t *cap, size_t need, size_t sz);

/* Keyed hashes. */
uint64_t pgi_ledger_hash_id(const pg_ledger *l, const pg_ledger_id *id);
uint64_t pgi_ledger_hash_bytes(const pg_ledger *l, const void *p, size_t n);
/* The index of a delivered op, or PGI_NONE. */
uint32_t pgi_ledger_find(const pg_ledger *l, const pg_ledger_id *id);
/* Whether op index x is in the sorted array a of n indices. */
bool pgi_in_sorted(const uint32_t *a, size_t n, uint32_t x);

/* For reconciliation (net.c) and show (describe.c): */
/* Marks (mark[x] = 1) every op that is one of from[0..n) (indices) or an ancestor of one; mark
 * has l->n_ops bytes, zeroed by the caller (marks already set stop the walk there). PG_ENOMEM. */
int pgi_ledger_mark_ancestors(const pg_ledger *l, const uint32_t *from, size_t n, uint8_t *mark);
/* Whether id is held in the pending set. */
bool pgi_ledger_pending_has(const pg_ledger *l, const pg_ledger_id *id);
/* The ids held ops wait for that are neither delivered nor held (what to ask a peer for),
 * ascending, up to max into out; returns how many there are. */
size_t pgi_ledger_missing(const pg_ledger *l, pg_ledger_id *out, size_t max);

/* ---------------------------------------------------------------- rules.c */

/* The context of a parsed op's causal past (the union of its predecessors' contexts, interned)
 * into *ctx. preds: their indices. */
int pgi_ledger_past_ctx(pg_ledger *l, const uint32_t *preds, size_t n, uint32_t *ctx,
                        pg_error *err);
/* The context of an op whose past is ctx: ctx itself, or with the op (index op) added when it is
 * a membership op. */
int pgi_ledger_own_ctx(pg_ledger *l, uint32_t ctx, uint32_t op, uint32_t *out, pg_error *err);
/* The members of a context (evaluated once). */
int pgi_ledger_ctx_members(pg_ledger *l, uint32_t ctx, const pgi_member **m, size_t *n,
                           pg_error *err);
/* The member of key in a sorted member array, or NULL. */
const pgi_member *pgi_member_find(const pgi_member *m, size_t n, const uint8_t key[32]);
/* Evaluates the OR-set of the membership ops ops[0..n) (indices) into a sorted member array
 * (malloc'd). */
int pgi_ledger_eval_members(const pg_ledger *l, const uint32_t *ops, size_t n, pgi_member **out,
                            size_t *n_out, pg_error *err);
/* Whether a parsed op, whose predecessors are delivered (indices preds) and whose past is ctx,
 * is valid: PG_OK, or PG_EAUTH (its author may not do this) / PG_EMODEL (it breaks its CRDT's
 * rule) / the checker's code, with err saying why. */
int pgi_ledger_check(pg_ledger *l, const pgi_opv *v, const pg_ledger_id *id, uint64_t height,
                     const uint32_t *preds, uint32_t ctx, pg_error *err);

/* ---------------------------------------------------------------- state.c */

/* Applies a delivered op (index x, parsed v) to the CRDT state; store: also to the derived tables
 * (within the open transaction). */
int pgi_ledger_apply(pg_ledger *l, uint32_t x, const pgi_opv *v, bool store, pg_error *err);
/* Writes the dirty registers, counters and members to the tables (before a commit). */
int pgi_ledger_flush_state(pg_ledger *l, pg_error *err);
void pgi_ledger_free_state(pg_ledger *l);
/* The register name of author (index), or NULL. */
const pgi_reg *pgi_ledger_reg_find(const pg_ledger *l, uint32_t author, const char *name,
                                   size_t name_len);
/* The counter name, or NULL. */
const pgi_ctr *pgi_ledger_ctr_find(const pg_ledger *l, const char *name, size_t name_len);
/* The index of an author's key, or PGI_NONE. */
uint32_t pgi_ledger_author_find(const pg_ledger *l, const uint8_t key[32]);
/* The digest of the CRDT state (pg_ledger_state_digest); PG_ENOMEM. */
int pgi_ledger_digest_state(const pg_ledger *l, pg_ledger_id *out);

/* ---------------------------------------------------------------- store.c */

/* Opens (read_only) or creates the database; checks it is a ledger of this format. */
int pgi_store_open(pgi_store *s, const char *path, bool create, bool read_only, pg_error *err);
void pgi_store_close(pgi_store *s);
int pgi_store_begin(pgi_store *s, const char *path, pg_error *err);
int pgi_store_commit(pgi_store *s, const char *path, pg_error *err);
void pgi_store_rollback(pgi_store *s);
/* A SQLite failure as a pg_error naming the file. */
int pgi_store_fail(pgi_store *s, const char *path, const char *doing, pg_error *err);
/* meta: the genesis id and the community (a ledger's), or PG_EPARSE when missing. */
int pgi_store_meta_put(pgi_store *s, const pg_ledger_id *genesis, const char *community,
                       const char *path, pg_error *err);
int pgi_store_meta_get(pgi_store *s, pg_ledger_id *genesis, const char *path, pg_error *err);
/* The encoding of the op at seq: *bytes points into SQLite's memory until the statement s->by_seq
 * is reset (pgi_store_done). */
int pgi_store_by_seq(pgi_store *s, uint64_t seq, const void **bytes, size_t *len, const char *path,
                     pg_error *err);
void pgi_store_done(pgi_store *s);
/* The schema's version this build writes and reads. */
#define PGI_STORE_FORMAT 1
/* SQLite's application_id of a plurigrid ledger ("PGL1"). */
#define PGI_STORE_APP_ID 0x50474c31

/* For verify: a scratch ledger in memory (":memory:") created with the genesis given (checked by
 * the caller), into which ops are offered one by one in the stored order. */
int pgi_ledger_open_memory(pg_ledger **out, const void *genesis, size_t len,
                           const pg_ledger_checker *checker, pg_error *err);
/* Delivers a parsed, signature-checked op: PG_OK; PG_ENOTFOUND when a predecessor is not
 * delivered or PG_ESTATE when the op already is (why says which); another code when it is
 * invalid (why says why); *fatal: a failure of this copy (memory), not of the op (err). */
int pgi_ledger_offer(pg_ledger *l, const pg_ledger_id *id, const pgi_opv *v, bool *fatal,
                     pg_error *why);
/* Commits what was offered. */
int pgi_ledger_commit(pg_ledger *l, pg_error *err);

/* The checker's view of an op at index x (decoded from the store; free with pgi_ledger_op_free). */
int pgi_ledger_load_op(pg_ledger *l, uint32_t x, pg_ledger_op **out, pg_error *err);

#endif
