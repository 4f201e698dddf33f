/* The clearing of one interval's bids, shared by the operator (run.c, which publishes it), by
 * every process that checks a published result (run.c's verification) and by the shared ledger's
 * checker (ledger.c, which recomputes a RESULT record from its gate's bids): one function, so the
 * three cannot differ. The book is filled from the bids in node order; the mechanism (or the
 * grid-aware clearing when the scenario names a feeder, or an empty uniform book when the market
 * is off) clears it; each node's award is its net cleared quantity and the average price of its
 * fills. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "community/internal.h"
#include "community/msg.h"

int
pgi_community_fill_book(const pg_community *c, pg_market_book *book, const pgi_msg_bid *const *bids,
                        pg_error *err)
{
    pg_market_book_clear(book);
    for (size_t i = 0; i < c->n_nodes; i++) {
        int rc;
        if (bids[i] && bids[i]->n_points &&
            (rc = pg_market_book_add_curve(book, (uint32_t)i, bids[i]->curve, bids[i]->n_points,
                                           err))) {
            if (err) {
                char msg[sizeof err->msg];
                snprintf(msg, sizeof msg, "%s", err->msg);
                snprintf(err->msg, sizeof err->msg, "node '%.63s': %.690s", c->nodes[i].name, msg);
            }
            return rc;
        }
    }
    return PG_OK;
}

int
pgi_community_clear(const pg_community *c, const pg_market_mechanism *mech, size_t t,
                    pg_market_book *book, pg_market_result *res, double *cleared, double *paid,
                    double *vol, pg_error *err)
{
    pg_market_grid grid = {.retail = c->connected ? c->retail[t] : INFINITY,
                           .feed_in = c->connected ? c->feed_in[t] : -INFINITY,
                           .connected = c->connected};
    memset(res, 0, sizeof *res);
    int rc;
    if (mech && c->feeder) {
        pg_market_network net = {.world = c->feeder,
                                 .n_nodes = c->n_nodes,
                                 .node_bus = c->node_bus,
                                 .hours = c->step_h,
                                 .substation_kw = c->substation_kw};
        rc = pg_market_clear_network(book, &grid, &net, res, err);
    } else if (mech) {
        rc = mech->clear(book, &grid, res, err);
    } else {
        rc = pg_market_clear_uniform(book, &grid, res, err); /* an empty book */
    }
    if (rc)
        return rc;
    for (size_t i = 0; i < c->n_nodes; i++)
        cleared[i] = paid[i] = vol[i] = 0;
    for (size_t k = 0; k < book->n && k < res->n_fills; k++) {
        const pg_market_order *od = &book->orders[k];
        double q = res->fills[k].qty;
        vol[od->node] += q;
        if (q <= 0)
            continue;
        double sg = od->side == PG_MARKET_BUY ? 1 : -1;
        cleared[od->node] += sg * q;
        paid[od->node] += q * res->fills[k].price;
    }
    return PG_OK;
}

double
pgi_community_award_price(const double *paid, const double *vol, size_t i)
{
    return vol[i] > 0 ? paid[i] / vol[i] : 0;
}
