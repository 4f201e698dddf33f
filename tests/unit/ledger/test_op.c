/* Ops: the encoding byte by byte as docs/ledger.md "Ops" states it, every payload kind encoded and
 * decoded back, the id as BLAKE2b-256 of the encoding, the signature, and the parser's refusal of
 * every other encoding of an op (trailing bytes, unsorted or repeated sets, a changed length,
 * every truncation) and of payloads beyond the limits. */
#include <sodium.h>

#include "fixture.h"

#include "ledger/internal.h"

static uint8_t *
enc(uint8_t who, const pg_ledger_id *preds, size_t n, const pg_ledger_payload *p, size_t *len)
{
    pg_ledger_key k = lf_key(who);
    uint8_t *op = NULL;
    pg_error err = {0};
    int rc = pg_ledger_op_encode(&k, preds, n, p, &op, len, &err);
    if (rc)
        fail_msg("encode: %s", err.msg);
    return op;
}

static pg_ledger_op *
dec(const uint8_t *op, size_t len)
{
    pg_ledger_op *o = NULL;
    pg_error err = {0};
    int rc = pg_ledger_op_decode(op, len, &o, &err);
    if (rc)
        fail_msg("decode: %s", err.msg);
    return o;
}

/* Signs the first len - 64 bytes again with key who (a forger's canonical-looking variant). */
static void
resign(uint8_t *op, size_t len, uint8_t who)
{
    pg_ledger_key k = lf_key(who);
    crypto_sign_detached(op + len - 64, NULL, op, len - 64, k.sk);
}

static int
decode_rc(const uint8_t *op, size_t len, pg_error *err)
{
    pg_ledger_op *o = NULL;
    int rc = pg_ledger_op_decode(op, len, &o, err);
    pg_ledger_op_free(o);
    return rc;
}

static pg_ledger_id
id_n(uint8_t n)
{
    pg_ledger_id id;
    memset(id.b, n, 32);
    return id;
}

static void
test_counter_bytes(void **state)
{
    (void)state;
    pg_ledger_id pred = id_n(0xab);
    pg_ledger_payload p = {.kind = PG_LEDGER_COUNTER, .name = "energy", .delta = -2};
    size_t len;
    uint8_t *op = enc(2, &pred, 1, &p, &len);
    pg_ledger_key k = lf_key(2);
    uint8_t want[39 + 32 + 4 + 15] = {'P', 'G', 'L', 1, 5};
    memcpy(want + 5, k.pk.b, 32);
    want[37] = 1, want[38] = 0;
    memcpy(want + 39, pred.b, 32);
    want[71] = 15, want[72] = want[73] = want[74] = 0;
    want[75] = 6;
    memcpy(want + 76, "energy", 6);
    int64_t d = -2;
    uint64_t u;
    memcpy(&u, &d, 8);
    for (int i = 0; i < 8; i++)
        want[82 + i] = (uint8_t)(u >> 8 * i);
    assert_int_equal(len, sizeof want + 64);
    assert_memory_equal(op, want, sizeof want);
    assert_int_equal(crypto_sign_verify_detached(op + sizeof want, op, sizeof want, k.pk.b), 0);
    pg_ledger_op *o = dec(op, len);
    pg_ledger_id id;
    crypto_generichash(id.b, 32, op, len, NULL, 0);
    assert_memory_equal(o->id.b, id.b, 32);
    assert_int_equal(o->payload.kind, PG_LEDGER_COUNTER);
    assert_string_equal(o->payload.name, "energy");
    assert_int_equal(o->payload.delta, -2);
    assert_int_equal(o->n_preds, 1);
    assert_memory_equal(o->preds[0].b, pred.b, 32);
    assert_memory_equal(o->author.b, k.pk.b, 32);
    assert_int_equal(o->height, 0);
    pg_ledger_op_free(o);
    free(op);
}

static void
test_every_kind(void **state)
{
    (void)state;
    size_t len;
    /* The genesis: members sorted by key here, operators too. */
    uint8_t *g = lf_genesis(PG_LEDGER_ADMIT_MEMBERS, true, &len);
    pg_ledger_op *o = dec(g, len);
    assert_int_equal(o->payload.kind, PG_LEDGER_GENESIS);
    assert_string_equal(o->payload.genesis.community, "test");
    assert_int_equal(o->payload.genesis.admit, PG_LEDGER_ADMIT_MEMBERS);
    assert_int_equal(o->payload.genesis.n_members, 2);
    assert_true(
        memcmp(o->payload.genesis.members[0].key.b, o->payload.genesis.members[1].key.b, 32) < 0);
    pg_ledger_key a = lf_key(2);
    bool found = false;
    for (int i = 0; i < 2; i++)
        if (strcmp(o->payload.genesis.members[i].name, "a") == 0)
            found = memcmp(o->payload.genesis.members[i].key.b, a.pk.b, 32) == 0;
    assert_true(found);
    assert_int_equal(o->payload.genesis.n_operators, 1);
    assert_int_equal(o->payload.genesis.app_len, 5);
    assert_memory_equal(o->payload.genesis.app, "run-1", 5);
    assert_int_equal(o->n_preds, 0);
    pg_ledger_op_free(o);
    free(g);

    /* Predecessors are sorted and deduplicated by the encoder. */
    pg_ledger_id preds[3] = {id_n(9), id_n(3), id_n(9)};
    pg_ledger_payload p = {.kind = PG_LEDGER_MEMBER_ADD, .name = "c.d_e-1"};
    p.member = lf_key(7).pk;
    uint8_t *op = enc(1, preds, 3, &p, &len);
    o = dec(op, len);
    assert_int_equal(o->n_preds, 2);
    assert_memory_equal(o->preds[0].b, id_n(3).b, 32);
    assert_memory_equal(o->preds[1].b, id_n(9).b, 32);
    assert_string_equal(o->payload.name, "c.d_e-1");
    assert_memory_equal(o->payload.member.b, lf_key(7).pk.b, 32);
    pg_ledger_op_free(o);
    free(op);

    pg_ledger_id tags[2] = {id_n(5), id_n(4)};
    p = (pg_ledger_payload){.kind = PG_LEDGER_MEMBER_REMOVE, .tags = tags, .n_tags = 2};
    p.member = lf_key(7).pk;
    op = enc(1, preds, 1, &p, &len);
    o = dec(op, len);
    assert_int_equal(o->payload.n_tags, 2);
    assert_memory_equal(o->payload.tags[0].b, id_n(4).b, 32);
    pg_ledger_op_free(o);
    free(op);

    uint8_t big[16 << 10];
    memset(big, 7, sizeof big);
    p = (pg_ledger_payload){
        .kind = PG_LEDGER_REGISTER, .name = "telemetry", .value = big, .value_len = sizeof big};
    op = enc(2, preds, 1, &p, &len);
    o = dec(op, len);
    assert_int_equal(o->payload.value_len, sizeof big);
    assert_memory_equal(o->payload.value, big, sizeof big);
    pg_ledger_op_free(o);
    free(op);

    p = lf_record(PG_LEDGER_GATE, 17, NULL, tags, 2, "gate body");
    p.record.term = 3;
    op = enc(1, preds, 1, &p, &len);
    o = dec(op, len);
    assert_int_equal(o->payload.record.type, PG_LEDGER_GATE);
    assert_int_equal(o->payload.record.interval, 17);
    assert_int_equal(o->payload.record.term, 3);
    assert_string_equal(o->payload.record.node, "");
    assert_int_equal(o->payload.record.n_refs, 2);
    assert_memory_equal(o->payload.record.refs[0].b, id_n(4).b, 32);
    assert_int_equal(o->payload.record.body_len, 9);
    pg_ledger_op_free(o);
    free(op);

    p = lf_record(PG_LEDGER_BID, 4294967295u, "node-1", NULL, 0, "");
    op = enc(2, preds, 1, &p, &len);
    o = dec(op, len);
    assert_string_equal(o->payload.record.node, "node-1");
    assert_int_equal(o->payload.record.interval, 4294967295u);
    assert_int_equal(o->payload.record.body_len, 0);
    pg_ledger_op_free(o);
    free(op);
}

static void
test_signature_and_forms(void **state)
{
    (void)state;
    pg_ledger_id preds[2] = {id_n(1), id_n(2)};
    pg_ledger_payload p = {.kind = PG_LEDGER_COUNTER, .name = "c", .delta = 1};
    size_t len;
    uint8_t *op = enc(2, preds, 2, &p, &len);
    pg_error err = {0};
    assert_int_equal(decode_rc(op, len, &err), PG_OK);

    uint8_t *x = malloc(len + 1);
    /* A changed byte anywhere: the signature no longer holds (or the form breaks). */
    for (size_t i = 0; i < len; i++) {
        memcpy(x, op, len);
        x[i] ^= 0x01;
        int rc = decode_rc(x, len, &err);
        assert_true(rc == PG_EAUTH || rc == PG_EPARSE);
    }
    memcpy(x, op, len);
    x[len - 1] ^= 0x80;
    assert_int_equal(decode_rc(x, len, &err), PG_EAUTH);
    assert_non_null(strstr(err.msg, "signature"));

    /* Every truncation, and one byte more (signed again, so only the form is wrong). */
    for (size_t n = 0; n < len; n++)
        assert_int_equal(decode_rc(op, n, &err), PG_EPARSE);
    memcpy(x, op, len - 64);
    x[len - 64] = 0;
    resign(x, len + 1, 2);
    assert_int_equal(decode_rc(x, len + 1, &err), PG_EPARSE);

    /* Predecessors out of order or repeated, signed again: refused. */
    memcpy(x, op, len);
    memcpy(x + 39, preds[1].b, 32);
    memcpy(x + 71, preds[0].b, 32);
    resign(x, len, 2);
    assert_int_equal(decode_rc(x, len, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "ascending"));
    memcpy(x + 39, preds[0].b, 32);
    memcpy(x + 71, preds[0].b, 32);
    resign(x, len, 2);
    assert_int_equal(decode_rc(x, len, &err), PG_EPARSE);

    /* The version and the magic. */
    memcpy(x, op, len);
    x[3] = 2;
    resign(x, len, 2);
    assert_int_equal(decode_rc(x, len, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "version"));
    memcpy(x, op, len);
    x[0] = 'X';
    resign(x, len, 2);
    assert_int_equal(decode_rc(x, len, &err), PG_EPARSE);

    /* A payload length that disagrees. */
    memcpy(x, op, len);
    x[39 + 64] += 1;
    resign(x, len, 2);
    assert_int_equal(decode_rc(x, len, &err), PG_EPARSE);
    free(x);
    free(op);

    /* An op other than the genesis without predecessors, a genesis with one. */
    assert_int_equal(pg_ledger_op_encode(&(pg_ledger_key){0}, NULL, 0, &p, &op, &len, &err),
                     PG_EINVAL);
    pg_ledger_key k = lf_key(2);
    assert_int_equal(pg_ledger_op_encode(&k, NULL, 0, &p, &op, &len, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "no predecessor"));
    pg_ledger_payload g = {.kind = PG_LEDGER_GENESIS};
    g.genesis.community = "x";
    assert_int_equal(pg_ledger_op_encode(&k, preds, 1, &g, &op, &len, &err), PG_EINVAL);
    /* A key whose public part is another key's signs nothing. */
    k.pk = lf_key(3).pk;
    assert_int_equal(pg_ledger_op_encode(&k, preds, 1, &p, &op, &len, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "do not match"));
}

static void
test_limits(void **state)
{
    (void)state;
    pg_ledger_key k = lf_key(2);
    pg_ledger_id pred = id_n(1);
    uint8_t *op = NULL;
    size_t len;
    pg_error err = {0};
    const char *bad_names[] = {"",
                               "has space",
                               "a/b",
                               "ü",
                               "0123456789012345678901234567890123456789012345678901234567890123",
                               NULL};
    for (int i = 0; i < 6; i++) {
        pg_ledger_payload p = {.kind = PG_LEDGER_REGISTER, .name = bad_names[i]};
        assert_int_equal(pg_ledger_op_encode(&k, &pred, 1, &p, &op, &len, &err), PG_EINVAL);
    }
    pg_ledger_payload ok = {.kind = PG_LEDGER_REGISTER,
                            .name =
                                "012345678901234567890123456789012345678901234567890123456789012"};
    assert_int_equal(pg_ledger_op_encode(&k, &pred, 1, &ok, &op, &len, &err), PG_OK);
    free(op);

    static uint8_t value[(16 << 10) + 1];
    pg_ledger_payload p = {
        .kind = PG_LEDGER_REGISTER, .name = "v", .value = value, .value_len = sizeof value};
    assert_int_equal(pg_ledger_op_encode(&k, &pred, 1, &p, &op, &len, &err), PG_ELIMIT);
    p = (pg_ledger_payload){
        .kind = PG_LEDGER_COUNTER, .name = "c", .delta = ((int64_t)1 << 53) + 1};
    assert_int_equal(pg_ledger_op_encode(&k, &pred, 1, &p, &op, &len, &err), PG_EINVAL);
    p.delta = -((int64_t)1 << 53);
    assert_int_equal(pg_ledger_op_encode(&k, &pred, 1, &p, &op, &len, &err), PG_OK);
    free(op);
    p.delta = INT64_MIN;
    assert_int_equal(pg_ledger_op_encode(&k, &pred, 1, &p, &op, &len, &err), PG_EINVAL);

    pg_ledger_id *many = calloc(PG_LEDGER_MAX_PREDS + 1, sizeof *many);
    for (size_t i = 0; i <= PG_LEDGER_MAX_PREDS; i++)
        memcpy(many[i].b, &i, sizeof i);
    p = (pg_ledger_payload){.kind = PG_LEDGER_COUNTER, .name = "c", .delta = 1};
    assert_int_equal(pg_ledger_op_encode(&k, many, PG_LEDGER_MAX_PREDS + 1, &p, &op, &len, &err),
                     PG_ELIMIT);
    assert_int_equal(pg_ledger_op_encode(&k, many, PG_LEDGER_MAX_PREDS, &p, &op, &len, &err),
                     PG_OK);
    pg_ledger_op *o = dec(op, len);
    assert_int_equal(o->n_preds, PG_LEDGER_MAX_PREDS);
    pg_ledger_op_free(o);
    free(op);
    free(many);

    /* Record forms: a bid names its node and nothing else; results and settlements one op. */
    pg_ledger_payload r = lf_record(PG_LEDGER_BID, 1, NULL, NULL, 0, NULL);
    assert_int_equal(pg_ledger_op_encode(&k, &pred, 1, &r, &op, &len, &err), PG_EINVAL);
    r = lf_record(PG_LEDGER_GATE, 1, "a", NULL, 0, NULL);
    assert_int_equal(pg_ledger_op_encode(&k, &pred, 1, &r, &op, &len, &err), PG_EINVAL);
    r = lf_record(PG_LEDGER_RESULT, 1, NULL, NULL, 0, NULL);
    assert_int_equal(pg_ledger_op_encode(&k, &pred, 1, &r, &op, &len, &err), PG_EINVAL);
    r = lf_record(PG_LEDGER_BID, 1, "a", &pred, 1, NULL);
    assert_int_equal(pg_ledger_op_encode(&k, &pred, 1, &r, &op, &len, &err), PG_EINVAL);
    r = lf_record(7, 1, NULL, NULL, 0, NULL);
    assert_int_equal(pg_ledger_op_encode(&k, &pred, 1, &r, &op, &len, &err), PG_EINVAL);
    pg_ledger_payload rm = {.kind = PG_LEDGER_MEMBER_REMOVE};
    assert_int_equal(pg_ledger_op_encode(&k, &pred, 1, &rm, &op, &len, &err), PG_EINVAL);
    pg_ledger_payload bad = {.kind = 0};
    assert_int_equal(pg_ledger_op_encode(&k, &pred, 1, &bad, &op, &len, &err), PG_EINVAL);

    /* Two genesis members with one name; an admission rule that is not 0 or 1. */
    pg_ledger_member ms[] = {{"a", lf_key(2).pk}, {"a", lf_key(3).pk}};
    pg_ledger_payload g = {.kind = PG_LEDGER_GENESIS};
    g.genesis.community = "c";
    g.genesis.members = ms;
    g.genesis.n_members = 2;
    assert_int_equal(pg_ledger_op_encode(&k, NULL, 0, &g, &op, &len, &err), PG_EINVAL);
    g.genesis.n_members = 1;
    g.genesis.admit = 2;
    assert_int_equal(pg_ledger_op_encode(&k, NULL, 0, &g, &op, &len, &err), PG_EINVAL);
    /* Too long to be an op at all. */
    assert_int_equal(decode_rc(value, PG_LEDGER_MAX_OP + 1, &err), PG_EPARSE);
}

static void
test_hex_and_parse(void **state)
{
    (void)state;
    uint8_t b[32];
    for (int i = 0; i < 32; i++)
        b[i] = (uint8_t)(i * 9);
    char hex[65];
    pg_ledger_hex(b, 32, hex);
    assert_int_equal(strlen(hex), 64);
    assert_memory_equal(hex, "000912", 6);
    pg_ledger_id id;
    assert_int_equal(pg_ledger_id_parse(hex, &id, NULL), PG_OK);
    assert_memory_equal(id.b, b, 32);
    hex[0] = 'A';
    pg_ledger_pubkey pk;
    assert_int_equal(pg_ledger_pubkey_parse(hex, &pk, NULL), PG_OK);
    assert_int_equal(pk.b[0], 0xa0);
    pg_error err = {0};
    hex[5] = 'g';
    assert_int_equal(pg_ledger_id_parse(hex, &id, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "position 6"));
    assert_int_equal(pg_ledger_id_parse("abc", &id, &err), PG_EPARSE);
    assert_int_equal(pg_ledger_id_parse(NULL, &id, &err), PG_EPARSE);
    pg_ledger_id x = id_n(1), y = id_n(2);
    assert_true(pg_ledger_id_cmp(&x, &y) < 0);
    assert_true(pg_ledger_id_cmp(&y, &x) > 0);
    assert_int_equal(pg_ledger_id_cmp(&x, &x), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_bytes),       cmocka_unit_test(test_every_kind),
        cmocka_unit_test(test_signature_and_forms), cmocka_unit_test(test_limits),
        cmocka_unit_test(test_hex_and_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
