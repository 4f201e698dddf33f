/* The binary encoding of a community's messages (msg.h, docs/community.md): little-endian
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
    if (p[5] < PGI_MSG_OPEN || p[5] > PGI_MSG_PACK)
        return pg_error_set(err, PG_EPARSE, "malformed message: unknown type %u", p[5]);
    if (p[6] || p[7])
        return pg_error_set(err, PG_EPARSE, "malformed message: reserved header bytes not zero");
    *type = (pgi_msg_type)p[5];
    return PG_OK;
}

/* ---------------------------------------------------------------- open */

int
pgi_msg_encode_open(const pgi_msg_open *m, uint8_t **out, size_t *len, pg_error *err)
{
    if (m->horizon < 1 || m->horizon > PGI_MSG_MAX_HORIZON)
        return pg_error_set(err, PG_EINVAL, "an open message holds 1 to %d intervals of prices",
                            PGI_MSG_MAX_HORIZON);
    wr w = {0};
    header(&w, PGI_MSG_OPEN);
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
    return finish(&w, out, len, err);
}

/* A price: finite, or +inf retail (no import) / -inf feed-in (no export) off-grid. */
static bool
price_ok(double x, bool retail)
{
    return isfinite(x) || (retail ? x == INFINITY : x == -INFINITY);
}

int
pgi_msg_decode_open(const void *data, size_t len, pgi_msg_open *m, pg_error *err)
{
    rd r = {0};
    int rc = open_reader(&r, data, len, PGI_MSG_OPEN, "open", err);
    if (rc)
        return rc;
    pgi_msg_open o;
    o.interval = get_u32(&r);
    o.hours = get_f64(&r);
    o.time_h = get_f64(&r);
    o.hour_of_day = get_f64(&r);
    uint8_t mk = get_u8(&r);
    o.horizon = get_u16(&r);
    if (r.short_)
        return bad(err, "open", "it is shorter than its fields");
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
    if ((rc = close_reader(&r, "open", err)))
        return rc;
    *m = o;
    return PG_OK;
}

/* ---------------------------------------------------------------- bid */

int
pgi_msg_encode_bid(const pgi_msg_bid *m, uint8_t **out, size_t *len, pg_error *err)
{
    if (m->n_points > PG_NODE_MAX_POINTS)
        return pg_error_set(err, PG_EINVAL, "a bid holds at most %d points", PG_NODE_MAX_POINTS);
    wr w = {0};
    header(&w, PGI_MSG_BID);
    put_u32(&w, m->interval);
    put_u32(&w, m->node);
    put_u8(&w, m->n_points);
    for (size_t i = 0; i < m->n_points; i++) {
        put_f64(&w, m->curve[i].price);
        put_f64(&w, m->curve[i].qty);
    }
    return finish(&w, out, len, err);
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
        return bad(err, "bid", "more than 8 points");
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

/* ---------------------------------------------------------------- award */

int
pgi_msg_encode_award(const pgi_msg_award *m, uint8_t **out, size_t *len, pg_error *err)
{
    wr w = {0};
    header(&w, PGI_MSG_AWARD);
    put_u32(&w, m->interval);
    put_u32(&w, m->node);
    put_f64(&w, m->cleared_kwh);
    put_f64(&w, m->price);
    return finish(&w, out, len, err);
}

int
pgi_msg_decode_award(const void *data, size_t len, pgi_msg_award *m, pg_error *err)
{
    rd r = {0};
    int rc = open_reader(&r, data, len, PGI_MSG_AWARD, "award", err);
    if (rc)
        return rc;
    pgi_msg_award a;
    a.interval = get_u32(&r);
    a.node = get_u32(&r);
    a.cleared_kwh = get_f64(&r);
    a.price = get_f64(&r);
    if ((rc = close_reader(&r, "award", err)))
        return rc;
    if (!isfinite(a.cleared_kwh) || !isfinite(a.price))
        return bad(err, "award", "the quantity or price is not a finite number");
    *m = a;
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

int
pgi_msg_encode_telemetry(const pgi_msg_telemetry *m, uint8_t **out, size_t *len, pg_error *err)
{
    wr w = {0};
    header(&w, PGI_MSG_TELEMETRY);
    put_u32(&w, m->interval);
    put_u32(&w, m->node);
#define PUT(f) put_f64(&w, m->step.f);
    STEP_FIELDS(PUT)
#undef PUT
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
#define GET(f) t.step.f = get_f64(&r);
    STEP_FIELDS(GET)
#undef GET
    if ((rc = close_reader(&r, "telemetry", err)))
        return rc;
        /* Energies are finite and not negative; the temperature may be NaN (no thermal load). */
#define CHECK(f)                                                                                   \
    if (strcmp(#f, "temp_c") != 0 && !(isfinite(t.step.f) && t.step.f >= 0))                       \
        return bad(err, "telemetry", #f " is not a finite number >= 0");
    STEP_FIELDS(CHECK)
#undef CHECK
    if (!isnan(t.step.temp_c) && !isfinite(t.step.temp_c))
        return bad(err, "telemetry", "temp_c is infinite");
    *m = t;
    return PG_OK;
}

/* ---------------------------------------------------------------- demand response */

int
pgi_msg_encode_dr(const pgi_msg_dr *m, uint8_t **out, size_t *len, pg_error *err)
{
    const pg_dr_event *e = &m->event;
    size_t idlen = strnlen(e->id, sizeof e->id);
    if (idlen >= sizeof e->id || e->n_intervals < 1 || e->n_intervals > PG_DR_MAX_INTERVALS)
        return pg_error_set(err, PG_EINVAL, "a DR event message cannot hold this event");
    wr w = {0};
    header(&w, PGI_MSG_DR_EVENT);
    put_u8(&w, (uint8_t)idlen);
    put(&w, e->id, idlen);
    put_u32(&w, e->modification);
    put_f64(&w, e->start_h);
    put_f64(&w, e->duration_h);
    put_f64(&w, e->notice_h);
    put_u8(&w, (uint8_t)e->signal);
    put_u8(&w, e->cancelled ? 1 : 0);
    put_u16(&w, (uint16_t)e->n_intervals);
    for (size_t i = 0; i < e->n_intervals; i++) {
        put_f64(&w, e->interval_h[i]);
        put_f64(&w, e->interval_value[i]);
    }
    put_u32(&w, m->n_targets);
    if (m->n_targets != PGI_MSG_ALL)
        for (uint32_t i = 0; i < m->n_targets; i++)
            put_u32(&w, m->targets[i]);
    return finish(&w, out, len, err);
}

int
pgi_msg_decode_dr(const void *data, size_t len, pgi_msg_dr *m, pg_error *err)
{
    rd r = {0};
    int rc = open_reader(&r, data, len, PGI_MSG_DR_EVENT, "DR event", err);
    if (rc)
        return rc;
    pgi_msg_dr d;
    memset(&d, 0, sizeof d);
    pg_dr_event *e = &d.event;
    uint8_t idlen = get_u8(&r);
    const uint8_t *id = take(&r, idlen);
    if (!id || idlen == 0 || idlen >= sizeof e->id)
        return bad(err, "DR event", "the event ID is empty, too long or cut short");
    for (size_t i = 0; i < idlen; i++)
        if (id[i] < 0x20 || id[i] == 0x7f)
            return bad(err, "DR event", "the event ID holds a control character");
    memcpy(e->id, id, idlen);
    e->id[idlen] = '\0';
    e->modification = get_u32(&r);
    e->start_h = get_f64(&r);
    e->duration_h = get_f64(&r);
    e->notice_h = get_f64(&r);
    uint8_t sig = get_u8(&r), canc = get_u8(&r);
    uint16_t n = get_u16(&r);
    if (r.short_)
        return bad(err, "DR event", "it is shorter than its fields");
    if (!(isfinite(e->start_h) && e->start_h >= 0) ||
        !(isfinite(e->duration_h) && e->duration_h > 0) ||
        !(isfinite(e->notice_h) && e->notice_h >= 0))
        return bad(err, "DR event", "start, duration or notice is not a valid time");
    if (sig > PG_DR_LOAD_DISPATCH)
        return bad(err, "DR event", "unknown signal type");
    if (canc > 1)
        return bad(err, "DR event", "the cancelled flag must be 0 or 1");
    if (n < 1 || n > PG_DR_MAX_INTERVALS)
        return bad(err, "DR event", "the signal must have 1 to 96 intervals");
    e->signal = (pg_dr_signal)sig;
    e->cancelled = canc == 1;
    e->n_intervals = n;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        e->interval_h[i] = get_f64(&r);
        e->interval_value[i] = get_f64(&r);
        if (!r.short_ && (!(isfinite(e->interval_h[i]) && e->interval_h[i] > 0) ||
                          !isfinite(e->interval_value[i])))
            return bad(err, "DR event", "an interval's duration or value is not valid");
        sum += e->interval_h[i];
    }
    if (!r.short_ && fabs(sum - e->duration_h) > 1e-6 * (1 + e->duration_h))
        return bad(err, "DR event", "the intervals do not add up to the duration");
    d.n_targets = get_u32(&r);
    if (r.short_)
        return bad(err, "DR event", "it is shorter than its fields");
    if (d.n_targets != PGI_MSG_ALL) {
        if (d.n_targets == 0 || d.n_targets > (r.len - r.at) / 4)
            return bad(err, "DR event", "the target count does not fit the message");
        d.targets = malloc(d.n_targets * sizeof *d.targets);
        if (!d.targets)
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        for (uint32_t i = 0; i < d.n_targets; i++)
            d.targets[i] = get_u32(&r);
    }
    if ((rc = close_reader(&r, "DR event", err))) {
        free(d.targets);
        return rc;
    }
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
