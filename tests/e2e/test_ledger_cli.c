/* `plurigrid ledger` end to end (docs/ledger.md, "The ledger command"): --help of the command and
 * of every subcommand; usage errors; databases that are not (missing, not SQLite, an SQLite file
 * that is not a ledger, an empty file, /dev/zero, a FIFO, a folder), each exit 2 naming the file
 * within a bounded time; show and export of a ledger made here, whose export another program (this
 * test, with libsodium) re-verifies op by op, and which leave the database as it was; verify of
 * that ledger (exit 0) and of copies with a payload, a signature and an id tampered with in SQLite
 * (exit 1, the op named by its seq and id); outputs to /dev/full and to a full disk (exit 2, no
 * partial file, an old file kept); key files: keygen writes a private file and refuses to replace
 * one, a key file readable by others is refused with the way to fix it, and a key file's secret
 * seed never appears in any output or error of any subcommand; init makes a community's ledger
 * folder that verify --scenario then checks. */
#include "harness.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "community/msg.h"
#include "plurigrid/ledger.h"

static char scen[4096];

static int
setup(void **state)
{
    (void)state;
    snprintf(scen, sizeof scen, "%s", pgt_source_path("examples/lattice/scenario.json"));
    pgt_data_path("citylearn-2022-fontana/Building_1.csv"); /* fails clearly when missing */
    return 0;
}

/* ---------------------------------------------------------------- helpers */

typedef struct run_out {
    int rc;
    char *out, *err;
} run_out;

static run_out
run(const char *const *args)
{
    run_out r = {0, NULL, NULL};
    r.rc = pgt_run_cli(args, NULL, &r.out, &r.err);
    if (r.rc < 0)
        fail_msg("plurigrid %s %s was killed by a signal (a crash)", args[0],
                 args[1] ? args[1] : "");
    return r;
}

static void
run_free(run_out *r)
{
    free(r->out);
    free(r->err);
}

static void
print_args(const char *const *args)
{
    print_message("  plurigrid");
    for (size_t i = 0; args[i]; i++)
        print_message(" %s", args[i]);
    print_message("\n");
}

/* Runs args, expecting exit code and each needle in standard error (NULL-terminated list). */
static void
expect(const char *const *args, int code, const char *const *needles)
{
    run_out r = run(args);
    bool ok = r.rc == code;
    for (const char *const *n = needles; ok && n && *n; n++)
        ok = strstr(r.err, *n) != NULL;
    if (!ok) {
        print_args(args);
        fail_msg("exit %d (expected %d), stderr:\n%s", r.rc, code, r.err);
    }
    run_free(&r);
}
#define EXPECT(args, code, ...)                                                                    \
    do {                                                                                           \
        const char *const needles_[] = {__VA_ARGS__, NULL};                                        \
        expect(args, code, needles_);                                                              \
    } while (0)

static json_t *
parse(const char *text)
{
    json_error_t je;
    json_t *v = json_loads(text, 0, &je);
    if (!v)
        fail_msg("not JSON: %s (line %d): %.300s", je.text, je.line, text);
    return v;
}

static void
hex(const void *b, size_t n, char *out)
{
    pg_ledger_hex(b, n, out);
}

static bool
file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void
copy_file(const char *from, const char *to)
{
    size_t n = 0;
    char *data = pgt_slurp(from, &n);
    FILE *f = fopen(to, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
    free(data);
}

/* ---------------------------------------------------------------- a ledger made here */

typedef struct fixture {
    pg_ledger_key genesis, a, b, c;
    pg_ledger_id ids[16]; /* by seq - 1 */
    size_t n;
} fixture;

static fixture fx;

static void
key(pg_ledger_key *k, uint8_t base)
{
    uint8_t seed[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(base + 7 * i);
    pg_error err = {0};
    if (pg_ledger_key_from_seed(k, seed, &err) != PG_OK)
        fail_msg("key: %s", err.msg);
}

static void
append(pg_ledger *l, const pg_ledger_key *k, const pg_ledger_payload *p)
{
    pg_error err = {0};
    if (pg_ledger_append(l, k, p, &fx.ids[fx.n], &err) != PG_OK)
        fail_msg("append of op %zu: %s", fx.n + 1, err.msg);
    fx.n++;
}

static pg_ledger_payload
record(pg_ledger_record_type t, uint32_t interval, const char *node, const pg_ledger_id *refs,
       size_t n_refs, const char *body)
{
    pg_ledger_payload p;
    memset(&p, 0, sizeof p);
    p.kind = PG_LEDGER_RECORD;
    p.record.type = t;
    p.record.interval = interval;
    p.record.term = t == PG_LEDGER_BID || t == PG_LEDGER_DR ? 0 : 1;
    p.record.node = node;
    p.record.refs = refs;
    p.record.n_refs = n_refs;
    p.record.body = body;
    p.record.body_len = strlen(body);
    return p;
}

/* The ledger of community "demo" at path: genesis (home-1 and home-2, home-1 the operator), a
 * register, a counter, two bids, a gate, a result, a settlement, a new member (seq 1 to 9). */
static void
make_ledger(const char *path)
{
    pg_error err = {0};
    key(&fx.genesis, 11);
    key(&fx.a, 22);
    key(&fx.b, 33);
    key(&fx.c, 44);
    fx.n = 0;
    pg_ledger_member members[] = {{"home-1", fx.a.pk}, {"home-2", fx.b.pk}};
    pg_ledger_payload g;
    memset(&g, 0, sizeof g);
    g.kind = PG_LEDGER_GENESIS;
    g.genesis.community = "demo";
    g.genesis.admit = PG_LEDGER_ADMIT_GENESIS;
    g.genesis.members = members;
    g.genesis.n_members = 2;
    g.genesis.operators = &fx.a.pk;
    g.genesis.n_operators = 1;
    g.genesis.app = "run-1";
    g.genesis.app_len = 5;
    uint8_t *gen = NULL;
    size_t gen_len = 0;
    if (pg_ledger_op_encode(&fx.genesis, NULL, 0, &g, &gen, &gen_len, &err) != PG_OK)
        fail_msg("genesis: %s", err.msg);
    pg_ledger_options o;
    pg_ledger_options_init(&o);
    o.create = true;
    pg_ledger *l = NULL;
    if (pg_ledger_open(&l, path, gen, gen_len, &o, &err) != PG_OK)
        fail_msg("open %s: %s", path, err.msg);
    free(gen);
    pg_ledger_genesis_id(l, &fx.ids[fx.n++]);

    pg_ledger_payload p;
    memset(&p, 0, sizeof p);
    p.kind = PG_LEDGER_REGISTER;
    p.name = "telemetry";
    p.value = "1.25 kWh";
    p.value_len = 8;
    append(l, &fx.a, &p); /* seq 2 */
    memset(&p, 0, sizeof p);
    p.kind = PG_LEDGER_COUNTER;
    p.name = "trades";
    p.delta = 3;
    append(l, &fx.b, &p); /* seq 3 */
    p = record(PG_LEDGER_BID, 1, "home-1", NULL, 0, "bid of home-1");
    append(l, &fx.a, &p); /* seq 4 */
    p = record(PG_LEDGER_BID, 1, "home-2", NULL, 0, "bid of home-2");
    append(l, &fx.b, &p); /* seq 5 */
    pg_ledger_id bids[2] = {fx.ids[3], fx.ids[4]};
    if (pg_ledger_id_cmp(&bids[0], &bids[1]) > 0) {
        bids[0] = fx.ids[4];
        bids[1] = fx.ids[3];
    }
    p = record(PG_LEDGER_GATE, 1, "", bids, 2, "");
    append(l, &fx.a, &p); /* seq 6 */
    p = record(PG_LEDGER_RESULT, 1, "", &fx.ids[5], 1, "cleared at 0.21");
    append(l, &fx.a, &p); /* seq 7 */
    p = record(PG_LEDGER_SETTLE, 1, "", &fx.ids[6], 1, "settled");
    append(l, &fx.a, &p); /* seq 8 */
    memset(&p, 0, sizeof p);
    p.kind = PG_LEDGER_MEMBER_ADD;
    p.name = "home-3";
    p.member = fx.c.pk;
    append(l, &fx.genesis, &p); /* seq 9 */
    pg_ledger_close(l);
}

/* ---------------------------------------------------------------- help and usage */

static void
test_help(void **state)
{
    (void)state;
    const char *subs[] = {"keygen", "pubkey", "init", "show", "export", "verify"};
    const char *a1[] = {"ledger", "--help", NULL};
    run_out r = run(a1);
    assert_int_equal(r.rc, 0);
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++)
        if (!strstr(r.out, subs[i]))
            fail_msg("ledger --help does not mention %s:\n%s", subs[i], r.out);
    assert_non_null(strstr(r.out, "Exit status"));
    assert_string_equal(r.err, "");
    run_free(&r);
    const char *a2[] = {"help", "ledger", NULL};
    r = run(a2);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "Usage: plurigrid ledger keygen"));
    run_free(&r);
    const char *a3[] = {"--help", NULL};
    r = run(a3);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "  ledger "));
    run_free(&r);
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++) {
        char usage[64];
        snprintf(usage, sizeof usage, "Usage: plurigrid ledger %s", subs[i]);
        const char *a[] = {"ledger", subs[i], "--help", NULL};
        r = run(a);
        if (r.rc != 0 || !strstr(r.out, usage) || !strstr(r.out, "Exit status") || r.err[0])
            fail_msg("ledger %s --help: exit %d\n%s%s", subs[i], r.rc, r.out, r.err);
        run_free(&r);
        const char *b[] = {"ledger", "help", subs[i], NULL};
        r = run(b);
        if (r.rc != 0 || !strstr(r.out, usage))
            fail_msg("ledger help %s: exit %d\n%s", subs[i], r.rc, r.out);
        run_free(&r);
    }
    const char *a4[] = {"ledger", "verify", "--help", NULL};
    r = run(a4);
    const char *want[] = {"--db", "--json", "--scenario", "--variant", "--market", "--data", NULL};
    for (const char *const *w = want; *w; w++)
        if (!strstr(r.out, *w))
            fail_msg("ledger verify --help does not mention %s", *w);
    run_free(&r);
    /* the node's member file keys with a ledger, and the ledger options of node and community */
    const char *a5[] = {"node", "--help", NULL};
    r = run(a5);
    const char *nwant[] = {"--ledger DIR", "--ledger-sync-s S", "\"ledger\" (a folder)",
                           "\"ledger_sync_s\"", NULL};
    for (const char *const *w = nwant; *w; w++)
        if (!strstr(r.out, *w))
            fail_msg("node --help does not mention %s:\n%s", *w, r.out);
    run_free(&r);
    const char *a6[] = {"community", "--help", NULL};
    r = run(a6);
    if (!strstr(r.out, "--ledger DIR") || !strstr(r.out, "--ledger-sync-s S"))
        fail_msg("community --help does not mention --ledger DIR and --ledger-sync-s S");
    run_free(&r);
}

static void
test_usage(void **state)
{
    (void)state;
    const char *db = pgt_tmp("u.db");
    make_ledger(db);
    {
        const char *a[] = {"ledger", NULL};
        EXPECT(a, 2, "a subcommand is needed");
    }
    {
        const char *a[] = {"ledger", "nope", NULL};
        EXPECT(a, 2, "unknown subcommand 'nope'", "keygen");
    }
    {
        const char *a[] = {"ledger", "show", NULL};
        EXPECT(a, 2, "--db FILE is needed");
    }
    {
        const char *a[] = {"ledger", "show", "--db", NULL};
        EXPECT(a, 2, "--db needs a ledger database file");
    }
    {
        const char *a[] = {"ledger", "export", "--db", db, "--json", NULL};
        EXPECT(a, 2, "--json needs a file name, or - for standard output");
    }
    {
        const char *a[] = {"ledger", "show", "--db", db, "--bogus", NULL};
        EXPECT(a, 2, "unknown option", "--bogus");
    }
    {
        const char *a[] = {"ledger", "show", "--db", db, "extra", NULL};
        EXPECT(a, 2, "unexpected argument", "extra");
    }
    {
        const char *a[] = {"ledger", "show", "--db", db, "--scenario", scen, NULL};
        EXPECT(a, 2, "this option is for 'plurigrid ledger verify'", "--scenario");
    }
    {
        const char *a[] = {"ledger", "verify", "--db", db, "--variant", "x", NULL};
        EXPECT(a, 2, "--variant, --market and --data go with --scenario");
    }
    {
        const char *a[] = {"ledger", "show", "--db", db, "--json", db, NULL};
        EXPECT(a, 2, "--json would replace the database it reads");
    }
    {
        const char *a[] = {"ledger", "verify", "--db", db,  "--scenario",
                           scen,     "--json", scen,   NULL};
        EXPECT(a, 2, "--json would replace the scenario file it reads");
    }
    {
        const char *a[] = {"ledger", "keygen", NULL};
        EXPECT(a, 2, "--out KEY is needed");
    }
    {
        const char *a[] = {"ledger", "keygen", "--out", "-", NULL};
        EXPECT(a, 2, "never written to standard output");
    }
    {
        const char *a[] = {"ledger", "pubkey", NULL};
        EXPECT(a, 2, "--key KEY is needed");
    }
    {
        const char *a[] = {"ledger", "init", "--out", pgt_tmp("folder"), NULL};
        EXPECT(a, 2, "--scenario SCENARIO.json");
    }
    {
        const char *a[] = {"ledger", "init", "--scenario", scen, NULL};
        EXPECT(a, 2, "--out DIR");
    }
    pgt_tmpdir_cleanup();
}

/* ---------------------------------------------------------------- bad databases */

static void
test_bad_databases(void **state)
{
    (void)state;
    const char *text = pgt_tmp("text.db"), *empty = pgt_tmp("empty.db");
    const char *other = pgt_tmp("other.db"), *fifo = pgt_tmp("fifo.db");
    const char *dir = pgt_tmp("folder.db"), *missing = pgt_tmp("missing.db");
    pgt_write(text, "this is not a database\n");
    pgt_write(empty, "");
    sqlite3 *s = NULL;
    assert_int_equal(sqlite3_open(other, &s), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(s, "CREATE TABLE t(x); INSERT INTO t VALUES (1);", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(s);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(mkdir(dir, 0700), 0);
    struct {
        const char *path, *why;
    } cases[] = {
        {missing, "no such file"},
        {text, "not"},
        {empty, "not"},
        {other, "not a plurigrid ledger"},
        {"/dev/zero", "not a regular file"},
        {fifo, "not a regular file"},
        {dir, "folder"},
    };
    const char *subs[] = {"show", "export", "verify"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        for (size_t k = 0; k < 3; k++) {
            const char *a[] = {"ledger", subs[k], "--db", cases[i].path, NULL};
            run_out r = run(a);
            if (r.rc != 2 || !strstr(r.err, cases[i].path) || !strstr(r.err, cases[i].why) ||
                r.out[0]) {
                print_args(a);
                fail_msg("exit %d, stdout '%s', stderr '%s': expected exit 2 naming the file "
                         "and saying '%s'",
                         r.rc, r.out, r.err, cases[i].why);
            }
            run_free(&r);
        }
    /* show and export created nothing beside the files they were given */
    assert_false(file_exists(missing));
    pgt_tmpdir_cleanup();
}

/* ---------------------------------------------------------------- show and export */

static char *
sha_of(const char *path)
{
    size_t n = 0;
    char *data = pgt_slurp(path, &n);
    uint8_t h[32];
    crypto_generichash(h, sizeof h, (const uint8_t *)data, n, NULL, 0);
    free(data);
    char *s = malloc(65);
    hex(h, 32, s);
    return s;
}

static void
test_show(void **state)
{
    (void)state;
    const char *db = pgt_tmp("demo.db");
    make_ledger(db);
    char *before = sha_of(db);
    struct stat st0;
    assert_int_equal(stat(db, &st0), 0);
    const char *a[] = {"ledger", "show", "--db", db, NULL};
    run_out r = run(a);
    assert_int_equal(r.rc, 0);
    char ka[65], gid[65];
    hex(fx.a.pk.b, 32, ka);
    hex(fx.ids[0].b, 32, gid);
    const char *want[] = {"demo",        gid,        "home-1",        "home-2",
                          "home-3",      ka,         "trades",        "3",
                          "telemetry",   "1.25 kWh", "Gate closures", "Clearing results",
                          "Settlements", NULL};
    for (const char *const *w = want; *w; w++)
        if (!strstr(r.out, *w))
            fail_msg("ledger show does not show %s:\n%s", *w, r.out);
    run_free(&r);

    const char *b[] = {"ledger", "show", "--db", db, "--json", "-", NULL};
    r = run(b);
    assert_int_equal(r.rc, 0);
    json_t *j = parse(r.out);
    assert_string_equal(json_string_value(json_object_get(j, "format")), "plurigrid-ledger-show/1");
    assert_string_equal(json_string_value(json_object_get(j, "community")), "demo");
    assert_string_equal(json_string_value(json_object_get(j, "genesis")), gid);
    assert_int_equal(json_integer_value(json_object_get(j, "ops")), 9);
    json_t *kinds = json_object_get(j, "kinds");
    assert_int_equal(json_integer_value(json_object_get(kinds, "genesis")), 1);
    assert_int_equal(json_integer_value(json_object_get(kinds, "record")), 5);
    assert_int_equal(json_integer_value(json_object_get(kinds, "member_add")), 1);
    json_t *recs = json_object_get(j, "records");
    assert_int_equal(json_integer_value(json_object_get(recs, "bid")), 2);
    assert_int_equal(json_integer_value(json_object_get(recs, "gate")), 1);
    /* one head: the last op, made on everything before it */
    json_t *heads = json_object_get(j, "heads");
    assert_int_equal(json_array_size(heads), 1);
    char last[65];
    hex(fx.ids[8].b, 32, last);
    assert_string_equal(json_string_value(json_array_get(heads, 0)), last);
    assert_int_equal(json_array_size(json_object_get(j, "members")), 3);
    json_t *c0 = json_array_get(json_object_get(j, "counters"), 0);
    assert_string_equal(json_string_value(json_object_get(c0, "name")), "trades");
    assert_int_equal(json_integer_value(json_object_get(c0, "value")), 3);
    json_t *r0 = json_array_get(json_object_get(j, "registers"), 0);
    assert_string_equal(json_string_value(json_object_get(r0, "member")), "home-1");
    char v[17];
    hex("1.25 kWh", 8, v);
    assert_string_equal(json_string_value(json_object_get(r0, "value")), v);
    json_t *latest = json_object_get(j, "latest");
    json_t *res = json_array_get(json_object_get(latest, "result"), 0);
    char rid[65], gateid[65];
    hex(fx.ids[6].b, 32, rid);
    hex(fx.ids[5].b, 32, gateid);
    assert_string_equal(json_string_value(json_object_get(res, "id")), rid);
    assert_string_equal(json_string_value(json_object_get(res, "ref")), gateid);
    json_decref(j);
    run_free(&r);

    /* text on standard output and the JSON in a file */
    const char *jf = pgt_tmp("show.json");
    const char *c[] = {"ledger", "show", "--db", db, "--json", jf, NULL};
    r = run(c);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "Members (3)"));
    char *jt = pgt_slurp(jf, NULL);
    json_decref(parse(jt));
    free(jt);
    run_free(&r);

    /* nothing changed: the database's bytes and modification time */
    char *after = sha_of(db);
    struct stat st1;
    assert_int_equal(stat(db, &st1), 0);
    assert_string_equal(before, after);
    assert_true(st0.st_mtim.tv_sec == st1.st_mtim.tv_sec &&
                st0.st_mtim.tv_nsec == st1.st_mtim.tv_nsec);
    free(before);
    free(after);
    pgt_tmpdir_cleanup();
}

/* Decodes n hex digits (2 * bytes) into a malloc'd buffer. */
static uint8_t *
unhex(const char *s, size_t *n)
{
    size_t len = strlen(s);
    assert_int_equal(len % 2, 0);
    uint8_t *b = malloc(len / 2 + 1);
    assert_non_null(b);
    for (size_t i = 0; i < len / 2; i++) {
        unsigned v;
        assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
        b[i] = (uint8_t)v;
    }
    *n = len / 2;
    return b;
}

static void
test_export(void **state)
{
    (void)state;
    assert_true(sodium_init() >= 0);
    const char *db = pgt_tmp("demo.db");
    make_ledger(db);
    char *before = sha_of(db);
    const char *a[] = {"ledger", "export", "--db", db, "--json", "-", NULL};
    run_out r = run(a);
    assert_int_equal(r.rc, 0);
    json_t *j = parse(r.out);
    assert_string_equal(json_string_value(json_object_get(j, "format")),
                        "plurigrid-ledger-export/1");
    json_t *ops = json_object_get(j, "ops");
    assert_int_equal(json_array_size(ops), fx.n);
    /* re-verify every op from its encoding alone: the id is its BLAKE2b-256, the signature is
     * its author's over everything before the signature, and the fields are the encoding's */
    for (size_t i = 0; i < fx.n; i++) {
        json_t *op = json_array_get(ops, i);
        char want[65];
        hex(fx.ids[i].b, 32, want);
        assert_int_equal(json_integer_value(json_object_get(op, "seq")), (json_int_t)i + 1);
        assert_string_equal(json_string_value(json_object_get(op, "id")), want);
        size_t n = 0, ns = 0, na = 0;
        uint8_t *enc = unhex(json_string_value(json_object_get(op, "encoding")), &n);
        uint8_t *sig = unhex(json_string_value(json_object_get(op, "signature")), &ns);
        uint8_t *author = unhex(json_string_value(json_object_get(op, "author")), &na);
        assert_int_equal(ns, 64);
        assert_int_equal(na, 32);
        assert_true(n > 64 + 4 + 32);
        uint8_t h[32];
        crypto_generichash(h, sizeof h, enc, n, NULL, 0);
        assert_memory_equal(h, fx.ids[i].b, 32);
        assert_memory_equal(enc + n - 64, sig, 64);
        assert_memory_equal(enc, "PGL\x01", 4);
        assert_memory_equal(enc + 5, author, 32);
        assert_int_equal(crypto_sign_verify_detached(sig, enc, n - 64, author), 0);
        free(enc);
        free(sig);
        free(author);
    }
    /* fields decoded */
    json_t *g = json_object_get(json_array_get(ops, 0), "payload");
    assert_string_equal(json_string_value(json_object_get(g, "community")), "demo");
    assert_int_equal(json_array_size(json_object_get(g, "members")), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ops, 0), "kind")),
                        "genesis");
    assert_int_equal(json_array_size(json_object_get(json_array_get(ops, 0), "preds")), 0);
    json_t *gate = json_array_get(ops, 5);
    assert_string_equal(json_string_value(json_object_get(gate, "kind")), "record");
    json_t *gp = json_object_get(gate, "payload");
    assert_string_equal(json_string_value(json_object_get(gp, "type")), "gate");
    assert_int_equal(json_integer_value(json_object_get(gp, "interval")), 1);
    assert_int_equal(json_array_size(json_object_get(gp, "refs")), 2);
    json_t *cnt = json_object_get(json_array_get(ops, 2), "payload");
    assert_int_equal(json_integer_value(json_object_get(cnt, "delta")), 3);
    /* heights: 1 + the greatest of the predecessors' */
    for (size_t i = 1; i < fx.n; i++) {
        json_t *op = json_array_get(ops, i);
        json_int_t hmax = -1;
        json_t *preds = json_object_get(op, "preds");
        assert_true(json_array_size(preds) >= 1);
        for (size_t k = 0; k < json_array_size(preds); k++)
            for (size_t m = 0; m < i; m++)
                if (strcmp(json_string_value(json_object_get(json_array_get(ops, m), "id")),
                           json_string_value(json_array_get(preds, k))) == 0) {
                    json_int_t hm =
                        json_integer_value(json_object_get(json_array_get(ops, m), "height"));
                    hmax = hm > hmax ? hm : hmax;
                }
        assert_int_equal(json_integer_value(json_object_get(op, "height")), hmax + 1);
    }
    json_decref(j);
    run_free(&r);

    const char *b[] = {"ledger", "export", "--db", db, NULL};
    r = run(b);
    assert_int_equal(r.rc, 0);
    char gid[65];
    hex(fx.ids[8].b, 32, gid);
    const char *want[] = {"op 1: genesis", "op 9: member_add",  gid, "home-3", "signature",
                          "encoding",      "\"bid of home-2\"", NULL};
    for (const char *const *w = want; *w; w++)
        if (!strstr(r.out, *w))
            fail_msg("ledger export does not show %s:\n%s", *w, r.out);
    run_free(&r);
    char *after = sha_of(db);
    assert_string_equal(before, after);
    free(before);
    free(after);
    pgt_tmpdir_cleanup();
}

/* ---------------------------------------------------------------- verify */

static void
test_verify_good(void **state)
{
    (void)state;
    const char *db = pgt_tmp("demo.db");
    make_ledger(db);
    const char *a[] = {"ledger", "verify", "--db", db, NULL};
    run_out r = run(a);
    if (r.rc != 0 || !strstr(r.out, "The ledger verifies") ||
        !strstr(r.out, "results not recomputed 1") || !strstr(r.err, "--scenario"))
        fail_msg("verify: exit %d\n%s%s", r.rc, r.out, r.err);
    run_free(&r);
    const char *b[] = {"ledger", "verify", "--db", db, "--json", "-", NULL};
    r = run(b);
    assert_int_equal(r.rc, 0);
    json_t *j = parse(r.out);
    assert_true(json_is_true(json_object_get(j, "verifies")));
    assert_int_equal(json_integer_value(json_object_get(j, "ops")), 9);
    assert_int_equal(json_integer_value(json_object_get(j, "problems_found")), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "results_unchecked")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "results_recomputed")), 0);
    json_decref(j);
    run_free(&r);
    pgt_tmpdir_cleanup();
}

/* Applies sql with one blob parameter to a copy of the database. */
static void
tamper(const char *db, const char *sql, const void *blob, size_t n)
{
    sqlite3 *s = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(db, &s), SQLITE_OK);
    if (sqlite3_prepare_v2(s, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(s));
    assert_int_equal(sqlite3_bind_blob(st, 1, blob, (int)n, SQLITE_TRANSIENT), SQLITE_OK);
    if (sqlite3_step(st) != SQLITE_DONE)
        fail_msg("%s: %s", sql, sqlite3_errmsg(s));
    assert_int_equal(sqlite3_changes(s), 1);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_close(s), SQLITE_OK);
}

/* The stored encoding of op seq. */
static uint8_t *
stored(const char *db, int seq, size_t *n)
{
    sqlite3 *s = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(db, &s, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(s, "SELECT bytes FROM ops WHERE seq = ?", -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int(st, 1, seq);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    *n = (size_t)sqlite3_column_bytes(st, 0);
    uint8_t *b = malloc(*n);
    memcpy(b, sqlite3_column_blob(st, 0), *n);
    sqlite3_finalize(st);
    sqlite3_close(s);
    return b;
}

static void
test_verify_tampered(void **state)
{
    (void)state;
    const char *db = pgt_tmp("demo.db");
    make_ledger(db);
    const char *payload = pgt_tmp("payload.db"), *sig = pgt_tmp("sig.db"), *id = pgt_tmp("id.db");
    copy_file(db, payload);
    copy_file(db, sig);
    copy_file(db, id);
    size_t n = 0;
    /* the register's value (seq 2): its last byte is the one before the signature */
    uint8_t *enc = stored(db, 2, &n);
    enc[n - 65] ^= 0x01;
    tamper(payload, "UPDATE ops SET bytes = ? WHERE seq = 2", enc, n);
    free(enc);
    /* a bid's signature (seq 4) */
    enc = stored(db, 4, &n);
    enc[n - 1] ^= 0x80;
    tamper(sig, "UPDATE ops SET bytes = ? WHERE seq = 4", enc, n);
    free(enc);
    /* the counter's id (seq 3) */
    pg_ledger_id bad = fx.ids[2];
    bad.b[0] ^= 0xff;
    tamper(id, "UPDATE ops SET id = ? WHERE seq = 3", bad.b, 32);
    struct {
        const char *db;
        int seq;
        const pg_ledger_id *id, *alt;
    } cases[] = {
        {payload, 2, &fx.ids[1], NULL},
        {sig, 4, &fx.ids[3], NULL},
        {id, 3, &bad, &fx.ids[2]},
    };
    for (size_t i = 0; i < 3; i++) {
        char want[32], h[65], h2[65] = "";
        snprintf(want, sizeof want, "op %d ", cases[i].seq);
        hex(cases[i].id->b, 32, h);
        if (cases[i].alt)
            hex(cases[i].alt->b, 32, h2);
        const char *a[] = {"ledger", "verify", "--db", cases[i].db, NULL};
        run_out r = run(a);
        if (r.rc != 1 || !strstr(r.out, want) ||
            !(strstr(r.out, h) || (h2[0] && strstr(r.out, h2))) ||
            !strstr(r.out, "does not verify") || !strstr(r.err, "does not verify"))
            fail_msg("verify of %s: exit %d, expected 1 naming op %d (%s):\n%s%s", cases[i].db,
                     r.rc, cases[i].seq, h, r.out, r.err);
        run_free(&r);
        const char *b[] = {"ledger", "verify", "--db", cases[i].db, "--json", "-", NULL};
        r = run(b);
        assert_int_equal(r.rc, 1);
        json_t *j = parse(r.out);
        assert_true(json_is_false(json_object_get(j, "verifies")));
        json_t *probs = json_object_get(j, "problems");
        bool named = false;
        for (size_t k = 0; k < json_array_size(probs); k++) {
            json_t *p = json_array_get(probs, k);
            named |= json_integer_value(json_object_get(p, "seq")) == cases[i].seq;
        }
        if (!named)
            fail_msg("verify --json of %s does not name op %d:\n%s", cases[i].db, cases[i].seq,
                     r.out);
        json_decref(j);
        run_free(&r);
    }
    pgt_tmpdir_cleanup();
}

/* ---------------------------------------------------------------- outputs */

static void
test_outputs(void **state)
{
    (void)state;
    const char *db = pgt_tmp("demo.db");
    make_ledger(db);
    const char *subs[] = {"show", "export", "verify"};
    for (size_t k = 0; k < 3; k++) {
        /* a file that cannot be written */
        const char *a[] = {"ledger", subs[k], "--db", db, "--json", "/dev/full", NULL};
        run_out r = run(a);
        if (r.rc != 2 || !strstr(r.err, "/dev/full"))
            fail_msg("ledger %s --json /dev/full: exit %d, stderr %s", subs[k], r.rc, r.err);
        run_free(&r);
        /* standard output that cannot be written */
        const char *b[] = {"ledger", subs[k], "--db", db, NULL};
        char *out = NULL, *err = NULL;
        int rc = pgt_run_cli_io(b, NULL, NULL, "/dev/full", &out, &err);
        if (rc != 2 || !strstr(err, "standard output"))
            fail_msg("ledger %s > /dev/full: exit %d, stderr %s", subs[k], rc, err);
        free(out);
        free(err);
    }
    /* a full disk: the old file is kept, no temporary file left */
    for (size_t k = 0; k < 3; k++) {
        const char *dir = pgt_full_disk_begin(4096);
        char path[4300];
        snprintf(path, sizeof path, "%s/out.json", dir);
        pgt_write(path, "old\n");
        const char *a[] = {"ledger", subs[k], "--db", db, "--json", path, NULL};
        run_out r = run(a);
        char *now = pgt_slurp(path, NULL);
        size_t files = 0;
        DIR *d = opendir(dir);
        for (struct dirent *e; d && (e = readdir(d));)
            files += e->d_name[0] != '.';
        if (d)
            closedir(d);
        pgt_full_disk_end();
        /* verify's report is small: it may fit the disk */
        bool fits = k == 2 && r.rc == 0;
        if (!fits && (r.rc != 2 || !strstr(r.err, path) || strcmp(now, "old\n") != 0))
            fail_msg("ledger %s --json on a full disk: exit %d, stderr '%s', file now '%.40s'",
                     subs[k], r.rc, r.err, now);
        assert_int_equal(files, 1);
        free(now);
        run_free(&r);
    }
    /* keygen on a full disk: no key file, not even a part of one */
    {
        /* a tmpfs of one page, filled; or files limited to 64 bytes */
        const char *dir = pgt_full_disk_begin(64);
        char fill[4300], path[4300];
        snprintf(fill, sizeof fill, "%s/fill", dir);
        snprintf(path, sizeof path, "%s/new.key", dir);
        char block[4097];
        memset(block, 'x', 4096);
        block[4096] = '\0';
        FILE *f = fopen(fill, "w");
        if (f) {
            fputs(block, f); /* as much as fits */
            fclose(f);
        }
        const char *a[] = {"ledger", "keygen", "--out", path, NULL};
        run_out r = run(a);
        bool exists = file_exists(path);
        size_t files = 0;
        DIR *d = opendir(dir);
        for (struct dirent *e; d && (e = readdir(d));)
            files += e->d_name[0] != '.';
        if (d)
            closedir(d);
        pgt_full_disk_end();
        if (r.rc != 2 || exists || files != 1 || r.out[0])
            fail_msg("keygen on a full disk: exit %d, the key file %s, %zu files, stdout '%s', "
                     "stderr '%s'",
                     r.rc, exists ? "exists" : "does not exist", files, r.out, r.err);
        run_free(&r);
    }
    pgt_tmpdir_cleanup();
}

/* ---------------------------------------------------------------- keys */

static void
test_keygen(void **state)
{
    (void)state;
    const char *path = pgt_tmp("new.key");
    const char *a[] = {"ledger", "keygen", "--out", path, NULL};
    run_out r = run(a);
    assert_int_equal(r.rc, 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    pg_ledger_key k;
    pg_error err = {0};
    if (pg_ledger_key_read(path, &k, &err) != PG_OK)
        fail_msg("the key keygen wrote: %s", err.msg);
    char pk[65], seed[65];
    hex(k.pk.b, 32, pk);
    hex(k.sk, 32, seed);
    /* standard output is the public key, alone */
    char line[80];
    snprintf(line, sizeof line, "%s\n", pk);
    assert_string_equal(r.out, line);
    assert_null(strstr(r.err, seed));
    run_free(&r);
    /* pubkey reads it back */
    const char *b[] = {"ledger", "pubkey", "--key", path, NULL};
    r = run(b);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, line);
    run_free(&r);
    /* a second keygen never replaces it */
    size_t n0 = 0, n1 = 0;
    char *before = pgt_slurp(path, &n0);
    r = run(a);
    char *after = pgt_slurp(path, &n1);
    if (r.rc != 2 || !strstr(r.err, path) || r.out[0])
        fail_msg("keygen over an existing key: exit %d, stdout '%s', stderr '%s'", r.rc, r.out,
                 r.err);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    free(before);
    free(after);
    run_free(&r);
    /* nor any other file */
    const char *other = pgt_tmp("notes.txt");
    pgt_write(other, "keep me\n");
    const char *c[] = {"ledger", "keygen", "--out", other, NULL};
    r = run(c);
    assert_int_equal(r.rc, 2);
    char *kept = pgt_slurp(other, NULL);
    assert_string_equal(kept, "keep me\n");
    free(kept);
    run_free(&r);
    /* a key file others may read is refused, saying how to fix it */
    assert_int_equal(chmod(path, 0644), 0);
    r = run(b);
    if (r.rc != 2 || !strstr(r.err, path) || !strstr(r.err, "chmod") || r.out[0])
        fail_msg("pubkey of a key file readable by others: exit %d, stdout '%s', stderr '%s'", r.rc,
                 r.out, r.err);
    assert_null(strstr(r.err, seed));
    run_free(&r);
    pg_ledger_key_wipe(&k);
    pgt_tmpdir_cleanup();
}

/* Fails when the seed appears, in hex of either case, in the output or errors of args. */
static void
no_secret(const char *const *args, const char *seed_lower)
{
    char upper[65];
    for (size_t i = 0; i < 65; i++)
        upper[i] = (char)toupper((unsigned char)seed_lower[i]);
    /* the first 32 digits are enough to give most of it away */
    char part[33], part_upper[33];
    memcpy(part, seed_lower, 32);
    memcpy(part_upper, upper, 32);
    part[32] = part_upper[32] = '\0';
    run_out r = run(args);
    if (strstr(r.out, part) || strstr(r.err, part) || strstr(r.out, part_upper) ||
        strstr(r.err, part_upper)) {
        print_args(args);
        fail_msg("the secret seed appears in the output:\n%s%s", r.out, r.err);
    }
    run_free(&r);
}

static void
test_secrets(void **state)
{
    (void)state;
    pg_ledger_key k;
    key(&k, 99);
    char seed[65];
    hex(k.sk, 32, seed);
    const char *path = pgt_tmp("secret.key"), *open_key = pgt_tmp("open.key");
    pg_error err = {0};
    if (pg_ledger_key_write(path, &k, &err) != PG_OK ||
        pg_ledger_key_write(open_key, &k, &err) != PG_OK)
        fail_msg("key_write: %s", err.msg);
    assert_int_equal(chmod(open_key, 0644), 0);
    /* damaged copies: the seed with a digit too many, one that is not hex, and a public key that
     * is not the seed's; their errors must not quote the line */
    const char *damaged[3] = {pgt_tmp("long.key"), pgt_tmp("nothex.key"), pgt_tmp("other.key")};
    {
        char *text = pgt_slurp(path, NULL);
        char *line = strstr(text, seed);
        if (!line)
            fail_msg("the key file does not hold the seed in hex: this test looks for the wrong "
                     "text:\n%s",
                     text);
        for (int d = 0; d < 3; d++) {
            char *t = strdup(text), *at = t + (line - text);
            size_t len = strlen(t);
            char *mod = malloc(len + 2);
            if (d == 0) { /* one more digit after the seed */
                memcpy(mod, t, (size_t)(at - t) + 64);
                mod[(at - t) + 64] = 'a';
                strcpy(mod + (at - t) + 65, at + 64);
            } else if (d == 1) { /* the last digit is not hex */
                strcpy(mod, t);
                mod[(at - t) + 63] = 'g';
            } else { /* the public key's first digit changed */
                strcpy(mod, t);
                char pk[65];
                hex(k.pk.b, 32, pk);
                char *p = strstr(mod, pk);
                assert_non_null(p);
                *p = *p == '0' ? '1' : '0';
            }
            pgt_write(damaged[d], mod);
            assert_int_equal(chmod(damaged[d], 0600), 0);
            free(mod);
            free(t);
        }
        free(text);
    }
    /* the key file holds the seed in some form: make sure this test looks for the right text */
    const char *db = pgt_tmp("demo.db");
    make_ledger(db);
    const char *dir = pgt_tmp("folder");
    const char *const cases[][12] = {
        {"ledger", "keygen", "--out", path, NULL},
        {"ledger", "pubkey", "--key", path, NULL},
        {"ledger", "pubkey", "--key", open_key, NULL},
        {"ledger", "pubkey", "--key", damaged[0], NULL},
        {"ledger", "pubkey", "--key", damaged[1], NULL},
        {"ledger", "pubkey", "--key", damaged[2], NULL},
        {"ledger", "show", "--db", path, NULL},
        {"ledger", "export", "--db", path, NULL},
        {"ledger", "export", "--db", path, "--json", "-", NULL},
        {"ledger", "verify", "--db", path, NULL},
        {"ledger", "verify", "--db", path, "--json", "-", NULL},
        {"ledger", "verify", "--db", db, "--scenario", path, NULL},
        {"ledger", "init", "--scenario", path, "--out", dir, NULL},
        {"ledger", "show", "--db", db, "--bogus", path, NULL},
        {"community", path, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        no_secret(cases[i], seed);
    pg_ledger_key_wipe(&k);
    pgt_tmpdir_cleanup();
}

/* ---------------------------------------------------------------- init */

static void
test_init_and_verify_scenario(void **state)
{
    (void)state;
    const char *dir = pgt_tmp("ledger");
    const char *a[] = {"ledger", "init", "--scenario", scen, "--out", dir, NULL};
    run_out r = run(a);
    if (r.rc != 0)
        fail_msg("init: exit %d\n%s%s", r.rc, r.out, r.err);
    const char *names[] = {"genesis", "home-1", "home-2", "home-3", "home-4"};
    pg_ledger_key keys[5];
    char path[4300];
    for (size_t i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/%s.key", dir, names[i]);
        struct stat st;
        if (stat(path, &st) != 0 || (st.st_mode & 0777) != 0600)
            fail_msg("%s: missing or not private", path);
        pg_error err = {0};
        if (pg_ledger_key_read(path, &keys[i], &err) != PG_OK)
            fail_msg("%s: %s", path, err.msg);
        char seed[65];
        hex(keys[i].sk, 32, seed);
        if (strstr(r.out, seed) || strstr(r.err, seed))
            fail_msg("init printed the seed of %s", path);
        if (i)
            assert_non_null(strstr(r.out, names[i]));
    }
    assert_non_null(strstr(r.out, "lattice-demo"));
    for (size_t i = 1; i + 1 < 5; i++) { /* the members' keys listed by name */
        char k1[32], k2[32];
        snprintf(k1, sizeof k1, "%s.key", names[i]);
        snprintf(k2, sizeof k2, "%s.key", names[i + 1]);
        if (!strstr(r.out, k1) || !strstr(r.out, k2) || strstr(r.out, k1) > strstr(r.out, k2))
            fail_msg("init lists %s after %s:\n%s", k1, k2, r.out);
    }
    run_free(&r);
    /* a second init replaces nothing */
    snprintf(path, sizeof path, "%s/genesis.op", dir);
    size_t n0 = 0, n1 = 0;
    char *before = pgt_slurp(path, &n0);
    r = run(a);
    char *after = pgt_slurp(path, &n1);
    if (r.rc != 2 || n0 != n1 || memcmp(before, after, n0) != 0)
        fail_msg("init over an existing folder: exit %d\n%s", r.rc, r.err);
    free(before);
    free(after);
    run_free(&r);

    /* a member's copy, with a register of its own; verify with the scenario */
    uint8_t *gen = NULL;
    size_t gen_len = 0;
    pg_error err = {0};
    char db[4300];
    snprintf(db, sizeof db, "%s/home-1.db", dir);
    gen = (uint8_t *)pgt_slurp(path, &gen_len);
    pg_ledger_options o;
    pg_ledger_options_init(&o);
    o.create = true;
    pg_ledger *l = NULL;
    if (pg_ledger_open(&l, db, gen, gen_len, &o, &err) != PG_OK)
        fail_msg("open: %s", err.msg);
    free(gen);
    pg_ledger_payload p;
    memset(&p, 0, sizeof p);
    p.kind = PG_LEDGER_REGISTER;
    p.name = "telemetry";
    p.value = "0.5";
    p.value_len = 3;
    if (pg_ledger_append(l, &keys[1], &p, NULL, &err) != PG_OK)
        fail_msg("append: %s", err.msg);
    pg_ledger_close(l);
    const char *b[] = {"ledger", "verify", "--db", db, "--scenario", scen, NULL};
    r = run(b);
    if (r.rc != 0 || !strstr(r.out, "The ledger verifies") || !strstr(r.out, "recomputed by"))
        fail_msg("verify --scenario: exit %d\n%s%s", r.rc, r.out, r.err);
    run_free(&r);
    const char *c[] = {"ledger", "verify",    "--db", db,  "--scenario",
                       scen,     "--variant", "nope", NULL};
    EXPECT(c, 2, "no variant 'nope'");
    /* the scenario of another community: refused (exit 2), not every record called invalid */
    char other[4096];
    snprintf(other, sizeof other, "%s", pgt_source_path("examples/scenario0/scenario.json"));
    const char *e[] = {"ledger", "verify", "--db", db, "--scenario", other, NULL};
    EXPECT(e, 2, "home-1.db", "a ledger of community 'lattice-demo', not of this scenario's");
    /* a tampered copy: verify --scenario names the op (exit 1), it does not refuse the file */
    char bad[4300];
    snprintf(bad, sizeof bad, "%s/tampered.db", dir);
    copy_file(db, bad);
    size_t n = 0;
    uint8_t *enc = stored(bad, 2, &n);
    enc[n - 70] ^= 1;
    tamper(bad, "UPDATE ops SET bytes = ? WHERE seq = 2", enc, n);
    free(enc);
    const char *f[] = {"ledger", "verify", "--db", bad, "--scenario", scen, NULL};
    r = run(f);
    if (r.rc != 1 || !strstr(r.out, "op 2 (id ") || !strstr(r.err, "does not verify"))
        fail_msg("verify --scenario of a tampered copy: exit %d\n%s%s", r.rc, r.out, r.err);
    run_free(&r);
    const char *d[] = {"ledger", "show", "--db", db, NULL};
    r = run(d);
    if (r.rc != 0 || !strstr(r.out, "lattice-demo") || !strstr(r.out, "Members (4)"))
        fail_msg("show: exit %d\n%s%s", r.rc, r.out, r.err);
    run_free(&r);
    for (size_t i = 0; i < 5; i++)
        pg_ledger_key_wipe(&keys[i]);
    pgt_tmpdir_cleanup();
}

/* A folder the member may not use: plurigrid community --ledger refuses it before the run,
 * exit 2 (the user's to fix) naming the file. */
static void
test_community_bad_folder(void **state)
{
    (void)state;
    char dir[4096], dir2[4096], path[4300], path2[4400];
    snprintf(dir, sizeof dir, "%s", pgt_tmp("L"));
    snprintf(dir2, sizeof dir2, "%s", pgt_tmp("L2"));
    const char *a[] = {"ledger", "init", "--scenario", scen, "--out", dir, NULL};
    const char *a2[] = {"ledger", "init", "--scenario", scen, "--out", dir2, NULL};
    run_out r = run(a);
    assert_int_equal(r.rc, 0);
    run_free(&r);
    r = run(a2);
    assert_int_equal(r.rc, 0);
    run_free(&r);
    const char *c[] = {"community", scen, "--ledger", dir, NULL};

    /* a key file others may read */
    snprintf(path, sizeof path, "%s/home-1.key", dir);
    assert_int_equal(chmod(path, 0644), 0);
    EXPECT(c, 2, "home-1.key", "chmod 600");
    assert_int_equal(chmod(path, 0600), 0);

    /* another member's key under home-1's name */
    snprintf(path2, sizeof path2, "%s/home-1.key.bak", dir);
    assert_int_equal(rename(path, path2), 0);
    snprintf(path, sizeof path, "%s/home-2.key", dir);
    size_t n = 0;
    char *k2 = pgt_slurp(path, &n);
    snprintf(path, sizeof path, "%s/home-1.key", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0 && write(fd, k2, n) == (ssize_t)n);
    close(fd);
    free(k2);
    EXPECT(c, 2, "home-1.key is not the key of member 'home-1'");
    assert_int_equal(rename(path2, path), 0);

    /* a copy made from another folder's genesis (an earlier init's) */
    snprintf(path, sizeof path, "%s/genesis.op", dir2);
    uint8_t *gen = (uint8_t *)pgt_slurp(path, &n);
    snprintf(path, sizeof path, "%s/home-1.db", dir);
    for (int i = 0; i < 3; i++) { /* a copy the runs above may have begun */
        snprintf(path2, sizeof path2, "%s%s", path, i == 0 ? "" : i == 1 ? "-wal" : "-shm");
        unlink(path2);
    }
    pg_ledger_options o;
    pg_ledger_options_init(&o);
    o.create = true;
    pg_ledger *l = NULL;
    pg_error err = {0};
    if (pg_ledger_open(&l, path, gen, n, &o, &err) != PG_OK)
        fail_msg("open: %s", err.msg);
    pg_ledger_close(l);
    free(gen);
    EXPECT(c, 2, "home-1.db", "not of the genesis");
    assert_int_equal(unlink(path), 0);

    /* a copy another process keeps (here: this one, whose open ledger holds the file) */
    snprintf(path2, sizeof path2, "%s/genesis.op", dir);
    gen = (uint8_t *)pgt_slurp(path2, &n);
    if (pg_ledger_open(&l, path, gen, n, &o, &err) != PG_OK)
        fail_msg("open: %s", err.msg);
    free(gen);
    EXPECT(c, 2, "home-1.db is in use by another process", "running twice");
    pg_ledger_close(l);
    assert_int_equal(unlink(path), 0);

    /* another folder's genesis with this folder's keys */
    snprintf(path, sizeof path, "%s/genesis.op", dir2);
    snprintf(path2, sizeof path2, "%s/genesis.op", dir);
    gen = (uint8_t *)pgt_slurp(path, &n);
    assert_int_equal(unlink(path2), 0);
    fd = open(path2, O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0 && write(fd, gen, n) == (ssize_t)n);
    close(fd);
    free(gen);
    EXPECT(c, 2, "is not the key of member");
    pgt_tmpdir_cleanup();
}

static int
first_op(void *ud, const pg_ledger_op *op)
{
    *(pg_ledger_id *)ud = op->id;
    return 1;
}

/* A copy of a community's run holding a clearing result altered and signed again by its operator
 * (an operator that lies, or a copy edited with its key): verify --scenario recomputes it and
 * names the op (exit 1); without the scenario the op is well formed (exit 0, results not
 * recomputed). */
static void
test_verify_altered_result(void **state)
{
    (void)state;
    char dir[4096], path[4400];
    snprintf(dir, sizeof dir, "%s", pgt_tmp("L"));
    const char *a[] = {"ledger", "init", "--scenario", scen, "--out", dir, NULL};
    run_out r = run(a);
    assert_int_equal(r.rc, 0);
    run_free(&r);
    const char *c[] = {"community", scen, "--ledger", dir, NULL};
    r = run(c);
    if (r.rc != 0)
        fail_msg("community --ledger: exit %d\n%s", r.rc, r.err);
    run_free(&r);

    char db[4400];
    snprintf(db, sizeof db, "%s/home-2.db", dir);
    pg_ledger_options o;
    pg_ledger_options_init(&o);
    pg_ledger *l = NULL;
    pg_error err = {0};
    if (pg_ledger_open(&l, db, NULL, 0, &o, &err) != PG_OK)
        fail_msg("open: %s", err.msg);
    pg_ledger_op *res = NULL;
    pgi_msg_result m;
    size_t k = 0;
    for (uint32_t t = 0; t < 48 && !res; t++) {
        pg_ledger_id id;
        memset(&id, 0, sizeof id);
        pg_ledger_each_record(l, PG_LEDGER_RESULT, t, first_op, &id, &err);
        uint8_t *enc = NULL;
        size_t len = 0;
        assert_int_equal(pg_ledger_get(l, &id, &enc, &len, &err), PG_OK);
        assert_int_equal(pg_ledger_op_decode(enc, len, &res, &err), PG_OK);
        free(enc);
        assert_int_equal(
            pgi_msg_decode_result(res->payload.record.body, res->payload.record.body_len, &m, &err),
            PG_OK);
        for (k = 0; k < m.count && m.awards[k].cleared_kwh == 0; k++)
            ;
        if (k == m.count) {
            free(m.awards);
            pg_ledger_op_free(res);
            res = NULL;
        }
    }
    if (!res)
        fail_msg("no interval with a peer trade");
    m.awards[k].price += 0.01;
    uint8_t *body = NULL;
    size_t body_len = 0;
    assert_int_equal(pgi_msg_encode_result(&m, &body, &body_len, &err), PG_OK);
    const char *op_name = pg_ledger_member_name(l, &res->author);
    assert_non_null(op_name);
    snprintf(path, sizeof path, "%s/%s.key", dir, op_name);
    pg_ledger_key key;
    assert_int_equal(pg_ledger_key_read(path, &key, &err), PG_OK);
    pg_ledger_payload p;
    memset(&p, 0, sizeof p);
    p.kind = PG_LEDGER_RECORD;
    p.record = (pg_ledger_record){.type = PG_LEDGER_RESULT,
                                  .interval = res->payload.record.interval,
                                  .term = res->payload.record.term,
                                  .node = "",
                                  .refs = res->payload.record.refs,
                                  .n_refs = 1,
                                  .body = body,
                                  .body_len = body_len};
    pg_ledger_id bad;
    if (pg_ledger_append(l, &key, &p, &bad, &err) != PG_OK)
        fail_msg("append: %s", err.msg);
    size_t seq = pg_ledger_count(l);
    pg_ledger_close(l);
    pg_ledger_key_wipe(&key);
    free(body);
    free(m.awards);
    pg_ledger_op_free(res);

    char want[200], hexid[65];
    pg_ledger_hex(bad.b, sizeof bad.b, hexid);
    snprintf(want, sizeof want, "op %zu (id %s): ", seq, hexid);
    const char *v[] = {"ledger", "verify", "--db", db, "--scenario", scen, NULL};
    r = run(v);
    if (r.rc != 1 || !strstr(r.out, want) || !strstr(r.out, "recomputed from its gate's bids"))
        fail_msg("verify --scenario of an altered result: exit %d, want '%s'\n%s%s", r.rc, want,
                 r.out, r.err);
    run_free(&r);
    const char *w[] = {"ledger", "verify", "--db", db, NULL};
    r = run(w);
    if (r.rc != 0 || !strstr(r.err, "not recomputed"))
        fail_msg("verify without the scenario: exit %d\n%s%s", r.rc, r.out, r.err);
    run_free(&r);
    pgt_tmpdir_cleanup();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_bad_databases),
        cmocka_unit_test(test_show),
        cmocka_unit_test(test_export),
        cmocka_unit_test(test_verify_good),
        cmocka_unit_test(test_verify_tampered),
        cmocka_unit_test(test_outputs),
        cmocka_unit_test(test_keygen),
        cmocka_unit_test(test_secrets),
        cmocka_unit_test(test_init_and_verify_scenario),
        cmocka_unit_test(test_community_bad_folder),
        cmocka_unit_test(test_verify_altered_result),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
