/* pg_ledger_show, pg_ledger_export and pg_ledger_verify_report_text (src/ledger/describe.c) on
 * ledgers made here: many heads (the text lists the first ones and says how many more, the JSON
 * all, in the ledger's order), registers of any bytes (text when printable, hex otherwise, long
 * ones cut in the text), negative counters, the latest five of many gate closures; the verify
 * report with and without problems; and every allocation of each of them failed in turn: an
 * error (out of memory), never a crash, a leak or a partial text. */
#include "harness.h"

#include <jansson.h>
#include <limits.h>

#include "plurigrid/ledger.h"

static pg_ledger_key
key(uint8_t n)
{
    uint8_t seed[32];
    pg_ledger_key k;
    memset(seed, n, sizeof seed);
    assert_int_equal(pg_ledger_key_from_seed(&k, seed, NULL), PG_OK);
    return k;
}

/* Community "desc": genesis key 1 (the operator), members a (key 2) and b (key 3). */
static uint8_t *
genesis(size_t *len)
{
    pg_ledger_key g = key(1), a = key(2), b = key(3);
    pg_ledger_member ms[] = {{"a", a.pk}, {"b", b.pk}};
    pg_ledger_payload p = {.kind = PG_LEDGER_GENESIS};
    p.genesis.community = "desc";
    p.genesis.members = ms;
    p.genesis.n_members = 2;
    p.genesis.operators = &g.pk;
    p.genesis.n_operators = 1;
    uint8_t *op = NULL;
    pg_error err = {0};
    if (pg_ledger_op_encode(&g, NULL, 0, &p, &op, len, &err) != PG_OK)
        fail_msg("genesis: %s", err.msg);
    return op;
}

static pg_ledger *
open_new(const char *name)
{
    size_t len = 0;
    uint8_t *g = genesis(&len);
    pg_ledger_options o;
    pg_ledger_options_init(&o);
    o.create = true;
    pg_ledger *l = NULL;
    pg_error err = {0};
    if (pg_ledger_open(&l, pgt_tmp(name), g, len, &o, &err) != PG_OK)
        fail_msg("open %s: %s", name, err.msg);
    free(g);
    return l;
}

static pg_ledger_id
append(pg_ledger *l, uint8_t who, const pg_ledger_payload *p)
{
    pg_ledger_key k = key(who);
    pg_ledger_id id;
    pg_error err = {0};
    if (pg_ledger_append(l, &k, p, &id, &err) != PG_OK)
        fail_msg("append: %s", err.msg);
    return id;
}

static char *
show(pg_ledger *l, bool json)
{
    char *text = NULL;
    pg_error err = {0};
    if (pg_ledger_show(l, json, &text, &err) != PG_OK)
        fail_msg("show: %s", err.msg);
    return text;
}

static json_t *
parse(const char *text)
{
    json_error_t je;
    json_t *v = json_loads(text, 0, &je);
    if (!v)
        fail_msg("not JSON: %s (line %d): %.300s", je.text, je.line, text);
    return v;
}

/* Ten copies each append a register on the genesis; one copy ingests the others' ops: ten heads. */
static void
test_many_heads(void **state)
{
    (void)state;
    pg_ledger *main_ = open_new("main.db");
    for (int i = 0; i < 10; i++) {
        char name[32], reg[16];
        snprintf(name, sizeof name, "copy%d.db", i);
        snprintf(reg, sizeof reg, "r%d", i);
        pg_ledger *c = open_new(name);
        pg_ledger_payload p = {.kind = PG_LEDGER_REGISTER, .name = reg};
        p.value = reg;
        p.value_len = strlen(reg);
        pg_ledger_id id = append(c, (uint8_t)(2 + i % 2), &p);
        uint8_t *op = NULL;
        size_t len = 0;
        pg_error err = {0};
        assert_int_equal(pg_ledger_get(c, &id, &op, &len, &err), PG_OK);
        const void *ops[] = {op};
        pg_ledger_ingest_stats st;
        assert_int_equal(pg_ledger_ingest(main_, ops, &len, 1, &st, &err), PG_OK);
        assert_int_equal(st.delivered, 1);
        free(op);
        pg_ledger_close(c);
    }
    pg_ledger_id heads[10];
    size_t nh = 0;
    assert_int_equal(pg_ledger_heads(main_, heads, 10, &nh, NULL), PG_OK);
    assert_int_equal(nh, 10);
    char *text = show(main_, false);
    char first[65], last[65];
    pg_ledger_hex(heads[0].b, 32, first);
    pg_ledger_hex(heads[9].b, 32, last);
    assert_non_null(strstr(text, "heads         10: "));
    assert_non_null(strstr(text, first));
    assert_null(strstr(text, last)); /* the ninth and tenth are not listed */
    assert_non_null(strstr(text, "and 2 more (--json lists them all)"));
    assert_non_null(strstr(text, "Registers (10)"));
    assert_non_null(strstr(text, "\"r7\" (2 bytes)"));
    free(text);
    text = show(main_, true);
    json_t *j = parse(text);
    json_t *h = json_object_get(j, "heads");
    assert_int_equal(json_array_size(h), 10);
    for (size_t i = 0; i < 10; i++) {
        char want[65];
        pg_ledger_hex(heads[i].b, 32, want);
        assert_string_equal(json_string_value(json_array_get(h, i)), want);
    }
    assert_int_equal(json_integer_value(json_object_get(j, "ops")), 11);
    assert_int_equal(json_array_size(json_object_get(j, "registers")), 10);
    json_decref(j);
    free(text);
    pg_ledger_close(main_);
    pgt_tmpdir_cleanup();
}

/* A ledger with a binary register, a long one, a negative counter and seven intervals of bids,
 * gates, results and settlements. */
static pg_ledger *
busy_ledger(void)
{
    pg_ledger *l = open_new("busy.db");
    uint8_t bin[40];
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (uint8_t)(i * 37);
    pg_ledger_payload p = {.kind = PG_LEDGER_REGISTER, .name = "binary"};
    p.value = bin;
    p.value_len = sizeof bin;
    append(l, 2, &p);
    p.name = "long";
    p.value = "a printable value much longer than thirty-two bytes";
    p.value_len = strlen(p.value);
    append(l, 3, &p);
    pg_ledger_payload c = {.kind = PG_LEDGER_COUNTER, .name = "balance", .delta = -5};
    append(l, 2, &c);
    c.delta = 2;
    append(l, 3, &c);
    for (uint32_t t = 0; t < 7; t++) {
        pg_ledger_payload b = {.kind = PG_LEDGER_RECORD};
        b.record.type = PG_LEDGER_BID;
        b.record.interval = t;
        b.record.node = "a";
        b.record.body = "bid";
        b.record.body_len = 3;
        pg_ledger_id bid = append(l, 2, &b);
        pg_ledger_payload g = {.kind = PG_LEDGER_RECORD};
        g.record.type = PG_LEDGER_GATE;
        g.record.interval = t;
        g.record.term = 1;
        g.record.refs = &bid;
        g.record.n_refs = 1;
        pg_ledger_id gate = append(l, 1, &g);
        g.record.type = PG_LEDGER_RESULT;
        g.record.refs = &gate;
        g.record.body = "result";
        g.record.body_len = 6;
        pg_ledger_id res = append(l, 1, &g);
        g.record.type = PG_LEDGER_SETTLE;
        g.record.refs = &res;
        append(l, 1, &g);
    }
    return l;
}

static void
test_busy(void **state)
{
    (void)state;
    pg_ledger *l = busy_ledger();
    char *text = show(l, false);
    char binhex[81];
    uint8_t bin[40];
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (uint8_t)(i * 37);
    pg_ledger_hex(bin, 32, binhex); /* the text shows the first 32 bytes */
    const char *want[] = {"Counters (1)",
                          "balance              -3",
                          "Registers (2)",
                          binhex,
                          "...\" (51 bytes)",
                          "... (40 bytes)",
                          "Gate closures (7, the latest 5)",
                          "interval 6 ",
                          "Clearing results (7, the latest 5)",
                          "Settlements (7, the latest 5)",
                          "7 bid, 7 gate, 7 result, 7 settle, 0 dr",
                          NULL};
    for (const char *const *w = want; *w; w++)
        if (!strstr(text, *w))
            fail_msg("show does not show '%s':\n%s", *w, text);
    assert_null(strstr(text, "interval 1 ")); /* not among the latest five */
    free(text);
    text = show(l, true);
    json_t *j = parse(text);
    json_t *gates = json_object_get(json_object_get(j, "latest"), "gate");
    assert_int_equal(json_array_size(gates), 5);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(json_integer_value(json_object_get(json_array_get(gates, i), "interval")),
                         (json_int_t)i + 2);
    json_t *c0 = json_array_get(json_object_get(j, "counters"), 0);
    assert_int_equal(json_integer_value(json_object_get(c0, "value")), -3);
    json_decref(j);
    free(text);

    pg_error err = {0};
    assert_int_equal(pg_ledger_export(l, false, &text, &err), PG_OK);
    assert_non_null(strstr(text, "counter      balance -5"));
    assert_non_null(strstr(text, "counter      balance +2"));
    assert_non_null(strstr(text, "record       gate, interval 6, term 1"));
    assert_non_null(strstr(text, "record       bid, interval 0, node a"));
    assert_non_null(strstr(text, "(the genesis key)"));
    assert_non_null(strstr(text, "Ledger of community desc: 33 ops in delivery order"));
    free(text);
    assert_int_equal(pg_ledger_export(l, true, &text, &err), PG_OK);
    j = parse(text);
    json_t *ops = json_object_get(j, "ops");
    assert_int_equal(json_array_size(ops), 33);
    json_t *cp = json_object_get(json_array_get(ops, 3), "payload");
    assert_int_equal(json_integer_value(json_object_get(cp, "delta")), -5);
    json_t *rp = json_object_get(json_array_get(ops, 1), "payload");
    pg_ledger_hex(bin, sizeof bin, binhex);
    assert_string_equal(json_string_value(json_object_get(rp, "value")), binhex);
    json_decref(j);
    free(text);
    pg_ledger_close(l);
    pgt_tmpdir_cleanup();
}

static pg_ledger_verify_report
report(bool problems)
{
    pg_ledger_verify_report r;
    memset(&r, 0, sizeof r);
    r.ops = 12;
    r.results_unchecked = 3;
    memset(r.heads_digest.b, 0xab, 32);
    memset(r.state_digest.b, 0xcd, 32);
    if (problems) {
        r.n_problems = 102;
        r.problems = calloc(PG_LEDGER_MAX_PROBLEMS, sizeof *r.problems);
        assert_non_null(r.problems);
        for (size_t i = 0; i < PG_LEDGER_MAX_PROBLEMS; i++) {
            r.problems[i].seq = i + 2;
            snprintf(r.problems[i].id, sizeof r.problems[i].id, "%064zx", i);
            snprintf(r.problems[i].what, sizeof r.problems[i].what,
                     "the signature does not verify \"%zu\"", i);
        }
        r.problems[0].seq = 0;
        r.problems[0].id[0] = '\0';
        snprintf(r.problems[0].what, sizeof r.problems[0].what, "the heads table is wrong");
    }
    return r;
}

static void
test_verify_report(void **state)
{
    (void)state;
    pg_error err = {0};
    char *text = NULL;
    pg_ledger_verify_report r = report(false);
    assert_int_equal(pg_ledger_verify_report_text(&r, false, &text, &err), PG_OK);
    assert_non_null(strstr(text, "The ledger verifies."));
    assert_non_null(strstr(text, "results not recomputed 3"));
    free(text);
    assert_int_equal(pg_ledger_verify_report_text(&r, true, &text, &err), PG_OK);
    json_t *j = parse(text);
    assert_true(json_is_true(json_object_get(j, "verifies")));
    assert_int_equal(json_integer_value(json_object_get(j, "results_unchecked")), 3);
    json_decref(j);
    free(text);

    r = report(true);
    assert_int_equal(pg_ledger_verify_report_text(&r, false, &text, &err), PG_OK);
    assert_non_null(strstr(text, "The ledger does not verify: 102 problems."));
    assert_non_null(strstr(text, "    the database: the heads table is wrong\n"));
    assert_non_null(strstr(text, "    op 3 (id 0000000000000000000000000000000000000000000000000000"
                                 "000000000001): the signature does not verify \"1\"\n"));
    assert_non_null(strstr(text, "and 2 more problems not listed"));
    free(text);
    assert_int_equal(pg_ledger_verify_report_text(&r, true, &text, &err), PG_OK);
    j = parse(text);
    assert_true(json_is_false(json_object_get(j, "verifies")));
    assert_int_equal(json_integer_value(json_object_get(j, "problems_found")), 102);
    json_t *probs = json_object_get(j, "problems");
    assert_int_equal(json_array_size(probs), PG_LEDGER_MAX_PROBLEMS);
    assert_true(json_is_null(json_object_get(json_array_get(probs, 0), "seq")));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(probs, 1), "seq")), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(probs, 1), "what")),
                        "the signature does not verify \"1\"");
    json_decref(j);
    free(text);
    free(r.problems);
}

/* Fails each allocation of fn in turn: an error each time (or the same text, when the failed
 * allocation was one the call could do without), never a crash or a leak (ASan). */
static void
each_allocation(const char *what, int (*fn)(void *ud, char **text, pg_error *err), void *ud)
{
    char *want = NULL;
    pg_error err = {0};
    pgt_alloc_fail_after(LONG_MAX);
    assert_int_equal(fn(ud, &want, &err), PG_OK);
    long n = pgt_alloc_count();
    pgt_alloc_fail_after(-1);
    assert_true(n > 0);
    for (long i = 0; i < n; i++) {
        char *text = NULL;
        pg_error_clear(&err);
        pgt_alloc_fail_after(i);
        int rc = fn(ud, &text, &err);
        pgt_alloc_fail_after(-1);
        if (rc == PG_OK) {
            if (!text || strcmp(text, want) != 0)
                fail_msg("%s with allocation %ld failed: PG_OK and another text:\n%s\n----- "
                         "instead of\n%s",
                         what, i, text ? text : "(none)", want);
        } else if (text || err.code != rc || !err.msg[0]) {
            fail_msg("%s with allocation %ld failed: %d, text %p, error '%s'", what, i, rc,
                     (void *)text, err.msg);
        }
        free(text);
    }
    free(want);
}

static int
show_text(void *l, char **t, pg_error *e)
{
    return pg_ledger_show(l, false, t, e);
}
static int
show_json(void *l, char **t, pg_error *e)
{
    return pg_ledger_show(l, true, t, e);
}
static int
export_text(void *l, char **t, pg_error *e)
{
    return pg_ledger_export(l, false, t, e);
}
static int
export_json(void *l, char **t, pg_error *e)
{
    return pg_ledger_export(l, true, t, e);
}
static int
report_text(void *r, char **t, pg_error *e)
{
    return pg_ledger_verify_report_text(r, false, t, e);
}
static int
report_json(void *r, char **t, pg_error *e)
{
    return pg_ledger_verify_report_text(r, true, t, e);
}

static void
test_out_of_memory(void **state)
{
    (void)state;
    pg_ledger *l = busy_ledger();
    each_allocation("show (text)", show_text, l);
    each_allocation("show (JSON)", show_json, l);
    each_allocation("export (text)", export_text, l);
    each_allocation("export (JSON)", export_json, l);
    pg_ledger_close(l);
    pg_ledger_verify_report r = report(true);
    each_allocation("the verify report (text)", report_text, &r);
    each_allocation("the verify report (JSON)", report_json, &r);
    free(r.problems);
    pgt_tmpdir_cleanup();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_heads),
        cmocka_unit_test(test_busy),
        cmocka_unit_test(test_verify_report),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
