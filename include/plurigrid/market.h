/* The community market: order books, double auctions and procurement auctions, the grid as the
 * outside option, settlement per node and interval, and clearing against a feeder's branch limits.
 * See docs/market.md for the rules of every mechanism.
 *
 * Units: energy in kWh for the interval, prices in $/kWh, money in $.
 *
 * Orders. An order is one block of a node's bid curve: a side (buy or sell), a quantity (kWh,
 * > 0) and a limit price: a buyer buys at most qty at a price at or below its limit, a seller
 * sells at most qty at a price at or above its limit. A node's bid curve of several points is
 * several orders with the same node index (pg_market_book_add_curve). Every order also carries its
 * arrival sequence, which the continuous double auction uses for time priority and every
 * mechanism uses as the last tie-break, so clearing is a deterministic function of the book.
 *
 * The grid is the outside option: a buyer can always buy from the grid at the retail import price
 * and a seller can always sell to it at the feed-in export price, so the community's book clears
 * among peers only, with buy limits above retail taken as retail and sell limits below feed-in as
 * feed-in; whatever a node does not trade with peers it trades with the grid at those prices
 * (settlement, below). The grid-aware clearing (pg_market_clear_network) instead puts the grid in
 * the clearing as a participant at the feeder's reference bus.
 *
 * Mechanisms are a table (pg_market_mechanism): a new mechanism is one file and one table row. */
#ifndef PLURIGRID_MARKET_H
#define PLURIGRID_MARKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plurigrid/core.h"
#include "plurigrid/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- orders and books */

typedef enum { PG_MARKET_BUY = 0, PG_MARKET_SELL = 1 } pg_market_side;

/* The ranges every mechanism accepts, so that no sum of money or energy can overflow: quantities
 * and meter readings up to PG_MARKET_QTY_MAX kWh, prices (limits, retail, feed-in) of magnitude up
 * to PG_MARKET_PRICE_MAX $/kWh. */
#define PG_MARKET_QTY_MAX 1e12
#define PG_MARKET_PRICE_MAX 1e6

typedef struct pg_market_order {
    uint32_t node;       /* the node's index in the community */
    pg_market_side side; /* buy or sell */
    double qty;          /* kWh, finite and > 0 */
    double price;        /* limit price, $/kWh, finite */
    uint64_t seq;        /* arrival sequence: lower arrived earlier; unique within a book */
} pg_market_order;

/* A bid curve point: at price p the node wants to trade q (kWh). Sign convention: q > 0 buys
 * (imports), q < 0 sells (exports). A curve is a list of points; buying curves are non-increasing
 * in price (the more expensive, the less a node buys) and selling curves sell more at higher
 * prices. See docs/market.md for how a curve becomes orders. */
typedef struct pg_market_point {
    double price; /* $/kWh */
    double qty;   /* kWh: > 0 buy, < 0 sell */
} pg_market_point;

/* The orders of a book, owned by the book (pg_market_book_free). */
typedef struct pg_market_book {
    size_t n, cap;
    pg_market_order *orders;
    uint64_t next_seq; /* the sequence pg_market_book_add gives the next order */
} pg_market_book;

PG_API void pg_market_book_init(pg_market_book *b);
PG_API void pg_market_book_free(pg_market_book *b);  /* frees the orders; b may be reused */
PG_API void pg_market_book_clear(pg_market_book *b); /* empties b, keeps its memory */

/* Adds one order (copied), giving it the next sequence number. PG_EINVAL naming the field for a
 * quantity that is not > 0 and at most PG_MARKET_QTY_MAX or a price that is not a finite number of
 * magnitude at most PG_MARKET_PRICE_MAX. */
PG_API int pg_market_book_add(pg_market_book *b, uint32_t node, pg_market_side side, double qty,
                              double price, pg_error *err);

/* Adds node's bid curve (n points, see pg_market_point) as orders. Points with q = 0 add nothing.
 * PG_EINVAL for a non-finite point or a curve that is not monotone as described above. */
PG_API int pg_market_book_add_curve(pg_market_book *b, uint32_t node, const pg_market_point *pts,
                                    size_t n, pg_error *err);

/* ---------------------------------------------------------------- grid terms and results */

typedef struct pg_market_grid {
    double retail;  /* $/kWh the grid sells at (import price); +inf: no grid import */
    double feed_in; /* $/kWh the grid buys at (export price); -inf or NaN: no grid export */
    bool connected; /* false: an off-grid community, nothing is traded with a grid */
} pg_market_grid;

/* What an order got: its cleared quantity (0..qty) and the price it trades at ($/kWh; the
 * uniform price, its own limit in pay-as-bid, the resting orders' prices averaged by quantity in
 * the continuous auction). */
typedef struct pg_market_fill {
    double qty;
    double price;
} pg_market_fill;

typedef enum {
    PG_MARKET_CLEARED = 0,   /* bids and asks crossed: trades happened */
    PG_MARKET_NO_CROSS = 1,  /* the best bid is below the best ask: no trade */
    PG_MARKET_ONE_SIDED = 2, /* only buyers or only sellers (or an empty book): no trade */
} pg_market_outcome;

/* The result of one clearing. fills[i] is the fill of the book's order i. */
typedef struct pg_market_result {
    pg_market_outcome outcome;
    double price;      /* uniform price, $/kWh (NaN when there is no uniform price) */
    double volume;     /* kWh traded among peers */
    double buyer_paid; /* $ paid by buyers for peer trades */
    double seller_got; /* $ received by sellers for peer trades */
    double surplus;    /* buyer_paid - seller_got: the operator's ($, 0 for budget-balanced) */
    size_t n_fills;    /* = the book's n */
    pg_market_fill *fills;
    /* Grid-aware clearing only (NULL/0 otherwise). */
    size_t n_nodes;
    double *node_price; /* per node: the nodal price at its bus, $/kWh */
    double grid_import; /* kWh the grid supplied at the reference bus */
    double grid_export; /* kWh the grid took at the reference bus */
    size_t n_branches;
    double *flow_kw;       /* per branch of the feeder: DC flow from -> to of the cleared schedule,
                              in kW (kWh over the interval divided by its hours) */
    double *flow_limit_kw; /* per branch: the limit used (+inf: none) */
} pg_market_result;

PG_API void pg_market_result_free(pg_market_result *r); /* frees the arrays; accepts NULL */

/* ---------------------------------------------------------------- mechanisms */

typedef struct pg_market_mechanism {
    const char *name; /* "uniform", "pay-as-bid", "continuous" */
    const char *summary;
    /* Clears book (borrowed, not changed) under grid; *out is written only on success and belongs
     * to the caller (pg_market_result_free). */
    int (*clear)(const pg_market_book *book, const pg_market_grid *grid, pg_market_result *out,
                 pg_error *err);
} pg_market_mechanism;

/* The mechanism called name, or NULL (PG_ENOTFOUND naming the known ones in err). */
PG_API const pg_market_mechanism *pg_market_mechanism_find(const char *name, pg_error *err);
/* The table: *n mechanisms. */
PG_API const pg_market_mechanism *pg_market_mechanisms(size_t *n);

/* The three call mechanisms directly. */
PG_API int pg_market_clear_uniform(const pg_market_book *book, const pg_market_grid *grid,
                                   pg_market_result *out, pg_error *err);
PG_API int pg_market_clear_pay_as_bid(const pg_market_book *book, const pg_market_grid *grid,
                                      pg_market_result *out, pg_error *err);
PG_API int pg_market_clear_continuous(const pg_market_book *book, const pg_market_grid *grid,
                                      pg_market_result *out, pg_error *err);

/* ---------------------------------------------------------------- grid-aware clearing */

/* The feeder a community sits on: a plurigrid world and, per node, the bus it is connected to.
 * Branch limits are the branches' rate_a (MVA, read as MW in the DC model; 0 = no limit). */
typedef struct pg_market_network {
    const pg_world *world; /* borrowed */
    size_t n_nodes;
    const size_t *node_bus; /* per node: bus index in world */
    double hours;           /* length of the interval, h (kWh / hours = kW) */
    double substation_kw;   /* most the grid may import or export at the reference bus, kW;
                               +inf = no limit */
} pg_market_network;

/* Welfare-maximising clearing of book against the feeder: an LP through the COIN-OR adapter over
 * the orders' quantities and the grid's import (at retail) and export (at feed-in) at the
 * reference bus, with energy balance and every branch's DC flow (PTDFs of the feeder) within its
 * limit. Orders settle at their bus's nodal price (the LP's duals); a fill's quantity includes
 * what came from or went to the grid, and the result's surplus (buyer_paid - seller_got) is the
 * grid's net energy at the reference bus's price plus the congestion rent (docs/market.md). out
 * has node_price, grid_import/export, flow_kw and flow_limit_kw filled; *out is written only on
 * success and belongs to the caller (pg_market_result_free). Borrows book, grid (NULL: off grid)
 * and net. */
PG_API int pg_market_clear_network(const pg_market_book *book, const pg_market_grid *grid,
                                   const pg_market_network *net, pg_market_result *out,
                                   pg_error *err);

/* Power-transfer distribution factors: see pg_pf_ptdf in plurigrid/pf.h (the power-flow module
 * computes them, with the DC power flow's factors). */

/* The AC picture of a cleared schedule: inj_kw[node] (> 0 injects, < 0 draws; reactive power
 * from power factor pf) added to w's loads at the nodes' buses, and an AC power flow of it. */
typedef struct pg_market_ac {
    bool converged;
    double vm_min, vm_max; /* p.u., over the energised buses */
    size_t vm_min_bus, vm_max_bus;
    double loading_max;        /* largest branch loading |S| / rate_a (0 when no branch is rated) */
    size_t loading_max_branch; /* PG_NONE when no branch is rated */
    double loss_kw;            /* series losses, kW */
    size_t n_buses, n_branches;
    double *vm;      /* per bus, p.u. */
    double *loading; /* per branch, |S| / rate_a (NaN when unrated) */
} pg_market_ac;

PG_API void pg_market_ac_free(pg_market_ac *a); /* frees the arrays; accepts NULL */
PG_API int pg_market_ac_check(const pg_market_network *net, const double *inj_kw, double pf,
                              pg_market_ac *out, pg_error *err);

/* ---------------------------------------------------------------- procurement (VCG) */

/* A reverse auction: the buyer procures k identical items (a shared battery for an interval, ...)
 * from sellers who offer one item each at a cost. VCG: the k cheapest offers win (ties to the
 * lower index) and each winner is paid the (k+1)-th lowest cost, or the reserve when there are
 * only k offers at or below it; offers above the reserve never win. Truthful: no seller gains by
 * offering anything but its cost. winners[i] = 1 for winning offers; payment[i] is what offer i is
 * paid (0 for losers). Both arrays have n elements and are the caller's. Returns the number of
 * winners in *won (< k when not enough offers are at or below the reserve). */
PG_API int pg_market_vcg_procure(const double *cost, size_t n, size_t k, double reserve,
                                 unsigned char *winners, double *payment, size_t *won,
                                 pg_error *err);

/* ---------------------------------------------------------------- settlement */

/* One node's interval: what it traded in the market and what it actually metered. */
typedef struct pg_market_settlement {
    double bought, sold;             /* kWh traded with peers (>= 0) */
    double paid, received;           /* $ for peer trades */
    double grid_import, grid_export; /* kWh with the grid: the metered net minus the peer trades */
    double grid_paid, grid_received; /* $ with the grid at retail / feed-in */
    double bill;                     /* paid + grid_paid - received - grid_received, $ */
} pg_market_settlement;

/* Settles every node: its peer trades from the fills of book/res, and its metered net import
 * metered[node] (kWh, > 0 imports, < 0 exports) against them, the difference traded with the grid
 * at retail (node short) or feed-in (node long). s has n_nodes elements (the caller's). Then the
 * exact balance check: peer energy bought equals sold, money paid by buyers equals money received
 * by sellers plus the result's surplus, and the grid's energy equals the nodes' metered sum, each
 * to 1e-9 relative; PG_ESTATE naming what does not balance otherwise. In an off-grid community
 * (grid->connected false) a node's difference is not traded: it is reported in grid_import /
 * grid_export as unserved energy / spilled energy, at no price. */
PG_API int pg_market_settle(const pg_market_book *book, const pg_market_result *res,
                            const pg_market_grid *grid, const double *metered, size_t n_nodes,
                            pg_market_settlement *s, pg_error *err);

#ifdef __cplusplus
}
#endif
#endif
