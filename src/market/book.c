/* Order books: adding orders and bid curves (a curve of cumulative price-quantity points becomes
 * block orders, see docs/market.md), the checks every mechanism runs on a book and the grid terms
 * before clearing, and the result object's arrays. */
#define _DEFAULT_SOURCE /* madvise's MADV_HUGEPAGE */
#include "market/market_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void
pg_market_book_init(pg_market_book *b)
{
    if (b)
        memset(b, 0, sizeof *b);
}

void
pg_market_book_free(pg_market_book *b)
{
    if (!b)
        return;
    free(b->orders);
    memset(b, 0, sizeof *b);
}

void
pg_market_book_clear(pg_market_book *b)
{
    if (!b)
        return;
    b->n = 0;
    b->next_seq = 0;
}

/* Room for extra more orders; the book is unchanged on failure. */
/* The checks of an order's fields (NaN fails both). */
static bool
qty_ok(double q)
{
    return q > 0 && q <= PG_MARKET_QTY_MAX;
}

static bool
price_ok(double p)
{
    return fabs(p) <= PG_MARKET_PRICE_MAX;
}

static int
reserve(pg_market_book *b, size_t extra, pg_error *err)
{
    if (b->n > b->cap || (b->cap && !b->orders))
        return pg_error_set(err, PG_EINVAL,
                            "the order book is not initialised (%zu orders, room for %zu): call "
                            "pg_market_book_init first",
                            b->n, b->cap);
    if (extra <= b->cap - b->n)
        return PG_OK;
    if (extra > PGI_MARKET_MAX_ORDERS - b->n)
        return pg_error_set(err, PG_ELIMIT, "an order book holds at most %zu orders",
                            PGI_MARKET_MAX_ORDERS);
    size_t cap = b->cap ? b->cap : 16;
    while (cap - b->n < extra)
        cap = cap > SIZE_MAX / 2 / sizeof *b->orders ? b->n + extra : cap * 2;
    pg_market_order *o = realloc(b->orders, cap * sizeof *o);
    if (!o)
        return pg_error_set(err, PG_ENOMEM, "out of memory growing an order book to %zu orders",
                            cap);
    b->orders = o;
    b->cap = cap;
    return PG_OK;
}

static void
push(pg_market_book *b, uint32_t node, pg_market_side side, double qty, double price)
{
    pg_market_order *o = &b->orders[b->n++];
    o->node = node;
    o->side = side;
    o->qty = qty;
    o->price = price;
    o->seq = b->next_seq++;
}

int
pg_market_book_add(pg_market_book *b, uint32_t node, pg_market_side side, double qty, double price,
                   pg_error *err)
{
    if (!b)
        return pg_error_set(err, PG_EINVAL, "pg_market_book_add: the book is NULL");
    if (side != PG_MARKET_BUY && side != PG_MARKET_SELL)
        return pg_error_set(err, PG_EINVAL, "order of node %u: side %d is neither buy nor sell",
                            node, (int)side);
    if (!qty_ok(qty))
        return pg_error_set(err, PG_EINVAL,
                            "order of node %u: qty %g is not a finite quantity > 0 (kWh, at most "
                            "%g)",
                            node, qty, PG_MARKET_QTY_MAX);
    if (!price_ok(price))
        return pg_error_set(err, PG_EINVAL,
                            "order of node %u: price %g is not a finite number ($/kWh, at most %g "
                            "in magnitude)",
                            node, price, PG_MARKET_PRICE_MAX);
    int rc = reserve(b, 1, err);
    if (rc)
        return rc;
    push(b, node, side, qty, price);
    return PG_OK;
}

static int
cmp_price(const void *a, const void *b)
{
    const pg_market_point *x = *(const pg_market_point *const *)a;
    const pg_market_point *y = *(const pg_market_point *const *)b;
    if (x->price != y->price)
        return x->price < y->price ? -1 : 1;
    return x < y ? -1 : x > y; /* by position in the curve: deterministic */
}

int
pg_market_book_add_curve(pg_market_book *b, uint32_t node, const pg_market_point *pts, size_t n,
                         pg_error *err)
{
    if (!b || (n && !pts))
        return pg_error_set(err, PG_EINVAL,
                            "pg_market_book_add_curve: the book or points are NULL");
    for (size_t k = 0; k < n; k++) {
        if (!price_ok(pts[k].price))
            return pg_error_set(err, PG_EINVAL,
                                "bid curve of node %u, point %zu: price %g is not a finite number "
                                "($/kWh, at most %g in magnitude)",
                                node, k + 1, pts[k].price, PG_MARKET_PRICE_MAX);
        if (!(fabs(pts[k].qty) <= PG_MARKET_QTY_MAX))
            return pg_error_set(err, PG_EINVAL,
                                "bid curve of node %u, point %zu: qty %g is not a finite number "
                                "(kWh, at most %g in magnitude)",
                                node, k + 1, pts[k].qty, PG_MARKET_QTY_MAX);
    }
    int rc = PG_OK;
    /* The points that trade, by price ascending: the net demand q(p) must not increase. */
    const pg_market_point **by = NULL;
    size_t m = 0;
    for (size_t k = 0; k < n; k++)
        m += pts[k].qty != 0;
    if (m == 0)
        return PG_OK;
    /* A node's curve has a handful of points: they are sorted on the stack, and only a long curve
     * allocates. */
    const pg_market_point *local[32];
    by = m <= sizeof local / sizeof *local ? local : malloc(m * sizeof *by);
    if (!by)
        return pg_error_set(err, PG_ENOMEM, "out of memory reading a bid curve of %zu points", n);
    m = 0;
    for (size_t k = 0; k < n; k++)
        if (pts[k].qty != 0)
            by[m++] = &pts[k];
    qsort(by, m, sizeof *by, cmp_price);
    for (size_t k = 1; k < m; k++) {
        const pg_market_point *lo = by[k - 1], *hi = by[k];
        size_t ilo = (size_t)(lo - pts) + 1, ihi = (size_t)(hi - pts) + 1;
        if (hi->price == lo->price && hi->qty != lo->qty) {
            rc = pg_error_set(err, PG_EINVAL,
                              "bid curve of node %u: points %zu and %zu have the same price %g "
                              "but different quantities (%g and %g kWh)",
                              node, ilo < ihi ? ilo : ihi, ilo < ihi ? ihi : ilo, hi->price,
                              ilo < ihi ? lo->qty : hi->qty, ilo < ihi ? hi->qty : lo->qty);
            goto out;
        }
        if (hi->qty > lo->qty) {
            rc = pg_error_set(
                err, PG_EINVAL,
                "bid curve of node %u, point %zu (price %g, qty %g): the curve must not increase "
                "with price, but point %zu has the lower price %g and the smaller qty %g "
                "(q > 0 buys: a buyer buys no more at a higher price; q < 0 sells: a seller "
                "sells no less at a higher price)",
                node, ihi, hi->price, hi->qty, ilo, lo->price, lo->qty);
            goto out;
        }
    }
    /* Orders: buys from the highest price down, each the increase of the cumulative quantity;
     * sells from the lowest price up, likewise. */
    size_t orders = 0;
    double prev = 0;
    for (size_t k = m; k-- > 0;)
        if (by[k]->qty > 0 && by[k]->qty > prev)
            orders++, prev = by[k]->qty;
    prev = 0;
    for (size_t k = 0; k < m; k++)
        if (by[k]->qty < 0 && -by[k]->qty > prev)
            orders++, prev = -by[k]->qty;
    rc = reserve(b, orders, err);
    if (rc)
        goto out;
    prev = 0;
    for (size_t k = m; k-- > 0;)
        if (by[k]->qty > 0 && by[k]->qty > prev) {
            push(b, node, PG_MARKET_BUY, by[k]->qty - prev, by[k]->price);
            prev = by[k]->qty;
        }
    prev = 0;
    for (size_t k = 0; k < m; k++)
        if (by[k]->qty < 0 && -by[k]->qty > prev) {
            push(b, node, PG_MARKET_SELL, -by[k]->qty - prev, by[k]->price);
            prev = -by[k]->qty;
        }
out:
    if (by != local)
        free(by);
    return rc;
}

int
pgi_market_check_book(const pg_market_book *book, pg_error *err)
{
    if (!book)
        return pg_error_set(err, PG_EINVAL, "the order book is NULL");
    if (book->n && !book->orders)
        return pg_error_set(err, PG_EINVAL, "the order book has %zu orders but no array", book->n);
    if (book->n > PGI_MARKET_MAX_ORDERS)
        return pg_error_set(err, PG_ELIMIT, "an order book holds at most %zu orders, this one %zu",
                            PGI_MARKET_MAX_ORDERS, book->n);
    for (size_t i = 0; i < book->n; i++) {
        const pg_market_order *o = &book->orders[i];
        if (o->side != PG_MARKET_BUY && o->side != PG_MARKET_SELL)
            return pg_error_set(err, PG_EINVAL,
                                "order %zu (node %u): side %d is neither buy nor sell", i, o->node,
                                (int)o->side);
        if (!qty_ok(o->qty))
            return pg_error_set(err, PG_EINVAL,
                                "order %zu (node %u): qty %g is not a finite quantity > 0 (kWh, at "
                                "most %g)",
                                i, o->node, o->qty, PG_MARKET_QTY_MAX);
        if (!price_ok(o->price))
            return pg_error_set(err, PG_EINVAL,
                                "order %zu (node %u): price %g is not a finite number ($/kWh, at "
                                "most %g in magnitude)",
                                i, o->node, o->price, PG_MARKET_PRICE_MAX);
    }
    return PG_OK;
}

int
pgi_market_check_grid(const pg_market_grid *grid, pg_error *err)
{
    if (!grid || !grid->connected)
        return PG_OK;
    if (isnan(grid->retail) || grid->retail == -INFINITY)
        return pg_error_set(err, PG_EINVAL,
                            "grid retail price %g is not a price (a finite number, or +inf for no "
                            "import from the grid)",
                            grid->retail);
    if (grid->feed_in == INFINITY)
        return pg_error_set(err, PG_EINVAL,
                            "grid feed-in price is +inf (a finite number, or -inf or NaN for no "
                            "export to the grid)");
    if ((isfinite(grid->retail) && !price_ok(grid->retail)) ||
        (isfinite(grid->feed_in) && !price_ok(grid->feed_in)))
        return pg_error_set(err, PG_EINVAL,
                            "grid retail price %g or feed-in price %g is beyond %g $/kWh in "
                            "magnitude",
                            grid->retail, grid->feed_in, PG_MARKET_PRICE_MAX);
    if (grid->retail < grid->feed_in)
        return pg_error_set(err, PG_EINVAL,
                            "grid retail price %g is below the feed-in price %g: anyone could buy "
                            "from the grid and sell it back at a profit",
                            grid->retail, grid->feed_in);
    return PG_OK;
}

bool
pgi_market_grid_imports(const pg_market_grid *grid)
{
    return grid && grid->connected && isfinite(grid->retail);
}

bool
pgi_market_grid_exports(const pg_market_grid *grid)
{
    return grid && grid->connected && isfinite(grid->feed_in);
}

void *
pgi_market_big(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (p && bytes >= 2 * huge) {
        uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1);
        uintptr_t b = ((uintptr_t)p + bytes) & ~(huge - 1);
        if (b > a)
            (void)madvise((void *)a, b - a, MADV_HUGEPAGE);
    }
#else
    (void)bytes;
#endif
    return p;
}

int
pgi_market_result_alloc(pg_market_result *r, size_t n, pg_error *err)
{
    memset(r, 0, sizeof *r);
    r->outcome = PG_MARKET_ONE_SIDED;
    r->price = NAN;
    r->n_fills = n;
    if (n) {
        r->fills = pgi_market_big(calloc(n, sizeof *r->fills), n * sizeof *r->fills);
        if (!r->fills)
            return pg_error_set(err, PG_ENOMEM, "out of memory for the fills of %zu orders", n);
    }
    return PG_OK;
}

void
pgi_market_result_totals(const pg_market_book *book, pg_market_result *r)
{
    double vol = 0, paid = 0, got = 0;
    for (size_t i = 0; i < book->n; i++) {
        const pg_market_fill *f = &r->fills[i];
        if (f->qty == 0)
            continue;
        if (book->orders[i].side == PG_MARKET_BUY) {
            paid += f->qty * f->price;
        } else {
            vol += f->qty;
            got += f->qty * f->price;
        }
    }
    r->volume = vol;
    r->buyer_paid = paid;
    r->seller_got = got;
    r->surplus = paid - got;
}

void
pg_market_result_free(pg_market_result *r)
{
    if (!r)
        return;
    free(r->fills);
    free(r->node_price);
    free(r->flow_kw);
    free(r->flow_limit_kw);
    memset(r, 0, sizeof *r);
}
