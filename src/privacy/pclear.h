/* Private clearing and private metering (docs/privacy.md, "Private clearing"): what a member
 * puts into a secure aggregation and what it derives locally from the public result, and what
 * the aggregator clears from the sum. No value here ever leaves a member except masked.
 *
 * The public price grid of an interval is made from public prices alone (the interval's retail
 * and feed-in prices and the day's mean retail price of the forecast horizon, which the operator
 * publishes anyway), so every party computes the same grid. A member turns its bid curve into
 * orders exactly as the open market does (pg_market_book_add_curve), clips their limits to the
 * grid's retail and feed-in terms as the open market does, and adds each order's quantity to the
 * level of its limit: its vector is [buy quantity at each level, sell quantity at each level].
 * Quantities are whole multiples of PGI_PCLEAR_QUANTUM kWh (a member rounds its curve's points to
 * it before anything else), so every sum the aggregator or the open market forms is exact. */
#ifndef PG_PRIVACY_PCLEAR_H
#define PG_PRIVACY_PCLEAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plurigrid/core.h"
#include "plurigrid/market.h"

/* Fixed point of every private quantity: 2^20 units per kWh (a quantum of about 0.95 mWh) and per $
 * of money. */
#define PGI_PCLEAR_SCALE 1048576.0
#define PGI_PCLEAR_QUANTUM (1.0 / PGI_PCLEAR_SCALE)
/* Evenly spaced prices between feed-in and retail added to the grid (for bids that are not the
 * rules controller's), and the most levels a grid has. */
#define PGI_PCLEAR_STEPS 16
#define PGI_PCLEAR_MAX_LEVELS 32
/* The most points of a curve (and so orders) a member bids privately. */
#define PGI_PCLEAR_MAX_ORDERS 16

/* The public price grid of one interval, ascending, and the grid terms the market clips to. */
typedef struct pgi_pclear_grid {
    size_t n;
    double p[PGI_PCLEAR_MAX_LEVELS];
    pg_market_grid terms;
} pgi_pclear_grid;

/* The grid of an interval from public prices: retail[0..horizon) and feed_in[0..horizon) of the
 * forecast horizon as the operator publishes them (horizon >= 1), the interval's length (h) and
 * whether the community is connected. The levels: feed-in, retail, the day's mean retail price
 * m (the first 24 h of the horizon) clamped to [feed-in, retail], (m + retail) / 2 (the prices
 * the rules controller bids at, docs/controllers.md) and PGI_PCLEAR_STEPS - 1 evenly spaced
 * prices between feed-in and retail. */
int pgi_pclear_grid_make(const double *retail, const double *feed_in, size_t horizon, double hours,
                         bool connected, pgi_pclear_grid *g, pg_error *err);

/* Rounds a quantity (kWh) to the fixed point's quantum. */
double pgi_pclear_round(double kwh);

/* A member's orders on the grid, in the order the open market's book holds them. */
typedef struct pgi_pclear_orders {
    size_t n;
    pg_market_order o[PGI_PCLEAR_MAX_ORDERS];
    int level[PGI_PCLEAR_MAX_ORDERS]; /* grid level of the (clipped) limit; -1: the
                                                   order can never trade (left out) */
    size_t off_grid; /* orders whose limit was not a grid price (rounded: buys down, sells up) */
} pgi_pclear_orders;

/* A member's curve (n points, pg_market_point) as orders on g, its quantities rounded to the
 * quantum; vec (2 * g->n values: buys by level, then sells by level, kWh) gets their sums.
 * PG_EINVAL as pg_market_book_add_curve for a bad curve. */
int pgi_pclear_member(const pgi_pclear_grid *g, const pg_market_point *curve, size_t n,
                      pgi_pclear_orders *o, double *vec, pg_error *err);

/* The public result of a private clearing: what the aggregator publishes. */
typedef struct pgi_pclear_result {
    pg_market_outcome outcome;
    double price;  /* $/kWh (NaN: no trade) */
    double volume; /* kWh traded among peers */
    /* Per side (0 buy, 1 sell): the levels filled whole are the buys at prices at or above
     * full_buy and the sells at or below full_sell; the level at the price (index at[side], -1:
     * none) is rationed: each of its orders gets the share frac[side] of its quantity (>= 1:
     * whole), as the open auction shares ties pro rata. */
    double full_buy, full_sell;
    int at[2];
    double frac[2];
} pgi_pclear_result;

/* The uniform clearing of the summed vector sum (2 * g->n values, kWh, as decoded) on g: the
 * same price, and through pgi_pclear_fills the same quantities, as pg_market_clear_uniform of the
 * members' orders (docs/privacy.md gives the condition). */
int pgi_pclear_clear(const pgi_pclear_grid *g, const double *sum, pgi_pclear_result *r,
                     pg_error *err);

/* A member's fills from the public result: fill[k] for its order k (o->n values, kWh); and its
 * award as the open market computes it: net cleared (> 0 bought), money of its fills, volume. */
void pgi_pclear_fills(const pgi_pclear_grid *g, const pgi_pclear_result *r,
                      const pgi_pclear_orders *o, double *fill, double *cleared, double *paid,
                      double *vol);

/* A member's settlement of the interval (pg_market_settle's rules for one node): its peer trades
 * from its fills and its metered net import against them. */
void pgi_pclear_settle(const pgi_pclear_grid *g, const pgi_pclear_result *r,
                       const pgi_pclear_orders *o, const double *fill, double metered,
                       pg_market_settlement *s);

#endif
