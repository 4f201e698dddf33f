/* pg_ledger_verify_file: a ledger as written verifies with no problem and the same digests as
 * the ledger itself; rows tampered with through SQLite (an op's payload, its signature, its id,
 * a derived table, a missing row) are found and the op is named by its position and stored id;
 * a checker's refusal of a clearing result is named; files that are not ledgers are errors. */
#include <sodium.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "fixture.h"

static int accept_calls;

static int
accept_all(void *ctx, const pg_ledger_op *rec, const pg_ledger_op *const *refs, size_t n,
           pg_error *err)
{
    (void)ctx, (void)err;
    if (rec->payload.record.type == PG_LEDGER_RESULT) {
        /* A result is given its gate, then the gate's bids. */
        assert_int_equal(n, 3);
        assert_int_equal(refs[0]->payload.record.type, PG_LEDGER_GATE);
        assert_int_equal(refs[1]->payload.record.type, PG_LEDGER_BID);
        assert_int_equal(refs[2]->payload.record.type, PG_LEDGER_BID);
    }
    accept_calls++;
    return PG_OK;
}

static int
refuse_results(void *ctx, const pg_ledger_op *rec, const pg_ledger_op *const *refs, size_t n,
               pg_error *err)
{
    (void)ctx, (void)refs, (void)n;
    if (rec->payload.record.type == PG_LEDGER_RESULT)
        return pg_error_set(err, PG_EMODEL, "the clearing price is not 42");
    return PG_OK;
}

static const pg_ledger_checker accepting = {"the test market", NULL, accept_all};
static const pg_ledger_checker refusing = {"the test market", NULL, refuse_results};

/* A ledger of 8 ops at pgt_tmp("v.db"): the genesis, a register, a counter, two bids, a gate, a
 * result (position 7) and a settlement. Its digests into hd, sd. */
static const char *
make(pg_ledger_id *hd, pg_ledger_id *sd)
{
    const char *path = pgt_tmp("v.db");
    pg_ledger *l = lf_open_with(path, PG_LEDGER_ADMIT_GENESIS, true, &accepting);
    lf_register(l, 2, "meta", "hello");
    lf_counter(l, 3, "energy", 7);
    pg_ledger_payload p = lf_record(PG_LEDGER_BID, 1, "a", NULL, 0, "bid a");
    pg_ledger_id bids[2];
    bids[0] = lf_append(l, 2, &p, PG_OK);
    p = lf_record(PG_LEDGER_BID, 1, "b", NULL, 0, "bid b");
    bids[1] = lf_append(l, 3, &p, PG_OK);
    p = lf_record(PG_LEDGER_GATE, 1, NULL, bids, 2, NULL);
    pg_ledger_id gate = lf_append(l, 1, &p, PG_OK);
    p = lf_record(PG_LEDGER_RESULT, 1, NULL, &gate, 1, "price 42");
    pg_ledger_id result = lf_append(l, 1, &p, PG_OK);
    p = lf_record(PG_LEDGER_SETTLE, 1, NULL, &result, 1, "paid");
    lf_append(l, 1, &p, PG_OK);
    assert_int_equal(pg_ledger_count(l), 8);
    assert_int_equal(pg_ledger_heads_digest(l, hd, NULL), PG_OK);
    assert_int_equal(pg_ledger_state_digest(l, sd, NULL), PG_OK);
    pg_ledger_close(l);
    return path;
}

static void
run_sql(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

/* The stored id (hex) and bytes of the op at seq. */
static void
row(const char *path, int seq, char idhex[65], uint8_t **bytes, size_t *len)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT id, bytes FROM ops WHERE seq = ?", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_int(st, 1, seq);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    pg_ledger_hex(sqlite3_column_blob(st, 0), 32, idhex);
    *len = (size_t)sqlite3_column_bytes(st, 1);
    *bytes = malloc(*len);
    memcpy(*bytes, sqlite3_column_blob(st, 1), *len);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void
set_row(const char *path, int seq, const uint8_t *bytes, size_t len, const uint8_t *id)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    const char *sql = id ? "UPDATE ops SET bytes = ?, id = ? WHERE seq = ?"
                         : "UPDATE ops SET bytes = ? WHERE seq = ?";
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_blob(st, 1, bytes, (int)len, SQLITE_STATIC);
    if (id)
        sqlite3_bind_blob(st, 2, id, 32, SQLITE_STATIC);
    sqlite3_bind_int(st, id ? 3 : 2, seq);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static pg_ledger_verify_report
verify(const char *path, const pg_ledger_checker *ck)
{
    pg_ledger_verify_report r;
    pg_error err = {0};
    int rc = pg_ledger_verify_file(path, ck, &r, &err);
    if (rc)
        fail_msg("verify: %s", err.msg);
    return r;
}

/* The problem naming the op at seq with stored id, whose text has needle; fails otherwise. */
static void
assert_named(const pg_ledger_verify_report *r, uint64_t seq, const char *idhex, const char *needle)
{
    for (size_t i = 0; i < r->n_problems && i < PG_LEDGER_MAX_PROBLEMS; i++)
        if (r->problems[i].seq == seq && strcmp(r->problems[i].id, idhex) == 0 &&
            strstr(r->problems[i].what, needle))
            return;
    for (size_t i = 0; i < r->n_problems && i < PG_LEDGER_MAX_PROBLEMS; i++)
        print_message("problem %llu %s: %s\n", (unsigned long long)r->problems[i].seq,
                      r->problems[i].id, r->problems[i].what);
    fail_msg("no problem at op %llu %s saying '%s'", (unsigned long long)seq, idhex, needle);
}

static void
test_clean(void **state)
{
    (void)state;
    pg_ledger_id hd, sd;
    accept_calls = 0;
    const char *path = make(&hd, &sd);
    assert_int_equal(accept_calls, 5); /* the records */
    pg_ledger_verify_report r = verify(path, &accepting);
    assert_int_equal(r.ops, 8);
    assert_int_equal(r.n_problems, 0);
    assert_int_equal(r.results_recomputed, 1);
    assert_int_equal(r.results_unchecked, 0);
    assert_int_equal(r.equivocations, 0);
    assert_memory_equal(r.heads_digest.b, hd.b, 32);
    assert_memory_equal(r.state_digest.b, sd.b, 32);
    pg_ledger_verify_report_free(&r);
    r = verify(path, NULL);
    assert_int_equal(r.n_problems, 0);
    assert_int_equal(r.results_recomputed, 0);
    assert_int_equal(r.results_unchecked, 1);
    pg_ledger_verify_report_free(&r);
}

static void
test_tampered_payload(void **state)
{
    (void)state;
    pg_ledger_id hd, sd;
    const char *path = make(&hd, &sd);
    char id[65];
    uint8_t *b;
    size_t n;
    row(path, 3, id, &b, &n);
    b[n - 65] ^= 1; /* the counter's delta */
    set_row(path, 3, b, n, NULL);
    free(b);
    pg_ledger_verify_report r = verify(path, NULL);
    assert_true(r.n_problems > 0);
    assert_int_equal(r.problems[0].seq, 3);
    assert_named(&r, 3, id, "not the hash of its encoding");
    pg_ledger_verify_report_free(&r);
    /* Opening it refuses too, naming the op. */
    pg_ledger *l = NULL;
    pg_error err = {0};
    assert_int_equal(pg_ledger_open(&l, path, NULL, 0, NULL, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "op 3"));
}

static void
test_tampered_signature(void **state)
{
    (void)state;
    pg_ledger_id hd, sd;
    const char *path = make(&hd, &sd);
    char id[65], newhex[65];
    uint8_t *b;
    size_t n;
    row(path, 4, id, &b, &n);
    b[n - 1] ^= 0x40; /* the signature; the id made to match, as a forger would */
    pg_ledger_id nid;
    assert_int_equal(crypto_generichash(nid.b, 32, b, n, NULL, 0), 0);
    pg_ledger_hex(nid.b, 32, newhex);
    set_row(path, 4, b, n, nid.b);
    free(b);
    pg_ledger_verify_report r = verify(path, NULL);
    assert_named(&r, 4, newhex, "signature is not its author's");
    /* What came after it named the original op: each is named too. */
    assert_named(&r, 5, r.problems[1].id, "not an earlier valid op");
    pg_ledger_verify_report_free(&r);
}

static void
test_tampered_id(void **state)
{
    (void)state;
    pg_ledger_id hd, sd;
    const char *path = make(&hd, &sd);
    run_sql(path, "UPDATE ops SET id = zeroblob(32) WHERE seq = 6");
    pg_ledger_verify_report r = verify(path, NULL);
    assert_named(&r, 6, "0000000000000000000000000000000000000000000000000000000000000000",
                 "not the hash of its encoding");
    pg_ledger_verify_report_free(&r);
}

static void
test_tampered_state(void **state)
{
    (void)state;
    pg_ledger_id hd, sd;
    const char *path = make(&hd, &sd);
    run_sql(path, "UPDATE counters SET p = p + 1");
    pg_ledger_verify_report r = verify(path, NULL);
    assert_int_equal(r.n_problems, 1);
    assert_non_null(strstr(r.problems[0].what, "counters"));
    assert_memory_equal(r.state_digest.b, sd.b, 32); /* the ops' state, not the table's */
    pg_ledger_verify_report_free(&r);

    run_sql(path, "UPDATE counters SET p = p - 1; DELETE FROM heads");
    r = verify(path, NULL);
    assert_int_equal(r.n_problems, 1);
    assert_int_equal(r.problems[0].seq, 8);
    assert_non_null(strstr(r.problems[0].what, "heads lack"));
    pg_ledger_verify_report_free(&r);
}

static void
test_missing_row(void **state)
{
    (void)state;
    pg_ledger_id hd, sd;
    const char *path = make(&hd, &sd);
    char id6[65];
    uint8_t *b;
    size_t n;
    row(path, 6, id6, &b, &n);
    free(b);
    run_sql(path, "DELETE FROM ops WHERE seq = 5");
    pg_ledger_verify_report r = verify(path, NULL);
    assert_int_equal(r.ops, 7);
    assert_named(&r, 6, id6, "positions 5 to 5 are missing");
    assert_named(&r, 6, id6, "not an earlier valid op");
    pg_ledger_verify_report_free(&r);
}

static void
test_duplicate_row(void **state)
{
    (void)state;
    pg_ledger_id hd, sd;
    const char *path = make(&hd, &sd);
    char id3[65];
    uint8_t *b;
    size_t n;
    row(path, 3, id3, &b, &n);
    free(b);
    run_sql(path, "INSERT INTO ops(seq, id, author, kind, height, bytes) "
                  "SELECT 9, id, author, kind, height, bytes FROM ops WHERE seq = 3");
    pg_ledger_verify_report r = verify(path, NULL);
    assert_int_equal(r.n_problems, 1);
    assert_named(&r, 9, id3, "a second copy of an earlier op");
    pg_ledger_verify_report_free(&r);
}

static void
test_checker_refuses(void **state)
{
    (void)state;
    pg_ledger_id hd, sd;
    const char *path = make(&hd, &sd);
    char id7[65];
    uint8_t *b;
    size_t n;
    row(path, 7, id7, &b, &n);
    free(b);
    pg_ledger_verify_report r = verify(path, &refusing);
    assert_named(&r, 7, id7, "the clearing price is not 42");
    assert_named(&r, 7, id7, "the test market");
    pg_ledger_verify_report_free(&r);
}

static void
test_not_ledgers(void **state)
{
    (void)state;
    pg_ledger_verify_report r;
    pg_error err = {0};
    assert_int_equal(pg_ledger_verify_file(pgt_tmp("none.db"), NULL, &r, &err), PG_ENOTFOUND);
    assert_string_equal(err.file, pgt_tmp("none.db"));
    FILE *f = fopen(pgt_tmp("text.db"), "w");
    fputs("hello, this is not a database at all, but it is long enough to look like one.\n", f);
    fclose(f);
    assert_int_equal(pg_ledger_verify_file(pgt_tmp("text.db"), NULL, &r, &err), PG_EPARSE);
    run_sql(pgt_tmp("other.db"), "CREATE TABLE t(x)");
    assert_int_equal(pg_ledger_verify_file(pgt_tmp("other.db"), NULL, &r, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "not a plurigrid ledger"));
    assert_int_equal(pg_ledger_verify_file(pgt_tmpdir(), NULL, &r, &err), PG_EIO);
    assert_int_equal(pg_ledger_verify_file("/dev/zero", NULL, &r, &err), PG_EIO);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_clean, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_tampered_payload, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_tampered_signature, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_tampered_id, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_tampered_state, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_missing_row, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_duplicate_row, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_checker_refuses, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_not_ledgers, pgt_teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
