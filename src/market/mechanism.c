/* The table of market mechanisms the community runner picks from by name: a new mechanism is one
 * file and one row here. */
#include "market/market_internal.h"

#include <stdio.h>
#include <string.h>

static const pg_market_mechanism table[] = {
    {"uniform", "uniform-price call double auction (one price for every trade)",
     pg_market_clear_uniform},
    {"pay-as-bid", "call double auction, every accepted order trades at its own limit",
     pg_market_clear_pay_as_bid},
    {"continuous", "continuous double auction (price-time priority order book)",
     pg_market_clear_continuous},
};

#define N_MECHANISMS (sizeof table / sizeof *table)

const pg_market_mechanism *
pg_market_mechanisms(size_t *n)
{
    if (n)
        *n = N_MECHANISMS;
    return table;
}

const pg_market_mechanism *
pg_market_mechanism_find(const char *name, pg_error *err)
{
    for (size_t i = 0; name && i < N_MECHANISMS; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    char known[256] = "";
    size_t len = 0;
    for (size_t i = 0; i < N_MECHANISMS && len < sizeof known; i++) {
        int w = snprintf(known + len, sizeof known - len, "%s%s", i ? ", " : "", table[i].name);
        len += w > 0 ? (size_t)w : 0;
    }
    pg_error_set(err, PG_ENOTFOUND, "unknown market mechanism '%.100s' (known: %s)",
                 name ? name : "(none)", known);
    return NULL;
}
