/* The binary encoding of a community's messages (msg.h, docs/lattice.md): little-endian
 * integers and IEEE 754 doubles after an 8-byte header, written and read byte by byte so the
 * encoding is the same on every machine. Every decoder checks the whole message before it writes
 * its result: a malformed message is refused with the reason, never half-read. */
#include "community/msg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- writing */

typedef struct wr {
    uint8_t *p;
    size_t len, cap;
    bool failed;
} wr;

static void
put(wr *w, const void *src, size_t n)
{
    if (w->failed)
        return;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        while (cap < w->len + n)
            cap *= 2;
        uint8_t *q = realloc(w->p, cap);
        if (!q) {
            w->failed = true;
            return;
        }
        w->p = q;
        w->cap = cap;
    }
    memcpy(w->p + w->len, src, n);
    w->len += n;
}

static void
put_u8(wr *w, uint8_t v)
{
    put(w, &v, 1);
}

static void
put_u16(wr *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(w, b, 2);
}

static void
put_u32(wr *w, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put(w, b, 4);
}

static void
put_u64(wr *w, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put(w, b, 8);
}

static void
put_f64(wr *w, double x)
{
    uint64_t v;
    memcpy(&v, &x, 8);
    put_u64(w, v);
}

static void
header(wr *w, pgi_msg_type t)
{
    put(w, PGI_MSG_MAGIC, 4);
    put_u8(w, PGI_MSG_VERSION);
    put_u8(w, (uint8_t)t);
    put_u16(w, 0);
}

static int
finish(wr *w, uint8_t **out, size_t *len, pg_error *err)
{
    if (w->failed) {
        free(w->p);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    *out = w->p;
    *len = w->len;
    return PG_OK;
}

/* ---------------------------------------------------------------- reading */

typedef struct rd {
    const uint8_t *p;
    size_t len, at;
    bool short_;
} rd;

static const uint8_t *
take(rd *r, size_t n)
{
    if (r->short_ || r->len - r->at < n) {
        r->short_ = true;
        return NULL;
    }
    const uint8_t *q = r->p + r->at;
    r->at += n;
    return q;
}

static uint8_t
get_u8(rd *r)
{
    const uint8_t *q = take(r, 1);
    return q ? q[0] : 0;
}

static uint16_t
get_u16(rd *r)
{
    const uint8_t *q = take(r, 2);
    return q ? (uint16_t)(q[0] | (q[1] << 8)) : 0;
}

static uint32_t
get_u32(rd *r)
{
    const uint8_t *q = take(r, 4);
    uint32_t v = 0;
    if (q)
        for (int i = 3; i >= 0; i--)
            v = (v << 8) | q[i];
    return v;
}

static uint64_t
get_u64(rd *r)
{
    const uint8_t *q = take(r, 8);
    uint64_t v = 0;
    if (q)
        for (int i = 7; i >= 0; i--)
            v = (v << 8) | q[i];
    return v;
}

static double
get_f64(rd *r)
{
    const uint8_t *q = take(r, 8);
    uint64_t v = 0;
    double x = 0;
    if (q)
        for (int i = 7; i >= 0; i--)
            v = (v << 8) | q[i];
    memcpy(&x, &v, 8);
    return x;
}

static int
bad(pg_error *err, const char *what, const char *why)
{
    return pg_error_set(err, PG_EPARSE, "malformed %s message: %s", what, why);
}

static int
open_reader(rd *r, const void *data, size_t len, pgi_msg_type want, const char *what, pg_error *err)
{
    pgi_msg_type t = PGI_MSG_OPEN;
    int rc = pgi_msg_type_of(data, len, &t, err);
    if (rc)
        return rc;
    if (t != want)
        return bad(err, what, "it is a message of another type");
    r->p = data;
    r->len = len;
    r->at = PGI_MSG_HEADER;
    r->short_ = false;
    return PG_OK;
}

/* The reader consumed exactly the message. */
static int
close_reader(const rd *r, const char *what, pg_error *err)
{
    if (r->short_)
        return bad(err, what, "it is shorter than its fields");
    if (r->at != r->len)
        return bad(err, what, "it has bytes after its last field");
    return PG_OK;
}

int
pgi_msg_type_of(const void *data, size_t len, pgi_msg_type *type, pg_error *err)
{
    const uint8_t *p = data;
    if (!data || len < PGI_MSG_HEADER)
        return pg_error_set(err, PG_EPARSE, "malformed message: shorter than its header");
    if (memcmp(p, PGI_MSG_MAGIC, 4) != 0)
        return pg_error_set(err, PG_EPARSE, "malformed message: not a community message (magic)");
    if (p[4] != PGI_MSG_VERSION)
        return pg_error_set(err, PG_EPARSE, "malformed message: version %u (this reads version %d)",
                            p[4], PGI_MSG_VERSION);
    if (p[5] < PGI_MSG_OPEN || p[5] > PGI_MSG_LAST)
        return pg_error_set(err, PG_EPARSE, "malformed message: unknown type %u", p[5]);
    if (p[6] || p[7])
        return pg_error_set(err, PG_EPARSE, "malformed message: reserved header bytes not zero");
    *type = (pgi_msg_type)p[5];
    return PG_OK;
}

/* ---------------------------------------------------------------- digests */

uint64_t
pgi_msg_fnv(uint64_t h, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* ---------------------------------------------------------------- members */

int
pgi_msg_encode_member(pgi_msg_type type, const pgi_msg_member *m, uint8_t **out, size_t *len,
                      pg_error *err)
{
    size_t nl = strnlen(m->name, sizeof m->name);
    if (type != PGI_MSG_ANNOUNCE && type != PGI_MSG_HEARTBEAT)
        return pg_error_set(err, PG_EINVAL, "not a member message type");
    if (nl == 0 || nl > PGI_MSG_MAX_NAME)
        return pg_error_set(err, PG_EINVAL, "a member's name is 1 to %d bytes", PGI_MSG_MAX_NAME);
    wr w = {0};
    header(&w, type);
    put_u32(&w, m->node);
    put_u64(&w, m->incarnation);
    put_u64(&w, m->run_id);
    put_u32(&w, m->term);
    put_u32(&w, m->operator_);
    put_u32(&w, m->done);
    put_u32(&w, m->last);
    put_u8(&w, (uint8_t)nl);
    put(&w, m->name, nl);
    return finish(&w, out, len, err);
}

int
pgi_msg_decode_member(pgi_msg_type type, const void *data, size_t len, pgi_msg_member *m,
                      pg_error *err)
{
    const char *what = type == PGI_MSG_ANNOUNCE ? "announce" : "heartbeat";
    if (type != PGI_MSG_ANNOUNCE && type != PGI_MSG_HEARTBEAT)
        return pg_error_set(err, PG_EINVAL, "not a member message type");
    rd r = {0};
    int rc = open_reader(&r, data, len, type, what, err);
    if (rc)
        return rc;
    pgi_msg_member o;
    memset(&o, 0, sizeof o);
    o.node = get_u32(&r);
    o.incarnation = get_u64(&r);
    o.run_id = get_u64(&r);
    o.term = get_u32(&r);
    o.operator_ = get_u32(&r);
    o.done = get_u32(&r);
    o.last = get_u32(&r);
    uint8_t nl = get_u8(&r);
    const uint8_t *name = take(&r, nl);
    if (!name || nl == 0)
        return bad(err, what, "the name is empty or cut short");
    for (size_t i = 0; i < nl; i++)
        if (name[i] <= 0x20 || name[i] >= 0x7f)
            return bad(err, what, "the name holds a space or a byte that is not printable ASCII");
    memcpy(o.name, name, nl);
    o.name[nl] = '\0';
    if ((rc = close_reader(&r, what, err)))
        return rc;
    if ((o.term == 0) != (o.operator_ == PGI_MSG_NONE))
        return bad(err, what, "a term without an operator, or an operator without a term");
    if (o.done > o.last)
        return bad(err, what, "more intervals recorded from the first than recorded at all");
    *m = o;
    return PG_OK;
}

/* ---------------------------------------------------------------- demand response */

static int
check_event(const pg_dr_event *e, pg_error *err)
{
    size_t idlen = strnlen(e->id, sizeof e->id);
    if (idlen == 0 || idlen >= sizeof e->id || e->n_intervals < 1 ||
        e->n_intervals > PG_DR_MAX_INTERVALS)
        return pg_error_set(err, PG_EINVAL, "a DR event message cannot hold this event");
    return PG_OK;
}

static void
put_event(wr *w, const pgi_msg_dr *m)
{
    const pg_dr_event *e = &m->event;
    size_t idlen = strnlen(e->id, sizeof e->id);
    put_u8(w, (uint8_t)idlen);
    put(w, e->id, idlen);
    put_u32(w, e->modification);
    put_f64(w, e->start_h);
    put_f64(w, e->duration_h);
    put_f64(w, e->notice_h);
    put_u8(w, (uint8_t)e->signal);
    put_u8(w, e->cancelled ? 1 : 0);
    put_u16(w, (uint16_t)e->n_intervals);
    for (size_t i = 0; i < e->n_intervals; i++) {
        put_f64(w, e->interval_h[i]);
        put_f64(w, e->interval_value[i]);
    }
    put_u32(w, m->n_targets);
    if (m->n_targets != PGI_MSG_ALL)
        for (uint32_t i = 0; i < m->n_targets; i++)
            put_u32(w, m->targets[i]);
}

int
pgi_msg_encode_dr(const pgi_msg_dr *m, uint8_t **out, size_t *len, pg_error *err)
{
    int rc = check_event(&m->event, err);
    if (rc)
        return rc;
    wr w = {0};
    header(&w, PGI_MSG_DR_EVENT);
    put_event(&w, m);
    return finish(&w, out, len, err);
}

/* Reads one event (what names the message in errors); d->targets malloc'd on success. */
static int
get_event(rd *r, pgi_msg_dr *out, const char *what, pg_error *err)
{
    pgi_msg_dr d;
    memset(&d, 0, sizeof d);
    pg_dr_event *e = &d.event;
    uint8_t idlen = get_u8(r);
    const uint8_t *id = take(r, idlen);
    if (!id || idlen == 0 || idlen >= sizeof e->id)
        return bad(err, what, "the event ID is empty, too long or cut short");
    for (size_t i = 0; i < idlen; i++)
        if (id[i] < 0x20 || id[i] == 0x7f)
            return bad(err, what, "the event ID holds a control character");
    memcpy(e->id, id, idlen);
    e->id[idlen] = '\0';
    e->modification = get_u32(r);
    e->start_h = get_f64(r);
    e->duration_h = get_f64(r);
    e->notice_h = get_f64(r);
    uint8_t sig = get_u8(r), canc = get_u8(r);
    uint16_t n = get_u16(r);
    if (r->short_)
        return bad(err, what, "it is shorter than its fields");
    if (!(isfinite(e->start_h) && e->start_h >= 0) ||
        !(isfinite(e->duration_h) && e->duration_h > 0) ||
        !(isfinite(e->notice_h) && e->notice_h >= 0))
        return bad(err, what, "start, duration or notice is not a valid time");
    if (sig > PG_DR_LOAD_DISPATCH)
        return bad(err, what, "unknown signal type");
    if (canc > 1)
        return bad(err, what, "the cancelled flag must be 0 or 1");
    if (n < 1 || n > PG_DR_MAX_INTERVALS)
        return bad(err, what, "the signal must have 1 to 96 intervals");
    e->signal = (pg_dr_signal)sig;
    e->cancelled = canc == 1;
    e->n_intervals = n;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        e->interval_h[i] = get_f64(r);
        e->interval_value[i] = get_f64(r);
        if (!r->short_ && (!(isfinite(e->interval_h[i]) && e->interval_h[i] > 0) ||
                           !isfinite(e->interval_value[i])))
            return bad(err, what, "an interval's duration or value is not valid");
        sum += e->interval_h[i];
    }
    if (!r->short_ && fabs(sum - e->duration_h) > 1e-6 * (1 + e->duration_h))
        return bad(err, what, "the intervals do not add up to the duration");
    d.n_targets = get_u32(r);
    if (r->short_)
        return bad(err, what, "it is shorter than its fields");
    if (d.n_targets != PGI_MSG_ALL) {
        if (d.n_targets == 0 || d.n_targets > (r->len - r->at) / 4)
            return bad(err, what, "the target count does not fit the message");
        d.targets = malloc(d.n_targets * sizeof *d.targets);
        if (!d.targets)
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        for (uint32_t i = 0; i < d.n_targets; i++)
            d.targets[i] = get_u32(r);
    }
    *out = d;
    return PG_OK;
}

int
pgi_msg_decode_dr(const void *data, size_t len, pgi_msg_dr *m, pg_error *err)
{
    rd r = {0};
    int rc = open_reader(&r, data, len, PGI_MSG_DR_EVENT, "DR event", err);
    if (rc)
        return rc;
    pgi_msg_dr d;
    if ((rc = get_event(&r, &d, "DR event", err)))
        return rc;
    if ((rc = close_reader(&r, "DR event", err))) {
        free(d.targets);
        return rc;
    }
    *m = d;
    return PG_OK;
}

/* ---------------------------------------------------------------- open */

int
pgi_msg_encode_open(const pgi_msg_open *m, uint8_t **out, size_t *len, pg_error *err)
{
    if (m->horizon < 1 || m->horizon > PGI_MSG_MAX_HORIZON)
        return pg_error_set(err, PG_EINVAL, "an open message holds 1 to %d intervals of prices",
                            PGI_MSG_MAX_HORIZON);
    if (m->n_events > PGI_MSG_MAX_EVENTS)
        return pg_error_set(err, PG_EINVAL, "an open message holds at most %d DR events",
                            PGI_MSG_MAX_EVENTS);
    for (size_t k = 0; k < m->n_events; k++) {
        int rc = check_event(&m->events[k].event, err);
        if (rc)
            return rc;
    }
    wr w = {0};
    header(&w, PGI_MSG_OPEN);
    put_u32(&w, m->term);
    put_u32(&w, m->operator_);
    put_u32(&w, m->interval);
    put_f64(&w, m->hours);
    put_f64(&w, m->time_h);
    put_f64(&w, m->hour_of_day);
    put_u8(&w, m->market ? 1 : 0);
    put_u16(&w, m->horizon);
    for (size_t i = 0; i < m->horizon; i++) {
        put_f64(&w, m->retail[i]);
        put_f64(&w, m->feed_in[i]);
    }
    put_u16(&w, m->n_events);
    for (size_t k = 0; k < m->n_events; k++)
        put_event(&w, &m->events[k]);
    return finish(&w, out, len, err);
}

/* A price: finite, or +inf retail (no import) / -inf feed-in (no export) off-grid. */
static bool
price_ok(double x, bool retail)
{
    return isfinite(x) || (retail ? x == INFINITY : x == -INFINITY);
}

void
pgi_msg_open_free(pgi_msg_open *m)
{
    if (!m)
        return;
    for (size_t k = 0; m->events && k < m->n_events; k++)
        free(m->events[k].targets);
    free(m->events);
    m->events = NULL;
    m->n_events = 0;
}

int
pgi_msg_decode_open(const void *data, size_t len, pgi_msg_open *m, pg_error *err)
{
    rd r = {0};
    int rc = open_reader(&r, data, len, PGI_MSG_OPEN, "open", err);
    if (rc)
        return rc;
    pgi_msg_open o;
    memset(&o, 0, sizeof o);
    o.term = get_u32(&r);
    o.operator_ = get_u32(&r);
    o.interval = get_u32(&r);
    o.hours = get_f64(&r);
    o.time_h = get_f64(&r);
    o.hour_of_day = get_f64(&r);
    uint8_t mk = get_u8(&r);
    o.horizon = get_u16(&r);
    if (r.short_)
        return bad(err, "open", "it is shorter than its fields");
    if (o.term == 0)
        return bad(err, "open", "the operator's term must be 1 or more");
    if (o.operator_ == PGI_MSG_NONE)
        return bad(err, "open", "no operator named");
    if (!(o.hours > 0 && o.hours <= 24))
        return bad(err, "open", "hours must be more than 0 and at most 24");
    if (!(isfinite(o.time_h) && o.time_h >= 0))
        return bad(err, "open", "time_h must be a finite number >= 0");
    if (!(o.hour_of_day >= 0 && o.hour_of_day < 24))
        return bad(err, "open", "hour_of_day must be from 0 to less than 24");
    if (mk > 1)
        return bad(err, "open", "the market flag must be 0 or 1");
    if (o.horizon < 1 || o.horizon > PGI_MSG_MAX_HORIZON)
        return bad(err, "open", "the horizon must be 1 to 192 intervals");
    o.market = mk == 1;
    for (size_t i = 0; i < o.horizon; i++) {
        o.retail[i] = get_f64(&r);
        o.feed_in[i] = get_f64(&r);
        if (!r.short_ && (!price_ok(o.retail[i], true) || !price_ok(o.feed_in[i], false)))
            return bad(err, "open", "a price is not a finite number");
    }
    uint16_t ne = get_u16(&r);
    if (r.short_)
        return bad(err, "open", "it is shorter than its fields");
    /* an event takes at least 50 bytes: a count the rest cannot hold is refused before any
     * allocation */
    if (ne > PGI_MSG_MAX_EVENTS || ne > (r.len - r.at) / 50)
        return bad(err, "open", "the DR event count does not fit the message");
    if (ne && !(o.events = calloc(ne, sizeof *o.events)))
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    for (size_t k = 0; k < ne; k++) {
        if ((rc = get_event(&r, &o.events[k], "open", err)))
            goto fail;
        o.n_events++;
    }
    if ((rc = close_reader(&r, "open", err)))
        goto fail;
    *m = o;
    return PG_OK;
fail:
    pgi_msg_open_free(&o);
    return rc;
}

/* ---------------------------------------------------------------- bid */

static void
put_bid_fields(wr *w, const pgi_msg_bid *m)
{
    put_u32(w, m->interval);
    put_u32(w, m->node);
    put_u8(w, m->n_points);
    for (size_t i = 0; i < m->n_points; i++) {
        put_f64(w, m->curve[i].price);
        put_f64(w, m->curve[i].qty);
    }
}

int
pgi_msg_encode_bid(const pgi_msg_bid *m, uint8_t **out, size_t *len, pg_error *err)
{
    if (m->n_points > PG_NODE_MAX_POINTS)
        return pg_error_set(err, PG_EINVAL, "a bid holds at most %d points", PG_NODE_MAX_POINTS);
    wr w = {0};
    header(&w, PGI_MSG_BID);
    put_bid_fields(&w, m);
    return finish(&w, out, len, err);
}

uint64_t
pgi_msg_bid_digest(const pgi_msg_bid *m)
{
    /* the encoded fields, on the stack: at most 9 + PG_NODE_MAX_POINTS * 16 bytes */
    uint8_t buf[16 + PG_NODE_MAX_POINTS * 16];
    size_t n = 0, np = m->n_points > PG_NODE_MAX_POINTS ? PG_NODE_MAX_POINTS : m->n_points;
    for (int i = 0; i < 4; i++)
        buf[n++] = (uint8_t)(m->interval >> (8 * i));
    for (int i = 0; i < 4; i++)
        buf[n++] = (uint8_t)(m->node >> (8 * i));
    buf[n++] = (uint8_t)np;
    for (size_t k = 0; k < np; k++) {
        double x[2] = {m->curve[k].price, m->curve[k].qty};
        for (int j = 0; j < 2; j++) {
            uint64_t v;
            memcpy(&v, &x[j], 8);
            for (int i = 0; i < 8; i++)
                buf[n++] = (uint8_t)(v >> (8 * i));
        }
    }
    return pgi_msg_fnv(PGI_FNV_OFFSET, buf, n);
}

int
pgi_msg_decode_bid(const void *data, size_t len, pgi_msg_bid *m, pg_error *err)
{
    rd r = {0};
    int rc = open_reader(&r, data, len, PGI_MSG_BID, "bid", err);
    if (rc)
        return rc;
    pgi_msg_bid b;
    memset(&b, 0, sizeof b);
    b.interval = get_u32(&r);
    b.node = get_u32(&r);
    b.n_points = get_u8(&r);
    if (r.short_)
        return bad(err, "bid", "it is shorter than its fields");
    if (b.n_points > PG_NODE_MAX_POINTS)
        return bad(err, "bid", "more than 16 points");
    for (size_t i = 0; i < b.n_points; i++) {
        b.curve[i].price = get_f64(&r);
        b.curve[i].qty = get_f64(&r);
        if (!r.short_ && !(isfinite(b.curve[i].price) && isfinite(b.curve[i].qty)))
            return bad(err, "bid", "a point's price or quantity is not a finite number");
    }
    if ((rc = close_reader(&r, "bid", err)))
        return rc;
    *m = b;
    return PG_OK;
}

/* ---------------------------------------------------------------- ack */

int
pgi_msg_encode_ack(const pgi_msg_ack *m, uint8_t **out, size_t *len, pg_error *err)
{
    wr w = {0};
    header(&w, PGI_MSG_ACK);
    put_u32(&w, m->term);
    put_u32(&w, m->operator_);
    put_u32(&w, m->interval);
    put_u32(&w, m->node);
    put_u64(&w, m->digest);
    return finish(&w, out, len, err);
}

int
pgi_msg_decode_ack(const void *data, size_t len, pgi_msg_ack *m, pg_error *err)
{
    rd r = {0};
    int rc = open_reader(&r, data, len, PGI_MSG_ACK, "ack", err);
    if (rc)
        return rc;
    pgi_msg_ack a;
    a.term = get_u32(&r);
    a.operator_ = get_u32(&r);
    a.interval = get_u32(&r);
    a.node = get_u32(&r);
    a.digest = get_u64(&r);
    if ((rc = close_reader(&r, "ack", err)))
        return rc;
    if (a.term == 0 || a.operator_ == PGI_MSG_NONE)
        return bad(err, "ack", "no operator's term named");
    *m = a;
    return PG_OK;
}

/* ---------------------------------------------------------------- result */

/* The part a chunked message holds: [first, first + count) of n_total, at most
 * PGI_MSG_MAX_RECORDS, count 0 only for an empty whole. */
static bool
part_ok(uint32_t n_total, uint32_t first, uint32_t count)
{
    if (count > PGI_MSG_MAX_RECORDS || first > n_total || count > n_total - first)
        return false;
    return count > 0 || (n_total == 0 && first == 0);
}

int
pgi_msg_encode_result(const pgi_msg_result *m, uint8_t **out, size_t *len, pg_error *err)
{
    if (!part_ok(m->n_total, m->first, m->count))
        return pg_error_set(err, PG_EINVAL, "a result message holds 1 to %d of its records",
                            PGI_MSG_MAX_RECORDS);
    wr w = {0};
    header(&w, PGI_MSG_RESULT);
    put_u32(&w, m->term);
    put_u32(&w, m->operator_);
    put_u32(&w, m->interval);
    put_u32(&w, m->n_total);
    put_u32(&w, m->first);
    put_u32(&w, m->count);
    for (size_t i = 0; i < m->count; i++) {
        const pgi_msg_award *a = &m->awards[i];
        put_u32(&w, a->node);
        put_u64(&w, a->digest);
        put_f64(&w, a->cleared_kwh);
        put_f64(&w, a->price);
    }
    return finish(&w, out, len, err);
}

int
pgi_msg_decode_result(const void *data, size_t len, pgi_msg_result *m, pg_error *err)
{
    rd r = {0};
    int rc = open_reader(&r, data, len, PGI_MSG_RESULT, "result", err);
    if (rc)
        return rc;
    pgi_msg_result o;
    memset(&o, 0, sizeof o);
    o.term = get_u32(&r);
    o.operator_ = get_u32(&r);
    o.interval = get_u32(&r);
    o.n_total = get_u32(&r);
    o.first = get_u32(&r);
    o.count = get_u32(&r);
    if (r.short_)
        return bad(err, "result", "it is shorter than its fields");
    if (o.term == 0 || o.operator_ == PGI_MSG_NONE)
        return bad(err, "result", "no operator's term named");
    if (!part_ok(o.n_total, o.first, o.count))
        return bad(err, "result", "its part of the records is out of range");
    if ((size_t)o.count * 28 != r.len - r.at)
        return bad(err, "result", "the record count does not fit the message");
    if (o.count && !(o.awards = malloc(o.count * sizeof *o.awards)))
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    for (size_t i = 0; i < o.count; i++) {
        pgi_msg_award *a = &o.awards[i];
        a->node = get_u32(&r);
        a->digest = get_u64(&r);
        a->cleared_kwh = get_f64(&r);
        a->price = get_f64(&r);
        if (!isfinite(a->cleared_kwh) || !isfinite(a->price)) {
            free(o.awards);
            return bad(err, "result", "an award's quantity or price is not a finite number");
        }
        if (i > 0 && a->node <= o.awards[i - 1].node) {
            free(o.awards);
            return bad(err, "result", "the awards are not in increasing node order");
        }
    }
    if ((rc = close_reader(&r, "result", err))) {
        free(o.awards);
        return rc;
    }
    *m = o;
    return PG_OK;
}

/* ---------------------------------------------------------------- telemetry */

/* The step's fields in the order of the encoding. */
#define STEP_FIELDS(X)                                                                             \
    X(import_kwh)                                                                                  \
    X(export_kwh)                                                                                  \
    X(load_kwh)                                                                                    \
    X(pv_kwh)                                                                                      \
    X(pv_spilled_kwh)                                                                              \
    X(battery_in_kwh)                                                                              \
    X(battery_out_kwh)                                                                             \
    X(soc_kwh)                                                                                     \
    X(generator_kwh)                                                                               \
    X(unserved_kwh)                                                                                \
    X(ev_kwh)                                                                                      \
    X(ev_short_kwh)                                                                                \
    X(temp_c)                                                                                      \
    X(comfort_dev_c)                                                                               \
    X(deferred_kwh)

static void
put_step(wr *w, const pg_node_step *s)
{
#define PUT(f) put_f64(w, s->f);
    STEP_FIELDS(PUT)
#undef PUT
}

static void
get_step(rd *r, pg_node_step *s)
{
#define GET(f) s->f = get_f64(r);
    STEP_FIELDS(GET)
#undef GET
}

/* Energies are finite and not negative; the temperature may be NaN (no thermal load). */
static int
check_step(const pg_node_step *s, const char *what, pg_error *err)
{
#define CHECK(f)                                                                                   \
    if (strcmp(#f, "temp_c") != 0 && !(isfinite(s->f) && s->f >= 0))                               \
        return bad(err, what, #f " is not a finite number >= 0");
    STEP_FIELDS(CHECK)
#undef CHECK
    if (!isnan(s->temp_c) && !isfinite(s->temp_c))
        return bad(err, what, "temp_c is infinite");
    return PG_OK;
}

int
pgi_msg_encode_telemetry(const pgi_msg_telemetry *m, uint8_t **out, size_t *len, pg_error *err)
{
    wr w = {0};
    header(&w, PGI_MSG_TELEMETRY);
    put_u32(&w, m->interval);
    put_u32(&w, m->node);
    put_step(&w, &m->step);
    return finish(&w, out, len, err);
}

int
pgi_msg_decode_telemetry(const void *data, size_t len, pgi_msg_telemetry *m, pg_error *err)
{
    rd r = {0};
    int rc = open_reader(&r, data, len, PGI_MSG_TELEMETRY, "telemetry", err);
    if (rc)
        return rc;
    pgi_msg_telemetry t;
    t.interval = get_u32(&r);
    t.node = get_u32(&r);
    get_step(&r, &t.step);
    if ((rc = close_reader(&r, "telemetry", err)) || (rc = check_step(&t.step, "telemetry", err)))
        return rc;
    *m = t;
    return PG_OK;
}

/* ---------------------------------------------------------------- settle */

#define SETTLE_FIELDS(X)                                                                           \
    X(bought)                                                                                      \
    X(sold)                                                                                        \
    X(paid)                                                                                        \
    X(received)                                                                                    \
    X(grid_import)                                                                                 \
    X(grid_export)                                                                                 \
    X(grid_paid)                                                                                   \
    X(grid_received)                                                                               \
    X(bill)
#define SETTLE_RECORD (4 + 1 + 15 * 8 + 9 * 8)

int
pgi_msg_encode_settle(const pgi_msg_settle *m, uint8_t **out, size_t *len, pg_error *err)
{
    if (!part_ok(m->n_total, m->first, m->count) || m->ac > 2)
        return pg_error_set(err, PG_EINVAL, "a settle message holds 1 to %d of its records",
                            PGI_MSG_MAX_RECORDS);
    wr w = {0};
    header(&w, PGI_MSG_SETTLE);
    put_u32(&w, m->term);
    put_u32(&w, m->operator_);
    put_u32(&w, m->interval);
    put_f64(&w, m->price);
    put_f64(&w, m->volume_kwh);
    put_u8(&w, m->ac);
    put_f64(&w, m->vm_min);
    put_f64(&w, m->vm_max);
    put_f64(&w, m->loading_max);
    put_u32(&w, m->n_total);
    put_u32(&w, m->first);
    put_u32(&w, m->count);
    for (size_t i = 0; i < m->count; i++) {
        const pgi_msg_settle_node *x = &m->nodes[i];
        put_u32(&w, x->node);
        put_u8(&w, x->metered ? 1 : 0);
        put_step(&w, &x->step);
#define PUT(f) put_f64(&w, x->s.f);
        SETTLE_FIELDS(PUT)
#undef PUT
    }
    return finish(&w, out, len, err);
}

int
pgi_msg_decode_settle(const void *data, size_t len, pgi_msg_settle *m, pg_error *err)
{
    rd r = {0};
    int rc = open_reader(&r, data, len, PGI_MSG_SETTLE, "settle", err);
    if (rc)
        return rc;
    pgi_msg_settle o;
    memset(&o, 0, sizeof o);
    o.term = get_u32(&r);
    o.operator_ = get_u32(&r);
    o.interval = get_u32(&r);
    o.price = get_f64(&r);
    o.volume_kwh = get_f64(&r);
    o.ac = get_u8(&r);
    o.vm_min = get_f64(&r);
    o.vm_max = get_f64(&r);
    o.loading_max = get_f64(&r);
    o.n_total = get_u32(&r);
    o.first = get_u32(&r);
    o.count = get_u32(&r);
    if (r.short_)
        return bad(err, "settle", "it is shorter than its fields");
    if (o.term == 0 || o.operator_ == PGI_MSG_NONE)
        return bad(err, "settle", "no operator's term named");
    if (!(isnan(o.price) || isfinite(o.price)) || !(isfinite(o.volume_kwh) && o.volume_kwh >= 0))
        return bad(err, "settle", "the price or the volume is not valid");
    if (o.ac > 2)
        return bad(err, "settle", "the AC check must be 0, 1 or 2");
    if (o.ac == 1 && !(isfinite(o.vm_min) && isfinite(o.vm_max) && isfinite(o.loading_max)))
        return bad(err, "settle", "the AC figures are not finite numbers");
    if (!part_ok(o.n_total, o.first, o.count))
        return bad(err, "settle", "its part of the records is out of range");
    if ((size_t)o.count * SETTLE_RECORD != r.len - r.at)
        return bad(err, "settle", "the record count does not fit the message");
    if (o.count && !(o.nodes = malloc(o.count * sizeof *o.nodes)))
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    for (size_t i = 0; i < o.count; i++) {
        pgi_msg_settle_node *x = &o.nodes[i];
        x->node = get_u32(&r);
        uint8_t me = get_u8(&r);
        x->metered = me == 1;
        get_step(&r, &x->step);
#define GET(f) x->s.f = get_f64(&r);
        SETTLE_FIELDS(GET)
#undef GET
        rc = PG_OK;
        if (me > 1)
            rc = bad(err, "settle", "the metered flag must be 0 or 1");
        else if (i > 0 && x->node <= o.nodes[i - 1].node)
            rc = bad(err, "settle", "the records are not in increasing node order");
        if (!rc)
            rc = check_step(&x->step, "settle", err);
#define CHECK(f)                                                                                   \
    if (!rc && !isfinite(x->s.f))                                                                  \
        rc = bad(err, "settle", #f " is not a finite number");
        SETTLE_FIELDS(CHECK)
#undef CHECK
        if (!rc &&
            (x->s.bought < 0 || x->s.sold < 0 || x->s.grid_import < 0 || x->s.grid_export < 0))
            rc = bad(err, "settle", "an energy is negative");
        if (rc) {
            free(o.nodes);
            return rc;
        }
    }
    if ((rc = close_reader(&r, "settle", err))) {
        free(o.nodes);
        return rc;
    }
    *m = o;
    return PG_OK;
}

/* ---------------------------------------------------------------- dispute */

int
pgi_msg_encode_dispute(const pgi_msg_dispute *m, uint8_t **out, size_t *len, pg_error *err)
{
    wr w = {0};
    header(&w, PGI_MSG_DISPUTE);
    put_u32(&w, m->term);
    put_u32(&w, m->operator_);
    put_u32(&w, m->interval);
    put_u32(&w, m->reporter);
    put_u32(&w, m->node);
    put_f64(&w, m->published_kwh);
    put_f64(&w, m->computed_kwh);
    return finish(&w, out, len, err);
}

int
pgi_msg_decode_dispute(const void *data, size_t len, pgi_msg_dispute *m, pg_error *err)
{
    rd r = {0};
    int rc = open_reader(&r, data, len, PGI_MSG_DISPUTE, "dispute", err);
    if (rc)
        return rc;
    pgi_msg_dispute d;
    d.term = get_u32(&r);
    d.operator_ = get_u32(&r);
    d.interval = get_u32(&r);
    d.reporter = get_u32(&r);
    d.node = get_u32(&r);
    d.published_kwh = get_f64(&r);
    d.computed_kwh = get_f64(&r);
    if ((rc = close_reader(&r, "dispute", err)))
        return rc;
    /* NaN: the node is missing from one side */
    if (isinf(d.published_kwh) || isinf(d.computed_kwh))
        return bad(err, "dispute", "a quantity is infinite");
    *m = d;
    return PG_OK;
}

/* ---------------------------------------------------------------- shared batteries */

int
pgi_msg_encode_pack(pgi_msg_type type, const pgi_msg_pack *m, uint8_t **out, size_t *len,
                    pg_error *err)
{
    if (type != PGI_MSG_DOCK && type != PGI_MSG_UNDOCK && type != PGI_MSG_PACK)
        return pg_error_set(err, PG_EINVAL, "not a pack message type");
    wr w = {0};
    header(&w, type);
    put_u32(&w, m->node);
    put_u32(&w, m->pack);
    if (type == PGI_MSG_DOCK) {
        put_f64(&w, m->capacity_kwh);
        put_f64(&w, m->power_kw);
    }
    if (type != PGI_MSG_UNDOCK)
        put_f64(&w, m->soc_kwh);
    return finish(&w, out, len, err);
}

int
pgi_msg_decode_pack(pgi_msg_type type, const void *data, size_t len, pgi_msg_pack *m, pg_error *err)
{
    rd r = {0};
    const char *what = type == PGI_MSG_DOCK ? "dock" : type == PGI_MSG_UNDOCK ? "undock" : "pack";
    int rc = open_reader(&r, data, len, type, what, err);
    if (rc)
        return rc;
    pgi_msg_pack p = {0};
    p.node = get_u32(&r);
    p.pack = get_u32(&r);
    if (type == PGI_MSG_DOCK) {
        p.capacity_kwh = get_f64(&r);
        p.power_kw = get_f64(&r);
    }
    if (type != PGI_MSG_UNDOCK)
        p.soc_kwh = get_f64(&r);
    if ((rc = close_reader(&r, what, err)))
        return rc;
    if (type == PGI_MSG_DOCK &&
        !(isfinite(p.capacity_kwh) && p.capacity_kwh > 0 && isfinite(p.power_kw) && p.power_kw > 0))
        return bad(err, what, "capacity and power must be finite numbers > 0");
    if (!(isfinite(p.soc_kwh) && p.soc_kwh >= 0) ||
        (type == PGI_MSG_DOCK && p.soc_kwh > p.capacity_kwh * (1 + 1e-9)))
        return bad(err, what, "the state of charge must be from 0 to the capacity");
    *m = p;
    return PG_OK;
}
