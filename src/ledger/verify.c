/* Verifying a ledger file from scratch (pg_ledger_verify_file), trusting nothing derived: every
 * stored op is re-read in its stored order and checked as a copy receiving it would check it
 * (its encoding, its id as the hash of that encoding, its signature, its predecessors among the
 * earlier valid ops, its validity by its ancestors, the application's checker), then offered to a
 * scratch ledger in memory; the stored columns, heads and derived state tables are compared with
 * what that scratch ledger computed. Each problem names the op's position and stored id. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/graph.h"

typedef struct vctx {
    pg_ledger_verify_report *rep;
    pgi_store *file;
    const char *path;
} vctx;

static void problem(vctx *v, uint64_t seq, const char *idhex, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
problem(vctx *v, uint64_t seq, const char *idhex, const char *fmt, ...)
{
    pg_ledger_verify_report *r = v->rep;
    if (r->n_problems < PG_LEDGER_MAX_PROBLEMS && r->problems) {
        pg_ledger_problem *p = &r->problems[r->n_problems];
        va_list ap;
        p->seq = seq;
        snprintf(p->id, sizeof p->id, "%s", idhex ? idhex : "");
        va_start(ap, fmt);
        vsnprintf(p->what, sizeof p->what, fmt, ap);
        va_end(ap);
    }
    r->n_problems++;
}

/* The stored id column as hex ("" unless it is 32 bytes). */
static void
stored_id(sqlite3_stmt *st, int col, char out[65])
{
    out[0] = '\0';
    if (sqlite3_column_type(st, col) == SQLITE_BLOB && sqlite3_column_bytes(st, col) == 32)
        pg_ledger_hex(sqlite3_column_blob(st, col), 32, out);
}

static const char *
strip_op(const char *msg)
{
    return strncmp(msg, "op: ", 4) == 0 ? msg + 4 : msg;
}

/* The position of the op of id (hex) in the file, or 0. */
static uint64_t
seq_of(vctx *v, const char *hex)
{
    pg_ledger_id id;
    sqlite3_stmt *st = NULL;
    uint64_t seq = 0;
    if (pg_ledger_id_parse(hex, &id, NULL) != PG_OK ||
        sqlite3_prepare_v2(v->file->db, "SELECT seq FROM ops WHERE id = ?", -1, &st, NULL) !=
            SQLITE_OK)
        return 0;
    sqlite3_bind_blob(st, 1, id.b, 32, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        seq = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return seq;
}

/* One derived table, stored and recomputed: the rows of query (a key, then the rest as text, in
 * key order) on both, walked together. by_id: the key is an op's id (named in problems). */
static int
compare_table(vctx *v, sqlite3 *mem, const char *table, const char *query, bool by_id,
              pg_error *err)
{
    sqlite3_stmt *a = NULL, *b = NULL;
    int rc = PG_OK;
    if (sqlite3_prepare_v2(v->file->db, query, -1, &a, NULL) != SQLITE_OK) {
        rc = pgi_store_fail(v->file, v->path, "the database is not a ledger of this version", err);
        goto out;
    }
    if (sqlite3_prepare_v2(mem, query, -1, &b, NULL) != SQLITE_OK) {
        rc = pg_error_set(err, PG_ENOMEM, "ledger: verify: %s", sqlite3_errmsg(mem));
        goto out;
    }
    int ra = sqlite3_step(a), rb = sqlite3_step(b);
    while (ra == SQLITE_ROW || rb == SQLITE_ROW) {
        const char *ka = ra == SQLITE_ROW ? (const char *)sqlite3_column_text(a, 0) : NULL;
        const char *kb = rb == SQLITE_ROW ? (const char *)sqlite3_column_text(b, 0) : NULL;
        int c = !ka ? 1 : !kb ? -1 : strcmp(ka ? ka : "", kb ? kb : "");
        char idhex[65] = "";
        const char *k = c <= 0 ? (ka ? ka : "") : kb;
        if (by_id && strlen(k) == 64) {
            for (int i = 0; i < 64; i++)
                idhex[i] = (char)(k[i] >= 'A' && k[i] <= 'F' ? k[i] - 'A' + 'a' : k[i]);
            idhex[64] = '\0';
        }
        /* (Found by a scan: only for the problems the report keeps.) */
        uint64_t seq =
            idhex[0] && v->rep->n_problems < PG_LEDGER_MAX_PROBLEMS ? seq_of(v, idhex) : 0;
        if (c < 0) {
            problem(v, seq, idhex, "the stored %s have a row %.80s the ops do not make", table,
                    by_id ? "for this op" : k);
            ra = sqlite3_step(a);
        } else if (c > 0) {
            problem(v, seq, idhex, "the stored %s lack the row %.80s the ops make", table,
                    by_id ? "of this op" : k);
            rb = sqlite3_step(b);
        } else {
            const char *va = (const char *)sqlite3_column_text(a, 1);
            const char *vb = (const char *)sqlite3_column_text(b, 1);
            if (strcmp(va ? va : "", vb ? vb : "") != 0)
                problem(v, seq, idhex, "the stored %s differ from the ops at %.80s", table,
                        by_id ? "this op" : k);
            ra = sqlite3_step(a);
            rb = sqlite3_step(b);
        }
    }
    if (ra != SQLITE_DONE)
        rc = pgi_store_fail(v->file, v->path, "cannot read the database", err);
    else if (rb != SQLITE_DONE)
        rc = pg_error_set(err, PG_ENOMEM, "ledger: verify: %s", sqlite3_errmsg(mem));
out:
    sqlite3_finalize(a);
    sqlite3_finalize(b);
    return rc;
}

static const struct {
    const char *table;
    const char *query;
    bool by_id;
} tables[] = {
    {"heads", "SELECT hex(id), '' FROM heads ORDER BY 1", true},
    {"members", "SELECT hex(key), name || ' ' || hex(admission) FROM members ORDER BY 1", false},
    {"registers",
     "SELECT hex(author) || ' ' || name, hex(value) || ' ' || height || ' ' || hex(op) FROM "
     "registers ORDER BY 1",
     false},
    {"counters", "SELECT name, p || ' ' || n FROM counters ORDER BY 1", false},
    {"records",
     "SELECT hex(id), type || ' ' || interval || ' ' || term || ' ' || node || ' ' || "
     "hex(author) FROM records ORDER BY 1",
     true},
    {"equivocations", "SELECT hex(op), hex(earlier) FROM equivocations ORDER BY 1", true},
};

/* Checks one stored row; offers a good op to the scratch ledger (created at the first row, the
 * genesis). */
static int
check_row(vctx *v, sqlite3_stmt *st, uint64_t seq, const pg_ledger_id *meta_genesis,
          const pg_ledger_checker *checker, pg_ledger **mem, pg_error *err)
{
    char idhex[65];
    pgi_opv op;
    pg_ledger_id id;
    pg_error why = {0};
    stored_id(st, 1, idhex);
    const void *bytes = sqlite3_column_blob(st, 5);
    size_t len = (size_t)sqlite3_column_bytes(st, 5);
    if (sqlite3_column_type(st, 5) != SQLITE_BLOB) {
        problem(v, seq, idhex, "its encoding is not stored as bytes");
        return PG_OK;
    }
    pgi_ledger_hash(bytes, len, &id);
    char real[65];
    pg_ledger_hex(id.b, 32, real);
    if (strcmp(real, idhex) != 0) {
        problem(v, seq, idhex,
                "its stored id is not the hash of its encoding (%.16s...): the row was changed",
                real);
        return PG_OK;
    }
    if (pgi_ledger_parse(bytes, len, &op, &why)) {
        problem(v, seq, idhex, "its encoding is malformed: %s", strip_op(why.msg));
        return PG_OK;
    }
    if (!pgi_ledger_sig_ok(&op)) {
        problem(v, seq, idhex, "its signature is not its author's: the op was changed or forged");
        return PG_OK;
    }
    if (sqlite3_column_bytes(st, 2) != 32 || memcmp(sqlite3_column_blob(st, 2), op.author, 32) ||
        sqlite3_column_int64(st, 3) != op.kind)
        problem(v, seq, idhex, "its stored author or kind is not its encoding's");
    if (seq == 1 || !*mem) {
        if (op.kind != PG_LEDGER_GENESIS) {
            problem(v, seq, idhex,
                    seq == 1 ? "the first op is not a genesis op"
                             : "no valid genesis op comes before it");
            return PG_OK;
        }
        if (memcmp(id.b, meta_genesis->b, 32) != 0)
            problem(v, seq, idhex, "the genesis is not the one the meta table names");
        if (sqlite3_column_int64(st, 4) != 0)
            problem(v, seq, idhex, "its stored height is not 0");
        return pgi_ledger_open_memory(mem, bytes, len, checker, err);
    }
    bool fatal;
    int rc = pgi_ledger_offer(*mem, &id, &op, &fatal, &why);
    if (fatal) {
        if (err)
            *err = why;
        return rc;
    }
    if (rc) {
        problem(v, seq, idhex, "%s%s",
                rc == PG_ENOTFOUND || rc == PG_ESTATE ? "" : "invalid: ", why.msg);
        return PG_OK;
    }
    const pgi_lop *o = &(*mem)->ops[(*mem)->n_ops - 1];
    if ((uint64_t)sqlite3_column_int64(st, 4) != o->height)
        problem(v, seq, idhex, "its stored height %lld is not %llu",
                (long long)sqlite3_column_int64(st, 4), (unsigned long long)o->height);
    if (op.kind == PG_LEDGER_RECORD && op.rtype == PG_LEDGER_RESULT) {
        if (checker && checker->check)
            v->rep->results_recomputed++;
        else
            v->rep->results_unchecked++;
    }
    return PG_OK;
}

int
pgi_ledger_verify_file(const char *path, const pg_ledger_checker *checker,
                       pg_ledger_verify_report *rep, pg_error *err)
{
    pgi_store file;
    pg_ledger *mem = NULL;
    sqlite3_stmt *st = NULL;
    pg_ledger_verify_report r = {0};
    pg_ledger_id meta_genesis;
    vctx v = {&r, &file, path};
    int rc = pgi_ledger_sodium(err);
    if (rc)
        return rc;
    if (!path || !rep)
        return pg_error_set(err, PG_EINVAL, "ledger: verify needs a file and a report");
    if ((rc = pgi_store_open(&file, path, false, true, err)))
        return rc;
    if (!(r.problems = calloc(PG_LEDGER_MAX_PROBLEMS, sizeof *r.problems))) {
        rc = pg_error_set(err, PG_ENOMEM, "ledger: out of memory");
        goto out;
    }
    if ((rc = pgi_store_meta_get(&file, &meta_genesis, path, err)))
        goto out;
    if (sqlite3_prepare_v2(file.db,
                           "SELECT seq, id, author, kind, height, bytes FROM ops ORDER BY seq", -1,
                           &st, NULL) != SQLITE_OK) {
        rc = pgi_store_fail(&file, path, "the database is not a ledger of this version", err);
        goto out;
    }
    uint64_t expect = 1;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);
        r.ops++;
        if (seq != expect) {
            char idhex[65];
            stored_id(st, 1, idhex);
            problem(&v, seq, idhex, "the ops at positions %llu to %llu are missing",
                    (unsigned long long)expect, (unsigned long long)seq - 1);
        }
        expect = seq + 1;
        if ((rc = check_row(&v, st, seq, &meta_genesis, checker, &mem, err)))
            goto out;
    }
    if (s != SQLITE_DONE) {
        rc = pgi_store_fail(&file, path, "cannot read the database", err);
        goto out;
    }
    if (!mem) {
        problem(&v, 0, "", "the ledger holds no genesis op");
        goto done;
    }
    if ((rc = pgi_ledger_commit(mem, err)))
        goto out;
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++)
        if ((rc = compare_table(&v, mem->st.db, tables[i].table, tables[i].query, tables[i].by_id,
                                err)))
            goto out;
    {
        sqlite3_stmt *c = NULL;
        if (sqlite3_prepare_v2(file.db, "SELECT value FROM meta WHERE key = 'community'", -1, &c,
                               NULL) == SQLITE_OK &&
            sqlite3_step(c) == SQLITE_ROW) {
            const char *cm = (const char *)sqlite3_column_text(c, 0);
            if (!cm || strcmp(cm, mem->community) != 0)
                problem(&v, 0, "", "the meta table names community '%.63s', the genesis '%s'",
                        cm ? cm : "", mem->community);
        } else
            problem(&v, 0, "", "the meta table names no community");
        sqlite3_finalize(c);
    }
    r.equivocations = mem->equivocations;
    rc = pgi_ledger_heads_digest(mem, &r.heads_digest, err);
    if (rc == PG_OK)
        rc = pgi_ledger_state_digest(mem, &r.state_digest, err);
    if (rc != PG_OK)
        goto out;
done:
    *rep = r;
    r.problems = NULL;
out:
    free(r.problems);
    sqlite3_finalize(st);
    pgi_ledger_close(mem);
    pgi_store_close(&file);
    return rc;
}

void
pgi_ledger_verify_report_free(pg_ledger_verify_report *rep)
{
    if (!rep)
        return;
    free(rep->problems);
    memset(rep, 0, sizeof *rep);
}
