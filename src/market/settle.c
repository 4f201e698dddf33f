/* Settlement of one interval: each node's peer trades (the fills of its orders) and what its meter
 * says, the difference traded with the grid at retail (short) or feed-in (long), or, off grid,
 * reported as unserved or spilled energy at no price. Then the balance check, which is what makes
 * a clearing trustworthy: peer energy bought equals sold (plus what the grid traded in a
 * grid-aware clearing), the money paid matches the money received plus the operator's surplus,
 * the grid's energy equals the nodes' metered sum, and the bills add up to the surplus plus the
 * grid's takings. Each to 1e-9 relative; PG_ESTATE naming the first that fails. */
#include "market/market_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* |a - b| within 1e-9 of the scale (exactly equal when the scale is 0). */
static bool
balances(double a, double b, double scale)
{
    return fabs(a - b) <= 1e-9 * scale;
}

static int
check_inputs(const pg_market_book *book, const pg_market_result *res, const double *metered,
             size_t n_nodes, pg_market_settlement *s, pg_error *err)
{
    if (!book || !res || (n_nodes && (!metered || !s)))
        return pg_error_set(err, PG_EINVAL, "pg_market_settle: an argument is NULL");
    int rc = pgi_market_check_book(book, err);
    if (rc)
        return rc;
    if (res->n_fills != book->n || (book->n && !res->fills))
        return pg_error_set(err, PG_EINVAL,
                            "the market result has %zu fills for a book of %zu orders: it is not "
                            "this book's result",
                            res->n_fills, book->n);
    for (size_t i = 0; i < book->n; i++) {
        const pg_market_order *o = &book->orders[i];
        const pg_market_fill *f = &res->fills[i];
        if (o->node >= n_nodes)
            return pg_error_set(err, PG_EINVAL,
                                "order %zu belongs to node %u, but only %zu nodes are settled", i,
                                o->node, n_nodes);
        if (!(f->qty >= 0 && f->qty <= o->qty * (1 + 1e-12)))
            return pg_error_set(err, PG_EINVAL,
                                "order %zu (node %u) has a fill of %g kWh, outside 0..%g kWh", i,
                                o->node, f->qty, o->qty);
        if (!(fabs(f->price) <= PG_MARKET_PRICE_MAX))
            return pg_error_set(err, PG_EINVAL,
                                "order %zu (node %u) has a fill price %g that is not a finite "
                                "number of at most %g $/kWh in magnitude",
                                i, o->node, f->price, PG_MARKET_PRICE_MAX);
    }
    for (size_t k = 0; k < n_nodes; k++)
        if (!(fabs(metered[k]) <= PG_MARKET_QTY_MAX))
            return pg_error_set(err, PG_EINVAL,
                                "node %zu: metered net import %g is not a finite number of kWh "
                                "(at most %g in magnitude)",
                                k, metered[k], PG_MARKET_QTY_MAX);
    if (!isfinite(res->grid_import) || !isfinite(res->grid_export) || !isfinite(res->surplus))
        return pg_error_set(err, PG_EINVAL,
                            "the market result's grid trades or surplus are not finite numbers");
    return PG_OK;
}

int
pg_market_settle(const pg_market_book *book, const pg_market_result *res,
                 const pg_market_grid *grid, const double *metered, size_t n_nodes,
                 pg_market_settlement *s, pg_error *err)
{
    int rc = check_inputs(book, res, metered, n_nodes, s, err);
    if (!rc)
        rc = pgi_market_check_grid(grid, err);
    if (rc)
        return rc;
    pg_market_settlement *t = NULL;
    if (n_nodes) {
        t = calloc(n_nodes, sizeof *t);
        if (!t)
            return pg_error_set(err, PG_ENOMEM, "out of memory settling %zu nodes", n_nodes);
    }
    for (size_t i = 0; i < book->n; i++) {
        const pg_market_order *o = &book->orders[i];
        const pg_market_fill *f = &res->fills[i];
        if (f->qty == 0)
            continue;
        pg_market_settlement *x = &t[o->node];
        if (o->side == PG_MARKET_BUY) {
            x->bought += f->qty;
            x->paid += f->qty * f->price;
        } else {
            x->sold += f->qty;
            x->received += f->qty * f->price;
        }
    }
    bool imports = pgi_market_grid_imports(grid), exports = pgi_market_grid_exports(grid);
    double bought = 0, sold = 0, paid = 0, received = 0, gin = 0, gout = 0, gpaid = 0, ggot = 0;
    double bills = 0, msum = 0, mabs = 0;
    for (size_t k = 0; k < n_nodes; k++) {
        pg_market_settlement *x = &t[k];
        double diff = metered[k] - (x->bought - x->sold);
        if (diff > 0) {
            x->grid_import = diff;
            x->grid_paid = imports ? diff * grid->retail : 0;
        } else if (diff < 0) {
            x->grid_export = -diff;
            x->grid_received = exports ? -diff * grid->feed_in : 0;
        }
        x->bill = x->paid + x->grid_paid - x->received - x->grid_received;
        bought += x->bought;
        sold += x->sold;
        paid += x->paid;
        received += x->received;
        gin += x->grid_import;
        gout += x->grid_export;
        gpaid += x->grid_paid;
        ggot += x->grid_received;
        bills += x->bill;
        msum += metered[k];
        mabs += fabs(metered[k]);
    }
    /* The grid's part of a grid-aware clearing (zero for the peer mechanisms). */
    double rgrid = res->grid_import - res->grid_export;
    double rabs = res->grid_import + res->grid_export;
    bool peer_only = res->n_nodes == 0;
    if (!balances(bought - sold, rgrid, bought + sold + rabs)) {
        rc = pg_error_set(err, PG_ESTATE,
                          "settlement does not balance: peers bought %.17g kWh and sold %.17g kWh "
                          "(the market's grid trades: %.17g kWh)",
                          bought, sold, rgrid);
        goto out;
    }
    if (!balances(paid, res->buyer_paid, paid + fabs(res->buyer_paid)) ||
        !balances(received, res->seller_got, received + fabs(res->seller_got))) {
        rc = pg_error_set(err, PG_ESTATE,
                          "settlement does not balance: the fills add up to $%.17g paid and "
                          "$%.17g received, the market result says $%.17g and $%.17g",
                          paid, received, res->buyer_paid, res->seller_got);
        goto out;
    }
    if (peer_only &&
        !balances(paid, received + res->surplus, paid + received + fabs(res->surplus))) {
        rc = pg_error_set(err, PG_ESTATE,
                          "settlement does not balance: buyers paid $%.17g, sellers received "
                          "$%.17g and the operator's surplus is $%.17g",
                          paid, received, res->surplus);
        goto out;
    }
    if (!balances(gin - gout + rgrid, msum, gin + gout + rabs + mabs)) {
        rc = pg_error_set(err, PG_ESTATE,
                          "settlement does not balance: the grid supplied %.17g kWh net (%s) but "
                          "the nodes metered %.17g kWh net",
                          gin - gout + rgrid,
                          grid && grid->connected ? "metered differences and market trades"
                                                  : "unserved minus spilled energy",
                          msum);
        goto out;
    }
    if (!balances(bills, paid - received + gpaid - ggot,
                  fabs(paid) + fabs(received) + fabs(gpaid) + fabs(ggot))) {
        rc = pg_error_set(err, PG_ESTATE,
                          "settlement does not balance: the bills add up to $%.17g, but the "
                          "market kept $%.17g and the grid $%.17g",
                          bills, paid - received, gpaid - ggot);
        goto out;
    }
    if (n_nodes)
        memcpy(s, t, n_nodes * sizeof *s);
out:
    free(t);
    return rc;
}
