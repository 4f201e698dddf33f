/* The continuous double auction: a price-time priority order book. Orders arrive in arrival
 * order (seq, then book index); an incoming order trades against the best resting orders of the
 * other side (the highest bid or the lowest ask, the earlier of equal limits first) as long as the
 * limits cross, each trade at the resting order's limit; what it cannot trade rests in the book.
 * Limits are clipped by the grid's outside option as in the call auctions. An order's fill price
 * is the quantity-weighted mean of its trades' prices. There is no single price: result.price is
 * NaN. Two binary heaps of arrival ranks hold the resting orders, so a book of n orders clears in
 * O(n log n) with four arrays of n and no allocation per order. */
#include "market/market_internal.h"

#include <math.h>
#include <stdlib.h>

typedef struct cda {
    const double *limit; /* by arrival rank */
    uint32_t *heap;      /* ranks */
    size_t n;
    bool max; /* bids: highest limit on top; asks: lowest */
} cda;

/* True when rank a has priority over rank b: a better limit, or the same limit and earlier. */
static inline bool
before(const cda *h, uint32_t a, uint32_t b)
{
    double x = h->limit[a], y = h->limit[b];
    if (x != y)
        return h->max ? x > y : x < y;
    return a < b;
}

static void
heap_push(cda *h, uint32_t r)
{
    size_t k = h->n++;
    while (k > 0) {
        size_t up = (k - 1) / 2;
        if (!before(h, r, h->heap[up]))
            break;
        h->heap[k] = h->heap[up];
        k = up;
    }
    h->heap[k] = r;
}

static void
heap_pop(cda *h)
{
    uint32_t last = h->heap[--h->n];
    size_t k = 0, n = h->n;
    for (;;) {
        size_t c = 2 * k + 1;
        if (c >= n)
            break;
        if (c + 1 < n && before(h, h->heap[c + 1], h->heap[c]))
            c++;
        if (!before(h, h->heap[c], last))
            break;
        h->heap[k] = h->heap[c];
        k = c;
    }
    if (n)
        h->heap[k] = last;
}

int
pg_market_clear_continuous(const pg_market_book *book, const pg_market_grid *grid,
                           pg_market_result *out, pg_error *err)
{
    if (!out)
        return pg_error_set(err, PG_EINVAL, "pg_market_clear_continuous: out is NULL");
    int rc = pgi_market_check_book(book, err);
    if (!rc)
        rc = pgi_market_check_grid(grid, err);
    if (rc)
        return rc;
    size_t n = book->n;
    pg_market_result r;
    uint32_t *order = NULL, *heaps = NULL;
    double *limit = NULL, *left = NULL;
    rc = pgi_market_result_alloc(&r, n, err);
    if (rc)
        goto out;
    rc = pgi_market_arrival_order(book, &order, err);
    if (rc)
        goto out;
    if (n) {
        limit = pgi_market_big(malloc(n * sizeof *limit), n * sizeof *limit);
        left = pgi_market_big(malloc(n * sizeof *left), n * sizeof *left);
        heaps = pgi_market_big(malloc(n * sizeof *heaps), n * sizeof *heaps);
        if (!limit || !left || !heaps) {
            rc = pg_error_set(err, PG_ENOMEM, "out of memory for an order book of %zu orders", n);
            goto out;
        }
    }
    size_t nbuy = 0;
    for (size_t k = 0; k < n; k++) {
        const pg_market_order *o = &book->orders[order[k]];
        limit[k] = pgi_market_limit(o, grid);
        left[k] = o->qty;
        nbuy += o->side == PG_MARKET_BUY;
    }
    /* The bids' heap at the front of heaps, the asks' after it: each side never holds more than
     * its own orders. */
    cda bids = {limit, heaps, 0, true}, asks = {limit, heaps + nbuy, 0, false};
    double volume = 0, money = 0;
    for (size_t k = 0; k < n; k++) {
        bool buy = book->orders[order[k]].side == PG_MARKET_BUY;
        cda *own = buy ? &bids : &asks, *other = buy ? &asks : &bids;
        while (left[k] > 0 && other->n > 0) {
            uint32_t top = other->heap[0];
            if (buy ? limit[k] < limit[top] : limit[k] > limit[top])
                break;
            double q = left[k] < left[top] ? left[k] : left[top], p = limit[top];
            left[k] -= q;
            left[top] -= q;
            pg_market_fill *fi = &r.fills[order[k]], *ft = &r.fills[order[top]];
            fi->qty += q;
            fi->price += q * p; /* money for now; divided by the quantity below */
            ft->qty += q;
            ft->price += q * p;
            volume += q;
            money += q * p;
            if (left[top] <= 0)
                heap_pop(other);
        }
        if (left[k] > 0)
            heap_push(own, (uint32_t)k);
    }
    /* The mean of trades at or within the order's limit is within it too, but rounded it may
     * fall an ulp beyond (three trades at 0.1 can average 0.10000000000000002): held to the
     * limit, so no order ever trades at a loss. */
    for (size_t k = 0; k < n; k++) {
        pg_market_fill *f = &r.fills[order[k]];
        if (f->qty <= 0) {
            f->price = 0;
            continue;
        }
        double p = f->price / f->qty;
        bool buy = book->orders[order[k]].side == PG_MARKET_BUY;
        f->price = buy ? fmin(p, limit[k]) : fmax(p, limit[k]);
    }
    r.outcome = volume > 0               ? PG_MARKET_CLEARED
                : nbuy == 0 || nbuy == n ? PG_MARKET_ONE_SIDED
                                         : PG_MARKET_NO_CROSS;
    r.price = NAN;
    r.volume = volume;
    r.buyer_paid = money;
    r.seller_got = money;
    r.surplus = 0;
out:
    free(order);
    free(limit);
    free(left);
    free(heaps);
    if (rc)
        pg_market_result_free(&r);
    else
        *out = r;
    return rc;
}
