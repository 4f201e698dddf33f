/* The wasm controller: the node's plan and bid come from a strategy module that nobody had to
 * trust, a WebAssembly program built into a shared object by `plurigrid wasm build` and run in
 * the sandbox's child process under its limits (src/wasm/, docs/wasm.md). Whatever the strategy
 * does (a trap, a call killed at its deadline, a child that dies, a malformed bid) ends as "no
 * bid" for that interval: no curve, the devices on their own, the reason in the plan's no_bid;
 * the node keeps running and the sandbox starts a fresh child at the next call. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/controllers.h"
#include "wasm/internal.h"

static const char *const wasm_params[] = {"call_ms", "memory_pages", "stack_depth", NULL};
static const char *const wasm_files[] = {"strategy", NULL};

/* A demand-response event the strategy was told of: its id and modification. */
typedef struct told {
    char id[64];
    uint32_t modification;
} told;

typedef struct wasm_ctl {
    pgi_wasm_sandbox *sb;
    told *told;
    size_t n_told, cap_told;
} wasm_ctl;

static void
wasm_destroy(void *state)
{
    wasm_ctl *s = state;
    if (!s)
        return;
    pgi_wasm_sandbox_free(s->sb);
    free(s->told);
    free(s);
}

/* The numeric parameter key as a whole number from lo to hi, dflt when absent. */
static int
limit(const pg_node_config *cfg, const char *key, uint32_t lo, uint32_t hi, uint32_t dflt,
      uint32_t *out, pg_error *err)
{
    double x = pg_node_config_param(cfg, key, NAN);
    if (isnan(x)) {
        *out = dflt;
        return PG_OK;
    }
    if (!(x >= lo && x <= hi && x == floor(x)))
        return pg_error_set(err, PG_EMODEL,
                            "node '%s': the wasm controller's %s must be a whole number from %u "
                            "to %u (it is %g)",
                            pg_node_config_name(cfg), key, lo, hi, x);
    *out = (uint32_t)x;
    return PG_OK;
}

static int
wasm_create(void **state, const pg_node_config *cfg, uint64_t seed, pg_error *err)
{
    int rc;
    const char *so = pg_node_config_file(cfg, "strategy");
    if (!so)
        return pg_error_set(err, PG_EMODEL,
                            "node '%s': the wasm controller needs \"strategy\": the shared object "
                            "built from the strategy module by plurigrid wasm build",
                            pg_node_config_name(cfg));
    pgi_wasm_sandbox_limits lim;
    pgi_wasm_limits_init(&lim);
    if ((rc = limit(cfg, "call_ms", 1, 60000, lim.call_ms, &lim.call_ms, err)) ||
        (rc = limit(cfg, "memory_pages", 1, 32768, lim.memory_pages, &lim.memory_pages, err)) ||
        (rc = limit(cfg, "stack_depth", 16, PGI_WASM_MAX_DEPTH, lim.stack_depth, &lim.stack_depth,
                    err)))
        return rc;
    wasm_ctl *s = calloc(1, sizeof *s);
    if (!s)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    pgi_wasm_host host = {.seed = seed, .n_inputs = pg_node_config_n_inputs(cfg)};
    pg_error e = {0};
    if ((rc = pgi_wasm_sandbox_new(&s->sb, so, &lim, &host, &e))) {
        free(s);
        return pg_error_set(err, rc, "node '%s': the wasm controller: %s", pg_node_config_name(cfg),
                            e.msg);
    }
    *state = s;
    return PG_OK;
}

/* No bid, the devices on their own, and why (the plan node.c then keeps as it is). */
static void
no_bid(pg_node_plan *out, const char *what, const char *why)
{
    memset(out, 0, sizeof *out);
    out->hvac_kw = NAN;
    /* the two texts cut to fit the plan's field */
    size_t n = 0, cap = sizeof out->no_bid - 1;
    for (const char *t = what; *t && n < cap; t++)
        out->no_bid[n++] = *t;
    for (const char *t = why; *t && n < cap; t++)
        out->no_bid[n++] = *t;
    out->no_bid[n] = '\0';
    if (!n) /* a reason is never empty: "" would read as "it decided" */
        memcpy(out->no_bid, "the strategy failed", sizeof "the strategy failed");
}

/* Whether the strategy was already told of event ev (this modification or a later one); notes
 * it when not. False when the list cannot grow (the event is then told again next time). */
static bool
seen(wasm_ctl *s, const pg_dr_event *ev)
{
    for (size_t i = 0; i < s->n_told; i++)
        if (strncmp(s->told[i].id, ev->id, sizeof s->told[i].id) == 0) {
            if (ev->modification <= s->told[i].modification)
                return true;
            s->told[i].modification = ev->modification;
            return false;
        }
    if (s->n_told == s->cap_told) {
        size_t cap = s->cap_told ? 2 * s->cap_told : 8;
        told *t = realloc(s->told, cap * sizeof *t);
        if (!t)
            return false;
        s->told = t;
        s->cap_told = cap;
    }
    told *t = &s->told[s->n_told++];
    snprintf(t->id, sizeof t->id, "%.*s", (int)sizeof t->id - 1, ev->id);
    t->modification = ev->modification;
    return false;
}

static int
wasm_plan(void *state, const pg_node_view *v, pg_node_plan *out, pg_error *err)
{
    (void)err;
    wasm_ctl *s = state;
    const pg_node_env *env = v->env;
    pgi_wasm_outcome oc;
    pg_error e = {0};
    /* new demand-response events first, so that the bid can answer them */
    for (size_t i = 0; env->events && i < env->n_events; i++) {
        if (seen(s, &env->events[i]))
            continue;
        memset(&oc, 0, sizeof oc);
        if (pgi_wasm_strategy_dr_event(s->sb, &env->events[i], &oc, &e)) {
            no_bid(out, "the sandbox could not tell the strategy of an event: ", e.msg);
            return PG_OK;
        }
        if (oc.kind != PGI_WASM_OK) {
            no_bid(out, "pg_on_dr_event: ", oc.why);
            return PG_OK;
        }
    }
    pg_node_plan p;
    memset(&p, 0, sizeof p);
    p.hvac_kw = NAN;
    memset(&oc, 0, sizeof oc);
    if (pgi_wasm_strategy_bid(s->sb, v, &p, &oc, &e)) {
        no_bid(out, "the sandbox could not call the strategy: ", e.msg);
        return PG_OK;
    }
    if (oc.kind != PGI_WASM_OK) {
        no_bid(out, "", oc.why);
        return PG_OK;
    }
    p.no_bid[0] = '\0';
    *out = p;
    return PG_OK;
}

const pg_node_controller pgi_ctl_wasm = {
    .name = "wasm",
    .summary =
        "a WebAssembly strategy module run in a sandbox (docs/wasm.md); failures bid nothing",
    .params = wasm_params,
    .create = wasm_create,
    .plan = wasm_plan,
    .destroy = wasm_destroy,
    .file_params = wasm_files,
};
