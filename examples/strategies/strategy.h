/* What the example strategies include: the strategy ABI (plurigrid/wasm_guest.h, docs/wasm.md)
 * and the two things that let the same C source be built both ways, for wasm32-wasi (the module
 * a node runs in its sandbox) and natively (linked with native.c, the shim that gives the same
 * imports from a pg_node_view, so that tests and benchmarks compare the two bid for bid):
 *   PG_WASM_EXPORT(name)     exports a function under name (nothing natively);
 *   pg_plan_address(plan)    what pg_on_interval returns for a plan: its address in the
 *                            module's memory, or natively a token the shim reads it back by.
 * Native builds compile each strategy with its exports renamed (-Dpg_init=NAME_init, ...), so
 * that several strategies link into one program. */
#ifndef PG_EXAMPLE_STRATEGY_H
#define PG_EXAMPLE_STRATEGY_H

#include <stdint.h>

#include "plurigrid/wasm_guest.h"

#if defined(__wasm__)
#define pg_plan_address(plan) ((int32_t)(uintptr_t)(plan))
#else
/* Natively the imports are the shim's functions (native.c), under names of their own: the
 * library's headers already use pg_dr_event and pg_series for other things. */
#define PG_WASM_EXPORT(name)
#define pg_view pgx_view
#define pg_series pgx_series
#define pg_dr_event pgx_dr_event
#define pg_log pgx_log
int32_t pgx_view(pg_wasm_view *dst, uint32_t len);
int32_t pgx_series(int32_t which, double *dst, uint32_t n);
int32_t pgx_dr_event(int32_t index, pg_wasm_dr_event *dst, uint32_t len);
void pgx_log(const char *text, uint32_t len);
/* Keeps plan for the shim and returns 1 (0 when plan is NULL: no bid). */
int32_t pgx_native_plan(const pg_wasm_plan *plan);
#define pg_plan_address(plan) pgx_native_plan(plan)
#endif

/* A strategy's exports (pg_on_dr_event is optional). */
int32_t pg_init(void);
int32_t pg_on_interval(void);
int32_t pg_on_dr_event(void);

#endif
