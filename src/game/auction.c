/* Sealed-bid first- and second-price auctions with independent private values as open games:
 * nature draws every value in parallel, each bidder observes its own value and bids in parallel
 * with the others, and one payoff table settles the auction (ties split at random). A Bayesian
 * game in the open-game form: each bid decision's context is the prior conditioned on the
 * bidder's own value. */
#include "plurigrid/game.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BIDDERS 8
#define MAX_ROWS ((size_t)1 << 22)

/* Expected payoffs of one auction outcome: values v, bids b (amounts). */
static void
settle(pg_game_auction_rule rule, size_t n, const double *v, const double *b, double *pay)
{
    double high = -INFINITY;
    for (size_t i = 0; i < n; i++)
        high = fmax(high, b[i]);
    size_t winners = 0;
    for (size_t i = 0; i < n; i++)
        winners += b[i] == high;
    for (size_t i = 0; i < n; i++) {
        pay[i] = 0;
        if (b[i] != high)
            continue;
        double price = high;
        if (rule == PG_GAME_AUCTION_SECOND_PRICE && winners == 1) {
            price = -INFINITY;
            for (size_t j = 0; j < n; j++)
                if (j != i)
                    price = fmax(price, b[j]);
            if (n == 1)
                price = 0; /* alone: the reserve price is 0 */
        }
        pay[i] = (v[i] - price) / (double)winners;
    }
}

int
pg_game_auction(pg_og **out, pg_game_auction_rule rule, size_t n_bidders, const double *values,
                size_t n_values, const double *prior, const double *bids, size_t n_bids,
                pg_error *err)
{
    if (!out || !values || !prior || !bids)
        return pg_error_set(err, PG_EINVAL, "pg_game_auction: argument is NULL");
    if (rule != PG_GAME_AUCTION_FIRST_PRICE && rule != PG_GAME_AUCTION_SECOND_PRICE)
        return pg_error_set(err, PG_EINVAL, "unknown auction rule %d", (int)rule);
    if (n_bidders == 0 || n_bidders > MAX_BIDDERS)
        return pg_error_set(err, PG_EMODEL, "an auction needs 1 to %d bidders, got %zu",
                            MAX_BIDDERS, n_bidders);
    if (n_values == 0 || n_bids == 0)
        return pg_error_set(err, PG_EMODEL, "an auction needs at least one value and one bid");
    for (size_t k = 0; k < n_values; k++)
        if (!isfinite(values[k]))
            return pg_error_set(err, PG_EMODEL, "value %zu is not a finite number", k + 1);
    for (size_t k = 0; k < n_bids; k++)
        if (!isfinite(bids[k]))
            return pg_error_set(err, PG_EMODEL, "bid %zu is not a finite number", k + 1);
    size_t rows = 1;
    for (size_t i = 0; i < n_bidders; i++) {
        if (rows > MAX_ROWS / (n_values * n_bids))
            return pg_error_set(err, PG_ELIMIT,
                                "%zu bidders with %zu values and %zu bids make too many outcomes "
                                "for a payoff table",
                                n_bidders, n_values, n_bids);
        rows *= n_values * n_bids;
    }
    char names[3][MAX_BIDDERS][24];
    const char *players[MAX_BIDDERS];
    for (size_t i = 0; i < n_bidders; i++) {
        snprintf(names[0][i], sizeof names[0][i], "bidder%zu", i + 1);
        snprintf(names[1][i], sizeof names[1][i], "value%zu", i + 1);
        snprintf(names[2][i], sizeof names[2][i], "bid%zu", i + 1);
        players[i] = names[0][i];
    }
    char **vlab = calloc(n_values, sizeof *vlab);
    char **blab = calloc(n_bids, sizeof *blab);
    double *table = malloc(rows * n_bidders * sizeof *table);
    pg_og *g = NULL;
    int rc = PG_OK;
    if (!vlab || !blab || !table) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < n_values; k++)
        if (!(vlab[k] = malloc(32)))
            rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        else
            snprintf(vlab[k], 32, "%g", values[k]);
    for (size_t k = 0; k < n_bids && !rc; k++)
        if (!(blab[k] = malloc(32)))
            rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        else
            snprintf(blab[k], 32, "%g", bids[k]);
    if (!rc)
        rc = pg_og_new(&g,
                       rule == PG_GAME_AUCTION_FIRST_PRICE ? "first-price auction"
                                                           : "second-price auction",
                       n_bidders, players, err);
    size_t vvar[MAX_BIDDERS], bvar[MAX_BIDDERS], inputs[2 * MAX_BIDDERS];
    pg_og_node draws[MAX_BIDDERS], decide[MAX_BIDDERS], parts[3], root;
    for (size_t i = 0; i < n_bidders && !rc; i++) {
        rc = pg_og_add_variable(g, names[1][i], n_values, (const char *const *)vlab, &vvar[i], err);
        if (!rc)
            rc = pg_og_add_variable(g, names[2][i], n_bids, (const char *const *)blab, &bvar[i],
                                    err);
        char draw[32];
        snprintf(draw, sizeof draw, "draw value%zu", i + 1);
        if (!rc)
            rc = pg_og_nature(g, draw, NULL, 0, vvar[i], prior, &draws[i], err);
        if (!rc)
            rc = pg_og_decision(g, names[2][i], i, &vvar[i], 1, bvar[i], &decide[i], err);
        inputs[i] = vvar[i];
        inputs[n_bidders + i] = bvar[i];
    }
    /* The payoff table: rows over (value1..valueN, bid1..bidN), row-major. */
    for (size_t r = 0; r < rows && !rc; r++) {
        double v[MAX_BIDDERS], b[MAX_BIDDERS];
        size_t rest = r;
        for (size_t i = n_bidders; i-- > 0;) {
            b[i] = bids[rest % n_bids];
            rest /= n_bids;
        }
        for (size_t i = n_bidders; i-- > 0;) {
            v[i] = values[rest % n_values];
            rest /= n_values;
        }
        settle(rule, n_bidders, v, b, table + r * n_bidders);
    }
    if (!rc)
        rc = pg_og_par(g, "values", draws, n_bidders, &parts[0], err);
    if (!rc)
        rc = pg_og_par(g, "bids", decide, n_bidders, &parts[1], err);
    if (!rc)
        rc = pg_og_payoff(g, "settlement", inputs, 2 * n_bidders, table, &parts[2], err);
    if (!rc)
        rc = pg_og_seq(g, "auction", parts, 3, &root, err);
    if (!rc)
        rc = pg_og_set_root(g, root, err);
    if (!rc) {
        *out = g;
        g = NULL;
    }
out:
    pg_og_free(g);
    if (vlab)
        for (size_t k = 0; k < n_values; k++)
            free(vlab[k]);
    if (blab)
        for (size_t k = 0; k < n_bids; k++)
            free(blab[k]);
    free(vlab);
    free(blab);
    free(table);
    return rc;
}
