/* Private clearing (pclear.h, docs/privacy.md "Private clearing"): the public price grid, a
 * member's bid vector, the uniform clearing of the summed vector and what a member derives from
 * the public result. The clearing of the sum walks the aggregate demand and supply curves level
 * by level with the very rules of the open uniform auction (src/market/uniform.c: the walk, the
 * price interval [lo, hi], pro rata rationing at the marginal price), so that, the quantities
 * being whole multiples of the quantum, every sum is exact and the private result is the open
 * one to the last bit. */
#include "privacy/pclear.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "market/market_internal.h"

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static bool
price_ok(double p)
{
    return isfinite(p) && fabs(p) <= PG_MARKET_PRICE_MAX;
}

int
pgi_pclear_grid_make(const double *retail, const double *feed_in, size_t horizon, double hours,
                     bool connected, pgi_pclear_grid *g, pg_error *err)
{
    if (!retail || !feed_in || !g || horizon < 1 || !(hours > 0 && isfinite(hours)))
        return pg_error_set(err, PG_EINVAL, "pgi_pclear_grid_make: bad arguments");
    double r = retail[0], f = feed_in[0];
    for (size_t k = 0; k < horizon; k++)
        if (!price_ok(retail[k]) || !price_ok(feed_in[k]))
            return pg_error_set(err, PG_EINVAL,
                                "the private market needs finite retail and feed-in prices of at "
                                "most %g $/kWh (hour %zu of the horizon)",
                                PG_MARKET_PRICE_MAX, k);
    if (connected && r < f)
        return pg_error_set(err, PG_EINVAL, "retail price %g is below the feed-in price %g", r, f);
    pgi_pclear_grid x;
    memset(&x, 0, sizeof x);
    x.terms = connected ? (pg_market_grid){.retail = r, .feed_in = f, .connected = true}
                        : (pg_market_grid){.retail = INFINITY, .feed_in = -INFINITY};
    /* The rules controller's prices, computed as it computes them (src/node/ctl_rules.c). */
    double cap = r, floor_p = fmin(f, cap);
    size_t n = (size_t)fmax(1, floor(24.0 / hours + 0.5));
    if (n > horizon)
        n = horizon;
    double s = 0;
    for (size_t k = 0; k < n; k++)
        s += retail[k];
    double mean = s / (double)n;
    double mid = fmin(fmax(mean, floor_p), cap);
    double upper = 0.5 * (mid + cap);
    double p[4 + PGI_PCLEAR_STEPS];
    size_t m = 0;
    p[m++] = floor_p;
    p[m++] = cap;
    p[m++] = mid;
    p[m++] = upper;
    for (int k = 1; k < PGI_PCLEAR_STEPS; k++)
        p[m++] = floor_p + (cap - floor_p) * k / PGI_PCLEAR_STEPS;
    qsort(p, m, sizeof *p, cmp_double);
    for (size_t k = 0; k < m; k++)
        if (x.n == 0 || p[k] != x.p[x.n - 1])
            x.p[x.n++] = p[k] + 0.0;
    *g = x;
    return PG_OK;
}

double
pgi_pclear_round(double kwh)
{
    return round(kwh * PGI_PCLEAR_SCALE) / PGI_PCLEAR_SCALE;
}

/* The level of limit p on side s: the grid price itself, else a buy's nearest below and a sell's
 * nearest above (-1: none, the order cannot trade). */
static int
level_of(const pgi_pclear_grid *g, pg_market_side s, double p, bool *exact)
{
    *exact = false;
    for (size_t k = 0; k < g->n; k++)
        if (g->p[k] == p) {
            *exact = true;
            return (int)k;
        }
    if (s == PG_MARKET_BUY) {
        for (size_t k = g->n; k-- > 0;)
            if (g->p[k] < p)
                return (int)k;
    } else {
        for (size_t k = 0; k < g->n; k++)
            if (g->p[k] > p)
                return (int)k;
    }
    return -1;
}

int
pgi_pclear_member(const pgi_pclear_grid *g, const pg_market_point *curve, size_t n,
                  pgi_pclear_orders *o, double *vec, pg_error *err)
{
    if (!g || !o || !vec || (n && !curve))
        return pg_error_set(err, PG_EINVAL, "pgi_pclear_member: bad arguments");
    if (n > PGI_PCLEAR_MAX_ORDERS)
        return pg_error_set(err, PG_EINVAL, "a private bid has at most %d points, not %zu",
                            PGI_PCLEAR_MAX_ORDERS, n);
    pg_market_point pts[PGI_PCLEAR_MAX_ORDERS];
    for (size_t k = 0; k < n; k++) {
        if (!(fabs(curve[k].qty) <= 8589934592.0)) /* 2^33 kWh: 2^53 quanta */
            return pg_error_set(err, PG_EINVAL,
                                "bid curve point %zu: the quantity is not a finite number of at "
                                "most 2^33 kWh",
                                k + 1);
        pts[k] = (pg_market_point){curve[k].price, pgi_pclear_round(curve[k].qty)};
    }
    pg_market_book b;
    pg_market_book_init(&b);
    int rc = pg_market_book_add_curve(&b, 0, pts, n, err);
    if (rc)
        goto out;
    memset(o, 0, sizeof *o);
    for (size_t k = 0; k < 2 * g->n; k++)
        vec[k] = 0;
    for (size_t k = 0; k < b.n; k++) {
        const pg_market_order *od = &b.orders[k];
        bool exact;
        int lv = level_of(g, od->side, pgi_market_limit(od, &g->terms), &exact);
        o->o[o->n] = *od;
        o->level[o->n] = lv;
        o->off_grid += !exact;
        o->n++;
        if (lv >= 0)
            vec[(od->side == PG_MARKET_SELL ? g->n : 0) + (size_t)lv] += od->qty;
    }
out:
    pg_market_book_free(&b);
    return rc;
}

static bool
same_qty(double x, double y)
{
    return fabs(x - y) <= 1e-12 * fmax(fabs(x), fabs(y));
}

int
pgi_pclear_clear(const pgi_pclear_grid *g, const double *sum, pgi_pclear_result *r, pg_error *err)
{
    if (!g || !sum || !r)
        return pg_error_set(err, PG_EINVAL, "pgi_pclear_clear: bad arguments");
    size_t L = g->n;
    for (size_t k = 0; k < 2 * L; k++)
        if (!(sum[k] >= 0 && sum[k] <= PG_MARKET_QTY_MAX))
            return pg_error_set(err, PG_EINVAL,
                                "the summed bids have a quantity at level %zu that is not a "
                                "number from 0 to %g kWh",
                                k, PG_MARKET_QTY_MAX);
    const double *B = sum, *S = sum + L;
    /* bid levels by price descending, ask levels ascending: one "order" per level and side */
    size_t bid[PGI_PCLEAR_MAX_LEVELS], ask[PGI_PCLEAR_MAX_LEVELS], nb = 0, na = 0;
    for (size_t k = L; k-- > 0;)
        if (B[k] > 0)
            bid[nb++] = k;
    for (size_t k = 0; k < L; k++)
        if (S[k] > 0)
            ask[na++] = k;
    pgi_pclear_result x = {.outcome = PG_MARKET_ONE_SIDED, .price = NAN, .at = {-1, -1}};
    const double *p = g->p;
    if (nb == 0 || na == 0)
        goto done;
    if (p[bid[0]] < p[ask[0]]) {
        x.outcome = PG_MARKET_NO_CROSS;
        goto done;
    }
    /* The walk of uniform.c, on levels. */
    size_t i = 0, j = 0;
    double bsum = 0, asum = 0, bend = B[bid[0]], aend = S[ask[0]];
    while (i < nb && j < na && p[bid[i]] >= p[ask[j]]) {
        if (same_qty(bend, aend)) {
            bsum = bend;
            asum = aend;
            if (++i < nb)
                bend += B[bid[i]];
            if (++j < na)
                aend += S[ask[j]];
        } else if (bend < aend) {
            bsum = bend;
            if (++i < nb)
                bend += B[bid[i]];
        } else {
            asum = aend;
            if (++j < na)
                aend += S[ask[j]];
        }
    }
    double bpart = 0, apart = 0;
    if (!same_qty(bsum, asum)) {
        if (asum > bsum && i < nb)
            bpart = asum - bsum;
        else if (bsum > asum && j < na)
            apart = bsum - asum;
    }
    double bm = bpart > 0 ? p[bid[i]] : p[bid[i - 1]];
    double am = apart > 0 ? p[ask[j]] : p[ask[j - 1]];
    double bnext = i < nb ? p[bid[i]] : -INFINITY;
    double anext = j < na ? p[ask[j]] : INFINITY;
    double lo = fmax(am, bnext), hi = fmin(bm, anext), price;
    if (lo >= hi) {
        price = lo;
    } else {
        price = 0.5 * am + 0.5 * bm;
        price = price < lo ? lo : price > hi ? hi : price;
    }
    x.outcome = PG_MARKET_CLEARED;
    x.price = price;
    /* Levels fully filled: bid[0..i), ask[0..j); the partial one shares pro rata (share_ties:
     * one order per level, so only a level that got something is rationed). */
    x.frac[0] = x.frac[1] = 0;
    if (bpart > 0 && p[bid[i]] == price) {
        x.at[0] = (int)bid[i];
        x.frac[0] = bpart / B[bid[i]];
    }
    if (apart > 0 && p[ask[j]] == price) {
        x.at[1] = (int)ask[j];
        x.frac[1] = apart / S[ask[j]];
    }
    /* the full levels by price: buys at or above the lowest full one, sells at or below */
    x.full_buy = i ? p[bid[i - 1]] : INFINITY;
    x.full_sell = j ? p[ask[j - 1]] : -INFINITY;
    /* volume: the sellers' side */
    double v = asum + (x.at[1] >= 0 ? (x.frac[1] >= 1 ? S[ask[j]] : S[ask[j]] * x.frac[1]) : 0);
    x.volume = v;
done:
    *r = x;
    return PG_OK;
}

/* Order k's fill under r. */
static double
fill_of(const pgi_pclear_grid *g, const pgi_pclear_result *r, const pgi_pclear_orders *o, size_t k)
{
    int lv = o->level[k];
    if (lv < 0 || r->outcome != PG_MARKET_CLEARED)
        return 0;
    double q = o->o[k].qty, pk = g->p[lv];
    int s = o->o[k].side == PG_MARKET_SELL;
    if (s == 0 && pk >= r->full_buy)
        return q;
    if (s == 1 && pk <= r->full_sell)
        return q;
    if (lv == r->at[s])
        return r->frac[s] >= 1 ? q : q * r->frac[s];
    return 0;
}

void
pgi_pclear_fills(const pgi_pclear_grid *g, const pgi_pclear_result *r, const pgi_pclear_orders *o,
                 double *fill, double *cleared, double *paid, double *vol)
{
    double c = 0, m = 0, v = 0;
    for (size_t k = 0; k < o->n; k++) {
        double q = fill_of(g, r, o, k);
        fill[k] = q;
        v += q;
        if (q <= 0)
            continue;
        c += o->o[k].side == PG_MARKET_BUY ? q : -q;
        m += q * r->price;
    }
    *cleared = c;
    *paid = m;
    *vol = v;
}

void
pgi_pclear_settle(const pgi_pclear_grid *g, const pgi_pclear_result *r, const pgi_pclear_orders *o,
                  const double *fill, double metered, pg_market_settlement *s)
{
    memset(s, 0, sizeof *s);
    for (size_t k = 0; k < o->n; k++) {
        double q = fill[k];
        if (q == 0)
            continue;
        if (o->o[k].side == PG_MARKET_BUY) {
            s->bought += q;
            s->paid += q * r->price;
        } else {
            s->sold += q;
            s->received += q * r->price;
        }
    }
    const pg_market_grid *gr = &g->terms;
    bool imports = pgi_market_grid_imports(gr), exports = pgi_market_grid_exports(gr);
    double diff = metered - (s->bought - s->sold);
    if (diff > 0) {
        s->grid_import = diff;
        s->grid_paid = imports ? diff * gr->retail : 0;
    } else if (diff < 0) {
        s->grid_export = -diff;
        s->grid_received = exports ? -diff * gr->feed_in : 0;
    }
    s->bill = s->paid + s->grid_paid - s->received - s->grid_received;
}
