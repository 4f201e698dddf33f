/* The uniform-price call double auction, in the manner of GridLAB-D's auction clearing: the bids
 * (limits descending) and the asks (ascending) are walked together as aggregate demand and supply
 * curves, trading the most energy at which the marginal bid is at or above the marginal ask; the
 * price is set by the marginal unit (the rules, cases and ties are in docs/market.md):
 *
 *   - The price interval [lo, hi] in which every accepted order is willing and every order that
 *     is not fully accepted is unwilling: lo = max(marginal ask, next bid), hi = min(marginal bid,
 *     next ask) (the next bid is the best bid not fully accepted, -inf when none; likewise the
 *     next ask, +inf).
 *   - lo = hi: the curves cross on a horizontal segment (a rationed buyer's or seller's step, or a
 *     bid and an ask at the same price): the price is that price.
 *   - lo < hi: they cross on a vertical segment (both sides' quantities end together): the price
 *     is the midpoint of the marginal bid and the marginal ask, moved into [lo, hi] so that no
 *     order left out would want to trade at it.
 *   - Orders whose limit equals the price on a side that is rationed share what that side trades
 *     at that price pro rata to their quantities, whatever their arrival.
 *
 * Cumulative quantities that agree to 1 part in 10^12 count as equal, so 0.1 + 0.2 kWh of bids
 * meet 0.3 kWh of asks exactly rather than leaving a sliver to a further order. */
#include "market/market_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool
same_qty(double x, double y)
{
    return fabs(x - y) <= 1e-12 * fmax(fabs(x), fabs(y));
}

/* On one sorted side e[0..n), the orders whose limit is p (a contiguous run [s, t)) share what the
 * walk gave them pro rata when the side is rationed there: some of them got something and some
 * did not get everything. full = orders fully accepted by the walk (a prefix), part = what the walk
 * gave order full (when full < n). */
static void
share_ties(const pg_market_order *o, const pgi_market_entry *e, size_t n, size_t full, double part,
           double p, pg_market_fill *fills)
{
    if (full >= n)
        return;
    size_t s = full, t = full + 1;
    if (e[full].limit != p)
        return;
    while (s > 0 && e[s - 1].limit == p)
        s--;
    while (t < n && e[t].limit == p)
        t++;
    if (s == full && part <= 0)
        return; /* no order at p got anything */
    double got = part, all = 0;
    for (size_t k = s; k < t; k++) {
        all += o[e[k].idx].qty;
        if (k < full)
            got += o[e[k].idx].qty;
    }
    double f = got / all;
    for (size_t k = s; k < t; k++)
        fills[e[k].idx].qty = f >= 1 ? o[e[k].idx].qty : o[e[k].idx].qty * f;
}

static int
call(const pg_market_book *book, const pg_market_grid *grid, pg_market_result *r, pg_error *err)
{
    /* The fills are the sort's scratch until the walk writes them. */
    _Static_assert(sizeof(pg_market_fill) == sizeof(pgi_market_entry), "fills lend themselves");
    pgi_market_sides sd;
    int rc = pgi_market_sides_build(book, grid, &sd, (pgi_market_entry *)r->fills, err);
    if (rc)
        return rc;
    if (book->n)
        memset(r->fills, 0, book->n * sizeof *r->fills);
    const pgi_market_entry *bid = sd.bid, *ask = sd.ask;
    size_t nb = sd.nb, na = sd.na;
#define Q(e) (book->orders[(e).idx].qty)
    r->price = NAN;
    if (nb == 0 || na == 0) {
        r->outcome = PG_MARKET_ONE_SIDED;
        goto out;
    }
    if (bid[0].limit < ask[0].limit) {
        r->outcome = PG_MARKET_NO_CROSS;
        goto out;
    }
    /* The walk: i bids and j asks fully accepted, with cumulative quantities bsum and asum; the
     * current orders' cumulative ends at bend and aend. */
    size_t i = 0, j = 0;
    double bsum = 0, asum = 0, bend = Q(bid[0]), aend = Q(ask[0]);
    while (i < nb && j < na && bid[i].limit >= ask[j].limit) {
        if (same_qty(bend, aend)) {
            bsum = bend;
            asum = aend;
            if (++i < nb)
                bend += Q(bid[i]);
            if (++j < na)
                aend += Q(ask[j]);
        } else if (bend < aend) {
            bsum = bend;
            if (++i < nb)
                bend += Q(bid[i]);
        } else {
            asum = aend;
            if (++j < na)
                aend += Q(ask[j]);
        }
    }
    /* A partly accepted order: the side whose accepted sum falls short of the other's. */
    double bpart = 0, apart = 0;
    if (!same_qty(bsum, asum)) {
        if (asum > bsum && i < nb)
            bpart = asum - bsum;
        else if (bsum > asum && j < na)
            apart = bsum - asum;
    }
    double bm = bpart > 0 ? bid[i].limit : bid[i - 1].limit; /* marginal bid */
    double am = apart > 0 ? ask[j].limit : ask[j - 1].limit; /* marginal ask */
    double bnext = i < nb ? bid[i].limit : -INFINITY;
    double anext = j < na ? ask[j].limit : INFINITY;
    double lo = fmax(am, bnext), hi = fmin(bm, anext);
    double p;
    if (lo >= hi) {
        p = lo;
    } else {
        p = 0.5 * am + 0.5 * bm;
        p = p < lo ? lo : p > hi ? hi : p;
    }
    for (size_t k = 0; k < i; k++)
        r->fills[bid[k].idx].qty = Q(bid[k]);
    if (bpart > 0)
        r->fills[bid[i].idx].qty = bpart;
    for (size_t k = 0; k < j; k++)
        r->fills[ask[k].idx].qty = Q(ask[k]);
    if (apart > 0)
        r->fills[ask[j].idx].qty = apart;
    share_ties(book->orders, bid, nb, i, bpart, p, r->fills);
    share_ties(book->orders, ask, na, j, apart, p, r->fills);
    for (size_t k = 0; k < book->n; k++)
        r->fills[k].price = r->fills[k].qty > 0 ? p : 0;
    r->outcome = PG_MARKET_CLEARED;
    r->price = p;
#undef Q
out:
    pgi_market_sides_free(&sd);
    return PG_OK;
}

int
pgi_market_call_result(const char *fn, const pg_market_book *book, const pg_market_grid *grid,
                       pg_market_result *out, pg_error *err)
{
    if (!out)
        return pg_error_set(err, PG_EINVAL, "%s: out is NULL", fn);
    int rc = pgi_market_check_book(book, err);
    if (!rc)
        rc = pgi_market_check_grid(grid, err);
    if (rc)
        return rc;
    pg_market_result r;
    rc = pgi_market_result_alloc(&r, book->n, err);
    if (!rc)
        rc = call(book, grid, &r, err);
    if (rc) {
        pg_market_result_free(&r);
        return rc;
    }
    *out = r;
    return PG_OK;
}

int
pg_market_clear_uniform(const pg_market_book *book, const pg_market_grid *grid,
                        pg_market_result *out, pg_error *err)
{
    int rc = pgi_market_call_result("pg_market_clear_uniform", book, grid, out, err);
    if (!rc)
        pgi_market_result_totals(book, out);
    return rc;
}
