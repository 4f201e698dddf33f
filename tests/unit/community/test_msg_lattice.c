/* The lattice's messages (src/community/msg.c, version 2): announce and heartbeat, the open
 * message with its DR events, acknowledgements, results and settlements in parts, disputes. Each
 * survives encode and decode unchanged; each is refused when cut short anywhere, with a byte too
 * many, with another version (1, 3) or another type in its header; and the fields are checked:
 * counts that do not fit, parts out of range, records out of order, numbers that are not finite,
 * names that are not printable. */
#include "harness.h"

#include "community/msg.h"

/* ---------------------------------------------------------------- decoders as one shape */

static int
dec_announce(const void *d, size_t n, pg_error *err)
{
    pgi_msg_member m;
    return pgi_msg_decode_member(PGI_MSG_ANNOUNCE, d, n, &m, err);
}

static int
dec_heartbeat(const void *d, size_t n, pg_error *err)
{
    pgi_msg_member m;
    return pgi_msg_decode_member(PGI_MSG_HEARTBEAT, d, n, &m, err);
}

static int
dec_open(const void *d, size_t n, pg_error *err)
{
    pgi_msg_open o;
    int rc = pgi_msg_decode_open(d, n, &o, err);
    if (!rc)
        pgi_msg_open_free(&o);
    return rc;
}

static int
dec_ack(const void *d, size_t n, pg_error *err)
{
    pgi_msg_ack a;
    return pgi_msg_decode_ack(d, n, &a, err);
}

static int
dec_result(const void *d, size_t n, pg_error *err)
{
    pgi_msg_result r;
    int rc = pgi_msg_decode_result(d, n, &r, err);
    if (!rc)
        free(r.awards);
    return rc;
}

static int
dec_settle(const void *d, size_t n, pg_error *err)
{
    pgi_msg_settle s;
    int rc = pgi_msg_decode_settle(d, n, &s, err);
    if (!rc)
        free(s.nodes);
    return rc;
}

static int
dec_dispute(const void *d, size_t n, pg_error *err)
{
    pgi_msg_dispute x;
    return pgi_msg_decode_dispute(d, n, &x, err);
}

/* Every prefix refused, a byte too many refused, another version or type refused. */
static void
check_strict(uint8_t *buf, size_t len, int (*dec)(const void *, size_t, pg_error *))
{
    pg_error err = {0};
    assert_int_equal(dec(buf, len, &err), PG_OK);
    for (size_t n = 0; n < len; n++) {
        pg_error_clear(&err);
        assert_int_equal(dec(buf, n, &err), PG_EPARSE);
        assert_non_null(strstr(err.msg, "malformed"));
    }
    uint8_t *longer = malloc(len + 1);
    assert_non_null(longer);
    memcpy(longer, buf, len);
    longer[len] = 0;
    assert_int_equal(dec(longer, len + 1, &err), PG_EPARSE);
    free(longer);
    for (uint8_t v = 1; v <= 3; v += 2) {
        buf[4] = v;
        pg_error_clear(&err);
        assert_int_equal(dec(buf, len, &err), PG_EPARSE);
        assert_non_null(strstr(err.msg, "version"));
    }
    buf[4] = PGI_MSG_VERSION;
    uint8_t type = buf[5];
    buf[5] = type == PGI_MSG_BID ? PGI_MSG_OPEN : PGI_MSG_BID;
    assert_int_equal(dec(buf, len, &err), PG_EPARSE);
    buf[5] = 0;
    assert_int_equal(dec(buf, len, &err), PG_EPARSE);
    buf[5] = PGI_MSG_LAST + 1;
    assert_int_equal(dec(buf, len, &err), PG_EPARSE);
    buf[5] = type;
    assert_int_equal(dec(buf, len, &err), PG_OK);
}

/* ---------------------------------------------------------------- members */

static void
test_member(void **state)
{
    (void)state;
    pg_error err = {0};
    uint8_t *buf;
    size_t len;
    pgi_msg_member m = {.node = 16,
                        .incarnation = 0x0102030405060708ull,
                        .run_id = 77,
                        .term = 3,
                        .operator_ = 4,
                        .done = 10,
                        .last = 12};
    snprintf(m.name, sizeof m.name, "Building_17");
    for (pgi_msg_type ty = PGI_MSG_ANNOUNCE; ty <= PGI_MSG_HEARTBEAT; ty++) {
        assert_int_equal(pgi_msg_encode_member(ty, &m, &buf, &len, &err), PG_OK);
        assert_int_equal(len, 8 + 4 + 16 + 16 + 1 + 11);
        assert_int_equal(buf[5], ty);
        pgi_msg_member m2;
        assert_int_equal(pgi_msg_decode_member(ty, buf, len, &m2, &err), PG_OK);
        assert_true(m2.node == m.node && m2.incarnation == m.incarnation && m2.run_id == m.run_id &&
                    m2.term == m.term && m2.operator_ == m.operator_ && m2.done == m.done &&
                    m2.last == m.last);
        assert_string_equal(m2.name, m.name);
        check_strict(buf, len, ty == PGI_MSG_ANNOUNCE ? dec_announce : dec_heartbeat);
        /* an announce is not a heartbeat */
        assert_int_equal(
            pgi_msg_decode_member(ty == PGI_MSG_ANNOUNCE ? PGI_MSG_HEARTBEAT : PGI_MSG_ANNOUNCE,
                                  buf, len, &m2, &err),
            PG_EPARSE);
        free(buf);
    }
    /* a space in the name, a term without an operator, more done than last */
    assert_int_equal(pgi_msg_encode_member(PGI_MSG_ANNOUNCE, &m, &buf, &len, &err), PG_OK);
    pgi_msg_member m2;
    buf[len - 3] = ' ';
    assert_int_equal(pgi_msg_decode_member(PGI_MSG_ANNOUNCE, buf, len, &m2, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "name"));
    free(buf);
    m.operator_ = PGI_MSG_NONE;
    assert_int_equal(pgi_msg_encode_member(PGI_MSG_ANNOUNCE, &m, &buf, &len, &err), PG_OK);
    assert_int_equal(pgi_msg_decode_member(PGI_MSG_ANNOUNCE, buf, len, &m2, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "term"));
    free(buf);
    m.operator_ = 4;
    m.done = 13;
    assert_int_equal(pgi_msg_encode_member(PGI_MSG_ANNOUNCE, &m, &buf, &len, &err), PG_OK);
    assert_int_equal(pgi_msg_decode_member(PGI_MSG_ANNOUNCE, buf, len, &m2, &err), PG_EPARSE);
    free(buf);
    /* names the encoding cannot hold, and a type that is not a member's */
    m.done = 0;
    m.name[0] = '\0';
    assert_int_equal(pgi_msg_encode_member(PGI_MSG_ANNOUNCE, &m, &buf, &len, &err), PG_EINVAL);
    snprintf(m.name, sizeof m.name, "x");
    assert_int_equal(pgi_msg_encode_member(PGI_MSG_BID, &m, &buf, &len, &err), PG_EINVAL);
}

/* ---------------------------------------------------------------- open with events */

static void
test_open_events(void **state)
{
    (void)state;
    pg_error err = {0};
    uint8_t *buf;
    size_t len;
    uint32_t targets[] = {1, 5, 9};
    pgi_msg_dr ev[2];
    memset(ev, 0, sizeof ev);
    snprintf(ev[0].event.id, sizeof ev[0].event.id, "peak-1");
    ev[0].event.modification = 2;
    ev[0].event.start_h = 17;
    ev[0].event.duration_h = 2;
    ev[0].event.notice_h = 24;
    ev[0].event.signal = PG_DR_PRICE;
    ev[0].event.n_intervals = 2;
    ev[0].event.interval_h[0] = ev[0].event.interval_h[1] = 1;
    ev[0].event.interval_value[0] = 0.5;
    ev[0].event.interval_value[1] = 0.7;
    ev[0].n_targets = 3;
    ev[0].targets = targets;
    ev[1] = ev[0];
    snprintf(ev[1].event.id, sizeof ev[1].event.id, "all");
    ev[1].event.cancelled = true;
    ev[1].n_targets = PGI_MSG_ALL;
    ev[1].targets = NULL;
    pgi_msg_open o = {.term = 2,
                      .operator_ = 3,
                      .interval = 40,
                      .hours = 1,
                      .time_h = 40,
                      .hour_of_day = 16,
                      .market = true,
                      .horizon = 2,
                      .retail = {0.3, 0.4},
                      .feed_in = {0.1, 0.1},
                      .n_events = 2,
                      .events = ev};
    assert_int_equal(pgi_msg_encode_open(&o, &buf, &len, &err), PG_OK);
    pgi_msg_open o2;
    assert_int_equal(pgi_msg_decode_open(buf, len, &o2, &err), PG_OK);
    assert_int_equal(o2.n_events, 2);
    assert_string_equal(o2.events[0].event.id, "peak-1");
    assert_int_equal(o2.events[0].n_targets, 3);
    assert_int_equal(o2.events[0].targets[2], 9);
    assert_true(o2.events[0].event.interval_value[1] == 0.7);
    assert_int_equal(o2.events[1].n_targets, PGI_MSG_ALL);
    assert_true(o2.events[1].event.cancelled);
    assert_null(o2.events[1].targets);
    assert_int_equal(o2.term, 2);
    assert_int_equal(o2.operator_, 3);
    pgi_msg_open_free(&o2);
    check_strict(buf, len, dec_open);
    /* the event count lies (more than the bytes left can hold, and more than the limit) */
    size_t at = 8 + 12 + 24 + 1 + 2 + 2 * 16;
    buf[at] = 0xff;
    buf[at + 1] = 0x7f;
    assert_int_equal(dec_open(buf, len, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "count"));
    buf[at] = 3;
    buf[at + 1] = 0;
    assert_int_equal(dec_open(buf, len, &err), PG_EPARSE);
    free(buf);
    /* term 0 and no operator are refused */
    o.n_events = 0;
    o.term = 0;
    assert_int_equal(pgi_msg_encode_open(&o, &buf, &len, &err), PG_OK);
    assert_int_equal(dec_open(buf, len, &err), PG_EPARSE);
    free(buf);
    o.term = 1;
    o.operator_ = PGI_MSG_NONE;
    assert_int_equal(pgi_msg_encode_open(&o, &buf, &len, &err), PG_OK);
    assert_int_equal(dec_open(buf, len, &err), PG_EPARSE);
    free(buf);
    /* too many events to encode */
    o.n_events = PGI_MSG_MAX_EVENTS + 1;
    assert_int_equal(pgi_msg_encode_open(&o, &buf, &len, &err), PG_EINVAL);
}

/* ---------------------------------------------------------------- ack, result, dispute */

static void
test_ack_result_dispute(void **state)
{
    (void)state;
    pg_error err = {0};
    uint8_t *buf;
    size_t len;
    pgi_msg_bid b = {.interval = 3, .node = 4, .n_points = 1, .curve = {{0.2, 1.5}}};
    uint64_t dg = pgi_msg_bid_digest(&b);
    /* the digest is of the bid's fields: any change changes it */
    pgi_msg_bid b2 = b;
    b2.curve[0].qty = 1.5000000000000002;
    assert_true(pgi_msg_bid_digest(&b2) != dg);
    b2 = b;
    b2.interval = 4;
    assert_true(pgi_msg_bid_digest(&b2) != dg);

    pgi_msg_ack k = {.term = 7, .operator_ = 1, .interval = 3, .node = 4, .digest = dg};
    assert_int_equal(pgi_msg_encode_ack(&k, &buf, &len, &err), PG_OK);
    assert_int_equal(len, 8 + 16 + 8);
    pgi_msg_ack k2;
    assert_int_equal(pgi_msg_decode_ack(buf, len, &k2, &err), PG_OK);
    assert_memory_equal(&k, &k2, sizeof k);
    check_strict(buf, len, dec_ack);
    free(buf);

    pgi_msg_award aw[3] = {{.node = 0, .digest = 1, .cleared_kwh = 1.25, .price = 0.2},
                           {.node = 4, .digest = dg, .cleared_kwh = -1.25, .price = 0.2},
                           {.node = 9, .digest = 3, .cleared_kwh = 0, .price = 0}};
    pgi_msg_result r = {.term = 7,
                        .operator_ = 1,
                        .interval = 3,
                        .n_total = 10,
                        .first = 4,
                        .count = 3,
                        .awards = aw};
    assert_int_equal(pgi_msg_encode_result(&r, &buf, &len, &err), PG_OK);
    assert_int_equal(len, 8 + 24 + 3 * 28);
    pgi_msg_result r2;
    assert_int_equal(pgi_msg_decode_result(buf, len, &r2, &err), PG_OK);
    assert_int_equal(r2.count, 3);
    assert_int_equal(r2.first, 4);
    for (int i = 0; i < 3; i++)
        assert_true(r2.awards[i].node == aw[i].node && r2.awards[i].digest == aw[i].digest &&
                    r2.awards[i].cleared_kwh == aw[i].cleared_kwh &&
                    r2.awards[i].price == aw[i].price);
    free(r2.awards);
    check_strict(buf, len, dec_result);
    /* a record count that does not fit, and nodes out of order */
    buf[8 + 20] = 2;
    assert_int_equal(dec_result(buf, len, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "does not fit"));
    free(buf);
    aw[2].node = 4;
    assert_int_equal(pgi_msg_encode_result(&r, &buf, &len, &err), PG_OK);
    assert_int_equal(dec_result(buf, len, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "order"));
    free(buf);
    aw[2].node = 9;
    aw[2].price = NAN;
    assert_int_equal(pgi_msg_encode_result(&r, &buf, &len, &err), PG_OK);
    assert_int_equal(dec_result(buf, len, &err), PG_EPARSE);
    free(buf);
    aw[2].price = 0;
    /* parts out of range are not encoded (and not decoded: first + count beyond the whole) */
    r.first = 8;
    assert_int_equal(pgi_msg_encode_result(&r, &buf, &len, &err), PG_EINVAL);
    r.first = 0;
    r.count = PGI_MSG_MAX_RECORDS + 1;
    r.n_total = PGI_MSG_MAX_RECORDS + 1;
    assert_int_equal(pgi_msg_encode_result(&r, &buf, &len, &err), PG_EINVAL);
    /* an empty result (nobody bid) is one message of no records */
    r.n_total = r.count = 0;
    assert_int_equal(pgi_msg_encode_result(&r, &buf, &len, &err), PG_OK);
    assert_int_equal(pgi_msg_decode_result(buf, len, &r2, &err), PG_OK);
    assert_int_equal(r2.count, 0);
    assert_null(r2.awards);
    free(buf);

    pgi_msg_dispute d = {.term = 7,
                         .operator_ = 1,
                         .interval = 3,
                         .reporter = 2,
                         .node = 4,
                         .published_kwh = 1.25,
                         .computed_kwh = NAN};
    assert_int_equal(pgi_msg_encode_dispute(&d, &buf, &len, &err), PG_OK);
    pgi_msg_dispute d2;
    assert_int_equal(pgi_msg_decode_dispute(buf, len, &d2, &err), PG_OK);
    assert_true(d2.published_kwh == 1.25 && isnan(d2.computed_kwh) && d2.reporter == 2);
    check_strict(buf, len, dec_dispute);
    free(buf);
    d.computed_kwh = INFINITY;
    assert_int_equal(pgi_msg_encode_dispute(&d, &buf, &len, &err), PG_OK);
    assert_int_equal(dec_dispute(buf, len, &err), PG_EPARSE);
    free(buf);
}

/* ---------------------------------------------------------------- settle */

static void
test_settle(void **state)
{
    (void)state;
    pg_error err = {0};
    uint8_t *buf;
    size_t len;
    pgi_msg_settle_node x[2];
    memset(x, 0, sizeof x);
    x[0].node = 2;
    x[0].metered = true;
    x[0].step.import_kwh = 1.5;
    x[0].step.load_kwh = 2;
    x[0].step.temp_c = NAN;
    x[0].s.bought = 1;
    x[0].s.paid = 0.2;
    x[0].s.grid_import = 0.5;
    x[0].s.grid_paid = 0.15;
    x[0].s.bill = 0.35;
    x[1].node = 3;
    x[1].step.export_kwh = 1;
    x[1].step.temp_c = 21.5;
    x[1].s.sold = 1;
    x[1].s.received = 0.2;
    x[1].s.bill = -0.2;
    pgi_msg_settle s = {.term = 1,
                        .operator_ = 0,
                        .interval = 5,
                        .price = 0.2,
                        .volume_kwh = 1,
                        .ac = 1,
                        .vm_min = 0.97,
                        .vm_max = 1.01,
                        .loading_max = 0.4,
                        .n_total = 2,
                        .first = 0,
                        .count = 2,
                        .nodes = x};
    assert_int_equal(pgi_msg_encode_settle(&s, &buf, &len, &err), PG_OK);
    pgi_msg_settle s2;
    assert_int_equal(pgi_msg_decode_settle(buf, len, &s2, &err), PG_OK);
    assert_int_equal(s2.count, 2);
    assert_true(s2.vm_min == 0.97 && s2.loading_max == 0.4 && s2.price == 0.2);
    assert_true(s2.nodes[0].metered && !s2.nodes[1].metered);
    assert_true(isnan(s2.nodes[0].step.temp_c) && s2.nodes[1].step.temp_c == 21.5);
    assert_memory_equal(&s2.nodes[0].s, &x[0].s, sizeof x[0].s);
    assert_memory_equal(&s2.nodes[1].step, &x[1].step, sizeof x[1].step);
    free(s2.nodes);
    check_strict(buf, len, dec_settle);
    free(buf);
    /* a price of NaN is "no trade"; AC figures must be finite when the check converged */
    s.price = NAN;
    s.vm_min = NAN;
    assert_int_equal(pgi_msg_encode_settle(&s, &buf, &len, &err), PG_OK);
    assert_int_equal(dec_settle(buf, len, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "AC"));
    free(buf);
    s.ac = 2;
    assert_int_equal(pgi_msg_encode_settle(&s, &buf, &len, &err), PG_OK);
    assert_int_equal(dec_settle(buf, len, &err), PG_OK);
    free(buf);
    /* a settlement's number not finite, an energy negative, nodes out of order */
    x[1].s.paid = INFINITY;
    assert_int_equal(pgi_msg_encode_settle(&s, &buf, &len, &err), PG_OK);
    assert_int_equal(dec_settle(buf, len, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "paid"));
    free(buf);
    x[1].s.paid = 0;
    x[1].s.grid_export = -1;
    assert_int_equal(pgi_msg_encode_settle(&s, &buf, &len, &err), PG_OK);
    assert_int_equal(dec_settle(buf, len, &err), PG_EPARSE);
    free(buf);
    x[1].s.grid_export = 0;
    x[1].step.load_kwh = -2;
    assert_int_equal(pgi_msg_encode_settle(&s, &buf, &len, &err), PG_OK);
    assert_int_equal(dec_settle(buf, len, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "load_kwh"));
    free(buf);
    x[1].step.load_kwh = 0;
    x[1].node = 2;
    assert_int_equal(pgi_msg_encode_settle(&s, &buf, &len, &err), PG_OK);
    assert_int_equal(dec_settle(buf, len, &err), PG_EPARSE);
    free(buf);
    x[1].node = 3;
    /* the metered flag is 0 or 1 */
    assert_int_equal(pgi_msg_encode_settle(&s, &buf, &len, &err), PG_OK);
    buf[8 + 12 + 16 + 1 + 24 + 12 + 4] = 2;
    assert_int_equal(dec_settle(buf, len, &err), PG_EPARSE);
    free(buf);
    /* a huge declared count is refused before anything is allocated */
    assert_int_equal(pgi_msg_encode_settle(&s, &buf, &len, &err), PG_OK);
    size_t at = 8 + 12 + 16 + 1 + 24;
    buf[at] = buf[at + 4 + 4] = 0xff;
    buf[at + 1] = buf[at + 4 + 5] = 0xff;
    assert_int_equal(dec_settle(buf, len, &err), PG_EPARSE);
    free(buf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_member),
        cmocka_unit_test(test_open_events),
        cmocka_unit_test(test_ack_result_dispute),
        cmocka_unit_test(test_settle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
