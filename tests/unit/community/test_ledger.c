/* A community's shared ledger in process (src/community/ledger.c, run.c): a ledger folder made
 * by pg_community_ledger_init (keys, the genesis admitting every member as an operator, a second
 * init refused); a run on the in-process lattice with the folder gives the same report, byte for
 * byte, as without it, and leaves every member's copy with the same heads and state, every
 * interval's gate, result and settlement on it, and `verify` with the community's checker
 * finding nothing; demand-response events recorded by the operator and every member that
 * received them; the checker accepts the real results and rejects a result whose price or
 * award was altered (also when the operator itself appends one); a missing folder, key or a
 * genesis of another community is refused with the way forward; the member file's "ledger" key
 * and the options' ledger_sync_s. */
#include "harness.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "community/internal.h"
#include "community/msg.h"
#include "plurigrid/community.h"
#include "plurigrid/lattice.h"
#include "plurigrid/ledger.h"

#define DAYS 1
#define MEMBERS 4
static const char *const names[MEMBERS] = {"home-1", "home-2", "home-3", "home-4"};

static pg_community *
read_example(size_t days)
{
    pg_community_options o;
    pg_community_options_init(&o);
    o.days = days;
    char data[PATH_MAX];
    snprintf(data, sizeof data, "%s", pgt_data_path("citylearn-2022-fontana/Building_1.csv"));
    *strrchr(data, '/') = '\0';
    o.data_dir = data;
    pg_community *c = NULL;
    pg_error err = {0};
    if (pg_community_read(&c, pgt_source_path("examples/lattice/scenario.json"), &o, &err))
        fail_msg("examples/lattice/scenario.json: %s", err.msg);
    return c;
}

static void
inproc_options(pg_lattice_options *lo, const char *ledger)
{
    pg_lattice_options_init(lo);
    lo->transport = "inproc";
    lo->servers = NULL;
    lo->ledger_dir = ledger;
}

static const char *
make_ledger(const pg_community *c, const char *name)
{
    static char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", pgt_tmp(name));
    pg_error err = {0};
    if (pg_community_ledger_init(c, dir, &err))
        fail_msg("ledger init: %s", err.msg);
    return dir;
}

/* The run's report as JSON: the lattice's one run (lo) or every run (run_all). */
static char *
run_json(const pg_community *c, const pg_lattice_options *lo, bool run_all)
{
    pg_community_report *r = NULL;
    pg_error err = {0};
    int rc;
    if (run_all) {
        pg_community_options o;
        pg_community_options_init(&o);
        o.lattice = lo;
        rc = pg_community_run_all(c, &o, &r, &err);
    } else {
        rc = pg_community_run_lattice(c, NULL, 0, NULL, lo, &r, &err);
    }
    if (rc)
        fail_msg("run: %s", err.msg);
    char *json = NULL;
    assert_int_equal(pg_community_report_json(r, &json, &err), PG_OK);
    pg_community_report_free(r);
    return json;
}

static pg_ledger *
open_db(const char *dir, const char *member)
{
    char path[2 * PATH_MAX];
    snprintf(path, sizeof path, "%s/%s.db", dir, member);
    pg_ledger_options o;
    pg_ledger_options_init(&o);
    o.read_only = true;
    pg_ledger *l = NULL;
    pg_error err = {0};
    if (pg_ledger_open(&l, path, NULL, 0, &o, &err))
        fail_msg("open %s: %s", path, err.msg);
    return l;
}

static int
count_one(void *ud, const pg_ledger_op *op)
{
    (void)op;
    (*(size_t *)ud)++;
    return 0;
}

static size_t
records(pg_ledger *l, pg_ledger_record_type type, uint32_t t)
{
    size_t n = 0;
    pg_error err = {0};
    assert_int_equal(pg_ledger_each_record(l, type, t, count_one, &n, &err), PG_OK);
    return n;
}

/* A run with the ledger: the same report; every copy the same heads and state, every interval
 * recorded, and verify with the checker clean. */
static void
test_run_with_ledger(void **state)
{
    (void)state;
    pg_community *c = read_example(DAYS);
    const char *dir = make_ledger(c, "led");
    pg_lattice_options plain, with;
    inproc_options(&plain, NULL);
    inproc_options(&with, dir);
    char *a = run_json(c, &plain, false);
    char *b = run_json(c, &with, false);
    assert_string_equal(a, b);
    assert_true(strlen(a) > 1000);
    free(a);
    free(b);
    size_t T = pg_community_n_intervals(c);
    assert_int_equal(T, 24 * DAYS);
    pg_ledger_id heads0, state0;
    size_t count0 = 0;
    for (size_t k = 0; k < MEMBERS; k++) {
        pg_ledger *l = open_db(dir, names[k]);
        pg_ledger_id h, s;
        assert_int_equal(pg_ledger_heads_digest(l, &h, NULL), PG_OK);
        assert_int_equal(pg_ledger_state_digest(l, &s, NULL), PG_OK);
        size_t count = pg_ledger_count(l);
        if (k == 0) {
            heads0 = h;
            state0 = s;
            count0 = count;
            /* genesis; per interval 4 bids, 4 meter readings, a gate, a result, a settlement */
            assert_true(count >= 1 + T * 11);
            for (uint32_t t = 0; t < T; t++) {
                assert_int_equal(records(l, PG_LEDGER_BID, t), MEMBERS);
                assert_int_equal(records(l, PG_LEDGER_GATE, t), 1);
                assert_int_equal(records(l, PG_LEDGER_RESULT, t), 1);
                assert_int_equal(records(l, PG_LEDGER_SETTLE, t), 1);
            }
            void *v = NULL;
            size_t vlen = 0;
            pg_error err = {0};
            pg_ledger_member mem[MEMBERS + 1];
            assert_int_equal(pg_ledger_members(l, mem, MEMBERS + 1), MEMBERS);
            assert_int_equal(pg_ledger_register_get(l, &mem[0].key, "telemetry", &v, &vlen, &err),
                             PG_OK);
            pgi_msg_telemetry tel;
            assert_int_equal(pgi_msg_decode_telemetry(v, vlen, &tel, &err), PG_OK);
            assert_int_equal(tel.interval, T - 1); /* the last reading */
            free(v);
        } else {
            assert_memory_equal(&h, &heads0, sizeof h);
            assert_memory_equal(&s, &state0, sizeof s);
            assert_int_equal(count, count0);
        }
        pg_ledger_close(l);
    }
    /* verify, with the community's checker recomputing every result */
    struct pg_ledger_checker *ch = NULL;
    pg_error err = {0};
    assert_int_equal(pg_community_ledger_checker(c, 0, NULL, &ch, &err), PG_OK);
    for (size_t k = 0; k < MEMBERS; k++) {
        char path[2 * PATH_MAX];
        snprintf(path, sizeof path, "%s/%s.db", dir, names[k]);
        pg_ledger_verify_report rep;
        memset(&rep, 0, sizeof rep);
        assert_int_equal(pg_ledger_verify_file(path, ch, &rep, &err), PG_OK);
        if (rep.n_problems)
            fail_msg("%s: %s", path, rep.problems[0].what);
        assert_int_equal(rep.results_recomputed, T);
        assert_memory_equal(&rep.heads_digest, &heads0, sizeof heads0);
        pg_ledger_verify_report_free(&rep);
    }
    pg_community_ledger_checker_free(ch);
    /* a second run on the same copies: they grow, and stay equal */
    b = run_json(c, &with, false);
    free(b);
    pg_ledger *l0 = open_db(dir, names[0]), *l3 = open_db(dir, names[3]);
    assert_true(pg_ledger_count(l0) > count0);
    pg_ledger_id h0, h3;
    assert_int_equal(pg_ledger_heads_digest(l0, &h0, NULL), PG_OK);
    assert_int_equal(pg_ledger_heads_digest(l3, &h3, NULL), PG_OK);
    assert_memory_equal(&h0, &h3, sizeof h0);
    pg_ledger_close(l0);
    pg_ledger_close(l3);
    pg_community_free(c);
}

/* Every run of the scenario (run_all) with the ledger gives the same report; the run recorded is
 * the first variant's with the market. */
static void
test_run_all_with_ledger(void **state)
{
    (void)state;
    pg_community *c = read_example(DAYS);
    const char *dir = make_ledger(c, "led-all");
    pg_lattice_options with;
    inproc_options(&with, dir);
    char *a = run_json(c, NULL, true);
    char *b = run_json(c, &with, true);
    assert_string_equal(a, b);
    free(a);
    free(b);
    pg_ledger *l = open_db(dir, names[2]);
    assert_int_equal(records(l, PG_LEDGER_RESULT, 0), 1); /* one run recorded, not the baseline */
    pg_ledger_close(l);
    pg_community_free(c);
}

/* The example with a demand-response event: every member records the event it received, the
 * operator the event it published; the run is the same as without the ledger. */
static void
test_dr_records(void **state)
{
    (void)state;
    pg_error err = {0};
    size_t tlen = 0;
    char *text = NULL;
    assert_int_equal(pg_input_read(pgt_source_path("examples/lattice/scenario.json"), 1 << 20,
                                   &text, &tlen, &err),
                     PG_OK);
    const char *mk = "\"market\": {\"mechanism\": \"uniform\"}";
    char *at = strstr(text, mk);
    assert_non_null(at);
    const char *ev = "\"market\": {\"mechanism\": \"uniform\"}, \"dr_events\": [{\"eventID\": "
                     "\"peak-1\", \"modificationNumber\": 0, \"dtstart\": \"2016-08-01T17:00\", "
                     "\"duration\": \"PT2H\", \"notification\": \"PT4H\", \"signalName\": "
                     "\"SIMPLE\", \"value\": 2, \"targets\": [\"all\"], \"eventStatus\": "
                     "\"far\"}]";
    size_t head = (size_t)(at - text), nlen = tlen - strlen(mk) + strlen(ev);
    char *t2 = malloc(nlen + 1);
    assert_non_null(t2);
    memcpy(t2, text, head);
    memcpy(t2 + head, ev, strlen(ev));
    memcpy(t2 + head + strlen(ev), at + strlen(mk), tlen - head - strlen(mk));
    t2[nlen] = '\0';
    char data[PATH_MAX], base[PATH_MAX];
    snprintf(data, sizeof data, "%s", pgt_data_path("citylearn-2022-fontana/Building_1.csv"));
    *strrchr(data, '/') = '\0';
    snprintf(base, sizeof base, "%s", pgt_source_path("examples/lattice/scenario.json"));
    *strrchr(base, '/') = '\0';
    pg_community_options co;
    pg_community_options_init(&co);
    co.days = 1;
    co.data_dir = data;
    pg_community *c = NULL;
    if (pg_community_parse(&c, "dr.json", t2, nlen, base, &co, &err))
        fail_msg("%s", err.msg);
    free(text);
    free(t2);
    const char *dir = make_ledger(c, "led-dr");
    pg_lattice_options plain, with;
    inproc_options(&plain, NULL);
    inproc_options(&with, dir);
    char *a = run_json(c, &plain, false);
    char *b = run_json(c, &with, false);
    assert_string_equal(a, b);
    free(a);
    free(b);
    pg_ledger *l = open_db(dir, names[3]);
    /* the operator's record of the event, and each member's of receiving it, once */
    assert_int_equal(records(l, PG_LEDGER_DR, 0), 1 + MEMBERS);
    pg_ledger_close(l);
    pg_community_free(c);
}

/* ---------------------------------------------------------------- the checker */

typedef struct found {
    pg_ledger_id id;
    bool got;
} found;

static int
first_id(void *ud, const pg_ledger_op *op)
{
    found *f = ud;
    f->id = op->id;
    f->got = true;
    return 1;
}

static pg_ledger_op *
get_op(pg_ledger *l, const pg_ledger_id *id)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    pg_ledger_op *op = NULL;
    pg_error err = {0};
    assert_int_equal(pg_ledger_get(l, id, &bytes, &len, &err), PG_OK);
    assert_int_equal(pg_ledger_op_decode(bytes, len, &op, &err), PG_OK);
    free(bytes);
    return op;
}

/* The interval with a peer trade (the checker's recomputation matters there). */
static uint32_t
traded_interval(pg_ledger *l, size_t T, pg_ledger_op **res)
{
    for (uint32_t t = 0; t < T; t++) {
        found f = {0};
        pg_error err = {0};
        pg_ledger_each_record(l, PG_LEDGER_RESULT, t, first_id, &f, &err);
        assert_true(f.got);
        pg_ledger_op *op = get_op(l, &f.id);
        pgi_msg_result r;
        assert_int_equal(
            pgi_msg_decode_result(op->payload.record.body, op->payload.record.body_len, &r, &err),
            PG_OK);
        bool traded = false;
        for (size_t k = 0; k < r.count; k++)
            traded |= r.awards[k].cleared_kwh != 0;
        free(r.awards);
        if (traded) {
            *res = op;
            return t;
        }
        pg_ledger_op_free(op);
    }
    fail_msg("no interval with a peer trade");
    return 0;
}

/* Checks rec (its body replaced by body when given) with refs resolved as the ledger does. */
static int
check_with(const struct pg_ledger_checker *ch, pg_ledger *l, pg_ledger_op *rec, const uint8_t *body,
           size_t len, pg_error *err)
{
    pg_ledger_op *gate = get_op(l, &rec->payload.record.refs[0]);
    size_t n = 1 + gate->payload.record.n_refs;
    pg_ledger_op **refs = calloc(n, sizeof *refs);
    assert_non_null(refs);
    refs[0] = gate;
    for (size_t k = 1; k < n; k++)
        refs[k] = get_op(l, &gate->payload.record.refs[k - 1]);
    const void *keep = rec->payload.record.body;
    size_t keep_len = rec->payload.record.body_len;
    if (body) {
        rec->payload.record.body = body;
        rec->payload.record.body_len = len;
    }
    int rc = ch->check(ch->ctx, rec, (const pg_ledger_op *const *)refs, n, err);
    rec->payload.record.body = keep;
    rec->payload.record.body_len = keep_len;
    for (size_t k = 0; k < n; k++)
        pg_ledger_op_free(refs[k]);
    free(refs);
    return rc;
}

static void
test_checker(void **state)
{
    (void)state;
    pg_community *c = read_example(DAYS);
    const char *dir = make_ledger(c, "led-check");
    pg_lattice_options with;
    inproc_options(&with, dir);
    free(run_json(c, &with, false));
    struct pg_ledger_checker *ch = NULL, *other = NULL, *ch2 = NULL;
    pg_error err = {0};
    assert_int_equal(pg_community_ledger_checker(c, 0, NULL, &ch, &err), PG_OK);
    assert_non_null(strstr(ch->name, "lattice-demo"));
    pg_ledger *l = open_db(dir, names[1]);
    pg_ledger_op *res = NULL;
    uint32_t t = traded_interval(l, pg_community_n_intervals(c), &res);
    /* the real result */
    assert_int_equal(check_with(ch, l, res, NULL, 0, &err), PG_OK);
    /* altered: an award's price, then its quantity */
    for (int what = 0; what < 2; what++) {
        pgi_msg_result r;
        assert_int_equal(
            pgi_msg_decode_result(res->payload.record.body, res->payload.record.body_len, &r, &err),
            PG_OK);
        size_t k = 0;
        while (r.awards[k].cleared_kwh == 0)
            k++;
        if (what == 0)
            r.awards[k].price += 0.01;
        else
            r.awards[k].cleared_kwh *= 1.5;
        uint8_t *body = NULL;
        size_t len = 0;
        assert_int_equal(pgi_msg_encode_result(&r, &body, &len, &err), PG_OK);
        pg_error_clear(&err);
        assert_int_not_equal(check_with(ch, l, res, body, len, &err), PG_OK);
        assert_non_null(strstr(err.msg, "recomputed"));
        free(body);
        free(r.awards);
    }
    /* the same result checked as another market's is refused: pay-as-bid prices each fill at
     * its bid */
    assert_int_equal(pg_community_ledger_checker(c, 0, "pay-as-bid", &other, &err), PG_OK);
    pg_error_clear(&err);
    assert_int_not_equal(check_with(other, l, res, NULL, 0, &err), PG_OK);
    assert_non_null(strstr(err.msg, "pay-as-bid"));
    /* checkers of what is not there */
    assert_int_equal(pg_community_ledger_checker(c, 5, NULL, &ch2, &err), PG_EINVAL);
    assert_int_equal(pg_community_ledger_checker(c, 0, "nope", &ch2, &err), PG_EINVAL);
    pg_ledger_close(l);
    pgi_msg_result r;
    /* the operator itself cannot record an altered result: its copy refuses it */
    char path[2 * PATH_MAX];
    snprintf(path, sizeof path, "%s/%s.key", dir, names[0]);
    pg_ledger_key key;
    assert_int_equal(pg_ledger_key_read(path, &key, &err), PG_OK);
    snprintf(path, sizeof path, "%s/%s.db", dir, names[0]);
    pg_ledger_options o;
    pg_ledger_options_init(&o);
    o.checker = ch;
    assert_int_equal(pg_ledger_open(&l, path, NULL, 0, &o, &err), PG_OK);
    size_t before = pg_ledger_count(l);
    assert_int_equal(
        pgi_msg_decode_result(res->payload.record.body, res->payload.record.body_len, &r, &err),
        PG_OK);
    size_t k = 0;
    while (r.awards[k].cleared_kwh == 0)
        k++;
    r.awards[k].cleared_kwh = -r.awards[k].cleared_kwh;
    uint8_t *body = NULL;
    size_t len = 0;
    assert_int_equal(pgi_msg_encode_result(&r, &body, &len, &err), PG_OK);
    pg_ledger_payload p;
    memset(&p, 0, sizeof p);
    p.kind = PG_LEDGER_RECORD;
    p.record = (pg_ledger_record){.type = PG_LEDGER_RESULT,
                                  .interval = t,
                                  .term = res->payload.record.term,
                                  .node = "",
                                  .refs = res->payload.record.refs,
                                  .n_refs = 1,
                                  .body = body,
                                  .body_len = len};
    pg_error_clear(&err);
    int rc = pg_ledger_append(l, &key, &p, NULL, &err);
    assert_int_not_equal(rc, PG_OK);
    assert_int_equal(pg_ledger_count(l), before);
    /* the real body is accepted as a second result of that gate */
    p.record.body = res->payload.record.body;
    p.record.body_len = res->payload.record.body_len;
    assert_int_equal(pg_ledger_append(l, &key, &p, NULL, &err), PG_OK);
    assert_int_equal(pg_ledger_count(l), before + 1);
    pg_ledger_close(l);
    pg_ledger_key_wipe(&key);
    free(body);
    free(r.awards);
    pg_ledger_op_free(res);
    pg_community_ledger_checker_free(ch);
    pg_community_ledger_checker_free(other);
    pg_community_free(c);
}

/* ---------------------------------------------------------------- the folder */

static void
test_folder(void **state)
{
    (void)state;
    pg_community *c = read_example(DAYS);
    const char *dir = make_ledger(c, "led-folder");
    char path[2 * PATH_MAX];
    struct stat st;
    snprintf(path, sizeof path, "%s/genesis.key", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 077, 0); /* secrets: the owner's only */
    for (size_t k = 0; k < MEMBERS; k++) {
        snprintf(path, sizeof path, "%s/%s.key", dir, names[k]);
        assert_int_equal(stat(path, &st), 0);
    }
    /* made once */
    pg_error err = {0};
    assert_int_equal(pg_community_ledger_init(c, dir, &err), PG_ESTATE);
    assert_non_null(strstr(err.msg, "exists already"));
    /* the genesis admits every member, each an operator */
    snprintf(path, sizeof path, "%s/genesis.op", dir);
    char *bytes = NULL;
    size_t len = 0;
    assert_int_equal(pg_input_read(path, 1 << 20, &bytes, &len, &err), PG_OK);
    pg_ledger_op *g = NULL;
    assert_int_equal(pg_ledger_op_decode(bytes, len, &g, &err), PG_OK);
    assert_int_equal(g->payload.kind, PG_LEDGER_GENESIS);
    assert_string_equal(g->payload.genesis.community, "lattice-demo");
    assert_int_equal(g->payload.genesis.n_members, MEMBERS);
    assert_int_equal(g->payload.genesis.n_operators, MEMBERS);
    assert_true(g->payload.genesis.app_len > 0);
    pg_ledger_op_free(g);
    free(bytes);

    pg_lattice_options lo;
    pg_community_report *r = NULL;
    /* no folder: the way forward */
    inproc_options(&lo, pgt_tmp("no-such-ledger"));
    pg_error_clear(&err);
    assert_int_equal(pg_community_run_lattice(c, NULL, 0, NULL, &lo, &r, &err), PG_ENOTFOUND);
    assert_non_null(strstr(err.msg, "plurigrid ledger init"));
    assert_null(r);
    /* a key missing */
    snprintf(path, sizeof path, "%s/home-3.key", dir);
    assert_int_equal(unlink(path), 0);
    inproc_options(&lo, dir);
    pg_error_clear(&err);
    assert_int_equal(pg_community_run_lattice(c, NULL, 0, NULL, &lo, &r, &err), PG_ENOTFOUND);
    assert_non_null(strstr(err.msg, "home-3.key"));
    assert_non_null(strstr(err.msg, "plurigrid ledger init"));
    /* another community's genesis */
    const char *other = pgt_tmp("led-other");
    {
        /* the same scenario under another name: its genesis is not this one's */
        size_t tlen = 0;
        char *text = NULL;
        assert_int_equal(pg_input_read(pgt_source_path("examples/lattice/scenario.json"), 1 << 20,
                                       &text, &tlen, &err),
                         PG_OK);
        char *at = strstr(text, "\"lattice-demo\"");
        assert_non_null(at);
        memcpy(at, "\"lattice-demx\"", 14);
        char data[PATH_MAX];
        snprintf(data, sizeof data, "%s", pgt_data_path("citylearn-2022-fontana/Building_1.csv"));
        *strrchr(data, '/') = '\0';
        pg_community_options co;
        pg_community_options_init(&co);
        co.days = 1;
        co.data_dir = data;
        pg_community *c2 = NULL;
        char base[PATH_MAX];
        snprintf(base, sizeof base, "%s", pgt_source_path("examples/lattice/scenario.json"));
        *strrchr(base, '/') = '\0';
        assert_int_equal(pg_community_parse(&c2, "other.json", text, tlen, base, &co, &err), PG_OK);
        assert_int_equal(pg_community_ledger_init(c2, other, &err), PG_OK);
        pg_community_free(c2);
        free(text);
    }
    inproc_options(&lo, other);
    pg_error_clear(&err);
    assert_int_equal(pg_community_run_lattice(c, NULL, 0, NULL, &lo, &r, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "lattice-demx"));
    pg_community_free(c);
}

/* ---------------------------------------------------------------- options, member files */

static void
test_options(void **state)
{
    (void)state;
    pg_lattice_options lo;
    pg_lattice_options_init(&lo);
    assert_null(lo.ledger_dir);
    assert_near(lo.ledger_sync_s, 5, 0);
    pg_error err = {0};
    assert_int_equal(pg_lattice_options_check(&lo, &err), PG_OK);
    const double bad[] = {0, -1, NAN, INFINITY, 1e9};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        lo.ledger_sync_s = bad[k];
        pg_error_clear(&err);
        assert_int_equal(pg_lattice_options_check(&lo, &err), PG_EINVAL);
        assert_non_null(strstr(err.msg, "ledger_sync_s"));
    }
    lo.ledger_sync_s = 0.5;
    lo.ledger_dir = "";
    assert_int_equal(pg_lattice_options_check(&lo, &err), PG_EINVAL);
    lo.ledger_dir = "led";
    assert_int_equal(pg_lattice_options_check(&lo, &err), PG_OK);
}

static void
test_member_file(void **state)
{
    (void)state;
    const char *dir = pgt_tmpdir();
    const char *path = pgt_tmp("m.json");
    pgt_write(path, "{\"format\": \"plurigrid-member/1\", \"community\": \"s.json\",\n"
                    " \"name\": \"home-1\", \"ledger\": \"led\"}\n");
    pg_community_member m;
    pg_error err = {0};
    assert_int_equal(pg_community_member_read(&m, path, &err), PG_OK);
    char want[PATH_MAX];
    snprintf(want, sizeof want, "%s/led", dir);
    assert_string_equal(m.ledger, want);
    assert_string_equal(m.lattice.ledger_dir, want);
    pg_community_member_free(&m);
    pgt_write(path, "{\"format\": \"plurigrid-member/1\", \"community\": \"s.json\",\n"
                    " \"name\": \"home-1\"}\n");
    assert_int_equal(pg_community_member_read(&m, path, &err), PG_OK);
    assert_null(m.ledger);
    assert_null(m.lattice.ledger_dir);
    pg_community_member_free(&m);
    const char *bad[] = {"\"\"", "3", "[\"a\"]"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        char text[256];
        snprintf(text, sizeof text,
                 "{\"format\": \"plurigrid-member/1\", \"community\": \"s.json\",\n"
                 " \"name\": \"home-1\",\n \"ledger\": %s}\n",
                 bad[k]);
        pgt_write(path, text);
        pg_error_clear(&err);
        assert_int_equal(pg_community_member_read(&m, path, &err), PG_EPARSE);
        assert_string_equal(err.path, "$.ledger");
        assert_int_equal(err.line, 3);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_with_ledger), cmocka_unit_test(test_run_all_with_ledger),
        cmocka_unit_test(test_dr_records),      cmocka_unit_test(test_checker),
        cmocka_unit_test(test_folder),          cmocka_unit_test(test_options),
        cmocka_unit_test(test_member_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
