/* The example strategies built natively: the same C source as the WebAssembly modules, linked
 * with a shim (native.c) that answers the strategy ABI's imports (pg_view, pg_series,
 * pg_dr_event, pg_log) from a pg_node_view exactly as the sandbox's host does, so that a test
 * or a benchmark compares the module's bids with the native ones bit for bit. Not thread-safe:
 * one call at a time in a process. */
#ifndef PG_EXAMPLE_NATIVE_H
#define PG_EXAMPLE_NATIVE_H

#include <stddef.h>
#include <stdint.h>

#include "plurigrid/node.h"
#include "plurigrid/wasm_guest.h"

/* The ABI's imports, natively (strategy.h maps pg_view and the others to these). */
int32_t pgx_view(pg_wasm_view *dst, uint32_t len);
int32_t pgx_series(int32_t which, double *dst, uint32_t n);
int32_t pgx_dr_event(int32_t index, pg_wasm_dr_event *dst, uint32_t len);
void pgx_log(const char *text, uint32_t len);
int32_t pgx_native_plan(const pg_wasm_plan *plan);

/* A strategy linked natively: its exports, renamed (NAME_init, NAME_on_interval, ...). */
typedef struct pgx_strategy {
    const char *name;
    int32_t (*init)(void);
    int32_t (*on_interval)(void);
    int32_t (*on_dr_event)(void); /* NULL when it has none */
} pgx_strategy;

extern const pgx_strategy pgx_threshold, pgx_forecast;

/* The strategy named name ("threshold", "forecast"), or NULL. */
const pgx_strategy *pgx_strategy_find(const char *name);

/* Calls s's pg_on_interval on the view v (n_inputs: the node config's input series) and turns
 * the plan it returns into *out as the sandbox does: 0 is a valid empty plan; a plan that fails
 * the market's curve check or the plan's ranges gets out->no_bid set. Returns 0, or -1 when
 * the horizon is out of range. */
int pgx_native_bid(const pgx_strategy *s, const pg_node_view *v, size_t n_inputs,
                   pg_node_plan *out);

/* Tells s of a demand-response event (pg_on_dr_event; as in the sandbox, the strategy sees no
 * view meanwhile: v is not shown); returns what it returned (0 without one). */
int32_t pgx_native_dr_event(const pgx_strategy *s, const pg_node_view *v, size_t n_inputs,
                            const pg_dr_event *e);

#endif
