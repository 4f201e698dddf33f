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
    int rc = pgi_market_call_result("pg_market_clear_pay_as_bid", book, grid, out, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < book->n; i++)
        out->fills[i].price = out->fills[i].qty > 0 ? pgi_market_limit(&book->orders[i], grid) : 0;
    out->price = NAN;
    pgi_market_result_totals(book, out);
    return PG_OK;
}
