/* The community's binary messages (src/community/msg.c): the market's types survive encode and
 * decode unchanged, and malformed messages (a wrong magic, version or type, cut short, with a
 * byte too many, with NaN or out-of-range fields, counts that do not fit) are refused, never
 * half-read. The lattice's types (members, acknowledgements, results, settlements, disputes, DR
 * events in the open message) are in test_msg_lattice.c. */
#include "harness.h"

#include "community/msg.h"

static void
test_round_trip(void **state)
{
    (void)state;
    pg_error err = {0};
    uint8_t *buf = NULL;
    size_t len = 0;

    pgi_msg_open o = {.term = 5,
                      .operator_ = 2,
                      .interval = 17,
                      .hours = 0.25,
                      .time_h = 4.25,
                      .hour_of_day = 23.75,
                      .market = true,
                      .horizon = 3};
    for (int i = 0; i < 3; i++) {
        o.retail[i] = 0.2 + i;
        o.feed_in[i] = -0.05 * i;
    }
    assert_int_equal(pgi_msg_encode_open(&o, &buf, &len, &err), PG_OK);
    assert_int_equal(len, 8 + 12 + 24 + 1 + 2 + 3 * 16 + 2);
    pgi_msg_open o2;
    assert_int_equal(pgi_msg_decode_open(buf, len, &o2, &err), PG_OK);
    assert_int_equal(o2.interval, 17);
    assert_int_equal(o2.term, 5);
    assert_int_equal(o2.operator_, 2);
    assert_int_equal(o2.n_events, 0);
    assert_null(o2.events);
    assert_true(o2.market);
    assert_int_equal(o2.horizon, 3);
    assert_true(o2.hours == 0.25 && o2.time_h == 4.25 && o2.hour_of_day == 23.75);
    for (int i = 0; i < 3; i++)
        assert_true(o2.retail[i] == o.retail[i] && o2.feed_in[i] == o.feed_in[i]);
    /* the header: magic, version, type, zero bytes; fields little-endian */
    assert_memory_equal(buf, "PGCM\x02\x01\x00\x00\x05\x00\x00\x00", 12);
    free(buf);

    pgi_msg_bid b = {.interval = 5, .node = 1000, .n_points = 2, .curve = {{0.1, -2.5}, {0.3, -4}}};
    assert_int_equal(pgi_msg_encode_bid(&b, &buf, &len, &err), PG_OK);
    pgi_msg_bid b2;
    assert_int_equal(pgi_msg_decode_bid(buf, len, &b2, &err), PG_OK);
    assert_int_equal(b2.node, 1000);
    assert_int_equal(b2.n_points, 2);
    assert_true(b2.curve[1].price == 0.3 && b2.curve[1].qty == -4);
    free(buf);

    /* an empty bid: the node takes part without a curve */
    b.n_points = 0;
    assert_int_equal(pgi_msg_encode_bid(&b, &buf, &len, &err), PG_OK);
    assert_int_equal(len, 8 + 9);
    assert_int_equal(pgi_msg_decode_bid(buf, len, &b2, &err), PG_OK);
    assert_int_equal(b2.n_points, 0);
    free(buf);

    pgi_msg_telemetry t = {.interval = 2, .node = 4};
    t.step.import_kwh = 1.25;
    t.step.export_kwh = 0;
    t.step.soc_kwh = 3;
    t.step.temp_c = NAN;
    assert_int_equal(pgi_msg_encode_telemetry(&t, &buf, &len, &err), PG_OK);
    assert_int_equal(len, 8 + 8 + 15 * 8);
    pgi_msg_telemetry t2;
    assert_int_equal(pgi_msg_decode_telemetry(buf, len, &t2, &err), PG_OK);
    assert_true(t2.step.import_kwh == 1.25 && t2.step.soc_kwh == 3 && isnan(t2.step.temp_c));
    free(buf);

    uint32_t targets[] = {0, 7};
    pgi_msg_dr d = {.n_targets = 2, .targets = targets};
    snprintf(d.event.id, sizeof d.event.id, "evt-42");
    d.event.modification = 3;
    d.event.start_h = 10;
    d.event.duration_h = 3;
    d.event.notice_h = 24;
    d.event.signal = PG_DR_LOAD_DISPATCH;
    d.event.n_intervals = 2;
    d.event.interval_h[0] = 1;
    d.event.interval_h[1] = 2;
    d.event.interval_value[0] = 1.5;
    d.event.interval_value[1] = 0.5;
    assert_int_equal(pgi_msg_encode_dr(&d, &buf, &len, &err), PG_OK);
    pgi_msg_dr d2;
    assert_int_equal(pgi_msg_decode_dr(buf, len, &d2, &err), PG_OK);
    assert_string_equal(d2.event.id, "evt-42");
    assert_int_equal(d2.event.modification, 3);
    assert_int_equal(d2.event.signal, PG_DR_LOAD_DISPATCH);
    assert_int_equal(d2.n_targets, 2);
    assert_int_equal(d2.targets[1], 7);
    assert_true(d2.event.interval_h[1] == 2 && d2.event.interval_value[0] == 1.5);
    free(d2.targets);
    free(buf);
    d.n_targets = PGI_MSG_ALL;
    d.targets = NULL;
    assert_int_equal(pgi_msg_encode_dr(&d, &buf, &len, &err), PG_OK);
    assert_int_equal(pgi_msg_decode_dr(buf, len, &d2, &err), PG_OK);
    assert_int_equal(d2.n_targets, PGI_MSG_ALL);
    assert_null(d2.targets);
    free(buf);

    pgi_msg_pack p = {.node = 2, .pack = 9, .capacity_kwh = 1, .power_kw = 0.5, .soc_kwh = 0.8};
    for (pgi_msg_type ty = PGI_MSG_DOCK; ty <= PGI_MSG_PACK; ty++) {
        assert_int_equal(pgi_msg_encode_pack(ty, &p, &buf, &len, &err), PG_OK);
        pgi_msg_pack p2;
        assert_int_equal(pgi_msg_decode_pack(ty, buf, len, &p2, &err), PG_OK);
        assert_int_equal(p2.pack, 9);
        assert_int_equal(p2.node, 2);
        if (ty != PGI_MSG_UNDOCK)
            assert_true(p2.soc_kwh == 0.8);
        free(buf);
    }
}

/* A bid message with n points whose price is x. */
static uint8_t *
bid_with(double x, size_t *len)
{
    pgi_msg_bid b = {.interval = 1, .node = 0, .n_points = 1, .curve = {{0.2, 1}}};
    uint8_t *buf = NULL;
    assert_int_equal(pgi_msg_encode_bid(&b, &buf, len, NULL), PG_OK);
    memcpy(buf + 8 + 4 + 4 + 1, &x, 8); /* the first point's price (little-endian machine) */
    return buf;
}

static void
test_malformed(void **state)
{
    (void)state;
    pg_error err = {0};
    uint8_t *buf;
    size_t len;
    pgi_msg_bid b;
    /* every prefix of a valid message is refused, and one byte too many */
    buf = bid_with(0.25, &len);
    assert_int_equal(pgi_msg_decode_bid(buf, len, &b, &err), PG_OK);
    for (size_t n = 0; n < len; n++) {
        pg_error_clear(&err);
        assert_int_equal(pgi_msg_decode_bid(buf, n, &b, &err), PG_EPARSE);
        assert_non_null(strstr(err.msg, "malformed"));
    }
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, buf, len);
    longer[len] = 0;
    assert_int_equal(pgi_msg_decode_bid(longer, len + 1, &b, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "after its last field"));
    free(longer);
    /* magic, version, type, reserved bytes */
    const struct {
        size_t at;
        uint8_t v;
        const char *says;
    } hdr[] = {{0, 'X', "magic"},      {4, 1, "version 1"},     {4, 3, "version 3"},
               {5, 3, "another type"}, {5, 99, "unknown type"}, {6, 1, "reserved"}};
    for (size_t i = 0; i < sizeof hdr / sizeof *hdr; i++) {
        uint8_t save = buf[hdr[i].at];
        buf[hdr[i].at] = hdr[i].v;
        pg_error_clear(&err);
        assert_int_equal(pgi_msg_decode_bid(buf, len, &b, &err), PG_EPARSE);
        assert_non_null(strstr(err.msg, hdr[i].says));
        buf[hdr[i].at] = save;
    }
    free(buf);
    /* a bid with NaN or an infinite price */
    double bads[] = {NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < 3; i++) {
        buf = bid_with(bads[i], &len);
        pg_error_clear(&err);
        assert_int_equal(pgi_msg_decode_bid(buf, len, &b, &err), PG_EPARSE);
        assert_non_null(strstr(err.msg, "not a finite number"));
        free(buf);
    }
    /* more points than a bid holds */
    buf = bid_with(0.2, &len);
    buf[16] = 9;
    assert_int_equal(pgi_msg_decode_bid(buf, len, &b, &err), PG_EPARSE);
    free(buf);
    /* telemetry with a negative energy */
    pgi_msg_telemetry t = {.interval = 0, .node = 0};
    t.step.temp_c = 20;
    assert_int_equal(pgi_msg_encode_telemetry(&t, &buf, &len, &err), PG_OK);
    double neg = -1;
    memcpy(buf + 16, &neg, 8);
    pgi_msg_telemetry t2;
    pg_error_clear(&err);
    assert_int_equal(pgi_msg_decode_telemetry(buf, len, &t2, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "import_kwh"));
    free(buf);
    /* an open message with hours 0 and a horizon of 0 */
    pgi_msg_open o = {.term = 1,
                      .operator_ = 0,
                      .interval = 0,
                      .hours = 1,
                      .horizon = 1,
                      .retail = {0.3},
                      .feed_in = {0.1}};
    assert_int_equal(pgi_msg_encode_open(&o, &buf, &len, &err), PG_OK);
    double zero = 0;
    memcpy(buf + 20, &zero, 8);
    pgi_msg_open o2;
    assert_int_equal(pgi_msg_decode_open(buf, len, &o2, &err), PG_EPARSE);
    free(buf);
    o.horizon = 0;
    assert_int_equal(pgi_msg_encode_open(&o, &buf, &len, &err), PG_EINVAL);
    /* a DR event whose intervals do not add up, and one whose target count is a lie */
    pgi_msg_dr d = {.n_targets = PGI_MSG_ALL};
    snprintf(d.event.id, sizeof d.event.id, "e");
    d.event.duration_h = 2;
    d.event.n_intervals = 1;
    d.event.interval_h[0] = 1;
    assert_int_equal(pgi_msg_encode_dr(&d, &buf, &len, &err), PG_OK);
    pgi_msg_dr d2;
    pg_error_clear(&err);
    assert_int_equal(pgi_msg_decode_dr(buf, len, &d2, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "add up"));
    free(buf);
    d.event.interval_h[0] = 2;
    assert_int_equal(pgi_msg_encode_dr(&d, &buf, &len, &err), PG_OK);
    uint32_t lie = 1000000;
    memcpy(buf + len - 4, &lie, 4);
    assert_int_equal(pgi_msg_decode_dr(buf, len, &d2, &err), PG_EPARSE);
    free(buf);
    /* a pack docked with more charge than it holds */
    pgi_msg_pack p = {.node = 0, .pack = 0, .capacity_kwh = 1, .power_kw = 1, .soc_kwh = 2};
    assert_int_equal(pgi_msg_encode_pack(PGI_MSG_DOCK, &p, &buf, &len, &err), PG_OK);
    pgi_msg_pack p2;
    assert_int_equal(pgi_msg_decode_pack(PGI_MSG_DOCK, buf, len, &p2, &err), PG_EPARSE);
    free(buf);
}

/* Random bytes behind a valid header never crash a decoder (the sanitizers watch). */
static void
test_random_bytes(void **state)
{
    (void)state;
    uint64_t x = 88172645463325252ull;
    uint8_t buf[256];
    for (int k = 0; k < 20000; k++) {
        size_t len = 8 + (size_t)(x % 200);
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[i] = (uint8_t)x;
        }
        memcpy(buf, "PGCM\x02", 5);
        buf[5] = (uint8_t)(1 + k % PGI_MSG_LAST);
        buf[6] = buf[7] = 0;
        pgi_msg_open o;
        pgi_msg_bid b;
        pgi_msg_result r;
        pgi_msg_telemetry t;
        pgi_msg_dr d;
        pgi_msg_pack p;
        pgi_msg_member m;
        pgi_msg_ack a;
        pgi_msg_settle s;
        pgi_msg_dispute ds;
        if (pgi_msg_decode_open(buf, len, &o, NULL) == PG_OK)
            pgi_msg_open_free(&o);
        (void)pgi_msg_decode_bid(buf, len, &b, NULL);
        if (pgi_msg_decode_result(buf, len, &r, NULL) == PG_OK)
            free(r.awards);
        if (pgi_msg_decode_settle(buf, len, &s, NULL) == PG_OK)
            free(s.nodes);
        (void)pgi_msg_decode_member(PGI_MSG_ANNOUNCE, buf, len, &m, NULL);
        (void)pgi_msg_decode_member(PGI_MSG_HEARTBEAT, buf, len, &m, NULL);
        (void)pgi_msg_decode_ack(buf, len, &a, NULL);
        (void)pgi_msg_decode_dispute(buf, len, &ds, NULL);
        (void)pgi_msg_decode_telemetry(buf, len, &t, NULL);
        if (pgi_msg_decode_dr(buf, len, &d, NULL) == PG_OK)
            free(d.targets);
        for (pgi_msg_type ty = PGI_MSG_DOCK; ty <= PGI_MSG_PACK; ty++)
            (void)pgi_msg_decode_pack(ty, buf, len, &p, NULL);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_random_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
