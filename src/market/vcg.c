/* Procurement by a reverse VCG auction: a buyer wants k identical items (a shared battery for an
 * interval, ...), each seller offers one at a cost. The k cheapest offers at or below the reserve
 * win (equal costs: the lower index first) and every winner is paid the same price, the lowest
 * losing cost at or below the reserve, or the reserve itself when no offer is left there. What a
 * winner is paid does not depend on what it offered, and a loser could only win by offering less
 * than that price, so offering one's true cost is a dominant strategy, and a winner is never paid
 * less than its cost. */
#include "market/market_internal.h"

#include <math.h>
#include <stdlib.h>

typedef struct offer {
    double cost;
    size_t idx;
} offer;

static int
cmp_offer(const void *a, const void *b)
{
    const offer *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost < y->cost ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

int
pg_market_vcg_procure(const double *cost, size_t n, size_t k, double reserve,
                      unsigned char *winners, double *payment, size_t *won, pg_error *err)
{
    if ((n && (!cost || !winners || !payment)) || !won)
        return pg_error_set(err, PG_EINVAL, "pg_market_vcg_procure: an argument is NULL");
    for (size_t i = 0; i < n; i++)
        if (!isfinite(cost[i]) || cost[i] < 0)
            return pg_error_set(err, PG_EINVAL,
                                "VCG offer %zu: cost %g is not a finite number >= 0", i, cost[i]);
    if (isnan(reserve) || reserve < 0)
        return pg_error_set(err, PG_EINVAL,
                            "VCG reserve price %g is not a number >= 0 (+inf for no reserve)",
                            reserve);
    int rc = PG_OK;
    offer *o = NULL;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        m += cost[i] <= reserve;
    if (m && k) {
        o = malloc(m * sizeof *o);
        if (!o)
            return pg_error_set(err, PG_ENOMEM, "out of memory ranking %zu VCG offers", m);
        m = 0;
        for (size_t i = 0; i < n; i++)
            if (cost[i] <= reserve)
                o[m++] = (offer){cost[i], i};
        qsort(o, m, sizeof *o, cmp_offer);
    }
    size_t w = k < m ? k : m;
    double price = w == 0 ? 0 : w < m ? o[w].cost : reserve;
    if (w > 0 && !isfinite(price)) {
        rc = pg_error_set(err, PG_EINVAL,
                          "VCG procurement of %zu item(s) from %zu offer(s) with no reserve price: "
                          "the winners' price is set by the first losing offer, and there is none "
                          "(give a finite reserve)",
                          k, m);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        winners[i] = 0;
        payment[i] = 0;
    }
    for (size_t r = 0; r < w; r++) {
        winners[o[r].idx] = 1;
        payment[o[r].idx] = price;
    }
    *won = w;
out:
    free(o);
    return rc;
}
