/* What the market's mechanisms share inside the module: checking a book and the grid terms, an
 * order's limit after the grid's outside option clips it, the result's arrays, and the orders of a
 * book sorted into the two sides of a call auction (bids by limit descending, asks ascending, ties
 * by arrival) or into arrival order for the continuous auction. */
#ifndef PG_MARKET_INTERNAL_H
#define PG_MARKET_INTERNAL_H

#include <stdint.h>

#include "plurigrid/market.h"

/* The most orders one book may hold: order indices are 32-bit inside the clearing. */
#define PGI_MARKET_MAX_ORDERS ((size_t)UINT32_MAX)

/* Checks every order of book (quantity finite and > 0, price finite, side known); PG_EINVAL naming
 * the first bad order otherwise. A NULL book is PG_EINVAL. */
int pgi_market_check_book(const pg_market_book *book, pg_error *err);

/* Checks the grid terms (NULL is an off-grid community): retail not NaN nor -inf, feed-in not
 * +inf, retail at or above feed-in. PG_EINVAL naming the term otherwise. */
int pgi_market_check_grid(const pg_market_grid *grid, pg_error *err);

/* True when grid lets a node import (connected, finite retail) / export (connected, finite
 * feed-in). */
bool pgi_market_grid_imports(const pg_market_grid *grid);
bool pgi_market_grid_exports(const pg_market_grid *grid);

/* The order's limit as the peer market sees it: with a connected grid, a buy limit above retail
 * is retail and a sell limit below feed-in is feed-in (nobody pays a peer more than the grid asks,
 * or sells to a peer for less than the grid pays). -0 is +0. */
static inline double
pgi_market_limit(const pg_market_order *o, const pg_market_grid *grid)
{
    double p = o->price + 0.0;
    if (grid && grid->connected) {
        if (o->side == PG_MARKET_BUY && p > grid->retail)
            p = grid->retail;
        else if (o->side == PG_MARKET_SELL && p < grid->feed_in)
            p = grid->feed_in;
    }
    return p;
}

/* p (an allocation of bytes, or NULL), advised to the kernel as memory to back with huge pages
 * where it is large: a clearing of a million orders first touches some 30 MiB, and the page faults
 * of 4 KiB pages cost more than the clearing's own work on a virtual machine. Only a hint: nothing
 * changes where the system has no such advice. */
void *pgi_market_big(void *p, size_t bytes);

/* Zeroes *r and allocates n zeroed fills (price NaN, outcome one-sided). PG_ENOMEM. */
int pgi_market_result_alloc(pg_market_result *r, size_t n, pg_error *err);

/* Fills in volume, buyer_paid, seller_got and surplus from the fills of r (book order). Volume is
 * the sellers' side of the peer trades. */
void pgi_market_result_totals(const pg_market_book *book, pg_market_result *r);

/* One order of a side: its clipped limit and its index in the book (its quantity is the book's,
 * read only by the orders the clearing reaches). */
typedef struct pgi_market_entry {
    double limit;
    uint32_t idx;
} pgi_market_entry;

/* The two sides of a book, sorted: bid[0..nb) by limit descending, ask[0..na) by limit
 * ascending, ties in arrival order (seq, then book index). One allocation (bid; ask points into
 * it); pgi_market_sides_free. */
typedef struct pgi_market_sides {
    pgi_market_entry *bid, *ask;
    size_t nb, na;
} pgi_market_sides;

/* Sorts a checked book's orders into sides under grid. scratch, when not NULL, is memory of
 * book->n entries the sort may use (its contents are lost: the call auction lends it the result's
 * fills before it writes them, which saves the sort a fresh allocation as large); NULL allocates
 * it. PG_ENOMEM (nothing to free). */
int pgi_market_sides_build(const pg_market_book *book, const pg_market_grid *grid,
                           pgi_market_sides *s, pgi_market_entry *scratch, pg_error *err);
void pgi_market_sides_free(pgi_market_sides *s);

/* The book's order indices in arrival order (seq, then book index): *order is malloc'd with
 * book->n elements (NULL for an empty book). PG_ENOMEM. */
int pgi_market_arrival_order(const pg_market_book *book, uint32_t **order, pg_error *err);

/* The call auction's accepted quantities and uniform price (uniform.c), the common part of the
 * uniform and pay-as-bid mechanisms: checks book and grid, and fills *out (allocated here, written
 * only on success) with fills[i].qty, fills[i].price (the uniform price for orders that trade, 0
 * for the others), outcome and price; totals not computed. fn names the caller in errors. */
int pgi_market_call_result(const char *fn, const pg_market_book *book, const pg_market_grid *grid,
                           pg_market_result *out, pg_error *err);

#endif
