/* Pay-as-bid: the call auction's accepted quantities (uniform.c), each accepted order trading at
 * its own limit (clipped by the grid's outside option) instead of one price. Buyers pay their
 * bids, sellers get their asks, and the spread between the two is the operator's surplus, which
 * the settlement's balance check counts. */
#include "market/market_internal.h"

#include <math.h>

int
pg_market_clear_pay_as_bid(const pg_market_book *book, const pg_market_grid *grid,
                           pg_market_result *out, pg_error *err)
{
    if (!out)
        return pg_error_set(err, PG_EINVAL, "pg_market_clear_pay_as_bid: out is NULL");
    int rc = pgi_market_check_book(book, err);
    if (!rc)
        rc = pgi_market_check_grid(grid, err);
    if (rc)
        return rc;
    pg_market_result r;
    rc = pgi_market_result_alloc(&r, book->n, err);
    if (!rc)
        rc = pgi_market_call(book, grid, &r, err);
    if (rc) {
        pg_market_result_free(&r);
        return rc;
    }
    for (size_t i = 0; i < book->n; i++)
        r.fills[i].price = r.fills[i].qty > 0 ? pgi_market_limit(&book->orders[i], grid) : 0;
    r.price = NAN;
    pgi_market_result_totals(book, &r);
    *out = r;
    return PG_OK;
}
