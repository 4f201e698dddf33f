/* The ledger's SQLite store (docs/ledger.md "Storage"): the database file, its schema (meta, the
 * ops in delivery order, the heads, and the CRDT state derived from the ops: members, registers,
 * counters, records, equivocations), the prepared statements the ledger writes with, and the
 * transactions. Write-ahead log with synchronous=FULL: a transaction that committed is on disk. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger/graph.h"

static const char schema[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE ops(seq INTEGER PRIMARY KEY, id BLOB NOT NULL, author BLOB NOT NULL,"
    " kind INTEGER NOT NULL, height INTEGER NOT NULL, bytes BLOB NOT NULL);"
    "CREATE TABLE heads(id BLOB PRIMARY KEY) WITHOUT ROWID;"
    "CREATE TABLE members(key BLOB PRIMARY KEY, name TEXT NOT NULL, admission BLOB NOT NULL)"
    " WITHOUT ROWID;"
    "CREATE TABLE registers(author BLOB NOT NULL, name TEXT NOT NULL, value BLOB NOT NULL,"
    " height INTEGER NOT NULL, op BLOB NOT NULL, PRIMARY KEY(author, name)) WITHOUT ROWID;"
    "CREATE TABLE counters(name TEXT PRIMARY KEY, p INTEGER NOT NULL, n INTEGER NOT NULL)"
    " WITHOUT ROWID;"
    "CREATE TABLE records(seq INTEGER PRIMARY KEY, id BLOB NOT NULL, type INTEGER NOT NULL,"
    " interval INTEGER NOT NULL, term INTEGER NOT NULL, node TEXT NOT NULL,"
    " author BLOB NOT NULL);"
    "CREATE INDEX records_by_interval ON records(type, interval, seq);"
    "CREATE TABLE equivocations(op BLOB PRIMARY KEY, earlier BLOB NOT NULL) WITHOUT ROWID;";

int
pgi_store_fail(pgi_store *s, const char *path, const char *doing, pg_error *err)
{
    int code = s->db ? sqlite3_errcode(s->db) : SQLITE_CANTOPEN;
    int prim = code & 0xff;
    int rc = PG_EIO;
    const char *hint = "";
    if (prim == SQLITE_NOTADB) {
        rc = PG_EPARSE;
        hint = " (this is not a SQLite database)";
    } else if (prim == SQLITE_CORRUPT) {
        rc = PG_EPARSE;
        hint = " (the database is damaged)";
    } else if (prim == SQLITE_FULL) {
        hint = " (the disk is full)";
    } else if (prim == SQLITE_NOMEM) {
        rc = PG_ENOMEM;
    } else if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED) {
        hint = " (another program holds the database)";
    } else if (prim == SQLITE_READONLY) {
        hint = " (it can only be read here)";
    }
    pg_error_set(err, rc, "ledger: %s: %s%s", doing, s->db ? sqlite3_errmsg(s->db) : "cannot open",
                 hint);
    pg_error_at(err, path, 0, 0, NULL);
    return rc;
}

static int
exec(pgi_store *s, const char *sql, const char *path, const char *doing, pg_error *err)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return pgi_store_fail(s, path, doing, err);
    return PG_OK;
}

/* A single integer a PRAGMA returns. */
static int
pragma_int(pgi_store *s, const char *sql, int64_t *v, const char *path, pg_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = PG_OK;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        rc = pgi_store_fail(s, path, "cannot read the database", err);
    else
        *v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

static int
prepare(pgi_store *s, sqlite3_stmt **st, const char *sql, const char *path, pg_error *err)
{
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
        return pgi_store_fail(s, path, "the database is not a ledger of this version", err);
    return PG_OK;
}

int
pgi_store_open(pgi_store *s, const char *path, bool create, bool read_only, pg_error *err)
{
    struct stat stt;
    int rc;
    memset(s, 0, sizeof *s);
    s->lock = -1;
    bool memory = strcmp(path, ":memory:") == 0; /* verify's scratch copy */
    bool exists = !memory && stat(path, &stt) == 0;
    if (exists && !S_ISREG(stt.st_mode)) {
        rc = pg_error_set(err, PG_EIO, "ledger: not a database file: it is %s",
                          S_ISDIR(stt.st_mode) ? "a folder" : "not a regular file");
        pg_error_at(err, path, 0, 0, NULL);
        return rc;
    }
    if (!exists && !memory && (errno != ENOENT || !create)) {
        rc = pg_error_set(err, errno == ENOENT ? PG_ENOTFOUND : PG_EIO,
                          "ledger: cannot open the database: %s", strerror(errno));
        pg_error_at(err, path, 0, 0, NULL);
        return rc;
    }
    bool want_create = create;
    create = !exists;
    if (create && read_only) {
        rc = pg_error_set(err, PG_ENOTFOUND, "ledger: no database there");
        pg_error_at(err, path, 0, 0, NULL);
        return rc;
    }
    int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        rc = pgi_store_fail(s, path, "cannot open the database", err);
        goto fail;
    }
    /* One process at a time writes a copy: two would each hold it in memory and write over the
     * other's ops (SQLite's own locks only make the later write fail, mid-run). The flock is on
     * a descriptor of our own, closed only after SQLite's: closing any descriptor of the file
     * drops the process's POSIX locks, SQLite's among them. */
    if (!read_only && !memory) {
        s->lock = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
        if (s->lock < 0) {
            rc = pg_error_set(err, PG_EIO, "%s: %s", path, strerror(errno));
            goto fail;
        }
        if (flock(s->lock, LOCK_EX | LOCK_NB) != 0) {
            rc = pg_error_set(err, PG_EIO,
                              "%s is in use by another process: one process at a time writes a "
                              "copy of a ledger (is it running twice?)",
                              path);
            goto fail;
        }
    }
    /* The file may come from anyone: nothing in its schema runs with more than plain SQL. */
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    sqlite3_busy_timeout(s->db, 5000);
    if (!create && want_create && !read_only) {
        /* A file left empty (by a crash while it was being created, or made empty on purpose):
           nothing in it, so it is created as if it were not there. */
        int64_t app = -1, tables = -1;
        if ((rc = pragma_int(s, "PRAGMA application_id", &app, path, err)) ||
            (rc = pragma_int(s, "SELECT count(*) FROM sqlite_schema", &tables, path, err)))
            goto fail;
        create = app == 0 && tables == 0;
    }
    if (create && memory) {
        char sql[128];
        snprintf(sql, sizeof sql, "PRAGMA application_id=%d; PRAGMA user_version=%d",
                 PGI_STORE_APP_ID, PGI_STORE_FORMAT);
        if ((rc = exec(s, "BEGIN", path, "cannot create the database", err)) ||
            (rc = exec(s, sql, path, "cannot create the database", err)) ||
            (rc = exec(s, schema, path, "cannot create the database", err)))
            goto fail;
        s->in_txn = true;
    } else if (create) {
        if ((rc = exec(s, "PRAGMA journal_mode=WAL", path, "cannot create the database", err)) ||
            (rc = exec(s, "PRAGMA synchronous=FULL", path, "cannot create the database", err)))
            goto fail;
        s->wal = true;
        char sql[128];
        snprintf(sql, sizeof sql, "PRAGMA application_id=%d; PRAGMA user_version=%d",
                 PGI_STORE_APP_ID, PGI_STORE_FORMAT);
        if ((rc = exec(s, "BEGIN", path, "cannot create the database", err)) ||
            (rc = exec(s, sql, path, "cannot create the database", err)) ||
            (rc = exec(s, schema, path, "cannot create the database", err)))
            goto fail;
        s->in_txn = true; /* committed by the caller with the genesis */
    } else {
        int64_t app = 0, version = 0;
        if ((rc = pragma_int(s, "PRAGMA application_id", &app, path, err)))
            goto fail;
        if (app != PGI_STORE_APP_ID) {
            rc = pg_error_set(err, PG_EPARSE,
                              "ledger: this SQLite database is not a plurigrid ledger");
            pg_error_at(err, path, 0, 0, NULL);
            goto fail;
        }
        if ((rc = pragma_int(s, "PRAGMA user_version", &version, path, err)))
            goto fail;
        if (version != PGI_STORE_FORMAT) {
            rc = pg_error_set(err, PG_EUNSUPPORTED,
                              "ledger: the database's format is version %lld, this plurigrid "
                              "reads version %d",
                              (long long)version, PGI_STORE_FORMAT);
            pg_error_at(err, path, 0, 0, NULL);
            goto fail;
        }
        if (!read_only &&
            ((rc = exec(s, "PRAGMA journal_mode=WAL", path, "cannot open the database", err)) ||
             (rc = exec(s, "PRAGMA synchronous=FULL", path, "cannot open the database", err))))
            goto fail;
        s->wal = !read_only;
    }
    if ((rc = prepare(s, &s->by_seq, "SELECT bytes FROM ops WHERE seq = ?", path, err)))
        goto fail;
    if (!read_only &&
        ((rc = prepare(s, &s->ins_op,
                       "INSERT INTO ops(seq, id, author, kind, height, bytes) VALUES(?,?,?,?,?,?)",
                       path, err)) ||
         (rc = prepare(s, &s->ins_rec,
                       "INSERT INTO records(seq, id, type, interval, term, node, author) "
                       "VALUES(?,?,?,?,?,?,?)",
                       path, err)) ||
         (rc =
              prepare(s, &s->ins_equiv,
                      "INSERT OR IGNORE INTO equivocations(op, earlier) VALUES(?,?)", path, err)) ||
         (rc = prepare(s, &s->ins_head, "INSERT OR IGNORE INTO heads(id) VALUES(?)", path, err)) ||
         (rc = prepare(s, &s->del_head, "DELETE FROM heads WHERE id = ?", path, err)) ||
         (rc = prepare(s, &s->put_reg,
                       "INSERT INTO registers(author, name, value, height, op) VALUES(?,?,?,?,?) "
                       "ON CONFLICT(author, name) DO UPDATE SET value = excluded.value, "
                       "height = excluded.height, op = excluded.op",
                       path, err)) ||
         (rc = prepare(s, &s->put_ctr,
                       "INSERT INTO counters(name, p, n) VALUES(?,?,?) ON CONFLICT(name) DO "
                       "UPDATE SET p = excluded.p, n = excluded.n",
                       path, err)) ||
         (rc = prepare(s, &s->del_members, "DELETE FROM members", path, err)) ||
         (rc = prepare(s, &s->ins_member, "INSERT INTO members(key, name, admission) VALUES(?,?,?)",
                       path, err))))
        goto fail;
    return PG_OK;
fail:
    pgi_store_close(s);
    return rc;
}

void
pgi_store_close(pgi_store *s)
{
    sqlite3_stmt **all[] = {&s->ins_op,     &s->ins_rec, &s->ins_equiv, &s->ins_head,
                            &s->del_head,   &s->put_reg, &s->put_ctr,   &s->del_members,
                            &s->ins_member, &s->by_seq,  &s->each,      &s->each_rec,
                            &s->reg_get};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        sqlite3_finalize(*all[i]);
        *all[i] = NULL;
    }
    if (s->db && s->in_txn)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    /* A writer leaving the file alone puts it back in rollback-journal mode (SQLite checkpoints
     * the log into it and removes the log), so that a read-only open afterwards (show, export,
     * verify) creates no -wal and -shm files beside it: in WAL mode even a reader makes them and
     * cannot remove them. With another connection open this fails and the file stays in WAL
     * mode, which is as safe; the next writer sets WAL again. */
    if (s->db && s->wal)
        sqlite3_exec(s->db, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
    sqlite3_close_v2(s->db);
    if (s->lock >= 0)
        close(s->lock);
    memset(s, 0, sizeof *s);
    s->lock = -1;
}

int
pgi_store_begin(pgi_store *s, const char *path, pg_error *err)
{
    if (s->in_txn)
        return PG_OK;
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return pgi_store_fail(s, path, "cannot write to the database", err);
    s->in_txn = true;
    return PG_OK;
}

int
pgi_store_commit(pgi_store *s, const char *path, pg_error *err)
{
    if (!s->in_txn)
        return PG_OK;
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        int rc = pgi_store_fail(s, path, "cannot write to the database", err);
        pgi_store_rollback(s);
        return rc;
    }
    s->in_txn = false;
    return PG_OK;
}

void
pgi_store_rollback(pgi_store *s)
{
    if (s->in_txn && sqlite3_get_autocommit(s->db) == 0)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->in_txn = false;
}

int
pgi_store_meta_put(pgi_store *s, const pg_ledger_id *genesis, const char *community,
                   const char *path, pg_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = PG_OK;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO meta(key, value) VALUES(?, ?)", -1, &st, NULL) !=
        SQLITE_OK)
        return pgi_store_fail(s, path, "cannot write to the database", err);
    struct {
        const char *key;
        const void *v;
        int n;
        bool text;
    } rows[] = {{"format", "1", 1, true},
                {"genesis", genesis->b, 32, false},
                {"community", community, (int)strlen(community), true}};
    for (size_t i = 0; i < 3 && !rc; i++) {
        sqlite3_bind_text(st, 1, rows[i].key, -1, SQLITE_STATIC);
        if (rows[i].text)
            sqlite3_bind_text(st, 2, rows[i].v, rows[i].n, SQLITE_STATIC);
        else
            sqlite3_bind_blob(st, 2, rows[i].v, rows[i].n, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = pgi_store_fail(s, path, "cannot write to the database", err);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc;
}

int
pgi_store_meta_get(pgi_store *s, pg_ledger_id *genesis, const char *path, pg_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = PG_OK;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'genesis'", -1, &st, NULL) !=
        SQLITE_OK)
        return pgi_store_fail(s, path, "the database is not a ledger of this version", err);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32 &&
        sqlite3_column_type(st, 0) == SQLITE_BLOB)
        memcpy(genesis->b, sqlite3_column_blob(st, 0), 32);
    else if (r == SQLITE_ROW || r == SQLITE_DONE) {
        rc = pg_error_set(err, PG_EPARSE, "ledger: the database names no genesis op");
        pg_error_at(err, path, 0, 0, NULL);
    } else
        rc = pgi_store_fail(s, path, "cannot read the database", err);
    sqlite3_finalize(st);
    return rc;
}

int
pgi_store_by_seq(pgi_store *s, uint64_t seq, const void **bytes, size_t *len, const char *path,
                 pg_error *err)
{
    sqlite3_reset(s->by_seq);
    sqlite3_bind_int64(s->by_seq, 1, (sqlite3_int64)seq);
    int r = sqlite3_step(s->by_seq);
    if (r == SQLITE_ROW) {
        *bytes = sqlite3_column_blob(s->by_seq, 0);
        *len = (size_t)sqlite3_column_bytes(s->by_seq, 0);
        if (*bytes || !*len)
            return PG_OK;
    }
    int rc = r == SQLITE_DONE || r == SQLITE_ROW
                 ? pg_error_set(err, PG_ENOTFOUND, "ledger: no op at position %llu",
                                (unsigned long long)seq)
                 : pgi_store_fail(s, path, "cannot read the database", err);
    sqlite3_reset(s->by_seq);
    return rc;
}

void
pgi_store_done(pgi_store *s)
{
    sqlite3_reset(s->by_seq);
    sqlite3_clear_bindings(s->by_seq);
}
