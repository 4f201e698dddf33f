/* Strategy calls: a node's view marshalled to the sandbox, pg_on_interval called and the plan it
 * returns checked before it is trusted (docs/wasm.md, "The strategy ABI"). */
#include "wasm/internal.h"

int
pgi_wasm_strategy_bid(pgi_wasm_sandbox *sb, const pg_node_view *v, pg_node_plan *out,
                      pgi_wasm_outcome *outcome, pg_error *err)
{
    (void)sb, (void)v, (void)out, (void)outcome;
    return pg_error_set(err, PG_EUNSUPPORTED, "strategy calls are not written yet");
}

int
pgi_wasm_strategy_dr_event(pgi_wasm_sandbox *sb, const pg_dr_event *e, pgi_wasm_outcome *outcome,
                           pg_error *err)
{
    (void)sb, (void)e, (void)outcome;
    return pg_error_set(err, PG_EUNSUPPORTED, "strategy calls are not written yet");
}
